/*  check_int.h — the checker's state, shared by its files (bundle.c reads the input, ingest.c the
 *  export, verify.c runs the checks, report.c prints them). Not a public header.
 */
#ifndef CK_CHECK_INT_H
#define CK_CHECK_INT_H

#include <jansson.h>
#include "check.h"
#include "law.h"
#include "map.h"

#define CK_MAX_PHONES 4
#define CK_MAX_CONSENTS 8
#define CK_MAX_INSTALMENTS 64
#define CK_MAX_CURRENCIES 8

typedef struct {
    int64_t captured, revoked;  /* revoked 0: in force */
} ck_consent_t;

typedef struct {
    int campaign;
    char *ext, *country, *postal, *state, *debt;
    bool business;              /* callee: business (else a consumer: consumer, sole-trader, unsaid) */
    char *phones[CK_MAX_PHONES];
    int n_phones;
    ck_consent_t consents[CK_MAX_CONSENTS];
    int n_consents;
    int64_t revoked_at;         /* consent-revocations.ndjson, 0 none */
    /* what the audit says of it */
    char *lead_id;
    bool accepted, rejected, duplicate, suppressed, finished;
    int scrub_allow, scrub_deny;
    int64_t finished_at, scheduled_at, last_attempt;
    int64_t reopened_at;         /* latest dial.scheduled promise_broken: a finished lead queued again */
    int64_t refinished_at;       /* latest lead.finished (finished_at is the earliest) */
    const char *zones[CK_MAX_ZONES];
    int n_zones;
} ck_lead_t;

typedef struct {
    char *id;
    int64_t lead;               /* index in leads, -1 unknown */
    int campaign;               /* -1 unknown */
    const char *tenant, *number, *lead_id;  /* interned */
    const char *zones[CK_MAX_ZONES];
    int n_zones;
    const char *binding;        /* the zone the records name as binding */
    int claimed, allowed, requested, outcomes;
    int64_t allowed_at, requested_at, place_before, placed_at, answered_at, outcome_t;
    int64_t outcome_seen;       /* the call.outcome record's own instant: when the dialer knew */
    const char *result;
    int64_t time_to_agent;
    bool conversation, refusal, dnc;
    int64_t disp_at;
    int64_t t;                  /* the call's instant: requested, else placed; 0 no call */
} ck_attempt_t;

typedef struct {
    int64_t from, to, live, abandoned, machine, estimate, rate_ppm, budget_ppm;
    int64_t reported;           /* the report's own instant */
} ck_pacing_t;

/* Money of one currency in a promise summary, minor units. */
typedef struct {
    const char *currency;       /* interned */
    int64_t promised, collected, unmatched;
} ck_money_t;

/* The promises of a campaign (or of the whole export) by their status at its end. */
typedef struct {
    long made, kept, partial, broken, cancelled, active, unmatched;
    long rpc;                   /* right-party contacts: conversations on debt-collection calls */
    ck_money_t money[CK_MAX_CURRENCIES];
    int n_money;
} ck_tally_t;

typedef struct {
    char *name, *file, *profile_id, *tenant, *sector;
    const ck_profile_t *profile;
    bool for_business;          /* [campaign] callees names business */
    int budget_ppm;
    bool amd;
    ck_pacing_t *pacing;
    size_t n_pacing, cap_pacing;
    /* summary */
    long hours[24], bad_hours[24], calls;
    ck_map_t outcomes, reasons;     /* result -> count; "<stage>: <reason>" -> count */
    long leads, accepted, rejected, duplicate, finished, scheduled, suppressed, lost, open;
    /* lead.rejected_summary: rejections the intake counted without a record each; an input
     * lead with no record of its own is taken as one of them while any are left */
    long rejected_unrecorded, rejected_counted;
    long dnc_informational;     /* calls to registry numbers the profile does not bind */
    long business_leads, business_calls;    /* judged as businesses (fr.b2b, us.b2b) */
    json_t *abandon;            /* array of the periods measured */
    ck_tally_t promises;
} ck_campaign_t;

typedef struct {
    const char *number, *tenant, *debt, *scope;
    int64_t from, until;        /* until 0: not removed */
    int64_t next;               /* next entry of the same number, -1 */
} ck_optout_t;

typedef struct {
    const char *number, *tenant;
    int64_t captured, revoked, revoke_all_before;   /* a revocation record: revoke_all_before */
    int64_t next;
} ck_crec_t;

/* A lead.rejected_summary: one request's rejections beyond those recorded one by one. */
typedef struct {
    const char *trace, *campaign;
    int64_t at, rejected, recorded, not_recorded;
} ck_summary_t;

typedef struct {
    char *name, *jurisdiction;
    int64_t taken;
    ck_map_t numbers;
} ck_list_t;

/* One instalment as promise.made schedules it. */
typedef struct {
    int64_t amount, deadline, tolerance;
} ck_inst_t;

/* A promise to pay as the records tell it, and the checker's own replay of its money. Money
 * always fills the instalments oldest first (a reversal empties them newest first), so the
 * total taken (`money`: allocated + credit) says what each instalment holds. */
