/*  outbox.c — Redis-backed outbox (see outbox.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plateau/error.h"
#include "plateau/outbox.h"

struct pl_outbox {
    pl_redis_t *redis;
    char key[256];
    char dead_key[256];
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
    redisReply *r = pl_redis_commandv (self->redis, (int) argc, argv, argvlen);
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
    redisReply *r = pl_redis_commandv (self->redis, (int) n + 2, argv, NULL);
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
    redisReply *r = pl_redis_command (self->redis, "EVAL %s 2 %s %s %s %s", s_dead_lua,
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
        redisReply *r = pl_redis_command (self->redis, "HSCAN %s %s COUNT 1000", self->key, cursor);
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
    }
    free (items);
}

static long long
s_len (pl_outbox_t *self, const char *key)
{
    redisReply *r = pl_redis_command (self->redis, "HLEN %s", key);
    if (!r || r->type != REDIS_REPLY_INTEGER)
        return s_fail (self, r, "size");
    long long v = r->integer;
    freeReplyObject (r);
    return v;
}

long long pl_outbox_size (pl_outbox_t *self) { return s_len (self, self->key); }
long long pl_outbox_dead_size (pl_outbox_t *self) { return s_len (self, self->dead_key); }
