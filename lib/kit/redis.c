/*  redis.c — connection, Sentinel discovery, reconnect with backoff, pipelining, scripts, WAIT
 *  (see redis.h). */
#include <assert.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plateau/clock.h"
#include "plateau/error.h"
#include "redis_int.h"

#define PL_REDIS_BACKOFF_MIN_MS 100
#define PL_REDIS_BACKOFF_MAX_MS 5000
#define PL_REDIS_SENTINELS_MAX 16
#define PL_REDIS_SENTINEL_PORT 26379

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
    self->host = self->path = self->password = self->master_name = NULL;
    self->nsentinels = 0;
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

static void
s_drop (pl_redis_t *self, const char *why)
{
    if (why)
        snprintf (self->errstr, sizeof self->errstr, "redis: %s", why);
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

int
pl_redis_connect (pl_redis_t *self)
{
    if (self->ctx)
        return 0;
    if (pl_clock_mono_ms () < self->next_try_ms)
        return PL_EREDIS;
    struct timeval tv = { self->timeout_ms / 1000, (self->timeout_ms % 1000) * 1000 };
    if (self->nsentinels) {
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

redisReply *
pl__redis_vcommand (pl_redis_t *self, const char *fmt, va_list ap)
{
    if (self->pending || pl_redis_connect (self) != 0)
        return NULL;
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
    if (redisAppendCommandArgv (self->ctx, argc, argv, argvlen) != REDIS_OK)
        return PL_ENOMEM;
    self->pending++;
    return 0;
}

int
pl_redis_flush (pl_redis_t *self)
{
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
    if (!self->ctx || self->pending == 0)
        return PL_EREDIS;
    void *r = NULL;
    if (redisGetReply (self->ctx, &r) != REDIS_OK || !r) {
        s_drop (self, self->ctx && self->ctx->errstr[0] ? self->ctx->errstr : "connection lost");
        return PL_EREDIS;
    }
    self->pending--;
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

redisReply *
pl__redis_eval (pl_redis_t *self, pl_redis_script_t *script, int nkeys, int argc,
               const char **argv, const size_t *argvlen)
{
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
    assert (reply);
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
    bool text = t == PL_REPLY_STRING || t == PL_REPLY_STATUS || t == PL_REPLY_ERROR;
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
