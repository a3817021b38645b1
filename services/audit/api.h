/*  api.h — the audit service's HTTP API (pl_http).
 *
 *    GET  /v1/audit               records filtered by lead, number, campaign, type, from, to;
 *                                 cursor + limit; JSON ({"items":[…],"next_cursor":…}) or
 *                                 NDJSON (Accept: application/x-ndjson or format=ndjson; the
 *                                 next cursor in the X-Next-Cursor header)
 *    GET  /v1/audit/why           ?number=+33…|lead=…: the story of a person, text/plain
 *    GET  /v1/audit/verify        verifies every chain under the data root; JSON report
 *    GET  /v1/audit/public-key    this replica's checkpoint verification key (public route)
 *    POST /v1/audit/erasure       {"number":"+33…","request_id":"…"}: erases a person
 *
 *  Every route but public-key needs a bearer token. Numbers are shown in clear only to the
 *  sources listed in readers (PLATEAU_AUDIT_READERS); others see the pseudonym only. Erasure
 *  is allowed only to the sources in erasers (PLATEAU_AUDIT_ERASERS; none when empty).
 *  Handlers run in the HTTP threads: each thread has its own reader (query.h).
 */
#ifndef AUDIT_API_H
#define AUDIT_API_H
#include <stddef.h>
#include <stdint.h>
#include "plateau/audit_keys.h"
#include "plateau/clock.h"
#include "plateau/http.h"
#include "plateau/audit_store.h"

typedef struct audit_api audit_api_t;

typedef struct {
    const char *data_dir;
    const char *replica;
    pl_audit_keys_t *keys;              /* borrowed */
    pl_audit_store_t *store;            /* borrowed: erasure writes through it */
    const pl_clock_t *clock;            /* borrowed */
    const char *readers;                /* "ops,compliance": sources that see numbers */
    const char *erasers;                /* sources allowed to erase; NULL/"" = nobody */
    const char *trusted_keys;           /* more public keys (hex, comma-separated) verify trusts */
    const char *zoneinfo;               /* NULL: /usr/share/zoneinfo */
} audit_api_opts_t;

audit_api_t *audit_api_new (const audit_api_opts_t *o);
void audit_api_destroy (audit_api_t **self_p);
/* Registers the routes on http (before pl_http_start). */
int audit_api_routes (audit_api_t *self, pl_http_t *http);
/* pl_http thread_init / thread_fini: one reader per HTTP thread. */
void *audit_api_thread_init (void *arg);
void audit_api_thread_fini (void *ctx, void *arg);

#endif
