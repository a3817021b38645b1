/*  tzif.c — TZif reader and pure UTC <-> local time conversion (see rules_tz.h).
 *
 *  A zone is kept as a sorted array of UTC transition instants and, for each of the n+1 pieces
 *  they cut the time line into, the UTC offset in force. Piece 0 runs up to the first transition
 *  and uses the file's time type 0 (RFC 8536 §3.2); piece k (k >= 1) starts at at[k-1].
 *
 *  Version 2+ files end with a POSIX TZ string giving the rule after the last transition
 *  ("CET-1CEST,M3.5.0,M10.5.0/3"). Rather than evaluating that rule at each conversion we expand
 *  it at load into ordinary transitions up to PL__TZ_LAST_YEAR, so conversions are one binary
 *  search whatever the instant. Beyond that year the last offset (standard time) stays in force;
 *  no calling decision looks that far.
 *
 *  Leap-second ("right/") zones are refused: their timestamps are not POSIX time.
 */
#include "rules_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PL__TZ_FIRST_YEAR 1800
#define PL__TZ_LAST_YEAR 2200
#define PL__TZ_MAX_FILE  (1 << 20)
#define PL__TZ_MAX_TIMES 50000

struct pl_rules_tzdb {
    char *dir;
    pl_rules_tz_t **zones;      /* open-addressing hash table by name */
    size_t cap, count;
    char err[PL__ERRLEN];
};

/* ------------------------------------------------------------------------------------------ */
/* Civil calendar (day counts: pl_days_from_civil of plateau/timefmt.h)                        */

int
pl_rules_weekday (int64_t days)
{
    /* 1970-01-01 was a Thursday (ISO 4). */
    int64_t r = (days + 3) % 7;
    if (r < 0)
        r += 7;
    return (int) r + 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Conversions                                                                                  */

/* Index of the piece containing t: the number of transitions at or before t. */
static inline size_t
s_piece (const pl_rules_tz_t *z, int64_t t)
{
    return pl__tz_piece (z, t);
}

const char *
pl_rules_tz_name (const pl_rules_tz_t *zone)
{
    return zone ? zone->name : "(none)";
}

int32_t
pl_rules_tz_offset (const pl_rules_tz_t *zone, int64_t utc_s)
{
    return zone->off[s_piece (zone, utc_s)];
}

void
pl_rules_tz_local (const pl_rules_tz_t *zone, int64_t utc_s, pl_rules_tm_t *tm)
{
    size_t k = s_piece (zone, utc_s);
    int32_t off = zone->off[k];
    int64_t local = utc_s + off;
    int64_t days = pl__floordiv (local, PL__DAY_S);
    int32_t sod = (int32_t) (local - days * PL__DAY_S);
    memset (tm, 0, sizeof *tm);
    pl_civil_from_days (days, &tm->year, &tm->month, &tm->day);
    tm->hour = sod / 3600;
    tm->minute = (sod / 60) % 60;
    tm->second = sod % 60;
    tm->wday = pl_rules_weekday (days);
    tm->utoff = off;
    tm->isdst = zone->t_dst[zone->type[k]];
    tm->abbr = zone->t_abbr[zone->type[k]];
    tm->days = days;
    tm->sod = sod;
}

int64_t
pl_rules_tz_next_local (const pl_rules_tz_t *z, int64_t from_s, int64_t local_lo,
                        int64_t local_hi)
{
    if (local_lo >= local_hi)
        return PL_RULES_TZ_NEVER;
    return pl__tz_next_local_from (z, s_piece (z, from_s), from_s, local_lo, local_hi);
}

int
pl_rules_tz_utc (const pl_rules_tz_t *z, int64_t local_s, pl_rules_tz_fold_t fold,
                 int64_t *utc_s)
{
    /* Candidates: local_s - off for every offset near that instant. Walk the pieces that can
     * contain it (offsets are bounded by min_off/max_off). */
    int64_t first = PL_RULES_TZ_NEVER, last = PL_RULES_TZ_NEVER;
    int found = 0;
    size_t k = s_piece (z, local_s - z->max_off);
    for (; k <= z->n; k++) {
        int64_t start = k > 0 ? z->at[k - 1] : INT64_MIN;
        int64_t end = k < z->n ? z->at[k] : INT64_MAX;
        if (start != INT64_MIN && start > local_s - z->min_off)
            break;
        int64_t u = local_s - z->off[k];
        if (u >= start && u < end) {
            if (found == 0)
                first = u;
            last = u;
            found++;
        }
    }
    if (found > 0) {
        *utc_s = (fold == PL_RULES_TZ_LAST) ? last : first;
        return found > 1 ? 1 : 0;
    }
    /* In a gap: the first instant whose local time is past local_s. */
    *utc_s = pl_rules_tz_next_local (z, local_s - z->max_off, local_s, INT64_MAX);
    return 2;
}

/* ------------------------------------------------------------------------------------------ */
/* POSIX TZ footer                                                                              */

typedef struct {
    int kind;                   /* 'J' (Jn, no leap day), 'N' (n, zero-based), 'M' (Mm.w.d) */
    int a, b, c;                /* J/N: day; M: month, week, weekday */
    int32_t time;               /* seconds after local midnight (may be negative or > 24h) */
} s_posix_date_t;

typedef struct {
    char std_abbr[16], dst_abbr[16];
    int32_t std_off, dst_off;   /* seconds east of UTC */
    bool has_dst;
    s_posix_date_t start, end;
} s_posix_t;

static const char *
s_posix_abbr (const char *p, char *out)
{
    size_t n = 0;
    if (*p == '<') {
        p++;
        while (*p && *p != '>') {
            if (n + 1 < 16)
                out[n++] = *p;
            p++;
        }
        if (*p != '>')
            return NULL;
        p++;
    }
    else {
        while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')) {
            if (n + 1 < 16)
                out[n++] = *p;
            p++;
        }
    }
    out[n] = 0;
    return n >= 3 ? p : NULL;
}

