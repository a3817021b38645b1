/*  api.c — GET /v1/audit, /export, /why, /verify, /public-key and POST /v1/audit/erasure
 *  (see api.h). */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "plateau/audit_emit.h"
#include "plateau/error.h"
#include "plateau/outbox.h"
#include "plateau/redis.h"
#include "plateau/timefmt.h"
#include "plateau/audit_query.h"
#include "plateau/audit_verify.h"

#define S_MAX_TRUSTED 16

struct audit_api {
    char *data_dir, *replica, *auditors, *erasers, *zoneinfo, *redis_url;
    pl_audit_keys_t *keys;
    pl_audit_store_t *store;
    const pl_clock_t *clock;
    uint8_t trusted[S_MAX_TRUSTED][PL_AUDIT_KEY_LEN];
    size_t n_trusted;
    char public_hex[2 * PL_AUDIT_KEY_LEN + 1];
};

static char *
s_dup (const char *s)
{
    return strdup (s ? s : "");
}

audit_api_t *
audit_api_new (const audit_api_opts_t *o)
{
    audit_api_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->data_dir = s_dup (o->data_dir);
    self->replica = s_dup (o->replica);
    self->auditors = s_dup (o->auditors);
    self->erasers = s_dup (o->erasers);
    self->zoneinfo = o->zoneinfo ? strdup (o->zoneinfo) : NULL;
    self->redis_url = o->redis_url ? strdup (o->redis_url) : NULL;
    self->keys = o->keys;
    self->store = o->store;
    self->clock = o->clock;
    if (pl_audit_keys_public (self->keys, self->trusted[0]) == 0) {
        self->n_trusted = 1;
        pl_audit_keys_public_hex (self->keys, self->public_hex);
    }
    /* More keys the verify endpoint trusts (the other replicas' published keys). */
    const char *p = o->trusted_keys ? o->trusted_keys : "";
    while (*p && self->n_trusted < S_MAX_TRUSTED) {
        char hex[80];
        size_t n = strcspn (p, ",");
        if (n < sizeof hex) {
            memcpy (hex, p, n);
            hex[n] = '\0';
            if (pl_audit_keys_parse_hex (hex, self->trusted[self->n_trusted]) == 0)
                self->n_trusted++;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return self;
}

void
audit_api_destroy (audit_api_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    audit_api_t *self = *self_p;
    free (self->data_dir);
    free (self->replica);
    free (self->auditors);
    free (self->erasers);
    free (self->redis_url);
    free (self->zoneinfo);
    free (self);
    *self_p = NULL;
}

void *
audit_api_thread_init (void *arg)
{
    audit_api_t *self = arg;
    pl_audit_reader_t *r = pl_audit_reader_new (self->data_dir, self->keys);
    if (r && self->zoneinfo)
        pl_audit_reader_set_zoneinfo (r, self->zoneinfo);
    return r;
}

void
audit_api_thread_fini (void *ctx, void *arg)
{
    (void) arg;
    pl_audit_reader_t *r = ctx;
    pl_audit_reader_destroy (&r);
}

/* True when source is one of the comma-separated names in list. */
static bool
s_listed (const char *list, const char *source)
{
    if (!source || !*source || !list)
        return false;
    size_t n = strlen (source);
    for (const char *p = list; *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        size_t k = strcspn (p, ", ");
        if (k == n && strncmp (p, source, n) == 0)
            return true;
        p += k;
    }
    return false;
}

/* UTC milliseconds, or RFC 3339 through the project's one parser (impossible dates refused). */
static int
s_parse_time (const char *s, int64_t *ms)
{
    if (!s || !*s)
        return -1;
    bool digits = true;
    for (const char *p = (*s == '-' ? s + 1 : s); *p; p++)
        digits &= isdigit ((unsigned char) *p) != 0;
    if (digits && (*s != '-' || s[1])) {
        char *end;
        errno = 0;
        *ms = strtoll (s, &end, 10);
        return *end || errno ? -1 : 0;
    }
    return pl_time_parse_rfc3339 (s, ms) == 0 ? 0 : -1;
}

/* Reads the time parameter `name` into *ms when present (*has set); 400 and -1 when invalid. */
static int
s_time_param (pl_http_req_t *req, const char *name, bool *has, int64_t *ms)
{
    const char *v = pl_http_req_query (req, name);
    *has = v != NULL;
    if (v && s_parse_time (v, ms) != 0) {
        char msg[96];
        snprintf (msg, sizeof msg, "%s: expected RFC 3339 (a real date) or UTC ms", name);
        pl_http_reply_error (req, 400, "invalid", msg, name);
        return -1;
    }
    return 0;
}

/* True when the caller may see numbers in clear. */
static bool
s_auditor (const audit_api_t *self, pl_http_req_t *req)
{
    return s_listed (self->auditors, pl_http_req_source (req));
}

/* Records, durably, that the caller is about to read numbers in clear: an audit.export event
 * with what is read. subject is the number the read is about (sealed like any number), or NULL.
 * 0, or a reply has been sent (503) and the read must not happen. */
static int
s_record_access (audit_api_t *self, pl_http_req_t *req, const char *subject,
                 const Plateau__V1__AccessFacts *what)
{
    Plateau__V1__AccessFacts access = *what;
    access.reader = (char *) pl_http_req_source (req);
    access.role = "auditor";
    access.numbers_in_clear = true;
    int64_t now = pl_clock_now_ms (self->clock);
    Plateau__V1__AuditEvent ev;         /* the store names it <chain>:<seq>:audit.export */
    pl_audit_event_init (&ev, "audit", "audit.export", "", now);
    ev.actor = access.reader;
    ev.number = (char *) (subject ? subject : "");
    ev.access = &access;
    int rc = self->store ? pl_audit_store_record (self->store, &ev, now, NULL) : PL_ECLOSED;
    if (rc == 0)
        return 0;
    pl_http_reply_error (req, 503, "unavailable", "the read of numbers in clear cannot be recorded",
                         NULL);
    pl_http_reply_header (req, "Retry-After", "5");
    return -1;
}

static pl_audit_reader_t *
s_reader (pl_http_req_t *req)
{
    pl_audit_reader_t *r = pl_http_req_thread_ctx (req);
    if (!r)
        pl_http_reply_error (req, 503, "unavailable", "cannot open the audit index", NULL);
    return r;
}

static int
s_reply_rc (pl_http_req_t *req, int rc, const char *detail)
{
    if (rc == PL_EINVAL)
        return pl_http_reply_error (req, 400, "invalid", detail, NULL);
    if (rc == PL_ENOTFOUND)
        return pl_http_reply_error (req, 404, "not_found", detail, NULL);
    return pl_http_reply_error (req, 503, "unavailable", detail, NULL);
}

/* Replies 200 with o as compact JSON (503 when it cannot be written); takes o. */
static int
s_reply_json (pl_http_req_t *req, json_t *o)
{
    char *text = o ? json_dumps (o, JSON_COMPACT) : NULL;
    if (text)
        pl_http_reply_json (req, 200, text);
    else
        pl_http_reply_error (req, 503, "unavailable", "out of memory", NULL);
    free (text);
    json_decref (o);
    return 0;
}

/* Reads the limit parameter into *limit when present; 400 and -1 when invalid. */
static int
s_limit_param (pl_http_req_t *req, size_t *limit)
{
    const char *v = pl_http_req_query (req, "limit");
    if (!v)
        return 0;
    char *end;
    long n = strtol (v, &end, 10);
    if (*end || n < 1 || n > PL_AUDIT_QUERY_LIMIT_MAX) {
        pl_http_reply_error (req, 400, "invalid", "limit: 1 to 1000", "limit");
        return -1;
    }
    *limit = (size_t) n;
    return 0;
}

typedef struct {
    char *p;
    size_t len, cap;
} s_buf_t;

static int
s_sink (void *arg, const char *data, size_t len)
{
    s_buf_t *b = arg;
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 65536;
        while (cap < b->len + len + 1)
            cap *= 2;
        char *p = realloc (b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy (b->p + b->len, data, len);
    b->len += len;
    return 0;
}

static int s_page (audit_api_t *self, pl_http_req_t *req, pl_audit_reader_t *reader,
                   const pl_audit_query_t *q, bool ndjson, const Plateau__V1__AccessFacts *what);

static int
s_query (pl_http_req_t *req, void *arg)
{
    audit_api_t *self = arg;
    pl_audit_reader_t *reader = s_reader (req);
    if (!reader)
        return 0;
    pl_audit_query_t q = {
        .lead = pl_http_req_query (req, "lead"),
        .number = pl_http_req_query (req, "number"),
        .campaign = pl_http_req_query (req, "campaign"),
        .type = pl_http_req_query (req, "type"),
        .cursor = pl_http_req_query (req, "cursor"),
        .reveal = s_auditor (self, req),
    };
    if (s_time_param (req, "from", &q.has_from, &q.from_ms)
        || s_time_param (req, "to", &q.has_to, &q.to_ms) || s_limit_param (req, &q.limit))
        return 0;
    if (q.number && !pl_audit_is_e164 (q.number))
        return pl_http_reply_error (req, 400, "invalid", "number: expected E.164", "number");
    /* Asking about a person tells whether that person is known: readers only. */
    if ((q.number || q.lead) && !s_auditor (self, req))
        return pl_http_reply_error (req, 403, "forbidden",
                                    "queries by number or lead need the reader (auditor) role",
                                    q.number ? "number" : "lead");
    const char *format = pl_http_req_query (req, "format");
    const char *accept = pl_http_req_header (req, "Accept");
    bool ndjson = format ? strcmp (format, "ndjson") == 0
                         : accept && strstr (accept, "application/x-ndjson") != NULL;
    if (format && !ndjson && strcmp (format, "json") != 0)
        return pl_http_reply_error (req, 400, "invalid", "format: json or ndjson", "format");
    return s_page (self, req, reader, &q, ndjson, NULL);
}

/* One page of q as JSON or NDJSON; reading numbers in clear is recorded first (what: the access
 * facts to record, NULL for a plain query). */
static int
s_page (audit_api_t *self, pl_http_req_t *req, pl_audit_reader_t *reader,
        const pl_audit_query_t *q, bool ndjson, const Plateau__V1__AccessFacts *what)
{
    Plateau__V1__AccessFacts access = PLATEAU__V1__ACCESS_FACTS__INIT;
    if (what)
        access = *what;
    access.from_ms = q->has_from ? q->from_ms : 0;
    access.to_ms = q->has_to ? q->to_ms : 0;
    char *next = NULL;
    if (ndjson) {
        s_buf_t b = { 0 };
        int rc = pl_audit_reader_query_ndjson (reader, q, s_sink, &b, &next);
        for (size_t i = 0; rc == 0 && i < b.len; i++)
            access.records += b.p[i] == '\n';
        if (rc != 0)
            s_reply_rc (req, rc, pl_audit_reader_errstr (reader));
        else if (!q->reveal || s_record_access (self, req, q->number, &access) == 0) {
            pl_http_reply (req, 200, "application/x-ndjson", b.p, b.len);
            if (next)
                pl_http_reply_header (req, "X-Next-Cursor", next);
        }
        free (b.p);
        free (next);
        return 0;
    }
    json_t *items = NULL;
    int rc = pl_audit_reader_query (reader, q, &items, &next);
    if (rc != 0)
        return s_reply_rc (req, rc, pl_audit_reader_errstr (reader)), 0;
    access.records = (int64_t) json_array_size (items);
    if (q->reveal && s_record_access (self, req, q->number, &access) != 0) {
        json_decref (items);
        free (next);
        return 0;
    }
    s_reply_json (req, json_pack ("{s:o, s:s?}", "items", items, "next_cursor", next));
    free (next);
    return 0;
}

/* GET /v1/audit/export: by arrival (chain + from_seq) or by time range (from, to). */
static int
s_export (pl_http_req_t *req, void *arg)
{
    audit_api_t *self = arg;
    pl_audit_reader_t *reader = s_reader (req);
    if (!reader)
        return 0;
    bool reveal = s_auditor (self, req);
    size_t limit = 0;
    if (s_limit_param (req, &limit))
        return 0;
    const char *chain = pl_http_req_query (req, "chain");
    const char *from_seq = pl_http_req_query (req, "from_seq");
    if (!chain && !from_seq) {
        pl_audit_query_t q = { .cursor = pl_http_req_query (req, "cursor"), .limit = limit,
                               .reveal = reveal };
        if (s_time_param (req, "from", &q.has_from, &q.from_ms)
            || s_time_param (req, "to", &q.has_to, &q.to_ms))
            return 0;
        if (!q.has_from || !q.has_to)
            return pl_http_reply_error (req, 400, "invalid",
                                        "give from and to (a time range), or chain and from_seq",
                                        q.has_from ? "to" : "from");
        return s_page (self, req, reader, &q, false, &(Plateau__V1__AccessFacts) PLATEAU__V1__ACCESS_FACTS__INIT);
    }
    char *end = NULL;
    errno = 0;
    unsigned long long seq = from_seq ? strtoull (from_seq, &end, 10) : 0;
    if (!chain || !pl_audit_chain_id_valid (chain))
        return pl_http_reply_error (req, 400, "invalid", "chain: a chain id (the replica)", "chain");
    if (!from_seq || !*from_seq || *end || errno || !isdigit ((unsigned char) *from_seq))
        return pl_http_reply_error (req, 400, "invalid", "from_seq: a sequence number", "from_seq");
    json_t *items = NULL;
    uint64_t next = seq;
    int rc = pl_audit_reader_arrivals (reader, chain, seq, limit, reveal, &items, &next);
    if (rc != 0)
        return s_reply_rc (req, rc, pl_audit_reader_errstr (reader)), 0;
    Plateau__V1__AccessFacts access = PLATEAU__V1__ACCESS_FACTS__INIT;
    access.chain = (char *) chain;
    access.from_seq = seq;
    access.records = (int64_t) json_array_size (items);
    if (reveal && s_record_access (self, req, NULL, &access) != 0) {
        json_decref (items);
        return 0;
    }
    return s_reply_json (req, json_pack ("{s:s, s:I, s:I, s:o}", "chain", chain, "from_seq",
                                         (json_int_t) seq, "next_seq", (json_int_t) next,
                                         "items", items));
}

static int
s_why (pl_http_req_t *req, void *arg)
{
    audit_api_t *self = arg;
    pl_audit_reader_t *reader = s_reader (req);
    if (!reader)
        return 0;
    const char *number = pl_http_req_query (req, "number"), *lead = pl_http_req_query (req, "lead");
    const char *subject = number ? number : lead;
    if (!subject || !*subject)
        return pl_http_reply_error (req, 400, "invalid", "give number or lead", "number");
    if (number && !pl_audit_is_e164 (number))
        return pl_http_reply_error (req, 400, "invalid", "number: expected E.164", "number");
    if (!s_auditor (self, req))
        return pl_http_reply_error (req, 403, "forbidden",
                                    "the story of a number or lead needs the reader (auditor) role",
                                    number ? "number" : "lead");
    char *text = NULL;
    bool reveal = s_auditor (self, req);
    int rc = pl_audit_reader_story (reader, subject, reveal, &text);
    Plateau__V1__AccessFacts access = PLATEAU__V1__ACCESS_FACTS__INIT;
    if (rc == 0 && reveal && s_record_access (self, req, number, &access) != 0)
        ;                               /* refused: the read could not be recorded */
    else if (rc == 0)
        pl_http_reply (req, 200, "text/plain; charset=utf-8", text, strlen (text));
    else
        s_reply_rc (req, rc, rc == PL_ENOTFOUND ? "nothing is recorded about this subject"
                                                 : pl_audit_reader_errstr (reader));
    free (text);
    return 0;
}

static int
s_verify (pl_http_req_t *req, void *arg)
{
    audit_api_t *self = arg;
    if (!self->n_trusted)
        return pl_http_reply_error (req, 503, "unavailable", "no public key to verify with", NULL);
    pl_audit_verify_opts_t o = { .trusted = (const uint8_t (*)[PL_AUDIT_KEY_LEN]) self->trusted,
                                 .n_trusted = self->n_trusted, .live = true };
    pl_audit_verify_report_t *r = NULL;
    int rc = pl_audit_verify (self->data_dir, &o, &r);
    if (!r)
        return s_reply_rc (req, rc, pl_strerror (rc)), 0;
    json_t *j = pl_audit_verify_report_json (r);
    json_object_set_new (j, "verified", json_boolean (rc == 0));
    pl_audit_verify_report_destroy (&r);
    return s_reply_json (req, j);
}

static int
s_public_key (pl_http_req_t *req, void *arg)
{
    audit_api_t *self = arg;
    return s_reply_json (req, json_pack ("{s:s, s:s, s:s}", "chain", self->replica, "algorithm",
                                         "ed25519", "public_key", self->public_hex));
}

static int
s_erasure (pl_http_req_t *req, void *arg)
{
    audit_api_t *self = arg;
    if (!s_listed (self->erasers, pl_http_req_source (req)))
        return pl_http_reply_error (req, 403, "forbidden", "this source may not erase", NULL);
    size_t len = 0;
    const char *body = pl_http_req_body (req, &len);
    json_error_t je;
    json_t *j = body ? json_loadb (body, len, 0, &je) : NULL;
    const char *number = j ? json_string_value (json_object_get (j, "number")) : NULL;
    const char *request_id = j ? json_string_value (json_object_get (j, "request_id")) : NULL;
    if (!number || !pl_audit_is_e164 (number)) {
        json_decref (j);
        return pl_http_reply_error (req, 400, "invalid", "number: expected E.164", "number");
    }
    size_t erased = 0;
    int rc = pl_audit_store_erase (self->store, number, pl_clock_now_ms (self->clock),
                                   pl_http_req_source (req), request_id && *request_id ? request_id : NULL,
                                   &erased);
    /* Then the dead letters, which hold whole envelopes: a short-lived connection, erasures
     * are rare. Not reached: 503, and the eraser's retry (erasure is idempotent) finishes it. */
    size_t dead = 0;
    int drc = PL_EREDIS;
    if (rc == 0 && self->redis_url) {
        pl_redis_t *redis = pl_redis_new (self->redis_url, 5000);
        if (redis && pl_redis_connect (redis) == 0)
            drc = pl_outbox_dead_erase (redis, number, &dead);
        pl_redis_destroy (&redis);
    }
    if (rc == 0 && self->redis_url && drc != 0) {
        pl_http_reply_error (req, 503, "unavailable", "the records are erased; the dead letters in Redis "
                             "could not be reached: retry", NULL);
        pl_http_reply_header (req, "Retry-After", "5");
    }
    else if (rc == 0)
        s_reply_json (req, json_pack ("{s:s, s:I, s:I}", "status", "erased", "records",
                                      (json_int_t) erased, "dead_letters", (json_int_t) dead));
    else if (rc == PL_EINVAL)
        pl_http_reply_error (req, 400, "invalid", pl_audit_store_errstr (self->store), NULL);
    else {
        pl_http_reply_error (req, 503, "unavailable", pl_audit_store_errstr (self->store), NULL);
        pl_http_reply_header (req, "Retry-After", "5");
    }
    json_decref (j);
    return 0;
}

int
audit_api_routes (audit_api_t *self, pl_http_t *http)
{
    int rc = 0;
    rc |= pl_http_route (http, "GET", "/v1/audit", s_query, self, NULL);
    rc |= pl_http_route (http, "GET", "/v1/audit/why", s_why, self, NULL);
    rc |= pl_http_route (http, "GET", "/v1/audit/export", s_export, self, NULL);
    rc |= pl_http_route (http, "GET", "/v1/audit/verify", s_verify, self, NULL);
    rc |= pl_http_route (http, "GET", "/v1/audit/public-key", s_public_key, self,
                         &(pl_http_route_opts_t) { .flags = PL_HTTP_PUBLIC });
    rc |= pl_http_route (http, "POST", "/v1/audit/erasure", s_erasure, self,
                         &(pl_http_route_opts_t) { .content_types = "application/json",
                                                   .max_body = 4096 });
    return rc ? -1 : 0;
}
