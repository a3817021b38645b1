/*  test_scrub_dialcheck.c — the dialer's check at the instant of dialling, and its do-not-call
 *  requests, against plateau-scrub as a process: a real Redis, a real bus, scrub on a virtual
 *  clock standing on a Tuesday in Paris, real bus receivers standing in for the dialer (they
 *  keep every DialCheckResult) and the audit (it keeps every event).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "plateau/envelope.h"
#include "plateau/redis.h"
#include "test_scrub_fixture.h"

#define T_0930 1794904200000LL        /* Tuesday 2026-11-17 09:30 in Paris (08:30 UTC) */
#define T_1030 (T_0930 + 3600000LL)
#define T_DAY 86400000LL
#define T_NUMBER "+33612345678"
#define T_LEAD "01KLEADDIALCHECK0000000001"
#define T_MAX 64

typedef struct {
    sx_t *f;
    int64_t now;
    pl_clock_t *clock;
    pl_redis_t *redis;
    /* What scrub sent, packed: DialCheckResults to the dialer, events to the audit. */
    size_t nresults, nevents;
    uint8_t *results[T_MAX], *events[T_MAX];
    size_t result_len[T_MAX], event_len[T_MAX];
    int clients;
} t_state_t;

static const char *s_callee = "";     /* the lead's callee in the next checks */

static void
s_keep (uint8_t **store, size_t *lens, size_t *n, const ProtobufCMessage *m)
{
    if (*n >= T_MAX)
        return;
    size_t len = protobuf_c_message_get_packed_size (m);
    store[*n] = malloc (len ? len : 1);
    lens[*n] = protobuf_c_message_pack (m, store[*n]);
    (*n)++;
}

static void
s_dialer (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    t_state_t *t = arg;
    for (size_t i = 0; i < n; i++) {
        const pl_envelope_t *e = pl_bus_msg_envelope (msgs[i]);
        if (e->body_case == PLATEAU__V1__ENVELOPE__BODY_DIAL_CHECK_RESULT)
            s_keep (t->results, t->result_len, &t->nresults, &e->dial_check_result->base);
        pl_bus_msg_ack (msgs[i]);
    }
}

static void
s_audit (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    t_state_t *t = arg;
    for (size_t i = 0; i < n; i++) {
        const pl_envelope_t *e = pl_bus_msg_envelope (msgs[i]);
        if (e->body_case == PLATEAU__V1__ENVELOPE__BODY_AUDIT_EVENT)
            s_keep (t->events, t->event_len, &t->nevents, &e->audit_event->base);
        pl_bus_msg_ack (msgs[i]);
    }
}

static void
s_pump (t_state_t *t, int ms)
{
    int64_t end = pl_clock_mono_ms () + ms;
    do {
        pl_bus_server_process (t->f->dialer, 256);
        pl_bus_server_process (t->f->audit, 256);
        usleep (5000);
    } while (pl_clock_mono_ms () < end);
}

/* The i-th result kept; free with plateau__v1__dial_check_result__free_unpacked. */
static Plateau__V1__DialCheckResult *
s_result (t_state_t *t, size_t i)
{
    return plateau__v1__dial_check_result__unpack (NULL, t->result_len[i], t->results[i]);
}

/* The event of that type and id, or NULL (free with plateau__v1__audit_event__free_unpacked). */
static Plateau__V1__AuditEvent *
s_event (t_state_t *t, const char *type, const char *id)
{
    for (size_t i = 0; i < t->nevents; i++) {
        Plateau__V1__AuditEvent *ev = plateau__v1__audit_event__unpack (NULL, t->event_len[i], t->events[i]);
        if (ev && strcmp (ev->type, type) == 0 && (!id || strcmp (ev->event_id, id) == 0))
            return ev;
        plateau__v1__audit_event__free_unpacked (ev, NULL);
    }
    return NULL;
}

static size_t
s_count_events (t_state_t *t, const char *type)
{
    size_t k = 0;
    for (size_t i = 0; i < t->nevents; i++) {
        Plateau__V1__AuditEvent *ev = plateau__v1__audit_event__unpack (NULL, t->event_len[i], t->events[i]);
        k += ev && strcmp (ev->type, type) == 0;
        plateau__v1__audit_event__free_unpacked (ev, NULL);
    }
    return k;
}