/* :mm or :ss (00 to 59) at *p: 1 with *v set and *p moved past it, 0 when *p is no colon, -1
 * when the digits are wrong. */
static int
s_posix_sixty (const char **p, int32_t *v)
{
    const char *q = *p;
    if (*q != ':')
        return 0;
    if (q[1] < '0' || q[1] > '5' || q[2] < '0' || q[2] > '9')
        return -1;
    *v = (q[1] - '0') * 10 + (q[2] - '0');
    *p = q + 3;
    return 1;
}

/* [+-]hh[:mm[:ss]] with hh up to max_hours. */
static const char *
s_posix_hms (const char *p, int max_hours, int32_t *out)
{
    int sign = 1;
    if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        p++;
    }
    if (*p < '0' || *p > '9')
        return NULL;
    int32_t h = 0, m = 0, s = 0;
    while (*p >= '0' && *p <= '9') {
        h = h * 10 + (*p++ - '0');
        if (h > max_hours)
            return NULL;
    }
    int got = s_posix_sixty (&p, &m);
    if (got > 0)
        got = s_posix_sixty (&p, &s);
    if (got < 0)
        return NULL;
    *out = sign * (h * 3600 + m * 60 + s);
    return p;
}

static const char *
s_posix_num (const char *p, int lo, int hi, int *out)
{
    if (*p < '0' || *p > '9')
        return NULL;
    int v = 0;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (*p++ - '0');
        if (v > hi)
            return NULL;
    }
    if (v < lo)
        return NULL;
    *out = v;
    return p;
}

