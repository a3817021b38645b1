/*  bench_promise.c — the promise book under load (issue 12): payments per second with a million
 *  active promises, Redis bytes per active promise, and a million due dates decided at once.
 *
 *  In process: the book of services/promise (book.c, ledger.c) on a private redis-server (no
 *  persistence) and a standing virtual clock (Monday 2026-12-07 10:00 UTC, 11:00 in Paris),
 *  audit off, reminders 2 days before each due date as the service's default. Each thread has
 *  its own Redis connection and its own book, as each thread of the service's HTTP API does.
 *
 *   1. Opens --promises N promises (promise_book_open, as the API door does: no bus message id)
 *      on N accounts, one instalment each of 300 to 790 EUR due 5 days ahead, 3 days' grace,
 *      2 % tolerance, zone Europe/Paris given, facts of a dialer's promise (campaign, agent,
 *      lead, dial, creditor, phone); --threads K threads. Promises opened per second.
 *   2. Redis memory per active promise: INFO used_memory before and after, over N; MEMORY USAGE
 *      of the promise hashes and account hashes (a sample), of the due and reminder zsets and
 *      of the KPIs, the rest being key space and allocator.
 *   3. Applies --payments M payments of 2 to 30 EUR (promise_book_pay) to random accounts: most
 *      promises stay active. Once on one thread, then again (other payments) on K threads, then
 *      again on K threads in batches of --batch B through promise_book_pay_many (the bus door's
 *      path: three pipelined round trips a batch).
 *      Payments per second, CPU of the bench process (getrusage) and of redis-server
 *      (/proc/<pid>/stat), Redis's own count of commands per payment (INFO commandstats), and
 *      Redis bytes per payment kept (its record, the creditor's note).
 *   4. Baseline in the same run, on the same redis-server: the Redis work of a payment as raw
 *      commands of the same sizes, pipelined 256 payments deep on one connection: the three
 *      reads the book does (the payment id, the account, the promise: HGETALL of the real keys)
 *      and one EVALSHA of a small script doing its writes (version, ledger text and status, due
 *      and reminder zsets, the payment record and its expiry, the KPI, the creditor's note in the stream).
 *      Commands/s, the payments/s they amount to, and the ratio.
 *   5. Sets the clock past every deadline (all N fall due at the same instant) and calls
 *      promise_book_sweep (--sweep-max per shard and call) until it decides nothing more: due
 *      dates decided per second and the seconds for N, then checks that none is left and counts
 *      the decisions (KPIs) and the PromiseBroken written for the dialer.
 *
 *  The load average is printed at the start and the end; no timing is asserted. Goals (issue
 *  12), printed beside the figures: >= 50,000 payments/s on 2 cores, <= 300 bytes of Redis per
 *  active promise, a million due dates decided in under 10 s.
 *
 *  --accounts-paid A sends every payment to one of the first A accounts instead: with a few, the
 *  threads' payments race on the same promises (compare and set, read again on a loss).
 *
 *  Usage: bench_promise [--promises N] [--payments M] [--threads K] [--sweep-max S] [--accounts-paid A]
 *                       [--batch B]
 *  Exit status 1 when a promise or payment was refused, or a due date was left undecided.
 */
#include <getopt.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "book.h"
#include "pl_test.h"
#include "plateau/error.h"

#ifndef PL_BUILD_TYPE
#define PL_BUILD_TYPE "?"
#endif

#define T0 1796637600000LL              /* Monday 2026-12-07 10:00 UTC, 11:00 in Paris */
#define DAY_MS 86400000LL
#define DUE_IN_DAYS 5
#define GRACE_DAYS 3
#define REMIND_DAYS 2
#define REPLICA "promise-bench"
#define CAMPAIGN "fr-collect"
#define DEPTH 256                       /* baseline: payments in flight on the pipeline */

/* ---- small helpers -------------------------------------------------------------------------- */

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
s_loadavg (const char *when)
{
    char buf[128];
    pl_test_loadavg (buf, sizeof buf);
    printf ("load average at %s: %s\n", when, buf);
}

/* CPU seconds (user + system) of this process, every thread. */
static double
s_self_cpu (void)
{
    struct rusage ru;
    getrusage (RUSAGE_SELF, &ru);
    return (double) ru.ru_utime.tv_sec + (double) ru.ru_utime.tv_usec / 1e6 + (double) ru.ru_stime.tv_sec
           + (double) ru.ru_stime.tv_usec / 1e6;
}

/* A field of INFO <section> as text ("" when absent). */
static void
s_info_str (redisContext *c, const char *section, const char *field, char *out, size_t size)
{
    redisReply *r = redisCommand (c, "INFO %s", section);
    *out = '\0';
    if (r && r->type == REDIS_REPLY_STRING) {
        char pat[128];
        snprintf (pat, sizeof pat, "\n%s:", field);
        const char *p = strstr (r->str, pat);
        if (p) {
            p += strlen (pat);
            snprintf (out, size, "%.*s", (int) strcspn (p, "\r\n"), p);
        }
    }
    if (r)
        freeReplyObject (r);
}

static double
s_info (redisContext *c, const char *section, const char *field)
{
    char v[64];
    s_info_str (c, section, field, v, sizeof v);
    return *v ? atof (v) : -1;
}

static double
s_used (redisContext *c)
{
    /* let lazy frees and the allocator's statistics settle */
    usleep (300000);
    return s_info (c, "memory", "used_memory");
}

static long long
s_int (redisContext *c, const char *fmt, const char *arg)
{
    redisReply *r = redisCommand (c, fmt, arg);
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    if (r)
        freeReplyObject (r);
    return v;
}

static void
s_exec (redisContext *c, const char *cmd)
{
    redisReply *r = redisCommand (c, cmd);
    if (r)
        freeReplyObject (r);
}

