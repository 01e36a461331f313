/*
 * Cluster mode: the replica object, its life cycle and the Redis
 * connections its two threads share the code for (store/replica.h). The
 * stream publisher is in store/stream_publisher.c, the stream consumer in
 * store/stream_consumer.c.
 *
 * Connections (store/redis_conn.h, plain or TLS): RESP2 only (DECISIONS D9); any failure
 * leaves the connection dead, so the thread frees it and connects afresh
 * after a back-off; the blocking reader has its own connection with a
 * socket timeout (10 s) longer than BLOCK (5 s). Every connect runs AUTH,
 * SELECT and INFO server (Redis 6.2 or later: XADD MINID); why the last
 * connect failed is kept for /readyz.
 * Stopping: rvk_replica_stop shuts the sockets down under mu, which makes a
 * blocked read return at once.
 */
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "base/check.h"
#include "base/clock.h"
#include "base/fault.h"
#include "base/log.h"
#include "base/mem.h"
#include "store/outbox.h"
#include "store/replica_entry.h"
#include "store/replica_impl.h"

const char *
rvk_replica_state_name(rvk_replica_state_t s)
{
	switch (s) {
	case RVK_REPL_CONNECTING: return "connecting";
	case RVK_REPL_CATCHING_UP: return "catching up";
	case RVK_REPL_CONNECTED: return "connected";
	case RVK_REPL_DEGRADED: return "degraded";
	}
	return "?";
}

/* ---- shared by both threads --------------------------------------------- */

int64_t
rvk_repl_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps up to ms unless stopping. Returns: !stopping. */
bool
rvk_repl_nap(rvk_replica_t *rep, int64_t ms, bool kickable)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&rep->mu);
	while (!rep->stopping && !(kickable && rep->kicked)) {
		if (pthread_cond_timedwait(&rep->cv, &rep->mu, &ts) == ETIMEDOUT)
			break;
	}
	if (kickable)
		rep->kicked = false;
	bool go = !rep->stopping;
	pthread_mutex_unlock(&rep->mu);
	return go;
}

bool
rvk_repl_stopping(rvk_replica_t *rep)
{
	pthread_mutex_lock(&rep->mu);
	bool s = rep->stopping;
	pthread_mutex_unlock(&rep->mu);
	return s;
}

