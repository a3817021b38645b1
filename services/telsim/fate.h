/*  fate.h — what happens to a call, drawn once from its dial id.
 *
 *  telsim must give the same dial id the same fate on every run, on every replica and after a
 *  restart, so that a simulation can be replayed and a benchmark compared with the last one. A
 *  fate is therefore a pure function of (seed, dial id) and the facts telephony knows when it
 *  places the call: the number's line type, the callee's local hour, the ring timeout, whether
 *  answering-machine detection is on and the campaign's kind. Everything random about the call
 *  — who picks up and when, what AMD says, how long the agent talks and wraps up, how the
 *  conversation ends — is drawn here, up front, from one PRNG seeded by the pair.
 *
 *  Rates (docs/telephony.md, "simulation model"): a person answers ~30 % of fixed lines and
 *  ~38 % of mobiles, ten points more from 17:00 to 20:00 local; a machine 20 % / 15 %; busy 5 %;
 *  failed 2 %; invalid number 1 %; the rest rings out.
 */
#ifndef TELSIM_FATE_H
#define TELSIM_FATE_H
#include <stdbool.h>
#include <stdint.h>
#include "plateau/phone.h"

/* A repeatable PRNG (splitmix64). */
typedef struct {
    uint64_t s;
} telsim_rng_t;

/* Seeds r from seed and key (a dial id, an agent id). */
void telsim_rng_seed (telsim_rng_t *r, uint64_t seed, const char *key);
uint64_t telsim_rng_next (telsim_rng_t *r);
/* Uniform in [0, 1). */
double telsim_rng_unit (telsim_rng_t *r);
/* Uniform integer in [lo, hi]. */
int64_t telsim_rng_range (telsim_rng_t *r, int64_t lo, int64_t hi);
/* Exponential with the given mean. */
double telsim_rng_exp (telsim_rng_t *r, double mean);

/* Who (or what) picks up. */
typedef enum {
    TELSIM_PICKUP_PERSON = 0,
    TELSIM_PICKUP_MACHINE,
    TELSIM_PICKUP_BUSY,
    TELSIM_PICKUP_NO_ANSWER,
    TELSIM_PICKUP_FAILED,
    TELSIM_PICKUP_INVALID,
    TELSIM_PICKUP_COUNT
} telsim_pickup_t;

/* "person", "machine", "busy", "no_answer", "failed", "invalid". */
const char *telsim_pickup_str (telsim_pickup_t p);

/* What a debtor who promised to pay does: keeps it in one payment or two, pays part of it on
 * time, pays all of it too late, or pays nothing. */
typedef enum {
    TELSIM_PAYER_FULL = 0,
    TELSIM_PAYER_SPLIT,
    TELSIM_PAYER_PART,
    TELSIM_PAYER_LATE,
    TELSIM_PAYER_NONE,
    TELSIM_PAYER_COUNT
} telsim_payer_t;

/* "full", "split", "part", "late", "none". */
const char *telsim_payer_str (telsim_payer_t p);

/* What telephony knows of a call when it places it. */
typedef struct {
    const char *dial_id;
    pl_phone_type_t line;        /* FIXED_LINE, MOBILE, FIXED_LINE_OR_MOBILE (an average of both) */
    bool valid;                  /* false: the number is invalid whatever the draw */
    int local_hour;              /* 0..23 in the callee's zone */
    int ring_timeout_s;          /* >= 15 */
    bool amd;
    int kind;                    /* Plateau__V1__CallKind: DEBT_COLLECTION or anything else */
} telsim_facts_t;

typedef struct {
    double amd_detect;           /* P(machine classified as a machine), 0.97 */
    double amd_false_positive;   /* P(person classified as a machine), 0.02 */
    double person_scale;         /* the person rate times this (0: 1); the rest ring out */
} telsim_fate_opts_t;

typedef struct {
    telsim_pickup_t pickup;
    int64_t ring_ms;             /* placed → picked up, busy, failed, or the ring timeout */
    int64_t amd_ms;              /* AMD on: pickup → AMD verdict (the greeting for a person) */
    bool amd_machine;            /* AMD on: classified as a machine (VOICEMAIL) */
    bool amd_false_positive;     /* …though a person picked up (ground truth) */
    int64_t talk_ms;             /* bridged → hang-up */
    int64_t wrap_ms;             /* hang-up → disposition */
    int disposition;             /* Plateau__V1__Disposition__Code */
    int callback_slot;           /* CALLBACK: 0..21, next day at 09:00 + 30 min × slot, local */
    int64_t promise_minor;       /* PROMISE_TO_PAY: 5,000..50,000 minor units */
    int promise_days;            /* PROMISE_TO_PAY: due 2..21 days after the call */
    /* PROMISE_TO_PAY: what the debtor then does (docs/telephony.md, "debtors"). */
    telsim_payer_t payer;
    int n_payments;              /* 0..2 */
    int64_t pay_after_ms[2];     /* each payment, after the disposition */
    int64_t pay_minor[2];
    int64_t bounce_after_ms;     /* > 0: the first payment is reversed this long after it */
} telsim_fate_t;

#define TELSIM_CALLBACK_SLOTS 22    /* 09:00, 09:30, … 19:30 */

/* Draws the fate of facts->dial_id. Pure: same arguments, same fate. */
void telsim_fate_draw (uint64_t seed, const telsim_facts_t *facts, const telsim_fate_opts_t *o,
                       telsim_fate_t *out);

/* The probability that a person picks up, for a line type and local hour (before the ring
 * timeout cuts late answers). */
double telsim_fate_person_rate (pl_phone_type_t line, int local_hour);

#endif
