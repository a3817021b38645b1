/*  service.c — common wiring of a plateau service (see service.h). */
#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "plateau/error.h"
#include "plateau/outbox.h"
#include "plateau/service.h"

#define PL_SERVICE_MAX_CLIENTS 16

struct pl_service {
    char *name;
    char replica[128];
    pl_config_t *config;
    pl_log_t *log;
    pl_metrics_t *metrics;
    pl_ops_t *ops;
    pl_redis_t *redis;
    pl_clock_t *clock;
    pl_loop_t *loop;
    pl_bus_options_t bus_options;
    const char *redis_url;
    int ops_port;
    const char *ops_addr;
    int64_t grace_ms;
    pl_bus_server_t *server;
    pl_bus_batch_fn *user_fn;
    void *user_arg;
    pl_bus_client_t *clients[PL_SERVICE_MAX_CLIENTS];
    char *client_names[PL_SERVICE_MAX_CLIENTS];
    size_t nclients;
    bool draining;
    atomic_bool running;       /* the loop has started: everything main() set up is in place */
    int64_t drain_deadline_ms;
    pl_metric_t *m_inflight;
    pl_metric_t *m_outbox_sent;
    pl_metric_t *m_bus_received;
    /* Bus security */
    bool plaintext;
    const char *identity;
    int64_t max_future_ms, max_age_ms;
    pl_metric_t *m_refused, *m_handshake, *m_plaintext;
    uint64_t seen_refused[5];          /* server counts already exported, by s_refusal_reasons */
    uint64_t *seen_handshake;          /* per client */
    int64_t next_refusal_log_ms;
};

/* Refusal reasons: the server's counter names and the metric's label values. */
static const char *const s_refusal_reasons[5][2] = {
    { "refused_handshake", "handshake" },     /* plaintext peer, or CURVE with a wrong key */
    { "refused_key", "unknown_key" },         /* a key that is not in the key list */
    { "refused_forbidden", "forbidden" },     /* an identity sending a type it may not */
    { "refused_stale", "stale" },             /* far outside this clock */
    { "malformed", "malformed" },
};

/* The ops port listens from pl_service_new() on, before main() has opened its other doors (an
 * HTTP API, a bus socket): until the loop runs, the service is not ready. */
static bool
s_running (void *arg, char *why, size_t why_size)
{
    pl_service_t *self = arg;
    if (atomic_load (&self->running))
        return true;
    snprintf (why, why_size, "starting");
    return false;
}

static bool
s_redis_ready (void *arg, char *why, size_t why_size)
{
    pl_service_t *self = arg;
    if (pl_redis_ok (self->redis))
        return true;
    snprintf (why, why_size, "redis unreachable");
    return false;
}

/* CURVE on by default: this service's secret key, the key list, its identity in it. */
static void
s_bus_security (pl_service_t *self)
{
    pl_config_t *c = self->config;
    const char *mode = pl_config_str (c, "PLATEAU_BUS_SECURITY", "curve");
    self->max_future_ms = pl_config_duration_ms (c, "PLATEAU_BUS_MAX_FUTURE", 5 * 60 * 1000);
    self->max_age_ms = pl_config_duration_ms (c, "PLATEAU_BUS_MAX_AGE", 7LL * 24 * 3600 * 1000);
    self->identity = pl_config_str (c, "PLATEAU_BUS_IDENTITY", self->name);
    self->bus_options.dead_ttl_ms = pl_config_duration_ms (c, "PLATEAU_DEAD_LETTER_TTL", PL_OUTBOX_DEAD_TTL_MS);
    if (strcmp (mode, "plaintext") == 0) {
        self->plaintext = true;
        return;
    }
    if (strcmp (mode, "curve") != 0) {
        pl_config_fail (c, "PLATEAU_BUS_SECURITY", "curve (the default) or plaintext", mode);
        return;
    }
    const char *secret = pl_config_str_required (c, "PLATEAU_CURVE_SECRET_KEY_FILE",
                                                 "this service's CURVE secret key file (plateauctl keygen), "
                                                 "or PLATEAU_BUS_SECURITY=plaintext");
    const char *keys = pl_config_str_required (c, "PLATEAU_BUS_KEYS_FILE",
                                               "the key list: '<identity> <public key>' per line");
    if (!secret || !keys)
        return;
    char err[512];
    int rc = pl_bus_keys_check (keys, secret, self->identity, err, sizeof err);
    if (rc != 0) {
        /* Name the variable that is wrong: the file that cannot be read, or the list. */
        bool secret_bad = access (secret, R_OK) != 0 || strstr (err, "CURVE key file") == err;
        pl_config_fail (c, secret_bad ? "PLATEAU_CURVE_SECRET_KEY_FILE" : "PLATEAU_BUS_KEYS_FILE", err,
                        secret_bad ? secret : keys);
        return;
    }
    self->bus_options.curve_secret_key_file = secret;
    self->bus_options.keys_file = keys;
}

