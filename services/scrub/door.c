/*  door.c — LeadSubmitted, ScrubRequest, DialCheck and OptOutRequest on the bus (see door.h). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consent.h"
#include "dial.h"
#include "door.h"
#include "plateau/audit_emit.h"
#include "plateau/envelope.h"
#include "plateau/error.h"
#include "plateau/inbox.h"
#include "plateau/outbox.h"
#include "verdict.h"

#define S_LEAD_MAX_NUMBERS SCRUB_LEAD_MAX_NUMBERS

/* K = the intake's lead; A = status, verdicts JSON, now ms. Writes the verdict onto the lead;
 * a lead that is no longer there (erased) gets nothing and nothing is emitted. */
static const pl_inbox_effect_t s_verdict = {
    "scrub.lead_verdict",
    "if redis.call('EXISTS', K[1]) == 0 then return 'missing', false end\n"
    "redis.call('HSET', K[1], 'verdict', A[1], 'scrub', A[2], 'scrubbed_at', A[3])\n"
    "return A[1]\n"
};

/* A dial-time answer changes no state: the step only carries its marker and messages. */
static const pl_inbox_effect_t s_answer = { "scrub.answer", "return 'answered'\n" };

struct scrub_door {
    pl_redis_t *redis;
    const pl_clock_t *clock;
    char *service;
    const scrub_campaigns_t *campaigns;
    scrub_catalog_t *catalog;
    pl_inbox_t *inbox;
    pl_outbox_t *dialer;
    pl_outbox_t *audit;             /* NULL: no audit events */
    pl_metric_t *verdicts;          /* plateau_scrub_verdicts_total{path,decision} */
    pl_metric_t *leads;             /* plateau_scrub_leads_total{status} */
    pl_log_t *log;
};

scrub_door_t *
scrub_door_new (pl_redis_t *redis, const pl_clock_t *clock, const char *service, const char *replica,
                const scrub_campaigns_t *campaigns, scrub_catalog_t *catalog, bool audit, pl_metrics_t *metrics,
                pl_log_t *log)
{
    scrub_door_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->redis = redis;
    self->clock = clock;
    self->service = strdup (service);
    self->campaigns = campaigns;
    self->catalog = catalog;
    self->log = log;
    self->inbox = pl_inbox_new (redis, service, 0);
    self->dialer = pl_outbox_new (redis, replica, "dialer");
    self->audit = audit ? pl_outbox_new (redis, replica, "audit") : NULL;
    self->verdicts = pl_metrics_counter (metrics, "plateau_scrub_verdicts_total",
                                         "Numbers judged, by path (lead, dial, http) and decision", "path,decision");
    self->leads = pl_metrics_counter (metrics, "plateau_scrub_leads_total", "Leads scrubbed, by outcome", "status");
    if (!self->service || !self->inbox || !self->dialer || (audit && !self->audit))
        scrub_door_destroy (&self);
    return self;
}

void
scrub_door_destroy (scrub_door_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    scrub_door_t *self = *self_p;
    pl_inbox_destroy (&self->inbox);
    pl_outbox_destroy (&self->dialer);
    pl_outbox_destroy (&self->audit);
    free (self->service);
    free (self);
    *self_p = NULL;
}

static bool
s_e164 (const char *s)
{
    if (!s || s[0] != '+')
        return false;
    size_t n = 0;
    for (const char *p = s + 1; *p; p++, n++)
        if (*p < '0' || *p > '9')
            return false;
    return n >= 6 && n <= 15;
}

static void
s_number_of (const Plateau__V1__PhoneNumber *p, scrub_number_t *out)
{
    *out = (scrub_number_t) { .e164 = p->e164, .phone_type = p->type, .region = p->region,
                              .zones = p->zones, .n_zones = p->n_zones, .zone_source = p->zone_source };
}