/* A client of scrub's bus door as `identity`; each has its own outbox. */
static pl_bus_client_t *
s_client (t_state_t *t, const char *identity)
{
    char err[256] = "", owner[64];
    snprintf (owner, sizeof owner, "%s-test-%d", identity, t->clients++);
    pl_bus_client_t *c = pl_bus_client_new (t->redis, t->clock, owner, "scrub", t->f->scrub[0].bus,
                                            pl_test_bus_options (identity), err, sizeof err);
    if (!c)
        fprintf (stderr, "bus client: %s\n", err);
    return c;
}

/* Sends env and waits for its ack or nack; returns the client's dead letters (1 = refused). */
static uint64_t
s_send (t_state_t *t, pl_bus_client_t *c, pl_envelope_t *env)
{
    pl_envelope_t *envs[1] = { env };
    assert_int_equal (pl_bus_client_send (c, envs, 1), 0);
    for (int i = 0; i < 500 && pl_bus_client_inflight (c) > 0; i++) {
        pl_bus_client_process (c);
        pl_bus_client_tick (c);
        s_pump (t, 10);
    }
    assert_int_equal (pl_bus_client_inflight (c), 0);
    return pl_bus_client_count (c, "dead");
}

/* Waits until scrub sent `results` answers and `events` events (more would show after). */
static void
s_wait (t_state_t *t, size_t results, size_t events)
{
    for (int i = 0; i < 300 && (t->nresults < results || t->nevents < events); i++)
        s_pump (t, 20);
    s_pump (t, 300);
}

typedef struct {
    const char *tenant, *campaign;
    int64_t ago_ms;
} t_entry_t;

/* A check of the lead's number for `campaign` at at_ms, with the history given. Strings of the
 * result live in static storage until the next call. */
static void
s_check (pl_envelope_t *env, pl_envelope_ids_t *ids, t_state_t *t, const char *check_id, const char *campaign,
         const char *tenant, int64_t at_ms, const t_entry_t *hist, size_t nhist)
{
    static Plateau__V1__DialCheck q;
    static Plateau__V1__Lead lead;
    static Plateau__V1__PhoneNumber phone;
    static char *zones[] = { "Europe/Paris" };
    static Plateau__V1__ContactEntry entries[8], *ep[8];
    static char attempt[8][32];
    plateau__v1__dial_check__init (&q);
    plateau__v1__lead__init (&lead);
    plateau__v1__phone_number__init (&phone);
    phone.e164 = T_NUMBER;
    phone.type = PLATEAU__V1__PHONE_NUMBER__TYPE__MOBILE;
    phone.region = "FR";
    phone.n_zones = 1;
    phone.zones = zones;
    phone.zone_source = "prefix";
    lead.id = T_LEAD;
    lead.source = "crm-a";
    lead.campaign = (char *) campaign;
    lead.phone = &phone;
    lead.country = "FR";
    lead.postal_code = "75011";
    lead.callee = (char *) s_callee;
    q.check_id = (char *) check_id;
    q.lead_id = T_LEAD;
    q.campaign = (char *) campaign;
    q.number = T_NUMBER;
    q.kind = PLATEAU__V1__CALL_KIND__CANVASSING;
    q.at_ms = at_ms;
    q.lead = &lead;
    q.tenant = (char *) tenant;
    q.caller_id = "+33162000000";
    q.attempt = 1;
    for (size_t i = 0; i < nhist && i < 8; i++) {
        plateau__v1__contact_entry__init (&entries[i]);
        snprintf (attempt[i], sizeof attempt[i], "earlier-%zu", i);
        entries[i].attempt_id = attempt[i];
        entries[i].at_ms = at_ms - hist[i].ago_ms;
        entries[i].tenant = (char *) hist[i].tenant;
        entries[i].campaign = (char *) hist[i].campaign;
        ep[i] = &entries[i];
    }
    q.n_history = nhist;
    q.history = ep;
    pl_envelope_init (env, ids, "dialer", t->clock, NULL);
    env->body_case = PLATEAU__V1__ENVELOPE__BODY_DIAL_CHECK;
    env->dial_check = &q;
}

static bool
s_has_rule (const Plateau__V1__DialCheckResult *r, const char *rule)
{
    for (size_t i = 0; i < r->n_rules; i++)
        if (strcmp (r->rules[i]->rule_id, rule) == 0)
            return true;
    return false;
}

