/*  inbox.c — atomic steps: effect, seen marker and emitted messages in one script (see inbox.h). */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plateau/error.h"
#include "plateau/failpoint.h"
#include "plateau/id.h"
#include "plateau/inbox.h"
#include "redis_int.h"

/* One loaded script per effect: the plain-commands one, and one per service effect met. */
typedef struct {
    const pl_inbox_effect_t *effect;   /* NULL: plain commands */
    pl_redis_script_t *script;
} s_script_t;

#define S_EFFECTS_MAX 16

struct pl_inbox {
    pl_redis_t *redis;
    /* A sending waiting for its replies (pl_inbox_send, then pl_inbox_recv). */
    bool sent;
    int send_rc;
    size_t nsent, nqueued, runs_cap;
    size_t *runs;
    int *queued_per;
    s_script_t scripts[S_EFFECTS_MAX];
    size_t nscripts;
    char *service;
    char ttl[24];
    char errstr[256];
};

/* A step keeps its strings back to back in one buffer, so that building one costs a single
 * allocation in the common case (a few short commands): receivers build one per message,
 * hundreds of thousands per second. */
#define PL_INBOX_TX_INLINE_BYTES 256
#define PL_INBOX_TX_INLINE_ARGS 12
#define S_TX_OUTBOXES_MAX 8        /* destinations one step may emit to */

typedef struct {
    size_t off, len;
} s_arg_t;

struct pl_inbox_tx {
    size_t tag_len, id_len;    /* tag then message id open the buffer, each NUL-terminated */
    bool has_id;
    const pl_inbox_effect_t *effect;
    size_t nkeys;              /* effect keys: the first nkeys arguments */
    size_t neffect;            /* arguments of the effect (keys included, or the commands) */
    size_t nmsgs;              /* then 4 arguments per message: slot key, id, type, envelope */
    /* The script's arguments for this step, each NUL-terminated in buf. For commands: for each
     * command its argc then its arguments. */
    size_t argc, cap;
    s_arg_t *args;
    char *buf;
    size_t used, size;
    struct s_msg {
        char *slot, *id, *type;
        uint8_t *data;
        size_t size;
    } *msgs;
    const pl_outbox_t *outboxes[S_TX_OUTBOXES_MAX];   /* the messages' destinations (distinct) */
    char *before;              /* commands to send ahead of the step: argc, then each argument as
                                * u32 length and bytes, back to back */
    size_t before_len, before_n;
    size_t noutboxes;
    char *reply;
    size_t reply_len;
    s_arg_t inline_args[PL_INBOX_TX_INLINE_ARGS];
    char inline_buf[PL_INBOX_TX_INLINE_BYTES];
};

#define S_TAG(tx) ((tx)->buf)
#define S_ID(tx) ((tx)->buf + (tx)->tag_len + 1)

/* One call applies a run of steps that share a hash tag and an effect (so that it stays on one
 * Redis Cluster node): a Lua call costs Redis more than the few commands inside it, and a batch
 * of 500 messages in one call is several times cheaper than 500 calls.
 *
 * KEYS: for each step its seen bucket (or, without a message id, a key naming its tag, never
 * touched). ARGV[1]: bucket ttl ms; then for each step: the number of arguments that follow for
 * it, its message id ("" for none), the number of its effect's arguments (keys included), for a
 * service's effect the number of keys among them, the effect's arguments, then 4 per message:
 * slot, id, type, data.
 * Returns one status per step (1 applied now, 0 seen before, -1 failed), then a pair (step
 * index, reply) for each step whose reply is not empty — the stored one for a duplicate, the
 * error text for a failure — so that steps without replies (plain commands) cost what they did
 * before replies existed. */
