/*  main.c — plateau-intake: the door for CRMs.
 *
 *  Wiring only: reads the configuration, builds the HTTP API (api.c) on its own port, the bus
 *  door for native Lead submissions (door.c), and the bus clients that deliver what the store
 *  wrote into this replica's outboxes (LeadSubmitted to scrub, audit events). See README.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "door.h"
#include "store.h"
#include "plateau/error.h"
#include "plateau/http.h"
#include "plateau/service.h"

typedef struct {
    intake_store_t *store;
    pl_metric_t *backlog;
    intake_campaigns_t *campaigns;
    pl_service_t *svc;
} s_main_t;

/* The campaigns defined over the API, when the registry moved. */
static int
s_campaigns (pl_loop_t *loop, void *arg)
{
    (void) loop;
    s_main_t *m = arg;
    if (intake_campaigns_registry_poll (m->campaigns, pl_service_redis (m->svc), pl_service_log (m->svc)) != 0)
        pl_log_warn (pl_service_log (m->svc), NULL, "campaign registry unreadable", "error", "redis");
    return 0;
}

/* What this replica still owes scrub and the audit, for the backlog gauge. */
static int
s_backlog (pl_loop_t *loop, void *arg)
{
    (void) loop;
    s_main_t *m = arg;
    long long scrub = intake_store_owed (m->store, "scrub"), audit = intake_store_owed (m->store, "audit");
    if (scrub >= 0)
        pl_metric_set (m->backlog, "scrub", (double) scrub);
    if (audit >= 0)
        pl_metric_set (m->backlog, "audit", (double) audit);
    return 0;
}

