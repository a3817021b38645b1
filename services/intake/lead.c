/*  lead.c — validation and normalisation of one lead (see lead.h).
 *
 *  A lead is read in two passes. The first is the door's: the JSON door sorts an object's
 *  members into known fields and unknown ones (kept in custom or rejected), the bus door reads a
 *  Plateau__V1__Lead's fields; both leave borrowed values in one s_input_t and stage the custom
 *  fields. The second, shared by both, reads the known fields in dependency order: country
 *  first (it is the default region of national numbers), then the address parts and the CRM's
 *  time zone (they refine the zones), then the numbers. Every problem is recorded and reading
 *  goes on, so that the CRM learns about all of them at once.
 */
#include "lead.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plateau/error.h"
#include "plateau/rules.h"
#include "plateau/timefmt.h"
#include "plateau/utf8.h"

/* ------------------------------------------------------------------------------------------- */
/* Errors                                                                                       */

void
intake_errors_clear (intake_errors_t *errors)
{
    errors->count = 0;
    errors->dropped = 0;
    memset (&errors->known, 0, sizeof errors->known);
}

void
intake_error_printable (char *s)
{
    size_t n = strlen (s);
    for (size_t i = 0; i < n;) {
        unsigned char b = (unsigned char) s[i];
        size_t len = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0;
        if (len > 1 && i + len <= n && pl_utf8_valid (s + i, len))
            i += len;
        else if (len == 1 && b >= 0x20 && b != 0x7F)
            i++;
        else
            s[i++] = '?';
    }
}

void
intake_errors_add (intake_errors_t *errors, const char *field, const char *code,
                   const char *fmt, ...)
{
    if (errors->count >= INTAKE_MAX_ERRORS) {
        errors->dropped++;
        return;
    }
    intake_error_t *e = &errors->items[errors->count++];
    memset (e, 0, sizeof *e);
    snprintf (e->field, sizeof e->field, "%s", field ? field : "");
    e->code = code;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (e->message, sizeof e->message, fmt, ap);
    va_end (ap);
    intake_error_printable (e->field);
    intake_error_printable (e->message);
}

json_t *
intake_error_to_json (const intake_error_t *e)
{
    json_t *o = json_object ();
    if (!o)
        return NULL;
    int rc = json_object_set_new (o, "field", json_string (e->field));
    rc |= json_object_set_new (o, "code", json_string (e->code ? e->code : "invalid_value"));
    rc |= json_object_set_new (o, "message", json_string (e->message));
    if (e->line)
        rc |= json_object_set_new (o, "line", json_integer ((json_int_t) e->line));
    if (e->column)
        rc |= json_object_set_new (o, "column", json_integer ((json_int_t) e->column));
    if (e->header[0])
        rc |= json_object_set_new (o, "header", json_string (e->header));
    if (rc) {
        json_decref (o);
        return NULL;
    }
    return o;
}

json_t *
intake_errors_to_json (const intake_errors_t *errors)
{
    json_t *a = json_array ();
    if (!a)
        return NULL;
    for (size_t i = 0; i < errors->count; i++)
        if (json_array_append_new (a, intake_error_to_json (&errors->items[i])) < 0) {
            json_decref (a);
            return NULL;
        }
    return a;
}

/* ------------------------------------------------------------------------------------------- */
/* Times                                                                                        */

/* RFC 3339 times are read and written by plateau/timefmt.h, the project's one parser. */

/* Latest time accepted: 9999-12-31T23:59:59.999Z. */
#define S_MAX_MS INT64_C(253402300799999)
/* ------------------------------------------------------------------------------------------- */
/* What a door hands over                                                                       */

/* The JSON door and the bus door each read their input into one s_input_t of borrowed values,
 * and every check below reads that, so a rule is written once and means the same through both.
 * A value keeps the type it came with: a phone sent as a JSON number is refused as one. The bus
 * door's values are strings, and milliseconds for times and amounts; a proto3 default ("" or 0)
 * is a value not given, as an absent JSON member is. */
typedef enum {
    V_ABSENT, V_NULL, V_STRING, V_INT, V_REAL, V_BOOL, V_OBJECT, V_ARRAY
} s_kind_t;

typedef struct {
    s_kind_t kind;
    const char *s;                      /* V_STRING: len bytes, NUL-terminated, may hold NULs */
    size_t len;
    int64_t i;                          /* V_INT */
} s_val_t;

/* Known top-level fields, in the order they are read. */
enum {
    F_COUNTRY, F_POSTAL_CODE, F_STATE, F_TIMEZONE, F_EXTERNAL_ID, F_CAMPAIGN, F_FIRST_NAME,
    F_LAST_NAME, F_ADDRESS, F_EMAIL, F_CALLEE, F_PHONE, F_ALT_PHONES, F_CONSENTS, F_DEBT,
    F_CUSTOM, F_COUNT
};

static const char *const s_field_names[F_COUNT] = {
    "country", "postal_code", "state", "timezone", "external_id", "campaign", "first_name",
    "last_name", "address", "email", "callee", "phone", "alt_phones", "consents", "debt",
    "custom",
};

/* The fields of a consent and of a debt. */
enum {
    K_SCOPE, K_CHANNEL, K_SOURCE, K_CAPTURED_AT, K_PROOF_REF, K_WORDING_VERSION, K_REVOKED_AT,
    K_NUMBER, K_COUNT
};

static const char *const s_consent_names[K_COUNT] = {
    "scope", "channel", "source", "captured_at", "proof_ref", "wording_version", "revoked_at",
    "number",
};

enum {
    D_ACCOUNT_REF, D_CREDITOR, D_BALANCE, D_CURRENCY, D_FIRST_LETTER_REF, D_FIRST_LETTER_AT,
    D_COUNT
};

static const char *const s_debt_names[D_COUNT] = {
    "account_ref", "creditor", "balance", "currency", "first_letter_ref", "first_letter_at",
};

/* One lead as a door read it. Custom fields (and unknown ones) are not here: the door stages
 * them as it meets them (s_custom_put), since only it knows how their values are spelled. */
typedef struct {
    s_val_t f[F_COUNT];                 /* alt_phones, consents, debt, custom: their kind only */
    size_t n_alt_phones;                /* as given: over the bound is an error */
    s_val_t alt_phones[INTAKE_MAX_ALT_PHONES];
    size_t n_consents;                  /* as given */
    s_kind_t consent_kind[INTAKE_MAX_CONSENTS];
    s_val_t consents[INTAKE_MAX_CONSENTS][K_COUNT];
    s_val_t debt[D_COUNT];              /* when f[F_DEBT] is an object */
} s_input_t;

/* ------------------------------------------------------------------------------------------- */
/* Decoding context                                                                             */

typedef struct {
    char *key;
    char *value;
} s_kv_t;

typedef struct {
    const intake_lead_opts_t *opts;
    intake_errors_t *errs;
    Plateau__V1__Lead *lead;            /* owned until handed out */
    s_input_t in;
    const char *region;                 /* default region for national numbers, or NULL */
    const char *override;               /* valid CRM time zone, or NULL */
    s_kv_t custom[INTAKE_MAX_CUSTOM];
    size_t n_custom;
    bool custom_overflow;
    bool oom;
} s_ctx_t;