redisReply *
rvk_repl_command_ok(rvk_redis_conn_t *c, const char *what, redisReply *r)
{
	/* Fault point "redis" (base/fault.h): the Nth command is taken as a
	 * lost connection, the failure every caller already handles. */
	if (r && RVK_FAULT("redis")) {
		rvk_log(RVK_LOG_WARN, "redis connection lost", "during", what,
		        "error", "injected fault", NULL);
		freeReplyObject(r);
		return NULL;
	}
	if (!r) {
		rvk_log(RVK_LOG_WARN, "redis connection lost", "during", what,
		        "error", rvk_redis_conn_error(c), NULL);
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		rvk_log(RVK_LOG_ERROR, "redis refused a command", "command", what,
		        "error", r->str, NULL);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

/* Keeps why the last connect failed, for /readyz ("" clears it). */
static void
set_last_error(rvk_replica_t *rep, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
set_last_error(rvk_replica_t *rep, const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&rep->mu);
	va_start(ap, fmt);
	vsnprintf(rep->last_error, sizeof(rep->last_error), fmt, ap);
	va_end(ap);
	if (rep->last_error[0])
		rep->connect_failures++;
	pthread_mutex_unlock(&rep->mu);
}

void
rvk_repl_count_rejected(rvk_replica_t *rep)
{
	pthread_mutex_lock(&rep->mu);
	rep->rejected++;
	pthread_mutex_unlock(&rep->mu);
}

/*
 * A command of the connect sequence (AUTH, SELECT, INFO). Returns: the
 * reply, or NULL with last_error set (and logged).
 */
static redisReply *
setup_command(rvk_replica_t *rep, rvk_redis_conn_t *c, const char *what,
              redisReply *r)
{
	char why[200] = "connection lost: injected fault";
	if (!r)
		snprintf(why, sizeof(why), "connection lost: %s",
		         rvk_redis_conn_error(c));
	else if (r->type == REDIS_REPLY_ERROR)
		snprintf(why, sizeof(why), "refused: %.170s", r->str);
	/* Logged as every other command's failure is. */
	redisReply *ok = rvk_repl_command_ok(c, what, r);
	if (!ok)
		set_last_error(rep, "redis %s: %s", what, why);
	return ok;
}

/* INFO server: refuses a Redis older than 6.2 (XADD MINID). */
static bool
check_version(rvk_replica_t *rep, rvk_redis_conn_t *c)
{
	redisReply *r = setup_command(rep, c, "INFO",
	                              rvk_redis_conn_command(c, "INFO server"));
	if (!r)
		return false;
	int ma = 0, mi = 0;
	bool ok = (r->type == REDIS_REPLY_STRING
	           || r->type == REDIS_REPLY_STATUS)
	          && rvk_repl_info_version(r->str, r->len, &ma, &mi);
	freeReplyObject(r);
	if (!ok) {
		set_last_error(rep, "redis answered INFO without a "
		               "redis_version");
	} else if (ma < RVK_REPL_MIN_MAJOR
	           || (ma == RVK_REPL_MIN_MAJOR && mi < RVK_REPL_MIN_MINOR)) {
		set_last_error(rep, "redis %d.%d is too old: revokd needs "
		               "%d.%d or later (XADD MINID)", ma, mi,
		               RVK_REPL_MIN_MAJOR, RVK_REPL_MIN_MINOR);
		ok = false;
	}
	if (!ok)
		rvk_log(RVK_LOG_ERROR, "cannot use redis", "error",
		        rep->last_error, NULL);
	return ok;
}

/*
 * Asks the sentinels, in order, for the master's address (SENTINEL
 * get-master-addr-by-name). Returns: true and host (owned), *port; false
 * with last_error set when none answered with one.
 */
static bool
ask_sentinels(rvk_replica_t *rep, char **host, int *port)
{
	char why[256] = "no sentinel";
	for (size_t i = 0; i < rep->n_sentinels; i++) {
		rvk_redis_conn_t *c = NULL;
		const char *sh = rep->sentinel_hosts[i];
		char sp[16];
		snprintf(sp, sizeof(sp), "%d", rep->sentinel_ports[i]);
		if (rvk_redis_conn_open(sh, rep->sentinel_ports[i], rep->tls, NULL,
		                        CONNECT_TIMEOUT_MS, PUBLISH_TIMEOUT_S, &c, why,
		                        sizeof(why)) != RVK_OK) {
			rvk_log(RVK_LOG_WARN, "cannot connect to a sentinel", "host",
			        sh, "port", sp, "error", why, NULL);
			continue;
		}
		redisReply *r = NULL;
		if (rep->sentinel_password) {
			r = rvk_redis_conn_command(c, "AUTH %s", rep->sentinel_password);
			bool ok = r && r->type != REDIS_REPLY_ERROR;
			snprintf(why, sizeof(why), "sentinel AUTH: %s",
			         !r ? rvk_redis_conn_error(c) : ok ? "ok" : r->str);
			if (r)
				freeReplyObject(r);
			if (!ok) {
				rvk_log(RVK_LOG_WARN, "a sentinel refused us", "host",
				        sh, "port", sp, "error", why, NULL);
				rvk_redis_conn_free(c);
				continue;
			}
		}
		r = rvk_redis_conn_command(c, "SENTINEL get-master-addr-by-name %s",
		                           rep->sentinel_master);
		long p = 0;
		if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2
		    && r->element[0]->type == REDIS_REPLY_STRING
		    && r->element[1]->type == REDIS_REPLY_STRING
		    && r->element[0]->len > 0 && r->element[0]->len < 256) {
			char *e;
			p = strtol(r->element[1]->str, &e, 10);
			if (*e || p < 1 || p > 65535)
				p = 0;
		}
		if (p) {
			*host = rvk_strdup(r->element[0]->str);
			*port = (int)p;
			freeReplyObject(r);
			rvk_redis_conn_free(c);
			return true;
		}
		snprintf(why, sizeof(why), "sentinel %s:%s does not know master "
		         "%.64s%s%.100s", sh, sp, rep->sentinel_master,
		         r && r->type == REDIS_REPLY_ERROR ? ": " : "",
		         r && r->type == REDIS_REPLY_ERROR ? r->str
		         : !r ? rvk_redis_conn_error(c) : "");
		rvk_log(RVK_LOG_WARN, "a sentinel gave no master", "error", why,
		        NULL);
		if (r)
			freeReplyObject(r);
		rvk_redis_conn_free(c);
	}
	set_last_error(rep, "no sentinel gave the master of %.64s (last: %.150s)",
	               rep->sentinel_master, why);
	return false;
}

/* With Sentinel: the server must be the master (ROLE), not a demoted
 * one a stale sentinel still names. */
static bool
check_master(rvk_replica_t *rep, rvk_redis_conn_t *c)
{
	redisReply *r = setup_command(rep, c, "ROLE",
	                              rvk_redis_conn_command(c, "ROLE"));
	if (!r)
		return false;
	bool ok = r->type == REDIS_REPLY_ARRAY && r->elements >= 1
	          && r->element[0]->type == REDIS_REPLY_STRING
	          && strcmp(r->element[0]->str, "master") == 0;
	freeReplyObject(r);
	if (!ok) {
		set_last_error(rep, "the server the sentinels named is not a "
		               "master (a failover in progress?)");
		rvk_log(RVK_LOG_WARN, "cannot use redis", "error",
		        rep->last_error, NULL);
	}
	return ok;
}

rvk_redis_conn_t *
rvk_repl_connect(rvk_replica_t *rep, int timeout_s)
{
	rvk_redis_conn_t *c = NULL;
	char why[256];
	char *host = rep->url.host;
	int port_n = rep->url.port;
	if (rep->sentinel_master && !ask_sentinels(rep, &host, &port_n))
		return NULL;
	char port[16];
	snprintf(port, sizeof(port), "%d", port_n);
	rvk_result_t orc = rvk_redis_conn_open(host, port_n, rep->tls,
	                                       rep->server_name,
	                                       CONNECT_TIMEOUT_MS, timeout_s,
	                                       &c, why, sizeof(why));
	if (orc != RVK_OK) {
		rvk_log(RVK_LOG_WARN, "cannot connect to redis", "host", host,
		        "port", port, "tls", rep->tls ? "yes" : "no", "error", why,
		        NULL);
		set_last_error(rep, "cannot connect to redis %s:%s: %s", host,
		               port, why);
	}
	if (host != rep->url.host)
		free(host);
	if (orc != RVK_OK)
		return NULL;
	redisReply *r = NULL;
	if (rep->url.password) {
		if (rep->url.user)
			r = rvk_redis_conn_command(c, "AUTH %s %s", rep->url.user,
			                           rep->url.password);
		else
			r = rvk_redis_conn_command(c, "AUTH %s",
			                           rep->url.password);
		if (!(r = setup_command(rep, c, "AUTH", r)))
			goto cleanup;
		freeReplyObject(r);
	}
	if (rep->url.db) {
		if (!(r = setup_command(rep, c, "SELECT",
		                        rvk_redis_conn_command(c, "SELECT %d",
		                                               rep->url.db))))
			goto cleanup;
		freeReplyObject(r);
	}
	if (!check_version(rep, c))
		goto cleanup;
	if (rep->sentinel_master && !check_master(rep, c))
		goto cleanup;
	set_last_error(rep, "%s", "");
	return c;
cleanup:
	rvk_redis_conn_free(c);
	return NULL;
}

/* Publishes ctx under mu (for stop), or refuses when stopping. */
bool
rvk_repl_set_ctx(rvk_replica_t *rep, rvk_redis_conn_t **slot,
                 rvk_redis_conn_t *c)
{
	pthread_mutex_lock(&rep->mu);
	bool ok = !rep->stopping || !c;
	if (ok)
		*slot = c;
	if (c && ok)
		rep->ever_connected = true;
	pthread_mutex_unlock(&rep->mu);
	return ok;
}

void
rvk_repl_drop_ctx(rvk_replica_t *rep, rvk_redis_conn_t **slot)
{
	pthread_mutex_lock(&rep->mu);
	rvk_redis_conn_t *c = *slot;
	*slot = NULL;
	if (slot == &rep->consumer_ctx)
		rep->at_head = false;
	pthread_mutex_unlock(&rep->mu);
	rvk_redis_conn_free(c);
}

/* ---- lifecycle ---------------------------------------------------------- */

rvk_result_t
rvk_replica_new(const rvk_replica_opts_t *opts, rvk_replica_t **out,
                char *err, size_t errlen)
{
	RVK_REQUIRE(opts && opts->url && opts->stream && out && err);
	rvk_redis_url_t url;
	char why[300];
	if (rvk_redis_url_parse(opts->url, &url, why, sizeof(why)) != RVK_OK) {
		snprintf(err, errlen, "redis.url: %s", why);
		return RVK_EINVAL;
	}
	if (opts->password && opts->password[0]) {
		if (url.password) {
			rvk_memzero(url.password, strlen(url.password));
			free(url.password);
		}
		url.password = rvk_strdup(opts->password);
	}
	if (url.user && !url.password) {
		/* redis://secret@host is a common slip for :secret@host:
		 * a user without a password is refused, not guessed at. */
		snprintf(err, errlen, "redis.url names a user but no password "
		         "is given (user:password@, password_file or "
		         "REVOKD_REDIS_PASSWORD)");
		rvk_redis_url_fini(&url);
		return RVK_EINVAL;
	}
	SSL_CTX *tls = NULL;
	if (url.tls && rvk_redis_tls_new(&opts->tls, &tls, why, sizeof(why))
	               != RVK_OK) {
		snprintf(err, errlen, "redis.%s", why);
		rvk_redis_url_fini(&url);
		return RVK_EINVAL;
	}
	rvk_replica_t *rep = rvk_calloc(1, sizeof(*rep));
	if (opts->sentinel_master) {
		RVK_REQUIRE(opts->n_sentinel_addrs > 0 && opts->sentinel_addrs);
		rep->sentinel_master = rvk_strdup(opts->sentinel_master);
		rep->n_sentinels = opts->n_sentinel_addrs;
		rep->sentinel_hosts = rvk_calloc(rep->n_sentinels, sizeof(char *));
		rep->sentinel_ports = rvk_calloc(rep->n_sentinels, sizeof(int));
		for (size_t i = 0; i < rep->n_sentinels; i++) {
			const char *a = opts->sentinel_addrs[i];
			const char *colon = strrchr(a, ':');
			RVK_REQUIRE(colon && colon > a);
			/* [v6]:port */
			if (a[0] == '[' && colon[-1] == ']')
				rep->sentinel_hosts[i] = rvk_strndup(a + 1, (size_t)(colon - a - 2));
			else
				rep->sentinel_hosts[i] = rvk_strndup(a, (size_t)(colon - a));
			rep->sentinel_ports[i] = atoi(colon + 1);
		}
		if (opts->sentinel_password && opts->sentinel_password[0])
			rep->sentinel_password = rvk_strdup(opts->sentinel_password);
	}
	rep->opts = *opts;
	rep->opts.url = NULL;
	rep->opts.sentinel_master = NULL;
	rep->opts.sentinel_addrs = NULL;
	rep->opts.sentinel_password = NULL;
	rep->opts.password = NULL;
	rep->opts.tls = (rvk_redis_tls_opts_t){ 0 };
	rep->opts.server_name = NULL;
	rep->opts.stream = rvk_strdup(opts->stream);
	rep->url = url;
	rep->tls = tls;
	if (opts->server_name)
		rep->server_name = rvk_strdup(opts->server_name);
	size_t kl = strlen(opts->stream) + sizeof(":keys");
	rep->keys = rvk_malloc(kl);
	snprintf(rep->keys, kl, "%s:keys", opts->stream);
	pthread_mutex_init(&rep->mu, NULL);
	pthread_cond_init(&rep->cv, NULL);
	*out = rep;
	return RVK_OK;
}

/* The node ID: random, kept in meta so a restart is still "us". */
static rvk_result_t
node_id(rvk_replica_t *rep, char *err, size_t errlen)
{
	char *v = NULL;
	rvk_result_t r = rvk_store_meta_get(rep->store, RVK_STORE_META_NODE, &v);
	if (r == RVK_OK) {
		snprintf(rep->node, sizeof(rep->node), "%s", v);
		free(v);
		return RVK_OK;
	}
	if (r != RVK_ENOTFOUND) {
		snprintf(err, errlen, "replication: cannot read the node id");
		return r;
	}
	unsigned char b[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, b, sizeof(b)) != (ssize_t)sizeof(b)) {
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "replication: no randomness for a node id");
		return RVK_EIO;
	}
	close(fd);
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(rep->node + 2 * i, 3, "%02x", b[i]);
	if (rvk_store_meta_set(rep->store, RVK_STORE_META_NODE, rep->node)
	    != RVK_OK) {
		snprintf(err, errlen, "replication: cannot save the node id");
		return RVK_EIO;
	}
	return RVK_OK;
}

