/*  store.c — webhook state in Redis, one kit step per change (see store.h). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "plateau/error.h"
#include "plateau/inbox.h"
#include "plateau/timefmt.h"

#define P NOTIFY_KEY_PREFIX
#define S_STR(x) #x
#define S_XSTR(x) S_STR (x)
#define NOTIFY_DEAD_LETTERS_MAX_S S_XSTR (NOTIFY_DEAD_LETTERS_MAX)

struct notify_store {
    pl_redis_t *redis;
    pl_inbox_t *inbox;
    char *replica;
    bool upgraded;                   /* the heads of an earlier version moved (s_upgrade) */
    char err[256];
};

/* ---- Lua ------------------------------------------------------------------------------------ */

/* Every script derives its keys from the one hash tag (store.h): they live on one node. */
#define S_LUA_PREFIX "local P = '" P "'\n"

/* Due heads: a sorted set per subscription (`due:<sub>`, its leads by the instant their head is
 * due) and `subdue`, the subscriptions by their earliest due head. A claim reads the
 * subscriptions first, then only as many heads of each as it may send, so that one endpoint's
 * backlog, however long, never hides another's: a single set of every head, read 256 at a time,
 * let a slow endpoint with thousands of leads due stop every other one. */
#define S_LUA_DUE                                                                               \
    "local function due_touch (sub)\n"                                                          \
    "  local f = redis.call ('ZRANGE', P .. 'due:' .. sub, 0, 0, 'WITHSCORES')\n"               \
    "  if f[2] then redis.call ('ZADD', P .. 'subdue', f[2], sub)\n"                            \
    "  else redis.call ('ZREM', P .. 'subdue', sub) end\n"                                      \
    "end\n"                                                                                     \
    "local function due_set (sub, lead, at)\n"                                                  \
    "  redis.call ('ZADD', P .. 'due:' .. sub, at, lead)\n"                                     \
    "  due_touch (sub)\n"                                                                       \
    "end\n"                                                                                     \
    "local function due_rem (sub, lead)\n"                                                      \
    "  redis.call ('ZREM', P .. 'due:' .. sub, lead)\n"                                         \
    "  due_touch (sub)\n"                                                                       \
    "end\n"                                                                                     \
    "local function due_at (sub, lead) return redis.call ('ZSCORE', P .. 'due:' .. sub, lead) end\n"

/* Routes one event to the subscriptions of the lead's source that take its type and existed
 * when it was decided; appends it to each (subscription, lead) queue. */
#define S_LUA_ROUTE                                                                             \
    "local function route (id, typ, lead, at, data, src, now)\n"                                \
    "  local n = 0\n"                                                                           \
    "  for _, sub in ipairs (redis.call ('SMEMBERS', P .. 'subs:' .. src)) do\n"                \
    "    local s = redis.call ('HMGET', P .. 'sub:' .. sub, 'events', 'created_ms')\n"          \
    "    local ev = s[1] and (',' .. s[1] .. ',') or ''\n"                                      \
    "    if s[1] and tonumber (at) >= tonumber (s[2] or '0')\n"                                 \
    "       and (string.find (ev, ',*,', 1, true) or string.find (ev, ',' .. typ .. ',', 1, true)) then\n" \
    "      local d = P .. 'd:' .. sub .. ':' .. id\n"                                           \
    "      if redis.call ('EXISTS', d) == 0 then\n"                                             \
    "        redis.call ('HSET', d, 'type', typ, 'lead', lead, 'at', at, 'data', data, 'attempts', 0)\n" \
    "        if redis.call ('RPUSH', P .. 'q:' .. sub .. ':' .. lead, id) == 1 then\n"          \
    "          due_set (sub, lead, now)\n"                                                      \
    "          redis.call ('SADD', P .. 'qs:' .. sub, lead)\n"                                  \
    "        end\n"                                                                             \
    "        redis.call ('INCR', P .. 'pending')\n"                                             \
    "        n = n + 1\n"                                                                       \
    "      end\n"                                                                               \
    "    end\n"                                                                                 \
    "  end\n"                                                                                   \
    "  return n\n"                                                                              \
    "end\n"

/* K[1] the chain's cursor; A: next_seq, now, lead ttl (s), the seq the page was read from,
 * then 10 fields per record: kind, audit id, type, lead, account, at, data, source, external
 * id, campaign. Replies "routed waiting dropped", or "stale" when another replica applied the
 * page first (the cursor moved since it was read): nothing is done twice. */
