/*  bench_intake.c — leads per second through plateau-intake, from HTTP request to stored and
 *  queued for scrub, and where the time goes.
 *
 *  The benchmark starts its own Redis (tests/harness) and the built plateau-intake, generates
 *  leads that look like what French and US CRMs export, and measures in one run:
 *
 *    - end to end over HTTP: the leads as one CSV body and as 1,000-lead JSON batches, with one
 *      client and with two at once (the answer of a streamed CSV comes when the last row is
 *      stored; a JSON batch is answered once every lead of it is stored and in the to-queue);
 *    - each stage alone, over the same bytes and numbers, in this process on one core: the CSV
 *      and JSON decoders (which include number normalisation), libphonenumber alone on the same
 *      numbers (parse + zones), the intake's store script pipelined as the service pipelines it,
 *      and raw pipelined Redis writes of the same data (HSET + 2 SET + ZADD per lead) as the
 *      floor Redis itself sets;
 *    - libphonenumber on two threads at once (each its own pl_phone_t, as two requests): how
 *      far number normalisation uses a second core in one process;
 *    - the p99 answer time of 1,000-lead JSON batches sent at half the measured maximum rate
 *      (latency counted from each batch's scheduled start, so a late start counts).
 *
 *  Usage: bench_intake [--leads N] [--p99-batches N] [--bin DIR] [--stages-only]
 *  Goals (issue 4): ≥ 50,000 leads/s for CSV on 2 cores; p99 ≤ 50 ms at half the rate.
 */
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "csv_decode.h"
#include "json_decode.h"
#include "lead.h"
#include "pl_test.h"
#include "pl_test_http.h"
#include "plateau/clock.h"
#include "plateau/id.h"
#include "plateau/redis.h"
#include "store.h"

#define TOKEN "bench-token-0123456789abcdef"
#define BATCH 1000

typedef struct {
    char phone[32], alt[32], country[4], zip[8], state[4], xid[32];
    char first[32], last[32], addr[64], email[96];
} b_lead_t;

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------------------------------- */
/* Data: deterministic, in the forms CRMs write (see tests/data/intake/gen-leads-csv.py).    */

static uint64_t s_seed = 88172645463325252ULL;

static unsigned
s_rand (unsigned n)
{
    return (unsigned) (pl_test_rand (&s_seed) % n);
}

static void
s_fr_number (char *out, size_t size)
{
    char d[11];
    unsigned k = s_rand (100);
    if (k < 55)
        snprintf (d, sizeof d, "06%c%07u", "0124578"[s_rand (7)], s_rand (10000000));
    else if (k < 75)
        snprintf (d, sizeof d, "07%u%07u", 3 + s_rand (7), s_rand (10000000));
    else if (k < 90)
        snprintf (d, sizeof d, "0%c1%07u", "1235"[s_rand (4)], s_rand (10000000));
    else
        snprintf (d, sizeof d, "0692%06u", s_rand (1000000));
    unsigned form = s_rand (10);
    if (form < 5)
        snprintf (out, size, "%.2s %.2s %.2s %.2s %.2s", d, d + 2, d + 4, d + 6, d + 8);
    else if (form < 7)
        snprintf (out, size, "%s", d);
    else if (form < 8)
        snprintf (out, size, "%.2s.%.2s.%.2s.%.2s.%.2s", d, d + 2, d + 4, d + 6, d + 8);
    else if (form < 9)
        snprintf (out, size, "+33 %c %.2s %.2s %.2s %.2s", d[1], d + 2, d + 4, d + 6, d + 8);
    else
        snprintf (out, size, "0033%s", d + 1);
}

static void
s_us_number (char *out, size_t size)
{
    static const char *areas[] = { "212", "415", "305", "317", "602", "713", "312" };
    const char *a = areas[s_rand (7)];
    unsigned ex = 200 + s_rand (800), line = s_rand (10000), form = s_rand (10);
    if (form < 4)
        snprintf (out, size, "(%s) %03u-%04u", a, ex, line);
    else if (form < 7)
        snprintf (out, size, "+1 %s %03u %04u", a, ex, line);
    else
        snprintf (out, size, "1-%s-%03u-%04u", a, ex, line);
}

