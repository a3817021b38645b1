/*  store.c — leads in Redis: one atomic step per lead, pipelined per batch (see store.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plateau/audit_emit.h"
#include "plateau/envelope.h"
#include "plateau/error.h"
#include "plateau/inbox.h"
#include "plateau/outbox.h"
#include "store.h"

/* One lead: K = lead, num, xid; A = id, pb, source, flags ("n" number, "x" CRM id), window ms,
 * now ms, replica. Replies "s <id>" when stored, or the duplicate's kind and the existing id
 * ("x <id>", "n <id>"), and then emits nothing. Validation happened before: every command here
 * is well-formed. A bus message seen before never reaches this: the kit answers with the reply of
 * its first application. */
static const pl_inbox_effect_t s_store_lead = {
    "intake.store_lead",
    "local id, f = A[1], A[4]\n"
    "local x = string.find(f, 'x', 1, true)\n"
    "local n = string.find(f, 'n', 1, true)\n"
    "if x then local s = redis.call('GET', K[3]); if s then return 'x ' .. s, false end end\n"
    "if n then local s = redis.call('GET', K[2]); if s then return 'n ' .. s, false end end\n"
    "redis.call('HSET', K[1], 'pb', A[2], 'source', A[3], 'replica', A[7], 'at', A[6])\n"
    "if n then redis.call('SET', K[2], id, 'PX', A[5]) end\n"
    "if x then redis.call('SET', K[3], id) end\n"
    "return 's ' .. id\n"
};

/* Idempotency keys (store.h). A pending key is a lease: the hash expires with it, so a crashed
 * owner's key lapses by itself, and every change is checked against the owner (a lapsed owner
 * never overwrites the claim of the request that took over). */

/* KEYS: the hash. ARGV: owner, lease ms. {1} claimed; {2, ms left} held by a live request;
 * {0, status, ctype, body, digest} answered. */
static const char *s_claim_lua =
    "local s = redis.call('HGET', KEYS[1], 'state')\n"
    "if not s then\n"
    "  redis.call('HSET', KEYS[1], 'state', 'pending', 'owner', ARGV[1])\n"
    "  redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
    "  return {1}\n"
    "end\n"
    "if s == 'pending' then return {2, redis.call('PTTL', KEYS[1])} end\n"
    "local v = redis.call('HMGET', KEYS[1], 'status', 'ctype', 'body', 'digest')\n"
    "return {0, v[1] or '200', v[2] or 'application/json', v[3] or '', v[4] or ''}\n";

/* KEYS: the hash. ARGV: owner, then for a renewal the lease ms, for a release nothing, for an
 * answer its ttl ms, status, ctype, body, digest. 1 done; 0 the key is not this owner's. */
static const char *s_owned_lua =
    "if redis.call('HGET', KEYS[1], 'state') ~= 'pending'\n"
    "   or redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end\n"
    "if #ARGV == 1 then redis.call('DEL', KEYS[1]); return 1 end\n"
    "if #ARGV == 2 then redis.call('PEXPIRE', KEYS[1], ARGV[2]); return 1 end\n"
    "redis.call('HSET', KEYS[1], 'state', 'done', 'status', ARGV[3], 'ctype', ARGV[4], 'body', ARGV[5],\n"
    "           'digest', ARGV[6])\n"
    "redis.call('HDEL', KEYS[1], 'owner')\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
    "return 1\n";

struct intake_store {
    pl_redis_t *redis;
    const pl_clock_t *clock;
    char *service;
    char *replica;
    int64_t window_ms;
    pl_inbox_t *inbox;
    pl_outbox_t *scrub;
    pl_outbox_t *audit;
    pl_redis_script_t *claim;
    pl_redis_script_t *owned;
    /* A batch sent and not yet received (intake_store_send, intake_store_recv). */
    intake_store_item_t *items;
    size_t n, k, cap;
    int64_t now_ms;
    int send_rc;
    pl_inbox_tx_t **txs;
    size_t *which;
    int *results;
    char *kinds;                   /* per item: 's', 'x', 'n' as the store step answered */
    char errstr[256];
};

void
intake_store_lead_key (char *out, size_t size, const char *campaign, const char *id)
{
    snprintf (out, size, "pl:{camp:%s}:lead:%s", campaign, id);
}

