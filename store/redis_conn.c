/*
 * redis_conn.c - a RESP connection over TCP or TLS (store/redis_conn.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "base/check.h"
#include "base/mem.h"
#include "store/redis_conn.h"
#include "store/replica_entry.h"

struct rvk_redis_conn {
	int fd;
	SSL *ssl;                       /* NULL: plain TCP */
	redisReader *reader;
	char *out;                      /* commands not sent yet */
	size_t outlen, outcap;
	char err[256];                  /* "" while alive */
	char peer[300];                 /* host:port */
	bool answered;                  /* a reply was read */
};

/* The first queued OpenSSL error, or fallback. Clears the queue. */
static void
ssl_reason(char *buf, size_t len, const char *fallback)
{
	unsigned long e = ERR_get_error();
	if (e)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "%s", fallback);
	ERR_clear_error();
}

rvk_result_t
rvk_redis_tls_new(const rvk_redis_tls_opts_t *o, SSL_CTX **out, char *err,
                  size_t errlen)
{
	RVK_REQUIRE(o && out && err);
	char why[200];
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	RVK_REQUIRE(ctx != NULL);
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (o->ca_file) {
		if (SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL) != 1) {
			ssl_reason(why, sizeof(why), "unreadable");
			snprintf(err, errlen, "tls.ca_file %s: %s", o->ca_file, why);
			goto cleanup;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		ssl_reason(why, sizeof(why), "unreadable");
		snprintf(err, errlen, "tls: the system's CA bundle: %s", why);
		goto cleanup;
	}
	if (!o->cert_file != !o->key_file) {
		snprintf(err, errlen, "tls: cert_file and key_file go together");
		goto cleanup;
	}
	if (o->cert_file) {
		if (SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) != 1) {
			ssl_reason(why, sizeof(why), "unreadable");
			snprintf(err, errlen, "tls.cert_file %s: %s", o->cert_file,
			         why);
			goto cleanup;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, o->key_file,
		                                SSL_FILETYPE_PEM) != 1
		    || SSL_CTX_check_private_key(ctx) != 1) {
			ssl_reason(why, sizeof(why), "unreadable");
			snprintf(err, errlen, "tls.key_file %s: %s", o->key_file,
			         why);
			goto cleanup;
		}
	}
	*out = ctx;
	return RVK_OK;
cleanup:
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return RVK_EINVAL;
}

/* TCP connect with a timeout. Returns: the fd (blocking) or -1 with err. */
static int
tcp_connect(const char *host, int port, int timeout_ms, char *err,
            size_t errlen)
{
	char ps[16];
	snprintf(ps, sizeof(ps), "%d", port);
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
	                          .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	int g = getaddrinfo(host, ps, &hints, &ai);
	if (g != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", host,
		         gai_strerror(g));
		return -1;
	}
	int fd = -1;
	snprintf(err, errlen, "no address");
	for (struct addrinfo *a = ai; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC
		                          | SOCK_NONBLOCK, a->ai_protocol);
		if (fd < 0) {
			snprintf(err, errlen, "socket: %s", strerror(errno));
			continue;
		}
		int rc = connect(fd, a->ai_addr, a->ai_addrlen);
		if (rc != 0 && errno == EINPROGRESS) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			int pr;
			do
				pr = poll(&p, 1, timeout_ms);
			while (pr < 0 && errno == EINTR);
			if (pr == 0) {
				errno = ETIMEDOUT;
			} else if (pr > 0) {
				int so = 0;
				socklen_t sl = sizeof(so);
				getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl);
				errno = so;
				rc = so ? -1 : 0;
			}
		}
		if (rc == 0) {
			int fl = fcntl(fd, F_GETFL);
			fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
			break;
		}
		snprintf(err, errlen, "%s", strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static bool
is_ip_literal(const char *s)
{
	unsigned char b[16];
	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

/* The TLS handshake on c->fd. Returns: false with err. */
static bool
tls_handshake(rvk_redis_conn_t *c, SSL_CTX *tls, const char *name,
              char *err, size_t errlen)
{
	c->ssl = SSL_new(tls);
	RVK_REQUIRE(c->ssl != NULL);
	SSL_set_fd(c->ssl, c->fd);
	if (is_ip_literal(name)) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);
		RVK_REQUIRE(X509_VERIFY_PARAM_set1_ip_asc(vp, name) == 1);
	} else {
		RVK_REQUIRE(SSL_set1_host(c->ssl, name) == 1);
		SSL_set_tlsext_host_name(c->ssl, name);
	}
	ERR_clear_error();
	errno = 0;
	int rc = SSL_connect(c->ssl);
	if (rc == 1)
		return true;
	long vr = SSL_get_verify_result(c->ssl);
	char why[200];
	if (vr != X509_V_OK) {
		snprintf(err, errlen, "TLS: certificate verify failed: %s "
		         "(checked against %s)", X509_verify_cert_error_string(vr),
		         name);
		ERR_clear_error();
	} else {
		ssl_reason(why, sizeof(why), errno ? strerror(errno)
		                                   : "connection closed");
		snprintf(err, errlen, "TLS handshake failed: %s", why);
	}
	return false;
}

