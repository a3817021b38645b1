/*  test_promise_ledger.c — one promise to pay: the checks that name each field, deadlines at the
 *  end of the debtor's day across DST nights (and where midnight itself is skipped or repeated),
 *  tolerance, allocation oldest first, credit, reversals, cancelling, the stored form against
 *  corrupted text, and random histories that must keep the books.
 *
 *  Zones come from $PL_ZONEINFO or the system tzdata.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ledger.h"
#include "pl_test.h"
#include "plateau/error.h"
#include "plateau/timefmt.h"

#define T_DAY_MS 86400000LL

static pl_rules_tzdb_t *s_db;
static const pl_rules_tz_t *s_paris, *s_ny;

static int
s_setup (void **state)
{
    (void) state;
    const char *dir = getenv ("PL_ZONEINFO");
    s_db = pl_rules_tzdb_new (dir && *dir ? dir : NULL);
    if (!s_db || pl_rules_tzdb_load (s_db, "Europe/Paris", &s_paris) != 0
        || pl_rules_tzdb_load (s_db, "America/New_York", &s_ny) != 0) {
        fprintf (stderr, "cannot load the zones: %s\n", s_db ? pl_rules_tzdb_errstr (s_db) : "out of memory");
        return -1;
    }
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    pl_rules_tzdb_destroy (&s_db);
    return 0;
}

static int64_t
s_day (int y, int m, int d)
{
    return pl_days_from_civil (y, m, d);
}

static int64_t
s_ms (const char *rfc3339)
{
    int64_t ms = 0;
    assert_int_equal (pl_time_parse_rfc3339 (rfc3339, &ms), 0);
    return ms;
}

/* A promise being made: currency, tolerance and grace; instalments added with s_add. */
static void
s_new (promise_t *p, int64_t tolerance_minor, int32_t tolerance_bp, int32_t grace_days)
{
    memset (p, 0, sizeof *p);
    memcpy (p->currency, "EUR", 4);
    p->tolerance_minor = tolerance_minor;
    p->tolerance_bp = tolerance_bp;
    p->grace_days = grace_days;
}

static void
s_add (promise_t *p, int64_t due_days, int64_t amount)
{
    p->inst[p->n].due_days = due_days;
    p->inst[p->n].amount = amount;
    p->n++;
}

static void
s_open (promise_t *p, const pl_rules_tz_t *zone, int64_t today)
{
    char field[64] = "", msg[256] = "";
    int rc = promise_open (p, zone, today, field, sizeof field, msg, sizeof msg);
    if (rc != 0)
        fprintf (stderr, "promise_open: %s: %s\n", field, msg);
    assert_int_equal (rc, 0);
}

/* One instalment, 10000 minor units due 2026-03-10 in Paris, made on 2026-03-01. */
static void
s_single (promise_t *p, int64_t tolerance_minor, int32_t tolerance_bp)
{
    s_new (p, tolerance_minor, tolerance_bp, 0);
    s_add (p, s_day (2026, 3, 10), 10000);
    s_open (p, s_paris, s_day (2026, 3, 1));
}

static void
s_same (const promise_t *a, const promise_t *b)
{
    assert_string_equal (a->currency, b->currency);
    assert_int_equal (a->tolerance_minor, b->tolerance_minor);
    assert_int_equal (a->tolerance_bp, b->tolerance_bp);
    assert_int_equal (a->grace_days, b->grace_days);
    assert_int_equal (a->n, b->n);
    assert_int_equal (a->credit, b->credit);
    assert_int_equal (a->status, b->status);
    for (size_t i = 0; i < a->n; i++) {
        assert_int_equal (a->inst[i].due_days, b->inst[i].due_days);
        assert_int_equal (a->inst[i].amount, b->inst[i].amount);
        assert_int_equal (a->inst[i].paid, b->inst[i].paid);
        assert_int_equal (a->inst[i].deadline_ms, b->inst[i].deadline_ms);
        assert_int_equal (a->inst[i].status, b->inst[i].status);
    }
}

/* Encodes, decodes and encodes again: the same promise, the same text. */
static void
s_round_trip (const promise_t *p)
{
    char a[4096], b[4096];
    int len = promise_encode (p, a, sizeof a);
    assert_true (len > 0);
    assert_int_equal ((size_t) len, strlen (a));
    promise_t q;
    assert_int_equal (promise_decode (&q, a), 0);
    s_same (p, &q);
    assert_int_equal (promise_encode (&q, b, sizeof b), len);
    assert_string_equal (a, b);
}

/* ------------------------------------------------------------------------------------------ */

/* Three instalments in Paris made on 2026-03-01: the base every refusal below changes once. */
static void
s_base (promise_t *p)
{
    s_new (p, 0, 0, 3);
    s_add (p, s_day (2026, 3, 10), 10000);
    s_add (p, s_day (2026, 4, 10), 10000);
    s_add (p, s_day (2026, 5, 10), 5000);
}

static void
s_refused (promise_t *p, const char *field, const char *words)
{
    char f[64] = "?", m[256] = "";
    assert_int_equal (promise_open (p, s_paris, s_day (2026, 3, 1), f, sizeof f, m, sizeof m), PL_EINVAL);
    assert_string_equal (f, field);
    assert_true (m[0] != '\0');
    if (words && !strstr (m, words))
        fail_msg ("%s: \"%s\" does not say \"%s\"", f, m, words);
}

static void
s_accepted (promise_t *p)
{
    s_open (p, s_paris, s_day (2026, 3, 1));
}

