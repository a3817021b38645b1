/*  tz_prefixes.h — the generated number prefix → time-zone table (tz_prefixes.c).
 *
 *  Internal to lib/phone. The table is written by scripts/gen-tz-prefixes.py; see the top of
 *  tz_prefixes.c for how to regenerate it.
 */
#ifndef PL_TZ_PREFIXES_H
#define PL_TZ_PREFIXES_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char prefix[16];            /* digits, NUL-terminated */
    uint16_t first;             /* first entry in pl__tz_zone_lists */
    uint16_t count;             /* number of zones */
} pl__tz_prefix_t;

extern const char *const pl__tz_zone_names[];
extern const size_t pl__tz_zone_name_count;
extern const uint16_t pl__tz_zone_lists[];
extern const pl__tz_prefix_t pl__tz_prefixes[];     /* sorted by prefix (strcmp) */
extern const size_t pl__tz_prefix_count;
extern const size_t pl__tz_prefix_longest;

#endif
