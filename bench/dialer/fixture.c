/*  fixture.c — the dialer and its peers as processes, for bench_dialer_steps,
 *  bench_dialer_memory and bench_e2e (see fixture.h).
 */
#include "fixture.h"

#include <stdarg.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "plateau/envelope.h"


/* us-dc, progressive: one line per ready agent, so that N ready agents never bind the pace. */
static const char *s_campaign_text =
    "# US debt collection for the dialer's benchmarks: us-dc needs no registry copy.\n"
    "[campaign]\nprofile = us-dc\ntenant  = collect-us\nname    = Bench\ncli     = +12025550143\n\n"
    "[dialer]\nmode           = progressive\npriority       = 6\norder          = oldest\n"
    "ring-timeout   = 25s\namd            = no\nabandon-target = 3%\nmax-attempts   = 7\n";

double
fx_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

void
fx_loadavg (const char *when)
{
    char buf[128];
    pl_test_loadavg (buf, sizeof buf);
    printf ("load average at %s: %s\n", when, buf);
}

/* 790 exchanges (200-999 without the N11 codes and 555) in five New York City area codes. */
void
fx_number (size_t i, char out[24])
{
    static const unsigned npas[] = { 212, 646, 718, 347, 917 };
    static unsigned exch[790];
    static bool init;
    if (!init) {
        unsigned k = 0;
        for (unsigned e = 200; e < 1000 && k < 790; e++)
            if (e % 100 != 11 && e != 555)
                exch[k++] = e;
        init = true;
    }
    size_t per = 790 * 10000;
    snprintf (out, 24, "+1%u%u%04zu", npas[(i / per) % 5], exch[(i % per) / 10000], i % 10000);
}

void
fx_lead_id (size_t i, char out[40])
{
    snprintf (out, 40, "01KBENCHLEAD%014zu", i);          /* 26 characters, as a ULID */
}

/* ---- a lead as the intake stores it ----------------------------------------------------------- */

typedef struct {
    Plateau__V1__Lead lead;
    Plateau__V1__PhoneNumber phone;
    Plateau__V1__RegionCandidate reg[2], *regp[2];
    Plateau__V1__Debt debt;
    Plateau__V1__Money money;
    Plateau__V1__ScrubVerdict v, *vp[1];
    Plateau__V1__LeadCleared lc;
    char *zones[1];
    char id[40], number[24], raw[24], ext[24], acct[24], trace[40];
    pl_envelope_t env;
    pl_envelope_ids_t ids;
} s_cleared_t;

static void
s_cleared (s_cleared_t *c, size_t i, const pl_clock_t *clock)
{
    memset (c, 0, sizeof *c);
    plateau__v1__lead__init (&c->lead);
    plateau__v1__phone_number__init (&c->phone);
    plateau__v1__debt__init (&c->debt);
    plateau__v1__money__init (&c->money);
    plateau__v1__scrub_verdict__init (&c->v);
    plateau__v1__lead_cleared__init (&c->lc);
    for (int k = 0; k < 2; k++) {
        plateau__v1__region_candidate__init (&c->reg[k]);
        c->regp[k] = &c->reg[k];
    }
    fx_lead_id (i, c->id);
    fx_number (i, c->number);
    snprintf (c->raw, sizeof c->raw, "(%.3s) %.3s-%.4s", c->number + 2, c->number + 5, c->number + 8);
    snprintf (c->ext, sizeof c->ext, "CRM-%08zu", i);
    snprintf (c->acct, sizeof c->acct, "ACC-%010zu", i);
    snprintf (c->trace, sizeof c->trace, "%016llx%016llx", 0x5EEDBEEF00000000ULL + (unsigned long long) i,
              (unsigned long long) i * 0x9E3779B97F4A7C15ULL);
    c->zones[0] = "America/New_York";
    c->phone.e164 = c->number;
    c->phone.type = PLATEAU__V1__PHONE_NUMBER__TYPE__FIXED_LINE_OR_MOBILE;
    c->phone.region = "US";
    c->phone.n_zones = 1;
    c->phone.zones = c->zones;
    c->phone.zone_source = "prefix";
    c->phone.raw = c->raw;
    c->reg[0].region = "US";
    c->reg[0].source = "number";
    c->reg[1].region = "US-NY";
    c->reg[1].source = "address";
    c->phone.n_regions = 2;
    c->phone.regions = c->regp;
    c->money.minor_units = 125000 + (int64_t) (i % 100000);
    c->money.currency = "USD";
    c->debt.account_ref = c->acct;
    c->debt.creditor = "Acme Bank";
    c->debt.balance = &c->money;
    c->lead.id = c->id;
    c->lead.source = "crm";
    c->lead.external_id = c->ext;
    c->lead.campaign = FX_CAMPAIGN;
    c->lead.phone = &c->phone;
    c->lead.country = "US";
    c->lead.first_name = "Jordan";
    c->lead.last_name = "Smith";
    c->lead.address = "350 Fifth Avenue";
    c->lead.postal_code = "10118";
    c->lead.state = "NY";
    c->lead.debt = &c->debt;
    c->lead.received_at_ms = FX_T0 - 3600000;
    c->lead.trace_id = c->trace;
    c->v.request_id = c->id;
    c->v.lead_id = c->id;
    c->v.number = c->number;
    c->v.decision = PLATEAU__V1__DECISION__ALLOW;
    c->vp[0] = &c->v;
    c->lc.lead = &c->lead;
    c->lc.n_verdicts = 1;
    c->lc.verdicts = c->vp;
    pl_envelope_init (&c->env, &c->ids, "scrub", clock, c->trace);
    c->env.body_case = PLATEAU__V1__ENVELOPE__BODY_LEAD_CLEARED;
    c->env.lead_cleared = &c->lc;
}

