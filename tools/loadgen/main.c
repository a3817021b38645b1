/*  main.c — plateau-loadgen: pushes synthetic leads onto a service's bus door and waits for
 *  every acknowledgement. For smoke tests, demos and load tests of a running stack.
 *
 *    plateau-loadgen --to template@tcp://127.0.0.1:5561 [--count 10000] [--campaign spring]
 *                    [--batch 256] [--redis URL]
 *
 *  The bus runs CURVE unless PLATEAU_BUS_SECURITY=plaintext: the loadgen speaks with the key
 *  of PLATEAU_CURVE_SECRET_KEY_FILE, which the receiver's key list (PLATEAU_BUS_KEYS_FILE) must
 *  name and its PLATEAU_BUS_ALLOW let send LeadSubmitted; --to names the receiver's identity.
 *
 *  Messages go through the loadgen's own outbox (so they survive a receiver restart); it prints
 *  one JSON line with what was sent, resent and acknowledged, and the rate. Exit 0 when every
 *  message was acknowledged, 1 otherwise, 2 on usage errors.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>
#include "plateau/bus.h"

static void
s_usage (void)
{
    fprintf (stderr, "usage: plateau-loadgen --to SERVICE@ENDPOINT [--count N] [--campaign NAME] [--batch N] "
                     "[--redis URL] [--timeout SECONDS]\n");
}

int
main (int argc, char **argv)
{
    const char *to = NULL, *campaign = "demo", *redis_url = getenv ("PLATEAU_REDIS_URL");
    long count = 10000, batch = 256, timeout_s = 120;
    static struct option opts[] = { { "to", 1, 0, 't' }, { "count", 1, 0, 'n' }, { "campaign", 1, 0, 'c' },
                                    { "batch", 1, 0, 'b' }, { "redis", 1, 0, 'r' }, { "timeout", 1, 0, 'w' },
                                    { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
    int o;
    while ((o = getopt_long (argc, argv, "t:n:c:b:r:w:h", opts, NULL)) != -1) {
        switch (o) {
            case 't': to = optarg; break;
            case 'n': count = atol (optarg); break;
            case 'c': campaign = optarg; break;
            case 'b': batch = atol (optarg); break;
            case 'r': redis_url = optarg; break;
            case 'w': timeout_s = atol (optarg); break;
            default: s_usage (); return o == 'h' ? 0 : 2;
        }
    }
    if (!to || !redis_url || count <= 0 || batch <= 0 || batch > 4096) {
        s_usage ();
        return 2;
    }
    pl_redis_t *redis = pl_redis_new (redis_url, 2000);
    if (!redis) {
        fprintf (stderr, "plateau-loadgen: bad Redis URL '%s'\n", redis_url);
        return 2;
    }
    char owner[64], err[512], service[64] = "target";
    snprintf (owner, sizeof owner, "loadgen-%d", (int) getpid ());
    const char *at = strchr (to, '@');
    if (at) {
        snprintf (service, sizeof service, "%.*s", (int) (at - to), to);
        to = at + 1;
    }
    const char *security = getenv ("PLATEAU_BUS_SECURITY");
    bool plaintext = security && strcmp (security, "plaintext") == 0;
    pl_bus_options_t bo = { .curve_secret_key_file = getenv ("PLATEAU_CURVE_SECRET_KEY_FILE"),
                            .keys_file = getenv ("PLATEAU_BUS_KEYS_FILE"), .server_identity = service };
    if (!plaintext && (!at || !bo.curve_secret_key_file || !bo.keys_file)) {
        fprintf (stderr, "plateau-loadgen: the bus runs CURVE: give --to SERVICE@ENDPOINT and set "
                         "PLATEAU_CURVE_SECRET_KEY_FILE and PLATEAU_BUS_KEYS_FILE (or PLATEAU_BUS_SECURITY=plaintext)\n");
        pl_redis_destroy (&redis);
        return 2;
    }
    pl_bus_client_t *client = pl_bus_client_new (redis, NULL, owner, service, to, plaintext ? NULL : &bo, err,
                                                 sizeof err);
    if (!client) {
        fprintf (stderr, "plateau-loadgen: %s\n", err);
        return 2;
    }
    int64_t t0 = pl_clock_mono_ms (), deadline = t0 + timeout_s * 1000;
    long next = 0;
    pl_envelope_t *envs = calloc ((size_t) batch, sizeof *envs);
    pl_envelope_t **ptrs = calloc ((size_t) batch, sizeof *ptrs);
    pl_envelope_ids_t *ids = calloc ((size_t) batch, sizeof *ids);
    Plateau__V1__LeadSubmitted *ls = calloc ((size_t) batch, sizeof *ls);
    Plateau__V1__Lead *leads = calloc ((size_t) batch, sizeof *leads);
    char (*lead_ids)[PL_ID_LEN + 1] = calloc ((size_t) batch, sizeof *lead_ids);
    while (pl_clock_mono_ms () < deadline) {
        if (next < count && pl_bus_client_inflight (client) < 50000) {
            long n = count - next < batch ? count - next : batch;
            for (long i = 0; i < n; i++) {
                pl_envelope_init (&envs[i], &ids[i], "loadgen", NULL, NULL);
                plateau__v1__lead_submitted__init (&ls[i]);
                plateau__v1__lead__init (&leads[i]);
                pl_id_new (lead_ids[i], pl_clock_now_ms (NULL));
                leads[i].id = lead_ids[i];
                leads[i].campaign = (char *) campaign;
                leads[i].source = "loadgen";
                ls[i].lead = &leads[i];
                envs[i].body_case = PLATEAU__V1__ENVELOPE__BODY_LEAD_SUBMITTED;
                envs[i].lead_submitted = &ls[i];
                ptrs[i] = &envs[i];
            }
            if (pl_bus_client_send (client, ptrs, (size_t) n) == 0)
                next += n;
        }
        zmq_pollitem_t item = { pl_bus_client_socket (client), 0, ZMQ_POLLIN, 0 };
        zmq_poll (&item, 1, next < count ? 0 : 20);
        pl_bus_client_process (client);
        pl_bus_client_tick (client);
        if (next == count && pl_bus_client_inflight (client) == 0)
            break;
    }
    double secs = (double) (pl_clock_mono_ms () - t0) / 1000.0;
    uint64_t acked = pl_bus_client_count (client, "acked");
    printf ("{\"to\":\"%s\",\"campaign\":\"%s\",\"sent\":%ld,\"resent\":%llu,\"acked\":%llu,"
            "\"dead\":%llu,\"seconds\":%.2f,\"per_second\":%.0f}\n",
            to, campaign, next, (unsigned long long) pl_bus_client_count (client, "resent"),
            (unsigned long long) acked, (unsigned long long) pl_bus_client_count (client, "dead"),
            secs, secs > 0 ? (double) acked / secs : 0.0);
    int rc = (long) acked == count ? 0 : 1;
    free (envs);
    free (ptrs);
    free (ids);
    free (ls);
    free (leads);
    free (lead_ids);
    pl_bus_client_destroy (&client);
    pl_redis_destroy (&redis);
    return rc;
}
