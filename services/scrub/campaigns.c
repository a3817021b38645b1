/*  campaigns.c — zones, profiles and campaigns for scrub's decisions (see campaigns.h). */
#include <ctype.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaigns.h"
#include "plateau/campaign_registry.h"
#include "plateau/error.h"
#include "plateau/retired.h"

/* Jurisdictions scrub knows: the profile family of each, and the regions it covers (a French
 * overseas department is France; Puerto Rico dials +1 and is the US). */
static const struct {
    const char *jurisdiction, *family, *regions;
} s_jurisdictions[] = {
    { "FR", "fr", "FR RE GP MQ GF YT PM BL MF" },
    { "GB", "uk", "GB" },
    { "US", "us", "US PR VI GU AS MP" },
};
#define S_NJUR (sizeof s_jurisdictions / sizeof s_jurisdictions[0])

/* The rule of each national list that carries its legal age (rules.h lists no rule ids, so the
 * table names them; the ages themselves are read from the profiles). */
static const struct {
    const char *list, *profile, *rule;
} s_ages[] = {
    { "us-dnc", "us-cc", "us.dnc-national" },
    { "bloctel", "fr-cc", "fr.bloctel" },
    { "tps", "uk-cc", "uk.tps" },
    { "ctps", "uk-cc", "uk.ctps" },
};

typedef struct {
    char *name;                  /* "" for a default */
    char *profile;
    char *jurisdiction;
    char *tenant;
    bool debt;
    unsigned dial;               /* PL_RULES_DIAL_PRERECORDED, _AGENT_GUARANTEED as the file says */
    pl_rules_campaign_t *campaign;
    bool from_api;               /* defined over the API (the registry), not by a file */
    uint64_t hash;               /* of its text */
} s_campaign_t;

/* The lock guards items (which grows, and whose API definitions are replaced); what a lookup
 * hands out (strings, the engine's campaign) is never freed before the set: a replaced
 * definition is retired. */
struct scrub_campaigns {
    pthread_mutex_t lock;
    pl_rules_tzdb_t *tz;
    pl_rules_profiles_t *profiles;
    char *default_tenant;
    s_campaign_t *items;
    size_t n;
    pl_retired_t *retired;       /* replaced definitions (s_campaign_t *) a thread may still hold */
    int64_t registry_rev;
};

/* A retired definition is freed after this: a lookup's result is used for one judgment, so
 * replacing definitions again and again cannot grow the memory without bound. */
#define S_RETIRED_KEEP_MS (10 * 60 * 1000)

uint64_t
scrub_id_of (const char *name)
{
    return pl_rules_id_of (name);       /* one hash of names, the engine's, for every service */
}

static s_campaign_t *
s_add (scrub_campaigns_t *self)
{
    s_campaign_t *items = realloc (self->items, (self->n + 1) * sizeof *items);
    if (!items)
        return NULL;
    self->items = items;
    s_campaign_t *c = &items[self->n++];
    memset (c, 0, sizeof *c);
    return c;
}

/* The default campaign of a profile, for the default tenant. */
static int
s_add_default (scrub_campaigns_t *self, const char *jurisdiction, const char *profile_id, bool debt)
{
    if (!pl_rules_profiles_find (self->profiles, profile_id))
        return 0;
    s_campaign_t *c = s_add (self);
    if (!c)
        return PL_ENOMEM;
    c->name = strdup ("");
    c->profile = strdup (profile_id);
    c->jurisdiction = strdup (jurisdiction);
    c->tenant = strdup (self->default_tenant);
    c->debt = debt;
    c->campaign = pl_rules_campaign_new (self->profiles);
    char tenant[32];
    snprintf (tenant, sizeof tenant, "%llu", (unsigned long long) scrub_id_of (self->default_tenant));
    if (!c->name || !c->profile || !c->jurisdiction || !c->tenant || !c->campaign
        || pl_rules_campaign_set (c->campaign, "campaign", "profile", profile_id) != 0
        || pl_rules_campaign_set (c->campaign, "campaign", "tenant", tenant) != 0)
        return PL_ENOMEM;
    return 0;
}

