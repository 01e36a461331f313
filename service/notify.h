/*
 * notify.h - systemd readiness and watchdog (Type=notify, WatchdogSec).
 *
 * DESIGN: one thread probes the service the way a client would: a real
 * HTTP GET over loopback to our own public listener, so it goes through
 * the accept loop, an MHD worker and the router. Until the service is
 * ready it asks GET /readyz every 100 ms and sends READY=1 on the first
 * 200 (REFERENCE §6: ready means /readyz would answer 200). When the manager
 * set WATCHDOG_USEC it asks GET /healthz every WATCHDOG_USEC/2 and sends
 * WATCHDOG=1 only after a 200, so a wedged worker pool or a deadlocked
 * router stops the pings and systemd restarts the unit. STOPPING=1 is sent
 * when the shutdown begins.
 *
 * Without NOTIFY_SOCKET in the environment (not run by systemd) nothing
 * starts. Built without libsystemd (meson found no `libsystemd`), the
 * functions are no-ops and start logs a warning when NOTIFY_SOCKET is set.
 *
 * The probes are ordinary requests: they count in
 * revokd_request_duration_seconds{route="ops"}.
 *
 * Threads: start and stop from the main thread only.
 */
#ifndef RVK_SERVICE_NOTIFY_H
#define RVK_SERVICE_NOTIFY_H

typedef struct rvk_notify rvk_notify_t;

/*
 * Starts the notifier thread when NOTIFY_SOCKET is set.
 * Requires: listen is the configured public listener ("ADDR:PORT", borrowed,
 * copied); port is the port actually bound.
 * Returns: an owned notifier for rvk_notify_stop, or NULL when there is
 * nothing to notify (no NOTIFY_SOCKET, no libsystemd, or no thread).
 */
rvk_notify_t *rvk_notify_start(const char *listen, unsigned port);

/* Sends STOPPING=1 (when started), stops and joins the thread, frees n.
 * NULL is a no-op. */
void rvk_notify_stop(rvk_notify_t *n);

#endif
