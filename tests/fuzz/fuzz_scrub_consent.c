/*  fuzz_scrub_consent.c — libFuzzer target for scrub's opt-out and consent bodies
 *  (scrub_body_optout and scrub_body_consent, services/scrub/body.c: POST /v1/dnc and
 *  POST /v1/consents) and for consents as stored in Redis (scrub_consent_from_json,
 *  services/scrub/consent.c).
 *
 *  The first byte picks the reader; the rest is the body, or a stored record and, after a NUL,
 *  its revocation. A body is either refused with a 400 naming a code and a message (and the
 *  field, unless the JSON itself is broken), or taken with every member within its size and
 *  free of NUL, the number present (and for a consent its proof: source, evidence, a capture
 *  time no later than five minutes from now, a known channel); its number is then read as the
 *  route reads it. A stored record always gives a consent whose strings are all there.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "consent.h"
#include "plateau/error.h"
#include "plateau/phone.h"

#define NOW_MS 1790000000000LL

static pl_phone_t *s_phone;

/* A member as taken: "" when absent or null, else its whole string, at most max bytes. */
static void
s_member (json_t *doc, const char *k, const char *got, size_t max)
{
    json_t *v = json_object_get (doc, k);
    if (!got || strlen (got) > max)
        abort ();
    if (!v || json_is_null (v)) {
        if (*got)
            abort ();
    }
    else if (got != json_string_value (v) || json_string_length (v) != strlen (got))
        abort ();
}

static void
s_refused (const scrub_body_error_t *e)
{
    if (e->status != 400 || !e->code || !*e->message)
        abort ();
    bool bad_json = strcmp (e->code, "bad_json") == 0;
    if (!bad_json && strcmp (e->code, "invalid") != 0 && strcmp (e->code, "missing") != 0)
        abort ();
    if (!bad_json && !*e->field)
        abort ();
}

static void
s_number (const char *raw, const char *country)
{
    pl_phone_number_t pn;
    if (pl_phone_parse (s_phone, raw, *country ? country : "FR", &pn) == 0 && pn.e164[0] != '+')
        abort ();
}

static void
s_optout (const char *body, size_t len)
{
    scrub_body_optout_t b;
    scrub_body_error_t e;
    int rc = scrub_body_optout (body, len, &b, &e);
    if (rc == 0) {
        s_member (b.doc, "number", b.number, SCRUB_BODY_NUMBER_MAX);
        s_member (b.doc, "country", b.country, 2);
        s_member (b.doc, "tenant", b.tenant, 100);
        s_member (b.doc, "debt_ref", b.debt_ref, 100);
        s_member (b.doc, "channel", b.channel, 32);
        if (!*b.number || b.requested_at_ms < 0)
            abort ();
        s_number (b.number, b.country);
    }
    else if (rc == PL_EINVAL)
        s_refused (&e);
    else
        abort ();
    scrub_body_optout_fini (&b);
}

static void
s_consent (const char *body, size_t len)
{
    scrub_body_consent_t b;
    scrub_body_error_t e;
    int rc = scrub_body_consent (body, len, NOW_MS, &b, &e);
    if (rc == 0) {
        s_member (b.doc, "number", b.number, SCRUB_BODY_NUMBER_MAX);
        s_member (b.doc, "country", b.country, 2);
        s_member (b.doc, "tenant", b.tenant, 100);
        s_member (b.doc, "subject", b.subject, 100);
        s_member (b.doc, "campaign", b.campaign, 100);
        s_member (b.doc, "channel", b.channel, 32);
        s_member (b.doc, "purpose", b.purpose, 100);
        s_member (b.doc, "source", b.source, 512);
        s_member (b.doc, "evidence_ref", b.evidence_ref, 512);
        s_member (b.doc, "wording_version", b.wording_version, 100);
        s_member (b.doc, "ref", b.ref, 128);
        if (!*b.number || !*b.source || !*b.evidence_ref || b.captured_at_ms <= 0
            || b.captured_at_ms > NOW_MS + 300000 || b.written != json_is_true (json_object_get (b.doc, "written")))
            abort ();
        if (*b.channel && strcmp (b.channel, "phone") && strcmp (b.channel, "sms") && strcmp (b.channel, "email"))
            abort ();
        s_number (b.number, b.country);
    }
    else if (rc == PL_EINVAL)
        s_refused (&e);
    else
        abort ();
    scrub_body_consent_fini (&b);
}

static void
s_stored (const char *data, size_t len)
{
    const char *nul = memchr (data, '\0', len);
    size_t rec_len = nul ? (size_t) (nul - data) : len;
    json_t *rec = json_loadb (data, rec_len, 0, NULL);
    if (!rec)
        return;
    json_t *rev = nul ? json_loadb (nul + 1, len - rec_len - 1, 0, NULL) : NULL;
    scrub_consent_t c;
    scrub_consent_from_json (&c, "01JA2B3C4D5E6F7G8H9J0KMNPQ", rec, rev);
    const char *all[] = { c.number, c.tenant, c.subject, c.campaign, c.channel, c.purpose, c.source,
                          c.evidence_ref, c.wording_version, c.ref, c.actor };
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (!all[i])
            abort ();
    if (strcmp (c.id, "01JA2B3C4D5E6F7G8H9J0KMNPQ") != 0 || (rev ? !c.revoked_by : c.revoked_at_ms != 0))
        abort ();
    const char *number = json_string_value (json_object_get (rec, "number"));
    if (number && strcmp (number, c.number) != 0)
        abort ();
    json_decref (rev);
    json_decref (rec);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_phone && !(s_phone = pl_phone_new ()))
        abort ();
    if (size < 1)
        return 0;
    uint8_t which = data[0] % 3;
    data++;
    size--;
    /* A body of its own size, so that reading past it is seen. */
    char *body = size ? malloc (size) : NULL;
    if (size)
        memcpy (body, data, size);
    if (which == 0)
        s_optout (body, size);
    else if (which == 1)
        s_consent (body, size);
    else if (size)
        s_stored (body, size);
    free (body);
    return 0;
}
