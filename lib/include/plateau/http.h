/*  http.h — the HTTP server of the services' public APIs (intake, audit, payments, webhooks).
 *
 *  A pl_http_t serves routes registered by method and path pattern ("/v1/leads/{id}"). A
 *  handler reads the request (path parameters, query, headers, body) and sets one response
 *  (a buffer, a JSON error in the project's format, a stream, or a file). The layer does what
 *  every API must do the same way: bearer-token authentication (401 / 403), body size limits
 *  (413), content types (415), unknown paths (404) and methods (405), errors as
 *  {"error":{"code":"…","message":"…","field":"…"}}, request metrics, and a graceful stop for
 *  SIGTERM.
 *
 *  Life cycle: pl_http_new() (no I/O), pl_http_route() for every route, pl_http_start() (binds
 *  and serves), pl_http_stop() (quiesce and wait), pl_http_destroy(). Routes are fixed once
 *  the server has started: the request path reads them without locks.
 *
 *  Threads. One thread per connection, at most `max_connections` of them (libmicrohttpd's
 *  thread-per-connection mode), plus as many spare ones (at least 16) whose requests are
 *  answered 503 {"error":{"code":"busy",…}} with "Retry-After: 1" as soon as their headers
 *  are in, then closed. Connections beyond those are not accepted yet: they wait in the
 *  kernel's listen backlog (SOMAXCONN) and are taken in turn as places free, so a flood is
 *  answered 503, never reset. A spare connection costs at worst a thread that reads one
 *  request line and its headers (about 100 KiB resident, see Memory) for at most
 *  header_timeout_s, then, when the request announced a body, up to 2 s reading and dropping
 *  at most 1 MiB of it until the client closes: closing a socket with unread input would
 *  reset it and could destroy the answer. Size the limit for the clients' pools
 *  (idle kept-alive connections count until idle_timeout_s, or header_timeout_s once they
 *  have had an answer). A connection slow to send its headers or its body is closed (see
 *  header_timeout_s), so slow clients cannot hold every thread. Handlers, body
 *  callbacks and stream callbacks run in the connection's thread and may block (a Redis round
 *  trip, a file write): one slow request never stalls another. Several handlers of the same
 *  route run at the same time, so HANDLERS MUST BE THREAD-SAFE. State that is not, such as a
 *  Redis connection, belongs to a thread: give options.thread_init and get it back with
 *  pl_http_req_thread_ctx(); it is made on the thread's first request that asks for it and
 *  released with options.thread_fini when the thread ends (its connection closes).
 *
 *  Bodies. By default the body is gathered (up to the route's limit) and the handler reads it
 *  with pl_http_req_body(). A route with `on_body` receives it in chunks as it arrives instead
 *  (a few tens of kilobytes each, whatever the client sends), so a million-row CSV is parsed
 *  with bounded memory; the handler then runs once the body has ended. Over the limit the
 *  client gets 413 and neither the rest of on_body nor the handler is called. HTTP/1.1 cannot
 *  answer before it has read the request, so an error found mid-body (413, or on_body
 *  failing) is answered after up to 1 MiB more of the body has been read and discarded; a
 *  client that sends more than that has its connection closed without an answer.
 *
 *  Compressed bodies. "Content-Encoding: gzip" (or x-gzip) and "deflate" (zlib, as HTTP means
 *  it) are decoded as they arrive, for every route: handlers and on_body see the decoded bytes,
 *  a signed route's signature covers the bytes as sent. The route's limit applies to both the
 *  compressed and the decoded size, and past 1 MiB decoded a body may not expand more than 200
 *  times what was received: a zip bomb gets 413 after a few kilobytes. Invalid or truncated
 *  compressed data is 400 "bad_encoding"; any other encoding 415 "unsupported_encoding"
 *  (field "Content-Encoding"). Neither message echoes the body or the header.
 *
 *  Memory. A server has a budget (options.memory_budget, 256 MiB by default) shared by all
 *  its requests: a gathered body is charged as its buffer grows, and a handler charges what it
 *  holds for the request with pl_http_req_reserve(); all is given back when the request ends.
 *  A body whose declared Content-Length does not fit the budget left is answered 503
 *  {"error":{"code":"busy",…}} with "Retry-After" before any of it is read; one that stops
 *  fitting while it arrives gets the same answer after the rest is read and dropped (as for
 *  413 below). Worst case, per connection: libmicrohttpd's buffer for the request line and
 *  headers (32 KiB: larger headers are refused), our bookkeeping (under 4 KiB), the thread's
 *  stack (the system's default reserved, only the pages touched resident: tens of KiB) and,
 *  inside the budget, the gathered body (at most the route's limit) and what the handler
 *  reserved. Per process: memory_budget + (max_connections + the
 *  spare connections, see Threads) × about 100 KiB, plus what handlers allocate without
 *  reserving it (responses being sent, streamed bodies' own parsers).
 *
 *  Authentication. Routes are authenticated unless registered PL_HTTP_PUBLIC. The client
 *  sends "Authorization: Bearer <token>"; the token is looked up in a pl_http_tokens_t by
 *  comparing SHA-256 digests in constant time, which gives the source name (the CRM, the
 *  payment provider) that pl_http_req_source() returns. No or unknown token: 401 with
 *  "WWW-Authenticate: Bearer"; known but not in the route's `sources`: 403. A server without
 *  a token table answers 401 on every authenticated route: it fails closed.
 *
 *  Tokens file (PLATEAU_API_TOKENS_FILE, read with pl_config_secret_file):
 *
 *      # one source:token per line; blank lines and lines starting with # are ignored
 *      crm-paris:8f3c1e0a9b7d4f62a1c5e9d03b7f2a64
 *      payments:Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0
 *
 *  The source is [A-Za-z0-9_.-]+, the token everything after the first ':' without surrounding
 *  blanks, at least 16 bytes, no blanks inside. A token appears once; a source may have
 *  several tokens (rotation: add the new one, move the clients, remove the old one).
 *
 *  Signatures. A source given a secret signs each request it sends to a route that asks
 *  (route option `secret`):
 *
 *      X-Plateau-Signature: t=<unix seconds>,v1=<64 hex of HMAC-SHA256(secret,
 *                                                 "<t>.<METHOD>.<path and query>.<body>")>
 *
 *  where the path and query are the request target exactly as sent ("/v1/leads?mode=sync",
 *  percent-escapes untouched) and the body is every byte of it, none for a GET. So a captured
 *  request cannot be sent again later, nor to another path, campaign or method, nor with
 *  another body. pl_http_sign() computes the header's value for a client. The header is
 *  checked as soon as the headers are in, before any body byte is read: absent, 401
 *  signature_missing; not of that form, 401 signature_malformed; t further than
 *  signature_window_s (300 s) from the server's clock either way, 401 signature_expired. The
 *  HMAC is then fed as the body arrives, and compared in constant time once it has ended:
 *  401 signature_mismatch, the handler not called. A streamed route's on_body sees the body
 *  before that comparison: it keeps the body aside (a spool file) and the handler, which
 *  runs only when the signature matched, acts on it. Inside the window the same signed
 *  request can be sent again: the API stops that with its Idempotency-Key, which it requires
 *  of signing sources and keeps for longer than the window. pl_http_sig_t is the same check
 *  for code that verifies on its own.
 *
 *  The contract. Every server also answers GET /v1/openapi.json (public, application/json):
 *  the OpenAPI 3.1 document of every plateau HTTP API (docs/api/openapi.json, compiled into the
 *  kit), plus "x-plateau-served": {"service": options.service or null, "operations": ["GET
 *  /v1/leads/{id}", …]}, the routes this server registered. pl_http_start() adds the route
 *  unless the caller registered that path itself. A new route goes into docs/api/openapi.json
 *  in the same change: tests/integration/test_openapi_routes.mjs starts every service and fails
 *  on a route served and not documented, or documented and not served.
 *
 *  Draining. pl_http_stop() stops accepting connections, lets the requests in flight finish
 *  (their answers carry "Connection: close") and closes what remains when the timeout ends.
 *  A handler blocked forever also blocks the stop: handlers use timeouts on what they wait for.
 *
 *  In short (error checks left out):
 *
 *      static int get_lead (pl_http_req_t *req, void *arg) {
 *          intake_t *in = arg;
 *          char *json = intake_lead_json (in, pl_http_req_thread_ctx (req),
 *                                         pl_http_req_param (req, "id"));
 *          if (!json)
 *              return pl_http_reply_error (req, 404, "not_found", "no such lead", "id");
 *          pl_http_reply_json (req, 200, json);
 *          free (json);
 *          return 0;
 *      }
 *      static int csv_chunk (pl_http_req_t *req, const char *data, size_t n, void *arg) {
 *          csv_t *csv = pl_http_req_data (req);
 *          if (!csv)
 *              pl_http_req_set_data (req, csv = csv_new (arg, pl_http_req_source (req)), csv_free);
 *          return csv_feed (csv, data, n);          // rows go to Redis as they complete
 *      }
 *      static int csv_done (pl_http_req_t *req, void *arg) {
 *          return csv_reply (pl_http_req_data (req), req);   // e.g. pl_http_reply_stream
 *      }
 *
 *      pl_http_options_t o = { .tokens = tokens, .thread_init = redis_open,
 *                              .thread_fini = redis_close, .thread_arg = url,
 *                              .metrics = metrics, .service = "intake" };
 *      pl_http_t *http = pl_http_new ("0.0.0.0", 8080, &o);
 *      pl_http_route (http, "GET", "/v1/leads/{id}", get_lead, in, NULL);
 *      pl_http_route (http, "POST", "/v1/leads/csv", csv_done, in, &(pl_http_route_opts_t) {
 *                         .content_types = "text/csv", .max_body = 2LL << 30,
 *                         .on_body = csv_chunk, .sources = "crm-paris,crm-lyon" });
 *      pl_http_start (http);
 *      …                                            // SIGTERM:
 *      pl_http_stop (http, 25000);
 *      pl_http_destroy (&http);
 */
