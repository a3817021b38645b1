/*  redis.c — connection, Sentinel discovery, Cluster routing, reconnect with backoff,
 *  pipelining, scripts, WAIT (see redis.h). */
#include <ctype.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "plateau/clock.h"
#include "plateau/error.h"
#include "redis_int.h"

#define PL_REDIS_BACKOFF_MIN_MS 100
#define PL_REDIS_BACKOFF_MAX_MS 5000
#define PL_REDIS_SENTINELS_MAX 16
#define PL_REDIS_SENTINEL_PORT 26379
#define PL_REDIS_NODES_MAX 64
#define PL_REDIS_SLOTS 16384
#define PL_REDIS_NO_NODE 0xffff
#define PL_REDIS_REDIRECTS_MAX 8

/* Cluster mode: a master node and its connection, and the entries whose replies it owes, in the
 * order they were sent (-1: an ASKING whose +OK is read and dropped). */
typedef struct {
    char *host;
    int port;
    redisContext *ctx;
    int *fifo;
    size_t fhead, flen, fcap;
} s_node_t;

/* Cluster mode: one command of the pipeline, kept formatted until its reply is taken, so that a
 * MOVED or ASK sends it again to the node named. */
typedef struct {
    char *cmd;
    size_t len;
    int node;                  /* whose reply it waits for */
    redisReply *reply;         /* read ahead of its turn (another entry's node was read) */
    int redirects;
} s_pend_t;

/* Process-wide WAIT default, taken by pl_redis_new (set once at startup: pl_redis_set_default_wait). */
static int s_default_wait_replicas;
static int s_default_wait_timeout_ms = 1000;

struct pl_redis {
    char *host;                /* NULL for unix sockets; in Sentinel mode, the master found last */
    int port;
    /* Sentinel mode (redis+sentinel://): nsentinels > 0. */
    struct { char *host; int port; } sentinels[PL_REDIS_SENTINELS_MAX];
    int nsentinels;
    int next_sentinel;         /* asked first: the one that answered last */
    char *master_name;
    bool stale;                /* an error reply said "not a usable master": drop once idle */
    int wait_replicas;         /* pl_redis_wait: 0 = off */
    int wait_timeout_ms;
    char *path;                /* unix socket path */
    char *password;
    int db;
    int timeout_ms;
    redisContext *ctx;
    int pending;
    int64_t next_try_ms;       /* backoff: no reconnect before this monotonic time */
    int backoff_ms;
    atomic_bool ok;
    _Atomic uint64_t generation;
    uint64_t script_epoch;           /* bumped by a NOSCRIPT reply: scripts are sent again */
    /* Cluster mode (redis+cluster://): cluster is set; seeds are the URL's nodes. */
    bool cluster;
    struct { char *host; int port; } seeds[PL_REDIS_SENTINELS_MAX];
    int nseeds;
    s_node_t nodes[PL_REDIS_NODES_MAX];
    int nnodes;
    bool mapped;               /* slots[] read from CLUSTER SLOTS since the last drop */
    bool remap;                /* a MOVED said the map is out of date: read again when idle */
    uint16_t *slots;           /* slot → node index */
    s_pend_t *pend;            /* the pipeline: [phead, ptail) waiting, in the caller's order */
    size_t phead, ptail, pcap;
    char errstr[256];
};

struct pl_redis_script {
    char *lua;
    char sha[41];
    uint64_t loaded_generation;    /* s_script_gen when loaded; 0 = never */
};

static void
s_free_parsed (pl_redis_t *self)
{
    free (self->host);
    free (self->path);
    free (self->password);
    free (self->master_name);
    for (int i = 0; i < self->nsentinels; i++)
        free (self->sentinels[i].host);
    for (int i = 0; i < self->nseeds; i++)
        free (self->seeds[i].host);
    self->host = self->path = self->password = self->master_name = NULL;
    self->nsentinels = self->nseeds = 0;
}

/* redis+cluster://[:password@]host:port[,host:port…][/]: the seeds, any of the cluster's
 * masters; the others are found with CLUSTER SLOTS. Database 0 only (a cluster has no other). */
static int
s_parse_cluster (const char *url, pl_redis_t *out, char *err, size_t err_size)
{
    pl_redis_t tmp = { 0 };
    int rc = PL_EINVAL;
#define CFAIL(...) do { if (err) snprintf (err, err_size, __VA_ARGS__); goto done; } while (0)
    const char *p = url + 16;
    const char *end = p + strcspn (p, "/");
    if (*end == '/' && end[1])
        CFAIL ("cluster URL: a cluster has database 0 only; expected redis+cluster://[:password@]"
               "host:port[,host:port…] in '%s'", url);
    const char *at = memchr (p, '@', (size_t) (end - p));
    if (at) {
        const char *colon = memchr (p, ':', (size_t) (at - p));
        if (!colon)
            CFAIL ("cluster URL: credentials must be ':password@' in '%s'", url);
        tmp.password = strndup (colon + 1, (size_t) (at - colon - 1));
        p = at + 1;
    }
    if (p == end)
        CFAIL ("cluster URL: expected redis+cluster://[:password@]host:port[,host:port…], no node in '%s'", url);
    while (p < end) {
        const char *e = memchr (p, ',', (size_t) (end - p));
        if (!e)
            e = end;
        const char *colon = memchr (p, ':', (size_t) (e - p));
        if (!colon || colon == p)
            CFAIL ("cluster URL: each node is host:port in '%s'", url);
        char *x;
        long v = strtol (colon + 1, &x, 10);
        if (x != e || v <= 0 || v > 65535)
            CFAIL ("cluster URL: port must be 1-65535 in '%s'", url);
        if (tmp.nseeds == PL_REDIS_SENTINELS_MAX)
            CFAIL ("cluster URL: more than %d nodes in '%s'", PL_REDIS_SENTINELS_MAX, url);
        tmp.seeds[tmp.nseeds].host = strndup (p, (size_t) (colon - p));
        tmp.seeds[tmp.nseeds++].port = (int) v;
        p = *e == ',' ? e + 1 : e;
        if (*e == ',' && p == end)
            CFAIL ("cluster URL: empty node after ',' in '%s'", url);
    }
    rc = 0;
    if (out) {
        out->password = tmp.password;
        out->nseeds = tmp.nseeds;
        memcpy (out->seeds, tmp.seeds, sizeof tmp.seeds);
        out->cluster = true;
        return 0;
    }
done:
    s_free_parsed (&tmp);
    return rc;
#undef CFAIL
}

/* redis+sentinel://[:password@]host[:port][,host[:port]…]/<master name>[/db]. The password is
 * the data nodes' (the sentinels are asked without AUTH); a port defaults to 26379. */