static const pl_inbox_effect_t s_ingest = {
    "notify.ingest",
    S_LUA_PREFIX S_LUA_DUE S_LUA_ROUTE
    "if tonumber (redis.call ('GET', K[1]) or '0') ~= tonumber (A[4]) then return 'stale' end\n"
    "local now, ttl = tonumber (A[2]), tonumber (A[3])\n"
    "local routed, waiting, dropped = 0, 0, 0\n"
    "for i = 5, #A - 9, 10 do\n"
    "  local kind, id, typ, lead, acct, at, data = A[i], A[i+1], A[i+2], A[i+3], A[i+4], A[i+5], A[i+6]\n"
    "  if kind == 'lead' and lead ~= '' then\n"
    "    local lk = P .. 'lead:' .. lead\n"
    "    redis.call ('HSET', lk, 'source', A[i+7], 'external_id', A[i+8], 'campaign', A[i+9])\n"
    "    redis.call ('EXPIRE', lk, ttl)\n"
    "    local wk = P .. 'wait:' .. lead\n"
    "    for _, w in ipairs (redis.call ('LRANGE', wk, 0, -1)) do\n"
    "      local e = cjson.decode (w)\n"
    "      routed = routed + route (e[1], e[2], lead, e[3], e[4], A[i+7], now)\n"
    "    end\n"
    "    redis.call ('DEL', wk)\n"
    "    redis.call ('ZREM', P .. 'waiting', lead)\n"
    "  elseif kind == 'event' then\n"
    "    if lead == '' and acct ~= '' then lead = redis.call ('GET', P .. 'acct:' .. acct) or '' end\n"
    "    if lead ~= '' and acct ~= '' and typ == 'promise.made' then\n"
    "      redis.call ('SET', P .. 'acct:' .. acct, lead, 'EX', ttl)\n"
    "    end\n"
    "    if lead == '' then\n"
    "      dropped = dropped + 1\n"
    "    else\n"
    "      local lk = P .. 'lead:' .. lead\n"
    "      local src = redis.call ('HGET', lk, 'source')\n"
    "      if src then\n"
    "        redis.call ('EXPIRE', lk, ttl)\n"
    "        routed = routed + route (id, typ, lead, at, data, src, now)\n"
    "      else\n"
    "        redis.call ('RPUSH', P .. 'wait:' .. lead, cjson.encode ({id, typ, at, data}))\n"
    "        redis.call ('ZADD', P .. 'waiting', 'NX', now, lead)\n"
    "        waiting = waiting + 1\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "redis.call ('SET', K[1], A[1])\n"
    "return routed .. ' ' .. waiting .. ' ' .. dropped\n"
};

/* K[1] waiting; A: now, max wait. Replies the number of events dropped. */
static const pl_inbox_effect_t s_sweep = {
    "notify.sweep",
    S_LUA_PREFIX
    "local n = 0\n"
    "for _, lead in ipairs (redis.call ('ZRANGEBYSCORE', K[1], '-inf', tonumber (A[1]) - tonumber (A[2]), 'LIMIT', 0, 1000)) do\n"
    "  n = n + redis.call ('LLEN', P .. 'wait:' .. lead)\n"
    "  redis.call ('DEL', P .. 'wait:' .. lead)\n"
    "  redis.call ('ZREM', K[1], lead)\n"
    "end\n"
    "return tostring (n)\n"
};

/* K[1] subdue; A: now, lease, probe, replica, members "<sub>|<lead>"… Replies
 * "<sub>|<lead>|<audit id>" lines. */
static const pl_inbox_effect_t s_claim = {
    "notify.claim",
    S_LUA_PREFIX S_LUA_DUE
    "local now, lease, probe = tonumber (A[1]), tonumber (A[2]), tonumber (A[3])\n"
    "local out = {}\n"
    "for i = 5, #A do\n"
    "  local m = A[i]\n"
    "  local bar = string.find (m, '|', 1, true)\n"
    "  local sub, lead = string.sub (m, 1, (bar or 1) - 1), string.sub (m, (bar or #m) + 1)\n"
    "  local score = bar and due_at (sub, lead)\n"
    "  if score and tonumber (score) <= now then\n"
    "    local sk = P .. 'sub:' .. sub\n"
    "    local st = redis.call ('HMGET', sk, 'status', 'probe_ms')\n"
    "    local head = redis.call ('LINDEX', P .. 'q:' .. sub .. ':' .. lead, 0)\n"
    "    if not st[1] or not head then\n"
    "      due_rem (sub, lead)\n"
    "      redis.call ('SREM', P .. 'qs:' .. sub, lead)\n"
    "    elseif st[1] == 'paused' and now < tonumber (st[2] or '0') then\n"
    "      due_set (sub, lead, tonumber (st[2]))\n"
    "    else\n"
    "      if st[1] == 'paused' then redis.call ('HSET', sk, 'probe_ms', now + probe) end\n"
    "      due_set (sub, lead, now + lease)\n"
    "      redis.call ('HSET', P .. 'lease', m, A[4])\n"
    "      out[#out + 1] = m .. '|' .. head\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return table.concat (out, '\\n')\n"
};

/* K[1] subdue; A: what, sub, lead, audit id, now, next, status, error, pause_after, probe, the
 * most dead letters kept per subscription (the oldest go first). Replies "<result> <paused now:
 * 0|1>". */
