/*  api.c — POST /v1/leads and GET /v1/leads/{id} (see api.h).
 *
 *  One request is one s_req_t, made on its first body chunk (or in the handler for an empty
 *  body). Decoders emit items into a batch; a full batch is stored in one pipeline and its
 *  results are written in input order, to a growing JSON string for JSON bodies and to a spool
 *  file (NDJSON) for streamed ones. Once Redis has failed, nothing more is stored: the rest of
 *  the batch is reported not_accepted and a stream stops being decoded.
 */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "audit.h"
#include "csv_decode.h"
#include "json_decode.h"
#include "ndjson_decode.h"
#include "plateau/error.h"
#include "plateau/id.h"
#include "plateau/redis.h"
#include "plateau/timefmt.h"
#include "store.h"

#define S_RETRY_AFTER "2"
/* A batch is stored when it has batch_size items or this many bytes of leads, whichever first:
 * two batches (one decoded, one in flight) of large leads stay a few megabytes. */
#define S_BATCH_BYTES (2 * 1024 * 1024)
/* What one lead's DOM may take: its text twice over, and a few hundred bytes a value. */
#define S_JSON_DOM_BYTES (2 * INTAKE_JSON_MAX_ITEM_BYTES + INTAKE_JSON_MAX_ITEM_VALUES * 256)
#define S_JSON_HEAD "{\"results\":["       /* the spool of a JSON body's answer starts so */

struct intake_api {
    intake_api_opts_t o;
    atomic_size_t spooled;          /* bytes of signed bodies on disk now, all requests */
    pl_http_keys_t *keys;           /* the signing sources' secrets */
    pl_metric_t *leads;             /* plateau_intake_leads_total{status,source,format} */
    pl_metric_t *stage;             /* plateau_intake_stage_seconds{stage} */
    pl_metric_t *batch_items;
};

typedef struct {
    pl_redis_t *redis;
    intake_store_t *store;
    pl_phone_t *phone;
} s_ctx_t;

typedef enum { S_JSON, S_NDJSON, S_CSV } s_format_t;
static const char *s_format_names[] = { "json", "ndjson", "csv" };

/* One item waiting for its batch to be stored. */
typedef struct {
    size_t index, line;
    Plateau__V1__Lead *lead;        /* NULL: rejected */
    char *rejected;                 /* rejected: the rendered result */
    intake_audit_t audit;
    intake_errors_t *errors;        /* rejected: a copy for the audit event */
    char reason[400];
    char number[24];
} s_entry_t;

typedef struct {
    intake_api_t *api;
    s_ctx_t *ctx;
    s_format_t format;
    char source[128];
    char campaign[128];
    char country[8];
    char trace_id[PL_TRACE_ID_LEN + 1];
    intake_lead_opts_t lopts;
    intake_csv_t *csv;
    intake_ndjson_t *ndjson;
    intake_json_t *json;            /* scans the body as it arrives, keeps it, emits at the end */
    /* signed sources: the raw body spooled until the signature is checked */
    const char *secret;
    size_t raw_len;                 /* bytes in raw, charged to the spool budget */
    FILE *raw;
    /* idempotency: the key, held as its owner while claimed; the body's digest */
    char idem[160];
    char owner[PL_ID_LEN + 1];      /* this request's id, the key's owner */
    bool idem_claimed;
    int64_t renewed_ms;             /* monotonic time of the last renewal of the lease */
    bool replay;
    intake_store_answer_t answer;   /* replay: the stored answer */
    crypto_hash_sha256_state sha;   /* of the body as received */
    char digest[65];                /* its hex, once the body has ended */
    bool body_done;
    /* results */
    bool only_errors;
    FILE *spool;                    /* the answer's results: NDJSON lines, or JSON "r,r,…" */
    size_t nresults;
    s_entry_t *batch;               /* being decoded */
    size_t nbatch;
    size_t batch_bytes;             /* of its leads and rendered rejections */
    intake_store_item_t *sitems;
    s_entry_t *fbatch;              /* in flight in the store (s_send_batch → s_complete) */
    size_t nfbatch;
    intake_store_item_t *fsitems;
    bool inflight, sent;
    size_t accepted, duplicate, rejected, not_accepted;
    bool redis_failed;
    /* rejected items recorded one by one in the audit, and those beyond the bound */
    size_t audited, unaudited, first_unaudited_index, first_unaudited_line;
    bool stopped;                   /* a stream stopped being decoded */
    size_t last_line;
    double t_decode, t_store;
    struct timespec t_mark;
    bool early_reply;               /* on_body already set the answer */
} s_req_t;

/* ---- small helpers ------------------------------------------------------------------------ */

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Writes one result, in order. */
static void
s_result (s_req_t *r, const char *json, bool accepted)
{
    if (r->format == S_JSON) {
        if (r->nresults)
            fputc (',', r->spool);
        fputs (json, r->spool);
    } else if (!accepted || !r->only_errors) {
        fputs (json, r->spool);
        fputc ('\n', r->spool);
    }
    r->nresults++;
}

static char *
s_dump (json_t *obj)
{
    char *s = json_dumps (obj, JSON_COMPACT);
    json_decref (obj);
    return s;
}

static json_t *
s_result_head (const s_entry_t *e, const char *status)
{
    json_t *o = json_object ();
    json_object_set_new (o, "index", json_integer ((json_int_t) e->index));
    if (e->line)
        json_object_set_new (o, "line", json_integer ((json_int_t) e->line));
    json_object_set_new (o, "status", json_string (status));
    return o;
}

static void
s_count (s_req_t *r, const char *status, size_t n)
{
    char labels[256];
    snprintf (labels, sizeof labels, "%s,%s,%s", status, r->source, s_format_names[r->format]);
    pl_metric_inc (r->api->leads, labels, (double) n);
}

/* ---- storing a batch ---------------------------------------------------------------------- */

