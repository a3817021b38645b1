/*  main.c — plateau-dialer: every call checked at the instant of dialling, paced inside the
 *  legal abandon budget.
 *
 *  Wiring only: reads the configuration and the campaign files (campaign.c), builds the dialer
 *  (dial.c), serves its bus door and its HTTP API (api.c), takes campaign leases every second,
 *  paces the campaigns it holds every few milliseconds, and voids attempts left unchecked. See
 *  README.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "campaign.h"
#include "dial.h"
#include "plateau/http.h"
#include "plateau/service.h"

int
main (void)
{
    pl_loop_block_signals ();
    pl_service_t *svc = pl_service_new ("dialer");
    pl_ops_add_gate (pl_service_ops (svc), "http", "HTTP API");      /* /readyz waits for it */
    pl_config_t *cfg = pl_service_config (svc);
    const char *profiles = pl_config_str (cfg, "PLATEAU_RULES_PROFILES_DIR", DIALER_PROFILES_DEFAULT);
    const char *zoneinfo = pl_config_str (cfg, "PLATEAU_ZONEINFO_DIR", NULL);
    const char *dir = pl_config_str (cfg, "PLATEAU_CAMPAIGNS_DIR", NULL);
    int pace_ms = (int) pl_config_int (cfg, "PLATEAU_DIALER_PACE_MS", 20, 1, 10000);
    int batch = (int) pl_config_int (cfg, "PLATEAU_DIALER_BATCH", 200, 1, 5000);
    double amd_fp = (double) pl_config_int (cfg, "PLATEAU_DIALER_AMD_FALSE_POSITIVE_PERMILLE", 20, 0, 1000) / 1000.0;
    const char *http_addr = pl_config_str (cfg, "PLATEAU_DIALER_HTTP_ADDR", "0.0.0.0");
    int http_port = (int) pl_config_int (cfg, "PLATEAU_DIALER_HTTP_PORT", 8080, 0, 65535);
    unsigned conns = (unsigned) pl_config_int (cfg, "PLATEAU_DIALER_HTTP_CONNECTIONS", 64, 1, 4096);
    const char *tokens_text = pl_config_secret_file (cfg, "PLATEAU_API_TOKENS_FILE", true);
    pl_http_tokens_t *tokens = pl_http_tokens_new ();
    if (tokens_text && pl_http_tokens_parse (tokens, tokens_text) < 0)
        pl_config_fail (cfg, "PLATEAU_API_TOKENS_FILE", "lines of source:token (16 bytes or more)", NULL);
    char err[512] = "";
    dialer_campaigns_t *campaigns = dialer_campaigns_new (profiles, zoneinfo, dir, err, sizeof err);
    if (!campaigns)
        pl_config_fail (cfg, dir && strstr (err, dir) ? "PLATEAU_CAMPAIGNS_DIR" : "PLATEAU_RULES_PROFILES_DIR",
                        "readable jurisdiction profiles and campaign files", err);
    /* Checks go to scrub and calls to telephony; both are needed to dial at all. */
    pl_bus_client_t *scrub = pl_service_connect (svc, "scrub", true);
    pl_bus_client_t *telephony = pl_service_connect (svc, "telephony", true);
    pl_bus_client_t *audit = pl_service_connect (svc, "audit", false);
    pl_bus_client_t *promise = pl_service_connect (svc, "promise", false);
    pl_service_config_done (svc);
    (void) telephony;
    dialer_opts_t o = {
        .redis = pl_service_redis (svc),
        .clock = pl_service_clock (svc),
        .service = pl_service_name (svc),
        .replica = pl_service_replica (svc),
        .campaigns = campaigns,
        .audit = audit != NULL,
        .promise = promise != NULL,
        .metrics = pl_service_metrics (svc),
        .log = pl_service_log (svc),
        .amd_false_positive = amd_fp,
        .batch = batch,
        .scrub_client = scrub,
    };
    dialer_t *dialer = dialer_new (&o);
    /* The agent desktop and the operators: each HTTP thread builds its own dialer on its own
     * Redis connection (api.h). */
    dialer_api_t *api = dialer_api_new (&(dialer_api_opts_t) {
        .dialer = o, .redis_url = pl_config_str (cfg, "PLATEAU_REDIS_URL", NULL),
        .agents = pl_config_str (cfg, "PLATEAU_DIALER_AGENTS", NULL),
        .readers = pl_config_str (cfg, "PLATEAU_DIALER_READERS", NULL),
        .operators = pl_config_str (cfg, "PLATEAU_DIALER_OPERATORS", NULL) });
    pl_http_options_t ho = { .tokens = tokens, .max_connections = conns, .clock = pl_service_clock (svc),
                             .thread_init = dialer_api_thread_init, .thread_fini = dialer_api_thread_fini,
                             .thread_arg = api, .metrics = pl_service_metrics (svc), .service = "dialer" };
    pl_http_t *http = api ? pl_http_new (http_addr, http_port, &ho) : NULL;
    if (!http || dialer_api_routes (api, http) != 0 || pl_http_start (http) != 0) {
        pl_log_error (pl_service_log (svc), NULL, "cannot start the HTTP API", "error",
                      http ? pl_http_errstr (http) : "no memory");
        return 1;
    }
    pl_ops_open_gate (pl_service_ops (svc), "http");
    /* Cleared leads from scrub, answers to its checks; calls, agents and dispositions from
     * telephony (a real adapter or telsim). */
    const char *types[] = { "LeadCleared=scrub", "LeadSuppressed=scrub", "ScrubVerdict=scrub",
                            "DialCheckResult=scrub", "CallProgress=telephony,telsim",
                            "CallOutcome=telephony,telsim", "AgentState=telephony,telsim",
                            "Disposition=telephony,telsim", "PromiseBroken=promise", "PromiseKept=promise",
                            "PromiseActive=promise", NULL };
    if (!dialer || !pl_service_serve (svc, types, dialer_handle, dialer))
        return 2;
    pl_bus_client_on_dead (scrub, dialer_on_dead_check, dialer);
    /* Campaigns defined over the API join the files', and every definition is audited once. */
    dialer_registry_tick (pl_service_loop (svc), dialer);
    if (dialer_announce (dialer) != 0)
        pl_log_warn (pl_service_log (svc), NULL, "campaign.configured not recorded at start", "error", "redis");
    char n[16];
    snprintf (n, sizeof n, "%zu", dialer_campaigns_count (campaigns));
    pl_log_info (pl_service_log (svc), NULL, "campaigns loaded", "count", n);
    dialer_lease_tick (pl_service_loop (svc), dialer);
    pl_loop_add_timer (pl_service_loop (svc), 1000, dialer_registry_tick, dialer);
    pl_loop_add_timer (pl_service_loop (svc), 1000, dialer_lease_tick, dialer);
    pl_loop_add_timer (pl_service_loop (svc), pace_ms, dialer_pace_tick, dialer);
    pl_loop_add_timer (pl_service_loop (svc), 5000, dialer_recover_tick, dialer);
    int rc = pl_service_run (svc);
    pl_http_stop (http, 5000);
    pl_http_destroy (&http);
    dialer_api_destroy (&api);
    pl_http_tokens_destroy (&tokens);
    dialer_destroy (&dialer);
    dialer_campaigns_destroy (&campaigns);
    pl_service_destroy (&svc);
    return rc;
}