#ifndef PL_HTTP_H
#define PL_HTTP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "clock.h"
#include "metrics.h"

typedef struct pl_http pl_http_t;               /* a server: opaque */
typedef struct pl_http_req pl_http_req_t;       /* one request and its response: opaque */
typedef struct pl_http_tokens pl_http_tokens_t; /* bearer tokens → source names: opaque */
typedef struct pl_http_sig pl_http_sig_t;       /* an HMAC-SHA256 in progress: opaque */

#define PL_HTTP_DEFAULT_MAX_BODY (1024 * 1024)
#define PL_HTTP_DEFAULT_MAX_CONNECTIONS 64
#define PL_HTTP_DEFAULT_IDLE_TIMEOUT_S 30
#define PL_HTTP_DEFAULT_HEADER_TIMEOUT_S 10
#define PL_HTTP_DEFAULT_MIN_BODY_RATE 1024       /* bytes/s */
#define PL_HTTP_DEFAULT_BODY_RATE_WINDOW_S 10
#define PL_HTTP_DEFAULT_MEMORY_BUDGET ((size_t) 256 * 1024 * 1024)
#define PL_HTTP_DEFAULT_SIGNATURE_WINDOW_S 300
#define PL_HTTP_SIGNATURE_HEADER "X-Plateau-Signature"
/* "t=" + up to 20 digits + ",v1=" + 64 hex digits + NUL, rounded up */
#define PL_HTTP_SIGNATURE_SIZE 96

