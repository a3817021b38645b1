/*  law.c — the calling rules the checker verifies, copied from the calling-rules reference with
 *  their legal sources, and local time through the system's tz database (see law.h).
 */
#include "law.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "map.h"

#define S_H(h, m) ((h) * 3600 + (m) * 60)
#define S_ALL_DAYS 0x7f
#define S_MON_FRI 0x3e

/* ---- the rules -------------------------------------------------------------------------------
 *
 * France, canvassing (CC):
 *   fr.days, fr.hours — Mon-Fri except public holidays, 10:00-13:00 and 14:00-20:00:
 *     Code de la consommation D223-9 (décret 2022-1313).
 *   fr.freq — at most 4 calls or attempts per professional per consumer in any 30 days: D223-9.
 *   fr.refusal — 60 calendar days after a refusal: D223-9.
 *   fr.consent — prior consent from 11 August 2026: L223-1 as amended by loi 2025-594, art. 13.
 *   fr.opposition — the professional's own opposition list: RGPD art. 21(2)-(3).
 *   fr.b2b — a business callee (a company or public body, in a campaign for businesses) is
 *     outside the consumer code's canvassing rules above, the opposition list excepted:
 *     L223-1, D223-8/9 ("consommateur"). Sole traders are read as consumers. Such calls keep
 *     a house window instead (fr.b2b-hours: Mon-Fri 08:00-20:00, not on holidays: policy).
 * United States:
 *   us.hours — 08:00-21:00 local time of the called party: FDCPA 15 USC 1692c(a)(1);
 *     16 CFR 310.4(c); 47 CFR 64.1200(c)(1).
 *   us.regf-7in7 — collection: at most 7 attempts in 7 days per debt, none within 7 days after
 *     a telephone conversation about it: 12 CFR 1006.14(b)(2).
 *   us.dnc-national — telemarketing only: 16 CFR 310.4(b)(3), copy no older than 31 days.
 *   us.abandon — 3 % of live-answered calls per campaign per 30 days: 16 CFR 310.4(b)(1)(iv).
 *   us.fl — Florida telephone solicitation: 08:00-20:00, 3 calls per 24 h: Fla. Stat. 501.616.
 *   us.b2b — telemarketing to a business (in a campaign for businesses): outside the National
 *     DNC and the federal hours, except for nondurable office or cleaning supplies:
 *     16 CFR 310.6(b)(7); 47 CFR 64.1200(c) (residential subscribers). Florida's rules stay;
 *     the house window us.b2b-hours (08:00-21:00, policy) replaces the federal one.
 * United Kingdom:
 *   uk.hours — 08:00-21:00 every day: house policy (industry practice, not law), as the uk-cc
 *     profile sets it.
 *   uk.tps, uk.ctps — TPS / CTPS without the subscriber's consent: PECR reg. 21, 26; re-screen
 *     every 28 days. By registration: whatever the lead calls its callee.
 *   uk.abandon — 3 % of live calls per campaign per day, midnight to midnight, AMD false
 *     positives counted as abandoned: Ofcom persistent-misuse statement (2010, 2016).
 *   uk.abandon-retry — 72 h after an abandoned call; no same-day retry after an answering
 *     machine: Ofcom 2010.
 */

