/*  book.c — promises and payments in Redis, one atomic step per decision (see book.h). */
#include "book.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plateau/audit_emit.h"
#include "plateau/error.h"
#include "plateau/inbox.h"
#include "plateau/outbox.h"
#include "plateau/phone.h"
#include "plateau/rules_tz.h"
#include "plateau/timefmt.h"
#include "plateau/utf8.h"
#include "plateau/v1/promise.pb-c.h"

#define S_LEDGER_MAX 4096
#define S_RETRIES 16                       /* compare-and-set rounds before giving up */
#define S_KPI_TTL_MS "34560000000"         /* 400 days */
#define S_NOTES_MAXLEN "10000000"

struct promise_book {
    promise_book_opts_t o;
    pl_inbox_t *inbox;
    pl_outbox_t *audit, *dialer;
    pl_rules_tzdb_t *tzdb;
    pl_metric_t *m_promises, *m_payments;
    bool merged;                       /* a legacy reminder zset folded into due (s_merge_reminders) */
};

/* ---- effects -------------------------------------------------------------------------------- */

/* A lost compare-and-set ('retry', 'dup') writes nothing and answers 'again': no seen marker stays,
 * so the caller's next round, with the same bus message id, runs instead of reading as a
 * duplicate of a step that never happened. */

/* Open: K promise, account, due, kpi, then the payments it takes; A id, enforce one active
 * ('1'), next instant due (its first deadline or reminder; '' none), active ('1'), made at,
 * n payments, their ids, n kpi, kpi field/incr pairs, the promise's field/value pairs, then the
 * retention ms (a promise decided as it opens, by payments that came first, expires after it).
 * Replies ok, exists, busy:<id> or retry (an unmatched payment it meant to take has gone). */
static const pl_inbox_effect_t s_open = {
    "promise.open",
    "if redis.call('EXISTS', K[1]) == 1 then return 'exists', false end\n"
    "if A[2] == '1' then\n"
    "  for _, f in ipairs(redis.call('HKEYS', K[2])) do\n"
    "    if string.sub(f, 1, 4) == 'act:' then return 'busy:' .. string.sub(f, 5), false end end end\n"
    "local n = tonumber(A[6])\n"
    "for i = 1, n do if redis.call('HEXISTS', K[2], 'u:' .. A[6 + i]) == 0 then return 'retry', 'again' end end\n"
    "for i = 1, n do redis.call('HDEL', K[2], 'u:' .. A[6 + i])\n"
    "  redis.call('HSET', K[4 + i], 'promise', A[1], 'st', 'applied') end\n"
    "local j = 7 + n\n"
    "local nk = tonumber(A[j]); j = j + 1\n"
    "for i = 1, nk do redis.call('HINCRBY', K[4], A[j], A[j + 1]); j = j + 2 end\n"
    "if nk > 0 and redis.call('PTTL', K[4]) < 0 then redis.call('PEXPIRE', K[4], '" S_KPI_TTL_MS "') end\n"
    "local fv = {}\n"
    "for i = j, #A - 1 do fv[#fv + 1] = A[i] end\n"
    "redis.call('HSET', K[1], unpack(fv))\n"
    "if A[4] == '1' then redis.call('HSET', K[2], 'act:' .. A[1], A[5]); redis.call('PERSIST', K[2])\n"
    "else redis.call('HSET', K[2], 'p:' .. A[1], A[5]); redis.call('PEXPIRE', K[1], A[#A])\n"
    "  local left = false\n"
    "  for _, f in ipairs(redis.call('HKEYS', K[2])) do\n"
    "    if string.sub(f, 1, 4) == 'act:' then left = true break end end\n"
    "  if not left then redis.call('PEXPIRE', K[2], A[#A]) end end\n"
    "if A[3] ~= '' then redis.call('ZADD', K[3], A[3], A[1]) end\n"
    "return 'ok'\n"
};

/* Update: K promise, account, due, kpi, notes, payment, original payment; A id, expected
 * version, ledger, status, next instant due ('' none, '=' where it was), active ('0:<made at>' no
 * longer, '' unchanged, else made at), retention ms, then sections "n, n pairs": the
 * payment's fields (n > 0: a new payment, refused as 'dup' if known), increments on the
 * original payment, kpi increments, the creditor's note. A decided promise, a payment's record
 * and an account left without an active promise expire after the retention; an active one
 * does not. */
static const pl_inbox_effect_t s_update = {
    "promise.update",
    "if redis.call('HGET', K[1], 'v') ~= A[2] then return 'retry', 'again' end\n"
    "local j = 8\n"
    "local np = tonumber(A[j]); j = j + 1\n"
    "if np > 0 and redis.call('EXISTS', K[6]) == 1 then return 'dup', 'again' end\n"
    "redis.call('HSET', K[1], 'v', tostring(tonumber(A[2]) + 1), 'l', A[3], 'st', A[4])\n"
    "if A[5] == '' then redis.call('ZREM', K[3], A[1])\n"
    "elseif A[5] ~= '=' then redis.call('ZADD', K[3], A[5], A[1]) end\n"
    "if string.sub(A[6], 1, 2) == '0:' then redis.call('HDEL', K[2], 'act:' .. A[1])\n"
    "  redis.call('HSET', K[2], 'p:' .. A[1], string.sub(A[6], 3))\n"
    "  local left = false\n"
    "  for _, f in ipairs(redis.call('HKEYS', K[2])) do\n"
    "    if string.sub(f, 1, 4) == 'act:' then left = true break end end\n"
    "  if not left then redis.call('PEXPIRE', K[2], A[7]) end\n"
    "elseif A[6] ~= '' then redis.call('HSET', K[2], 'act:' .. A[1], A[6]); redis.call('HDEL', K[2], 'p:' .. A[1])\n"
    "  redis.call('PERSIST', K[2]) end\n"
    "if A[4] ~= 'active' then redis.call('PEXPIRE', K[1], A[7])\n"
    "elseif A[6] ~= '' then redis.call('PERSIST', K[1]) end\n"
    "if np > 0 then local fv = {}\n"
    "  for i = 1, np do fv[#fv + 1] = A[j]; fv[#fv + 1] = A[j + 1]; j = j + 2 end\n"
    "  redis.call('HSET', K[6], unpack(fv))\n"
    "  redis.call('PEXPIRE', K[6], A[7]) end\n"
    "local no = tonumber(A[j]); j = j + 1\n"
    "for i = 1, no do redis.call('HINCRBY', K[7], A[j], A[j + 1]); j = j + 2 end\n"
    "local nk = tonumber(A[j]); j = j + 1\n"
    "for i = 1, nk do redis.call('HINCRBY', K[4], A[j], A[j + 1]); j = j + 2 end\n"
    "if nk > 0 and redis.call('PTTL', K[4]) < 0 then redis.call('PEXPIRE', K[4], '" S_KPI_TTL_MS "') end\n"
    "local nn = tonumber(A[j]); j = j + 1\n"
    "if nn > 0 then local fv = {}\n"
    "  for i = 1, nn do fv[#fv + 1] = A[j]; fv[#fv + 1] = A[j + 1]; j = j + 2 end\n"
    "  redis.call('XADD', K[5], 'MAXLEN', '~', '" S_NOTES_MAXLEN "', '*', unpack(fv)) end\n"
    "return 'ok'\n"
};

/* A right-party contact, counted for the KPIs (promises per right-party contact): K kpi; A its
 * field, the expiry of a new day's hash. */
static const pl_inbox_effect_t s_contact = {
    "promise.contact",
    "redis.call('HINCRBY', K[1], A[1], 1)\n"
    "if redis.call('PTTL', K[1]) < 0 then redis.call('PEXPIRE', K[1], A[2]) end\n"
    "return 'ok'\n"
};

/* A payment no promise takes (yet), or a reversal of one: K account, notes, payment, original
 * payment; A payment id, unmatched value for the account ('' none), original id ('' none), its
 * unmatched value after the reversal ('' remove), the oldest payment instant a promise could
 * still take, retention ms, then sections as s_update: the payment's fields, increments on the
 * original, the note. The payment's record, and the account's hash while it has no active
 * promise, expire after the retention. Refused ('retry') when the account has an active promise
 * now: the payment goes to it. Unmatched payments too old for any promise to come leave the
 * account's hash (their records stay until they expire): an account that keeps paying after its
 * promise is kept does not grow without end. */
static const pl_inbox_effect_t s_unmatched = {
    "promise.unmatched",
    "if redis.call('EXISTS', K[3]) == 1 then return 'dup', 'again' end\n"
    "local all = redis.call('HGETALL', K[1])\n"
    "if A[3] == '' then for i = 1, #all, 2 do\n"
    "  if string.sub(all[i], 1, 4) == 'act:' then return 'retry', 'again' end end end\n"
    "local cutoff = tonumber(A[5])\n"
    "for i = 1, #all, 2 do local f = all[i]\n"
    "  if string.sub(f, 1, 2) == 'u:' and (tonumber(string.match(all[i + 1], '|(%-?%d+)$')) or 0) < cutoff then\n"
    "    redis.call('HDEL', K[1], f) end end\n"
    "local j = 7\n"
    "local np = tonumber(A[j]); j = j + 1\n"
    "local fv = {}\n"
    "for i = 1, np do fv[#fv + 1] = A[j]; fv[#fv + 1] = A[j + 1]; j = j + 2 end\n"
    "redis.call('HSET', K[3], unpack(fv))\n"
    "redis.call('PEXPIRE', K[3], A[6])\n"
    "if A[2] ~= '' then redis.call('HSET', K[1], 'u:' .. A[1], A[2]) end\n"
    "local act = false\n"
    "for i = 1, #all, 2 do if string.sub(all[i], 1, 4) == 'act:' then act = true break end end\n"
    "if not act then redis.call('PEXPIRE', K[1], A[6]) end\n"
    "if A[3] ~= '' then\n"
    "  if A[4] == '' then redis.call('HDEL', K[1], 'u:' .. A[3]) else redis.call('HSET', K[1], 'u:' .. A[3], A[4]) end end\n"
    "local no = tonumber(A[j]); j = j + 1\n"
    "for i = 1, no do redis.call('HINCRBY', K[4], A[j], A[j + 1]); j = j + 2 end\n"
    "local nn = tonumber(A[j]); j = j + 1\n"
    "if nn > 0 then fv = {}\n"
    "  for i = 1, nn do fv[#fv + 1] = A[j]; fv[#fv + 1] = A[j + 1]; j = j + 2 end\n"
    "  redis.call('XADD', K[2], 'MAXLEN', '~', '" S_NOTES_MAXLEN "', '*', unpack(fv)) end\n"
    "return 'ok'\n"
};

/* ---- keys and small helpers ----------------------------------------------------------------- */

/* How long a decided promise, a payment's record and an idle account stay in Redis. */
static int64_t
s_retention_ms (const promise_book_t *self)
{
    int days = self->o.retention_days > 0 ? self->o.retention_days : PROMISE_RETENTION_DAYS;
    return (int64_t) days * 86400000;
}

/* After a lost compare-and-set: a random pause, longer each round (up to 3.2 ms), so that
 * writers racing on one promise stop colliding in step. */
static void
s_backoff (int round)
{
    static __thread uint64_t x;
    if (!x) {
        struct timespec ts;
        clock_gettime (CLOCK_MONOTONIC, &ts);
        x = ((uint64_t) ts.tv_nsec << 1 | 1) ^ (uint64_t) (uintptr_t) &x;
    }
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    long us = (long) (x % (50u << (round < 6 ? round : 6)));
    struct timespec d = { 0, us * 1000 };
    nanosleep (&d, NULL);
}

int
promise_book_shard (const char *account)
{
    uint32_t h = 2166136261u;                  /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *) account; p && *p; p++)
        h = (h ^ *p) * 16777619u;
    return (int) (h % PROMISE_SHARDS);
}

static void
s_tag (char *out, size_t size, int shard)
{
    snprintf (out, size, "prom:%d", shard);
}

static void
s_key (char *out, size_t size, int shard, const char *what, const char *id)
{
    if (id)
        snprintf (out, size, "pl:{prom:%d}:%s:%s", shard, what, id);
    else
        snprintf (out, size, "pl:{prom:%d}:%s", shard, what);
}

/* Ids (promise, payment, account, creditor): 1 to PROMISE_ID_MAX - 1 bytes of [A-Za-z0-9._:@/-]. */
static const char *
s_or (const char *s)
{
    return s ? s : "";
}

static const char *
s_or2 (const char *s, const char *otherwise)
{
    return s && *s ? s : otherwise;
}

/* A name (the creditor: "Harbor Credit Union"): 1 to PROMISE_ID_MAX - 1 bytes of UTF-8 without
 * control characters. It is never part of a key. */
static bool
s_name_ok (const char *s)
{
    size_t n = s ? strlen (s) : 0;
    if (n == 0 || n >= PROMISE_ID_MAX || !pl_utf8_valid (s, n))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

/* A campaign or an agent: a name (s_name_ok) without '|', which separates the KPIs' fields
 * ("<what>|<campaign>|<agent>|<currency>"). */
static bool
s_kpi_name_ok (const char *s)
{
    return s_name_ok (s) && !strchr (s, '|');
}

static bool
s_id_ok (const char *s)
{
    size_t n = s ? strlen (s) : 0;
    if (n == 0 || n >= PROMISE_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum ((unsigned char) s[i]) && !strchr ("._:@/-", s[i]))
            return false;
    return true;
}

static void
s_day_str (char *out, size_t size, int64_t days)
{
    int32_t y;
    int m, d;
    pl_civil_from_days (days, &y, &m, &d);
    snprintf (out, size, "%04d-%02d-%02d", (int) y, m, d);
}

/* A growable list of C strings for effect arguments; the strings are owned by it. */
typedef struct {
    char **v;
    size_t n, cap;
    bool oom;
} s_args_t;

static void
s_add (s_args_t *a, const char *s)
{
    if (a->oom)
        return;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 32;
        char **v = realloc (a->v, cap * sizeof *v);
        if (!v) {
            a->oom = true;
            return;
        }
        a->v = v;
        a->cap = cap;
    }
    if (!(a->v[a->n] = strdup (s ? s : ""))) {
        a->oom = true;
        return;
    }
    a->n++;
}

