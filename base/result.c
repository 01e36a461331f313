#include "base/result.h"

static const char *const names[RVK_RESULT_COUNT] = {
	[RVK_OK] = "ok",
	[RVK_ENOMEM] = "out of memory",
	[RVK_EINVAL] = "invalid input",
	[RVK_ENOTFOUND] = "not found",
	[RVK_EEXIST] = "already exists",
	[RVK_EIO] = "input/output error",
	[RVK_EBUSY] = "busy",
	[RVK_ETIMEOUT] = "timed out",
	[RVK_ESHUTDOWN] = "shutting down",
	[RVK_EPERM] = "permission denied",
};

const char *
rvk_result_str(rvk_result_t r)
{
	if ((unsigned)r >= RVK_RESULT_COUNT)
		return "unknown result";
	return names[r];
}