static const char *
s_posix_date (const char *p, s_posix_date_t *d)
{
    memset (d, 0, sizeof *d);
    if (*p == 'J') {
        d->kind = 'J';
        p = s_posix_num (p + 1, 1, 365, &d->a);
    }
    else if (*p == 'M') {
        d->kind = 'M';
        p = s_posix_num (p + 1, 1, 12, &d->a);
        if (!p || *p++ != '.')
            return NULL;
        p = s_posix_num (p, 1, 5, &d->b);
        if (!p || *p++ != '.')
            return NULL;
        p = s_posix_num (p, 0, 6, &d->c);
    }
    else {
        d->kind = 'N';
        p = s_posix_num (p, 0, 365, &d->a);
    }
    if (!p)
        return NULL;
    d->time = 7200;
    if (*p == '/')
        p = s_posix_hms (p + 1, 167, &d->time);
    return p;
}

static int
s_posix_parse (const char *s, s_posix_t *out)
{
    memset (out, 0, sizeof *out);
    const char *p = s_posix_abbr (s, out->std_abbr);
    if (!p)
        return -1;
    int32_t v;
    if (!(p = s_posix_hms (p, 24, &v)))
        return -1;
    out->std_off = -v;
    if (*p == 0)
        return 0;
    if (!(p = s_posix_abbr (p, out->dst_abbr)))
        return -1;
    out->has_dst = true;
    out->dst_off = out->std_off + 3600;
    if (*p && *p != ',') {
        if (!(p = s_posix_hms (p, 24, &v)))
            return -1;
        out->dst_off = -v;
    }
    if (*p == 0) {
        /* No rule given: the POSIX default is implementation-defined; use the US rule as glibc
         * does. tzdata never relies on it. */
        p = "M3.2.0,M11.1.0";
    }
    else
        p++;
    if (!(p = s_posix_date (p, &out->start)) || *p++ != ',')
        return -1;
    if (!(p = s_posix_date (p, &out->end)) || *p != 0)
        return -1;
    return 0;
}

static bool
s_leap (int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Local day count (days since 1970-01-01) of a rule date in year y. */
static int64_t
s_posix_day (const s_posix_date_t *d, int32_t y)
{
    int64_t jan1 = pl_days_from_civil (y, 1, 1);
    if (d->kind == 'J') {
        int64_t n = d->a - 1;
        if (s_leap (y) && d->a >= 60)
            n++;
        return jan1 + n;
    }
    if (d->kind == 'N')
        return jan1 + d->a;
    /* Mm.w.d: day d (0 = Sunday) of week w (5 = last) of month m. */
    int64_t first = pl_days_from_civil (y, d->a, 1);
    int wd_first = pl_rules_weekday (first) % 7;        /* 0 = Sunday */
    int64_t day = first + ((d->c - wd_first + 7) % 7) + 7 * (d->b - 1);
    int32_t ny = d->a == 12 ? y + 1 : y;
    int nm = d->a == 12 ? 1 : d->a + 1;
    int64_t next_month = pl_days_from_civil (ny, nm, 1);
    while (day >= next_month)
        day -= 7;
    return day;
}

/* ------------------------------------------------------------------------------------------ */
/* TZif                                                                                         */

static uint32_t
s_be32 (const unsigned char *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3];
}

static int64_t
s_be64 (const unsigned char *p)
{
    return (int64_t) (((uint64_t) s_be32 (p) << 32) | s_be32 (p + 4));
}

typedef struct {
    int64_t at;
    int32_t off;
    bool dst;
    char abbr[16];
} s_trans_t;

static void
s_zone_free (pl_rules_tz_t *z)
{
    if (!z)
        return;
    free (z->name);
    free (z->at);
    free (z->off);
    free (z->type);
    free (z->t_off);
    free (z->t_dst);
    free (z->t_abbr);
    free (z->bucket);
    free (z);
}

