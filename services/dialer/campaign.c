/*  campaign.c — campaign files: the engine's sections to the engine, the [dialer …] ones here. */
#include "campaign.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plateau/error.h"
#include "plateau/retired.h"
#include "plateau/v1/common.pb-c.h"

/* Campaigns are added or replaced while threads read them: each one is its own allocation, and a
 * replaced one is retired, not freed, until the set is destroyed (a thread may still hold it). */
struct dialer_campaigns {
    pthread_mutex_t lock;
    uint64_t gen;                /* moves with every change (atomic reads) */
    pl_rules_tzdb_t *tz;
    pl_rules_profiles_t *profiles;
    dialer_campaign_t **c;
    size_t n;
    pl_retired_t *retired;       /* replaced definitions a thread may still hold */
};

/* A retired definition is freed after this: a thread holds a campaign for one step (seconds at
 * most), so replacing definitions again and again cannot grow the memory without bound. */
#define S_RETIRED_KEEP_MS (10 * 60 * 1000)

/* 64-bit FNV-1a: whether a definition's text changed. */
static uint64_t
s_hash (const char *text, size_t len)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char) text[i]) * 1099511628211ULL;
    return h;
}

static void
s_campaign_free (dialer_campaign_t *c)
{
    if (!c)
        return;
    pl_rules_campaign_t *r = (pl_rules_campaign_t *) c->rules;
    pl_rules_campaign_destroy (&r);
    free (c->text);
    free (c);
}

static void
s_campaign_release (void *c)
{
    s_campaign_free (c);
}

static const char *s_retry_names[DIALER_RETRY_N] = { "busy", "no-answer", "voicemail", "abandoned", "failed" };

const char *
dialer_retry_name (dialer_retry_kind_t kind)
{
    return kind < DIALER_RETRY_N ? s_retry_names[kind] : "";
}

const char *
dialer_mode_name (dialer_mode_t mode)
{
    return mode == DIALER_PREVIEW ? "preview" : mode == DIALER_PREDICTIVE ? "predictive" : "progressive";
}

/* "10m", "2h", "1d", "20s", "500ms": a duration in ms, or -1. */
static int64_t
s_duration (const char *s)
{
    char *end;
    long long v = strtoll (s, &end, 10);
    if (end == s || v < 0)
        return -1;
    int64_t unit = strcmp (end, "ms") == 0 ? 1 : strcmp (end, "s") == 0 ? 1000 : strcmp (end, "m") == 0 ? 60000
                 : strcmp (end, "h") == 0 ? 3600000 : strcmp (end, "d") == 0 ? 86400000 : -1;
    return unit < 0 || v > 365LL * 86400000 / unit ? -1 : v * unit;
}

typedef struct {
    dialer_campaign_t *c;
    const char *origin;
    char *err;
    size_t err_size;
} s_parse_t;

static int
s_bad (s_parse_t *p, int line, const char *key, const char *why)
{
    snprintf (p->err, p->err_size, "%s:%d: key '%s': %s", p->origin, line, key, why);
    return PL_ECONFIG;
}

