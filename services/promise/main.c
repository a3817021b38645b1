/*  main.c — plateau-promise: promises to pay, kept or broken the moment it happens.
 *
 *  Wiring only: reads the configuration, builds the promise book (book.c) for the bus door
 *  (PromiseMade from the dialer, PaymentReceived from payment processors' bridges) and the HTTP
 *  API (api.c), and sweeps the deadlines every second on the service's clock. See README.md.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "book.h"
#include "plateau/http.h"
#include "plateau/service.h"

int
main (void)
{
    pl_loop_block_signals ();
    pl_service_t *svc = pl_service_new ("promise");
    pl_ops_add_gate (pl_service_ops (svc), "http", "HTTP API");
    pl_config_t *cfg = pl_service_config (svc);
    const char *zoneinfo = pl_config_str (cfg, "PLATEAU_ZONEINFO_DIR", NULL);
    bool many = pl_config_int (cfg, "PLATEAU_PROMISE_MANY_ACTIVE", 0, 0, 1) == 1;
    int sweep_ms = (int) pl_config_int (cfg, "PLATEAU_PROMISE_SWEEP_MS", 1000, 10, 60000);
    int remind_days = (int) pl_config_int (cfg, "PLATEAU_PROMISE_REMIND_DAYS", 2, 0, 30);
    int retention_days = (int) pl_config_int (cfg, "PLATEAU_PROMISE_RETENTION_DAYS", PROMISE_RETENTION_DAYS, 1, 3650);
    const char *http_addr = pl_config_str (cfg, "PLATEAU_PROMISE_HTTP_ADDR", "0.0.0.0");
    int http_port = (int) pl_config_int (cfg, "PLATEAU_PROMISE_HTTP_PORT", 8080, 0, 65535);
    unsigned conns = (unsigned) pl_config_int (cfg, "PLATEAU_PROMISE_HTTP_CONNECTIONS", 64, 1, 4096);
    const char *payers = pl_config_str (cfg, "PLATEAU_PROMISE_PAYERS", NULL);
    const char *tokens_text = pl_config_secret_file (cfg, "PLATEAU_API_TOKENS_FILE", true);
    const char *signing = pl_config_secret_file (cfg, "PLATEAU_PROMISE_SIGNING_KEYS_FILE", payers && *payers);
    pl_http_tokens_t *tokens = pl_http_tokens_new ();
    if (tokens_text && pl_http_tokens_parse (tokens, tokens_text) < 0)
        pl_config_fail (cfg, "PLATEAU_API_TOKENS_FILE", "lines of source:token (16 bytes or more)", NULL);
    pl_http_keys_t *keys = pl_http_keys_new ();
    char err[256] = "";
    if (!keys || (signing && pl_http_keys_parse (keys, signing, err, sizeof err) != 0))
        pl_config_fail (cfg, "PLATEAU_PROMISE_SIGNING_KEYS_FILE", "lines of source:secret (16 bytes or more)", err);
    /* Every payment is signed: a payer without a secret is a configuration error. */
    char list[1024];
    snprintf (list, sizeof list, "%s", payers ? payers : "");
    for (char *save = NULL, *s = strtok_r (list, ",", &save); s; s = strtok_r (NULL, ",", &save))
        if (!pl_http_keys_secret (keys, s, NULL))
            pl_config_fail (cfg, "PLATEAU_PROMISE_PAYERS", "sources with a key in PLATEAU_PROMISE_SIGNING_KEYS_FILE", s);
    pl_bus_client_t *audit = pl_service_connect (svc, "audit", false);
    pl_bus_client_t *dialer = pl_service_connect (svc, "dialer", false);
    pl_service_config_done (svc);
    (void) dialer;
    promise_book_opts_t o = {
        .redis = pl_service_redis (svc),
        .clock = pl_service_clock (svc),
        .service = pl_service_name (svc),
        .replica = pl_service_replica (svc),
        .audit = audit != NULL,
        .zoneinfo = zoneinfo,
        .many_active = many,
        .remind_days = remind_days,
        .retention_days = retention_days,
        .metrics = pl_service_metrics (svc),
        .log = pl_service_log (svc),
    };
    promise_book_t *book = promise_book_new (&o);
    promise_api_t *api = promise_api_new (&(promise_api_opts_t) {
        .book = o, .redis_url = pl_config_str (cfg, "PLATEAU_REDIS_URL", NULL),
        .writers = pl_config_str (cfg, "PLATEAU_PROMISE_WRITERS", NULL),
        .readers = pl_config_str (cfg, "PLATEAU_PROMISE_READERS", NULL),
        .payers = payers, .operators = pl_config_str (cfg, "PLATEAU_PROMISE_OPERATORS", NULL), .keys = keys });
    pl_http_options_t ho = { .tokens = tokens, .max_connections = conns, .clock = pl_service_clock (svc),
                             .thread_init = promise_api_thread_init, .thread_fini = promise_api_thread_fini,
                             .thread_arg = api, .metrics = pl_service_metrics (svc), .service = "promise" };
    pl_http_t *http = api ? pl_http_new (http_addr, http_port, &ho) : NULL;
    if (!book || !http || promise_api_routes (api, http) != 0 || pl_http_start (http) != 0) {
        pl_log_error (pl_service_log (svc), NULL, "cannot start", "error", http ? pl_http_errstr (http) : "no memory");
        return 1;
    }
    pl_ops_open_gate (pl_service_ops (svc), "http");
    const char *types[] = { "PromiseMade=dialer", "Disposition=dialer", "PaymentReceived=", NULL };
    if (!pl_service_serve (svc, types, promise_book_handle, book))
        return 2;
    pl_loop_add_timer (pl_service_loop (svc), sweep_ms, promise_book_tick, book);
    int rc = pl_service_run (svc);
    pl_http_stop (http, 5000);
    pl_http_destroy (&http);
    promise_api_destroy (&api);
    pl_http_keys_destroy (&keys);
    pl_http_tokens_destroy (&tokens);
    promise_book_destroy (&book);
    pl_service_destroy (&svc);
    return rc;
}