static void
s_err (s_ctx_t *c, const char *field, const char *code, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

static void
s_err (s_ctx_t *c, const char *field, const char *code, const char *fmt, ...)
{
    char msg[sizeof c->errs->items[0].message];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (msg, sizeof msg, fmt, ap);
    va_end (ap);
    intake_errors_add (c->errs, field, code, "%s", msg);
}

static char *
s_strndup (s_ctx_t *c, const char *s, size_t n)
{
    char *d = malloc (n + 1);
    if (!d) {
        c->oom = true;
        return NULL;
    }
    memcpy (d, s, n);
    d[n] = '\0';
    return d;
}

static const char *
s_type_name (s_kind_t kind)
{
    switch (kind) {
    case V_OBJECT: return "an object";
    case V_ARRAY: return "an array";
    case V_STRING: return "a string";
    case V_INT: return "an integer";
    case V_REAL: return "a number";
    case V_BOOL: return "a boolean";
    case V_NULL: return "null";
    case V_ABSENT: return "nothing";
    }
    return "a value";
}

static bool
s_given (const s_val_t *v)
{
    return v->kind != V_ABSENT && v->kind != V_NULL;
}

/* ------------------------------------------------------------------------------------------- */
/* Strings                                                                                      */

enum {
    S_MULTILINE = 1,        /* newlines and tabs allowed (addresses) */
    S_ALLOW_INT = 2,        /* a JSON integer is read as its decimal text (CRM ids) */
};

/* Reads a text field. Returns 1 with *out a new trimmed string, 0 when absent, null or blank,
 * -1 after recording an error. */
static int
s_text (s_ctx_t *c, const s_val_t *v, const char *path, size_t max, int flags, char **out)
{
    *out = NULL;
    if (!s_given (v))
        return 0;
    char num[32];
    const char *s;
    size_t len;
    if (v->kind == V_STRING) {
        s = v->s;
        len = v->len;
    }
    else if ((flags & S_ALLOW_INT) && v->kind == V_INT) {
        len = (size_t) snprintf (num, sizeof num, "%" PRId64, v->i);
        s = num;
    }
    else {
        s_err (c, path, INTAKE_E_WRONG_TYPE, "%s must be a string, not %s", path,
               s_type_name (v->kind));
        return -1;
    }
    while (len > 0 && isspace ((unsigned char) *s)) {
        s++;
        len--;
    }
    while (len > 0 && isspace ((unsigned char) s[len - 1]))
        len--;
    if (len == 0)
        return 0;
    if (len > max) {
        s_err (c, path, INTAKE_E_TOO_LONG, "%s is longer than %zu bytes", path, max);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char) s[i];
        bool ctl = ch < 0x20 || ch == 0x7F;
        if (ctl && !((flags & S_MULTILINE) && (ch == '\n' || ch == '\r' || ch == '\t'))) {
            s_err (c, path, INTAKE_E_INVALID_VALUE, "%s contains a control character", path);
            return -1;
        }
    }
    if (!pl_utf8_valid (s, len)) {
        s_err (c, path, INTAKE_E_INVALID_VALUE, "%s is not valid UTF-8", path);
        return -1;
    }
    *out = s_strndup (c, s, len);
    return *out ? 1 : -1;
}

/* Sets a string member of a protobuf message (whose default is protobuf_c_empty_string). */
static void
s_set (char **member, char *value)
{
    if (value)
        *member = value;
}

static bool
s_campaign_ok (const char *s)
{
    for (; *s; s++)
        if (!(isalnum ((unsigned char) *s) || *s == '-' || *s == '_' || *s == '.' || *s == ':'))
            return false;
    return true;
}

/* A sanity check, not RFC 5322: one '@', a plausible local part and a dotted domain. The domain
 * is lower-cased. */
static bool
s_email_normalise (char *e)
{
    char *at = strchr (e, '@');
    if (!at || at == e || strchr (at + 1, '@'))
        return false;
    size_t local = (size_t) (at - e);
    char *dom = at + 1;
    size_t dlen = strlen (dom);
    if (local > 64 || dlen < 3 || dlen > 253)
        return false;
    if (e[0] == '.' || at[-1] == '.')
        return false;
    for (char *p = e; p < at; p++) {
        unsigned char ch = (unsigned char) *p;
        if (ch <= ' ' || strchr ("\"(),:;<>[\\]", ch) || (ch == '.' && p[1] == '.'))
            return false;
    }
    size_t labels = 0, label_len = 0;
    bool all_digits = true;
    for (char *p = dom;; p++) {
        unsigned char ch = (unsigned char) *p;
        if (ch == '.' || ch == '\0') {
            if (label_len == 0 || label_len > 63 || p[-1] == '-')
                return false;
            labels++;
            if (ch == '\0')
                break;
            label_len = 0;
            all_digits = true;
            continue;
        }
        if (label_len == 0 && ch == '-')
            return false;
        if (!(isalnum (ch) || ch == '-' || ch >= 0x80))
            return false;
        if (!isdigit (ch))
            all_digits = false;
        *p = (char) tolower (ch);
        label_len++;
    }
    return labels >= 2 && !all_digits;         /* the last label (TLD) is not a number */
}

/* ------------------------------------------------------------------------------------------- */
/* Custom fields                                                                                */

/* Stages custom[key] = value (taken; NULL: nothing to keep, as for a JSON null), or records
 * why not on `path`. */
static void
s_custom_put (s_ctx_t *c, const char *key, char *value, size_t vlen, const char *path)
{
    size_t klen = strlen (key);
    if (!pl_utf8_valid (key, klen)) {
        s_err (c, "custom", INTAKE_E_INVALID_VALUE, "a custom field name is not valid UTF-8");
        goto refused;
    }
    if (klen == 0 || klen > INTAKE_MAX_CUSTOM_KEY) {
        s_err (c, path, INTAKE_E_INVALID_VALUE, "custom field names are 1 to %d bytes",
               INTAKE_MAX_CUSTOM_KEY);
        goto refused;
    }
    for (size_t i = 0; i < klen; i++)
        if ((unsigned char) key[i] < 0x20 || key[i] == 0x7F) {
            s_err (c, path, INTAKE_E_INVALID_VALUE, "custom field name contains a control "
                                                    "character");
            goto refused;
        }
    for (size_t i = 0; i < c->n_custom; i++)
        if (strcmp (c->custom[i].key, key) == 0) {
            s_err (c, path, INTAKE_E_INVALID_VALUE, "custom field '%s' is given twice", key);
            goto refused;
        }
    if (!value)
        return;
    if (memchr (value, '\0', vlen)) {
        s_err (c, path, INTAKE_E_INVALID_VALUE, "%s contains a NUL character", path);
        goto refused;
    }
    if (!pl_utf8_valid (value, vlen)) {
        s_err (c, path, INTAKE_E_INVALID_VALUE, "%s is not valid UTF-8", path);
        goto refused;
    }
    if (vlen > INTAKE_MAX_CUSTOM_VALUE) {
        s_err (c, path, INTAKE_E_TOO_LONG, "%s is longer than %d bytes", path,
               INTAKE_MAX_CUSTOM_VALUE);
        goto refused;
    }
    if (c->n_custom >= INTAKE_MAX_CUSTOM) {
        if (!c->custom_overflow)
            s_err (c, "custom", INTAKE_E_TOO_MANY, "more than %d custom fields",
                   INTAKE_MAX_CUSTOM);
        c->custom_overflow = true;
        goto refused;
    }
    char *k = s_strndup (c, key, klen);
    if (!k)
        goto refused;
    c->custom[c->n_custom].key = k;
    c->custom[c->n_custom].value = value;
    c->n_custom++;
    return;
refused:
    free (value);
}

/* A member nobody asked for: kept as custom[path] (value taken) or rejected, as the source
 * wants. */
static void
s_unknown (s_ctx_t *c, const char *path, char *value, size_t vlen)
{
    if (c->opts->reject_unknown) {
        s_err (c, path, INTAKE_E_UNKNOWN_FIELD, "unknown field '%s'", path);
        free (value);
    }
    else {
        s_custom_put (c, path, value, vlen, path);
    }
}

/* Moves the staged custom fields into the lead's map. */
static void
s_build_custom (s_ctx_t *c)
{
    if (c->n_custom == 0)
        return;
    c->lead->custom = calloc (c->n_custom, sizeof *c->lead->custom);
    if (!c->lead->custom) {
        c->oom = true;
        return;
    }
    for (size_t i = 0; i < c->n_custom; i++) {
        Plateau__V1__Lead__CustomEntry *e = malloc (sizeof *e);
        if (!e) {
            c->oom = true;
            return;
        }
        plateau__v1__lead__custom_entry__init (e);
        e->key = c->custom[i].key;
        e->value = c->custom[i].value;
        c->custom[i].key = c->custom[i].value = NULL;
        c->lead->custom[c->lead->n_custom++] = e;
    }
}

/* ------------------------------------------------------------------------------------------- */
/* Numbers                                                                                      */

/* Reads a time: integer milliseconds, or a string: RFC 3339, or in text mode (CSV) digits
 * meaning milliseconds. 1 with *ms set, 0 when absent, -1 after an error. */
