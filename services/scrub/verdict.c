/*  verdict.c — facts in, the rules engine's decision out, rendered three ways (see verdict.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "consent.h"
#include "optout.h"
#include "plateau/error.h"
#include "plateau/phone.h"
#include "plateau/timefmt.h"
#include "verdict.h"

#define S_MAX_CONSENTS SCRUB_VERDICT_MAX_CONSENTS

/* A number's region when the caller did not say: enough to pick a jurisdiction. */
static const char *
s_region_of (const char *e164)
{
    static const struct { const char *prefix, *region; } t[] = {
        { "+262", "RE" }, { "+590", "GP" }, { "+596", "MQ" }, { "+594", "GF" }, { "+269", "YT" },
        { "+33", "FR" },  { "+44", "GB" },  { "+1", "US" },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strncmp (e164, t[i].prefix, strlen (t[i].prefix)) == 0)
            return t[i].region;
    return "";
}

const char *
scrub_verdict_region (const scrub_number_t *num)
{
    return num->region && *num->region ? num->region : s_region_of (num->e164);
}

static pl_rules_line_t
s_line (int type)
{
    switch (type) {
    case 1: return PL_RULES_LINE_FIXED;
    case 2: return PL_RULES_LINE_MOBILE;
    case 4: return PL_RULES_LINE_VOIP;
    case 5: return PL_RULES_LINE_TOLLFREE;
    case 0: case 3: case 12: return PL_RULES_LINE_UNKNOWN;
    default: return PL_RULES_LINE_OTHER;
    }
}

static pl_rules_zone_source_t
s_zone_source (const char *s)
{
    if (!s)
        return PL_RULES_ZONE_NUMBER;
    if (strcmp (s, "override") == 0)
        return PL_RULES_ZONE_LEAD;
    if (strcmp (s, "postal_code") == 0)
        return PL_RULES_ZONE_POSTAL;
    if (strcmp (s, "state") == 0)
        return PL_RULES_ZONE_REGION;
    return PL_RULES_ZONE_NUMBER;
}

static void
s_date (int64_t ms, char out[11])
{
    char d[PL_TIME_RFC3339_MAX];
    pl_time_format_rfc3339 (ms, d, sizeof d);
    snprintf (out, 11, "%.10s", d);
}

/* The overlay profiles (a US state's) stacked on the profile for the verdict's regions: the
 * overlay of "US-FL" under "us-cc" is "us-fl", when the profiles have it for that region. */
static void
s_overlays (const scrub_campaigns_t *campaigns, scrub_verdict_t *v)
{
    const pl_rules_profiles_t *profiles = scrub_campaigns_profiles (campaigns);
    size_t fam = strcspn (v->profile, "-");
    for (size_t r = 0; r < v->n_regions; r++) {
        const char *dash = strchr (v->regions[r], '-');
        if (!dash || fam == 0)
            continue;
        char id[16];
        int w = snprintf (id, sizeof id, "%.*s-%s", (int) fam, v->profile, dash + 1);
        if (w < 0 || (size_t) w >= sizeof id)
            continue;
        for (char *p = id; *p; p++)
            *p = (char) tolower ((unsigned char) *p);
        const pl_rules_profile_t *p = pl_rules_profiles_find (profiles, id);
        if (!p || !pl_rules_profile_base (p))
            continue;
        bool covers = false, seen = false;
        for (size_t k = 0; k < pl_rules_profile_region_count (p) && !covers; k++)
            covers = strcasecmp (pl_rules_profile_region (p, k), v->regions[r]) == 0;
        for (size_t k = 0; k < v->n_overlays && !seen; k++)
            seen = strcmp (v->overlays[k], id) == 0;
        if (covers && !seen && v->n_overlays < PL_RULES_MAX_REGIONS)
            snprintf (v->overlays[v->n_overlays++], sizeof v->overlays[0], "%s", id);
    }
}

