/*
 * `revokd check TOKEN`: the /auth decision offline, with the configured
 * static keys and the revocations stored in the data dir, printed as JSON.
 * Claims are printed once the signature verified, also on a deny at step 5
 * (an expired token shows what it says); a deny at steps 1-4 prints
 * "claims": null: unverified claims would mislead.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <sqlite3.h>

#include "api/decide.h"
#include "auth/access.h"
#include "base/clock.h"
#include "base/mem.h"
#include "base/rcu.h"
#include "cache/revtable.h"
#include "service/commands.h"
#include "service/secrets.h"
#include "store/store.h"

const char *
rvk_version_sqlite(void)
{
	return sqlite3_libversion();
}

const char *
rvk_version_openssl(void)
{
	return OpenSSL_version(OPENSSL_VERSION_STRING);
}

static void
check_usage(FILE *f)
{
	fputs("usage: revokd check --config FILE [--data-dir DIR] TOKEN\n"
	      "\n"
	      "Decides TOKEN as /auth would, offline: the configured keys (key files;\n"
	      "JWKS are not fetched) and the revocations stored in the data dir\n"
	      "(--data-dir, else the config's data_dir). Prints\n"
	      "{\"decision\":\"allow\"|\"deny\",\"reason\":...,\"claims\":{...}}.\n"
	      "Exit status: 0 allow, 1 deny, 2 usage or configuration error.\n", f);
}

static void
print(const char *decision, const char *reason, json_t *claims)
{
	json_t *o = json_object();
	json_object_set_new(o, "decision", json_string(decision));
	json_object_set_new(o, "reason", reason ? json_string(reason) : json_null());
	json_object_set(o, "claims", claims ? claims : json_null());
	char *s = json_dumps(o, JSON_COMPACT);
	puts(s);
	free(s);
	json_decref(o);
}

int
rvk_cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "data-dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *data_dir = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'd': data_dir = optarg; break;
		case 'h': check_usage(stdout); return 0;
		default: check_usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		check_usage(stderr);
		return 2;
	}
	const char *token = argv[optind];
	char err[1024];
	rvk_config_t *cfg = NULL;
	if (!config) {
		fprintf(stderr, "revokd: check: --config is required (the keys come from it)\n");
		return 2;
	}
	if (rvk_config_parse_file(config, &cfg, err, sizeof(err)) != RVK_OK) {
		fprintf(stderr, "revokd: %s\n", err);
		return 2;
	}
	if (data_dir) {
		free(cfg->data_dir);
		cfg->data_dir = rvk_config_path(NULL, data_dir);
	}
	rvk_issuers_t *issuers = NULL;
	if (rvk_secrets_load_issuers(cfg, &issuers, err, sizeof(err)) != RVK_OK) {
		fprintf(stderr, "revokd: %s\n", err);
		rvk_config_free(cfg);
		return 2;
	}
	int code = 1;
	int64_t now = rvk_clock_now();
	rvk_revtable_t *table = rvk_revtable_new(1024, cfg->leeway);
	rvk_store_t *store = NULL;
	char dbpath[4096];
	struct stat st;
	snprintf(dbpath, sizeof(dbpath), "%s/revokd.db", cfg->data_dir);
	if (stat(dbpath, &st) == 0) {
		/* Reads the marker, never writes it: the server owns it
		 * (DECISIONS D26). */
		rvk_store_opts_t so = {
			.leeway = cfg->leeway,
			.check = cfg->integrity_check_every_start
			         ? RVK_STORE_CHECK_EVERY_START
			         : RVK_STORE_CHECK_AFTER_UNCLEAN_STOP,
		};
		if (rvk_store_open(cfg->data_dir, table, &so, now, &store, err, sizeof(err)) != RVK_OK) {
			fprintf(stderr, "revokd: %s\n", err);
			goto cleanup;
		}
	}
	rvk_policy_t policy = {
		.leeway = cfg->leeway, .max_token_bytes = (size_t)cfg->max_token_bytes,
		.max_token_lifetime = cfg->max_token_lifetime, .require_jti = cfg->require_jti,
	};
	rvk_access_t acc;
	bool verified;
	rvk_rcu_read_lock();
	rvk_reason_t r = rvk_access_verify_explain(issuers, &policy, token,
	                                           strlen(token), now, &acc,
	                                           &verified);
	rvk_rcu_read_unlock();
	if (!verified) {
		print("deny", rvk_reason_str(r), NULL);
		goto cleanup;
	}
	if (r == RVK_REASON_OK) {
		rvk_rev_query_t q;
		rvk_decide_query(&acc, &q);
		r = rvk_revtable_check(table, &q, now);
	}
	const rvk_jws_t *j = &acc.jws;
	if (r == RVK_REASON_OK) {
		print("allow", NULL, rvk_jws_payload(j));
		code = 0;
	} else {
		print("deny", rvk_reason_str(r), rvk_jws_payload(j));
	}
	rvk_access_fini(&acc);
cleanup:
	rvk_store_close(store);
	rvk_rcu_barrier();
	rvk_revtable_free(table);
	rvk_issuers_free(issuers);
	free(issuers);
	rvk_rcu_barrier();
	rvk_config_free(cfg);
	return code;
}