static void
test_open_names_each_field (void **state)
{
    (void) state;
    promise_t p;

    s_base (&p);
    p.n = 0;
    s_refused (&p, "installments", NULL);
    s_base (&p);
    p.n = PROMISE_MAX_INSTALMENTS + 1;
    s_refused (&p, "installments", NULL);

    s_base (&p);
    p.inst[1].amount = 0;
    s_refused (&p, "installments[1].amount", NULL);
    s_base (&p);
    p.inst[0].amount = -5;
    s_refused (&p, "installments[0].amount", NULL);
    s_base (&p);
    p.inst[2].amount = 1000000000000000LL + 1;
    s_refused (&p, "installments[2].amount", NULL);
    s_base (&p);
    p.inst[2].amount = 1000000000000000LL;
    s_accepted (&p);

    s_base (&p);
    p.inst[2].due_days = p.inst[1].due_days;
    s_refused (&p, "installments[2].due", "out of order");
    s_base (&p);
    p.inst[1].due_days = s_day (2026, 3, 9);
    s_refused (&p, "installments[1].due", "out of order");
    s_base (&p);
    p.inst[0].due_days = s_day (2026, 2, 28);
    s_refused (&p, "installments[0].due", "in the past");
    s_base (&p);
    p.inst[0].due_days = s_day (2026, 3, 1);     /* today is not the past */
    s_accepted (&p);
    s_base (&p);
    p.inst[2].due_days = s_day (10000, 1, 1);
    s_refused (&p, "installments[2].due", NULL);

    const char *currencies[] = { "eur", "EU", "E1R", "", "Eur" };
    for (size_t k = 0; k < sizeof currencies / sizeof *currencies; k++) {
        s_base (&p);
        memset (p.currency, 0, sizeof p.currency);
        memcpy (p.currency, currencies[k], strlen (currencies[k]));
        s_refused (&p, "currency", NULL);
    }
    s_base (&p);
    memcpy (p.currency, "EURO", 4);               /* no room for the NUL: four letters */
    s_refused (&p, "currency", NULL);

    s_base (&p);
    p.tolerance_minor = -1;
    s_refused (&p, "tolerance", NULL);
    s_base (&p);
    p.tolerance_bp = -1;
    s_refused (&p, "tolerance", NULL);
    s_base (&p);
    p.tolerance_bp = 10001;
    s_refused (&p, "tolerance", NULL);
    s_base (&p);
    p.tolerance_minor = 5;
    p.tolerance_bp = 5;
    s_refused (&p, "tolerance", "not both");
    s_base (&p);
    p.tolerance_minor = 5000;                     /* the third instalment's whole amount */
    s_refused (&p, "tolerance", "smaller");
    s_base (&p);
    p.tolerance_minor = 4999;
    s_accepted (&p);
    s_base (&p);
    p.tolerance_bp = 10000;                       /* 100 %: as much as each amount */
    s_refused (&p, "tolerance", "smaller");
    s_base (&p);
    p.tolerance_bp = 9999;
    s_accepted (&p);

    s_base (&p);
    p.grace_days = -1;
    s_refused (&p, "grace_days", NULL);
    s_base (&p);
    p.grace_days = PROMISE_MAX_GRACE_DAYS + 1;
    s_refused (&p, "grace_days", NULL);
    s_base (&p);
    p.grace_days = PROMISE_MAX_GRACE_DAYS;
    s_accepted (&p);

    /* No buffers for the detail: still refused, nothing written. */
    s_base (&p);
    p.n = 0;
    assert_int_equal (promise_open (&p, s_paris, s_day (2026, 3, 1), NULL, 0, NULL, 0), PL_EINVAL);
    s_base (&p);
    char f[64], m[64];
    assert_int_equal (promise_open (&p, NULL, s_day (2026, 3, 1), f, sizeof f, m, sizeof m), PL_EINVAL);
    assert_string_equal (f, "zone");

    /* Accepted: everything pending, nothing paid, the detail empty. */
    s_base (&p);
    p.inst[1].paid = 77;
    p.inst[1].status = PROMISE_INST_MISSED;
    p.credit = 5;
    f[0] = m[0] = 'x';
    assert_int_equal (promise_open (&p, s_paris, s_day (2026, 3, 1), f, sizeof f, m, sizeof m), 0);
    assert_string_equal (f, "");
    assert_string_equal (m, "");
    assert_int_equal (p.status, PROMISE_ACTIVE);
    assert_int_equal (p.credit, 0);
    for (size_t i = 0; i < p.n; i++) {
        assert_int_equal (p.inst[i].status, PROMISE_INST_PENDING);
        assert_int_equal (p.inst[i].paid, 0);
    }
    assert_int_equal (promise_amount (&p), 25000);
    assert_int_equal (promise_paid (&p), 0);
}

static void
test_tolerance_is_absolute_or_a_share_rounded_down (void **state)
{
    (void) state;
    promise_t p;
    s_new (&p, 0, 250, 0);
    s_add (&p, s_day (2026, 3, 10), 1999);
    s_add (&p, s_day (2026, 3, 11), 1000000000000000LL);
    s_add (&p, s_day (2026, 3, 12), 1000000000000000LL - 1);
    s_open (&p, s_paris, s_day (2026, 3, 1));
    assert_int_equal (promise_tolerance (&p, 0), 49);                 /* 49.975 */
    assert_int_equal (promise_tolerance (&p, 1), 25000000000000LL);
    assert_int_equal (promise_tolerance (&p, 2), 24999999999999LL);
    assert_int_equal (promise_tolerance (&p, 3), 0);                  /* no such instalment */

    /* The largest amounts and shares, against 128-bit arithmetic. */
    const int32_t bps[] = { 1, 7, 250, 3333, 9999, 10000 };
    const int64_t amounts[] = { 1, 9999, 10000, 10001, 123456789, 999999999999999LL, 1000000000000000LL,
                                INT64_MAX / 10000, INT64_MAX };
    for (size_t b = 0; b < sizeof bps / sizeof *bps; b++)
        for (size_t a = 0; a < sizeof amounts / sizeof *amounts; a++) {
            p.tolerance_bp = bps[b];
            p.inst[0].amount = amounts[a];
            __int128 want = (__int128) amounts[a] * bps[b] / 10000;
            assert_true (promise_tolerance (&p, 0) == (int64_t) want);
        }

    s_new (&p, 120, 0, 0);
    s_add (&p, s_day (2026, 3, 10), 1999);
    s_open (&p, s_paris, s_day (2026, 3, 1));
    assert_int_equal (promise_tolerance (&p, 0), 120);
}

static void
test_single_payment_exact_or_within_tolerance (void **state)
{
    (void) state;
    int64_t at = s_ms ("2026-03-05T12:00:00Z");
    promise_change_t ch;
    promise_t p;

    s_single (&p, 0, 0);
    promise_pay (&p, 10000, at, &ch);
    assert_int_equal (p.status, PROMISE_KEPT);
    assert_int_equal (p.inst[0].status, PROMISE_INST_PAID);
    assert_int_equal (ch.paid, 1);
    assert_int_equal (ch.missed, 0);
    assert_true (ch.decided);
    assert_false (ch.reopened);
    assert_int_equal (p.credit, 0);
    assert_string_equal (promise_status_str (p.status), "kept");
    assert_string_equal (promise_inst_status_str (p.inst[0].status), "paid");

    /* Absolute tolerance of 100: 9900 is paid, 9899 is not. */
    s_single (&p, 100, 0);
    promise_pay (&p, 9900, at, &ch);
    assert_int_equal (p.status, PROMISE_KEPT);
    assert_int_equal (p.inst[0].paid, 9900);
    assert_int_equal (ch.paid, 1);
    s_single (&p, 100, 0);
    promise_pay (&p, 9899, at, &ch);
    assert_int_equal (p.status, PROMISE_ACTIVE);
    assert_int_equal (p.inst[0].status, PROMISE_INST_PARTLY_PAID);
    assert_string_equal (promise_inst_status_str (p.inst[0].status), "partly_paid");
    assert_int_equal (ch.paid, 0);
    assert_false (ch.decided);
    promise_pay (&p, 1, at, &ch);
    assert_int_equal (p.status, PROMISE_KEPT);
    assert_int_equal (ch.paid, 1);
    /* Paid within tolerance, it still takes money up to its amount before credit does. */
    promise_pay (&p, 150, at, &ch);
    assert_int_equal (p.inst[0].paid, 10000);
    assert_int_equal (p.credit, 50);
    assert_int_equal (ch.paid, 0);
    assert_false (ch.decided);

    /* 2.5 %: 250 of 10000. */
    s_single (&p, 0, 250);
    promise_pay (&p, 9750, at, &ch);
    assert_int_equal (p.status, PROMISE_KEPT);
    s_single (&p, 0, 250);
    promise_pay (&p, 9749, at, &ch);
    assert_int_equal (p.status, PROMISE_ACTIVE);
    assert_int_equal (p.inst[0].status, PROMISE_INST_PARTLY_PAID);

    /* Nothing, or less than nothing, is no payment. */
    s_single (&p, 0, 0);
    promise_pay (&p, 0, at, &ch);
    promise_pay (&p, -10, at, &ch);
    assert_int_equal (promise_paid (&p), 0);
    assert_int_equal (p.inst[0].status, PROMISE_INST_PENDING);
    assert_string_equal (promise_inst_status_str (p.inst[0].status), "pending");
}

