/*  catalog.c — the lists in force and their versions across replicas (see catalog.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "plateau/audit_emit.h"
#include "plateau/error.h"
#include "plateau/timefmt.h"
#ifdef SCRUB_HAVE_LISTS
#include "lists.h"
#endif

#define S_CURRENT_KEY "pl:{scrub:lists}:current"
#define S_VERSIONS_KEY "pl:{scrub:lists}:versions"     /* every version id ever recorded */
#define S_MAX_LISTS 64
#define S_SWEEP_EVERY_MS 60000
/* A live upload sends something every 10 s (the HTTP layer's body rate window) and a save
 * writes until its fsync: a leftover untouched for a minute is no one's. */
#define S_LEFTOVER_MIN_AGE_MS 60000

struct scrub_catalog {
    char *dir;
    pthread_mutex_t lock;        /* guards info[] (the lists library guards its own set) */
    scrub_list_info_t info[S_MAX_LISTS];
    size_t n;
#ifdef SCRUB_HAVE_LISTS
    scrub_lists_t *lists;
#endif
    /* retention (scrub_catalog_retain) */
    pthread_mutex_t sweep_lock;  /* one sweep at a time: the loop and a load's sync may both call */
    int keep;
    int64_t grace_ms;
    pl_metric_t *deleted, *bytes;
    pl_log_t *log;
    atomic_bool sweep_asked;     /* a new version since the last sweep */
    int64_t swept_mono_ms;       /* under sweep_lock */
    int64_t next_due_ms;         /* real time a file held only by its grace may go, 0: none */
};

scrub_catalog_t *
scrub_catalog_new (const char *dir)
{
    scrub_catalog_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init (&self->lock, NULL);
    pthread_mutex_init (&self->sweep_lock, NULL);
    self->dir = dir && *dir ? strdup (dir) : NULL;
    self->keep = 2;
    self->grace_ms = 600000;
    self->swept_mono_ms = -S_SWEEP_EVERY_MS;
#ifdef SCRUB_HAVE_LISTS
    self->lists = scrub_lists_new ();
    if (!self->lists)
        scrub_catalog_destroy (&self);
#endif
    return self;
}

void
scrub_catalog_destroy (scrub_catalog_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    scrub_catalog_t *self = *self_p;
#ifdef SCRUB_HAVE_LISTS
    scrub_lists_destroy (&self->lists);
#endif
    pthread_mutex_destroy (&self->lock);
    pthread_mutex_destroy (&self->sweep_lock);
    free (self->dir);
    free (self);
    *self_p = NULL;
}

bool
scrub_catalog_can_load (const scrub_catalog_t *self)
{
#ifdef SCRUB_HAVE_LISTS
    return self->dir != NULL;
#else
    (void) self;
    return false;
#endif
}

/* Copies src into dst[size], cut to fit, always terminated. */
static void
s_copy (char *dst, size_t size, const char *src)
{
    size_t n = strnlen (src, size - 1);
    memcpy (dst, src, n);
    dst[n] = '\0';
}

/* The loaded-at instant of the version in force of `name`, from the catalog's own record. */
static int64_t
s_loaded_at (scrub_catalog_t *self, const char *name, const char *version)
{
    int64_t at = 0;
    pthread_mutex_lock (&self->lock);
    for (size_t i = 0; i < self->n; i++)
        if (strcmp (self->info[i].name, name) == 0 && strcmp (self->info[i].version, version) == 0)
            at = self->info[i].loaded_at_ms;
    pthread_mutex_unlock (&self->lock);
    return at;
}

