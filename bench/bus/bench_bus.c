/*  bench_bus.c — messages per second through plateau's acknowledged bus, beside raw libzmq.
 *
 *  Two modes run one after the other in the same process, with the same payload size:
 *
 *    raw   libzmq PUSH → PULL over loopback TCP: the ceiling of the transport.
 *    bus   the whole plateau path: the sender builds Envelopes (AuditEvent whose `reason` is the
 *          payload), pl_bus_client_send() encodes them and stores them in the Redis outbox (one
 *          HSET per batch) before sending; the receiver decodes, applies each message through
 *          the inbox (one pipeline per batch: seen marker + INCR in one atomic step) and acks;
 *          the sender deletes acknowledged messages from the outbox (one HDEL per ack pass).
 *
 *  Sender and receiver run in two threads of this process, each with its own Redis connection,
 *  against a private redis-server started on a free port (tests/harness) and removed at the end.
 *  --pairs N runs N such pairs side by side (own outbox, own bus door), as replicas would.
 *  The clock runs from the first timed send until the last message is acknowledged and deleted
 *  from the outbox; a warm-up round (connections, script load) comes before it.
 *
 *  At the end the run checks what the bus promises: every message applied exactly once (the
 *  INCR counter equals the count), and the outbox empty. Exit status 0 when both hold.
 *
 *    bench_bus [--count N] [--payload BYTES] [--batch N] [--window N] [--recv-batch N] [--pairs N]
 *    (defaults: 200000 messages, 256 bytes; see --help)
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>
#include "pl_test.h"
#include "plateau/audit_emit.h"
#include "plateau/bus.h"
#include "plateau/error.h"
#include "plateau/inbox.h"
#include "plateau/outbox.h"
#include "plateau/redis.h"

#define BENCH_DEFAULT_COUNT 200000
#define BENCH_DEFAULT_PAYLOAD 256
#define BENCH_WARMUP 2000
#define BENCH_BATCH_MAX 4096
#define BENCH_DEFAULT_BATCH 1024  /* envelopes per pl_bus_client_send (one outbox HSET) */
#define BENCH_DEFAULT_WINDOW 16384 /* messages in flight before the sender waits for acks */
#define BENCH_DEFAULT_RECV_BATCH 1024 /* messages per receiver pass (one inbox pipeline) */
#define BENCH_APPLIED_KEY "pl:{bench}:applied"

typedef struct {
    long long count;
    size_t payload;
    size_t batch, window, recv_batch, pairs;
    const char *redis_url;
    char endpoint[64];
    atomic_bool ready;         /* receiver bound */
    atomic_bool stop;          /* receiver may leave */
    atomic_llong received;     /* raw mode: messages received */
    atomic_llong end_ns;       /* raw mode: when the last one arrived */
    int failed;                /* receiver could not start */
} s_bench_t;

static volatile sig_atomic_t s_interrupted;
static void s_on_signal (int sig) { s_interrupted = 1; }

