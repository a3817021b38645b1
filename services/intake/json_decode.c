/*  json_decode.c — a JSON request body: one lead or {"leads": […]} (see json_decode.h).
 *
 *  The scan (json_scan.c) has checked the body's grammar, shape and limits and knows where each
 *  lead starts and ends; each lead is then parsed alone from its own bytes and its DOM freed
 *  before the next one is parsed.
 */
#include "json_decode.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plateau/error.h"

struct intake_json {
    const intake_lead_opts_t *opts;
    intake_item_fn fn;
    void *arg;
    size_t max_body;
    intake_json_scan_t *scan;
    char *body;
    size_t len, cap;
    int failed;
    intake_error_t error;
};

static int
s_fatal (intake_error_t *fatal, int rc, const char *code, size_t line, size_t column,
         const char *fmt, ...) __attribute__ ((format (printf, 6, 7)));

static int
s_fatal (intake_error_t *fatal, int rc, const char *code, size_t line, size_t column,
         const char *fmt, ...)
{
    if (!fatal)
        return rc;
    memset (fatal, 0, sizeof *fatal);
    fatal->code = code;
    fatal->line = line;
    fatal->column = column;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (fatal->message, sizeof fatal->message, fmt, ap);
    va_end (ap);
    return rc;
}

static int
s_emit (const json_t *value, size_t index, const intake_lead_opts_t *opts, intake_item_fn fn,
        void *arg)
{
    intake_errors_t errors;
    Plateau__V1__Lead *lead = NULL;
    int rc = intake_lead_from_json (value, opts, &lead, &errors);
    if (rc == PL_ENOMEM)
        return rc;
    intake_item_t item = {.index = index, .line = 0, .lead = lead,
                          .errors = lead ? NULL : &errors};
    rc = fn (arg, &item);
    return rc < 0 ? rc : 0;
}

/* A lead of a batch refused before validation (too long, or jansson could not parse it). */
static int
s_reject (size_t index, const char *code, size_t line, size_t column, const char *message,
          intake_item_fn fn, void *arg)
{
    intake_errors_t errors;
    intake_errors_clear (&errors);
    intake_errors_add (&errors, "", code, "%s", message);
    errors.items[0].line = line;
    errors.items[0].column = column;
    intake_item_t item = {.index = index, .line = 0, .lead = NULL, .errors = &errors};
    int rc = fn (arg, &item);
    return rc < 0 ? rc : 0;
}

