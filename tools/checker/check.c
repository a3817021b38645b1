/*  check.c — the checker's object: its lifetime, shared helpers and the public calls (check.h).
 */
#include "check_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int
ck_grow (void *arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 64;
    void *p = realloc (*(void **) arr, nc * size);
    if (!p)
        return -1;
    *(void **) arr = p;
    *cap = nc;
    return 0;
}

const char *
ck_intern (pl_check_t *self, const char *s)
{
    if (!s)
        s = "";
    int64_t i = ck_map_get (&self->strings, s);
    if (i >= 0)
        return self->pool[i];
    char *copy = strdup (s);
    if (!copy || ck_grow (&self->pool, &self->cap_pool, self->n_pool, sizeof *self->pool) != 0) {
        free (copy);
        return "";
    }
    self->pool[self->n_pool] = copy;
    ck_map_put (&self->strings, s, (int64_t) self->n_pool);
    return self->pool[self->n_pool++];
}

void
ck_violation (pl_check_t *self, const char *kind, const char *rule, const char *attempt,
              const char *lead, const char *campaign, int64_t at, const char *fmt, ...)
{
    if (attempt && *attempt) {
        char key[512];
        snprintf (key, sizeof key, "%s|%s|%s", kind, rule, attempt);
        if (ck_map_get (&self->violation_keys, key) >= 0)
            return;
        ck_map_put (&self->violation_keys, key, 1);
    }
    if (ck_grow (&self->violations, &self->cap_violations, self->n_violations,
                 sizeof *self->violations) != 0)
        return;
    char fact[1024];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (fact, sizeof fact, fmt, ap);
    va_end (ap);
    self->violations[self->n_violations++] = (ck_violation_t) {
        ck_intern (self, kind), ck_intern (self, rule), ck_intern (self, attempt),
        ck_intern (self, lead), ck_intern (self, campaign), at, strdup (fact)};
}

ck_campaign_t *
ck_campaign (pl_check_t *self, const char *name)
{
    for (int i = 0; name && *name && i < self->n_campaigns; i++)
        if (strcmp (self->campaigns[i].name, name) == 0 || strcmp (self->campaigns[i].file, name) == 0)
            return &self->campaigns[i];
    return NULL;
}

void
ck_count (ck_map_t *m, const char *key)
{
    int64_t v = ck_map_get (m, key);
    ck_map_put (m, key, v < 0 ? 1 : v + 1);
}

json_t *
ck_field (json_t *rec, const char *path)
{
    char head[64];
    const char *dot = strchr (path, '.');
    size_t n = dot ? (size_t) (dot - path) : strlen (path);
    snprintf (head, sizeof head, "%.*s", (int) n, path);
    json_t *v = json_object_get (rec, head);
    if (!v)
        v = json_object_get (json_object_get (rec, "evidence"), head);
    while (v && dot) {
        const char *next = strchr (dot + 1, '.');
        n = next ? (size_t) (next - dot - 1) : strlen (dot + 1);
        snprintf (head, sizeof head, "%.*s", (int) n, dot + 1);
        v = json_object_get (v, head);
        dot = next;
    }
    return v;
}

const char *
ck_str (json_t *rec, const char *path)
{
    const char *s = json_string_value (ck_field (rec, path));
    return s ? s : "";
}

int64_t
ck_int (json_t *rec, const char *path)
{
    json_t *v = ck_field (rec, path);
    if (json_is_integer (v))
        return json_integer_value (v);
    if (json_is_string (v))     /* an int64 rendered as a string by some JSON writers */
        return strtoll (json_string_value (v), NULL, 10);
    return 0;
}

/* ---- public --------------------------------------------------------------------------------- */

pl_check_t *
pl_check_new (void)
{
    pl_check_t *self = calloc (1, sizeof *self);
    if (self && !(self->tz = ck_tz_new ())) {
        free (self);
        return NULL;
    }
    return self;
}