pl_service_t *
pl_service_new (const char *name)
{
    /* Before any thread exists (ops port, ZeroMQ I/O): threads inherit the blocked mask, so
     * SIGTERM reaches the loop's signalfd instead of killing the process in another thread. */
    pl_loop_block_signals ();
    pl_service_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->name = strdup (name);
    self->config = pl_config_new ();
    self->log = pl_log_new (name, 1);
    pl_config_t *c = self->config;

    /* The replica id owns this replica's outboxes in Redis, so it must differ between every
     * sender sharing the Redis: by default the service name and the host name, since several
     * services on one host once shared the bare host name and sent each other's messages. */
    char host[64] = "local", fallback[140];
    gethostname (host, sizeof host - 1);
    snprintf (fallback, sizeof fallback, "%s-%s", name, host);
    snprintf (self->replica, sizeof self->replica, "%s", pl_config_str (c, "PLATEAU_REPLICA_ID", fallback));
    self->redis_url = pl_config_str_required (c, "PLATEAU_REDIS_URL",
                                              "redis://[:password@]host:port/db, unix:///path or "
                                              "redis+sentinel://[:password@]host:port[,host:port…]/master[/db]");
    char err[256];
    if (self->redis_url && *self->redis_url && pl_redis_url_check (self->redis_url, err, sizeof err) != 0)
        pl_config_fail (c, "PLATEAU_REDIS_URL", err, self->redis_url);
    /* Every connection of the process, the services' own threads' too, takes it from here. */
    int wait_replicas = (int) pl_config_int (c, "PLATEAU_REDIS_WAIT_REPLICAS", 0, 0, 16);
    int64_t wait_ms = pl_config_duration_ms (c, "PLATEAU_REDIS_WAIT_TIMEOUT", 1000);
    if (wait_ms < 1 || wait_ms > 60000)
        pl_config_fail (c, "PLATEAU_REDIS_WAIT_TIMEOUT", "a duration from 1ms to 60s",
                        pl_config_str (c, "PLATEAU_REDIS_WAIT_TIMEOUT", ""));
    else
        pl_redis_set_default_wait (wait_replicas, (int) wait_ms);
    self->ops_addr = pl_config_str (c, "PLATEAU_OPS_ADDR", "0.0.0.0");
    self->ops_port = (int) pl_config_int (c, "PLATEAU_OPS_PORT", 9100, 0, 65535);
    self->grace_ms = pl_config_duration_ms (c, "PLATEAU_GRACE_PERIOD", 25000);
    const char *level = pl_config_str (c, "PLATEAU_LOG_LEVEL", "info");
    pl_log_level_t lvl;
    if (pl_log_level_parse (level, &lvl) != 0)
        pl_config_fail (c, "PLATEAU_LOG_LEVEL", "debug, info, warn or error", level);
    else
        pl_log_set_level (self->log, lvl);
    const char *clock = pl_config_str (c, "PLATEAU_CLOCK", "real");
    if (strcmp (clock, "real") == 0)
        self->clock = pl_clock_new_real ();
    else if (strncmp (clock, "virtual", 7) == 0 && (clock[7] == '\0' || clock[7] == ':')) {
        /* virtual[:<start UTC ms>[@<anchor wall UTC ms>x<speed>]] */
        char *end = (char *) clock + 7;
        int64_t start = clock[7] == ':' ? strtoll (clock + 8, &end, 10) : pl_clock_now_ms (NULL);
        self->clock = pl_clock_new_virtual (start);
        if (*end == '@') {
            char *x = NULL;
            long long anchor = strtoll (end + 1, &x, 10);
            long speed = x && *x == 'x' ? strtol (x + 1, &end, 10) : 0;
            if (!x || *x != 'x' || *end || pl_clock_run (self->clock, start, anchor, (int) speed) != 0)
                pl_config_fail (c, "PLATEAU_CLOCK",
                                "virtual:<start ms>@<anchor wall ms>x<speed 1..1000000>", clock);
        }
        else if (*end)
            pl_config_fail (c, "PLATEAU_CLOCK", "real or virtual[:<UTC ms>[@<wall ms>x<speed>]]", clock);
    }
    else {
        pl_config_fail (c, "PLATEAU_CLOCK", "real or virtual[:<UTC ms>[@<wall ms>x<speed>]]", clock);
        self->clock = pl_clock_new_real ();
    }
    s_bus_security (self);
    pl_config_check_or_exit (c, name);

    self->metrics = pl_metrics_new ();
    self->redis = pl_redis_new (self->redis_url, 2000);
    self->loop = pl_loop_new ();
    self->ops = pl_ops_new (self->ops_addr, self->ops_port, self->metrics);
    if (!self->ops) {
        char port[16];
        snprintf (port, sizeof port, "%d", self->ops_port);
        pl_config_fail (c, "PLATEAU_OPS_PORT", "a free port to listen on", port);
        pl_config_check_or_exit (c, name);
    }
    pl_ops_add_check (self->ops, "started", s_running, self);
    pl_ops_add_check (self->ops, "redis", s_redis_ready, self);
    self->m_inflight = pl_metrics_gauge (self->metrics, "plateau_bus_inflight_messages",
                                         "Messages sent and not yet acknowledged, by peer", "peer");
    self->m_outbox_sent = pl_metrics_counter (self->metrics, "plateau_bus_sent_total",
                                              "Messages sent (first attempts and resends), by peer and kind", "peer,kind");
    self->m_bus_received = pl_metrics_counter (self->metrics, "plateau_bus_received_total",
                                               "Messages received on this service's bus door, by outcome", "outcome");
    self->m_refused = pl_metrics_counter (self->metrics, "plateau_bus_refused_total",
                                          "Messages and connections refused on the bus door, by reason "
                                          "(handshake, unknown_key, forbidden, stale, malformed)", "reason");
    self->m_handshake = pl_metrics_counter (self->metrics, "plateau_bus_handshake_failures_total",
                                            "CURVE handshakes refused by a peer, by peer", "peer");
    self->m_plaintext = pl_metrics_gauge (self->metrics, "plateau_bus_plaintext",
                                          "1 when the bus runs without CURVE (PLATEAU_BUS_SECURITY=plaintext)", NULL);
    pl_metric_set (self->m_plaintext, NULL, self->plaintext ? 1 : 0);
    if (self->plaintext)
        pl_log_warn (self->log, NULL, "the bus runs in PLAINTEXT (PLATEAU_BUS_SECURITY=plaintext): anyone "
                     "who reaches a bus port is trusted and senders name themselves; never in production");
    for (size_t i = 0; i < 5; i++)
        pl_metric_inc (self->m_refused, s_refusal_reasons[i][1], 0);
    pl_redis_connect (self->redis);
    return self;
}