static void
s_encoding (redisContext *c, const char *key, char *out, size_t size)
{
    redisReply *r = redisCommand (c, "OBJECT ENCODING %s", key);
    snprintf (out, size, "%s", r && r->type == REDIS_REPLY_STRING ? r->str : "?");
    if (r)
        freeReplyObject (r);
}

static uint64_t
s_mix (uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;        /* splitmix64 */
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

static void
s_day_str (int64_t days, char out[16])
{
    time_t t = (time_t) (days * 86400);
    struct tm tm;
    gmtime_r (&t, &tm);
    strftime (out, 16, "%Y-%m-%d", &tm);
}

/* INFO commandstats since the last CONFIG RESETSTAT: commands per unit, most frequent first,
 * then Redis's CPU in them per unit (a script's time includes its commands'). */
typedef struct {
    char name[48];
    double calls, usec;
} s_stat_t;

static int
s_by_calls (const void *a, const void *b)
{
    double x = ((const s_stat_t *) a)->calls, y = ((const s_stat_t *) b)->calls;
    return x < y ? 1 : x > y ? -1 : 0;
}

static int
s_by_usec (const void *a, const void *b)
{
    double x = ((const s_stat_t *) a)->usec, y = ((const s_stat_t *) b)->usec;
    return x < y ? 1 : x > y ? -1 : 0;
}

static double
s_commandstats (redisContext *c, size_t units, const char *unit)
{
    redisReply *r = redisCommand (c, "INFO commandstats");
    s_stat_t st[64];
    int n = 0;
    double total = 0;
    for (char *p = r && r->type == REDIS_REPLY_STRING ? strstr (r->str, "cmdstat_") : NULL; p && n < 64;
         p = strstr (p + 1, "cmdstat_")) {
        double calls = 0, usec = 0;
        char name[48];
        if (sscanf (p, "cmdstat_%47[^:]:calls=%lf,usec=%lf", name, &calls, &usec) < 2)
            continue;
        if (strcmp (name, "info") == 0 || strcmp (name, "config") == 0)
            continue;
        snprintf (st[n].name, sizeof st[n].name, "%s", name);
        st[n].usec = usec;
        st[n++].calls = calls;
        total += calls;
    }
    if (r)
        freeReplyObject (r);
    double u = units ? (double) units : 1;
    qsort (st, (size_t) n, sizeof *st, s_by_calls);
    printf ("  redis commands per %s (INFO commandstats, a script's own calls included): %.1f\n   ", unit,
            total / u);
    for (int i = 0; i < n && i < 12; i++)
        printf (" %s %.2f", st[i].name, st[i].calls / u);
    qsort (st, (size_t) n, sizeof *st, s_by_usec);
    printf ("\n  Redis's CPU in commands per %s (usec), most first:\n   ", unit);
    for (int i = 0; i < n && i < 8; i++)
        printf (" %s %.1f", st[i].name, st[i].usec / u);
    printf ("\n");
    return total / u;
}

/* ---- promises and payments ------------------------------------------------------------------ */

/* Promise i, on account i: a dialer's promise of one instalment. */
static void
s_rec (size_t i, int64_t due_days, promise_rec_t *r)
{
    memset (r, 0, sizeof *r);
    snprintf (r->id, sizeof r->id, "PRM-%010zu", i);
    snprintf (r->account, sizeof r->account, "ACC-%010zu", i);
    snprintf (r->creditor, sizeof r->creditor, "bank-%02u", (unsigned) (i % 20));
    snprintf (r->tenant, sizeof r->tenant, "collect-fr");
    snprintf (r->phone, sizeof r->phone, "+336%08u", (unsigned) (i % 100000000));
    snprintf (r->zone, sizeof r->zone, "Europe/Paris");
    snprintf (r->campaign, sizeof r->campaign, CAMPAIGN);
    snprintf (r->lead, sizeof r->lead, "01KBENCHLEAD%014zu", i);
    snprintf (r->agent, sizeof r->agent, CAMPAIGN "-a%04u", (unsigned) (i % 200));
    snprintf (r->dial, sizeof r->dial, "01KBENCHLEAD%014zu.1", i);
    snprintf (r->source, sizeof r->source, "dialer");
    promise_t *p = &r->ledger;
    memcpy (p->currency, "EUR", 4);
    p->tolerance_bp = 200;
    p->grace_days = GRACE_DAYS;
    p->n = 1;
    p->inst[0].due_days = due_days;
    p->inst[0].amount = 30000 + (int64_t) (i % 50) * 1000;
}

/* Payment i of run `run`, to a random one of n accounts; returns the account's index. */
static size_t
s_payment (int run, size_t i, size_t n, promise_payment_t *p)
{
    uint64_t h = s_mix (((uint64_t) run << 40) ^ i);
    size_t a = (size_t) (h % n);
    memset (p, 0, sizeof *p);
    snprintf (p->id, sizeof p->id, "PAY-%d-%010zu", run, i);
    snprintf (p->account, sizeof p->account, "ACC-%010zu", a);
    memcpy (p->currency, "EUR", 4);
    p->amount = 200 + (int64_t) ((h >> 32) % 2800);
    snprintf (p->method, sizeof p->method, "sepa");
    snprintf (p->reference, sizeof p->reference, "SEPA-%d-%010zu", run, i);
    snprintf (p->source, sizeof p->source, "payments");
    return a;
}

/* ---- workers: one connection and one book a thread ------------------------------------------- */

typedef enum { S_OPEN, S_PAY } s_job_t;

typedef struct {
    const char *url;
    const pl_clock_t *clock;
    pl_log_t *log;
    pthread_barrier_t *go;
    s_job_t job;
    int run;
    size_t t, k, n, m, batch;
    int64_t due_days;
    /* what happened */
    bool setup_failed;
    size_t done, applied, unmatched, duplicate, failed, ebusy, eredis, einval;
    int first_rc;
    char first_err[512];
} s_worker_t;

static void
s_failed (s_worker_t *w, int rc, const char *what, const char *id, const char *field, const char *msg)
{
    w->failed++;
    if (rc == PL_EBUSY)
        w->ebusy++;
    else if (rc == PL_EREDIS)
        w->eredis++;
    else if (rc == PL_EINVAL)
        w->einval++;
    if (!w->first_rc) {
        w->first_rc = rc;
        snprintf (w->first_err, sizeof w->first_err, "%s %.128s: %s (%.63s%s%.255s)", what, id,
                  pl_strerror (rc), field, *field ? ": " : "", msg);
    }
}

static void *
s_worker (void *arg)
{
    s_worker_t *w = arg;
    pl_redis_t *redis = pl_redis_new (w->url, 5000);
    promise_book_opts_t o = { .redis = redis, .clock = w->clock, .service = "promise", .replica = REPLICA,
                              .audit = false, .remind_days = REMIND_DAYS, .log = w->log };
    promise_book_t *book = redis && pl_redis_ping (redis) == 0 ? promise_book_new (&o) : NULL;
    w->setup_failed = !book;
    pthread_barrier_wait (w->go);
    char field[64], msg[256], st[32], pid[PROMISE_ID_MAX];
    if (book && w->job == S_OPEN) {
        promise_rec_t rec;
        for (size_t i = w->t; i < w->n; i += w->k) {
            s_rec (i, w->due_days, &rec);
            int rc = promise_book_open (book, &rec, NULL, NULL, field, sizeof field, msg, sizeof msg);
            if (rc != 0)
                s_failed (w, rc, "promise", rec.id, field, msg);
            w->done++;
        }
    } else if (book && w->batch > 1) {
        /* As the bus door applies a batch of PaymentReceived: promise_book_pay_many. */
        promise_pay_item_t *items = calloc (w->batch, sizeof *items);
        for (size_t i = w->t; items && i < w->m;) {
            size_t b = 0;
            for (; b < w->batch && i < w->m; b++, i += w->k) {
                memset (&items[b], 0, sizeof items[b]);
                s_payment (w->run, i, w->n, &items[b].pay);
            }
            int rc = promise_book_pay_many (book, items, b);
            for (size_t j = 0; j < b; j++) {
                promise_pay_item_t *it = &items[j];
                if (rc != 0 || it->rc != 0)
                    s_failed (w, rc ? rc : it->rc, "payment", it->pay.id, it->field, it->msg);
                else if (!strcmp (it->status, "applied"))
                    w->applied++;
                else if (!strcmp (it->status, "unmatched"))
                    w->unmatched++;
                else
                    w->duplicate++;
                w->done++;
            }
        }
        w->setup_failed |= !items;
        free (items);
    } else if (book) {
        promise_payment_t pay;
        for (size_t i = w->t; i < w->m; i += w->k) {
            s_payment (w->run, i, w->n, &pay);
            int rc = promise_book_pay (book, &pay, NULL, NULL, st, sizeof st, pid, sizeof pid, field,
                                       sizeof field, msg, sizeof msg);
            if (rc != 0)
                s_failed (w, rc, "payment", pay.id, field, msg);
            else if (!strcmp (st, "applied"))
                w->applied++;
            else if (!strcmp (st, "unmatched"))
                w->unmatched++;
            else
                w->duplicate++;
            w->done++;
        }
    }
    promise_book_destroy (&book);
    pl_redis_destroy (&redis);
    return NULL;
}

typedef struct {
    double secs, cpu_self, cpu_redis;
    s_worker_t sum;
    bool ok;
} s_run_t;

/* Runs job on k threads, timed from the moment every thread is connected to the last done. */
static s_run_t
s_run (const char *url, const pl_clock_t *clock, pl_log_t *log, pid_t redis_pid, s_job_t job, int run,
       size_t k, size_t n, size_t m, size_t batch, int64_t due_days)
{
    s_run_t out = { 0 };
    s_worker_t *w = calloc (k, sizeof *w);
    pthread_t *th = calloc (k, sizeof *th);
    pthread_barrier_t go;
    if (!w || !th || pthread_barrier_init (&go, NULL, (unsigned) k + 1) != 0) {
        free (w);
        free (th);
        return out;
    }
    for (size_t t = 0; t < k; t++) {
        w[t] = (s_worker_t) { .url = url, .clock = clock, .log = log, .go = &go, .job = job, .run = run,
                              .t = t, .k = k, .n = n, .m = m, .batch = batch, .due_days = due_days };
        pthread_create (&th[t], NULL, s_worker, &w[t]);
    }
    pthread_barrier_wait (&go);
    double cpu0 = s_self_cpu (), rcpu0 = pl_test_proc_cpu (redis_pid), t0 = s_now ();
    for (size_t t = 0; t < k; t++)
        pthread_join (th[t], NULL);
    out.secs = s_now () - t0;
    out.cpu_self = s_self_cpu () - cpu0;
    out.cpu_redis = pl_test_proc_cpu (redis_pid) - rcpu0;
    out.ok = true;
    for (size_t t = 0; t < k; t++) {
        s_worker_t *x = &w[t];
        out.ok &= !x->setup_failed;
        out.sum.done += x->done;
        out.sum.applied += x->applied;
        out.sum.unmatched += x->unmatched;
        out.sum.duplicate += x->duplicate;
        out.sum.failed += x->failed;
        out.sum.ebusy += x->ebusy;
        out.sum.eredis += x->eredis;
        out.sum.einval += x->einval;
        if (x->first_rc && !out.sum.first_rc) {
            out.sum.first_rc = x->first_rc;
            memcpy (out.sum.first_err, x->first_err, sizeof out.sum.first_err);
        }
    }
    pthread_barrier_destroy (&go);
    free (w);
    free (th);
    return out;
}

static void
s_print_failures (const s_run_t *r)
{
    if (!r->ok)
        printf ("  a thread could not connect to Redis or make its book\n");
    if (r->sum.failed)
        printf ("  REFUSED %zu (PL_EBUSY %zu, PL_EREDIS %zu, PL_EINVAL %zu, other %zu); the first: %s\n",
                r->sum.failed, r->sum.ebusy, r->sum.eredis, r->sum.einval,
                r->sum.failed - r->sum.ebusy - r->sum.eredis - r->sum.einval, r->sum.first_err);
}

static void
s_print_pay (const char *label, const s_run_t *r, size_t m)
{
    printf ("  %-26s %8.2f s: %8.0f payments/s  (applied %zu, unmatched %zu, duplicate %zu, refused %zu); "
            "cpu s: bench %.2f, redis-server %.2f = %.1f us per payment\n", label, r->secs,
            (double) m / r->secs, r->sum.applied, r->sum.unmatched, r->sum.duplicate, r->sum.failed,
            r->cpu_self, r->cpu_redis, (r->cpu_self + r->cpu_redis) / (double) m * 1e6);
    s_print_failures (r);
}

/* ---- memory ------------------------------------------------------------------------------------ */

/* MEMORY USAGE of a key of every shard, summed. */
static double
s_shards_usage (redisContext *c, const char *what, long long *elements)
{
    double sum = 0;
    *elements = 0;
    for (int s = 0; s < PROMISE_SHARDS; s++) {
        char k[64];
        snprintf (k, sizeof k, "pl:{prom:%d}:%s", s, what);
        long long u = s_int (c, "MEMORY USAGE %s SAMPLES 0", k);
        sum += u > 0 ? (double) u : 0;
        long long n = s_int (c, "ZCARD %s", k);
        *elements += n > 0 ? n : 0;
    }
    return sum;
}

static void
s_memory (redisContext *c, size_t n, double per_promise, int64_t t0_day)
{
    size_t sample = n < 1000 ? n : 1000, taken = 0;
    double p_hash = 0, a_hash = 0;
    char key[160];
    for (size_t k = 0; k < sample; k++) {
        size_t i = k * (n / sample);
        char acc[32];
        snprintf (acc, sizeof acc, "ACC-%010zu", i);
        int s = promise_book_shard (acc);
        snprintf (key, sizeof key, "pl:{prom:%d}:p:PRM-%010zu", s, i);
        long long u = s_int (c, "MEMORY USAGE %s SAMPLES 0", key);
        snprintf (key, sizeof key, "pl:{prom:%d}:a:%s", s, acc);
        long long v = s_int (c, "MEMORY USAGE %s SAMPLES 0", key);
        if (u < 0 || v < 0)
            continue;
        p_hash += (double) u;
        a_hash += (double) v;
        taken++;
    }
    if (!taken) {
        printf ("  no promise found in Redis\n");
        return;
    }
    p_hash /= (double) taken;
    a_hash /= (double) taken;
    long long ndue;
    double due = s_shards_usage (c, "due", &ndue) / (double) n;
    double kpi = 0;
    char day[16];
    s_day_str (t0_day, day);
    for (int s = 0; s < PROMISE_SHARDS; s++) {
        snprintf (key, sizeof key, "pl:{prom:%d}:kpi:%s", s, day);
        long long u = s_int (c, "MEMORY USAGE %s SAMPLES 0", key);
        kpi += u > 0 ? (double) u : 0;
    }
    kpi /= (double) n;
    double rest = per_promise - p_hash - a_hash - due - kpi;

    /* The first promise's hash: its fields and their bytes. */
    snprintf (key, sizeof key, "pl:{prom:%d}:p:PRM-0000000000", promise_book_shard ("ACC-0000000000"));
    redisReply *r = redisCommand (c, "HGETALL %s", key);
    size_t names = 0, values = 0, nf = 0, ledger = 0;
    for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
        names += r->element[i]->len;
        values += r->element[i + 1]->len;
        if (!strcmp (r->element[i]->str, "l"))
            ledger = r->element[i + 1]->len;
        nf++;
    }
    if (r)
        freeReplyObject (r);
    char enc_p[32], enc_a[32], enc_due[32];
    s_encoding (c, key, enc_p, sizeof enc_p);
    snprintf (key, sizeof key, "pl:{prom:%d}:a:ACC-0000000000", promise_book_shard ("ACC-0000000000"));
    s_encoding (c, key, enc_a, sizeof enc_a);
    s_encoding (c, "pl:{prom:0}:due", enc_due, sizeof enc_due);
    long long dbsize = -1;
    r = redisCommand (c, "DBSIZE");
    if (r && r->type == REDIS_REPLY_INTEGER)
        dbsize = r->integer;
    if (r)
        freeReplyObject (r);

    printf ("  where %.1f bytes per promise go (MEMORY USAGE, hashes averaged over %zu promises; "
            "%lld keys in Redis):\n", per_promise, taken, dbsize);
    printf ("    %-46s %8.1f  (%4.1f%%)  encoding %s\n", "promise hash pl:{prom:n}:p:<promise>", p_hash,
            100 * p_hash / per_promise, enc_p);
    printf ("      %-44s %8zu  (%zu fields: names %zu bytes, values %zu, of which the ledger text %zu)\n",
            "of which field names and values", names + values, nf, names, values, ledger);
    printf ("    %-46s %8.1f  (%4.1f%%)  encoding %s\n", "account hash pl:{prom:n}:a:<account>", a_hash,
            100 * a_hash / per_promise, enc_a);
    printf ("    %-46s %8.1f  (%4.1f%%)  encoding %s, %lld entries\n",
            "deadlines, reminders pl:{prom:n}:due (per promise)", due, 100 * due / per_promise, enc_due, ndue);
    printf ("    %-46s %8.1f  (%4.1f%%)\n", "KPIs pl:{prom:n}:kpi:<day> (per promise)", kpi,
            100 * kpi / per_promise);
    printf ("    %-46s %8.1f  (%4.1f%%)\n", "the rest: key space, allocator", rest, 100 * rest / per_promise);
}

