/*  api.c — the dialer's HTTP routes (see api.h). */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "plateau/campaign_registry.h"
#include "plateau/error.h"
#include "plateau/redis.h"
#include "plateau/timefmt.h"
#include "plateau/utf8.h"

#define S_RETRY_AFTER "1"
#define S_ID_MAX 64                       /* a lead's or an agent's id */
#define S_DIAL_ID_MAX 96                  /* "<lead id>.<n>" */
#define S_NOTE_MAX 1024
#define S_READ_RESERVE (256 * 1024)       /* what a read holds: the lead, its history, the answer */
#define S_NUMBER_RESERVE (DIALER_API_MAX_NUMBER_LEADS * 16 * 1024)

struct dialer_api {
    dialer_api_opts_t o;
    char readers[1024], agents[1024];     /* the routes' source lists, operators included */
    char operators[1024];
};

typedef struct {
    pl_redis_t *redis;
    dialer_t *dialer;
} s_ctx_t;

/* ---- helpers -------------------------------------------------------------------------------- */

static int
s_unavailable (pl_http_req_t *req, const char *what)
{
    pl_http_reply_error (req, 503, "unavailable", what, NULL);
    return pl_http_reply_header (req, "Retry-After", S_RETRY_AFTER);
}

/* The thread's dialer, or NULL after a 503. */
static dialer_t *
s_dialer (pl_http_req_t *req)
{
    s_ctx_t *ctx = pl_http_req_thread_ctx (req);
    if (!ctx)
        s_unavailable (req, "no Redis connection");
    return ctx ? ctx->dialer : NULL;
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

/* "+" and 8 to 15 digits. */
static bool
s_e164 (const char *s)
{
    size_t n = s ? strlen (s) : 0;
    if (n < 9 || n > 16 || s[0] != '+' || s[1] == '0')
        return false;
    for (size_t i = 1; i < n; i++)
        if (!isdigit ((unsigned char) s[i]))
            return false;
    return true;
}

/* An optional string member ("" when absent or null); false after a 400 when present and not a
 * string of at most max bytes without NUL. */
static bool
s_str (pl_http_req_t *req, json_t *o, const char *k, size_t max, const char **out)
{
    json_t *v = json_object_get (o, k);
    *out = "";
    if (!v || json_is_null (v))
        return true;
    if (!json_is_string (v) || json_string_length (v) > max || strlen (json_string_value (v)) != json_string_length (v)) {
        char msg[96];
        snprintf (msg, sizeof msg, "%s must be a string of at most %zu bytes", k, max);
        pl_http_reply_error (req, 400, "invalid", msg, k);
        return false;
    }
    *out = json_string_value (v);
    return true;
}

/* An optional RFC 3339 instant (0 when absent); false after a 400 naming field. */
static bool
s_time (pl_http_req_t *req, json_t *o, const char *k, const char *field, int64_t *out)
{
    json_t *v = json_object_get (o, k);
    *out = 0;
    if (!v || json_is_null (v))
        return true;
    if (json_is_string (v) && pl_time_parse_rfc3339 (json_string_value (v), out) == 0 && *out > 0)
        return true;
    *out = 0;
    pl_http_reply_error (req, 400, "invalid", "expected an RFC 3339 time (2026-12-08T09:30:00+01:00)", field);
    return false;
}

/* The campaign of a lead: the one named (when known), else the first that holds it (lead ids are
 * unique). Returns its name, or NULL after the answer (503, or 404 with `missing` as message and
 * `field`). *why gets the lead's why when wanted. */
static const char *
s_find_lead (dialer_api_t *api, dialer_t *d, pl_http_req_t *req, const char *named, const char *lead,
             json_t **why, const char *missing, const char *field)
{
    const dialer_campaigns_t *cs = api->o.dialer.campaigns;
    if (why)
        *why = NULL;
    if (named && *named && !dialer_campaigns_find (cs, named)) {
        pl_http_reply_error (req, 404, "not_found", "no such campaign", "campaign");
        return NULL;
    }
    for (size_t i = 0; i < dialer_campaigns_count (cs); i++) {
        const char *name = dialer_campaigns_at (cs, i)->name;
        if (named && *named && strcmp (named, name) != 0)
            continue;
        int rc = 0;
        json_t *w = dialer_why (d, name, lead, &rc);
        if (w) {
            if (why)
                *why = w;
            else
                json_decref (w);
            return name;
        }
        if (rc == PL_EREDIS) {
            s_unavailable (req, "Redis is unavailable");
            return NULL;
        }
    }
    pl_http_reply_error (req, 404, "not_found", missing, field);
    return NULL;
}

/* ---- reading -------------------------------------------------------------------------------- */

static int
s_lead_why (pl_http_req_t *req, void *arg)
{
    dialer_api_t *api = arg;
    dialer_t *d = s_dialer (req);
    if (!d)
        return 0;
    const char *id = pl_http_req_param (req, "id");
    if (!dialer_ident_ok (id, S_ID_MAX))
        return pl_http_reply_error (req, 404, "not_found", "no such lead", "id");
    if (pl_http_req_reserve (req, S_READ_RESERVE) != 0)
        return pl_http_reply_busy (req, "memory budget spent", 1);
    json_t *why;
    if (!s_find_lead (api, d, req, pl_http_req_query (req, "campaign"), id, &why, "no campaign holds this lead", "id"))
        return 0;
    return s_reply (req, 200, why);
}

static int
s_number_why (pl_http_req_t *req, void *arg)
{
    (void) arg;
    dialer_t *d = s_dialer (req);
    if (!d)
        return 0;
    const char *number = pl_http_req_param (req, "e164");
    if (!s_e164 (number))
        return pl_http_reply_error (req, 400, "invalid_number", "expected an E.164 number (+33612345678)", "e164");
    if (pl_http_req_reserve (req, S_NUMBER_RESERVE) != 0)
        return pl_http_reply_busy (req, "memory budget spent", 1);
    char **members = NULL;
    size_t n = 0;
    int rc = dialer_leads_of (d, number, &members, &n);
    if (rc == PL_EINVAL)
        return pl_http_reply_error (req, 400, "invalid_number", "expected an E.164 number (+33612345678)", "e164");
    if (rc != 0)
        return s_unavailable (req, "Redis is unavailable");
    json_t *leads = json_array ();
    size_t told = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *slash = strchr (members[i], '/');
        if (!slash || told >= DIALER_API_MAX_NUMBER_LEADS)
            continue;
        *slash = '\0';
        int wrc = 0;
        json_t *w = dialer_why (d, members[i], slash + 1, &wrc);
        if (w) {
            json_array_append_new (leads, w);
            told++;
        } else if (wrc == PL_EREDIS)
            rc = wrc;
    }
    for (size_t i = 0; i < n; i++)
        free (members[i]);
    free (members);
    if (rc != 0) {
        json_decref (leads);
        return s_unavailable (req, "Redis is unavailable");
    }
    json_t *o = json_pack ("{s:s, s:o}", "number", number, "leads", leads);
    if (n > told && told >= DIALER_API_MAX_NUMBER_LEADS)
        json_object_set_new (o, "truncated", json_true ());
    return s_reply (req, 200, o);
}

