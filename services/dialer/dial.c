/*  dial.c — the dialer's steps and pacing (see dial.h and docs/adr/0050). */
#include "dial.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pacing.h"
#include "plateau/audit_emit.h"
#include "plateau/campaign_registry.h"
#include "plateau/envelope.h"
#include "plateau/error.h"
#include "plateau/id.h"
#include "plateau/inbox.h"
#include "plateau/outbox.h"
#include "plateau/timefmt.h"
#include "plateau/v1/audit.pb-c.h"
#include "plateau/v1/dial.pb-c.h"
#include "plateau/v1/promise.pb-c.h"
#include "plateau/v1/scrub.pb-c.h"

#define S_MAX_NUMS 8
#define S_DAY_MS 86400000LL
/* A promise's hold lasts to its due date's end in the debtor's zone (at most a day after the
 * due instant) plus the service's sweep: then the promise is decided, and the hold lifted. */
#define S_HOLD_AFTER_DUE_MS (S_DAY_MS + 3600000)
#define S_HIST_KEEP_MS (400LL * 86400000)    /* longer than any rolling window or cool-off */
#define S_STATS_KEEP_MS (32LL * 86400000)     /* the US 30-day period, and a day to spare */
#define S_MAX_HIST 2000                       /* what scrub accepts */
#define S_CHECK_FRESH_MS 5000                 /* an answer older than this is checked again… */
#define S_CHECK_FRESH_WALL_MS 250             /* …unless it came back this fast in real time (a
                                               * simulation's clock runs faster than the bus) */
#define S_STUCK_WALL_MS 30000                 /* a claim unanswered this long (real time) is voided */
/* A call telephony never ended (its adapter crashed with the call in flight): placed for the
 * ring timeout and 10 minutes more without an outcome, or answered 4 hours ago without a
 * disposition, and claimed a minute of real time ago at least (messages may be in flight). */
#define S_LOST_PLACED_MS (10LL * 60000)
#define S_LOST_TALKING_MS (4LL * 3600000)
#define S_LOST_WALL_MS 60000
#define S_REFUSED_RETRY_MS (5 * 60 * 1000)    /* a lead whose check was refused for good: tried again */
#define S_REPORT_GRACE_WALL_MS 2000           /* an outcome is stored this soon after it is learnt */

typedef struct {
    const dialer_campaign_t *c;
    char name[64];               /* c's, kept: c may be freed after a replacement (campaign.c) */
    bool owned;
    char token[32];              /* "<replica> <fence>" while owned */
    long long fence;
    int64_t report_hour;
} s_camp_t;

struct dialer {
    dialer_opts_t o;
    pl_inbox_t *inbox;
    pl_outbox_t *scrub, *telephony, *audit, *promise;
    s_camp_t *camps;
    size_t n_camps;
    uint64_t gen;                /* of the campaigns camps was built from */
    int64_t registry_rev;        /* of the campaign registry last read */
    pl_metric_t *m_steps, *m_calls, *m_lines, *m_queue, *m_rate, *m_agents;
    pl_metric_t *m_agent_time, *m_wait, *m_answer, *m_paused;
    pl_redis_script_t *lease, *agents_rebuild;
};

/* ---- keys and effects ----------------------------------------------------------------------- */

static void
s_key (char *out, size_t size, const char *campaign, const char *what)
{
    snprintf (out, size, "pl:{camp:%s}:%s", campaign, what);
}

static void
s_lead_key (char *out, size_t size, const char *campaign, const char *lead)
{
    snprintf (out, size, "pl:{camp:%s}:dl:%s", campaign, lead);
}

static void
s_tag (char *out, size_t size, const char *campaign)
{
    snprintf (out, size, "camp:%s", campaign);
}

/* LeadCleared: K dl, due; A lead pb, numbers, due, campaign tenant. */
static const pl_inbox_effect_t s_enqueue = {
    "dialer.enqueue",
    "if redis.call('EXISTS', K[1]) == 1 then return 'dup', false end\n"
    "redis.call('HSET', K[1], 'pb', A[1], 'nums', A[2], 'idx', '0', 'n', '0', 'state', 'queued',\n"
    "  'sched', '1', 'due', A[3])\n"
    "redis.call('ZADD', K[2], A[3], A[4])\n"
    "return 'ok'\n"
};

/* Claim: K lease, due, dl, inflight, resv, paused, ready; A token, lead, n expected, attempt, now,
 * agent, wall, dial mode ("manual" when an agent asked for it, "auto"). A paused campaign claims
 * nothing: the pause and the claim are ordered in Redis, so no claim follows a pause. A reserved
 * agent leaves the ready set until its call lets it go (dialer.move). */
static const pl_inbox_effect_t s_claim = {
    "dialer.claim",
    "if redis.call('GET', K[1]) ~= A[1] then return 'fenced', false end\n"
    "if redis.call('EXISTS', K[6]) == 1 then return 'paused', false end\n"
    "if redis.call('HGET', K[3], 'state') ~= 'queued' then return 'gone', false end\n"
    "if (redis.call('HGET', K[3], 'n') or '0') ~= A[3] then return 'gone', false end\n"
    "redis.call('HSET', K[3], 'state', 'claimed', 'att', A[4], 'n', tostring(tonumber(A[3]) + 1),\n"
    "  'agent', A[6], 'at', A[5], 'wall', A[7], 'dm', A[8])\n"
    "redis.call('HDEL', K[3], 'man')\n"
    "redis.call('ZREM', K[2], A[2])\n"
    "redis.call('ZADD', K[4], A[7], A[4])\n"
    "if A[6] ~= '' then redis.call('HSET', K[5], A[6], A[4]); redis.call('ZREM', K[7], A[6]) end\n"
    "return 'ok'\n"
};

/* History: K hist; A attempt, entry, keep ms, now. Records the claim, returns every entry as
 * "<attempt>=<entry>" lines, dropping those older than the longest window. */
static const pl_inbox_effect_t s_history = {
    "dialer.history",
    "redis.call('HSETNX', K[1], A[1], A[2])\n"
    "redis.call('PEXPIRE', K[1], A[3])\n"
    "local all = redis.call('HGETALL', K[1])\n"
    "local out = {}\n"
    "local oldest = tonumber(A[4]) - tonumber(A[3])\n"
    "for i = 1, #all, 2 do\n"
    "  local at = tonumber(string.match(all[i + 1], '^(%-?%d+)')) or 0\n"
    "  if at < oldest then redis.call('HDEL', K[1], all[i]) else out[#out + 1] = all[i] .. '=' .. all[i + 1] end\n"
    "end\n"
    "return table.concat(out, '\\n')\n"
};

/* History flags and voids: K hist; A attempt, entry ('' deletes). Only an existing entry. */
static const pl_inbox_effect_t s_history_set = {
    "dialer.history_set",
    "if redis.call('HEXISTS', K[1], A[1]) == 0 then return 'none' end\n"
    "if A[2] == '' then redis.call('HDEL', K[1], A[1]) else redis.call('HSET', K[1], A[1], A[2]) end\n"
    "return 'ok'\n"
};

/* Check sent: K lease, dl; A token, attempt. */
static const pl_inbox_effect_t s_checking = {
    "dialer.checking",
    "if redis.call('GET', K[1]) ~= A[1] then return 'fenced', false end\n"
    "if redis.call('HGET', K[2], 'state') ~= 'claimed' or redis.call('HGET', K[2], 'att') ~= A[2] then\n"
    "  return 'gone', false end\n"
    "redis.call('HSET', K[2], 'state', 'checking')\n"
    "return 'ok'\n"
};

/* Move an attempt on: K dl, due, inflight, resv, agents, ready, bridged, then the stats keys to add to; A attempt,
 * expected states ("checking|placed"), new state, due ('' none), next idx, sched, agent,
 * tries field ('' none), stats member, stats score, number of stats keys, then one score per
 * stats key ('' none, 'rem' to take the attempt out), then field/value pairs to set on the lead. */
static const pl_inbox_effect_t s_move = {
    "dialer.move",
    "local st = redis.call('HGET', K[1], 'state')\n"
    "if not st or redis.call('HGET', K[1], 'att') ~= A[1] or not string.find('|' .. A[2] .. '|', '|' .. st .. '|', 1, true) then\n"
    "  return 'gone', false end\n"
    "redis.call('HSET', K[1], 'state', A[3], 'idx', A[5], 'sched', A[6])\n"
    "if A[4] ~= '' then redis.call('ZADD', K[2], A[4], string.match(K[1], ':dl:(.*)$')); redis.call('HSET', K[1], 'due', A[4]) end\n"
    "if A[3] ~= 'placed' then redis.call('ZREM', K[3], A[1]) end\n"
    "if A[3] ~= 'placed' and A[3] ~= 'talking' then redis.call('ZREM', K[7], A[1]) end\n"
    "if A[7] ~= '' and A[3] ~= 'placed' and redis.call('HGET', K[4], A[7]) == A[1] then redis.call('HDEL', K[4], A[7])\n"
    "  local ag = redis.call('HGET', K[5], A[7])\n"
    "  if ag and string.sub(ag, 1, 6) == 'ready|' then redis.call('ZADD', K[6], string.sub(ag, 7), A[7]) end\n"
    "end\n"
    "if A[8] ~= '' then redis.call('HINCRBY', K[1], A[8], 1) end\n"
    "local ns = tonumber(A[11])\n"
    "for i = 1, ns do\n"
    "  local sc = A[11 + i]\n"
    "  if sc == 'rem' then redis.call('ZREM', K[7 + i], A[9])\n"
    "  elseif sc ~= '' then redis.call('ZADD', K[7 + i], sc, A[9]);\n"
    "    redis.call('ZREMRANGEBYSCORE', K[7 + i], '-inf', tonumber(sc) - 2764800000) end\n"
    "end\n"
    "for i = 12 + ns, #A, 2 do redis.call('HSET', K[1], A[i], A[i + 1]) end\n"
    "return 'ok'\n"
};

/* A call bridged to an agent: K inflight, bridged, dl; A attempt, wall. Only while it is still the
 * lead's live call: a late progress of an ended call does not leave a stale entry behind. */
static const pl_inbox_effect_t s_bridge = {
    "dialer.bridge",
    "local st = redis.call('HGET', K[3], 'state')\n"
    "if redis.call('HGET', K[3], 'att') ~= A[1] or (st ~= 'placed' and st ~= 'talking') then return 'gone' end\n"
    "redis.call('ZREM', K[1], A[1])\n"
    "redis.call('ZADD', K[2], A[2], A[1])\n"
    "return 'ok'\n"
};

/* Reopen a finished lead: K dl, due; A due, sched. A broken promise's follow-up; the lead counts
 * its reopenings ('ro'), so that its next lead.finished has an id of its own. */
static const pl_inbox_effect_t s_reopen = {
    "dialer.reopen",
    "if redis.call('HGET', K[1], 'state') ~= 'done' then return 'gone', false end\n"
    "redis.call('HSET', K[1], 'state', 'queued', 'due', A[1], 'sched', A[2])\n"
    "redis.call('HINCRBY', K[1], 'ro', 1)\n"
    "redis.call('HDEL', K[1], 'fin')\n"
    "redis.call('ZADD', K[2], A[1], string.match(K[1], ':dl:(.*)$'))\n"
    "return 'ok'\n"
};

/* A promise decided: its hold on the debt ends (not another promise's). K hold; A promise id. */
static const pl_inbox_effect_t s_hold_lift = {
    "dialer.hold_lift",
    "if redis.call('HGET', K[1], 'p') == A[1] then redis.call('DEL', K[1]) end\n"
    "return 'ok'\n"
};

/* A promise active on a debt the dialer did not see made (over the API, or reopened): K hold;
 * A promise, until, ttl ms. A hold of another promise lasting longer stays. */
static const pl_inbox_effect_t s_hold_set = {
    "dialer.hold_set",
    "local u = tonumber(redis.call('HGET', K[1], 'until') or '0')\n"
    "if u > tonumber(A[2]) and redis.call('HGET', K[1], 'p') ~= A[1] then return 'longer' end\n"
    "redis.call('HSET', K[1], 'p', A[1], 'until', A[2])\n"
    "redis.call('PEXPIRE', K[1], A[3])\n"
    "return 'ok'\n"
};

/* A queued lead held by a promise on its debt waits: K dl, due; A due, sched. */
static const pl_inbox_effect_t s_held = {
    "dialer.held",
    "if redis.call('HGET', K[1], 'state') ~= 'queued' then return 'gone', false end\n"
    "redis.call('HSET', K[1], 'due', A[1], 'sched', A[2])\n"
    "redis.call('ZADD', K[2], A[1], string.match(K[1], ':dl:(.*)$'))\n"
    "return 'ok'\n"
};

/* Agent state: K agents, ready, agst (counts by state and measured times), resv; A agent,
 * "state|since", since, state. Newer states only. Keeps beside the agents' hash what a pacing
 * pass reads instead of every agent: the count in each state, the ready agents not reserved
 * by since (longest idle first), and the decayed sums of wrap-up and talk times. Replies the
 * state left and how long it lasted ("ready|41000"), "new" for an agent not seen before, or
 * "old". */
static const pl_inbox_effect_t s_agent = {
    "dialer.agent",
    "local cur = redis.call('HGET', K[1], A[1])\n"
    "local prev, s, ps = 'new', 0, nil\n"
    "if cur then s = tonumber(string.match(cur, '|(%-?%d+)$')) or 0\n"
    "  if s > tonumber(A[3]) then return 'old' end\n"
    "  ps = string.match(cur, '^([^|]*)')\n"
    "  prev = ps .. '|' .. string.format('%d', tonumber(A[3]) - s) end\n"
    "redis.call('HSET', K[1], A[1], A[2])\n"
    "if ps then redis.call('HINCRBY', K[3], ps, -1) end\n"
    "redis.call('HINCRBY', K[3], A[4], 1)\n"
    "if A[4] == 'ready' and redis.call('HEXISTS', K[4], A[1]) == 0 then redis.call('ZADD', K[2], A[3], A[1])\n"
    "else redis.call('ZREM', K[2], A[1]) end\n"
    "local d = tonumber(A[3]) - s\n"
    "if (ps == 'wrap_up' or ps == 'on_call') and A[4] ~= ps and d > 0 and d < 86400000 then\n"
    "  local f = ps == 'wrap_up' and 'wrap' or 'talk'\n"
    "  local n = tonumber(redis.call('HGET', K[3], f .. '_n') or '0')\n"
    "  local m = tonumber(redis.call('HGET', K[3], f .. '_ms') or '0')\n"
    "  if n >= 256 then n = math.floor(n / 2); m = math.floor(m / 2) end\n"
    "  redis.call('HSET', K[3], f .. '_n', n + 1, f .. '_ms', m + d) end\n"
    "return prev\n"
};

/* Rebuilds the counts and the ready set from the agents' hash (K agents, ready, agst, resv),
 * keeping the measured times: when a replica takes a campaign over, so that they never drift
 * from what the hash says, whoever kept them before. */
static const char s_agents_rebuild_lua[] =
    "local all = redis.call('HGETALL', KEYS[1])\n"
    "local keep = redis.call('HMGET', KEYS[3], 'wrap_n', 'wrap_ms', 'talk_n', 'talk_ms')\n"
    "redis.call('DEL', KEYS[2], KEYS[3])\n"
    "local n = {}\n"
    "for i = 1, #all, 2 do\n"
    "  local st, since = string.match(all[i + 1], '^([^|]*)|(%-?%d+)$')\n"
    "  if st then n[st] = (n[st] or 0) + 1\n"
    "    if st == 'ready' and redis.call('HEXISTS', KEYS[4], all[i]) == 0 then\n"
    "      redis.call('ZADD', KEYS[2], since, all[i]) end end\n"
    "end\n"
    "for st, c in pairs(n) do redis.call('HSET', KEYS[3], st, c) end\n"
    "local names = { 'wrap_n', 'wrap_ms', 'talk_n', 'talk_ms' }\n"
    "for i = 1, 4 do if keep[i] then redis.call('HSET', KEYS[3], names[i], keep[i]) end end\n"
    "return #all / 2\n";

/* ---- small helpers ---------------------------------------------------------------------------- */

/* The campaigns again when the set changed (a definition over the API): each campaign keeps
 * its lease state by name. Called where a step starts, never while an s_camp_t is held. */
static void
s_refresh (dialer_t *self)
{
    uint64_t gen = dialer_campaigns_gen (self->o.campaigns);
    if (self->camps && gen == self->gen)
        return;
    size_t n = dialer_campaigns_count (self->o.campaigns);
    s_camp_t *camps = calloc (n ? n : 1, sizeof *camps);
    if (!camps)
        return;                          /* the old set stays in use */
    for (size_t i = 0; i < n; i++) {
        const dialer_campaign_t *c = dialer_campaigns_at (self->o.campaigns, i);
        for (size_t j = 0; c && j < self->n_camps; j++)
            if (strcmp (self->camps[j].name, c->name) == 0)
                camps[i] = self->camps[j];
        camps[i].c = c;
        if (c)
            snprintf (camps[i].name, sizeof camps[i].name, "%s", c->name);
    }
    free (self->camps);
    self->camps = camps;
    self->n_camps = n;
    self->gen = gen;
}

static s_camp_t *
s_camp (dialer_t *self, const char *name)
{
    for (size_t i = 0; name && i < self->n_camps; i++)
        if (strcmp (self->camps[i].c->name, name) == 0)
            return &self->camps[i];
    return NULL;
}

static int
s_emit_audit (dialer_t *self, pl_inbox_tx_t *tx, Plateau__V1__AuditEvent *ev, const char *trace)
{
    if (!self->audit)
        return 0;
    return pl_audit_emit (tx, self->audit, self->o.service, self->o.clock, trace, ev);
}

static void
s_event (dialer_t *self, Plateau__V1__AuditEvent *ev, const char *type, const char *id, int64_t now,
         const dialer_campaign_t *c, const char *lead, const char *number, const char *attempt)
{
    pl_audit_event_init (ev, self->o.service, type, id, now);
    ev->campaign = (char *) c->name;
    ev->tenant = (char *) c->tenant;
    ev->lead_id = (char *) (lead ? lead : "");
    ev->number = (char *) (number ? number : "");
    ev->attempt_id = (char *) (attempt ? attempt : "");
    ev->call_kind = c->kind;
    ev->profile = (char *) c->profile;
}

/* A lead's dialer state, as read before a step (the step compares and sets). */
typedef struct {
    char state[16], att[160], agent[96], nums[S_MAX_NUMS * 24];
    int n, idx, sched;
    int placed;                  /* attempts placed (n counts claims, placed or not) */
    int64_t at;                  /* when the current attempt was claimed */
    int64_t wall;                /* the same, in real (wall-clock) time */
    char zone[64];               /* the binding zone of the check that allowed it */
    char manual[96];             /* an agent's manual dial: the agent, "" otherwise */
    int64_t due;
    char last[256], fin[32], result[24], code[24];
    bool dialled_manually;       /* the current attempt was an agent's manual dial */
    int reopened;                /* times a broken promise queued the finished lead again */
    bool callback;
    char *pb;
    size_t pb_len;
    int tries[DIALER_RETRY_N];
} s_lead_t;

static const char *s_fields[] = { "state", "att", "agent", "nums", "n", "idx", "sched", "cb", "pb",
                                  "r:busy", "r:no-answer", "r:voicemail", "r:abandoned", "r:failed", "placed", "at", "wall", "zone",
                                  "man", "due", "last", "fin", "result", "code", "dm", "ro" };
