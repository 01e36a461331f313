/*
 * server.h - the HTTP front: libmicrohttpd daemons and the route table.
 *
 * DESIGN: one MHD daemon per listener (public `listen`, and `admin_listen`
 * when set), each in MHD's epoll mode with an internal pool of `threads`
 * workers (DECISIONS D4: the fastest mode measured here). Requests are
 * dispatched by one route table (routes.c). A handler never queues its
 * answer on MHD's first call for a request (that closes keep-alive
 * connections); it runs on the last call.
 *
 * Handlers that wait for the store (anything that takes revocations) are
 * marked `blocking`: their connection is suspended and the handler runs on a
 * small pool of waiter threads, so MHD workers keep answering /auth while a
 * commit is in flight; the connection is resumed with the answer. Routes
 * also marked `async` (admin create, webhook intake) run their handler on
 * the worker and wait for the commit without a waiter thread: the store
 * writer's completion resumes the connection (handler.h).
 *
 * Limits (REFERENCE §8): idle connections time out after 30 s; connections are
 * capped; request headers live in a per-connection memory pool (an oversized
 * header set gets MHD's 431); bodies are capped per route and in total
 * across the requests in flight on each listener (beyond the budget: 503;
 * the admin listener, when separate, has its own budget).
 *
 * Threads: start/stop from the main thread only.
 */
#ifndef RVK_API_SERVER_H
#define RVK_API_SERVER_H

#include "api/app.h"
#include "base/result.h"

typedef struct rvk_server rvk_server_t;

/*
 * Binds the listeners of app->settings and starts serving.
 * Returns: RVK_OK and *out; RVK_EIO with a message (e.g. address in use).
 */
rvk_result_t rvk_server_start(rvk_app_t *app, rvk_server_t **out, char *err,
                              size_t errlen);

/* Stops accepting, lets requests in flight finish (at most ~5 s), frees. */
void rvk_server_stop(rvk_server_t *srv);

/* Returns: the port actually bound by the public / admin listener (0: none). */
unsigned rvk_server_port(const rvk_server_t *srv, int admin);

#endif
