/*  rules_int.h — internal types shared by the sources of the rules engine. Not installed.
 *
 *  tzif.c      TZif reader, UTC <-> local conversion
 *  calendar.c  holiday calendars and Easter
 *  profile.c   profile text format: parsing, validation, compiling a rule's keys into clauses
 *  campaign.c  campaigns: narrowing checks, the compiled clause list a decision runs
 *  decide.c    the decision: clause evaluation and the fixpoint that finds defer_until
 *  explain.c   human-readable decisions
 *
 *  A rule (fr.dc-hours) is a set of key = value lines. Compiling turns its keys into clauses,
 *  the units the engine evaluates: one calendar clause for hours/days/holidays, one clause per
 *  cap or after line, one list clause, and so on. Every clause carries its rule's id, source
 *  and applicability (when / from / until / overlay regions / exemptions).
 */
#ifndef PL_RULES_INT_H
#define PL_RULES_INT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plateau/error.h"
#include "plateau/rules.h"
#include "plateau/rules_holidays.h"
#include "plateau/rules_tz.h"

#define PL__DAY_S      86400
#define PL__DAY_MS     86400000LL
#define PL__ERRLEN     512
#define PL__MAXWIN     6        /* windows per day */
#define PL__MAXCAL     4        /* holiday calendars per clause */
#define PL__MAXLIST    4        /* lists per list clause */
#define PL__MAXWHEN    4        /* alternatives in a `when` */
#define PL__MAXEXEMPT  4
#define PL__MAXREGIONS 8
#define PL__MAXPREFIX  24
#define PL__MAXSECTOR  8
#define PL__MAXLIFT    12       /* rules a callee rule lifts */
#define PL__MAXLIFTBY  2        /* callee rules lifting one rule */
#define PL__NAMELEN    24

static inline int64_t
pl__floordiv (int64_t a, int64_t b)
{
    int64_t q = a / b, r = a - q * b;
    return (r != 0 && ((r < 0) != (b < 0))) ? q - 1 : q;
}

/* ISO weekday (1 = Monday) of a day count, inline for the hot paths. */
static inline int
pl__weekday (int64_t days)
{
    int64_t r = (days + 3) % 7;
    return (int) (r < 0 ? r + 7 : r) + 1;
}

/* ---- tz ------------------------------------------------------------------------------------ */

struct pl_rules_tz {
    char *name;
    size_t n;                   /* transitions */
    int64_t *at;                /* n UTC instants, ascending */
    int32_t *off;               /* n + 1: offset in piece k (piece 0 precedes at[0]) */
    uint16_t *type;             /* n + 1: type index of piece k */
    size_t ntypes;
    int32_t *t_off;
    bool *t_dst;
    char (*t_abbr)[16];
    int32_t min_off, max_off;   /* over all pieces */
    uint32_t *bucket;           /* PL__TZ_BUCKETS: piece index at the start of each bucket */
};

/* Piece lookup in O(1) for 1900..2200: the time line is cut into buckets of an average year,
 * each remembering the piece it starts in; a lookup then steps over at most the few
 * transitions of one year instead of a binary search over all of them. */
#define PL__TZ_BUCKET_E0  (-2208988800LL)     /* 1900-01-01T00:00:00Z */
#define PL__TZ_BUCKET_LEN 31556952LL          /* 365.2425 days */
#define PL__TZ_BUCKETS    302

