/*  api.h — the promise service's HTTP API.
 *    POST /v1/promises                          open a promise (JSON below)                writers
 *    GET  /v1/promises/{id}                     a promise, its instalments and status      readers
 *    POST /v1/promises/{id}/cancel              cancel an active one {"reason": …}         operators
 *    GET  /v1/accounts/{ref}/promises           an account's promises, unmatched payments  readers
 *    GET  /v1/promises/stats?from=&to=&campaign=  KPIs by campaign and agent (UTC days)    readers
 *    POST /v1/payments                          a payment or a reversal, signed            payers
 *    GET  /v1/accounts/{ref}/payments/{id}      what became of a payment                   readers
 *    GET  /v1/creditors/{id}/notifications?after=&limit=  the creditor's notifications, NDJSON;
 *                                               X-Next-Cursor says where to resume        readers
 *  writers: PLATEAU_PROMISE_WRITERS; readers: PLATEAU_PROMISE_READERS; payers:
 *  PLATEAU_PROMISE_PAYERS, each of which must have a key in PLATEAU_PROMISE_SIGNING_KEYS_FILE
 *  (every payment request is HMAC-signed, http.h); operators (PLATEAU_PROMISE_OPERATORS) may
 *  do everything but pay. A list left unset names nobody.
 *
 *  A promise: {"promise_id"?, "account", "creditor", "tenant"?, "phone", "zone"?, "currency",
 *  "installments": [{"due": "YYYY-MM-DD", "amount": minor units}], "tolerance"?: {"amount": n}
 *  or {"percent": p}, "grace_days"?, "campaign"?, "lead"?, "agent"?, "dial_id"?}. Due dates
 *  are the debtor's calendar (the zone of their number, or `zone`). 201 with the promise; the
 *  same promise_id again: 200 with what is stored; an account with an active promise: 409;
 *  a bad field: 422 naming it (400 for broken JSON or an unknown member).
 *  A payment: {"payment_id", "account", "amount", "currency", "paid_at"? (RFC 3339),
 *  "method"?, "reference"?, "reverses"? (the payment id a bounce or charge-back takes back)}.
 *  201 {"status": "applied"|"unmatched"|"reversed", "promise"}, or 200 with "duplicate" when
 *  the payment id was seen (the payment id is the idempotency key).
 *  Each handler thread has its own book on its own Redis connection.
 */
#ifndef PROMISE_API_H
#define PROMISE_API_H
#include "book.h"
#include "plateau/http.h"

#define PROMISE_API_MAX_BODY (64 * 1024)
#define PROMISE_API_BATCH_MAX 1000             /* payments in one POST /v1/payments/batch */
#define PROMISE_API_BATCH_MAX_BODY (512 * 1024)

typedef struct {
    promise_book_opts_t book;         /* copied; each thread takes its own Redis (.redis ignored) */
    const char *redis_url;
    const char *writers, *readers, *payers, *operators;   /* source lists (NULL: nobody) */
    const pl_http_keys_t *keys;       /* the payers' signing secrets, borrowed */
} promise_api_opts_t;

typedef struct promise_api promise_api_t;

/* A new API over o (strings borrowed). NULL on no memory. */
promise_api_t *promise_api_new (const promise_api_opts_t *o);
void promise_api_destroy (promise_api_t **self_p);
int promise_api_routes (promise_api_t *self, pl_http_t *http);
void *promise_api_thread_init (void *arg);
void promise_api_thread_fini (void *ctx, void *arg);

#endif