rvk_result_t
rvk_redis_conn_open(const char *host, int port, SSL_CTX *tls,
                    const char *server_name, int connect_timeout_ms,
                    int io_timeout_s, rvk_redis_conn_t **out, char *err,
                    size_t errlen)
{
	RVK_REQUIRE(host && out && err);
	int fd = tcp_connect(host, port, connect_timeout_ms, err, errlen);
	if (fd < 0)
		return RVK_EIO;
	struct timeval tv = { io_timeout_s, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	rvk_redis_conn_t *c = rvk_calloc(1, sizeof(*c));
	c->fd = fd;
	snprintf(c->peer, sizeof(c->peer), "%s:%d", host, port);
	c->reader = redisReaderCreate();
	RVK_REQUIRE(c->reader != NULL);
	rvk_repl_bound_reader(c->reader);
	if (tls && !tls_handshake(c, tls, server_name ? server_name : host,
	                          err, errlen)) {
		rvk_redis_conn_free(c);
		return RVK_EIO;
	}
	*out = c;
	return RVK_OK;
}

static void
dead(rvk_redis_conn_t *c, const char *what, const char *why)
{
	if (!c->err[0])
		snprintf(c->err, sizeof(c->err), "%s: %s", what, why);
}

/* An I/O failure's reason (TLS: the OpenSSL error, else errno). */
static void
io_dead(rvk_redis_conn_t *c, const char *what, int ssl_rc)
{
	int e = errno;
	char why[200];
	if (c->ssl) {
		int se = SSL_get_error(c->ssl, ssl_rc);
		if (se == SSL_ERROR_ZERO_RETURN) {
			dead(c, what, "connection closed by the server");
			return;
		}
		ssl_reason(why, sizeof(why),
		           e == EAGAIN || e == EWOULDBLOCK ? "timed out"
		           : e ? strerror(e) : "connection closed");
		/* TLS 1.3: a server that refuses our client certificate (or
		 * its absence) does so after our handshake ended; its alert
		 * is often lost to the reset that follows. */
		if (!c->answered && (e == ECONNRESET || e == EPIPE)) {
			size_t l = strlen(why);
			snprintf(why + l, sizeof(why) - l, " (the server ended the "
			         "TLS session at once: did it want a client "
			         "certificate?)");
		}
	} else if (ssl_rc == 0) {
		snprintf(why, sizeof(why), "connection closed by the server");
	} else {
		snprintf(why, sizeof(why), "%s", e == EAGAIN || e == EWOULDBLOCK
		                                 ? "timed out" : strerror(e));
	}
	dead(c, what, why);
}

static void
append_raw(rvk_redis_conn_t *c, const char *cmd, int len)
{
	RVK_REQUIRE(len >= 0);
	if (c->outlen + (size_t)len > c->outcap) {
		size_t cap = c->outcap ? c->outcap : 1024;
		while (cap < c->outlen + (size_t)len)
			cap *= 2;
		c->out = rvk_realloc(c->out, cap);
		c->outcap = cap;
	}
	memcpy(c->out + c->outlen, cmd, (size_t)len);
	c->outlen += (size_t)len;
}

void
rvk_redis_conn_append_argv(rvk_redis_conn_t *c, int argc, const char **argv,
                           const size_t *lens)
{
	RVK_REQUIRE(c && argc > 0 && argv);
	char *cmd = NULL;
	int len = redisFormatCommandArgv(&cmd, argc, argv, lens);
	RVK_REQUIRE(len > 0 && cmd);
	append_raw(c, cmd, len);
	redisFreeCommand(cmd);
}

static void
vappend(rvk_redis_conn_t *c, const char *fmt, va_list ap)
{
	char *cmd = NULL;
	int len = redisvFormatCommand(&cmd, fmt, ap);
	RVK_REQUIRE(len > 0 && cmd);
	append_raw(c, cmd, len);
	redisFreeCommand(cmd);
}

void
rvk_redis_conn_append(rvk_redis_conn_t *c, const char *fmt, ...)
{
	RVK_REQUIRE(c && fmt);
	va_list ap;
	va_start(ap, fmt);
	vappend(c, fmt, ap);
	va_end(ap);
}

static bool
flush_out(rvk_redis_conn_t *c)
{
	size_t off = 0;
	while (off < c->outlen) {
		errno = 0;
		ssize_t w;
		if (c->ssl) {
			ERR_clear_error();
			int rc = SSL_write(c->ssl, c->out + off,
			                   (int)(c->outlen - off > 1 << 30
			                         ? 1 << 30 : c->outlen - off));
			if (rc <= 0) {
				io_dead(c, "write", rc);
				return false;
			}
			w = rc;
		} else {
			w = send(c->fd, c->out + off, c->outlen - off,
			         MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				io_dead(c, "write", -1);
				return false;
			}
		}
		off += (size_t)w;
	}
	c->outlen = 0;
	return true;
}

rvk_result_t
rvk_redis_conn_get_reply(rvk_redis_conn_t *c, redisReply **out)
{
	RVK_REQUIRE(c && out);
	if (c->err[0])
		return RVK_EIO;
	if (c->outlen && !flush_out(c))
		return RVK_EIO;
	for (;;) {
		void *reply = NULL;
		if (redisReaderGetReply(c->reader, &reply) != REDIS_OK) {
			/* The bounded reader's refusal reads as hiredis' OOM. */
			dead(c, "bad reply",
			     strcmp(c->reader->errstr, "Out of memory") == 0
			     ? "an array over 2^20 elements (or out of memory)"
			     : c->reader->errstr[0] ? c->reader->errstr
			                            : "protocol error");
			return RVK_EIO;
		}
		if (reply) {
			c->answered = true;
			*out = reply;
			return RVK_OK;
		}
		char buf[16384];
		errno = 0;
		ssize_t n;
		if (c->ssl) {
			ERR_clear_error();
			int rc = SSL_read(c->ssl, buf, sizeof(buf));
			if (rc <= 0) {
				io_dead(c, "read", rc);
				return RVK_EIO;
			}
			n = rc;
		} else {
			n = recv(c->fd, buf, sizeof(buf), 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				io_dead(c, "read", (int)n);
				return RVK_EIO;
			}
		}
		if (redisReaderFeed(c->reader, buf, (size_t)n) != REDIS_OK) {
			dead(c, "bad reply", c->reader->errstr);
			return RVK_EIO;
		}
	}
}

redisReply *
rvk_redis_conn_command(rvk_redis_conn_t *c, const char *fmt, ...)
{
	RVK_REQUIRE(c && fmt);
	va_list ap;
	va_start(ap, fmt);
	vappend(c, fmt, ap);
	va_end(ap);
	redisReply *r = NULL;
	return rvk_redis_conn_get_reply(c, &r) == RVK_OK ? r : NULL;
}

redisReply *
rvk_redis_conn_command_argv(rvk_redis_conn_t *c, int argc, const char **argv,
                            const size_t *lens)
{
	rvk_redis_conn_append_argv(c, argc, argv, lens);
	redisReply *r = NULL;
	return rvk_redis_conn_get_reply(c, &r) == RVK_OK ? r : NULL;
}

const char *
rvk_redis_conn_error(const rvk_redis_conn_t *c)
{
	RVK_REQUIRE(c);
	return c->err;
}

const char *
rvk_redis_conn_peer(const rvk_redis_conn_t *c)
{
	RVK_REQUIRE(c);
	return c->peer;
}

void
rvk_redis_conn_shutdown(rvk_redis_conn_t *c)
{
	if (c && c->fd >= 0)
		shutdown(c->fd, SHUT_RDWR);
}

void
rvk_redis_conn_free(rvk_redis_conn_t *c)
{
	if (!c)
		return;
	if (c->ssl) {
		/* No close_notify: the peer may be gone, and a write here
		 * could block; the socket close ends the session. */
		SSL_free(c->ssl);
	}
	if (c->fd >= 0)
		close(c->fd);
	redisReaderFree(c->reader);
	free(c->out);
	free(c);
}