static int
s_parse_sentinel (const char *url, pl_redis_t *out, char *err, size_t err_size)
{
    pl_redis_t tmp = { 0 };
    int rc = PL_EINVAL;
#define SFAIL(...) do { if (err) snprintf (err, err_size, __VA_ARGS__); goto done; } while (0)
    const char *p = url + 17;
    const char *slash = strchr (p, '/');
    const char *at = memchr (p, '@', slash ? (size_t) (slash - p) : strlen (p));
    if (at) {
        const char *colon = memchr (p, ':', (size_t) (at - p));
        if (!colon)
            SFAIL ("sentinel URL: credentials must be ':password@' in '%s'", url);
        tmp.password = strndup (colon + 1, (size_t) (at - colon - 1));
        p = at + 1;
    }
    if (!slash || slash == p)
        SFAIL ("sentinel URL: expected redis+sentinel://[:password@]host:port[,host:port…]/master"
               "[/db], %s in '%s'", slash ? "no sentinel address" : "no /master name", url);
    while (p < slash) {
        const char *end = memchr (p, ',', (size_t) (slash - p));
        if (!end)
            end = slash;
        const char *colon = memchr (p, ':', (size_t) (end - p));
        const char *host_end = colon ? colon : end;
        if (host_end == p)
            SFAIL ("sentinel URL: empty sentinel host in '%s'", url);
        int port = PL_REDIS_SENTINEL_PORT;
        if (colon) {
            char *e;
            long v = strtol (colon + 1, &e, 10);
            if (e != end || v <= 0 || v > 65535)
                SFAIL ("sentinel URL: sentinel port must be 1-65535 in '%s'", url);
            port = (int) v;
        }
        if (tmp.nsentinels == PL_REDIS_SENTINELS_MAX)
            SFAIL ("sentinel URL: more than %d sentinels in '%s'", PL_REDIS_SENTINELS_MAX, url);
        tmp.sentinels[tmp.nsentinels].host = strndup (p, (size_t) (host_end - p));
        tmp.sentinels[tmp.nsentinels++].port = port;
        p = *end == ',' ? end + 1 : end;
        if (*end == ',' && p == slash)
            SFAIL ("sentinel URL: empty sentinel address after ',' in '%s'", url);
    }
    const char *name = slash + 1;
    const char *name_end = name + strcspn (name, "/");
    if (name_end == name)
        SFAIL ("sentinel URL: missing master name after the sentinels in '%s'", url);
    int db = 0;
    if (*name_end == '/' && name_end[1]) {
        char *e;
        long v = strtol (name_end + 1, &e, 10);
        if (*e || v < 0 || v > 15 || !isdigit ((unsigned char) name_end[1]))
            SFAIL ("sentinel URL: database must be 0-15 in '%s'", url);
        db = (int) v;
    }
    tmp.master_name = strndup (name, (size_t) (name_end - name));
    tmp.db = db;
    rc = 0;
    if (out) {
        out->password = tmp.password;
        out->master_name = tmp.master_name;
        out->db = tmp.db;
        out->nsentinels = tmp.nsentinels;
        memcpy (out->sentinels, tmp.sentinels, sizeof tmp.sentinels);
        return 0;
    }
done:
    s_free_parsed (&tmp);
    return rc;
#undef SFAIL
}

static int
s_parse (const char *url, pl_redis_t *out, char *err, size_t err_size)
{
#define FAIL(...) do { if (err) snprintf (err, err_size, __VA_ARGS__); return PL_EINVAL; } while (0)
    if (!url || !*url)
        FAIL ("empty URL: expected redis://[:password@]host:port/db, "
              "redis+sentinel://[:password@]host:port[,host:port…]/master[/db] or unix:///path");
    if (strncmp (url, "redis+sentinel://", 17) == 0)
        return s_parse_sentinel (url, out, err, err_size);
    if (strncmp (url, "redis+cluster://", 16) == 0)
        return s_parse_cluster (url, out, err, err_size);
    if (strncmp (url, "unix://", 7) == 0) {
        const char *p = url + 7;
        if (*p != '/')
            FAIL ("unix URL needs an absolute path: unix:///path/to/redis.sock");
        const char *q = strchr (p, '?');
        size_t n = q ? (size_t) (q - p) : strlen (p);
        int db = 0;
        if (q) {
            if (strncmp (q, "?db=", 4) != 0 || !isdigit ((unsigned char) q[4]))
                FAIL ("unix URL option must be ?db=N");
            db = atoi (q + 4);
        }
        if (out) {
            out->path = strndup (p, n);
            out->db = db;
        }
        return 0;
    }
    if (strncmp (url, "redis://", 8) != 0)
        FAIL ("expected redis://[:password@]host:port/db, redis+sentinel://[:password@]host:port"
              "[,host:port…]/master[/db] or unix:///path, got '%s'", url);
    const char *p = url + 8;
    const char *at = strrchr (p, '@');
    char *password = NULL;
    if (at) {
        const char *colon = memchr (p, ':', (size_t) (at - p));
        if (!colon)
            FAIL ("credentials must be ':password@' or 'user:password@'");
        password = strndup (colon + 1, (size_t) (at - colon - 1));
        p = at + 1;
    }
    const char *end = p + strcspn (p, "/");
    const char *colon = memchr (p, ':', (size_t) (end - p));
    const char *host_end = colon ? colon : end;
    if (host_end == p) {
        free (password);
        FAIL ("missing host in '%s'", url);
    }
    int port = 6379;
    if (colon) {
        char *e;
        long v = strtol (colon + 1, &e, 10);
        if (e != end || v <= 0 || v > 65535) {
            free (password);
            FAIL ("port must be 1-65535 in '%s'", url);
        }
        port = (int) v;
    }
    int db = 0;
    if (*end == '/' && end[1]) {
        char *e;
        long v = strtol (end + 1, &e, 10);
        if (*e || v < 0 || v > 15) {
            free (password);
            FAIL ("database must be 0-15 in '%s'", url);
        }
        db = (int) v;
    }
    if (out) {
        out->host = strndup (p, (size_t) (host_end - p));
        out->port = port;
        out->db = db;
        out->password = password;
    }
    else
        free (password);
    return 0;
#undef FAIL
}

int
pl_redis_url_check (const char *url, char *err, size_t err_size)
{
    return s_parse (url, NULL, err, err_size);
}

pl_redis_t *
pl_redis_new (const char *url, int timeout_ms)
{
    pl_redis_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    if (s_parse (url, self, self->errstr, sizeof self->errstr) != 0) {
        free (self);
        return NULL;
    }
    self->timeout_ms = timeout_ms > 0 ? timeout_ms : 2000;
    self->backoff_ms = PL_REDIS_BACKOFF_MIN_MS;
    self->wait_replicas = s_default_wait_replicas;
    self->wait_timeout_ms = s_default_wait_timeout_ms;
    return self;
}

void
pl_redis_set_default_wait (int replicas, int timeout_ms)
{
    s_default_wait_replicas = replicas > 0 ? replicas : 0;
    s_default_wait_timeout_ms = timeout_ms > 0 ? timeout_ms : 1000;
}

void
pl_redis_set_wait (pl_redis_t *self, int replicas, int timeout_ms)
{
    self->wait_replicas = replicas > 0 ? replicas : 0;
    self->wait_timeout_ms = timeout_ms > 0 ? timeout_ms : 1000;
}

static void s_cluster_drop (pl_redis_t *self);

static void
s_drop (pl_redis_t *self, const char *why)
{
    if (why)
        snprintf (self->errstr, sizeof self->errstr, "redis: %s", why);
    if (self->cluster)
        s_cluster_drop (self);
    if (self->ctx)
        redisFree (self->ctx);
    self->ctx = NULL;
    self->pending = 0;
    self->stale = false;
    atomic_store (&self->ok, false);
    self->next_try_ms = pl_clock_mono_ms () + self->backoff_ms;
    self->backoff_ms = self->backoff_ms * 2 > PL_REDIS_BACKOFF_MAX_MS ? PL_REDIS_BACKOFF_MAX_MS
                                                                       : self->backoff_ms * 2;
}

void
pl_redis_destroy (pl_redis_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pl_redis_t *self = *self_p;
    if (self->ctx)
        redisFree (self->ctx);
    if (self->cluster)
        s_cluster_drop (self);
    for (int i = 0; i < self->nnodes; i++) {
        free (self->nodes[i].host);
        free (self->nodes[i].fifo);
    }
    free (self->pend);
    free (self->slots);
    s_free_parsed (self);
    free (self);
    *self_p = NULL;
}

