/*  decide.c — the decision: evaluate every clause at an instant, and find the earliest legal one.
 *
 *  Each clause, evaluated at an instant t, says PASS, NA, EXEMPT, DENIES (waiting will not
 *  help: no consent, a list hit, a stale list — unless the rule itself lapses on a date, which
 *  makes it a deferral to that date) or DEFERS until t' > t, where t' is *exact*: the
 *  clause forbids every instant of [t, t'), and allows t' taken alone. That makes the search for
 *  defer_until a simple fixpoint: start at now; if some clause defers, jump to the latest t'
 *  any clause asked for (every instant skipped was forbidden by someone) and evaluate again;
 *  stop when every clause passes. The instant found is the earliest whole second at which the
 *  call is legal given the same facts, and deciding again at it gives ALLOW by construction,
 *  because evaluation depends on nothing but the facts and the instant.
 *
 *  Exactness per clause:
 *  - calendars (hours, days, holidays) step through local days and windows with
 *    pl_rules_tz_next_local semantics, so DST gaps and repeated hours are handled where they
 *    happen; with several candidate zones the clause iterates until one instant is allowed in
 *    all of them (the strictest), and reports the zone that bound it;
 *  - rolling caps ("4 per 30d") count the matching calls in (t - W, t] and defer to the instant
 *    the (max)-th most recent leaves the window, i.e. the oldest counted one when at the cap;
 *  - cool-downs ("after conversation 7d", "after machine same-day") defer to event + W, or to
 *    the next local midnight after the event in every candidate zone.
 *
 *  Rolling windows are measured in exact durations (30 d = 30 x 86400 s from the instant of the
 *  call). Within calling hours that is never more permissive than counting calendar dates.
 *  List ages are the exception: the law counts them in dates (ADR 0015), so a copy's age is the
 *  number of local dates between the copy and the call, in the zone whose date turns first.
 *
 *  Nothing here allocates, reads a clock or a file; the decision is a pure function of its
 *  arguments, safe to run on many threads over the same campaign.
 */
#include "rules_int.h"

#include <stdio.h>
#include <string.h>

#define S_MAX_ITER      256     /* instants tried before giving up (deny) */
#define S_CAL_DAYS      400     /* local days a calendar looks ahead */
#define S_ZONE_ITER     2048    /* rounds to agree across candidate zones */
#define S_HORIZON_MS    ((int64_t) PL_RULES_HORIZON_DAYS * PL__DAY_MS)
#define S_NEVER         INT64_MAX
#define S_HIST          256     /* calls sorted once per decision */

typedef struct {
    const uint8_t *nwin;        /* [7] */
    const pl__win_t *win;       /* [7][stride] */
    size_t stride;
    uint8_t ncal;
    const pl_rules_calendar_t *const *cal;
} s_calview_t;

typedef struct {
    const pl_rules_campaign_t *c;
    const pl_rules_facts_t *f;
    int64_t now;
    size_t nz;
    const pl_rules_tz_t *z[PL_RULES_MAX_ZONES];
    size_t nreg;
    uint64_t reg[PL_RULES_MAX_REGIONS];
    uint8_t reg_at[PL_RULES_MAX_REGIONS];   /* index in the facts' regions */
    uint32_t atoms;
    pl_rules_callee_t callee;   /* checked as (the campaign's types only; else consumer) */
    const char *cli;
    /* requested windows made by instant req_for, by weekday; the next request after it and
     * the latest counted (index in the facts, -1 if none) */
    int64_t req_for, req_next;
    int req_last;
    bool req_any;
    uint8_t req_n[7];
    pl__win_t req_w[7][PL__MAXWIN * 2];
    /* the history in time order (up to S_HIST; beyond that caps scan the facts as given),
     * sorted when a cap first needs it */
    bool sorted, sort_done;
    size_t hn;
    int64_t h_at[S_HIST];
    uint16_t h_idx[S_HIST];
    /* per zone: the piece of the last instant looked up */
    int64_t zc_t[PL_RULES_MAX_ZONES];
    size_t zc_k[PL_RULES_MAX_ZONES];
    /* per instant tried */
    bool consent_based;
    bool ex_holds[PL_RULES_MAX_FIRED];
    /* Result reuse across instants: a clause's last outcome, until when it is certain to
     * stay the same (see s_eval), whether it relied on consent, and exemptions' own bounds. */
    size_t cur;
    int64_t vu;
    uint8_t last[PL_RULES_MAX_FIRED];
    int64_t valid[PL_RULES_MAX_FIRED];
    bool cb[PL_RULES_MAX_FIRED];
    int64_t ex_until[PL_RULES_MAX_FIRED];
} s_ctx_t;

static inline void
s_bound (s_ctx_t *x, int64_t until)
{
    if (until < x->vu)
        x->vu = until;
}

/* Piece of zone i at u, remembering the last answer (clauses ask about the same instant). */
static inline size_t
s_piece_of (s_ctx_t *x, size_t i, int64_t u)
{
    if (x->zc_t[i] != u) {
        x->zc_t[i] = u;
        x->zc_k[i] = pl__tz_piece (x->z[i], u);
    }
    return x->zc_k[i];
}

static inline int64_t
s_ceil_s (int64_t ms)
{
    return -pl__floordiv (-ms, 1000) * 1000;
}

/* ------------------------------------------------------------------------------------------ */
/* Calendars                                                                                    */

static inline const char *
s_holiday (const s_ctx_t *x, const s_calview_t *v, int64_t day, const pl_rules_tz_t *z)
{
    for (int i = 0; i < v->ncal; i++) {
        const char *h = pl__calendar_holiday (v->cal[i], day, z, x->reg, x->nreg);
        if (h)
            return h;
    }
    return NULL;
}

/* Earliest u >= t (seconds) allowed by the calendar in zone z; *close_l receives the local end
 * of the window containing u. S_NEVER if none within S_CAL_DAYS. */
