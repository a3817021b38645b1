/*  outbox.c — Redis-backed outbox (see outbox.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plateau/envelope.h"
#include "plateau/error.h"
#include "plateau/outbox.h"
#include "redis_int.h"

static void s_item_free (pl_outbox_item_t *it);

struct pl_outbox {
    pl_redis_t *redis;
    char key[256];
    char dead_key[256];
    char dead_at_key[256];         /* zset: dead letter id → when it died (ms) */
    int64_t dead_ttl_ms;
    char registry_key[256];
    char slot_suffix[256];         /* ":ob:<owner>:<destination>" */
    char errstr[256];
};

pl_outbox_t *
pl_outbox_new (pl_redis_t *redis, const char *owner, const char *destination)
{
    pl_outbox_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->redis = redis;
    snprintf (self->key, sizeof self->key, "pl:{ob:%s:%s}:msg", owner, destination);
    snprintf (self->dead_key, sizeof self->dead_key, "pl:{ob:%s:%s}:dead", owner, destination);
    snprintf (self->dead_at_key, sizeof self->dead_at_key, "pl:{ob:%s:%s}:dead:at", owner, destination);
    self->dead_ttl_ms = PL_OUTBOX_DEAD_TTL_MS;
    snprintf (self->registry_key, sizeof self->registry_key, "pl:{ob:%s:%s}:slots", owner, destination);
    snprintf (self->slot_suffix, sizeof self->slot_suffix, ":ob:%s:%s", owner, destination);
    return self;
}

