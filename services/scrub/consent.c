/*  consent.c — consents in Redis (see consent.h). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaigns.h"
#include "consent.h"
#include "plateau/audit_emit.h"
#include "plateau/error.h"

/* K = the hash; A = id, record. "recorded", or "exists" (the id is known) and nothing emitted. */
static const pl_inbox_effect_t s_record = {
    "scrub.consent_record",
    "if redis.call('HSETNX', K[1], A[1], A[2]) == 0 then return 'exists', false end\n"
    "return 'recorded'\n"
};

/* K = the hash; A = id, revocation record. "revoked"; "absent" or "already", emitting nothing. */
static const pl_inbox_effect_t s_revoke = {
    "scrub.consent_revoke",
    "if redis.call('HEXISTS', K[1], A[1]) == 0 then return 'absent', false end\n"
    "if redis.call('HSETNX', K[1], 'r:' .. A[1], A[2]) == 0 then return 'already', false end\n"
    "return 'revoked'\n"
};

typedef struct {
    scrub_consent_t c;
    json_t *rec;                 /* owns the strings of c */
    json_t *rev;
} s_entry_t;

struct scrub_consents {
    size_t n;
    s_entry_t **items;           /* per number */
    size_t *counts;
};

static void
s_key (char *out, size_t size, const char *number)
{
    snprintf (out, size, "pl:{num:%s}:consents", number);
}

static void
s_index_key (char *out, size_t size, const char *id)
{
    snprintf (out, size, "pl:{consent:%s}:number", id);
}

static const char *
s_str (json_t *o, const char *k)
{
    const char *v = json_string_value (json_object_get (o, k));
    return v ? v : "";
}

/* The audit event of a consent, recorded or revoked. */
static int
s_emit (pl_inbox_tx_t *tx, const pl_outbox_t *audit, const char *service, const pl_clock_t *clock,
        const scrub_consent_t *c, bool revoked, const char *actor, const char *trace_id, int64_t now)
{
    char id[SCRUB_CONSENT_ID_MAX + 32];
    snprintf (id, sizeof id, "%s.%s", c->id, revoked ? "consent_revoked" : "consent");
    Plateau__V1__AuditEvent ev;
    pl_audit_event_init (&ev, service, revoked ? "consent.revoked" : "consent.recorded", id, now);
    Plateau__V1__ConsentFacts f = PLATEAU__V1__CONSENT_FACTS__INIT;
    f.tenant = (char *) c->tenant;
    f.subject = (char *) (c->ref ? c->ref : "");
    f.captured_at_ms = c->captured_at_ms;
    f.revoked_at_ms = c->revoked_at_ms;
    f.written = c->written;
    f.names_number = c->names_number;
    f.evidence_ref = (char *) (c->evidence_ref ? c->evidence_ref : "");
    f.scope = (char *) (c->campaign && *c->campaign ? c->campaign : c->subject && *c->subject ? c->subject : "tenant");
    ev.consent = &f;
    ev.number = (char *) c->number;
    ev.tenant = (char *) c->tenant;
    ev.actor = (char *) (actor ? actor : "");
    ev.lead_id = (char *) (c->ref ? c->ref : "");
    return pl_audit_emit (tx, audit, service, clock, trace_id, &ev);
}

int
scrub_consent_record (pl_inbox_t *inbox, const pl_outbox_t *audit, const char *service, const pl_clock_t *clock,
                      const scrub_consent_t *c, const char *trace_id, char *err, size_t err_size)
{
    int64_t now = pl_clock_now_ms (clock);
    json_t *rec = json_pack ("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:b,s:b,s:I}",
                             "tenant", c->tenant ?: "", "subject", c->subject ?: "", "campaign", c->campaign ?: "",
                             "channel", c->channel ?: "", "purpose", c->purpose ?: "", "source", c->source ?: "",
                             "evidence_ref", c->evidence_ref ?: "", "wording_version", c->wording_version ?: "",
                             "ref", c->ref ?: "", "by", c->actor ?: "", "number", c->number,
                             "captured_at", (json_int_t) c->captured_at_ms, "written", c->written,
                             "names_number", c->names_number, "recorded_at", (json_int_t) now);
    char *value = rec ? json_dumps (rec, JSON_COMPACT) : NULL;
    json_decref (rec);
    char key[128], idx[SCRUB_CONSENT_ID_MAX + 32], tag[64];
    s_key (key, sizeof key, c->number);
    s_index_key (idx, sizeof idx, c->id);
    snprintf (tag, sizeof tag, "num:%s", c->number);
    pl_inbox_tx_t *tx = value ? pl_inbox_tx_new (tag, NULL) : NULL;
    const char *k[1] = { key };
    const char *a[2] = { c->id, value };
    int rc = tx ? pl_inbox_tx_effect (tx, &s_record, 1, k, 2, a, NULL) : PL_ENOMEM;
    /* The id → number index is another tag: written just before, harmless alone. */
    const char *set[3] = { "SET", idx, c->number };
    if (rc == 0)
        rc = pl_inbox_tx_before (tx, 3, set, NULL);
    if (rc == 0 && audit)
        rc = s_emit (tx, audit, service, clock, c, false, c->actor, trace_id, now);
    int result = -1;
    if (rc == 0)
        rc = pl_inbox_apply (inbox, &tx, 1, &result);
    if (rc != 0 && err)
        snprintf (err, err_size, "%s", rc == PL_ENOMEM ? "out of memory" : pl_inbox_errstr (inbox));
    if (rc == 0)
        rc = strcmp (pl_inbox_tx_reply (tx, NULL), "recorded") == 0 ? 1 : 0;
    pl_inbox_tx_destroy (&tx);
    free (value);
    return rc;
}