/* Batches are stored while the next one is decoded: a full batch is sent to the store
 * (s_send_batch) and its outcomes are read when the next batch is full or the request ends
 * (s_complete), so that parsing and number normalisation overlap Redis's work. Results are
 * written in input order: a batch completes before the next one is sent. */
static void
s_send_batch (s_req_t *r)
{
    /* Every item goes to the store: leads to be stored, and rejected ones whose audit event
     * only is recorded. */
    for (size_t i = 0; i < r->nbatch; i++) {
        s_entry_t *e = &r->batch[i];
        /* A storm of bad rows is recorded one by one up to the bound, then counted for one
         * summary event at the end (s_audit_summary). */
        bool audit = r->api->o.audit;
        if (audit && !e->lead) {
            if (r->audited < r->api->o.audit_rejects_per_request)
                r->audited++;
            else {
                if (r->unaudited++ == 0) {
                    r->first_unaudited_index = e->index;
                    r->first_unaudited_line = e->line;
                }
                audit = false;
            }
        }
        e->audit.trace_id = r->trace_id;
        e->audit.actor = r->source;
        e->audit.format = s_format_names[r->format];
        e->audit.line = e->line;
        e->audit.number = e->number;
        e->audit.campaigns = r->api->o.campaigns;
        r->sitems[i] = (intake_store_item_t) { .lead = e->lead, .message_id = NULL,
                                               .audit = audit ? &e->audit : NULL,
                                               .outcome = INTAKE_STORE_UNKNOWN };
    }
    double t0 = s_now ();
    r->sent = !r->redis_failed && r->ctx
              && intake_store_send (r->ctx->store, r->sitems, r->nbatch, pl_clock_now_ms (r->api->o.clock)) == 0;
    if (!r->sent && !r->redis_failed) {
        r->redis_failed = true;
        pl_log_warn (r->api->o.log, r->trace_id, "leads not stored: redis unavailable", "error",
                     r->ctx ? intake_store_errstr (r->ctx->store) : "no redis connection");
    }
    r->t_store += s_now () - t0;
    /* The batch is now in flight: decoding goes on in the other buffer. */
    s_entry_t *b = r->batch;
    r->batch = r->fbatch;
    r->fbatch = b;
    intake_store_item_t *si = r->sitems;
    r->sitems = r->fsitems;
    r->fsitems = si;
    r->nfbatch = r->nbatch;
    r->nbatch = 0;
    r->batch_bytes = 0;
    r->inflight = true;
}

static void
s_complete (s_req_t *r)
{
    if (!r->inflight)
        return;
    r->inflight = false;
    double t0 = s_now ();
    if (r->sent && intake_store_recv (r->ctx->store) != 0 && !r->redis_failed) {
        r->redis_failed = true;
        pl_log_warn (r->api->o.log, r->trace_id, "leads not stored: redis unavailable", "error",
                     intake_store_errstr (r->ctx->store));
    }
    r->sent = false;
    double t1 = s_now ();
    r->t_store += t1 - t0;
    pl_metric_observe (r->api->stage, "store", t1 - t0);

    size_t acc = 0, dup = 0, rej = 0, na = 0;
    for (size_t i = 0; i < r->nfbatch; i++) {
        s_entry_t *e = &r->fbatch[i];
        if (!e->lead) {
            s_result (r, e->rejected, false);
            rej++;
        } else {
            intake_store_item_t *it = &r->fsitems[i];
            json_t *o;
            bool accepted = false;
            if (it->outcome == INTAKE_STORE_STORED) {
                o = s_result_head (e, "accepted");
                json_object_set_new (o, "lead_id", json_string (it->lead_id));
                acc++;
                accepted = true;
            } else if (it->outcome == INTAKE_STORE_UNKNOWN) {
                o = s_result_head (e, "not_accepted");
                json_object_set_new (o, "error", json_pack ("{s:s,s:s}", "code", "unavailable",
                                                            "message", "not stored: Redis is unavailable; send it again"));
                na++;
            } else {
                const char *why = it->outcome == INTAKE_STORE_DUP_EXTERNAL ? "external_id" : "number";
                o = s_result_head (e, "duplicate");
                json_object_set_new (o, "lead_id", json_string (it->lead_id));
                json_object_set_new (o, "duplicate_of", json_string (why));
                dup++;
            }
            char *s = s_dump (o);
            if (s)
                s_result (r, s, accepted);
            free (s);
        }
    }
    for (size_t i = 0; i < r->nfbatch; i++) {
        intake_lead_free (&r->fbatch[i].lead);
        free (r->fbatch[i].rejected);
        r->fbatch[i].rejected = NULL;
        free (r->fbatch[i].errors);
        r->fbatch[i].errors = NULL;
    }
    r->accepted += acc;
    r->duplicate += dup;
    r->rejected += rej;
    r->not_accepted += na;
    if (acc) s_count (r, "accepted", acc);
    if (dup) s_count (r, "duplicate", dup);
    if (rej) s_count (r, "rejected", rej);
    r->nfbatch = 0;
}

/* Renews the lease of the request's Idempotency-Key, at most once a second, when no batch is in
 * flight on the thread's Redis connection. A lease lost (lapsed, and the key taken by a retry)
 * is let go: this request's answer is then not kept. */
static void
s_renew (s_req_t *r)
{
    if (!r->idem_claimed || r->inflight || !r->ctx)
        return;
    int64_t now = pl_clock_mono_ms ();
    if (now - r->renewed_ms < 1000)
        return;
    r->renewed_ms = now;
    int rc = intake_store_idem_renew (r->ctx->store, r->source, r->idem, r->owner,
                                      r->api->o.idempotency_lease_ms);
    if (rc == PL_ENOTFOUND) {
        r->idem_claimed = false;
        pl_log_warn (r->api->o.log, r->trace_id, "idempotency lease lost: the key was taken by another request",
                     "idempotency_key", r->idem);
    }
}

