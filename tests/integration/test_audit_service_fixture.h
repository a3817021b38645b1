/*  test_audit_service_fixture.h — plateau-audit as a process for the audit service tests: a
 *  private Redis, a data directory and key files, the service spawned with its ports, a bus
 *  client with its Redis outbox to send AuditEvents, and plateauctl runs. Header-only: each
 *  test file includes it once.
 */
#ifndef PL_TEST_AUDIT_SERVICE_FIXTURE_H
#define PL_TEST_AUDIT_SERVICE_FIXTURE_H
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>
#include <cmocka.h>
#include "pl_test.h"
#include "pl_test_http.h"
#include "plateau/audit_emit.h"
#include "plateau/bus.h"
#include "plateau/clock.h"
#include "plateau/envelope.h"

#define AX_TOKEN "0123456789abcdef-reader"       /* source "ops": auditor (numbers), may erase */
#define AX_TOKEN_CRM "0123456789abcdef-crm-a"    /* source "crm-a": pseudonyms only */

typedef struct {
    pl_test_redis_t *srv;
    pl_redis_t *redis;
    pl_clock_t *clock;
    char *dir;
    char data[400], log[400], tokens[400], sk[400], pk[400], dk[400], pub[400];
    int ops_port, http_port;
    char bus[64];
    pid_t pid;
    pl_bus_client_t *client;
    char redis_url[256];            /* another fixture's Redis (replicas sharing one); "" own */
    char replica[64];               /* PLATEAU_REPLICA_ID; "" is audit-0 */
} ax_t;

__attribute__ ((unused)) static bool
ax_ready_fn (void *arg)
{
    ax_t *f = arg;
    return pl_test_http_get (f->ops_port, "/readyz", NULL) == 200;
}

/* Starts plateau-audit with extra "K=V" entries (NULL-terminated, may be NULL) and waits until
 * it has bound its ports; new ports and another try when one was taken meanwhile. */
__attribute__ ((unused)) static pid_t
ax_start (ax_t *f, const char *const *extra)
{
    static char env[32][512];
    for (int attempt = 0; attempt < 3; attempt++) {
        if (attempt > 0) {
            f->ops_port = pl_test_free_port ();
            f->http_port = pl_test_free_port ();
            snprintf (f->bus, sizeof f->bus, "tcp://127.0.0.1:%d", pl_test_free_port ());
            pl_bus_client_destroy (&f->client);
        }
        char *envp[33];
        int k = 0;
        snprintf (env[k++], 512, "PLATEAU_REDIS_URL=%s",
                  f->redis_url[0] ? f->redis_url : pl_test_redis_url (f->srv));
        snprintf (env[k++], 512, "PLATEAU_OPS_PORT=%d", f->ops_port);
        snprintf (env[k++], 512, "PLATEAU_OPS_ADDR=127.0.0.1");
        snprintf (env[k++], 512, "PLATEAU_BUS_BIND=%s", f->bus);
        snprintf (env[k++], 512, "PLATEAU_AUDIT_HTTP_ADDR=127.0.0.1");
        snprintf (env[k++], 512, "PLATEAU_AUDIT_HTTP_PORT=%d", f->http_port);
        snprintf (env[k++], 512, "PLATEAU_API_TOKENS_FILE=%s", f->tokens);
        snprintf (env[k++], 512, "PLATEAU_REPLICA_ID=%s", f->replica[0] ? f->replica : "audit-0");
        snprintf (env[k++], 512, "PLATEAU_AUDIT_DATA_DIR=%s", f->data);
        snprintf (env[k++], 512, "PLATEAU_AUDIT_SIGNING_KEY_FILE=%s", f->sk);
        snprintf (env[k++], 512, "PLATEAU_AUDIT_PSEUDONYM_KEY_FILE=%s", f->pk);
        snprintf (env[k++], 512, "PLATEAU_AUDIT_DATA_KEY_FILE=%s", f->dk);
        snprintf (env[k++], 512, "PLATEAU_AUDIT_PUBLIC_KEY_OUT=%s", f->pub);
        snprintf (env[k++], 512, "PLATEAU_AUDIT_DEV_KEYGEN=true");
        snprintf (env[k++], 512, "PLATEAU_AUDIT_AUDITORS=ops");
        snprintf (env[k++], 512, "PLATEAU_AUDIT_ERASERS=ops");
        /* The stories are dated in 2025 and 2026 on the real clock: no age limit here (the
         * window itself is attacked in tests/security). */
        snprintf (env[k++], 512, "PLATEAU_BUS_MAX_AGE=36500d");
        for (int i = 0; extra && extra[i] && k < 32; i++)
            snprintf (env[k++], 512, "%s", extra[i]);
        for (int i = 0; i < k; i++)
            envp[i] = env[i];
        envp[k] = NULL;
        char *argv[] = { "plateau-audit", NULL };
        f->pid = pl_test_spawn (argv, envp, f->log);
        if (f->pid > 0 && pl_test_wait_started (f->pid, f->log, 20000))
            return f->pid;
        pl_test_stop (f->pid, SIGKILL, 2000);
        f->pid = 0;
    }
    return -1;
}