rvk_result_t
rvk_replica_start(rvk_replica_t *rep, rvk_store_t *store, char *err,
                  size_t errlen)
{
	RVK_REQUIRE(rep && store && !rep->store);
	rep->store = store;
	rvk_result_t r = node_id(rep, err, errlen);
	if (r != RVK_OK)
		return r;
	rvk_store_set_node(store, rep->node);
	int rc = pthread_create(&rep->publisher, NULL, rvk_stream_publisher_main, rep);
	if (rc == 0) {
		rep->publisher_running = true;
		rc = pthread_create(&rep->consumer, NULL, rvk_stream_consumer_main, rep);
		rep->consumer_running = rc == 0;
	}
	if (rc != 0) {
		snprintf(err, errlen, "replication: cannot start a thread: %s",
		         strerror(rc));
		return RVK_EIO;
	}
	char port[16];
	snprintf(port, sizeof(port), "%d", rep->url.port);
	rvk_log(RVK_LOG_INFO, "cluster mode", "redis", rep->url.host, "port",
	        port, "tls", rep->tls ? "yes" : "no", "sentinel",
	        rep->sentinel_master ? rep->sentinel_master : "(none)", "stream", rep->opts.stream, "node", rep->node, NULL);
	return RVK_OK;
}

void
rvk_replica_kick(void *arg)
{
	rvk_replica_t *rep = arg;
	pthread_mutex_lock(&rep->mu);
	rep->kicked = true;
	pthread_cond_broadcast(&rep->cv);
	pthread_mutex_unlock(&rep->mu);
}

