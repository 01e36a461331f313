/*
 * vcache.h - the verified-token cache (REFERENCE §3, "The verified cache").
 *
 * Maps SHA-256(whole token) to a value the caller built after steps 1-5
 * succeeded (for /auth: the claims step 6 needs, exp/nbf, the key's load_id
 * and the prepared allow response). A hit is bound to the whole token, never
 * to jti or the signature. An entry lives until the `expires_at` given to
 * rvk_vcache_put (the caller passes min(exp, now + ttl)). max_entries is a
 * hard cap: a put beyond it evicts (never grows past the cap).
 *
 * Values are opaque to the cache; it frees them with the destructor given at
 * creation, after an RCU grace period, so a reader that found a value may use
 * it until its read section ends.
 *
 * Threads: any thread may get and put concurrently. rvk_vcache_get requires
 * an RCU read section held by the caller (the value is valid until it ends).
 */
#ifndef RVK_CACHE_VCACHE_H
#define RVK_CACHE_VCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rvk_vcache rvk_vcache_t;

#define RVK_VCACHE_DIGEST_LEN 32

/* Returns: a cache with a hard cap of max_entries (0 disables caching). */
rvk_vcache_t *rvk_vcache_new(size_t max_entries, void (*free_value)(void *));
/* Requires: no other thread uses the cache. Frees every value now. */
void rvk_vcache_free(rvk_vcache_t *c);

/* Computes the cache key of a token. */
void rvk_vcache_digest(const char *token, size_t len,
                       unsigned char out[RVK_VCACHE_DIGEST_LEN]);

/*
 * Requires: inside an RCU read section.
 * Returns: the value stored for this digest if it has not expired at `now`,
 * else NULL. Valid until the read section ends.
 */
void *rvk_vcache_get(rvk_vcache_t *c, const unsigned char digest[RVK_VCACHE_DIGEST_LEN],
                     int64_t now);

/*
 * Stores value (ownership transferred: freed by the cache, also when it is
 * not kept because the cache is disabled or another thread stored first).
 * Returns: true when the value was published: then, inside the caller's RCU
 * read section, it stays valid until that section ends (the cache frees
 * published values only after a grace period); false when it was freed
 * already (never published).
 */
bool rvk_vcache_put(rvk_vcache_t *c, const unsigned char digest[RVK_VCACHE_DIGEST_LEN],
                    void *value, int64_t expires_at, int64_t now);

/* Removes every entry for which drop(value, arg) is true (key rotation). */
size_t rvk_vcache_drop_if(rvk_vcache_t *c, int (*drop)(const void *value, void *arg),
                          void *arg);

/* Removes expired entries. Returns: how many. */
size_t rvk_vcache_sweep(rvk_vcache_t *c, int64_t now);

size_t rvk_vcache_len(rvk_vcache_t *c);

#endif
