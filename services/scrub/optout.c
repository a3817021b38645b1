/*  optout.c — opt-outs in Redis (see optout.h). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optout.h"
#include "plateau/audit_emit.h"
#include "plateau/error.h"
#include "plateau/id.h"

/* K = the hash; A = field, record, keep-until ms ("0": no retention floor). "added" or, when
 * the scope is already opted out, "exists" and nothing emitted. */
static const pl_inbox_effect_t s_add = {
    "scrub.optout_add",
    "if redis.call('HSETNX', K[1], A[1], A[2]) == 0 then return 'exists', false end\n"
    "local keep = tonumber(A[3])\n"
    "if keep > 0 then\n"
    "  local ttl = redis.call('PTTL', K[1])\n"
    "  if ttl < keep then redis.call('PEXPIRE', K[1], keep) end\n"
    "end\n"
    "return 'added'\n"
};

/* K = the hash; A = field. "removed", or "absent" and nothing emitted. */
static const pl_inbox_effect_t s_remove = {
    "scrub.optout_remove",
    "if redis.call('HDEL', K[1], A[1]) == 0 then return 'absent', false end\n"
    "return 'removed'\n"
};

struct scrub_optouts {
    size_t n;
    char ***fields;              /* per number: NULL-terminated field names */
};

void
scrub_optout_key (char *out, size_t size, const char *number)
{
    snprintf (out, size, "pl:{num:%s}:optout", number);
}

static void
s_field (char *out, size_t size, const scrub_optout_t *o)
{
    if (o->debt_ref && *o->debt_ref)
        snprintf (out, size, "%s|%s", o->tenant, o->debt_ref);
    else
        snprintf (out, size, "%s", o->tenant);
}

/* The step of an add or a removal, with its audit event. */
static int
s_step (pl_inbox_t *inbox, const pl_outbox_t *audit, const char *service, const pl_clock_t *clock,
        const scrub_optout_t *o, const char *trace_id, bool add, char *err, size_t err_size)
{
    int64_t now = pl_clock_now_ms (clock);
    int64_t requested = o->requested_at_ms > 0 ? o->requested_at_ms : now;
    char key[128], field[512], tag[64], keep[24] = "0";
    scrub_optout_key (key, sizeof key, o->number);
    s_field (field, sizeof field, o);
    snprintf (tag, sizeof tag, "num:%s", o->number);
    if (add && strncmp (o->number, "+1", 2) == 0)
        snprintf (keep, sizeof keep, "%lld", (long long) (now - requested + SCRUB_US_RETENTION_MS));
    json_t *rec = json_pack ("{s:s,s:s,s:s,s:s,s:I,s:I}", "tenant", o->tenant, "debt_ref",
                             o->debt_ref ? o->debt_ref : "", "channel", o->channel ? o->channel : "",
                             "by", o->actor ? o->actor : "", "requested_at", (json_int_t) requested,
                             "effective_at", (json_int_t) now);
    char *value = rec ? json_dumps (rec, JSON_COMPACT) : NULL;
    json_decref (rec);
    pl_inbox_tx_t *tx = value ? pl_inbox_tx_new (tag, add ? o->message_id : NULL) : NULL;
    const char *k[1] = { key };
    const char *a[3] = { field, value, keep };
    int rc = tx ? pl_inbox_tx_effect (tx, add ? &s_add : &s_remove, 1, k, add ? 3 : 1, a, NULL) : PL_ENOMEM;
    char id[PL_ID_LEN + 32];
    char ulid[PL_ID_LEN + 1];
    pl_id_new (ulid, now);
    /* The event's id never holds the number: it is public. */
    snprintf (id, sizeof id, "%s.%s", ulid, add ? "optout" : "optout_removed");
    Plateau__V1__OptOutFacts facts = PLATEAU__V1__OPT_OUT_FACTS__INIT;
    if (rc == 0 && audit) {
        Plateau__V1__AuditEvent ev;
        pl_audit_event_init (&ev, service, add ? "optout.added" : "optout.removed", id, now);
        ev.number = (char *) o->number;
        ev.tenant = (char *) (strcmp (o->tenant, "*") == 0 ? "" : o->tenant);
        ev.actor = (char *) (o->actor ? o->actor : "");
        facts.list = "internal-dnc";
        facts.scope = (char *) (strcmp (o->tenant, "*") == 0 ? "all" : "tenant");
        facts.channel = (char *) (o->channel ? o->channel : "");
        facts.requested_at_ms = requested;
        facts.effective_at_ms = now;
        facts.debt_ref = (char *) (o->debt_ref ? o->debt_ref : "");
        ev.opt_out = &facts;
        rc = pl_audit_emit (tx, audit, service, clock, trace_id, &ev);
    }
    int result = -1;
    if (rc == 0)
        rc = pl_inbox_apply (inbox, &tx, 1, &result);
    if (rc != 0 && err)
        snprintf (err, err_size, "%s", rc == PL_ENOMEM ? "out of memory" : pl_inbox_errstr (inbox));
    const char *reply = rc == 0 ? pl_inbox_tx_reply (tx, NULL) : "";
    if (rc == 0)
        rc = add ? (strcmp (reply, "added") == 0 ? 1 : 0) : (strcmp (reply, "removed") == 0 ? 0 : PL_ENOTFOUND);
    pl_inbox_tx_destroy (&tx);
    free (value);
    return rc;
}