int
scrub_door_lead_numbers (const Plateau__V1__Lead *lead, scrub_number_t *out, size_t *n, char *reason, size_t rsize)
{
    *n = 0;
    /* The ids made from the lead's ("<id>.c<i>", "<id>.verdict.<i>") must hold it whole: cut
     * short, two consents would share an id and the second would never be recorded. */
    if (!lead || !lead->id || !*lead->id || strlen (lead->id) > SCRUB_LEAD_ID_MAX || !lead->campaign
        || !*lead->campaign || !lead->phone || !s_e164 (lead->phone->e164)
        || lead->n_alt_phones > S_LEAD_MAX_NUMBERS - 1) {
        snprintf (reason, rsize,
                  "a lead needs an id of at most %d bytes, a campaign, an E.164 phone and at most %d alternates",
                  SCRUB_LEAD_ID_MAX, S_LEAD_MAX_NUMBERS - 1);
        return PL_EINVAL;
    }
    s_number_of (lead->phone, &out[(*n)++]);
    for (size_t i = 0; i < lead->n_alt_phones; i++)
        if (lead->alt_phones[i] && s_e164 (lead->alt_phones[i]->e164))
            s_number_of (lead->alt_phones[i], &out[(*n)++]);
    return 0;
}

bool
scrub_door_lead_consent (const Plateau__V1__Lead *lead, size_t i, const char *tenant, scrub_consent_t *out)
{
    const Plateau__V1__Consent *k = lead->consents[i];
    const char *number = k->number && *k->number ? k->number : lead->phone->e164;
    if (!s_e164 (number))
        return false;
    *out = (scrub_consent_t) {
        .number = number, .tenant = tenant, .subject = "", .campaign = "", .channel = k->channel,
        .purpose = k->scope, .source = k->source, .evidence_ref = k->proof_ref,
        .wording_version = k->wording_version, .ref = lead->id, .actor = lead->source,
        .captured_at_ms = k->captured_at_ms, .written = false,
        .names_number = k->number && *k->number,
    };
    snprintf (out->id, sizeof out->id, "%s.c%zu", lead->id, i);
    return true;
}

int
scrub_door_request_check (const Plateau__V1__ScrubRequest *q, char *jur, size_t jsize, char *reason, size_t rsize)
{
    if (!q || q->n_numbers == 0 || q->n_numbers > SCRUB_REQUEST_MAX_NUMBERS) {
        snprintf (reason, rsize, "a ScrubRequest holds 1 to %d numbers", SCRUB_REQUEST_MAX_NUMBERS);
        return PL_EINVAL;
    }
    for (size_t i = 0; i < q->n_numbers; i++)
        if (!s_e164 (q->numbers[i])) {
            snprintf (reason, rsize, "numbers[%zu] is not E.164", i);
            return PL_EINVAL;
        }
    if (pl_rules_callee_parse (q->callee, NULL) != 0) {
        snprintf (reason, rsize, "callee is not consumer, business or sole-trader");
        return PL_EINVAL;
    }
    jur[0] = '\0';
    /* The request names a profile family ("fr", "us", "uk") or a jurisdiction. */
    if (q->jurisdiction && *q->jurisdiction)
        snprintf (jur, jsize, "%s", strcasecmp (q->jurisdiction, "uk") == 0 ? "GB" : q->jurisdiction);
    return 0;
}

/* The lead's own consents, recorded before it is judged so that they count. */
static int
s_record_consents (scrub_door_t *self, const Plateau__V1__Lead *lead, const char *tenant, const char *trace_id)
{
    for (size_t i = 0; i < lead->n_consents; i++) {
        const Plateau__V1__Consent *k = lead->consents[i];
        scrub_consent_t c;
        if (!scrub_door_lead_consent (lead, i, tenant, &c))
            continue;
        char err[256];
        if (scrub_consent_record (self->inbox, self->audit, self->service, self->clock, &c, trace_id, err,
                                  sizeof err) < 0) {
            pl_log_warn (self->log, NULL, "lead consent not recorded", "lead_id", lead->id, "error", err);
            return PL_EREDIS;
        }
        /* Revoked already when it arrived: the revocation is recorded too. */
        if (k->revoked_at_ms > 0
            && scrub_consent_revoke (self->redis, self->inbox, self->audit, self->service, self->clock, c.id,
                                     lead->source, k->revoked_at_ms, trace_id, err, sizeof err) == PL_EREDIS)
            return PL_EREDIS;
    }
    return 0;
}

