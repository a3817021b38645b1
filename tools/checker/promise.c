/*  promise.c — promises to pay, recomputed from the records alone (docs/audit-events.md, never
 *  services/promise): each promise's money replayed from its payments and reversals in the
 *  export's order (a decision after the payments of its own instant), its decisions held to
 *  that replay and to its deadlines, its follow-up by the dialer, no call on its debt while it
 *  is active, and the summary per campaign.
 *
 *  Money fills the instalments oldest first and only then goes to credit; a reversal takes
 *  credit first, then the newest instalment with money. So what each instalment holds follows
 *  from one number, the money the promise has taken: the replay keeps that number.
 */
#include "check_int.h"

#include <stdlib.h>
#include <string.h>

#define S_EARLY_PAYMENT_MS (7 * CK_DAY_MS)  /* an unmatched payment waits this long for a promise */
#define S_MARGIN_MS CK_HOUR_MS              /* what the end of an export may leave undone */

#define S_V(self, kind, rule, p, at, ...)                                                        \
    ck_violation (self, kind, rule, "", s_lead_name (self, p), s_camp_name (self, p), at,        \
                  __VA_ARGS__)

static const char *
s_lead_name (pl_check_t *self, const ck_promise_t *p)
{
    int64_t i = ck_map_get (&self->lead_by_id, p->lead_id);
    return i >= 0 ? self->leads[i].ext : p->lead_id;
}

static const char *
s_camp_name (pl_check_t *self, const ck_promise_t *p)
{
    return p->campaign >= 0 ? self->campaigns[p->campaign].name : "";
}

static const char *
s_status_name (char s)
{
    return s == 'k' ? "kept" : s == 'p' ? "partially_kept" : s == 'b' ? "broken"
           : s == 'c' ? "cancelled" : s == 'a' ? "active" : "unknown";
}

static const char *
s_iso (int64_t ms, char *out, size_t size)
{
    ck_iso (ms, out, size);
    return out;
}

/* The promise of that id, made on first mention (a record may come before its promise.made). */
static ck_promise_t *
s_promise (pl_check_t *self, const char *id)
{
    if (!*id)
        return NULL;
    int64_t i = ck_map_get (&self->promise_by_id, id);
    if (i >= 0)
        return &self->promises[i];
    if (ck_grow (&self->promises, &self->cap_promises, self->n_promises, sizeof *self->promises) != 0)
        return NULL;
    ck_promise_t *p = &self->promises[self->n_promises];
    memset (p, 0, sizeof *p);
    p->id = ck_intern (self, id);
    p->lead_id = p->tenant = p->account = p->currency = "";
    p->campaign = -1;
    p->open = -1;
    ck_map_put (&self->promise_by_id, id, (int64_t) self->n_promises++);
    return p;
}

/* Who and what the promise is about: from its promise.made, or (before it) any record of it. */
static void
s_fill (pl_check_t *self, ck_promise_t *p, json_t *rec, bool made)
{
    const char *v[4] = {ck_str (rec, "lead_id"), ck_str (rec, "tenant"),
                        ck_str (rec, "promise.account_ref"), ck_str (rec, "promise.currency")};
    const char **f[4] = {&p->lead_id, &p->tenant, &p->account, &p->currency};
    for (int i = 0; i < 4; i++)
        if (*v[i] && (made || !**f[i]))
            *f[i] = ck_intern (self, v[i]);
    ck_campaign_t *c = ck_campaign (self, ck_str (rec, "campaign"));
    if (c && (made || p->campaign < 0))
        p->campaign = (int) (c - self->campaigns);
}

/* ---- the replay ----------------------------------------------------------------------------- */

/* What instalment i holds when the promise has taken `money`. */
static int64_t
s_held (const ck_promise_t *p, int i, int64_t money)
{
    for (int k = 0; k < i; k++)
        money -= p->inst[k].amount;
    return money < 0 ? 0 : money > p->inst[i].amount ? p->inst[i].amount : money;
}

/* The first instalment short of its amount less its tolerance, and what it holds; -1 when
 * every one is paid. The ones after it hold nothing: they are short too. */
