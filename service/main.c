/*
 * revokd: one binary, several subcommands (docs/CONFIGURATION.md). This file only parses
 * the command line and hands over: `serve` to runtime.c, the admin client
 * commands to client.c, `check` to check.c.
 *
 * Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>

#include "base/fault.h"
#include "base/heap.h"
#include "base/log.h"
#include "base/mem.h"
#include "service/commands.h"
#include "service/runtime.h"

static void
usage(FILE *f)
{
	fputs("usage: revokd [SUBCOMMAND] [OPTIONS]\n"
	      "\n"
	      "Subcommands:\n"
	      "  serve     run the service (the default)\n"
	      "  check     decide one token offline, print the decision as JSON\n"
	      "  revoke    revoke a token, session, subject, issuer or key (admin API)\n"
	      "  unrevoke  remove a revocation (admin API)\n"
	      "  list      list revocations (admin API)\n"
	      "  version   print versions of revokd and its libraries\n"
	      "\n"
	      "`revokd SUBCOMMAND --help` describes the options of each.\n"
	      "Documents: man revokd, man revokd.json; README.md, docs/CONFIGURATION.md,\n"
	      "docs/OPERATIONS.md (in the source tree; installed in share/doc/revokd).\n", f);
}

static void
serve_usage(FILE *f)
{
	fputs("usage: revokd serve [--config FILE] [OPTIONS]\n"
	      "       revokd serve --dev [--data-dir DIR]\n"
	      "\n"
	      "  -c, --config FILE          JSON configuration: docs/CONFIGURATION.md (example: deploy/revokd.json)\n"
	      "      --dev                  zero-config demo: keys, secrets, DIR/revokd.json and a token in DIR\n"
	      "      --listen ADDR:PORT     public listener (default 127.0.0.1:8080)\n"
	      "      --admin-listen ADDR:PORT  admin listener (default: the public one)\n"
	      "      --data-dir DIR         where the SQLite database lives (--dev: default ./var)\n"
	      "      --threads N            HTTP worker threads (0: one per CPU)\n"
	      "      --log-format json|text\n"
	      "      --log-level debug|info|warn|error\n"
	      "      --redis-url URL        cluster mode (or REVOKD_REDIS_URL)\n"
	      "  -h, --help\n"
	      "\n"
	      "Flags override the configuration file. Secrets may come from\n"
	      "REVOKD_ADMIN_TOKEN and REVOKD_WEBHOOK_SECRET. Dev mode, the flags and\n"
	      "every configuration key: docs/CONFIGURATION.md; running revokd:\n"
	      "docs/OPERATIONS.md (both in the source tree; installed in share/doc/revokd),\n"
	      "and revokd(8), revokd.json(5).\n", f);
}

enum {
	OPT_DEV = 256, OPT_LISTEN, OPT_ADMIN_LISTEN, OPT_DATA_DIR, OPT_THREADS,
	OPT_LOG_FORMAT, OPT_LOG_LEVEL, OPT_REDIS_URL,
};

/* The serve flags; NULL: not given. */
struct serve_flags {
	const char *config, *listen, *admin_listen, *data_dir, *threads,
	           *log_format, *log_level, *redis_url;
	bool dev;
};

/* Returns: -1 to go on, else the exit code. */
static int
serve_parse_flags(int argc, char **argv, struct serve_flags *f)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dev", no_argument, NULL, OPT_DEV },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "admin-listen", required_argument, NULL, OPT_ADMIN_LISTEN },
		{ "data-dir", required_argument, NULL, OPT_DATA_DIR },
		{ "threads", required_argument, NULL, OPT_THREADS },
		{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
		{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
		{ "redis-url", required_argument, NULL, OPT_REDIS_URL },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	f->redis_url = getenv("REVOKD_REDIS_URL");
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': f->config = optarg; break;
		case OPT_DEV: f->dev = true; break;
		case OPT_LISTEN: f->listen = optarg; break;
		case OPT_ADMIN_LISTEN: f->admin_listen = optarg; break;
		case OPT_DATA_DIR: f->data_dir = optarg; break;
		case OPT_THREADS: f->threads = optarg; break;
		case OPT_LOG_FORMAT: f->log_format = optarg; break;
		case OPT_LOG_LEVEL: f->log_level = optarg; break;
		case OPT_REDIS_URL: f->redis_url = optarg; break;
		case 'h': serve_usage(stdout); return 0;
		default: serve_usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "revokd: serve: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	if (f->dev && f->config) {
		fprintf(stderr, "revokd: serve: --dev and --config exclude each other\n");
		return 2;
	}
	return -1;
}