/* Checks once and returns the answer (NULL if none came). */
static Plateau__V1__DialCheckResult *
s_ask (t_state_t *t, const char *check_id, const char *campaign, const char *tenant, const t_entry_t *hist,
       size_t nhist)
{
    pl_bus_client_t *c = s_client (t, "dialer");
    assert_non_null (c);
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    s_check (&env, &ids, t, check_id, campaign, tenant, t->now, hist, nhist);
    size_t before = t->nresults;
    assert_int_equal (s_send (t, c, &env), 0);
    s_wait (t, before + 1, 0);
    pl_bus_client_destroy (&c);
    assert_int_equal (t->nresults, before + 1);
    Plateau__V1__DialCheckResult *r = s_result (t, before);
    assert_non_null (r);
    assert_string_equal (r->check_id, check_id);
    return r;
}

/* ---- tests ------------------------------------------------------------------------------- */

static void
test_a_consented_lead_at_0930_is_deferred_to_1000 (void **state)
{
    t_state_t *t = *state;
    Plateau__V1__DialCheckResult *r = s_ask (t, "dial-0930", "fr-spring", "acme", NULL, 0);
    assert_int_equal (r->decision, PLATEAU__V1__DECISION__DEFER);
    assert_int_equal (r->defer_until_ms, T_0930 + 30 * 60000);      /* 10:00 in Paris */
    assert_true (s_has_rule (r, "fr.hours"));
    assert_int_equal (r->allowed_until_ms, 0);
    assert_string_equal (r->binding_zone, "Europe/Paris");
    plateau__v1__dial_check_result__free_unpacked (r, NULL);
    s_wait (t, 0, 1);
    Plateau__V1__AuditEvent *ev = s_event (t, "dial.deferred", "dial-0930.check");
    assert_non_null (ev);
    assert_string_equal (ev->local_time, "2026-11-17T09:30:00.000+01:00");
    bool defer = false;
    for (size_t i = 0; i < ev->n_rules; i++)
        defer = defer || (strcmp (ev->rules[i]->rule_id, "fr.hours") == 0 && ev->rules[i]->defer_until_ms == T_0930 + 30 * 60000);
    assert_true (defer);
    plateau__v1__audit_event__free_unpacked (ev, NULL);
}