void
intake_store_index_key (char *out, size_t size, const char *id)
{
    snprintf (out, size, "pl:{lead:%s}:campaign", id);
}

static void
s_idem_key (char *out, size_t size, const char *source, const char *key)
{
    snprintf (out, size, "pl:{idem:%s:%s}", source, key);
}

intake_store_t *
intake_store_new (pl_redis_t *redis, const pl_clock_t *clock, const char *service, const char *replica,
                  int64_t window_ms)
{
    intake_store_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->redis = redis;
    self->clock = clock;
    self->service = strdup (service);
    self->replica = strdup (replica);
    self->window_ms = window_ms;
    self->inbox = pl_inbox_new (redis, service, 0);
    self->scrub = pl_outbox_new (redis, replica, "scrub");
    self->audit = pl_outbox_new (redis, replica, "audit");
    self->claim = pl_redis_script_new (s_claim_lua);
    self->owned = pl_redis_script_new (s_owned_lua);
    if (!self->service || !self->replica || !self->inbox || !self->scrub || !self->audit || !self->claim
        || !self->owned)
        intake_store_destroy (&self);
    return self;
}

void
intake_store_destroy (intake_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    intake_store_t *self = *self_p;
    pl_inbox_destroy (&self->inbox);
    pl_outbox_destroy (&self->scrub);
    pl_outbox_destroy (&self->audit);
    pl_redis_script_destroy (&self->claim);
    pl_redis_script_destroy (&self->owned);
    for (size_t j = 0; self->txs && j < self->k; j++)
        pl_inbox_tx_destroy (&self->txs[j]);
    free (self->txs);
    free (self->which);
    free (self->results);
    free (self->kinds);
    free (self->service);
    free (self->replica);
    free (self);
    *self_p = NULL;
}

const char *
intake_store_errstr (const intake_store_t *self)
{
    return self->errstr;
}

long long
intake_store_owed (intake_store_t *self, const char *destination)
{
    return pl_outbox_size (strcmp (destination, "scrub") == 0 ? self->scrub : self->audit);
}

static int
s_fail (intake_store_t *self, const char *what)
{
    snprintf (self->errstr, sizeof self->errstr, "%s: %s", what, pl_redis_errstr (self->redis));
    return PL_EREDIS;
}

/* Runs a pipeline of simple commands queued with pl_redis_append; 0 when every reply came. */
static int
s_read_replies (intake_store_t *self, int queued, const char *what)
{
    return pl_redis_drain (self->redis, queued) == 0 ? 0 : s_fail (self, what);
}

