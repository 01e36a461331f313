/*
 * mem.h - the out-of-memory policy, decided once.
 *
 * Structural allocations whose size revokd chooses (a node, a key, a config
 * string) use rvk_malloc & co: they abort on failure, so callers never check
 * for NULL. Allocations whose size a peer chooses (a request body, a decoded
 * token segment) use rvk_trymalloc/rvk_tryrealloc, which return NULL and let
 * the caller answer 503 instead of dying; they are also fault points
 * ("alloc", see fault.h) so tests can fail the Nth one.
 *
 * Threads: all functions are thread-safe.
 */
#ifndef RVK_BASE_MEM_H
#define RVK_BASE_MEM_H

#include <stddef.h>

/* Returns: never NULL (aborts on OOM). malloc(0) returns a unique pointer. */
void *rvk_malloc(size_t n);
void *rvk_calloc(size_t nmemb, size_t size);
void *rvk_realloc(void *p, size_t n);
char *rvk_strdup(const char *s);
char *rvk_strndup(const char *s, size_t n);
/* Returns: a heap copy of the n bytes at p with a NUL appended. */
char *rvk_memdup0(const void *p, size_t n);

/* Returns: NULL when the allocation fails or the "alloc" fault point fires. */
void *rvk_trymalloc(size_t n);
void *rvk_tryrealloc(void *p, size_t n);

/* Overwrites n bytes in a way the compiler may not remove (for secrets). */
void rvk_memzero(void *p, size_t n);

#endif
