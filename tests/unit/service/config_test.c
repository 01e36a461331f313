/*
 * The configuration parser, one test per error class (DECISIONS D12): each bad
 * document must fail with the file, the key path and what is wrong.
 */
#include "service/config.h"
#include "tests/support/tap.h"

static char err[1024];

/* Parses json; returns the error message, or NULL when it parsed. */
static const char *
parse(const char *json)
{
	rvk_config_t *cfg = NULL;
	err[0] = '\0';
	rvk_result_t r = rvk_config_parse_string(json, strlen(json), "t.json", "/etc/revokd",
	                                         &cfg, err, sizeof(err));
	if (r == RVK_OK) {
		rvk_config_free(cfg);
		return NULL;
	}
	return err;
}

#define ISSUER(extra) \
	"{\"issuers\":[{\"issuer\":\"https://i\",\"algorithms\":[\"RS256\",\"HS256\"]," \
	"\"keys\":[{\"kid\":\"k\",\"alg\":\"RS256\",\"pem_file\":\"k.pem\"}]" extra "}]}"

static void
expect(const char *json, const char *message)
{
	const char *got = parse(json);
	TAP_CHECK(got != NULL);
	if (got && !strstr(got, message))
		TAP_FAIL_AT("message \"%s\" lacks \"%s\"", got, message);
}

TAP_TEST(defaults_and_relative_paths)
{
	rvk_config_t *cfg = NULL;
	const char *json = ISSUER("");
	TAP_CHECK_INT(rvk_config_parse_string(json, strlen(json), "t.json", "/etc/revokd",
	                                      &cfg, err, sizeof(err)), RVK_OK);
	if (!cfg)
		return;
	TAP_CHECK_STR(cfg->listen, "127.0.0.1:8080");
	TAP_CHECK_INT(cfg->leeway, 30);
	TAP_CHECK_INT(cfg->max_token_bytes, 8192);
	TAP_CHECK_INT(cfg->max_token_lifetime, 86400);
	TAP_CHECK(cfg->require_jti);
	TAP_CHECK_INT(cfg->vcache_max_entries, 100000);
	TAP_CHECK_INT(cfg->vcache_ttl, 300);
	TAP_CHECK_INT(cfg->webhook_tolerance, 300);
	TAP_CHECK_STR(cfg->issuers[0].keys[0].pem_file, "/etc/revokd/k.pem");
	TAP_CHECK_INT(cfg->issuers[0].n_token_types, 2);
	TAP_CHECK(!cfg->integrity_check_every_start);
	rvk_config_free(cfg);
}

TAP_TEST(integrity_check_takes_two_words)
{
	rvk_config_t *cfg = NULL;
	const char *json = "{\"integrity_check\":\"every_start\"}";
	TAP_CHECK_INT(rvk_config_parse_string(json, strlen(json), "t.json", "/etc/revokd",
	                                      &cfg, err, sizeof(err)), RVK_OK);
	TAP_CHECK(cfg && cfg->integrity_check_every_start);
	rvk_config_free(cfg);
	expect("{\"integrity_check\":\"never\"}",
	       "integrity_check: must be \"after_unclean_stop\" or \"every_start\"");
	expect("{\"integrity_check\":true}",
	       "integrity_check: must be \"after_unclean_stop\" or \"every_start\"");
}

TAP_TEST(unknown_keys)
{
	expect("{\"require_jit\":true}", "config t.json: require_jit: unknown key");
	expect(ISSUER(",\"foo\":1"), "issuers[0].foo: unknown key");
	expect("{\"verified_cache\":{\"size\":1}}", "verified_cache.size: unknown key");
}

TAP_TEST(wrong_types)
{
	expect("{\"leeway\":\"30\"}", "leeway: must be an integer, not a string");
	expect("{\"require_jti\":1}", "require_jti: must be true or false");
	expect("{\"issuers\":{}}", "issuers: must be an array");
}

TAP_TEST(out_of_range_numbers)
{
	expect("{\"leeway\":-1}", "leeway: -1 is out of range");
	expect("{\"threads\":100000}", "threads: 100000 is out of range");
	expect("{\"max_token_bytes\":10}", "max_token_bytes: 10 is out of range");
}

TAP_TEST(unknown_algorithm_names_the_index)
{
	expect("{\"issuers\":[{\"issuer\":\"x\",\"algorithms\":[\"RS256\",\"HS257\"],\"keys\":[]}]}",
	       "config t.json: issuers[0].algorithms[1]: unknown algorithm \"HS257\"");
	expect("{\"issuers\":[{\"issuer\":\"x\",\"algorithms\":[\"none\"],\"keys\":[]}]}",
	       "issuers[0].algorithms[0]: algorithm \"none\" is never allowed");
}

