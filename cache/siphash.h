/*
 * siphash.h - SipHash-2-4, the keyed hash of every table keyed by bytes a
 * peer chose (jti, sid, sub, iss, kid, token digests).
 *
 * Why keyed: an unkeyed hash lets whoever picks the keys pick colliding ones
 * and turn a hash chain into a linear list (hash flooding). With a 128-bit
 * secret key drawn at start, collisions cannot be aimed. SipHash-2-4 is the
 * reference function of Aumasson and Bernstein; rvk_siphash_selftest() checks
 * this implementation against the paper's test vector.
 *
 * Threads: pure functions, except rvk_siphash_random_key (thread-safe).
 */
#ifndef RVK_CACHE_SIPHASH_H
#define RVK_CACHE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define RVK_SIPHASH_KEY_LEN 16

/* Returns: SipHash-2-4 of the len bytes at data (may be NULL if len is 0). */
uint64_t rvk_siphash(const unsigned char key[RVK_SIPHASH_KEY_LEN],
                     const void *data, size_t len);

/* Fills key from the OS CSPRNG (getrandom, else OpenSSL RAND_bytes); aborts
 * when neither gives randomness: a predictable key is a security bug. */
void rvk_siphash_random_key(unsigned char key[RVK_SIPHASH_KEY_LEN]);

#endif
