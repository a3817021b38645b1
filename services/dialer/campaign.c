/*  campaign.c — campaign files: the engine's sections to the engine, the [dialer …] ones here. */
#include "campaign.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plateau/error.h"
#include "plateau/v1/common.pb-c.h"

struct dialer_campaigns {
    pl_rules_tzdb_t *tz;
    pl_rules_profiles_t *profiles;
    dialer_campaign_t **c;
    pl_rules_campaign_t **rules;
    size_t n;
};

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

int
dialer_campaigns_load_text (dialer_campaigns_t *self, const char *name, const char *origin, const char *text,
                            char *err, size_t err_size)
{
    if (!name || !*name || strlen (name) >= 64 || strspn (name, "abcdefghijklmnopqrstuvwxyz0123456789-_") != strlen (name)) {
        snprintf (err, err_size, "%s: campaign names are 1 to 63 of a-z 0-9 - _", origin);
        return PL_ECONFIG;
    }
    dialer_campaign_t *c = calloc (1, sizeof *c);
    pl_rules_campaign_t *r = pl_rules_campaign_new (self->profiles);
    if (!c || !r) {
        free (c);
        pl_rules_campaign_destroy (&r);
        snprintf (err, err_size, "out of memory");
        return PL_ENOMEM;
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
        return PL_ECONFIG;
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
    if (dialer_campaigns_find (self, name)) {
        snprintf (err, err_size, "%s: campaign '%s' is defined twice", origin, name);
        free (c);
        pl_rules_campaign_destroy (&r);
        return PL_EEXIST;
    }
    dialer_campaign_t **cc = realloc (self->c, (self->n + 1) * sizeof *cc);
    pl_rules_campaign_t **rr = cc ? realloc (self->rules, (self->n + 1) * sizeof *rr) : NULL;
    if (cc)
        self->c = cc;
    if (!rr) {
        free (c);
        pl_rules_campaign_destroy (&r);
        return PL_ENOMEM;
    }
    self->rules = rr;
    self->c[self->n] = c;
    self->rules[self->n] = r;
    self->n++;
    return 0;
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
    self->tz = pl_rules_tzdb_new (zoneinfo);
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
    for (size_t i = 0; i < self->n; i++) {
        free (self->c[i]);
        pl_rules_campaign_destroy (&self->rules[i]);
    }
    free (self->c);
    free (self->rules);
    pl_rules_profiles_destroy (&self->profiles);
    pl_rules_tzdb_destroy (&self->tz);
    free (self);
    *self_p = NULL;
}

size_t dialer_campaigns_count (const dialer_campaigns_t *self) { return self->n; }
const dialer_campaign_t *dialer_campaigns_at (const dialer_campaigns_t *self, size_t i)
{
    return i < self->n ? self->c[i] : NULL;
}

const dialer_campaign_t *
dialer_campaigns_find (const dialer_campaigns_t *self, const char *name)
{
    for (size_t i = 0; name && i < self->n; i++)
        if (strcmp (self->c[i]->name, name) == 0)
            return self->c[i];
    return NULL;
}

const pl_rules_tz_t *
dialer_campaigns_zone (const dialer_campaigns_t *self, const char *name)
{
    return name && *name ? pl_rules_tzdb_find (self->tz, name) : NULL;
}