/* Reads a campaign file, turning tenant and subject names into the engine's numeric ids. */
static int s_find (const scrub_campaigns_t *self, const char *name, const char *jurisdiction, const char *region,
                   bool debt, scrub_campaign_t *out);

static void
s_campaign_clear (s_campaign_t *c)
{
    pl_rules_campaign_destroy (&c->campaign);
    free (c->name);
    free (c->profile);
    free (c->jurisdiction);
    free (c->tenant);
    memset (c, 0, sizeof *c);
}

static void
s_campaign_release (void *c)
{
    s_campaign_clear (c);
    free (c);
}

/* 64-bit FNV-1a: whether a definition's text changed. */
static uint64_t
s_hash (const char *text)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *text; text++)
        h = (h ^ (unsigned char) *text) * 1099511628211ULL;
    return h;
}

/* Campaign `name` from its text into *c (in no set). The engine wants numbers for tenants and
 * subjects: names become their hash here. */
static int
s_parse_text (scrub_campaigns_t *self, const char *name, const char *origin, const char *in, s_campaign_t *c,
              char *err, size_t err_size)
{
    memset (c, 0, sizeof *c);
    size_t cap = strlen (in) + 4096, len = 0;
    char *text = malloc (cap), line[1024], tenant[256] = "";
    bool in_campaign = false;
    unsigned dial = 0;
    for (const char *at = in; text && *at;) {
        size_t ll = strcspn (at, "\n");
        snprintf (line, sizeof line, "%.*s\n", (int) (ll < sizeof line - 2 ? ll : sizeof line - 2), at);
        at += ll + (at[ll] == '\n');
        char out[1100];
        snprintf (out, sizeof out, "%s", line);
        const char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '[')
            in_campaign = strncmp (p, "[campaign]", 10) == 0;
        else if (in_campaign && (strncmp (p, "tenant", 6) == 0 || strncmp (p, "subject", 7) == 0)) {
            const char *eq = strchr (p, '=');
            if (eq) {
                char value[256];
                snprintf (value, sizeof value, "%s", eq + 1);
                char *v = value;
                while (*v == ' ' || *v == '\t')
                    v++;
                v[strcspn (v, " \t\r\n#")] = '\0';
                if (*p == 't')
                    snprintf (tenant, sizeof tenant, "%s", v);
                snprintf (out, sizeof out, "%.*s= %llu\n", (int) (eq - line), line,
                          (unsigned long long) scrub_id_of (v));
            }
        } else if (in_campaign && (strncmp (p, "prerecorded", 11) == 0 || strncmp (p, "agent-guaranteed", 16) == 0)) {
            /* The engine reads them too; scrub keeps them for the dialer's checks, which set the
             * dial mode of each call themselves (PL_RULES_DIAL_SET). */
            const char *eq = strchr (p, '=');
            unsigned bit = *p == 'p' ? PL_RULES_DIAL_PRERECORDED : PL_RULES_DIAL_AGENT_GUARANTEED;
            if (eq) {
                eq += strspn (eq + 1, " \t") + 1;
                dial = strncmp (eq, "yes", 3) == 0 ? dial | bit : dial & ~bit;
            }
        }
        size_t n = strlen (out);
        if (len + n + 1 > cap) {
            char *t = realloc (text, cap = 2 * (len + n + 1));
            if (!t) {
                free (text);
                text = NULL;
                break;
            }
            text = t;
        }
        memcpy (text + len, out, n);
        len += n;
    }
    if (!text)
        return PL_ENOMEM;
    text[len] = '\0';
    c->name = strdup (name);
    c->campaign = pl_rules_campaign_new (self->profiles);
    c->tenant = strdup (*tenant ? tenant : self->default_tenant);
    c->hash = s_hash (in);
    int rc = c->campaign ? pl_rules_campaign_load_text (c->campaign, origin, text) : PL_ENOMEM;
    free (text);
    if (rc != 0) {
        snprintf (err, err_size, "%s", c->campaign ? pl_rules_campaign_errstr (c->campaign) : "out of memory");
        s_campaign_clear (c);
        return rc;
    }
    const pl_rules_profile_t *p = pl_rules_campaign_profile (c->campaign);
    if (!p) {
        snprintf (err, err_size, "%s: no profile (set [campaign] profile = …)", origin);
        s_campaign_clear (c);
        return PL_ECONFIG;
    }
    c->profile = strdup (pl_rules_profile_id (p));
    c->jurisdiction = strdup (pl_rules_profile_jurisdiction (p));
    c->debt = pl_rules_profile_kind (p) == PL_RULES_DC;
    c->dial = dial;
    if (!c->name || !c->tenant || !c->profile || !c->jurisdiction) {
        s_campaign_clear (c);
        return PL_ENOMEM;
    }
    /* No tenant given: the campaign counts for the default tenant, as its consents will. */
    if (!*tenant) {
        char t[32];
        snprintf (t, sizeof t, "%llu", (unsigned long long) scrub_id_of (self->default_tenant));
        pl_rules_campaign_set (c->campaign, "campaign", "tenant", t);
    }
    return 0;
}

