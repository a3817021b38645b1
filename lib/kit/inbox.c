/*  inbox.c — exactly-once application of received messages (see inbox.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plateau/error.h"
#include "plateau/inbox.h"

struct pl_inbox {
    pl_redis_t *redis;
    pl_redis_script_t *script;
    char *service;
    char ttl[24];
    char errstr[256];
};

struct pl_inbox_tx {
    char *tag;
    char *message_id;
    /* ARGV after the TTL: for each command its argc then its arguments. */
    size_t argc, cap;
    char **argv;
    size_t *argvlen;
};

/* KEYS[1] = seen marker; ARGV[1] = ttl ms; then per command: argc, arguments. */
static const char *s_apply_lua =
    "if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 0 end\n"
    "local i = 2\n"
    "while i <= #ARGV do\n"
    "  local n = tonumber(ARGV[i])\n"
    "  redis.call(unpack(ARGV, i + 1, i + n))\n"
    "  i = i + n + 1\n"
    "end\n"
    "return 1\n";

pl_inbox_t *
pl_inbox_new (pl_redis_t *redis, const char *service, int64_t ttl_ms)
{
    pl_inbox_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->redis = redis;
    self->service = strdup (service);
    self->script = pl_redis_script_new (s_apply_lua);
    snprintf (self->ttl, sizeof self->ttl, "%lld",
              (long long) (ttl_ms > 0 ? ttl_ms : PL_INBOX_DEFAULT_TTL_MS));
    if (!self->service || !self->script)
        pl_inbox_destroy (&self);
    return self;
}

void
pl_inbox_destroy (pl_inbox_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pl_inbox_t *self = *self_p;
    pl_redis_script_destroy (&self->script);
    free (self->service);
    free (self);
    *self_p = NULL;
}

const char *pl_inbox_errstr (const pl_inbox_t *self) { return self->errstr; }

pl_inbox_tx_t *
pl_inbox_tx_new (const char *tag, const char *message_id)
{
    pl_inbox_tx_t *tx = calloc (1, sizeof *tx);
    if (!tx)
        return NULL;
    tx->tag = strdup (tag);
    tx->message_id = strdup (message_id);
    if (!tx->tag || !tx->message_id)
        pl_inbox_tx_destroy (&tx);
    return tx;
}

void
pl_inbox_tx_destroy (pl_inbox_tx_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pl_inbox_tx_t *tx = *self_p;
    for (size_t i = 0; i < tx->argc; i++)
        free (tx->argv[i]);
    free (tx->argv);
    free (tx->argvlen);
    free (tx->tag);
    free (tx->message_id);
    free (tx);
    *self_p = NULL;
}

static int
s_push (pl_inbox_tx_t *tx, const char *data, size_t len)
{
    if (tx->argc == tx->cap) {
        size_t cap = tx->cap ? tx->cap * 2 : 16;
        char **v = realloc (tx->argv, cap * sizeof *v);
        if (!v)
            return PL_ENOMEM;
        tx->argv = v;
        size_t *l = realloc (tx->argvlen, cap * sizeof *l);
        if (!l)
            return PL_ENOMEM;
        tx->argvlen = l;
        tx->cap = cap;
    }
    char *copy = malloc (len + 1);
    if (!copy)
        return PL_ENOMEM;
    memcpy (copy, data, len);
    copy[len] = '\0';
    tx->argv[tx->argc] = copy;
    tx->argvlen[tx->argc++] = len;
    return 0;
}

int
pl_inbox_tx_cmd (pl_inbox_tx_t *tx, int argc, const char *const *argv, const size_t *argvlen)
{
    if (argc <= 0)
        return PL_EINVAL;
    char n[16];
    int len = snprintf (n, sizeof n, "%d", argc);
    int rc = s_push (tx, n, (size_t) len);
    for (int i = 0; rc == 0 && i < argc; i++)
        rc = s_push (tx, argv[i], argvlen ? argvlen[i] : strlen (argv[i]));
    return rc;
}

int
pl_inbox_tx_cmdl (pl_inbox_tx_t *tx, const char *arg0, ...)
{
    const char *argv[64];
    int argc = 0;
    va_list ap;
    va_start (ap, arg0);
    for (const char *a = arg0; a && argc < 64; a = va_arg (ap, const char *))
        argv[argc++] = a;
    va_end (ap);
    return pl_inbox_tx_cmd (tx, argc, argv, NULL);
}

static char *
s_seen_key (pl_inbox_t *self, const char *tag, const char *id)
{
    char *key = NULL;
    if (asprintf (&key, "pl:{%s}:seen:%s:%s", tag, self->service, id) < 0)
        return NULL;
    return key;
}

int
pl_inbox_apply (pl_inbox_t *self, pl_inbox_tx_t *const *txs, size_t n, int *results)
{
    int rc = 0;
    size_t queued = 0;
    for (; queued < n; queued++) {
        pl_inbox_tx_t *tx = txs[queued];
        char *key = s_seen_key (self, tx->tag, tx->message_id);
        size_t argc = 2 + tx->argc;
        const char **argv = malloc (argc * sizeof *argv);
        size_t *argvlen = malloc (argc * sizeof *argvlen);
        if (!key || !argv || !argvlen) {
            free (key);
            free (argv);
            free (argvlen);
            rc = PL_ENOMEM;
            break;
        }
        argv[0] = key;
        argvlen[0] = strlen (key);
        argv[1] = self->ttl;
        argvlen[1] = strlen (self->ttl);
        for (size_t i = 0; i < tx->argc; i++) {
            argv[2 + i] = tx->argv[i];
            argvlen[2 + i] = tx->argvlen[i];
        }
        rc = pl_redis_append_eval (self->redis, self->script, 1, (int) argc, argv, argvlen);
        free (key);
        free (argv);
        free (argvlen);
        if (rc != 0)
            break;
    }
    /* Read every queued reply, even after a failure, to keep the connection in step. */
    for (size_t i = 0; i < queued; i++) {
        redisReply *r = NULL;
        if (pl_redis_get_reply (self->redis, &r) != 0) {
            snprintf (self->errstr, sizeof self->errstr, "inbox: %s", pl_redis_errstr (self->redis));
            return PL_EREDIS;
        }
        if (r->type == REDIS_REPLY_INTEGER)
            results[i] = (int) r->integer;
        else {
            snprintf (self->errstr, sizeof self->errstr, "inbox apply %s: %s", txs[i]->message_id,
                      r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
            rc = PL_EREDIS;
        }
        freeReplyObject (r);
    }
    if (rc != 0 && !self->errstr[0])
        snprintf (self->errstr, sizeof self->errstr, "inbox: %s", pl_redis_errstr (self->redis));
    return rc;
}

int
pl_inbox_seen (pl_inbox_t *self, const char *tag, const char *message_id)
{
    char *key = s_seen_key (self, tag, message_id);
    if (!key)
        return PL_ENOMEM;
    redisReply *r = pl_redis_command (self->redis, "EXISTS %s", key);
    free (key);
    if (!r || r->type != REDIS_REPLY_INTEGER) {
        if (r)
            freeReplyObject (r);
        return PL_EREDIS;
    }
    int v = r->integer ? 1 : 0;
    freeReplyObject (r);
    return v;
}
