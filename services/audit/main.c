/*  main.c — plateau-audit: the tamper-evident record of every decision.
 *
 *  Wiring only: reads the configuration, loads the keys, opens the store (store.h), serves
 *  AuditEvents on the bus through the door (door.c: acks once durable), the HTTP API (api.c)
 *  on its own port, and drives the store from the loop: its eventfd for commit callbacks, a
 *  tick for checkpoints, full-disk retries and metrics, a timer for retention. See README.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "door.h"
#include "plateau/error.h"
#include "plateau/service.h"
#include "plateau/audit_store.h"

typedef struct {
    pl_service_t *svc;
    pl_audit_store_t *store;
    audit_door_t *door;
    int64_t expire_every_ms, next_expire_ms;
    bool retention;
} s_main_t;

static int
s_dispatch (pl_loop_t *loop, void *arg)
{
    s_main_t *m = arg;
    pl_audit_store_dispatch (m->store);
    return 0;
}

static int
s_tick (pl_loop_t *loop, void *arg)
{
    s_main_t *m = arg;
    int64_t now = pl_clock_now_ms (pl_service_clock (m->svc));
    pl_audit_store_tick (m->store, now);
    audit_door_tick (m->door, now, pl_service_draining (m->svc));
    if (m->retention && now >= m->next_expire_ms) {
        size_t removed = 0;
        if (pl_audit_store_expire (m->store, now, &removed) != 0)
            pl_log_warn (pl_service_log (m->svc), NULL, "retention expiry failed", "error",
                         pl_audit_store_errstr (m->store));
        m->next_expire_ms = now + m->expire_every_ms;
    }
    return 0;
}

/* /readyz is false while the store does not write (full disk, failed disk); /healthz stays 200. */
static bool
s_store_ready (void *arg, char *why, size_t why_size)
{
    int state = pl_audit_store_state (arg);
    if (state == 0)
        return true;
    snprintf (why, why_size, "%s", state == PL_ENOSPC ? "disk full: not acknowledging events"
                                                       : "store failed: restart needed");
    return false;
}

/* Loads one key file; with dev_keygen, creates it first when absent (never in production). */
static void
s_key (pl_config_t *cfg, pl_audit_keys_t *keys, const char *var, int kind, bool dev_keygen,
       const char *pub_out)
{
    const char *path = pl_config_str_required (cfg, var, "a key file (64 hex digits)");
    if (!path)
        return;
    if (dev_keygen && access (path, F_OK) != 0)
        kind == 0 ? pl_audit_keys_generate_signing (path, NULL) : pl_audit_keys_generate_secret (path);
    int rc = kind == 0 ? pl_audit_keys_load_signing (keys, path)
           : kind == 1 ? pl_audit_keys_load_pseudonym (keys, path) : pl_audit_keys_load_data (keys, path);
    if (rc != 0)
        pl_config_fail (cfg, var, "a readable file of 64 hex digits", pl_audit_keys_errstr (keys));
    else if (kind == 0 && pub_out)
        pl_audit_keys_write_public (keys, pub_out);
}

