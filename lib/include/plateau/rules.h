/*  rules.h — the compliance rules engine: facts in, a decision out, every rule that fired named.
 *
 *  Scrub (when a lead arrives) and the dialer (at the instant of every dial) ask the same
 *  question: may this number be called now, and if not now, when? The engine answers from
 *  facts alone — the number and its candidate time zones, the lead (consents, contract, debt),
 *  the person's contact history, the list verdicts, the campaign, the jurisdiction profile and
 *  *now* — with ALLOW, DENY or DEFER until an exact instant, and the list of every rule it
 *  checked: rule id (as in the calling-rules reference: "fr.hours", "us.regf-7in7"), the value
 *  in force, the facts it used, the binding time zone. pl_rules_explain() renders that for a
 *  compliance officer.
 *
 *  The rules are data. A jurisdiction profile (lib/rules/profiles/fr-cc.profile, us-dc.profile,
 *  the us-fl overlay…) lists rules by id with their legal source and values; holiday calendars
 *  live beside them. Profiles are read and validated once, at start (the only I/O); deciding is
 *  pure: no I/O, no clock, no globals, no allocation. A campaign is built on one profile and may
 *  only narrow it (shorter hours, lower caps, more lists); anything that would widen it is
 *  refused when the campaign is configured.
 *
 *  Objects: pl_rules_tzdb_t (rules_tz.h) holds time zones; pl_rules_profiles_t holds the
 *  profiles and calendars and borrows a tzdb; pl_rules_campaign_t is a compiled campaign and
 *  borrows the profiles. Once configured all three are read-only and may be shared by threads;
 *  pl_rules_decide() may run concurrently on them.
 */
#ifndef PL_RULES_H
#define PL_RULES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "plateau/rules_holidays.h"
#include "plateau/rules_tz.h"

/* ============================================================================================ */
/* Profiles                                                                                      */

typedef struct pl_rules_profiles pl_rules_profiles_t;   /* profiles + calendars, from files */
typedef struct pl_rules_profile pl_rules_profile_t;     /* one jurisdiction and kind: "fr-cc" */
typedef struct pl_rules_rule pl_rules_rule_t;           /* one rule of a profile: "fr.hours" */

/* Kind of call a profile (and so a campaign) is for. */
typedef enum {
    PL_RULES_CC = 1,            /* canvassing / telemarketing */
    PL_RULES_DC = 2,            /* debt collection */
} pl_rules_kind_t;

/* A new, empty set. Borrows tzdb (zones named in calendars are loaded into it). */
pl_rules_profiles_t *pl_rules_profiles_new (pl_rules_tzdb_t *tzdb);
void pl_rules_profiles_destroy (pl_rules_profiles_t **self_p);

/* Loads every *.holidays and *.profile file of `dir` (calendars first, overlays after their
 * base), validating each. Returns the number of files loaded, or a negative PL_E* code with
 * the first error in pl_rules_profiles_errstr ("fr-cc.profile:12: key 'hours': …"). A failed
 * load leaves the set as it was before the call. */
int pl_rules_profiles_load_dir (pl_rules_profiles_t *self, const char *dir);
/* One file, or one text named `origin` (used in error messages). References (calendars, the
 * base profile of an overlay) must already be loaded. 0 or a negative PL_E* code. */
int pl_rules_profiles_load_file (pl_rules_profiles_t *self, const char *path);
int pl_rules_profiles_load_text (pl_rules_profiles_t *self, const char *origin, const char *text);

/* Last failure: full message, and its parts (file or origin, 1-based line, key; line 0 and
 * key "" when not tied to one). */
const char *pl_rules_profiles_errstr (const pl_rules_profiles_t *self);
const char *pl_rules_profiles_errfile (const pl_rules_profiles_t *self);
int pl_rules_profiles_errline (const pl_rules_profiles_t *self);
const char *pl_rules_profiles_errkey (const pl_rules_profiles_t *self);

size_t pl_rules_profiles_count (const pl_rules_profiles_t *self);
const pl_rules_profile_t *pl_rules_profiles_find (const pl_rules_profiles_t *self,
                                                  const char *id);
const pl_rules_calendar_t *pl_rules_profiles_calendar (const pl_rules_profiles_t *self,
                                                       const char *id);

