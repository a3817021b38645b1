/*  inbox.c — exactly-once application of received messages (see inbox.h). */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plateau/error.h"
#include "plateau/id.h"
#include "plateau/inbox.h"

struct pl_inbox {
    pl_redis_t *redis;
    pl_redis_script_t *script;
    char *service;
    char ttl[24];
    char errstr[256];
};

/* A transaction keeps its strings back to back in one buffer, so that building one costs a
 * single allocation in the common case (a few short commands): receivers build one per message,
 * hundreds of thousands per second. */
#define PL_INBOX_TX_INLINE_BYTES 256
#define PL_INBOX_TX_INLINE_ARGS 12

typedef struct {
    size_t off, len;
} s_arg_t;

struct pl_inbox_tx {
    size_t tag_len, id_len;    /* tag then message id open the buffer, each NUL-terminated */
    /* The script's arguments for this transaction: for each command its argc then its
     * arguments, each NUL-terminated in buf. */
    size_t argc, cap;
    s_arg_t *args;
    char *buf;
    size_t used, size;
    s_arg_t inline_args[PL_INBOX_TX_INLINE_ARGS];
    char inline_buf[PL_INBOX_TX_INLINE_BYTES];
};

#define S_TAG(tx) ((tx)->buf)
#define S_ID(tx) ((tx)->buf + (tx)->tag_len + 1)

/* One call applies a run of transactions that share a hash tag (so that it stays on one Redis
 * Cluster node): a Lua call costs Redis more than the few commands inside it, and a batch of
 * 500 messages in one call is several times cheaper than 500 calls.
 *
 * KEYS: the seen bucket of each transaction. ARGV[1]: bucket ttl ms; then for each transaction
 * the number of arguments that follow for it, its message id, then for each of its commands:
 * argc, arguments.
 * Returns one result per transaction: 1 applied now, 0 seen before, or the error text of the
 * command that failed. As with a single script that stops at a failing command, the failing
 * transaction keeps its marker and its earlier commands (Redis does not roll back); the other
 * transactions of the run are not affected by it. */
static const char *s_apply_lua =
    "local out = {}\n"
    "local expiring = {}\n"
    "local i = 2\n"
    "for k = 1, #KEYS do\n"
    "  local stop = i + tonumber(ARGV[i])\n"
    "  local id = ARGV[i + 1]\n"
    "  i = i + 2\n"
    "  if redis.call('HSETNX', KEYS[k], id, '1') == 1 then\n"
    "    if not expiring[KEYS[k]] then\n"
    "      redis.call('PEXPIRE', KEYS[k], ARGV[1])\n"
    "      expiring[KEYS[k]] = true\n"
    "    end\n"
    "    out[k] = 1\n"
    "    while i <= stop do\n"
    "      local n = tonumber(ARGV[i])\n"
    "      local r = redis.pcall(unpack(ARGV, i + 1, i + n))\n"
    "      if type(r) == 'table' and r.err then\n"
    "        out[k] = r.err\n"
    "        break\n"
    "      end\n"
    "      i = i + n + 1\n"
    "    end\n"
    "  else\n"
    "    out[k] = 0\n"
    "  end\n"
    "  i = stop + 1\n"
    "end\n"
    "return out\n";

/* Transactions per call: bounds how long one call holds Redis (well under a millisecond). */
#define PL_INBOX_RUN_MAX 512

