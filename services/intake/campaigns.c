/*  campaigns.c — tenant and call kind of each campaign, from its file (see campaigns.h). */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaigns.h"
#include "plateau/campaign_registry.h"
#include "plateau/error.h"
#include "plateau/retired.h"
#include "plateau/rules.h"

#define S_FILE_MAX (1 << 20)            /* a campaign file is a page of settings */

typedef struct {
    char *name;
    char *tenant;
    Plateau__V1__CallKind kind;
    bool from_api;               /* defined over the API (the registry), not by a file */
} s_campaign_t;

/* The lock guards items (which grows, and whose API definitions are replaced); a replaced
 * tenant string is retired, not freed at once, since a thread may hold it. */
struct intake_campaigns {
    pthread_mutex_t lock;
    s_campaign_t *items;
    size_t n;
    char *default_tenant;
    pl_retired_t *retired;       /* replaced tenant strings a thread may still hold */
    int64_t registry_rev;
};

/* A retired tenant string is freed after this: a caller uses it for one event. */
#define S_RETIRED_KEEP_MS (10 * 60 * 1000)

/* What one file's [campaign] section says. */
typedef struct {
    char tenant[256];
    char profile[64];
    bool tenant_set, profile_set;
} s_read_t;

static int
s_on_key (void *arg, const char *section, const char *section_arg, const char *key,
          const char *value, int line)
{
    (void) line;
    s_read_t *r = arg;
    if (!section || strcmp (section, "campaign") != 0 || (section_arg && *section_arg) || !key)
        return 0;
    if (strcmp (key, "tenant") == 0 && value && *value) {
        snprintf (r->tenant, sizeof r->tenant, "%s", value);
        r->tenant_set = true;
    } else if (strcmp (key, "profile") == 0 && value && *value) {
        snprintf (r->profile, sizeof r->profile, "%s", value);
        r->profile_set = true;
    }
    return 0;
}

static bool
s_ends_with (const char *s, const char *suffix)
{
    size_t n = strlen (s), k = strlen (suffix);
    return n > k && strcmp (s + n - k, suffix) == 0;
}

/* The whole of a small text file, or NULL (errno set). */
static char *
s_slurp (const char *path)
{
    FILE *fp = fopen (path, "rb");
    if (!fp)
        return NULL;
    char *text = malloc (S_FILE_MAX + 1);
    size_t n = text ? fread (text, 1, S_FILE_MAX + 1, fp) : 0;
    int bad = !text ? ENOMEM : ferror (fp) ? EIO : n > S_FILE_MAX ? EFBIG : 0;
    fclose (fp);
    if (bad) {
        free (text);
        errno = bad;
        return NULL;
    }
    text[n] = '\0';
    return text;
}

/* The tenant and kind a campaign's text gives; PL_ECONFIG with err naming origin. */
static int
s_parse (const char *origin, const char *text, s_read_t *r, Plateau__V1__CallKind *kind, char *err, size_t err_size)
{
    *r = (s_read_t) { .tenant_set = false };
    if (pl_rules_text_each (origin, text, s_on_key, r, err, err_size) != 0)
        return PL_ECONFIG;
    if (!r->tenant_set || !r->profile_set) {
        snprintf (err, err_size, "%s: no %s in [campaign]", origin, !r->tenant_set ? "tenant" : "profile");
        return PL_ECONFIG;
    }
    *kind = s_ends_with (r->profile, "-cc")   ? PLATEAU__V1__CALL_KIND__CANVASSING
            : s_ends_with (r->profile, "-dc") ? PLATEAU__V1__CALL_KIND__DEBT_COLLECTION
                                              : PLATEAU__V1__CALL_KIND__CALL_KIND_UNSPECIFIED;
    if (*kind == PLATEAU__V1__CALL_KIND__CALL_KIND_UNSPECIFIED) {
        snprintf (err, err_size, "%s: profile '%s' is neither *-cc nor *-dc", origin, r->profile);
        return PL_ECONFIG;
    }
    return 0;
}

/* Appends a campaign (under the lock when others may read). */
static int
s_append (intake_campaigns_t *self, const char *name, const char *tenant, Plateau__V1__CallKind kind, bool from_api)
{
    s_campaign_t *items = realloc (self->items, (self->n + 1) * sizeof *items);
    if (!items)
        return PL_ENOMEM;
    self->items = items;
    s_campaign_t *c = &items[self->n];
    *c = (s_campaign_t) { strdup (name), strdup (tenant), kind, from_api };
    if (!c->name || !c->tenant) {
        free (c->name);
        free (c->tenant);
        return PL_ENOMEM;
    }
    self->n++;
    return 0;
}

static int
s_load (intake_campaigns_t *self, const char *dir, const char *file, char *err, size_t err_size)
{
    char path[4096];
    snprintf (path, sizeof path, "%s/%s", dir, file);
    char *text = s_slurp (path);
    if (!text) {
        snprintf (err, err_size, "%s: cannot be read: %s", file, strerror (errno));
        return PL_ECONFIG;
    }
    s_read_t r;
    Plateau__V1__CallKind kind;
    int rc = s_parse (file, text, &r, &kind, err, err_size);
    free (text);
    if (rc != 0)
        return rc;
    char name[256];
    snprintf (name, sizeof name, "%.*s", (int) (strlen (file) - strlen (".campaign")), file);
    if (s_append (self, name, r.tenant, kind, false) != 0) {
        snprintf (err, err_size, "out of memory");
        return PL_ENOMEM;
    }
    return 0;
}