static const char *s_lua_head =
    "local out, replies = {}, {}\n"
    "local expiring = {}\n"
    "local i = 2\n"
    "for k = 1, #KEYS do\n"
    "  local stop = i + tonumber(ARGV[i])\n"
    "  local id = ARGV[i + 1]\n"
    "  local na = tonumber(ARGV[i + 2])\n"
    "  local p = i + 3\n"
    "  local fresh = true\n"
    "  if id ~= '' then\n"
    "    if redis.call('HSETNX', KEYS[k], id, '') == 1 then\n"
    "      if not expiring[KEYS[k]] then\n"
    "        redis.call('PEXPIRE', KEYS[k], ARGV[1])\n"
    "        expiring[KEYS[k]] = true\n"
    "      end\n"
    "    else\n"
    "      fresh = false\n"
    "    end\n"
    "  end\n"
    "  if fresh then\n"
    "    local reply, emit, err = nil, true, nil\n";
/* Plain commands: argc then arguments, each command in turn. */
static const char *s_lua_cmds =
    "    local j, last = p, p + na - 1\n"
    "    while j <= last do\n"
    "      local n = tonumber(ARGV[j])\n"
    "      local r = redis.pcall(unpack(ARGV, j + 1, j + n))\n"
    "      if type(r) == 'table' and r.err then err = r.err break end\n"
    "      j = j + n + 1\n"
    "    end\n";
/* A service's effect, defined above the loop as s_effect(K, A). */
static const char *s_lua_effect =
    "    local nk = tonumber(ARGV[p])\n"
    "    p = p + 1\n"
    "    local K, A = {unpack(ARGV, p, p + nk - 1)}, {unpack(ARGV, p + nk, p + na - 1)}\n"
    "    local ok, r, e = pcall(s_effect, K, A)\n"
    "    if ok then reply, emit = r, e else err = type(r) == 'table' and r.err or tostring(r) end\n";
static const char *s_lua_tail =
    "    if err then\n"
    "      out[k] = -1\n"
    "      replies[#replies + 1] = k\n"
    "      replies[#replies + 1] = err\n"
    "    else\n"
    "      if emit ~= false and emit ~= 'again' then\n"
    "        for m = p + na, stop - 3, 4 do\n"
    "          redis.call('XADD', ARGV[m], '*', 'i', ARGV[m + 1], 't', ARGV[m + 2], 'e', ARGV[m + 3])\n"
    "        end\n"
    "      end\n"
    "      out[k] = 1\n"
    "      if emit == 'again' and id ~= '' then redis.call('HDEL', KEYS[k], id) end\n"
    "      if type(reply) == 'string' and reply ~= '' then\n"
    "        if id ~= '' and emit ~= 'again' then redis.call('HSET', KEYS[k], id, reply) end\n"
    "        replies[#replies + 1] = k\n"
    "        replies[#replies + 1] = reply\n"
    "      end\n"
    "    end\n"
    "  else\n"
    "    out[k] = 0\n"
    "    local r = redis.call('HGET', KEYS[k], id)\n"
    "    if r and r ~= '' then\n"
    "      replies[#replies + 1] = k\n"
    "      replies[#replies + 1] = r\n"
    "    end\n"
    "  end\n"
    "  i = stop + 1\n"
    "end\n"
    "local n = #KEYS\n"
    "for x = 1, #replies do out[n + x] = replies[x] end\n"
    "return out\n";

/* Steps per call: bounds how long one call holds Redis (well under a millisecond). */
#define PL_INBOX_RUN_MAX 512

/* The script of an effect on this inbox's connection, loaded on first use. */
static pl_redis_script_t *
s_script (pl_inbox_t *self, const pl_inbox_effect_t *effect)
{
    for (size_t i = 0; i < self->nscripts; i++)
        if (self->scripts[i].effect == effect)
            return self->scripts[i].script;
    if (self->nscripts == S_EFFECTS_MAX)
        return NULL;
    char *lua = NULL;
    int len = effect ? asprintf (&lua, "local function s_effect(K, A)\n%s\nend\n%s%s%s", effect->lua,
                                 s_lua_head, s_lua_effect, s_lua_tail)
                     : asprintf (&lua, "%s%s%s", s_lua_head, s_lua_cmds, s_lua_tail);
    if (len < 0)
        return NULL;
    pl_redis_script_t *script = pl_redis_script_new (lua);
    free (lua);
    if (script) {
        self->scripts[self->nscripts].effect = effect;
        self->scripts[self->nscripts++].script = script;
    }
    return script;
}