static const pl_inbox_effect_t s_done = {
    "notify.done",
    S_LUA_PREFIX S_LUA_DUE
    "local what, sub, lead, id, now = A[1], A[2], A[3], A[4], tonumber (A[5])\n"
    "local m, sk = sub .. '|' .. lead, P .. 'sub:' .. sub\n"
    "local q, d = P .. 'q:' .. sub .. ':' .. lead, P .. 'd:' .. sub .. ':' .. id\n"
    "redis.call ('HDEL', P .. 'lease', m)\n"
    "if redis.call ('EXISTS', sk) == 0 then return 'gone 0' end\n"
    "if redis.call ('LINDEX', q, 0) ~= id then return 'stale 0' end\n"
    "local paused = 0\n"
    "local function failed ()\n"
    "  redis.call ('HSET', d, 'last_status', A[7], 'last_error', A[8])\n"
    "  redis.call ('HINCRBY', d, 'attempts', 1)\n"
    "  local f = redis.call ('HINCRBY', sk, 'failures', 1)\n"
    "  if f >= tonumber (A[9]) and redis.call ('HGET', sk, 'status') == 'active' then\n"
    "    redis.call ('HSET', sk, 'status', 'paused', 'probe_ms', now + tonumber (A[10]))\n"
    "    redis.call ('SADD', P .. 'paused', sub)\n"
    "    paused = 1\n"
    "  end\n"
    "end\n"
    "if what == 'retry' then\n"
    "  failed ()\n"
    "  due_set (sub, lead, tonumber (A[6]))\n"
    "  return 'retry ' .. paused\n"
    "end\n"
    "redis.call ('LPOP', q)\n"
    "redis.call ('DECR', P .. 'pending')\n"
    "if what == 'delivered' then\n"
    "  redis.call ('DEL', d)\n"
    "  if redis.call ('HGET', sk, 'status') == 'paused' then\n"
    "    for _, l in ipairs (redis.call ('SMEMBERS', P .. 'qs:' .. sub)) do\n"
    "      due_set (sub, l, now)\n"       /* resumed: every lead now */
    "    end\n"
    "  end\n"
    "  redis.call ('HSET', sk, 'failures', 0, 'status', 'active')\n"
    "  redis.call ('SREM', P .. 'paused', sub)\n"
    "else\n"
    "  failed ()\n"
    "  redis.call ('HSET', d, 'failed_ms', now)\n"
    "  redis.call ('RENAME', d, P .. 'dl:' .. sub .. ':' .. id)\n"
    "  if redis.call ('RPUSH', P .. 'dead:' .. sub, id) > tonumber (A[11]) then\n"
    "    local old = redis.call ('LPOP', P .. 'dead:' .. sub)\n"
    "    redis.call ('DEL', P .. 'dl:' .. sub .. ':' .. old)\n"
    "  end\n"
    "end\n"
    "if redis.call ('LLEN', q) > 0 then\n"
    "  due_set (sub, lead, now)\n"
    "else\n"
    "  due_rem (sub, lead)\n"
    "  redis.call ('SREM', P .. 'qs:' .. sub, lead)\n"
    "end\n"
    "return what .. ' ' .. paused\n"
};

/* K[1] lease; A: replica, now. */
static const pl_inbox_effect_t s_release = {
    "notify.release",
    S_LUA_PREFIX S_LUA_DUE
    "local kv = redis.call ('HGETALL', K[1])\n"
    "local n = 0\n"
    "for i = 1, #kv, 2 do\n"
    "  if kv[i + 1] == A[1] then\n"
    "    local bar = string.find (kv[i], '|', 1, true)\n"
    "    if bar then\n"
    "      local sub, lead = string.sub (kv[i], 1, bar - 1), string.sub (kv[i], bar + 1)\n"
    "      if due_at (sub, lead) then due_set (sub, lead, tonumber (A[2])) end\n"
    "    end\n"
    "    redis.call ('HDEL', K[1], kv[i])\n"
    "    n = n + 1\n"
    "  end\n"
    "end\n"
    "return tostring (n)\n"
};

/* K[1] subs:<source>; A: id, source, url, events, secret, description, now, max. */
static const pl_inbox_effect_t s_create = {
    "notify.sub_create",
    S_LUA_PREFIX
    "if redis.call ('SCARD', K[1]) >= tonumber (A[8]) then return 'full' end\n"
    "redis.call ('HSET', P .. 'sub:' .. A[1], 'id', A[1], 'source', A[2], 'url', A[3], 'events', A[4],\n"
    "            'secret', A[5], 'description', A[6], 'created_ms', A[7], 'status', 'active', 'failures', 0)\n"
    "redis.call ('SADD', K[1], A[1])\n"
    "return 'ok'\n"
};

/* K[1] sub:<id>; A: id, source. Removes it, its queues, deliveries and dead letters. */
static const pl_inbox_effect_t s_delete = {
    "notify.sub_delete",
    S_LUA_PREFIX
    "if redis.call ('HGET', K[1], 'source') ~= A[2] then return 'missing' end\n"
    "local sub = A[1]\n"
    "for _, lead in ipairs (redis.call ('SMEMBERS', P .. 'qs:' .. sub)) do\n"
    "  local q = P .. 'q:' .. sub .. ':' .. lead\n"
    "  for _, id in ipairs (redis.call ('LRANGE', q, 0, -1)) do\n"
    "    redis.call ('DEL', P .. 'd:' .. sub .. ':' .. id)\n"
    "    redis.call ('DECR', P .. 'pending')\n"
    "  end\n"
    "  redis.call ('DEL', q)\n"
    "  redis.call ('HDEL', P .. 'lease', sub .. '|' .. lead)\n"
    "end\n"
    "for _, id in ipairs (redis.call ('LRANGE', P .. 'dead:' .. sub, 0, -1)) do\n"
    "  redis.call ('DEL', P .. 'dl:' .. sub .. ':' .. id)\n"
    "end\n"
    "redis.call ('DEL', K[1], P .. 'qs:' .. sub, P .. 'dead:' .. sub, P .. 'due:' .. sub)\n"
    "redis.call ('ZREM', P .. 'subdue', sub)\n"
    "redis.call ('SREM', P .. 'subs:' .. A[2], sub)\n"
    "redis.call ('SREM', P .. 'paused', sub)\n"
    "return 'ok'\n"
};