static int
s_time (s_ctx_t *c, const s_val_t *v, const char *path, int64_t *ms)
{
    if (!s_given (v))
        return 0;
    if (v->kind == V_INT) {
        if (v->i <= 0 || v->i > S_MAX_MS) {
            s_err (c, path, INTAKE_E_INVALID_TIME, "%s is out of range (UTC milliseconds "
                                                   "since 1970)", path);
            return -1;
        }
        *ms = v->i;
        return 1;
    }
    if (v->kind != V_STRING) {
        s_err (c, path, INTAKE_E_WRONG_TYPE, "%s must be an RFC 3339 string or milliseconds, "
                                             "not %s", path, s_type_name (v->kind));
        return -1;
    }
    char buf[48];
    const char *s = v->s;
    size_t n = v->len;
    while (n > 0 && isspace ((unsigned char) *s)) {
        s++;
        n--;
    }
    while (n > 0 && isspace ((unsigned char) s[n - 1]))
        n--;
    if (n == 0)
        return 0;
    if (n >= sizeof buf || memchr (s, '\0', n)) {
        s_err (c, path, INTAKE_E_INVALID_TIME, "%s is not an RFC 3339 time", path);
        return -1;
    }
    memcpy (buf, s, n);
    buf[n] = '\0';
    bool digits = c->opts->text_values;          /* milliseconds as text: CSV cells only */
    for (size_t i = 0; digits && i < n; i++)
        digits = isdigit ((unsigned char) buf[i]);
    if (digits) {
        if (n > 15 || strtoll (buf, NULL, 10) <= 0 || strtoll (buf, NULL, 10) > S_MAX_MS) {
            s_err (c, path, INTAKE_E_INVALID_TIME, "%s is out of range (UTC milliseconds "
                                                   "since 1970)", path);
            return -1;
        }
        *ms = strtoll (buf, NULL, 10);
        return 1;
    }
    if (pl_time_parse_rfc3339 (buf, ms) != 0 || *ms < 0 || *ms > S_MAX_MS) {
        s_err (c, path, INTAKE_E_INVALID_TIME, "%s is not an RFC 3339 time "
                                               "(2026-03-01T10:00:00+01:00) or milliseconds",
               path);
        return -1;
    }
    return 1;
}

/* Consents are proof of something past: a capture time after receipt is a clock or data
 * error. An hour of slack for clocks. */
static bool
s_not_future (s_ctx_t *c, int64_t ms, const char *path)
{
    if (c->opts->received_at_ms > 0 && ms > c->opts->received_at_ms + 3600 * 1000) {
        s_err (c, path, INTAKE_E_INVALID_TIME, "%s is in the future", path);
        return false;
    }
    return true;
}

/* Minor units: an integer, or in text mode an optionally signed string of digits. */
static int
s_amount (s_ctx_t *c, const s_val_t *v, const char *path, int64_t *out)
{
    static const int64_t max = INT64_C(1000000000000000000);    /* 10^18 minor units */
    if (!s_given (v))
        return 0;
    if (v->kind == V_INT) {
        if (v->i > max || v->i < -max) {
            s_err (c, path, INTAKE_E_INVALID_AMOUNT, "%s is out of range", path);
            return -1;
        }
        *out = v->i;
        return 1;
    }
    bool text = v->kind == V_STRING && c->opts->text_values;
    if (text) {
        const char *s = v->s;
        while (isspace ((unsigned char) *s))
            s++;
        if (!*s)
            return 0;
        const char *p = s + (*s == '-' || *s == '+');
        size_t n = 0;
        while (isdigit ((unsigned char) p[n]))
            n++;
        const char *end = p + n;
        while (isspace ((unsigned char) *end))
            end++;
        if (n > 0 && n <= 18 && !*end) {
            *out = strtoll (s, NULL, 10);
            return 1;
        }
    }
    s_err (c, path, v->kind == V_REAL || text ? INTAKE_E_INVALID_AMOUNT : INTAKE_E_WRONG_TYPE,
           "%s is an integer number of minor units (12345 for 123.45)", path);
    return -1;
}

/* Parses a number into a new PhoneNumber (zones resolved later). 1 set, 0 absent, -1 error. */
static int
s_phone (s_ctx_t *c, const s_val_t *v, const char *path, Plateau__V1__PhoneNumber **out)
{
    *out = NULL;
    if (v->kind == V_INT || v->kind == V_REAL) {
        s_err (c, path, INTAKE_E_WRONG_TYPE, "%s must be a string: as a JSON number it has "
                                             "lost any leading 0 or +", path);
        return -1;
    }
    char *raw;
    int rc = s_text (c, v, path, PL_PHONE_RAW_MAX, 0, &raw);
    if (rc <= 0)
        return rc;
    pl_phone_number_t n;
    if (pl_phone_parse (c->opts->phone, raw, c->region, &n) != 0) {
        s_err (c, path, INTAKE_E_INVALID_NUMBER, "%s", pl_phone_errstr (c->opts->phone));
        free (raw);
        return -1;
    }
    Plateau__V1__PhoneNumber *p = malloc (sizeof *p);
    char *e164 = s_strndup (c, n.e164, strlen (n.e164));
    char *region = s_strndup (c, n.region, strlen (n.region));
    if (!p || !e164 || !region) {
        c->oom = true;
        free (p);
        free (e164);
        free (region);
        free (raw);
        return -1;
    }
    plateau__v1__phone_number__init (p);
    p->e164 = e164;
    p->type = (Plateau__V1__PhoneNumber__Type) n.type;
    p->region = region;
    p->raw = raw;
    *out = p;
    return 1;
}

static void
s_zones (s_ctx_t *c, Plateau__V1__PhoneNumber *p)
{
    pl_phone_place_t place = {
        .e164 = p->e164,
        .region = p->region,
        .country = c->lead->country[0] && c->in.f[F_COUNTRY].kind != V_ABSENT
                       ? c->lead->country : NULL,
        .postal_code = c->lead->postal_code,
        .state = c->lead->state,
        .override = c->override,
    };
    /* Regions: the number's and the address's, each kept with its source, since a state's
     * rules apply by either (a Florida area code with a New York address is in both). */
    pl_phone_regions_t r;
    pl_phone_resolve_regions (&place, &r);
    if (r.count) {
        /* Each allocated on its own: free_unpacked frees them one by one. */
        p->regions = calloc (r.count, sizeof *p->regions);
        if (!p->regions) {
            c->oom = true;
            return;
        }
        for (size_t i = 0; i < r.count; i++) {
            Plateau__V1__RegionCandidate *rc = malloc (sizeof *rc);
            if (!rc) {
                c->oom = true;
                return;
            }
            plateau__v1__region_candidate__init (rc);
            p->regions[p->n_regions++] = rc;
            const char *src = pl_phone_region_source_str (r.sources[i]);
            rc->region = s_strndup (c, r.regions[i], strlen (r.regions[i]));
            rc->source = s_strndup (c, src, strlen (src));
            if (!rc->region || !rc->source) {
                if (!rc->region)
                    rc->region = (char *) protobuf_c_empty_string;
                if (!rc->source)
                    rc->source = (char *) protobuf_c_empty_string;
                return;
            }
        }
    }
    pl_phone_zones_t z;
    if (pl_phone_resolve_zones (c->opts->phone, &place, &z) <= 0)
        return;                               /* no zone known: the rules engine decides */
    p->zones = calloc (z.count, sizeof *p->zones);
    if (!p->zones) {
        c->oom = true;
        return;
    }
    for (size_t i = 0; i < z.count; i++) {
        p->zones[i] = s_strndup (c, z.zones[i], strlen (z.zones[i]));
        if (!p->zones[i])
            return;
        p->n_zones++;
    }
    const char *src = pl_phone_zone_source_str (z.source);
    char *s = s_strndup (c, src, strlen (src));
    s_set (&p->zone_source, s);
}

/* ------------------------------------------------------------------------------------------- */
/* Fields                                                                                       */

/* Country names and alpha-3 codes that CRM exports and spreadsheets write instead of the
 * alpha-2 code ("France", "États-Unis", "USA"; HubSpot's Country/Region and Dynamics'
 * Country/Region hold names), folded: lower case, no accents, letters only. English and French
 * names of every country with a jurisdiction profile (FR and its overseas departments, GB, US)
 * and of the countries a French, British or North American call centre meets most; anything
 * else is written as ISO 3166-1 alpha-2. A name not listed here is an error, not the default
 * region: see s_read_country. */
