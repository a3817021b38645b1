/*  body.c — a payment read from its JSON (see body.h). */
#include "body.h"

#include <stdio.h>
#include <string.h>

#include "plateau/timefmt.h"

const char *const promise_body_payment_members[] = { "payment_id", "account", "amount",   "currency", "paid_at",
                                                     "method",     "reference", "reverses", NULL };

#define S_AMOUNT_MAX 1000000000000000LL

/* A string member of 1 to max bytes into out (absent or null: "" unless required). */
static bool
s_str (const json_t *o, const char *k, size_t max, bool required, char *out, size_t size, char *msg, size_t msg_size)
{
    json_t *v = json_object_get (o, k);
    *out = '\0';
    if ((!v || json_is_null (v)) && !required)
        return true;
    if (!v || !json_is_string (v) || json_string_length (v) == 0 || json_string_length (v) > max
        || json_string_length (v) >= size || strlen (json_string_value (v)) != json_string_length (v)) {
        snprintf (msg, msg_size, "%s: a string of 1 to %zu bytes%s", k, max, required ? " is required" : "");
        return false;
    }
    snprintf (out, size, "%s", json_string_value (v));
    return true;
}

bool
promise_body_payment (const json_t *o, int index, promise_payment_t *pay, char *field, size_t field_size, char *msg,
                      size_t msg_size)
{
    memset (pay, 0, sizeof *pay);
    char prefix[32] = "";
    if (index >= 0)
        snprintf (prefix, sizeof prefix, "payments[%d]", index);
    if (!json_is_object (o)) {
        snprintf (field, field_size, "%s", prefix);
        snprintf (msg, msg_size, "a payment is a JSON object");
        return false;
    }
    if (index >= 0) {
        const char *k;
        json_t *v;
        json_object_foreach ((json_t *) o, k, v) {
            bool known = false;
            for (size_t j = 0; promise_body_payment_members[j] && !known; j++)
                known = !strcmp (k, promise_body_payment_members[j]);
            if (!known) {
                snprintf (field, field_size, "%s.%.40s", prefix, k);
                snprintf (msg, msg_size, "unknown member");
                return false;
            }
        }
        strcat (prefix, ".");
    }
    const char *bad = NULL;
    json_t *a = json_object_get (o, "amount");
    if (!s_str (o, "payment_id", PROMISE_ID_MAX - 1, true, pay->id, sizeof pay->id, msg, msg_size))
        bad = "payment_id";
    else if (!s_str (o, "account", PROMISE_ID_MAX - 1, true, pay->account, sizeof pay->account, msg, msg_size))
        bad = "account";
    else if (!a || !json_is_integer (a) || json_integer_value (a) < 1 || json_integer_value (a) > S_AMOUNT_MAX) {
        bad = "amount";
        snprintf (msg, msg_size, "amount: an integer from 1 to %lld (amounts are minor units: 1234 for 12.34)",
                  S_AMOUNT_MAX);
    } else if (!s_str (o, "currency", 3, true, pay->currency, sizeof pay->currency, msg, msg_size))
        bad = "currency";
    else if (!s_str (o, "method", sizeof pay->method - 1, false, pay->method, sizeof pay->method, msg, msg_size))
        bad = "method";
    else if (!s_str (o, "reference", PROMISE_ID_MAX - 1, false, pay->reference, sizeof pay->reference, msg,
                     msg_size))
        bad = "reference";
    else if (!s_str (o, "reverses", PROMISE_ID_MAX - 1, false, pay->reverses, sizeof pay->reverses, msg, msg_size))
        bad = "reverses";
    else {
        json_t *at = json_object_get (o, "paid_at");
        if (at && !json_is_null (at)
            && (!json_is_string (at) || pl_time_parse_rfc3339 (json_string_value (at), &pay->paid_at_ms) != 0)) {
            bad = "paid_at";
            snprintf (msg, msg_size, "paid_at: an RFC 3339 time (2026-12-08T09:30:00+01:00)");
        }
    }
    if (bad) {
        snprintf (field, field_size, "%s%s", prefix, bad);
        return false;
    }
    pay->amount = json_integer_value (a);
    pay->reversal = *pay->reverses != '\0';
    return true;
}