static void
s_addf (s_args_t *a, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
static void
s_addf (s_args_t *a, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (buf, sizeof buf, fmt, ap);
    va_end (ap);
    s_add (a, buf);
}

static void
s_args_free (s_args_t *a)
{
    for (size_t i = 0; i < a->n; i++)
        free (a->v[i]);
    free (a->v);
    *a = (s_args_t) { 0 };
}

/* A section "count, pairs" of args: remembers where its count goes. */
static size_t
s_section (s_args_t *a)
{
    s_add (a, "0");
    return a->n - 1;
}

static void
s_pair (s_args_t *a, size_t section, const char *field, const char *value)
{
    s_add (a, field);
    s_add (a, value);
    if (!a->oom) {
        long n = strtol (a->v[section], NULL, 10) + 1;
        char buf[24];
        snprintf (buf, sizeof buf, "%ld", n);
        free (a->v[section]);
        a->v[section] = strdup (buf);
        a->oom = !a->v[section];
    }
}

static void
s_pairf (s_args_t *a, size_t section, const char *field, long long value)
{
    char buf[24];
    snprintf (buf, sizeof buf, "%lld", value);
    s_pair (a, section, field, buf);
}

/* ---- life cycle ------------------------------------------------------------------------------ */

promise_book_t *
promise_book_new (const promise_book_opts_t *o)
{
    promise_book_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->o = *o;
    self->inbox = pl_inbox_new (o->redis, o->service, 0);
    self->dialer = pl_outbox_new (o->redis, o->replica, "dialer");
    self->audit = o->audit ? pl_outbox_new (o->redis, o->replica, "audit") : NULL;
    self->tzdb = pl_rules_tzdb_new (o->zoneinfo);
    if (!self->inbox || !self->dialer || (o->audit && !self->audit) || !self->tzdb) {
        promise_book_destroy (&self);
        return NULL;
    }
    if (o->metrics) {
        self->m_promises = pl_metrics_counter (o->metrics, "plateau_promise_promises_total",
                                               "Promises opened and decided, by what happened", "event");
        self->m_payments = pl_metrics_counter (o->metrics, "plateau_promise_payments_total",
                                               "Payments received, by what became of them", "status");
    }
    return self;
}

void
promise_book_destroy (promise_book_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    promise_book_t *self = *self_p;
    pl_inbox_destroy (&self->inbox);
    pl_outbox_destroy (&self->dialer);
    pl_outbox_destroy (&self->audit);
    pl_rules_tzdb_destroy (&self->tzdb);
    free (self);
    *self_p = NULL;
}

/* ---- the debtor's zone ---------------------------------------------------------------------- */

/* The zone the due dates are read in: the one given, else of all the number's candidate zones
 * the one whose midnight comes last (the debtor is never found late by a zone east of theirs). */
static const pl_rules_tz_t *
s_zone (promise_book_t *self, promise_rec_t *rec, int64_t at_ms, char *field, size_t fsz, char *msg, size_t msz)
{
    const pl_rules_tz_t *z = NULL;
    if (*rec->zone) {
        if (pl_rules_tzdb_load (self->tzdb, rec->zone, &z) != 0) {
            snprintf (field, fsz, "zone");
            snprintf (msg, msz, "unknown time zone '%.64s'", rec->zone);
            return NULL;
        }
        return z;
    }
    pl_phone_zones_t zs;
    if (pl_phone_zones_for_number (rec->phone, &zs) <= 0) {
        snprintf (field, fsz, "phone");
        snprintf (msg, msz, "an E.164 number of a known country is needed to read the due dates in its zone");
        return NULL;
    }
    int32_t best = INT32_MAX;
    for (size_t i = 0; i < zs.count; i++) {
        const pl_rules_tz_t *c = NULL;
        if (pl_rules_tzdb_load (self->tzdb, zs.zones[i], &c) != 0)
            continue;
        int32_t off = pl_rules_tz_offset (c, at_ms / 1000);
        if (off < best) {
            best = off;
            z = c;
            snprintf (rec->zone, sizeof rec->zone, "%s", zs.zones[i]);
        }
    }
    if (!z) {
        snprintf (field, fsz, "phone");
        snprintf (msg, msz, "no time zone of the number is known here");
    }
    return z;
}

static int64_t
s_local_days (const pl_rules_tz_t *z, int64_t at_ms)
{
    pl_rules_tm_t tm;
    pl_rules_tz_local (z, at_ms / 1000 - (at_ms < 0 && at_ms % 1000 ? 1 : 0), &tm);
    return tm.days;
}

/* The reminder of instalment i: S_REMIND_LOCAL_S on the day remind_days before its due date, in
 * the debtor's zone (UTC ms); 0 when reminders are off or the zone is unknown. */
#define S_REMIND_LOCAL_S (9 * 3600)
static int64_t
s_reminder_of (promise_book_t *self, const promise_rec_t *r, size_t i)
{
    const pl_rules_tz_t *z = NULL;
    if (self->o.remind_days <= 0 || pl_rules_tzdb_load (self->tzdb, r->zone, &z) != 0)
        return 0;
    int64_t utc = 0;
    pl_rules_tz_utc (z, (r->ledger.inst[i].due_days - self->o.remind_days) * 86400 + S_REMIND_LOCAL_S,
                     PL_RULES_TZ_FIRST, &utc);
    return utc * 1000;
}

/* The next reminder after after_ms of an instalment not paid yet; 0 when none (or the promise
 * is decided). */
static int64_t
s_reminder_at (promise_book_t *self, const promise_rec_t *r, int64_t after_ms)
{
    for (size_t i = 0; r->ledger.status == PROMISE_ACTIVE && i < r->ledger.n; i++) {
        int64_t at = r->ledger.inst[i].status == PROMISE_INST_PAID ? 0 : s_reminder_of (self, r, i);
        if (at > after_ms)
            return at;
    }
    return 0;
}

/* The next instant the sweep has something to do for promise r after after_ms: its next
 * deadline or its next reminder, whichever comes first; 0 when neither will come (decided). One
 * zset holds it: a second, for the reminders alone, cost every promise about 100 bytes. */
static int64_t
s_next_at (promise_book_t *self, const promise_rec_t *r, int64_t after_ms)
{
    int64_t nd = promise_next_deadline (&r->ledger), rem = s_reminder_at (self, r, after_ms);
    if (nd == PROMISE_NEVER)
        return rem;
    return rem && rem < nd ? rem : nd;
}

/* ---- reading -------------------------------------------------------------------------------- */

typedef struct {
    promise_rec_t rec;
    char version[24];
    int shard;
} s_held_t;

static void
s_field (char *out, size_t size, const pl_reply_t *h, const char *name)
{
    for (size_t i = 0; i + 1 < pl_reply_len (h); i += 2) {
        const char *f = pl_reply_str (pl_reply_element (h, i), NULL);
        if (f && strcmp (f, name) == 0) {
            const char *v = pl_reply_str (pl_reply_element (h, i + 1), NULL);
            snprintf (out, size, "%s", v ? v : "");
            return;
        }
    }
    if (size)
        *out = '\0';
}

static int s_parse (const pl_reply_t *h, int shard, const char *id, s_held_t *out);

/* Packed values: what the book stores as one field instead of a field each (a promise's facts,
 * what a payment was, a creditor's note) — their values in a fixed order, separated by S_SEP.
 * No value holds a control character: the openings and payments refuse them, and ids, dates,
 * numbers and statuses have none. A field each cost a promise about 60 bytes of Redis (names,
 * the listpack's per-entry bytes), and a payment's step 40 more arguments to its script. */
#define S_SEP '\x1f'
#define S_PACK_MAX 16

/* Joins v[0..n) into out. Its length, or -1 if it does not fit. */
static int
s_pack (char *out, size_t size, const char *const *v, int n)
{
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        int w = snprintf (out + len, size - len, "%s%s", i ? "\x1f" : "", v[i] ? v[i] : "");
        if (w < 0 || (size_t) w >= size - len)
            return -1;
        len += (size_t) w;
    }
    return (int) len;
}

/* Splits packed text f into v[0..n) of sizes[i] bytes each. False unless it holds exactly n
 * values that fit. */
static bool
s_unpack (const char *f, char *const *v, const size_t *sizes, int n)
{
    for (int i = 0; i < n; i++) {
        const char *end = strchr (f, S_SEP);
        size_t len = end ? (size_t) (end - f) : strlen (f);
        if ((end == NULL) != (i == n - 1) || len >= sizes[i])
            return false;
        memcpy (v[i], f, len);
        v[i][len] = '\0';
        f += len + (end != NULL);
    }
    return true;
}

/* A promise's facts, which never change once it is opened: field "f" of its hash. */
#define S_FACTS 11
/* What a payment was: field "d" of its record (s_payment_fields). */
#define S_PAY_VALUES 10

/* The facts of r in their packed order (made: its made-at text, 24 bytes), with their sizes. */
static void
s_fact_fields (promise_rec_t *r, char *made, char **v, size_t *sizes)
{
    char *f[S_FACTS] = { r->account, r->creditor, r->tenant, r->phone, r->zone, r->campaign,
                         r->lead,    r->agent,    r->dial,   made,     r->source };
    const size_t z[S_FACTS] = { sizeof r->account, sizeof r->creditor, sizeof r->tenant, sizeof r->phone,
                                sizeof r->zone,    sizeof r->campaign, sizeof r->lead,   sizeof r->agent,
                                sizeof r->dial,    24,                 sizeof r->source };
    memcpy (v, f, sizeof f);
    memcpy (sizes, z, sizeof z);
}

static int
s_pack_facts (promise_rec_t *r, char *made, char *out, size_t size)
{
    char *v[S_FACTS];
    size_t sizes[S_FACTS];
    s_fact_fields (r, made, v, sizes);
    return s_pack (out, size, (const char *const *) v, S_FACTS);
}

/* Unpacks the facts f into r (made: its made-at text, 24 bytes). False if they do not read. */
static bool
s_unpack_facts (const char *f, promise_rec_t *r, char *made)
{
    char *v[S_FACTS];
    size_t sizes[S_FACTS];
    s_fact_fields (r, made, v, sizes);
    return s_unpack (f, v, sizes, S_FACTS);
}

/* The shard that holds promise `id` (its account's), asked of the 16 in one pipeline; `but`:
 * a shard not to ask (-1: none). The shard, -1 when none has it, or PL_EREDIS. Reads by id are
 * rare (an operator, an API client): an index of every id would cost every promise 56 bytes
 * for as long as Redis runs, one hot key on one Cluster slot. */
static int
s_find_shard (promise_book_t *self, const char *id, int but)
{
    int rc = 0, found = -1, queued = 0;
    for (int s = 0; s < PROMISE_SHARDS && rc == 0; s++) {
        if (s == but)
            continue;
        char key[256];
        s_key (key, sizeof key, s, "p", id);
        if (pl_redis_append (self->o.redis, "EXISTS %s", key) != 0)
            rc = PL_EREDIS;
        else
            queued++;
    }
    for (int s = 0, q = 0; s < PROMISE_SHARDS && q < queued; s++) {
        if (s == but)
            continue;
        pl_reply_t *r = NULL;
        if (pl_redis_get_reply (self->o.redis, &r) != 0) {
            rc = PL_EREDIS;                 /* the connection dropped, and what was pending */
            break;
        }
        q++;
        if (pl_reply_type (r) != PL_REPLY_INTEGER)
            rc = PL_EREDIS;
        else if (pl_reply_int (r) && found < 0)
            found = s;
        pl_reply_free (&r);
    }
    return rc ? rc : found;
}

/* Reads promise `id` of `shard` (-1: whichever holds it). 0, PL_ENOTFOUND, PL_EREDIS,
 * PL_ECORRUPT. */
static int
s_read (promise_book_t *self, int shard, const char *id, s_held_t *out)
{
    memset (out, 0, sizeof *out);
    if (!s_id_ok (id))
        return PL_ENOTFOUND;
    char key[256];
    if (shard < 0) {
        shard = s_find_shard (self, id, -1);
        if (shard == PL_EREDIS)
            return PL_EREDIS;
        if (shard < 0)
            return PL_ENOTFOUND;
    }
    s_key (key, sizeof key, shard, "p", id);
    pl_reply_t *h = pl_redis_command (self->o.redis, "HGETALL %s", key);
    int rc = s_parse (h, shard, id, out);
    pl_reply_free (&h);
    return rc;
}

/* Promise id of shard from its HGETALL reply h. 0, PL_ENOTFOUND, PL_EREDIS, PL_ECORRUPT. */
static int
s_parse (const pl_reply_t *h, int shard, const char *id, s_held_t *out)
{
    memset (out, 0, sizeof *out);
    if (!h || pl_reply_type (h) != PL_REPLY_ARRAY)
        return PL_EREDIS;
    if (pl_reply_len (h) == 0)
        return PL_ENOTFOUND;
    promise_rec_t *r = &out->rec;
    char ledger[S_LEDGER_MAX], made[24];
    snprintf (r->id, sizeof r->id, "%s", id);
    s_field (out->version, sizeof out->version, h, "v");
    s_field (ledger, sizeof ledger, h, "l");
    char facts[12 * PROMISE_ID_MAX + 128];
    s_field (facts, sizeof facts, h, "f");
    if (*facts) {
        if (!s_unpack_facts (facts, r, made))
            return PL_ECORRUPT;
        r->made_at_ms = strtoll (made, NULL, 10);
        out->shard = shard;
        return promise_decode (&r->ledger, ledger) == 0 ? 0 : PL_ECORRUPT;
    }
    /* Written before the facts were packed: a field each. */
    s_field (r->account, sizeof r->account, h, "a");
    s_field (r->creditor, sizeof r->creditor, h, "cr");
    s_field (r->tenant, sizeof r->tenant, h, "tn");
    s_field (r->phone, sizeof r->phone, h, "ph");
    s_field (r->zone, sizeof r->zone, h, "z");
    s_field (r->campaign, sizeof r->campaign, h, "cp");
    s_field (r->lead, sizeof r->lead, h, "ld");
    s_field (r->agent, sizeof r->agent, h, "ag");
    s_field (r->dial, sizeof r->dial, h, "dl");
    s_field (r->source, sizeof r->source, h, "src");
    s_field (made, sizeof made, h, "m");
    r->made_at_ms = strtoll (made, NULL, 10);
    out->shard = shard;
    return promise_decode (&r->ledger, ledger) == 0 ? 0 : PL_ECORRUPT;
}

/* ---- events ----------------------------------------------------------------------------------- */

static void
s_facts (Plateau__V1__PromiseFacts *pf, const promise_rec_t *r, int inst)
{
    const promise_t *p = &r->ledger;
    plateau__v1__promise_facts__init (pf);
    pf->promise_id = (char *) r->id;
    pf->account_ref = (char *) r->account;
    pf->creditor = (char *) r->creditor;
    pf->currency = (char *) p->currency;
    pf->amount_minor = promise_amount (p);
    pf->paid_minor = promise_paid (p);
    pf->credit_minor = p->credit;
    pf->status = (char *) promise_status_str (p->status);
    pf->instalments = (int32_t) p->n;
    pf->instalment = inst;
    pf->zone = (char *) r->zone;
    pf->grace_days = p->grace_days;
    int64_t nd = promise_next_deadline (p);
    pf->next_deadline_ms = nd == PROMISE_NEVER ? 0 : nd;
    pf->instalment_due = (char *) "";
    pf->payment_id = (char *) "";
    pf->follow_up_campaign = (char *) "";
    if (inst >= 0 && (size_t) inst < p->n) {
        pf->deadline_ms = p->inst[inst].deadline_ms;
        pf->tolerance_minor = promise_tolerance (p, (size_t) inst);
    }
}

/* Adds the audit event `type` about promise r (inst: the instalment decided, -1 the whole; pay:
 * the payment, or NULL) to tx. */
static int
s_audit (promise_book_t *self, pl_inbox_tx_t *tx, const char *type, const char *id_suffix, const promise_rec_t *r,
         int inst, const promise_payment_t *pay, int64_t at, const char *actor, const char *reason, const char *trace)
{
    if (!self->audit)
        return 0;
    char id[320], due[16] = "";
    if (pay)
        snprintf (id, sizeof id, "%s.%s", pay->id, id_suffix);
    else
        snprintf (id, sizeof id, "%s.%s", r->id, id_suffix);
    Plateau__V1__AuditEvent ev;
    Plateau__V1__PromiseFacts pf;
    pl_audit_event_init (&ev, self->o.service, type, id, at);
    s_facts (&pf, r, inst);
    if (inst >= 0 && (size_t) inst < r->ledger.n) {
        s_day_str (due, sizeof due, r->ledger.inst[inst].due_days);
        pf.instalment_due = due;
    }
    if (pay) {
        pf.payment_id = (char *) pay->id;
        pf.payment_minor = pay->amount;
        pf.paid_at_ms = pay->paid_at_ms;
    }
    if (!strcmp (type, "promise.broken") || !strcmp (type, "promise.partially_kept"))
        pf.follow_up_campaign = (char *) r->campaign;
    /* promise.made carries the schedule: a checker decides the promise from the payments. */
    Plateau__V1__InstalmentFacts sched[PROMISE_MAX_INSTALMENTS], *sp[PROMISE_MAX_INSTALMENTS];
    char sdue[PROMISE_MAX_INSTALMENTS][16];
    if (!strcmp (type, "promise.made")) {
        for (size_t i = 0; i < r->ledger.n; i++) {
            plateau__v1__instalment_facts__init (&sched[i]);
            s_day_str (sdue[i], sizeof sdue[i], r->ledger.inst[i].due_days);
            sched[i].due = sdue[i];
            sched[i].amount_minor = r->ledger.inst[i].amount;
            sched[i].deadline_ms = r->ledger.inst[i].deadline_ms;
            sched[i].tolerance_minor = promise_tolerance (&r->ledger, i);
            sp[i] = &sched[i];
        }
        pf.n_schedule = r->ledger.n;
        pf.schedule = sp;
    }
    ev.promise = &pf;
    ev.lead_id = (char *) r->lead;
    ev.campaign = (char *) r->campaign;
    ev.tenant = (char *) r->tenant;
    ev.number = (char *) r->phone;
    ev.attempt_id = (char *) r->dial;
    ev.call_kind = PLATEAU__V1__CALL_KIND__DEBT_COLLECTION;
    ev.actor = (char *) (actor ? actor : r->agent);
    ev.zone = (char *) r->zone;
    ev.reason = (char *) (reason ? reason : "");
    return pl_audit_emit (tx, self->audit, self->o.service, self->o.clock, trace, &ev);
}