static void
test_deadline_is_the_end_of_grace_to_the_millisecond (void **state)
{
    (void) state;
    promise_change_t ch;
    promise_t p;
    /* Due 2026-06-10 with 3 days' grace: the midnight that ends 06-13 in Paris, 22:00Z. */
    s_new (&p, 0, 0, 3);
    s_add (&p, s_day (2026, 6, 10), 10000);
    s_open (&p, s_paris, s_day (2026, 3, 1));
    int64_t deadline = s_ms ("2026-06-13T22:00:00Z");
    assert_int_equal (p.inst[0].deadline_ms, deadline);
    promise_t fresh = p;

    promise_tick (&p, deadline - 1, &ch);
    assert_int_equal (p.status, PROMISE_ACTIVE);
    assert_int_equal (p.inst[0].status, PROMISE_INST_PENDING);
    assert_int_equal (ch.missed, 0);
    assert_false (ch.decided);
    assert_int_equal (promise_next_deadline (&p), deadline);
    promise_tick (&p, deadline, &ch);
    assert_int_equal (p.inst[0].status, PROMISE_INST_MISSED);
    assert_string_equal (promise_inst_status_str (p.inst[0].status), "missed");
    assert_int_equal (ch.missed, 1);
    assert_true (ch.decided);
    assert_int_equal (p.status, PROMISE_BROKEN);
    assert_string_equal (promise_status_str (p.status), "broken");
    /* Decided: the clock does nothing more. */
    promise_tick (&p, deadline + T_DAY_MS, &ch);
    assert_int_equal (ch.missed, 0);
    assert_false (ch.decided);

    /* Something paid before: partially kept. */
    p = fresh;
    promise_pay (&p, 4000, deadline - 1, &ch);
    promise_tick (&p, deadline, &ch);
    assert_int_equal (p.status, PROMISE_PARTIALLY_KEPT);
    assert_string_equal (promise_status_str (p.status), "partially_kept");

    /* The whole amount one millisecond early keeps it... */
    p = fresh;
    promise_pay (&p, 10000, deadline - 1, &ch);
    assert_int_equal (p.status, PROMISE_KEPT);
    /* ... and at the deadline it is late, even with no tick in between: broken, the money
     * still allocated. */
    p = fresh;
    promise_pay (&p, 10000, deadline, &ch);
    assert_int_equal (p.status, PROMISE_BROKEN);
    assert_int_equal (p.inst[0].status, PROMISE_INST_PAID);
    assert_int_equal (p.inst[0].paid, 10000);
    assert_int_equal (ch.missed, 1);
    assert_int_equal (ch.paid, 1);
    assert_true (ch.decided);
}

static void
s_deadlines (const pl_rules_tz_t *zone, int32_t grace, const int64_t *due, const char *const *want, size_t n)
{
    promise_t p;
    s_new (&p, 0, 0, grace);
    for (size_t i = 0; i < n; i++)
        s_add (&p, due[i], 100);
    s_open (&p, zone, s_day (2026, 1, 1));
    for (size_t i = 0; i < n; i++)
        if (p.inst[i].deadline_ms != s_ms (want[i])) {
            char got[PL_TIME_RFC3339_MAX];
            pl_time_format_rfc3339 (p.inst[i].deadline_ms, got, sizeof got);
            fail_msg ("%s instalment %zu: deadline %s, not %s", pl_rules_tz_name (zone), i, got, want[i]);
        }
}

static void
test_deadlines_move_by_the_hour_on_dst_nights (void **state)
{
    (void) state;
    /* Paris, spring: the night of 03-29 has 23 hours. */
    s_deadlines (s_paris, 0, (int64_t[]) { s_day (2026, 3, 28), s_day (2026, 3, 29), s_day (2026, 3, 30) },
                 (const char *[]) { "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z",
                                    "2026-03-30T22:00:00Z" }, 3);
    /* Paris, autumn: the night of 10-25 has 25. */
    s_deadlines (s_paris, 0, (int64_t[]) { s_day (2026, 10, 24), s_day (2026, 10, 25), s_day (2026, 10, 26) },
                 (const char *[]) { "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z",
                                    "2026-10-26T23:00:00Z" }, 3);
    /* Grace across the change: the hour moves, never the day. */
    s_deadlines (s_paris, 2, (int64_t[]) { s_day (2026, 3, 27), s_day (2026, 10, 23) },
                 (const char *[]) { "2026-03-29T22:00:00Z", "2026-10-25T23:00:00Z" }, 2);
    /* New York, spring (03-08) and autumn (11-01). */
    s_deadlines (s_ny, 0, (int64_t[]) { s_day (2026, 3, 7), s_day (2026, 3, 8) },
                 (const char *[]) { "2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z" }, 2);
    s_deadlines (s_ny, 0, (int64_t[]) { s_day (2026, 10, 31), s_day (2026, 11, 1) },
                 (const char *[]) { "2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z" }, 2);

    /* Due 2026-03-29 in Paris, no grace: still active at 21:59:59.999Z, missed at 22:00Z. */
    promise_change_t ch;
    promise_t p;
    s_new (&p, 0, 0, 0);
    s_add (&p, s_day (2026, 3, 28), 100);
    s_add (&p, s_day (2026, 3, 29), 100);
    s_open (&p, s_paris, s_day (2026, 3, 1));
    promise_pay (&p, 100, s_ms ("2026-03-28T12:00:00Z"), &ch);
    promise_tick (&p, s_ms ("2026-03-29T21:59:59.999Z"), &ch);
    assert_int_equal (p.status, PROMISE_ACTIVE);
    assert_int_equal (ch.missed, 0);
    promise_tick (&p, s_ms ("2026-03-29T22:00:00Z"), &ch);
    assert_int_equal (ch.missed, 2);
    assert_int_equal (p.status, PROMISE_PARTIALLY_KEPT);
}