size_t
fx_lead_size (size_t i)
{
    s_cleared_t *c = malloc (sizeof *c);
    pl_clock_t *clock = pl_clock_new_virtual (FX_T0);
    s_cleared (c, i, clock);
    size_t n = plateau__v1__lead__get_packed_size (&c->lead);
    pl_clock_destroy (&clock);
    free (c);
    return n;
}

/* ---- the stand-ins ---------------------------------------------------------------------------- */

static void
s_on_telephony (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    fx_t *f = arg;
    double now = fx_now ();
    for (size_t i = 0; i < n; i++) {
        const pl_envelope_t *e = pl_bus_msg_envelope (msgs[i]);
        if (e->body_case == PLATEAU__V1__ENVELOPE__BODY_CALL_REQUEST && e->call_request->dial_id) {
            size_t k = 0;
            if (sscanf (e->call_request->dial_id, "01KBENCHLEAD%14zu.", &k) == 1 && k < f->n_leads) {
                if (f->called[k])
                    f->call_dups++;
                else {
                    f->called[k] = 1;
                    if (f->calls++ == 0)
                        f->first_call = now;
                    f->last_call = now;
                }
            }
        }
        pl_bus_msg_ack (msgs[i]);
    }
}

static void
s_ack_all (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    (void) arg;
    for (size_t i = 0; i < n; i++)
        pl_bus_msg_ack (msgs[i]);
}

void
fx_pump (fx_t *f, int wait_ms)
{
    zmq_pollitem_t items[6];
    int n = 0;
    pl_bus_server_t *servers[3] = { f->tel, f->audit, f->scrub_stub };
    for (int i = 0; i < 3; i++)
        if (servers[i])
            items[n++] = (zmq_pollitem_t) { pl_bus_server_socket (servers[i]), 0, ZMQ_POLLIN, 0 };
    pl_bus_client_t *clients[2] = { f->as_scrub, f->as_telsim };
    for (int i = 0; i < 2; i++)
        if (clients[i])
            items[n++] = (zmq_pollitem_t) { pl_bus_client_socket (clients[i]), 0, ZMQ_POLLIN, 0 };
    zmq_poll (items, n, wait_ms);
    for (int i = 0; i < 3; i++)
        if (servers[i])
            while (pl_bus_server_process (servers[i], 1024) > 0) {
            }
    static double last_tick;
    double now = fx_now ();
    bool tick = now - last_tick >= 0.1;
    if (tick)
        last_tick = now;
    for (int i = 0; i < 2; i++)
        if (clients[i]) {
            pl_bus_client_process (clients[i]);
            if (tick)
                pl_bus_client_tick (clients[i]);
        }
}

bool
fx_drain (fx_t *f, int timeout_ms)
{
    double end = fx_now () + timeout_ms / 1e3;
    while (fx_now () < end) {
        if (pl_bus_client_inflight (f->as_scrub) == 0 && pl_bus_client_inflight (f->as_telsim) == 0)
            return true;
        fx_pump (f, 2);
    }
    return false;
}

