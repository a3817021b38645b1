/*  tz.c — a TZif reader with POSIX TZ footers, for rendering local times (see tz.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "plateau/error.h"
#include "tz.h"

typedef struct {
    int32_t off;
    bool dst;
    char abbr[16];
} s_type_t;

typedef struct {
    int month, week, wday;      /* Mm.w.d */
    int32_t time;               /* seconds after local midnight */
} s_rule_t;

typedef struct {
    bool valid, has_dst;
    s_type_t std, dst;
    s_rule_t start, end;
} s_posix_t;

typedef struct s_zone {
    struct s_zone *next;
    char *name;
    int rc;                     /* 0, or why it could not be read (remembered) */
    int64_t *times;
    uint8_t *idx;
    size_t n;
    s_type_t *types;
    size_t nt;
    s_posix_t posix;
} s_zone_t;

struct pl_audit_tzcache {
    char *dir;
    s_zone_t *zones;
};

pl_audit_tzcache_t *
pl_audit_tzcache_new (const char *zoneinfo_dir)
{
    pl_audit_tzcache_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->dir = strdup (zoneinfo_dir ? zoneinfo_dir : "/usr/share/zoneinfo");
    if (!self->dir) {
        free (self);
        return NULL;
    }
    return self;
}

void
pl_audit_tzcache_destroy (pl_audit_tzcache_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_zone_t *z = (*self_p)->zones;
    while (z) {
        s_zone_t *next = z->next;
        free (z->name);
        free (z->times);
        free (z->idx);
        free (z->types);
        free (z);
        z = next;
    }
    free ((*self_p)->dir);
    free (*self_p);
    *self_p = NULL;
}

static int64_t
s_days_from_civil (int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void
s_civil_from_days (int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int) (doy - (153 * mp + 2) / 5 + 1);
    *m = (int) (mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int64_t
s_floor_div (int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && ((a < 0) != (b < 0)));
}

/* ---- POSIX TZ strings ("CET-1CEST,M3.5.0,M10.5.0/3") ---------------------------------- */

static bool
s_parse_abbr (const char **p, char out[16])
{
    const char *s = *p;
    size_t n = 0;
    if (*s == '<') {
        s++;
        while (*s && *s != '>' && n < 15)
            out[n++] = *s++;
        if (*s != '>')
            return false;
        s++;
    } else
        while (isalpha ((unsigned char) *s) && n < 15)
            out[n++] = *s++;
    out[n] = '\0';
    *p = s;
    return n >= 3;
}

/* [+-]hh[:mm[:ss]] in seconds. */
static bool
s_parse_hms (const char **p, int32_t *out)
{
    const char *s = *p;
    int sign = 1;
    if (*s == '+' || *s == '-')
        sign = *s++ == '-' ? -1 : 1;
    if (!isdigit ((unsigned char) *s))
        return false;
    int32_t v[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        if (i && *s != ':')
            break;
        if (i)
            s++;
        if (!isdigit ((unsigned char) *s))
            return false;
        while (isdigit ((unsigned char) *s))
            v[i] = v[i] * 10 + (*s++ - '0');
    }
    *out = sign * (v[0] * 3600 + v[1] * 60 + v[2]);
    *p = s;
    return true;
}

static bool
s_parse_rule (const char **p, s_rule_t *r)
{
    const char *s = *p;
    if (*s++ != 'M')
        return false;               /* Jn and n forms are not used by current zones */
    char *end;
    r->month = (int) strtol (s, &end, 10);
    if (*end != '.')
        return false;
    r->week = (int) strtol (end + 1, &end, 10);
    if (*end != '.')
        return false;
    r->wday = (int) strtol (end + 1, &end, 10);
    s = end;
    r->time = 7200;
    if (*s == '/') {
        s++;
        if (!s_parse_hms (&s, &r->time))
            return false;
    }
    *p = s;
    return r->month >= 1 && r->month <= 12 && r->week >= 1 && r->week <= 5 && r->wday >= 0
        && r->wday <= 6;
}

static void
s_parse_posix (const char *s, s_posix_t *px)
{
    memset (px, 0, sizeof *px);
    int32_t off;
    if (!s_parse_abbr (&s, px->std.abbr) || !s_parse_hms (&s, &off))
        return;
    px->std.off = -off;             /* POSIX counts west of Greenwich as positive */
    if (!*s) {
        px->valid = true;
        return;
    }
    if (!s_parse_abbr (&s, px->dst.abbr))
        return;
    px->dst.off = px->std.off + 3600;
    px->dst.dst = true;
    if (*s && *s != ',') {
        if (!s_parse_hms (&s, &off))
            return;
        px->dst.off = -off;
    }
    if (*s++ != ',' || !s_parse_rule (&s, &px->start) || *s++ != ','
        || !s_parse_rule (&s, &px->end) || *s)
        return;
    px->has_dst = true;
    px->valid = true;
}

/* The local day (days since epoch) a rule falls on in `year`. */
static int64_t
s_rule_day (const s_rule_t *r, int64_t year)
{
    int64_t first = s_days_from_civil (year, r->month, 1);
    int wd_first = (int) ((first % 7 + 11) % 7);            /* 1970-01-01 was a Thursday (4) */
    int day = 1 + (r->wday - wd_first + 7) % 7 + (r->week - 1) * 7;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int dim = mdays[r->month - 1]
            + (r->month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0));
    while (day > dim)
        day -= 7;
    return first + day - 1;
}

