#include <stdio.h>
#include <stdlib.h>

#include "base/check.h"

noreturn void
rvk_check_failed(const char *file, int line, const char *func, const char *what)
{
	fprintf(stderr, "revokd: fatal: %s:%d: %s: requirement failed: %s\n",
	        file, line, func, what);
	fflush(stderr);
	abort();
}