/* A full batch: the one in flight completes, this one is sent. */
static void
s_flush (s_req_t *r)
{
    s_complete (r);
    s_renew (r);
    if (r->nbatch)
        s_send_batch (r);
}

/* The rejections not recorded one by one: one lead.rejected_summary for the request. */
static void
s_audit_summary (s_req_t *r)
{
    if (!r->unaudited || r->redis_failed)
        return;
    intake_audit_t a = { .trace_id = r->trace_id, .actor = r->source, .format = s_format_names[r->format],
                         .campaign = r->campaign, .rejected = r->audited + r->unaudited,
                         .recorded = r->audited, .first_index = r->first_unaudited_index,
                         .first_line = r->first_unaudited_line, .campaigns = r->api->o.campaigns };
    if (intake_store_audit_summary (r->ctx->store, &a, r->owner, pl_clock_now_ms (r->api->o.clock)) != 0)
        pl_log_warn (r->api->o.log, r->trace_id, "rejections not summarised in the audit: redis unavailable",
                     "error", intake_store_errstr (r->ctx->store));
    r->unaudited = 0;
}

/* The end of the items: everything sent and completed, the rejections summarised. */
static void
s_flush_all (s_req_t *r)
{
    s_flush (r);
    s_complete (r);
    s_audit_summary (r);
}

/* Replaces a string member of a protobuf message (whose default is the shared empty string). */
static void
s_set (char **slot, const char *value)
{
    if (*slot && *slot != protobuf_c_empty_string)
        free (*slot);
    *slot = strdup (value);
}

/* The decoders' callback. */
static int
s_on_item (void *arg, const intake_item_t *item)
{
    s_req_t *r = arg;
    double now = s_now ();
    r->t_decode += now - (double) r->t_mark.tv_sec - r->t_mark.tv_nsec / 1e9;
    s_entry_t *e = &r->batch[r->nbatch++];
    memset (e, 0, sizeof *e);
    e->index = item->index;
    e->line = item->line;
    r->last_line = item->line;
    e->lead = item->lead;
    if (e->lead) {
        char id[PL_ID_LEN + 1];
        pl_id_new (id, pl_clock_now_ms (r->api->o.clock));
        s_set (&e->lead->id, id);
        s_set (&e->lead->source, r->source);
        s_set (&e->lead->trace_id, r->trace_id);
        if (e->lead->phone && e->lead->phone->e164)
            snprintf (e->number, sizeof e->number, "%s", e->lead->phone->e164);
        e->audit.campaign = e->lead->campaign;
    } else {
        json_t *o = s_result_head (e, "rejected");
        json_object_set_new (o, "errors", intake_errors_to_json (item->errors));
        e->rejected = s_dump (o);
        e->errors = malloc (sizeof *e->errors);
        if (e->errors)
            *e->errors = *item->errors;     /* borrowed for this call only: copied */
        const intake_error_t *first = &item->errors->items[0];
        snprintf (e->reason, sizeof e->reason, "%s %s: %s", first->field,
                  first->code ? first->code : "", first->message);
        e->audit.errors = e->errors;
        /* The campaign the item named when it could be read, else the request's. */
        e->audit.campaign = e->errors && e->errors->known.campaign[0] ? e->errors->known.campaign : r->campaign;
        e->audit.reason = e->reason;
    }
    r->batch_bytes += e->lead ? plateau__v1__lead__get_packed_size (e->lead) : strlen (e->rejected ? e->rejected : "");
    if (r->nbatch == r->api->o.batch_size || r->batch_bytes >= S_BATCH_BYTES || r->redis_failed)
        s_flush (r);
    clock_gettime (CLOCK_MONOTONIC, &r->t_mark);
    if (r->redis_failed && r->format != S_JSON)
        return PL_EREDIS;           /* stop decoding a stream: nothing more can be stored */
    return 0;
}

/* ---- request life ------------------------------------------------------------------------- */

static void
s_req_free (void *p)
{
    s_req_t *r = p;
    if (!r)
        return;
    s_complete (r);                 /* keeps the thread's Redis connection in step */
    for (size_t i = 0; i < r->nbatch; i++) {
        intake_lead_free (&r->batch[i].lead);
        free (r->batch[i].rejected);
        free (r->batch[i].errors);
    }
    if (r->idem_claimed && r->ctx)
        intake_store_idem_release (r->ctx->store, r->source, r->idem, r->owner);
    intake_csv_destroy (&r->csv);
    intake_ndjson_destroy (&r->ndjson);
    intake_json_destroy (&r->json);
    atomic_fetch_sub (&r->api->spooled, r->raw_len);
    if (r->raw)
        fclose (r->raw);
    if (r->spool)
        fclose (r->spool);
    free (r->batch);
    free (r->sitems);
    free (r->fbatch);
    free (r->fsitems);
    intake_store_answer_free (&r->answer);
    free (r);
}

static FILE *
s_tmpfile (void)
{
    return tmpfile ();              /* unlinked at once: $TMPDIR, gone when closed */
}

static const char *
s_secret_of (intake_api_t *api, const char *source)
{
    return pl_http_keys_secret (api->keys, source, NULL);
}

static bool
s_idem_key_ok (const char *k)
{
    size_t n = strlen (k);
    if (n == 0 || n > 128)
        return false;
    for (const char *p = k; *p; p++)
        if (*p <= ' ' || *p > '~' || *p == '{' || *p == '}')
            return false;
    return true;
}