/* AUTH and SELECT on a new connection: true, or false with the reason in why. */
static bool
s_session (pl_redis_t *self, redisContext *c, char *why, size_t why_size)
{
    if (self->password) {
        redisReply *r = redisCommand (c, "AUTH %s", self->password);
        bool good = r && r->type != REDIS_REPLY_ERROR;
        snprintf (why, why_size, "AUTH: %s", r && r->type == REDIS_REPLY_ERROR ? r->str : "failed");
        if (r)
            freeReplyObject (r);
        if (!good)
            return false;
    }
    if (self->db) {
        redisReply *r = redisCommand (c, "SELECT %d", self->db);
        bool good = r && r->type != REDIS_REPLY_ERROR;
        if (r)
            freeReplyObject (r);
        if (!good) {
            snprintf (why, why_size, "SELECT failed");
            return false;
        }
    }
    return true;
}

static redisContext *
s_open (const char *host, int port, struct timeval tv, char *why, size_t why_size)
{
    redisContext *c = redisConnectWithTimeout (host, port, tv);
    if (!c || c->err) {
        snprintf (why, why_size, "connect %s:%d: %s", host, port, c ? c->errstr : "out of memory");
        if (c)
            redisFree (c);
        return NULL;
    }
    redisSetTimeout (c, tv);
    return c;
}

/* Formats a failure into why (truncated as it must be: a reason, not data). */
static void s_why (char *why, size_t size, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));
static void
s_why (char *why, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (why, size, fmt, ap);
    va_end (ap);
}

/* Sentinel mode: asks each sentinel in turn for the master's address, and takes it only when
 * the node itself says ROLE master — a sentinel may lag behind a failover, and a demoted master
 * must not be written to. The most telling failure is left in why: an unreachable sentinel
 * says less than the master one of them named. */
static redisContext *
s_discover (pl_redis_t *self, struct timeval tv, char *why, size_t why_size)
{
    int told = 0;              /* 1: a sentinel was unreachable, 2: one answered, 3: the master failed */
#define WHY(level, ...) do { if ((level) >= told) { told = (level); s_why (why, why_size, __VA_ARGS__); } } while (0)
    for (int k = 0; k < self->nsentinels; k++) {
        int i = (self->next_sentinel + k) % self->nsentinels;
        const char *sh = self->sentinels[i].host;
        int sp = self->sentinels[i].port;
        char e[160];
        redisContext *s = s_open (sh, sp, tv, e, sizeof e);
        if (!s) {
            WHY (1, "sentinel %s", e);
            continue;
        }
        redisReply *r = redisCommand (s, "SENTINEL get-master-addr-by-name %s", self->master_name);
        char host[128] = "";
        int port = 0;
        if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2
            && r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING) {
            snprintf (host, sizeof host, "%s", r->element[0]->str);
            port = atoi (r->element[1]->str);
        }
        else
            WHY (2, "sentinel %s:%d: %s", sh, sp,
                      !r ? (s->errstr[0] ? s->errstr : "no reply")
                         : r->type == REDIS_REPLY_ERROR ? r->str : "does not know this master name");
        if (r)
            freeReplyObject (r);
        redisFree (s);
        if (!port)
            continue;
        redisContext *c = s_open (host, port, tv, e, sizeof e);
        if (!c) {
            WHY (3, "master from sentinel %s:%d: %s", sh, sp, e);
            continue;
        }
        if (!s_session (self, c, e, sizeof e)) {
            WHY (3, "master %s:%d: %s", host, port, e);
            redisFree (c);
            continue;
        }
        r = redisCommand (c, "ROLE");
        bool master = r && r->type == REDIS_REPLY_ARRAY && r->elements > 0
                      && r->element[0]->type == REDIS_REPLY_STRING && strcmp (r->element[0]->str, "master") == 0;
        if (!master)
            WHY (3, "%s:%d (master per sentinel %s:%d) says ROLE %s", host, port, sh, sp,
                      r && r->type == REDIS_REPLY_ARRAY && r->elements > 0 && r->element[0]->str
                          ? r->element[0]->str : "?");
        if (r)
            freeReplyObject (r);
        if (!master) {
            redisFree (c);
            continue;
        }
        self->next_sentinel = i;
        free (self->host);
        self->host = strdup (host);
        self->port = port;
        return c;
    }
    return NULL;
#undef WHY
}

/* ---- Cluster mode ------------------------------------------------------------------------- */

/* CRC16-CCITT (XMODEM), the cluster's key hash. */
static uint16_t
s_crc16 (const char *buf, size_t len)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t) ((uint8_t) buf[i] << 8);
        for (int k = 0; k < 8; k++)
            crc = crc & 0x8000 ? (uint16_t) ((crc << 1) ^ 0x1021) : (uint16_t) (crc << 1);
    }
    return crc;
}

int
pl_redis_key_slot (const char *key, size_t len)
{
    const char *open = memchr (key, '{', len);
    if (open) {
        size_t rest = len - (size_t) (open - key) - 1;
        const char *close = memchr (open + 1, '}', rest);
        if (close && close > open + 1)          /* a non-empty hash tag: only it is hashed */
            return s_crc16 (open + 1, (size_t) (close - open - 1)) & (PL_REDIS_SLOTS - 1);
    }
    return s_crc16 (key, len) & (PL_REDIS_SLOTS - 1);
}

/* Argument i of a formatted command ("*N\r\n$L\r\n…"): 0 with *arg and *alen, -1 past the end. */
static int
s_resp_arg (const char *cmd, size_t len, int i, const char **arg, size_t *alen)
{
    const char *p = cmd, *end = cmd + len;
    if (p >= end || *p != '*')
        return -1;
    long n = strtol (p + 1, NULL, 10);
    if (i < 0 || i >= n || !(p = memchr (p, '\n', (size_t) (end - p))))
        return -1;
    p++;
    for (int k = 0; k <= i; k++) {
        if (p >= end || *p != '$')
            return -1;
        long l = strtol (p + 1, NULL, 10);
        if (l < 0 || !(p = memchr (p, '\n', (size_t) (end - p))) || p + 1 + l + 2 > end)
            return -1;
        p++;
        if (k == i) {
            *arg = p;
            *alen = (size_t) l;
            return 0;
        }
        p += l + 2;
    }
    return -1;
}

static bool
s_arg_is (const char *a, size_t l, const char *word)
{
    return l == strlen (word) && strncasecmp (a, word, l) == 0;
}

/* The slot a formatted command goes to: the slot of its keys, -1 for a command without a key
 * (any node), -2 for keys in different slots (a script or command the cluster would refuse). */
static int
s_command_slot (const char *cmd, size_t len)
{
    const char *a;
    size_t l;
    if (s_resp_arg (cmd, len, 0, &a, &l) != 0)
        return -1;
    int first = 1, nkeys = 1;
    if (s_arg_is (a, l, "EVAL") || s_arg_is (a, l, "EVALSHA")) {
        const char *n;
        size_t nl;
        if (s_resp_arg (cmd, len, 2, &n, &nl) != 0)
            return -1;
        nkeys = atoi (n);
        first = 3;
    }
    else if (s_arg_is (a, l, "XREAD") || s_arg_is (a, l, "XREADGROUP")) {
        for (int i = 1; s_resp_arg (cmd, len, i, &a, &l) == 0; i++)
            if (s_arg_is (a, l, "STREAMS")) {
                first = i + 1;
                break;
            }
    }
    else {
        static const char *const keyless[] = { "PING", "INFO", "TIME", "WAIT", "SCRIPT", "ROLE", "CLUSTER",
                                               "FLUSHALL", "FLUSHDB", "DBSIZE", "CONFIG", "CLIENT", "ECHO",
                                               "COMMAND", "SCAN", "KEYS", "AUTH", "ASKING", "READONLY",
                                               "DEBUG", "MEMORY", "LASTSAVE", "SAVE", "BGSAVE", NULL };
        for (int i = 0; keyless[i]; i++)
            if (s_arg_is (a, l, keyless[i]))
                return -1;
    }
    int slot = -1;
    for (int k = 0; k < nkeys; k++) {
        if (s_resp_arg (cmd, len, first + k, &a, &l) != 0)
            break;
        int s = pl_redis_key_slot (a, l);
        if (slot >= 0 && s != slot)
            return -2;
        slot = s;
    }
    return slot;
}

