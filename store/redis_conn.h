/*
 * redis_conn.h - one blocking connection to a Redis server, plain TCP or
 * TLS, that speaks RESP (REFERENCE §7, "The Redis that production runs").
 *
 * DESIGN: Debian 12's hiredis (0.14) has no TLS, and its redisContext owns
 * the socket. So the socket is ours: a TCP connection (connect timeout,
 * then blocking I/O with SO_RCVTIMEO/SO_SNDTIMEO), optionally wrapped in an
 * OpenSSL client session; hiredis only formats commands
 * (redisFormatCommandArgv) and reads replies (a redisReader, bounded by
 * rvk_repl_bound_reader - the same reader tests/fuzz/fuzz_redis.c feeds).
 * Plain and TLS connections run the same code above the byte pipe, so the
 * plaintext tests exercise every line but the handshake.
 *
 * TLS: the server's certificate is always verified (chain to ca_file or the
 * system bundle, and the name: server_name, else the URL's host; an IP
 * literal is checked against the certificate's IP addresses). There is no
 * switch to turn verification off. TLS 1.2 or later.
 *
 * Like hiredis' context, a connection is dead after any error: the caller
 * frees it and connects again.
 *
 * Threads: a connection belongs to one thread; only rvk_redis_conn_shutdown
 * may be called from another (it shuts the socket down so a blocked read
 * returns). A TLS context (SSL_CTX) is shared by every connection and
 * thread (OpenSSL 3 makes that safe once built).
 */
#ifndef RVK_STORE_REDIS_CONN_H
#define RVK_STORE_REDIS_CONN_H

#include <stdarg.h>
#include <stddef.h>

#include <hiredis/hiredis.h>
#include <openssl/ssl.h>

#include "base/result.h"

typedef struct rvk_redis_tls_opts {
	const char *ca_file;            /* NULL: the system's CA bundle */
	const char *cert_file;          /* client certificate (chain), or NULL */
	const char *key_file;           /* its key; required with cert_file */
} rvk_redis_tls_opts_t;

/*
 * Builds the client TLS context (verification on, TLS >= 1.2).
 * Returns: RVK_OK and *out (owned: SSL_CTX_free); RVK_EINVAL with err
 * naming the file that could not be loaded.
 */
rvk_result_t rvk_redis_tls_new(const rvk_redis_tls_opts_t *o, SSL_CTX **out,
                               char *err, size_t errlen);

typedef struct rvk_redis_conn rvk_redis_conn_t;

/*
 * Connects to host:port (TCP, connect_timeout_ms), then, when tls is not
 * NULL, does the TLS handshake checking the certificate against
 * server_name (NULL: host). io_timeout_s bounds every later read/write.
 * Returns: RVK_OK and *out (owned: rvk_redis_conn_free); RVK_EIO with err
 * (the socket error, or for TLS what failed: "certificate verify failed:
 * certificate has expired", "...: hostname mismatch", ...).
 */
rvk_result_t rvk_redis_conn_open(const char *host, int port, SSL_CTX *tls,
                                 const char *server_name,
                                 int connect_timeout_ms, int io_timeout_s,
                                 rvk_redis_conn_t **out, char *err,
                                 size_t errlen);

/* Buffers one command (sent by the next get_reply or command). */
void rvk_redis_conn_append_argv(rvk_redis_conn_t *c, int argc,
                                const char **argv, const size_t *lens);
void rvk_redis_conn_append(rvk_redis_conn_t *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Sends what is buffered, then reads one reply.
 * Returns: RVK_OK and *out (owned: freeReplyObject; may be an error
 * reply); RVK_EIO (the connection is dead: rvk_redis_conn_error says why).
 */
rvk_result_t rvk_redis_conn_get_reply(rvk_redis_conn_t *c, redisReply **out);

/* append + get_reply. Returns: the reply (owned) or NULL (dead). The
 * format is hiredis': %s a C string, %b a pointer and a length, %d. */
redisReply *rvk_redis_conn_command(rvk_redis_conn_t *c, const char *fmt, ...);
redisReply *rvk_redis_conn_command_argv(rvk_redis_conn_t *c, int argc,
                                        const char **argv, const size_t *lens);

/* Returns: why the connection died ("" while it lives); valid until free. */
const char *rvk_redis_conn_error(const rvk_redis_conn_t *c);

/* Returns: "host:port" as given to open; valid until free. */
const char *rvk_redis_conn_peer(const rvk_redis_conn_t *c);

/* Any thread: makes a blocked read or write of the owner return (dead). */
void rvk_redis_conn_shutdown(rvk_redis_conn_t *c);

/* NULL is fine. */
void rvk_redis_conn_free(rvk_redis_conn_t *c);

#endif