static int
s_first_short (const ck_promise_t *p, int64_t money, int64_t *held)
{
    int64_t left = money > 0 ? money : 0;
    for (int i = 0; i < p->n; i++) {
        int64_t h = left < p->inst[i].amount ? left : p->inst[i].amount;
        left -= h;
        if (h < p->inst[i].amount - p->inst[i].tolerance) {
            if (held)
                *held = h;
            return i;
        }
    }
    return -1;
}

static int64_t
s_promised (const ck_promise_t *p)
{
    int64_t sum = 0;
    for (int i = 0; i < p->n; i++)
        sum += p->inst[i].amount;
    return sum;
}

static void
s_want (ck_promise_t *p, char d, int inst, int64_t at)
{
    p->want = d;
    p->want_inst = inst;
    p->want_at = at;
    p->want_money = p->money;
}

/* What the clock at t and the money decide for an active promise not decided yet: missed when
 * its first short instalment's deadline has passed (partially kept with money, else broken),
 * kept when none is short. `at` is the instant the service writes it. */
static void
s_decide (ck_promise_t *p, int64_t t, int64_t at)
{
    if (p->status != 'a' || p->want || !p->n)
        return;
    int i = s_first_short (p, p->money, NULL);
    if (i < 0)
        s_want (p, 'k', -1, at);
    else if (p->inst[i].deadline <= t)
        s_want (p, p->money > 0 ? 'p' : 'b', i, at);
}

/* An interval of activity from `from`, listed under the promise's tenant and account. */
static void
s_open (pl_check_t *self, ck_promise_t *p, int64_t from)
{
    if (p->open >= 0 || !*p->account
        || ck_grow (&self->actives, &self->cap_actives, self->n_actives, sizeof *self->actives) != 0)
        return;
    char key[512];
    snprintf (key, sizeof key, "%s\x1f%s", p->tenant, p->account);
    self->actives[self->n_actives] = (ck_active_t) {p - self->promises, from, 0,
                                                    ck_map_get (&self->active_head, key)};
    ck_map_put (&self->active_head, key, (int64_t) self->n_actives);
    p->open = (int64_t) self->n_actives++;
}

static void
s_close (pl_check_t *self, ck_promise_t *p, int64_t until)
{
    if (p->open >= 0)
        self->actives[p->open].until = until;
    p->open = -1;
}

/* ---- records -------------------------------------------------------------------------------- */

static void
s_made (pl_check_t *self, json_t *rec, ck_promise_t *p)
{
    if (p->made_at)
        return;             /* a promise is opened once */
    s_fill (self, p, rec, true);
    const char *ev = ck_str (rec, "event_id");
    int64_t at = ck_int (rec, "at_ms");
    json_t *sched = ck_field (rec, "promise.schedule");
    size_t n = json_array_size (sched);
    int64_t count = ck_int (rec, "promise.instalments");
    if (sched && count && (int64_t) n != count)
        S_V (self, "missing_fact", "promise.made", p, at,
             "promise.made record %s says %lld instalments, its schedule has %zu", ev,
             (long long) count, n);
    if (n > CK_MAX_INSTALMENTS) {
        S_V (self, "missing_fact", "promise.made", p, at,
             "promise.made record %s schedules %zu instalments; the checker reads %d", ev, n,
             CK_MAX_INSTALMENTS);
        n = 0;
    }
    p->inst = n ? calloc (n, sizeof *p->inst) : NULL;
    bool whole = p->inst != NULL;       /* a schedule with a hole is not replayed */
    for (size_t i = 0; p->inst && i < n; i++) {
        json_t *e = json_array_get (sched, i);
        const char *need[3] = {"due", "amount_minor", "deadline_ms"};
        for (int k = 0; k < 3; k++) {
            json_t *v = json_object_get (e, need[k]);
            if (v && !(json_is_string (v) && !*json_string_value (v)))
                continue;
            S_V (self, "missing_fact", "promise.made", p, at,
                 "promise.made record %s has no promise.schedule[%zu].%s", ev, i, need[k]);
            whole = false;
        }
        p->inst[i] = (ck_inst_t) {ck_int (e, "amount_minor"), ck_int (e, "deadline_ms"),
                                  ck_int (e, "tolerance_minor")};
    }
    p->n = whole ? (int) n : 0;
    p->amount = ck_int (rec, "promise.amount_minor");
    if (p->n && s_promised (p) != p->amount)
        S_V (self, "promise_money", "promise.made", p, at,
             "promise %s: amount_minor %lld, its schedule adds up to %lld", p->id,
             (long long) p->amount, (long long) s_promised (p));
    p->made_at = at ? at : 1;
    if (!p->status) {
        p->status = 'a';
        s_open (self, p, p->made_at);
    }
    s_decide (p, at, at);   /* money taken before it (records out of order) */
}

