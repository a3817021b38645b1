/*  test_intake_fixture.h — plateau-intake as a process for the intake tests: a private Redis, small
 *  real bus receivers standing in for scrub and audit, the service spawned with its HTTP port,
 *  and a few HTTP helpers. Header-only: each test file includes it once.
 */
#ifndef PL_TEST_INTAKE_FIXTURE_H
#define PL_TEST_INTAKE_FIXTURE_H
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pl_test.h"
#include "pl_test_http.h"
#include "plateau/bus.h"

#define FX_TOKEN "0123456789abcdef-crm-a"
#define FX_TOKEN_B "0123456789abcdef-crm-b"
#define FX_MAX_SEEN 4096

typedef struct {
    pl_test_redis_t *srv;
    pl_redis_t *redis;
    char *dir;
    char log[400];
    char tokens[400];
    int ops_port, http_port;
    char bus[64], scrub_bus[64], audit_bus[64];
    pl_bus_server_t *scrub, *audit;
    size_t nsubmitted, naudit;
    char submitted[FX_MAX_SEEN][64];     /* lead ids seen by the scrub stand-in */
    char audit_types[FX_MAX_SEEN][32];
    char audit_leads[FX_MAX_SEEN][32];
    char audit_zones[FX_MAX_SEEN][48];
    pid_t pid;
} fx_t;

__attribute__ ((unused)) static void
fx_scrub_handler (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    fx_t *f = arg;
    for (size_t i = 0; i < n; i++) {
        const pl_envelope_t *e = pl_bus_msg_envelope (msgs[i]);
        if (f->nsubmitted < FX_MAX_SEEN && e->lead_submitted && e->lead_submitted->lead)
            snprintf (f->submitted[f->nsubmitted++], 64, "%s", e->lead_submitted->lead->id);
        pl_bus_msg_ack (msgs[i]);
    }
}

__attribute__ ((unused)) static void
fx_audit_handler (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    fx_t *f = arg;
    for (size_t i = 0; i < n; i++) {
        const pl_envelope_t *e = pl_bus_msg_envelope (msgs[i]);
        if (f->naudit < FX_MAX_SEEN && e->audit_event) {
            snprintf (f->audit_types[f->naudit], 32, "%s", e->audit_event->type);
            snprintf (f->audit_leads[f->naudit], 32, "%s", e->audit_event->lead_id);
            snprintf (f->audit_zones[f->naudit], 48, "%s", e->audit_event->zone);
            f->naudit++;
        }
        pl_bus_msg_ack (msgs[i]);
    }
}

/* Lets the stand-ins read for ms milliseconds. */
__attribute__ ((unused)) static void
fx_pump (fx_t *f, int ms)
{
    int64_t end = pl_clock_mono_ms () + ms;
    do {
        pl_bus_server_process (f->scrub, 256);
        pl_bus_server_process (f->audit, 256);
        usleep (5000);
    } while (pl_clock_mono_ms () < end);
}

/* Whether the intake owes scrub nothing any more (its backlog gauge, refreshed every second,
 * says 0): every LeadSubmitted was acknowledged. Pumps the stand-ins meanwhile. */
static inline bool
fx_scrub_owes_nothing (fx_t *f, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 100) {
        char *metrics = NULL;
        bool done = pl_test_http_get (f->ops_port, "/metrics", &metrics) == 200 && metrics
                    && strstr (metrics, "plateau_intake_outbox_backlog{destination=\"scrub\"} 0\n");
        free (metrics);
        if (done)
            return true;
        fx_pump (f, 100);
    }
    return false;
}

__attribute__ ((unused)) static bool
fx_ready_fn (void *arg)
{
    fx_t *f = arg;
    return pl_test_http_get (f->ops_port, "/readyz", NULL) == 200;
}

/* Starts plateau-intake with extra "K=V" entries (NULL-terminated list, may be NULL), and waits
 * until it has bound its ports. A free port can be taken by another process between picking and
 * binding: then the service exits, and it is started again on new ports (three tries). */
__attribute__ ((unused)) static pid_t
fx_start (fx_t *f, const char *const *extra)
{
    static char env[24][1024];
    for (int attempt = 0; attempt < 3; attempt++) {
        if (attempt > 0) {
            f->ops_port = pl_test_free_port ();
            f->http_port = pl_test_free_port ();
            snprintf (f->bus, sizeof f->bus, "tcp://127.0.0.1:%d", pl_test_free_port ());
        }
        char *envp[25];
        int k = 0;
        snprintf (env[k++], sizeof env[0], "PLATEAU_REDIS_URL=%s", pl_test_redis_url (f->srv));
        snprintf (env[k++], sizeof env[0], "PLATEAU_OPS_PORT=%d", f->ops_port);
        snprintf (env[k++], sizeof env[0], "PLATEAU_OPS_ADDR=127.0.0.1");
        snprintf (env[k++], sizeof env[0], "PLATEAU_BUS_BIND=%s", f->bus);
        snprintf (env[k++], sizeof env[0], "PLATEAU_SCRUB_BUS=%s", f->scrub_bus);
        snprintf (env[k++], sizeof env[0], "PLATEAU_AUDIT_BUS=%s", f->audit_bus);
        snprintf (env[k++], sizeof env[0], "PLATEAU_INTAKE_HTTP_ADDR=127.0.0.1");
        snprintf (env[k++], sizeof env[0], "PLATEAU_INTAKE_HTTP_PORT=%d", f->http_port);
        snprintf (env[k++], sizeof env[0], "PLATEAU_API_TOKENS_FILE=%s", f->tokens);
        snprintf (env[k++], sizeof env[0], "PLATEAU_REPLICA_ID=intake-test");
        snprintf (env[k++], sizeof env[0], "PLATEAU_BUS_ALLOW=Lead=crm");      /* the test's CRM connector */
        for (int i = 0; extra && extra[i] && k < 24; i++)
            snprintf (env[k++], sizeof env[0], "%s", extra[i]);
        for (int i = 0; i < k; i++)
            envp[i] = env[i];
        envp[k] = NULL;
        char *argv[] = { "plateau-intake", NULL };
        f->pid = pl_test_spawn (argv, envp, f->log);
        if (f->pid > 0 && pl_test_wait_started (f->pid, f->log, 15000))
            return f->pid;
        pl_test_stop (f->pid, SIGKILL, 2000);
        f->pid = 0;
    }
    return -1;
}

