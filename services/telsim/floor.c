/*  floor.c — the simulated floor: an event queue on virtual time, calls and agents (floor.h). */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "floor.h"
#include "plateau/config.h"
#include "plateau/error.h"
#include "plateau/log.h"
#include "plateau/phone.h"
#include "plateau/rules_tz.h"

#define S_GREETING_WAIT_MS 2000      /* an agent within 2 s of the greeting, or abandon */
#define S_ID_MESSAGE_MS 8000         /* the identification message of an abandoned call */

typedef enum {
    EV_RING_END,       /* picked up, busy, failed, or rang out */
    EV_AMD_DONE,       /* AMD verdict */
    EV_ABANDON,        /* 2 s after the greeting: still no agent? */
    EV_ABANDON_END,    /* the identification message played: hang up */
    EV_TALK_END,
    EV_WRAP_END,
    EV_PAUSE,          /* an agent's pause is due */
    EV_PAUSE_END,
    EV_PAYMENT,        /* a debtor pays (or a payment bounces) */
} s_kind_t;

typedef struct {
    int64_t at;
    uint64_t seq;
    s_kind_t kind;
    size_t idx;          /* call slot or agent */
    uint64_t serial;     /* the call's serial: a slot reused later ignores old events */
} s_event_t;

typedef enum { C_RINGING, C_AMD, C_WAITING, C_BRIDGED, C_ABANDONING, C_WRAP } s_stage_t;

typedef struct {
    bool used;
    uint64_t serial;
    char *dial_id, *lead_id, *campaign, *number, *tenant, *debt, *trace;
    int kind;
    telsim_fate_t fate;
    char region[4];
    const pl_rules_tz_t *zone;
    s_stage_t stage;
    long agent;                       /* -1: none */
    int64_t placed_ms, answered_ms, greet_ms, bridged_ms;
} s_call_t;

/* A payment the floor's debtor will make, or the reversal of one. */
typedef struct {
    bool used;
    char *id, *account, *reverses, *trace;
    char currency[4];
    int64_t amount;
} s_payment_t;

typedef struct {
    char *id;
    char *campaign;
    int state;
    int64_t since_ms;
    int64_t counted_ms;               /* agent_ms counted up to here */
    bool pause_pending;
    telsim_rng_t rng;
} s_agent_t;

struct telsim_floor {
    telsim_floor_opts_t o;
    char *source;
    const pl_clock_t *clock;
    pl_log_t *log;
    telsim_sink_fn *sink;
    void *sink_arg;
    pl_phone_t *phone;
    pl_rules_tzdb_t *tzdb;
    s_event_t *ev;
    size_t nev, cev;
    uint64_t seq, serial;
    s_call_t *calls;
    size_t ncalls, ccalls, live;
    size_t *waiting;                  /* call slots greeted and waiting for an agent, oldest first */
    size_t nwaiting, cwaiting;
    s_agent_t *agents;
    size_t nagents;
    s_payment_t *pays;
    size_t npays, cpays;
    pl_metric_t *m_payments;
    pl_metric_t *m_placed, *m_calls, *m_abandons, *m_fp, *m_agents, *m_agent_ms, *m_pickups, *m_disp, *m_talk;
};

/* ---- names -------------------------------------------------------------------------------- */

const char *
telsim_result_str (int r)
{
    static const char *const names[] = { "unspecified", "answered", "busy", "no_answer", "voicemail",
                                         "abandoned", "failed", "invalid_number" };
    return r >= 0 && r < 8 ? names[r] : "unspecified";
}

const char *
telsim_agent_state_str (int s)
{
    static const char *const names[] = { "unspecified", "logged_out", "ready", "on_call", "wrap_up", "paused" };
    return s >= 0 && s < 6 ? names[s] : "unspecified";
}

static const char *
s_disposition_str (int c)
{
    static const char *const names[] = { "unspecified", "sale", "not_interested", "refused", "do_not_call",
                                         "callback", "promise_to_pay", "wrong_number", "dispute", "conversation" };
    return c >= 0 && c < 10 ? names[c] : "unspecified";
}

/* ---- the event queue: a binary min-heap on (at, seq) --------------------------------------- */