int
intake_campaigns_define (intake_campaigns_t *self, const char *name, const char *text, bool *changed, char *err,
                         size_t err_size)
{
    *changed = false;
    char origin[96];
    snprintf (origin, sizeof origin, "PUT /v1/campaigns/%.63s", name);
    s_read_t r;
    Plateau__V1__CallKind kind;
    int rc = s_parse (origin, text, &r, &kind, err, err_size);
    if (rc != 0)
        return rc;
    pthread_mutex_lock (&self->lock);
    size_t i = 0;
    while (i < self->n && strcmp (self->items[i].name, name) != 0)
        i++;
    if (i < self->n && !self->items[i].from_api) {
        snprintf (err, err_size, "campaign '%s' is defined by a file: the definition over the API is ignored", name);
        rc = PL_EEXIST;
    } else if (i < self->n) {
        s_campaign_t *c = &self->items[i];
        if (c->kind != kind || strcmp (c->tenant, r.tenant) != 0) {
            char *t = strdup (r.tenant);
            if (t && pl_retired_add (self->retired, c->tenant) == 0) {
                c->tenant = t;
                c->kind = kind;
                *changed = true;
            } else {
                free (t);
                rc = PL_ENOMEM;
            }
        }
    } else {
        rc = s_append (self, name, r.tenant, kind, true);
        *changed = rc == 0;
    }
    pthread_mutex_unlock (&self->lock);
    if (rc == PL_ENOMEM)
        snprintf (err, err_size, "out of memory");
    return rc;
}

typedef struct {
    intake_campaigns_t *self;
    pl_log_t *log;
} s_poll_t;

static int
s_on_definition (const char *name, const char *text, size_t len, void *arg)
{
    (void) len;
    s_poll_t *p = arg;
    char err[512] = "";
    bool changed = false;
    if (intake_campaigns_define (p->self, name, text, &changed, err, sizeof err) != 0)
        pl_log_error (p->log, NULL, "campaign definition not taken", "campaign", name, "error", err);
    else if (changed)
        pl_log_info (p->log, NULL, "campaign defined", "campaign", name, "from", "registry");
    return 0;            /* one bad definition does not hold the others back */
}

int
intake_campaigns_registry_poll (intake_campaigns_t *self, pl_redis_t *redis, pl_log_t *log)
{
    return pl_campaign_registry_poll (redis, &self->registry_rev, s_on_definition, &(s_poll_t) { self, log });
}

intake_campaigns_t *
intake_campaigns_new (const char *dir, const char *default_tenant, char *err, size_t err_size)
{
    intake_campaigns_t *self = calloc (1, sizeof *self);
    if (self) {
        pthread_mutex_init (&self->lock, NULL);
        self->default_tenant = strdup (default_tenant ? default_tenant : "");
        self->retired = pl_retired_new (free, S_RETIRED_KEEP_MS);
    }
    if (!self || !self->default_tenant || !self->retired) {
        snprintf (err, err_size, "out of memory");
        intake_campaigns_destroy (&self);
        return NULL;
    }
    if (!dir || !*dir)
        return self;
    DIR *d = opendir (dir);
    if (!d) {
        snprintf (err, err_size, "%s: cannot be read: %s", dir, strerror (errno));
        intake_campaigns_destroy (&self);
        return NULL;
    }
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir (d))) {
        if (s_ends_with (e->d_name, ".campaign"))
            rc = s_load (self, dir, e->d_name, err, err_size);
    }
    closedir (d);
    if (rc != 0)
        intake_campaigns_destroy (&self);
    return self;
}

void
intake_campaigns_destroy (intake_campaigns_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    intake_campaigns_t *self = *self_p;
    for (size_t i = 0; i < self->n; i++) {
        free (self->items[i].name);
        free (self->items[i].tenant);
    }
    pl_retired_destroy (&self->retired);
    free (self->items);
    free (self->default_tenant);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

/* The campaign's tenant (a string that outlives any replacement) and kind; false when none. */
static bool
s_find (const intake_campaigns_t *self, const char *campaign, const char **tenant, Plateau__V1__CallKind *kind)
{
    if (!self || !campaign)
        return false;
    intake_campaigns_t *s = (intake_campaigns_t *) self;
    bool hit = false;
    pthread_mutex_lock (&s->lock);
    for (size_t i = 0; i < s->n && !hit; i++)
        if (strcmp (s->items[i].name, campaign) == 0) {
            hit = true;
            if (tenant)
                *tenant = s->items[i].tenant;
            if (kind)
                *kind = s->items[i].kind;
        }
    pthread_mutex_unlock (&s->lock);
    return hit;
}

const char *
intake_campaigns_tenant (const intake_campaigns_t *self, const char *campaign)
{
    const char *t = NULL;
    if (s_find (self, campaign, &t, NULL))
        return t;
    return self ? self->default_tenant : "";
}

Plateau__V1__CallKind
intake_campaigns_kind (const intake_campaigns_t *self, const char *campaign, bool debt)
{
    Plateau__V1__CallKind k;
    if (s_find (self, campaign, NULL, &k))
        return k;
    return debt ? PLATEAU__V1__CALL_KIND__DEBT_COLLECTION : PLATEAU__V1__CALL_KIND__CANVASSING;
}

bool
intake_campaigns_has (const intake_campaigns_t *self, const char *campaign)
{
    return s_find (self, campaign, NULL, NULL);
}

size_t
intake_campaigns_count (const intake_campaigns_t *self)
{
    if (!self)
        return 0;
    intake_campaigns_t *s = (intake_campaigns_t *) self;
    pthread_mutex_lock (&s->lock);
    size_t n = s->n;
    pthread_mutex_unlock (&s->lock);
    return n;
}
