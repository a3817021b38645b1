/*  campaign_registry.h — campaigns defined over the API, shared by every service through Redis.
 *
 *  A campaign is a file (<name>.campaign in a service's campaigns directory, a ConfigMap on
 *  Kubernetes) or a definition an operator PUTs (the dialer's PUT /v1/campaigns/{id}), in the
 *  same text format. PUT definitions live in Redis:
 *
 *    pl:{campaigns}:def   hash: campaign name → its text
 *    pl:{campaigns}:rev   counter: moves with every change
 *
 *  The dialer writes them (pl_campaign_registry_put, inside the kit step that also carries the
 *  campaign.configured audit event); scrub, the intake and every dialer replica read them at
 *  start and whenever the revision moves (pl_campaign_registry_poll, every second), so that a
 *  definition is in force everywhere within about a second. A name defined by a file is the
 *  file's: the registry cannot shadow it (the dialer refuses such a PUT with 409).
 */
#ifndef PL_CAMPAIGN_REGISTRY_H
#define PL_CAMPAIGN_REGISTRY_H
#include <stddef.h>
#include <stdint.h>
#include "plateau/inbox.h"
#include "plateau/redis.h"

#define PL_CAMPAIGN_REGISTRY_TAG "campaigns"
#define PL_CAMPAIGN_TEXT_MAX (64 * 1024)      /* one definition's text */
#define PL_CAMPAIGN_REGISTRY_MAX 1000         /* definitions held */

/* Called for each definition; a nonzero return stops the walk and is returned. */
typedef int (pl_campaign_def_fn) (const char *name, const char *text, size_t len, void *arg);

/* When the revision differs from *rev: calls fn for every definition, then sets *rev. 0 (nothing
 * new, or every definition walked), PL_EREDIS, or fn's return (then *rev is left: the next poll
 * walks again). */
int pl_campaign_registry_poll (pl_redis_t *redis, int64_t *rev, pl_campaign_def_fn *fn, void *arg);

/* The effect of a PUT, inside tx (a step under PL_CAMPAIGN_REGISTRY_TAG): stores text under
 * name and moves the revision. Its reply is "created" or "replaced", or "full" (nothing stored:
 * PL_CAMPAIGN_REGISTRY_MAX definitions already held, this one not among them). 0, PL_EINVAL,
 * PL_ENOMEM. */
int pl_campaign_registry_put (pl_inbox_tx_t *tx, const char *name, const char *text);

#endif
