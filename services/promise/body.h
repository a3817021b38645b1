/*  body.h — the payment bodies of the promise service's HTTP API, read without HTTP: one payment
 *  (POST /v1/payments) or each payment of a batch (POST /v1/payments/batch), so that the reader
 *  can be fuzzed on its own. What needs Redis — duplicates, the promise that takes it, its
 *  currency — is the book's.
 */
#ifndef PROMISE_BODY_H
#define PROMISE_BODY_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "book.h"

/* The members a payment may have. */
extern const char *const promise_body_payment_members[];

/* Reads payment object o into *pay (source left empty). index < 0: the body itself (the
 * caller has refused unknown members); else payment `index` of a batch, whose unknown members
 * are refused here and whose fields are named "payments[<index>].<member>". False with field
 * and msg set (the first problem, in the order the members are documented). */
bool promise_body_payment (const json_t *o, int index, promise_payment_t *pay, char *field, size_t field_size,
                           char *msg, size_t msg_size);

#endif
