/*
 * The allocator is found at run time (dlsym of jemalloc's mallctl), not at
 * build time, so base/ needs no link to jemalloc: the executable links it,
 * and a binary run under LD_PRELOAD of another jemalloc is handled the
 * same way.
 */
#include <dlfcn.h>
#include <gnu/libc-version.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/heap.h"

typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static mallctl_fn mallctl_p;
static char name[96];

static void
find(void)
{
	void *sym = dlsym(RTLD_DEFAULT, "mallctl");
	if (!sym) {
		snprintf(name, sizeof(name), "glibc %s", gnu_get_libc_version());
		return;
	}
	/* ISO C has no cast from object to function pointer; POSIX
	 * guarantees dlsym's result converts. */
	memcpy(&mallctl_p, &sym, sizeof(mallctl_p));
	const char *v = NULL;
	size_t len = sizeof(v);
	if (mallctl_p("version", &v, &len, NULL, 0) == 0 && v)
		snprintf(name, sizeof(name), "jemalloc %.*s", 60, v);
	else
		snprintf(name, sizeof(name), "jemalloc");
}

const char *
rvk_heap_allocator(void)
{
	pthread_once(&once, find);
	return name;
}

void
rvk_heap_release(void)
{
	pthread_once(&once, find);
	if (mallctl_p) {
		/* "arena.<MALLCTL_ARENAS_ALL>.purge": jemalloc 5's index for
		 * all arenas is 4096. Without it, freed pages leave only as
		 * later allocations tick the decay clock, so an idle process
		 * would keep the peak of its last burst. */
		mallctl_p("arena.4096.purge", NULL, NULL, NULL, 0);
		return;
	}
	malloc_trim(0);
}
