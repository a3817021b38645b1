/*  store.c — leads in Redis: one atomic script per lead, pipelined per batch (see store.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plateau/error.h"
#include "plateau/inbox.h"
#include "store.h"

/* One call stores a run of leads of one campaign (so one hash slot), each atomically as before:
 * one script per lead cost Redis an EVALSHA, its argument tables and a reply per lead, about as
 * much as the lead's own writes.
 * KEYS: toqueue, then for each lead: lead, num, xid, seen.
 * ARGV: window_ms, now_ms, inbox ttl ms, replica, then for each lead: id, pb, source, flags
 *       ("n" number, "x" CRM id, "m" message).
 * Returns {kind, id, kind, id, …}: 's' stored (its id), or the duplicate's kind and existing id.
 * A duplicate changes nothing but, for a bus message, its inbox marker (so a redelivery finds
 * the same answer). Validation happened before: every command here is well-formed. */
static const char *s_put_lua =
    "local window, now, ttl, replica = ARGV[1], ARGV[2], ARGV[3], ARGV[4]\n"
    "local out, queued = {}, {}\n"
    "for i = 0, (#KEYS - 1) / 4 - 1 do\n"
    "  local k, a = 1 + i * 4, 4 + i * 4\n"
    "  local id, f = ARGV[a + 1], ARGV[a + 4]\n"
    "  local m = string.find(f, 'm', 1, true)\n"
    "  local x = string.find(f, 'x', 1, true)\n"
    "  local n = string.find(f, 'n', 1, true)\n"
    "  local kind, res\n"
    "  if m then local s = redis.call('GET', KEYS[k + 4]); if s then kind, res = 'm', s end end\n"
    "  if not kind and x then local s = redis.call('GET', KEYS[k + 3]); if s then kind, res = 'x', s end end\n"
    "  if not kind and n then local s = redis.call('GET', KEYS[k + 2]); if s then kind, res = 'n', s end end\n"
    "  if kind then\n"
    "    if m and kind ~= 'm' then redis.call('SET', KEYS[k + 4], res, 'PX', ttl) end\n"
    "  else\n"
    "    redis.call('HSET', KEYS[k + 1], 'pb', ARGV[a + 2], 'source', ARGV[a + 3], 'replica', replica, 'at', now)\n"
    "    if n then redis.call('SET', KEYS[k + 2], id, 'PX', window) end\n"
    "    if x then redis.call('SET', KEYS[k + 3], id) end\n"
    "    if m then redis.call('SET', KEYS[k + 4], id, 'PX', ttl) end\n"
    "    queued[#queued + 1] = now\n"
    "    queued[#queued + 1] = id\n"
    "    kind, res = 's', id\n"
    "  end\n"
    "  out[#out + 1] = kind\n"
    "  out[#out + 1] = res\n"
    "end\n"
    "if #queued > 0 then redis.call('ZADD', KEYS[1], unpack(queued)) end\n"
    "return out\n";

/* Leads per script call: bounds the call's arguments (5 per lead) and the Lua stack of ZADD. */
#define S_GROUP_MAX 256

/* KEYS: the idempotency hash. ARGV: pending ttl ms. */
static const char *s_claim_lua =
    "local s = redis.call('HGET', KEYS[1], 'state')\n"
    "if not s then\n"
    "  redis.call('HSET', KEYS[1], 'state', 'pending')\n"
    "  redis.call('PEXPIRE', KEYS[1], ARGV[1])\n"
    "  return {1}\n"
    "end\n"
    "if s == 'pending' then return {2} end\n"
    "local v = redis.call('HMGET', KEYS[1], 'status', 'ctype', 'body')\n"
    "return {0, v[1] or '200', v[2] or 'application/json', v[3] or ''}\n";

struct intake_store {
    pl_redis_t *redis;
    char *replica;
    int64_t window_ms;
    pl_redis_script_t *put;
    pl_redis_script_t *claim;
    bool put_loaded;                /* put is loaded on the server of connection put_generation */
    uint64_t put_generation;
    char errstr[256];
};

void
intake_store_lead_key (char *out, size_t size, const char *campaign, const char *id)
{
    snprintf (out, size, "pl:{camp:%s}:lead:%s", campaign, id);
}

void
intake_store_toqueue_key (char *out, size_t size, const char *campaign, const char *replica)
{
    snprintf (out, size, "pl:{camp:%s}:toqueue:%s", campaign, replica);
}