static int
s_find_type (pl_rules_tz_t *z, int32_t off, bool dst, const char *abbr, size_t *cap)
{
    for (size_t i = 0; i < z->ntypes; i++)
        if (z->t_off[i] == off && z->t_dst[i] == dst && strcmp (z->t_abbr[i], abbr) == 0)
            return (int) i;
    if (z->ntypes == *cap) {
        size_t nc = *cap * 2 + 4;
        int32_t *o = realloc (z->t_off, nc * sizeof *o);
        if (o)
            z->t_off = o;
        bool *d = realloc (z->t_dst, nc * sizeof *d);
        if (d)
            z->t_dst = d;
        char (*a)[16] = realloc (z->t_abbr, nc * sizeof *a);
        if (a)
            z->t_abbr = a;
        if (!o || !d || !a)
            return -1;
        *cap = nc;
    }
    z->t_off[z->ntypes] = off;
    z->t_dst[z->ntypes] = dst;
    snprintf (z->t_abbr[z->ntypes], 16, "%s", abbr);
    return (int) z->ntypes++;
}

/* Parses TZif bytes into a new zone. On failure returns NULL and writes a reason to err. */
static pl_rules_tz_t *
s_tzif_parse (const char *name, const unsigned char *buf, size_t len, char *err, size_t errlen)
{
#define FAIL(...) do { snprintf (err, errlen, __VA_ARGS__); goto fail; } while (0)
    pl_rules_tz_t *z = NULL;
    s_trans_t *tr = NULL;
    size_t ntr = 0;
    char *footer = NULL;

    if (len < 44 || memcmp (buf, "TZif", 4) != 0)
        FAIL ("%s: not a TZif file", name);
    int version = buf[4] == 0 ? 1 : buf[4] - '0';
    if (version < 1 || version > 9)
        FAIL ("%s: unknown TZif version byte 0x%02x", name, buf[4]);

    const unsigned char *h = buf;
    size_t tsize = 4, off = 0;
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
    for (int pass = 0; pass < 2; pass++) {
        if (off + 44 > len || memcmp (buf + off, "TZif", 4) != 0)
            FAIL ("%s: truncated or bad TZif header", name);
        h = buf + off;
        isutcnt = s_be32 (h + 20);
        isstdcnt = s_be32 (h + 24);
        leapcnt = s_be32 (h + 28);
        timecnt = s_be32 (h + 32);
        typecnt = s_be32 (h + 36);
        charcnt = s_be32 (h + 40);
        if (timecnt > PL__TZ_MAX_TIMES || typecnt == 0 || typecnt > 256 || charcnt == 0
            || charcnt > 256 || leapcnt > 1000 || (isutcnt != 0 && isutcnt != typecnt)
            || (isstdcnt != 0 && isstdcnt != typecnt))
            FAIL ("%s: implausible TZif counts", name);
        size_t body = (size_t) timecnt * tsize + timecnt + (size_t) typecnt * 6 + charcnt
                      + (size_t) leapcnt * (tsize + 4) + isstdcnt + isutcnt;
        if (off + 44 + body > len)
            FAIL ("%s: truncated TZif data", name);
        if (version == 1 || pass == 1) {
            off += 44;
            break;
        }
        off += 44 + body;       /* skip the version 1 block; read the 64-bit one */
        tsize = 8;
    }
    if (leapcnt != 0)
        FAIL ("%s: leap-second zones (right/) are not supported", name);

    const unsigned char *p_times = buf + off;
    const unsigned char *p_idx = p_times + (size_t) timecnt * tsize;
    const unsigned char *p_types = p_idx + timecnt;
    const unsigned char *p_chars = p_types + (size_t) typecnt * 6;
    size_t end_of_data = (size_t) (p_chars - buf) + charcnt + isstdcnt + isutcnt;
    if (p_chars[charcnt - 1] != 0)
        FAIL ("%s: abbreviations not NUL-terminated", name);

    z = calloc (1, sizeof *z);
    if (!z || !(z->name = strdup (name)))
        FAIL ("%s: out of memory", name);
    size_t tcap = 0;
    int32_t file_off[256];
    int file_type[256];
    for (uint32_t i = 0; i < typecnt; i++) {
        const unsigned char *t = p_types + 6 * i;
        int32_t utoff = (int32_t) s_be32 (t);
        unsigned dst = t[4], abbr_at = t[5];
        if (utoff <= -26 * 3600 || utoff >= 26 * 3600 || dst > 1 || abbr_at >= charcnt)
            FAIL ("%s: bad local time type %u", name, i);
        file_off[i] = utoff;
        file_type[i] = s_find_type (z, utoff, dst, (const char *) p_chars + abbr_at,
                                    &tcap);
        if (file_type[i] < 0)
            FAIL ("%s: out of memory", name);
    }

    /* Transitions from the file, then from the footer rule. */
    size_t trcap = timecnt + 2 * (PL__TZ_LAST_YEAR - PL__TZ_FIRST_YEAR + 1) + 4;
    tr = calloc (trcap, sizeof *tr);
    if (!tr)
        FAIL ("%s: out of memory", name);
    for (uint32_t i = 0; i < timecnt; i++) {
        int64_t at = tsize == 8 ? s_be64 (p_times + 8 * i) : (int32_t) s_be32 (p_times + 4 * i);
        unsigned ti = p_idx[i];
        if (ti >= typecnt)
            FAIL ("%s: transition %u names type %u of %u", name, i, ti, typecnt);
        if (i > 0 && at <= tr[ntr - 1].at)
            FAIL ("%s: transitions out of order at %u", name, i);
        tr[ntr].at = at;
        tr[ntr].off = file_off[ti];
        tr[ntr].dst = z->t_dst[file_type[ti]];
        snprintf (tr[ntr].abbr, 16, "%s", z->t_abbr[file_type[ti]]);
        ntr++;
    }

    if (version >= 2) {
        if (end_of_data >= len || buf[end_of_data] != '\n')
            FAIL ("%s: missing TZ string footer", name);
        const unsigned char *f = buf + end_of_data + 1;
        const unsigned char *nl = memchr (f, '\n', len - end_of_data - 1);
        if (!nl)
            FAIL ("%s: unterminated TZ string footer", name);
        footer = strndup ((const char *) f, (size_t) (nl - f));
        if (!footer)
            FAIL ("%s: out of memory", name);
        s_posix_t px;
        memset (&px, 0, sizeof px);
        if (footer[0] != 0 && s_posix_parse (footer, &px) != 0)
            FAIL ("%s: cannot parse TZ string \"%s\"", name, footer);
        if (footer[0] != 0 && px.has_dst) {
            int64_t last = ntr ? tr[ntr - 1].at : INT64_MIN;
            int32_t y0 = PL__TZ_FIRST_YEAR;
            if (ntr) {
                int32_t ly;
                pl_civil_from_days (pl__floordiv (last, PL__DAY_S), &ly, NULL, NULL);
                if (ly > y0)
                    y0 = ly;
            }
            size_t base = ntr;
            for (int32_t y = y0; y <= PL__TZ_LAST_YEAR; y++) {
                /* DST starts at a local standard time, ends at a local daylight time. */
                int64_t s = s_posix_day (&px.start, y) * PL__DAY_S + px.start.time - px.std_off;
                int64_t e = s_posix_day (&px.end, y) * PL__DAY_S + px.end.time - px.dst_off;
                s_trans_t ts = { .at = s, .off = px.dst_off, .dst = true };
                s_trans_t te = { .at = e, .off = px.std_off, .dst = false };
                snprintf (ts.abbr, 16, "%s", px.dst_abbr);
                snprintf (te.abbr, 16, "%s", px.std_abbr);
                /* Within a year, order end-before-start on ties so permanent DST
                 * ("J365/25" rules) collapses to a steady daylight offset. */
                s_trans_t pair[2];
                if (e <= s) {
                    pair[0] = te;
                    pair[1] = ts;
                }
                else {
                    pair[0] = ts;
                    pair[1] = te;
                }
                for (int j = 0; j < 2; j++)
                    if (pair[j].at > last && ntr < trcap)
                        tr[ntr++] = pair[j];
            }
            /* Entries come in yearly order and are almost sorted; a stable insertion sort keeps
             * the end-before-start order of ties that the collapse below relies on. */
            for (size_t i = base + 1; i < ntr; i++) {
                s_trans_t t = tr[i];
                size_t j = i;
                while (j > base && tr[j - 1].at > t.at) {
                    tr[j] = tr[j - 1];
                    j--;
                }
                tr[j] = t;
            }
        }
    }

    /* Collapse ties (keep the later) and drop transitions that change nothing. */
    size_t w = 0;
    for (size_t i = 0; i < ntr; i++) {
        if (w > 0 && tr[w - 1].at == tr[i].at) {
            tr[w - 1] = tr[i];
            continue;
        }
        tr[w++] = tr[i];
    }
    ntr = w;
    w = 0;
    for (size_t i = 0; i < ntr; i++) {
        int32_t poff = w ? tr[w - 1].off : file_off[0];
        bool pdst = w ? tr[w - 1].dst : z->t_dst[file_type[0]];
        const char *pab = w ? tr[w - 1].abbr : z->t_abbr[file_type[0]];
        if (tr[i].off == poff && tr[i].dst == pdst && strcmp (tr[i].abbr, pab) == 0)
            continue;
        tr[w++] = tr[i];
    }
    ntr = w;

    z->n = ntr;
    z->at = malloc ((ntr ? ntr : 1) * sizeof *z->at);
    z->off = malloc ((ntr + 1) * sizeof *z->off);
    z->type = malloc ((ntr + 1) * sizeof *z->type);
    if (!z->at || !z->off || !z->type)
        FAIL ("%s: out of memory", name);
    z->off[0] = file_off[0];
    z->type[0] = (uint16_t) file_type[0];
    z->min_off = z->max_off = z->off[0];
    for (size_t i = 0; i < ntr; i++) {
        int ti = s_find_type (z, tr[i].off, tr[i].dst, tr[i].abbr, &tcap);
        if (ti < 0)
            FAIL ("%s: out of memory", name);
        z->at[i] = tr[i].at;
        z->off[i + 1] = tr[i].off;
        z->type[i + 1] = (uint16_t) ti;
        if (tr[i].off < z->min_off)
            z->min_off = tr[i].off;
        if (tr[i].off > z->max_off)
            z->max_off = tr[i].off;
    }
    z->bucket = malloc (PL__TZ_BUCKETS * sizeof *z->bucket);
    if (!z->bucket)
        FAIL ("%s: out of memory", name);
    for (size_t b = 0, k = 0; b < PL__TZ_BUCKETS; b++) {
        int64_t start = PL__TZ_BUCKET_E0 + (int64_t) b * PL__TZ_BUCKET_LEN;
        while (k < z->n && z->at[k] <= start)
            k++;
        z->bucket[b] = (uint32_t) k;
    }
    free (tr);
    free (footer);
    return z;
fail:
    free (tr);
    free (footer);
    s_zone_free (z);
    return NULL;
#undef FAIL
}

