/*
 * handler.h - what a route handler sees and how it answers.
 *
 * A handler reads the request (method, path, headers through MHD, the body)
 * and answers by setting status and resp. resp is destroyed after queueing
 * unless resp_shared is set (prepared responses that live in the app or in a
 * verified-cache entry). Handlers never call MHD_queue_response themselves.
 *
 * Threads: a handler runs on an MHD worker thread, or on a waiter thread
 * when its route is `blocking` (and not `async`); one request is never
 * handled on two threads at once.
 *
 * An `async` route (also `blocking`: it is refused with 503 while the server
 * drains) runs its handler on the MHD worker, which must not block. The
 * handler answers at once, or hands the rest to a waiter thread
 * (rvk_req_block), or suspends the request (rvk_req_suspend), gives it to a
 * thread that will not block the worker (the store writer, through
 * rvk_store_record_async) and returns; that thread calls rvk_req_resume,
 * and the finish function then builds the answer back on the worker. One
 * thread hop each way instead of two (worker -> waiter -> writer and back).
 */
#ifndef RVK_API_HANDLER_H
#define RVK_API_HANDLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "api/app.h"
#include "api/metrics.h"

struct rvk_server;

typedef struct rvk_req {
	int kind;                        /* internal: request vs route marker */
	const struct rvk_route *route;
	struct MHD_Connection *conn;
	rvk_app_t *app;
	const char *method;
	const char *url;                 /* path only, already percent-decoded by MHD */
	bool admin_listener;
	char *body;                      /* NUL-terminated, may contain NULs */
	size_t body_len;
	/* The answer. */
	unsigned status;
	struct MHD_Response *resp;
	bool resp_shared;
	/* Set when resp lives in an RCU-protected object (a verified-cache
	 * entry): the handler returns inside an RCU read section and the
	 * dispatcher leaves it after MHD took its own reference (queueing). */
	bool rcu_held;
	/* internal */
	size_t body_cap;
	bool body_too_large, over_budget, done;
	bool suspended;                  /* counted in the server's suspended */
	uint64_t t0;
	struct rvk_server *srv;
	/* Async routes: what runs after the resume (rvk_req_suspend), what
	 * runs on a waiter (rvk_req_block), and the handler's own state. */
	void (*finish)(struct rvk_req *req);
	void (*later)(struct rvk_req *req);
	void *ctx;
} rvk_req_t;

typedef void (*rvk_handler_fn)(rvk_req_t *req);

/* The first int of a route row: tells a route marker from a request. */
#define RVK_ROUTE_KIND 0x52544552

enum {
	RVK_M_GET = 1, RVK_M_HEAD = 2, RVK_M_POST = 4, RVK_M_DELETE = 8,
	RVK_M_PUT = 16, RVK_M_ANY = 0xff,
};

typedef struct rvk_route {
	int kind;                        /* internal marker, keep first */
	const char *path;
	bool prefix;                     /* path matches itself and path + "/..." */
	unsigned methods;
	enum { RVK_ON_PUBLIC, RVK_ON_ADMIN, RVK_ON_BOTH } listener;
	size_t max_body;                 /* 0: the body is read and discarded */
	bool blocking;
	rvk_route_id_t metric;
	rvk_handler_fn handle;
	bool async;                      /* handle runs on the worker (above) */
} rvk_route_t;

/*
 * In the handler of an `async` route, which has not answered: after the
 * handler returns, fn(req) runs on a waiter thread as for a `blocking`
 * route (it may wait for the store), and its answer is sent.
 */
void rvk_req_block(rvk_req_t *req, rvk_handler_fn fn);

/*
 * In the handler of an `async` route, which has not answered: suspends the
 * connection. Call it before handing req to the thread that will call
 * rvk_req_resume, then return without answering. After the resume,
 * finish(req) runs on the worker and sets the answer; it also runs (its
 * answer dropped) if the client went away, so it is where ctx is freed.
 * Requires: finish not NULL.
 */
void rvk_req_suspend(rvk_req_t *req, rvk_handler_fn finish);

/* Threads: any, exactly once per rvk_req_suspend; req must not be touched
 * by the caller afterwards (the worker may already be finishing it). */
void rvk_req_resume(rvk_req_t *req);

/* The route table, ended by a row with path NULL (routes.c). */
extern const rvk_route_t rvk_routes[];

/* Answer helpers (respond.c). The JSON bodies carry
 * Content-Type: application/json. */
void rvk_reply_json(rvk_req_t *req, unsigned status, const char *json);
/* {"error":"<error>","error_description":"<desc>"}; desc may be NULL. */
void rvk_reply_error(rvk_req_t *req, unsigned status, const char *error,
                     const char *desc);
void rvk_reply_text(rvk_req_t *req, unsigned status, const char *ctype,
                    const char *text, size_t len);
void rvk_reply_empty(rvk_req_t *req, unsigned status);
/* The answer to a failure result (rvk_rules_failure, api/rules.h: one
 * table for every route). Requires: r != RVK_OK. */
void rvk_reply_failure(rvk_req_t *req, rvk_result_t r);
void rvk_reply_shared(rvk_req_t *req, unsigned status, struct MHD_Response *r);

/*
 * Reads a required field of an application/x-www-form-urlencoded body
 * (the `token` of RFC 7009 and RFC 7662). On success, form holds the parsed
 * body (release with rvk_form_fini) and val, len borrow from it. On
 * failure the answer is set — 400 {"error":"invalid_request"} for a wrong
 * content type, a malformed body or a missing or empty field, 503 when the
 * body could not be held — and false is returned with nothing to release.
 */
struct rvk_form;
bool rvk_req_form_field(rvk_req_t *req, const char *name, struct rvk_form *form,
                        const char **val, size_t *len);

/* Returns: a JSON string literal of s (quoted, escaped); owned. */
char *rvk_json_quote(const char *s);

/* The handlers. */
void rvk_handle_auth(rvk_req_t *req);
void rvk_handle_healthz(rvk_req_t *req);
void rvk_handle_readyz(rvk_req_t *req);
void rvk_handle_metrics(rvk_req_t *req);
/* Admin API (admin_handler.c, REFERENCE §5.6). */
void rvk_handle_admin_revocations(rvk_req_t *req);  /* list, create */
void rvk_handle_admin_revocation(rvk_req_t *req);   /* get, delete one */
void rvk_handle_admin_stats(rvk_req_t *req);
void rvk_handle_console(rvk_req_t *req);             /* console_handler.c */
/* Taking revocations from identity providers (REFERENCE §5.1-5.5, §5.7). */
void rvk_handle_events(rvk_req_t *req);        /* webhook_handler.c: by Content-Type */
void rvk_handle_set(rvk_req_t *req);           /* set_handler.c */
void rvk_handle_backchannel(rvk_req_t *req);   /* backchannel_handler.c */
void rvk_handle_revoke(rvk_req_t *req);        /* revoke_handler.c */
void rvk_handle_keycloak(rvk_req_t *req);      /* keycloak_handler.c */
void rvk_handle_keycloak_logout(rvk_req_t *req); /* keycloak_handler.c */
void rvk_handle_introspect(rvk_req_t *req);    /* introspect_handler.c */

#endif
