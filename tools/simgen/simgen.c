/*  simgen.c — the compliance simulation's input bundle (see simgen.h and README.md).
 *
 *  One pseudo-random stream (splitmix64) drives everything in a fixed order — campaigns, then
 *  the leads of each campaign, then lists, opt-outs and revocations — so a seed names a bundle.
 *  Numbers are drawn from real numbering plans (French mobile and geographic ranges, Réunion
 *  mobiles, US area codes of every mainland zone plus Alaska and Hawaii, UK mobiles, London and
 *  Manchester) so that the services resolve zones and states as they would for real leads.
 */
#include "simgen.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

const char *const pl_simgen_campaigns[3] = {"fr-canvass", "us-collect", "uk-sales"};

enum { S_FR, S_US, S_UK };
static const char *const s_tenant[3] = {"101", "102", "103"};
static const char *const s_profile[3] = {"fr-cc", "us-dc", "uk-cc"};
static const char *const s_kind[3] = {"CC", "DC", "CC"};
static const char *const s_mode[3] = {"progressive", "predictive", "progressive"};
static const char *const s_juris[3] = {"fr", "us", "uk"};

#define S_DAY_MS INT64_C(86400000)

/* ---- randomness ----------------------------------------------------------------------------- */

static uint64_t
s_next (uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static long
s_below (uint64_t *s, long n)
{
    return n > 0 ? (long) (s_next (s) % (uint64_t) n) : 0;
}

/* True with probability per_mille / 1000. */
static bool
s_chance (uint64_t *s, int per_mille)
{
    return s_below (s, 1000) < per_mille;
}

static void
s_digits (uint64_t *s, char *out, int n)
{
    for (int i = 0; i < n; i++)
        out[i] = (char) ('0' + s_below (s, 10));
    out[n] = '\0';
}

/* ---- dates ---------------------------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t
s_days (int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int
s_parse_date (const char *s, int64_t *ms)
{
    int y, m, d;
    char tail;
    if (!s || sscanf (s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || strlen (s) != 10 || m < 1
        || m > 12 || d < 1 || d > 31 || y < 1971 || y > 9999)
        return -1;
    int64_t days = s_days (y, m, d);
    int64_t next = s_days (m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1);
    if (days >= next)
        return -1;              /* 2026-02-30 */
    *ms = days * S_DAY_MS;
    return 0;
}