/* K[1] sub:<id>; A: id, source, now. Dead letters back at the end of their lead's queue. */
static const pl_inbox_effect_t s_replay = {
    "notify.replay",
    S_LUA_PREFIX S_LUA_DUE
    "if redis.call ('HGET', K[1], 'source') ~= A[2] then return 'missing' end\n"
    "local sub, now, n = A[1], tonumber (A[3]), 0\n"
    "for _, id in ipairs (redis.call ('LRANGE', P .. 'dead:' .. sub, 0, -1)) do\n"
    "  local dl, d = P .. 'dl:' .. sub .. ':' .. id, P .. 'd:' .. sub .. ':' .. id\n"
    "  local lead = redis.call ('HGET', dl, 'lead')\n"
    "  if lead and redis.call ('EXISTS', d) == 0 then\n"
    "    redis.call ('RENAME', dl, d)\n"
    "    redis.call ('HSET', d, 'attempts', 0)\n"
    "    redis.call ('HDEL', d, 'failed_ms')\n"
    "    redis.call ('RPUSH', P .. 'q:' .. sub .. ':' .. lead, id)\n"
    "    redis.call ('SADD', P .. 'qs:' .. sub, lead)\n"
    "    redis.call ('INCR', P .. 'pending')\n"
    "    n = n + 1\n"
    "  else\n"
    "    redis.call ('DEL', dl)\n"
    "  end\n"
    "end\n"
    "redis.call ('DEL', P .. 'dead:' .. sub)\n"
    "redis.call ('HSET', K[1], 'status', 'active', 'failures', 0)\n"
    "redis.call ('SREM', P .. 'paused', sub)\n"
    "for _, lead in ipairs (redis.call ('SMEMBERS', P .. 'qs:' .. sub)) do\n"
    "  due_set (sub, lead, now)\n"
    "end\n"
    "return tostring (n)\n"
};

/* K[1] due, the single set of heads ("<sub>|<lead>") an earlier version kept; no A. Moves up to
 * 1,000 of them to their subscription's set; replies how many are left. */
static const pl_inbox_effect_t s_upgrade = {
    "notify.due_upgrade",
    S_LUA_PREFIX S_LUA_DUE
    "local m = redis.call ('ZRANGE', K[1], 0, 999, 'WITHSCORES')\n"
    "local subs = {}\n"
    "for i = 1, #m, 2 do\n"
    "  local bar = string.find (m[i], '|', 1, true)\n"
    "  if bar then\n"
    "    local sub = string.sub (m[i], 1, bar - 1)\n"
    "    redis.call ('ZADD', P .. 'due:' .. sub, m[i + 1], string.sub (m[i], bar + 1))\n"
    "    subs[#subs + 1] = sub\n"
    "  end\n"
    "  redis.call ('ZREM', K[1], m[i])\n"
    "end\n"
    "for _, sub in ipairs (subs) do due_touch (sub) end\n"
    "return tostring (redis.call ('ZCARD', K[1]))\n"
};

/* ---- helpers -------------------------------------------------------------------------------- */

notify_store_t *
notify_store_new (pl_redis_t *redis, const char *replica)
{
    notify_store_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->redis = redis;
    self->replica = strdup (replica ? replica : "notify");
    self->inbox = pl_inbox_new (redis, "notify", 0);
    if (!self->replica || !self->inbox)
        notify_store_destroy (&self);
    return self;
}

void
notify_store_destroy (notify_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    notify_store_t *self = *self_p;
    pl_inbox_destroy (&self->inbox);
    free (self->replica);
    free (self);
    *self_p = NULL;
}

const char *
notify_store_errstr (const notify_store_t *self)
{
    return self ? self->err : "";
}

/* Runs one step with effect e; the reply copied into reply[size] when given. On failure the
 * step's own error (a script error), else the inbox's (Redis unreachable), names it in err. */
static int
s_step (notify_store_t *self, const pl_inbox_effect_t *e, const char *key, int nargs,
        const char *const *args, const size_t *lens, char *reply, size_t size)
{
    pl_inbox_tx_t *tx = pl_inbox_tx_new (NOTIFY_TAG, NULL);
    const char *keys[1] = { key };
    int rc = tx ? pl_inbox_tx_effect (tx, e, 1, keys, nargs, args, lens) : PL_ENOMEM;
    int applied = 0;
    if (rc == 0)
        rc = pl_inbox_apply (self->inbox, &tx, 1, &applied);
    const char *said = tx ? pl_inbox_tx_reply (tx, NULL) : "";
    if (rc == 0 && reply)
        snprintf (reply, size, "%s", said);
    else if (rc != 0)
        snprintf (self->err, sizeof self->err, "%s: %s", e->name,
                  !tx ? "no memory" : *said ? said : *pl_inbox_errstr (self->inbox) ? pl_inbox_errstr (self->inbox)
                                                                                     : "redis unavailable");
    pl_inbox_tx_destroy (&tx);
    return rc;
}

void
notify_store_strings_free (char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free (v[i]);
    free (v);
}