/* ---- the baseline ------------------------------------------------------------------------------- */

/* The writes of a payment's step, without the step around them (seen marker, outboxes) and
 * without the decision in C. K: promise, due, payment, kpi, notes. A: ledger, status, next
 * instant due, promise id, the payment record's 3 field/value pairs (st, promise, d: what the
 * payment was, packed), kpi field, amount, the note (its values, packed).
 * It always moves the promise in due, which the book skips when the instant stays. */
static const char *s_raw_lua =
    "if redis.call('HGET', KEYS[1], 'v') == 'x' then return 'retry' end\n"
    "if redis.call('EXISTS', KEYS[3]) == 1 then return 'dup' end\n"
    "redis.call('HSET', KEYS[1], 'v', '2', 'l', ARGV[1], 'st', ARGV[2])\n"
    "redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])\n"
    "local fv = {}\n"
    "for i = 5, 10 do fv[#fv + 1] = ARGV[i] end\n"
    "redis.call('HSET', KEYS[3], unpack(fv))\n"
    "redis.call('PEXPIRE', KEYS[3], '34560000000')\n"
    "redis.call('HINCRBY', KEYS[4], ARGV[11], ARGV[12])\n"
    "if redis.call('PTTL', KEYS[4]) < 0 then redis.call('PEXPIRE', KEYS[4], '34560000000') end\n"
    "redis.call('XADD', KEYS[5], 'MAXLEN', '~', '10000000', '*', 'n', ARGV[13])\n"
    "return 'ok'\n";