static const ck_profile_t s_profiles[] = {
    {.id = "fr-cc", .kind = 'C',
     .window = {"fr.hours", "Code de la consommation D223-9", S_MON_FRI, true, 2,
                {{S_H (10, 0), S_H (13, 0)}, {S_H (14, 0), S_H (20, 0)}}},
     .cap = {"fr.freq", "Code de la consommation D223-9", 4, 30 * CK_DAY_MS, false},
     .refusal_rule = "fr.refusal", .refusal_days = 60,
     .consent_rule = "fr.consent", .consent_from = "2026-08-11",
     .abandon_rule = "campaign.abandon-target", .abandon_period = CK_PERIOD_RUN,
     .b2b_rule = "fr.b2b", .b2b = CK_B2B_WINDOW | CK_B2B_CAP | CK_B2B_REFUSAL | CK_B2B_CONSENT | CK_B2B_LISTS,
     .b2b_window = {"fr.b2b-hours", "house policy (business hours)", S_MON_FRI, true, 1,
                    {{S_H (8, 0), S_H (20, 0)}}}},
    {.id = "us-dc", .kind = 'D',
     .window = {"us.hours", "FDCPA 15 USC 1692c(a)(1); 12 CFR 1006.6(b)(1)(i)", S_ALL_DAYS, false,
                1, {{S_H (8, 0), S_H (21, 0)}}},
     .cap = {"us.regf-7in7", "12 CFR 1006.14(b)(2)", 7, 7 * CK_DAY_MS, true},
     .conversation_rule = "us.regf-7in7", .conversation_days = 7,
     .abandon_rule = "us.abandon", .abandon_period = CK_PERIOD_ROLLING_30D},
    {.id = "us-cc", .kind = 'C',
     .window = {"us.hours", "16 CFR 310.4(c); 47 CFR 64.1200(c)(1)", S_ALL_DAYS, false, 1,
                {{S_H (8, 0), S_H (21, 0)}}},
     .lists = {"us-dnc"},
     .abandon_rule = "us.abandon", .abandon_period = CK_PERIOD_ROLLING_30D, .florida = true,
     .b2b_rule = "us.b2b", .b2b = CK_B2B_WINDOW | CK_B2B_LISTS,
     .b2b_window = {"us.b2b-hours", "house policy", S_ALL_DAYS, false, 1, {{S_H (8, 0), S_H (21, 0)}}},
     .b2b_except = {"office-supplies", "cleaning-supplies"}},
    {.id = "uk-cc", .kind = 'C',
     .window = {"uk.hours", "house policy (industry practice); PECR sets no hours", S_ALL_DAYS,
                false, 1, {{S_H (8, 0), S_H (21, 0)}}},
     .abandon_retry_rule = "uk.abandon-retry", .abandoned_hours = 72, .machine_same_day = true,
     .lists = {"tps", "ctps"}, .lists_exempt_by_consent = true,
     .abandon_rule = "uk.abandon", .abandon_period = CK_PERIOD_LOCAL_DAY,
     .abandon_zone = "Europe/London"},
    {.id = "uk-dc", .kind = 'D',
     .window = {"uk.hours", "house policy (industry practice)", S_ALL_DAYS, false, 1,
                {{S_H (8, 0), S_H (21, 0)}}},
     .abandon_retry_rule = "uk.abandon-retry", .abandoned_hours = 72, .machine_same_day = true,
     .abandon_rule = "uk.abandon", .abandon_period = CK_PERIOD_LOCAL_DAY,
     .abandon_zone = "Europe/London"},
};

const ck_window_t ck_florida_window = {"us.fl", "Fla. Stat. 501.616(6)", S_ALL_DAYS, false, 1,
                                       {{S_H (8, 0), S_H (20, 0)}}};
const ck_cap_t ck_florida_cap = {"us.fl", "Fla. Stat. 501.616(6)", 3, 24 * CK_HOUR_MS, false};

const ck_profile_t *
ck_profile (const char *id)
{
    for (size_t i = 0; id && i < sizeof s_profiles / sizeof s_profiles[0]; i++)
        if (strcmp (s_profiles[i].id, id) == 0)
            return &s_profiles[i];
    return NULL;
}

int
ck_list_max_age_days (const char *list)
{
    if (strcmp (list, "us-dnc") == 0)
        return 31;              /* 16 CFR 310.4(b)(3) */
    if (strcmp (list, "tps") == 0 || strcmp (list, "ctps") == 0)
        return 28;              /* PECR reg. 21, ICO guidance (unconfirmed) */
    if (strcmp (list, "bloctel") == 0)
        return 30;              /* R223-6 */
    return 0;
}

/* ---- zones ---------------------------------------------------------------------------------- */

