/*  http_client.c — a small blocking HTTP/1.1 client (see plateau/http_client.h).
 *
 *  Every wait goes through poll() with the client's timeout, so the deadline holds whatever the
 *  socket's own options are; a borrowed socket with no timeout keeps the timeouts its owner set.
 *  The reader keeps one buffer of bytes received and not yet consumed, so that a response can
 *  be followed by another on the same connection.
 */
#include "plateau/http_client.h"
#include "plateau/error.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define S_MAX_HEAD (64 * 1024)

struct pl_http_client {
    char *host;
    int port;
    int timeout_ms;
    int fd;                         /* -1 when not connected */
    bool borrowed;                  /* fd belongs to the caller */
    size_t max_body;
    char buf[16384];                /* received, not yet consumed: buf[pos..len) */
    size_t pos, len;
    char err[256];
};

static void
s_err (char *err, size_t size, const char *fmt, ...)
{
    if (!err || !size)
        return;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (err, size, fmt, ap);
    va_end (ap);
}

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for `events` within timeout_ms (<= 0: no wait here). 0, or
 * PL_ETIMEDOUT / PL_EIO. */
static int
s_wait (int fd, short events, int timeout_ms)
{
    if (timeout_ms <= 0)
        return 0;
    int64_t deadline = s_now_ms () + timeout_ms;
    for (;;) {
        struct pollfd p = { .fd = fd, .events = events };
        int left = (int) (deadline - s_now_ms ());
        int n = poll (&p, 1, left > 0 ? left : 0);
        if (n > 0)
            return 0;
        if (n == 0)
            return PL_ETIMEDOUT;
        if (errno != EINTR)
            return PL_EIO;
    }
}

/* ---- connecting ------------------------------------------------------------------------ */

/* One connect attempt with a deadline; the socket or a negative code (errno kept). */
static int
s_connect_one (const struct addrinfo *a, int timeout_ms)
{
    int fd = socket (a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0)
        return PL_EIO;
    int flags = fcntl (fd, F_GETFL);
    if (timeout_ms > 0)
        fcntl (fd, F_SETFL, flags | O_NONBLOCK);
    int rc = 0;
    if (connect (fd, a->ai_addr, a->ai_addrlen) != 0) {
        if (timeout_ms > 0 && errno == EINPROGRESS) {
            rc = s_wait (fd, POLLOUT, timeout_ms);
            int so = 0;
            socklen_t sl = sizeof so;
            if (rc == 0 && (getsockopt (fd, SOL_SOCKET, SO_ERROR, &so, &sl) != 0 || so != 0)) {
                errno = so ? so : errno;
                rc = PL_EIO;
            }
            else if (rc == PL_ETIMEDOUT)
                errno = ETIMEDOUT;
        }
        else
            rc = PL_EIO;
    }
    if (rc != 0) {
        int saved = errno;
        close (fd);
        errno = saved;
        return rc;
    }
    fcntl (fd, F_SETFL, flags);
    return fd;
}

int
pl_http_dial (const char *host, int port, int timeout_ms, char *err, size_t size)
{
    if (!host || !*host || port <= 0 || port > 65535) {
        s_err (err, size, "bad address");
        return PL_EINVAL;
    }
    char service[8];
    snprintf (service, sizeof service, "%d", port);
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo (host, service, &hints, &ai);
    if (gai != 0) {
        s_err (err, size, "resolve %s: %s", host, gai_strerror (gai));
        return PL_ENOTFOUND;
    }
    int fd = PL_EIO;
    for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next)
        fd = s_connect_one (a, timeout_ms);
    if (fd < 0)
        s_err (err, size, "connect %s:%d: %s", host, port, strerror (errno));
    freeaddrinfo (ai);
    return fd;
}

int
pl_http_url_parse (const char *url, char *host, size_t size, int *port)
{
    if (!url || strncmp (url, "http://", 7) != 0 || !host || !size || !port)
        return PL_EINVAL;
    const char *h = url + 7, *end;
    size_t n;
    if (*h == '[') {                                   /* [::1]:8080 */
        end = strchr (h, ']');
        if (!end)
            return PL_EINVAL;
        n = (size_t) (end - h - 1);
        h++;
        end++;
    }
    else {
        n = strcspn (h, ":/?#");
        end = h + n;
    }
    if (n == 0 || n >= size)
        return PL_EINVAL;
    long p = 80;
    if (*end == ':') {
        char *stop;
        errno = 0;
        p = strtol (end + 1, &stop, 10);
        if (stop == end + 1 || errno || p <= 0 || p > 65535 || (*stop && !strchr ("/?#", *stop)))
            return PL_EINVAL;
    }
    else if (*end && !strchr ("/?#", *end))
        return PL_EINVAL;
    memcpy (host, h, n);
    host[n] = '\0';
    *port = (int) p;
    return 0;
}