/* Applies the flags that override the file to cfg.
 * Returns: 0, or 2 after a message. */
static int
serve_override(const struct serve_flags *f, rvk_config_t *cfg)
{
	if (f->listen) {
		free(cfg->listen);
		cfg->listen = rvk_strdup(f->listen);
	}
	if (f->admin_listen) {
		free(cfg->admin_listen);
		cfg->admin_listen = rvk_strdup(f->admin_listen);
	}
	if (f->data_dir && !f->dev) {
		free(cfg->data_dir);
		cfg->data_dir = rvk_config_path(NULL, f->data_dir);
	}
	if (f->threads) {
		char *end;
		long n = strtol(f->threads, &end, 10);
		if (*end || n < 0 || n > 1024) {
			fprintf(stderr, "revokd: --threads: \"%s\" is not 0 to 1024\n", f->threads);
			return 2;
		}
		cfg->threads = (int)n;
	}
	if (f->log_format && !rvk_log_format_parse(f->log_format, &cfg->log_format)) {
		fprintf(stderr, "revokd: --log-format: must be json or text\n");
		return 2;
	}
	if (f->log_level && !rvk_log_level_parse(f->log_level, &cfg->log_level)) {
		fprintf(stderr, "revokd: --log-level: must be debug, info, warn or error\n");
		return 2;
	}
	if (f->redis_url && *f->redis_url) {
		free(cfg->redis_url);
		cfg->redis_url = rvk_strdup(f->redis_url);
	}
	return 0;
}

/* The configuration serve runs with: dev mode's, the file's, or the
 * defaults, then the flags, then the checks across keys.
 * Returns: 0 and *out (owned), or an exit code after a message. */
static int
serve_config(const struct serve_flags *f, rvk_config_t **out)
{
	char err[1024];
	rvk_config_t *cfg = NULL;
	int code;
	if (f->dev) {
		if ((code = rvk_dev_prepare(f->data_dir ? f->data_dir : "./var", &cfg)) != 0)
			return code;
	} else if (f->config) {
		if (rvk_config_parse_file(f->config, &cfg, err, sizeof(err)) != RVK_OK) {
			fprintf(stderr, "revokd: %s\n", err);
			return 2;
		}
	} else {
		cfg = rvk_config_new_defaults();
	}
	const char *name = cfg->path ? cfg->path : "(flags)";
	code = 2;
	if (serve_override(f, cfg) != 0)
		goto cleanup;
	if (rvk_config_validate(cfg, err, sizeof(err)) != RVK_OK) {
		fprintf(stderr, "revokd: %s\n", err);
		goto cleanup;
	}
	if (cfg->n_issuers == 0) {
		fprintf(stderr, "revokd: config %s: issuers: at least one issuer is required\n", name);
		goto cleanup;
	}
	if (f->dev && (code = rvk_dev_write_config(&cfg)) != 0)
		goto cleanup;
	*out = cfg;
	return 0;
cleanup:
	rvk_config_free(cfg);
	return code;
}

/* SIGHUP. With a configuration file: the same file through the same
 * parser, flags and checks as at start, then rvk_runtime_reload_config
 * decides what applies. Without one (flags only, --dev), or when the file
 * is the one --dev wrote: the keys and secrets only, as the configuration
 * cannot have changed. */
static void
serve_reload(const struct serve_flags *f, rvk_runtime_t *rt)
{
	if (!f->config) {
		rvk_runtime_reload(rt);
		rvk_runtime_reload_secrets(rt);
		return;
	}
	char err[1024];
	rvk_config_t *fresh = NULL;
	if (rvk_config_parse_file(f->config, &fresh, err, sizeof(err)) != RVK_OK) {
		rvk_runtime_reload_refused(rt, err);
		return;
	}
	/* The flags were checked at start: they cannot fail now. */
	if (serve_override(f, fresh) != 0) {
		snprintf(err, sizeof(err), "the command-line flags no longer apply");
		goto refuse;
	}
	if (rvk_config_validate(fresh, err, sizeof(err)) != RVK_OK)
		goto refuse;
	if (fresh->n_issuers == 0) {
		snprintf(err, sizeof(err), "config %s: issuers: at least one issuer is required",
		         f->config);
		goto refuse;
	}
	rvk_runtime_reload_config(rt, fresh);
	return;
refuse:
	rvk_config_free(fresh);
	rvk_runtime_reload_refused(rt, err);
}

