/*  timefmt.h — the project's one RFC 3339 reader and writer, and civil-date arithmetic.
 *
 *  Every API that takes a time, every tool and every library reads it here, so that a date is
 *  valid or invalid the same way everywhere: "2026-02-30T00:00:00Z" is refused, never rolled
 *  over into March. Pure functions over the proleptic Gregorian calendar and POSIX time (no leap
 *  seconds); no allocation, no global state, safe from any thread. Lives in pl_base, which the
 *  kit, the rules engine and the phone library all link.
 */
#ifndef PL_TIMEFMT_H
#define PL_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longest text pl_time_format_rfc3339 writes, with its NUL ("-292277026-…" needs less than 40). */
#define PL_TIME_RFC3339_MAX 40

/* Reads "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)" into UTC milliseconds since 1970 in *ms.
 * The separator may also be 't' or a space and the 'Z' a 'z' (RFC 3339 §5.6); the fraction has
 * 1 to 9 digits, truncated to milliseconds. Refused with PL_EINVAL (and *ms left alone): any
 * other shape, trailing text, an impossible date (2026-02-30, 2026-04-31, 2025-02-29), hour 24,
 * minute or second 60 (leap seconds are not POSIX time), an offset beyond ±23:59. Times before
 * 1970 are valid and negative. `s` is borrowed; NULL is PL_EINVAL. */
int pl_time_parse_rfc3339 (const char *s, int64_t *ms);

/* Writes `ms` as "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC, always milliseconds) into out[size].
 * Returns the length the full text has (snprintf's contract): it was truncated if >= size. */
size_t pl_time_format_rfc3339 (int64_t ms, char *out, size_t size);

/* Days since 1970-01-01 of a civil date; exact for every year, for valid month and day. */
int64_t pl_days_from_civil (int32_t y, int m, int d);

/* The civil date of a day count since 1970-01-01. Any output pointer may be NULL. */
void pl_civil_from_days (int64_t days, int32_t *y, int *m, int *d);

/* 1 when y-m-d is a date of the proleptic Gregorian calendar, else 0 (2024-02-29 is, 2100-02-29
 * is not). */
int pl_civil_valid (int32_t y, int m, int d);

#ifdef __cplusplus
}
#endif

#endif
