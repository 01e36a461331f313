/*
 * The MHD glue: route lookup on the first call of a request, body collection
 * on the middle calls, the handler on the last call (never the first: that
 * would close keep-alive connections, DECISIONS D4).
 *
 * Routes without a body that do not block (/auth, the ops routes) allocate
 * nothing: *con_cls holds a pointer to their static route row, and the
 * request struct lives on the stack of the last call. Routes with a body or
 * that block get a heap rvk_req_t, freed in the completion callback.
 *
 * Blocking routes are suspended (MHD_suspend_connection) and handed to the
 * waiter pool; when the handler is done the waiter resumes the connection,
 * MHD calls us again, and we queue the answer on the worker thread.
 *
 * Async routes (handler.h) run their handler here on the worker; it may
 * answer, send the rest to the waiter pool (rvk_req_block), or suspend the
 * request and hand it to the store writer (rvk_req_suspend), whose
 * completion resumes the connection; the finish function then builds the
 * answer here. For a revocation that is one hand-off each way instead of
 * two: at 64 clients the thread switches of the waiter hop were most of the
 * time (docs/BENCHMARKS.md).
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "api/handler.h"
#include "api/server.h"
#include "base/check.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rcu.h"

#define KIND_ROUTE RVK_ROUTE_KIND
#define KIND_REQ 0x52455155
#define WAITERS 32
#define CONN_LIMIT 4096
/* One address may hold at most a quarter of the connections: a slow or
 * idle client (MHD 0.9.75 times out only idle connections, so one that
 * dribbles a byte a second holds its slot) cannot take them all from the
 * gateway. A gateway's upstream pool is far below this. Several addresses
 * together still can: docs/SECURITY.md ("What remains unbounded"). */
#define CONN_PER_IP_LIMIT (CONN_LIMIT / 4)
/* MHD's per-connection pool holds the request line and headers, and MHD
 * zeroes all of it (memset) at the end of every request of a keep-alive
 * connection: a 64 KiB pool was 72% of the instructions of a cache hit
 * (callgrind, docs/BENCHMARKS.md) and evicts L1 each time. A listener
 * serving the admin API keeps 64 KiB (its cursors and ids ride in the URL;
 * a 40 KB cursor must get its 400, not MHD's 414). A public-only listener
 * (admin_listen set, the deployment REFERENCE §2 shows) gets a pool as small as
 * the largest token allows: a token over max_token_bytes plus the other
 * headers must still arrive whole, so that it gets its 401 "token too
 * large" (REFERENCE §3) rather than MHD's 431. */
#define CONN_MEMORY_ADMIN (64 * 1024)
#define CONN_MEMORY_MIN (16 * 1024)
#define CONN_TIMEOUT 30
/* Request bodies held in memory across all connections of one listener
 * (REFERENCE §8). Per listener: the admin listener, when separate, has a budget
 * of its own, so bodies on the public side can never 503 an operator. */
#define BODY_BUDGET ((size_t)128 << 20)

struct listener {
	rvk_server_t *srv;
	bool admin;
	bool serves_public;
	bool serves_admin;
	struct MHD_Daemon *d;
	unsigned port;
	size_t body_bytes;           /* atomic: bodies held, this listener's */
};

struct job {
	rvk_req_t *req;
	rvk_handler_fn fn;
	struct job *next;
};

struct rvk_server {
	rvk_app_t *app;
	struct listener pub, adm;
	pthread_t waiters[WAITERS];
	size_t nwaiters;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *head, *tail;
	bool stopping;
	size_t suspended;            /* atomic: connections suspended by us */
	size_t resuming;             /* atomic: rvk_req_resume calls running */
	bool draining;               /* atomic: stop suspending, answer 503 */
};

static const rvk_route_t not_found_route;

