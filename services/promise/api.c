/*  api.c — the promise service's HTTP routes (see api.h). */
#include "api.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "plateau/error.h"
#include "plateau/id.h"

#define S_LIST_MAX 1024

struct promise_api {
    promise_api_opts_t o;
    char writers[S_LIST_MAX], readers[S_LIST_MAX], payers[S_LIST_MAX], operators[S_LIST_MAX];
};

typedef struct {
    pl_redis_t *redis;
    promise_book_t *book;
} s_ctx_t;

/* ---- helpers -------------------------------------------------------------------------------- */

static promise_book_t *
s_book (pl_http_req_t *req)
{
    s_ctx_t *ctx = pl_http_req_thread_ctx (req);
    if (!ctx) {
        pl_http_reply_error (req, 503, "unavailable", "no Redis connection", NULL);
        pl_http_reply_header (req, "Retry-After", "1");
    }
    return ctx ? ctx->book : NULL;
}

static int
s_reply (pl_http_req_t *req, int status, json_t *o)
{
    char *s = o ? json_dumps (o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref (o);
    if (!s)
        return -1;
    int rc = pl_http_reply_json (req, status, s);
    free (s);
    return rc;
}

static int
s_redis_down (pl_http_req_t *req)
{
    pl_http_reply_error (req, 503, "unavailable", "Redis is unavailable: nothing was stored", NULL);
    return pl_http_reply_header (req, "Retry-After", "1");
}

/* A string member of at most max bytes (absent or null: "" unless required); false after a 422. */
static bool
s_str (pl_http_req_t *req, json_t *o, const char *k, size_t max, bool required, char *out, size_t size)
{
    json_t *v = json_object_get (o, k);
    *out = '\0';
    if ((!v || json_is_null (v)) && !required)
        return true;
    if (!v || !json_is_string (v) || json_string_length (v) == 0 || json_string_length (v) > max
        || json_string_length (v) >= size || strlen (json_string_value (v)) != json_string_length (v)) {
        char msg[128];
        snprintf (msg, sizeof msg, "%s: a string of 1 to %zu bytes%s", k, max, required ? " is required" : "");
        pl_http_reply_error (req, 422, "invalid", msg, k);
        return false;
    }
    snprintf (out, size, "%s", json_string_value (v));
    return true;
}

static int
s_book_error (pl_http_req_t *req, int rc, const char *field, const char *msg)
{
    switch (rc) {
    case PL_EINVAL: return pl_http_reply_error (req, 422, "invalid", msg, *field ? field : NULL);
    case PL_EBUSY: return pl_http_reply_error (req, 409, "conflict", msg, *field ? field : NULL);
    case PL_ENOTFOUND: return pl_http_reply_error (req, 404, "not_found", "no such promise", "id");
    case PL_EREDIS: return s_redis_down (req);
    default: return pl_http_reply_error (req, 500, "internal", pl_strerror (rc), NULL);
    }
}

/* ---- promises --------------------------------------------------------------------------------- */

static int
s_open (pl_http_req_t *req, void *arg)
{
    (void) arg;
    promise_book_t *book = s_book (req);
    if (!book)
        return 0;
    json_t *o = pl_http_req_json_object (req, promise_body_promise_members);
    if (!o)
        return 0;
    promise_rec_t rec;
    char id[PROMISE_ID_MAX], field[64], msg[256];
    bool ok = promise_body_promise (o, &rec, id, sizeof id, field, sizeof field, msg, sizeof msg);
    json_decref (o);
    if (!ok)
        return pl_http_reply_error (req, 422, "invalid", msg, field);
    if (*id)
        snprintf (rec.id, sizeof rec.id, "%s", id);
    else {
        char ulid[PL_ID_LEN + 1];
        pl_id_new (ulid, pl_clock_now_ms (NULL));
        snprintf (rec.id, sizeof rec.id, "%s", ulid);
    }
    snprintf (rec.source, sizeof rec.source, "%s", pl_http_req_source (req));
    int rc = promise_book_open (book, &rec, NULL, NULL, field, sizeof field, msg, sizeof msg);
    if (rc == PL_EEXIST) {
        json_t *had = promise_book_get (book, rec.id, &rc);
        return had ? s_reply (req, 200, had) : s_book_error (req, rc, "", "");
    }
    if (rc != 0)
        return s_book_error (req, rc, field, msg);
    json_t *made = promise_book_get (book, rec.id, &rc);
    return made ? s_reply (req, 201, made) : s_book_error (req, rc, "", "");
}

static int
s_get (pl_http_req_t *req, void *arg)
{
    (void) arg;
    promise_book_t *book = s_book (req);
    if (!book)
        return 0;
    int rc = 0;
    json_t *p = promise_book_get (book, pl_http_req_param (req, "id"), &rc);
    return p ? s_reply (req, 200, p) : s_book_error (req, rc, "", "");
}

static int
s_cancel (pl_http_req_t *req, void *arg)
{
    (void) arg;
    promise_book_t *book = s_book (req);
    if (!book)
        return 0;
    static const char *const allowed[] = { "reason", NULL };
    json_t *o = pl_http_req_json_object (req, allowed);
    if (!o)
        return 0;
    char reason[512];
    bool ok = s_str (req, o, "reason", 500, false, reason, sizeof reason);
    json_decref (o);
    if (!ok)
        return 0;
    int rc = promise_book_cancel (book, pl_http_req_param (req, "id"), pl_http_req_source (req), reason);
    if (rc == PL_EINVAL)
        return pl_http_reply_error (req, 409, "conflict", "the promise is already decided or cancelled", "id");
    if (rc != 0)
        return s_book_error (req, rc, "", "");
    json_t *p = promise_book_get (book, pl_http_req_param (req, "id"), &rc);
    return p ? s_reply (req, 200, p) : s_book_error (req, rc, "", "");
}

static int
s_account (pl_http_req_t *req, void *arg)
{
    (void) arg;
    promise_book_t *book = s_book (req);
    if (!book)
        return 0;
    int rc = 0;
    json_t *a = promise_book_account (book, pl_http_req_param (req, "ref"), &rc);
    if (!a && rc == PL_ENOTFOUND)
        return pl_http_reply_error (req, 404, "not_found", "not an account reference", "ref");
    return a ? s_reply (req, 200, a) : s_book_error (req, rc, "", "");
}

static int
s_stats (pl_http_req_t *req, void *arg)
{
    promise_api_t *api = arg;
    promise_book_t *book = s_book (req);
    if (!book)
        return 0;
    int64_t today = pl_clock_now_ms (api->o.book.clock) / 86400000, from = today, to = today;
    const char *f = pl_http_req_query (req, "from"), *t = pl_http_req_query (req, "to");
    if (f && !promise_body_day (f, &from))
        return pl_http_reply_error (req, 400, "invalid", "from: YYYY-MM-DD", "from");
    if (t && !promise_body_day (t, &to))
        return pl_http_reply_error (req, 400, "invalid", "to: YYYY-MM-DD", "to");
    if (!t && f)
        to = from > today ? from : today;
    if (to < from || to - from > 366)
        return pl_http_reply_error (req, 400, "invalid", "from ≤ to, at most 366 days apart", "to");
    int rc = 0;
    json_t *s = promise_book_stats (book, from, to, pl_http_req_query (req, "campaign"), &rc);
    return s ? s_reply (req, 200, s) : s_book_error (req, rc, "", "");
}

/* ---- payments --------------------------------------------------------------------------------- */

static int
s_pay (pl_http_req_t *req, void *arg)
{
    (void) arg;
    promise_book_t *book = s_book (req);
    if (!book)
        return 0;
    json_t *o = pl_http_req_json_object (req, promise_body_payment_members);
    if (!o)
        return 0;
    promise_payment_t pay;
    char field[64], msg[256];
    bool ok = promise_body_payment (o, -1, &pay, field, sizeof field, msg, sizeof msg);
    json_decref (o);
    if (!ok)
        return pl_http_reply_error (req, 422, "invalid", msg, field);
    snprintf (pay.source, sizeof pay.source, "%s", pl_http_req_source (req));
    char status[32], pid[PROMISE_ID_MAX];
    int rc = promise_book_pay (book, &pay, NULL, NULL, status, sizeof status, pid, sizeof pid, field, sizeof field,
                               msg, sizeof msg);
    if (rc != 0)
        return s_book_error (req, rc, field, msg);
    return s_reply (req, strcmp (status, "duplicate") ? 201 : 200,
                    json_pack ("{s:s, s:s, s:s?}", "payment_id", pay.id, "status", status, "promise", *pid ? pid : NULL));
}

/* POST /v1/payments/batch {"payments":[…]}: a processor's batch (a settlement file, a day's
 * direct debits) applied as the bus door applies one (promise_book_pay_many). Each payment is
 * answered in its place in "results": what became of it, or why it was refused (its field named
 * "payments[i].<member>"); a refused payment costs the others nothing. 503 only when Redis
 * failed for every payment that was valid, so nothing was stored. */
static int
s_pay_batch (pl_http_req_t *req, void *arg)
{
    (void) arg;
    promise_book_t *book = s_book (req);
    if (!book)
        return 0;
    /* The parsed tree costs about ten times the text; then each payment its two copies and
     * what the book holds for it while the batch runs. */
    if (pl_http_req_reserve (req, pl_http_req_body_size (req) * 12) != 0)
        return pl_http_reply_busy (req, "too many payments in flight", 1);
    static const char *const allowed[] = { "payments", NULL };
    json_t *o = pl_http_req_json_object (req, allowed);
    if (!o)
        return 0;
    json_t *arr = json_object_get (o, "payments");
    size_t n = json_is_array (arr) ? json_array_size (arr) : 0;
    if (n == 0 || n > PROMISE_API_BATCH_MAX) {
        json_decref (o);
        char m[96];
        snprintf (m, sizeof m, "payments: an array of 1 to %d payments", PROMISE_API_BATCH_MAX);
        return pl_http_reply_error (req, 422, "invalid", m, "payments");
    }
    if (pl_http_req_reserve (req, n * (2 * sizeof (promise_pay_item_t) + PROMISE_PAY_MANY_BYTES)) != 0) {
        json_decref (o);
        return pl_http_reply_busy (req, "too many payments in flight", 1);
    }
    promise_pay_item_t *items = calloc (n, sizeof *items);
    bool *valid = calloc (n, sizeof *valid);
    if (!items || !valid) {
        free (items), free (valid), json_decref (o);
        return pl_http_reply_error (req, 500, "internal", "out of memory", NULL);
    }
    /* The valid ones go to the book together, in their order; the others are answered here. */
    promise_pay_item_t *go = calloc (n, sizeof *go);
    size_t ngo = 0;
    for (size_t i = 0; go && i < n; i++) {
        promise_pay_item_t *it = &items[i];
        it->rc = PL_EINVAL;
        if (!promise_body_payment (json_array_get (arr, i), (int) i, &it->pay, it->field, sizeof it->field, it->msg,
                                   sizeof it->msg))
            continue;
        snprintf (it->pay.source, sizeof it->pay.source, "%s", pl_http_req_source (req));
        go[ngo++] = *it;
        valid[i] = true;
    }
    int rc = go ? promise_book_pay_many (book, go, ngo) : PL_ENOMEM;
    size_t gi = 0, down = 0, counts[5] = { 0 };   /* applied, unmatched, duplicate, refused, failed */
    json_t *results = json_array ();
    for (size_t i = 0; rc == 0 && i < n; i++) {
        promise_pay_item_t *it = valid[i] ? &go[gi++] : &items[i];
        /* A payment the book refused names its member inside the payment. */
        if (valid[i] && it->rc == PL_EINVAL && *it->field) {
            char f[41];
            size_t fl = strnlen (it->field, sizeof f - 1);
            memcpy (f, it->field, fl);
            f[fl] = '\0';
            snprintf (it->field, sizeof it->field, "payments[%d].%s", (int) i, f);
        }
        json_t *r;
        if (it->rc == 0) {
            r = json_pack ("{s:s, s:s, s:s?}", "payment_id", it->pay.id, "status", it->status, "promise",
                           *it->promise_id ? it->promise_id : NULL);
            counts[!strcmp (it->status, "applied") || !strcmp (it->status, "reversed") ? 0
                   : !strcmp (it->status, "unmatched")                                   ? 1
                                                                                         : 2]++;
        } else {
            bool invalid = it->rc == PL_EINVAL;
            down += it->rc == PL_EREDIS;
            counts[invalid ? 3 : 4]++;
            bool busy = it->rc == PL_EBUSY;
            const char *code = invalid ? "invalid" : busy ? "conflict" : "unavailable";
            const char *why = invalid ? it->msg
                            : busy    ? "the promise kept changing: send it again"
                                      : "not stored: send it again";
            json_t *e = json_pack ("{s:s, s:s}", "code", code, "message", why);
            if (invalid && *it->field)
                json_object_set_new (e, "field", json_string (it->field));
            r = json_pack ("{s:s, s:o}", "payment_id", it->pay.id, "error", e);
        }
        json_array_append_new (results, r);
    }
    free (items), free (valid), free (go);
    json_decref (o);
    if (rc != 0) {
        json_decref (results);
        return pl_http_reply_error (req, 500, "internal", pl_strerror (rc), NULL);
    }
    if (down > 0 && down == ngo) {
        json_decref (results);
        return s_redis_down (req);
    }
    return s_reply (req, 200, json_pack ("{s:o, s:I, s:I, s:I, s:I, s:I}", "results", results, "applied",
                                         (json_int_t) counts[0], "unmatched", (json_int_t) counts[1], "duplicate",
                                         (json_int_t) counts[2], "refused", (json_int_t) counts[3], "failed",
                                         (json_int_t) counts[4]));
}

static int
s_payment (pl_http_req_t *req, void *arg)
{
    (void) arg;
    promise_book_t *book = s_book (req);
    if (!book)
        return 0;
    int rc = 0;
    json_t *p = promise_book_payment (book, pl_http_req_param (req, "id"), pl_http_req_param (req, "ref"), &rc);
    if (!p && rc == PL_ENOTFOUND)
        return pl_http_reply_error (req, 404, "not_found", "no such payment on this account", "id");
    return p ? s_reply (req, 200, p) : s_book_error (req, rc, "", "");
}

static int
s_notes (pl_http_req_t *req, void *arg)
{
    (void) arg;
    promise_book_t *book = s_book (req);
    if (!book)
        return 0;
    const char *lim = pl_http_req_query (req, "limit");
    int limit = lim ? atoi (lim) : 1000;
    if (limit < 1 || limit > 10000)
        return pl_http_reply_error (req, 400, "invalid", "limit: 1 to 10000", "limit");
    pl_http_req_reserve (req, (size_t) limit * 2048);
    char *out = NULL, next[64];
    size_t len = 0;
    int rc = promise_book_notes (book, pl_http_req_param (req, "id"), pl_http_req_query (req, "after"), limit, &out,
                                 &len, next, sizeof next);
    if (rc == PL_EINVAL) {
        free (out);
        return pl_http_reply_error (req, 400, "invalid", "after: the X-Next-Cursor of an earlier answer", "after");
    }
    if (rc != 0) {
        free (out);
        return s_book_error (req, rc, "", "");
    }
    pl_http_reply (req, 200, "application/x-ndjson", out ? out : "", len);
    free (out);
    return pl_http_reply_header (req, "X-Next-Cursor", next);
}

/* ---- wiring ----------------------------------------------------------------------------------- */

static void
s_join (char *out, size_t size, const char *a, const char *b)
{
    snprintf (out, size, "%s%s%s", a ? a : "", a && *a && b && *b ? "," : "", b ? b : "");
}

promise_api_t *
promise_api_new (const promise_api_opts_t *o)
{
    promise_api_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->o = *o;
    s_join (self->writers, sizeof self->writers, o->writers, o->operators);
    s_join (self->readers, sizeof self->readers, o->readers, o->operators);
    s_join (self->payers, sizeof self->payers, o->payers, NULL);
    s_join (self->operators, sizeof self->operators, o->operators, NULL);
    return self;
}

void
promise_api_destroy (promise_api_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

/* The payers' secrets (pl_http_secret_fn): every payer signs (main.c refuses one without a key). */
static const void *
s_secret (const char *source, unsigned i, size_t *len, void *arg)
{
    promise_api_t *self = arg;
    return pl_http_keys_nth (self->o.keys, source, i, len);
}

/* A route open to nobody when its list is empty: a source name no token can have. */
static const char *
s_list (const char *l)
{
    return *l ? l : "-nobody-";
}

int
promise_api_routes (promise_api_t *self, pl_http_t *http)
{
    const char *json = "application/json";
    pl_http_route_opts_t w = { .sources = s_list (self->writers), .content_types = json, .max_body = PROMISE_API_MAX_BODY };
    pl_http_route_opts_t r = { .sources = s_list (self->readers) };
    pl_http_route_opts_t op = { .sources = s_list (self->operators), .content_types = json, .max_body = 16 * 1024 };
    pl_http_route_opts_t pay = { .sources = s_list (self->payers), .content_types = json, .max_body = 16 * 1024,
                                 .secret = s_secret };
    int rc = 0;
    rc = rc ? rc : pl_http_route (http, "POST", "/v1/promises", s_open, self, &w);
    rc = rc ? rc : pl_http_route (http, "GET", "/v1/promises/stats", s_stats, self, &r);
    rc = rc ? rc : pl_http_route (http, "GET", "/v1/promises/{id}", s_get, self, &r);
    rc = rc ? rc : pl_http_route (http, "POST", "/v1/promises/{id}/cancel", s_cancel, self, &op);
    rc = rc ? rc : pl_http_route (http, "GET", "/v1/accounts/{ref}/promises", s_account, self, &r);
    rc = rc ? rc : pl_http_route (http, "GET", "/v1/accounts/{ref}/payments/{id}", s_payment, self, &r);
    rc = rc ? rc : pl_http_route (http, "POST", "/v1/payments", s_pay, self, &pay);
    pl_http_route_opts_t payb = pay;
    payb.max_body = PROMISE_API_BATCH_MAX_BODY;
    rc = rc ? rc : pl_http_route (http, "POST", "/v1/payments/batch", s_pay_batch, self, &payb);
    rc = rc ? rc : pl_http_route (http, "GET", "/v1/creditors/{id}/notifications", s_notes, self, &r);
    return rc;
}

void *
promise_api_thread_init (void *arg)
{
    promise_api_t *api = arg;
    s_ctx_t *c = calloc (1, sizeof *c);
    if (!c)
        return NULL;
    c->redis = pl_redis_new (api->o.redis_url, 2000);
    if (c->redis) {
        promise_book_opts_t o = api->o.book;
        o.redis = c->redis;
        c->book = promise_book_new (&o);
    }
    if (!c->book) {
        promise_api_thread_fini (c, arg);
        return NULL;
    }
    return c;
}

void
promise_api_thread_fini (void *ctx, void *arg)
{
    (void) arg;
    s_ctx_t *c = ctx;
    if (!c)
        return;
    promise_book_destroy (&c->book);
    pl_redis_destroy (&c->redis);
    free (c);
}
