/*  payload.c — audit records as webhook events, and their bodies (see payload.h). */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "payload.h"
#include "plateau/error.h"
#include "plateau/timefmt.h"

const char *const notify_event_types[] = {
    "lead.verdict",  "call.outcome",  "call.disposition", "promise.made",    "promise.kept",
    "promise.partially_kept", "promise.broken", "promise.cancelled", "payment.received", NULL
};

/* Audit type → webhook type. */
static const struct {
    const char *audit, *webhook;
} s_types[] = {
    { "scrub.verdict", "lead.verdict" },
    { "call.outcome", "call.outcome" },
    { "call.disposition", "call.disposition" },
    { "promise.made", "promise.made" },
    { "promise.kept", "promise.kept" },
    { "promise.partially_kept", "promise.partially_kept" },
    { "promise.broken", "promise.broken" },
    { "promise.cancelled", "promise.cancelled" },
    { "payment.applied", "payment.received" },
    { "payment.unmatched", "payment.received" },
};

bool
notify_event_type_known (const char *type, bool star)
{
    if (!type)
        return false;
    if (star && strcmp (type, "*") == 0)
        return true;
    for (size_t i = 0; notify_event_types[i]; i++)
        if (strcmp (type, notify_event_types[i]) == 0)
            return true;
    return false;
}

static const char *
s_str (const json_t *o, const char *k)
{
    const char *s = json_string_value (json_object_get (o, k));
    return s ? s : "";
}

static char *
s_dup (const char *s)
{
    return strdup (s ? s : "");
}

void
notify_event_clear (notify_event_t *ev)
{
    if (!ev)
        return;
    free (ev->audit_id);
    free (ev->type);
    free (ev->lead_id);
    free (ev->account);
    free (ev->data);
    free (ev->source);
    free (ev->external_id);
    free (ev->campaign);
    memset (ev, 0, sizeof *ev);
}

/* Copies member k of from into to when present. */
static void
s_copy (json_t *to, const json_t *from, const char *k)
{
    json_t *v = json_object_get (from, k);
    if (v)
        json_object_set (to, k, v);
}

/* The typed facts of a record: public evidence only (the audit never puts a number there). */
static json_t *
s_data (const json_t *item, const json_t *evidence)
{
    json_t *d = json_object ();
    if (!d)
        return NULL;
    s_copy (d, item, "decision");
    s_copy (d, item, "zone");
    s_copy (d, evidence, "tenant");
    s_copy (d, evidence, "attempt_id");
    s_copy (d, evidence, "call_kind");
    s_copy (d, evidence, "callee");
    s_copy (d, evidence, "call");
    s_copy (d, evidence, "disposition");
    s_copy (d, evidence, "promise");
    json_t *rules = json_object_get (item, "rules");
    if (json_is_array (rules) && json_array_size (rules)) {
        json_t *out = json_array ();
        size_t i;
        json_t *r;
        json_array_foreach (rules, i, r) {
            json_t *o = json_object ();
            s_copy (o, r, "rule_id");
            s_copy (o, r, "value");
            json_t *defer = json_object_get (r, "defer_until_ms");
            if (json_integer_value (defer) > 0)
                json_object_set (o, "defer_until_ms", defer);
            json_array_append_new (out, o);
        }
        json_object_set_new (d, "rules", out);
    }
    return d;
}

int
notify_event_from_record (const json_t *item, notify_event_t *ev)
{
    memset (ev, 0, sizeof *ev);
    const char *id = s_str (item, "event_id"), *type = s_str (item, "type");
    if (!*id || !*type)
        return PL_EINVAL;
    const json_t *evidence = json_object_get (item, "evidence");
    const char *webhook = NULL;
    if (strcmp (type, "lead.accepted") == 0)
        ev->kind = NOTIFY_RECORD_LEAD, webhook = type;
    for (size_t i = 0; !webhook && i < sizeof s_types / sizeof *s_types; i++)
        if (strcmp (type, s_types[i].audit) == 0)
            ev->kind = NOTIFY_RECORD_EVENT, webhook = s_types[i].webhook;
    if (!webhook)
        return 0;
    const json_t *promise = json_object_get (evidence, "promise");
    char account[512] = "";
    if (*s_str (promise, "account_ref"))
        snprintf (account, sizeof account, "%s|%s", s_str (evidence, "tenant"), s_str (promise, "account_ref"));
    json_t *data = ev->kind == NOTIFY_RECORD_EVENT ? s_data (item, evidence) : json_object ();
    ev->audit_id = s_dup (id);
    ev->type = s_dup (webhook);
    ev->lead_id = s_dup (s_str (item, "lead_id"));
    ev->account = s_dup (account);
    ev->at_ms = (int64_t) json_integer_value (json_object_get (item, "at_ms"));
    ev->data = data ? json_dumps (data, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    ev->source = s_dup (s_str (evidence, "source"));
    ev->external_id = s_dup (s_str (evidence, "external_id"));
    ev->campaign = s_dup (s_str (item, "campaign"));
    json_decref (data);
    if (!ev->audit_id || !ev->type || !ev->lead_id || !ev->account || !ev->data || !ev->source
        || !ev->external_id || !ev->campaign) {
        notify_event_clear (ev);
        return PL_ENOMEM;
    }
    return 0;
}

void
notify_event_id (const char *audit_id, char out[NOTIFY_EVENT_ID_SIZE])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256 (h, (const unsigned char *) audit_id, strlen (audit_id));
    memcpy (out, "evt_", 4);
    for (int i = 0; i < 16; i++)
        snprintf (out + 4 + 2 * i, 3, "%02x", h[i]);
}

char *
notify_payload_body (const char *event_id, const char *type, int64_t at_ms, const char *source,
                     const char *lead_id, const char *external_id, const char *campaign,
                     const char *data)
{
    json_t *d = data ? json_loads (data, 0, NULL) : NULL;
    if (!json_is_object (d)) {
        json_decref (d);
        return NULL;
    }
    char time[40];
    pl_time_format_rfc3339 (at_ms, time, sizeof time);
    json_t *o = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "id", event_id, "type", type,
                           "time", time, "source", source ? source : "", "lead_id",
                           lead_id ? lead_id : "", "external_id", external_id ? external_id : "",
                           "campaign", campaign ? campaign : "", "data", d);
    char *s = o ? json_dumps (o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref (o);
    return s;
}

int
notify_payload_target (const char *url, char *out, size_t size)
{
    CURLU *u = curl_url ();
    char *path = NULL, *query = NULL;
    int rc = PL_EINVAL;
    if (u && curl_url_set (u, CURLUPART_URL, url, 0) == CURLUE_OK
        && curl_url_get (u, CURLUPART_PATH, &path, 0) == CURLUE_OK) {
        curl_url_get (u, CURLUPART_QUERY, &query, 0);
        int n = snprintf (out, size, "%s%s%s", path && *path ? path : "/", query ? "?" : "", query ? query : "");
        rc = n > 0 && (size_t) n < size ? 0 : PL_EINVAL;
    }
    curl_free (path);
    curl_free (query);
    curl_url_cleanup (u);
    return rc;
}