void
pl_outbox_destroy (pl_outbox_t **self_p)
{
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

const char *pl_outbox_key (const pl_outbox_t *self) { return self->key; }
const char *pl_outbox_errstr (const pl_outbox_t *self) { return self->errstr; }

static int
s_fail (pl_outbox_t *self, redisReply *r, const char *what)
{
    snprintf (self->errstr, sizeof self->errstr, "outbox %s: %s", what,
              r && r->type == REDIS_REPLY_ERROR ? r->str : pl_redis_errstr (self->redis));
    if (r)
        freeReplyObject (r);
    return PL_EREDIS;
}

/* Stored value: one byte of type length, the type, then the envelope. The values of a batch
 * are framed into one buffer (one allocation per batch, not per message). */
int
pl_outbox_put (pl_outbox_t *self, size_t n, const char *const *ids, const char *const *types,
               const uint8_t *const *data, const size_t *sizes)
{
    if (n == 0)
        return 0;
    size_t argc = 2 + 2 * n, total = 0;
    for (size_t i = 0; i < n; i++) {
        size_t tl = strlen (types[i]);
        if (tl > 255)
            return PL_EINVAL;
        total += 1 + tl + sizes[i];
    }
    const char **argv = malloc (sizeof *argv * argc);
    size_t *argvlen = malloc (sizeof *argvlen * argc);
    uint8_t *vals = malloc (total ? total : 1);
    int rc = PL_ENOMEM;
    if (!argv || !argvlen || !vals)
        goto done;
    argv[0] = "HSET";
    argvlen[0] = 4;
    argv[1] = self->key;
    argvlen[1] = strlen (self->key);
    uint8_t *v = vals;
    for (size_t i = 0; i < n; i++) {
        size_t tl = strlen (types[i]);
        v[0] = (uint8_t) tl;
        memcpy (v + 1, types[i], tl);
        if (sizes[i])
            memcpy (v + 1 + tl, data[i], sizes[i]);
        argv[2 + 2 * i] = ids[i];
        argvlen[2 + 2 * i] = strlen (ids[i]);
        argv[3 + 2 * i] = (const char *) v;
        argvlen[3 + 2 * i] = 1 + tl + sizes[i];
        v += 1 + tl + sizes[i];
    }
    redisReply *r = pl__redis_commandv (self->redis, (int) argc, argv, argvlen);
    if (!r || r->type != REDIS_REPLY_INTEGER)
        rc = s_fail (self, r, "put");
    else {
        freeReplyObject (r);
        rc = 0;
    }
done:
    free (vals);
    free (argv);
    free (argvlen);
    return rc;
}

int
pl_outbox_ack (pl_outbox_t *self, size_t n, const char *const *ids)
{
    if (n == 0)
        return 0;
    const char **argv = malloc (sizeof *argv * (n + 2));
    if (!argv)
        return PL_ENOMEM;
    argv[0] = "HDEL";
    argv[1] = self->key;
    for (size_t i = 0; i < n; i++)
        argv[2 + i] = ids[i];
    redisReply *r = pl__redis_commandv (self->redis, (int) n + 2, argv, NULL);
    free (argv);
    if (!r || r->type != REDIS_REPLY_INTEGER)
        return s_fail (self, r, "ack");
    freeReplyObject (r);
    return 0;
}

/* Dead letters hold whole envelopes, numbers included: each is kept dead_ttl_ms (its time of
 * death in the zset, purged by pl_outbox_dead_purge), and the two keys expire that long after
 * the last one, so that an owner that is gone leaves nothing behind for ever. */
#define S_DEAD_MARK \
    "local t = redis.call('TIME')\n" \
    "redis.call('ZADD', KEYS[3], t[1] * 1000 + math.floor (t[2] / 1000), ARGV[1])\n" \
    "redis.call('PEXPIRE', KEYS[2], ARGV[3])\n" \
    "redis.call('PEXPIRE', KEYS[3], ARGV[3])\n"

/* Moves atomically: a dead letter is never both owed and dead, nor lost between the two. */
static const char *s_dead_lua =
    "local v = redis.call('HGET', KEYS[1], ARGV[1])\n"
    "if not v then return 0 end\n"
    "redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. '\\n' .. v)\n"
    "redis.call('HDEL', KEYS[1], ARGV[1])\n"
    S_DEAD_MARK
    "return 1\n";

/* A dead letter from a slot: KEYS dead, dead, dead:at (the same numbering as s_dead_lua). */
static const char *s_slot_dead_lua =
    "redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])\n"
    S_DEAD_MARK
    "return 1\n";

void
pl_outbox_set_dead_ttl (pl_outbox_t *self, int64_t ms)
{
    self->dead_ttl_ms = ms > 0 ? ms : PL_OUTBOX_DEAD_TTL_MS;
}

int
pl_outbox_dead (pl_outbox_t *self, const char *id, const char *reason)
{
    char ttl[32];
    snprintf (ttl, sizeof ttl, "%lld", (long long) self->dead_ttl_ms);
    redisReply *r = pl__redis_command (self->redis, "EVAL %s 3 %s %s %s %s %s %s", s_dead_lua,
                                      self->key, self->dead_key, self->dead_at_key, id,
                                      reason ? reason : "", ttl);
    if (!r || r->type != REDIS_REPLY_INTEGER)
        return s_fail (self, r, "dead-letter");
    freeReplyObject (r);
    return 0;
}

int
pl_outbox_load (pl_outbox_t *self, pl_outbox_item_t **items, size_t *n)
{
    *items = NULL;
    *n = 0;
    size_t cap = 0;
    char cursor[32] = "0";
    do {
        redisReply *r = pl__redis_command (self->redis, "HSCAN %s %s COUNT 1000", self->key, cursor);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            pl_outbox_items_free (*items, *n);
            *items = NULL;
            *n = 0;
            return s_fail (self, r, "load");
        }
        snprintf (cursor, sizeof cursor, "%s", r->element[0]->str);
        redisReply *kv = r->element[1];
        for (size_t i = 0; i + 1 < kv->elements; i += 2) {
            redisReply *v = kv->element[i + 1];
            if (v->len < 1 || (size_t) v->len < 1 + (size_t) (uint8_t) v->str[0])
                continue;              /* not ours: skip rather than crash */
            if (*n == cap) {
                cap = cap ? cap * 2 : 64;
                pl_outbox_item_t *ni = realloc (*items, cap * sizeof *ni);
                if (!ni) {
                    freeReplyObject (r);
                    return PL_ENOMEM;
                }
                *items = ni;
            }
            size_t tl = (uint8_t) v->str[0];
            pl_outbox_item_t *it = &(*items)[(*n)++];
            it->sid = NULL;
            it->id = strndup (kv->element[i]->str, kv->element[i]->len);
            it->type = strndup (v->str + 1, tl);
            it->size = v->len - 1 - tl;
            it->data = malloc (it->size ? it->size : 1);
            if (it->data)
                memcpy (it->data, v->str + 1 + tl, it->size);
        }
        freeReplyObject (r);
    } while (strcmp (cursor, "0") != 0);
    return 0;
}