static const s_type_t *
s_posix_type (const s_posix_t *px, int64_t t)
{
    if (!px->has_dst)
        return &px->std;
    int64_t y;
    int m, d;
    s_civil_from_days (s_floor_div (t + px->std.off, 86400), &y, &m, &d);
    int64_t start = s_rule_day (&px->start, y) * 86400 + px->start.time - px->std.off;
    int64_t end = s_rule_day (&px->end, y) * 86400 + px->end.time - px->dst.off;
    bool in_dst = start < end ? (t >= start && t < end) : (t < end || t >= start);
    return in_dst ? &px->dst : &px->std;
}

/* ---- TZif ------------------------------------------------------------------------------ */

static uint32_t
s_be32 (const uint8_t *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3];
}

static int64_t
s_be64 (const uint8_t *p)
{
    return (int64_t) (((uint64_t) s_be32 (p) << 32) | s_be32 (p + 4));
}

static int
s_parse_tzif (s_zone_t *z, const uint8_t *b, size_t len)
{
    if (len < 44 || memcmp (b, "TZif", 4) != 0 || b[4] < '2')
        return PL_ECORRUPT;
    /* Skip the version 1 block (32-bit times) to the version 2 header. */
    uint32_t c[6];
    for (int i = 0; i < 6; i++)
        c[i] = s_be32 (b + 20 + 4 * i);
    size_t skip = 44 + (size_t) c[3] * 5 + (size_t) c[4] * 6 + c[5] + (size_t) c[2] * 8 + c[1] + c[0];
    if (skip + 44 > len)
        return PL_ECORRUPT;
    const uint8_t *h = b + skip;
    if (memcmp (h, "TZif", 4) != 0)
        return PL_ECORRUPT;
    for (int i = 0; i < 6; i++)
        c[i] = s_be32 (h + 20 + 4 * i);
    uint32_t isut = c[0], isstd = c[1], leap = c[2], timecnt = c[3], typecnt = c[4], charcnt = c[5];
    const uint8_t *p = h + 44;
    size_t need = (size_t) timecnt * 9 + (size_t) typecnt * 6 + charcnt + (size_t) leap * 12 + isstd + isut;
    if (typecnt == 0 || (size_t) (p - b) + need > len)
        return PL_ECORRUPT;
    z->n = timecnt;
    z->nt = typecnt;
    z->times = malloc ((timecnt ? timecnt : 1) * sizeof *z->times);
    z->idx = malloc (timecnt ? timecnt : 1);
    z->types = calloc (typecnt, sizeof *z->types);
    if (!z->times || !z->idx || !z->types)
        return PL_ENOMEM;
    for (uint32_t i = 0; i < timecnt; i++)
        z->times[i] = s_be64 (p + 8 * i);
    p += 8 * (size_t) timecnt;
    for (uint32_t i = 0; i < timecnt; i++) {
        z->idx[i] = p[i];
        if (p[i] >= typecnt)
            return PL_ECORRUPT;
    }
    p += timecnt;
    const uint8_t *chars = p + 6 * (size_t) typecnt;
    for (uint32_t i = 0; i < typecnt; i++) {
        z->types[i].off = (int32_t) s_be32 (p + 6 * i);
        z->types[i].dst = p[6 * i + 4] != 0;
        uint8_t ai = p[6 * i + 5];
        if (ai < charcnt)
            snprintf (z->types[i].abbr, sizeof z->types[i].abbr, "%.*s", (int) (charcnt - ai),
                      (const char *) chars + ai);
    }
    p = chars + charcnt + (size_t) leap * 12 + isstd + isut;
    /* Footer: "\n<POSIX TZ>\n". */
    if ((size_t) (p - b) < len && *p == '\n') {
        const uint8_t *e = memchr (p + 1, '\n', len - (size_t) (p - b) - 1);
        if (e) {
            char tz[128];
            snprintf (tz, sizeof tz, "%.*s", (int) (e - p - 1), (const char *) p + 1);
            s_parse_posix (tz, &z->posix);
        }
    }
    return 0;
}

