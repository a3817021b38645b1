/*  test_audit_service_kill.c — acceptance 2 of the audit issue: events sent through a bus
 *  client with its Redis outbox while plateau-audit is SIGKILLed twice; afterwards every event
 *  is in the store exactly once and `plateauctl audit verify` passes.
 *
 *  AX_KILL_EVENTS events: the full 200,000 of the acceptance (about 20 s in a Debug build and
 *  30 s under ASan/UBSan on two cores).
 *  The count is read back from the segments (an export, the source of truth), not the index.
 */
#include <jansson.h>
#include "test_audit_service_fixture.h"
#include "plateau/audit_emit.h"
#include "plateau/audit_query.h"

#ifndef AX_KILL_EVENTS
#define AX_KILL_EVENTS 200000
#endif

typedef struct {
    uint8_t *seen;
    long n, distinct, dups, other;
    char partial[1024];
    size_t plen;
} s_count_t;

static void
s_line (s_count_t *c, const char *line)
{
    json_t *j = json_loads (line, 0, NULL);
    const char *id = json_string_value (json_object_get (j, "event_id"));
    long i;
    if (id && sscanf (id, "KILL%ld", &i) == 1 && i >= 0 && i < c->n) {
        if (c->seen[i]++)
            c->dups++;
        else
            c->distinct++;
    } else
        c->other++;
    json_decref (j);
}

static int
s_sink (void *arg, const char *data, size_t len)
{
    s_count_t *c = arg;
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '\n') {
            c->partial[c->plen] = '\0';
            s_line (c, c->partial);
            c->plen = 0;
        } else if (c->plen + 1 < sizeof c->partial)
            c->partial[c->plen++] = data[i];
    }
    return 0;
}

static void
test_kill_twice_loses_and_duplicates_nothing (void **state)
{
    ax_t *f = ax_new ();
    assert_true (f != NULL);
    assert_true (ax_start (f, NULL) > 0);
    ax_connect (f);
    assert_true (f->client != NULL);
    const long total = AX_KILL_EVENTS;
    long next = 0;
    int kills = 0;
    int64_t t0 = pl_clock_mono_ms ();
    char reason[300];
    memset (reason, 'r', sizeof reason - 1);
    reason[sizeof reason - 1] = '\0';
    while (next < total || pl_bus_client_inflight (f->client) > 0) {
        /* Keep some thousands in flight; the outbox holds the rest of what is owed. */
        while (next < total && pl_bus_client_inflight (f->client) < 8000) {
            enum { B = 200 };
            pl_envelope_t envs[B];
            pl_envelope_ids_t ids[B];
            Plateau__V1__AuditEvent evs[B];
            char eids[B][32], leads[B][24];
            pl_envelope_t *ptrs[B];
            size_t n = 0;
            for (; n < B && next + (long) n < total; n++) {
                long i = next + (long) n;
                pl_envelope_init (&envs[n], &ids[n], "test", f->clock, NULL);
                snprintf (eids[n], sizeof eids[n], "KILL%010ld", i);
                snprintf (leads[n], sizeof leads[n], "L%ld", i % 1000);
                pl_audit_event_init (&evs[n], "dialer", "dial.allowed", eids[n], 1764403200000LL + i);
                evs[n].lead_id = leads[n];
                evs[n].campaign = "c-kill";
                evs[n].reason = reason;
                envs[n].body_case = PLATEAU__V1__ENVELOPE__BODY_AUDIT_EVENT;
                envs[n].audit_event = &evs[n];
                ptrs[n] = &envs[n];
            }
            assert_true (pl_bus_client_send (f->client, ptrs, n) == 0);
            next += (long) n;
        }
        ax_pump (f, 20, false);
        uint64_t acked = pl_bus_client_count (f->client, "acked");
        if ((kills == 0 && acked >= (uint64_t) total / 3) || (kills == 1 && acked >= (uint64_t) total * 2 / 3)) {
            assert_true (pl_test_stop (f->pid, SIGKILL, 5000) != -1);
            kills++;
            printf ("# SIGKILL %d after %llu acks (%ld sent)\n", kills, (unsigned long long) acked, next);
            /* Same ports: the senders know this address. */
            assert_true (ax_start (f, NULL) > 0);
        }
    }
    int64_t t1 = pl_clock_mono_ms ();
    assert_true (kills == 2);
    printf ("# %ld events acknowledged in %.1f s with 2 kills (%.0f events/s); sent %llu resent %llu\n",
            total, (t1 - t0) / 1000.0, total * 1000.0 / (double) (t1 - t0 + 1),
            (unsigned long long) pl_bus_client_count (f->client, "sent"),
            (unsigned long long) pl_bus_client_count (f->client, "resent"));
    assert_true (pl_test_stop (f->pid, SIGTERM, 20000) == 0);
    f->pid = 0;

    s_count_t c = { .seen = calloc ((size_t) total, 1), .n = total };
    pl_audit_reader_t *r = pl_audit_reader_new (f->data, NULL);
    uint64_t count = 0;
    assert_true (pl_audit_reader_export (r, false, s_sink, &c, &count) == 0);
    pl_audit_reader_destroy (&r);
    printf ("# records %llu: distinct %ld, duplicates %ld, other %ld\n", (unsigned long long) count,
            c.distinct, c.dups, c.other);
    assert_true (c.distinct == total);
    assert_true (c.dups == 0);
    free (c.seen);

    char *out = NULL;
    char *args[] = { "audit", "verify", "--data", f->data, "--key", f->pub, NULL };
    int rc = ax_ctl (args, &out);
    printf ("%s", out);
    assert_true (rc == 0);
    free (out);
    ax_destroy (&f);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_kill_twice_loses_and_duplicates_nothing),
    };
    return cmocka_run_group_tests_name ("audit_service_kill", tests, NULL, NULL);
}
