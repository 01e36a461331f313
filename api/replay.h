/*
 * replay.h - memory of what was already taken: logout-token and SET jtis,
 * webhook-ids, Keycloak pushes. Entries live in one syncmap (app->seen) keyed by the SHA-256
 * of (kind, iss, id), so an entry costs the same whatever the peer sent,
 * and expire at the time the caller gives (the sweeper removes them).
 *
 * An entry is PENDING from the claim until the caller has recorded what the
 * message said, then DONE; a caller whose record failed forgets it, so the
 * sender's retry is taken.
 *
 * The memory is in process memory only: it does not survive a restart (a
 * logout token replayed across a restart within its lifetime is taken again;
 * its revocation is idempotent, so the effect is the same revocation
 * re-recorded, never a wrong decision).
 *
 * Threads: any thread; lock-free (syncmap.h).
 */
#ifndef RVK_API_REPLAY_H
#define RVK_API_REPLAY_H

#include <stdint.h>

#include "cache/syncmap.h"

typedef enum rvk_replay_state {
	RVK_REPLAY_FRESH = 0,     /* not seen: now claimed (PENDING) by the caller */
	RVK_REPLAY_PENDING,       /* another request is taking it right now */
	RVK_REPLAY_DONE,          /* taken before */
} rvk_replay_state_t;

/* Kinds: separate namespaces in the one map. */
#define RVK_REPLAY_LOGOUT 'L'
#define RVK_REPLAY_SET 'S'
#define RVK_REPLAY_WEBHOOK 'W'
#define RVK_REPLAY_KEYCLOAK 'K'

/* Claims (kind, iss, id) until `until` unless a live entry exists.
 * iss may be "" (webhook-ids have no issuer). */
rvk_replay_state_t rvk_replay_claim(rvk_syncmap_t *m, char kind, const char *iss,
                                    const char *id, int64_t until, int64_t now);
/* As rvk_replay_claim; on RVK_REPLAY_DONE *note is what rvk_replay_done
 * stored (e.g. how many events the first delivery accepted). */
rvk_replay_state_t rvk_replay_claim_note(rvk_syncmap_t *m, char kind,
                                         const char *iss, const char *id,
                                         int64_t until, int64_t now,
                                         int64_t *note);
/* Marks a claimed entry DONE until `until`, with a note >= 0. */
void rvk_replay_done(rvk_syncmap_t *m, char kind, const char *iss,
                     const char *id, int64_t until, int64_t note);
/* Forgets a claimed entry (its taking failed). */
void rvk_replay_forget(rvk_syncmap_t *m, char kind, const char *iss,
                       const char *id);

#endif
