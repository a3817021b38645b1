/*  fuzz_scrub_bus.c — libFuzzer target for what scrub's bus door reads of LeadSubmitted and
 *  ScrubRequest (services/scrub/door.c) after the kit has decoded the envelope.
 *
 *  The bytes are read three ways: as an envelope (pl_envelope_unpack), and as a bare Lead and a
 *  bare ScrubRequest, so that the bodies are reached without the envelope around them. A lead
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

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    pl_envelope_t *env = pl_envelope_unpack (data, size, NULL, 0);
    if (env) {
        if (env->body_case == PLATEAU__V1__ENVELOPE__BODY_LEAD_SUBMITTED)
            s_lead (env->lead_submitted ? env->lead_submitted->lead : NULL);
        else if (env->body_case == PLATEAU__V1__ENVELOPE__BODY_SCRUB_REQUEST)
            s_request (env->scrub_request);
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
    return 0;
}
