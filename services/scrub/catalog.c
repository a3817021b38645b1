/*  catalog.c — the lists in force and their versions across replicas (see catalog.h). */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
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
        snprintf (f->name, sizeof f->name, "%s", hits[i].list);
        snprintf (f->version, sizeof f->version, "%s", hits[i].version);
        snprintf (f->jurisdiction, sizeof f->jurisdiction, "%s", hits[i].jurisdiction);
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
