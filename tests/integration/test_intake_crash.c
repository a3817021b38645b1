/*  test_intake_crash.c — plateau-intake killed again and again while it stores bus leads: every
 *  lead is stored once, reaches scrub once (under one message id), and is audited once.
 *
 *  A CRM stand-in sends N native leads over the bus; the intake stores each with its LeadSubmitted
 *  and lead.accepted in one atomic step (the kit's inbox with its seen marker, and the
 *  transactional outbox), and the scrub and audit stand-ins count what they receive. The intake
 *  is SIGKILLed at random moments under that load, many times: before a step (the message is
 *  redelivered and stored then), inside it (Redis runs the whole script or none of it; the sender
 *  sends again and the seen marker answers with the first lead id), and after it (the outbox is
 *  read again from the start by the restarted replica, and delivered). Transport stays
 *  at-least-once — a message may reach scrub twice under its one id, which scrub's own inbox
 *  absorbs — but no lead is stored twice, none is lost, and no second message id is ever made
 *  for the same lead. The leads carry no CRM id and the number dedupe window is off, so that the
 *  seen marker is the only thing that can keep a redelivered message from making a second lead.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/wait.h>
#include "plateau/envelope.h"
#include "plateau/outbox.h"
#include "test_intake_fixture.h"

enum { N = 3000, KILLS = 12 };

typedef struct {
    fx_t *f;
    /* per lead (by its number +3361234<i>): the LeadSubmitted id first seen, and how often */
    char submitted_id[N][64];
    int submitted[N];
    char accepted_id[N][64];
    int accepted[N];
    int other_ids;                 /* a second, different message id for the same lead */
    size_t deliveries;
} crash_t;

static int
s_index (const char *e164)
{
    if (!e164 || strncmp (e164, "+3361234", 8) != 0)
        return -1;
    int i = atoi (e164 + 8);
    return i >= 0 && i < N ? i : -1;
}

static void
s_scrub (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    crash_t *c = arg;
    for (size_t k = 0; k < n; k++) {
        const pl_envelope_t *e = pl_bus_msg_envelope (msgs[k]);
        if (e->lead_submitted && e->lead_submitted->lead) {
            const Plateau__V1__PhoneNumber *ph = e->lead_submitted->lead->phone;
            int i = s_index (ph ? ph->e164 : NULL);
            if (i >= 0) {
                if (c->submitted[i]++ == 0)
                    snprintf (c->submitted_id[i], 64, "%s", e->id);
                else if (strcmp (c->submitted_id[i], e->id) != 0)
                    c->other_ids++;
            }
            c->deliveries++;
        }
        pl_bus_msg_ack (msgs[k]);
    }
}

static void
s_audit (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    crash_t *c = arg;
    for (size_t k = 0; k < n; k++) {
        const pl_envelope_t *e = pl_bus_msg_envelope (msgs[k]);
        const Plateau__V1__AuditEvent *a = e->audit_event;
        if (a && strcmp (a->type, "lead.accepted") == 0) {
            int i = s_index (a->number);
            if (i >= 0) {
                if (c->accepted[i]++ == 0)
                    snprintf (c->accepted_id[i], 64, "%s", a->event_id);
                else if (strcmp (c->accepted_id[i], a->event_id) != 0)
                    c->other_ids++;
            }
        }
        pl_bus_msg_ack (msgs[k]);
    }
}

/* Sends lead i as a native Lead envelope. */
static int
s_send (pl_bus_client_t *sender, int i)
{
    pl_envelope_t env, *p[1] = { &env };
    pl_envelope_ids_t ids;
    Plateau__V1__Lead lead;
    Plateau__V1__PhoneNumber ph;
    char raw[32];
    snprintf (raw, sizeof raw, "+3361234%04d", i);
    pl_envelope_init (&env, &ids, "crm-bus", NULL, NULL);
    plateau__v1__lead__init (&lead);
    plateau__v1__phone_number__init (&ph);
    ph.raw = raw;
    lead.phone = &ph;
    lead.campaign = "crash";
    lead.country = "FR";
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_LEAD;
    env.lead = &lead;
    return pl_bus_client_send (sender, p, 1);
}

