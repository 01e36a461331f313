/*
 * Cursors: base64url(payload || HMAC-SHA256(key, payload)), see cursor.h.
 * The payload is [type, iss, id, filter_type, filter_iss|null] as compact
 * JSON; the HMAC is checked (in constant time) before the payload is parsed,
 * so the JSON parser only ever sees bytes this process wrote.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "api/cursor.h"
#include "base/b64.h"
#include "base/check.h"
#include "base/mem.h"

#define MAC_LEN 32

static unsigned char key[32];
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void
make_key(void)
{
	RVK_REQUIRE(RAND_bytes(key, sizeof(key)) == 1);
}

static void
mac(const unsigned char *data, size_t n, unsigned char out[MAC_LEN])
{
	pthread_once(&key_once, make_key);
	unsigned int len = 0;
	RVK_REQUIRE(HMAC(EVP_sha256(), key, (int)sizeof(key), data, n, out, &len) &&
	            len == MAC_LEN);
}

char *
rvk_cursor_encode(const rvk_cursor_t *c)
{
	RVK_REQUIRE(c && c->iss && c->id);
	json_t *a = json_array();
	json_array_append_new(a, json_integer(c->type));
	json_array_append_new(a, json_string(c->iss));
	json_array_append_new(a, json_string(c->id));
	json_array_append_new(a, json_integer(c->filter_type));
	json_array_append_new(a, c->filter_iss ? json_string(c->filter_iss) : json_null());
	char *payload = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	RVK_REQUIRE(payload);
	size_t n = strlen(payload);
	unsigned char *raw = rvk_malloc(n + MAC_LEN);
	memcpy(raw, payload, n);
	mac(raw, n, raw + n);
	free(payload);
	char *out = rvk_malloc(rvk_b64url_encoded_len(n + MAC_LEN) + 1);
	rvk_b64url_encode(raw, n + MAC_LEN, out);
	free(raw);
	return out;
}

static bool
str_or_null(json_t *v, char **out)
{
	if (json_is_null(v)) {
		*out = NULL;
		return true;
	}
	if (!json_is_string(v))
		return false;
	*out = rvk_strdup(json_string_value(v));
	return true;
}

bool
rvk_cursor_decode(const char *text, rvk_cursor_t *out)
{
	size_t tn = text ? strlen(text) : 0;
	if (tn == 0 || tn > RVK_CURSOR_MAX_LEN)
		return false;
	unsigned char *raw = rvk_malloc(rvk_b64_decoded_max(tn));
	size_t n = 0;
	bool ok = false;
	json_t *a = NULL;
	if (!rvk_b64url_decode(text, tn, raw, &n) || n <= MAC_LEN)
		goto cleanup;
	unsigned char want[MAC_LEN];
	mac(raw, n - MAC_LEN, want);
	if (CRYPTO_memcmp(want, raw + n - MAC_LEN, MAC_LEN) != 0)
		goto cleanup;
	a = json_loadb((const char *)raw, n - MAC_LEN, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_array(a) || json_array_size(a) != 5 ||
	    !json_is_integer(json_array_get(a, 0)) ||
	    !json_is_string(json_array_get(a, 1)) ||
	    !json_is_string(json_array_get(a, 2)) ||
	    !json_is_integer(json_array_get(a, 3)))
		goto cleanup;
	char *fiss = NULL;
	if (!str_or_null(json_array_get(a, 4), &fiss))
		goto cleanup;
	out->type = (int)json_integer_value(json_array_get(a, 0));
	out->iss = rvk_strdup(json_string_value(json_array_get(a, 1)));
	out->id = rvk_strdup(json_string_value(json_array_get(a, 2)));
	out->filter_type = (int)json_integer_value(json_array_get(a, 3));
	out->filter_iss = fiss;
	ok = true;
cleanup:
	json_decref(a);
	free(raw);
	return ok;
}

void
rvk_cursor_fini(rvk_cursor_t *c)
{
	free(c->iss);
	free(c->id);
	free(c->filter_iss);
	c->iss = c->id = c->filter_iss = NULL;
}
