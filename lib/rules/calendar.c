/*  calendar.c — holiday calendars: Easter, entry parsing, and "is this local date a holiday".
 *
 *  Entries are data (the .holidays files beside the profiles); dates are computed for the year
 *  asked, so calendars never run out. The lookup is on the hot path of every decision that has a
 *  holiday rule, so it works from the month and day of the date and computes Easter only when
 *  an Easter-based entry is reached.
 */
#include "rules_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
pl_rules_easter (int32_t year, int *month, int *day)
{
    if (year < 1583 || year > 9999)
        return PL_ERANGE;
    /* Anonymous Gregorian algorithm (Meeus / Jones / Butcher). */
    int a = year % 19, b = year / 100, c = year % 100;
    int d = b / 4, e = b % 4, f = (b + 8) / 25, g = (b - f + 1) / 3;
    int h = (19 * a + b - d - g + 15) % 30;
    int i = c / 4, k = c % 4;
    int l = (32 + 2 * e + 2 * i - h - k) % 7;
    int m = (a + 11 * h + 22 * l) / 451;
    int n = h + l - 7 * m + 114;
    if (month)
        *month = n / 31;
    if (day)
        *day = n % 31 + 1;
    return 0;
}

uint64_t
pl__region_pack (const char *s)
{
    if (!s)
        return 0;
    size_t n = strlen (s);
    if (n < 2 || n > 8)
        return 0;
    uint64_t v = 0;
    int dashes = 0;
    for (size_t i = 0; i < n; i++) {
        int c = toupper ((unsigned char) s[i]);
        if (c == '-')
            dashes++;
        else if (!isalnum (c))
            return 0;
        v |= (uint64_t) (unsigned char) c << (8 * i);
    }
    return dashes <= 1 ? v : 0;
}

/* Day count of the n-th (or last, n = -1) ISO weekday `wd` of month m of year y; INT64_MIN if
 * the month has no such day (a fifth Monday). */
static int64_t
s_nth_weekday (int32_t y, int m, int n, int wd)
{
    int64_t first = pl_days_from_civil (y, m, 1);
    int32_t ny = m == 12 ? y + 1 : y;
    int nm = m == 12 ? 1 : m + 1;
    int64_t next = pl_days_from_civil (ny, nm, 1);
    if (n > 0) {
        int64_t d = first + ((wd - pl_rules_weekday (first) + 7) % 7) + 7 * (n - 1);
        return d < next ? d : INT64_MIN;
    }
    int64_t last = next - 1;
    return last - ((pl_rules_weekday (last) - wd + 7) % 7);
}

static int64_t
s_easter_days (int32_t y)
{
    int m, d;
    if (pl_rules_easter (y, &m, &d) != 0)
        return INT64_MIN;
    return pl_days_from_civil (y, m, d);
}

static bool
s_in_scope (const pl__holiday_t *h, int32_t year, const pl_rules_tz_t *z,
            const uint64_t *regions, size_t n_regions)
{
    if ((h->from_year && year < h->from_year) || (h->to_year && year > h->to_year))
        return false;
    if (h->n_zones) {
        if (!z)
            return false;
        bool ok = false;
        for (size_t i = 0; i < h->n_zones && !ok; i++)
            ok = strcmp (z->name, h->zones[i]) == 0;
        if (!ok)
            return false;
    }
    if (h->n_regions) {
        bool ok = false;
        for (size_t i = 0; i < h->n_regions && !ok; i++)
            for (size_t j = 0; j < n_regions && !ok; j++)
                ok = h->regions[i] == regions[j];
        if (!ok)
            return false;
    }
    return true;
}

/* Index of the entry matching local day `days`, or -1; *observed tells whether it is the
 * observed weekday of a weekend holiday. */