/* Server options. Zero fields take the defaults; pass NULL for all defaults. Copied by
 * pl_http_new, except what is marked borrowed, which must outlive the server. */
typedef struct {
    size_t max_body;                  /* body limit of routes that set none (1 MiB) */
    unsigned max_connections;         /* concurrent connections, hence threads (64) */
    unsigned idle_timeout_s;          /* an idle connection is closed after this (30 s) */
    /* Slow clients. The request line and headers must be complete within header_timeout_s
     * of the connection's start, or of the previous answer on a kept-alive connection (10 s;
     * 0 takes PLATEAU_HTTP_HEADER_TIMEOUT from the environment, in seconds, when set); a
     * body must arrive at min_body_rate bytes/s or more over each body_rate_window_s
     * (1024 B/s over 10 s). Otherwise the connection is closed without an answer: HTTP/1.1
     * has no way to answer a request that has not been read. */
    unsigned header_timeout_s;
    unsigned min_body_rate;
    unsigned body_rate_window_s;
    /* Bytes the requests of this server may hold at once (256 MiB; 0 takes
     * PLATEAU_HTTP_MEMORY_BUDGET from the environment, in bytes, when set): gathered bodies
     * and what handlers reserve with pl_http_req_reserve (see "Memory" above). */
    size_t memory_budget;
    /* Signatures (see above): how far their timestamp may be from now, either way (300 s; 0
     * takes PLATEAU_HTTP_SIGNATURE_WINDOW from the environment, in seconds, when set), and
     * the clock read for now (borrowed; NULL: the system's). */
    unsigned signature_window_s;
    const pl_clock_t *clock;
    const pl_http_tokens_t *tokens;   /* borrowed, not changed while serving; NULL:
                                       * authenticated routes answer 401 */
    /* Per-thread context (a Redis connection): made by thread_init(thread_arg) on first use
     * in a thread, released by thread_fini(ctx, thread_arg) when that thread ends. */
    void *(*thread_init) (void *thread_arg);
    void (*thread_fini) (void *ctx, void *thread_arg);
    void *thread_arg;
    /* Request metrics when both are set (metrics borrowed):
     *   plateau_<service>_http_requests_total{method,route,status}  (route "unmatched": 404)
     *   plateau_<service>_http_request_duration_seconds{route}
     *   plateau_<service>_http_memory_reserved_bytes     (gauge: the budget in use)
     *   plateau_<service>_http_busy_total                (503 busy answers)
     * The duration runs from the request's headers to its response being handed over (the
     * body received, the handler run; a streamed response's own time is not in it). */
    pl_metrics_t *metrics;
    const char *service;
} pl_http_options_t;