/* Havana changes its clocks at midnight: 2026-03-08 00:00 never happens (the day starts at
 * 01:00 CDT), and 2026-11-01 00:00 happens twice (CDT, then CST an hour later). Santiago moves
 * at 24:00 in September (the day starts at 01:00). */
static void
test_deadline_when_midnight_is_skipped_or_repeated (void **state)
{
    (void) state;
    const pl_rules_tz_t *havana = NULL, *santiago = NULL;
    if (pl_rules_tzdb_load (s_db, "America/Havana", &havana) != 0
        || pl_rules_tzdb_load (s_db, "America/Santiago", &santiago) != 0)
        skip ();
    int64_t utc;
    /* The tzdata at hand must still have those nights for the case to mean anything. */
    if (pl_rules_tz_utc (havana, s_day (2026, 3, 8) * 86400, PL_RULES_TZ_FIRST, &utc) != 2
        || pl_rules_tz_utc (havana, s_day (2026, 11, 1) * 86400, PL_RULES_TZ_FIRST, &utc) != 1
        || pl_rules_tz_utc (santiago, s_day (2026, 9, 6) * 86400, PL_RULES_TZ_FIRST, &utc) != 2)
        skip ();
    s_deadlines (havana, 0, (int64_t[]) { s_day (2026, 3, 7), s_day (2026, 10, 31) },
                 (const char *[]) { "2026-03-08T05:00:00Z", "2026-11-01T04:00:00Z" }, 2);
    s_deadlines (santiago, 0, (int64_t[]) { s_day (2026, 4, 4), s_day (2026, 9, 5) },
                 (const char *[]) { "2026-04-05T04:00:00Z", "2026-09-06T04:00:00Z" }, 2);
}

static void
test_payments_go_to_the_oldest_instalment_first (void **state)
{
    (void) state;
    int64_t at = s_ms ("2026-03-05T12:00:00Z");
    promise_change_t ch;
    promise_t p;
    s_new (&p, 0, 0, 0);
    s_add (&p, s_day (2026, 3, 10), 100);
    s_add (&p, s_day (2026, 4, 10), 200);
    s_add (&p, s_day (2026, 5, 10), 300);
    s_open (&p, s_paris, s_day (2026, 3, 1));

    promise_pay (&p, 50, at, &ch);
    assert_int_equal (p.inst[0].paid, 50);
    assert_int_equal (p.inst[0].status, PROMISE_INST_PARTLY_PAID);
    assert_int_equal (p.inst[1].status, PROMISE_INST_PENDING);
    assert_int_equal (ch.paid, 0);
    promise_pay (&p, 100, at, &ch);
    assert_int_equal (p.inst[0].paid, 100);
    assert_int_equal (p.inst[1].paid, 50);
    assert_int_equal (p.inst[0].status, PROMISE_INST_PAID);
    assert_int_equal (p.inst[1].status, PROMISE_INST_PARTLY_PAID);
    assert_int_equal (ch.paid, 1);
    promise_pay (&p, 149, at, &ch);
    assert_int_equal (p.inst[1].paid, 199);
    assert_int_equal (ch.paid, 0);
    promise_pay (&p, 1, at, &ch);
    assert_int_equal (ch.paid, 2);
    assert_int_equal (p.status, PROMISE_ACTIVE);
    promise_pay (&p, 350, at, &ch);
    assert_int_equal (p.inst[2].paid, 300);
    assert_int_equal (p.credit, 50);
    assert_int_equal (ch.paid, 4);
    assert_true (ch.decided);
    assert_int_equal (p.status, PROMISE_KEPT);
    assert_int_equal (promise_paid (&p), 600);

    /* Within tolerance the first is paid, yet it takes the next 4 before the second does. */
    s_new (&p, 5, 0, 0);
    s_add (&p, s_day (2026, 3, 10), 100);
    s_add (&p, s_day (2026, 4, 10), 100);
    s_open (&p, s_paris, s_day (2026, 3, 1));
    promise_pay (&p, 96, at, &ch);
    assert_int_equal (ch.paid, 1);
    assert_int_equal (p.status, PROMISE_ACTIVE);
    promise_pay (&p, 100, at, &ch);
    assert_int_equal (p.inst[0].paid, 100);
    assert_int_equal (p.inst[1].paid, 96);
    assert_int_equal (ch.paid, 2);
    assert_int_equal (p.status, PROMISE_KEPT);

    /* A missed instalment is the oldest: late money goes to it first, and it is paid, but the
     * promise stays broken. */
    s_new (&p, 0, 0, 0);
    s_add (&p, s_day (2026, 3, 10), 100);
    s_add (&p, s_day (2026, 4, 10), 100);
    s_open (&p, s_paris, s_day (2026, 3, 1));
    promise_tick (&p, s_ms ("2026-03-15T00:00:00Z"), &ch);
    assert_int_equal (p.status, PROMISE_BROKEN);
    assert_int_equal (ch.missed, 1);
    promise_pay (&p, 150, s_ms ("2026-03-16T00:00:00Z"), &ch);
    assert_int_equal (p.inst[0].paid, 100);
    assert_int_equal (p.inst[0].status, PROMISE_INST_PAID);
    assert_int_equal (p.inst[1].paid, 50);
    assert_int_equal (ch.paid, 1);
    assert_false (ch.decided);
    promise_pay (&p, 50, s_ms ("2026-03-17T00:00:00Z"), &ch);
    assert_int_equal (p.inst[1].status, PROMISE_INST_PAID);
    assert_int_equal (p.status, PROMISE_BROKEN);
}

static void
test_overpayment_becomes_credit (void **state)
{
    (void) state;
    int64_t at = s_ms ("2026-03-05T12:00:00Z");
    promise_change_t ch;
    promise_t p;
    s_single (&p, 0, 0);
    promise_pay (&p, 15000, at, &ch);
    assert_int_equal (p.inst[0].paid, 10000);
    assert_int_equal (p.credit, 5000);
    assert_int_equal (p.status, PROMISE_KEPT);
    promise_pay (&p, 200, at, &ch);
    assert_int_equal (p.credit, 5200);
    assert_int_equal (ch.paid, 0);
    assert_false (ch.decided);
    assert_int_equal (promise_paid (&p), 10000);
    assert_int_equal (promise_amount (&p), 10000);
    /* However much: credit saturates rather than wraps. */
    promise_pay (&p, INT64_MAX, at, &ch);
    assert_true (p.credit == INT64_MAX);
    s_round_trip (&p);
}

/* Two instalments of 100, due 2026-03-10 and 2026-04-10 (deadlines 03-10T23:00Z and
 * 04-10T22:00Z), 250 paid early: kept with 50 of credit. */