void
ck_zone_add (const char **zones, int *n, const char *zone)
{
    if (!zone || !*zone || *n >= CK_MAX_ZONES)
        return;
    for (int i = 0; i < *n; i++)
        if (strcmp (zones[i], zone) == 0)
            return;
    zones[(*n)++] = zone;
}

typedef struct {
    const char *prefix, *zone;
} s_prefix_t;

/* Country and overseas prefixes (longest first where they nest). */
static const s_prefix_t s_prefixes[] = {
    {"+262269", "Indian/Mayotte"}, {"+262639", "Indian/Mayotte"}, {"+262", "Indian/Reunion"},
    {"+590", "America/Guadeloupe"}, {"+596", "America/Martinique"}, {"+594", "America/Cayenne"},
    {"+508", "America/Miquelon"}, {"+33", "Europe/Paris"}, {"+44", "Europe/London"},
};

/* French postal codes of the overseas departments. */
static const s_prefix_t s_fr_postal[] = {
    {"971", "America/Guadeloupe"}, {"972", "America/Martinique"}, {"973", "America/Cayenne"},
    {"974", "Indian/Reunion"}, {"975", "America/Miquelon"}, {"976", "Indian/Mayotte"},
};

typedef struct {
    const char *ac, *state, *zone;
} s_area_t;

/* US area codes: state and zone (NANPA assignments; split-zone codes take the zone of the
 * majority of their subscribers, the address then adds the other). */
static const s_area_t s_areas[] = {
    {"201", "NJ", "America/New_York"}, {"202", "DC", "America/New_York"},
    {"203", "CT", "America/New_York"}, {"205", "AL", "America/Chicago"},
    {"206", "WA", "America/Los_Angeles"}, {"207", "ME", "America/New_York"},
    {"208", "ID", "America/Boise"}, {"212", "NY", "America/New_York"},
    {"213", "CA", "America/Los_Angeles"}, {"214", "TX", "America/Chicago"},
    {"215", "PA", "America/New_York"}, {"239", "FL", "America/New_York"},
    {"301", "MD", "America/New_York"}, {"302", "DE", "America/New_York"},
    {"303", "CO", "America/Denver"}, {"304", "WV", "America/New_York"},
    {"305", "FL", "America/New_York"}, {"310", "CA", "America/Los_Angeles"},
    {"312", "IL", "America/Chicago"}, {"313", "MI", "America/Detroit"},
    {"317", "IN", "America/Indiana/Indianapolis"}, {"321", "FL", "America/New_York"},
    {"352", "FL", "America/New_York"}, {"386", "FL", "America/New_York"},
    {"404", "GA", "America/New_York"}, {"405", "OK", "America/Chicago"},
    {"407", "FL", "America/New_York"}, {"410", "MD", "America/New_York"},
    {"415", "CA", "America/Los_Angeles"}, {"469", "TX", "America/Chicago"},
    {"480", "AZ", "America/Phoenix"}, {"501", "AR", "America/Chicago"},
    {"502", "KY", "America/New_York"}, {"503", "OR", "America/Los_Angeles"},
    {"504", "LA", "America/Chicago"}, {"505", "NM", "America/Denver"},
    {"512", "TX", "America/Chicago"}, {"561", "FL", "America/New_York"},
    {"602", "AZ", "America/Phoenix"}, {"612", "MN", "America/Chicago"},
    {"615", "TN", "America/Chicago"}, {"617", "MA", "America/New_York"},
    {"646", "NY", "America/New_York"}, {"650", "CA", "America/Los_Angeles"},
    {"702", "NV", "America/Los_Angeles"}, {"713", "TX", "America/Chicago"},
    {"718", "NY", "America/New_York"}, {"727", "FL", "America/New_York"},
    {"754", "FL", "America/New_York"}, {"772", "FL", "America/New_York"},
    {"786", "FL", "America/New_York"}, {"801", "UT", "America/Denver"},
    {"808", "HI", "Pacific/Honolulu"}, {"813", "FL", "America/New_York"},
    {"850", "FL", "America/Chicago"}, {"863", "FL", "America/New_York"},
    {"904", "FL", "America/New_York"}, {"907", "AK", "America/Anchorage"},
    {"912", "GA", "America/New_York"}, {"915", "TX", "America/Denver"},
    {"917", "NY", "America/New_York"}, {"919", "NC", "America/New_York"},
    {"941", "FL", "America/New_York"}, {"954", "FL", "America/New_York"},
};