static int
s_match (const pl_rules_calendar_t *cal, int64_t days, const pl_rules_tz_t *z,
         const uint64_t *regions, size_t n_regions, bool *observed)
{
    int32_t y;
    int m, d;
    pl_civil_from_days (days, &y, &m, &d);
    int wd = 0;
    int64_t easter = INT64_MIN;
    for (size_t i = 0; i < cal->n; i++) {
        const pl__holiday_t *h = &cal->h[i];
        bool hit = false, obs = false;
        int32_t hy = y;
        switch (h->kind) {
        case PL__HD_FIXED:
            hit = m == h->month && d == h->day;
            if (!hit && h->observed) {
                if (!wd)
                    wd = pl_rules_weekday (days);
                int64_t other = wd == 5 ? days + 1 : wd == 1 ? days - 1 : INT64_MIN;
                if (other != INT64_MIN) {
                    int om, od;
                    pl_civil_from_days (other, &hy, &om, &od);
                    hit = obs = om == h->month && od == h->day;
                }
            }
            break;
        case PL__HD_EASTER:
            if (easter == INT64_MIN)
                easter = s_easter_days (y);
            hit = easter != INT64_MIN && days == easter + h->offset;
            break;
        case PL__HD_NTH:
            hit = m == h->month && days == s_nth_weekday (y, m, h->nth, h->wday);
            break;
        }
        if (hit && s_in_scope (h, hy, z, regions, n_regions)) {
            if (observed)
                *observed = obs;
            return (int) i;
        }
    }
    return -1;
}

static void
s_set_bit (pl_rules_calendar_t *cal, int64_t day)
{
    int64_t i = day - cal->bits_d0;
    if (i >= 0 && i < cal->bits_n)
        cal->bits[i >> 3] |= (uint8_t) (1u << (i & 7));
}

int
pl__calendar_index (pl_rules_calendar_t *cal)
{
    cal->bits_d0 = pl_days_from_civil (1900, 1, 1);
    cal->bits_n = pl_days_from_civil (2201, 1, 1) - cal->bits_d0;
    free (cal->bits);
    cal->bits = calloc ((size_t) (cal->bits_n + 7) / 8, 1);
    if (!cal->bits)
        return PL_ENOMEM;
    for (int32_t y = 1900; y <= 2200; y++) {
        int64_t easter = s_easter_days (y);
        for (size_t i = 0; i < cal->n; i++) {
            const pl__holiday_t *h = &cal->h[i];
            int64_t d = -1;
            if (h->kind == PL__HD_FIXED)
                d = pl_days_from_civil (y, h->month, h->day);
            else if (h->kind == PL__HD_EASTER)
                d = easter + h->offset;
            else
                d = s_nth_weekday (y, h->month, h->nth, h->wday);
            if (d == INT64_MIN)
                continue;
            s_set_bit (cal, d);
            if (h->observed) {
                int wd = pl_rules_weekday (d);
                if (wd == 6)
                    s_set_bit (cal, d - 1);
                else if (wd == 7)
                    s_set_bit (cal, d + 1);
            }
        }
    }
    return 0;
}

const char *
pl__calendar_match (const pl_rules_calendar_t *cal, int64_t days, const pl_rules_tz_t *z,
                    const uint64_t *regions, size_t n_regions)
{
    int i = s_match (cal, days, z, regions, n_regions, NULL);
    return i < 0 ? NULL : cal->h[i].name;
}

static size_t
s_pack_regions (const char *const *regions, size_t n, uint64_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < PL__MAXREGIONS; i++) {
        uint64_t v = pl__region_pack (regions[i]);
        if (v)
            out[k++] = v;
    }
    return k;
}

const char *
pl_rules_calendar_holiday (const pl_rules_calendar_t *cal, int64_t days,
                           const pl_rules_tz_t *zone, const char *const *regions,
                           size_t n_regions)
{
    if (!cal)
        return NULL;
    uint64_t packed[PL__MAXREGIONS];
    size_t k = s_pack_regions (regions, n_regions, packed);
    return pl__calendar_holiday (cal, days, zone, packed, k);
}