static void
test_at_1030_it_is_allowed_until_1300_and_audited_with_every_fact (void **state)
{
    t_state_t *t = *state;
    t_entry_t hist[] = { { "acme", "fr-spring", 2 * T_DAY }, { "acme", "fr-autumn", 40 * T_DAY },
                         { "globex", "other", 3 * 3600000LL } };
    Plateau__V1__DialCheckResult *r = s_ask (t, "dial-1030", "fr-spring", "acme", hist, 3);
    assert_int_equal (r->decision, PLATEAU__V1__DECISION__ALLOW);
    assert_int_equal (r->allowed_until_ms, T_0930 + 3 * 3600000LL + 30 * 60000);   /* 13:00 in Paris */
    assert_int_equal (r->evaluated_at_ms, T_1030);
    assert_string_equal (r->profile, "fr-cc");
    assert_string_equal (r->lead_id, T_LEAD);
    assert_string_equal (r->number, T_NUMBER);
    assert_string_equal (r->campaign, "fr-spring");
    assert_true (r->n_lists >= 1);
    plateau__v1__dial_check_result__free_unpacked (r, NULL);

    s_wait (t, 0, 1);
    Plateau__V1__AuditEvent *ev = s_event (t, "dial.allowed", "dial-1030.check");
    assert_non_null (ev);
    assert_string_equal (ev->number, T_NUMBER);
    assert_string_equal (ev->lead_id, T_LEAD);
    assert_string_equal (ev->campaign, "fr-spring");
    assert_string_equal (ev->tenant, "acme");
    assert_string_equal (ev->attempt_id, "dial-1030");
    assert_int_equal (ev->call_kind, PLATEAU__V1__CALL_KIND__CANVASSING);
    assert_string_equal (ev->callee, "consumer");
    assert_string_equal (ev->profile, "fr-cc");
    assert_int_equal (ev->n_zones, 1);
    assert_string_equal (ev->zones[0]->zone, "Europe/Paris");
    assert_string_equal (ev->zones[0]->source, "prefix");
    assert_string_equal (ev->zone, "Europe/Paris");
    assert_true (ev->n_regions >= 1);
    assert_int_equal (ev->n_region_sources, ev->n_regions);
    assert_string_equal (ev->regions[0], "FR");
    assert_int_equal (ev->evaluated_at_ms, T_1030);
    assert_string_equal (ev->local_time, "2026-11-17T10:30:00.000+01:00");
    assert_int_equal (ev->dial_mode, PLATEAU__V1__DIAL_MODE__AUTODIALED);
    assert_string_equal (ev->caller_id, "+33162000000");
    assert_int_equal (ev->decision, PLATEAU__V1__DECISION__ALLOW);
    bool hours = false, dnc = false;
    for (size_t i = 0; i < ev->n_rules; i++)
        hours = hours || strcmp (ev->rules[i]->rule_id, "fr.hours") == 0;
    for (size_t i = 0; i < ev->n_lists; i++)
        dnc = dnc || (strcmp (ev->lists[i]->name, "internal-dnc") == 0 && !ev->lists[i]->hit
                      && *ev->lists[i]->copy_date);
    assert_true (hours);
    assert_true (dnc);
    int64_t counts[5] = { -1, -1, -1, -1, -1 };
    static const char *const keys[] = { "history", "attempts_24h", "attempts_7d", "attempts_30d",
                                        "conversations_7d" };
    for (size_t i = 0; i < ev->n_counts; i++)
        for (size_t k = 0; k < 5; k++)
            if (strcmp (ev->counts[i]->key, keys[k]) == 0)
                counts[k] = ev->counts[i]->value;
    assert_int_equal (counts[0], 3);        /* every entry given */
    assert_int_equal (counts[1], 0);        /* globex's call 3 h ago is not acme's */
    assert_int_equal (counts[2], 1);
    assert_int_equal (counts[3], 1);
    assert_int_equal (counts[4], 0);
    /* The callee's number is in `number` only. */
    assert_null (strstr (ev->event_id, "612345678"));
    plateau__v1__audit_event__free_unpacked (ev, NULL);
}

static void
test_four_calls_of_the_tenant_in_30_days_stop_it (void **state)
{
    t_state_t *t = *state;
    t_entry_t hist[] = { { "acme", "fr-spring", 1 * T_DAY }, { "acme", "fr-autumn", 5 * T_DAY },
                         { "acme", "fr-spring", 12 * T_DAY }, { "acme", "fr-autumn", 25 * T_DAY } };
    Plateau__V1__DialCheckResult *r = s_ask (t, "dial-freq", "fr-spring", "acme", hist, 4);
    assert_int_not_equal (r->decision, PLATEAU__V1__DECISION__ALLOW);
    assert_true (s_has_rule (r, "fr.freq"));
    plateau__v1__dial_check_result__free_unpacked (r, NULL);
}

static void
test_four_calls_of_another_tenant_do_not_count (void **state)
{
    t_state_t *t = *state;
    t_entry_t hist[] = { { "globex", "g1", 1 * T_DAY }, { "globex", "g1", 5 * T_DAY },
                         { "globex", "g2", 12 * T_DAY }, { "globex", "g2", 25 * T_DAY } };
    Plateau__V1__DialCheckResult *r = s_ask (t, "dial-other", "fr-spring", "acme", hist, 4);
    assert_int_equal (r->decision, PLATEAU__V1__DECISION__ALLOW);
    plateau__v1__dial_check_result__free_unpacked (r, NULL);
}

