/*  test_promise.c — the promise service as a process against a real Redis, real HTTP and real
 *  bus sockets: instalments paid in parts, tolerance and grace across a DST night, a bounce
 *  after "kept", a webhook delivered three times, two payments at the same instant, a payment
 *  before its promise, bad input refused and nothing stored, unsigned payments refused, and a
 *  kill -9 in the middle of a stream of payments. Small bus servers stand in for the dialer
 *  (PromiseKept / PromiseBroken) and the audit (the typed events).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pl_test.h"
#include "pl_test_http.h"
#include "plateau/bus.h"
#include "plateau/clock.h"
#include "plateau/envelope.h"
#include "plateau/http.h"
#include "plateau/redis.h"
#include "plateau/timefmt.h"

#define T0 1796634000000LL                 /* Monday 2026-12-07 09:00 UTC */
#define OPS "0123456789abcdef-ops"
#define READER "0123456789abcdef-reader"
#define PAY "0123456789abcdef-pay"
#define SECRET "the-payers-secret-0123456789"
#define PHONE "+33612345678"               /* Europe/Paris */
#define MAX_SEEN 512

typedef struct {
    pl_test_redis_t *srv;
    char *dir;
    char bus[64], dialer_bus[64], audit_bus[64], log[400];
    pid_t pid;
    int http_port, ops_port;
    pl_bus_server_t *dialer, *audit;
    pl_clock_t *clock;
    pl_redis_t *redis;
    pl_bus_client_t *ctl, *as_dialer, *as_crm;
    size_t nbroken, nkept, nevents, nactive;
    char active[MAX_SEEN][128], active_tenant[MAX_SEEN][64];
    int64_t active_until[MAX_SEEN];
    bool active_reopened[MAX_SEEN];
    char broken[MAX_SEEN][128], kept[MAX_SEEN][128], broken_campaign[MAX_SEEN][64];
    char events[MAX_SEEN][48], event_ids[MAX_SEEN][200];
} fx_t;

static fx_t *s_fx;

static void
s_dialer (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    fx_t *f = arg;
    for (size_t i = 0; i < n; i++) {
        const pl_envelope_t *e = pl_bus_msg_envelope (msgs[i]);
        if (e->body_case == PLATEAU__V1__ENVELOPE__BODY_PROMISE_BROKEN && f->nbroken < MAX_SEEN) {
            snprintf (f->broken[f->nbroken], 128, "%s", e->promise_broken->promise_id);
            snprintf (f->broken_campaign[f->nbroken++], 64, "%s", e->promise_broken->campaign);
        }
        if (e->body_case == PLATEAU__V1__ENVELOPE__BODY_PROMISE_ACTIVE && f->nactive < MAX_SEEN) {
            snprintf (f->active[f->nactive], 128, "%s", e->promise_active->promise_id);
            snprintf (f->active_tenant[f->nactive], 64, "%s", e->promise_active->tenant);
            f->active_until[f->nactive] = e->promise_active->until_ms;
            f->active_reopened[f->nactive++] = e->promise_active->reopened;
        }
        if (e->body_case == PLATEAU__V1__ENVELOPE__BODY_PROMISE_KEPT && f->nkept < MAX_SEEN)
            snprintf (f->kept[f->nkept++], 128, "%s", e->promise_kept->promise_id);
        pl_bus_msg_ack (msgs[i]);
    }
}

static void
s_audit (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    fx_t *f = arg;
    for (size_t i = 0; i < n; i++) {
        const pl_envelope_t *e = pl_bus_msg_envelope (msgs[i]);
        if (e->body_case == PLATEAU__V1__ENVELOPE__BODY_AUDIT_EVENT && f->nevents < MAX_SEEN) {
            snprintf (f->events[f->nevents], 48, "%s", e->audit_event->type);
            snprintf (f->event_ids[f->nevents++], 200, "%s", e->audit_event->event_id);
        }
        pl_bus_msg_ack (msgs[i]);
    }
}

static void
s_pump (fx_t *f, int ms)
{
    int64_t end = pl_clock_mono_ms () + ms;
    do {
        pl_bus_server_process (f->dialer, 256);
        pl_bus_server_process (f->audit, 256);
        pl_bus_client_t *cs[3] = { f->ctl, f->as_dialer, f->as_crm };
        for (int i = 0; i < 3; i++)
            if (cs[i]) {
                pl_bus_client_process (cs[i]);
                pl_bus_client_tick (cs[i]);
            }
        usleep (5000);
    } while (pl_clock_mono_ms () < end);
}

static int
s_start (fx_t *f)
{
    static char e[24][700];
    char *env[25];
    for (int attempt = 0; attempt < 3; attempt++) {
        int k = 0;
        f->http_port = pl_test_free_port ();
        f->ops_port = pl_test_free_port ();
        snprintf (f->bus, sizeof f->bus, "tcp://127.0.0.1:%d", pl_test_free_port ());
        snprintf (e[k++], 700, "PLATEAU_REDIS_URL=%s", pl_test_redis_url (f->srv));
        snprintf (e[k++], 700, "PLATEAU_OPS_ADDR=127.0.0.1");
        snprintf (e[k++], 700, "PLATEAU_OPS_PORT=%d", f->ops_port);
        snprintf (e[k++], 700, "PLATEAU_CLOCK=virtual:%lld", (long long) pl_clock_now_ms (f->clock));
        snprintf (e[k++], 700, "PLATEAU_BUS_BIND=%s", f->bus);
        snprintf (e[k++], 700, "PLATEAU_DIALER_BUS=%s", f->dialer_bus);
        snprintf (e[k++], 700, "PLATEAU_AUDIT_BUS=%s", f->audit_bus);
        snprintf (e[k++], 700, "PLATEAU_API_TOKENS_FILE=%s/tokens", f->dir);
        snprintf (e[k++], 700, "PLATEAU_PROMISE_SIGNING_KEYS_FILE=%s/signing", f->dir);
        snprintf (e[k++], 700, "PLATEAU_PROMISE_HTTP_ADDR=127.0.0.1");
        snprintf (e[k++], 700, "PLATEAU_PROMISE_HTTP_PORT=%d", f->http_port);
        snprintf (e[k++], 700, "PLATEAU_PROMISE_OPERATORS=ops");
        snprintf (e[k++], 700, "PLATEAU_PROMISE_READERS=reader");
        snprintf (e[k++], 700, "PLATEAU_PROMISE_PAYERS=pay");
        snprintf (e[k++], 700, "PLATEAU_PROMISE_SWEEP_MS=50");
        snprintf (e[k++], 700, "PLATEAU_BUS_ALLOW=PaymentReceived=payments");
        for (int j = 0; j < k; j++)
            env[j] = e[j];
        env[k] = NULL;
        char *argv[] = { "plateau-promise", NULL };
        f->pid = pl_test_spawn (argv, env, f->log);
        if (f->pid > 0 && pl_test_wait_started (f->pid, f->log, 20000))
            return 0;
        pl_test_stop (f->pid, SIGKILL, 2000);
        f->pid = 0;
    }
    return -1;
}

static pl_bus_client_t *
s_client (fx_t *f, const char *owner, const char *identity)
{
    char err[256] = "";
    pl_bus_client_t *c = pl_bus_client_new (f->redis, f->clock, owner, "promise", f->bus,
                                            pl_test_bus_options (identity), err, sizeof err);
    if (!c)
        fprintf (stderr, "bus client %s: %s\n", identity, err);
    return c;
}

