/*  catalog.h — the national and client lists a replica answers from, and their versions.
 *
 *  The lists themselves (numbers in memory, loaders, swaps) are the lists library (lists.h).
 *  The catalog is what the service adds around it: which version of each list is in force for
 *  every replica (the hash pl:{scrub:lists}:current in Redis, one field per list), the file
 *  each version was saved to (PLATEAU_SCRUB_LISTS_DIR, shared by the replicas of a node or a
 *  volume), and the facts a decision cites: version, copy date, when loaded, hit or not.
 *  A replica that finds a newer version in Redis maps its file and swaps it in
 *  (scrub_catalog_sync, every second); a version is recorded in Redis only once its file is
 *  saved whole, so an interrupted upload never replaces the version in force.
 *
 *  Built without the lists library, the catalog is empty: every list a profile requires then
 *  reads "not screened" and the rules deny — never a number called unchecked.
 */
#ifndef SCRUB_CATALOG_H
#define SCRUB_CATALOG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "plateau/redis.h"

#define SCRUB_LIST_FACTS_MAX 16

/* One list's answer for one number, as a decision and the audit cite it. */
typedef struct {
    char name[32];
    char version[64];
    char jurisdiction[8];
    char copy_date[11];          /* YYYY-MM-DD */
    int64_t as_of_ms;            /* the copy's date, UTC midnight (or the instant for live lists) */
    int64_t loaded_at_ms;
    bool hit;
} scrub_list_fact_t;

/* What GET /v1/lists shows of one list. */
typedef struct {
    char name[32];
    char version[64];
    char jurisdiction[8];
    char copy_date[11];
    char kind[16];
    int64_t as_of_ms, loaded_at_ms;
    uint64_t size;
} scrub_list_info_t;

typedef struct scrub_catalog scrub_catalog_t;

/* dir: where versions are saved (NULL: none, loads refused). */
scrub_catalog_t *scrub_catalog_new (const char *dir);
void scrub_catalog_destroy (scrub_catalog_t **self_p);

/* True when built with the lists library (loads possible). */
bool scrub_catalog_can_load (const scrub_catalog_t *self);

/* Every list's answer for e164: fills up to cap, returns how many lists there are.
 * consent_ms: the oldest consent relied on (rnd), 0 when none. Thread-safe. */
size_t scrub_catalog_lookup (scrub_catalog_t *self, const char *e164, int64_t consent_ms,
                             scrub_list_fact_t *out, size_t cap);

/* The lists in force: fills up to cap, returns how many. Thread-safe. */
size_t scrub_catalog_list (scrub_catalog_t *self, scrub_list_info_t *out, size_t cap);

/* Brings this replica up to the versions recorded in Redis. 0, or a negative PL_E* code. */
int scrub_catalog_sync (scrub_catalog_t *self, pl_redis_t *redis, char *err, size_t err_size);

/* A list load (PUT /v1/lists/{name}): the body spooled at `path`. */
typedef struct {
    const char *name, *jurisdiction, *format, *mode, *bad_lines, *csv_column, *default_region;
    int64_t taken_ms, now_ms;
} scrub_catalog_load_t;
typedef struct scrub_catalog_report scrub_catalog_report_t;

#endif