/* The audit event of one verdict, in tx. */
static int
s_audit (scrub_door_t *self, pl_inbox_tx_t *tx, scrub_verdict_pb_t *pb, const char *event_id, const char *lead_id,
         const char *campaign, Plateau__V1__CallKind kind, const char *trace_id, int64_t now)
{
    if (!self->audit)
        return 0;
    Plateau__V1__AuditEvent ev;
    pl_audit_event_init (&ev, self->service, "scrub.verdict", event_id, now);
    scrub_verdict_pb_audit (pb, &ev);
    ev.lead_id = (char *) (lead_id ? lead_id : "");
    if (campaign && *campaign)
        ev.campaign = (char *) campaign;
    ev.call_kind = kind;
    return pl_audit_emit (tx, self->audit, self->service, self->clock, trace_id, &ev);
}

/* One LeadSubmitted: its step, or NULL with *code and reason set for a nack. */
static pl_inbox_tx_t *
s_lead_step (scrub_door_t *self, const pl_envelope_t *env, int64_t now, int *code, char *reason, size_t rsize,
             const char **status)
{
    const Plateau__V1__Lead *lead = env->lead_submitted ? env->lead_submitted->lead : NULL;
    scrub_number_t nums[S_LEAD_MAX_NUMBERS];
    size_t n = 0;
    if (scrub_door_lead_numbers (lead, nums, &n, reason, rsize) != 0) {
        *code = PLATEAU__V1__NACK__CODE__INVALID;
        return NULL;
    }
    const char *debt = lead->debt && lead->debt->account_ref ? lead->debt->account_ref : "";
    scrub_context_t ctx = { .campaign = lead->campaign, .country = lead->country, .state = lead->state,
                            .postal_code = lead->postal_code, .debt_ref = debt };
    if (pl_rules_callee_parse (lead->callee, &ctx.callee) != 0) {
        snprintf (reason, rsize, "lead.callee is not consumer, business or sole-trader");
        *code = PLATEAU__V1__NACK__CODE__INVALID;
        return NULL;
    }
    scrub_campaign_t camp;
    const char *tenant = scrub_campaigns_find (self->campaigns, lead->campaign, NULL, lead->phone->region,
                                               *debt != '\0', &camp) == 0 ? camp.tenant : "default";
    *code = PLATEAU__V1__NACK__CODE__UNAVAILABLE;
    snprintf (reason, rsize, "redis unavailable");
    if (s_record_consents (self, lead, tenant, env->trace_id) != 0)
        return NULL;
    scrub_verdict_t *v = calloc (n, sizeof *v);
    if (!v || scrub_verdict_judge (self->campaigns, self->catalog, self->redis, &ctx, nums, n, now, v) != 0) {
        free (v);
        return NULL;
    }
    bool pass = false;
    json_t *arr = json_array ();
    for (size_t i = 0; i < n; i++) {
        pass = pass || scrub_verdict_passes (&v[i]);
        json_array_append_new (arr, scrub_verdict_json (&v[i], now));
        char labels[64];
        snprintf (labels, sizeof labels, "lead,%s", scrub_verdict_name (&v[i]));
        pl_metric_inc (self->verdicts, labels, 1);
    }
    *status = pass ? "cleared" : "suppressed";
    json_t *doc = json_pack ("{s:s,s:I,s:o}", "status", *status, "at", (json_int_t) now, "numbers", arr);
    char *text = json_dumps (doc, JSON_COMPACT);
    json_decref (doc);

    char tag[300], key[512], at[24];
    snprintf (tag, sizeof tag, "camp:%s", lead->campaign);
    snprintf (key, sizeof key, "pl:{camp:%s}:lead:%s", lead->campaign, lead->id);
    snprintf (at, sizeof at, "%lld", (long long) now);
    pl_inbox_tx_t *tx = text ? pl_inbox_tx_new (tag, env->id) : NULL;
    const char *k[1] = { key };
    const char *a[3] = { *status, text, at };
    int rc = tx ? pl_inbox_tx_effect (tx, &s_verdict, 1, k, 3, a, NULL) : PL_ENOMEM;
    free (text);

    scrub_verdict_pb_t *pbs[S_LEAD_MAX_NUMBERS] = { 0 };
    Plateau__V1__ScrubVerdict *msgs[S_LEAD_MAX_NUMBERS];
    size_t nm = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        pbs[i] = scrub_verdict_pb_new (&v[i], now);
        if (!pbs[i]) {
            rc = PL_ENOMEM;
            break;
        }
        Plateau__V1__ScrubVerdict *m = scrub_verdict_pb_message (pbs[i], "", lead->id);
        if (!pass || scrub_verdict_passes (&v[i]))
            msgs[nm++] = m;
        char id[160];
        snprintf (id, sizeof id, "%s.verdict.%zu", lead->id, i);
        rc = s_audit (self, tx, pbs[i], id, lead->id, lead->campaign,
                      *debt ? PLATEAU__V1__CALL_KIND__DEBT_COLLECTION : PLATEAU__V1__CALL_KIND__CANVASSING,
                      env->trace_id, now);
    }
    if (rc == 0) {
        pl_envelope_t out;
        pl_envelope_ids_t ids;
        char id[160];
        pl_envelope_init (&out, &ids, self->service, self->clock, env->trace_id);
        out.reply_to = env->id;
        Plateau__V1__LeadCleared lc = PLATEAU__V1__LEAD_CLEARED__INIT;
        Plateau__V1__LeadSuppressed ls = PLATEAU__V1__LEAD_SUPPRESSED__INIT;
        if (pass) {
            snprintf (id, sizeof id, "%s.cleared", lead->id);
            lc.lead = (Plateau__V1__Lead *) lead;
            lc.n_verdicts = nm;
            lc.verdicts = msgs;
            out.body_case = PLATEAU__V1__ENVELOPE__BODY_LEAD_CLEARED;
            out.lead_cleared = &lc;
        } else {
            snprintf (id, sizeof id, "%s.suppressed", lead->id);
            ls.lead_id = lead->id;
            ls.campaign = lead->campaign;
            ls.n_verdicts = nm;
            ls.verdicts = msgs;
            out.body_case = PLATEAU__V1__ENVELOPE__BODY_LEAD_SUPPRESSED;
            out.lead_suppressed = &ls;
        }
        out.id = id;
        rc = pl_inbox_tx_emit (tx, self->dialer, &out);
    }
    for (size_t i = 0; i < n; i++)
        scrub_verdict_pb_free (&pbs[i]);
    free (v);
    if (rc != 0)
        pl_inbox_tx_destroy (&tx);
    return tx;
}

