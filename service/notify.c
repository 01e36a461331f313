/*
 * systemd notification: READY=1 when /readyz answers 200, WATCHDOG=1 after
 * each successful loopback GET /healthz, STOPPING=1 at shutdown. The design
 * is in notify.h.
 */
#include <stdlib.h>

#include "base/log.h"
#include "service/notify.h"

#ifdef RVK_HAVE_SYSTEMD

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "base/mem.h"

#define READY_POLL_MS 100
#define PROBE_TIMEOUT_MS 2000

struct rvk_notify {
	char host[256];              /* numeric address to connect to */
	char port[16];
	uint64_t watchdog_usec;      /* 0: no watchdog */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stopping;
};

/*
 * The address a client on this host reaches the listener at: the
 * configured one, except that a wildcard becomes the loopback address of
 * its family.
 */
static void
probe_host(const char *listen, char *out, size_t outlen)
{
	const char *colon = strrchr(listen, ':');
	size_t n = colon ? (size_t)(colon - listen) : 0;
	if (n >= outlen)
		n = outlen - 1;
	char h[256];
	memcpy(h, listen, n);
	h[n] = '\0';
	const char *p = h;
	if (p[0] == '[' && n >= 2 && h[n - 1] == ']') {
		h[n - 1] = '\0';
		p++;
	}
	if (!*p || strcmp(p, "0.0.0.0") == 0)
		p = "127.0.0.1";
	else if (strcmp(p, "::") == 0)
		p = "::1";
	snprintf(out, outlen, "%s", p);
}

/* Returns: the HTTP status of GET path on our listener, or 0 when there was
 * no answer within PROBE_TIMEOUT_MS. */
static int
probe(const rvk_notify_t *n, const char *path)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
	                          .ai_socktype = SOCK_STREAM }, *ai = NULL;
	if (getaddrinfo(n->host, n->port, &hints, &ai) != 0)
		return 0;
	int status = 0;
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto cleanup;
	struct timeval tv = { PROBE_TIMEOUT_MS / 1000, (PROBE_TIMEOUT_MS % 1000) * 1000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)); /* bounds connect too */
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
		goto cleanup;
	char req[128];
	int len = snprintf(req, sizeof(req),
	                   "GET %s HTTP/1.0\r\nHost: localhost\r\nUser-Agent: revokd-notify\r\n\r\n",
	                   path);
	if (send(fd, req, (size_t)len, MSG_NOSIGNAL) != len)
		goto cleanup;
	char buf[64];
	size_t got = 0;
	while (got < sizeof(buf) - 1) {
		ssize_t r = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		if (memchr(buf, '\n', got))
			break;
	}
	buf[got] = '\0';
	int code;
	if (sscanf(buf, "HTTP/1.%*d %3d", &code) == 1)
		status = code;
cleanup:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return status;
}

/* Returns: true when asked to stop during the wait. */
static bool
wait_ms(rvk_notify_t *n, uint64_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t ns = (uint64_t)ts.tv_nsec + (ms % 1000) * 1000000u;
	ts.tv_sec += (time_t)(ms / 1000 + ns / 1000000000u);
	ts.tv_nsec = (long)(ns % 1000000000u);
	pthread_mutex_lock(&n->mu);
	while (!n->stopping) {
		if (pthread_cond_timedwait(&n->cv, &n->mu, &ts) == ETIMEDOUT)
			break;
	}
	bool stop = n->stopping;
	pthread_mutex_unlock(&n->mu);
	return stop;
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void *
notify_main(void *arg)
{
	rvk_notify_t *n = arg;
	bool ready = false, warned = false;
	uint64_t wd_ms = n->watchdog_usec / 2000u;
	if (n->watchdog_usec && wd_ms == 0)
		wd_ms = 1;
	uint64_t next_wd = mono_ms();
	for (;;) {
		uint64_t now = mono_ms();
		if (wd_ms && now >= next_wd) {
			if (probe(n, "/healthz") == 200) {
				sd_notify(0, "WATCHDOG=1");
				warned = false;
			} else if (!warned) {
				/* Once per outage: systemd acts after WatchdogSec anyway. */
				rvk_log(RVK_LOG_WARN, "watchdog probe GET /healthz failed; "
				        "not sending WATCHDOG=1", NULL);
				warned = true;
			}
			next_wd = now + wd_ms;
		}
		if (!ready && probe(n, "/readyz") == 200) {
			ready = true;
			sd_notify(0, "READY=1\nSTATUS=serving");
			rvk_log(RVK_LOG_INFO, "systemd notified: ready", NULL);
			if (!wd_ms)
				return NULL; /* nothing left to do */
		}
		uint64_t t = mono_ms();
		uint64_t until_wd = !wd_ms ? UINT64_MAX : next_wd > t ? next_wd - t : 0;
		uint64_t nap = ready || until_wd < READY_POLL_MS ? until_wd : READY_POLL_MS;
		if (wait_ms(n, nap))
			return NULL;
	}
}

rvk_notify_t *
rvk_notify_start(const char *listen, unsigned port)
{
	const char *sock = getenv("NOTIFY_SOCKET");
	if (!sock || !*sock) {
		rvk_log(RVK_LOG_DEBUG, "NOTIFY_SOCKET not set: no systemd notification", NULL);
		return NULL;
	}
	rvk_notify_t *n = rvk_calloc(1, sizeof(*n));
	probe_host(listen, n->host, sizeof(n->host));
	snprintf(n->port, sizeof(n->port), "%u", port);
	uint64_t usec = 0;
	if (sd_watchdog_enabled(0, &usec) > 0)
		n->watchdog_usec = usec;
	pthread_mutex_init(&n->mu, NULL);
	pthread_cond_init(&n->cv, NULL);
	if (pthread_create(&n->thread, NULL, notify_main, n) != 0) {
		rvk_log(RVK_LOG_ERROR, "cannot start the systemd notify thread", NULL);
		pthread_mutex_destroy(&n->mu);
		pthread_cond_destroy(&n->cv);
		free(n);
		return NULL;
	}
	char wd[32];
	snprintf(wd, sizeof(wd), "%llu", (unsigned long long)(usec / 1000u));
	rvk_log(RVK_LOG_INFO, "systemd notification on", "probe", n->host,
	        "watchdog_ms", n->watchdog_usec ? wd : "0", NULL);
	return n;
}

void
rvk_notify_stop(rvk_notify_t *n)
{
	if (!n)
		return;
	sd_notify(0, "STOPPING=1\nSTATUS=draining");
	pthread_mutex_lock(&n->mu);
	n->stopping = true;
	pthread_cond_signal(&n->cv);
	pthread_mutex_unlock(&n->mu);
	pthread_join(n->thread, NULL);
	pthread_mutex_destroy(&n->mu);
	pthread_cond_destroy(&n->cv);
	free(n);
}

#else /* !RVK_HAVE_SYSTEMD */

rvk_notify_t *
rvk_notify_start(const char *listen, unsigned port)
{
	(void)listen;
	(void)port;
	const char *sock = getenv("NOTIFY_SOCKET");
	if (sock && *sock)
		rvk_log(RVK_LOG_WARN, "NOTIFY_SOCKET is set but revokd was built without "
		        "libsystemd: no READY=1 or WATCHDOG=1 will be sent (use Type=simple "
		        "and no WatchdogSec, or rebuild with libsystemd-dev)", NULL);
	return NULL;
}

void
rvk_notify_stop(rvk_notify_t *n)
{
	(void)n;
}

#endif