/* A payment's audit event when no promise took it. */
static int
s_audit_unmatched (promise_book_t *self, pl_inbox_tx_t *tx, const char *type, const promise_payment_t *pay,
                   const char *actor, const char *trace)
{
    if (!self->audit)
        return 0;
    char id[320];
    snprintf (id, sizeof id, "%s.%s", pay->id, strchr (type, '.') + 1);
    Plateau__V1__AuditEvent ev;
    Plateau__V1__PromiseFacts pf;
    pl_audit_event_init (&ev, self->o.service, type, id, pl_clock_now_ms (self->o.clock));
    plateau__v1__promise_facts__init (&pf);
    pf.promise_id = (char *) "";
    pf.account_ref = (char *) pay->account;
    pf.creditor = (char *) "";
    pf.currency = (char *) pay->currency;
    pf.status = (char *) "";
    pf.instalment = -1;
    pf.instalment_due = (char *) "";
    pf.zone = (char *) "";
    pf.payment_id = (char *) pay->id;
    pf.payment_minor = pay->amount;
    pf.paid_at_ms = pay->paid_at_ms;
    pf.follow_up_campaign = (char *) "";
    ev.promise = &pf;
    ev.call_kind = PLATEAU__V1__CALL_KIND__DEBT_COLLECTION;
    ev.actor = (char *) (actor ? actor : "");
    return pl_audit_emit (tx, self->audit, self->o.service, self->o.clock, trace, &ev);
}

/* PromiseKept / PromiseBroken to the dialer. */
static int
s_tell_dialer (promise_book_t *self, pl_inbox_tx_t *tx, const promise_rec_t *r, bool kept, int inst, int64_t at,
               const char *trace)
{
    const promise_t *p = &r->ledger;
    char id[320];
    snprintf (id, sizeof id, "%s.%s", r->id, kept ? "kept" : "broken");
    Plateau__V1__Money paid = PLATEAU__V1__MONEY__INIT, due = PLATEAU__V1__MONEY__INIT;
    paid.currency = due.currency = (char *) p->currency;
    paid.minor_units = promise_paid (p);
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    pl_envelope_init (&env, &ids, self->o.service, self->o.clock, trace);
    env.id = id;
    if (kept) {
        Plateau__V1__PromiseKept k = PLATEAU__V1__PROMISE_KEPT__INIT;
        k.promise_id = (char *) r->id;
        k.lead_id = (char *) r->lead;
        k.account_ref = (char *) r->account;
        k.instalment = -1;
        k.paid = &paid;
        k.at_ms = at;
        k.campaign = (char *) r->campaign;
        k.tenant = (char *) r->tenant;
        env.body_case = PLATEAU__V1__ENVELOPE__BODY_PROMISE_KEPT;
        env.promise_kept = &k;
        return pl_inbox_tx_emit (tx, self->dialer, &env);
    }
    Plateau__V1__PromiseBroken b = PLATEAU__V1__PROMISE_BROKEN__INIT;
    b.promise_id = (char *) r->id;
    b.lead_id = (char *) r->lead;
    b.account_ref = (char *) r->account;
    b.instalment = inst;
    due.minor_units = inst >= 0 && (size_t) inst < p->n ? p->inst[inst].amount : promise_amount (p);
    paid.minor_units = inst >= 0 && (size_t) inst < p->n ? p->inst[inst].paid : promise_paid (p);
    b.due = &due;
    b.paid = &paid;
    b.at_ms = at;
    b.campaign = (char *) r->campaign;
    b.tenant = (char *) r->tenant;
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_PROMISE_BROKEN;
    env.promise_broken = &b;
    return pl_inbox_tx_emit (tx, self->dialer, &env);
}

/* PromiseActive to the dialer: a promise it did not see made (over the API), or reopened, holds
 * its debt until its last instalment's deadline and the sweep's hour after it. Nothing for a
 * promise naming neither a tenant nor a campaign: no hold can be placed. */
static int
s_tell_dialer_active (promise_book_t *self, pl_inbox_tx_t *tx, const promise_rec_t *r, bool reopened, int64_t at,
                      const char *trace)
{
    const promise_t *p = &r->ledger;
    if (!*r->tenant && !*r->campaign)
        return 0;
    int64_t until = 0;
    for (size_t i = 0; i < p->n; i++)
        if (p->inst[i].deadline_ms > until)
            until = p->inst[i].deadline_ms;
    char id[340];
    snprintf (id, sizeof id, "%s.active.%lld", r->id, (long long) at);
    Plateau__V1__PromiseActive a = PLATEAU__V1__PROMISE_ACTIVE__INIT;
    a.promise_id = (char *) r->id;
    a.account_ref = (char *) r->account;
    a.campaign = (char *) r->campaign;
    a.tenant = (char *) r->tenant;
    a.until_ms = until + 3600000;
    a.at_ms = at;
    a.reopened = reopened;
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    pl_envelope_init (&env, &ids, self->o.service, self->o.clock, trace);
    env.id = id;
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_PROMISE_ACTIVE;
    env.promise_active = &a;
    return pl_inbox_tx_emit (tx, self->dialer, &env);
}

static int
s_first_bit (uint64_t bits)
{
    for (int i = 0; i < 64; i++)
        if (bits & (1ULL << i))
            return i;
    return -1;
}

/* The events of a change: instalments paid, the decision, a reopening. */
static int
s_change_events (promise_book_t *self, pl_inbox_tx_t *tx, const promise_rec_t *r, const promise_change_t *ch,
                 int64_t at, const char *actor, const char *trace)
{
    int rc = 0;
    const promise_t *p = &r->ledger;
    for (size_t i = 0; rc == 0 && i < p->n; i++)
        if (ch->paid & (1ULL << i)) {
            char sfx[64];
            snprintf (sfx, sizeof sfx, "instalment_paid.%zu.v%lld", i, (long long) promise_paid (p));
            rc = s_audit (self, tx, "promise.instalment_paid", sfx, r, (int) i, NULL, at, actor, NULL, trace);
        }
    if (rc == 0 && ch->reopened) {
        int shortfall = -1;             /* the instalment the reversal left short: the first not paid */
        for (size_t i = 0; i < p->n && shortfall < 0; i++)
            if (p->inst[i].status != PROMISE_INST_PAID)
                shortfall = (int) i;
        rc = s_audit (self, tx, "promise.reopened", "reopened", r, shortfall, NULL, at, actor,
                      "a reversal left an instalment short before its deadline", trace);
        if (rc == 0)                    /* active again: its debt is held again */
            rc = s_tell_dialer_active (self, tx, r, true, at, trace);
    }
    if (rc != 0 || !ch->decided)
        return rc;
    const char *st = promise_status_str (p->status);
    char type[48];
    snprintf (type, sizeof type, "promise.%s", st);
    int inst = p->status == PROMISE_KEPT ? -1 : s_first_bit (ch->missed);
    if (inst < 0 && p->status != PROMISE_KEPT)
        for (size_t i = 0; i < p->n; i++)
            if (p->inst[i].status == PROMISE_INST_MISSED) {
                inst = (int) i;
                break;
            }
    rc = s_audit (self, tx, type, st, r, inst, NULL, at, actor, NULL, trace);
    if (rc == 0 && (p->status == PROMISE_KEPT || p->status == PROMISE_BROKEN || p->status == PROMISE_PARTIALLY_KEPT))
        rc = s_tell_dialer (self, tx, r, p->status == PROMISE_KEPT, inst, at, trace);
    return rc;
}

/* What a change decided ("kept", "broken"…), NULL if nothing: counted once its step has
 * committed, not when a step that will lose its compare-and-set is built. */
static const char *
s_decided (const promise_rec_t *r, const promise_change_t *ch)
{
    return ch->decided ? promise_status_str (r->ledger.status) : NULL;
}

static void
s_count_decision (promise_book_t *self, const char *decided)
{
    if (decided && self->m_promises)
        pl_metric_inc (self->m_promises, decided, 1);
}

/* ---- opening ---------------------------------------------------------------------------------- */

typedef struct {
    char id[PROMISE_ID_MAX];
    char currency[4];
    int64_t amount, at;
} s_unmatched_t;

static int
s_by_at (const void *a, const void *b)
{
    int64_t x = ((const s_unmatched_t *) a)->at, y = ((const s_unmatched_t *) b)->at;
    return x < y ? -1 : x > y;
}

static void
s_kpi_key (char *out, size_t size, int shard, int64_t at_ms)
{
    char day[16];
    s_day_str (day, sizeof day, at_ms / 86400000);
    s_key (out, size, shard, "kpi", day);
}

/* A promise id is one promise's, whatever its account: an id that a promise of another account
 * (another shard) has is refused, or GET /v1/promises/{id} would find one of the two. 0 (free,
 * or this shard's), PL_EBUSY, PL_EREDIS. Two opens of one id on two shards at the same instant
 * can both pass. */
static int
s_id_free (promise_book_t *self, const char *id, int shard, char *field, size_t field_size, char *msg,
           size_t msg_size)
{
    int other = s_find_shard (self, id, shard);
    if (other == PL_EREDIS)
        return PL_EREDIS;
    if (other < 0)
        return 0;
    snprintf (field, field_size, "promise_id");
    snprintf (msg, msg_size, "a promise of another account has this id");
    return PL_EBUSY;
}

int
promise_book_open (promise_book_t *self, promise_rec_t *rec, const char *step_id, const char *trace, char *field,
                   size_t field_size, char *msg, size_t msg_size)
{
    snprintf (field, field_size, "%s", "");
    snprintf (msg, msg_size, "%s", "");
    const char *bad = !s_id_ok (rec->id) ? "promise_id" : !s_id_ok (rec->account) ? "account" : NULL;
    if (bad) {
        snprintf (field, field_size, "%s", bad);
        snprintf (msg, msg_size, "1 to %d characters of letters, digits and ._:@/-", PROMISE_ID_MAX - 1);
        return PL_EINVAL;
    }
    if (*rec->creditor && !s_name_ok (rec->creditor)) {
        snprintf (field, field_size, "creditor");
        snprintf (msg, msg_size, "1 to %d bytes of UTF-8 text without control characters", PROMISE_ID_MAX - 1);
        return PL_EINVAL;
    }
    /* The facts are stored packed (s_pack_facts: control characters separate them), and the
     * campaign and the agent name the KPIs' fields (s_kpi_name_ok). */
    const struct { const char *name, *v; bool bar; } text[] = {
        { "tenant", rec->tenant, false }, { "campaign", rec->campaign, true }, { "lead", rec->lead, false },
        { "agent", rec->agent, true },    { "dial_id", rec->dial, false },    { "source", rec->source, false },
    };
    for (size_t i = 0; i < sizeof text / sizeof text[0]; i++)
        if (*text[i].v && !(text[i].bar ? s_kpi_name_ok (text[i].v) : s_name_ok (text[i].v))) {
            snprintf (field, field_size, "%s", text[i].name);
            snprintf (msg, msg_size, "UTF-8 text without control characters%s", text[i].bar ? " or '|'" : "");
            return PL_EINVAL;
        }
    int64_t now = pl_clock_now_ms (self->o.clock);
    if (rec->made_at_ms <= 0)
        rec->made_at_ms = now;
    const pl_rules_tz_t *z = s_zone (self, rec, rec->made_at_ms, field, field_size, msg, msg_size);
    if (!z)
        return PL_EINVAL;
    int64_t today = s_local_days (z, rec->made_at_ms < now ? rec->made_at_ms : now);
    int rc = promise_open (&rec->ledger, z, today, field, field_size, msg, msg_size);
    if (rc != 0)
        return rc;
    int shard = promise_book_shard (rec->account);
    if ((rc = s_id_free (self, rec->id, shard, field, field_size, msg, msg_size)) != 0)
        return rc;
    char tag[32], k_p[256], k_a[256], k_due[64], k_kpi[64];
    s_tag (tag, sizeof tag, shard);
    s_key (k_p, sizeof k_p, shard, "p", rec->id);
    s_key (k_a, sizeof k_a, shard, "a", rec->account);
    s_key (k_due, sizeof k_due, shard, "due", NULL);
    s_kpi_key (k_kpi, sizeof k_kpi, shard, now);
    promise_t opened = rec->ledger;
    for (int round = 0; round < S_RETRIES; round++) {
        rec->ledger = opened;
        /* Payments that arrived first: the account's unmatched ones since the window, oldest first. */
        pl_reply_t *h = pl_redis_command (self->o.redis, "HGETALL %s", k_a);
        if (!h || pl_reply_type (h) != PL_REPLY_ARRAY) {
            pl_reply_free (&h);
            return PL_EREDIS;
        }
        size_t nu = 0, cap = pl_reply_len (h) / 2;
        s_unmatched_t *u = calloc (cap ? cap : 1, sizeof *u);
        for (size_t i = 0; u && i + 1 < pl_reply_len (h); i += 2) {
            const char *f = pl_reply_str (pl_reply_element (h, i), NULL);
            const char *v = pl_reply_str (pl_reply_element (h, i + 1), NULL);
            long long amount = 0, at = 0;
            char cur[4] = "";
            if (!f || !v || strncmp (f, "u:", 2) || sscanf (v, "%lld|%3[A-Z]|%lld", &amount, cur, &at) != 3)
                continue;
            if (strcmp (cur, rec->ledger.currency) || at < rec->made_at_ms - PROMISE_EARLY_PAYMENT_MS || amount <= 0)
                continue;            /* another currency, or too old to be for this promise: stays */
            snprintf (u[nu].id, sizeof u[nu].id, "%s", f + 2);
            memcpy (u[nu].currency, cur, sizeof cur);
            u[nu].amount = amount;
            u[nu].at = at;
            nu++;
        }
        pl_reply_free (&h);
        if (!u)
            return PL_ENOMEM;
        qsort (u, nu, sizeof *u, s_by_at);
        promise_change_t ch = { 0 };
        for (size_t i = 0; i < nu; i++) {
            promise_change_t c1 = { 0 };
            promise_pay (&rec->ledger, u[i].amount, now, &c1);
            ch.paid |= c1.paid;
            ch.decided |= c1.decided;
        }
        char ledger[S_LEDGER_MAX], made[24], next[24] = "";
        if (promise_encode (&rec->ledger, ledger, sizeof ledger) < 0) {
            free (u);
            snprintf (field, field_size, "installments");
            snprintf (msg, msg_size, "too many instalments to store");
            return PL_EINVAL;
        }
        snprintf (made, sizeof made, "%lld", (long long) rec->made_at_ms);
        int64_t nx = s_next_at (self, rec, now);
        if (nx)
            snprintf (next, sizeof next, "%lld", (long long) nx);
        bool active = rec->ledger.status == PROMISE_ACTIVE;
        s_args_t a = { 0 };
        s_add (&a, rec->id);
        s_add (&a, self->o.many_active ? "0" : "1");
        s_add (&a, next);
        s_add (&a, active ? "1" : "0");
        s_add (&a, made);
        s_addf (&a, "%zu", nu);
        for (size_t i = 0; i < nu; i++)
            s_add (&a, u[i].id);
        size_t kp = s_section (&a);
        char f1[400];
        snprintf (f1, sizeof f1, "made|%s|%s|", rec->campaign, rec->agent);
        s_pairf (&a, kp, f1, 1);
        snprintf (f1, sizeof f1, "promised|%s|%s|%s", rec->campaign, rec->agent, rec->ledger.currency);
        s_pairf (&a, kp, f1, promise_amount (&rec->ledger));
        if (promise_paid (&rec->ledger) + rec->ledger.credit > 0) {
            snprintf (f1, sizeof f1, "collected|%s|%s|%s", rec->campaign, rec->agent, rec->ledger.currency);
            s_pairf (&a, kp, f1, promise_paid (&rec->ledger) + rec->ledger.credit);
        }
        if (rec->ledger.status == PROMISE_KEPT) {
            snprintf (f1, sizeof f1, "kept|%s|%s|", rec->campaign, rec->agent);
            s_pairf (&a, kp, f1, 1);
        }
        char facts[12 * PROMISE_ID_MAX + 128];
        if (s_pack_facts (rec, made, facts, sizeof facts) < 0) {
            free (u);
            return PL_ECORRUPT;
        }
        const char *fv[] = { "v", "1", "l", ledger, "st", promise_status_str (rec->ledger.status), "f", facts };
        for (size_t i = 0; i < sizeof fv / sizeof fv[0]; i++)
            s_add (&a, fv[i]);
        s_addf (&a, "%lld", (long long) s_retention_ms (self));
        /* Keys: the promise, the account, due, kpi, then each payment taken. */
        const char **keys = calloc (4 + nu, sizeof *keys);
        char (*k_pay)[256] = calloc (nu ? nu : 1, sizeof *k_pay);
        pl_inbox_tx_t *tx = pl_inbox_tx_new (tag, step_id);
        rc = (!keys || !k_pay || !tx || a.oom) ? PL_ENOMEM : 0;
        if (rc == 0) {
            keys[0] = k_p;
            keys[1] = k_a;
            keys[2] = k_due;
            keys[3] = k_kpi;
            for (size_t i = 0; i < nu; i++) {
                s_key (k_pay[i], sizeof k_pay[i], shard, "pay", u[i].id);
                keys[4 + i] = k_pay[i];
            }
            rc = pl_inbox_tx_effect (tx, &s_open, (int) (4 + nu), keys, (int) a.n, (const char *const *) a.v, NULL);
        }
        if (rc == 0)
            rc = s_audit (self, tx, "promise.made", "made", rec, -1, NULL, rec->made_at_ms, NULL, NULL, trace);
        for (size_t i = 0; rc == 0 && i < nu; i++) {
            promise_payment_t pay = { 0 };
            snprintf (pay.id, sizeof pay.id, "%s", u[i].id);
            snprintf (pay.account, sizeof pay.account, "%s", rec->account);
            memcpy (pay.currency, u[i].currency, sizeof pay.currency);
            pay.amount = u[i].amount;
            pay.paid_at_ms = u[i].at;
            rc = s_audit (self, tx, "payment.applied", "applied", rec, -1, &pay, now, NULL,
                          "a payment received before its promise", trace);
        }
        if (rc == 0)
            rc = s_change_events (self, tx, rec, &ch, now, NULL, trace);
        /* A promise made on a call holds its debt from the disposition; one opened over the API
         * is told to the dialer here. */
        if (rc == 0 && strcmp (rec->source, "dialer") != 0 && rec->ledger.status == PROMISE_ACTIVE)
            rc = s_tell_dialer_active (self, tx, rec, false, now, trace);
        int res = -1;
        if (rc == 0)
            rc = pl_inbox_apply (self->inbox, &tx, 1, &res);
        const char *rep = tx ? pl_inbox_tx_reply (tx, NULL) : "";
        char reply[256];
        snprintf (reply, sizeof reply, "%s", rep ? rep : "");
        pl_inbox_tx_destroy (&tx);
        free (keys);
        free (k_pay);
        free (u);
        s_args_free (&a);
        if (rc != 0)
            return rc;
        if (strcmp (reply, "retry") == 0) {
            s_backoff (round);
            continue;
        }
        if (strcmp (reply, "exists") == 0)
            return PL_EEXIST;
        if (strncmp (reply, "busy:", 5) == 0) {
            snprintf (field, field_size, "account");
            snprintf (msg, msg_size, "the account has an active promise: %s", reply + 5);
            return PL_EBUSY;
        }
        if (res == 1 && self->m_promises)
            pl_metric_inc (self->m_promises, "made", 1);
        if (res == 1)
            s_count_decision (self, s_decided (rec, &ch));
        return 0;
    }
    return PL_EBUSY;
}

