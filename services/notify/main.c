/*  main.c — plateau-notify: webhooks back to the CRM.
 *
 *  Wiring only: reads the configuration, builds the store (store.c), the follower of the
 *  audit's export (follower.c), the libcurl delivery loop (deliver.c) and the subscriptions API
 *  (api.c), and runs them on the service's loop (worker.c). No bus door: notify reads what the
 *  other services already record in the audit, and no other service knows it exists. See
 *  README.md and ADR 0064.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "deliver.h"
#include "follower.h"
#include "policy.h"
#include "store.h"
#include "worker.h"
#include "plateau/http.h"
#include "plateau/service.h"

int
main (void)
{
    pl_loop_block_signals ();
    pl_service_t *svc = pl_service_new ("notify");
    pl_ops_add_gate (pl_service_ops (svc), "http", "HTTP API");
    pl_config_t *cfg = pl_service_config (svc);
    const char *http_addr = pl_config_str (cfg, "PLATEAU_NOTIFY_HTTP_ADDR", "0.0.0.0");
    int http_port = (int) pl_config_int (cfg, "PLATEAU_NOTIFY_HTTP_PORT", 8080, 0, 65535);
    unsigned conns = (unsigned) pl_config_int (cfg, "PLATEAU_NOTIFY_HTTP_CONNECTIONS", 32, 1, 4096);
    const char *tokens_text = pl_config_secret_file (cfg, "PLATEAU_API_TOKENS_FILE", true);
    const char *audit_url = pl_config_str_required (cfg, "PLATEAU_NOTIFY_AUDIT_URL", "http://host:port of the audit's HTTP API");
    const char *audit_token = pl_config_secret_file (cfg, "PLATEAU_NOTIFY_AUDIT_TOKEN_FILE", true);
    notify_follower_opts_t fo = {
        .audit_url = audit_url,
        .token = audit_token,
        .chains = pl_config_str (cfg, "PLATEAU_NOTIFY_AUDIT_CHAINS", NULL),
        .discover_ms = pl_config_duration_ms (cfg, "PLATEAU_NOTIFY_CHAINS_INTERVAL", 5 * 60 * 1000),
        .page = (int) pl_config_int (cfg, "PLATEAU_NOTIFY_PAGE", 500, 1, 1000),
        .timeout_ms = (int) pl_config_duration_ms (cfg, "PLATEAU_NOTIFY_AUDIT_TIMEOUT", 5000),
        .lead_ttl_s = pl_config_duration_ms (cfg, "PLATEAU_NOTIFY_LEAD_TTL", 400LL * 86400 * 1000) / 1000,
        .wait_ms = pl_config_duration_ms (cfg, "PLATEAU_NOTIFY_LEAD_WAIT", 10 * 60 * 1000),
        .clock = pl_service_clock (svc), .log = pl_service_log (svc), .metrics = pl_service_metrics (svc),
    };
    int poll_ms = (int) pl_config_duration_ms (cfg, "PLATEAU_NOTIFY_POLL_INTERVAL", 1000);
    notify_deliver_opts_t dopt = {
        .clock = pl_service_clock (svc), .log = pl_service_log (svc), .metrics = pl_service_metrics (svc),
        .timeout_ms = (int) pl_config_duration_ms (cfg, "PLATEAU_NOTIFY_TIMEOUT", 10000),
        .max_per_endpoint = (int) pl_config_int (cfg, "PLATEAU_NOTIFY_MAX_PER_ENDPOINT", 4, 1, 64),
        .max_in_flight = (int) pl_config_int (cfg, "PLATEAU_NOTIFY_MAX_IN_FLIGHT", 64, 1, 1024),
        .max_attempts = (int) pl_config_int (cfg, "PLATEAU_NOTIFY_MAX_ATTEMPTS", 10, 1, 1000),
        .backoff_base_ms = pl_config_duration_ms (cfg, "PLATEAU_NOTIFY_RETRY_BASE", 1000),
        .backoff_cap_ms = pl_config_duration_ms (cfg, "PLATEAU_NOTIFY_RETRY_MAX", 3600 * 1000),
        .pause_after = (int) pl_config_int (cfg, "PLATEAU_NOTIFY_PAUSE_AFTER", 20, 1, 100000),
        .probe_ms = pl_config_duration_ms (cfg, "PLATEAU_NOTIFY_PROBE_INTERVAL", 5 * 60 * 1000),
        .allow_insecure = pl_config_bool (cfg, "PLATEAU_NOTIFY_ALLOW_INSECURE_URLS", false),
    };
    notify_api_opts_t ao = {
        .redis_url = pl_config_str (cfg, "PLATEAU_REDIS_URL", NULL), .replica = pl_service_replica (svc),
        .clock = pl_service_clock (svc), .allow_insecure = dopt.allow_insecure,
        .max_url = (size_t) pl_config_int (cfg, "PLATEAU_NOTIFY_MAX_URL", 2048, 64, NOTIFY_URL_MAX),
        .max_per_source = (int) pl_config_int (cfg, "PLATEAU_NOTIFY_MAX_SUBSCRIPTIONS", 25, 1, 1000),
    };
    pl_http_tokens_t *tokens = pl_http_tokens_new ();
    if (tokens_text && pl_http_tokens_parse (tokens, tokens_text) < 0)
        pl_config_fail (cfg, "PLATEAU_API_TOKENS_FILE", "lines of source:token (16 bytes or more)", NULL);
    if (audit_url && !notify_follower_urls_ok (audit_url))
        pl_config_fail (cfg, "PLATEAU_NOTIFY_AUDIT_URL", "http://host[:port], one per audit replica (16 at most)",
                        audit_url);
    pl_service_config_done (svc);

    notify_store_t *store = notify_store_new (pl_service_redis (svc), pl_service_replica (svc));
    fo.store = dopt.store = store;
    notify_follower_t *follower = store ? notify_follower_new (&fo) : NULL;
    notify_deliver_t *deliver = store ? notify_deliver_new (&dopt) : NULL;
    notify_api_t *api = notify_api_new (&ao);
    pl_http_options_t ho = { .tokens = tokens, .max_connections = conns, .clock = pl_service_clock (svc),
                             .thread_init = notify_api_thread_init, .thread_fini = notify_api_thread_fini,
                             .thread_arg = api, .metrics = pl_service_metrics (svc), .service = "notify" };
    pl_http_t *http = api ? pl_http_new (http_addr, http_port, &ho) : NULL;
    if (!follower || !deliver || !http || notify_api_routes (api, http) != 0 || pl_http_start (http) != 0) {
        pl_log_error (pl_service_log (svc), NULL, "cannot start", "error", http ? pl_http_errstr (http) : "no memory");
        return 1;
    }
    pl_ops_open_gate (pl_service_ops (svc), "http");
    /* Heads this replica leased before a crash are due again now, not when their leases end. */
    notify_store_release (store, pl_clock_now_ms (pl_service_clock (svc)));
    notify_worker_t *worker = notify_worker_new (svc, follower, deliver, poll_ms);
    int rc = worker ? pl_service_run (svc) : 1;
    pl_http_stop (http, 5000);
    notify_deliver_destroy (&deliver);
    notify_store_release (store, pl_clock_now_ms (pl_service_clock (svc)));
    notify_worker_destroy (&worker);
    pl_http_destroy (&http);
    notify_api_destroy (&api);
    notify_follower_destroy (&follower);
    notify_store_destroy (&store);
    pl_http_tokens_destroy (&tokens);
    pl_service_destroy (&svc);
    return rc;
}
