/*  main.c — plateau-scrub: may this number be called at all?
 *
 *  Wiring only: reads the configuration, builds the rules engine's world (campaigns.c), the lists
 *  in force (catalog.c), the bus door for LeadSubmitted, ScrubRequest, DialCheck and OptOutRequest
 *  (door.c, dial.c), the HTTP API (api.c), and the bus clients that deliver what the steps wrote
 *  into this replica's outboxes (verdicts to the dialer, audit events). See README.md.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "catalog.h"
#include "campaigns.h"
#include "door.h"
#include "plateau/http.h"
#include "plateau/service.h"

typedef struct {
    pl_service_t *svc;
    scrub_campaigns_t *campaigns;
    scrub_catalog_t *catalog;
    pl_metric_t *stale, *age;
    char last_err[256];
    pthread_mutex_t mu;           /* guards stale_text: written by the loop, read by /readyz */
    char stale_text[512];         /* "us-dnc: copy of 2026-10-01, 64 days old, legal age 31 days" */
} s_main_t;

/* Every second: the versions other replicas loaded, how old each copy is, and the campaigns
 * defined over the API. */
static int
s_tick (pl_loop_t *loop, void *arg)
{
    (void) loop;
    s_main_t *m = arg;
    if (scrub_campaigns_registry_poll (m->campaigns, pl_service_redis (m->svc), pl_service_log (m->svc)) != 0)
        pl_log_warn (pl_service_log (m->svc), NULL, "campaign registry unreadable", "error", "redis");
    char err[256] = "";
    if (scrub_catalog_sync (m->catalog, pl_service_redis (m->svc), err, sizeof err) != 0
        && strcmp (err, m->last_err) != 0)
        pl_log_warn (pl_service_log (m->svc), NULL, "list versions not synced", "error", err);
    snprintf (m->last_err, sizeof m->last_err, "%s", err);
    scrub_list_info_t info[64];
    size_t n = scrub_catalog_list (m->catalog, info, 64);
    int64_t now = pl_clock_now_ms (pl_service_clock (m->svc));
    char text[512] = "";
    for (size_t i = 0; i < n && i < 64; i++) {
        int64_t max = scrub_campaigns_max_age_ms (m->campaigns, info[i].name);
        int64_t age = now - info[i].as_of_ms;
        int64_t days;
        bool stale = scrub_campaigns_stale (info[i].as_of_ms, max, now, &days);
        pl_metric_set (m->age, info[i].name, (double) age / 1000.0);
        pl_metric_set (m->stale, info[i].name, stale ? 1 : 0);
        size_t u = strlen (text);
        if (stale && u < sizeof text - 1) {
            int w = snprintf (text + u, sizeof text - u, "%s%.32s: copy of %.10s, %d days old, legal age %d days",
                              u ? "; " : "", info[i].name, info[i].copy_date, (int) days, (int) (max / 86400000));
            if (w < 0 || (size_t) w >= sizeof text - u)
                break;
        }
    }
    pthread_mutex_lock (&m->mu);
    snprintf (m->stale_text, sizeof m->stale_text, "%s", text);
    pthread_mutex_unlock (&m->mu);
    return 0;
}

/* /readyz lists stale copies as a warning: the replica stays in service, since its other
 * answers are right and the stale list's numbers are denied by the rules, not called. */
static bool
s_lists_fresh (void *arg, char *why, size_t why_size)
{
    s_main_t *m = arg;
    pthread_mutex_lock (&m->mu);
    bool fresh = m->stale_text[0] == '\0';
    if (!fresh)
        snprintf (why, why_size, "stale, their numbers are denied until a fresh copy is loaded: %s", m->stale_text);
    pthread_mutex_unlock (&m->mu);
    return fresh;
}

