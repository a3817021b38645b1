/*  bus_probe.c — a sender and a receiver on plateau's bus, for crash tests and benchmarks.
 *
 *    bus_probe recv <redis-url> <bind-endpoint>
 *        applies every message exactly once through the inbox: HINCRBY pl:{probe}:applied <seq> 1
 *        and INCR pl:{probe}:total, then acks.
 *    bus_probe send <redis-url> <endpoint> <count> [payload-bytes]
 *        sends messages 1..count through the outbox, resuming from pl:{probe}:progress after a
 *        restart, and exits once everything is acknowledged.
 *
 *  Message ids are derived from the sequence number, so a sender that dies between storing a
 *  batch and recording its progress stores the same ids again and the receiver applies each once.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>
#include "plateau/audit_emit.h"
#include "plateau/bus.h"
#include "plateau/inbox.h"
#include "plateau/redis.h"

static volatile sig_atomic_t s_stop;
static void s_on_term (int sig) { s_stop = 1; }

static void
s_recv_batch (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    pl_inbox_t *inbox = arg;
    pl_inbox_tx_t **txs = calloc (n, sizeof *txs);
    int *results = calloc (n, sizeof *results);
    for (size_t i = 0; i < n; i++) {
        const pl_envelope_t *env = pl_bus_msg_envelope (msgs[i]);
        const char *seq = env->audit_event ? env->audit_event->lead_id : "";
        txs[i] = pl_inbox_tx_new ("probe", env->id);
        pl_inbox_tx_cmdl (txs[i], "HINCRBY", "pl:{probe}:applied", seq, "1", NULL);
        pl_inbox_tx_cmdl (txs[i], "INCR", "pl:{probe}:total", NULL);
    }
    int rc = pl_inbox_apply (inbox, txs, n, results);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0)
            pl_bus_msg_ack (msgs[i]);
        else
            pl_bus_msg_nack (msgs[i], PLATEAU__V1__NACK__CODE__UNAVAILABLE, "redis unavailable", 500);
        pl_inbox_tx_destroy (&txs[i]);
    }
    free (txs);
    free (results);
}

static int
s_recv (const char *url, const char *endpoint)
{
    pl_redis_t *redis = pl_redis_new (url, 2000);
    pl_inbox_t *inbox = pl_inbox_new (redis, "probe", 0);
    char err[256];
    pl_bus_server_t *server = pl_bus_server_new (endpoint, NULL, err, sizeof err);
    if (!server) {
        fprintf (stderr, "bus_probe recv: %s\n", err);
        return 1;
    }
    const char *types[] = { "AuditEvent", NULL };
    pl_bus_server_set_handler (server, s_recv_batch, inbox, types);
    while (!s_stop) {
        zmq_pollitem_t item = { pl_bus_server_socket (server), 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, 100) > 0)
            pl_bus_server_process (server, 512);
    }
    pl_bus_server_destroy (&server);
    pl_inbox_destroy (&inbox);
    pl_redis_destroy (&redis);
    return 0;
}

static long long
s_get_int (pl_redis_t *redis, const char *key)
{
    pl_reply_t *r = pl_redis_command (redis, "GET %s", key);
    long long v = !r ? -1
                : pl_reply_type (r) == PL_REPLY_STRING ? atoll (pl_reply_str (r, NULL))
                : pl_reply_type (r) == PL_REPLY_NIL ? 0 : -1;
    pl_reply_free (&r);
    return v;
}

static int
s_send (const char *url, const char *endpoint, long long count, size_t payload)
{
    pl_redis_t *redis = pl_redis_new (url, 2000);
    pl_clock_t *clock = pl_clock_new_real ();
    char err[256];
    pl_bus_client_t *client = pl_bus_client_new (redis, clock, "probe-sender", "probe-receiver",
                                                 endpoint, NULL, err, sizeof err);
    if (!client) {
        fprintf (stderr, "bus_probe send: %s\n", err);
        return 1;
    }
    pl_bus_client_set_ack_timeout (client, 500);
    long long next = -1;
    while (next < 0 && !s_stop)
        next = s_get_int (redis, "pl:{probe}:progress");
    next++;
    char *fill = malloc (payload + 1);
    memset (fill, 'x', payload);
    fill[payload] = '\0';
    enum { BATCH = 256 };
    while (!s_stop) {
        if (next <= count && pl_bus_client_inflight (client) < 20000) {
            pl_envelope_t envs[BATCH];
            Plateau__V1__AuditEvent evs[BATCH];
            pl_envelope_ids_t ids[BATCH];
            char seqs[BATCH][24];
            pl_envelope_t *ptrs[BATCH];
            size_t n = 0;
            for (; n < BATCH && next + (long long) n <= count; n++) {
                pl_envelope_init (&envs[n], &ids[n], "probe", clock, NULL);
                snprintf (ids[n].id, sizeof ids[n].id, "PROBE%021lld", next + (long long) n);
                pl_audit_event_init (&evs[n], "probe", "probe.sent", ids[n].id, 0);
                snprintf (seqs[n], sizeof seqs[n], "%lld", next + (long long) n);
                evs[n].lead_id = seqs[n];
                evs[n].reason = fill;
                envs[n].body_case = PLATEAU__V1__ENVELOPE__BODY_AUDIT_EVENT;
                envs[n].audit_event = &evs[n];
                ptrs[n] = &envs[n];
            }
            if (pl_bus_client_send (client, ptrs, n) == 0) {
                next += (long long) n;
                pl_redis_exec (redis, "SET pl:{probe}:progress %lld", next - 1);
            }
        }
        zmq_pollitem_t item = { pl_bus_client_socket (client), 0, ZMQ_POLLIN, 0 };
        zmq_poll (&item, 1, next <= count ? 0 : 50);
        pl_bus_client_process (client);
        pl_bus_client_tick (client);
        if (next > count && pl_bus_client_inflight (client) == 0)
            break;
    }
    printf ("sent=%llu resent=%llu acked=%llu\n", (unsigned long long) pl_bus_client_count (client, "sent"),
            (unsigned long long) pl_bus_client_count (client, "resent"),
            (unsigned long long) pl_bus_client_count (client, "acked"));
    free (fill);
    pl_bus_client_destroy (&client);
    pl_clock_destroy (&clock);
    pl_redis_destroy (&redis);
    return 0;
}

int
main (int argc, char **argv)
{
    signal (SIGTERM, s_on_term);
    signal (SIGINT, s_on_term);
    if (argc >= 4 && strcmp (argv[1], "recv") == 0)
        return s_recv (argv[2], argv[3]);
    if (argc >= 5 && strcmp (argv[1], "send") == 0)
        return s_send (argv[2], argv[3], atoll (argv[4]), argc > 5 ? (size_t) atoll (argv[5]) : 64);
    fprintf (stderr, "usage: bus_probe recv <redis-url> <bind> | send <redis-url> <endpoint> <count> [bytes]\n");
    return 2;
}