/*
 * Requests begun and not completed, counted per thread so that /auth writes
 * no cache line another worker writes: each worker adds on a request's
 * first call and subtracts in its completion callback (MHD runs both on the
 * connection's worker; should it not, the sum is still right). Only the
 * drain at shutdown reads the sum. Slots outlive their threads and are
 * shared by every server of the process (there is one in practice).
 */
struct inflight_slot {
	struct inflight_slot *next;
	int64_t n;
} __attribute__((aligned(64)));

static pthread_mutex_t slots_mu = PTHREAD_MUTEX_INITIALIZER;
static struct inflight_slot *slots;
static __thread struct inflight_slot *my_slot;

static void
inflight_add(int64_t d)
{
	struct inflight_slot *s = my_slot;
	if (__builtin_expect(!s, 0)) {
		if (posix_memalign((void **)&s, 64, sizeof(*s)) != 0)
			abort();
		*s = (struct inflight_slot){ 0 };
		pthread_mutex_lock(&slots_mu);
		s->next = slots;
		slots = s;
		pthread_mutex_unlock(&slots_mu);
		my_slot = s;
	}
	__atomic_store_n(&s->n, __atomic_load_n(&s->n, __ATOMIC_RELAXED) + d,
	                 __ATOMIC_RELAXED);
}

static int64_t
inflight_sum(void)
{
	int64_t sum = 0;
	pthread_mutex_lock(&slots_mu);
	for (struct inflight_slot *s = slots; s; s = s->next)
		sum += __atomic_load_n(&s->n, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&slots_mu);
	return sum;
}


static unsigned
method_bit(const char *m)
{
	if (strcmp(m, "GET") == 0)
		return RVK_M_GET;
	if (strcmp(m, "HEAD") == 0)
		return RVK_M_HEAD;
	if (strcmp(m, "POST") == 0)
		return RVK_M_POST;
	if (strcmp(m, "DELETE") == 0)
		return RVK_M_DELETE;
	if (strcmp(m, "PUT") == 0)
		return RVK_M_PUT;
	return 0x80; /* other methods: only routes taking any method */
}

static bool
path_matches(const rvk_route_t *r, const char *url)
{
	size_t n = strlen(r->path);
	if (strncmp(url, r->path, n) != 0)
		return false;
	if (url[n] == '\0')
		return true;
	return r->prefix && (url[n] == '/' || r->path[n - 1] == '/');
}

static const rvk_route_t *
find_route(const struct listener *l, const char *url)
{
	for (const rvk_route_t *r = rvk_routes; r->path; r++) {
		bool on = r->listener == RVK_ON_BOTH ||
		          (r->listener == RVK_ON_PUBLIC && l->serves_public) ||
		          (r->listener == RVK_ON_ADMIN && l->serves_admin);
		if (on && path_matches(r, url))
			return r;
	}
	return &not_found_route;
}

static void
handle_not_found(rvk_req_t *req)
{
	rvk_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found", "no such path");
}

static const rvk_route_t not_found_route = {
	.kind = KIND_ROUTE, .path = "", .methods = RVK_M_ANY,
	.listener = RVK_ON_BOTH, .metric = RVK_ROUTE_OPS, .handle = handle_not_found,
};

static enum MHD_Result
queue(rvk_req_t *req)
{
	if (!req->resp)
		rvk_reply_error(req, 500, "server_error", "no answer");
	enum MHD_Result r = MHD_queue_response(req->conn, req->status, req->resp);
	if (req->rcu_held) {
		rvk_rcu_read_unlock();
		req->rcu_held = false;
	}
	if (!req->resp_shared)
		MHD_destroy_response(req->resp);
	req->resp = NULL;
	rvk_metrics_request(req->route->metric, rvk_clock_mono_ns() - req->t0);
	return r;
}

static void
method_not_allowed(rvk_req_t *req)
{
	rvk_reply_error(req, MHD_HTTP_METHOD_NOT_ALLOWED, "invalid_request",
	                "method not allowed");
	char allow[64] = "";
	static const char *const names[] = { "GET", "HEAD", "POST", "DELETE", "PUT" };
	for (int i = 0; i < 5; i++) {
		if (req->route->methods & (1u << i)) {
			if (*allow)
				strcat(allow, ", ");
			strcat(allow, names[i]);
		}
	}
	MHD_add_response_header(req->resp, MHD_HTTP_HEADER_ALLOW, allow);
}

