/*  body.h — the bodies of the promise service's HTTP API, read without HTTP so that the readers
 *  can be fuzzed on their own: a promise (POST /v1/promises), one payment (POST /v1/payments) or
 *  each payment of a batch (POST /v1/payments/batch). What needs Redis or the clock — an id
 *  already taken, the promise that takes a payment, its currency, a due date in the past — is
 *  the book's.
 */
#ifndef PROMISE_BODY_H
#define PROMISE_BODY_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "book.h"

/* A calendar date "YYYY-MM-DD" that exists, as days since 1970-01-01: true, or false for anything
 * else (2026-02-30 included). */
bool promise_body_day (const char *s, int64_t *days);

/* The members a promise may have. */
extern const char *const promise_body_promise_members[];

/* Reads promise object o (its unknown members already refused) into *rec and its optional id
 * into id ("" when not given); source, zone's check and the rest are the book's. False with
 * field and msg set (the first problem, in the order the members are read). */
bool promise_body_promise (const json_t *o, promise_rec_t *rec, char *id, size_t id_size, char *field,
                           size_t field_size, char *msg, size_t msg_size);

/* The members a payment may have. */
extern const char *const promise_body_payment_members[];

/* Reads payment object o into *pay (source left empty). index < 0: the body itself (the
 * caller has refused unknown members); else payment `index` of a batch, whose unknown members
 * are refused here and whose fields are named "payments[<index>].<member>". False with field
 * and msg set (the first problem, in the order the members are documented). */
bool promise_body_payment (const json_t *o, int index, promise_payment_t *pay, char *field, size_t field_size,
                           char *msg, size_t msg_size);

#endif
