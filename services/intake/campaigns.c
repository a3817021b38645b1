/*  campaigns.c — tenant and call kind of each campaign, from its file (see campaigns.h). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaigns.h"
#include "plateau/error.h"
#include "plateau/rules.h"

#define S_FILE_MAX (1 << 20)            /* a campaign file is a page of settings */

typedef struct {
    char *name;
    char *tenant;
    Plateau__V1__CallKind kind;
} s_campaign_t;

struct intake_campaigns {
    s_campaign_t *items;
    size_t n;
    char *default_tenant;
};

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
    s_read_t r = { .tenant_set = false };
    int rc = pl_rules_text_each (file, text, s_on_key, &r, err, err_size);
    free (text);
    if (rc != 0)
        return PL_ECONFIG;
    if (!r.tenant_set || !r.profile_set) {
        snprintf (err, err_size, "%s: no %s in [campaign]", file, !r.tenant_set ? "tenant" : "profile");
        return PL_ECONFIG;
    }
    Plateau__V1__CallKind kind = s_ends_with (r.profile, "-cc")   ? PLATEAU__V1__CALL_KIND__CANVASSING
                                 : s_ends_with (r.profile, "-dc") ? PLATEAU__V1__CALL_KIND__DEBT_COLLECTION
                                                                  : PLATEAU__V1__CALL_KIND__CALL_KIND_UNSPECIFIED;
    if (kind == PLATEAU__V1__CALL_KIND__CALL_KIND_UNSPECIFIED) {
        snprintf (err, err_size, "%s: profile '%s' is neither *-cc nor *-dc", file, r.profile);
        return PL_ECONFIG;
    }
    s_campaign_t *items = realloc (self->items, (self->n + 1) * sizeof *items);
    if (!items) {
        snprintf (err, err_size, "out of memory");
        return PL_ENOMEM;
    }
    self->items = items;
    s_campaign_t *c = &items[self->n];
    c->name = strndup (file, strlen (file) - strlen (".campaign"));
    c->tenant = strdup (r.tenant);
    c->kind = kind;
    self->n++;
    if (!c->name || !c->tenant) {
        snprintf (err, err_size, "out of memory");
        return PL_ENOMEM;
    }
    return 0;
}

intake_campaigns_t *
intake_campaigns_new (const char *dir, const char *default_tenant, char *err, size_t err_size)
{
    intake_campaigns_t *self = calloc (1, sizeof *self);
    if (self)
        self->default_tenant = strdup (default_tenant ? default_tenant : "");
    if (!self || !self->default_tenant) {
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
    free (self->items);
    free (self->default_tenant);
    free (self);
    *self_p = NULL;
}

static const s_campaign_t *
s_find (const intake_campaigns_t *self, const char *campaign)
{
    for (size_t i = 0; self && campaign && i < self->n; i++)
        if (strcmp (self->items[i].name, campaign) == 0)
            return &self->items[i];
    return NULL;
}

const char *
intake_campaigns_tenant (const intake_campaigns_t *self, const char *campaign)
{
    const s_campaign_t *c = s_find (self, campaign);
    return c ? c->tenant : self ? self->default_tenant : "";
}

Plateau__V1__CallKind
intake_campaigns_kind (const intake_campaigns_t *self, const char *campaign, bool debt)
{
    const s_campaign_t *c = s_find (self, campaign);
    if (c)
        return c->kind;
    return debt ? PLATEAU__V1__CALL_KIND__DEBT_COLLECTION : PLATEAU__V1__CALL_KIND__CANVASSING;
}

bool
intake_campaigns_has (const intake_campaigns_t *self, const char *campaign)
{
    return s_find (self, campaign) != NULL;
}

size_t
intake_campaigns_count (const intake_campaigns_t *self)
{
    return self ? self->n : 0;
}