/* One number: its facts, then the engine. */
static void
s_judge_one (const scrub_campaigns_t *campaigns, scrub_catalog_t *catalog, const scrub_context_t *ctx,
             const scrub_number_t *num, const scrub_optouts_t *optouts, const scrub_consents_t *consents,
             size_t i, int64_t now, scrub_verdict_t *v)
{
    memset (v, 0, sizeof *v);
    snprintf (v->number, sizeof v->number, "%s", num->e164);
    const char *region = scrub_verdict_region (num);
    snprintf (v->region, sizeof v->region, "%s", region);
    bool debt = ctx->debt_ref && *ctx->debt_ref;
    scrub_campaign_t c;
    v->rc = scrub_campaigns_find (campaigns, ctx->campaign, ctx->jurisdiction, region, debt, &c);
    if (v->rc != 0)
        return;
    snprintf (v->campaign, sizeof v->campaign, "%s", c.name);
    snprintf (v->profile, sizeof v->profile, "%s", c.profile);
    snprintf (v->tenant, sizeof v->tenant, "%s", c.tenant);
    snprintf (v->jurisdiction, sizeof v->jurisdiction, "%s", c.jurisdiction);

    /* Zones: the intake's, else the number's prefix. */
    pl_rules_zone_ref_t zones[PL_RULES_MAX_ZONES];
    size_t nz = 0;
    for (size_t z = 0; z < num->n_zones && nz < PL_RULES_MAX_ZONES; z++) {
        const pl_rules_tz_t *tz = scrub_campaigns_zone (campaigns, num->zones[z]);
        if (!tz)
            continue;
        zones[nz] = (pl_rules_zone_ref_t) { tz, s_zone_source (num->zone_source) };
        snprintf (v->zones[nz], sizeof v->zones[nz], "%s", num->zones[z]);
        snprintf (v->zone_sources[nz], sizeof v->zone_sources[nz], "%s",
                  num->zone_source && *num->zone_source ? num->zone_source : "prefix");
        nz++;
    }
    if (nz == 0) {
        pl_phone_zones_t pz;
        if (pl_phone_zones_for_number (num->e164, &pz) > 0)
            for (size_t z = 0; z < pz.count && nz < PL_RULES_MAX_ZONES; z++) {
                const pl_rules_tz_t *tz = scrub_campaigns_zone (campaigns, pz.zones[z]);
                if (!tz)
                    continue;
                zones[nz] = (pl_rules_zone_ref_t) { tz, PL_RULES_ZONE_NUMBER };
                snprintf (v->zones[nz], sizeof v->zones[nz], "%s", pz.zones[z]);
                snprintf (v->zone_sources[nz], sizeof v->zone_sources[nz], "prefix");
                nz++;
            }
    }
    v->n_zones = nz;

    /* Regions: the number's (country, a US area code's state) and the address's, each with its
     * source; a state's rules apply by either. */
    pl_phone_place_t place = { .e164 = num->e164, .region = region, .country = ctx->country,
                               .postal_code = ctx->postal_code, .state = ctx->state };
    pl_phone_regions_t pr;
    pl_phone_resolve_regions (&place, &pr);
    const char *regions[PL_RULES_MAX_REGIONS];
    for (size_t r = 0; r < pr.count && r < PL_RULES_MAX_REGIONS; r++) {
        snprintf (v->regions[r], sizeof v->regions[r], "%s", pr.regions[r]);
        v->region_sources[r] = pr.sources[r] == PL_PHONE_REGION_ADDRESS ? PL_RULES_REGION_ADDRESS
                                                                        : PL_RULES_REGION_NUMBER;
        regions[r] = v->regions[r];
        v->n_regions++;
    }

    /* Consents that count for this campaign; the oldest one is what rnd is asked about. */
    pl_rules_consent_t ks[S_MAX_CONSENTS];
    size_t nk = scrub_consents_rules (consents, i, num->e164, c.name, ks, S_MAX_CONSENTS);
    int64_t oldest = 0;
    for (size_t k = 0; k < nk; k++) {
        snprintf (v->evidence[k], sizeof v->evidence[k], "%s", ks[k].evidence ? ks[k].evidence : "");
        ks[k].evidence = v->evidence[k];
    }
    for (size_t k = 0; k < nk; k++)
        if (!oldest || ks[k].captured_ms < oldest)
            oldest = ks[k].captured_ms;

    /* Lists: every list in force, then the internal list, live from Redis. */
    scrub_list_fact_t all[SCRUB_LIST_FACTS_MAX];
    size_t na = scrub_catalog_lookup (catalog, num->e164, oldest, all, SCRUB_LIST_FACTS_MAX);
    /* Another jurisdiction's registry says nothing about this number: only lists of its
     * jurisdiction, and those of none (client, campaign lists), are consulted. */
    for (size_t l = 0; l < na && l < SCRUB_LIST_FACTS_MAX && v->n_lists < SCRUB_LIST_FACTS_MAX - 1; l++)
        if (!*all[l].jurisdiction || strcasecmp (all[l].jurisdiction, c.jurisdiction) == 0)
            v->lists[v->n_lists++] = all[l];
    scrub_list_fact_t *dnc = &v->lists[v->n_lists++];
    snprintf (dnc->name, sizeof dnc->name, "internal-dnc");
    snprintf (dnc->version, sizeof dnc->version, "live");
    dnc->as_of_ms = dnc->loaded_at_ms = now;
    s_date (now, dnc->copy_date);
    dnc->hit = scrub_optouts_hit (optouts, i, c.tenant, ctx->debt_ref)
            || (ctx->tenant && *ctx->tenant && scrub_optouts_hit (optouts, i, ctx->tenant, ctx->debt_ref));
    pl_rules_list_t lists[SCRUB_LIST_FACTS_MAX];
    for (size_t l = 0; l < v->n_lists; l++)
        lists[l] = (pl_rules_list_t) { v->lists[l].name, v->lists[l].hit, v->lists[l].version,
                                       v->lists[l].as_of_ms };

    pl_rules_facts_t f = {
        .e164 = num->e164, .line = s_line (num->phone_type), .zones = zones, .n_zones = nz,
        .regions = regions, .n_regions = v->n_regions, .region_sources = v->region_sources,
        .debt = debt ? scrub_id_of (ctx->debt_ref) : 0,
        .consents = ks, .n_consents = nk, .lists = lists, .n_lists = v->n_lists,
        .calls = ctx->calls, .n_calls = ctx->n_calls, .dial = ctx->dial,
        .cli = ctx->cli && *ctx->cli ? ctx->cli : NULL, .callee = ctx->callee,
    };
    s_overlays (campaigns, v);
    v->rc = pl_rules_decide (c.campaign, &f, now, &v->d);
    if (v->rc == 0 && v->d.binding_zone >= 0 && (size_t) v->d.binding_zone < nz)
        snprintf (v->zone, sizeof v->zone, "%s", v->zones[v->d.binding_zone]);
}