static b_lead_t *
s_generate (size_t n)
{
    static const char *first[] = { "Hélène", "Jean", "Zoé", "François", "Chloé", "Noël", "Ann", "Bob",
                                   "José", "Maëlle", "Céline", "Loïc" };
    static const char *last[] = { "Dupont", "Lefèvre", "Martin", "Bernard", "Müller", "Garçon", "Smith",
                                  "Lee", "Moreau", "Dubois" };
    static const char *streets[] = { "rue de la Paix", "avenue des Champs-Élysées", "boulevard Haussmann",
                                     "Main Street", "rue de l'Église" };
    static const char *fr_zip[] = { "75002", "69001", "13001", "33000", "97400", "20000" };
    static const char *us_zip[][2] = { { "94105", "CA" }, { "10001", "NY" }, { "33101", "FL" },
                                       { "46204", "IN" }, { "85001", "AZ" } };
    b_lead_t *v = calloc (n, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        b_lead_t *l = &v[i];
        bool us = s_rand (5) == 0;
        snprintf (l->first, sizeof l->first, "%s", first[s_rand (12)]);
        snprintf (l->last, sizeof l->last, "%s", last[s_rand (10)]);
        snprintf (l->addr, sizeof l->addr, "%u %s", 1 + s_rand (199), streets[s_rand (5)]);
        if (us) {
            unsigned z = s_rand (5);
            snprintf (l->zip, sizeof l->zip, "%s", us_zip[z][0]);
            snprintf (l->state, sizeof l->state, "%s", us_zip[z][1]);
            snprintf (l->country, sizeof l->country, "US");
            s_us_number (l->phone, sizeof l->phone);
            if (s_rand (10) < 3)
                s_us_number (l->alt, sizeof l->alt);
        } else {
            snprintf (l->zip, sizeof l->zip, "%s", fr_zip[s_rand (6)]);
            snprintf (l->country, sizeof l->country, "FR");
            s_fr_number (l->phone, sizeof l->phone);
            if (s_rand (10) < 3)
                s_fr_number (l->alt, sizeof l->alt);
        }
        snprintf (l->email, sizeof l->email, "lead%zu@example.%s", i, us ? "com" : "fr");
        snprintf (l->xid, sizeof l->xid, "CRM-%07zu", i);
    }
    return v;
}

typedef struct {
    char *data;
    size_t len, cap;
} s_buf_t;

static void
s_put (s_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start (ap, fmt);
        int n = vsnprintf (b->data + b->len, b->cap - b->len, fmt, ap);
        va_end (ap);
        if ((size_t) n < b->cap - b->len) {
            b->len += (size_t) n;
            return;
        }
        b->cap = b->cap * 2 + 4096 + (size_t) n;
        b->data = realloc (b->data, b->cap);
    }
}

static s_buf_t
s_csv (const b_lead_t *v, size_t from, size_t to)
{
    s_buf_t b = { 0 };
    s_put (&b, "ID CRM;Nom;Prénom;Téléphone;Portable;Adresse;Code postal;État;Pays;E-mail\r\n");
    for (size_t i = from; i < to; i++)
        s_put (&b, "%s;%s;%s;%s;%s;%s;%s;%s;%s;%s\r\n", v[i].xid, v[i].last, v[i].first, v[i].phone, v[i].alt,
               v[i].addr, v[i].zip, v[i].state, v[i].country, v[i].email);
    return b;
}

static s_buf_t
s_json (const b_lead_t *v, size_t from, size_t to)
{
    s_buf_t b = { 0 };
    s_put (&b, "{\"leads\":[");
    for (size_t i = from; i < to; i++) {
        const b_lead_t *l = &v[i];
        s_put (&b, "%s{\"external_id\":\"%s\",\"phone\":\"%s\",", i > from ? "," : "", l->xid, l->phone);
        if (l->alt[0])
            s_put (&b, "\"alt_phones\":[\"%s\"],", l->alt);
        s_put (&b, "\"country\":\"%s\",\"first_name\":\"%s\",\"last_name\":\"%s\",\"address\":\"%s\","
                   "\"postal_code\":\"%s\",%s%s%s\"email\":\"%s\"}",
               l->country, l->first, l->last, l->addr, l->zip, l->state[0] ? "\"state\":\"" : "", l->state,
               l->state[0] ? "\"," : "", l->email);
    }
    s_put (&b, "]}");
    return b;
}