int
main (void)
{
    pl_loop_block_signals ();
    pl_service_t *svc = pl_service_new ("scrub");
    pl_ops_add_gate (pl_service_ops (svc), "http", "HTTP API");      /* /readyz waits for it */
    pl_config_t *cfg = pl_service_config (svc);
    const char *profiles = pl_config_str (cfg, "PLATEAU_RULES_PROFILES_DIR", SCRUB_PROFILES_DEFAULT);
    const char *zoneinfo = pl_config_str (cfg, "PLATEAU_ZONEINFO_DIR", NULL);
    const char *campaigns_dir = pl_config_str (cfg, "PLATEAU_SCRUB_CAMPAIGNS_DIR", NULL);
    const char *tenant = pl_config_str (cfg, "PLATEAU_SCRUB_TENANT", "default");
    const char *http_addr = pl_config_str (cfg, "PLATEAU_SCRUB_HTTP_ADDR", "0.0.0.0");
    int http_port = (int) pl_config_int (cfg, "PLATEAU_SCRUB_HTTP_PORT", 8080, 0, 65535);
    unsigned conns = (unsigned) pl_config_int (cfg, "PLATEAU_SCRUB_HTTP_CONNECTIONS", 64, 1, 4096);
    const char *tokens_text = pl_config_secret_file (cfg, "PLATEAU_API_TOKENS_FILE", true);
    scrub_api_opts_t o = {
        .redis_url = pl_config_str (cfg, "PLATEAU_REDIS_URL", NULL),
        .service = pl_service_name (svc),
        .replica = pl_service_replica (svc),
        .clock = pl_service_clock (svc),
        .log = pl_service_log (svc),
        .metrics = pl_service_metrics (svc),
        .sources = pl_config_str (cfg, "PLATEAU_SCRUB_SOURCES", NULL),
        .operators = pl_config_str (cfg, "PLATEAU_SCRUB_OPERATORS", NULL),
        .source_tenants = pl_config_str (cfg, "PLATEAU_SCRUB_SOURCE_TENANTS", NULL),
        .default_tenant = tenant,
        .default_country = pl_config_str (cfg, "PLATEAU_SCRUB_DEFAULT_COUNTRY", NULL),
        .max_list_body = (size_t) pl_config_size (cfg, "PLATEAU_SCRUB_MAX_LIST_BODY", 8LL << 30),
    };
    const char *lists_dir = pl_config_str (cfg, "PLATEAU_SCRUB_LISTS_DIR", NULL);
    /* In force plus one to roll back to; ten minutes is far beyond a replica's one-second swap. */
    int lists_keep = (int) pl_config_int (cfg, "PLATEAU_SCRUB_LISTS_KEEP", 2, 1, 1000);
    int64_t lists_grace = pl_config_duration_ms (cfg, "PLATEAU_SCRUB_LISTS_GRACE", 10 * 60000);
    if (lists_dir && mkdir (lists_dir, 0700) != 0 && errno != EEXIST)
        pl_config_fail (cfg, "PLATEAU_SCRUB_LISTS_DIR", "a directory scrub can write", lists_dir);
    pl_http_tokens_t *tokens = pl_http_tokens_new ();
    if (tokens_text && pl_http_tokens_parse (tokens, tokens_text) < 0)
        pl_config_fail (cfg, "PLATEAU_API_TOKENS_FILE", "lines of source:token (16 bytes or more)", NULL);
    char err[512] = "";
    scrub_campaigns_t *campaigns = scrub_campaigns_new (profiles, zoneinfo, campaigns_dir, tenant, err, sizeof err);
    if (!campaigns)
        pl_config_fail (cfg, campaigns_dir && strstr (err, campaigns_dir) ? "PLATEAU_SCRUB_CAMPAIGNS_DIR"
                                                                          : "PLATEAU_RULES_PROFILES_DIR",
                        "readable jurisdiction profiles and campaigns", err);
    pl_bus_client_t *dialer = pl_service_connect (svc, "dialer", false);
    pl_bus_client_t *audit = pl_service_connect (svc, "audit", false);
    pl_service_config_done (svc);
    (void) dialer;             /* delivers this replica's dialer outbox from the service loop */

    static s_main_t m;            /* static: /readyz reads it from the ops thread until exit */
    m = (s_main_t) { .svc = svc, .campaigns = campaigns, .catalog = scrub_catalog_new (lists_dir) };
    pthread_mutex_init (&m.mu, NULL);
    if (m.catalog)
        scrub_catalog_retain (m.catalog, lists_keep, lists_grace, pl_service_metrics (svc), pl_service_log (svc));
    pl_ops_add_warning (pl_service_ops (svc), "lists", s_lists_fresh, &m);
    o.campaigns = campaigns;
    o.catalog = m.catalog;
    o.audit = audit != NULL;
    o.lists_dir = lists_dir;
    m.stale = pl_metrics_gauge (pl_service_metrics (svc), "plateau_scrub_list_stale",
                                "1 when the copy in force is older than its legal age (the rules deny its numbers)",
                                "list");
    m.age = pl_metrics_gauge (pl_service_metrics (svc), "plateau_scrub_list_age_seconds",
                              "Age of the copy in force, from the date it was taken", "list");
    scrub_api_t *api = m.catalog ? scrub_api_new (&o) : NULL;
    scrub_door_t *door = m.catalog ? scrub_door_new (pl_service_redis (svc), pl_service_clock (svc),
                                                     pl_service_name (svc), pl_service_replica (svc), campaigns,
                                                     m.catalog, audit != NULL, pl_service_metrics (svc),
                                                     pl_service_log (svc)) : NULL;
    pl_http_options_t ho = { .tokens = tokens, .max_connections = conns, .clock = pl_service_clock (svc),
                             .thread_init = scrub_api_thread_init, .thread_fini = scrub_api_thread_fini,
                             .thread_arg = api, .metrics = pl_service_metrics (svc), .service = "scrub" };
    pl_http_t *http = api ? pl_http_new (http_addr, http_port, &ho) : NULL;
    if (!http || scrub_api_routes (api, http) != 0 || pl_http_start (http) != 0) {
        pl_log_error (pl_service_log (svc), NULL, "cannot start the HTTP API", "error",
                      http ? pl_http_errstr (http) : "no memory");
        return 1;
    }
    pl_ops_open_gate (pl_service_ops (svc), "http");
    char port[16];
    snprintf (port, sizeof port, "%d", pl_http_port (http));
    pl_log_info (pl_service_log (svc), NULL, "HTTP API listening", "port", port);

    /* Leads from the intake; dial-time checks from the dialer. */
    const char *types[] = { "LeadSubmitted=intake", "ScrubRequest=dialer", "DialCheck=dialer",
                            "OptOutRequest=dialer", NULL };
    if (!door || !pl_service_serve (svc, types, scrub_door_handle, door))
        return 2;
    s_tick (pl_service_loop (svc), &m);
    pl_loop_add_timer (pl_service_loop (svc), 1000, s_tick, &m);

    int rc = pl_service_run (svc);
    pl_http_stop (http, 5000);
    pl_http_destroy (&http);
    scrub_door_destroy (&door);
    scrub_api_destroy (&api);
    scrub_catalog_destroy (&m.catalog);
    scrub_campaigns_destroy (&campaigns);
    pl_http_tokens_destroy (&tokens);
    pl_service_destroy (&svc);
    return rc;
}