static json_t *
s_campaign_json (const dialer_campaign_t *c)
{
    static const char *orders[] = { "oldest", "newest" };
    static const char *numbers[] = { "listed", "mobile-first", "fixed-first" };
    json_t *retries = json_object ();
    for (int k = 0; k < DIALER_RETRY_N; k++)
        json_object_set_new (retries, dialer_retry_name ((dialer_retry_kind_t) k),
                             json_pack ("{s:I, s:i}", "delay_ms", (json_int_t) c->retry[k].delay_ms, "max",
                                        c->retry[k].max));
    return json_pack ("{s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:i, s:b,"
                      " s:{s:f, s:s, s:s, s:I}, s:i, s:o, s:s}",
                      "id", c->name, "tenant", c->tenant, "mode", dialer_mode_name (c->mode), "priority", c->priority,
                      "profile", c->profile, "jurisdiction", c->jurisdiction, "cli", c->cli,
                      "order", orders[c->newest_first ? 1 : 0],
                      "numbers", numbers[c->numbers >= 0 && c->numbers <= 2 ? c->numbers : 0],
                      "ring_timeout_s", c->ring_timeout_s, "amd", c->amd,
                      "abandon", "target", c->abandon_ppm / 1e6, "rule", c->abandon_rule,
                      "period", c->abandon_calendar_day ? "calendar_day" : "rolling", "period_ms",
                      (json_int_t) c->abandon_period_ms,
                      "max_attempts", c->max_attempts, "retries", retries, "defined_by", c->origin);
}

