/*  test_promise_book.c — the promise book in process against a real Redis: a batch of payments
 *  (promise_book_pay_many, the bus door's path) ends exactly as the same payments applied one at
 *  a time, in a few script calls; payments that race on one promise with bus message ids all
 *  count (a lost compare-and-set leaves no seen marker); a creditor's notes page in the order
 *  they were written among another's; decided promises, payment records and idle accounts
 *  expire after the retention, active ones never; a promise waits in one zset for its reminder,
 *  then its deadline (reminders in the zset of their own that a version before kept still go
 *  out); a promise's facts, a payment's record and a creditor's note are packed, and the layout
 *  of a field each still reads; a
 *  promise id taken on another account is
 *  refused; a key of the wrong type fails its own
 *  payment, not the batch; a Redis outage fails every payment of a batch and writes nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "book.h"
#include "pl_test.h"
#include "plateau/clock.h"
#include "plateau/error.h"
#include "plateau/redis.h"

#define T0 1796634000000LL                 /* Monday 2026-12-07 09:00 UTC */
#define NACC 40
#define DUE_DAYS (T0 / 86400000 + 10)

typedef struct {
    pl_test_redis_t *srv;
    pl_clock_t *clock;
} fx_t;

static int
s_setup (void **state)
{
    fx_t *f = calloc (1, sizeof *f);
    *state = f;
    f->srv = pl_test_redis_start ("appendonly yes\nappendfsync always\n");   /* an outage keeps the data */
    f->clock = pl_clock_new_virtual (T0);
    return f->srv && f->clock ? 0 : -1;
}

static int
s_teardown (void **state)
{
    fx_t *f = *state;
    pl_test_redis_stop (&f->srv);
    pl_clock_destroy (&f->clock);
    free (f);
    return 0;
}

static promise_book_t *
s_book (fx_t *f, pl_redis_t **redis)
{
    *redis = pl_redis_new (pl_test_redis_url (f->srv), 2000);
    assert_non_null (*redis);
    promise_book_opts_t o = { .redis = *redis, .clock = f->clock, .service = "promise", .replica = "promise-0",
                              .audit = true, .remind_days = 2 };
    promise_book_t *b = promise_book_new (&o);
    assert_non_null (b);
    return b;
}

/* Opens promise id on account for creditor: `amount` in one EUR instalment (USD for ACC-9); the
 * step's answer. */
static int
s_open (promise_book_t *b, const char *id, const char *account, const char *creditor, long long amount)
{
    promise_rec_t r = { 0 };
    snprintf (r.id, sizeof r.id, "%s", id);
    snprintf (r.account, sizeof r.account, "%s", account);
    snprintf (r.creditor, sizeof r.creditor, "%s", creditor);
    snprintf (r.tenant, sizeof r.tenant, "collect-fr");
    snprintf (r.phone, sizeof r.phone, "+33612340000");
    snprintf (r.zone, sizeof r.zone, "Europe/Paris");
    snprintf (r.campaign, sizeof r.campaign, "recovery");
    snprintf (r.agent, sizeof r.agent, "agent-1");
    snprintf (r.source, sizeof r.source, "test");
    memcpy (r.ledger.currency, strcmp (account, "ACC-9") ? "EUR" : "USD", 4);
    r.ledger.grace_days = 2;
    r.ledger.n = 1;
    r.ledger.inst[0].due_days = DUE_DAYS;
    r.ledger.inst[0].amount = amount;
    char field[64], msg[256];
    return promise_book_open (b, &r, NULL, NULL, field, sizeof field, msg, sizeof msg);
}

/* Promise P-i on account ACC-i: 100.00 in one instalment, in USD for ACC-9, EUR for the rest. */
static void
s_open_all (promise_book_t *b)
{
    for (int i = 0; i < NACC; i++) {
        char id[32], acc[32];
        snprintf (id, sizeof id, "P-%d", i);
        snprintf (acc, sizeof acc, "ACC-%d", i);
        assert_int_equal (s_open (b, id, acc, "bank", 10000), 0);
    }
}

/* A book on an empty Redis with the forty promises open. */
static promise_book_t *
s_fresh (fx_t *f, pl_redis_t **redis)
{
    promise_book_t *b = s_book (f, redis);
    assert_int_equal (pl_redis_exec (*redis, "FLUSHALL"), 0);
    s_open_all (b);
    return b;
}

static void
s_pay (promise_pay_item_t *it, const char *id, const char *account, long long amount, const char *currency,
       const char *reverses)
{
    memset (it, 0, sizeof *it);
    snprintf (it->pay.id, sizeof it->pay.id, "%s", id);
    snprintf (it->pay.account, sizeof it->pay.account, "%s", account);
    snprintf (it->pay.currency, sizeof it->pay.currency, "%s", currency);
    it->pay.amount = amount;
    it->pay.paid_at_ms = T0 - 60000;
    if (reverses) {
        it->pay.reversal = true;
        snprintf (it->pay.reverses, sizeof it->pay.reverses, "%s", reverses);
    }
    snprintf (it->pay.source, sizeof it->pay.source, "bank-bridge");
}