static void
test_an_opt_out_request_denies_every_campaign_of_the_tenant (void **state)
{
    t_state_t *t = *state;
    pl_bus_client_t *c = s_client (t, "dialer");
    assert_non_null (c);
    Plateau__V1__OptOutRequest o = PLATEAU__V1__OPT_OUT_REQUEST__INIT;
    o.request_id = "disp-1";
    o.number = T_NUMBER;
    o.tenant = "acme";
    o.channel = "phone";
    o.requested_at_ms = t->now - 60000;
    o.lead_id = T_LEAD;
    o.attempt_id = "dial-earlier";
    o.campaign = "fr-spring";
    o.agent_id = "agent-7";
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    pl_envelope_init (&env, &ids, "dialer", t->clock, NULL);
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_OPT_OUT_REQUEST;
    env.opt_out_request = &o;
    assert_int_equal (s_send (t, c, &env), 0);
    /* The same message again, from another outbox: nothing twice. */
    pl_bus_client_t *c2 = s_client (t, "dialer");
    assert_int_equal (s_send (t, c2, &env), 0);
    s_wait (t, 0, 1);
    assert_int_equal (s_count_events (t, "optout.added"), 1);
    Plateau__V1__AuditEvent *ev = s_event (t, "optout.added", NULL);
    assert_non_null (ev);
    assert_string_equal (ev->tenant, "acme");
    assert_string_equal (ev->actor, "agent-7");
    assert_non_null (ev->opt_out);
    assert_string_equal (ev->opt_out->list, "internal-dnc");
    assert_string_equal (ev->opt_out->channel, "phone");
    assert_int_equal (ev->opt_out->requested_at_ms, t->now - 60000);
    plateau__v1__audit_event__free_unpacked (ev, NULL);
    pl_bus_client_destroy (&c);
    pl_bus_client_destroy (&c2);

    const char *campaigns[] = { "fr-spring", "fr-autumn" };
    for (int i = 0; i < 2; i++) {
        char id[32];
        snprintf (id, sizeof id, "dial-dnc-%d", i);
        Plateau__V1__DialCheckResult *r = s_ask (t, id, campaigns[i], "acme", NULL, 0);
        assert_int_equal (r->decision, PLATEAU__V1__DECISION__DENY);
        bool hit = false;
        for (size_t l = 0; l < r->n_lists; l++)
            hit = hit || (strcmp (r->lists[l]->name, "internal-dnc") == 0 && r->lists[l]->hit);
        assert_true (hit);
        plateau__v1__dial_check_result__free_unpacked (r, NULL);
    }
    /* Another tenant's campaign is not stopped by acme's list. */
    Plateau__V1__DialCheckResult *r = s_ask (t, "dial-globex", "fr-globex", "globex", NULL, 0);
    for (size_t l = 0; l < r->n_lists; l++)
        if (strcmp (r->lists[l]->name, "internal-dnc") == 0)
            assert_false (r->lists[l]->hit);
    plateau__v1__dial_check_result__free_unpacked (r, NULL);
}

static void
test_a_check_from_another_identity_is_refused (void **state)
{
    t_state_t *t = *state;
    pl_bus_client_t *c = s_client (t, "intake");
    assert_non_null (c);
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    s_check (&env, &ids, t, "dial-forged", "fr-spring", "acme", t->now, NULL, 0);
    assert_int_equal (s_send (t, c, &env), 1);
    s_wait (t, 1, 0);
    assert_int_equal (t->nresults, 0);
    pl_bus_client_destroy (&c);
}

static void
test_a_resent_check_is_answered_once (void **state)
{
    t_state_t *t = *state;
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    s_check (&env, &ids, t, "dial-twice", "fr-spring", "acme", t->now, NULL, 0);
    pl_bus_client_t *a = s_client (t, "dialer"), *b = s_client (t, "dialer");
    assert_int_equal (s_send (t, a, &env), 0);
    assert_int_equal (s_send (t, b, &env), 0);
    s_wait (t, 2, 2);
    assert_int_equal (t->nresults, 1);
    assert_int_equal (s_count_events (t, "dial.allowed"), 1);
    /* Two minutes later its instant has gone by: a resend is acknowledged, not refused. */
    pl_bus_client_t *ctl = s_client (t, "plateauctl");
    Plateau__V1__ClockControl cc = PLATEAU__V1__CLOCK_CONTROL__INIT;
    cc.advance_ms = 2 * 60000;
    pl_envelope_t move;
    pl_envelope_ids_t mids;
    pl_envelope_init (&move, &mids, "plateauctl", t->clock, NULL);
    move.body_case = PLATEAU__V1__ENVELOPE__BODY_CLOCK_CONTROL;
    move.clock_control = &cc;
    assert_int_equal (s_send (t, ctl, &move), 0);
    pl_clock_advance (t->clock, 2 * 60000);
    pl_bus_client_t *late = s_client (t, "dialer");
    assert_int_equal (s_send (t, late, &env), 0);
    pl_envelope_t fresh;
    pl_envelope_ids_t fids;
    s_check (&fresh, &fids, t, "dial-late", "fr-spring", "acme", t->now, NULL, 0);
    assert_int_equal (s_send (t, late, &fresh), 1);         /* a new check of that instant: too late */
    s_wait (t, 2, 2);
    assert_int_equal (t->nresults, 1);
    assert_int_equal (s_count_events (t, "dial.allowed"), 1);
    pl_bus_client_destroy (&ctl);
    pl_bus_client_destroy (&late);
    pl_bus_client_destroy (&a);
    pl_bus_client_destroy (&b);
}