int
scrub_optout_add (pl_inbox_t *inbox, const pl_outbox_t *audit, const char *service, const pl_clock_t *clock,
                  const scrub_optout_t *o, const char *trace_id, char *err, size_t err_size)
{
    return s_step (inbox, audit, service, clock, o, trace_id, true, err, err_size);
}

int
scrub_optout_remove (pl_inbox_t *inbox, const pl_outbox_t *audit, const char *service, const pl_clock_t *clock,
                     const scrub_optout_t *o, const char *trace_id, char *err, size_t err_size)
{
    return s_step (inbox, audit, service, clock, o, trace_id, false, err, err_size);
}

int
scrub_optouts_fetch (pl_redis_t *redis, const char *const *numbers, size_t n, scrub_optouts_t **out)
{
    *out = NULL;
    scrub_optouts_t *self = calloc (1, sizeof *self);
    if (!self || !(self->fields = calloc (n ? n : 1, sizeof *self->fields))) {
        free (self);
        return PL_ENOMEM;
    }
    self->n = n;
    int rc = 0;
    size_t queued = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char key[128];
        scrub_optout_key (key, sizeof key, numbers[i]);
        const char *argv[2] = { "HKEYS", key };
        if (pl_redis_appendv (redis, 2, argv, NULL) != 0)
            rc = PL_EREDIS;
        else
            queued++;
    }
    for (size_t i = 0; i < queued; i++) {
        pl_reply_t *r = NULL;
        if (pl_redis_get_reply (redis, &r) != 0 || !r) {
            rc = PL_EREDIS;
            break;
        }
        if (pl_reply_type (r) == PL_REPLY_ARRAY) {
            size_t m = pl_reply_len (r);
            self->fields[i] = calloc (m + 1, sizeof (char *));
            for (size_t j = 0; self->fields[i] && j < m; j++)
                self->fields[i][j] = strdup (pl_reply_str (pl_reply_element (r, j), NULL) ?: "");
        } else if (pl_reply_type (r) == PL_REPLY_ERROR)
            rc = PL_EREDIS;
        pl_reply_free (&r);
    }
    if (rc != 0) {
        scrub_optouts_destroy (&self);
        return rc;
    }
    *out = self;
    return 0;
}

void
scrub_optouts_destroy (scrub_optouts_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    scrub_optouts_t *self = *self_p;
    for (size_t i = 0; i < self->n; i++) {
        for (char **f = self->fields[i]; f && *f; f++)
            free (*f);
        free (self->fields[i]);
    }
    free (self->fields);
    free (self);
    *self_p = NULL;
}

bool
scrub_optouts_hit (const scrub_optouts_t *self, size_t i, const char *tenant, const char *debt_ref)
{
    if (!self || i >= self->n)
        return false;
    size_t tl = strlen (tenant);
    for (char **f = self->fields[i]; f && *f; f++) {
        const char *v = *f;
        if (strcmp (v, "*") == 0 || strcmp (v, tenant) == 0)
            return true;
        if (debt_ref && *debt_ref && strncmp (v, tenant, tl) == 0 && v[tl] == '|' && strcmp (v + tl + 1, debt_ref) == 0)
            return true;
    }
    return false;
}
