/*
 * redis_url.h - the cluster's redis.url setting (REFERENCE §2).
 *
 * Threads: pure functions. Ownership: a parsed URL owns its strings.
 */
#ifndef RVK_STORE_REDIS_URL_H
#define RVK_STORE_REDIS_URL_H

#include <stdbool.h>
#include <stddef.h>

#include "base/result.h"

typedef struct rvk_redis_url {
	char *host;
	int port;               /* default 6379 */
	char *user;             /* NULL: AUTH <password> */
	char *password;         /* NULL: no AUTH */
	int db;                 /* default 0 */
	bool tls;               /* rediss:// */
} rvk_redis_url_t;

/*
 * Parses redis[s]://[user@ | [user]:password@]host[:port][/db] (user and
 * password may be %-encoded; rediss:// is TLS, same default port 6379).
 * A user without a password is parsed (password NULL): the password comes
 * from elsewhere (store/replica.h refuses it when none does).
 * Returns: RVK_OK and *out (owned: rvk_redis_url_fini); RVK_EINVAL with err.
 */
rvk_result_t rvk_redis_url_parse(const char *url, rvk_redis_url_t *out,
                                 char *err, size_t errlen);
void rvk_redis_url_fini(rvk_redis_url_t *u);

#endif