static int
s_setup (void **state)
{
    signal (SIGPIPE, SIG_IGN);
    fx_t *f = calloc (1, sizeof *f);
    *state = s_fx = f;
    f->srv = pl_test_redis_start (NULL);
    f->dir = pl_test_tmpdir ("pl-promise");
    if (!f->srv || !f->dir)
        return -1;
    char path[600];
    snprintf (path, sizeof path, "%s/tokens", f->dir);
    FILE *fp = fopen (path, "w");
    fprintf (fp, "ops:%s\nreader:%s\npay:%s\n", OPS, READER, PAY);
    fclose (fp);
    snprintf (path, sizeof path, "%s/signing", f->dir);
    fp = fopen (path, "w");
    fprintf (fp, "# the payment processor's bridge\npay:%s\n", SECRET);
    fclose (fp);
    snprintf (f->log, sizeof f->log, "%s/promise.log", f->dir);
    f->dialer = pl_test_bus_server_free (f->dialer_bus, sizeof f->dialer_bus, "dialer");
    f->audit = pl_test_bus_server_free (f->audit_bus, sizeof f->audit_bus, "audit");
    if (!f->dialer || !f->audit)
        return -1;
    pl_bus_server_set_handler (f->dialer, s_dialer, f, NULL);
    pl_bus_server_set_handler (f->audit, s_audit, f, NULL);
    f->clock = pl_clock_new_virtual (T0);
    if (s_start (f) != 0)
        return -1;
    f->redis = pl_redis_new (pl_test_redis_url (f->srv), 2000);
    f->ctl = s_client (f, "test-ctl", "plateauctl");
    f->as_dialer = s_client (f, "test-dialer", "dialer");
    f->as_crm = s_client (f, "test-crm", "crm");
    return f->ctl && f->as_dialer && f->as_crm ? 0 : -1;
}

static void
s_dump (const char *path)
{
    char buf[4096];
    size_t n;
    FILE *fp = fopen (path, "r");
    while (fp && (n = fread (buf, 1, sizeof buf, fp)) > 0)
        fwrite (buf, 1, n, stderr);
    if (fp)
        fclose (fp);
}

static int
s_teardown (void **state)
{
    fx_t *f = *state;
    if (!f)
        return 0;
    if (f->pid > 0) {
        s_dump (f->log);
        pl_test_stop (f->pid, SIGKILL, 2000);
    }
    pl_bus_client_destroy (&f->ctl);
    pl_bus_client_destroy (&f->as_dialer);
    pl_bus_client_destroy (&f->as_crm);
    pl_redis_destroy (&f->redis);
    pl_clock_destroy (&f->clock);
    pl_bus_server_destroy (&f->dialer);
    pl_bus_server_destroy (&f->audit);
    pl_test_redis_stop (&f->srv);
    if (f->dir) {
        pl_test_rmdir (f->dir);
        free (f->dir);
    }
    free (f);
    return 0;
}

/* ---- helpers ------------------------------------------------------------------------------- */

/* A request with a token (NULL: none), a JSON body (NULL: none) and a signature when sign; the
 * body parsed into *out when wanted. */
static int
s_req (fx_t *f, const char *method, const char *path, const char *token, const char *body, bool sign, json_t **out)
{
    char headers[512], sig[PL_HTTP_SIGNATURE_SIZE] = "";
    if (sign)
        pl_http_sign (SECRET, strlen (SECRET), pl_clock_now_ms (f->clock) / 1000, method, path, body,
                      body ? strlen (body) : 0, sig, sizeof sig);
    snprintf (headers, sizeof headers, "%s%s%s%s%s%s%s", token ? "Authorization: Bearer " : "", token ? token : "",
              token ? "\r\n" : "", body ? "Content-Type: application/json\r\n" : "",
              sign ? PL_HTTP_SIGNATURE_HEADER ": " : "", sig, sign ? "\r\n" : "");
    pl_test_http_resp_t r = { 0 };
    int st = pl_test_http_request (f->http_port, method, path, headers, body, body ? strlen (body) : 0, &r);
    if (out)
        *out = r.body ? json_loads (r.body, 0, NULL) : NULL;
    pl_test_http_resp_free (&r);
    return st;
}

/* A payment (signed by the payer): its status code, and "status" of the answer in st. */
static int
s_pay (fx_t *f, const char *id, const char *account, long long amount, const char *currency, const char *extra,
       char *st, size_t size)
{
    char body[512];
    snprintf (body, sizeof body, "{\"payment_id\":\"%s\",\"account\":\"%s\",\"amount\":%lld,\"currency\":\"%s\"%s%s}",
              id, account, amount, currency, extra ? "," : "", extra ? extra : "");
    json_t *o = NULL;
    int code = s_req (f, "POST", "/v1/payments", PAY, body, true, &o);
    if (st)
        snprintf (st, size, "%s", json_string_value (json_object_get (o, "status")) ?: "");
    json_decref (o);
    return code;
}

/* A promise on account with the instalments given as a JSON array text. */
static int
s_promise (fx_t *f, const char *id, const char *account, const char *installments, const char *extra, json_t **out)
{
    char body[2048];
    snprintf (body, sizeof body,
              "{\"promise_id\":\"%s\",\"account\":\"%s\",\"creditor\":\"bank-1\",\"tenant\":\"recouvre\","
              "\"phone\":\"" PHONE "\",\"currency\":\"EUR\",\"installments\":%s,\"campaign\":\"fr-collect\","
              "\"agent\":\"a7\",\"lead\":\"L-%s\"%s%s}",
              id, account, installments, id, extra ? "," : "", extra ? extra : "");
    return s_req (f, "POST", "/v1/promises", OPS, body, false, out);
}

static json_t *
s_get (fx_t *f, const char *id)
{
    char path[256];
    snprintf (path, sizeof path, "/v1/promises/%s", id);
    json_t *o = NULL;
    return s_req (f, "GET", path, READER, NULL, false, &o) == 200 ? o : (json_decref (o), NULL);
}

static const char *
s_status (fx_t *f, const char *id, char *buf, size_t size)
{
    json_t *o = s_get (f, id);
    snprintf (buf, size, "%s", json_string_value (json_object_get (o, "status")) ?: "?");
    json_decref (o);
    return buf;
}

static long long
s_int (json_t *o, const char *k)
{
    return json_integer_value (json_object_get (o, k));
}

/* Whether the audit received an event of type whose id starts with id_prefix (waits up to 5 s:
 * events leave through the service's outbox). */
static bool
s_has_event (fx_t *f, const char *type, const char *id_prefix)
{
    for (int round = 0; round < 250; round++) {
        for (size_t i = 0; i < f->nevents; i++)
            if (strcmp (f->events[i], type) == 0 && strncmp (f->event_ids[i], id_prefix, strlen (id_prefix)) == 0)
                return true;
        s_pump (f, 20);
    }
    return false;
}

static bool
s_was_broken (fx_t *f, const char *id)
{
    for (size_t i = 0; i < f->nbroken; i++)
        if (strcmp (f->broken[i], id) == 0)
            return true;
    return false;
}

/* How many PromiseActive the dialer got for id; of them, reopened ones in *reopened. */
static int
s_actives (fx_t *f, const char *id, int *reopened)
{
    int n = 0;
    *reopened = 0;
    for (size_t i = 0; i < f->nactive; i++)
        if (strcmp (f->active[i], id) == 0) {
            n++;
            *reopened += f->active_reopened[i];
        }
    return n;
}

static bool
s_was_active (fx_t *f, const char *id)
{
    int r;
    return s_actives (f, id, &r) >= 1;
}

static bool
s_was_active_twice (fx_t *f, const char *id)
{
    int r;
    return s_actives (f, id, &r) == 2;
}

static bool
s_was_kept (fx_t *f, const char *id)
{
    for (size_t i = 0; i < f->nkept; i++)
        if (strcmp (f->kept[i], id) == 0)
            return true;
    return false;
}

/* Sends env from client c and waits for its answer: 0 acknowledged, -1 otherwise. */
static int
s_send (fx_t *f, pl_bus_client_t *c, pl_envelope_t *env)
{
    pl_envelope_t *envs[1] = { env };
    uint64_t dead = pl_bus_client_count (c, "dead");
    if (pl_bus_client_send (c, envs, 1) != 0)
        return -1;
    for (int i = 0; i < 400 && pl_bus_client_inflight (c) > 0; i++)
        s_pump (f, 10);
    return pl_bus_client_inflight (c) == 0 && pl_bus_client_count (c, "dead") == dead ? 0 : -1;
}

/* Moves the service's clock (and the test's) to ms, then lets the sweep run. */
static void
s_set_clock (fx_t *f, int64_t ms)
{
    Plateau__V1__ClockControl cc = PLATEAU__V1__CLOCK_CONTROL__INIT;
    cc.set_ms = ms;
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    pl_envelope_init (&env, &ids, "plateauctl", f->clock, NULL);
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_CLOCK_CONTROL;
    env.clock_control = &cc;
    assert_int_equal (s_send (f, f->ctl, &env), 0);
    pl_clock_set (f->clock, ms);
    s_pump (f, 300);
}

