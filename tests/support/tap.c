#include <ctype.h>

#include "tests/support/tap.h"

int tap_failed_checks;

/* names is the stringified argument list "a, b, c": split it for output. */
int
tap_run(const char *names, void (*const *fns)(void), size_t n)
{
	int failed = 0;
	const char *p = names;
	printf("1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		const char *end = p;
		while (*end && *end != ',')
			end++;
		int before = tap_failed_checks;
		fns[i]();
		fflush(stdout);
		int ok = tap_failed_checks == before;
		printf("%s %zu - %.*s\n", ok ? "ok" : "not ok", i + 1, (int)(end - p), p);
		if (!ok)
			failed++;
		p = end;
	}
	return failed ? 1 : 0;
}