/* ------------------------------------------------------------------------------------------ */
/* Database                                                                                     */

static uint64_t
s_hash (const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    while (*s) {
        h ^= (unsigned char) *s++;
        h *= 1099511628211ULL;
    }
    return h;
}

pl_rules_tzdb_t *
pl_rules_tzdb_new (const char *zoneinfo_dir)
{
    pl_rules_tzdb_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->dir = strdup (zoneinfo_dir ? zoneinfo_dir : PL_RULES_ZONEINFO_DEFAULT);
    self->cap = 64;
    self->zones = calloc (self->cap, sizeof *self->zones);
    if (!self->dir || !self->zones) {
        pl_rules_tzdb_destroy (&self);
        return NULL;
    }
    return self;
}

void
pl_rules_tzdb_destroy (pl_rules_tzdb_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pl_rules_tzdb_t *self = *self_p;
    for (size_t i = 0; i < self->cap; i++)
        s_zone_free (self->zones[i]);
    free (self->zones);
    free (self->dir);
    free (self);
    *self_p = NULL;
}

const pl_rules_tz_t *
pl_rules_tzdb_find (const pl_rules_tzdb_t *self, const char *name)
{
    if (!self || !name)
        return NULL;
    size_t mask = self->cap - 1;
    for (size_t i = s_hash (name) & mask;; i = (i + 1) & mask) {
        const pl_rules_tz_t *z = self->zones[i];
        if (!z)
            return NULL;
        if (strcmp (z->name, name) == 0)
            return z;
    }
}

