/*
 * SHA256_Init/Update/Final are deprecated in OpenSSL 3 but still shipped,
 * and they are the only SHA-256 there that allocates nothing: SHA256() is
 * EVP_Q_digest, which per call fetches the method (a string dup and the
 * method store's lock) and allocates a context and its algctx, 3 mallocs
 * on every /auth request (bench/alloc/run.sh; EVP_DigestInit_ex2 on a
 * reused context still reallocates its algctx in OpenSSL 3.0), and 2% of
 * the server's CPU at 64 single-event admin clients (docs/BENCHMARKS.md,
 * "Single admin events: where the CPU went").
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "base/sha256.h"

_Static_assert(RVK_SHA256_LEN == SHA256_DIGEST_LENGTH, "SHA-256 length");

void
rvk_sha256(const void *data, size_t len, unsigned char out[RVK_SHA256_LEN])
{
	SHA256_CTX c;
	SHA256_Init(&c);
	SHA256_Update(&c, data, len);
	SHA256_Final(out, &c);
}