#define S_NFIELDS (sizeof s_fields / sizeof *s_fields)

static void
s_lead_free (s_lead_t *l)
{
    free (l->pb);
    l->pb = NULL;
}

/* Reads the reply of HMGET <dl> s_fields. 0, or PL_ENOTFOUND when the lead has no state. */
static int
s_lead_read (pl_reply_t *r, s_lead_t *l)
{
    memset (l, 0, sizeof *l);
    if (!r || pl_reply_type (r) != PL_REPLY_ARRAY || pl_reply_len (r) != S_NFIELDS)
        return PL_EREDIS;
    const char *v[S_NFIELDS];
    size_t len[S_NFIELDS];
    for (size_t i = 0; i < S_NFIELDS; i++) {
        v[i] = pl_reply_str (pl_reply_element (r, i), &len[i]);
        if (!v[i])
            len[i] = 0;
    }
    if (!v[0])
        return PL_ENOTFOUND;
    snprintf (l->state, sizeof l->state, "%s", v[0]);
    snprintf (l->att, sizeof l->att, "%s", v[1] ? v[1] : "");
    snprintf (l->agent, sizeof l->agent, "%s", v[2] ? v[2] : "");
    snprintf (l->nums, sizeof l->nums, "%s", v[3] ? v[3] : "");
    l->n = v[4] ? atoi (v[4]) : 0;
    l->idx = v[5] ? atoi (v[5]) : 0;
    l->sched = v[6] ? atoi (v[6]) : 1;
    l->callback = v[7] && strcmp (v[7], "1") == 0;
    if (v[8] && len[8]) {
        l->pb = malloc (len[8]);
        if (!l->pb)
            return PL_ENOMEM;
        memcpy (l->pb, v[8], len[8]);
        l->pb_len = len[8];
    }
    for (int k = 0; k < DIALER_RETRY_N; k++)
        l->tries[k] = v[9 + k] ? atoi (v[9 + k]) : 0;
    l->placed = v[14] ? atoi (v[14]) : 0;
    l->at = v[15] ? strtoll (v[15], NULL, 10) : 0;
    l->wall = v[16] ? strtoll (v[16], NULL, 10) : 0;
    snprintf (l->zone, sizeof l->zone, "%s", v[17] ? v[17] : "");
    snprintf (l->manual, sizeof l->manual, "%s", v[18] ? v[18] : "");
    l->due = v[19] ? strtoll (v[19], NULL, 10) : 0;
    snprintf (l->last, sizeof l->last, "%s", v[20] ? v[20] : "");
    snprintf (l->fin, sizeof l->fin, "%s", v[21] ? v[21] : "");
    snprintf (l->result, sizeof l->result, "%s", v[22] ? v[22] : "");
    snprintf (l->code, sizeof l->code, "%s", v[23] ? v[23] : "");
    l->dialled_manually = v[24] && strcmp (v[24], "manual") == 0;
    l->reopened = v[25] ? atoi (v[25]) : 0;
    return 0;
}

static void
s_append_hmget (pl_redis_t *redis, const char *key)
{
    const char *argv[2 + S_NFIELDS] = { "HMGET", key };
    for (size_t i = 0; i < S_NFIELDS; i++)
        argv[2 + i] = s_fields[i];
    pl_redis_appendv (redis, 2 + S_NFIELDS, argv, NULL);
}

/* Number i of "a,b,c" into out; false past the end. */
static bool
s_number (const char *nums, int i, char out[24])
{
    const char *p = nums;
    for (int k = 0; k < i && p; k++) {
        p = strchr (p, ',');
        if (p)
            p++;
    }
    if (!p || !*p)
        return false;
    size_t n = strcspn (p, ",");
    if (n == 0 || n >= 24)
        return false;
    memcpy (out, p, n);
    out[n] = '\0';
    return true;
}

static int
s_count_numbers (const char *nums)
{
    int n = *nums ? 1 : 0;
    for (const char *p = nums; *p; p++)
        n += *p == ',';
    return n;
}

/* The hold of a tenant's debt, under its own hash tag: tag "debt:<tenant>|<debt>", key
 * pl:{<tag>}:hold. */
static void
s_hold_key (char *tag, size_t tsize, char *key, size_t ksize, const char *tenant, const char *debt)
{
    snprintf (tag, tsize, "debt:%s|%s", tenant, debt);
    snprintf (key, ksize, "pl:{%s}:hold", tag);
}

/* Puts promise's hold on tenant's debt, until `until`, before the step tx (the disposition
 * that made the promise): written first, so that a step that then fails holds the debt too
 * long rather than not at all. */
static int
s_hold_before (pl_inbox_tx_t *tx, const char *tenant, const char *debt, const char *promise, int64_t until,
               int64_t now)
{
    char tag[300], key[320], u[24], ttl[24];
    s_hold_key (tag, sizeof tag, key, sizeof key, tenant, debt);
    snprintf (u, sizeof u, "%lld", (long long) until);
    /* Kept 30 days past its end in Redis: a promise an operator cancels sends nothing. */
    snprintf (ttl, sizeof ttl, "%lld", (long long) (until - now + 30 * S_DAY_MS));
    const char *set[6] = { "HSET", key, "p", promise, "until", u }, *exp[3] = { "PEXPIRE", key, ttl };
    int rc = pl_inbox_tx_before (tx, 6, set, NULL);
    return rc ? rc : pl_inbox_tx_before (tx, 3, exp, NULL);
}

/* A step lifting promise's hold on tenant's debt (none other's); NULL without memory. */
static pl_inbox_tx_t *
s_hold_release_tx (const char *tenant, const char *debt, const char *promise)
{
    char tag[300], key[320];
    s_hold_key (tag, sizeof tag, key, sizeof key, tenant, debt);
    pl_inbox_tx_t *tx = pl_inbox_tx_new (tag, NULL);
    const char *keys[1] = { key }, *args[1] = { promise };
    if (tx && pl_inbox_tx_effect (tx, &s_hold_lift, 1, keys, 1, args, NULL) != 0)
        pl_inbox_tx_destroy (&tx);
    return tx;
}

/* The debt account reference of the lead as cleared ("" for none), into out. */
static void
s_lead_debt (const s_lead_t *l, char *out, size_t size, char *creditor, size_t csize)
{
    Plateau__V1__Lead *lead = l->pb ? plateau__v1__lead__unpack (NULL, l->pb_len, (uint8_t *) l->pb) : NULL;
    snprintf (out, size, "%s", lead && lead->debt && lead->debt->account_ref ? lead->debt->account_ref : "");
    if (creditor)
        snprintf (creditor, csize, "%s", lead && lead->debt && lead->debt->creditor ? lead->debt->creditor : "");
    if (lead)
        plateau__v1__lead__free_unpacked (lead, NULL);
}

/* ---- lifecycle: what comes next for a lead -------------------------------------------------- */

/* The move of an attempt: requeue, next number, finish, or (placed) keep. */
typedef struct {
    const char *state;           /* "queued", "done", "placed", "talking" */
    int64_t due;                 /* queued: when */
    int idx;                     /* the number it is on after the move */
    const char *reason;          /* dial.scheduled / lead.finished reason */
    const char *outcome;         /* what caused it */
    const char *tries;           /* "r:busy" to count, or NULL */
    bool callback;
} s_next_t;

/* Emits dial.scheduled or lead.finished for a move. */
static int
s_schedule_event (dialer_t *self, pl_inbox_tx_t *tx, const dialer_campaign_t *c, const char *lead_id,
                  const s_lead_t *l, const s_next_t *nx, int64_t now, const char *trace)
{
    if (strcmp (nx->state, "queued") && strcmp (nx->state, "done"))
        return 0;
    Plateau__V1__AuditEvent ev;
    Plateau__V1__ScheduleFacts sf = PLATEAU__V1__SCHEDULE_FACTS__INIT;
    char id[200], number[24] = "";
    bool done = strcmp (nx->state, "done") == 0;
    if (done && l->reopened > 0)
        snprintf (id, sizeof id, "%s.finished.%d", lead_id, l->reopened);   /* it finishes again */
    else if (done)
        snprintf (id, sizeof id, "%s.finished", lead_id);
    else
        snprintf (id, sizeof id, "%s.s%d", lead_id, l->sched + 1);
    s_number (l->nums, nx->idx, number);
    s_event (self, &ev, done ? "lead.finished" : "dial.scheduled", id, now, c, lead_id, number, NULL);
    sf.due_at_ms = done ? 0 : nx->due;
    sf.attempt = done ? l->placed : l->placed + 1;
    sf.reason = (char *) nx->reason;
    sf.outcome = (char *) (nx->outcome ? nx->outcome : "");
    sf.number_index = nx->idx;
    ev.schedule = &sf;
    return s_emit_audit (self, tx, &ev, trace);
}

/* Adds the move effect for attempt `att` of lead l to tx. stats: NULL-terminated stats key
 * suffixes ("out:live", at most 2) to add the attempt to at stats_at, and, when seen_at > 0,
 * to "<suffix>:seen" at seen_at (when the dialer learnt it: the pacing report counts by both);
 * sets: NULL-terminated field/value pairs to set on the lead (at most 4 pairs). A finished lead
 * records its reason ("fin"). */
static int
s_move_effect (pl_inbox_tx_t *tx, const dialer_campaign_t *c, const char *lead_id, const s_lead_t *l,
               const char *expect, const s_next_t *nx, const char *const *sets,
               const char *const *stats, int64_t stats_at, int64_t seen_at)
{
    char k_dl[300], k_due[200], k_infl[200], k_resv[200], k_ag[200], k_ready[200], k_brg[200], k_stats[4][200],
        score[24], seen[24];
    s_lead_key (k_dl, sizeof k_dl, c->name, lead_id);
    s_key (k_due, sizeof k_due, c->name, "due");
    s_key (k_infl, sizeof k_infl, c->name, "inflight");
    s_key (k_resv, sizeof k_resv, c->name, "resv");
    s_key (k_ag, sizeof k_ag, c->name, "agents");
    s_key (k_ready, sizeof k_ready, c->name, "ready");
    s_key (k_brg, sizeof k_brg, c->name, "bridged");
    snprintf (score, sizeof score, "%lld", (long long) stats_at);
    snprintf (seen, sizeof seen, "%lld", (long long) seen_at);
    enum { NK0 = 7 };           /* the fixed keys; the stats keys follow */
    const char *keys[NK0 + 4] = { k_dl, k_due, k_infl, k_resv, k_ag, k_ready, k_brg };
    const char *scores[4];
    int nk = NK0;
    for (int i = 0; stats && stats[i] && nk < NK0 + 4; i++) {
        bool rem = stats[i][0] == '-';         /* "-out:placed": the attempt leaves that count */
        const char *name = stats[i] + (rem ? 1 : 0);
        s_key (k_stats[nk - NK0], sizeof k_stats[nk - NK0], c->name, name);
        scores[nk - NK0] = rem ? "rem" : score;
        keys[nk] = k_stats[nk - NK0];
        nk++;
        if (!rem && seen_at > 0 && nk < NK0 + 4) {
            char sfx[64];
            snprintf (sfx, sizeof sfx, "%s:seen", name);
            s_key (k_stats[nk - NK0], sizeof k_stats[nk - NK0], c->name, sfx);
            scores[nk - NK0] = seen;
            keys[nk] = k_stats[nk - NK0];
            nk++;
        }
    }
    char due[24] = "", idx[16], sched[16], ns[16];
    if (strcmp (nx->state, "queued") == 0)
        snprintf (due, sizeof due, "%lld", (long long) nx->due);
    snprintf (idx, sizeof idx, "%d", nx->idx);
    bool queued = strcmp (nx->state, "queued") == 0;
    snprintf (sched, sizeof sched, "%d", l->sched + (queued ? 1 : 0));
    snprintf (ns, sizeof ns, "%d", nk - NK0);
    const char *args[32] = { l->att, expect, nx->state, due, idx, sched, l->agent, nx->tries ? nx->tries : "",
                             l->att, score, ns };
    int na = 11;
    for (int i = NK0; i < nk; i++)
        args[na++] = scores[i - NK0];
    for (int i = 0; sets && sets[i] && sets[i + 1] && na < 28; i += 2) {
        args[na++] = sets[i];
        args[na++] = sets[i + 1];
    }
    if (strcmp (nx->state, "done") == 0) {
        args[na++] = "fin";
        args[na++] = nx->reason ? nx->reason : "";
    }
    return pl_inbox_tx_effect (tx, &s_move, nk, keys, na, args, NULL);
}

/* The next number of the lead, or finished with `reason`. */
static s_next_t
s_next_number (const s_lead_t *l, int64_t now, const char *reason, const char *outcome)
{
    s_next_t nx = { .state = "done", .idx = l->idx, .reason = reason, .outcome = outcome };
    if (l->idx + 1 < s_count_numbers (l->nums)) {
        nx.state = "queued";
        nx.idx = l->idx + 1;
        nx.due = now;
        nx.reason = "retry";
    }
    return nx;
}

/* ---- the history step and its entries --------------------------------------------------------- */

static void
s_entry (char *out, size_t size, int64_t at, const dialer_campaign_t *c, const char *debt, unsigned flags)
{
    snprintf (out, size, "%lld|%s|%s|%s|%u", (long long) at, c->tenant, c->name, debt ? debt : "", flags);
}

/* A debt history's entry: the number's, and the number called. */
static void
s_debt_entry (char *out, size_t size, int64_t at, const dialer_campaign_t *c, const char *debt, unsigned flags,
              const char *number)
{
    snprintf (out, size, "%lld|%s|%s|%s|%u|%s", (long long) at, c->tenant, c->name, debt ? debt : "", flags, number);
}

/* A history step (record and read, or set) on the history of hash tag `tag`: pl:{<tag>}:hist. */
static pl_inbox_tx_t *
s_hist_tx (const char *tag, const char *att, const char *entry, int64_t now, const pl_inbox_effect_t *fx)
{
    char key[320], keep[24], nows[24];
    snprintf (key, sizeof key, "pl:{%s}:hist", tag);
    snprintf (keep, sizeof keep, "%lld", S_HIST_KEEP_MS);
    snprintf (nows, sizeof nows, "%lld", (long long) now);
    pl_inbox_tx_t *tx = pl_inbox_tx_new (tag, NULL);
    const char *keys[1] = { key };
    const char *args[4] = { att, entry, keep, nows };
    if (tx && pl_inbox_tx_effect (tx, fx, 1, keys, fx == &s_history ? 4 : 2, args, NULL) != 0)
        pl_inbox_tx_destroy (&tx);
    return tx;
}

/* The number's contact history: every campaign's calls to it. */
static pl_inbox_tx_t *
s_history_tx (const char *number, const char *att, const char *entry, int64_t now, const pl_inbox_effect_t *fx)
{
    char tag[64];
    snprintf (tag, sizeof tag, "num:%s", number);
    return s_hist_tx (tag, att, entry, now, fx);
}

/* The debt's contact history, every number of it (Regulation F counts calls about a debt, to
 * whichever number): the same entries with the number last, under the debt's hash tag (the
 * hold's). Its own step beside the number's: each step records its claim and reads the rest, so
 * of two claims on two numbers of one debt the later sees the earlier. */
static pl_inbox_tx_t *
s_debt_history_tx (const char *tenant, const char *debt, const char *att, const char *entry, int64_t now,
                   const pl_inbox_effect_t *fx)
{
    char tag[300];
    snprintf (tag, sizeof tag, "debt:%s|%s", tenant, debt);
    return s_hist_tx (tag, att, entry, now, fx);
}

/* Runs one step alone: 0 or a negative code. */
static int
s_apply1 (dialer_t *self, pl_inbox_tx_t *tx)
{
    int applied = 0;
    return tx ? pl_inbox_apply (self->inbox, &tx, 1, &applied) : PL_ENOMEM;
}

/* Updates (flags) or removes (entry NULL) an attempt's history entry, the number's and the
 * debt's. Best effort: a failure leaves a claim counted, the stricter reading. */
static void
s_history_update (dialer_t *self, const char *number, const char *att, const dialer_campaign_t *c,
                  const char *debt, int64_t at, unsigned flags, bool remove)
{
    char entry[400] = "";
    if (!remove)
        s_entry (entry, sizeof entry, at, c, debt, flags);
    pl_inbox_tx_t *tx = s_history_tx (number, att, entry, at, &s_history_set);
    if (s_apply1 (self, tx) != 0)
        pl_log_warn (self->o.log, NULL, "contact history not updated", "attempt", att);
    pl_inbox_tx_destroy (&tx);
    if (!debt || !*debt)
        return;
    if (!remove)
        s_debt_entry (entry, sizeof entry, at, c, debt, flags, number);
    tx = s_debt_history_tx (c->tenant, debt, att, entry, at, &s_history_set);
    if (s_apply1 (self, tx) != 0)
        pl_log_warn (self->o.log, NULL, "debt contact history not updated", "attempt", att);
    pl_inbox_tx_destroy (&tx);
}

/* ---- construction ------------------------------------------------------------------------------ */

dialer_t *
dialer_new (const dialer_opts_t *o)
{
    dialer_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->o = *o;
    if (self->o.batch <= 0)
        self->o.batch = 200;
    self->inbox = pl_inbox_new (o->redis, o->service, 0);
    self->scrub = pl_outbox_new (o->redis, o->replica, "scrub");
    self->telephony = pl_outbox_new (o->redis, o->replica, "telephony");
    self->promise = pl_outbox_new (o->redis, o->replica, "promise");
    self->audit = o->audit ? pl_outbox_new (o->redis, o->replica, "audit") : NULL;
    s_refresh (self);
    if (!self->inbox || !self->scrub || !self->telephony || !self->promise || (o->audit && !self->audit)
        || !self->camps) {
        dialer_destroy (&self);
        return NULL;
    }
    self->m_steps = pl_metrics_counter (o->metrics, "plateau_dialer_steps_total",
                                        "Dial steps by kind and result", "step,result");
    self->m_calls = pl_metrics_counter (o->metrics, "plateau_dialer_calls_total",
                                        "Call outcomes by campaign and result", "campaign,result");
    self->m_lines = pl_metrics_gauge (o->metrics, "plateau_dialer_lines_in_flight",
                                      "Attempts between claim and end, per campaign this replica paces", "campaign");
    self->m_queue = pl_metrics_gauge (o->metrics, "plateau_dialer_queue_depth",
                                      "Leads queued, due or not, per campaign this replica paces", "campaign");
    self->m_rate = pl_metrics_gauge (o->metrics, "plateau_dialer_abandon_rate",
                                     "Abandoned / live-answered over the legal period, by the legal definition", "campaign");
    self->m_agents = pl_metrics_gauge (o->metrics, "plateau_dialer_agents",
                                       "Agents by state, per campaign this replica paces", "campaign,state");
    /* Occupancy over any window is (on_call + wrap_up) / (ready + on_call + wrap_up) of this
     * counter: seconds of the service clock, counted when an agent leaves a state. */
    self->m_agent_time = pl_metrics_counter (o->metrics, "plateau_dialer_agent_seconds_total",
                                             "Agent time by campaign and the state it was spent in", "campaign,state");
    static const double waits[] = { 1, 2, 5, 10, 15, 20, 30, 45, 60, 120, 300 };
    self->m_wait = pl_metrics_histogram (o->metrics, "plateau_dialer_agent_wait_seconds",
                                         "How long a ready agent waited for its next call", "campaign", waits,
                                         sizeof waits / sizeof *waits);
    self->m_answer = pl_metrics_gauge (o->metrics, "plateau_dialer_answer_rate",
                                       "Answered / placed over the pacing's recent window", "campaign");
    self->m_paused = pl_metrics_gauge (o->metrics, "plateau_dialer_paused",
                                       "1 while an operator has paused the campaign", "campaign");
    return self;
}

