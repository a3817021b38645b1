/*  test_scrub_dial.c — what scrub reads of the dialer's DialCheck and OptOutRequest before it
 *  judges or records anything (services/scrub/dial.c), without Redis or a bus.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dial.h"
#include "plateau/error.h"

#define NOW 1794904200000LL

typedef struct {
    Plateau__V1__DialCheck q;
    Plateau__V1__Lead lead;
    Plateau__V1__PhoneNumber phone, alt;
    Plateau__V1__PhoneNumber *alts[1];
    Plateau__V1__ContactEntry *hist[SCRUB_DIAL_MAX_HISTORY + 1];
    Plateau__V1__ContactEntry entries[SCRUB_DIAL_MAX_HISTORY + 1];
} check_t;

/* A valid check of the lead's second number, with n history entries. */
static void
s_check (check_t *c, size_t n)
{
    memset (c, 0, sizeof *c);
    plateau__v1__dial_check__init (&c->q);
    plateau__v1__lead__init (&c->lead);
    plateau__v1__phone_number__init (&c->phone);
    plateau__v1__phone_number__init (&c->alt);
    c->phone.e164 = "+33612345678";
    c->alt.e164 = "+33198765432";
    c->alt.region = "FR";
    c->alts[0] = &c->alt;
    c->lead.id = "01KLEAD";
    c->lead.campaign = "fr-spring";
    c->lead.phone = &c->phone;
    c->lead.n_alt_phones = 1;
    c->lead.alt_phones = c->alts;
    c->q.check_id = "dial-1";
    c->q.lead_id = "01KLEAD";
    c->q.campaign = "fr-spring";
    c->q.number = "+33198765432";
    c->q.at_ms = NOW;
    c->q.lead = &c->lead;
    c->q.tenant = "acme";
    for (size_t i = 0; i < n; i++) {
        plateau__v1__contact_entry__init (&c->entries[i]);
        c->entries[i].at_ms = NOW - (int64_t) i * 3600000;
        c->entries[i].tenant = i % 2 ? "globex" : "acme";
        c->entries[i].campaign = "fr-spring";
        c->entries[i].flags = (uint32_t) (i % 32) | 64;       /* 64: no such flag */
        c->hist[i] = &c->entries[i];
    }
    c->q.n_history = n;
    c->q.history = c->hist;
}

static int
s_read (check_t *c, char *reason)
{
    scrub_dial_facts_t f;
    int rc = scrub_dial_check_read (&c->q, NOW, 1, &f, reason, 256);
    scrub_dial_facts_fini (&f);
    return rc;
}

static void
test_a_check_of_one_of_the_leads_numbers_is_read_with_its_history (void **state)
{
    (void) state;
    static check_t c;
    s_check (&c, 40);
    scrub_dial_facts_t f;
    char reason[256] = "";
    assert_int_equal (scrub_dial_check_read (&c.q, NOW, 1, &f, reason, sizeof reason), 0);
    assert_string_equal (f.number.e164, "+33198765432");
    assert_string_equal (f.number.region, "FR");
    assert_int_equal (f.n_calls, 40);
    assert_ptr_equal (f.ctx.calls, f.calls);
    for (size_t i = 0; i < 40; i++) {
        assert_int_equal (f.calls[i].at_ms, c.entries[i].at_ms);
        assert_int_equal (f.calls[i].flags, i % 32);          /* one to one; unknown bits dropped */
        assert_int_equal (f.calls[i].tenant, scrub_id_of (c.entries[i].tenant));
        assert_int_equal (f.calls[i].campaign, scrub_id_of ("fr-spring"));
    }
    assert_int_equal (f.ctx.dial, PL_RULES_DIAL_SET | PL_RULES_DIAL_AUTODIALED);
    assert_int_equal (f.mode, PLATEAU__V1__DIAL_MODE__AUTODIALED);
    scrub_dial_facts_fini (&f);
}

static void
test_a_manual_dial_is_judged_as_not_autodialed (void **state)
{
    (void) state;
    static check_t c;
    s_check (&c, 0);
    c.q.manual = 1;
    c.q.caller_id = "+33162000000";
    scrub_dial_facts_t f;
    char reason[256] = "";
    assert_int_equal (scrub_dial_check_read (&c.q, NOW, 1, &f, reason, sizeof reason), 0);
    assert_int_equal (f.ctx.dial, PL_RULES_DIAL_SET);
    assert_int_equal (f.mode, PLATEAU__V1__DIAL_MODE__MANUAL);
    assert_string_equal (f.ctx.cli, "+33162000000");
    scrub_dial_facts_fini (&f);
}