/* Waits until cond(f, arg) or about 5 s. */
static bool
s_wait (fx_t *f, bool (*cond) (fx_t *, const char *), const char *arg)
{
    for (int i = 0; i < 250; i++) {
        if (cond (f, arg))
            return true;
        s_pump (f, 20);
    }
    return cond (f, arg);
}

/* UTC ms of 00:00 local Paris time on y-m-d (winter: +01:00, summer: +02:00 given). */
static int64_t
s_utc (const char *rfc3339)
{
    int64_t ms = 0;
    assert_int_equal (pl_time_parse_rfc3339 (rfc3339, &ms), 0);
    return ms;
}

/* ---- promises and payments ----------------------------------------------------------------- */

static void
test_instalments_are_kept_through_partial_payments_within_tolerance (void **state)
{
    fx_t *f = *state;
    json_t *o = NULL;
    assert_int_equal (s_promise (f, "P1", "ACC-1",
                                 "[{\"due\":\"2026-12-15\",\"amount\":5000},{\"due\":\"2027-01-15\",\"amount\":5000}]",
                                 "\"tolerance\":{\"percent\":2},\"grace_days\":3", &o), 201);
    assert_string_equal (json_string_value (json_object_get (o, "status")), "active");
    assert_string_equal (json_string_value (json_object_get (o, "zone")), "Europe/Paris");
    json_decref (o);
    char st[32];
    assert_int_equal (s_pay (f, "pay-1a", "ACC-1", 3000, "EUR", NULL, st, sizeof st), 201);
    assert_string_equal (st, "applied");
    o = s_get (f, "P1");
    json_t *i0 = json_array_get (json_object_get (o, "installments"), 0);
    assert_string_equal (json_string_value (json_object_get (i0, "status")), "partly_paid");
    assert_int_equal (s_int (i0, "paid"), 3000);
    json_decref (o);
    assert_int_equal (s_pay (f, "pay-1b", "ACC-1", 2000, "EUR", NULL, st, sizeof st), 201);
    /* 4,900 of 5,000 is inside 2 %: the second instalment is paid, the promise kept. */
    assert_int_equal (s_pay (f, "pay-1c", "ACC-1", 4900, "EUR", NULL, st, sizeof st), 201);
    o = s_get (f, "P1");
    assert_string_equal (json_string_value (json_object_get (o, "status")), "kept");
    assert_int_equal (s_int (o, "paid"), 9900);
    json_decref (o);
    assert_true (s_wait (f, s_was_kept, "P1"));
    assert_true (s_has_event (f, "promise.made", "P1.made"));
    assert_true (s_has_event (f, "payment.applied", "pay-1a."));
    assert_true (s_has_event (f, "promise.instalment_paid", "P1.instalment_paid.0"));
    assert_true (s_has_event (f, "promise.kept", "P1.kept"));
    /* The creditor is told of every payment, partial ones included (R124-5). */
    pl_test_http_resp_t r = { 0 };
    char headers[128], cursor[64] = "";
    snprintf (headers, sizeof headers, "Authorization: Bearer %s\r\n", READER);
    assert_int_equal (pl_test_http_request (f->http_port, "GET", "/v1/creditors/bank-1/notifications", headers, NULL,
                                            0, &r), 200);
    int lines = 0;
    for (const char *p = r.body; p && (p = strchr (p, '\n')); p++)
        lines++;
    assert_int_equal (lines, 3);
    assert_non_null (strstr (r.body, "\"payment_id\":\"pay-1a\""));
    assert_non_null (pl_test_http_header (&r, "X-Next-Cursor", cursor, sizeof cursor));
    pl_test_http_resp_free (&r);
    /* Resumed from the cursor: nothing new. */
    char path[160];
    snprintf (path, sizeof path, "/v1/creditors/bank-1/notifications?after=%s", cursor);
    assert_int_equal (pl_test_http_request (f->http_port, "GET", path, headers, NULL, 0, &r), 200);
    assert_true (!r.body || !*r.body);
    pl_test_http_resp_free (&r);
}

/* Runs plateauctl promises with args; its output in out. Exit status. */
static int
s_ctl (fx_t *f, const char *args, char *out, size_t size)
{
    char cmd[1024];
    snprintf (cmd, sizeof cmd, "PLATEAU_PROMISE_URL=http://127.0.0.1:%d PLATEAU_API_TOKEN=%s '%s' promises %s",
              f->http_port, OPS, pl_test_bin ("plateauctl"), args);
    return pl_test_run (cmd, out, size);
}

static void
test_plateauctl_shows_a_promise_an_account_and_the_kpis (void **state)
{
    fx_t *f = *state;
    char out[8192];
    assert_int_equal (s_ctl (f, "show P1", out, sizeof out), 0);
    assert_non_null (strstr (out, "P1"));
    assert_non_null (strstr (out, "kept"));
    assert_non_null (strstr (out, "EUR 99.00 of 100.00 paid"));
    assert_non_null (strstr (out, "due 2026-12-15"));
    assert_int_equal (s_ctl (f, "account ACC-1", out, sizeof out), 0);
    assert_non_null (strstr (out, "account ACC-1: 1 promise"));
    assert_int_equal (s_ctl (f, "stats --from 2026-12-07 --to 2026-12-07 --campaign fr-collect", out, sizeof out), 0);
    assert_non_null (strstr (out, "1 made"));
    assert_non_null (strstr (out, "kept rate 100.0%"));
    assert_int_equal (s_ctl (f, "show NOPE", out, sizeof out), 1);
    assert_non_null (strstr (out, "404"));
    assert_int_equal (s_ctl (f, "frobnicate", out, sizeof out), 2);
}

static void
test_the_same_payment_delivered_three_times_counts_once (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_promise (f, "P2", "ACC-2", "[{\"due\":\"2026-12-20\",\"amount\":10000}]", NULL, NULL), 201);
    char st[32];
    assert_int_equal (s_pay (f, "pay-2", "ACC-2", 2500, "EUR", NULL, st, sizeof st), 201);
    assert_string_equal (st, "applied");
    assert_int_equal (s_pay (f, "pay-2", "ACC-2", 2500, "EUR", NULL, st, sizeof st), 200);
    assert_string_equal (st, "duplicate");
    assert_int_equal (s_pay (f, "pay-2", "ACC-2", 2500, "EUR", NULL, st, sizeof st), 200);
    json_t *o = s_get (f, "P2");
    assert_int_equal (s_int (o, "paid"), 2500);
    json_decref (o);
    /* The same promise posted again: what is stored, not a second one. */
    assert_int_equal (s_promise (f, "P2", "ACC-2", "[{\"due\":\"2026-12-20\",\"amount\":10000}]", NULL, NULL), 200);
}

typedef struct {
    const char *id;
    long long amount;
    int code;
} s_shot_t;

static void *
s_shoot (void *arg)
{
    s_shot_t *s = arg;
    s->code = s_pay (s_fx, s->id, "ACC-3", s->amount, "EUR", NULL, NULL, 0);
    return NULL;
}

static void
test_two_payments_at_the_same_instant_both_count (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_promise (f, "P3", "ACC-3", "[{\"due\":\"2026-12-21\",\"amount\":1000000}]", NULL, NULL), 201);
    long long total = 0;
    for (int round = 0; round < 10; round++) {
        char a[32], b[32];
        snprintf (a, sizeof a, "pay-3-%da", round);
        snprintf (b, sizeof b, "pay-3-%db", round);
        s_shot_t s1 = { a, 1000 + round, 0 }, s2 = { b, 2000 + round, 0 };
        pthread_t t1, t2;
        pthread_create (&t1, NULL, s_shoot, &s1);
        pthread_create (&t2, NULL, s_shoot, &s2);
        pthread_join (t1, NULL);
        pthread_join (t2, NULL);
        assert_int_equal (s1.code, 201);
        assert_int_equal (s2.code, 201);
        total += s1.amount + s2.amount;
    }
    json_t *o = s_get (f, "P3");
    assert_int_equal (s_int (o, "paid"), total);
    json_decref (o);
}