typedef struct {
    const char *id, *lead_id, *tenant, *account, *currency;     /* interned */
    int campaign;               /* -1 unknown */
    ck_inst_t *inst;
    int n;                      /* instalments replayed; 0: no (whole) schedule read */
    int64_t amount, made_at, money, collected;  /* made_at 0: no promise.made read (yet) */
    int64_t money_at;           /* its latest payment or reversal */
    char status;                /* as recorded: 'a'ctive, 'k'ept, 'p'artially kept, 'b'roken,
                                 * 'c'ancelled; 0 nothing yet */
    /* A decision the replay made that no record has given yet ('k', 'p', 'b'; 0 none): when,
     * and on which money (a payment after the deadline decides on the money before it). */
    char want;
    int want_inst;
    int64_t want_at, want_money;
    bool want_reopen;           /* a reversal left it (kept) short before the deadline */
    bool money_wrong;           /* its figures were reported wrong once */
    int64_t broken_at;          /* its promise.broken or .partially_kept, 0 none */
    int64_t open;               /* its active interval still open (index in `actives`), -1 */
    /* A decision record judged once its instant is over: the payments recorded at the same
     * instant count before it, in whatever order they arrived (a step's records may reach the
     * audit out of order when it restarts). */
    json_t *held;
    char held_d;
    char held_type[32];
} ck_promise_t;

/* While a promise is active, [from, until): listed by tenant and account. */
typedef struct {
    int64_t promise, from, until, next;     /* until 0: still active at the end */
} ck_active_t;

/* A payment the promise service kept for the account's next promise. */
typedef struct {
    const char *account, *currency;
    int64_t amount, paid_at, next;          /* next: the account's previous one, -1 */
    bool applied;
} ck_unmatched_t;

typedef struct {
    const char *kind, *rule, *attempt, *lead, *campaign;
    int64_t at;
    char *fact;
} ck_violation_t;

struct pl_check {
    char err[512];
    bool florida_dc;
    int64_t start;
    ck_map_t strings;           /* interned strings: value = index in `pool` */
    char **pool;
    size_t n_pool, cap_pool;
    ck_campaign_t campaigns[8];
    int n_campaigns;
    ck_lead_t *leads;
    size_t n_leads, cap_leads;
    ck_map_t lead_by_ext, lead_by_id, lead_by_number;
    ck_attempt_t *attempts;
    size_t n_attempts, cap_attempts;
    ck_map_t attempt_by_id;
    ck_optout_t *optouts;
    size_t n_optouts, cap_optouts;
    ck_map_t optout_head;
    ck_crec_t *crecs;
    size_t n_crecs, cap_crecs;
    ck_map_t crec_head;
    ck_list_t lists[8];
    int n_lists;
    ck_map_t seen;              /* "<chain>|<seq>" of records already read */
    ck_map_t rejected_by_trace; /* trace id -> lead.rejected records with it */
    ck_summary_t *summaries;    /* lead.rejected_summary records */
    size_t n_summaries, cap_summaries;
    long rejected_unrecorded;   /* of summaries that name no campaign */
    long records, duplicates, unknown_leads;
    int64_t last_at;            /* the latest record's at_ms: the end of the export */
    ck_promise_t *promises;
    size_t n_promises, cap_promises;
    ck_map_t promise_by_id;
    ck_active_t *actives;
    size_t n_actives, cap_actives;
    ck_map_t active_head;       /* "<tenant>\x1f<account>" -> its latest interval */
    ck_unmatched_t *unmatched;
    size_t n_unmatched, cap_unmatched;
    ck_map_t unmatched_by_id, unmatched_head;   /* payment id; account -> latest */
    ck_map_t follow_ups;        /* "<promise>\x1f<lead id>" -> latest dial.scheduled promise_broken */
    ck_tally_t promise_total;
    ck_violation_t *violations;
    size_t n_violations, cap_violations;
    ck_map_t violation_keys;    /* one violation per attempt, kind and rule */
    ck_tz_t *tz;
};

/* Grows *arr (of *cap elements of size) to hold n + 1; 0 or -1. */
int ck_grow (void *arr, size_t *cap, size_t n, size_t size);
/* The interned copy of s ("" for NULL). */
const char *ck_intern (pl_check_t *self, const char *s);
/* Records a violation (formatted fact). Once per (kind, rule, attempt) when attempt is set. */
void ck_violation (pl_check_t *self, const char *kind, const char *rule, const char *attempt,
                   const char *lead, const char *campaign, int64_t at, const char *fmt, ...)
    __attribute__ ((format (printf, 8, 9)));
ck_campaign_t *ck_campaign (pl_check_t *self, const char *name);
void ck_count (ck_map_t *m, const char *key);

/* A field of an exported record: top level first, then the record's `evidence`; `path` may
 * descend ("call.placed_at_ms"). NULL when absent. */
json_t *ck_field (json_t *rec, const char *path);
const char *ck_str (json_t *rec, const char *path);     /* "" when absent */
int64_t ck_int (json_t *rec, const char *path);         /* 0 when absent */

int ck_bundle_load (pl_check_t *self, const char *dir);
/* First pass: a lead.accepted's lead id, so that records read before it (an export by
 * arrival, chains one after the other) still find their lead. */
void ck_ingest_lead_id (pl_check_t *self, json_t *rec);
int ck_ingest (pl_check_t *self, json_t *rec);
void ck_verify (pl_check_t *self);
/* promise.c: promise.*, payment.* and dial.scheduled records into per-promise state; the
 * promise checks and tallies (after the other checks: they read the attempts as verify left
 * them); and freeing that state. */
void ck_promise_record (pl_check_t *self, json_t *rec, const char *type);
void ck_promise_verify (pl_check_t *self);
void ck_promise_free (pl_check_t *self);

#endif
