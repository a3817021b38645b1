/*  law.h — the checker's own copy of the calling rules it verifies, and local time.
 *
 *  Written from the calling-rules reference (values and legal sources in law.c), never read
 *  from the rules engine: an auditor's checker must not share the code or data it checks.
 *  Local time comes from the system's tz database through glibc (TZ + localtime_r), cached per
 *  zone and quarter hour (every offset change of the zones we meet falls on a quarter hour).
 */
#ifndef CK_LAW_H
#define CK_LAW_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define CK_DAY_MS INT64_C(86400000)
#define CK_HOUR_MS INT64_C(3600000)
#define CK_MAX_ZONES 8

/* A calling window: local seconds of the day [from, to), on the days of `days` (bit 0 Sunday). */
typedef struct {
    int from, to;
} ck_span_t;

typedef struct {
    const char *rule;           /* "fr.hours" */
    const char *source;
    int days;                   /* bit per weekday, tm_wday order */
    bool fr_holidays;           /* not on a French public holiday (fr.days) */
    int n;
    ck_span_t span[2];
} ck_window_t;

/* A rolling cap: at most `max` calls in any `span_ms`, this one included. */
typedef struct {
    const char *rule, *source;
    int max;
    int64_t span_ms;
    bool by_debt;               /* keyed by tenant and debt; otherwise tenant and number */
} ck_cap_t;

/* How a profile measures the abandon rate. */
typedef enum { CK_PERIOD_RUN, CK_PERIOD_ROLLING_30D, CK_PERIOD_LOCAL_DAY } ck_period_t;

/* What a business callee, in a campaign for businesses, is outside of (fr.b2b, us.b2b). */
enum {
    CK_B2B_WINDOW  = 1 << 0,    /* the profile's window (not Florida's) */
    CK_B2B_CAP     = 1 << 1,
    CK_B2B_REFUSAL = 1 << 2,
    CK_B2B_CONSENT = 1 << 3,
    CK_B2B_LISTS   = 1 << 4,    /* the registry lists */
};

/* What the checker enforces for one jurisdiction profile. */
typedef struct {
    const char *id;             /* "fr-cc" */
    char kind;                  /* 'C' canvassing, 'D' debt collection */
    ck_window_t window;
    ck_cap_t cap;               /* max 0: none */
    const char *refusal_rule;   /* fr.refusal: days after a refusal (0: none) */
    int refusal_days;
    const char *conversation_rule;  /* us.regf-7in7: days after a conversation, by debt */
    int conversation_days;
    const char *abandon_retry_rule; /* uk.abandon-retry */
    int abandoned_hours;        /* no call this long after an abandoned call */
    bool machine_same_day;      /* no call the same local day after a machine */
    const char *consent_rule;   /* fr.consent: a consent in force for every call ... */
    const char *consent_from;   /* ... from this date (YYYY-MM-DD, 00:00 in the callee's zone) */
    const char *lists[3];       /* registry lists that bind this profile ("tps", "us-dnc") */
    bool lists_exempt_by_consent;   /* uk.tps: a consent to this caller lifts a hit */
    const char *abandon_rule;
    ck_period_t abandon_period;
    const char *abandon_zone;   /* CK_PERIOD_LOCAL_DAY: the zone whose days count */
    bool florida;               /* us.fl applies to leads in Florida */
    const char *b2b_rule;       /* "fr.b2b": what a business callee is outside of, NULL none */
    ck_window_t b2b_window;     /* the house window that binds it instead (fr.b2b-hours) */
    unsigned b2b;               /* CK_B2B_* */
    const char *b2b_except[2];  /* campaign sectors for which b2b does not hold */
} ck_profile_t;

const ck_profile_t *ck_profile (const char *id);
extern const ck_window_t ck_florida_window;
extern const ck_cap_t ck_florida_cap;

/* Registry list ages (days after the copy's date it may serve). 0 when unknown. */
int ck_list_max_age_days (const char *list);

/* Candidate zones from the lead's own facts: its number's prefix (country, overseas department,
 * US area code), its postal code and its US state. Appends distinct names to zones[*n]. */
void ck_zones_derive (const char *e164, const char *country, const char *postal,
                      const char *state, const char **zones, int *n);
/* The US state of a number's area code ("FL"), or NULL. */
const char *ck_area_state (const char *e164);
/* Appends zone to zones[*n] unless present (or full). */
void ck_zone_add (const char **zones, int *n, const char *zone);

/* Local time. */
typedef struct ck_tz ck_tz_t;
ck_tz_t *ck_tz_new (void);
void ck_tz_destroy (ck_tz_t **self_p);
/* 0 and the local broken-down time of ms in zone (tm_gmtoff set), or -1: unknown zone. */
int ck_tz_local (ck_tz_t *self, const char *zone, int64_t ms, struct tm *out);
/* "2026-12-07T20:05:00+01:00" */
void ck_tz_format (const struct tm *tm, char *out, size_t size);

/* Whether the local time tm lies inside window w (days, French holidays, hours) in zone;
 * when not, why in `why` ("Saturday", "public holiday 11-11", "20:05:00 outside ..."). */
bool ck_window_open (const ck_window_t *w, const char *zone, const struct tm *tm, char *why,
                     size_t size);

/* Milliseconds since the epoch of a date "YYYY-MM-DD" at 00:00 UTC; -1 when malformed. */
int64_t ck_date_ms (const char *s);
/* RFC 3339 ("2026-12-07T10:00:00Z", "…+01:00", fractions allowed) or a plain integer of ms. */
int ck_parse_time (const char *s, int64_t *ms);
/* "2026-12-07T19:05:00Z" */
void ck_iso (int64_t ms, char *out, size_t size);

#endif
