/*  test_scrub_fixture.h — plateau-scrub as a process for the scrub tests: a private Redis, real
 *  bus receivers standing in for the dialer and the audit (they record what they get), one or
 *  more scrub replicas spawned with their HTTP ports, the intake when a test needs it, and small
 *  HTTP helpers. Header-only: each test file includes it once.
 */
#ifndef PL_TEST_SCRUB_FIXTURE_H
#define PL_TEST_SCRUB_FIXTURE_H
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pl_test.h"
#include "pl_test_http.h"
#include "plateau/bus.h"
#include "plateau/clock.h"
#include "plateau/envelope.h"

#define SX_TOKEN "0123456789abcdef-crm-a"       /* source crm-a */
#define SX_TOKEN_B "0123456789abcdef-crm-b"     /* source crm-b */
#define SX_OPS_TOKEN "0123456789abcdef-ops"     /* source ops: the operator */
#define SX_MAX_SEEN 4096
#define SX_MAX_SCRUBS 2

typedef struct {
    char event_id[64];                  /* the audit stores each id once: so does this stand-in */
    char type[32], lead_id[40], decision[8], evidence[64], tenant[32], list_names[160];
    char regions[96];                   /* "US:number US-FL:number", from region_sources */
    char rule_regions[96];              /* "us.fl=US-FL:number", rules that applied by a region */
    int n_lists;
    int64_t revoked_at_ms;
} sx_event_t;

typedef struct {
    pid_t pid;
    int ops_port, http_port;
    char bus[64], log[400];
} sx_proc_t;

typedef struct {
    pl_test_redis_t *srv;
    char *dir;
    char tokens[400], campaigns[400];
    char dialer_bus[64], audit_bus[64];
    pl_bus_server_t *dialer, *audit;
    size_t ndialer, naudit;
    char dialer_types[SX_MAX_SEEN][24];
    char dialer_leads[SX_MAX_SEEN][40];
    int dialer_decisions[SX_MAX_SEEN];    /* ScrubVerdict: plateau.v1.Decision */
    sx_event_t events[SX_MAX_SEEN];
    sx_proc_t scrub[SX_MAX_SCRUBS];
    sx_proc_t intake;
} sx_t;

__attribute__ ((unused)) static void
sx_dialer_handler (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    sx_t *f = arg;
    for (size_t i = 0; i < n; i++) {
        const pl_envelope_t *e = pl_bus_msg_envelope (msgs[i]);
        if (f->ndialer < SX_MAX_SEEN) {
            snprintf (f->dialer_types[f->ndialer], 24, "%s", pl_envelope_type_name (e->body_case));
            /* the body is a oneof: read the member of its case only */
            pl_body_case_t c = e->body_case;
            const char *lead = c == PLATEAU__V1__ENVELOPE__BODY_LEAD_CLEARED && e->lead_cleared->lead
                             ? e->lead_cleared->lead->id
                             : c == PLATEAU__V1__ENVELOPE__BODY_LEAD_SUPPRESSED ? e->lead_suppressed->lead_id
                             : c == PLATEAU__V1__ENVELOPE__BODY_SCRUB_VERDICT ? e->scrub_verdict->number : "";
            snprintf (f->dialer_leads[f->ndialer], 40, "%s", lead);
            f->dialer_decisions[f->ndialer] = c == PLATEAU__V1__ENVELOPE__BODY_SCRUB_VERDICT ? (int) e->scrub_verdict->decision : 0;
            f->ndialer++;
        }
        pl_bus_msg_ack (msgs[i]);
    }
}

