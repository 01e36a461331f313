/*
 * A handful of named counters in a fixed array: fault points are few, and a
 * linear scan over them only runs once a test armed something.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fault.h"

#define MAX_POINTS 16

struct point {
	char name[32];
	unsigned long nth, count;
	unsigned long calls, fired;
};

static struct point points[MAX_POINTS];
static int npoints;
int rvk_fault_armed;
/* Armed from the environment (a server under test): each firing is written
 * to stderr, so a fault loop knows whether its fault fired at all — the
 * loop ends on the first N that did not fire, not on answers that merely
 * look clean. */
static bool announce;

static struct point *
find(const char *name)
{
	for (int i = 0; i < npoints; i++)
		if (strcmp(points[i].name, name) == 0)
			return &points[i];
	return NULL;
}

bool
rvk_fault_hit(const char *name)
{
	struct point *p = find(name);
	if (!p)
		return false;
	unsigned long n = __atomic_add_fetch(&p->calls, 1, __ATOMIC_RELAXED);
	if (n < p->nth)
		return false;
	if (p->count && n >= p->nth + p->count)
		return false;
	__atomic_add_fetch(&p->fired, 1, __ATOMIC_RELAXED);
	if (announce)
		fprintf(stderr, "revokd: fault injected: %s (call %lu)\n", p->name, n);
	return true;
}

void
rvk_fault_arm(const char *name, unsigned long nth, unsigned long count)
{
	struct point *p = find(name);
	if (!p) {
		if (npoints == MAX_POINTS || strlen(name) >= sizeof(p->name))
			return;
		p = &points[npoints++];
		strcpy(p->name, name);
	}
	p->nth = nth ? nth : 1;
	p->count = count;
	p->calls = 0;
	p->fired = 0;
	rvk_fault_armed = 1;
}

void
rvk_fault_reset(void)
{
	npoints = 0;
	rvk_fault_armed = 0;
}

unsigned long
rvk_fault_fired(const char *name)
{
	struct point *p = find(name);
	return p ? __atomic_load_n(&p->fired, __ATOMIC_RELAXED) : 0;
}

int
rvk_fault_init_from_env(void)
{
	const char *env = getenv("REVOKD_FAULTS");
	if (!env || !*env)
		return 0;
#ifndef RVK_FAULT_INJECTION
	/* Arming nothing in silence would let a test that expects failures
	 * pass against a build that cannot fail: say so and stop. */
	fprintf(stderr, "revokd: REVOKD_FAULTS is set, but this build has no "
	        "fault points (meson -Dfault_injection=enabled)\n");
	return -1;
#endif
	char *copy = strdup(env), *save = NULL;
	if (!copy)
		return -1;
	int rc = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char name[32];
		unsigned long nth = 0, count = 1;
		int got = sscanf(tok, "%31[^:]:%lu:%lu", name, &nth, &count);
		if (got < 2 || nth == 0) {
			fprintf(stderr, "revokd: REVOKD_FAULTS: bad entry \"%s\"\n", tok);
			rc = -1;
			break;
		}
		rvk_fault_arm(name, nth, count);
		announce = true;
	}
	free(copy);
	return rc;
}
