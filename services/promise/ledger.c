/*  ledger.c — one promise to pay: its checks, deadlines, allocation, decisions and stored form
 *  (see ledger.h for the rules).
 */
#include "ledger.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "plateau/error.h"

#define S_DAY_S 86400LL
#define S_DAY_MS (S_DAY_S * 1000)
#define S_AMOUNT_MAX 1000000000000000LL      /* 10^15 minor units: amount·bp stays exact */
#define S_DUE_MAX 2932896                    /* 9999-12-31 */
/* How far a deadline may be from UTC midnight of its nominal day: any offset, and a skipped
 * day (Pacific/Apia, 2011), fit well inside. Only decode checks it. */
#define S_DEADLINE_SLACK_MS (3 * S_DAY_MS)

typedef struct {
    char *field;
    size_t field_size;
    char *msg;
    size_t msg_size;
} s_out_t;

static int
s_fail (s_out_t *o, int i, const char *name, const char *fmt, ...) __attribute__ ((format (printf, 4, 5)));

/* Names the field ("installments[i].<name>" when i >= 0) and says what is wrong with it. */
static int
s_fail (s_out_t *o, int i, const char *name, const char *fmt, ...)
{
    if (o->field && o->field_size) {
        if (i >= 0)
            snprintf (o->field, o->field_size, "installments[%d].%s", i, name);
        else
            snprintf (o->field, o->field_size, "%s", name);
    }
    if (o->msg && o->msg_size) {
        va_list ap;
        va_start (ap, fmt);
        vsnprintf (o->msg, o->msg_size, fmt, ap);
        va_end (ap);
    }
    return PL_EINVAL;
}

/* Never trusts n beyond the array, whatever the caller put there. */
static size_t
s_n (const promise_t *p)
{
    return p->n < PROMISE_MAX_INSTALMENTS ? p->n : PROMISE_MAX_INSTALMENTS;
}

static bool
s_currency_ok (const char *c)
{
    for (int k = 0; k < 3; k++)
        if (c[k] < 'A' || c[k] > 'Z')
            return false;
    return c[3] == '\0';
}

static bool
s_is_paid (const promise_t *p, size_t i)
{
    return p->inst[i].paid >= p->inst[i].amount - promise_tolerance (p, i);
}

/* The instant the local midnight that begins day `days` happens: the first of two in a repeated
 * hour, the end of the gap when the clocks skip it. */
static int64_t
s_midnight_ms (const pl_rules_tz_t *zone, int64_t days)
{
    int64_t local_s = days * S_DAY_S, utc_s;
    pl_rules_tz_utc (zone, local_s, PL_RULES_TZ_FIRST, &utc_s);
    if (utc_s == PL_RULES_TZ_NEVER)
        utc_s = local_s - pl_rules_tz_offset (zone, local_s);
    return utc_s * 1000;
}

int64_t
promise_tolerance (const promise_t *p, size_t i)
{
    if (i >= s_n (p))
        return 0;
    if (p->tolerance_bp > 0) {
        int64_t a = p->inst[i].amount;
        int64_t bp = p->tolerance_bp < 10000 ? p->tolerance_bp : 10000;
        if (a <= 0)
            return 0;
        /* a·bp/10000 rounded down without the product: a = q·10000 + r. */
        return a / 10000 * bp + a % 10000 * bp / 10000;
    }
    return p->tolerance_minor > 0 ? p->tolerance_minor : 0;
}