const char *pl_rules_profile_id (const pl_rules_profile_t *p);            /* "us-fl" */
const char *pl_rules_profile_title (const pl_rules_profile_t *p);
const char *pl_rules_profile_jurisdiction (const pl_rules_profile_t *p);  /* "US" */
pl_rules_kind_t pl_rules_profile_kind (const pl_rules_profile_t *p);
/* For an overlay (a US state…): the profile it stacks on, and the regions it applies to. */
const pl_rules_profile_t *pl_rules_profile_base (const pl_rules_profile_t *p);
size_t pl_rules_profile_region_count (const pl_rules_profile_t *p);
const char *pl_rules_profile_region (const pl_rules_profile_t *p, size_t i);  /* "US-FL" */
const pl_rules_rule_t *pl_rules_profile_rule (const pl_rules_profile_t *p, const char *rule_id);

const char *pl_rules_rule_source (const pl_rules_rule_t *r);      /* "12 CFR 1006.14(b)(2)" */
const char *pl_rules_rule_summary (const pl_rules_rule_t *r);
bool pl_rules_rule_unconfirmed (const pl_rules_rule_t *r);
/* True for a house policy (`basis = policy`: uk.hours), false for a legal obligation (the
 * default, `basis = law`). Both are enforced alike; explanations and audits say which. */
bool pl_rules_rule_policy (const pl_rules_rule_t *r);
/* False for rules that only carry values for other services (us.abandon's 3 % budget,
 * fr.dc-payments): they exist in the data but are not checked per call. */
bool pl_rules_rule_per_call (const pl_rules_rule_t *r);
/* Raw text of a key as written in the profile ("4 per 30d by tenant"), first occurrence;
 * NULL when absent. */
const char *pl_rules_rule_param (const pl_rules_rule_t *r, const char *key);
size_t pl_rules_rule_param_count (const pl_rules_rule_t *r);
void pl_rules_rule_param_at (const pl_rules_rule_t *r, size_t i, const char **key,
                             const char **value);

/* The abandoned-call budget a dialer's pacing must keep (us.abandon, uk.abandon). */
typedef struct {
    const char *rule;           /* rule id it comes from */
    const char *source;
    uint32_t max_rate_ppm;      /* abandoned / live-answered calls, in ppm (3 % = 30000) */
    int64_t period_ms;          /* rolling period (30 days US); 0 when calendar_day */
    bool calendar_day;          /* measured per local day, midnight to midnight (UK) */
    int64_t agent_within_ms;    /* an agent (or the message) within this of the greeting */
    int64_t ring_min_ms;        /* let an unanswered call ring at least this long */
    bool message_required;      /* play an information message on abandon */
} pl_rules_abandon_t;

/* From a profile (and its base). 0, or PL_ENOTFOUND when the profile has no budget. */
int pl_rules_profile_abandon (const pl_rules_profile_t *p, pl_rules_abandon_t *out);

/* ============================================================================================ */
/* Campaigns                                                                                     */

typedef struct pl_rules_campaign pl_rules_campaign_t;

/* A new campaign on `profiles` (borrowed: must outlive the campaign). It has no profile until
 * one is set ([campaign] profile = fr-cc). NULL only when out of memory. */
pl_rules_campaign_t *pl_rules_campaign_new (const pl_rules_profiles_t *profiles);
void pl_rules_campaign_destroy (pl_rules_campaign_t **self_p);

/* Sets one key. Section "campaign" holds the campaign's own settings:
 *   profile = fr-cc              the profile it runs under (set first)
 *   tenant = 42, id = 7, subject = 3   numeric ids matched against the contact history; a
 *                                name for tenant or subject (a letter, then letters, digits,
 *                                '.', '_', '-') stands for pl_rules_id_of (name)
 *   dialing = manual | autodialed,  prerecorded = yes | no,  agent-guaranteed = yes | no
 *   cli = +33162000000           caller id presented;   sector = insurance
 *   callees = consumer business  the callee types it is for (default consumer); a lead of a
 *                                type the campaign is not for is checked as a consumer
 *   name = …                     for explanations
 * Any other section is a rule id: an existing rule of the profile may be narrowed on the keys
 * it has ("fr.hours", "hours", "10:00-12:00 14:00-19:00"); new restrictions go in rules named
 * "campaign.<name>". A value that would widen the profile fails with PL_ECONFIG and a detail
 * naming rule, key and why; the campaign is then unchanged. */