/* A payment no promise took: kept for the account's next promise. */
static void
s_unmatched_add (pl_check_t *self, json_t *rec)
{
    const char *pay = ck_str (rec, "promise.payment_id"), *acc = ck_str (rec, "promise.account_ref");
    if (!*pay || ck_map_get (&self->unmatched_by_id, pay) >= 0
        || ck_grow (&self->unmatched, &self->cap_unmatched, self->n_unmatched, sizeof *self->unmatched))
        return;
    int64_t paid_at = ck_int (rec, "promise.paid_at_ms");
    self->unmatched[self->n_unmatched] = (ck_unmatched_t) {
        ck_intern (self, acc), ck_intern (self, ck_str (rec, "promise.currency")),
        ck_int (rec, "promise.payment_minor"), paid_at ? paid_at : ck_int (rec, "at_ms"),
        ck_map_get (&self->unmatched_head, acc), false};
    ck_map_put (&self->unmatched_by_id, pay, (int64_t) self->n_unmatched);
    ck_map_put (&self->unmatched_head, acc, (int64_t) self->n_unmatched++);
}

/* A reversal no promise took: of a payment still unmatched on the account. The record does not
 * say which one; the latest first, for the summary. */
static void
s_unmatched_reverse (pl_check_t *self, json_t *rec)
{
    const char *cur = ck_str (rec, "promise.currency");
    int64_t left = ck_int (rec, "promise.payment_minor");
    for (int64_t i = ck_map_get (&self->unmatched_head, ck_str (rec, "promise.account_ref"));
         i >= 0 && left > 0; i = self->unmatched[i].next) {
        ck_unmatched_t *u = &self->unmatched[i];
        if (u->applied || strcmp (u->currency, cur) != 0)
            continue;
        int64_t take = left < u->amount ? left : u->amount;
        u->amount -= take;
        left -= take;
    }
}

