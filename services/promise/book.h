/*  book.h — the promise book: promises and payments in Redis, each change one atomic step with
 *  the audit events and the messages it causes.
 *
 *  A promise (ledger.h) is opened from the API or from an agent's disposition (PromiseMade from
 *  the dialer); payments arrive from the API or the bus (PaymentReceived), and may be reversed.
 *  Every payment goes to the account's active promise; one that finds none is kept as
 *  unmatched and applied when a promise of the account is opened (a payment processor may be
 *  faster than the dialer). The clock decides the rest: a sweep finds the promises whose next
 *  deadline has passed, and those whose next reminder is due (promise.reminded, and a
 *  notification for the CRM to send an SMS or an e-mail). Each decision is a step of the kit (inbox.h): the promise, its indexes,
 *  the audit events, PromiseKept / PromiseBroken to the dialer and the creditor's notification,
 *  all at once or not at all.
 *
 *  A step reads the promise, decides in C (ledger.c), and writes it back only if its version
 *  is still the one read (compare and set in the step's effect); a step that lost the race (two
 *  payments at the same instant, on two replicas) reads again and decides again.
 *
 *  Keys, sharded by account into PROMISE_SHARDS hash tags {prom:<n>} so that an account's
 *  promises, payments and deadlines live on one Redis Cluster slot:
 *    pl:{prom:n}:p:<promise>     hash: v (version), l (ledger.h text), st (its status, for a reader),
 *                                f (the facts: account … source, packed; a field each before)
 *    pl:{prom:n}:a:<account>     hash: active → promise, p:<promise> → made at, u:<payment> → unmatched
 *    pl:{prom:n}:pay:<payment>   hash: the payment and what became of it (idempotency by its id)
 *    pl:{prom:n}:due             zset: promise → the next instant the sweep acts on it (UTC ms): its
 *                                next deadline or its next reminder (09:00 local, N days before a
 *                                due date), whichever comes first
 *    pl:{prom:n}:kpi:<day>       hash: "<what>|<campaign>|<agent>" → count or minor units
 *    pl:{prom:n}:notes           stream: the creditors' notifications (R124-5), read by creditor
 */
#ifndef PROMISE_BOOK_H
#define PROMISE_BOOK_H
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "ledger.h"
#include "plateau/bus.h"
#include "plateau/clock.h"
#include "plateau/log.h"
#include "plateau/loop.h"
#include "plateau/metrics.h"
#include "plateau/redis.h"

#define PROMISE_SHARDS 16
#define PROMISE_ID_MAX 128             /* promise, payment, account, creditor ids: bytes */
/* A payment received up to this long before its promise was made is applied to it. */
#define PROMISE_EARLY_PAYMENT_MS (7LL * 86400000)
/* A decided promise, a payment's record and an account without an active promise leave Redis
 * this long after their last change (the audit keeps the evidence): past the 13 months in which
 * a SEPA debit can be refused, so a late reversal still finds its payment. */
#define PROMISE_RETENTION_DAYS 400

typedef struct promise_book promise_book_t;

typedef struct {
    pl_redis_t *redis;                 /* borrowed: this thread's connection */
    const pl_clock_t *clock;
    const char *service, *replica;
    bool audit;                        /* send audit events */
    const char *zoneinfo;              /* NULL: the system's tzdata */
    bool many_active;                  /* the creditors' policy: more than one active promise per account */
    int remind_days;                   /* a reminder this many days before each due date (0: none) */
    int retention_days;                /* decided promises, payment records: 0 = PROMISE_RETENTION_DAYS */
    pl_metrics_t *metrics;             /* may be NULL (an API thread's book) */
    pl_log_t *log;
} promise_book_opts_t;

/* A promise as opened: its facts and its ledger (instalments with due_days, amounts, currency,
 * tolerance, grace; promise_open fills the rest). */
typedef struct {
    char id[PROMISE_ID_MAX], account[PROMISE_ID_MAX], creditor[PROMISE_ID_MAX], tenant[PROMISE_ID_MAX];
    char phone[24];                    /* E.164, the debtor's: gives the zone of the due dates */
    char zone[64];                     /* set by the book from phone, unless given */
    char campaign[PROMISE_ID_MAX], lead[PROMISE_ID_MAX], agent[PROMISE_ID_MAX], dial[PROMISE_ID_MAX];
    char source[64];                   /* "dialer", or the API source */
    int64_t made_at_ms;
    promise_t ledger;
} promise_rec_t;

typedef struct {
    char id[PROMISE_ID_MAX], account[PROMISE_ID_MAX];
    char currency[4];
    int64_t amount;                    /* minor units, > 0 */
    int64_t paid_at_ms;
    bool reversal;                     /* takes back payment `reverses` */
    char reverses[PROMISE_ID_MAX];
    char method[32], reference[PROMISE_ID_MAX], source[64];
} promise_payment_t;

/* NULL when out of memory or Redis scripts cannot be prepared. */
promise_book_t *promise_book_new (const promise_book_opts_t *o);
void promise_book_destroy (promise_book_t **self_p);