static int
s_campaigns (pl_http_req_t *req, void *arg)
{
    dialer_api_t *api = arg;
    const dialer_campaigns_t *cs = api->o.dialer.campaigns;
    json_t *a = json_array ();
    for (size_t i = 0; i < dialer_campaigns_count (cs); i++) {
        json_array_append_new (a, s_campaign_json (dialer_campaigns_at (cs, i)));
    }
    return s_reply (req, 200, json_pack ("{s:o}", "campaigns", a));
}

static int
s_campaign (pl_http_req_t *req, void *arg)
{
    dialer_api_t *api = arg;
    const dialer_campaign_t *c = dialer_campaigns_find (api->o.dialer.campaigns, pl_http_req_param (req, "id"));
    if (!c)
        return pl_http_reply_error (req, 404, "not_found", "no such campaign", "id");
    json_t *o = s_campaign_json (c);
    json_object_set_new (o, "definition", json_string (c->text));
    return s_reply (req, 200, o);
}

/* PUT /v1/campaigns/{id}: the body is the campaign in the profile text format. An error names
 * the body's line and the key. */
static int
s_put_campaign (pl_http_req_t *req, void *arg)
{
    dialer_api_t *api = arg;
    const char *name = pl_http_req_param (req, "id");
    size_t len = 0;
    const char *body = pl_http_req_body (req, &len);
    if (!body || len == 0)
        return pl_http_reply_error (req, 400, "empty", "the campaign's text is expected (the profile text format)", NULL);
    if (strlen (body) != len || !pl_utf8_valid (body, len))
        return pl_http_reply_error (req, 400, "invalid", "the campaign's text must be UTF-8 without NUL bytes", NULL);
    dialer_t *d = s_dialer (req);
    if (!d)
        return 0;
    char err[512] = "";
    bool created = false;
    int rc = dialer_configure (d, name, body, pl_http_req_source (req), &created, err, sizeof err);
    if (rc == PL_EEXIST)
        return pl_http_reply_error (req, 409, "defined_by_file", err, "id");
    if (rc == PL_ENOSPC)
        return pl_http_reply_error (req, 409, "registry_full", err, "id");
    if (rc == PL_ECONFIG) {
        /* "body:<line>: key '<k>': why", or a name refused ("body: campaign names are …") */
        int line = strncmp (err, "body:", 5) == 0 ? atoi (err + 5) : 0;
        char key[64] = "";
        const char *k = strstr (err, "key '");
        if (k)
            snprintf (key, sizeof key, "%.*s", (int) strcspn (k + 5, "'"), k + 5);
        if (!line && strstr (err, "campaign names"))
            return pl_http_reply_error (req, 400, "invalid", err, "id");
        return pl_http_reply_error_at (req, 400, "invalid_campaign", err, *key ? key : NULL, line, 0);
    }
    if (rc != 0)
        return s_unavailable (req, "Redis is unavailable");
    const dialer_campaign_t *c = dialer_campaigns_find (api->o.dialer.campaigns, name);
    json_t *o = c ? s_campaign_json (c) : json_pack ("{s:s}", "id", name);
    json_object_set_new (o, "status", json_string (created ? "created" : "replaced"));
    return s_reply (req, created ? 201 : 200, o);
}

