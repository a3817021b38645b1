/*  ndjson_decode.c — streaming NDJSON decoder (see ndjson_decode.h).
 *
 *  Bytes are gathered into one line buffer that never grows beyond max_line: when a line is
 *  longer, the rest of it is skipped up to its newline and the line becomes a "too_long"
 *  rejection. Each complete line is scanned for the limits of a lead (json_scan.h: keys per
 *  object, values, nesting) and then parsed on its own with jansson, so a parse error names the
 *  line's own column and no line builds a DOM larger than a lead may be.
 */
#include "ndjson_decode.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_scan.h"
#include "plateau/error.h"

struct intake_ndjson {
    const intake_lead_opts_t *opts;
    intake_item_fn fn;
    void *arg;
    size_t max_line;
    size_t max_items;

    char *buf;                  /* current line, without its newline */
    size_t len;
    size_t cap;
    bool overflow;              /* current line exceeded max_line: skipping to its end */
    size_t line;                /* lines completed so far */
    size_t items;
    int failed;                 /* the code that ended decoding, 0 while running */
    intake_errors_t errors;     /* scratch for the current item */
    char err[256];
};

intake_ndjson_t *
intake_ndjson_new (const intake_lead_opts_t *opts, intake_item_fn fn, void *arg)
{
    if (!opts || !fn)
        return NULL;
    intake_ndjson_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->opts = opts;
    self->fn = fn;
    self->arg = arg;
    self->max_line = INTAKE_NDJSON_MAX_LINE;
    return self;
}

void
intake_ndjson_destroy (intake_ndjson_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->buf);
    free (*self_p);
    *self_p = NULL;
}

void
intake_ndjson_set_limits (intake_ndjson_t *self, size_t max_line, size_t max_items)
{
    self->max_line = max_line ? max_line : INTAKE_NDJSON_MAX_LINE;
    self->max_items = max_items;
}

size_t
intake_ndjson_items (const intake_ndjson_t *self)
{
    return self->items;
}

size_t
intake_ndjson_lines (const intake_ndjson_t *self)
{
    return self->line;
}

const char *
intake_ndjson_errstr (const intake_ndjson_t *self)
{
    return self->err;
}