int
main (void)
{
    pl_loop_block_signals ();
    pl_service_t *svc = pl_service_new ("intake");
    pl_ops_add_gate (pl_service_ops (svc), "http", "HTTP API");      /* /readyz waits for it */
    pl_config_t *cfg = pl_service_config (svc);
    const char *redis_url = pl_config_str (cfg, "PLATEAU_REDIS_URL", NULL);
    const char *http_addr = pl_config_str (cfg, "PLATEAU_INTAKE_HTTP_ADDR", "0.0.0.0");
    int http_port = (int) pl_config_int (cfg, "PLATEAU_INTAKE_HTTP_PORT", 8080, 0, 65535);
    const char *tokens_text = pl_config_secret_file (cfg, "PLATEAU_API_TOKENS_FILE", true);
    const char *signing = pl_config_secret_file (cfg, "PLATEAU_INTAKE_SIGNING_KEYS_FILE", false);
    intake_api_opts_t o = {
        .redis_url = redis_url,
        .replica = pl_service_replica (svc),
        .service = pl_service_name (svc),
        .clock = pl_service_clock (svc),
        .metrics = pl_service_metrics (svc),
        .log = pl_service_log (svc),
        .dedupe_window_ms = pl_config_duration_ms (cfg, "PLATEAU_INTAKE_DEDUPE_WINDOW", 30LL * 86400 * 1000),
        .max_batch = (size_t) pl_config_int (cfg, "PLATEAU_INTAKE_MAX_BATCH", 10000, 1, 1000000),
        .max_json_body = (size_t) pl_config_size (cfg, "PLATEAU_INTAKE_MAX_JSON_BODY", 16LL << 20),
        .batch_size = (size_t) pl_config_int (cfg, "PLATEAU_INTAKE_PIPELINE", 256, 1, 10000),
        .idempotency_ttl_ms = pl_config_duration_ms (cfg, "PLATEAU_INTAKE_IDEMPOTENCY_TTL", 24LL * 3600 * 1000),
        .idempotency_lease_ms = pl_config_duration_ms (cfg, "PLATEAU_INTAKE_IDEMPOTENCY_LEASE", 10 * 1000),
        .idempotency_max_answer = (size_t) pl_config_size (cfg, "PLATEAU_INTAKE_IDEMPOTENCY_MAX_ANSWER", 8LL << 20),
        .signing_keys = signing,
        .spool_budget = (size_t) pl_config_size (cfg, "PLATEAU_INTAKE_SPOOL_BUDGET", 2LL << 30),
        .default_country = pl_config_str (cfg, "PLATEAU_INTAKE_DEFAULT_COUNTRY", NULL),
        .reject_unknown = pl_config_bool (cfg, "PLATEAU_INTAKE_REJECT_UNKNOWN_FIELDS", false),
        .readers = pl_config_str (cfg, "PLATEAU_INTAKE_READERS", NULL),
        .audit_rejects_per_request = (size_t) pl_config_int (cfg, "PLATEAU_INTAKE_AUDIT_REJECTS_PER_REQUEST", 1000, 1,
                                                             1000000000),
    };
    const char *sources = pl_config_str (cfg, "PLATEAU_INTAKE_SOURCES", NULL);
    size_t max_body = (size_t) pl_config_size (cfg, "PLATEAU_INTAKE_MAX_BODY", 4LL << 30);
    unsigned conns = (unsigned) pl_config_int (cfg, "PLATEAU_INTAKE_HTTP_CONNECTIONS", 64, 1, 4096);
    /* On whose behalf each campaign's leads come, and for which kind of calls (audit events). */
    const char *campaigns_dir = pl_config_str (cfg, "PLATEAU_CAMPAIGNS_DIR", NULL);
    const char *tenant = pl_config_str (cfg, "PLATEAU_INTAKE_TENANT", NULL);
    char cerr[512] = "";
    intake_campaigns_t *campaigns = intake_campaigns_new (campaigns_dir, tenant, cerr, sizeof cerr);
    if (!campaigns)
        pl_config_fail (cfg, "PLATEAU_CAMPAIGNS_DIR", "readable campaign files, each with [campaign] profile "
                        "(*-cc or *-dc) and tenant", cerr);
    o.campaigns = campaigns;

    pl_http_tokens_t *tokens = pl_http_tokens_new ();
    if (tokens_text && pl_http_tokens_parse (tokens, tokens_text) < 0)
        pl_config_fail (cfg, "PLATEAU_API_TOKENS_FILE", "lines of source:token (16 bytes or more)", NULL);
    intake_mappings_t *mappings = intake_mappings_new ();
    pl_bus_client_t *scrub = pl_service_connect (svc, "scrub", false);
    pl_bus_client_t *audit = pl_service_connect (svc, "audit", false);
    o.mappings = mappings;
    o.audit = audit != NULL;
    char err[256] = "";
    intake_api_t *api = intake_api_new (&o, err, sizeof err);
    if (!api)
        pl_config_fail (cfg, "PLATEAU_INTAKE_SIGNING_KEYS_FILE", "lines of source:secret (16 bytes or more)", NULL);
    pl_service_config_done (svc);

    pl_http_options_t ho = { .tokens = tokens, .max_connections = conns,
                             .thread_init = intake_api_thread_init,
                             .thread_fini = intake_api_thread_fini, .thread_arg = api,
                             .metrics = pl_service_metrics (svc), .service = "intake" };
    pl_http_t *http = pl_http_new (http_addr, http_port, &ho);
    if (!http || intake_api_routes (api, http, max_body, sources) != 0 || pl_http_start (http) != 0) {
        pl_log_error (pl_service_log (svc), NULL, "cannot start the HTTP API", "error",
                      http ? pl_http_errstr (http) : "no memory");
        return 1;
    }
    pl_ops_open_gate (pl_service_ops (svc), "http");
    char port[16];
    snprintf (port, sizeof port, "%d", pl_http_port (http));
    pl_log_info (pl_service_log (svc), NULL, "HTTP API listening", "port", port);

    intake_door_t *door = intake_door_new (pl_service_redis (svc), pl_service_clock (svc),
                                           pl_service_replica (svc), pl_service_name (svc),
                                           o.dedupe_window_ms, audit != NULL, campaigns,
                                           pl_service_metrics (svc), pl_service_log (svc));
    /* Native leads: from no one until PLATEAU_BUS_ALLOW="Lead=<connector>,…" names the CRM
     * connectors; the lead's source is then the connector's identity. */
    const char *types[] = { "Lead=", NULL };
    if (!door || !pl_service_serve (svc, types, intake_door_handle, door))
        return 2;
    (void) scrub;              /* delivers this replica's scrub outbox from the service loop */
    s_main_t m = { .store = intake_store_new (pl_service_redis (svc), pl_service_clock (svc),
                                              pl_service_name (svc), pl_service_replica (svc), 0) };
    m.backlog = pl_metrics_gauge (pl_service_metrics (svc), "plateau_intake_outbox_backlog",
                                  "Messages this replica stored and the destination has not yet acknowledged",
                                  "destination");
    pl_loop_add_timer (pl_service_loop (svc), 1000, s_backlog, &m);
    m.campaigns = campaigns;
    m.svc = svc;
    s_campaigns (pl_service_loop (svc), &m);
    pl_loop_add_timer (pl_service_loop (svc), 1000, s_campaigns, &m);

    int rc = pl_service_run (svc);
    pl_http_stop (http, 5000);
    pl_http_destroy (&http);
    intake_store_destroy (&m.store);
    intake_door_destroy (&door);
    intake_api_destroy (&api);
    intake_mappings_destroy (&mappings);
    intake_campaigns_destroy (&campaigns);
    pl_http_tokens_destroy (&tokens);
    pl_service_destroy (&svc);
    return rc;
}