void
pl_check_destroy (pl_check_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pl_check_t *self = *self_p;
    for (int i = 0; i < self->n_campaigns; i++) {
        ck_campaign_t *c = &self->campaigns[i];
        free (c->name);
        free (c->file);
        free (c->profile_id);
        free (c->tenant);
        free (c->sector);
        free (c->pacing);
        ck_map_clear (&c->outcomes);
        ck_map_clear (&c->reasons);
        json_decref (c->abandon);
    }
    for (size_t i = 0; i < self->n_leads; i++) {
        ck_lead_t *l = &self->leads[i];
        free (l->ext);
        free (l->country);
        free (l->postal);
        free (l->state);
        free (l->debt);
        free (l->lead_id);
        for (int k = 0; k < l->n_phones; k++)
            free (l->phones[k]);
    }
    free (self->leads);
    for (size_t i = 0; i < self->n_attempts; i++)
        free (self->attempts[i].id);
    free (self->attempts);
    for (int i = 0; i < self->n_lists; i++) {
        free (self->lists[i].name);
        free (self->lists[i].jurisdiction);
        ck_map_clear (&self->lists[i].numbers);
    }
    for (size_t i = 0; i < self->n_violations; i++)
        free (self->violations[i].fact);
    free (self->violations);
    free (self->optouts);
    free (self->crecs);
    free (self->summaries);
    ck_promise_free (self);
    for (size_t i = 0; i < self->n_pool; i++)
        free (self->pool[i]);
    free (self->pool);
    ck_map_t *maps[] = {&self->strings, &self->lead_by_ext, &self->lead_by_id,
                        &self->lead_by_number, &self->attempt_by_id, &self->optout_head,
                        &self->crec_head, &self->seen, &self->violation_keys,
                        &self->rejected_by_trace};
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++)
        ck_map_clear (maps[i]);
    ck_tz_destroy (&self->tz);
    free (self);
    *self_p = NULL;
}

void
pl_check_set_florida_collection (pl_check_t *self, bool on)
{
    self->florida_dc = on;
}

int
pl_check_load_bundle (pl_check_t *self, const char *dir)
{
    return ck_bundle_load (self, dir);
}

/* Reads every record of the export; with `first`, only the lead ids of lead.accepted. */
static int
s_read_audit (pl_check_t *self, FILE *f, const char *path, bool first)
{
    char *line = NULL;
    size_t cap = 0;
    long no = 0;
    int rc = 0;
    ssize_t len;
    while (rc == 0 && (len = getline (&line, &cap, f)) > 0) {
        no++;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (!len || (first && !strstr (line, "lead.accepted")))
            continue;
        json_error_t je;
        json_t *rec = json_loads (line, 0, &je);
        if (!json_is_object (rec) || !*ck_str (rec, "type")) {
            snprintf (self->err, sizeof self->err, "%s:%ld: not an exported audit record (%s)",
                      path, no, rec ? "no type" : je.text);
            rc = -1;
        } else if (first)
            ck_ingest_lead_id (self, rec);
        else
            rc = ck_ingest (self, rec);
        json_decref (rec);
    }
    free (line);
    return rc;
}

int
pl_check_load_audit (pl_check_t *self, const char *path)
{
    FILE *f = fopen (path, "r");
    if (!f) {
        snprintf (self->err, sizeof self->err, "%s: %s", path, strerror (errno));
        return -1;
    }
    int rc = s_read_audit (self, f, path, true);
    if (rc == 0) {
        rewind (f);
        rc = s_read_audit (self, f, path, false);
    }
    fclose (f);
    return rc;
}

size_t
pl_check_run (pl_check_t *self)
{
    ck_verify (self);
    return self->n_violations;
}

size_t
pl_check_violations (const pl_check_t *self)
{
    return self->n_violations;
}

size_t
pl_check_count (const pl_check_t *self, const char *kind)
{
    size_t n = 0;
    for (size_t i = 0; i < self->n_violations; i++)
        n += strcmp (self->violations[i].kind, kind) == 0;
    return n;
}

const char *
pl_check_violation (const pl_check_t *self, size_t i, const char **attempt, const char **rule,
                    const char **fact)
{
    if (i >= self->n_violations)
        return NULL;
    const ck_violation_t *v = &self->violations[i];
    if (attempt)
        *attempt = v->attempt;
    if (rule)
        *rule = v->rule;
    if (fact)
        *fact = v->fact;
    return v->kind;
}

const char *
pl_check_errstr (const pl_check_t *self)
{
    return self->err;
}