static int
s_load_campaign (scrub_campaigns_t *self, const char *dir, const char *file, char *err, size_t err_size)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/%s", dir, file);
    FILE *fp = fopen (path, "r");
    if (!fp) {
        snprintf (err, err_size, "%s: cannot be read", path);
        return PL_EIO;
    }
    char *text = malloc (1 << 20);
    size_t len = text ? fread (text, 1, (1 << 20) - 1, fp) : 0;
    fclose (fp);
    if (!text)
        return PL_ENOMEM;
    text[len] = '\0';
    char *name = strndup (file, strlen (file) - strlen (".campaign"));
    s_campaign_t c;
    int rc = name ? s_parse_text (self, name, path, text, &c, err, err_size) : PL_ENOMEM;
    free (text);
    free (name);
    if (rc != 0)
        return rc;
    s_campaign_t *slot = s_add (self);
    if (!slot) {
        s_campaign_clear (&c);
        return PL_ENOMEM;
    }
    *slot = c;
    return 0;
}

int
scrub_campaigns_define (scrub_campaigns_t *self, const char *name, const char *text, bool *changed, char *err,
                        size_t err_size)
{
    *changed = false;
    if (!name || !*name) {
        snprintf (err, err_size, "a campaign needs a name");
        return PL_EINVAL;
    }
    uint64_t h = s_hash (text);
    pthread_mutex_lock (&self->lock);
    int same = 0;
    for (size_t i = 0; i < self->n; i++)
        if (strcmp (self->items[i].name, name) == 0)
            same = !self->items[i].from_api ? -1 : self->items[i].hash == h;
    pthread_mutex_unlock (&self->lock);
    if (same == -1) {
        snprintf (err, err_size, "campaign '%s' is defined by a file: the definition over the API is ignored", name);
        return PL_EEXIST;
    }
    if (same)
        return 0;
    char origin[96];
    snprintf (origin, sizeof origin, "PUT /v1/campaigns/%.63s", name);
    s_campaign_t c;
    int rc = s_parse_text (self, name, origin, text, &c, err, err_size);
    if (rc != 0)
        return rc;
    c.from_api = true;
    pthread_mutex_lock (&self->lock);
    size_t i = 0;
    while (i < self->n && strcmp (self->items[i].name, name) != 0)
        i++;
    if (i < self->n) {
        /* The old one is retired, not freed: a thread may hold its strings and engine campaign. */
        s_campaign_t *old = malloc (sizeof *old);
        if (old)
            *old = self->items[i];
        if (old && pl_retired_add (self->retired, old) == 0)
            self->items[i] = c;
        else {
            free (old);
            rc = PL_ENOMEM;
        }
    } else {
        s_campaign_t *slot = s_add (self);
        if (slot)
            *slot = c;
        else
            rc = PL_ENOMEM;
    }
    pthread_mutex_unlock (&self->lock);
    if (rc != 0) {
        s_campaign_clear (&c);
        snprintf (err, err_size, "out of memory");
    }
    *changed = rc == 0;
    return rc;
}

typedef struct {
    scrub_campaigns_t *self;
    pl_log_t *log;
} s_poll_t;