size_t
pl_rules_calendar_list (const pl_rules_calendar_t *cal, int32_t year, const pl_rules_tz_t *zone,
                        const char *const *regions, size_t n_regions, pl_rules_holiday_t *out,
                        size_t cap)
{
    if (!cal)
        return 0;
    uint64_t packed[PL__MAXREGIONS];
    size_t k = s_pack_regions (regions, n_regions, packed);
    size_t count = 0;
    int64_t first = pl_days_from_civil (year, 1, 1);
    int64_t end = pl_days_from_civil (year + 1, 1, 1);
    for (int64_t d = first; d < end; d++) {
        bool obs = false;
        int i = s_match (cal, d, zone, packed, k, &obs);
        if (i < 0)
            continue;
        if (count < cap && out) {
            out[count].days = d;
            out[count].name = cal->h[i].name;
            out[count].observed = obs;
            out[count].unconfirmed = cal->h[i].unconfirmed || cal->unconfirmed;
        }
        count++;
    }
    return count;
}

const char *
pl_rules_calendar_id (const pl_rules_calendar_t *cal)
{
    return cal ? cal->id : "";
}

const char *
pl_rules_calendar_source (const pl_rules_calendar_t *cal)
{
    return cal && cal->source ? cal->source : "";
}

bool
pl_rules_calendar_unconfirmed (const pl_rules_calendar_t *cal)
{
    return cal && cal->unconfirmed;
}

/* ------------------------------------------------------------------------------------------ */
/* Parsing: `holiday = <date> [zone=…] [region=…] [from=YYYY] [until=YYYY] [observed]
 *                     [unconfirmed] "Name"`                                                    */

static const char *const s_wdays[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };

static int
s_parse_int (const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol (s, &end, 10);
    if (end == s || *end || v < lo || v > hi)
        return -1;
    *out = (int) v;
    return 0;
}

void
pl__holiday_free (pl__holiday_t *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n_zones; i++)
        free (h->zones[i]);
    free (h->zones);
    free (h->name);
    memset (h, 0, sizeof *h);
}

static int
s_parse_date (const char *w, pl__holiday_t *h, char *err, size_t errlen)
{
    if (strncmp (w, "easter", 6) == 0) {
        h->kind = PL__HD_EASTER;
        int off = 0;
        if (w[6] && (w[6] != '+' && w[6] != '-'))
            goto bad;
        if (w[6] && s_parse_int (w + 6, -200, 200, &off) != 0)
            goto bad;
        h->offset = (int16_t) off;
        return 0;
    }
    if (strchr (w, '#')) {
        /* wdy#N/MM */
        char wd[4] = { 0 };
        int n, m;
        if (strlen (w) < 7 || w[3] != '#')
            goto bad;
        memcpy (wd, w, 3);
        const char *slash = strchr (w, '/');
        if (!slash)
            goto bad;
        char nbuf[8];
        size_t nl = (size_t) (slash - (w + 4));
        if (nl == 0 || nl >= sizeof nbuf)
            goto bad;
        memcpy (nbuf, w + 4, nl);
        nbuf[nl] = 0;
        if (s_parse_int (nbuf, -1, 5, &n) != 0 || n == 0)
            goto bad;
        if (s_parse_int (slash + 1, 1, 12, &m) != 0)
            goto bad;
        int wi = -1;
        for (int i = 0; i < 7; i++)
            if (strcmp (wd, s_wdays[i]) == 0)
                wi = i;
        if (wi < 0)
            goto bad;
        h->kind = PL__HD_NTH;
        h->nth = (int8_t) n;
        h->wday = (int8_t) (wi + 1);
        h->month = (int8_t) m;
        return 0;
    }
    if (strlen (w) == 5 && w[2] == '-') {
        char mm[3] = { w[0], w[1], 0 }, dd[3] = { w[3], w[4], 0 };
        int m, d;
        if (s_parse_int (mm, 1, 12, &m) != 0 || s_parse_int (dd, 1, 31, &d) != 0)
            goto bad;
        static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        if (d > mdays[m - 1])
            goto bad;
        h->kind = PL__HD_FIXED;
        h->month = (int8_t) m;
        h->day = (int8_t) d;
        return 0;
    }
bad:
    snprintf (err, errlen, "bad date '%s' (expected MM-DD, easter[+-N] or wdy#N/MM)", w);
    return -1;
}