void
notify_delivery_clear (notify_delivery_t *d)
{
    if (!d)
        return;
    char **s[] = { &d->sub, &d->lead, &d->audit_id, &d->url, &d->secret, &d->type, &d->data,
                   &d->source, &d->external_id, &d->campaign };
    for (size_t i = 0; i < sizeof s / sizeof *s; i++)
        free (*s[i]);
    memset (d, 0, sizeof *d);
}

/* HMGET key fields… into malloc'd strings (missing: ""). 0 when the first field exists. */
static int
s_hmget (notify_store_t *self, const char *key, int n, const char *const *fields, char **out)
{
    const char *argv[16] = { "HMGET", key };
    for (int i = 0; i < n; i++)
        argv[2 + i] = fields[i];
    pl_reply_t *r = pl_redis_commandv (self->redis, n + 2, argv, NULL);
    if (!r || pl_reply_type (r) != PL_REPLY_ARRAY) {
        snprintf (self->err, sizeof self->err, "redis: %s", pl_redis_errstr (self->redis));
        pl_reply_free (&r);
        return PL_EREDIS;
    }
    bool found = pl_reply_type (pl_reply_element (r, 0)) == PL_REPLY_STRING;
    for (int i = 0; i < n; i++) {
        const char *s = pl_reply_str (pl_reply_element (r, (size_t) i), NULL);
        out[i] = strdup (s ? s : "");
    }
    pl_reply_free (&r);
    return found ? 0 : PL_ENOTFOUND;
}

/* ---- the audit follower -------------------------------------------------------------------- */

int64_t
notify_store_cursor (notify_store_t *self, const char *chain)
{
    pl_reply_t *r = pl_redis_command (self->redis, "GET " P "cursor:%s", chain);
    int64_t v = PL_EREDIS;
    if (r && pl_reply_type (r) == PL_REPLY_NIL)
        v = 0;
    else if (r && pl_reply_type (r) == PL_REPLY_STRING)
        v = strtoll (pl_reply_str (r, NULL), NULL, 10);
    else
        snprintf (self->err, sizeof self->err, "redis: %s", pl_redis_errstr (self->redis));
    pl_reply_free (&r);
    return v;
}

int
notify_store_ingest (notify_store_t *self, const char *chain, int64_t from_seq, int64_t next_seq,
                     const notify_event_t *evs, size_t n, int64_t now_ms, int64_t lead_ttl_s,
                     notify_ingest_counts_t *counts)
{
    size_t nargs = 4 + 10 * n;
    const char **args = calloc (nargs, sizeof *args);
    char (*nums)[24] = calloc (n + 4, sizeof *nums);
    if (!args || !nums) {
        free (args);
        free (nums);
        return PL_ENOMEM;
    }
    snprintf (nums[0], 24, "%lld", (long long) next_seq);
    snprintf (nums[1], 24, "%lld", (long long) now_ms);
    snprintf (nums[2], 24, "%lld", (long long) lead_ttl_s);
    snprintf (nums[3], 24, "%lld", (long long) from_seq);
    args[0] = nums[0], args[1] = nums[1], args[2] = nums[2], args[3] = nums[3];
    for (size_t i = 0; i < n; i++) {
        const notify_event_t *e = &evs[i];
        const char **a = args + 4 + 10 * i;
        snprintf (nums[4 + i], 24, "%lld", (long long) e->at_ms);
        a[0] = e->kind == NOTIFY_RECORD_LEAD ? "lead" : "event";
        a[1] = e->audit_id, a[2] = e->type, a[3] = e->lead_id, a[4] = e->account;
        a[5] = nums[4 + i], a[6] = e->data;
        a[7] = e->source, a[8] = e->external_id, a[9] = e->campaign;
    }
    char key[400], reply[96] = "";
    snprintf (key, sizeof key, P "cursor:%s", chain);
    int rc = s_step (self, &s_ingest, key, (int) nargs, args, NULL, reply, sizeof reply);
    if (rc == 0 && counts) {
        memset (counts, 0, sizeof *counts);
        sscanf (reply, "%ld %ld %ld", &counts->routed, &counts->waiting, &counts->dropped);
    }
    free (args);
    free (nums);
    return rc;
}

int
notify_store_sweep_waiting (notify_store_t *self, int64_t now_ms, int64_t max_wait_ms, long *dropped)
{
    char a0[24], a1[24], reply[32] = "";
    snprintf (a0, sizeof a0, "%lld", (long long) now_ms);
    snprintf (a1, sizeof a1, "%lld", (long long) max_wait_ms);
    const char *args[] = { a0, a1 };
    int rc = s_step (self, &s_sweep, P "waiting", 2, args, NULL, reply, sizeof reply);
    if (dropped)
        *dropped = rc == 0 ? strtol (reply, NULL, 10) : 0;
    return rc;
}

/* ---- deliveries ---------------------------------------------------------------------------- */