int
fx_queue_leads (fx_t *f, size_t from, size_t to, size_t batch)
{
    s_cleared_t *cs = calloc (batch, sizeof *cs);
    pl_envelope_t **envs = calloc (batch, sizeof *envs);
    if (!cs || !envs)
        return -1;
    uint64_t dead0 = pl_bus_client_count (f->as_scrub, "dead") + pl_bus_client_count (f->as_scrub, "nacked");
    int rc = 0;
    for (size_t i = from; i < to && rc == 0;) {
        size_t n = 0;
        for (; n < batch && i < to; n++, i++) {
            s_cleared (&cs[n], i, f->clock);
            envs[n] = &cs[n].env;
        }
        if (pl_bus_client_send (f->as_scrub, envs, n) != 0) {
            fprintf (stderr, "bench_dialer: the outbox refused a batch of leads\n");
            rc = -1;
        }
        /* keep a few batches on the wire, not the whole queue in the outbox */
        double stuck = fx_now () + 60;
        while (rc == 0 && pl_bus_client_inflight (f->as_scrub) > 4 * batch && fx_now () < stuck)
            fx_pump (f, 2);
        fx_pump (f, 0);
    }
    if (rc == 0) {
        double stuck = fx_now () + 60;
        size_t left = pl_bus_client_inflight (f->as_scrub);
        while (left && fx_now () < stuck) {
            fx_pump (f, 2);
            size_t l = pl_bus_client_inflight (f->as_scrub);
            if (l < left)
                stuck = fx_now () + 60;
            left = l;
        }
        if (left)
            rc = -1;
    }
    uint64_t dead = pl_bus_client_count (f->as_scrub, "dead") + pl_bus_client_count (f->as_scrub, "nacked") - dead0;
    if (dead) {
        fprintf (stderr, "bench_dialer: the dialer refused %llu LeadCleared\n", (unsigned long long) dead);
        rc = -1;
    }
    free (cs);
    free (envs);
    return rc;
}

int
fx_agents_ready (fx_t *f, size_t from, size_t to, size_t batch)
{
    typedef struct {
        Plateau__V1__AgentState a;
        char id[32];
        char *camps[1];
        pl_envelope_t env;
        pl_envelope_ids_t ids;
    } s_agent_t;
    s_agent_t *as = calloc (batch, sizeof *as);
    pl_envelope_t **envs = calloc (batch, sizeof *envs);
    int rc = as && envs ? 0 : -1;
    for (size_t i = from; i < to && rc == 0;) {
        size_t n = 0;
        for (; n < batch && i < to; n++, i++) {
            s_agent_t *s = &as[n];
            plateau__v1__agent_state__init (&s->a);
            snprintf (s->id, sizeof s->id, "%s-a%06zu", FX_CAMPAIGN, i);
            s->camps[0] = FX_CAMPAIGN;
            s->a.agent_id = s->id;
            s->a.state = PLATEAU__V1__AGENT_STATE__STATE__READY;
            s->a.n_campaigns = 1;
            s->a.campaigns = s->camps;
            s->a.since_ms = FX_T0;
            pl_envelope_init (&s->env, &s->ids, "telsim", f->clock, NULL);
            s->env.body_case = PLATEAU__V1__ENVELOPE__BODY_AGENT_STATE;
            s->env.agent_state = &s->a;
            envs[n] = &s->env;
        }
        if (pl_bus_client_send (f->as_telsim, envs, n) != 0)
            rc = -1;
        fx_pump (f, 0);
    }
    free (as);
    free (envs);
    return rc;
}

/* ---- the processes ---------------------------------------------------------------------------- */

static void
s_tail (const char *path)
{
    char cmd[700];
    snprintf (cmd, sizeof cmd, "tail -n 20 '%s' >&2", path);
    if (system (cmd) != 0)
        fprintf (stderr, "(no log at %s)\n", path);
}

static pid_t
s_spawn (const char *name, char env[][700], int k, const char *log)
{
    char *envp[32];
    for (int i = 0; i < k; i++)
        envp[i] = env[i];
    envp[k] = NULL;
    char argv0[64];
    snprintf (argv0, sizeof argv0, "%s", name);
    char *argv[] = { argv0, NULL };
    pid_t pid = pl_test_spawn (argv, envp, log);
    if (pid > 0 && pl_test_wait_started (pid, log, 20000))
        return pid;
    pl_test_stop (pid, SIGKILL, 2000);
    return -1;
}

