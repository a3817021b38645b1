/*  fuzz_promise_body.c — libFuzzer target for the bodies of the promise service's HTTP API
 *  (services/promise/body.c): POST /v1/promises (promise_body_promise), POST /v1/payments and
 *  each payment of POST /v1/payments/batch (promise_body_payment).
 *
 *  The input is parsed as the HTTP kit parses a body (jansson, duplicate members refused). An
 *  object with a "payments" array is read as a batch, every element in turn; anything else as
 *  one payment. A payment read has what the book relies on: ids and account of 1 to 127 bytes
 *  without NUL, exactly the JSON's strings; an amount from 1 to 10^15; a currency of 1 to 3
 *  bytes (the book then wants ISO 4217's three capitals); a reversal exactly when "reverses"
 *  was given. A payment refused names a field (inside "payments[i]" for a batch) and says why.
 *  Every object is also read as a promise: one read has its account, creditor and phone, 1 to 36
 *  instalments each of a date that exists and an amount from 1 to 10^15, grace days within the
 *  limit, at most one kind of tolerance within its range; one refused names a field.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"

static void
s_check (const json_t *o, int index)
{
    promise_payment_t pay;
    char field[64], msg[256];
    memset (field, 0, sizeof field);
    memset (msg, 0, sizeof msg);
    if (!promise_body_payment (o, index, &pay, field, sizeof field, msg, sizeof msg)) {
        char prefix[32];
        snprintf (prefix, sizeof prefix, "payments[%d]", index);
        if (!*msg || (index >= 0 ? strncmp (field, prefix, strlen (prefix)) != 0 : !*field && json_is_object (o)))
            abort ();
        return;
    }
    if (!json_is_object (o))
        abort ();
    const char *id = json_string_value (json_object_get (o, "payment_id"));
    const char *acc = json_string_value (json_object_get (o, "account"));
    const char *cur = json_string_value (json_object_get (o, "currency"));
    if (!id || strcmp (id, pay.id) || !*pay.id || strlen (pay.id) >= PROMISE_ID_MAX)
        abort ();
    if (!acc || strcmp (acc, pay.account) || !*pay.account || strlen (pay.account) >= PROMISE_ID_MAX)
        abort ();
    if (!cur || strcmp (cur, pay.currency) || !*pay.currency || strlen (pay.currency) > 3)
        abort ();
    if (pay.amount < 1 || pay.amount > 1000000000000000LL
        || pay.amount != json_integer_value (json_object_get (o, "amount")))
        abort ();
    const char *rev = json_string_value (json_object_get (o, "reverses"));
    if (pay.reversal != (rev && *rev) || (pay.reversal && strcmp (rev, pay.reverses)))
        abort ();
    if (*pay.source)
        abort ();                       /* the route's to set */
    if (index >= 0) {                   /* a batch's payment has no other member */
        const char *k;
        json_t *v;
        json_object_foreach ((json_t *) o, k, v) {
            bool known = false;
            for (size_t j = 0; promise_body_payment_members[j]; j++)
                known |= !strcmp (k, promise_body_payment_members[j]);
            if (!known)
                abort ();
        }
    }
}

static void
s_check_promise (const json_t *o)
{
    promise_rec_t rec;
    char id[PROMISE_ID_MAX], field[64] = "", msg[256] = "";
    if (!promise_body_promise (o, &rec, id, sizeof id, field, sizeof field, msg, sizeof msg)) {
        if (!*msg || (json_is_object (o) && !*field))
            abort ();
        return;
    }
    if (!*rec.account || !*rec.creditor || !*rec.phone || !*rec.ledger.currency)
        abort ();
    if (strlen (rec.account) >= PROMISE_ID_MAX || strlen (rec.phone) > 16 || strlen (rec.ledger.currency) > 3)
        abort ();
    if (rec.ledger.n < 1 || rec.ledger.n > PROMISE_MAX_INSTALMENTS
        || rec.ledger.n != json_array_size (json_object_get (o, "installments")))
        abort ();
    for (size_t i = 0; i < rec.ledger.n; i++) {
        int64_t days;
        const char *due = json_string_value (json_object_get (json_array_get (json_object_get (o, "installments"), i),
                                                              "due"));
        if (!promise_body_day (due, &days) || days != rec.ledger.inst[i].due_days)
            abort ();
        if (rec.ledger.inst[i].amount < 1 || rec.ledger.inst[i].amount > 1000000000000000LL)
            abort ();
    }
    if (rec.ledger.grace_days < 0 || rec.ledger.grace_days > PROMISE_MAX_GRACE_DAYS)
        abort ();
    if (rec.ledger.tolerance_bp < 0 || rec.ledger.tolerance_bp > 10000 || rec.ledger.tolerance_minor < 0
        || (rec.ledger.tolerance_bp && rec.ledger.tolerance_minor))
        abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    json_error_t e;
    json_t *doc = json_loadb ((const char *) data, size, JSON_REJECT_DUPLICATES, &e);
    if (!doc)
        return 0;
    json_t *arr = json_is_object (doc) ? json_object_get (doc, "payments") : NULL;
    if (json_is_array (arr))
        for (size_t i = 0; i < json_array_size (arr) && i < 1000; i++)
            s_check (json_array_get (arr, i), (int) i);
    else
        s_check (doc, -1);
    s_check_promise (doc);
    json_decref (doc);
    return 0;
}