static bool
s_before (const s_event_t *a, const s_event_t *b)
{
    return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static int
s_schedule (telsim_floor_t *self, int64_t at, s_kind_t kind, size_t idx, uint64_t serial)
{
    if (self->nev == self->cev) {
        size_t c = self->cev ? self->cev * 2 : 256;
        s_event_t *e = realloc (self->ev, c * sizeof *e);
        if (!e)
            return PL_ENOMEM;
        self->ev = e;
        self->cev = c;
    }
    size_t i = self->nev++;
    self->ev[i] = (s_event_t) { at, self->seq++, kind, idx, serial };
    while (i > 0 && s_before (&self->ev[i], &self->ev[(i - 1) / 2])) {
        s_event_t t = self->ev[i];
        self->ev[i] = self->ev[(i - 1) / 2];
        self->ev[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
    return 0;
}

static s_event_t
s_pop (telsim_floor_t *self)
{
    s_event_t top = self->ev[0];
    self->ev[0] = self->ev[--self->nev];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < self->nev && s_before (&self->ev[l], &self->ev[m]))
            m = l;
        if (r < self->nev && s_before (&self->ev[r], &self->ev[m]))
            m = r;
        if (m == i)
            break;
        s_event_t t = self->ev[i];
        self->ev[i] = self->ev[m];
        self->ev[m] = t;
        i = m;
    }
    return top;
}

int64_t
telsim_floor_next_ms (const telsim_floor_t *self)
{
    return self->nev ? self->ev[0].at : INT64_MAX;
}

/* ---- messages ------------------------------------------------------------------------------ */

static void
s_send (telsim_floor_t *self, pl_envelope_t *env, const char *trace, const char *id)
{
    (void) trace;
    if (id)
        env->id = (char *) id;
    if (self->sink)
        self->sink (self->sink_arg, env);
}

static void
s_env (telsim_floor_t *self, pl_envelope_t *env, pl_envelope_ids_t *ids, const char *trace)
{
    pl_envelope_init (env, ids, self->source, self->clock, trace && *trace ? trace : NULL);
}

static void
s_progress (telsim_floor_t *self, s_call_t *c, int stage, int64_t at, const char *suffix)
{
    Plateau__V1__CallProgress p = PLATEAU__V1__CALL_PROGRESS__INIT;
    p.dial_id = c->dial_id;
    p.campaign = c->campaign;
    p.stage = stage;
    p.at_ms = at;
    p.agent_id = c->agent >= 0 ? self->agents[c->agent].id : (char *) "";
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    s_env (self, &env, &ids, c->trace);
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_CALL_PROGRESS;
    env.call_progress = &p;
    char id[PL_ENVELOPE_ID_MAX + 1];
    snprintf (id, sizeof id, "%s.%s", c->dial_id, suffix);
    s_send (self, &env, c->trace, id);
}

static void
s_agent_msg (telsim_floor_t *self, s_agent_t *a)
{
    Plateau__V1__AgentState s = PLATEAU__V1__AGENT_STATE__INIT;
    s.agent_id = a->id;
    s.state = a->state;
    char *campaigns[1] = { a->campaign };
    s.n_campaigns = 1;
    s.campaigns = campaigns;
    s.since_ms = a->since_ms;
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    s_env (self, &env, &ids, NULL);
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_AGENT_STATE;
    env.agent_state = &s;
    s_send (self, &env, NULL, NULL);
}

/* Counts an agent's time in its current state up to t. */
static void
s_count_time (telsim_floor_t *self, s_agent_t *a, int64_t t)
{
    if (t > a->counted_ms) {
        char labels[160];
        snprintf (labels, sizeof labels, "%s,%s", a->campaign, telsim_agent_state_str (a->state));
        pl_metric_inc (self->m_agent_ms, labels, (double) (t - a->counted_ms));
        a->counted_ms = t;
    }
}

static void
s_agent_set (telsim_floor_t *self, s_agent_t *a, int state, int64_t t)
{
    if (a->state == state)
        return;
    s_count_time (self, a, t);
    char labels[160];
    if (a->state) {
        snprintf (labels, sizeof labels, "%s,%s", a->campaign, telsim_agent_state_str (a->state));
        pl_metric_inc (self->m_agents, labels, -1);
    }
    snprintf (labels, sizeof labels, "%s,%s", a->campaign, telsim_agent_state_str (state));
    pl_metric_inc (self->m_agents, labels, 1);
    a->state = state;
    a->since_ms = t;
    s_agent_msg (self, a);
}

void
telsim_floor_snapshot (telsim_floor_t *self)
{
    for (size_t i = 0; i < self->nagents; i++)
        s_agent_msg (self, &self->agents[i]);
}

/* ---- zones and facts ----------------------------------------------------------------------- */

static const pl_rules_tz_t *
s_zone (telsim_floor_t *self, const char *e164)
{
    pl_phone_zones_t z;
    if (pl_phone_zones_for_number (e164, &z) < 1)
        return NULL;
    const pl_rules_tz_t *tz = pl_rules_tzdb_find (self->tzdb, z.zones[0]);
    if (!tz && pl_rules_tzdb_load (self->tzdb, z.zones[0], &tz) != 0) {
        pl_log_warn (self->log, NULL, "time zone not loaded: callee's hour read in UTC", "zone", z.zones[0],
                     "error", pl_rules_tzdb_errstr (self->tzdb));
        return NULL;
    }
    return tz;
}

typedef struct {
    telsim_facts_t f;
    char region[4];
    const pl_rules_tz_t *zone;
} s_facts_t;

static void
s_facts (telsim_floor_t *self, const Plateau__V1__CallRequest *req, int64_t now, s_facts_t *out)
{
    pl_phone_number_t n;
    memset (out, 0, sizeof *out);
    bool valid = self->phone && req->number && pl_phone_parse (self->phone, req->number, NULL, &n) == 0;
    out->f.dial_id = req->dial_id;
    out->f.valid = valid;
    out->f.line = valid ? n.type : PL_PHONE_FIXED_LINE;
    if (valid)
        snprintf (out->region, sizeof out->region, "%s", n.region);
    out->zone = valid ? s_zone (self, n.e164) : NULL;
    int64_t s = now / 1000;
    out->f.local_hour = out->zone ? (int) (((s + pl_rules_tz_offset (out->zone, s)) % 86400 + 86400) % 86400 / 3600)
                                  : (int) ((s % 86400 + 86400) % 86400 / 3600);
    out->f.ring_timeout_s = req->ring_timeout_s > 0 ? req->ring_timeout_s : 30;
    out->f.amd = req->amd;
    out->f.kind = req->kind;
}

void
telsim_floor_fate (telsim_floor_t *self, const Plateau__V1__CallRequest *req, int64_t now, telsim_fate_t *out)
{
    s_facts_t f;
    s_facts (self, req, now, &f);
    telsim_fate_opts_t fo = { 0.97, self->o.amd_false_positive, self->o.person_scale };
    telsim_fate_draw (self->o.seed, &f.f, &fo, out);
}

/* ---- calls --------------------------------------------------------------------------------- */

static void
s_call_free (telsim_floor_t *self, size_t i)
{
    s_call_t *c = &self->calls[i];
    free (c->dial_id);
    free (c->lead_id);
    free (c->campaign);
    free (c->number);
    free (c->tenant);
    free (c->debt);
    free (c->trace);
    c->used = false;
    c->dial_id = c->lead_id = c->campaign = c->number = c->tenant = c->debt = c->trace = NULL;
    self->live--;
}

static void
s_outcome (telsim_floor_t *self, size_t ci, int result, int64_t ended)
{
    s_call_t *c = &self->calls[ci];
    Plateau__V1__CallOutcome o = PLATEAU__V1__CALL_OUTCOME__INIT;
    o.dial_id = c->dial_id;
    o.lead_id = c->lead_id;
    o.campaign = c->campaign;
    o.number = c->number;
    o.tenant = c->tenant;
    o.result = result;
    o.started_at_ms = c->placed_ms;
    o.answered_at_ms = c->answered_ms;
    o.ended_at_ms = ended;
    o.agent_id = c->agent >= 0 && c->bridged_ms ? self->agents[c->agent].id : (char *) "";
    o.agent_connect_ms = c->bridged_ms && c->greet_ms ? (int32_t) (c->bridged_ms - c->greet_ms) : -1;
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    s_env (self, &env, &ids, c->trace);
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_CALL_OUTCOME;
    env.call_outcome = &o;
    char id[PL_ENVELOPE_ID_MAX + 1];
    snprintf (id, sizeof id, "%s.outcome", c->dial_id);
    s_send (self, &env, c->trace, id);
    pl_metric_inc (self->m_calls, telsim_result_str (result), 1);
}

static void s_agent_ready (telsim_floor_t *self, size_t ai, int64_t t);

/* The call ended before any bridge: a reserved agent is free again. */
static void
s_release (telsim_floor_t *self, size_t ci, int64_t t)
{
    s_call_t *c = &self->calls[ci];
    long a = c->agent;
    c->agent = -1;
    s_call_free (self, ci);
    if (a >= 0)
        s_agent_ready (self, (size_t) a, t);
}

static void
s_bridge (telsim_floor_t *self, size_t ci, size_t ai, int64_t t)
{
    s_call_t *c = &self->calls[ci];
    c->agent = (long) ai;
    c->bridged_ms = t;
    c->stage = C_BRIDGED;
    s_agent_set (self, &self->agents[ai], PLATEAU__V1__AGENT_STATE__STATE__ON_CALL, t);
    s_progress (self, c, PLATEAU__V1__CALL_PROGRESS__STAGE__BRIDGED, t, "bridged");
    s_schedule (self, t + c->fate.talk_ms, EV_TALK_END, ci, c->serial);
}

/* The longest-idle READY agent of campaign, or -1. */
static long
s_idle_agent (telsim_floor_t *self, const char *campaign)
{
    long best = -1;
    for (size_t i = 0; i < self->nagents; i++) {
        s_agent_t *a = &self->agents[i];
        if (a->state == PLATEAU__V1__AGENT_STATE__STATE__READY && strcmp (a->campaign, campaign) == 0
            && (best < 0 || a->since_ms < self->agents[best].since_ms))
            best = (long) i;
    }
    return best;
}

/* The callee hears the greeting: bridge now, or wait up to 2 s for an agent. */
static void
s_greet (telsim_floor_t *self, size_t ci, int64_t t)
{
    s_call_t *c = &self->calls[ci];
    c->greet_ms = t;
    s_progress (self, c, PLATEAU__V1__CALL_PROGRESS__STAGE__ANSWERED, t, "answered");
    long a = c->agent >= 0 ? c->agent : s_idle_agent (self, c->campaign);
    if (a >= 0) {
        s_bridge (self, ci, (size_t) a, t);
        return;
    }
    if (self->nwaiting == self->cwaiting) {
        size_t cap = self->cwaiting ? self->cwaiting * 2 : 64;
        size_t *w = realloc (self->waiting, cap * sizeof *w);
        if (w) {
            self->waiting = w;
            self->cwaiting = cap;
        }
    }
    if (self->nwaiting < self->cwaiting)
        self->waiting[self->nwaiting++] = ci;
    c->stage = C_WAITING;
    s_schedule (self, t + S_GREETING_WAIT_MS, EV_ABANDON, ci, c->serial);
}

/* An agent is free: a pause that came due, else the oldest call of its campaign waiting for
 * an agent, else READY. */
static void
s_agent_ready (telsim_floor_t *self, size_t ai, int64_t t)
{
    s_agent_t *a = &self->agents[ai];
    if (a->pause_pending) {
        a->pause_pending = false;
        s_agent_set (self, a, PLATEAU__V1__AGENT_STATE__STATE__PAUSED, t);
        s_schedule (self, t + self->o.pause_ms, EV_PAUSE_END, ai, 0);
        return;
    }
    for (size_t w = 0; w < self->nwaiting; w++) {
        size_t ci = self->waiting[w];
        if (strcmp (self->calls[ci].campaign, a->campaign) == 0) {
            memmove (&self->waiting[w], &self->waiting[w + 1], (self->nwaiting - w - 1) * sizeof *self->waiting);
            self->nwaiting--;
            s_bridge (self, ci, ai, t);
            return;
        }
    }
    s_agent_set (self, a, PLATEAU__V1__AGENT_STATE__STATE__READY, t);
}

/* ---- debtors ------------------------------------------------------------------------------- */

static void
s_payment_free (s_payment_t *p)
{
    free (p->id);
    free (p->account);
    free (p->reverses);
    free (p->trace);
    *p = (s_payment_t) { 0 };
}

/* Keeps a payment for EV_PAYMENT at `at`. reverses: the payment it takes back, or NULL. */
static int
s_payment_add (telsim_floor_t *self, const s_call_t *c, const char *id, const char *currency, int64_t amount,
               const char *reverses, int64_t at)
{
    size_t i = 0;
    while (i < self->npays && self->pays[i].used)
        i++;
    if (i == self->npays) {
        if (self->npays == self->cpays) {
            size_t cap = self->cpays ? self->cpays * 2 : 64;
            s_payment_t *p = realloc (self->pays, cap * sizeof *p);
            if (!p)
                return PL_ENOMEM;
            self->pays = p;
            self->cpays = cap;
        }
        self->npays++;
    }
    s_payment_t *p = &self->pays[i];
    *p = (s_payment_t) { .used = true, .amount = amount };
    snprintf (p->currency, sizeof p->currency, "%s", currency);
    p->id = strdup (id);
    p->account = strdup (c->debt);
    p->reverses = strdup (reverses ? reverses : "");
    p->trace = strdup (c->trace ? c->trace : "");
    if (!p->id || !p->account || !p->reverses || !p->trace) {
        s_payment_free (p);
        return PL_ENOMEM;
    }
    return s_schedule (self, at, EV_PAYMENT, i, 0);
}

/* The debtor of call c promised to pay at t: what they then pay, and when (fate.h). The
 * payment ids are the dial id's, so that a replayed run pays the same. */
static void
s_debtor_pays (telsim_floor_t *self, const s_call_t *c, const char *currency, int64_t t)
{
    char id[PL_ENVELOPE_ID_MAX + 1], first[PL_ENVELOPE_ID_MAX + 1] = "";
    int rc = 0;
    for (int i = 0; rc == 0 && i < c->fate.n_payments && i < 2; i++) {
        snprintf (id, sizeof id, "%s.pay%d", c->dial_id, i + 1);
        if (i == 0)
            snprintf (first, sizeof first, "%s", id);
        rc = s_payment_add (self, c, id, currency, c->fate.pay_minor[i], NULL, t + c->fate.pay_after_ms[i]);
    }
    if (rc == 0 && c->fate.n_payments > 0 && c->fate.bounce_after_ms > 0) {
        snprintf (id, sizeof id, "%s.bounce", c->dial_id);
        rc = s_payment_add (self, c, id, currency, c->fate.pay_minor[0], first,
                            t + c->fate.pay_after_ms[0] + c->fate.bounce_after_ms);
    }
    if (rc != 0)
        pl_log_error (self->log, c->trace, "a debtor's payments are not simulated", "dial_id", c->dial_id,
                      "error", "out of memory");
}

/* EV_PAYMENT: PaymentReceived to the promise service, as a payment processor's bridge would. */
static void
s_on_payment (telsim_floor_t *self, const s_event_t *e)
{
    if (e->idx >= self->npays || !self->pays[e->idx].used)
        return;
    s_payment_t *p = &self->pays[e->idx];
    Plateau__V1__PaymentReceived pr = PLATEAU__V1__PAYMENT_RECEIVED__INIT;
    Plateau__V1__Money money = PLATEAU__V1__MONEY__INIT;
    money.minor_units = p->amount;
    money.currency = p->currency;
    pr.payment_id = p->id;
    pr.account_ref = p->account;
    pr.amount = &money;
    pr.received_at_ms = e->at;
    pr.method = *p->reverses ? (char *) "bounce" : (char *) "card";
    pr.reference = (char *) "";
    pr.reverses = p->reverses;
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    s_env (self, &env, &ids, p->trace);
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_PAYMENT_RECEIVED;
    env.payment_received = &pr;
    s_send (self, &env, p->trace, p->id);
    pl_metric_inc (self->m_payments, *p->reverses ? "reversed" : "paid", 1);
    s_payment_free (p);
}

static void
s_disposition (telsim_floor_t *self, size_t ci, int64_t t)
{
    s_call_t *c = &self->calls[ci];
    Plateau__V1__Disposition d = PLATEAU__V1__DISPOSITION__INIT;
    Plateau__V1__Money money = PLATEAU__V1__MONEY__INIT;
    d.dial_id = c->dial_id;
    d.lead_id = c->lead_id;
    d.campaign = c->campaign;
    d.number = c->number;
    d.tenant = c->tenant;
    d.code = c->fate.disposition;
    d.agent_id = self->agents[c->agent].id;
    d.at_ms = t;
    d.note = "";
    if (d.code == PLATEAU__V1__DISPOSITION__CODE__CALLBACK) {
        /* The next day in the callee's zone, at 09:00 + 30 min × slot, local. */
        int64_t s = t / 1000, off = c->zone ? pl_rules_tz_offset (c->zone, s) : 0;
        int64_t day = (s + off) / 86400 + (s + off < 0 ? -1 : 0);
        int64_t local = (day + 1) * 86400 + 9 * 3600 + (int64_t) c->fate.callback_slot * 1800, utc = local;
        if (c->zone)
            pl_rules_tz_utc (c->zone, local, PL_RULES_TZ_FIRST, &utc);
        d.callback_at_ms = utc * 1000;
    }
    if (d.code == PLATEAU__V1__DISPOSITION__CODE__PROMISE_TO_PAY) {
        money.minor_units = c->fate.promise_minor;
        money.currency = strcmp (c->region, "US") == 0 || strcmp (c->region, "CA") == 0 ? "USD"
                         : strcmp (c->region, "GB") == 0                                 ? "GBP"
                                                                                         : "EUR";
        d.promise_amount = &money;
        d.promise_due_ms = t + (int64_t) c->fate.promise_days * 86400000;
        if (self->o.payments && *c->debt)
            s_debtor_pays (self, c, money.currency, t);
    }
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    s_env (self, &env, &ids, c->trace);
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_DISPOSITION;
    env.disposition = &d;
    char id[PL_ENVELOPE_ID_MAX + 1];
    snprintf (id, sizeof id, "%s.disposition", c->dial_id);
    s_send (self, &env, c->trace, id);
    pl_metric_inc (self->m_disp, s_disposition_str (d.code), 1);
}

static void
s_on_call_event (telsim_floor_t *self, const s_event_t *e)
{
    if (e->idx >= self->ncalls || !self->calls[e->idx].used || self->calls[e->idx].serial != e->serial)
        return;
    size_t ci = e->idx;
    s_call_t *c = &self->calls[ci];
    int64_t t = e->at;
    switch (e->kind) {
    case EV_RING_END:
        switch (c->fate.pickup) {
        case TELSIM_PICKUP_PERSON:
        case TELSIM_PICKUP_MACHINE:
            c->answered_ms = t;
            if (c->fate.amd_ms > 0) {
                c->stage = C_AMD;
                s_schedule (self, t + c->fate.amd_ms, EV_AMD_DONE, ci, c->serial);
            } else
                s_greet (self, ci, t);
            return;
        case TELSIM_PICKUP_BUSY:
            s_outcome (self, ci, PLATEAU__V1__CALL_OUTCOME__RESULT__BUSY, t);
            break;
        case TELSIM_PICKUP_NO_ANSWER:
            s_outcome (self, ci, PLATEAU__V1__CALL_OUTCOME__RESULT__NO_ANSWER, t);
            break;
        case TELSIM_PICKUP_INVALID:
            s_outcome (self, ci, PLATEAU__V1__CALL_OUTCOME__RESULT__INVALID_NUMBER, t);
            break;
        default:
            s_outcome (self, ci, PLATEAU__V1__CALL_OUTCOME__RESULT__FAILED, t);
            break;
        }
        s_release (self, ci, t);
        return;
    case EV_AMD_DONE:
        if (c->fate.amd_machine) {
            if (c->fate.amd_false_positive)
                pl_metric_inc (self->m_fp, NULL, 1);
            s_outcome (self, ci, PLATEAU__V1__CALL_OUTCOME__RESULT__VOICEMAIL, t);
            s_release (self, ci, t);
        } else
            s_greet (self, ci, t);
        return;
    case EV_ABANDON:
        if (c->stage != C_WAITING)
            return;
        for (size_t w = 0; w < self->nwaiting; w++)
            if (self->waiting[w] == ci) {
                memmove (&self->waiting[w], &self->waiting[w + 1], (self->nwaiting - w - 1) * sizeof *self->waiting);
                self->nwaiting--;
                break;
            }
        c->stage = C_ABANDONING;
        pl_metric_inc (self->m_abandons, NULL, 1);
        pl_log_info (self->log, c->trace, "call abandoned: no agent within 2 s of the greeting", "dial_id",
                     c->dial_id, "campaign", c->campaign);
        s_schedule (self, t + S_ID_MESSAGE_MS, EV_ABANDON_END, ci, c->serial);
        return;
    case EV_ABANDON_END:
        s_outcome (self, ci, PLATEAU__V1__CALL_OUTCOME__RESULT__ABANDONED, t);
        s_release (self, ci, t);
        return;
    case EV_TALK_END:
        s_outcome (self, ci, PLATEAU__V1__CALL_OUTCOME__RESULT__ANSWERED, t);
        /* Talk: bridge to hang-up. An agent reserved for a progressive call is on_call while
         * it rings, which is waiting, not talking. */
        pl_metric_inc (self->m_talk, self->agents[c->agent].campaign, (double) (t - c->bridged_ms));
        c->stage = C_WRAP;
        s_agent_set (self, &self->agents[c->agent], PLATEAU__V1__AGENT_STATE__STATE__WRAP_UP, t);
        s_schedule (self, t + c->fate.wrap_ms, EV_WRAP_END, ci, c->serial);
        return;
    case EV_WRAP_END:
        s_disposition (self, ci, t);
        s_release (self, ci, t);
        return;
    default:
        return;
    }
}

static void
s_schedule_pause (telsim_floor_t *self, size_t ai, int64_t t)
{
    if (self->o.pause_ms <= 0 || self->o.pause_every_ms <= 0)
        return;
    double gap = telsim_rng_exp (&self->agents[ai].rng, (double) self->o.pause_every_ms);
    s_schedule (self, t + 1 + (int64_t) gap, EV_PAUSE, ai, 0);
}

static void
s_on_agent_event (telsim_floor_t *self, const s_event_t *e)
{
    if (e->idx >= self->nagents)
        return;
    s_agent_t *a = &self->agents[e->idx];
    if (e->kind == EV_PAUSE) {
        if (a->state == PLATEAU__V1__AGENT_STATE__STATE__READY) {
            s_agent_set (self, a, PLATEAU__V1__AGENT_STATE__STATE__PAUSED, e->at);
            s_schedule (self, e->at + self->o.pause_ms, EV_PAUSE_END, e->idx, 0);
        } else
            a->pause_pending = true;          /* after this call's wrap-up */
    } else {
        s_agent_ready (self, e->idx, e->at);
        s_schedule_pause (self, e->idx, e->at);
    }
}

size_t
telsim_floor_run (telsim_floor_t *self, int64_t now)
{
    size_t n = 0;
    while (self->nev && self->ev[0].at <= now) {
        s_event_t e = s_pop (self);
        if (e.kind == EV_PAYMENT)
            s_on_payment (self, &e);
        else if (e.kind == EV_PAUSE || e.kind == EV_PAUSE_END)
            s_on_agent_event (self, &e);
        else
            s_on_call_event (self, &e);
        n++;
    }
    for (size_t i = 0; i < self->nagents; i++)
        s_count_time (self, &self->agents[i], now);
    return n;
}

static char *
s_dup (const char *s)
{
    return strdup (s ? s : "");
}

int
telsim_floor_place_fate (telsim_floor_t *self, const Plateau__V1__CallRequest *req, const char *trace,
                         int64_t now, const telsim_fate_t *fate)
{
    if (!req->dial_id || !*req->dial_id || strlen (req->dial_id) > TELSIM_DIAL_ID_MAX || !req->campaign
        || !*req->campaign || !req->number || !*req->number)
        return PL_EINVAL;
    s_facts_t f;
    s_facts (self, req, now, &f);
    size_t ci = 0;
    while (ci < self->ncalls && self->calls[ci].used)
        ci++;
    if (ci == self->ncalls) {
        if (self->ncalls == self->ccalls) {
            size_t cap = self->ccalls ? self->ccalls * 2 : 128;
            s_call_t *calls = realloc (self->calls, cap * sizeof *calls);
            if (!calls)
                return PL_ENOMEM;
            self->calls = calls;
            self->ccalls = cap;
        }
        self->ncalls++;
    }
    s_call_t *c = &self->calls[ci];
    *c = (s_call_t) { .used = true, .serial = ++self->serial, .kind = req->kind, .fate = *fate, .zone = f.zone,
                      .stage = C_RINGING, .agent = -1, .placed_ms = now };
    memcpy (c->region, f.region, sizeof c->region);
    c->dial_id = s_dup (req->dial_id);
    c->lead_id = s_dup (req->lead_id);
    c->campaign = s_dup (req->campaign);
    c->number = s_dup (req->number);
    c->tenant = s_dup (req->tenant);
    c->debt = s_dup (req->debt);
    c->trace = s_dup (trace);
    self->live++;
    pl_metric_inc (self->m_placed, NULL, 1);
    pl_metric_inc (self->m_pickups, telsim_pickup_str (fate->pickup), 1);
    if (req->agent_id && *req->agent_id) {
        size_t ai = 0;
        while (ai < self->nagents && strcmp (self->agents[ai].id, req->agent_id) != 0)
            ai++;
        if (ai < self->nagents && self->agents[ai].state == PLATEAU__V1__AGENT_STATE__STATE__READY) {
            c->agent = (long) ai;
            s_agent_set (self, &self->agents[ai], PLATEAU__V1__AGENT_STATE__STATE__ON_CALL, now);
        } else
            pl_log_warn (self->log, trace, "requested agent not READY: the call is bridged as a predictive one",
                         "dial_id", req->dial_id, "agent_id", req->agent_id,
                         "state", ai < self->nagents ? telsim_agent_state_str (self->agents[ai].state) : "unknown");
    }
    return s_schedule (self, now + fate->ring_ms, EV_RING_END, ci, c->serial);
}

int
telsim_floor_place (telsim_floor_t *self, const Plateau__V1__CallRequest *req, const char *trace, int64_t now)
{
    if (!req->dial_id || !req->number)
        return PL_EINVAL;
    telsim_fate_t fate;
    telsim_floor_fate (self, req, now, &fate);
    return telsim_floor_place_fate (self, req, trace, now, &fate);
}

/* ---- agents -------------------------------------------------------------------------------- */

/* Calls fn for each "campaign:count" of spec; stops at the first error. */
static int
s_parse_agents (const char *spec, char *err, size_t err_size,
                int (*fn) (void *arg, const char *campaign, long count), void *arg)
{
    if (!spec || !*spec) {
        snprintf (err, err_size, "campaign:count[,campaign:count…]");
        return PL_EINVAL;
    }
    char *copy = strdup (spec), *save = NULL;
    int rc = copy ? 0 : PL_ENOMEM;
    for (char *item = copy ? strtok_r (copy, ",", &save) : NULL; rc == 0 && item; item = strtok_r (NULL, ",", &save)) {
        while (isspace ((unsigned char) *item))
            item++;
        char *colon = strrchr (item, ':'), *end = NULL;
        long count = colon ? strtol (colon + 1, &end, 10) : 0;
        if (!colon || colon == item || colon - item > 60 || !end || *end || count < 1 || count > 9999) {
            snprintf (err, err_size, "campaign:count with a count of 1 to 9999 (not '%.40s')", item);
            rc = PL_EINVAL;
            break;
        }
        *colon = '\0';
        for (const char *p = item; *p; p++)
            if (!isalnum ((unsigned char) *p) && *p != '-' && *p != '_' && *p != '.') {
                snprintf (err, err_size, "campaign names of letters, digits, '-', '_' and '.' (not '%.40s')", item);
                rc = PL_EINVAL;
                break;
            }
        if (rc == 0 && fn)
            rc = fn (arg, item, count);
    }
    free (copy);
    return rc;
}

int
telsim_floor_agents_check (const char *spec, char *err, size_t err_size)
{
    return s_parse_agents (spec, err, err_size, NULL, NULL);
}

typedef struct {
    telsim_floor_t *self;
    int64_t now;
} s_add_t;

static int
s_add_campaign (void *arg, const char *campaign, long count)
{
    s_add_t *x = arg;
    telsim_floor_t *self = x->self;
    s_agent_t *agents = realloc (self->agents, (self->nagents + (size_t) count) * sizeof *agents);
    if (!agents)
        return PL_ENOMEM;
    self->agents = agents;
    for (long k = 1; k <= count; k++) {
        char id[96];
        snprintf (id, sizeof id, "%s-a%03ld", campaign, k);
        s_agent_t *a = &self->agents[self->nagents];
        *a = (s_agent_t) { .id = strdup (id), .campaign = strdup (campaign), .counted_ms = x->now };
        if (!a->id || !a->campaign) {
            free (a->id);
            free (a->campaign);
            return PL_ENOMEM;
        }
        telsim_rng_seed (&a->rng, self->o.seed, id);
        size_t ai = self->nagents++;
        s_agent_set (self, a, PLATEAU__V1__AGENT_STATE__STATE__READY, x->now);
        s_schedule_pause (self, ai, x->now);
    }
    return 0;
}

int
telsim_floor_add_agents (telsim_floor_t *self, const char *spec, int64_t now)
{
    char err[160];
    if (s_parse_agents (spec, err, sizeof err, NULL, NULL) != 0)
        return PL_EINVAL;
    s_add_t x = { self, now };
    return s_parse_agents (spec, err, sizeof err, s_add_campaign, &x);
}

int
telsim_floor_agent_state (const telsim_floor_t *self, const char *agent_id, int64_t *since_ms)
{
    for (size_t i = 0; i < self->nagents; i++)
        if (strcmp (self->agents[i].id, agent_id) == 0) {
            if (since_ms)
                *since_ms = self->agents[i].since_ms;
            return self->agents[i].state;
        }
    return 0;
}

size_t telsim_floor_agents (const telsim_floor_t *self) { return self->nagents; }
size_t telsim_floor_calls (const telsim_floor_t *self) { return self->live; }

/* One duration, read by the kit's parser (a config reading text under any name). */
static const char *
s_text (const char *name, void *arg)
{
    (void) name;
    return arg;
}

static int64_t
s_duration (const char *text)
{
    pl_config_t *c = pl_config_new_with (s_text, (void *) text);
    int64_t ms = c ? pl_config_duration_ms (c, "PLATEAU_TELSIM_PAUSE_RATE", -1) : -1;
    if (!c || pl_config_ok (c) != 0)
        ms = -1;
    pl_config_destroy (&c);
    return ms;
}

int
telsim_pause_rate_parse (const char *text, int64_t *pause_ms, int64_t *every_ms)
{
    *pause_ms = *every_ms = 0;
    if (!text || strcmp (text, "0") == 0)
        return 0;
    const char *slash = strchr (text, '/');
    char a[32], b[32];
    if (!slash || slash - text >= (ptrdiff_t) sizeof a || strlen (slash + 1) >= sizeof b)
        return PL_EINVAL;
    memcpy (a, text, (size_t) (slash - text));
    a[slash - text] = '\0';
    snprintf (b, sizeof b, "%s", slash + 1);
    int64_t len = s_duration (a), every = s_duration (b);
    if (len <= 0 || every <= 0)
        return PL_EINVAL;
    *pause_ms = len;
    *every_ms = every;
    return 0;
}

/* ---- life ---------------------------------------------------------------------------------- */

telsim_floor_t *
telsim_floor_new (const telsim_floor_opts_t *o, const pl_clock_t *clock, pl_metrics_t *metrics, pl_log_t *log,
                  telsim_sink_fn *sink, void *sink_arg)
{
    telsim_floor_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->o = *o;
    self->source = strdup (o->source ? o->source : "telsim");
    self->o.source = self->source;
    self->o.zoneinfo_dir = NULL;
    self->clock = clock;
    self->log = log;
    self->sink = sink;
    self->sink_arg = sink_arg;
    self->phone = pl_phone_new ();
    self->tzdb = pl_rules_tzdb_new (o->zoneinfo_dir);
    if (!self->source || !self->phone || !self->tzdb) {
        telsim_floor_destroy (&self);
        return NULL;
    }
    if (metrics) {
        self->m_placed = pl_metrics_counter (metrics, "plateau_telsim_calls_placed_total", "Calls placed", NULL);
        self->m_calls = pl_metrics_counter (metrics, "plateau_telsim_calls_total",
                                            "Calls ended, by CallOutcome result", "result");
        self->m_abandons = pl_metrics_counter (metrics, "plateau_telsim_abandons_total",
                                               "Calls answered by a person and not bridged within 2 s", NULL);
        self->m_fp = pl_metrics_counter (metrics, "plateau_telsim_amd_false_positives_total",
                                         "People answering that AMD classified as machines (ground truth)", NULL);
        self->m_pickups = pl_metrics_counter (metrics, "plateau_telsim_pickups_total",
                                              "Calls placed, by who really picked up (ground truth)", "pickup");
        self->m_disp = pl_metrics_counter (metrics, "plateau_telsim_dispositions_total", "Dispositions, by code", "code");
        self->m_agents = pl_metrics_gauge (metrics, "plateau_telsim_agents", "Agents, by campaign and state",
                                           "campaign,state");
        self->m_agent_ms = pl_metrics_counter (metrics, "plateau_telsim_agent_ms_total",
                                               "Agents' virtual time in each state, in milliseconds", "campaign,state");
        self->m_talk = pl_metrics_counter (metrics, "plateau_telsim_talk_ms_total",
                                           "Agents' virtual time bridged to a callee (talking), in milliseconds",
                                           "campaign");
        self->m_payments = pl_metrics_counter (metrics, "plateau_telsim_payments_total",
                                               "Debtors' payments sent to the promise service, and reversals",
                                               "kind");
    }
    return self;
}

void
telsim_floor_destroy (telsim_floor_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    telsim_floor_t *self = *self_p;
    for (size_t i = 0; i < self->ncalls; i++)
        if (self->calls[i].used)
            s_call_free (self, i);
    for (size_t i = 0; i < self->nagents; i++) {
        free (self->agents[i].id);
        free (self->agents[i].campaign);
    }
    for (size_t i = 0; i < self->npays; i++)
        if (self->pays[i].used)
            s_payment_free (&self->pays[i]);
    free (self->pays);
    free (self->agents);
    free (self->calls);
    free (self->waiting);
    free (self->ev);
    pl_phone_destroy (&self->phone);
    pl_rules_tzdb_destroy (&self->tzdb);
    free (self->source);
    free (self);
    *self_p = NULL;
}