int
promise_open (promise_t *p, const pl_rules_tz_t *zone, int64_t today_days, char *field, size_t field_size,
              char *msg, size_t msg_size)
{
    s_out_t o = { field, field_size, msg, msg_size };
    if (field && field_size)
        field[0] = '\0';
    if (msg && msg_size)
        msg[0] = '\0';
    if (p->n < 1 || p->n > PROMISE_MAX_INSTALMENTS)
        return s_fail (&o, -1, "installments", "a promise has 1 to %d installments", PROMISE_MAX_INSTALMENTS);
    if (!s_currency_ok (p->currency))
        return s_fail (&o, -1, "currency", "the currency is an ISO 4217 code: three upper-case letters");
    if (p->tolerance_minor < 0 || p->tolerance_bp < 0 || p->tolerance_bp > 10000)
        return s_fail (&o, -1, "tolerance", "the tolerance is at least 0, and at most 10000 basis points");
    if (p->tolerance_minor > 0 && p->tolerance_bp > 0)
        return s_fail (&o, -1, "tolerance", "the tolerance is absolute or in basis points, not both");
    if (p->grace_days < 0 || p->grace_days > PROMISE_MAX_GRACE_DAYS)
        return s_fail (&o, -1, "grace_days", "grace_days is 0 to %d", PROMISE_MAX_GRACE_DAYS);
    for (size_t i = 0; i < p->n; i++) {
        const promise_inst_t *in = &p->inst[i];
        if (in->amount <= 0)
            return s_fail (&o, (int) i, "amount", "the amount must be more than 0");
        if (in->amount > S_AMOUNT_MAX)
            return s_fail (&o, (int) i, "amount", "the amount is at most %lld minor units", S_AMOUNT_MAX);
        if (in->due_days < today_days)
            return s_fail (&o, (int) i, "due", "the due date is in the past");
        if (i > 0 && in->due_days <= p->inst[i - 1].due_days)
            return s_fail (&o, (int) i, "due", "the due dates are out of order: each comes after the one "
                           "before");
        if (in->due_days < 0 || in->due_days > S_DUE_MAX)
            return s_fail (&o, (int) i, "due", "the due date is out of range (1970-01-01 to 9999-12-31)");
    }
    for (size_t i = 0; i < p->n; i++)
        if (promise_tolerance (p, i) >= p->inst[i].amount)
            return s_fail (&o, -1, "tolerance", "the tolerance must be smaller than each installment's "
                           "amount (installment %zu is %" PRId64 ")", i, p->inst[i].amount);
    if (!zone)
        return s_fail (&o, -1, "zone", "the debtor's time zone is not known");

    for (size_t i = 0; i < p->n; i++) {
        promise_inst_t *in = &p->inst[i];
        in->paid = 0;
        in->status = PROMISE_INST_PENDING;
        in->deadline_ms = s_midnight_ms (zone, in->due_days + 1 + p->grace_days);
    }
    memset (p->inst + p->n, 0, (PROMISE_MAX_INSTALMENTS - p->n) * sizeof p->inst[0]);
    p->credit = 0;
    p->status = PROMISE_ACTIVE;
    return 0;
}

/* The status of instalment i after its money changed at at_ms. One that drops out of paid
 * after its deadline (a reversal) was never paid in time: missed. */
static void
s_restate (promise_t *p, size_t i, int64_t at_ms, promise_change_t *ch)
{
    promise_inst_t *in = &p->inst[i];
    if (s_is_paid (p, i)) {
        if (in->status != PROMISE_INST_PAID)
            ch->paid |= 1ULL << i;
        in->status = PROMISE_INST_PAID;
        return;
    }
    if (in->status == PROMISE_INST_MISSED)
        return;
    if (in->status == PROMISE_INST_PAID && in->deadline_ms <= at_ms) {
        in->status = PROMISE_INST_MISSED;
        ch->missed |= 1ULL << i;
        return;
    }
    in->status = in->paid > 0 ? PROMISE_INST_PARTLY_PAID : PROMISE_INST_PENDING;
}

/* What the clock and the money decide at at_ms for an active promise. */
static void
s_decide (promise_t *p, int64_t at_ms, promise_change_t *ch)
{
    if (p->status != PROMISE_ACTIVE)
        return;
    bool missed = false, all_paid = true;
    for (size_t i = 0; i < s_n (p); i++) {
        promise_inst_t *in = &p->inst[i];
        if (in->status == PROMISE_INST_PAID)
            continue;
        all_paid = false;
        if (in->status != PROMISE_INST_MISSED && in->deadline_ms <= at_ms) {
            in->status = PROMISE_INST_MISSED;
            ch->missed |= 1ULL << i;
        }
        if (in->status == PROMISE_INST_MISSED)
            missed = true;
    }
    if (missed) {
        p->status = promise_paid (p) > 0 || p->credit > 0 ? PROMISE_PARTIALLY_KEPT : PROMISE_BROKEN;
        ch->decided = true;
    } else if (all_paid) {
        p->status = PROMISE_KEPT;
        ch->decided = true;
    }
}

void
promise_tick (promise_t *p, int64_t now_ms, promise_change_t *ch)
{
    promise_change_t spare;
    if (!ch)
        ch = &spare;
    memset (ch, 0, sizeof *ch);
    s_decide (p, now_ms, ch);
}

void
promise_pay (promise_t *p, int64_t amount, int64_t at_ms, promise_change_t *ch)
{
    promise_change_t spare;
    if (!ch)
        ch = &spare;
    memset (ch, 0, sizeof *ch);
    if (amount <= 0)
        return;
    s_decide (p, at_ms, ch);
    int64_t left = amount;
    for (size_t i = 0; i < s_n (p) && left > 0; i++) {
        promise_inst_t *in = &p->inst[i];
        int64_t room = in->amount - in->paid;
        if (room <= 0)
            continue;
        int64_t take = left < room ? left : room;
        in->paid += take;
        left -= take;
        s_restate (p, i, at_ms, ch);
    }
    /* Saturates: only a payment near INT64_MAX minor units could get there. */
    p->credit = p->credit > INT64_MAX - left ? INT64_MAX : p->credit + left;
    s_decide (p, at_ms, ch);
}