size_t
scrub_catalog_lookup (scrub_catalog_t *self, const char *e164, int64_t consent_ms, scrub_list_fact_t *out,
                      size_t cap)
{
#ifdef SCRUB_HAVE_LISTS
    scrub_hit_t hits[SCRUB_LIST_FACTS_MAX];
    int n = scrub_lists_lookup (self->lists, e164, hits, SCRUB_LIST_FACTS_MAX);
    if (n < 0)
        return 0;
    size_t k = 0;
    for (int i = 0; i < n && i < SCRUB_LIST_FACTS_MAX && k < cap; i++) {
        pl_rules_list_t rl;
        scrub_hit_to_rules (&hits[i], consent_ms, &rl);
        scrub_list_fact_t *f = &out[k++];
        memset (f, 0, sizeof *f);
        s_copy (f->name, sizeof f->name, hits[i].list);
        s_copy (f->version, sizeof f->version, hits[i].version);
        s_copy (f->jurisdiction, sizeof f->jurisdiction, hits[i].jurisdiction);
        f->as_of_ms = hits[i].as_of_ms;
        f->hit = rl.hit;
        f->loaded_at_ms = s_loaded_at (self, f->name, f->version);
        char d[32];
        pl_time_format_rfc3339 (f->as_of_ms, d, sizeof d);
        snprintf (f->copy_date, sizeof f->copy_date, "%.10s", d);
    }
    return (size_t) n;
#else
    (void) self;
    (void) e164;
    (void) consent_ms;
    (void) out;
    (void) cap;
    (void) s_loaded_at;
    return 0;
#endif
}

size_t
scrub_catalog_list (scrub_catalog_t *self, scrub_list_info_t *out, size_t cap)
{
    pthread_mutex_lock (&self->lock);
    size_t n = self->n;
    for (size_t i = 0; i < n && i < cap; i++)
        out[i] = self->info[i];
    pthread_mutex_unlock (&self->lock);
    return n;
}

/* ---- retention ------------------------------------------------------------------------------ */

/* The file a version is saved to: "<version>.list", ':' and '/' made '_'
 * ("client:acme@2026-05-01" → "client_acme@2026-05-01.list"). */
static void
s_file_name (const char *version, char *out, size_t size)
{
    snprintf (out, size, "%s.list", version);
    for (char *p = out; *p; p++)
        if (*p == ':' || *p == '/')
            *p = '_';
}

/* The length of a version file's list part ("us-dnc" of "us-dnc@2026-05-01.1777593600000.list"),
 * or 0 when `name` is not exactly <list>@YYYY-MM-DD[.<digits>].list. */
static size_t
s_version_file (const char *name)
{
    const char *at = strrchr (name, '@');
    if (!at || at == name)
        return 0;
    const char *p = at + 1;
    for (int i = 0; i < 10; i++, p++)
        if (i == 4 || i == 7 ? *p != '-' : !isdigit ((unsigned char) *p))
            return 0;
    if (p[0] == '.' && isdigit ((unsigned char) p[1]))
        for (p++; isdigit ((unsigned char) *p);)
            p++;
    return strcmp (p, ".list") == 0 ? (size_t) (at - name) : 0;
}

/* True for what a load leaves behind when its process dies mid-way: the upload's spool
 * (".upload-XXXXXX", api.c's mkstemp) or a version being saved ("<file>.tmp.<pid>",
 * scrub_list_save). */
static bool
s_leftover (const char *name)
{
    if (strncmp (name, ".upload-", 8) == 0) {
        size_t n = 0;
        while (isalnum ((unsigned char) name[8 + n]))
            n++;
        return n == 6 && name[14] == '\0';
    }
    const char *t = strstr (name, ".list.tmp.");
    if (!t || !t[10])
        return false;
    for (const char *p = t + 10; *p; p++)
        if (!isdigit ((unsigned char) *p))
            return false;
    char base[512];
    size_t n = (size_t) (t - name) + 5;
    if (n >= sizeof base)
        return false;
    memcpy (base, name, n);
    base[n] = '\0';
    return s_version_file (base) > 0;
}

typedef struct {
    char *name;
    size_t stem;                 /* length of the list part; 0 for a leftover */
    int64_t saved_ms;            /* mtime: when it was written */
    int64_t touched_ms;          /* the same, or a version's ctime if later: a save ends with a
                                  * rename (a chown only delays its deletion) */
    uint64_t bytes;
    bool gone;
} s_file_t;

static bool
s_same_list (const s_file_t *a, const s_file_t *b)
{
    return a->stem == b->stem && memcmp (a->name, b->name, a->stem) == 0;
}

