/*  fuzz_lead_pb.c — libFuzzer target for native leads on the bus (intake_lead_from_pb).
 *
 *  Any bytes: those that unpack as a Plateau__V1__Lead must give either a lead that packs and
 *  renders (so every string in it is UTF-8), or errors with a code that render as JSON. And the
 *  answer must be the JSON door's for the same lead: the message is also written in the API's
 *  JSON form and read by intake_lead_from_json, which must give the same lead or the same
 *  errors.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lead.h"
#include "plateau/error.h"

static pl_phone_t *s_phone;

/* Strings go in unchecked: the JSON door must catch what is not UTF-8 as the bus door does. */
static void
s_str (json_t *o, const char *name, const char *v)
{
    if (v && *v)
        json_object_set_new_nocheck (o, name, json_stringn_nocheck (v, strlen (v)));
}

static void
s_ms (json_t *o, const char *name, int64_t ms)
{
    if (ms)
        json_object_set_new (o, name, json_integer (ms));
}

static json_t *
s_number (const Plateau__V1__PhoneNumber *p)
{
    const char *v = p->raw && *p->raw ? p->raw : p->e164;
    return json_stringn_nocheck (v, strlen (v));
}

/* The lead in the API's JSON form; NULL when JSON cannot say the same (a custom name twice). */
static json_t *
s_json_form (const Plateau__V1__Lead *l)
{
    json_t *o = json_object ();
    s_str (o, "id", l->id);
    s_str (o, "source", l->source);
    s_ms (o, "received_at", l->received_at_ms);
    s_str (o, "trace_id", l->trace_id);
    s_str (o, "external_id", l->external_id);
    s_str (o, "campaign", l->campaign);
    if (l->phone && (*l->phone->raw || *l->phone->e164))
        json_object_set_new (o, "phone", s_number (l->phone));
    if (l->n_alt_phones) {
        json_t *a = json_array ();
        for (size_t i = 0; i < l->n_alt_phones; i++)
            json_array_append_new (a, s_number (l->alt_phones[i]));
        json_object_set_new (o, "alt_phones", a);
    }
    s_str (o, "country", l->country);
    s_str (o, "first_name", l->first_name);
    s_str (o, "last_name", l->last_name);
    s_str (o, "address", l->address);
    s_str (o, "postal_code", l->postal_code);
    s_str (o, "state", l->state);
    s_str (o, "email", l->email);
    s_str (o, "timezone", l->timezone);
    s_str (o, "callee", l->callee);
    if (l->n_consents) {
        json_t *a = json_array ();
        for (size_t i = 0; i < l->n_consents; i++) {
            const Plateau__V1__Consent *k = l->consents[i];
            json_t *ko = json_object ();
            s_str (ko, "scope", k->scope);
            s_str (ko, "channel", k->channel);
            s_str (ko, "source", k->source);
            s_ms (ko, "captured_at", k->captured_at_ms);
            s_str (ko, "proof_ref", k->proof_ref);
            s_str (ko, "wording_version", k->wording_version);
            s_ms (ko, "revoked_at", k->revoked_at_ms);
            s_str (ko, "number", k->number);
            json_array_append_new (a, ko);
        }
        json_object_set_new (o, "consents", a);
    }
    if (l->debt) {
        json_t *d = json_object ();
        s_str (d, "account_ref", l->debt->account_ref);
        s_str (d, "creditor", l->debt->creditor);
        if (l->debt->balance) {
            json_object_set_new (d, "balance", json_integer (l->debt->balance->minor_units));
            s_str (d, "currency", l->debt->balance->currency);
        }
        s_str (d, "first_letter_ref", l->debt->first_letter_ref);
        s_ms (d, "first_letter_at", l->debt->first_letter_at_ms);
        json_object_set_new (o, "debt", d);
    }
    if (l->n_custom) {
        json_t *c = json_object ();
        for (size_t i = 0; i < l->n_custom; i++) {
            const char *key = l->custom[i]->key, *value = l->custom[i]->value;
            if (json_object_get (c, key)) {
                json_decref (c);
                json_decref (o);
                return NULL;
            }
            json_object_set_new_nocheck (c, key, json_stringn_nocheck (value, strlen (value)));
        }
        json_object_set_new (o, "custom", c);
    }
    return o;
}

