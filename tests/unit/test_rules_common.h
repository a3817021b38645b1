/*  test_rules_common.h — what the rules engine's tests share: the shipped profiles, local times,
 *  and a compact way to build facts.
 *
 *  Profiles come from $PL_SOURCE_DIR/lib/rules/profiles (set by ctest); zones from
 *  $PL_ZONEINFO or the system tzdata.
 */
#ifndef TEST_RULES_COMMON_H
#define TEST_RULES_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plateau/error.h"
#include "plateau/rules.h"
#include "plateau/timefmt.h"

#define T_SEC  1000LL
#define T_MIN  (60 * T_SEC)
#define T_HOUR (60 * T_MIN)
#define T_DAY  (24 * T_HOUR)

typedef struct {
    pl_rules_tzdb_t *tz;
    pl_rules_profiles_t *ps;
} t_world_t;

static inline const char *
t_zoneinfo (void)
{
    const char *z = getenv ("PL_ZONEINFO");
    return z && *z ? z : PL_RULES_ZONEINFO_DEFAULT;
}

static inline const char *
t_tmp (void)
{
    const char *t = getenv ("TMPDIR");
    return t && *t ? t : "/tmp";
}

static inline const char *
t_profiles_dir (void)
{
    static char path[4096];
    const char *src = getenv ("PL_SOURCE_DIR");
    snprintf (path, sizeof path, "%s/lib/rules/profiles", src && *src ? src : ".");
    return path;
}

/* The tzdb and the shipped profiles; fails the test if they do not load. */
static inline void
t_world_open (t_world_t *w)
{
    w->tz = pl_rules_tzdb_new (t_zoneinfo ());
    assert_non_null (w->tz);
    w->ps = pl_rules_profiles_new (w->tz);
    assert_non_null (w->ps);
    int rc = pl_rules_profiles_load_dir (w->ps, t_profiles_dir ());
    if (rc < 0)
        fail_msg ("profiles: %s", pl_rules_profiles_errstr (w->ps));
}

static inline void
t_world_close (t_world_t *w)
{
    pl_rules_profiles_destroy (&w->ps);
    pl_rules_tzdb_destroy (&w->tz);
}

static inline const pl_rules_tz_t *
t_zone (t_world_t *w, const char *name)
{
    const pl_rules_tz_t *z = NULL;
    if (pl_rules_tzdb_load (w->tz, name, &z) != 0)
        fail_msg ("zone %s: %s", name, pl_rules_tzdb_errstr (w->tz));
    return z;
}

/* UTC milliseconds of a UTC civil time. */
static inline int64_t
t_utc (int y, int mo, int d, int h, int mi, int s)
{
    return (pl_days_from_civil (y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * T_SEC;
}

/* UTC milliseconds of a local civil time in z (first occurrence; gap -> end of gap). */
static inline int64_t
t_local (const pl_rules_tz_t *z, int y, int mo, int d, int h, int mi, int s)
{
    int64_t local = pl_days_from_civil (y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    int64_t utc = 0;
    pl_rules_tz_utc (z, local, PL_RULES_TZ_FIRST, &utc);
    return utc * T_SEC;
}

/* "2026-03-09 10:00:00" local in z, for messages. */
static inline const char *
t_fmt (const pl_rules_tz_t *z, int64_t ms, char *buf, size_t len)
{
    pl_rules_tm_t tm;
    pl_rules_tz_local (z, ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000), &tm);
    snprintf (buf, len, "%04d-%02d-%02d %02d:%02d:%02d %s", tm.year, tm.month, tm.day, tm.hour,
              tm.minute, tm.second, tm.abbr);
    return buf;
}

/* A campaign from text; fails the test when it does not configure. */
static inline pl_rules_campaign_t *
t_campaign (t_world_t *w, const char *text)
{
    pl_rules_campaign_t *c = pl_rules_campaign_new (w->ps);
    assert_non_null (c);
    if (pl_rules_campaign_load_text (c, "test-campaign", text) != 0)
        fail_msg ("campaign: %s", pl_rules_campaign_errstr (c));
    return c;
}

/* Facts with room for the usual arrays. */
typedef struct {
    pl_rules_facts_t f;
    pl_rules_zone_ref_t zones[PL_RULES_MAX_ZONES];
    const char *regions[PL_RULES_MAX_REGIONS];
    pl_rules_call_t calls[64];
    pl_rules_list_t lists[8];
    pl_rules_consent_t consents[8];
    pl_rules_contract_t contracts[4];
    pl_rules_window_t requested[4];
} t_facts_t;

static inline void
t_facts_init (t_facts_t *t, const char *e164, pl_rules_line_t line, const pl_rules_tz_t *zone)
{
    memset (t, 0, sizeof *t);
    t->f.e164 = e164;
    t->f.line = line;
    t->f.zones = t->zones;
    t->f.regions = t->regions;
    t->f.calls = t->calls;
    t->f.lists = t->lists;
    t->f.consents = t->consents;
    t->f.contracts = t->contracts;
    t->f.requested = t->requested;
    if (zone) {
        t->zones[0] = (pl_rules_zone_ref_t) { zone, PL_RULES_ZONE_NUMBER };
        t->f.n_zones = 1;
    }
}

static inline void
t_add_zone (t_facts_t *t, const pl_rules_tz_t *zone, pl_rules_zone_source_t src)
{
    t->zones[t->f.n_zones++] = (pl_rules_zone_ref_t) { zone, src };
}

static inline void
t_add_region (t_facts_t *t, const char *region)
{
    t->regions[t->f.n_regions++] = region;
}

static inline void
t_add_call (t_facts_t *t, int64_t at, uint64_t tenant, uint64_t campaign, uint64_t debt,
            uint64_t subject, uint32_t flags)
{
    t->calls[t->f.n_calls++] = (pl_rules_call_t) { at, tenant, campaign, debt, subject, flags };
}

static inline void
t_add_list (t_facts_t *t, const char *list, bool hit, int64_t as_of)
{
    t->lists[t->f.n_lists++] = (pl_rules_list_t) { list, hit, "v-test", as_of };
}

static inline void
t_add_consent (t_facts_t *t, uint64_t tenant, int64_t captured, int64_t revoked,
               const char *number, bool written)
{
    t->consents[t->f.n_consents++] = (pl_rules_consent_t) {
        .captured_ms = captured, .revoked_ms = revoked, .tenant = tenant, .number = number,
        .written = written, .evidence = "test form" };
}

/* Index of the first fired entry of rule (and key, if given), or -1. */
static inline int
t_fired (const pl_rules_decision_t *d, const char *rule, const char *key)
{
    for (size_t i = 0; i < d->n_fired; i++)
        if (strcmp (d->fired[i].rule, rule) == 0 && (!key || strcmp (d->fired[i].key, key) == 0))
            return (int) i;
    return -1;
}

static inline const char *
t_decisive (const pl_rules_decision_t *d)
{
    return d->decisive >= 0 ? d->fired[d->decisive].rule : "";
}

/* Prints the explanation when a check fails, to make failures readable. */
static inline void
t_dump (const pl_rules_decision_t *d)
{
    static char buf[32768];
    pl_rules_explain (d, PL_RULES_EXPLAIN_FULL_NUMBER, buf, sizeof buf);
    print_message ("%s\n", buf);
}

#endif