static int64_t
s_cal_next (s_ctx_t *x, const s_calview_t *v, size_t zi, int64_t t, int64_t *close_l)
{
    const pl_rules_tz_t *z = x->z[zi];
    size_t k = s_piece_of (x, zi, t);
    /* Usual case: walk the local time line from t's local time to the first allowed second.
     * While that stays inside t's piece (no clock change in between) local = u + offset is
     * one-to-one and the answer is exact. */
    int64_t off = z->off[k];
    int64_t end = k < z->n ? z->at[k] : INT64_MAX;
    int64_t local = t + off;
    int64_t day = pl__floordiv (local, PL__DAY_S);
    int32_t sod = (int32_t) (local - day * PL__DAY_S);
    for (int64_t d = day; d < day + S_CAL_DAYS; d++) {
        int wd = pl__weekday (d) - 1;
        int n = v->nwin[wd];
        if (n == 0 || (v->ncal && s_holiday (x, v, d, z)))
            continue;
        const pl__win_t *w = v->win + (size_t) wd * v->stride;
        for (int i = 0; i < n; i++) {
            if (d == day && w[i].hi <= sod)
                continue;
            int64_t lc = d * PL__DAY_S + (d == day && w[i].lo < sod ? sod : w[i].lo);
            if (lc - off >= end)
                goto careful;
            *close_l = d * PL__DAY_S + w[i].hi;
            return lc - off;
        }
    }
    return S_NEVER;

careful:;
    /* Across a clock change: try every window of the days that can be reached, through
     * pl__tz_next_local_from, and keep the earliest. */
    int64_t d0 = pl__floordiv (t + z->min_off, PL__DAY_S);
    int64_t best = S_NEVER;
    for (int64_t d = d0; d < d0 + S_CAL_DAYS; d++) {
        int64_t base = d * PL__DAY_S;
        if (best != S_NEVER && base - z->max_off >= best)
            break;
        int wd = pl__weekday (d) - 1;
        int n = v->nwin[wd];
        if (n == 0)
            continue;
        if (v->ncal && s_holiday (x, v, d, z))
            continue;
        const pl__win_t *w = v->win + (size_t) wd * v->stride;
        for (int i = 0; i < n; i++) {
            if (best != S_NEVER && base + w[i].lo - z->max_off >= best)
                break;
            int64_t u = pl__tz_next_local_from (z, k, t, base + w[i].lo, base + w[i].hi);
            if (u < best) {
                best = u;
                *close_l = base + w[i].hi;
            }
        }
    }
    return best;
}

/* Why the calendar refuses local time of t in z. */
static uint8_t
s_cal_why (s_ctx_t *x, const s_calview_t *v, size_t zi, int64_t t, const char **name)
{
    const pl_rules_tz_t *z = x->z[zi];
    int64_t local = t + z->off[s_piece_of (x, zi, t)];
    int64_t d = pl__floordiv (local, PL__DAY_S);
    int wd = pl__weekday (d) - 1;
    if (v->nwin[wd] == 0)
        return PL_RULES_WHY_DAY_EXCLUDED;
    const char *h = v->ncal ? s_holiday (x, v, d, z) : NULL;
    if (h) {
        *name = h;
        return PL_RULES_WHY_HOLIDAY;
    }
    return PL_RULES_WHY_OUTSIDE_HOURS;
}

/* Evaluates a calendar over every candidate zone. pass_why / block_why label the outcome. */
static void
s_eval_calendar (s_ctx_t *x, const s_calview_t *v, int64_t t_ms, pl_rules_fired_t *r,
                 uint8_t pass_why, uint8_t block_why)
{
    int64_t ts = pl__floordiv (t_ms, 1000);
    int64_t u = ts;
    int bind = -1, first_block = -1;
    int64_t close_l[PL_RULES_MAX_ZONES] = { 0 };
    for (int it = 0;; it++) {
        bool moved = false;
        for (size_t i = 0; i < x->nz; i++) {
            int64_t nu = s_cal_next (x, v, i, u, &close_l[i]);
            if (nu == S_NEVER || it >= S_ZONE_ITER || (nu - ts) * 1000 > S_HORIZON_MS) {
                r->outcome = PL_RULES_DENIES;
                r->why = x->nz > 1 ? PL_RULES_WHY_NO_COMMON_TIME : PL_RULES_WHY_HORIZON;
                r->zone = (int8_t) i;
                return;
            }
            if (nu > u) {
                if (first_block < 0)
                    first_block = (int) i;
                u = nu;
                moved = true;
                bind = (int) i;
            }
        }
        if (!moved)
            break;
    }
    if (u == ts) {
        /* Allowed: report the zone whose window closes first. */
        int64_t best = S_NEVER;
        for (size_t i = 0; i < x->nz; i++) {
            int64_t close = pl__tz_next_local_from (x->z[i], s_piece_of (x, i, ts), ts,
                                                    close_l[i], INT64_MAX);
            if (close < best) {
                best = close;
                r->zone = (int8_t) i;
            }
        }
        r->outcome = PL_RULES_PASS;
        r->why = pass_why;
        r->until_ms = best == S_NEVER ? 0 : best * 1000;
        return;
    }
    r->outcome = PL_RULES_DEFERS;
    r->until_ms = u * 1000;
    r->zone = (int8_t) bind;
    r->why = block_why;
    if (block_why == PL_RULES_WHY_OUTSIDE_HOURS)
        r->why = s_cal_why (x, v, (size_t) first_block, ts, &r->name);
}

/* ------------------------------------------------------------------------------------------ */
/* Caps and cool-downs                                                                          */

static inline bool
s_call_matches (const s_ctx_t *x, const pl__clause_t *cl, const pl_rules_call_t *call)
{
    uint32_t ev = cl->u.cap.events, sc = cl->u.cap.scope;
    if (ev && !(call->flags & ev))
        return false;
    if (!sc)
        return true;
    const pl_rules_campaign_t *c = x->c;
    if ((sc & PL__SC_TENANT) && call->tenant && c->tenant && call->tenant != c->tenant)
        return false;
    if ((sc & PL__SC_CAMPAIGN) && call->campaign && c->id && call->campaign != c->id)
        return false;
    if ((sc & PL__SC_DEBT) && call->debt && x->f->debt && call->debt != x->f->debt)
        return false;
    if ((sc & PL__SC_SUBJECT) && call->subject && c->subject && call->subject != c->subject)
        return false;
    if ((sc & PL__SC_NUMBER) && (call->flags & PL_RULES_CALL_OTHER_NUMBER))
        return false;
    return true;
}

/* Next local midnight after instant e (ms) in every candidate zone: the latest of them (ms). */
static int64_t
s_day_end (const s_ctx_t *x, int64_t e_ms, int *zone)
{
    int64_t es = pl__floordiv (e_ms, 1000), best = INT64_MIN;
    for (size_t i = 0; i < x->nz; i++) {
        const pl_rules_tz_t *z = x->z[i];
        size_t k = pl__tz_piece (z, es);
        int64_t day = pl__floordiv (es + z->off[k], PL__DAY_S);
        int64_t m = pl__tz_next_local_from (z, k, es, (day + 1) * PL__DAY_S, INT64_MAX);
        if (m != S_NEVER && m > best) {
            best = m;
            *zone = (int) i;
        }
    }
    return best == INT64_MIN ? e_ms : best * 1000;
}

/* The history in time order, once per decision: caps then walk back from the newest call and
 * stop at the edge of their window. Stored oldest first; input already in either order (as a
 * Redis sorted set returns it) costs one pass. */
static void
s_sort_history (s_ctx_t *x)
{
    const pl_rules_facts_t *f = x->f;
    size_t n = f->n_calls;
    x->sort_done = true;
    x->sorted = n <= S_HIST;
    x->hn = x->sorted ? n : 0;
    if (!x->sorted)
        return;
    bool desc = true;
    for (size_t i = 1; i < n && desc; i++)
        desc = f->calls[i].at_ms <= f->calls[i - 1].at_ms;
    for (size_t i = 0; i < n; i++) {
        size_t src = desc ? n - 1 - i : i;
        int64_t a = f->calls[src].at_ms;
        size_t j = i;
        while (j > 0 && x->h_at[j - 1] > a) {
            x->h_at[j] = x->h_at[j - 1];
            x->h_idx[j] = x->h_idx[j - 1];
            j--;
        }
        x->h_at[j] = a;
        x->h_idx[j] = (uint16_t) src;
    }
}