__attribute__ ((unused)) static fx_t *
fx_new (const char *redis_conf)
{
    fx_t *f = calloc (1, sizeof *f);
    f->srv = pl_test_redis_start (redis_conf);
    if (!f->srv) {
        free (f);
        return NULL;
    }
    f->redis = pl_redis_new (pl_test_redis_url (f->srv), 1000);
    f->dir = pl_test_tmpdir ("pl-intake");
    snprintf (f->log, sizeof f->log, "%s/intake.log", f->dir);
    snprintf (f->tokens, sizeof f->tokens, "%s/tokens", f->dir);
    FILE *fp = fopen (f->tokens, "w");
    fprintf (fp, "crm-a:%s\ncrm-b:%s\n", FX_TOKEN, FX_TOKEN_B);
    fclose (fp);
    f->ops_port = pl_test_free_port ();
    f->http_port = pl_test_free_port ();
    snprintf (f->bus, sizeof f->bus, "tcp://127.0.0.1:%d", pl_test_free_port ());
    f->scrub = pl_test_bus_server_free (f->scrub_bus, sizeof f->scrub_bus, "scrub");
    pl_bus_server_set_handler (f->scrub, fx_scrub_handler, f, NULL);
    f->audit = pl_test_bus_server_free (f->audit_bus, sizeof f->audit_bus, "audit");
    pl_bus_server_set_handler (f->audit, fx_audit_handler, f, NULL);
    return f;
}

__attribute__ ((unused)) static void
fx_destroy (fx_t *f)
{
    /* The service's log on stderr: ctest shows it when a test fails (--output-on-failure). */
    {
        size_t n;
        FILE *fp = fopen (f->log, "r");
        char buf[4096];
        while (fp && (n = fread (buf, 1, sizeof buf, fp)) > 0)
            fwrite (buf, 1, n, stderr);
        if (fp)
            fclose (fp);
    }
    if (f->pid > 0)
        pl_test_stop (f->pid, SIGKILL, 2000);
    pl_bus_server_destroy (&f->scrub);
    pl_bus_server_destroy (&f->audit);
    pl_redis_destroy (&f->redis);
    pl_test_redis_stop (&f->srv);
    pl_test_rmdir (f->dir);
    free (f->dir);
    free (f);
}

/* cmocka setup and teardown: a fixture with the intake started with extra settings ("K=V",
 * NULL-terminated, may be NULL) and ready; SIGPIPE ignored (attack tests write into
 * connections the server has closed). */
__attribute__ ((unused)) static int
fx_setup_with (void **state, const char *const *extra)
{
    signal (SIGPIPE, SIG_IGN);
    fx_t *f = fx_new (NULL);
    if (!f)
        return -1;
    if (fx_start (f, extra) <= 0 || !pl_test_wait_until (fx_ready_fn, f, 15000)) {
        fx_destroy (f);
        return -1;
    }
    *state = f;
    return 0;
}

__attribute__ ((unused)) static int
fx_teardown (void **state)
{
    fx_destroy (*state);
    return 0;
}

/* POST /v1/leads<query> with a bearer token (NULL: none) and extra headers. */
__attribute__ ((unused)) static int
fx_post (fx_t *f, const char *query, const char *token, const char *ctype, const char *extra,
         const void *body, size_t len, pl_test_http_resp_t *resp)
{
    char headers[1024], path[512];
    snprintf (headers, sizeof headers, "%s%s%sContent-Type: %s\r\n%s", token ? "Authorization: Bearer " : "",
              token ? token : "", token ? "\r\n" : "", ctype, extra ? extra : "");
    snprintf (path, sizeof path, "/v1/leads%s", query ? query : "");
    return pl_test_http_request (f->http_port, "POST", path, headers, body, len, resp);
}

__attribute__ ((unused)) static int
fx_get_lead (fx_t *f, const char *id, pl_test_http_resp_t *resp)
{
    char path[128];
    snprintf (path, sizeof path, "/v1/leads/%s", id);
    return pl_test_http_request (f->http_port, "GET", path, "Authorization: Bearer " FX_TOKEN "\r\n", NULL, 0, resp);
}

__attribute__ ((unused)) static char *
fx_read_file (const char *path, size_t *len)
{
    FILE *fp = fopen (path, "rb");
    *len = 0;
    if (!fp)
        return NULL;
    fseek (fp, 0, SEEK_END);
    long n = ftell (fp);
    rewind (fp);
    char *buf = malloc ((size_t) n + 1);
    *len = fread (buf, 1, (size_t) n, fp);
    buf[*len] = '\0';
    fclose (fp);
    return buf;
}

#endif
