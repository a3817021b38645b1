/*  store.c — leads in Redis: one atomic script per lead, pipelined per batch (see store.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plateau/error.h"
#include "plateau/inbox.h"
#include "store.h"

/* KEYS: lead, num, xid, seen, toqueue.
 * ARGV: id, pb, window_ms, now_ms, source, replica, flags ("n" number, "x" CRM id, "m" message),
 *       inbox ttl ms.
 * A duplicate changes nothing but, for a bus message, its inbox marker (so a redelivery finds
 * the same answer). Validation happened before: every command here is well-formed. */
static const char *s_put_lua =
    "local f = ARGV[7]\n"
    "local m = string.find(f, 'm', 1, true)\n"
    "if m then local s = redis.call('GET', KEYS[4]); if s then return {'m', s} end end\n"
    "local function dup(kind, id)\n"
    "  if m then redis.call('SET', KEYS[4], id, 'PX', ARGV[8]) end\n"
    "  return {kind, id}\n"
    "end\n"
    "if string.find(f, 'x', 1, true) then\n"
    "  local s = redis.call('GET', KEYS[3]); if s then return dup('x', s) end\n"
    "end\n"
    "local n = string.find(f, 'n', 1, true)\n"
    "if n then local s = redis.call('GET', KEYS[2]); if s then return dup('n', s) end end\n"
    "redis.call('HSET', KEYS[1], 'pb', ARGV[2], 'source', ARGV[5], 'replica', ARGV[6], 'at', ARGV[4])\n"
    "if n then redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3]) end\n"
    "if string.find(f, 'x', 1, true) then redis.call('SET', KEYS[3], ARGV[1]) end\n"
    "if m then redis.call('SET', KEYS[4], ARGV[1], 'PX', ARGV[8]) end\n"
    "redis.call('ZADD', KEYS[5], ARGV[4], ARGV[1])\n"
    "return {'s', ARGV[1]}\n";

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
    int rc = 0;
    uint8_t stackbuf[2048];
    for (size_t i = 0; i < n && rc == 0; i++) {
        const Plateau__V1__Lead *lead = items[i].lead;
        char k[5][512];
        const char *c = lead->campaign;
        intake_store_lead_key (k[0], sizeof k[0], c, lead->id);
        snprintf (k[1], sizeof k[1], "pl:{camp:%s}:num:%s", c,
                  lead->phone && lead->phone->e164 ? lead->phone->e164 : "");
        snprintf (k[2], sizeof k[2], "pl:{camp:%s}:xid:%s:%s", c, lead->source ? lead->source : "",
                  lead->external_id ? lead->external_id : "");
        snprintf (k[3], sizeof k[3], "pl:{camp:%s}:seen:intake:%s", c,
                  items[i].message_id ? items[i].message_id : "");
        intake_store_toqueue_key (k[4], sizeof k[4], c, self->replica);
        char flags[4] = "";
        size_t nf = 0;
        if (self->window_ms > 0 && lead->phone && lead->phone->e164 && *lead->phone->e164)
            flags[nf++] = 'n';
        if (lead->external_id && *lead->external_id)
            flags[nf++] = 'x';
        if (items[i].message_id && *items[i].message_id)
            flags[nf++] = 'm';
        flags[nf] = '\0';
        size_t sz = plateau__v1__lead__get_packed_size (lead);
        uint8_t *pb = sz <= sizeof stackbuf ? stackbuf : malloc (sz);
        if (!pb)
            return PL_ENOMEM;
        plateau__v1__lead__pack (lead, pb);
        const char *argv[13] = { k[0], k[1], k[2], k[3], k[4], lead->id, (const char *) pb, window,
                                 now, lead->source ? lead->source : "", self->replica, flags, ttl };
        size_t argvlen[13];
        for (int a = 0; a < 13; a++)
            argvlen[a] = a == 6 ? sz : strlen (argv[a]);
        if (pl_redis_append_eval (self->redis, self->put, 5, 13, argv, argvlen) != 0)
            rc = s_fail (self, "store");
        else
            queued++;
        if (pb != stackbuf)
            free (pb);
    }
    /* Read every reply queued, in order: the SADDs, then one per lead. */
    size_t item = 0;
    int sadds = queued - (int) n;
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
        intake_store_item_t *it = &items[item++];
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->type == REDIS_REPLY_STRING
            && r->element[1]->type == REDIS_REPLY_STRING) {
            char kind = r->element[0]->str[0];
            it->outcome = kind == 's' ? INTAKE_STORE_STORED
                        : kind == 'x' ? INTAKE_STORE_DUP_EXTERNAL
                        : kind == 'n' ? INTAKE_STORE_DUP_NUMBER : INTAKE_STORE_DUP_MESSAGE;
            snprintf (it->lead_id, sizeof it->lead_id, "%s", r->element[1]->str);
        } else if (rc == 0) {
            snprintf (self->errstr, sizeof self->errstr, "store: %s",
                      r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
            rc = PL_EREDIS;
        }
        freeReplyObject (r);
    }
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