/* The node at host:port, added when new; -1 when full. */
static int
s_node_of (pl_redis_t *self, const char *host, int port)
{
    for (int i = 0; i < self->nnodes; i++)
        if (self->nodes[i].port == port && strcmp (self->nodes[i].host, host) == 0)
            return i;
    if (self->nnodes == PL_REDIS_NODES_MAX)
        return -1;
    s_node_t *n = &self->nodes[self->nnodes];
    memset (n, 0, sizeof *n);
    if (!(n->host = strdup (host)))
        return -1;
    n->port = port;
    return self->nnodes++;
}

/* A connection to node i (AUTH on a new one): 0, or PL_EREDIS with the reason in errstr. */
static int
s_node_conn (pl_redis_t *self, int i)
{
    s_node_t *n = &self->nodes[i];
    if (n->ctx)
        return 0;
    struct timeval tv = { self->timeout_ms / 1000, (self->timeout_ms % 1000) * 1000 };
    char why[200];
    redisContext *c = s_open (n->host, n->port, tv, why, sizeof why);
    if (c && !s_session (self, c, why, sizeof why)) {
        redisFree (c);
        c = NULL;
    }
    if (!c) {
        snprintf (self->errstr, sizeof self->errstr, "redis: node %s", why);
        return PL_EREDIS;
    }
    redisEnableKeepAlive (c);
    n->ctx = c;
    return 0;
}

static void
s_cluster_drop (pl_redis_t *self)
{
    for (int i = 0; i < self->nnodes; i++) {
        if (self->nodes[i].ctx)
            redisFree (self->nodes[i].ctx);
        self->nodes[i].ctx = NULL;
        self->nodes[i].fhead = self->nodes[i].flen = 0;
    }
    for (size_t k = self->phead; k < self->ptail; k++) {
        redisFreeCommand (self->pend[k].cmd);
        if (self->pend[k].reply)
            freeReplyObject (self->pend[k].reply);
    }
    self->phead = self->ptail = 0;
    self->mapped = false;
}

/* Reads CLUSTER SLOTS from a seed or a known node and maps every slot to its master. 0, or
 * PL_EREDIS (errstr says why). */
static int
s_cluster_map (pl_redis_t *self)
{
    if (!self->slots && !(self->slots = malloc (PL_REDIS_SLOTS * sizeof *self->slots)))
        return PL_ENOMEM;
    struct timeval tv = { self->timeout_ms / 1000, (self->timeout_ms % 1000) * 1000 };
    int ncand = self->nseeds + self->nnodes;
    char why[240] = "no node";
    for (int k = 0; k < ncand; k++) {
        const char *host = k < self->nseeds ? self->seeds[k].host : self->nodes[k - self->nseeds].host;
        int port = k < self->nseeds ? self->seeds[k].port : self->nodes[k - self->nseeds].port;
        char e[200];
        redisContext *c = s_open (host, port, tv, e, sizeof e);
        if (c && !s_session (self, c, e, sizeof e)) {
            redisFree (c);
            c = NULL;
        }
        if (!c) {
            snprintf (why, sizeof why, "%s", e);
            continue;
        }
        redisReply *r = redisCommand (c, "CLUSTER SLOTS");
        bool good = r && r->type == REDIS_REPLY_ARRAY && r->elements > 0;
        if (!good)
            snprintf (why, sizeof why, "%s:%d: CLUSTER SLOTS: %s", host, port,
                      r && r->type == REDIS_REPLY_ERROR ? r->str : "no slots");
        for (size_t i = 0; i < PL_REDIS_SLOTS; i++)
            self->slots[i] = PL_REDIS_NO_NODE;
        for (size_t i = 0; good && i < r->elements; i++) {
            redisReply *range = r->element[i];
            if (range->type != REDIS_REPLY_ARRAY || range->elements < 3 || range->element[2]->type != REDIS_REPLY_ARRAY
                || range->element[2]->elements < 2)
                continue;
            redisReply *m = range->element[2];
            /* A node that announces no address ("") is the one answering. */
            const char *mh = m->element[0]->str && *m->element[0]->str ? m->element[0]->str : host;
            int node = s_node_of (self, mh, (int) m->element[1]->integer);
            long long from = range->element[0]->integer, to = range->element[1]->integer;
            for (long long sl = from; node >= 0 && sl <= to && sl < PL_REDIS_SLOTS; sl++)
                self->slots[sl] = (uint16_t) node;
        }
        if (r)
            freeReplyObject (r);
        redisFree (c);
        if (good) {
            self->mapped = true;
            self->remap = false;
            return 0;
        }
    }
    snprintf (self->errstr, sizeof self->errstr, "redis: cluster: %s", why);
    return PL_EREDIS;
}

static int
s_fifo_push (s_node_t *n, int v)
{
    if (n->flen == 0)
        n->fhead = 0;
    if (n->fhead + n->flen == n->fcap) {
        size_t cap = n->fcap ? 2 * n->fcap : 64;
        int *f = realloc (n->fifo, cap * sizeof *f);
        if (!f)
            return PL_ENOMEM;
        n->fifo = f;
        n->fcap = cap;
    }
    n->fifo[n->fhead + n->flen++] = v;
    return 0;
}

/* Sends entry k's command to node i (ASKING first when asking). */
static int
s_cluster_put (pl_redis_t *self, size_t k, int i, bool asking)
{
    if (s_node_conn (self, i) != 0)
        return PL_EREDIS;
    s_node_t *n = &self->nodes[i];
    static const char ask[] = "*1\r\n$6\r\nASKING\r\n";
    if (asking && (redisAppendFormattedCommand (n->ctx, ask, sizeof ask - 1) != REDIS_OK || s_fifo_push (n, -1)))
        return PL_ENOMEM;
    if (redisAppendFormattedCommand (n->ctx, self->pend[k].cmd, self->pend[k].len) != REDIS_OK
        || s_fifo_push (n, (int) k))
        return PL_ENOMEM;
    self->pend[k].node = i;
    return 0;
}

/* Queues a formatted command (taken over: freed with the entry) for the node of its slot. */
static int
s_cluster_send (pl_redis_t *self, char *cmd, int len)
{
    if (len < 0)
        return PL_ENOMEM;
    int slot = s_command_slot (cmd, (size_t) len);
    if (slot == -2) {
        redisFreeCommand (cmd);
        snprintf (self->errstr, sizeof self->errstr, "redis: CROSSSLOT: the keys of one command or script "
                  "must share a hash tag");
        return PL_EINVAL;
    }
    if ((!self->mapped || (self->remap && self->phead == self->ptail)) && s_cluster_map (self) != 0) {
        redisFreeCommand (cmd);
        return PL_EREDIS;
    }
    int node = slot >= 0 ? self->slots[slot] : self->slots[0];
    for (int sl = 0; node == PL_REDIS_NO_NODE && slot < 0 && sl < PL_REDIS_SLOTS; sl++)
        node = self->slots[sl];
    if (node == PL_REDIS_NO_NODE) {
        redisFreeCommand (cmd);
        snprintf (self->errstr, sizeof self->errstr, "redis: cluster: no node serves slot %d", slot);
        return PL_EREDIS;
    }
    if (self->phead == self->ptail)
        self->phead = self->ptail = 0;
    if (self->ptail == self->pcap) {
        size_t cap = self->pcap ? 2 * self->pcap : 256;
        s_pend_t *p = realloc (self->pend, cap * sizeof *p);
        if (!p) {
            redisFreeCommand (cmd);
            return PL_ENOMEM;
        }
        self->pend = p;
        self->pcap = cap;
    }
    size_t k = self->ptail++;
    self->pend[k] = (s_pend_t) { .cmd = cmd, .len = (size_t) len, .node = node };
    self->pending++;
    int rc = s_cluster_put (self, k, node, false);
    if (rc != 0)
        s_drop (self, self->errstr + (strncmp (self->errstr, "redis: ", 7) ? 0 : 7));
    return rc;
}