/* By list, then the most recently saved first. */
static int
s_by_list_newest_first (const void *pa, const void *pb)
{
    const s_file_t *a = pa, *b = pb;
    int c = memcmp (a->name, b->name, a->stem < b->stem ? a->stem : b->stem);
    if (c == 0 && a->stem != b->stem)
        c = a->stem < b->stem ? -1 : 1;
    if (c == 0 && a->saved_ms != b->saved_ms)
        c = a->saved_ms > b->saved_ms ? -1 : 1;
    return c ? c : -strcmp (a->name, b->name);
}

static bool
s_named (char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (names[i] && strcmp (names[i], name) == 0)
            return true;
    return false;
}

/* Deletes f; another replica sweeping the same directory may have been first (ENOENT). */
static bool
s_delete (scrub_catalog_t *self, DIR *d, s_file_t *f, const char *what)
{
    char bytes[32];
    snprintf (bytes, sizeof bytes, "%llu", (unsigned long long) f->bytes);
    if (unlinkat (dirfd (d), f->name, 0) != 0) {
        f->gone = errno == ENOENT;
        if (!f->gone)
            pl_log_warn (self->log, NULL, "cannot delete a lists file", "file", f->name, "error", strerror (errno));
        return false;
    }
    f->gone = true;
    pl_log_info (self->log, NULL, what, "file", f->name, "bytes", bytes);
    return true;
}