int
notify_store_due (notify_store_t *self, int64_t now_ms, size_t max_subs,
                  int (*room) (void *arg, const char *sub), void *arg, char ***members, size_t *n)
{
    *members = NULL;
    *n = 0;
    char left[24] = "0";
    while (!self->upgraded) {
        int rc = s_step (self, &s_upgrade, P "due", 0, NULL, NULL, left, sizeof left);
        if (rc != 0)
            return rc;
        self->upgraded = strcmp (left, "0") == 0;
    }
    pl_reply_t *r = pl_redis_command (self->redis, "ZRANGEBYSCORE " P "subdue -inf %lld LIMIT 0 %lld",
                                      (long long) now_ms, (long long) max_subs);
    if (!r || pl_reply_type (r) != PL_REPLY_ARRAY) {
        snprintf (self->err, sizeof self->err, "redis: %s", pl_redis_errstr (self->redis));
        pl_reply_free (&r);
        return PL_EREDIS;
    }
    /* Then, in one pipeline, as many heads of each as it may send now. */
    size_t nsubs = pl_reply_len (r), queued = 0, total = 0;
    int *want = calloc (nsubs ? nsubs : 1, sizeof *want);
    int rc = want ? 0 : PL_ENOMEM;
    for (size_t i = 0; rc == 0 && i < nsubs; i++) {
        const char *sub = pl_reply_str (pl_reply_element (r, i), NULL);
        want[i] = sub ? room (arg, sub) : 0;
        if (want[i] <= 0)
            continue;
        if (pl_redis_append (self->redis, "ZRANGEBYSCORE " P "due:%s -inf %lld LIMIT 0 %d", sub,
                             (long long) now_ms, want[i]) != 0)
            rc = PL_EREDIS;
        else {
            queued++;
            total += (size_t) want[i];
        }
    }
    *members = rc == 0 ? calloc (total ? total : 1, sizeof **members) : NULL;
    if (rc == 0 && !*members)
        rc = PL_ENOMEM;
    for (size_t i = 0; i < nsubs && queued > 0; i++) {
        if (want[i] <= 0)
            continue;
        queued--;
        const char *sub = pl_reply_str (pl_reply_element (r, i), NULL);
        pl_reply_t *heads = NULL;
        if (pl_redis_get_reply (self->redis, &heads) != 0 || pl_reply_type (heads) != PL_REPLY_ARRAY) {
            rc = PL_EREDIS;
            pl_reply_free (&heads);
            continue;
        }
        for (size_t j = 0; rc == 0 && *members && j < pl_reply_len (heads) && *n < total; j++) {
            const char *lead = pl_reply_str (pl_reply_element (heads, j), NULL);
            char *m = NULL;
            if (lead && asprintf (&m, "%s|%s", sub, lead) > 0)
                (*members)[(*n)++] = m;
            else
                rc = PL_ENOMEM;
        }
        pl_reply_free (&heads);
    }
    if (rc == PL_EREDIS)
        snprintf (self->err, sizeof self->err, "redis: %s", pl_redis_errstr (self->redis));
    if (rc != 0) {
        notify_store_strings_free (*members, *n);
        *members = NULL;
        *n = 0;
    }
    free (want);
    pl_reply_free (&r);
    return rc;
}

/* Loads what to send for one claimed line "<sub>|<lead>|<audit id>". */
static int
s_load (notify_store_t *self, const char *line, notify_delivery_t *d)
{
    memset (d, 0, sizeof *d);
    const char *a = strchr (line, '|'), *b = a ? strchr (a + 1, '|') : NULL;
    if (!b)
        return PL_EINVAL;
    d->sub = strndup (line, (size_t) (a - line));
    d->lead = strndup (a + 1, (size_t) (b - a - 1));
    d->audit_id = strdup (b + 1);
    if (!d->sub || !d->lead || !d->audit_id)
        return PL_ENOMEM;
    char key[512];
    char *sv[2] = { 0 }, *dv[4] = { 0 }, *lv[3] = { 0 };
    snprintf (key, sizeof key, P "sub:%s", d->sub);
    int rc = s_hmget (self, key, 2, (const char *[]) { "url", "secret" }, sv);
    snprintf (key, sizeof key, P "d:%s:%s", d->sub, d->audit_id);
    int rc2 = rc == 0 ? s_hmget (self, key, 4, (const char *[]) { "type", "at", "data", "attempts" }, dv) : rc;
    snprintf (key, sizeof key, P "lead:%s", d->lead);
    int rc3 = rc2 == 0 ? s_hmget (self, key, 3, (const char *[]) { "source", "external_id", "campaign" }, lv) : rc2;
    d->url = sv[0], d->secret = sv[1];
    d->type = dv[0], d->data = dv[2];
    d->at_ms = dv[1] ? strtoll (dv[1], NULL, 10) : 0;
    d->attempts = dv[3] ? atoi (dv[3]) : 0;
    free (dv[1]);
    free (dv[3]);
    d->source = lv[0], d->external_id = lv[1], d->campaign = lv[2];
    /* A lead's identity past its TTL leaves "" fields: the event is still sent. */
    return rc2 != 0 ? rc2 : (rc3 == PL_EREDIS ? rc3 : 0);
}

