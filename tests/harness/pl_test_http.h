/*  pl_test_http.h — the kit's HTTP/1.1 client (plateau/http_client.h) as tests use it.
 *
 *  Tests of the HTTP layer and the ops port talk to real servers on 127.0.0.1 and need to see
 *  the wire: status, raw headers, bodies decoded from Content-Length, chunked or until-close
 *  framing, and sometimes a hand-written request on a connection they keep open. One request
 *  per connection with pl_test_http_request(); for anything else, pl_test_http_connect(),
 *  pl_test_http_send_all() and a reader on the socket. No JSON here: tests parse bodies.
 *  These are thin conveniences over pl_http_client (127.0.0.1, 20 s timeouts, failures told on
 *  stderr); the client itself is the kit's, so tests exercise what services and plateauctl use.
 */
#ifndef PL_TEST_HTTP_H
#define PL_TEST_HTTP_H
#include <stdbool.h>
#include <stddef.h>

#include "plateau/http_client.h"

/* The kit's response: status, head ("\n"-separated status line and headers), body, body_len. */
typedef pl_http_response_t pl_test_http_resp_t;

/* Frees head and body and zeroes *resp; safe on a zeroed or already freed response. */
void pl_test_http_resp_free (pl_test_http_resp_t *resp);

/* A blocking TCP connection to 127.0.0.1:port with 20 s send and receive timeouts; the socket,
 * or -1. The caller closes it. */
int pl_test_http_connect (int port);

/* Sends all len bytes; false when the peer closed (it may have answered early). */
bool pl_test_http_send_all (int fd, const void *data, size_t len);

/* Reads responses from a socket the test opened, keeping what it read ahead between them (for
 * several responses on one kept-alive connection). Borrows fd: destroying the reader does not
 * close it. */
typedef struct pl_test_http_reader pl_test_http_reader_t;
pl_test_http_reader_t *pl_test_http_reader_new (int fd);
void pl_test_http_reader_destroy (pl_test_http_reader_t **self_p);

/* Reads one response into *resp (free with pl_test_http_resp_free, whatever the result):
 * headers, then a Content-Length, chunked or until-close body; responses to HEAD (head_request)
 * and 204/304 responses have none. Returns the status, or -1. */
int pl_test_http_read_response (pl_test_http_reader_t *self, pl_test_http_resp_t *resp,
                                bool head_request);

/* One request on a new connection ("Connection: close"). extra_headers: "Name: value\r\n…" or
 * NULL. A GET or HEAD without a body is sent without Content-Length. Returns the status (or
 * -1) and the response in *resp (free with pl_test_http_resp_free). */
int pl_test_http_request (int port, const char *method, const char *path,
                          const char *extra_headers, const void *body, size_t len,
                          pl_test_http_resp_t *resp);

/* Value of a response header (name case-insensitive), copied into buf (truncated to size - 1);
 * buf, or NULL when absent. */
const char *pl_test_http_header (const pl_test_http_resp_t *resp, const char *name, char *buf,
                                 size_t size);

#endif
