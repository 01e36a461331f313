/*
 * b64.h - base64 (RFC 4648 §4, padded) and base64url (§5, unpadded).
 *
 * Decoding is strict, because these bytes come from the network: any
 * character outside the alphabet, padding where none belongs, a length that
 * cannot occur, or non-zero bits left over in the last character is an
 * error. So every byte string has exactly one accepted encoding.
 *
 * Threads: pure functions.
 */
#ifndef RVK_BASE_B64_H
#define RVK_BASE_B64_H

#include <stdbool.h>
#include <stddef.h>

/* Returns: the most bytes a decode of n characters can produce. */
static inline size_t
rvk_b64_decoded_max(size_t n)
{
	return n / 4 * 3 + 3;
}

/* Returns: the characters an encode of n bytes produces (no NUL). */
static inline size_t
rvk_b64url_encoded_len(size_t n)
{
	return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

static inline size_t
rvk_b64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

/*
 * Requires: out has room for rvk_b64_decoded_max(n) bytes.
 * Returns: true and *out_len on a valid unpadded base64url string.
 */
bool rvk_b64url_decode(const char *in, size_t n, unsigned char *out, size_t *out_len);
/* As above for padded standard base64 ('+', '/', '='). */
bool rvk_b64_decode(const char *in, size_t n, unsigned char *out, size_t *out_len);

/* Requires: out has room for rvk_b64url_encoded_len(n) + 1. Writes a NUL. */
size_t rvk_b64url_encode(const unsigned char *in, size_t n, char *out);
/* Requires: out has room for rvk_b64_encoded_len(n) + 1. Writes a NUL. */
size_t rvk_b64_encode(const unsigned char *in, size_t n, char *out);

#endif