/* A handler sets the response with one of the pl_http_reply* functions (the last one set is
 * sent) and returns 0. A negative return, or no response, sends 500 {"error":{"code":
 * "internal",…}}. `arg` is the one given to pl_http_route. */
typedef int (pl_http_handler_fn) (pl_http_req_t *req, void *arg);
/* Streaming routes: receives the body in order, chunk by chunk; never called with size 0.
 * Returns 0 to go on, or negative to stop: the response it has set (with pl_http_reply*) is
 * sent, 500 if none, and the handler is not called. */
typedef int (pl_http_body_fn) (pl_http_req_t *req, const char *data, size_t size, void *arg);
/* Streaming responses: writes up to max bytes into buf and returns how many (> 0), 0 at the
 * end of the stream, or negative to abort (the client sees a truncated chunked response).
 * May block until it has data; it must not return 0 before the end. */
typedef ssize_t (pl_http_stream_fn) (void *arg, char *buf, size_t max);
/* Signed routes: the i-th secret (its length in *len) with which `source` may sign its requests
 * to this route, or NULL past the last (at i = 0: that source does not sign). A source has two
 * while its secret is rotated: a request signed with either is taken. `arg` is the route's.
 * The secrets must stay valid until the request ends. */
#define PL_HTTP_MAX_SECRETS 4
typedef const void *(pl_http_secret_fn) (const char *source, unsigned i, size_t *len, void *arg);

/* Route flags. */
#define PL_HTTP_PUBLIC 0x01               /* no authentication (probes, public documents) */

/* Route options; NULL for an authenticated route that gathers a body of any content type up
 * to the server's limit. */
typedef struct {
    unsigned flags;                       /* PL_HTTP_* */
    const char *sources;                  /* "crm-paris,crm-lyon": only these sources (403
                                           * for others); NULL: any authenticated source */
    const char *content_types;            /* "application/json,application/x-ndjson": the
                                           * request's Content-Type must be one (parameters
                                           * such as charset ignored), else 415; NULL: any */
    size_t max_body;                      /* 0: the server's max_body */
    pl_http_body_fn *on_body;             /* NULL: gather the body for pl_http_req_body */
    pl_http_secret_fn *secret;            /* NULL: no signatures on this route (public
                                           * routes have no source: never signed) */
} pl_http_route_opts_t;

/* ---- server ----------------------------------------------------------------------------- */

