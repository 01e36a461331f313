/*
 * replay.c - replay memory (replay.h).
 */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "api/replay.h"
#include "base/check.h"

/* The value word: PENDING, or DONE + note. */
#define PENDING 1
#define DONE 2

static void
key_of(char kind, const char *iss, const char *id, unsigned char out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	RVK_REQUIRE(c != NULL);
	unsigned int n = 0;
	RVK_REQUIRE(EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1);
	EVP_DigestUpdate(c, &kind, 1);
	EVP_DigestUpdate(c, iss, strlen(iss) + 1); /* the NUL separates iss and id */
	EVP_DigestUpdate(c, id, strlen(id));
	RVK_REQUIRE(EVP_DigestFinal_ex(c, out, &n) == 1 && n == 32);
	EVP_MD_CTX_free(c);
}

rvk_replay_state_t
rvk_replay_claim(rvk_syncmap_t *m, char kind, const char *iss, const char *id,
                 int64_t until, int64_t now)
{
	int64_t note;
	return rvk_replay_claim_note(m, kind, iss, id, until, now, &note);
}

rvk_replay_state_t
rvk_replay_claim_note(rvk_syncmap_t *m, char kind, const char *iss,
                      const char *id, int64_t until, int64_t now, int64_t *note)
{
	RVK_REQUIRE(m != NULL && iss != NULL && id != NULL);
	unsigned char k[32];
	key_of(kind, iss, id, k);
	rvk_syncmap_value_t v = { .i64 = PENDING };
	for (int tries = 0; tries < 4; tries++) {
		rvk_syncmap_entry_t cur;
		if (!rvk_syncmap_load_or_store(m, k, sizeof(k), v, until, &cur))
			return RVK_REPLAY_FRESH;
		if (cur.expires_at > now) {
			if (cur.value.i64 < DONE)
				return RVK_REPLAY_PENDING;
			*note = cur.value.i64 - DONE;
			return RVK_REPLAY_DONE;
		}
		/* Expired but not yet swept: it no longer counts. */
		rvk_syncmap_delete(m, k, sizeof(k));
	}
	return RVK_REPLAY_PENDING;
}

void
rvk_replay_done(rvk_syncmap_t *m, char kind, const char *iss, const char *id,
                int64_t until, int64_t note)
{
	RVK_REQUIRE(note >= 0 && note < INT64_MAX - DONE);
	unsigned char k[32];
	key_of(kind, iss, id, k);
	rvk_syncmap_store(m, k, sizeof(k), (rvk_syncmap_value_t){ .i64 = DONE + note }, until);
}

void
rvk_replay_forget(rvk_syncmap_t *m, char kind, const char *iss, const char *id)
{
	unsigned char k[32];
	key_of(kind, iss, id, k);
	rvk_syncmap_delete(m, k, sizeof(k));
}