static int
s_queue (pl_http_req_t *req, void *arg)
{
    (void) arg;
    dialer_t *d = s_dialer (req);
    if (!d)
        return 0;
    const char *limit_s = pl_http_req_query (req, "limit");
    int limit = 20;
    if (limit_s) {
        char *end;
        long l = strtol (limit_s, &end, 10);
        if (!*limit_s || *end || l < 1 || l > DIALER_API_MAX_QUEUE)
            return pl_http_reply_error (req, 400, "invalid", "limit is 1 to 200", "limit");
        limit = (int) l;
    }
    if (pl_http_req_reserve (req, S_READ_RESERVE + (size_t) limit * 4096) != 0)
        return pl_http_reply_busy (req, "memory budget spent", 1);
    int rc = 0;
    json_t *q = dialer_queue (d, pl_http_req_param (req, "id"), limit, &rc);
    if (!q && rc == PL_ENOTFOUND)
        return pl_http_reply_error (req, 404, "not_found", "no such campaign", "id");
    if (!q)
        return s_unavailable (req, "Redis is unavailable");
    return s_reply (req, 200, q);
}

/* POST /v1/campaigns/{id}/pause and /resume: the operator is the token's source. */
static int
s_pause_or_resume (pl_http_req_t *req, bool pause)
{
    static const char *const allowed[] = { "reason", NULL };
    json_t *o = pl_http_req_json_object (req, allowed);
    if (!o)
        return 0;
    const char *reason;
    if (!s_str (req, o, "reason", 200, &reason))
        goto done;
    for (const char *p = reason; *p; p++)
        if ((unsigned char) *p < 0x20 || *p == 0x7f) {
            pl_http_reply_error (req, 400, "invalid", "reason: one line of text, no control characters", "reason");
            goto done;
        }
    dialer_t *d = s_dialer (req);
    if (!d)
        goto done;
    const char *campaign = pl_http_req_param (req, "id");
    bool changed = false;
    int rc = dialer_pause (d, campaign, pause, pl_http_req_source (req), reason, &changed);
    if (rc == PL_ENOTFOUND) {
        pl_http_reply_error (req, 404, "not_found", "no such campaign", "id");
        goto done;
    }
    if (rc != 0) {
        s_unavailable (req, "Redis is unavailable");
        goto done;
    }
    int qrc = 0;
    json_t *q = dialer_queue (d, campaign, 1, &qrc);
    json_t *r = json_pack ("{s:s, s:s, s:b, s:O, s:I}", "campaign", campaign, "status", pause ? "paused" : "running",
                           "changed", changed, "paused", q ? json_object_get (q, "paused") : json_null (),
                           "lines_in_flight", (json_int_t) (q ? json_integer_value (json_object_get (q, "lines_in_flight")) : 0));
    json_decref (q);
    s_reply (req, 200, r);
done:
    json_decref (o);
    return 0;
}

static int
s_pause (pl_http_req_t *req, void *arg)
{
    (void) arg;
    return s_pause_or_resume (req, true);
}

static int
s_resume (pl_http_req_t *req, void *arg)
{
    (void) arg;
    return s_pause_or_resume (req, false);
}

/* ---- the agent desktop ---------------------------------------------------------------------- */