int
pl__holiday_parse (const char *value, pl__holiday_t *h, char *err, size_t errlen)
{
    memset (h, 0, sizeof *h);
    char buf[1024];
    char *words[32];
    size_t n = pl__split (value, buf, sizeof buf, words, 32);
    if (n == 0) {
        snprintf (err, errlen, "empty holiday");
        return -1;
    }
    if (s_parse_date (words[0], h, err, errlen) != 0)
        return -1;
    for (size_t i = 1; i < n; i++) {
        const char *w = words[i];
        bool last = i + 1 == n;
        if (strcmp (w, "observed") == 0 && !last) {
            if (h->kind != PL__HD_FIXED) {
                snprintf (err, errlen, "'observed' only applies to fixed dates");
                goto fail;
            }
            h->observed = true;
        }
        else if (strcmp (w, "unconfirmed") == 0 && !last)
            h->unconfirmed = true;
        else if (strncmp (w, "from=", 5) == 0 || strncmp (w, "until=", 6) == 0) {
            int y;
            bool from = w[0] == 'f';
            if (s_parse_int (strchr (w, '=') + 1, 1583, 9999, &y) != 0) {
                snprintf (err, errlen, "bad year in '%s'", w);
                goto fail;
            }
            if (from)
                h->from_year = y;
            else
                h->to_year = y;
        }
        else if (strncmp (w, "zone=", 5) == 0 || strncmp (w, "region=", 7) == 0) {
            bool zone = w[0] == 'z';
            char list[512];
            snprintf (list, sizeof list, "%s", strchr (w, '=') + 1);
            char *save = NULL;
            for (char *t = strtok_r (list, ",", &save); t; t = strtok_r (NULL, ",", &save)) {
                if (zone) {
                    if (h->n_zones >= PL__MAXREGIONS) {
                        snprintf (err, errlen, "too many zones");
                        goto fail;
                    }
                    char **nz = realloc (h->zones, (h->n_zones + 1) * sizeof *nz);
                    if (!nz || !(nz[h->n_zones] = strdup (t))) {
                        if (nz)
                            h->zones = nz;
                        snprintf (err, errlen, "out of memory");
                        goto fail;
                    }
                    h->zones = nz;
                    h->n_zones++;
                }
                else {
                    uint64_t r = pl__region_pack (t);
                    if (!r || h->n_regions >= PL__MAXREGIONS) {
                        snprintf (err, errlen, "bad or too many regions at '%s'", t);
                        goto fail;
                    }
                    h->regions[h->n_regions++] = r;
                }
            }
            if ((zone && !h->n_zones) || (!zone && !h->n_regions)) {
                snprintf (err, errlen, "empty list in '%s'", w);
                goto fail;
            }
        }
        else if (last) {
            if (!*w) {
                snprintf (err, errlen, "empty holiday name");
                goto fail;
            }
            h->name = strdup (w);
            if (!h->name) {
                snprintf (err, errlen, "out of memory");
                goto fail;
            }
        }
        else {
            snprintf (err, errlen, "unknown option '%s' (zone=, region=, from=, until=, "
                      "observed, unconfirmed; the name comes last, in quotes)", w);
            goto fail;
        }
    }
    if (!h->name) {
        snprintf (err, errlen, "missing holiday name (last, in quotes)");
        goto fail;
    }
    if (h->from_year && h->to_year && h->to_year < h->from_year) {
        snprintf (err, errlen, "until= is before from=");
        goto fail;
    }
    return 0;
fail:
    pl__holiday_free (h);
    return -1;
}
