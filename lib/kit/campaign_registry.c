/*  campaign_registry.c — campaigns defined over the API, in Redis (see campaign_registry.h). */
#include "plateau/campaign_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plateau/error.h"

#define S_DEF "pl:{" PL_CAMPAIGN_REGISTRY_TAG "}:def"
#define S_REV "pl:{" PL_CAMPAIGN_REGISTRY_TAG "}:rev"

int
pl_campaign_registry_poll (pl_redis_t *redis, int64_t *rev, pl_campaign_def_fn *fn, void *arg)
{
    pl_reply_t *r = pl_redis_command (redis, "GET %s", S_REV);
    if (!r || pl_reply_type (r) == PL_REPLY_ERROR) {
        pl_reply_free (&r);
        return PL_EREDIS;
    }
    const char *v = pl_reply_str (r, NULL);
    long long now = v ? strtoll (v, NULL, 10) : 0;
    pl_reply_free (&r);
    if (now == *rev)
        return 0;
    r = pl_redis_command (redis, "HGETALL %s", S_DEF);
    if (!r || pl_reply_type (r) != PL_REPLY_ARRAY) {
        pl_reply_free (&r);
        return PL_EREDIS;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i + 1 < pl_reply_len (r); i += 2) {
        size_t len = 0;
        const char *name = pl_reply_str (pl_reply_element (r, i), NULL);
        const char *text = pl_reply_str (pl_reply_element (r, i + 1), &len);
        if (name && text)
            rc = fn (name, text, len, arg);
    }
    pl_reply_free (&r);
    if (rc == 0)
        *rev = now;
    return rc;
}

/* K def, rev; A name, text, max. */
static const pl_inbox_effect_t s_put = {
    "campaigns.put",
    "local had = redis.call('HEXISTS', K[1], A[1]) == 1\n"
    "if not had and redis.call('HLEN', K[1]) >= tonumber(A[3]) then return 'full', false end\n"
    "redis.call('HSET', K[1], A[1], A[2])\n"
    "redis.call('INCR', K[2])\n"
    "if had then return 'replaced' end\n"
    "return 'created'\n"
};

int
pl_campaign_registry_put (pl_inbox_tx_t *tx, const char *name, const char *text)
{
    if (!tx || !name || !*name || !text || strlen (text) > PL_CAMPAIGN_TEXT_MAX)
        return PL_EINVAL;
    char max[16];
    snprintf (max, sizeof max, "%d", PL_CAMPAIGN_REGISTRY_MAX);
    const char *keys[2] = { S_DEF, S_REV };
    const char *args[3] = { name, text, max };
    return pl_inbox_tx_effect (tx, &s_put, 2, keys, 3, args, NULL);
}