/* Makes the request's state; false with an answer set when refused. */
static s_req_t *
s_begin (pl_http_req_t *req, intake_api_t *api)
{
    s_req_t *r = calloc (1, sizeof *r);
    if (!r) {
        pl_http_reply_error (req, 503, "unavailable", "out of memory", NULL);
        return NULL;
    }
    pl_http_req_set_data (req, r, s_req_free);
    r->api = api;
    r->ctx = pl_http_req_thread_ctx (req);
    r->format = pl_http_req_type_is (req, "application/json") ? S_JSON
              : pl_http_req_type_is (req, "application/x-ndjson") ? S_NDJSON : S_CSV;
    snprintf (r->source, sizeof r->source, "%s", pl_http_req_source (req) ? pl_http_req_source (req) : "");
    const char *c = pl_http_req_query (req, "campaign");
    snprintf (r->campaign, sizeof r->campaign, "%s", c ? c : "");
    const char *tp = pl_http_req_header (req, "traceparent");
    if (tp && pl_trace_id_valid (tp))
        snprintf (r->trace_id, sizeof r->trace_id, "%s", tp);
    else
        pl_trace_id_new (r->trace_id);
    const char *res = pl_http_req_query (req, "results");
    r->only_errors = res && strcmp (res, "errors") == 0;
    r->batch = calloc (api->o.batch_size, sizeof *r->batch);
    r->sitems = calloc (api->o.batch_size, sizeof *r->sitems);
    r->fbatch = calloc (api->o.batch_size, sizeof *r->fbatch);
    r->fsitems = calloc (api->o.batch_size, sizeof *r->fsitems);
    if (!r->batch || !r->sitems || !r->fbatch || !r->fsitems) {
        pl_http_reply_error (req, 503, "unavailable", "out of memory", NULL);
        return NULL;
    }
    if (!r->ctx) {
        pl_http_reply_error (req, 503, "unavailable", "no Redis connection", NULL);
        pl_http_reply_header (req, "Retry-After", S_RETRY_AFTER);
        return NULL;
    }
    r->lopts.phone = r->ctx->phone;
    r->lopts.source = r->source;
    r->lopts.default_campaign = *r->campaign ? r->campaign : NULL;
    const char *country = pl_http_req_query (req, "country");
    snprintf (r->country, sizeof r->country, "%s", country ? country : "");
    r->lopts.default_country = *r->country ? r->country : api->o.default_country;
    r->lopts.reject_unknown = api->o.reject_unknown;
    r->lopts.received_at_ms = pl_clock_now_ms (api->o.clock);
    r->lopts.text_values = r->format == S_CSV;

    /* What the request holds whatever its body: the batches (two of them, each up to
     * S_BATCH_BYTES of leads), and the decoder's buffers (one lead's DOM, a line, a record). */
    size_t hold = 4 * api->o.batch_size * (sizeof (s_entry_t) + sizeof (intake_store_item_t)) + 2 * S_BATCH_BYTES
                + (r->format == S_JSON ? S_JSON_DOM_BYTES : r->format == S_NDJSON ? 2 * INTAKE_NDJSON_MAX_LINE
                                                                                : 2 * INTAKE_CSV_MAX_RECORD);
    if (pl_http_req_reserve (req, hold) != 0) {
        pl_http_reply_busy (req, "the intake is at its memory budget: send it again shortly", 1);
        return NULL;
    }
    /* A signed request can be sent again as it is inside the signature window: a signing source
     * names each request with an Idempotency-Key, so that the copy replays the answer. */
    r->secret = s_secret_of (api, r->source);
    if (r->secret && !pl_http_req_header (req, "Idempotency-Key")) {
        pl_http_reply_error (req, 400, "idempotency_key_required",
                             "a signing source sends an Idempotency-Key with every request", "Idempotency-Key");
        return NULL;
    }

    /* A CSV mapping that does not exist can never succeed: refused before the Idempotency-Key
     * is claimed, so that its answer is not stored and the corrected request with the same key
     * is read afresh (the decoder checks it too, for its other callers). */
    const char *mapping = r->format == S_CSV ? pl_http_req_query (req, "mapping") : NULL;
    if (mapping && !intake_mappings_known (api->o.mappings, mapping)) {
        char names[256], msg[400];
        intake_mappings_names (api->o.mappings, names, sizeof names);
        snprintf (msg, sizeof msg, "unknown mapping '%.64s': the mappings are %s", mapping, names);
        intake_error_printable (msg);
        pl_http_reply_error (req, 400, INTAKE_E_INVALID_VALUE, msg, "mapping");
        return NULL;
    }

    /* Idempotency first: a stored answer is replayed (once the body is known to be the same:
     * it is hashed, not decoded), a key held by a live request is answered 409 at once. */
    pl_id_new (r->owner, pl_clock_now_ms (api->o.clock));
    crypto_hash_sha256_init (&r->sha);
    const char *k = pl_http_req_header (req, "Idempotency-Key");
    if (k) {
        if (!s_idem_key_ok (k)) {
            pl_http_reply_error (req, 400, "invalid_idempotency_key",
                                 "Idempotency-Key: 1 to 128 printable characters", "Idempotency-Key");
            return NULL;
        }
        snprintf (r->idem, sizeof r->idem, "%s", k);
        int rc = intake_store_idem_claim (r->ctx->store, r->source, k, r->owner, api->o.idempotency_lease_ms,
                                          &r->answer);
        if (rc == PL_EBUSY) {
            /* Whatever its body: the first request's is not known whole yet. */
            char after[24];
            long long secs = (long long) (r->answer.lease_left_ms + 999) / 1000;
            snprintf (after, sizeof after, "%lld", secs > 0 ? secs : 1);
            pl_http_reply_error (req, 409, "in_progress",
                                 "a request with this Idempotency-Key is in progress; retry after it ends",
                                 "Idempotency-Key");
            pl_http_reply_header (req, "Retry-After", after);
            return NULL;
        }
        if (rc < 0) {
            pl_http_reply_error (req, 503, "unavailable", "Redis is unavailable", NULL);
            pl_http_reply_header (req, "Retry-After", S_RETRY_AFTER);
            return NULL;
        }
        if (rc == 0)
            r->replay = true;
        else {
            r->idem_claimed = true;
            r->renewed_ms = pl_clock_mono_ms ();
        }
    }
    if (r->replay)
        return r;
    /* A signing source's body is kept aside until the kit has compared its signature (the
     * header's form and time were checked before the body was read). */
    if (r->secret && !(r->raw = s_tmpfile ())) {
        pl_http_reply_error (req, 503, "unavailable", "cannot spool the body", NULL);
        return NULL;
    }
    if (!(r->spool = s_tmpfile ())) {
        pl_http_reply_error (req, 503, "unavailable", "cannot spool the answer", NULL);
        return NULL;
    }
    if (r->format == S_JSON) {
        fputs (S_JSON_HEAD, r->spool);  /* a batch's answer; a single lead's result is read after it */
        r->json = intake_json_new (&r->lopts, api->o.max_batch, api->o.max_json_body, s_on_item, r);
    } else if (r->format == S_NDJSON) {
        r->ndjson = intake_ndjson_new (&r->lopts, s_on_item, r);
    } else if (r->format == S_CSV) {
        intake_csv_opts_t co = { 0 };
        co.mapping = pl_http_req_query (req, "mapping");
        const char *h = pl_http_req_query (req, "header");
        co.mapping_has_header = h && strcmp (h, "true") == 0;
        r->csv = intake_csv_new (&co, api->o.mappings, &r->lopts, s_on_item, r);
    }
    if ((r->format == S_JSON && !r->json) || (r->format == S_NDJSON && !r->ndjson)
        || (r->format == S_CSV && !r->csv)) {
        pl_http_reply_error (req, 503, "unavailable", "out of memory", NULL);
        return NULL;
    }
    clock_gettime (CLOCK_MONOTONIC, &r->t_mark);
    return r;
}

