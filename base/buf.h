/*
 * buf.h - a growable byte buffer for building text (metrics, JSON, logs).
 *
 * Threads: a buffer belongs to one thread at a time.
 */
#ifndef RVK_BASE_BUF_H
#define RVK_BASE_BUF_H

#include <stddef.h>

typedef struct rvk_buf {
	char *data;     /* owned; always NUL-terminated once anything was added */
	size_t len;
	size_t cap;
} rvk_buf_t;

#define RVK_BUF_INIT { NULL, 0, 0 }

void rvk_buf_append(rvk_buf_t *b, const void *p, size_t n);
void rvk_buf_puts(rvk_buf_t *b, const char *s);
void rvk_buf_printf(rvk_buf_t *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Returns: the data (owned by the caller), leaving b empty. Never NULL. */
char *rvk_buf_steal(rvk_buf_t *b);
void rvk_buf_fini(rvk_buf_t *b);

#endif