int
notify_store_claim (notify_store_t *self, char *const *members, size_t n, int64_t now_ms,
                    int64_t lease_ms, int64_t probe_ms, notify_delivery_t **out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    if (n == 0)
        return 0;
    const char **args = calloc (n + 4, sizeof *args);
    char a0[24], a1[24], a2[24];
    size_t cap = 1024 + n * 640;         /* a line per member: "<sub>|<lead>|<audit id>" */
    char *reply = malloc (cap);
    if (!args || !reply) {
        free (args);
        free (reply);
        return PL_ENOMEM;
    }
    snprintf (a0, sizeof a0, "%lld", (long long) now_ms);
    snprintf (a1, sizeof a1, "%lld", (long long) lease_ms);
    snprintf (a2, sizeof a2, "%lld", (long long) probe_ms);
    args[0] = a0, args[1] = a1, args[2] = a2, args[3] = self->replica;
    for (size_t i = 0; i < n; i++)
        args[4 + i] = members[i];
    reply[0] = '\0';
    int rc = s_step (self, &s_claim, P "subdue", (int) n + 4, args, NULL, reply, cap);
    free (args);
    if (rc != 0 || !*reply) {
        free (reply);
        return rc;
    }
    *out = calloc (n, sizeof **out);
    if (!*out) {
        free (reply);
        return PL_ENOMEM;
    }
    char *save = NULL;
    for (char *line = strtok_r (reply, "\n", &save); line; line = strtok_r (NULL, "\n", &save)) {
        notify_delivery_t *d = &(*out)[*n_out];
        int lrc = s_load (self, line, d);
        if (lrc == 0 && d->url && *d->url && d->data && *d->data)
            (*n_out)++;
        else {
            /* Deleted meanwhile, or Redis failed: the lease expires and the head comes back. */
            notify_delivery_clear (d);
            if (lrc == PL_EREDIS)
                rc = lrc;
        }
    }
    free (reply);
    return rc;
}

int
notify_store_done (notify_store_t *self, const notify_delivery_t *d, notify_done_t what,
                   int64_t now_ms, int64_t next_ms, int status, const char *error,
                   int pause_after, int64_t probe_ms, bool *paused)
{
    static const char *const names[] = { "delivered", "retry", "dead" };
    char a4[24], a5[24], a6[16], a8[16], a9[24], reply[64] = "";
    snprintf (a4, sizeof a4, "%lld", (long long) now_ms);
    snprintf (a5, sizeof a5, "%lld", (long long) next_ms);
    snprintf (a6, sizeof a6, "%d", status);
    snprintf (a8, sizeof a8, "%d", pause_after);
    snprintf (a9, sizeof a9, "%lld", (long long) probe_ms);
    const char *args[] = { names[what], d->sub, d->lead, d->audit_id, a4, a5, a6,
                           error ? error : "", a8, a9, NOTIFY_DEAD_LETTERS_MAX_S };
    int rc = s_step (self, &s_done, P "subdue", 11, args, NULL, reply, sizeof reply);
    if (paused)
        *paused = rc == 0 && strstr (reply, " 1") != NULL;
    return rc;
}

int
notify_store_release (notify_store_t *self, int64_t now_ms)
{
    char a1[24];
    snprintf (a1, sizeof a1, "%lld", (long long) now_ms);
    const char *args[] = { self->replica, a1 };
    return s_step (self, &s_release, P "lease", 2, args, NULL, NULL, 0);
}

static long
s_int_cmd (notify_store_t *self, const char *cmd)
{
    pl_reply_t *r = pl_redis_command (self->redis, cmd);
    long v = PL_EREDIS;
    if (r && pl_reply_type (r) == PL_REPLY_INTEGER)
        v = (long) pl_reply_int (r);
    else if (r && pl_reply_type (r) == PL_REPLY_STRING)
        v = strtol (pl_reply_str (r, NULL), NULL, 10);
    else if (r && pl_reply_type (r) == PL_REPLY_NIL)
        v = 0;
    pl_reply_free (&r);
    return v;
}

long
notify_store_pending (notify_store_t *self)
{
    return s_int_cmd (self, "GET " P "pending");
}

long
notify_store_paused (notify_store_t *self)
{
    return s_int_cmd (self, "SCARD " P "paused");
}

/* ---- subscriptions ------------------------------------------------------------------------- */

int
notify_store_sub_create (notify_store_t *self, const char *id, const char *source, const char *url,
                         const char *events, const char *secret, const char *description,
                         int64_t now_ms, int max_per_source)
{
    char now[24], max[16], key[300], reply[16] = "";
    snprintf (now, sizeof now, "%lld", (long long) now_ms);
    snprintf (max, sizeof max, "%d", max_per_source);
    snprintf (key, sizeof key, P "subs:%s", source);
    const char *args[] = { id, source, url, events, secret, description ? description : "", now, max };
    int rc = s_step (self, &s_create, key, 8, args, NULL, reply, sizeof reply);
    return rc != 0 ? rc : strcmp (reply, "full") == 0 ? PL_EBUSY : 0;
}

static json_t *
s_sub_json (char **v, long long waiting)
{
    /* v: id, source, url, events, description, created_ms, status, failures */
    json_t *events = json_array ();
    char *save = NULL;
    for (char *t = strtok_r (v[3], ",", &save); t; t = strtok_r (NULL, ",", &save))
        json_array_append_new (events, json_string (t));
    char created[40];
    pl_time_format_rfc3339 (strtoll (v[5], NULL, 10), created, sizeof created);
    return json_pack ("{s:s, s:s, s:o, s:s, s:s, s:s, s:I, s:I}", "id", v[0], "url", v[2], "events",
                      events, "description", v[4], "created_at", created, "status",
                      strcmp (v[6], "paused") == 0 ? "paused" : "active", "failures",
                      (json_int_t) strtoll (v[7], NULL, 10), "leads_waiting", (json_int_t) waiting);
}