int pl_rules_campaign_set (pl_rules_campaign_t *self, const char *section, const char *key,
                           const char *value);
/* The same from text in the profile format ([campaign] and [rule <id>] sections). All or
 * nothing: on error the campaign is unchanged; the detail names origin, line and key. */
int pl_rules_campaign_load_text (pl_rules_campaign_t *self, const char *origin,
                                 const char *text);
const char *pl_rules_campaign_errstr (const pl_rules_campaign_t *self);

/* The numeric id of a tenant's or subject's name, as campaigns and contact histories use it:
 * all digits (under 19) read as the number, any other name as its 63-bit FNV-1a hash (odd, never
 * 0). A campaign's `tenant = acme` is pl_rules_id_of ("acme"). */
uint64_t pl_rules_id_of (const char *name);

/* Reads text in the profile format section by section, for services that keep their own
 * sections beside the engine's ([dialer …] in a campaign file). fn gets every key of every
 * section in order (a section without keys once, with key and value NULL); a non-zero return
 * stops and is returned. PL_ECONFIG with "origin:line: why" in err on a syntax error. */
typedef int (pl_rules_text_fn) (void *arg, const char *section, const char *section_arg,
                                const char *key, const char *value, int line);
int pl_rules_text_each (const char *origin, const char *text, pl_rules_text_fn *fn, void *arg,
                        char *err, size_t err_size);

const pl_rules_profile_t *pl_rules_campaign_profile (const pl_rules_campaign_t *self);
/* The value in force for rule/key, campaign narrowing applied (NULL when absent). */
const char *pl_rules_campaign_param (const pl_rules_campaign_t *self, const char *rule_id,
                                     const char *key);
/* The abandoned-call budget in force (profile, narrowed by the campaign). 0 or PL_ENOTFOUND. */
int pl_rules_campaign_abandon (const pl_rules_campaign_t *self, pl_rules_abandon_t *out);

/* Who is called. The consumer rules of a profile may not apply to a business callee (a rule
 * with `callee` and `lifts` says which, as fr.b2b and us.b2b do); unknown reads as consumer. */
typedef enum {
    PL_RULES_CALLEE_CONSUMER = 0,
    PL_RULES_CALLEE_BUSINESS,       /* a company or public body */
    PL_RULES_CALLEE_SOLE_TRADER,    /* a sole trader or partnership: a person, as a consumer */
} pl_rules_callee_t;

#define PL_RULES_CALLEE_BIT(c) (1u << (c))

/* "consumer", "business", "sole-trader". */
const char *pl_rules_callee_name (pl_rules_callee_t c);
/* Reads one of those names ("" and NULL: consumer). 0 or PL_EINVAL. */
int pl_rules_callee_parse (const char *s, pl_rules_callee_t *out);
/* The callee types the campaign is for (PL_RULES_CALLEE_BIT of each; consumer by default). */
unsigned pl_rules_campaign_callees (const pl_rules_campaign_t *self);

/* ============================================================================================ */
/* Facts                                                                                         */

typedef enum {
    PL_RULES_LINE_UNKNOWN = 0,  /* treated as mobile by rules that depend on it (stricter) */
    PL_RULES_LINE_FIXED,
    PL_RULES_LINE_MOBILE,
    PL_RULES_LINE_VOIP,
    PL_RULES_LINE_TOLLFREE,
    PL_RULES_LINE_OTHER,
} pl_rules_line_t;

/* How a candidate zone was resolved. */
typedef enum {
    PL_RULES_ZONE_NUMBER = 0,   /* from the number (country code, area code / prefix) */
    PL_RULES_ZONE_POSTAL,       /* from the lead's postal code */
    PL_RULES_ZONE_REGION,       /* from the lead's state / department */
    PL_RULES_ZONE_LEAD,         /* given explicitly with the lead */
    PL_RULES_ZONE_COUNTRY,      /* the country's default zone, nothing finer known */
} pl_rules_zone_source_t;

typedef struct {
    const pl_rules_tz_t *zone;
    pl_rules_zone_source_t source;
} pl_rules_zone_ref_t;