static int
s_on_key (void *arg, const char *section, const char *sarg, const char *key, const char *value, int line)
{
    s_parse_t *p = arg;
    dialer_campaign_t *c = p->c;
    if (!key)
        return 0;
    if (strcmp (section, "campaign") == 0) {
        if (strcmp (key, "tenant") == 0)
            snprintf (c->tenant, sizeof c->tenant, "%s", value);
        else if (strcmp (key, "cli") == 0)
            snprintf (c->cli, sizeof c->cli, "%s", value);
        return 0;
    }
    if (strcmp (section, "dialer-retry") == 0) {
        const char *o = sarg;
        int k = -1;
        for (int i = 0; o && i < DIALER_RETRY_N; i++)
            if (strcmp (o, s_retry_names[i]) == 0)
                k = i;
        if (k < 0)
            return s_bad (p, line, key, "section must be [dialer-retry busy|no-answer|voicemail|abandoned|failed]");
        if (strcmp (key, "delay") == 0) {
            int64_t d = s_duration (value);
            if (d < 60000)
                return s_bad (p, line, key, "a duration of at least 1m (10m, 2h, 1d)");
            c->retry[k].delay_ms = d;
        }
        else if (strcmp (key, "max") == 0) {
            char *end;
            long v = strtol (value, &end, 10);
            if (*end || v < 0 || v > 50)
                return s_bad (p, line, key, "a number of attempts from 0 to 50");
            c->retry[k].max = (int) v;
        }
        else
            return s_bad (p, line, key, "unknown (delay, max)");
        return 0;
    }
    if (strcmp (section, "dialer") != 0)
        return 0;
    if (*sarg)
        return s_bad (p, line, key, "[dialer] takes no name");
    if (strcmp (key, "mode") == 0) {
        if (strcmp (value, "preview") == 0)
            c->mode = DIALER_PREVIEW;
        else if (strcmp (value, "progressive") == 0)
            c->mode = DIALER_PROGRESSIVE;
        else if (strcmp (value, "predictive") == 0)
            c->mode = DIALER_PREDICTIVE;
        else
            return s_bad (p, line, key, "preview, progressive or predictive");
    }
    else if (strcmp (key, "priority") == 0) {
        char *end;
        long v = strtol (value, &end, 10);
        if (*end || v < 1 || v > 9)
            return s_bad (p, line, key, "1 to 9");
        c->priority = (int) v;
    }
    else if (strcmp (key, "order") == 0) {
        if (strcmp (value, "oldest") && strcmp (value, "newest"))
            return s_bad (p, line, key, "oldest or newest");
        c->newest_first = strcmp (value, "newest") == 0;
    }
    else if (strcmp (key, "numbers") == 0) {
        c->numbers = strcmp (value, "listed") == 0 ? 0 : strcmp (value, "mobile-first") == 0 ? 1
                   : strcmp (value, "fixed-first") == 0 ? 2 : -1;
        if (c->numbers < 0)
            return s_bad (p, line, key, "listed, mobile-first or fixed-first");
    }
    else if (strcmp (key, "ring-timeout") == 0) {
        int64_t d = s_duration (value);
        if (d < 15000 || d > 120000)
            return s_bad (p, line, key, "15s to 120s: an unanswered call rings at least 15 s (us.abandon, uk.abandon)");
        c->ring_timeout_s = (int) (d / 1000);
    }
    else if (strcmp (key, "amd") == 0) {
        if (strcmp (value, "yes") && strcmp (value, "no"))
            return s_bad (p, line, key, "yes or no");
        c->amd = strcmp (value, "yes") == 0;
    }
    else if (strcmp (key, "abandon-target") == 0) {
        char *end;
        double v = strtod (value, &end);
        if (end == value || strcmp (end, "%") != 0 || v < 0 || v > 100)
            return s_bad (p, line, key, "a percentage (3%, 1.5%)");
        c->abandon_ppm = (uint32_t) (v * 10000 + 0.5);
    }
    else if (strcmp (key, "max-attempts") == 0) {
        char *end;
        long v = strtol (value, &end, 10);
        if (*end || v < 1 || v > 100)
            return s_bad (p, line, key, "1 to 100");
        c->max_attempts = (int) v;
    }
    else
        return s_bad (p, line, key, "unknown in [dialer] (mode, priority, order, numbers, ring-timeout, amd, "
                                    "abandon-target, max-attempts)");
    return 0;
}

static void
s_defaults (dialer_campaign_t *c)
{
    c->mode = DIALER_PROGRESSIVE;
    c->priority = 5;
    c->ring_timeout_s = 20;
    c->max_attempts = 8;
    c->abandon_ppm = 30000;
    const int64_t delays[DIALER_RETRY_N] = { 10 * 60000, 2 * 3600000, 4 * 3600000, 72 * 3600000LL, 30 * 60000 };
    const int maxes[DIALER_RETRY_N] = { 4, 4, 3, 2, 2 };
    for (int i = 0; i < DIALER_RETRY_N; i++)
        c->retry[i] = (dialer_retry_t) { delays[i], maxes[i] };
}