static const char *const s_country_names[][2] = {
    {"france", "FR"}, {"fra", "FR"}, {"francemetropolitaine", "FR"},
    {"reunion", "RE"}, {"lareunion", "RE"}, {"reu", "RE"},
    {"guadeloupe", "GP"}, {"glp", "GP"}, {"martinique", "MQ"}, {"mtq", "MQ"},
    {"guyane", "GF"}, {"guyanefrancaise", "GF"}, {"frenchguiana", "GF"}, {"guf", "GF"},
    {"mayotte", "YT"}, {"myt", "YT"}, {"saintpierreetmiquelon", "PM"}, {"spm", "PM"},
    {"saintbarthelemy", "BL"}, {"blm", "BL"}, {"saintmartin", "MF"}, {"maf", "MF"},
    {"nouvellecaledonie", "NC"}, {"newcaledonia", "NC"}, {"ncl", "NC"},
    {"polynesiefrancaise", "PF"}, {"frenchpolynesia", "PF"}, {"pyf", "PF"},
    {"wallisetfutuna", "WF"}, {"wallisandfutuna", "WF"}, {"wlf", "WF"},
    {"monaco", "MC"}, {"mco", "MC"}, {"belgique", "BE"}, {"belgium", "BE"}, {"bel", "BE"},
    {"suisse", "CH"}, {"switzerland", "CH"}, {"che", "CH"}, {"luxembourg", "LU"}, {"lux", "LU"},
    {"allemagne", "DE"}, {"germany", "DE"}, {"deutschland", "DE"}, {"deu", "DE"},
    {"espagne", "ES"}, {"spain", "ES"}, {"espana", "ES"}, {"esp", "ES"},
    {"italie", "IT"}, {"italy", "IT"}, {"italia", "IT"}, {"ita", "IT"},
    {"portugal", "PT"}, {"prt", "PT"}, {"paysbas", "NL"}, {"netherlands", "NL"}, {"nld", "NL"},
    {"autriche", "AT"}, {"austria", "AT"}, {"aut", "AT"}, {"pologne", "PL"}, {"poland", "PL"},
    {"pol", "PL"}, {"irlande", "IE"}, {"ireland", "IE"}, {"irl", "IE"},
    {"royaumeuni", "GB"}, {"unitedkingdom", "GB"}, {"greatbritain", "GB"}, {"england", "GB"},
    {"angleterre", "GB"}, {"gbr", "GB"}, {"uk", "GB"},
    {"etatsunis", "US"}, {"etatsunisdamerique", "US"}, {"unitedstates", "US"},
    {"unitedstatesofamerica", "US"}, {"usa", "US"}, {"canada", "CA"}, {"can", "CA"},
    {"maroc", "MA"}, {"morocco", "MA"}, {"mar", "MA"}, {"algerie", "DZ"}, {"algeria", "DZ"},
    {"dza", "DZ"}, {"tunisie", "TN"}, {"tunisia", "TN"}, {"tun", "TN"},
    {"senegal", "SN"}, {"sen", "SN"}, {"cotedivoire", "CI"}, {"ivorycoast", "CI"},
    {"civ", "CI"}, {"cameroun", "CM"}, {"cameroon", "CM"}, {"cmr", "CM"},
    /* the United Kingdom and the United States under their other names */
    {"grandebretagne", "GB"}, {"scotland", "GB"}, {"ecosse", "GB"}, {"wales", "GB"},
    {"paysdegalles", "GB"}, {"northernireland", "GB"}, {"irlandedunord", "GB"},
    {"unitedkingdomofgreatbritainandnorthernireland", "GB"},
    {"theunitedstates", "US"}, {"theunitedkingdom", "GB"}, {"america", "US"},
    {"amerique", "US"}, {"etatsunisamerique", "US"},
    {"puertorico", "PR"}, {"portorico", "PR"}, {"pri", "PR"},
    {"usvirginislands", "VI"}, {"ilesviergesdesetatsunis", "VI"}, {"guam", "GU"},
    /* Europe */
    {"holland", "NL"}, {"nederland", "NL"}, {"hollande", "NL"},
    {"thenetherlands", "NL"}, {"danemark", "DK"}, {"denmark", "DK"}, {"dnk", "DK"},
    {"suede", "SE"}, {"sweden", "SE"}, {"swe", "SE"}, {"norvege", "NO"}, {"norway", "NO"},
    {"nor", "NO"}, {"finlande", "FI"}, {"finland", "FI"}, {"fin", "FI"},
    {"islande", "IS"}, {"iceland", "IS"}, {"grece", "GR"}, {"greece", "GR"}, {"grc", "GR"},
    {"republiquetcheque", "CZ"}, {"tchequie", "CZ"}, {"czechrepublic", "CZ"},
    {"czechia", "CZ"}, {"cze", "CZ"}, {"slovaquie", "SK"}, {"slovakia", "SK"},
    {"hongrie", "HU"}, {"hungary", "HU"}, {"roumanie", "RO"}, {"romania", "RO"},
    {"bulgarie", "BG"}, {"bulgaria", "BG"}, {"croatie", "HR"}, {"croatia", "HR"},
    {"slovenie", "SI"}, {"slovenia", "SI"}, {"serbie", "RS"}, {"serbia", "RS"},
    {"ukraine", "UA"}, {"russie", "RU"}, {"russia", "RU"}, {"turquie", "TR"},
    {"turkey", "TR"}, {"turkiye", "TR"}, {"chypre", "CY"}, {"cyprus", "CY"},
    {"malte", "MT"}, {"malta", "MT"}, {"estonie", "EE"}, {"estonia", "EE"},
    {"lettonie", "LV"}, {"latvia", "LV"}, {"lituanie", "LT"}, {"lithuania", "LT"},
    {"andorre", "AD"}, {"andorra", "AD"}, {"liechtenstein", "LI"},
    {"guernesey", "GG"}, {"guernsey", "GG"}, {"jersey", "JE"}, {"iledeman", "IM"},
    {"isleofman", "IM"}, {"gibraltar", "GI"},
    /* the Americas */
    {"mexique", "MX"}, {"mexico", "MX"}, {"mex", "MX"}, {"bresil", "BR"}, {"brazil", "BR"},
    {"brasil", "BR"}, {"bra", "BR"}, {"argentine", "AR"}, {"argentina", "AR"},
    {"chili", "CL"}, {"chile", "CL"}, {"colombie", "CO"}, {"colombia", "CO"},
    {"perou", "PE"}, {"peru", "PE"}, {"haiti", "HT"}, {"hti", "HT"},
    {"republiquedominicaine", "DO"}, {"dominicanrepublic", "DO"},
    {"jamaique", "JM"}, {"jamaica", "JM"},
    /* Africa, the Middle East, Asia, Oceania */
    {"madagascar", "MG"}, {"mdg", "MG"}, {"maurice", "MU"}, {"ilemaurice", "MU"},
    {"mauritius", "MU"}, {"mus", "MU"}, {"comores", "KM"}, {"comoros", "KM"},
    {"mali", "ML"}, {"burkinafaso", "BF"}, {"niger", "NE"}, {"guinee", "GN"},
    {"guinea", "GN"}, {"benin", "BJ"}, {"togo", "TG"}, {"gabon", "GA"},
    {"congo", "CG"}, {"republiqueducongo", "CG"}, {"republicofthecongo", "CG"},
    {"republiquedemocratiqueducongo", "CD"}, {"rdcongo", "CD"}, {"rdc", "CD"},
    {"democraticrepublicofthecongo", "CD"}, {"drc", "CD"},
    {"mauritanie", "MR"}, {"mauritania", "MR"}, {"djibouti", "DJ"},
    {"egypte", "EG"}, {"egypt", "EG"}, {"afriquedusud", "ZA"}, {"southafrica", "ZA"},
    {"nigeria", "NG"}, {"kenya", "KE"}, {"ghana", "GH"},
    {"liban", "LB"}, {"lebanon", "LB"}, {"israel", "IL"}, {"emiratsarabesunis", "AE"},
    {"unitedarabemirates", "AE"}, {"uae", "AE"}, {"arabiesaoudite", "SA"},
    {"saudiarabia", "SA"}, {"qatar", "QA"}, {"inde", "IN"}, {"india", "IN"},
    {"chine", "CN"}, {"china", "CN"}, {"japon", "JP"}, {"japan", "JP"},
    {"coreedusud", "KR"}, {"southkorea", "KR"}, {"vietnam", "VN"}, {"thailande", "TH"},
    {"thailand", "TH"}, {"singapour", "SG"}, {"singapore", "SG"}, {"philippines", "PH"},
    {"australie", "AU"}, {"australia", "AU"}, {"aus", "AU"},
    {"nouvellezelande", "NZ"}, {"newzealand", "NZ"},
};

/* Lower-cases ASCII, drops accents of Latin-1 letters and anything not a letter. */
static void
s_fold_name (const char *in, char *out, size_t size)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *) in; *p && o + 1 < size; p++) {
        if (*p == 0xC3 && p[1]) {
            unsigned d = p[1] | 0x20;
            char base = d >= 0xA0 && d <= 0xA5 ? 'a' : d == 0xA7 ? 'c'
                        : d >= 0xA8 && d <= 0xAB ? 'e' : d >= 0xAC && d <= 0xAF ? 'i'
                        : d == 0xB1 ? 'n' : d >= 0xB2 && d <= 0xB6 ? 'o'
                        : d >= 0xB9 && d <= 0xBC ? 'u' : 0;
            if (base)
                out[o++] = base;
            p++;
        }
        else if (isalpha (*p)) {
            out[o++] = (char) tolower (*p);
        }
    }
    out[o] = '\0';
}

