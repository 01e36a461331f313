/*
 * base/log: held lines (rvk_log_hold) reach standard error only at the
 * flush or when the held buffer is full, always as whole lines in the
 * order logged; holds nest; another thread's lines are not held.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "tests/support/tap.h"

static int rd = -1;             /* the read end of standard error's pipe */
static char got[1 << 16];
static size_t got_len;

/* Reads what standard error holds now into got (appending). */
static size_t
drain(void)
{
	size_t before = got_len;
	for (;;) {
		ssize_t n = read(rd, got + got_len, sizeof(got) - 1 - got_len);
		if (n <= 0)
			break;
		got_len += (size_t)n;
	}
	got[got_len] = '\0';
	return got_len - before;
}

/* Counts the lines of got with "msg":"<msg>". */
static int
count(const char *msg)
{
	char want[64];
	snprintf(want, sizeof(want), "\"msg\":\"%s\"", msg);
	int n = 0;
	for (const char *p = got; (p = strstr(p, want)); p++)
		n++;
	return n;
}

static void
reset(void)
{
	drain();
	got_len = 0;
	got[0] = '\0';
}

TAP_TEST(unheld_lines_go_at_once)
{
	reset();
	rvk_log(RVK_LOG_INFO, "one", "k", "v", NULL);
	TAP_CHECK(drain() > 0);
	TAP_CHECK_INT(count("one"), 1);
	TAP_CHECK(got[got_len - 1] == '\n');
}

TAP_TEST(held_lines_wait_for_the_flush)
{
	reset();
	rvk_log_hold();
	rvk_log(RVK_LOG_INFO, "a", "i", "1", NULL);
	rvk_log(RVK_LOG_INFO, "b", "i", "2", NULL);
	rvk_log(RVK_LOG_DEBUG, "below the level", NULL);
	TAP_CHECK_INT(drain(), 0);
	rvk_log_flush();
	TAP_CHECK(drain() > 0);
	TAP_CHECK_INT(count("a"), 1);
	TAP_CHECK_INT(count("b"), 1);
	TAP_CHECK_INT(count("below the level"), 0);
	TAP_CHECK(strstr(got, "\"msg\":\"a\"") < strstr(got, "\"msg\":\"b\""));
	/* Not holding any more. */
	rvk_log(RVK_LOG_INFO, "after", NULL);
	TAP_CHECK(drain() > 0);
	TAP_CHECK_INT(count("after"), 1);
}

/* 100 lines of ~300 bytes do not fit the held 4 KiB: whole lines go out
 * as it fills, the rest at the flush, all in order. */
TAP_TEST(a_full_hold_writes_whole_lines)
{
	reset();
	char id[200];
	memset(id, 'x', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	rvk_log_hold();
	for (int i = 0; i < 100; i++) {
		char n[16];
		snprintf(n, sizeof(n), "%d", i);
		rvk_log(RVK_LOG_INFO, "many", "i", n, "id", id, NULL);
	}
	size_t early = drain();
	TAP_CHECK(early > 0 && got[got_len - 1] == '\n');
	TAP_CHECK(count("many") < 100);
	rvk_log_flush();
	drain();
	TAP_CHECK_INT(count("many"), 100);
	int lines = 0, last = -1;
	bool ordered = true;
	for (char *p = got; *p; lines++) {
		char *nl = strchr(p, '\n');
		if (!nl)
			break;
		const char *f = strstr(p, "\"i\":\"");
		int i = f && f < nl ? atoi(f + 5) : -2;
		ordered &= i == last + 1;
		last = i;
		p = nl + 1;
	}
	TAP_CHECK_INT(lines, 100);
	TAP_CHECK(ordered);
}

/* Holds nest: the lines go at the flush that ends the outermost hold. */
TAP_TEST(holds_nest)
{
	reset();
	rvk_log_hold();
	rvk_log(RVK_LOG_INFO, "outer", NULL);
	rvk_log_hold();
	rvk_log(RVK_LOG_INFO, "inner", NULL);
	rvk_log_flush();
	TAP_CHECK_INT(drain(), 0);
	rvk_log_flush();
	drain();
	TAP_CHECK_INT(count("outer"), 1);
	TAP_CHECK_INT(count("inner"), 1);
	rvk_log(RVK_LOG_INFO, "free", NULL);
	TAP_CHECK(drain() > 0);
}

static void *
other_thread(void *arg)
{
	(void)arg;
	rvk_log(RVK_LOG_INFO, "other", NULL);
	return NULL;
}

TAP_TEST(a_hold_is_this_threads_only)
{
	reset();
	rvk_log_hold();
	rvk_log(RVK_LOG_INFO, "mine", NULL);
	pthread_t t;
	TAP_CHECK(pthread_create(&t, NULL, other_thread, NULL) == 0);
	pthread_join(t, NULL);
	drain();
	TAP_CHECK_INT(count("other"), 1);
	TAP_CHECK_INT(count("mine"), 0);
	rvk_log_flush();
	drain();
	TAP_CHECK_INT(count("mine"), 1);
}

int
main(void)
{
	int p[2];
	if (pipe(p) != 0)
		return 1;
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	int saved = dup(STDERR_FILENO);
	dup2(p[1], STDERR_FILENO);
	close(p[1]);
	rd = p[0];
	rvk_log_set_level(RVK_LOG_INFO);
	rvk_log_set_format(RVK_LOG_JSON);
	int rc = tap_main(TAP_LIST(unheld_lines_go_at_once,
	                           held_lines_wait_for_the_flush,
	                           a_full_hold_writes_whole_lines, holds_nest,
	                           a_hold_is_this_threads_only));
	dup2(saved, STDERR_FILENO);
	return rc;
}
