/*  lists.h — suppression lists in memory: immutable versions, their loaders, and the set of
 *  lists a scrub replica answers from.
 *
 *  A list is named in the rules engine's vocabulary ("us-dnc", "bloctel", "tps", "ctps",
 *  "internal-dnc", "litigator", "rnd", a client's or a campaign's list), has a kind, belongs to
 *  a jurisdiction, and comes in **versions**: one version is one copy of the registry, named by
 *  the date the copy was taken. A version is immutable once built. It holds
 *    - its numbers, in the compact set of numset.h;
 *    - wildcard blocks: whole prefixes ("+1900" matches every number that starts with it);
 *    - for `rnd`, each number's permanent-disconnect date (a hit means "disconnected on that
 *      day", and the rules compare it with the consent's date);
 *    - for answer lists such as Bloctel's returned file, which only speak about the numbers
 *      that were submitted, the numbers found clear as well: a number in neither is *unknown*,
 *      never silently clean.
 *
 *  Loading. scrub_list_load_file() reads a file in one of the formats registries hand out
 *  (scrub_format_t) and builds a new version, either from the file alone (a full copy) or by
 *  applying the file's additions and deletions to a base version (a change list). Every bad
 *  line is reported with its line number and reason (scrub_load_report_t); the caller chooses,
 *  explicitly, whether the good lines are applied or the whole version refused. A file whose
 *  last line has no newline is taken as cut short and that line is reported. Whatever happens,
 *  loading never touches the set in force: a version only replaces another through
 *  scrub_lists_swap(), so an interrupted or refused load changes nothing.
 *
 *  Sharing. A version is built once and saved (scrub_list_save(), written to a temporary file,
 *  synced and renamed into place); other replicas map the file (scrub_list_map()), which is
 *  checked (sizes, offsets, checksum) and then read in place: the page cache holds one copy
 *  for every replica on the node.
 *
 *  Swapping. A scrub_lists_t holds the current version of each list as one immutable
 *  snapshot behind an atomic pointer. Readers enter a read-side section (two atomic operations
 *  on a per-thread counter), take the snapshot, answer, and leave; scrub_lists_swap() publishes
 *  a new snapshot, waits for the readers that could have seen the old one to leave (a grace
 *  period, as in sleepable RCU), then drops it. Every answer — and every batch of answers —
 *  comes from exactly one snapshot: never a failed lookup, never a mix of two versions.
 *
 *  Thread safety: versions are immutable and reference-counted (scrub_list_ref /
 *  scrub_list_destroy from any thread). Lookups on a scrub_lists_t are safe from any number of
 *  threads during swaps; swaps are serialised inside. A scrub_load_report_t belongs to one
 *  thread.
 */
#ifndef SCRUB_LISTS_H
#define SCRUB_LISTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plateau/rules.h"

#define SCRUB_LIST_NAME_MAX 32          /* "us-dnc", "client:acme", with its NUL */
#define SCRUB_LIST_VERSION_MAX 64       /* "us-dnc@2026-05-04", with its NUL */
#define SCRUB_JURISDICTION_MAX 8        /* "US", "FR", "GB", "" for none */
#define SCRUB_E164_MAX 17               /* "+" and 15 digits, with its NUL */

typedef struct scrub_list scrub_list_t;                 /* one immutable version */
typedef struct scrub_lists scrub_lists_t;               /* the current version of each list */
typedef struct scrub_load_report scrub_load_report_t;   /* bad lines and counts of a load */

typedef enum {
    SCRUB_LIST_NATIONAL = 0,    /* a national registry: us-dnc, bloctel, tps, ctps */
    SCRUB_LIST_INTERNAL,        /* the company's own opt-outs (internal-dnc) */
    SCRUB_LIST_LITIGATOR,
    SCRUB_LIST_REASSIGNED,      /* rnd: numbers with their permanent-disconnect date */
    SCRUB_LIST_CLIENT,          /* a client's suppression list */
    SCRUB_LIST_CAMPAIGN,        /* a campaign's suppression list */
} scrub_list_kind_t;

typedef enum {
    /* The US registry's area-code files: "AAA,NNNNNNN" per line (NANP national form, read
     * directly without libphonenumber); change lists add a third field A or D (see
     * SCRUB_LOAD_CHANGES). */
    SCRUB_FORMAT_US_DNC = 0,
    /* UK TPS / CTPS: one national number per record, trunk 0 included, 12 characters padded
     * with spaces, with or without a space after the dialling code ("0207 3787244",
     * "01635506160 "), CRLF. Full files and daily change files share the layout. */
    SCRUB_FORMAT_TPS,
    /* Bloctel's returned file (assumed layout, see docs/adr/0040): ';'-separated, the number
     * first (French national "0XXXXXXXXX", "33…" or "+33…"), then a status: 1/O/OUI/INSCRIT
     * (registered: a hit) or 0/N/NON/NON INSCRIT (checked and clear). A file of numbers alone
     * lists registered numbers. A first line that is not a number is a header. */
    SCRUB_FORMAT_BLOCTEL,
    /* One number per line, E.164 or national in the default region; "+CC…*" is a wildcard
     * block; blank lines and lines starting with '#' are skipped. */
    SCRUB_FORMAT_LINES,
    /* CSV with a header row; the numbers are in the column named by `csv_column` (case
     * insensitive). The delimiter is the first of ',', ';', TAB found in the header; fields
     * may be quoted ("" escapes a quote). Cells as in SCRUB_FORMAT_LINES. */
    SCRUB_FORMAT_CSV,
    /* Reassigned numbers: "number,date" per line; number E.164 or NANP national (10 digits,
     * read directly), date YYYY-MM-DD or YYYYMMDD, the permanent-disconnect day (UTC). A
     * number given twice keeps its latest date. A first line that is not a number is a
     * header. */
    SCRUB_FORMAT_RND,
} scrub_format_t;