/* A server for addr ("127.0.0.1", "0.0.0.0", "::"; NULL means all IPv4 interfaces) and port
 * (0 picks a free one). Does no I/O: pl_http_start binds. NULL on bad arguments or no memory. */
pl_http_t *pl_http_new (const char *addr, int port, const pl_http_options_t *options);
/* Stops at once if running (pl_http_stop with no grace), frees everything, sets *self_p to
 * NULL; safe to call twice. */
void pl_http_destroy (pl_http_t **self_p);

/* Registers a route before pl_http_start. method: "GET", "POST", … (a GET route also answers
 * HEAD). pattern: "/v1/leads/{id}" — literal segments and {name} segments, each matching one
 * non-empty path segment (percent-decoded for pl_http_req_param); no trailing slash folding.
 * When two patterns match, at the first segment where they differ a literal beats a {param}
 * ("/v1/leads/batch" before "/v1/leads/{id}"). opts may be NULL; it is copied.
 * 0; PL_EINVAL for a bad pattern; PL_EEXIST for a duplicate; PL_EBUSY once started. */
int pl_http_route (pl_http_t *self, const char *method, const char *pattern,
                   pl_http_handler_fn *handler, void *arg, const pl_http_route_opts_t *opts);

/* Registers GET /v1/openapi.json (see "The contract" above), binds, listens and starts serving
 * in libmicrohttpd's threads. 0, or PL_EIO with errstr ("bind 0.0.0.0:8080: Address already in
 * use"), PL_ENOMEM, PL_EINVAL (a compiled-in document that does not parse). */
int pl_http_start (pl_http_t *self);
/* The bound port once started (the real one when 0 was asked), else the configured one. */
int pl_http_port (const pl_http_t *self);
/* Graceful stop: no new connections, requests in flight finish within timeout_ms, then every
 * connection is closed. 0 when all finished, PL_ETIMEDOUT when some were cut. A stopped
 * server does not start again. */
int pl_http_stop (pl_http_t *self, int timeout_ms);
/* Requests received and not yet answered (tests, drain logs). */
size_t pl_http_in_flight (const pl_http_t *self);
const char *pl_http_errstr (const pl_http_t *self);

/* ---- request (valid only inside the callbacks of its request) ---------------------------- */

const char *pl_http_req_method (const pl_http_req_t *req);
/* The path as received, without the query, not percent-decoded ("/v1/leads/01J…"). */
const char *pl_http_req_path (const pl_http_req_t *req);
/* The pattern of the matched route ("/v1/leads/{id}"). */
const char *pl_http_req_route (const pl_http_req_t *req);
/* Value of the {name} segment, percent-decoded; NULL if the pattern has none. */
const char *pl_http_req_param (const pl_http_req_t *req, const char *name);
/* Value of a query parameter, percent-decoded ('+' is a space); NULL when absent. */
const char *pl_http_req_query (pl_http_req_t *req, const char *name);
/* Value of a request header, name case-insensitive; NULL when absent. */
const char *pl_http_req_header (const pl_http_req_t *req, const char *name);
/* The gathered body, NUL-terminated for convenience (size excludes the NUL); NULL with size
 * 0 when there is none or the route streams it. */
const char *pl_http_req_body (const pl_http_req_t *req, size_t *size);
/* Bytes of body received so far (gathered or streamed). */
size_t pl_http_req_body_size (const pl_http_req_t *req);
/* Source name of the authenticated client; NULL on a public route. */
const char *pl_http_req_source (const pl_http_req_t *req);
/* This thread's context from options.thread_init (made now if first use); NULL without one,
 * or when thread_init returned NULL (tried again on the next call). */
void *pl_http_req_thread_ctx (pl_http_req_t *req);
/* Request-scoped state, e.g. a CSV parser shared by on_body and the handler. free_fn (may be
 * NULL) runs on the data when the request ends, however it ends, or when replaced. */
void pl_http_req_set_data (pl_http_req_t *req, void *data, void (*free_fn) (void *));
void *pl_http_req_data (const pl_http_req_t *req);
/* Reserves `bytes` of the server's memory budget for this request (released when the request ends).
 * 0, or PL_EBUSY when the budget is exhausted: answer with pl_http_reply_busy(). */