static int
s_agent_state (pl_http_req_t *req, void *arg)
{
    dialer_api_t *api = arg;
    static const char *const allowed[] = { "state", "campaigns", NULL };
    static const struct {
        const char *name;
        Plateau__V1__AgentState__State state;
    } states[] = {
        { "ready", PLATEAU__V1__AGENT_STATE__STATE__READY },
        { "paused", PLATEAU__V1__AGENT_STATE__STATE__PAUSED },
        { "logged_out", PLATEAU__V1__AGENT_STATE__STATE__LOGGED_OUT },
        { "on_call", PLATEAU__V1__AGENT_STATE__STATE__ON_CALL },
        { "wrap_up", PLATEAU__V1__AGENT_STATE__STATE__WRAP_UP },
    };
    const char *agent = pl_http_req_param (req, "id");
    if (!dialer_ident_ok (agent, S_ID_MAX))
        return pl_http_reply_error (req, 400, "invalid", "an agent id is 1 to 64 letters, digits or -_.@:", "id");
    json_t *o = pl_http_req_json_object (req, allowed);
    if (!o)
        return 0;
    const char *state;
    int rc = 0;
    Plateau__V1__AgentState a = PLATEAU__V1__AGENT_STATE__INIT;
    char *campaigns[16];
    if (!s_str (req, o, "state", 16, &state))
        goto done;
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
        if (strcmp (states[i].name, state) == 0)
            a.state = states[i].state;
    if (!a.state) {
        pl_http_reply_error (req, 400, *state ? "invalid" : "missing",
                             "state is ready, paused, logged_out, on_call or wrap_up", "state");
        goto done;
    }
    json_t *cs = json_object_get (o, "campaigns");
    if (!json_is_array (cs) || json_array_size (cs) == 0 || json_array_size (cs) > 16) {
        pl_http_reply_error (req, 400, cs ? "invalid" : "missing", "campaigns is a list of 1 to 16 campaign ids",
                             "campaigns");
        goto done;
    }
    for (size_t i = 0; i < json_array_size (cs); i++) {
        const char *c = json_string_value (json_array_get (cs, i));
        if (!c || !dialer_campaigns_find (api->o.dialer.campaigns, c)) {
            char field[32];
            snprintf (field, sizeof field, "campaigns[%zu]", i);
            pl_http_reply_error (req, 400, "unknown_campaign", "no such campaign in this dialer", field);
            goto done;
        }
        campaigns[i] = (char *) c;
    }
    dialer_t *d = s_dialer (req);
    if (!d)
        goto done;
    a.agent_id = (char *) agent;
    a.n_campaigns = json_array_size (cs);
    a.campaigns = campaigns;
    a.since_ms = pl_clock_now_ms (api->o.dialer.clock);
    rc = dialer_agent_state (d, &a, NULL);
    if (rc == PL_EINVAL)
        pl_http_reply_error (req, 400, "invalid", "agent id, state and up to 16 campaigns", NULL);
    else if (rc != 0)
        s_unavailable (req, "Redis is unavailable");
    else
        pl_http_reply (req, 204, NULL, NULL, 0);
    rc = 0;
done:
    json_decref (o);
    return rc;
}

static const struct {
    const char *name;
    Plateau__V1__Disposition__Code code;
} s_codes[] = {
    { "sale", PLATEAU__V1__DISPOSITION__CODE__SALE },
    { "not_interested", PLATEAU__V1__DISPOSITION__CODE__NOT_INTERESTED },
    { "refused", PLATEAU__V1__DISPOSITION__CODE__REFUSED },
    { "do_not_call", PLATEAU__V1__DISPOSITION__CODE__DO_NOT_CALL },
    { "callback", PLATEAU__V1__DISPOSITION__CODE__CALLBACK },
    { "promise_to_pay", PLATEAU__V1__DISPOSITION__CODE__PROMISE_TO_PAY },
    { "wrong_number", PLATEAU__V1__DISPOSITION__CODE__WRONG_NUMBER },
    { "dispute", PLATEAU__V1__DISPOSITION__CODE__DISPUTE },
    { "conversation", PLATEAU__V1__DISPOSITION__CODE__CONVERSATION },
};

