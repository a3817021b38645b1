/*  localtime.h — UTC to a callee's local time, for the stories people read.
 *
 *  `audit why` tells what happened to a number in the callee's own time ("Tue 2026-03-03 20:58
 *  CET, Europe/Paris"), because that is the time the calling rules speak of. Zones are read
 *  through the rules engine's database (plateau/rules_tz.h), so a story shows exactly the local
 *  time the rules decided on. No setenv("TZ") and no localtime(): a reader may run in a service
 *  thread beside others.
 */
#ifndef PL_AUDIT_LOCALTIME_H
#define PL_AUDIT_LOCALTIME_H
#include <stdint.h>

typedef struct pl_audit_tzcache pl_audit_tzcache_t;

/* A cache of zones read from zoneinfo_dir (NULL: /usr/share/zoneinfo). NULL on allocation
 * failure. Not thread-safe: one per thread or per request. */
pl_audit_tzcache_t *pl_audit_tzcache_new (const char *zoneinfo_dir);
void pl_audit_tzcache_destroy (pl_audit_tzcache_t **self_p);


/* "2026-03-03 Tue 20:58:07 CET" for utc_ms in zone (UTC when zone is NULL, "" or unknown;
 * then the text ends in "UTC"). Writes at most size bytes; returns out. */
char *pl_audit_tz_format (pl_audit_tzcache_t *self, const char *zone, int64_t utc_ms, char *out,
                          unsigned size);

#endif