static const char *
s_country_from_name (const char *name)
{
    char folded[48];
    s_fold_name (name, folded, sizeof folded);
    for (size_t i = 0; i < sizeof s_country_names / sizeof s_country_names[0]; i++)
        if (strcmp (folded, s_country_names[i][0]) == 0)
            return s_country_names[i][1];
    return NULL;
}

static void
s_read_country (s_ctx_t *c)
{
    char *country;
    int rc = s_text (c, &c->in.f[F_COUNTRY], "country", 48, 0, &country);
    if (rc < 0)
        return;
    if (rc > 0) {
        /* A name we do not know rejects the lead: taking the source's default region instead
         * would read "(305) 555-0142" of a lead in "Estados Unidos" as a French number, and
         * send scrub the wrong country's rules — the row is better refused, saying what to
         * write. "U.S." and "U.K." fold to their codes. */
        char folded[48];
        s_fold_name (country, folded, sizeof folded);
        const char *named = strlen (folded) > 2 ? s_country_from_name (country) : NULL;
        if (strlen (folded) > 2 && !named) {
            s_err (c, "country", INTAKE_E_INVALID_COUNTRY, "country '%s' is neither a country "
                                                           "name known here nor an ISO 3166-1 "
                                                           "alpha-2 code: write its code (US, "
                                                           "FR, GB…)", country);
            free (country);
            return;
        }
        if (named)
            snprintf (country, strlen (country) + 1, "%s", named);
        else if (strlen (folded) == 2 && strlen (country) > 2)
            snprintf (country, strlen (country) + 1, "%s", folded);
        for (char *p = country; *p; p++)
            *p = (char) toupper ((unsigned char) *p);
        if (strcmp (country, "UK") == 0)
            strcpy (country, "GB");
        if (!pl_phone_region_known (c->opts->phone, country)) {
            s_err (c, "country", INTAKE_E_INVALID_COUNTRY, "country '%s' is not an ISO 3166-1 "
                                                           "alpha-2 code (FR, US, GB…)", country);
            free (country);
            return;
        }
        c->lead->country = country;
        c->region = country;
        return;
    }
    const char *def = c->opts->default_country;
    if (def && pl_phone_region_known (c->opts->phone, def)) {  /* a bad setting is no setting */
        c->region = def;
        char *copy = s_strndup (c, def, strlen (def));
        s_set (&c->lead->country, copy);
    }
}

static void
s_read_simple (s_ctx_t *c)
{
    char *s;
    if (s_text (c, &c->in.f[F_POSTAL_CODE], "postal_code", 16, 0, &s) > 0)
        c->lead->postal_code = s;
    if (s_text (c, &c->in.f[F_STATE], "state", 64, 0, &s) > 0)
        c->lead->state = s;
    if (s_text (c, &c->in.f[F_EXTERNAL_ID], "external_id", 128, S_ALLOW_INT, &s) > 0)
        c->lead->external_id = s;
    if (s_text (c, &c->in.f[F_FIRST_NAME], "first_name", 128, 0, &s) > 0)
        c->lead->first_name = s;
    if (s_text (c, &c->in.f[F_LAST_NAME], "last_name", 128, 0, &s) > 0)
        c->lead->last_name = s;
    if (s_text (c, &c->in.f[F_ADDRESS], "address", 512, S_MULTILINE, &s) > 0)
        c->lead->address = s;

    if (s_text (c, &c->in.f[F_TIMEZONE], "timezone", PL_PHONE_ZONE_NAME_MAX - 1, 0, &s) > 0) {
        if (pl_phone_zone_check (c->opts->phone, s) != 0) {
            s_err (c, "timezone", INTAKE_E_INVALID_TIMEZONE, "%s",
                   pl_phone_errstr (c->opts->phone));
            free (s);
        }
        else {
            c->lead->timezone = s;
            c->override = s;
        }
    }

    if (s_text (c, &c->in.f[F_EMAIL], "email", 254, 0, &s) > 0) {
        if (!s_email_normalise (s)) {
            s_err (c, "email", INTAKE_E_INVALID_EMAIL, "'%s' is not an e-mail address", s);
            free (s);
        }
        else {
            c->lead->email = s;
        }
    }

    int rc = s_text (c, &c->in.f[F_CAMPAIGN], "campaign", 64, 0, &s);
    if (rc == 0 && c->opts->default_campaign && *c->opts->default_campaign) {
        const char *d = c->opts->default_campaign;
        s = s_strndup (c, d, strlen (d));
        rc = s ? 1 : -1;
    }
    if (rc == 0) {
        s_err (c, "campaign", INTAKE_E_REQUIRED, "campaign is required (in the lead or as the "
                                                 "request's campaign parameter)");
    }
    else if (rc > 0) {
        if (strlen (s) > 64 || !s_campaign_ok (s)) {
            s_err (c, "campaign", INTAKE_E_INVALID_VALUE, "campaign '%.64s' may hold only "
                                                          "letters, digits and - _ . :", s);
            free (s);
        }
        else {
            c->lead->campaign = s;
        }
    }
}

/* Who is called, as the rules engine names it (pl_rules_callee_parse): a business callee may
 * lift consumer rules, so nothing but those names is taken. Case and the underscore spreadsheets
 * write are forgiven; not said, it stays empty (read as a consumer downstream). */
static void
s_read_callee (s_ctx_t *c)
{
    char *s;
    if (s_text (c, &c->in.f[F_CALLEE], "callee", 64, 0, &s) <= 0)
        return;
    char canon[65];
    size_t n = 0;
    for (; s[n] && n < sizeof canon - 1; n++)
        canon[n] = s[n] == '_' ? '-' : (char) tolower ((unsigned char) s[n]);
    canon[n] = '\0';
    pl_rules_callee_t t;
    if (pl_rules_callee_parse (canon, &t) == 0) {
        snprintf (s, strlen (s) + 1, "%s", pl_rules_callee_name (t));       /* same length */
        c->lead->callee = s;
        return;
    }
    s_err (c, "callee", INTAKE_E_INVALID_VALUE, "callee '%s' is not consumer, business or "
                                                "sole-trader", s);
    free (s);
}

static void
s_read_phones (s_ctx_t *c)
{
    const s_input_t *in = &c->in;
    int rc = s_phone (c, &in->f[F_PHONE], "phone", &c->lead->phone);
    if (rc == 0)
        s_err (c, "phone", INTAKE_E_REQUIRED, "phone is required");

    const s_val_t *alts = &in->f[F_ALT_PHONES];
    if (!s_given (alts))
        return;
    if (alts->kind != V_ARRAY) {
        s_err (c, "alt_phones", INTAKE_E_WRONG_TYPE, "alt_phones must be an array of strings, "
                                                     "not %s", s_type_name (alts->kind));
        return;
    }
    size_t n = in->n_alt_phones;
    if (n > INTAKE_MAX_ALT_PHONES) {
        s_err (c, "alt_phones", INTAKE_E_TOO_MANY, "at most %d alternate numbers",
               INTAKE_MAX_ALT_PHONES);
        return;
    }
    if (n == 0)
        return;
    c->lead->alt_phones = calloc (n, sizeof *c->lead->alt_phones);
    if (!c->lead->alt_phones) {
        c->oom = true;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char path[32];
        snprintf (path, sizeof path, "alt_phones[%zu]", i);
        Plateau__V1__PhoneNumber *p;
        if (s_phone (c, &in->alt_phones[i], path, &p) > 0)
            c->lead->alt_phones[c->lead->n_alt_phones++] = p;
    }
}

