/*  fuzz_scrub_bus.c — libFuzzer target for what scrub's bus door reads of LeadSubmitted,
 *  ScrubRequest, DialCheck and OptOutRequest (services/scrub/door.c, dial.c) after the kit has
 *  decoded the envelope.
 *
 *  The bytes are read five ways: as an envelope (pl_envelope_unpack), and as a bare Lead,
 *  ScrubRequest, DialCheck and OptOutRequest, so that the bodies are reached without the
 *  envelope around them. A check the door takes has a check id whose answer's id fits an
 *  envelope id, a lead with an id and an E.164 phone, names one of the lead's numbers, is dated
 *  within a minute of scrub's clock, and gives every history entry (at most 2,000) to the rules
 *  with its flags as sent. An opt-out the door takes has an E.164 number and a tenant (not "*"),
 *  and carries the message id as its seen marker. A
 *  the door takes has an id, a campaign and an E.164 phone, and gives 1 to 9 numbers, all
 *  E.164, its phone first; each of its consents that is recorded has an E.164 number and the
 *  id "<lead id>.c<i>", whole (two consents never share an id). A request the door takes has 1
 *  to 1,000 numbers, all E.164. A refusal always says why.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dial.h"
#include "door.h"
#include "plateau/envelope.h"
#include "plateau/error.h"

static bool
s_e164 (const char *s)
{
    size_t n = 0;
    if (!s || *s++ != '+')
        return false;
    for (; *s; s++, n++)
        if (*s < '0' || *s > '9')
            return false;
    return n >= 6 && n <= 15;
}

static void
s_lead (const Plateau__V1__Lead *lead)
{
    scrub_number_t nums[SCRUB_LEAD_MAX_NUMBERS];
    size_t n = 99;
    char reason[256] = "";
    if (scrub_door_lead_numbers (lead, nums, &n, reason, sizeof reason) != 0) {
        if (!*reason)
            abort ();
        return;
    }
    if (!lead || !*lead->id || !*lead->campaign || !lead->phone || n < 1 || n > SCRUB_LEAD_MAX_NUMBERS
        || nums[0].e164 != lead->phone->e164)
        abort ();
    size_t alt = 0;
    for (size_t i = 0; i < lead->n_alt_phones; i++)
        alt += lead->alt_phones[i] && s_e164 (lead->alt_phones[i]->e164);
    if (n != 1 + alt)
        abort ();
    for (size_t i = 0; i < n; i++)
        if (!s_e164 (nums[i].e164))
            abort ();
    for (size_t i = 0; i < lead->n_consents; i++) {
        scrub_consent_t c;
        if (!scrub_door_lead_consent (lead, i, "acme", &c))
            continue;
        char want[1024];
        snprintf (want, sizeof want, "%s.c%zu", lead->id, i);
        if (!s_e164 (c.number) || c.names_number != (*lead->consents[i]->number != '\0')
            || strcmp (c.id, want) != 0 || strcmp (c.ref, lead->id) != 0 || strcmp (c.tenant, "acme") != 0) {
            fprintf (stderr, "consent %zu of lead '%.40s…' (%zu bytes) recorded as '%s'\n", i, lead->id,
                     strlen (lead->id), c.id);
            abort ();
        }
    }
}

static void
s_request (const Plateau__V1__ScrubRequest *q)
{
    char jur[8] = "?", reason[256] = "";
    if (scrub_door_request_check (q, jur, sizeof jur, reason, sizeof reason) != 0) {
        if (!*reason)
            abort ();
        return;
    }
    if (!q || q->n_numbers < 1 || q->n_numbers > SCRUB_REQUEST_MAX_NUMBERS)
        abort ();
    for (size_t i = 0; i < q->n_numbers; i++)
        if (!s_e164 (q->numbers[i]))
            abort ();
    const char *j = q->jurisdiction ? q->jurisdiction : "";
    if (strcasecmp (j, "uk") == 0 ? strcmp (jur, "GB") != 0 : strncmp (jur, j, sizeof jur - 1) != 0)
        abort ();
}

#define S_NOW 1794904200000LL      /* scrub's clock in the target */