static void
s_payment (pl_check_t *self, json_t *rec, const char *type)
{
    bool reversal = strcmp (type, "payment.reversed") == 0;
    const char *pid = ck_str (rec, "promise.promise_id"), *pay = ck_str (rec, "promise.payment_id");
    if (!*pid) {
        if (strcmp (type, "payment.unmatched") == 0)
            s_unmatched_add (self, rec);
        else if (reversal)
            s_unmatched_reverse (self, rec);
        return;
    }
    ck_promise_t *p = s_promise (self, pid);
    if (!p)
        return;
    if (!p->made_at)
        s_fill (self, p, rec, false);
    const char *acc = ck_str (rec, "promise.account_ref"), *cur = ck_str (rec, "promise.currency");
    int64_t amount = ck_int (rec, "promise.payment_minor"), at = ck_int (rec, "at_ms");
    int64_t paid_at = ck_int (rec, "promise.paid_at_ms");
    char a[32], b[32];
    p->money_at = at;
    int64_t u = reversal || !*pay ? -1 : ck_map_get (&self->unmatched_by_id, pay);
    if (u >= 0 && !self->unmatched[u].applied) {
        ck_unmatched_t *x = &self->unmatched[u];
        x->applied = true;
        if (p->made_at && (strcmp (x->account, p->account) != 0
                           || p->made_at - x->paid_at > S_EARLY_PAYMENT_MS))
            S_V (self, "promise_money", type, p, at,
                 "payment %s, unmatched on account %s since %s, went to promise %s of account %s "
                 "made %s: only the account's next promise made within 7 days takes it", pay,
                 x->account, s_iso (x->paid_at, a, sizeof a), p->id, p->account,
                 s_iso (p->made_at, b, sizeof b));
    }
    bool same = !p->made_at || !*cur || strcmp (cur, p->currency) == 0;
    if (!same)
        S_V (self, "promise_money", "promise.currency", p, at,
             "payment %s in %s taken by promise %s in %s", pay, cur, p->id, p->currency);
    if (p->made_at && *acc && strcmp (acc, p->account) != 0)
        S_V (self, "promise_money", type, p, at, "payment %s of account %s taken by promise %s of "
             "account %s", pay, acc, p->id, p->account);
    /* A payment in another currency is refused by the service: none of it is replayed. */
    if (same && !reversal) {
        /* The clock is read at the payment's own instant: money paid after a deadline is late
         * for it, whenever the service's sweep would have run. */
        int64_t t = paid_at > 0 && paid_at <= at ? paid_at : at;
        s_decide (p, t, at);
        p->money += amount;
        s_decide (p, t, at);
    } else if (same) {
        s_decide (p, at, at);
        p->money -= amount < p->money ? amount : p->money;
        char now = p->want ? p->want : p->status;
        int i = s_first_short (p, p->money, NULL);
        if (now == 'k' && i >= 0) {
            /* A kept promise short again: active again before that instalment's deadline,
             * decided at once after it. */
            if (p->inst[i].deadline <= at)
                s_want (p, p->money > 0 ? 'p' : 'b', i, at);
            else {
                p->want = 0;
                p->want_reopen = true;
            }
        } else
            s_decide (p, at, at);
    }
    if (same)
        p->collected += reversal ? -amount : amount;
    if (!p->n)
        return;
    int64_t promised = s_promised (p), rp = ck_int (rec, "promise.paid_minor");
    int64_t rc = ck_int (rec, "promise.credit_minor");
    int64_t mp = p->money < promised ? p->money : promised, mc = p->money - mp;
    if ((rp != mp || rc != mc) && !p->money_wrong) {
        p->money_wrong = true;  /* a service that splits wrongly does so at every payment */
        S_V (self, "promise_money", type, p, at,
             "%s %s of %lld on promise %s: the record says %lld allocated and %lld credit, the "
             "payments make it %lld and %lld", type, pay, (long long) amount, p->id, (long long) rp,
             (long long) rc, (long long) mp, (long long) mc);
    }
    if (rp != mp || rc != mc)
        p->money = rp + rc;     /* the replay goes on from the record's figures */
}

static void
s_decision (pl_check_t *self, json_t *rec, ck_promise_t *p, char d, const char *type)
{
    int64_t at = ck_int (rec, "at_ms");
    char a[32];
    /* A kept promise that a reversal leaves short after the deadline is decided again. */
    bool again = p->status == 'k' && d != 'k' && (p->want == 'p' || p->want == 'b');
    if (p->made_at && p->status != 'a' && !again)
        S_V (self, "promise_decision", type, p, at, "%s of promise %s, already %s", type, p->id,
             s_status_name (p->status));
    else if (p->n) {
        s_decide (p, at, at);
        bool missed = p->want == 'p' || p->want == 'b';
        int64_t held;
        if (d == 'k') {
            int i = s_first_short (p, p->money, &held);
            if (i >= 0)
                S_V (self, "promise_decision", type, p, at, "promise.kept of promise %s while "
                     "instalment %d holds %lld of %lld (tolerance %lld)", p->id, i,
                     (long long) held, (long long) p->inst[i].amount,
                     (long long) p->inst[i].tolerance);
            else if (missed)
                S_V (self, "promise_decision", type, p, at, "promise.kept of promise %s, but "
                     "instalment %d's deadline %s passed before the money that paid it", p->id,
                     p->want_inst, s_iso (p->inst[p->want_inst].deadline, a, sizeof a));
        } else {
            int i = (int) ck_int (rec, "promise.instalment");
            int64_t basis = missed ? p->want_money : p->money;
            if (i < 0 || i >= p->n)
                S_V (self, "promise_decision", type, p, at, "%s of promise %s names instalment "
                     "%d of %d", type, p->id, i, p->n);
            else {
                const ck_inst_t *in = &p->inst[i];
                int64_t rdl = ck_int (rec, "promise.deadline_ms");
                held = s_held (p, i, basis);
                if (at < in->deadline)
                    S_V (self, "promise_decision", type, p, at, "%s of promise %s before "
                         "instalment %d's deadline %s", type, p->id, i,
                         s_iso (in->deadline, a, sizeof a));
                if (held >= in->amount - in->tolerance)
                    S_V (self, "promise_decision", type, p, at, "%s of promise %s: instalment %d "
                         "held %lld of %lld (tolerance %lld) by then, it was paid", type, p->id, i,
                         (long long) held, (long long) in->amount, (long long) in->tolerance);
                if (rdl && rdl != in->deadline)
                    S_V (self, "promise_decision", type, p, at, "%s of promise %s: deadline_ms "
                         "%lld, the schedule's is %lld", type, p->id, (long long) rdl,
                         (long long) in->deadline);
            }
            if (d == 'b' && basis > 0)
                S_V (self, "promise_decision", type, p, at, "promise.broken of promise %s with "
                     "%lld allocated to it", p->id, (long long) basis);
            if (d == 'p' && basis <= 0)
                S_V (self, "promise_decision", type, p, at, "promise.partially_kept of promise "
                     "%s with nothing allocated to it", p->id);
        }
    }
    p->status = d;
    p->want = 0;
    p->want_reopen = false;
    if (d != 'k' && !p->broken_at)
        p->broken_at = at;      /* final: what the dialer follows up */
    s_close (self, p, at);
}

