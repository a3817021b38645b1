/*  test_notify_fixture.h — plateau-notify as a process for its tests: a real plateau-audit
 *  (test_audit_service_fixture.h) fed AuditEvents over the bus as the other services would, a
 *  private Redis for notify, notify spawned with its ports and a CURVE key of its own, and a
 *  webhook receiver in the test process (the kit's HTTP server) that verifies each signature
 *  with the kit's verifier and records what it got. Header-only: each test file includes it
 *  once.
 */
#ifndef PL_TEST_NOTIFY_FIXTURE_H
#define PL_TEST_NOTIFY_FIXTURE_H
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include "test_audit_service_fixture.h"
#include "plateau/http.h"

#define NX_TOKEN_A "0123456789abcdef-notify-crm-a"     /* source crm-a */
#define NX_TOKEN_B "0123456789abcdef-notify-crm-b"     /* source crm-b */
#define NX_SECRET "a-webhook-secret-of-at-least-32-bytes!"
#define NX_MAX_GOT 4096

/* What the receiver got: one row per request with a valid signature. */
typedef struct {
    char event_id[48], type[40], lead_id[64], external_id[64], source[32];
} nx_got_t;

typedef struct {
    pl_http_t *http;
    int port;
    pthread_mutex_t mu;
    nx_got_t got[NX_MAX_GOT];
    int n_got;
    atomic_int bad_signatures;
    atomic_int status;              /* what to answer (200, 503, 410…) */
    atomic_int delay_ms;            /* a slow receiver */
    char permanent_type[40];        /* a type answered 410 (a permanent refusal) */
} nx_receiver_t;

typedef struct {
    ax_t *audit;
    pl_test_redis_t *srv;
    char *dir;
    char log[400], tokens[400], audit_token[400], key[400], keys[400];
    int ops_port, http_port;
    pid_t pid;
    nx_receiver_t rx;
} nx_t;

static int
nx_rx_handle (pl_http_req_t *req, void *arg)
{
    nx_receiver_t *rx = arg;
    size_t len = 0;
    const char *body = pl_http_req_body (req, &len);
    /* As a receiver built on the kit checks it: the target as sent, the server's clock and
     * window (pl_http_req_sig_new answers the 401 itself when the header is wrong). */
    pl_http_sig_t *sig = NULL;
    if (pl_http_req_sig_new (req, NX_SECRET, strlen (NX_SECRET), &sig) < 0) {
        atomic_fetch_add (&rx->bad_signatures, 1);
        return 0;                       /* answered 401 by the kit */
    }
    pl_http_sig_update (sig, body, len);
    int rc = pl_http_sig_check (sig);
    pl_http_sig_destroy (&sig);
    if (rc != 0) {
        atomic_fetch_add (&rx->bad_signatures, 1);
        return pl_http_reply_error (req, 401, "signature", "bad signature", NULL);
    }
    int delay = atomic_load (&rx->delay_ms);
    if (delay > 0)
        usleep ((useconds_t) delay * 1000);
    json_t *o = json_loadb (body ? body : "", len, 0, NULL);
    const char *type = json_string_value (json_object_get (o, "type"));
    int status = atomic_load (&rx->status);
    if (status == 200 && type && rx->permanent_type[0] && strcmp (type, rx->permanent_type) == 0)
        status = 410;
    const char *id = json_string_value (json_object_get (o, "id"));
    const char *hid = pl_http_req_header (req, "X-Plateau-Event-Id");
    if (status == 200 && id && hid && strcmp (id, hid) == 0) {
        pthread_mutex_lock (&rx->mu);
        if (rx->n_got < NX_MAX_GOT) {
            nx_got_t *g = &rx->got[rx->n_got++];
            snprintf (g->event_id, sizeof g->event_id, "%s", id);
            snprintf (g->type, sizeof g->type, "%s", type ? type : "");
            snprintf (g->lead_id, sizeof g->lead_id, "%s", json_string_value (json_object_get (o, "lead_id")));
            snprintf (g->external_id, sizeof g->external_id, "%s", json_string_value (json_object_get (o, "external_id")));
            snprintf (g->source, sizeof g->source, "%s", json_string_value (json_object_get (o, "source")));
        }
        pthread_mutex_unlock (&rx->mu);
    }
    json_decref (o);
    if (status == 503)
        pl_http_reply_header (req, "Retry-After", "1");
    return pl_http_reply_json (req, status, "{}");
}