json_t *
notify_store_sub_json (notify_store_t *self, const char *source, const char *id, int *rc)
{
    static const char *const fields[] = { "id", "source", "url", "events", "description",
                                          "created_ms", "status", "failures" };
    char key[300], *v[8] = { 0 };
    snprintf (key, sizeof key, P "sub:%s", id);
    *rc = s_hmget (self, key, 8, (const char *const *) fields, v);
    json_t *o = NULL;
    if (*rc == 0 && strcmp (v[1], source ? source : "") != 0)
        *rc = PL_ENOTFOUND;             /* another source's: as if absent */
    /* Its backlog: the leads with an event not yet delivered (each has a head in its set). */
    long long waiting = 0;
    if (*rc == 0) {
        pl_reply_t *r = pl_redis_command (self->redis, "ZCARD " P "due:%s", id);
        if (r && pl_reply_type (r) == PL_REPLY_INTEGER)
            waiting = pl_reply_int (r);
        else {
            snprintf (self->err, sizeof self->err, "redis: %s", pl_redis_errstr (self->redis));
            *rc = PL_EREDIS;
        }
        pl_reply_free (&r);
    }
    if (*rc == 0 && !(o = s_sub_json (v, waiting)))
        *rc = PL_ENOMEM;
    for (int i = 0; i < 8; i++)
        free (v[i]);
    return o;
}

json_t *
notify_store_sub_list (notify_store_t *self, const char *source)
{
    pl_reply_t *r = pl_redis_command (self->redis, "SMEMBERS " P "subs:%s", source);
    if (!r || pl_reply_type (r) != PL_REPLY_ARRAY) {
        pl_reply_free (&r);
        return NULL;
    }
    json_t *a = json_array ();
    for (size_t i = 0; a && i < pl_reply_len (r); i++) {
        int rc = 0;
        json_t *o = notify_store_sub_json (self, source, pl_reply_str (pl_reply_element (r, i), NULL), &rc);
        if (o)
            json_array_append_new (a, o);
        else if (rc == PL_EREDIS) {
            json_decref (a);
            a = NULL;
        }
    }
    pl_reply_free (&r);
    return a;
}

static int
s_owned_step (notify_store_t *self, const pl_inbox_effect_t *e, const char *source, const char *id,
              int64_t now_ms, char *reply, size_t size)
{
    char key[300], now[24];
    snprintf (key, sizeof key, P "sub:%s", id);
    snprintf (now, sizeof now, "%lld", (long long) now_ms);
    const char *args[] = { id, source ? source : "", now };
    int rc = s_step (self, e, key, 3, args, NULL, reply, size);
    return rc != 0 ? rc : strcmp (reply, "missing") == 0 ? PL_ENOTFOUND : 0;
}

int
notify_store_sub_delete (notify_store_t *self, const char *source, const char *id)
{
    char reply[32] = "";
    return s_owned_step (self, &s_delete, source, id, 0, reply, sizeof reply);
}

long
notify_store_replay (notify_store_t *self, const char *source, const char *id, int64_t now_ms)
{
    char reply[32] = "";
    int rc = s_owned_step (self, &s_replay, source, id, now_ms, reply, sizeof reply);
    return rc != 0 ? rc : strtol (reply, NULL, 10);
}

json_t *
notify_store_dead_letters (notify_store_t *self, const char *source, const char *id, size_t max, int *rc)
{
    json_t *sub = notify_store_sub_json (self, source, id, rc);
    if (!sub)
        return NULL;
    json_decref (sub);
    pl_reply_t *r = pl_redis_command (self->redis, "LRANGE " P "dead:%s 0 %lld", id,
                                      (long long) (max ? max - 1 : 0));
    if (!r || pl_reply_type (r) != PL_REPLY_ARRAY) {
        pl_reply_free (&r);
        *rc = PL_EREDIS;
        return NULL;
    }
    static const char *const fields[] = { "type", "lead", "attempts", "last_status", "last_error", "failed_ms" };
    json_t *a = json_array ();
    for (size_t i = 0; a && i < pl_reply_len (r); i++) {
        const char *ev = pl_reply_str (pl_reply_element (r, i), NULL);
        char key[512], *v[6] = { 0 }, eid[NOTIFY_EVENT_ID_SIZE], at[40];
        snprintf (key, sizeof key, P "dl:%s:%s", id, ev ? ev : "");
        if (ev && s_hmget (self, key, 6, (const char *const *) fields, v) == 0) {
            notify_event_id (ev, eid);
            pl_time_format_rfc3339 (strtoll (v[5], NULL, 10), at, sizeof at);
            json_array_append_new (a, json_pack ("{s:s, s:s, s:s, s:i, s:i, s:s, s:s}", "event_id", eid,
                                                 "type", v[0], "lead_id", v[1], "attempts", atoi (v[2]),
                                                 "last_status", atoi (v[3]), "last_error", v[4],
                                                 "failed_at", at));
        }
        for (int k = 0; k < 6; k++)
            free (v[k]);
    }
    pl_reply_free (&r);
    *rc = a ? 0 : PL_ENOMEM;
    return a;
}