int
scrub_verdict_judge_each (const scrub_campaigns_t *campaigns, scrub_catalog_t *catalog, pl_redis_t *redis,
                          const scrub_context_t *const *ctxs, const scrub_number_t *nums, const int64_t *at_ms,
                          size_t n, scrub_verdict_t *out)
{
    const char **e164 = calloc (n ? n : 1, sizeof *e164);
    if (!e164)
        return PL_ENOMEM;
    for (size_t i = 0; i < n; i++)
        e164[i] = nums[i].e164;
    scrub_optouts_t *optouts = NULL;
    scrub_consents_t *consents = NULL;
    int rc = scrub_optouts_fetch (redis, e164, n, &optouts);
    if (rc == 0)
        rc = scrub_consents_fetch (redis, e164, n, &consents);
    for (size_t i = 0; rc == 0 && i < n; i++)
        s_judge_one (campaigns, catalog, ctxs[i], &nums[i], optouts, consents, i, at_ms[i], &out[i]);
    scrub_optouts_destroy (&optouts);
    scrub_consents_destroy (&consents);
    free (e164);
    return rc;
}

int
scrub_verdict_judge (const scrub_campaigns_t *campaigns, scrub_catalog_t *catalog, pl_redis_t *redis,
                     const scrub_context_t *ctx, const scrub_number_t *nums, size_t n, int64_t now_ms,
                     scrub_verdict_t *out)
{
    const scrub_context_t **ctxs = calloc (n ? n : 1, sizeof *ctxs);
    int64_t *at = calloc (n ? n : 1, sizeof *at);
    int rc = ctxs && at ? 0 : PL_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        ctxs[i] = ctx;
        at[i] = now_ms;
    }
    if (rc == 0)
        rc = scrub_verdict_judge_each (campaigns, catalog, redis, ctxs, nums, at, n, out);
    free (ctxs);
    free (at);
    return rc;
}