__attribute__ ((unused)) static int
nx_rx_start (nx_receiver_t *rx)
{
    pthread_mutex_init (&rx->mu, NULL);
    atomic_store (&rx->status, 200);
    pl_http_options_t o = { .max_connections = 32 };
    rx->http = pl_http_new ("127.0.0.1", 0, &o);
    if (!rx->http || pl_http_route (rx->http, "POST", "/hooks", nx_rx_handle, rx,
                                    &(pl_http_route_opts_t) { .flags = PL_HTTP_PUBLIC }) != 0
        || pl_http_start (rx->http) != 0)
        return -1;
    rx->port = pl_http_port (rx->http);
    return 0;
}

/* Distinct event ids the receiver got (duplicates after a crash count once). */
__attribute__ ((unused)) static int
nx_rx_distinct (nx_receiver_t *rx)
{
    pthread_mutex_lock (&rx->mu);
    int n = 0;
    for (int i = 0; i < rx->n_got; i++) {
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = strcmp (rx->got[i].event_id, rx->got[j].event_id) == 0;
        n += !seen;
    }
    pthread_mutex_unlock (&rx->mu);
    return n;
}

/* The types the receiver got for lead, in arrival order, duplicates dropped, joined by ','. */
__attribute__ ((unused)) static void
nx_rx_types (nx_receiver_t *rx, const char *lead, char *out, size_t size)
{
    out[0] = '\0';
    pthread_mutex_lock (&rx->mu);
    for (int i = 0; i < rx->n_got; i++) {
        if (strcmp (rx->got[i].lead_id, lead) != 0)
            continue;
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = strcmp (rx->got[i].event_id, rx->got[j].event_id) == 0;
        if (!seen) {
            size_t k = strlen (out);
            snprintf (out + k, size - k, "%s%s", k ? "," : "", rx->got[i].type);
        }
    }
    pthread_mutex_unlock (&rx->mu);
}

/* A notify key of its own (plateauctl keygen) and a key list naming it. */
static int
nx_keys (nx_t *f)
{
    char cmd[1200], line[256] = "";
    snprintf (cmd, sizeof cmd, "'%s' keygen notify --dir '%s'", pl_test_bin ("plateauctl"), f->dir);
    FILE *p = popen (cmd, "r");
    char buf[256];
    while (p && fgets (buf, sizeof buf, p))
        if (strncmp (buf, "notify ", 7) == 0)
            snprintf (line, sizeof line, "%s", buf);
    if (p)
        pclose (p);
    snprintf (f->key, sizeof f->key, "%s/notify.key", f->dir);
    snprintf (f->keys, sizeof f->keys, "%s/keys.list", f->dir);
    FILE *k = fopen (f->keys, "w");
    if (!k || !line[0])
        return -1;
    fputs (line, k);
    fclose (k);
    return 0;
}

__attribute__ ((unused)) static nx_t *
nx_new (void)
{
    nx_t *f = calloc (1, sizeof *f);
    f->audit = ax_new ();
    f->srv = pl_test_redis_start (NULL);
    f->dir = pl_test_tmpdir ("pl-notify");
    if (!f->audit || !f->srv || !f->dir || nx_keys (f) != 0 || nx_rx_start (&f->rx) != 0
        || ax_start (f->audit, NULL) <= 0)
        return NULL;
    ax_connect (f->audit);
    snprintf (f->log, sizeof f->log, "%s/notify.log", f->dir);
    snprintf (f->tokens, sizeof f->tokens, "%s/tokens", f->dir);
    snprintf (f->audit_token, sizeof f->audit_token, "%s/audit-token", f->dir);
    FILE *fp = fopen (f->tokens, "w");
    fprintf (fp, "crm-a:%s\ncrm-b:%s\n", NX_TOKEN_A, NX_TOKEN_B);
    fclose (fp);
    fp = fopen (f->audit_token, "w");
    fprintf (fp, "%s\n", AX_TOKEN_CRM);         /* a reader, not an auditor: no numbers */
    fclose (fp);
    f->ops_port = pl_test_free_port ();
    f->http_port = pl_test_free_port ();
    return f;
}

