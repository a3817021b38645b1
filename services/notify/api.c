/*  api.c — the webhook subscriptions API (see api.h). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "payload.h"
#include "policy.h"
#include "store.h"
#include "plateau/error.h"
#include "plateau/id.h"

struct notify_api {
    notify_api_opts_t o;
    char *redis_url, *replica;
};

typedef struct {
    pl_redis_t *redis;
    notify_store_t *store;
} s_ctx_t;

notify_api_t *
notify_api_new (const notify_api_opts_t *o)
{
    notify_api_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->o = *o;
    self->redis_url = strdup (o->redis_url ? o->redis_url : "");
    self->replica = strdup (o->replica ? o->replica : "notify");
    if (!self->o.max_url)
        self->o.max_url = 2048;
    if (self->o.max_per_source <= 0)
        self->o.max_per_source = 25;
    if (!self->redis_url || !self->replica)
        notify_api_destroy (&self);
    return self;
}

void
notify_api_destroy (notify_api_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->redis_url);
    free ((*self_p)->replica);
    free (*self_p);
    *self_p = NULL;
}

void *
notify_api_thread_init (void *arg)
{
    notify_api_t *api = arg;
    s_ctx_t *c = calloc (1, sizeof *c);
    if (!c)
        return NULL;
    c->redis = pl_redis_new (api->redis_url, 2000);
    c->store = c->redis ? notify_store_new (c->redis, api->replica) : NULL;
    if (!c->store) {
        notify_api_thread_fini (c, arg);
        return NULL;
    }
    return c;
}

void
notify_api_thread_fini (void *ctx, void *arg)
{
    (void) arg;
    s_ctx_t *c = ctx;
    if (!c)
        return;
    notify_store_destroy (&c->store);
    pl_redis_destroy (&c->redis);
    free (c);
}

/* ---- helpers -------------------------------------------------------------------------------- */

static notify_store_t *
s_store (pl_http_req_t *req)
{
    s_ctx_t *c = pl_http_req_thread_ctx (req);
    if (!c) {
        pl_http_reply_error (req, 503, "unavailable", "no Redis connection", NULL);
        pl_http_reply_header (req, "Retry-After", "1");
    }
    return c ? c->store : NULL;
}