/* The batch: every case a payment bridge sends, then plain payments to the other accounts. */
static size_t
s_batch (promise_pay_item_t *it)
{
    size_t n = 0;
    s_pay (&it[n++], "pay-1", "ACC-0", 2500, "EUR", NULL);     /* 0 applied */
    s_pay (&it[n++], "pay-2", "ACC-1", 10000, "EUR", NULL);    /* 1 keeps P-1 */
    s_pay (&it[n++], "pay-3", "ACC-0", 1000, "EUR", NULL);     /* 2 the same account again */
    s_pay (&it[n++], "pay-1", "ACC-0", 2500, "EUR", NULL);     /* 3 the same payment again */
    s_pay (&it[n++], "pay-4", "ACC-2", 100, "eur", NULL);      /* 4 refused: currency */
    s_pay (&it[n++], "pay-5", "ACC-9", 100, "EUR", NULL);      /* 5 refused: P-9 is in USD */
    s_pay (&it[n++], "pay-6", "NOPE-1", 500, "EUR", NULL);     /* 6 no promise yet: unmatched */
    s_pay (&it[n++], "pay-8", "ACC-4", 4000, "EUR", NULL);     /* 7 applied */
    s_pay (&it[n++], "rev-1", "ACC-4", 1000, "EUR", "pay-8");  /* 8 reverses part of 7 */
    s_pay (&it[n++], "rev-2", "ACC-5", 100, "EUR", "pay-0");   /* 9 refused: reverses nothing */
    s_pay (&it[n++], "pay-9", "ACC-6", -5, "EUR", NULL);       /* 10 refused: amount */
    s_pay (&it[n++], "pay-10", "ACC-7", 10200, "EUR", NULL);   /* 11 over-paid: kept */
    for (int i = 10; i < NACC; i++) {
        char id[32], acc[32];
        snprintf (id, sizeof id, "pay-x%d", i);
        snprintf (acc, sizeof acc, "ACC-%d", i);
        s_pay (&it[n++], id, acc, 100 * i, "EUR", NULL);
    }
    return n;
}

