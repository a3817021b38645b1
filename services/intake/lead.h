/*  lead.h — one lead from a CRM: validated, normalised, and turned into a plateau.v1.Lead.
 *
 *  Every door of the intake (JSON, NDJSON, CSV, the bus) ends here, so a lead means the same
 *  thing whichever way it came in: intake_lead_from_json() and intake_lead_from_pb() read their
 *  input into one form and run the same checks on it. intake_lead_from_json() reads one JSON
 *  object with the snake_case names of the public API:
 *
 *      external_id, campaign, phone, alt_phones[], country, first_name, last_name, address,
 *      postal_code, state, email, timezone, callee,
 *      consents[] {scope, channel, source, captured_at, proof_ref, wording_version, revoked_at,
 *                  number},
 *      debt {account_ref, creditor, balance, currency, first_letter_ref, first_letter_at},
 *      custom {}
 *
 *  and either fills a new Plateau__V1__Lead or lists what is wrong, field by field, as
 *  {field, code, message}: `phone` `invalid_number` "not a valid FR number: too short". It
 *  checks types (a phone sent as a JSON number has lost its leading zero), bounds every length,
 *  normalises numbers to E.164 with their type, region and candidate time zones (postal code,
 *  state and the CRM's time zone taken into account, see plateau/phone.h), and keeps unknown
 *  fields in `custom` or rejects them, as the source is configured — never drops them.
 *  `callee` says who is called: "consumer", "business" or "sole-trader", stored so spelled
 *  whatever the case given ("sole_trader" too); left out, it is empty and read as a consumer.
 *
 *  The decoders (json_decode.h, ndjson_decode.h, csv_decode.h) hand out their results as
 *  intake_item_t through an intake_item_fn callback, declared here because they all share it.
 */
#ifndef PL_INTAKE_LEAD_H
#define PL_INTAKE_LEAD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plateau/phone.h"
#include "plateau/v1/lead.pb-c.h"

/* ------------------------------------------------------------------------------------------- */
/* Errors                                                                                       */

/* Stable, machine-readable error codes (the `code` of an error in the HTTP answer). */
#define INTAKE_E_REQUIRED         "required"          /* missing or empty */
#define INTAKE_E_WRONG_TYPE       "wrong_type"        /* string expected and got a number, … */
#define INTAKE_E_TOO_LONG         "too_long"          /* value, line or record over its bound */
#define INTAKE_E_TOO_MANY         "too_many"          /* too many alt phones, consents, … */
#define INTAKE_E_INVALID_VALUE    "invalid_value"     /* control characters, bad charset, … */
#define INTAKE_E_INVALID_NUMBER   "invalid_number"    /* phone numbers */
#define INTAKE_E_INVALID_COUNTRY  "invalid_country"
#define INTAKE_E_INVALID_EMAIL    "invalid_email"
#define INTAKE_E_INVALID_TIMEZONE "invalid_timezone"
#define INTAKE_E_INVALID_TIME     "invalid_time"      /* not RFC 3339 / milliseconds */
#define INTAKE_E_INVALID_CURRENCY "invalid_currency"
#define INTAKE_E_INVALID_AMOUNT   "invalid_amount"
#define INTAKE_E_UNKNOWN_FIELD    "unknown_field"     /* only when the source rejects them */
#define INTAKE_E_EXTRA_COLUMN     "extra_column"      /* CSV: cell beyond the header's columns */
#define INTAKE_E_MALFORMED        "malformed"         /* unparsable JSON, unterminated quote */
#define INTAKE_E_TOO_BIG          "too_big"           /* batch over its item limit */

#define INTAKE_MAX_ERRORS 16

/* One error. For JSON items `field` is the path of the value ("phone", "alt_phones[1]",
 * "consents[0].captured_at", "debt.balance", "custom.city"; "" for the whole item). For CSV
 * and NDJSON items `line` is the 1-based input line; for CSV `column` is the 1-based field
 * index and `header` that column's header text (or its mapping target); for a malformed
 * NDJSON line or JSON body `column` is the character column of the parse error. 0 when not
 * known. */
typedef struct {
    char field[64];
    const char *code;                   /* one of INTAKE_E_* (static) */
    char message[192];
    size_t line;
    size_t column;
    char header[64];
} intake_error_t;

/* What could still be read of a rejected lead, for its audit event: the CRM's id and the
 * campaign when those fields themselves were valid ("" otherwise: a lead may be rejected for its
 * other fields), and whether it names a debt (one with a valid field, as an accepted lead would). */
typedef struct {
    char external_id[129];
    char campaign[65];
    bool debt;
} intake_known_t;

