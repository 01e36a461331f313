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

static void
client_usage(FILE *f, const char *cmd)
{
	if (strcmp(cmd, "revoke") == 0)
		fputs("usage: revokd revoke --server URL (--jti ID | --sid ID | --sub ID | --kid ID | --issuer)\n"
		      "                     [--iss ISS] [--exp UNIX] [--at UNIX] [--reason TEXT] [--token-file FILE]\n", f);
	else if (strcmp(cmd, "unrevoke") == 0)
		fputs("usage: revokd unrevoke --server URL --type token|session|subject|issuer|key\n"
		      "                       [--id ID] [--iss ISS] [--token-file FILE]\n", f);
	else
		fputs("usage: revokd list --server URL [--type T] [--iss ISS] [--limit N] [--token-file FILE]\n", f);
	fputs("The admin token comes from --token-file or REVOKD_ADMIN_TOKEN.\n", f);
}

enum { O_SERVER = 300, O_JTI, O_SID, O_SUB, O_KID, O_ISSUER, O_ISS, O_EXP, O_AT,
       O_REASON, O_TOKEN_FILE, O_TYPE, O_ID, O_LIMIT };

int
rvk_cmd_client(const char *cmd, int argc, char **argv)
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
	const char *server = NULL, *iss = NULL, *exp = NULL, *at = NULL,
	           *reason = NULL, *token_file = NULL, *type = NULL, *id = NULL,
	           *limit = NULL, *what = NULL, *what_id = NULL;
	int nwhat = 0, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_SERVER: server = optarg; break;
		case O_JTI: what = "token.revoked"; what_id = optarg; nwhat++; break;
		case O_SID: what = "session.revoked"; what_id = optarg; nwhat++; break;
		case O_SUB: what = "subject.revoked"; what_id = optarg; nwhat++; break;
		case O_KID: what = "key.revoked"; what_id = optarg; nwhat++; break;
		case O_ISSUER: what = "issuer.revoked"; what_id = NULL; nwhat++; break;
		case O_ISS: iss = optarg; break;
		case O_EXP: exp = optarg; break;
		case O_AT: at = optarg; break;
		case O_REASON: reason = optarg; break;
		case O_TOKEN_FILE: token_file = optarg; break;
		case O_TYPE: type = optarg; break;
		case O_ID: id = optarg; break;
		case O_LIMIT: limit = optarg; break;
		case 'h': client_usage(stdout, cmd); return 0;
		default: client_usage(stderr, cmd); return 2;
		}
	}
	if (!server || optind != argc) {
		fprintf(stderr, "revokd: %s: %s\n", cmd,
		        !server ? "--server URL is required" : "unexpected argument");
		client_usage(stderr, cmd);
		return 2;
	}
	static const char *const types[] = { "token", "session", "subject", "issuer", "key", NULL };
	if (type) {
		bool ok = false;
		for (const char *const *t = types; *t; t++)
			ok |= strcmp(*t, type) == 0;
		if (!ok) {
			fprintf(stderr, "revokd: %s: --type must be one of token, session, subject, issuer, key\n", cmd);
			return 2;
		}
	}
	json_int_t n_exp = 0, n_at = 0, n_limit = 100;
	if ((exp && !parse_unix(exp, &n_exp)) || (at && !parse_unix(at, &n_at))) {
		fprintf(stderr, "revokd: %s: --exp and --at take Unix seconds\n", cmd);
		return 2;
	}
	if (limit && (!parse_unix(limit, &n_limit) || n_limit < 1)) {
		fprintf(stderr, "revokd: %s: --limit takes a positive number\n", cmd);
		return 2;
	}
	if (strcmp(cmd, "revoke") == 0 && nwhat != 1) {
		fprintf(stderr, "revokd: revoke: give exactly one of --jti, --sid, --sub, --kid, --issuer\n");
		return 2;
	}
	if (strcmp(cmd, "unrevoke") == 0 && (!type || (!id && strcmp(type, "issuer") != 0))) {
		fprintf(stderr, "revokd: unrevoke: --type and (except for issuer) --id are required\n");
		return 2;
	}

	char *token = read_token(token_file);
	if (!token)
		return 2;
	char *base = base_url(server);
	CURL *esc = curl_easy_init();
	int code = 1;
	struct answer a = { 0, RVK_BUF_INIT };

	if (strcmp(cmd, "revoke") == 0) {
		json_t *ev = json_object();
		json_object_set_new(ev, "type", json_string(what));
		if (iss)
			json_object_set_new(ev, "iss", json_string(iss));
		if (what_id) {
			const char *field = strcmp(what, "token.revoked") == 0 ? "jti"
			                  : strcmp(what, "session.revoked") == 0 ? "sid"
			                  : strcmp(what, "subject.revoked") == 0 ? "sub" : "kid";
			json_object_set_new(ev, field, json_string(what_id));
		}
		if (exp)
			json_object_set_new(ev, "exp", json_integer(n_exp));
		if (at)
			json_object_set_new(ev, "at", json_integer(n_at));
		if (reason)
			json_object_set_new(ev, "reason", json_string(reason));
		char *body = json_dumps(ev, JSON_COMPACT);
		json_decref(ev);
		rvk_buf_t url = RVK_BUF_INIT;
		rvk_buf_printf(&url, "%s/admin/v1/revocations", base);
		if (request("POST", url.data, token, body, &a) == 0) {
			if (a.status == 201) {
				puts(a.body.data ? a.body.data : "");
				code = 0;
			} else {
				code = explain("revoke", &a);
			}
		}
		free(body);
		rvk_buf_fini(&url);
	} else if (strcmp(cmd, "unrevoke") == 0) {
		char *eid = curl_easy_escape(esc, id ? id : "", 0);
		char *eiss = iss ? curl_easy_escape(esc, iss, 0) : NULL;
		rvk_buf_t url = RVK_BUF_INIT;
		rvk_buf_printf(&url, "%s/admin/v1/revocations/%s/%s%s%s", base, type, eid,
		               eiss ? "?iss=" : "", eiss ? eiss : "");
		if (request("DELETE", url.data, token, NULL, &a) == 0) {
			if (a.status == 204) {
				printf("removed %s revocation%s%s\n", type, id ? " " : "", id ? id : "");
				code = 0;
			} else {
				code = explain("unrevoke", &a);
			}
		}
		curl_free(eid);
		curl_free(eiss);
		rvk_buf_fini(&url);
	} else {
		char *cursor = NULL;
		json_int_t left = n_limit;
		code = 0;
		while (left > 0) {
			rvk_buf_t url = RVK_BUF_INIT;
			rvk_buf_printf(&url, "%s/admin/v1/revocations?limit=%lld", base,
			               (long long)(left > 1000 ? 1000 : left));
			if (type)
				rvk_buf_printf(&url, "&type=%s", type);
			if (iss) {
				char *e = curl_easy_escape(esc, iss, 0);
				rvk_buf_printf(&url, "&iss=%s", e);
				curl_free(e);
			}
			if (cursor) {
				char *e = curl_easy_escape(esc, cursor, 0);
				rvk_buf_printf(&url, "&cursor=%s", e);
				curl_free(e);
			}
			rvk_buf_fini(&a.body);
			int rc = request("GET", url.data, token, NULL, &a);
			rvk_buf_fini(&url);
			if (rc) {
				code = 1;
				break;
			}
			if (a.status != 200) {
				code = explain("list", &a);
				break;
			}
			json_t *j = json_loads(a.body.data ? a.body.data : "", 0, NULL);
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
	}
	rvk_buf_fini(&a.body);
	curl_easy_cleanup(esc);
	free(base);
	free(token);
	return code;
}