/* One ScrubRequest: its step (answers and audit events), or NULL with a nack. */
static pl_inbox_tx_t *
s_request_step (scrub_door_t *self, const pl_envelope_t *env, int64_t now, int *code, char *reason, size_t rsize)
{
    const Plateau__V1__ScrubRequest *q = env->scrub_request;
    *code = PLATEAU__V1__NACK__CODE__INVALID;
    char jur[8];
    if (scrub_door_request_check (q, jur, sizeof jur, reason, rsize) != 0)
        return NULL;
    *code = PLATEAU__V1__NACK__CODE__UNAVAILABLE;
    snprintf (reason, rsize, "redis unavailable");
    size_t n = q->n_numbers;
    scrub_number_t *nums = calloc (n, sizeof *nums);
    scrub_verdict_t *v = calloc (n, sizeof *v);
    scrub_context_t ctx = { .campaign = q->campaign, .jurisdiction = jur, .debt_ref = "" };
    pl_rules_callee_parse (q->callee, &ctx.callee);        /* checked above */
    for (size_t i = 0; nums && i < n; i++)
        nums[i].e164 = q->numbers[i];
    pl_inbox_tx_t *tx = NULL;
    if (!nums || !v || scrub_verdict_judge (self->campaigns, self->catalog, self->redis, &ctx, nums, n, now, v) != 0)
        goto done;
    char tag[300];
    snprintf (tag, sizeof tag, "%s%s", q->campaign && *q->campaign ? "camp:" : "scrub:dial",
              q->campaign && *q->campaign ? q->campaign : "");
    tx = pl_inbox_tx_new (tag, env->id);
    int rc = tx ? pl_inbox_tx_effect (tx, &s_answer, 0, NULL, 0, NULL, NULL) : PL_ENOMEM;
    for (size_t i = 0; i < n && rc == 0; i++) {
        scrub_verdict_pb_t *pb = scrub_verdict_pb_new (&v[i], now);
        if (!pb) {
            rc = PL_ENOMEM;
            break;
        }
        pl_envelope_t out;
        pl_envelope_ids_t ids;
        char id[160];
        pl_envelope_init (&out, &ids, self->service, self->clock, env->trace_id);
        snprintf (id, sizeof id, "%s.v%zu", env->id, i);
        out.id = id;
        out.reply_to = env->id;
        out.body_case = PLATEAU__V1__ENVELOPE__BODY_SCRUB_VERDICT;
        out.scrub_verdict = scrub_verdict_pb_message (pb, q->request_id, q->lead_id);
        rc = pl_inbox_tx_emit (tx, self->dialer, &out);
        snprintf (id, sizeof id, "%s.verdict.%zu", env->id, i);
        if (rc == 0)
            rc = s_audit (self, tx, pb, id, q->lead_id, q->campaign, q->kind, env->trace_id, now);
        char labels[64];
        snprintf (labels, sizeof labels, "dial,%s", scrub_verdict_name (&v[i]));
        pl_metric_inc (self->verdicts, labels, 1);
        scrub_verdict_pb_free (&pb);
    }
    if (rc != 0)
        pl_inbox_tx_destroy (&tx);
done:
    free (nums);
    free (v);
    return tx;
}

