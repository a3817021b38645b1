/*  ops.c — the operations port: /healthz, /readyz and /metrics (see ops.h).
 *
 *  Built on pl_http with public routes, so that 404, 405 and the error format are the same as
 *  on the services' APIs. Readiness is evaluated at each probe from the registered checks:
 *  nothing is cached, so /readyz turns 200 again the moment a check passes again. The checks
 *  list only grows; it is guarded by a mutex because a service may add a check while probes
 *  are being answered.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "plateau/error.h"
#include "plateau/http.h"
#include "plateau/ops.h"

#define S_WHY_SIZE 256

/* A gate: a check that passes once opened (pl_ops_add_gate). */
typedef struct {
    atomic_bool open;
    char what[64];
} s_gate_t;

typedef struct {
    char *name;
    pl_ops_check_fn *fn;
    void *arg;
    bool warning;               /* listed when failing, never makes the service unready */
    s_gate_t *gate;             /* owned; arg when fn is s_gate_check */
} s_check_t;

struct pl_ops {
    pl_http_t *http;
    pl_metrics_t *metrics;
    pthread_mutex_t mutex;
    s_check_t *checks;
    size_t n_checks, cap_checks;
    atomic_bool draining;
    char errstr[256];
};

static int
s_reply_json (pl_http_req_t *req, int status, json_t *body)
{
    char *text = body ? json_dumps (body, JSON_COMPACT) : NULL;
    json_decref (body);
    if (!text)
        return PL_ENOMEM;
    pl_http_reply_header (req, "Cache-Control", "no-store");
    int rc = pl_http_reply_json (req, status, text);
    free (text);
    return rc;
}

static int
s_healthz (pl_http_req_t *req, void *arg)
{
    (void) arg;
    return s_reply_json (req, 200, json_pack ("{s:s}", "status", "ok"));
}

static int
s_readyz (pl_http_req_t *req, void *arg)
{
    pl_ops_t *self = arg;
    json_t *failing = json_array ();
    json_t *passing = json_array ();
    json_t *warnings = json_array ();
    char first[S_WHY_SIZE + 64] = "";
    pthread_mutex_lock (&self->mutex);
    for (size_t i = 0; i < self->n_checks; i++) {
        char why[S_WHY_SIZE] = "";
        const s_check_t *c = &self->checks[i];
        if (c->fn (c->arg, why, sizeof why)) {
            json_array_append_new (passing, json_string (c->name));
            continue;
        }
        why[sizeof why - 1] = '\0';
        const char *reason = why[0] ? why : "check failed";
        if (c->warning) {
            json_array_append_new (warnings, json_pack ("{s:s,s:s}", "check", c->name, "reason", reason));
            continue;
        }
        json_array_append_new (failing, json_pack ("{s:s,s:s}", "check", c->name,
                                                   "reason", reason));
        if (!first[0])
            snprintf (first, sizeof first, "%s: %s", c->name, reason);
    }
    pthread_mutex_unlock (&self->mutex);

    bool draining = atomic_load (&self->draining);
    if (!draining && json_array_size (failing) == 0) {
        json_decref (failing);
        return s_reply_json (req, 200, json_pack ("{s:s,s:o,s:o}", "status", "ready",
                                                  "checks", passing, "warnings", warnings));
    }
    json_decref (warnings);
    char message[S_WHY_SIZE + 128];
    if (draining)
        snprintf (message, sizeof message, "the service is draining");
    else if (json_array_size (failing) == 1)
        snprintf (message, sizeof message, "not ready: %s", first);
    else
        snprintf (message, sizeof message, "not ready: %s (and %zu more)", first,
                  json_array_size (failing) - 1);
    json_decref (passing);
    return s_reply_json (req, 503,
                         json_pack ("{s:s,s:b,s:o,s:{s:s,s:s}}",
                                    "status", draining ? "draining" : "not_ready",
                                    "draining", draining,
                                    "failing", failing,
                                    "error", "code", draining ? "draining" : "not_ready",
                                    "message", message));
}

static int
s_metrics (pl_http_req_t *req, void *arg)
{
    pl_ops_t *self = arg;
    char *text = pl_metrics_render (self->metrics);
    if (!text)
        return PL_ENOMEM;
    int rc = pl_http_reply (req, 200, "text/plain; version=0.0.4; charset=utf-8", text,
                            strlen (text));
    free (text);
    return rc;
}