/* Everything the book shows of the accounts, the promises and the payments, as one text. */
static char *
s_state (promise_book_t *b, const promise_pay_item_t *it, size_t n)
{
    json_t *all = json_array ();
    int rc;
    for (int i = 0; i < NACC; i++) {
        char id[32], acc[32];
        snprintf (id, sizeof id, "P-%d", i);
        snprintf (acc, sizeof acc, "ACC-%d", i);
        json_array_append_new (all, promise_book_get (b, id, &rc));
        json_array_append_new (all, promise_book_account (b, acc, &rc));
    }
    json_array_append_new (all, promise_book_account (b, "NOPE-1", &rc));
    for (size_t i = 0; i < n; i++) {
        json_t *p = promise_book_payment (b, it[i].pay.id, it[i].pay.account, &rc);
        json_array_append_new (all, p ? p : json_null ());
    }
    char *s = json_dumps (all, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref (all);
    return s;
}

static void
test_a_batch_ends_as_the_same_payments_one_at_a_time (void **state)
{
    fx_t *f = *state;
    pl_redis_t *redis;
    promise_book_t *b = s_book (f, &redis);
    promise_pay_item_t one[64], many[64];
    size_t n = s_batch (one);
    memcpy (many, one, sizeof one);

    /* One at a time, as the HTTP door does (promise_book_pay: a batch of one). */
    s_open_all (b);
    for (size_t i = 0; i < n; i++)
        one[i].rc = promise_book_pay (b, &one[i].pay, NULL, NULL, one[i].status, sizeof one[i].status,
                                      one[i].promise_id, sizeof one[i].promise_id, one[i].field, sizeof one[i].field,
                                      one[i].msg, sizeof one[i].msg);
    char *want = s_state (b, one, n);

    /* Again from nothing, as one batch. */
    assert_int_equal (pl_redis_exec (redis, "FLUSHALL"), 0);
    s_open_all (b);
    pl_reply_t *r = pl_redis_command (redis, "CONFIG RESETSTAT");
    pl_reply_free (&r);
    assert_int_equal (promise_book_pay_many (b, many, n), 0);
    r = pl_redis_command (redis, "INFO commandstats");
    const char *stats = pl_reply_str (r, NULL);
    const char *ev = stats ? strstr (stats, "cmdstat_evalsha:calls=") : NULL;
    long long calls = ev ? atoll (ev + strlen ("cmdstat_evalsha:calls=")) : -1;
    pl_reply_free (&r);
    char *got = s_state (b, many, n);

    for (size_t i = 0; i < n; i++) {
        assert_int_equal (many[i].rc, one[i].rc);
        assert_string_equal (many[i].status, one[i].status);
        assert_string_equal (many[i].promise_id, one[i].promise_id);
        assert_string_equal (many[i].field, one[i].field);
    }
    assert_string_equal (got, want);

    /* What each case became. */
    assert_string_equal (many[0].status, "applied");
    assert_string_equal (many[0].promise_id, "P-0");
    assert_string_equal (many[1].status, "applied");
    assert_string_equal (many[2].status, "applied");
    assert_string_equal (many[3].status, "duplicate");
    assert_int_equal (many[4].rc, PL_EINVAL);
    assert_string_equal (many[4].field, "currency");
    assert_int_equal (many[5].rc, PL_EINVAL);
    assert_string_equal (many[5].field, "currency");
    assert_string_equal (many[6].status, "unmatched");
    assert_string_equal (many[8].status, "reversed");
    assert_int_equal (many[9].rc, PL_EINVAL);
    assert_string_equal (many[9].field, "reverses");
    assert_int_equal (many[10].rc, PL_EINVAL);
    assert_string_equal (many[10].field, "amount");
    int rc;
    json_t *p1 = promise_book_get (b, "P-1", &rc), *p0 = promise_book_get (b, "P-0", &rc);
    assert_string_equal (json_string_value (json_object_get (p1, "status")), "kept");
    assert_int_equal (json_integer_value (json_object_get (p0, "paid")), 3500);
    json_decref (p1);
    json_decref (p0);
    /* The batch's steps went in a call per shard, not one per payment: 37 steps (with the ones
     * that went alone) over 16 shards. */
    assert_true (calls > 0);
    assert_true (calls <= 16 + 3);
    free (want);
    free (got);
    promise_book_destroy (&b);
    pl_redis_destroy (&redis);
}

typedef struct {
    fx_t *f;
    int t;
    bool batched;
    int failed, applied, redelivered;
} s_racer_t;

/* 25 payments of 0.01 to ACC-0, each with a bus message id; batched: each in a batch with a
 * payment to an account of the thread's own. A payment that kept losing its race (PL_EBUSY: not
 * applied) is delivered again with the same message id, as the bus does after its nack. */
static void *
s_race (void *arg)
{
    s_racer_t *x = arg;
    pl_redis_t *redis;
    promise_book_t *b = s_book (x->f, &redis);
    for (int i = 0; i < 25; i++) {
        promise_pay_item_t it[2];
        char id[2][64], step[2][64];
        size_t n = x->batched ? 2 : 1;
        snprintf (id[0], sizeof id[0], "race-%d-%d-%d", x->batched, x->t, i);
        snprintf (step[0], sizeof step[0], "msg-%d-%d-%d", x->batched, x->t, i);
        snprintf (id[1], sizeof id[1], "own-%d-%d", x->t, i);
        snprintf (step[1], sizeof step[1], "own-msg-%d-%d", x->t, i);
        bool pending[2] = { true, x->batched };
        for (int delivery = 0; delivery < 20 && (pending[0] || pending[1]); delivery++) {
            size_t m = 0;
            size_t which[2];
            for (size_t k = 0; k < n; k++)
                if (pending[k]) {
                    char acc[32];
                    snprintf (acc, sizeof acc, "ACC-%d", k == 0 ? 0 : 20 + x->t);
                    s_pay (&it[m], id[k], acc, 1, "EUR", NULL);
                    it[m].step_id = step[k];
                    which[m++] = k;
                }
            if (x->batched) {
                if (promise_book_pay_many (b, it, m) != 0)
                    for (size_t k = 0; k < m; k++)
                        it[k].rc = PL_ENOMEM;
            } else
                it[0].rc = promise_book_pay (b, &it[0].pay, it[0].step_id, NULL, it[0].status, sizeof it[0].status,
                                             it[0].promise_id, sizeof it[0].promise_id, it[0].field,
                                             sizeof it[0].field, it[0].msg, sizeof it[0].msg);
            for (size_t k = 0; k < m; k++) {
                if (it[k].rc == PL_EBUSY) {
                    x->redelivered++;
                    continue;
                }
                pending[which[k]] = false;
                if (it[k].rc != 0) {
                    x->failed++;
                    fprintf (stderr, "payment %s: %s (%s %s)\n", it[k].pay.id, pl_strerror (it[k].rc),
                             it[k].field, it[k].msg);
                } else if (!strcmp (it[k].status, "applied"))
                    x->applied++;
            }
        }
        x->failed += pending[0] + pending[1];
    }
    promise_book_destroy (&b);
    pl_redis_destroy (&redis);
    return NULL;
}

static void
test_racing_bus_payments_on_one_promise_all_count (void **state)
{
    fx_t *f = *state;
    pl_redis_t *redis;
    promise_book_t *b = s_fresh (f, &redis);
    for (int batched = 0; batched < 2; batched++) {
        s_racer_t x[4];
        pthread_t t[4];
        for (int i = 0; i < 4; i++) {
            x[i] = (s_racer_t) { f, i, batched, 0, 0, 0 };
            pthread_create (&t[i], NULL, s_race, &x[i]);
        }
        for (int i = 0; i < 4; i++) {
            pthread_join (t[i], NULL);
            assert_int_equal (x[i].failed, 0);
            assert_int_equal (x[i].applied, batched ? 50 : 25);
        }
    }
    int rc;
    json_t *p = promise_book_get (b, "P-0", &rc);
    assert_int_equal (json_integer_value (json_object_get (p, "paid")), 2 * 4 * 25);
    json_decref (p);
    /* A redelivery of one of those messages is a duplicate, not a second payment. */
    promise_pay_item_t it;
    s_pay (&it, "race-0-0-0", "ACC-0", 1, "EUR", NULL);
    it.step_id = "msg-0-0-0";
    assert_int_equal (promise_book_pay_many (b, &it, 1), 0);
    assert_int_equal (it.rc, 0);
    assert_string_equal (it.status, "duplicate");
    promise_book_destroy (&b);
    pl_redis_destroy (&redis);
}

/* Pages of a creditor's notes from the start, `limit` at a time, until a page is empty and the
 * cursor stays: all of them, and how many pages it took. */
static char *
s_notes_paged (promise_book_t *b, const char *creditor, int limit, int *pages)
{
    char cursor[64] = "0", next[64];
    char *all = NULL;
    size_t len = 0;
    for (*pages = 0; *pages < 10000; (*pages)++) {
        size_t before = len;
        assert_int_equal (promise_book_notes (b, creditor, cursor, limit, &all, &len, next, sizeof next), 0);
        if (len == before && !strcmp (next, cursor))
            break;
        snprintf (cursor, sizeof cursor, "%s", next);
    }
    return all ? all : strdup ("");
}

static size_t
s_lines (const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void
test_a_creditors_notes_page_in_order_among_others (void **state)
{
    fx_t *f = *state;
    pl_redis_t *redis;
    promise_book_t *b = s_fresh (f, &redis);
    /* Three promises of a rare creditor among the bank's forty. */
    for (int i = 0; i < 3; i++) {
        char id[32], acc[32];
        snprintf (id, sizeof id, "R-%d", i);
        snprintf (acc, sizeof acc, "RARE-%d", i);
        assert_int_equal (s_open (b, id, acc, "rare", 10000), 0);
    }
    /* 15 batches: a payment of 0.01 to each bank account, one to a rare one in three of them. */
    for (int round = 0; round < 15; round++) {
        promise_pay_item_t it[NACC + 1];
        size_t n = 0;
        for (int a = 0; a < NACC; a++) {
            char id[32], acc[32];
            snprintf (id, sizeof id, "n-%d-%d", round, a);
            snprintf (acc, sizeof acc, "ACC-%d", a);
            s_pay (&it[n++], id, acc, 1, a == 9 ? "USD" : "EUR", NULL);
        }
        if (round % 5 == 2) {
            char id[32], acc[32];
            snprintf (id, sizeof id, "r-%d", round);
            snprintf (acc, sizeof acc, "RARE-%d", round / 5);
            s_pay (&it[n++], id, acc, 1, "EUR", NULL);
        }
        assert_int_equal (promise_book_pay_many (b, it, n), 0);
        for (size_t i = 0; i < n; i++)
            assert_int_equal (it[i].rc, 0);
    }
    int pages;
    char *whole = s_notes_paged (b, "bank", 10000, &pages);
    assert_int_equal (s_lines (whole), 15 * NACC);
    assert_int_equal (pages, 1);
    char *paged = s_notes_paged (b, "bank", 7, &pages);
    assert_string_equal (paged, whole);                 /* the same notes, the same order */
    assert_int_equal (pages, (15 * NACC + 6) / 7);
    free (paged);
    char *rare = s_notes_paged (b, "rare", 2, &pages);
    assert_int_equal (s_lines (rare), 3);
    assert_non_null (strstr (rare, "\"payment_id\":\"r-2\""));
    assert_true (strstr (rare, "r-2") < strstr (rare, "r-7") && strstr (rare, "r-7") < strstr (rare, "r-12"));
    assert_null (strstr (rare, "\"creditor\":\"bank\""));
    free (rare);
    free (whole);
    promise_book_destroy (&b);
    pl_redis_destroy (&redis);
}

/* The TTL left on key `what:<id>` of account's shard, in days (-1: none, -2: no key). */
static double
s_ttl_days (fx_t *f, const char *account, const char *what, const char *id)
{
    long long ms = pl_test_redis_int (f->srv, "PTTL pl:{prom:%d}:%s:%s", promise_book_shard (account), what, id);
    return ms < 0 ? (double) ms : (double) ms / 86400000.0;
}

static void
s_pay1 (promise_book_t *b, const char *id, const char *account, long long amount, const char *reverses,
        const char *want)
{
    promise_pay_item_t it;
    s_pay (&it, id, account, amount, "EUR", reverses);
    assert_int_equal (promise_book_pay_many (b, &it, 1), 0);
    assert_int_equal (it.rc, 0);
    assert_string_equal (it.status, want);
}

static void
test_what_is_decided_leaves_redis_after_the_retention (void **state)
{
    fx_t *f = *state;
    pl_redis_t *redis = pl_redis_new (pl_test_redis_url (f->srv), 2000);
    pl_clock_t *clock = pl_clock_new_virtual (T0);     /* its own: it goes past the deadlines */
    promise_book_opts_t o = { .redis = redis, .clock = clock, .service = "promise", .replica = "promise-0",
                              .audit = true, .remind_days = 2, .retention_days = 30 };
    promise_book_t *b = promise_book_new (&o);
    assert_non_null (b);
    assert_int_equal (pl_redis_exec (redis, "FLUSHALL"), 0);
    s_open_all (b);
    assert_int_equal (s_ttl_days (f, "ACC-1", "p", "P-1"), -1);          /* active: kept */
    assert_int_equal (s_ttl_days (f, "ACC-1", "a", "ACC-1"), -1);

    /* Kept: the promise, its payment and its idle account go in 30 days. */
    s_pay1 (b, "k-1", "ACC-1", 10000, NULL, "applied");
    assert_in_range ((long) s_ttl_days (f, "ACC-1", "p", "P-1"), 29, 30);
    assert_in_range ((long) s_ttl_days (f, "ACC-1", "pay", "k-1"), 29, 30);
    assert_in_range ((long) s_ttl_days (f, "ACC-1", "a", "ACC-1"), 29, 30);
    /* Partly paid, still active: only the payment's record expires. */
    s_pay1 (b, "k-2", "ACC-2", 100, NULL, "applied");
    assert_int_equal (s_ttl_days (f, "ACC-2", "p", "P-2"), -1);
    assert_int_equal (s_ttl_days (f, "ACC-2", "a", "ACC-2"), -1);
    assert_in_range ((long) s_ttl_days (f, "ACC-2", "pay", "k-2"), 29, 30);
    /* Nobody's payment: its record and the account's hash expire. */
    s_pay1 (b, "k-3", "NEW-1", 700, NULL, "unmatched");
    assert_in_range ((long) s_ttl_days (f, "NEW-1", "pay", "k-3"), 29, 30);
    assert_in_range ((long) s_ttl_days (f, "NEW-1", "a", "NEW-1"), 29, 30);
    /* A bounce reopens P-1: active again, it stays. */
    s_pay1 (b, "k-1r", "ACC-1", 5000, "k-1", "reversed");
    assert_int_equal (s_ttl_days (f, "ACC-1", "p", "P-1"), -1);
    assert_int_equal (s_ttl_days (f, "ACC-1", "a", "ACC-1"), -1);
    /* A promise opened on NEW-1 takes its payment: the account stays while it is active. */
    assert_int_equal (s_open (b, "N-1", "NEW-1", "bank", 5000), 0);
    assert_int_equal (s_ttl_days (f, "NEW-1", "a", "NEW-1"), -1);
    assert_int_equal (s_ttl_days (f, "NEW-1", "p", "N-1"), -1);
    /* Paid in full before its promise came: kept as it opens, it expires at once too. */
    s_pay1 (b, "k-4", "NEW-2", 5000, NULL, "unmatched");
    assert_int_equal (s_open (b, "N-2", "NEW-2", "bank", 5000), 0);
    assert_in_range ((long) s_ttl_days (f, "NEW-2", "p", "N-2"), 29, 30);
    assert_in_range ((long) s_ttl_days (f, "NEW-2", "a", "NEW-2"), 29, 30);
    /* Broken by the sweep once its deadline has passed: it expires too. */
    assert_int_equal (pl_clock_set (clock, (DUE_DAYS + 5) * 86400000LL), 0);
    while (promise_book_sweep (b, 1000) > 0)
        ;
    int rc;
    json_t *p = promise_book_get (b, "P-2", &rc);
    assert_string_equal (json_string_value (json_object_get (p, "status")), "partially_kept");
    json_decref (p);
    assert_in_range ((long) s_ttl_days (f, "ACC-2", "p", "P-2"), 29, 30);
    assert_in_range ((long) s_ttl_days (f, "ACC-2", "a", "ACC-2"), 29, 30);
    promise_book_destroy (&b);
    pl_redis_destroy (&redis);
    pl_clock_destroy (&clock);
}

/* The instant promise id of account waits for in due (ms), or -1 when it has none. */
static long long
s_due_at (pl_redis_t *redis, const char *account, const char *id)
{
    pl_reply_t *r = pl_redis_command (redis, "ZSCORE pl:{prom:%d}:due %s", promise_book_shard (account), id);
    const char *v = r ? pl_reply_str (r, NULL) : NULL;
    long long at = v ? (long long) strtod (v, NULL) : -1;
    pl_reply_free (&r);
    return at;
}

/* How many reminder notes for promise id the creditor "bank" has. */
static int
s_reminders (promise_book_t *b, const char *id)
{
    char *out = NULL, next[64];
    size_t len = 0;
    assert_int_equal (promise_book_notes (b, "bank", "0", 10000, &out, &len, next, sizeof next), 0);
    char want[64];
    snprintf (want, sizeof want, "\"promise\":\"%s\"", id);
    int n = 0;
    for (char *line = out ? strtok (out, "\n") : NULL; line; line = strtok (NULL, "\n"))
        n += strstr (line, "\"kind\":\"reminder\"") && strstr (line, want);
    free (out);
    return n;
}

/* One entry per promise in due, at its next reminder or deadline, whichever comes first; a
 * payment that leaves it there does not move it; reminders in the zset of their own that a
 * version before kept are folded in by the first sweep and still go out, once. */
static void
test_a_promise_waits_in_one_zset_for_its_reminder_then_its_deadline (void **state)
{
    fx_t *f = *state;
    pl_redis_t *redis = pl_redis_new (pl_test_redis_url (f->srv), 2000);
    pl_clock_t *clock = pl_clock_new_virtual (T0);     /* its own: it goes past the deadlines */
    promise_book_opts_t o = { .redis = redis, .clock = clock, .service = "promise", .replica = "promise-0",
                              .audit = true, .remind_days = 2 };
    promise_book_t *b = promise_book_new (&o);
    assert_non_null (b);
    assert_int_equal (pl_redis_exec (redis, "FLUSHALL"), 0);
    s_open_all (b);
    /* 2026-12-17 is due: the reminder on 2026-12-15 at 09:00 in Paris (08:00 UTC). */
    long long remind = (DUE_DAYS - 2) * 86400000LL + 8 * 3600000LL;
    int rc;
    json_t *p = promise_book_get (b, "P-0", &rc);
    long long deadline = (long long) json_integer_value (json_object_get (p, "next_deadline_ms"));
    json_decref (p);
    assert_true (deadline > remind);
    assert_int_equal (s_due_at (redis, "ACC-0", "P-0"), remind);
    assert_int_equal (pl_test_redis_int (f->srv, "EXISTS pl:{prom:%d}:rem", promise_book_shard ("ACC-0")), 0);
    s_pay1 (b, "part-0", "ACC-0", 2500, NULL, "applied");
    assert_int_equal (s_due_at (redis, "ACC-0", "P-0"), remind);
    s_pay1 (b, "all-3", "ACC-3", 10000, NULL, "applied");         /* kept: nothing left to wait for */
    assert_int_equal (s_due_at (redis, "ACC-3", "P-3"), -1);

    /* P-1 as a version before left it: its deadline in due, its reminder in rem. */
    int s1 = promise_book_shard ("ACC-1");
    assert_int_equal (pl_redis_exec (redis, "ZADD pl:{prom:%d}:due %lld P-1", s1, deadline), 0);
    assert_int_equal (pl_redis_exec (redis, "ZADD pl:{prom:%d}:rem %lld P-1", s1, remind), 0);
    assert_int_equal (pl_clock_set (clock, remind - 1), 0);
    assert_int_equal (promise_book_sweep (b, 1000), 0);
    assert_int_equal (pl_test_redis_int (f->srv, "EXISTS pl:{prom:%d}:rem", s1), 0);
    assert_int_equal (s_due_at (redis, "ACC-1", "P-1"), remind);
    assert_int_equal (s_reminders (b, "P-0") + s_reminders (b, "P-1"), 0);

    assert_int_equal (pl_clock_set (clock, remind), 0);
    while (promise_book_sweep (b, 1000) > 0)
        ;
    assert_int_equal (s_reminders (b, "P-0"), 1);
    assert_int_equal (s_reminders (b, "P-1"), 1);
    assert_int_equal (s_due_at (redis, "ACC-0", "P-0"), deadline);
    assert_int_equal (s_due_at (redis, "ACC-1", "P-1"), deadline);
    assert_int_equal (promise_book_sweep (b, 1000), 0);            /* sent once */

    assert_int_equal (pl_clock_set (clock, deadline), 0);
    while (promise_book_sweep (b, 1000) > 0)
        ;
    p = promise_book_get (b, "P-0", &rc);
    assert_string_equal (json_string_value (json_object_get (p, "status")), "partially_kept");
    json_decref (p);
    p = promise_book_get (b, "P-1", &rc);
    assert_string_equal (json_string_value (json_object_get (p, "status")), "broken");
    json_decref (p);
    for (int s = 0; s < PROMISE_SHARDS; s++)
        assert_int_equal (pl_test_redis_int (f->srv, "ZCARD pl:{prom:%d}:due", s), 0);
    assert_int_equal (s_reminders (b, "P-0"), 1);
    promise_book_destroy (&b);
    pl_redis_destroy (&redis);
    pl_clock_destroy (&clock);
}

/* The facts are one packed field; a promise written with a field per fact (before they were
 * packed) still reads and takes payments; text that would break the packing or the KPIs' fields
 * is refused, naming its field; a packed field that does not unpack reads as corrupt. */
static void
test_a_promises_facts_are_packed_and_the_old_layout_still_reads (void **state)
{
    fx_t *f = *state;
    pl_redis_t *redis;
    promise_book_t *b = s_fresh (f, &redis);
    int s0 = promise_book_shard ("ACC-0");
    assert_int_equal (pl_test_redis_int (f->srv, "HEXISTS pl:{prom:%d}:p:P-0 f", s0), 1);
    assert_int_equal (pl_test_redis_int (f->srv, "HEXISTS pl:{prom:%d}:p:P-0 cp", s0), 0);
    int rc;
    json_t *p = promise_book_get (b, "P-0", &rc);
    assert_int_equal (rc, 0);
    assert_string_equal (json_string_value (json_object_get (p, "account")), "ACC-0");
    assert_string_equal (json_string_value (json_object_get (p, "creditor")), "bank");
    assert_string_equal (json_string_value (json_object_get (p, "tenant")), "collect-fr");
    assert_string_equal (json_string_value (json_object_get (p, "phone")), "+33612340000");
    assert_string_equal (json_string_value (json_object_get (p, "zone")), "Europe/Paris");
    assert_string_equal (json_string_value (json_object_get (p, "campaign")), "recovery");
    assert_string_equal (json_string_value (json_object_get (p, "agent")), "agent-1");
    assert_string_equal (json_string_value (json_object_get (p, "lead")), "");
    assert_string_equal (json_string_value (json_object_get (p, "source")), "test");
    assert_int_equal (json_integer_value (json_object_get (p, "made_at_ms")), T0);
    char *packed = json_dumps (p, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref (p);

    /* P-0 rewritten as the older layout had it: the same promise reads the same. */
    pl_reply_t *l = pl_redis_command (redis, "HGET pl:{prom:%d}:p:P-0 l", s0);
    assert_non_null (l);
    char ledger[512];
    snprintf (ledger, sizeof ledger, "%s", pl_reply_str (l, NULL));
    pl_reply_free (&l);
    assert_int_equal (pl_redis_exec (redis, "DEL pl:{prom:%d}:p:P-0", s0), 0);
    assert_int_equal (pl_redis_exec (redis, "HSET pl:{prom:%d}:p:P-0 v 1 l %s st active a ACC-0 cr bank tn collect-fr "
                                            "ph +33612340000 z Europe/Paris cp recovery ld %s ag agent-1 dl %s m %lld "
                                            "src test",
                                     s0, ledger, "", "", T0), 0);
    p = promise_book_get (b, "P-0", &rc);
    assert_int_equal (rc, 0);
    char *legacy = json_dumps (p, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref (p);
    assert_string_equal (legacy, packed);
    free (legacy);
    free (packed);
    s_pay1 (b, "old-1", "ACC-0", 2500, NULL, "applied");
    p = promise_book_get (b, "P-0", &rc);
    assert_int_equal (json_integer_value (json_object_get (p, "paid")), 2500);
    json_decref (p);

    /* Refused, naming the field, and nothing stored. */
    promise_rec_t r = { 0 };
    snprintf (r.id, sizeof r.id, "P-bad");
    snprintf (r.account, sizeof r.account, "ACC-bad");
    snprintf (r.creditor, sizeof r.creditor, "bank");
    snprintf (r.phone, sizeof r.phone, "+33612340000");
    memcpy (r.ledger.currency, "EUR", 4);
    r.ledger.n = 1;
    r.ledger.inst[0].due_days = DUE_DAYS;
    r.ledger.inst[0].amount = 100;
    char field[64], msg[256];
    const struct { const char *name; size_t off; const char *v; } bad[] = {
        { "campaign", offsetof (promise_rec_t, campaign), "fr|other" },
        { "agent", offsetof (promise_rec_t, agent), "a|b" },
        { "lead", offsetof (promise_rec_t, lead), "L\x1f" "1" },
        { "tenant", offsetof (promise_rec_t, tenant), "t\n" },
        { "dial_id", offsetof (promise_rec_t, dial), "d\x01" },
        { "source", offsetof (promise_rec_t, source), "\x7f" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        promise_rec_t one = r;
        snprintf ((char *) &one + bad[i].off, 64, "%s", bad[i].v);
        assert_int_equal (promise_book_open (b, &one, NULL, NULL, field, sizeof field, msg, sizeof msg), PL_EINVAL);
        assert_string_equal (field, bad[i].name);
    }
    assert_null (promise_book_get (b, "P-bad", &rc));
    assert_int_equal (rc, PL_ENOTFOUND);

    /* A packed field with a value missing: corrupt, not a promise with facts shifted. */
    int s1 = promise_book_shard ("ACC-1");
    assert_int_equal (pl_redis_exec (redis, "HSET pl:{prom:%d}:p:P-1 f %s", s1, "ACC-1\x1f" "bank"), 0);
    assert_null (promise_book_get (b, "P-1", &rc));
    assert_int_equal (rc, PL_ECORRUPT);
    promise_book_destroy (&b);
    pl_redis_destroy (&redis);
}

/* A payment's record keeps what the steps change in fields of their own and what the payment
 * was packed in one; a creditor's note is one field. Records and notes written with a field each
 * (before they were packed) still read: a payment again is a duplicate, a note is exported. */
static void
test_payment_records_and_notes_are_packed_and_the_old_layout_still_reads (void **state)
{
    fx_t *f = *state;
    pl_redis_t *redis;
    promise_book_t *b = s_fresh (f, &redis);
    int s0 = promise_book_shard ("ACC-0"), s1 = promise_book_shard ("ACC-1");
    s_pay1 (b, "new-1", "ACC-0", 2500, NULL, "applied");
    assert_int_equal (pl_test_redis_int (f->srv, "HLEN pl:{prom:%d}:pay:new-1", s0), 3);
    int rc;
    json_t *p = promise_book_payment (b, "new-1", "ACC-0", &rc);
    assert_int_equal (rc, 0);
    char *text = json_dumps (p, JSON_SORT_KEYS | JSON_COMPACT);
    assert_string_equal (text, "{\"account\":\"ACC-0\",\"amount\":2500,\"currency\":\"EUR\",\"payment_id\":\"new-1\","
                               "\"promise\":\"P-0\",\"reversed\":0,\"status\":\"applied\"}");
    free (text);
    json_decref (p);

    /* A record and a note as the older layout wrote them. */
    assert_int_equal (pl_redis_exec (redis, "HSET pl:{prom:%d}:pay:old-2 account ACC-1 amount 3000 currency EUR "
                                            "paid_at %lld received %lld st applied promise P-1 kind payment "
                                            "reverses %s method %s reference %s source bridge", s1, T0, T0, "", "", ""),
                      0);
    assert_int_equal (pl_redis_exec (redis, "XADD pl:{prom:%d}:notes * creditor bank kind payment payment_id old-2 "
                                            "account ACC-1 amount 3000 currency EUR paid_at %lld promise P-1 "
                                            "promise_status active promise_paid 3000 promise_amount 10000", s1, T0), 0);
    p = promise_book_payment (b, "old-2", "ACC-1", &rc);
    assert_int_equal (rc, 0);
    text = json_dumps (p, JSON_SORT_KEYS | JSON_COMPACT);
    assert_string_equal (text, "{\"account\":\"ACC-1\",\"amount\":3000,\"currency\":\"EUR\",\"payment_id\":\"old-2\","
                               "\"promise\":\"P-1\",\"reversed\":0,\"status\":\"applied\"}");
    free (text);
    json_decref (p);
    promise_pay_item_t it;
    s_pay (&it, "old-2", "ACC-1", 3000, "EUR", NULL);
    assert_int_equal (promise_book_pay_many (b, &it, 1), 0);
    assert_string_equal (it.status, "duplicate");

    char *out = NULL, next[64];
    size_t len = 0;
    assert_int_equal (promise_book_notes (b, "bank", "0", 100, &out, &len, next, sizeof next), 0);
    assert_non_null (out);
    assert_non_null (strstr (out, "{\"creditor\":\"bank\",\"kind\":\"payment\",\"payment_id\":\"new-1\","
                                  "\"account\":\"ACC-0\",\"amount\":2500,\"currency\":\"EUR\""));
    assert_non_null (strstr (out, "\"promise\":\"P-0\",\"promise_status\":\"active\",\"promise_paid\":2500,"
                                  "\"promise_amount\":10000}"));
    assert_non_null (strstr (out, "{\"creditor\":\"bank\",\"kind\":\"payment\",\"payment_id\":\"old-2\","
                                  "\"account\":\"ACC-1\",\"amount\":3000,"));
    free (out);

    /* Free text with a control character: refused, naming its member, nothing stored. */
    s_pay (&it, "ctl-1", "ACC-2", 100, "EUR", NULL);
    snprintf (it.pay.method, sizeof it.pay.method, "card\x1f" "x");
    assert_int_equal (promise_book_pay_many (b, &it, 1), 0);
    assert_int_equal (it.rc, PL_EINVAL);
    assert_string_equal (it.field, "method");
    s_pay (&it, "ctl-2", "ACC-2", 100, "EUR", NULL);
    snprintf (it.pay.reference, sizeof it.pay.reference, "ref\n");
    assert_int_equal (promise_book_pay_many (b, &it, 1), 0);
    assert_int_equal (it.rc, PL_EINVAL);
    assert_string_equal (it.field, "reference");
    assert_int_equal (pl_test_redis_int (f->srv, "EXISTS pl:{prom:%d}:pay:ctl-1 pl:{prom:%d}:pay:ctl-2",
                                         promise_book_shard ("ACC-2"), promise_book_shard ("ACC-2")), 0);

    /* A packed record that does not read: corrupt, not a payment of nothing. */
    assert_int_equal (pl_redis_exec (redis, "HSET pl:{prom:%d}:pay:bad-3 st applied promise P-1 d %s", s1,
                                     "{\"amount\":1"), 0);
    assert_null (promise_book_payment (b, "bad-3", "ACC-1", &rc));
    assert_int_equal (rc, PL_ECORRUPT);
    promise_book_destroy (&b);
    pl_redis_destroy (&redis);
}

/* The fields of an account's hash that name promise id: "p", "act", "both" or "none". */
static const char *
s_account_has (fx_t *f, const char *account, const char *id)
{
    int sh = promise_book_shard (account);
    long long p = pl_test_redis_int (f->srv, "HEXISTS pl:{prom:%d}:a:%s p:%s", sh, account, id);
    long long a = pl_test_redis_int (f->srv, "HEXISTS pl:{prom:%d}:a:%s act:%s", sh, account, id);
    return p && a ? "both" : p ? "p" : a ? "act" : "none";
}

/* An account's hash names an active promise once (act:), a decided one once (p:); a reversal
 * that reopens a promise moves it back; an account written before (every promise as p:, the
 * active ones as act: too) lists each promise once. */
static void
test_an_account_names_each_promise_once (void **state)
{
    fx_t *f = *state;
    pl_redis_t *redis;
    promise_book_t *b = s_fresh (f, &redis);
    assert_string_equal (s_account_has (f, "ACC-1", "P-1"), "act");
    s_pay1 (b, "all-1", "ACC-1", 10000, NULL, "applied");
    assert_string_equal (s_account_has (f, "ACC-1", "P-1"), "p");
    s_pay1 (b, "back-1", "ACC-1", 10000, "all-1", "reversed");
    assert_string_equal (s_account_has (f, "ACC-1", "P-1"), "act");

    /* ACC-2 as a version before wrote it: its active promise as p: and act:. */
    int s2 = promise_book_shard ("ACC-2");
    assert_int_equal (pl_redis_exec (redis, "HSET pl:{prom:%d}:a:ACC-2 p:P-2 %lld", s2, T0), 0);
    assert_string_equal (s_account_has (f, "ACC-2", "P-2"), "both");
    int rc;
    json_t *acc = promise_book_account (b, "ACC-2", &rc);
    assert_int_equal (rc, 0);
    json_t *ps = json_object_get (acc, "promises");
    assert_int_equal (json_array_size (ps), 1);
    assert_string_equal (json_string_value (json_object_get (json_array_get (ps, 0), "id")), "P-2");
    json_decref (acc);
    /* Decided: the legacy act: goes, p: stays, listed once. */
    s_pay1 (b, "all-2", "ACC-2", 10000, NULL, "applied");
    assert_string_equal (s_account_has (f, "ACC-2", "P-2"), "p");
    acc = promise_book_account (b, "ACC-2", &rc);
    assert_int_equal (json_array_size (json_object_get (acc, "promises")), 1);
    json_decref (acc);
    promise_book_destroy (&b);
    pl_redis_destroy (&redis);
}

static void
test_a_promise_id_is_one_promises_whatever_its_account (void **state)
{
    fx_t *f = *state;
    pl_redis_t *redis;
    promise_book_t *b = s_fresh (f, &redis);
    /* An account of another shard than ACC-1's. */
    char other[32];
    for (int i = 0;; i++) {
        snprintf (other, sizeof other, "OTHER-%d", i);
        if (promise_book_shard (other) != promise_book_shard ("ACC-1"))
            break;
    }
    assert_int_equal (s_open (b, "P-1", other, "bank", 777), PL_EBUSY);
    int rc;
    json_t *p = promise_book_get (b, "P-1", &rc);
    assert_string_equal (json_string_value (json_object_get (p, "account")), "ACC-1");
    json_decref (p);
    /* Once the first is gone (expired), the id is free again. */
    assert_int_equal (pl_redis_exec (redis, "DEL pl:{prom:%d}:p:P-1", promise_book_shard ("ACC-1")), 0);
    assert_int_equal (s_open (b, "P-1", other, "bank", 777), 0);
    p = promise_book_get (b, "P-1", &rc);
    assert_string_equal (json_string_value (json_object_get (p, "account")), other);
    json_decref (p);
    promise_book_destroy (&b);
    pl_redis_destroy (&redis);
}

static void
test_a_broken_key_fails_its_payment_alone (void **state)
{
    fx_t *f = *state;
    pl_redis_t *redis;
    promise_book_t *b = s_fresh (f, &redis);
    /* ACC-12's account and P-13's promise are no longer hashes (a hand-made mistake). */
    char k[128];
    snprintf (k, sizeof k, "pl:{prom:%d}:a:ACC-12", promise_book_shard ("ACC-12"));
    assert_int_equal (pl_redis_exec (redis, "SET %s x", k), 0);
    snprintf (k, sizeof k, "pl:{prom:%d}:p:P-13", promise_book_shard ("ACC-13"));
    assert_int_equal (pl_redis_exec (redis, "SET %s x", k), 0);
    promise_pay_item_t it[64];
    size_t n = s_batch (it);
    assert_int_equal (promise_book_pay_many (b, it, n), 0);
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        bool broken = !strcmp (it[i].pay.account, "ACC-12") || !strcmp (it[i].pay.account, "ACC-13");
        if (broken) {
            assert_int_equal (it[i].rc, PL_EREDIS);
            failed++;
        } else if (i >= 12)               /* the plain payments: every other one applied */
            assert_string_equal (it[i].status, "applied");
    }
    assert_int_equal (failed, 2);
    int rc;
    json_t *p = promise_book_get (b, "P-14", &rc);
    assert_int_equal (json_integer_value (json_object_get (p, "paid")), 1400);
    json_decref (p);
    promise_book_destroy (&b);
    pl_redis_destroy (&redis);
}

static void
test_a_redis_outage_fails_every_payment_of_the_batch_and_writes_nothing (void **state)
{
    fx_t *f = *state;
    pl_redis_t *redis;
    promise_book_t *b = s_fresh (f, &redis);
    promise_pay_item_t it[64];
    size_t n = s_batch (it);
    assert_int_equal (pl_test_redis_kill (f->srv), 0);
    assert_int_equal (promise_book_pay_many (b, it, n), 0);
    for (size_t i = 0; i < n; i++)
        if (it[i].rc != PL_EINVAL)      /* refused before any read: the same with Redis down */
            assert_int_equal (it[i].rc, PL_EREDIS);
    assert_int_equal (pl_test_redis_restart (f->srv), 0);
    int rc = 0;
    json_t *p = NULL;
    for (int tries = 0; tries < 100 && !p; tries++)      /* the connection comes back */
        if (!(p = promise_book_get (b, "P-10", &rc)))
            usleep (100000);
    assert_non_null (p);
    assert_int_equal (json_integer_value (json_object_get (p, "paid")), 0);
    json_decref (p);
    for (size_t i = 0; i < n; i++)
        assert_null (promise_book_payment (b, it[i].pay.id, it[i].pay.account, &rc));
    promise_book_destroy (&b);
    pl_redis_destroy (&redis);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_a_batch_ends_as_the_same_payments_one_at_a_time),
        cmocka_unit_test (test_racing_bus_payments_on_one_promise_all_count),
        cmocka_unit_test (test_a_creditors_notes_page_in_order_among_others),
        cmocka_unit_test (test_what_is_decided_leaves_redis_after_the_retention),
        cmocka_unit_test (test_a_promise_waits_in_one_zset_for_its_reminder_then_its_deadline),
        cmocka_unit_test (test_a_promises_facts_are_packed_and_the_old_layout_still_reads),
        cmocka_unit_test (test_payment_records_and_notes_are_packed_and_the_old_layout_still_reads),
        cmocka_unit_test (test_an_account_names_each_promise_once),
        cmocka_unit_test (test_a_promise_id_is_one_promises_whatever_its_account),
        cmocka_unit_test (test_a_broken_key_fails_its_payment_alone),
        cmocka_unit_test (test_a_redis_outage_fails_every_payment_of_the_batch_and_writes_nothing),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
