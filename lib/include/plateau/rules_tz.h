/*  rules_tz.h — IANA time zones for the rules engine: a TZif reader and pure UTC <-> local time.
 *
 *  Calling rules are stated in the called person's local time, so the engine converts instants
 *  to local wall-clock time (and back) for every decision. It must be exact across daylight
 *  saving changes — the skipped hour of spring and the repeated hour of autumn — and cheap: a
 *  decision does several conversions and the engine runs at every dial.
 *
 *  A pl_rules_tzdb_t reads zones from a zoneinfo directory (the system tzdata, TZif version 2 or
 *  later, /usr/share/zoneinfo by default) when it is told to; that is the only I/O, done at
 *  start. The zone's POSIX TZ footer is expanded into plain transitions up to the year 2200, so
 *  afterwards every conversion is a binary search in memory: no setenv("TZ"), no localtime(),
 *  no global state. A loaded zone never changes and may be read from any number of threads; do
 *  the loading before sharing the database.
 *
 *  "Local seconds" below are wall-clock seconds counted from 1970-01-01 00:00:00 *local*: the
 *  UTC instant plus the zone's offset at that instant. They are what a clock on the wall of the
 *  called person shows, flattened to a number.
 */
#ifndef PL_RULES_TZ_H
#define PL_RULES_TZ_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plateau/timefmt.h"

typedef struct pl_rules_tzdb pl_rules_tzdb_t;   /* opaque: a set of loaded zones */
typedef struct pl_rules_tz pl_rules_tz_t;       /* opaque: one zone, owned by its database */

#define PL_RULES_ZONEINFO_DEFAULT "/usr/share/zoneinfo"
/* Returned by pl_rules_tz_next_local when no instant qualifies. */
#define PL_RULES_TZ_NEVER INT64_MAX

/* A new, empty database reading from zoneinfo_dir (NULL: PL_RULES_ZONEINFO_DEFAULT). The path
 * is copied. NULL only when out of memory. */
pl_rules_tzdb_t *pl_rules_tzdb_new (const char *zoneinfo_dir);
/* Destroys *self_p and every zone it loaded, and sets *self_p to NULL; safe to call twice. */
void pl_rules_tzdb_destroy (pl_rules_tzdb_t **self_p);

/* Loads zone `name` ("Europe/Paris") from the directory, or finds it if already loaded, and
 * stores it in *zone_p (may be NULL). Reads a file: call at start, not while deciding.
 * 0, or PL_EINVAL (bad name), PL_ENOTFOUND (no such file), PL_EIO, PL_ECORRUPT (not a valid
 * TZif file), PL_ENOMEM; detail in pl_rules_tzdb_errstr. */
int pl_rules_tzdb_load (pl_rules_tzdb_t *self, const char *name, const pl_rules_tz_t **zone_p);
/* Same as pl_rules_tzdb_load but from TZif bytes in memory (tests, fuzzing, embedded data). */
int pl_rules_tzdb_load_tzif (pl_rules_tzdb_t *self, const char *name, const void *data,
                             size_t len, const pl_rules_tz_t **zone_p);
/* Loads every TZif file under the directory (skipping posix/, right/ and non-TZif files).
 * Returns the number of zones loaded, or a negative PL_E* code. */
int pl_rules_tzdb_load_all (pl_rules_tzdb_t *self);
/* A zone already loaded, or NULL. No I/O; safe while deciding. */
const pl_rules_tz_t *pl_rules_tzdb_find (const pl_rules_tzdb_t *self, const char *name);
size_t pl_rules_tzdb_count (const pl_rules_tzdb_t *self);
/* Detail of the last failure ("Europe/Pariss: no such zone in /usr/share/zoneinfo"). */
const char *pl_rules_tzdb_errstr (const pl_rules_tzdb_t *self);

/* The name the zone was loaded under ("Indian/Reunion"). */
const char *pl_rules_tz_name (const pl_rules_tz_t *zone);

/* Broken-down local time. */
typedef struct {
    int32_t year;
    int month, day;             /* 1..12, 1..31 */
    int hour, minute, second;
    int wday;                   /* ISO 8601: 1 = Monday … 7 = Sunday */
    int32_t utoff;              /* seconds east of UTC in force */
    bool isdst;
    const char *abbr;           /* "CEST"; owned by the zone */
    int64_t days;               /* local date as days since 1970-01-01 */
    int32_t sod;                /* local second of the day, 0..86399 */
} pl_rules_tm_t;

/* Offset (seconds east of UTC) in force at utc_s. */
int32_t pl_rules_tz_offset (const pl_rules_tz_t *zone, int64_t utc_s);
/* Local wall-clock time at utc_s. */
void pl_rules_tz_local (const pl_rules_tz_t *zone, int64_t utc_s, pl_rules_tm_t *tm);

/* How to read a local time that happens twice (the repeated hour of autumn). */
typedef enum {
    PL_RULES_TZ_FIRST = 0,      /* the earlier instant (still in summer time) */
    PL_RULES_TZ_LAST  = 1,      /* the later instant */
} pl_rules_tz_fold_t;

/* Local seconds -> UTC seconds in *utc_s. Returns 0 when the local time occurs exactly once,
 * 1 when it occurs twice (fold picks which), 2 when it does not exist (the spring gap): then
 * *utc_s is the instant the gap ends, i.e. the first instant whose local time is later. */
int pl_rules_tz_utc (const pl_rules_tz_t *zone, int64_t local_s, pl_rules_tz_fold_t fold,
                     int64_t *utc_s);

/* The earliest UTC instant u >= from_s at which the local time lies in [local_lo, local_hi),
 * or PL_RULES_TZ_NEVER. This is the primitive behind calling windows: it is exact in the gap
 * (a window starting inside the skipped hour opens when the clocks jump) and in the repeated
 * hour (a window is open in both passes). */
int64_t pl_rules_tz_next_local (const pl_rules_tz_t *zone, int64_t from_s, int64_t local_lo,
                                int64_t local_hi);

/* Civil calendar: pl_days_from_civil / pl_civil_from_days of plateau/timefmt.h. The two names
 * below forward to them for code not yet switched (lib/audit); use the timefmt.h names. */
static inline int64_t
pl_rules_days_from_civil (int32_t year, int month, int day)
{
    return pl_days_from_civil (year, month, day);
}
static inline void
pl_rules_civil_from_days (int64_t days, int32_t *year, int *month, int *day)
{
    pl_civil_from_days (days, year, month, day);
}
/* ISO weekday of a day count: 1 = Monday … 7 = Sunday. */
int pl_rules_weekday (int64_t days);

#endif