/* Where a region of the lead comes from. A state's rules apply when either is in the state
 * (pl_phone_us_state_for_number gives the number's). */
typedef enum {
    PL_RULES_REGION_ADDRESS = 0,    /* the lead's address: postal code, state, department */
    PL_RULES_REGION_NUMBER,         /* the number's area code */
} pl_rules_region_source_t;

/* Outcome flags of a past call. Every entry of the history is a call or attempt. */
enum {
    PL_RULES_CALL_CONVERSATION = 1 << 0,   /* a live conversation with the person */
    PL_RULES_CALL_REFUSAL      = 1 << 1,   /* the person refused (canvassing) */
    PL_RULES_CALL_ABANDONED    = 1 << 2,   /* answered, no agent in time */
    PL_RULES_CALL_MACHINE      = 1 << 3,   /* answering machine detected */
    PL_RULES_CALL_OTHER_NUMBER = 1 << 4,   /* placed to another number of the same person */
};

/* One past call to the person. Ids are the caller's numeric ids (hash strings if need be).
 * `tenant` is the professional on whose behalf it was made (subcontractors map to it). An id
 * of 0 means unknown and, being possibly this campaign's, is counted by every cap scoped on
 * that id: the stricter reading. */
typedef struct {
    int64_t at_ms;
    uint64_t tenant, campaign, debt, subject;
    uint32_t flags;
} pl_rules_call_t;

/* A consent record (proof of consent kept by the caller). */
typedef struct {
    int64_t captured_ms;        /* when given */
    int64_t revoked_ms;         /* when withdrawn ("STOP"…), 0 if not */
    int64_t expires_ms;         /* 0: no expiry */
    uint64_t tenant;            /* the professional it was given to */
    uint64_t subject;           /* what it covers; 0: everything from that professional */
    const char *number;         /* E.164 it names; NULL: any number of the person */
    bool written;               /* prior express written consent (US) */
    const char *evidence;       /* "web form #8812, wording v3" — shown in explanations */
} pl_rules_consent_t;

/* A contract between the person and a professional. */
typedef struct {
    uint64_t tenant, subject;
    int64_t start_ms, end_ms;   /* end 0: open-ended */
} pl_rules_contract_t;

/* A window the person asked to be called in (local time): days bit 0 = Monday … bit 6 =
 * Sunday, seconds of the local day [from_s, to_s). Every other time is one the person called
 * inconvenient (12 CFR 1006.6(b)(1)(i), CONC 7.9). `at_ms` is when the person asked: a request
 * counts from that instant, so one made after the instant decided does not (0: unknown, counts
 * at every instant). `channel` is how it reached the caller ("letter", "phone", "email", "web"),
 * for the audit; NULL when unknown. */
typedef struct {
    uint8_t days;
    int32_t from_s, to_s;
    int64_t at_ms;
    const char *channel;
} pl_rules_window_t;

/* A debtor's request to stop (collection). Kinds: */
typedef enum {
    PL_RULES_OPTOUT_CEASE = 1,      /* cease communication about the debt (15 USC 1692c(c)) */
    PL_RULES_OPTOUT_REFUSE_PAY,     /* refuses to pay the debt (15 USC 1692c(c)) */
    PL_RULES_OPTOUT_MEDIUM,         /* do not use this medium / number (12 CFR 1006.14(h)) */
} pl_rules_optout_kind_t;

/* One request, as received. It counts from `at_ms` on (a request made after the instant decided
 * does not count). `tenant` is the professional it was made to (0: unknown, counts for every
 * tenant: the stricter reading). CEASE and REFUSE_PAY are about `debt` (0: every debt of the
 * person). MEDIUM names what not to use: `medium` "phone" (or NULL / "": calls of any kind) or
 * another medium ("email", "sms", "letter": not calls), and `number` an E.164 the person asked
 * not to be called on (NULL: every number). `channel` says how the request arrived ("letter",
 * "phone", "email", "web"), kept for the audit with `at_ms`. */
typedef struct {
    uint8_t kind;               /* pl_rules_optout_kind_t */
    int64_t at_ms;
    uint64_t tenant, debt;
    const char *medium;
    const char *number;
    const char *channel;
} pl_rules_optout_t;