/* Decodes a piece of a stream, or scans and keeps a piece of a JSON body: a JSON body over a
 * limit returns its error (the answer is set by the caller), a stream stops on its own. */
static int
s_decode (s_req_t *r, const char *data, size_t size)
{
    if (r->stopped)
        return 0;
    if (r->format == S_JSON) {
        int rc = intake_json_feed (r->json, data, size);
        if (rc != 0)
            r->stopped = true;
        return rc;
    }
    clock_gettime (CLOCK_MONOTONIC, &r->t_mark);
    int rc = r->csv ? intake_csv_feed (r->csv, data, size) : intake_ndjson_feed (r->ndjson, data, size);
    if (rc < 0)
        r->stopped = true;          /* a file-level error or Redis: the handler answers */
    return 0;
}

static int
s_on_body (pl_http_req_t *req, const char *data, size_t size, void *arg)
{
    s_req_t *r = pl_http_req_data (req);
    if (!r && !(r = s_begin (req, arg)))
        return -1;
    crypto_hash_sha256_update (&r->sha, (const unsigned char *) data, size);
    if (r->replay)
        return 0;
    s_renew (r);
    if (r->raw) {
        /* Kept on disk, bounded: a JSON body by its limit, every signed body by the spool's
         * budget across requests. */
        if (r->format == S_JSON && r->raw_len + size > r->api->o.max_json_body) {
            char m[128];
            snprintf (m, sizeof m, "a JSON body is limited to %zu bytes; send NDJSON or CSV for more",
                      r->api->o.max_json_body);
            pl_http_reply_error (req, 413, "too_large", m, NULL);
            return -1;
        }
        if (atomic_fetch_add (&r->api->spooled, size) + size > r->api->o.spool_budget) {
            atomic_fetch_sub (&r->api->spooled, size);
            pl_http_reply_busy (req, "the intake's spool of signed bodies is full: send it again shortly", 2);
            return -1;
        }
        r->raw_len += size;
        return fwrite (data, 1, size, r->raw) == size ? 0 : -1;
    }
    if (r->format == S_JSON && pl_http_req_reserve (req, size) != 0) {
        pl_http_reply_busy (req, "the intake is at its memory budget: send it again shortly", 1);
        return -1;
    }
    /* A JSON body refused while it arrives keeps nothing more: the rest is read (and hashed)
     * only so that the client, which is still sending, can be answered 400 or 413 at its end. */
    s_decode (r, data, size);
    return 0;
}

/* ---- answers ------------------------------------------------------------------------------ */

static json_t *
s_summary (s_req_t *r)
{
    json_t *sum = json_pack ("{s:i,s:i,s:i,s:i,s:i}", "items", (json_int_t) r->nresults, "accepted",
                             (json_int_t) r->accepted, "duplicate", (json_int_t) r->duplicate, "rejected",
                             (json_int_t) r->rejected, "not_accepted", (json_int_t) r->not_accepted);
    /* which CRM's export a CSV file was read as (docs/crm.md), for the sender to check */
    const char *preset = r->csv ? intake_csv_preset (r->csv) : NULL;
    if (sum && preset)
        json_object_set_new (sum, "mapping", json_string (preset));
    return sum;
}

/* The body's digest, once it has ended. */
static const char *
s_digest (s_req_t *r)
{
    if (!*r->digest) {
        unsigned char d[crypto_hash_sha256_BYTES];
        crypto_hash_sha256_final (&r->sha, d);
        sodium_bin2hex (r->digest, sizeof r->digest, d, sizeof d);
    }
    return r->digest;
}

/* Keeps the answer of a claimed Idempotency-Key, with the digest of the body it answers. An
 * answer given before the body ended (a JSON body refused while it arrived) or a 503 is not
 * kept: the key is released when the request ends and a retry runs again. */
static void
s_save (s_req_t *r, int status, const char *ctype, const char *body, size_t len)
{
    if (!r->idem_claimed || !r->body_done || status == 503 || !r->ctx)
        return;
    intake_store_answer_t a = { .status = status, .ctype = (char *) ctype, .body = (char *) body,
                                .body_len = len };
    snprintf (a.digest, sizeof a.digest, "%s", s_digest (r));
    if (intake_store_idem_save (r->ctx->store, r->source, r->idem, r->owner, r->api->o.idempotency_ttl_ms,
                                &a) == 0)
        r->idem_claimed = false;
}