/* Status of the answer to payment i of a batch, or its error's field. */
static const char *
s_result (json_t *o, size_t i, const char *what)
{
    json_t *r = json_array_get (json_object_get (o, "results"), i);
    json_t *e = json_object_get (r, "error");
    return json_string_value (json_object_get (e ? e : r, what)) ?: "";
}

static void
test_a_batch_of_payments_is_answered_payment_by_payment (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_promise (f, "P20", "ACC-20", "[{\"due\":\"2026-12-20\",\"amount\":10000}]", NULL, NULL), 201);
    assert_int_equal (s_promise (f, "P21", "ACC-21", "[{\"due\":\"2026-12-20\",\"amount\":5000}]", NULL, NULL), 201);
    const char *body =
        "{\"payments\":["
        "{\"payment_id\":\"pay-20a\",\"account\":\"ACC-20\",\"amount\":2500,\"currency\":\"EUR\"},"
        "{\"payment_id\":\"pay-20a\",\"account\":\"ACC-20\",\"amount\":2500,\"currency\":\"EUR\"},"
        "{\"payment_id\":\"pay-21a\",\"account\":\"ACC-21\",\"amount\":\"5000\",\"currency\":\"EUR\"},"
        "{\"payment_id\":\"pay-21b\",\"account\":\"ACC-21\",\"amount\":5000,\"currency\":\"EUR\","
        "\"method\":\"sepa\",\"paid_at\":\"2026-12-07T08:00:00Z\"},"
        "{\"payment_id\":\"pay-21c\",\"account\":\"ACC-21\",\"amount\":1,\"currency\":\"EUR\",\"colour\":\"red\"},"
        "{\"payment_id\":\"pay-22\",\"account\":\"NOPE-22\",\"amount\":700,\"currency\":\"EUR\"},"
        "7,"
        "{\"payment_id\":\"pay-20b\",\"account\":\"ACC-20\",\"amount\":100,\"currency\":\"USD\"}"
        "]}";
    /* Payers only, and signed: unsigned, a reader, and a signature of another body are refused. */
    assert_int_equal (s_req (f, "POST", "/v1/payments/batch", PAY, body, false, NULL), 401);
    assert_int_equal (s_req (f, "POST", "/v1/payments/batch", READER, body, false, NULL), 403);
    char sig[PL_HTTP_SIGNATURE_SIZE], headers[512];
    const char *other = "{\"payments\":[]}";
    pl_http_sign (SECRET, strlen (SECRET), pl_clock_now_ms (f->clock) / 1000, "POST", "/v1/payments/batch", other,
                  strlen (other), sig, sizeof sig);
    snprintf (headers, sizeof headers, "Authorization: Bearer " PAY "\r\nContent-Type: application/json\r\n"
              PL_HTTP_SIGNATURE_HEADER ": %s\r\n", sig);
    pl_test_http_resp_t forged = { 0 };
    assert_int_equal (pl_test_http_request (f->http_port, "POST", "/v1/payments/batch", headers, body, strlen (body),
                                            &forged), 401);
    pl_test_http_resp_free (&forged);
    json_t *o = NULL;
    assert_int_equal (s_req (f, "POST", "/v1/payments/batch", PAY, body, true, &o), 200);
    assert_int_equal (json_array_size (json_object_get (o, "results")), 8);
    assert_string_equal (s_result (o, 0, "status"), "applied");
    assert_string_equal (s_result (o, 0, "promise"), "P20");
    assert_string_equal (s_result (o, 1, "status"), "duplicate");
    assert_string_equal (s_result (o, 2, "field"), "payments[2].amount");
    assert_string_equal (s_result (o, 2, "code"), "invalid");
    assert_string_equal (s_result (o, 3, "status"), "applied");
    assert_string_equal (s_result (o, 4, "field"), "payments[4].colour");
    assert_string_equal (s_result (o, 5, "status"), "unmatched");
    assert_string_equal (s_result (o, 6, "field"), "payments[6]");
    assert_string_equal (s_result (o, 7, "field"), "payments[7].currency");   /* P20 is in EUR */
    assert_int_equal (json_integer_value (json_object_get (o, "applied")), 2);
    assert_int_equal (json_integer_value (json_object_get (o, "duplicate")), 1);
    assert_int_equal (json_integer_value (json_object_get (o, "unmatched")), 1);
    assert_int_equal (json_integer_value (json_object_get (o, "refused")), 4);
    assert_int_equal (json_integer_value (json_object_get (o, "failed")), 0);
    json_decref (o);
    /* What was refused left nothing; what was valid is all there. */
    o = s_get (f, "P20");
    assert_int_equal (s_int (o, "paid"), 2500);
    json_decref (o);
    char st[32];
    assert_string_equal (s_status (f, "P21", st, sizeof st), "kept");
    assert_int_equal (s_req (f, "GET", "/v1/accounts/ACC-21/payments/pay-21a", READER, NULL, false, NULL), 404);
    assert_int_equal (s_req (f, "GET", "/v1/accounts/ACC-21/payments/pay-21c", READER, NULL, false, NULL), 404);
    assert_int_equal (s_req (f, "GET", "/v1/accounts/NOPE-22/payments/pay-22", READER, NULL, false, NULL), 200);
    /* Sent again whole: every valid one a duplicate, nothing counted twice. */
    assert_int_equal (s_req (f, "POST", "/v1/payments/batch", PAY, body, true, &o), 200);
    assert_int_equal (json_integer_value (json_object_get (o, "duplicate")), 4);
    json_decref (o);
    o = s_get (f, "P20");
    assert_int_equal (s_int (o, "paid"), 2500);
    json_decref (o);
    /* No payments, too many, not an array, broken JSON: refused whole, naming where. */
    assert_int_equal (s_req (f, "POST", "/v1/payments/batch", PAY, "{\"payments\":[]}", true, &o), 422);
    assert_string_equal (json_string_value (json_object_get (json_object_get (o, "error"), "field")), "payments");
    json_decref (o);
    assert_int_equal (s_req (f, "POST", "/v1/payments/batch", PAY, "{\"payments\":{}}", true, NULL), 422);
    assert_int_equal (s_req (f, "POST", "/v1/payments/batch", PAY, "{\"payments\":[1],\"more\":2}", true, NULL), 400);
    assert_int_equal (s_req (f, "POST", "/v1/payments/batch", PAY, "{\"payments\":[\n{]}", true, &o), 400);
    assert_int_equal (json_integer_value (json_object_get (json_object_get (o, "error"), "line")), 2);
    json_decref (o);
    size_t cap = 1001 * 100 + 64, len = 0;
    char *big = malloc (cap);
    len += (size_t) snprintf (big + len, cap - len, "{\"payments\":[");
    for (int i = 0; i < 1001; i++)
        len += (size_t) snprintf (big + len, cap - len, "%s{\"payment_id\":\"b-%d\",\"account\":\"ACC-23\","
                                  "\"amount\":1,\"currency\":\"EUR\"}", i ? "," : "", i);
    snprintf (big + len, cap - len, "]}");
    assert_int_equal (s_req (f, "POST", "/v1/payments/batch", PAY, big, true, &o), 422);
    assert_string_equal (json_string_value (json_object_get (json_object_get (o, "error"), "field")), "payments");
    json_decref (o);
    free (big);
    /* Past 512 KiB: 413, nothing read into a tree. */
    cap = 600 * 1024;
    big = malloc (cap + 1);
    memset (big, ' ', cap);
    memcpy (big, "{\"payments\":[", 13);
    memcpy (big + cap - 2, "]}", 2);
    big[cap] = '\0';
    assert_int_equal (s_req (f, "POST", "/v1/payments/batch", PAY, big, true, NULL), 413);
    free (big);
}