__attribute__ ((unused)) static void
sx_audit_handler (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    sx_t *f = arg;
    for (size_t i = 0; i < n; i++) {
        const pl_envelope_t *e = pl_bus_msg_envelope (msgs[i]);
        const Plateau__V1__AuditEvent *a = e->body_case == PLATEAU__V1__ENVELOPE__BODY_AUDIT_EVENT ? e->audit_event : NULL;
        bool seen = false;
        for (size_t k = 0; a && k < f->naudit && !seen; k++)
            seen = strcmp (f->events[k].event_id, a->event_id) == 0;    /* a resend (at-least-once) */
        if (a && !seen && f->naudit < SX_MAX_SEEN) {
            sx_event_t *x = &f->events[f->naudit++];
            memset (x, 0, sizeof *x);
            snprintf (x->event_id, sizeof x->event_id, "%s", a->event_id);
            snprintf (x->type, sizeof x->type, "%s", a->type);
            snprintf (x->lead_id, sizeof x->lead_id, "%s", a->lead_id);
            snprintf (x->tenant, sizeof x->tenant, "%s", a->tenant);
            snprintf (x->decision, sizeof x->decision, "%s",
                      a->decision == PLATEAU__V1__DECISION__ALLOW ? "allow"
                      : a->decision == PLATEAU__V1__DECISION__DENY ? "deny"
                      : a->decision == PLATEAU__V1__DECISION__DEFER ? "defer" : "");
            if (a->consent) {
                snprintf (x->evidence, sizeof x->evidence, "%s", a->consent->evidence_ref);
                x->revoked_at_ms = a->consent->revoked_at_ms;
            }
            for (size_t r = 0; r < a->n_region_sources; r++) {
                size_t u = strlen (x->regions);
                snprintf (x->regions + u, sizeof x->regions - u, "%s%s:%s", u ? " " : "",
                          a->region_sources[r]->region, a->region_sources[r]->source);
            }
            for (size_t r = 0; r < a->n_rules; r++)
                if (*a->rules[r]->region) {
                    size_t u = strlen (x->rule_regions);
                    snprintf (x->rule_regions + u, sizeof x->rule_regions - u, "%s%s=%s:%s", u ? " " : "",
                              a->rules[r]->rule_id, a->rules[r]->region, a->rules[r]->region_source);
                }
            x->n_lists = (int) a->n_lists;
            for (size_t l = 0; l < a->n_lists; l++) {
                strncat (x->list_names, a->lists[l]->name, sizeof x->list_names - strlen (x->list_names) - 2);
                strncat (x->list_names, " ", sizeof x->list_names - strlen (x->list_names) - 1);
            }
        }
        pl_bus_msg_ack (msgs[i]);
    }
}

/* Lets the stand-ins read for ms milliseconds. */
__attribute__ ((unused)) static void
sx_pump (sx_t *f, int ms)
{
    int64_t end = pl_clock_mono_ms () + ms;
    do {
        pl_bus_server_process (f->dialer, 256);
        pl_bus_server_process (f->audit, 256);
        usleep (5000);
    } while (pl_clock_mono_ms () < end);
}

__attribute__ ((unused)) static size_t
sx_count_events (sx_t *f, const char *type)
{
    size_t k = 0;
    for (size_t i = 0; i < f->naudit; i++)
        k += strcmp (f->events[i].type, type) == 0;
    return k;
}

