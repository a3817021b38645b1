/*  body.c — scrub's HTTP request bodies (see body.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "plateau/error.h"
#include "plateau/timefmt.h"

/* Fills *err and returns rc. */
static int
s_error (scrub_body_error_t *err, int rc, int status, const char *code, const char *field, long line,
         long column, const char *fmt, ...)
{
    err->status = status;
    err->code = code;
    snprintf (err->field, sizeof err->field, "%s", field ? field : "");
    err->line = line;
    err->column = column;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (err->message, sizeof err->message, fmt, ap);
    va_end (ap);
    return rc;
}

/* ---- POST /v1/scrub ------------------------------------------------------------------------ */

static int
s_numbers_json (const char *body, size_t len, size_t max, scrub_body_numbers_t *out, scrub_body_error_t *err)
{
    json_error_t e;
    json_t *o = body ? json_loadb (body, len, 0, &e) : NULL;
    if (!o)
        return s_error (err, PL_EINVAL, 400, "bad_json", NULL, body ? e.line : 0, body ? e.column : 0, "%s",
                        body ? e.text : "empty body");
    json_t *a = json_object_get (o, "numbers");
    if (!json_is_array (a)) {
        json_decref (o);
        return s_error (err, PL_EINVAL, 400, "invalid", "numbers", 0, 0, "expected {\"numbers\":[…]}");
    }
    if (json_array_size (a) > max) {
        json_decref (o);
        return s_error (err, PL_ETOOBIG, 413, "too_many_items", "numbers", 0, 0, "at most %zu numbers a request",
                        max);
    }
    out->nums = calloc (json_array_size (a) + 1, sizeof (char *));
    for (size_t i = 0; out->nums && i < json_array_size (a); i++) {
        json_t *v = json_array_get (a, i);
        if (!json_is_string (v) || json_string_length (v) > SCRUB_BODY_NUMBER_MAX) {
            char f[32];
            snprintf (f, sizeof f, "numbers[%zu]", i);
            free (out->nums);
            out->nums = NULL;
            out->n = 0;
            json_decref (o);
            return s_error (err, PL_EINVAL, 400, "invalid", f, 0, 0, "each number is a string of at most %d bytes",
                            SCRUB_BODY_NUMBER_MAX);
        }
        out->nums[out->n++] = (char *) json_string_value (v);
    }
    out->doc = o;
    out->campaign = json_string_value (json_object_get (o, "campaign"));
    out->country = json_string_value (json_object_get (o, "country"));
    out->jurisdiction = json_string_value (json_object_get (o, "jurisdiction"));
    out->callee = json_string_value (json_object_get (o, "callee"));
    return out->nums ? 0 : PL_ENOMEM;
}

static int
s_numbers_csv (const char *body, size_t len, size_t max, size_t *lines, scrub_body_numbers_t *out,
               scrub_body_error_t *err)
{
    out->store = malloc (len + 1);
    out->nums = calloc (max + 1, sizeof (char *));
    if (!out->store || !out->nums)
        return PL_ENOMEM;
    memcpy (out->store, body ? body : "", len);
    out->store[len] = '\0';
    size_t line = 0;
    for (char *p = out->store; p && *p;) {
        char *end = strchr (p, '\n');
        if (end)
            *end = '\0';
        line++;
        p[strcspn (p, ",;\t\r")] = '\0';
        char *f = p;
        if (*f == '"') {
            f++;
            f[strcspn (f, "\"")] = '\0';
        }
        bool header = line == 1 && !strpbrk (f, "0123456789");
        if (*f && !header) {
            if (out->n == max)
                return s_error (err, PL_ETOOBIG, 413, "too_many_items", NULL, (long) line, 0,
                                "at most %zu numbers a request", max);
            if (strlen (f) > SCRUB_BODY_NUMBER_MAX)
                return s_error (err, PL_EINVAL, 400, "invalid", NULL, (long) line, 1, "a number is at most %d bytes",
                                SCRUB_BODY_NUMBER_MAX);
            lines[out->n] = line;
            out->nums[out->n++] = f;
        }
        p = end ? end + 1 : NULL;
    }
    return 0;
}

int
scrub_body_numbers (const char *body, size_t len, bool json, size_t max_numbers, size_t *lines,
                    scrub_body_numbers_t *out, scrub_body_error_t *err)
{
    memset (out, 0, sizeof *out);
    return json ? s_numbers_json (body, len, max_numbers, out, err)
                : s_numbers_csv (body, len, max_numbers, lines, out, err);
}

void
scrub_body_numbers_fini (scrub_body_numbers_t *self)
{
    json_decref (self->doc);
    free (self->store);
    free (self->nums);
    memset (self, 0, sizeof *self);
}

/* ---- members ------------------------------------------------------------------------------- */

/* The body as a JSON object (duplicate keys refused); NULL with *err naming line and column. */
static json_t *
s_object (const char *body, size_t len, scrub_body_error_t *err)
{
    json_error_t e;
    json_t *o = body ? json_loadb (body, len, JSON_REJECT_DUPLICATES, &e) : NULL;
    if (!o) {
        s_error (err, PL_EINVAL, 400, "bad_json", NULL, body ? e.line : 0, body ? e.column : 0, "%s",
                 body ? e.text : "empty body");
        return NULL;
    }
    if (!json_is_object (o)) {
        json_decref (o);
        s_error (err, PL_EINVAL, 400, "bad_json", NULL, 0, 0, "expected a JSON object");
        return NULL;
    }
    return o;
}