static void
test_a_payment_before_its_promise_is_kept_and_matched (void **state)
{
    fx_t *f = *state;
    char st[32];
    assert_int_equal (s_pay (f, "pay-4", "ACC-4", 3000, "EUR", NULL, st, sizeof st), 201);
    assert_string_equal (st, "unmatched");
    json_t *o = NULL;
    assert_int_equal (s_req (f, "GET", "/v1/accounts/ACC-4/promises", READER, NULL, false, &o), 200);
    assert_int_equal (json_array_size (json_object_get (o, "unmatched_payments")), 1);
    json_decref (o);
    assert_int_equal (s_promise (f, "P4", "ACC-4", "[{\"due\":\"2026-12-22\",\"amount\":3000}]", NULL, &o), 201);
    /* Paid in full by the payment that came first: kept at once. */
    assert_string_equal (json_string_value (json_object_get (o, "status")), "kept");
    assert_int_equal (s_int (o, "paid"), 3000);
    json_decref (o);
    assert_int_equal (s_req (f, "GET", "/v1/accounts/ACC-4/promises", READER, NULL, false, &o), 200);
    assert_int_equal (json_array_size (json_object_get (o, "unmatched_payments")), 0);
    json_decref (o);
    assert_int_equal (s_req (f, "GET", "/v1/accounts/ACC-4/payments/pay-4", READER, NULL, false, &o), 200);
    assert_string_equal (json_string_value (json_object_get (o, "promise")), "P4");
    json_decref (o);
}

static void
test_one_active_promise_per_account (void **state)
{
    fx_t *f = *state;
    json_t *o = NULL;
    assert_int_equal (s_promise (f, "P5", "ACC-5", "[{\"due\":\"2026-12-23\",\"amount\":1000}]", NULL, NULL), 201);
    assert_int_equal (s_promise (f, "P5b", "ACC-5", "[{\"due\":\"2026-12-24\",\"amount\":1000}]", NULL, &o), 409);
    assert_string_equal (json_string_value (json_object_get (json_object_get (o, "error"), "field")), "account");
    json_decref (o);
    /* Cancelled, it makes room; cancelling twice is a conflict; a reader may not cancel. */
    assert_int_equal (s_req (f, "POST", "/v1/promises/P5/cancel", READER, "{}", false, NULL), 403);
    assert_int_equal (s_req (f, "POST", "/v1/promises/P5/cancel", OPS, "{\"reason\":\"disputed\"}", false, NULL), 200);
    assert_int_equal (s_req (f, "POST", "/v1/promises/P5/cancel", OPS, "{}", false, NULL), 409);
    assert_int_equal (s_promise (f, "P5b", "ACC-5", "[{\"due\":\"2026-12-24\",\"amount\":1000}]", NULL, NULL), 201);
    assert_true (s_has_event (f, "promise.cancelled", "P5.cancelled"));
}

/* ---- bad input ------------------------------------------------------------------------------ */

static void
s_expect_field (fx_t *f, int code, const char *body, const char *field)
{
    json_t *o = NULL;
    int st = s_req (f, "POST", "/v1/promises", OPS, body, false, &o);
    const char *got = json_string_value (json_object_get (json_object_get (o, "error"), "field"));
    if (st != code || !got || strcmp (got, field))
        fprintf (stderr, "%s -> %d %s\n", body, st, got ? got : "(no field)");
    assert_int_equal (st, code);
    assert_string_equal (got, field);
    json_decref (o);
}

static void
test_bad_promises_are_refused_naming_the_field_and_nothing_is_stored (void **state)
{
    fx_t *f = *state;
    const char *head = "{\"account\":\"ACC-BAD\",\"creditor\":\"bank-1\",\"phone\":\"" PHONE "\",";
    char body[1024];
    snprintf (body, sizeof body, "%s\"currency\":\"EUR\",\"installments\":[{\"due\":\"2027-01-10\",\"amount\":100},"
                                 "{\"due\":\"2027-01-05\",\"amount\":100}]}", head);
    s_expect_field (f, 422, body, "installments[1].due");
    snprintf (body, sizeof body, "%s\"currency\":\"EUR\",\"installments\":[{\"due\":\"2026-12-01\",\"amount\":100}]}",
              head);
    s_expect_field (f, 422, body, "installments[0].due");
    snprintf (body, sizeof body, "%s\"currency\":\"EUR\",\"installments\":[{\"due\":\"2027-01-10\",\"amount\":0}]}",
              head);
    s_expect_field (f, 422, body, "installments[0].amount");
    snprintf (body, sizeof body, "%s\"currency\":\"EUR\",\"installments\":[{\"due\":\"2027-01-10\",\"amount\":-5}]}",
              head);
    s_expect_field (f, 422, body, "installments[0].amount");
    snprintf (body, sizeof body, "%s\"currency\":\"EUR\",\"tolerance\":{\"amount\":500},"
                                 "\"installments\":[{\"due\":\"2027-01-10\",\"amount\":400}]}", head);
    s_expect_field (f, 422, body, "tolerance");
    snprintf (body, sizeof body, "%s\"currency\":\"eur\",\"installments\":[{\"due\":\"2027-01-10\",\"amount\":400}]}",
              head);
    s_expect_field (f, 422, body, "currency");
    snprintf (body, sizeof body, "%s\"currency\":\"EUR\",\"installments\":[{\"due\":\"2027-02-30\",\"amount\":4}]}",
              head);
    s_expect_field (f, 422, body, "installments[0].due");
    snprintf (body, sizeof body, "%s\"currency\":\"EUR\",\"interest\":3,\"installments\":[]}", head);
    s_expect_field (f, 400, body, "interest");
    s_expect_field (f, 422, "{\"account\":\"ACC-BAD\",\"creditor\":\"bank\\u0007\",\"phone\":\"" PHONE "\","
                            "\"currency\":\"EUR\",\"installments\":[{\"due\":\"2027-01-10\",\"amount\":400}]}",
                    "creditor");
    json_t *o = NULL;
    assert_int_equal (s_req (f, "POST", "/v1/promises", OPS, "{\n \"account\": \"x\",,\n}", false, &o), 400);
    assert_int_equal (json_integer_value (json_object_get (json_object_get (o, "error"), "line")), 2);
    json_decref (o);
    /* Nothing of any of them stored. */
    assert_int_equal (s_req (f, "GET", "/v1/accounts/ACC-BAD/promises", READER, NULL, false, &o), 200);
    assert_int_equal (json_array_size (json_object_get (o, "promises")), 0);
    json_decref (o);
}

static void
test_bad_payments_are_refused_naming_the_field (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_promise (f, "P6", "ACC-6", "[{\"due\":\"2026-12-28\",\"amount\":1000}]", NULL, NULL), 201);
    char st[32];
    json_t *o = NULL;
    /* Another currency than its promise. */
    assert_int_equal (s_req (f, "POST", "/v1/payments", PAY,
                             "{\"payment_id\":\"pay-6x\",\"account\":\"ACC-6\",\"amount\":100,\"currency\":\"USD\"}",
                             true, &o), 422);
    assert_string_equal (json_string_value (json_object_get (json_object_get (o, "error"), "field")), "currency");
    json_decref (o);
    assert_int_equal (s_pay (f, "pay-6z", "ACC-6", 0, "EUR", NULL, st, sizeof st), 422);
    assert_int_equal (s_pay (f, "pay-6n", "ACC-6", -100, "EUR", NULL, st, sizeof st), 422);
    /* A reversal of a payment that does not exist, or of more than it paid. */
    assert_int_equal (s_pay (f, "rev-6", "ACC-6", 100, "EUR", "\"reverses\":\"nope\"", st, sizeof st), 422);
    assert_int_equal (s_pay (f, "pay-6", "ACC-6", 100, "EUR", NULL, st, sizeof st), 201);
    assert_int_equal (s_pay (f, "rev-6", "ACC-6", 101, "EUR", "\"reverses\":\"pay-6\"", st, sizeof st), 422);
    o = s_get (f, "P6");
    assert_int_equal (s_int (o, "paid"), 100);
    json_decref (o);
}