static void
s_reply_or_die (redisContext *c)
{
    redisReply *r = NULL;
    /* The script answers "ok" when it wrote; anything else means the baseline measured less work. */
    if (redisGetReply (c, (void **) &r) != REDIS_OK || !r || r->type == REDIS_REPLY_ERROR
        || (r->type == REDIS_REPLY_STRING && strcmp (r->str, "ok"))) {
        fprintf (stderr, "bench_promise: baseline command failed: %s\n", r ? r->str : c->errstr);
        exit (1);
    }
    freeReplyObject (r);
}

/* Appends the raw commands of payment i (run `run`); returns how many. */
static int
s_raw_payment (redisContext *c, const char *sha, int run, size_t i, size_t n, const char *ledger, int64_t now,
               const char *day)
{
    promise_payment_t p;
    size_t a = s_payment (run, i, n, &p);
    int s = promise_book_shard (p.account);
    char k_pay[160], k_a[160], k_p[160], b_p[160], b_due[64], b_pay[160], b_kpi[64], b_notes[64];
    snprintf (k_pay, sizeof k_pay, "pl:{prom:%d}:pay:%s", s, p.id);
    snprintf (k_a, sizeof k_a, "pl:{prom:%d}:a:%s", s, p.account);
    snprintf (k_p, sizeof k_p, "pl:{prom:%d}:p:PRM-%010zu", s, a);
    snprintf (b_p, sizeof b_p, "bl:{prom:%d}:p:PRM-%010zu", s, a);
    snprintf (b_due, sizeof b_due, "bl:{prom:%d}:due", s);
    snprintf (b_pay, sizeof b_pay, "bl:{prom:%d}:pay:%s", s, p.id);
    snprintf (b_kpi, sizeof b_kpi, "bl:{prom:%d}:kpi:%s", s, day);
    snprintf (b_notes, sizeof b_notes, "bl:{prom:%d}:notes", s);
    /* the book's three reads, on the real keys */
    redisAppendCommand (c, "HGETALL %s", k_pay);
    redisAppendCommand (c, "HGETALL %s", k_a);
    redisAppendCommand (c, "HGETALL %s", k_p);
    char pid[32], amount[24], at[24], next[24], creditor[16], kpi[96], paid[24], total[24];
    snprintf (pid, sizeof pid, "PRM-%010zu", a);
    snprintf (amount, sizeof amount, "%lld", (long long) p.amount);
    snprintf (at, sizeof at, "%lld", (long long) now);
    snprintf (next, sizeof next, "%lld", (long long) (now + (DUE_IN_DAYS - REMIND_DAYS) * DAY_MS));
    snprintf (creditor, sizeof creditor, "bank-%02u", (unsigned) (a % 20));
    snprintf (kpi, sizeof kpi, "collected|" CAMPAIGN "|" CAMPAIGN "-a%04u|EUR", (unsigned) (a % 200));
    snprintf (paid, sizeof paid, "%lld", (long long) p.amount * 2);
    snprintf (total, sizeof total, "%lld", 30000 + (long long) (a % 50) * 1000);
    /* the packed values, as the book writes them (s_payment_fields, s_note) */
    char d[2048], note[2048];
    snprintf (d, sizeof d, "%s\x1f%s\x1f" "EUR\x1f%s\x1f%s\x1fpayment\x1f\x1f%s\x1f%s\x1f%s", p.account, amount, at, at,
              p.method, p.reference, p.source);
    snprintf (note, sizeof note, "%s\x1fpayment\x1f%s\x1f%s\x1f%s\x1f" "EUR\x1f%s\x1f%s\x1f" "active\x1f%s\x1f%s",
              creditor, p.id, p.account, amount, at, pid, paid, total);
    const char *argv[] = {
        "EVALSHA", sha, "5", b_p, b_due, b_pay, b_kpi, b_notes,
        ledger, "active", next, pid,
        "st", "applied", "promise", pid, "d", d,
        kpi, amount, note,
    };
    redisAppendCommandArgv (c, (int) (sizeof argv / sizeof *argv), argv, NULL);
    return 4;
}

