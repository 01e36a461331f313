#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "base/fault.h"
#include "base/mem.h"

static void *
oom(size_t n)
{
	fprintf(stderr, "revokd: fatal: out of memory allocating %zu bytes\n", n);
	abort();
}

void *
rvk_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	return p ? p : oom(n);
}

void *
rvk_calloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	return p ? p : oom(nmemb * size);
}

void *
rvk_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	return q ? q : oom(n);
}

char *
rvk_strdup(const char *s)
{
	return rvk_memdup0(s, strlen(s));
}

char *
rvk_strndup(const char *s, size_t n)
{
	return rvk_memdup0(s, strnlen(s, n));
}

char *
rvk_memdup0(const void *p, size_t n)
{
	char *q = rvk_malloc(n + 1);
	if (n)
		memcpy(q, p, n);
	q[n] = '\0';
	return q;
}

void *
rvk_trymalloc(size_t n)
{
	if (RVK_FAULT("alloc"))
		return NULL;
	return malloc(n ? n : 1);
}

void *
rvk_tryrealloc(void *p, size_t n)
{
	if (RVK_FAULT("alloc"))
		return NULL;
	return realloc(p, n ? n : 1);
}

void
rvk_memzero(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}