static void
s_pump (crash_t *c, pl_bus_client_t *sender, int ms)
{
    int64_t end = pl_clock_mono_ms () + ms;
    do {
        fx_pump (c->f, 5);
        pl_bus_client_process (sender);
        pl_bus_client_tick (sender);
    } while (pl_clock_mono_ms () < end);
}

static long long
s_count_keys (fx_t *f, const char *pattern)
{
    pl_reply_t *k = pl_redis_command (f->redis, "KEYS %s", pattern);     /* every master's */
    long long n = k && pl_reply_type (k) == PL_REPLY_ARRAY ? (long long) pl_reply_len (k) : -1;
    pl_reply_free (&k);
    return n;
}

/* How many lead → campaign index entries lead to a stored lead. */
static long long
s_indexed_stored (fx_t *f)
{
    pl_reply_t *k = pl_redis_command (f->redis, "KEYS pl:{lead:*}:campaign");
    long long n = 0;
    for (size_t i = 0; k && i < pl_reply_len (k); i++) {
        const char *key = pl_reply_str (pl_reply_element (k, i), NULL);
        const char *open = strchr (key, '{'), *close = strchr (key, '}');
        pl_reply_t *c = pl_redis_command (f->redis, "GET %s", key);
        const char *camp = c ? pl_reply_str (c, NULL) : NULL;
        char lead[300];
        if (camp && open && close && snprintf (lead, sizeof lead, "pl:{camp:%s}:lead:%.*s", camp,
                                               (int) (close - open - 6), open + 6) < (int) sizeof lead)
            n += pl_test_redis_int (f->srv, "EXISTS %s", lead) == 1;
        pl_reply_free (&c);
    }
    pl_reply_free (&k);
    return n;
}