void
intake_store_index_key (char *out, size_t size, const char *id)
{
    snprintf (out, size, "pl:{lead:%s}:campaign", id);
}

void
intake_store_campaigns_key (char *out, size_t size, const char *replica)
{
    snprintf (out, size, "pl:{intake:%s}:campaigns", replica);
}

void
intake_store_audit_key (char *out, size_t size, const char *replica)
{
    snprintf (out, size, "pl:{intake:%s}:audit", replica);
}

static void
s_idem_key (char *out, size_t size, const char *source, const char *key)
{
    snprintf (out, size, "pl:{idem:%s:%s}", source, key);
}

intake_store_t *
intake_store_new (pl_redis_t *redis, const char *replica, int64_t window_ms)
{
    intake_store_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->redis = redis;
    self->replica = strdup (replica);
    self->window_ms = window_ms;
    self->put = pl_redis_script_new (s_put_lua);
    self->claim = pl_redis_script_new (s_claim_lua);
    if (!self->replica || !self->put || !self->claim)
        intake_store_destroy (&self);
    return self;
}

void
intake_store_destroy (intake_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    intake_store_t *self = *self_p;
    pl_redis_script_destroy (&self->put);
    pl_redis_script_destroy (&self->claim);
    free (self->replica);
    free (self);
    *self_p = NULL;
}

const char *
intake_store_errstr (const intake_store_t *self)
{
    return self->errstr;
}

static int
s_fail (intake_store_t *self, const char *what)
{
    snprintf (self->errstr, sizeof self->errstr, "%s: %s", what, pl_redis_errstr (self->redis));
    return PL_EREDIS;
}

/* Drains every pending reply after a failure so the connection is clean for the next use. */
static void
s_drain (intake_store_t *self)
{
    while (pl_redis_pending (self->redis) > 0) {
        redisReply *r = NULL;
        if (pl_redis_get_reply (self->redis, &r) != 0)
            break;
        freeReplyObject (r);
    }
}

