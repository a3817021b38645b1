/*  pl_test_http.c — tests' HTTP/1.1 conveniences over the kit's client (see pl_test_http.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include "pl_test_http.h"

#define S_TIMEOUT_MS 20000

void
pl_test_http_resp_free (pl_test_http_resp_t *r)
{
    pl_http_response_free (r);
}

int
pl_test_http_connect (int port)
{
    char err[256];
    int fd = pl_http_dial ("127.0.0.1", port, S_TIMEOUT_MS, err, sizeof err);
    if (fd < 0)
        return -1;
    /* Tests also read and write this socket themselves: give it the same deadline. */
    struct timeval tv = { S_TIMEOUT_MS / 1000, 0 };
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

bool
pl_test_http_send_all (int fd, const void *data, size_t len)
{
    pl_http_client_t *c = pl_http_client_new_on (fd, 0);
    bool ok = c && pl_http_client_send (c, data, len) == 0;
    pl_http_client_destroy (&c);
    return ok;
}

struct pl_test_http_reader {
    pl_http_client_t *client;           /* borrows the test's socket */
};

pl_test_http_reader_t *
pl_test_http_reader_new (int fd)
{
    pl_test_http_reader_t *self = calloc (1, sizeof *self);
    if (self && !(self->client = pl_http_client_new_on (fd, 0))) {
        free (self);
        return NULL;
    }
    return self;
}

void
pl_test_http_reader_destroy (pl_test_http_reader_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pl_http_client_destroy (&(*self_p)->client);
    free (*self_p);
    *self_p = NULL;
}

const char *
pl_test_http_header (const pl_test_http_resp_t *r, const char *name, char *buf, size_t size)
{
    return pl_http_response_header (r, name, buf, size);
}

int
pl_test_http_read_response (pl_test_http_reader_t *rd, pl_test_http_resp_t *r, bool head_request)
{
    int status = pl_http_client_read (rd->client, r, head_request);
    return status < 0 ? -1 : status;
}

int
pl_test_http_request (int port, const char *method, const char *path, const char *extra_headers,
                      const void *body, size_t len, pl_test_http_resp_t *r)
{
    memset (r, 0, sizeof *r);
    pl_http_client_t *c = pl_http_client_new ("127.0.0.1", port, S_TIMEOUT_MS);
    if (!c)
        return -1;
    int status = pl_http_client_request (c, method, path, extra_headers, body, len, r);
    if (status < 0)
        fprintf (stderr, "pl_test_http: %s %s on port %d: %s\n", method, path, port,
                 pl_http_client_errstr (c));
    pl_http_client_destroy (&c);
    return status < 0 ? -1 : status;
}