static void
s_check (const Plateau__V1__DialCheck *q)
{
    scrub_dial_facts_t f;
    char reason[256] = "";
    int rc = scrub_dial_check_read (q, S_NOW, 1, &f, reason, sizeof reason);
    if (rc != 0) {
        scrub_dial_facts_fini (&f);
        if (!*reason)
            abort ();
        return;
    }
    if (!q || !*q->check_id || strlen (q->check_id) + strlen (".result") > PL_ENVELOPE_ID_MAX || !q->lead
        || !*q->lead->id || !q->lead->phone || !s_e164 (q->lead->phone->e164) || !s_e164 (f.number.e164)
        || strcmp (f.number.e164, q->number) != 0 || q->at_ms < S_NOW - SCRUB_DIAL_MAX_SKEW_MS
        || q->at_ms > S_NOW + SCRUB_DIAL_MAX_SKEW_MS || f.at_ms != q->at_ms || q->n_history > SCRUB_DIAL_MAX_HISTORY
        || f.n_calls != q->n_history || f.ctx.n_calls != q->n_history || !*f.campaign)
        abort ();
    bool mine = false;
    if (strcmp (q->lead->phone->e164, q->number) == 0)
        mine = true;
    for (size_t i = 0; i < q->lead->n_alt_phones && !mine; i++)
        mine = q->lead->alt_phones[i] && q->lead->alt_phones[i]->e164
            && strcmp (q->lead->alt_phones[i]->e164, q->number) == 0;
    if (!mine)
        abort ();
    for (size_t i = 0; i < f.n_calls; i++)
        if (f.calls[i].at_ms != q->history[i]->at_ms || f.calls[i].flags != (q->history[i]->flags & 31u)
            || f.calls[i].tenant != scrub_id_of (q->history[i]->tenant))
            abort ();
    if (!(f.ctx.dial & PL_RULES_DIAL_SET) || !!(f.ctx.dial & PL_RULES_DIAL_AUTODIALED) == q->manual)
        abort ();
    scrub_dial_facts_fini (&f);
}

static void
s_optout (const Plateau__V1__OptOutRequest *q)
{
    scrub_optout_t o;
    char reason[256] = "";
    if (scrub_dial_optout_read (q, "01MSGID", S_NOW, &o, reason, sizeof reason) != 0) {
        if (!*reason)
            abort ();
        return;
    }
    if (!q || !s_e164 (o.number) || !o.tenant || !*o.tenant || strcmp (o.tenant, "*") == 0 || !o.channel
        || !*o.channel || !o.actor || !*o.actor || !o.message_id || strcmp (o.message_id, "01MSGID") != 0
        || o.requested_at_ms < 0 || o.requested_at_ms > S_NOW + 5 * 60000)
        abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    pl_envelope_t *env = pl_envelope_unpack (data, size, NULL, 0);
    if (env) {
        if (env->body_case == PLATEAU__V1__ENVELOPE__BODY_LEAD_SUBMITTED)
            s_lead (env->lead_submitted ? env->lead_submitted->lead : NULL);
        else if (env->body_case == PLATEAU__V1__ENVELOPE__BODY_SCRUB_REQUEST)
            s_request (env->scrub_request);
        else if (env->body_case == PLATEAU__V1__ENVELOPE__BODY_DIAL_CHECK)
            s_check (env->dial_check);
        else if (env->body_case == PLATEAU__V1__ENVELOPE__BODY_OPT_OUT_REQUEST)
            s_optout (env->opt_out_request);
        pl_envelope_free (&env);
    }
    Plateau__V1__Lead *lead = plateau__v1__lead__unpack (NULL, size, data);
    if (lead) {
        s_lead (lead);
        plateau__v1__lead__free_unpacked (lead, NULL);
    }
    Plateau__V1__ScrubRequest *q = plateau__v1__scrub_request__unpack (NULL, size, data);
    if (q) {
        s_request (q);
        plateau__v1__scrub_request__free_unpacked (q, NULL);
    }
    Plateau__V1__DialCheck *dc = plateau__v1__dial_check__unpack (NULL, size, data);
    if (dc) {
        s_check (dc);
        plateau__v1__dial_check__free_unpacked (dc, NULL);
    }
    Plateau__V1__OptOutRequest *oo = plateau__v1__opt_out_request__unpack (NULL, size, data);
    if (oo) {
        s_optout (oo);
        plateau__v1__opt_out_request__free_unpacked (oo, NULL);
    }
    return 0;
}
