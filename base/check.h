/*
 * check.h - always-on preconditions.
 *
 * RVK_REQUIRE(cond) states a precondition written in a header's `Requires:`.
 * It is checked in every build (release included): a broken invariant in a
 * security component must stop the process, not let a token through.
 * RVK_UNREACHABLE() marks code that must never run.
 *
 * For conditions a peer can cause, do not use these: return RVK_EINVAL.
 */
#ifndef RVK_BASE_CHECK_H
#define RVK_BASE_CHECK_H

#include <stdnoreturn.h>

noreturn void rvk_check_failed(const char *file, int line, const char *func,
                               const char *what);

#define RVK_REQUIRE(cond)                                                     \
	do {                                                                  \
		if (__builtin_expect(!(cond), 0))                             \
			rvk_check_failed(__FILE__, __LINE__, __func__, #cond);  \
	} while (0)

#define RVK_UNREACHABLE()                                                     \
	rvk_check_failed(__FILE__, __LINE__, __func__, "unreachable")

#define RVK_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