void
scrub_consent_from_json (scrub_consent_t *c, const char *id, json_t *rec, json_t *rev)
{
    memset (c, 0, sizeof *c);
    snprintf (c->id, sizeof c->id, "%s", id);
    c->number = s_str (rec, "number");
    c->tenant = s_str (rec, "tenant");
    c->subject = s_str (rec, "subject");
    c->campaign = s_str (rec, "campaign");
    c->channel = s_str (rec, "channel");
    c->purpose = s_str (rec, "purpose");
    c->source = s_str (rec, "source");
    c->evidence_ref = s_str (rec, "evidence_ref");
    c->wording_version = s_str (rec, "wording_version");
    c->ref = s_str (rec, "ref");
    c->actor = s_str (rec, "by");
    c->captured_at_ms = json_integer_value (json_object_get (rec, "captured_at"));
    c->written = json_is_true (json_object_get (rec, "written"));
    c->names_number = json_is_true (json_object_get (rec, "names_number"));
    if (rev) {
        c->revoked_at_ms = json_integer_value (json_object_get (rev, "at"));
        c->revoked_by = s_str (rev, "by");
    }
}

int
scrub_consent_revoke (pl_redis_t *redis, pl_inbox_t *inbox, const pl_outbox_t *audit, const char *service,
                      const pl_clock_t *clock, const char *id, const char *actor, int64_t revoked_at_ms,
                      const char *trace_id, char *err, size_t err_size)
{
    char idx[SCRUB_CONSENT_ID_MAX + 32], number[32], key[128];
    if (strlen (id) >= SCRUB_CONSENT_ID_MAX)
        return PL_ENOTFOUND;
    s_index_key (idx, sizeof idx, id);
    pl_reply_t *r = pl_redis_command (redis, "GET %s", idx);
    if (!r) {
        snprintf (err, err_size, "%s", pl_redis_errstr (redis));
        return PL_EREDIS;
    }
    int type = pl_reply_type (r);
    snprintf (number, sizeof number, "%s", type == PL_REPLY_STRING ? pl_reply_str (r, NULL) : "");
    pl_reply_free (&r);
    if (!*number)
        return PL_ENOTFOUND;
    s_key (key, sizeof key, number);
    r = pl_redis_command (redis, "HGET %s %s", key, id);
    if (!r) {
        snprintf (err, err_size, "%s", pl_redis_errstr (redis));
        return PL_EREDIS;
    }
    json_t *rec = pl_reply_type (r) == PL_REPLY_STRING ? json_loads (pl_reply_str (r, NULL), 0, NULL) : NULL;
    pl_reply_free (&r);
    if (!rec)
        return PL_ENOTFOUND;
    int64_t now = pl_clock_now_ms (clock);
    int64_t at = revoked_at_ms > 0 ? revoked_at_ms : now;
    json_t *rev = json_pack ("{s:I,s:s}", "at", (json_int_t) at, "by", actor ? actor : "");
    char *value = json_dumps (rev, JSON_COMPACT);
    scrub_consent_t c;
    scrub_consent_from_json (&c, id, rec, rev);
    char tag[64];
    snprintf (tag, sizeof tag, "num:%s", number);
    pl_inbox_tx_t *tx = pl_inbox_tx_new (tag, NULL);
    const char *k[1] = { key };
    const char *a[2] = { id, value };
    int rc = tx && value ? pl_inbox_tx_effect (tx, &s_revoke, 1, k, 2, a, NULL) : PL_ENOMEM;
    if (rc == 0 && audit)
        rc = s_emit (tx, audit, service, clock, &c, true, actor, trace_id, now);
    int result = -1;
    if (rc == 0)
        rc = pl_inbox_apply (inbox, &tx, 1, &result);
    if (rc != 0)
        snprintf (err, err_size, "%s", rc == PL_ENOMEM ? "out of memory" : pl_inbox_errstr (inbox));
    if (rc == 0) {
        const char *reply = pl_inbox_tx_reply (tx, NULL);
        rc = strcmp (reply, "revoked") == 0 ? 0 : strcmp (reply, "already") == 0 ? PL_EEXIST : PL_ENOTFOUND;
    }
    pl_inbox_tx_destroy (&tx);
    free (value);
    json_decref (rev);
    json_decref (rec);
    return rc;
}

