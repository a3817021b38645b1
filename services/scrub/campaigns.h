/*  campaigns.h — the rules engine's world as scrub sees it: time zones, jurisdiction profiles,
 *  and the campaign a lead or a number is judged under.
 *
 *  A campaign named in PLATEAU_SCRUB_CAMPAIGNS_DIR (<name>.campaign, the rules engine's campaign
 *  format: [campaign] profile = fr-cc, tenant = acme, …) is used as written. Any other campaign
 *  — and a number scrubbed without one — is judged under its jurisdiction's default profile
 *  (<jurisdiction>-cc, or -dc for a lead with a debt), for the default tenant: the strict
 *  reading, never a laxer one. Tenants and subjects are names here ("acme"); the engine wants
 *  numbers, so a name that is not all digits becomes its 63-bit FNV-1a hash (scrub_id_of).
 *
 *  Built at start (the only file I/O) and shared by every thread. Campaigns defined over the API
 *  (the dialer's PUT /v1/campaigns/{id}, kept in Redis: plateau/campaign_registry.h) join or
 *  replace their earlier definition while scrub runs (scrub_campaigns_registry_poll, every
 *  second); a file's campaign is never replaced. What a lookup hands out stays valid for ten
 *  minutes after a replacement: long enough for the judgment that asked.
 */
#ifndef SCRUB_CAMPAIGNS_H
#define SCRUB_CAMPAIGNS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "plateau/log.h"
#include "plateau/redis.h"
#include "plateau/rules.h"

typedef struct scrub_campaigns scrub_campaigns_t;

/* What a decision runs under. Strings live as long as the campaigns. */
typedef struct {
    const pl_rules_campaign_t *campaign;
    const char *name;            /* the campaign's name, "" for a default one */
    const char *profile;         /* "fr-cc" */
    const char *jurisdiction;    /* "FR" */
    const char *tenant;          /* "acme" */
    unsigned dial;               /* PL_RULES_DIAL_PRERECORDED, _AGENT_GUARANTEED of its file */
} scrub_campaign_t;

/* profiles_dir, zoneinfo (NULL: the system's), campaigns_dir (NULL: none), default_tenant.
 * NULL with a sentence in err when something cannot be read. */
scrub_campaigns_t *scrub_campaigns_new (const char *profiles_dir, const char *zoneinfo,
                                        const char *campaigns_dir, const char *default_tenant,
                                        char *err, size_t err_size);
void scrub_campaigns_destroy (scrub_campaigns_t **self_p);

/* Adds or replaces campaign `name` as defined over the API (nothing when already so: *changed
 * false). 0; PL_EEXIST (a file defines it); PL_ECONFIG / PL_ENOMEM with err. */
int scrub_campaigns_define (scrub_campaigns_t *self, const char *name, const char *text, bool *changed, char *err,
                            size_t err_size);
/* Reads the campaign registry when it moved and defines what changed; a definition that cannot
 * be taken is logged. 0 or PL_EREDIS. */
int scrub_campaigns_registry_poll (scrub_campaigns_t *self, pl_redis_t *redis, pl_log_t *log);

/* The jurisdiction of a number's region ("RE" → "FR", "GB" → "GB"); "" when none has a profile. */
const char *scrub_campaigns_jurisdiction (const scrub_campaigns_t *self, const char *region);
/* True when some profile has this jurisdiction ("us" or "US"). */
bool scrub_campaigns_has_jurisdiction (const scrub_campaigns_t *self, const char *jurisdiction);

/* The campaign for a lead or a number: the named one when configured; else the default of the
 * jurisdiction (from `jurisdiction`, else from `region`) and kind (debt: collection).
 * 0, or PL_ENOTFOUND when no profile covers it. */
int scrub_campaigns_find (const scrub_campaigns_t *self, const char *name, const char *jurisdiction,
                          const char *region, bool debt, scrub_campaign_t *out);

/* Loaded zone named `name`, or NULL (no I/O). */
const pl_rules_tz_t *scrub_campaigns_zone (const scrub_campaigns_t *self, const char *name);
const pl_rules_profiles_t *scrub_campaigns_profiles (const scrub_campaigns_t *self);

/* The maximum legal age of a copy of list `name` under any profile (0: none has one). */
int64_t scrub_campaigns_max_age_ms (const scrub_campaigns_t *self, const char *list);

/* Whether a copy dated as_of_ms (UTC midnight of its date) is past its legal age at now_ms, by
 * dates as the law counts (a 31-day copy of 28 April serves through 29 May): stale once the UTC
 * date of now is more than max_age_ms's days after the copy's. *days: the copy's age in dates.
 * What GET /v1/lists, /readyz and the metrics show; each call is decided by the rules engine in
 * the callee's own date. False when max_age_ms is 0. */
bool scrub_campaigns_stale (int64_t as_of_ms, int64_t max_age_ms, int64_t now_ms, int64_t *days);

/* A tenant's or subject's numeric id for the engine: digits as they are, else a hash. 0 for "". */
uint64_t scrub_id_of (const char *name);

#endif