static void
test_a_check_ten_minutes_ahead_is_refused (void **state)
{
    t_state_t *t = *state;
    pl_bus_client_t *c = s_client (t, "dialer");
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    s_check (&env, &ids, t, "dial-ahead", "fr-spring", "acme", t->now + 10 * 60000, NULL, 0);
    assert_int_equal (s_send (t, c, &env), 1);
    /* A tenant that is not the campaign's is refused too. */
    s_check (&env, &ids, t, "dial-tenant", "fr-spring", "globex", t->now, NULL, 0);
    assert_int_equal (s_send (t, c, &env), 2);
    s_wait (t, 1, 1);
    assert_int_equal (t->nresults, 0);
    assert_int_equal (t->nevents, 0);
    pl_bus_client_destroy (&c);
}

/* fr.b2b at the instant of dialling: a business, in a campaign for businesses, without consent
 * and at 09:30, is allowed, and the audit says which consumer rules did not apply and why; as a
 * consumer it is denied for want of consent; a callee type scrub does not know is refused. */
static void
test_a_business_callee_is_checked_outside_the_consumer_rules (void **state)
{
    t_state_t *t = *state;
    s_callee = "business";
    Plateau__V1__DialCheckResult *r = s_ask (t, "dial-b2b", "fr-b2b", "initech", NULL, 0);
    assert_int_equal (r->decision, PLATEAU__V1__DECISION__ALLOW);
    plateau__v1__dial_check_result__free_unpacked (r, NULL);
    s_wait (t, 0, 1);
    Plateau__V1__AuditEvent *ev = s_event (t, "dial.allowed", "dial-b2b.check");
    assert_non_null (ev);
    assert_string_equal (ev->callee, "business");
    bool consent = false, hours = false;
    for (size_t i = 0; i < ev->n_callee_lifts; i++) {
        assert_string_equal (ev->callee_lifts[i]->by_rule, "fr.b2b");
        consent |= strcmp (ev->callee_lifts[i]->rule_id, "fr.consent") == 0;
        hours |= strcmp (ev->callee_lifts[i]->rule_id, "fr.hours") == 0;
    }
    assert_true (consent && hours);
    bool said = false;
    for (size_t i = 0; i < ev->n_rules; i++)
        said |= strcmp (ev->rules[i]->rule_id, "fr.consent") == 0
                && strstr (ev->rules[i]->reason, "does not apply to a business callee (fr.b2b)");
    assert_true (said);
    plateau__v1__audit_event__free_unpacked (ev, NULL);

    s_callee = "consumer";
    r = s_ask (t, "dial-b2c", "fr-b2b", "initech", NULL, 0);
    assert_int_equal (r->decision, PLATEAU__V1__DECISION__DENY);
    assert_true (s_has_rule (r, "fr.consent"));
    plateau__v1__dial_check_result__free_unpacked (r, NULL);
    s_wait (t, 0, 2);
    ev = s_event (t, "dial.denied", "dial-b2c.check");
    assert_non_null (ev);
    assert_string_equal (ev->callee, "consumer");
    assert_int_equal (ev->n_callee_lifts, 0);
    plateau__v1__audit_event__free_unpacked (ev, NULL);

    s_callee = "robot";
    pl_bus_client_t *c = s_client (t, "dialer");
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    s_check (&env, &ids, t, "dial-robot", "fr-b2b", "initech", t->now, NULL, 0);
    assert_int_equal (s_send (t, c, &env), 1);
    pl_bus_client_destroy (&c);
    s_callee = "";
}

/* ---- fixture ----------------------------------------------------------------------------- */