/* ---- the client ------------------------------------------------------------------------- */

static pl_http_client_t *
s_new (const char *host, int port, int fd, int timeout_ms)
{
    pl_http_client_t *self = calloc (1, sizeof *self);
    if (!self || !(self->host = strdup (host))) {
        free (self);
        return NULL;
    }
    self->port = port;
    self->fd = fd;
    self->borrowed = fd >= 0;
    self->timeout_ms = timeout_ms;
    self->max_body = PL_HTTP_CLIENT_MAX_BODY;
    return self;
}

pl_http_client_t *
pl_http_client_new (const char *host, int port, int timeout_ms)
{
    if (!host || !*host || port <= 0 || port > 65535)
        return NULL;
    return s_new (host, port, -1, timeout_ms);
}

pl_http_client_t *
pl_http_client_new_on (int fd, int timeout_ms)
{
    return fd < 0 ? NULL : s_new ("localhost", 0, fd, timeout_ms);
}

static void
s_close (pl_http_client_t *self)
{
    if (self->fd >= 0 && !self->borrowed)
        close (self->fd);
    if (!self->borrowed)
        self->fd = -1;
    self->pos = self->len = 0;
}

void
pl_http_client_destroy (pl_http_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pl_http_client_t *self = *self_p;
    s_close (self);
    free (self->host);
    free (self);
    *self_p = NULL;
}

void
pl_http_client_set_max_body (pl_http_client_t *self, size_t max)
{
    self->max_body = max ? max : PL_HTTP_CLIENT_MAX_BODY;
}

const char *
pl_http_client_errstr (const pl_http_client_t *self)
{
    return self->err;
}

int
pl_http_client_connect (pl_http_client_t *self)
{
    if (self->fd >= 0)
        return 0;
    self->err[0] = '\0';
    int fd = pl_http_dial (self->host, self->port, self->timeout_ms, self->err, sizeof self->err);
    if (fd < 0)
        return fd;
    self->fd = fd;
    self->pos = self->len = 0;
    return 0;
}

int
pl_http_client_send (pl_http_client_t *self, const void *data, size_t len)
{
    int rc = pl_http_client_connect (self);
    if (rc != 0)
        return rc;
    const char *p = data;
    while (len > 0) {
        if ((rc = s_wait (self->fd, POLLOUT, self->timeout_ms)) != 0) {
            s_err (self->err, sizeof self->err, "send: %s", pl_strerror (rc));
            return rc;
        }
        ssize_t n = send (self->fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            bool timeout = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
            s_err (self->err, sizeof self->err, "send: %s",
                   n < 0 ? strerror (errno) : "connection closed");
            return timeout ? PL_ETIMEDOUT : PL_EIO;
        }
        p += n;
        len -= (size_t) n;
    }
    return 0;
}

int
pl_http_client_send_head (pl_http_client_t *self, const char *method, const char *path,
                          const char *headers, int64_t content_length)
{
    if (!method || !path)
        return PL_EINVAL;
    char length[48] = "";
    if (content_length >= 0)
        snprintf (length, sizeof length, "Content-Length: %" PRId64 "\r\n", content_length);
    const char *h = headers ? headers : "";
    bool v6 = strchr (self->host, ':') != NULL;
    size_t size = strlen (method) + strlen (path) + strlen (self->host) + strlen (h) + 64
                  + sizeof length;
    char *head = malloc (size);
    if (!head)
        return PL_ENOMEM;
    int n;
    if (self->port == 0 || self->port == 80)
        n = snprintf (head, size, "%s %s HTTP/1.1\r\nHost: %s%s%s\r\n%s%s\r\n", method, path,
                      v6 ? "[" : "", self->host, v6 ? "]" : "", h, length);
    else
        n = snprintf (head, size, "%s %s HTTP/1.1\r\nHost: %s%s%s:%d\r\n%s%s\r\n", method, path,
                      v6 ? "[" : "", self->host, v6 ? "]" : "", self->port, h, length);
    int rc = n > 0 && (size_t) n < size ? pl_http_client_send (self, head, (size_t) n) : PL_EINVAL;
    free (head);
    return rc;
}