/* One OptOutRequest, applied at once (its own step, seen marker the message id). */
static void
s_optout (scrub_door_t *self, pl_bus_msg_t *msg, int64_t now)
{
    const pl_envelope_t *env = pl_bus_msg_envelope (msg);
    scrub_optout_t o;
    char reason[256] = "";
    if (scrub_dial_optout_read (env->opt_out_request, env->id, now, &o, reason, sizeof reason) != 0) {
        pl_bus_msg_nack (msg, PLATEAU__V1__NACK__CODE__INVALID, reason, 0);
        return;
    }
    char err[256] = "";
    int rc = scrub_optout_add (self->inbox, self->audit, self->service, self->clock, &o, env->trace_id, err,
                               sizeof err);
    if (rc < 0) {
        pl_log_warn (self->log, env->trace_id, "opt-out not stored", "error", err);
        pl_bus_msg_nack (msg, PLATEAU__V1__NACK__CODE__UNAVAILABLE, "redis unavailable", 1000);
        return;
    }
    pl_bus_msg_ack (msg);
}

/* The DialChecks of a batch, judged together (one pipeline of opt-outs, one of consents). */
typedef struct {
    size_t n;
    size_t *at;                  /* message index of each check */
    scrub_dial_facts_t *facts;
    scrub_verdict_t *v;
    bool judged;
} s_checks_t;

static void
s_checks_fini (s_checks_t *c)
{
    for (size_t i = 0; c->facts && i < c->n; i++)
        scrub_dial_facts_fini (&c->facts[i]);
    free (c->at);
    free (c->facts);
    free (c->v);
}

/* Whether this check was answered already: a resend that arrives after its instant has gone by
 * is acknowledged, not refused (its answer left with the first). */