static void
test_checks_that_can_never_be_answered_are_refused_with_a_reason (void **state)
{
    (void) state;
    static check_t c;
    static char long_id[SCRUB_DIAL_CHECK_ID_MAX + 2];
    memset (long_id, 'x', sizeof long_id - 1);
    const char *cases[] = { "at_ms", "at_ms past", "lead", "phone", "number", "check_id", "long check_id",
                            "history", "lead_id" };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s_check (&c, 0);
        const char *w = cases[i];
        if (strcmp (w, "at_ms") == 0)
            c.q.at_ms = NOW + 10 * 60000;
        else if (strcmp (w, "at_ms past") == 0)
            c.q.at_ms = NOW - SCRUB_DIAL_MAX_SKEW_MS - 1;
        else if (strcmp (w, "lead") == 0)
            c.q.lead = NULL;
        else if (strcmp (w, "phone") == 0)
            c.lead.phone = NULL;
        else if (strcmp (w, "number") == 0)
            c.q.number = "+33600000000";
        else if (strcmp (w, "check_id") == 0)
            c.q.check_id = "";
        else if (strcmp (w, "long check_id") == 0)
            c.q.check_id = long_id;
        else if (strcmp (w, "history") == 0)
            s_check (&c, SCRUB_DIAL_MAX_HISTORY + 1);
        else if (strcmp (w, "lead_id") == 0)
            c.q.lead_id = "01KOTHER";
        char reason[256] = "";
        if (s_read (&c, reason) != PL_EINVAL || !*reason) {
            fprintf (stderr, "%s: not refused\n", w);
            fail ();
        }
    }
    /* At the bounds: accepted. */
    s_check (&c, SCRUB_DIAL_MAX_HISTORY);
    c.q.at_ms = NOW + SCRUB_DIAL_MAX_SKEW_MS;
    long_id[SCRUB_DIAL_CHECK_ID_MAX] = '\0';
    c.q.check_id = long_id;
    char reason[256] = "";
    assert_int_equal (s_read (&c, reason), 0);

    /* On a simulation's clock running 2500×, a minute of wall time is 2500 of its minutes: a check
     * ten of its minutes old is a transit of 240 ms, read; one older than that minute is not. */
    scrub_dial_facts_t f;
    c.q.at_ms = NOW - 10 * 60000;
    assert_int_equal (scrub_dial_check_read (&c.q, NOW, 1, &f, reason, sizeof reason), PL_EINVAL);
    scrub_dial_facts_fini (&f);
    assert_int_equal (scrub_dial_check_read (&c.q, NOW, 2500, &f, reason, sizeof reason), 0);
    scrub_dial_facts_fini (&f);
    c.q.at_ms = NOW - (int64_t) SCRUB_DIAL_MAX_SKEW_MS * 2500 - 1;
    assert_int_equal (scrub_dial_check_read (&c.q, NOW, 2500, &f, reason, sizeof reason), PL_EINVAL);
    scrub_dial_facts_fini (&f);
}

static void
test_an_opt_out_request_is_read_for_its_tenant (void **state)
{
    (void) state;
    Plateau__V1__OptOutRequest q = PLATEAU__V1__OPT_OUT_REQUEST__INIT;
    q.number = "+33612345678";
    q.tenant = "acme";
    q.requested_at_ms = NOW - 1000;
    scrub_optout_t o;
    char reason[256] = "";
    assert_int_equal (scrub_dial_optout_read (&q, "01KMSG", NOW, &o, reason, sizeof reason), 0);
    assert_string_equal (o.tenant, "acme");
    assert_string_equal (o.debt_ref, "");
    assert_string_equal (o.channel, "phone");
    assert_string_equal (o.actor, "dialer");
    assert_string_equal (o.message_id, "01KMSG");
    assert_int_equal (o.requested_at_ms, NOW - 1000);
    q.agent_id = "agent-7";
    q.debt_ref = "acct-9";
    assert_int_equal (scrub_dial_optout_read (&q, "01KMSG", NOW, &o, reason, sizeof reason), 0);
    assert_string_equal (o.actor, "agent-7");
    assert_string_equal (o.debt_ref, "acct-9");
    const char *bad_tenants[] = { "", "*" };
    for (size_t i = 0; i < 2; i++) {
        q.tenant = (char *) bad_tenants[i];
        reason[0] = '\0';
        assert_int_equal (scrub_dial_optout_read (&q, "01KMSG", NOW, &o, reason, sizeof reason), PL_EINVAL);
        assert_true (*reason);
    }
    q.tenant = "acme";
    q.number = "0612345678";
    assert_int_equal (scrub_dial_optout_read (&q, "01KMSG", NOW, &o, reason, sizeof reason), PL_EINVAL);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_a_check_of_one_of_the_leads_numbers_is_read_with_its_history),
        cmocka_unit_test (test_a_manual_dial_is_judged_as_not_autodialed),
        cmocka_unit_test (test_checks_that_can_never_be_answered_are_refused_with_a_reason),
        cmocka_unit_test (test_an_opt_out_request_is_read_for_its_tenant),
    };
    return cmocka_run_group_tests_name ("scrub_dial", tests, NULL, NULL);
}
