/*
 * The admin client: `revokd revoke`, `unrevoke` and `list` speak the admin
 * API (REFERENCE §5.6) over HTTP with libcurl, and turn its answers into clear
 * messages and exit codes: 0 done, 1 the server said no or could not be
 * reached, 2 the command line is wrong.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "base/buf.h"
#include "base/check.h"
#include "base/mem.h"
#include "service/commands.h"

#define CLIENT_TIMEOUT_MS 10000
#define MAX_ANSWER (16 << 20)

struct answer {
	long status;
	rvk_buf_t body;
};

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;
	if (a->body.len + size * n > MAX_ANSWER)
		return 0;
	rvk_buf_append(&a->body, p, size * n);
	return size * n;
}

static char *
read_token(const char *file)
{
	if (file) {
		FILE *f = fopen(file, "rb");
		if (!f) {
			fprintf(stderr, "revokd: --token-file %s: %s\n", file, strerror(errno));
			return NULL;
		}
		char buf[4096];
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		if (n && buf[n - 1] == '\n')
			buf[--n] = '\0';
		if (n && buf[n - 1] == '\r')
			buf[--n] = '\0';
		return rvk_strdup(buf);
	}
	const char *env = getenv("REVOKD_ADMIN_TOKEN");
	if (env && *env)
		return rvk_strdup(env);
	fprintf(stderr, "revokd: no admin token: use --token-file FILE or set REVOKD_ADMIN_TOKEN\n");
	return NULL;
}

/* Returns: 0 with *a filled, or 1 after printing why the request failed. */
static int
request(const char *method, const char *url, const char *token,
        const char *body, struct answer *a)
{
	CURL *h = curl_easy_init();
	if (!h) {
		fprintf(stderr, "revokd: cannot initialise libcurl\n");
		return 1;
	}
	char auth[4200];
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	struct curl_slist *hdrs = curl_slist_append(NULL, auth);
	if (body)
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)CLIENT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "revokd-cli");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
	if (body)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	CURLcode rc = curl_easy_perform(h);
	int ret = 0;
	if (rc != CURLE_OK) {
		const char *why = curl_easy_strerror(rc);
		if (rc == CURLE_COULDNT_CONNECT)
			why = "connection refused (is revokd running there?)";
		else if (rc == CURLE_OPERATION_TIMEDOUT)
			why = "timed out";
		fprintf(stderr, "revokd: %s %s: %s\n", method, url, why);
		ret = 1;
	} else {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return ret;
}

/* Explains a non-2xx answer. Returns: the exit code (1). */
static int
explain(const char *what, struct answer *a)
{
	const char *desc = NULL;
	json_t *j = a->body.data ? json_loads(a->body.data, 0, NULL) : NULL;
	if (j && json_is_string(json_object_get(j, "error_description")))
		desc = json_string_value(json_object_get(j, "error_description"));
	switch (a->status) {
	case 401:
		fprintf(stderr, "revokd: %s: the admin token was rejected (401)\n", what);
		break;
	case 403:
		fprintf(stderr, "revokd: %s: the admin API is disabled on that server (403: no admin token configured)\n", what);
		break;
	case 404:
		fprintf(stderr, "revokd: %s: not found (404)%s%s\n", what,
		        desc ? ": " : "", desc ? desc : "");
		break;
	default:
		fprintf(stderr, "revokd: %s: the server answered %ld%s%s\n", what,
		        a->status, desc ? ": " : "", desc ? desc : "");
	}
	json_decref(j);
	return 1;
}

static char *
base_url(const char *server)
{
	size_t n = strlen(server);
	while (n && server[n - 1] == '/')
		n--;
	return rvk_memdup0(server, n);
}

static bool
parse_unix(const char *s, json_int_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*end || errno || v < 0)
		return false;
	*out = v;
	return true;
}

/* The options of all three subcommands (each uses its own share). */
struct args {
	const char *cmd;
	const char *server, *iss, *exp, *at, *reason, *token_file, *type, *id,
	           *limit;
	const char *what, *what_id;   /* revoke: the event type and its ID */
	int nwhat;                    /* revoke: how many of --jti ... given */
	json_int_t n_exp, n_at, n_limit;
};

/* What a subcommand runs with once its options are checked. */
struct client {
	const char *token;            /* the admin token */
	const char *base;             /* the server URL without trailing '/' */
	CURL *esc;                    /* for curl_easy_escape only */
	struct answer a;
};

static int
check_revoke(const struct args *o)
{
	if (o->nwhat != 1) {
		fprintf(stderr, "revokd: revoke: give exactly one of --jti, --sid, --sub, --kid, --issuer\n");
		return 2;
	}
	return 0;
}

static int
check_unrevoke(const struct args *o)
{
	if (!o->type || (!o->id && strcmp(o->type, "issuer") != 0)) {
		fprintf(stderr, "revokd: unrevoke: --type and (except for issuer) --id are required\n");
		return 2;
	}
	return 0;
}