static void
s_eval_cap (s_ctx_t *x, const pl__clause_t *cl, int64_t t, pl_rules_fired_t *r)
{
    const pl_rules_facts_t *f = x->f;
    if (!x->sort_done)
        s_sort_history (x);
    r->limit = cl->u.cap.max;
    if (cl->u.cap.same_day) {
        int64_t until = INT64_MIN, ev = 0;
        int zone = -1, count = 0;
        for (size_t i = 0; i < f->n_calls; i++) {
            const pl_rules_call_t *call = x->sorted ? &f->calls[x->h_idx[x->hn - 1 - i]]
                                                    : &f->calls[i];
            if (call->at_ms <= t - 3 * PL__DAY_MS) {
                if (x->sorted)
                    break;
                continue;
            }
            if (!s_call_matches (x, cl, call))
                continue;
            int z = -1;
            int64_t end = s_day_end (x, call->at_ms, &z);
            if (t < end) {
                count++;
                if (end > until) {
                    until = end;
                    ev = call->at_ms;
                    zone = z;
                }
            }
        }
        r->count = count;
        if (!count) {
            r->outcome = PL_RULES_PASS;
            r->why = PL_RULES_WHY_NO_RECENT_EVENT;
            return;
        }
        r->outcome = PL_RULES_DEFERS;
        r->why = PL_RULES_WHY_TOO_SOON_AFTER;
        r->until_ms = until;
        r->event_ms = ev;
        r->zone = (int8_t) zone;
        return;
    }
    int64_t W = cl->u.cap.window_ms, lower = t - W;
    int32_t k = cl->u.cap.max_prior;
    int64_t top[256];           /* the k + 1 most recent matching calls, newest first */
    int32_t ntop = 0, count = 0;
    int64_t oldest = INT64_MAX;
    if (x->sorted) {
        /* Newest first: stop at the first call outside the window. */
        for (size_t j = x->hn; j-- > 0;) {
            int64_t a = x->h_at[j];
            if (a <= lower)
                break;
            if (!s_call_matches (x, cl, &f->calls[x->h_idx[j]]))
                continue;
            if (count <= k)
                top[count] = a;
            count++;
            oldest = a;
        }
        ntop = count <= k ? count : k + 1;
    }
    else for (size_t i = 0; i < f->n_calls; i++) {
        const pl_rules_call_t *call = &f->calls[i];
        int64_t a = call->at_ms;
        if (a <= lower || !s_call_matches (x, cl, call))
            continue;
        count++;
        if (a < oldest)
            oldest = a;
        if (ntop <= k || a > top[ntop - 1]) {
            int32_t j = ntop <= k ? ntop++ : k;
            while (j > 0 && top[j - 1] < a) {
                top[j] = top[j - 1];
                j--;
            }
            top[j] = a;
        }
    }
    r->count = count;
    r->span_ms = W;
    if (count <= k) {
        r->outcome = PL_RULES_PASS;
        r->why = cl->u.cap.is_after ? PL_RULES_WHY_NO_RECENT_EVENT : PL_RULES_WHY_UNDER_CAP;
        r->event_ms = count ? (cl->u.cap.is_after ? top[0] : oldest) : 0;
        return;
    }
    r->outcome = PL_RULES_DEFERS;
    r->why = cl->u.cap.is_after ? PL_RULES_WHY_TOO_SOON_AFTER : PL_RULES_WHY_CAP_REACHED;
    r->event_ms = top[k];
    r->until_ms = top[k] + W;
}

/* ------------------------------------------------------------------------------------------ */
/* Consent, lists, exemptions                                                                   */

static inline bool
s_covers_number (const pl_rules_consent_t *k, const char *e164)
{
    return !k->number || (e164 && strcmp (k->number, e164) == 0);
}

static inline bool
s_valid_at (const pl_rules_consent_t *k, int64_t t)
{
    return k->captured_ms <= t && (!k->revoked_ms || t < k->revoked_ms)
           && (!k->expires_ms || t < k->expires_ms);
}

/* A consent valid at t for this campaign; `written_number` demands the US form. On failure
 * *why says what came closest. */
static const pl_rules_consent_t *
s_find_consent (const s_ctx_t *x, int64_t t, bool written_number, uint8_t *why,
                int64_t *bound)
{
    const pl_rules_campaign_t *c = x->c;
    const pl_rules_facts_t *f = x->f;
    uint8_t w = PL_RULES_WHY_NO_CONSENT;
    for (size_t i = 0; i < f->n_consents; i++) {
        const pl_rules_consent_t *k = &f->consents[i];
        if (k->tenant != c->tenant || (k->subject && k->subject != c->subject))
            continue;
        if (!s_covers_number (k, f->e164)) {
            w = PL_RULES_WHY_CONSENT_OTHER_NUMBER;
            continue;
        }
        if (!s_valid_at (k, t)) {
            if (k->revoked_ms && k->revoked_ms <= t)
                w = PL_RULES_WHY_CONSENT_REVOKED;
            else if (k->expires_ms && k->expires_ms <= t && w != PL_RULES_WHY_CONSENT_REVOKED)
                w = PL_RULES_WHY_CONSENT_EXPIRED;
            continue;
        }
        if (written_number && (!k->written || !k->number)) {
            if (w == PL_RULES_WHY_NO_CONSENT)
                w = k->written ? PL_RULES_WHY_CONSENT_OTHER_NUMBER
                               : PL_RULES_WHY_CONSENT_NOT_WRITTEN;
            continue;
        }
        if (bound) {
            *bound = INT64_MAX;
            if (k->revoked_ms && k->revoked_ms < *bound)
                *bound = k->revoked_ms;
            if (k->expires_ms && k->expires_ms < *bound)
                *bound = k->expires_ms;
        }
        return k;
    }
    if (why)
        *why = w;
    return NULL;
}

static const pl_rules_list_t *
s_find_list (const pl_rules_facts_t *f, const char *name)
{
    for (size_t i = 0; i < f->n_lists; i++) {
        const char *l = f->lists[i].list;
        if (l && l[0] == name[0] && strcmp (l, name) == 0)
            return &f->lists[i];
    }
    return NULL;
}

/* Name of an exemption of cl that holds at t (needs the exemption clauses evaluated first). */
static const char *
s_exempt (s_ctx_t *x, const pl__clause_t *cl, int64_t t)
{
    const pl__clause_t *all = x->c->clauses;
    int64_t bound = INT64_MAX;
    for (int k = 0; k < cl->n_exempt; k++) {
        int j = cl->exempt[k];
        if (j >= 0 && x->ex_holds[j]) {
            if (all[j].u.ex.type == PL__EXT_CONSENT)
                x->cb[x->cur] = true;
            s_bound (x, x->ex_until[j]);
            return all[j].rule_id;
        }
    }
    if ((cl->exempt_builtin & PL__EX_CONSENT) && s_find_consent (x, t, false, NULL, &bound)) {
        x->cb[x->cur] = true;
        s_bound (x, bound);
        return "consent";
    }
    if ((cl->exempt_builtin & PL__EX_WRITTEN) && s_find_consent (x, t, true, NULL, &bound)) {
        x->cb[x->cur] = true;
        s_bound (x, bound);
        return "written-consent";
    }
    return NULL;
}