typedef struct {
    double secs, ops_s, pay_s, cpu_redis;
} s_base_t;

static s_base_t
s_baseline (redisContext *c, pid_t redis_pid, size_t n, size_t m, int64_t now, const char *day)
{
    s_base_t b = { 0 };
    char sha[48] = "", ledger[512] = "";
    redisReply *r = redisCommand (c, "SCRIPT LOAD %s", s_raw_lua);
    if (r && r->type == REDIS_REPLY_STRING)
        snprintf (sha, sizeof sha, "%s", r->str);
    if (r)
        freeReplyObject (r);
    /* a ledger text of the stored size (the first promise's) */
    char key[160];
    snprintf (key, sizeof key, "pl:{prom:%d}:p:PRM-0000000000", promise_book_shard ("ACC-0000000000"));
    r = redisCommand (c, "HGET %s l", key);
    if (r && r->type == REDIS_REPLY_STRING)
        snprintf (ledger, sizeof ledger, "%s", r->str);
    if (r)
        freeReplyObject (r);
    if (!*sha || !*ledger) {
        fprintf (stderr, "bench_promise: baseline: no script or no stored promise to read\n");
        exit (1);
    }
    double rcpu0 = pl_test_proc_cpu (redis_pid), t0 = s_now ();
    size_t ops = 0;
    for (size_t i = 0; i < m; i += DEPTH) {
        size_t end = m - i < DEPTH ? m : i + DEPTH, k = 0;
        for (size_t j = i; j < end; j++)
            k += (size_t) s_raw_payment (c, sha, 3, j, n, ledger, now, day);
        for (size_t j = 0; j < k; j++)
            s_reply_or_die (c);
        ops += k;
    }
    b.secs = s_now () - t0;
    b.cpu_redis = pl_test_proc_cpu (redis_pid) - rcpu0;
    b.ops_s = (double) ops / b.secs;
    b.pay_s = (double) m / b.secs;
    return b;
}