static void
s_read_consent (s_ctx_t *c, size_t i, Plateau__V1__Consent **out)
{
    *out = NULL;
    char base[32];
    snprintf (base, sizeof base, "consents[%zu]", i);
    if (c->in.consent_kind[i] != V_OBJECT) {
        s_err (c, base, INTAKE_E_WRONG_TYPE, "%s must be an object, not %s", base,
               s_type_name (c->in.consent_kind[i]));
        return;
    }
    const s_val_t *v = c->in.consents[i];
    Plateau__V1__Consent *k = malloc (sizeof *k);
    if (!k) {
        c->oom = true;
        return;
    }
    plateau__v1__consent__init (k);
    *out = k;

    char *s;
    char path[64];
#define S_PATH(name) (snprintf (path, sizeof path, "%s." name, base), path)
    int rc = s_text (c, &v[K_SCOPE], S_PATH ("scope"), 128, 0, &s);
    if (rc > 0)
        k->scope = s;
    else if (rc == 0)
        s_err (c, S_PATH ("scope"), INTAKE_E_REQUIRED, "a consent names its scope");
    if (s_text (c, &v[K_CHANNEL], S_PATH ("channel"), 32, 0, &s) > 0) {
        for (char *p = s; *p; p++)
            *p = (char) tolower ((unsigned char) *p);
        k->channel = s;
    }
    if (s_text (c, &v[K_SOURCE], S_PATH ("source"), 256, 0, &s) > 0)
        k->source = s;
    if (s_text (c, &v[K_PROOF_REF], S_PATH ("proof_ref"), 256, 0, &s) > 0)
        k->proof_ref = s;
    if (s_text (c, &v[K_WORDING_VERSION], S_PATH ("wording_version"), 64, 0, &s) > 0)
        k->wording_version = s;
    int64_t ms;
    rc = s_time (c, &v[K_CAPTURED_AT], S_PATH ("captured_at"), &ms);
    if (rc > 0 && s_not_future (c, ms, path))
        k->captured_at_ms = ms;
    else if (rc == 0)
        s_err (c, S_PATH ("captured_at"), INTAKE_E_REQUIRED, "a consent says when it was "
                                                             "captured");
    rc = s_time (c, &v[K_REVOKED_AT], S_PATH ("revoked_at"), &ms);
    if (rc > 0) {
        if (k->captured_at_ms && ms < k->captured_at_ms)
            s_err (c, path, INTAKE_E_INVALID_TIME, "%s is before captured_at", path);
        else
            k->revoked_at_ms = ms;
    }
    Plateau__V1__PhoneNumber *p;
    if (s_phone (c, &v[K_NUMBER], S_PATH ("number"), &p) > 0) {
        k->number = p->e164;
        p->e164 = (char *) protobuf_c_empty_string;
        plateau__v1__phone_number__free_unpacked (p, NULL);
    }
#undef S_PATH
}

static void
s_read_consents (s_ctx_t *c)
{
    const s_val_t *a = &c->in.f[F_CONSENTS];
    if (!s_given (a))
        return;
    if (a->kind != V_ARRAY) {
        s_err (c, "consents", INTAKE_E_WRONG_TYPE, "consents must be an array of objects, "
                                                   "not %s", s_type_name (a->kind));
        return;
    }
    size_t n = c->in.n_consents;
    if (n > INTAKE_MAX_CONSENTS) {
        s_err (c, "consents", INTAKE_E_TOO_MANY, "at most %d consents", INTAKE_MAX_CONSENTS);
        return;
    }
    if (n == 0)
        return;
    c->lead->consents = calloc (n, sizeof *c->lead->consents);
    if (!c->lead->consents) {
        c->oom = true;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        Plateau__V1__Consent *k;
        s_read_consent (c, i, &k);
        if (k)
            c->lead->consents[c->lead->n_consents++] = k;
    }
}

/* The balance and its currency, which go together. */
static void
s_read_balance (s_ctx_t *c, Plateau__V1__Debt *d)
{
    const s_val_t *v = c->in.debt;
    int64_t minor = 0;
    int has_balance = s_amount (c, &v[D_BALANCE], "debt.balance", &minor);
    char *currency = NULL;
    int has_currency = s_text (c, &v[D_CURRENCY], "debt.currency", 8, 0, &currency);
    if (has_currency > 0) {
        bool ok = strlen (currency) == 3;
        for (char *p = currency; ok && *p; p++) {
            *p = (char) toupper ((unsigned char) *p);
            ok = *p >= 'A' && *p <= 'Z';
        }
        if (!ok) {
            s_err (c, "debt.currency", INTAKE_E_INVALID_CURRENCY, "currency '%s' is not an ISO "
                                                                  "4217 code (EUR, USD…)",
                   currency);
            free (currency);
            return;
        }
    }
    if (has_balance > 0 && has_currency == 0)
        s_err (c, "debt.currency", INTAKE_E_REQUIRED, "a balance needs its currency");
    if (has_balance == 0 && has_currency > 0)
        s_err (c, "debt.balance", INTAKE_E_REQUIRED, "a currency needs its balance");
    if (has_balance > 0 && has_currency > 0) {
        Plateau__V1__Money *m = malloc (sizeof *m);
        if (!m) {
            c->oom = true;
            free (currency);
            return;
        }
        plateau__v1__money__init (m);
        m->minor_units = minor;
        m->currency = currency;
        d->balance = m;
        return;
    }
    free (currency);
}

static void
s_read_debt (s_ctx_t *c)
{
    const s_val_t *o = &c->in.f[F_DEBT];
    if (!s_given (o))
        return;
    if (o->kind != V_OBJECT) {
        s_err (c, "debt", INTAKE_E_WRONG_TYPE, "debt must be an object, not %s",
               s_type_name (o->kind));
        return;
    }
    const s_val_t *v = c->in.debt;
    Plateau__V1__Debt *d = malloc (sizeof *d);
    if (!d) {
        c->oom = true;
        return;
    }
    plateau__v1__debt__init (d);
    char *s;
    if (s_text (c, &v[D_ACCOUNT_REF], "debt.account_ref", 128, S_ALLOW_INT, &s) > 0)
        d->account_ref = s;
    if (s_text (c, &v[D_CREDITOR], "debt.creditor", 128, 0, &s) > 0)
        d->creditor = s;
    if (s_text (c, &v[D_FIRST_LETTER_REF], "debt.first_letter_ref", 128, S_ALLOW_INT, &s) > 0)
        d->first_letter_ref = s;
    int64_t ms;
    if (s_time (c, &v[D_FIRST_LETTER_AT], "debt.first_letter_at", &ms) > 0)
        d->first_letter_at_ms = ms;
    s_read_balance (c, d);
    /* A debt with nothing in it is no debt, whichever way it was written ({} or blanks). */
    if (!d->account_ref[0] && !d->creditor[0] && !d->first_letter_ref[0]
        && !d->first_letter_at_ms && !d->balance)
        plateau__v1__debt__free_unpacked (d, NULL);
    else
        c->lead->debt = d;
}

/* ------------------------------------------------------------------------------------------- */
/* The checks, whichever door                                                                   */

static s_ctx_t *
s_ctx_new (const intake_lead_opts_t *opts, intake_errors_t *errors)
{
    s_ctx_t *c = calloc (1, sizeof *c);
    Plateau__V1__Lead *lead = malloc (sizeof *lead);
    if (!c || !lead) {
        free (c);
        free (lead);
        return NULL;
    }
    plateau__v1__lead__init (lead);
    c->opts = opts;
    c->errs = errors;
    c->lead = lead;
    return c;
}

static void
s_ctx_destroy (s_ctx_t **c_p)
{
    s_ctx_t *c = *c_p;
    for (size_t i = 0; i < c->n_custom; i++) {
        free (c->custom[i].key);
        free (c->custom[i].value);
    }
    if (c->lead)
        plateau__v1__lead__free_unpacked (c->lead, NULL);
    free (c);
    *c_p = NULL;
}

/* Reads what the door put in c->in (the door has staged the custom fields already): the
 * fields in dependency order, then the numbers' zones once everything they depend on is known
 * good. 0 with *out the lead, or PL_EINVAL / PL_ENOMEM. */
static int
s_check (s_ctx_t *c, Plateau__V1__Lead **out)
{
    Plateau__V1__Lead *lead = c->lead;
    s_read_country (c);
    s_read_simple (c);
    s_read_callee (c);
    s_read_phones (c);
    s_read_consents (c);
    s_read_debt (c);
    s_build_custom (c);

    const char *source = c->opts->source;
    if (source && *source)
        s_set (&lead->source, s_strndup (c, source, strlen (source)));
    lead->received_at_ms = c->opts->received_at_ms;

    intake_known_t *k = &c->errs->known;
    snprintf (k->external_id, sizeof k->external_id, "%s", lead->external_id ? lead->external_id : "");
    snprintf (k->campaign, sizeof k->campaign, "%s", lead->campaign ? lead->campaign : "");
    k->debt = lead->debt != NULL;

    if (c->oom)
        return PL_ENOMEM;
    if (c->errs->count > 0 || c->errs->dropped > 0)
        return PL_EINVAL;
    if (lead->phone)
        s_zones (c, lead->phone);
    for (size_t i = 0; i < lead->n_alt_phones; i++)
        s_zones (c, lead->alt_phones[i]);
    if (c->oom)
        return PL_ENOMEM;
    *out = lead;
    c->lead = NULL;
    return 0;
}