void
pl_service_destroy (pl_service_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pl_service_t *self = *self_p;
    for (size_t i = 0; i < self->nclients; i++) {
        pl_bus_client_destroy (&self->clients[i]);
        free (self->client_names[i]);
    }
    free (self->seen_handshake);
    pl_bus_server_destroy (&self->server);
    pl_ops_destroy (&self->ops);
    pl_loop_destroy (&self->loop);
    pl_redis_destroy (&self->redis);
    pl_clock_destroy (&self->clock);
    pl_metrics_destroy (&self->metrics);
    pl_log_destroy (&self->log);
    pl_config_destroy (&self->config);
    free (self->name);
    free (self);
    *self_p = NULL;
}

const char *pl_service_name (const pl_service_t *self) { return self->name; }
const char *pl_service_replica (const pl_service_t *self) { return self->replica; }
pl_config_t *pl_service_config (pl_service_t *self) { return self->config; }
pl_log_t *pl_service_log (pl_service_t *self) { return self->log; }
pl_metrics_t *pl_service_metrics (pl_service_t *self) { return self->metrics; }
pl_ops_t *pl_service_ops (pl_service_t *self) { return self->ops; }
pl_redis_t *pl_service_redis (pl_service_t *self) { return self->redis; }
pl_clock_t *pl_service_clock (pl_service_t *self) { return self->clock; }
pl_loop_t *pl_service_loop (pl_service_t *self) { return self->loop; }
bool pl_service_draining (const pl_service_t *self) { return self->draining; }
void pl_service_config_done (pl_service_t *self) { pl_config_check_or_exit (self->config, self->name); }