TAP_TEST(key_alg_outside_issuer_algorithms)
{
	expect("{\"issuers\":[{\"issuer\":\"x\",\"algorithms\":[\"RS256\"],"
	       "\"keys\":[{\"alg\":\"ES256\",\"pem_file\":\"e.pem\"}]}]}",
	       "issuers[0].keys[0].alg: \"ES256\" is not in this issuer's algorithms");
}

TAP_TEST(key_material_must_match_alg)
{
	expect("{\"issuers\":[{\"issuer\":\"x\",\"algorithms\":[\"HS256\"],"
	       "\"keys\":[{\"alg\":\"HS256\",\"pem_file\":\"e.pem\"}]}]}",
	       "issuers[0].keys[0]: an HS256 key needs secret_file");
}

TAP_TEST(access_token_types_exclude_logout_and_set)
{
	expect(ISSUER(",\"token_types\":[\"JWT\",\"application/logout+jwt\"]"),
	       "issuers[0].token_types[1]: \"application/logout+jwt\" is never an access token type");
}

TAP_TEST(issuer_needs_a_key_source)
{
	expect("{\"issuers\":[{\"issuer\":\"x\",\"algorithms\":[\"RS256\"]}]}",
	       "issuers[0]: needs jwks_uri, discovery: true, or keys");
}

TAP_TEST(json_syntax_and_duplicates)
{
	expect("{\"leeway\":30,}", "config t.json: line 1");
	expect("{\"leeway\":30,\"leeway\":31}", "duplicate");
}

TAP_TEST(listen_addresses)
{
	expect("{\"listen\":\"8080\"}", "listen: must be ADDRESS:PORT");
	expect("{\"listen\":\"127.0.0.1:99999\"}", "listen: bad port");
}

/* Cluster mode's production keys (REFERENCE §2, §7). */
TAP_TEST(redis_tls_sentinel_and_limits)
{
	rvk_config_t *cfg = NULL;
	const char *json = "{\"redis\":{\"url\":\"rediss://revokd@r:6380/0\","
		"\"password_file\":\"pw\",\"tls\":{\"ca_file\":\"ca.pem\","
		"\"server_name\":\"r.internal\"},\"sentinel\":{\"master_name\":\"m\","
		"\"addrs\":[\"10.0.0.1:26379\",\"[::1]:26380\"]},\"wait_replicas\":1,"
		"\"reconcile_interval\":5}}";
	TAP_CHECK_INT(rvk_config_parse_string(json, strlen(json), "t.json", "/etc/revokd",
	                                      &cfg, err, sizeof(err)), RVK_OK);
	if (cfg) {
		TAP_CHECK_STR(cfg->redis_tls_server_name, "r.internal");
		TAP_CHECK_STR(cfg->redis_tls_ca_file, "/etc/revokd/ca.pem");
		TAP_CHECK_STR(cfg->redis_password_file, "/etc/revokd/pw");
		TAP_CHECK_STR(cfg->redis_sentinel_master, "m");
		TAP_CHECK_INT(cfg->n_redis_sentinel_addrs, 2);
		TAP_CHECK_INT(cfg->redis_wait_replicas, 1);
		TAP_CHECK_INT(cfg->redis_reconcile_interval, 5);
		rvk_config_free(cfg);
	}
	expect("{\"redis\":{\"url\":\"http://r\"}}", "redis.url: must start with redis:// or rediss://");
	expect("{\"redis\":{\"url\":\"rediss://r\",\"tls\":{\"verify\":false}}}",
	       "redis.tls.verify: unknown key");
	expect("{\"redis\":{\"url\":\"rediss://r\",\"tls\":{\"cert_file\":\"c\"}}}",
	       "cert_file and key_file go together");
	expect("{\"redis\":{\"url\":\"redis://r\",\"sentinel\":{\"addrs\":[\"h:1\"]}}}",
	       "redis.sentinel.master_name: is required");
	expect("{\"redis\":{\"url\":\"redis://r\",\"sentinel\":{\"master_name\":\"m\","
	       "\"addrs\":[\"h\"]}}}", "redis.sentinel.addrs: \"h\" is not host:port");
	expect("{\"redis\":{\"url\":\"redis://r\",\"sentinel\":{\"master_name\":\"m\","
	       "\"addrs\":[]}}}", "must name at least one sentinel");
	expect("{\"redis\":{\"url\":\"redis://r\",\"reconcile_interval\":0}}",
	       "redis.reconcile_interval: 0 is out of range");
	expect("{\"redis\":{\"url\":\"redis://r\",\"wait_replicas\":17}}",
	       "redis.wait_replicas: 17 is out of range");
}