/* PLATEAU_CLOCK for every process: the bench's choice, else standing at FX_T0. */
static void
s_clock_env (const fx_t *f, char *out)
{
    if (f->o.clock)
        snprintf (out, 700, "PLATEAU_CLOCK=%s", f->o.clock);
    else
        snprintf (out, 700, "PLATEAU_CLOCK=virtual:%lld", FX_T0);
}

/* The real audit service, as production runs it: every event claimed in Redis, appended to its
 * hash-chained store and acknowledged once fdatasync'd. Development keys, made at first start. */
static int
s_start_audit (fx_t *f)
{
    static char e[24][700];
    char log[600];
    snprintf (log, sizeof log, "%s/audit.log", f->dir);
    for (int attempt = 0; attempt < 3; attempt++) {
        int k = 0;
        f->audit_ops = pl_test_free_port ();
        snprintf (f->audit_bus, sizeof f->audit_bus, "tcp://127.0.0.1:%d", pl_test_free_port ());
        snprintf (e[k++], 700, "PLATEAU_REDIS_URL=%s", pl_test_redis_url (f->srv));
        snprintf (e[k++], 700, "PLATEAU_OPS_ADDR=127.0.0.1");
        snprintf (e[k++], 700, "PLATEAU_OPS_PORT=%d", f->audit_ops);
        s_clock_env (f, e[k++]);
        snprintf (e[k++], 700, "PLATEAU_BUS_BIND=%s", f->audit_bus);
        snprintf (e[k++], 700, "PLATEAU_REPLICA_ID=audit-bench");
        snprintf (e[k++], 700, "PLATEAU_AUDIT_HTTP_ADDR=127.0.0.1");
        snprintf (e[k++], 700, "PLATEAU_AUDIT_HTTP_PORT=%d", pl_test_free_port ());
        snprintf (e[k++], 700, "PLATEAU_API_TOKENS_FILE=%s/tokens", f->dir);
        snprintf (e[k++], 700, "PLATEAU_AUDIT_DATA_DIR=%s/audit", f->dir);
        snprintf (e[k++], 700, "PLATEAU_AUDIT_DEV_KEYGEN=true");
        snprintf (e[k++], 700, "PLATEAU_AUDIT_SIGNING_KEY_FILE=%s/audit-signing.key", f->dir);
        snprintf (e[k++], 700, "PLATEAU_AUDIT_PSEUDONYM_KEY_FILE=%s/audit-pseudonym.key", f->dir);
        snprintf (e[k++], 700, "PLATEAU_AUDIT_DATA_KEY_FILE=%s/audit-data.key", f->dir);
        snprintf (e[k++], 700, "PLATEAU_AUDIT_PUBLIC_KEY_OUT=%s/audit-signing.pub", f->dir);
        snprintf (e[k++], 700, "PLATEAU_AUDIT_AUDITORS=ops");
        if ((f->audit_pid = s_spawn ("plateau-audit", e, k, log)) > 0)
            return 0;
    }
    s_tail (log);
    return -1;
}