/* The promise member: {amount_minor, currency, due}; false after a 400. */
static bool
s_promise (pl_http_req_t *req, json_t *p, Plateau__V1__Money *money, int64_t *due)
{
    static const char *const allowed[] = { "amount_minor", "currency", "due", NULL };
    if (!json_is_object (p))
        return pl_http_reply_error (req, 400, "missing", "promise_to_pay needs promise {amount_minor, currency, due}",
                                    "promise"), false;
    const char *k;
    json_t *v;
    json_object_foreach (p, k, v) {
        bool known = false;
        for (size_t i = 0; allowed[i] && !known; i++)
            known = strcmp (allowed[i], k) == 0;
        if (!known) {
            char field[80], msg[128];
            snprintf (field, sizeof field, "promise.%.64s", k);
            snprintf (msg, sizeof msg, "unknown member '%s'", field);
            return pl_http_reply_error (req, 400, "unknown_field", msg, field), false;
        }
    }
    json_t *amount = json_object_get (p, "amount_minor");
    if (!json_is_integer (amount) || json_integer_value (amount) <= 0)
        return pl_http_reply_error (req, 400, amount ? "invalid" : "missing",
                                    "amount_minor is a positive integer of minor units (12345 is 123.45)",
                                    "promise.amount_minor"), false;
    const char *cur = json_string_value (json_object_get (p, "currency"));
    if (!cur || strlen (cur) != 3 || !isupper ((unsigned char) cur[0]) || !isupper ((unsigned char) cur[1])
        || !isupper ((unsigned char) cur[2]))
        return pl_http_reply_error (req, 400, json_object_get (p, "currency") ? "invalid" : "missing",
                                    "currency is ISO 4217, upper case (EUR)", "promise.currency"), false;
    if (!s_time (req, p, "due", "promise.due", due))
        return false;
    if (!*due)
        return pl_http_reply_error (req, 400, "missing", "a promise has a due date", "promise.due"), false;
    money->minor_units = json_integer_value (amount);
    money->currency = (char *) cur;
    return true;
}

static int
s_disposition (pl_http_req_t *req, void *arg)
{
    dialer_api_t *api = arg;
    static const char *const allowed[] = { "code", "agent", "callback_at", "promise", "note", NULL };
    const char *dial_id = pl_http_req_param (req, "dial_id");
    const char *dot = dial_id ? strrchr (dial_id, '.') : NULL;
    if (!dialer_ident_ok (dial_id, S_DIAL_ID_MAX) || !dot || dot == dial_id || (size_t) (dot - dial_id) > S_ID_MAX
        || !dot[1] || strspn (dot + 1, "0123456789") != strlen (dot + 1))
        return pl_http_reply_error (req, 404, "not_found", "no such call (a dial id is <lead id>.<n>)", "dial_id");
    json_t *o = pl_http_req_json_object (req, allowed);
    if (!o)
        return 0;
    Plateau__V1__Disposition d = PLATEAU__V1__DISPOSITION__INIT;
    Plateau__V1__Money money = PLATEAU__V1__MONEY__INIT;
    const char *code, *agent, *note;
    json_t *why = NULL;
    if (!s_str (req, o, "code", 32, &code) || !s_str (req, o, "agent", S_ID_MAX, &agent)
        || !s_str (req, o, "note", S_NOTE_MAX, &note) || !s_time (req, o, "callback_at", "callback_at", &d.callback_at_ms))
        goto done;
    for (size_t i = 0; i < sizeof s_codes / sizeof s_codes[0]; i++)
        if (strcmp (s_codes[i].name, code) == 0)
            d.code = s_codes[i].code;
    if (!d.code) {
        pl_http_reply_error (req, 400, *code ? "invalid" : "missing",
                             "code is sale, not_interested, refused, do_not_call, callback, promise_to_pay, "
                             "wrong_number, dispute or conversation", "code");
        goto done;
    }
    if (*agent && !dialer_ident_ok (agent, S_ID_MAX)) {
        pl_http_reply_error (req, 400, "invalid", "an agent id is 1 to 64 letters, digits or -_.@:", "agent");
        goto done;
    }
    if (d.code == PLATEAU__V1__DISPOSITION__CODE__CALLBACK && !d.callback_at_ms) {
        pl_http_reply_error (req, 400, "missing", "a callback needs callback_at", "callback_at");
        goto done;
    }
    json_t *p = json_object_get (o, "promise");
    if (d.code == PLATEAU__V1__DISPOSITION__CODE__PROMISE_TO_PAY) {
        if (!s_promise (req, p, &money, &d.promise_due_ms))
            goto done;
        d.promise_amount = &money;
    } else if (p && !json_is_null (p)) {
        pl_http_reply_error (req, 400, "invalid", "a promise goes with the code promise_to_pay", "promise");
        goto done;
    }
    dialer_t *dl = s_dialer (req);
    if (!dl)
        goto done;
    char lead[S_ID_MAX + 1], step[S_DIAL_ID_MAX + 16];
    snprintf (lead, sizeof lead, "%.*s", (int) (dot - dial_id), dial_id);
    const char *campaign = s_find_lead (api, dl, req, NULL, lead, &why, "no such call waiting for its disposition",
                                        "dial_id");
    if (!campaign)
        goto done;
    const dialer_campaign_t *c = dialer_campaigns_find (api->o.dialer.campaigns, campaign);
    d.dial_id = (char *) dial_id;
    d.lead_id = lead;
    d.campaign = (char *) campaign;
    d.number = (char *) (json_string_value (json_object_get (why, "number")) ?: "");
    d.agent_id = (char *) agent;
    d.note = (char *) note;
    d.at_ms = pl_clock_now_ms (api->o.dialer.clock);
    d.tenant = (char *) c->tenant;
    snprintf (step, sizeof step, "%s.disposition", dial_id);
    int rc = dialer_disposition (dl, &d, step, NULL);
    if (rc == 0)
        s_reply (req, 200, json_pack ("{s:s, s:s, s:s, s:s, s:s}", "dial_id", dial_id, "lead", lead, "campaign",
                                      campaign, "code", code, "status", "applied"));
    else if (rc == PL_ENOTFOUND)
        pl_http_reply_error (req, 404, "not_found", "no such call waiting for its disposition", "dial_id");
    else if (rc == PL_EAGAIN) {
        pl_http_reply_error (req, 409, "outcome_pending", "the call's outcome has not arrived yet: retry", "dial_id");
        pl_http_reply_header (req, "Retry-After", S_RETRY_AFTER);
    } else if (rc == PL_EINVAL)
        pl_http_reply_error (req, 400, "invalid", "unknown campaign, dial id or code", "dial_id");
    else
        s_unavailable (req, "Redis is unavailable");
done:
    json_decref (why);
    json_decref (o);
    return 0;
}