void
pl_outbox_items_free (pl_outbox_item_t *items, size_t n)
{
    for (size_t i = 0; items && i < n; i++) {
        free (items[i].id);
        free (items[i].type);
        free (items[i].data);
        free (items[i].sid);
    }
    free (items);
}

static long long
s_len (pl_outbox_t *self, const char *key)
{
    redisReply *r = pl__redis_command (self->redis, "HLEN %s", key);
    if (!r || r->type != REDIS_REPLY_INTEGER)
        return s_fail (self, r, "size");
    long long v = r->integer;
    freeReplyObject (r);
    return v;
}

long long
pl_outbox_size (pl_outbox_t *self)
{
    long long hash = s_len (self, self->key);
    if (hash < 0)
        return hash;
    long long slots = pl_outbox_slots_size (self);
    return slots < 0 ? slots : hash + slots;
}
long long pl_outbox_dead_size (pl_outbox_t *self) { return s_len (self, self->dead_key); }

/* ---- slots --------------------------------------------------------------------------------- */

int
pl_outbox_slot_key (const pl_outbox_t *self, const char *tag, char *out, size_t size)
{
    return snprintf (out, size, "pl:{%s}%s", tag, self->slot_suffix);
}

const char *pl_outbox_registry_key (const pl_outbox_t *self) { return self->registry_key; }

int
pl_outbox_slots (pl_outbox_t *self, char ***tags, long long **scores, size_t *n)
{
    *tags = NULL;
    *scores = NULL;
    *n = 0;
    redisReply *r = pl__redis_command (self->redis, "ZRANGE %s 0 -1 WITHSCORES", self->registry_key);
    if (!r || r->type != REDIS_REPLY_ARRAY)
        return s_fail (self, r, "slots");
    size_t k = r->elements / 2;
    *tags = calloc (k ? k : 1, sizeof **tags);
    *scores = calloc (k ? k : 1, sizeof **scores);
    if (!*tags || !*scores) {
        freeReplyObject (r);
        pl_outbox_slots_free (*tags, *scores, 0);
        return PL_ENOMEM;
    }
    for (size_t i = 0; i < k; i++) {
        redisReply *t = r->element[2 * i], *sc = r->element[2 * i + 1];
        if (t->type != REDIS_REPLY_STRING)
            continue;
        (*tags)[*n] = strndup (t->str, t->len);
        (*scores)[*n] = sc->type == REDIS_REPLY_STRING ? strtoll (sc->str, NULL, 10) : 0;
        if ((*tags)[*n])
            (*n)++;
    }
    freeReplyObject (r);
    return 0;
}

void
pl_outbox_slots_free (char **tags, long long *scores, size_t n)
{
    for (size_t i = 0; tags && i < n; i++)
        free (tags[i]);
    free (tags);
    free (scores);
}

/* Reads one stream entry's fields (i, t, e) into an item; false when it is not one of ours. */
static bool
s_entry (const redisReply *e, pl_outbox_item_t *it)
{
    memset (it, 0, sizeof *it);
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[0]->type != REDIS_REPLY_STRING
        || e->element[1]->type != REDIS_REPLY_ARRAY)
        return false;
    const redisReply *f = e->element[1];
    const redisReply *id = NULL, *type = NULL, *env = NULL;
    for (size_t j = 0; j + 1 < f->elements; j += 2) {
        const redisReply *k = f->element[j], *v = f->element[j + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING || k->len != 1)
            continue;
        if (k->str[0] == 'i')
            id = v;
        else if (k->str[0] == 't')
            type = v;
        else if (k->str[0] == 'e')
            env = v;
    }
    it->sid = strndup (e->element[0]->str, e->element[0]->len);
    if (!id || !type || !env)
        return false;
    it->id = strndup (id->str, id->len);
    it->type = strndup (type->str, type->len);
    it->size = env->len;
    it->data = malloc (env->len ? env->len : 1);
    if (it->data)
        memcpy (it->data, env->str, env->len);
    return it->id && it->type && it->data && it->sid;
}