static long long
s_clock_ns (clockid_t id)
{
    struct timespec ts;
    clock_gettime (id, &ts);
    return (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
static long long s_now_ns (void) { return s_clock_ns (CLOCK_MONOTONIC); }

/* CPU seconds used so far by a thread of this process. */
static long long
s_thread_cpu_of (pthread_t t)
{
    clockid_t id;
    return pthread_getcpuclockid (t, &id) == 0 ? s_clock_ns (id) : 0;
}

/* CPU seconds used so far by redis-server (INFO cpu), or -1. */
static double
s_redis_cpu (pl_redis_t *redis)
{
    pl_reply_t *r = pl_redis_command (redis, "INFO cpu");
    double sys = -1, user = -1;
    if (r && pl_reply_type (r) == PL_REPLY_STRING) {
        const char *p = strstr (pl_reply_str (r, NULL), "used_cpu_sys:");
        const char *q = strstr (pl_reply_str (r, NULL), "used_cpu_user:");
        if (p && q) {
            sys = atof (p + strlen ("used_cpu_sys:"));
            user = atof (q + strlen ("used_cpu_user:"));
        }
    }
    pl_reply_free (&r);
    return sys < 0 ? -1 : sys + user;
}

/* ---- raw libzmq PUSH/PULL ---------------------------------------------------------------- */

typedef struct {
    s_bench_t *b;
    void *ctx;
} s_raw_t;

static void *
s_raw_receiver (void *arg)
{
    s_raw_t *r = arg;
    s_bench_t *b = r->b;
    void *pull = zmq_socket (r->ctx, ZMQ_PULL);
    if (zmq_bind (pull, b->endpoint) != 0) {
        fprintf (stderr, "bench_bus: raw bind %s: %s\n", b->endpoint, zmq_strerror (zmq_errno ()));
        b->failed = 1;
        atomic_store (&b->ready, true);
        zmq_close (pull);
        return NULL;
    }
    atomic_store (&b->ready, true);
    char *buf = malloc (b->payload + 1);
    long long want = b->count + 1, got = 0;   /* the warm-up message, then the timed ones */
    int timeout = 100;
    zmq_setsockopt (pull, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    while (got < want && !s_interrupted)
        if (zmq_recv (pull, buf, b->payload + 1, 0) >= 0 && ++got == 1)
            atomic_store (&b->received, 1);      /* the sender starts the clock now */
    atomic_store (&b->end_ns, s_now_ns ());
    free (buf);
    zmq_close (pull);
    return NULL;
}

/* Returns elapsed seconds, or a negative value on failure. */
static double
s_run_raw (s_bench_t *b)
{
    s_raw_t r = { b, zmq_ctx_new () };
    atomic_store (&b->ready, false);
    atomic_store (&b->received, 0);
    b->failed = 0;
    pthread_t t;
    pthread_create (&t, NULL, s_raw_receiver, &r);
    while (!atomic_load (&b->ready))
        usleep (1000);
    double secs = -1;
    if (!b->failed) {
        void *push = zmq_socket (r.ctx, ZMQ_PUSH);
        zmq_connect (push, b->endpoint);
        char *payload = malloc (b->payload);
        memset (payload, 'x', b->payload);
        zmq_send (push, payload, b->payload, 0);
        while (atomic_load (&b->received) < 1 && !s_interrupted)
            usleep (100);
        long long t0 = s_now_ns ();
        for (long long i = 0; i < b->count && !s_interrupted; i++)
            zmq_send (push, payload, b->payload, 0);
        pthread_join (t, NULL);
        if (!s_interrupted)
            secs = (double) (atomic_load (&b->end_ns) - t0) / 1e9;
        int zero = 0;
        zmq_setsockopt (push, ZMQ_LINGER, &zero, sizeof zero);
        zmq_close (push);
        free (payload);
    }
    else
        pthread_join (t, NULL);
    zmq_ctx_term (r.ctx);
    return secs;
}

/* ---- plateau bus ------------------------------------------------------------------------- */

/* The receiver's handler: one inbox transaction per message, the whole batch in one pipeline,
 * then an ack for each (nack UNAVAILABLE when Redis failed: the sender resends). */
static void
s_apply_batch (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    pl_inbox_t *inbox = arg;
    pl_inbox_tx_t **txs = calloc (n, sizeof *txs);
    int *results = calloc (n, sizeof *results);
    for (size_t i = 0; i < n; i++) {
        txs[i] = pl_inbox_tx_new ("bench", pl_bus_msg_envelope (msgs[i])->id);
        pl_inbox_tx_cmdl (txs[i], "INCR", BENCH_APPLIED_KEY, NULL);
    }
    int rc = pl_inbox_apply (inbox, txs, n, results);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0)
            pl_bus_msg_ack (msgs[i]);
        else
            pl_bus_msg_nack (msgs[i], PLATEAU__V1__NACK__CODE__UNAVAILABLE, "redis unavailable", 200);
        pl_inbox_tx_destroy (&txs[i]);
    }
    free (txs);
    free (results);
}

/* One sender and one receiver, each in its own thread with its own Redis connection; the
 * sender has its own outbox (owner bench-sender-<n>) and the receiver its own bus door, as two
 * replicas of two services would. */
typedef struct {
    s_bench_t *b;
    int index;
    char endpoint[64];
    char owner[32];
    long long count;           /* this pair's share of the timed messages */
    pthread_t receiver, sender;
    atomic_bool ready, stop, warm;
    int failed;
    int rc;
    pthread_barrier_t *start;  /* all senders warmed up: the clock starts */
    long long end_ns;          /* when this sender saw its last ack */
    long long cpu_ns;          /* sender thread CPU during the timed run */
    size_t envelope_bytes;
    unsigned long long resent;
} s_pair_t;

static void *
s_bus_receiver (void *arg)
{
    s_pair_t *p = arg;
    pl_redis_t *redis = pl_redis_new (p->b->redis_url, 5000);
    pl_inbox_t *inbox = pl_inbox_new (redis, "bench", 0);
    char err[256];
    pl_bus_server_t *server = pl_bus_server_new (p->endpoint, NULL, err, sizeof err);
    if (!server) {
        fprintf (stderr, "bench_bus: %s\n", err);
        p->failed = 1;
    }
    else
        pl_bus_server_set_handler (server, s_apply_batch, inbox, (const char *[]) { "AuditEvent", NULL });
    atomic_store (&p->ready, true);
    while (server && !atomic_load (&p->stop) && !s_interrupted) {
        zmq_pollitem_t item = { pl_bus_server_socket (server), 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, 50) > 0)
            while (pl_bus_server_process (server, p->b->recv_batch) > 0)
                ;
    }
    pl_bus_server_destroy (&server);
    pl_inbox_destroy (&inbox);
    pl_redis_destroy (&redis);
    return NULL;
}