int64_t
scrub_verdict_allowed_until (const scrub_verdict_t *v)
{
    if (v->rc != 0 || v->d.verdict != PL_RULES_ALLOW)
        return 0;
    int64_t until = 0;
    for (size_t i = 0; i < v->d.n_fired; i++) {
        const pl_rules_fired_t *r = &v->d.fired[i];
        if (r->outcome == PL_RULES_PASS && r->until_ms > 0 && (until == 0 || r->until_ms < until))
            until = r->until_ms;
    }
    return until;
}

void
scrub_verdict_local_time (const scrub_verdict_t *v, char *out, size_t size)
{
    if (size)
        out[0] = '\0';
    if (v->rc != 0 || v->d.binding_zone < 0 || (size_t) v->d.binding_zone >= v->d.n_zones
        || !v->d.zones[v->d.binding_zone].zone || size < PL_TIME_RFC3339_MAX)
        return;
    int64_t at = v->d.now_ms;
    int64_t s = at >= 0 ? at / 1000 : -((-at + 999) / 1000);
    int32_t off = pl_rules_tz_offset (v->d.zones[v->d.binding_zone].zone, s);
    char t[PL_TIME_RFC3339_MAX];
    size_t n = pl_time_format_rfc3339 (at + (int64_t) off * 1000, t, sizeof t);
    if (n == 0 || n >= sizeof t || t[n - 1] != 'Z')
        return;
    t[n - 1] = '\0';
    int32_t a = off < 0 ? -off : off;
    snprintf (out, size, "%s%c%02d:%02d", t, off < 0 ? '-' : '+', (int) (a / 3600), (int) (a / 60 % 60));
}

bool
scrub_verdict_passes (const scrub_verdict_t *v)
{
    return v->rc == 0 && (v->d.verdict == PL_RULES_ALLOW || v->d.verdict == PL_RULES_DEFER);
}

const char *
scrub_verdict_name (const scrub_verdict_t *v)
{
    return v->rc != 0 ? "deny" : pl_rules_verdict_name (v->d.verdict);
}

static const char *
s_region_source (uint8_t s)
{
    return s == PL_RULES_REGION_ADDRESS ? "address" : "number";
}

/* The region that made rule r apply, "" for a rule of no region. */
static const char *
s_rule_region (const scrub_verdict_t *v, const pl_rules_fired_t *r, const char **source)
{
    if (r->region < 0 || (size_t) r->region >= v->n_regions) {
        *source = "";
        return "";
    }
    *source = s_region_source (v->region_sources[r->region]);
    return v->regions[r->region];
}

/* The rules worth a reason: those that denied, deferred or were exempted. */
static bool
s_reason_worthy (const pl_rules_fired_t *r)
{
    return r->outcome == PL_RULES_DENIES || r->outcome == PL_RULES_DEFERS || r->outcome == PL_RULES_EXEMPT;
}

/* Whether fired entry i is the first of its rule lifted for the callee: one per rule, not per
 * clause (fr.hours has one clause, us.fl two). */
static bool
s_lift_first (const pl_rules_decision_t *d, size_t i)
{
    if (d->fired[i].why != PL_RULES_WHY_NOT_FOR_CALLEE)
        return false;
    for (size_t k = 0; k < i; k++)
        if (d->fired[k].why == PL_RULES_WHY_NOT_FOR_CALLEE && strcmp (d->fired[k].rule, d->fired[i].rule) == 0)
            return false;
    return true;
}