/* The step that stores one lead, with its LeadSubmitted and lead.accepted. */
static pl_inbox_tx_t *
s_lead_step (intake_store_t *self, const intake_store_item_t *it, int64_t now_ms, const char *window,
             const char *now)
{
    const Plateau__V1__Lead *lead = it->lead;
    const char *c = lead->campaign;
    char tag[300];
    snprintf (tag, sizeof tag, "camp:%s", c);
    pl_inbox_tx_t *tx = pl_inbox_tx_new (tag, it->message_id && *it->message_id ? it->message_id : NULL);
    if (!tx)
        return NULL;
    char keys[3][512];
    intake_store_lead_key (keys[0], sizeof keys[0], c, lead->id);
    snprintf (keys[1], sizeof keys[1], "pl:{camp:%s}:num:%s", c,
              lead->phone && lead->phone->e164 ? lead->phone->e164 : "");
    snprintf (keys[2], sizeof keys[2], "pl:{camp:%s}:xid:%s:%s", c, lead->source ? lead->source : "",
              lead->external_id ? lead->external_id : "");
    char flags[4];
    size_t nf = 0;
    if (self->window_ms > 0 && lead->phone && lead->phone->e164 && *lead->phone->e164)
        flags[nf++] = 'n';
    if (lead->external_id && *lead->external_id)
        flags[nf++] = 'x';
    flags[nf] = '\0';
    size_t pbsize = plateau__v1__lead__get_packed_size (lead);
    uint8_t *pb = malloc (pbsize ? pbsize : 1);
    if (!pb) {
        pl_inbox_tx_destroy (&tx);
        return NULL;
    }
    plateau__v1__lead__pack (lead, pb);
    const char *k[3] = { keys[0], keys[1], keys[2] };
    const char *a[7] = { lead->id, (const char *) pb, lead->source ? lead->source : "", flags, window, now,
                         self->replica };
    size_t al[7];
    for (int i = 0; i < 7; i++)
        al[i] = i == 1 ? pbsize : strlen (a[i]);
    int rc = pl_inbox_tx_effect (tx, &s_store_lead, 3, k, 7, a, al);
    free (pb);
    /* The id → campaign index, another hash tag, goes just ahead of the step in its pipeline: a
     * lead is never findable by its store without it; a duplicate's index is removed after (a
     * crash leaves a dangling one for an id nobody was given, which reads as "not found"). */
    char idx[512];
    intake_store_index_key (idx, sizeof idx, lead->id);
    const char *set[3] = { "SET", idx, c };
    if (rc == 0)
        rc = pl_inbox_tx_before (tx, 3, set, NULL);

    /* LeadSubmitted to scrub, with an id derived from the lead id. */
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    Plateau__V1__LeadSubmitted ls;
    char sub_id[96];
    pl_envelope_init (&env, &ids, self->service, self->clock, lead->trace_id);
    snprintf (sub_id, sizeof sub_id, "%s.submitted", lead->id);
    env.id = sub_id;
    plateau__v1__lead_submitted__init (&ls);
    ls.lead = (Plateau__V1__Lead *) lead;
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_LEAD_SUBMITTED;
    env.lead_submitted = &ls;
    if (rc == 0)
        rc = pl_inbox_tx_emit (tx, self->scrub, &env);
    if (rc == 0 && it->audit) {
        intake_audit_event_t ev;
        intake_audit_build (&ev, self->service, INTAKE_AUDIT_ACCEPTED, it->audit, lead, lead->id, NULL,
                            lead->id, lead->received_at_ms ? lead->received_at_ms : now_ms);
        rc = pl_audit_emit (tx, self->audit, self->service, self->clock, lead->trace_id, &ev.ev);
    }
    if (rc != 0)
        pl_inbox_tx_destroy (&tx);
    return tx;
}

/* A step that only records an audit event (a duplicate or a rejection changes no state). The
 * tag is the campaign's when the item has a usable one, else this replica's. */
static pl_inbox_tx_t *
s_audit_step (intake_store_t *self, const intake_store_item_t *it, const char *type, const char *dedupe,
              const char *event_key, int64_t now_ms)
{
    char tag[300];
    const char *c = it->lead ? it->lead->campaign : it->audit->campaign;
    if (it->lead)
        snprintf (tag, sizeof tag, "camp:%s", c);
    else
        snprintf (tag, sizeof tag, "intake:%s", self->replica);
    pl_inbox_tx_t *tx = pl_inbox_tx_new (tag, NULL);
    if (!tx)
        return NULL;
    intake_audit_event_t ev;
    intake_audit_build (&ev, self->service, type, it->audit, it->lead, it->lead_id, dedupe, event_key, now_ms);
    if (pl_audit_emit (tx, self->audit, self->service, self->clock, it->audit->trace_id, &ev.ev) != 0)
        pl_inbox_tx_destroy (&tx);
    return tx;
}

/* Room for n items in the arrays of a sending. */
static int
s_reserve (intake_store_t *self, size_t n)
{
    if (n <= self->cap)
        return 0;
    pl_inbox_tx_t **txs = realloc (self->txs, n * sizeof *txs);
    if (txs)
        self->txs = txs;
    size_t *which = realloc (self->which, n * sizeof *which);
    if (which)
        self->which = which;
    int *results = realloc (self->results, n * sizeof *results);
    if (results)
        self->results = results;
    char *kinds = realloc (self->kinds, n);
    if (kinds)
        self->kinds = kinds;
    if (!txs || !which || !results || !kinds)
        return PL_ENOMEM;
    self->cap = n;
    return 0;
}