void
dialer_destroy (dialer_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    dialer_t *self = *self_p;
    pl_inbox_destroy (&self->inbox);
    pl_outbox_destroy (&self->scrub);
    pl_outbox_destroy (&self->telephony);
    pl_outbox_destroy (&self->promise);
    pl_outbox_destroy (&self->audit);
    pl_redis_script_destroy (&self->lease);
    pl_redis_script_destroy (&self->agents_rebuild);
    free (self->camps);
    free (self);
    *self_p = NULL;
}

/* ---- the bus door ------------------------------------------------------------------------------ */

static void
s_ack_or (pl_bus_msg_t *m, int rc, const char *what)
{
    if (rc == 0)
        pl_bus_msg_ack (m);
    else
        pl_bus_msg_nack (m, PLATEAU__V1__NACK__CODE__UNAVAILABLE, what, 500);
}

/* The step that applies tx for message m, and its answer. */
static void
s_apply_msg (dialer_t *self, pl_bus_msg_t *m, pl_inbox_tx_t *tx, const char *step)
{
    int applied = 0;
    int rc = tx ? pl_inbox_apply (self->inbox, &tx, 1, &applied) : PL_ENOMEM;
    char labels[64];
    snprintf (labels, sizeof labels, "%s,%s", step, rc == 0 ? "ok" : "failed");
    pl_metric_inc (self->m_steps, labels, 1);
    s_ack_or (m, rc, "redis unavailable");
}

static int
s_read_lead (dialer_t *self, const dialer_campaign_t *c, const char *lead_id, s_lead_t *l)
{
    char key[300];
    s_lead_key (key, sizeof key, c->name, lead_id);
    s_append_hmget (self->o.redis, key);
    pl_reply_t *r = NULL;
    if (pl_redis_get_reply (self->o.redis, &r) != 0)
        return PL_EREDIS;
    int rc = s_lead_read (r, l);
    pl_reply_free (&r);
    return rc;
}

static int64_t
s_defer_of (Plateau__V1__RuleHit **rules, size_t n, const char **rule)
{
    int64_t until = 0;
    for (size_t i = 0; i < n; i++)
        if (rules[i]->defer_until_ms > until) {
            until = rules[i]->defer_until_ms;
            if (rule)
                *rule = rules[i]->rule_id;
        }
    return until;
}

static void
s_on_cleared (dialer_t *self, pl_bus_msg_t *m, const pl_envelope_t *env)
{
    const Plateau__V1__LeadCleared *lc = env->lead_cleared;
    const Plateau__V1__Lead *lead = lc->lead;
    s_camp_t *sc = lead ? s_camp (self, lead->campaign) : NULL;
    if (!lead || !lead->id || !*lead->id || strlen (lead->id) > 64 || !lead->phone) {
        pl_bus_msg_nack (m, PLATEAU__V1__NACK__CODE__INVALID, "lead without id (64 bytes at most) or phone", 0);
        return;
    }
    if (!sc) {
        pl_bus_msg_nack (m, PLATEAU__V1__NACK__CODE__INVALID, "campaign not configured in the dialer", 0);
        return;
    }
    const dialer_campaign_t *c = sc->c;
    int64_t now = pl_clock_now_ms (self->o.clock);
    /* The lead's numbers in its order, those scrub cleared only; due when the first may be. */
    char nums[S_MAX_NUMS * 24] = "";
    int64_t due = now;
    int k = 0;
    const Plateau__V1__PhoneNumber *all[S_MAX_NUMS];
    size_t na = 0;
    all[na++] = lead->phone;
    for (size_t i = 0; i < lead->n_alt_phones && na < S_MAX_NUMS; i++)
        all[na++] = lead->alt_phones[i];
    for (size_t i = 0; i < na; i++) {
        const char *e = all[i]->e164;
        for (size_t j = 0; e && *e && j < lc->n_verdicts; j++) {
            const Plateau__V1__ScrubVerdict *v = lc->verdicts[j];
            if (!v->number || strcmp (v->number, e) != 0 || v->decision == PLATEAU__V1__DECISION__DENY)
                continue;
            if (k == 0) {
                int64_t d = s_defer_of (v->rules, v->n_rules, NULL);
                if (v->decision == PLATEAU__V1__DECISION__DEFER && d > due)
                    due = d;
            }
            size_t u = strlen (nums);
            snprintf (nums + u, sizeof nums - u, "%s%s", k ? "," : "", e);
            k++;
            break;
        }
    }
    if (k == 0) {
        pl_bus_msg_nack (m, PLATEAU__V1__NACK__CODE__INVALID, "no number of the lead was cleared", 0);
        return;
    }
    /* The queue keeps what a dial needs — the numbers and their zones, the country, state and
     * postal code, consents, the debt, the callee's kind, the list's age, the trace — and not
     * who the person is: the name, address, e-mail, the CRM's id and free fields stay with the
     * intake (data minimisation, GDPR art. 5(1)(c); and bytes of Redis for every queued lead,
     * ADR 0071). */
    Plateau__V1__Lead kept = *lead;
    kept.first_name = kept.last_name = kept.address = kept.email = kept.external_id = "";
    kept.n_custom = 0;
    kept.custom = NULL;
    size_t len = plateau__v1__lead__get_packed_size (&kept);
    uint8_t *pb = malloc (len ? len : 1);
    if (!pb) {
        s_ack_or (m, PL_ENOMEM, "out of memory");
        return;
    }
    plateau__v1__lead__pack (&kept, pb);
    char tag[96], k_dl[300], k_due[200], dues[24];
    s_tag (tag, sizeof tag, c->name);
    s_lead_key (k_dl, sizeof k_dl, c->name, lead->id);
    s_key (k_due, sizeof k_due, c->name, "due");
    snprintf (dues, sizeof dues, "%lld", (long long) due);
    pl_inbox_tx_t *tx = pl_inbox_tx_new (tag, env->id);
    const char *keys[2] = { k_dl, k_due };
    const char *args[4] = { (const char *) pb, nums, dues, lead->id };
    size_t lens[4] = { len, strlen (nums), strlen (dues), strlen (lead->id) };
    int rc = tx ? pl_inbox_tx_effect (tx, &s_enqueue, 2, keys, 4, args, lens) : PL_ENOMEM;
    /* The number → leads index that `why <number>` reads: written just before the step, harmless
     * alone (it names a lead the step then stores, or one already stored). A hash of empty
     * values rather than a set: Redis 7.0 keeps a small hash as a listpack (about 90 bytes for
     * one lead) but a set of strings as a hashtable (232). */
    char member[200];
    snprintf (member, sizeof member, "%s/%s", c->name, lead->id);
    for (int i = 0; rc == 0 && i < k; i++) {
        char e[24], ikey[96];
        if (!s_number (nums, i, e))
            continue;
        snprintf (ikey, sizeof ikey, "pl:{num:%s}:ld", e);
        const char *argv[4] = { "HSET", ikey, member, "" };
        rc = pl_inbox_tx_before (tx, 4, argv, NULL);
    }
    s_lead_t l = { .nums = "", .sched = 0 };
    snprintf (l.nums, sizeof l.nums, "%s", nums);
    s_next_t nx = { .state = "queued", .due = due, .idx = 0, .reason = "cleared", .outcome = "" };
    if (rc == 0)
        rc = s_schedule_event (self, tx, c, lead->id, &l, &nx, now, env->trace_id);
    free (pb);
    if (rc != 0) {
        pl_inbox_tx_destroy (&tx);
        s_ack_or (m, rc, "cannot build the step");
        return;
    }
    s_apply_msg (self, m, tx, "enqueue");
    pl_inbox_tx_destroy (&tx);
}

/* The attempt id's lead: "<lead>.<n>". */
static bool
s_lead_of (const char *att, char *out, size_t size)
{
    const char *dot = att ? strrchr (att, '.') : NULL;
    if (!dot || dot == att || (size_t) (dot - att) >= size)
        return false;
    memcpy (out, att, (size_t) (dot - att));
    out[dot - att] = '\0';
    return true;
}

static void
s_on_result (dialer_t *self, pl_bus_msg_t *m, const pl_envelope_t *env)
{
    const Plateau__V1__DialCheckResult *r = env->dial_check_result;
    s_camp_t *sc = s_camp (self, r->campaign);
    char lead_id[160];
    if (!sc || !s_lead_of (r->check_id, lead_id, sizeof lead_id)) {
        pl_bus_msg_nack (m, PLATEAU__V1__NACK__CODE__INVALID, "unknown campaign or check id", 0);
        return;
    }
    const dialer_campaign_t *c = sc->c;
    s_lead_t l;
    int rc = s_read_lead (self, c, lead_id, &l);
    if (rc == PL_ENOTFOUND || (rc == 0 && (strcmp (l.state, "checking") || strcmp (l.att, r->check_id)))) {
        s_lead_free (&l);
        pl_bus_msg_ack (m);             /* an answer to an attempt already moved on */
        return;
    }
    if (rc != 0) {
        s_ack_or (m, rc, "redis unavailable");
        return;
    }
    int64_t now = pl_clock_now_ms (self->o.clock);
    char number[24] = "";
    s_number (l.nums, l.idx, number);
    char tag[96];
    s_tag (tag, sizeof tag, c->name);
    pl_inbox_tx_t *tx = pl_inbox_tx_new (tag, env->id);
    rc = tx ? 0 : PL_ENOMEM;
    bool placed = false;
    const char *rule = "";
    /* What the last check said, for GET /v1/leads/{id}/why: decision, deciding rule, until, zone. */
    const char *last_rule = "";
    int64_t last_until = r->decision == PLATEAU__V1__DECISION__ALLOW ? r->allowed_until_ms : r->defer_until_ms;
    for (size_t i = 0; i < r->n_rules && !*last_rule; i++)
        if (r->rules[i]->rule_id && (r->decision == PLATEAU__V1__DECISION__ALLOW || r->rules[i]->defer_until_ms
                                     || r->decision == PLATEAU__V1__DECISION__DENY))
            last_rule = r->rules[i]->rule_id;
    if (r->decision == PLATEAU__V1__DECISION__DEFER)
        s_defer_of (r->rules, r->n_rules, &last_rule);
    char last[256];
    snprintf (last, sizeof last, "%s %s %lld %s %lld",
              r->decision == PLATEAU__V1__DECISION__ALLOW ? "allow"
              : r->decision == PLATEAU__V1__DECISION__DENY ? "deny" : "defer",
              *last_rule ? last_rule : "-", (long long) last_until, r->binding_zone && *r->binding_zone ? r->binding_zone : "-",
              (long long) r->evaluated_at_ms);
    bool fresh = now < r->evaluated_at_ms + S_CHECK_FRESH_MS
                 || (l.wall && pl_clock_now_ms (NULL) < l.wall + S_CHECK_FRESH_WALL_MS);
    if (r->decision == PLATEAU__V1__DECISION__ALLOW && fresh
        && (r->allowed_until_ms == 0 || now < r->allowed_until_ms)) {
        s_next_t nx = { .state = "placed", .idx = l.idx, .tries = "placed" };
        const char *stats[] = { "out:placed", NULL };
        rc = rc ? rc : s_move_effect (tx, c, lead_id, &l, "checking", &nx, (const char *[]) { "zone", r->binding_zone, "last", last, NULL }, stats, now, 0);
        Plateau__V1__CallRequest cr = PLATEAU__V1__CALL_REQUEST__INIT;
        cr.dial_id = l.att;
        cr.lead_id = lead_id;
        cr.campaign = (char *) c->name;
        cr.number = number;
        cr.caller_id = (char *) c->cli;
        cr.ring_timeout_s = c->ring_timeout_s;
        cr.agent_id = l.agent;
        cr.tenant = (char *) c->tenant;
        cr.requested_at_ms = now;
        cr.place_before_ms = r->allowed_until_ms;
        cr.amd = c->amd;
        cr.kind = c->kind;
        char debt[128];
        s_lead_debt (&l, debt, sizeof debt, NULL, 0);
        cr.debt = debt;
        pl_envelope_t out;
        pl_envelope_ids_t ids;
        char id[200];
        pl_envelope_init (&out, &ids, self->o.service, self->o.clock, env->trace_id);
        snprintf (id, sizeof id, "%s.call", l.att);
        out.id = id;
        out.body_case = PLATEAU__V1__ENVELOPE__BODY_CALL_REQUEST;
        out.call_request = &cr;
        if (rc == 0)
            rc = pl_inbox_tx_emit (tx, self->telephony, &out);
        Plateau__V1__AuditEvent ev;
        Plateau__V1__CallFacts cf = PLATEAU__V1__CALL_FACTS__INIT;
        snprintf (id, sizeof id, "%s.requested", l.att);
        s_event (self, &ev, "call.requested", id, now, c, lead_id, number, l.att);
        ev.dial_mode = l.dialled_manually ? PLATEAU__V1__DIAL_MODE__MANUAL : PLATEAU__V1__DIAL_MODE__AUTODIALED;
        ev.caller_id = (char *) c->cli;
        ev.zone = r->binding_zone;
        ev.evaluated_at_ms = r->evaluated_at_ms;
        cf.requested_at_ms = now;
        cf.place_before_ms = r->allowed_until_ms;
        cf.ring_timeout_ms = c->ring_timeout_s * 1000;
        cf.agent_id = l.agent;
        ev.call = &cf;
        if (rc == 0)
            rc = s_emit_audit (self, tx, &ev, env->trace_id);
        placed = true;
    }
    else {
        s_next_t nx;
        if (r->decision == PLATEAU__V1__DECISION__DENY) {
            for (size_t i = 0; i < r->n_rules; i++)
                if (r->rules[i]->defer_until_ms == 0 && r->rules[i]->rule_id && *r->rules[i]->rule_id) {
                    rule = r->rules[i]->rule_id;
                    break;
                }
            nx = s_next_number (&l, now, "denied", rule);
        }
        else if (r->decision == PLATEAU__V1__DECISION__DEFER && r->defer_until_ms > now) {
            s_defer_of (r->rules, r->n_rules, &rule);
            nx = (s_next_t) { .state = "queued", .due = r->defer_until_ms, .idx = l.idx, .reason = "deferred",
                              .outcome = rule };
        }
        else    /* allowed but too late to place, or a deferral already over: check again now */
            nx = (s_next_t) { .state = "queued", .due = now, .idx = l.idx, .reason = "deferred",
                              .outcome = "stale-check" };
        /* Not placed: the attempt id stays used (ids are never reused); the placed count, which
         * max-attempts reads, does not move. */
        rc = rc ? rc : s_move_effect (tx, c, lead_id, &l, "checking", &nx, (const char *[]) { "last", last, NULL }, NULL, now, 0);
        if (rc == 0)
            rc = s_schedule_event (self, tx, c, lead_id, &l, &nx, now, env->trace_id);
    }
    if (rc != 0) {
        pl_inbox_tx_destroy (&tx);
        s_lead_free (&l);
        s_ack_or (m, rc, "cannot build the step");
        return;
    }
    int applied = 0;
    rc = pl_inbox_apply (self->inbox, &tx, 1, &applied);
    size_t rlen = 0;
    const char *reply = pl_inbox_tx_reply (tx, &rlen);
    bool moved = rc == 0 && applied == 1 && reply && strcmp (reply, "ok") == 0;
    pl_inbox_tx_destroy (&tx);
    if (moved && !placed) {     /* not placed: the attempt leaves the histories */
        char debt[128];
        s_lead_debt (&l, debt, sizeof debt, NULL, 0);
        s_history_update (self, number, l.att, c, debt, now, 0, true);
    }
    char labels[64];
    snprintf (labels, sizeof labels, "%s,%s", placed ? "place" : "void", rc == 0 ? "ok" : "failed");
    pl_metric_inc (self->m_steps, labels, 1);
    s_lead_free (&l);
    s_ack_or (m, rc, "redis unavailable");
}

static const char *
s_result_name (int r)
{
    switch (r) {
    case PLATEAU__V1__CALL_OUTCOME__RESULT__ANSWERED: return "answered";
    case PLATEAU__V1__CALL_OUTCOME__RESULT__BUSY: return "busy";
    case PLATEAU__V1__CALL_OUTCOME__RESULT__NO_ANSWER: return "no_answer";
    case PLATEAU__V1__CALL_OUTCOME__RESULT__VOICEMAIL: return "voicemail";
    case PLATEAU__V1__CALL_OUTCOME__RESULT__ABANDONED: return "abandoned";
    case PLATEAU__V1__CALL_OUTCOME__RESULT__FAILED: return "failed";
    case PLATEAU__V1__CALL_OUTCOME__RESULT__INVALID_NUMBER: return "invalid_number";
    default: return "";
    }
}

/* The retry policy after an unanswered, failed, machine or abandoned attempt. */
static s_next_t
s_retry (const dialer_campaign_t *c, const s_lead_t *l, dialer_retry_kind_t kind, const char *outcome, int64_t now)
{
    static const char *fields[DIALER_RETRY_N] = { "r:busy", "r:no-answer", "r:voicemail", "r:abandoned", "r:failed" };
    int placed = l->placed;            /* this attempt included (counted when placed) */
    if (placed >= c->max_attempts) {
        s_next_t nx = { .state = "done", .idx = l->idx, .reason = "max_attempts", .outcome = outcome };
        nx.tries = fields[kind];
        return nx;
    }
    if (l->tries[kind] + 1 >= c->retry[kind].max || c->retry[kind].max == 0) {
        s_next_t nx = s_next_number (l, now, "max_attempts", outcome);
        nx.tries = fields[kind];
        return nx;
    }
    s_next_t nx = { .state = "queued", .due = now + c->retry[kind].delay_ms, .idx = l->idx, .reason = "retry",
                    .outcome = outcome, .tries = fields[kind] };
    return nx;
}