static const s_area_t *
s_area (const char *e164)
{
    if (!e164 || strncmp (e164, "+1", 2) != 0 || strlen (e164) < 5)
        return NULL;
    for (size_t i = 0; i < sizeof s_areas / sizeof s_areas[0]; i++)
        if (strncmp (e164 + 2, s_areas[i].ac, 3) == 0)
            return &s_areas[i];
    return NULL;
}

const char *
ck_area_state (const char *e164)
{
    const s_area_t *a = s_area (e164);
    return a ? a->state : NULL;
}

/* US states: their zone, and for states split between two zones the ZIP prefixes (first three
 * digits, inclusive ranges) of the second one. A ZIP outside those ranges is in the first zone;
 * without a ZIP both are candidates. */
typedef struct {
    const char *state, *zone, *zone2;
    const char *zip2;           /* "324-325" ranges separated by blanks */
} s_state_t;

static const s_state_t s_states[] = {
    {"AL", "America/Chicago", NULL, NULL}, {"AK", "America/Anchorage", NULL, NULL},
    {"AZ", "America/Phoenix", NULL, NULL}, {"AR", "America/Chicago", NULL, NULL},
    {"CA", "America/Los_Angeles", NULL, NULL}, {"CO", "America/Denver", NULL, NULL},
    {"CT", "America/New_York", NULL, NULL}, {"DE", "America/New_York", NULL, NULL},
    {"DC", "America/New_York", NULL, NULL},
    {"FL", "America/New_York", "America/Chicago", "324-325"},
    {"GA", "America/New_York", NULL, NULL}, {"HI", "Pacific/Honolulu", NULL, NULL},
    {"ID", "America/Boise", "America/Los_Angeles", "835-838"},
    {"IL", "America/Chicago", NULL, NULL},
    {"IN", "America/Indiana/Indianapolis", "America/Chicago", "463-464 476-477"},
    {"IA", "America/Chicago", NULL, NULL},
    {"KS", "America/Chicago", "America/Denver", "677-679"},
    {"KY", "America/New_York", "America/Chicago", "420-424"},
    {"LA", "America/Chicago", NULL, NULL}, {"ME", "America/New_York", NULL, NULL},
    {"MD", "America/New_York", NULL, NULL}, {"MA", "America/New_York", NULL, NULL},
    {"MI", "America/Detroit", "America/Menominee", "498-499"},
    {"MN", "America/Chicago", NULL, NULL}, {"MS", "America/Chicago", NULL, NULL},
    {"MO", "America/Chicago", NULL, NULL}, {"MT", "America/Denver", NULL, NULL},
    {"NE", "America/Chicago", "America/Denver", "690-693"},
    {"NV", "America/Los_Angeles", NULL, NULL}, {"NH", "America/New_York", NULL, NULL},
    {"NJ", "America/New_York", NULL, NULL}, {"NM", "America/Denver", NULL, NULL},
    {"NY", "America/New_York", NULL, NULL}, {"NC", "America/New_York", NULL, NULL},
    {"ND", "America/Chicago", "America/Denver", "586-588"},
    {"OH", "America/New_York", NULL, NULL}, {"OK", "America/Chicago", NULL, NULL},
    {"OR", "America/Los_Angeles", "America/Boise", "979-979"},
    {"PA", "America/New_York", NULL, NULL}, {"RI", "America/New_York", NULL, NULL},
    {"SC", "America/New_York", NULL, NULL},
    {"SD", "America/Chicago", "America/Denver", "577-577"},
    {"TN", "America/Chicago", "America/New_York", "373-379"},
    {"TX", "America/Chicago", "America/Denver", "798-799 885-885"},
    {"UT", "America/Denver", NULL, NULL}, {"VT", "America/New_York", NULL, NULL},
    {"VA", "America/New_York", NULL, NULL}, {"WA", "America/Los_Angeles", NULL, NULL},
    {"WV", "America/New_York", NULL, NULL}, {"WI", "America/Chicago", NULL, NULL},
    {"WY", "America/Denver", NULL, NULL},
};