static void *
waiter_main(void *arg)
{
	rvk_server_t *srv = arg;
	for (;;) {
		pthread_mutex_lock(&srv->mu);
		while (!srv->head && !srv->stopping)
			pthread_cond_wait(&srv->cv, &srv->mu);
		struct job *j = srv->head;
		if (!j) {
			pthread_mutex_unlock(&srv->mu);
			return NULL;
		}
		srv->head = j->next;
		if (!srv->head)
			srv->tail = NULL;
		pthread_mutex_unlock(&srv->mu);

		rvk_req_t *req = j->req;
		rvk_handler_fn fn = j->fn;
		free(j);
		fn(req);
		__atomic_store_n(&req->done, true, __ATOMIC_RELEASE);
		MHD_resume_connection(req->conn);
	}
}

static void
enqueue(rvk_server_t *srv, rvk_req_t *req, rvk_handler_fn fn)
{
	struct job *j = rvk_malloc(sizeof(*j));
	j->req = req;
	j->fn = fn;
	j->next = NULL;
	pthread_mutex_lock(&srv->mu);
	if (srv->tail)
		srv->tail->next = j;
	else
		srv->head = j;
	srv->tail = j;
	pthread_cond_signal(&srv->cv);
	pthread_mutex_unlock(&srv->mu);
}

/* Marks req suspended (counted, so that stopping waits for it) and
 * suspends its connection; on the worker, inside on_request. */
static void
suspend(rvk_server_t *srv, rvk_req_t *req)
{
	req->suspended = true;
	__atomic_add_fetch(&srv->suspended, 1, __ATOMIC_ACQ_REL);
	MHD_suspend_connection(req->conn);
}

void
rvk_req_block(rvk_req_t *req, rvk_handler_fn fn)
{
	RVK_REQUIRE(req->route->async && fn && !req->resp && !req->later);
	req->later = fn;
}

void
rvk_req_suspend(rvk_req_t *req, rvk_handler_fn finish)
{
	RVK_REQUIRE(req->route->async && finish && !req->resp && !req->suspended);
	req->finish = finish;
	suspend(req->srv, req);
}

void
rvk_req_resume(rvk_req_t *req)
{
	rvk_server_t *srv = req->srv;
	struct MHD_Connection *conn = req->conn;
	/* The worker may answer and free req before MHD_resume_connection
	 * returns (it signals the daemon last), so stopping the daemon must
	 * also wait for resuming to fall to 0; raised before the request
	 * can complete, it is seen by whoever saw suspended reach 0. */
	__atomic_add_fetch(&srv->resuming, 1, __ATOMIC_SEQ_CST);
	/* The release pairs with on_request's acquire: what the resumer
	 * wrote into ctx is visible to finish. */
	__atomic_store_n(&req->done, true, __ATOMIC_RELEASE);
	MHD_resume_connection(conn);
	__atomic_sub_fetch(&srv->resuming, 1, __ATOMIC_SEQ_CST);
}

/* Runs req's finish once, if it has one. */
static void
finish(rvk_req_t *req)
{
	rvk_handler_fn fn = req->finish;
	req->finish = NULL;
	if (fn)
		fn(req);
}

static rvk_req_t *
new_req(struct listener *l, const rvk_route_t *route,
        struct MHD_Connection *conn, const char *url, const char *method)
{
	rvk_req_t *req = rvk_calloc(1, sizeof(*req));
	req->kind = KIND_REQ;
	req->route = route;
	req->conn = conn;
	req->app = l->srv->app;
	req->srv = l->srv;
	req->url = url;
	req->method = method;
	req->admin_listener = l->admin;
	req->t0 = rvk_clock_mono_ns();
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	                                             MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && route->max_body && strtoull(cl, NULL, 10) > route->max_body)
		req->body_too_large = true;
	return req;
}