void
promise_reverse (promise_t *p, int64_t amount, int64_t at_ms, promise_change_t *ch)
{
    promise_change_t spare;
    if (!ch)
        ch = &spare;
    memset (ch, 0, sizeof *ch);
    if (amount <= 0)
        return;
    s_decide (p, at_ms, ch);
    int64_t left = amount;
    int64_t take = left < p->credit ? left : p->credit;
    p->credit -= take;
    left -= take;
    for (size_t i = s_n (p); i-- > 0 && left > 0;) {
        promise_inst_t *in = &p->inst[i];
        take = left < in->paid ? left : in->paid;
        if (take == 0)
            continue;
        in->paid -= take;
        left -= take;
        s_restate (p, i, at_ms, ch);
    }
    if (p->status == PROMISE_KEPT) {
        bool short_again = false;
        for (size_t i = 0; i < s_n (p); i++)
            if (p->inst[i].status != PROMISE_INST_PAID)
                short_again = true;
        if (!short_again)
            return;
        p->status = PROMISE_ACTIVE;
        s_decide (p, at_ms, ch);
        ch->reopened = p->status == PROMISE_ACTIVE;
        return;
    }
    s_decide (p, at_ms, ch);
}

int
promise_cancel (promise_t *p)
{
    if (p->status != PROMISE_ACTIVE)
        return PL_EINVAL;
    p->status = PROMISE_CANCELLED;
    return 0;
}

int64_t
promise_next_deadline (const promise_t *p)
{
    if (p->status != PROMISE_ACTIVE)
        return PROMISE_NEVER;
    int64_t next = PROMISE_NEVER;
    for (size_t i = 0; i < s_n (p); i++)
        if (p->inst[i].status != PROMISE_INST_PAID && p->inst[i].deadline_ms < next)
            next = p->inst[i].deadline_ms;
    return next;
}

int64_t
promise_next_due (const promise_t *p)
{
    for (size_t i = 0; i < s_n (p); i++)
        if (p->inst[i].status != PROMISE_INST_PAID)
            return p->inst[i].due_days;
    return -1;
}

int64_t
promise_amount (const promise_t *p)
{
    int64_t sum = 0;
    for (size_t i = 0; i < s_n (p); i++)
        sum += p->inst[i].amount;
    return sum;
}

int64_t
promise_paid (const promise_t *p)
{
    int64_t sum = 0;
    for (size_t i = 0; i < s_n (p); i++)
        sum += p->inst[i].paid;
    return sum;
}

/* ------------------------------------------------------------------------------------------ */
/* Stored form                                                                                  */

static void
s_put (char *out, size_t size, size_t *len, const char *fmt, ...) __attribute__ ((format (printf, 4, 5)));

static void
s_put (char *out, size_t size, size_t *len, const char *fmt, ...)
{
    size_t room = *len < size ? size - *len : 0;
    va_list ap;
    va_start (ap, fmt);
    int k = vsnprintf (room ? out + *len : NULL, room, fmt, ap);
    va_end (ap);
    if (k > 0)
        *len += (size_t) k;
}

int
promise_encode (const promise_t *p, char *out, size_t size)
{
    size_t len = 0;
    s_put (out, size, &len, "1|%.3s|%" PRId64 "|%" PRId32 "|%" PRId32 "|%d|%" PRId64 "|%zu|", p->currency,
           p->tolerance_minor, p->tolerance_bp, p->grace_days, (int) p->status, p->credit, s_n (p));
    for (size_t i = 0; i < s_n (p); i++) {
        const promise_inst_t *in = &p->inst[i];
        s_put (out, size, &len, "%s%" PRId64 ":%" PRId64 ":%" PRId64 ":%" PRId64 ":%d", i ? ";" : "",
               in->due_days, in->amount, in->paid, in->deadline_ms, (int) in->status);
    }
    if (len >= size)
        return -1;
    return (int) len;
}

/* A decimal in 0..max written as encode writes it (no sign, no leading zero), then `sep` (or the
 * end of the text when sep is '\0'). */
static bool
s_read (const char **s, int64_t max, char sep, int64_t *v)
{
    const char *c = *s;
    if (*c < '0' || *c > '9' || (*c == '0' && c[1] >= '0' && c[1] <= '9'))
        return false;
    int64_t x = 0;
    for (; *c >= '0' && *c <= '9'; c++) {
        int d = *c - '0';
        if (x > max / 10 || (x == max / 10 && d > max % 10))
            return false;
        x = x * 10 + d;
    }
    if (*c != sep)
        return false;
    *s = sep ? c + 1 : c;
    *v = x;
    return true;
}

