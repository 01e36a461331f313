#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"

static void
reserve(rvk_buf_t *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->data = rvk_realloc(b->data, cap);
	b->cap = cap;
}

void
rvk_buf_append(rvk_buf_t *b, const void *p, size_t n)
{
	reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
rvk_buf_puts(rvk_buf_t *b, const char *s)
{
	rvk_buf_append(b, s, strlen(s));
}

void
rvk_buf_printf(rvk_buf_t *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *
rvk_buf_steal(rvk_buf_t *b)
{
	if (!b->data)
		rvk_buf_append(b, "", 0);
	char *d = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return d;
}

void
rvk_buf_fini(rvk_buf_t *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