int pl_http_req_reserve (pl_http_req_t *req, size_t bytes);
/* True when the request's Content-Type is one of `types` (comma-separated; parameters such
 * as charset ignored; case-insensitive). */
bool pl_http_req_type_is (const pl_http_req_t *req, const char *types);
/* As above, and on mismatch sets a 415 error naming the accepted types and returns
 * PL_EINVAL: `if (pl_http_require_type (req, "text/csv") < 0) return 0;` */
int pl_http_require_type (pl_http_req_t *req, const char *types);

/* ---- response --------------------------------------------------------------------------- */

/* A buffered response; body (len bytes, may be NULL/0) is copied. 0 or PL_ENOMEM. */
int pl_http_reply (pl_http_req_t *req, int status, const char *content_type, const void *body,
                   size_t len);
/* The gathered body as a JSON object (a new reference; the caller decrefs) whose members are
 * all among `allowed` (NULL-terminated), or NULL once the 400 is set: broken JSON or a member
 * given twice with its line and column ("bad_json"), not an object, an unknown member named
 * as the field ("unknown_field"). Opaque to jansson's types: include <jansson.h> to use it. */
struct json_t;
struct json_t *pl_http_req_json_object (pl_http_req_t *req, const char *const *allowed);

/* An application/json response; json is copied. */
int pl_http_reply_json (pl_http_req_t *req, int status, const char *json);
/* {"error":{"code":code,"message":message,"field":field}} with field left out when NULL. */
int pl_http_reply_error (pl_http_req_t *req, int status, const char *code, const char *message,
                         const char *field);
/* The same with "line" and "column" (1-based; left out when 0) for parse errors. */
int pl_http_reply_error_at (pl_http_req_t *req, int status, const char *code,
                            const char *message, const char *field, long line, long column);
/* A chunked response produced by fn(arg, …) in the connection's thread after the handler has
 * returned (NDJSON results, a large export). free_fn (may be NULL) gets arg at the end,
 * including when the client goes away or the response is replaced. */
int pl_http_reply_stream (pl_http_req_t *req, int status, const char *content_type,
                          pl_http_stream_fn *fn, void *arg, void (*free_fn) (void *));
/* A response with the contents of fd from its current offset to its end (a spooled result
 * file). Takes fd: it is closed when sent, on error, or when the response is replaced. */
int pl_http_reply_fd (pl_http_req_t *req, int status, const char *content_type, int fd);
/* Adds a header to the response, whichever reply is set ("Retry-After", "Location"). */
int pl_http_reply_header (pl_http_req_t *req, const char *name, const char *value);

/* 503 {"error":{"code":"busy",…}} with "Retry-After: <s>" (s = 1 when 0). */
int pl_http_reply_busy (pl_http_req_t *req, const char *message, unsigned retry_after_s);

/* The error body alone, for services that compose their own answers: a malloc'd
 * {"error":{…}} string (free it), NULL on no memory. */
char *pl_http_error_json (const char *code, const char *message, const char *field);

/* ---- bearer tokens ---------------------------------------------------------------------- */

pl_http_tokens_t *pl_http_tokens_new (void);
/* Wipes the digests and frees; sets *self_p to NULL. */
void pl_http_tokens_destroy (pl_http_tokens_t **self_p);
/* Adds one token for source. PL_EINVAL (bad source, token too short or with blanks),
 * PL_EEXIST (token already present). Only the SHA-256 of the token is kept. */
int pl_http_tokens_add (pl_http_tokens_t *self, const char *source, const char *token);
/* Adds every line of a tokens file's text (format above). Returns the number of tokens added,
 * or a negative code with errstr naming the line ("line 3: expected source:token"); on error
 * nothing is added. The message never contains a token. */
int pl_http_tokens_parse (pl_http_tokens_t *self, const char *text);
/* pl_http_tokens_parse on the file's contents. PL_EIO when unreadable. */
int pl_http_tokens_load (pl_http_tokens_t *self, const char *path);
/* The source of token, or NULL. Takes the same time whichever entry matches, or none. */
const char *pl_http_tokens_lookup (const pl_http_tokens_t *self, const char *token);
size_t pl_http_tokens_count (const pl_http_tokens_t *self);
const char *pl_http_tokens_errstr (const pl_http_tokens_t *self);