pl_inbox_t *
pl_inbox_new (pl_redis_t *redis, const char *service, int64_t ttl_ms)
{
    pl_inbox_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->redis = redis;
    self->service = strdup (service);
    self->script = pl_redis_script_new (s_apply_lua);
    /* A day bucket must outlive the last message of its day by the whole TTL. */
    snprintf (self->ttl, sizeof self->ttl, "%lld",
              (long long) ((ttl_ms > 0 ? ttl_ms : PL_INBOX_DEFAULT_TTL_MS) + 86400000LL));
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

/* Appends len bytes and a NUL to the buffer; returns the offset or -1. */
static long long
s_append (pl_inbox_tx_t *tx, const char *data, size_t len)
{
    if (tx->used + len + 1 > tx->size) {
        size_t size = tx->size * 2;
        while (size < tx->used + len + 1)
            size *= 2;
        char *b = tx->buf == tx->inline_buf ? malloc (size) : realloc (tx->buf, size);
        if (!b)
            return -1;
        if (tx->buf == tx->inline_buf)
            memcpy (b, tx->inline_buf, tx->used);
        tx->buf = b;
        tx->size = size;
    }
    size_t off = tx->used;
    memcpy (tx->buf + off, data, len);
    tx->buf[off + len] = '\0';
    tx->used += len + 1;
    return (long long) off;
}

pl_inbox_tx_t *
pl_inbox_tx_new (const char *tag, const char *message_id)
{
    pl_inbox_tx_t *tx = malloc (sizeof *tx);
    if (!tx)
        return NULL;
    tx->argc = 0;
    tx->cap = PL_INBOX_TX_INLINE_ARGS;
    tx->args = tx->inline_args;
    tx->buf = tx->inline_buf;
    tx->used = 0;
    tx->size = sizeof tx->inline_buf;
    tx->tag_len = strlen (tag);
    tx->id_len = strlen (message_id);
    if (s_append (tx, tag, tx->tag_len) < 0 || s_append (tx, message_id, tx->id_len) < 0)
        pl_inbox_tx_destroy (&tx);
    return tx;
}

void
pl_inbox_tx_destroy (pl_inbox_tx_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pl_inbox_tx_t *tx = *self_p;
    if (tx->buf != tx->inline_buf)
        free (tx->buf);
    if (tx->args != tx->inline_args)
        free (tx->args);
    free (tx);
    *self_p = NULL;
}

static int
s_push (pl_inbox_tx_t *tx, const char *data, size_t len)
{
    if (tx->argc == tx->cap) {
        size_t cap = tx->cap * 2;
        s_arg_t *a = tx->args == tx->inline_args ? malloc (cap * sizeof *a)
                                                 : realloc (tx->args, cap * sizeof *a);
        if (!a)
            return PL_ENOMEM;
        if (tx->args == tx->inline_args)
            memcpy (a, tx->inline_args, sizeof tx->inline_args);
        tx->args = a;
        tx->cap = cap;
    }
    long long off = s_append (tx, data, len);
    if (off < 0)
        return PL_ENOMEM;
    tx->args[tx->argc].off = (size_t) off;
    tx->args[tx->argc++].len = len;
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

/* Seen markers are fields of a hash per tag and bucket, not a key per message: HSETNX costs
 * Redis a fraction of SET NX PX, and a bucket's TTL is set once, when it is created.
 *
 * The bucket is the UTC day in the message id (a ULID: its first 10 characters are the time it
 * was made), so every redelivery of a message, on whatever day, lands in the same bucket. Ids
 * that are not ULIDs fall into one of 64 buckets by hash. A bucket's TTL (the inbox TTL plus a
 * day) is renewed once per call that adds to it: it expires that long after its last insert. */
#define S_BUCKET_MAX 24

static size_t
s_bucket (const char *id, size_t id_len, char out[S_BUCKET_MAX])
{
    /* A derived id ("<ULID>.audit") starts with the ULID of the message it comes from. */
    char ulid[PL_ID_LEN + 1] = "";
    if (id_len >= PL_ID_LEN) {
        memcpy (ulid, id, PL_ID_LEN);
        ulid[PL_ID_LEN] = '\0';
    }
    int64_t ms = pl_id_time_ms (ulid);
    if (ms >= 0)
        return (size_t) snprintf (out, S_BUCKET_MAX, "d%lld", (long long) (ms / 86400000));
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < id_len; i++)
        h = (h ^ (uint8_t) id[i]) * 16777619u;
    return (size_t) snprintf (out, S_BUCKET_MAX, "h%u", h % 64);
}

/* Writes pl:{<tag>}:seen:<service>:<bucket> at out (room for s_seen_len bytes); returns its
 * length. */
static size_t
s_seen_len (const pl_inbox_t *self, const char *tag, size_t tag_len, size_t id_len)
{
    return 4 + tag_len + 7 + strlen (self->service) + 1 + S_BUCKET_MAX + 1;
}

static size_t
s_seen_write (const pl_inbox_t *self, char *out, const char *tag, size_t tag_len, const char *id,
              size_t id_len)
{
    size_t sl = strlen (self->service), n = 0;
    memcpy (out + n, "pl:{", 4), n += 4;
    memcpy (out + n, tag, tag_len), n += tag_len;
    memcpy (out + n, "}:seen:", 7), n += 7;
    memcpy (out + n, self->service, sl), n += sl;
    out[n++] = ':';
    n += s_bucket (id, id_len, out + n);
    out[n] = '\0';
    return n;
}

static char *
s_seen_key (pl_inbox_t *self, const char *tag, const char *id)
{
    size_t tl = strlen (tag), il = strlen (id);
    char *key = malloc (s_seen_len (self, tag, tl, il));
    if (key)
        s_seen_write (self, key, tag, tl, id, il);
    return key;
}

/* Queues one call for txs[0..n) (same tag). 0 or a negative code (nothing queued). */
static int
s_queue_run (pl_inbox_t *self, pl_inbox_tx_t *const *txs, size_t n)
{
    size_t argc = n + 1, keys_size = 0;
    for (size_t k = 0; k < n; k++) {
        argc += 2 + txs[k]->argc;
        keys_size += s_seen_len (self, S_TAG (txs[k]), txs[k]->tag_len, txs[k]->id_len);
    }
    const char **argv = malloc (argc * sizeof *argv);
    size_t *argvlen = malloc (argc * sizeof *argvlen);
    char (*counts)[16] = malloc (n * sizeof *counts);
    char *keys = malloc (keys_size);
    int rc = PL_ENOMEM;
    if (!argv || !argvlen || !counts || !keys)
        goto done;
    char *key = keys;
    for (size_t k = 0; k < n; k++) {
        pl_inbox_tx_t *tx = txs[k];
        argv[k] = key;
        argvlen[k] = s_seen_write (self, key, S_TAG (tx), tx->tag_len, S_ID (tx), tx->id_len);
        key += argvlen[k] + 1;
    }
    size_t a = n;
    argv[a] = self->ttl;
    argvlen[a++] = strlen (self->ttl);
    for (size_t k = 0; k < n; k++) {
        pl_inbox_tx_t *tx = txs[k];
        argvlen[a] = (size_t) snprintf (counts[k], sizeof counts[k], "%zu", tx->argc + 1);
        argv[a++] = counts[k];
        argv[a] = S_ID (tx);
        argvlen[a++] = tx->id_len;
        for (size_t i = 0; i < tx->argc; i++) {
            argv[a] = tx->buf + tx->args[i].off;
            argvlen[a++] = tx->args[i].len;
        }
    }
    rc = pl_redis_append_eval (self->redis, self->script, (int) n, (int) argc, argv, argvlen);
done:
    free (keys);
    free (argv);
    free (argvlen);
    free (counts);
    return rc;
}

/* Reads the reply of one queued call into results[0..n). */
static int
s_read_run (pl_inbox_t *self, pl_inbox_tx_t *const *txs, size_t n, int *results)
{
    redisReply *r = NULL;
    if (pl_redis_get_reply (self->redis, &r) != 0) {
        snprintf (self->errstr, sizeof self->errstr, "inbox: %s", pl_redis_errstr (self->redis));
        return PL_EREDIS;
    }
    int rc = 0;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != n) {
        snprintf (self->errstr, sizeof self->errstr, "inbox apply %s: %s", S_ID (txs[0]),
                  r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
        rc = PL_EREDIS;
    }
    for (size_t k = 0; r->type == REDIS_REPLY_ARRAY && k < r->elements && k < n; k++) {
        redisReply *e = r->element[k];
        if (e->type == REDIS_REPLY_INTEGER)
            results[k] = (int) e->integer;
        else {
            if (!self->errstr[0])      /* the first failure is the one reported */
                snprintf (self->errstr, sizeof self->errstr, "inbox apply %s: %s", S_ID (txs[k]),
                          e->type == REDIS_REPLY_STRING ? e->str : "unexpected reply");
            rc = PL_EREDIS;
        }
    }
    freeReplyObject (r);
    return rc;
}

int
pl_inbox_apply (pl_inbox_t *self, pl_inbox_tx_t *const *txs, size_t n, int *results)
{
    /* Runs of consecutive transactions with the same tag, each one Lua call, all in one
     * pipeline. Keeping runs consecutive applies the transactions in the caller's order. */
    size_t *runs = malloc ((n + 1) * sizeof *runs);
    if (!runs)
        return PL_ENOMEM;
    size_t nruns = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || i - runs[nruns - 1] >= PL_INBOX_RUN_MAX || strcmp (S_TAG (txs[i]), S_TAG (txs[i - 1])) != 0)
            runs[nruns++] = i;
    runs[nruns] = n;
    self->errstr[0] = '\0';
    int rc = 0;
    size_t queued = 0;
    for (; queued < nruns; queued++) {
        rc = s_queue_run (self, txs + runs[queued], runs[queued + 1] - runs[queued]);
        if (rc != 0)
            break;
    }
    /* Read every queued reply, even after a failure, to keep the connection in step. */
    for (size_t k = 0; k < queued; k++) {
        int r = s_read_run (self, txs + runs[k], runs[k + 1] - runs[k], results + runs[k]);
        if (r != 0)
            rc = r;
        if (r != 0 && pl_redis_pending (self->redis) == 0 && k + 1 < queued)
            break;             /* the connection dropped: nothing more to read */
    }
    free (runs);
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
    redisReply *r = pl_redis_command (self->redis, "HEXISTS %s %s", key, message_id);
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