int
intake_store_put (intake_store_t *self, intake_store_item_t *items, size_t n, int64_t now_ms)
{
    if (n == 0)
        return 0;
    char window[24], now[24], ttl[24];
    snprintf (window, sizeof window, "%lld", (long long) self->window_ms);
    snprintf (now, sizeof now, "%lld", (long long) now_ms);
    snprintf (ttl, sizeof ttl, "%lld", (long long) PL_INBOX_DEFAULT_TTL_MS);
    char ckey[256];
    intake_store_campaigns_key (ckey, sizeof ckey, self->replica);

    /* The SADDs below go first in the pipeline, and with replies pending the script can only be
     * sent whole (EVAL: its body sent and hashed by Redis on every call). A call with no leads
     * loads it once per connection, so that the calls below are EVALSHA. */
    if (!self->put_loaded || self->put_generation != pl_redis_generation (self->redis)) {
        char tq[256];
        intake_store_toqueue_key (tq, sizeof tq, items[0].lead->campaign, self->replica);
        const char *a[5] = { tq, window, now, ttl, self->replica };
        size_t al[5];
        for (int j = 0; j < 5; j++)
            al[j] = strlen (a[j]);
        redisReply *r = pl_redis_eval (self->redis, self->put, 1, 5, a, al);
        self->put_loaded = r && r->type == REDIS_REPLY_ARRAY;
        self->put_generation = pl_redis_generation (self->redis);
        if (r)
            freeReplyObject (r);
    }

    /* The campaigns of this batch go into the feeder's set first: SADD is idempotent, and a
     * member whose to-queue is empty costs the feeder one ZRANGE. */
    int queued = 0;
    const char *last = NULL;
    for (size_t i = 0; i < n; i++) {
        items[i].outcome = INTAKE_STORE_UNKNOWN;
        const char *c = items[i].lead->campaign;
        if (last && strcmp (last, c) == 0)
            continue;
        last = c;
        if (pl_redis_append (self->redis, "SADD %s %s", ckey, c) != 0)
            return s_fail (self, "sadd");
        queued++;
    }
    /* Runs of leads of one campaign, one script call each. */
    int rc = 0;
    size_t ngroups = 0;
    size_t *group_end = calloc (n, sizeof *group_end);
    char (*keys)[512] = calloc (1 + 4 * S_GROUP_MAX, sizeof *keys);
    const char **argv = calloc (5 + 8 * S_GROUP_MAX, sizeof *argv);
    size_t *argvlen = calloc (5 + 8 * S_GROUP_MAX, sizeof *argvlen);
    size_t *pbsize = calloc (S_GROUP_MAX, sizeof *pbsize);
    char (*flags)[4] = calloc (S_GROUP_MAX, sizeof *flags);
    uint8_t *pb = NULL;
    if (!group_end || !keys || !argv || !argvlen || !pbsize || !flags)
        rc = PL_ENOMEM;
    for (size_t start = 0; start < n && rc == 0;) {
        const char *c = items[start].lead->campaign;
        size_t end = start + 1;
        while (end < n && end - start < S_GROUP_MAX && strcmp (items[end].lead->campaign, c) == 0)
            end++;
        size_t k = end - start, total = 0;
        for (size_t i = 0; i < k; i++)
            total += pbsize[i] = plateau__v1__lead__get_packed_size (items[start + i].lead);
        uint8_t *p = realloc (pb, total ? total : 1);
        if (!p) {
            rc = PL_ENOMEM;
            break;
        }
        pb = p;
        intake_store_toqueue_key (keys[0], sizeof keys[0], c, self->replica);
        argv[0] = keys[0];
        size_t args = 1 + 4 * k, off = 0;
        const char *common[4] = { window, now, ttl, self->replica };
        for (int j = 0; j < 4; j++)
            argv[args + (size_t) j] = common[j];
        for (size_t i = 0; i < k; i++) {
            const intake_store_item_t *it = &items[start + i];
            const Plateau__V1__Lead *lead = it->lead;
            char (*kk)[512] = keys + 1 + 4 * i;
            intake_store_lead_key (kk[0], sizeof kk[0], c, lead->id);
            snprintf (kk[1], sizeof kk[1], "pl:{camp:%s}:num:%s", c,
                      lead->phone && lead->phone->e164 ? lead->phone->e164 : "");
            snprintf (kk[2], sizeof kk[2], "pl:{camp:%s}:xid:%s:%s", c, lead->source ? lead->source : "",
                      lead->external_id ? lead->external_id : "");
            snprintf (kk[3], sizeof kk[3], "pl:{camp:%s}:seen:intake:%s", c,
                      it->message_id ? it->message_id : "");
            for (int j = 0; j < 4; j++)
                argv[1 + 4 * i + (size_t) j] = kk[j];
            size_t nf = 0;
            if (self->window_ms > 0 && lead->phone && lead->phone->e164 && *lead->phone->e164)
                flags[i][nf++] = 'n';
            if (lead->external_id && *lead->external_id)
                flags[i][nf++] = 'x';
            if (it->message_id && *it->message_id)
                flags[i][nf++] = 'm';
            flags[i][nf] = '\0';
            plateau__v1__lead__pack (lead, pb + off);
            const char **v = argv + args + 4 + 4 * i;
            v[0] = lead->id;
            v[1] = (const char *) pb + off;
            v[2] = lead->source ? lead->source : "";
            v[3] = flags[i];
            off += pbsize[i];
        }
        size_t argc = args + 4 + 4 * k;
        for (size_t a = 0; a < argc; a++)
            argvlen[a] = a > args + 4 && (a - args - 4) % 4 == 1 ? pbsize[(a - args - 4) / 4] : strlen (argv[a]);
        if (pl_redis_append_eval (self->redis, self->put, (int) args, (int) argc, argv, argvlen) != 0)
            rc = s_fail (self, "store");
        else {
            queued++;
            group_end[ngroups++] = end;
        }
        start = end;
    }
    free (keys);
    free (argv);
    free (argvlen);
    free (pbsize);
    free (flags);
    free (pb);
    /* Read every reply queued, in order: the SADDs, then one per run of leads. */
    size_t item = 0, group = 0;
    int sadds = queued - (int) ngroups;
    if (rc != 0)
        sadds = queued;            /* whatever was queued: drained below */
    for (int q = 0; q < queued; q++) {
        redisReply *r = NULL;
        if (pl_redis_get_reply (self->redis, &r) != 0) {
            rc = s_fail (self, "store");
            break;
        }
        if (q < sadds) {
            if (r->type == REDIS_REPLY_ERROR && rc == 0) {
                snprintf (self->errstr, sizeof self->errstr, "sadd: %s", r->str);
                rc = PL_EREDIS;
            }
            freeReplyObject (r);
            continue;
        }
        size_t end = group_end[group++];
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 * (end - item)) {
            for (size_t e = 0; item < end; item++, e += 2) {
                intake_store_item_t *it = &items[item];
                const redisReply *kind = r->element[e], *id = r->element[e + 1];
                if (kind->type != REDIS_REPLY_STRING || id->type != REDIS_REPLY_STRING)
                    continue;            /* stays UNKNOWN: reported not accepted */
                char c = kind->str[0];
                it->outcome = c == 's' ? INTAKE_STORE_STORED
                            : c == 'x' ? INTAKE_STORE_DUP_EXTERNAL
                            : c == 'n' ? INTAKE_STORE_DUP_NUMBER : INTAKE_STORE_DUP_MESSAGE;
                snprintf (it->lead_id, sizeof it->lead_id, "%s", id->str);
            }
        } else if (rc == 0) {
            snprintf (self->errstr, sizeof self->errstr, "store: %s",
                      r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
            rc = PL_EREDIS;
        }
        item = end;
        freeReplyObject (r);
    }
    free (group_end);
    if (rc != 0) {
        s_drain (self);
        return rc;
    }
    /* The id → campaign index, for the stored ones. Not in the script (another hash tag); the
     * feeder writes it again when it moves the lead on, so a crash here loses nothing. */
    int idx = 0;
    for (size_t i = 0; i < n; i++) {
        if (items[i].outcome != INTAKE_STORE_STORED)
            continue;
        char key[512];
        intake_store_index_key (key, sizeof key, items[i].lead_id);
        if (pl_redis_append (self->redis, "SET %s %s", key, items[i].lead->campaign) != 0)
            return s_fail (self, "index");
        idx++;
    }
    for (int q = 0; q < idx; q++) {
        redisReply *r = NULL;
        if (pl_redis_get_reply (self->redis, &r) != 0)
            return s_fail (self, "index");
        freeReplyObject (r);
    }
    return 0;
}