typedef struct {
    size_t batch, window;
    char *fill;
    pl_envelope_t envs[BENCH_BATCH_MAX];
    pl_envelope_ids_t ids[BENCH_BATCH_MAX];
    Plateau__V1__AuditEvent evs[BENCH_BATCH_MAX];
    pl_envelope_t *ptrs[BENCH_BATCH_MAX];
} s_batch_t;

/* Builds n envelopes whose body carries the payload. */
static void
s_batch_fill (s_batch_t *bt, const pl_clock_t *clock, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        pl_envelope_init (&bt->envs[i], &bt->ids[i], "bench", clock, NULL);
        pl_audit_event_init (&bt->evs[i], "", "bench", "", 0);   /* the payload carries the size */
        bt->evs[i].reason = bt->fill;
        bt->envs[i].body_case = PLATEAU__V1__ENVELOPE__BODY_AUDIT_EVENT;
        bt->envs[i].audit_event = &bt->evs[i];
        bt->ptrs[i] = &bt->envs[i];
    }
}

/* Sends `count` messages and waits for every ack. 0, or -1 when interrupted or stuck. */
static int
s_bus_send (pl_bus_client_t *client, const pl_clock_t *clock, s_batch_t *bt, long long count)
{
    long long next = 0;
    int64_t next_tick = pl_clock_mono_ms () + 100;
    int64_t last_progress = pl_clock_mono_ms ();
    size_t last_inflight = 0;
    while (!s_interrupted) {
        while (next < count && pl_bus_client_inflight (client) < bt->window) {
            size_t n = count - next < (long long) bt->batch ? (size_t) (count - next) : bt->batch;
            s_batch_fill (bt, clock, n);
            if (pl_bus_client_send (client, bt->ptrs, n) != 0) {
                fprintf (stderr, "bench_bus: send: %s\n", pl_bus_client_errstr (client));
                break;
            }
            next += (long long) n;
            pl_bus_client_process (client);
        }
        zmq_pollitem_t item = { pl_bus_client_socket (client), 0, ZMQ_POLLIN, 0 };
        zmq_poll (&item, 1, 10);
        pl_bus_client_process (client);
        int64_t now = pl_clock_mono_ms ();
        if (now >= next_tick) {
            pl_bus_client_tick (client);
            next_tick = now + 100;
        }
        size_t inflight = pl_bus_client_inflight (client);
        if (next >= count && inflight == 0)
            return 0;
        if (inflight != last_inflight || next < count) {
            last_inflight = inflight;
            last_progress = now;
        }
        else if (now - last_progress > 30000) {
            fprintf (stderr, "bench_bus: no ack for 30 s (%zu in flight): %s\n", inflight,
                     pl_bus_client_errstr (client));
            return -1;
        }
    }
    return -1;
}

