/*  body.h — the request bodies of scrub's HTTP API, read without HTTP: the numbers of
 *  POST /v1/scrub (JSON {"numbers":[…]} or CSV), an opt-out (POST /v1/dnc) and a consent
 *  (POST /v1/consents). Each reader either fills its result or says why not in a
 *  scrub_body_error_t, which api.c sends as the project's error reply. What needs more than the
 *  body — the number read as E.164, the tenant the source may act for — stays with the route.
 */
#ifndef SCRUB_BODY_H
#define SCRUB_BODY_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCRUB_BODY_NUMBER_MAX 64            /* an input number's bytes */

/* Why a body was refused: the reply's status, code, message and field ("" for none), with the
 * place in the body (1-based; 0 when it is not about a place). */
typedef struct {
    int status;                             /* 400, 413 */
    const char *code;                       /* "bad_json", "invalid", "missing", "too_many_items" */
    char message[192];
    char field[40];
    long line, column;
} scrub_body_error_t;

/* The numbers of a POST /v1/scrub body, in order; strings point into doc or store. */
typedef struct {
    json_t *doc;                            /* a JSON body, or NULL */
    char *store;                            /* a CSV body's copy, or NULL */
    char **nums;
    size_t n;
    /* What a JSON body names (NULL when it does not, or not as a string). */
    const char *campaign, *country, *jurisdiction, *callee;
} scrub_body_numbers_t;

/* Reads `len` bytes of body (NULL: none) as JSON {"numbers":[…]} when json, else as CSV: the
 * number in the first column of each line (',', ';' or TAB), a first line without a digit
 * being a header. At most max_numbers; lines (max_numbers + 1 entries, CSV only) gets each
 * number's line. 0; PL_EINVAL or PL_ETOOBIG with *err; PL_ENOMEM. Release *out with
 * scrub_body_numbers_fini whatever the answer. */
int scrub_body_numbers (const char *body, size_t len, bool json, size_t max_numbers, size_t *lines,
                        scrub_body_numbers_t *out, scrub_body_error_t *err);
void scrub_body_numbers_fini (scrub_body_numbers_t *self);

/* POST /v1/dnc: {number, country, tenant, debt_ref, channel, requested_at}. Strings point into
 * doc ("" when absent); requested_at_ms is 0 when absent. */
typedef struct {
    json_t *doc;
    const char *number, *country, *tenant, *debt_ref, *channel;
    int64_t requested_at_ms;
} scrub_body_optout_t;

/* 0 (number present, every member of its type and size); PL_EINVAL with *err. Release *out with
 * scrub_body_optout_fini whatever the answer. */
int scrub_body_optout (const char *body, size_t len, scrub_body_optout_t *out, scrub_body_error_t *err);
void scrub_body_optout_fini (scrub_body_optout_t *self);

/* POST /v1/consents: {number, country, tenant, subject, campaign, channel, purpose, source,
 * evidence_ref, wording_version, ref, written, captured_at}. Strings point into doc ("" when
 * absent). */
typedef struct {
    json_t *doc;
    const char *number, *country, *tenant, *subject, *campaign, *channel, *purpose, *source,
        *evidence_ref, *wording_version, *ref;
    bool written;
    int64_t captured_at_ms;
} scrub_body_consent_t;

/* 0 (number, evidence_ref, source and captured_at present, captured_at no later than five
 * minutes after now_ms, channel phone, sms, email or none); PL_EINVAL with *err. Release *out
 * with scrub_body_consent_fini whatever the answer. */
int scrub_body_consent (const char *body, size_t len, int64_t now_ms, scrub_body_consent_t *out,
                        scrub_body_error_t *err);
void scrub_body_consent_fini (scrub_body_consent_t *self);

#endif