pl_ops_t *
pl_ops_new (const char *addr, int port, pl_metrics_t *metrics)
{
    pl_ops_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init (&self->mutex, NULL);
    atomic_init (&self->draining, false);
    self->metrics = metrics;
    /* Probes are small and few: a handful of threads and a small body limit are plenty. */
    pl_http_options_t opts = { .max_body = 4096, .max_connections = 16, .idle_timeout_s = 10,
                               .header_timeout_s = 5 };
    pl_http_route_opts_t open = { .flags = PL_HTTP_PUBLIC };
    self->http = pl_http_new (addr, port, &opts);
    if (!self->http
        || pl_http_route (self->http, "GET", "/healthz", s_healthz, self, &open) < 0
        || pl_http_route (self->http, "GET", "/readyz", s_readyz, self, &open) < 0
        || pl_http_route (self->http, "GET", "/metrics", s_metrics, self, &open) < 0
        || pl_http_start (self->http) < 0) {
        int saved = errno;                  /* bind's reason, for the caller's message */
        pl_ops_destroy (&self);
        errno = saved;
        return NULL;
    }
    return self;
}

void
pl_ops_destroy (pl_ops_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pl_ops_t *self = *self_p;
    pl_http_destroy (&self->http);          /* joins the threads that run checks */
    for (size_t i = 0; i < self->n_checks; i++) {
        free (self->checks[i].name);
        free (self->checks[i].gate);
    }
    free (self->checks);
    pthread_mutex_destroy (&self->mutex);
    free (self);
    *self_p = NULL;
}

int
pl_ops_port (const pl_ops_t *self)
{
    return self ? pl_http_port (self->http) : -1;
}

static int s_add (pl_ops_t *self, const char *name, pl_ops_check_fn *fn, void *arg, bool warning);

static bool
s_gate_check (void *arg, char *why, size_t why_size)
{
    s_gate_t *g = arg;
    if (atomic_load (&g->open))
        return true;
    snprintf (why, why_size, "%s not started", g->what);
    return false;
}

int
pl_ops_add_gate (pl_ops_t *self, const char *name, const char *what)
{
    s_gate_t *g = self && what ? calloc (1, sizeof *g) : NULL;
    if (!g)
        return self && what ? PL_ENOMEM : PL_EINVAL;
    atomic_init (&g->open, false);
    snprintf (g->what, sizeof g->what, "%s", what);
    int rc = s_add (self, name, s_gate_check, g, false);
    if (rc != 0) {
        free (g);
        return rc;
    }
    pthread_mutex_lock (&self->mutex);
    self->checks[self->n_checks - 1].gate = g;
    pthread_mutex_unlock (&self->mutex);
    return 0;
}

int
pl_ops_open_gate (pl_ops_t *self, const char *name)
{
    if (!self || !name)
        return PL_EINVAL;
    int rc = PL_ENOTFOUND;
    pthread_mutex_lock (&self->mutex);
    for (size_t i = 0; i < self->n_checks; i++)
        if (self->checks[i].gate && strcmp (self->checks[i].name, name) == 0) {
            atomic_store (&self->checks[i].gate->open, true);
            rc = 0;
        }
    pthread_mutex_unlock (&self->mutex);
    return rc;
}

int
pl_ops_add_check (pl_ops_t *self, const char *name, pl_ops_check_fn *fn, void *arg)
{
    return s_add (self, name, fn, arg, false);
}

int
pl_ops_add_warning (pl_ops_t *self, const char *name, pl_ops_check_fn *fn, void *arg)
{
    return s_add (self, name, fn, arg, true);
}

static int
s_add (pl_ops_t *self, const char *name, pl_ops_check_fn *fn, void *arg, bool warning)
{
    if (!self || !name || !*name || !fn) {
        if (self)
            snprintf (self->errstr, sizeof self->errstr, "add_check: name and fn are required");
        return PL_EINVAL;
    }
    char *copy = strdup (name);
    if (!copy)
        return PL_ENOMEM;
    pthread_mutex_lock (&self->mutex);
    for (size_t i = 0; i < self->n_checks; i++)
        if (strcmp (self->checks[i].name, name) == 0) {
            pthread_mutex_unlock (&self->mutex);
            free (copy);
            snprintf (self->errstr, sizeof self->errstr, "add_check: '%s' exists already", name);
            return PL_EEXIST;
        }
    if (self->n_checks == self->cap_checks) {
        size_t cap = self->cap_checks ? self->cap_checks * 2 : 4;
        s_check_t *checks = realloc (self->checks, cap * sizeof *checks);
        if (!checks) {
            pthread_mutex_unlock (&self->mutex);
            free (copy);
            return PL_ENOMEM;
        }
        self->checks = checks;
        self->cap_checks = cap;
    }
    self->checks[self->n_checks++] = (s_check_t) { .name = copy, .fn = fn, .arg = arg, .warning = warning };
    pthread_mutex_unlock (&self->mutex);
    return 0;
}

void
pl_ops_set_draining (pl_ops_t *self, bool draining)
{
    if (self)
        atomic_store (&self->draining, draining);
}

bool
pl_ops_draining (const pl_ops_t *self)
{
    return self ? atomic_load (&self->draining) : false;
}

const char *
pl_ops_errstr (const pl_ops_t *self)
{
    return self ? self->errstr : "no ops port";
}