static long long
s_redis_int (pl_redis_t *redis, const char *cmd, const char *key)
{
    pl_reply_t *r = pl_redis_command (redis, "%s %s", cmd, key);
    long long v = -1;
    if (r && pl_reply_type (r) == PL_REPLY_INTEGER)
        v = pl_reply_int (r);
    else if (r && pl_reply_type (r) == PL_REPLY_STRING)
        v = atoll (pl_reply_str (r, NULL));
    else if (r && pl_reply_type (r) == PL_REPLY_NIL)
        v = 0;
    pl_reply_free (&r);
    return v;
}

typedef struct {
    double secs;
    size_t envelope_bytes;
    long long applied;
    long long outbox_left;
    unsigned long long resent;
    /* CPU seconds during the timed run: sender thread, receiver thread, the whole process
     * (both plus ZeroMQ's I/O threads), redis-server. */
    double cpu_sender, cpu_receiver, cpu_process, cpu_redis;
} s_bus_result_t;

static void *
s_bus_sender (void *arg)
{
    s_pair_t *p = arg;
    s_bench_t *b = p->b;
    pl_redis_t *redis = pl_redis_new (b->redis_url, 5000);
    pl_clock_t *clock = pl_clock_new_real ();
    char err[256], peer[32];
    snprintf (peer, sizeof peer, "bench-receiver-%d", p->index);
    pl_bus_client_t *client = pl_bus_client_new (redis, clock, p->owner, peer, p->endpoint, NULL,
                                                 err, sizeof err);
    s_batch_t *bt = calloc (1, sizeof *bt);
    bt->batch = b->batch;
    bt->window = b->window;
    bt->fill = malloc (b->payload + 1);
    memset (bt->fill, 'x', b->payload);
    bt->fill[b->payload] = '\0';
    p->rc = -1;
    if (!client)
        fprintf (stderr, "bench_bus: %s\n", err);
    bool warm = client && s_bus_send (client, clock, bt, BENCH_WARMUP) == 0;
    atomic_store (&p->warm, warm);
    pthread_barrier_wait (p->start);    /* everyone waits, warm or not, so nobody hangs */
    if (warm) {
        s_batch_fill (bt, clock, 1);
        uint8_t *packed = pl_envelope_pack (bt->ptrs[0], &p->envelope_bytes);
        free (packed);
        unsigned long long resent0 = pl_bus_client_count (client, "resent");
        long long cpu0 = s_clock_ns (CLOCK_THREAD_CPUTIME_ID);
        p->rc = s_bus_send (client, clock, bt, p->count);
        p->end_ns = s_now_ns ();
        p->cpu_ns = s_clock_ns (CLOCK_THREAD_CPUTIME_ID) - cpu0;
        p->resent = pl_bus_client_count (client, "resent") - resent0;
    }
    pl_bus_client_destroy (&client);
    free (bt->fill);
    free (bt);
    pl_clock_destroy (&clock);
    pl_redis_destroy (&redis);
    return NULL;
}