/* ---- signing keys ---------------------------------------------------------------------- */

/* Which sources sign their requests, and with what secret: the text of a signing keys file
 * (PLATEAU_<SERVICE>_SIGNING_KEYS_FILE), "source:secret" per line, blank lines and lines
 * starting with # ignored, secrets of 16 bytes or more. A route's pl_http_secret_fn looks the
 * source up with pl_http_keys_secret. */
typedef struct pl_http_keys pl_http_keys_t;
pl_http_keys_t *pl_http_keys_new (void);
/* Wipes the secrets and frees; sets *self_p to NULL. */
void pl_http_keys_destroy (pl_http_keys_t **self_p);
/* Adds every line of text. 0, or PL_EINVAL with err naming the line (never a secret; nothing
 * added), PL_ENOMEM. */
int pl_http_keys_parse (pl_http_keys_t *self, const char *text, char *err, size_t err_size);
/* The secret of source (its length in *len when len is not NULL), or NULL: that source does
 * not sign. A source listed on several lines (a rotation: the new secret beside the old) has
 * several: pl_http_keys_nth gives the i-th, NULL past the last. */
const char *pl_http_keys_secret (const pl_http_keys_t *self, const char *source, size_t *len);
const char *pl_http_keys_nth (const pl_http_keys_t *self, const char *source, unsigned i, size_t *len);
size_t pl_http_keys_count (const pl_http_keys_t *self);

/* ---- signatures ------------------------------------------------------------------------ */

/* The X-Plateau-Signature value of a request (format above), for clients and tests:
 * "t=<unix_s>,v1=<hex>" into out, which PL_HTTP_SIGNATURE_SIZE bytes always fit. path_and_query
 * as it will be sent; body may be NULL when body_len is 0. 0, or PL_EINVAL (a missing
 * argument, unix_s negative, out_size too small). */
int pl_http_sign (const void *secret, size_t secret_len, int64_t unix_s, const char *method,
                  const char *path_and_query, const void *body, size_t body_len, char *out,
                  size_t out_size);

/* Starts verifying a request's signature: header_value as received (NULL when absent), the
 * request's method and path and query as sent, now_s and the window. The header's form and
 * timestamp are checked at once; the body then goes to pl_http_sig_update. 0 with *self_p
 * (free with pl_http_sig_destroy); PL_ENOTFOUND when header_value is NULL, PL_EINVAL when it
 * is malformed, PL_ERANGE when its timestamp is further than window_s from now_s, PL_ENOMEM. */
int pl_http_sig_new (pl_http_sig_t **self_p, const void *secret, size_t secret_len,
                     const char *header_value, const char *method, const char *path_and_query,
                     int64_t now_s, unsigned window_s);
/* The same with n secrets (1 to PL_HTTP_MAX_SECRETS): the signature matches when it is any
 * one's. */
int pl_http_sig_new_any (pl_http_sig_t **self_p, const void *const *secrets, const size_t *lens, size_t n,
                         const char *header_value, const char *method, const char *path_and_query,
                         int64_t now_s, unsigned window_s);
void pl_http_sig_update (pl_http_sig_t *self, const void *data, size_t len);
/* 0 when the signature matches what was fed, PL_EPERM when it does not (constant-time);
 * PL_EINVAL when already checked. */
int pl_http_sig_check (pl_http_sig_t *self);
void pl_http_sig_destroy (pl_http_sig_t **self_p);
/* pl_http_sig_new for req: its PL_HTTP_SIGNATURE_HEADER, method and target as sent, the
 * server's clock and window. On refusal it sets the 401 answer (signature_missing,
 * signature_malformed, signature_expired) and returns the code:
 * `if (pl_http_req_sig_new (req, key, key_len, &sig) < 0) return …;` */
int pl_http_req_sig_new (pl_http_req_t *req, const void *secret, size_t secret_len,
                         pl_http_sig_t **sig_p);
int pl_http_req_sig_new_any (pl_http_req_t *req, const void *const *secrets, const size_t *lens,
                             size_t n, pl_http_sig_t **sig_p);

#endif
