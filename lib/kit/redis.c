/*  redis.c — connection, reconnect with backoff, pipelining, scripts (see redis.h). */
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

struct pl_redis {
    char *host;                /* NULL for unix sockets */
    int port;
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

static int
s_parse (const char *url, pl_redis_t *out, char *err, size_t err_size)
{
#define FAIL(...) do { if (err) snprintf (err, err_size, __VA_ARGS__); return PL_EINVAL; } while (0)
    if (!url || !*url)
        FAIL ("empty URL: expected redis://[:password@]host:port/db or unix:///path");
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
        FAIL ("expected redis://[:password@]host:port/db or unix:///path, got '%s'", url);
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
    return self;
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
    free (self->host);
    free (self->path);
    free (self->password);
    free (self);
    *self_p = NULL;
}

int
pl_redis_connect (pl_redis_t *self)
{
    if (self->ctx)
        return 0;
    if (pl_clock_mono_ms () < self->next_try_ms)
        return PL_EREDIS;
    struct timeval tv = { self->timeout_ms / 1000, (self->timeout_ms % 1000) * 1000 };
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
    if (self->password) {
        redisReply *r = redisCommand (c, "AUTH %s", self->password);
        bool good = r && r->type != REDIS_REPLY_ERROR;
        char why[200];
        snprintf (why, sizeof why, "AUTH: %s", r && r->type == REDIS_REPLY_ERROR ? r->str : "failed");
        if (r)
            freeReplyObject (r);
        if (!good) {
            s_drop (self, why);
            return PL_EREDIS;
        }
    }
    if (self->db) {
        redisReply *r = redisCommand (c, "SELECT %d", self->db);
        bool good = r && r->type != REDIS_REPLY_ERROR;
        if (r)
            freeReplyObject (r);
        if (!good) {
            s_drop (self, "SELECT failed");
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

/* After an exchange: a context error means the connection is unusable. */
static redisReply *
s_check (pl_redis_t *self, void *reply)
{
    if (!reply) {
        s_drop (self, self->ctx && self->ctx->errstr[0] ? self->ctx->errstr : "connection lost");
        return NULL;
    }
    atomic_store (&self->ok, true);
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
