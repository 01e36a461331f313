/*
 * vocab.c - the names of the revocation vocabulary (vocab.h), one row each.
 */
#include <string.h>

#include "base/check.h"
#include "base/vocab.h"

static const struct {
	const char *name, *event, *id_field;
} types[] = {
	[RVK_REV_TOKEN] = { "token", "token.revoked", "jti" },
	[RVK_REV_SESSION] = { "session", "session.revoked", "sid" },
	[RVK_REV_SUBJECT] = { "subject", "subject.revoked", "sub" },
	[RVK_REV_ISSUER] = { "issuer", "issuer.revoked", NULL },
	[RVK_REV_KEY] = { "key", "key.revoked", "kid" },
};
_Static_assert(RVK_ARRAY_LEN(types) == RVK_REV_TYPE_COUNT,
               "one row per revocation type");

static const char *const sources[] = {
	[RVK_SRC_WEBHOOK] = "webhook",
	[RVK_SRC_SET] = "set",
	[RVK_SRC_BACKCHANNEL] = "backchannel",
	[RVK_SRC_KEYCLOAK] = "keycloak",
	[RVK_SRC_RFC7009] = "rfc7009",
	[RVK_SRC_ADMIN] = "admin",
	[RVK_SRC_REPLICA] = "replica",
};
_Static_assert(RVK_ARRAY_LEN(sources) == RVK_SRC_COUNT, "one name per source");

const char *
rvk_rev_type_name(rvk_rev_type_t type)
{
	RVK_REQUIRE((unsigned)type < RVK_REV_TYPE_COUNT);
	return types[type].name;
}

const char *
rvk_rev_type_event(rvk_rev_type_t type)
{
	RVK_REQUIRE((unsigned)type < RVK_REV_TYPE_COUNT);
	return types[type].event;
}

const char *
rvk_rev_type_id_field(rvk_rev_type_t type)
{
	RVK_REQUIRE((unsigned)type < RVK_REV_TYPE_COUNT);
	return types[type].id_field;
}

bool
rvk_rev_type_parse(const char *name, rvk_rev_type_t *out)
{
	for (unsigned i = 0; name && i < RVK_REV_TYPE_COUNT; i++) {
		if (strcmp(name, types[i].name) == 0) {
			*out = (rvk_rev_type_t)i;
			return true;
		}
	}
	return false;
}

bool
rvk_rev_type_parse_event(const char *name, rvk_rev_type_t *out)
{
	for (unsigned i = 0; name && i < RVK_REV_TYPE_COUNT; i++) {
		if (strcmp(name, types[i].event) == 0) {
			*out = (rvk_rev_type_t)i;
			return true;
		}
	}
	return false;
}

const char *
rvk_source_name(rvk_source_t source)
{
	RVK_REQUIRE((unsigned)source < RVK_SRC_COUNT);
	return sources[source];
}

bool
rvk_source_parse(const char *name, rvk_source_t *out)
{
	for (unsigned i = 0; name && i < RVK_SRC_COUNT; i++) {
		if (strcmp(name, sources[i]) == 0) {
			*out = (rvk_source_t)i;
			return true;
		}
	}
	return false;
}