static bool
s_zip_in (const char *ranges, const char *zip)
{
    if (!zip || strlen (zip) < 3 || !isdigit ((unsigned char) zip[0]))
        return false;
    int z = (zip[0] - '0') * 100 + (zip[1] - '0') * 10 + (zip[2] - '0');
    const char *p = ranges;
    int lo, hi, used;
    while (sscanf (p, "%d-%d%n", &lo, &hi, &used) == 2) {
        if (z >= lo && z <= hi)
            return true;
        p += used;
        while (*p == ' ')
            p++;
    }
    return false;
}

static void
s_state_zones (const char *state, const char *zip, const char **zones, int *n)
{
    for (size_t i = 0; i < sizeof s_states / sizeof s_states[0]; i++) {
        const s_state_t *s = &s_states[i];
        if (strcasecmp (s->state, state) != 0)
            continue;
        bool has_zip = zip && strlen (zip) >= 3 && isdigit ((unsigned char) zip[0]);
        if (!s->zone2 || !has_zip)
            ck_zone_add (zones, n, s->zone);
        if (s->zone2 && has_zip)
            ck_zone_add (zones, n, s_zip_in (s->zip2, zip) ? s->zone2 : s->zone);
        else if (s->zone2)
            ck_zone_add (zones, n, s->zone2);
        return;
    }
}

void
ck_zones_derive (const char *e164, const char *country, const char *postal, const char *state,
                 const char **zones, int *n)
{
    if (e164 && strncmp (e164, "+1", 2) == 0) {
        const s_area_t *a = s_area (e164);
        if (a)
            ck_zone_add (zones, n, a->zone);
    } else if (e164)
        for (size_t i = 0; i < sizeof s_prefixes / sizeof s_prefixes[0]; i++)
            if (strncmp (e164, s_prefixes[i].prefix, strlen (s_prefixes[i].prefix)) == 0) {
                ck_zone_add (zones, n, s_prefixes[i].zone);
                break;
            }
    bool fr = country && (strcasecmp (country, "FR") == 0 || strcasecmp (country, "RE") == 0
                          || strcasecmp (country, "GP") == 0 || strcasecmp (country, "MQ") == 0
                          || strcasecmp (country, "GF") == 0 || strcasecmp (country, "YT") == 0);
    if (fr && postal && *postal) {
        const char *z = "Europe/Paris";
        for (size_t i = 0; i < sizeof s_fr_postal / sizeof s_fr_postal[0]; i++)
            if (strncmp (postal, s_fr_postal[i].prefix, 3) == 0)
                z = s_fr_postal[i].zone;
        ck_zone_add (zones, n, z);
    }
    if (country && strcasecmp (country, "RE") == 0)
        ck_zone_add (zones, n, "Indian/Reunion");
    if (country && strcasecmp (country, "US") == 0 && state && *state)
        s_state_zones (state, postal, zones, n);
}

/* ---- local time ----------------------------------------------------------------------------- */

struct ck_tz {
    ck_map_t offsets;           /* "<zone>|<quarter hour>" -> offset seconds */
    ck_map_t known;             /* zone -> 1 exists, 0 unknown */
    char dir[1024];
};

ck_tz_t *
ck_tz_new (void)
{
    ck_tz_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    const char *d = getenv ("TZDIR");
    snprintf (self->dir, sizeof self->dir, "%s", d && *d ? d : "/usr/share/zoneinfo");
    return self;
}

void
ck_tz_destroy (ck_tz_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ck_map_clear (&(*self_p)->offsets);
    ck_map_clear (&(*self_p)->known);
    free (*self_p);
    *self_p = NULL;
}