/* ClockControl is handled here; everything else goes to the service's handler. */
static void
s_dispatch (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    pl_service_t *self = arg;
    pl_metric_inc (self->m_bus_received, "received", (double) n);
    size_t clocks = 0;
    for (size_t i = 0; i < n; i++)
        clocks += pl_bus_msg_envelope (msgs[i])->body_case == PLATEAU__V1__ENVELOPE__BODY_CLOCK_CONTROL;
    if (clocks == 0) {                 /* the usual batch: all of it is the handler's */
        if (self->user_fn)
            self->user_fn (self->user_arg, msgs, n);
        return;
    }
    /* The handler gets the other messages in a list of their own: the server still owns the
     * batch and answers and frees each of its entries, so the batch itself must not be
     * compacted (it would hold one message twice and lose the ClockControl). Out of memory,
     * they are left unanswered: the server nacks them, to be sent again. */
    pl_bus_msg_t **rest = n > clocks ? malloc ((n - clocks) * sizeof *rest) : NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const pl_envelope_t *env = pl_bus_msg_envelope (msgs[i]);
        if (env->body_case != PLATEAU__V1__ENVELOPE__BODY_CLOCK_CONTROL) {
            if (rest)
                rest[k++] = msgs[i];
            continue;
        }
        const Plateau__V1__ClockControl *cc = env->clock_control;
        int rc = PL_EINVAL;
        if (pl_clock_is_virtual (self->clock))
            rc = cc->anchor_real_ms ? pl_clock_run (self->clock, cc->set_ms, cc->anchor_real_ms, cc->speed)
                 : cc->set_ms       ? pl_clock_set (self->clock, cc->set_ms)
                                    : pl_clock_advance (self->clock, cc->advance_ms);
        if (rc == 0) {
            pl_bus_msg_ack (msgs[i]);
            char now[32];
            snprintf (now, sizeof now, "%lld", (long long) pl_clock_now_ms (self->clock));
            pl_log_info (self->log, env->trace_id, "virtual clock moved", "now_ms", now);
        }
        else
            pl_bus_msg_nack (msgs[i], PLATEAU__V1__NACK__CODE__INVALID,
                             pl_clock_is_virtual (self->clock) ? "virtual time never goes backwards"
                                                               : "this service runs on the real clock", 0);
    }
    if (k && self->user_fn)
        self->user_fn (self->user_arg, rest, k);
    free (rest);
}

