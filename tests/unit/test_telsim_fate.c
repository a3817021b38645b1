/*  test_telsim_fate.c — the fate of a call: the same dial id always meets the same fate, and over
 *  20,000 dial ids the rates are those of the simulation model (docs/telephony.md).
 */
#include <setjmp.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "fate.h"
#include "plateau/v1/dial.pb-c.h"

#define N 20000

static const telsim_fate_opts_t s_opts = { 0.97, 0.02 };

static telsim_facts_t
s_facts (const char *id, pl_phone_type_t line, int hour, bool amd, int kind)
{
    return (telsim_facts_t) { .dial_id = id, .line = line, .valid = true, .local_hour = hour,
                              .ring_timeout_s = 30, .amd = amd, .kind = kind };
}

/* Counts pickups of N dial ids. */
static void
s_pickups_with (const telsim_fate_opts_t *opts, pl_phone_type_t line, int hour, double share[TELSIM_PICKUP_COUNT])
{
    int count[TELSIM_PICKUP_COUNT] = { 0 };
    for (int i = 0; i < N; i++) {
        char id[32];
        snprintf (id, sizeof id, "dial-%d", i);
        telsim_facts_t f = s_facts (id, line, hour, false, PLATEAU__V1__CALL_KIND__CANVASSING);
        telsim_fate_t fate;
        telsim_fate_draw (42, &f, opts, &fate);
        count[fate.pickup]++;
    }
    for (int p = 0; p < TELSIM_PICKUP_COUNT; p++)
        share[p] = (double) count[p] / N;
}

static void
s_pickups (pl_phone_type_t line, int hour, double share[TELSIM_PICKUP_COUNT])
{
    s_pickups_with (&s_opts, line, hour, share);
}

static void
test_the_same_dial_id_always_meets_the_same_fate (void **state)
{
    telsim_facts_t f = s_facts ("01JDIAL000000000000000001", PL_PHONE_MOBILE, 11, true, PLATEAU__V1__CALL_KIND__DEBT_COLLECTION);
    telsim_fate_t a, b, c;
    telsim_fate_draw (7, &f, &s_opts, &a);
    telsim_fate_draw (7, &f, &s_opts, &b);
    assert_memory_equal (&a, &b, sizeof a);
    /* another seed (or dial id) is another draw */
    int differ = 0;
    for (int i = 0; i < 20; i++) {
        telsim_fate_draw ((uint64_t) (100 + i), &f, &s_opts, &c);
        differ += c.ring_ms != a.ring_ms || c.wrap_ms != a.wrap_ms;
    }
    assert_true (differ >= 18);
}

static void
test_fixed_lines_answer_near_thirty_percent (void **state)
{
    double s[TELSIM_PICKUP_COUNT];
    s_pickups (PL_PHONE_FIXED_LINE, 11, s);
    assert_true (s[TELSIM_PICKUP_PERSON] > 0.285 && s[TELSIM_PICKUP_PERSON] < 0.315);
    assert_true (s[TELSIM_PICKUP_MACHINE] > 0.185 && s[TELSIM_PICKUP_MACHINE] < 0.215);
    assert_true (s[TELSIM_PICKUP_BUSY] > 0.043 && s[TELSIM_PICKUP_BUSY] < 0.057);
    assert_true (s[TELSIM_PICKUP_FAILED] > 0.015 && s[TELSIM_PICKUP_FAILED] < 0.025);
    assert_true (s[TELSIM_PICKUP_INVALID] > 0.006 && s[TELSIM_PICKUP_INVALID] < 0.014);
    assert_true (s[TELSIM_PICKUP_NO_ANSWER] > 0.40 && s[TELSIM_PICKUP_NO_ANSWER] < 0.44);
}

/* A colder list: a third of the people answer, the rest of them ring out; machines, busy lines
 * and failures are as before. */
