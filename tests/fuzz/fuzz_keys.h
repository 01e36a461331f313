/*
 * fuzz_keys.h - the fixed keys of the fuzz targets (test material only).
 *
 * The private half of the P-256 key is keys/fuzz_p256.pem (and FUZZ_ES_PRIV); make_seeds.py
 * uses it and FUZZ_HS_SECRET to mint the valid seed tokens. Tokens are
 * checked at the fixed time FUZZ_NOW so that seeds never expire.
 */
#ifndef RVK_TESTS_FUZZ_KEYS_H
#define RVK_TESTS_FUZZ_KEYS_H

#define FUZZ_ISS "https://fuzz.example"
#define FUZZ_NOW 1764190000
#define FUZZ_HS_SECRET "fuzz-secret-0123456789abcdef-0123"
#define FUZZ_ES_PUB \
	"-----BEGIN PUBLIC KEY-----\n" \
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEeI1X7dmRa1VssGIcRMl7pjXNQg2p\n" \
	"PsQ+y8pfeFKxwfN8F+Zrc6cBl4N2NFJyHCVnO9C5c7b+nWBXP4V8XsfqwA==\n" \
	"-----END PUBLIC KEY-----\n"

/* The private half, for targets that sign (fuzz_es256). */
#define FUZZ_ES_PRIV \
	"-----BEGIN PRIVATE KEY-----\n" \
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg45bRw4uYxZ49N9lZ\n" \
	"lh6yIzXapZNyDS9vwS0RI8S41+ahRANCAAR4jVft2ZFrVWywYhxEyXumNc1CDak+\n" \
	"xD7Lyl94UrHB83wX5mtzpwGXg3Y0UnIcJWc70Llztv6dYFc/hXxex+rA\n" \
	"-----END PRIVATE KEY-----\n"

#endif