/* Starts plateau-notify with extra "K=V" entries (NULL-terminated, may be NULL). */
__attribute__ ((unused)) static pid_t
nx_start (nx_t *f, const char *const *extra)
{
    static char env[40][512];
    char *envp[41];
    int k = 0;
    for (int attempt = 0; attempt < 3; attempt++) {
        k = 0;
        if (attempt > 0) {
            f->ops_port = pl_test_free_port ();
            f->http_port = pl_test_free_port ();
        }
        snprintf (env[k++], 512, "PLATEAU_REDIS_URL=%s", pl_test_redis_url (f->srv));
        snprintf (env[k++], 512, "PLATEAU_OPS_PORT=%d", f->ops_port);
        snprintf (env[k++], 512, "PLATEAU_OPS_ADDR=127.0.0.1");
        snprintf (env[k++], 512, "PLATEAU_REPLICA_ID=notify-0");
        snprintf (env[k++], 512, "PLATEAU_CURVE_SECRET_KEY_FILE=%s", f->key);
        snprintf (env[k++], 512, "PLATEAU_BUS_KEYS_FILE=%s", f->keys);
        snprintf (env[k++], 512, "PLATEAU_NOTIFY_HTTP_ADDR=127.0.0.1");
        snprintf (env[k++], 512, "PLATEAU_NOTIFY_HTTP_PORT=%d", f->http_port);
        snprintf (env[k++], 512, "PLATEAU_API_TOKENS_FILE=%s", f->tokens);
        snprintf (env[k++], 512, "PLATEAU_NOTIFY_AUDIT_URL=http://127.0.0.1:%d", f->audit->http_port);
        snprintf (env[k++], 512, "PLATEAU_NOTIFY_AUDIT_TOKEN_FILE=%s", f->audit_token);
        snprintf (env[k++], 512, "PLATEAU_NOTIFY_POLL_INTERVAL=100ms");
        snprintf (env[k++], 512, "PLATEAU_NOTIFY_CHAINS_INTERVAL=500ms");
        snprintf (env[k++], 512, "PLATEAU_NOTIFY_ALLOW_INSECURE_URLS=1");
        snprintf (env[k++], 512, "PLATEAU_NOTIFY_RETRY_BASE=100ms");
        snprintf (env[k++], 512, "PLATEAU_NOTIFY_RETRY_MAX=500ms");
        snprintf (env[k++], 512, "PLATEAU_NOTIFY_TIMEOUT=3s");
        for (int i = 0; extra && extra[i] && k < 40; i++)     /* last: they override the above */
            snprintf (env[k++], 512, "%s", extra[i]);
        for (int i = 0; i < k; i++)
            envp[i] = env[i];
        envp[k] = NULL;
        char *argv[] = { "plateau-notify", NULL };
        f->pid = pl_test_spawn (argv, envp, f->log);
        if (f->pid > 0 && pl_test_wait_started (f->pid, f->log, 15000))
            return f->pid;
        pl_test_stop (f->pid, SIGKILL, 2000);
        f->pid = 0;
    }
    return -1;
}

__attribute__ ((unused)) static void
nx_destroy (nx_t **f_p)
{
    nx_t *f = *f_p;
    if (!f)
        return;
    if (f->pid > 0)
        pl_test_stop (f->pid, SIGKILL, 5000);
    pl_http_destroy (&f->rx.http);
    ax_destroy (&f->audit);
    pl_test_redis_stop (&f->srv);
    if (f->dir && !getenv ("PL_KEEP"))
        pl_test_rmdir (f->dir);
    free (f->dir);
    free (f);
    *f_p = NULL;
}

