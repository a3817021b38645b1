/*  check.h — the independent compliance checker of a simulation run.
 *
 *  Reads the simulation's input bundle (tools/simgen) and the audit's export (NDJSON, one
 *  exported record per line, numbers in clear) and recomputes from them, with its own tables
 *  (law.h) and never with the rules engine, whether every call was legal: calling windows in
 *  every candidate zone, caps and cool-offs, lists, opt-outs and consents, attempt ids,
 *  abandon rates against budget and the dialer's own figures, and that no lead was lost.
 *  Each violation names its kind, rule, attempt, lead, instant and the fact that breaks it.
 */
#ifndef PL_CHECK_H
#define PL_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct pl_check pl_check_t;

/* A new checker, or NULL when out of memory. */
pl_check_t *pl_check_new (void);
void pl_check_destroy (pl_check_t **self_p);

/* Options: apply Florida's solicitation rule (us.fl) to collection campaigns too (off: the
 * reference lists it for canvassing, and the repository's us-fl overlay stacks on us-cc). */
void pl_check_set_florida_collection (pl_check_t *self, bool on);

/* Reads the bundle directory. 0, or -1 (bad input: see pl_check_errstr). */
int pl_check_load_bundle (pl_check_t *self, const char *dir);
/* Reads an export (NDJSON). 0, or -1 when unreadable or a line is not a JSON object. */
int pl_check_load_audit (pl_check_t *self, const char *path);
/* Runs every check; returns the number of violations. */
size_t pl_check_run (pl_check_t *self);

/* The human summary and the final verdict line. */
void pl_check_print (const pl_check_t *self, FILE *out);
/* The same as JSON; 0 or -1. */
int pl_check_write_json (const pl_check_t *self, const char *path);

size_t pl_check_violations (const pl_check_t *self);
/* Violations of one kind ("hours", "cap", …; see README.md). */
size_t pl_check_count (const pl_check_t *self, const char *kind);
/* The i-th violation's kind, attempt id, rule and fact (NULL past the end). */
const char *pl_check_violation (const pl_check_t *self, size_t i, const char **attempt,
                                const char **rule, const char **fact);
const char *pl_check_errstr (const pl_check_t *self);

#endif