/* One sweep of the directory (sweep_lock held); cur is HGETALL of the versions in force. */
static void
s_sweep (scrub_catalog_t *self, pl_reply_t *cur)
{
    /* The files in force: Redis's first (n_redis), then the ones this replica has mapped. */
    size_t n_redis = pl_reply_len (cur) / 2, n_force = n_redis;
    char **force = calloc (n_redis + S_MAX_LISTS, sizeof *force);
    DIR *d = force ? opendir (self->dir) : NULL;
    if (!d) {
        free (force);
        return;
    }
    /* Anything unread (a record, or the listing for want of memory) may hide a file in force:
     * no sweep then. */
    bool known = true;
    for (size_t i = 0; i < n_redis; i++) {
        json_t *o = json_loads (pl_reply_str (pl_reply_element (cur, 2 * i + 1), NULL) ?: "", 0, NULL);
        const char *file = json_string_value (json_object_get (o, "file"));
        force[i] = file ? strdup (file) : NULL;
        known = known && o && (!file || force[i]);
        json_decref (o);
    }
    pthread_mutex_lock (&self->lock);
    for (size_t i = 0; i < self->n; i++) {
        char file[256];
        s_file_name (self->info[i].version, file, sizeof file);
        force[n_force] = strdup (file);
        known = known && force[n_force++];
    }
    pthread_mutex_unlock (&self->lock);

    s_file_t *f = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while (known && (e = readdir (d))) {
        size_t stem = s_version_file (e->d_name);
        struct stat st;
        if ((!stem && !s_leftover (e->d_name)) || fstatat (dirfd (d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0
            || !S_ISREG (st.st_mode))
            continue;
        if (n == cap) {
            s_file_t *g = realloc (f, (cap = cap ? 2 * cap : 64) * sizeof *f);
            if (!g) {
                known = false;
                break;
            }
            f = g;
        }
        int64_t m = st.st_mtim.tv_sec * 1000LL + st.st_mtim.tv_nsec / 1000000;
        int64_t c = st.st_ctim.tv_sec * 1000LL + st.st_ctim.tv_nsec / 1000000;
        f[n] = (s_file_t) { .name = strdup (e->d_name), .stem = stem, .saved_ms = m,
                            .touched_ms = stem && c > m ? c : m, .bytes = (uint64_t) st.st_size };
        known = f[n].name != NULL;
        n += known;
    }
    if (known && n)
        qsort (f, n, sizeof *f, s_by_list_newest_first);

    /* File times are the file system's: real time, whatever the service's clock. */
    int64_t now = pl_clock_now_ms (NULL), next = 0;
    int64_t leftover_age = self->grace_ms > S_LEFTOVER_MIN_AGE_MS ? self->grace_ms : S_LEFTOVER_MIN_AGE_MS;
    unsigned deleted = 0;
    for (size_t i = 0, j; known && i < n; i = j) {
        if (!f[i].stem) {
            if (now - f[i].touched_ms > leftover_age)
                s_delete (self, d, &f[i], "leftover of a list load deleted");
            j = i + 1;
            continue;
        }
        /* Every other file of the list is out of force since its file in force was saved (its
         * rename, then the record in Redis). No file in force in the directory: none is touched. */
        int64_t since = INT64_MIN;
        for (j = i; j < n && s_same_list (&f[i], &f[j]); j++)
            if (s_named (force, n_redis, f[j].name) && f[j].touched_ms > since)
                since = f[j].touched_ms;
        int previous = 0;
        for (size_t k = i; k < j && since != INT64_MIN; k++) {
            if (s_named (force, n_force, f[k].name) || previous++ < self->keep - 1)
                continue;
            /* A file saved after the one in force is a load under way: its own time counts too. */
            int64_t due = (f[k].touched_ms > since ? f[k].touched_ms : since) + self->grace_ms + 1;
            if (now < due) {
                next = next && next < due ? next : due;
                continue;
            }
            /* Not audited: the evidence of what was in force is list.loaded (version, digest),
             * checked against the registry's own copy, never against this file. */
            deleted += s_delete (self, d, &f[k], "old list version deleted");
        }
    }
    uint64_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        if (f[i].stem && !f[i].gone)
            bytes += f[i].bytes;
        free (f[i].name);
    }
    free (f);
    closedir (d);
    for (size_t i = 0; i < n_force; i++)
        free (force[i]);
    free (force);
    if (!known)
        return;
    if (deleted)
        pl_metric_inc (self->deleted, NULL, deleted);
    pl_metric_set (self->bytes, NULL, (double) bytes);
    self->next_due_ms = next;
}

/* Sweeps when due: a new version since the last sweep, a minute gone, or a file's grace over. */
static void
s_sweep_maybe (scrub_catalog_t *self, pl_reply_t *cur)
{
    if (!self->dir || pl_reply_type (cur) != PL_REPLY_ARRAY || pthread_mutex_trylock (&self->sweep_lock) != 0)
        return;
    int64_t mono = pl_clock_mono_ms ();
    if (atomic_exchange (&self->sweep_asked, false) || mono - self->swept_mono_ms >= S_SWEEP_EVERY_MS
        || (self->next_due_ms && pl_clock_now_ms (NULL) >= self->next_due_ms)) {
        self->swept_mono_ms = mono;
        s_sweep (self, cur);
    }
    pthread_mutex_unlock (&self->sweep_lock);
}

void
scrub_catalog_retain (scrub_catalog_t *self, int keep, int64_t grace_ms, pl_metrics_t *metrics, pl_log_t *log)
{
    pthread_mutex_lock (&self->sweep_lock);
    self->keep = keep < 1 ? 1 : keep;
    self->grace_ms = grace_ms < 0 ? 0 : grace_ms;
    self->log = log;
    self->deleted = pl_metrics_counter (metrics, "plateau_scrub_list_files_deleted_total",
                                        "Old list version files this replica deleted (retention)", NULL);
    self->bytes = pl_metrics_gauge (metrics, "plateau_scrub_lists_dir_bytes",
                                    "Bytes of list version files in the lists directory", NULL);
    pthread_mutex_unlock (&self->sweep_lock);
}

int
scrub_catalog_sync (scrub_catalog_t *self, pl_redis_t *redis, char *err, size_t err_size)
{
    pl_reply_t *r = pl_redis_command (redis, "HGETALL %s", S_CURRENT_KEY);
    if (!r) {
        snprintf (err, err_size, "%s", pl_redis_errstr (redis));
        return PL_EREDIS;
    }
    int rc = 0;
    for (size_t i = 0; pl_reply_type (r) == PL_REPLY_ARRAY && i + 1 < pl_reply_len (r); i += 2) {
        const char *name = pl_reply_str (pl_reply_element (r, i), NULL);
        json_t *o = json_loads (pl_reply_str (pl_reply_element (r, i + 1), NULL) ?: "", 0, NULL);
        if (!name || !o) {
            json_decref (o);
            continue;
        }
        scrub_list_info_t in = { 0 };
        snprintf (in.name, sizeof in.name, "%s", name);
        snprintf (in.version, sizeof in.version, "%s", json_string_value (json_object_get (o, "version")) ?: "");
        snprintf (in.jurisdiction, sizeof in.jurisdiction, "%s",
                  json_string_value (json_object_get (o, "jurisdiction")) ?: "");
        snprintf (in.copy_date, sizeof in.copy_date, "%s", json_string_value (json_object_get (o, "copy_date")) ?: "");
        snprintf (in.kind, sizeof in.kind, "%s", json_string_value (json_object_get (o, "kind")) ?: "");
        in.as_of_ms = json_integer_value (json_object_get (o, "as_of"));
        in.loaded_at_ms = json_integer_value (json_object_get (o, "loaded_at"));
        in.size = (uint64_t) json_integer_value (json_object_get (o, "size"));
        const char *file = json_string_value (json_object_get (o, "file"));
        pthread_mutex_lock (&self->lock);
        size_t j = 0;
        while (j < self->n && strcmp (self->info[j].name, name) != 0)
            j++;
        bool fresh = j == self->n || strcmp (self->info[j].version, in.version) != 0;
        pthread_mutex_unlock (&self->lock);
#ifdef SCRUB_HAVE_LISTS
        if (fresh && file && self->dir) {
            char path[1024], detail[256] = "";
            snprintf (path, sizeof path, "%s/%s", self->dir, file);
            scrub_list_t *v = NULL;
            if (scrub_list_map (path, &v, detail, sizeof detail) != 0 || scrub_lists_swap (self->lists, v) != 0) {
                snprintf (err, err_size, "%s: %s", path, detail);
                rc = PL_EIO;
                fresh = false;
            }
            scrub_list_destroy (&v);
        } else
            fresh = false;
#else
        (void) file;
#endif
        if (fresh && j < S_MAX_LISTS) {
            pthread_mutex_lock (&self->lock);
            self->info[j] = in;
            if (j == self->n)
                self->n++;
            pthread_mutex_unlock (&self->lock);
            atomic_store (&self->sweep_asked, true);
        }
        json_decref (o);
    }
    s_sweep_maybe (self, r);
    pl_reply_free (&r);
    return rc;
}

/* ---- loads ---------------------------------------------------------------------------------- */

/* K = the current-versions hash; A = list name, record. */
static const pl_inbox_effect_t s_record = {
    "scrub.list_loaded",
    "redis.call('HSET', K[1], A[1], A[2])\n"
    "return 'loaded'\n"
};

/* Reserves a version id before its file is written: 1, 0 when a load (on any replica, now or
 * ever) took it, or PL_EREDIS. An id names the evidence (list.loaded, every verdict citing it)
 * and its file, so two loads never share one; an id reserved by a load that then failed is
 * simply not used again. */
static int
s_reserve (pl_redis_t *redis, const char *version)
{
    pl_reply_t *r = pl_redis_command (redis, "SADD %s %s", S_VERSIONS_KEY, version);
    int rc = r && pl_reply_type (r) == PL_REPLY_INTEGER ? (int) pl_reply_int (r) : PL_EREDIS;
    pl_reply_free (&r);
    return rc;
}

#ifdef SCRUB_HAVE_LISTS
static scrub_list_kind_t
s_kind (const char *name)
{
    if (strcmp (name, "litigator") == 0)
        return SCRUB_LIST_LITIGATOR;
    if (strcmp (name, "rnd") == 0)
        return SCRUB_LIST_REASSIGNED;
    if (strncmp (name, "client:", 7) == 0)
        return SCRUB_LIST_CLIENT;
    if (strncmp (name, "campaign:", 9) == 0)
        return SCRUB_LIST_CAMPAIGN;
    return SCRUB_LIST_NATIONAL;
}

static int
s_format (const char *format, const char *name, scrub_format_t *out)
{
    static const struct { const char *name; scrub_format_t f; } t[] = {
        { "us-dnc", SCRUB_FORMAT_US_DNC }, { "tps", SCRUB_FORMAT_TPS }, { "bloctel", SCRUB_FORMAT_BLOCTEL },
        { "lines", SCRUB_FORMAT_LINES },   { "csv", SCRUB_FORMAT_CSV }, { "rnd", SCRUB_FORMAT_RND },
    };
    if (!format) {
        /* the list's own format, or one number per line */
        format = strcmp (name, "ctps") == 0 ? "tps" : name;
        *out = SCRUB_FORMAT_LINES;
    }
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp (t[i].name, format) == 0) {
            *out = t[i].f;
            return 0;
        }
    return format == name || strcmp (name, "ctps") == 0 ? 0 : PL_EINVAL;
}
#endif