static bool
s_check_answered (scrub_door_t *self, const pl_envelope_t *env)
{
    const Plateau__V1__DialCheck *q = env->dial_check;
    const char *campaign = q && q->campaign && *q->campaign ? q->campaign
                         : q && q->lead && q->lead->campaign ? q->lead->campaign : "";
    if (!*campaign || strlen (campaign) > SCRUB_DIAL_NAME_MAX)
        return false;
    char tag[300];
    snprintf (tag, sizeof tag, "camp:%s", campaign);
    return pl_inbox_seen (self->inbox, tag, env->id) == 1;
}

/* Reads every DialCheck of msgs, nacking those that can never be answered; judges the rest. */
static void
s_checks_judge (scrub_door_t *self, pl_bus_msg_t **msgs, size_t n, int64_t now, s_checks_t *c, bool *done)
{
    memset (c, 0, sizeof *c);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += pl_bus_msg_envelope (msgs[i])->body_case == PLATEAU__V1__ENVELOPE__BODY_DIAL_CHECK;
    if (k == 0)
        return;
    c->at = calloc (k, sizeof *c->at);
    c->facts = calloc (k, sizeof *c->facts);
    c->v = calloc (k, sizeof *c->v);
    const scrub_context_t **ctxs = calloc (k, sizeof *ctxs);
    scrub_number_t *nums = calloc (k, sizeof *nums);
    int64_t *at = calloc (k, sizeof *at);
    bool mem = c->at && c->facts && c->v && ctxs && nums && at;
    for (size_t i = 0; i < n; i++) {
        const pl_envelope_t *env = pl_bus_msg_envelope (msgs[i]);
        if (env->body_case != PLATEAU__V1__ENVELOPE__BODY_DIAL_CHECK)
            continue;
        done[i] = true;
        if (!mem) {
            pl_bus_msg_nack (msgs[i], PLATEAU__V1__NACK__CODE__UNAVAILABLE, "out of memory", 1000);
            continue;
        }
        scrub_dial_facts_t *f = &c->facts[c->n];
        char reason[256] = "";
        int rc = scrub_dial_check_read (env->dial_check, now, pl_clock_speed (self->clock), f, reason, sizeof reason);
        if (rc == 0)
            rc = scrub_dial_check_campaign (self->campaigns, f, reason, sizeof reason);
        if (rc == PL_EINVAL && s_check_answered (self, env)) {
            scrub_dial_facts_fini (f);
            pl_bus_msg_ack (msgs[i]);
            continue;
        }
        if (rc != 0) {
            scrub_dial_facts_fini (f);
            pl_bus_msg_nack (msgs[i], rc == PL_EINVAL ? PLATEAU__V1__NACK__CODE__INVALID
                                                      : PLATEAU__V1__NACK__CODE__UNAVAILABLE,
                             reason, rc == PL_EINVAL ? 0 : 1000);
            continue;
        }
        ctxs[c->n] = &f->ctx;
        nums[c->n] = f->number;
        at[c->n] = f->at_ms;
        c->at[c->n++] = i;
    }
    if (c->n && scrub_verdict_judge_each (self->campaigns, self->catalog, self->redis, ctxs, nums, at, c->n,
                                          c->v) == 0)
        c->judged = true;
    else
        for (size_t j = 0; j < c->n; j++)
            pl_bus_msg_nack (msgs[c->at[j]], PLATEAU__V1__NACK__CODE__UNAVAILABLE, "redis unavailable", 1000);
    free (ctxs);
    free (nums);
    free (at);
}

/* The step that answers check j of c: the result to the dialer and its dial.* event. */
static pl_inbox_tx_t *
s_check_step (scrub_door_t *self, const pl_envelope_t *env, const s_checks_t *c, size_t j)
{
    const scrub_dial_facts_t *f = &c->facts[j];
    char tag[300];
    snprintf (tag, sizeof tag, "camp:%s", f->campaign);
    pl_inbox_tx_t *tx = pl_inbox_tx_new (tag, env->id);
    int rc = tx ? pl_inbox_tx_effect (tx, &s_answer, 0, NULL, 0, NULL, NULL) : PL_ENOMEM;
    if (rc == 0)
        rc = scrub_dial_answer (tx, self->dialer, self->audit, self->service, self->clock, env, f, &c->v[j]);
    if (rc != 0)
        pl_inbox_tx_destroy (&tx);
    char labels[64];
    snprintf (labels, sizeof labels, "check,%s", scrub_verdict_name (&c->v[j]));
    pl_metric_inc (self->verdicts, labels, 1);
    return tx;
}