static void
take_body(struct listener *l, rvk_req_t *req, const char *data, size_t n)
{
	if (req->body_too_large || req->over_budget)
		return;
	if (req->body_len + n > req->route->max_body) {
		req->body_too_large = true;
		return;
	}
	size_t need = req->body_len + n + 1;
	if (need > req->body_cap) {
		size_t cap = req->body_cap ? req->body_cap : 1024;
		while (cap < need)
			cap *= 2;
		if (cap > req->route->max_body + 1)
			cap = req->route->max_body + 1;
		size_t grow = cap - req->body_cap;
		size_t used = __atomic_add_fetch(&l->body_bytes, grow, __ATOMIC_RELAXED);
		char *p = used <= BODY_BUDGET ? rvk_tryrealloc(req->body, cap) : NULL;
		if (!p) {
			__atomic_sub_fetch(&l->body_bytes, grow, __ATOMIC_RELAXED);
			req->over_budget = true;
			return;
		}
		req->body = p;
		req->body_cap = cap;
	}
	memcpy(req->body + req->body_len, data, n);
	req->body_len += n;
	req->body[req->body_len] = '\0';
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
           const char *method, const char *version, const char *upload_data,
           size_t *upload_data_size, void **con_cls)
{
	(void)version;
	struct listener *l = cls;
	rvk_server_t *srv = l->srv;

	if (*con_cls == NULL) {
		inflight_add(1);
		const rvk_route_t *route = find_route(l, url);
		if (route->max_body == 0 && !route->blocking) {
			*con_cls = (void *)route;
			return MHD_YES;
		}
		*con_cls = new_req(l, route, conn, url, method);
		return MHD_YES;
	}

	if (*(int *)*con_cls == KIND_ROUTE) {
		if (*upload_data_size) {
			*upload_data_size = 0; /* bodies of these routes are ignored */
			return MHD_YES;
		}
		rvk_req_t req = {
			.kind = KIND_REQ, .route = *con_cls, .conn = conn,
			.app = srv->app, .method = method, .url = url,
			.admin_listener = l->admin, .t0 = rvk_clock_mono_ns(),
		};
		if (!(req.route->methods & method_bit(method)))
			method_not_allowed(&req);
		else
			req.route->handle(&req);
		return queue(&req);
	}

	rvk_req_t *req = *con_cls;
	RVK_REQUIRE(req->kind == KIND_REQ);
	if (*upload_data_size) {
		take_body(l, req, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (__atomic_load_n(&req->done, __ATOMIC_ACQUIRE)) {
		if (req->suspended) {
			req->suspended = false;
			__atomic_sub_fetch(&srv->suspended, 1, __ATOMIC_RELEASE);
		}
		finish(req);
		return queue(req);
	}
	if (!(req->route->methods & method_bit(method))) {
		method_not_allowed(req);
	} else if (req->body_too_large) {
		rvk_reply_error(req, MHD_HTTP_CONTENT_TOO_LARGE, "invalid_request",
		                "request body too large");
	} else if (req->over_budget) {
		rvk_metrics_body_budget_exhausted();
		rvk_reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "server_error",
		                "too many request bytes in flight");
	} else if (req->route->blocking &&
	           __atomic_load_n(&srv->draining, __ATOMIC_ACQUIRE)) {
		/* MHD aborts if it is stopped with a suspended connection, so
		 * once stopping began nothing new is suspended. */
		rvk_reply_failure(req, RVK_ESHUTDOWN);
	} else if (req->route->async) {
		if (!req->body)
			req->body = rvk_calloc(1, 1);
		req->route->handle(req);
		/* suspended and later are this thread's: a resumer writes
		 * only done, and MHD calls us again only after we return. */
		if (req->suspended)
			return MHD_YES;
		if (req->later) {
			suspend(srv, req);
			enqueue(srv, req, req->later);
			return MHD_YES;
		}
	} else if (req->route->blocking) {
		if (!req->body)
			req->body = rvk_calloc(1, 1);
		suspend(srv, req);
		enqueue(srv, req, req->route->handle);
		return MHD_YES;
	} else {
		if (!req->body)
			req->body = rvk_calloc(1, 1);
		req->route->handle(req);
	}
	return queue(req);
}

/* MHD's accept policy: once stopping began (draining), a new connection
 * is closed as soon as it is accepted, unanswered. This is how revokd
 * stops accepting, not MHD_quiesce_daemon: on an epoll daemon with a
 * worker pool, libmicrohttpd 0.9.75's quiesce races the workers' own
 * removal of the listen socket from their epoll sets and aborts the
 * process ("Failed to remove listen FD from epoll set"; DECISIONS D35).
 * One atomic load per connection, none per request. */
static enum MHD_Result
accepting(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	(void)addr;
	(void)addrlen;
	const struct listener *l = cls;
	return __atomic_load_n(&l->srv->draining, __ATOMIC_ACQUIRE) ? MHD_NO
	                                                            : MHD_YES;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
	(void)conn;
	(void)toe;
	struct listener *l = cls;
	if (!*con_cls)
		return;
	inflight_add(-1);
	if (*(int *)*con_cls != KIND_REQ)
		return;
	rvk_req_t *req = *con_cls;
	if (req->suspended) /* closed before its answer was queued */
		__atomic_sub_fetch(&l->srv->suspended, 1, __ATOMIC_RELEASE);
	/* Closed between the resume and the answer: finish still frees what
	 * the handler holds (and logs what was taken); the answer is dropped. */
	if (__atomic_load_n(&req->done, __ATOMIC_ACQUIRE))
		finish(req);
	if (req->body_cap)
		__atomic_sub_fetch(&l->body_bytes, req->body_cap, __ATOMIC_RELAXED);
	if (req->resp && !req->resp_shared)
		MHD_destroy_response(req->resp);
	free(req->body);
	free(req);
	*con_cls = NULL;
}

static rvk_result_t
start_listener(rvk_server_t *srv, struct listener *l, const char *addr,
               char *err, size_t errlen)
{
	char host[256];
	const char *colon = strrchr(addr, ':');
	size_t hn = (size_t)(colon - addr);
	if (hn >= sizeof(host))
		hn = sizeof(host) - 1;
	memcpy(host, addr, hn);
	host[hn] = '\0';
	char *h = host;
	if (h[0] == '[' && hn >= 2 && h[hn - 1] == ']') {
		h[hn - 1] = '\0';
		h++;
	}
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
	                          .ai_socktype = SOCK_STREAM }, *ai = NULL;
	int rc = getaddrinfo(*h ? h : NULL, colon + 1, &hints, &ai);
	if (rc != 0) {
		snprintf(err, errlen, "listen address \"%s\": %s", addr, gai_strerror(rc));
		return RVK_EINVAL;
	}
	int threads = srv->app->settings.threads;
	/* epoll with a worker pool, the fastest mode measured here. But with a
	 * single thread (no pool), libmicrohttpd 0.9.75's epoll loop stalls
	 * once more than ~100 connections arrive together (measured: 47k req/s
	 * at 64 wrk connections, 80 req/s at 128); poll() has no such cliff
	 * (43k req/s at 256), so one thread means poll. */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME |
	                 (threads > 1 ? MHD_USE_EPOLL : MHD_USE_POLL);
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* 1.5x: base64url of a token larger than the limit is still read
	 * whole; 8 KiB: the other headers, the response headers. */
	size_t conn_memory = srv->app->settings.max_token_bytes * 3 / 2 + 8192;
	if (conn_memory < CONN_MEMORY_MIN)
		conn_memory = CONN_MEMORY_MIN;
	if (l->serves_admin)
		conn_memory = CONN_MEMORY_ADMIN;
	l->srv = srv;
	l->d = MHD_start_daemon(flags, 0, accepting, l, on_request, l,
	                        MHD_OPTION_SOCK_ADDR, ai->ai_addr,
	                        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(threads > 1 ? threads : 0),
	                        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT,
	                        MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_LIMIT,
	                        MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	                        (unsigned)CONN_PER_IP_LIMIT,
	                        MHD_OPTION_CONNECTION_MEMORY_LIMIT, conn_memory,
	                        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
	                        MHD_OPTION_NOTIFY_COMPLETED, on_completed, l,
	                        MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!l->d) {
		snprintf(err, errlen, "cannot listen on %s (address in use or not local?)", addr);
		return RVK_EIO;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_BIND_PORT);
	l->port = info ? info->port : 0;
	return RVK_OK;
}

