/*  localtime.c — UTC to a callee's local time for audit stories (see localtime.h), on the
 *  rules engine's zone database: one TZif reader in the project, the one whose conversions the
 *  calling rules use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plateau/error.h"
#include "plateau/rules_tz.h"
#include "plateau/timefmt.h"
#include "localtime.h"

struct pl_audit_tzcache {
    pl_rules_tzdb_t *db;
};

pl_audit_tzcache_t *
pl_audit_tzcache_new (const char *zoneinfo_dir)
{
    pl_audit_tzcache_t *self = calloc (1, sizeof *self);
    if (self && !(self->db = pl_rules_tzdb_new (zoneinfo_dir))) {
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
    pl_rules_tzdb_destroy (&(*self_p)->db);
    free (*self_p);
    *self_p = NULL;
}

static int64_t
s_floor_div (int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int
s_tz_offset (pl_audit_tzcache_t *self, const char *zone, int64_t utc_ms,
             int32_t *offset_s, char abbr[16])
{
    if (!zone || !*zone)
        return PL_EINVAL;
    const pl_rules_tz_t *z = pl_rules_tzdb_find (self->db, zone);
    if (!z) {
        int rc = pl_rules_tzdb_load (self->db, zone, &z);
        if (rc != 0)
            return rc;
    }
    pl_rules_tm_t tm;
    pl_rules_tz_local (z, s_floor_div (utc_ms, 1000), &tm);
    *offset_s = tm.utoff;
    snprintf (abbr, 16, "%s", tm.abbr ? tm.abbr : "");
    return 0;
}

static void
s_format (int64_t local_ms, const char *suffix, char *out, unsigned size)
{
    static const char *wd[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
    int64_t secs = s_floor_div (local_ms, 1000);
    int64_t days = s_floor_div (secs, 86400);
    int64_t sod = secs - days * 86400;
    int32_t y;
    int m, d;
    pl_civil_from_days (days, &y, &m, &d);
    snprintf (out, size, "%04d-%02d-%02d %s %02d:%02d:%02d %s", (int) y, m, d,
              wd[pl_rules_weekday (days) - 1], (int) (sod / 3600), (int) (sod / 60 % 60),
              (int) (sod % 60), suffix);
}

char *
pl_audit_tz_format (pl_audit_tzcache_t *self, const char *zone, int64_t utc_ms, char *out,
                    unsigned size)
{
    int32_t off;
    char abbr[16];
    if (zone && zone[0] && s_tz_offset (self, zone, utc_ms, &off, abbr) == 0) {
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