/* A campaign from its text, checked whole; NULL with err. */
static dialer_campaign_t *
s_parse (dialer_campaigns_t *self, const char *name, const char *origin, const char *text, char *err,
         size_t err_size)
{
    if (!name || !*name || strlen (name) >= 64 || strspn (name, "abcdefghijklmnopqrstuvwxyz0123456789-_") != strlen (name)) {
        snprintf (err, err_size, "%s: campaign names are 1 to 63 of a-z 0-9 - _", origin);
        return NULL;
    }
    dialer_campaign_t *c = calloc (1, sizeof *c);
    pl_rules_campaign_t *r = pl_rules_campaign_new (self->profiles);
    if (!c || !r) {
        free (c);
        pl_rules_campaign_destroy (&r);
        snprintf (err, err_size, "out of memory");
        return NULL;
    }
    s_defaults (c);
    snprintf (c->name, sizeof c->name, "%s", name);
    s_parse_t p = { c, origin, err, err_size };
    int rc = pl_rules_campaign_load_text (r, origin, text);
    if (rc != 0)
        snprintf (err, err_size, "%s", pl_rules_campaign_errstr (r));
    if (rc == 0 && !pl_rules_campaign_profile (r)) {
        snprintf (err, err_size, "%s: key 'profile': [campaign] must name the profile (fr-cc, us-dc…)", origin);
        rc = PL_ECONFIG;
    }
    if (rc == 0)
        rc = pl_rules_text_each (origin, text, s_on_key, &p, err, err_size);
    if (rc == 0 && !*c->tenant) {
        snprintf (err, err_size, "%s: key 'tenant': [campaign] must name the tenant (caps count per tenant)", origin);
        rc = PL_ECONFIG;
    }
    pl_rules_abandon_t ab;
    if (rc == 0 && pl_rules_campaign_abandon (r, &ab) == 0) {
        if (c->abandon_ppm > ab.max_rate_ppm) {
            snprintf (err, err_size, "%s: key 'abandon-target': %.2f%% is above %s's %.2f%%", origin,
                      c->abandon_ppm / 10000.0, ab.rule, ab.max_rate_ppm / 10000.0);
            rc = PL_ECONFIG;
        }
        snprintf (c->abandon_rule, sizeof c->abandon_rule, "%s", ab.rule);
        c->abandon_calendar_day = ab.calendar_day;
        c->abandon_period_ms = ab.period_ms;
        if (c->ring_timeout_s * 1000LL < ab.ring_min_ms) {
            snprintf (err, err_size, "%s: key 'ring-timeout': %d s is under %s's %lld s", origin, c->ring_timeout_s,
                      ab.rule, (long long) (ab.ring_min_ms / 1000));
            rc = PL_ECONFIG;
        }
    }
    else if (rc == 0) {
        /* No legal budget (US collection is not telemarketing): the campaign's target still holds,
         * as house policy, over 30 rolling days. */
        c->abandon_period_ms = 30LL * 86400000;
        snprintf (c->abandon_rule, sizeof c->abandon_rule, "dialer.abandon-target");
    }
    if (rc != 0) {
        free (c);
        pl_rules_campaign_destroy (&r);
        return NULL;
    }
    const pl_rules_profile_t *pf = pl_rules_campaign_profile (r);
    snprintf (c->profile, sizeof c->profile, "%s", pl_rules_profile_id (pf));
    snprintf (c->jurisdiction, sizeof c->jurisdiction, "%s", pl_rules_profile_jurisdiction (pf));
    c->kind = pl_rules_profile_kind (pf) == PL_RULES_DC ? PLATEAU__V1__CALL_KIND__DEBT_COLLECTION
                                                         : PLATEAU__V1__CALL_KIND__CANVASSING;
    c->rules = r;
    /* A calendar-day period is the jurisdiction's day: the UK's, in London. */
    static const struct { const char *j, *zone; } zones[] = {
        { "GB", "Europe/London" }, { "UK", "Europe/London" }, { "FR", "Europe/Paris" }, { "US", "America/New_York" },
    };
    for (size_t i = 0; i < sizeof zones / sizeof *zones; i++)
        if (strcmp (c->jurisdiction, zones[i].j) == 0)
            c->period_zone = pl_rules_tzdb_find (self->tz, zones[i].zone);
    snprintf (c->origin, sizeof c->origin, "%s", origin);
    c->text = strdup (text);
    c->text_hash = s_hash (text, strlen (text));
    if (!c->text) {
        s_campaign_free (c);
        snprintf (err, err_size, "out of memory");
        return NULL;
    }
    return c;
}