/* ---------------------------------------------------------------------------------------- */
/* Stages alone, in this process.                                                            */

typedef struct {
    size_t accepted, rejected;
    Plateau__V1__Lead **keep;          /* when not NULL: accepted leads kept for the store passes */
    size_t nkeep;
} s_sink_t;

static int
s_on_item (void *arg, const intake_item_t *item)
{
    s_sink_t *s = arg;
    if (item->lead) {
        s->accepted++;
        if (s->keep)
            s->keep[s->nkeep++] = item->lead;
        else {
            Plateau__V1__Lead *l = item->lead;
            intake_lead_free (&l);
        }
    } else
        s->rejected++;
    return 0;
}

static double
s_decode_csv (const s_buf_t *csv, const intake_lead_opts_t *o, s_sink_t *sink)
{
    double t0 = s_now ();
    intake_csv_t *d = intake_csv_new (NULL, NULL, o, s_on_item, sink);
    for (size_t off = 0; off < csv->len; off += 65536) {
        size_t n = csv->len - off < 65536 ? csv->len - off : 65536;
        if (intake_csv_feed (d, csv->data + off, n) < 0)
            break;
    }
    intake_csv_finish (d);
    intake_csv_destroy (&d);
    return s_now () - t0;
}

static double
s_decode_json (s_buf_t *batches, size_t nb, const intake_lead_opts_t *o, s_sink_t *sink)
{
    double t0 = s_now ();
    for (size_t i = 0; i < nb; i++)
        intake_json_decode (batches[i].data, batches[i].len, o, BATCH, s_on_item, sink, NULL, NULL);
    return s_now () - t0;
}

/* libphonenumber alone: what lead validation asks of lib/phone for every number. */
static double
s_phones (const b_lead_t *v, size_t n, pl_phone_t *ph, size_t *numbers)
{
    double t0 = s_now ();
    pl_phone_zones_t z;
    *numbers = 0;
    for (size_t i = 0; i < n; i++) {
        const char *raws[2] = { v[i].phone, v[i].alt };
        for (int k = 0; k < 2 && raws[k][0]; k++) {
            pl_phone_number_t num;
            (*numbers)++;
            if (pl_phone_parse (ph, raws[k], v[i].country, &num) != 0)
                continue;
            pl_phone_place_t place = { .e164 = num.e164, .region = num.region, .country = v[i].country,
                                       .postal_code = v[i].zip, .state = v[i].state };
            pl_phone_resolve_zones (ph, &place, &z);
        }
    }
    return s_now () - t0;
}

/* The same numbers on two threads at once, each with its own pl_phone_t, as two requests of the
 * service normalise them: whether numbers use a second core (through libphonenumber's one
 * locked pattern cache they did not; lib/phone now types the common ones itself, ADR 0067). */
typedef struct {
    const b_lead_t *v;
    size_t n, numbers;
} s_phones_arg_t;

static void *
s_phones_thread (void *arg)
{
    s_phones_arg_t *a = arg;
    pl_phone_t *ph = pl_phone_new ();
    s_phones (a->v, a->n, ph, &a->numbers);
    pl_phone_destroy (&ph);
    return NULL;
}

static double
s_phones_two (const b_lead_t *v, size_t n, size_t *numbers)
{
    s_phones_arg_t a[2] = { { v, n, 0 }, { v, n, 0 } };
    pthread_t t[2];
    double t0 = s_now ();
    for (int i = 0; i < 2; i++)
        pthread_create (&t[i], NULL, s_phones_thread, &a[i]);
    for (int i = 0; i < 2; i++)
        pthread_join (t[i], NULL);
    *numbers = a[0].numbers + a[1].numbers;
    return s_now () - t0;
}

static void *
s_nothing (void *arg)
{
    return arg;
}

/* The service's store step (lead, dedupe keys, LeadSubmitted and lead.accepted in the outbox),
 * pipelined 256 leads at a time as the service does. */
