/*  simgen.h — the input bundle of the compliance simulation: campaigns, leads, registry copies,
 *  internal opt-outs and consent revocations, generated from a seed.
 *
 *  The same seed, lead count and start date give the same bundle byte for byte, so a failed
 *  simulation can be run again on the same input. The bundle's formats are those of the services
 *  that load it (the rules engine's campaign files, the intake's NDJSON leads, scrub's list and
 *  opt-out bodies); tools/simgen/README.md describes each file.
 */
#ifndef PL_SIMGEN_H
#define PL_SIMGEN_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *out;            /* bundle directory (created, with its subdirectories) */
    long leads;                 /* total leads, across the three campaigns */
    uint64_t seed;
    const char *start;          /* YYYY-MM-DD: the first day of the simulated run (UTC) */
} pl_simgen_opts_t;

/* Writes the bundle. 0, or a negative PL_E*-style code (-EINVAL bad options, -EIO a write)
 * with a human detail in err. */
int pl_simgen_run (const pl_simgen_opts_t *opts, char *err, size_t err_size);

/* The three campaigns of a bundle, by file name without ".campaign". */
extern const char *const pl_simgen_campaigns[3];

#endif