/* POST /admin/v1/revocations (REFERENCE §5.6). */
static int
run_revoke(struct client *cl, const struct args *o)
{
	int code = 1;
	json_t *ev = json_object();
	json_object_set_new(ev, "type", json_string(o->what));
	if (o->iss)
		json_object_set_new(ev, "iss", json_string(o->iss));
	if (o->what_id) {
		const char *field = strcmp(o->what, "token.revoked") == 0 ? "jti"
		                  : strcmp(o->what, "session.revoked") == 0 ? "sid"
		                  : strcmp(o->what, "subject.revoked") == 0 ? "sub" : "kid";
		json_object_set_new(ev, field, json_string(o->what_id));
	}
	if (o->exp)
		json_object_set_new(ev, "exp", json_integer(o->n_exp));
	if (o->at)
		json_object_set_new(ev, "at", json_integer(o->n_at));
	if (o->reason)
		json_object_set_new(ev, "reason", json_string(o->reason));
	char *body = json_dumps(ev, JSON_COMPACT);
	json_decref(ev);
	rvk_buf_t url = RVK_BUF_INIT;
	rvk_buf_printf(&url, "%s/admin/v1/revocations", cl->base);
	if (request("POST", url.data, cl->token, body, &cl->a) == 0) {
		if (cl->a.status == 201) {
			puts(cl->a.body.data ? cl->a.body.data : "");
			code = 0;
		} else {
			code = explain("revoke", &cl->a);
		}
	}
	free(body);
	rvk_buf_fini(&url);
	return code;
}

/* DELETE /admin/v1/revocations/TYPE/ID. */
static int
run_unrevoke(struct client *cl, const struct args *o)
{
	int code = 1;
	char *eid = curl_easy_escape(cl->esc, o->id ? o->id : "", 0);
	char *eiss = o->iss ? curl_easy_escape(cl->esc, o->iss, 0) : NULL;
	rvk_buf_t url = RVK_BUF_INIT;
	rvk_buf_printf(&url, "%s/admin/v1/revocations/%s/%s%s%s", cl->base, o->type, eid,
	               eiss ? "?iss=" : "", eiss ? eiss : "");
	if (request("DELETE", url.data, cl->token, NULL, &cl->a) == 0) {
		if (cl->a.status == 204) {
			printf("removed %s revocation%s%s\n", o->type, o->id ? " " : "",
			       o->id ? o->id : "");
			code = 0;
		} else {
			code = explain("unrevoke", &cl->a);
		}
	}
	curl_free(eid);
	curl_free(eiss);
	rvk_buf_fini(&url);
	return code;
}

/* GET /admin/v1/revocations, page after page (at most 1000 each) until
 * --limit items are printed or the cursor ends. */
static int
run_list(struct client *cl, const struct args *o)
{
	char *cursor = NULL;
	json_int_t left = o->n_limit;
	int code = 0;
	while (left > 0) {
		rvk_buf_t url = RVK_BUF_INIT;
		rvk_buf_printf(&url, "%s/admin/v1/revocations?limit=%lld", cl->base,
		               (long long)(left > 1000 ? 1000 : left));
		if (o->type)
			rvk_buf_printf(&url, "&type=%s", o->type);
		if (o->iss) {
			char *e = curl_easy_escape(cl->esc, o->iss, 0);
			rvk_buf_printf(&url, "&iss=%s", e);
			curl_free(e);
		}
		if (cursor) {
			char *e = curl_easy_escape(cl->esc, cursor, 0);
			rvk_buf_printf(&url, "&cursor=%s", e);
			curl_free(e);
		}
		rvk_buf_fini(&cl->a.body);
		int rc = request("GET", url.data, cl->token, NULL, &cl->a);
		rvk_buf_fini(&url);
		if (rc) {
			code = 1;
			break;
		}
		if (cl->a.status != 200) {
			code = explain("list", &cl->a);
			break;
		}
		json_t *j = json_loads(cl->a.body.data ? cl->a.body.data : "", 0, NULL);
		json_t *items = json_object_get(j, "items");
		size_t i;
		json_t *it;
		json_array_foreach(items, i, it) {
			char *s = json_dumps(it, JSON_COMPACT);
			puts(s);
			free(s);
			left--;
		}
		json_t *next = json_object_get(j, "next_cursor");
		free(cursor);
		cursor = json_is_string(next) ? rvk_strdup(json_string_value(next)) : NULL;
		size_t got = json_array_size(items); /* items dies with j */
		json_decref(j);
		if (!cursor || got == 0)
			break;
	}
	free(cursor);
	return code;
}

/* The admin-client subcommands: one row each. */
static const struct subcommand {
	const char *name;
	const char *usage;
	int (*check)(const struct args *o);   /* its own rules: 0, or 2 after a message */
	int (*run)(struct client *cl, const struct args *o);
} subcommands[] = {
	{ "revoke",
	  "usage: revokd revoke --server URL (--jti ID | --sid ID | --sub ID | --kid ID | --issuer)\n"
	  "                     [--iss ISS] [--exp UNIX] [--at UNIX] [--reason TEXT] [--token-file FILE]\n",
	  check_revoke, run_revoke },
	{ "unrevoke",
	  "usage: revokd unrevoke --server URL --type token|session|subject|issuer|key\n"
	  "                       [--id ID] [--iss ISS] [--token-file FILE]\n",
	  check_unrevoke, run_unrevoke },
	{ "list",
	  "usage: revokd list --server URL [--type T] [--iss ISS] [--limit N] [--token-file FILE]\n",
	  NULL, run_list },
};