/* The reply of the pipeline's oldest entry, following MOVED and ASK to the node they name. */
static int
s_cluster_reply (pl_redis_t *self, redisReply **reply)
{
    *reply = NULL;
    if (self->phead == self->ptail)
        return PL_EREDIS;
    size_t k = self->phead;
    s_pend_t *e = &self->pend[k];
    for (;;) {
        while (!e->reply) {
            s_node_t *n = &self->nodes[e->node];
            void *r = NULL;
            if (!n->ctx || n->flen == 0 || redisGetReply (n->ctx, &r) != REDIS_OK || !r) {
                char why[200];
                snprintf (why, sizeof why, "node %s:%d: %s", n->host, n->port,
                          n->ctx && n->ctx->errstr[0] ? n->ctx->errstr : "connection lost");
                s_drop (self, why);
                return PL_EREDIS;
            }
            int to = n->fifo[n->fhead++];
            n->flen--;
            if (to < 0)
                freeReplyObject (r);            /* ASKING's +OK */
            else
                self->pend[to].reply = r;
        }
        redisReply *r = e->reply;
        bool moved = r->type == REDIS_REPLY_ERROR && r->str && strncmp (r->str, "MOVED ", 6) == 0;
        bool ask = r->type == REDIS_REPLY_ERROR && r->str && strncmp (r->str, "ASK ", 4) == 0;
        bool again = r->type == REDIS_REPLY_ERROR && r->str && strncmp (r->str, "TRYAGAIN", 8) == 0;
        if ((!moved && !ask && !again) || e->redirects >= PL_REDIS_REDIRECTS_MAX)
            break;
        e->redirects++;
        int target = e->node;
        if (moved || ask) {
            /* "MOVED <slot> <host>:<port>" */
            char host[128] = "";
            int slot = -1, port = 0;
            const char *sp = strchr (r->str, ' ');
            const char *hp = sp ? strchr (sp + 1, ' ') : NULL;
            const char *colon = hp ? strrchr (hp, ':') : NULL;
            if (!sp || !hp || !colon || (size_t) (colon - hp - 1) >= sizeof host)
                break;
            slot = atoi (sp + 1);
            memcpy (host, hp + 1, (size_t) (colon - hp - 1));
            host[colon - hp - 1] = '\0';
            port = atoi (colon + 1);
            target = s_node_of (self, *host ? host : self->nodes[e->node].host, port);
            if (target < 0)
                break;
            if (moved && slot >= 0 && slot < PL_REDIS_SLOTS) {
                self->slots[slot] = (uint16_t) target;
                self->remap = true;              /* the rest of the map may have moved too */
            }
        }
        else {
            struct timespec ts = { 0, 20 * 1000000L };
            nanosleep (&ts, NULL);
        }
        freeReplyObject (r);
        e->reply = NULL;
        if (s_cluster_put (self, k, target, ask) != 0) {
            s_drop (self, "cannot send a redirected command");
            return PL_EREDIS;
        }
    }
    *reply = e->reply;
    e->reply = NULL;
    redisFreeCommand (e->cmd);
    self->phead++;
    self->pending--;
    atomic_store (&self->ok, true);
    return 0;
}

/* A command in cluster mode, alone: sent and answered. */
static redisReply *
s_cluster_command (pl_redis_t *self, char *cmd, int len)
{
    if (s_cluster_send (self, cmd, len) != 0)
        return NULL;
    redisReply *r = NULL;
    if (s_cluster_reply (self, &r) != 0)
        return NULL;
    return r;
}

/* SCAN across the masters: the cursor "<node>:<cursor>" names the node being scanned (plain
 * "0" starts at the first). The caller loops until "0" as with one node. */
static redisReply *
s_cluster_scan (pl_redis_t *self, const char *cmd, size_t len)
{
    const char *a;
    size_t l;
    char cur[48] = "0";
    if (s_resp_arg (cmd, len, 1, &a, &l) != 0 || l >= sizeof cur)
        return NULL;
    memcpy (cur, a, l);
    cur[l] = '\0';
    int node = 0;
    const char *c = cur;
    char *colon = strchr (cur, ':');
    if (colon) {
        node = atoi (cur);
        c = colon + 1;
    }
    /* The masters, in a fixed order: the nodes serving slots. */
    int masters[PL_REDIS_NODES_MAX], nm = 0;
    for (int i = 0; i < self->nnodes; i++)
        for (int sl = 0; sl < PL_REDIS_SLOTS; sl++)
            if (self->slots[sl] == i) {
                masters[nm++] = i;
                break;
            }
    if (node >= nm || s_node_conn (self, masters[node]) != 0)
        return NULL;
    /* The same command with this node's cursor. */
    int argc = 0;
    const char *argv[64];
    size_t argvlen[64];
    while (argc < 64 && s_resp_arg (cmd, len, argc, &argv[argc], &argvlen[argc]) == 0)
        argc++;
    argv[1] = c;
    argvlen[1] = strlen (c);
    redisReply *r = redisCommandArgv (self->nodes[masters[node]].ctx, argc, argv, argvlen);
    if (!r) {
        s_drop (self, "SCAN: connection lost");
        return NULL;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->type == REDIS_REPLY_STRING) {
        char next[48];
        if (strcmp (r->element[0]->str, "0") != 0)
            snprintf (next, sizeof next, "%d:%s", node, r->element[0]->str);
        else if (node + 1 < nm)
            snprintf (next, sizeof next, "%d:0", node + 1);
        else
            snprintf (next, sizeof next, "0");
        redisReply *cr = r->element[0];
        char *s = strdup (next);
        if (s) {
            free (cr->str);
            cr->str = s;
            cr->len = strlen (s);
        }
    }
    return r;
}

/* Every master node, connected: for SCRIPT LOAD and WAIT. Returns how many, into out. */
static int
s_cluster_masters (pl_redis_t *self, int *out)
{
    int n = 0;
    for (int i = 0; i < self->nnodes; i++) {
        bool serves = false;
        for (int sl = 0; sl < PL_REDIS_SLOTS && !serves; sl++)
            serves = self->slots[sl] == i;
        if (serves && s_node_conn (self, i) == 0)
            out[n++] = i;
    }
    return n;
}

int
pl_redis_connect (pl_redis_t *self)
{
    if (self->ctx || (self->cluster && self->mapped))
        return 0;
    if (pl_clock_mono_ms () < self->next_try_ms)
        return PL_EREDIS;
    struct timeval tv = { self->timeout_ms / 1000, (self->timeout_ms % 1000) * 1000 };
    if (self->cluster) {
        if (s_cluster_map (self) != 0) {
            char why[256];
            snprintf (why, sizeof why, "%s", self->errstr + (strncmp (self->errstr, "redis: ", 7) ? 0 : 7));
            s_drop (self, why);
            return PL_EREDIS;
        }
    }
    else if (self->nsentinels) {
        char why[240] = "no sentinel";
        redisContext *c = s_discover (self, tv, why, sizeof why);
        if (!c) {
            s_drop (self, why);
            return PL_EREDIS;
        }
        redisEnableKeepAlive (c);
        self->ctx = c;
    }
    else {
        redisContext *c = self->path ? redisConnectUnixWithTimeout (self->path, tv)
                                     : redisConnectWithTimeout (self->host, self->port, tv);
        if (!c || c->err) {
            char why[200];
            snprintf (why, sizeof why, "connect %s:%d: %s", self->path ? self->path : self->host,
                      self->path ? 0 : self->port, c ? c->errstr : "out of memory");
            if (c)
                redisFree (c);
            s_drop (self, why);
            return PL_EREDIS;
        }
        redisSetTimeout (c, tv);
        redisEnableKeepAlive (c);
        self->ctx = c;
        char why[200];
        if (!s_session (self, c, why, sizeof why)) {
            s_drop (self, why);
            return PL_EREDIS;
        }
    }
    self->backoff_ms = PL_REDIS_BACKOFF_MIN_MS;
    atomic_store (&self->ok, true);
    atomic_fetch_add (&self->generation, 1);
    return 0;
}