int
intake_store_send (intake_store_t *self, intake_store_item_t *items, size_t n, int64_t now_ms)
{
    if (self->items)
        return PL_EINVAL;                /* the last batch was not received */
    self->items = items;
    self->n = n;
    self->k = 0;
    self->now_ms = now_ms;
    self->send_rc = s_reserve (self, n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        items[i].outcome = INTAKE_STORE_UNKNOWN;
        items[i].lead_id[0] = '\0';
        if (items[i].lead)
            snprintf (items[i].lead_id, sizeof items[i].lead_id, "%s", items[i].lead->id);
    }
    if (self->send_rc != 0 || n == 0)
        return 0;
    memset (self->kinds, 0, n);
    char window[24], now[24];
    snprintf (window, sizeof window, "%lld", (long long) self->window_ms);
    snprintf (now, sizeof now, "%lld", (long long) now_ms);
    /* The leads, and the rejections' audit events: one pipeline. */
    for (size_t i = 0; i < n; i++) {
        intake_store_item_t *it = &items[i];
        pl_inbox_tx_t *tx;
        if (it->lead)
            tx = s_lead_step (self, it, now_ms, window, now);
        else if (it->audit) {
            char key[PL_ID_LEN + 1];
            pl_id_new (key, now_ms);
            tx = s_audit_step (self, it, INTAKE_AUDIT_REJECTED, NULL, key, now_ms);
        } else
            continue;
        if (!tx) {
            self->send_rc = PL_ENOMEM;
            return 0;
        }
        self->txs[self->k] = tx;
        self->which[self->k++] = i;
    }
    if (self->k && pl_inbox_send (self->inbox, self->txs, self->k) != 0)
        self->send_rc = PL_EREDIS;
    return 0;
}

int
intake_store_recv (intake_store_t *self)
{
    intake_store_item_t *items = self->items;
    if (!items)
        return PL_EINVAL;
    self->items = NULL;
    size_t n = self->n, k = self->k;
    pl_inbox_tx_t **txs = self->txs;
    int *results = self->results;
    char *kinds = self->kinds;
    int rc = self->send_rc;
    if (rc == 0 && k) {
        rc = pl_inbox_recv (self->inbox, txs, k, results);
        if (rc != 0)
            snprintf (self->errstr, sizeof self->errstr, "%s", pl_inbox_errstr (self->inbox));
    } else if (rc != 0)
        snprintf (self->errstr, sizeof self->errstr, "%s",
                  rc == PL_ENOMEM ? "out of memory" : pl_inbox_errstr (self->inbox));
    for (size_t j = 0; j < k; j++) {
        intake_store_item_t *it = &items[self->which[j]];
        if (rc == 0 && it->lead && results[j] >= 0) {
            const char *reply = pl_inbox_tx_reply (txs[j], NULL);
            if (strlen (reply) > 2) {
                char kind = reply[0];
                kinds[self->which[j]] = kind;
                snprintf (it->lead_id, sizeof it->lead_id, "%s", reply + 2);
                it->outcome = results[j] == 0 ? INTAKE_STORE_DUP_MESSAGE
                            : kind == 's'     ? INTAKE_STORE_STORED
                            : kind == 'x'     ? INTAKE_STORE_DUP_EXTERNAL
                                              : INTAKE_STORE_DUP_NUMBER;
            }
        }
        pl_inbox_tx_destroy (&txs[j]);
    }
    self->k = k = 0;
    if (rc != 0)
        return rc;

    /* Duplicates: their index goes, their audit event is recorded (with the existing lead's id).
     * A redelivered bus message that was a duplicate records it again under the same id (the
     * message's), in case the first attempt died before this: the audit stores it once. Rare:
     * done at once. */
    int queued = 0;
    for (size_t i = 0; i < n; i++) {
        intake_store_item_t *it = &items[i];
        if (!it->lead || it->outcome == INTAKE_STORE_UNKNOWN || strcmp (it->lead_id, it->lead->id) == 0)
            continue;
        char key[512];
        intake_store_index_key (key, sizeof key, it->lead->id);
        if (pl_redis_append (self->redis, "DEL %s", key) == 0)
            queued++;
        if (it->audit && (kinds[i] == 'x' || kinds[i] == 'n')) {
            txs[k] = s_audit_step (self, it, INTAKE_AUDIT_DUPLICATE, kinds[i] == 'x' ? "external_id" : "number",
                                   it->message_id && *it->message_id ? it->message_id : it->lead->id,
                                   self->now_ms);
            if (txs[k])
                k++;
        }
    }
    if (queued)
        rc = s_read_replies (self, queued, "index");
    if (k) {
        int r = pl_inbox_apply (self->inbox, txs, k, results);
        if (r != 0) {
            snprintf (self->errstr, sizeof self->errstr, "%s", pl_inbox_errstr (self->inbox));
            rc = r;
        }
        for (size_t j = 0; j < k; j++)
            pl_inbox_tx_destroy (&txs[j]);
    }
    return rc;
}