static void
s_reopened (pl_check_t *self, json_t *rec, ck_promise_t *p)
{
    int64_t at = ck_int (rec, "at_ms");
    char a[32];
    int i = p->n ? s_first_short (p, p->money, NULL) : -1;
    if (p->made_at && p->status != 'k')
        S_V (self, "promise_decision", "promise.reopened", p, at,
             "promise.reopened of promise %s, which is %s, not kept", p->id,
             s_status_name (p->status));
    else if (p->n && i < 0)
        S_V (self, "promise_decision", "promise.reopened", p, at,
             "promise.reopened of promise %s while every instalment is paid", p->id);
    else if (p->n && p->inst[i].deadline <= at)
        S_V (self, "promise_decision", "promise.reopened", p, at,
             "promise.reopened of promise %s though instalment %d's deadline %s had passed: it "
             "is decided at once", p->id, i, s_iso (p->inst[i].deadline, a, sizeof a));
    p->status = 'a';
    p->want = 0;
    p->want_reopen = false;
    s_open (self, p, at);
}

/* Judges the decision held for the end of its instant, if any. */
static void
s_flush (pl_check_t *self, ck_promise_t *p)
{
    if (!p->held)
        return;
    json_t *rec = p->held;
    p->held = NULL;
    s_decision (self, rec, p, p->held_d, p->held_type);
    json_decref (rec);
}

void
ck_promise_record (pl_check_t *self, json_t *rec, const char *type)
{
    if (strcmp (type, "dial.scheduled") == 0) {
        if (strcmp (ck_str (rec, "schedule.reason"), "promise_broken") != 0)
            return;
        char key[512];
        snprintf (key, sizeof key, "%s\x1f%s", ck_str (rec, "schedule.outcome"),
                  ck_str (rec, "lead_id"));
        int64_t at = ck_int (rec, "at_ms");
        if (at > ck_map_get (&self->follow_ups, key))
            ck_map_put (&self->follow_ups, key, at);
        return;
    }
    if (strncmp (type, "payment.", 8) == 0) {
        const char *pid = ck_str (rec, "promise.promise_id");
        ck_promise_t *q = *pid ? s_promise (self, pid) : NULL;
        if (q && q->held && ck_int (rec, "at_ms") > ck_int (q->held, "at_ms"))
            s_flush (self, q);         /* a later payment: the decision's instant is over */
        s_payment (self, rec, type);
        return;
    }
    ck_promise_t *p = s_promise (self, ck_str (rec, "promise.promise_id"));
    if (!p)
        return;
    /* Records of the same instant that only report money (instalment_paid) leave it held. */
    if (p->held && (ck_int (rec, "at_ms") > ck_int (p->held, "at_ms") || strcmp (type, "promise.instalment_paid")))
        s_flush (self, p);
    const char *what = type + 8;
    if (strcmp (what, "made") == 0) {
        s_made (self, rec, p);
        return;
    }
    if (!p->made_at)
        s_fill (self, p, rec, false);
    char d = strcmp (what, "kept") == 0 ? 'k' : strcmp (what, "partially_kept") == 0 ? 'p'
             : strcmp (what, "broken") == 0 ? 'b' : 0;
    if (d) {
        p->held = json_incref (rec);
        p->held_d = d;
        snprintf (p->held_type, sizeof p->held_type, "%s", type);
    }
    else if (strcmp (what, "reopened") == 0)
        s_reopened (self, rec, p);
    else if (strcmp (what, "cancelled") == 0 && (p->status == 'a' || !p->status)) {
        p->status = 'c';
        p->want = 0;
        s_close (self, p, ck_int (rec, "at_ms"));
    }
}