bool pl_redis_ok (const pl_redis_t *self) { return atomic_load (&((pl_redis_t *) self)->ok); }
uint64_t pl_redis_generation (const pl_redis_t *self) { return atomic_load (&((pl_redis_t *) self)->generation); }

/* What a loaded script is valid for: this connection's generation and script epoch. */
static uint64_t
s_script_gen (const pl_redis_t *self)
{
    return (pl_redis_generation (self) << 20) | (self->script_epoch & 0xfffff);
}
const char *pl_redis_errstr (const pl_redis_t *self) { return self->errstr; }
int pl_redis_pending (const pl_redis_t *self) { return self->pending; }

/* Sentinel mode: a reply saying that this node is no longer a usable master (demoted, cut off
 * from its master, loading) marks the connection stale; it is dropped once no reply is pending,
 * so that the next call asks the sentinels again. The reply itself still goes to the caller. */
static void
s_watch (pl_redis_t *self, const redisReply *r)
{
    if (!self->nsentinels)
        return;
    if (r->type == REDIS_REPLY_ERROR && r->str
        && (strncmp (r->str, "READONLY", 8) == 0 || strncmp (r->str, "MASTERDOWN", 10) == 0
            || strncmp (r->str, "LOADING", 7) == 0)) {
        self->stale = true;
        snprintf (self->errstr, sizeof self->errstr, "redis: %s:%d: %s (asking the sentinels again)",
                  self->host, self->port, r->str);
    }
    if (self->stale && self->pending == 0)
        s_drop (self, NULL);
}

/* After an exchange: a context error means the connection is unusable. */
static redisReply *
s_check (pl_redis_t *self, void *reply)
{
    if (!reply) {
        s_drop (self, self->ctx && self->ctx->errstr[0] ? self->ctx->errstr : "connection lost");
        return NULL;
    }
    atomic_store (&self->ok, true);
    s_watch (self, reply);
    return reply;
}

/* Cluster mode: a command about the whole keyspace sent to every master, the answers merged:
 * KEYS (the keys of all), DBSIZE (the sum), FLUSHALL and FLUSHDB (the first error, else OK). */
static redisReply *
s_cluster_everywhere (pl_redis_t *self, const char *cmd, size_t len, bool keys, bool sum)
{
    int m[PL_REDIS_NODES_MAX];
    int nm = s_cluster_masters (self, m);
    redisReply *out = calloc (1, sizeof *out);
    if (!out || nm == 0) {
        free (out);
        return NULL;
    }
    out->type = keys ? REDIS_REPLY_ARRAY : sum ? REDIS_REPLY_INTEGER : REDIS_REPLY_STATUS;
    for (int i = 0; i < nm; i++) {
        redisReply *r = NULL;
        if (redisAppendFormattedCommand (self->nodes[m[i]].ctx, cmd, len) != REDIS_OK
            || redisGetReply (self->nodes[m[i]].ctx, (void **) &r) != REDIS_OK || !r) {
            freeReplyObject (out);
            s_drop (self, "connection lost");
            return NULL;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            freeReplyObject (out);
            return r;
        }
        if (keys && r->type == REDIS_REPLY_ARRAY && r->elements) {
            redisReply **e = realloc (out->element, (out->elements + r->elements) * sizeof *e);
            if (!e) {
                freeReplyObject (r);
                freeReplyObject (out);
                return NULL;
            }
            out->element = e;
            memcpy (out->element + out->elements, r->element, r->elements * sizeof *e);
            out->elements += r->elements;
            free (r->element);              /* the elements are out's now */
            r->element = NULL;
            r->elements = 0;
        }
        else if (sum && r->type == REDIS_REPLY_INTEGER)
            out->integer += r->integer;
        freeReplyObject (r);
    }
    if (!keys && !sum && (out->str = strdup ("OK")))
        out->len = 2;
    return out;
}

/* Cluster mode: a command alone (SCAN walks the masters; KEYS, DBSIZE, FLUSH* go to each). */
static redisReply *
s_cluster_alone (pl_redis_t *self, char *cmd, int len)
{
    const char *a;
    size_t l;
    if (len > 0 && s_resp_arg (cmd, (size_t) len, 0, &a, &l) == 0) {
        redisReply *r = NULL;
        bool done = true;
        if (s_arg_is (a, l, "SCAN"))
            r = s_cluster_scan (self, cmd, (size_t) len);
        else if (s_arg_is (a, l, "KEYS") || s_arg_is (a, l, "DBSIZE") || s_arg_is (a, l, "FLUSHALL")
                 || s_arg_is (a, l, "FLUSHDB"))
            r = s_cluster_everywhere (self, cmd, (size_t) len, s_arg_is (a, l, "KEYS"), s_arg_is (a, l, "DBSIZE"));
        else
            done = false;
        if (done) {
            redisFreeCommand (cmd);
            return r;
        }
    }
    return s_cluster_command (self, cmd, len);
}

redisReply *
pl__redis_vcommand (pl_redis_t *self, const char *fmt, va_list ap)
{
    if (self->pending || pl_redis_connect (self) != 0)
        return NULL;
    if (self->cluster) {
        char *cmd = NULL;
        int len = redisvFormatCommand (&cmd, fmt, ap);
        return len < 0 ? NULL : s_cluster_alone (self, cmd, len);
    }
    return s_check (self, redisvCommand (self->ctx, fmt, ap));
}

redisReply *
pl__redis_command (pl_redis_t *self, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    redisReply *r = pl__redis_vcommand (self, fmt, ap);
    va_end (ap);
    return r;
}

redisReply *
pl__redis_commandv (pl_redis_t *self, int argc, const char **argv, const size_t *argvlen)
{
    if (self->pending || pl_redis_connect (self) != 0)
        return NULL;
    if (self->cluster) {
        char *cmd = NULL;
        int len = redisFormatCommandArgv (&cmd, argc, argv, argvlen);
        return len < 0 ? NULL : s_cluster_alone (self, cmd, len);
    }
    return s_check (self, redisCommandArgv (self->ctx, argc, argv, argvlen));
}

pl_reply_t *
pl_redis_command (pl_redis_t *self, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    redisReply *r = pl__redis_vcommand (self, fmt, ap);
    va_end (ap);
    return (pl_reply_t *) r;
}

pl_reply_t *
pl_redis_vcommand (pl_redis_t *self, const char *fmt, va_list ap)
{
    return (pl_reply_t *) pl__redis_vcommand (self, fmt, ap);
}

pl_reply_t *
pl_redis_commandv (pl_redis_t *self, int argc, const char **argv, const size_t *argvlen)
{
    return (pl_reply_t *) pl__redis_commandv (self, argc, argv, argvlen);
}

/* An error reply becomes the connection's last failure. */
static int
s_reply_ok (pl_redis_t *self, redisReply *r)
{
    if (r->type != REDIS_REPLY_ERROR)
        return 0;
    snprintf (self->errstr, sizeof self->errstr, "redis: %s", r->str);
    return PL_EREDIS;
}

int
pl_redis_exec (pl_redis_t *self, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    redisReply *r = pl__redis_vcommand (self, fmt, ap);
    va_end (ap);
    if (!r)
        return PL_EREDIS;
    int rc = s_reply_ok (self, r);
    freeReplyObject (r);
    return rc;
}