static void
test_a_person_scale_moves_people_to_no_answer (void **state)
{
    (void) state;
    const telsim_fate_opts_t cold = { 0.97, 0.02, 1.0 / 3 };
    double s[TELSIM_PICKUP_COUNT];
    s_pickups_with (&cold, PL_PHONE_FIXED_LINE, 11, s);
    assert_true (s[TELSIM_PICKUP_PERSON] > 0.09 && s[TELSIM_PICKUP_PERSON] < 0.11);
    assert_true (s[TELSIM_PICKUP_MACHINE] > 0.185 && s[TELSIM_PICKUP_MACHINE] < 0.215);
    assert_true (s[TELSIM_PICKUP_NO_ANSWER] > 0.60 && s[TELSIM_PICKUP_NO_ANSWER] < 0.64);
}

static void
test_mobiles_answer_more_and_evenings_ten_points_more (void **state)
{
    double day[TELSIM_PICKUP_COUNT], evening[TELSIM_PICKUP_COUNT], fixed_evening[TELSIM_PICKUP_COUNT];
    s_pickups (PL_PHONE_MOBILE, 11, day);
    s_pickups (PL_PHONE_MOBILE, 18, evening);
    s_pickups (PL_PHONE_FIXED_LINE, 19, fixed_evening);
    assert_true (day[TELSIM_PICKUP_PERSON] > 0.365 && day[TELSIM_PICKUP_PERSON] < 0.395);
    assert_true (day[TELSIM_PICKUP_MACHINE] > 0.14 && day[TELSIM_PICKUP_MACHINE] < 0.16);
    assert_true (evening[TELSIM_PICKUP_PERSON] > 0.465 && evening[TELSIM_PICKUP_PERSON] < 0.495);
    assert_true (fixed_evening[TELSIM_PICKUP_PERSON] > 0.385 && fixed_evening[TELSIM_PICKUP_PERSON] < 0.415);
    assert_float_equal (telsim_fate_person_rate (PL_PHONE_FIXED_LINE, 20), 0.30, 1e-9);   /* 20:00 is over */
}

static void
test_ring_times_follow_the_pickup (void **state)
{
    for (int i = 0; i < 2000; i++) {
        char id[32];
        snprintf (id, sizeof id, "ring-%d", i);
        telsim_facts_t f = s_facts (id, PL_PHONE_FIXED_LINE, 11, false, 0);
        f.ring_timeout_s = 15;
        telsim_fate_t fate;
        telsim_fate_draw (1, &f, &s_opts, &fate);
        switch (fate.pickup) {
        case TELSIM_PICKUP_PERSON:
        case TELSIM_PICKUP_MACHINE:
            assert_true (fate.ring_ms >= 4000 && fate.ring_ms < 15000);   /* later rings out */
            break;
        case TELSIM_PICKUP_NO_ANSWER:
            assert_int_equal (fate.ring_ms, 15000);
            break;
        case TELSIM_PICKUP_BUSY:
            assert_true (fate.ring_ms >= 1500 && fate.ring_ms <= 3000);
            break;
        default:
            assert_true (fate.ring_ms <= 3000);
        }
        assert_true (fate.wrap_ms >= 15000 && fate.wrap_ms <= 60000);
    }
}

static void
test_amd_detects_machines_and_misclassifies_two_percent_of_people (void **state)
{
    int people = 0, fp = 0, machines = 0, detected = 0;
    for (int i = 0; i < N; i++) {
        char id[32];
        snprintf (id, sizeof id, "amd-%d", i);
        telsim_facts_t f = s_facts (id, PL_PHONE_FIXED_LINE, 18, true, 0);
        telsim_fate_t fate;
        telsim_fate_draw (3, &f, &s_opts, &fate);
        if (fate.pickup == TELSIM_PICKUP_PERSON) {
            people++;
            fp += fate.amd_false_positive;
            assert_int_equal (fate.amd_false_positive, fate.amd_machine);
        } else if (fate.pickup == TELSIM_PICKUP_MACHINE) {
            machines++;
            detected += fate.amd_machine;
            assert_false (fate.amd_false_positive);
        } else
            assert_int_equal (fate.amd_ms, 0);
    }
    double fpr = (double) fp / people, det = (double) detected / machines;
    assert_true (fpr > 0.012 && fpr < 0.028);
    assert_true (det > 0.955 && det < 0.985);
}