typedef struct {
    size_t count;                       /* entries in items[] */
    size_t dropped;                     /* further errors counted but not kept */
    intake_error_t items[INTAKE_MAX_ERRORS];
    intake_known_t known;               /* filled by intake_lead_from_*; cleared with the rest */
} intake_errors_t;

void intake_errors_clear (intake_errors_t *errors);

/* Appends an error (printf-style message); counts it in `dropped` when full. */
/* Makes s safe to send back: what is not well-formed UTF-8, and control characters, become
 * '?' (a value cut to fit, or bytes quoted from a binary body, a compressed one sent without
 * its Content-Encoding, would otherwise echo binary or make the error unprintable as JSON). */
void intake_error_printable (char *s);
void intake_errors_add (intake_errors_t *errors, const char *field, const char *code,
                        const char *fmt, ...) __attribute__ ((format (printf, 4, 5)));

/* [{"field":…,"code":…,"message":…[,"line":…][,"column":…][,"header":…]}, …]: a new reference,
 * or NULL when out of memory. */
json_t *intake_errors_to_json (const intake_errors_t *errors);
json_t *intake_error_to_json (const intake_error_t *error);

/* ------------------------------------------------------------------------------------------- */
/* Decoding one lead                                                                            */

typedef struct {
    pl_phone_t *phone;                  /* borrowed; required */
    const char *source;                 /* the CRM source (named by the API token) → Lead.source */
    const char *default_campaign;       /* for leads that name none (query parameter) */
    const char *default_country;        /* region for national-format numbers when the lead has
                                           no `country` (ISO alpha-2, upper case; ignored when
                                           libphonenumber does not know it) */
    bool reject_unknown;                /* false: unknown fields go to custom; true: rejected */
    int64_t received_at_ms;             /* → Lead.received_at_ms; also the "now" that consent
                                           times may not be after (0: not checked) */
    bool text_values;                   /* every value arrives as text (CSV): numbers and times
                                           given as strings are read as such */
} intake_lead_opts_t;

/* Bounds on what one lead may carry. */
#define INTAKE_MAX_ALT_PHONES 8
#define INTAKE_MAX_CONSENTS 16
#define INTAKE_MAX_CUSTOM 64
#define INTAKE_MAX_CUSTOM_KEY 64
#define INTAKE_MAX_CUSTOM_VALUE 1024

/* Validates and normalises one lead. On success returns 0 and sets *lead to a new lead (free
 * with intake_lead_free); otherwise returns PL_EINVAL with the reasons in *errors (cleared
 * first), or PL_ENOMEM. Lead.id and Lead.trace_id are left empty for the service to set. */
int intake_lead_from_json (const json_t *obj, const intake_lead_opts_t *opts,
                           Plateau__V1__Lead **lead, intake_errors_t *errors);

/* The same for a lead that came as a protobuf message (a native submission on the bus):
 * the same rules, error codes and field names as intake_lead_from_json() given the lead's API
 * form, times and amounts being integers. A number is read from phone.raw, or from phone.e164
 * when raw is empty; its type, region and zones are worked out again. Fields that only the
 * intake sets (id, source, received_at_ms, trace_id) are unknown fields, named as the API shows
 * them ("id", "source", "received_at", "trace_id"): kept in custom or rejected, as for JSON. A
 * NULL `in` is an empty lead. Borrows `in`; *lead is a new lead, as above. */
int intake_lead_from_pb (const Plateau__V1__Lead *in, const intake_lead_opts_t *opts,
                         Plateau__V1__Lead **lead, intake_errors_t *errors);

/* Frees *lead_p and sets it to NULL; safe to call twice. */
void intake_lead_free (Plateau__V1__Lead **lead_p);

/* The lead as the API shows it: the same names as the input, numbers as objects
 * {e164, type, region, zones[], zone_source, raw}, times as RFC 3339 UTC strings, empty fields
 * left out. A new reference, or NULL when out of memory. */
json_t *intake_lead_to_json (const Plateau__V1__Lead *lead);

/* ------------------------------------------------------------------------------------------- */
/* What decoders emit                                                                           */

/* One item of the input, in input order. */
typedef struct {
    size_t index;                       /* 0-based, counts items (not blank lines or headers) */
    size_t line;                        /* 1-based line where the item starts (CSV, NDJSON);
                                           0 for items of a JSON body */
    Plateau__V1__Lead *lead;            /* accepted: a new lead, owned by the callback from
                                           the moment it is called (intake_lead_free); NULL
                                           when rejected */
    const intake_errors_t *errors;      /* rejected: count ≥ 1, borrowed for the call only;
                                           accepted: NULL */
} intake_item_t;

/* Called once per item. Return 0 to go on, or a negative PL_E* code to stop decoding: the
 * decoder then returns that code (the callback still owns item->lead). */
typedef int (*intake_item_fn) (void *arg, const intake_item_t *item);

#endif
