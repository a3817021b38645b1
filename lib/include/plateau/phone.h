/*  phone.h — phone numbers: parse and validate them, normalise them to E.164, and resolve the
 *  time zone(s) the callee lives in.
 *
 *  Parsing is a thin C shim over libphonenumber (C++). pl_phone_parse() takes a number as a CRM
 *  wrote it ("06 12 34 56 78", "+33 6 12 34 56 78", "0033 6…", "(415) 555-0123",
 *  "020 7946 0000") and a default region for national forms ("FR", "US", "GB"), and fills a
 *  pl_phone_number_t: E.164, number type, region, and when the number is not valid a precise
 *  reason (too short, too long, invalid country code, …).
 *
 *  Time zones come from three sources, most specific last:
 *    - the number: a longest-prefix table generated from libphonenumber's time-zone data
 *      (scripts/gen-tz-prefixes.py writes lib/phone/tz_prefixes.c); a prefix that spans several
 *      zones keeps them all;
 *    - the address: French postal codes (overseas departments and collectivities are not on
 *      Paris time), US ZIP codes (3-digit prefix → state), Canadian postal codes (first letter →
 *      province), or a US state / Canadian province named directly; a split state keeps all of
 *      its zones;
 *    - an explicit override from the CRM, checked against the system tzdata.
 *  pl_phone_resolve_zones() combines them. When the number and the address agree, or the address
 *  narrows the number down, the address wins; when they disagree, every candidate is kept — the
 *  rules engine then uses the strictest window. The result says how the zones were resolved.
 *
 *  A US number's area code also names a state (pl_phone_us_state_for_number), which state
 *  telemarketing rules use beside the address.
 *
 *  Thread safety: give each thread its own pl_phone_t, never share one. It keeps a detail string
 *  of its last failure and its own compiled copies of libphonenumber's patterns, with which it
 *  types the common numbers itself: libphonenumber's own pattern cache is one mutex of the
 *  process, and two threads parsing through it ran barely faster than one. The zone functions
 *  that take no pl_phone_t are pure.
 */
#ifndef PL_PHONE_H
#define PL_PHONE_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pl_phone pl_phone_t;        /* opaque: defined in phone.cc only */

/* Number type. The values are those of plateau.v1.PhoneNumber.Type (common.proto), so a cast
 * between the two is exact. */
typedef enum {
    PL_PHONE_TYPE_UNSPECIFIED = 0,
    PL_PHONE_FIXED_LINE = 1,
    PL_PHONE_MOBILE = 2,
    PL_PHONE_FIXED_LINE_OR_MOBILE = 3,
    PL_PHONE_VOIP = 4,
    PL_PHONE_TOLL_FREE = 5,
    PL_PHONE_PREMIUM_RATE = 6,
    PL_PHONE_SHARED_COST = 7,
    PL_PHONE_PERSONAL = 8,
    PL_PHONE_PAGER = 9,
    PL_PHONE_UAN = 10,
    PL_PHONE_VOICEMAIL = 11,
    PL_PHONE_UNKNOWN = 12,
} pl_phone_type_t;

/* Why a number is not valid. */
typedef enum {
    PL_PHONE_VALID = 0,
    PL_PHONE_NOT_A_NUMBER,            /* no digits, letters, or not a phone number at all */
    PL_PHONE_NO_REGION,               /* national form and no (known) default region given */
    PL_PHONE_INVALID_COUNTRY_CODE,    /* "+999 …": no such country calling code */
    PL_PHONE_TOO_SHORT,
    PL_PHONE_TOO_LONG,
    PL_PHONE_INVALID_LENGTH,          /* between the shortest and longest, but no such length */
    PL_PHONE_INVALID_FOR_REGION,      /* right length, but not a number range in use there */
} pl_phone_reason_t;

/* The longest raw input pl_phone_parse() looks at; longer input is PL_PHONE_TOO_LONG. */
#define PL_PHONE_RAW_MAX 128