static bool
s_same_lead (const Plateau__V1__Lead *a, const Plateau__V1__Lead *b)
{
    size_t na = plateau__v1__lead__get_packed_size (a);
    size_t nb = plateau__v1__lead__get_packed_size (b);
    uint8_t *pa = malloc (na + 1), *pb = malloc (nb + 1);
    bool same = pa && pb && na == nb && plateau__v1__lead__pack (a, pa) == na
                && plateau__v1__lead__pack (b, pb) == nb && memcmp (pa, pb, na) == 0;
    free (pa);
    free (pb);
    return same;
}

static bool
s_same_errors (const intake_errors_t *a, const intake_errors_t *b)
{
    if (a->count != b->count || a->dropped != b->dropped)
        return false;
    for (size_t i = 0; i < a->count; i++)
        if (strcmp (a->items[i].field, b->items[i].field) != 0
            || strcmp (a->items[i].code, b->items[i].code) != 0
            || strcmp (a->items[i].message, b->items[i].message) != 0)
            return false;
    return true;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_phone)
        s_phone = pl_phone_new ();
    Plateau__V1__Lead *in = plateau__v1__lead__unpack (NULL, size, data);
    if (!in)
        return 0;
    intake_lead_opts_t opts = {.phone = s_phone, .source = "fuzz",
                               .default_campaign = size % 2 ? "c" : NULL,
                               .default_country = size % 5 ? NULL : "FR",
                               .reject_unknown = size % 3 == 0,
                               .received_at_ms = 1790000000000};
    Plateau__V1__Lead *lead = NULL;
    intake_errors_t errors;
    int rc = intake_lead_from_pb (in, &opts, &lead, &errors);
    if (rc == 0) {
        if (!lead || errors.count || !lead->phone || lead->phone->e164[0] != '+')
            abort ();
        size_t n = plateau__v1__lead__get_packed_size (lead);
        uint8_t *buf = malloc (n ? n : 1);
        if (buf && plateau__v1__lead__pack (lead, buf) != n)
            abort ();
        free (buf);
        json_t *o = intake_lead_to_json (lead);    /* NULL if any string is not UTF-8 */
        if (!o)
            abort ();
        json_decref (o);
    }
    else {
        if (rc != PL_EINVAL || lead || errors.count == 0)
            abort ();
        for (size_t i = 0; i < errors.count; i++)
            if (!errors.items[i].code)
                abort ();
        json_t *e = intake_errors_to_json (&errors);
        if (!e)
            abort ();
        json_decref (e);
    }

    json_t *obj = s_json_form (in);
    if (obj) {
        Plateau__V1__Lead *from_json = NULL;
        intake_errors_t json_errors;
        int json_rc = intake_lead_from_json (obj, &opts, &from_json, &json_errors);
        if (json_rc != rc || !s_same_errors (&errors, &json_errors)
            || (rc == 0 && !s_same_lead (lead, from_json))) {
            fprintf (stderr, "the doors disagree: bus %d, JSON %d\n", rc, json_rc);
            for (size_t i = 0; i < errors.count || i < json_errors.count; i++)
                fprintf (stderr, "  bus [%s %s: %s]  JSON [%s %s: %s]\n",
                         i < errors.count ? errors.items[i].field : "",
                         i < errors.count ? errors.items[i].code : "",
                         i < errors.count ? errors.items[i].message : "",
                         i < json_errors.count ? json_errors.items[i].field : "",
                         i < json_errors.count ? json_errors.items[i].code : "",
                         i < json_errors.count ? json_errors.items[i].message : "");
            abort ();
        }
        intake_lead_free (&from_json);
        json_decref (obj);
    }
    intake_lead_free (&lead);
    plateau__v1__lead__free_unpacked (in, NULL);
    return 0;
}