static int
s_insert (pl_rules_tzdb_t *self, pl_rules_tz_t *z)
{
    if ((self->count + 1) * 2 > self->cap) {
        size_t nc = self->cap * 2;
        pl_rules_tz_t **nz = calloc (nc, sizeof *nz);
        if (!nz)
            return PL_ENOMEM;
        for (size_t i = 0; i < self->cap; i++) {
            if (!self->zones[i])
                continue;
            size_t j = s_hash (self->zones[i]->name) & (nc - 1);
            while (nz[j])
                j = (j + 1) & (nc - 1);
            nz[j] = self->zones[i];
        }
        free (self->zones);
        self->zones = nz;
        self->cap = nc;
    }
    size_t j = s_hash (z->name) & (self->cap - 1);
    while (self->zones[j])
        j = (j + 1) & (self->cap - 1);
    self->zones[j] = z;
    self->count++;
    return 0;
}

static bool
s_valid_name (const char *name)
{
    if (!name || !*name || name[0] == '/' || strlen (name) > 128)
        return false;
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
              || c == '/' || c == '_' || c == '-' || c == '+' || c == '.'))
            return false;
        if (c == '.' && (p == name || p[-1] == '/'))
            return false;       /* no "..", no hidden files */
    }
    return true;
}

int
pl_rules_tzdb_load_tzif (pl_rules_tzdb_t *self, const char *name, const void *data, size_t len,
                         const pl_rules_tz_t **zone_p)
{
    if (!self || !name || !data) {
        if (self)
            snprintf (self->err, sizeof self->err, "invalid argument");
        return PL_EINVAL;
    }
    const pl_rules_tz_t *have = pl_rules_tzdb_find (self, name);
    if (have) {
        if (zone_p)
            *zone_p = have;
        return 0;
    }
    pl_rules_tz_t *z = s_tzif_parse (name, data, len, self->err, sizeof self->err);
    if (!z)
        return strstr (self->err, "out of memory") ? PL_ENOMEM : PL_ECORRUPT;
    int rc = s_insert (self, z);
    if (rc) {
        s_zone_free (z);
        snprintf (self->err, sizeof self->err, "out of memory");
        return rc;
    }
    if (zone_p)
        *zone_p = z;
    return 0;
}