int
intake_store_audit_push (intake_store_t *self, const uint8_t *const *data, const size_t *sizes,
                         size_t n)
{
    if (n == 0)
        return 0;
    const char **argv = calloc (n + 2, sizeof *argv);
    size_t *lens = calloc (n + 2, sizeof *lens);
    char key[256];
    if (!argv || !lens) {
        free (argv);
        free (lens);
        return PL_ENOMEM;
    }
    intake_store_audit_key (key, sizeof key, self->replica);
    argv[0] = "RPUSH";
    lens[0] = 5;
    argv[1] = key;
    lens[1] = strlen (key);
    for (size_t i = 0; i < n; i++) {
        argv[i + 2] = (const char *) data[i];
        lens[i + 2] = sizes[i];
    }
    redisReply *r = pl_redis_commandv (self->redis, (int) n + 2, argv, lens);
    free (argv);
    free (lens);
    int rc = r && r->type == REDIS_REPLY_INTEGER ? 0 : s_fail (self, "audit queue");
    if (r)
        freeReplyObject (r);
    return rc;
}

int
intake_store_get (intake_store_t *self, const char *id, intake_store_lead_t *out)
{
    memset (out, 0, sizeof *out);
    char key[512];
    intake_store_index_key (key, sizeof key, id);
    redisReply *r = pl_redis_command (self->redis, "GET %s", key);
    if (!r)
        return s_fail (self, "get");
    if (r->type != REDIS_REPLY_STRING) {
        int rc = r->type == REDIS_REPLY_NIL ? PL_ENOTFOUND : PL_EREDIS;
        freeReplyObject (r);
        return rc;
    }
    char campaign[256];
    snprintf (campaign, sizeof campaign, "%s", r->str);
    freeReplyObject (r);
    intake_store_lead_key (key, sizeof key, campaign, id);
    r = pl_redis_command (self->redis, "HMGET %s pb replica at verdict", key);
    if (!r)
        return s_fail (self, "get");
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 4 || r->element[0]->type != REDIS_REPLY_STRING) {
        freeReplyObject (r);
        return PL_ENOTFOUND;
    }
    out->lead = plateau__v1__lead__unpack (NULL, r->element[0]->len, (const uint8_t *) r->element[0]->str);
    if (r->element[1]->type == REDIS_REPLY_STRING)
        snprintf (out->replica, sizeof out->replica, "%s", r->element[1]->str);
    if (r->element[2]->type == REDIS_REPLY_STRING)
        out->accepted_at_ms = strtoll (r->element[2]->str, NULL, 10);
    if (r->element[3]->type == REDIS_REPLY_STRING)
        snprintf (out->verdict, sizeof out->verdict, "%s", r->element[3]->str);
    freeReplyObject (r);
    if (!out->lead)
        return PL_ECORRUPT;
    char tq[512], ob[512], mid[64];
    intake_store_toqueue_key (tq, sizeof tq, campaign, out->replica);
    snprintf (ob, sizeof ob, "pl:{ob:%s:scrub}:msg", out->replica);
    snprintf (mid, sizeof mid, "%s.submitted", id);
    r = pl_redis_command (self->redis, "ZSCORE %s %s", tq, id);
    if (!r)
        return s_fail (self, "get");
    out->in_to_queue = r->type == REDIS_REPLY_STRING;
    freeReplyObject (r);
    r = pl_redis_command (self->redis, "HEXISTS %s %s", ob, mid);
    if (!r)
        return s_fail (self, "get");
    out->in_outbox = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    freeReplyObject (r);
    return 0;
}