int
scrub_catalog_load (scrub_catalog_t *self, pl_redis_t *redis, pl_inbox_t *inbox, const pl_outbox_t *audit,
                    const char *service, const pl_clock_t *clock, const scrub_catalog_load_t *req, const char *path,
                    json_t **report, char *err, size_t err_size)
{
    *report = json_object ();
#ifndef SCRUB_HAVE_LISTS
    (void) self, (void) redis, (void) inbox, (void) audit, (void) service, (void) clock, (void) req, (void) path;
    (void) s_record, (void) s_reserve;
    snprintf (err, err_size, "built without the lists library");
    return PL_EINVAL;
#else
    if (!*report || !self->dir)
        return PL_ENOMEM;
    int64_t now = pl_clock_now_ms (clock);
    char date[11], version[SCRUB_LIST_VERSION_MAX], jur[8];
    char t[PL_TIME_RFC3339_MAX];
    pl_time_format_rfc3339 (req->taken_ms, t, sizeof t);
    snprintf (date, sizeof date, "%.10s", t);
    snprintf (jur, sizeof jur, "%s", strcasecmp (req->jurisdiction, "uk") == 0 ? "GB" : req->jurisdiction);
    for (char *p = jur; *p; p++)
        *p = (char) toupper ((unsigned char) *p);
    /* A version id is unique: the copy's date, and the load's instant when a load of this list
     * already used that date (in force or not, its file deleted or not). */
    snprintf (version, sizeof version, "%s@%s", req->name, date);
    scrub_list_t *base = scrub_lists_get (self->lists, req->name);
    int fresh = base && strcmp (scrub_list_version (base), version) == 0 ? 0 : s_reserve (redis, version);
    if (fresh == 0) {
        snprintf (version, sizeof version, "%s@%s.%lld", req->name, date, (long long) now);
        fresh = s_reserve (redis, version);
    }
    if (fresh != 1) {
        scrub_list_destroy (&base);
        snprintf (err, err_size, fresh == 0 ? "another load took the version id %s at the same instant: load again"
                                            : "redis: %s", fresh == 0 ? version : pl_redis_errstr (redis));
        return fresh == 0 ? PL_EBUSY : PL_EREDIS;
    }
    const char *mode = req->mode ? req->mode : "full";
    scrub_load_options_t o = {
        .name = req->name, .kind = s_kind (req->name), .jurisdiction = jur, .taken_ms = req->taken_ms,
        .version = version,
        .mode = strcmp (mode, "delta") == 0 ? SCRUB_LOAD_CHANGES : strcmp (mode, "add") == 0 ? SCRUB_LOAD_ADD
              : strcmp (mode, "delete") == 0 ? SCRUB_LOAD_DELETE : SCRUB_LOAD_FULL,
        .default_region = jur, .csv_column = req->csv_column,
        .bad_lines = req->bad_lines && strcmp (req->bad_lines, "apply") == 0 ? SCRUB_BAD_LINES_SKIP
                                                                              : SCRUB_BAD_LINES_REFUSE,
    };
    json_object_set_new (*report, "name", json_string (req->name));
    json_object_set_new (*report, "version", json_string (version));
    if (s_format (req->format, req->name, &o.format) != 0) {
        scrub_list_destroy (&base);
        snprintf (err, err_size, "unknown format");
        return PL_EINVAL;
    }
    if (o.mode != SCRUB_LOAD_FULL && !base) {
        snprintf (err, err_size, "a %s load needs a version in force to apply to", mode);
        return PL_EINVAL;
    }
    scrub_load_report_t *rep = scrub_load_report_new (1000);
    scrub_list_t *v = NULL;
    int rc = rep ? scrub_list_load_file (&o, path, o.mode == SCRUB_LOAD_FULL ? NULL : base, rep, &v) : PL_ENOMEM;
    scrub_list_destroy (&base);
    if (rep) {
        json_object_set_new (*report, "lines", json_integer ((json_int_t) scrub_load_report_lines (rep)));
        json_object_set_new (*report, "good", json_integer ((json_int_t) scrub_load_report_good (rep)));
        json_object_set_new (*report, "bad", json_integer ((json_int_t) scrub_load_report_bad (rep)));
        json_t *bad = json_array ();
        for (size_t i = 0; i < scrub_load_report_kept (rep); i++) {
            uint64_t line;
            const char *why;
            if (scrub_load_report_bad_line (rep, i, &line, &why) == 0)
                json_array_append_new (bad, json_pack ("{s:I,s:s}", "line", (json_int_t) line, "reason", why));
        }
        json_object_set_new (*report, "bad_lines", bad);
        if (rc != 0)
            snprintf (err, err_size, "%s", scrub_load_report_errstr (rep));
        scrub_load_report_destroy (&rep);
    }
    if (rc != 0)
        return rc;

    /* Saved whole before anyone is told of it: a replica maps only complete files. */
    char file[256], full[1024], detail[256] = "";
    s_file_name (version, file, sizeof file);
    snprintf (full, sizeof full, "%s/%s", self->dir, file);
    if (scrub_list_save (v, full, detail, sizeof detail) != 0) {
        snprintf (err, err_size, "%s", detail);
        scrub_list_destroy (&v);
        return PL_EIO;
    }
    json_t *rec = json_pack ("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:s,s:s,s:s}", "version", version, "jurisdiction", jur,
                             "copy_date", date, "kind", mode, "as_of", (json_int_t) req->taken_ms, "loaded_at",
                             (json_int_t) now, "size", (json_int_t) scrub_list_count (v), "file", file, "digest",
                             req->digest ? req->digest : "", "by", req->actor ? req->actor : "");
    char *value = rec ? json_dumps (rec, JSON_COMPACT) : NULL;
    json_decref (rec);
    pl_inbox_tx_t *tx = value ? pl_inbox_tx_new ("scrub:lists", NULL) : NULL;
    const char *k[1] = { S_CURRENT_KEY };
    const char *a[2] = { req->name, value };
    rc = tx ? pl_inbox_tx_effect (tx, &s_record, 1, k, 2, a, NULL) : PL_ENOMEM;
    if (rc == 0 && audit) {
        char id[160];
        snprintf (id, sizeof id, "%s.loaded", version);
        Plateau__V1__AuditEvent ev;
        pl_audit_event_init (&ev, service, "list.loaded", id, now);
        Plateau__V1__ListLoad ll = PLATEAU__V1__LIST_LOAD__INIT;
        ll.name = (char *) req->name;
        ll.jurisdiction = jur;
        ll.version = version;
        ll.copy_date = date;
        ll.size = (int64_t) scrub_list_count (v);
        ll.digest = (char *) (req->digest ? req->digest : "");
        ll.loaded_at_ms = now;
        ll.kind = o.mode == SCRUB_LOAD_FULL ? "full" : "changes";
        ev.list_load = &ll;
        ev.actor = (char *) (req->actor ? req->actor : "");
        rc = pl_audit_emit (tx, audit, service, clock, NULL, &ev);
    }
    int result;
    if (rc == 0 && (rc = pl_inbox_apply (inbox, &tx, 1, &result)) != 0)
        snprintf (err, err_size, "%s", pl_inbox_errstr (inbox));
    pl_inbox_tx_destroy (&tx);
    free (value);
    scrub_list_destroy (&v);
    if (rc != 0)
        return rc == PL_ENOMEM ? rc : PL_EREDIS;
    json_object_set_new (*report, "copy_date", json_string (date));
    /* This replica at once; the others on their next tick. */
    return scrub_catalog_sync (self, redis, err, err_size);
#endif
}