static bool
s_zone_name_ok (const char *name)
{
    size_t n = strlen (name);
    if (n == 0 || n > 64 || name[0] == '/' || strstr (name, ".."))
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!(isalnum ((unsigned char) ch) || ch == '/' || ch == '_' || ch == '-' || ch == '+'))
            return false;
    }
    return true;
}

static s_zone_t *
s_load (pl_audit_tzcache_t *self, const char *name)
{
    for (s_zone_t *z = self->zones; z; z = z->next)
        if (strcmp (z->name, name) == 0)
            return z;
    s_zone_t *z = calloc (1, sizeof *z);
    if (!z)
        return NULL;
    z->name = strdup (name);
    if (!z->name) {
        free (z);
        return NULL;
    }
    z->next = self->zones;
    self->zones = z;
    char path[4096];
    snprintf (path, sizeof path, "%s/%s", self->dir, name);
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        z->rc = PL_ENOTFOUND;
        return z;
    }
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc (cap);
    ssize_t r = 0;
    while (buf && len < (1u << 20)) {
        if (len == cap) {
            uint8_t *nb = realloc (buf, cap * 2);
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
        r = read (fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t) r;
    }
    close (fd);
    z->rc = buf && r == 0 ? s_parse_tzif (z, buf, len) : PL_EIO;
    free (buf);
    return z;
}

int
pl_audit_tz_offset (pl_audit_tzcache_t *self, const char *zone, int64_t utc_ms,
                    int32_t *offset_s, char abbr[16])
{
    if (!zone || !s_zone_name_ok (zone))
        return PL_EINVAL;
    s_zone_t *z = s_load (self, zone);
    if (!z)
        return PL_ENOMEM;
    if (z->rc)
        return z->rc;
    int64_t t = s_floor_div (utc_ms, 1000);
    const s_type_t *ty;
    if (z->n == 0 || t < z->times[0]) {
        ty = &z->types[0];
        for (size_t i = 0; i < z->nt; i++)
            if (!z->types[i].dst) {
                ty = &z->types[i];
                break;
            }
        if (z->n == 0 && z->posix.valid)
            ty = s_posix_type (&z->posix, t);
    } else if (t >= z->times[z->n - 1] && z->posix.valid)
        ty = s_posix_type (&z->posix, t);
    else {
        size_t lo = 0, hi = z->n;           /* last transition <= t */
        while (hi - lo > 1) {
            size_t mid = (lo + hi) / 2;
            if (z->times[mid] <= t)
                lo = mid;
            else
                hi = mid;
        }
        ty = &z->types[z->idx[lo]];
    }
    *offset_s = ty->off;
    snprintf (abbr, 16, "%s", ty->abbr);
    return 0;
}

static void
s_format (int64_t local_ms, const char *suffix, char *out, unsigned size)
{
    static const char *wd[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    int64_t secs = s_floor_div (local_ms, 1000);
    int64_t days = s_floor_div (secs, 86400);
    int64_t sod = secs - days * 86400;
    int64_t y;
    int m, d;
    s_civil_from_days (days, &y, &m, &d);
    int w = (int) (((days % 7) + 7 + 3) % 7);              /* 1970-01-01: Thursday */
    snprintf (out, size, "%04lld-%02d-%02d %s %02d:%02d:%02d %s", (long long) y, m, d, wd[w],
              (int) (sod / 3600), (int) (sod / 60 % 60), (int) (sod % 60), suffix);
}

char *
pl_audit_tz_format (pl_audit_tzcache_t *self, const char *zone, int64_t utc_ms, char *out,
                    unsigned size)
{
    int32_t off;
    char abbr[16];
    if (zone && zone[0] && pl_audit_tz_offset (self, zone, utc_ms, &off, abbr) == 0) {
        char label[24];
        if (!abbr[0])
            snprintf (label, sizeof label, "UTC%+d", off / 3600);
        else if (abbr[0] == '+' || abbr[0] == '-')
            snprintf (label, sizeof label, "UTC%s", abbr);          /* "+03" zones */
        else
            snprintf (label, sizeof label, "%s", abbr);
        s_format (utc_ms + (int64_t) off * 1000, label, out, size);
        return out;
    }
    s_format (utc_ms, "UTC", out, size);
    return out;
}

char *
pl_audit_iso_utc (int64_t utc_ms, char *out, unsigned size)
{
    int64_t secs = s_floor_div (utc_ms, 1000);
    int ms = (int) (utc_ms - secs * 1000);
    int64_t days = s_floor_div (secs, 86400);
    int64_t sod = secs - days * 86400;
    int64_t y;
    int m, d;
    s_civil_from_days (days, &y, &m, &d);
    snprintf (out, size, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long) y, m, d,
              (int) (sod / 3600), (int) (sod / 60 % 60), (int) (sod % 60), ms);
    return out;
}