/* The intake's HTTP API (token FX_CRM_TOKEN), storing each lead with its LeadSubmitted to scrub. */
static int
s_start_intake (fx_t *f)
{
    static char e[24][700];
    char log[600];
    snprintf (log, sizeof log, "%s/intake.log", f->dir);
    for (int attempt = 0; attempt < 3; attempt++) {
        int k = 0;
        f->intake_ops = pl_test_free_port ();
        f->intake_http = pl_test_free_port ();
        snprintf (f->intake_bus, sizeof f->intake_bus, "tcp://127.0.0.1:%d", pl_test_free_port ());
        snprintf (e[k++], 700, "PLATEAU_REDIS_URL=%s", pl_test_redis_url (f->srv));
        snprintf (e[k++], 700, "PLATEAU_OPS_ADDR=127.0.0.1");
        snprintf (e[k++], 700, "PLATEAU_OPS_PORT=%d", f->intake_ops);
        s_clock_env (f, e[k++]);
        snprintf (e[k++], 700, "PLATEAU_BUS_BIND=%s", f->intake_bus);
        snprintf (e[k++], 700, "PLATEAU_REPLICA_ID=intake-bench");
        snprintf (e[k++], 700, "PLATEAU_INTAKE_HTTP_ADDR=127.0.0.1");
        snprintf (e[k++], 700, "PLATEAU_INTAKE_HTTP_PORT=%d", f->intake_http);
        snprintf (e[k++], 700, "PLATEAU_API_TOKENS_FILE=%s/tokens", f->dir);
        snprintf (e[k++], 700, "PLATEAU_CAMPAIGNS_DIR=%s/campaigns", f->dir);
        snprintf (e[k++], 700, "PLATEAU_INTAKE_DEFAULT_COUNTRY=US");
        snprintf (e[k++], 700, "PLATEAU_SCRUB_BUS=%s", f->scrub_bus);
        if (f->o.audit)
            snprintf (e[k++], 700, "PLATEAU_AUDIT_BUS=%s", f->audit_bus);
        if ((f->intake = s_spawn ("plateau-intake", e, k, log)) > 0)
            return 0;
    }
    s_tail (log);
    return -1;
}

static int
s_start_scrub (fx_t *f)
{
    static char e[24][700];
    char log[600];
    snprintf (log, sizeof log, "%s/scrub.log", f->dir);
    for (int attempt = 0; attempt < 3; attempt++) {
        int k = 0;
        f->scrub_ops = pl_test_free_port ();
        snprintf (f->scrub_bus, sizeof f->scrub_bus, "tcp://127.0.0.1:%d", pl_test_free_port ());
        snprintf (e[k++], 700, "PLATEAU_REDIS_URL=%s", pl_test_redis_url (f->srv));
        snprintf (e[k++], 700, "PLATEAU_OPS_ADDR=127.0.0.1");
        snprintf (e[k++], 700, "PLATEAU_OPS_PORT=%d", f->scrub_ops);
        s_clock_env (f, e[k++]);
        snprintf (e[k++], 700, "PLATEAU_BUS_BIND=%s", f->scrub_bus);
        snprintf (e[k++], 700, "PLATEAU_REPLICA_ID=scrub-bench");
        snprintf (e[k++], 700, "PLATEAU_SCRUB_HTTP_ADDR=127.0.0.1");
        snprintf (e[k++], 700, "PLATEAU_SCRUB_HTTP_PORT=%d", pl_test_free_port ());
        snprintf (e[k++], 700, "PLATEAU_API_TOKENS_FILE=%s/tokens", f->dir);
        snprintf (e[k++], 700, "PLATEAU_SCRUB_CAMPAIGNS_DIR=%s/campaigns", f->dir);
        snprintf (e[k++], 700, "PLATEAU_DIALER_BUS=%s", f->dialer_bus);
        if (f->o.audit)
            snprintf (e[k++], 700, "PLATEAU_AUDIT_BUS=%s", f->audit_bus);
        if ((f->scrub = s_spawn ("plateau-scrub", e, k, log)) > 0)
            return 0;
    }
    s_tail (log);
    return -1;
}

static int
s_start_dialer (fx_t *f)
{
    static char e[24][700];
    char log[600];
    snprintf (log, sizeof log, "%s/dialer.log", f->dir);
    for (int attempt = 0; attempt < 3; attempt++) {
        int k = 0;
        f->dialer_ops = pl_test_free_port ();
        snprintf (e[k++], 700, "PLATEAU_REDIS_URL=%s", pl_test_redis_url (f->srv));
        snprintf (e[k++], 700, "PLATEAU_OPS_ADDR=127.0.0.1");
        snprintf (e[k++], 700, "PLATEAU_OPS_PORT=%d", f->dialer_ops);
        s_clock_env (f, e[k++]);
        snprintf (e[k++], 700, "PLATEAU_REPLICA_ID=dialer-bench");
        snprintf (e[k++], 700, "PLATEAU_BUS_BIND=%s", f->dialer_bus);
        snprintf (e[k++], 700, "PLATEAU_SCRUB_BUS=%s", f->scrub_bus);
        snprintf (e[k++], 700, "PLATEAU_TELEPHONY_BUS=%s", f->tel_bus);
        snprintf (e[k++], 700, "PLATEAU_TELEPHONY_IDENTITY=telsim");
        if (f->o.audit)
            snprintf (e[k++], 700, "PLATEAU_AUDIT_BUS=%s", f->audit_bus);
        snprintf (e[k++], 700, "PLATEAU_CAMPAIGNS_DIR=%s/campaigns", f->dir);
        snprintf (e[k++], 700, "PLATEAU_API_TOKENS_FILE=%s/tokens", f->dir);
        snprintf (e[k++], 700, "PLATEAU_DIALER_HTTP_ADDR=127.0.0.1");
        snprintf (e[k++], 700, "PLATEAU_DIALER_HTTP_PORT=%d", pl_test_free_port ());
        snprintf (e[k++], 700, "PLATEAU_DIALER_BATCH=%d", f->o.batch);
        snprintf (e[k++], 700, "PLATEAU_DIALER_PACE_MS=%d", f->o.pace_ms);
        if ((f->dialer = s_spawn ("plateau-dialer", e, k, log)) > 0)
            return 0;
        /* the bus door's port may have been taken meanwhile: a new one (scrub was told the old) */
    }
    s_tail (log);
    return -1;
}