static void
sx_dump (const char *path)
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
sx_spawn (sx_t *f, sx_proc_t *p, const char *exe, const char *name, const char *const *extra)
{
    static char env[32][1024];
    for (int attempt = 0; attempt < 3; attempt++) {
        p->ops_port = pl_test_free_port ();
        p->http_port = pl_test_free_port ();
        snprintf (p->bus, sizeof p->bus, "tcp://127.0.0.1:%d", pl_test_free_port ());
        snprintf (p->log, sizeof p->log, "%s/%s.log", f->dir, name);
        char *envp[33];
        int k = 0;
        bool intake = strcmp (exe, "plateau-intake") == 0;
        snprintf (env[k++], sizeof env[0], "PLATEAU_REDIS_URL=%s", pl_test_redis_url (f->srv));
        snprintf (env[k++], sizeof env[0], "PLATEAU_OPS_PORT=%d", p->ops_port);
        snprintf (env[k++], sizeof env[0], "PLATEAU_OPS_ADDR=127.0.0.1");
        snprintf (env[k++], sizeof env[0], "PLATEAU_BUS_BIND=%s", p->bus);
        snprintf (env[k++], sizeof env[0], "PLATEAU_AUDIT_BUS=%s", f->audit_bus);
        snprintf (env[k++], sizeof env[0], "PLATEAU_API_TOKENS_FILE=%s", f->tokens);
        snprintf (env[k++], sizeof env[0], "PLATEAU_REPLICA_ID=%s", name);
        if (intake) {
            snprintf (env[k++], sizeof env[0], "PLATEAU_INTAKE_HTTP_ADDR=127.0.0.1");
            snprintf (env[k++], sizeof env[0], "PLATEAU_INTAKE_HTTP_PORT=%d", p->http_port);
            snprintf (env[k++], sizeof env[0], "PLATEAU_SCRUB_BUS=%s", f->scrub[0].bus);
            snprintf (env[k++], sizeof env[0], "PLATEAU_INTAKE_DEFAULT_COUNTRY=FR");
        } else {
            snprintf (env[k++], sizeof env[0], "PLATEAU_SCRUB_HTTP_ADDR=127.0.0.1");
            snprintf (env[k++], sizeof env[0], "PLATEAU_SCRUB_HTTP_PORT=%d", p->http_port);
            snprintf (env[k++], sizeof env[0], "PLATEAU_DIALER_BUS=%s", f->dialer_bus);
            snprintf (env[k++], sizeof env[0], "PLATEAU_SCRUB_OPERATORS=ops");
            snprintf (env[k++], sizeof env[0], "PLATEAU_SCRUB_SOURCES=crm-a,crm-b");
            snprintf (env[k++], sizeof env[0], "PLATEAU_SCRUB_DEFAULT_COUNTRY=FR");
            snprintf (env[k++], sizeof env[0], "PLATEAU_SCRUB_CAMPAIGNS_DIR=%s", f->campaigns);
        }
        for (int i = 0; extra && extra[i] && k < 32; i++)
            snprintf (env[k++], sizeof env[0], "%s", extra[i]);
        for (int i = 0; i < k; i++)
            envp[i] = env[i];
        envp[k] = NULL;
        char *argv[] = { (char *) exe, NULL };
        p->pid = pl_test_spawn (argv, envp, p->log);
        if (p->pid > 0 && pl_test_wait_started (p->pid, p->log, 20000))
            return 0;
        pl_test_stop (p->pid, SIGKILL, 2000);
        p->pid = 0;
    }
    sx_dump (p->log);
    return -1;
}

/* Scrub replica i (0 or 1), named scrub-<i>, with extra "K=V" entries. */
__attribute__ ((unused)) static int
sx_start_scrub (sx_t *f, int i, const char *const *extra)
{
    char name[24];                        /* "scrub-" and any int */
    snprintf (name, sizeof name, "scrub-%d", i);
    return sx_spawn (f, &f->scrub[i], "plateau-scrub", name, extra);
}

/* The intake, sending its LeadSubmitted to scrub replica 0. */
__attribute__ ((unused)) static int
sx_start_intake (sx_t *f)
{
    return sx_spawn (f, &f->intake, "plateau-intake", "intake", NULL);
}

/* A campaign file in the campaigns directory (before the scrubs start). */
__attribute__ ((unused)) static void
sx_campaign (sx_t *f, const char *name, const char *text)
{
    char path[600];
    snprintf (path, sizeof path, "%s/%s.campaign", f->campaigns, name);
    FILE *fp = fopen (path, "w");
    fputs (text, fp);
    fclose (fp);
}