static double
s_store (pl_redis_t *redis, Plateau__V1__Lead **leads, size_t n)
{
    intake_store_t *st = intake_store_new (redis, NULL, "intake", "bench", 30LL * 86400 * 1000);
    intake_audit_t ctx = { .actor = "bench", .format = "csv" };
    intake_store_item_t *items = calloc (256, sizeof *items);
    double t0 = s_now ();
    for (size_t off = 0; off < n; off += 256) {
        size_t k = n - off < 256 ? n - off : 256;
        for (size_t i = 0; i < k; i++) {
            Plateau__V1__Lead *l = leads[off + i];
            char id[PL_ID_LEN + 1];
            pl_id_new (id, (int64_t) time (NULL) * 1000);
            if (l->id != protobuf_c_empty_string)
                free (l->id);
            l->id = strdup (id);
            items[i] = (intake_store_item_t) { .lead = l, .audit = &ctx };
        }
        if (intake_store_put (st, items, k, (int64_t) time (NULL) * 1000) != 0) {
            fprintf (stderr, "bench_intake: store failed\n");
            break;
        }
    }
    double dt = s_now () - t0;
    free (items);
    intake_store_destroy (&st);
    return dt;
}

/* Raw pipelined writes of the same data, no script: the floor Redis itself sets (the lead, its
 * two dedupe keys, its index, and the two outbox entries, the lead again and an event-sized one). */
static double
s_raw_redis (pl_redis_t *redis, Plateau__V1__Lead **leads, size_t n)
{
    size_t cap = 4096;
    uint8_t *pb = malloc (cap);
    double t0 = s_now ();
    for (size_t off = 0; off < n; off += 256) {
        size_t k = n - off < 256 ? n - off : 256;
        for (size_t i = 0; i < k; i++) {
            const Plateau__V1__Lead *l = leads[off + i];
            size_t sz = plateau__v1__lead__get_packed_size (l);
            if (sz > cap)
                pb = realloc (pb, cap = sz);
            plateau__v1__lead__pack (l, pb);
            pl_redis_append (redis, "HSET pl:{camp:raw}:lead:%s pb %b source %s replica bench at %d", l->id, pb, sz,
                             l->source, 1);
            pl_redis_append (redis, "SET pl:{camp:raw}:num:%s %s PX %d", l->phone ? l->phone->e164 : "-", l->id,
                             86400000);
            pl_redis_append (redis, "SET pl:{camp:raw}:xid:%s:%s %s", l->source, l->external_id, l->id);
            pl_redis_append (redis, "SET pl:{lead:%s}:campaign raw", l->id);
            pl_redis_append (redis, "XADD pl:{camp:raw}:ob:bench:scrub * i %s.submitted t LeadSubmitted e %b",
                             l->id, pb, sz);
            pl_redis_append (redis, "XADD pl:{camp:raw}:ob:bench:audit * i %s.accepted t AuditEvent e %b",
                             l->id, pb, sz < 300 ? sz : (size_t) 300);
        }
        for (size_t i = 0; i < k * 6; i++) {
            pl_reply_t *r = NULL;
            if (pl_redis_get_reply (redis, &r) != 0) {
                fprintf (stderr, "bench_intake: raw redis failed\n");
                free (pb);
                return s_now () - t0;
            }
            pl_reply_free (&r);
        }
    }
    free (pb);
    return s_now () - t0;
}

/* ---------------------------------------------------------------------------------------- */
/* End to end over HTTP.                                                                    */

static int s_http_port;

typedef struct {
    const char *query, *ctype;
    s_buf_t *bodies;
    size_t nbodies;
    int failures;
    double *lat;                /* per body, seconds (when not NULL) */
    double start, interval;     /* paced: body i starts at start + i * interval */
    size_t first, step;         /* bodies first, first + step, … */
} s_client_t;

static void *
s_client (void *arg)
{
    s_client_t *c = arg;
    char headers[256];
    snprintf (headers, sizeof headers, "Authorization: Bearer %s\r\nContent-Type: %s\r\n", TOKEN, c->ctype);
    for (size_t i = c->first; i < c->nbodies; i += c->step ? c->step : 1) {
        double sched = c->interval > 0 ? c->start + (double) i * c->interval : s_now ();
        while (c->interval > 0 && s_now () < sched)
            usleep ((useconds_t) ((sched - s_now ()) * 1e6) + 1);
        pl_test_http_resp_t r = { 0 };
        int st = pl_test_http_request (s_http_port, "POST", c->query, headers, c->bodies[i].data,
                                       c->bodies[i].len, &r);
        if (c->lat)
            c->lat[i] = s_now () - sched;
        if (st != 200 || !r.body || strstr (r.body, "\"not_accepted\":0") == NULL
            || strstr (r.body, "\"accepted\":0,") != NULL)
            c->failures++;
        if (st != 200 && c->failures == 1)
            fprintf (stderr, "bench_intake: HTTP %d: %.200s\n", st, r.body ? r.body : "");
        pl_test_http_resp_free (&r);
    }
    return NULL;
}