int
intake_store_put (intake_store_t *self, intake_store_item_t *items, size_t n, int64_t now_ms)
{
    int rc = intake_store_send (self, items, n, now_ms);
    return rc != 0 ? rc : intake_store_recv (self);
}

int
intake_store_audit_summary (intake_store_t *self, const intake_audit_t *ctx, const char *event_key,
                            int64_t now_ms)
{
    intake_store_item_t it = { .audit = ctx };
    pl_inbox_tx_t *tx = s_audit_step (self, &it, INTAKE_AUDIT_REJECTED_SUMMARY, NULL, event_key, now_ms);
    if (!tx)
        return PL_ENOMEM;
    int result;
    int rc = pl_inbox_apply (self->inbox, &tx, 1, &result);
    if (rc != 0)
        snprintf (self->errstr, sizeof self->errstr, "%s", pl_inbox_errstr (self->inbox));
    pl_inbox_tx_destroy (&tx);
    return rc;
}

int
intake_store_get (intake_store_t *self, const char *id, intake_store_lead_t *out)
{
    memset (out, 0, sizeof *out);
    char key[512];
    intake_store_index_key (key, sizeof key, id);
    pl_reply_t *r = pl_redis_command (self->redis, "GET %s", key);
    if (!r)
        return s_fail (self, "get");
    if (pl_reply_type (r) != PL_REPLY_STRING) {
        int rc = pl_reply_type (r) == PL_REPLY_NIL ? PL_ENOTFOUND : PL_EREDIS;
        pl_reply_free (&r);
        return rc;
    }
    char campaign[256];
    snprintf (campaign, sizeof campaign, "%s", pl_reply_str (r, NULL));
    pl_reply_free (&r);
    intake_store_lead_key (key, sizeof key, campaign, id);
    r = pl_redis_command (self->redis, "HMGET %s pb replica at verdict", key);
    if (!r)
        return s_fail (self, "get");
    if (pl_reply_len (r) != 4 || pl_reply_type (pl_reply_element (r, 0)) != PL_REPLY_STRING) {
        pl_reply_free (&r);
        return PL_ENOTFOUND;
    }
    size_t len;
    const char *pb = pl_reply_str (pl_reply_element (r, 0), &len);
    out->lead = plateau__v1__lead__unpack (NULL, len, (const uint8_t *) pb);
    const char *replica = pl_reply_str (pl_reply_element (r, 1), NULL);
    const char *at = pl_reply_str (pl_reply_element (r, 2), NULL);
    const char *verdict = pl_reply_str (pl_reply_element (r, 3), NULL);
    if (replica)
        snprintf (out->replica, sizeof out->replica, "%s", replica);
    if (at)
        out->accepted_at_ms = strtoll (at, NULL, 10);
    if (verdict)
        snprintf (out->verdict, sizeof out->verdict, "%s", verdict);
    pl_reply_free (&r);
    if (!out->lead)
        return PL_ECORRUPT;
    return 0;
}

