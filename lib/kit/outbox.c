/*  outbox.c — Redis-backed outbox (see outbox.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plateau/error.h"
#include "plateau/outbox.h"
#include "redis_int.h"

static void s_item_free (pl_outbox_item_t *it);

struct pl_outbox {
    pl_redis_t *redis;
    char key[256];
    char dead_key[256];
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

/* Moves atomically: a dead letter is never both owed and dead, nor lost between the two. */
static const char *s_dead_lua =
    "local v = redis.call('HGET', KEYS[1], ARGV[1])\n"
    "if not v then return 0 end\n"
    "redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. '\\n' .. v)\n"
    "redis.call('HDEL', KEYS[1], ARGV[1])\n"
    "return 1\n";

int
pl_outbox_dead (pl_outbox_t *self, const char *id, const char *reason)
{
    redisReply *r = pl__redis_command (self->redis, "EVAL %s 2 %s %s %s %s", s_dead_lua,
                                      self->key, self->dead_key, id, reason ? reason : "");
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
    const char *argv[4] = { "HSET", self->dead_key, item->id, v };
    size_t lens[4] = { 4, strlen (self->dead_key), strlen (item->id), vl };
    redisReply *r = pl__redis_commandv (self->redis, 4, argv, lens);
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
    freeReplyObject (r);
    return 0;
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
