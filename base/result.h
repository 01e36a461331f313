/*
 * result.h - one result code for "could not answer" across revokd.
 *
 * A verdict ("revoked", "bad signature") is never an rvk_result_t: verdicts
 * are data (see reason.h). A result says whether a function could do its job;
 * out-parameters are written only when it returns RVK_OK.
 *
 * Threads: all functions are pure and thread-safe.
 */
#ifndef RVK_BASE_RESULT_H
#define RVK_BASE_RESULT_H

typedef enum rvk_result {
	RVK_OK = 0,
	RVK_ENOMEM,     /* a peer-sized allocation failed (rvk_trymalloc) */
	RVK_EINVAL,     /* the input is malformed; nothing was changed */
	RVK_ENOTFOUND,  /* the thing asked for does not exist */
	RVK_EEXIST,     /* the thing to create already exists */
	RVK_EIO,        /* disk, database or network failure */
	RVK_EBUSY,      /* over a limit; retry later */
	RVK_ETIMEOUT,   /* a deadline passed */
	RVK_ESHUTDOWN,  /* the component is stopping */
	RVK_EPERM,      /* not allowed (permissions, read-only data dir) */
	RVK_RESULT_COUNT
} rvk_result_t;

/* Returns: a static lower-case description ("out of memory"). Never NULL. */
const char *rvk_result_str(rvk_result_t r);

#endif
