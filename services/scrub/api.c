/*  api.c — scrub's HTTP routes (see api.h). */
#include <ctype.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "body.h"
#include "consent.h"
#include "optout.h"
#include "plateau/error.h"
#include "plateau/id.h"
#include "plateau/inbox.h"
#include "plateau/outbox.h"
#include "plateau/phone.h"
#include "plateau/redis.h"
#include "plateau/timefmt.h"
#include "verdict.h"

#define S_RETRY_AFTER "2"
#define S_CHUNK 256                       /* numbers judged per Redis round trip */
#define S_SCRUB_MAX_BODY (2 * 1024 * 1024)
#define S_SMALL_BODY (16 * 1024)
#define S_NUMBER_MAX SCRUB_BODY_NUMBER_MAX /* an input number's bytes */

/* List names scrub loads: the rules engine's national lists, and client or campaign lists
 * ("client:<name>", "campaign:<name>"). internal-dnc lives in Redis, not in a file. */
static const char *s_list_names[] = { "us-dnc", "bloctel", "tps", "ctps", "litigator", "rnd", NULL };

struct scrub_api {
    scrub_api_opts_t o;
    pl_outbox_t *audit;                   /* names keys only: shared by the threads */
    pl_redis_t *redis;                    /* the outbox's, never used by handlers */
    pl_metric_t *verdicts;
};

typedef struct {
    pl_redis_t *redis;
    pl_inbox_t *inbox;
    pl_phone_t *phone;
} s_ctx_t;

/* ---- helpers -------------------------------------------------------------------------------- */