static int
s_read_file (const char *path, unsigned char **buf_p, size_t *len_p, char *err, size_t errlen)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        snprintf (err, errlen, "%.400s: %s", path, strerror (errno));
        return errno == ENOENT || errno == ENOTDIR ? PL_ENOTFOUND : PL_EIO;
    }
    unsigned char *buf = malloc (PL__TZ_MAX_FILE);
    if (!buf) {
        fclose (f);
        snprintf (err, errlen, "out of memory");
        return PL_ENOMEM;
    }
    size_t len = fread (buf, 1, PL__TZ_MAX_FILE, f);
    int bad = ferror (f);
    fclose (f);
    if (bad) {
        free (buf);
        snprintf (err, errlen, "%.400s: read error", path);
        return PL_EIO;
    }
    *buf_p = buf;
    *len_p = len;
    return 0;
}

int
pl_rules_tzdb_load (pl_rules_tzdb_t *self, const char *name, const pl_rules_tz_t **zone_p)
{
    if (!self)
        return PL_EINVAL;
    if (!s_valid_name (name)) {
        snprintf (self->err, sizeof self->err, "bad zone name \"%s\"", name ? name : "(null)");
        return PL_EINVAL;
    }
    const pl_rules_tz_t *have = pl_rules_tzdb_find (self, name);
    if (have) {
        if (zone_p)
            *zone_p = have;
        return 0;
    }
    char path[4096];
    int pn = snprintf (path, sizeof path, "%s/%s", self->dir, name);
    if (pn < 0 || (size_t) pn >= sizeof path) {
        snprintf (self->err, sizeof self->err, "%s: path too long", name);
        return PL_EINVAL;
    }
    struct stat st;
    if (stat (path, &st) != 0 || !S_ISREG (st.st_mode)) {
        snprintf (self->err, sizeof self->err, "%s: no such zone in %s", name, self->dir);
        return PL_ENOTFOUND;
    }
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc = s_read_file (path, &buf, &len, self->err, sizeof self->err);
    if (rc)
        return rc;
    rc = pl_rules_tzdb_load_tzif (self, name, buf, len, zone_p);
    free (buf);
    return rc;
}

