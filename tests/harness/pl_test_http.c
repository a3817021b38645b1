/*  pl_test_http.c — a small HTTP/1.1 client for tests (see pl_test_http.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "pl_test_http.h"

void
pl_test_http_resp_free (pl_test_http_resp_t *r)
{
    free (r->head);
    free (r->body);
    memset (r, 0, sizeof *r);
}

int
pl_test_http_connect (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = { 20, 0 };
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port),
                             .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    if (connect (fd, (struct sockaddr *) &a, sizeof a) != 0) {
        close (fd);
        return -1;
    }
    return fd;
}

bool
pl_test_http_send_all (int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send (fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t) n;
    }
    return true;
}

struct pl_test_http_reader {
    int fd;
    char buf[16384];
    size_t pos, len;
};

pl_test_http_reader_t *
pl_test_http_reader_new (int fd)
{
    pl_test_http_reader_t *self = calloc (1, sizeof *self);
    if (self)
        self->fd = fd;
    return self;
}

void
pl_test_http_reader_destroy (pl_test_http_reader_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

static int
s_getc (pl_test_http_reader_t *rd)
{
    if (rd->pos == rd->len) {
        ssize_t n;
        do
            n = recv (rd->fd, rd->buf, sizeof rd->buf, 0);
        while (n < 0 && errno == EINTR);
        if (n <= 0)
            return -1;
        rd->pos = 0;
        rd->len = (size_t) n;
    }
    return (unsigned char) rd->buf[rd->pos++];
}

/* Reads one line without its CRLF into a malloc'd string; NULL at EOF. */
static char *
s_line (pl_test_http_reader_t *rd)
{
    size_t cap = 128, len = 0;
    char *line = malloc (cap);
    int c;
    while ((c = s_getc (rd)) >= 0 && c != '\n') {
        if (len + 2 > cap)
            line = realloc (line, cap *= 2);
        line[len++] = (char) c;
    }
    if (c < 0 && len == 0) {
        free (line);
        return NULL;
    }
    if (len > 0 && line[len - 1] == '\r')
        len--;
    line[len] = '\0';
    return line;
}

static void
s_body_append (pl_test_http_resp_t *r, size_t *cap, int c)
{
    if (r->body_len + 2 > *cap)
        r->body = realloc (r->body, *cap = *cap ? *cap * 2 : 1024);
    r->body[r->body_len++] = (char) c;
    r->body[r->body_len] = '\0';
}

const char *
pl_test_http_header (const pl_test_http_resp_t *r, const char *name, char *buf, size_t size)
{
    size_t n = strlen (name);
    for (const char *p = r->head ? strchr (r->head, '\n') : NULL; p && p[1]; p = strchr (p + 1, '\n')) {
        const char *line = p + 1;
        if (strncasecmp (line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            size_t len = strcspn (v, "\r\n");
            if (len >= size)
                len = size - 1;
            memcpy (buf, v, len);
            buf[len] = '\0';
            return buf;
        }
    }
    return NULL;
}

int
pl_test_http_read_response (pl_test_http_reader_t *rd, pl_test_http_resp_t *r, bool head_request)
{
    memset (r, 0, sizeof *r);
    size_t hcap = 1024, hlen = 0;
    r->head = calloc (1, hcap);
    char *line;
    bool first = true;
    while ((line = s_line (rd)) != NULL) {
        size_t n = strlen (line);
        if (n == 0 && !first) {
            free (line);
            break;
        }
        while (hlen + n + 2 > hcap)
            r->head = realloc (r->head, hcap *= 2);
        memcpy (r->head + hlen, line, n);
        hlen += n;
        r->head[hlen++] = '\n';
        r->head[hlen] = '\0';
        if (first && sscanf (line, "HTTP/1.%*d %d", &r->status) != 1) {
            free (line);
            return -1;
        }
        first = false;
        free (line);
    }
    if (!line)
        return r->status ? r->status : -1;
    size_t cap = 0;
    s_body_append (r, &cap, 0);
    r->body_len = 0;
    char value[64];
    if (head_request || r->status == 204 || r->status == 304)
        return r->status;
    if (pl_test_http_header (r, "Transfer-Encoding", value, sizeof value)
        && strcasecmp (value, "chunked") == 0) {
        for (;;) {
            char *size_line = s_line (rd);
            if (!size_line)
                return -1;
            size_t chunk = strtoul (size_line, NULL, 16);
            free (size_line);
            if (chunk == 0) {
                char *trailer;
                while ((trailer = s_line (rd)) != NULL && *trailer)
                    free (trailer);
                free (trailer);
                return r->status;
            }
            for (size_t i = 0; i < chunk; i++) {
                int c = s_getc (rd);
                if (c < 0)
                    return -1;
                s_body_append (r, &cap, c);
            }
            free (s_line (rd));
        }
    }
    if (pl_test_http_header (r, "Content-Length", value, sizeof value)) {
        size_t n = strtoul (value, NULL, 10);
        for (size_t i = 0; i < n; i++) {
            int c = s_getc (rd);
            if (c < 0)
                return -1;
            s_body_append (r, &cap, c);
        }
        return r->status;
    }
    int c;
    while ((c = s_getc (rd)) >= 0)
        s_body_append (r, &cap, c);
    return r->status;
}

int
pl_test_http_request (int port, const char *method, const char *path, const char *extra_headers,
                      const void *body, size_t len, pl_test_http_resp_t *r)
{
    memset (r, 0, sizeof *r);
    int fd = pl_test_http_connect (port);
    if (fd < 0) {
        fprintf (stderr, "pl_test_http: %s %s on port %d: connect: %s\n", method, path, port, strerror (errno));
        return -1;
    }
    char head[4096];
    int n = snprintf (head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s"
                      "Content-Length: %zu\r\n\r\n",
                      method, path, extra_headers ? extra_headers : "", len);
    if (body == NULL && len == 0 && (strcmp (method, "GET") == 0 || strcmp (method, "HEAD") == 0))
        n = snprintf (head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s\r\n", method,
                      path, extra_headers ? extra_headers : "");
    pl_test_http_send_all (fd, head, (size_t) n);
    if (len)
        pl_test_http_send_all (fd, body, len);
    pl_test_http_reader_t *rd = pl_test_http_reader_new (fd);
    errno = 0;
    int status = rd ? pl_test_http_read_response (rd, r, strcmp (method, "HEAD") == 0) : -1;
    if (status < 0)
        fprintf (stderr, "pl_test_http: %s %s on port %d: no complete answer (%s)\n", method, path,
                 port, errno ? strerror (errno) : "connection closed");
    pl_test_http_reader_destroy (&rd);
    close (fd);
    return status;
}