static int
s_on_server (pl_loop_t *loop, void *arg)
{
    pl_service_t *self = arg;
    /* A few batches at a time, then back to the loop: under a steady stream the timers (resends,
     * acks owed to Redis) and the other sockets must still get their turn; zmq_poll calls again
     * at once while messages wait. After each batch, what its steps emitted leaves now rather
     * than at the next tick: a dialer waits on its verdict. */
    for (int round = 0; round < 4 && pl_bus_server_process (self->server, 512) > 0; round++)
        for (size_t i = 0; i < self->nclients; i++)
            pl_bus_client_pull (self->clients[i]);
    return 0;
}

static bool
s_bus_ready (void *arg, char *why, size_t why_size)
{
    pl_service_t *self = arg;
    if (self->server && !pl_bus_server_paused (self->server))
        return true;
    snprintf (why, why_size, "bus door paused");
    return false;
}

/* PLATEAU_BUS_ALLOW="Type=id,id;Type=*": who may send what, over the service's defaults. */
static void
s_apply_allow (pl_service_t *self, const char *const *types)
{
    const char *allow = pl_config_str (self->config, "PLATEAU_BUS_ALLOW", NULL);
    if (!allow)
        return;
    char *copy = strdup (allow), *save = NULL;
    for (char *rule = strtok_r (copy, ";", &save); rule; rule = strtok_r (NULL, ";", &save)) {
        char *eq = strchr (rule, '=');
        while (isspace ((unsigned char) *rule))
            rule++;
        if (!eq) {
            pl_config_fail (self->config, "PLATEAU_BUS_ALLOW", "Type=identity,identity;Type=* ...", allow);
            break;
        }
        *eq = '\0';
        for (char *e = eq - 1; e >= rule && isspace ((unsigned char) *e); e--)
            *e = '\0';
        bool known = false;
        for (size_t i = 0; types[i] && !known; i++)
            known = strcmp (types[i], rule) == 0;
        if (!known) {
            char why[160];
            snprintf (why, sizeof why, "a type this service receives (not %s)", rule);
            pl_config_fail (self->config, "PLATEAU_BUS_ALLOW", why, allow);
            break;
        }
        pl_bus_server_allow (self->server, rule, eq + 1);
    }
    free (copy);
    pl_service_config_done (self);
}

pl_bus_server_t *
pl_service_serve (pl_service_t *self, const char *const *types, pl_bus_batch_fn *fn, void *arg)
{
    const char *bind = pl_config_str_required (self->config, "PLATEAU_BUS_BIND", "tcp://*:<port>");
    pl_service_config_done (self);
    char err[256];
    self->server = pl_bus_server_new (bind, &self->bus_options, err, sizeof err);
    if (!self->server) {
        pl_config_fail (self->config, "PLATEAU_BUS_BIND", err, bind);
        pl_service_config_done (self);
        return NULL;
    }
    /* "Type=identities": the type, and who may send it unless PLATEAU_BUS_ALLOW says otherwise. */
    char *names[64];
    const char *all[64];
    size_t n = 0;
    for (; types && types[n] && n < 62; n++) {
        const char *eq = strchr (types[n], '=');
        names[n] = eq ? strndup (types[n], (size_t) (eq - types[n])) : strdup (types[n]);
        all[n] = names[n];
        pl_bus_server_allow (self->server, names[n], eq ? eq + 1 : "");
    }
    names[n] = strdup ("ClockControl");
    all[n] = names[n];
    pl_bus_server_allow (self->server, "ClockControl", "plateauctl");
    all[++n] = NULL;
    self->user_fn = fn;
    self->user_arg = arg;
    pl_bus_server_set_handler (self->server, s_dispatch, self, all);
    s_apply_allow (self, all);
    for (size_t i = 0; i < n; i++)
        free (names[i]);
    pl_bus_server_set_window (self->server, self->clock, self->max_future_ms, self->max_age_ms);
    pl_loop_add_socket (self->loop, pl_bus_server_socket (self->server), s_on_server, self);
    pl_ops_add_check (self->ops, "bus", s_bus_ready, self);
    pl_log_info (self->log, NULL, "bus door bound", "endpoint", pl_bus_server_endpoint (self->server));
    return self->server;
}