json_t *
scrub_verdict_json (const scrub_verdict_t *v, int64_t now_ms)
{
    json_t *o = json_pack ("{s:s,s:s}", "number", v->number, "decision", scrub_verdict_name (v));
    json_t *reasons = json_array ();
    if (v->rc != 0) {
        json_array_append_new (reasons, json_pack ("{s:s,s:s}", "rule", "scrub.no-profile", "reason",
                                                   v->rc == PL_ENOTFOUND ? "no jurisdiction profile covers this number"
                                                                         : "the rules could not decide"));
        json_object_set_new (o, "reasons", reasons);
        return o;
    }
    json_object_set_new (o, "profile", json_string (v->profile));
    json_object_set_new (o, "campaign", json_string (v->campaign));
    json_object_set_new (o, "tenant", json_string (v->tenant));
    if (v->d.verdict == PL_RULES_DEFER) {
        char t[PL_TIME_RFC3339_MAX];
        pl_time_format_rfc3339 (v->d.defer_until_ms, t, sizeof t);
        json_object_set_new (o, "defer_until", json_string (t));
    }
    if (v->d.decisive >= 0)
        json_object_set_new (o, "decisive", json_string (v->d.fired[v->d.decisive].rule));
    for (size_t i = 0; i < v->d.n_fired; i++) {
        const pl_rules_fired_t *r = &v->d.fired[i];
        if (!s_reason_worthy (r))
            continue;
        char text[512];
        pl_rules_reason (&v->d, i, text, sizeof text);
        json_t *x = json_pack ("{s:s,s:s,s:s}", "rule", r->rule, "outcome", pl_rules_outcome_name (r->outcome),
                               "reason", text);
        if (r->name)
            json_object_set_new (x, "name", json_string (r->name));
        if (r->version)
            json_object_set_new (x, "version", json_string (r->version));
        const char *rsrc, *reg = s_rule_region (v, r, &rsrc);
        if (*reg) {
            json_object_set_new (x, "region", json_string (reg));
            json_object_set_new (x, "region_source", json_string (rsrc));
        }
        json_array_append_new (reasons, x);
    }
    json_object_set_new (o, "reasons", reasons);
    /* Who the call was checked as, and the consumer rules that did not apply because of it. */
    json_object_set_new (o, "callee", json_string (pl_rules_callee_name (v->d.callee)));
    json_t *lifted = NULL;
    for (size_t i = 0; i < v->d.n_fired; i++) {
        const pl_rules_fired_t *r = &v->d.fired[i];
        if (!s_lift_first (&v->d, i))
            continue;
        char text[256];
        pl_rules_reason (&v->d, i, text, sizeof text);
        if (!lifted)
            lifted = json_array ();
        json_array_append_new (lifted, json_pack ("{s:s,s:s,s:s}", "rule", r->rule, "by", r->name ? r->name : "",
                                                  "reason", text));
    }
    if (lifted)
        json_object_set_new (o, "not_for_callee", lifted);
    /* Every region with its source; "binding" when a rule of the decision applied through it. */
    json_t *regions = json_array ();
    for (size_t g = 0; g < v->n_regions; g++) {
        bool binding = false;
        for (size_t k = 0; k < v->d.n_fired && !binding; k++)
            binding = v->d.fired[k].region == (int) g && v->d.fired[k].outcome != PL_RULES_NA;
        json_array_append_new (regions, json_pack ("{s:s,s:s,s:b}", "region", v->regions[g], "source",
                                                   s_region_source (v->region_sources[g]), "binding", binding));
    }
    json_object_set_new (o, "regions", regions);
    json_t *lists = json_array ();
    for (size_t l = 0; l < v->n_lists; l++) {
        const scrub_list_fact_t *f = &v->lists[l];
        json_array_append_new (lists, json_pack ("{s:s,s:s,s:s,s:b,s:I}", "name", f->name, "version", f->version,
                                                 "copy_date", f->copy_date, "hit", f->hit, "age_days",
                                                 (json_int_t) ((now_ms - f->as_of_ms) / 86400000)));
    }
    json_object_set_new (o, "lists", lists);
    return o;
}

/* ---- protobuf ------------------------------------------------------------------------------ */

