/*
 * webhook_sig.h - the Standard Webhooks signature check (REFERENCE §5.1), the
 * pure part of POST /v1/events with Content-Type application/json: the
 * webhook-id, webhook-timestamp and webhook-signature headers against the
 * shared secret and the body.
 *
 * Factored out of webhook_handler.c so that it can be fuzzed
 * (tests/fuzz/fuzz_webhook_sig.c) without a server.
 *
 * Threads: pure; thread-safe. No I/O, no clock (now is a parameter).
 * Security: every header is untrusted and of any length; the signature is
 * compared with CRYPTO_memcmp and every entry of the header is looked at,
 * so the time taken does not tell which entry (if any) matched.
 */
#ifndef RVK_API_WEBHOOK_SIG_H
#define RVK_API_WEBHOOK_SIG_H

#include <stddef.h>
#include <stdint.h>

typedef enum rvk_webhook_sig {
	RVK_WEBHOOK_SIG_OK,
	RVK_WEBHOOK_SIG_MISSING,    /* a header is absent (or the id empty) */
	RVK_WEBHOOK_SIG_STALE,      /* timestamp not 1-18 digits or outside ±tolerance */
	RVK_WEBHOOK_SIG_MISMATCH,   /* no "v1,<base64>" entry matches */
} rvk_webhook_sig_t;

/*
 * Checks one delivery. id, ts and sig are the header values (NUL-terminated,
 * NULL when absent); body is len bytes.
 * Requires: secret_len > 0.
 * Returns: RVK_WEBHOOK_SIG_OK and *at (the timestamp) or the first failed
 * check; *at is written only on RVK_WEBHOOK_SIG_OK.
 */
rvk_webhook_sig_t rvk_webhook_sig_check(const unsigned char *secret,
                                        size_t secret_len, const char *id,
                                        const char *ts, const char *sig,
                                        const char *body, size_t len,
                                        int64_t now, int64_t tolerance,
                                        int64_t *at);

/* Returns: the 401 message for a failed check. */
const char *rvk_webhook_sig_str(rvk_webhook_sig_t s);

#endif