int
pl_redis_wait (pl_redis_t *self)
{
    if (self->wait_replicas <= 0)
        return 0;
    if (self->cluster) {
        /* Every master written to since: each waits for its own replicas. */
        if (self->pending || pl_redis_connect (self) != 0)
            return PL_EREDIS;
        int m[PL_REDIS_NODES_MAX];
        int nm = s_cluster_masters (self, m);
        for (int i = 0; i < nm; i++) {
            redisReply *r = redisCommand (self->nodes[m[i]].ctx, "WAIT %d %d", self->wait_replicas,
                                          self->wait_timeout_ms);
            bool good = r && r->type == REDIS_REPLY_INTEGER && r->integer >= self->wait_replicas;
            if (!good)
                snprintf (self->errstr, sizeof self->errstr, "redis: WAIT on %s:%d: %lld of %d replicas",
                          self->nodes[m[i]].host, self->nodes[m[i]].port,
                          r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1LL, self->wait_replicas);
            if (r)
                freeReplyObject (r);
            else
                s_drop (self, "WAIT: connection lost");
            if (!good)
                return PL_EREDIS;
        }
        return 0;
    }
    redisReply *r = pl__redis_command (self, "WAIT %d %d", self->wait_replicas, self->wait_timeout_ms);
    if (!r)
        return PL_EREDIS;
    int rc = s_reply_ok (self, r);
    if (rc == 0 && (r->type != REDIS_REPLY_INTEGER || r->integer < self->wait_replicas)) {
        snprintf (self->errstr, sizeof self->errstr,
                  "redis: WAIT: %lld of %d replicas acknowledged within %d ms",
                  r->type == REDIS_REPLY_INTEGER ? r->integer : -1LL, self->wait_replicas,
                  self->wait_timeout_ms);
        rc = PL_EREDIS;
    }
    freeReplyObject (r);
    return rc;
}

int
pl_redis_ping (pl_redis_t *self)
{
    redisReply *r = pl__redis_command (self, "PING");
    int rc = r && r->type == REDIS_REPLY_STATUS ? 0 : PL_EREDIS;
    if (r)
        freeReplyObject (r);
    return rc;
}

int
pl_redis_append (pl_redis_t *self, const char *fmt, ...)
{
    if (pl_redis_connect (self) != 0)
        return PL_EREDIS;
    va_list ap;
    va_start (ap, fmt);
    if (self->cluster) {
        char *cmd = NULL;
        int len = redisvFormatCommand (&cmd, fmt, ap);
        va_end (ap);
        return s_cluster_send (self, cmd, len);
    }
    int rc = redisvAppendCommand (self->ctx, fmt, ap);
    va_end (ap);
    if (rc != REDIS_OK)
        return PL_ENOMEM;
    self->pending++;
    return 0;
}

int
pl_redis_appendv (pl_redis_t *self, int argc, const char **argv, const size_t *argvlen)
{
    if (pl_redis_connect (self) != 0)
        return PL_EREDIS;
    if (self->cluster) {
        char *cmd = NULL;
        int len = redisFormatCommandArgv (&cmd, argc, argv, argvlen);
        return s_cluster_send (self, cmd, len);
    }
    if (redisAppendCommandArgv (self->ctx, argc, argv, argvlen) != REDIS_OK)
        return PL_ENOMEM;
    self->pending++;
    return 0;
}

int
pl_redis_flush (pl_redis_t *self)
{
    if (self->cluster) {
        for (int i = 0; i < self->nnodes; i++) {
            int done = 0;
            while (self->nodes[i].ctx && !done)
                if (redisBufferWrite (self->nodes[i].ctx, &done) != REDIS_OK) {
                    s_drop (self, "connection lost");
                    return PL_EREDIS;
                }
        }
        return self->mapped ? 0 : PL_EREDIS;
    }
    if (!self->ctx)
        return PL_EREDIS;
    int done = 0;
    do {
        if (redisBufferWrite (self->ctx, &done) != REDIS_OK) {
            s_drop (self, self->ctx && self->ctx->errstr[0] ? self->ctx->errstr : "connection lost");
            return PL_EREDIS;
        }
    } while (!done);
    return 0;
}

int
pl__redis_get_reply (pl_redis_t *self, redisReply **reply)
{
    *reply = NULL;
    void *r = NULL;
    if (self->cluster) {
        if (self->pending == 0 || s_cluster_reply (self, (redisReply **) &r) != 0)
            return PL_EREDIS;
    }
    else {
        if (!self->ctx || self->pending == 0)
            return PL_EREDIS;
        if (redisGetReply (self->ctx, &r) != REDIS_OK || !r) {
            s_drop (self, self->ctx && self->ctx->errstr[0] ? self->ctx->errstr : "connection lost");
            return PL_EREDIS;
        }
        self->pending--;
    }
    atomic_store (&self->ok, true);
    const redisReply *rr = r;
    if (rr->type == REDIS_REPLY_ERROR && rr->str && strncmp (rr->str, "NOSCRIPT", 8) == 0)
        self->script_epoch++;
    s_watch (self, rr);
    *reply = r;
    return 0;
}

int
pl_redis_get_reply (pl_redis_t *self, pl_reply_t **reply)
{
    return pl__redis_get_reply (self, (redisReply **) reply);
}

int
pl_redis_drain (pl_redis_t *self, int n)
{
    int rc = 0;
    for (int i = 0; i < n; i++) {
        redisReply *r;
        if (pl__redis_get_reply (self, &r) != 0)
            return PL_EREDIS;           /* the connection is gone with the other replies */
        if (rc == 0)
            rc = s_reply_ok (self, r);  /* the first error is the one worth reporting */
        freeReplyObject (r);
    }
    return rc;
}

pl_redis_script_t *
pl_redis_script_new (const char *lua)
{
    pl_redis_script_t *self = calloc (1, sizeof *self);
    if (self && !(self->lua = strdup (lua))) {
        free (self);
        return NULL;
    }
    return self;
}

void
pl_redis_script_destroy (pl_redis_script_t **self_p)
{
    if (self_p && *self_p) {
        free ((*self_p)->lua);
        free (*self_p);
        *self_p = NULL;
    }
}

static int
s_script_load (pl_redis_t *self, pl_redis_script_t *script)
{
    if (self->cluster) {
        /* Every master: an EVALSHA may go to any of them. */
        if (self->pending)
            return PL_EBUSY;
        int m[PL_REDIS_NODES_MAX];
        int nm = pl_redis_connect (self) == 0 ? s_cluster_masters (self, m) : 0;
        if (nm == 0)
            return PL_EREDIS;
        for (int i = 0; i < nm; i++) {
            redisReply *r = redisCommand (self->nodes[m[i]].ctx, "SCRIPT LOAD %s", script->lua);
            bool good = r && r->type == REDIS_REPLY_STRING && r->len == 40;
            if (good)
                memcpy (script->sha, r->str, 41);
            else if (r && r->type == REDIS_REPLY_ERROR)
                snprintf (self->errstr, sizeof self->errstr, "redis: SCRIPT LOAD: %s", r->str);
            if (r)
                freeReplyObject (r);
            else
                s_drop (self, "SCRIPT LOAD: connection lost");
            if (!good)
                return PL_EREDIS;
        }
        script->loaded_generation = s_script_gen (self);
        return 0;
    }
    redisReply *r = pl__redis_command (self, "SCRIPT LOAD %s", script->lua);
    if (!r)
        return PL_EREDIS;
    int rc = PL_EREDIS;
    if (r->type == REDIS_REPLY_STRING && r->len == 40) {
        memcpy (script->sha, r->str, 41);
        script->loaded_generation = s_script_gen (self);
        rc = 0;
    }
    else if (r->type == REDIS_REPLY_ERROR)
        snprintf (self->errstr, sizeof self->errstr, "redis: SCRIPT LOAD: %s", r->str);
    freeReplyObject (r);
    return rc;
}