int
intake_store_idem_claim (intake_store_t *self, const char *source, const char *key,
                         int64_t pending_ttl_ms, int *status, char **ctype, char **body,
                         size_t *body_len)
{
    char k[512], ttl[24];
    s_idem_key (k, sizeof k, source, key);
    snprintf (ttl, sizeof ttl, "%lld", (long long) pending_ttl_ms);
    const char *argv[2] = { k, ttl };
    redisReply *r = pl_redis_eval (self->redis, self->claim, 1, 2, argv, NULL);
    if (!r)
        return s_fail (self, "idempotency");
    int rc = PL_EREDIS;
    if (r->type == REDIS_REPLY_ARRAY && r->elements >= 1 && r->element[0]->type == REDIS_REPLY_INTEGER) {
        long long v = r->element[0]->integer;
        if (v == 1)
            rc = 1;
        else if (v == 2)
            rc = PL_EBUSY;
        else if (r->elements == 4) {
            *status = atoi (r->element[1]->str);
            *ctype = strdup (r->element[2]->str);
            *body = malloc (r->element[3]->len + 1);
            if (*body) {
                memcpy (*body, r->element[3]->str, r->element[3]->len);
                (*body)[r->element[3]->len] = '\0';
            }
            *body_len = r->element[3]->len;
            rc = *ctype && *body ? 0 : PL_ENOMEM;
        }
    } else
        snprintf (self->errstr, sizeof self->errstr, "idempotency: %s",
                  r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
    freeReplyObject (r);
    return rc;
}

int
intake_store_idem_save (intake_store_t *self, const char *source, const char *key, int64_t ttl_ms,
                        int status, const char *ctype, const char *body, size_t body_len)
{
    char k[512], st[16], ttl[24];
    s_idem_key (k, sizeof k, source, key);
    snprintf (st, sizeof st, "%d", status);
    snprintf (ttl, sizeof ttl, "%lld", (long long) ttl_ms);
    const char *argv[10] = { "HSET", k, "state", "done", "status", st, "ctype", ctype, "body", body };
    size_t lens[10];
    for (int i = 0; i < 9; i++)
        lens[i] = strlen (argv[i]);
    lens[9] = body_len;
    if (pl_redis_appendv (self->redis, 10, argv, lens) != 0
        || pl_redis_append (self->redis, "PEXPIRE %s %s", k, ttl) != 0)
        return s_fail (self, "idempotency");
    int rc = 0;
    for (int i = 0; i < 2; i++) {
        redisReply *r = NULL;
        if (pl_redis_get_reply (self->redis, &r) != 0)
            return s_fail (self, "idempotency");
        if (r->type == REDIS_REPLY_ERROR)
            rc = PL_EREDIS;
        freeReplyObject (r);
    }
    return rc;
}

int
intake_store_idem_release (intake_store_t *self, const char *source, const char *key)
{
    char k[512];
    s_idem_key (k, sizeof k, source, key);
    redisReply *r = pl_redis_command (self->redis, "DEL %s", k);
    if (!r)
        return s_fail (self, "idempotency");
    freeReplyObject (r);
    return 0;
}