static void
test_invalid_numbers_never_connect (void **state)
{
    telsim_facts_t f = s_facts ("x", PL_PHONE_MOBILE, 11, false, 0);
    f.valid = false;
    telsim_fate_t fate;
    telsim_fate_draw (1, &f, &s_opts, &fate);
    assert_int_equal (fate.pickup, TELSIM_PICKUP_INVALID);
}

/* Debtors who promised: half keep it (a third of those in two payments), 12 % pay part on time,
 * 8 % pay in full too late, 30 % nothing; on time is at least a day before the due date, and a
 * bounce takes back the first payment of 4 % of those who paid in full. */
static void
test_debtors_keep_part_or_break_their_promises_at_the_modelled_rates (void **state)
{
    (void) state;
    int by[TELSIM_PAYER_COUNT] = { 0 }, bounces = 0, paying = 0;
    for (int i = 0; i < N; i++) {
        char id[32];
        snprintf (id, sizeof id, "pay-%d", i);
        telsim_facts_t f = s_facts (id, PL_PHONE_MOBILE, 11, false, PLATEAU__V1__CALL_KIND__DEBT_COLLECTION);
        telsim_fate_t fate;
        telsim_fate_draw (5, &f, &s_opts, &fate);
        by[fate.payer]++;
        int64_t due = (int64_t) fate.promise_days * 86400000, sum = 0;
        for (int k = 0; k < fate.n_payments; k++) {
            assert_true (fate.pay_minor[k] > 0);
            assert_true (fate.pay_after_ms[k] >= 3600000);
            if (fate.payer == TELSIM_PAYER_LATE)
                assert_true (fate.pay_after_ms[k] >= due + 2 * 86400000);
            else
                assert_true (fate.pay_after_ms[k] <= due - 86400000);
            if (k > 0)
                assert_true (fate.pay_after_ms[k] >= fate.pay_after_ms[k - 1]);
            sum += fate.pay_minor[k];
        }
        switch (fate.payer) {
        case TELSIM_PAYER_FULL: assert_int_equal (fate.n_payments, 1); assert_int_equal (sum, fate.promise_minor); break;
        case TELSIM_PAYER_SPLIT: assert_int_equal (fate.n_payments, 2); assert_int_equal (sum, fate.promise_minor); break;
        case TELSIM_PAYER_LATE: assert_int_equal (fate.n_payments, 1); assert_int_equal (sum, fate.promise_minor); break;
        case TELSIM_PAYER_PART:
            assert_int_equal (fate.n_payments, 1);
            assert_true (sum >= fate.promise_minor * 30 / 100 && sum <= fate.promise_minor * 80 / 100);
            break;
        default: assert_int_equal (fate.n_payments, 0); break;
        }
        if (fate.payer == TELSIM_PAYER_FULL || fate.payer == TELSIM_PAYER_SPLIT)
            paying++;
        if (fate.bounce_after_ms) {
            assert_true (fate.payer == TELSIM_PAYER_FULL || fate.payer == TELSIM_PAYER_SPLIT);
            assert_true (fate.bounce_after_ms >= 86400000 && fate.bounce_after_ms <= 3 * 86400000);
            bounces++;
        }
    }
    assert_true (fabs (by[TELSIM_PAYER_FULL] + by[TELSIM_PAYER_SPLIT] - 0.50 * N) < 0.02 * N);
    assert_true (fabs (by[TELSIM_PAYER_SPLIT] - 0.50 / 3 * N) < 0.02 * N);
    assert_true (fabs (by[TELSIM_PAYER_PART] - 0.12 * N) < 0.015 * N);
    assert_true (fabs (by[TELSIM_PAYER_LATE] - 0.08 * N) < 0.015 * N);
    assert_true (fabs (by[TELSIM_PAYER_NONE] - 0.30 * N) < 0.02 * N);
    assert_true (fabs (bounces - 0.04 * paying) < 0.015 * paying);
    assert_string_equal (telsim_payer_str (TELSIM_PAYER_LATE), "late");
}