/* ---- payments --------------------------------------------------------------------------------- */

/* The account's active promise that takes a payment, from the HGETALL h of its hash: the
 * oldest one. 0 with *id "" when none, PL_EREDIS. */
static int
s_active_parse (const pl_reply_t *h, char *id, size_t size)
{
    *id = '\0';
    if (!h || pl_reply_type (h) != PL_REPLY_ARRAY)
        return PL_EREDIS;
    long long best = 0;
    for (size_t i = 0; i + 1 < pl_reply_len (h); i += 2) {
        const char *f = pl_reply_str (pl_reply_element (h, i), NULL);
        const char *v = pl_reply_str (pl_reply_element (h, i + 1), NULL);
        if (!f || !v || strncmp (f, "act:", 4))
            continue;
        long long at = strtoll (v, NULL, 10);
        if (!*id || at < best || (at == best && strcmp (f + 4, id) < 0)) {
            best = at;
            snprintf (id, size, "%s", f + 4);
        }
    }
    return 0;
}

static int
s_active (promise_book_t *self, int shard, const char *account, char *id, size_t size)
{
    char k_a[256];
    s_key (k_a, sizeof k_a, shard, "a", account);
    pl_reply_t *h = pl_redis_command (self->o.redis, "HGETALL %s", k_a);
    int rc = s_active_parse (h, id, size);
    pl_reply_free (&h);
    return rc;
}

/* What a payment did (status and promise, account, amount, reversed, currency) from the HGETALL
 * h of its record. 0, PL_ENOTFOUND, PL_EREDIS, PL_ECORRUPT. */
static int
s_payment_parse (const pl_reply_t *h, char *status, size_t ssz, char *pid, size_t psz, char *account, size_t asz,
                 long long *amount, long long *reversed, char *currency)
{
    if (!h || pl_reply_type (h) != PL_REPLY_ARRAY)
        return PL_EREDIS;
    if (pl_reply_len (h) == 0)
        return PL_ENOTFOUND;
    char buf[32];
    s_field (status, ssz, h, "st");
    s_field (pid, psz, h, "promise");
    s_field (buf, sizeof buf, h, "reversed");
    *reversed = strtoll (buf, NULL, 10);
    char d[1024];
    s_field (d, sizeof d, h, "d");
    if (*d) {
        /* What the payment was, packed (s_payment_fields). */
        char am[24], cur[8], paid[24], recv[24], kind[16], revs[PROMISE_ID_MAX], meth[32], ref[PROMISE_ID_MAX],
            src[64];
        char *v[S_PAY_VALUES] = { account, am, cur, paid, recv, kind, revs, meth, ref, src };
        const size_t sizes[S_PAY_VALUES] = { asz,         sizeof am,   sizeof cur,  sizeof paid, sizeof recv,
                                             sizeof kind, sizeof revs, sizeof meth, sizeof ref,  sizeof src };
        char *end = NULL;
        if (!s_unpack (d, v, sizes, S_PAY_VALUES) || strlen (cur) != 3)
            return PL_ECORRUPT;
        memcpy (currency, cur, 4);
        *amount = strtoll (am, &end, 10);
        return *am && !*end ? 0 : PL_ECORRUPT;
    }
    /* Written before the payment was packed: a field each. */
    s_field (account, asz, h, "account");
    s_field (buf, sizeof buf, h, "amount");
    *amount = strtoll (buf, NULL, 10);
    s_field (buf, sizeof buf, h, "currency");
    memcpy (currency, buf, 3);
    currency[3] = '\0';
    return 0;
}

/* What a payment id did before, for a duplicate. 0, PL_ENOTFOUND, PL_EREDIS. */
static int
s_payment_was (promise_book_t *self, int shard, const char *pay_id, char *status, size_t ssz, char *pid, size_t psz,
               char *account, size_t asz, long long *amount, long long *reversed, char *currency)
{
    char k[256];
    s_key (k, sizeof k, shard, "pay", pay_id);
    pl_reply_t *h = pl_redis_command (self->o.redis, "HGETALL %s", k);
    int rc = s_payment_parse (h, status, ssz, pid, psz, account, asz, amount, reversed, currency);
    pl_reply_free (&h);
    return rc;
}

/* A payment's record: st and promise, which the steps change (and reversed, which a reversal
 * adds), and what the payment was, packed in field d: account, amount, currency, paid at,
 * received, kind, reverses, method, reference, source. */
static void
s_payment_fields (s_args_t *a, size_t sec, const promise_payment_t *pay, const char *status, const char *pid,
                  int64_t now)
{
    char amount[24], paid_at[24], received[24], d[1024];
    snprintf (amount, sizeof amount, "%lld", (long long) pay->amount);
    snprintf (paid_at, sizeof paid_at, "%lld", (long long) pay->paid_at_ms);
    snprintf (received, sizeof received, "%lld", (long long) now);
    const char *v[S_PAY_VALUES] = { pay->account, amount, pay->currency, paid_at, received,
                                    pay->reversal ? "reversal" : "payment", pay->reverses, pay->method,
                                    pay->reference, pay->source };
    s_pair (a, sec, "st", status);
    s_pair (a, sec, "promise", pid);
    if (s_pack (d, sizeof d, v, S_PAY_VALUES) < 0)
        a->oom = true;
    else
        s_pair (a, sec, "d", d);
}

/* The creditor's notification of a payment (R124-5: every payment, even partial), packed in
 * field n of the stream's entry: its values in the order of s_note_pay. */
static const char *const s_note_pay[] = { "creditor", "kind", "payment_id", "account", "amount", "currency",
                                          "paid_at", "promise", "promise_status", "promise_paid",
                                          "promise_amount", NULL };
/* A reminder's, for the CRM to send an SMS or an e-mail. */
static const char *const s_note_remind[] = { "creditor", "kind", "account", "promise", "instalment", "due",
                                             "amount", "currency", NULL };

static void
s_note (s_args_t *a, size_t sec, const promise_payment_t *pay, const char *creditor, const char *pid,
        const char *status, long long paid, long long amount)
{
    char am[24], at[24], pd[24], tot[24], n[1024];
    snprintf (am, sizeof am, "%lld", (long long) pay->amount);
    snprintf (at, sizeof at, "%lld", (long long) pay->paid_at_ms);
    snprintf (pd, sizeof pd, "%lld", paid);
    snprintf (tot, sizeof tot, "%lld", amount);
    const char *v[] = { creditor, pay->reversal ? "reversal" : "payment", pay->id, pay->account, am, pay->currency,
                        at, pid, status, pd, tot };
    if (s_pack (n, sizeof n, v, (int) (sizeof v / sizeof v[0])) < 0)
        a->oom = true;
    else
        s_pair (a, sec, "n", n);
}

/* Checks a payment's fields (field/msg say which is wrong) and copies it to *p1 with a sensible
 * date: 0 or PL_EINVAL. */
static int
s_pay_check (const promise_payment_t *pay, int64_t now, promise_payment_t *p1, char *field, size_t field_size,
             char *msg, size_t msg_size)
{
    const char *bad = !s_id_ok (pay->id) ? "payment_id" : !s_id_ok (pay->account) ? "account"
                    : pay->amount <= 0 || pay->amount > 1000000000000000LL ? "amount"
                    : (strlen (pay->currency) != 3 || !isupper ((unsigned char) pay->currency[0])
                       || !isupper ((unsigned char) pay->currency[1]) || !isupper ((unsigned char) pay->currency[2]))
                      ? "currency"
                    : pay->reversal && !s_id_ok (pay->reverses) ? "reverses" : NULL;
    if (bad) {
        snprintf (field, field_size, "%s", bad);
        snprintf (msg, msg_size, "%s", !strcmp (bad, "amount") ? "a positive number of minor units"
                                       : !strcmp (bad, "currency") ? "ISO 4217, upper case (EUR)"
                                                                   : "letters, digits and ._:@/-");
        return PL_EINVAL;
    }
    /* Free text, stored packed (s_payment_fields): no control characters. */
    bad = *pay->method && !s_name_ok (pay->method) ? "method"
        : *pay->reference && !s_name_ok (pay->reference) ? "reference"
        : *pay->source && !s_name_ok (pay->source) ? "source" : NULL;
    if (bad) {
        snprintf (field, field_size, "%s", bad);
        snprintf (msg, msg_size, "UTF-8 text without control characters");
        return PL_EINVAL;
    }
    *p1 = *pay;
    if (p1->paid_at_ms <= 0 || p1->paid_at_ms > now)
        p1->paid_at_ms = now;           /* a payment dated ahead is taken as paid now */
    return 0;
}

/* The keys of a payment's step. */
typedef struct {
    int shard;
    char tag[32], k_a[256], k_due[64], k_kpi[64], k_notes[64], k_pay[256], k_orig[256];
} s_paykeys_t;

static void
s_pay_keys (s_paykeys_t *k, const promise_payment_t *p1, int64_t now)
{
    int shard = k->shard = promise_book_shard (p1->account);
    s_tag (k->tag, sizeof k->tag, shard);
    s_key (k->k_a, sizeof k->k_a, shard, "a", p1->account);
    s_key (k->k_due, sizeof k->k_due, shard, "due", NULL);
    s_key (k->k_notes, sizeof k->k_notes, shard, "notes", NULL);
    s_key (k->k_pay, sizeof k->k_pay, shard, "pay", p1->id);
    s_key (k->k_orig, sizeof k->k_orig, shard, "pay", p1->reversal ? p1->reverses : p1->id);
    s_kpi_key (k->k_kpi, sizeof k->k_kpi, shard, now);
}

/* What a payment's step is built from, read before: the promise that takes it ("" none) and,
 * for a reversal, what is left of the payment it reverses. */
typedef struct {
    char target[PROMISE_ID_MAX];
    s_held_t held;                     /* target's */
    bool orig_was_unmatched;
    long long wamt, wrev;
    char wcur[4];
    char orig_unmatched[64];           /* the original's unmatched value after the reversal */
} s_payread_t;

/* Builds the step of payment p1 into *tx_out; *decided: what it decides if it commits. status
 * and promise_id say what it will be; field/msg why on PL_EINVAL (another currency than its
 * promise). 0, PL_EINVAL, PL_ECORRUPT, PL_ENOMEM. */