static void
test_payments_are_signed_by_a_payer (void **state)
{
    fx_t *f = *state;
    const char *body = "{\"payment_id\":\"pay-7\",\"account\":\"ACC-7\",\"amount\":100,\"currency\":\"EUR\"}";
    assert_int_equal (s_req (f, "POST", "/v1/payments", PAY, body, false, NULL), 401);       /* unsigned */
    assert_int_equal (s_req (f, "POST", "/v1/payments", OPS, body, true, NULL), 403);        /* not a payer */
    assert_int_equal (s_req (f, "POST", "/v1/payments", NULL, body, true, NULL), 401);       /* no token */
    /* Signed for another body: refused. */
    char sig[PL_HTTP_SIGNATURE_SIZE], headers[512];
    pl_http_sign (SECRET, strlen (SECRET), pl_clock_now_ms (f->clock) / 1000, "POST", "/v1/payments", "{}", 2, sig,
                  sizeof sig);
    snprintf (headers, sizeof headers, "Authorization: Bearer %s\r\nContent-Type: application/json\r\n%s: %s\r\n",
              PAY, PL_HTTP_SIGNATURE_HEADER, sig);
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (pl_test_http_request (f->http_port, "POST", "/v1/payments", headers, body, strlen (body), &r),
                      401);
    pl_test_http_resp_free (&r);
    /* A body over 16 KiB: 413. */
    size_t n = 20000;
    char *big = malloc (n + 1);
    memset (big, ' ', n);
    memcpy (big, "{\"x\":1}", 7);
    big[n] = '\0';
    assert_int_equal (s_req (f, "POST", "/v1/payments", PAY, big, true, NULL), 413);
    free (big);
    json_t *o = NULL;
    assert_int_equal (s_req (f, "GET", "/v1/accounts/ACC-7/promises", READER, NULL, false, &o), 200);
    assert_int_equal (json_array_size (json_object_get (o, "unmatched_payments")), 0);
    json_decref (o);
}

static void
test_the_bus_door_takes_payments_from_the_payment_bridge_only (void **state)
{
    fx_t *f = *state;
    Plateau__V1__PaymentReceived pr = PLATEAU__V1__PAYMENT_RECEIVED__INIT;
    Plateau__V1__Money m = PLATEAU__V1__MONEY__INIT;
    m.minor_units = 700;
    m.currency = "EUR";
    pr.payment_id = "bus-pay-8";
    pr.account_ref = "ACC-8";
    pr.amount = &m;
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    pl_envelope_init (&env, &ids, "crm", f->clock, NULL);
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_PAYMENT_RECEIVED;
    env.payment_received = &pr;
    assert_int_equal (s_send (f, f->as_crm, &env), -1);       /* a CRM may not say money arrived */
    json_t *o = NULL;
    assert_int_equal (s_req (f, "GET", "/v1/accounts/ACC-8/promises", READER, NULL, false, &o), 200);
    assert_int_equal (json_array_size (json_object_get (o, "unmatched_payments")), 0);
    json_decref (o);
    pl_bus_client_t *bridge = s_client (f, "test-pay", "payments");
    assert_non_null (bridge);
    pl_envelope_init (&env, &ids, "payments", f->clock, NULL);
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_PAYMENT_RECEIVED;
    env.payment_received = &pr;
    pl_envelope_t *envs[1] = { &env };
    assert_int_equal (pl_bus_client_send (bridge, envs, 1), 0);
    for (int i = 0; i < 400 && pl_bus_client_inflight (bridge) > 0; i++) {
        pl_bus_client_process (bridge);
        pl_bus_client_tick (bridge);
        s_pump (f, 10);
    }
    assert_int_equal (pl_bus_client_inflight (bridge), 0);
    pl_bus_client_destroy (&bridge);
    assert_int_equal (s_req (f, "GET", "/v1/accounts/ACC-8/promises", READER, NULL, false, &o), 200);
    assert_int_equal (json_array_size (json_object_get (o, "unmatched_payments")), 1);
    json_decref (o);
    /* Part of it bounces: what is left stays unmatched, for the account's next promise. */
    char st[32];
    assert_int_equal (s_pay (f, "rev-8", "ACC-8", 200, "EUR", "\"reverses\":\"bus-pay-8\"", st, sizeof st), 201);
    assert_string_equal (st, "reversed");
    assert_int_equal (s_req (f, "GET", "/v1/accounts/ACC-8/promises", READER, NULL, false, &o), 200);
    json_t *u = json_array_get (json_object_get (o, "unmatched_payments"), 0);
    assert_int_equal (json_integer_value (json_object_get (u, "amount")), 500);
    json_decref (o);
}

/* A PaymentReceived from the payment bridge. */
static void
s_bus_payment (pl_envelope_t *env, pl_envelope_ids_t *ids, Plateau__V1__PaymentReceived *pr, Plateau__V1__Money *m,
               const char *id, const char *account, long long amount)
{
    plateau__v1__payment_received__init (pr);
    plateau__v1__money__init (m);
    m->minor_units = amount;
    m->currency = "EUR";
    pr->payment_id = (char *) id;
    pr->account_ref = (char *) account;
    pr->amount = m;
    pl_envelope_init (env, ids, "payments", s_fx->clock, NULL);
    env->body_case = PLATEAU__V1__ENVELOPE__BODY_PAYMENT_RECEIVED;
    env->payment_received = pr;
}

static void
test_a_bus_batch_of_payments_applies_each_payment_once (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_promise (f, "P30", "ACC-30", "[{\"due\":\"2026-12-20\",\"amount\":10000}]", NULL, NULL), 201);
    assert_int_equal (s_promise (f, "P31", "ACC-31", "[{\"due\":\"2026-12-20\",\"amount\":10000}]", NULL, NULL), 201);
    /* One send: two payments to ACC-30, one to ACC-31, the first sent twice, one of no amount. */
    static const struct {
        const char *id, *account;
        long long amount;
    } ps[] = { { "bus-30a", "ACC-30", 1000 }, { "bus-30b", "ACC-30", 2000 }, { "bus-31", "ACC-31", 500 },
               { "bus-30a", "ACC-30", 1000 }, { "bus-32", "ACC-30", 0 } };
    enum { N = sizeof ps / sizeof *ps };
    pl_envelope_t env[N], *envs[N];
    pl_envelope_ids_t ids[N];
    Plateau__V1__PaymentReceived pr[N];
    Plateau__V1__Money m[N];
    for (int i = 0; i < N; i++) {
        s_bus_payment (&env[i], &ids[i], &pr[i], &m[i], ps[i].id, ps[i].account, ps[i].amount);
        envs[i] = &env[i];
    }
    pl_bus_client_t *bridge = s_client (f, "test-pay-batch", "payments");
    assert_non_null (bridge);
    assert_int_equal (pl_bus_client_send (bridge, envs, N), 0);
    for (int i = 0; i < 400 && pl_bus_client_inflight (bridge) > 0; i++) {
        pl_bus_client_process (bridge);
        pl_bus_client_tick (bridge);
        s_pump (f, 10);
    }
    assert_int_equal (pl_bus_client_inflight (bridge), 0);          /* acked, or refused for good */
    pl_bus_client_destroy (&bridge);
    json_t *o = s_get (f, "P30");
    assert_int_equal (s_int (o, "paid"), 3000);                     /* bus-30a once, bus-30b */
    json_decref (o);
    o = s_get (f, "P31");
    assert_int_equal (s_int (o, "paid"), 500);
    json_decref (o);
    assert_int_equal (s_req (f, "GET", "/v1/accounts/ACC-30/payments/bus-30b", READER, NULL, false, &o), 200);
    assert_string_equal (json_string_value (json_object_get (o, "promise")), "P30");
    json_decref (o);
    assert_int_equal (s_req (f, "GET", "/v1/accounts/ACC-30/payments/bus-32", READER, NULL, false, NULL), 404);
}