static int
s_setup_at (void **state, int64_t now)
{
    t_state_t *t = calloc (1, sizeof *t);
    t->f = sx_new ();
    if (!t->f) {
        free (t);
        return -1;
    }
    t->now = now;
    pl_bus_server_set_handler (t->f->dialer, s_dialer, t, NULL);
    pl_bus_server_set_handler (t->f->audit, s_audit, t, NULL);
    sx_campaign (t->f, "fr-spring", "[campaign]\nprofile = fr-cc\ntenant = acme\ndialing = autodialed\n");
    sx_campaign (t->f, "fr-autumn", "[campaign]\nprofile = fr-cc\ntenant = acme\ndialing = autodialed\n");
    sx_campaign (t->f, "fr-globex", "[campaign]\nprofile = fr-cc\ntenant = globex\ndialing = autodialed\n");
    sx_campaign (t->f, "fr-b2b", "[campaign]\nprofile = fr-cc\ntenant = initech\ndialing = autodialed\n"
                                 "callees = consumer business\n");
    char clock[64];
    snprintf (clock, sizeof clock, "PLATEAU_CLOCK=virtual:%lld", (long long) now);
    const char *extra[] = { clock, NULL };
    if (sx_start_scrub (t->f, 0, extra) != 0) {
        sx_destroy (t->f);
        free (t);
        return -1;
    }
    t->clock = pl_clock_new_virtual (now);
    t->redis = pl_redis_new (pl_test_redis_url (t->f->srv), 1000);
    /* The person consented to acme's calls (France: opt-in since August 2026). */
    pl_test_http_resp_t r = { 0 };
    int st = sx_http (&t->f->scrub[0], "POST", "/v1/consents", SX_TOKEN, "application/json",
                      "{\"number\":\"" T_NUMBER "\",\"tenant\":\"acme\",\"source\":\"web-form:example.fr\","
                      "\"evidence_ref\":\"proof-1\",\"captured_at\":\"2026-10-01T10:00:00Z\"}", &r);
    pl_test_http_resp_free (&r);
    st = st == 201 ? sx_http (&t->f->scrub[0], "POST", "/v1/consents", SX_TOKEN, "application/json",
                              "{\"number\":\"" T_NUMBER "\",\"tenant\":\"globex\",\"source\":\"web-form:example.fr\","
                              "\"evidence_ref\":\"proof-2\",\"captured_at\":\"2026-10-01T10:00:00Z\"}", &r) : st;
    pl_test_http_resp_free (&r);
    *state = t;
    if (st != 201)
        return -1;
    /* The consents' own events are not what these tests read. */
    for (int i = 0; i < 300 && s_count_events (t, "consent.recorded") < 2; i++)
        s_pump (t, 20);
    s_pump (t, 100);
    for (size_t i = 0; i < t->nevents; i++)
        free (t->events[i]);
    t->nevents = 0;
    return 0;
}

static int
s_setup_0930 (void **state)
{
    return s_setup_at (state, T_0930);
}

static int
s_setup_1030 (void **state)
{
    return s_setup_at (state, T_1030);
}

static int
s_teardown (void **state)
{
    t_state_t *t = *state;
    if (!t)
        return 0;
    pl_redis_destroy (&t->redis);
    pl_clock_destroy (&t->clock);
    sx_destroy (t->f);
    for (size_t i = 0; i < t->nresults; i++)
        free (t->results[i]);
    for (size_t i = 0; i < t->nevents; i++)
        free (t->events[i]);
    free (t);
    return 0;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_a_consented_lead_at_0930_is_deferred_to_1000, s_setup_0930, s_teardown),
        cmocka_unit_test_setup_teardown (test_at_1030_it_is_allowed_until_1300_and_audited_with_every_fact,
                                         s_setup_1030, s_teardown),
        cmocka_unit_test_setup_teardown (test_four_calls_of_the_tenant_in_30_days_stop_it, s_setup_1030, s_teardown),
        cmocka_unit_test_setup_teardown (test_four_calls_of_another_tenant_do_not_count, s_setup_1030, s_teardown),
        cmocka_unit_test_setup_teardown (test_an_opt_out_request_denies_every_campaign_of_the_tenant, s_setup_1030,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_a_check_from_another_identity_is_refused, s_setup_1030, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_resent_check_is_answered_once, s_setup_1030, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_check_ten_minutes_ahead_is_refused, s_setup_1030, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_business_callee_is_checked_outside_the_consumer_rules, s_setup_0930,
                                         s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