/* glibc silently takes an unknown TZ for UTC: a zone must name a file of the database. */
static bool
s_known (ck_tz_t *self, const char *zone)
{
    int64_t v = ck_map_get (&self->known, zone);
    if (v >= 0)
        return v == 1;
    bool ok = zone[0] && zone[0] != '/' && !strstr (zone, "..") && strlen (zone) < 64;
    if (ok) {
        char path[1200];
        struct stat st;
        snprintf (path, sizeof path, "%s/%s", self->dir, zone);
        ok = stat (path, &st) == 0 && S_ISREG (st.st_mode);
    }
    ck_map_put (&self->known, zone, ok ? 1 : 0);
    return ok;
}

int
ck_tz_local (ck_tz_t *self, const char *zone, int64_t ms, struct tm *out)
{
    if (!zone || !s_known (self, zone))
        return -1;
    int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    int64_t quarter = secs >= 0 ? secs / 900 : -((-secs + 899) / 900);
    char key[96];
    snprintf (key, sizeof key, "%s|%lld", zone, (long long) quarter);
    int64_t off = ck_map_get (&self->offsets, key);
    if (off < 0) {
        char tzv[80];
        snprintf (tzv, sizeof tzv, ":%s", zone);
        setenv ("TZ", tzv, 1);
        tzset ();
        time_t t = (time_t) (quarter * 900);
        struct tm tm;
        localtime_r (&t, &tm);
        off = (int64_t) tm.tm_gmtoff + 86400;       /* stored shifted: the map's -1 is "absent" */
        ck_map_put (&self->offsets, key, off);
    }
    off -= 86400;
    time_t local = (time_t) (secs + off);
    gmtime_r (&local, out);
    out->tm_gmtoff = (long) off;
    return 0;
}

void
ck_tz_format (const struct tm *tm, char *out, size_t size)
{
    long off = tm->tm_gmtoff;
    char sign = off < 0 ? '-' : '+';
    off = off < 0 ? -off : off;
    snprintf (out, size, "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld", tm->tm_year + 1900,
              tm->tm_mon + 1, tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec, sign, off / 3600,
              (off % 3600) / 60);
}

/* ---- French public holidays: Code du travail L3133-1, and the abolition days of the overseas
 * departments (loi 83-550, décret 83-1003). */

static void
s_easter (int y, int *month, int *day)
{
    /* Meeus/Jones/Butcher Gregorian algorithm. */
    int a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4, f = (b + 8) / 25;
    int g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30, i = c / 4, k = c % 4;
    int l = (32 + 2 * e + 2 * i - h - k) % 7, m = (a + 11 * h + 22 * l) / 451;
    *month = (h + l - 7 * m + 114) / 31;
    *day = ((h + l - 7 * m + 114) % 31) + 1;
}

static const char *
s_fr_holiday (const struct tm *tm, const char *zone)
{
    static const struct {
        int m, d;
        const char *name, *zone;
    } fixed[] = {
        {1, 1, "Jour de l'an", NULL},          {5, 1, "Fête du travail", NULL},
        {5, 8, "Victoire 1945", NULL},         {7, 14, "Fête nationale", NULL},
        {8, 15, "Assomption", NULL},           {11, 1, "Toussaint", NULL},
        {11, 11, "Armistice", NULL},           {12, 25, "Noël", NULL},
        {12, 20, "Abolition de l'esclavage (La Réunion)", "Indian/Reunion"},
        {4, 27, "Abolition de l'esclavage (Mayotte)", "Indian/Mayotte"},
        {5, 27, "Abolition de l'esclavage (Guadeloupe)", "America/Guadeloupe"},
        {5, 22, "Abolition de l'esclavage (Martinique)", "America/Martinique"},
        {6, 10, "Abolition de l'esclavage (Guyane)", "America/Cayenne"},
    };
    int m = tm->tm_mon + 1, d = tm->tm_mday, y = tm->tm_year + 1900;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (fixed[i].m == m && fixed[i].d == d && (!fixed[i].zone || strcmp (fixed[i].zone, zone) == 0))
            return fixed[i].name;
    int em, ed;
    s_easter (y, &em, &ed);
    struct tm e = {.tm_year = y - 1900, .tm_mon = em - 1, .tm_mday = ed, .tm_hour = 12};
    time_t easter = timegm (&e);
    struct tm today = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = 12};
    long diff = (long) ((timegm (&today) - easter) / 86400);
    if (diff == 1)
        return "Lundi de Pâques";
    if (diff == 39)
        return "Ascension";
    if (diff == 50)
        return "Lundi de Pentecôte";
    return NULL;
}