rvk_result_t
rvk_server_start(rvk_app_t *app, rvk_server_t **out, char *err, size_t errlen)
{
	rvk_server_t *srv = rvk_calloc(1, sizeof(*srv));
	srv->app = app;
	pthread_mutex_init(&srv->mu, NULL);
	pthread_cond_init(&srv->cv, NULL);
	for (size_t i = 0; i < WAITERS; i++) {
		if (pthread_create(&srv->waiters[i], NULL, waiter_main, srv) != 0)
			break;
		srv->nwaiters++;
	}
	const rvk_api_settings_t *set = &app->settings;
	srv->pub.serves_public = true;
	srv->pub.serves_admin = set->admin_listen == NULL;
	/* The admin listener first: once the public one answers /readyz, every
	 * listener must already accept connections. */
	rvk_result_t r = RVK_OK;
	if (set->admin_listen) {
		srv->adm.admin = true;
		srv->adm.serves_admin = true;
		r = start_listener(srv, &srv->adm, set->admin_listen, err, errlen);
	}
	if (r == RVK_OK)
		r = start_listener(srv, &srv->pub, set->listen, err, errlen);
	if (r != RVK_OK) {
		rvk_server_stop(srv);
		return r;
	}
	*out = srv;
	return RVK_OK;
}

void
rvk_server_stop(rvk_server_t *srv)
{
	if (!srv)
		return;
	/* Stop accepting first (accepting(): new connections are closed
	 * unanswered); MHD_stop_daemon then waits for its workers, whose
	 * suspended connections the waiters below still resume. */
	__atomic_store_n(&srv->draining, true, __ATOMIC_RELEASE);
	/* Let requests in flight finish, for at most 5 s (REFERENCE §6). */
	uint64_t deadline = rvk_clock_mono_ns() + 5000000000ull;
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	while (inflight_sum() > 0 &&
	       rvk_clock_mono_ns() < deadline)
		nanosleep(&tick, NULL);
	/* Keep-alive clients may keep requests in flight past that; but every
	 * suspended connection must be resumed and answered before MHD stops,
	 * and the waiters are still running to do it. */
	while (__atomic_load_n(&srv->suspended, __ATOMIC_SEQ_CST) > 0 ||
	       __atomic_load_n(&srv->resuming, __ATOMIC_SEQ_CST) > 0)
		nanosleep(&tick, NULL);
	pthread_mutex_lock(&srv->mu);
	srv->stopping = true;
	pthread_cond_broadcast(&srv->cv);
	pthread_mutex_unlock(&srv->mu);
	for (size_t i = 0; i < srv->nwaiters; i++)
		pthread_join(srv->waiters[i], NULL);
	if (srv->pub.d)
		MHD_stop_daemon(srv->pub.d);
	if (srv->adm.d)
		MHD_stop_daemon(srv->adm.d);
	pthread_mutex_destroy(&srv->mu);
	pthread_cond_destroy(&srv->cv);
	free(srv);
}

unsigned
rvk_server_port(const rvk_server_t *srv, int admin)
{
	return admin ? srv->adm.port : srv->pub.port;
}
