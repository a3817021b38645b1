/*  claim.c — event-id claims across audit replicas, in Redis (see claim.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "claim.h"
#include "plateau/error.h"

/* KEYS[1] the claim; ARGV chain, now_ms, orphan_ms, keep_ms. 0 mine, 1 stored, 2 busy. */
static const char *s_take_lua =
    "local v = redis.call('GET', KEYS[1])\n"
    "if v then\n"
    "  local state, chain, at = string.match(v, '^(%a) (%S+) (%S+)$')\n"
    "  if state == 's' then return 1 end\n"
    "  if state == 'p' and chain ~= ARGV[1]\n"
    "     and tonumber(ARGV[2]) - tonumber(at) < tonumber(ARGV[3]) then return 2 end\n"
    "end\n"
    "redis.call('SET', KEYS[1], 'p ' .. ARGV[1] .. ' ' .. ARGV[2], 'PX', ARGV[4])\n"
    "return 0\n";

/* KEYS[1] the claim; ARGV chain. Deletes it only while it is this chain's pending claim. */
static const char *s_release_lua =
    "local v = redis.call('GET', KEYS[1])\n"
    "local mine = 'p ' .. ARGV[1] .. ' '\n"
    "if v and string.sub(v, 1, #mine) == mine then redis.call('DEL', KEYS[1]) end\n"
    "return 0\n";

struct audit_claims {
    pl_redis_t *redis;
    pl_redis_script_t *take, *release;
    char chain[80];
    int64_t orphan_ms, keep_ms;
};

audit_claims_t *
audit_claims_new (pl_redis_t *redis, const char *chain, int64_t orphan_ms, int64_t keep_ms)
{
    audit_claims_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->redis = redis;
    snprintf (self->chain, sizeof self->chain, "%s", chain);
    self->orphan_ms = orphan_ms;
    self->keep_ms = keep_ms;
    self->take = pl_redis_script_new (s_take_lua);
    self->release = pl_redis_script_new (s_release_lua);
    if (!self->take || !self->release)
        audit_claims_destroy (&self);
    return self;
}

void
audit_claims_destroy (audit_claims_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pl_redis_script_destroy (&(*self_p)->take);
    pl_redis_script_destroy (&(*self_p)->release);
    free (*self_p);
    *self_p = NULL;
}

static void
s_key (char *out, size_t size, const char *id)
{
    snprintf (out, size, "pl:{audit:%s}:claim", id);
}

/* Reads n replies; their integers into out (when not NULL). 0, or PL_EREDIS after reading all. */
static int
s_replies (audit_claims_t *self, size_t n, audit_claim_t *out)
{
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        pl_reply_t *r = NULL;
        if (pl_redis_get_reply (self->redis, &r) != 0)
            return PL_EREDIS;               /* the connection is gone with the other replies */
        if (pl_reply_type (r) == PL_REPLY_ERROR)
            rc = PL_EREDIS;
        else if (out && pl_reply_type (r) == PL_REPLY_INTEGER) {
            long long v = pl_reply_int (r);
            out[i] = v == 1 ? AUDIT_CLAIM_STORED : v == 2 ? AUDIT_CLAIM_BUSY : AUDIT_CLAIM_MINE;
        }
        pl_reply_free (&r);
    }
    return rc;
}

int
audit_claims_take (audit_claims_t *self, const char *const *ids, size_t n, int64_t now_ms,
                   audit_claim_t *out)
{
    char now[24], orphan[24], keep[24];
    snprintf (now, sizeof now, "%" PRId64, now_ms);
    snprintf (orphan, sizeof orphan, "%" PRId64, self->orphan_ms);
    snprintf (keep, sizeof keep, "%" PRId64, self->keep_ms);
    size_t queued = 0;
    for (size_t i = 0; i < n; i++) {
        out[i] = AUDIT_CLAIM_MINE;
        if (!ids[i] || !ids[i][0])
            continue;
        char key[512];
        s_key (key, sizeof key, ids[i]);
        const char *argv[] = { key, self->chain, now, orphan, keep };
        if (pl_redis_append_eval (self->redis, self->take, 1, 5, argv, NULL) != 0) {
            s_replies (self, queued, NULL);
            return PL_EREDIS;
        }
        queued++;
    }
    /* Replies come in order for the non-empty ids only. */
    audit_claim_t *got = queued ? calloc (queued, sizeof *got) : NULL;
    if (queued && !got) {
        s_replies (self, queued, NULL);
        return PL_ENOMEM;
    }
    int rc = s_replies (self, queued, got);
    for (size_t i = 0, k = 0; rc == 0 && i < n; i++)
        if (ids[i] && ids[i][0])
            out[i] = got[k++];
    free (got);
    return rc;
}

int
audit_claims_stored (audit_claims_t *self, const char *const *ids, const uint64_t *seqs, size_t n)
{
    size_t queued = 0;
    char keep[24];
    snprintf (keep, sizeof keep, "%" PRId64, self->keep_ms);
    for (size_t i = 0; i < n; i++) {
        if (!ids[i] || !ids[i][0])
            continue;
        char key[512], value[128], seq[24];
        s_key (key, sizeof key, ids[i]);
        snprintf (seq, sizeof seq, seqs ? "%" PRIu64 : "-", seqs ? seqs[i] : 0);
        snprintf (value, sizeof value, "s %s %s", self->chain, seq);
        const char *argv[] = { "SET", key, value, "PX", keep };
        if (pl_redis_appendv (self->redis, 5, argv, NULL) != 0) {
            s_replies (self, queued, NULL);
            return PL_EREDIS;
        }
        queued++;
    }
    return s_replies (self, queued, NULL);
}

int
audit_claims_release (audit_claims_t *self, const char *const *ids, size_t n)
{
    size_t queued = 0;
    for (size_t i = 0; i < n; i++) {
        if (!ids[i] || !ids[i][0])
            continue;
        char key[512];
        s_key (key, sizeof key, ids[i]);
        const char *argv[] = { key, self->chain };
        if (pl_redis_append_eval (self->redis, self->release, 1, 2, argv, NULL) != 0) {
            s_replies (self, queued, NULL);
            return PL_EREDIS;
        }
        queued++;
    }
    return s_replies (self, queued, NULL);
}