bool
ck_window_open (const ck_window_t *w, const char *zone, const struct tm *tm, char *why,
                size_t size)
{
    static const char *const days[7] = {"Sunday", "Monday", "Tuesday", "Wednesday",
                                        "Thursday", "Friday", "Saturday"};
    char local[40];
    ck_tz_format (tm, local, sizeof local);
    if (!(w->days & (1 << tm->tm_wday))) {
        snprintf (why, size, "%s is a %s in %s: no calls that day", local, days[tm->tm_wday], zone);
        return false;
    }
    const char *hol = w->fr_holidays ? s_fr_holiday (tm, zone) : NULL;
    if (hol) {
        snprintf (why, size, "%s is a public holiday in %s (%s)", local, zone, hol);
        return false;
    }
    int s = tm->tm_hour * 3600 + tm->tm_min * 60 + tm->tm_sec;
    for (int i = 0; i < w->n; i++)
        if (s >= w->span[i].from && s < w->span[i].to)
            return true;
    char spans[64] = "";
    for (int i = 0; i < w->n; i++) {
        size_t l = strlen (spans);
        snprintf (spans + l, sizeof spans - l, "%s%02d:%02d-%02d:%02d", i ? " " : "",
                  w->span[i].from / 3600, w->span[i].from % 3600 / 60, w->span[i].to / 3600,
                  w->span[i].to % 3600 / 60);
    }
    snprintf (why, size, "%s in %s is outside %s (%s)", local, zone, spans, w->rule);
    return false;
}

/* ---- dates ---------------------------------------------------------------------------------- */

static int64_t
s_days_from_civil (int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

int64_t
ck_date_ms (const char *s)
{
    int y, m, d, used = 0;
    if (!s || sscanf (s, "%4d-%2d-%2d%n", &y, &m, &d, &used) != 3 || used != 10 || m < 1
        || m > 12 || d < 1 || d > 31)
        return -1;
    return s_days_from_civil (y, m, d) * CK_DAY_MS;
}

int
ck_parse_time (const char *s, int64_t *ms)
{
    if (!s || !*s)
        return -1;
    char *end;
    long long v = strtoll (s, &end, 10);
    if (*end == '\0' && end - s > 10) {
        *ms = v;
        return 0;
    }
    int64_t day = ck_date_ms (s);
    int h, mi, sec, used = 0;
    if (day < 0 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
        || sscanf (s + 11, "%2d:%2d:%2d%n", &h, &mi, &sec, &used) != 3 || used != 8 || h > 23
        || mi > 59 || sec > 60)
        return -1;
    const char *p = s + 19;
    int64_t frac = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; isdigit ((unsigned char) *p); p++, digits++)
            if (digits < 3)
                frac = frac * 10 + (*p - '0');
        for (; digits < 3; digits++)
            frac *= 10;
    }
    int64_t off = 0;
    if (*p == 'Z' || *p == 'z')
        p++;
    else if (*p == '+' || *p == '-') {
        int oh, om;
        if (sscanf (p + 1, "%2d:%2d", &oh, &om) != 2 || strlen (p) != 6)
            return -1;
        off = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else
        return -1;
    if (*p)
        return -1;
    *ms = day + ((int64_t) h * 3600 + mi * 60 + sec - off) * 1000 + frac;
    return 0;
}

void
ck_iso (int64_t ms, char *out, size_t size)
{
    time_t t = (time_t) (ms / 1000);
    struct tm tm;
    gmtime_r (&t, &tm);
    snprintf (out, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
              tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}