static void
s_reply (pl_http_req_t *req, s_req_t *r, int status, const char *ctype, const char *body, size_t len)
{
    s_save (r, status, ctype, body, len);
    pl_http_reply (req, status, ctype, body, len);
    if (status == 503)
        pl_http_reply_header (req, "Retry-After", S_RETRY_AFTER);
}

static int
s_error (pl_http_req_t *req, s_req_t *r, int status, const char *code, const char *message,
         const char *field, size_t line, size_t column)
{
    json_t *e = json_pack ("{s:s,s:s}", "code", code, "message", message);
    if (field)
        json_object_set_new (e, "field", json_string (field));
    if (line)
        json_object_set_new (e, "line", json_integer ((json_int_t) line));
    if (column)
        json_object_set_new (e, "column", json_integer ((json_int_t) column));
    char *s = s_dump (json_pack ("{s:o}", "error", e));
    s_reply (req, r, status, "application/json", s, strlen (s));
    free (s);
    return 0;
}

/* A JSON body refused before any item: 400 (malformed, wrong shape, too deep) or 413 (a limit),
 * with the line and column where it was found. */
static int
s_json_refused (pl_http_req_t *req, s_req_t *r, int rc)
{
    static const struct {
        const char *code;           /* the decoder's */
        int status;
        const char *answer;         /* the API's */
        const char *field;
    } map[] = {
        { INTAKE_E_TOO_LARGE, 413, "too_large", NULL },
        { INTAKE_E_TOO_BIG, 413, "too_many_items", "leads" },
        { INTAKE_E_TOO_MANY_KEYS, 413, "too_many_keys", NULL },
        { INTAKE_E_TOO_MANY_VALUES, 413, "too_many_values", NULL },
        { INTAKE_E_TOO_DEEP, 400, "too_deep", NULL },
    };
    const intake_error_t *fe = intake_json_error (r->json);
    if (rc == PL_ENOMEM || !fe)
        return s_error (req, r, 503, "unavailable", "the leads could not be processed", NULL, 0, 0);
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp (fe->code, map[i].code) == 0)
            return s_error (req, r, map[i].status, map[i].answer, fe->message, map[i].field, fe->line,
                            fe->column);
    return s_error (req, r, 400, "malformed", fe->message, *fe->field ? fe->field : NULL, fe->line, fe->column);
}

/* Sends the spooled answer, and stores it for the Idempotency-Key when it is small enough, or
 * else `omitted` (its summary alone). */
static int
s_reply_spool (pl_http_req_t *req, s_req_t *r, int status, const char *ctype, const char *omitted)
{
    if (fflush (r->spool) != 0)
        return s_error (req, r, 503, "unavailable", "cannot write the answer", NULL, 0, 0);
    long size = ftell (r->spool);
    if (r->idem_claimed) {
        if ((size_t) size <= r->api->o.idempotency_max_answer) {
            char *buf = malloc ((size_t) size + 1);
            if (buf && fseek (r->spool, 0, SEEK_SET) == 0 && fread (buf, 1, (size_t) size, r->spool) == (size_t) size)
                s_save (r, status, ctype, buf, (size_t) size);
            free (buf);
        } else
            s_save (r, status, ctype, omitted, strlen (omitted));
    }
    int fd = dup (fileno (r->spool));
    if (fd < 0 || lseek (fd, 0, SEEK_SET) != 0) {
        if (fd >= 0)
            close (fd);
        return s_error (req, r, 503, "unavailable", "cannot read the answer back", NULL, 0, 0);
    }
    pl_http_reply_fd (req, status, ctype, fd);
    if (status == 503)
        pl_http_reply_header (req, "Retry-After", S_RETRY_AFTER);
    return 0;
}

static int
s_answer_json (pl_http_req_t *req, s_req_t *r)
{
    bool batch = false;
    double t0 = s_now ();
    clock_gettime (CLOCK_MONOTONIC, &r->t_mark);
    int rc = intake_json_finish (r->json, &batch);
    if (rc >= 0)
        s_flush_all (r);
    pl_metric_observe (r->api->stage, "decode", s_now () - t0 - r->t_store);
    if (rc == PL_EINVAL || rc == PL_ETOOBIG || rc == PL_ENOMEM)
        return s_json_refused (req, r, rc);
    if (rc < 0)
        return s_error (req, r, 503, "unavailable", "the leads could not be processed", NULL, 0, 0);
    if (!batch && r->nresults == 1) {
        /* One lead, one result (a few kilobytes at most): read back and answered alone. */
        fflush (r->spool);
        long size = ftell (r->spool) - (long) strlen (S_JSON_HEAD);
        char *one = size > 0 ? malloc ((size_t) size + 1) : NULL;
        if (!one || fseek (r->spool, (long) strlen (S_JSON_HEAD), SEEK_SET) != 0 || fread (one, 1, (size_t) size, r->spool) != (size_t) size) {
            free (one);
            return s_error (req, r, 503, "unavailable", "cannot read the answer back", NULL, 0, 0);
        }
        one[size] = '\0';
        json_t *o = json_loads (one, 0, NULL);
        const char *st = json_string_value (json_object_get (o, "status"));
        int status = r->redis_failed ? 503 : !st ? 500 : strcmp (st, "accepted") == 0 ? 201
                   : strcmp (st, "rejected") == 0 ? 422 : 200;
        json_decref (o);
        s_reply (req, r, status, "application/json", one, (size_t) size);
        free (one);
        return 0;
    }
    /* {"results":[…] was written as the items came: the summary closes it. */
    json_t *sum = s_summary (r);
    char *summary = json_dumps (sum, JSON_COMPACT);
    json_decref (sum);
    fprintf (r->spool, "],\"summary\":%s", summary ? summary : "{}");
    if (r->redis_failed)
        fputs (",\"error\":{\"code\":\"unavailable\",\"message\":\"Redis became unavailable: items "
               "not_accepted were not stored\"}", r->spool);
    fputc ('}', r->spool);
    char omitted[512];
    snprintf (omitted, sizeof omitted, "{\"results\":[],\"summary\":%s,\"results_omitted\":true}",
              summary ? summary : "{}");
    free (summary);
    return s_reply_spool (req, r, r->redis_failed ? 503 : 200, "application/json", omitted);
}