static int
s_on_client (pl_loop_t *loop, void *arg)
{
    pl_bus_client_process (arg);
    return 0;
}

pl_bus_client_t *
pl_service_connect (pl_service_t *self, const char *peer, bool required)
{
    if (self->nclients == PL_SERVICE_MAX_CLIENTS)
        return NULL;
    char var[128];
    snprintf (var, sizeof var, "PLATEAU_%s_BUS", peer);
    for (char *p = var; *p; p++)
        *p = (char) toupper ((unsigned char) *p);
    const char *endpoint = required ? pl_config_str_required (self->config, var, "tcp://host:port")
                                    : pl_config_str (self->config, var, NULL);
    /* The peer's identity in the key list: its name, unless the role is served by another
     * (the dialer's "telephony" is telsim, or a SIP adapter under its own key). */
    char ivar[140];
    snprintf (ivar, sizeof ivar, "PLATEAU_%s_IDENTITY", peer);
    for (char *p = ivar; *p; p++)
        *p = (char) toupper ((unsigned char) *p);
    const char *identity = pl_config_str (self->config, ivar, peer);
    pl_bus_options_t o = self->bus_options;
    o.server_identity = identity;
    pl_service_config_done (self);
    if (!endpoint)
        return NULL;
    char pub[41], why[512];
    if (!self->plaintext && pl_bus_keys_find (o.keys_file, identity, pub, why, sizeof why) != 0) {
        pl_config_fail (self->config, "PLATEAU_BUS_KEYS_FILE", why, o.keys_file);
        pl_service_config_done (self);
        return NULL;
    }
    char err[256];
    pl_bus_client_t *client = pl_bus_client_new (self->redis, self->clock, self->replica, peer,
                                                 endpoint, &o, err, sizeof err);
    if (!client) {
        pl_config_fail (self->config, var, err, endpoint);
        pl_service_config_done (self);
        return NULL;
    }
    uint64_t *seen = realloc (self->seen_handshake, (self->nclients + 1) * sizeof *seen);
    if (seen) {
        self->seen_handshake = seen;
        seen[self->nclients] = 0;
    }
    self->clients[self->nclients] = client;
    self->client_names[self->nclients++] = strdup (peer);
    pl_loop_add_socket (self->loop, pl_bus_client_socket (client), s_on_client, client);
    return client;
}

static size_t
s_inflight (pl_service_t *self)
{
    size_t n = 0;
    for (size_t i = 0; i < self->nclients; i++)
        n += pl_bus_client_inflight (self->clients[i]);
    return n;
}