static void
s_kept_with_credit (promise_t *p, int64_t pay)
{
    promise_change_t ch;
    s_new (p, 0, 0, 0);
    s_add (p, s_day (2026, 3, 10), 100);
    s_add (p, s_day (2026, 4, 10), 100);
    s_open (p, s_paris, s_day (2026, 3, 1));
    promise_pay (p, pay, s_ms ("2026-03-05T12:00:00Z"), &ch);
}

static void
test_reversal_takes_credit_then_the_newest (void **state)
{
    (void) state;
    promise_change_t ch;
    promise_t p;

    /* Before the second deadline: credit goes first, then the second instalment, and the promise
     * is active again until money comes back. */
    s_kept_with_credit (&p, 250);
    assert_int_equal (p.status, PROMISE_KEPT);
    promise_reverse (&p, 30, s_ms ("2026-03-06T00:00:00Z"), &ch);
    assert_int_equal (p.credit, 20);
    assert_int_equal (p.status, PROMISE_KEPT);
    assert_false (ch.reopened || ch.decided || ch.paid || ch.missed);
    promise_reverse (&p, 60, s_ms ("2026-03-20T00:00:00Z"), &ch);
    assert_int_equal (p.credit, 0);
    assert_int_equal (p.inst[0].paid, 100);
    assert_int_equal (p.inst[1].paid, 60);
    assert_int_equal (p.inst[1].status, PROMISE_INST_PARTLY_PAID);
    assert_int_equal (p.status, PROMISE_ACTIVE);
    assert_true (ch.reopened);
    assert_false (ch.decided);
    assert_int_equal (ch.missed, 0);
    assert_int_equal (promise_next_deadline (&p), s_ms ("2026-04-10T22:00:00Z"));
    assert_int_equal (promise_next_due (&p), s_day (2026, 4, 10));
    promise_pay (&p, 40, s_ms ("2026-03-21T00:00:00Z"), &ch);
    assert_int_equal (p.status, PROMISE_KEPT);
    assert_int_equal (ch.paid, 2);
    assert_true (ch.decided);

    /* After the second deadline: decided at once, partially kept. */
    s_kept_with_credit (&p, 250);
    promise_reverse (&p, 110, s_ms ("2026-04-11T00:00:00Z"), &ch);
    assert_int_equal (p.credit, 0);
    assert_int_equal (p.inst[1].paid, 40);
    assert_int_equal (p.inst[1].status, PROMISE_INST_MISSED);
    assert_int_equal (p.status, PROMISE_PARTIALLY_KEPT);
    assert_int_equal (ch.missed, 2);
    assert_true (ch.decided);
    assert_false (ch.reopened);

    /* Everything taken back after both deadlines: broken. */
    s_kept_with_credit (&p, 200);
    promise_reverse (&p, 200, s_ms ("2026-04-20T00:00:00Z"), &ch);
    assert_int_equal (promise_paid (&p), 0);
    assert_int_equal (ch.missed, 3);
    assert_int_equal (p.status, PROMISE_BROKEN);

    /* An active promise whose paid instalment bounces after its deadline: never paid in time. */
    s_kept_with_credit (&p, 100);
    assert_int_equal (p.status, PROMISE_ACTIVE);
    promise_reverse (&p, 100, s_ms ("2026-03-15T00:00:00Z"), &ch);
    assert_int_equal (p.inst[0].status, PROMISE_INST_MISSED);
    assert_int_equal (ch.missed, 1);
    assert_true (ch.decided);
    assert_int_equal (p.status, PROMISE_BROKEN);
    /* Decided stays decided, whatever money comes and goes. */
    promise_pay (&p, 300, s_ms ("2026-03-16T00:00:00Z"), &ch);
    assert_int_equal (p.status, PROMISE_BROKEN);
    promise_reverse (&p, 300, s_ms ("2026-03-17T00:00:00Z"), &ch);
    assert_int_equal (p.status, PROMISE_BROKEN);
    assert_false (ch.reopened || ch.decided);
    /* The first bounced after its deadline: missed; the second's deadline is still ahead. */
    assert_int_equal (p.inst[0].status, PROMISE_INST_MISSED);
    assert_int_equal (p.inst[1].status, PROMISE_INST_PENDING);
    assert_int_equal (ch.missed, 1);

    /* Before its deadline, a bounce leaves the instalment pending again; never more is taken
     * than was paid. */
    s_kept_with_credit (&p, 50);
    promise_reverse (&p, 80, s_ms ("2026-03-06T00:00:00Z"), &ch);
    assert_int_equal (promise_paid (&p), 0);
    assert_int_equal (p.credit, 0);
    assert_int_equal (p.inst[0].status, PROMISE_INST_PENDING);
    assert_int_equal (p.status, PROMISE_ACTIVE);
    assert_false (ch.reopened);
    promise_reverse (&p, 0, s_ms ("2026-03-06T00:00:00Z"), &ch);
    assert_int_equal (p.status, PROMISE_ACTIVE);
}

static void
test_cancel_only_an_active_promise (void **state)
{
    (void) state;
    promise_change_t ch;
    promise_t p;
    s_single (&p, 0, 0);
    assert_int_equal (promise_cancel (&p), 0);
    assert_int_equal (p.status, PROMISE_CANCELLED);
    assert_string_equal (promise_status_str (p.status), "cancelled");
    assert_int_equal (promise_cancel (&p), PL_EINVAL);
    promise_tick (&p, s_ms ("2027-01-01T00:00:00Z"), &ch);
    assert_int_equal (p.status, PROMISE_CANCELLED);
    assert_int_equal (p.inst[0].status, PROMISE_INST_PENDING);
    assert_int_equal (ch.missed, 0);
    assert_true (promise_next_deadline (&p) == PROMISE_NEVER);
    /* Money that still arrives is allocated; the promise stays cancelled. */
    promise_pay (&p, 10000, s_ms ("2026-03-05T00:00:00Z"), &ch);
    assert_int_equal (p.inst[0].paid, 10000);
    assert_int_equal (p.status, PROMISE_CANCELLED);
    assert_false (ch.decided);

    s_single (&p, 0, 0);
    promise_pay (&p, 10000, s_ms ("2026-03-05T00:00:00Z"), &ch);
    assert_int_equal (promise_cancel (&p), PL_EINVAL);
    assert_int_equal (p.status, PROMISE_KEPT);
    s_single (&p, 0, 0);
    promise_tick (&p, s_ms ("2026-04-01T00:00:00Z"), &ch);
    assert_int_equal (promise_cancel (&p), PL_EINVAL);
    assert_int_equal (p.status, PROMISE_BROKEN);
}