static int
s_on_definition (const char *name, const char *text, size_t len, void *arg)
{
    (void) len;
    s_poll_t *p = arg;
    char err[512] = "";
    bool changed = false;
    if (scrub_campaigns_define (p->self, name, text, &changed, err, sizeof err) != 0)
        pl_log_error (p->log, NULL, "campaign definition not taken", "campaign", name, "error", err);
    else if (changed)
        pl_log_info (p->log, NULL, "campaign defined", "campaign", name, "from", "registry");
    return 0;            /* one bad definition does not hold the others back */
}

int
scrub_campaigns_registry_poll (scrub_campaigns_t *self, pl_redis_t *redis, pl_log_t *log)
{
    return pl_campaign_registry_poll (redis, &self->registry_rev, s_on_definition,
                                      &(s_poll_t) { self, log });
}

scrub_campaigns_t *
scrub_campaigns_new (const char *profiles_dir, const char *zoneinfo, const char *campaigns_dir,
                     const char *default_tenant, char *err, size_t err_size)
{
    scrub_campaigns_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init (&self->lock, NULL);
    self->retired = pl_retired_new (s_campaign_release, S_RETIRED_KEEP_MS);
    self->tz = pl_rules_tzdb_new (zoneinfo);
    self->profiles = self->tz ? pl_rules_profiles_new (self->tz) : NULL;
    self->default_tenant = strdup (default_tenant && *default_tenant ? default_tenant : "default");
    if (!self->retired || !self->profiles || !self->default_tenant) {
        snprintf (err, err_size, "out of memory");
        goto fail;
    }
    /* Every zone now: deciding must not read files, and any zone can arrive with a lead. */
    if (pl_rules_tzdb_load_all (self->tz) <= 0) {
        snprintf (err, err_size, "no time zones: %s", pl_rules_tzdb_errstr (self->tz));
        goto fail;
    }
    if (pl_rules_profiles_load_dir (self->profiles, profiles_dir) < 0) {
        snprintf (err, err_size, "%s", pl_rules_profiles_errstr (self->profiles));
        goto fail;
    }
    for (size_t j = 0; j < S_NJUR; j++) {
        char id[16];
        snprintf (id, sizeof id, "%s-cc", s_jurisdictions[j].family);
        if (s_add_default (self, s_jurisdictions[j].jurisdiction, id, false) != 0)
            goto fail;
        snprintf (id, sizeof id, "%s-dc", s_jurisdictions[j].family);
        if (s_add_default (self, s_jurisdictions[j].jurisdiction, id, true) != 0)
            goto fail;
    }
    if (campaigns_dir && *campaigns_dir) {
        DIR *d = opendir (campaigns_dir);
        if (!d) {
            snprintf (err, err_size, "%s: cannot be read", campaigns_dir);
            goto fail;
        }
        struct dirent *e;
        int rc = 0;
        while (rc == 0 && (e = readdir (d))) {
            size_t n = strlen (e->d_name);
            if (n > 9 && strcmp (e->d_name + n - 9, ".campaign") == 0)
                rc = s_load_campaign (self, campaigns_dir, e->d_name, err, err_size);
        }
        closedir (d);
        if (rc != 0)
            goto fail;
    }
    return self;
fail:
    scrub_campaigns_destroy (&self);
    return NULL;
}

void
scrub_campaigns_destroy (scrub_campaigns_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    scrub_campaigns_t *self = *self_p;
    for (size_t i = 0; i < self->n; i++)
        s_campaign_clear (&self->items[i]);
    pl_retired_destroy (&self->retired);
    free (self->items);
    pthread_mutex_destroy (&self->lock);
    pl_rules_profiles_destroy (&self->profiles);
    pl_rules_tzdb_destroy (&self->tz);
    free (self->default_tenant);
    free (self);
    *self_p = NULL;
}

const char *
scrub_campaigns_jurisdiction (const scrub_campaigns_t *self, const char *region)
{
    (void) self;
    if (!region || strlen (region) != 2)
        return "";
    for (size_t j = 0; j < S_NJUR; j++) {
        const char *r = strstr (s_jurisdictions[j].regions, region);
        if (r && (r[2] == ' ' || r[2] == '\0'))
            return s_jurisdictions[j].jurisdiction;
    }
    return "";
}