int
pl_outbox_slot_read (pl_outbox_t *self, const char *tag, char cursor[PL_OUTBOX_SID_MAX], size_t max,
                     pl_outbox_item_t **items, size_t *n)
{
    *items = NULL;
    *n = 0;
    char key[512], from[PL_OUTBOX_SID_MAX + 1], count[24];
    pl_outbox_slot_key (self, tag, key, sizeof key);
    snprintf (from, sizeof from, "(%s", cursor);
    snprintf (count, sizeof count, "%zu", max ? max : 1);
    const char *argv[6] = { "XRANGE", key, from, "+", "COUNT", count };
    redisReply *r = pl__redis_commandv (self->redis, 6, argv, NULL);
    if (!r || r->type != REDIS_REPLY_ARRAY)
        return s_fail (self, r, "slot read");
    *items = calloc (r->elements ? r->elements : 1, sizeof **items);
    if (!*items) {
        freeReplyObject (r);
        return PL_ENOMEM;
    }
    for (size_t i = 0; i < r->elements; i++) {
        pl_outbox_item_t it;
        bool ok = s_entry (r->element[i], &it);
        if (it.sid)
            snprintf (cursor, PL_OUTBOX_SID_MAX, "%s", it.sid);
        if (ok)
            (*items)[(*n)++] = it;
        else
            s_item_free (&it);
    }
    freeReplyObject (r);
    return 0;
}

static void
s_item_free (pl_outbox_item_t *it)
{
    free (it->id);
    free (it->type);
    free (it->data);
    free (it->sid);
    memset (it, 0, sizeof *it);
}

int
pl_outbox_slot_ack (pl_outbox_t *self, const char *tag, size_t n, const char *const *sids)
{
    if (n == 0)
        return 0;
    char key[512];
    pl_outbox_slot_key (self, tag, key, sizeof key);
    const char **argv = malloc (sizeof *argv * (n + 2));
    if (!argv)
        return PL_ENOMEM;
    argv[0] = "XDEL";
    argv[1] = key;
    for (size_t i = 0; i < n; i++)
        argv[2 + i] = sids[i];
    redisReply *r = pl__redis_commandv (self->redis, (int) n + 2, argv, NULL);
    free (argv);
    if (!r || r->type != REDIS_REPLY_INTEGER)
        return s_fail (self, r, "slot ack");
    freeReplyObject (r);
    return 0;
}

int
pl_outbox_slot_dead (pl_outbox_t *self, const char *tag, const pl_outbox_item_t *item, const char *reason)
{
    /* The dead-letter value is the hash's: reason, newline, type length, type, envelope. */
    size_t tl = strlen (item->type), rl = strlen (reason ? reason : "");
    if (tl > 255)
        tl = 255;
    size_t vl = rl + 1 + 1 + tl + item->size;
    char *v = malloc (vl);
    if (!v)
        return PL_ENOMEM;
    memcpy (v, reason ? reason : "", rl);
    v[rl] = '\n';
    v[rl + 1] = (char) tl;
    memcpy (v + rl + 2, item->type, tl);
    if (item->size)
        memcpy (v + rl + 2 + tl, item->data, item->size);
    char ttl[32];
    snprintf (ttl, sizeof ttl, "%lld", (long long) self->dead_ttl_ms);
    const char *argv[9] = { "EVAL", s_slot_dead_lua, "3", self->dead_key, self->dead_key, self->dead_at_key,
                            item->id, v, ttl };
    size_t lens[9] = { 4, strlen (s_slot_dead_lua), 1, strlen (self->dead_key), strlen (self->dead_key),
                       strlen (self->dead_at_key), strlen (item->id), vl, strlen (ttl) };
    redisReply *r = pl__redis_commandv (self->redis, 9, argv, lens);
    free (v);
    if (!r || r->type != REDIS_REPLY_INTEGER)
        return s_fail (self, r, "dead-letter");
    freeReplyObject (r);
    const char *sid = item->sid;
    return pl_outbox_slot_ack (self, tag, 1, &sid);
}

