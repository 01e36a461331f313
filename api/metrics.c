#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "api/metrics.h"
#include "base/mem.h"

/* Bucket upper bounds in seconds, as Prometheus client libraries default. */
static const double bounds[] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5 };
#define NB (sizeof(bounds) / sizeof(bounds[0]))

struct hist {
	uint64_t buckets[NB + 1];   /* last: +Inf */
	uint64_t sum_ns;
};

struct block {
	struct block *next;
	uint64_t decisions[RVK_DECISION_COUNT];
	uint64_t vc_hits, vc_misses;
	uint64_t taken[RVK_SRC_COUNT];
	struct hist req[RVK_ROUTE_COUNT];
	struct hist commit;
	uint64_t commit_errors, body_budget;
} __attribute__((aligned(64)));

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct block *blocks;
static __thread struct block *mine;

static const char *const route_names[RVK_ROUTE_COUNT] = {
	"auth", "events", "backchannel", "keycloak", "revoke", "introspect",
	"admin", "ops",
};

static struct block *
get(void)
{
	if (__builtin_expect(mine != NULL, 1))
		return mine;
	struct block *b;
	if (posix_memalign((void **)&b, 64, sizeof(*b)) != 0)
		abort();
	*b = (struct block){ 0 };
	pthread_mutex_lock(&lock);
	b->next = blocks;
	__atomic_store_n(&blocks, b, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&lock);
	mine = b;
	return b;
}

static inline void
inc(uint64_t *p, uint64_t n)
{
	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

static void
observe(struct hist *h, uint64_t nanos)
{
	double s = (double)nanos / 1e9;
	size_t i = 0;
	while (i < NB && s > bounds[i])
		i++;
	inc(&h->buckets[i], 1);
	inc(&h->sum_ns, nanos);
}

void
rvk_metrics_decision(unsigned decision)
{
	if (decision < RVK_DECISION_COUNT)
		inc(&get()->decisions[decision], 1);
}

void
rvk_metrics_vcache(bool hit)
{
	struct block *b = get();
	inc(hit ? &b->vc_hits : &b->vc_misses, 1);
}

void
rvk_metrics_request(rvk_route_id_t route, uint64_t nanos)
{
	if ((unsigned)route < RVK_ROUTE_COUNT)
		observe(&get()->req[route], nanos);
}

void
rvk_metrics_taken(rvk_source_t source, uint64_t n)
{
	if ((unsigned)source < RVK_SRC_COUNT)
		inc(&get()->taken[source], n);
}

void
rvk_metrics_commit(uint64_t nanos)
{
	observe(&get()->commit, nanos);
}

void
rvk_metrics_commit_error(void)
{
	inc(&get()->commit_errors, 1);
}

/* Reloads are rare and come from the main thread: plain atomics, no
 * per-thread buckets. */
static uint64_t reloads_ok, reloads_failed;
static int64_t reload_ok_at;
static int reload_last_ok = 1;

void
rvk_metrics_config_reload(bool ok, bool at_start, int64_t now)
{
	if (!at_start)
		__atomic_add_fetch(ok ? &reloads_ok : &reloads_failed, 1, __ATOMIC_RELAXED);
	if (ok)
		__atomic_store_n(&reload_ok_at, now, __ATOMIC_RELAXED);
	__atomic_store_n(&reload_last_ok, ok ? 1 : 0, __ATOMIC_RELAXED);
}

void
rvk_metrics_body_budget_exhausted(void)
{
	inc(&get()->body_budget, 1);
}

static char *build_info;        /* rendered label set, set once at start */

static void
label_value(rvk_buf_t *out, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			rvk_buf_printf(out, "\\%c", *v);
		else if (*v == '\n')
			rvk_buf_puts(out, "\\n");
		else
			rvk_buf_printf(out, "%c", *v);
	}
}

void
rvk_metrics_set_build_info(const char *const *pairs)
{
	rvk_buf_t b = RVK_BUF_INIT;
	for (size_t i = 0; pairs[i] && pairs[i + 1]; i += 2) {
		rvk_buf_printf(&b, "%s%s=\"", i ? "," : "", pairs[i]);
		label_value(&b, pairs[i + 1]);
		rvk_buf_puts(&b, "\"");
	}
	free(build_info);
	build_info = b.data ? rvk_strdup(b.data) : NULL;
	rvk_buf_fini(&b);
}

/* The standard process metrics of Prometheus client libraries, read at
 * scrape time: CPU from getrusage, memory from /proc/self/statm, start
 * time from /proc/self/stat and /proc/stat's btime, open files by listing
 * /proc/self/fd. A value that cannot be read is left out. */