static void
test_killed_intake_stores_delivers_and_audits_each_lead_once (void **state)
{
    fx_t *f = *state;
    crash_t *c = calloc (1, sizeof *c);
    c->f = f;
    pl_bus_server_set_handler (f->scrub, s_scrub, c, NULL);
    pl_bus_server_set_handler (f->audit, s_audit, c, NULL);
    /* Besides the kills from outside, the kit's failpoints kill it at the exact moments that
     * matter: a step built and not sent, sent and half read, applied and not acknowledged. */
    const char *env[] = { "PLATEAU_INTAKE_DEDUPE_WINDOW=0",
                          "PLATEAU_FAILPOINTS=inbox.queued=50,inbox.reading=50,inbox.applied=50", NULL };
    assert_true (fx_start (f, env) > 0);
    char err[256];
    pl_redis_t *sr = pl_redis_new (pl_test_redis_url (f->srv), 1000);
    pl_bus_client_t *sender = pl_bus_client_new (sr, NULL, "crm-bus", "intake", f->bus, pl_test_bus_options ("crm"), err,
                                                      sizeof err);
    assert_non_null (sender);
    pl_bus_client_set_ack_timeout (sender, 300);
    pl_bus_client_set_window (sender, 50);         /* small batches: many steps, many chances to die */

    /* Every lead is owed at once; the intake dies at random moments while it works through them
     * (steps in flight in its pipeline, replies unread, acks unsent, outboxes half delivered). */
    for (int i = 0; i < N; i++)
        assert_int_equal (s_send (sender, i), 0);
    srand (20261204);
    int kills = 0;
    size_t before_last = 0;
    while (kills < KILLS) {
        s_pump (c, sender, 5 + rand () % 60);
        kill (f->pid, SIGKILL);
        pl_test_stop (f->pid, SIGKILL, 2000);
        kills++;
        before_last = c->deliveries;
        assert_true (fx_start (f, env) > 0);
    }
    print_message ("%zu LeadSubmitted delivered before the last kill\n", before_last);
    /* Then it runs on, dying at its failpoints and started again, until everything is through. */
    /* Then it runs until the sender's outbox and both of its own are empty. */
    pl_outbox_t *scrub_ob = pl_outbox_new (f->redis, "intake-test", "scrub");
    pl_outbox_t *audit_ob = pl_outbox_new (f->redis, "intake-test", "audit");
    int64_t end = pl_clock_mono_ms () + 60000;
    int restarts = 0;
    while (pl_clock_mono_ms () < end
           && (pl_bus_client_inflight (sender) > 0 || pl_outbox_size (scrub_ob) != 0 || pl_outbox_size (audit_ob) != 0)) {
        s_pump (c, sender, 100);
        if (waitpid (f->pid, NULL, WNOHANG) == f->pid) {       /* died at a failpoint */
            restarts++;
            assert_true (fx_start (f, env) > 0);
        }
    }
    /* The last stretch without failpoints, so that the run ends. */
    if (pl_bus_client_inflight (sender) > 0 || pl_outbox_size (scrub_ob) != 0 || pl_outbox_size (audit_ob) != 0) {
        pl_test_stop (f->pid, SIGKILL, 2000);
        assert_true (fx_start (f, (const char *const[]) { "PLATEAU_INTAKE_DEDUPE_WINDOW=0", NULL }) > 0);
        end = pl_clock_mono_ms () + 30000;
        while (pl_clock_mono_ms () < end
               && (pl_bus_client_inflight (sender) > 0 || pl_outbox_size (scrub_ob) != 0 || pl_outbox_size (audit_ob) != 0))
            s_pump (c, sender, 100);
    }
    print_message ("%d restarts after dying at a failpoint\n", restarts);
    s_pump (c, sender, 300);
    assert_int_equal (pl_bus_client_inflight (sender), 0);
    assert_int_equal (pl_outbox_size (scrub_ob), 0);
    assert_int_equal (pl_outbox_size (audit_ob), 0);

    int missing = 0, accepted_missing = 0;
    for (int i = 0; i < N; i++) {
        missing += c->submitted[i] == 0;
        accepted_missing += c->accepted[i] == 0;
    }
    print_message ("%d kills, %zu LeadSubmitted deliveries for %d leads\n", kills, c->deliveries, N);
    assert_int_equal (missing, 0);                 /* none lost on the way to scrub */
    assert_int_equal (accepted_missing, 0);        /* every lead audited */
    assert_int_equal (c->other_ids, 0);            /* no lead sent under two ids */
    /* Stored once each: N leads. An attempt killed after writing its id → campaign index and
     * before its step leaves an index to a lead that does not exist (an id nobody was given:
     * GET answers 404); exactly N index entries lead to a stored lead. */
    print_message ("leads %lld num %lld seen %lld\n", s_count_keys (f, "pl:{camp:crash}:lead:*"), s_count_keys (f, "pl:{camp:crash}:num:*"), s_count_keys (f, "pl:{camp:crash}:seen:*"));
    assert_int_equal (s_count_keys (f, "pl:{camp:crash}:lead:*"), N);
    long long indexed = s_indexed_stored (f);
    print_message ("index entries leading to a stored lead: %lld\n", indexed);
    assert_int_equal (indexed, N);

    pl_outbox_destroy (&scrub_ob);
    pl_outbox_destroy (&audit_ob);
    pl_bus_client_destroy (&sender);
    pl_redis_destroy (&sr);
    free (c);
}

static int setup (void **state) { *state = fx_new (NULL); return *state ? 0 : -1; }
static int teardown (void **state) { fx_destroy (*state); return 0; }

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_killed_intake_stores_delivers_and_audits_each_lead_once, setup, teardown),
    };
    return cmocka_run_group_tests_name ("intake_crash", tests, NULL, NULL);
}
