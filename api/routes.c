/*
 * The route table: adding an endpoint is one row here and one handler.
 * Order matters only between overlapping prefixes (first match wins).
 */
#include "api/handler.h"

#define ROUTE RVK_ROUTE_KIND

const rvk_route_t rvk_routes[] = {
	{ ROUTE, "/auth", true, RVK_M_ANY, RVK_ON_PUBLIC, 0, false, RVK_ROUTE_AUTH,
	  rvk_handle_auth, false },
	{ ROUTE, "/healthz", false, RVK_M_GET | RVK_M_HEAD, RVK_ON_BOTH, 0, false,
	  RVK_ROUTE_OPS, rvk_handle_healthz, false },
	{ ROUTE, "/readyz", false, RVK_M_GET | RVK_M_HEAD, RVK_ON_BOTH, 0, false,
	  RVK_ROUTE_OPS, rvk_handle_readyz, false },
	{ ROUTE, "/metrics", false, RVK_M_GET | RVK_M_HEAD, RVK_ON_BOTH, 0, false,
	  RVK_ROUTE_OPS, rvk_handle_metrics, false },
	/* Admin API: create and delete wait for the commit, so they block. A
	 * body on GET or DELETE is read (up to 4 KiB) and ignored. Create is
	 * async (handler.h): it waits for the commit without a waiter thread. */
	{ ROUTE, "/admin/v1/revocations", false, RVK_M_GET | RVK_M_POST, RVK_ON_ADMIN,
	  (size_t)4 << 20, true, RVK_ROUTE_ADMIN, rvk_handle_admin_revocations, true },
	{ ROUTE, "/admin/v1/revocations/", true, RVK_M_GET | RVK_M_DELETE, RVK_ON_ADMIN,
	  4096, true, RVK_ROUTE_ADMIN, rvk_handle_admin_revocation, false },
	{ ROUTE, "/admin/v1/stats", false, RVK_M_GET, RVK_ON_ADMIN, 0, false,
	  RVK_ROUTE_ADMIN, rvk_handle_admin_stats, false },
	/* The incident console (console.h): after the admin API rows, which
	 * it would otherwise shadow; /admin itself redirects to /admin/. Any
	 * method reaches it, so that a path it does not serve is the 404 of
	 * any unknown path; it answers 405 for its files (GET and HEAD only). */
	{ ROUTE, "/admin", true, RVK_M_ANY, RVK_ON_ADMIN, 0, false,
	  RVK_ROUTE_ADMIN, rvk_handle_console, false },
	/* Taking revocations: they wait for the commit, so they block. */
	{ ROUTE, "/v1/events", false, RVK_M_POST, RVK_ON_PUBLIC, (size_t)4 << 20,
	  true, RVK_ROUTE_EVENTS, rvk_handle_events, true },
	{ ROUTE, "/v1/backchannel-logout", false, RVK_M_POST, RVK_ON_PUBLIC,
	  (size_t)64 << 10, true, RVK_ROUTE_BACKCHANNEL, rvk_handle_backchannel, false },
	{ ROUTE, "/v1/revoke", false, RVK_M_POST, RVK_ON_PUBLIC, (size_t)64 << 10,
	  true, RVK_ROUTE_REVOKE, rvk_handle_revoke, false },
	{ ROUTE, "/k_push_not_before", false, RVK_M_POST, RVK_ON_PUBLIC,
	  (size_t)64 << 10, true, RVK_ROUTE_KEYCLOAK, rvk_handle_keycloak, false },
	{ ROUTE, "/k_logout", false, RVK_M_POST, RVK_ON_PUBLIC,
	  (size_t)64 << 10, true, RVK_ROUTE_KEYCLOAK, rvk_handle_keycloak_logout, false },
	{ ROUTE, "/v1/introspect", false, RVK_M_POST, RVK_ON_PUBLIC, (size_t)64 << 10,
	  false, RVK_ROUTE_INTROSPECT, rvk_handle_introspect, false },
	{ 0, NULL, false, 0, RVK_ON_BOTH, 0, false, RVK_ROUTE_OPS, NULL, false },
};