/* The verdict of one suppression list for this number. `list` names it as profiles do:
 * "us-dnc", "internal-dnc", "tps", "ctps", "bloctel", "litigator", "rnd" (US reassigned
 * numbers database: hit = reassigned since the consent). `as_of_ms` is when the copy consulted
 * was taken (Bloctel: the date of the returned file). */
typedef struct {
    const char *list;
    bool hit;
    const char *version;
    int64_t as_of_ms;
} pl_rules_list_t;

/* Dialing of this call, when it differs from the campaign's settings. */
enum {
    PL_RULES_DIAL_AUTODIALED       = 1 << 0,
    PL_RULES_DIAL_PRERECORDED      = 1 << 1,
    PL_RULES_DIAL_AGENT_GUARANTEED = 1 << 2,
    PL_RULES_DIAL_SET              = 1 << 7,   /* use these flags, not the campaign's */
};

#define PL_RULES_MAX_ZONES   4
#define PL_RULES_MAX_REGIONS 4

typedef struct {
    /* The number. */
    const char *e164;                       /* "+33612345678" */
    pl_rules_line_t line;
    const pl_rules_zone_ref_t *zones;       /* candidate zones, 1..PL_RULES_MAX_ZONES */
    size_t n_zones;
    const char *const *regions;             /* "US-FL", "FR-974"; 0..PL_RULES_MAX_REGIONS */
    size_t n_regions;
    const uint8_t *region_sources;          /* pl_rules_region_source_t per region; NULL: all
                                             * from the address */
    /* The lead. */
    pl_rules_callee_t callee;               /* as the lead says (consumer when unknown) */
    uint64_t debt;                          /* debt id (collection) */
    const char *letter_ref;                 /* first collection letter's reference and date */
    int64_t letter_ms;
    const pl_rules_consent_t *consents;
    size_t n_consents;
    const pl_rules_contract_t *contracts;
    size_t n_contracts;
    int64_t ebr_purchase_ms;                /* last purchase, delivery or payment (US EBR); 0 */
    int64_t ebr_inquiry_ms;                 /* last inquiry or application; 0 */
    const pl_rules_window_t *requested;     /* windows the person asked for; none = no request */
    size_t n_requested;
    const pl_rules_optout_t *optouts;       /* requests to stop (collection) */
    size_t n_optouts;
    /* The contact history of the person, any order. */
    const pl_rules_call_t *calls;
    size_t n_calls;
    /* List verdicts. */
    const pl_rules_list_t *lists;
    size_t n_lists;
    /* This call, when it differs from the campaign. */
    unsigned dial;                          /* PL_RULES_DIAL_* | PL_RULES_DIAL_SET, or 0 */
    const char *cli;                        /* NULL: the campaign's */
} pl_rules_facts_t;

/* ============================================================================================ */
/* Decisions                                                                                     */

typedef enum {
    PL_RULES_ALLOW = 0,
    PL_RULES_DENY  = 1,         /* no legal instant can be found by waiting */
    PL_RULES_DEFER = 2,         /* legal from defer_until_ms (a whole second), not before */
} pl_rules_verdict_t;

/* What one rule said. */
typedef enum {
    PL_RULES_PASS = 0,          /* checked and satisfied */
    PL_RULES_NA,                /* not applicable (not in force, condition not met, other region) */
    PL_RULES_EXEMPT,            /* would have denied; an exemption applies (see `name`) */
    PL_RULES_DEFERS,            /* not before until_ms */
    PL_RULES_DENIES,
} pl_rules_outcome_t;