int
main (void)
{
    pl_loop_block_signals ();
    pl_service_t *svc = pl_service_new ("audit");
    pl_config_t *cfg = pl_service_config (svc);
    const char *replica = pl_service_replica (svc);
    const char *dir = pl_config_str (cfg, "PLATEAU_AUDIT_DATA_DIR", "/var/lib/plateau/audit");
    bool dev_keygen = pl_config_bool (cfg, "PLATEAU_AUDIT_DEV_KEYGEN", false);
    /* Beside the chains, not in a directory of its own: every directory is a chain. */
    char pub_default[4096];
    snprintf (pub_default, sizeof pub_default, "%s/%s.pub", dir, replica);
    mkdir (dir, 0750);
    const char *pub_out = pl_config_str (cfg, "PLATEAU_AUDIT_PUBLIC_KEY_OUT", pub_default);
    pl_audit_keys_t *keys = pl_audit_keys_new ();
    s_key (cfg, keys, "PLATEAU_AUDIT_SIGNING_KEY_FILE", 0, dev_keygen, pub_out);
    s_key (cfg, keys, "PLATEAU_AUDIT_PSEUDONYM_KEY_FILE", 1, dev_keygen, NULL);
    s_key (cfg, keys, "PLATEAU_AUDIT_DATA_KEY_FILE", 2, dev_keygen, NULL);
    pl_audit_retention_t *retention = pl_audit_retention_new ();
    const char *spec = pl_config_str (cfg, "PLATEAU_AUDIT_RETENTION", NULL);
    if (spec && pl_audit_retention_parse (retention, spec) != 0)
        pl_config_fail (cfg, "PLATEAU_AUDIT_RETENTION", "type=period, …",
                        pl_audit_retention_errstr (retention));

    s_main_t m = { .svc = svc, .retention = !pl_audit_retention_keeps_all (retention) };
    pl_audit_store_config_t sc;
    pl_audit_store_config_defaults (&sc);
    sc.dir = dir;
    sc.chain_id = replica;
    sc.keys = keys;
    sc.retention = retention;
    sc.commit_interval_ms = (int) pl_config_duration_ms (cfg, "PLATEAU_AUDIT_COMMIT_INTERVAL", 5);
    sc.batch_max_bytes = (size_t) pl_config_size (cfg, "PLATEAU_AUDIT_BATCH_MAX", 4LL << 20);
    sc.segment_max_bytes = (size_t) pl_config_size (cfg, "PLATEAU_AUDIT_SEGMENT_MAX", 64LL << 20);
    sc.checkpoint_every = (uint64_t) pl_config_int (cfg, "PLATEAU_AUDIT_CHECKPOINT_EVERY", 10000, 1, INT64_MAX);
    sc.checkpoint_interval_ms = pl_config_duration_ms (cfg, "PLATEAU_AUDIT_CHECKPOINT_INTERVAL", 60000);
    sc.size_cap_bytes = (uint64_t) pl_config_size (cfg, "PLATEAU_AUDIT_SIZE_CAP", 0);
    sc.retry_interval_ms = (int) pl_config_duration_ms (cfg, "PLATEAU_AUDIT_RETRY_INTERVAL", 1000);
    sc.recent_ids = (size_t) pl_config_int (cfg, "PLATEAU_AUDIT_RECENT_IDS", 262144, 1, 1LL << 30);
    sc.index_lag_max = (uint64_t) pl_config_int (cfg, "PLATEAU_AUDIT_INDEX_LAG_MAX", 2097152, 1, INT64_MAX);
    m.expire_every_ms = pl_config_duration_ms (cfg, "PLATEAU_AUDIT_EXPIRE_INTERVAL", 3600000);
    bool claims_on = pl_config_bool (cfg, "PLATEAU_AUDIT_CLAIMS", true);
    int64_t orphan_ms = pl_config_duration_ms (cfg, "PLATEAU_AUDIT_CLAIM_ORPHAN", 600000);
    int64_t claim_keep_ms = pl_config_duration_ms (cfg, "PLATEAU_AUDIT_CLAIM_KEEP", 35LL * 86400000);
    /* PLATEAU_AUDIT_READERS is the former name of the auditor list: both count. */
    char auditors[1024];
    snprintf (auditors, sizeof auditors, "%s,%s", pl_config_str (cfg, "PLATEAU_AUDIT_AUDITORS", ""),
              pl_config_str (cfg, "PLATEAU_AUDIT_READERS", ""));
    audit_api_opts_t ao = {
        .data_dir = dir, .replica = replica, .keys = keys, .clock = pl_service_clock (svc),
        .auditors = auditors,
        .erasers = pl_config_str (cfg, "PLATEAU_AUDIT_ERASERS", ""),
        .trusted_keys = pl_config_str (cfg, "PLATEAU_AUDIT_TRUSTED_KEYS", ""),
        .zoneinfo = pl_config_str (cfg, "PLATEAU_AUDIT_ZONEINFO", NULL),
        .redis_url = pl_config_str (cfg, "PLATEAU_REDIS_URL", NULL),
    };
    const char *http_addr = pl_config_str (cfg, "PLATEAU_AUDIT_HTTP_ADDR", "0.0.0.0");
    int http_port = (int) pl_config_int (cfg, "PLATEAU_AUDIT_HTTP_PORT", 8080, 0, 65535);
    const char *tokens_text = pl_config_secret_file (cfg, "PLATEAU_API_TOKENS_FILE", true);
    pl_http_tokens_t *tokens = pl_http_tokens_new ();
    if (tokens_text && pl_http_tokens_parse (tokens, tokens_text) < 0)
        pl_config_fail (cfg, "PLATEAU_API_TOKENS_FILE", "lines of source:token (16 bytes or more)", NULL);
    int retry_ms = sc.retry_interval_ms;
    pl_service_config_done (svc);

    m.door = audit_door_new (NULL, pl_service_clock (svc), pl_service_metrics (svc),
                             pl_service_log (svc), retry_ms);
    sc.on_commit = audit_door_on_commit;
    sc.on_commit_arg = m.door;
    sc.on_fsync = audit_door_on_fsync;
    sc.on_fsync_arg = m.door;
    m.store = pl_audit_store_new (&sc);
    if (!m.door || !m.store || pl_audit_store_open (m.store) != 0) {
        pl_log_error (pl_service_log (svc), NULL, "cannot open the audit store", "error",
                      m.store ? pl_audit_store_errstr (m.store) : "no memory");
        return 1;
    }
    audit_door_set_store (m.door, m.store);
    audit_claims_t *claims = claims_on ? audit_claims_new (pl_service_redis (svc), replica, orphan_ms,
                                                           claim_keep_ms) : NULL;
    audit_door_set_claims (m.door, claims);
    ao.store = m.store;
    pl_ops_add_check (pl_service_ops (svc), "store", s_store_ready, m.store);

    audit_api_t *api = audit_api_new (&ao);
    pl_http_options_t ho = { .tokens = tokens, .thread_init = audit_api_thread_init,
                             .thread_fini = audit_api_thread_fini, .thread_arg = api,
                             .metrics = pl_service_metrics (svc), .service = "audit" };
    pl_http_t *http = pl_http_new (http_addr, http_port, &ho);
    if (!api || !http || audit_api_routes (api, http) != 0 || pl_http_start (http) != 0) {
        pl_log_error (pl_service_log (svc), NULL, "cannot start the HTTP API", "error",
                      http ? pl_http_errstr (http) : "no memory");
        return 1;
    }
    char port[16];
    snprintf (port, sizeof port, "%d", pl_http_port (http));
    pl_log_info (pl_service_log (svc), NULL, "HTTP API listening", "port", port);

    /* The services that take decisions; a platform team's own service is added with
     * PLATEAU_BUS_ALLOW="AuditEvent=intake,…,their-service". */
    const char *types[] = { "AuditEvent=intake,scrub,dialer,promise,telsim,template", NULL };
    pl_bus_server_t *server = pl_service_serve (svc, types, audit_door_handle, m.door);
    if (!server)
        return 2;
    audit_door_set_server (m.door, server);
    pl_loop_add_fd (pl_service_loop (svc), pl_audit_store_fd (m.store), s_dispatch, &m);
    pl_loop_add_timer (pl_service_loop (svc), 200, s_tick, &m);

    int rc = pl_service_run (svc);
    pl_http_stop (http, 5000);
    pl_http_destroy (&http);
    pl_audit_store_destroy (&m.store);      /* last commits answered while the server lives */
    audit_api_destroy (&api);
    audit_door_destroy (&m.door);
    audit_claims_destroy (&claims);
    pl_service_destroy (&svc);
    pl_http_tokens_destroy (&tokens);
    pl_audit_retention_destroy (&retention);
    pl_audit_keys_destroy (&keys);
    return rc;
}