struct scrub_verdict_pb {
    const scrub_verdict_t *v;
    int64_t now;
    Plateau__V1__ScrubVerdict msg;
    Plateau__V1__RuleHit hits[PL_RULES_MAX_FIRED];
    Plateau__V1__RuleHit *hitp[PL_RULES_MAX_FIRED];
    char reasons[PL_RULES_MAX_FIRED][256];
    char facts[PL_RULES_MAX_FIRED][160];
    size_t n_hits;                /* every rule that fired, n/a left out but for the callee (audit) */
    size_t n_worthy;              /* the worthy ones first (bus) */
    Plateau__V1__ListVersion lv[SCRUB_LIST_FACTS_MAX];
    Plateau__V1__ListVersion *lvp[SCRUB_LIST_FACTS_MAX];
    char *regions[PL_RULES_MAX_REGIONS];
    char *overlays[PL_RULES_MAX_REGIONS];
    Plateau__V1__RegionCandidate rc[PL_RULES_MAX_REGIONS];
    Plateau__V1__RegionCandidate *rcp[PL_RULES_MAX_REGIONS];
    Plateau__V1__ZoneCandidate zc[PL_RULES_MAX_ZONES];
    Plateau__V1__ZoneCandidate *zcp[PL_RULES_MAX_ZONES];
    Plateau__V1__CalleeLift lift[PL_RULES_MAX_FIRED];      /* rules lifted for the callee */
    Plateau__V1__CalleeLift *liftp[PL_RULES_MAX_FIRED];
    size_t n_lifts;
    char summary[512];
};

static Plateau__V1__Decision
s_decision (const scrub_verdict_t *v)
{
    if (v->rc != 0)
        return PLATEAU__V1__DECISION__DENY;
    return v->d.verdict == PL_RULES_ALLOW ? PLATEAU__V1__DECISION__ALLOW
         : v->d.verdict == PL_RULES_DEFER ? PLATEAU__V1__DECISION__DEFER
                                          : PLATEAU__V1__DECISION__DENY;
}

static void
s_hit (scrub_verdict_pb_t *self, size_t i)
{
    const scrub_verdict_t *v = self->v;
    const pl_rules_fired_t *r = &v->d.fired[i];
    size_t k = self->n_hits++;
    Plateau__V1__RuleHit *h = &self->hits[k];
    plateau__v1__rule_hit__init (h);
    pl_rules_reason (&v->d, i, self->reasons[k], sizeof self->reasons[k]);
    snprintf (self->facts[k], sizeof self->facts[k], "%s %s%s%s", pl_rules_outcome_name (r->outcome),
              r->key ? r->key : "", r->name ? " " : "", r->name ? r->name : "");
    h->rule_id = (char *) r->rule;
    h->value = (char *) (r->value ? r->value : "");
    h->facts = self->facts[k];
    h->reason = self->reasons[k];
    h->zone = (char *) (r->zone >= 0 && (size_t) r->zone < v->n_zones ? v->zones[r->zone] : "");
    h->defer_until_ms = r->outcome == PL_RULES_DEFERS ? r->until_ms : 0;
    const char *rsrc;
    h->region = (char *) s_rule_region (v, r, &rsrc);
    h->region_source = (char *) rsrc;
    self->hitp[k] = h;
}

