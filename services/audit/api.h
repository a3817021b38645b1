/*  api.h — the audit service's HTTP API (pl_http).
 *
 *    GET  /v1/audit               records filtered by lead, number, campaign, type, from, to;
 *                                 cursor + limit; JSON ({"items":[…],"next_cursor":…}) or
 *                                 NDJSON (Accept: application/x-ndjson or format=ndjson; the
 *                                 next cursor in the X-Next-Cursor header)
 *    GET  /v1/audit/export        ?chain=…&from_seq=N[&limit=]: one chain by arrival, in seq
 *                                 order, with the next seq to ask for ({"items":[…],
 *                                 "next_seq":…}); or ?from=…&to=…[&cursor=&limit=]: a time range
 *                                 of every chain, paged like GET /v1/audit
 *    GET  /v1/audit/why           ?number=+33…|lead=…: the story of a person, text/plain
 *    GET  /v1/audit/verify        verifies every chain under the data root; JSON report
 *    GET  /v1/audit/public-key    this replica's checkpoint verification key (public route)
 *    POST /v1/audit/erasure       {"number":"+33…","request_id":"…"}: erases a person
 *
 *  Every route but public-key needs a bearer token. Numbers (and the free text sealed with
 *  them) are shown in clear only to auditors, the sources listed in PLATEAU_AUDIT_AUDITORS
 *  (PLATEAU_AUDIT_READERS, its former name, adds to them); others see the pseudonym only. Every
 *  answer that shows numbers in clear is first recorded in the chain as an `audit.export` event
 *  naming the reader and what was read (AccessFacts), durable before the answer leaves; when it
 *  cannot be recorded the read is refused (503). Erased records stay erased for everyone.
 *  Erasure is allowed only to the sources in erasers (PLATEAU_AUDIT_ERASERS; none when empty).
 *  It reaches the bus's dead letters too (outbox.h): those whose envelope mentions the number
 *  are deleted from Redis, and the answer says how many.
 *  Every time parameter is UTC milliseconds or RFC 3339 read by pl_time_parse_rfc3339: an
 *  impossible date (2026-02-30) is a 400, never rolled over.
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
    const char *auditors;               /* "ops,compliance": sources that see numbers (recorded) */
    const char *erasers;                /* sources allowed to erase; NULL/"" = nobody */
    const char *trusted_keys;           /* more public keys (hex, comma-separated) verify trusts */
    const char *zoneinfo;               /* NULL: /usr/share/zoneinfo */
    const char *redis_url;              /* where the services' dead letters are (erasure) */
} audit_api_opts_t;

audit_api_t *audit_api_new (const audit_api_opts_t *o);
void audit_api_destroy (audit_api_t **self_p);
/* Registers the routes on http (before pl_http_start). */
int audit_api_routes (audit_api_t *self, pl_http_t *http);
/* pl_http thread_init / thread_fini: one reader per HTTP thread. */
void *audit_api_thread_init (void *arg);
void audit_api_thread_fini (void *ctx, void *arg);

#endif