pl_inbox_t *
pl_inbox_new (pl_redis_t *redis, const char *service, int64_t ttl_ms)
{
    pl_inbox_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->redis = redis;
    self->service = strdup (service);
    /* A day bucket must outlive the last message of its day by the whole TTL. */
    snprintf (self->ttl, sizeof self->ttl, "%lld",
              (long long) ((ttl_ms > 0 ? ttl_ms : PL_INBOX_DEFAULT_TTL_MS) + 86400000LL));
    if (!self->service || !s_script (self, NULL))
        pl_inbox_destroy (&self);
    return self;
}

void
pl_inbox_destroy (pl_inbox_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pl_inbox_t *self = *self_p;
    for (size_t i = 0; i < self->nscripts; i++)
        pl_redis_script_destroy (&self->scripts[i].script);
    free (self->runs);
    free (self->queued_per);
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
    tx->has_id = message_id != NULL;
    tx->effect = NULL;
    tx->nkeys = tx->neffect = tx->nmsgs = 0;
    tx->msgs = NULL;
    tx->noutboxes = 0;
    tx->before = NULL;
    tx->before_len = tx->before_n = 0;
    tx->reply = NULL;
    tx->reply_len = 0;
    tx->tag_len = strlen (tag);
    tx->id_len = message_id ? strlen (message_id) : 0;
    if (s_append (tx, tag, tx->tag_len) < 0 || s_append (tx, message_id ? message_id : "", tx->id_len) < 0)
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
    for (size_t i = 0; i < tx->nmsgs; i++) {
        free (tx->msgs[i].slot);
        free (tx->msgs[i].id);
        free (tx->msgs[i].type);
        free (tx->msgs[i].data);
    }
    free (tx->msgs);
    free (tx->before);
    free (tx->reply);
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

/* Whether key is in the slot of the step's tag: a step runs whole on one node of a cluster, so
 * a key elsewhere is a bug the cluster would refuse; refused here in every mode. */
static bool
s_in_tag_slot (const pl_inbox_tx_t *tx, const char *key, size_t len)
{
    return pl_redis_key_slot (key, len) == pl_redis_key_slot (tx->buf, tx->tag_len);
}

int
pl_inbox_tx_cmd (pl_inbox_tx_t *tx, int argc, const char *const *argv, const size_t *argvlen)
{
    if (argc <= 0 || tx->effect)
        return PL_EINVAL;
    if (argc >= 2 && !s_in_tag_slot (tx, argv[1], argvlen ? argvlen[1] : strlen (argv[1])))
        return PL_EINVAL;
    char n[16];
    int len = snprintf (n, sizeof n, "%d", argc);
    int rc = s_push (tx, n, (size_t) len);
    for (int i = 0; rc == 0 && i < argc; i++)
        rc = s_push (tx, argv[i], argvlen ? argvlen[i] : strlen (argv[i]));
    tx->neffect = tx->argc;
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

int
pl_inbox_tx_effect (pl_inbox_tx_t *tx, const pl_inbox_effect_t *effect, int nkeys, const char *const *keys,
                    int nargs, const char *const *args, const size_t *lens)
{
    if (!effect || tx->effect || tx->argc || nkeys < 0 || nargs < 0)
        return PL_EINVAL;
    for (int i = 0; i < nkeys; i++)
        if (!s_in_tag_slot (tx, keys[i], strlen (keys[i])))
            return PL_EINVAL;
    int rc = 0;
    for (int i = 0; rc == 0 && i < nkeys; i++)
        rc = s_push (tx, keys[i], strlen (keys[i]));
    for (int i = 0; rc == 0 && i < nargs; i++)
        rc = s_push (tx, args[i], lens ? lens[i] : strlen (args[i]));
    if (rc != 0)
        return rc;
    tx->effect = effect;
    tx->nkeys = (size_t) nkeys;
    tx->neffect = tx->argc;
    return 0;
}

int
pl_inbox_tx_emit (pl_inbox_tx_t *tx, const pl_outbox_t *outbox, pl_envelope_t *env)
{
    struct s_msg *m = realloc (tx->msgs, (tx->nmsgs + 1) * sizeof *m);
    if (!m)
        return PL_ENOMEM;
    tx->msgs = m;
    m = &tx->msgs[tx->nmsgs];
    memset (m, 0, sizeof *m);
    char slot[512];
    pl_outbox_slot_key (outbox, S_TAG (tx), slot, sizeof slot);
    m->data = pl_envelope_pack (env, &m->size);
    m->slot = strdup (slot);
    m->id = strdup (env->id);
    m->type = strdup (env->type);
    if (!m->data || !m->slot || !m->id || !m->type) {
        free (m->data);
        free (m->slot);
        free (m->id);
        free (m->type);
        return PL_ENOMEM;
    }
    tx->nmsgs++;
    for (size_t i = 0; i < tx->noutboxes; i++)
        if (tx->outboxes[i] == outbox)
            return 0;
    if (tx->noutboxes == S_TX_OUTBOXES_MAX)
        return PL_EINVAL;
    tx->outboxes[tx->noutboxes++] = outbox;
    return 0;
}

const char *
pl_inbox_tx_reply (const pl_inbox_tx_t *tx, size_t *len)
{
    if (len)
        *len = tx->reply ? tx->reply_len : 0;
    return tx->reply ? tx->reply : "";
}

int
pl_inbox_tx_before (pl_inbox_tx_t *tx, int argc, const char *const *argv, const size_t *argvlen)
{
    if (argc <= 0 || argc > 64)
        return PL_EINVAL;
    size_t add = sizeof (uint32_t);
    for (int i = 0; i < argc; i++)
        add += sizeof (uint32_t) + (argvlen ? argvlen[i] : strlen (argv[i]));
    char *b = realloc (tx->before, tx->before_len + add);
    if (!b)
        return PL_ENOMEM;
    tx->before = b;
    char *w = b + tx->before_len;
    uint32_t n = (uint32_t) argc;
    memcpy (w, &n, sizeof n);
    w += sizeof n;
    for (int i = 0; i < argc; i++) {
        uint32_t len = (uint32_t) (argvlen ? argvlen[i] : strlen (argv[i]));
        memcpy (w, &len, sizeof len);
        w += sizeof len;
        memcpy (w, argv[i], len);
        w += len;
    }
    tx->before_len += add;
    tx->before_n++;
    return 0;
}

/* Queues the step's before-commands; returns how many, or a negative code. */
static int
s_queue_before (pl_inbox_t *self, const pl_inbox_tx_t *tx)
{
    const char *r = tx->before, *end = tx->before + tx->before_len;
    int queued = 0;
    while (r < end) {
        uint32_t argc;
        memcpy (&argc, r, sizeof argc);
        r += sizeof argc;
        const char *argv[64];
        size_t lens[64];
        for (uint32_t i = 0; i < argc; i++) {
            uint32_t len;
            memcpy (&len, r, sizeof len);
            r += sizeof len;
            argv[i] = r;
            lens[i] = len;
            r += len;
        }
        if (pl_redis_appendv (self->redis, (int) argc, argv, lens) != 0)
            return PL_EREDIS;
        queued++;
    }
    return queued;
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

/* Writes the KEYS entry of a step: its seen bucket, or for a step without a message id a key
 * that only names its tag (routing on Redis Cluster; never touched). */
static size_t
s_step_key (const pl_inbox_t *self, char *out, const pl_inbox_tx_t *tx)
{
    if (tx->has_id)
        return s_seen_write (self, out, S_TAG (tx), tx->tag_len, S_ID (tx), tx->id_len);
    return (size_t) sprintf (out, "pl:{%s}", S_TAG (tx));
}

/* Writes v in decimal at out (room for 16 bytes); returns its length. Cheaper than snprintf,
 * which a receiver would call several times per message. */
static size_t
s_utoa (char *out, size_t v)
{
    char tmp[24];
    size_t n = 0;
    do
        tmp[n++] = (char) ('0' + v % 10);
    while ((v /= 10) && n < 15);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    return n;
}

/* Queues one call for txs[0..n) (same tag and effect), preceded by the registry bumps of the
 * outboxes its messages go to. Returns the number of replies queued, or a negative code. */
static int
s_queue_run (pl_inbox_t *self, pl_inbox_tx_t *const *txs, size_t n)
{
    pl_redis_script_t *script = s_script (self, txs[0]->effect);
    if (!script) {
        snprintf (self->errstr, sizeof self->errstr, "inbox: cannot load effect %s",
                  txs[0]->effect ? txs[0]->effect->name : "commands");
        return PL_ENOMEM;
    }
    int queued = 0;
    /* Registry first: the client must know where to look before the messages exist. A run has
     * few distinct destinations: they are collected in a small list. */
    const char *tag = S_TAG (txs[0]);
    const pl_outbox_t *seen[16];
    size_t nseen = 0;
    for (size_t k = 0; k < n; k++)
        for (size_t r = 0; r < txs[k]->noutboxes; r++) {
            const pl_outbox_t *ob = txs[k]->outboxes[r];
            bool dup = false;
            for (size_t q = 0; q < nseen && !dup; q++)
                dup = seen[q] == ob;
            if (dup)
                continue;
            if (pl_redis_append (self->redis, "ZINCRBY %s 1 %s", pl_outbox_registry_key (ob), tag) != 0)
                return PL_EREDIS;
            queued++;
            if (nseen < sizeof seen / sizeof seen[0])
                seen[nseen++] = ob;
        }
    /* Then what the steps need in place before them, in other slots (an index, say). */
    for (size_t k = 0; k < n; k++) {
        if (!txs[k]->before_n)
            continue;
        int b = s_queue_before (self, txs[k]);
        if (b < 0)
            return b;
        queued += b;
    }
    size_t argc = n + 1, keys_size = 0;
    for (size_t k = 0; k < n; k++) {
        argc += 3 + (txs[k]->effect ? 1 : 0) + txs[k]->argc + 4 * txs[k]->nmsgs;
        keys_size += s_seen_len (self, S_TAG (txs[k]), txs[k]->tag_len, txs[k]->id_len);
    }
    const char **argv = malloc (argc * sizeof *argv);
    size_t *argvlen = malloc (argc * sizeof *argvlen);
    char (*counts)[3][16] = malloc (n * sizeof *counts);
    char *keys = malloc (keys_size);
    int rc = PL_ENOMEM;
    if (!argv || !argvlen || !counts || !keys)
        goto done;
    char *key = keys;
    for (size_t k = 0; k < n; k++) {
        argv[k] = key;
        argvlen[k] = s_step_key (self, key, txs[k]);
        key += argvlen[k] + 1;
    }
    size_t a = n;
    argv[a] = self->ttl;
    argvlen[a++] = strlen (self->ttl);
    for (size_t k = 0; k < n; k++) {
        pl_inbox_tx_t *tx = txs[k];
        bool effect = tx->effect != NULL;
        argvlen[a] = s_utoa (counts[k][0], 2 + (effect ? 1 : 0) + tx->argc + 4 * tx->nmsgs);
        argv[a++] = counts[k][0];
        argv[a] = S_ID (tx);
        argvlen[a++] = tx->id_len;
        argvlen[a] = s_utoa (counts[k][1], tx->neffect);
        argv[a++] = counts[k][1];
        if (effect) {
            argvlen[a] = s_utoa (counts[k][2], tx->nkeys);
            argv[a++] = counts[k][2];
        }
        for (size_t i = 0; i < tx->argc; i++) {
            argv[a] = tx->buf + tx->args[i].off;
            argvlen[a++] = tx->args[i].len;
        }
        for (size_t i = 0; i < tx->nmsgs; i++) {
            const struct s_msg *m = &tx->msgs[i];
            argv[a] = m->slot;
            argvlen[a++] = strlen (m->slot);
            argv[a] = m->id;
            argvlen[a++] = strlen (m->id);
            argv[a] = m->type;
            argvlen[a++] = strlen (m->type);
            argv[a] = (const char *) m->data;
            argvlen[a++] = m->size;
        }
    }
    rc = pl_redis_append_eval (self->redis, script, (int) n, (int) argc, argv, argvlen);
    if (rc == 0)
        queued++;
done:
    free (keys);
    free (argv);
    free (argvlen);
    free (counts);
    return rc == 0 ? queued : rc;
}

static void
s_set_reply (pl_inbox_tx_t *tx, const char *s, size_t len)
{
    if (len == 0 && !tx->reply)
        return;
    free (tx->reply);
    tx->reply = malloc (len + 1);
    if (tx->reply) {
        memcpy (tx->reply, s, len);
        tx->reply[len] = '\0';
    }
    tx->reply_len = tx->reply ? len : 0;
}

/* Reads the replies of one queued run (registry bumps, then the call) into results[0..n). */
static int
s_read_run (pl_inbox_t *self, pl_inbox_tx_t *const *txs, size_t n, int queued, int *results)
{
    int rc = 0;
    for (size_t k = 0; k < n; k++) {
        results[k] = -1;
        free (txs[k]->reply);            /* a step applied again answers afresh */
        txs[k]->reply = NULL;
        txs[k]->reply_len = 0;
    }
    for (int q = 0; q < queued; q++) {
        redisReply *r = NULL;
        if (pl__redis_get_reply (self->redis, &r) != 0) {
            snprintf (self->errstr, sizeof self->errstr, "inbox: %s", pl_redis_errstr (self->redis));
            return PL_EREDIS;
        }
        if (q + 1 < queued) {            /* a registry bump or a before-command */
            if (r->type == REDIS_REPLY_ERROR && rc == 0) {
                snprintf (self->errstr, sizeof self->errstr, "inbox before the step: %s", r->str);
                rc = PL_EREDIS;
            }
            freeReplyObject (r);
            continue;
        }
        if (r->type != REDIS_REPLY_ARRAY || r->elements < n || (r->elements - n) % 2 != 0) {
            snprintf (self->errstr, sizeof self->errstr, "inbox apply %s: %s", S_ID (txs[0]),
                      r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
            rc = PL_EREDIS;
            freeReplyObject (r);
            continue;
        }
        for (size_t k = 0; k < n; k++) {
            redisReply *st = r->element[k];
            results[k] = st->type == REDIS_REPLY_INTEGER ? (int) st->integer : -1;
        }
        for (size_t e = n; e + 1 < r->elements; e += 2) {
            redisReply *ix = r->element[e], *rep = r->element[e + 1];
            if (ix->type == REDIS_REPLY_INTEGER && ix->integer >= 1 && (size_t) ix->integer <= n
                && rep->type == REDIS_REPLY_STRING)
                s_set_reply (txs[ix->integer - 1], rep->str, rep->len);
        }
        for (size_t k = 0; k < n; k++)
            if (results[k] < 0) {
                if (!self->errstr[0])      /* the first failure is the one reported */
                    snprintf (self->errstr, sizeof self->errstr, "inbox apply %s%s%s: %s",
                              txs[k]->effect ? txs[k]->effect->name : "", txs[k]->effect ? " " : "",
                              S_ID (txs[k]), pl_inbox_tx_reply (txs[k], NULL));
                rc = PL_EREDIS;
            }
        freeReplyObject (r);
    }
    return rc;
}

int
pl_inbox_send (pl_inbox_t *self, pl_inbox_tx_t *const *txs, size_t n)
{
    if (self->sent)
        return PL_EINVAL;                /* the last sending was not received */
    /* Runs of consecutive steps with the same tag and effect, each one Lua call, all in one
     * pipeline. Keeping runs consecutive applies the steps in the caller's order. */
    if (n + 1 > self->runs_cap) {
        size_t *runs = realloc (self->runs, (n + 1) * sizeof *runs);
        int *queued_per = runs ? realloc (self->queued_per, (n + 1) * sizeof *queued_per) : NULL;
        if (runs)
            self->runs = runs;
        if (!runs || !queued_per)
            return PL_ENOMEM;
        self->queued_per = queued_per;
        self->runs_cap = n + 1;
    }
    size_t *runs = self->runs, nruns = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || i - runs[nruns - 1] >= PL_INBOX_RUN_MAX || txs[i]->effect != txs[i - 1]->effect
            || strcmp (S_TAG (txs[i]), S_TAG (txs[i - 1])) != 0)
            runs[nruns++] = i;
    runs[nruns] = n;
    self->errstr[0] = '\0';
    self->send_rc = 0;
    /* Every run's script loaded first, while nothing is pending: the pipeline then calls them
     * by SHA, never with their bodies (which Redis would hash at every call). */
    for (size_t r = 0; r < nruns; r++) {
        pl_redis_script_t *script = s_script (self, txs[runs[r]]->effect);
        if (script)
            pl_redis_script_ready (self->redis, script);
    }
    size_t queued = 0;
    for (; queued < nruns; queued++) {
        int q = s_queue_run (self, txs + runs[queued], runs[queued + 1] - runs[queued]);
        if (q < 0) {
            self->send_rc = q;
            break;
        }
        self->queued_per[queued] = q;
    }
    self->nqueued = queued;
    self->nsent = n;
    self->sent = true;
    pl_failpoint ("inbox.queued");
    if (queued && pl_redis_flush (self->redis) != 0)
        self->send_rc = PL_EREDIS;       /* the replies will not come: recv says so */
    return 0;
}

int
pl_inbox_recv (pl_inbox_t *self, pl_inbox_tx_t *const *txs, size_t n, int *results)
{
    if (!self->sent || n != self->nsent)
        return PL_EINVAL;
    self->sent = false;
    for (size_t i = 0; i < n; i++)
        results[i] = -1;
    int rc = self->send_rc;
    const size_t *runs = self->runs;
    /* Read every queued reply, even after a failure, to keep the connection in step. */
    for (size_t k = 0; k < self->nqueued; k++) {
        int r = s_read_run (self, txs + runs[k], runs[k + 1] - runs[k], self->queued_per[k], results + runs[k]);
        if (k == 0)
            pl_failpoint ("inbox.reading");
        if (r != 0)
            rc = r;
        if (r != 0 && pl_redis_pending (self->redis) == 0 && k + 1 < self->nqueued)
            break;             /* the connection dropped: nothing more to read */
    }
    /* PLATEAU_REDIS_WAIT_REPLICAS: a step is acknowledged only once on N replicas too, or a
     * failover could forget it after the caller acknowledged. A shortfall fails every step of
     * the batch (duplicates too: their first application may be the unreplicated one); the
     * steps are idempotent, so the caller's retry is safe. */
    if (rc == 0 && n > 0 && pl_redis_wait (self->redis) != 0) {
        rc = PL_EREDIS;
        snprintf (self->errstr, sizeof self->errstr, "inbox: %s", pl_redis_errstr (self->redis));
        for (size_t i = 0; i < n; i++) {
            results[i] = -1;
            s_set_reply (txs[i], self->errstr, strlen (self->errstr));
        }
    }
    pl_failpoint ("inbox.applied");
    if (rc != 0 && !self->errstr[0])
        snprintf (self->errstr, sizeof self->errstr, "inbox: %s", pl_redis_errstr (self->redis));
    return rc;
}

int
pl_inbox_apply (pl_inbox_t *self, pl_inbox_tx_t *const *txs, size_t n, int *results)
{
    int rc = pl_inbox_send (self, txs, n);
    return rc != 0 ? rc : pl_inbox_recv (self, txs, n, results);
}

int
pl_inbox_seen (pl_inbox_t *self, const char *tag, const char *message_id)
{
    char *key = s_seen_key (self, tag, message_id);
    if (!key)
        return PL_ENOMEM;
    redisReply *r = pl__redis_command (self->redis, "HEXISTS %s %s", key, message_id);
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
