/*
 * claims_input.h - turns fuzz bytes into a parsed JWS for the claim-set
 * targets (fuzz_set, fuzz_logout): the bytes are "HEADER\nPAYLOAD" (JSON
 * texts; without a newline, all of it is the payload under a fixed header),
 * each base64url-encoded into a compact JWS with a dummy signature, so the
 * fuzzer explores claim sets rather than base64.
 */
#ifndef RVK_TESTS_FUZZ_CLAIMS_INPUT_H
#define RVK_TESTS_FUZZ_CLAIMS_INPUT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/jws.h"
#include "base/b64.h"

/* Returns: true and *j (rvk_jws_fini it) when the token parses. */
static inline bool
fuzz_claims_jws(const uint8_t *data, size_t size, const char *default_header,
                rvk_jws_t *j, char **token)
{
	const uint8_t *nl = memchr(data, '\n', size);
	const uint8_t *h = (const uint8_t *)default_header, *p = data;
	size_t hn = strlen(default_header), pn = size;
	if (nl) {
		h = data;
		hn = (size_t)(nl - data);
		p = nl + 1;
		pn = size - hn - 1;
	}
	char *t = malloc(rvk_b64url_encoded_len(hn) + rvk_b64url_encoded_len(pn) + 8);
	size_t k = rvk_b64url_encode(h, hn, t);
	t[k++] = '.';
	k += rvk_b64url_encode(p, pn, t + k);
	memcpy(t + k, ".AA", 4);
	*token = t;
	return rvk_jws_parse(t, strlen(t), 1 << 20, j) == RVK_REASON_OK;
}

#endif