static int
s_run_bus (s_bench_t *b, s_bus_result_t *res)
{
    memset (res, 0, sizeof *res);
    size_t n = b->pairs;
    s_pair_t *pairs = calloc (n, sizeof *pairs);
    pthread_barrier_t start;
    pthread_barrier_init (&start, NULL, (unsigned) n + 1);
    int rc = 0;
    size_t started = 0;
    for (; started < n; started++) {
        s_pair_t *p = &pairs[started];
        p->b = b;
        p->index = (int) started;
        p->start = &start;
        p->count = b->count / (long long) n + ((long long) started < b->count % (long long) n ? 1 : 0);
        snprintf (p->owner, sizeof p->owner, "bench-sender-%d", p->index);
        snprintf (p->endpoint, sizeof p->endpoint, "tcp://127.0.0.1:%d", pl_test_free_port ());
        pthread_create (&p->receiver, NULL, s_bus_receiver, p);
        while (!atomic_load (&p->ready))
            usleep (1000);
        if (p->failed) {
            pthread_join (p->receiver, NULL);
            rc = -1;
            break;
        }
    }
    if (rc == 0)
        for (size_t i = 0; i < n; i++)
            pthread_create (&pairs[i].sender, NULL, s_bus_sender, &pairs[i]);
    pl_redis_t *redis = pl_redis_new (b->redis_url, 5000);
    if (rc == 0) {
        pthread_barrier_wait (&start);
        double redis0 = s_redis_cpu (redis);
        long long proc0 = s_clock_ns (CLOCK_PROCESS_CPUTIME_ID), t0 = s_now_ns (), end = t0;
        long long *rcv0 = calloc (n, sizeof *rcv0);
        for (size_t i = 0; i < n; i++)
            rcv0[i] = s_thread_cpu_of (pairs[i].receiver);
        for (size_t i = 0; i < n; i++) {
            pthread_join (pairs[i].sender, NULL);
            if (pairs[i].rc != 0)
                rc = -1;
            if (pairs[i].end_ns > end)
                end = pairs[i].end_ns;
        }
        res->secs = (double) (end - t0) / 1e9;
        res->cpu_process = (double) (s_clock_ns (CLOCK_PROCESS_CPUTIME_ID) - proc0) / 1e9;
        res->cpu_redis = s_redis_cpu (redis) - redis0;
        for (size_t i = 0; i < n; i++) {
            res->cpu_receiver += (double) (s_thread_cpu_of (pairs[i].receiver) - rcv0[i]) / 1e9;
            res->cpu_sender += (double) pairs[i].cpu_ns / 1e9;
            res->resent += pairs[i].resent;
            res->envelope_bytes = pairs[i].envelope_bytes;
        }
        free (rcv0);
    }
    for (size_t i = 0; i < started; i++) {
        atomic_store (&pairs[i].stop, true);
        pthread_join (pairs[i].receiver, NULL);
    }
    if (rc == 0) {
        res->applied = s_redis_int (redis, "GET", BENCH_APPLIED_KEY) - BENCH_WARMUP * (long long) n;
        for (size_t i = 0; i < n; i++) {
            char key[128];
            snprintf (key, sizeof key, "pl:{ob:%s:bench-receiver-%zu}:msg", pairs[i].owner, i);
            res->outbox_left += s_redis_int (redis, "HLEN", key);
        }
    }
    pl_redis_destroy (&redis);
    pthread_barrier_destroy (&start);
    free (pairs);
    return rc;
}

/* ---- main -------------------------------------------------------------------------------- */

static void
s_usage (FILE *f)
{
    fprintf (f,
             "usage: bench_bus [--count N] [--payload BYTES] [--batch N] [--window N] [--recv-batch N]\n"
             "                 [--pairs N]\n"
             "\n"
             "Messages per second through plateau's acknowledged bus (envelope encode/decode,\n"
             "Redis outbox, inbox apply, ack, outbox delete) beside raw libzmq PUSH/PULL with the\n"
             "same payload, in the same run. Starts a private redis-server on a free port and\n"
             "removes it afterwards.\n"
             "\n"
             "  --count N         messages per mode (default %d)\n"
             "  --payload BYTES   payload size (default %d)\n"
             "  --batch N         envelopes per pl_bus_client_send, one outbox write (default %d)\n"
             "  --window N        messages in flight before the sender waits (default %d)\n"
             "  --recv-batch N    messages per receiver pass, one inbox pipeline (default %d)\n"
             "  --pairs N         sender/receiver pairs sharing the count, as replicas would\n"
             "                    (default 1: one sender thread, one receiver thread)\n",
             BENCH_DEFAULT_COUNT, BENCH_DEFAULT_PAYLOAD, BENCH_DEFAULT_BATCH, BENCH_DEFAULT_WINDOW,
             BENCH_DEFAULT_RECV_BATCH);
}