int
fx_start (fx_t *f, const fx_opts_t *o, size_t n_leads)
{
    memset (f, 0, sizeof *f);
    f->o = *o;
    f->n_leads = n_leads;
    f->called = calloc (n_leads ? n_leads : 1, 1);
    f->srv = pl_test_redis_start ("appendonly no\nsave \"\"\n" PL_TEST_REDIS_TUNING);
    f->dir = pl_test_tmpdir ("pl-bench-dialer");
    if (!f->called || !f->srv || !f->dir) {
        fprintf (stderr, "bench_dialer: no redis-server (or no temporary directory)\n");
        return -1;
    }
    char path[700];
    snprintf (path, sizeof path, "%s/campaigns", f->dir);
    mkdir (path, 0700);
    snprintf (path, sizeof path, "%s/campaigns/%s.campaign", f->dir, FX_CAMPAIGN);
    FILE *fp = fopen (path, "w");
    if (!fp)
        return -1;
    fputs (s_campaign_text, fp);
    fclose (fp);
    snprintf (path, sizeof path, "%s/tokens", f->dir);
    fp = fopen (path, "w");
    if (!fp)
        return -1;
    fprintf (fp, "ops:bench-operator-0123456789abcdef\ncrm:%s\n", FX_CRM_TOKEN);
    fclose (fp);

    snprintf (f->dialer_bus, sizeof f->dialer_bus, "tcp://127.0.0.1:%d", pl_test_free_port ());
    snprintf (f->tel_bus, sizeof f->tel_bus, "tcp://127.0.0.1:%d", pl_test_free_port ());
    snprintf (f->audit_bus, sizeof f->audit_bus, "tcp://127.0.0.1:%d", pl_test_free_port ());
    f->tel = pl_test_bus_server (f->tel_bus, "telsim");
    f->audit = o->audit && !o->real_audit ? pl_test_bus_server (f->audit_bus, "audit") : NULL;
    if (!f->tel || (o->audit && !o->real_audit && !f->audit))
        return -1;
    pl_bus_server_set_handler (f->tel, s_on_telephony, f, NULL);
    if (f->audit)
        pl_bus_server_set_handler (f->audit, s_ack_all, f, NULL);
    /* receivers of audit events first, as the stack starts them */
    if (o->audit && o->real_audit && s_start_audit (f) != 0) {
        fprintf (stderr, "bench_dialer: plateau-audit did not start (from %s)\n", pl_test_bin ("plateau-audit"));
        return -1;
    }
    if (o->scrub) {
        if (s_start_scrub (f) != 0) {
            fprintf (stderr, "bench_dialer: plateau-scrub did not start (from %s)\n", pl_test_bin ("plateau-scrub"));
            return -1;
        }
    } else {
        snprintf (f->scrub_bus, sizeof f->scrub_bus, "tcp://127.0.0.1:%d", pl_test_free_port ());
        f->scrub_stub = pl_test_bus_server (f->scrub_bus, "scrub");
        if (!f->scrub_stub)
            return -1;
        pl_bus_server_set_handler (f->scrub_stub, s_ack_all, f, NULL);
    }
    if (s_start_dialer (f) != 0) {
        fprintf (stderr, "bench_dialer: plateau-dialer did not start (from %s)\n", pl_test_bin ("plateau-dialer"));
        return -1;
    }
    if (o->intake && (!o->scrub || s_start_intake (f) != 0)) {
        fprintf (stderr, "bench_dialer: plateau-intake did not start (from %s)\n", pl_test_bin ("plateau-intake"));
        return -1;
    }
    f->clock = pl_clock_new_virtual (FX_T0);
    long long start = 0, anchor = 0;
    int speed = 0;
    if (o->clock && sscanf (o->clock, "virtual:%lld@%lldx%d", &start, &anchor, &speed) == 3
        && pl_clock_run (f->clock, start, anchor, speed) != 0)
        return -1;
    f->redis = pl_redis_new (pl_test_redis_url (f->srv), 5000);
    char err[256] = "";
    f->as_scrub = pl_bus_client_new (f->redis, f->clock, "bench-scrub", "dialer", f->dialer_bus,
                                     pl_test_bus_options ("scrub"), err, sizeof err);
    f->as_telsim = f->as_scrub ? pl_bus_client_new (f->redis, f->clock, "bench-telsim", "dialer", f->dialer_bus,
                                                    pl_test_bus_options ("telsim"), err, sizeof err)
                               : NULL;
    if (!f->as_scrub || !f->as_telsim) {
        fprintf (stderr, "bench_dialer: bus client: %s\n", err);
        return -1;
    }
    return 0;
}