static int
s_load_tree (pl_rules_tzdb_t *self, const char *rel, int depth)
{
    char path[4096];
    int pn = snprintf (path, sizeof path, "%s%s%s", self->dir, *rel ? "/" : "", rel);
    if (pn < 0 || (size_t) pn >= sizeof path)
        return 0;
    DIR *d = opendir (path);
    if (!d) {
        snprintf (self->err, sizeof self->err, "%.400s: %s", path, strerror (errno));
        return PL_EIO;
    }
    int loaded = 0;
    struct dirent *e;
    while ((e = readdir (d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (depth == 0 && (strcmp (e->d_name, "posix") == 0 || strcmp (e->d_name, "right") == 0
                           || strcmp (e->d_name, "localtime") == 0))
            continue;
        char sub[1024], full[4096];
        int n1 = snprintf (sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        int n2 = snprintf (full, sizeof full, "%s/%s", self->dir, sub);
        if (n1 < 0 || (size_t) n1 >= sizeof sub || n2 < 0 || (size_t) n2 >= sizeof full)
            continue;           /* names that long are not zones */
        struct stat st;
        if (stat (full, &st) != 0)
            continue;
        if (S_ISDIR (st.st_mode)) {
            if (depth < 4) {
                int n = s_load_tree (self, sub, depth + 1);
                if (n < 0) {
                    closedir (d);
                    return n;
                }
                loaded += n;
            }
            continue;
        }
        if (!S_ISREG (st.st_mode) || !s_valid_name (sub))
            continue;
        FILE *f = fopen (full, "rb");
        char magic[4] = { 0 };
        size_t got = f ? fread (magic, 1, 4, f) : 0;
        if (f)
            fclose (f);
        if (got != 4 || memcmp (magic, "TZif", 4) != 0)
            continue;
        int rc = pl_rules_tzdb_load (self, sub, NULL);
        if (rc == PL_ENOMEM) {
            closedir (d);
            return rc;
        }
        if (rc == 0)
            loaded++;
    }
    closedir (d);
    return loaded;
}

int
pl_rules_tzdb_load_all (pl_rules_tzdb_t *self)
{
    if (!self)
        return PL_EINVAL;
    return s_load_tree (self, "", 0);
}

size_t
pl_rules_tzdb_count (const pl_rules_tzdb_t *self)
{
    return self ? self->count : 0;
}

const char *
pl_rules_tzdb_errstr (const pl_rules_tzdb_t *self)
{
    return self ? self->err : "no database";
}