/* The baseline's keys go, so that the sweep finds Redis as the book left it. */
static void
s_baseline_clean (redisContext *c, size_t n, size_t m, const char *day)
{
    size_t queued = 0;
    for (size_t i = 0; i < m; i++) {
        promise_payment_t p;
        size_t a = s_payment (3, i, n, &p);
        int s = promise_book_shard (p.account);
        char k1[160], k2[160];
        snprintf (k1, sizeof k1, "bl:{prom:%d}:p:PRM-%010zu", s, a);
        snprintf (k2, sizeof k2, "bl:{prom:%d}:pay:%s", s, p.id);
        redisAppendCommand (c, "UNLINK %s %s", k1, k2);
        if (++queued == 1024 || i + 1 == m) {
            for (size_t j = 0; j < queued; j++)
                s_reply_or_die (c);
            queued = 0;
        }
    }
    for (int s = 0; s < PROMISE_SHARDS; s++) {
        redisReply *u = redisCommand (c, "UNLINK bl:{prom:%d}:due bl:{prom:%d}:kpi:%s "
                                         "bl:{prom:%d}:notes", s, s, day, s);
        if (u)
            freeReplyObject (u);
    }
}

/* ---- after the sweep --------------------------------------------------------------------------- */

/* Sums the KPI counts "<what>|…" of a day over the shards. */
static long long
s_kpi_count (redisContext *c, const char *day, const char *what)
{
    long long sum = 0;
    size_t wl = strlen (what);
    for (int s = 0; s < PROMISE_SHARDS; s++) {
        redisReply *r = redisCommand (c, "HGETALL pl:{prom:%d}:kpi:%s", s, day);
        for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2)
            if (!strncmp (r->element[i]->str, what, wl) && r->element[i]->str[wl] == '|')
                sum += strtoll (r->element[i + 1]->str, NULL, 10);
        if (r)
            freeReplyObject (r);
    }
    return sum;
}

static long long
s_zcards (redisContext *c, const char *what)
{
    long long sum = 0;
    for (int s = 0; s < PROMISE_SHARDS; s++) {
        char k[64];
        snprintf (k, sizeof k, "pl:{prom:%d}:%s", s, what);
        long long n = s_int (c, "ZCARD %s", k);
        sum += n > 0 ? n : 0;
    }
    return sum;
}

/* Messages owed to the dialer: the entries of every shard's outbox slot. */
static long long
s_owed_to_dialer (redisContext *c)
{
    long long sum = 0;
    for (int s = 0; s < PROMISE_SHARDS; s++) {
        char k[96];
        snprintf (k, sizeof k, "pl:{prom:%d}:ob:" REPLICA ":dialer", s);
        long long n = s_int (c, "XLEN %s", k);
        sum += n > 0 ? n : 0;
    }
    return sum;
}

/* ---- main ----------------------------------------------------------------------------------------- */