/* An HTTP request to notify's API as source crm-a or crm-b; status, body in *resp. */
__attribute__ ((unused)) static int
nx_api (nx_t *f, const char *token, const char *method, const char *path, const char *body,
        pl_test_http_resp_t *resp)
{
    char headers[256];
    snprintf (headers, sizeof headers, "Authorization: Bearer %s\r\n%s", token,
              body ? "Content-Type: application/json\r\n" : "");
    return pl_test_http_request (f->http_port, method, path, headers, body, body ? strlen (body) : 0, resp);
}

/* Subscribes crm-a (or token's source) to events at the receiver; the id into id[size]. */
__attribute__ ((unused)) static int
nx_subscribe (nx_t *f, const char *token, const char *events, char *id, size_t size)
{
    char body[1024];
    snprintf (body, sizeof body,
              "{\"url\":\"http://127.0.0.1:%d/hooks\",\"events\":%s,\"secret\":\"%s\",\"description\":\"test\"}",
              f->rx.port, events, NX_SECRET);
    pl_test_http_resp_t resp = { 0 };
    int st = nx_api (f, token, "POST", "/v1/webhooks", body, &resp);
    json_t *o = st == 201 ? json_loads (resp.body, 0, NULL) : NULL;
    snprintf (id, size, "%s", o ? json_string_value (json_object_get (o, "id")) : "");
    json_decref (o);
    pl_test_http_resp_free (&resp);
    return st;
}

/* Sends one AuditEvent of the kinds notify carries, with the typed facts of its type, as the
 * service that emits it would. */
__attribute__ ((unused)) static int
nx_send (nx_t *f, const char *type, const char *lead, int k)
{
    char id[160], attempt[64], ext[64];
    snprintf (id, sizeof id, "%s.%s.%d", lead, type, k);
    snprintf (attempt, sizeof attempt, "D-%s-%d", lead, k);
    snprintf (ext, sizeof ext, "CRM-%s", lead);
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    pl_envelope_init (&env, &ids, "test", f->audit->clock, NULL);
    Plateau__V1__AuditEvent ev;
    pl_audit_event_init (&ev, "test", type, id, pl_clock_now_ms (f->audit->clock));
    ev.lead_id = (char *) lead;
    ev.campaign = "spring";
    ev.number = "+33612345678";
    ev.tenant = "acme";
    ev.zone = "Europe/Paris";
    Plateau__V1__CallFacts call = PLATEAU__V1__CALL_FACTS__INIT;
    Plateau__V1__PromiseFacts promise = PLATEAU__V1__PROMISE_FACTS__INIT;
    if (strcmp (type, "lead.accepted") == 0) {
        ev.source = "crm-a";
        ev.external_id = ext;
        ev.actor = "crm-a";
    } else if (strcmp (type, "call.outcome") == 0) {
        ev.attempt_id = attempt;
        call.result = "answered";
        call.placed_at_ms = ev.at_ms - 30000;
        ev.call = &call;
    } else if (strncmp (type, "promise.", 8) == 0) {
        promise.promise_id = "P-1";
        promise.account_ref = "ACC-1";
        promise.currency = "EUR";
        promise.amount_minor = 10000;
        promise.status = "active";
        ev.promise = &promise;
    }
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_AUDIT_EVENT;
    env.audit_event = &ev;
    pl_envelope_t *p = &env;
    return pl_bus_client_send (f->audit->client, &p, 1);
}

typedef struct {
    nx_t *f;
    int want;
} nx_wait_t;

__attribute__ ((unused)) static bool
nx_got_fn (void *arg)
{
    nx_wait_t *w = arg;
    ax_pump (w->f->audit, 10, false);
    return nx_rx_distinct (&w->f->rx) >= w->want;
}

__attribute__ ((unused)) static bool
nx_ready_fn (void *arg)
{
    nx_t *f = arg;
    return pl_test_http_get (f->ops_port, "/readyz", NULL) == 200;
}
#endif
