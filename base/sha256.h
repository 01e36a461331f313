/*
 * sha256.h - SHA-256 of one buffer, with nothing allocated or fetched per
 * call: the digest the verified cache keys tokens by, the admin token's
 * comparison, an RS/ES/PS256 signing input, a token's name in logs.
 *
 * Threads: thread-safe (state on the caller's stack).
 */
#ifndef RVK_BASE_SHA256_H
#define RVK_BASE_SHA256_H

#include <stddef.h>

#define RVK_SHA256_LEN 32

void rvk_sha256(const void *data, size_t len, unsigned char out[RVK_SHA256_LEN]);

#endif