void
scrub_door_handle (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    scrub_door_t *self = arg;
    pl_inbox_tx_t **txs = calloc (n, sizeof *txs);
    int *results = calloc (n, sizeof *results);
    const char **status = calloc (n, sizeof *status);
    size_t *which = calloc (n, sizeof *which);
    bool *done = calloc (n, sizeof *done);
    s_checks_t checks = { 0 };
    if (!txs || !results || !status || !which || !done) {
        for (size_t i = 0; i < n; i++)
            pl_bus_msg_nack (msgs[i], PLATEAU__V1__NACK__CODE__UNAVAILABLE, "out of memory", 1000);
        goto done;
    }
    int64_t now = pl_clock_now_ms (self->clock);
    /* Opt-outs first: a check of the same batch already sees them. */
    for (size_t i = 0; i < n; i++)
        if (pl_bus_msg_envelope (msgs[i])->body_case == PLATEAU__V1__ENVELOPE__BODY_OPT_OUT_REQUEST) {
            s_optout (self, msgs[i], now);
            done[i] = true;
        }
    s_checks_judge (self, msgs, n, now, &checks, done);
    size_t k = 0, next_check = 0;
    for (size_t i = 0; i < n; i++) {
        const pl_envelope_t *env = pl_bus_msg_envelope (msgs[i]);
        int code = PLATEAU__V1__NACK__CODE__INVALID;
        char reason[256] = "unexpected type";
        pl_inbox_tx_t *tx = NULL;
        status[k] = NULL;
        if (env->body_case == PLATEAU__V1__ENVELOPE__BODY_DIAL_CHECK) {
            /* Judged above; those refused or not judged are answered already. */
            if (!checks.judged || next_check >= checks.n || checks.at[next_check] != i)
                continue;
            tx = s_check_step (self, env, &checks, next_check++);
            code = PLATEAU__V1__NACK__CODE__UNAVAILABLE;
            snprintf (reason, sizeof reason, "out of memory");
        } else if (done[i])
            continue;
        else if (env->body_case == PLATEAU__V1__ENVELOPE__BODY_LEAD_SUBMITTED)
            tx = s_lead_step (self, env, now, &code, reason, sizeof reason, &status[k]);
        else if (env->body_case == PLATEAU__V1__ENVELOPE__BODY_SCRUB_REQUEST)
            tx = s_request_step (self, env, now, &code, reason, sizeof reason);
        if (!tx) {
            pl_bus_msg_nack (msgs[i], code, reason, code == PLATEAU__V1__NACK__CODE__UNAVAILABLE ? 1000 : 0);
            continue;
        }
        txs[k] = tx;
        which[k++] = i;
    }
    int rc = k ? pl_inbox_apply (self->inbox, txs, k, results) : 0;
    if (rc != 0)
        pl_log_warn (self->log, NULL, "verdicts not stored", "error", pl_inbox_errstr (self->inbox));
    for (size_t j = 0; j < k; j++) {
        if (rc == 0) {
            pl_bus_msg_ack (msgs[which[j]]);
            /* the step's reply: cleared, suppressed, or missing (the lead was erased meanwhile) */
            const char *reply = pl_inbox_tx_reply (txs[j], NULL);
            if (status[j] && results[j] == 1 && *reply)
                pl_metric_inc (self->leads, reply, 1);
        } else
            pl_bus_msg_nack (msgs[which[j]], PLATEAU__V1__NACK__CODE__UNAVAILABLE, "redis unavailable", 1000);
        pl_inbox_tx_destroy (&txs[j]);
    }
done:
    s_checks_fini (&checks);
    free (txs);
    free (results);
    free (status);
    free (which);
    free (done);
}