static void
test_dispositions_follow_the_kind_of_campaign (void **state)
{
    int cc[10] = { 0 }, dc[10] = { 0 }, slots[TELSIM_CALLBACK_SLOTS] = { 0 };
    int64_t talk_cc = 0, talk_dc = 0;
    for (int i = 0; i < N; i++) {
        char id[32];
        snprintf (id, sizeof id, "disp-%d", i);
        telsim_facts_t f = s_facts (id, PL_PHONE_MOBILE, 11, false, PLATEAU__V1__CALL_KIND__CANVASSING);
        telsim_fate_t fate;
        telsim_fate_draw (5, &f, &s_opts, &fate);
        if (fate.pickup != TELSIM_PICKUP_MACHINE) {
            cc[fate.disposition]++;
            talk_cc += fate.talk_ms;
        }
        slots[fate.callback_slot]++;
        f.kind = PLATEAU__V1__CALL_KIND__DEBT_COLLECTION;
        telsim_fate_draw (5, &f, &s_opts, &fate);
        if (fate.pickup != TELSIM_PICKUP_MACHINE) {
            dc[fate.disposition]++;
            talk_dc += fate.talk_ms;
        }
        assert_true (fate.promise_minor >= 5000 && fate.promise_minor <= 50000 && fate.promise_minor % 100 == 0);
        assert_true (fate.promise_days >= 2 && fate.promise_days <= 21);
    }
    int ncc = 0, ndc = 0;
    for (int c = 0; c < 10; c++)
        ncc += cc[c], ndc += dc[c];
    static const struct { int code; double cc, dc; } want[] = {
        { PLATEAU__V1__DISPOSITION__CODE__SALE, 0.08, 0 },
        { PLATEAU__V1__DISPOSITION__CODE__NOT_INTERESTED, 0.52, 0 },
        { PLATEAU__V1__DISPOSITION__CODE__REFUSED, 0.15, 0 },
        { PLATEAU__V1__DISPOSITION__CODE__DO_NOT_CALL, 0.04, 0.05 },
        { PLATEAU__V1__DISPOSITION__CODE__CALLBACK, 0.12, 0.12 },
        { PLATEAU__V1__DISPOSITION__CODE__WRONG_NUMBER, 0.09, 0.12 },
        { PLATEAU__V1__DISPOSITION__CODE__PROMISE_TO_PAY, 0, 0.30 },
        { PLATEAU__V1__DISPOSITION__CODE__CONVERSATION, 0, 0.33 },
        { PLATEAU__V1__DISPOSITION__CODE__DISPUTE, 0, 0.08 },
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        double a = (double) cc[want[i].code] / ncc, b = (double) dc[want[i].code] / ndc;
        if (a < want[i].cc - 0.015 || a > want[i].cc + 0.015 || b < want[i].dc - 0.015 || b > want[i].dc + 0.015)
            fail_msg ("code %d: canvassing %.3f (want %.2f), collection %.3f (want %.2f)", want[i].code, a,
                      want[i].cc, b, want[i].dc);
    }
    for (int s = 0; s < TELSIM_CALLBACK_SLOTS; s++)
        assert_true (slots[s] > 0);                    /* 09:30 (slot 1) and 19:30 (slot 21) included */
    /* medians ~150 s and ~200 s: the means of the lognormals are a little above */
    double mean_cc = (double) talk_cc / ncc / 1000, mean_dc = (double) talk_dc / ndc / 1000;
    assert_true (mean_cc > 150 && mean_cc < 190);
    assert_true (mean_dc > 200 && mean_dc < 250);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_the_same_dial_id_always_meets_the_same_fate),
        cmocka_unit_test (test_fixed_lines_answer_near_thirty_percent),
        cmocka_unit_test (test_mobiles_answer_more_and_evenings_ten_points_more),
        cmocka_unit_test (test_a_person_scale_moves_people_to_no_answer),
        cmocka_unit_test (test_ring_times_follow_the_pickup),
        cmocka_unit_test (test_amd_detects_machines_and_misclassifies_two_percent_of_people),
        cmocka_unit_test (test_invalid_numbers_never_connect),
        cmocka_unit_test (test_dispositions_follow_the_kind_of_campaign),
        cmocka_unit_test (test_debtors_keep_part_or_break_their_promises_at_the_modelled_rates),
    };
    return cmocka_run_group_tests_name ("telsim_fate", tests, NULL, NULL);
}
