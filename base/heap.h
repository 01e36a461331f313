/*
 * heap.h - which allocator the process runs on, and handing freed pages
 * back to the kernel.
 *
 * A release or plain build links jemalloc (DECISIONS D28): revokd's miss
 * path and libmicrohttpd allocate and free a few small objects per request
 * on many threads, and glibc 2.36's calloc bypasses its thread cache. The
 * sanitizer and fuzzing builds keep the C library's allocator (the
 * sanitizers bring their own). Code that wants freed memory returned -- the
 * sweeper after a large sweep, the store writer when idle -- calls
 * rvk_heap_release, which asks whichever allocator is present.
 *
 * Threads: both functions are thread-safe.
 */
#ifndef RVK_BASE_HEAP_H
#define RVK_BASE_HEAP_H

/* Returns: a static string naming the allocator and its version,
 * "jemalloc 5.3.0-0-g54eaed1…" or "glibc 2.36" (the C library's). */
const char *rvk_heap_allocator(void);

/* Returns the pages of freed memory to the kernel: jemalloc purges every
 * arena's unused dirty pages; glibc trims its arenas (malloc_trim). Takes
 * milliseconds on a large heap: call it off the request path. */
void rvk_heap_release(void);

#endif