scrub_verdict_pb_t *
scrub_verdict_pb_new (const scrub_verdict_t *v, int64_t now_ms)
{
    scrub_verdict_pb_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->v = v;
    self->now = now_ms;
    if (v->rc == 0) {
        for (size_t i = 0; i < v->d.n_fired; i++)
            if (s_reason_worthy (&v->d.fired[i]))
                s_hit (self, i);
        self->n_worthy = self->n_hits;
        /* Then the others that were checked, and those that did not apply because of who is
         * called (they say why: "does not apply to a business callee (fr.b2b)"). */
        for (size_t i = 0; i < v->d.n_fired; i++)
            if (!s_reason_worthy (&v->d.fired[i])
                && (v->d.fired[i].outcome != PL_RULES_NA || v->d.fired[i].why == PL_RULES_WHY_NOT_FOR_CALLEE))
                s_hit (self, i);
        for (size_t i = 0; i < v->d.n_fired; i++) {
            const pl_rules_fired_t *r = &v->d.fired[i];
            if (!s_lift_first (&v->d, i))
                continue;
            Plateau__V1__CalleeLift *x = &self->lift[self->n_lifts];
            plateau__v1__callee_lift__init (x);
            x->rule_id = (char *) r->rule;
            x->by_rule = (char *) (r->name ? r->name : "");
            self->liftp[self->n_lifts++] = x;
        }
        pl_rules_summary (&v->d, self->summary, sizeof self->summary);
    } else
        snprintf (self->summary, sizeof self->summary, "deny: no jurisdiction profile covers this number");
    for (size_t l = 0; l < v->n_lists; l++) {
        Plateau__V1__ListVersion *x = &self->lv[l];
        plateau__v1__list_version__init (x);
        x->name = (char *) v->lists[l].name;
        x->version = (char *) v->lists[l].version;
        x->loaded_at_ms = v->lists[l].loaded_at_ms;
        x->age_ms = now_ms - v->lists[l].as_of_ms;
        x->hit = v->lists[l].hit;
        x->copy_date = (char *) v->lists[l].copy_date;
        self->lvp[l] = x;
    }
    for (size_t r = 0; r < v->n_regions; r++) {
        self->regions[r] = (char *) v->regions[r];
        plateau__v1__region_candidate__init (&self->rc[r]);
        self->rc[r].region = (char *) v->regions[r];
        self->rc[r].source = (char *) s_region_source (v->region_sources[r]);
        self->rcp[r] = &self->rc[r];
    }
    for (size_t o = 0; o < v->n_overlays; o++)
        self->overlays[o] = (char *) v->overlays[o];
    for (size_t z = 0; z < v->n_zones; z++) {
        plateau__v1__zone_candidate__init (&self->zc[z]);
        self->zc[z].zone = (char *) v->zones[z];
        self->zc[z].source = (char *) v->zone_sources[z];
        self->zcp[z] = &self->zc[z];
    }
    return self;
}

void
scrub_verdict_pb_free (scrub_verdict_pb_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

Plateau__V1__ScrubVerdict *
scrub_verdict_pb_message (scrub_verdict_pb_t *self, const char *request_id, const char *lead_id)
{
    Plateau__V1__ScrubVerdict *m = &self->msg;
    plateau__v1__scrub_verdict__init (m);
    m->request_id = (char *) (request_id ? request_id : "");
    m->lead_id = (char *) (lead_id ? lead_id : "");
    m->number = (char *) self->v->number;
    m->decision = s_decision (self->v);
    m->n_rules = self->n_worthy;
    m->rules = self->hitp;
    m->n_lists = self->v->n_lists;
    m->lists = self->lvp;
    return m;
}

void
scrub_verdict_pb_audit (scrub_verdict_pb_t *self, Plateau__V1__AuditEvent *ev)
{
    const scrub_verdict_t *v = self->v;
    ev->number = (char *) v->number;
    ev->decision = s_decision (v);
    ev->tenant = (char *) v->tenant;
    if (*v->campaign)
        ev->campaign = (char *) v->campaign;
    ev->profile = (char *) v->profile;
    /* The type the call was checked as: the lead's when the campaign is for it, else consumer. */
    ev->callee = (char *) pl_rules_callee_name (v->rc == 0 ? v->d.callee : PL_RULES_CALLEE_CONSUMER);
    ev->n_callee_lifts = self->n_lifts;
    ev->callee_lifts = self->liftp;
    ev->n_overlays = v->n_overlays;
    ev->overlays = self->overlays;
    ev->n_regions = v->n_regions;
    ev->regions = self->regions;
    ev->n_region_sources = v->n_regions;
    ev->region_sources = self->rcp;
    ev->n_zones = v->n_zones;
    ev->zones = self->zcp;
    ev->zone = (char *) v->zone;
    ev->evaluated_at_ms = self->now;
    ev->n_rules = self->n_hits;
    ev->rules = self->hitp;
    ev->n_lists = v->n_lists;
    ev->lists = self->lvp;
    ev->reason = self->summary;
}