/* KEYS[1] the slot, ARGV[1] … nothing: deletes the stream when it holds nothing. */
static const char *s_forget_slot_lua =
    "if redis.call('XLEN', KEYS[1]) == 0 then redis.call('DEL', KEYS[1]) return 1 end\n"
    "return 0\n";
/* KEYS[1] the registry; ARGV: tag, score. Removes the tag only if no writer bumped it since. */
static const char *s_forget_tag_lua =
    "local s = redis.call('ZSCORE', KEYS[1], ARGV[1])\n"
    "if s and tonumber(s) == tonumber(ARGV[2]) then redis.call('ZREM', KEYS[1], ARGV[1]) return 1 end\n"
    "return 0\n";

int
pl_outbox_slot_forget (pl_outbox_t *self, const char *tag, long long score)
{
    char key[512], sc[24];
    pl_outbox_slot_key (self, tag, key, sizeof key);
    snprintf (sc, sizeof sc, "%lld", score);
    redisReply *r = pl__redis_command (self->redis, "EVAL %s 1 %s", s_forget_slot_lua, key);
    if (!r || r->type != REDIS_REPLY_INTEGER)
        return s_fail (self, r, "forget");
    long long empty = r->integer;
    freeReplyObject (r);
    if (!empty)
        return 0;
    /* A writer that bumped the score after our look writes after this too: the score differs
     * and the tag stays registered (its stream is made again by XADD). */
    r = pl__redis_command (self->redis, "EVAL %s 1 %s %s %s", s_forget_tag_lua, self->registry_key, tag, sc);
    if (!r || r->type != REDIS_REPLY_INTEGER)
        return s_fail (self, r, "forget");
    int gone = r->integer == 1;
    freeReplyObject (r);
    return gone;
}

long long
pl_outbox_slots_size (pl_outbox_t *self)
{
    char **tags;
    long long *scores;
    size_t n;
    int rc = pl_outbox_slots (self, &tags, &scores, &n);
    if (rc != 0)
        return rc;
    long long total = 0;
    for (size_t i = 0; i < n && total >= 0; i++) {
        char key[512];
        pl_outbox_slot_key (self, tags[i], key, sizeof key);
        redisReply *r = pl__redis_command (self->redis, "XLEN %s", key);
        if (!r || r->type != REDIS_REPLY_INTEGER)
            total = s_fail (self, r, "size");
        else {
            total += r->integer;
            freeReplyObject (r);
        }
    }
    pl_outbox_slots_free (tags, scores, n);
    return total;
}

/* ---- dead letters: age and erasure -------------------------------------------------------- */

/* KEYS dead, dead:at; ARGV ttl ms. Deletes what died before now - ttl, 1000 at a time. */
static const char *s_dead_purge_lua =
    "local t = redis.call('TIME')\n"
    "local cut = t[1] * 1000 + math.floor (t[2] / 1000) - tonumber (ARGV[1])\n"
    "local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', cut, 'LIMIT', 0, 1000)\n"
    "if #ids == 0 then return 0 end\n"
    "redis.call('HDEL', KEYS[1], unpack (ids))\n"
    "redis.call('ZREM', KEYS[2], unpack (ids))\n"
    "return #ids\n";

int
pl_outbox_dead_purge (pl_outbox_t *self)
{
    char ttl[32];
    snprintf (ttl, sizeof ttl, "%lld", (long long) self->dead_ttl_ms);
    redisReply *r = pl__redis_command (self->redis, "EVAL %s 2 %s %s %s", s_dead_purge_lua, self->dead_key,
                                      self->dead_at_key, ttl);
    if (!r || r->type != REDIS_REPLY_INTEGER)
        return s_fail (self, r, "dead-letter purge");
    int n = (int) r->integer;
    freeReplyObject (r);
    return n;
}