static int
s_pay_step (promise_book_t *self, const promise_payment_t *pay, const s_paykeys_t *k, s_payread_t *rd, int64_t now,
            const char *step_id, const char *trace, pl_inbox_tx_t **tx_out, const char **decided, char *status,
            size_t status_size, char *promise_id, size_t promise_id_size, char *field, size_t field_size, char *msg,
            size_t msg_size)
{
    promise_payment_t p1 = *pay;
    *decided = NULL;
    pl_inbox_tx_t *tx = *tx_out = pl_inbox_tx_new (k->tag, step_id);
    s_args_t a = { 0 };
    int rc = 0;
    if (!*rd->target) {
        /* Nobody's yet: kept for the account's next promise, the creditor still told. */
        char uval[64] = "";
        if (!p1.reversal)
            snprintf (uval, sizeof uval, "%lld|%s|%lld", (long long) p1.amount, p1.currency,
                      (long long) p1.paid_at_ms);
        s_add (&a, p1.id);
        s_add (&a, uval);
        s_add (&a, p1.reversal ? p1.reverses : "");
        s_add (&a, rd->orig_unmatched);
        s_addf (&a, "%lld", (long long) (now - PROMISE_EARLY_PAYMENT_MS));
        s_addf (&a, "%lld", (long long) s_retention_ms (self));
        size_t sp = s_section (&a);
        s_payment_fields (&a, sp, &p1, p1.reversal ? "reversed" : "unmatched", "", now);
        size_t so = s_section (&a);
        if (p1.reversal)
            s_pairf (&a, so, "reversed", p1.amount);
        size_t sn = s_section (&a);
        s_note (&a, sn, &p1, "", "", "", 0, 0);
        const char *keys[4] = { k->k_a, k->k_notes, k->k_pay, k->k_orig };
        rc = !tx || a.oom ? PL_ENOMEM
                          : pl_inbox_tx_effect (tx, &s_unmatched, 4, keys, (int) a.n, (const char *const *) a.v, NULL);
        if (rc == 0)
            rc = s_audit_unmatched (self, tx, p1.reversal ? "payment.reversed" : "payment.unmatched", &p1, p1.source,
                                    trace);
        snprintf (status, status_size, "%s", p1.reversal ? "reversed" : "unmatched");
        s_args_free (&a);
        return rc;
    }
    promise_rec_t *r = &rd->held.rec;
    if (strcmp (r->ledger.currency, p1.currency)) {
        snprintf (field, field_size, "currency");
        snprintf (msg, msg_size, "promise %.64s is in %s", r->id, r->ledger.currency);
        return PL_EINVAL;
    }
    promise_status_t before = r->ledger.status;
    int64_t next_before = s_next_at (self, r, now);
    promise_change_t ch = { 0 };
    if (p1.reversal)
        promise_reverse (&r->ledger, p1.amount, now, &ch);
    else
        promise_pay (&r->ledger, p1.amount, p1.paid_at_ms, &ch);
    *decided = s_decided (r, &ch);
    char ledger[S_LEDGER_MAX], next[24] = "", made[24];
    if (promise_encode (&r->ledger, ledger, sizeof ledger) < 0)
        rc = PL_ECORRUPT;
    /* Most payments leave the next instant where it was (a part of an instalment): no ZADD. The
     * zset may hold an earlier instant than next_before (a reminder passed, not yet swept); it
     * then stays, and the sweep sends that reminder. */
    int64_t nx = s_next_at (self, r, now);
    if (nx && nx == next_before)
        snprintf (next, sizeof next, "=");
    else if (nx)
        snprintf (next, sizeof next, "%lld", (long long) nx);
    snprintf (made, sizeof made, "%lld", (long long) r->made_at_ms);
    bool active = r->ledger.status == PROMISE_ACTIVE;
    s_add (&a, r->id);
    s_add (&a, rd->held.version);
    s_add (&a, ledger);
    s_add (&a, promise_status_str (r->ledger.status));
    s_add (&a, next);
    char gone[32];
    snprintf (gone, sizeof gone, "0:%s", made);
    s_add (&a, active == (before == PROMISE_ACTIVE) ? "" : active ? made : gone);
    s_addf (&a, "%lld", (long long) s_retention_ms (self));
    size_t sp = s_section (&a);
    s_payment_fields (&a, sp, &p1, p1.reversal ? "reversed" : "applied", r->id, now);
    size_t so = s_section (&a);
    if (p1.reversal)
        s_pairf (&a, so, "reversed", p1.amount);
    size_t sk = s_section (&a);
    char f1[400];
    snprintf (f1, sizeof f1, "collected|%s|%s|%s", r->campaign, r->agent, p1.currency);
    s_pairf (&a, sk, f1, p1.reversal ? -p1.amount : p1.amount);
    if (ch.decided) {
        snprintf (f1, sizeof f1, "%s|%s|%s|", promise_status_str (r->ledger.status), r->campaign, r->agent);
        s_pairf (&a, sk, f1, 1);
    }
    if (ch.reopened && before == PROMISE_KEPT) {
        snprintf (f1, sizeof f1, "kept|%s|%s|", r->campaign, r->agent);
        s_pairf (&a, sk, f1, -1);
    }
    size_t sn = s_section (&a);
    s_note (&a, sn, &p1, r->creditor, r->id, promise_status_str (r->ledger.status), promise_paid (&r->ledger),
            promise_amount (&r->ledger));
    char k_p[256];
    s_key (k_p, sizeof k_p, k->shard, "p", r->id);
    const char *keys[7] = { k_p, k->k_a, k->k_due, k->k_kpi, k->k_notes, k->k_pay, k->k_orig };
    if (rc == 0)
        rc = !tx || a.oom ? PL_ENOMEM
                          : pl_inbox_tx_effect (tx, &s_update, 7, keys, (int) a.n, (const char *const *) a.v, NULL);
    if (rc == 0)
        rc = s_audit (self, tx, p1.reversal ? "payment.reversed" : "payment.applied",
                      p1.reversal ? "reversed" : "applied", r, -1, &p1, now, p1.source, NULL, trace);
    if (rc == 0)
        rc = s_change_events (self, tx, r, &ch, now, p1.source, trace);
    snprintf (status, status_size, "%s", p1.reversal ? "reversed" : "applied");
    snprintf (promise_id, promise_id_size, "%s", r->id);
    s_args_free (&a);
    return rc;
}

/* After a payment's step ran (rc, res: pl_inbox_apply's): 1 when it lost a race and must be
 * read again (a 'dup' then reads as a duplicate), else rc, with the metrics counted and *status
 * "duplicate" for a step applied before. */
static int
s_pay_done (promise_book_t *self, const pl_inbox_tx_t *tx, int rc, int res, const char *decided, char *status,
            size_t status_size)
{
    if (rc != 0)
        return rc;
    const char *rep = tx ? pl_inbox_tx_reply (tx, NULL) : NULL;
    if (rep && (!strcmp (rep, "retry") || !strcmp (rep, "dup")))
        return 1;
    if (self->m_payments)
        pl_metric_inc (self->m_payments, res == 1 ? status : "duplicate", 1);
    if (res == 1)
        s_count_decision (self, decided);
    if (res == 0)
        snprintf (status, status_size, "duplicate");
    return 0;
}

/* A payment id seen before: what it did then. */
static void
s_pay_duplicate (promise_book_t *self, const char *wpid, char *status, size_t status_size, char *promise_id,
                 size_t promise_id_size)
{
    snprintf (status, status_size, "duplicate");
    snprintf (promise_id, promise_id_size, "%s", wpid);
    if (self->m_payments)
        pl_metric_inc (self->m_payments, "duplicate", 1);
}

/* One payment, read and written alone, round after round until it wins its compare-and-set:
 * reversals, and what a batch could not apply together. */
static int
s_pay_alone (promise_book_t *self, const promise_payment_t *pay, const char *step_id, const char *trace,
             char *status, size_t status_size, char *promise_id, size_t promise_id_size, char *field,
             size_t field_size, char *msg, size_t msg_size)
{
    snprintf (status, status_size, "%s", "");
    snprintf (promise_id, promise_id_size, "%s", "");
    snprintf (field, field_size, "%s", "");
    snprintf (msg, msg_size, "%s", "");
    int64_t now = pl_clock_now_ms (self->o.clock);
    promise_payment_t p1;
    if (s_pay_check (pay, now, &p1, field, field_size, msg, msg_size) != 0)
        return PL_EINVAL;
    s_paykeys_t k;
    s_pay_keys (&k, &p1, now);
    s_payread_t *rd = malloc (sizeof *rd);
    if (!rd)
        return PL_ENOMEM;
    int rc = PL_EBUSY;
    for (int round = 0; round < S_RETRIES; round++) {
        memset (rd, 0, sizeof *rd);
        char was[32], wpid[PROMISE_ID_MAX], wacc[PROMISE_ID_MAX], wcur[4];
        long long wamt, wrev;
        rc = s_payment_was (self, k.shard, p1.id, was, sizeof was, wpid, sizeof wpid, wacc, sizeof wacc, &wamt, &wrev,
                            wcur);
        if (rc == 0) {
            s_pay_duplicate (self, wpid, status, status_size, promise_id, promise_id_size);
            break;
        }
        if (rc != PL_ENOTFOUND)
            break;
        /* A reversal goes where its payment went. */
        if (p1.reversal) {
            rc = s_payment_was (self, k.shard, p1.reverses, was, sizeof was, wpid, sizeof wpid, wacc, sizeof wacc,
                                &wamt, &wrev, wcur);
            if (rc == PL_ENOTFOUND || (rc == 0 && strcmp (wacc, p1.account))) {
                snprintf (field, field_size, "reverses");
                snprintf (msg, msg_size, "no payment %.64s on this account", p1.reverses);
                rc = PL_EINVAL;
                break;
            }
            if (rc != 0)
                break;
            if (strcmp (wcur, p1.currency)) {
                snprintf (field, field_size, "currency");
                snprintf (msg, msg_size, "the payment reversed is in %s", wcur);
                rc = PL_EINVAL;
                break;
            }
            if (p1.amount > wamt - wrev) {
                snprintf (field, field_size, "amount");
                snprintf (msg, msg_size, "more than is left of payment %.64s (%lld)", p1.reverses, wamt - wrev);
                rc = PL_EINVAL;
                break;
            }
            snprintf (rd->target, sizeof rd->target, "%s", wpid);
            rd->orig_was_unmatched = !*wpid;
            if (rd->orig_was_unmatched && wamt - wrev - p1.amount > 0) {
                /* What is left of the original stays unmatched, with its own date. */
                pl_reply_t *r = pl_redis_command (self->o.redis, "HGET %s u:%s", k.k_a, p1.reverses);
                const char *v = r ? pl_reply_str (r, NULL) : NULL;
                const char *at = v ? strrchr (v, '|') : NULL;
                snprintf (rd->orig_unmatched, sizeof rd->orig_unmatched, "%lld|%s|%s", wamt - wrev - p1.amount, wcur,
                          at ? at + 1 : "0");
                pl_reply_free (&r);
            }
        } else if ((rc = s_active (self, k.shard, p1.account, rd->target, sizeof rd->target)) != 0)
            break;
        if (*rd->target) {
            rc = s_read (self, k.shard, rd->target, &rd->held);
            if (rc == PL_ENOTFOUND) {
                rc = PL_EBUSY;
                continue;               /* decided and gone meanwhile: look again */
            }
            if (rc != 0)
                break;
        }
        pl_inbox_tx_t *tx = NULL;
        const char *decided = NULL;
        int res = -1;
        rc = s_pay_step (self, &p1, &k, rd, now, step_id, trace, &tx, &decided, status, status_size, promise_id,
                         promise_id_size, field, field_size, msg, msg_size);
        if (rc == 0)
            rc = pl_inbox_apply (self->inbox, &tx, 1, &res);
        rc = s_pay_done (self, tx, rc, res, decided, status, status_size);
        pl_inbox_tx_destroy (&tx);
        if (rc != 1)
            break;
        rc = PL_EBUSY;                  /* lost a race: read again */
        s_backoff (round);
    }
    free (rd);
    return rc;
}

/* ---- payments in batches ------------------------------------------------------------------ */

/* One payment of promise_book_pay_many as it goes. */
typedef struct {
    promise_payment_t p1;
    s_paykeys_t k;
    s_payread_t rd;
    pl_inbox_tx_t *tx;
    const char *decided;
    enum { S_BATCHED, S_DONE, S_ALONE } how;
} s_work_t;

typedef struct {
    const char *key;
    size_t i;
} s_sortkey_t;


static int
s_by_key (const void *a, const void *b)
{
    const s_sortkey_t *x = a, *y = b;
    int c = strcmp (x->key, y->key);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* A step's place in a batch: its shard and effect (one script call per run of both), then its
 * payment's place, so that the sort is stable. */
typedef struct {
    int run;
    size_t i;
} s_runkey_t;

static int
s_by_run (const void *a, const void *b)
{
    const s_runkey_t *x = a, *y = b;
    return x->run != y->run ? (x->run > y->run) - (x->run < y->run) : (x->i > y->i) - (x->i < y->i);
}

_Static_assert (sizeof (s_work_t) + 2 * sizeof (pl_reply_t *) + sizeof (pl_inbox_tx_t *) + sizeof (int)
                    + sizeof (s_runkey_t) + 1024 /* a step's arguments */
                <= PROMISE_PAY_MANY_BYTES, "PROMISE_PAY_MANY_BYTES in book.h");

/* Sends to the one-at-a-time path every payment of the batch whose key (its account, or its
 * id) an earlier one of the batch has: their reads would race each other's writes. By account,
 * the earlier ones going alone (reversals) count too, so that an account's payments still run
 * in their order. */
static int
s_alone_if_repeated (s_work_t *w, size_t n, bool by_account)
{
    s_sortkey_t *sk = malloc ((n ? n : 1) * sizeof *sk);
    if (!sk)
        return PL_ENOMEM;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (by_account ? w[i].how != S_DONE : w[i].how == S_BATCHED)
            sk[m++] = (s_sortkey_t) { by_account ? w[i].p1.account : w[i].p1.id, i };
    qsort (sk, m, sizeof *sk, s_by_key);
    for (size_t j = 1; j < m; j++)
        if (!strcmp (sk[j].key, sk[j - 1].key))
            w[sk[j].i].how = S_ALONE;
    free (sk);
    return 0;
}

/* Reads n replies of pipelined commands into r[] (NULL each, and PL_EREDIS, once the connection
 * failed: what was pending is gone). */
static int
s_read_replies (pl_redis_t *redis, pl_reply_t **r, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        if (rc != 0 || pl_redis_get_reply (redis, &r[i]) != 0) {
            r[i] = NULL;
            rc = PL_EREDIS;
        }
    return rc;
}

int
promise_book_pay_many (promise_book_t *self, promise_pay_item_t *items, size_t n)
{
    if (n == 0)
        return 0;
    int64_t now = pl_clock_now_ms (self->o.clock);
    s_work_t *w = calloc (n, sizeof *w);
    pl_reply_t **rep = calloc (2 * n, sizeof *rep);
    pl_inbox_tx_t **txs = calloc (n, sizeof *txs);
    int *res = calloc (n, sizeof *res);
    s_runkey_t *order = calloc (n, sizeof *order);
    if (!w || !rep || !txs || !res || !order) {
        free (w), free (rep), free (txs), free (res), free (order);
        return PL_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        promise_pay_item_t *it = &items[i];
        it->status[0] = it->promise_id[0] = it->field[0] = it->msg[0] = '\0';
        it->rc = s_pay_check (&it->pay, now, &w[i].p1, it->field, sizeof it->field, it->msg, sizeof it->msg);
        /* Reversals, rare, read more than payments: they go one at a time. */
        w[i].how = it->rc != 0 ? S_DONE : w[i].p1.reversal ? S_ALONE : S_BATCHED;
        if (w[i].how == S_BATCHED)
            s_pay_keys (&w[i].k, &w[i].p1, now);
    }
    int rc = s_alone_if_repeated (w, n, true);
    if (rc == 0)
        rc = s_alone_if_repeated (w, n, false);
    /* 1. Every payment's record (seen before?) and its account's promises, in one pipeline. */
    size_t q = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (w[i].how == S_BATCHED) {
            if (pl_redis_append (self->o.redis, "HGETALL %s", w[i].k.k_pay) != 0)
                rc = PL_EREDIS;
            else if (++q, pl_redis_append (self->o.redis, "HGETALL %s", w[i].k.k_a) != 0)
                rc = PL_EREDIS;
            else
                q++;
        }
    int rr = s_read_replies (self->o.redis, rep, q);   /* all that was queued, even after a failure */
    rc = rc ? rc : rr;
    size_t nread = q;
    q = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (w[i].how != S_BATCHED)
            continue;
        promise_pay_item_t *it = &items[i];
        char was[32], wpid[PROMISE_ID_MAX], wacc[PROMISE_ID_MAX], wcur[4];
        long long wamt, wrev;
        int r = s_payment_parse (rep[q], was, sizeof was, wpid, sizeof wpid, wacc, sizeof wacc, &wamt, &wrev, wcur);
        if (r == 0) {
            s_pay_duplicate (self, wpid, it->status, sizeof it->status, it->promise_id, sizeof it->promise_id);
            w[i].how = S_DONE;
        } else if (r != PL_ENOTFOUND || (r = s_active_parse (rep[q + 1], w[i].rd.target, sizeof w[i].rd.target)) != 0)
            it->rc = r, w[i].how = S_DONE;      /* its keys answered an error: this payment's alone */
        q += 2;
    }
    for (size_t i = 0; i < nread; i++)
        pl_reply_free (&rep[i]);
    /* 2. The promises that take them, in one pipeline. */
    q = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (w[i].how == S_BATCHED && *w[i].rd.target) {
            char k_p[256];
            s_key (k_p, sizeof k_p, w[i].k.shard, "p", w[i].rd.target);
            if (pl_redis_append (self->o.redis, "HGETALL %s", k_p) != 0)
                rc = PL_EREDIS;
            else
                q++;
        }
    rr = s_read_replies (self->o.redis, rep, q);
    rc = rc ? rc : rr;
    nread = q;
    q = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (w[i].how == S_BATCHED && *w[i].rd.target) {
            int r = s_parse (rep[q++], w[i].k.shard, w[i].rd.target, &w[i].rd.held);
            if (r == PL_ENOTFOUND)
                w[i].how = S_ALONE;     /* decided and gone meanwhile */
            else if (r != 0)
                items[i].rc = r, w[i].how = S_DONE;
        }
    for (size_t i = 0; i < nread; i++)
        pl_reply_free (&rep[i]);
    /* 3. The steps, shard by shard (the inbox makes one script call of each run of one shard
     * and effect), applied in one pipeline: their accounts differ, so their order does not
     * matter. */
    size_t m = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (w[i].how != S_BATCHED)
            continue;
        promise_pay_item_t *it = &items[i];
        it->rc = s_pay_step (self, &w[i].p1, &w[i].k, &w[i].rd, now, it->step_id, it->trace, &w[i].tx, &w[i].decided,
                             it->status, sizeof it->status, it->promise_id, sizeof it->promise_id, it->field,
                             sizeof it->field, it->msg, sizeof it->msg);
        if (it->rc != 0) {
            w[i].how = S_DONE;
            continue;
        }
        order[m++] = (s_runkey_t) { w[i].k.shard * 2 + (*w[i].rd.target ? 1 : 0), i };
    }
    qsort (order, m, sizeof *order, s_by_run);
    for (size_t j = 0; j < m; j++)
        txs[j] = w[order[j].i].tx;
    int arc = rc == 0 && m ? pl_inbox_apply (self->inbox, txs, m, res) : 0;
    for (size_t j = 0; rc == 0 && j < m; j++) {
        size_t i = order[j].i;
        promise_pay_item_t *it = &items[i];
        /* A step that failed is this payment's failure; the others ran (or were applied before). */
        int r = s_pay_done (self, w[i].tx, res[j] < 0 ? (arc ? arc : PL_EREDIS) : 0, res[j], w[i].decided, it->status,
                            sizeof it->status);
        if (r == 1)
            w[i].how = S_ALONE;         /* lost a race: read again, alone */
        else {
            it->rc = r;
            w[i].how = S_DONE;
        }
    }
    /* A Redis failure before the steps ran: nothing of the batch was written by it. */
    for (size_t i = 0; i < n; i++) {
        if (rc != 0 && w[i].how == S_BATCHED)
            items[i].rc = rc, w[i].how = S_DONE;
        pl_inbox_tx_destroy (&w[i].tx);
    }
    /* 4. The rest one at a time: repeated accounts, reversals, races lost. */
    for (size_t i = 0; i < n; i++)
        if (w[i].how == S_ALONE) {
            promise_pay_item_t *it = &items[i];
            it->rc = s_pay_alone (self, &it->pay, it->step_id, it->trace, it->status, sizeof it->status,
                                  it->promise_id, sizeof it->promise_id, it->field, sizeof it->field, it->msg,
                                  sizeof it->msg);
        }
    free (w), free (rep), free (txs), free (res), free (order);
    return 0;
}