static void
render_process(rvk_buf_t *out)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		             (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
		rvk_buf_printf(out, "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
		                    "# TYPE process_cpu_seconds_total counter\n"
		                    "process_cpu_seconds_total %.6f\n", cpu);
	}
	long page = sysconf(_SC_PAGESIZE);
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		unsigned long long size, resident;
		if (fscanf(f, "%llu %llu", &size, &resident) == 2 && page > 0)
			rvk_buf_printf(out, "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
			                    "# TYPE process_virtual_memory_bytes gauge\n"
			                    "process_virtual_memory_bytes %llu\n"
			                    "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
			                    "# TYPE process_resident_memory_bytes gauge\n"
			                    "process_resident_memory_bytes %llu\n",
			               size * (unsigned long long)page,
			               resident * (unsigned long long)page);
		fclose(f);
	}
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		unsigned long n = 0;
		for (struct dirent *e; (e = readdir(d)) != NULL;)
			if (e->d_name[0] != '.')
				n++;
		closedir(d);
		if (n > 0)
			n--;    /* the listing's own descriptor */
		rvk_buf_printf(out, "# HELP process_open_fds Number of open file descriptors.\n"
		                    "# TYPE process_open_fds gauge\n"
		                    "process_open_fds %lu\n", n);
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		rvk_buf_printf(out, "# HELP process_max_fds Maximum number of open file descriptors.\n"
		                    "# TYPE process_max_fds gauge\n"
		                    "process_max_fds %llu\n",
		               rl.rlim_cur == RLIM_INFINITY ? 0ULL : (unsigned long long)rl.rlim_cur);
	/* The start time never changes: computed on the first scrape. */
	static double start_time = -1;
	double st;
	__atomic_load(&start_time, &st, __ATOMIC_RELAXED);
	if (st < 0) {
		unsigned long long btime = 0, ticks = 0;
		char line[256];
		if ((f = fopen("/proc/stat", "r")) != NULL) {
			while (fgets(line, sizeof(line), f))
				if (sscanf(line, "btime %llu", &btime) == 1)
					break;
			fclose(f);
		}
		if ((f = fopen("/proc/self/stat", "r")) != NULL) {
			char buf[1024];
			size_t n = fread(buf, 1, sizeof(buf) - 1, f);
			buf[n] = '\0';
			fclose(f);
			/* Field 22 (starttime), counted after the ")" that ends
			 * the command name (which may hold spaces). */
			char *p = strrchr(buf, ')');
			for (int field = 2; p && field < 22; field++)
				p = strchr(p + 1, ' ');
			if (p)
				ticks = strtoull(p + 1, NULL, 10);
		}
		long hz = sysconf(_SC_CLK_TCK);
		if (btime > 0 && ticks > 0 && hz > 0) {
			st = (double)btime + (double)ticks / (double)hz;
			__atomic_store(&start_time, &st, __ATOMIC_RELAXED);
		}
	}
	if (st >= 0)
		rvk_buf_printf(out, "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
		                    "# TYPE process_start_time_seconds gauge\n"
		                    "process_start_time_seconds %.2f\n", st);
}

static uint64_t
ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void
sum_hist(struct hist *out, const struct hist *h)
{
	for (size_t i = 0; i <= NB; i++)
		out->buckets[i] += ld(&h->buckets[i]);
	out->sum_ns += ld(&h->sum_ns);
}

static void
render_hist(rvk_buf_t *out, const char *name, const char *label,
            const struct hist *h)
{
	uint64_t cum = 0;
	const char *sep = label ? "," : "";
	for (size_t i = 0; i <= NB; i++) {
		cum += h->buckets[i];
		if (i < NB)
			rvk_buf_printf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name,
			               label ? label : "", sep, bounds[i],
			               (unsigned long long)cum);
		else
			rvk_buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name,
			               label ? label : "", sep, (unsigned long long)cum);
	}
	if (label) {
		rvk_buf_printf(out, "%s_sum{%s} %.9f\n", name, label, (double)h->sum_ns / 1e9);
		rvk_buf_printf(out, "%s_count{%s} %llu\n", name, label, (unsigned long long)cum);
	} else {
		rvk_buf_printf(out, "%s_sum %.9f\n", name, (double)h->sum_ns / 1e9);
		rvk_buf_printf(out, "%s_count %llu\n", name, (unsigned long long)cum);
	}
}