static void
s_eval_exemption (s_ctx_t *x, const pl__clause_t *cl, size_t idx, int64_t t, pl_rules_fired_t *r)
{
    const pl_rules_campaign_t *c = x->c;
    const pl_rules_facts_t *f = x->f;
    bool holds = false;
    r->outcome = PL_RULES_NA;
    r->why = PL_RULES_WHY_EXEMPTION_ABSENT;
    for (int i = 0; i < cl->u.ex.n_over; i++) {
        const pl_rules_list_t *l = s_find_list (f, cl->u.ex.over[i]);
        if (l && l->hit) {
            r->why = PL_RULES_WHY_EXEMPTION_OVERRIDDEN;
            r->name = cl->u.ex.over[i];
            x->ex_holds[idx] = false;
            return;
        }
    }
    switch (cl->u.ex.type) {
    case PL__EXT_CONTRACT:
        for (size_t i = 0; i < f->n_contracts && !holds; i++) {
            const pl_rules_contract_t *k = &f->contracts[i];
            if (k->tenant == c->tenant && c->subject && k->subject == c->subject
                && k->start_ms <= t && (!k->end_ms || t < k->end_ms)) {
                holds = true;
                r->event_ms = k->start_ms;
                r->until_ms = k->end_ms;
                x->vu = k->end_ms ? k->end_ms : INT64_MAX;
            }
        }
        break;
    case PL__EXT_EBR: {
        int64_t p = f->ebr_purchase_ms, q = f->ebr_inquiry_ms;
        int64_t pe = 0, qe = 0;
        if (p) {
            const pl__dur_t *d = &cl->u.ex.purchase;
            pe = d->unit == 'M' ? pl__add_months (p, d->n) : p + d->n * 1000;
        }
        if (q) {
            const pl__dur_t *d = &cl->u.ex.inquiry;
            qe = d->unit == 'M' ? pl__add_months (q, d->n) : q + d->n * 1000;
        }
        if (p && p <= t && t < pe) {
            holds = true;
            r->event_ms = p;
            r->until_ms = pe;
            r->name = "purchase";
            x->vu = (q && q <= t && qe > pe) ? qe : pe;
        }
        else if (q && q <= t && t < qe) {
            holds = true;
            r->event_ms = q;
            r->until_ms = qe;
            r->name = "inquiry";
            x->vu = qe;
        }
        break;
    }
    case PL__EXT_CONSENT: {
        int64_t bound = INT64_MAX;
        const pl_rules_consent_t *k = s_find_consent (x, t, false, NULL, &bound);
        if (k) {
            holds = true;
            r->event_ms = k->captured_ms;
            r->name = k->evidence;
            x->vu = bound;
        }
        break;
    }
    }
    x->ex_holds[idx] = holds;
    if (holds) {
        r->outcome = PL_RULES_PASS;
        r->why = PL_RULES_WHY_EXEMPTION_HOLDS;
        x->ex_until[idx] = x->vu;
    }
}

static void
s_deny_or_exempt (s_ctx_t *x, const pl__clause_t *cl, int64_t t, pl_rules_fired_t *r,
                  uint8_t why)
{
    const char *ex = cl->n_exempt ? s_exempt (x, cl, t) : NULL;
    r->why = why;
    if (ex) {
        r->outcome = PL_RULES_EXEMPT;
        r->version = r->name;   /* keep what was hit; name the exemption */
        r->name = ex;
    }
    else
        r->outcome = PL_RULES_DENIES;
}

/* First instant at which a copy taken at as_of_ms is more than `days` calendar dates old in
 * some candidate zone: the earliest local midnight that starts the copy's date + days + 1 (the
 * law counts dates: a 31-day copy of 28 April serves calls through 29 May). Both dates are
 * read in the same zone, and the zone whose date turns first binds (the stricter reading). */
static int64_t
s_stale_at (const s_ctx_t *x, int64_t as_of_ms, int32_t days, int *zone)
{
    int64_t as = pl__floordiv (as_of_ms, 1000), best = S_NEVER;
    for (size_t i = 0; i < x->nz; i++) {
        const pl_rules_tz_t *z = x->z[i];
        size_t k = pl__tz_piece (z, as);
        int64_t d0 = pl__floordiv (as + z->off[k], PL__DAY_S);
        int64_t m = pl__tz_next_local_from (z, k, as, (d0 + days + 1) * PL__DAY_S, INT64_MAX);
        if (m < best) {
            best = m;
            *zone = (int) i;
        }
    }
    return best == S_NEVER ? S_NEVER : best * 1000;
}

static void
s_eval_list (s_ctx_t *x, const pl__clause_t *cl, int64_t t, pl_rules_fired_t *r)
{
    const pl_rules_list_t *hit = NULL;
    r->span_ms = cl->u.list.max_age_ms;
    bool any = false;
    for (int i = 0; i < cl->u.list.n; i++) {
        const pl_rules_list_t *l = s_find_list (x->f, cl->u.list.names[i]);
        if (!l) {
            if (cl->u.list.required) {
                r->outcome = PL_RULES_DENIES;
                r->why = PL_RULES_WHY_NOT_SCREENED;
                r->name = cl->u.list.names[i];
                return;
            }
            continue;
        }
        if (!any) {
            r->name = cl->u.list.names[i];
            r->version = l->version;
            r->event_ms = l->as_of_ms;
            any = true;
        }
        if (cl->u.list.max_age_days) {
            int zone = -1;
            int64_t stale = s_stale_at (x, l->as_of_ms, cl->u.list.max_age_days, &zone);
            s_bound (x, stale);
            if (stale <= t) {
                r->outcome = PL_RULES_DENIES;
                r->why = PL_RULES_WHY_LIST_STALE;
                r->name = cl->u.list.names[i];
                r->version = l->version;
                r->event_ms = l->as_of_ms;
                r->until_ms = stale;
                r->zone = (int8_t) zone;
                return;
            }
        }
        if (l->hit && !hit)
            hit = l;
    }
    if (!any) {
        r->outcome = PL_RULES_NA;
        r->why = PL_RULES_WHY_NOT_SCREENED;
        r->name = cl->u.list.names[0];
        return;
    }
    if (hit) {
        r->name = hit->list;
        r->version = hit->version;
        r->event_ms = hit->as_of_ms;
        s_deny_or_exempt (x, cl, t, r, PL_RULES_WHY_LISTED);
        return;
    }
    r->outcome = PL_RULES_PASS;
    r->why = PL_RULES_WHY_LIST_CLEAR;
}

static bool
s_e164_ok (const char *s)
{
    if (!s || s[0] != '+' || s[1] < '1' || s[1] > '9')
        return false;
    size_t n = 0;
    for (const char *p = s + 1; *p; p++, n++)
        if (*p < '0' || *p > '9')
            return false;
    return n >= 8 && n <= 15;
}

