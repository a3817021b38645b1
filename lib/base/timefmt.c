/*  timefmt.c — RFC 3339 times and civil dates (see plateau/timefmt.h).
 *
 *  The civil conversions are Howard Hinnant's days_from_civil / civil_from_days, exact for any
 *  proleptic Gregorian year with 64-bit day counts. The parser checks the day against the month
 *  before converting, because the conversion itself happily maps 2026-02-30 onto 2 March.
 */
#include "plateau/timefmt.h"
#include "plateau/error.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

#define S_DAY_MS INT64_C(86400000)

int64_t
pl_days_from_civil (int32_t year, int month, int day)
{
    int64_t y = (int64_t) year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = month > 2 ? month - 3 : month + 9;
    int64_t doy = (153 * mp + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void
pl_civil_from_days (int64_t days, int32_t *year, int *month, int *day)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int) (doy - (153 * mp + 2) / 5 + 1);
    int m = (int) (mp < 10 ? mp + 3 : mp - 9);
    if (year)
        *year = (int32_t) (y + (m <= 2));
    if (month)
        *month = m;
    if (day)
        *day = d;
}

int
pl_civil_valid (int32_t y, int m, int d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1)
        return 0;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= mdays[m - 1] + (m == 2 && leap);
}

/* Reads exactly `n` ASCII digits at s. */
static bool
s_digits (const char *s, int n, int *value)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *value = v;
    return true;
}

int
pl_time_parse_rfc3339 (const char *t, int64_t *ms)
{
    int Y, M, D, h, m, s;
    if (!t || !ms)
        return PL_EINVAL;
    /* Each check reads only up to the first mismatch, so a short string stops at its NUL. */
    if (!s_digits (t, 4, &Y) || t[4] != '-' || !s_digits (t + 5, 2, &M) || t[7] != '-'
        || !s_digits (t + 8, 2, &D) || (t[10] != 'T' && t[10] != 't' && t[10] != ' ')
        || !s_digits (t + 11, 2, &h) || t[13] != ':' || !s_digits (t + 14, 2, &m) || t[16] != ':'
        || !s_digits (t + 17, 2, &s))
        return PL_EINVAL;
    if (!pl_civil_valid (Y, M, D) || h > 23 || m > 59 || s > 59)
        return PL_EINVAL;
    const char *p = t + 19;
    int frac_ms = 0;
    if (*p == '.') {
        p++;
        int n = 0;
        for (; *p >= '0' && *p <= '9'; p++, n++)
            if (n < 3)
                frac_ms = frac_ms * 10 + (*p - '0');
        if (n == 0 || n > 9)
            return PL_EINVAL;
        for (; n < 3; n++)
            frac_ms *= 10;
    }
    int offset_min = 0;
    if (*p == 'Z' || *p == 'z')
        p++;
    else if (*p == '+' || *p == '-') {
        int oh, om;
        if (!s_digits (p + 1, 2, &oh) || p[3] != ':' || !s_digits (p + 4, 2, &om) || oh > 23
            || om > 59)
            return PL_EINVAL;
        offset_min = (oh * 60 + om) * (*p == '-' ? -1 : 1);
        p += 6;
    }
    else
        return PL_EINVAL;
    if (*p)
        return PL_EINVAL;
    int64_t secs = pl_days_from_civil (Y, M, D) * 86400 + h * 3600 + m * 60 + s
                   - (int64_t) offset_min * 60;
    *ms = secs * 1000 + frac_ms;
    return 0;
}

size_t
pl_time_format_rfc3339 (int64_t ms, char *out, size_t size)
{
    /* Floor division, so that instants before 1970 print as the day they fall in. */
    int64_t days = ms / S_DAY_MS, rem = ms % S_DAY_MS;
    if (rem < 0) {
        rem += S_DAY_MS;
        days--;
    }
    int32_t y;
    int mo, d;
    pl_civil_from_days (days, &y, &mo, &d);
    int n = snprintf (out, size, "%04" PRId32 "-%02d-%02dT%02d:%02d:%02d.%03dZ", y, mo, d,
                      (int) (rem / 3600000), (int) (rem / 60000 % 60), (int) (rem / 1000 % 60),
                      (int) (rem % 1000));
    return n < 0 ? 0 : (size_t) n;
}
