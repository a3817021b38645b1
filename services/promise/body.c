/*  body.c — a promise or a payment read from its JSON (see body.h). */
#include "body.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "plateau/timefmt.h"

bool
promise_body_day (const char *s, int64_t *days)
{
    int y, m, d;
    if (!s || strlen (s) != 10 || s[4] != '-' || s[7] != '-' || sscanf (s, "%4d-%2d-%2d", &y, &m, &d) != 3
        || m < 1 || m > 12 || d < 1 || d > 31)
        return false;
    int64_t n = pl_days_from_civil (y, m, d);
    int32_t y2;
    int m2, d2;
    pl_civil_from_days (n, &y2, &m2, &d2);
    if (y2 != y || m2 != m || d2 != d)
        return false;               /* 2026-02-30 */
    *days = n;
    return true;
}

const char *const promise_body_payment_members[] = { "payment_id", "account", "amount",   "currency", "paid_at",
                                                     "method",     "reference", "reverses", NULL };

#define S_AMOUNT_MAX 1000000000000000LL

const char *const promise_body_promise_members[] = {
    "promise_id", "account", "creditor", "tenant", "phone", "zone", "currency", "installments", "tolerance",
    "grace_days", "campaign", "lead", "agent", "dial_id", NULL
};

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

/* An integer member from lo to hi (absent or null: *out untouched unless required). */
static bool
s_int (const json_t *v, const char *name, bool required, long long lo, long long hi, long long *out, char *msg,
       size_t msg_size)
{
    if ((!v || json_is_null (v)) && !required)
        return true;
    if (!v || !json_is_integer (v) || json_integer_value (v) < lo || json_integer_value (v) > hi) {
        snprintf (msg, msg_size, "%s: an integer from %lld to %lld (amounts are minor units: 1234 for 12.34)", name,
                  lo, hi);
        return false;
    }
    *out = json_integer_value (v);
    return true;
}

bool
promise_body_promise (const json_t *o, promise_rec_t *rec, char *id, size_t id_size, char *field, size_t field_size,
                      char *msg, size_t msg_size)
{
    memset (rec, 0, sizeof *rec);
    *id = '\0';
    static const struct {
        const char *k;
        size_t max;
        bool required;
        size_t off, size;
    } strs[] = {
        { "account", PROMISE_ID_MAX - 1, true, offsetof (promise_rec_t, account), PROMISE_ID_MAX },
        { "creditor", PROMISE_ID_MAX - 1, true, offsetof (promise_rec_t, creditor), PROMISE_ID_MAX },
        { "tenant", PROMISE_ID_MAX - 1, false, offsetof (promise_rec_t, tenant), PROMISE_ID_MAX },
        { "phone", 16, true, offsetof (promise_rec_t, phone), sizeof ((promise_rec_t *) 0)->phone },
        { "zone", 63, false, offsetof (promise_rec_t, zone), sizeof ((promise_rec_t *) 0)->zone },
        { "currency", 3, true, offsetof (promise_rec_t, ledger.currency), sizeof ((promise_rec_t *) 0)->ledger.currency },
        { "campaign", PROMISE_ID_MAX - 1, false, offsetof (promise_rec_t, campaign), PROMISE_ID_MAX },
        { "lead", PROMISE_ID_MAX - 1, false, offsetof (promise_rec_t, lead), PROMISE_ID_MAX },
        { "agent", PROMISE_ID_MAX - 1, false, offsetof (promise_rec_t, agent), PROMISE_ID_MAX },
        { "dial_id", PROMISE_ID_MAX - 1, false, offsetof (promise_rec_t, dial), PROMISE_ID_MAX },
    };
    if (!json_is_object (o)) {
        snprintf (field, field_size, "%s", "");
        snprintf (msg, msg_size, "a promise is a JSON object");
        return false;
    }
    if (!s_str (o, "promise_id", PROMISE_ID_MAX - 1, false, id, id_size, msg, msg_size)) {
        snprintf (field, field_size, "promise_id");
        return false;
    }
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
        if (!s_str (o, strs[i].k, strs[i].max, strs[i].required, (char *) rec + strs[i].off, strs[i].size, msg,
                    msg_size)) {
            snprintf (field, field_size, "%s", strs[i].k);
            return false;
        }
    long long grace = 0;
    if (!s_int (json_object_get (o, "grace_days"), "grace_days", false, 0, PROMISE_MAX_GRACE_DAYS, &grace, msg,
                msg_size)) {
        snprintf (field, field_size, "grace_days");
        return false;
    }
    rec->ledger.grace_days = (int32_t) grace;
    json_t *tol = json_object_get (o, "tolerance");
    if (tol && !json_is_null (tol)) {
        json_t *amount = json_object_get (tol, "amount"), *percent = json_object_get (tol, "percent");
        if (!json_is_object (tol) || json_object_size (tol) != 1 || (!amount && !percent)) {
            snprintf (field, field_size, "tolerance");
            snprintf (msg, msg_size, "tolerance: {\"amount\": minor units} or {\"percent\": p}");
            return false;
        }
        if (amount) {
            long long t = 0;
            if (!s_int (amount, "tolerance.amount", true, 0, S_AMOUNT_MAX, &t, msg, msg_size)) {
                snprintf (field, field_size, "tolerance.amount");
                return false;
            }
            rec->ledger.tolerance_minor = t;
        } else if (!json_is_number (percent) || json_number_value (percent) < 0 || json_number_value (percent) > 100) {
            snprintf (field, field_size, "tolerance.percent");
            snprintf (msg, msg_size, "tolerance.percent: a number from 0 to 100");
            return false;
        } else
            rec->ledger.tolerance_bp = (int32_t) (json_number_value (percent) * 100.0 + 0.5);
    }
    json_t *inst = json_object_get (o, "installments");
    if (!json_is_array (inst) || json_array_size (inst) == 0 || json_array_size (inst) > PROMISE_MAX_INSTALMENTS) {
        snprintf (field, field_size, "installments");
        snprintf (msg, msg_size, "installments: 1 to %d of {\"due\": \"YYYY-MM-DD\", \"amount\": minor units}",
                  PROMISE_MAX_INSTALMENTS);
        return false;
    }
    for (size_t i = 0; i < json_array_size (inst); i++) {
        json_t *e = json_array_get (inst, i);
        int64_t days = 0;
        if (!json_is_object (e) || json_object_size (e) != 2
            || !promise_body_day (json_string_value (json_object_get (e, "due")), &days)) {
            snprintf (field, field_size, "installments[%d].due", (int) i);
            snprintf (msg, msg_size, "each instalment is {\"due\": \"YYYY-MM-DD\", \"amount\": n}");
            return false;
        }
        long long amount = 0;
        char name[40];
        snprintf (name, sizeof name, "installments[%d].amount", (int) i);
        if (!s_int (json_object_get (e, "amount"), name, true, 1, S_AMOUNT_MAX, &amount, msg, msg_size)) {
            snprintf (field, field_size, "%s", name);
            return false;
        }
        rec->ledger.inst[i].due_days = days;
        rec->ledger.inst[i].amount = amount;
        rec->ledger.n = i + 1;
    }
    return true;
}