/* ---- reading ---------------------------------------------------------------------------- */

/* Refills the buffer when empty. 1 when bytes are there, 0 at the end of the stream, or a
 * negative code. */
static int
s_fill (pl_http_client_t *self)
{
    if (self->pos < self->len)
        return 1;
    if (self->fd < 0)
        return 0;
    int rc = s_wait (self->fd, POLLIN, self->timeout_ms);
    if (rc != 0) {
        s_err (self->err, sizeof self->err, "receive: %s", pl_strerror (rc));
        return rc;
    }
    ssize_t n;
    do
        n = recv (self->fd, self->buf, sizeof self->buf, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        bool timeout = errno == EAGAIN || errno == EWOULDBLOCK;
        s_err (self->err, sizeof self->err, "receive: %s", strerror (errno));
        return timeout ? PL_ETIMEDOUT : PL_EIO;
    }
    self->pos = 0;
    self->len = (size_t) n;
    return n > 0;
}

/* A growing byte string, always NUL-terminated once it has memory. */
typedef struct {
    char *p;
    size_t len, cap, max;
} s_str_t;

static int
s_str_add (s_str_t *s, const char *data, size_t n)
{
    if (s->len + n > s->max)
        return PL_ETOOBIG;
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 1024;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *p = realloc (s->p, cap);
        if (!p)
            return PL_ENOMEM;
        s->p = p;
        s->cap = cap;
    }
    memcpy (s->p + s->len, data, n);
    s->len += n;
    s->p[s->len] = '\0';
    return 0;
}

/* Appends one line, without its CRLF, to `out`. 1 when a line was read, 0 at a clean end of
 * the stream (nothing read), or a negative code. */
static int
s_line (pl_http_client_t *self, s_str_t *out)
{
    size_t start = out->len;
    for (;;) {
        int rc = s_fill (self);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return out->len == start ? 0 : PL_EIO;
        const char *b = self->buf + self->pos;
        const char *nl = memchr (b, '\n', self->len - self->pos);
        size_t n = nl ? (size_t) (nl - b) : self->len - self->pos;
        if ((rc = s_str_add (out, b, n)) != 0)
            return rc;
        self->pos += n + (nl != NULL);
        if (nl) {
            if (out->len > start && out->p[out->len - 1] == '\r')
                out->p[--out->len] = '\0';
            return 1;
        }
    }
}

/* Appends exactly n body bytes (or, with n == SIZE_MAX, everything up to the close). */
static int
s_bytes (pl_http_client_t *self, s_str_t *out, size_t n)
{
    while (n > 0) {
        int rc = s_fill (self);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return n == SIZE_MAX ? 0 : PL_EIO;
        size_t k = self->len - self->pos;
        if (k > n)
            k = n;
        if ((rc = s_str_add (out, self->buf + self->pos, k)) != 0)
            return rc;
        self->pos += k;
        if (n != SIZE_MAX)
            n -= k;
    }
    return 0;
}

