/*  fate.c — the fate of a call, drawn from (seed, dial id) (see fate.h). */
#include <math.h>
#include "fate.h"
#include "plateau/v1/dial.pb-c.h"

void
telsim_rng_seed (telsim_rng_t *r, uint64_t seed, const char *key)
{
    uint64_t h = 0xcbf29ce484222325ULL;               /* FNV-1a of the key */
    for (const unsigned char *p = (const unsigned char *) (key ? key : ""); *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    r->s = h ^ (seed * 0x9e3779b97f4a7c15ULL);
    telsim_rng_next (r);
}

uint64_t
telsim_rng_next (telsim_rng_t *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double
telsim_rng_unit (telsim_rng_t *r)
{
    return (double) (telsim_rng_next (r) >> 11) * (1.0 / 9007199254740992.0);
}

int64_t
telsim_rng_range (telsim_rng_t *r, int64_t lo, int64_t hi)
{
    if (hi <= lo)
        return lo;
    return lo + (int64_t) (telsim_rng_next (r) % (uint64_t) (hi - lo + 1));
}

double
telsim_rng_exp (telsim_rng_t *r, double mean)
{
    return -mean * log (1.0 - telsim_rng_unit (r));
}

/* Lognormal with the given median and shape sigma (Box-Muller). */
static double
s_lognormal (telsim_rng_t *r, double median, double sigma)
{
    double u1 = 1.0 - telsim_rng_unit (r), u2 = telsim_rng_unit (r);
    double z = sqrt (-2.0 * log (u1)) * cos (2.0 * M_PI * u2);
    return median * exp (sigma * z);
}

const char *
telsim_pickup_str (telsim_pickup_t p)
{
    static const char *const names[] = { "person", "machine", "busy", "no_answer", "failed", "invalid" };
    return p < TELSIM_PICKUP_COUNT ? names[p] : "";
}

double
telsim_fate_person_rate (pl_phone_type_t line, int local_hour)
{
    double rate = line == PL_PHONE_MOBILE ? 0.38 : line == PL_PHONE_FIXED_LINE_OR_MOBILE ? 0.34 : 0.30;
    if (local_hour >= 17 && local_hour < 20)
        rate += 0.10;
    return rate;
}

static double
s_machine_rate (pl_phone_type_t line)
{
    return line == PL_PHONE_MOBILE ? 0.15 : line == PL_PHONE_FIXED_LINE_OR_MOBILE ? 0.175 : 0.20;
}

/* Dispositions by kind: cumulative tables of (code, share). */
typedef struct {
    int code;
    double share;
} s_share_t;

static const s_share_t s_canvassing[] = {
    { PLATEAU__V1__DISPOSITION__CODE__SALE, 0.08 },
    { PLATEAU__V1__DISPOSITION__CODE__NOT_INTERESTED, 0.52 },
    { PLATEAU__V1__DISPOSITION__CODE__REFUSED, 0.15 },
    { PLATEAU__V1__DISPOSITION__CODE__DO_NOT_CALL, 0.04 },
    { PLATEAU__V1__DISPOSITION__CODE__CALLBACK, 0.12 },
    { PLATEAU__V1__DISPOSITION__CODE__WRONG_NUMBER, 0.09 },
    { 0, 0 },
};

static const s_share_t s_collection[] = {
    { PLATEAU__V1__DISPOSITION__CODE__PROMISE_TO_PAY, 0.30 },
    { PLATEAU__V1__DISPOSITION__CODE__CONVERSATION, 0.33 },
    { PLATEAU__V1__DISPOSITION__CODE__DISPUTE, 0.08 },
    { PLATEAU__V1__DISPOSITION__CODE__CALLBACK, 0.12 },
    { PLATEAU__V1__DISPOSITION__CODE__DO_NOT_CALL, 0.05 },
    { PLATEAU__V1__DISPOSITION__CODE__WRONG_NUMBER, 0.12 },
    { 0, 0 },
};

static int
s_pick (const s_share_t *table, double u)
{
    double acc = 0;
    int last = table[0].code;
    for (const s_share_t *t = table; t->code; t++) {
        acc += t->share;
        last = t->code;
        if (u < acc)
            return t->code;
    }
    return last;
}

const char *
telsim_payer_str (telsim_payer_t p)
{
    static const char *names[TELSIM_PAYER_COUNT] = { "full", "split", "part", "late", "none" };
    return (unsigned) p < TELSIM_PAYER_COUNT ? names[p] : "";
}

/* The debtor's payments, drawn after everything else so that the rest of a fate stays what it
 * was. Half keep their promise (a third of them in two payments), 12 % pay 30 to 80 % of it on
 * time, 8 % pay it all two to eight days after the due date, 30 % pay nothing; 4 % of those
 * who pay on time see their first payment bounce one to three days later. On time is at least
 * a day before the due date, whatever the debtor's zone. */
static void
s_payer (telsim_rng_t *r, telsim_fate_t *out)
{
    double u = telsim_rng_unit (r), split_u = telsim_rng_unit (r), bounce_u = telsim_rng_unit (r);
    double t1 = telsim_rng_unit (r), t2 = telsim_rng_unit (r);
    int64_t part_pct = telsim_rng_range (r, 30, 80), late_days = telsim_rng_range (r, 2, 8);
    int64_t bounce_ms = telsim_rng_range (r, 86400000, 3 * 86400000);
    int64_t due = (int64_t) out->promise_days * 86400000, hour = 3600000;
    int64_t on_time = due - 86400000 - hour;          /* the latest on-time payment, from 1 h */
    out->n_payments = 0;
    out->bounce_after_ms = 0;
    out->payer = u < 0.50 ? (split_u < 1.0 / 3 ? TELSIM_PAYER_SPLIT : TELSIM_PAYER_FULL)
                 : u < 0.62 ? TELSIM_PAYER_PART
                 : u < 0.70 ? TELSIM_PAYER_LATE
                            : TELSIM_PAYER_NONE;
    switch (out->payer) {
    case TELSIM_PAYER_FULL:
        out->n_payments = 1;
        out->pay_after_ms[0] = hour + (int64_t) (t1 * (double) on_time);
        out->pay_minor[0] = out->promise_minor;
        break;
    case TELSIM_PAYER_SPLIT:
        out->n_payments = 2;
        out->pay_after_ms[0] = hour + (int64_t) (t1 * (double) on_time / 2);
        out->pay_after_ms[1] = out->pay_after_ms[0] + (int64_t) (t2 * (double) (hour + on_time - out->pay_after_ms[0]));
        out->pay_minor[0] = out->promise_minor / 2;
        out->pay_minor[1] = out->promise_minor - out->pay_minor[0];
        break;
    case TELSIM_PAYER_PART:
        out->n_payments = 1;
        out->pay_after_ms[0] = hour + (int64_t) (t1 * (double) on_time);
        out->pay_minor[0] = out->promise_minor * part_pct / 100;
        break;
    case TELSIM_PAYER_LATE:
        out->n_payments = 1;
        out->pay_after_ms[0] = due + late_days * 86400000 + (int64_t) (t1 * 86400000);
        out->pay_minor[0] = out->promise_minor;
        break;
    default:
        break;
    }
    if ((out->payer == TELSIM_PAYER_FULL || out->payer == TELSIM_PAYER_SPLIT) && bounce_u < 0.04)
        out->bounce_after_ms = bounce_ms;
}

void
telsim_fate_draw (uint64_t seed, const telsim_facts_t *f, const telsim_fate_opts_t *o, telsim_fate_t *out)
{
    telsim_rng_t r;
    telsim_rng_seed (&r, seed, f->dial_id);
    *out = (telsim_fate_t) { 0 };
    int64_t timeout_ms = (int64_t) (f->ring_timeout_s > 0 ? f->ring_timeout_s : 30) * 1000;
    /* Every draw is made whatever the pickup, in a fixed order, so that one fact changing (the
     * hour) moves the pickup without reshuffling the rest of the call. */
    double u = telsim_rng_unit (&r);
    int64_t answer_ms = telsim_rng_range (&r, 4000, 20000);
    int64_t busy_ms = telsim_rng_range (&r, 1500, 3000);
    int64_t fail_ms = telsim_rng_range (&r, 500, 3000);
    double amd_u = telsim_rng_unit (&r);
    int64_t amd_ms = telsim_rng_range (&r, 1000, 3000);
    double talk = s_lognormal (&r, f->kind == PLATEAU__V1__CALL_KIND__DEBT_COLLECTION ? 200.0 : 150.0, 0.5);
    int64_t machine_talk_ms = telsim_rng_range (&r, 8000, 25000);
    int64_t wrap_ms = telsim_rng_range (&r, 15000, 60000);
    double disp_u = telsim_rng_unit (&r);
    int slot = (int) telsim_rng_range (&r, 0, TELSIM_CALLBACK_SLOTS - 1);
    int64_t promise = telsim_rng_range (&r, 50, 500) * 100;
    int days = (int) telsim_rng_range (&r, 2, 21);

    double person = telsim_fate_person_rate (f->line, f->local_hour), machine = s_machine_rate (f->line);
    if (o->person_scale > 0)
        person *= o->person_scale;
    telsim_pickup_t p = !f->valid      ? TELSIM_PICKUP_INVALID
                        : u < 0.01     ? TELSIM_PICKUP_INVALID
                        : u < 0.03     ? TELSIM_PICKUP_FAILED
                        : u < 0.08     ? TELSIM_PICKUP_BUSY
                        : u < 0.08 + person ? TELSIM_PICKUP_PERSON
                        : u < 0.08 + person + machine ? TELSIM_PICKUP_MACHINE
                                       : TELSIM_PICKUP_NO_ANSWER;
    if ((p == TELSIM_PICKUP_PERSON || p == TELSIM_PICKUP_MACHINE) && answer_ms >= timeout_ms)
        p = TELSIM_PICKUP_NO_ANSWER;                  /* would have answered, but too late */
    out->pickup = p;
    out->ring_ms = p == TELSIM_PICKUP_PERSON || p == TELSIM_PICKUP_MACHINE ? answer_ms
                   : p == TELSIM_PICKUP_BUSY                               ? busy_ms
                   : p == TELSIM_PICKUP_NO_ANSWER                          ? timeout_ms
                                                                           : fail_ms;
    if (f->amd && (p == TELSIM_PICKUP_PERSON || p == TELSIM_PICKUP_MACHINE)) {
        out->amd_ms = amd_ms;
        out->amd_machine = p == TELSIM_PICKUP_MACHINE ? amd_u < o->amd_detect : amd_u < o->amd_false_positive;
        out->amd_false_positive = p == TELSIM_PICKUP_PERSON && out->amd_machine;
    }
    if (p == TELSIM_PICKUP_MACHINE) {                /* an agent bridged to a machine hangs up */
        out->talk_ms = machine_talk_ms;
        out->disposition = PLATEAU__V1__DISPOSITION__CODE__NOT_INTERESTED;
    } else {
        double ms = talk * 1000.0;
        out->talk_ms = ms < 20000 ? 20000 : ms > 1800000 ? 1800000 : (int64_t) ms;
        out->disposition = s_pick (f->kind == PLATEAU__V1__CALL_KIND__DEBT_COLLECTION ? s_collection : s_canvassing,
                                   disp_u);
    }
    out->wrap_ms = wrap_ms;
    out->callback_slot = slot;
    out->promise_minor = promise;
    out->promise_days = days;
    s_payer (&r, out);
}