static void
s_on_outcome (dialer_t *self, pl_bus_msg_t *m, const pl_envelope_t *env)
{
    const Plateau__V1__CallOutcome *o = env->call_outcome;
    s_camp_t *sc = s_camp (self, o->campaign);
    char lead_id[160];
    if (!sc || !s_lead_of (o->dial_id, lead_id, sizeof lead_id) || !*s_result_name (o->result)) {
        pl_bus_msg_nack (m, PLATEAU__V1__NACK__CODE__INVALID, "unknown campaign, dial id or result", 0);
        return;
    }
    const dialer_campaign_t *c = sc->c;
    s_lead_t l;
    int rc = s_read_lead (self, c, lead_id, &l);
    if (rc == PL_ENOTFOUND || (rc == 0 && (strcmp (l.state, "placed") || strcmp (l.att, o->dial_id)))) {
        s_lead_free (&l);
        pl_bus_msg_ack (m);             /* a resend, or an outcome of an attempt never placed */
        return;
    }
    if (rc != 0) {
        s_ack_or (m, rc, "redis unavailable");
        return;
    }
    int64_t now = pl_clock_now_ms (self->o.clock);
    const char *res = s_result_name (o->result);
    s_next_t nx;
    const char *stats[3] = { NULL };
    unsigned flags = 0;
    /* Abandon counts go by the instant the call was placed, as the legal periods (and the
     * checker) count them. */
    int64_t at = o->started_at_ms ? o->started_at_ms : now;
    switch (o->result) {
    case PLATEAU__V1__CALL_OUTCOME__RESULT__ANSWERED:
        nx = (s_next_t) { .state = "talking", .idx = l.idx };
        stats[0] = "out:live";
        break;
    case PLATEAU__V1__CALL_OUTCOME__RESULT__ABANDONED:
        nx = s_retry (c, &l, DIALER_RETRY_ABANDONED, res, now);
        stats[0] = "out:live";
        stats[1] = "out:aband";
        flags = PLATEAU__V1__CONTACT_ENTRY__FLAG__ABANDONED;
        break;
    case PLATEAU__V1__CALL_OUTCOME__RESULT__VOICEMAIL:
        nx = s_retry (c, &l, DIALER_RETRY_VOICEMAIL, res, now);
        stats[0] = "out:machine";
        flags = PLATEAU__V1__CONTACT_ENTRY__FLAG__MACHINE;
        break;
    case PLATEAU__V1__CALL_OUTCOME__RESULT__BUSY:
        nx = s_retry (c, &l, DIALER_RETRY_BUSY, res, now);
        break;
    case PLATEAU__V1__CALL_OUTCOME__RESULT__NO_ANSWER:
        nx = s_retry (c, &l, DIALER_RETRY_NO_ANSWER, res, now);
        break;
    case PLATEAU__V1__CALL_OUTCOME__RESULT__FAILED:
        nx = s_retry (c, &l, DIALER_RETRY_FAILED, res, now);
        /* Never placed (too late, or its reserved agent gone: docs/telephony.md): out of the
         * placed calls, whose share answered the pacing divides by. */
        if (o->started_at_ms == 0)
            stats[0] = "-out:placed";
        break;
    default:    /* invalid number: the next one, never again this one */
        nx = s_next_number (&l, now, "no_number", res);
        break;
    }
    char tag[96];
    s_tag (tag, sizeof tag, c->name);
    pl_inbox_tx_t *tx = pl_inbox_tx_new (tag, env->id);
    rc = tx ? s_move_effect (tx, c, lead_id, &l, "placed", &nx, (const char *[]) { "result", res, NULL }, stats, at, now) : PL_ENOMEM;
    char number[24] = "", id[200];
    s_number (l.nums, l.idx, number);
    Plateau__V1__AuditEvent ev;
    Plateau__V1__CallFacts cf = PLATEAU__V1__CALL_FACTS__INIT;
    snprintf (id, sizeof id, "%s.outcome", l.att);
    s_event (self, &ev, "call.outcome", id, now, c, lead_id, number, l.att);
    ev.zone = l.zone;
    cf.result = (char *) res;
    cf.placed_at_ms = o->started_at_ms;
    cf.answered_at_ms = o->answered_at_ms;
    cf.ended_at_ms = o->ended_at_ms;
    int64_t ring_end = o->answered_at_ms ? o->answered_at_ms : o->ended_at_ms;
    cf.ring_ms = o->started_at_ms && ring_end > o->started_at_ms ? (int32_t) (ring_end - o->started_at_ms) : 0;
    cf.time_to_agent_ms = o->answered_at_ms ? o->agent_connect_ms : -1;
    cf.agent_id = o->agent_id;
    ev.call = &cf;
    if (rc == 0)
        rc = s_emit_audit (self, tx, &ev, env->trace_id);
    if (rc == 0)
        rc = s_schedule_event (self, tx, c, lead_id, &l, &nx, now, env->trace_id);
    if (rc != 0) {
        pl_inbox_tx_destroy (&tx);
        s_lead_free (&l);
        s_ack_or (m, rc, "cannot build the step");
        return;
    }
    int applied = 0;
    rc = pl_inbox_apply (self->inbox, &tx, 1, &applied);
    pl_inbox_tx_destroy (&tx);
    if (rc == 0 && flags) {
        char debt[128];
        s_lead_debt (&l, debt, sizeof debt, NULL, 0);
        s_history_update (self, number, l.att, c, debt, l.at ? l.at : now, flags, false);
    }
    char labels[160];
    snprintf (labels, sizeof labels, "%s,%s", c->name, res);
    if (rc == 0)
        pl_metric_inc (self->m_calls, labels, 1);
    s_lead_free (&l);
    s_ack_or (m, rc, "redis unavailable");
}

static const char *
s_code_name (int code)
{
    switch (code) {
    case PLATEAU__V1__DISPOSITION__CODE__SALE: return "sale";
    case PLATEAU__V1__DISPOSITION__CODE__NOT_INTERESTED: return "not_interested";
    case PLATEAU__V1__DISPOSITION__CODE__REFUSED: return "refused";
    case PLATEAU__V1__DISPOSITION__CODE__DO_NOT_CALL: return "do_not_call";
    case PLATEAU__V1__DISPOSITION__CODE__CALLBACK: return "callback";
    case PLATEAU__V1__DISPOSITION__CODE__PROMISE_TO_PAY: return "promise_to_pay";
    case PLATEAU__V1__DISPOSITION__CODE__WRONG_NUMBER: return "wrong_number";
    case PLATEAU__V1__DISPOSITION__CODE__DISPUTE: return "dispute";
    case PLATEAU__V1__DISPOSITION__CODE__CONVERSATION: return "conversation";
    default: return "";
    }
}

int
dialer_disposition (dialer_t *self, const Plateau__V1__Disposition *d, const char *step_id, const char *trace)
{
    s_refresh (self);
    s_camp_t *sc = s_camp (self, d->campaign);
    char lead_id[160];
    const char *code = s_code_name (d->code);
    if (!sc || !s_lead_of (d->dial_id, lead_id, sizeof lead_id) || !*code)
        return PL_EINVAL;
    const dialer_campaign_t *c = sc->c;
    s_lead_t l;
    int rc = s_read_lead (self, c, lead_id, &l);
    if (rc == 0 && strcmp (l.att, d->dial_id) == 0 && strcmp (l.state, "placed") == 0) {
        /* The outcome of the call has not arrived yet: later. */
        s_lead_free (&l);
        return PL_EAGAIN;
    }
    if (rc == PL_ENOTFOUND || (rc == 0 && (strcmp (l.state, "talking") || strcmp (l.att, d->dial_id)))) {
        s_lead_free (&l);
        return PL_ENOTFOUND;
    }
    if (rc != 0)
        return rc;
    int64_t now = pl_clock_now_ms (self->o.clock);
    char debt[128], creditor[128];
    s_lead_debt (&l, debt, sizeof debt, creditor, sizeof creditor);
    char number[24] = "", id[200];
    s_number (l.nums, l.idx, number);
    s_next_t nx = { .state = "done", .idx = l.idx, .reason = "contacted", .outcome = code };
    unsigned flags = PLATEAU__V1__CONTACT_ENTRY__FLAG__CONVERSATION;
    bool dnc = false, promise = false, refusal = false;
    switch (d->code) {
    case PLATEAU__V1__DISPOSITION__CODE__REFUSED:
        flags |= PLATEAU__V1__CONTACT_ENTRY__FLAG__REFUSAL;
        refusal = true;
        nx.reason = "refused";
        break;
    case PLATEAU__V1__DISPOSITION__CODE__DO_NOT_CALL:
        flags |= PLATEAU__V1__CONTACT_ENTRY__FLAG__REFUSAL;
        dnc = true;
        nx.reason = "do_not_call";
        break;
    case PLATEAU__V1__DISPOSITION__CODE__CALLBACK:
        if (d->callback_at_ms > 0 && l.placed < c->max_attempts)
            nx = (s_next_t) { .state = "queued", .due = d->callback_at_ms > now ? d->callback_at_ms : now,
                              .idx = l.idx, .reason = "callback", .outcome = code, .callback = true };
        break;
    case PLATEAU__V1__DISPOSITION__CODE__WRONG_NUMBER:
        flags = 0;
        nx = s_next_number (&l, now, "wrong_number", code);
        break;
    case PLATEAU__V1__DISPOSITION__CODE__PROMISE_TO_PAY:
        promise = true;
        break;
    default:
        break;
    }
    char tag[96];
    s_tag (tag, sizeof tag, c->name);
    pl_inbox_tx_t *tx = pl_inbox_tx_new (tag, step_id);
    rc = tx ? s_move_effect (tx, c, lead_id, &l, "talking", &nx, (const char *[]) { "cb", nx.callback ? "1" : "0", "code", code, NULL }, NULL, now, 0)
            : PL_ENOMEM;
    Plateau__V1__AuditEvent ev;
    Plateau__V1__DispositionFacts df = PLATEAU__V1__DISPOSITION_FACTS__INIT;
    snprintf (id, sizeof id, "%s.disposition", l.att);
    s_event (self, &ev, "call.disposition", id, d->at_ms ? d->at_ms : now, c, lead_id, number, l.att);
    ev.actor = d->agent_id;
    df.code = (char *) code;
    df.conversation = flags & PLATEAU__V1__CONTACT_ENTRY__FLAG__CONVERSATION;
    df.refusal = refusal;
    df.do_not_call = dnc;
    df.promise = promise;
    df.callback_at_ms = d->callback_at_ms;
    df.agent_id = d->agent_id;
    ev.disposition = &df;
    if (rc == 0)
        rc = s_emit_audit (self, tx, &ev, trace);
    if (rc == 0)
        rc = s_schedule_event (self, tx, c, lead_id, &l, &nx, now, trace);
    pl_envelope_t out;
    pl_envelope_ids_t ids;
    if (rc == 0 && dnc) {
        Plateau__V1__OptOutRequest oo = PLATEAU__V1__OPT_OUT_REQUEST__INIT;
        oo.request_id = (char *) (step_id ? step_id : l.att);
        oo.number = number;
        oo.tenant = (char *) c->tenant;
        oo.debt_ref = "";               /* a request not to be called covers every debt */
        oo.channel = "phone";
        oo.requested_at_ms = d->at_ms ? d->at_ms : now;
        oo.lead_id = lead_id;
        oo.attempt_id = l.att;
        oo.campaign = (char *) c->name;
        oo.agent_id = d->agent_id;
        pl_envelope_init (&out, &ids, self->o.service, self->o.clock, trace);
        snprintf (id, sizeof id, "%s.optout", l.att);
        out.id = id;
        out.body_case = PLATEAU__V1__ENVELOPE__BODY_OPT_OUT_REQUEST;
        out.opt_out_request = &oo;
        rc = pl_inbox_tx_emit (tx, self->scrub, &out);
    }
    if (rc == 0 && promise && *debt) {         /* the debt's other leads wait while it runs */
        char pid[200];
        snprintf (pid, sizeof pid, "%s.promise", l.att);
        rc = s_hold_before (tx, c->tenant, debt, pid, d->promise_due_ms + S_HOLD_AFTER_DUE_MS, now);
    }
    if (rc == 0 && promise) {
        Plateau__V1__PromiseMade pm = PLATEAU__V1__PROMISE_MADE__INIT;
        Plateau__V1__Instalment in = PLATEAU__V1__INSTALMENT__INIT, *ins[1] = { &in };
        char pid[200];
        snprintf (pid, sizeof pid, "%s.promise", l.att);
        pm.promise_id = pid;
        pm.lead_id = lead_id;
        pm.account_ref = (char *) debt;
        pm.campaign = (char *) c->name;
        in.due_at_ms = d->promise_due_ms;
        in.amount = d->promise_amount;
        pm.n_instalments = 1;
        pm.instalments = ins;
        pm.agent_id = d->agent_id;
        pm.dial_id = l.att;
        pm.made_at_ms = d->at_ms ? d->at_ms : now;
        pm.number = number;
        pm.tenant = (char *) c->tenant;
        pm.creditor = creditor;
        pm.zone = l.zone;
        pl_envelope_init (&out, &ids, self->o.service, self->o.clock, trace);
        out.id = pid;
        out.body_case = PLATEAU__V1__ENVELOPE__BODY_PROMISE_MADE;
        out.promise_made = &pm;
        rc = pl_inbox_tx_emit (tx, self->promise, &out);
    }
    if (rc == 0 && self->o.promise && *debt && (flags & PLATEAU__V1__CONTACT_ENTRY__FLAG__CONVERSATION)) {
        /* A right-party contact on a debt: the promise service counts them for its KPIs
         * (promises per right-party contact, by campaign and agent). Only to a promise service
         * that is configured: unlike a promise, which waits in the outbox for one to come, a
         * contact is a count, and one for every conversation would pile up unread. */
        Plateau__V1__Disposition rp = PLATEAU__V1__DISPOSITION__INIT;
        rp.dial_id = l.att;
        rp.lead_id = lead_id;
        rp.campaign = (char *) c->name;
        rp.code = d->code;
        rp.agent_id = d->agent_id;
        rp.at_ms = d->at_ms ? d->at_ms : now;
        rp.tenant = (char *) c->tenant;
        char rid[200];
        snprintf (rid, sizeof rid, "%s.contact", l.att);
        pl_envelope_init (&out, &ids, self->o.service, self->o.clock, trace);
        out.id = rid;
        out.body_case = PLATEAU__V1__ENVELOPE__BODY_DISPOSITION;
        out.disposition = &rp;
        rc = pl_inbox_tx_emit (tx, self->promise, &out);
    }
    if (rc != 0) {
        pl_inbox_tx_destroy (&tx);
        s_lead_free (&l);
        return rc;
    }
    int applied = 0;
    rc = pl_inbox_apply (self->inbox, &tx, 1, &applied);
    pl_inbox_tx_destroy (&tx);
    if (rc == 0 && flags)       /* the attempt's history entry now says what the conversation was */
        s_history_update (self, number, l.att, c, debt, l.at ? l.at : now, flags, false);
    s_lead_free (&l);
    return rc;
}

static void
s_on_disposition (dialer_t *self, pl_bus_msg_t *m, const pl_envelope_t *env)
{
    int rc = dialer_disposition (self, env->disposition, env->id, env->trace_id);
    if (rc == 0 || rc == PL_ENOTFOUND)
        pl_bus_msg_ack (m);         /* done, or about a call already past its disposition */
    else if (rc == PL_EINVAL)
        pl_bus_msg_nack (m, PLATEAU__V1__NACK__CODE__INVALID, "unknown campaign, dial id or code", 0);
    else if (rc == PL_EAGAIN)
        pl_bus_msg_nack (m, PLATEAU__V1__NACK__CODE__UNAVAILABLE, "call outcome not received yet", 200);
    else
        s_ack_or (m, rc, "redis unavailable");
}

/* The time an agent spent in the state it left ("ready|41000", the effect's reply), and the
 * wait of a ready agent that is now on a call. A duplicate step counts nothing again. */
static void
s_agent_time (dialer_t *self, const char *campaign, const char *reply, int state)
{
    const char *bar = reply ? strchr (reply, '|') : NULL;
    if (!bar)
        return;                         /* a new agent, or an older state than the one held */
    long long ms = strtoll (bar + 1, NULL, 10);
    size_t sl = (size_t) (bar - reply);
    if (ms <= 0 || ms > 24LL * 3600 * 1000 || sl == 0 || sl > 16
        || (sl == 10 && strncmp (reply, "logged_out", 10) == 0))
        return;                         /* logged out is no one's time; a day is a lost logout */
    char labels[160];
    snprintf (labels, sizeof labels, "%s,%.*s", campaign, (int) sl, reply);
    pl_metric_inc (self->m_agent_time, labels, (double) ms / 1000.0);
    if (sl == 5 && strncmp (reply, "ready", 5) == 0 && state == PLATEAU__V1__AGENT_STATE__STATE__ON_CALL)
        pl_metric_observe (self->m_wait, campaign, (double) ms / 1000.0);
}

bool
dialer_ident_ok (const char *s, size_t max)
{
    size_t n = s ? strlen (s) : 0;
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum ((unsigned char) s[i]) && !strchr ("-_.@:", s[i]))
            return false;
    return true;
}

int
dialer_agent_state (dialer_t *self, const Plateau__V1__AgentState *a, const char *step_id)
{
    s_refresh (self);
    static const char *names[] = { "", "logged_out", "ready", "on_call", "wrap_up", "paused" };
    /* The same ids as the HTTP door takes: an agent's id names KPI fields and keys downstream. */
    if (!dialer_ident_ok (a->agent_id, 64) || a->state < 1 || a->state > 5 || a->n_campaigns > 16)
        return PL_EINVAL;
    char value[64], since[24];
    snprintf (value, sizeof value, "%s|%lld", names[a->state], (long long) a->since_ms);
    snprintf (since, sizeof since, "%lld", (long long) a->since_ms);
    pl_inbox_tx_t *txs[16];
    const char *camps[16];
    size_t n = 0;
    int rc = 0;
    for (size_t i = 0; i < a->n_campaigns && rc == 0; i++) {
        if (!s_camp (self, a->campaigns[i]))
            continue;       /* a campaign this dialer does not run */
        camps[n] = a->campaigns[i];
        char tag[96], k_ag[200], k_ready[200], k_st[200], k_resv[200];
        s_tag (tag, sizeof tag, a->campaigns[i]);
        s_key (k_ag, sizeof k_ag, a->campaigns[i], "agents");
        s_key (k_ready, sizeof k_ready, a->campaigns[i], "ready");
        s_key (k_st, sizeof k_st, a->campaigns[i], "agst");
        s_key (k_resv, sizeof k_resv, a->campaigns[i], "resv");
        txs[n] = pl_inbox_tx_new (tag, step_id);
        const char *keys[4] = { k_ag, k_ready, k_st, k_resv };
        const char *args[4] = { a->agent_id, value, since, names[a->state] };
        rc = txs[n] ? pl_inbox_tx_effect (txs[n], &s_agent, 4, keys, 4, args, NULL) : PL_ENOMEM;
        n++;
    }
    int applied[16];
    if (rc == 0 && n)
        rc = pl_inbox_apply (self->inbox, txs, n, applied);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0 && applied[i] == 1)
            s_agent_time (self, camps[i], pl_inbox_tx_reply (txs[i], NULL), a->state);
        pl_inbox_tx_destroy (&txs[i]);
    }
    return rc;
}

static void
s_on_agent (dialer_t *self, pl_bus_msg_t *m, const pl_envelope_t *env)
{
    int rc = dialer_agent_state (self, env->agent_state, env->id);
    if (rc == PL_EINVAL)
        pl_bus_msg_nack (m, PLATEAU__V1__NACK__CODE__INVALID, "agent id (64 bytes), state and up to 16 campaigns", 0);
    else
        s_ack_or (m, rc, "redis unavailable");
}

/* A promise decided: the hold it put on its debt ends. 0 or PL_EREDIS / PL_ENOMEM. */
static int
s_hold_release (dialer_t *self, const char *tenant, const char *debt, const char *promise)
{
    if (!debt || !*debt || !promise || !*promise)
        return 0;
    pl_inbox_tx_t *tx = s_hold_release_tx (tenant, debt, promise);
    int rc = s_apply1 (self, tx);
    pl_inbox_tx_destroy (&tx);
    return rc;
}

