#include <stdint.h>
#include <string.h>

#include "base/b64.h"

static const char url_alpha[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char std_alpha[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
val(unsigned char c, bool url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

/* Decodes n unpadded characters of one alphabet. */
static bool
decode(const char *in, size_t n, unsigned char *out, size_t *out_len, bool url)
{
	if (n % 4 == 1)
		return false;
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = val((unsigned char)in[i], url);
		if (v < 0)
			return false;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0) /* non-canonical: leftover bits must be zero */
		return false;
	*out_len = o;
	return true;
}

bool
rvk_b64url_decode(const char *in, size_t n, unsigned char *out, size_t *out_len)
{
	return decode(in, n, out, out_len, true);
}

bool
rvk_b64_decode(const char *in, size_t n, unsigned char *out, size_t *out_len)
{
	if (n % 4 != 0)
		return false;
	size_t pad = 0;
	while (pad < 2 && n > pad && in[n - 1 - pad] == '=')
		pad++;
	return decode(in, n - pad, out, out_len, false);
}

static size_t
encode(const unsigned char *in, size_t n, char *out, const char *alpha, bool pad)
{
	size_t o = 0, i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = alpha[v >> 18];
		out[o++] = alpha[(v >> 12) & 63];
		out[o++] = alpha[(v >> 6) & 63];
		out[o++] = alpha[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = alpha[v >> 18];
		out[o++] = alpha[(v >> 12) & 63];
		if (pad) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = alpha[v >> 18];
		out[o++] = alpha[(v >> 12) & 63];
		out[o++] = alpha[(v >> 6) & 63];
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

size_t
rvk_b64url_encode(const unsigned char *in, size_t n, char *out)
{
	return encode(in, n, out, url_alpha, false);
}

size_t
rvk_b64_encode(const unsigned char *in, size_t n, char *out)
{
	return encode(in, n, out, std_alpha, true);
}