/* ---- checks --------------------------------------------------------------------------------- */

/* What the end of the export leaves undone: a decision the payments or the clock made. */
static void
s_check_end (pl_check_t *self, const ck_promise_t *p, int64_t end)
{
    char a[32];
    if (!p->made_at)
        S_V (self, "missing_fact", "promise.made", p, 0,
             "records name promise %s, and the export has no promise.made of it", p->id);
    if (p->want_reopen && p->status == 'k')
        S_V (self, "promise_decision", "promise.reopened", p, p->money_at,
             "a reversal left kept promise %s short before its deadline, and no promise.reopened "
             "follows", p->id);
    if (!p->n || (p->status != 'a' && p->status != 'k'))
        return;
    if (p->want && p->want_at < end - S_MARGIN_MS)
        S_V (self, "promise_undecided", p->want == 'k' ? "promise.kept" : "promise.deadline", p,
             p->want_at, "promise %s: the payments and its deadlines make it %s at %s, and no "
             "record says so", p->id, s_status_name (p->want), s_iso (p->want_at, a, sizeof a));
    else if (!p->want && p->status == 'a') {
        int i = s_first_short (p, p->money, NULL);
        if (i >= 0 && p->inst[i].deadline < end - S_MARGIN_MS)
            S_V (self, "promise_undecided", "promise.deadline", p, p->inst[i].deadline,
                 "promise %s still active at the end of the export: instalment %d short since "
                 "its deadline %s", p->id, i, s_iso (p->inst[i].deadline, a, sizeof a));
    }
}

/* A broken or partially kept promise queues its lead again (dial.scheduled promise_broken). The
 * dialer does so for a lead it had finished; one still being called goes on as it was. */
static void
s_check_follow_up (pl_check_t *self, const ck_promise_t *p, int64_t end)
{
    if (!p->broken_at || !*p->lead_id || p->broken_at > end - S_MARGIN_MS)
        return;
    int64_t li = ck_map_get (&self->lead_by_id, p->lead_id);
    if (li >= 0 && (!self->leads[li].finished || self->leads[li].finished_at > p->broken_at))
        return;
    char key[512], a[32];
    snprintf (key, sizeof key, "%s\x1f%s", p->id, p->lead_id);
    if (ck_map_get (&self->follow_ups, key) < p->broken_at)
        S_V (self, "promise_no_follow_up", "dial.scheduled", p, p->broken_at,
             "promise %s %s at %s, and no dial.scheduled (promise_broken) of lead %s follows",
             p->id, s_status_name (p->status), s_iso (p->broken_at, a, sizeof a), p->lead_id);
}

/* No call on a debt while a promise on it is active: a call.requested of any lead of the
 * tenant whose debt is the promise's account, after the promise.made and before its decision
 * or cancellation. One look-up per call. */