__attribute__ ((unused)) static void
ax_connect (ax_t *f)
{
    char err[256];
    /* Speaks as the dialer, one of the identities the audit takes AuditEvents from: the
     * records name it as their service, whatever the events say. */
    f->client = pl_bus_client_new (f->redis, f->clock, "audit-test-sender", "audit", f->bus,
                                   pl_test_bus_options ("dialer"), err, sizeof err);
    if (f->client)
        pl_bus_client_set_ack_timeout (f->client, 500);
}

__attribute__ ((unused)) static ax_t *
ax_new (void)
{
    ax_t *f = calloc (1, sizeof *f);
    f->srv = pl_test_redis_start (NULL);
    if (!f->srv) {
        free (f);
        return NULL;
    }
    f->redis = pl_redis_new (pl_test_redis_url (f->srv), 2000);
    f->clock = pl_clock_new_real ();
    f->dir = pl_test_tmpdir ("pl-audit-svc");
    snprintf (f->data, sizeof f->data, "%s/data", f->dir);
    snprintf (f->log, sizeof f->log, "%s/audit.log", f->dir);
    snprintf (f->tokens, sizeof f->tokens, "%s/tokens", f->dir);
    snprintf (f->sk, sizeof f->sk, "%s/audit-signing.key", f->dir);
    snprintf (f->pk, sizeof f->pk, "%s/audit-pseudonym.key", f->dir);
    snprintf (f->dk, sizeof f->dk, "%s/audit-data.key", f->dir);
    snprintf (f->pub, sizeof f->pub, "%s/audit-signing.pub", f->dir);
    FILE *fp = fopen (f->tokens, "w");
    fprintf (fp, "ops:%s\ncrm-a:%s\n", AX_TOKEN, AX_TOKEN_CRM);
    fclose (fp);
    f->ops_port = pl_test_free_port ();
    f->http_port = pl_test_free_port ();
    snprintf (f->bus, sizeof f->bus, "tcp://127.0.0.1:%d", pl_test_free_port ());
    return f;
}

__attribute__ ((unused)) static void
ax_destroy (ax_t **f_p)
{
    ax_t *f = *f_p;
    if (!f)
        return;
    pl_bus_client_destroy (&f->client);
    if (f->pid > 0)
        pl_test_stop (f->pid, SIGTERM, 10000);
    pl_redis_destroy (&f->redis);
    pl_clock_destroy (&f->clock);
    pl_test_redis_stop (&f->srv);
    if (!getenv ("PL_KEEP"))
        pl_test_rmdir (f->dir);
    free (f->dir);
    free (f);
    *f_p = NULL;
}

/* Reads answers and runs the client's timers for ms milliseconds (or until nothing is owed when
 * until_done). */
__attribute__ ((unused)) static void
ax_pump (ax_t *f, int ms, bool until_done)
{
    int64_t end = pl_clock_mono_ms () + ms;
    do {
        zmq_pollitem_t item = { pl_bus_client_socket (f->client), 0, ZMQ_POLLIN, 0 };
        zmq_poll (&item, 1, 20);
        pl_bus_client_process (f->client);
        pl_bus_client_tick (f->client);
        if (until_done && pl_bus_client_inflight (f->client) == 0)
            return;
    } while (pl_clock_mono_ms () < end);
}

/* Sends one AuditEvent through the outbox. */
__attribute__ ((unused)) static int
ax_send (ax_t *f, const char *event_id, const char *type, const char *lead, const char *number,
         const char *campaign, int64_t at_ms, const char *reason)
{
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    pl_envelope_init (&env, &ids, "test", f->clock, NULL);
    Plateau__V1__AuditEvent ev;
    pl_audit_event_init (&ev, "intake", type, event_id, at_ms);
    ev.lead_id = (char *) (lead ? lead : "");
    ev.number = (char *) (number ? number : "");
    ev.campaign = (char *) (campaign ? campaign : "");
    ev.reason = (char *) (reason ? reason : "");
    ev.zone = "Europe/Paris";
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_AUDIT_EVENT;
    env.audit_event = &ev;
    pl_envelope_t *p = &env;
    return pl_bus_client_send (f->client, &p, 1);
}

/* Runs plateauctl with args (NULL-terminated, after "plateauctl"); its stdout in out (malloc'd
 * when out is not NULL). Returns the exit status, or -1. */
__attribute__ ((unused)) static int
ax_ctl (char *const *args, char **out)
{
    char cmd[4096];
    int k = snprintf (cmd, sizeof cmd, "'%s'", pl_test_bin ("plateauctl"));
    for (int i = 0; args[i]; i++)
        k += snprintf (cmd + k, sizeof cmd - (size_t) k, " '%s'", args[i]);
    FILE *p = popen (cmd, "r");
    if (!p)
        return -1;
    size_t cap = 4096, len = 0, n;
    char *buf = malloc (cap);
    while ((n = fread (buf + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (len + 1 == cap)
            buf = realloc (buf, cap *= 2);
    }
    buf[len] = '\0';
    int st = pclose (p);
    if (out)
        *out = buf;
    else {
        fputs (buf, stdout);
        free (buf);
    }
    return WIFEXITED (st) ? WEXITSTATUS (st) : -1;
}

#endif
