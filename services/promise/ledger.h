/*  ledger.h — a promise to pay and what payments and time make of it: pure arithmetic on one
 *  promise, no I/O, so that every edge (tolerance, grace, a DST night, a reversal) is tested
 *  alone.
 *
 *  Money is integer minor units of one ISO 4217 currency; nothing here converts. A promise has
 *  1 to PROMISE_MAX_INSTALMENTS instalments, each due on a date of the debtor's own calendar.
 *  An instalment's deadline is the end of its due date plus grace_days, in the debtor's zone
 *  (the local midnight that ends day due + grace_days, so a DST night moves it by the hour the
 *  clocks move, never by a day). An instalment is
 *
 *      pending      nothing allocated yet, deadline not passed
 *      partly_paid  something allocated, short of (amount − tolerance), deadline not passed
 *      paid         allocated ≥ amount − tolerance
 *      missed       deadline passed and not paid
 *
 *  and the promise is active until it is decided: kept when every instalment is paid; broken
 *  when an instalment is missed and nothing is paid on the promise (a reversed payment counts
 *  for nothing); partially_kept when one is missed with something paid; cancelled by an
 *  operator. Once it is decided or cancelled the clock stops: a later deadline leaves its
 *  instalment as it is. Payments go to the oldest instalment not yet paid in full (an
 *  instalment short within tolerance is paid, but still takes money up to its amount before
 *  the next one does); what is left over is credit (`credit`). A reversal (a bounced or
 *  charged-back payment) takes money back from credit first (the overpayment is what a bounce
 *  removes before anything owed), then from the newest instalment that has some: a kept
 *  promise whose instalment falls short again is active again if that instalment's deadline
 *  has not passed, or decided at once (partially kept or broken) if it has. A broken or
 *  partially kept promise stays so: money that arrives later is still allocated (the creditor
 *  is told of every payment), but the follow-up it caused is not taken back.
 */
#ifndef PROMISE_LEDGER_H
#define PROMISE_LEDGER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plateau/rules_tz.h"

#define PROMISE_MAX_INSTALMENTS 36
#define PROMISE_MAX_GRACE_DAYS 60
#define PROMISE_NEVER INT64_MAX

typedef enum {
    PROMISE_ACTIVE = 1,
    PROMISE_KEPT,
    PROMISE_PARTIALLY_KEPT,
    PROMISE_BROKEN,
    PROMISE_CANCELLED,
} promise_status_t;

typedef enum {
    PROMISE_INST_PENDING = 1,
    PROMISE_INST_PARTLY_PAID,
    PROMISE_INST_PAID,
    PROMISE_INST_MISSED,
} promise_inst_status_t;

typedef struct {
    int64_t due_days;            /* due date: days since 1970-01-01 in the debtor's calendar */
    int64_t amount;              /* minor units, > 0 */
    int64_t paid;                /* allocated to it so far, 0 ≤ paid ≤ amount */
    int64_t deadline_ms;         /* UTC ms: the local midnight ending due + grace_days */
    promise_inst_status_t status;
} promise_inst_t;

typedef struct {
    char currency[4];            /* "EUR" */
    int64_t tolerance_minor;     /* shortfall still counted as paid, absolute (minor units) … */
    int32_t tolerance_bp;        /* … or in basis points of each instalment (250 = 2.5 %); one of the two */
    int32_t grace_days;          /* 0 … PROMISE_MAX_GRACE_DAYS */
    size_t n;
    promise_inst_t inst[PROMISE_MAX_INSTALMENTS];
    int64_t credit;              /* paid beyond every instalment */
    promise_status_t status;
} promise_t;

/* What one call changed, for the events the service sends: the instalments newly paid or
 * missed (bit i = instalment i), and whether the promise was decided (kept, partially kept,
 * broken) or reopened (a reversal on a kept promise). */
typedef struct {
    uint64_t paid, missed;
    bool decided, reopened;
} promise_change_t;

/* Checks a new promise and computes its deadlines in `zone` (the debtor's). `today_days` is the
 * debtor's local date at the time it is made: no due date may be before it, nor after
 * 9999-12-31; an amount is at most 10^15 minor units. On error returns PL_EINVAL and names the
 * field in field[] ("installments[2].due", "installments[0].amount", "tolerance", "currency",
 * "grace_days", "installments"; "zone" when zone is NULL) with a message in msg[]. Sets every
 * instalment pending, paid 0, credit 0, status active. */
int promise_open (promise_t *p, const pl_rules_tz_t *zone, int64_t today_days, char *field, size_t field_size,
                  char *msg, size_t msg_size);

/* The tolerance of instalment i in minor units (absolute, or its share of the amount rounded
 * down). */
int64_t promise_tolerance (const promise_t *p, size_t i);

/* Allocates a payment of `amount` (> 0, the promise's currency: the caller checks) received at
 * at_ms, then decides what at_ms decides (promise_tick). The clock is read first: money that
 * arrives at or after an instalment's deadline is late for it, whenever the last tick ran. */
void promise_pay (promise_t *p, int64_t amount, int64_t at_ms, promise_change_t *ch);

/* Takes `amount` (> 0) back (a reversal), credit first, then the newest instalment that has
 * some, and decides at at_ms; never more than was paid. */
void promise_reverse (promise_t *p, int64_t amount, int64_t at_ms, promise_change_t *ch);

/* Decides what the clock alone decides at now_ms: instalments whose deadline has passed
 * (deadline_ms <= now_ms) unpaid are missed; the promise is decided when it can be. Does
 * nothing to a decided or cancelled promise. */
void promise_tick (promise_t *p, int64_t now_ms, promise_change_t *ch);

/* Cancels an active promise: PL_EINVAL when it is already decided or cancelled. */
int promise_cancel (promise_t *p);

/* The next instant the clock could decide something (the earliest deadline of an instalment
 * not yet paid), PROMISE_NEVER when none (decided, cancelled, or everything paid). */
int64_t promise_next_deadline (const promise_t *p);

/* The next due date not yet paid (days), -1 when none, whatever the promise's status:
 * collection calls on the debt wait until its deadline while the promise is active. */
int64_t promise_next_due (const promise_t *p);

/* Sums over the instalments. */
int64_t promise_amount (const promise_t *p);
int64_t promise_paid (const promise_t *p);

/* Compact text form for storage ("1|EUR|0|250|3|1|0|2|20431:5000:0:1765580400000:1;…"):
 * promise_encode writes at most size bytes (NUL included) and returns the length, or -1 when
 * it does not fit; promise_decode returns 0 or PL_ECORRUPT. */
int promise_encode (const promise_t *p, char *out, size_t size);
int promise_decode (promise_t *p, const char *text);

const char *promise_status_str (promise_status_t s);       /* "active", "kept", "partially_kept", … */
const char *promise_inst_status_str (promise_inst_status_t s); /* "pending", "partly_paid", … */

#endif