/* Opens rec (step_id: the bus message id, or NULL for an API request whose promise id is new).
 * 0, or PL_EINVAL (field/msg say what), PL_EEXIST (the id exists: *rec is left as is),
 * PL_EBUSY (the account has an active promise and the policy allows one, msg names it; or the
 * id is a promise's of another account, field "promise_id"),
 * PL_EREDIS. */
int promise_book_open (promise_book_t *self, promise_rec_t *rec, const char *step_id, const char *trace,
                       char *field, size_t field_size, char *msg, size_t msg_size);

/* Applies a payment (or a reversal). *status: "applied" (to a promise: *promise_id), "unmatched"
 * (kept for a promise to come), "duplicate" (the payment id was seen: what it did then).
 * 0, PL_EINVAL (field/msg: another currency than its promise, a reversal of an unknown
 * payment or of more than it paid), PL_EREDIS. */
int promise_book_pay (promise_book_t *self, const promise_payment_t *pay, const char *step_id, const char *trace,
                      char *status, size_t status_size, char *promise_id, size_t promise_id_size, char *field,
                      size_t field_size, char *msg, size_t msg_size);

/* One payment of a batch: what to apply, then what became of it (rc and the rest as
 * promise_book_pay's). */
typedef struct {
    promise_payment_t pay;
    const char *step_id, *trace;       /* the bus message's id and trace, or NULL */
    int rc;
    char status[32], promise_id[PROMISE_ID_MAX], field[64], msg[256];
} promise_pay_item_t;

/* Applies n payments as promise_book_pay would one after the other, in three pipelined round
 * trips for the whole batch (their payment records and accounts, the promises that take them,
 * then every step) instead of four each. Payments to an account or with an id that an earlier
 * one of the batch has, reversals, and payments that lose a race go one at a time after the
 * rest. Each item's rc says what became of it; returns 0, or PL_ENOMEM (nothing was done). */
int promise_book_pay_many (promise_book_t *self, promise_pay_item_t *items, size_t n);
/* What promise_book_pay_many holds per payment while it runs, at most (for a caller's budget). */
#define PROMISE_PAY_MANY_BYTES 8192

/* Cancels an active promise (an operator; actor and reason audited). 0, PL_ENOTFOUND, PL_EINVAL
 * (already decided), PL_EREDIS. */
int promise_book_cancel (promise_book_t *self, const char *promise_id, const char *actor, const char *reason);

/* Decides what the clock decides now, for at most max promises of every shard, and for at most
 * PROMISE_SWEEP_BUDGET_MS of wall time: the sweep runs on the service's loop, which must go
 * back to its bus door; what is left waits for the next tick. Returns how many were decided or
 * moved on, or PL_EREDIS. */
#define PROMISE_SWEEP_BUDGET_MS 250
int promise_book_sweep (promise_book_t *self, int max);

/* Reads, as the API shows them (new references, NULL and *rc set on failure). */
json_t *promise_book_get (promise_book_t *self, const char *promise_id, int *rc);
json_t *promise_book_account (promise_book_t *self, const char *account, int *rc);
json_t *promise_book_payment (promise_book_t *self, const char *payment_id, const char *account, int *rc);
/* KPIs over local days [from, to] (days since 1970), optionally of one campaign. */
json_t *promise_book_stats (promise_book_t *self, int64_t from_days, int64_t to_days, const char *campaign,
                            int *rc);
/* The creditor's notifications after cursor `after` ("0" from the start), at most limit, as
 * NDJSON lines appended to *out (grown with realloc), in the order they were written; *next: the
 * cursor to resume from. A call reads at most PROMISE_NOTES_SCAN entries of the shared streams
 * (other creditors' included), so a page may hold fewer than limit — even none — while the
 * cursor moves on: the caller pages until a page is empty and the cursor stays where it was. */
#define PROMISE_NOTES_SCAN 200000
int promise_book_notes (promise_book_t *self, const char *creditor, const char *after, int limit, char **out,
                        size_t *len, char *next, size_t next_size);

/* A right-party contact (a conversation with the debtor on a collection call) of campaign by
 * agent ("" none), counted today for the KPIs' promises per right-party contact; key spreads
 * the counts over the shards (the call's id); step_id: the bus message's id (counted once).
 * 0, PL_EINVAL (a control character, or '|', in campaign or agent), PL_EREDIS. */
int promise_book_contact (promise_book_t *self, const char *campaign, const char *agent, const char *key,
                          const char *step_id);

/* Bus handler (pl_bus_batch_fn): PromiseMade, PaymentReceived, and Disposition (right-party
 * contacts, from the dialer). */
void promise_book_handle (void *self, pl_bus_msg_t **msgs, size_t n);
/* Loop timer (pl_loop_timer_fn): promise_book_sweep. */
int promise_book_tick (pl_loop_t *loop, void *self);

/* The shard of an account (0 … PROMISE_SHARDS-1). */
int promise_book_shard (const char *account);

#endif
