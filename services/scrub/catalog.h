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
 *  Old version files are deleted by the sync (scrub_catalog_retain): per list, the version in
 *  force and the latest `keep - 1` others stay; older ones go once out of force for the grace.
 *
 *  Built without the lists library, the catalog is empty: every list a profile requires then
 *  reads "not screened" and the rules deny — never a number called unchecked.
 */
#ifndef SCRUB_CATALOG_H
#define SCRUB_CATALOG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "plateau/clock.h"
#include "plateau/inbox.h"
#include "plateau/log.h"
#include "plateau/metrics.h"
#include "plateau/outbox.h"
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

/* Brings this replica up to the versions recorded in Redis. 0, or a negative PL_E* code.
 * Also sweeps the lists directory (see scrub_catalog_retain) once a minute, after a new
 * version, and when a file held only by its grace may go. */
int scrub_catalog_sync (scrub_catalog_t *self, pl_redis_t *redis, char *err, size_t err_size);

/* Retention of the lists directory (PLATEAU_SCRUB_LISTS_KEEP, PLATEAU_SCRUB_LISTS_GRACE).
 * Per list in force in Redis, its file and the `keep - 1` most recently saved other versions
 * stay; an older version file is deleted once the list's file in force has been so for
 * grace_ms (a replica still mapping the older one has swapped long before). Never deleted: a file in
 * force in Redis or on this replica, a list's files while no version of it is in force, and
 * any file not named as the catalog names versions. A load's leftovers (spool, save) go once
 * untouched for grace_ms and at least a minute. Registers
 * plateau_scrub_list_files_deleted_total and plateau_scrub_lists_dir_bytes; metrics and log
 * may be NULL. Until called: keep 2, grace 10 minutes, no metrics. keep >= 1, grace_ms >= 0. */
void scrub_catalog_retain (scrub_catalog_t *self, int keep, int64_t grace_ms, pl_metrics_t *metrics, pl_log_t *log);

/* A list load (PUT /v1/lists/{name}): the body spooled whole at `path`, checked already. */
typedef struct {
    const char *name;            /* "us-dnc", "client:acme" */
    const char *jurisdiction;    /* "US", "FR", "GB" */
    const char *format;          /* "us-dnc", "tps", "bloctel", "lines", "csv", "rnd"; NULL: the list's */
    const char *mode;            /* "full" (NULL), "delta" (",A"/",D" lines), "add", "delete" */
    const char *bad_lines;       /* "refuse" (NULL) or "apply" */
    const char *csv_column;      /* csv: the numbers' column */
    const char *digest;          /* SHA-256 hex of the file as uploaded */
    const char *actor;           /* the operator */
    int64_t taken_ms;
} scrub_catalog_load_t;

/* Loads the spooled file as a new version of its list, saves it beside the others, records it
 * in Redis with its list.loaded audit event (one step), and swaps it in on this replica; the
 * others follow within a second. *report (a JSON object: version, counts, bad lines as
 * {line, reason}) is set whatever happens, NULL only when out of memory. 0; PL_EINVAL when the
 * file is refused (bad lines, empty, a delta with no version in force: the report says which);
 * PL_EIO, PL_EREDIS, PL_ENOMEM otherwise (err says why). The version in force changes only on 0. */
int scrub_catalog_load (scrub_catalog_t *self, pl_redis_t *redis, pl_inbox_t *inbox,
                        const pl_outbox_t *audit, const char *service, const pl_clock_t *clock,
                        const scrub_catalog_load_t *req, const char *path, json_t **report,
                        char *err, size_t err_size);

#endif
