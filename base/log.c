/*
 * Lines are built in a stack buffer and written with a single write(2) so
 * that concurrent threads never interleave; an over-long line is cut and
 * still ends with a newline (and, in JSON, stays valid). Held lines
 * (rvk_log_hold) wait in a per-thread buffer of the same size, so a write
 * of several of them is never longer than one line may be.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/sha256.h"

#define LINE_MAX_BYTES 4096

/* Atomic (relaxed): a SIGHUP reload changes it while other threads log. */
static rvk_log_level_t min_level = RVK_LOG_INFO;
static rvk_log_format_t format = RVK_LOG_JSON;
static const char *const level_names[] = { "debug", "info", "warn", "error" };

void
rvk_log_set_level(rvk_log_level_t level)
{
	__atomic_store_n(&min_level, level, __ATOMIC_RELAXED);
}

void
rvk_log_set_format(rvk_log_format_t f)
{
	format = f;
}

bool
rvk_log_level_parse(const char *name, rvk_log_level_t *out)
{
	for (int i = 0; i < 4; i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (rvk_log_level_t)i;
			return true;
		}
	}
	return false;
}

bool
rvk_log_format_parse(const char *name, rvk_log_format_t *out)
{
	if (strcmp(name, "json") == 0)
		*out = RVK_LOG_JSON;
	else if (strcmp(name, "text") == 0)
		*out = RVK_LOG_TEXT;
	else
		return false;
	return true;
}

struct line {
	char buf[LINE_MAX_BYTES];
	size_t len;
};

/* This thread's held lines, whole ones only (rvk_log_hold). */
static __thread struct line held;
static __thread unsigned holding;       /* rvk_log_hold depth */

static void
write_out(const char *p, size_t n)
{
	ssize_t w = write(STDERR_FILENO, p, n);
	(void)w;
}

/* Writes l now, or adds it to the held lines (writing those first when
 * it would not fit). */
static void
emit(const struct line *l)
{
	if (!holding) {
		write_out(l->buf, l->len);
		return;
	}
	if (held.len + l->len > sizeof(held.buf)) {
		write_out(held.buf, held.len);
		held.len = 0;
	}
	memcpy(held.buf + held.len, l->buf, l->len);
	held.len += l->len;
}

void
rvk_log_hold(void)
{
	holding++;
}

void
rvk_log_flush(void)
{
	if (holding && --holding)
		return;
	if (held.len)
		write_out(held.buf, held.len);
	held.len = 0;
}

static void
put(struct line *l, const char *s, size_t n)
{
	/* Keep room for the closing "}\n" or "\n". */
	size_t room = sizeof(l->buf) - 3 - l->len;
	if (n > room)
		n = room;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void
puts_raw(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

static void
put_json_string(struct line *l, const char *s)
{
	put(l, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[8];
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			put(l, esc, 2);
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			put(l, esc, 6);
		} else {
			put(l, (const char *)p, 1);
		}
	}
	put(l, "\"", 1);
	/* A cut string must still close its quote. */
	if (l->buf[l->len - 1] != '"')
		l->buf[l->len++] = '"';
}

static void
put_text_value(struct line *l, const char *s)
{
	bool quote = strpbrk(s, " \"=") != NULL || *s == '\0';
	if (quote)
		put(l, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '"')
			put(l, "?", 1);
		else
			put(l, (const char *)p, 1);
	}
	if (quote)
		put(l, "\"", 1);
}

void
rvk_log(rvk_log_level_t level, const char *msg, ...)
{
	if (level < __atomic_load_n(&min_level, __ATOMIC_RELAXED))
		return;
	struct line l = { .len = 0 };
	struct timespec ts;
	struct tm tm;
	char tsbuf[40];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(tsbuf, sizeof(tsbuf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(tsbuf + n, sizeof(tsbuf) - n, ".%03ldZ", ts.tv_nsec / 1000000);

	va_list ap;
	va_start(ap, msg);
	if (format == RVK_LOG_JSON) {
		puts_raw(&l, "{\"ts\":\"");
		puts_raw(&l, tsbuf);
		puts_raw(&l, "\",\"level\":\"");
		puts_raw(&l, level_names[level]);
		puts_raw(&l, "\",\"msg\":");
		put_json_string(&l, msg);
		for (const char *k; (k = va_arg(ap, const char *));) {
			const char *v = va_arg(ap, const char *);
			put(&l, ",", 1);
			put_json_string(&l, k);
			put(&l, ":", 1);
			put_json_string(&l, v ? v : "");
		}
		l.buf[l.len++] = '}';
	} else {
		puts_raw(&l, tsbuf);
		put(&l, " ", 1);
		puts_raw(&l, level_names[level]);
		put(&l, " ", 1);
		puts_raw(&l, msg);
		for (const char *k; (k = va_arg(ap, const char *));) {
			const char *v = va_arg(ap, const char *);
			put(&l, " ", 1);
			puts_raw(&l, k);
			put(&l, "=", 1);
			put_text_value(&l, v ? v : "");
		}
	}
	va_end(ap);
	l.buf[l.len++] = '\n';
	emit(&l);
}

void
rvk_log_digest(const void *data, size_t len, char out[13])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[RVK_SHA256_LEN];
	rvk_sha256(data, len, md);
	for (int i = 0; i < 6; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[12] = '\0';
}
