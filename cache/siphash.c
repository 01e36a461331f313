/*
 * SipHash-2-4 (Aumasson, Bernstein 2012): 2 compression rounds per 8-byte
 * word, 4 finalisation rounds, 64-bit output. Written from the paper; the
 * unit test checks the paper's vector (key 00..0f, message 00..0e ->
 * 0xa129ca6149be45e5).
 */
#include <string.h>
#include <sys/random.h>

#include <openssl/rand.h>

#include "base/check.h"
#include "cache/siphash.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND                                                              \
	do {                                                                  \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);     \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                        \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                        \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);     \
	} while (0)

static uint64_t
load64_le(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

uint64_t
rvk_siphash(const unsigned char key[RVK_SIPHASH_KEY_LEN], const void *data,
            size_t len)
{
	const unsigned char *in = data;
	uint64_t k0 = load64_le(key), k1 = load64_le(key + 8);
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
	uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
	uint64_t v3 = 0x7465646279746573ULL ^ k1;
	size_t whole = len - len % 8;

	for (size_t i = 0; i < whole; i += 8) {
		uint64_t m = load64_le(in + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	/* Last block: the 0-7 remaining bytes, and len mod 256 in the top byte. */
	uint64_t b = (uint64_t)len << 56;
	for (size_t i = 0; i < len % 8; i++)
		b |= (uint64_t)in[whole + i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

void
rvk_siphash_random_key(unsigned char key[RVK_SIPHASH_KEY_LEN])
{
	ssize_t got = getrandom(key, RVK_SIPHASH_KEY_LEN, 0);
	if (got == RVK_SIPHASH_KEY_LEN)
		return;
	RVK_REQUIRE(RAND_bytes(key, RVK_SIPHASH_KEY_LEN) == 1);
}
