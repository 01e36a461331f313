/*
 * fuzz_events.c - revocation event bodies (api/events.c, REFERENCE §5.1) from any
 * bytes, against a one-issuer set (iss may be omitted) and a two-issuer set.
 * The invariants: an accepted body gives 1..RVK_EVENTS_MAX revocations, each
 * for a configured issuer, with an ID that is non-empty (empty only for
 * issuer revocations) and within RVK_ID_MAX, revoked_at in
 * [0, now + leeway], the expiry rule of events.h, a reason within
 * RVK_EVENTS_MAX_REASON; a refusal is EINVAL or EBUSY with a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/events.h"
#include "base/check.h"
#include "base/clock.h"
#include "base/id.h"

#define NOW 1764190000
#define LEEWAY 30
#define LIFETIME 86400

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static rvk_issuers_t one, two;

static void
init(void)
{
	one.n = 1;
	one.v = malloc(sizeof(*one.v));
	one.v[0] = rvk_issuer_new("https://a.example");
	two.n = 2;
	two.v = malloc(2 * sizeof(*two.v));
	two.v[0] = rvk_issuer_new("https://a.example");
	two.v[1] = rvk_issuer_new("https://b.example");
}

static void
run(const uint8_t *data, size_t size, const rvk_issuers_t *set)
{
	rvk_events_opts_t o = {
		.issuers = set, .leeway = LEEWAY, .max_token_lifetime = LIFETIME,
		.now = NOW, .default_at = NOW - 5, .source = RVK_SRC_ADMIN,
	};
	rvk_revocation_t *revs = NULL;
	size_t n = 0;
	char err[256] = "";
	rvk_result_t r = rvk_events_parse((const char *)data, size, &o, &revs, &n,
	                                  err, sizeof(err));
	if (r != RVK_OK) {
		RVK_REQUIRE((r == RVK_EINVAL || r == RVK_EBUSY) && err[0] != '\0');
		RVK_REQUIRE(revs == NULL && n == 0);
		return;
	}
	RVK_REQUIRE(n >= 1 && n <= RVK_EVENTS_MAX && revs != NULL);
	for (size_t i = 0; i < n; i++) {
		const rvk_revocation_t *v = &revs[i];
		RVK_REQUIRE(rvk_issuers_find(set, v->iss, strlen(v->iss)) != NULL);
		size_t idlen = strlen(v->id);
		RVK_REQUIRE(idlen <= RVK_ID_MAX);
		RVK_REQUIRE((idlen == 0) == (v->type == RVK_REV_ISSUER));
		RVK_REQUIRE(v->revoked_at >= 0 && v->revoked_at <= NOW + LEEWAY);
		if (v->type == RVK_REV_KEY)
			RVK_REQUIRE(v->expires_at == RVK_NEVER);
		else if (v->type == RVK_REV_TOKEN)
			RVK_REQUIRE(v->expires_at >= 0 &&
			            v->expires_at <= NOW + LEEWAY + LIFETIME);
		else
			RVK_REQUIRE(v->expires_at == v->revoked_at + LIFETIME);
		RVK_REQUIRE(!v->reason || strlen(v->reason) <= RVK_EVENTS_MAX_REASON);
		RVK_REQUIRE(v->source == RVK_SRC_ADMIN);
	}
	rvk_events_free(revs, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		init();
		ready = 1;
	}
	run(data, size, &one);
	run(data, size, &two);
	return 0;
}