/* The outbox rows of store not yet in Redis: its depth less the rows
 * Redis accepted that the publisher has not acked yet (rep->unacked).
 * Returns: RVK_OK and *waiting; RVK_EIO. */
static rvk_result_t
outbox_waiting(rvk_replica_t *rep, rvk_store_t *store,
               size_t *waiting)
{
	size_t depth = 0;
	rvk_result_t r = rvk_store_outbox_depth(store, &depth);
	if (r != RVK_OK)
		return r;
	pthread_mutex_lock(&rep->mu);
	size_t unacked = rep->unacked;
	pthread_mutex_unlock(&rep->mu);
	/* What Redis accepted is not waiting, though not acked yet. */
	*waiting = depth - (depth < unacked ? depth : unacked);
	return RVK_OK;
}

void
rvk_replica_status(rvk_replica_t *rep, rvk_replica_status_t *out)
{
	RVK_REQUIRE(rep && out);
	memset(out, 0, sizeof(*out));
	int64_t now = rvk_repl_wall_ms();
	pthread_mutex_lock(&rep->mu);
	bool up = rep->publisher_ctx && rep->consumer_ctx;
	if (!rep->ever_connected)
		out->state = RVK_REPL_CONNECTING;
	else if (!rep->caught_up)
		out->state = RVK_REPL_CATCHING_UP;
	else
		out->state = up ? RVK_REPL_CONNECTED : RVK_REPL_DEGRADED;
	out->ready = rep->ever_connected && rep->caught_up;
	/* At the head and connected: no lag. Otherwise the age of what we
	 * last applied, or of the last moment we knew we were at the head. */
	if (rep->at_head && rep->consumer_ctx)
		out->lag_seconds = 0;
	else if (rep->at_head_ms)
		out->lag_seconds = (double)(now - rep->at_head_ms) / 1000.0;
	else if (rep->pos_ms)
		out->lag_seconds = (double)(now - rep->pos_ms) / 1000.0;
	out->applied = rep->applied;
	out->published = rep->published;
	out->rejected = rep->rejected;
	out->connect_failures = rep->connect_failures;
	out->rounds = rep->rounds;
	out->skipped = rep->skipped;
	out->republished = rep->republished;
	snprintf(out->error, sizeof(out->error), "%s", rep->last_error);
	rvk_store_t *store = rep->store;
	pthread_mutex_unlock(&rep->mu);
	if (store)
		outbox_waiting(rep, store, &out->outbox);
}