/* Starts the runtime and waits for signals: SIGHUP reloads the
 * configuration, keys and secrets, SIGTERM and SIGINT stop.
 * Returns: the exit code. */
static int
serve_run(rvk_config_t *cfg, const struct serve_flags *f)
{
	bool dev = f->dev;
	rvk_log_set_format(cfg->log_format);
	rvk_log_set_level(cfg->log_level);

	/* Block the signals before any thread starts, so they all inherit the
	 * mask and only sigwait() below receives them (DECISIONS D5). */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	rvk_runtime_t *rt = NULL;
	int code = rvk_runtime_start(cfg, &rt);
	if (code)
		return code;
	if (dev)
		rvk_dev_announce(cfg, rvk_runtime_port(rt, 0),
		                 rvk_runtime_port(rt, cfg->admin_listen != NULL));
	for (;;) {
		int sig = 0;
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			rvk_log(RVK_LOG_INFO, "SIGHUP: reloading keys and secrets", NULL);
			serve_reload(f, rt);
			continue;
		}
		rvk_log(RVK_LOG_INFO, "stopping", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT", NULL);
		break;
	}
	rvk_runtime_stop(rt);
	rvk_log(RVK_LOG_INFO, "stopped", NULL);
	return 0;
}

static int
serve(int argc, char **argv)
{
	struct serve_flags f = { 0 };
	rvk_config_t *cfg = NULL;
	int code = serve_parse_flags(argc, argv, &f);
	if (code >= 0)
		return code;
	if ((code = serve_config(&f, &cfg)) != 0)
		return code;
	code = serve_run(cfg, &f);
	rvk_config_free(cfg);
	return code;
}

static int
version(void)
{
	curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
	/* The build's fault points on the first line, which every line's
	 * "name version" shape leaves room for (base/fault.h). */
#ifdef RVK_FAULT_INJECTION
	printf("revokd %s (fault injection: on, a test build)\n", REVOKD_VERSION);
#else
	printf("revokd %s (fault injection: off)\n", REVOKD_VERSION);
#endif
	printf("libjwt %s\n", REVOKD_LIBJWT_VERSION);
	printf("libmicrohttpd %s\n", MHD_get_version());
	printf("jansson %s\n", jansson_version_str());
	printf("libcurl %s\n", cv->version);
	printf("sqlite %s\n", rvk_version_sqlite());
	printf("liburcu %s\n", REVOKD_URCU_VERSION);
	printf("hiredis %s\n", REVOKD_HIREDIS_VERSION);
	printf("openssl %s\n", rvk_version_openssl());
	printf("%s\n", rvk_heap_allocator());   /* DECISIONS D28 */
	return 0;
}

int
main(int argc, char **argv)
{
	if (rvk_fault_init_from_env() != 0)
		return 2;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int code;
	const char *cmd = argc > 1 ? argv[1] : "serve";
	if (argc > 1 && argv[1][0] == '-' ) {
		if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
			usage(stdout);
			code = 0;
		} else if (strcmp(argv[1], "--version") == 0) {
			code = version();
		} else {
			code = serve(argc, argv); /* flags of the default subcommand */
		}
	} else if (strcmp(cmd, "serve") == 0) {
		code = serve(argc - (argc > 1), argv + (argc > 1));
	} else if (strcmp(cmd, "check") == 0) {
		code = rvk_cmd_check(argc - 1, argv + 1);
	} else if (rvk_cmd_client_has(cmd)) {
		code = rvk_cmd_client(argc - 1, argv + 1);
	} else if (strcmp(cmd, "version") == 0) {
		code = version();
	} else if (strcmp(cmd, "help") == 0) {
		usage(stdout);
		code = 0;
	} else {
		fprintf(stderr, "revokd: unknown subcommand \"%s\"\n", cmd);
		usage(stderr);
		code = 2;
	}
	curl_global_cleanup();
	return code;
}
