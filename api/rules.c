/*
 * rules.c - the request rules (rules.h): credentials, the admin token,
 * media types, failure answers.
 */
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "api/app.h"
#include "api/rules.h"
#include "base/check.h"
#include "base/sha256.h"

static bool
ows(char c)
{
	return c == ' ' || c == '\t';
}

bool
rvk_rules_credentials(const char *field, const char *scheme, const char **cred,
                      size_t *len)
{
	RVK_REQUIRE(scheme != NULL);
	if (!field)
		return false;
	while (ows(*field))
		field++;
	size_t sn = strlen(scheme);
	if (strncasecmp(field, scheme, sn) != 0 || field[sn] != ' ')
		return false;
	const char *p = field + sn + 1;
	while (*p == ' ')
		p++;
	size_t n = strlen(p);
	while (n && ows(p[n - 1]))
		n--;
	if (n == 0)
		return false;
	*cred = p;
	*len = n;
	return true;
}

bool
rvk_rules_bearer(const char *field, const char **tok, size_t *len)
{
	return rvk_rules_credentials(field, "Bearer", tok, len);
}

bool
rvk_rules_secret_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	unsigned char ha[RVK_SHA256_LEN], hb[RVK_SHA256_LEN];
	rvk_sha256(a, alen, ha);
	rvk_sha256(b, blen, hb);
	/* Both checks always run; & keeps the branch out. */
	return (CRYPTO_memcmp(ha, hb, sizeof(ha)) == 0) & (alen == blen);
}

rvk_rules_admin_t
rvk_rules_admin(const struct rvk_secret *tokens, size_t n, const char *authorization)
{
	if (!tokens || n == 0)
		return RVK_RULES_ADMIN_DISABLED;
	const char *tok;
	size_t len;
	if (!rvk_rules_bearer(authorization, &tok, &len))
		return RVK_RULES_ADMIN_MISSING;
	bool ok = false;
	for (size_t i = 0; i < n; i++)
		ok |= rvk_rules_secret_equal((const char *)tokens[i].v, tokens[i].len, tok, len);
	return ok ? RVK_RULES_ADMIN_OK : RVK_RULES_ADMIN_WRONG;
}

/* RFC 9110 §5.6.2 tchar. */
static bool
tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Reads a token at *p. Returns: its length (0: none). */
static size_t
token(const char **p)
{
	const char *s = *p;
	while (tchar((unsigned char)**p))
		(*p)++;
	return (size_t)(*p - s);
}

/* Reads a quoted-string at *p (RFC 9110 §5.6.4) into out (unescaped, at
 * most cap - 1 bytes kept, NUL-terminated). Returns: false if malformed. */
static bool
quoted(const char **p, char *out, size_t cap)
{
	size_t k = 0;
	for ((*p)++; **p != '"'; (*p)++) {
		if (**p == '\\')
			(*p)++;
		if (**p == '\0')
			return false;
		if (k + 1 < cap)
			out[k++] = **p;
	}
	(*p)++;
	out[k] = '\0';
	return true;
}

static bool
utf8_name(const char *v, size_t n)
{
	return (n == 5 && strncasecmp(v, "utf-8", 5) == 0) ||
	       (n == 4 && strncasecmp(v, "utf8", 4) == 0);
}

bool
rvk_rules_media_type(const char *ct, const char *type)
{
	if (!ct)
		return false;
	while (ows(*ct))
		ct++;
	size_t tn = strlen(type);
	if (strncasecmp(ct, type, tn) != 0)
		return false;
	const char *p = ct + tn;
	for (;;) {
		while (ows(*p))
			p++;
		if (*p == '\0')
			return true;
		if (*p++ != ';')
			return false;           /* "application/jsonx" */
		while (ows(*p))
			p++;
		if (*p == ';' || *p == '\0')
			continue;               /* an empty parameter */
		const char *name = p;
		size_t nn = token(&p);
		if (nn == 0 || *p++ != '=')
			return false;
		char buf[16];
		const char *v = p;
		size_t vn;
		if (*p == '"') {
			if (!quoted(&p, buf, sizeof(buf)))
				return false;
			v = buf;
			vn = strlen(buf);
		} else if ((vn = token(&p)) == 0) {
			return false;
		}
		if (nn == 7 && strncasecmp(name, "charset", 7) == 0 && !utf8_name(v, vn))
			return false;
	}
}

rvk_rules_answer_t
rvk_rules_failure(rvk_result_t r)
{
	RVK_REQUIRE(r != RVK_OK);
	static const char *const why[] = {
		[RVK_ENOMEM] = "out of memory",
		[RVK_ESHUTDOWN] = "the service is stopping",
		[RVK_EBUSY] = "too busy; retry",
	};
	const char *d = (unsigned)r < RVK_ARRAY_LEN(why) ? why[r] : NULL;
	return (rvk_rules_answer_t){
		.status = 503, .error = "server_error",
		.description = d ? d : "the revocation store could not commit",
	};
}
