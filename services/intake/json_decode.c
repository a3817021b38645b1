/*  json_decode.c — a JSON request body: one lead or {"leads": […]} (see json_decode.h).
 */
#include "json_decode.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plateau/error.h"

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

int
intake_json_decode (const char *body, size_t len, const intake_lead_opts_t *opts,
                    size_t max_items, intake_item_fn fn, void *arg, bool *batch,
                    intake_error_t *fatal)
{
    if (batch)
        *batch = false;
    if (!body || !opts || !fn)
        return PL_EINVAL;
    if (max_items == 0)
        max_items = INTAKE_JSON_MAX_ITEMS;
    if (len >= 3 && memcmp (body, "\xEF\xBB\xBF", 3) == 0) {
        body += 3;
        len -= 3;
    }
    json_error_t jerr;
    json_t *root = json_loadb (body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        if (json_error_code (&jerr) == json_error_out_of_memory)
            return PL_ENOMEM;
        return s_fatal (fatal, PL_EINVAL, INTAKE_E_MALFORMED,
                        jerr.line > 0 ? (size_t) jerr.line : 1,
                        jerr.column > 0 ? (size_t) jerr.column : 1, "malformed JSON: %s",
                        jerr.text);
    }
    if (!json_is_object (root)) {
        json_decref (root);
        return s_fatal (fatal, PL_EINVAL, INTAKE_E_WRONG_TYPE, 1, 1,
                        "the body is a lead object or {\"leads\": [...]}");
    }

    int rc;
    json_t *leads = json_object_get (root, "leads");
    if (!leads) {
        rc = s_emit (root, 0, opts, fn, arg);
        json_decref (root);
        return rc < 0 ? rc : 1;
    }
    if (batch)
        *batch = true;
    if (!json_is_array (leads)) {
        json_decref (root);
        return s_fatal (fatal, PL_EINVAL, INTAKE_E_WRONG_TYPE, 1, 1,
                        "\"leads\" must be an array of lead objects");
    }
    if (json_object_size (root) != 1) {
        json_decref (root);
        return s_fatal (fatal, PL_EINVAL, INTAKE_E_UNKNOWN_FIELD, 1, 1,
                        "a batch holds only \"leads\" (give the campaign as a parameter or in "
                        "each lead)");
    }
    size_t n = json_array_size (leads);
    if (n > max_items) {
        json_decref (root);
        return s_fatal (fatal, PL_ETOOBIG, INTAKE_E_TOO_BIG, 1, 1,
                        "%zu leads in one batch; at most %zu", n, max_items);
    }
    for (size_t i = 0; i < n; i++) {
        rc = s_emit (json_array_get (leads, i), i, opts, fn, arg);
        if (rc < 0) {
            json_decref (root);
            return rc;
        }
    }
    json_decref (root);
    return (int) n;
}