static int
s_answer_stream (pl_http_req_t *req, s_req_t *r)
{
    int rc = 0;
    if (!r->stopped)
        rc = r->csv ? intake_csv_finish (r->csv) : intake_ndjson_finish (r->ndjson);
    s_flush_all (r);
    pl_metric_observe (r->api->stage, "decode", r->t_decode);
    int status = 200;
    json_t *sum = json_pack ("{s:o}", "summary", s_summary (r));
    const intake_error_t *fe = r->csv ? intake_csv_error (r->csv) : NULL;
    if (r->redis_failed) {
        status = 503;
        char m[200];
        snprintf (m, sizeof m, "Redis became unavailable after line %zu: items not listed as accepted were "
                               "not stored", r->last_line);
        json_object_set_new (sum, "error", json_pack ("{s:s,s:s}", "code", "unavailable", "message", m));
    } else if (fe) {
        status = 400;
        json_t *e = intake_error_to_json (fe);
        json_object_set (e, "code", json_string (fe->code ? fe->code : "malformed"));
        json_object_set_new (sum, "error", e);
        if (r->nresults == 0) {
            /* nothing stored: a plain error */
            json_t *only = json_pack ("{s:O}", "error", e);
            char *s = s_dump (only);
            json_decref (sum);
            s_reply (req, r, 400, "application/json", s, strlen (s));
            free (s);
            return 0;
        }
    } else if (rc == PL_ETOOBIG) {
        status = 413;
        json_object_set_new (sum, "error", json_pack ("{s:s,s:s}", "code", "too_many_items", "message", "over the item limit"));
    } else if (rc < 0 && rc != PL_EREDIS) {
        status = 400;
        json_object_set_new (sum, "error", json_pack ("{s:s,s:s}", "code", "malformed", "message",
                                                      r->ndjson ? intake_ndjson_errstr (r->ndjson) : "unreadable body"));
    }
    char *s = s_dump (sum);
    fputs (s, r->spool);
    fputc ('\n', r->spool);
    free (s);
    /* Too large to keep: the retry gets the summary line alone. */
    char *omitted = s_dump (json_pack ("{s:o,s:b}", "summary", s_summary (r), "results_omitted", 1));
    rc = s_reply_spool (req, r, status, "application/x-ndjson", omitted ? omitted : "{}");
    free (omitted);
    return rc;
}

static int
s_post (pl_http_req_t *req, void *arg)
{
    intake_api_t *api = arg;
    s_req_t *r = pl_http_req_data (req);
    if (!r && !(r = s_begin (req, api)))
        return 0;                   /* the answer is set */
    r->body_done = true;
    if (r->replay) {
        /* The same key for another body is a client's mistake, not a retry: its lead would be
         * lost silently if the old answer were replayed. (Answers stored before digests were
         * kept have none and are replayed.) */
        if (*r->answer.digest && strcmp (r->answer.digest, s_digest (r)) != 0)
            return pl_http_reply_error (req, 422, "idempotency_key_reused",
                                        "this Idempotency-Key was used with a different body; a new request "
                                        "needs a new key", "Idempotency-Key");
        pl_http_reply (req, r->answer.status, r->answer.ctype, r->answer.body, r->answer.body_len);
        pl_http_reply_header (req, "Idempotent-Replayed", "true");
        return 0;
    }
    if (r->raw) {
        /* The kit has compared the signature: the body kept aside is decoded now. */
        char buf[65536];
        size_t n;
        rewind (r->raw);
        while ((n = fread (buf, 1, sizeof buf, r->raw)) > 0) {
            if (r->format == S_JSON && pl_http_req_reserve (req, n) != 0)
                return pl_http_reply_busy (req, "the intake is at its memory budget: send it again shortly", 1);
            s_decode (r, buf, n);
        }
    }
    return r->format == S_JSON ? s_answer_json (req, r) : s_answer_stream (req, r);
}

/* ---- GET /v1/leads/{id} ------------------------------------------------------------------- */

