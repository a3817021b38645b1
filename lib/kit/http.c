/*  http.c — the HTTP server of the services' public APIs, on libmicrohttpd (see http.h).
 *
 *  libmicrohttpd calls s_access several times per request: once when the headers are in
 *  (routing, authentication, limits and content type are decided there, before any body is
 *  read), once per piece of body, and once more when the body has ended (the handler runs).
 *  It only lets us queue a response on the first and the last call, so an error found while
 *  the body is arriving is remembered, the rest of the body is discarded, and the error is
 *  sent on the last call.
 *
 *  We turn libmicrohttpd's URL unescaping off: it would decode "%2F" inside a path parameter
 *  into a separator before routing. Paths are routed raw and parameters decoded one by one;
 *  query values are decoded when asked for.
 *
 *  Every server serves the OpenAPI document of the project's HTTP APIs (docs/api/openapi.json,
 *  compiled in by lib/kit/embed.cmake) at GET /v1/openapi.json, with one member added: what
 *  this server registered (see s_openapi_build). The contract test compares that list with the
 *  document, so a route added without its documentation, or documented and gone, fails it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>
#include <zlib.h>
#include "plateau/clock.h"
#include "plateau/error.h"
#include "plateau/http.h"

#define S_MAX_SEGMENTS 32            /* path segments in a pattern */
#define S_DISCARD_MAX (1024 * 1024)  /* body read and dropped after an error, before closing */
#define S_STREAM_BLOCK (32 * 1024)   /* buffer size offered to stream callbacks */
#define S_MIN_TOKEN 16               /* bytes; shorter bearer tokens are refused */
#define S_FIRST_BODY (64 * 1024)     /* first body buffer, grown by doubling */
/* A compressed body (Content-Encoding gzip or deflate) is decoded as it arrives: its decoded
 * size counts against the route's limit, and past S_RATIO_FLOOR decoded bytes it may not
 * expand more than S_RATIO_MAX times what was received (a 1 KB zip bomb is refused at once).
 * zlib's state and window, and the decoding buffer, are charged to the memory budget. */
#define S_RATIO_MAX 200
#define S_RATIO_FLOOR (1024 * 1024)
#define S_INFLATE_OUT (16 * 1024)
#define S_INFLATE_MEM (64 * 1024)
#define S_CONN_MEMORY (32 * 1024)    /* libmicrohttpd's buffer per connection (line, headers) */
#define S_LINGER_MS 2000             /* reading a refused body after its answer, at most */
#define S_PENDING_MS 5000            /* an accepted connection libmicrohttpd never started */
#define S_OPENAPI_PATH "/v1/openapi.json"

/* The document's bytes and length (lib/kit/embed.cmake writes them at build time). */
extern const unsigned char pl__openapi_json[];
extern const size_t pl__openapi_json_len;

/* ---------------------------------------------------------------------------------------- */
/* Types */

typedef struct s_route {
    struct s_route *next;
    char *method;
    char *pattern;
    char *segs[S_MAX_SEGMENTS];      /* literal text, or the parameter name when is_param */
    bool is_param[S_MAX_SEGMENTS];
    size_t n_segs;
    uint64_t rank;                   /* literal segments as bits, earlier = higher */
    pl_http_handler_fn *handler;
    void *arg;
    unsigned flags;
    char *sources;                   /* ",a,b," for a quick whole-word search, or NULL */
    char *content_types;
    size_t max_body;
    pl_http_body_fn *on_body;
    pl_http_secret_fn *secret;
} s_route_t;

typedef struct s_header {
    struct s_header *next;
    char *name;
    char *value;
} s_header_t;

typedef struct s_string {
    struct s_string *next;
    char text[];
} s_string_t;

typedef enum { S_REPLY_NONE, S_REPLY_BUFFER, S_REPLY_STREAM, S_REPLY_FD } s_reply_kind_t;

typedef struct {
    pl_http_stream_fn *fn;
    void *arg;
    void (*free_fn) (void *);
} s_stream_t;

struct pl_http_req {
    pl_http_t *http;
    struct MHD_Connection *conn;
    const s_route_t *route;
    char *method;
    char *path;
    char *target;                    /* the request target as sent: path and query */
    char *params[S_MAX_SEGMENTS];    /* decoded values, by segment index (NULL for literals) */
    char *body;
    size_t body_len, body_cap;
    size_t body_charged;             /* of body_cap, the part charged to the budget */
    size_t declared;                 /* Content-Length, or SIZE_MAX when not given */
    size_t received;
    size_t limit;
    size_t reserved;                 /* budget held by this request, given back at its end */
    const char *source;
    void *data;
    void (*data_free) (void *);
    s_string_t *strings;             /* decoded query values, freed with the request */
    bool begun;                      /* seen by s_access, counted in in_flight */
    pl_http_sig_t *sig;              /* a signed route's check, fed with the body as sent */
    z_stream *z;                     /* a gzip / deflate body's decoder, NULL for identity */
    bool z_end;                      /* the compressed stream is complete */
    bool z_gzip;                     /* gzip: members may follow one another (RFC 1952 2.2) */
    size_t decoded;                  /* bytes of body after decoding */
    bool failed;                     /* an error response is set; discard the rest of the body */
    bool early;                      /* answered from its headers, its body (if any) unread */
    size_t discarded;
    int64_t started_ms;
    /* the response */
    s_reply_kind_t kind;
    int status;
    char *content_type;
    char *rbody;
    size_t rlen;
    s_stream_t *stream;
    int fd;
    s_header_t *headers;
};

struct pl_http {
    char *addr;
    int port;
    pl_http_options_t opts;
    char *service;
    s_route_t *routes;
    struct MHD_Daemon *daemon;
    int listen_fd;
    pthread_t acceptor;              /* s_accept_run */
    bool acceptor_running;
    bool started;
    bool stopped;
    atomic_bool stopping;
    atomic_size_t in_flight;
    atomic_size_t reserved;          /* of opts.memory_budget */
    _Atomic (pl_http_req_t *) overdraft; /* the one gathering body allowed past the budget */
    bool have_key;
    pthread_key_t thread_key;
    pl_metric_t *m_requests;
    pl_metric_t *m_duration;
    pl_metric_t *m_reserved;
    pl_metric_t *m_busy;
    /* Slow-client guard (see s_guard_run): the open connections, watched by one thread. */
    pthread_mutex_t conns_mutex;
    pthread_cond_t conns_cond;
    struct s_conn *conns;
    unsigned n_conns;
    /* The accept gate (see s_accept_run), under conns_mutex: accepted connections libmicrohttpd
     * has not started yet, since when, and the signal that one has closed. */
    unsigned pending;
    int64_t pending_ms;
    pthread_cond_t gate_cond;
    pthread_t guard;
    bool guard_running;
    bool guard_stop;                 /* under conns_mutex */
    char *openapi;                   /* the document as this server serves it (s_openapi_build) */
    size_t openapi_len;
    char errstr[256];
};

/* One open connection, from libmicrohttpd's NOTIFY_CONNECTION (its socket context). Fields
 * change under the server's conns_mutex; over_limit is set once, at accept. */
typedef struct s_conn {
    struct s_conn *prev, *next;
    int fd;
    int64_t phase_ms;                /* when the present headers or body window began */
    bool in_headers;                 /* waiting for a request's line and headers */
    bool in_body;                    /* receiving a request's body */
    bool over_limit;                 /* beyond max_connections: answered 503 */
    bool cut;                        /* shut down by the guard */
    size_t window_bytes;             /* body bytes since phase_ms */
    int64_t busy_ms;                 /* when our body callbacks began, 0 when not in them */
} s_conn_t;

typedef struct {
    void *ctx;
    void (*fini) (void *ctx, void *arg);
    void *arg;
} s_thread_ctx_t;

/* ---------------------------------------------------------------------------------------- */
/* Small helpers */

static int
s_fail (pl_http_t *self, int code, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));

static int
s_fail (pl_http_t *self, int code, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (self->errstr, sizeof self->errstr, fmt, ap);
    va_end (ap);
    return code;
}

static int
s_hexval (char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes n bytes of s into a new string; '+' becomes a space when plus_space.
 * Strict (path parameters): a malformed escape or an encoded NUL gives NULL. Otherwise a
 * malformed escape is kept as it is. NULL also when out of memory. */
static char *
s_decode (const char *s, size_t n, bool plus_space, bool strict)
{
    char *out = malloc (n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int hi = i + 1 < n ? s_hexval (s[i + 1]) : -1;
            int lo = i + 2 < n ? s_hexval (s[i + 2]) : -1;
            if (hi >= 0 && lo >= 0 && (hi || lo)) {
                out[o++] = (char) (hi * 16 + lo);
                i += 2;
                continue;
            }
            if (strict) {
                free (out);
                return NULL;
            }
        }
        out[o++] = (plus_space && s[i] == '+') ? ' ' : s[i];
    }
    out[o] = '\0';
    return out;
}

/* True when `word` (length n) is one of the comma-separated entries of list, case-insensitive
 * when nocase. Entries may carry blanks around them. */
static bool
s_list_has (const char *list, const char *word, size_t n, bool nocase)
{
    const char *p = list;
    while (p && *p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *end = strchr (p, ',');
        size_t len = end ? (size_t) (end - p) : strlen (p);
        size_t trimmed = len;
        while (trimmed > 0 && p[trimmed - 1] == ' ')
            trimmed--;
        if (trimmed == n && trimmed > 0
            && (nocase ? strncasecmp (p, word, n) == 0 : strncmp (p, word, n) == 0))
            return true;
        p = end ? end + 1 : p + len;
    }
    return false;
}

/* ---------------------------------------------------------------------------------------- */
/* JSON error bodies */

static char *
s_error_json (const char *code, const char *message, const char *field, long line, long column)
{
    json_t *err = json_object ();
    json_t *root = json_object ();
    if (!err || !root) {
        json_decref (err);
        json_decref (root);
        return NULL;
    }
    json_object_set_new (err, "code", json_string (code ? code : "error"));
    json_object_set_new (err, "message", json_string (message ? message : ""));
    if (field)
        json_object_set_new (err, "field", json_string (field));
    if (line > 0)
        json_object_set_new (err, "line", json_integer (line));
    if (column > 0)
        json_object_set_new (err, "column", json_integer (column));
    json_object_set_new (root, "error", err);
    char *text = json_dumps (root, JSON_COMPACT);
    json_decref (root);
    return text;
}

char *
pl_http_error_json (const char *code, const char *message, const char *field)
{
    return s_error_json (code, message, field, 0, 0);
}