/* What the code above can leave behind, and nothing else: a stored promise that breaks these
 * was not written by promise_encode. */
static bool
s_consistent (const promise_t *p)
{
    if (p->tolerance_minor > 0 && p->tolerance_bp > 0)
        return false;
    bool all_paid = true, missed = false;
    for (size_t i = 0; i < p->n; i++) {
        const promise_inst_t *in = &p->inst[i];
        const promise_inst_t *prev = i > 0 ? &p->inst[i - 1] : NULL;
        if (prev && (in->due_days <= prev->due_days || in->deadline_ms < prev->deadline_ms))
            return false;
        int64_t nominal = (in->due_days + 1 + p->grace_days) * S_DAY_MS;
        if (in->deadline_ms < nominal - S_DEADLINE_SLACK_MS
            || in->deadline_ms > nominal + S_DEADLINE_SLACK_MS)
            return false;
        if (in->paid > in->amount || promise_tolerance (p, i) >= in->amount)
            return false;
        /* Credit is what is left once every instalment has its whole amount. */
        if (p->credit > 0 && in->paid < in->amount)
            return false;
        bool paid = s_is_paid (p, i), ok = false;
        switch (in->status) {
        case PROMISE_INST_PENDING: ok = in->paid == 0; break;
        case PROMISE_INST_PARTLY_PAID: ok = in->paid > 0 && !paid; break;
        case PROMISE_INST_PAID: ok = paid; break;
        case PROMISE_INST_MISSED: ok = !paid; break;
        }
        if (!ok)
            return false;
        missed = missed || in->status == PROMISE_INST_MISSED;
        all_paid = all_paid && paid;
    }
    if (p->status == PROMISE_ACTIVE && (missed || all_paid))
        return false;
    if (p->status == PROMISE_KEPT && !all_paid)
        return false;
    return true;
}

int
promise_decode (promise_t *p, const char *text)
{
    if (!text || strncmp (text, "1|", 2) != 0)
        return PL_ECORRUPT;
    promise_t q;
    memset (&q, 0, sizeof q);
    const char *s = text + 2;
    for (int k = 0; k < 3; k++)
        if (s[k] < 'A' || s[k] > 'Z')
            return PL_ECORRUPT;
    if (s[3] != '|')
        return PL_ECORRUPT;
    memcpy (q.currency, s, 3);
    s += 4;
    int64_t bp, grace, status, n;
    if (!s_read (&s, S_AMOUNT_MAX, '|', &q.tolerance_minor) || !s_read (&s, 10000, '|', &bp)
        || !s_read (&s, PROMISE_MAX_GRACE_DAYS, '|', &grace) || !s_read (&s, PROMISE_CANCELLED, '|', &status)
        || !s_read (&s, INT64_MAX, '|', &q.credit) || !s_read (&s, PROMISE_MAX_INSTALMENTS, '|', &n))
        return PL_ECORRUPT;
    if (status < PROMISE_ACTIVE || n < 1)
        return PL_ECORRUPT;
    q.tolerance_bp = (int32_t) bp;
    q.grace_days = (int32_t) grace;
    q.status = (promise_status_t) status;
    q.n = (size_t) n;
    for (size_t i = 0; i < q.n; i++) {
        promise_inst_t *in = &q.inst[i];
        int64_t st;
        if (!s_read (&s, S_DUE_MAX, ':', &in->due_days) || !s_read (&s, S_AMOUNT_MAX, ':', &in->amount)
            || !s_read (&s, S_AMOUNT_MAX, ':', &in->paid) || !s_read (&s, INT64_MAX, ':', &in->deadline_ms)
            || !s_read (&s, PROMISE_INST_MISSED, i + 1 < q.n ? ';' : '\0', &st))
            return PL_ECORRUPT;
        if (in->amount < 1 || st < PROMISE_INST_PENDING)
            return PL_ECORRUPT;
        in->status = (promise_inst_status_t) st;
    }
    if (!s_consistent (&q))
        return PL_ECORRUPT;
    *p = q;
    return 0;
}

const char *
promise_status_str (promise_status_t s)
{
    switch (s) {
    case PROMISE_ACTIVE: return "active";
    case PROMISE_KEPT: return "kept";
    case PROMISE_PARTIALLY_KEPT: return "partially_kept";
    case PROMISE_BROKEN: return "broken";
    case PROMISE_CANCELLED: return "cancelled";
    }
    return "unknown";
}

const char *
promise_inst_status_str (promise_inst_status_t s)
{
    switch (s) {
    case PROMISE_INST_PENDING: return "pending";
    case PROMISE_INST_PARTLY_PAID: return "partly_paid";
    case PROMISE_INST_PAID: return "paid";
    case PROMISE_INST_MISSED: return "missed";
    }
    return "unknown";
}