void
fx_stop (fx_t *f)
{
    pl_bus_client_destroy (&f->as_scrub);
    pl_bus_client_destroy (&f->as_telsim);
    pl_redis_destroy (&f->redis);
    pl_clock_destroy (&f->clock);
    if (f->intake > 0)
        pl_test_stop (f->intake, SIGTERM, 5000);
    if (f->dialer > 0)
        pl_test_stop (f->dialer, SIGTERM, 5000);
    if (f->scrub > 0)
        pl_test_stop (f->scrub, SIGTERM, 5000);
    if (f->audit_pid > 0)
        pl_test_stop (f->audit_pid, SIGTERM, 10000);
    pl_bus_server_destroy (&f->tel);
    pl_bus_server_destroy (&f->audit);
    pl_bus_server_destroy (&f->scrub_stub);
    pl_test_redis_stop (&f->srv);
    if (f->dir) {
        pl_test_rmdir (f->dir);
        free (f->dir);
    }
    free (f->called);
    memset (f, 0, sizeof *f);
}

/* ---- reading figures ---------------------------------------------------------------------------- */

double
fx_metric (int ops_port, const char *prefix)
{
    char *body = NULL;
    if (pl_test_http_get (ops_port, "/metrics", &body) != 200 || !body) {
        free (body);
        return -1;
    }
    double sum = 0;
    size_t pl = strlen (prefix);
    for (char *line = strtok (body, "\n"); line; line = strtok (NULL, "\n"))
        if (strncmp (line, prefix, pl) == 0) {
            char *sp = strrchr (line, ' ');
            if (sp)
                sum += atof (sp + 1);
        }
    free (body);
    return sum;
}

void
fx_print_metrics (int ops_port, const char *prefix)
{
    char *body = NULL;
    if (pl_test_http_get (ops_port, "/metrics", &body) == 200 && body) {
        size_t pl = strlen (prefix);
        for (char *line = strtok (body, "\n"); line; line = strtok (NULL, "\n"))
            if (strncmp (line, prefix, pl) == 0)
                printf ("    %s\n", line);
    }
    free (body);
}

double
fx_info (redisContext *c, const char *section, const char *field)
{
    redisReply *r = redisCommand (c, "INFO %s", section);
    double v = -1;
    if (r && r->type == REDIS_REPLY_STRING) {
        char pat[128];
        snprintf (pat, sizeof pat, "\n%s:", field);
        const char *p = strstr (r->str, pat);
        if (p)
            v = atof (p + strlen (pat));
    }
    if (r)
        freeReplyObject (r);
    return v;
}

double
fx_redis_cpu (redisContext *c)
{
    return fx_info (c, "cpu", "used_cpu_user") + fx_info (c, "cpu", "used_cpu_sys");
}

long long
fx_int (redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    redisReply *r = redisvCommand (c, fmt, ap);
    va_end (ap);
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    if (r)
        freeReplyObject (r);
    return v;
}