/* Why, in one code; pl_rules_reason() turns it and the fields into a sentence. */
typedef enum {
    PL_RULES_WHY_NONE = 0,
    PL_RULES_WHY_IN_WINDOW,         /* local time inside the allowed windows */
    PL_RULES_WHY_OUTSIDE_HOURS,
    PL_RULES_WHY_DAY_EXCLUDED,      /* weekday not allowed */
    PL_RULES_WHY_HOLIDAY,           /* `name` is the holiday */
    PL_RULES_WHY_NO_COMMON_TIME,    /* no instant allowed in every candidate zone */
    PL_RULES_WHY_UNDER_CAP,         /* count < limit */
    PL_RULES_WHY_CAP_REACHED,
    PL_RULES_WHY_NO_RECENT_EVENT,
    PL_RULES_WHY_TOO_SOON_AFTER,    /* event_ms + span_ms not yet passed (or same local day) */
    PL_RULES_WHY_CONSENT_OK,
    PL_RULES_WHY_NO_CONSENT,
    PL_RULES_WHY_CONSENT_REVOKED,
    PL_RULES_WHY_CONSENT_EXPIRED,
    PL_RULES_WHY_CONSENT_NOT_WRITTEN,
    PL_RULES_WHY_CONSENT_OTHER_NUMBER,
    PL_RULES_WHY_LIST_CLEAR,
    PL_RULES_WHY_LISTED,
    PL_RULES_WHY_LIST_STALE,
    PL_RULES_WHY_NOT_SCREENED,
    PL_RULES_WHY_EXEMPTION_HOLDS,
    PL_RULES_WHY_EXEMPTION_ABSENT,
    PL_RULES_WHY_EXEMPTION_OVERRIDDEN,  /* e.g. EBR overridden by a do-not-call request */
    PL_RULES_WHY_CLI_OK,
    PL_RULES_WHY_CLI_MISSING,
    PL_RULES_WHY_CLI_INVALID,
    PL_RULES_WHY_CLI_NOT_ALLOWED,
    PL_RULES_WHY_CLI_FORBIDDEN,
    PL_RULES_WHY_SECTOR_OK,
    PL_RULES_WHY_SECTOR_BANNED,
    PL_RULES_WHY_LETTER_OK,
    PL_RULES_WHY_LETTER_MISSING,
    PL_RULES_WHY_NO_REQUEST,
    PL_RULES_WHY_REQUESTED_WINDOW,  /* inside the window the person asked for */
    PL_RULES_WHY_OUTSIDE_REQUEST,
    PL_RULES_WHY_REASSIGNED,
    PL_RULES_WHY_NOT_REASSIGNED,
    PL_RULES_WHY_RND_NOT_QUERIED,
    PL_RULES_WHY_REVOKED,
    PL_RULES_WHY_NOT_REVOKED,
    PL_RULES_WHY_NOT_IN_FORCE,      /* outside the rule's from/until dates */
    PL_RULES_WHY_CONDITION_NOT_MET, /* its `when` (mobile, autodialed…) does not hold */
    PL_RULES_WHY_OTHER_REGION,      /* an overlay for regions the lead is not in */
    PL_RULES_WHY_HORIZON,           /* nothing legal within PL_RULES_HORIZON_DAYS */
    PL_RULES_WHY_NO_ZONE,           /* no candidate time zone */
    PL_RULES_WHY_NOT_CONSENT_BASED, /* the call does not rely on consent */
    PL_RULES_WHY_NO_OPTOUT,         /* no request to stop that covers this call */
    PL_RULES_WHY_CEASE_REQUESTED,   /* the person asked to cease communication about the debt */
    PL_RULES_WHY_REFUSED_TO_PAY,    /* the person refused to pay the debt */
    PL_RULES_WHY_MEDIUM_OPTED_OUT,  /* the person asked not to be called (or on this number) */
    PL_RULES_WHY_NOT_FOR_CALLEE,    /* lifted for this callee type by the rule in `name` */
    PL_RULES_WHY_CALLEE_SCOPE,      /* a callee rule (fr.b2b) holds: the rules it lifts do not apply */
    PL_RULES_WHY_CHECKED_AS_CONSUMER,   /* a callee rule not holding: the call is a consumer's */
    PL_RULES_WHY_SECTOR_KEEPS_RULES,    /* a callee rule not holding for the campaign's sector */
    PL_RULES_WHY_OTHER_CALLEE,      /* a check for other callee types (`callee` on the rule) */
} pl_rules_why_t;

/* One rule (one clause of a rule: us.fl has an hours clause and a cap clause) as evaluated.
 * Strings point into the profiles or campaign and live as long as they do. */