/* true when any text field of msg, at any depth, equals s. */
static bool
s_mentions (const ProtobufCMessage *msg, const char *s)
{
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *base = (const char *) msg;
        if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            if (*(const uint32_t *) (base + f->quantifier_offset) != f->id)
                continue;           /* another member of the oneof is set */
        }
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *) (base + f->quantifier_offset);
            void *const *v = *(void *const *const *) (base + f->offset);
            for (size_t k = 0; k < n && v; k++)
                if (f->type == PROTOBUF_C_TYPE_STRING ? v[k] && strcmp (v[k], s) == 0
                                                      : v[k] && s_mentions (v[k], s))
                    return true;
            continue;
        }
        const void *v = *(const void *const *) (base + f->offset);
        if (v && (f->type == PROTOBUF_C_TYPE_STRING ? strcmp (v, s) == 0 : s_mentions (v, s)))
            return true;
    }
    return false;
}

/* Whether a dead-letter value ("<reason>\n<type length><type><envelope>") mentions number. A
 * value that does not decode is kept: it cannot be read, so it cannot be shown either. */
static bool
s_dead_mentions (const char *v, size_t len, const char *number)
{
    const char *nl = memchr (v, '\n', len);
    if (!nl || (size_t) (nl - v) + 2 > len)
        return false;
    size_t off = (size_t) (nl - v) + 1, tl = (uint8_t) v[off];
    if (off + 1 + tl > len)
        return false;
    off += 1 + tl;
    char why[64];
    pl_envelope_t *env = pl_envelope_unpack ((const uint8_t *) v + off, len - off, why, sizeof why);
    bool hit = env && s_mentions (&env->base, number);
    pl_envelope_free (&env);
    return hit;
}

int
pl_outbox_dead_erase (pl_redis_t *redis, const char *number, size_t *erased)
{
    *erased = 0;
    char cursor[32] = "0";
    do {
        redisReply *keys = pl__redis_command (redis, "SCAN %s MATCH pl:{ob:*}:dead COUNT 1000", cursor);
        if (!keys || keys->type != REDIS_REPLY_ARRAY || keys->elements != 2) {
            if (keys)
                freeReplyObject (keys);
            return PL_EREDIS;
        }
        snprintf (cursor, sizeof cursor, "%s", keys->element[0]->str);
        for (size_t k = 0; k < keys->element[1]->elements; k++) {
            const char *key = keys->element[1]->element[k]->str;
            char at_key[300];
            snprintf (at_key, sizeof at_key, "%s:at", key);
            char hcursor[32] = "0";
            do {
                redisReply *r = pl__redis_command (redis, "HSCAN %s %s COUNT 500", key, hcursor);
                if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
                    if (r)
                        freeReplyObject (r);
                    freeReplyObject (keys);
                    return PL_EREDIS;
                }
                snprintf (hcursor, sizeof hcursor, "%s", r->element[0]->str);
                const redisReply *kv = r->element[1];
                for (size_t i = 0; i + 1 < kv->elements; i += 2) {
                    if (!s_dead_mentions (kv->element[i + 1]->str, kv->element[i + 1]->len, number))
                        continue;
                    redisReply *d = pl__redis_command (redis, "HDEL %s %s", key, kv->element[i]->str);
                    bool ok = d && d->type == REDIS_REPLY_INTEGER;
                    if (d)
                        freeReplyObject (d);
                    if (ok && (d = pl__redis_command (redis, "ZREM %s %s", at_key, kv->element[i]->str)))
                        freeReplyObject (d);
                    if (!ok) {
                        freeReplyObject (r);
                        freeReplyObject (keys);
                        return PL_EREDIS;
                    }
                    (*erased)++;
                }
                freeReplyObject (r);
            } while (strcmp (hcursor, "0") != 0);
        }
        freeReplyObject (keys);
    } while (strcmp (cursor, "0") != 0);
    return 0;
}