static void
test_next_deadline_and_next_due (void **state)
{
    (void) state;
    int64_t at = s_ms ("2026-03-05T12:00:00Z");
    promise_change_t ch;
    promise_t p;
    s_new (&p, 0, 0, 1);
    s_add (&p, s_day (2026, 3, 10), 100);
    s_add (&p, s_day (2026, 4, 10), 100);
    s_add (&p, s_day (2026, 5, 10), 100);
    s_open (&p, s_paris, s_day (2026, 3, 1));
    assert_int_equal (promise_next_deadline (&p), s_ms ("2026-03-11T23:00:00Z"));
    assert_int_equal (promise_next_due (&p), s_day (2026, 3, 10));
    promise_pay (&p, 100, at, &ch);
    assert_int_equal (promise_next_deadline (&p), s_ms ("2026-04-11T22:00:00Z"));
    assert_int_equal (promise_next_due (&p), s_day (2026, 4, 10));
    promise_pay (&p, 50, at, &ch);                /* partly paid: still the one waited for */
    assert_int_equal (promise_next_deadline (&p), s_ms ("2026-04-11T22:00:00Z"));
    assert_int_equal (promise_next_due (&p), s_day (2026, 4, 10));
    promise_pay (&p, 150, at, &ch);
    assert_int_equal (p.status, PROMISE_KEPT);
    assert_true (promise_next_deadline (&p) == PROMISE_NEVER);
    assert_int_equal (promise_next_due (&p), -1);

    /* Decided: the clock has nothing left to decide; the first unpaid due date is still told. */
    s_new (&p, 0, 0, 0);
    s_add (&p, s_day (2026, 3, 10), 100);
    s_add (&p, s_day (2026, 4, 10), 100);
    s_open (&p, s_paris, s_day (2026, 3, 1));
    promise_tick (&p, s_ms ("2026-03-20T00:00:00Z"), &ch);
    assert_int_equal (p.status, PROMISE_BROKEN);
    assert_true (promise_next_deadline (&p) == PROMISE_NEVER);
    assert_int_equal (promise_next_due (&p), s_day (2026, 3, 10));
}

/* ------------------------------------------------------------------------------------------ */

static void
test_encode_round_trips_exactly (void **state)
{
    (void) state;
    promise_change_t ch;
    promise_t p, q;
    char text[4096];

    /* The header's example: due 2025-12-09 in Paris, 3 days' grace, 2.5 %. */
    s_new (&p, 0, 250, 3);
    s_add (&p, s_day (2025, 12, 9), 5000);
    s_open (&p, s_paris, s_day (2025, 12, 1));
    int len = promise_encode (&p, text, sizeof text);
    assert_string_equal (text, "1|EUR|0|250|3|1|0|1|20431:5000:0:1765580400000:1");
    assert_true (len < 100);
    s_round_trip (&p);
    /* Exactly the room it needs, and one byte less. */
    assert_int_equal (promise_encode (&p, text, (size_t) len + 1), len);
    assert_int_equal (promise_encode (&p, text, (size_t) len), -1);
    assert_int_equal (promise_encode (&p, text, 0), -1);
    assert_int_equal (promise_encode (&p, NULL, 0), -1);

    /* Every state, with credit, with the most instalments and the largest amounts. */
    s_new (&p, 0, 9999, PROMISE_MAX_GRACE_DAYS);
    for (int i = 0; i < PROMISE_MAX_INSTALMENTS; i++)
        s_add (&p, s_day (2026, 3, 1) + 30 * i, 1000000000000000LL - i);
    s_open (&p, s_ny, s_day (2026, 3, 1));
    s_round_trip (&p);
    promise_pay (&p, 3000000000000000LL + 17, s_ms ("2026-03-02T00:00:00Z"), &ch);
    s_round_trip (&p);
    promise_tick (&p, s_ms ("2026-08-01T00:00:00Z"), &ch);   /* the fourth, due 05-30, missed */
    assert_int_equal (p.inst[3].status, PROMISE_INST_MISSED);
    assert_int_equal (p.status, PROMISE_PARTIALLY_KEPT);
    s_round_trip (&p);

    s_kept_with_credit (&p, 250);
    assert_int_equal (p.status, PROMISE_KEPT);
    s_round_trip (&p);
    s_single (&p, 0, 0);
    promise_tick (&p, s_ms ("2026-04-01T00:00:00Z"), &ch);
    assert_int_equal (p.status, PROMISE_BROKEN);
    s_round_trip (&p);
    s_single (&p, 7, 0);
    promise_pay (&p, 20, s_ms ("2026-03-05T00:00:00Z"), &ch);
    promise_cancel (&p);
    s_round_trip (&p);

    /* Decoding overwrites everything, the instalments past n included. */
    memset (&q, 0x5a, sizeof q);
    promise_encode (&p, text, sizeof text);
    assert_int_equal (promise_decode (&q, text), 0);
    s_same (&p, &q);
    assert_int_equal (q.inst[1].amount, 0);
}

/* What decode must say of `text`: PL_ECORRUPT, leaving the promise alone, or a promise that
 * encodes back to exactly the same text. */
static void
s_decode_or_refuse (const char *text)
{
    promise_t p, before;
    s_single (&p, 0, 0);
    before = p;
    int rc = promise_decode (&p, text);
    if (rc == PL_ECORRUPT) {
        s_same (&p, &before);
        return;
    }
    assert_int_equal (rc, 0);
    char again[4096];
    assert_true (promise_encode (&p, again, sizeof again) > 0);
    assert_string_equal (again, text);
}