static void
test_a_promise_made_on_a_call_arrives_over_the_bus_once (void **state)
{
    fx_t *f = *state;
    Plateau__V1__PromiseMade pm = PLATEAU__V1__PROMISE_MADE__INIT;
    Plateau__V1__Instalment in = PLATEAU__V1__INSTALMENT__INIT, *ins[1] = { &in };
    Plateau__V1__Money m = PLATEAU__V1__MONEY__INIT;
    m.minor_units = 4200;
    m.currency = "EUR";
    in.amount = &m;
    in.due_at_ms = s_utc ("2026-12-30T18:00:00+01:00");
    pm.promise_id = "L9.1.promise";
    pm.lead_id = "L9";
    pm.account_ref = "ACC-9";
    pm.campaign = "fr-collect";
    pm.n_instalments = 1;
    pm.instalments = ins;
    pm.agent_id = "a3";
    pm.dial_id = "L9.1";
    pm.made_at_ms = pl_clock_now_ms (f->clock);
    pm.number = PHONE;
    pm.tenant = "recouvre";
    pm.creditor = "Harbor Credit Union";        /* a creditor is a name, spaces and all */
    char id[PL_ID_LEN + 1];
    for (int i = 0; i < 2; i++) {
        pl_envelope_t env;
        pl_envelope_ids_t ids;
        pl_envelope_init (&env, &ids, "dialer", f->clock, NULL);
        if (i == 0)
            snprintf (id, sizeof id, "%s", ids.id);
        else
            env.id = id;            /* the same message again */
        env.body_case = PLATEAU__V1__ENVELOPE__BODY_PROMISE_MADE;
        env.promise_made = &pm;
        assert_int_equal (s_send (f, f->as_dialer, &env), 0);
    }
    json_t *o = s_get (f, "L9.1.promise");
    assert_non_null (o);
    assert_string_equal (json_string_value (json_object_get (o, "creditor")), "Harbor Credit Union");
    json_t *i0 = json_array_get (json_object_get (o, "installments"), 0);
    assert_string_equal (json_string_value (json_object_get (i0, "due")), "2026-12-30");
    assert_string_equal (json_string_value (json_object_get (o, "lead")), "L9");
    json_decref (o);
    assert_int_equal (s_req (f, "GET", "/v1/accounts/ACC-9/promises", READER, NULL, false, &o), 200);
    assert_int_equal (json_array_size (json_object_get (o, "promises")), 1);
    json_decref (o);
    /* The dialer holds the debt from its own disposition: no PromiseActive for it. */
    s_pump (f, 200);
    int reopened = 0;
    assert_int_equal (s_actives (f, "L9.1.promise", &reopened), 0);
}

/* Sends a Disposition as c (its id: id, NULL a new one) for campaign and agent. */
static int
s_contact (fx_t *f, pl_bus_client_t *c, const char *sender, const char *id, const char *campaign, const char *agent,
           Plateau__V1__Disposition__Code code)
{
    Plateau__V1__Disposition d = PLATEAU__V1__DISPOSITION__INIT;
    d.dial_id = "L40.1";
    d.lead_id = "L40";
    d.campaign = (char *) campaign;
    d.agent_id = (char *) agent;
    d.code = code;
    d.at_ms = pl_clock_now_ms (f->clock);
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    pl_envelope_init (&env, &ids, sender, f->clock, NULL);
    if (id)
        env.id = (char *) id;
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_DISPOSITION;
    env.disposition = &d;
    return s_send (f, c, &env);
}

/* The dialer tells of each conversation with a debtor (a right-party contact): the KPIs count
 * them once each, by campaign and agent, and give promises per right-party contact; a wrong
 * number is none; another sender than the dialer, or a campaign that would break the KPIs'
 * fields, is refused. */
static void
test_right_party_contacts_from_the_dialer_give_promises_per_contact (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_contact (f, f->as_dialer, "dialer", "rpc-1", "rpc-camp", "a7",
                                 PLATEAU__V1__DISPOSITION__CODE__CONVERSATION), 0);
    assert_int_equal (s_contact (f, f->as_dialer, "dialer", "rpc-1", "rpc-camp", "a7",
                                 PLATEAU__V1__DISPOSITION__CODE__CONVERSATION), 0);   /* again: once */
    assert_int_equal (s_contact (f, f->as_dialer, "dialer", "rpc-2", "rpc-camp", "a7",
                                 PLATEAU__V1__DISPOSITION__CODE__REFUSED), 0);
    assert_int_equal (s_contact (f, f->as_dialer, "dialer", "rpc-3", "rpc-camp", "a8",
                                 PLATEAU__V1__DISPOSITION__CODE__PROMISE_TO_PAY), 0);
    assert_int_equal (s_contact (f, f->as_dialer, "dialer", "rpc-4", "rpc-camp", "a7",
                                 PLATEAU__V1__DISPOSITION__CODE__WRONG_NUMBER), 0);
    assert_int_equal (s_contact (f, f->as_crm, "crm", "rpc-5", "rpc-camp", "a7",
                                 PLATEAU__V1__DISPOSITION__CODE__CONVERSATION), -1);
    assert_int_equal (s_contact (f, f->as_dialer, "dialer", "rpc-6", "rpc|camp", "a7",
                                 PLATEAU__V1__DISPOSITION__CODE__CONVERSATION), -1);
    json_t *o = NULL;
    assert_int_equal (s_req (f, "GET", "/v1/promises/stats?from=2026-12-01&to=2027-11-30&campaign=rpc-camp", READER,
                             NULL, false, &o), 200);
    assert_int_equal (s_int (o, "rpc"), 3);
    assert_int_equal (s_int (o, "made"), 0);
    assert_true (json_is_real (json_object_get (o, "promises_per_rpc")));
    json_t *rows = json_object_get (o, "by_campaign_agent");
    assert_int_equal (json_array_size (rows), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *row = json_array_get (rows, i);
        const char *agent = json_string_value (json_object_get (row, "agent"));
        assert_int_equal (s_int (row, "rpc"), !strcmp (agent, "a7") ? 2 : 1);
    }
    json_decref (o);
    char out[4096];
    assert_int_equal (s_ctl (f, "stats --from 2026-12-01 --to 2027-11-30 --campaign rpc-camp", out, sizeof out), 0);
    assert_non_null (strstr (out, "3 right-party contacts, 0.000 promises per contact"));
}

/* ---- the clock ------------------------------------------------------------------------------ */

static void
test_a_bounce_after_kept_reopens_the_promise_and_its_deadline_breaks_it (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_promise (f, "P10", "ACC-10", "[{\"due\":\"2027-01-05\",\"amount\":8000}]", NULL, NULL), 201);
    char st[32], buf[32];
    assert_int_equal (s_pay (f, "pay-10", "ACC-10", 8000, "EUR", NULL, st, sizeof st), 201);
    assert_string_equal (s_status (f, "P10", buf, sizeof buf), "kept");
    /* Opened over the API: the dialer is told to hold the debt, to the end of the due date in
     * Paris and the sweep's hour after it. */
    int reopened = 0;
    assert_true (s_wait (f, s_was_active, "P10"));
    assert_int_equal (s_actives (f, "P10", &reopened), 1);
    assert_int_equal (reopened, 0);
    size_t k = 0;
    while (strcmp (f->active[k], "P10"))
        k++;
    assert_string_equal (f->active_tenant[k], "recouvre");
    assert_int_equal (f->active_until[k], s_utc ("2027-01-06T00:00:00+01:00") + 3600000);
    /* The payment bounces: the instalment is short again before its deadline — active. */
    assert_int_equal (s_pay (f, "bounce-10", "ACC-10", 8000, "EUR", "\"reverses\":\"pay-10\"", st, sizeof st), 201);
    assert_string_equal (st, "reversed");
    assert_string_equal (s_status (f, "P10", buf, sizeof buf), "active");
    assert_true (s_has_event (f, "promise.reopened", "P10.reopened"));
    assert_true (s_has_event (f, "payment.reversed", "bounce-10."));
    assert_true (s_wait (f, s_was_active_twice, "P10"));           /* held again */
    assert_int_equal (s_actives (f, "P10", &reopened), 2);
    assert_int_equal (reopened, 1);
    /* The end of 2027-01-05 in Paris passes with nothing paid: broken, the dialer told. */
    s_set_clock (f, s_utc ("2027-01-06T00:00:00+01:00") - 1);
    assert_string_equal (s_status (f, "P10", buf, sizeof buf), "active");
    s_set_clock (f, s_utc ("2027-01-06T00:00:00+01:00"));
    for (int i = 0; i < 100 && strcmp (s_status (f, "P10", buf, sizeof buf), "partially_kept")
                    && strcmp (buf, "broken"); i++)
        s_pump (f, 20);
    /* Money was paid on it once (then taken back): nothing is left paid, so it is broken. */
    assert_string_equal (buf, "broken");
    assert_true (s_wait (f, s_was_broken, "P10"));
    assert_true (s_has_event (f, "promise.broken", "P10.broken"));
}