static inline size_t
pl__tz_piece (const pl_rules_tz_t *z, int64_t t)
{
    int64_t rel = t - PL__TZ_BUCKET_E0;
    size_t lo, hi;
    if (rel >= 0 && rel < PL__TZ_BUCKETS * PL__TZ_BUCKET_LEN) {
        size_t k = z->bucket[rel / PL__TZ_BUCKET_LEN];
        while (k < z->n && z->at[k] <= t)
            k++;
        return k;
    }
    lo = 0;
    hi = z->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (z->at[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* pl_rules_tz_next_local from a known piece k (the one holding u0): the earliest u >= u0 whose
 * local time lies in [lo_l, hi_l), or PL_RULES_TZ_NEVER. Inline for the decision's hot path. */
static inline int64_t
pl__tz_next_local_from (const pl_rules_tz_t *z, size_t k, int64_t u0, int64_t lo_l, int64_t hi_l)
{
    /* Keep arithmetic on offsets clear of overflow: "until the end of time" is far enough. */
    if (hi_l > INT64_MAX / 2)
        hi_l = INT64_MAX / 2;
    for (;;) {
        int64_t off = z->off[k];
        int64_t end = k < z->n ? z->at[k] : INT64_MAX;
        /* Within this piece local = u + off, for u in [u0, end). */
        int64_t lo = lo_l - off > u0 ? lo_l - off : u0;
        int64_t hi = hi_l - off < end ? hi_l - off : end;
        if (lo < hi)
            return lo;
        /* From here on local >= u + min_off: once that passes hi_l nothing can match. */
        if (end == INT64_MAX || end + z->min_off >= hi_l)
            return PL_RULES_TZ_NEVER;
        u0 = end;
        k++;
    }
}

/* ---- regions: ISO 3166-2 codes packed in 64 bits for quick comparison --------------------- */

/* 0 when not a plausible code ("US-FL", "FR-974": letters, digits, one '-', <= 8 chars). */
uint64_t pl__region_pack (const char *s);

/* ---- calendars ----------------------------------------------------------------------------- */

enum { PL__HD_FIXED = 1, PL__HD_EASTER, PL__HD_NTH };

typedef struct {
    uint8_t kind;
    int8_t month, day;          /* FIXED; NTH: month */
    int16_t offset;             /* EASTER: days from Easter Sunday */
    int8_t nth, wday;           /* NTH: 1..5 or -1 (last); ISO weekday */
    bool observed;              /* also the Friday/Monday when it falls on Saturday/Sunday */
    bool unconfirmed;
    int32_t from_year, to_year;
    uint8_t n_zones, n_regions;
    char **zones;               /* zone names it is limited to */
    uint64_t regions[PL__MAXREGIONS];
    char *name;
} pl__holiday_t;

struct pl_rules_calendar {
    char *id, *title, *source, *file;
    bool unconfirmed;
    size_t n;
    pl__holiday_t *h;
    /* One bit per day from 1900 to 2200: set when some entry may fall on that day (scope
     * ignored). Most days are not holidays; the bit answers them without date arithmetic. */
    int64_t bits_d0, bits_n;
    uint8_t *bits;
};

/* Builds cal->bits. 0 or PL_ENOMEM. */
int pl__calendar_index (pl_rules_calendar_t *cal);
/* The entries' answer for `days` (what pl__calendar_holiday falls back to). */
const char *pl__calendar_match (const pl_rules_calendar_t *cal, int64_t days,
                                const pl_rules_tz_t *z, const uint64_t *regions,
                                size_t n_regions);

/* Holiday name for local day `days` in zone z for packed regions, or NULL: the bitmap answers
 * ordinary days inline; candidate days go through the entries. */
static inline const char *
pl__calendar_holiday (const pl_rules_calendar_t *cal, int64_t days, const pl_rules_tz_t *z,
                      const uint64_t *regions, size_t n_regions)
{
    int64_t b = days - cal->bits_d0;
    if (cal->bits && b >= 0 && b < cal->bits_n && !(cal->bits[b >> 3] & (1u << (b & 7))))
        return NULL;
    return pl__calendar_match (cal, days, z, regions, n_regions);
}

/* Parses one `holiday = …` value into h (strings allocated). 0 or -1 with err. */
int pl__holiday_parse (const char *value, pl__holiday_t *h, char *err, size_t errlen);
void pl__holiday_free (pl__holiday_t *h);

/* ---- profile data -------------------------------------------------------------------------- */

typedef struct {
    char *key, *value;
    int line;
} pl__param_t;

struct pl_rules_rule {
    char *id;
    const char *file;
    int line;
    const struct pl_rules_profile *profile;
    size_t n, cap;
    pl__param_t *p;
    bool per_call;
};

struct pl_rules_profile {
    char *id, *title, *jurisdiction, *file, *base_id;
    pl_rules_kind_t kind;
    const struct pl_rules_profile *base;
    size_t n_regions;
    char regions[PL__MAXREGIONS][12];
    uint64_t regions_packed[PL__MAXREGIONS];
    size_t n_rules;
    pl_rules_rule_t **rules;
};

struct pl_rules_profiles {
    pl_rules_tzdb_t *tzdb;
    size_t n_profiles, n_calendars;
    pl_rules_profile_t **profiles;
    pl_rules_calendar_t **calendars;
    char err[2 * PL__ERRLEN];
    char errfile[256];
    int errline;
    char errkey[64];
};

/* Error being built: location plus message. */
typedef struct {
    const char *file;           /* must outlive the error's use: a doc or loaded profile name */
    int line;
    char key[64];               /* copied: the key's own storage may be freed on failure */
    char msg[PL__ERRLEN];
} pl__err_t;

/* ---- clauses ------------------------------------------------------------------------------- */

enum {
    PL__CL_CALENDAR = 1,        /* hours, hours.<day>, days, holidays */
    PL__CL_CAP,                 /* cap, after */
    PL__CL_CONSENT,             /* consent */
    PL__CL_LIST,                /* list, max-age, required */
    PL__CL_CLI,                 /* cli, cli-allow, cli-forbid */
    PL__CL_SECTOR,              /* sectors-banned */
    PL__CL_LETTER,              /* letter */
    PL__CL_REQUESTS,            /* requests */
    PL__CL_EXEMPTION,           /* exemption, purchase, inquiry, overridden-by */
    PL__CL_REASSIGNED,          /* reassigned, disconnect-min */
    PL__CL_REVOKE,              /* revoke */
    PL__CL_OPTOUT,              /* optout */
    PL__CL_CALLEE,              /* callee, lifts, except-sector */
};

/* Condition atoms for `when`. */
enum {
    PL__AT_MOBILE      = 1 << 0,   /* mobile or unknown line */
    PL__AT_FIXED       = 1 << 1,
    PL__AT_VOIP        = 1 << 2,
    PL__AT_AUTODIALED  = 1 << 3,
    PL__AT_PRERECORDED = 1 << 4,
    PL__AT_MANUAL      = 1 << 5,
    PL__AT_AGENT       = 1 << 6,   /* an agent is guaranteed */
};

/* Scope of a cap: which fields of a past call must equal this call's. */
enum {
    PL__SC_TENANT   = 1 << 0,
    PL__SC_CAMPAIGN = 1 << 1,
    PL__SC_DEBT     = 1 << 2,
    PL__SC_SUBJECT  = 1 << 3,
    PL__SC_NUMBER   = 1 << 4,
};

enum { PL__EX_CONSENT = 1 << 0, PL__EX_WRITTEN = 1 << 1 };   /* built-in exemptions */
enum { PL__EXT_CONTRACT = 1, PL__EXT_EBR, PL__EXT_CONSENT };  /* exemption types */
enum { PL__CONSENT_REQUIRED = 1, PL__CONSENT_WRITTEN_NUMBER };

typedef struct {
    int32_t lo, hi;             /* seconds of the local day, [lo, hi) */
} pl__win_t;

typedef struct {
    uint32_t need, forbid;
} pl__term_t;

typedef struct {
    int64_t n;
    char unit;                  /* 's' 'h' 'd' (exact), 'b' business days, 'M' months, 'y' */
} pl__dur_t;

typedef struct pl__clause {
    uint8_t kind;
    const char *rule_id, *key, *value, *source;
    bool unconfirmed;
    bool policy;                            /* basis = policy */
    /* applicability */
    uint8_t n_when;
    pl__term_t when[PL__MAXWHEN];
    int64_t from_day, until_day;            /* local dates, inclusive; INT64_MIN/MAX: open */
    bool dated;                             /* from or until given */
    uint8_t n_regions;                      /* overlay gate; 0: everywhere */
    uint64_t regions[PL__MAXREGIONS];
    uint8_t n_exempt;
    int16_t exempt[PL__MAXEXEMPT];          /* indexes of exemption clauses (compiled list) */
    char exempt_names[PL__MAXEXEMPT][PL__NAMELEN];
    uint8_t exempt_builtin;                 /* PL__EX_* */
    uint8_t n_lifted_by;
    int16_t lifted_by[PL__MAXLIFTBY];       /* indexes of the callee rules lifting it */
    uint8_t only_callees;                   /* `callee` on a checking rule: PL_RULES_CALLEE_BIT
                                             * of the types it applies to; 0: every type */
    union {
        struct {
            uint8_t nwin[7];                /* by ISO weekday - 1 */
            pl__win_t win[7][PL__MAXWIN];
            uint8_t ncal;
            const pl_rules_calendar_t *cal[PL__MAXCAL];
            bool has_hours;
        } cal;
        struct {
            int32_t max;                    /* cap: calls allowed in the window */
            int32_t max_prior;              /* earlier matching events tolerated */
            int64_t window_ms;
            bool same_day, is_after;
            uint32_t events;                /* PL_RULES_CALL_* flags an event needs; 0: any call */
            uint32_t scope;                 /* PL__SC_* */
        } cap;
        struct {
            uint8_t mode;
        } consent;
        struct {
            uint8_t n;
            char names[PL__MAXLIST][PL__NAMELEN];
            int64_t max_age_ms;             /* 0: no age limit; else max_age_days whole days */
            int32_t max_age_days;           /* calendar dates after the copy's date (ADR 0015) */
            bool required;
        } list;
        struct {
            bool valid;
            uint8_t nallow, nforbid;
            char allow[PL__MAXPREFIX][16];
            char forbid[PL__MAXPREFIX][16];
        } cli;
        struct {
            uint8_t n;
            char names[PL__MAXSECTOR][32];
        } sector;
        struct {
            uint8_t type;
            pl__dur_t purchase, inquiry;
            uint8_t n_over;
            char over[PL__MAXLIST][PL__NAMELEN];
        } ex;
        struct {
            char list[PL__NAMELEN];
        } re;
        struct {
            uint8_t kinds;                  /* 1 << pl_rules_optout_kind_t honoured */
        } optout;
        struct {
            uint8_t callees;                /* PL_RULES_CALLEE_BIT of the types it holds for */
            uint8_t n_lifts, n_except;
            char lifts[PL__MAXLIFT][PL__NAMELEN];
            char except[PL__MAXSECTOR][32]; /* campaign sectors it does not hold for */
        } callee;
    } u;
} pl__clause_t;

/* Strings owned by a compiled set (display values). */
typedef struct {
    size_t n, cap;
    char **s;
} pl__arena_t;

const char *pl__arena_strdup (pl__arena_t *a, const char *s);
void pl__arena_free (pl__arena_t *a);

/* Compiles the keys of one rule into clauses appended to *out (grown as needed). Exemption
 * references stay by name (exempt_names) until pl__clauses_link. ps gives calendars.
 * 0, or -1 with err filled (line/key of the offending key). */
int pl__rule_compile (const pl_rules_profiles_t *ps, const char *rule_id, int rule_line,
                      const pl__param_t *p, size_t n, const uint64_t *regions, size_t n_regions,
                      pl__arena_t *arena, pl__clause_t **out, size_t *n_out, size_t *cap_out,
                      pl__err_t *err);
/* Resolves exempt-by names to clause indexes. -1 with err naming the missing rule. */
int pl__clauses_link (pl__clause_t *cl, size_t n, pl__err_t *err);
/* The callee types named in value ("consumer business") as PL_RULES_CALLEE_BIT flags: 0, or
 * PL_EINVAL with why set. Campaigns' `callees` and rules' `callee` read them alike. */
int pl__callees_mask (const char *value, unsigned *mask, char *why, size_t why_size);
/* True when the key of a rule is known to the format; `per_call` set when it makes a check. */
bool pl__key_known (const char *key, bool *per_call);

/* Value parsers shared with campaign.c. 0 or -1 with err->msg. */
int pl__parse_duration (const char *s, pl__dur_t *d);
int64_t pl__dur_ms (const pl__dur_t *d);        /* exact units only; -1 otherwise */
int pl__parse_windows (const char *s, pl__win_t *w, uint8_t *n, char *err, size_t errlen);
int pl__parse_days (const char *s, uint8_t *mask, char *err, size_t errlen);
int64_t pl__add_months (int64_t ms, int64_t months);

/* Splits a value into words (quotes group); returns count, words point into buf. */
size_t pl__split (const char *s, char *buf, size_t buflen, char **words, size_t max);

/* Text in the profile format, split into sections (syntax only). */
typedef struct {
    char *type, *arg;           /* "rule", "fr.hours" */
    int line;
    size_t n, cap;
    pl__param_t *p;
} pl__section_t;

typedef struct {
    char *file;
    size_t n, cap;
    pl__section_t *s;
} pl__doc_t;

int pl__doc_parse (const char *origin, const char *text, pl__doc_t *doc, pl__err_t *err);
void pl__doc_free (pl__doc_t *doc);

int pl__abandon_fill (const char *rule, const char *source, const char *rate,
                      const char *period, const char *agent, const char *ring,
                      const char *message, pl_rules_abandon_t *out);

/* ---- campaign ------------------------------------------------------------------------------ */

typedef struct {
    char *rule;
    size_t n, cap;
    pl__param_t *p;
} pl__override_t;

struct pl_rules_campaign {
    const pl_rules_profiles_t *ps;
    const pl_rules_profile_t *profile;
    uint64_t tenant, id, subject;
    unsigned dial;              /* PL_RULES_DIAL_* of the campaign */
    char cli[24];
    char sector[32];
    char name[64];
    unsigned callees;           /* PL_RULES_CALLEE_BIT of the types it is for */
    size_t n_over;
    pl__override_t *over;
    /* compiled */
    size_t n_clauses;
    pl__clause_t *clauses;
    pl__arena_t arena;
    bool has_reassigned;
    char err[PL__ERRLEN];
};

#endif