/* A payment alone is a batch of one: its record and its account read in one round trip. */
int
promise_book_pay (promise_book_t *self, const promise_payment_t *pay, const char *step_id, const char *trace,
                  char *status, size_t status_size, char *promise_id, size_t promise_id_size, char *field,
                  size_t field_size, char *msg, size_t msg_size)
{
    promise_pay_item_t *it = calloc (1, sizeof *it);
    if (!it)
        return PL_ENOMEM;
    it->pay = *pay;
    it->step_id = step_id;
    it->trace = trace;
    int rc = promise_book_pay_many (self, it, 1);
    if (rc == 0)
        rc = it->rc;
    snprintf (status, status_size, "%s", it->status);
    snprintf (promise_id, promise_id_size, "%s", it->promise_id);
    snprintf (field, field_size, "%s", it->field);
    snprintf (msg, msg_size, "%s", it->msg);
    free (it);
    return rc;
}

/* ---- the clock and the operators ---------------------------------------------------------- */

/* Builds the step that applies what `now` decides to the promise held (or cancels it) and sends
 * the reminder due by `remind_at` (> 0: the due zset's score, a reminder's instant when it is
 * one), written only if the promise's version is still held's: *tx_out, whether anything moved,
 * and what it decided (NULL: nothing). 0, PL_EINVAL (cancel: decided), PL_ECORRUPT, PL_ENOMEM. */
static int
s_decide_tx (promise_book_t *self, s_held_t *hp, bool cancel, const char *actor, const char *reason,
             int64_t remind_at, int64_t now, pl_inbox_tx_t **tx_out, bool *moved_out, const char **decided_out)
{
    int rc = 0;
    promise_rec_t *r = &hp->rec;
    promise_change_t ch = { 0 };
    if (cancel) {
        if (promise_cancel (&r->ledger) != 0)
            return PL_EINVAL;
    } else {
        promise_tick (&r->ledger, now, &ch);
    }
    char ledger[S_LEDGER_MAX], next[24] = "";
    if (promise_encode (&r->ledger, ledger, sizeof ledger) < 0)
        return PL_ECORRUPT;
    /* The instalment a due reminder is about: the unpaid one whose reminder it is. */
    int remind = -1;
    for (size_t i = 0; remind_at > 0 && r->ledger.status == PROMISE_ACTIVE && i < r->ledger.n && remind < 0; i++)
        if (r->ledger.inst[i].status != PROMISE_INST_PAID && s_reminder_of (self, r, i) == remind_at)
            remind = (int) i;
    int64_t nx = s_next_at (self, r, now);
    if (nx)
        snprintf (next, sizeof next, "%lld", (long long) nx);
    bool moved = cancel || ch.decided || ch.missed || ch.paid || remind >= 0;
    char tag[32], k_p[256], k_a[256], k_due[64], k_kpi[64], k_notes[64];
    s_tag (tag, sizeof tag, hp->shard);
    s_key (k_p, sizeof k_p, hp->shard, "p", r->id);
    s_key (k_a, sizeof k_a, hp->shard, "a", r->account);
    s_key (k_due, sizeof k_due, hp->shard, "due", NULL);
    s_key (k_notes, sizeof k_notes, hp->shard, "notes", NULL);
    s_kpi_key (k_kpi, sizeof k_kpi, hp->shard, now);
    s_args_t a = { 0 };
    s_add (&a, r->id);
    s_add (&a, hp->version);
    s_add (&a, ledger);
    s_add (&a, promise_status_str (r->ledger.status));
    s_add (&a, next);
    char gone[32];
    snprintf (gone, sizeof gone, "0:%lld", (long long) r->made_at_ms);
    s_add (&a, r->ledger.status == PROMISE_ACTIVE ? "" : gone);
    s_addf (&a, "%lld", (long long) s_retention_ms (self));
    s_section (&a);                 /* no payment */
    s_section (&a);                 /* no original */
    size_t sk = s_section (&a);
    char f1[400];
    if (ch.decided || cancel) {
        snprintf (f1, sizeof f1, "%s|%s|%s|", promise_status_str (r->ledger.status), r->campaign, r->agent);
        s_pairf (&a, sk, f1, 1);
    }
    if (remind >= 0) {
        snprintf (f1, sizeof f1, "reminded|%s|%s|", r->campaign, r->agent);
        s_pairf (&a, sk, f1, 1);
    }
    /* Sections are filled in order: the note's comes after every kpi pair. */
    size_t sn = s_section (&a);
    char due[16] = "";
    if (remind >= 0) {
        /* For the CRM notifier: an SMS or an e-mail to the debtor before the due date. */
        s_day_str (due, sizeof due, r->ledger.inst[remind].due_days);
        char inst[16], left[24], n[1024];
        snprintf (inst, sizeof inst, "%d", remind);
        snprintf (left, sizeof left, "%lld", (long long) (r->ledger.inst[remind].amount - r->ledger.inst[remind].paid));
        const char *v[] = { r->creditor, "reminder", r->account, r->id, inst, due, left, r->ledger.currency };
        if (s_pack (n, sizeof n, v, (int) (sizeof v / sizeof v[0])) < 0)
            a.oom = true;
        else
            s_pair (&a, sn, "n", n);
    }
    const char *keys[7] = { k_p, k_a, k_due, k_kpi, k_notes, k_p, k_p };
    pl_inbox_tx_t *tx = pl_inbox_tx_new (tag, NULL);
    rc = !tx || a.oom ? PL_ENOMEM
                      : pl_inbox_tx_effect (tx, &s_update, 7, keys, (int) a.n, (const char *const *) a.v, NULL);
    if (rc == 0 && cancel)
        rc = s_audit (self, tx, "promise.cancelled", "cancelled", r, -1, NULL, now, actor, reason, NULL);
    else if (rc == 0)
        rc = s_change_events (self, tx, r, &ch, now, NULL, NULL);
    if (rc == 0 && remind >= 0) {
        char sfx[48];
        snprintf (sfx, sizeof sfx, "reminded.%d", remind);
        rc = s_audit (self, tx, "promise.reminded", sfx, r, remind, NULL, now, NULL, NULL, NULL);
    }
    s_args_free (&a);
    if (rc != 0) {
        pl_inbox_tx_destroy (&tx);
        return rc;
    }
    *tx_out = tx;
    *moved_out = moved;
    *decided_out = s_decided (r, &ch);
    return 0;
}

/* Applies what `now` decides to promise id of shard (or cancels it), and sends the reminder due
 * by `remind_at` (> 0: the due zset's score). 1 moved, 0 nothing to do,
 * PL_ENOTFOUND, PL_EINVAL (cancel: decided), PL_EREDIS, PL_EBUSY (lost every round). */
static int
s_decide (promise_book_t *self, int shard, const char *id, bool cancel, const char *actor, const char *reason,
          int64_t remind_at)
{
    int64_t now = pl_clock_now_ms (self->o.clock);
    for (int round = 0; round < S_RETRIES; round++) {
        s_held_t held;
        int rc = s_read (self, shard, id, &held);
        if (rc != 0)
            return rc;
        pl_inbox_tx_t *tx = NULL;
        bool moved = false;
        const char *decided = NULL;
        rc = s_decide_tx (self, &held, cancel, actor, reason, remind_at, now, &tx, &moved, &decided);
        int res = -1;
        if (rc == 0)
            rc = pl_inbox_apply (self->inbox, &tx, 1, &res);
        char reply[256];
        const char *rep = tx ? pl_inbox_tx_reply (tx, NULL) : NULL;
        snprintf (reply, sizeof reply, "%s", rep ? rep : "");
        pl_inbox_tx_destroy (&tx);
        if (rc != 0) {
            if (self->o.log)
                pl_log_warn (self->o.log, NULL, "promise step failed", "promise", id, "error", reply);
            return rc;
        }
        if (!strcmp (reply, "retry")) {
            s_backoff (round);
            continue;
        }
        if (cancel && self->m_promises)
            pl_metric_inc (self->m_promises, "cancelled", 1);
        s_count_decision (self, decided);
        return moved ? 1 : 0;
    }
    return PL_EBUSY;
}

int
promise_book_cancel (promise_book_t *self, const char *promise_id, const char *actor, const char *reason)
{
    int rc = s_decide (self, -1, promise_id, true, actor, reason, 0);
    return rc == 1 ? 0 : rc;
}

/* The sweep reads and writes this many promises of a shard per round trip. */
#define S_SWEEP_BATCH 256

/* Decides the promises ids[0..n) of shard that the zset zkey (due; at: each one's score)
 * says are due: read in one pipeline, decided in C, written in one script call per batch. A
 * promise that a payment changed in between (its compare-and-set replies retry) goes through
 * s_decide alone. Returns how many moved, or PL_EREDIS / PL_ENOMEM. */
static int
s_sweep_batch (promise_book_t *self, int shard, const char *zkey, char **ids, const int64_t *at, size_t n,
               int64_t now)
{
    s_held_t *held = calloc (n, sizeof *held);
    pl_inbox_tx_t **txs = calloc (n, sizeof *txs);
    size_t *of = calloc (n, sizeof *of);
    int *res = calloc (n, sizeof *res);
    bool *moved = calloc (n, sizeof *moved), *gone = calloc (n, sizeof *gone);
    const char **decided = calloc (n, sizeof *decided);
    int count = 0, rc = 0;
    if (!held || !txs || !of || !res || !moved || !gone || !decided) {
        rc = PL_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        char key[256];
        s_key (key, sizeof key, shard, "p", s_id_ok (ids[i]) ? ids[i] : "");
        pl_redis_append (self->o.redis, "HGETALL %s", key);
    }
    size_t nt = 0;
    for (size_t i = 0; i < n; i++) {
        pl_reply_t *h = NULL;
        int got = pl_redis_get_reply (self->o.redis, &h);
        int prc = got == 0 ? s_parse (h, shard, ids[i], &held[i]) : PL_EREDIS;
        pl_reply_free (&h);
        if (prc == PL_ENOTFOUND || prc == PL_ECORRUPT || !s_id_ok (ids[i])) {
            /* Nothing to decide on (a leftover, or unreadable: logged, never retried in a loop). */
            if (prc == PL_ECORRUPT && self->o.log)
                pl_log_error (self->o.log, NULL, "promise unreadable: left out of the sweep", "promise", ids[i]);
            gone[i] = true;             /* out of the zset once every reply of the pipeline is read */
            continue;
        }
        if (prc != 0) {
            rc = prc;
            continue;                   /* the replies are still read, so the pipeline stays whole */
        }
        if (s_decide_tx (self, &held[i], false, NULL, NULL, at[i], now, &txs[nt], &moved[i], &decided[i]) == 0)
            of[nt++] = i;
    }
    for (size_t i = 0; i < n; i++)
        if (gone[i])
            pl_redis_exec (self->o.redis, "ZREM %s %s", zkey, ids[i]);
    if (rc == 0 && nt && pl_inbox_apply (self->inbox, txs, nt, res) != 0)
        rc = PL_EREDIS;
    for (size_t k = 0; rc == 0 && k < nt; k++) {
        const char *rep = pl_inbox_tx_reply (txs[k], NULL);
        size_t i = of[k];
        if (rep && !strcmp (rep, "retry")) {
            int one = s_decide (self, shard, ids[i], false, NULL, NULL, at[i]);
            if (one == PL_EBUSY && self->o.log)
                /* Lost every compare-and-set to payments on it: the next sweep takes it again. */
                pl_log_warn (self->o.log, NULL, "promise busy: left for the next sweep", "promise", ids[i]);
            else if (one < 0 && one != PL_ENOTFOUND)
                rc = one;
            else
                count += one > 0;
        } else {
            count += moved[i];
            s_count_decision (self, decided[i]);
        }
    }
done:
    for (size_t k = 0; txs && k < n; k++)
        pl_inbox_tx_destroy (&txs[k]);
    free (held);
    free (txs);
    free (of);
    free (res);
    free (moved);
    free (gone);
    free (decided);
    return rc ? rc : count;
}

