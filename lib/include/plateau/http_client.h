/*  http_client.h — a small blocking HTTP/1.1 client: tests, plateauctl and services.
 *
 *  One client is one TCP connection to host:port (a name or an address, IPv4 or IPv6), opened
 *  with a deadline and read with one: a peer that stops answering costs at most timeout_ms per
 *  wait, never a hung process. pl_http_client_request() is the whole exchange in one call
 *  ("Connection: close"); for streaming a large body or several requests on a kept-alive
 *  connection, send the head, then the bytes, then read the response. Responses are framed by
 *  Content-Length, chunked encoding or the close of the connection, and their bodies are bounded
 *  (PL_ETOOBIG beyond the limit), so a wrong port cannot fill memory. No TLS: plateau's HTTP is
 *  behind a proxy or on a private network.
 *
 *  Errors are 0 (or a status) / a negative PL_E* code, with detail in pl_http_client_errstr().
 *  A client is used by one thread at a time.
 */
#ifndef PL_HTTP_CLIENT_H
#define PL_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pl_http_client pl_http_client_t;        /* opaque: defined in http_client.c */

/* A response. The client allocates head and body; free them with pl_http_response_free. */
typedef struct {
    int status;
    char *head;         /* status line and headers, '\n'-separated (CR removed), NUL-terminated */
    char *body;         /* body without transfer framing, NUL-terminated (binary-safe: body_len) */
    size_t body_len;
} pl_http_response_t;

/* Default bound on a response body (pl_http_client_set_max_body changes it). */
#define PL_HTTP_CLIENT_MAX_BODY ((size_t) 64 << 20)

/* Connects a TCP socket to host:port within timeout_ms (<= 0: the system's own connect timeout)
 * and returns it (the caller closes it), or a negative PL_E* code (PL_ENOTFOUND: name does not
 * resolve; PL_ETIMEDOUT; PL_EIO: refused or unreachable) with a detail written into err[size]
 * when err is not NULL. */
int pl_http_dial (const char *host, int port, int timeout_ms, char *err, size_t size);

/* Reads "http://host[:port][/…]" into host[size] and *port (80 when absent); IPv6 literals in
 * brackets. 0, or PL_EINVAL for anything else (https included). */
int pl_http_url_parse (const char *url, char *host, size_t size, int *port);

/* A client for host:port; does no I/O (the first send connects). Each wait (connect, send,
 * receive) gives up after timeout_ms (<= 0: never). Copies host. NULL on bad arguments or no
 * memory. Free with pl_http_client_destroy, which closes the connection. */
pl_http_client_t *pl_http_client_new (const char *host, int port, int timeout_ms);

/* A client on a socket the caller already connected (a hand-written request on it, several
 * responses in a row…). Borrows fd: pl_http_client_destroy does not close it. Its Host header
 * says "localhost". timeout_ms as for pl_http_client_new (<= 0: the socket's own timeouts). */
pl_http_client_t *pl_http_client_new_on (int fd, int timeout_ms);

/* Closes the connection (unless borrowed), frees *self_p and sets it to NULL; safe twice. */
void pl_http_client_destroy (pl_http_client_t **self_p);

/* Bounds response bodies to max bytes (0: PL_HTTP_CLIENT_MAX_BODY). */
void pl_http_client_set_max_body (pl_http_client_t *self, size_t max);

/* Connects now if not connected. 0, or a negative PL_E* code as pl_http_dial. */
int pl_http_client_connect (pl_http_client_t *self);

/* Sends a request head: "<method> <path> HTTP/1.1", Host, then `headers` as given
 * ("Name: value\r\n…", or NULL), then Content-Length when content_length >= 0. Connects first
 * if needed. 0, or a negative PL_E* code (PL_EIO when the peer closed: it may have answered). */
int pl_http_client_send_head (pl_http_client_t *self, const char *method, const char *path,
                              const char *headers, int64_t content_length);

/* Sends len raw bytes (a body, or a whole hand-written request). 0, or a negative PL_E* code. */
int pl_http_client_send (pl_http_client_t *self, const void *data, size_t len);

/* Reads one response into *resp (which it resets first; free with pl_http_response_free,
 * whatever the result). Responses to HEAD (head_request) and 204/304 responses have no body.
 * Bytes read beyond it are kept for the next call. Returns the status, or a negative PL_E*
 * code: PL_ETIMEDOUT, PL_EIO (closed before a complete response), PL_EPROTO (not HTTP),
 * PL_ETOOBIG (headers over 64 KiB or body over the bound), PL_ENOMEM. */
int pl_http_client_read (pl_http_client_t *self, pl_http_response_t *resp, bool head_request);

/* One whole exchange with "Connection: close": sends the head (Content-Length: len, except for
 * a GET or HEAD without a body), the body, reads the response, closes. `headers` as for
 * pl_http_client_send_head. Returns the status or a negative PL_E* code; *resp as for
 * pl_http_client_read. */
int pl_http_client_request (pl_http_client_t *self, const char *method, const char *path,
                            const char *headers, const void *body, size_t len,
                            pl_http_response_t *resp);

/* Detail of the last failure ("connect 127.0.0.1:8080: Connection refused"); "" if none. */
const char *pl_http_client_errstr (const pl_http_client_t *self);

/* Frees the head and body of *resp and zeroes it; safe on a zeroed or already freed response. */
void pl_http_response_free (pl_http_response_t *resp);

/* The value of a response header (name case-insensitive, first occurrence), copied into
 * buf[size] (truncated); buf, or NULL when absent. */
const char *pl_http_response_header (const pl_http_response_t *resp, const char *name, char *buf,
                                     size_t size);

#endif