typedef enum {
    SCRUB_LOAD_FULL = 0,        /* the file is the whole list */
    SCRUB_LOAD_ADD,             /* the file's numbers are added to the base version */
    SCRUB_LOAD_DELETE,          /* the file's numbers are removed from the base version */
    SCRUB_LOAD_CHANGES,         /* each line ends with ",A" (added) or ",D" (deleted); not for
                                   CSV. A number both added and deleted in one file is deleted. */
} scrub_load_mode_t;

typedef enum {
    SCRUB_BAD_LINES_REFUSE = 0, /* any bad line refuses the whole version (the default) */
    SCRUB_BAD_LINES_SKIP,       /* bad lines are reported, the good ones applied */
} scrub_bad_lines_t;

typedef struct {
    const char *name;               /* "us-dnc", …; required */
    scrub_list_kind_t kind;
    const char *jurisdiction;       /* "US", "FR", "GB"…; may be NULL */
    int64_t taken_ms;               /* when the registry copy was taken (UTC ms); required */
    const char *version;            /* the version id; NULL: "<name>@<YYYY-MM-DD of taken>" */
    scrub_format_t format;
    scrub_load_mode_t mode;
    const char *default_region;     /* national numbers in LINES, CSV ("FR", "GB", "US"); TPS
                                       is always GB, BLOCTEL FR, US_DNC and RND US */
    const char *csv_column;         /* CSV: the header of the numbers' column */
    scrub_bad_lines_t bad_lines;    /* the caller's explicit choice */
    bool allow_empty;               /* a full load with no number is refused unless set */
} scrub_load_options_t;

/* ------------------------------------------------------------------------------------------- */
/* Load reports                                                                                 */

/* Returns a new report that keeps the first `max_kept` bad lines (all are counted; 0 means
 * 1000), or NULL when out of memory. Reuse it for several loads: each load resets it. */
scrub_load_report_t *scrub_load_report_new (size_t max_kept);
void scrub_load_report_destroy (scrub_load_report_t **self_p);

uint64_t scrub_load_report_lines (const scrub_load_report_t *self);    /* lines read */
uint64_t scrub_load_report_good (const scrub_load_report_t *self);     /* numbers and blocks */
uint64_t scrub_load_report_bad (const scrub_load_report_t *self);      /* every bad line */
/* Bad lines kept: min(bad, max_kept). */
size_t scrub_load_report_kept (const scrub_load_report_t *self);
/* The i-th bad line kept: its 1-based line number, and a static reason ("not a valid GB
 * number: too short"). 0, or PL_ERANGE. */
int scrub_load_report_bad_line (const scrub_load_report_t *self, size_t i, uint64_t *line,
                                const char **reason);
/* Detail of the last failure of the load ("3 bad lines; refused as asked"). */
const char *scrub_load_report_errstr (const scrub_load_report_t *self);

/* ------------------------------------------------------------------------------------------- */
/* Versions                                                                                     */

/* Builds a new version from the file at `path`. `base` (borrowed; may be NULL for a full load,
 * required otherwise) is the version a change list applies to; it must be of the same list.
 * `report` (required) is reset and filled. On success *out is a new version (drop it with
 * scrub_list_destroy) and returns 0. On failure *out is NULL and returns PL_EINVAL (bad lines
 * refused, an empty full load, options that do not fit), PL_EIO (the file could not be read to
 * its end), PL_ETOOBIG, or PL_ENOMEM; the report says why. */
int scrub_list_load_file (const scrub_load_options_t *opts, const char *path,
                          const scrub_list_t *base, scrub_load_report_t *report,
                          scrub_list_t **out);

/* The same from `len` bytes in memory (for callers that already hold the body). */
int scrub_list_load_mem (const scrub_load_options_t *opts, const void *data, size_t len,
                         const scrub_list_t *base, scrub_load_report_t *report,
                         scrub_list_t **out);

/* Builds a new version of the list `opts` describes (name, kind, jurisdiction, taken_ms,
 * version; the format and mode are not used) from `n` keys of numset.h (any order, duplicates
 * allowed; borrowed) — for numbers that come from elsewhere than a file, such as a cache of
 * Redis's opt-outs. 0, PL_EINVAL (a key out of range, bad options), PL_ETOOBIG or PL_ENOMEM. */
int scrub_list_from_keys (const scrub_load_options_t *opts, const uint64_t *keys, size_t n,
                          scrub_list_t **out);