/* Reminders used to have a zset of their own, pl:{prom:n}:rem; a book's first sweep folds what
 * one written before holds into due, each promise at the earlier of its two instants (ADR 0070). */
static const char s_merge_lua[] =
    "if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end\n"
    "redis.call('ZUNIONSTORE', KEYS[1], 2, KEYS[1], KEYS[2], 'AGGREGATE', 'MIN')\n"
    "redis.call('DEL', KEYS[2])\n"
    "return 1\n";

static int
s_merge_reminders (promise_book_t *self)
{
    pl_redis_script_t *merge = pl_redis_script_new (s_merge_lua);
    bool ok = merge != NULL;
    for (int s = 0; s < PROMISE_SHARDS && ok; s++) {
        char k_due[64], k_rem[64];
        s_key (k_due, sizeof k_due, s, "due", NULL);
        s_key (k_rem, sizeof k_rem, s, "rem", NULL);
        const char *keys[2] = { k_due, k_rem };
        pl_reply_t *r = pl_redis_eval (self->o.redis, merge, 2, 2, keys, NULL);
        ok = r && pl_reply_type (r) == PL_REPLY_INTEGER;
        pl_reply_free (&r);
    }
    pl_redis_script_destroy (&merge);
    self->merged = ok;
    return ok ? 0 : PL_EREDIS;
}

int
promise_book_sweep (promise_book_t *self, int max)
{
    int64_t now = pl_clock_now_ms (self->o.clock), t0 = pl_clock_mono_ms ();
    int moved = 0;
    if (!self->merged && s_merge_reminders (self) != 0)
        return PL_EREDIS;
    for (int s = 0; s < PROMISE_SHARDS && pl_clock_mono_ms () - t0 < PROMISE_SWEEP_BUDGET_MS; s++) {
        /* The deadlines passed and the reminders due, in the order they fell due. */
        char k[64];
        s_key (k, sizeof k, s, "due", NULL);
        pl_reply_t *r = pl_redis_command (self->o.redis, "ZRANGEBYSCORE %s -inf %lld WITHSCORES LIMIT 0 %d", k,
                                          (long long) now, max > 0 ? max : 1000);
        if (!r || pl_reply_type (r) != PL_REPLY_ARRAY) {
            pl_reply_free (&r);
            return PL_EREDIS;
        }
        size_t n = pl_reply_len (r) / 2;
        char *ids[S_SWEEP_BATCH];
        int64_t at[S_SWEEP_BATCH];
        for (size_t i = 0; i < n && pl_clock_mono_ms () - t0 < PROMISE_SWEEP_BUDGET_MS; i += S_SWEEP_BATCH) {
            size_t m = n - i < S_SWEEP_BATCH ? n - i : S_SWEEP_BATCH;
            for (size_t j = 0; j < m; j++) {
                const char *id = pl_reply_str (pl_reply_element (r, 2 * (i + j)), NULL);
                const char *sc = pl_reply_str (pl_reply_element (r, 2 * (i + j) + 1), NULL);
                ids[j] = (char *) (id ? id : "");
                /* A score comes back as a double's text ("1.8029376e+12" is possible). */
                at[j] = sc ? (int64_t) strtod (sc, NULL) : 0;
            }
            int rc = s_sweep_batch (self, s, k, ids, at, m, now);
            if (rc < 0) {
                pl_reply_free (&r);
                return rc;
            }
            moved += rc;
        }
        pl_reply_free (&r);
    }
    return moved;
}

int
promise_book_tick (pl_loop_t *loop, void *arg)
{
    (void) loop;
    promise_book_t *self = arg;
    int rc = promise_book_sweep (self, 1000);
    if (rc < 0 && self->o.log)
        pl_log_warn (self->o.log, NULL, "deadline sweep failed", "error", pl_strerror (rc));
    return 0;
}

/* ---- reads ------------------------------------------------------------------------------------- */

static json_t *
s_json (const promise_rec_t *r)
{
    const promise_t *p = &r->ledger;
    json_t *inst = json_array ();
    for (size_t i = 0; i < p->n; i++) {
        char due[16];
        s_day_str (due, sizeof due, p->inst[i].due_days);
        json_array_append_new (inst, json_pack ("{s:s, s:I, s:I, s:s, s:I}", "due", due, "amount",
                                                (json_int_t) p->inst[i].amount, "paid", (json_int_t) p->inst[i].paid,
                                                "status", promise_inst_status_str (p->inst[i].status), "deadline_ms",
                                                (json_int_t) p->inst[i].deadline_ms));
    }
    json_t *tol = p->tolerance_bp ? json_pack ("{s:f}", "percent", p->tolerance_bp / 100.0)
                                  : json_pack ("{s:I}", "amount", (json_int_t) p->tolerance_minor);
    int64_t nd = promise_next_deadline (p);
    return json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:i, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:I, "
                      "s:s, s:o}",
                      "id", r->id, "status", promise_status_str (p->status), "account", r->account, "creditor",
                      r->creditor, "tenant", r->tenant, "phone", r->phone, "currency", p->currency, "installments",
                      inst, "tolerance", tol, "grace_days", p->grace_days, "amount", (json_int_t) promise_amount (p),
                      "paid", (json_int_t) promise_paid (p), "credit", (json_int_t) p->credit, "zone", r->zone,
                      "campaign", r->campaign, "lead", r->lead, "agent", r->agent, "made_at_ms",
                      (json_int_t) r->made_at_ms, "source", r->source, "next_deadline_ms",
                      nd == PROMISE_NEVER ? json_null () : json_integer (nd));
}

json_t *
promise_book_get (promise_book_t *self, const char *promise_id, int *rc)
{
    s_held_t held;
    *rc = s_read (self, -1, promise_id, &held);
    return *rc == 0 ? s_json (&held.rec) : NULL;
}

/* qsort: promises (JSON) by made_at_ms, then id. */
static int
s_by_made (const void *a, const void *b)
{
    const json_t *x = *(json_t *const *) a, *y = *(json_t *const *) b;
    json_int_t mx = json_integer_value (json_object_get (x, "made_at_ms"));
    json_int_t my = json_integer_value (json_object_get (y, "made_at_ms"));
    if (mx != my)
        return mx < my ? -1 : 1;
    return strcmp (s_or (json_string_value (json_object_get (x, "id"))),
                   s_or (json_string_value (json_object_get (y, "id"))));
}

json_t *
promise_book_account (promise_book_t *self, const char *account, int *rc)
{
    *rc = 0;
    if (!s_id_ok (account)) {
        *rc = PL_ENOTFOUND;
        return NULL;
    }
    int shard = promise_book_shard (account);
    char k_a[256];
    s_key (k_a, sizeof k_a, shard, "a", account);
    pl_reply_t *h = pl_redis_command (self->o.redis, "HGETALL %s", k_a);
    if (!h || pl_reply_type (h) != PL_REPLY_ARRAY) {
        pl_reply_free (&h);
        *rc = PL_EREDIS;
        return NULL;
    }
    json_t *promises = json_array (), *unmatched = json_array (), *seen = json_object ();
    for (size_t i = 0; i + 1 < pl_reply_len (h) && *rc == 0; i += 2) {
        const char *f = pl_reply_str (pl_reply_element (h, i), NULL);
        const char *v = pl_reply_str (pl_reply_element (h, i + 1), NULL);
        /* An active promise is act:<id>, a decided one p:<id>; a hash written before listed
         * every promise as p:<id> and the active ones as act:<id> too. */
        const char *pid = !f ? NULL : !strncmp (f, "p:", 2) ? f + 2 : !strncmp (f, "act:", 4) ? f + 4 : NULL;
        if (pid && !json_object_get (seen, pid)) {
            json_object_set_new (seen, pid, json_true ());
            s_held_t held;
            int r1 = s_read (self, shard, pid, &held);
            if (r1 == 0)
                json_array_append_new (promises, s_json (&held.rec));
            else if (r1 == PL_EREDIS)
                *rc = r1;
        } else if (f && v && !strncmp (f, "u:", 2)) {
            long long amount = 0, at = 0;
            char cur[4] = "";
            if (sscanf (v, "%lld|%3[A-Z]|%lld", &amount, cur, &at) == 3)
                json_array_append_new (unmatched, json_pack ("{s:s, s:I, s:s, s:I}", "payment_id", f + 2, "amount",
                                                             (json_int_t) amount, "currency", cur, "paid_at_ms",
                                                             (json_int_t) at));
        }
    }
    pl_reply_free (&h);
    json_decref (seen);
    if (*rc != 0) {
        json_decref (promises);
        json_decref (unmatched);
        return NULL;
    }
    /* In the order they were made (the hash's order changes as promises are decided). */
    size_t np = json_array_size (promises);
    json_t **by = calloc (np ? np : 1, sizeof *by);
    if (!by) {
        json_decref (promises);
        json_decref (unmatched);
        *rc = PL_ENOMEM;
        return NULL;
    }
    for (size_t i = 0; i < np; i++)
        by[i] = json_incref (json_array_get (promises, i));
    qsort (by, np, sizeof *by, s_by_made);
    json_array_clear (promises);
    for (size_t i = 0; i < np; i++)
        json_array_append_new (promises, by[i]);
    free (by);
    return json_pack ("{s:s, s:o, s:o}", "account", account, "promises", promises, "unmatched_payments", unmatched);
}

json_t *
promise_book_payment (promise_book_t *self, const char *payment_id, const char *account, int *rc)
{
    if (!s_id_ok (payment_id) || !s_id_ok (account)) {
        *rc = PL_ENOTFOUND;
        return NULL;
    }
    char st[32], pid[PROMISE_ID_MAX], acc[PROMISE_ID_MAX], cur[4];
    long long amount, reversed;
    *rc = s_payment_was (self, promise_book_shard (account), payment_id, st, sizeof st, pid, sizeof pid, acc,
                         sizeof acc, &amount, &reversed, cur);
    if (*rc != 0)
        return NULL;
    return json_pack ("{s:s, s:s, s:I, s:s, s:s, s:s, s:I}", "payment_id", payment_id, "account", acc, "amount",
                      (json_int_t) amount, "currency", cur, "status", st, "promise", pid, "reversed",
                      (json_int_t) reversed);
}

json_t *
promise_book_stats (promise_book_t *self, int64_t from_days, int64_t to_days, const char *campaign, int *rc)
{
    *rc = 0;
    if (to_days < from_days || to_days - from_days > 366) {
        *rc = PL_EINVAL;
        return NULL;
    }
    /* "<what>|<campaign>|<agent>|<currency>" summed over the shards and days, by campaign and agent. */
    json_t *by = json_object ();
    for (int64_t d = from_days; d <= to_days && *rc == 0; d++)
        for (int s = 0; s < PROMISE_SHARDS && *rc == 0; s++) {
            char k[64];
            s_kpi_key (k, sizeof k, s, d * 86400000);
            pl_reply_t *h = pl_redis_command (self->o.redis, "HGETALL %s", k);
            if (!h || pl_reply_type (h) != PL_REPLY_ARRAY) {
                *rc = PL_EREDIS;
                pl_reply_free (&h);
                break;
            }
            for (size_t i = 0; i + 1 < pl_reply_len (h); i += 2) {
                char f[512];
                snprintf (f, sizeof f, "%s", s_or (pl_reply_str (pl_reply_element (h, i), NULL)));
                long long v = strtoll (s_or (pl_reply_str (pl_reply_element (h, i + 1), NULL)), NULL, 10);
                char *what = f, *camp = strchr (what, '|'), *agent = camp ? strchr (camp + 1, '|') : NULL;
                char *cur = agent ? strchr (agent + 1, '|') : NULL;
                if (!cur)
                    continue;
                *camp++ = '\0';
                *agent++ = '\0';
                *cur++ = '\0';
                if (campaign && *campaign && strcmp (camp, campaign))
                    continue;
                char key[300];
                snprintf (key, sizeof key, "%s|%s", camp, agent);
                json_t *row = json_object_get (by, key);
                if (!row) {
                    row = json_pack ("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o}", "campaign", camp, "agent",
                                     agent, "rpc", (json_int_t) 0, "made", (json_int_t) 0, "kept", (json_int_t) 0,
                                     "partially_kept", (json_int_t) 0, "broken", (json_int_t) 0, "cancelled",
                                     (json_int_t) 0, "promised", json_object (), "collected", json_object ());
                    json_object_set_new (by, key, row);
                }
                if (*cur) {
                    json_t *m = json_object_get (row, what);
                    if (json_is_object (m))
                        json_object_set_new (m, cur, json_integer (json_integer_value (json_object_get (m, cur)) + v));
                } else if (json_is_integer (json_object_get (row, what)))
                    json_object_set_new (row, what, json_integer (json_integer_value (json_object_get (row, what)) + v));
            }
            pl_reply_free (&h);
        }
    if (*rc != 0) {
        json_decref (by);
        return NULL;
    }
    json_t *rows = json_array ();
    const char *k;
    json_t *row;
    json_int_t made = 0, kept = 0, decided = 0, rpc = 0;
    json_object_foreach (by, k, row) {
        json_int_t m1 = json_integer_value (json_object_get (row, "made"));
        json_int_t r1 = json_integer_value (json_object_get (row, "rpc"));
        json_object_set_new (row, "promises_per_rpc", r1 ? json_real ((double) m1 / (double) r1) : json_null ());
        rpc += r1;
        json_int_t k1 = json_integer_value (json_object_get (row, "kept"));
        json_int_t d1 = k1 + json_integer_value (json_object_get (row, "partially_kept"))
                        + json_integer_value (json_object_get (row, "broken"));
        json_object_set_new (row, "kept_rate", d1 ? json_real ((double) k1 / (double) d1) : json_null ());
        made += m1;
        kept += k1;
        decided += d1;
        json_array_append (rows, row);
    }
    json_decref (by);
    char from[16], to[16];
    s_day_str (from, sizeof from, from_days);
    s_day_str (to, sizeof to, to_days);
    return json_pack ("{s:s, s:s, s:I, s:I, s:o, s:I, s:I, s:o, s:o}", "from", from, "to", to, "rpc", rpc, "made", made,
                      "promises_per_rpc", rpc ? json_real ((double) made / (double) rpc) : json_null (), "kept", kept,
                      "decided", decided, "kept_rate", decided ? json_real ((double) kept / (double) decided) : json_null (),
                      "by_campaign_agent", rows);
}

/* Notifications: every shard's stream merged in (stream id, shard) order; the cursor is
 * "<stream id>/<shard>". */
/* One shard's notes stream as a promise_book_notes merge reads it: 512 entries at a time. */
typedef struct {
    char key[64], start[64];
    pl_reply_t *r;
    size_t i, got;
    bool last;                          /* the reply held is the stream's last */
    const pl_reply_t *head;             /* the next entry, or NULL: none left */
    unsigned long long ms, seq;
} s_notes_cur_t;

/* Moves c to its next entry (any creditor's). 0 or PL_EREDIS. */
static int
s_notes_next (promise_book_t *self, s_notes_cur_t *c)
{
    c->head = NULL;
    for (;;) {
        if (c->r && c->i < c->got) {
            const pl_reply_t *e = pl_reply_element (c->r, c->i++);
            const char *id = pl_reply_str (pl_reply_element (e, 0), NULL);
            if (!id || sscanf (id, "%llu-%llu", &c->ms, &c->seq) != 2)
                continue;
            snprintf (c->start, sizeof c->start, "(%s", id);
            c->head = e;
            return 0;
        }
        if (c->r && c->last)
            return 0;
        pl_reply_free (&c->r);
        c->r = pl_redis_command (self->o.redis, "XRANGE %s %s + COUNT 512", c->key, c->start);
        if (!c->r || pl_reply_type (c->r) != PL_REPLY_ARRAY) {
            pl_reply_free (&c->r);
            return PL_EREDIS;
        }
        c->got = pl_reply_len (c->r);
        c->i = 0;
        c->last = c->got < 512;
    }
}

