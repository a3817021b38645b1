/*  follower.c — the audit's records by arrival, into deliveries (see follower.h). */
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "follower.h"
#include "plateau/error.h"
#include "plateau/http_client.h"

#define S_CHAINS_MAX 64
#define S_ENDPOINTS_MAX 16

/* One audit replica's HTTP API and the chains it holds (each replica keeps its own volume). */
typedef struct {
    char host[256];
    int port;
    char *chains[S_CHAINS_MAX];
    size_t nchains;
    int64_t discovered_ms;          /* mono ms of the last listing; 0: never */
} s_endpoint_t;

struct notify_follower {
    notify_follower_opts_t o;
    char *token, *chains_cfg;
    s_endpoint_t ep[S_ENDPOINTS_MAX];
    size_t nep;
    atomic_bool ok;
    char err[300];
    pl_metric_t *events, *errors;
};

/* The audit replicas of list ("http://a:8080, http://b:8080") into ep: their number, or 0 when
 * one is not http://host[:port] or there are more than S_ENDPOINTS_MAX. */
static size_t
s_endpoints (const char *list, s_endpoint_t *ep)
{
    char *urls = strdup (list ? list : ""), *save = NULL;
    size_t n = 0;
    for (char *u = urls ? strtok_r (urls, ",", &save) : NULL; u; u = strtok_r (NULL, ",", &save)) {
        while (*u == ' ')
            u++;
        if (n == S_ENDPOINTS_MAX || pl_http_url_parse (u, ep[n].host, sizeof ep[n].host, &ep[n].port) != 0) {
            n = 0;
            break;
        }
        n++;
    }
    free (urls);
    return n;
}

bool
notify_follower_urls_ok (const char *list)
{
    s_endpoint_t *ep = calloc (S_ENDPOINTS_MAX, sizeof *ep);
    bool ok = ep && s_endpoints (list, ep) > 0;
    free (ep);
    return ok;
}

notify_follower_t *
notify_follower_new (const notify_follower_opts_t *o)
{
    notify_follower_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->o = *o;
    self->token = strdup (o->token ? o->token : "");
    self->chains_cfg = o->chains && *o->chains ? strdup (o->chains) : NULL;
    self->nep = s_endpoints (o->audit_url, self->ep);
    if (!self->token || !self->nep) {
        notify_follower_destroy (&self);
        return NULL;
    }
    /* Chains named by configuration: asked of the first (or only) replica's API. */
    char *save = NULL;
    for (char *c = self->chains_cfg ? strtok_r (self->chains_cfg, ",", &save) : NULL;
         c && self->ep[0].nchains < S_CHAINS_MAX; c = strtok_r (NULL, ",", &save))
        self->ep[0].chains[self->ep[0].nchains++] = strdup (c);
    if (o->metrics) {
        self->events = pl_metrics_counter (o->metrics, "plateau_notify_events_total",
                                           "Audit records read that a webhook carries, by outcome "
                                           "(routed: deliveries enqueued; waiting: lead not known yet; "
                                           "dropped: no lead, or waited too long)", "outcome");
        self->errors = pl_metrics_counter (o->metrics, "plateau_notify_audit_errors_total",
                                           "Failed reads of the audit's export", NULL);
    }
    atomic_store (&self->ok, true);
    return self;
}

void
notify_follower_destroy (notify_follower_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    notify_follower_t *self = *self_p;
    for (size_t e = 0; e < self->nep; e++)
        for (size_t i = 0; i < self->ep[e].nchains; i++)
            free (self->ep[e].chains[i]);
    free (self->token);
    free (self->chains_cfg);
    free (self);
    *self_p = NULL;
}

bool
notify_follower_ok (const notify_follower_t *self)
{
    return atomic_load (&self->ok);
}

/* GET path on the audit; the body parsed as JSON, or NULL with err set. */
static json_t *
s_get (notify_follower_t *self, const s_endpoint_t *ep, const char *path)
{
    pl_http_client_t *c = pl_http_client_new (ep->host, ep->port, self->o.timeout_ms);
    char headers[512];
    snprintf (headers, sizeof headers, "Authorization: Bearer %s\r\nAccept: application/json\r\n", self->token);
    pl_http_response_t resp = { 0 };
    int st = c ? pl_http_client_request (c, "GET", path, headers, NULL, 0, &resp) : PL_ENOMEM;
    json_t *o = NULL;
    if (st == 200 && resp.body)
        o = json_loadb (resp.body, resp.body_len, 0, NULL);
    if (!o)
        snprintf (self->err, sizeof self->err, "audit %s: %s", path,
                  st < 0 ? (c ? pl_http_client_errstr (c) : "no memory")
                         : st == 200 ? "not JSON" : resp.body ? resp.body : "no body");
    if (st != 200 && st > 0)
        snprintf (self->err, sizeof self->err, "audit %s: status %d", path, st);
    pl_http_response_free (&resp);
    pl_http_client_destroy (&c);
    return o;
}

