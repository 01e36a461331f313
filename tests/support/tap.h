/*
 * tap.h - a small test harness that speaks TAP, so meson counts every case.
 *
 *   TAP_TEST(parses_rs256) { TAP_CHECK(x == 1); TAP_CHECK_STR(a, "b"); }
 *   int main(void) { return tap_main(TAP_LIST(parses_rs256, ...)); }
 *
 * A failed check prints a diagnostic and marks the case failed; the case
 * goes on, so one run shows every broken expectation.
 */
#ifndef RVK_TESTS_TAP_H
#define RVK_TESTS_TAP_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct tap_case {
	const char *name;
	void (*fn)(void);
} tap_case_t;

extern int tap_failed_checks;

#define TAP_TEST(name) static void name(void)

#define TAP_FAIL_AT(fmt, ...)                                                 \
	do {                                                                  \
		tap_failed_checks++;                                          \
		printf("# %s:%d: " fmt "\n", __FILE__, __LINE__, __VA_ARGS__); \
	} while (0)

#define TAP_CHECK(cond)                                                       \
	do {                                                                  \
		if (!(cond))                                                  \
			TAP_FAIL_AT("check failed: %s", #cond);               \
	} while (0)

#define TAP_CHECK_INT(a, b)                                                   \
	do {                                                                  \
		long long va_ = (long long)(a), vb_ = (long long)(b);         \
		if (va_ != vb_)                                               \
			TAP_FAIL_AT("%s == %lld, expected %s == %lld", #a, va_, #b, vb_); \
	} while (0)

#define TAP_CHECK_STR(a, b)                                                   \
	do {                                                                  \
		const char *sa_ = (a), *sb_ = (b);                            \
		if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0)                    \
			TAP_FAIL_AT("%s == \"%s\", expected \"%s\"", #a,       \
			            sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)"); \
	} while (0)

#define TAP_LIST(...) ((const char *)#__VA_ARGS__), (void (*[])(void)){ __VA_ARGS__ }, \
	sizeof((void (*[])(void)){ __VA_ARGS__ }) / sizeof(void (*)(void))

int tap_run(const char *names, void (*const *fns)(void), size_t n);
#define tap_main(list) tap_run(list)

#endif