void
rvk_replica_stop(rvk_replica_t *rep)
{
	if (!rep)
		return;
	pthread_mutex_lock(&rep->mu);
	rep->stopping = true;
	/* A blocked XREAD (or XADD) returns at once; its thread then sees
	 * stopping. The contexts stay owned by their threads. */
	rvk_redis_conn_shutdown(rep->publisher_ctx);
	rvk_redis_conn_shutdown(rep->consumer_ctx);
	pthread_cond_broadcast(&rep->cv);
	pthread_mutex_unlock(&rep->mu);
	if (rep->publisher_running)
		pthread_join(rep->publisher, NULL);
	if (rep->consumer_running)
		pthread_join(rep->consumer, NULL);
	rep->publisher_running = rep->consumer_running = false;
}

void
rvk_replica_free(rvk_replica_t *rep)
{
	if (!rep)
		return;
	RVK_REQUIRE(!rep->publisher_running && !rep->consumer_running);
	rvk_redis_url_fini(&rep->url);
	SSL_CTX_free(rep->tls);
	free(rep->server_name);
	free(rep->sentinel_master);
	for (size_t i = 0; i < rep->n_sentinels; i++)
		free(rep->sentinel_hosts[i]);
	free(rep->sentinel_hosts);
	free(rep->sentinel_ports);
	if (rep->sentinel_password) {
		rvk_memzero(rep->sentinel_password, strlen(rep->sentinel_password));
		free(rep->sentinel_password);
	}
	free((char *)rep->opts.stream);
	free(rep->keys);
	pthread_cond_destroy(&rep->cv);
	pthread_mutex_destroy(&rep->mu);
	free(rep);
}