typedef struct {
    const char *rule;           /* "fr.freq" */
    const char *key;            /* which clause: "hours", "cap", "after", "list", "consent"… */
    const char *value;          /* its value in force: "4 per 30d by tenant" */
    const char *source;         /* legal source */
    bool unconfirmed;           /* the source could not be confirmed */
    bool policy;                /* a house policy (basis = policy), not a legal obligation */
    uint8_t outcome;            /* pl_rules_outcome_t */
    uint8_t why;                /* pl_rules_why_t */
    int8_t zone;                /* binding zone: index in the decision's zones, -1 if none */
    int8_t region;              /* state / regional rule: index in the decision's regions of
                                 * the region that made it apply, -1 otherwise */
    int64_t at_ms;              /* the instant evaluated (now, or a later instant tried) */
    int64_t until_ms;           /* DEFERS: earliest instant it allows; PASS on hours: window end */
    int64_t event_ms;           /* fact instant: oldest counted call, refusal, consent, list date */
    int64_t span_ms;            /* window, cool-down or maximum list age */
    int32_t count, limit;       /* counted calls and the cap */
    const char *name;           /* holiday, list name, exemption rule, consent evidence */
    const char *version;        /* list version */
} pl_rules_fired_t;

#define PL_RULES_MAX_FIRED   48
#define PL_RULES_HORIZON_DAYS 400

typedef struct {
    pl_rules_verdict_t verdict;
    int64_t now_ms;
    int64_t defer_until_ms;     /* DEFER only; 0 otherwise */
    int decisive;               /* index in fired of the rule that denied or bound the deferral;
                                 * -1 on ALLOW */
    int binding_zone;           /* index in zones of the zone that bound it, -1 if none */
    const char *profile;        /* "us-cc" */
    const char *campaign;       /* campaign name, may be "" */
    pl_rules_callee_t callee;   /* checked as: the lead's type if the campaign is for it, else
                                 * consumer */
    char number[20];            /* E.164, copied */
    pl_rules_line_t line;
    size_t n_zones;
    pl_rules_zone_ref_t zones[PL_RULES_MAX_ZONES];
    size_t n_regions;           /* the lead's regions, copied, with where each comes from */
    char regions[PL_RULES_MAX_REGIONS][12];
    uint8_t region_sources[PL_RULES_MAX_REGIONS];
    unsigned iterations;        /* instants tried before settling */
    size_t n_fired;
    pl_rules_fired_t fired[PL_RULES_MAX_FIRED];
} pl_rules_decision_t;

/* Decides whether the call described by `facts` may be placed at now_ms (UTC milliseconds).
 * Pure: reads only its arguments. DEFER's instant is the earliest whole second at which every
 * rule allows the call given the same facts; deciding again at that instant gives ALLOW.
 * 0, or PL_EINVAL (campaign without a profile, missing or out-of-range facts). */
int pl_rules_decide (const pl_rules_campaign_t *campaign, const pl_rules_facts_t *facts,
                     int64_t now_ms, pl_rules_decision_t *out);

/* Flags for pl_rules_explain. */
enum {
    PL_RULES_EXPLAIN_FULL_NUMBER = 1 << 0,   /* do not mask the number's last digits */
    PL_RULES_EXPLAIN_DECISIVE    = 1 << 1,   /* only the header and the deciding rule */
};

/* Multi-line text for a compliance officer: verdict, times in the binding zone and UTC, the
 * number, zones and how they were resolved, then every rule with outcome, value, facts and
 * source. snprintf semantics: returns the length of the full text (truncated to len - 1). */
int pl_rules_explain (const pl_rules_decision_t *d, unsigned flags, char *buf, size_t len);
/* One sentence for fired[i] ("4 calls by this professional in the 30 days before …"). */
int pl_rules_reason (const pl_rules_decision_t *d, size_t i, char *buf, size_t len);
/* One line for the whole decision ("defer until 2026-03-09T09:00:00Z: fr.hours …"). */
int pl_rules_summary (const pl_rules_decision_t *d, char *buf, size_t len);

const char *pl_rules_verdict_name (pl_rules_verdict_t v);         /* "allow", "deny", "defer" */
const char *pl_rules_outcome_name (pl_rules_outcome_t o);         /* "pass", "n/a", … */
const char *pl_rules_zone_source_name (pl_rules_zone_source_t s); /* "number prefix", … */
const char *pl_rules_region_source_name (pl_rules_region_source_t s); /* "number area code" */

#endif
