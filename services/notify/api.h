/*  api.h — the webhook subscriptions API of the notify service.
 *    POST   /v1/webhooks                      subscribe: {"url","events":[…],"secret","description"?}
 *                                             → 201 the subscription
 *    GET    /v1/webhooks                      {"webhooks":[…]} of the caller's source
 *    GET    /v1/webhooks/{id}                 one subscription
 *    DELETE /v1/webhooks/{id}                 204; its queue and dead letters go with it
 *    GET    /v1/webhooks/{id}/dead-letters    {"dead_letters":[{"event_id","type","lead_id",
 *                                             "attempts","last_status","last_error","failed_at"}]}
 *    POST   /v1/webhooks/{id}/replay          202 {"replayed": n}: dead letters queued again,
 *                                             a paused subscription resumed
 *  A subscription: {"id","url","events","description","created_at","status":"active"|"paused",
 *  "failures"}; its secret is stored (deliveries are signed with it) and never returned. Each
 *  source (the bearer token's) sees and touches only its own: another source's id is 404.
 *  Bad bodies are 400 naming the field; bodies over 16 KiB 413. Each handler thread has its
 *  own store on its own Redis connection.
 */
#ifndef NOTIFY_API_H
#define NOTIFY_API_H
#include <stdbool.h>
#include <stddef.h>
#include "plateau/clock.h"
#include "plateau/http.h"

#define NOTIFY_API_MAX_BODY (16 * 1024)
#define NOTIFY_SECRET_MIN 32
#define NOTIFY_SECRET_MAX 256
#define NOTIFY_DESCRIPTION_MAX 256
#define NOTIFY_EVENTS_MAX 16

typedef struct {
    const char *redis_url;            /* each thread connects on its own (copied) */
    const char *replica;
    const pl_clock_t *clock;          /* borrowed */
    size_t max_url;                   /* URL length bound (2048) */
    int max_per_source;               /* subscriptions per source (25) */
    bool allow_insecure;              /* http:// and private addresses (dev, tests) */
} notify_api_opts_t;

typedef struct notify_api notify_api_t;

notify_api_t *notify_api_new (const notify_api_opts_t *o);
void notify_api_destroy (notify_api_t **self_p);
int notify_api_routes (notify_api_t *self, pl_http_t *http);
void *notify_api_thread_init (void *arg);
void notify_api_thread_fini (void *ctx, void *arg);

#endif