static void
s_iso (int64_t ms, char *out, size_t size)
{
    time_t t = (time_t) (ms / 1000);
    struct tm tm;
    gmtime_r (&t, &tm);
    strftime (out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
s_date (int64_t ms, char *out, size_t size)
{
    time_t t = (time_t) (ms / 1000);
    struct tm tm;
    gmtime_r (&t, &tm);
    strftime (out, size, "%Y-%m-%d", &tm);
}

/* ---- the generator's state ------------------------------------------------------------------ */

typedef struct {
    char e164[48];              /* "" when the lead's number is deliberately invalid */
    char ext[40];
    char debt[40];              /* US: the account reference */
    bool consent;               /* FR: carries a consent */
    uint8_t campaign;
} s_lead_t;

typedef struct {
    const pl_simgen_opts_t *o;
    uint64_t rng;
    int64_t start_ms;
    char dir[4096];
    char *err;
    size_t err_size;
    s_lead_t *leads;
    long n[3], first[3];
    long invalid, consents, second_phones, overseas, florida, state_mismatch, businesses;
    long dnc_size, dnc_hits, tps_size, tps_hits, optouts, revocations;
    char cli[3][48];
} s_gen_t;

static int
s_fail (s_gen_t *g, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (g->err, g->err_size, fmt, ap);
    va_end (ap);
    return rc;
}

static FILE *
s_open (s_gen_t *g, const char *rel)
{
    char path[4352];
    snprintf (path, sizeof path, "%s/%s", g->dir, rel);
    FILE *f = fopen (path, "w");
    if (!f)
        s_fail (g, -EIO, "%s: %s", path, strerror (errno));
    return f;
}

static int
s_close (s_gen_t *g, FILE *f, const char *rel)
{
    bool bad = ferror (f) != 0;
    if (fclose (f) != 0 || bad)
        return s_fail (g, -EIO, "%s/%s: write failed", g->dir, rel);
    return 0;
}

/* One JSON value as one line; takes v. */
static int
s_put_line (FILE *f, json_t *v)
{
    if (!v)
        return -ENOMEM;
    int rc = json_dumpf (v, f, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref (v);
    if (rc == 0 && fputc ('\n', f) == EOF)
        rc = -1;
    return rc == 0 ? 0 : -EIO;
}

/* ---- campaigns ------------------------------------------------------------------------------ */

typedef struct {
    const char *what, *delay;
    int max;
} s_retry_t;

static const s_retry_t s_retries[3][5] = {
    /* France: 4 attempts in 30 days leave room for few retries. */
    {{"busy", "30m", 2}, {"no-answer", "4h", 2}, {"voicemail", "1d", 1},
     {"abandoned", "2d", 1}, {"failed", "1h", 1}},
    {{"busy", "10m", 4}, {"no-answer", "2h", 4}, {"voicemail", "1d", 3},
     {"abandoned", "1d", 2}, {"failed", "30m", 2}},
    /* UK: 72 h after an abandoned call, no same-day retry after a machine (uk.abandon-retry). */
    {{"busy", "15m", 3}, {"no-answer", "3h", 3}, {"voicemail", "1d", 2},
     {"abandoned", "72h", 1}, {"failed", "1h", 2}},
};

static void
s_make_clis (s_gen_t *g)
{
    char d[16];
    s_digits (&g->rng, d, 6);            /* ARCEP 2022-1583: 0162 is for automated systems */
    snprintf (g->cli[S_FR], sizeof g->cli[S_FR], "+33162%s", d);
    s_digits (&g->rng, d, 4);
    snprintf (g->cli[S_US], sizeof g->cli[S_US], "+1646%ld%s", 200 + s_below (&g->rng, 700), d);
    s_digits (&g->rng, d, 4);
    snprintf (g->cli[S_UK], sizeof g->cli[S_UK], "+44161%ld%s", 200 + s_below (&g->rng, 700), d);
}

static int
s_write_campaign (s_gen_t *g, int c)
{
    char rel[128];
    snprintf (rel, sizeof rel, "campaigns/%s.campaign", pl_simgen_campaigns[c]);
    FILE *f = s_open (g, rel);
    if (!f)
        return -EIO;
    fprintf (f, "# %s - compliance simulation campaign (generated by plateau-simgen, seed %llu)\n",
             pl_simgen_campaigns[c], (unsigned long long) g->o->seed);
    fprintf (f, "[campaign]\nprofile = %s\ntenant = %s\nname = %s\ncli = %s\n"
                "dialing = autodialed\n%s\n",
             s_profile[c], s_tenant[c], pl_simgen_campaigns[c], g->cli[c],
             c == S_FR ? "callees = consumer business\n" : "");
    fprintf (f, "[dialer]\nmode = %s\npriority = %d\norder = oldest\nnumbers = %s\n"
                "ring-timeout = %s\namd = %s\nabandon-target = 3%%\nmax-attempts = %d\n",
             s_mode[c], c == S_US ? 6 : 5, c == S_FR ? "mobile-first" : "listed",
             c == S_US ? "25s" : "20s", c == S_US ? "yes" : "no", c == S_FR ? 4 : c == S_US ? 8 : 6);
    for (int i = 0; i < 5; i++)
        fprintf (f, "\n[dialer-retry %s]\ndelay = %s\nmax = %d\n", s_retries[c][i].what,
                 s_retries[c][i].delay, s_retries[c][i].max);
    return s_close (g, f, rel);
}

/* ---- numbering plans ------------------------------------------------------------------------ */

typedef struct {
    const char *ac, *state, *zip;
} s_area_t;

/* Area codes across the US zones; the first five are Florida's (the Florida share). */
static const s_area_t s_areas[] = {
    {"305", "FL", "33130"}, {"786", "FL", "33125"}, {"813", "FL", "33602"},
    {"407", "FL", "32801"}, {"904", "FL", "32202"},
    {"212", "NY", "10001"}, {"718", "NY", "11201"}, {"617", "MA", "02108"},
    {"404", "GA", "30303"}, {"215", "PA", "19103"}, {"313", "MI", "48226"},
    {"317", "IN", "46204"}, {"312", "IL", "60601"}, {"214", "TX", "75201"},
    {"713", "TX", "77002"}, {"615", "TN", "37203"}, {"612", "MN", "55401"},
    {"303", "CO", "80202"}, {"602", "AZ", "85004"}, {"801", "UT", "84101"},
    {"213", "CA", "90012"}, {"415", "CA", "94102"}, {"206", "WA", "98101"},
    {"503", "OR", "97204"}, {"907", "AK", "99501"}, {"808", "HI", "96813"},
};
enum { S_N_FL = 5, S_N_AREAS = sizeof s_areas / sizeof s_areas[0] };

static const char *const s_fr_first[] = {"Camille", "Louis", "Léa", "Hugo", "Chloé", "Jules",
                                         "Manon", "Gabriel", "Inès", "Arthur"};
static const char *const s_fr_last[] = {"Martin", "Bernard", "Dubois", "Thomas", "Robert",
                                        "Richard", "Petit", "Durand", "Leroy", "Moreau"};
static const char *const s_us_first[] = {"James", "Mary", "Robert", "Patricia", "John",
                                         "Jennifer", "Michael", "Linda", "David", "Maria"};
static const char *const s_us_last[] = {"Smith", "Johnson", "Williams", "Brown", "Jones",
                                        "Garcia", "Miller", "Davis", "Rodriguez", "Martinez"};
static const char *const s_uk_first[] = {"Oliver", "Amelia", "George", "Isla", "Harry",
                                         "Ava", "Noah", "Mia", "Jack", "Freya"};
static const char *const s_uk_last[] = {"Smith", "Jones", "Taylor", "Brown", "Williams",
                                        "Wilson", "Johnson", "Davies", "Patel", "Wright"};

static void
s_names (s_gen_t *g, json_t *o, const char *const *first, const char *const *last)
{
    json_object_set_new (o, "first_name", json_string (first[s_below (&g->rng, 10)]));
    json_object_set_new (o, "last_name", json_string (last[s_below (&g->rng, 10)]));
}

/* A French metropolitan number: mobile (06, 07) or geographic (01 to 05) with a postal code
 * of the region its prefix serves. */
static void
s_fr_number (s_gen_t *g, bool mobile, char *e164, size_t size, char *postal, size_t psize)
{
    static const char *const postals[5][2] = {{"75011", "92100"}, {"14000", "35000"},
                                              {"59000", "67000"}, {"13001", "69003"},
                                              {"33000", "31000"}};
    char d[16];
    s_digits (&g->rng, d, 8);
    long region = s_below (&g->rng, 5);
    if (mobile)
        snprintf (e164, size, "+33%c%s", s_chance (&g->rng, 700) ? '6' : '7', d);
    else
        snprintf (e164, size, "+33%ld%s", region + 1, d);
    snprintf (postal, psize, "%s", postals[region][s_below (&g->rng, 2)]);
}

static const char *
s_invalid_number (s_gen_t *g, int c)
{
    static const char *const bad[3][3] = {
        {"+33612", "06 12 34", "+33 0 12 34 56"},
        {"+10115550100", "+1212555", "555-0100"},
        {"+447123", "07911 12", "+44 0 20 1234"},
    };
    return bad[c][s_below (&g->rng, 3)];
}

/* ---- leads ---------------------------------------------------------------------------------- */

static json_t *
s_fr_lead (s_gen_t *g, s_lead_t *l, long i)
{
    json_t *o = json_object ();
    snprintf (l->ext, sizeof l->ext, "FR-%06ld", i + 1);
    json_object_set_new (o, "external_id", json_string (l->ext));
    json_object_set_new (o, "campaign", json_string (pl_simgen_campaigns[S_FR]));
    s_names (g, o, s_fr_first, s_fr_last);
    char postal[8];
    if (s_chance (&g->rng, 30)) {               /* Réunion: its own zone (Indian/Reunion) */
        char d[8];
        s_digits (&g->rng, d, 6);
        snprintf (l->e164, sizeof l->e164, "+26269%c%s", s_chance (&g->rng, 500) ? '2' : '3', d);
        snprintf (postal, sizeof postal, "974%02ld", s_below (&g->rng, 9) * 10);
        json_object_set_new (o, "country", json_string ("RE"));
        g->overseas++;
    } else {
        s_fr_number (g, s_chance (&g->rng, 650), l->e164, sizeof l->e164, postal, sizeof postal);
        json_object_set_new (o, "country", json_string ("FR"));
    }
    json_object_set_new (o, "postal_code", json_string (postal));
    /* One lead in 20 is a business, called about its trade (fr.b2b). By index, not by a draw:
     * the rest of the bundle stays what the seed gave before. */
    if (i % 20 == 19) {
        json_object_set_new (o, "callee", json_string ("business"));
        g->businesses++;
    }
    if (s_chance (&g->rng, 10)) {
        json_object_set_new (o, "phone", json_string (s_invalid_number (g, S_FR)));
        l->e164[0] = '\0';
        g->invalid++;
    } else
        json_object_set_new (o, "phone", json_string (l->e164));
    if (s_chance (&g->rng, 40)) {               /* a second phone, a mobile */
        char alt[48], p[8];
        s_fr_number (g, true, alt, sizeof alt, p, sizeof p);
        json_object_set_new (o, "alt_phones", json_pack ("[s]", alt));
        g->second_phones++;
    }
    if (s_chance (&g->rng, 900)) {              /* France is opt-in since 11 August 2026 */
        char at[32], proof[64];
        s_iso (g->start_ms - (1 + s_below (&g->rng, 300)) * S_DAY_MS
                   - s_below (&g->rng, 86400) * 1000, at, sizeof at);
        snprintf (proof, sizeof proof, "consent/%s.pdf", l->ext);
        json_object_set_new (o, "consents", json_pack ("[{s:s, s:s, s:s, s:s, s:s, s:s}]",
            "scope", "tenant", "channel", "phone", "source",
            s_chance (&g->rng, 500) ? "web-form:comparateur-assurance" : "partner:salon-habitat",
            "captured_at", at, "proof_ref", proof, "wording_version", "fr-2026-08"));
        l->consent = true;
        g->consents++;
    }
    return o;
}

static json_t *
s_us_lead (s_gen_t *g, s_lead_t *l, long i)
{
    json_t *o = json_object ();
    snprintf (l->ext, sizeof l->ext, "US-%06ld", i + 1);
    json_object_set_new (o, "external_id", json_string (l->ext));
    json_object_set_new (o, "campaign", json_string (pl_simgen_campaigns[S_US]));
    s_names (g, o, s_us_first, s_us_last);
    const s_area_t *a = s_chance (&g->rng, 250) ? &s_areas[s_below (&g->rng, S_N_FL)]
                                                : &s_areas[S_N_FL + s_below (&g->rng, S_N_AREAS - S_N_FL)];
    const s_area_t *home = a;
    if (s_chance (&g->rng, 50)) {               /* moved: address in another state */
        do
            home = &s_areas[s_below (&g->rng, S_N_AREAS)];
        while (strcmp (home->state, a->state) == 0);
        g->state_mismatch++;
    }
    g->florida += strcmp (a->state, "FL") == 0 || strcmp (home->state, "FL") == 0;
    char d[8];
    s_digits (&g->rng, d, 4);
    long exch = 200 + s_below (&g->rng, 800);
    if (exch % 100 == 11)
        exch++;                                 /* N11 codes are not exchanges */
    snprintf (l->e164, sizeof l->e164, "+1%s%ld%s", a->ac, exch, d);
    json_object_set_new (o, "country", json_string ("US"));
    json_object_set_new (o, "state", json_string (home->state));
    json_object_set_new (o, "postal_code", json_string (home->zip));
    if (s_chance (&g->rng, 10)) {
        json_object_set_new (o, "phone", json_string (s_invalid_number (g, S_US)));
        l->e164[0] = '\0';
        g->invalid++;
    } else
        json_object_set_new (o, "phone", json_string (l->e164));
    char letter[40], at[32];
    snprintf (l->debt, sizeof l->debt, "ACC-%07ld", i + 1);
    snprintf (letter, sizeof letter, "LTR-%07ld", i + 1);
    s_iso (g->start_ms - (10 + s_below (&g->rng, 110)) * S_DAY_MS + 9 * 3600 * 1000, at, sizeof at);
    json_object_set_new (o, "debt", json_pack ("{s:s, s:s, s:I, s:s, s:s, s:s}",
        "account_ref", l->debt, "creditor", "Harbor Credit Union",
        "balance", (json_int_t) (5000 + s_below (&g->rng, 495000)), "currency", "USD",
        "first_letter_ref", letter, "first_letter_at", at));
    return o;
}

static json_t *
s_uk_lead (s_gen_t *g, s_lead_t *l, long i)
{
    json_t *o = json_object ();
    snprintf (l->ext, sizeof l->ext, "UK-%06ld", i + 1);
    json_object_set_new (o, "external_id", json_string (l->ext));
    json_object_set_new (o, "campaign", json_string (pl_simgen_campaigns[S_UK]));
    s_names (g, o, s_uk_first, s_uk_last);
    char d[12];
    const char *postal;
    long r = s_below (&g->rng, 100);
    if (r < 70) {
        s_digits (&g->rng, d, 8);
        snprintf (l->e164, sizeof l->e164, "+447%ld%s", 4 + s_below (&g->rng, 6), d);
        postal = s_chance (&g->rng, 500) ? "SE1 7PB" : "LS1 4DY";
    } else if (r < 88) {
        s_digits (&g->rng, d, 7);
        snprintf (l->e164, sizeof l->e164, "+4420%c%s", "378"[s_below (&g->rng, 3)], d);
        postal = "EC1A 1BB";
    } else {
        s_digits (&g->rng, d, 6);
        snprintf (l->e164, sizeof l->e164, "+44161%ld%s", 2 + s_below (&g->rng, 8), d);
        postal = "M1 1AE";
    }
    json_object_set_new (o, "country", json_string ("GB"));
    json_object_set_new (o, "postal_code", json_string (postal));
    if (s_chance (&g->rng, 10)) {
        json_object_set_new (o, "phone", json_string (s_invalid_number (g, S_UK)));
        l->e164[0] = '\0';
        g->invalid++;
    } else
        json_object_set_new (o, "phone", json_string (l->e164));
    return o;
}

static int
s_write_leads (s_gen_t *g, int c)
{
    static json_t *(*const make[3]) (s_gen_t *, s_lead_t *, long) = {s_fr_lead, s_us_lead,
                                                                      s_uk_lead};
    char rel[128];
    snprintf (rel, sizeof rel, "leads/%s.ndjson", pl_simgen_campaigns[c]);
    FILE *f = s_open (g, rel);
    if (!f)
        return -EIO;
    int rc = 0;
    for (long i = 0; i < g->n[c] && rc == 0; i++) {
        s_lead_t *l = &g->leads[g->first[c] + i];
        l->campaign = (uint8_t) c;
        rc = s_put_line (f, make[c](g, l, i));
    }
    int rc2 = s_close (g, f, rel);
    return rc ? s_fail (g, rc, "%s/%s: write failed", g->dir, rel) : rc2;
}

/* ---- lists ---------------------------------------------------------------------------------- */

/* The US registry's full list ("201,5550123"): a share of the campaign's numbers and as many
 * unrelated ones; the UK TPS as national numbers ("07911123456"). */
static int
s_write_list (s_gen_t *g, int c, const char *name, const char *rel, int per_mille)
{
    FILE *f = s_open (g, rel);
    if (!f)
        return -EIO;
    long *size = c == S_US ? &g->dnc_size : &g->tps_size;
    long *hits = c == S_US ? &g->dnc_hits : &g->tps_hits;
    for (long i = 0; i < g->n[c]; i++) {
        const s_lead_t *l = &g->leads[g->first[c] + i];
        if (!l->e164[0] || !s_chance (&g->rng, per_mille))
            continue;
        if (c == S_US)
            fprintf (f, "%.3s,%s\n", l->e164 + 2, l->e164 + 5);
        else
            fprintf (f, "0%s\n", l->e164 + 3);
        (*size)++, (*hits)++;
    }
    long unrelated = g->n[c] / 4 + 10;
    for (long i = 0; i < unrelated; i++) {
        char d[12];
        if (c == S_US) {
            s_digits (&g->rng, d, 4);
            fprintf (f, "%s,%ld%s\n", s_areas[s_below (&g->rng, S_N_AREAS)].ac,
                     200 + s_below (&g->rng, 800), d);
        } else {
            s_digits (&g->rng, d, 8);
            fprintf (f, "07%ld%s\n", 4 + s_below (&g->rng, 6), d);
        }
        (*size)++;
    }
    (void) name;
    return s_close (g, f, rel);
}

/* The UK Corporate TPS: businesses' numbers (London fixed lines), none of the consumer leads.
 * The UK profile screens every call against both registers, so a copy of each is loaded. */
static int
s_write_ctps (s_gen_t *g, const char *rel)
{
    FILE *f = s_open (g, rel);
    if (!f)
        return -EIO;
    long n = g->n[S_UK] / 10 + 10;
    for (long i = 0; i < n; i++) {
        char d[8];
        s_digits (&g->rng, d, 7);
        fprintf (f, "0207%s\n", d);
    }
    return s_close (g, f, rel);
}

static int
s_write_lists (s_gen_t *g)
{
    char taken[16], dnc[64], tps[64], ctps[64];
    s_date (g->start_ms - S_DAY_MS, taken, sizeof taken);
    snprintf (dnc, sizeof dnc, "lists/us-dnc-%s.txt", taken);
    snprintf (tps, sizeof tps, "lists/tps-%s.txt", taken);
    snprintf (ctps, sizeof ctps, "lists/ctps-%s.txt", taken);
    int rc = s_write_list (g, S_US, "us-dnc", dnc, 80);
    if (rc == 0)
        rc = s_write_list (g, S_UK, "tps", tps, 100);
    if (rc == 0)
        rc = s_write_ctps (g, ctps);
    if (rc)
        return rc;
    FILE *f = s_open (g, "lists/manifest.tsv");
    if (!f)
        return -EIO;
    fprintf (f, "us-dnc\tus\tus-dnc\t%s\t%s\n", taken, dnc + 6);
    fprintf (f, "tps\tuk\ttps\t%s\t%s\n", taken, tps + 6);
    fprintf (f, "ctps\tuk\ttps\t%s\t%s\n", taken, ctps + 6);
    return s_close (g, f, "lists/manifest.tsv");
}

/* ---- opt-outs and revocations --------------------------------------------------------------- */

static int
s_write_optouts (s_gen_t *g)
{
    static const char *const country[3] = {"FR", "US", "GB"};
    static const char *const channel[3] = {"crm", "web", "letter"};
    FILE *f = s_open (g, "optouts.ndjson");
    if (!f)
        return -EIO;
    int rc = 0;
    long total = g->n[0] + g->n[1] + g->n[2];
    for (long i = 0; i < total && rc == 0; i++) {
        const s_lead_t *l = &g->leads[i];
        if (!l->e164[0] || !s_chance (&g->rng, 30))
            continue;
        char at[32];
        s_iso (g->start_ms - (1 + s_below (&g->rng, 60)) * S_DAY_MS
                   - s_below (&g->rng, 86400) * 1000, at, sizeof at);
        /* A collection debtor's request may be about one debt (12 CFR 1006.14(h)). */
        const char *debt = l->campaign == S_US && s_chance (&g->rng, 500) ? l->debt : "";
        rc = s_put_line (f, json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s}", "number", l->e164,
                                       "country", country[l->campaign], "tenant",
                                       s_tenant[l->campaign], "debt_ref", debt, "channel",
                                       channel[s_below (&g->rng, 3)], "requested_at", at));
        g->optouts++;
    }
    int rc2 = s_close (g, f, "optouts.ndjson");
    return rc ? s_fail (g, rc, "optouts.ndjson: write failed") : rc2;
}

static int
s_write_revocations (s_gen_t *g)
{
    FILE *f = s_open (g, "consent-revocations.ndjson");
    if (!f)
        return -EIO;
    int rc = 0;
    for (long i = 0; i < g->n[S_FR] && rc == 0; i++) {
        const s_lead_t *l = &g->leads[g->first[S_FR] + i];
        if (!l->consent || !l->e164[0] || !s_chance (&g->rng, 5))
            continue;
        /* During the two simulated weeks, at a working hour in Paris (UTC+1 in winter). */
        char at[32];
        s_iso (g->start_ms + s_below (&g->rng, 13) * S_DAY_MS + (9 + s_below (&g->rng, 9)) * 3600000
                   + s_below (&g->rng, 3600) * 1000, at, sizeof at);
        rc = s_put_line (f, json_pack ("{s:s, s:s, s:s}", "external_id", l->ext, "campaign",
                                       pl_simgen_campaigns[S_FR], "at", at));
        g->revocations++;
    }
    int rc2 = s_close (g, f, "consent-revocations.ndjson");
    return rc ? s_fail (g, rc, "consent-revocations.ndjson: write failed") : rc2;
}

static int
s_write_manifest (s_gen_t *g)
{
    json_t *camps = json_array ();
    for (int c = 0; c < 3; c++)
        json_array_append_new (camps, json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:I}",
            "name", pl_simgen_campaigns[c], "profile", s_profile[c], "tenant", s_tenant[c],
            "kind", s_kind[c], "jurisdiction", s_juris[c], "mode", s_mode[c],
            "abandon_budget_ppm", 30000, "cli", g->cli[c], "leads", (json_int_t) g->n[c]));
    json_t *counts = json_pack ("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
        "leads", (json_int_t) (g->n[0] + g->n[1] + g->n[2]), "invalid_numbers", (json_int_t) g->invalid,
        "fr_consents", (json_int_t) g->consents, "fr_second_phones", (json_int_t) g->second_phones,
        "fr_overseas", (json_int_t) g->overseas, "us_florida", (json_int_t) g->florida,
        "us_state_mismatch", (json_int_t) g->state_mismatch, "us_dnc_size", (json_int_t) g->dnc_size,
        "us_dnc_leads", (json_int_t) g->dnc_hits, "tps_size", (json_int_t) g->tps_size,
        "tps_leads", (json_int_t) g->tps_hits, "optouts", (json_int_t) g->optouts);
    json_object_set_new (counts, "consent_revocations", json_integer (g->revocations));
    json_object_set_new (counts, "fr_businesses", json_integer (g->businesses));
    char seed[24];
    snprintf (seed, sizeof seed, "%llu", (unsigned long long) g->o->seed);
    json_t *m = json_pack ("{s:s, s:s, s:s, s:i, s:o, s:o}", "generator", "plateau-simgen",
                           "start", g->o->start, "seed", seed, "days", 14, "counts", counts,
                           "campaigns", camps);
    FILE *f = s_open (g, "manifest.json");
    if (!f) {
        json_decref (m);
        return -EIO;
    }
    int rc = m ? json_dumpf (m, f, JSON_INDENT (2) | JSON_PRESERVE_ORDER) : -1;
    json_decref (m);
    if (rc == 0)
        fputc ('\n', f);
    int rc2 = s_close (g, f, "manifest.json");
    return rc ? s_fail (g, -EIO, "manifest.json: write failed") : rc2;
}