/* Two days before a due date, at 09:00 in the debtor's zone: promise.reminded, and a reminder
 * among the creditor's notifications for the CRM to send; once, and none for a paid instalment. */
static void
test_a_reminder_goes_out_two_days_before_the_due_date (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_promise (f, "P13", "ACC-13",
                                 "[{\"due\":\"2027-02-10\",\"amount\":3000},{\"due\":\"2027-02-20\",\"amount\":3000}]",
                                 NULL, NULL), 201);
    char st[32];
    assert_int_equal (s_pay (f, "pay-13", "ACC-13", 3000, "EUR", NULL, st, sizeof st), 201);   /* the first is paid */
    s_set_clock (f, s_utc ("2027-02-18T09:00:00+01:00") - 1);
    assert_false (s_has_event (f, "promise.reminded", "P13.reminded.0"));
    assert_false (s_has_event (f, "promise.reminded", "P13.reminded.1"));
    s_set_clock (f, s_utc ("2027-02-18T09:00:00+01:00"));
    assert_true (s_has_event (f, "promise.reminded", "P13.reminded.1"));
    pl_test_http_resp_t r = { 0 };
    char headers[128];
    snprintf (headers, sizeof headers, "Authorization: Bearer %s\r\n", READER);
    assert_int_equal (pl_test_http_request (f->http_port, "GET", "/v1/creditors/bank-1/notifications?limit=10000",
                                            headers, NULL, 0, &r), 200);
    int reminders = 0;
    for (char *line = strtok (r.body, "\n"); line; line = strtok (NULL, "\n"))
        reminders += strstr (line, "\"kind\":\"reminder\"") && strstr (line, "\"promise\":\"P13\"");
    assert_int_equal (reminders, 1);
    pl_test_http_resp_free (&r);
}

static void
test_grace_ends_at_local_midnight_across_a_dst_night (void **state)
{
    fx_t *f = *state;
    /* Due Saturday 2027-03-27 with a day's grace: it ends at the midnight that starts Monday the
     * 29th in Paris, after the night the clocks go forward (28th): 22:00 UTC, not 23:00. */
    assert_int_equal (s_promise (f, "P11", "ACC-11", "[{\"due\":\"2027-03-27\",\"amount\":5000}]",
                                 "\"grace_days\":1,\"tolerance\":{\"amount\":100}", NULL), 201);
    char st[32], buf[32];
    assert_int_equal (s_pay (f, "pay-11", "ACC-11", 4800, "EUR", NULL, st, sizeof st), 201);
    int64_t deadline = s_utc ("2027-03-29T00:00:00+02:00");
    assert_int_equal (deadline, s_utc ("2027-03-28T22:00:00Z"));
    s_set_clock (f, deadline - 1);
    assert_string_equal (s_status (f, "P11", buf, sizeof buf), "active");
    s_set_clock (f, deadline);
    for (int i = 0; i < 100 && !strcmp (s_status (f, "P11", buf, sizeof buf), "active"); i++)
        s_pump (f, 20);
    /* 4,800 of 5,000 is short by more than the 100 tolerated, and something was paid. */
    assert_string_equal (buf, "partially_kept");
    assert_true (s_wait (f, s_was_broken, "P11"));
    for (size_t i = 0; i < f->nbroken; i++)
        if (!strcmp (f->broken[i], "P11"))
            assert_string_equal (f->broken_campaign[i], "fr-collect");
    json_t *o = NULL;
    assert_int_equal (s_req (f, "GET", "/v1/promises/stats?from=2026-12-01&to=2027-11-30&campaign=fr-collect", READER,
                             NULL, false, &o), 200);
    assert_true (s_int (o, "made") >= 5);
    assert_true (s_int (o, "kept") >= 2);
    assert_true (json_real_value (json_object_get (o, "kept_rate")) > 0);
    json_decref (o);
    /* ACC-8's payment of December is too old for any promise to come: a new unmatched payment
     * takes its place in the account (its record stays). */
    assert_int_equal (s_pay (f, "pay-8b", "ACC-8", 500, "EUR", NULL, st, sizeof st), 201);
    assert_string_equal (st, "unmatched");
    assert_int_equal (s_req (f, "GET", "/v1/accounts/ACC-8/promises", READER, NULL, false, &o), 200);
    json_t *u = json_object_get (o, "unmatched_payments");
    assert_int_equal (json_array_size (u), 1);
    assert_string_equal (json_string_value (json_object_get (json_array_get (u, 0), "payment_id")), "pay-8b");
    json_decref (o);
    assert_int_equal (s_req (f, "GET", "/v1/accounts/ACC-8/payments/bus-pay-8", READER, NULL, false, &o), 200);
    json_decref (o);
}

/* ---- crash ---------------------------------------------------------------------------------- */

typedef struct {
    int sent, acked;
    bool stop;
} s_stream_t;

static void *
s_stream (void *arg)
{
    s_stream_t *s = arg;
    for (int i = 0; i < 300 && !s->stop; i++) {
        char id[32];
        snprintf (id, sizeof id, "crash-%03d", i);
        int code = s_pay (s_fx, id, "ACC-12", 10, "EUR", NULL, NULL, 0);
        s->sent = i + 1;
        if (code == 201 || code == 200)
            s->acked++;
    }
    return NULL;
}

static void
test_kill_9_in_the_middle_loses_and_doubles_nothing (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_promise (f, "P12", "ACC-12", "[{\"due\":\"2027-12-01\",\"amount\":1000000}]", NULL, NULL), 201);
    s_stream_t s = { 0 };
    pthread_t t;
    pthread_create (&t, NULL, s_stream, &s);
    while (s.sent < 60)
        usleep (2000);
    pl_test_stop (f->pid, SIGKILL, 2000);
    f->pid = 0;
    usleep (200000);
    s.stop = true;
    pthread_join (t, NULL);
    int sent = s.sent;
    assert_int_equal (s_start (f), 0);
    /* The client sends again every payment it sent (it cannot know which were kept): each counts once. */
    for (int i = 0; i < sent; i++) {
        char id[32];
        snprintf (id, sizeof id, "crash-%03d", i);
        int code = s_pay (f, id, "ACC-12", 10, "EUR", NULL, NULL, 0);
        assert_true (code == 201 || code == 200);
    }
    json_t *o = s_get (f, "P12");
    assert_int_equal (s_int (o, "paid"), 10LL * sent);
    json_decref (o);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_instalments_are_kept_through_partial_payments_within_tolerance),
        cmocka_unit_test (test_plateauctl_shows_a_promise_an_account_and_the_kpis),
        cmocka_unit_test (test_the_same_payment_delivered_three_times_counts_once),
        cmocka_unit_test (test_two_payments_at_the_same_instant_both_count),
        cmocka_unit_test (test_a_batch_of_payments_is_answered_payment_by_payment),
        cmocka_unit_test (test_a_payment_before_its_promise_is_kept_and_matched),
        cmocka_unit_test (test_one_active_promise_per_account),
        cmocka_unit_test (test_bad_promises_are_refused_naming_the_field_and_nothing_is_stored),
        cmocka_unit_test (test_bad_payments_are_refused_naming_the_field),
        cmocka_unit_test (test_payments_are_signed_by_a_payer),
        cmocka_unit_test (test_the_bus_door_takes_payments_from_the_payment_bridge_only),
        cmocka_unit_test (test_a_bus_batch_of_payments_applies_each_payment_once),
        cmocka_unit_test (test_a_promise_made_on_a_call_arrives_over_the_bus_once),
        cmocka_unit_test (test_right_party_contacts_from_the_dialer_give_promises_per_contact),
        /* The clock only goes forward: these come last, in this order. */
        cmocka_unit_test (test_a_bounce_after_kept_reopens_the_promise_and_its_deadline_breaks_it),
        cmocka_unit_test (test_a_reminder_goes_out_two_days_before_the_due_date),
        cmocka_unit_test (test_grace_ends_at_local_midnight_across_a_dst_night),
        cmocka_unit_test (test_kill_9_in_the_middle_loses_and_doubles_nothing),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