/* Emits the items of a scanned body, each parsed alone. */
static int
s_emit_items (const char *body, const intake_json_scan_t *scan, const intake_lead_opts_t *opts,
              intake_item_fn fn, void *arg, bool *batch, intake_error_t *fatal)
{
    bool is_batch = intake_json_scan_batch (scan);
    if (batch)
        *batch = is_batch;
    const intake_json_span_t *spans;
    size_t n = intake_json_scan_items (scan, &spans);
    for (size_t i = 0; i < n; i++) {
        const intake_json_span_t *s = &spans[i];
        size_t len = s->end - s->start;
        int rc;
        if (is_batch && len > INTAKE_JSON_MAX_ITEM_BYTES) {
            char m[96];
            snprintf (m, sizeof m, "a lead of more than %d bytes", INTAKE_JSON_MAX_ITEM_BYTES);
            rc = s_reject (i, INTAKE_E_TOO_LONG, s->line, s->column, m, fn, arg);
            if (rc < 0)
                return rc;
            continue;
        }
        json_error_t jerr;
        json_t *v = json_loadb (body + s->start, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
        if (!v) {
            if (json_error_code (&jerr) == json_error_out_of_memory)
                return PL_ENOMEM;
            size_t line = s->line + (jerr.line > 1 ? (size_t) jerr.line - 1 : 0);
            size_t column = jerr.line > 1 ? (size_t) jerr.column
                                          : s->column + (jerr.column > 1 ? (size_t) jerr.column - 1 : 0);
            if (!is_batch)
                return s_fatal (fatal, PL_EINVAL, INTAKE_E_MALFORMED, line, column, "malformed JSON: %s",
                                jerr.text);
            char m[192];
            snprintf (m, sizeof m, "malformed JSON: %s", jerr.text);
            rc = s_reject (i, INTAKE_E_MALFORMED, line, column, m, fn, arg);
        } else {
            rc = s_emit (v, i, opts, fn, arg);
            json_decref (v);
        }
        if (rc < 0)
            return rc;
    }
    return (int) n;
}

int
intake_json_decode (const char *body, size_t len, const intake_lead_opts_t *opts,
                    size_t max_items, intake_item_fn fn, void *arg, bool *batch,
                    intake_error_t *fatal)
{
    if (batch)
        *batch = false;
    if (!body || !opts || !fn)
        return PL_EINVAL;
    intake_json_scan_t *scan = intake_json_scan_new (&(intake_json_limits_t) { .max_items = max_items });
    if (!scan)
        return PL_ENOMEM;
    int rc = intake_json_scan_feed (scan, body, len);
    if (rc == 0)
        rc = intake_json_scan_finish (scan);
    if (rc != 0) {
        if (fatal)
            *fatal = *intake_json_scan_error (scan);
    } else
        rc = s_emit_items (body, scan, opts, fn, arg, batch, fatal);
    intake_json_scan_destroy (&scan);
    return rc;
}

/* ---- the push form ------------------------------------------------------------------------ */

intake_json_t *
intake_json_new (const intake_lead_opts_t *opts, size_t max_items, size_t max_body, intake_item_fn fn,
                 void *arg)
{
    if (!opts || !fn)
        return NULL;
    intake_json_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->opts = opts;
    self->fn = fn;
    self->arg = arg;
    self->max_body = max_body ? max_body : INTAKE_JSON_MAX_BODY;
    self->scan = intake_json_scan_new (&(intake_json_limits_t) { .max_items = max_items });
    if (!self->scan)
        intake_json_destroy (&self);
    return self;
}

void
intake_json_destroy (intake_json_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    intake_json_t *self = *self_p;
    intake_json_scan_destroy (&self->scan);
    free (self->body);
    free (self);
    *self_p = NULL;
}

static int
s_failed (intake_json_t *self, int rc)
{
    if (!self->failed) {
        self->failed = rc;
        const intake_error_t *e = intake_json_scan_error (self->scan);
        if (e)
            self->error = *e;
        else
            s_fatal (&self->error, rc, rc == PL_ENOMEM ? INTAKE_E_MALFORMED : INTAKE_E_TOO_LARGE, 0, 0,
                     rc == PL_ENOMEM ? "out of memory"
                                     : "a JSON body is limited to %zu bytes; send NDJSON or CSV for more",
                     self->max_body);
    }
    return self->failed;
}

int
intake_json_feed (intake_json_t *self, const void *data, size_t len)
{
    if (self->failed)
        return self->failed;
    if (len > self->max_body - self->len)
        return s_failed (self, PL_ETOOBIG);
    int rc = intake_json_scan_feed (self->scan, data, len);
    if (rc != 0)
        return s_failed (self, rc);
    if (self->len + len + 1 > self->cap) {
        size_t cap = self->cap ? self->cap : 16384;
        while (cap < self->len + len + 1)
            cap *= 2;
        if (cap > self->max_body + 1)
            cap = self->max_body + 1;
        char *p = realloc (self->body, cap);
        if (!p)
            return s_failed (self, PL_ENOMEM);
        self->body = p;
        self->cap = cap;
    }
    memcpy (self->body + self->len, data, len);
    self->len += len;
    self->body[self->len] = '\0';
    return 0;
}

int
intake_json_finish (intake_json_t *self, bool *batch)
{
    if (batch)
        *batch = false;
    if (self->failed)
        return self->failed;
    int rc = intake_json_scan_finish (self->scan);
    if (rc != 0)
        return s_failed (self, rc);
    rc = s_emit_items (self->body ? self->body : "", self->scan, self->opts, self->fn, self->arg, batch,
                       &self->error);
    if (rc == PL_EINVAL)
        self->failed = rc;
    return rc;
}

const intake_error_t *
intake_json_error (const intake_json_t *self)
{
    return self->failed ? &self->error : NULL;
}

size_t
intake_json_held (const intake_json_t *self)
{
    return self->cap + intake_json_scan_items (self->scan, NULL) * sizeof (intake_json_span_t);
}