int
scrub_consents_fetch (pl_redis_t *redis, const char *const *numbers, size_t n, scrub_consents_t **out)
{
    *out = NULL;
    scrub_consents_t *self = calloc (1, sizeof *self);
    if (!self)
        return PL_ENOMEM;
    self->n = n;
    self->items = calloc (n ? n : 1, sizeof *self->items);
    self->counts = calloc (n ? n : 1, sizeof *self->counts);
    if (!self->items || !self->counts) {
        scrub_consents_destroy (&self);
        return PL_ENOMEM;
    }
    int rc = 0;
    size_t queued = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char key[128];
        s_key (key, sizeof key, numbers[i]);
        const char *argv[2] = { "HGETALL", key };
        if (pl_redis_appendv (redis, 2, argv, NULL) != 0)
            rc = PL_EREDIS;
        else
            queued++;
    }
    for (size_t i = 0; i < queued; i++) {
        pl_reply_t *r = NULL;
        if (pl_redis_get_reply (redis, &r) != 0 || !r) {
            rc = PL_EREDIS;
            break;
        }
        if (pl_reply_type (r) == PL_REPLY_ARRAY && rc == 0) {
            size_t m = pl_reply_len (r) / 2, k = 0;
            self->items[i] = calloc (m ? m : 1, sizeof (s_entry_t));
            for (size_t j = 0; self->items[i] && j < m; j++) {
                const char *f = pl_reply_str (pl_reply_element (r, 2 * j), NULL);
                const char *v = pl_reply_str (pl_reply_element (r, 2 * j + 1), NULL);
                if (!f || !v || strncmp (f, "r:", 2) == 0)
                    continue;
                s_entry_t *e = &self->items[i][k];
                e->rec = json_loads (v, 0, NULL);
                if (!e->rec)
                    continue;
                /* its revocation, if any */
                char rf[SCRUB_CONSENT_ID_MAX + 2];
                snprintf (rf, sizeof rf, "r:%s", f);
                for (size_t q = 0; q < m && !e->rev; q++) {
                    const char *g = pl_reply_str (pl_reply_element (r, 2 * q), NULL);
                    if (g && strcmp (g, rf) == 0)
                        e->rev = json_loads (pl_reply_str (pl_reply_element (r, 2 * q + 1), NULL) ?: "", 0, NULL);
                }
                scrub_consent_from_json (&e->c, f, e->rec, e->rev);
                k++;
            }
            self->counts[i] = self->items[i] ? k : 0;
        } else if (pl_reply_type (r) == PL_REPLY_ERROR)
            rc = PL_EREDIS;
        pl_reply_free (&r);
    }
    if (rc != 0) {
        scrub_consents_destroy (&self);
        return rc;
    }
    *out = self;
    return 0;
}

void
scrub_consents_destroy (scrub_consents_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    scrub_consents_t *self = *self_p;
    for (size_t i = 0; self->items && i < self->n; i++) {
        for (size_t j = 0; self->items[i] && j < self->counts[i]; j++) {
            json_decref (self->items[i][j].rec);
            json_decref (self->items[i][j].rev);
        }
        free (self->items[i]);
    }
    free (self->items);
    free (self->counts);
    free (self);
    *self_p = NULL;
}

size_t
scrub_consents_count (const scrub_consents_t *self, size_t i)
{
    return self && i < self->n ? self->counts[i] : 0;
}

const scrub_consent_t *
scrub_consents_at (const scrub_consents_t *self, size_t i, size_t j)
{
    return j < scrub_consents_count (self, i) ? &self->items[i][j].c : NULL;
}

size_t
scrub_consents_rules (const scrub_consents_t *self, size_t i, const char *e164, const char *campaign,
                      pl_rules_consent_t *out, size_t cap)
{
    size_t k = 0;
    for (size_t j = 0; j < scrub_consents_count (self, i) && k < cap; j++) {
        const scrub_consent_t *c = &self->items[i][j].c;
        if (*c->channel && strcmp (c->channel, "phone") != 0)
            continue;
        if (*c->campaign && (!campaign || strcmp (c->campaign, campaign) != 0))
            continue;
        out[k++] = (pl_rules_consent_t) {
            .captured_ms = c->captured_at_ms, .revoked_ms = c->revoked_at_ms,
            .tenant = scrub_id_of (c->tenant), .subject = scrub_id_of (c->subject),
            .number = c->names_number ? e164 : NULL, .written = c->written,
            .evidence = *c->evidence_ref ? c->evidence_ref : c->source,
        };
    }
    return k;
}