/* Lists the chains again when they are discovered and the last listing is old. */
static int
s_discover (notify_follower_t *self, s_endpoint_t *ep)
{
    if (self->chains_cfg)
        return 0;
    int64_t now = pl_clock_mono_ms ();
    if (ep->discovered_ms && now - ep->discovered_ms < self->o.discover_ms)
        return 0;
    json_t *o = s_get (self, ep, "/v1/audit/verify");
    json_t *chains = json_object_get (o, "chains");
    if (!json_is_array (chains)) {
        json_decref (o);
        return PL_EIO;
    }
    size_t i;
    json_t *c;
    json_array_foreach (chains, i, c) {
        const char *name = json_string_value (json_object_get (c, "chain"));
        bool known = false;
        for (size_t k = 0; name && k < ep->nchains; k++)
            known |= strcmp (ep->chains[k], name) == 0;
        if (name && !known && ep->nchains < S_CHAINS_MAX)
            ep->chains[ep->nchains++] = strdup (name);
    }
    json_decref (o);
    ep->discovered_ms = now;
    return 0;
}

/* One page of one chain: read, applied with the cursor in one step. Records read, or < 0. */
static int
s_chain (notify_follower_t *self, const s_endpoint_t *ep, const char *chain)
{
    int64_t from = notify_store_cursor (self->o.store, chain);
    if (from < 0) {
        snprintf (self->err, sizeof self->err, "%s", notify_store_errstr (self->o.store));
        return PL_EREDIS;
    }
    char path[512];
    snprintf (path, sizeof path, "/v1/audit/export?chain=%s&from_seq=%lld&limit=%d", chain,
              (long long) from, self->o.page);
    json_t *o = s_get (self, ep, path);
    json_t *items = json_object_get (o, "items");
    json_t *next = json_object_get (o, "next_seq");
    if (!json_is_array (items) || !json_is_integer (next)) {
        json_decref (o);
        return PL_EIO;
    }
    size_t n = json_array_size (items), k = 0;
    notify_event_t *evs = calloc (n ? n : 1, sizeof *evs);
    int rc = evs ? 0 : PL_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (notify_event_from_record (json_array_get (items, i), &evs[k]) == 0 && evs[k].kind != NOTIFY_RECORD_SKIP)
            k++;
        else
            notify_event_clear (&evs[k]);
    }
    int64_t next_seq = (int64_t) json_integer_value (next);
    notify_ingest_counts_t counts = { 0 };
    if (rc == 0 && next_seq != from) {
        rc = notify_store_ingest (self->o.store, chain, from, next_seq, evs, k,
                                  pl_clock_now_ms (self->o.clock), self->o.lead_ttl_s, &counts);
        if (rc != 0)
            snprintf (self->err, sizeof self->err, "%s", notify_store_errstr (self->o.store));
    }
    if (rc == 0 && self->events) {
        pl_metric_inc (self->events, "routed", (double) counts.routed);
        pl_metric_inc (self->events, "waiting", (double) counts.waiting);
        pl_metric_inc (self->events, "dropped", (double) counts.dropped);
    }
    for (size_t i = 0; evs && i < k; i++)
        notify_event_clear (&evs[i]);
    free (evs);
    json_decref (o);
    return rc == 0 ? (int) n : rc;
}

int
notify_follower_poll (notify_follower_t *self)
{
    int rc = 0, total = 0;
    for (size_t e = 0; e < self->nep; e++) {
        s_endpoint_t *ep = &self->ep[e];
        /* A failed listing keeps the chains known so far: they are still read. */
        int erc = s_discover (self, ep);
        for (size_t i = 0; i < ep->nchains; i++) {
            int n = s_chain (self, ep, ep->chains[i]);
            if (n < 0) {
                erc = n;
                break;
            }
            total += n;
        }
        if (erc != 0)
            rc = erc;           /* one replica down does not hold the others' events back */
    }
    long dropped = 0;
    if (rc == 0 && notify_store_sweep_waiting (self->o.store, pl_clock_now_ms (self->o.clock),
                                               self->o.wait_ms, &dropped) == 0 && dropped && self->events)
        pl_metric_inc (self->events, "dropped", (double) dropped);
    if (rc != 0 && self->errors)
        pl_metric_inc (self->errors, NULL, 1);
    if (rc != 0 && atomic_load (&self->ok) && self->o.log)
        pl_log_warn (self->o.log, NULL, "cannot follow the audit", "error", self->err);
    atomic_store (&self->ok, rc == 0);
    return rc == 0 ? total : rc;
}