/* Exports refusals and failed handshakes as they happen; logs them at most every 10 s. */
static void
s_bus_refusals (pl_service_t *self)
{
    char last[256] = "";
    bool news = false;
    if (self->server) {
        pl_bus_server_last_refusal (self->server, last, sizeof last);
        for (size_t i = 0; i < 5; i++) {
            uint64_t v = pl_bus_server_count (self->server, s_refusal_reasons[i][0]);
            if (v > self->seen_refused[i]) {
                pl_metric_inc (self->m_refused, s_refusal_reasons[i][1], (double) (v - self->seen_refused[i]));
                self->seen_refused[i] = v;
                news = true;
            }
        }
    }
    char peer_news[300] = "";
    for (size_t i = 0; self->seen_handshake && i < self->nclients; i++) {
        uint64_t v = pl_bus_client_count (self->clients[i], "handshake_failed");
        if (v > self->seen_handshake[i]) {
            pl_metric_inc (self->m_handshake, self->client_names[i], (double) (v - self->seen_handshake[i]));
            self->seen_handshake[i] = v;
            snprintf (peer_news, sizeof peer_news, "%s", pl_bus_client_errstr (self->clients[i]));
        }
    }
    int64_t now = pl_clock_mono_ms ();
    if ((!news && !*peer_news) || now < self->next_refusal_log_ms)
        return;
    self->next_refusal_log_ms = now + 10000;
    if (news) {
        char counts[5][24];
        for (size_t i = 0; i < 5; i++)
            snprintf (counts[i], sizeof counts[i], "%llu", (unsigned long long) self->seen_refused[i]);
        pl_log_warn (self->log, NULL, "bus door refused messages or connections (totals; next line in 10 s at most)",
                     "last", last, "handshake", counts[0], "unknown_key", counts[1], "forbidden", counts[2],
                     "stale", counts[3], "malformed", counts[4]);
    }
    if (*peer_news)
        pl_log_warn (self->log, NULL, "a peer refused our CURVE handshake", "error", peer_news);
}

static int
s_on_tick (pl_loop_t *loop, void *arg)
{
    pl_service_t *self = arg;
    s_bus_refusals (self);
    for (size_t i = 0; i < self->nclients; i++) {
        pl_bus_client_tick (self->clients[i]);
        pl_metric_set (self->m_inflight, self->client_names[i],
                       (double) pl_bus_client_inflight (self->clients[i]));
    }
    if (self->draining) {
        if (s_inflight (self) == 0) {
            pl_log_info (self->log, NULL, "drained: nothing in flight, exiting");
            return -1;
        }
        if (pl_clock_mono_ms () >= self->drain_deadline_ms) {
            char n[32];
            snprintf (n, sizeof n, "%zu", s_inflight (self));
            pl_log_warn (self->log, NULL, "grace period over: exiting with messages in flight "
                         "(they stay in the outbox and are resent on restart)", "inflight", n);
            return -1;
        }
    }
    return 0;
}

/* Readiness follows Redis even when the service is idle. */
static int
s_on_ping (pl_loop_t *loop, void *arg)
{
    pl_service_t *self = arg;
    bool was = pl_redis_ok (self->redis);
    pl_redis_ping (self->redis);
    bool now = pl_redis_ok (self->redis);
    if (was != now) {
        if (now)
            pl_log_info (self->log, NULL, "redis reachable again");
        else
            pl_log_error (self->log, NULL, "redis unreachable", "error", pl_redis_errstr (self->redis));
    }
    return 0;
}

static int
s_on_signal (pl_loop_t *loop, void *arg)
{
    pl_service_t *self = arg;
    if (self->draining)
        return 0;
    self->draining = true;
    self->drain_deadline_ms = pl_clock_mono_ms () + self->grace_ms;
    pl_ops_set_draining (self->ops, true);
    if (self->server)
        pl_bus_server_pause (self->server, true);
    char g[32];
    snprintf (g, sizeof g, "%lld", (long long) self->grace_ms);
    pl_log_info (self->log, NULL, "SIGTERM: draining", "grace_ms", g);
    return 0;
}

int
pl_service_run (pl_service_t *self)
{
    pl_loop_on_signal (self->loop, s_on_signal, self);
    pl_loop_add_timer (self->loop, 50, s_on_tick, self);
    pl_loop_add_timer (self->loop, 1000, s_on_ping, self);
    char port[16];
    snprintf (port, sizeof port, "%d", pl_ops_port (self->ops));
    char pid[16];
    snprintf (pid, sizeof pid, "%d", (int) getpid ());
    pl_log_info (self->log, NULL, "started", "replica", self->replica, "ops_port", port, "pid", pid);
    atomic_store (&self->running, true);
    pl_loop_run (self->loop);
    pl_log_info (self->log, NULL, "stopped");
    return 0;
}