__attribute__ ((unused)) static sx_t *
sx_new (void)
{
    signal (SIGPIPE, SIG_IGN);
    sx_t *f = calloc (1, sizeof *f);
    f->srv = pl_test_redis_start (NULL);
    if (!f->srv) {
        free (f);
        return NULL;
    }
    f->dir = pl_test_tmpdir ("pl-scrub");
    snprintf (f->tokens, sizeof f->tokens, "%s/tokens", f->dir);
    snprintf (f->campaigns, sizeof f->campaigns, "%s/campaigns", f->dir);
    char cmd[600];
    snprintf (cmd, sizeof cmd, "mkdir -p '%s'", f->campaigns);
    if (system (cmd) != 0)
        fprintf (stderr, "cannot make %s\n", f->campaigns);
    FILE *fp = fopen (f->tokens, "w");
    fprintf (fp, "crm-a:%s\ncrm-b:%s\nops:%s\n", SX_TOKEN, SX_TOKEN_B, SX_OPS_TOKEN);
    fclose (fp);
    f->dialer = pl_test_bus_server_free (f->dialer_bus, sizeof f->dialer_bus, "dialer");
    f->audit = pl_test_bus_server_free (f->audit_bus, sizeof f->audit_bus, "audit");
    if (!f->dialer || !f->audit) {
        pl_test_redis_stop (&f->srv);
        free (f);
        return NULL;
    }
    pl_bus_server_set_handler (f->dialer, sx_dialer_handler, f, NULL);
    pl_bus_server_set_handler (f->audit, sx_audit_handler, f, NULL);
    return f;
}

__attribute__ ((unused)) static void
sx_destroy (sx_t *f)
{
    /* The services' logs on stderr: ctest shows them when a test fails. */
    for (int i = 0; i < SX_MAX_SCRUBS; i++)
        if (f->scrub[i].pid > 0) {
            sx_dump (f->scrub[i].log);
            pl_test_stop (f->scrub[i].pid, SIGKILL, 2000);
        }
    if (f->intake.pid > 0) {
        sx_dump (f->intake.log);
        pl_test_stop (f->intake.pid, SIGKILL, 2000);
    }
    pl_bus_server_destroy (&f->dialer);
    pl_bus_server_destroy (&f->audit);
    pl_test_redis_stop (&f->srv);
    pl_test_rmdir (f->dir);
    free (f->dir);
    free (f);
}

/* An HTTP request to a process's API with a bearer token (NULL: none). */
__attribute__ ((unused)) static int
sx_http (const sx_proc_t *p, const char *method, const char *path, const char *token, const char *ctype,
         const char *body, pl_test_http_resp_t *resp)
{
    char headers[512];
    snprintf (headers, sizeof headers, "%s%s%s%s%s%s", token ? "Authorization: Bearer " : "", token ? token : "",
              token ? "\r\n" : "", ctype ? "Content-Type: " : "", ctype ? ctype : "", ctype ? "\r\n" : "");
    return pl_test_http_request (p->http_port, method, path, headers, body, body ? strlen (body) : 0, resp);
}

/* POST /v1/scrub of one number on replica i; its decision ("allow", "deny", "defer") into out. */
__attribute__ ((unused)) static int
sx_decision (sx_t *f, int i, const char *number, const char *campaign, char *out, size_t size)
{
    char body[256];
    snprintf (body, sizeof body, "{\"numbers\":[\"%s\"]%s%s%s}", number, campaign ? ",\"campaign\":\"" : "",
              campaign ? campaign : "", campaign ? "\"" : "");
    pl_test_http_resp_t r = { 0 };
    int st = sx_http (&f->scrub[i], "POST", "/v1/scrub", SX_TOKEN, "application/json", body, &r);
    json_t *o = st == 200 ? json_loads (r.body, 0, NULL) : NULL;
    const char *d = json_string_value (json_object_get (json_array_get (json_object_get (o, "results"), 0), "decision"));
    snprintf (out, size, "%s", d ? d : "?");
    json_decref (o);
    pl_test_http_resp_free (&r);
    return st;
}

#endif