static void
test_decode_refuses_corrupt_text (void **state)
{
    (void) state;
    promise_t p;
    /* One instalment, no grace: the deadline is the Paris midnight ending 2025-12-09. */
    const char *good = "1|EUR|0|0|0|1|0|1|20431:5000:0:1765321200000:1";
    assert_int_equal (promise_decode (&p, good), 0);
    const char *bad[] = {
        "", "1", "1|", "1|EUR", "1|EUR|",
        "2|EUR|0|0|0|1|0|1|20431:5000:0:1765321200000:1",           /* version */
        "1|eur|0|0|0|1|0|1|20431:5000:0:1765321200000:1",           /* currency */
        "1|EU|0|0|0|1|0|1|20431:5000:0:1765321200000:1",
        "1|EURO|0|0|0|1|0|1|20431:5000:0:1765321200000:1",
        "1|EUR|0|0|0|1|0|0|",                                       /* n */
        "1|EUR|0|0|0|1|0|37|20431:5000:0:1765321200000:1",
        "1|EUR|0|0|0|1|0|2|20431:5000:0:1765321200000:1",           /* fewer than n */
        "1|EUR|0|0|0|1|0|1|20431:5000:0:1765321200000:1;20432:5000:0:1765407600000:1",
        "1|EUR|0|0|0|1|0|1|20431:5000:0:1765321200000:1;",          /* trailing */
        "1|EUR|0|0|0|1|0|1|20431:5000:0:1765321200000:1 ",
        "1|EUR|0|0|0|1|0|1|20431:5000:0:1765321200000:1\n",
        "1|EUR|0|0|0|1|0|1|20431:5000:0:1765321200000:11",
        " 1|EUR|0|0|0|1|0|1|20431:5000:0:1765321200000:1",
        "1|EUR|-1|0|0|1|0|1|20431:5000:0:1765321200000:1",          /* negative */
        "1|EUR|0|0|0|1|-5|1|20431:5000:0:1765321200000:1",
        "1|EUR|0|0|0|1|0|1|20431:-5000:0:1765321200000:1",
        "1|EUR|0|0|0|1|+0|1|20431:5000:0:1765321200000:1",
        "1|EUR|0|0|0|1|00|1|20431:5000:0:1765321200000:1",          /* not as written */
        "1|EUR|0|0|0|1|0|1|020431:5000:0:1765321200000:1",
        "1|EUR|0|0|0|1|99999999999999999999|1|20431:5000:0:1765321200000:1",  /* overflow */
        "1|EUR|0|0|0|1|9223372036854775808|1|20431:5000:0:1765321200000:1",
        "1|EUR|0|0|0|1|0|1|20431:5000:0:99999999999999999999:1",
        "1|EUR|0|0|0|1|0|1|20431:5000:5001:1765321200000:3",        /* paid over amount */
        "1|EUR|0|0|0|1|0|1|20431:0:0:1765321200000:1",              /* amount 0 */
        "1|EUR|0|0|0|1|0|1|20431:1000000000000001:0:1765321200000:1",
        "1|EUR|0|0|0|0|0|1|20431:5000:0:1765321200000:1",           /* promise status */
        "1|EUR|0|0|0|6|0|1|20431:5000:0:1765321200000:1",
        "1|EUR|0|0|0|1|0|1|20431:5000:0:1765321200000:0",           /* instalment status */
        "1|EUR|0|0|0|1|0|1|20431:5000:0:1765321200000:5",
        "1|EUR|0|0|0|1|0|1|20431:5000:10:1765321200000:1",          /* pending with money */
        "1|EUR|0|0|0|1|0|1|20431:5000:0:1765321200000:2",           /* partly paid without */
        "1|EUR|0|0|0|1|0|1|20431:5000:4999:1765321200000:3",        /* paid, short */
        "1|EUR|0|0|0|3|0|1|20431:5000:5000:1765321200000:4",        /* missed, paid */
        "1|EUR|0|0|0|1|0|1|20431:5000:5000:1765321200000:3",        /* active, all paid */
        "1|EUR|0|0|0|1|0|1|20431:5000:0:1765321200000:4",           /* active, one missed */
        "1|EUR|0|0|0|2|0|1|20431:5000:10:1765321200000:2",          /* kept, one short */
        "1|EUR|0|0|0|3|5|1|20431:5000:10:1765321200000:4",          /* credit, one short */
        "1|EUR|5|5|0|1|0|1|20431:5000:0:1765321200000:1",           /* both tolerances */
        "1|EUR|5000|0|0|1|0|1|20431:5000:0:1765321200000:1",        /* tolerance = amount */
        "1|EUR|0|10001|0|1|0|1|20431:5000:0:1765321200000:1",
        "1|EUR|0|0|61|1|0|1|20431:5000:0:1765321200000:1",          /* grace */
        "1|EUR|0|0|0|1|0|2|20431:5000:0:1765321200000:1;20431:5000:0:1765321200000:1",  /* due order */
        "1|EUR|0|0|0|1|0|2|20432:5000:0:1765407600000:1;20431:5000:0:1765321200000:1",
        "1|EUR|0|0|0|1|0|1|20431:5000:0:1:1",                       /* deadline far from due */
        "1|EUR|0|0|0|1|0|1|20431:5000:0:1865321200000:1",
        "1|EUR|0|0|0|1|0|1|3000000:5000:0:1765321200000:1",         /* due out of range */
        "1|EUR|0|0|0|1|0|1|20431:5000:0:1765321200000",             /* field missing */
        "1|EUR|0|0|0|1|0|1|20431:5000:0:1765321200000:1:1",         /* field too many */
        "1|EUR|0|0|0|1|0|1|20431;5000:0:1765321200000:1",
        "1|EUR||0|0|1|0|1|20431:5000:0:1765321200000:1",
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        s_single (&p, 0, 0);
        promise_t before = p;
        if (promise_decode (&p, bad[k]) != PL_ECORRUPT)
            fail_msg ("accepted: \"%s\"", bad[k]);
        s_same (&p, &before);
    }
    assert_int_equal (promise_decode (&p, NULL), PL_ECORRUPT);

    /* A promise with several instalments, money and credit: every prefix is refused, every
     * single character changed is refused or read back to the same text. */
    promise_change_t ch;
    s_new (&p, 0, 125, 2);
    s_add (&p, s_day (2026, 3, 10), 12000);
    s_add (&p, s_day (2026, 4, 10), 9000);
    s_add (&p, s_day (2026, 5, 10), 3050);
    s_open (&p, s_paris, s_day (2026, 3, 1));
    promise_pay (&p, 15000, s_ms ("2026-03-05T00:00:00Z"), &ch);
    char text[512];
    int len = promise_encode (&p, text, sizeof text);
    assert_true (len > 0);
    for (int cut = 0; cut < len; cut++) {
        char prefix[512];
        memcpy (prefix, text, (size_t) cut);
        prefix[cut] = '\0';
        if (promise_decode (&p, prefix) != PL_ECORRUPT)
            fail_msg ("accepted the prefix \"%s\"", prefix);
    }
    const char swaps[] = "0123456789|:;-+ xE\x7f\xff";
    for (int at = 0; at < len; at++)
        for (size_t k = 0; k < sizeof swaps - 1; k++) {
            char m[512];
            memcpy (m, text, (size_t) len + 1);
            m[at] = swaps[k];
            s_decode_or_refuse (m);
        }
}

static void
test_decode_never_crashes_on_garbage (void **state)
{
    (void) state;
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    const char alphabet[] = "0123456789|:;-EURx";
    promise_change_t ch;
    promise_t p;
    s_new (&p, 0, 250, 2);
    s_add (&p, s_day (2026, 3, 10), 12000);
    s_add (&p, s_day (2026, 4, 10), 9000);
    s_open (&p, s_paris, s_day (2026, 3, 1));
    promise_pay (&p, 12500, s_ms ("2026-03-05T00:00:00Z"), &ch);
    char good[256], text[256];
    assert_true (promise_encode (&p, good, sizeof good) > 0);
    for (int round = 0; round < 40000; round++) {
        size_t len;
        if (round % 2) {
            /* Random text from the encoding's own characters, often behind a valid head. */
            len = pl_test_rand (&seed) % 120;
            size_t head = round % 4 == 1 ? 2 : 0;
            memcpy (text, "1|", head);
            for (size_t k = head; k < len; k++)
                text[k] = alphabet[pl_test_rand (&seed) % (sizeof alphabet - 1)];
            if (len < head)
                len = head;
        } else {
            /* A valid text with a few characters changed, dropped or repeated. */
            len = strlen (good);
            memcpy (text, good, len);
            int edits = 1 + (int) (pl_test_rand (&seed) % 4);
            for (int e = 0; e < edits && len > 0; e++) {
                size_t at = pl_test_rand (&seed) % len;
                switch (pl_test_rand (&seed) % 3) {
                case 0: text[at] = alphabet[pl_test_rand (&seed) % (sizeof alphabet - 1)]; break;
                case 1: memmove (text + at, text + at + 1, len - at - 1); len--; break;
                default:
                    if (len + 1 < sizeof text) {
                        memmove (text + at + 1, text + at, len - at);
                        len++;
                    }
                }
            }
        }
        text[len] = '\0';
        s_decode_or_refuse (text);
    }
}