/* Whether source may read every lead: listed in the readers ("a,b", exact names). */
static bool
s_reads_all (const intake_api_t *api, const char *source)
{
    const char *list = api->o.readers;
    size_t n = strlen (source);
    for (const char *p = list; p && *p;) {
        const char *end = strchr (p, ',');
        size_t len = end ? (size_t) (end - p) : strlen (p);
        if (len == n && strncmp (p, source, n) == 0)
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

static int
s_get (pl_http_req_t *req, void *arg)
{
    intake_api_t *api = arg;
    s_ctx_t *ctx = pl_http_req_thread_ctx (req);
    const char *id = pl_http_req_param (req, "id");
    if (!id || !pl_id_valid (id))
        return pl_http_reply_error (req, 404, "not_found", "no such lead", "id");
    if (!ctx) {
        pl_http_reply_error (req, 503, "unavailable", "no Redis connection", NULL);
        return pl_http_reply_header (req, "Retry-After", S_RETRY_AFTER);
    }
    intake_store_lead_t l;
    int rc = intake_store_get (ctx->store, id, &l);
    if (rc == PL_ENOTFOUND)
        return pl_http_reply_error (req, 404, "not_found", "no such lead", "id");
    if (rc != 0) {
        plateau__v1__lead__free_unpacked (l.lead, NULL);
        pl_http_reply_error (req, 503, "unavailable", "Redis is unavailable", NULL);
        return pl_http_reply_header (req, "Retry-After", S_RETRY_AFTER);
    }
    const char *src = pl_http_req_source (req);
    if (!src || !l.lead->source || (strcmp (src, l.lead->source) != 0 && !s_reads_all (api, src))) {
        /* A source reads the leads it submitted; only the readers read every lead. Another
         * source's lead is "not found": its existence is not told either. */
        plateau__v1__lead__free_unpacked (l.lead, NULL);
        return pl_http_reply_error (req, 404, "not_found", "no such lead", "id");
    }
    json_t *lead = intake_lead_to_json (l.lead);
    json_object_set_new (lead, "id", json_string (l.lead->id));
    json_object_set_new (lead, "source", json_string (l.lead->source));
    char at[PL_TIME_RFC3339_MAX];
    pl_time_format_rfc3339 (l.accepted_at_ms, at, sizeof at);
    /* Stored means owed to scrub: the LeadSubmitted was written with the lead, and the replica's
     * outbox delivers it (plateau_intake_outbox_backlog counts what is still owed). */
    json_t *outbox = json_pack ("{s:s,s:s}", "destination", "scrub", "replica", l.replica);
    const char *status = *l.verdict ? l.verdict : "queued_for_scrub";
    /* Once scrubbed (status cleared or suppressed), scrub's verdict per number, with its reasons
     * and the lists it consulted, as scrub wrote it onto the lead. */
    json_t *verdict = NULL;
    if (*l.verdict) {
        char key[512];
        intake_store_lead_key (key, sizeof key, l.lead->campaign, l.lead->id);
        pl_reply_t *vr = pl_redis_command (ctx->redis, "HGET %s scrub", key);
        if (vr && pl_reply_type (vr) == PL_REPLY_STRING)
            verdict = json_loads (pl_reply_str (vr, NULL), 0, NULL);
        pl_reply_free (&vr);
    }
    json_t *o = json_pack ("{s:o,s:s,s:s,s:o,s:o,s:n}", "lead", lead, "status", status, "accepted_at", at,
                           "outbox", outbox, "verdict", verdict ? verdict : json_null (), "schedule");
    char *s = s_dump (o);
    pl_http_reply_json (req, 200, s);
    free (s);
    plateau__v1__lead__free_unpacked (l.lead, NULL);
    return 0;
}

/* ---- construction ------------------------------------------------------------------------- */

void *
intake_api_thread_init (void *arg)
{
    intake_api_t *api = arg;
    s_ctx_t *c = calloc (1, sizeof *c);
    if (!c)
        return NULL;
    c->redis = pl_redis_new (api->o.redis_url, 2000);
    c->phone = pl_phone_new ();
    c->store = c->redis ? intake_store_new (c->redis, api->o.clock, api->o.service, api->o.replica, api->o.dedupe_window_ms) : NULL;
    if (!c->redis || !c->phone || !c->store) {
        intake_api_thread_fini (c, arg);
        return NULL;
    }
    return c;
}

void
intake_api_thread_fini (void *ctx, void *arg)
{
    s_ctx_t *c = ctx;
    if (!c)
        return;
    intake_store_destroy (&c->store);
    pl_phone_destroy (&c->phone);
    pl_redis_destroy (&c->redis);
    free (c);
}

intake_api_t *
intake_api_new (const intake_api_opts_t *opts, char *err, size_t err_size)
{
    intake_api_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->o = *opts;
    if (!self->o.batch_size)
        self->o.batch_size = 256;
    if (!self->o.max_batch)
        self->o.max_batch = INTAKE_JSON_MAX_ITEMS;
    if (!self->o.spool_budget)
        self->o.spool_budget = (size_t) 2 << 30;
    if (!self->o.audit_rejects_per_request)
        self->o.audit_rejects_per_request = 1000;
    if (!self->o.idempotency_lease_ms)
        self->o.idempotency_lease_ms = 10000;
    if (!self->o.max_json_body)
        self->o.max_json_body = INTAKE_JSON_MAX_BODY;
    if (!(self->keys = pl_http_keys_new ())
        || (opts->signing_keys && pl_http_keys_parse (self->keys, opts->signing_keys, err, err_size) != 0)) {
        intake_api_destroy (&self);
        return NULL;
    }
    self->leads = pl_metrics_counter (opts->metrics, "plateau_intake_leads_total",
                                      "Leads received, by outcome, source and format", "status,source,format");
    static const double bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60 };
    self->stage = pl_metrics_histogram (opts->metrics, "plateau_intake_stage_seconds",
                                        "Time per request stage: decode (parse, validate, normalise "
                                        "numbers) and store (Redis, per batch)",
                                        "stage", bounds, sizeof bounds / sizeof bounds[0]);
    return self;
}

void
intake_api_destroy (intake_api_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    intake_api_t *self = *self_p;
    pl_http_keys_destroy (&self->keys);
    free (self);
    *self_p = NULL;
}

/* The route's signing secrets (pl_http_secret_fn): the kit checks a signing source's header
 * before the body and its HMAC before the handler. */
static const void *
s_route_secret (const char *source, unsigned i, size_t *len, void *arg)
{
    intake_api_t *api = arg;
    return pl_http_keys_nth (api->keys, source, i, len);
}

int
intake_api_routes (intake_api_t *self, pl_http_t *http, size_t max_body, const char *sources)
{
    int rc = pl_http_route (http, "POST", "/v1/leads", s_post, self, &(pl_http_route_opts_t) {
                                .content_types = "application/json,application/x-ndjson,text/csv",
                                .max_body = max_body, .on_body = s_on_body, .sources = sources,
                                .secret = s_route_secret });
    if (rc == 0)
        rc = pl_http_route (http, "GET", "/v1/leads/{id}", s_get, self,
                            &(pl_http_route_opts_t) { .sources = sources });
    return rc;
}