/* Sends the bodies with `clients` concurrent clients; returns the wall time. */
static double
s_http_run (const char *query, const char *ctype, s_buf_t *bodies, size_t n, int clients, double interval,
            double *lat, int *failures)
{
    pthread_t th[8];
    s_client_t c[8];
    double t0 = s_now ();
    for (int i = 0; i < clients; i++) {
        c[i] = (s_client_t) { .query = query, .ctype = ctype, .bodies = bodies, .nbodies = n, .lat = lat,
                              .start = t0, .interval = interval, .first = (size_t) i, .step = (size_t) clients };
        pthread_create (&th[i], NULL, s_client, &c[i]);
    }
    *failures = 0;
    for (int i = 0; i < clients; i++) {
        pthread_join (th[i], NULL);
        *failures += c[i].failures;
    }
    return s_now () - t0;
}

static int
s_cmp (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static bool
s_ready (void *arg)
{
    return pl_test_http_get (*(int *) arg, "/readyz", NULL) == 200;
}

/* The HTTP API answers (any status): /readyz may say ready a moment before it accepts. */
static bool
s_http_up (void *arg)
{
    (void) arg;
    pl_test_http_resp_t r = { 0 };
    int st = pl_test_http_request (s_http_port, "GET", "/v1/leads/none", NULL, NULL, 0, &r);
    pl_test_http_resp_free (&r);
    return st > 0;
}

/* LeadSubmitted messages this bench's intake (replica "bench", no scrub peer) owes scrub, in
 * either storage: the outbox hash an older intake's feeder fills after answering, or the
 * transactional outbox's slots of the bench's campaigns, written with each lead. */
static const char *s_campaigns[] = { "e2e-csv1", "e2e-csv2", "e2e-json1", "e2e-json2" };

static long long
s_owed_to_scrub (pl_redis_t *redis)
{
    long long n = 0;
    pl_reply_t *r = pl_redis_command (redis, "HLEN pl:{ob:bench:scrub}:msg");
    if (r && pl_reply_type (r) == PL_REPLY_INTEGER)
        n += pl_reply_int (r);
    pl_reply_free (&r);
    for (size_t i = 0; i < sizeof s_campaigns / sizeof s_campaigns[0]; i++) {
        r = pl_redis_command (redis, "XLEN pl:{camp:%s}:ob:bench:scrub", s_campaigns[i]);
        if (r && pl_reply_type (r) == PL_REPLY_INTEGER)
            n += pl_reply_int (r);
        pl_reply_free (&r);
    }
    return n;
}

/* Seconds from t0 until every lead of a run is owed to scrub: the moment the count last grew,
 * once it has not moved for half a second (and never before the answers came, t_http). An
 * intake that answers before its LeadSubmitted exist is only done then. */
static double
s_until_owed (pl_redis_t *redis, double t0, double t_http)
{
    long long last = s_owed_to_scrub (redis);
    double changed = s_now ();
    while (s_now () - changed < 0.5) {
        usleep (2000);
        long long n = s_owed_to_scrub (redis);
        if (n != last) {
            last = n;
            changed = s_now ();
        }
    }
    double t = changed - t0;
    return t > t_http ? t : t_http;
}

static void
s_row (const char *what, size_t leads, double secs, const char *note)
{
    printf ("%-46s %9zu %9.3f %10.0f  %s\n", what, leads, secs, secs > 0 ? (double) leads / secs : 0.0, note);
}

int
main (int argc, char **argv)
{
    size_t nleads = 100000, p99_batches = 200;
    const char *bin = NULL;
    bool stages_only = false;
    static const struct option opts[] = { { "leads", required_argument, 0, 'n' },
                                          { "p99-batches", required_argument, 0, 'p' },
                                          { "bin", required_argument, 0, 'b' },
                                          { "stages-only", no_argument, 0, 's' },
                                          { "help", no_argument, 0, 'h' },
                                          { 0, 0, 0, 0 } };
    int o;
    while ((o = getopt_long (argc, argv, "n:p:b:sh", opts, NULL)) != -1) {
        switch (o) {
        case 'n': nleads = strtoul (optarg, NULL, 10); break;
        case 'p': p99_batches = strtoul (optarg, NULL, 10); break;
        case 'b': bin = optarg; break;
        case 's': stages_only = true; break;
        default:
            fprintf (o == 'h' ? stdout : stderr,
                     "usage: bench_intake [--leads N (100000)] [--p99-batches N (200)] [--bin DIR]\n"
                     "                    [--stages-only]   (no HTTP: decoders, numbers, Redis)\n");
            return o == 'h' ? 0 : 2;
        }
    }
    nleads = (nleads + BATCH - 1) / BATCH * BATCH;
    if (nleads < 2 * BATCH)
        nleads = 2 * BATCH;
    /* plateau-intake is beside this binary unless --bin or PL_BIN_DIR says otherwise. */
    pl_test_bin_dir (bin);

    b_lead_t *v = s_generate (nleads);
    s_buf_t csv = s_csv (v, 0, nleads);
    s_buf_t csv_half[2] = { s_csv (v, 0, nleads / 2), s_csv (v, nleads / 2, nleads) };
    size_t nb = nleads / BATCH;
    s_buf_t *json = calloc (nb, sizeof *json);
    for (size_t i = 0; i < nb; i++)
        json[i] = s_json (v, i * BATCH, (i + 1) * BATCH);

    pl_test_redis_t *srv = pl_test_redis_start ("save \"\"\nappendonly no\n" PL_TEST_REDIS_TUNING);
    if (!srv)
        return 1;
    char *dir = pl_test_tmpdir ("pl-bench-intake");
    char tokens[400], log[400];
    snprintf (tokens, sizeof tokens, "%s/tokens", dir);
    snprintf (log, sizeof log, "%s/intake.log", dir);
    FILE *fp = fopen (tokens, "w");
    fprintf (fp, "bench:%s\n", TOKEN);
    fclose (fp);
    int ops_port = pl_test_free_port ();
    s_http_port = pl_test_free_port ();
    char env[8][512];
    snprintf (env[0], 512, "PLATEAU_REDIS_URL=%s", pl_test_redis_url (srv));
    snprintf (env[1], 512, "PLATEAU_OPS_PORT=%d", ops_port);
    snprintf (env[2], 512, "PLATEAU_OPS_ADDR=127.0.0.1");
    snprintf (env[3], 512, "PLATEAU_BUS_BIND=tcp://127.0.0.1:%d", pl_test_free_port ());
    snprintf (env[4], 512, "PLATEAU_INTAKE_HTTP_ADDR=127.0.0.1");
    snprintf (env[5], 512, "PLATEAU_INTAKE_HTTP_PORT=%d", s_http_port);
    snprintf (env[6], 512, "PLATEAU_API_TOKENS_FILE=%s", tokens);
    snprintf (env[7], 512, "PLATEAU_REPLICA_ID=bench");
    char *envp[] = { env[0], env[1], env[2], env[3], env[4], env[5], env[6], env[7], NULL };
    char *sargv[] = { "plateau-intake", NULL };
    pid_t pid = pl_test_spawn (sargv, envp, log);
    if (pid < 0 || !pl_test_wait_until (s_ready, &ops_port, 15000) || !pl_test_wait_until (s_http_up, NULL, 15000)) {
        fprintf (stderr, "bench_intake: plateau-intake did not start (log: %s)\n", log);
        return 1;
    }

    printf ("bench_intake: %zu leads (%.1f MB of CSV, %zu JSON batches of %d), %ld cores\n", nleads,
            (double) csv.len / 1e6, nb, BATCH, sysconf (_SC_NPROCESSORS_ONLN));
    printf ("%-46s %9s %9s %10s\n", "", "leads", "seconds", "leads/s");
    int fails = 0, all_fails = 0;
    double t_csv1 = 0, t_csv2 = 0, t_json1 = 0, t_json2 = 0, t_p = 0, p50 = 0, p99 = 0, pmax = 0;
    size_t np = p99_batches ? p99_batches : 1;
    s_buf_t *pj = calloc (np, sizeof *pj);
    double *lat = calloc (np, sizeof *lat);
    pl_redis_t *mon = pl_redis_new (pl_test_redis_url (srv), 5000);
    double t_csv2_owed = 0, t_json2_owed = 0;
    if (!stages_only) {
        t_csv1 = s_http_run ("/v1/leads?campaign=e2e-csv1&country=FR&results=errors", "text/csv", &csv, 1, 1, 0,
                             NULL, &fails);
        s_row ("HTTP CSV, 1 connection (stored + queued)", nleads, t_csv1, fails ? "FAILURES" : "");
        all_fails += fails;
        s_until_owed (mon, s_now (), 0);          /* the first run's leads settle first */
        double t0 = s_now ();
        t_csv2 = s_http_run ("/v1/leads?campaign=e2e-csv2&country=FR&results=errors", "text/csv", csv_half, 2, 2,
                             0, NULL, &fails);
        s_row ("HTTP CSV, 2 connections (half each)", nleads, t_csv2, fails ? "FAILURES" : "");
        all_fails += fails;
        t_csv2_owed = s_until_owed (mon, t0, t_csv2);
        s_row ("  the same, until every lead is owed to scrub", nleads, t_csv2_owed, "");
        t_json1 = s_http_run ("/v1/leads?campaign=e2e-json1", "application/json", json, nb, 1, 0, NULL, &fails);
        s_row ("HTTP JSON batches of 1000, 1 client", nleads, t_json1, fails ? "FAILURES" : "");
        all_fails += fails;
        s_until_owed (mon, s_now (), 0);
        t0 = s_now ();
        t_json2 = s_http_run ("/v1/leads?campaign=e2e-json2", "application/json", json, nb, 2, 0, NULL, &fails);
        s_row ("HTTP JSON batches of 1000, 2 clients", nleads, t_json2, fails ? "FAILURES" : "");
        all_fails += fails;
        t_json2_owed = s_until_owed (mon, t0, t_json2);
        s_row ("  the same, until every lead is owed to scrub", nleads, t_json2_owed, "");

        /* p99 at half the best JSON rate. The same leads again in one campaign would be
         * duplicates: each round over the batches has a campaign of its own. */
        double max_rate = (double) nleads / (t_json1 < t_json2 ? t_json1 : t_json2);
        double interval = (double) BATCH / (max_rate / 2);
        for (size_t i = 0; i < np; i++)
            pj[i] = json[i % nb];
        char q[128];
        for (size_t round = 0; round * nb < np; round++) {
            size_t k = np - round * nb < nb ? np - round * nb : nb;
            snprintf (q, sizeof q, "/v1/leads?campaign=e2e-p99-%zu", round);
            t_p += s_http_run (q, "application/json", pj + round * nb, k, 2, interval, lat + round * nb, &fails);
            all_fails += fails;
        }
        qsort (lat, np, sizeof *lat, s_cmp);
        p50 = lat[np / 2];
        p99 = lat[(size_t) ceil ((double) np * 0.99) - 1];
        pmax = lat[np - 1];
        printf ("%-46s %9zu %9.3f %10.0f  p50 %.1f ms, p99 %.1f ms, max %.1f ms (target %.0f leads/s)\n",
                "HTTP JSON 1000-lead batches at half max rate", np * BATCH, t_p, (double) (np * BATCH) / t_p,
                p50 * 1e3, p99 * 1e3, pmax * 1e3, max_rate / 2);
    }

    /* Stages alone, one core, same bytes. A thread is started first: in a process that has
     * had more than one, glibc's malloc takes its locks (a single-threaded process skips them),
     * and the service always has threads, so each stage is measured as the service runs it. */
    pthread_t nobody;
    pthread_create (&nobody, NULL, s_nothing, NULL);
    pthread_join (nobody, NULL);
    pl_phone_t *ph = pl_phone_new ();
    intake_lead_opts_t lo = { .phone = ph, .source = "bench", .default_campaign = "stage",
                              .default_country = "FR", .received_at_ms = (int64_t) time (NULL) * 1000,
                              .text_values = true };
    s_sink_t sk = { 0 };
    double t_dcsv = s_decode_csv (&csv, &lo, &sk);
    intake_lead_opts_t lj = lo;
    lj.text_values = false;
    s_sink_t sj = { 0 };
    double t_djson = s_decode_json (json, nb, &lj, &sj);
    size_t numbers;
    double t_phone = s_phones (v, nleads, ph, &numbers);
    size_t numbers2;
    double t_phone2 = s_phones_two (v, nleads, &numbers2);
    s_sink_t keep = { .keep = calloc (nleads, sizeof (Plateau__V1__Lead *)) };
    s_decode_csv (&csv, &lo, &keep);
    pl_redis_destroy (&mon);
    pl_redis_t *redis = pl_redis_new (pl_test_redis_url (srv), 5000);
    pl_redis_connect (redis);
    double t_store = s_store (redis, keep.keep, keep.nkeep);
    double t_raw = s_raw_redis (redis, keep.keep, keep.nkeep);

    printf ("-- stages alone, this process, 1 core, same data:\n");
    s_row ("CSV decoder (incl. numbers)", nleads, t_dcsv, "");
    s_row ("JSON decoder (incl. numbers)", nleads, t_djson, "");
    char note[128];
    snprintf (note, sizeof note, "%zu numbers, %.1f us each", numbers, t_phone / (double) numbers * 1e6);
    s_row ("numbers + zones alone (lib/phone)", nleads, t_phone, note);
    snprintf (note, sizeof note, "%.2f x one thread's numbers/s", ((double) numbers2 / t_phone2) / ((double) numbers / t_phone));
    s_row ("  the same on 2 threads at once (2 x the leads)", 2 * nleads, t_phone2, note);
    s_row ("CSV parsing = CSV decoder - numbers", nleads, t_dcsv - t_phone, "");
    s_row ("JSON parsing = JSON decoder - numbers", nleads, t_djson - t_phone, "");
    s_row ("intake store step (lead, keys, LeadSubmitted, lead.accepted), 256", keep.nkeep, t_store, "");
    s_row ("raw Redis HSET+SET+SET+SET+XADD+XADD, pipelined 256", keep.nkeep, t_raw, "baseline");
    printf ("-- ratios:\n");
    double per = t_dcsv + t_store;
    printf ("one lead, 1 core: CSV parse %.1f us + numbers %.1f us + store %.1f us = %.1f us "
            "(parse %.0f%%, numbers %.0f%%, Redis %.0f%%)\n",
            (t_dcsv - t_phone) / nleads * 1e6, t_phone / nleads * 1e6, t_store / keep.nkeep * 1e6,
            per / nleads * 1e6, (t_dcsv - t_phone) / per * 100, t_phone / per * 100, t_store / per * 100);
    printf ("store script / raw Redis     %10.2f x\n", t_store / t_raw);
    if (!stages_only) {
        double csv_best = (double) nleads / (t_csv1 < t_csv2 ? t_csv1 : t_csv2);
        printf ("HTTP CSV (2 conn) / stages on 1 core  %.2f x\n", ((double) nleads / t_csv2) / (nleads / per));
        printf ("CSV over HTTP, best          %10.0f leads/s   goal 50000: %s\n", csv_best,
                all_fails ? "FAILED (errors above)" : csv_best >= 50000 ? "met" : "NOT met");
        printf ("p99 at half max JSON rate    %10.1f ms        goal 50 ms: %s\n", p99 * 1e3,
                all_fails ? "FAILED (errors above)" : p99 <= 0.05 ? "met" : "NOT met");
    }

    for (size_t i = 0; i < keep.nkeep; i++)
        intake_lead_free (&keep.keep[i]);
    free (keep.keep);
    pl_redis_destroy (&redis);
    pl_phone_destroy (&ph);
    pl_test_stop (pid, SIGTERM, 5000);
    pl_test_redis_stop (&srv);
    pl_test_rmdir (dir);
    free (dir);
    for (size_t i = 0; i < nb; i++)
        free (json[i].data);
    free (json);
    free (pj);
    free (lat);
    free (csv.data);
    free (csv_half[0].data);
    free (csv_half[1].data);
    free (v);
    return all_fails ? 1 : 0;
}