typedef struct {
    char e164[24];              /* "+33612345678"; when invalid, the best reading of the digits
                                   (may be "") — for messages only, never for dialling */
    char region[4];             /* ISO 3166-1 alpha-2 of the number ("RE"), "001" for
                                   non-geographic entities, "" when unknown */
    int country_code;           /* 33, 1, 44, 262…; 0 when not parsed */
    pl_phone_type_t type;
    pl_phone_reason_t reason;   /* PL_PHONE_VALID when the number is valid */
} pl_phone_number_t;

/* Returns a new phone-number parser, or NULL when out of memory. */
pl_phone_t *pl_phone_new (void);

/* Destroys *self_p and sets it to NULL; safe to call twice. */
void pl_phone_destroy (pl_phone_t **self_p);

/* Parses `raw` (UTF-8; spaces, dots, dashes, parentheses, "00" / "+" international prefixes and
 * extensions allowed) with `default_region` (ISO alpha-2, case-insensitive; "UK" is read as "GB";
 * NULL or "" when none) used for national forms. Always fills *out. Returns 0 when the number is
 * valid, PL_EINVAL when it is not (out->reason says why; pl_phone_errstr() has a sentence). */
int pl_phone_parse (pl_phone_t *self, const char *raw, const char *default_region,
                    pl_phone_number_t *out);

/* True when libphonenumber has metadata for `region` (ISO alpha-2, upper case). */
bool pl_phone_region_known (const pl_phone_t *self, const char *region);

/* Short static names: "too short", "mobile". Never NULL. */
const char *pl_phone_reason_str (pl_phone_reason_t reason);
const char *pl_phone_type_str (pl_phone_type_t type);

/* Detail of the last failure ("not a valid FR number: too short"). */
const char *pl_phone_errstr (const pl_phone_t *self);

/* ------------------------------------------------------------------------------------------- */
/* Time zones                                                                                   */

#define PL_PHONE_MAX_ZONES 64          /* more than any prefix, state or union of them needs */
#define PL_PHONE_ZONE_NAME_MAX 64      /* IANA names are at most ~32 bytes */

typedef enum {
    PL_PHONE_ZONES_NONE = 0,           /* nothing resolved */
    PL_PHONE_ZONES_PREFIX,             /* from the number's prefix only */
    PL_PHONE_ZONES_STATE,              /* the state or province took part */
    PL_PHONE_ZONES_POSTAL_CODE,        /* the postal code took part */
    PL_PHONE_ZONES_OVERRIDE,           /* the CRM's explicit zone */
} pl_phone_zone_source_t;

/* A set of candidate IANA zones, without duplicates, in a stable order. Plain data: copyable. */
typedef struct {
    size_t count;
    pl_phone_zone_source_t source;
    char zones[PL_PHONE_MAX_ZONES][PL_PHONE_ZONE_NAME_MAX];
} pl_phone_zones_t;

/* "prefix", "state", "postal_code", "override", or "" for NONE. Never NULL. */
const char *pl_phone_zone_source_str (pl_phone_zone_source_t source);

/* Zones of an E.164 number ("+262692123456") by longest prefix. Returns the number of zones
 * (≥ 1), or PL_ENOTFOUND when no prefix matches, PL_EINVAL when `e164` is not "+digits".
 * out->source is PREFIX when found. */
int pl_phone_zones_for_number (const char *e164, pl_phone_zones_t *out);

/* Zones of a postal code in `country` (ISO alpha-2; the French, US and Canadian postal systems
 * are known, including "RE", "GP", "PR", … which use them). Returns the count, or PL_ENOTFOUND. */
int pl_phone_zones_for_postal_code (const char *country, const char *postal_code,
                                    pl_phone_zones_t *out);

/* Zones of a US state or Canadian province, by code or name ("FL", "Florida", "Québec"), in
 * `country` ("US", "CA", or NULL to try both). Returns the count, or PL_ENOTFOUND. */