static void
client_usage(FILE *f, const struct subcommand *sc)
{
	fputs(sc->usage, f);
	fputs("The admin token comes from --token-file or REVOKD_ADMIN_TOKEN.\n", f);
}

enum { O_SERVER = 300, O_JTI, O_SID, O_SUB, O_KID, O_ISSUER, O_ISS, O_EXP, O_AT,
       O_REASON, O_TOKEN_FILE, O_TYPE, O_ID, O_LIMIT };

/* Parses argv into *o. Returns: -1 to go on, else the exit code. */
static int
parse_args(const struct subcommand *sc, int argc, char **argv, struct args *o)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, O_SERVER },
		{ "jti", required_argument, NULL, O_JTI },
		{ "sid", required_argument, NULL, O_SID },
		{ "sub", required_argument, NULL, O_SUB },
		{ "kid", required_argument, NULL, O_KID },
		{ "issuer", no_argument, NULL, O_ISSUER },
		{ "iss", required_argument, NULL, O_ISS },
		{ "exp", required_argument, NULL, O_EXP },
		{ "at", required_argument, NULL, O_AT },
		{ "reason", required_argument, NULL, O_REASON },
		{ "token-file", required_argument, NULL, O_TOKEN_FILE },
		{ "type", required_argument, NULL, O_TYPE },
		{ "id", required_argument, NULL, O_ID },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = sc->name;
	int c;
	o->cmd = cmd;
	o->n_limit = 100;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_SERVER: o->server = optarg; break;
		case O_JTI: o->what = "token.revoked"; o->what_id = optarg; o->nwhat++; break;
		case O_SID: o->what = "session.revoked"; o->what_id = optarg; o->nwhat++; break;
		case O_SUB: o->what = "subject.revoked"; o->what_id = optarg; o->nwhat++; break;
		case O_KID: o->what = "key.revoked"; o->what_id = optarg; o->nwhat++; break;
		case O_ISSUER: o->what = "issuer.revoked"; o->what_id = NULL; o->nwhat++; break;
		case O_ISS: o->iss = optarg; break;
		case O_EXP: o->exp = optarg; break;
		case O_AT: o->at = optarg; break;
		case O_REASON: o->reason = optarg; break;
		case O_TOKEN_FILE: o->token_file = optarg; break;
		case O_TYPE: o->type = optarg; break;
		case O_ID: o->id = optarg; break;
		case O_LIMIT: o->limit = optarg; break;
		case 'h': client_usage(stdout, sc); return 0;
		default: client_usage(stderr, sc); return 2;
		}
	}
	if (!o->server || optind != argc) {
		fprintf(stderr, "revokd: %s: %s\n", cmd,
		        !o->server ? "--server URL is required" : "unexpected argument");
		client_usage(stderr, sc);
		return 2;
	}
	static const char *const types[] = { "token", "session", "subject", "issuer", "key", NULL };
	if (o->type) {
		bool ok = false;
		for (const char *const *t = types; *t; t++)
			ok |= strcmp(*t, o->type) == 0;
		if (!ok) {
			fprintf(stderr, "revokd: %s: --type must be one of token, session, subject, issuer, key\n", cmd);
			return 2;
		}
	}
	if ((o->exp && !parse_unix(o->exp, &o->n_exp)) || (o->at && !parse_unix(o->at, &o->n_at))) {
		fprintf(stderr, "revokd: %s: --exp and --at take Unix seconds\n", cmd);
		return 2;
	}
	if (o->limit && (!parse_unix(o->limit, &o->n_limit) || o->n_limit < 1)) {
		fprintf(stderr, "revokd: %s: --limit takes a positive number\n", cmd);
		return 2;
	}
	if (sc->check)
		return sc->check(o) ? 2 : -1;
	return -1;
}

bool
rvk_cmd_client_has(const char *cmd)
{
	for (size_t i = 0; i < RVK_ARRAY_LEN(subcommands); i++)
		if (strcmp(subcommands[i].name, cmd) == 0)
			return true;
	return false;
}

int
rvk_cmd_client(int argc, char **argv)
{
	const struct subcommand *sc = NULL;
	for (size_t i = 0; i < RVK_ARRAY_LEN(subcommands); i++)
		if (strcmp(subcommands[i].name, argv[0]) == 0)
			sc = &subcommands[i];
	RVK_REQUIRE(sc != NULL);
	struct args o = { 0 };
	int code = parse_args(sc, argc, argv, &o);
	if (code >= 0)
		return code;
	char *token = read_token(o.token_file);
	if (!token)
		return 2;
	char *base = base_url(o.server);
	struct client cl = { .token = token, .base = base, .esc = curl_easy_init(),
	                     .a = { 0, RVK_BUF_INIT } };
	code = sc->run(&cl, &o);
	rvk_buf_fini(&cl.a.body);
	curl_easy_cleanup(cl.esc);
	free(base);
	free(token);
	return code;
}