static int
s_fail (intake_ndjson_t *self, int rc, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static int
s_fail (intake_ndjson_t *self, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (self->err, sizeof self->err, fmt, ap);
    va_end (ap);
    self->failed = rc;
    return rc;
}

/* Emits one item for the line just completed (number self->line). */
static int
s_emit (intake_ndjson_t *self, Plateau__V1__Lead *lead)
{
    if (self->max_items && self->items >= self->max_items) {
        intake_lead_free (&lead);
        return s_fail (self, PL_ETOOBIG, "more than %zu leads (line %zu)", self->max_items,
                       self->line);
    }
    intake_item_t item = {.index = self->items, .line = self->line, .lead = lead,
                          .errors = lead ? NULL : &self->errors};
    self->items++;
    int rc = self->fn (self->arg, &item);
    if (rc < 0)
        return s_fail (self, rc, "stopped by the receiver at line %zu", self->line);
    return 0;
}

static int
s_reject (intake_ndjson_t *self, const char *code, size_t column, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

static int
s_reject (intake_ndjson_t *self, const char *code, size_t column, const char *fmt, ...)
{
    intake_errors_clear (&self->errors);
    intake_errors_add (&self->errors, "", code, "%s", "");
    intake_error_t *e = &self->errors.items[0];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (e->message, sizeof e->message, fmt, ap);
    va_end (ap);
    intake_error_printable (e->message);
    e->line = self->line;
    e->column = column;
    return s_emit (self, NULL);
}

/* Decodes the line in buf[0..len). */
static int
s_line (intake_ndjson_t *self)
{
    self->line++;
    const char *p = self->buf;
    size_t n = self->len;
    self->len = 0;
    if (self->overflow) {
        self->overflow = false;
        return s_reject (self, INTAKE_E_TOO_LONG, 0, "line longer than %zu bytes",
                         self->max_line);
    }
    if (n > 0 && p[n - 1] == '\r')
        n--;
    if (self->line == 1 && n >= 3 && memcmp (p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3;
        n -= 3;
    }
    size_t blank = 0;
    while (blank < n && isspace ((unsigned char) p[blank]))
        blank++;
    if (blank == n)
        return 0;                                  /* blank line: not an item */

    /* The limits of a lead (keys, values, nesting) before jansson builds the line's DOM. A
     * malformed line is left to jansson, whose message names the problem; it stops there. */
    intake_error_t lim;
    int src = intake_json_scan_buffer (p, n, &(intake_json_limits_t) { .any_root = true }, &lim);
    if (src == PL_ENOMEM)
        return s_fail (self, PL_ENOMEM, "out of memory");
    if (src != 0 && strcmp (lim.code, INTAKE_E_MALFORMED) != 0)
        return s_reject (self, lim.code, lim.column, "%s", lim.message);
    json_error_t jerr;
    json_t *v = json_loadb (p, n, JSON_REJECT_DUPLICATES, &jerr);
    if (!v) {
        if (json_error_code (&jerr) == json_error_out_of_memory)
            return s_fail (self, PL_ENOMEM, "out of memory");
        return s_reject (self, INTAKE_E_MALFORMED, jerr.column > 0 ? (size_t) jerr.column : 1,
                         "malformed JSON: %s", jerr.text);
    }
    if (!json_is_object (v)) {
        json_decref (v);
        return s_reject (self, INTAKE_E_WRONG_TYPE, 1, "each line is one lead object");
    }
    Plateau__V1__Lead *lead = NULL;
    int rc = intake_lead_from_json (v, self->opts, &lead, &self->errors);
    json_decref (v);
    if (rc == PL_ENOMEM)
        return s_fail (self, PL_ENOMEM, "out of memory");
    for (size_t i = 0; i < self->errors.count && !lead; i++)
        self->errors.items[i].line = self->line;
    return s_emit (self, lead);
}

static int
s_append (intake_ndjson_t *self, const char *data, size_t n)
{
    if (self->overflow || n == 0)
        return 0;
    if (self->len + n > self->max_line) {
        self->overflow = true;
        return 0;
    }
    if (self->len + n > self->cap) {
        size_t cap = self->cap ? self->cap : 1024;
        while (cap < self->len + n)
            cap *= 2;
        if (cap > self->max_line)
            cap = self->max_line;
        char *b = realloc (self->buf, cap);
        if (!b)
            return s_fail (self, PL_ENOMEM, "out of memory");
        self->buf = b;
        self->cap = cap;
    }
    memcpy (self->buf + self->len, data, n);
    self->len += n;
    return 0;
}

int
intake_ndjson_feed (intake_ndjson_t *self, const void *data, size_t len)
{
    if (!self || (!data && len))
        return PL_EINVAL;
    if (self->failed)
        return PL_ECLOSED;
    const char *p = data;
    while (len > 0) {
        const char *nl = memchr (p, '\n', len);
        size_t n = nl ? (size_t) (nl - p) : len;
        int rc = s_append (self, p, n);
        if (rc < 0)
            return rc;
        if (!nl)
            break;
        rc = s_line (self);
        if (rc < 0)
            return rc;
        p += n + 1;
        len -= n + 1;
    }
    return 0;
}

int
intake_ndjson_finish (intake_ndjson_t *self)
{
    if (!self)
        return PL_EINVAL;
    if (self->failed)
        return PL_ECLOSED;
    if (self->len > 0 || self->overflow) {
        int rc = s_line (self);
        if (rc < 0)
            return rc;
    }
    self->failed = PL_ECLOSED;                     /* nothing more may be fed */
    return (int) self->items;
}