static int
s_reply (pl_http_req_t *req, int status, json_t *o)
{
    char *s = o ? json_dumps (o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref (o);
    if (!s)
        return pl_http_reply_error (req, 503, "unavailable", "out of memory", NULL);
    int rc = pl_http_reply_json (req, status, s);
    free (s);
    return rc;
}

static int
s_fail (pl_http_req_t *req, int rc)
{
    if (rc == PL_ENOTFOUND)
        return pl_http_reply_error (req, 404, "not_found", "no such webhook", NULL);
    pl_http_reply_error (req, 503, "unavailable", "Redis is unavailable: nothing was changed", NULL);
    return pl_http_reply_header (req, "Retry-After", "1");
}

/* Sets the 400 naming field; returns 1 (the body was refused). */
static int
s_bad (pl_http_req_t *req, const char *field, const char *message)
{
    pl_http_reply_error (req, 400, "invalid", message, field);
    return 1;
}

/* ---- routes --------------------------------------------------------------------------------- */

static int
s_create (pl_http_req_t *req, void *arg)
{
    notify_api_t *self = arg;
    static const char *const allowed[] = { "url", "events", "secret", "description", NULL };
    json_t *o = pl_http_req_json_object (req, allowed);
    if (!o)
        return 0;
    json_t *url = json_object_get (o, "url"), *events = json_object_get (o, "events");
    json_t *secret = json_object_get (o, "secret"), *desc = json_object_get (o, "description");
    char why[200], list[NOTIFY_EVENTS_MAX * 32] = "";
    int rc = 0;
    if (!json_is_string (url))
        rc = s_bad (req, "url", "url: a string is required");
    else if (notify_policy_url_check (json_string_value (url), self->o.max_url, self->o.allow_insecure,
                                      why, sizeof why) != 0)
        rc = s_bad (req, "url", why);
    else if (!json_is_array (events) || json_array_size (events) == 0
             || json_array_size (events) > NOTIFY_EVENTS_MAX)
        rc = s_bad (req, "events", "events: an array of 1 to 16 event types, or [\"*\"]");
    for (size_t i = 0; rc == 0 && i < json_array_size (events); i++) {
        const char *t = json_string_value (json_array_get (events, i));
        if (!notify_event_type_known (t, true)) {
            rc = s_bad (req, "events", "events: unknown event type (see the API's list, or \"*\")");
        } else {
            char have[sizeof list + 2], item[40];
            snprintf (have, sizeof have, ",%s,", list);
            snprintf (item, sizeof item, ",%s,", t);
            size_t len = strlen (list);
            if (!strstr (have, item))
                snprintf (list + len, sizeof list - len, "%s%s", len ? "," : "", t);
        }
    }
    size_t slen = json_is_string (secret) ? json_string_length (secret) : 0;
    if (rc == 0 && (slen < NOTIFY_SECRET_MIN || slen > NOTIFY_SECRET_MAX))
        rc = s_bad (req, "secret", "secret: a string of 32 to 256 bytes");
    if (rc == 0 && desc && !json_is_null (desc)
        && (!json_is_string (desc) || json_string_length (desc) > NOTIFY_DESCRIPTION_MAX))
        rc = s_bad (req, "description", "description: a string of at most 256 bytes");
    if (rc != 0) {
        json_decref (o);
        return 0;
    }
    notify_store_t *st = s_store (req);
    if (!st) {
        json_decref (o);
        return 0;
    }
    char id[PL_ID_LEN + 4] = "wh_";
    int64_t now = pl_clock_now_ms (self->o.clock);
    pl_id_new (id + 3, now);
    const char *source = pl_http_req_source (req);
    rc = notify_store_sub_create (st, id, source, json_string_value (url), list,
                                  json_string_value (secret), json_is_string (desc) ? json_string_value (desc) : "",
                                  now, self->o.max_per_source);
    json_decref (o);
    if (rc == PL_EBUSY)
        return pl_http_reply_error (req, 409, "limit", "this source has the most webhooks allowed", NULL);
    if (rc != 0)
        return s_fail (req, rc);
    json_t *sub = notify_store_sub_json (st, source, id, &rc);
    if (!sub)
        return s_fail (req, rc);
    char location[128];
    snprintf (location, sizeof location, "/v1/webhooks/%s", id);
    pl_http_reply_header (req, "Location", location);
    return s_reply (req, 201, sub);
}

static int
s_list (pl_http_req_t *req, void *arg)
{
    (void) arg;
    notify_store_t *st = s_store (req);
    if (!st)
        return 0;
    json_t *a = notify_store_sub_list (st, pl_http_req_source (req));
    if (!a)
        return s_fail (req, PL_EREDIS);
    return s_reply (req, 200, json_pack ("{s:o}", "webhooks", a));
}

static int
s_get (pl_http_req_t *req, void *arg)
{
    (void) arg;
    notify_store_t *st = s_store (req);
    if (!st)
        return 0;
    int rc = 0;
    json_t *o = notify_store_sub_json (st, pl_http_req_source (req), pl_http_req_param (req, "id"), &rc);
    return o ? s_reply (req, 200, o) : s_fail (req, rc);
}

static int
s_delete (pl_http_req_t *req, void *arg)
{
    (void) arg;
    notify_store_t *st = s_store (req);
    if (!st)
        return 0;
    int rc = notify_store_sub_delete (st, pl_http_req_source (req), pl_http_req_param (req, "id"));
    return rc == 0 ? pl_http_reply (req, 204, NULL, NULL, 0) : s_fail (req, rc);
}

static int
s_dead_letters (pl_http_req_t *req, void *arg)
{
    (void) arg;
    notify_store_t *st = s_store (req);
    if (!st)
        return 0;
    int rc = 0;
    json_t *a = notify_store_dead_letters (st, pl_http_req_source (req), pl_http_req_param (req, "id"), 1000, &rc);
    return a ? s_reply (req, 200, json_pack ("{s:o}", "dead_letters", a)) : s_fail (req, rc);
}

static int
s_replay (pl_http_req_t *req, void *arg)
{
    notify_api_t *self = arg;
    notify_store_t *st = s_store (req);
    if (!st)
        return 0;
    long n = notify_store_replay (st, pl_http_req_source (req), pl_http_req_param (req, "id"),
                                  pl_clock_now_ms (self->o.clock));
    return n >= 0 ? s_reply (req, 202, json_pack ("{s:I}", "replayed", (json_int_t) n)) : s_fail (req, (int) n);
}

int
notify_api_routes (notify_api_t *self, pl_http_t *http)
{
    pl_http_route_opts_t json = { .content_types = "application/json", .max_body = NOTIFY_API_MAX_BODY };
    pl_http_route_opts_t small = { .max_body = 1024 };
    int rc = 0;
    rc |= pl_http_route (http, "POST", "/v1/webhooks", s_create, self, &json);
    rc |= pl_http_route (http, "GET", "/v1/webhooks", s_list, self, &small);
    rc |= pl_http_route (http, "GET", "/v1/webhooks/{id}", s_get, self, &small);
    rc |= pl_http_route (http, "DELETE", "/v1/webhooks/{id}", s_delete, self, &small);
    rc |= pl_http_route (http, "GET", "/v1/webhooks/{id}/dead-letters", s_dead_letters, self, &small);
    rc |= pl_http_route (http, "POST", "/v1/webhooks/{id}/replay", s_replay, self, &small);
    return rc ? -1 : 0;
}