static void
s_check_calls (pl_check_t *self)
{
    if (!self->n_actives)
        return;
    for (size_t i = 0; i < self->n_attempts; i++) {
        const ck_attempt_t *a = &self->attempts[i];
        if (!a->requested || !a->requested_at || a->lead < 0 || !a->tenant)
            continue;
        const ck_lead_t *l = &self->leads[a->lead];
        if (!*l->debt)
            continue;
        char key[512], made[32];
        snprintf (key, sizeof key, "%s\x1f%s", a->tenant, l->debt);
        for (int64_t k = ck_map_get (&self->active_head, key); k >= 0; k = self->actives[k].next) {
            const ck_active_t *x = &self->actives[k];
            if (x->from >= a->requested_at || (x->until && a->requested_at >= x->until))
                continue;
            const ck_promise_t *p = &self->promises[x->promise];
            ck_violation (self, "promise_active_call", "promise.active", a->id, l->ext,
                          a->campaign >= 0 ? self->campaigns[a->campaign].name : "",
                          a->requested_at, "call on debt %s of tenant %s while promise %s (lead "
                          "%s, active since %s) is active", l->debt, a->tenant, p->id,
                          s_lead_name (self, p), s_iso (x->from, made, sizeof made));
            break;
        }
    }
}

/* ---- the summary ---------------------------------------------------------------------------- */

static ck_money_t *
s_money (ck_tally_t *t, const char *currency)
{
    for (int i = 0; i < t->n_money; i++)
        if (strcmp (t->money[i].currency, currency) == 0)
            return &t->money[i];
    if (t->n_money == CK_MAX_CURRENCIES)
        return NULL;
    t->money[t->n_money] = (ck_money_t) {currency, 0, 0, 0};
    return &t->money[t->n_money++];
}

static void
s_tally (ck_tally_t *t, const ck_promise_t *p)
{
    t->made += p->made_at != 0;
    t->kept += p->status == 'k';
    t->partial += p->status == 'p';
    t->broken += p->status == 'b';
    t->cancelled += p->status == 'c';
    t->active += p->status == 'a';
    ck_money_t *m = s_money (t, p->currency);
    if (m) {
        m->promised += p->amount;
        m->collected += p->collected;
    }
}

/* Payments still unmatched at the end, each in the campaign of its account's debt (a bundle
 * lead's, else a promise's). */
static void
s_tally_unmatched (pl_check_t *self)
{
    ck_map_t camp = {0};
    bool built = false;
    for (size_t i = 0; i < self->n_unmatched; i++) {
        const ck_unmatched_t *u = &self->unmatched[i];
        if (u->applied || u->amount <= 0)
            continue;
        if (!built) {
            for (size_t k = 0; k < self->n_leads; k++)
                if (*self->leads[k].debt && self->leads[k].campaign >= 0
                    && ck_map_get (&camp, self->leads[k].debt) < 0)
                    ck_map_put (&camp, self->leads[k].debt, self->leads[k].campaign);
            for (size_t k = 0; k < self->n_promises; k++)
                if (*self->promises[k].account && self->promises[k].campaign >= 0
                    && ck_map_get (&camp, self->promises[k].account) < 0)
                    ck_map_put (&camp, self->promises[k].account, self->promises[k].campaign);
            built = true;
        }
        int64_t c = ck_map_get (&camp, u->account);
        ck_tally_t *ts[2] = {&self->promise_total, c >= 0 ? &self->campaigns[c].promises : NULL};
        for (int k = 0; k < 2 && ts[k]; k++) {
            ck_money_t *m = s_money (ts[k], u->currency);
            ts[k]->unmatched++;
            if (m)
                m->unmatched += u->amount;
        }
    }
    ck_map_clear (&camp);
}

void
ck_promise_verify (pl_check_t *self)
{
    for (size_t i = 0; i < self->n_promises; i++)
        s_flush (self, &self->promises[i]);
    for (size_t i = 0; i < self->n_promises; i++) {
        const ck_promise_t *p = &self->promises[i];
        s_check_end (self, p, self->last_at);
        s_check_follow_up (self, p, self->last_at);
        s_tally (&self->promise_total, p);
        if (p->campaign >= 0)
            s_tally (&self->campaigns[p->campaign].promises, p);
    }
    s_check_calls (self);
    s_tally_unmatched (self);
}

void
ck_promise_free (pl_check_t *self)
{
    for (size_t i = 0; i < self->n_promises; i++) {
        free (self->promises[i].inst);
        json_decref (self->promises[i].held);
    }
    free (self->promises);
    free (self->actives);
    free (self->unmatched);
    ck_map_t *maps[] = {&self->promise_by_id, &self->active_head, &self->unmatched_by_id,
                        &self->unmatched_head, &self->follow_ups};
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++)
        ck_map_clear (maps[i]);
}