bool
scrub_campaigns_has_jurisdiction (const scrub_campaigns_t *self, const char *jurisdiction)
{
    scrub_campaigns_t *s = (scrub_campaigns_t *) self;
    bool has = false;
    pthread_mutex_lock (&s->lock);
    for (size_t i = 0; jurisdiction && i < s->n && !has; i++)
        has = strcasecmp (s->items[i].jurisdiction, jurisdiction) == 0;
    pthread_mutex_unlock (&s->lock);
    return has;
}

int
scrub_campaigns_find (const scrub_campaigns_t *self, const char *name, const char *jurisdiction,
                      const char *region, bool debt, scrub_campaign_t *out)
{
    scrub_campaigns_t *s = (scrub_campaigns_t *) self;
    pthread_mutex_lock (&s->lock);
    int rc = s_find (self, name, jurisdiction, region, debt, out);
    pthread_mutex_unlock (&s->lock);
    return rc;
}

static int
s_find (const scrub_campaigns_t *self, const char *name, const char *jurisdiction, const char *region, bool debt,
        scrub_campaign_t *out)
{
    const s_campaign_t *hit = NULL;
    for (size_t i = 0; name && *name && i < self->n && !hit; i++)
        if (strcmp (self->items[i].name, name) == 0)
            hit = &self->items[i];
    const char *jur = jurisdiction && *jurisdiction ? jurisdiction : scrub_campaigns_jurisdiction (self, region);
    for (size_t i = 0; !hit && i < self->n; i++) {
        const s_campaign_t *c = &self->items[i];
        if (!*c->name && c->debt == debt && strcasecmp (c->jurisdiction, jur) == 0)
            hit = c;
    }
    /* No collection profile for that jurisdiction: canvassing's, the stricter lists. */
    for (size_t i = 0; !hit && debt && i < self->n; i++) {
        const s_campaign_t *c = &self->items[i];
        if (!*c->name && strcasecmp (c->jurisdiction, jur) == 0)
            hit = c;
    }
    if (!hit)
        return PL_ENOTFOUND;
    *out = (scrub_campaign_t) { .campaign = hit->campaign, .name = hit->name, .profile = hit->profile,
                                .jurisdiction = hit->jurisdiction, .tenant = hit->tenant, .dial = hit->dial };
    return 0;
}

const pl_rules_tz_t *
scrub_campaigns_zone (const scrub_campaigns_t *self, const char *name)
{
    return name && *name ? pl_rules_tzdb_find (self->tz, name) : NULL;
}

const pl_rules_profiles_t *
scrub_campaigns_profiles (const scrub_campaigns_t *self)
{
    return self->profiles;
}

int64_t
scrub_campaigns_max_age_ms (const scrub_campaigns_t *self, const char *list)
{
    for (size_t i = 0; i < sizeof s_ages / sizeof s_ages[0]; i++) {
        if (strcmp (s_ages[i].list, list) != 0)
            continue;
        const pl_rules_profile_t *p = pl_rules_profiles_find (self->profiles, s_ages[i].profile);
        const pl_rules_rule_t *r = p ? pl_rules_profile_rule (p, s_ages[i].rule) : NULL;
        const char *age = r ? pl_rules_rule_param (r, "max-age") : NULL;
        if (!age)
            return 0;
        char *end;
        long long v = strtoll (age, &end, 10);
        int64_t unit = *end == 'h' ? 3600000LL : *end == 'd' ? 86400000LL : 0;
        return v > 0 ? v * unit : 0;
    }
    return 0;
}

bool
scrub_campaigns_stale (int64_t as_of_ms, int64_t max_age_ms, int64_t now_ms, int64_t *days)
{
    const int64_t day = 86400000;
    int64_t d = (now_ms >= 0 ? now_ms / day : (now_ms - day + 1) / day)
              - (as_of_ms >= 0 ? as_of_ms / day : (as_of_ms - day + 1) / day);
    if (days)
        *days = d;
    return max_age_ms > 0 && d > max_age_ms / day;
}