static int
s_dial (pl_http_req_t *req, void *arg)
{
    dialer_api_t *api = arg;
    static const char *const allowed[] = { "campaign", "agent", NULL };
    const char *lead = pl_http_req_param (req, "id");
    if (!dialer_ident_ok (lead, S_ID_MAX))
        return pl_http_reply_error (req, 404, "not_found", "no such lead", "id");
    json_t *o = pl_http_req_json_object (req, allowed);
    if (!o)
        return 0;
    const char *campaign, *agent;
    if (!s_str (req, o, "campaign", 64, &campaign) || !s_str (req, o, "agent", S_ID_MAX, &agent))
        goto done;
    if (!dialer_ident_ok (agent, S_ID_MAX)) {
        pl_http_reply_error (req, 400, *agent ? "invalid" : "missing", "the agent who dials: 1 to 64 letters, digits or -_.@:",
                             "agent");
        goto done;
    }
    dialer_t *d = s_dialer (req);
    if (!d)
        goto done;
    const char *c = s_find_lead (api, d, req, campaign, lead, NULL, "no campaign holds this lead", "id");
    if (!c)
        goto done;
    int rc = dialer_dial_now (d, c, lead, agent);
    if (rc == 0)
        s_reply (req, 202, json_pack ("{s:s, s:s, s:s, s:s}", "lead", lead, "campaign", c, "agent", agent, "status",
                                      "due_now"));
    else if (rc == PL_ENOTFOUND)
        pl_http_reply_error (req, 404, "not_found", "no such lead in this campaign", "id");
    else if (rc == PL_EBUSY)
        pl_http_reply_error (req, 409, "not_queued", "the lead is not waiting in the queue (being dialled, or finished)",
                             "id");
    else if (rc == PL_ECLOSED)
        pl_http_reply_error (req, 409, "paused", "the campaign is paused: nothing of it is dialled", "campaign");
    else
        s_unavailable (req, "Redis is unavailable");
done:
    json_decref (o);
    return 0;
}