/* ---------------------------------------------------------------------------------------- */
/* Responses */

static void
s_stream_free (s_stream_t *stream)
{
    if (!stream)
        return;
    if (stream->free_fn)
        stream->free_fn (stream->arg);
    free (stream);
}

/* Drops the response set so far (not the extra headers: they apply to whatever is sent). */
static void
s_reply_clear (pl_http_req_t *req)
{
    free (req->rbody);
    req->rbody = NULL;
    req->rlen = 0;
    free (req->content_type);
    req->content_type = NULL;
    s_stream_free (req->stream);
    req->stream = NULL;
    if (req->fd >= 0)
        close (req->fd);
    req->fd = -1;
    req->kind = S_REPLY_NONE;
}

/* Replaces req's reply with an empty one of `kind`; takes ctype. */
static void
s_reply_set (pl_http_req_t *req, s_reply_kind_t kind, int status, char *ctype)
{
    s_reply_clear (req);
    req->kind = kind;
    req->status = status;
    req->content_type = ctype;
}

int
pl_http_reply (pl_http_req_t *req, int status, const char *content_type, const void *body,
               size_t len)
{
    if (!req || status < 100 || status > 999)
        return PL_EINVAL;
    char *copy = malloc (len + 1);
    char *ctype = content_type ? strdup (content_type) : NULL;
    if (!copy || (content_type && !ctype)) {
        free (copy);
        free (ctype);
        return PL_ENOMEM;
    }
    if (len)
        memcpy (copy, body, len);
    copy[len] = '\0';
    s_reply_set (req, S_REPLY_BUFFER, status, ctype);
    req->rbody = copy;
    req->rlen = len;
    return 0;
}

int
pl_http_reply_json (pl_http_req_t *req, int status, const char *json)
{
    return pl_http_reply (req, status, "application/json", json, json ? strlen (json) : 0);
}

int
pl_http_reply_error_at (pl_http_req_t *req, int status, const char *code, const char *message,
                        const char *field, long line, long column)
{
    char *text = s_error_json (code, message, field, line, column);
    if (!text)
        return PL_ENOMEM;
    int rc = pl_http_reply_json (req, status, text);
    free (text);
    return rc;
}

int
pl_http_reply_error (pl_http_req_t *req, int status, const char *code, const char *message,
                     const char *field)
{
    return pl_http_reply_error_at (req, status, code, message, field, 0, 0);
}

int
pl_http_reply_busy (pl_http_req_t *req, const char *message, unsigned retry_after_s)
{
    if (!req)
        return PL_EINVAL;
    int rc = pl_http_reply_error (req, 503, "busy",
                                  message ? message : "the server is busy; retry later", NULL);
    if (rc < 0)
        return rc;
    /* One Retry-After, whatever was added before. */
    for (s_header_t **h = &req->headers; *h;) {
        if (strcasecmp ((*h)->name, "Retry-After") == 0) {
            s_header_t *gone = *h;
            *h = gone->next;
            free (gone->name);
            free (gone->value);
            free (gone);
        }
        else
            h = &(*h)->next;
    }
    char seconds[16];
    snprintf (seconds, sizeof seconds, "%u", retry_after_s ? retry_after_s : 1);
    pl_metric_inc (req->http->m_busy, NULL, 1);
    return pl_http_reply_header (req, "Retry-After", seconds);
}

int
pl_http_reply_stream (pl_http_req_t *req, int status, const char *content_type,
                      pl_http_stream_fn *fn, void *arg, void (*free_fn) (void *))
{
    if (!req || !fn || status < 100 || status > 999) {
        if (free_fn)
            free_fn (arg);
        return PL_EINVAL;
    }
    s_stream_t *stream = calloc (1, sizeof *stream);
    char *ctype = content_type ? strdup (content_type) : NULL;
    if (!stream || (content_type && !ctype)) {
        free (stream);
        free (ctype);
        if (free_fn)
            free_fn (arg);
        return PL_ENOMEM;
    }
    stream->fn = fn;
    stream->arg = arg;
    stream->free_fn = free_fn;
    s_reply_set (req, S_REPLY_STREAM, status, ctype);
    req->stream = stream;
    return 0;
}

int
pl_http_reply_fd (pl_http_req_t *req, int status, const char *content_type, int fd)
{
    if (!req || fd < 0 || status < 100 || status > 999) {
        if (fd >= 0)
            close (fd);
        return PL_EINVAL;
    }
    char *ctype = content_type ? strdup (content_type) : NULL;
    if (content_type && !ctype) {
        close (fd);
        return PL_ENOMEM;
    }
    s_reply_set (req, S_REPLY_FD, status, ctype);
    req->fd = fd;
    return 0;
}

int
pl_http_reply_header (pl_http_req_t *req, const char *name, const char *value)
{
    if (!req || !name || !value || strpbrk (name, "\r\n:") || strpbrk (value, "\r\n"))
        return PL_EINVAL;
    s_header_t *h = calloc (1, sizeof *h);
    if (!h)
        return PL_ENOMEM;
    h->name = strdup (name);
    h->value = strdup (value);
    if (!h->name || !h->value) {
        free (h->name);
        free (h->value);
        free (h);
        return PL_ENOMEM;
    }
    s_header_t **tail = &req->headers;      /* keep the order they were added in */
    while (*tail)
        tail = &(*tail)->next;
    *tail = h;
    return 0;
}

