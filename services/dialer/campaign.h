/*  campaign.h — the dialer's campaigns: the rules engine's campaign and the dialer's own settings.
 *
 *  A campaign is one file, <name>.campaign, in the rules engine's format: [campaign] and
 *  [rule <id>] sections go to the engine (which refuses anything that widens the profile), and
 *  the dialer reads its own sections from the same file:
 *
 *    [dialer]
 *    mode = progressive        preview | progressive | predictive
 *    priority = 5              1..9: which campaign a shared agent serves first
 *    order = oldest            oldest | newest: which due leads go first
 *    numbers = listed          listed | mobile-first | fixed-first: a lead's numbers in turn
 *    ring-timeout = 20s        15 s at least (us.abandon, uk.abandon)
 *    amd = no                  answering-machine detection
 *    abandon-target = 3%       the pacing's budget: at most the profile's
 *    max-attempts = 8          per lead, every number counted
 *    [dialer-retry busy]       one per outcome: busy, no-answer, voicemail, abandoned, failed
 *    delay = 10m
 *    max = 4
 *
 *  Every value is checked when the file is read; an error names file, line and key. Files are
 *  read at start. Campaigns defined over the API (PUT /v1/campaigns/{id}, kept in Redis: see
 *  plateau/campaign_registry.h) are added or replaced while the dialer runs; a campaign, once in
 *  the set, never changes: a new definition is a new campaign_t, and the one it replaces stays
 *  allocated for ten minutes, so a thread that holds it for a step reads it safely. Threads
 *  notice a change by dialer_campaigns_gen.
 */
#ifndef DIALER_CAMPAIGN_H
#define DIALER_CAMPAIGN_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "plateau/rules.h"

typedef enum {
    DIALER_PREVIEW = 1,
    DIALER_PROGRESSIVE,
    DIALER_PREDICTIVE,
} dialer_mode_t;

/* Outcomes a retry policy names. */
typedef enum {
    DIALER_RETRY_BUSY = 0,
    DIALER_RETRY_NO_ANSWER,
    DIALER_RETRY_VOICEMAIL,
    DIALER_RETRY_ABANDONED,
    DIALER_RETRY_FAILED,
    DIALER_RETRY_N
} dialer_retry_kind_t;

typedef struct {
    int64_t delay_ms;
    int max;                    /* attempts ending in this outcome before the number is given up */
} dialer_retry_t;

typedef struct {
    char name[64];
    char tenant[128];
    char cli[24];
    char profile[24];
    char jurisdiction[8];
    int kind;                   /* plateau.v1.CallKind */
    const pl_rules_campaign_t *rules;
    dialer_mode_t mode;
    int priority;
    bool newest_first;
    int numbers;                /* 0 listed, 1 mobile first, 2 fixed first */
    int ring_timeout_s;
    bool amd;
    uint32_t abandon_ppm;       /* the pacing's target */
    bool abandon_calendar_day;  /* the legal period: local day (UK) or a rolling period (US) */
    int64_t abandon_period_ms;
    char abandon_rule[32];
    const pl_rules_tz_t *period_zone;   /* the zone of a calendar-day period (Europe/London) */
    int max_attempts;
    dialer_retry_t retry[DIALER_RETRY_N];
    char origin[160];           /* the file's name, or "PUT /v1/campaigns/<name>" */
    bool from_api;              /* defined over the API: may be replaced the same way */
    char *text;                 /* the definition as written */
    uint64_t text_hash;
} dialer_campaign_t;

typedef struct dialer_campaigns dialer_campaigns_t;

/* Loads profiles (and the zones they need) and every <name>.campaign of dir (NULL: none).
 * NULL with "file:line: key 'k': why" in err. */
dialer_campaigns_t *dialer_campaigns_new (const char *profiles_dir, const char *zoneinfo, const char *dir,
                                          char *err, size_t err_size);
void dialer_campaigns_destroy (dialer_campaigns_t **self_p);

/* One campaign from text (origin names it in errors). 0, PL_ECONFIG, or PL_EEXIST when `name` is
 * already defined. */
int dialer_campaigns_load_text (dialer_campaigns_t *self, const char *name, const char *origin, const char *text,
                                char *err, size_t err_size);

/* Whether campaign `name` may be defined over the API: 0; PL_EEXIST when a file defines it (err
 * names the file). */
int dialer_campaigns_check (dialer_campaigns_t *self, const char *name, char *err, size_t err_size);
/* Adds or replaces campaign `name` as defined over the API; nothing when it is already so
 * (*changed false). 0, PL_EEXIST (a file defines it), PL_ECONFIG, PL_ENOMEM; err says why. */
int dialer_campaigns_define (dialer_campaigns_t *self, const char *name, const char *text, bool *changed, char *err,
                             size_t err_size);
/* Campaign `name` parsed from text, in no set (free with dialer_campaign_free); NULL with err
 * ("body:<line>: key '<k>': why"). */
dialer_campaign_t *dialer_campaigns_parse (dialer_campaigns_t *self, const char *name, const char *text, char *err,
                                           size_t err_size);
void dialer_campaign_free (dialer_campaign_t *c);
/* Moves with every addition or replacement. */
uint64_t dialer_campaigns_gen (const dialer_campaigns_t *self);

size_t dialer_campaigns_count (const dialer_campaigns_t *self);
const dialer_campaign_t *dialer_campaigns_at (const dialer_campaigns_t *self, size_t i);
const dialer_campaign_t *dialer_campaigns_find (const dialer_campaigns_t *self, const char *name);

/* A loaded time zone ("Europe/Paris"), or NULL. */
const pl_rules_tz_t *dialer_campaigns_zone (const dialer_campaigns_t *self, const char *name);

const char *dialer_mode_name (dialer_mode_t mode);
const char *dialer_retry_name (dialer_retry_kind_t kind);

#endif