/* A note as the export shows it; NULL when it is another creditor's (or unreadable). */
static json_t *
s_note_json (const pl_reply_t *e, const char *creditor)
{
    const pl_reply_t *fv = pl_reply_element (e, 1);
    json_t *o = NULL;
    const char *f0 = pl_reply_str (pl_reply_element (fv, 0), NULL);
    if (f0 && !strcmp (f0, "n") && pl_reply_len (fv) == 2) {
        /* The note as written (s_note, or a reminder's): its values, packed. */
        const char *p = s_or (pl_reply_str (pl_reply_element (fv, 1), NULL)), *sep = strchr (p, S_SEP);
        if (!sep || (size_t) (sep - p) != strlen (creditor) || strncmp (p, creditor, strlen (creditor)))
            return NULL;
        const char *const *names = strncmp (sep + 1, "reminder\x1f", 9) ? s_note_pay : s_note_remind;
        int nn = 0;
        while (names[nn])
            nn++;
        char buf[S_PACK_MAX][PROMISE_ID_MAX], *v[S_PACK_MAX];
        size_t sizes[S_PACK_MAX];
        for (int i = 0; i < nn; i++)
            v[i] = buf[i], sizes[i] = sizeof buf[i];
        if (!s_unpack (p, v, sizes, nn))
            return NULL;                /* unreadable: left out of the export */
        o = json_object ();
        for (int i = 0; i < nn; i++) {
            bool num = !strcmp (names[i], "amount") || !strcmp (names[i], "paid_at")
                       || !strcmp (names[i], "promise_paid") || !strcmp (names[i], "promise_amount")
                       || !strcmp (names[i], "instalment");
            json_object_set_new (o, names[i], num ? json_integer (strtoll (v[i], NULL, 10)) : json_string (v[i]));
        }
        return o;
    }
    /* Written before the notes were packed: a field each. */
    for (size_t j = 0; j + 1 < pl_reply_len (fv); j += 2) {
        const char *f = pl_reply_str (pl_reply_element (fv, j), NULL);
        const char *v = pl_reply_str (pl_reply_element (fv, j + 1), NULL);
        if (!f || !v)
            continue;
        if (!strcmp (f, "creditor") && strcmp (v, creditor)) {
            json_decref (o);
            return NULL;
        }
        if (!o)
            o = json_object ();
        bool num = !strcmp (f, "amount") || !strcmp (f, "paid_at") || !strcmp (f, "promise_paid")
                   || !strcmp (f, "promise_amount") || !strcmp (f, "instalment");
        json_object_set_new (o, f, num ? json_integer (strtoll (v, NULL, 10)) : json_string (v));
    }
    if (o && strcmp (s_or (json_string_value (json_object_get (o, "creditor"))), creditor)) {
        json_decref (o);
        return NULL;
    }
    return o;
}

int
promise_book_notes (promise_book_t *self, const char *creditor, const char *after, int limit, char **out, size_t *len,
                    char *next, size_t next_size)
{
    unsigned long long ms = 0, seq = 0;
    int sh = -1;
    if (after && *after && strcmp (after, "0") && sscanf (after, "%llu-%llu/%d", &ms, &seq, &sh) != 3)
        return PL_EINVAL;
    if (limit <= 0 || limit > 10000)
        limit = 1000;
    snprintf (next, next_size, "%s", after && *after ? after : "0");
    /* The shards' streams merged in (ms, seq, shard) order, every creditor's entries included, so
     * that the cursor moves past the ones skipped: a page stops at `limit` notes of this creditor
     * or after PROMISE_NOTES_SCAN entries read, whichever comes first, and holds 16 × 512 entries
     * at most. A creditor with few notes among many may get a page with none: the cursor has
     * still moved on. */
    s_notes_cur_t cur[PROMISE_SHARDS];
    memset (cur, 0, sizeof cur);
    int rc = 0;
    for (int s = 0; s < PROMISE_SHARDS && rc == 0; s++) {
        s_key (cur[s].key, sizeof cur[s].key, s, "notes", NULL);
        if (sh < 0)
            snprintf (cur[s].start, sizeof cur[s].start, "-");
        else
            snprintf (cur[s].start, sizeof cur[s].start, "%s%llu-%llu", s <= sh ? "(" : "", ms, seq);
        rc = s_notes_next (self, &cur[s]);
    }
    int mine = 0;
    for (long scanned = 0; rc == 0 && mine < limit && scanned < PROMISE_NOTES_SCAN; scanned++) {
        int best = -1;
        for (int s = 0; s < PROMISE_SHARDS; s++)
            if (cur[s].head && (best < 0 || cur[s].ms < cur[best].ms
                                || (cur[s].ms == cur[best].ms && cur[s].seq < cur[best].seq)))
                best = s;
        if (best < 0)
            break;                      /* every stream read to its end */
        s_notes_cur_t *c = &cur[best];
        json_t *o = s_note_json (c->head, creditor);
        if (o) {
            char *line = json_dumps (o, JSON_COMPACT | JSON_PRESERVE_ORDER);
            size_t ll = line ? strlen (line) : 0;
            char *grown = line ? realloc (*out, *len + ll + 2) : NULL;
            if (grown) {
                memcpy (grown + *len, line, ll);
                grown[*len + ll] = '\n';
                grown[*len + ll + 1] = '\0';
                *out = grown;
                *len += ll + 1;
                mine++;
            } else
                rc = PL_ENOMEM;
            free (line);
            json_decref (o);
        }
        if (rc == 0) {
            snprintf (next, next_size, "%llu-%llu/%d", c->ms, c->seq, best);
            rc = s_notes_next (self, c);
        }
    }
    for (int s = 0; s < PROMISE_SHARDS; s++)
        pl_reply_free (&cur[s].r);
    return rc;
}

/* ---- the bus door ------------------------------------------------------------------------- */

static void
s_on_made (promise_book_t *self, pl_bus_msg_t *m, const pl_envelope_t *env)
{
    const Plateau__V1__PromiseMade *pm = env->promise_made;
    promise_rec_t rec = { 0 };
    char field[64] = "", msg[256] = "";
    snprintf (rec.id, sizeof rec.id, "%s", s_or (pm->promise_id));
    snprintf (rec.account, sizeof rec.account, "%s", s_or (pm->account_ref));
    snprintf (rec.creditor, sizeof rec.creditor, "%s", s_or (pm->creditor));
    snprintf (rec.tenant, sizeof rec.tenant, "%s", s_or (pm->tenant));
    snprintf (rec.phone, sizeof rec.phone, "%s", s_or (pm->number));
    snprintf (rec.zone, sizeof rec.zone, "%s", s_or (pm->zone));
    snprintf (rec.campaign, sizeof rec.campaign, "%s", s_or (pm->campaign));
    snprintf (rec.lead, sizeof rec.lead, "%s", s_or (pm->lead_id));
    snprintf (rec.agent, sizeof rec.agent, "%s", s_or (pm->agent_id));
    snprintf (rec.dial, sizeof rec.dial, "%s", s_or (pm->dial_id));
    snprintf (rec.source, sizeof rec.source, "%s", s_or2 (pl_bus_msg_sender (m), "bus"));
    rec.made_at_ms = pm->made_at_ms;
    promise_t *p = &rec.ledger;
    const char *cur = pm->n_instalments && pm->instalments[0]->amount ? pm->instalments[0]->amount->currency : "";
    snprintf (p->currency, sizeof p->currency, "%s", s_or (cur));
    p->grace_days = pm->grace_days;
    p->tolerance_minor = pm->tolerance ? pm->tolerance->minor_units : 0;
    int rc = 0;
    if (pm->n_instalments == 0 || pm->n_instalments > PROMISE_MAX_INSTALMENTS)
        rc = PL_EINVAL, snprintf (field, sizeof field, "instalments");
    else if (pm->tolerance && pm->tolerance->minor_units && strcmp (s_or (pm->tolerance->currency), p->currency))
        rc = PL_EINVAL, snprintf (field, sizeof field, "tolerance.currency");
    /* The due instants are read as dates in the debtor's zone, once it is known. */
    promise_rec_t probe = rec;
    char f2[64], m2[256];
    const pl_rules_tz_t *z = rc == 0 ? s_zone (self, &probe, rec.made_at_ms ? rec.made_at_ms : pl_clock_now_ms (self->o.clock), f2, sizeof f2, m2, sizeof m2) : NULL;
    if (rc == 0 && !z)
        rc = PL_EINVAL, snprintf (field, sizeof field, "%s", f2), snprintf (msg, sizeof msg, "%s", m2);
    for (size_t i = 0; rc == 0 && i < pm->n_instalments; i++) {
        const Plateau__V1__Instalment *in = pm->instalments[i];
        if (!in->amount || strcmp (s_or (in->amount->currency), p->currency)) {
            rc = PL_EINVAL;
            snprintf (field, sizeof field, "instalments[%zu].amount.currency", i);
            break;
        }
        p->inst[i].due_days = s_local_days (z, in->due_at_ms);
        p->inst[i].amount = in->amount->minor_units;
        p->n = i + 1;
    }
    if (rc == 0) {
        snprintf (rec.zone, sizeof rec.zone, "%s", probe.zone);
        rc = promise_book_open (self, &rec, env->id, env->trace_id, field, sizeof field, msg, sizeof msg);
    }
    if (rc == 0 || rc == PL_EEXIST)
        pl_bus_msg_ack (m);
    else if (rc == PL_EINVAL || rc == PL_EBUSY) {
        char reason[400];
        snprintf (reason, sizeof reason, "%s: %s", field, *msg ? msg : "invalid");
        if (self->o.log)
            pl_log_warn (self->o.log, env->trace_id, "promise refused", "promise", rec.id, "reason", reason);
        pl_bus_msg_nack (m, PLATEAU__V1__NACK__CODE__INVALID, reason, 0);
    } else
        pl_bus_msg_nack (m, PLATEAU__V1__NACK__CODE__UNAVAILABLE, "redis unavailable", 1000);
}

int
promise_book_contact (promise_book_t *self, const char *campaign, const char *agent, const char *key,
                      const char *step_id)
{
    if (!campaign || !s_kpi_name_ok (campaign) || (agent && *agent && !s_kpi_name_ok (agent)))
        return PL_EINVAL;
    int shard = promise_book_shard (key && *key ? key : campaign);
    char tag[32], k_kpi[64], f[300];
    s_tag (tag, sizeof tag, shard);
    s_kpi_key (k_kpi, sizeof k_kpi, shard, pl_clock_now_ms (self->o.clock));
    snprintf (f, sizeof f, "rpc|%s|%s|", campaign, agent ? agent : "");
    const char *keys[1] = { k_kpi }, *args[2] = { f, S_KPI_TTL_MS };
    pl_inbox_tx_t *tx = pl_inbox_tx_new (tag, step_id);
    int rc = tx ? pl_inbox_tx_effect (tx, &s_contact, 1, keys, 2, args, NULL) : PL_ENOMEM;
    int res = -1;
    if (rc == 0 && pl_inbox_apply (self->inbox, &tx, 1, &res) != 0)
        rc = PL_EREDIS;
    pl_inbox_tx_destroy (&tx);
    return rc;
}

/* A Disposition from the dialer: a conversation with the debtor on a collection call (it sends no
 * other), counted as a right-party contact of its campaign and agent. A wrong number is none. */
static void
s_on_contact (promise_book_t *self, pl_bus_msg_t *m, const pl_envelope_t *env)
{
    const Plateau__V1__Disposition *d = env->disposition;
    if (d->code == PLATEAU__V1__DISPOSITION__CODE__WRONG_NUMBER) {
        pl_bus_msg_ack (m);
        return;
    }
    int rc = promise_book_contact (self, d->campaign, d->agent_id, d->dial_id, env->id);
    if (rc == 0)
        pl_bus_msg_ack (m);
    else if (rc == PL_EINVAL)
        pl_bus_msg_nack (m, PLATEAU__V1__NACK__CODE__INVALID,
                         "campaign or agent_id: UTF-8 without control characters or '|'", 0);
    else
        pl_bus_msg_nack (m, PLATEAU__V1__NACK__CODE__UNAVAILABLE, "redis unavailable", 1000);
}

/* A PaymentReceived as the book's payment. */
static void
s_payment_of (pl_bus_msg_t *m, const pl_envelope_t *env, promise_pay_item_t *it)
{
    const Plateau__V1__PaymentReceived *pr = env->payment_received;
    promise_payment_t *pay = &it->pay;
    memset (it, 0, sizeof *it);
    snprintf (pay->id, sizeof pay->id, "%s", s_or (pr->payment_id));
    snprintf (pay->account, sizeof pay->account, "%s", s_or (pr->account_ref));
    snprintf (pay->currency, sizeof pay->currency, "%s", pr->amount && pr->amount->currency ? pr->amount->currency : "");
    pay->amount = pr->amount ? pr->amount->minor_units : 0;
    pay->paid_at_ms = pr->received_at_ms;
    pay->reversal = pr->reverses && *pr->reverses;
    snprintf (pay->reverses, sizeof pay->reverses, "%s", s_or (pr->reverses));
    snprintf (pay->method, sizeof pay->method, "%s", s_or (pr->method));
    snprintf (pay->reference, sizeof pay->reference, "%s", s_or (pr->reference));
    snprintf (pay->source, sizeof pay->source, "%s", s_or2 (pl_bus_msg_sender (m), "bus"));
    it->step_id = env->id;
    it->trace = env->trace_id;
}

/* The answer to a payment's message. */
static void
s_payment_answer (pl_bus_msg_t *m, const promise_pay_item_t *it)
{
    if (it->rc == 0)
        pl_bus_msg_ack (m);
    else if (it->rc == PL_EINVAL) {
        char reason[400];
        snprintf (reason, sizeof reason, "%s: %s", it->field, it->msg);
        pl_bus_msg_nack (m, PLATEAU__V1__NACK__CODE__INVALID, reason, 0);
    } else
        pl_bus_msg_nack (m, PLATEAU__V1__NACK__CODE__UNAVAILABLE, "redis unavailable", 1000);
}

/* A run of consecutive payments, applied as one batch (promise_book_pay_many). */
static void
s_on_payments (promise_book_t *self, pl_bus_msg_t **msgs, size_t n)
{
    promise_pay_item_t *items = calloc (n, sizeof *items);
    for (size_t i = 0; items && i < n; i++)
        s_payment_of (msgs[i], pl_bus_msg_envelope (msgs[i]), &items[i]);
    if (!items || promise_book_pay_many (self, items, n) != 0) {
        for (size_t i = 0; i < n; i++)
            pl_bus_msg_nack (msgs[i], PLATEAU__V1__NACK__CODE__UNAVAILABLE, "out of memory", 1000);
        free (items);
        return;
    }
    for (size_t i = 0; i < n; i++)
        s_payment_answer (msgs[i], &items[i]);
    free (items);
}

void
promise_book_handle (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    promise_book_t *self = arg;
    size_t run = 0;                     /* payments waiting for their batch, ending at i */
    for (size_t i = 0; i <= n; i++) {
        const pl_envelope_t *env = i < n ? pl_bus_msg_envelope (msgs[i]) : NULL;
        if (env && env->body_case == PLATEAU__V1__ENVELOPE__BODY_PAYMENT_RECEIVED) {
            run++;
            continue;
        }
        /* Anything else ends the run first: a promise made after a payment finds it applied. */
        if (run)
            s_on_payments (self, msgs + i - run, run);
        run = 0;
        if (!env)
            break;
        if (env->body_case == PLATEAU__V1__ENVELOPE__BODY_PROMISE_MADE)
            s_on_made (self, msgs[i], env);
        else if (env->body_case == PLATEAU__V1__ENVELOPE__BODY_DISPOSITION)
            s_on_contact (self, msgs[i], env);
        else
            pl_bus_msg_nack (msgs[i], PLATEAU__V1__NACK__CODE__UNKNOWN_TYPE, "not for the promise service", 0);
    }
}