int pl_phone_zones_for_state (const char *country, const char *state, pl_phone_zones_t *out);

/* The US state (two letters, static) of a ZIP code ("33101" → "FL"), or NULL. */
const char *pl_phone_us_state_for_zip (const char *zip);

/* The US state (two letters, static; "DC" included) of an E.164 number's area code
 * ("+13055550123" → "FL"), from libphonenumber's geocoding data (a table generated by
 * scripts/gen-us-area-states.py), or NULL: not "+1" and ten digits, or an area code that is not
 * a US state's (Canada, the Caribbean, US territories, toll-free 8xx). Pure.
 * State telemarketing laws apply when either the area code or the address is in the state, so a
 * lead's regions hold both: "US-" + this, marked as from the number, beside the address's. */
const char *pl_phone_us_state_for_number (const char *e164);

/* Where the system tzdata lives; "/usr/share/zoneinfo" unless set. Copies `dir`. */
int pl_phone_set_tzdir (pl_phone_t *self, const char *dir);

/* 0 when `zone` names a zone of the system tzdata (a TZif file under the tzdata directory,
 * "posix/", "right/" and "localtime" excluded); PL_EINVAL otherwise, with a detail. */
int pl_phone_zone_check (pl_phone_t *self, const char *zone);

/* What pl_phone_resolve_zones() knows about a callee. Every member may be NULL or "". */
typedef struct {
    const char *e164;           /* the normalised number */
    const char *region;         /* the number's region ("RE"), from pl_phone_parse() */
    const char *country;        /* the address's country (ISO alpha-2); the number's region
                                   when NULL */
    const char *postal_code;
    const char *state;
    const char *override;       /* IANA zone named by the CRM */
} pl_phone_place_t;

/* Resolves the candidate zones of a callee:
 *   - a valid override wins alone (source OVERRIDE); an invalid one is PL_EINVAL;
 *   - otherwise the number's prefix zones P and the address's zones A (postal code, else state)
 *     are combined: A alone when A ⊆ P or P is empty; P ∪ A when they disagree; P alone when the
 *     address says nothing. The source is POSTAL_CODE or STATE whenever A took part.
 * Returns the number of zones (≥ 1), PL_ENOTFOUND when nothing resolves, PL_EINVAL for a bad
 * override. */
int pl_phone_resolve_zones (pl_phone_t *self, const pl_phone_place_t *place,
                            pl_phone_zones_t *out);

/* ------------------------------------------------------------------------------------------- */
/* Regions                                                                                      */

#define PL_PHONE_MAX_REGIONS 4         /* the number's country and state, the address's state */

typedef enum {
    PL_PHONE_REGION_NUMBER = 0,        /* the number: its country, a US area code's state */
    PL_PHONE_REGION_ADDRESS,           /* the lead's address: state, else ZIP code */
} pl_phone_region_source_t;

/* The regions of a callee (ISO 3166-1 "US", 3166-2 "US-FL"), each with where it comes from.
 * The same region may appear twice, once per source. Plain data: copyable. */
typedef struct {
    size_t count;
    char regions[PL_PHONE_MAX_REGIONS][8];
    pl_phone_region_source_t sources[PL_PHONE_MAX_REGIONS];
} pl_phone_regions_t;

/* "number" or "address". Never NULL. */
const char *pl_phone_region_source_str (pl_phone_region_source_t source);

/* Resolves a callee's regions: the number's region ("US", "RE"), the state of a US number's
 * area code ("US-FL"), and the state of a US address (by its state, code or name, else its ZIP
 * code). A state's telemarketing rules apply when either the number or the address is in the
 * state, so both are kept, each marked with its source. Pure; returns the count (≥ 0). */
int pl_phone_resolve_regions (const pl_phone_place_t *place, pl_phone_regions_t *out);

#ifdef __cplusplus
}
#endif
#endif
