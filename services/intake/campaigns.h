/*  campaigns.h — on whose behalf, and for what kind of call, each campaign's leads come in.
 *
 *  The intake does not run the rules engine, but its audit events must say which professional
 *  (tenant) a lead is for and whether its calls will be canvassing or debt collection, so that a
 *  checker can tie every lead to the caps and rules that will count it. Both come from the
 *  campaign files scrub and the dialer run (`<name>.campaign`, the rules engine's format): the
 *  `[campaign]` section's `tenant` (kept as written, a name or digits) and `profile` (`*-cc`
 *  canvassing, `*-dc` debt collection). Every other section is theirs and skipped here.
 *
 *  A campaign without a file keeps coming in: its tenant is the default one (may be ""), and its
 *  kind is the lead's own (debt collection when it names a debt, else canvassing).
 *
 *  Files are read at start. Campaigns defined over the API (the dialer's PUT /v1/campaigns/{id},
 *  kept in Redis: plateau/campaign_registry.h) join, or replace their earlier definition, while
 *  the intake runs (intake_campaigns_registry_poll, every second); a file's campaign is never
 *  replaced. Every thread shares one set; a string it hands out lives ten minutes past its
 *  replacement, long enough for the event that asked.
 */
#ifndef PL_INTAKE_CAMPAIGNS_H
#define PL_INTAKE_CAMPAIGNS_H

#include <stdbool.h>
#include <stddef.h>

#include "plateau/log.h"
#include "plateau/redis.h"
#include "plateau/v1/common.pb-c.h"

typedef struct intake_campaigns intake_campaigns_t;

/* Reads every `*.campaign` file of dir (NULL or "": none). default_tenant is the tenant of
 * campaigns without a file (NULL: ""); copied. Returns a new set, or NULL with the reason in err
 * ("<file>: no tenant in [campaign]", "<file>: cannot be read: …", a syntax error with its line):
 * a file that cannot be read, or lacks its [campaign] tenant or profile, or whose profile is
 * neither *-cc nor *-dc. */
intake_campaigns_t *intake_campaigns_new (const char *dir, const char *default_tenant, char *err,
                                          size_t err_size);
/* Destroys *self_p and sets it to NULL; safe to call twice. */
void intake_campaigns_destroy (intake_campaigns_t **self_p);

/* The tenant of `campaign` (a string of self, never NULL) and its call kind; `debt` says whether
 * the lead names a debt, for campaigns without a file. self may be NULL (no campaigns known, no
 * default tenant). */
const char *intake_campaigns_tenant (const intake_campaigns_t *self, const char *campaign);
Plateau__V1__CallKind intake_campaigns_kind (const intake_campaigns_t *self, const char *campaign,
                                             bool debt);

/* Whether `campaign` has a file. */
bool intake_campaigns_has (const intake_campaigns_t *self, const char *campaign);

/* Adds or replaces campaign `name` as defined over the API (*changed false when already so).
 * 0; PL_EEXIST (a file defines it); PL_ECONFIG / PL_ENOMEM with err. */
int intake_campaigns_define (intake_campaigns_t *self, const char *name, const char *text, bool *changed, char *err,
                             size_t err_size);
/* Reads the campaign registry when it moved and defines what changed (a definition that cannot
 * be taken is logged). 0 or PL_EREDIS. */
int intake_campaigns_registry_poll (intake_campaigns_t *self, pl_redis_t *redis, pl_log_t *log);

/* Campaigns known: read from files, or defined over the API. */
size_t intake_campaigns_count (const intake_campaigns_t *self);

#endif