/* Adds c, or replaces the one of its name when `replace` (the old one retired). Takes c. */
static int
s_insert (dialer_campaigns_t *self, dialer_campaign_t *c, bool replace, char *err, size_t err_size)
{
    pthread_mutex_lock (&self->lock);
    int rc = 0;
    size_t i = 0;
    while (i < self->n && strcmp (self->c[i]->name, c->name) != 0)
        i++;
    if (i < self->n && (!replace || !self->c[i]->from_api)) {
        snprintf (err, err_size, "%s: campaign '%s' is defined twice (also by %s)", c->origin, c->name,
                  self->c[i]->origin);
        rc = PL_EEXIST;
    } else if (i < self->n) {
        rc = pl_retired_add (self->retired, self->c[i]);
        if (rc == 0)
            self->c[i] = c;
    } else {
        dialer_campaign_t **cc = realloc (self->c, (self->n + 1) * sizeof *cc);
        if (cc) {
            self->c = cc;
            self->c[self->n++] = c;
        } else
            rc = PL_ENOMEM;
    }
    if (rc == 0)
        __atomic_add_fetch (&self->gen, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock (&self->lock);
    if (rc == PL_ENOMEM)
        snprintf (err, err_size, "out of memory");
    if (rc != 0)
        s_campaign_free (c);
    return rc;
}

int
dialer_campaigns_load_text (dialer_campaigns_t *self, const char *name, const char *origin, const char *text,
                            char *err, size_t err_size)
{
    dialer_campaign_t *c = s_parse (self, name, origin, text, err, err_size);
    return c ? s_insert (self, c, false, err, err_size) : PL_ECONFIG;
}

dialer_campaign_t *
dialer_campaigns_parse (dialer_campaigns_t *self, const char *name, const char *text, char *err, size_t err_size)
{
    return s_parse (self, name, "body", text, err, err_size);
}

void
dialer_campaign_free (dialer_campaign_t *c)
{
    s_campaign_free (c);
}

int
dialer_campaigns_check (dialer_campaigns_t *self, const char *name, char *err, size_t err_size)
{
    const char *file = NULL;
    pthread_mutex_lock (&self->lock);
    for (size_t i = 0; i < self->n; i++)
        if (strcmp (self->c[i]->name, name) == 0 && !self->c[i]->from_api)
            file = self->c[i]->origin;      /* files are never replaced: the string stays */
    pthread_mutex_unlock (&self->lock);
    if (file) {
        snprintf (err, err_size, "campaign '%s' is defined by the file %s: change it there", name, file);
        return PL_EEXIST;
    }
    return 0;
}

int
dialer_campaigns_define (dialer_campaigns_t *self, const char *name, const char *text, bool *changed, char *err,
                         size_t err_size)
{
    *changed = false;
    uint64_t h = s_hash (text, strlen (text));
    pthread_mutex_lock (&self->lock);
    int same = 0;
    for (size_t i = 0; i < self->n; i++)
        if (strcmp (self->c[i]->name, name) == 0)
            same = !self->c[i]->from_api ? -1 : self->c[i]->text_hash == h && strcmp (self->c[i]->text, text) == 0;
    pthread_mutex_unlock (&self->lock);
    if (same == -1) {
        snprintf (err, err_size, "campaign '%s' is defined by a file: the definition over the API is ignored", name);
        return PL_EEXIST;
    }
    if (same)
        return 0;
    char origin[96];
    snprintf (origin, sizeof origin, "PUT /v1/campaigns/%.63s", name);
    dialer_campaign_t *c = s_parse (self, name, origin, text, err, err_size);
    if (!c)
        return PL_ECONFIG;
    c->from_api = true;
    int rc = s_insert (self, c, true, err, err_size);
    *changed = rc == 0;
    return rc;
}

uint64_t
dialer_campaigns_gen (const dialer_campaigns_t *self)
{
    return __atomic_load_n (&self->gen, __ATOMIC_ACQUIRE);
}

static int
s_load_file (dialer_campaigns_t *self, const char *dir, const char *file, char *err, size_t err_size)
{
    char path[1024], name[64];
    snprintf (path, sizeof path, "%s/%s", dir, file);
    size_t n = strlen (file) - strlen (".campaign");
    if (n >= sizeof name) {
        snprintf (err, err_size, "%s: name too long", path);
        return PL_ECONFIG;
    }
    memcpy (name, file, n);
    name[n] = '\0';
    FILE *f = fopen (path, "r");
    if (!f) {
        snprintf (err, err_size, "%s: cannot be read", path);
        return PL_EIO;
    }
    char *text = malloc (1 << 20);
    size_t len = text ? fread (text, 1, (1 << 20) - 1, f) : 0;
    fclose (f);
    if (!text)
        return PL_ENOMEM;
    text[len] = '\0';
    int rc = dialer_campaigns_load_text (self, name, file, text, err, err_size);
    free (text);
    return rc;
}

dialer_campaigns_t *
dialer_campaigns_new (const char *profiles_dir, const char *zoneinfo, const char *dir, char *err, size_t err_size)
{
    dialer_campaigns_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init (&self->lock, NULL);
    self->retired = pl_retired_new (s_campaign_release, S_RETIRED_KEEP_MS);
    self->tz = self->retired ? pl_rules_tzdb_new (zoneinfo) : NULL;
    self->profiles = self->tz ? pl_rules_profiles_new (self->tz) : NULL;
    if (!self->profiles) {
        snprintf (err, err_size, "out of memory");
        goto fail;
    }
    if (pl_rules_tzdb_load_all (self->tz) <= 0) {
        snprintf (err, err_size, "no time zones: %s", pl_rules_tzdb_errstr (self->tz));
        goto fail;
    }
    if (pl_rules_profiles_load_dir (self->profiles, profiles_dir) < 0) {
        snprintf (err, err_size, "%s", pl_rules_profiles_errstr (self->profiles));
        goto fail;
    }
    if (dir && *dir) {
        DIR *d = opendir (dir);
        if (!d) {
            snprintf (err, err_size, "%s: cannot be read", dir);
            goto fail;
        }
        struct dirent *e;
        int rc = 0;
        while (rc == 0 && (e = readdir (d))) {
            size_t n = strlen (e->d_name);
            if (n > 9 && strcmp (e->d_name + n - 9, ".campaign") == 0)
                rc = s_load_file (self, dir, e->d_name, err, err_size);
        }
        closedir (d);
        if (rc != 0)
            goto fail;
    }
    return self;
fail:
    dialer_campaigns_destroy (&self);
    return NULL;
}

void
dialer_campaigns_destroy (dialer_campaigns_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    dialer_campaigns_t *self = *self_p;
    for (size_t i = 0; i < self->n; i++)
        s_campaign_free (self->c[i]);
    pl_retired_destroy (&self->retired);
    free (self->c);
    pthread_mutex_destroy (&self->lock);
    pl_rules_profiles_destroy (&self->profiles);
    pl_rules_tzdb_destroy (&self->tz);
    free (self);
    *self_p = NULL;
}

/* The lock guards the arrays; the campaigns themselves never change once inserted. */
size_t
dialer_campaigns_count (const dialer_campaigns_t *self)
{
    dialer_campaigns_t *s = (dialer_campaigns_t *) self;
    pthread_mutex_lock (&s->lock);
    size_t n = s->n;
    pthread_mutex_unlock (&s->lock);
    return n;
}

const dialer_campaign_t *
dialer_campaigns_at (const dialer_campaigns_t *self, size_t i)
{
    dialer_campaigns_t *s = (dialer_campaigns_t *) self;
    pthread_mutex_lock (&s->lock);
    const dialer_campaign_t *c = i < s->n ? s->c[i] : NULL;
    pthread_mutex_unlock (&s->lock);
    return c;
}

const dialer_campaign_t *
dialer_campaigns_find (const dialer_campaigns_t *self, const char *name)
{
    dialer_campaigns_t *s = (dialer_campaigns_t *) self;
    const dialer_campaign_t *c = NULL;
    pthread_mutex_lock (&s->lock);
    for (size_t i = 0; name && i < s->n && !c; i++)
        if (strcmp (s->c[i]->name, name) == 0)
            c = s->c[i];
    pthread_mutex_unlock (&s->lock);
    return c;
}

const pl_rules_tz_t *
dialer_campaigns_zone (const dialer_campaigns_t *self, const char *name)
{
    return name && *name ? pl_rules_tzdb_find (self->tz, name) : NULL;
}