/* ---- construction --------------------------------------------------------------------------- */

/* "a,b" + "," + "c": a route's source list; "-" (no source has that name) when both are empty. */
static void
s_join (char *out, size_t size, const char *a, const char *b)
{
    a = a ? a : "";
    b = b ? b : "";
    snprintf (out, size, "%s%s%s", a, *a && *b ? "," : "", b);
    if (!*out)
        snprintf (out, size, "-");
}

dialer_api_t *
dialer_api_new (const dialer_api_opts_t *o)
{
    dialer_api_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->o = *o;
    self->o.dialer.redis = NULL;
    self->o.dialer.scrub_client = NULL;
    s_join (self->readers, sizeof self->readers, o->readers, o->operators);
    s_join (self->agents, sizeof self->agents, o->agents, o->operators);
    s_join (self->operators, sizeof self->operators, o->operators, NULL);
    return self;
}

void
dialer_api_destroy (dialer_api_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

int
dialer_api_routes (dialer_api_t *self, pl_http_t *http)
{
    const pl_http_route_opts_t read = { .sources = self->readers, .max_body = DIALER_API_MAX_BODY };
    const pl_http_route_opts_t act = { .sources = self->agents, .content_types = "application/json",
                                       .max_body = DIALER_API_MAX_BODY };
    const pl_http_route_opts_t op = { .sources = self->operators, .content_types = "application/json",
                                      .max_body = DIALER_API_MAX_BODY };
    int rc = 0;
    rc |= pl_http_route (http, "GET", "/v1/leads/{id}/why", s_lead_why, self, &read);
    rc |= pl_http_route (http, "GET", "/v1/numbers/{e164}/why", s_number_why, self, &read);
    rc |= pl_http_route (http, "GET", "/v1/campaigns", s_campaigns, self, &read);
    rc |= pl_http_route (http, "GET", "/v1/campaigns/{id}/queue", s_queue, self, &read);
    rc |= pl_http_route (http, "PUT", "/v1/agents/{id}/state", s_agent_state, self, &act);
    rc |= pl_http_route (http, "POST", "/v1/calls/{dial_id}/disposition", s_disposition, self, &act);
    rc |= pl_http_route (http, "POST", "/v1/leads/{id}/dial", s_dial, self, &act);
    const pl_http_route_opts_t def = { .sources = self->operators, .content_types = "text/plain",
                                       .max_body = PL_CAMPAIGN_TEXT_MAX };
    rc |= pl_http_route (http, "GET", "/v1/campaigns/{id}", s_campaign, self, &read);
    rc |= pl_http_route (http, "PUT", "/v1/campaigns/{id}", s_put_campaign, self, &def);
    rc |= pl_http_route (http, "POST", "/v1/campaigns/{id}/pause", s_pause, self, &op);
    rc |= pl_http_route (http, "POST", "/v1/campaigns/{id}/resume", s_resume, self, &op);
    return rc ? PL_EINVAL : 0;
}

void *
dialer_api_thread_init (void *arg)
{
    dialer_api_t *api = arg;
    s_ctx_t *c = calloc (1, sizeof *c);
    if (!c)
        return NULL;
    c->redis = pl_redis_new (api->o.redis_url, 2000);
    if (c->redis) {
        dialer_opts_t o = api->o.dialer;
        o.redis = c->redis;
        o.scrub_client = NULL;
        c->dialer = dialer_new (&o);
    }
    if (!c->dialer) {
        dialer_api_thread_fini (c, arg);
        return NULL;
    }
    return c;
}

void
dialer_api_thread_fini (void *ctx, void *arg)
{
    (void) arg;
    s_ctx_t *c = ctx;
    if (!c)
        return;
    dialer_destroy (&c->dialer);
    pl_redis_destroy (&c->redis);
    free (c);
}