static void
s_eval_cli (const s_ctx_t *x, const pl__clause_t *cl, pl_rules_fired_t *r)
{
    const char *cli = x->cli;
    r->name = cli;
    r->outcome = PL_RULES_DENIES;
    if (!cli || !*cli) {
        r->why = PL_RULES_WHY_CLI_MISSING;
        return;
    }
    if (!s_e164_ok (cli)) {
        r->why = PL_RULES_WHY_CLI_INVALID;
        return;
    }
    for (int i = 0; i < cl->u.cli.nforbid; i++)
        if (strncmp (cli, cl->u.cli.forbid[i], strlen (cl->u.cli.forbid[i])) == 0) {
            r->why = PL_RULES_WHY_CLI_FORBIDDEN;
            return;
        }
    if (cl->u.cli.nallow) {
        bool ok = false;
        for (int i = 0; i < cl->u.cli.nallow && !ok; i++)
            ok = strncmp (cli, cl->u.cli.allow[i], strlen (cl->u.cli.allow[i])) == 0;
        if (!ok) {
            r->why = PL_RULES_WHY_CLI_NOT_ALLOWED;
            return;
        }
    }
    r->outcome = PL_RULES_PASS;
    r->why = PL_RULES_WHY_CLI_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Requests of the person: times to be called, requests to stop                                 */

/* The windows the person had asked for by instant t (requests made later do not count yet),
 * by weekday, into x->req_*; x->req_next receives the next request instant after t. 0, or
 * PL_EINVAL for a malformed window. Cached for the last t. */
static int
s_requests_at (s_ctx_t *x, int64_t t)
{
    const pl_rules_facts_t *f = x->f;
    if (x->req_for == t)
        return 0;
    x->req_for = t;
    x->req_any = false;
    x->req_next = S_NEVER;
    x->req_last = -1;
    memset (x->req_n, 0, sizeof x->req_n);
    for (size_t i = 0; i < f->n_requested; i++) {
        const pl_rules_window_t *w = &f->requested[i];
        if (w->from_s < 0 || w->to_s > PL__DAY_S || w->from_s >= w->to_s || !(w->days & 0x7f))
            return PL_EINVAL;
        if (w->at_ms > t) {
            if (w->at_ms < x->req_next)
                x->req_next = w->at_ms;
            continue;
        }
        x->req_any = true;
        if (x->req_last < 0 || w->at_ms > f->requested[x->req_last].at_ms)
            x->req_last = (int) i;
        for (int d = 0; d < 7; d++) {
            if (!(w->days & (1 << d)))
                continue;
            if (x->req_n[d] >= PL__MAXWIN * 2)
                return PL_EINVAL;
            x->req_w[d][x->req_n[d]++] = (pl__win_t) { w->from_s, w->to_s };
        }
    }
    /* Keep each day's requested windows in order (s_cal_next stops at the first late one). */
    for (int d = 0; d < 7 && x->req_any; d++)
        for (int i = 1; i < x->req_n[d]; i++)
            for (int j = i; j > 0 && x->req_w[d][j].lo < x->req_w[d][j - 1].lo; j--) {
                pl__win_t tmp = x->req_w[d][j];
                x->req_w[d][j] = x->req_w[d][j - 1];
                x->req_w[d][j - 1] = tmp;
            }
    return 0;
}

/* A debtor's request to stop that covers this call at t (made by then, to this professional,
 * about this debt or this medium), or NULL; *next receives the next request instant after t
 * that the clause honours. */
static const pl_rules_optout_t *
s_find_optout (const s_ctx_t *x, const pl__clause_t *cl, int64_t t, int64_t *next)
{
    const pl_rules_facts_t *f = x->f;
    const pl_rules_campaign_t *c = x->c;
    const pl_rules_optout_t *found = NULL;
    for (size_t i = 0; i < f->n_optouts; i++) {
        const pl_rules_optout_t *o = &f->optouts[i];
        if (!(cl->u.optout.kinds & (1u << o->kind)))
            continue;
        if (o->tenant && c->tenant && o->tenant != c->tenant)
            continue;
        if (o->kind == PL_RULES_OPTOUT_MEDIUM) {
            /* Calls: the phone, or a medium left unnamed; other media are not calls. */
            if (o->medium && *o->medium && strcmp (o->medium, "phone") != 0)
                continue;
            if (o->number && *o->number && (!f->e164 || strcmp (o->number, f->e164) != 0))
                continue;
        }
        else if (o->debt && f->debt && o->debt != f->debt)
            continue;                       /* about another debt (1692c(c): "such debt") */
        if (o->at_ms > t) {
            if (o->at_ms < *next)
                *next = o->at_ms;
            continue;
        }
        if (!found || o->at_ms < found->at_ms)
            found = o;
    }
    return found;
}

/* ------------------------------------------------------------------------------------------ */
/* One clause                                                                                   */

/* Whether callee rule cl holds for this call: 1, 0 for a consumer's call, -1 for a callee of
 * its types whose campaign's sector keeps the rules. */
static int
s_callee_holds (const s_ctx_t *x, const pl__clause_t *cl)
{
    if (!(cl->u.callee.callees & PL_RULES_CALLEE_BIT (x->callee)))
        return 0;
    for (int i = 0; i < cl->u.callee.n_except; i++)
        if (strcmp (x->c->sector, cl->u.callee.except[i]) == 0)
            return -1;
    return 1;
}

static bool
s_applicable (s_ctx_t *x, const pl__clause_t *cl, int64_t t, pl_rules_fired_t *r)
{
    if (cl->n_regions) {
        /* Any of the lead's regions, from the address or the number: the stricter reading. */
        bool ok = false;
        for (int i = 0; i < cl->n_regions && !ok; i++)
            for (size_t j = 0; j < x->nreg && !ok; j++)
                if ((ok = cl->regions[i] == x->reg[j]))
                    r->region = (int8_t) x->reg_at[j];
        if (!ok) {
            r->outcome = PL_RULES_NA;
            r->why = PL_RULES_WHY_OTHER_REGION;
            return false;
        }
    }
    if (cl->n_when) {
        bool ok = false;
        for (int i = 0; i < cl->n_when && !ok; i++)
            ok = (x->atoms & cl->when[i].need) == cl->when[i].need
                 && (x->atoms & cl->when[i].forbid) == 0;
        if (!ok) {
            r->outcome = PL_RULES_NA;
            r->why = PL_RULES_WHY_CONDITION_NOT_MET;
            return false;
        }
    }
    if (cl->dated) {
        /* In force if in force in any candidate zone (the stricter reading). */
        int64_t ts = pl__floordiv (t, 1000);
        bool ok = false;
        for (size_t i = 0; i < x->nz && !ok; i++) {
            int64_t d = pl__floordiv (ts + x->z[i]->off[s_piece_of (x, i, ts)], PL__DAY_S);
            ok = d >= cl->from_day && d <= cl->until_day;
        }
        if (!ok) {
            r->outcome = PL_RULES_NA;
            r->why = PL_RULES_WHY_NOT_IN_FORCE;
            return false;
        }
    }
    if (cl->only_callees && !(cl->only_callees & PL_RULES_CALLEE_BIT (x->callee))) {
        r->outcome = PL_RULES_NA;
        r->why = PL_RULES_WHY_OTHER_CALLEE;
        r->name = pl_rules_callee_name (x->callee);
        return false;
    }
    /* Lifted for this callee (a consumer rule, the callee a business): not applicable, and
     * says by which rule. */
    for (int i = 0; i < cl->n_lifted_by; i++) {
        const pl__clause_t *by = &x->c->clauses[cl->lifted_by[i]];
        pl_rules_fired_t scratch = { 0 };       /* the lifting rule must be in force itself */
        if (s_callee_holds (x, by) == 1 && s_applicable (x, by, t, &scratch)) {
            r->outcome = PL_RULES_NA;
            r->why = PL_RULES_WHY_NOT_FOR_CALLEE;
            r->name = by->rule_id;
            return false;
        }
    }
    return true;
}

static inline void
s_later (int64_t *n, int64_t t, int64_t v)
{
    if (v > t && v < *n)
        *n = v;
}

/* The earliest fact that starts after t and could lift a denial: a consent captured, a
 * contract or EBR event, the collection letter. S_NEVER when none. */
static int64_t
s_next_fact (const s_ctx_t *x, int64_t t)
{
    const pl_rules_facts_t *f = x->f;
    int64_t n = S_NEVER;
    for (size_t i = 0; i < f->n_consents; i++)
        s_later (&n, t, f->consents[i].captured_ms);
    for (size_t i = 0; i < f->n_contracts; i++)
        s_later (&n, t, f->contracts[i].start_ms);
    s_later (&n, t, f->ebr_purchase_ms);
    s_later (&n, t, f->ebr_inquiry_ms);
    s_later (&n, t, f->letter_ms);
    return n;
}

/* A rule that lapses (`until`) denies only until it lapses: from the midnight after its last
 * date in every candidate zone it is out of force, and the call may be legal then (ADR 0016).
 * The denial becomes a deferral to that instant, or to an earlier fact that may lift it (a
 * consent or contract that starts before). Beyond the horizon it stays a denial. */
static void
s_defer_to_lapse (s_ctx_t *x, const pl__clause_t *cl, int64_t t, pl_rules_fired_t *r)
{
    int64_t ts = pl__floordiv (t, 1000), lapse = INT64_MIN;
    int zone = -1;
    for (size_t i = 0; i < x->nz; i++) {
        int64_t m = pl__tz_next_local_from (x->z[i], s_piece_of (x, i, ts), ts,
                                            (cl->until_day + 1) * PL__DAY_S, INT64_MAX);
        if (m != S_NEVER && m > lapse) {
            lapse = m;
            zone = (int) i;
        }
    }
    if (lapse == INT64_MIN || lapse * 1000 <= t || lapse * 1000 - x->now > S_HORIZON_MS)
        return;
    int64_t until = lapse * 1000, nf = s_next_fact (x, t);
    if (nf < until)
        until = nf;
    else
        r->zone = (int8_t) zone;
    r->outcome = PL_RULES_DEFERS;
    r->until_ms = until;
}

/* Records the outcome and until when it is certain to hold as time passes with the same facts
 * (the fixpoint then skips the clause at later instants before that). Only passes are kept;
 * rules with from/until dates are always evaluated again. */
static void
s_validity (s_ctx_t *x, size_t idx, const pl__clause_t *cl, int64_t t,
            const pl_rules_fired_t *r, int64_t vu)
{
    x->last[idx] = r->outcome;
    if (r->outcome == PL_RULES_DEFERS || r->outcome == PL_RULES_DENIES || cl->dated)
        vu = t + 1;
    x->valid[idx] = vu;
}

static void
s_eval (s_ctx_t *x, size_t idx, int64_t t, pl_rules_fired_t *r)
{
    const pl__clause_t *cl = &x->c->clauses[idx];
    const pl_rules_facts_t *f = x->f;
    /* Field by field: compilers turn a zeroing of this small struct into `rep stos`, which
     * costs more than the stores themselves. */
    r->rule = cl->rule_id;
    r->key = cl->key;
    r->value = cl->value;
    r->source = cl->source;
    r->unconfirmed = cl->unconfirmed;
    r->policy = cl->policy;
    r->outcome = PL_RULES_PASS;
    r->why = PL_RULES_WHY_NONE;
    r->zone = -1;
    r->region = -1;
    r->at_ms = t;
    r->until_ms = 0;
    r->event_ms = 0;
    r->span_ms = 0;
    r->count = 0;
    r->limit = 0;
    r->name = NULL;
    r->version = NULL;
    x->cur = idx;
    x->cb[idx] = false;
    x->vu = INT64_MAX;
    if (cl->kind == PL__CL_EXEMPTION)
        x->ex_holds[idx] = false;
    if (!s_applicable (x, cl, t, r)) {
        /* Region and dialing conditions do not change with time; dates do. */
        s_validity (x, idx, cl, t, r, r->why == PL_RULES_WHY_NOT_IN_FORCE ? t + 1 : INT64_MAX);
        return;
    }

    switch (cl->kind) {
    case PL__CL_CALENDAR: {
        s_calview_t v = { cl->u.cal.nwin, &cl->u.cal.win[0][0], PL__MAXWIN, cl->u.cal.ncal,
                          cl->u.cal.cal };
        s_eval_calendar (x, &v, t, r, PL_RULES_WHY_IN_WINDOW, PL_RULES_WHY_OUTSIDE_HOURS);
        break;
    }
    case PL__CL_CAP:
        s_eval_cap (x, cl, t, r);
        break;
    case PL__CL_CONSENT: {
        x->cb[idx] = true;
        uint8_t why = 0;
        int64_t bound = INT64_MAX;
        const pl_rules_consent_t *k = s_find_consent (
            x, t, cl->u.consent.mode == PL__CONSENT_WRITTEN_NUMBER, &why, &bound);
        if (k) {
            s_bound (x, bound);
            r->outcome = PL_RULES_PASS;
            r->why = PL_RULES_WHY_CONSENT_OK;
            r->event_ms = k->captured_ms;
            r->name = k->evidence;
        }
        else
            s_deny_or_exempt (x, cl, t, r, why);
        break;
    }
    case PL__CL_LIST:
        s_eval_list (x, cl, t, r);
        break;
    case PL__CL_CLI:
        s_eval_cli (x, cl, r);
        break;
    case PL__CL_SECTOR: {
        const char *sec = x->c->sector;
        bool banned = false;
        for (int i = 0; i < cl->u.sector.n && !banned; i++)
            banned = strcmp (sec, cl->u.sector.names[i]) == 0;
        r->name = *sec ? sec : NULL;
        if (banned)
            s_deny_or_exempt (x, cl, t, r, PL_RULES_WHY_SECTOR_BANNED);
        else {
            r->outcome = PL_RULES_PASS;
            r->why = PL_RULES_WHY_SECTOR_OK;
        }
        break;
    }
    case PL__CL_LETTER:
        r->name = f->letter_ref;
        r->event_ms = f->letter_ms;
        if (f->letter_ref && *f->letter_ref && f->letter_ms > 0 && f->letter_ms <= t) {
            r->outcome = PL_RULES_PASS;
            r->why = PL_RULES_WHY_LETTER_OK;
        }
        else {
            r->outcome = PL_RULES_DENIES;
            r->why = PL_RULES_WHY_LETTER_MISSING;
        }
        break;
    case PL__CL_REQUESTS:
        s_requests_at (x, t);           /* validated in s_prepare */
        s_bound (x, x->req_next);       /* a new request changes the windows */
        if (!x->req_any) {
            r->outcome = PL_RULES_PASS;
            r->why = PL_RULES_WHY_NO_REQUEST;
        }
        else {
            s_calview_t v = { x->req_n, &x->req_w[0][0], PL__MAXWIN * 2, 0, NULL };
            s_eval_calendar (x, &v, t, r, PL_RULES_WHY_REQUESTED_WINDOW,
                             PL_RULES_WHY_OUTSIDE_REQUEST);
            const pl_rules_window_t *last = &f->requested[x->req_last];
            r->event_ms = last->at_ms;
            r->name = last->channel;
            if (r->outcome == PL_RULES_DEFERS && r->until_ms > x->req_next)
                r->until_ms = x->req_next;
        }
        break;
    case PL__CL_OPTOUT: {
        int64_t next = S_NEVER;
        const pl_rules_optout_t *o = s_find_optout (x, cl, t, &next);
        s_bound (x, next);
        if (!o) {
            r->outcome = PL_RULES_PASS;
            r->why = PL_RULES_WHY_NO_OPTOUT;
            break;
        }
        r->outcome = PL_RULES_DENIES;
        r->why = o->kind == PL_RULES_OPTOUT_CEASE        ? PL_RULES_WHY_CEASE_REQUESTED
                 : o->kind == PL_RULES_OPTOUT_REFUSE_PAY ? PL_RULES_WHY_REFUSED_TO_PAY
                                                         : PL_RULES_WHY_MEDIUM_OPTED_OUT;
        r->event_ms = o->at_ms;
        r->name = o->channel;
        r->version = o->number && *o->number ? o->number : o->medium;
        break;
    }
    case PL__CL_EXEMPTION:
        s_eval_exemption (x, cl, idx, t, r);
        break;
    case PL__CL_CALLEE: {
        int h = s_callee_holds (x, cl);
        r->outcome = h == 1 ? PL_RULES_PASS : PL_RULES_NA;
        r->why = h == 1    ? PL_RULES_WHY_CALLEE_SCOPE
                 : h == 0 ? PL_RULES_WHY_CHECKED_AS_CONSUMER
                          : PL_RULES_WHY_SECTOR_KEEPS_RULES;
        r->name = h < 0 ? x->c->sector : pl_rules_callee_name (x->callee);
        break;
    }
    case PL__CL_REASSIGNED: {
        if (!x->consent_based) {
            r->outcome = PL_RULES_NA;
            r->why = PL_RULES_WHY_NOT_CONSENT_BASED;
            break;
        }
        const pl_rules_list_t *l = s_find_list (f, cl->u.re.list);
        r->name = cl->u.re.list;
        r->outcome = PL_RULES_PASS;
        if (!l)
            r->why = PL_RULES_WHY_RND_NOT_QUERIED;
        else {
            r->version = l->version;
            r->event_ms = l->as_of_ms;
            r->why = l->hit ? PL_RULES_WHY_REASSIGNED : PL_RULES_WHY_NOT_REASSIGNED;
            if (l->hit)
                r->outcome = PL_RULES_DENIES;
        }
        break;
    }
    case PL__CL_REVOKE: {
        const pl_rules_campaign_t *c = x->c;
        int64_t last = 0;
        for (size_t i = 0; i < f->n_consents; i++) {
            const pl_rules_consent_t *k = &f->consents[i];
            if (k->tenant == c->tenant && s_covers_number (k, f->e164) && k->revoked_ms
                && k->revoked_ms <= t && k->revoked_ms > last)
                last = k->revoked_ms;
        }
        r->outcome = PL_RULES_PASS;
        r->why = PL_RULES_WHY_NOT_REVOKED;
        if (!last)
            break;
        r->event_ms = last;
        bool renewed = false;
        for (size_t i = 0; i < f->n_consents && !renewed; i++) {
            const pl_rules_consent_t *k = &f->consents[i];
            renewed = k->tenant == c->tenant && s_covers_number (k, f->e164)
                      && k->captured_ms > last && s_valid_at (k, t);
        }
        if (!renewed) {
            r->outcome = PL_RULES_DENIES;
            r->why = PL_RULES_WHY_REVOKED;
        }
        break;
    }
    default:
        r->outcome = PL_RULES_NA;
        break;
    }
    if (r->outcome == PL_RULES_DENIES && cl->until_day != INT64_MAX)
        s_defer_to_lapse (x, cl, t, r);
    int64_t vu = x->vu;
    switch (cl->kind) {
    case PL__CL_CALENDAR:
    case PL__CL_REQUESTS:
        /* Until the current window closes or a new request arrives (or for ever when nobody
         * asked for times). */
        if (r->why != PL_RULES_WHY_NO_REQUEST) {
            int64_t close = r->until_ms ? r->until_ms : t + 1;
            vu = close < vu ? close : vu;
        }
        break;
    case PL__CL_EXEMPTION:
        if (r->outcome != PL_RULES_PASS)
            vu = t + 1;         /* may start to hold later */
        break;
    case PL__CL_REVOKE:
    case PL__CL_REASSIGNED:
        vu = t + 1;
        break;
    default:
        /* Caps: past calls only leave their window as time passes, so a pass stays a pass.
         * Lists, consent, caller id, sector, letter: bounded above where they can change. */
        break;
    }
    s_validity (x, idx, cl, t, r, vu);
}

/* ------------------------------------------------------------------------------------------ */
/* The decision                                                                                 */

static int
s_prepare (s_ctx_t *x, const pl_rules_campaign_t *c, const pl_rules_facts_t *f)
{
    x->c = c;
    x->f = f;
    if (f->n_zones > PL_RULES_MAX_ZONES || (f->n_zones && !f->zones)
        || f->n_regions > PL_RULES_MAX_REGIONS || (f->n_regions && !f->regions)
        || (f->n_calls && !f->calls) || (f->n_consents && !f->consents)
        || (f->n_contracts && !f->contracts) || (f->n_lists && !f->lists)
        || (f->n_requested && !f->requested) || (f->n_optouts && !f->optouts))
        return PL_EINVAL;
    x->nz = f->n_zones;
    for (size_t i = 0; i < x->nz; i++) {
        if (!f->zones[i].zone)
            return PL_EINVAL;
        x->z[i] = f->zones[i].zone;
        x->zc_t[i] = INT64_MIN;
    }
    x->sorted = false;
    x->sort_done = false;
    x->nreg = 0;
    for (size_t i = 0; i < f->n_regions; i++) {
        uint64_t v = pl__region_pack (f->regions[i]);
        if (v) {
            x->reg_at[x->nreg] = (uint8_t) i;
            x->reg[x->nreg++] = v;
        }
    }
    unsigned dial = (f->dial & PL_RULES_DIAL_SET) ? f->dial : c->dial;
    uint32_t a = 0;
    switch (f->line) {
    case PL_RULES_LINE_MOBILE:
    case PL_RULES_LINE_UNKNOWN:
        a |= PL__AT_MOBILE;
        break;
    case PL_RULES_LINE_FIXED:
        a |= PL__AT_FIXED;
        break;
    case PL_RULES_LINE_VOIP:
        a |= PL__AT_VOIP;
        break;
    default:
        break;
    }
    a |= (dial & PL_RULES_DIAL_AUTODIALED) ? PL__AT_AUTODIALED : PL__AT_MANUAL;
    if (dial & PL_RULES_DIAL_PRERECORDED)
        a |= PL__AT_PRERECORDED;
    if (dial & PL_RULES_DIAL_AGENT_GUARANTEED)
        a |= PL__AT_AGENT;
    x->atoms = a;
    if ((unsigned) f->callee > PL_RULES_CALLEE_SOLE_TRADER)
        return PL_EINVAL;
    /* A lead of a type the campaign is not for is checked as a consumer (the stricter reading). */
    x->callee = (c->callees & PL_RULES_CALLEE_BIT (f->callee)) ? f->callee : PL_RULES_CALLEE_CONSUMER;
    x->cli = f->cli ? f->cli : c->cli;
    x->req_for = INT64_MIN;
    if (f->n_requested && s_requests_at (x, INT64_MAX) != 0)
        return PL_EINVAL;   /* malformed windows are refused whenever they were asked */
    x->req_for = INT64_MIN;
    for (size_t i = 0; i < f->n_optouts; i++)
        if (f->optouts[i].kind < PL_RULES_OPTOUT_CEASE
            || f->optouts[i].kind > PL_RULES_OPTOUT_MEDIUM)
            return PL_EINVAL;
    return 0;
}

int
pl_rules_decide (const pl_rules_campaign_t *c, const pl_rules_facts_t *f, int64_t now_ms,
                 pl_rules_decision_t *out)
{
    if (!c || !f || !out || !c->profile)
        return PL_EINVAL;
    s_ctx_t x;
    int rc = s_prepare (&x, c, f);
    if (rc != 0)
        return rc;
    x.now = now_ms;

    out->now_ms = now_ms;
    out->defer_until_ms = 0;
    out->decisive = -1;
    out->binding_zone = -1;
    out->profile = c->profile->id;
    out->campaign = c->name;
    out->callee = x.callee;
    out->number[0] = 0;
    if (f->e164) {
        size_t l = strlen (f->e164);
        if (l >= sizeof out->number)
            l = sizeof out->number - 1;
        memcpy (out->number, f->e164, l);
        out->number[l] = 0;
    }
    out->line = f->line;
    out->n_zones = f->n_zones;
    for (size_t i = 0; i < f->n_zones; i++)
        out->zones[i] = f->zones[i];
    out->n_regions = f->n_regions;
    for (size_t i = 0; i < f->n_regions; i++) {
        snprintf (out->regions[i], sizeof out->regions[i], "%s",
                  f->regions[i] ? f->regions[i] : "");
        out->region_sources[i] = f->region_sources ? f->region_sources[i]
                                                   : (uint8_t) PL_RULES_REGION_ADDRESS;
    }
    out->iterations = 0;
    out->n_fired = 0;

    if (x.nz == 0) {
        pl_rules_fired_t *r = &out->fired[out->n_fired++];
        memset (r, 0, sizeof *r);
        r->rule = "zone";
        r->key = "zone";
        r->value = "at least one candidate time zone";
        r->source = "calling rules are stated in the called person's local time";
        r->outcome = PL_RULES_DENIES;
        r->why = PL_RULES_WHY_NO_ZONE;
        r->zone = -1;
        r->region = -1;
        r->at_ms = now_ms;
        out->verdict = PL_RULES_DENY;
        out->decisive = 0;
        return 0;
    }

    size_t n = c->n_clauses;
    out->n_fired = n;
    int64_t t = now_ms;
    int last_pusher = -1;
    for (unsigned iter = 0;; iter++) {
        out->iterations = iter + 1;
        x.consent_based = false;
        int64_t next = t;
        int pusher = -1, first_deny = -1;
        for (size_t i = 0; i < n; i++) {
            if (iter > 0 && x.valid[i] > t && x.last[i] != PL_RULES_DEFERS
                && x.last[i] != PL_RULES_DENIES) {
                x.consent_based |= x.cb[i];     /* same result as at the last instant */
                continue;
            }
            pl_rules_fired_t r;
            s_eval (&x, i, t, &r);
            x.consent_based |= x.cb[i];
            pl_rules_fired_t *o = &out->fired[i];
            if (iter == 0)
                *o = r;
            else if (r.outcome == PL_RULES_DENIES)
                *o = r;
            else if (r.outcome == PL_RULES_DEFERS) {
                if (o->outcome == PL_RULES_DEFERS) {
                    o->until_ms = r.until_ms;   /* keep why it first refused; move the end */
                    o->zone = r.zone;
                }
                else
                    *o = r;
            }
            if (r.outcome == PL_RULES_DENIES && first_deny < 0)
                first_deny = (int) i;
            if (r.outcome == PL_RULES_DEFERS && r.until_ms > next) {
                next = r.until_ms;
                pusher = (int) i;
            }
            /* After the first instant only the next jump matters: the full check is done at
             * the instant where nothing defers. */
            if (iter > 0 && (pusher >= 0 || first_deny >= 0))
                break;
        }
        if (first_deny >= 0) {
            out->verdict = PL_RULES_DENY;
            out->decisive = first_deny;
            break;
        }
        if (pusher < 0) {
            if (iter == 0)
                out->verdict = PL_RULES_ALLOW;
            else {
                out->verdict = PL_RULES_DEFER;
                out->defer_until_ms = t;
                out->decisive = last_pusher;
            }
            break;
        }
        last_pusher = pusher;
        t = s_ceil_s (next);
        if (t - now_ms > S_HORIZON_MS || iter + 1 >= S_MAX_ITER) {
            pl_rules_fired_t *o = &out->fired[pusher];
            o->outcome = PL_RULES_DENIES;
            o->why = PL_RULES_WHY_HORIZON;
            o->until_ms = t;
            out->verdict = PL_RULES_DENY;
            out->decisive = pusher;
            break;
        }
    }
    if (out->decisive >= 0)
        out->binding_zone = out->fired[out->decisive].zone;
    else {
        /* ALLOW: the zone whose calling window closes first. */
        int64_t best = INT64_MAX;
        for (size_t i = 0; i < n; i++) {
            const pl_rules_fired_t *r = &out->fired[i];
            if (r->outcome == PL_RULES_PASS && r->why == PL_RULES_WHY_IN_WINDOW && r->zone >= 0
                && r->until_ms && r->until_ms < best) {
                best = r->until_ms;
                out->binding_zone = r->zone;
            }
        }
    }
    return 0;
}