/* An optional string member ("" when absent or null); false with *err when present and not a
 * string of at most max bytes without NUL. */
static bool
s_member (json_t *o, const char *k, size_t max, const char **out, scrub_body_error_t *err)
{
    json_t *v = json_object_get (o, k);
    *out = "";
    if (!v || json_is_null (v))
        return true;
    if (!json_is_string (v) || json_string_length (v) > max || strlen (json_string_value (v)) != json_string_length (v)) {
        s_error (err, PL_EINVAL, 400, "invalid", k, 0, 0, "%s must be a string of at most %zu bytes", k, max);
        return false;
    }
    *out = json_string_value (v);
    return true;
}

/* An optional instant after 1970: RFC 3339 or UTC ms (0 when absent). A time written before
 * 1970 is refused as its milliseconds are: it would pass for a capture time that is not 0. */
static bool
s_instant (json_t *o, const char *k, int64_t *out, scrub_body_error_t *err)
{
    json_t *v = json_object_get (o, k);
    *out = 0;
    if (!v || json_is_null (v))
        return true;
    if (json_is_integer (v) && json_integer_value (v) > 0) {
        *out = json_integer_value (v);
        return true;
    }
    if (json_is_string (v) && pl_time_parse_rfc3339 (json_string_value (v), out) == 0 && *out > 0)
        return true;
    *out = 0;
    s_error (err, PL_EINVAL, 400, "invalid", k, 0, 0, "expected an RFC 3339 time or UTC milliseconds");
    return false;
}

/* ---- POST /v1/dnc -------------------------------------------------------------------------- */

int
scrub_body_optout (const char *body, size_t len, scrub_body_optout_t *out, scrub_body_error_t *err)
{
    memset (out, 0, sizeof *out);
    json_t *o = out->doc = s_object (body, len, err);
    if (!o)
        return PL_EINVAL;
    if (!s_member (o, "number", SCRUB_BODY_NUMBER_MAX, &out->number, err)
        || !s_member (o, "country", 2, &out->country, err) || !s_member (o, "tenant", 100, &out->tenant, err)
        || !s_member (o, "debt_ref", 100, &out->debt_ref, err) || !s_member (o, "channel", 32, &out->channel, err)
        || !s_instant (o, "requested_at", &out->requested_at_ms, err))
        return PL_EINVAL;
    if (!*out->number)
        return s_error (err, PL_EINVAL, 400, "missing", "number", 0, 0, "number is required");
    return 0;
}

void
scrub_body_optout_fini (scrub_body_optout_t *self)
{
    json_decref (self->doc);
    memset (self, 0, sizeof *self);
}

/* ---- POST /v1/consents --------------------------------------------------------------------- */

int
scrub_body_consent (const char *body, size_t len, int64_t now_ms, scrub_body_consent_t *out,
                    scrub_body_error_t *err)
{
    memset (out, 0, sizeof *out);
    json_t *o = out->doc = s_object (body, len, err);
    if (!o)
        return PL_EINVAL;
    if (!s_member (o, "number", SCRUB_BODY_NUMBER_MAX, &out->number, err)
        || !s_member (o, "country", 2, &out->country, err) || !s_member (o, "tenant", 100, &out->tenant, err)
        || !s_member (o, "subject", 100, &out->subject, err) || !s_member (o, "campaign", 100, &out->campaign, err)
        || !s_member (o, "channel", 32, &out->channel, err) || !s_member (o, "purpose", 100, &out->purpose, err)
        || !s_member (o, "source", 512, &out->source, err)
        || !s_member (o, "evidence_ref", 512, &out->evidence_ref, err)
        || !s_member (o, "wording_version", 100, &out->wording_version, err)
        || !s_member (o, "ref", 128, &out->ref, err) || !s_instant (o, "captured_at", &out->captured_at_ms, err))
        return PL_EINVAL;
    json_t *w = json_object_get (o, "written");
    if (w && !json_is_boolean (w))
        return s_error (err, PL_EINVAL, 400, "invalid", "written", 0, 0, "written is true or false");
    out->written = json_is_true (w);
    const char *missing = !*out->number ? "number" : !*out->evidence_ref ? "evidence_ref"
                        : !*out->source ? "source" : !out->captured_at_ms ? "captured_at" : NULL;
    if (missing)
        return s_error (err, PL_EINVAL, 400, "missing", missing, 0, 0,
                        "%s is required: a consent is only as good as its proof", missing);
    if (out->captured_at_ms > now_ms + 300000)
        return s_error (err, PL_EINVAL, 400, "invalid", "captured_at", 0, 0, "captured_at is in the future");
    const char *ch = out->channel;
    if (*ch && strcmp (ch, "phone") != 0 && strcmp (ch, "sms") != 0 && strcmp (ch, "email") != 0)
        return s_error (err, PL_EINVAL, 400, "invalid", "channel", 0, 0, "channel is phone, sms or email");
    return 0;
}

void
scrub_body_consent_fini (scrub_body_consent_t *self)
{
    json_decref (self->doc);
    memset (self, 0, sizeof *self);
}