/* Writes `self` to `path` atomically (a temporary file beside it, fsync, rename, fsync of the
 * directory). 0, or PL_EIO with a sentence in detail (may be NULL). */
int scrub_list_save (const scrub_list_t *self, const char *path, char *detail, size_t detail_len);

/* Maps the version saved at `path` read-only and checks it (layout, offsets, checksum). On
 * success *out is a new version read in place from the mapping and returns 0; PL_EIO or
 * PL_ECORRUPT otherwise, with a sentence in detail (may be NULL). */
int scrub_list_map (const char *path, scrub_list_t **out, char *detail, size_t detail_len);

/* Takes one more reference on `self` and returns it. */
scrub_list_t *scrub_list_ref (scrub_list_t *self);
/* Drops the caller's reference and sets *self_p to NULL; the version is freed (or unmapped)
 * when its last holder, a snapshot of a scrub_lists_t included, lets it go. Safe on NULL. */
void scrub_list_destroy (scrub_list_t **self_p);

const char *scrub_list_name (const scrub_list_t *self);
const char *scrub_list_version (const scrub_list_t *self);
const char *scrub_list_jurisdiction (const scrub_list_t *self);
scrub_list_kind_t scrub_list_kind (const scrub_list_t *self);
int64_t scrub_list_taken_ms (const scrub_list_t *self);
uint64_t scrub_list_count (const scrub_list_t *self);          /* numbers that hit */
uint64_t scrub_list_clear_count (const scrub_list_t *self);    /* answer lists: found clear */
size_t scrub_list_prefix_count (const scrub_list_t *self);     /* wildcard blocks */
size_t scrub_list_bytes (const scrub_list_t *self);            /* the version's whole block */
bool scrub_list_is_mapped (const scrub_list_t *self);          /* read from a mapped file */

/* ------------------------------------------------------------------------------------------- */
/* The set of lists                                                                             */

/* What one list says about one number. Self-contained (no pointer into the version), so it
 * stays valid after any swap. */
typedef struct {
    char list[SCRUB_LIST_NAME_MAX];
    char version[SCRUB_LIST_VERSION_MAX];
    char jurisdiction[SCRUB_JURISDICTION_MAX];
    scrub_list_kind_t kind;
    bool hit;
    bool known;                     /* false only when an answer list never saw the number */
    int64_t as_of_ms;               /* the version's copy date */
    int64_t disconnected_ms;        /* rnd hits: the disconnect day (UTC midnight); else 0 */
    char prefix[SCRUB_E164_MAX];    /* a wildcard hit: the block ("+1900"); else "" */
} scrub_hit_t;

/* Returns a new, empty set of lists, or NULL when out of memory. */
scrub_lists_t *scrub_lists_new (void);
/* Destroys *self_p and sets it to NULL; safe to call twice. No reader may still use it. */
void scrub_lists_destroy (scrub_lists_t **self_p);

/* Makes `version` (borrowed: the set takes its own reference) the current version of its list,
 * adding the list when new. Returns once no reader can still see the version it replaced,
 * which is then released. 0, or PL_ENOMEM (nothing changed). */
int scrub_lists_swap (scrub_lists_t *self, scrub_list_t *version);
/* Removes the list named `name`; 0, or PL_ENOTFOUND. Returns after the grace period too. */
int scrub_lists_remove (scrub_lists_t *self, const char *name);

/* A new reference on the current version of `name` (to apply a change list to), or NULL. */
scrub_list_t *scrub_lists_get (scrub_lists_t *self, const char *name);
/* The number of lists in the set now. */
size_t scrub_lists_count (scrub_lists_t *self);

/* Asks every list about one E.164 number ("+33612345678"). Fills hits[0 .. min(n, cap) - 1]
 * (in the order the lists were first added) and returns n, the number of lists — a caller whose
 * cap is short sees n > cap and can ask again; PL_EINVAL when `e164` is not "+digits". */
int scrub_lists_lookup (scrub_lists_t *self, const char *e164, scrub_hit_t *hits, size_t cap);

/* Asks every list about `count` numbers, all answered from one snapshot. hits is a
 * count × cap array (number i's answers at hits[i * cap]); the number of lists goes to
 * *n_lists (those beyond cap are not written). A number that is not "+digits" gets no hit and
 * known == false on every list, and counts in the return value: 0 when every number was read,
 * else the count of unreadable ones. */
int scrub_lists_lookup_batch (scrub_lists_t *self, const char *const *e164, size_t count,
                              scrub_hit_t *hits, size_t cap, size_t *n_lists);

/* The rules engine's view of one answer; the strings point into `hit`. For `rnd` the rules
 * want "reassigned since the consent": the hit stands when the number was disconnected on or
 * after the day of `consent_ms` (any disconnect when consent_ms is 0, the stricter reading).
 * Other lists ignore consent_ms. An answer list that never saw the number (known == false)
 * is passed on as a hit: the rules never see an unchecked number as clean. */
void scrub_hit_to_rules (const scrub_hit_t *hit, int64_t consent_ms, pl_rules_list_t *out);

#endif