/* The tenant whose hold a promise message names: its own, else its campaign's (NULL: neither). */
static const char *
s_promise_tenant (dialer_t *self, const char *tenant, const char *campaign)
{
    if (tenant && *tenant)
        return tenant;
    s_camp_t *sc = s_camp (self, campaign);
    return sc ? sc->c->tenant : NULL;
}

int
dialer_promise_kept (dialer_t *self, const Plateau__V1__PromiseKept *pk)
{
    s_refresh (self);
    const char *tenant = s_promise_tenant (self, pk->tenant, pk->campaign);
    return tenant ? s_hold_release (self, tenant, pk->account_ref, pk->promise_id) : PL_ENOTFOUND;
}

int
dialer_promise_active (dialer_t *self, const Plateau__V1__PromiseActive *pa, const char *step_id)
{
    s_refresh (self);
    const char *tenant = s_promise_tenant (self, pa->tenant, pa->campaign);
    if (!tenant || !pa->account_ref || !*pa->account_ref || !pa->promise_id || !*pa->promise_id)
        return PL_ENOTFOUND;
    int64_t now = pl_clock_now_ms (self->o.clock);
    if (pa->until_ms <= now)
        return 0;
    char tag[300], key[320], u[24], ttl[24];
    s_hold_key (tag, sizeof tag, key, sizeof key, tenant, pa->account_ref);
    snprintf (u, sizeof u, "%lld", (long long) pa->until_ms);
    snprintf (ttl, sizeof ttl, "%lld", (long long) (pa->until_ms - now + 30 * S_DAY_MS));
    pl_inbox_tx_t *tx = pl_inbox_tx_new (tag, step_id);
    const char *keys[1] = { key }, *args[3] = { pa->promise_id, u, ttl };
    int rc = tx ? pl_inbox_tx_effect (tx, &s_hold_set, 1, keys, 3, args, NULL) : PL_ENOMEM;
    if (rc == 0)
        rc = s_apply1 (self, tx);
    pl_inbox_tx_destroy (&tx);
    return rc;
}

/* A broken promise: its hold on the debt ends, and its lead is queued again at once in the
 * campaign named, to be dialled when every rule allows (the check at the dial counts the
 * conversation the promise was, for Regulation F's 7 days among others). A lead not finished
 * (still being called) is left as it is. */
int
dialer_promise_broken (dialer_t *self, const Plateau__V1__PromiseBroken *pb, const char *step_id, const char *trace)
{
    s_refresh (self);
    const char *tenant = s_promise_tenant (self, pb->tenant, pb->campaign);
    int rc = tenant ? s_hold_release (self, tenant, pb->account_ref, pb->promise_id) : 0;
    s_camp_t *sc = s_camp (self, pb->campaign);
    if (!sc)
        return rc ? rc : PL_ENOTFOUND;
    if (rc != 0 || !pb->lead_id || !*pb->lead_id)
        return rc ? rc : PL_ENOTFOUND;
    const dialer_campaign_t *c = sc->c;
    s_lead_t l;
    rc = s_read_lead (self, c, pb->lead_id, &l);
    if (rc != 0)
        return rc;
    if (strcmp (l.state, "done")) {
        s_lead_free (&l);
        return PL_ENOTFOUND;
    }
    int64_t now = pl_clock_now_ms (self->o.clock);
    char tag[96], k_dl[300], k_due[200], due[24], sched[16];
    s_tag (tag, sizeof tag, c->name);
    s_lead_key (k_dl, sizeof k_dl, c->name, pb->lead_id);
    s_key (k_due, sizeof k_due, c->name, "due");
    snprintf (due, sizeof due, "%lld", (long long) now);
    snprintf (sched, sizeof sched, "%d", l.sched + 1);
    s_next_t nx = { .state = "queued", .due = now, .idx = l.idx, .reason = "promise_broken",
                    .outcome = pb->promise_id ? pb->promise_id : "" };
    pl_inbox_tx_t *tx = pl_inbox_tx_new (tag, step_id);
    const char *keys[2] = { k_dl, k_due };
    const char *args[2] = { due, sched };
    rc = tx ? pl_inbox_tx_effect (tx, &s_reopen, 2, keys, 2, args, NULL) : PL_ENOMEM;
    if (rc == 0)
        rc = s_schedule_event (self, tx, c, pb->lead_id, &l, &nx, now, trace);
    if (rc == 0)
        rc = s_apply1 (self, tx);
    pl_inbox_tx_destroy (&tx);
    s_lead_free (&l);
    return rc;
}

static void
s_on_promise (dialer_t *self, pl_bus_msg_t *m, const pl_envelope_t *env)
{
    if (env->body_case == PLATEAU__V1__ENVELOPE__BODY_PROMISE_ACTIVE) {
        int rc = dialer_promise_active (self, env->promise_active, env->id);
        s_ack_or (m, rc == PL_ENOTFOUND ? 0 : rc, "redis unavailable");
        return;
    }
    if (env->body_case != PLATEAU__V1__ENVELOPE__BODY_PROMISE_BROKEN) {
        /* kept: the lead finished with the promise; the debt's hold ends */
        int rc = dialer_promise_kept (self, env->promise_kept);
        s_ack_or (m, rc == PL_ENOTFOUND ? 0 : rc, "redis unavailable");
        return;
    }
    int rc = dialer_promise_broken (self, env->promise_broken, env->id, env->trace_id);
    s_ack_or (m, rc == PL_ENOTFOUND ? 0 : rc, "redis unavailable");
}

/* A call bridged to an agent is no longer a line that could be abandoned. */
static void
s_on_progress (dialer_t *self, pl_bus_msg_t *m, const pl_envelope_t *env)
{
    const Plateau__V1__CallProgress *p = env->call_progress;
    if (p->stage != PLATEAU__V1__CALL_PROGRESS__STAGE__BRIDGED || !s_camp (self, p->campaign) || !p->dial_id) {
        pl_bus_msg_ack (m);
        return;
    }
    char tag[96], key[200], bridged[200], k_dl[300], lead_id[160], wall[24];
    if (!s_lead_of (p->dial_id, lead_id, sizeof lead_id)) {
        pl_bus_msg_ack (m);
        return;
    }
    s_tag (tag, sizeof tag, p->campaign);
    s_key (key, sizeof key, p->campaign, "inflight");
    /* Out of the lines that could be abandoned, into the bridged calls until the call ends
     * (dialer.move): the lost-call recovery still finds it if telephony never ends it. */
    s_key (bridged, sizeof bridged, p->campaign, "bridged");
    s_lead_key (k_dl, sizeof k_dl, p->campaign, lead_id);
    snprintf (wall, sizeof wall, "%lld", (long long) pl_clock_now_ms (NULL));
    pl_inbox_tx_t *tx = pl_inbox_tx_new (tag, env->id);
    const char *keys[3] = { key, bridged, k_dl };
    const char *args[2] = { p->dial_id, wall };
    if (tx && pl_inbox_tx_effect (tx, &s_bridge, 3, keys, 2, args, NULL) != 0)
        pl_inbox_tx_destroy (&tx);
    s_apply_msg (self, m, tx, "bridged");
    pl_inbox_tx_destroy (&tx);
}

void
dialer_handle (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    dialer_t *self = arg;
    s_refresh (self);
    for (size_t i = 0; i < n; i++) {
        const pl_envelope_t *env = pl_bus_msg_envelope (msgs[i]);
        switch (env->body_case) {
        case PLATEAU__V1__ENVELOPE__BODY_LEAD_CLEARED: s_on_cleared (self, msgs[i], env); break;
        case PLATEAU__V1__ENVELOPE__BODY_DIAL_CHECK_RESULT: s_on_result (self, msgs[i], env); break;
        case PLATEAU__V1__ENVELOPE__BODY_CALL_OUTCOME: s_on_outcome (self, msgs[i], env); break;
        case PLATEAU__V1__ENVELOPE__BODY_DISPOSITION: s_on_disposition (self, msgs[i], env); break;
        case PLATEAU__V1__ENVELOPE__BODY_AGENT_STATE: s_on_agent (self, msgs[i], env); break;
        case PLATEAU__V1__ENVELOPE__BODY_CALL_PROGRESS: s_on_progress (self, msgs[i], env); break;
        case PLATEAU__V1__ENVELOPE__BODY_PROMISE_BROKEN:
        case PLATEAU__V1__ENVELOPE__BODY_PROMISE_ACTIVE:
        case PLATEAU__V1__ENVELOPE__BODY_PROMISE_KEPT: s_on_promise (self, msgs[i], env); break;
        case PLATEAU__V1__ENVELOPE__BODY_LEAD_SUPPRESSED: pl_bus_msg_ack (msgs[i]); break;
        case PLATEAU__V1__ENVELOPE__BODY_SCRUB_VERDICT: pl_bus_msg_ack (msgs[i]); break;
        default:
            pl_bus_msg_nack (msgs[i], PLATEAU__V1__NACK__CODE__UNKNOWN_TYPE, "not for the dialer", 0);
        }
    }
}

/* ---- leases ------------------------------------------------------------------------------------ */

/* K lease, fence; A replica, ttl ms, current token ('' when not holding). Renews ours, or takes a
 * free lease with a new fencing token. Returns the token held, or '' when another replica has it. */
static const char s_lease_lua[] =
    "local cur = redis.call('GET', KEYS[1])\n"
    "if cur and cur == ARGV[3] then redis.call('PEXPIRE', KEYS[1], ARGV[2]); return cur end\n"
    "if cur then return '' end\n"
    "local t = ARGV[1] .. ' ' .. redis.call('INCR', KEYS[2])\n"
    "redis.call('SET', KEYS[1], t, 'PX', ARGV[2])\n"
    "return t\n";

/* The agents' counts and ready set again from their hash (s_agents_rebuild_lua). */
static void
s_agents_rebuild (dialer_t *self, const dialer_campaign_t *c)
{
    if (!self->agents_rebuild && !(self->agents_rebuild = pl_redis_script_new (s_agents_rebuild_lua)))
        return;
    char k_ag[200], k_ready[200], k_st[200], k_resv[200];
    s_key (k_ag, sizeof k_ag, c->name, "agents");
    s_key (k_ready, sizeof k_ready, c->name, "ready");
    s_key (k_st, sizeof k_st, c->name, "agst");
    s_key (k_resv, sizeof k_resv, c->name, "resv");
    const char *argv[4] = { k_ag, k_ready, k_st, k_resv };
    pl_reply_t *r = pl_redis_eval (self->o.redis, self->agents_rebuild, 4, 4, argv, NULL);
    if (!r || pl_reply_type (r) != PL_REPLY_INTEGER)
        pl_log_warn (self->o.log, NULL, "agents' counts not rebuilt", "campaign", c->name);
    pl_reply_free (&r);
}

int
dialer_lease_tick (pl_loop_t *loop, void *arg)
{
    (void) loop;
    dialer_t *self = arg;
    s_refresh (self);
    if (!self->lease && !(self->lease = pl_redis_script_new (s_lease_lua)))
        return 0;
    for (size_t i = 0; i < self->n_camps; i++) {
        s_camp_t *sc = &self->camps[i];
        char k_lease[200], k_fence[200];
        s_key (k_lease, sizeof k_lease, sc->c->name, "lease");
        s_key (k_fence, sizeof k_fence, sc->c->name, "fence");
        const char *argv[5] = { k_lease, k_fence, self->o.replica, "5000", sc->owned ? sc->token : "" };
        pl_reply_t *r = pl_redis_eval (self->o.redis, self->lease, 2, 5, argv, NULL);
        const char *t = r ? pl_reply_str (r, NULL) : NULL;
        bool owned = t && *t;
        if (owned != sc->owned || (owned && strcmp (t, sc->token))) {
            pl_log_info (self->o.log, NULL, owned ? "campaign lease taken" : "campaign lease lost", "campaign",
                         sc->c->name);
            if (owned) {
                snprintf (sc->token, sizeof sc->token, "%s", t);
                const char *sp = strrchr (t, ' ');
                sc->fence = sp ? atoll (sp + 1) : 0;
                s_agents_rebuild (self, sc->c);
            }
        }
        /* An I/O error keeps what we believed; the steps check the lease themselves. */
        if (r)
            sc->owned = owned;
        pl_reply_free (&r);
    }
    return 0;
}

/* ---- pacing ------------------------------------------------------------------------------------ */

/* The start of the legal period at now: a rolling period, or the local day (UK: its midnight). */
static int64_t
s_period_from (const dialer_campaign_t *c, int64_t now)
{
    if (!c->abandon_calendar_day)
        return now - (c->abandon_period_ms ? c->abandon_period_ms : 30LL * 86400000);
    /* The UK's day: midnight in London (GMT or BST, an hour either way of UTC). */
    const pl_rules_tz_t *z = c->period_zone;
    int64_t s = now / 1000;
    int32_t off = z ? pl_rules_tz_offset (z, s) : 0;
    int64_t local = s + off;
    int64_t day = local - ((local % 86400) + 86400) % 86400;
    return (day - off) * 1000;
}

typedef struct {
    char lead[160];
    char att[192];
    char number[24];
    char agent[96];
    s_lead_t l;
    Plateau__V1__Lead *pb;
    pl_inbox_tx_t *tx;
    pl_inbox_tx_t *dtx;          /* the debt's history (a lead with a debt) */
    int ok;
} s_claim_t;

/* Collection: the due leads whose debt a promise holds are not claimed. Each waits until the
 * hold's end, recorded (dial.scheduled, reason promise_active, outcome the promise); its
 * number's contact history is untouched, no attempt being made. */
static void
s_hold_leads (dialer_t *self, const dialer_campaign_t *c, s_claim_t *cl, size_t n, int64_t now)
{
    char tag[300], key[320];
    size_t asked = 0;
    for (size_t i = 0; i < n; i++) {
        if (!cl[i].ok)
            continue;
        cl[i].pb = cl[i].l.pb ? plateau__v1__lead__unpack (NULL, cl[i].l.pb_len, (uint8_t *) cl[i].l.pb) : NULL;
        if (!cl[i].pb || !cl[i].pb->debt || !cl[i].pb->debt->account_ref || !*cl[i].pb->debt->account_ref)
            continue;
        s_hold_key (tag, sizeof tag, key, sizeof key, c->tenant, cl[i].pb->debt->account_ref);
        pl_redis_append (self->o.redis, "HMGET %s p until", key);
        asked++;
    }
    if (!asked)
        return;
    pl_inbox_tx_t **txs = calloc (asked, sizeof *txs);
    int *res = calloc (asked, sizeof *res);
    size_t nt = 0;
    s_tag (tag, sizeof tag, c->name);
    for (size_t i = 0; i < n; i++) {
        if (!cl[i].ok || !cl[i].pb || !cl[i].pb->debt || !cl[i].pb->debt->account_ref
            || !*cl[i].pb->debt->account_ref)
            continue;
        pl_reply_t *h = NULL;
        int rc = pl_redis_get_reply (self->o.redis, &h);
        const char *p = rc == 0 ? pl_reply_str (pl_reply_element (h, 0), NULL) : NULL;
        const char *u = rc == 0 ? pl_reply_str (pl_reply_element (h, 1), NULL) : NULL;
        int64_t until = u ? strtoll (u, NULL, 10) : 0;
        if (rc != 0)
            cl[i].ok = 0;               /* unknown: not dialled now, the stricter reading */
        else if (p && until > now) {
            cl[i].ok = 0;               /* held, rescheduled below (without memory: tried again) */
            if (!txs || !res) {
                pl_reply_free (&h);
                continue;
            }
            char k_dl[300], k_due[200], due[24], sched[16];
            s_lead_key (k_dl, sizeof k_dl, c->name, cl[i].lead);
            s_key (k_due, sizeof k_due, c->name, "due");
            snprintf (due, sizeof due, "%lld", (long long) until);
            snprintf (sched, sizeof sched, "%d", cl[i].l.sched + 1);
            const char *keys[2] = { k_dl, k_due }, *args[2] = { due, sched };
            s_next_t nx = { .state = "queued", .due = until, .idx = cl[i].l.idx, .reason = "promise_active",
                            .outcome = p };
            pl_inbox_tx_t *tx = pl_inbox_tx_new (tag, NULL);
            rc = tx ? pl_inbox_tx_effect (tx, &s_held, 2, keys, 2, args, NULL) : PL_ENOMEM;
            if (rc == 0)
                rc = s_schedule_event (self, tx, c, cl[i].lead, &cl[i].l, &nx, now, cl[i].pb->trace_id);
            if (rc == 0)
                txs[nt++] = tx;
            else
                pl_inbox_tx_destroy (&tx);
        }
        pl_reply_free (&h);
    }
    if (nt && pl_inbox_apply (self->inbox, txs, nt, res) != 0)
        pl_log_warn (self->o.log, NULL, "leads held by a promise not rescheduled: they are tried again", "campaign",
                     c->name);
    for (size_t i = 0; i < nt; i++)
        pl_inbox_tx_destroy (&txs[i]);
    free (txs);
    free (res);
}

/* An agent READY and not reserved: its id and since. */
typedef struct {
    char id[96];
    int64_t since;
} s_agent_t;

/* Parses "<attempt>=<at>|<tenant>|<campaign>|<debt>|<flags>[|<number>]" lines into ContactEntry
 * messages after the n already in e. A debt's history (number set) adds only the calls to its
 * other numbers, flagged OTHER_NUMBER: those to this one are in the number's history. */
