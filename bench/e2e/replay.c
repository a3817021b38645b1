/*  replay.c — MONITOR capture and raw replay for bench_e2e's baseline (see replay.h).
 */
#include "replay.h"
#include "fixture.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define RP_MAX_NAMES 128
#define RP_MAX_KEYS 64          /* key positions kept as a bit mask; later arguments never renamed */

typedef struct {
    int argc;
    char **argv;
    size_t *lens;
    int name;                   /* index into names */
    uint64_t keys;              /* bit i: argv[i] is a key */
} s_cmd_t;

struct rp_sample {
    redisContext *c;
    pthread_t th;
    bool running;
    char skip[32];              /* "127.0.0.1:<port>" */
    s_cmd_t *cmds;
    size_t n, cap;
    char names[RP_MAX_NAMES][64];
    size_t counts[RP_MAX_NAMES];
    int nnames;
};

void
rp_stat_name (const char *argv0, const char *argv1, char *out, size_t size)
{
    static const char *containers[] = { "xgroup", "xinfo", "object", "memory", "script", "client", "config",
                                        "command", "function", "cluster", "acl", "latency", "slowlog", "module",
                                        "pubsub", NULL };
    char a0[32];
    size_t i = 0;
    for (; argv0[i] && i < sizeof a0 - 1; i++)
        a0[i] = (char) tolower ((unsigned char) argv0[i]);
    a0[i] = '\0';
    for (int k = 0; containers[k]; k++)
        if (strcmp (a0, containers[k]) == 0 && argv1) {
            char a1[32];
            size_t j = 0;
            for (; argv1[j] && j < sizeof a1 - 1; j++)
                a1[j] = (char) tolower ((unsigned char) argv1[j]);
            a1[j] = '\0';
            snprintf (out, size, "%s|%s", a0, a1);
            return;
        }
    snprintf (out, size, "%s", a0);
}

bool
rp_replayable (const char *n)
{
    static const char *never[] = { "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro", "multi", "exec",
                                   "discard", "watch", "unwatch", "info", "ping", "hello", "select", "auth",
                                   "monitor", "quit", "reset", "echo", "wait", "blpop", "brpop", "blmove",
                                   "brpoplpush", "blmpop", "bzpopmin", "bzpopmax", "bzmpop", "subscribe",
                                   "psubscribe", "unsubscribe", "dbsize", "time", "flushall", "flushdb", NULL };
    static const char *never_prefix[] = { "script|", "function|", "client|", "config|", "command|", "cluster|",
                                          "acl|", "latency|", "slowlog|", "module|", "memory|", "object|", NULL };
    for (int i = 0; never[i]; i++)
        if (strcmp (n, never[i]) == 0)
            return false;
    for (int i = 0; never_prefix[i]; i++)
        if (strncmp (n, never_prefix[i], strlen (never_prefix[i])) == 0)
            return false;
    return true;
}

/* One quoted argument of a MONITOR line (sdscatrepr's escapes) into out; the end of it, or NULL. */
static const char *
s_unquote (const char *p, char *out, size_t *len)
{
    if (*p != '"')
        return NULL;
    p++;
    size_t n = 0;
    while (*p && *p != '"') {
        if (*p == '\\' && p[1]) {
            p++;
            switch (*p) {
            case 'n': out[n++] = '\n'; break;
            case 'r': out[n++] = '\r'; break;
            case 't': out[n++] = '\t'; break;
            case 'a': out[n++] = '\a'; break;
            case 'b': out[n++] = '\b'; break;
            case 'x': {
                unsigned v = 0;
                if (sscanf (p + 1, "%2x", &v) != 1)
                    return NULL;
                out[n++] = (char) v;
                p += 2;
                break;
            }
            default: out[n++] = *p; break;
            }
            p++;
        } else
            out[n++] = *p++;
    }
    if (*p != '"')
        return NULL;
    *len = n;
    return p + 1;
}

static int
s_name_index (rp_sample_t *s, const char *name)
{
    for (int i = 0; i < s->nnames; i++)
        if (strcmp (s->names[i], name) == 0)
            return i;
    if (s->nnames == RP_MAX_NAMES)
        return -1;
    snprintf (s->names[s->nnames], sizeof s->names[0], "%s", name);
    return s->nnames++;
}