/* ------------------------------------------------------------------------------------------- */
/* The JSON door                                                                                */

static s_val_t
s_val_json (const json_t *v)
{
    s_val_t r = {.kind = V_ABSENT};
    if (!v)
        return r;
    switch (json_typeof (v)) {
    case JSON_OBJECT: r.kind = V_OBJECT; break;
    case JSON_ARRAY: r.kind = V_ARRAY; break;
    case JSON_STRING:
        r.kind = V_STRING;
        r.s = json_string_value (v);
        r.len = json_string_length (v);
        break;
    case JSON_INTEGER:
        r.kind = V_INT;
        r.i = (int64_t) json_integer_value (v);
        break;
    case JSON_REAL: r.kind = V_REAL; break;
    case JSON_TRUE:
    case JSON_FALSE: r.kind = V_BOOL; break;
    case JSON_NULL: r.kind = V_NULL; break;
    }
    return r;
}

/* Text of a custom value: strings as they are, numbers and booleans spelled out, objects and
 * arrays as compact JSON. NULL for null (nothing to keep). */
static char *
s_custom_text (s_ctx_t *c, const json_t *v, size_t *len)
{
    char buf[64];
    char *s = NULL;
    *len = 0;
    switch (json_typeof (v)) {
    case JSON_STRING:
        *len = json_string_length (v);
        return s_strndup (c, json_string_value (v), *len);
    case JSON_INTEGER:
        snprintf (buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value (v));
        break;
    case JSON_REAL:
        snprintf (buf, sizeof buf, "%.17g", json_real_value (v));
        break;
    case JSON_TRUE:
        snprintf (buf, sizeof buf, "true");
        break;
    case JSON_FALSE:
        snprintf (buf, sizeof buf, "false");
        break;
    case JSON_NULL:
        return NULL;
    case JSON_OBJECT:
    case JSON_ARRAY:
        s = json_dumps (v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
        if (!s)
            c->oom = true;
        else
            *len = strlen (s);
        return s;
    }
    *len = strlen (buf);
    return s_strndup (c, buf, *len);
}

static void
s_unknown_json (s_ctx_t *c, const char *path, const json_t *v)
{
    size_t len;
    char *value = s_custom_text (c, v, &len);
    s_unknown (c, path, value, len);
}

/* Sorts the members of `o` into `vals` (by `names`) and unknown fields, named base.key. */
static void
s_members_json (s_ctx_t *c, const json_t *o, const char *base, const char *const *names,
                int count, s_val_t *vals)
{
    const char *key;
    const json_t *v;
    json_object_foreach ((json_t *) o, key, v) {
        int f = 0;
        while (f < count && strcmp (key, names[f]) != 0)
            f++;
        if (f < count) {
            vals[f] = s_val_json (v);
        }
        else {
            char path[160];
            snprintf (path, sizeof path, "%.64s%s%.80s", base, *base ? "." : "", key);
            s_unknown_json (c, path, v);
        }
    }
}

static void
s_gather_json (s_ctx_t *c, const json_t *obj)
{
    s_input_t *in = &c->in;
    s_members_json (c, obj, "", s_field_names, F_COUNT, in->f);

    const json_t *a = json_object_get (obj, "alt_phones");
    if (json_is_array (a)) {
        in->n_alt_phones = json_array_size (a);
        for (size_t i = 0; i < in->n_alt_phones && i < INTAKE_MAX_ALT_PHONES; i++)
            in->alt_phones[i] = s_val_json (json_array_get (a, i));
    }
    a = json_object_get (obj, "consents");
    if (json_is_array (a)) {
        in->n_consents = json_array_size (a);
        for (size_t i = 0; in->n_consents <= INTAKE_MAX_CONSENTS && i < in->n_consents; i++) {
            const json_t *k = json_array_get (a, i);
            in->consent_kind[i] = s_val_json (k).kind;
            char base[32];
            snprintf (base, sizeof base, "consents[%zu]", i);
            if (json_is_object (k))
                s_members_json (c, k, base, s_consent_names, K_COUNT, in->consents[i]);
        }
    }
    const json_t *d = json_object_get (obj, "debt");
    if (json_is_object (d))
        s_members_json (c, d, "debt", s_debt_names, D_COUNT, in->debt);

    const json_t *custom = json_object_get (obj, "custom");
    if (custom && !json_is_null (custom) && !json_is_object (custom)) {
        s_err (c, "custom", INTAKE_E_WRONG_TYPE, "custom must be an object, not %s",
               s_type_name (in->f[F_CUSTOM].kind));
        return;
    }
    if (!json_is_object (custom))
        return;
    const char *key;
    const json_t *v;
    json_object_foreach ((json_t *) custom, key, v) {
        char path[96];
        snprintf (path, sizeof path, "custom.%.80s", key);
        size_t len;
        char *value = s_custom_text (c, v, &len);
        s_custom_put (c, key, value, len, path);
    }
}

int
intake_lead_from_json (const json_t *obj, const intake_lead_opts_t *opts,
                       Plateau__V1__Lead **out, intake_errors_t *errors)
{
    if (!out || !errors || !opts || !opts->phone)
        return PL_EINVAL;
    *out = NULL;
    intake_errors_clear (errors);
    if (!obj || !json_is_object (obj)) {
        intake_errors_add (errors, "", INTAKE_E_WRONG_TYPE, "a lead is a JSON object, not %s",
                           obj ? s_type_name (s_val_json (obj).kind) : "nothing");
        return PL_EINVAL;
    }
    s_ctx_t *c = s_ctx_new (opts, errors);
    if (!c)
        return PL_ENOMEM;
    s_gather_json (c, obj);
    int rc = s_check (c, out);
    s_ctx_destroy (&c);
    return rc;
}

/* ------------------------------------------------------------------------------------------- */
/* The bus door                                                                                 */

static s_val_t
s_val_str (const char *s)
{
    if (!s || !*s)
        return (s_val_t) {.kind = V_ABSENT};
    return (s_val_t) {.kind = V_STRING, .s = s, .len = strlen (s)};
}

static s_val_t
s_val_ms (int64_t ms)
{
    return ms ? (s_val_t) {.kind = V_INT, .i = ms} : (s_val_t) {.kind = V_ABSENT};
}

/* A number as the CRM wrote it (raw), or else as the sender normalised it (e164); the rest of
 * the message (type, region, zones) is worked out again here, not taken on trust. */
static s_val_t
s_val_number (const Plateau__V1__PhoneNumber *p)
{
    if (!p)
        return (s_val_t) {.kind = V_ABSENT};
    return p->raw && *p->raw ? s_val_str (p->raw) : s_val_str (p->e164);
}

/* A field the intake sets, not a CRM: the JSON door has no such input and keeps or refuses it
 * as an unknown field, and so does this one, under the name the API shows it by. */
static void
s_unknown_pb (s_ctx_t *c, const char *name, const char *value)
{
    if (value && *value)
        s_unknown (c, name, s_strndup (c, value, strlen (value)), strlen (value));
}

static void
s_gather_pb (s_ctx_t *c, const Plateau__V1__Lead *l)
{
    s_input_t *in = &c->in;
    s_unknown_pb (c, "id", l->id);
    s_unknown_pb (c, "source", l->source);
    if (l->received_at_ms) {
        char ms[24];
        snprintf (ms, sizeof ms, "%" PRId64, l->received_at_ms);
        s_unknown_pb (c, "received_at", ms);
    }
    s_unknown_pb (c, "trace_id", l->trace_id);

    in->f[F_COUNTRY] = s_val_str (l->country);
    in->f[F_POSTAL_CODE] = s_val_str (l->postal_code);
    in->f[F_STATE] = s_val_str (l->state);
    in->f[F_TIMEZONE] = s_val_str (l->timezone);
    in->f[F_EXTERNAL_ID] = s_val_str (l->external_id);
    in->f[F_CAMPAIGN] = s_val_str (l->campaign);
    in->f[F_FIRST_NAME] = s_val_str (l->first_name);
    in->f[F_LAST_NAME] = s_val_str (l->last_name);
    in->f[F_ADDRESS] = s_val_str (l->address);
    in->f[F_EMAIL] = s_val_str (l->email);
    in->f[F_CALLEE] = s_val_str (l->callee);
    in->f[F_PHONE] = s_val_number (l->phone);

    if (l->n_alt_phones) {
        in->f[F_ALT_PHONES].kind = V_ARRAY;
        in->n_alt_phones = l->n_alt_phones;
        for (size_t i = 0; i < l->n_alt_phones && i < INTAKE_MAX_ALT_PHONES; i++)
            in->alt_phones[i] = s_val_number (l->alt_phones[i]);
    }
    if (l->n_consents) {
        in->f[F_CONSENTS].kind = V_ARRAY;
        in->n_consents = l->n_consents;
        for (size_t i = 0; i < l->n_consents && i < INTAKE_MAX_CONSENTS; i++) {
            const Plateau__V1__Consent *k = l->consents[i];
            in->consent_kind[i] = k ? V_OBJECT : V_NULL;
            if (!k)
                continue;
            s_val_t *v = in->consents[i];
            v[K_SCOPE] = s_val_str (k->scope);
            v[K_CHANNEL] = s_val_str (k->channel);
            v[K_SOURCE] = s_val_str (k->source);
            v[K_CAPTURED_AT] = s_val_ms (k->captured_at_ms);
            v[K_PROOF_REF] = s_val_str (k->proof_ref);
            v[K_WORDING_VERSION] = s_val_str (k->wording_version);
            v[K_REVOKED_AT] = s_val_ms (k->revoked_at_ms);
            v[K_NUMBER] = s_val_str (k->number);
        }
    }
    if (l->debt) {
        const Plateau__V1__Debt *d = l->debt;
        in->f[F_DEBT].kind = V_OBJECT;
        in->debt[D_ACCOUNT_REF] = s_val_str (d->account_ref);
        in->debt[D_CREDITOR] = s_val_str (d->creditor);
        in->debt[D_FIRST_LETTER_REF] = s_val_str (d->first_letter_ref);
        in->debt[D_FIRST_LETTER_AT] = s_val_ms (d->first_letter_at_ms);
        if (d->balance) {                   /* a Money message: 0 is an amount */
            in->debt[D_BALANCE] = (s_val_t) {.kind = V_INT, .i = d->balance->minor_units};
            in->debt[D_CURRENCY] = s_val_str (d->balance->currency);
        }
    }
    for (size_t i = 0; i < l->n_custom; i++) {
        const Plateau__V1__Lead__CustomEntry *e = l->custom[i];
        const char *key = e && e->key ? e->key : "";
        const char *value = e && e->value ? e->value : "";
        char path[96];
        snprintf (path, sizeof path, "custom.%.80s", key);
        s_custom_put (c, key, s_strndup (c, value, strlen (value)), strlen (value), path);
    }
}

int
intake_lead_from_pb (const Plateau__V1__Lead *in, const intake_lead_opts_t *opts,
                     Plateau__V1__Lead **out, intake_errors_t *errors)
{
    static const Plateau__V1__Lead empty = PLATEAU__V1__LEAD__INIT;
    if (!out || !errors || !opts || !opts->phone)
        return PL_EINVAL;
    *out = NULL;
    intake_errors_clear (errors);
    s_ctx_t *c = s_ctx_new (opts, errors);
    if (!c)
        return PL_ENOMEM;
    s_gather_pb (c, in ? in : &empty);
    int rc = s_check (c, out);
    s_ctx_destroy (&c);
    return rc;
}


void
intake_lead_free (Plateau__V1__Lead **lead_p)
{
    if (!lead_p || !*lead_p)
        return;
    plateau__v1__lead__free_unpacked (*lead_p, NULL);
    *lead_p = NULL;
}

/* ------------------------------------------------------------------------------------------- */
/* Rendering                                                                                    */

static int
s_put_str (json_t *o, const char *key, const char *value)
{
    if (!value || !*value)
        return 0;
    return json_object_set_new (o, key, json_string (value));
}

static int
s_put_time (json_t *o, const char *key, int64_t ms)
{
    if (ms <= 0)
        return 0;
    char buf[PL_TIME_RFC3339_MAX];
    pl_time_format_rfc3339 (ms, buf, sizeof buf);
    return json_object_set_new (o, key, json_string (buf));
}

static json_t *
s_phone_json (const Plateau__V1__PhoneNumber *p)
{
    json_t *o = json_object ();
    json_t *zones = json_array ();
    if (!o || !zones) {
        json_decref (o);
        json_decref (zones);
        return NULL;
    }
    int rc = s_put_str (o, "e164", p->e164);
    rc |= s_put_str (o, "type", pl_phone_type_str ((pl_phone_type_t) p->type));
    rc |= s_put_str (o, "region", p->region);
    for (size_t i = 0; i < p->n_zones; i++)
        rc |= json_array_append_new (zones, json_string (p->zones[i]));
    rc |= json_object_set_new (o, "zones", zones);
    rc |= s_put_str (o, "zone_source", p->zone_source);
    json_t *regions = json_array ();
    for (size_t i = 0; regions && i < p->n_regions; i++)
        rc |= json_array_append_new (regions, json_pack ("{s:s,s:s}", "region", p->regions[i]->region,
                                                         "source", p->regions[i]->source));
    rc |= regions ? json_object_set_new (o, "regions", regions) : -1;
    rc |= s_put_str (o, "raw", p->raw);
    if (rc) {
        json_decref (o);
        return NULL;
    }
    return o;
}

json_t *
intake_lead_to_json (const Plateau__V1__Lead *lead)
{
    json_t *o = json_object ();
    if (!o || !lead)
        return o;
    int rc = s_put_str (o, "id", lead->id);
    rc |= s_put_str (o, "source", lead->source);
    rc |= s_put_str (o, "external_id", lead->external_id);
    rc |= s_put_str (o, "campaign", lead->campaign);
    if (lead->phone)
        rc |= json_object_set_new (o, "phone", s_phone_json (lead->phone));
    if (lead->n_alt_phones) {
        json_t *a = json_array ();
        for (size_t i = 0; a && i < lead->n_alt_phones; i++)
            rc |= json_array_append_new (a, s_phone_json (lead->alt_phones[i]));
        rc |= json_object_set_new (o, "alt_phones", a);
    }
    rc |= s_put_str (o, "country", lead->country);
    rc |= s_put_str (o, "first_name", lead->first_name);
    rc |= s_put_str (o, "last_name", lead->last_name);
    rc |= s_put_str (o, "address", lead->address);
    rc |= s_put_str (o, "postal_code", lead->postal_code);
    rc |= s_put_str (o, "state", lead->state);
    rc |= s_put_str (o, "email", lead->email);
    rc |= s_put_str (o, "timezone", lead->timezone);
    rc |= s_put_str (o, "callee", lead->callee);
    if (lead->n_consents) {
        json_t *a = json_array ();
        for (size_t i = 0; a && i < lead->n_consents; i++) {
            const Plateau__V1__Consent *k = lead->consents[i];
            json_t *ko = json_object ();
            if (!ko) {
                rc = -1;
                break;
            }
            rc |= s_put_str (ko, "scope", k->scope);
            rc |= s_put_str (ko, "channel", k->channel);
            rc |= s_put_str (ko, "source", k->source);
            rc |= s_put_time (ko, "captured_at", k->captured_at_ms);
            rc |= s_put_str (ko, "proof_ref", k->proof_ref);
            rc |= s_put_str (ko, "wording_version", k->wording_version);
            rc |= s_put_time (ko, "revoked_at", k->revoked_at_ms);
            rc |= s_put_str (ko, "number", k->number);
            rc |= json_array_append_new (a, ko);
        }
        rc |= json_object_set_new (o, "consents", a);
    }
    if (lead->debt) {
        const Plateau__V1__Debt *d = lead->debt;
        json_t *dobj = json_object ();
        if (dobj) {
            rc |= s_put_str (dobj, "account_ref", d->account_ref);
            rc |= s_put_str (dobj, "creditor", d->creditor);
            if (d->balance) {
                rc |= json_object_set_new (dobj, "balance",
                                           json_integer ((json_int_t) d->balance->minor_units));
                rc |= s_put_str (dobj, "currency", d->balance->currency);
            }
            rc |= s_put_str (dobj, "first_letter_ref", d->first_letter_ref);
            rc |= s_put_time (dobj, "first_letter_at", d->first_letter_at_ms);
        }
        rc |= json_object_set_new (o, "debt", dobj);
    }
    if (lead->n_custom) {
        json_t *cobj = json_object ();
        for (size_t i = 0; cobj && i < lead->n_custom; i++)
            rc |= json_object_set_new (cobj, lead->custom[i]->key,
                                       json_string (lead->custom[i]->value));
        rc |= json_object_set_new (o, "custom", cobj);
    }
    rc |= s_put_time (o, "received_at", lead->received_at_ms);
    rc |= s_put_str (o, "trace_id", lead->trace_id);
    if (rc) {
        json_decref (o);
        return NULL;
    }
    return o;
}