void
rvk_metrics_render(rvk_buf_t *out, const rvk_metrics_gauges_t *g)
{
	struct block total = { 0 };
	for (struct block *b = __atomic_load_n(&blocks, __ATOMIC_ACQUIRE); b; b = b->next) {
		for (size_t i = 0; i < RVK_DECISION_COUNT; i++)
			total.decisions[i] += ld(&b->decisions[i]);
		total.vc_hits += ld(&b->vc_hits);
		total.vc_misses += ld(&b->vc_misses);
		for (size_t i = 0; i < RVK_SRC_COUNT; i++)
			total.taken[i] += ld(&b->taken[i]);
		for (size_t r = 0; r < RVK_ROUTE_COUNT; r++)
			sum_hist(&total.req[r], &b->req[r]);
		sum_hist(&total.commit, &b->commit);
		total.commit_errors += ld(&b->commit_errors);
		total.body_budget += ld(&b->body_budget);
	}

	rvk_buf_puts(out, "# HELP revokd_decisions_total Decisions of /auth by result.\n"
	                  "# TYPE revokd_decisions_total counter\n");
	for (size_t i = 0; i < RVK_DECISION_COUNT; i++)
		rvk_buf_printf(out, "revokd_decisions_total{result=\"%s\"} %llu\n",
		               i == RVK_DECISION_NO_TOKEN ? "no_token" : rvk_reason_metric((rvk_reason_t)i),
		               (unsigned long long)total.decisions[i]);

	rvk_buf_puts(out, "# HELP revokd_request_duration_seconds Time spent answering a request, by route.\n"
	                  "# TYPE revokd_request_duration_seconds histogram\n");
	for (size_t r = 0; r < RVK_ROUTE_COUNT; r++) {
		char label[64];
		snprintf(label, sizeof(label), "route=\"%s\"", route_names[r]);
		render_hist(out, "revokd_request_duration_seconds", label, &total.req[r]);
	}

	rvk_buf_printf(out, "# HELP revokd_verified_cache_hits_total Tokens whose verification came from the cache.\n"
	                    "# TYPE revokd_verified_cache_hits_total counter\n"
	                    "revokd_verified_cache_hits_total %llu\n"
	                    "# HELP revokd_verified_cache_misses_total Tokens verified from scratch.\n"
	                    "# TYPE revokd_verified_cache_misses_total counter\n"
	                    "revokd_verified_cache_misses_total %llu\n"
	                    "# HELP revokd_verified_cache_entries Entries in the verified-token cache.\n"
	                    "# TYPE revokd_verified_cache_entries gauge\n"
	                    "revokd_verified_cache_entries %zu\n",
	               (unsigned long long)total.vc_hits,
	               (unsigned long long)total.vc_misses, g->vcache_entries);

	rvk_buf_puts(out, "# HELP revokd_revocations Live revocations in memory, by type.\n"
	                  "# TYPE revokd_revocations gauge\n");
	for (size_t i = 0; i < RVK_REV_TYPE_COUNT; i++)
		rvk_buf_printf(out, "revokd_revocations{type=\"%s\"} %zu\n",
		               rvk_rev_type_name((rvk_rev_type_t)i),
		               g->revocations[i]);

	rvk_buf_puts(out, "# HELP revokd_revocations_taken_total Revocations acknowledged, by source.\n"
	                  "# TYPE revokd_revocations_taken_total counter\n");
	for (size_t i = 0; i < RVK_SRC_COUNT; i++)
		rvk_buf_printf(out, "revokd_revocations_taken_total{source=\"%s\"} %llu\n",
		               rvk_source_name((rvk_source_t)i), (unsigned long long)total.taken[i]);

	rvk_buf_puts(out, "# HELP revokd_store_commit_duration_seconds Time of one group commit to SQLite.\n"
	                  "# TYPE revokd_store_commit_duration_seconds histogram\n");
	render_hist(out, "revokd_store_commit_duration_seconds", NULL, &total.commit);
	rvk_buf_printf(out, "# HELP revokd_store_commit_errors_total Group commits to SQLite that failed (rolled back; nothing acknowledged).\n"
	                    "# TYPE revokd_store_commit_errors_total counter\n"
	                    "revokd_store_commit_errors_total %llu\n"
	                    "# HELP revokd_body_budget_exhausted_total Requests refused 503 because request bodies in flight reached the memory budget.\n"
	                    "# TYPE revokd_body_budget_exhausted_total counter\n"
	                    "revokd_body_budget_exhausted_total %llu\n"
	                    "# HELP revokd_ready 1 when /readyz answers 200, else 0.\n"
	                    "# TYPE revokd_ready gauge\n"
	                    "revokd_ready %d\n",
	               (unsigned long long)total.commit_errors,
	               (unsigned long long)total.body_budget, g->ready ? 1 : 0);
	rvk_buf_printf(out, "# HELP revokd_config_reloads_total SIGHUP configuration reloads by result (success: applied; failure: refused, the running configuration kept).\n"
	                    "# TYPE revokd_config_reloads_total counter\n"
	                    "revokd_config_reloads_total{result=\"success\"} %llu\n"
	                    "revokd_config_reloads_total{result=\"failure\"} %llu\n"
	                    "# HELP revokd_config_last_reload_successful 1 when the last configuration load (start or SIGHUP) was applied, 0 when it was refused.\n"
	                    "# TYPE revokd_config_last_reload_successful gauge\n"
	                    "revokd_config_last_reload_successful %d\n"
	                    "# HELP revokd_config_last_reload_success_timestamp_seconds When the configuration in force was loaded (start or the last applied SIGHUP reload), unix seconds.\n"
	                    "# TYPE revokd_config_last_reload_success_timestamp_seconds gauge\n"
	                    "revokd_config_last_reload_success_timestamp_seconds %lld\n",
	               (unsigned long long)__atomic_load_n(&reloads_ok, __ATOMIC_RELAXED),
	               (unsigned long long)__atomic_load_n(&reloads_failed, __ATOMIC_RELAXED),
	               __atomic_load_n(&reload_last_ok, __ATOMIC_RELAXED),
	               (long long)__atomic_load_n(&reload_ok_at, __ATOMIC_RELAXED));
	rvk_buf_puts(out, "# HELP revokd_build_info Versions of revokd and the libraries it runs with; always 1.\n"
	                  "# TYPE revokd_build_info gauge\n");
	rvk_buf_printf(out, "revokd_build_info{%s} 1\n", build_info ? build_info : "");

	if (g->cluster) {
		static const char *const states[] = { "connecting", "catching_up",
		                                      "connected", "degraded" };
		rvk_buf_puts(out, "# HELP revokd_replication_state Cluster mode: 1 for the replication state this replica is in.\n"
		                  "# TYPE revokd_replication_state gauge\n");
		for (int i = 0; i < 4; i++)
			rvk_buf_printf(out, "revokd_replication_state{state=\"%s\"} %d\n",
			               states[i], g->replication_state == i ? 1 : 0);
		rvk_buf_printf(out, "# HELP revokd_replication_outbox Revocations waiting to be published to Redis.\n"
		                    "# TYPE revokd_replication_outbox gauge\n"
		                    "revokd_replication_outbox %zu\n"
		                    "# HELP revokd_replication_lag_seconds How far this replica is behind the stream's head.\n"
		                    "# TYPE revokd_replication_lag_seconds gauge\n"
		                    "revokd_replication_lag_seconds %.3f\n"
		                    "# HELP revokd_replication_rejected_total Stream entries, keys-hash entries and digests refused (never applied).\n"
		                    "# TYPE revokd_replication_rejected_total counter\n"
		                    "revokd_replication_rejected_total %llu\n"
		                    "# HELP revokd_replication_connect_failures_total Connections to Redis that failed or were refused (network, TLS, AUTH, version, bad reply).\n"
		                    "# TYPE revokd_replication_connect_failures_total counter\n"
		                    "revokd_replication_connect_failures_total %llu\n",
		               g->replication_outbox, g->replication_lag_seconds,
		               (unsigned long long)g->replication_rejected,
		               (unsigned long long)g->replication_connect_failures);
		rvk_buf_printf(out, "# HELP revokd_replication_reconcile_rounds_total Reconciliation rounds done (digest written and compared).\n"
		                    "# TYPE revokd_replication_reconcile_rounds_total counter\n"
		                    "revokd_replication_reconcile_rounds_total %llu\n"
		                    "# HELP revokd_replication_reconcile_skipped_total Reconciliation rounds skipped: the outbox was not empty within half an interval of the round.\n"
		                    "# TYPE revokd_replication_reconcile_skipped_total counter\n"
		                    "revokd_replication_reconcile_skipped_total %llu\n"
		                    "# HELP revokd_replication_republished_total Changes republished by reconciliation.\n"
		                    "# TYPE revokd_replication_republished_total counter\n"
		                    "revokd_replication_republished_total %llu\n",
		               (unsigned long long)g->reconcile_rounds,
		               (unsigned long long)g->reconcile_skipped,
		               (unsigned long long)g->reconcile_republished);
	}
	if (g->extra)
		rvk_buf_puts(out, g->extra);
	render_process(out);
}

void
rvk_metrics_vcache_totals(uint64_t *hits, uint64_t *misses)
{
	uint64_t h = 0, m = 0;
	for (struct block *b = __atomic_load_n(&blocks, __ATOMIC_ACQUIRE); b; b = b->next) {
		h += ld(&b->vc_hits);
		m += ld(&b->vc_misses);
	}
	*hits = h;
	*misses = m;
}

void
rvk_metrics_fini(void)
{
	pthread_mutex_lock(&lock);
	struct block *b = blocks;
	blocks = NULL;
	pthread_mutex_unlock(&lock);
	while (b) {
		struct block *n = b->next;
		free(b);
		b = n;
	}
	mine = NULL;
	free(build_info);
	build_info = NULL;
}