/* `1796655600.123456 [0 127.0.0.1:43210] "SET" "k" "v"`, or `[0 lua]` inside a script. */
static void
s_line (rp_sample_t *s, const char *line, size_t len)
{
    const char *b = memchr (line, '[', len), *e = b ? memchr (b, ']', len - (size_t) (b - line)) : NULL;
    if (!b || !e)
        return;
    const char *sp = memchr (b, ' ', (size_t) (e - b));
    if (sp && (size_t) (e - sp - 1) == strlen (s->skip) && memcmp (sp + 1, s->skip, strlen (s->skip)) == 0)
        return;
    char *buf = malloc (len + 1);
    char *argv[1024];
    size_t lens[1024];
    int argc = 0;
    const char *p = e + 1;
    size_t off = 0;
    while (buf && argc < 1024 && *p == ' ') {
        size_t n = 0;
        p = s_unquote (p + 1, buf + off, &n);
        if (!p)
            break;
        argv[argc] = buf + off;
        lens[argc++] = n;
        buf[off + n] = '\0';
        off += n + 1;
    }
    char name[64];
    if (!p || argc == 0) {
        free (buf);
        return;
    }
    rp_stat_name (argv[0], argc > 1 ? argv[1] : NULL, name, sizeof name);
    int ni = rp_replayable (name) ? s_name_index (s, name) : -1;
    if (ni < 0) {
        free (buf);
        return;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 65536;
        s_cmd_t *c = realloc (s->cmds, cap * sizeof *c);
        if (!c) {
            free (buf);
            return;
        }
        s->cmds = c;
        s->cap = cap;
    }
    s_cmd_t *c = &s->cmds[s->n];
    c->argc = argc;
    c->argv = malloc ((size_t) argc * sizeof *c->argv);
    c->lens = malloc ((size_t) argc * sizeof *c->lens);
    if (!c->argv || !c->lens) {
        free (c->argv);
        free (c->lens);
        free (buf);
        return;
    }
    /* argv[0] points at the start of buf: freeing it frees them all */
    for (int i = 0; i < argc; i++) {
        c->argv[i] = argv[i];
        c->lens[i] = lens[i];
    }
    c->name = ni;
    c->keys = 0;
    s->counts[ni]++;
    s->n++;
}

static void *
s_monitor (void *arg)
{
    rp_sample_t *s = arg;
    redisReply *r = NULL;
    while (redisGetReply (s->c, (void **) &r) == REDIS_OK && r) {
        if (r->type == REDIS_REPLY_STATUS)
            s_line (s, r->str, r->len);
        freeReplyObject (r);
        r = NULL;
    }
    return NULL;
}

rp_sample_t *
rp_monitor_start (int port, int skip_port)
{
    rp_sample_t *s = calloc (1, sizeof *s);
    if (!s)
        return NULL;
    snprintf (s->skip, sizeof s->skip, "127.0.0.1:%d", skip_port);
    s->c = redisConnect ("127.0.0.1", port);
    redisReply *r = s->c && !s->c->err ? redisCommand (s->c, "MONITOR") : NULL;
    bool ok = r && r->type == REDIS_REPLY_STATUS;
    if (r)
        freeReplyObject (r);
    if (!ok || pthread_create (&s->th, NULL, s_monitor, s) != 0) {
        rp_destroy (&s);
        return NULL;
    }
    s->running = true;
    return s;
}

void
rp_monitor_stop (rp_sample_t *s)
{
    if (!s || !s->running)
        return;
    /* the thread waits in read(): shutting the socket down ends it */
    shutdown (s->c->fd, SHUT_RDWR);
    pthread_join (s->th, NULL);
    s->running = false;
    redisFree (s->c);
    s->c = NULL;
}

void
rp_destroy (rp_sample_t **s_p)
{
    rp_sample_t *s = *s_p;
    if (!s)
        return;
    rp_monitor_stop (s);
    if (s->c)
        redisFree (s->c);
    for (size_t i = 0; i < s->n; i++) {
        free (s->cmds[i].argv[0]);
        free (s->cmds[i].argv);
        free (s->cmds[i].lens);
    }
    free (s->cmds);
    free (s);
    *s_p = NULL;
}

size_t
rp_count (const rp_sample_t *s, const char *name)
{
    for (int i = 0; i < s->nnames; i++)
        if (strcmp (s->names[i], name) == 0)
            return s->counts[i];
    return 0;
}

size_t
rp_total (const rp_sample_t *s)
{
    return s->n;
}

const char *
rp_name (const rp_sample_t *s, size_t i)
{
    return i < (size_t) s->nnames ? s->names[i] : NULL;
}

