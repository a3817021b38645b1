/*  api.h — scrub's HTTP API: scrub a file of numbers, opt-outs, consents, lists.
 *
 *    POST   /v1/scrub            numbers → a verdict each, in order        PLATEAU_SCRUB_SOURCES
 *    POST   /v1/dnc              record an opt-out                         PLATEAU_SCRUB_SOURCES
 *    DELETE /v1/dnc/{number}     remove an opt-out                         PLATEAU_SCRUB_OPERATORS
 *    POST   /v1/consents         record a consent                          PLATEAU_SCRUB_SOURCES
 *    DELETE /v1/consents/{id}    revoke a consent                          PLATEAU_SCRUB_SOURCES
 *    GET    /v1/lists            the lists in force, their ages            both
 *    PUT    /v1/lists/{name}     load a list version (body streamed)       PLATEAU_SCRUB_OPERATORS
 *
 *  Each handler thread has its own Redis connection and inbox; steps carry their audit events.
 *  A source may act only for its tenants when PLATEAU_SCRUB_SOURCE_TENANTS names them.
 */
#ifndef SCRUB_API_H
#define SCRUB_API_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "catalog.h"
#include "campaigns.h"
#include "plateau/clock.h"
#include "plateau/http.h"
#include "plateau/log.h"
#include "plateau/metrics.h"

#define SCRUB_API_MAX_NUMBERS 10000

typedef struct {
    const char *redis_url;
    const char *service, *replica;
    const pl_clock_t *clock;
    pl_log_t *log;
    pl_metrics_t *metrics;
    const scrub_campaigns_t *campaigns;
    scrub_catalog_t *catalog;
    bool audit;
    const char *sources;          /* who may scrub, opt out, consent (NULL: any) */
    const char *operators;        /* who may load lists and remove opt-outs (NULL: nobody) */
    const char *source_tenants;   /* "crm-a=acme|beta;crm-b=globex" (NULL: any tenant) */
    const char *default_tenant;
    const char *default_country;  /* national numbers without a country ("FR") */
    size_t max_list_body;         /* PUT /v1/lists (bytes) */
    const char *lists_dir;        /* where versions and uploads are kept (NULL: no loads) */
} scrub_api_opts_t;

typedef struct scrub_api scrub_api_t;

scrub_api_t *scrub_api_new (const scrub_api_opts_t *o);
void scrub_api_destroy (scrub_api_t **self_p);
int scrub_api_routes (scrub_api_t *self, pl_http_t *http);
void *scrub_api_thread_init (void *arg);
void scrub_api_thread_fini (void *ctx, void *arg);

#endif
