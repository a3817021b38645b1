/*  bus.c — acknowledged DEALER → ROUTER messaging with outbox, resend and CURVE (see bus.h). */
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sodium.h>
#include <zmq.h>
#include "plateau/bus.h"
#include "plateau/error.h"
#include "plateau/outbox.h"

#define PL_BUS_MAX_ANSWER_IDS 1024
#define PL_BUS_MAX_RESEND_MS 30000

/* ---- shared socket setup ----------------------------------------------------------------- */

static int
s_read_key (const char *path, char key[41], char *err, size_t err_size)
{
    FILE *f = fopen (path, "r");
    if (!f) {
        snprintf (err, err_size, "CURVE key file %s: %s", path, strerror (errno));
        return PL_EIO;
    }
    char line[128] = "";
    char *ok = fgets (line, sizeof line, f);
    fclose (f);
    line[strcspn (line, "\r\n \t")] = '\0';
    uint8_t bin[32];
    if (!ok || strlen (line) != 40 || !zmq_z85_decode (bin, line)) {
        snprintf (err, err_size, "CURVE key file %s: expected 40 characters of Z85", path);
        return PL_EINVAL;
    }
    memcpy (key, line, 41);
    return 0;
}

static void
s_common_options (void *sock, const pl_bus_options_t *o)
{
    int linger = o && o->linger_ms > 0 ? o->linger_ms : 1000;
    int hb = o && o->heartbeat_ms > 0 ? o->heartbeat_ms : 5000;
    int hb_timeout = hb * 3;
    int64_t maxmsg = PL_ENVELOPE_MAX_BYTES + 1024;
    zmq_setsockopt (sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (sock, ZMQ_HEARTBEAT_IVL, &hb, sizeof hb);
    zmq_setsockopt (sock, ZMQ_HEARTBEAT_TIMEOUT, &hb_timeout, sizeof hb_timeout);
    zmq_setsockopt (sock, ZMQ_HEARTBEAT_TTL, &hb_timeout, sizeof hb_timeout);
    zmq_setsockopt (sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    int hwm = 200000;
    zmq_setsockopt (sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt (sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
}

/* ---- the key list ------------------------------------------------------------------------ */

typedef struct {
    char name[64];
    uint8_t key[32];
} s_key_t;

typedef struct {
    s_key_t *v;
    size_t n;
    struct timespec mtime;     /* of the file as last read */
    off_t size;
    int64_t checked_ms;        /* monotonic: last look at the file */
} s_keys_t;

static void
s_keys_clear (s_keys_t *k)
{
    free (k->v);
    k->v = NULL;
    k->n = 0;
}

static bool
s_name_ok (const char *p)
{
    size_t n = strlen (p);
    if (n == 0 || n >= sizeof ((s_key_t *) 0)->name)
        return false;
    for (; *p; p++)
        if (!(isalnum ((unsigned char) *p) || *p == '_' || *p == '.' || *p == '-'))
            return false;
    return true;
}

/* Reads the key list into *out (replaced only on success). */
static int
s_keys_load (const char *path, s_keys_t *out, char *err, size_t err_size)
{
    FILE *f = fopen (path, "r");
    if (!f) {
        snprintf (err, err_size, "key list %s: %s", path, strerror (errno));
        return PL_EIO;
    }
    struct stat st;
    fstat (fileno (f), &st);
    s_keys_t k = { .mtime = st.st_mtim, .size = st.st_size };
    char line[512];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets (line, sizeof line, f)) {
        lineno++;
        /* '#' starts a comment only at the start of a line: it is also a Z85 digit. */
        char *p = line + strspn (line, " \t");
        if (!*p || *p == '#' || *p == '\n' || *p == '\r')
            continue;
        char name[128] = "", key[128] = "", extra[8] = "";
        uint8_t bin[32];
        int got = sscanf (p, "%127s %127s %7s", name, key, extra);
        if (got != 2 || !s_name_ok (name) || strlen (key) != 40 || !zmq_z85_decode (bin, key)) {
            snprintf (err, err_size, "key list %s line %d: expected '<identity> <40-character Z85 public key>'",
                      path, lineno);
            rc = PL_EINVAL;
            break;
        }
        for (size_t i = 0; i < k.n; i++)
            if (memcmp (k.v[i].key, bin, 32) == 0 && strcmp (k.v[i].name, name) != 0) {
                snprintf (err, err_size, "key list %s line %d: this key is already %s's", path, lineno,
                          k.v[i].name);
                rc = PL_EINVAL;
            }
        s_key_t *nv = rc == 0 ? realloc (k.v, (k.n + 1) * sizeof *nv) : NULL;
        if (rc == 0 && !nv)
            rc = PL_ENOMEM;
        if (rc != 0)
            break;
        k.v = nv;
        memcpy (k.v[k.n].name, name, strlen (name) + 1);     /* s_name_ok: it fits */
        memcpy (k.v[k.n++].key, bin, 32);
    }
    fclose (f);
    if (rc != 0) {
        s_keys_clear (&k);
        return rc;
    }
    s_keys_clear (out);
    *out = k;
    out->checked_ms = pl_clock_mono_ms ();
    return 0;
}

/* Reads the list again when the file changed (looked at every 2 s at most). 1 reloaded, 0 same,
 * <0 unreadable (the old list stays). */
static int
s_keys_refresh (const char *path, s_keys_t *k, char *err, size_t err_size)
{
    int64_t now = pl_clock_mono_ms ();
    if (now - k->checked_ms < 2000)
        return 0;
    k->checked_ms = now;
    struct stat st;
    if (stat (path, &st) != 0)
        return PL_EIO;
    if (st.st_size == k->size && st.st_mtim.tv_sec == k->mtime.tv_sec
        && st.st_mtim.tv_nsec == k->mtime.tv_nsec)
        return 0;
    int rc = s_keys_load (path, k, err, err_size);
    return rc == 0 ? 1 : rc;
}

static const s_key_t *
s_keys_by_key (const s_keys_t *k, const uint8_t key[32])
{
    for (size_t i = 0; i < k->n; i++)
        if (sodium_memcmp (k->v[i].key, key, 32) == 0)
            return &k->v[i];
    return NULL;
}

static const s_key_t *
s_keys_by_name (const s_keys_t *k, const char *name)
{
    for (size_t i = 0; i < k->n; i++)
        if (strcmp (k->v[i].name, name) == 0)
            return &k->v[i];
    return NULL;
}

int
pl_bus_keys_find (const char *keys_file, const char *identity, char pub[41], char *err, size_t err_size)
{
    s_keys_t k = { 0 };
    int rc = s_keys_load (keys_file, &k, err, err_size);
    if (rc != 0)
        return rc;
    const s_key_t *e = s_keys_by_name (&k, identity);
    if (e)
        zmq_z85_encode (pub, e->key, 32);
    else
        snprintf (err, err_size, "key list %s has no key for '%s'", keys_file, identity);
    s_keys_clear (&k);
    return e ? 0 : PL_ENOTFOUND;
}

int
pl_bus_keys_check (const char *keys_file, const char *secret_key_file, const char *identity,
                   char *err, size_t err_size)
{
    char secret[41], pub[41];
    int rc = s_read_key (secret_key_file, secret, err, err_size);
    if (rc != 0)
        return rc;
    if (zmq_curve_public (pub, secret) != 0) {
        snprintf (err, err_size, "CURVE key file %s: not a secret key", secret_key_file);
        return PL_EINVAL;
    }
    s_keys_t k = { 0 };
    if ((rc = s_keys_load (keys_file, &k, err, err_size)) != 0)
        return rc;
    uint8_t bin[32];
    zmq_z85_decode (bin, pub);
    const s_key_t *e = s_keys_by_key (&k, bin);
    if (!e || strcmp (e->name, identity) != 0) {
        snprintf (err, err_size, "key list %s does not list the public key of %s (%s) as '%s'%s%s",
                  keys_file, secret_key_file, pub, identity, e ? "; it is listed as " : "", e ? e->name : "");
        rc = PL_EINVAL;
    }
    s_keys_clear (&k);
    return rc;
}

/* ---- ZAP: admit only listed CURVE keys, named by their identity ----------------------------- */

typedef struct {
    void *ctx;
    void *sock;
    pthread_t thread;
    atomic_bool stop;
    char *keys_path;
    s_keys_t keys;             /* the ZAP thread's alone */
    atomic_ullong refused;
    atomic_ullong reload_failed;
    pthread_mutex_t lock;      /* guards last */
    char last[256];            /* the last refusal */
} s_zap_t;

static void
s_zap_reply (void *sock, zmq_msg_t *version, zmq_msg_t *reqid, const char *code, const char *text,
             const char *user)
{
    zmq_send (sock, zmq_msg_data (version), zmq_msg_size (version), ZMQ_SNDMORE);
    zmq_send (sock, zmq_msg_data (reqid), zmq_msg_size (reqid), ZMQ_SNDMORE);
    zmq_send (sock, code, strlen (code), ZMQ_SNDMORE);
    zmq_send (sock, text, strlen (text), ZMQ_SNDMORE);
    zmq_send (sock, user, strlen (user), ZMQ_SNDMORE);   /* user id: the identity */
    zmq_send (sock, "", 0, 0);                            /* metadata */
}

static void *
s_zap_run (void *arg)
{
    s_zap_t *z = arg;
    while (!atomic_load (&z->stop)) {
        zmq_pollitem_t item = { z->sock, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, 200) <= 0)
            continue;
        /* version, request id, domain, address, identity, mechanism, credentials… */
        zmq_msg_t f[8];
        int n = 0, more = 1;
        while (more) {
            zmq_msg_t part;
            zmq_msg_init (&part);
            if (zmq_msg_recv (&part, z->sock, 0) < 0) {
                zmq_msg_close (&part);
                break;
            }
            more = zmq_msg_more (&part);
            if (n < 8)
                f[n++] = part;
            else
                zmq_msg_close (&part);
        }
        if (n < 6) {
            for (int i = 0; i < n; i++)
                zmq_msg_close (&f[i]);
            continue;
        }
        char why[128];
        if (s_keys_refresh (z->keys_path, &z->keys, why, sizeof why) < 0)
            atomic_fetch_add (&z->reload_failed, 1);
        const s_key_t *who = NULL;
        if (zmq_msg_size (&f[5]) == 5 && memcmp (zmq_msg_data (&f[5]), "CURVE", 5) == 0 && n >= 7
            && zmq_msg_size (&f[6]) == 32)
            who = s_keys_by_key (&z->keys, zmq_msg_data (&f[6]));
        if (!who) {
            atomic_fetch_add (&z->refused, 1);
            char addr[64] = "", key[41] = "?";
            size_t al = zmq_msg_size (&f[3]) < sizeof addr - 1 ? zmq_msg_size (&f[3]) : sizeof addr - 1;
            memcpy (addr, zmq_msg_data (&f[3]), al);
            if (n >= 7 && zmq_msg_size (&f[6]) == 32)
                zmq_z85_encode (key, zmq_msg_data (&f[6]), 32);
            pthread_mutex_lock (&z->lock);
            snprintf (z->last, sizeof z->last, "key %s from %s is not in the key list", key, addr);
            pthread_mutex_unlock (&z->lock);
        }
        s_zap_reply (z->sock, &f[0], &f[1], who ? "200" : "400", who ? "OK" : "key not listed",
                     who ? who->name : "");
        for (int i = 0; i < n; i++)
            zmq_msg_close (&f[i]);
    }
    return NULL;
}

static void s_zap_stop (s_zap_t **zp);

static s_zap_t *
s_zap_start (void *ctx, const char *keys_file, char *err, size_t err_size)
{
    s_zap_t *z = calloc (1, sizeof *z);
    if (!z)
        return NULL;
    pthread_mutex_init (&z->lock, NULL);
    z->keys_path = strdup (keys_file);
    if (!z->keys_path || s_keys_load (keys_file, &z->keys, err, err_size) != 0) {
        free (z->keys_path);
        pthread_mutex_destroy (&z->lock);
        free (z);
        return NULL;
    }
    z->ctx = ctx;
    z->sock = zmq_socket (ctx, ZMQ_REP);
    int linger = 0;
    zmq_setsockopt (z->sock, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind (z->sock, "inproc://zeromq.zap.01") != 0
        || pthread_create (&z->thread, NULL, s_zap_run, z) != 0) {
        snprintf (err, err_size, "ZAP handler: %s", zmq_strerror (zmq_errno ()));
        zmq_close (z->sock);
        s_keys_clear (&z->keys);
        free (z->keys_path);
        pthread_mutex_destroy (&z->lock);
        free (z);
        return NULL;
    }
    return z;
}

static void
s_zap_stop (s_zap_t **zp)
{
    if (!*zp)
        return;
    s_zap_t *z = *zp;
    atomic_store (&z->stop, true);
    pthread_join (z->thread, NULL);
    zmq_close (z->sock);
    s_keys_clear (&z->keys);
    free (z->keys_path);
    pthread_mutex_destroy (&z->lock);
    free (z);
    *zp = NULL;
}

/* ---- socket monitor: failed handshakes ----------------------------------------------------- */

#define S_HANDSHAKE_FAILED (ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL \
                            | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)

/* Opens a PAIR socket receiving sock's events (a mask of ZMQ_EVENT_*). NULL when it cannot
 * (then they are simply not seen). */
static void *
s_monitor_open (void *ctx, void *sock, int events)
{
    char ep[64];
    snprintf (ep, sizeof ep, "inproc://pl-monitor-%p", sock);
    if (zmq_socket_monitor (sock, ep, events) != 0)
        return NULL;
    void *mon = zmq_socket (ctx, ZMQ_PAIR);
    int linger = 0;
    zmq_setsockopt (mon, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_connect (mon, ep) != 0) {
        zmq_close (mon);
        return NULL;
    }
    return mon;
}

/* Reads the next waiting monitor event: its ZMQ_EVENT_* number (0 when none), the peer
 * address in addr. */
static unsigned
s_monitor_next (void *mon, char *addr, size_t addr_size)
{
    if (!mon)
        return 0;
    zmq_msg_t ev;
    zmq_msg_init (&ev);
    if (zmq_msg_recv (&ev, mon, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&ev);
        return 0;
    }
    uint16_t event = 0;
    if (zmq_msg_size (&ev) >= 2)
        memcpy (&event, zmq_msg_data (&ev), 2);
    zmq_msg_close (&ev);
    zmq_msg_t where;                    /* second frame: the address */
    zmq_msg_init (&where);
    if (zmq_msg_recv (&where, mon, ZMQ_DONTWAIT) >= 0 && addr) {
        size_t n = zmq_msg_size (&where) < addr_size - 1 ? zmq_msg_size (&where) : addr_size - 1;
        memcpy (addr, zmq_msg_data (&where), n);
        addr[n] = '\0';
    }
    zmq_msg_close (&where);
    return event ? event : ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;
}

/* Reads waiting monitor events: returns how many were handshake failures; the peer address of
 * the last one in addr. */
static unsigned
s_monitor_drain (void *mon, char *addr, size_t addr_size)
{
    unsigned failures = 0, event;
    while ((event = s_monitor_next (mon, addr, addr_size)))
        if (event & S_HANDSHAKE_FAILED)
            failures++;
    return failures;
}

/* ---- server ------------------------------------------------------------------------------ */

enum { S_NONE, S_ACK, S_NACK, S_HOLD };

struct pl_bus_msg {
    pl_bus_server_t *server;
    uint8_t identity[256];     /* the ROUTER's routing id of the peer */
    size_t identity_size;
    char sender[64];           /* the CURVE identity ("" on a plaintext server) */
    char address[48];          /* the peer's IP address, for refusals an operator must trace */
    pl_envelope_t *env;
    int state;
    int code;
    char reason[256];
    int retry_after_ms;
};

/* Who may send a type: identities between commas (",a,b,"), or "*". */
typedef struct {
    char *type;
    char *who;
} s_rule_t;

struct pl_bus_server {
    void *ctx;
    void *sock;
    s_zap_t *zap;
    void *monitor;
    char endpoint[256];
    pl_bus_batch_fn *fn;
    void *fn_arg;
    char **types;
    s_rule_t *rules;
    size_t nrules;
    const pl_clock_t *clock;
    int64_t max_future_ms, max_age_ms;
    bool paused;
    uint64_t received, acked, nacked, malformed;
    uint64_t refused_handshake, refused_forbidden, refused_stale;
    char last_refusal[512];
};

pl_bus_server_t *
pl_bus_server_new (const char *endpoint, const pl_bus_options_t *o, char *err, size_t err_size)
{
    char dummy[256];
    if (!err) {
        err = dummy;
        err_size = sizeof dummy;
    }
    pl_bus_server_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->ctx = zmq_ctx_new ();
    self->sock = zmq_socket (self->ctx, ZMQ_ROUTER);
    s_common_options (self->sock, o);
    int one = 1;
    zmq_setsockopt (self->sock, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    if (o && (o->curve_secret_key_file || o->keys_file)) {
        char secret[41];
        if (!o->curve_secret_key_file || !o->keys_file) {
            snprintf (err, err_size, "CURVE server needs its secret key file and the key list");
            goto fail;
        }
        if (s_read_key (o->curve_secret_key_file, secret, err, err_size) != 0)
            goto fail;
        if (!(self->zap = s_zap_start (self->ctx, o->keys_file, err, err_size)))
            goto fail;
        zmq_setsockopt (self->sock, ZMQ_CURVE_SERVER, &one, sizeof one);
        zmq_setsockopt (self->sock, ZMQ_CURVE_SECRETKEY, secret, 41);
        zmq_setsockopt (self->sock, ZMQ_ZAP_DOMAIN, "plateau", 7);
        self->monitor = s_monitor_open (self->ctx, self->sock, S_HANDSHAKE_FAILED);
    }
    if (zmq_bind (self->sock, endpoint) != 0) {
        snprintf (err, err_size, "bind %s: %s", endpoint, zmq_strerror (zmq_errno ()));
        goto fail;
    }
    size_t len = sizeof self->endpoint;
    zmq_getsockopt (self->sock, ZMQ_LAST_ENDPOINT, self->endpoint, &len);
    return self;
fail:
    pl_bus_server_destroy (&self);
    return NULL;
}

void
pl_bus_server_destroy (pl_bus_server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pl_bus_server_t *self = *self_p;
    if (self->monitor)
        zmq_close (self->monitor);
    if (self->sock)
        zmq_close (self->sock);
    s_zap_stop (&self->zap);
    for (size_t i = 0; i < self->nrules; i++) {
        free (self->rules[i].type);
        free (self->rules[i].who);
    }
    free (self->rules);
    if (self->ctx)
        zmq_ctx_term (self->ctx);
    for (size_t i = 0; self->types && self->types[i]; i++)
        free (self->types[i]);
    free (self->types);
    free (self);
    *self_p = NULL;
}

void
pl_bus_server_set_handler (pl_bus_server_t *self, pl_bus_batch_fn *fn, void *arg,
                           const char *const *types)
{
    self->fn = fn;
    self->fn_arg = arg;
    if (types) {
        size_t n = 0;
        while (types[n])
            n++;
        self->types = calloc (n + 1, sizeof *self->types);
        for (size_t i = 0; self->types && i < n; i++)
            self->types[i] = strdup (types[i]);
    }
}

void *pl_bus_server_socket (pl_bus_server_t *self) { return self->sock; }
void pl_bus_server_pause (pl_bus_server_t *self, bool paused) { self->paused = paused; }
bool pl_bus_server_paused (const pl_bus_server_t *self) { return self->paused; }
const char *pl_bus_server_endpoint (const pl_bus_server_t *self) { return self->endpoint; }

uint64_t
pl_bus_server_count (const pl_bus_server_t *self, const char *what)
{
    if (strcmp (what, "received") == 0) return self->received;
    if (strcmp (what, "acked") == 0) return self->acked;
    if (strcmp (what, "nacked") == 0) return self->nacked;
    if (strcmp (what, "malformed") == 0) return self->malformed;
    if (strcmp (what, "refused_key") == 0) return self->zap ? atomic_load (&self->zap->refused) : 0;
    if (strcmp (what, "refused_handshake") == 0) return self->refused_handshake;
    if (strcmp (what, "refused_forbidden") == 0) return self->refused_forbidden;
    if (strcmp (what, "refused_stale") == 0) return self->refused_stale;
    if (strcmp (what, "key_reload_failed") == 0) return self->zap ? atomic_load (&self->zap->reload_failed) : 0;
    return 0;
}

/* Counts the failed handshakes the socket monitor saw (they never make the socket readable). */
static void
s_collect (pl_bus_server_t *self)
{
    if (!self->monitor)
        return;
    char addr[128] = "";
    unsigned failed = s_monitor_drain (self->monitor, addr, sizeof addr);
    if (failed) {
        self->refused_handshake += failed;
        snprintf (self->last_refusal, sizeof self->last_refusal,
                  "a handshake on %s failed (a plaintext peer, or CURVE with a wrong server key)", addr);
    }
}

void
pl_bus_server_last_refusal (pl_bus_server_t *self, char *buf, size_t size)
{
    s_collect (self);
    /* A refused key (ZAP thread) is newer news than a refusal kept here only when it is set. */
    char zap[256] = "";
    if (self->zap) {
        pthread_mutex_lock (&self->zap->lock);
        snprintf (zap, sizeof zap, "%s", self->zap->last);
        self->zap->last[0] = '\0';
        pthread_mutex_unlock (&self->zap->lock);
    }
    if (*zap)
        snprintf (self->last_refusal, sizeof self->last_refusal, "%s", zap);
    snprintf (buf, size, "%s", self->last_refusal);
}

int
pl_bus_server_allow (pl_bus_server_t *self, const char *type, const char *identities)
{
    char *who = malloc (strlen (identities) + 3);
    if (!who)
        return PL_ENOMEM;
    if (strcmp (identities, "*") == 0)
        strcpy (who, "*");
    else {
        /* ",a,b," without blanks, so that a name is found as ",name,". */
        char *w = who;
        *w++ = ',';
        for (const char *p = identities; *p; p++)
            if (!isspace ((unsigned char) *p))
                *w++ = *p;
        if (w[-1] != ',')
            *w++ = ',';
        *w = '\0';
    }
    for (size_t i = 0; i < self->nrules; i++)
        if (strcmp (self->rules[i].type, type) == 0) {
            free (self->rules[i].who);
            self->rules[i].who = who;
            return 0;
        }
    s_rule_t *nr = realloc (self->rules, (self->nrules + 1) * sizeof *nr);
    char *t = strdup (type);
    if (!nr || !t) {
        free (who);
        free (t);
        if (nr)
            self->rules = nr;
        return PL_ENOMEM;
    }
    self->rules = nr;
    self->rules[self->nrules++] = (s_rule_t) { t, who };
    return 0;
}

void
pl_bus_server_set_window (pl_bus_server_t *self, const pl_clock_t *clock, int64_t max_future_ms,
                          int64_t max_age_ms)
{
    self->clock = clock && !pl_clock_is_virtual (clock) ? clock : NULL;
    self->max_future_ms = max_future_ms;
    self->max_age_ms = max_age_ms;
}

static bool
s_allowed (const pl_bus_server_t *self, const char *type, const char *sender)
{
    if (!self->zap)
        return true;                   /* plaintext: no one is authenticated */
    const s_rule_t *rule = NULL;
    for (size_t i = 0; i < self->nrules && !rule; i++)
        if (strcmp (self->rules[i].type, type) == 0)
            rule = &self->rules[i];
    for (size_t i = 0; i < self->nrules && !rule; i++)
        if (strcmp (self->rules[i].type, "*") == 0)
            rule = &self->rules[i];
    if (!rule || !*sender)
        return false;
    if (strcmp (rule->who, "*") == 0)
        return true;
    size_t n = strlen (sender);
    for (const char *p = strstr (rule->who, sender); p; p = strstr (p + 1, sender))
        if (p[-1] == ',' && p[n] == ',')
            return true;
    return false;
}

/* 0 inside the window, else how far out (ms, negative: in the past). */
static int64_t
s_outside (const pl_bus_server_t *self, int64_t at_ms)
{
    if (!self->clock)
        return 0;
    int64_t now = pl_clock_now_ms (self->clock);
    if (at_ms > now + self->max_future_ms)
        return at_ms - now;
    if (at_ms < now - self->max_age_ms)
        return at_ms - now;
    return 0;
}

const pl_envelope_t *pl_bus_msg_envelope (const pl_bus_msg_t *m) { return m->env; }
const char *pl_bus_msg_sender (const pl_bus_msg_t *m) { return m->server->zap ? m->sender : NULL; }
bool pl_bus_msg_time_ok (const pl_bus_msg_t *m, int64_t at_ms) { return s_outside (m->server, at_ms) == 0; }
void pl_bus_msg_ack (pl_bus_msg_t *m) { m->state = S_ACK; }
void pl_bus_msg_hold (pl_bus_msg_t *m) { m->state = S_HOLD; }

void
pl_bus_msg_nack (pl_bus_msg_t *m, int code, const char *reason, int retry_after_ms)
{
    m->state = S_NACK;
    m->code = code;
    m->retry_after_ms = retry_after_ms;
    snprintf (m->reason, sizeof m->reason, "%s", reason ? reason : "");
}

static void
s_msg_free (pl_bus_msg_t **mp)
{
    if (*mp) {
        pl_envelope_free (&(*mp)->env);
        free (*mp);
        *mp = NULL;
    }
}

/* Sends [identity][type][envelope]; a vanished peer is not an error here (it will resend). */
static void
s_send_answer (pl_bus_server_t *self, const uint8_t *identity, size_t identity_size,
               pl_envelope_t *env)
{
    pl_envelope_ids_t ids;
    pl_envelope_t hdr;
    pl_envelope_init (&hdr, &ids, "bus", NULL, env->trace_id);
    env->id = hdr.id;
    env->trace_id = hdr.trace_id;
    env->source = "bus";
    env->sent_at_ms = hdr.sent_at_ms;
    env->schema_version = PL_SCHEMA_VERSION;
    size_t len;
    uint8_t *buf = pl_envelope_pack (env, &len);
    if (!buf)
        return;
    if (zmq_send (self->sock, identity, identity_size, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0) {
        zmq_send (self->sock, env->type, strlen (env->type), ZMQ_SNDMORE);
        zmq_send (self->sock, buf, len, 0);
    }
    free (buf);
}

static void
s_send_acks (pl_bus_server_t *self, const uint8_t *identity, size_t identity_size,
             char **ids, size_t n, const char *trace_id)
{
    Plateau__V1__Ack ack = PLATEAU__V1__ACK__INIT;
    ack.message_ids = ids;
    ack.n_message_ids = n;
    pl_envelope_t env = PLATEAU__V1__ENVELOPE__INIT;
    env.trace_id = (char *) trace_id;
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_ACK;
    env.ack = &ack;
    s_send_answer (self, identity, identity_size, &env);
    self->acked += n;
}

static void
s_send_nack (pl_bus_server_t *self, const uint8_t *identity, size_t identity_size, const char *id,
             int code, const char *reason, int retry_after_ms, const char *trace_id)
{
    Plateau__V1__Nack nack = PLATEAU__V1__NACK__INIT;
    nack.message_id = (char *) (id ? id : "");
    nack.code = (Plateau__V1__Nack__Code) code;
    nack.reason = (char *) (reason ? reason : "");
    nack.retry_after_ms = retry_after_ms;
    pl_envelope_t env = PLATEAU__V1__ENVELOPE__INIT;
    env.trace_id = (char *) trace_id;
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_NACK;
    env.nack = &nack;
    s_send_answer (self, identity, identity_size, &env);
    self->nacked++;
}

int
pl_bus_server_answer (pl_bus_server_t *self, pl_bus_msg_t **msg_p, int code, const char *reason,
                      int retry_after_ms)
{
    pl_bus_msg_t *m = *msg_p;
    if (!m)
        return PL_EINVAL;
    if (code == 0) {
        char *id = m->env->id;
        s_send_acks (self, m->identity, m->identity_size, &id, 1, m->env->trace_id);
    }
    else
        s_send_nack (self, m->identity, m->identity_size, m->env->id, code, reason,
                     retry_after_ms, m->env->trace_id);
    s_msg_free (msg_p);
    return 0;
}

static bool
s_type_handled (pl_bus_server_t *self, const char *type)
{
    if (!self->types)
        return self->fn != NULL;
    for (size_t i = 0; self->types[i]; i++)
        if (strcmp (self->types[i], type) == 0)
            return true;
    return false;
}

/* Reads one multipart message: [identity][type][payload]. 1 read, 0 none waiting, <0 error. */
static int
s_read_one (pl_bus_server_t *self, pl_bus_msg_t **out)
{
    *out = NULL;
    zmq_msg_t parts[3];
    int n = 0, more = 1, rc = 1;
    while (more) {
        zmq_msg_t part;
        zmq_msg_init (&part);
        if (zmq_msg_recv (&part, self->sock, n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            zmq_msg_close (&part);
            rc = n == 0 && zmq_errno () == EAGAIN ? 0 : PL_EIO;
            break;
        }
        more = zmq_msg_more (&part);
        if (n < 3)
            parts[n++] = part;
        else {
            zmq_msg_close (&part);
            n = 4;                     /* too many frames: malformed */
        }
    }
    if (rc <= 0 || n == 0) {
        for (int i = 0; i < n && i < 3; i++)
            zmq_msg_close (&parts[i]);
        return rc;
    }
    self->received++;
    pl_bus_msg_t *m = calloc (1, sizeof *m);
    m->server = self;
    const char *user = n >= 2 ? zmq_msg_gets (&parts[1], "User-Id") : NULL;
    snprintf (m->sender, sizeof m->sender, "%s", user ? user : "");
    const char *addr = n >= 2 ? zmq_msg_gets (&parts[1], "Peer-Address") : NULL;
    snprintf (m->address, sizeof m->address, "%s", addr ? addr : "?");
    m->identity_size = zmq_msg_size (&parts[0]) < sizeof m->identity ? zmq_msg_size (&parts[0]) : 0;
    memcpy (m->identity, zmq_msg_data (&parts[0]), m->identity_size);
    char why[256] = "expected two frames: [type][envelope]";
    if (n == 3)
        m->env = pl_envelope_unpack (zmq_msg_data (&parts[2]), zmq_msg_size (&parts[2]), why, sizeof why);
    if (m->env && (zmq_msg_size (&parts[1]) != strlen (m->env->type)
                   || memcmp (zmq_msg_data (&parts[1]), m->env->type, zmq_msg_size (&parts[1])) != 0)) {
        snprintf (why, sizeof why, "type frame does not match envelope type '%s'", m->env->type);
        pl_envelope_free (&m->env);
    }
    for (int i = 0; i < n && i < 3; i++)
        zmq_msg_close (&parts[i]);
    if (!m->env) {
        self->malformed++;
        s_send_nack (self, m->identity, m->identity_size, "", PLATEAU__V1__NACK__CODE__MALFORMED,
                     why, 0, NULL);
        s_msg_free (&m);
        return 1;
    }
    if (!s_allowed (self, m->env->type, m->sender)) {
        char reason[200];
        snprintf (reason, sizeof reason, "%s may not send %s here", *m->sender ? m->sender : "an unnamed peer",
                  m->env->type);
        self->refused_forbidden++;
        snprintf (self->last_refusal, sizeof self->last_refusal, "%s (message %s from %s)", reason, m->env->id,
                  m->address);
        s_send_nack (self, m->identity, m->identity_size, m->env->id,
                     PLATEAU__V1__NACK__CODE__FORBIDDEN, reason, 0, m->env->trace_id);
        s_msg_free (&m);
        return 1;
    }
    int64_t off = s_outside (self, m->env->sent_at_ms);
    if (off != 0) {
        char reason[200];
        snprintf (reason, sizeof reason, "sent %lld s %s this receiver's clock allows", (long long) (off < 0 ? -off : off) / 1000,
                  off < 0 ? "earlier than" : "later than");
        self->refused_stale++;
        snprintf (self->last_refusal, sizeof self->last_refusal, "%s %s from %s: %s", m->env->type, m->env->id,
                  *m->sender ? m->sender : "a plaintext peer", reason);
        s_send_nack (self, m->identity, m->identity_size, m->env->id,
                     PLATEAU__V1__NACK__CODE__STALE, reason, 0, m->env->trace_id);
        s_msg_free (&m);
        return 1;
    }
    if (!s_type_handled (self, m->env->type)) {
        char reason[200];
        snprintf (reason, sizeof reason, "this service does not handle %s", m->env->type);
        s_send_nack (self, m->identity, m->identity_size, m->env->id,
                     PLATEAU__V1__NACK__CODE__UNKNOWN_TYPE, reason, 0, m->env->trace_id);
        s_msg_free (&m);
        return 1;
    }
    *out = m;
    return 1;
}

int
pl_bus_server_process (pl_bus_server_t *self, size_t max_batch)
{
    s_collect (self);
    if (self->paused)
        return 0;
    if (max_batch == 0)
        max_batch = 256;
    pl_bus_msg_t **batch = calloc (max_batch, sizeof *batch);
    if (!batch)
        return PL_ENOMEM;
    size_t n = 0, read = 0;
    while (read < max_batch) {
        pl_bus_msg_t *m;
        int rc = s_read_one (self, &m);
        if (rc <= 0)
            break;
        read++;
        if (m)
            batch[n++] = m;
    }
    if (n > 0) {
        self->fn (self->fn_arg, batch, n);
        /* Acks to the same peer travel together. */
        char *ids[PL_BUS_MAX_ANSWER_IDS];
        for (size_t i = 0; i < n; i++) {
            pl_bus_msg_t *m = batch[i];
            if (!m || m->state == S_HOLD)
                continue;
            if (m->state == S_NONE)
                pl_bus_msg_nack (m, PLATEAU__V1__NACK__CODE__INTERNAL, "handler left message unanswered", 1000);
            if (m->state == S_NACK) {
                /* A handler's own refusals (a time inside the message, a sender that may not
                 * say that) count with the door's. */
                if (m->code == PLATEAU__V1__NACK__CODE__FORBIDDEN || m->code == PLATEAU__V1__NACK__CODE__STALE) {
                    if (m->code == PLATEAU__V1__NACK__CODE__FORBIDDEN)
                        self->refused_forbidden++;
                    else
                        self->refused_stale++;
                    snprintf (self->last_refusal, sizeof self->last_refusal, "%s %s from %s: %s", m->env->type,
                              m->env->id, *m->sender ? m->sender : "a plaintext peer", m->reason);
                }
                s_send_nack (self, m->identity, m->identity_size, m->env->id, m->code, m->reason,
                             m->retry_after_ms, m->env->trace_id);
                continue;
            }
            if (m->state != S_ACK)
                continue;              /* acked together with an earlier message */
            size_t k = 0;
            for (size_t j = i; j < n && k < PL_BUS_MAX_ANSWER_IDS; j++) {
                pl_bus_msg_t *o = batch[j];
                if (o && o->state == S_ACK && o->identity_size == m->identity_size
                    && memcmp (o->identity, m->identity, m->identity_size) == 0) {
                    ids[k++] = o->env->id;
                    o->state = -1;     /* answered below */
                }
            }
            s_send_acks (self, m->identity, m->identity_size, ids, k, m->env->trace_id);
        }
        for (size_t i = 0; i < n; i++)
            if (batch[i]->state != S_HOLD)
                s_msg_free (&batch[i]);
    }
    free (batch);
    return (int) read;
}

/* ---- client ------------------------------------------------------------------------------ */

typedef struct {
    char *id;                  /* NULL = empty slot; S_TOMB = deleted */
    char *type;
    uint8_t *data;
    size_t size;
    int64_t due_ms;            /* monotonic: next (re)send */
    uint32_t attempts;         /* successful sends */
    bool active;               /* inside the window: sent, or being sent, and awaited */
    int slot;                  /* -1: the outbox hash; else index in the client's slots */
    char *sid;                 /* stream entry id in that slot */
} s_entry_t;

/* One slot of the transactional outbox (outbox.h): a tag whose stream this client reads. */
typedef struct {
    char *tag;                 /* NULL: a free place in the slots array */
    char cursor[PL_OUTBOX_SID_MAX];    /* last entry read */
    long long score;           /* registry score when last read to the end */
    bool drained;              /* read to the end at `score` */
    size_t inflight;           /* entries of this slot in the table */
    int64_t idle_since_ms;     /* drained with nothing in flight since (0: not idle) */
    int64_t next_check_ms;     /* when a drained slot is read again though its score has not moved */
    int64_t check_every_ms;    /* that interval, doubling while nothing new turns up */
} s_slot_t;

/* An acknowledged entry whose delete failed: retried on tick. */
typedef struct {
    int slot;
    char *id;                  /* message id (hash) or stream entry id (slot) */
} s_pending_delete_t;

/* A drained slot is read again though its score has not moved (a writer's registry bump and its
 * step are two commands, between which a read may fall): S_RECHECK_FIRST_MS after it drained,
 * then at doubling intervals up to S_RECHECK_MAX_MS, at most S_RECHECKS_PER_PULL per pull so that
 * thousands of one-off tags (one per number opted out) never stall the loop. An empty slot is
 * forgotten S_SLOT_FORGET_MS after it last had something in flight. */
#define S_RECHECK_FIRST_MS 1000
#define S_RECHECK_MAX_MS 30000
#define S_RECHECKS_PER_PULL 64
#define S_FORGETS_PER_PULL 64
#define S_PULL_MIN_MS 5            /* after acks freed room */
#define S_PULL_TICK_MS 100         /* on the timer */
#define S_SLOT_FORGET_MS (60 * 1000)

static char s_tomb_mark;
#define S_TOMB (&s_tomb_mark)

/* One element of a client endpoint, and the addresses it resolved to last (kept when a later
 * resolution fails, so that a DNS hiccup drops no connection). */
typedef struct {
    char scheme[16];
    char host[256];
    char port[16];
    char **addrs;
    size_t naddrs;
} s_target_t;

/* One connection's CURVE server key. During a rotation the peer's identity has two keys and
 * its pods hold one or the other: a connection whose handshake fails moves to the identity's
 * next key, so that both are admitted and no pod waits for the key list to change. */
typedef struct {
    uint8_t key[32];
    bool tcp_up;               /* connected since the last disconnect */
    bool secured;              /* and the handshake succeeded */
} s_link_t;

struct pl_bus_client {
    void *ctx;
    void *sock;
    pl_redis_t *redis;
    const pl_clock_t *clock;
    pl_outbox_t *outbox;
    char *owner;
    char *peer;
    s_target_t *targets;       /* the endpoint's elements (one unless a comma-separated list) */
    size_t ntargets;
    char **connected;          /* addresses currently connected: the union of the targets' */
    s_link_t *links;           /* beside connected: each connection's CURVE state */
    size_t nconnected;
    int64_t next_resolve_ms;
    int resolve_interval_ms;
    /* Flow control: at most `window` messages on the wire unacknowledged; the rest wait in the
     * outbox (and in this FIFO of ids) so that a slow receiver is not flooded into timeouts and
     * needless resends. */
    size_t window, outstanding;
    char **queue;
    size_t qhead, qlen, qcap;
    int ack_timeout_ms;
    bool replayed;             /* the outbox was loaded after start */
    s_entry_t *table;          /* open addressing on id */
    size_t cap, count, used;
    s_pending_delete_t *unacked_deletes;
    size_t ndeletes, cap_deletes;
    s_slot_t *slots;           /* stable indexes (entries name their slot by index) */
    size_t nslots;             /* places used in slots, free ones included */
    int *slot_free;            /* free places, reused first */
    size_t nfree;
    int *slot_index;           /* open addressing on tag: slot index + 1, 0 = empty */
    size_t slot_index_cap;
    int64_t last_pull_ms;
    int64_t slot_idle_ms;      /* an empty slot is forgotten after this long idle */
    int64_t next_purge_ms;     /* dead letters past their TTL */
    uint64_t sent, resent, acked, nacked, dead, handshake_failed;
    pl_bus_dead_fn *dead_fn;   /* told of each dead letter */
    void *dead_arg;
    /* CURVE: the key list, read again when it changes; the server key in use. */
    char *keys_path;
    char *server_identity;
    s_keys_t keys;
    uint8_t server_key[32];
    void *monitor;
    char errstr[512];
};

static uint64_t
s_hash (const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    while (*s)
        h = (h ^ (uint8_t) *s++) * 1099511628211ULL;
    return h;
}

static s_entry_t *
s_find (pl_bus_client_t *self, const char *id)
{
    if (!self->cap)
        return NULL;
    size_t i = s_hash (id) & (self->cap - 1);
    for (;; i = (i + 1) & (self->cap - 1)) {
        s_entry_t *e = &self->table[i];
        if (!e->id)
            return NULL;
        if (e->id != S_TOMB && strcmp (e->id, id) == 0)
            return e;
    }
}

static void s_entry_clear (pl_bus_client_t *self, s_entry_t *e);

static int
s_grow (pl_bus_client_t *self)
{
    size_t cap = self->cap ? self->cap * 2 : 1024;
    if (self->used * 2 < self->cap)        /* mostly tombstones: rehash at the same size */
        cap = self->cap;
    s_entry_t *t = calloc (cap, sizeof *t);
    if (!t)
        return PL_ENOMEM;
    for (size_t i = 0; i < self->cap; i++) {
        s_entry_t *e = &self->table[i];
        if (!e->id || e->id == S_TOMB)
            continue;
        size_t j = s_hash (e->id) & (cap - 1);
        while (t[j].id)
            j = (j + 1) & (cap - 1);
        t[j] = *e;
    }
    free (self->table);
    self->table = t;
    self->cap = cap;
    self->count = self->used;
    return 0;
}

static void s_defer_delete (pl_bus_client_t *self, int slot, const char *id);

/* Takes ownership of id, type, data and sid. */
static s_entry_t *
s_insert (pl_bus_client_t *self, char *id, char *type, uint8_t *data, size_t size, int slot, char *sid)
{
    s_entry_t *old = s_find (self, id);
    if (old) {
        /* Already in flight (a replay, or a step that ran twice): keep one copy; a second stream
         * entry of the same message is deleted, the receiver has or will have the first. */
        if (slot >= 0 && sid && !(old->slot == slot && old->sid && strcmp (old->sid, sid) == 0))
            s_defer_delete (self, slot, sid);
        free (id);
        free (type);
        free (data);
        free (sid);
        return old;
    }
    if ((self->count + 1) * 4 >= self->cap * 3 && s_grow (self) != 0)
        return NULL;
    size_t i = s_hash (id) & (self->cap - 1);
    while (self->table[i].id && self->table[i].id != S_TOMB)
        i = (i + 1) & (self->cap - 1);
    s_entry_t *e = &self->table[i];
    if (!e->id)
        self->count++;
    e->id = id;
    e->type = type;
    e->data = data;
    e->size = size;
    e->attempts = 0;
    e->due_ms = 0;
    e->active = false;
    e->slot = slot;
    e->sid = sid;
    if (slot >= 0)
        self->slots[slot].inflight++;
    self->used++;
    return e;
}

static void
s_entry_clear (pl_bus_client_t *self, s_entry_t *e)
{
    if (e->active)
        self->outstanding--;
    if (e->slot >= 0)
        self->slots[e->slot].inflight--;
    free (e->id);
    free (e->type);
    free (e->data);
    free (e->sid);
    memset (e, 0, sizeof *e);
    e->id = S_TOMB;
    self->used--;
}

static void
s_strv_free (char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free (v[i]);
    free (v);
}

/* Adds a copy of s to *v unless it is there already. 0 or PL_ENOMEM. */
static int
s_strv_add (char ***v, size_t *n, const char *s)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp ((*v)[i], s) == 0)
            return 0;
    char **nv = realloc (*v, (*n + 1) * sizeof *nv);
    if (!nv)
        return PL_ENOMEM;
    *v = nv;
    if (!(nv[*n] = strdup (s)))
        return PL_ENOMEM;
    (*n)++;
    return 0;
}

static int
s_parse_target (s_target_t *t, const char *el, size_t len)
{
    const char *sep = memmem (el, len, "://", 3);
    if (!sep || sep == el || (size_t) (sep - el) >= sizeof t->scheme)
        return PL_EINVAL;
    snprintf (t->scheme, sizeof t->scheme, "%.*s", (int) (sep - el), el);
    const char *rest = sep + 3;
    size_t rlen = len - (size_t) (rest - el);
    if (rlen == 0 || rlen >= sizeof t->host)
        return PL_EINVAL;
    if (strcmp (t->scheme, "tcp") != 0) {
        snprintf (t->host, sizeof t->host, "%.*s", (int) rlen, rest);    /* ipc:// or inproc:// */
        return 0;
    }
    const char *colon = NULL;
    for (const char *c = rest; c < rest + rlen; c++)
        if (*c == ':')
            colon = c;
    if (!colon || colon == rest || colon + 1 == rest + rlen
        || (size_t) (rest + rlen - colon - 1) >= sizeof t->port)
        return PL_EINVAL;
    snprintf (t->host, sizeof t->host, "%.*s", (int) (colon - rest), rest);
    snprintf (t->port, sizeof t->port, "%.*s", (int) (rest + rlen - colon - 1), colon + 1);
    return 0;
}

/* Splits the endpoint on commas into targets. PL_EINVAL with the bad element named in err. */
static int
s_parse_endpoint (pl_bus_client_t *self, const char *endpoint, char *err, size_t err_size)
{
    const char *p = endpoint;
    for (;;) {
        const char *comma = strchr (p, ',');
        size_t len = comma ? (size_t) (comma - p) : strlen (p);
        while (len && (*p == ' ' || *p == '\t')) {
            p++;
            len--;
        }
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        s_target_t *t = realloc (self->targets, (self->ntargets + 1) * sizeof *t);
        if (!t) {
            snprintf (err, err_size, "endpoint '%s': out of memory", endpoint);
            return PL_ENOMEM;
        }
        self->targets = t;
        t = &self->targets[self->ntargets];
        memset (t, 0, sizeof *t);
        if (s_parse_target (t, p, len) != 0) {
            if (comma || p != endpoint)
                snprintf (err, err_size, "endpoint '%.*s' in '%s': expected tcp://host:port, ipc://path "
                          "or inproc://name", (int) len, p, endpoint);
            else
                snprintf (err, err_size, "endpoint '%s': expected tcp://host:port, ipc://path or "
                          "inproc://name (or a comma-separated list of them)", endpoint);
            return PL_EINVAL;
        }
        self->ntargets++;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

/* Resolves one target to its addresses; on failure keeps the ones it had. */
static int
s_resolve_target (pl_bus_client_t *self, s_target_t *t)
{
    char **addrs = NULL;
    size_t naddrs = 0;
    if (strcmp (t->scheme, "tcp") != 0) {
        char *ep = NULL;
        if (asprintf (&ep, "%s://%s", t->scheme, t->host) < 0)
            return PL_ENOMEM;
        int rc = s_strv_add (&addrs, &naddrs, ep);
        free (ep);
        if (rc != 0) {
            s_strv_free (addrs, naddrs);
            return rc;
        }
    }
    else {
        struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM };
        struct addrinfo *res = NULL;
        int rc = getaddrinfo (t->host, t->port, &hints, &res);
        if (rc != 0) {
            snprintf (self->errstr, sizeof self->errstr, "resolve %s: %s", t->host, gai_strerror (rc));
            return PL_EIO;         /* keep this target's current addresses */
        }
        for (struct addrinfo *a = res; a; a = a->ai_next) {
            char ip[64];
            if (getnameinfo (a->ai_addr, a->ai_addrlen, ip, sizeof ip, NULL, 0, NI_NUMERICHOST) != 0)
                continue;
            char *ep = NULL;
            if (asprintf (&ep, "tcp://%s:%s", ip, t->port) < 0)
                continue;
            rc = s_strv_add (&addrs, &naddrs, ep);
            free (ep);
            if (rc != 0) {
                freeaddrinfo (res);
                s_strv_free (addrs, naddrs);
                return rc;
            }
        }
        freeaddrinfo (res);
    }
    s_strv_free (t->addrs, t->naddrs);
    t->addrs = addrs;
    t->naddrs = naddrs;
    return 0;
}

/* Resolves every target and reconciles the connections with the union of their addresses: one
 * socket to all of them, whether they came from one name or from a list. */
static int
s_resolve (pl_bus_client_t *self)
{
    int result = 0;
    char **want = NULL;
    size_t nwant = 0;
    for (size_t k = 0; k < self->ntargets; k++) {
        s_target_t *t = &self->targets[k];
        int rc = s_resolve_target (self, t);
        if (rc != 0)
            result = rc;
        for (size_t i = 0; i < t->naddrs; i++)
            if (s_strv_add (&want, &nwant, t->addrs[i]) != 0) {
                s_strv_free (want, nwant);
                return PL_ENOMEM;  /* keep the current connections */
            }
    }
    s_link_t *links = calloc (nwant ? nwant : 1, sizeof *links);
    if (!links) {
        s_strv_free (want, nwant);
        return PL_ENOMEM;
    }
    /* Drop what is gone, connect what is new. */
    for (size_t i = 0; i < self->nconnected; i++) {
        bool keep = false;
        for (size_t j = 0; j < nwant && !keep; j++)
            keep = strcmp (self->connected[i], want[j]) == 0;
        if (!keep)
            zmq_disconnect (self->sock, self->connected[i]);
    }
    for (size_t j = 0; j < nwant; j++) {
        size_t have = self->nconnected;
        for (size_t i = 0; i < self->nconnected && have == self->nconnected; i++)
            if (strcmp (self->connected[i], want[j]) == 0)
                have = i;
        if (have < self->nconnected) {
            links[j] = self->links[have];
            continue;
        }
        memcpy (links[j].key, self->server_key, 32);
        if (self->keys_path)
            zmq_setsockopt (self->sock, ZMQ_CURVE_SERVERKEY, links[j].key, 32);
        if (zmq_connect (self->sock, want[j]) != 0)
            snprintf (self->errstr, sizeof self->errstr, "connect %s: %s", want[j], zmq_strerror (zmq_errno ()));
    }
    s_strv_free (self->connected, self->nconnected);
    free (self->links);
    self->connected = want;
    self->links = links;
    self->nconnected = nwant;
    return result;
}

/* Connects address i again with the given server key. */
static void
s_relink (pl_bus_client_t *self, size_t i, const uint8_t key[32])
{
    zmq_disconnect (self->sock, self->connected[i]);
    memcpy (self->links[i].key, key, 32);
    self->links[i].tcp_up = self->links[i].secured = false;
    zmq_setsockopt (self->sock, ZMQ_CURVE_SERVERKEY, key, 32);
    if (zmq_connect (self->sock, self->connected[i]) != 0)
        snprintf (self->errstr, sizeof self->errstr, "connect %s: %s", self->connected[i],
                  zmq_strerror (zmq_errno ()));
}

/* The identity's key listed after `key` (cycling), or its first when `key` is not listed;
 * NULL when the identity has none. */
static const s_key_t *
s_keys_next_of (const s_keys_t *k, const char *name, const uint8_t key[32])
{
    const s_key_t *first = NULL;
    bool passed = false;
    for (size_t i = 0; i < k->n; i++) {
        if (strcmp (k->v[i].name, name) != 0)
            continue;
        if (passed)
            return &k->v[i];
        if (!first)
            first = &k->v[i];
        passed = memcmp (k->v[i].key, key, 32) == 0;
    }
    return first;
}

/* Follows the connections' handshakes: one that was refused, or dropped before it was secured
 * (a server that cannot open our HELLO closes without a word), tries the identity's next key. */
static void
s_watch_links (pl_bus_client_t *self)
{
    char addr[128] = "";
    unsigned event;
    while ((event = s_monitor_next (self->monitor, addr, sizeof addr))) {
        if (event & S_HANDSHAKE_FAILED) {
            self->handshake_failed++;
            snprintf (self->errstr, sizeof self->errstr, "CURVE handshake with %s (%s) failed: its key "
                      "is not %s's in the key list, or ours is not listed there", addr, self->peer,
                      self->server_identity);
        }
        size_t i = 0;
        while (i < self->nconnected && strcmp (self->connected[i], addr) != 0)
            i++;
        if (i == self->nconnected)
            continue;
        s_link_t *l = &self->links[i];
        if (event == ZMQ_EVENT_CONNECTED) {
            l->tcp_up = true;
            l->secured = false;
        } else if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            l->secured = true;
        } else if (l->tcp_up && !l->secured) {
            const s_key_t *next = s_keys_next_of (&self->keys, self->server_identity, l->key);
            if (next && memcmp (next->key, l->key, 32) != 0)
                s_relink (self, i, next->key);
            else
                l->tcp_up = false;
        } else {
            l->tcp_up = false;
        }
    }
}

static void s_transmit (pl_bus_client_t *self, s_entry_t *e, int64_t now);

static void
s_queue_push (pl_bus_client_t *self, const char *id)
{
    if (self->qlen == self->qcap) {
        size_t cap = self->qcap ? self->qcap * 2 : 1024;
        char **q = malloc (cap * sizeof *q);
        if (!q)
            return;            /* stays in the table: sent by the next tick's sweep */
        for (size_t i = 0; i < self->qlen; i++)
            q[i] = self->queue[(self->qhead + i) % self->qcap];
        free (self->queue);
        self->queue = q;
        self->qcap = cap;
        self->qhead = 0;
    }
    self->queue[(self->qhead + self->qlen++) % self->qcap] = strdup (id);
}

static void
s_activate (pl_bus_client_t *self, s_entry_t *e, int64_t now)
{
    e->active = true;
    self->outstanding++;
    s_transmit (self, e, now);
}

/* A new entry goes on the wire now if the window has room, else waits its turn. */
static void
s_admit (pl_bus_client_t *self, s_entry_t *e, int64_t now)
{
    if (self->outstanding < self->window)
        s_activate (self, e, now);
    else
        s_queue_push (self, e->id);
}

static void
s_drain_queue (pl_bus_client_t *self, int64_t now)
{
    while (self->qlen && self->outstanding < self->window) {
        char *id = self->queue[self->qhead];
        self->qhead = (self->qhead + 1) % self->qcap;
        self->qlen--;
        s_entry_t *e = id ? s_find (self, id) : NULL;
        if (e && !e->active)
            s_activate (self, e, now);
        free (id);
    }
}

/* Loads what the outbox still owes (after a restart) into the in-flight table. */
static int
s_replay (pl_bus_client_t *self)
{
    pl_outbox_item_t *items;
    size_t n;
    int rc = pl_outbox_load (self->outbox, &items, &n);
    if (rc != 0) {
        snprintf (self->errstr, sizeof self->errstr, "%s", pl_outbox_errstr (self->outbox));
        return rc;
    }
    int64_t now = pl_clock_mono_ms ();
    for (size_t i = 0; i < n; i++) {
        s_entry_t *e = s_insert (self, items[i].id, items[i].type, items[i].data, items[i].size, -1, NULL);
        if (e && !e->active)
            s_admit (self, e, now);
        items[i].id = NULL;
        items[i].type = NULL;
        items[i].data = NULL;
    }
    pl_outbox_items_free (items, n);
    self->replayed = true;
    return 0;
}

pl_bus_client_t *
pl_bus_client_new (pl_redis_t *redis, const pl_clock_t *clock, const char *owner, const char *peer,
                   const char *endpoint, const pl_bus_options_t *o, char *err, size_t err_size)
{
    char dummy[256];
    if (!err) {
        err = dummy;
        err_size = sizeof dummy;
    }
    pl_bus_client_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->redis = redis;
    self->clock = clock;
    self->owner = strdup (owner);
    self->peer = strdup (peer);
    self->ack_timeout_ms = 2000;
    self->resolve_interval_ms = 10000;
    self->slot_idle_ms = S_SLOT_FORGET_MS;
    self->window = 4096;
    self->outbox = pl_outbox_new (redis, owner, peer);
    if (self->outbox && o && o->dead_ttl_ms > 0)
        pl_outbox_set_dead_ttl (self->outbox, o->dead_ttl_ms);
    self->next_purge_ms = pl_clock_mono_ms () + 1000;
    if (s_parse_endpoint (self, endpoint, err, err_size) != 0)
        goto fail;
    self->ctx = zmq_ctx_new ();
    self->sock = zmq_socket (self->ctx, ZMQ_DEALER);
    s_common_options (self->sock, o);
    int one = 1;
    zmq_setsockopt (self->sock, ZMQ_IMMEDIATE, &one, sizeof one);
    if (o && (o->curve_secret_key_file || o->keys_file)) {
        char pub[41], secret[41];
        if (!o->curve_secret_key_file || !o->keys_file) {
            snprintf (err, err_size, "CURVE client needs its secret key file and the key list");
            goto fail;
        }
        if (s_read_key (o->curve_secret_key_file, secret, err, err_size) != 0)
            goto fail;
        if (zmq_curve_public (pub, secret) != 0) {
            snprintf (err, err_size, "CURVE key file %s: not a secret key", o->curve_secret_key_file);
            goto fail;
        }
        self->keys_path = strdup (o->keys_file);
        self->server_identity = strdup (o->server_identity ? o->server_identity : peer);
        if (!self->keys_path || !self->server_identity
            || s_keys_load (o->keys_file, &self->keys, err, err_size) != 0)
            goto fail;
        const s_key_t *server = s_keys_by_name (&self->keys, self->server_identity);
        if (!server) {
            snprintf (err, err_size, "key list %s has no key for '%s'", o->keys_file, self->server_identity);
            goto fail;
        }
        memcpy (self->server_key, server->key, 32);
        zmq_setsockopt (self->sock, ZMQ_CURVE_SERVERKEY, server->key, 32);
        zmq_setsockopt (self->sock, ZMQ_CURVE_PUBLICKEY, pub, 41);
        zmq_setsockopt (self->sock, ZMQ_CURVE_SECRETKEY, secret, 41);
        sodium_memzero (secret, sizeof secret);
        self->monitor = s_monitor_open (self->ctx, self->sock, S_HANDSHAKE_FAILED | ZMQ_EVENT_CONNECTED
                                        | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    }
    s_resolve (self);
    self->next_resolve_ms = pl_clock_mono_ms () + self->resolve_interval_ms;
    s_replay (self);           /* Redis may be down now: retried on tick */
    return self;
fail:
    pl_bus_client_destroy (&self);
    return NULL;
}

void
pl_bus_client_destroy (pl_bus_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pl_bus_client_t *self = *self_p;
    if (self->monitor)
        zmq_close (self->monitor);
    if (self->sock)
        zmq_close (self->sock);
    if (self->ctx)
        zmq_ctx_term (self->ctx);
    s_keys_clear (&self->keys);
    free (self->keys_path);
    free (self->server_identity);
    for (size_t i = 0; i < self->cap; i++)
        if (self->table[i].id && self->table[i].id != S_TOMB)
            s_entry_clear (self, &self->table[i]);
    free (self->table);
    s_strv_free (self->connected, self->nconnected);
    free (self->links);
    for (size_t i = 0; i < self->ntargets; i++)
        s_strv_free (self->targets[i].addrs, self->targets[i].naddrs);
    free (self->targets);
    for (size_t i = 0; i < self->ndeletes; i++)
        free (self->unacked_deletes[i].id);
    free (self->unacked_deletes);
    for (size_t i = 0; i < self->nslots; i++)
        free (self->slots[i].tag);
    free (self->slots);
    free (self->slot_free);
    free (self->slot_index);
    for (size_t i = 0; i < self->qlen; i++)
        free (self->queue[(self->qhead + i) % self->qcap]);
    free (self->queue);
    pl_outbox_destroy (&self->outbox);
    free (self->owner);
    free (self->peer);
    free (self);
    *self_p = NULL;
}

void *pl_bus_client_socket (pl_bus_client_t *self) { return self->sock; }
size_t pl_bus_client_inflight (const pl_bus_client_t *self) { return self->used; }
void pl_bus_client_set_ack_timeout (pl_bus_client_t *self, int ms) { self->ack_timeout_ms = ms > 0 ? ms : 2000; }
void pl_bus_client_set_window (pl_bus_client_t *self, size_t n) { self->window = n > 0 ? n : 4096; }
size_t pl_bus_client_peers (const pl_bus_client_t *self) { return self->nconnected; }
const char *pl_bus_client_errstr (const pl_bus_client_t *self) { return self->errstr; }

void
pl_bus_client_set_resolve_interval (pl_bus_client_t *self, int ms)
{
    self->resolve_interval_ms = ms > 0 ? ms : 10000;
    self->next_resolve_ms = pl_clock_mono_ms () + self->resolve_interval_ms;
}

void
pl_bus_client_set_slot_idle (pl_bus_client_t *self, int ms)
{
    self->slot_idle_ms = ms > 0 ? ms : S_SLOT_FORGET_MS;
}

void
pl_bus_client_on_dead (pl_bus_client_t *self, pl_bus_dead_fn *fn, void *arg)
{
    self->dead_fn = fn;
    self->dead_arg = arg;
}

uint64_t
pl_bus_client_count (const pl_bus_client_t *self, const char *what)
{
    if (strcmp (what, "sent") == 0) return self->sent;
    if (strcmp (what, "resent") == 0) return self->resent;
    if (strcmp (what, "acked") == 0) return self->acked;
    if (strcmp (what, "nacked") == 0) return self->nacked;
    if (strcmp (what, "dead") == 0) return self->dead;
    if (strcmp (what, "handshake_failed") == 0) return self->handshake_failed;
    return 0;
}

/* Sends one entry; on a full or peerless socket it stays due and is retried on tick. */
static void
s_transmit (pl_bus_client_t *self, s_entry_t *e, int64_t now)
{
    const uint8_t *data = e->data;
    size_t size = e->size;
    uint8_t *repacked = NULL;
    if (e->attempts > 0) {
        /* A resend says which attempt it is, for the receiver's logs and metrics. */
        pl_envelope_t *env = pl_envelope_unpack (e->data, e->size, NULL, 0);
        if (env) {
            env->attempt = e->attempts + 1;
            repacked = pl_envelope_pack (env, &size);
            if (repacked)
                data = repacked;
            else
                size = e->size;
            pl_envelope_free (&env);
        }
    }
    int backoff = self->ack_timeout_ms << (e->attempts < 4 ? e->attempts : 4);
    if (backoff > PL_BUS_MAX_RESEND_MS)
        backoff = PL_BUS_MAX_RESEND_MS;
    if (zmq_send (self->sock, e->type, strlen (e->type), ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0
        && zmq_send (self->sock, data, size, 0) >= 0) {
        if (e->attempts++ == 0)
            self->sent++;
        else
            self->resent++;
        e->due_ms = now + backoff;
    }
    else
        e->due_ms = now + 100;         /* no peer yet: try again soon */
    free (repacked);
}

int
pl_bus_client_send (pl_bus_client_t *self, pl_envelope_t *const *envs, size_t n)
{
    if (n == 0)
        return 0;
    const char **ids = calloc (n, sizeof *ids);
    const char **types = calloc (n, sizeof *types);
    uint8_t **data = calloc (n, sizeof *data);
    size_t *sizes = calloc (n, sizeof *sizes);
    int rc = PL_ENOMEM;
    if (!ids || !types || !data || !sizes)
        goto done;
    for (size_t i = 0; i < n; i++) {
        if (!(data[i] = pl_envelope_pack (envs[i], &sizes[i])))
            goto done;
        ids[i] = envs[i]->id;
        types[i] = envs[i]->type;
    }
    rc = pl_outbox_put (self->outbox, n, ids, types, (const uint8_t *const *) data, sizes);
    if (rc != 0) {
        snprintf (self->errstr, sizeof self->errstr, "%s", pl_outbox_errstr (self->outbox));
        goto done;
    }
    int64_t now = pl_clock_mono_ms ();
    for (size_t i = 0; i < n; i++) {
        s_entry_t *e = s_insert (self, strdup (ids[i]), strdup (types[i]), data[i], sizes[i], -1, NULL);
        data[i] = NULL;
        if (e && !e->active)
            s_admit (self, e, now);
    }
done:
    for (size_t i = 0; data && i < n; i++)
        free (data[i]);
    free (ids);
    free (types);
    free (data);
    free (sizes);
    return rc;
}

static void
s_defer_delete (pl_bus_client_t *self, int slot, const char *id)
{
    if (self->ndeletes == self->cap_deletes) {
        size_t cap = self->cap_deletes ? self->cap_deletes * 2 : 256;
        s_pending_delete_t *nd = realloc (self->unacked_deletes, cap * sizeof *nd);
        if (!nd)
            return;            /* the message will be resent after a restart: harmless */
        self->unacked_deletes = nd;
        self->cap_deletes = cap;
    }
    char *copy = strdup (id);
    if (copy)
        self->unacked_deletes[self->ndeletes++] = (s_pending_delete_t) { slot, copy };
}

/* Deletes acknowledged entries: one HDEL for the hash, one XDEL per slot. Entries whose delete
 * failed are kept for the next tick; returns PL_EREDIS then. ids[i] is a message id for slot -1,
 * a stream entry id otherwise. */
static int
s_by_slot (const void *a, const void *b)
{
    int x = ((const s_pending_delete_t *) a)->slot, y = ((const s_pending_delete_t *) b)->slot;
    return (x > y) - (x < y);
}

static int
s_delete (pl_bus_client_t *self, const s_pending_delete_t *dels, size_t n, bool keep_failed)
{
    int rc = 0;
    const char **batch = malloc ((n ? n : 1) * sizeof *batch);
    s_pending_delete_t *sorted = malloc ((n ? n : 1) * sizeof *sorted);
    if (!batch || !sorted) {
        free (batch);
        free (sorted);
        return PL_ENOMEM;
    }
    memcpy (sorted, dels, n * sizeof *sorted);
    qsort (sorted, n, sizeof *sorted, s_by_slot);
    for (size_t at = 0; at < n;) {
        int slot = sorted[at].slot;
        size_t k = 0;
        while (at < n && sorted[at].slot == slot)
            batch[k++] = sorted[at++].id;
        int r = slot < 0 ? pl_outbox_ack (self->outbox, k, batch)
                         : pl_outbox_slot_ack (self->outbox, self->slots[slot].tag, k, batch);
        if (r != 0) {
            snprintf (self->errstr, sizeof self->errstr, "%s", pl_outbox_errstr (self->outbox));
            rc = PL_EREDIS;
            for (size_t i = 0; keep_failed && i < k; i++)
                s_defer_delete (self, slot, batch[i]);
        }
    }
    free (batch);
    free (sorted);
    return rc;
}

static bool
s_permanent (int code)
{
    return code == PLATEAU__V1__NACK__CODE__MALFORMED || code == PLATEAU__V1__NACK__CODE__UNKNOWN_TYPE
           || code == PLATEAU__V1__NACK__CODE__INVALID || code == PLATEAU__V1__NACK__CODE__TOO_LARGE
           || code == PLATEAU__V1__NACK__CODE__FORBIDDEN || code == PLATEAU__V1__NACK__CODE__STALE;
}

/* Where tag is, or would go, in the slot index. */
static size_t
s_slot_probe (const pl_bus_client_t *self, const char *tag)
{
    size_t m = self->slot_index_cap - 1, i = s_hash (tag) & m;
    while (self->slot_index[i] && strcmp (self->slots[self->slot_index[i] - 1].tag, tag) != 0)
        i = (i + 1) & m;
    return i;
}

/* Doubles the slot index (it is kept at most half full). */
static int
s_slot_index_grow (pl_bus_client_t *self)
{
    size_t cap = self->slot_index_cap ? self->slot_index_cap * 2 : 64;
    int *idx = calloc (cap, sizeof *idx);
    if (!idx)
        return PL_ENOMEM;
    free (self->slot_index);
    self->slot_index = idx;
    self->slot_index_cap = cap;
    for (size_t j = 0; j < self->nslots; j++)
        if (self->slots[j].tag)
            self->slot_index[s_slot_probe (self, self->slots[j].tag)] = (int) j + 1;
    return 0;
}

/* The slot of tag in the client, made on first sight; -1 when out of memory. */
static int
s_slot (pl_bus_client_t *self, const char *tag)
{
    if ((self->nslots - self->nfree + 1) * 2 > self->slot_index_cap && s_slot_index_grow (self) != 0)
        return -1;
    size_t at = s_slot_probe (self, tag);
    if (self->slot_index[at])
        return self->slot_index[at] - 1;
    char *copy = strdup (tag);
    if (!copy)
        return -1;
    int j;
    if (self->nfree)
        j = self->slot_free[--self->nfree];
    else {
        /* slot_free grows with slots: a drop always has room for its place */
        s_slot_t *ns = realloc (self->slots, (self->nslots + 1) * sizeof *ns);
        if (ns)
            self->slots = ns;
        int *fl = ns ? realloc (self->slot_free, (self->nslots + 1) * sizeof *fl) : NULL;
        if (!fl) {
            free (copy);
            return -1;
        }
        self->slot_free = fl;
        j = (int) self->nslots++;
    }
    s_slot_t *sl = &self->slots[j];
    memset (sl, 0, sizeof *sl);
    sl->tag = copy;
    snprintf (sl->cursor, sizeof sl->cursor, "0-0");
    self->slot_index[at] = j + 1;
    return j;
}

/* Drops slot j from the client: it has nothing in flight and no delete pending. Its place is
 * reused; the index closes the gap by moving later entries of the probe run back. */
static void
s_slot_drop (pl_bus_client_t *self, int j)
{
    size_t m = self->slot_index_cap - 1, i = s_slot_probe (self, self->slots[j].tag);
    for (size_t k = (i + 1) & m; self->slot_index[k]; k = (k + 1) & m) {
        size_t h = s_hash (self->slots[self->slot_index[k] - 1].tag) & m;
        bool stays = i <= k ? (i < h && h <= k) : (i < h || h <= k);
        if (!stays) {
            self->slot_index[i] = self->slot_index[k];
            i = k;
        }
    }
    self->slot_index[i] = 0;
    free (self->slots[j].tag);
    memset (&self->slots[j], 0, sizeof self->slots[j]);
    self->slot_free[self->nfree++] = j;
}

/* Whether a delete of slot j waits to be retried. */
static bool
s_slot_pending (const pl_bus_client_t *self, int j)
{
    for (size_t i = 0; i < self->ndeletes; i++)
        if (self->unacked_deletes[i].slot == j)
            return true;
    return false;
}

/* Reads the transactional outbox's slots into the table: new tags, tags whose registry score
 * moved since they were read to the end, tags not read to the end, and drained tags whose
 * re-read is due (S_RECHECK_*). The table holds at most twice the window: the rest waits in
 * Redis. Idle empty tags are forgotten, in Redis and here. */
static int
s_pull (pl_bus_client_t *self, int64_t now, int64_t min_gap_ms)
{
    if (now - self->last_pull_ms < min_gap_ms)
        return 0;
    self->last_pull_ms = now;
    size_t cap = 2 * self->window;
    if (self->used >= cap)
        return 0;
    int rechecks = 0, forgets = 0;
    char **tags;
    long long *scores;
    size_t n;
    if (pl_outbox_slots (self->outbox, &tags, &scores, &n) != 0) {
        snprintf (self->errstr, sizeof self->errstr, "%s", pl_outbox_errstr (self->outbox));
        return PL_EREDIS;
    }
    int rc = 0;
    for (size_t i = 0; i < n && self->used < cap; i++) {
        int j = s_slot (self, tags[i]);
        if (j < 0)
            break;
        s_slot_t *sl = &self->slots[j];
        bool settled = sl->drained && sl->score == scores[i];
        if (settled) {
            if (sl->inflight > 0)
                sl->idle_since_ms = 0;
            else if (!sl->idle_since_ms)
                sl->idle_since_ms = now;
            else if (now - sl->idle_since_ms > self->slot_idle_ms && forgets++ < S_FORGETS_PER_PULL
                     && !s_slot_pending (self, j)) {
                if (pl_outbox_slot_forget (self->outbox, sl->tag, sl->score) == 1) {
                    s_slot_drop (self, j);
                    continue;
                }
                sl->idle_since_ms = now;
            }
            if (now < sl->next_check_ms || rechecks >= S_RECHECKS_PER_PULL)
                continue;
            rechecks++;
        } else
            sl->idle_since_ms = 0;
        size_t room = cap - self->used;
        pl_outbox_item_t *items;
        size_t got;
        if (pl_outbox_slot_read (self->outbox, sl->tag, sl->cursor, room, &items, &got) != 0) {
            snprintf (self->errstr, sizeof self->errstr, "%s", pl_outbox_errstr (self->outbox));
            rc = PL_EREDIS;
            break;
        }
        for (size_t k = 0; k < got; k++) {
            s_entry_t *e = s_insert (self, items[k].id, items[k].type, items[k].data, items[k].size, j,
                                     items[k].sid);
            memset (&items[k], 0, sizeof items[k]);
            sl = &self->slots[j];
            if (e && !e->active)
                s_admit (self, e, now);
        }
        pl_outbox_items_free (items, got);
        sl->drained = got < room;
        if (sl->drained) {
            /* back to the first interval when something turned up, or the score moved */
            sl->check_every_ms = got || !settled ? S_RECHECK_FIRST_MS
                               : sl->check_every_ms * 2 > S_RECHECK_MAX_MS ? S_RECHECK_MAX_MS
                               : sl->check_every_ms * 2;
            sl->next_check_ms = now + sl->check_every_ms;
            sl->score = scores[i];
        }
    }
    pl_outbox_slots_free (tags, scores, n);
    return rc;
}

int
pl_bus_client_process (pl_bus_client_t *self)
{
    int answers = 0, rc = 0;
    s_pending_delete_t *done = NULL;
    size_t ndone = 0, capdone = 0;
    for (;;) {
        zmq_msg_t type, body;
        zmq_msg_init (&type);
        if (zmq_msg_recv (&type, self->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&type);
            break;
        }
        if (!zmq_msg_more (&type)) {
            zmq_msg_close (&type);
            continue;
        }
        zmq_msg_init (&body);
        zmq_msg_recv (&body, self->sock, 0);
        while (zmq_msg_more (&body)) {         /* drop extra frames */
            zmq_msg_close (&body);
            zmq_msg_init (&body);
            zmq_msg_recv (&body, self->sock, 0);
        }
        pl_envelope_t *env = pl_envelope_unpack (zmq_msg_data (&body), zmq_msg_size (&body), NULL, 0);
        zmq_msg_close (&type);
        zmq_msg_close (&body);
        if (!env)
            continue;
        answers++;
        if (env->body_case == PLATEAU__V1__ENVELOPE__BODY_ACK) {
            for (size_t i = 0; i < env->ack->n_message_ids; i++) {
                s_entry_t *e = s_find (self, env->ack->message_ids[i]);
                if (!e)
                    continue;          /* a late duplicate ack */
                if (ndone == capdone) {
                    capdone = capdone ? capdone * 2 : 256;
                    done = realloc (done, capdone * sizeof *done);
                }
                if (e->slot >= 0) {
                    done[ndone++] = (s_pending_delete_t) { e->slot, e->sid };
                    self->slots[e->slot].inflight--;
                    free (e->id);
                } else {
                    done[ndone++] = (s_pending_delete_t) { -1, e->id };
                    free (e->sid);
                }
                if (e->active)
                    self->outstanding--;
                e->id = NULL;          /* keep the string for the delete below */
                free (e->type);
                free (e->data);
                memset (e, 0, sizeof *e);
                e->id = S_TOMB;
                self->used--;
                self->acked++;
            }
        }
        else if (env->body_case == PLATEAU__V1__ENVELOPE__BODY_NACK) {
            self->nacked++;
            s_entry_t *e = s_find (self, env->nack->message_id);
            if (e && s_permanent (env->nack->code)) {
                char reason[320];
                snprintf (reason, sizeof reason, "%s: %s",
                          protobuf_c_enum_descriptor_get_value (&plateau__v1__nack__code__descriptor,
                                                                env->nack->code)
                              ? protobuf_c_enum_descriptor_get_value (&plateau__v1__nack__code__descriptor,
                                                                      env->nack->code)->name
                              : "nack",
                          env->nack->reason);
                int dr;
                if (e->slot >= 0) {
                    pl_outbox_item_t it = { e->id, e->type, e->data, e->size, e->sid };
                    dr = pl_outbox_slot_dead (self->outbox, self->slots[e->slot].tag, &it, reason);
                } else
                    dr = pl_outbox_dead (self->outbox, e->id, reason);
                if (dr == 0) {
                    self->dead++;
                    pl_envelope_t *dead = self->dead_fn ? pl_envelope_unpack (e->data, e->size, NULL, 0) : NULL;
                    s_entry_clear (self, e);
                    if (dead)
                        self->dead_fn (self->dead_arg, dead, reason);
                    pl_envelope_free (&dead);
                }
            }
            else if (e) {
                int after = env->nack->retry_after_ms > 0 ? env->nack->retry_after_ms : self->ack_timeout_ms;
                e->due_ms = pl_clock_mono_ms () + after;
            }
        }
        pl_envelope_free (&env);
    }
    if (ndone) {
        rc = s_delete (self, done, ndone, true);
        for (size_t i = 0; i < ndone; i++)
            free (done[i].id);
    }
    free (done);
    int64_t now = pl_clock_mono_ms ();
    s_drain_queue (self, now);
    if (ndone && self->nslots)          /* room freed: read the known slots again soon */
        s_pull (self, now, S_PULL_MIN_MS);
    return rc ? rc : answers;
}

int
pl_bus_client_pull (pl_bus_client_t *self)
{
    if (!self->replayed)
        return 0;                      /* the first tick loads what a restart left owed first */
    int64_t now = pl_clock_mono_ms ();
    int rc = s_pull (self, now, 0);
    s_drain_queue (self, now);
    return rc;
}

int
pl_bus_client_tick (pl_bus_client_t *self)
{
    int64_t now = pl_clock_mono_ms ();
    if (!self->replayed)
        s_replay (self);
    if (self->ndeletes) {
        s_pending_delete_t *dels = self->unacked_deletes;
        size_t n = self->ndeletes;
        self->unacked_deletes = NULL;
        self->ndeletes = self->cap_deletes = 0;
        s_delete (self, dels, n, true);
        for (size_t i = 0; i < n; i++)
            free (dels[i].id);
        free (dels);
    }
    s_pull (self, now, S_PULL_TICK_MS);
    s_drain_queue (self, now);
    for (size_t i = 0; i < self->cap; i++) {
        s_entry_t *e = &self->table[i];
        if (e->id && e->id != S_TOMB && e->due_ms <= now) {
            if (e->active)
                s_transmit (self, e, now);
            else if (self->outstanding < self->window)
                s_activate (self, e, now);     /* one the queue could not hold */
        }
    }
    if (self->monitor)
        s_watch_links (self);
    if (now >= self->next_purge_ms) {
        self->next_purge_ms = now + 60000;
        pl_outbox_dead_purge (self->outbox);      /* Redis down: next minute */
    }
    if (self->keys_path) {
        char why[256];
        if (s_keys_refresh (self->keys_path, &self->keys, why, sizeof why) == 1) {
            /* A key removed from the peer's identity: its connections move to one still listed
             * (the first: the newest is listed first during a rotation, or it is found next). */
            const s_key_t *server = s_keys_by_name (&self->keys, self->server_identity);
            if (server) {
                memcpy (self->server_key, server->key, 32);
                for (size_t i = 0; i < self->nconnected; i++) {
                    const s_key_t *same = s_keys_by_key (&self->keys, self->links[i].key);
                    if (!same || strcmp (same->name, self->server_identity) != 0)
                        s_relink (self, i, server->key);
                }
            }
        }
    }
    if (now >= self->next_resolve_ms) {
        s_resolve (self);
        self->next_resolve_ms = now + self->resolve_interval_ms;
    }
    return 0;
}

int
pl_bus_curve_keygen (const char *public_file, const char *secret_file)
{
    char pub[41], sec[41];
    if (zmq_curve_keypair (pub, sec) != 0)
        return PL_EIO;
    FILE *f = fopen (secret_file, "w");
    if (!f)
        return PL_EIO;
    chmod (secret_file, 0600);
    fprintf (f, "%s\n", sec);
    fclose (f);
    if (!(f = fopen (public_file, "w")))
        return PL_EIO;
    fprintf (f, "%s\n", pub);
    fclose (f);
    return 0;
}