static bool
s_in_list (const char *list, const char *name)
{
    size_t n = strlen (name);
    for (const char *p = list; p && *p;) {
        const char *end = strpbrk (p, ",|");
        size_t len = end ? (size_t) (end - p) : strlen (p);
        if (len == n && strncmp (p, name, n) == 0)
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

static bool
s_operator (const scrub_api_t *api, pl_http_req_t *req)
{
    const char *src = pl_http_req_source (req);
    return src && api->o.operators && s_in_list (api->o.operators, src);
}

/* The tenant a request acts for: the one it names, if the source may act for it. NULL after
 * setting a 403 otherwise. */
static const char *
s_tenant (const scrub_api_t *api, pl_http_req_t *req, const char *named, char *buf, size_t size)
{
    const char *src = pl_http_req_source (req);
    const char *map = api->o.source_tenants;
    if (!map || !*map || s_operator (api, req)) {
        snprintf (buf, size, "%s", named && *named ? named : api->o.default_tenant);
        return buf;
    }
    /* "crm-a=acme|beta;crm-b=globex": the source's own entry */
    size_t sl = strlen (src);
    for (const char *p = map; p && *p;) {
        const char *end = strchr (p, ';');
        size_t len = end ? (size_t) (end - p) : strlen (p);
        if (len > sl && strncmp (p, src, sl) == 0 && p[sl] == '=') {
            char tenants[512];
            snprintf (tenants, sizeof tenants, "%.*s", (int) (len - sl - 1), p + sl + 1);
            if (!named || !*named) {
                snprintf (buf, size, "%.*s", (int) strcspn (tenants, "|"), tenants);
                return buf;
            }
            if (s_in_list (tenants, named)) {
                snprintf (buf, size, "%s", named);
                return buf;
            }
            break;
        }
        p = end ? end + 1 : NULL;
    }
    pl_http_reply_error (req, 403, "forbidden", "this source may not act for that tenant", "tenant");
    return NULL;
}

static int
s_unavailable (pl_http_req_t *req, const char *what)
{
    pl_http_reply_error (req, 503, "unavailable", what, NULL);
    return pl_http_reply_header (req, "Retry-After", S_RETRY_AFTER);
}

/* The reply of a body refused by its reader (body.h). */
static int
s_body_error (pl_http_req_t *req, const scrub_body_error_t *e)
{
    return pl_http_reply_error_at (req, e->status, e->code, e->message, *e->field ? e->field : NULL, e->line,
                                   e->column);
}

/* A number as E.164; false after a 400 naming `field`. */
static bool
s_number (const scrub_api_t *api, s_ctx_t *ctx, pl_http_req_t *req, const char *raw, const char *country,
          const char *field, pl_phone_number_t *out)
{
    if (pl_phone_parse (ctx->phone, raw, country && *country ? country : api->o.default_country, out) == 0)
        return true;
    pl_http_reply_error (req, 400, "invalid_number", pl_phone_errstr (ctx->phone), field);
    return false;
}

/* ---- POST /v1/scrub ------------------------------------------------------------------------ */

static int
s_scrub (pl_http_req_t *req, void *arg)
{
    scrub_api_t *api = arg;
    s_ctx_t *ctx = pl_http_req_thread_ctx (req);
    if (!ctx)
        return s_unavailable (req, "no Redis connection");
    size_t *lines = calloc (SCRUB_API_MAX_NUMBERS + 1, sizeof *lines);
    /* What the request holds: its numbers, one chunk of verdicts, the answer's buffers. */
    if (!lines || pl_http_req_reserve (req, SCRUB_API_MAX_NUMBERS * (sizeof (char *) + sizeof (size_t))
                                                + S_CHUNK * (sizeof (scrub_verdict_t) + sizeof (scrub_number_t)
                                                             + sizeof (pl_phone_number_t))
                                                + 2 * pl_http_req_body_size (req) + 65536) != 0) {
        free (lines);
        return pl_http_reply_busy (req, "memory budget spent", 1);
    }
    size_t len;
    const char *body = pl_http_req_body (req, &len);
    scrub_body_numbers_t b;
    scrub_body_error_t e;
    int rc = scrub_body_numbers (body, len, pl_http_req_type_is (req, "application/json"), SCRUB_API_MAX_NUMBERS,
                                 lines, &b, &e);
    if (rc != 0) {
        scrub_body_numbers_fini (&b);
        free (lines);
        if (rc == PL_ENOMEM)
            return -1;
        s_body_error (req, &e);
        return 0;
    }
    char **nums = b.nums;
    size_t n = b.n;
    const char *campaign = b.campaign ?: pl_http_req_query (req, "campaign");
    const char *country = b.country ?: pl_http_req_query (req, "country");
    const char *jurisdiction = b.jurisdiction ?: pl_http_req_query (req, "jurisdiction");
    const char *callee = b.callee ?: pl_http_req_query (req, "callee");
    pl_rules_callee_t callee_type;
    if (pl_rules_callee_parse (callee, &callee_type) != 0) {
        scrub_body_numbers_fini (&b);
        free (lines);
        return pl_http_reply_error (req, 400, "invalid", "expected consumer, business or sole-trader", "callee");
    }
    if (jurisdiction && *jurisdiction && !scrub_campaigns_has_jurisdiction (api->o.campaigns, jurisdiction)) {
        scrub_body_numbers_fini (&b);
        free (lines);
        return pl_http_reply_error (req, 400, "invalid", "no profile for this jurisdiction", "jurisdiction");
    }
    /* The answer goes to an unlinked file: 10,000 verdicts with their reasons are megabytes. */
    FILE *out = tmpfile ();
    scrub_verdict_t *v = calloc (S_CHUNK, sizeof *v);
    scrub_number_t *sn = calloc (S_CHUNK, sizeof *sn);
    pl_phone_number_t *pn = calloc (S_CHUNK, sizeof *pn);
    int64_t now = pl_clock_now_ms (api->o.clock);
    size_t counts[4] = { 0 };             /* allow, defer, deny, invalid */
    rc = out && v && sn && pn ? 0 : PL_ENOMEM;
    if (rc == 0)
        fputs ("{\"results\":[", out);
    scrub_context_t sc = { .campaign = campaign, .jurisdiction = jurisdiction, .debt_ref = "",
                           .callee = callee_type };
    for (size_t base = 0; rc == 0 && base < n; base += S_CHUNK) {
        size_t m = n - base < S_CHUNK ? n - base : S_CHUNK, k = 0;
        size_t map[S_CHUNK];
        bool valid[S_CHUNK];
        for (size_t i = 0; i < m; i++) {
            valid[i] = pl_phone_parse (ctx->phone, nums[base + i], country && *country ? country : api->o.default_country,
                                       &pn[i]) == 0;
            if (valid[i]) {
                sn[k] = (scrub_number_t) { .e164 = pn[i].e164, .phone_type = pn[i].type, .region = pn[i].region };
                map[i] = k++;
            }
        }
        if (scrub_verdict_judge (api->o.campaigns, api->o.catalog, ctx->redis, &sc, sn, k, now, v) != 0) {
            rc = PL_EREDIS;
            break;
        }
        for (size_t i = 0; i < m; i++) {
            size_t idx = base + i;
            json_t *r;
            if (valid[i]) {
                r = scrub_verdict_json (&v[map[i]], now);
                const char *d = scrub_verdict_name (&v[map[i]]);
                counts[strcmp (d, "allow") == 0 ? 0 : strcmp (d, "defer") == 0 ? 1 : 2]++;
            } else {
                r = json_pack ("{s:s,s:{s:s,s:s}}", "decision", "invalid", "error", "code",
                               pl_phone_reason_str (pn[i].reason), "message", "not a valid phone number");
                counts[3]++;
            }
            json_object_set_new (r, "index", json_integer ((json_int_t) idx));
            json_object_set_new (r, "input", json_string (nums[idx]) ?: json_string ("?"));
            if (lines[idx])
                json_object_set_new (r, "line", json_integer ((json_int_t) lines[idx]));
            char *s = json_dumps (r, JSON_COMPACT | JSON_PRESERVE_ORDER);
            json_decref (r);
            fprintf (out, "%s%s", idx ? "," : "", s ? s : "{}");
            free (s);
        }
    }
    free (v);
    free (sn);
    free (pn);
    scrub_body_numbers_fini (&b);
    free (lines);
    if (rc != 0) {
        if (out)
            fclose (out);
        return rc == PL_EREDIS ? s_unavailable (req, "Redis is unavailable") : -1;
    }
    fprintf (out, "],\"summary\":{\"numbers\":%zu,\"allow\":%zu,\"defer\":%zu,\"deny\":%zu,\"invalid\":%zu}}",
             n, counts[0], counts[1], counts[2], counts[3]);
    fflush (out);
    rewind (out);
    const char *names[4] = { "allow", "defer", "deny", "invalid" };
    for (int i = 0; i < 4; i++)
        if (counts[i]) {
            char labels[32];
            snprintf (labels, sizeof labels, "http,%s", names[i]);
            pl_metric_inc (api->verdicts, labels, (double) counts[i]);
        }
    int fd = dup (fileno (out));
    fclose (out);
    return pl_http_reply_fd (req, 200, "application/json", fd);
}

/* ---- opt-outs ------------------------------------------------------------------------------ */

static int
s_dnc_add (pl_http_req_t *req, void *arg)
{
    scrub_api_t *api = arg;
    s_ctx_t *ctx = pl_http_req_thread_ctx (req);
    if (!ctx)
        return s_unavailable (req, "no Redis connection");
    size_t len;
    const char *body = pl_http_req_body (req, &len);
    scrub_body_optout_t b;
    scrub_body_error_t e;
    pl_phone_number_t pn;
    char tenant[128];
    int rc = 0;
    if (scrub_body_optout (body, len, &b, &e) != 0) {
        s_body_error (req, &e);
        goto done;
    }
    const char *raw = b.number, *country = b.country, *tenant_in = b.tenant, *debt = b.debt_ref, *channel = b.channel;
    int64_t requested = b.requested_at_ms;
    if (!s_number (api, ctx, req, raw, country, "number", &pn) || !s_tenant (api, req, tenant_in, tenant, sizeof tenant))
        goto done;
    if (requested > pl_clock_now_ms (api->o.clock) + 300000) {
        pl_http_reply_error (req, 400, "invalid", "requested_at is in the future", "requested_at");
        goto done;
    }
    scrub_optout_t opt = { .number = pn.e164, .tenant = tenant, .debt_ref = debt,
                           .channel = *channel ? channel : "api", .actor = pl_http_req_source (req),
                           .requested_at_ms = requested };
    char err[256] = "";
    rc = scrub_optout_add (ctx->inbox, api->audit, api->o.service, api->o.clock, &opt, NULL, err, sizeof err);
    if (rc < 0) {
        rc = s_unavailable (req, "Redis is unavailable");
        goto done;
    }
    json_t *a = json_pack ("{s:s,s:s,s:s,s:s,s:s}", "number", pn.e164, "list", "internal-dnc", "tenant", tenant,
                           "debt_ref", debt, "status", rc == 1 ? "added" : "already_opted_out");
    char *s = json_dumps (a, JSON_COMPACT);
    json_decref (a);
    pl_http_reply_json (req, rc == 1 ? 201 : 200, s);
    free (s);
    rc = 0;
done:
    scrub_body_optout_fini (&b);
    return rc;
}

static int
s_dnc_remove (pl_http_req_t *req, void *arg)
{
    scrub_api_t *api = arg;
    s_ctx_t *ctx = pl_http_req_thread_ctx (req);
    if (!ctx)
        return s_unavailable (req, "no Redis connection");
    pl_phone_number_t pn;
    const char *raw = pl_http_req_param (req, "number");
    if (!raw || strlen (raw) > S_NUMBER_MAX)
        return pl_http_reply_error (req, 400, "invalid_number", "not a phone number", "number");
    if (!s_number (api, ctx, req, raw, pl_http_req_query (req, "country"), "number", &pn))
        return 0;
    const char *tenant = pl_http_req_query (req, "tenant");
    const char *debt = pl_http_req_query (req, "debt_ref");
    if ((tenant && strlen (tenant) > 100) || (debt && strlen (debt) > 100))
        return pl_http_reply_error (req, 400, "invalid", "at most 100 bytes", tenant && strlen (tenant) > 100 ? "tenant" : "debt_ref");
    scrub_optout_t opt = { .number = pn.e164, .tenant = tenant && *tenant ? tenant : api->o.default_tenant,
                           .debt_ref = debt ? debt : "", .channel = "operator",
                           .actor = pl_http_req_source (req) };
    char err[256] = "";
    int rc = scrub_optout_remove (ctx->inbox, api->audit, api->o.service, api->o.clock, &opt, NULL, err, sizeof err);
    if (rc == PL_ENOTFOUND)
        return pl_http_reply_error (req, 404, "not_found", "no opt-out for this number and scope", "number");
    if (rc != 0)
        return s_unavailable (req, "Redis is unavailable");
    return pl_http_reply (req, 204, NULL, NULL, 0);
}

/* ---- consents ------------------------------------------------------------------------------ */

static int
s_consent_add (pl_http_req_t *req, void *arg)
{
    scrub_api_t *api = arg;
    s_ctx_t *ctx = pl_http_req_thread_ctx (req);
    if (!ctx)
        return s_unavailable (req, "no Redis connection");
    size_t len;
    const char *body = pl_http_req_body (req, &len);
    scrub_body_consent_t b;
    scrub_body_error_t e;
    pl_phone_number_t pn;
    char tenant[128];
    int rc = 0;
    if (scrub_body_consent (body, len, pl_clock_now_ms (api->o.clock), &b, &e) != 0) {
        s_body_error (req, &e);
        goto done;
    }
    const char *raw = b.number, *country = b.country, *tenant_in = b.tenant;
    if (!s_number (api, ctx, req, raw, country, "number", &pn) || !s_tenant (api, req, tenant_in, tenant, sizeof tenant))
        goto done;
    scrub_consent_t c = {
        .number = pn.e164, .tenant = tenant, .subject = b.subject, .campaign = b.campaign, .channel = b.channel,
        .purpose = b.purpose, .source = b.source, .evidence_ref = b.evidence_ref, .wording_version = b.wording_version,
        .ref = b.ref, .actor = pl_http_req_source (req), .captured_at_ms = b.captured_at_ms, .written = b.written,
        .names_number = true,
    };
    char ulid[PL_ID_LEN + 1], err[256] = "";
    pl_id_new (ulid, pl_clock_now_ms (api->o.clock));
    snprintf (c.id, sizeof c.id, "%s", ulid);
    rc = scrub_consent_record (ctx->inbox, api->audit, api->o.service, api->o.clock, &c, NULL, err, sizeof err);
    if (rc < 0) {
        rc = s_unavailable (req, "Redis is unavailable");
        goto done;
    }
    json_t *a = json_pack ("{s:s,s:s,s:s,s:s}", "id", c.id, "number", pn.e164, "tenant", tenant, "status", "recorded");
    char *s = json_dumps (a, JSON_COMPACT);
    json_decref (a);
    pl_http_reply_json (req, 201, s);
    free (s);
    rc = 0;
done:
    scrub_body_consent_fini (&b);
    return rc;
}

static int
s_consent_revoke (pl_http_req_t *req, void *arg)
{
    scrub_api_t *api = arg;
    s_ctx_t *ctx = pl_http_req_thread_ctx (req);
    if (!ctx)
        return s_unavailable (req, "no Redis connection");
    const char *id = pl_http_req_param (req, "id");
    if (!id || !*id || strlen (id) >= SCRUB_CONSENT_ID_MAX)
        return pl_http_reply_error (req, 404, "not_found", "no such consent", "id");
    char err[256] = "";
    int rc = scrub_consent_revoke (ctx->redis, ctx->inbox, api->audit, api->o.service, api->o.clock, id,
                                   pl_http_req_source (req), 0, NULL, err, sizeof err);
    if (rc == PL_ENOTFOUND)
        return pl_http_reply_error (req, 404, "not_found", "no such consent", "id");
    if (rc == PL_EEXIST)
        return pl_http_reply_error (req, 409, "already_revoked", "this consent was revoked before", "id");
    if (rc != 0)
        return s_unavailable (req, "Redis is unavailable");
    return pl_http_reply (req, 204, NULL, NULL, 0);
}

/* ---- lists --------------------------------------------------------------------------------- */

static int
s_lists (pl_http_req_t *req, void *arg)
{
    scrub_api_t *api = arg;
    scrub_list_info_t info[64];
    size_t n = scrub_catalog_list (api->o.catalog, info, 64);
    int64_t now = pl_clock_now_ms (api->o.clock);
    json_t *a = json_array ();
    for (size_t i = 0; i < n && i < 64; i++) {
        int64_t max = scrub_campaigns_max_age_ms (api->o.campaigns, info[i].name);
        int64_t days;
        bool stale = scrub_campaigns_stale (info[i].as_of_ms, max, now, &days);
        json_t *x = json_pack ("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:b}", "name", info[i].name, "jurisdiction",
                               info[i].jurisdiction, "version", info[i].version, "copy_date", info[i].copy_date,
                               "kind", info[i].kind, "size", (json_int_t) info[i].size, "age_days",
                               (json_int_t) days, "stale", stale);
        if (max > 0)
            json_object_set_new (x, "max_age_days", json_integer ((json_int_t) (max / 86400000)));
        json_array_append_new (a, x);
    }
    /* The internal list is live: Redis is its copy. */
    json_array_append_new (a, json_pack ("{s:s,s:s,s:s,s:b}", "name", "internal-dnc", "jurisdiction", "",
                                         "version", "live", "stale", false));
    json_t *o = json_pack ("{s:o,s:b}", "lists", a, "loads", scrub_catalog_can_load (api->o.catalog));
    char *s = json_dumps (o, JSON_COMPACT);
    json_decref (o);
    pl_http_reply_json (req, 200, s);
    free (s);
    return 0;
}

/* PUT /v1/lists/{name}: the parameters are checked before any body byte is kept; the body is
 * spooled to a file beside the versions (it may be gigabytes) with its SHA-256, and loaded only
 * once it has arrived whole: an interrupted upload never reaches the loader. */
typedef struct {
    int fd;
    char path[1024];
    size_t size;
    crypto_hash_sha256_state sha;
} s_upload_t;

static void
s_upload_free (void *p)
{
    s_upload_t *u = p;
    if (u->fd >= 0) {
        close (u->fd);
        unlink (u->path);
    }
    free (u);
}

static bool
s_known_list (const char *name)
{
    for (int i = 0; s_list_names[i]; i++)
        if (strcmp (s_list_names[i], name) == 0)
            return true;
    return (strncmp (name, "client:", 7) == 0 || strncmp (name, "campaign:", 9) == 0) && strlen (name) < 32
           && !strpbrk (name, "/ \\");
}

/* 0 when the query is sound; else the 400 is set. */
static int
s_load_params (scrub_api_t *api, pl_http_req_t *req)
{
    const char *name = pl_http_req_param (req, "name");
    if (!name || !s_known_list (name))
        return pl_http_reply_error (req, 400, "unknown_list",
                                    "no such list (us-dnc, bloctel, tps, ctps, litigator, rnd, client:<name>, "
                                    "campaign:<name>)", "name"), PL_EINVAL;
    const char *j = pl_http_req_query (req, "jurisdiction");
    if (!j || !scrub_campaigns_has_jurisdiction (api->o.campaigns, strcasecmp (j, "uk") == 0 ? "GB" : j))
        return pl_http_reply_error (req, 400, "invalid", "no profile for this jurisdiction", "jurisdiction"), PL_EINVAL;
    const char *taken = pl_http_req_query (req, "taken");
    int y, m, d;
    char rest;
    if (!taken || sscanf (taken, "%4d-%2d-%2d%c", &y, &m, &d, &rest) != 3 || strlen (taken) != 10
        || !pl_civil_valid (y, m, d))
        return pl_http_reply_error (req, 400, "invalid", "taken is the copy's date, YYYY-MM-DD", "taken"), PL_EINVAL;
    if (pl_days_from_civil (y, m, d) * 86400000LL > pl_clock_now_ms (api->o.clock))
        return pl_http_reply_error (req, 400, "invalid", "taken is in the future", "taken"), PL_EINVAL;
    const char *mode = pl_http_req_query (req, "mode");
    if (mode && strcmp (mode, "full") != 0 && strcmp (mode, "delta") != 0 && strcmp (mode, "add") != 0
        && strcmp (mode, "delete") != 0)
        return pl_http_reply_error (req, 400, "invalid", "mode is full, delta, add or delete", "mode"), PL_EINVAL;
    const char *format = pl_http_req_query (req, "format");
    static const char *formats[] = { "us-dnc", "tps", "bloctel", "lines", "csv", "rnd", NULL };
    bool known = !format;
    for (int i = 0; format && formats[i]; i++)
        known = known || strcmp (format, formats[i]) == 0;
    if (!known)
        return pl_http_reply_error (req, 400, "invalid", "format is us-dnc, tps, bloctel, lines, csv or rnd",
                                    "format"), PL_EINVAL;
    const char *bad = pl_http_req_query (req, "bad_lines");
    if (bad && strcmp (bad, "apply") != 0 && strcmp (bad, "refuse") != 0)
        return pl_http_reply_error (req, 400, "invalid", "bad_lines is apply or refuse", "bad_lines"), PL_EINVAL;
    return 0;
}

static int
s_load_chunk (pl_http_req_t *req, const char *data, size_t size, void *arg)
{
    scrub_api_t *api = arg;
    s_upload_t *u = pl_http_req_data (req);
    if (!u) {
        if (!s_operator (api, req))
            return pl_http_reply_error (req, 403, "forbidden", "loading lists needs the operator role", NULL), -1;
        if (s_load_params (api, req) != 0)
            return -1;
        if (!scrub_catalog_can_load (api->o.catalog) || !api->o.lists_dir)
            return pl_http_reply_error (req, 501, "not_implemented",
                                        "this replica has no lists directory (PLATEAU_SCRUB_LISTS_DIR)", NULL), -1;
        u = calloc (1, sizeof *u);
        if (!u)
            return -1;
        snprintf (u->path, sizeof u->path, "%s/.upload-XXXXXX", api->o.lists_dir);
        u->fd = mkstemp (u->path);
        if (u->fd < 0) {
            free (u);
            return pl_http_reply_error (req, 507, "no_space", "cannot keep the upload", NULL), -1;
        }
        crypto_hash_sha256_init (&u->sha);
        pl_http_req_set_data (req, u, s_upload_free);
    }
    for (size_t done = 0; done < size;) {
        ssize_t w = write (u->fd, data + done, size - done);
        if (w <= 0)
            return pl_http_reply_error (req, 507, "no_space", "cannot keep the upload", NULL), -1;
        done += (size_t) w;
    }
    crypto_hash_sha256_update (&u->sha, (const unsigned char *) data, size);
    u->size += size;
    return 0;
}

static int
s_load (pl_http_req_t *req, void *arg)
{
    scrub_api_t *api = arg;
    s_ctx_t *ctx = pl_http_req_thread_ctx (req);
    if (!s_operator (api, req))
        return pl_http_reply_error (req, 403, "forbidden", "loading lists needs the operator role", NULL);
    if (s_load_params (api, req) != 0)
        return 0;
    s_upload_t *u = pl_http_req_data (req);
    if (!u)
        return pl_http_reply_error (req, 400, "missing", "the list file is the request's body", "body");
    if (!ctx)
        return s_unavailable (req, "no Redis connection");
    unsigned char d[crypto_hash_sha256_BYTES];
    char hex[2 * crypto_hash_sha256_BYTES + 1];
    crypto_hash_sha256_final (&u->sha, d);
    sodium_bin2hex (hex, sizeof hex, d, sizeof d);
    const char *taken = pl_http_req_query (req, "taken");
    int y, m, dd;
    sscanf (taken, "%4d-%2d-%2d", &y, &m, &dd);
    scrub_catalog_load_t l = {
        .name = pl_http_req_param (req, "name"), .jurisdiction = pl_http_req_query (req, "jurisdiction"),
        .format = pl_http_req_query (req, "format"), .mode = pl_http_req_query (req, "mode"),
        .bad_lines = pl_http_req_query (req, "bad_lines"), .csv_column = pl_http_req_query (req, "column"),
        .digest = hex, .actor = pl_http_req_source (req), .taken_ms = pl_days_from_civil (y, m, dd) * 86400000LL,
    };
    json_t *report = NULL;
    char err[256] = "";
    int rc = scrub_catalog_load (api->o.catalog, ctx->redis, ctx->inbox, api->audit, api->o.service, api->o.clock,
                                 &l, u->path, &report, err, sizeof err);
    if (!report)
        return -1;
    json_object_set_new (report, "digest", json_string (hex));
    int status = 201;
    if (rc == PL_EINVAL) {
        /* Refused whole: the version in force stays; every bad line is named. */
        status = 422;
        json_object_set_new (report, "error", json_pack ("{s:s,s:s,s:s}", "code", "refused", "message", err,
                                                         "field", "body"));
    } else if (rc != 0) {
        json_decref (report);
        pl_log_warn (api->o.log, NULL, "list not loaded", "error", err);
        return s_unavailable (req, "the version could not be stored");
    }
    char *s = json_dumps (report, JSON_COMPACT);
    json_decref (report);
    pl_http_reply_json (req, status, s);
    free (s);
    return 0;
}

/* ---- construction -------------------------------------------------------------------------- */

scrub_api_t *
scrub_api_new (const scrub_api_opts_t *o)
{
    scrub_api_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->o = *o;
    self->redis = pl_redis_new (o->redis_url, 2000);
    self->audit = o->audit && self->redis ? pl_outbox_new (self->redis, o->replica, "audit") : NULL;
    self->verdicts = pl_metrics_counter (o->metrics, "plateau_scrub_verdicts_total",
                                         "Numbers judged, by path (lead, dial, http) and decision", "path,decision");
    if (!self->redis || (o->audit && !self->audit))
        scrub_api_destroy (&self);
    return self;
}

void
scrub_api_destroy (scrub_api_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    scrub_api_t *self = *self_p;
    pl_outbox_destroy (&self->audit);
    pl_redis_destroy (&self->redis);
    free (self);
    *self_p = NULL;
}

int
scrub_api_routes (scrub_api_t *self, pl_http_t *http)
{
    const char *src = self->o.sources;
    char both[1024];
    snprintf (both, sizeof both, "%s%s%s", src ? src : "", src && self->o.operators ? "," : "",
              self->o.operators ? self->o.operators : "");
    const char *readers = src ? both : NULL;
    int rc = 0;
    rc |= pl_http_route (http, "POST", "/v1/scrub", s_scrub, self, &(pl_http_route_opts_t) {
                             .sources = src, .content_types = "application/json,text/csv",
                             .max_body = S_SCRUB_MAX_BODY });
    rc |= pl_http_route (http, "POST", "/v1/dnc", s_dnc_add, self, &(pl_http_route_opts_t) {
                             .sources = src, .content_types = "application/json", .max_body = S_SMALL_BODY });
    rc |= pl_http_route (http, "DELETE", "/v1/dnc/{number}", s_dnc_remove, self, &(pl_http_route_opts_t) {
                             .sources = self->o.operators ? self->o.operators : "-", .max_body = S_SMALL_BODY });
    rc |= pl_http_route (http, "POST", "/v1/consents", s_consent_add, self, &(pl_http_route_opts_t) {
                             .sources = src, .content_types = "application/json", .max_body = S_SMALL_BODY });
    rc |= pl_http_route (http, "DELETE", "/v1/consents/{id}", s_consent_revoke, self, &(pl_http_route_opts_t) {
                             .sources = src, .max_body = S_SMALL_BODY });
    rc |= pl_http_route (http, "GET", "/v1/lists", s_lists, self, &(pl_http_route_opts_t) { .sources = readers });
    rc |= pl_http_route (http, "PUT", "/v1/lists/{name}", s_load, self, &(pl_http_route_opts_t) {
                             .sources = self->o.operators ? self->o.operators : "-",
                             .max_body = self->o.max_list_body, .on_body = s_load_chunk });
    return rc ? PL_EINVAL : 0;
}

void *
scrub_api_thread_init (void *arg)
{
    scrub_api_t *api = arg;
    s_ctx_t *c = calloc (1, sizeof *c);
    if (!c)
        return NULL;
    c->redis = pl_redis_new (api->o.redis_url, 2000);
    c->inbox = c->redis ? pl_inbox_new (c->redis, api->o.service, 0) : NULL;
    c->phone = pl_phone_new ();
    if (!c->redis || !c->inbox || !c->phone) {
        scrub_api_thread_fini (c, arg);
        return NULL;
    }
    return c;
}

void
scrub_api_thread_fini (void *ctx, void *arg)
{
    (void) arg;
    s_ctx_t *c = ctx;
    if (!c)
        return;
    pl_inbox_destroy (&c->inbox);
    pl_phone_destroy (&c->phone);
    pl_redis_destroy (&c->redis);
    free (c);
}