int
pl_redis_script_ready (pl_redis_t *self, pl_redis_script_t *script)
{
    if (pl_redis_connect (self) != 0)
        return PL_EREDIS;
    if (script->loaded_generation == s_script_gen (self))
        return 0;
    if (self->pending != 0)
        return PL_EBUSY;
    return s_script_load (self, script);
}

/* argv for EVALSHA/EVAL: [cmd, sha-or-body, nkeys, args…] */
static int
s_eval_argv (pl_redis_script_t *script, bool by_sha, int nkeys, int argc, const char **argv,
             const size_t *argvlen, const char ***out_v, size_t **out_l, char *nk, size_t nksz)
{
    const char **v = malloc (sizeof *v * (size_t) (argc + 3));
    size_t *l = malloc (sizeof *l * (size_t) (argc + 3));
    if (!v || !l) {
        free (v);
        free (l);
        return PL_ENOMEM;
    }
    snprintf (nk, nksz, "%d", nkeys);
    v[0] = by_sha ? "EVALSHA" : "EVAL";
    l[0] = strlen (v[0]);
    v[1] = by_sha ? script->sha : script->lua;
    l[1] = strlen (v[1]);
    v[2] = nk;
    l[2] = strlen (nk);
    for (int i = 0; i < argc; i++) {
        v[i + 3] = argv[i];
        l[i + 3] = argvlen ? argvlen[i] : strlen (argv[i]);
    }
    *out_v = v;
    *out_l = l;
    return 0;
}

/* A script's keys must share a slot, so that it runs whole on one node of a cluster: refused
 * here in every mode, so that a single Redis in the tests catches what a cluster would. */
static int
s_one_slot (pl_redis_t *self, int nkeys, const char **argv, const size_t *argvlen)
{
    int slot = -1;
    for (int i = 0; i < nkeys; i++) {
        int s = pl_redis_key_slot (argv[i], argvlen ? argvlen[i] : strlen (argv[i]));
        if (slot >= 0 && s != slot) {
            snprintf (self->errstr, sizeof self->errstr, "redis: CROSSSLOT: script keys %.*s and %.*s are in "
                      "different slots (give them one hash tag)", (int) (argvlen ? argvlen[0] : strlen (argv[0])),
                      argv[0], (int) (argvlen ? argvlen[i] : strlen (argv[i])), argv[i]);
            return PL_EINVAL;
        }
        slot = s;
    }
    return 0;
}

redisReply *
pl__redis_eval (pl_redis_t *self, pl_redis_script_t *script, int nkeys, int argc,
               const char **argv, const size_t *argvlen)
{
    if (nkeys > argc || s_one_slot (self, nkeys, argv, argvlen) != 0)
        return NULL;
    if (pl_redis_connect (self) != 0)
        return NULL;
    if (script->loaded_generation != s_script_gen (self) && s_script_load (self, script) != 0)
        return NULL;
    const char **v;
    size_t *l;
    char nk[16];
    if (s_eval_argv (script, true, nkeys, argc, argv, argvlen, &v, &l, nk, sizeof nk) != 0)
        return NULL;
    redisReply *r = pl__redis_commandv (self, argc + 3, v, l);
    if (r && r->type == REDIS_REPLY_ERROR && strncmp (r->str, "NOSCRIPT", 8) == 0) {
        freeReplyObject (r);
        r = NULL;
        if (s_script_load (self, script) == 0)
            r = pl__redis_commandv (self, argc + 3, v, l);
    }
    free (v);
    free (l);
    return r;
}

pl_reply_t *
pl_redis_eval (pl_redis_t *self, pl_redis_script_t *script, int nkeys, int argc,
               const char **argv, const size_t *argvlen)
{
    return (pl_reply_t *) pl__redis_eval (self, script, nkeys, argc, argv, argvlen);
}

int
pl_redis_append_eval (pl_redis_t *self, pl_redis_script_t *script, int nkeys, int argc,
                      const char **argv, const size_t *argvlen)
{
    if (nkeys > argc || s_one_slot (self, nkeys, argv, argvlen) != 0)
        return PL_EINVAL;
    if (pl_redis_connect (self) != 0)
        return PL_EREDIS;
    bool by_sha = script->loaded_generation == s_script_gen (self);
    if (!by_sha && self->pending == 0)
        by_sha = s_script_load (self, script) == 0;
    /* With replies pending we cannot load synchronously: send the body (EVAL caches it). That
     * costs Redis a SHA-1 of the body each call: pl_redis_script_ready before a pipeline avoids
     * it. A NOSCRIPT reply (the cache flushed) bumps the script epoch: scripts load again. */
    const char **v;
    size_t *l;
    char nk[16];
    int rc = s_eval_argv (script, by_sha, nkeys, argc, argv, argvlen, &v, &l, nk, sizeof nk);
    if (rc == 0) {
        rc = pl_redis_appendv (self, argc + 3, v, l);
        free (v);
        free (l);
    }
    return rc;
}

/* ---- replies: a pl_reply_t is a redisReply ----------------------------------------------- */

/* RESP2 types map one to one, so pl_reply_type is a read. */
_Static_assert (PL_REPLY_STRING == REDIS_REPLY_STRING && PL_REPLY_ARRAY == REDIS_REPLY_ARRAY
                    && PL_REPLY_INTEGER == REDIS_REPLY_INTEGER && PL_REPLY_NIL == REDIS_REPLY_NIL
                    && PL_REPLY_STATUS == REDIS_REPLY_STATUS && PL_REPLY_ERROR == REDIS_REPLY_ERROR,
                "pl_reply_type_t follows hiredis");

#define S_R(reply) ((const redisReply *) (reply))

pl_reply_type_t
pl_reply_type (const pl_reply_t *reply)
{
    if (!reply)
        return PL_REPLY_ERROR;
    int t = S_R (reply)->type;
    if (t >= REDIS_REPLY_STRING && t <= REDIS_REPLY_ERROR)
        return (pl_reply_type_t) t;
#ifdef REDIS_REPLY_BOOL
    /* RESP3 only (hiredis 1.x; the kit never says HELLO 3): the nearest RESP2 type. */
    if (t == REDIS_REPLY_BOOL)
        return PL_REPLY_INTEGER;
    if (t == REDIS_REPLY_MAP || t == REDIS_REPLY_SET || t == REDIS_REPLY_PUSH || t == REDIS_REPLY_ATTR)
        return PL_REPLY_ARRAY;
    if (t == REDIS_REPLY_DOUBLE || t == REDIS_REPLY_BIGNUM || t == REDIS_REPLY_VERB)
        return PL_REPLY_STRING;
#endif
    return PL_REPLY_ERROR;
}

const char *
pl_reply_str (const pl_reply_t *reply, size_t *len)
{
    pl_reply_type_t t = pl_reply_type (reply);
    bool text = reply && (t == PL_REPLY_STRING || t == PL_REPLY_STATUS || t == PL_REPLY_ERROR);
    if (len)
        *len = text && S_R (reply)->str ? S_R (reply)->len : 0;
    return text ? S_R (reply)->str : NULL;
}

long long
pl_reply_int (const pl_reply_t *reply)
{
    return pl_reply_type (reply) == PL_REPLY_INTEGER ? S_R (reply)->integer : 0;
}

size_t
pl_reply_len (const pl_reply_t *reply)
{
    return pl_reply_type (reply) == PL_REPLY_ARRAY ? S_R (reply)->elements : 0;
}

pl_reply_t *
pl_reply_element (const pl_reply_t *reply, size_t i)
{
    return i < pl_reply_len (reply) ? (pl_reply_t *) S_R (reply)->element[i] : NULL;
}

void
pl_reply_free (pl_reply_t **reply_p)
{
    if (reply_p && *reply_p) {
        freeReplyObject (*reply_p);
        *reply_p = NULL;
    }
}
