/*  deliver.c — libcurl multi transfers of due deliveries (see deliver.h). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "deliver.h"
#include "payload.h"
#include "policy.h"
#include "plateau/error.h"
#include "plateau/http.h"

#define S_DUE_SUBS 1024         /* subscriptions with heads due, read per tick */

typedef struct s_transfer {
    struct s_transfer *next;
    notify_deliver_t *owner;
    CURL *easy;
    struct curl_slist *headers;
    notify_delivery_t d;
    char *body;
    char retry_after[64];
    char error[CURL_ERROR_SIZE];
    int64_t started_mono;
} s_transfer_t;

struct notify_deliver {
    notify_deliver_opts_t o;
    CURLM *multi;
    s_transfer_t *live;
    int n_live;
    uint64_t rng;
    pl_clock_t *wall;               /* signatures carry the receivers' time: the real clock */
    pl_metric_t *deliveries, *latency, *depth, *paused, *inflight;
};

static uint64_t
s_random (notify_deliver_t *self)
{
    uint64_t x = self->rng;         /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    self->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

notify_deliver_t *
notify_deliver_new (const notify_deliver_opts_t *o)
{
    if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return NULL;
    notify_deliver_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->o = *o;
    self->multi = curl_multi_init ();
    self->wall = pl_clock_new_real ();
    if (getrandom (&self->rng, sizeof self->rng, 0) != sizeof self->rng || !self->rng)
        self->rng = 0x9E3779B97F4A7C15ULL ^ (uint64_t) pl_clock_mono_ms ();
    if (!self->multi || !self->wall) {
        notify_deliver_destroy (&self);
        return NULL;
    }
    if (o->metrics) {
        self->deliveries = pl_metrics_counter (o->metrics, "plateau_notify_deliveries_total",
                                               "Delivery attempts, by outcome (delivered, retry, dead)", "outcome");
        static const double bounds[] = { 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30 };
        self->latency = pl_metrics_histogram (o->metrics, "plateau_notify_delivery_seconds",
                                              "Duration of delivery attempts", NULL, bounds,
                                              sizeof bounds / sizeof *bounds);
        self->depth = pl_metrics_gauge (o->metrics, "plateau_notify_queue_depth",
                                        "Deliveries queued (not yet delivered or dead)", NULL);
        self->paused = pl_metrics_gauge (o->metrics, "plateau_notify_subscriptions_paused",
                                         "Subscriptions paused after consecutive failures", NULL);
        self->inflight = pl_metrics_gauge (o->metrics, "plateau_notify_in_flight",
                                           "Delivery attempts in flight in this replica", NULL);
    }
    return self;
}

static void
s_transfer_free (s_transfer_t *t)
{
    if (!t)
        return;
    if (t->easy) {
        curl_multi_remove_handle (t->owner->multi, t->easy);
        curl_easy_cleanup (t->easy);
    }
    curl_slist_free_all (t->headers);
    notify_delivery_clear (&t->d);
    free (t->body);
    free (t);
}

void
notify_deliver_destroy (notify_deliver_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    notify_deliver_t *self = *self_p;
    while (self->live) {
        s_transfer_t *t = self->live;
        self->live = t->next;
        s_transfer_free (t);
    }
    if (self->multi)
        curl_multi_cleanup (self->multi);
    pl_clock_destroy (&self->wall);
    free (self);
    *self_p = NULL;
}

/* ---- one transfer --------------------------------------------------------------------------- */

static size_t
s_discard (char *p, size_t size, size_t n, void *arg)
{
    (void) p;
    (void) arg;
    return size * n;                /* the receiver's body is not ours to keep */
}

static size_t
s_header (char *p, size_t size, size_t n, void *arg)
{
    s_transfer_t *t = arg;
    size_t len = size * n;
    if (len > 12 && strncasecmp (p, "Retry-After:", 12) == 0) {
        size_t k = len - 12 < sizeof t->retry_after - 1 ? len - 12 : sizeof t->retry_after - 1;
        memcpy (t->retry_after, p + 12, k);
        t->retry_after[k] = '\0';
        t->retry_after[strcspn (t->retry_after, "\r\n")] = '\0';
    }
    return len;
}

/* Refuses connections to private addresses, whatever the name resolved to (a name pointing at
 * 127.0.0.1 or the cloud's metadata address is as dangerous as the literal). */
static curl_socket_t
s_open_socket (void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    notify_deliver_t *self = arg;
    (void) purpose;
    if (!self->o.allow_insecure && notify_policy_address_private (&a->addr))
        return CURL_SOCKET_BAD;
    return socket (a->family, a->socktype, a->protocol);
}

static s_transfer_t *
s_transfer_new (notify_deliver_t *self, notify_delivery_t *d)
{
    s_transfer_t *t = calloc (1, sizeof *t);
    if (!t)
        return NULL;
    t->owner = self;
    t->d = *d;
    memset (d, 0, sizeof *d);
    char event_id[NOTIFY_EVENT_ID_SIZE], target[NOTIFY_URL_MAX + 2], sig[PL_HTTP_SIGNATURE_SIZE], h[256];
    notify_event_id (t->d.audit_id, event_id);
    t->body = notify_payload_body (event_id, t->d.type, t->d.at_ms, t->d.source, t->d.lead,
                                   t->d.external_id, t->d.campaign, t->d.data);
    int64_t unix_s = pl_clock_now_ms (self->wall) / 1000;
    if (!t->body || notify_payload_target (t->d.url, target, sizeof target) != 0
        || pl_http_sign (t->d.secret, strlen (t->d.secret), unix_s, "POST", target, t->body,
                         strlen (t->body), sig, sizeof sig) != 0
        || !(t->easy = curl_easy_init ())) {
        s_transfer_free (t);
        return NULL;
    }
    t->headers = curl_slist_append (t->headers, "Content-Type: application/json");
    t->headers = curl_slist_append (t->headers, "Expect:");
    snprintf (h, sizeof h, "%s: %s", PL_HTTP_SIGNATURE_HEADER, sig);
    t->headers = curl_slist_append (t->headers, h);
    snprintf (h, sizeof h, "X-Plateau-Event-Id: %s", event_id);
    t->headers = curl_slist_append (t->headers, h);
    snprintf (h, sizeof h, "X-Plateau-Event-Type: %s", t->d.type);
    t->headers = curl_slist_append (t->headers, h);
    CURL *e = t->easy;
    curl_easy_setopt (e, CURLOPT_URL, t->d.url);
    curl_easy_setopt (e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt (e, CURLOPT_POSTFIELDS, t->body);
    curl_easy_setopt (e, CURLOPT_POSTFIELDSIZE, (long) strlen (t->body));
    curl_easy_setopt (e, CURLOPT_USERAGENT, "plateau-notify/1");
    curl_easy_setopt (e, CURLOPT_TIMEOUT_MS, (long) self->o.timeout_ms);
    curl_easy_setopt (e, CURLOPT_CONNECTTIMEOUT_MS, (long) self->o.timeout_ms);
    curl_easy_setopt (e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt (e, CURLOPT_WRITEFUNCTION, s_discard);
    curl_easy_setopt (e, CURLOPT_HEADERFUNCTION, s_header);
    curl_easy_setopt (e, CURLOPT_HEADERDATA, t);
    curl_easy_setopt (e, CURLOPT_ERRORBUFFER, t->error);
    curl_easy_setopt (e, CURLOPT_OPENSOCKETFUNCTION, s_open_socket);
    curl_easy_setopt (e, CURLOPT_OPENSOCKETDATA, self);
    curl_easy_setopt (e, CURLOPT_PRIVATE, t);
    /* CURLOPT_SSL_VERIFYPEER and CURLOPT_SSL_VERIFYHOST keep their defaults: verified. */
    t->started_mono = pl_clock_mono_ms ();
    if (curl_multi_add_handle (self->multi, e) != CURLM_OK) {
        s_transfer_free (t);
        return NULL;
    }
    return t;
}

/* Records the end of t as a step; false when Redis failed (the lease brings the head back). */
static bool
s_finish (notify_deliver_t *self, s_transfer_t *t, CURLcode code)
{
    long status = 0;
    if (code == CURLE_OK)
        curl_easy_getinfo (t->easy, CURLINFO_RESPONSE_CODE, &status);
    int64_t now = pl_clock_now_ms (self->o.clock);
    notify_verdict_t v = notify_policy_classify ((int) status);
    char error[300];
    if (code != CURLE_OK)
        snprintf (error, sizeof error, "%s", t->error[0] ? t->error : curl_easy_strerror (code));
    else
        snprintf (error, sizeof error, "HTTP %ld", status);
    notify_done_t what = v == NOTIFY_DELIVERED ? NOTIFY_DONE_DELIVERED
                       : v == NOTIFY_PERMANENT || t->d.attempts + 1 >= self->o.max_attempts
                           ? NOTIFY_DONE_DEAD : NOTIFY_DONE_RETRY;
    int64_t next = now;
    if (what == NOTIFY_DONE_RETRY) {
        int64_t ra = notify_policy_retry_after_ms (t->retry_after[0] ? t->retry_after : NULL,
                                                   pl_clock_now_ms (self->wall));
        next = now + notify_policy_backoff_ms (t->d.attempts + 1, self->o.backoff_base_ms,
                                               self->o.backoff_cap_ms, s_random (self), ra);
    }
    bool paused = false;
    int rc = notify_store_done (self->o.store, &t->d, what, now, next, (int) status,
                                what == NOTIFY_DONE_DELIVERED ? "" : error, self->o.pause_after,
                                self->o.probe_ms, &paused);
    static const char *const names[] = { "delivered", "retry", "dead" };
    if (self->deliveries)
        pl_metric_inc (self->deliveries, names[what], 1);
    if (self->latency)
        pl_metric_observe (self->latency, NULL, (double) (pl_clock_mono_ms () - t->started_mono) / 1000.0);
    if (self->o.log) {
        if (what != NOTIFY_DONE_DELIVERED)
            pl_log_info (self->o.log, NULL, what == NOTIFY_DONE_DEAD ? "webhook dead letter" : "webhook retry",
                         "subscription", t->d.sub, "lead_id", t->d.lead, "type", t->d.type, "error", error);
        if (paused)
            pl_log_warn (self->o.log, NULL, "webhook subscription paused", "subscription", t->d.sub,
                         "error", error);
    }
    if (rc != 0 && self->o.log)
        pl_log_warn (self->o.log, NULL, "cannot record a webhook attempt", "error",
                     notify_store_errstr (self->o.store));
    return rc == 0;
}

/* ---- the tick ------------------------------------------------------------------------------- */

static int
s_live_for (const notify_deliver_t *self, const char *sub, size_t sub_len, const char *member, bool *same)
{
    int n = 0;
    *same = false;
    for (const s_transfer_t *t = self->live; t; t = t->next) {
        if (strlen (t->d.sub) == sub_len && strncmp (t->d.sub, sub, sub_len) == 0) {
            n++;
            if (strcmp (member + sub_len + 1, t->d.lead) == 0)
                *same = true;
        }
    }
    return n;
}

/* How many heads of sub the scan reads: its room under the per-endpoint limit, plus as many as
 * it has transfers live (one of those may be the head of a lead already in flight, skipped). */
static int
s_room (void *arg, const char *sub)
{
    const notify_deliver_t *self = arg;
    int live = 0;
    for (const s_transfer_t *t = self->live; t; t = t->next)
        live += strcmp (t->d.sub, sub) == 0;
    return live < self->o.max_per_endpoint ? self->o.max_per_endpoint : 0;
}

static int
s_claim (notify_deliver_t *self)
{
    if (self->n_live >= self->o.max_in_flight)
        return 0;
    int64_t now = pl_clock_now_ms (self->o.clock);
    char **due = NULL;
    size_t n = 0;
    int rc = notify_store_due (self->o.store, now, S_DUE_SUBS, s_room, self, &due, &n);
    if (rc != 0)
        return rc;
    /* Keep the heads this replica may take now: per subscription under its limit, never a
     * lead already in flight, in all under max_in_flight. */
    char **pick = calloc (n ? n : 1, sizeof *pick);
    size_t k = 0;
    int room = self->o.max_in_flight - self->n_live;
    for (size_t i = 0; pick && i < n && (int) k < room; i++) {
        const char *bar = strchr (due[i], '|');
        if (!bar)
            continue;
        size_t sub_len = (size_t) (bar - due[i]);
        bool same = false;
        int live = s_live_for (self, due[i], sub_len, due[i], &same);
        for (size_t j = 0; j < k; j++)
            if (strncmp (pick[j], due[i], sub_len + 1) == 0)
                live++;
        if (!same && live < self->o.max_per_endpoint)
            pick[k++] = due[i];
    }
    notify_delivery_t *ds = NULL;
    size_t nd = 0;
    int64_t lease = (int64_t) self->o.timeout_ms * 2 + 5000;
    rc = pick ? notify_store_claim (self->o.store, pick, k, now, lease, self->o.probe_ms, &ds, &nd) : PL_ENOMEM;
    for (size_t i = 0; i < nd; i++) {
        s_transfer_t *t = s_transfer_new (self, &ds[i]);
        if (t) {
            t->next = self->live;
            self->live = t;
            self->n_live++;
        } else
            notify_delivery_clear (&ds[i]);     /* the lease ends and it comes back */
    }
    free (ds);
    free (pick);
    notify_store_strings_free (due, n);
    return rc;
}

int
notify_deliver_tick (notify_deliver_t *self, bool draining)
{
    int running = 0;
    curl_multi_perform (self->multi, &running);
    CURLMsg *m;
    int left = 0, rc = 0;
    while ((m = curl_multi_info_read (self->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        s_transfer_t *t = NULL;
        curl_easy_getinfo (m->easy_handle, CURLINFO_PRIVATE, (char **) &t);
        CURLcode code = m->data.result;
        if (!s_finish (self, t, code))
            rc = PL_EREDIS;
        for (s_transfer_t **p = &self->live; *p; p = &(*p)->next)
            if (*p == t) {
                *p = t->next;
                break;
            }
        self->n_live--;
        s_transfer_free (t);
    }
    if (!draining && rc == 0) {
        rc = s_claim (self);
        if (self->n_live)
            curl_multi_perform (self->multi, &running);
    }
    if (self->inflight)
        pl_metric_set (self->inflight, NULL, self->n_live);
    return rc == 0 ? self->n_live : rc;
}

bool
notify_deliver_gauges (notify_deliver_t *self)
{
    long pending = notify_store_pending (self->o.store), paused = notify_store_paused (self->o.store);
    if (self->depth && pending >= 0)
        pl_metric_set (self->depth, NULL, (double) pending);
    if (self->paused && paused >= 0)
        pl_metric_set (self->paused, NULL, (double) paused);
    return paused > 0;
}