static size_t
s_parse_history (char *text, const char *own, const char *number, Plateau__V1__ContactEntry *e,
                 Plateau__V1__ContactEntry **ep, size_t n, size_t cap)
{
    char *save = NULL;
    for (char *line = strtok_r (text, "\n", &save); line && n < cap; line = strtok_r (NULL, "\n", &save)) {
        char *eq = strchr (line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        if (strcmp (line, own) == 0)
            continue;           /* the check is about this attempt: the others count */
        char *f[6] = { 0 };
        char *p = eq + 1;
        for (int k = 0; k < 6; k++) {
            f[k] = p;
            p = p ? strchr (p, '|') : NULL;
            if (p)
                *p++ = '\0';
        }
        if (!f[4] || (number && (!f[5] || strcmp (f[5], number) == 0)))
            continue;
        plateau__v1__contact_entry__init (&e[n]);
        e[n].attempt_id = line;
        e[n].at_ms = strtoll (f[0], NULL, 10);
        e[n].tenant = f[1];
        e[n].campaign = f[2];
        e[n].debt = f[3];
        e[n].flags = (uint32_t) strtoul (f[4], NULL, 10);
        if (number)
            e[n].flags |= PLATEAU__V1__CONTACT_ENTRY__FLAG__OTHER_NUMBER;
        ep[n] = &e[n];
        n++;
    }
    return n;
}

/* Claims up to `lines` due leads of campaign sc, records them in the histories and sends their
 * checks. Returns how many checks went out. */
static int
s_dial (dialer_t *self, s_camp_t *sc, int lines, bool reserve, int64_t now)
{
    const dialer_campaign_t *c = sc->c;
    char k_due[200], k_lease[200], k_infl[200], k_resv[200], k_paused[200], k_ready[200], tag[96];
    s_key (k_due, sizeof k_due, c->name, "due");
    s_key (k_paused, sizeof k_paused, c->name, "paused");
    s_key (k_ready, sizeof k_ready, c->name, "ready");
    s_key (k_lease, sizeof k_lease, c->name, "lease");
    s_key (k_infl, sizeof k_infl, c->name, "inflight");
    s_key (k_resv, sizeof k_resv, c->name, "resv");
    s_tag (tag, sizeof tag, c->name);
    if (lines > self->o.batch)
        lines = self->o.batch;
    if (lines <= 0)
        return 0;
    char nows[24], lim[16], last[16];
    snprintf (nows, sizeof nows, "%lld", (long long) now);
    snprintf (lim, sizeof lim, "%d", lines);
    snprintf (last, sizeof last, "%d", lines - 1);
    /* The due leads and, for reserved lines, as many of the longest idle ready agents: one trip. */
    if (c->newest_first)
        pl_redis_append (self->o.redis, "ZREVRANGEBYSCORE %s %s -inf LIMIT 0 %s", k_due, nows, lim);
    else
        pl_redis_append (self->o.redis, "ZRANGEBYSCORE %s -inf %s LIMIT 0 %s", k_due, nows, lim);
    if (reserve)
        pl_redis_append (self->o.redis, "ZRANGE %s 0 %s WITHSCORES", k_ready, last);
    pl_reply_t *r = NULL, *ra = NULL;
    pl_redis_get_reply (self->o.redis, &r);
    if (reserve)
        pl_redis_get_reply (self->o.redis, &ra);
    int n_agents = 0;
    s_agent_t *agents = NULL;
    if (reserve) {
        size_t na = ra && pl_reply_type (ra) == PL_REPLY_ARRAY ? pl_reply_len (ra) / 2 : 0;
        agents = calloc (na ? na : 1, sizeof *agents);
        for (size_t i = 0; agents && i < na; i++) {
            const char *id = pl_reply_str (pl_reply_element (ra, 2 * i), NULL);
            const char *since = pl_reply_str (pl_reply_element (ra, 2 * i + 1), NULL);
            if (!id)
                continue;
            snprintf (agents[n_agents].id, sizeof agents[n_agents].id, "%s", id);
            agents[n_agents].since = since ? (int64_t) strtod (since, NULL) : 0;
            n_agents++;
        }
    }
    pl_reply_free (&ra);
    size_t n = r && pl_reply_type (r) == PL_REPLY_ARRAY ? pl_reply_len (r) : 0;
    if (n == 0 || (reserve && n_agents == 0)) {
        pl_reply_free (&r);
        free (agents);
        return 0;
    }
    s_claim_t *cl = calloc (n, sizeof *cl);
    pl_inbox_tx_t **txs = calloc (2 * n, sizeof *txs);
    int *res = calloc (2 * n, sizeof *res);
    int sent = 0;
    if (!cl || !txs || !res)
        goto done;
    for (size_t i = 0; i < n; i++) {
        snprintf (cl[i].lead, sizeof cl[i].lead, "%s", pl_reply_str (pl_reply_element (r, i), NULL));
        char key[300];
        s_lead_key (key, sizeof key, c->name, cl[i].lead);
        s_append_hmget (self->o.redis, key);
    }
    for (size_t i = 0; i < n; i++) {
        pl_reply_t *h = NULL;
        if (pl_redis_get_reply (self->o.redis, &h) == 0 && s_lead_read (h, &cl[i].l) == 0
            && strcmp (cl[i].l.state, "queued") == 0 && s_number (cl[i].l.nums, cl[i].l.idx, cl[i].number))
            cl[i].ok = 1;
        pl_reply_free (&h);
    }
    if (c->kind == PLATEAU__V1__CALL_KIND__DEBT_COLLECTION)
        s_hold_leads (self, c, cl, n, now);
    /* 1. Claims, fenced, in one pipeline. */
    size_t nt = 0;
    int next_agent = 0;
    char walls[24];
    snprintf (walls, sizeof walls, "%lld", (long long) pl_clock_now_ms (NULL));
    for (size_t i = 0; i < n; i++) {
        if (!cl[i].ok)
            continue;
        if (*cl[i].l.manual)        /* an agent's own dial: that agent, not one from the pool */
            snprintf (cl[i].agent, sizeof cl[i].agent, "%s", cl[i].l.manual);
        else if (reserve && next_agent < n_agents)
            snprintf (cl[i].agent, sizeof cl[i].agent, "%s", agents[next_agent++].id);
        else if (reserve) {
            cl[i].ok = 0;
            continue;
        }
        snprintf (cl[i].att, sizeof cl[i].att, "%s.%d", cl[i].lead, cl[i].l.n + 1);
        char k_dl[300], nexp[16], id[240];
        s_lead_key (k_dl, sizeof k_dl, c->name, cl[i].lead);
        snprintf (nexp, sizeof nexp, "%d", cl[i].l.n);
        const char *keys[7] = { k_lease, k_due, k_dl, k_infl, k_resv, k_paused, k_ready };
        const char *args[8] = { sc->token, cl[i].lead, nexp, cl[i].att, nows, cl[i].agent, walls,
                                *cl[i].l.manual ? "manual" : "auto" };
        pl_inbox_tx_t *tx = pl_inbox_tx_new (tag, NULL);
        int rc = tx ? pl_inbox_tx_effect (tx, &s_claim, 7, keys, 8, args, NULL) : PL_ENOMEM;
        Plateau__V1__AuditEvent ev;
        snprintf (id, sizeof id, "%s.claimed", cl[i].att);
        s_event (self, &ev, "dial.claimed", id, now, c, cl[i].lead, cl[i].number, cl[i].att);
        ev.dial_mode = *cl[i].l.manual ? PLATEAU__V1__DIAL_MODE__MANUAL : PLATEAU__V1__DIAL_MODE__AUTODIALED;
        ev.actor = cl[i].l.manual;
        Plateau__V1__AuditEvent__CountsEntry ce[2] = { PLATEAU__V1__AUDIT_EVENT__COUNTS_ENTRY__INIT,
                                                       PLATEAU__V1__AUDIT_EVENT__COUNTS_ENTRY__INIT };
        Plateau__V1__AuditEvent__CountsEntry *cep[2] = { &ce[0], &ce[1] };
        ce[0].key = "attempt";
        ce[0].value = cl[i].l.placed + 1;
        ce[1].key = "fence";
        ce[1].value = sc->fence;
        ev.n_counts = 2;
        ev.counts = cep;
        if (rc == 0)
            rc = s_emit_audit (self, tx, &ev, NULL);
        if (rc != 0) {
            pl_inbox_tx_destroy (&tx);
            cl[i].ok = 0;
            continue;
        }
        cl[i].tx = tx;
        txs[nt++] = tx;
    }
    if (nt == 0 || pl_inbox_apply (self->inbox, txs, nt, res) != 0)
        goto done;
    for (size_t i = 0; i < n; i++)
        if (cl[i].ok) {
            const char *rep = pl_inbox_tx_reply (cl[i].tx, NULL);
            cl[i].ok = rep && strcmp (rep, "ok") == 0;
            pl_inbox_tx_destroy (&cl[i].tx);
        }
    /* 2. The attempts into the people's histories, which come back with every other claim. */
    nt = 0;
    for (size_t i = 0; i < n; i++) {
        if (!cl[i].ok)
            continue;
        if (!cl[i].pb)
            cl[i].pb = cl[i].l.pb ? plateau__v1__lead__unpack (NULL, cl[i].l.pb_len, (uint8_t *) cl[i].l.pb) : NULL;
        char entry[400];
        const char *debt = cl[i].pb && cl[i].pb->debt && cl[i].pb->debt->account_ref ? cl[i].pb->debt->account_ref : "";
        s_entry (entry, sizeof entry, now, c, debt, 0);
        cl[i].tx = s_history_tx (cl[i].number, cl[i].att, entry, now, &s_history);
        if (cl[i].tx && *debt) {
            s_debt_entry (entry, sizeof entry, now, c, debt, 0, cl[i].number);
            cl[i].dtx = s_debt_history_tx (c->tenant, debt, cl[i].att, entry, now, &s_history);
        }
        if (!cl[i].pb || !cl[i].tx || (*debt && !cl[i].dtx)) {
            cl[i].ok = 0;
            pl_inbox_tx_destroy (&cl[i].tx);
            pl_inbox_tx_destroy (&cl[i].dtx);
            continue;
        }
        txs[nt++] = cl[i].tx;
        if (cl[i].dtx)
            txs[nt++] = cl[i].dtx;
    }
    if (nt && pl_inbox_apply (self->inbox, txs, nt, res) != 0) {
        /* The claims stand without their checks: the recovery voids them. */
        for (size_t i = 0; i < n; i++) {
            pl_inbox_tx_destroy (&cl[i].tx);
            pl_inbox_tx_destroy (&cl[i].dtx);
        }
        goto done;
    }
    /* 3. The checks, fenced: DialCheck to scrub with the lead and the history. */
    pl_inbox_tx_t **checks = calloc (n, sizeof *checks);
    size_t nc = 0;
    for (size_t i = 0; checks && i < n; i++) {
        if (!cl[i].ok)
            continue;
        size_t hl = 0, dl = 0;
        const char *hist = pl_inbox_tx_reply (cl[i].tx, &hl);
        const char *dhist = cl[i].dtx ? pl_inbox_tx_reply (cl[i].dtx, &dl) : NULL;
        char *htext = strndup (hist ? hist : "", hl);
        char *dtext = strndup (dhist ? dhist : "", dl);
        pl_inbox_tx_destroy (&cl[i].tx);
        pl_inbox_tx_destroy (&cl[i].dtx);
        /* As many entries as the histories have lines (scrub takes S_MAX_HIST at most). */
        size_t lines = (htext && *htext ? 1 : 0) + (dtext && *dtext ? 1 : 0);
        for (const char *q = htext; q && *q; q++)
            lines += *q == '\n';
        for (const char *q = dtext; q && *q; q++)
            lines += *q == '\n';
        if (lines > S_MAX_HIST)
            lines = S_MAX_HIST;
        Plateau__V1__ContactEntry *ents = calloc (lines ? lines : 1, sizeof *ents);
        Plateau__V1__ContactEntry **ep = calloc (lines ? lines : 1, sizeof *ep);
        if (!htext || !dtext || !ents || !ep) {
            free (htext);
            free (dtext);
            free (ents);
            free (ep);
            continue;
        }
        size_t nh = s_parse_history (htext, cl[i].att, NULL, ents, ep, 0, lines);
        nh = s_parse_history (dtext, cl[i].att, cl[i].number, ents, ep, nh, lines);
        Plateau__V1__DialCheck dc = PLATEAU__V1__DIAL_CHECK__INIT;
        dc.check_id = cl[i].att;
        dc.lead_id = cl[i].lead;
        dc.campaign = (char *) c->name;
        dc.number = cl[i].number;
        dc.kind = c->kind;
        dc.at_ms = now;
        dc.lead = cl[i].pb;
        dc.tenant = (char *) c->tenant;
        dc.n_history = nh;
        dc.history = ep;
        dc.caller_id = (char *) c->cli;
        dc.attempt = cl[i].l.placed + 1;
        dc.callback = cl[i].l.callback;
        dc.manual = *cl[i].l.manual != '\0';
        char k_dl[300], id[240];
        s_lead_key (k_dl, sizeof k_dl, c->name, cl[i].lead);
        const char *keys[2] = { k_lease, k_dl };
        const char *args[2] = { sc->token, cl[i].att };
        pl_inbox_tx_t *tx = pl_inbox_tx_new (tag, NULL);
        int rc = tx ? pl_inbox_tx_effect (tx, &s_checking, 2, keys, 2, args, NULL) : PL_ENOMEM;
        pl_envelope_t out;
        pl_envelope_ids_t ids;
        pl_envelope_init (&out, &ids, self->o.service, self->o.clock, cl[i].pb->trace_id);
        snprintf (id, sizeof id, "%s.dc", cl[i].att);
        out.id = id;
        out.body_case = PLATEAU__V1__ENVELOPE__BODY_DIAL_CHECK;
        out.dial_check = &dc;
        if (rc == 0)
            rc = pl_inbox_tx_emit (tx, self->scrub, &out);
        free (htext);
        free (dtext);
        free (ents);
        free (ep);
        if (rc != 0) {
            pl_inbox_tx_destroy (&tx);
            continue;
        }
        checks[nc++] = tx;
    }
    if (nc && pl_inbox_apply (self->inbox, checks, nc, res) == 0)
        for (size_t i = 0; i < nc; i++) {
            const char *rep = pl_inbox_tx_reply (checks[i], NULL);
            sent += rep && strcmp (rep, "ok") == 0;
        }
    /* The checks leave now, not at the bus client's next tick: the dial waits on them. */
    if (sent && self->o.scrub_client)
        pl_bus_client_pull (self->o.scrub_client);
    for (size_t i = 0; checks && i < nc; i++)
        pl_inbox_tx_destroy (&checks[i]);
    free (checks);
done:
    for (size_t i = 0; cl && i < n; i++) {
        pl_inbox_tx_destroy (&cl[i].tx);
        pl_inbox_tx_destroy (&cl[i].dtx);
        s_lead_free (&cl[i].l);
        if (cl[i].pb)
            plateau__v1__lead__free_unpacked (cl[i].pb, NULL);
    }
    free (cl);
    free (txs);
    free (res);
    free (agents);
    pl_reply_free (&r);
    return sent;
}

/* What the floor of campaign c looks like now, read in one pipeline. */
typedef struct {
    pacing_floor_t f;
    int by_state[6];
    long long queued, inflight, bridged;   /* bridged: calls with an agent, not yet ended */
    int64_t machine;             /* machine detections in the period */
    int64_t period_from;
    char paused[320];            /* the pause ("<at ms>|<actor>|<reason>"), "" when running */
} s_view_t;

static int
s_view (dialer_t *self, const dialer_campaign_t *c, int64_t now, s_view_t *v)
{
    memset (v, 0, sizeof *v);
    char k_st[200], k_ready[200], k_resv[200], k_infl[200], k_due[200], k_pl[200], k_live[200], k_ab[200],
        k_ma[200], k_paused[200], k_brg[200];
    s_key (k_paused, sizeof k_paused, c->name, "paused");
    s_key (k_brg, sizeof k_brg, c->name, "bridged");
    s_key (k_st, sizeof k_st, c->name, "agst");
    s_key (k_ready, sizeof k_ready, c->name, "ready");
    s_key (k_resv, sizeof k_resv, c->name, "resv");
    s_key (k_infl, sizeof k_infl, c->name, "inflight");
    s_key (k_due, sizeof k_due, c->name, "due");
    s_key (k_pl, sizeof k_pl, c->name, "out:placed");
    s_key (k_live, sizeof k_live, c->name, "out:live");
    s_key (k_ab, sizeof k_ab, c->name, "out:aband");
    s_key (k_ma, sizeof k_ma, c->name, "out:machine");
    v->period_from = s_period_from (c, now);
    char from[24], hour[24], nows[24];
    snprintf (from, sizeof from, "%lld", (long long) v->period_from);
    snprintf (hour, sizeof hour, "%lld", (long long) (now - 3600000));
    snprintf (nows, sizeof nows, "(%lld", (long long) now + 1);
    pl_redis_t *rd = self->o.redis;
    pl_redis_append (rd, "HGETALL %s", k_st);
    pl_redis_append (rd, "HLEN %s", k_resv);
    pl_redis_append (rd, "ZCARD %s", k_infl);
    pl_redis_append (rd, "ZCARD %s", k_due);
    pl_redis_append (rd, "ZCOUNT %s %s %s", k_pl, hour, nows);
    pl_redis_append (rd, "ZCOUNT %s %s %s", k_live, hour, nows);
    pl_redis_append (rd, "ZCOUNT %s %s %s", k_live, from, nows);
    pl_redis_append (rd, "ZCOUNT %s %s %s", k_ab, from, nows);
    pl_redis_append (rd, "ZCOUNT %s %s %s", k_ma, from, nows);
    pl_redis_append (rd, "GET %s", k_paused);
    pl_redis_append (rd, "ZCARD %s", k_ready);
    pl_redis_append (rd, "ZCARD %s", k_brg);
    enum { NR = 12 };
    pl_reply_t *r[NR] = { 0 };
    int rc = 0;
    for (int i = 0; i < NR; i++)
        if (pl_redis_get_reply (rd, &r[i]) != 0)
            rc = PL_EREDIS;
    if (rc == 0) {
        static const char *names[] = { "", "logged_out", "ready", "on_call", "wrap_up", "paused" };
        double wrap_n = 0, wrap_ms = 0;
        for (size_t i = 0; i + 1 < pl_reply_len (r[0]); i += 2) {
            const char *f = pl_reply_str (pl_reply_element (r[0], i), NULL);
            const char *val = pl_reply_str (pl_reply_element (r[0], i + 1), NULL);
            if (!f || !val)
                continue;
            for (int k = 1; k < 6; k++)
                if (strcmp (f, names[k]) == 0)
                    v->by_state[k] = atoi (val) > 0 ? atoi (val) : 0;
            if (strcmp (f, "wrap_n") == 0)
                wrap_n = strtod (val, NULL);
            else if (strcmp (f, "wrap_ms") == 0)
                wrap_ms = strtod (val, NULL);
        }
        long long nresv = pl_reply_int (r[1]);
        v->inflight = pl_reply_int (r[2]);
        v->queued = pl_reply_int (r[3]);
        v->f.ready = (int) pl_reply_int (r[10]);
        v->bridged = pl_reply_int (r[11]);
        v->f.staffed = v->by_state[2] + v->by_state[3] + v->by_state[4];
        v->f.wrap_up = v->by_state[4];
        v->f.wrap_ms_mean = wrap_n > 0 ? wrap_ms / wrap_n : 0;
        v->f.inflight_unreserved = (int) (v->inflight - nresv);
        v->f.placed_recent = pl_reply_int (r[4]);
        v->f.answered_recent = pl_reply_int (r[5]);
        v->f.live = pl_reply_int (r[6]);
        v->f.abandoned = pl_reply_int (r[7]);
        v->machine = pl_reply_int (r[8]);
        const char *pz = pl_reply_str (r[9], NULL);
        snprintf (v->paused, sizeof v->paused, "%s", pz ? pz : "");
        v->f.budget_ppm = c->abandon_ppm;
        if (c->abandon_calendar_day && c->amd) {
            /* Ofcom: detections that were people count as abandoned, by a reasoned estimate. */
            int64_t est = (int64_t) ((double) v->machine * self->o.amd_false_positive + 0.5);
            v->f.abandoned += est;
            v->f.live += est;
        }
    }
    for (int i = 0; i < NR; i++)
        pl_reply_free (&r[i]);
    return rc;
}

/* The report's figures as of instant `at`: the calls of its period [from, at] whose outcome the
 * dialer had learnt by `at`, as the checker counts them. Each stats set has a twin by the instant
 * the outcome was learnt (":seen"): those of the period learnt after `at` are taken off. */
static int
s_report_count (dialer_t *self, const dialer_campaign_t *c, const char *suffix, int64_t from, int64_t at,
                int64_t *n)
{
    char k[200], k_seen[200], sfx[64], lo[24], hi[24], after[24];
    s_key (k, sizeof k, c->name, suffix);
    snprintf (sfx, sizeof sfx, "%s:seen", suffix);
    s_key (k_seen, sizeof k_seen, c->name, sfx);
    snprintf (lo, sizeof lo, "%lld", (long long) from);
    snprintf (hi, sizeof hi, "%lld", (long long) at);
    snprintf (after, sizeof after, "(%lld", (long long) at);
    pl_reply_t *r = pl_redis_command (self->o.redis, "ZCOUNT %s %s %s", k, lo, hi);
    if (!r || pl_reply_type (r) != PL_REPLY_INTEGER) {
        pl_reply_free (&r);
        return PL_EREDIS;
    }
    *n = pl_reply_int (r);
    pl_reply_free (&r);
    r = pl_redis_command (self->o.redis, "ZRANGEBYSCORE %s %s +inf", k_seen, after);
    size_t late = r && pl_reply_type (r) == PL_REPLY_ARRAY ? pl_reply_len (r) : 0;
    for (size_t i = 0; i < late; i++)
        pl_redis_append (self->o.redis, "ZSCORE %s %s", k, pl_reply_str (pl_reply_element (r, i), NULL));
    int rc = r ? 0 : PL_EREDIS;
    for (size_t i = 0; i < late; i++) {
        pl_reply_t *z = NULL;
        if (pl_redis_get_reply (self->o.redis, &z) != 0)
            rc = PL_EREDIS;
        const char *sv = z && pl_reply_type (z) == PL_REPLY_STRING ? pl_reply_str (z, NULL) : NULL;
        int64_t placed = sv ? strtoll (sv, NULL, 10) : INT64_MIN;
        if (placed >= from && placed <= at)
            (*n)--;
        pl_reply_free (&z);
    }
    pl_reply_free (&r);
    return rc;
}

/* The hourly pacing.report, as of the hour's first instant `at`. It is written once every outcome
 * learnt before `at` is surely stored (S_REPORT_GRACE_WALL_MS later), so that its figures are
 * the ones the audit's call.outcome records give for the same instant. 0 when written (or
 * written before: its id is the step's marker); otherwise the next tick tries again. */
static int
s_report (dialer_t *self, s_camp_t *sc, int64_t at, bool predicting)
{
    const dialer_campaign_t *c = sc->c;
    int64_t from = s_period_from (c, at), live = 0, ab = 0, mach = 0;
    if (s_report_count (self, c, "out:live", from, at, &live) != 0
        || s_report_count (self, c, "out:aband", from, at, &ab) != 0
        || s_report_count (self, c, "out:machine", from, at, &mach) != 0)
        return PL_EREDIS;
    int64_t est = c->abandon_calendar_day && c->amd
                      ? (int64_t) ((double) mach * self->o.amd_false_positive + 0.5) : 0;
    char tag[96], id[200];
    s_tag (tag, sizeof tag, c->name);
    snprintf (id, sizeof id, "%s.pacing.%lld", c->name, (long long) (at / 3600000));
    Plateau__V1__AuditEvent ev;
    Plateau__V1__PacingFacts pf = PLATEAU__V1__PACING_FACTS__INIT;
    s_event (self, &ev, "pacing.report", id, at, c, NULL, NULL, NULL);
    pf.mode = (char *) (c->mode == DIALER_PREDICTIVE && !predicting ? "progressive" : dialer_mode_name (c->mode));
    pf.period_from_ms = from;
    pf.period_to_ms = at + 1;
    pf.live_answered = live;
    pf.abandoned = ab;
    pf.machine_detected = mach;
    pf.amd_false_positive_estimate = est;     /* Ofcom: detections that were people count as abandoned */
    pf.rate_ppm = live + est ? (int32_t) (1000000.0 * (double) (ab + est) / (double) (live + est)) : 0;
    pf.budget_ppm = (int32_t) c->abandon_ppm;
    pf.rule = (char *) c->abandon_rule;
    ev.pacing = &pf;
    /* The report's id as the step's marker: one report per campaign and hour, whoever owns it. */
    pl_inbox_tx_t *tx = pl_inbox_tx_new (tag, id);
    int rc = tx ? s_emit_audit (self, tx, &ev, NULL) : PL_ENOMEM;
    if (rc == 0)
        rc = s_apply1 (self, tx);
    pl_inbox_tx_destroy (&tx);
    return rc;
}

int
dialer_pace_tick (pl_loop_t *loop, void *arg)
{
    (void) loop;
    dialer_t *self = arg;
    s_refresh (self);
    int64_t now = pl_clock_now_ms (self->o.clock);
    for (size_t i = 0; i < self->n_camps; i++) {
        s_camp_t *sc = &self->camps[i];
        if (!sc->owned)
            continue;
        s_view_t v;
        if (s_view (self, sc->c, now, &v) != 0)
            continue;
        pacing_plan_t p = pacing_plan (sc->c->mode, &v.f);
        if (p.lines > 0 && v.queued > 0 && !*v.paused)
            s_dial (self, sc, p.lines, p.reserve, now);
        pl_metric_set (self->m_paused, sc->c->name, *v.paused ? 1 : 0);
        const char *name = sc->c->name;
        pl_metric_set (self->m_lines, name, (double) v.inflight);
        pl_metric_set (self->m_queue, name, (double) v.queued);
        pl_metric_set (self->m_rate, name, v.f.live ? (double) v.f.abandoned / (double) v.f.live : 0);
        pl_metric_set (self->m_answer, name,
                       v.f.placed_recent ? (double) v.f.answered_recent / (double) v.f.placed_recent : 0);
        static const char *names[] = { "", "logged_out", "ready", "on_call", "wrap_up", "paused" };
        for (int k = 1; k < 6; k++) {
            char labels[160];
            snprintf (labels, sizeof labels, "%s,%s", name, names[k]);
            pl_metric_set (self->m_agents, labels, v.by_state[k]);
        }
        /* The report of the hour that began at least a grace ago (in wall time: a simulation's
         * clock runs faster than outcomes travel). */
        int64_t grace = (int64_t) S_REPORT_GRACE_WALL_MS * pl_clock_speed (self->o.clock);
        int64_t hour = (now - grace) / 3600000;
        if (hour != sc->report_hour && s_report (self, sc, hour * 3600000, p.predicting) == 0)
            sc->report_hour = hour;
    }
    return 0;
}

/* Voids attempt `att` of sc if it is still claimed or checking (never checked, or its check
 * refused) and requeues its lead at `due` with `reason` and `outcome` (dial.scheduled).
 * 1 when voided, 0 when the attempt had moved on (a leftover: dropped from inflight unless
 * telephony has it), or an error. */
static int
s_void_unchecked (dialer_t *self, s_camp_t *sc, const char *att, int64_t now, int64_t due,
                  const char *reason, const char *outcome)
{
    const dialer_campaign_t *c = sc->c;
    char k_infl[200], tag[96], lead_id[160];
    s_key (k_infl, sizeof k_infl, c->name, "inflight");
    s_tag (tag, sizeof tag, c->name);
    s_lead_t l;
    if (!att || !s_lead_of (att, lead_id, sizeof lead_id))
        return PL_EINVAL;
    int rc = s_read_lead (self, c, lead_id, &l);
    if (rc != 0)
        return rc;
    bool mine = strcmp (l.att, att) == 0;
    if (!mine || (strcmp (l.state, "claimed") && strcmp (l.state, "checking"))) {
        if (!mine || (strcmp (l.state, "placed") && strcmp (l.state, "talking")))
            pl_redis_exec (self->o.redis, "ZREM %s %s", k_infl, att);    /* a leftover */
        s_lead_free (&l);
        return 0;
    }
    s_next_t nx = { .state = "queued", .due = due, .idx = l.idx, .reason = reason, .outcome = outcome };
    pl_inbox_tx_t *tx = pl_inbox_tx_new (tag, NULL);
    rc = tx ? s_move_effect (tx, c, lead_id, &l, "claimed|checking", &nx, NULL, NULL, now, 0) : PL_ENOMEM;
    if (rc == 0)
        rc = s_schedule_event (self, tx, c, lead_id, &l, &nx, now, NULL);
    if (rc == 0)
        rc = s_apply1 (self, tx);
    if (rc == 0) {
        char number[24] = "";
        s_number (l.nums, l.idx, number);
        char debt[128];
        s_lead_debt (&l, debt, sizeof debt, NULL, 0);
        s_history_update (self, number, att, c, debt, now, 0, true);
    }
    pl_inbox_tx_destroy (&tx);
    s_lead_free (&l);
    return rc == 0 ? 1 : rc;
}

/* A call telephony lost (S_LOST_*): its line and agent are freed and its lead goes on under the
 * retry policy of a failed call (dial.scheduled, outcome outcome_lost or disposition_lost). Not
 * counted live nor abandoned: nothing says whether a person answered, as for the checker, which
 * counts call.outcome records. 1 ended, 0 not lost yet, 2 no longer this lead's call (ended
 * by telephony), <0 an error. */
static int
s_end_lost (dialer_t *self, s_camp_t *sc, const char *att, int64_t now)
{
    const dialer_campaign_t *c = sc->c;
    char lead_id[160];
    if (!att || !s_lead_of (att, lead_id, sizeof lead_id))
        return 0;
    s_lead_t l;
    int rc = s_read_lead (self, c, lead_id, &l);
    if (rc != 0)
        return rc == PL_ENOTFOUND ? 0 : rc;
    bool placed = strcmp (l.state, "placed") == 0, talking = strcmp (l.state, "talking") == 0;
    int64_t age = now - l.at;
    if (strcmp (l.att, att) != 0 || (!placed && !talking)) {
        s_lead_free (&l);
        return 2;
    }
    if (!((placed && age > c->ring_timeout_s * 1000LL + S_LOST_PLACED_MS) || (talking && age > S_LOST_TALKING_MS))) {
        s_lead_free (&l);
        return 0;
    }
    s_next_t nx = s_retry (c, &l, DIALER_RETRY_FAILED, placed ? "outcome_lost" : "disposition_lost", now);
    char tag[96], state[16];
    snprintf (state, sizeof state, "%s", l.state);
    s_tag (tag, sizeof tag, c->name);
    pl_inbox_tx_t *tx = pl_inbox_tx_new (tag, NULL);
    rc = tx ? s_move_effect (tx, c, lead_id, &l, state, &nx, NULL, NULL, now, 0) : PL_ENOMEM;
    if (rc == 0)
        rc = s_schedule_event (self, tx, c, lead_id, &l, &nx, now, NULL);
    if (rc == 0)
        rc = s_apply1 (self, tx);
    const char *reply = rc == 0 ? pl_inbox_tx_reply (tx, NULL) : NULL;
    bool moved = reply && strcmp (reply, "ok") == 0;
    pl_inbox_tx_destroy (&tx);
    s_lead_free (&l);
    if (moved)
        pl_metric_inc (self->m_steps, placed ? "outcome_lost,ok" : "disposition_lost,ok", 1);
    return rc != 0 ? rc : moved ? 1 : 0;
}

/* Attempts claimed on this replica's campaigns and never checked (a crash, a lost check): voided
 * and requeued now. A placed or answered one is telephony's until its outcome and disposition,
 * unless telephony lost it (s_end_lost). */
int
dialer_recover_tick (pl_loop_t *loop, void *arg)
{
    (void) loop;
    dialer_t *self = arg;
    s_refresh (self);
    int64_t now = pl_clock_now_ms (self->o.clock);
    char old[24];
    snprintf (old, sizeof old, "%lld", (long long) (pl_clock_now_ms (NULL) - S_STUCK_WALL_MS));
    for (size_t i = 0; i < self->n_camps; i++) {
        s_camp_t *sc = &self->camps[i];
        if (!sc->owned)
            continue;
        char k_infl[200];
        s_key (k_infl, sizeof k_infl, sc->c->name, "inflight");
        pl_reply_t *r = pl_redis_command (self->o.redis, "ZRANGEBYSCORE %s -inf %s LIMIT 0 1000", k_infl, old);
        size_t n = r && pl_reply_type (r) == PL_REPLY_ARRAY ? pl_reply_len (r) : 0;
        for (size_t j = 0; j < n; j++) {
            const char *att = pl_reply_str (pl_reply_element (r, j), NULL);
            if (s_void_unchecked (self, sc, att, now, now, "takeover", "unchecked") == 1)
                pl_log_info (self->o.log, NULL, "unchecked attempt voided and requeued", "attempt", att);
        }
        pl_reply_free (&r);
        /* Lines in flight, and calls bridged to an agent (no longer in flight): lost ones end. */
        char lost[24], k_brg[200];
        snprintf (lost, sizeof lost, "%lld", (long long) (pl_clock_now_ms (NULL) - S_LOST_WALL_MS));
        s_key (k_brg, sizeof k_brg, sc->c->name, "bridged");
        for (int z = 0; z < 2; z++) {
            const char *zk = z ? k_brg : k_infl;
            r = pl_redis_command (self->o.redis, "ZRANGEBYSCORE %s -inf %s LIMIT 0 1000", zk, lost);
            n = r && pl_reply_type (r) == PL_REPLY_ARRAY ? pl_reply_len (r) : 0;
            for (size_t j = 0; j < n; j++) {
                const char *att = pl_reply_str (pl_reply_element (r, j), NULL);
                int e = s_end_lost (self, sc, att, now);
                if (e == 1)
                    pl_log_warn (self->o.log, NULL, "a call telephony never ended: line freed, lead requeued",
                                 "attempt", att);
                if (z && (e == 1 || e == 2))
                    pl_redis_exec (self->o.redis, "ZREM %s %s", k_brg, att);    /* ended: forgotten */
            }
            pl_reply_free (&r);
        }
    }
    return 0;
}

/* A DialCheck scrub refused for good (STALE, FORBIDDEN, INVALID: a clock, key or version
 * mismatch that a resend cannot cure) is in the dead letters: its attempt is voided at once,
 * rather than holding a line until the recovery's 30 s of real time, and its lead requeued
 * S_REFUSED_RETRY_MS later, so that a floor whose every check is refused does not spin. */
void
dialer_on_dead_check (void *arg, const pl_envelope_t *env, const char *reason)
{
    dialer_t *self = arg;
    if (env->body_case != PLATEAU__V1__ENVELOPE__BODY_DIAL_CHECK)
        return;
    const Plateau__V1__DialCheck *dc = env->dial_check;
    s_refresh (self);
    s_camp_t *sc = s_camp (self, dc->campaign);
    if (!sc || !sc->owned)
        return;                        /* another replica's now: its recovery voids it */
    int64_t now = pl_clock_now_ms (self->o.clock);
    int rc = s_void_unchecked (self, sc, dc->check_id, now, now + S_REFUSED_RETRY_MS, "check_refused", "unchecked");
    pl_metric_inc (self->m_steps, rc >= 0 ? "refused,ok" : "refused,failed", 1);
    pl_log_error (self->o.log, NULL, rc == 1 ? "dial check refused by scrub: attempt voided, lead requeued"
                                             : rc == 0 ? "dial check refused by scrub (the attempt had moved on)"
                                                       : "dial check refused by scrub: the recovery will void it", "attempt", dc->check_id, "reason", reason);
}

/* ---- reading: why, queue; an agent's manual dial ---------------------------------------------- */

/* "2026-12-08T10:00:00+01:00" in zone (UTC when NULL). */
static void
s_local (const pl_rules_tz_t *zone, int64_t ms, char *out, size_t size)
{
    if (!zone) {
        pl_time_format_rfc3339 (ms, out, size);
        return;
    }
    pl_rules_tm_t tm;
    pl_rules_tz_local (zone, ms / 1000, &tm);
    int off = tm.utoff / 60;
    snprintf (out, size, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", (int) tm.year, tm.month, tm.day, tm.hour,
              tm.minute, tm.second, off < 0 ? '-' : '+', abs (off) / 60, abs (off) % 60);
}

static json_t *
s_instant (const pl_rules_tz_t *zone, int64_t ms)
{
    char utc[40], local[40];
    pl_time_format_rfc3339 (ms, utc, sizeof utc);
    s_local (zone, ms, local, sizeof local);
    return json_pack ("{s:s, s:s, s:s}", "utc", utc, "local", local, "zone", zone ? pl_rules_tz_name (zone) : "UTC");
}

static json_t *s_why (dialer_t *self, const char *campaign, const char *lead_id, int *rc);

json_t *
dialer_why (dialer_t *self, const char *campaign, const char *lead_id, int *rc)
{
    s_refresh (self);
    return s_why (self, campaign, lead_id, rc);
}

/* dialer_why without the refresh: dialer_queue asks it while holding its campaign. */
static json_t *
s_why (dialer_t *self, const char *campaign, const char *lead_id, int *rc)
{
    s_camp_t *sc = s_camp (self, campaign);
    *rc = PL_ENOTFOUND;
    if (!sc || !lead_id || !*lead_id || strlen (lead_id) > 64)
        return NULL;
    const dialer_campaign_t *c = sc->c;
    s_lead_t l;
    *rc = s_read_lead (self, c, lead_id, &l);
    if (*rc != 0)
        return NULL;
    Plateau__V1__Lead *lead = l.pb ? plateau__v1__lead__unpack (NULL, l.pb_len, (uint8_t *) l.pb) : NULL;
    /* The callee's zone: the binding zone of the last check, else the number's first. */
    char lz[64] = "", lr[64] = "", lu[24] = "", ld[16] = "", le[24] = "";
    if (*l.last)
        sscanf (l.last, "%15s %63s %23s %63s %23s", ld, lr, lu, lz, le);
    const pl_rules_tz_t *zone = dialer_campaigns_zone (self->o.campaigns, strcmp (lz, "-") ? lz : "");
    if (!zone && lead && lead->phone && lead->phone->n_zones)
        zone = dialer_campaigns_zone (self->o.campaigns, lead->phone->zones[0]);
    char number[24] = "";
    s_number (l.nums, l.idx, number);
    json_t *nums = json_array ();
    for (int i = 0; i < s_count_numbers (l.nums); i++) {
        char n[24];
        if (s_number (l.nums, i, n))
            json_array_append_new (nums, json_string (n));
    }
    json_t *o = json_pack ("{s:s, s:s, s:s, s:s, s:o, s:s, s:i, s:i}", "lead", lead_id, "campaign", c->name,
                           "tenant", c->tenant, "state", l.state, "numbers", nums, "number", number,
                           "attempts", l.placed, "max_attempts", c->max_attempts);
    if (strcmp (l.state, "queued") == 0) {
        json_t *next = s_instant (zone, l.due);
        json_object_set_new (next, "reason", json_string (l.callback ? "callback" : l.placed ? "retry" : "first attempt"));
        json_object_set_new (o, "next_attempt", next);
        json_object_set_new (o, "summary", json_string ("waiting in the queue: it is dialled at the instant given, "
                                                        "after every rule is checked again"));
    }
    else if (strcmp (l.state, "done") == 0) {
        json_object_set_new (o, "finished", json_string (l.fin));
        json_object_set_new (o, "summary", json_string ("will not be called again in this campaign"));
    }
    else
        json_object_set_new (o, "summary", json_string (strcmp (l.state, "claimed") == 0 || strcmp (l.state, "checking") == 0
                                                            ? "being checked for a dial now"
                                                            : "on a call now"));
    if (*ld) {
        json_t *last = json_pack ("{s:s, s:s}", "decision", ld, "rule", lr);
        int64_t until = strtoll (lu, NULL, 10), at = strtoll (le, NULL, 10);
        if (until > 0)
            json_object_set_new (last, strcmp (ld, "allow") == 0 ? "allowed_until" : "until", s_instant (zone, until));
        if (at > 0)
            json_object_set_new (last, "evaluated_at", s_instant (zone, at));
        json_object_set_new (o, "last_check", last);
    }
    if (*l.result)
        json_object_set_new (o, "last_result", json_string (l.result));
    if (*l.code)
        json_object_set_new (o, "last_disposition", json_string (l.code));
    /* The contact history of its current number, every tenant's (caps count per tenant). */
    json_t *hist = json_array ();
    if (*number) {
        pl_reply_t *r = pl_redis_command (self->o.redis, "HGETALL pl:{num:%s}:hist", number);
        for (size_t i = 0; r && i + 1 < pl_reply_len (r); i += 2) {
            const char *att = pl_reply_str (pl_reply_element (r, i), NULL);
            const char *e = pl_reply_str (pl_reply_element (r, i + 1), NULL);
            if (!att || !e)
                continue;
            long long at = 0;
            unsigned flags = 0;
            char ten[128] = "", camp[128] = "";
            sscanf (e, "%lld|%127[^|]|%127[^|]|%*[^|]|%u", &at, ten, camp, &flags);
            char utc[40];
            pl_time_format_rfc3339 (at, utc, sizeof utc);
            json_array_append_new (hist, json_pack ("{s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:b}", "attempt", att,
                                                    "at", utc, "tenant", ten, "campaign", camp,
                                                    "conversation", (flags & 1) != 0, "refusal", (flags & 2) != 0,
                                                    "abandoned", (flags & 4) != 0, "machine", (flags & 8) != 0));
        }
        pl_reply_free (&r);
    }
    json_object_set_new (o, "history", hist);
    if (lead)
        plateau__v1__lead__free_unpacked (lead, NULL);
    s_lead_free (&l);
    *rc = 0;
    return o;
}

json_t *
dialer_queue (dialer_t *self, const char *campaign, int limit, int *rc)
{
    s_refresh (self);
    s_camp_t *sc = s_camp (self, campaign);
    *rc = PL_ENOTFOUND;
    if (!sc)
        return NULL;
    const dialer_campaign_t *c = sc->c;
    int64_t now = pl_clock_now_ms (self->o.clock);
    s_view_t v;
    *rc = s_view (self, c, now, &v);
    if (*rc != 0)
        return NULL;
    pacing_plan_t p = pacing_plan (c->mode, &v.f);
    char k_due[200], nows[24];
    s_key (k_due, sizeof k_due, c->name, "due");
    snprintf (nows, sizeof nows, "%lld", (long long) now);
    pl_reply_t *r = pl_redis_command (self->o.redis, "ZRANGE %s 0 %d WITHSCORES", k_due, limit > 0 ? limit - 1 : 19);
    pl_reply_t *d = pl_redis_command (self->o.redis, "ZCOUNT %s -inf %s", k_due, nows);
    json_t *head = json_array ();
    for (size_t i = 0; r && i + 1 < pl_reply_len (r); i += 2) {
        const char *id = pl_reply_str (pl_reply_element (r, i), NULL);
        const char *due = pl_reply_str (pl_reply_element (r, i + 1), NULL);
        int wrc = 0;
        json_t *why = id ? s_why (self, c->name, id, &wrc) : NULL;
        json_t *e = json_pack ("{s:s, s:I}", "lead", id ? id : "", "due_ms", (json_int_t) (due ? strtoll (due, NULL, 10) : 0));
        if (why) {
            json_object_set (e, "next_attempt", json_object_get (why, "next_attempt"));
            json_object_set (e, "last_check", json_object_get (why, "last_check"));
            json_object_set (e, "attempts", json_object_get (why, "attempts"));
            json_decref (why);
        }
        json_array_append_new (head, e);
    }
    static const char *names[] = { "", "logged_out", "ready", "on_call", "wrap_up", "paused" };
    json_t *agents = json_object ();
    for (int k = 1; k < 6; k++)
        json_object_set_new (agents, names[k], json_integer (v.by_state[k]));
    char from[40];
    pl_time_format_rfc3339 (v.period_from, from, sizeof from);
    char k_lease[200], paced_by[128] = "";
    s_key (k_lease, sizeof k_lease, c->name, "lease");
    pl_reply_t *ls = pl_redis_command (self->o.redis, "GET %s", k_lease);
    const char *lv = ls ? pl_reply_str (ls, NULL) : NULL;
    if (lv)
        snprintf (paced_by, sizeof paced_by, "%.*s", (int) strcspn (lv, " "), lv);
    pl_reply_free (&ls);
    json_t *o = json_pack ("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:o, s:{s:s, s:s, s:I, s:I, s:f, s:f}, s:{s:i, s:b, s:i}, s:o}",
                           "campaign", c->name, "mode", dialer_mode_name (c->mode), "tenant", c->tenant,
                           "paced_by", paced_by, "queued", (json_int_t) v.queued,
                           "due_now", (json_int_t) (d ? pl_reply_int (d) : 0), "lines_in_flight", (json_int_t) v.inflight,
                           "calls_bridged", (json_int_t) v.bridged, "agents", agents, "abandon", "rule", c->abandon_rule, "period_from", from,
                           "live_answered", (json_int_t) v.f.live, "abandoned", (json_int_t) v.f.abandoned,
                           "rate", v.f.live ? (double) v.f.abandoned / (double) v.f.live : 0.0,
                           "budget", c->abandon_ppm / 1e6, "pacing", "lines_now", p.lines, "predicting", p.predicting,
                           "headroom", p.headroom, "head", head);
    if (*v.paused) {
        /* "<at ms>|<actor>|<reason>" */
        char *bar1 = strchr (v.paused, '|'), *bar2 = bar1 ? strchr (bar1 + 1, '|') : NULL;
        char at[40] = "";
        pl_time_format_rfc3339 (strtoll (v.paused, NULL, 10), at, sizeof at);
        if (bar2)
            *bar2 = '\0';
        json_object_set_new (o, "paused", json_pack ("{s:s, s:s, s:s}", "at", at, "by", bar1 ? bar1 + 1 : "",
                                                     "reason", bar2 ? bar2 + 1 : ""));
    } else
        json_object_set_new (o, "paused", json_null ());
    if (v.queued > 0 && (!d || pl_reply_int (d) == 0) && pl_reply_len (r) >= 2) {
        /* Nothing due: say when the head is, and why it waits. */
        json_object_set_new (o, "summary", json_string ("no lead is due now; the head waits for the instant shown"));
    }
    pl_reply_free (&r);
    pl_reply_free (&d);
    *rc = 0;
    return o;
}

/* K dl, due, paused; A lead, now, agent. Only a lead waiting in the queue of a running campaign. */
static const pl_inbox_effect_t s_dial_now = {
    "dialer.dial_now",
    "if redis.call('EXISTS', K[3]) == 1 then return 'paused' end\n"
    "if redis.call('HGET', K[1], 'state') ~= 'queued' then return 'busy' end\n"
    "redis.call('HSET', K[1], 'man', A[3], 'due', A[2])\n"
    "redis.call('ZADD', K[2], A[2], A[1])\n"
    "return 'ok'\n"
};

int
dialer_dial_now (dialer_t *self, const char *campaign, const char *lead_id, const char *agent_id)
{
    s_refresh (self);
    s_camp_t *sc = s_camp (self, campaign);
    if (!sc || !lead_id || !*lead_id || strlen (lead_id) > 64 || !agent_id || !*agent_id || strlen (agent_id) > 64)
        return PL_ENOTFOUND;
    char tag[96], k_dl[300], k_due[200], k_paused[200], nows[24];
    s_tag (tag, sizeof tag, sc->c->name);
    s_lead_key (k_dl, sizeof k_dl, sc->c->name, lead_id);
    s_key (k_due, sizeof k_due, sc->c->name, "due");
    s_key (k_paused, sizeof k_paused, sc->c->name, "paused");
    pl_reply_t *e = pl_redis_command (self->o.redis, "EXISTS %s", k_dl);
    bool exists = e && pl_reply_int (e) == 1;
    pl_reply_free (&e);
    if (!exists)
        return PL_ENOTFOUND;
    /* Due a millisecond ago: ahead of the leads that fell due at this instant. */
    snprintf (nows, sizeof nows, "%lld", (long long) pl_clock_now_ms (self->o.clock) - 1);
    pl_inbox_tx_t *tx = pl_inbox_tx_new (tag, NULL);
    const char *keys[3] = { k_dl, k_due, k_paused };
    const char *args[3] = { lead_id, nows, agent_id };
    int rc = tx ? pl_inbox_tx_effect (tx, &s_dial_now, 3, keys, 3, args, NULL) : PL_ENOMEM;
    if (rc == 0)
        rc = s_apply1 (self, tx);
    const char *rep = rc == 0 ? pl_inbox_tx_reply (tx, NULL) : NULL;
    if (rc == 0 && rep && strcmp (rep, "paused") == 0)
        rc = PL_ECLOSED;
    else if (rc == 0 && (!rep || strcmp (rep, "ok") != 0))
        rc = PL_EBUSY;
    pl_inbox_tx_destroy (&tx);
    return rc;
}

/* Pause: K paused; A "<at ms>|<actor>|<reason>", or "" to resume. 'same' (and nothing emitted)
 * when the campaign is already in that state. */
static const pl_inbox_effect_t s_pause = {
    "dialer.pause",
    "local cur = redis.call('GET', K[1])\n"
    "if A[1] == '' then\n"
    "  if not cur then return 'same', false end\n"
    "  redis.call('DEL', K[1])\n"
    "  return 'ok'\n"
    "end\n"
    "if cur then return 'same', false end\n"
    "redis.call('SET', K[1], A[1])\n"
    "return 'ok'\n"
};

int
dialer_pause (dialer_t *self, const char *campaign, bool pause, const char *actor, const char *reason,
              bool *changed)
{
    s_refresh (self);
    *changed = false;
    s_camp_t *sc = s_camp (self, campaign);
    if (!sc)
        return PL_ENOTFOUND;
    if (!actor || !*actor || strlen (actor) > 64 || (reason && strlen (reason) > 200))
        return PL_EINVAL;
    const dialer_campaign_t *c = sc->c;
    int64_t now = pl_clock_now_ms (self->o.clock);
    char tag[96], key[200], val[320] = "", ulid[PL_ID_LEN + 1], id[200];
    s_tag (tag, sizeof tag, c->name);
    s_key (key, sizeof key, c->name, "paused");
    if (pause)
        snprintf (val, sizeof val, "%lld|%s|%s", (long long) now, actor, reason ? reason : "");
    pl_id_new (ulid, now);
    snprintf (id, sizeof id, "%s.%s", ulid, pause ? "campaign_paused" : "campaign_resumed");
    pl_inbox_tx_t *tx = pl_inbox_tx_new (tag, NULL);
    const char *keys[1] = { key };
    const char *args[1] = { val };
    int rc = tx ? pl_inbox_tx_effect (tx, &s_pause, 1, keys, 1, args, NULL) : PL_ENOMEM;
    Plateau__V1__AuditEvent ev;
    s_event (self, &ev, pause ? "campaign.paused" : "campaign.resumed", id, now, c, NULL, NULL, NULL);
    ev.actor = (char *) actor;
    ev.reason = (char *) (reason ? reason : "");
    if (rc == 0)
        rc = s_emit_audit (self, tx, &ev, NULL);
    if (rc == 0)
        rc = s_apply1 (self, tx);
    const char *rep = rc == 0 ? pl_inbox_tx_reply (tx, NULL) : NULL;
    *changed = rc == 0 && rep && strcmp (rep, "ok") == 0;
    pl_inbox_tx_destroy (&tx);
    if (*changed)
        pl_log_info (self->o.log, NULL, pause ? "campaign paused" : "campaign resumed", "campaign", c->name,
                     "actor", actor);
    return rc;
}

/* ---- campaign definitions: campaign.configured ------------------------------------------------ */

#define S_MAX_SETTINGS 256

typedef struct {
    Plateau__V1__CampaignConfig__Setting s[S_MAX_SETTINGS], *p[S_MAX_SETTINGS];
    char *strs[S_MAX_SETTINGS * 3];
    size_t n, n_strs;
} s_settings_t;

/* Every key of the definition as a setting: "[rule fr.hours] window = …" is (fr.hours, window,
 * …); the dialer's own sections are ("dialer", mode, …) and ("dialer-retry busy", delay, …). */
static int
s_on_setting (void *arg, const char *section, const char *sarg, const char *key, const char *value, int line)
{
    (void) line;
    s_settings_t *st = arg;
    if (!key || st->n >= S_MAX_SETTINGS)
        return 0;
    char rule[160];
    if (strcmp (section, "rule") == 0 && sarg)
        snprintf (rule, sizeof rule, "%s", sarg);
    else
        snprintf (rule, sizeof rule, "%s%s%s", section, sarg ? " " : "", sarg ? sarg : "");
    Plateau__V1__CampaignConfig__Setting *x = &st->s[st->n];
    plateau__v1__campaign_config__setting__init (x);
    x->rule_id = st->strs[st->n_strs++] = strdup (rule);
    x->key = st->strs[st->n_strs++] = strdup (key);
    x->value = st->strs[st->n_strs++] = strdup (value ? value : "");
    if (!x->rule_id || !x->key || !x->value)
        return PL_ENOMEM;
    st->p[st->n] = x;
    st->n++;
    return 0;
}

/* campaign.configured for c into tx: its tenant, kind, profile and every value it sets. */
static int
s_configured_event (dialer_t *self, pl_inbox_tx_t *tx, const dialer_campaign_t *c, const char *id,
                    const char *actor, int64_t now)
{
    s_settings_t *st = calloc (1, sizeof *st);
    if (!st)
        return PL_ENOMEM;
    char err[256];
    int rc = pl_rules_text_each (c->origin, c->text, s_on_setting, st, err, sizeof err);
    Plateau__V1__AuditEvent ev;
    Plateau__V1__CampaignConfig cc = PLATEAU__V1__CAMPAIGN_CONFIG__INIT;
    s_event (self, &ev, "campaign.configured", id, now, c, NULL, NULL, NULL);
    ev.actor = (char *) actor;
    cc.tenant = (char *) c->tenant;
    cc.kind = c->kind;
    cc.profile = (char *) c->profile;
    cc.n_settings = st->n;
    cc.settings = st->p;
    cc.abandon_budget_permille = (int32_t) (c->abandon_ppm / 1000);
    /* The callee types it is for: a business lead is checked as one only in such a campaign. */
    char *callees[3];
    unsigned m = pl_rules_campaign_callees (c->rules);
    for (int t = 0; t < 3; t++)
        if (m & PL_RULES_CALLEE_BIT (t))
            callees[cc.n_callees++] = (char *) pl_rules_callee_name ((pl_rules_callee_t) t);
    cc.callees = callees;
    ev.campaign_config = &cc;
    ev.reason = (char *) c->origin;
    if (rc == 0)
        rc = s_emit_audit (self, tx, &ev, NULL);
    for (size_t i = 0; i < st->n_strs; i++)
        free (st->strs[i]);
    free (st);
    return rc;
}

int
dialer_announce (dialer_t *self)
{
    s_refresh (self);
    int64_t now = pl_clock_now_ms (self->o.clock);
    int rc = 0;
    for (size_t i = 0; i < self->n_camps && rc == 0; i++) {
        const dialer_campaign_t *c = self->camps[i].c;
        char tag[96], id[160];
        s_tag (tag, sizeof tag, c->name);
        /* One event per definition, whichever replica starts first and however often. */
        snprintf (id, sizeof id, "%s.configured.%016llx", c->name, (unsigned long long) c->text_hash);
        pl_inbox_tx_t *tx = pl_inbox_tx_new (tag, id);
        rc = tx ? s_configured_event (self, tx, c, id, c->from_api ? "api" : "file", now) : PL_ENOMEM;
        if (rc == 0)
            rc = s_apply1 (self, tx);
        pl_inbox_tx_destroy (&tx);
    }
    return rc;
}

static int
s_on_definition (const char *name, const char *text, size_t len, void *arg)
{
    dialer_t *self = arg;
    (void) len;
    char err[512] = "";
    bool changed = false;
    int rc = dialer_campaigns_define (self->o.campaigns, name, text, &changed, err, sizeof err);
    if (rc != 0)
        pl_log_error (self->o.log, NULL, "campaign definition not taken", "campaign", name, "error", err);
    else if (changed)
        pl_log_info (self->o.log, NULL, "campaign defined", "campaign", name, "from", "registry");
    return 0;            /* one bad definition does not hold the others back */
}

int
dialer_registry_tick (pl_loop_t *loop, void *arg)
{
    (void) loop;
    dialer_t *self = arg;
    if (pl_campaign_registry_poll (self->o.redis, &self->registry_rev, s_on_definition, self) != 0)
        pl_log_warn (self->o.log, NULL, "campaign registry unreadable", "error", "redis");
    return 0;
}

int
dialer_configure (dialer_t *self, const char *name, const char *text, const char *actor, bool *created, char *err,
                  size_t err_size)
{
    s_refresh (self);
    *created = false;
    int rc = dialer_campaigns_check (self->o.campaigns, name, err, err_size);
    if (rc != 0)
        return rc;
    /* The definition as the registry will hold it, parsed for its event. */
    dialer_campaigns_t *cs = self->o.campaigns;
    dialer_campaign_t *c = dialer_campaigns_parse (cs, name, text, err, err_size);
    if (!c)
        return PL_ECONFIG;
    int64_t now = pl_clock_now_ms (self->o.clock);
    char ulid[PL_ID_LEN + 1], id[200];
    pl_id_new (ulid, now);
    snprintf (id, sizeof id, "%s.campaign_configured", ulid);
    pl_inbox_tx_t *tx = pl_inbox_tx_new (PL_CAMPAIGN_REGISTRY_TAG, NULL);
    rc = tx ? pl_campaign_registry_put (tx, name, text) : PL_ENOMEM;
    if (rc == 0)
        rc = s_configured_event (self, tx, c, id, actor, now);
    if (rc == 0)
        rc = s_apply1 (self, tx);
    const char *rep = rc == 0 ? pl_inbox_tx_reply (tx, NULL) : NULL;
    if (rc == 0 && rep && strcmp (rep, "full") == 0) {
        snprintf (err, err_size, "%d campaigns are defined over the API already", PL_CAMPAIGN_REGISTRY_MAX);
        rc = PL_ENOSPC;
    }
    *created = rc == 0 && rep && strcmp (rep, "created") == 0;
    pl_inbox_tx_destroy (&tx);
    dialer_campaign_free (c);
    if (rc == 0) {
        /* In force here at once; the other replicas, scrub and the intake within a second. */
        bool changed;
        rc = dialer_campaigns_define (cs, name, text, &changed, err, err_size);
        pl_log_info (self->o.log, NULL, "campaign defined", "campaign", name, "actor", actor);
    }
    return rc;
}

int
dialer_leads_of (dialer_t *self, const char *e164, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!e164 || *e164 != '+' || strlen (e164) > 16)
        return PL_EINVAL;
    pl_reply_t *r = pl_redis_command (self->o.redis, "HKEYS pl:{num:%s}:ld", e164);
    if (!r)
        return PL_EREDIS;
    size_t k = pl_reply_len (r);
    char **v = calloc (k ? k : 1, sizeof *v);
    for (size_t i = 0; v && i < k; i++) {
        const char *m = pl_reply_str (pl_reply_element (r, i), NULL);
        v[(*n)++] = strdup (m ? m : "");
    }
    pl_reply_free (&r);
    *out = v;
    return v ? 0 : PL_ENOMEM;
}