static int
s_mkdirs (s_gen_t *g)
{
    static const char *const subs[] = {"", "/campaigns", "/leads", "/lists"};
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        char path[4352];
        snprintf (path, sizeof path, "%s%s", g->dir, subs[i]);
        if (mkdir (path, 0755) != 0 && errno != EEXIST)
            return s_fail (g, -EIO, "%s: %s", path, strerror (errno));
    }
    return 0;
}

int
pl_simgen_run (const pl_simgen_opts_t *o, char *err, size_t err_size)
{
    s_gen_t g = {.o = o, .err = err, .err_size = err_size};
    if (!o || !o->out || !*o->out || strlen (o->out) >= sizeof g.dir)
        return s_fail (&g, -EINVAL, "--out: a directory is required");
    if (o->leads < 3 || o->leads > 10000000)
        return s_fail (&g, -EINVAL, "--leads: between 3 and 10,000,000");
    if (s_parse_date (o->start, &g.start_ms) != 0)
        return s_fail (&g, -EINVAL, "--start: expected YYYY-MM-DD, not '%s'",
                       o->start ? o->start : "");
    snprintf (g.dir, sizeof g.dir, "%s", o->out);
    g.rng = o->seed;
    g.n[S_FR] = o->leads * 40 / 100;
    g.n[S_US] = o->leads * 40 / 100;
    g.n[S_UK] = o->leads - g.n[S_FR] - g.n[S_US];
    g.first[S_US] = g.n[S_FR];
    g.first[S_UK] = g.n[S_FR] + g.n[S_US];
    g.leads = calloc ((size_t) o->leads, sizeof *g.leads);
    if (!g.leads)
        return s_fail (&g, -ENOMEM, "out of memory");
    int rc = s_mkdirs (&g);
    s_make_clis (&g);
    for (int c = 0; c < 3 && rc == 0; c++)
        rc = s_write_campaign (&g, c);
    for (int c = 0; c < 3 && rc == 0; c++)
        rc = s_write_leads (&g, c);
    if (rc == 0)
        rc = s_write_lists (&g);
    if (rc == 0)
        rc = s_write_optouts (&g);
    if (rc == 0)
        rc = s_write_revocations (&g);
    if (rc == 0)
        rc = s_write_manifest (&g);
    free (g.leads);
    return rc;
}
