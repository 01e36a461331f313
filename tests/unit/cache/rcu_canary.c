/*
 * rcu_canary.c - proves the TSan runs would catch a reader that forgot its
 * RCU read lock (suite tsan only), with the suppressions the runs use
 * (tests/support/tsan.supp, passed by meson.build as RVK_TSAN_SUPP).
 *
 * Run without arguments, it re-executes itself twice as a child: one reader
 * thread loads a published object and reads it, while the main thread
 * replaces it 200 times and frees each old one with rvk_rcu_call. With
 * "--locked" the reader holds rvk_rcu_read_lock around the read, and the
 * child must be clean: base/rcu.h tells TSan about the grace period. With
 * "--nolock" it does not, and the child must carry a data-race report (the
 * free in the call_rcu thread against the read). Suppressing the call_rcu
 * thread's module (the old tsan.supp did) fails the second half.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/rcu.h"
#include "tests/support/tap.h"

struct obj {
	rvk_rcu_head_t rcu;
	long x;
};

static struct obj *_Atomic pub;
static atomic_int stop;
static volatile long sink;
static int locked;

static void
free_cb(rvk_rcu_head_t *h)
{
	free(caa_container_of(h, struct obj, rcu));
}

static void *
reader(void *arg)
{
	(void)arg;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		if (locked)
			rvk_rcu_read_lock();
		struct obj *o = atomic_load_explicit(&pub, memory_order_acquire);
		if (o)
			sink += o->x; /* without the lock nothing keeps o alive */
		if (locked)
			rvk_rcu_read_unlock();
	}
	return NULL;
}

static int
child(void)
{
	rvk_rcu_thread_online();
	struct obj *o = calloc(1, sizeof(*o));
	atomic_store_explicit(&pub, o, memory_order_release);
	pthread_t t;
	pthread_create(&t, NULL, reader, NULL);
	usleep(50 * 1000);
	for (long i = 0; i < 200; i++) {
		struct obj *n = calloc(1, sizeof(*n));
		n->x = i;
		struct obj *old = atomic_exchange_explicit(&pub, n, memory_order_acq_rel);
		rvk_rcu_call(&old->rcu, free_cb);
		usleep(1000);
	}
	rvk_rcu_barrier();
	usleep(50 * 1000);
	atomic_store_explicit(&stop, 1, memory_order_relaxed);
	pthread_join(t, NULL);
	struct obj *last = atomic_exchange_explicit(&pub, NULL, memory_order_acq_rel);
	rvk_rcu_call(&last->rcu, free_cb);
	rvk_rcu_barrier();
	return 0;
}

static char self[4096];

/* Runs the child with mode; returns its exit status, out its stderr. */
static int
run(const char *mode, char *out, size_t cap)
{
	int fds[2];
	if (pipe(fds) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], 2);
		close(fds[0]);
		char opts[4600];
		snprintf(opts, sizeof(opts), "suppressions=%s halt_on_error=0 exitcode=66",
		         RVK_TSAN_SUPP);
		setenv("TSAN_OPTIONS", opts, 1);
		execl(self, self, mode, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	size_t len = 0;
	ssize_t n;
	while ((n = read(fds[0], out + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fds[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char out[1 << 20];

TAP_TEST(a_locked_reader_is_clean)
{
	int st = run("--locked", out, sizeof(out));
	if (strstr(out, "WARNING: ThreadSanitizer"))
		printf("# %.*s\n", 3000, out);
	TAP_CHECK(strstr(out, "WARNING: ThreadSanitizer") == NULL);
	TAP_CHECK(st == 0);
}

TAP_TEST(a_reader_without_its_read_lock_is_reported)
{
	int st = run("--nolock", out, sizeof(out));
	TAP_CHECK(strstr(out, "WARNING: ThreadSanitizer: data race") != NULL);
	TAP_CHECK(strstr(out, "free_cb") != NULL);
	TAP_CHECK(st == 66);
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--locked") == 0) {
		locked = 1;
		return child();
	}
	if (argc > 1 && strcmp(argv[1], "--nolock") == 0)
		return child();
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 1;
	self[n] = '\0';
	return tap_main(TAP_LIST(a_locked_reader_is_clean,
	                         a_reader_without_its_read_lock_is_reported));
}
