/*
 * tsan_canary.c - proves ThreadSanitizer is looking (suite tsan only).
 *
 * Run without arguments, it re-executes itself with "--race" as a child, in
 * which two threads write one plain int with no synchronisation between
 * them, and passes only if the child's stderr carries a ThreadSanitizer
 * data-race report. A build without TSan, or TSAN_OPTIONS that silence it,
 * fails this test instead of letting the stress test pass blind.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/tap.h"

static int racy;

static void *
writer(void *arg)
{
	racy += (int)(long)arg;     /* the deliberate race */
	return NULL;
}

static int
race(void)
{
	pthread_t a, b;
	pthread_create(&a, NULL, writer, (void *)1L);
	pthread_create(&b, NULL, writer, (void *)2L);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	return 0;
}

static char self[4096];

TAP_TEST(tsan_reports_a_deliberate_race)
{
	int fds[2];
	TAP_CHECK(pipe(fds) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], 2);
		close(fds[0]);
		/* The canary's own suppressions would not cover this race, but
		 * make sure no inherited option hides it. */
		setenv("TSAN_OPTIONS", "halt_on_error=0 exitcode=66", 1);
		execl(self, self, "--race", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	static char out[1 << 16];
	size_t len = 0;
	ssize_t n;
	while ((n = read(fds[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fds[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	TAP_CHECK(strstr(out, "WARNING: ThreadSanitizer: data race") != NULL);
	TAP_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 66);
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--race") == 0)
		return race();
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 1;
	self[n] = '\0';
	return tap_main(TAP_LIST(tsan_reports_a_deliberate_race));
}
