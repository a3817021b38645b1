/*  api.h — the intake's HTTP API: POST /v1/leads (JSON, NDJSON, CSV) and GET /v1/leads/{id}.
 *
 *  POST /v1/leads takes application/json (one lead, or {"leads": […]} up to max_batch),
 *  application/x-ndjson (one lead per line) or text/csv (header row, or ?mapping=), with
 *  ?campaign= for items that name none. Streamed bodies are decoded as they arrive and stored
 *  in pipelined batches, so memory stays bounded whatever the size. Every item gets a result in
 *  input order: accepted (new lead id), duplicate (existing lead id), rejected (errors with
 *  field, code, message, line, column), or not_accepted when Redis failed before it was stored.
 *
 *  Answers: a JSON body is answered with JSON (one result, or {"results": […], "summary": …});
 *  a streamed body with NDJSON, one result per line and a last {"summary": …} line, spooled to
 *  an unlinked temporary file while the body arrives (not kept in memory), so a million-row CSV
 *  costs disk, not RSS. ?results=errors leaves accepted items out of a streamed answer.
 *
 *  Dedupe: Idempotency-Key replays the stored answer; (source, external_id) and the same
 *  number in the campaign within the window are duplicates (see store.h). Redis down: 503 with
 *  Retry-After, every item either accepted (and stored) or reported not accepted.
 */
#ifndef PL_INTAKE_API_H
#define PL_INTAKE_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "campaigns.h"
#include "csv_mapping.h"
#include "plateau/clock.h"
#include "plateau/http.h"
#include "plateau/log.h"
#include "plateau/metrics.h"

typedef struct intake_api intake_api_t;

typedef struct {
    const char *redis_url;          /* each HTTP thread opens its own connection */
    const char *replica;
    const char *service;            /* "intake" */
    const pl_clock_t *clock;        /* borrowed */
    pl_metrics_t *metrics;          /* borrowed */
    pl_log_t *log;                  /* borrowed */
    int64_t dedupe_window_ms;
    size_t max_batch;               /* items of a JSON batch */
    size_t max_json_body;           /* bytes of a JSON body */
    size_t batch_size;              /* leads per Redis pipeline */
    int64_t idempotency_ttl_ms;
    int64_t idempotency_lease_ms;   /* a pending key's lease, renewed while its request runs */
    size_t idempotency_max_answer;  /* larger streamed answers are stored as their summary */
    const intake_mappings_t *mappings;    /* borrowed */
    const char *signing_keys;       /* "source:secret" lines (those sources must sign), or NULL */
    size_t spool_budget;            /* bytes of signed bodies kept on disk at once (0: 2 GiB) */
    const char *default_country;    /* for national numbers of leads naming no country */
    bool reject_unknown;            /* unknown fields refused rather than kept in custom */
    const char *readers;            /* sources that may read every lead ("a,b"), or NULL: the
                                     * others read only the leads they submitted */
    bool audit;                     /* record audit events (an audit service is configured) */
    const intake_campaigns_t *campaigns;  /* borrowed: tenant and call kind for those events */
    size_t audit_rejects_per_request;   /* rejected items recorded one by one (0: 1,000); the
                                         * rest of a request's in one lead.rejected_summary */
} intake_api_opts_t;

/* Copies opts' scalars; borrows its pointers. NULL on bad signing keys (errstr in *err). */
intake_api_t *intake_api_new (const intake_api_opts_t *opts, char *err, size_t err_size);
void intake_api_destroy (intake_api_t **self_p);

/* Registers the routes on http (before pl_http_start). sources: "crm-a,crm-b", the sources
 * allowed to submit (others 403), or NULL for every source of the tokens file. */
int intake_api_routes (intake_api_t *self, pl_http_t *http, size_t max_body, const char *sources);

/* pl_http per-thread context: a Redis connection, a store, a phone parser. */
void *intake_api_thread_init (void *arg);
void intake_api_thread_fini (void *ctx, void *arg);

#endif