static ssize_t
s_stream_reader (void *cls, uint64_t pos, char *buf, size_t max)
{
    (void) pos;
    s_stream_t *stream = cls;
    ssize_t n = stream->fn (stream->arg, buf, max);
    if (n > 0)
        return n > (ssize_t) max ? (ssize_t) max : n;
    return n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void
s_stream_reader_free (void *cls)
{
    s_stream_free (cls);
}

static const char *
s_method_label (const char *method)
{
    static const char *known[] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS" };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp (method, known[i]) == 0)
            return known[i];
    return "OTHER";
}

static void
s_record (pl_http_req_t *req)
{
    pl_http_t *self = req->http;
    if (!self->m_requests)
        return;
    const char *route = req->route ? req->route->pattern : "unmatched";
    char labels[512];
    snprintf (labels, sizeof labels, "%s,%s,%d", s_method_label (req->method), route,
              req->status);
    pl_metric_inc (self->m_requests, labels, 1);
    pl_metric_observe (self->m_duration, route,
                       (double) (pl_clock_mono_ms () - req->started_ms) / 1000.0);
}

/* Hands the response to libmicrohttpd. Called on the first call (errors found from the
 * headers) or the last one (everything else). */
static enum MHD_Result
s_send (pl_http_req_t *req)
{
    if (req->kind == S_REPLY_NONE)
        pl_http_reply_error (req, 500, "internal", "the handler gave no response", NULL);
    struct MHD_Response *resp = NULL;
    switch (req->kind) {
    case S_REPLY_BUFFER:
        resp = MHD_create_response_from_buffer (req->rlen, req->rbody, MHD_RESPMEM_MUST_FREE);
        if (resp)
            req->rbody = NULL;                   /* libmicrohttpd frees it */
        break;
    case S_REPLY_STREAM:
        resp = MHD_create_response_from_callback (MHD_SIZE_UNKNOWN, S_STREAM_BLOCK,
                                                  s_stream_reader, req->stream,
                                                  s_stream_reader_free);
        if (resp)
            req->stream = NULL;                  /* freed by s_stream_reader_free */
        break;
    case S_REPLY_FD: {
        struct stat st;
        off_t offset = lseek (req->fd, 0, SEEK_CUR);
        if (fstat (req->fd, &st) == 0 && offset >= 0 && st.st_size >= offset) {
            resp = MHD_create_response_from_fd_at_offset64 ((uint64_t) (st.st_size - offset),
                                                            req->fd, (uint64_t) offset);
            if (resp)
                req->fd = -1;                    /* closed by libmicrohttpd */
        }
        break;
    }
    case S_REPLY_NONE:
        break;
    }
    if (!resp) {
        /* Out of memory or an unusable file: a last, static answer. */
        static const char body[] = "{\"error\":{\"code\":\"internal\","
                                   "\"message\":\"cannot build the response\"}}";
        s_reply_clear (req);
        req->status = 500;
        resp = MHD_create_response_from_buffer (sizeof body - 1, (void *) body,
                                                MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return MHD_NO;
        MHD_add_response_header (resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    }
    else if (req->content_type)
        MHD_add_response_header (resp, MHD_HTTP_HEADER_CONTENT_TYPE, req->content_type);
    for (s_header_t *h = req->headers; h; h = h->next)
        MHD_add_response_header (resp, h->name, h->value);
    if (atomic_load (&req->http->stopping))
        MHD_add_response_header (resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result rc = MHD_queue_response (req->conn, (unsigned int) req->status, resp);
    MHD_destroy_response (resp);
    s_record (req);
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Requests */

/* Gives the request's share of the budget back. */
static void
s_release (pl_http_req_t *req)
{
    pl_http_req_t *mine = req;
    atomic_compare_exchange_strong (&req->http->overdraft, &mine, NULL);
    if (!req->reserved)
        return;
    atomic_fetch_sub (&req->http->reserved, req->reserved);
    pl_metric_inc (req->http->m_reserved, NULL, -(double) req->reserved);
    req->reserved = 0;
}

int
pl_http_req_reserve (pl_http_req_t *req, size_t bytes)
{
    if (!req)
        return PL_EINVAL;
    if (!bytes)
        return 0;
    pl_http_t *self = req->http;
    size_t budget = self->opts.memory_budget;
    size_t used = atomic_load (&self->reserved);
    do {
        if (used > budget || bytes > budget - used)
            return PL_EBUSY;
    } while (!atomic_compare_exchange_weak (&self->reserved, &used, used + bytes));
    req->reserved += bytes;
    pl_metric_inc (self->m_reserved, NULL, (double) bytes);
    return 0;
}

/* Bodies are charged as they arrive, so concurrent uploads that together pass the budget
 * could all be refused halfway, none finishing. One gathering body at a time may therefore
 * pass the budget (by at most its own limit): when the budget is spent, one upload still
 * finishes and gives its share back, and the rest are answered busy. */
static int
s_overdraw (pl_http_req_t *req, size_t bytes)
{
    pl_http_t *self = req->http;
    pl_http_req_t *none = NULL;
    if (atomic_load (&self->overdraft) != req
        && !atomic_compare_exchange_strong (&self->overdraft, &none, req))
        return PL_EBUSY;
    atomic_fetch_add (&self->reserved, bytes);
    req->reserved += bytes;
    pl_metric_inc (self->m_reserved, NULL, (double) bytes);
    return 0;
}

static void
s_req_free (pl_http_req_t *req)
{
    if (!req)
        return;
    if (req->data_free && req->data)
        req->data_free (req->data);
    s_reply_clear (req);
    while (req->headers) {
        s_header_t *h = req->headers;
        req->headers = h->next;
        free (h->name);
        free (h->value);
        free (h);
    }
    while (req->strings) {
        s_string_t *s = req->strings;
        req->strings = s->next;
        free (s);
    }
    for (size_t i = 0; i < S_MAX_SEGMENTS; i++)
        free (req->params[i]);
    free (req->body);
    if (req->z) {
        inflateEnd (req->z);
        free (req->z);
    }
    s_release (req);
    pl_http_sig_destroy (&req->sig);
    free (req->method);
    free (req->path);
    free (req->target);
    free (req);
}

const char *pl_http_req_method (const pl_http_req_t *req) { return req->method; }
const char *pl_http_req_path (const pl_http_req_t *req) { return req->path; }

const char *
pl_http_req_route (const pl_http_req_t *req)
{
    return req->route ? req->route->pattern : NULL;
}

const char *pl_http_req_source (const pl_http_req_t *req) { return req->source; }
size_t pl_http_req_body_size (const pl_http_req_t *req) { return req->received; }
void *pl_http_req_data (const pl_http_req_t *req) { return req->data; }

const char *
pl_http_req_param (const pl_http_req_t *req, const char *name)
{
    if (!req->route || !name)
        return NULL;
    for (size_t i = 0; i < req->route->n_segs; i++)
        if (req->route->is_param[i] && strcmp (req->route->segs[i], name) == 0)
            return req->params[i];
    return NULL;
}

const char *
pl_http_req_query (pl_http_req_t *req, const char *name)
{
    const char *raw = MHD_lookup_connection_value (req->conn, MHD_GET_ARGUMENT_KIND, name);
    if (!raw)
        return NULL;
    char *decoded = s_decode (raw, strlen (raw), true, false);
    if (!decoded)
        return NULL;
    size_t n = strlen (decoded);
    s_string_t *s = malloc (sizeof *s + n + 1);
    if (!s) {
        free (decoded);
        return NULL;
    }
    memcpy (s->text, decoded, n + 1);
    free (decoded);
    s->next = req->strings;
    req->strings = s;
    return s->text;
}

const char *
pl_http_req_header (const pl_http_req_t *req, const char *name)
{
    return MHD_lookup_connection_value (req->conn, MHD_HEADER_KIND, name);
}

const char *
pl_http_req_body (const pl_http_req_t *req, size_t *size)
{
    if (size)
        *size = req->body ? req->body_len : 0;
    return req->body;
}

void
pl_http_req_set_data (pl_http_req_t *req, void *data, void (*free_fn) (void *))
{
    if (req->data_free && req->data && req->data != data)
        req->data_free (req->data);
    req->data = data;
    req->data_free = free_fn;
}

static void
s_thread_ctx_release (void *p)
{
    s_thread_ctx_t *t = p;
    if (t->fini)
        t->fini (t->ctx, t->arg);
    free (t);
}

void *
pl_http_req_thread_ctx (pl_http_req_t *req)
{
    pl_http_t *self = req->http;
    if (!self->have_key)
        return NULL;
    s_thread_ctx_t *t = pthread_getspecific (self->thread_key);
    if (t)
        return t->ctx;
    t = calloc (1, sizeof *t);
    if (!t)
        return NULL;
    t->ctx = self->opts.thread_init (self->opts.thread_arg);
    t->fini = self->opts.thread_fini;
    t->arg = self->opts.thread_arg;
    if (!t->ctx || pthread_setspecific (self->thread_key, t) != 0) {
        /* A failed init is retried on the next request rather than cached. */
        if (t->ctx && t->fini)
            t->fini (t->ctx, t->arg);
        free (t);
        return NULL;
    }
    return t->ctx;
}

/* The media type of a Content-Type value: its text before ';', without blanks. */
static bool
s_media_type (const char *value, const char **start, size_t *len)
{
    if (!value)
        return false;
    while (*value == ' ' || *value == '\t')
        value++;
    size_t n = strcspn (value, ";");
    while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t'))
        n--;
    *start = value;
    *len = n;
    return n > 0;
}

bool
pl_http_req_type_is (const pl_http_req_t *req, const char *types)
{
    const char *type;
    size_t len;
    if (!s_media_type (pl_http_req_header (req, MHD_HTTP_HEADER_CONTENT_TYPE), &type, &len))
        return false;
    return s_list_has (types, type, len, true);
}

int
pl_http_require_type (pl_http_req_t *req, const char *types)
{
    if (pl_http_req_type_is (req, types))
        return 0;
    char message[512];
    snprintf (message, sizeof message, "Content-Type must be one of: %s", types);
    pl_http_reply_error (req, 415, "unsupported_media_type", message, NULL);
    return PL_EINVAL;
}

/* ---------------------------------------------------------------------------------------- */
/* Routing */

/* Splits a path (or pattern) after its leading '/' into segments, pointing into path. */
static size_t
s_split_path (const char *path, const char **segs, size_t *lens, size_t max)
{
    const char *p = path + 1;
    size_t n = 0;
    for (;;) {
        const char *slash = strchr (p, '/');
        size_t len = slash ? (size_t) (slash - p) : strlen (p);
        if (n == max)
            return max + 1;
        segs[n] = p;
        lens[n] = len;
        n++;
        if (!slash)
            return n;
        p = slash + 1;
    }
}

static bool
s_path_matches (const s_route_t *r, const char **segs, const size_t *lens, size_t n)
{
    if (r->n_segs != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (r->is_param[i]) {
            if (lens[i] == 0)
                return false;
        }
        else if (strlen (r->segs[i]) != lens[i] || memcmp (r->segs[i], segs[i], lens[i]) != 0)
            return false;
    }
    return true;
}

static bool
s_method_matches (const s_route_t *r, const char *method)
{
    return strcmp (r->method, method) == 0
           || (strcmp (method, "HEAD") == 0 && strcmp (r->method, "GET") == 0);
}

/* Finds the route; on no match, sets a 404 or 405 response and returns NULL. */
static const s_route_t *
s_route_find (pl_http_req_t *req)
{
    const char *segs[S_MAX_SEGMENTS];
    size_t lens[S_MAX_SEGMENTS];
    size_t n = req->path[0] == '/' ? s_split_path (req->path, segs, lens, S_MAX_SEGMENTS) : 0;
    const s_route_t *best = NULL;
    char allow[256] = "";
    bool path_known = false;
    for (const s_route_t *r = req->http->routes; n > 0 && n <= S_MAX_SEGMENTS && r; r = r->next) {
        if (!s_path_matches (r, segs, lens, n))
            continue;
        path_known = true;
        if (s_method_matches (r, req->method)) {
            if (!best || r->rank > best->rank)
                best = r;
        }
        else if (!s_list_has (allow, r->method, strlen (r->method), false)) {
            size_t used = strlen (allow);
            snprintf (allow + used, sizeof allow - used, "%s%s", used ? ", " : "", r->method);
            if (strcmp (r->method, "GET") == 0 && !s_list_has (allow, "HEAD", 4, false)) {
                used = strlen (allow);
                snprintf (allow + used, sizeof allow - used, ", HEAD");
            }
        }
    }
    if (best) {
        for (size_t i = 0; i < best->n_segs; i++) {
            if (!best->is_param[i])
                continue;
            req->params[i] = s_decode (segs[i], lens[i], false, true);
            if (!req->params[i]) {
                pl_http_reply_error (req, 400, "bad_path", "malformed percent-encoding in the path",
                                     best->segs[i]);
                return NULL;
            }
        }
        return best;
    }
    char message[512];
    if (path_known) {
        /* s_list_has wants commas only; the Allow header wants ", ". */
        snprintf (message, sizeof message, "%s is not allowed on %s; allowed: %s", req->method,
                  req->path, allow);
        pl_http_reply_error (req, 405, "method_not_allowed", message, NULL);
        pl_http_reply_header (req, MHD_HTTP_HEADER_ALLOW, allow);
    }
    else {
        snprintf (message, sizeof message, "no such resource: %s", req->path);
        pl_http_reply_error (req, 404, "not_found", message, NULL);
    }
    return NULL;
}

/* What follows `scheme` (any case) at the start of a header value, after leading spaces; NULL
 * when the value is absent or has another scheme. */
static const char *
s_after_scheme (const char *value, const char *scheme)
{
    if (!value)
        return NULL;
    while (*value == ' ')
        value++;
    size_t n = strlen (scheme);
    return strncasecmp (value, scheme, n) == 0 ? value + n : NULL;
}

/* The token of an "Authorization: Bearer <token>" header, or NULL. */
static const char *
s_bearer (const char *header)
{
    const char *token = s_after_scheme (header, "Bearer ");
    if (!token)
        return NULL;
    while (*token == ' ')
        token++;
    return *token ? token : NULL;
}

/* Authentication and authorisation; false with a 401/403 response set when refused. */
static bool
s_authenticate (pl_http_req_t *req)
{
    const s_route_t *route = req->route;
    if (route->flags & PL_HTTP_PUBLIC)
        return true;
    const char *header = pl_http_req_header (req, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *token = s_bearer (header);
    const pl_http_tokens_t *tokens = req->http->opts.tokens;
    const char *source = (token && tokens) ? pl_http_tokens_lookup (tokens, token) : NULL;
    if (!source) {
        pl_http_reply_error (req, 401, "unauthorized",
                             token ? "the bearer token is not valid"
                                   : "this resource needs an Authorization: Bearer token",
                             NULL);
        pl_http_reply_header (req, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                              token ? "Bearer realm=\"plateau\", error=\"invalid_token\""
                                    : "Bearer realm=\"plateau\"");
        return false;
    }
    req->source = source;
    if (route->sources && !s_list_has (route->sources, source, strlen (source), false)) {
        char message[256];
        snprintf (message, sizeof message, "source '%s' may not use %s %s", source,
                  route->method, route->pattern);
        pl_http_reply_error (req, 403, "forbidden", message, NULL);
        return false;
    }
    return true;
}

/* Everything decided from the headers. False with an error response set when refused. */
static bool
s_begin (pl_http_req_t *req)
{
    req->route = s_route_find (req);
    if (!req->route)
        return false;
    if (!s_authenticate (req))
        return false;
    req->limit = req->route->max_body ? req->route->max_body : req->http->opts.max_body;
    req->declared = SIZE_MAX;
    const char *length = pl_http_req_header (req, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (length) {
        char *end = NULL;
        errno = 0;
        unsigned long long n = strtoull (length, &end, 10);
        if (!errno && end != length && n > req->limit) {
            char message[160];
            snprintf (message, sizeof message, "the body is larger than the limit of %zu bytes",
                      req->limit);
            pl_http_reply_error (req, 413, "too_large", message, NULL);
            return false;
        }
        if (!errno && end != length)
            req->declared = (size_t) n;
    }
    if (req->route->content_types && pl_http_require_type (req, req->route->content_types) < 0)
        return false;
    /* Compressed bodies (ETL tools send gzip): decoded as they arrive. Never echoed: the
     * header may hold anything. */
    const char *enc = pl_http_req_header (req, "Content-Encoding");
    if (enc && *enc && strcasecmp (enc, "identity") != 0) {
        if (strcasecmp (enc, "gzip") != 0 && strcasecmp (enc, "x-gzip") != 0 && strcasecmp (enc, "deflate") != 0) {
            pl_http_reply_error (req, 415, "unsupported_encoding",
                                 "Content-Encoding must be gzip, deflate or identity", "Content-Encoding");
            return false;
        }
        if (pl_http_req_reserve (req, S_INFLATE_MEM) < 0) {
            pl_http_reply_busy (req, "the server's memory budget is in use; retry later", 1);
            return false;
        }
        req->z = calloc (1, sizeof *req->z);
        req->z_gzip = strcasecmp (enc, "deflate") != 0;
        /* 15 + 32: zlib (HTTP's deflate) or gzip, told by the stream's header. */
        if (!req->z || inflateInit2 (req->z, 15 + 32) != Z_OK) {
            free (req->z);
            req->z = NULL;
            pl_http_reply_busy (req, "out of memory", 1);
            return false;
        }
    }
    if (req->route->secret && req->source) {
        const void *secrets[PL_HTTP_MAX_SECRETS];
        size_t lens[PL_HTTP_MAX_SECRETS], n = 0;
        while (n < PL_HTTP_MAX_SECRETS
               && (secrets[n] = req->route->secret (req->source, (unsigned) n, &lens[n], req->route->arg)))
            n++;
        int rc = n ? pl_http_req_sig_new_any (req, secrets, lens, n, &req->sig) : 0;
        if (rc == PL_ENOMEM)
            pl_http_reply_busy (req, "out of memory", 1);
        if (rc < 0)
            return false;
    }
    if (!req->route->on_body && req->declared != SIZE_MAX && req->declared > 0) {
        /* Refused now, while HTTP/1.1 can still answer without reading the body, when it could
         * not fit the budget left; it is charged as it arrives, not now, so that a client
         * that declares much and sends little holds no budget it never used. */
        pl_http_t *self = req->http;
        size_t used = atomic_load (&self->reserved);
        if (used > self->opts.memory_budget || req->declared >= self->opts.memory_budget - used) {
            pl_http_reply_busy (req, "the server's memory budget is in use; retry later", 1);
            return false;
        }
    }
    return true;
}

/* A piece of decoded body: stream it or gather it; on error set the response. */
static void
s_body_plain (pl_http_req_t *req, const char *data, size_t size)
{
    if (req->route->on_body) {
        if (req->route->on_body (req, data, size, req->route->arg) < 0) {
            if (req->kind == S_REPLY_NONE)
                pl_http_reply_error (req, 500, "internal", "the body could not be processed",
                                     NULL);
            req->failed = true;
        }
        return;
    }
    if (req->body_len + size + 1 > req->body_cap) {
        /* Doubling, but never past the declared length or the limit (plus the NUL). */
        size_t need = req->body_len + size + 1;
        size_t most = (req->declared < req->limit && !req->z ? req->declared : req->limit) + 1;
        size_t cap = req->body_cap ? req->body_cap : (most < S_FIRST_BODY ? most : S_FIRST_BODY);
        while (cap < need && cap < most)
            cap = cap > most / 2 ? most : cap * 2;
        if (cap < need)
            cap = need;
        if (pl_http_req_reserve (req, cap - req->body_charged) < 0 && s_overdraw (req, cap - req->body_charged) < 0) {
            pl_http_reply_busy (req, "the server's memory budget is in use; retry later", 1);
            req->failed = true;
            return;
        }
        req->body_charged = cap;
        char *body = realloc (req->body, cap);
        if (!body) {
            pl_http_reply_busy (req, "out of memory", 1);
            req->failed = true;
            return;
        }
        req->body = body;
        req->body_cap = cap;
    }
    memcpy (req->body + req->body_len, data, size);
    req->body_len += size;
    req->body[req->body_len] = '\0';
}

/* Decodes a piece of a compressed body into s_body_plain, within the limit and the expansion
 * bound. */
static void
s_inflate (pl_http_req_t *req, const char *data, size_t size)
{
    char out[S_INFLATE_OUT];
    z_stream *z = req->z;
    z->next_in = (Bytef *) data;
    z->avail_in = (uInt) size;
    while (!req->failed && (z->avail_in > 0 || z->avail_out == 0)) {
        if (req->z_end) {
            if (z->avail_in == 0)
                break;
            /* A gzip body is a series of members ("cat a.gz b.gz", a CRM export written in
             * parts): the next one starts with gzip's magic bytes. Anything else after the end
             * is refused, as is a zlib stream with data after it. The limits count the whole. */
            if (!req->z_gzip || z->next_in[0] != 0x1f || inflateReset (z) != Z_OK) {
                pl_http_reply_error (req, 400, "bad_encoding", "data after the end of the compressed body",
                                     "Content-Encoding");
                req->failed = true;
                return;
            }
            req->z_end = false;
        }
        z->next_out = (Bytef *) out;
        z->avail_out = sizeof out;
        int rc = inflate (z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
            pl_http_reply_error (req, 400, "bad_encoding",
                                 "the body is not valid data for its Content-Encoding", "Content-Encoding");
            req->failed = true;
            return;
        }
        size_t n = sizeof out - z->avail_out;
        req->z_end = rc == Z_STREAM_END;
        if (req->decoded + n > req->limit
            || (req->decoded + n > S_RATIO_FLOOR && req->decoded + n > (size_t) S_RATIO_MAX * req->received)) {
            char message[200];
            snprintf (message, sizeof message,
                      "the body decoded is larger than the limit of %zu bytes, or over %d times its "
                      "compressed size", req->limit, S_RATIO_MAX);
            pl_http_reply_error (req, 413, "too_large", message, NULL);
            req->failed = true;
            return;
        }
        req->decoded += n;
        if (n)
            s_body_plain (req, out, n);
        if (rc == Z_BUF_ERROR && n == 0)
            break;                      /* needs more input */
    }
}

/* A piece of body as sent: counted, fed to the signature check, decoded if compressed; on
 * error set the response and start discarding. */
static void
s_body (pl_http_req_t *req, const char *data, size_t size)
{
    if (req->received + size > req->limit || req->received + size < req->received) {
        char message[160];
        snprintf (message, sizeof message, "the body is larger than the limit of %zu bytes",
                  req->limit);
        pl_http_reply_error (req, 413, "too_large", message, NULL);
        req->failed = true;
        return;
    }
    req->received += size;
    pl_http_sig_update (req->sig, data, size);
    if (req->z)
        s_inflate (req, data, size);
    else
        s_body_plain (req, data, size);
}

/* ---------------------------------------------------------------------------------------- */
/* Slow clients
 *
 * libmicrohttpd's connection timeout counts idleness, so a client that sends one header line
 * every few seconds keeps its connection, and its thread, for as long as it likes: 64 such
 * clients silence the server. The guard thread closes a connection whose request line and
 * headers are not complete within header_timeout_s, or whose body arrives slower than
 * min_body_rate bytes/s over a window of body_rate_window_s. It shuts the socket down, which
 * wakes the connection's own thread (blocked in poll) and makes it close; the descriptor is
 * not closed before NOTIFY_CONNECTION reports the close, which takes the same mutex, so a
 * reused descriptor is never touched. */

static s_conn_t *
s_conn_of (struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info
        = MHD_get_connection_info (conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

static void
s_notify_connection (void *cls, struct MHD_Connection *conn, void **socket_context,
                     enum MHD_ConnectionNotificationCode code)
{
    pl_http_t *self = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        s_conn_t *c = calloc (1, sizeof *c);
        *socket_context = c;
        if (!c)
            return;
        const union MHD_ConnectionInfo *info
            = MHD_get_connection_info (conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        c->fd = info ? (int) info->connect_fd : -1;
        c->phase_ms = pl_clock_mono_ms ();
        c->in_headers = true;
        pthread_mutex_lock (&self->conns_mutex);
        if (self->pending)
            self->pending--;
        c->over_limit = ++self->n_conns > self->opts.max_connections;
        c->next = self->conns;
        if (self->conns)
            self->conns->prev = c;
        self->conns = c;
        pthread_mutex_unlock (&self->conns_mutex);
        return;
    }
    s_conn_t *c = *socket_context;
    if (!c)
        return;
    *socket_context = NULL;
    pthread_mutex_lock (&self->conns_mutex);
    if (c->prev)
        c->prev->next = c->next;
    else
        self->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    self->n_conns--;
    pthread_cond_signal (&self->gate_cond);
    pthread_mutex_unlock (&self->conns_mutex);
    free (c);
}

/* The request's headers are complete (first access callback) or its body has ended. */
static void
s_conn_phase (pl_http_t *self, s_conn_t *c, bool in_headers, bool in_body)
{
    if (!c)
        return;
    pthread_mutex_lock (&self->conns_mutex);
    c->in_headers = in_headers;
    c->in_body = in_body;
    c->phase_ms = pl_clock_mono_ms ();
    c->window_bytes = 0;
    c->busy_ms = 0;
    pthread_mutex_unlock (&self->conns_mutex);
}

/* A piece of body has arrived and is being handled (busy) or has been. The time our own
 * callbacks take (an on_body waiting on Redis) is not the client's: the window stops. */
static void
s_conn_body (pl_http_t *self, s_conn_t *c, size_t size, bool busy)
{
    if (!c)
        return;
    pthread_mutex_lock (&self->conns_mutex);
    int64_t now = pl_clock_mono_ms ();
    if (busy) {
        c->window_bytes += size;
        c->busy_ms = now;
    } else if (c->busy_ms) {
        c->phase_ms += now - c->busy_ms;
        c->busy_ms = 0;
    }
    pthread_mutex_unlock (&self->conns_mutex);
}

static void *
s_guard_run (void *arg)
{
    pl_http_t *self = arg;
    int64_t header_ms = (int64_t) self->opts.header_timeout_s * 1000;
    int64_t window_ms = (int64_t) self->opts.body_rate_window_s * 1000;
    pthread_mutex_lock (&self->conns_mutex);
    while (!self->guard_stop) {
        int64_t now = pl_clock_mono_ms ();
        for (s_conn_t *c = self->conns; c; c = c->next) {
            if (c->cut || c->fd < 0 || c->busy_ms)
                continue;
            bool slow_headers = c->in_headers && now - c->phase_ms > header_ms;
            bool slow_body = false;
            if (c->in_body && self->opts.min_body_rate && now - c->phase_ms >= window_ms) {
                slow_body = c->window_bytes
                            < (size_t) self->opts.min_body_rate * self->opts.body_rate_window_s;
                c->phase_ms = now;
                c->window_bytes = 0;
            }
            if (slow_headers || slow_body) {
                shutdown (c->fd, SHUT_RDWR);
                c->cut = true;
            }
        }
        struct timespec until;
        clock_gettime (CLOCK_REALTIME, &until);
        until.tv_nsec += 250 * 1000 * 1000;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait (&self->conns_cond, &self->conns_mutex, &until);
    }
    pthread_mutex_unlock (&self->conns_mutex);
    return NULL;
}

static enum MHD_Result
s_access (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void) version;
    pl_http_t *self = cls;
    pl_http_req_t *req = *con_cls;              /* made by s_uri_log */
    if (!req)
        return MHD_NO;
    if (!req->begun) {
        req->begun = true;
        req->conn = conn;
        req->started_ms = pl_clock_mono_ms ();
        req->method = strdup (method);
        req->path = strdup (url);
        atomic_fetch_add (&self->in_flight, 1);
        if (!req->method || !req->path || !req->target)
            return MHD_NO;
        s_conn_t *c = s_conn_of (conn);
        s_conn_phase (self, c, false, true);
        if (c && c->over_limit) {
            /* One of the spare connections (see s_accept_run): a clear answer at once. */
            pl_http_reply_busy (req, "too many connections; retry after a second", 1);
            pl_http_reply_header (req, MHD_HTTP_HEADER_CONNECTION, "close");
            req->failed = req->early = true;
            return s_send (req);
        }
        if (!s_begin (req)) {
            req->failed = req->early = true;
            return s_send (req);
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t size = *upload_data_size;
        *upload_data_size = 0;
        if (req->failed) {
            req->discarded += size;
            return req->discarded > S_DISCARD_MAX ? MHD_NO : MHD_YES;
        }
        s_conn_t *c = s_conn_of (conn);
        s_conn_body (self, c, size, true);
        s_body (req, upload_data, size);
        s_conn_body (self, c, 0, false);
        return MHD_YES;
    }
    s_conn_phase (self, s_conn_of (conn), false, false);
    if (!req->failed && req->z && !req->z_end && req->received > 0) {
        pl_http_reply_error (req, 400, "bad_encoding", "the compressed body ends before its end",
                             "Content-Encoding");
        req->failed = true;
    }
    if (!req->failed && req->sig && pl_http_sig_check (req->sig) != 0) {
        pl_http_reply_error (req, 401, "signature_mismatch",
                             "the " PL_HTTP_SIGNATURE_HEADER " header does not match the request",
                             PL_HTTP_SIGNATURE_HEADER);
        req->failed = true;
    }
    if (!req->failed) {
        int rc = req->route->handler ? req->route->handler (req, req->route->arg) : PL_EINVAL;
        if (rc < 0 && req->kind == S_REPLY_NONE)
            pl_http_reply_error (req, 500, "internal", "the request could not be handled", NULL);
    }
    return s_send (req);
}

/* A request answered from its headers leaves its body unread, and closing a socket with
 * unread input sends a reset, which can destroy the answer before the client reads it. So,
 * as web servers do, we end our side and read what comes until the client closes, for a
 * while. This runs in the connection's thread: only its own slot waits. */
static void
s_linger (pl_http_req_t *req, struct MHD_Connection *conn)
{
    if (!pl_http_req_header (req, MHD_HTTP_HEADER_CONTENT_LENGTH)
        && !pl_http_req_header (req, MHD_HTTP_HEADER_TRANSFER_ENCODING))
        return;
    const union MHD_ConnectionInfo *info
        = MHD_get_connection_info (conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!info)
        return;
    int fd = (int) info->connect_fd;
    shutdown (fd, SHUT_WR);                      /* the answer is all sent: end it */
    int64_t until = pl_clock_mono_ms () + S_LINGER_MS;
    size_t drained = 0;
    char buf[4096];
    while (drained < S_DISCARD_MAX) {
        int64_t left = until - pl_clock_mono_ms ();
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (left <= 0 || poll (&p, 1, (int) left) <= 0)
            break;
        ssize_t n = recv (fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0)
            break;
        drained += (size_t) n;
    }
}

static void
s_completed (void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    pl_http_t *self = cls;
    pl_http_req_t *req = *con_cls;
    if (!req)
        return;
    *con_cls = NULL;
    if (req->early && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        s_linger (req, conn);
    /* A kept-alive connection has header_timeout_s for its next request's headers. */
    s_conn_phase (self, s_conn_of (conn), true, false);
    bool counted = req->begun;
    s_req_free (req);
    if (counted)
        atomic_fetch_sub (&self->in_flight, 1);
}

/* Called with the request target as sent, before libmicrohttpd splits off the query and
 * unescapes: signatures cover it as sent. What it returns is the request's *con_cls. */
static void *
s_uri_log (void *cls, const char *uri, struct MHD_Connection *conn)
{
    pl_http_req_t *req = calloc (1, sizeof *req);
    if (!req)
        return NULL;
    req->http = cls;
    req->conn = conn;
    req->fd = -1;
    req->target = strdup (uri ? uri : "");
    return req;
}

/* Leaves URLs and query arguments as received: we decode them ourselves (see the top). */
static size_t
s_unescape_none (void *cls, struct MHD_Connection *conn, char *uri)
{
    (void) cls;
    (void) conn;
    return strlen (uri);
}

/* ---------------------------------------------------------------------------------------- */
/* Server */

/* The positive whole number in environment variable `name` if it is set and at most `most`,
 * else `fallback`. */
static unsigned long long
s_env_or (const char *name, unsigned long long most, unsigned long long fallback)
{
    const char *env = getenv (name);
    char *end = NULL;
    errno = 0;
    unsigned long long n = env ? strtoull (env, &end, 10) : 0;
    return env && !errno && end != env && !*end && n > 0 && n <= most ? n : fallback;
}

pl_http_t *
pl_http_new (const char *addr, int port, const pl_http_options_t *options)
{
    if (port < 0 || port > 65535 || sodium_init () < 0)
        return NULL;
    pl_http_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    if (options)
        self->opts = *options;
    if (!self->opts.max_body)
        self->opts.max_body = PL_HTTP_DEFAULT_MAX_BODY;
    if (!self->opts.max_connections)
        self->opts.max_connections = PL_HTTP_DEFAULT_MAX_CONNECTIONS;
    if (!self->opts.idle_timeout_s)
        self->opts.idle_timeout_s = PL_HTTP_DEFAULT_IDLE_TIMEOUT_S;
    if (!self->opts.header_timeout_s)
        self->opts.header_timeout_s = (unsigned) s_env_or ("PLATEAU_HTTP_HEADER_TIMEOUT", 3600,
                                                           PL_HTTP_DEFAULT_HEADER_TIMEOUT_S);
    if (!self->opts.signature_window_s)
        self->opts.signature_window_s
            = (unsigned) s_env_or ("PLATEAU_HTTP_SIGNATURE_WINDOW", 86400,
                                   PL_HTTP_DEFAULT_SIGNATURE_WINDOW_S);
    if (!self->opts.memory_budget)
        self->opts.memory_budget = (size_t) s_env_or ("PLATEAU_HTTP_MEMORY_BUDGET", SIZE_MAX,
                                                      PL_HTTP_DEFAULT_MEMORY_BUDGET);
    if (!self->opts.min_body_rate)
        self->opts.min_body_rate = PL_HTTP_DEFAULT_MIN_BODY_RATE;
    if (!self->opts.body_rate_window_s)
        self->opts.body_rate_window_s = PL_HTTP_DEFAULT_BODY_RATE_WINDOW_S;
    pthread_mutex_init (&self->conns_mutex, NULL);
    pthread_cond_init (&self->conns_cond, NULL);
    pthread_cond_init (&self->gate_cond, NULL);
    self->addr = strdup (addr ? addr : "0.0.0.0");
    self->service = self->opts.service ? strdup (self->opts.service) : NULL;
    self->opts.service = self->service;
    self->port = port;
    self->listen_fd = -1;
    atomic_init (&self->stopping, false);
    atomic_init (&self->in_flight, 0);
    atomic_init (&self->reserved, 0);
    atomic_init (&self->overdraft, NULL);
    if (!self->addr || (self->opts.service && !self->service))
        goto fail;
    if (self->opts.thread_init) {
        if (pthread_key_create (&self->thread_key, s_thread_ctx_release) != 0)
            goto fail;
        self->have_key = true;
    }
    if (self->opts.metrics && self->service) {
        char name[160];
        static const double bounds[] = { 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                         2.5, 5, 10, 30, 60 };
        snprintf (name, sizeof name, "plateau_%s_http_requests_total", self->service);
        self->m_requests = pl_metrics_counter (self->opts.metrics, name,
                                               "HTTP requests answered, by route and status",
                                               "method,route,status");
        snprintf (name, sizeof name, "plateau_%s_http_request_duration_seconds", self->service);
        self->m_duration = pl_metrics_histogram (self->opts.metrics, name,
                                                 "Time from request headers to the response",
                                                 "route", bounds,
                                                 sizeof bounds / sizeof bounds[0]);
        snprintf (name, sizeof name, "plateau_%s_http_memory_reserved_bytes", self->service);
        self->m_reserved = pl_metrics_gauge (self->opts.metrics, name,
                                             "Memory budget held by requests in progress", NULL);
        snprintf (name, sizeof name, "plateau_%s_http_busy_total", self->service);
        self->m_busy = pl_metrics_counter (self->opts.metrics, name,
                                           "Requests answered 503 busy (memory budget or "
                                           "connections)", NULL);
    }
    return self;
fail:
    free (self->addr);
    free (self->service);
    free (self);
    return NULL;
}

static void
s_route_free (s_route_t *r)
{
    for (size_t i = 0; i < r->n_segs; i++)
        free (r->segs[i]);
    free (r->method);
    free (r->pattern);
    free (r->sources);
    free (r->content_types);
    free (r);
}

void
pl_http_destroy (pl_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pl_http_t *self = *self_p;
    pl_http_stop (self, 0);
    while (self->routes) {
        s_route_t *r = self->routes;
        self->routes = r->next;
        s_route_free (r);
    }
    if (self->have_key)
        pthread_key_delete (self->thread_key);
    pthread_cond_destroy (&self->conns_cond);
    pthread_cond_destroy (&self->gate_cond);
    pthread_mutex_destroy (&self->conns_mutex);
    free (self->addr);
    free (self->service);
    free (self->openapi);
    free (self);
    *self_p = NULL;
}

#define S_WORD_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"

/* Whether the n bytes at s are one or more of the characters of set. */
static bool
s_all_in (const char *s, size_t n, const char *set)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!s[i] || !strchr (set, s[i]))
            return false;
    return true;
}

static bool
s_valid_param_name (const char *s, size_t n)
{
    return s_all_in (s, n, S_WORD_CHARS) && !(s[0] >= '0' && s[0] <= '9');
}

int
pl_http_route (pl_http_t *self, const char *method, const char *pattern,
               pl_http_handler_fn *handler, void *arg, const pl_http_route_opts_t *opts)
{
    if (!self)
        return PL_EINVAL;
    if (!method || !*method || !pattern || pattern[0] != '/' || !handler)
        return s_fail (self, PL_EINVAL, "route: method, pattern starting with '/' and handler "
                       "are required");
    if (self->started)
        return s_fail (self, PL_EBUSY, "route %s %s: the server has started", method, pattern);
    for (const char *m = method; *m; m++)
        if (*m < 'A' || *m > 'Z')
            return s_fail (self, PL_EINVAL, "route: bad method '%s'", method);
    s_route_t *r = calloc (1, sizeof *r);
    if (!r)
        return s_fail (self, PL_ENOMEM, "out of memory");
    const char *segs[S_MAX_SEGMENTS];
    size_t lens[S_MAX_SEGMENTS];
    size_t n = s_split_path (pattern, segs, lens, S_MAX_SEGMENTS);
    if (n > S_MAX_SEGMENTS) {
        s_route_free (r);
        return s_fail (self, PL_EINVAL, "route %s: more than %d segments", pattern,
                       S_MAX_SEGMENTS);
    }
    for (size_t i = 0; i < n; i++) {
        bool param = lens[i] >= 2 && segs[i][0] == '{' && segs[i][lens[i] - 1] == '}';
        const char *text = param ? segs[i] + 1 : segs[i];
        size_t len = param ? lens[i] - 2 : lens[i];
        if ((param && !s_valid_param_name (text, len))
            || (!param && (memchr (text, '{', len) || memchr (text, '}', len)
                           || memchr (text, '%', len) || memchr (text, '?', len)))) {
            r->n_segs = i;
            s_route_free (r);
            return s_fail (self, PL_EINVAL, "route %s: bad segment '%.*s'", pattern, (int) lens[i],
                           segs[i]);
        }
        r->segs[i] = strndup (text, len);
        r->is_param[i] = param;
        r->n_segs = i + 1;
        if (!r->segs[i]) {
            s_route_free (r);
            return s_fail (self, PL_ENOMEM, "out of memory");
        }
        if (!param)
            r->rank |= 1ULL << (63 - i);
    }
    for (s_route_t *o = self->routes; o; o = o->next) {
        bool same = strcmp (o->method, method) == 0 && o->n_segs == r->n_segs;
        for (size_t i = 0; same && i < r->n_segs; i++)
            same = o->is_param[i] == r->is_param[i]
                   && (r->is_param[i] || strcmp (o->segs[i], r->segs[i]) == 0);
        if (same) {
            s_route_free (r);
            return s_fail (self, PL_EEXIST, "route %s %s: already registered as %s", method,
                           pattern, o->pattern);
        }
    }
    r->method = strdup (method);
    r->pattern = strdup (pattern);
    r->handler = handler;
    r->arg = arg;
    if (opts) {
        r->flags = opts->flags;
        r->max_body = opts->max_body;
        r->on_body = opts->on_body;
        r->secret = opts->secret;
        r->sources = opts->sources ? strdup (opts->sources) : NULL;
        r->content_types = opts->content_types ? strdup (opts->content_types) : NULL;
        if ((opts->sources && !r->sources) || (opts->content_types && !r->content_types)) {
            s_route_free (r);
            return s_fail (self, PL_ENOMEM, "out of memory");
        }
    }
    if (!r->method || !r->pattern) {
        s_route_free (r);
        return s_fail (self, PL_ENOMEM, "out of memory");
    }
    s_route_t **tail = &self->routes;
    while (*tail)
        tail = &(*tail)->next;
    *tail = r;
    return 0;
}

/* Binds and listens on addr:port; returns the socket or -1 with errstr set. */
static int
s_listen (pl_http_t *self)
{
    struct addrinfo hints = { 0 }, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char port[16];
    snprintf (port, sizeof port, "%d", self->port);
    int rc = getaddrinfo (self->addr, port, &hints, &res);
    if (rc != 0) {
        s_fail (self, PL_EIO, "resolve %s: %s", self->addr, gai_strerror (rc));
        return -1;
    }
    int fd = socket (res->ai_family, res->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                     res->ai_protocol);
    if (fd < 0) {
        s_fail (self, PL_EIO, "socket: %s", strerror (errno));
        freeaddrinfo (res);
        return -1;
    }
    int one = 1;
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind (fd, res->ai_addr, res->ai_addrlen) < 0 || listen (fd, SOMAXCONN) < 0) {
        s_fail (self, PL_EIO, "bind %s:%d: %s", self->addr, self->port, strerror (errno));
        close (fd);
        freeaddrinfo (res);
        return -1;
    }
    freeaddrinfo (res);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname (fd, (struct sockaddr *) &ss, &len) == 0)
        self->port = ntohs (ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &ss)->sin6_port
                                                     : ((struct sockaddr_in *) &ss)->sin_port);
    return fd;
}

/* Connections taken beyond max_connections only to be answered 503 busy at once (see
 * http.h, Threads). */
static unsigned
s_spare (const pl_http_t *self)
{
    return self->opts.max_connections < 16 ? 16 : self->opts.max_connections;
}

/* The accept gate. libmicrohttpd accepts every connection it is offered and closes those over
 * its limit at once, which the client sees as a reset. So we accept them ourselves, and only
 * while fewer than max_connections + spare are open: the rest wait in the kernel's listen
 * backlog, and are taken in turn as the spare ones, answered 503 at once, free their places. */
static void *
s_accept_run (void *arg)
{
    pl_http_t *self = arg;
    unsigned most = self->opts.max_connections + s_spare (self);
    while (!atomic_load (&self->stopping)) {
        pthread_mutex_lock (&self->conns_mutex);
        while (!atomic_load (&self->stopping) && self->n_conns + self->pending >= most) {
            /* libmicrohttpd drops, without a word, a connection it cannot allocate for. */
            if (self->pending && pl_clock_mono_ms () - self->pending_ms > S_PENDING_MS)
                self->pending = 0;
            struct timespec until;
            clock_gettime (CLOCK_REALTIME, &until);
            until.tv_nsec += 250 * 1000 * 1000;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait (&self->gate_cond, &self->conns_mutex, &until);
        }
        pthread_mutex_unlock (&self->conns_mutex);
        struct pollfd p = { .fd = self->listen_fd, .events = POLLIN };
        if (atomic_load (&self->stopping) || poll (&p, 1, 250) <= 0)
            continue;
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int fd = accept4 (self->listen_fd, (struct sockaddr *) &ss, &len,
                          SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                struct timespec pause = { 0, 50 * 1000 * 1000 };   /* they wait in the backlog */
                nanosleep (&pause, NULL);
            }
            continue;
        }
        pthread_mutex_lock (&self->conns_mutex);
        self->pending++;
        self->pending_ms = pl_clock_mono_ms ();
        pthread_mutex_unlock (&self->conns_mutex);
        if (MHD_add_connection (self->daemon, fd, (struct sockaddr *) &ss, len) != MHD_YES) {
            pthread_mutex_lock (&self->conns_mutex);       /* it has closed fd */
            if (self->pending)
                self->pending--;
            pthread_mutex_unlock (&self->conns_mutex);
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* The OpenAPI document */

static int
s_openapi (pl_http_req_t *req, void *arg)
{
    pl_http_t *self = arg;
    return pl_http_reply (req, 200, "application/json", self->openapi, self->openapi_len);
}

/* The compiled-in document with "x-plateau-served": {"service": <options.service or null>,
 * "operations": ["GET /v1/leads/{id}", …]}, the routes of this server in the order they were
 * registered: a client learns which part of the contract this port answers, and the contract
 * test (tests/integration/test_openapi_routes.mjs) compares it with the document. 0, or
 * PL_ENOMEM, or PL_EINVAL when the compiled-in text is not a JSON object (test_openapi_document
 * validates it). */
static int
s_openapi_build (pl_http_t *self)
{
    json_error_t error;
    json_t *doc = json_loadb ((const char *) pl__openapi_json, pl__openapi_json_len, 0, &error);
    if (!json_is_object (doc)) {
        json_decref (doc);
        return s_fail (self, PL_EINVAL, "the compiled-in OpenAPI document is not a JSON object: "
                       "line %d: %s", error.line, error.text);
    }
    json_t *ops = json_array ();
    json_t *served = json_object ();
    int rc = ops && served ? 0 : PL_ENOMEM;
    for (const s_route_t *r = self->routes; rc == 0 && r; r = r->next) {
        char op[512];
        snprintf (op, sizeof op, "%s %s", r->method, r->pattern);
        rc = json_array_append_new (ops, json_string (op)) == 0 ? 0 : PL_ENOMEM;
    }
    if (rc == 0
        && (json_object_set_new (served, "service", self->service ? json_string (self->service)
                                                                  : json_null ()) != 0
            || json_object_set (served, "operations", ops) != 0
            || json_object_set (doc, "x-plateau-served", served) != 0))
        rc = PL_ENOMEM;
    char *text = rc == 0 ? json_dumps (doc, JSON_COMPACT) : NULL;
    json_decref (ops);
    json_decref (served);
    json_decref (doc);
    if (!text)
        return s_fail (self, PL_ENOMEM, "out of memory");
    free (self->openapi);
    self->openapi = text;
    self->openapi_len = strlen (text);
    return 0;
}

/* Registers GET /v1/openapi.json unless the caller did, then builds the text it serves. */
static int
s_openapi_route (pl_http_t *self)
{
    bool have = false, mine = true;
    for (const s_route_t *r = self->routes; r; r = r->next)
        if (strcmp (r->method, "GET") == 0 && strcmp (r->pattern, S_OPENAPI_PATH) == 0) {
            have = true;
            mine = r->handler == s_openapi;
        }
    if (!mine)
        return 0;
    /* Registered once, even when a start failed after it (a port taken) and is tried again. */
    int rc = have ? 0 : pl_http_route (self, "GET", S_OPENAPI_PATH, s_openapi, self,
                                       &(pl_http_route_opts_t) { .flags = PL_HTTP_PUBLIC });
    return rc < 0 ? rc : s_openapi_build (self);
}

int
pl_http_start (pl_http_t *self)
{
    if (!self)
        return PL_EINVAL;
    if (self->stopped)
        return s_fail (self, PL_ECLOSED, "the server has been stopped");
    if (self->started)
        return 0;
    int rc = s_openapi_route (self);
    if (rc < 0)
        return rc;
    int fd = s_listen (self);
    if (fd < 0)
        return PL_EIO;
    /* We accept (s_accept_run) and hand connections over. libmicrohttpd's own limit is only a
     * backstop, above ours: connections it has not yet cleaned up still count in it. */
    unsigned gate = self->opts.max_connections + s_spare (self);
    unsigned int flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD
                         | MHD_USE_POLL | MHD_USE_ITC | MHD_USE_NO_LISTEN_SOCKET;
    self->daemon = MHD_start_daemon (
        flags, 0, NULL, NULL, s_access, self,
        MHD_OPTION_NOTIFY_COMPLETED, s_completed, self,
        MHD_OPTION_NOTIFY_CONNECTION, s_notify_connection, self,
        MHD_OPTION_CONNECTION_LIMIT, 2 * gate,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) S_CONN_MEMORY,
        MHD_OPTION_CONNECTION_TIMEOUT, self->opts.idle_timeout_s,
        MHD_OPTION_UNESCAPE_CALLBACK, s_unescape_none, NULL,
        MHD_OPTION_URI_LOG_CALLBACK, s_uri_log, self,
        MHD_OPTION_END);
    if (!self->daemon) {
        close (fd);
        return s_fail (self, PL_EIO, "cannot start the HTTP server on %s:%d", self->addr,
                       self->port);
    }
    self->listen_fd = fd;
    self->started = true;
    self->guard_stop = false;
    if (pthread_create (&self->acceptor, NULL, s_accept_run, self) != 0) {
        MHD_stop_daemon (self->daemon);
        self->daemon = NULL;
        close (fd);
        self->listen_fd = -1;
        self->started = false;
        return s_fail (self, PL_EIO, "cannot start the HTTP server's accept thread");
    }
    self->acceptor_running = true;
    if (pthread_create (&self->guard, NULL, s_guard_run, self) == 0)
        self->guard_running = true;
    return 0;
}

int
pl_http_port (const pl_http_t *self)
{
    return self ? self->port : -1;
}

size_t
pl_http_in_flight (const pl_http_t *self)
{
    return self ? atomic_load (&self->in_flight) : 0;
}

const char *
pl_http_errstr (const pl_http_t *self)
{
    return self ? self->errstr : "no server";
}

int
pl_http_stop (pl_http_t *self, int timeout_ms)
{
    if (!self || !self->daemon)
        return 0;
    atomic_store (&self->stopping, true);
    /* Shutting the listening socket down makes the kernel refuse new connections at once (and
     * reset those waiting in the backlog) instead of queueing them for a server that will
     * never accept them; it also wakes the accept thread. It is closed at the end. */
    shutdown (self->listen_fd, SHUT_RDWR);
    if (self->acceptor_running) {
        pthread_mutex_lock (&self->conns_mutex);
        pthread_cond_signal (&self->gate_cond);
        pthread_mutex_unlock (&self->conns_mutex);
        pthread_join (self->acceptor, NULL);
        self->acceptor_running = false;
    }
    int64_t deadline = pl_clock_mono_ms () + (timeout_ms > 0 ? timeout_ms : 0);
    while (atomic_load (&self->in_flight) > 0 && pl_clock_mono_ms () < deadline) {
        struct timespec pause = { 0, 5 * 1000 * 1000 };
        nanosleep (&pause, NULL);
    }
    int rc = atomic_load (&self->in_flight) > 0 ? PL_ETIMEDOUT : 0;
    MHD_stop_daemon (self->daemon);
    self->daemon = NULL;
    if (self->guard_running) {
        pthread_mutex_lock (&self->conns_mutex);
        self->guard_stop = true;
        pthread_cond_signal (&self->conns_cond);
        pthread_mutex_unlock (&self->conns_mutex);
        pthread_join (self->guard, NULL);
        self->guard_running = false;
    }
    close (self->listen_fd);
    self->listen_fd = -1;
    self->stopped = true;
    if (rc)
        s_fail (self, rc, "stop: requests still in flight after %d ms were cut", timeout_ms);
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Bearer tokens */

typedef struct {
    char *source;
    unsigned char digest[crypto_hash_sha256_BYTES];
} s_token_t;

struct pl_http_tokens {
    s_token_t *items;
    size_t n, cap;
    char errstr[160];
};

pl_http_tokens_t *
pl_http_tokens_new (void)
{
    if (sodium_init () < 0)
        return NULL;
    return calloc (1, sizeof (pl_http_tokens_t));
}

void
pl_http_tokens_destroy (pl_http_tokens_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pl_http_tokens_t *self = *self_p;
    for (size_t i = 0; i < self->n; i++)
        free (self->items[i].source);
    if (self->items)
        sodium_memzero (self->items, self->cap * sizeof *self->items);
    free (self->items);
    free (self);
    *self_p = NULL;
}

static bool
s_valid_source (const char *s, size_t n)
{
    return s_all_in (s, n, S_WORD_CHARS ".-");
}

/* Validates and adds a token given as (source, n) and (token, m). */
static int
s_tokens_add (pl_http_tokens_t *self, const char *source, size_t n, const char *token, size_t m)
{
    if (!s_valid_source (source, n)) {
        snprintf (self->errstr, sizeof self->errstr, "bad source name (expected [A-Za-z0-9_.-]+)");
        return PL_EINVAL;
    }
    if (m < S_MIN_TOKEN) {
        snprintf (self->errstr, sizeof self->errstr,
                  "token of source '%.*s' is shorter than %d bytes", (int) n, source, S_MIN_TOKEN);
        return PL_EINVAL;
    }
    for (size_t i = 0; i < m; i++)
        if (token[i] == ' ' || token[i] == '\t' || (unsigned char) token[i] < 0x20) {
            snprintf (self->errstr, sizeof self->errstr,
                      "token of source '%.*s' holds a blank or control character", (int) n,
                      source);
            return PL_EINVAL;
        }
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256 (digest, (const unsigned char *) token, m);
    for (size_t i = 0; i < self->n; i++)
        if (crypto_verify_32 (self->items[i].digest, digest) == 0) {
            snprintf (self->errstr, sizeof self->errstr,
                      "token of source '%.*s' is already in the table", (int) n, source);
            return PL_EEXIST;
        }
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 8;
        s_token_t *items = calloc (cap, sizeof *items);
        if (!items)
            return PL_ENOMEM;
        if (self->items) {
            memcpy (items, self->items, self->n * sizeof *items);
            sodium_memzero (self->items, self->cap * sizeof *self->items);
            free (self->items);
        }
        self->items = items;
        self->cap = cap;
    }
    char *copy = strndup (source, n);
    if (!copy)
        return PL_ENOMEM;
    self->items[self->n].source = copy;
    memcpy (self->items[self->n].digest, digest, sizeof digest);
    self->n++;
    sodium_memzero (digest, sizeof digest);
    return 0;
}

int
pl_http_tokens_add (pl_http_tokens_t *self, const char *source, const char *token)
{
    if (!self || !source || !token)
        return PL_EINVAL;
    return s_tokens_add (self, source, strlen (source), token, strlen (token));
}

int
pl_http_tokens_parse (pl_http_tokens_t *self, const char *text)
{
    if (!self || !text)
        return PL_EINVAL;
    size_t before = self->n;
    int line_no = 0;
    const char *p = text;
    while (*p) {
        line_no++;
        const char *eol = strchr (p, '\n');
        size_t len = eol ? (size_t) (eol - p) : strlen (p);
        const char *s = p;
        size_t n = len;
        while (n > 0 && (*s == ' ' || *s == '\t')) {
            s++;
            n--;
        }
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
            n--;
        p = eol ? eol + 1 : p + len;
        if (n == 0 || *s == '#')
            continue;
        const char *colon = memchr (s, ':', n);
        int rc = PL_EINVAL;
        char detail[160] = "expected source:token";
        if (colon) {
            size_t sn = (size_t) (colon - s);
            while (sn > 0 && (s[sn - 1] == ' ' || s[sn - 1] == '\t'))
                sn--;
            const char *t = colon + 1;
            size_t tn = n - (size_t) (t - s);
            while (tn > 0 && (*t == ' ' || *t == '\t')) {
                t++;
                tn--;
            }
            rc = s_tokens_add (self, s, sn, t, tn);
            if (rc < 0)
                snprintf (detail, sizeof detail, "%s", self->errstr);
        }
        if (rc < 0) {
            /* All or nothing: drop what this text added. */
            while (self->n > before) {
                self->n--;
                free (self->items[self->n].source);
                sodium_memzero (&self->items[self->n], sizeof self->items[self->n]);
            }
            snprintf (self->errstr, sizeof self->errstr, "line %d: %.140s", line_no, detail);
            return rc;
        }
    }
    return (int) (self->n - before);
}

int
pl_http_tokens_load (pl_http_tokens_t *self, const char *path)
{
    if (!self || !path)
        return PL_EINVAL;
    FILE *f = fopen (path, "re");
    if (!f) {
        snprintf (self->errstr, sizeof self->errstr, "%s: %s", path, strerror (errno));
        return PL_EIO;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    char buf[4096];
    size_t n;
    int rc = 0;
    while ((n = fread (buf, 1, sizeof buf, f)) > 0) {
        if (len + n + 1 > cap) {
            size_t ncap = cap ? cap * 2 : 8192;
            while (ncap < len + n + 1)
                ncap *= 2;
            char *grown = malloc (ncap);
            if (!grown) {
                rc = PL_ENOMEM;
                break;
            }
            if (text) {
                memcpy (grown, text, len);
                sodium_memzero (text, cap);
                free (text);
            }
            text = grown;
            cap = ncap;
        }
        memcpy (text + len, buf, n);
        len += n;
    }
    if (ferror (f) && rc == 0) {
        snprintf (self->errstr, sizeof self->errstr, "%s: read error", path);
        rc = PL_EIO;
    }
    fclose (f);
    sodium_memzero (buf, sizeof buf);
    if (rc == 0) {
        if (text) {
            text[len] = '\0';
            rc = pl_http_tokens_parse (self, text);
        }
    }
    if (text) {
        sodium_memzero (text, cap);
        free (text);
    }
    return rc;
}

const char *
pl_http_tokens_lookup (const pl_http_tokens_t *self, const char *token)
{
    if (!self || !token)
        return NULL;
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256 (digest, (const unsigned char *) token, strlen (token));
    /* Every entry is compared, with no early exit, so that the time taken says nothing about
     * which entry matched or how much of a digest did. */
    size_t found = SIZE_MAX;
    for (size_t i = 0; i < self->n; i++) {
        size_t hit = (size_t) 0 - (size_t) (crypto_verify_32 (self->items[i].digest, digest) == 0);
        found = (found & ~hit) | (i & hit);
    }
    sodium_memzero (digest, sizeof digest);
    return found == SIZE_MAX ? NULL : self->items[found].source;
}

size_t
pl_http_tokens_count (const pl_http_tokens_t *self)
{
    return self ? self->n : 0;
}

const char *
pl_http_tokens_errstr (const pl_http_tokens_t *self)
{
    return self ? self->errstr : "no token table";
}

/* ---------------------------------------------------------------------------------------- */
/* Signatures */

struct pl_http_sig {
    crypto_auth_hmacsha256_state state[PL_HTTP_MAX_SECRETS];   /* one per secret admitted */
    size_t n;
    unsigned char given[crypto_auth_hmacsha256_BYTES];
    bool final;
};

/* Feeds "<t>.<METHOD>.<path and query>." to state. */
static void
s_sig_prefix (crypto_auth_hmacsha256_state *state, const char *t, size_t t_len,
              const char *method, const char *path_and_query)
{
    crypto_auth_hmacsha256_update (state, (const unsigned char *) t, t_len);
    crypto_auth_hmacsha256_update (state, (const unsigned char *) ".", 1);
    crypto_auth_hmacsha256_update (state, (const unsigned char *) method, strlen (method));
    crypto_auth_hmacsha256_update (state, (const unsigned char *) ".", 1);
    crypto_auth_hmacsha256_update (state, (const unsigned char *) path_and_query,
                                   strlen (path_and_query));
    crypto_auth_hmacsha256_update (state, (const unsigned char *) ".", 1);
}

int
pl_http_sign (const void *secret, size_t secret_len, int64_t unix_s, const char *method,
              const char *path_and_query, const void *body, size_t body_len, char *out,
              size_t out_size)
{
    if (!secret || !method || !path_and_query || (!body && body_len) || !out || unix_s < 0
        || sodium_init () < 0)
        return PL_EINVAL;
    char t[24];
    int t_len = snprintf (t, sizeof t, "%lld", (long long) unix_s);
    /* "t=" t ",v1=" 64 hex NUL */
    if (out_size < 2 + (size_t) t_len + 4 + 2 * crypto_auth_hmacsha256_BYTES + 1)
        return PL_EINVAL;
    crypto_auth_hmacsha256_state state;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init (&state, secret, secret_len);
    s_sig_prefix (&state, t, (size_t) t_len, method, path_and_query);
    if (body_len)
        crypto_auth_hmacsha256_update (&state, body, body_len);
    crypto_auth_hmacsha256_final (&state, mac);
    sodium_memzero (&state, sizeof state);
    int n = snprintf (out, out_size, "t=%s,v1=", t);
    sodium_bin2hex (out + n, out_size - (size_t) n, mac, sizeof mac);
    return 0;
}

/* Splits "t=<digits>,v1=<64 hex>" (blanks allowed after the comma and at the end): the
 * timestamp's text and the digest. PL_EINVAL when it is not of that form. */
static int
s_sig_parse (const char *value, const char **t, size_t *t_len, int64_t *t_s,
             unsigned char given[crypto_auth_hmacsha256_BYTES])
{
    if (strncmp (value, "t=", 2) != 0)
        return PL_EINVAL;
    *t = value + 2;
    *t_len = strspn (*t, "0123456789");
    if (*t_len == 0 || *t_len > 18)
        return PL_EINVAL;
    const char *p = *t + *t_len;
    if (*p++ != ',')
        return PL_EINVAL;
    while (*p == ' ')
        p++;
    if (strncmp (p, "v1=", 3) != 0)
        return PL_EINVAL;
    p += 3;
    size_t n = strspn (p, "0123456789abcdefABCDEF");
    const char *rest = p + n;
    while (*rest == ' ')
        rest++;
    size_t bin_len = 0;
    if (n != 2 * crypto_auth_hmacsha256_BYTES || *rest
        || sodium_hex2bin (given, crypto_auth_hmacsha256_BYTES, p, n, NULL, &bin_len, NULL) != 0
        || bin_len != crypto_auth_hmacsha256_BYTES)
        return PL_EINVAL;
    *t_s = strtoll (*t, NULL, 10);
    return 0;
}

int
pl_http_sig_new (pl_http_sig_t **self_p, const void *secret, size_t secret_len,
                 const char *header_value, const char *method, const char *path_and_query,
                 int64_t now_s, unsigned window_s)
{
    return pl_http_sig_new_any (self_p, &secret, &secret_len, 1, header_value, method, path_and_query,
                                now_s, window_s);
}

int
pl_http_sig_new_any (pl_http_sig_t **self_p, const void *const *secrets, const size_t *lens, size_t n,
                     const char *header_value, const char *method, const char *path_and_query,
                     int64_t now_s, unsigned window_s)
{
    if (!self_p || !secrets || !lens || n == 0 || n > PL_HTTP_MAX_SECRETS || !method || !path_and_query)
        return PL_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!secrets[i])
            return PL_EINVAL;
    *self_p = NULL;
    if (!header_value)
        return PL_ENOTFOUND;
    unsigned char given[crypto_auth_hmacsha256_BYTES];
    const char *t;
    size_t t_len;
    int64_t t_s;
    if (s_sig_parse (header_value, &t, &t_len, &t_s, given) < 0)
        return PL_EINVAL;
    if (t_s < now_s - (int64_t) window_s || t_s > now_s + (int64_t) window_s)
        return PL_ERANGE;
    if (sodium_init () < 0)
        return PL_ENOMEM;
    pl_http_sig_t *self = malloc (sizeof *self);
    if (!self)
        return PL_ENOMEM;
    memcpy (self->given, given, sizeof given);
    self->final = false;
    self->n = n;
    for (size_t i = 0; i < n; i++) {
        crypto_auth_hmacsha256_init (&self->state[i], secrets[i], lens[i]);
        s_sig_prefix (&self->state[i], t, t_len, method, path_and_query);
    }
    *self_p = self;
    return 0;
}

void
pl_http_sig_update (pl_http_sig_t *self, const void *data, size_t len)
{
    if (self && !self->final && len)
        for (size_t i = 0; i < self->n; i++)
            crypto_auth_hmacsha256_update (&self->state[i], data, len);
}

int
pl_http_sig_check (pl_http_sig_t *self)
{
    if (!self || self->final)
        return PL_EINVAL;
    int match = 0;                 /* every secret is tried: the time does not say which one */
    for (size_t i = 0; i < self->n; i++) {
        unsigned char mac[crypto_auth_hmacsha256_BYTES];
        crypto_auth_hmacsha256_final (&self->state[i], mac);
        match |= sodium_memcmp (mac, self->given, sizeof mac) == 0;
    }
    self->final = true;
    return match ? 0 : PL_EPERM;
}

void
pl_http_sig_destroy (pl_http_sig_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sodium_memzero (*self_p, sizeof **self_p);     /* the state holds the keyed pads */
    free (*self_p);
    *self_p = NULL;
}

int
pl_http_req_sig_new (pl_http_req_t *req, const void *secret, size_t secret_len,
                     pl_http_sig_t **sig_p)
{
    return pl_http_req_sig_new_any (req, &secret, &secret_len, 1, sig_p);
}

int
pl_http_req_sig_new_any (pl_http_req_t *req, const void *const *secrets, const size_t *lens, size_t n,
                         pl_http_sig_t **sig_p)
{
    if (!req || !sig_p)
        return PL_EINVAL;
    pl_http_t *self = req->http;
    const char *value = pl_http_req_header (req, PL_HTTP_SIGNATURE_HEADER);
    int64_t now_s = pl_clock_now_ms (self->opts.clock) / 1000;
    int rc = pl_http_sig_new_any (sig_p, secrets, lens, n, value, req->method,
                                  req->target ? req->target : req->path, now_s,
                                  self->opts.signature_window_s);
    if (rc == 0 || rc == PL_ENOMEM)
        return rc;
    char message[200];
    const char *code;
    if (rc == PL_ENOTFOUND) {
        code = "signature_missing";
        snprintf (message, sizeof message, "this source signs its requests: the %s header is "
                  "missing", PL_HTTP_SIGNATURE_HEADER);
    }
    else if (rc == PL_ERANGE) {
        code = "signature_expired";
        snprintf (message, sizeof message, "the %s timestamp is more than %u s from now",
                  PL_HTTP_SIGNATURE_HEADER, self->opts.signature_window_s);
    }
    else {
        code = "signature_malformed";
        snprintf (message, sizeof message, "the %s header must be t=<unix seconds>,v1=<64 hex>",
                  PL_HTTP_SIGNATURE_HEADER);
    }
    pl_http_reply_error (req, 401, code, message, PL_HTTP_SIGNATURE_HEADER);
    pl_http_reply_header (req, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                          "Signature header=\"" PL_HTTP_SIGNATURE_HEADER "\", "
                          "algorithm=\"hmac-sha256\"");
    return rc;
}