/* ------------------------------------------------------------------------------------------ */

static int64_t
s_rand (uint64_t *seed, int64_t n)
{
    return (int64_t) (pl_test_rand (seed) % (uint64_t) n);
}

static bool
s_decided (promise_status_t s)
{
    return s == PROMISE_KEPT || s == PROMISE_PARTIALLY_KEPT || s == PROMISE_BROKEN;
}

/* Random promises through random payments, reversals, ticks and cancels, time moving forward.
 * After every step: no instalment holds more than its amount, the books balance (paid plus
 * credit is payments less reversals), an instalment is paid exactly when it is within
 * tolerance, a decided promise stays decided except a kept one a reversal reopens, the stored
 * form reads back the same, and a twin that is never ticked between payments reaches the
 * same status: when the clock is read does not change what it decides. */
static void
test_random_histories_keep_the_books (void **state)
{
    (void) state;
    uint64_t seed = 20260329;
    for (int round = 0; round < 3000; round++) {
        promise_t p, twin;
        s_new (&p, 0, 0, (int32_t) s_rand (&seed, 6));
        int64_t today = s_day (2026, 1, 1) + s_rand (&seed, 365);
        size_t n = 1 + (size_t) s_rand (&seed, 6);
        int64_t due = today, smallest = INT64_MAX;
        for (size_t i = 0; i < n; i++) {
            due += (i || s_rand (&seed, 2)) ? 1 + s_rand (&seed, 40) : 0;
            int64_t amount = 1 + (s_rand (&seed, 8) == 0 ? s_rand (&seed, 1000000000000LL)
                                                          : s_rand (&seed, 20000));
            s_add (&p, due, amount);
            smallest = amount < smallest ? amount : smallest;
        }
        switch (s_rand (&seed, 3)) {
        case 0: break;
        case 1: p.tolerance_minor = s_rand (&seed, smallest < 500 ? smallest : 500); break;
        default: p.tolerance_bp = (int32_t) s_rand (&seed, 3000); break;
        }
        s_open (&p, round % 2 ? s_paris : s_ny, today);
        twin = p;

        int64_t t = (today - 1) * T_DAY_MS + s_rand (&seed, 2 * T_DAY_MS);
        int64_t in = 0, out = 0, scale = promise_amount (&p) / (int64_t) n;
        for (int step = 0; step < 40; step++) {
            t += s_rand (&seed, 3 * T_DAY_MS);
            promise_status_t was = p.status;
            promise_change_t ch;
            int op = (int) s_rand (&seed, 20);
            bool reversal = false;
            if (op < 8) {
                int64_t amount = 1 + s_rand (&seed, scale + scale / 5 + 1);
                promise_pay (&p, amount, t, &ch);
                promise_pay (&twin, amount, t, NULL);
                in += amount;
            } else if (op < 11) {
                int64_t held = promise_paid (&p) + p.credit;
                int64_t amount = 1 + s_rand (&seed, held + 10);
                promise_reverse (&p, amount, t, &ch);
                promise_reverse (&twin, amount, t, NULL);
                out += amount < held ? amount : held;
                reversal = true;
            } else if (op < 19) {
                promise_tick (&p, t, &ch);
            } else {
                /* The operator cancels at t: both read the clock first. */
                promise_tick (&p, t, &ch);
                promise_tick (&twin, t, NULL);
                promise_status_t ticked = p.status;
                int rc = promise_cancel (&p);
                assert_int_equal (promise_cancel (&twin), rc);
                assert_int_equal (rc, ticked == PROMISE_ACTIVE ? 0 : PL_EINVAL);
            }

            assert_int_equal (promise_paid (&p) + p.credit, in - out);
            assert_true (p.credit >= 0);
            for (size_t i = 0; i < p.n; i++) {
                const promise_inst_t *it = &p.inst[i];
                assert_true (it->paid >= 0 && it->paid <= it->amount);
                bool paid = it->paid >= it->amount - promise_tolerance (&p, i);
                assert_true (paid == (it->status == PROMISE_INST_PAID));
                if (ch.paid & (1ULL << i))
                    assert_int_equal (it->status, PROMISE_INST_PAID);
                if (op >= 8 && (ch.missed & (1ULL << i)))
                    assert_int_equal (it->status, PROMISE_INST_MISSED);
            }
            if (s_decided (was) || was == PROMISE_CANCELLED) {
                if (was == PROMISE_KEPT && reversal)
                    assert_true (p.status != PROMISE_CANCELLED);
                else
                    assert_int_equal (p.status, was);
            }
            if (ch.reopened)
                assert_true (was == PROMISE_KEPT && reversal && p.status == PROMISE_ACTIVE);
            if (ch.decided)
                assert_true (s_decided (p.status)
                             && (was == PROMISE_ACTIVE || (was == PROMISE_KEPT && reversal)));
            if (op < 8 || op >= 19 || reversal)
                assert_int_equal (twin.status, p.status);
            s_round_trip (&p);
        }
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_open_names_each_field),
        cmocka_unit_test (test_tolerance_is_absolute_or_a_share_rounded_down),
        cmocka_unit_test (test_single_payment_exact_or_within_tolerance),
        cmocka_unit_test (test_deadline_is_the_end_of_grace_to_the_millisecond),
        cmocka_unit_test (test_deadlines_move_by_the_hour_on_dst_nights),
        cmocka_unit_test (test_deadline_when_midnight_is_skipped_or_repeated),
        cmocka_unit_test (test_payments_go_to_the_oldest_instalment_first),
        cmocka_unit_test (test_overpayment_becomes_credit),
        cmocka_unit_test (test_reversal_takes_credit_then_the_newest),
        cmocka_unit_test (test_cancel_only_an_active_promise),
        cmocka_unit_test (test_next_deadline_and_next_due),
        cmocka_unit_test (test_encode_round_trips_exactly),
        cmocka_unit_test (test_decode_refuses_corrupt_text),
        cmocka_unit_test (test_decode_never_crashes_on_garbage),
        cmocka_unit_test (test_random_histories_keep_the_books),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