int
main (int argc, char **argv)
{
    s_bench_t b = { .count = BENCH_DEFAULT_COUNT, .payload = BENCH_DEFAULT_PAYLOAD,
                    .batch = BENCH_DEFAULT_BATCH, .window = BENCH_DEFAULT_WINDOW,
                    .recv_batch = BENCH_DEFAULT_RECV_BATCH, .pairs = 1 };
    static const struct option opts[] = {
        { "count", required_argument, NULL, 'c' },
        { "payload", required_argument, NULL, 'p' },
        { "batch", required_argument, NULL, 'b' },
        { "window", required_argument, NULL, 'w' },
        { "recv-batch", required_argument, NULL, 'r' },
        { "pairs", required_argument, NULL, 'P' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long (argc, argv, "c:p:b:w:r:P:h", opts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'c':
            errno = 0;
            b.count = strtoll (optarg, &end, 10);
            if (errno || *end || b.count < 1) {
                fprintf (stderr, "bench_bus: --count: expected a positive number, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'p': {
            errno = 0;
            long long p = strtoll (optarg, &end, 10);
            if (errno || *end || p < 1 || p > 1024 * 1024) {
                fprintf (stderr, "bench_bus: --payload: expected 1 to 1048576 bytes, got '%s'\n", optarg);
                return 2;
            }
            b.payload = (size_t) p;
            break;
        }
        case 'b':
        case 'w':
        case 'r':
        case 'P': {
            errno = 0;
            long long v = strtoll (optarg, &end, 10);
            long long max = c == 'b' ? BENCH_BATCH_MAX : c == 'P' ? 16 : 1000000;
            const char *name = c == 'b' ? "batch" : c == 'w' ? "window" : c == 'r' ? "recv-batch" : "pairs";
            if (errno || *end || v < 1 || v > max) {
                fprintf (stderr, "bench_bus: --%s: expected 1 to %lld, got '%s'\n", name, max, optarg);
                return 2;
            }
            *(c == 'b' ? &b.batch : c == 'w' ? &b.window : c == 'r' ? &b.recv_batch : &b.pairs) = (size_t) v;
            break;
        }
        case 'h':
            s_usage (stdout);
            return 0;
        default:
            s_usage (stderr);
            return 2;
        }
    }
    if (optind < argc) {
        s_usage (stderr);
        return 2;
    }
    signal (SIGINT, s_on_signal);
    signal (SIGTERM, s_on_signal);

    pl_test_redis_t *srv = pl_test_redis_start (NULL);
    if (!srv) {
        fprintf (stderr, "bench_bus: could not start redis-server\n");
        return 1;
    }
    b.redis_url = pl_test_redis_url (srv);
    long cpus = sysconf (_SC_NPROCESSORS_ONLN);

    snprintf (b.endpoint, sizeof b.endpoint, "tcp://127.0.0.1:%d", pl_test_free_port ());
    double raw = s_run_raw (&b);
    snprintf (b.endpoint, sizeof b.endpoint, "tcp://127.0.0.1:%d", pl_test_free_port ());
    s_bus_result_t bus;
    int rc = raw > 0 ? s_run_bus (&b, &bus) : -1;
    pl_test_redis_stop (&srv);
    if (raw <= 0 || rc != 0) {
        fprintf (stderr, "bench_bus: %s\n", s_interrupted ? "interrupted" : "run failed");
        return 1;
    }

    double raw_rate = (double) b.count / raw, bus_rate = (double) b.count / bus.secs;
    char load[64];
    pl_test_loadavg (load, sizeof load);
    load[strcspn (load, " ")] = '\0';          /* the 1-minute figure */
    printf ("bench_bus: %lld messages per mode, %zu-byte payload (envelope %zu bytes), "
            "%zu sender/receiver pair%s, %ld CPUs, %s build, load average %s\n\n",
            b.count, b.payload, bus.envelope_bytes, b.pairs, b.pairs == 1 ? "" : "s", cpus,
            PL_BUILD_TYPE, load);
    printf ("%-34s %10s %9s %12s\n", "mode", "messages", "seconds", "msg/s");
    printf ("%-34s %10lld %9.3f %12.0f\n", "raw libzmq PUSH/PULL", b.count, raw, raw_rate);
    printf ("%-34s %10lld %9.3f %12.0f\n", "plateau bus (outbox, inbox, ack)", b.count, bus.secs, bus_rate);
    printf ("\nratio raw/bus: %.1fx (the acked bus runs at %.1f%% of raw libzmq)\n",
            raw_rate / bus_rate, 100.0 * bus_rate / raw_rate);
    bool ok = bus.applied == b.count && bus.outbox_left == 0;
    printf ("cpu seconds in the bus run: sender %.2f, receiver %.2f, zeromq i/o %.2f, redis-server %.2f\n",
            bus.cpu_sender, bus.cpu_receiver, bus.cpu_process - bus.cpu_sender - bus.cpu_receiver,
            bus.cpu_redis);
    printf ("checks: applied %lld of %lld exactly once, outbox left %lld, resent %llu: %s\n",
            bus.applied, b.count, bus.outbox_left, bus.resent, ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