const char *
pl_http_response_header (const pl_http_response_t *resp, const char *name, char *buf, size_t size)
{
    size_t n = strlen (name);
    for (const char *p = resp->head ? strchr (resp->head, '\n') : NULL; p && p[1];
         p = strchr (p + 1, '\n')) {
        const char *line = p + 1;
        if (strncasecmp (line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            size_t len = strcspn (v, "\r\n");
            while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
                len--;
            if (size == 0)
                return NULL;
            if (len >= size)
                len = size - 1;
            memcpy (buf, v, len);
            buf[len] = '\0';
            return buf;
        }
    }
    return NULL;
}

void
pl_http_response_free (pl_http_response_t *resp)
{
    if (!resp)
        return;
    free (resp->head);
    free (resp->body);
    memset (resp, 0, sizeof *resp);
}

static int
s_read_body (pl_http_client_t *self, pl_http_response_t *resp, s_str_t *body)
{
    char value[64];
    int rc;
    if (pl_http_response_header (resp, "Transfer-Encoding", value, sizeof value)
        && strcasecmp (value, "chunked") == 0) {
        s_str_t line = { .max = 4096 };
        for (;;) {
            line.len = 0;
            if ((rc = s_line (self, &line)) <= 0)
                break;
            char *end;
            errno = 0;
            unsigned long long chunk = strtoull (line.p, &end, 16);
            if (end == line.p || errno) {
                rc = PL_EPROTO;
                break;
            }
            if (chunk == 0) {                           /* trailers up to the empty line */
                do {
                    line.len = 0;
                    rc = s_line (self, &line);
                } while (rc > 0 && line.len > 0);
                rc = rc < 0 ? rc : 0;
                break;
            }
            if (chunk > self->max_body) {
                rc = PL_ETOOBIG;
                break;
            }
            if ((rc = s_bytes (self, body, (size_t) chunk)) != 0)
                break;
            line.len = 0;
            if ((rc = s_line (self, &line)) <= 0)      /* the CRLF after the chunk */
                break;
        }
        free (line.p);
        return rc == 0 ? 0 : rc < 0 ? rc : PL_EIO;
    }
    if (pl_http_response_header (resp, "Content-Length", value, sizeof value)) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull (value, &end, 10);
        if (end == value || *end || errno)
            return PL_EPROTO;
        if (n > self->max_body)
            return PL_ETOOBIG;
        return s_bytes (self, body, (size_t) n);
    }
    return s_bytes (self, body, SIZE_MAX);                  /* until the peer closes */
}

int
pl_http_client_read (pl_http_client_t *self, pl_http_response_t *resp, bool head_request)
{
    memset (resp, 0, sizeof *resp);
    s_str_t head = { .max = S_MAX_HEAD }, body = { .max = self->max_body };
    int rc;
    /* The status line, then header lines up to the empty one. */
    for (bool first = true;; first = false) {
        size_t before = head.len;
        rc = s_line (self, &head);
        if (rc == 0)
            rc = PL_EIO;
        if (rc < 0)
            break;
        if (head.len == before && !first)
            break;
        if (first && sscanf (head.p, "HTTP/1.%*d %d", &resp->status) != 1) {
            s_err (self->err, sizeof self->err, "not an HTTP response");
            rc = PL_EPROTO;
            break;
        }
        if ((rc = s_str_add (&head, "\n", 1)) != 0)
            break;
    }
    resp->head = head.p;
    if (rc < 0) {
        if (rc == PL_EIO && !self->err[0])
            s_err (self->err, sizeof self->err, "connection closed before a complete response");
        return rc;
    }
    if ((rc = s_str_add (&body, "", 0)) == 0 && !head_request && resp->status != 204
        && resp->status != 304 && !(resp->status >= 100 && resp->status < 200))
        rc = s_read_body (self, resp, &body);
    resp->body = body.p;
    resp->body_len = body.len;
    if (rc < 0) {
        if (rc == PL_ETOOBIG)
            s_err (self->err, sizeof self->err, "response body over %zu bytes", self->max_body);
        else if (rc == PL_EIO && !self->err[0])
            s_err (self->err, sizeof self->err, "connection closed inside the body");
        else if (rc == PL_EPROTO)
            s_err (self->err, sizeof self->err, "bad body framing");
        return rc;
    }
    return resp->status;
}

int
pl_http_client_request (pl_http_client_t *self, const char *method, const char *path,
                        const char *headers, const void *body, size_t len,
                        pl_http_response_t *resp)
{
    memset (resp, 0, sizeof *resp);
    self->err[0] = '\0';
    bool bodiless = !body && len == 0 && (strcmp (method, "GET") == 0
                                          || strcmp (method, "HEAD") == 0);
    size_t hl = headers ? strlen (headers) : 0;
    char *h = malloc (hl + 32);
    if (!h)
        return PL_ENOMEM;
    snprintf (h, hl + 32, "%sConnection: close\r\n", headers ? headers : "");
    int rc = pl_http_client_send_head (self, method, path, h, bodiless ? -1 : (int64_t) len);
    free (h);
    if (rc == 0 && len)
        rc = pl_http_client_send (self, body, len);
    /* A server may answer early and close (413 before the body is all sent): read anyway. */
    if (rc == 0 || (rc == PL_EIO && self->fd >= 0)) {
        int status = pl_http_client_read (self, resp, strcmp (method, "HEAD") == 0);
        rc = status < 0 && rc != 0 ? rc : status;
    }
    s_close (self);
    return rc;
}