int
main (int argc, char **argv)
{
    size_t n = 1000000, m = 200000, k = 2, hot = 0, batch = 256;
    int sweep_max = 10000;
    static const struct option longs[] = { { "promises", required_argument, 0, 'n' },
                                           { "payments", required_argument, 0, 'm' },
                                           { "threads", required_argument, 0, 'k' },
                                           { "sweep-max", required_argument, 0, 's' },
                                           { "accounts-paid", required_argument, 0, 'a' },
                                           { "batch", required_argument, 0, 'b' },
                                           { "help", no_argument, 0, 'h' },
                                           { 0, 0, 0, 0 } };
    int c;
    while ((c = getopt_long (argc, argv, "n:m:k:s:a:b:h", longs, NULL)) != -1) {
        switch (c) {
        case 'n': n = strtoull (optarg, NULL, 10); break;
        case 'm': m = strtoull (optarg, NULL, 10); break;
        case 'k': k = strtoull (optarg, NULL, 10); break;
        case 's': sweep_max = atoi (optarg); break;
        case 'a': hot = strtoull (optarg, NULL, 10); break;
        case 'b': batch = strtoull (optarg, NULL, 10); break;
        default:
            fprintf (c == 'h' ? stdout : stderr,
                     "usage: bench_promise [--promises N (1000000)] [--payments M (200000)]\n"
                     "                     [--threads K (2)] [--sweep-max S (10000, per shard and sweep)]\n"
                     "                     [--accounts-paid A (all; a few: races on the same promises)]\n"
                     "                     [--batch B (256: payments per promise_book_pay_many)]\n"
                     "small: bench_promise --promises 20000 --payments 20000\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (n < 100 || n > 10000000 || m < 1 || m > 10000000 || k < 1 || k > 64 || sweep_max < 1 || hot > n || batch < 2
        || batch > 4096) {
        fprintf (stderr, "bench_promise: --promises 100 to 10000000, --payments 1 to 10000000, "
                         "--threads 1 to 64, --sweep-max >= 1, --accounts-paid at most --promises, --batch 2 to 4096\n");
        return 2;
    }
    size_t paid = hot ? hot : n;        /* the accounts payments go to: the first `paid` */
    signal (SIGPIPE, SIG_IGN);
    int64_t today = T0 / DAY_MS, due_days = today + DUE_IN_DAYS;
    char t0_day[16], due_str[16];
    s_day_str (today, t0_day);
    s_day_str (due_days, due_str);

    printf ("bench_promise: the promise book (services/promise) in process, %s build, %ld cores\n",
            PL_BUILD_TYPE, sysconf (_SC_NPROCESSORS_ONLN));
    s_loadavg ("the start");
    pl_test_redis_t *srv = pl_test_redis_start ("appendonly no\nsave \"\"\n" PL_TEST_REDIS_TUNING);
    redisContext *rc = srv ? redisConnect ("127.0.0.1", pl_test_redis_port (srv)) : NULL;
    if (!rc || rc->err) {
        fprintf (stderr, "bench_promise: no redis-server\n");
        pl_test_redis_stop (&srv);
        return 1;
    }
    char rv[32];
    s_info_str (rc, "server", "redis_version", rv, sizeof rv);
    pid_t redis_pid = (pid_t) s_info (rc, "server", "process_id");
    pl_clock_t *clock = pl_clock_new_virtual (T0);
    pl_log_t *log = pl_log_new ("promise", 2);
    pl_log_set_level (log, PL_LOG_WARN);
    const char *url = pl_test_redis_url (srv);
    printf ("redis %s (no persistence, pid %d); virtual clock at %s 10:00 UTC; audit off; reminders %d days "
            "before\n", rv, (int) redis_pid, t0_day, REMIND_DAYS);
    printf ("%zu promises on %zu accounts: one instalment of 300 to 790 EUR due %s (Europe/Paris), %d days' "
            "grace, 2%% tolerance; %zu payments of 2 to 30 EUR to random accounts (of %zu)\n\n", n, n,
            due_str, GRACE_DAYS, m, paid);
    int status = 0;

    /* 1. opening */
    double base = s_used (rc);
    s_run_t op = s_run (url, clock, log, redis_pid, S_OPEN, 0, k, n, 0, 1, due_days);
    printf ("opened    %zu promises in %.2f s on %zu threads: %.0f promises/s; cpu s: bench %.2f, "
            "redis-server %.2f\n", op.sum.done - op.sum.failed, op.secs, k, (double) n / op.secs, op.cpu_self,
            op.cpu_redis);
    s_print_failures (&op);
    if (!op.ok || op.sum.failed)
        status = 1;

    /* 2. memory per active promise */
    double used = s_used (rc);
    double per_promise = (used - base) / (double) n;
    printf ("\nmemory    used_memory %.0f -> %.0f bytes: %.1f bytes per active promise\n", base, used,
            per_promise);
    s_memory (rc, n, per_promise, today);

    /* 3. payments: one thread, then k */
    printf ("\npayments  %zu a run, each promise_book_pay on its thread's own connection and book\n", m);
    s_exec (rc, "CONFIG RESETSTAT");
    s_run_t p1 = s_run (url, clock, log, redis_pid, S_PAY, 1, 1, paid, m, 1, due_days);
    double used_paid = s_used (rc);
    s_print_pay ("1 thread", &p1, m);
    s_commandstats (rc, m, "payment");
    printf ("  Redis bytes per payment kept (its record pl:{prom:n}:pay:<id>, the creditor's note): %.1f\n",
            (used_paid - used) / (double) m);
    s_run_t pk = p1;
    if (k > 1) {
        pk = s_run (url, clock, log, redis_pid, S_PAY, 2, k, paid, m, 1, due_days);
        char label[32];
        snprintf (label, sizeof label, "%zu threads", k);
        s_print_pay (label, &pk, m);
    }
    /* Batches (run 4: payments of their own), as the bus door applies them. */
    s_exec (rc, "CONFIG RESETSTAT");
    s_run_t pb = s_run (url, clock, log, redis_pid, S_PAY, 4, k, paid, m, batch, due_days);
    char blabel[64];
    snprintf (blabel, sizeof blabel, "%zu threads, batches of %zu (promise_book_pay_many)", k, batch);
    s_print_pay (blabel, &pb, m);
    s_commandstats (rc, m, "payment");
    if (!p1.ok || !pk.ok || !pb.ok || p1.sum.failed || pk.sum.failed || pb.sum.failed)
        status = 1;
    double pay_1 = (double) m / p1.secs, pay_k = (double) m / pk.secs, pay_b = (double) m / pb.secs;

    /* 4. baseline */
    s_exec (rc, "CONFIG RESETSTAT");
    s_base_t b = s_baseline (rc, redis_pid, paid, m, T0, t0_day);
    printf ("\nbaseline  the Redis work of a payment as raw commands of the same sizes: 3 HGETALL (payment "
            "id, account, promise) + 1 EVALSHA (2 reads, 8 writes), pipelined %d payments deep, one "
            "connection\n", DEPTH);
    printf ("  %.0f commands/s = %.0f payments/s (%.2f s); cpu s: redis-server %.2f = %.1f us per payment\n",
            b.ops_s, b.pay_s, b.secs, b.cpu_redis, b.cpu_redis / (double) m * 1e6);
    s_commandstats (rc, m, "payment");
    s_baseline_clean (rc, paid, m, t0_day);
    printf ("\nratio     payments/s / raw Redis payments/s: 1 thread %.3f, %zu threads %.3f, batched %.3f\n",
            b.pay_s > 0 ? pay_1 / b.pay_s : 0, k, b.pay_s > 0 ? pay_k / b.pay_s : 0,
            b.pay_s > 0 ? pay_b / b.pay_s : 0);

    /* 5. the sweep: every deadline passed at once */
    int64_t sweep_at = (due_days + GRACE_DAYS + 2) * DAY_MS;
    pl_clock_set (clock, sweep_at);
    char sweep_day[16];
    s_day_str (sweep_at / DAY_MS, sweep_day);
    pl_redis_t *redis = pl_redis_new (url, 5000);
    promise_book_opts_t bo = { .redis = redis, .clock = clock, .service = "promise", .replica = REPLICA,
                               .audit = false, .remind_days = REMIND_DAYS, .log = log };
    promise_book_t *book = redis ? promise_book_new (&bo) : NULL;
    double for_million = 0;
    if (!book) {
        fprintf (stderr, "bench_promise: no book for the sweep\n");
        status = 1;
    } else {
        long long due0 = s_zcards (rc, "due");
        s_exec (rc, "CONFIG RESETSTAT");
        double cpu0 = s_self_cpu (), rcpu0 = pl_test_proc_cpu (redis_pid), t0 = s_now (), first = 0;
        /* Each call stops at its wall-time budget: as many calls as it takes, while they decide. */
        long long decided = 0, calls = 0, limit = (long long) n + 100;
        int r = 0;
        do {
            r = promise_book_sweep (book, sweep_max);
            if (r > 0)
                decided += r;
            if (++calls == 1)
                first = s_now () - t0;
        } while (r > 0 && calls < limit);
        double secs = s_now () - t0;
        double cpu = s_self_cpu () - cpu0, rcpu = pl_test_proc_cpu (redis_pid) - rcpu0;
        printf ("\nsweep     clock set to %s 00:00 UTC, past every deadline and reminder: %lld promises "
                "due; promise_book_sweep (max %d per shard) called %lld times\n", sweep_day, due0, sweep_max,
                calls);
        if (r < 0)
            printf ("  SWEEP FAILED: %s\n", pl_strerror (r));
        printf ("  %lld promises decided or moved in %.2f s: %.0f due dates decided/s (first call %.2f s); "
                "cpu s: bench %.2f, redis-server %.2f = %.1f us each\n", decided, secs,
                (double) decided / secs, first, cpu, rcpu,
                decided ? (cpu + rcpu) / (double) decided * 1e6 : 0.0);
        s_commandstats (rc, decided > 0 ? (size_t) decided : 1, "decision");
        long long due1 = s_zcards (rc, "due");
        long long kept = s_kpi_count (rc, t0_day, "kept");
        long long broken = s_kpi_count (rc, sweep_day, "broken");
        long long partial = s_kpi_count (rc, sweep_day, "partially_kept");
        long long owed = s_owed_to_dialer (rc);
        printf ("  left: %lld due; decided by the sweep: %lld partially kept, %lld broken (kept by the "
                "payments before: %lld; sum %lld of %zu); PromiseBroken owed to the dialer: %lld\n", due1, partial,
                broken, kept, partial + broken + kept, n, owed);
        if (r < 0 || due1 != 0 || partial + broken + kept != (long long) n)
            status = 1;
        if (decided > 0)
            for_million = secs / (double) decided * 1e6;
    }
    printf ("\ngoal      >= 50,000 payments/s on 2 cores: %.0f in batches of %zu on %zu threads (%.2f of the "
            "goal); one at a time %.0f with %zu threads, %.0f with 1\n", pay_b, batch, k, pay_b / 50000, pay_k, k,
            pay_1);
    printf ("goal      <= 300 bytes of Redis per active promise: %.1f (%.2f of the goal)\n", per_promise,
            per_promise / 300);
    if (for_million > 0)
        printf ("goal      a million due dates decided in < 10 s: %.1f s%s (%.2f of the goal)\n", for_million,
                n == 1000000 ? "" : " (at the rate measured here)", for_million / 10);
    promise_book_destroy (&book);
    pl_redis_destroy (&redis);
    s_loadavg ("the end");
    redisFree (rc);
    pl_log_destroy (&log);
    pl_clock_destroy (&clock);
    pl_test_redis_stop (&srv);
    return status;
}