int
intake_store_idem_claim (intake_store_t *self, const char *source, const char *key, const char *owner,
                         int64_t lease_ms, intake_store_answer_t *out)
{
    memset (out, 0, sizeof *out);
    char k[512], lease[24];
    s_idem_key (k, sizeof k, source, key);
    snprintf (lease, sizeof lease, "%lld", (long long) lease_ms);
    const char *argv[3] = { k, owner, lease };
    pl_reply_t *r = pl_redis_eval (self->redis, self->claim, 1, 3, argv, NULL);
    if (!r)
        return s_fail (self, "idempotency");
    int rc = PL_EREDIS;
    long long v = pl_reply_len (r) >= 1 && pl_reply_type (pl_reply_element (r, 0)) == PL_REPLY_INTEGER
                ? pl_reply_int (pl_reply_element (r, 0)) : -1;
    if (v == 1)
        rc = 1;
    else if (v == 2 && pl_reply_len (r) == 2) {
        long long left = pl_reply_int (pl_reply_element (r, 1));
        out->lease_left_ms = left > 0 ? left : 0;
        rc = PL_EBUSY;
    } else if (v == 0 && pl_reply_len (r) == 5) {
        size_t len;
        const char *st = pl_reply_str (pl_reply_element (r, 1), NULL);
        const char *ct = pl_reply_str (pl_reply_element (r, 2), NULL);
        const char *b = pl_reply_str (pl_reply_element (r, 3), &len);
        const char *d = pl_reply_str (pl_reply_element (r, 4), NULL);
        out->status = st ? atoi (st) : 0;
        snprintf (out->digest, sizeof out->digest, "%s", d ? d : "");
        out->ctype = ct ? strdup (ct) : NULL;
        out->body = malloc (len + 1);
        if (out->body) {
            if (len)
                memcpy (out->body, b, len);
            out->body[len] = '\0';
        }
        out->body_len = len;
        rc = out->ctype && out->body ? 0 : PL_ENOMEM;
    } else
        snprintf (self->errstr, sizeof self->errstr, "idempotency: %s",
                  pl_reply_type (r) == PL_REPLY_ERROR ? pl_reply_str (r, NULL) : "unexpected reply");
    pl_reply_free (&r);
    return rc;
}

void
intake_store_answer_free (intake_store_answer_t *answer)
{
    free (answer->ctype);
    free (answer->body);
    answer->ctype = answer->body = NULL;
}

/* Runs the owner-checked script with argc arguments after the key. */
static int
s_owned (intake_store_t *self, const char *source, const char *key, int argc, const char **args,
         const size_t *lens)
{
    char k[512];
    s_idem_key (k, sizeof k, source, key);
    const char *argv[8] = { k };
    size_t argl[8] = { strlen (k) };
    for (int i = 0; i < argc; i++) {
        argv[i + 1] = args[i];
        argl[i + 1] = lens ? lens[i] : strlen (args[i]);
    }
    pl_reply_t *r = pl_redis_eval (self->redis, self->owned, 1, argc + 1, argv, argl);
    if (!r)
        return s_fail (self, "idempotency");
    int rc = pl_reply_type (r) != PL_REPLY_INTEGER ? PL_EREDIS : pl_reply_int (r) == 1 ? 0 : PL_ENOTFOUND;
    if (rc == PL_EREDIS)
        snprintf (self->errstr, sizeof self->errstr, "idempotency: %s",
                  pl_reply_type (r) == PL_REPLY_ERROR ? pl_reply_str (r, NULL) : "unexpected reply");
    pl_reply_free (&r);
    return rc;
}

int
intake_store_idem_renew (intake_store_t *self, const char *source, const char *key, const char *owner,
                         int64_t lease_ms)
{
    char lease[24];
    snprintf (lease, sizeof lease, "%lld", (long long) lease_ms);
    return s_owned (self, source, key, 2, (const char *[]) { owner, lease }, NULL);
}

int
intake_store_idem_save (intake_store_t *self, const char *source, const char *key, const char *owner,
                        int64_t ttl_ms, const intake_store_answer_t *answer)
{
    char st[16], ttl[24];
    snprintf (st, sizeof st, "%d", answer->status);
    snprintf (ttl, sizeof ttl, "%lld", (long long) ttl_ms);
    const char *args[6] = { owner, ttl, st, answer->ctype, answer->body, answer->digest };
    size_t lens[6];
    for (int i = 0; i < 6; i++)
        lens[i] = i == 4 ? answer->body_len : strlen (args[i]);
    return s_owned (self, source, key, 6, args, lens);
}

int
intake_store_idem_release (intake_store_t *self, const char *source, const char *key, const char *owner)
{
    return s_owned (self, source, key, 1, (const char *[]) { owner }, NULL);
}
