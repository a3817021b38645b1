/*  rules_holidays.h — public-holiday calendars for the rules engine: data plus computed dates.
 *
 *  A calendar (France's public holidays, some US states' holidays…) is a list of entries read
 *  from a `.holidays` data file beside the jurisdiction profiles. An entry is a fixed date
 *  (07-14), a date relative to Western Easter (easter+39 is Ascension), or the n-th weekday of
 *  a month (thu#4/11 is US Thanksgiving, mon#-1/05 the last Monday of May). An entry may be
 *  limited to some time zones (overseas departments: zone=Indian/Reunion), to some regions
 *  (region=FR-57,FR-67,FR-68 or region=US-AL), to a range of years, and may add its "observed"
 *  weekday when it falls on a weekend. Dates are computed for any year; nothing is tabulated.
 *
 *  Calendars are loaded and owned by a pl_rules_profiles_t (rules.h); lookups are pure.
 */
#ifndef PL_RULES_HOLIDAYS_H
#define PL_RULES_HOLIDAYS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "plateau/rules_tz.h"

typedef struct pl_rules_calendar pl_rules_calendar_t;

/* Western (Gregorian) Easter Sunday of `year` (1583..9999) in *month / *day.
 * 0, or PL_ERANGE outside those years. */
int pl_rules_easter (int32_t year, int *month, int *day);

/* Name of the holiday falling on local date `days` (days since 1970-01-01) for a person in
 * `zone` (may be NULL: zone-limited entries then never match) and in one of `regions`
 * (ISO 3166-2 codes such as "FR-974" or "US-FL"; may be empty). NULL when it is not a holiday. */
const char *pl_rules_calendar_holiday (const pl_rules_calendar_t *cal, int64_t days,
                                       const pl_rules_tz_t *zone, const char *const *regions,
                                       size_t n_regions);

typedef struct {
    int64_t days;               /* local date, days since 1970-01-01 */
    const char *name;           /* "Lundi de Pentecôte"; owned by the calendar */
    bool observed;              /* the weekday a weekend holiday is observed on */
    bool unconfirmed;           /* the source of this entry could not be confirmed */
} pl_rules_holiday_t;

/* The holidays of `year` for zone/regions, in date order. Writes at most `cap` entries and
 * returns how many there are (so a return > cap means the array was too small). */
size_t pl_rules_calendar_list (const pl_rules_calendar_t *cal, int32_t year,
                               const pl_rules_tz_t *zone, const char *const *regions,
                               size_t n_regions, pl_rules_holiday_t *out, size_t cap);

const char *pl_rules_calendar_id (const pl_rules_calendar_t *cal);      /* "fr" */
const char *pl_rules_calendar_source (const pl_rules_calendar_t *cal);
bool pl_rules_calendar_unconfirmed (const pl_rules_calendar_t *cal);

#endif