/* The keys where a and b differ, restart-only or live (rvk_config_diff). */
static void
diff(const char *a, const char *b, const char *restart, const char *live)
{
	rvk_config_t *ca = NULL, *cb = NULL;
	char out[512];
	TAP_CHECK_INT(rvk_config_parse_string(a, strlen(a), "t.json", "/etc/revokd", &ca,
	                                      err, sizeof(err)), RVK_OK);
	TAP_CHECK_INT(rvk_config_parse_string(b, strlen(b), "t.json", "/etc/revokd", &cb,
	                                      err, sizeof(err)), RVK_OK);
	if (!ca || !cb)
		goto cleanup;
	rvk_config_diff(ca, cb, true, out, sizeof(out));
	TAP_CHECK_STR(out, restart);
	rvk_config_diff(ca, cb, false, out, sizeof(out));
	TAP_CHECK_STR(out, live);
	rvk_config_diff(cb, cb, true, out, sizeof(out));
	TAP_CHECK_STR(out, "");
	rvk_config_diff(cb, cb, false, out, sizeof(out));
	TAP_CHECK_STR(out, "");
cleanup:
	rvk_config_free(ca);
	rvk_config_free(cb);
}

TAP_TEST(diff_names_restart_only_and_live_keys)
{
	/* Equal values written differently (a default spelled out, a
	 * relative path) are the same. */
	diff("{\"threads\":0,\"data_dir\":\"d\"}", "{\"data_dir\":\"/etc/revokd/d\"}", "", "");
	diff("{\"threads\":2,\"leeway\":5}", "{\"threads\":3,\"leeway\":6}",
	     "threads", "leeway");
	diff("{}", "{\"listen\":\"0.0.0.0:1\",\"data_dir\":\"x\",\"log_format\":\"text\","
	     "\"max_token_bytes\":300,\"max_token_lifetime\":61,"
	     "\"verified_cache\":{\"max_entries\":1,\"ttl\":1},\"log_level\":\"debug\"}",
	     "listen, data_dir, log_format, max_token_bytes, max_token_lifetime, "
	     "verified_cache.max_entries", "log_level, verified_cache.ttl");
	/* Objects marked restart-only cover every key inside; the
	 * introspection clients are live (their secrets are read with the
	 * admin tokens at every SIGHUP). */
	diff("{}", "{\"redis\":{\"url\":\"redis://r\"},\"introspection\":{\"clients\":"
	     "[{\"id\":\"c\",\"secret_file\":\"s\"}]}}",
	     "redis.url", "introspection.clients");
	diff("{\"redis\":{\"url\":\"redis://r\"}}",
	     "{\"redis\":{\"url\":\"redis://r\",\"stream\":\"s\"}}", "redis.stream", "");
	/* An issuer's keys, one deep member, an issuer more: "issuers". */
	diff(ISSUER(""), ISSUER(",\"audiences\":[\"a\"]"), "", "issuers");
	diff(ISSUER(""), "{\"issuers\":[{\"issuer\":\"https://i\",\"algorithms\":[\"RS256\","
	     "\"HS256\"],\"keys\":[{\"kid\":\"k\",\"alg\":\"RS256\",\"pem_file\":\"k2.pem\"}]}]}",
	     "", "issuers");
	diff("{\"forward_claims\":{\"sub\":\"X-S\"},\"admin\":{\"token_file\":\"a\"}}",
	     "{\"forward_claims\":{\"sub\":\"X-T\"},\"admin\":{\"token_file\":[\"a\",\"b\"]},"
	     "\"token_cookie\":\"c\",\"set_audience\":\"s\",\"require_jti\":false,"
	     "\"webhook\":{\"tolerance\":5}}",
	     "", "require_jti, token_cookie, forward_claims, webhook.tolerance, "
	     "admin.token_file, set_audience");
}

int
main(void)
{
	return tap_main(TAP_LIST(defaults_and_relative_paths, integrity_check_takes_two_words,
	                         unknown_keys, wrong_types,
	                         out_of_range_numbers, unknown_algorithm_names_the_index,
	                         key_alg_outside_issuer_algorithms, key_material_must_match_alg,
	                         access_token_types_exclude_logout_and_set,
	                         issuer_needs_a_key_source, json_syntax_and_duplicates,
	                         listen_addresses, redis_tls_sentinel_and_limits,
	                         diff_names_restart_only_and_live_keys));
}
