/*
 * log.h - one line per event on standard error.
 *
 * JSON lines by default: {"ts":"2026-11-26T23:18:49.123Z","level":"info",
 * "msg":"...", "<key>":"<value>", ...}; or text for people at a terminal:
 * "2026-11-26T23:18:49.123Z info msg key=value ...". Each line is written with
 * one write(2) (held lines, rvk_log_hold: several whole ones per write), so
 * lines of concurrent threads never interleave.
 *
 * Fields are string pairs ended by NULL:
 *     rvk_log(RVK_LOG_INFO, "revocation taken", "source", "webhook",
 *             "type", "token", NULL);
 * Never pass a secret or a whole token (log a jti or rvk_log_digest()).
 *
 * Threads: rvk_log* may be called from any thread (hold and flush act on
 * the calling thread's lines only); the setters only before threads start.
 */
#ifndef RVK_BASE_LOG_H
#define RVK_BASE_LOG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum rvk_log_level {
	RVK_LOG_DEBUG = 0,
	RVK_LOG_INFO,
	RVK_LOG_WARN,
	RVK_LOG_ERROR,
} rvk_log_level_t;

typedef enum rvk_log_format {
	RVK_LOG_JSON = 0,
	RVK_LOG_TEXT,
} rvk_log_format_t;

void rvk_log_set_level(rvk_log_level_t level);
void rvk_log_set_format(rvk_log_format_t format);
/* Returns: true and *out on a known name ("debug", "info", "warn", "error"). */
bool rvk_log_level_parse(const char *name, rvk_log_level_t *out);
bool rvk_log_format_parse(const char *name, rvk_log_format_t *out);

void rvk_log(rvk_log_level_t level, const char *msg, ...)
	__attribute__((sentinel));

/*
 * Holds the lines this thread logs from here on until rvk_log_flush, which
 * writes them: whole lines, several per write(2), no write longer than one
 * line may be (4 KiB: within PIPE_BUF), so lines of concurrent threads
 * still never interleave. For a thread that logs a burst at once (a batch
 * of revocations taken, the store's writer completing a group commit): one
 * write instead of one per line. Holds nest: the lines go at the flush
 * that ends the outermost hold. A line held is written at the latest by
 * that flush; nothing is held across a blocking wait.
 */
void rvk_log_hold(void);
void rvk_log_flush(void);

/* Writes the first 12 hex digits of SHA-256(data) into out[13]: a token's
 * name in logs that does not reveal the token. */
void rvk_log_digest(const void *data, size_t len, char out[13]);

#endif
