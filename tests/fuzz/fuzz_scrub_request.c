/*  fuzz_scrub_request.c — libFuzzer target for the body of POST /v1/scrub
 *  (scrub_body_numbers, services/scrub/body.c).
 *
 *  The first byte picks JSON or CSV and the limit on numbers (the service's 10,000, or 1 to 64
 *  so that the limit is reached); the rest is the body. The body is either refused with a 400
 *  or 413 that says why (and where, for CSV and broken JSON), or gives at most the limit of
 *  numbers of at most 64 bytes: for JSON exactly the strings of "numbers", for CSV each a first
 *  cell found on its line, lines increasing. The numbers are then read as the route reads them,
 *  in the body's country.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "body.h"
#include "plateau/error.h"
#include "plateau/phone.h"

static pl_phone_t *s_phone;
static size_t s_lines[SCRUB_API_MAX_NUMBERS + 1];

/* Is `s` within line `line` (1-based) of the body? */
static bool
s_on_line (const uint8_t *body, size_t len, size_t line, const char *s)
{
    size_t at = 0;
    for (size_t l = 1; l < line; l++) {
        const uint8_t *nl = memchr (body + at, '\n', len - at);
        if (!nl)
            return false;
        at = (size_t) (nl - body) + 1;
    }
    const uint8_t *nl = memchr (body + at, '\n', len - at);
    size_t end = nl ? (size_t) (nl - body) : len;
    return memmem (body + at, end - at, s, strlen (s)) != NULL;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_phone && !(s_phone = pl_phone_new ()))
        abort ();
    if (size < 1)
        return 0;
    uint8_t b0 = data[0];
    data++;
    size--;
    bool json = b0 & 1;
    size_t max = (b0 & 2) ? SCRUB_API_MAX_NUMBERS : 1 + (b0 >> 2);
    /* A body of its own size, so that reading past it is seen. */
    char *body = size ? malloc (size) : NULL;
    if (size)
        memcpy (body, data, size);
    scrub_body_numbers_t b;
    scrub_body_error_t e;
    int rc = scrub_body_numbers (body, size, json, max, s_lines, &b, &e);
    if (rc == 0) {
        if (b.n > max || !b.nums || (json ? !b.doc || b.store : b.doc || !b.store))
            abort ();
        if (json) {
            json_t *a = json_object_get (b.doc, "numbers");
            if (json_array_size (a) != b.n)
                abort ();
            for (size_t i = 0; i < b.n; i++)
                if (b.nums[i] != json_string_value (json_array_get (a, i)))
                    abort ();
        }
        else if (b.campaign || b.country || b.jurisdiction)
            abort ();
        for (size_t i = 0; i < b.n; i++) {
            if (!b.nums[i] || strlen (b.nums[i]) > SCRUB_BODY_NUMBER_MAX)
                abort ();
            if (!json) {
                if (!*b.nums[i] || strpbrk (b.nums[i], ",;\t\r\n") || s_lines[i] < 1
                    || (i && s_lines[i] <= s_lines[i - 1]) || !s_on_line (data, size, s_lines[i], b.nums[i])
                    || (s_lines[i] == 1 && !strpbrk (b.nums[i], "0123456789")))
                    abort ();
            }
        }
        /* As the route reads them: in the body's country, else the service's. */
        const char *country = b.country && *b.country ? b.country : "FR";
        for (size_t i = 0; i < b.n && i < 32; i++) {
            pl_phone_number_t pn;
            if (pl_phone_parse (s_phone, b.nums[i], country, &pn) == 0 && pn.e164[0] != '+')
                abort ();
        }
    }
    else {
        if (rc == PL_ENOMEM)
            abort ();
        if ((rc == PL_ETOOBIG) != (e.status == 413) || (rc != PL_EINVAL && rc != PL_ETOOBIG)
            || (e.status != 400 && e.status != 413) || !e.code || !*e.message)
            abort ();
        if (!json && (e.line < 1 || e.line > (long) size + 1))
            abort ();
        if (json && strcmp (e.code, "bad_json") == 0 && size && e.line < 1)
            abort ();
    }
    scrub_body_numbers_fini (&b);
    free (body);
    return 0;
}