int
rp_prepare (rp_sample_t *s, redisContext *c)
{
    const size_t depth = 1024;
    for (size_t i = 0; i < s->n; i += depth) {
        size_t m = s->n - i < depth ? s->n - i : depth;
        for (size_t j = 0; j < m; j++) {
            s_cmd_t *k = &s->cmds[i + j];
            const char *argv[1026];
            size_t lens[1026];
            argv[0] = "COMMAND";
            lens[0] = 7;
            argv[1] = "GETKEYS";
            lens[1] = 7;
            for (int a = 0; a < k->argc && a < 1024; a++) {
                argv[a + 2] = k->argv[a];
                lens[a + 2] = k->lens[a];
            }
            if (redisAppendCommandArgv (c, k->argc + 2, argv, lens) != REDIS_OK)
                return -1;
        }
        for (size_t j = 0; j < m; j++) {
            redisReply *r = NULL;
            if (redisGetReply (c, (void **) &r) != REDIS_OK || !r)
                return -1;
            s_cmd_t *k = &s->cmds[i + j];
            /* a command without keys answers an error: nothing to rename */
            for (size_t e = 0; r->type == REDIS_REPLY_ARRAY && e < r->elements; e++) {
                const redisReply *key = r->element[e];
                for (int a = 1; a < k->argc && a < RP_MAX_KEYS; a++)
                    if (!(k->keys & (1ULL << a)) && k->lens[a] == key->len
                        && memcmp (k->argv[a], key->str, key->len) == 0) {
                        k->keys |= 1ULL << a;
                        break;
                    }
            }
            freeReplyObject (r);
        }
    }
    return 0;
}

/* Reads the replies of a pipeline of n commands (sample indexes sent[]), counting errors and
 * naming the first. -1 when the connection failed. */
static int
s_drain (redisContext *c, const rp_sample_t *s, const size_t *sent, size_t n, rp_result_t *res)
{
    for (size_t i = 0; i < n; i++) {
        redisReply *r = NULL;
        if (redisGetReply (c, (void **) &r) != REDIS_OK || !r)
            return -1;
        if (r->type == REDIS_REPLY_ERROR && res->errors++ == 0) {
            const s_cmd_t *k = &s->cmds[sent[i]];
            snprintf (res->first_error, sizeof res->first_error, "%.40s %.40s%s%.30s: %.60s", k->argv[0],
                      k->argc > 1 ? k->argv[1] : "", k->argc > 2 ? " " : "", k->argc > 2 ? k->argv[2] : "", r->str);
        }
        freeReplyObject (r);
    }
    return 0;
}

rp_result_t
rp_replay (rp_sample_t *s, redisContext *c, size_t rounds, size_t chunk,
           double (*weight_of) (void *arg, const char *stat_name), void *arg)
{
    rp_result_t res = { 0 };
    double weight[RP_MAX_NAMES], acc[RP_MAX_NAMES];
    for (int i = 0; i < s->nnames; i++) {
        weight[i] = weight_of (arg, s->names[i]);
        acc[i] = 0.5;
    }
    /* the renamed keys of one command: "bl<round>:" + key, in one buffer */
    size_t cap = 1 << 16;
    char *keybuf = malloc (cap);
    const char **argv = malloc (1024 * sizeof *argv);
    size_t *lens = malloc (1024 * sizeof *lens), *sent = malloc (chunk * sizeof *sent);
    if (!keybuf || !argv || !lens || !sent) {
        snprintf (res.first_error, sizeof res.first_error, "out of memory");
        res.errors = 1;
        free (keybuf);
        free (argv);
        free (lens);
        free (sent);
        return res;
    }
    size_t pending = 0;
    double t0 = fx_now ();
    for (size_t round = 0; round < rounds; round++) {
        char prefix[32];
        int pl = snprintf (prefix, sizeof prefix, "bl%zu:", round);
        for (size_t i = 0; i < s->n; i++) {
            s_cmd_t *k = &s->cmds[i];
            acc[k->name] += weight[k->name];
            while (acc[k->name] >= 1) {
                acc[k->name] -= 1;
                size_t off = 0;
                for (int a = 0; a < k->argc; a++) {
                    if (a >= RP_MAX_KEYS || !(k->keys & (1ULL << a)) || off + (size_t) pl + k->lens[a] > cap) {
                        argv[a] = k->argv[a];
                        lens[a] = k->lens[a];
                        continue;
                    }
                    memcpy (keybuf + off, prefix, (size_t) pl);
                    memcpy (keybuf + off + pl, k->argv[a], k->lens[a]);
                    argv[a] = keybuf + off;
                    lens[a] = (size_t) pl + k->lens[a];
                    off += lens[a];
                }
                /* hiredis copies the arguments into its output buffer at once */
                if (redisAppendCommandArgv (c, k->argc, argv, lens) != REDIS_OK)
                    goto failed;
                res.commands++;
                sent[pending] = i;
                if (++pending == chunk) {
                    if (s_drain (c, s, sent, pending, &res) != 0)
                        goto failed;
                    pending = 0;
                }
            }
        }
    }
    if (s_drain (c, s, sent, pending, &res) != 0)
        goto failed;
    res.seconds = fx_now () - t0;
    free (keybuf);
    free (argv);
    free (lens);
    free (sent);
    return res;
failed:
    res.seconds = fx_now () - t0;
    res.errors++;
    snprintf (res.first_error, sizeof res.first_error, "connection: %s", c->errstr);
    free (keybuf);
    free (argv);
    free (lens);
    free (sent);
    return res;
}
