/*  catalog.c — the lists in force and their versions across replicas (see catalog.h). */
#include <ctype.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "plateau/audit_emit.h"
#include "plateau/error.h"
#include "plateau/timefmt.h"
#ifdef SCRUB_HAVE_LISTS
#include "lists.h"
#endif

#define S_CURRENT_KEY "pl:{scrub:lists}:current"
#define S_MAX_LISTS 64

struct scrub_catalog {
    char *dir;
    pthread_mutex_t lock;        /* guards info[] (the lists library guards its own set) */
    scrub_list_info_t info[S_MAX_LISTS];
    size_t n;
#ifdef SCRUB_HAVE_LISTS
    scrub_lists_t *lists;
#endif
};

scrub_catalog_t *
scrub_catalog_new (const char *dir)
{
    scrub_catalog_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init (&self->lock, NULL);
    self->dir = dir && *dir ? strdup (dir) : NULL;
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
        }
        json_decref (o);
    }
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
    (void) s_record;
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
    /* A version id is unique: the copy's date, and the load's instant when that date is taken. */
    scrub_list_t *base = scrub_lists_get (self->lists, req->name);
    snprintf (version, sizeof version, "%s@%s", req->name, date);
    if (base && strcmp (scrub_list_version (base), version) == 0)
        snprintf (version, sizeof version, "%s@%s.%lld", req->name, date, (long long) now);
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
    snprintf (file, sizeof file, "%s.list", version);
    for (char *p = file; *p; p++)
        if (*p == ':' || *p == '/')
            *p = '_';
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
