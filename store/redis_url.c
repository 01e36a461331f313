/*
 * redis_url.c - redis://[[user]:password@]host[:port][/db] (store/redis_url.h).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/hex.h"
#include "base/mem.h"
#include "store/redis_url.h"

/* Copies [s, s+n) %-decoded. Returns: NULL on a bad escape or a NUL. */
static char *
pct_decode(const char *s, size_t n)
{
	char *out = rvk_malloc(n + 1), *o = out;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int a = i + 2 < n ? rvk_hex_digit(s[i + 1]) : -1;
			int b = i + 2 < n ? rvk_hex_digit(s[i + 2]) : -1;
			if (a < 0 || b < 0 || a * 16 + b == 0) {
				free(out);
				return NULL;
			}
			*o++ = (char)(a * 16 + b);
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

void
rvk_redis_url_fini(rvk_redis_url_t *u)
{
	if (!u)
		return;
	free(u->host);
	free(u->user);
	if (u->password) {
		rvk_memzero(u->password, strlen(u->password));
		free(u->password);
	}
	memset(u, 0, sizeof(*u));
}

static bool
parse_uint(const char *s, size_t n, long max, long *out)
{
	if (n == 0 || n > 9)
		return false;
	long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

rvk_result_t
rvk_redis_url_parse(const char *url, rvk_redis_url_t *out, char *err,
                    size_t errlen)
{
	RVK_REQUIRE(url && out && err);
	memset(out, 0, sizeof(*out));
	out->port = 6379;
	const char *p;
	if (strncmp(url, "redis://", 8) == 0) {
		p = url + 8;
	} else if (strncmp(url, "rediss://", 9) == 0) {
		p = url + 9;
		out->tls = true;
	} else {
		snprintf(err, errlen, "must start with redis:// or rediss://");
		return RVK_EINVAL;
	}
	const char *end = p + strcspn(p, "/?#");
	const char *at = memrchr(p, '@', (size_t)(end - p));
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		if (!colon) {
			/* user@: the password comes from password_file or
			 * the environment (a URL without one is refused by
			 * rvk_replica_new, so redis://secret@host, a slip for
			 * :secret@, still fails). */
			if (at == p || !(out->user = pct_decode(p,
			                                  (size_t)(at - p))))
				goto bad_escape;
			p = at + 1;
			goto host;
		}
		if (colon > p && !(out->user = pct_decode(p, (size_t)(colon - p))))
			goto bad_escape;
		if (!(out->password = pct_decode(colon + 1,
		                                 (size_t)(at - colon - 1))))
			goto bad_escape;
		if (!out->password[0]) {
			free(out->password);
			out->password = NULL;
		}
		p = at + 1;
	}
host:;
	const char *hend = end;
	const char *pc = memrchr(p, ':', (size_t)(end - p));
	if (*p == '[') {                /* [v6]:port */
		const char *rb = memchr(p, ']', (size_t)(end - p));
		if (!rb) {
			snprintf(err, errlen, "unterminated [ in the host");
			goto cleanup;
		}
		out->host = rvk_malloc((size_t)(rb - p));
		memcpy(out->host, p + 1, (size_t)(rb - p - 1));
		out->host[rb - p - 1] = '\0';
		pc = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
		hend = rb + 1;
		if (!pc && hend != end) {
			snprintf(err, errlen, "junk after the host");
			goto cleanup;
		}
	}
	if (pc) {
		long port;
		if (!parse_uint(pc + 1, (size_t)(end - pc - 1), 65535, &port)
		    || port == 0) {
			snprintf(err, errlen, "bad port");
			goto cleanup;
		}
		out->port = (int)port;
		if (!out->host)
			hend = pc;
	}
	if (!out->host) {
		if (hend == p) {
			snprintf(err, errlen, "the host is missing");
			goto cleanup;
		}
		out->host = rvk_malloc((size_t)(hend - p) + 1);
		memcpy(out->host, p, (size_t)(hend - p));
		out->host[hend - p] = '\0';
	}
	if (*end == '/' && end[1]) {
		long db;
		if (!parse_uint(end + 1, strlen(end + 1), 1000000, &db)) {
			snprintf(err, errlen, "bad database number");
			goto cleanup;
		}
		out->db = (int)db;
	} else if (*end && *end != '/') {
		snprintf(err, errlen, "query and fragment are not supported");
		goto cleanup;
	}
	return RVK_OK;
bad_escape:
	snprintf(err, errlen, "bad %%-escape in the credentials");
cleanup:
	rvk_redis_url_fini(out);
	return RVK_EINVAL;
}
