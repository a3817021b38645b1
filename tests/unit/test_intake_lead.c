/*  test_intake_lead.c — one lead: validation and normalisation (services/intake/lead.c).
 *
 *  A lead that is accepted comes out normalised (E.164, zones, upper-case codes); one that is
 *  refused says which field is wrong, with a stable code and a message a CRM operator can act
 *  on, and every problem is reported at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lead.h"
#include "plateau/error.h"

#define NOW_MS INT64_C(1790000000000)           /* 2026-09-21T… UTC */

typedef struct {
    pl_phone_t *phone;
    intake_lead_opts_t opts;
    intake_errors_t errors;
    Plateau__V1__Lead *lead;
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    if (!f)
        return -1;
    f->phone = pl_phone_new ();
    f->opts = (intake_lead_opts_t) {.phone = f->phone, .source = "crm-test",
                                    .default_campaign = "spring-2026", .default_country = "FR",
                                    .received_at_ms = NOW_MS};
    *state = f;
    return f->phone ? 0 : -1;
}

static int
s_teardown (void **state)
{
    fixture_t *f = *state;
    intake_lead_free (&f->lead);
    pl_phone_destroy (&f->phone);
    free (f);
    return 0;
}

/* Decodes `json`; returns the rc. The lead, if any, is in f->lead. */
static int
s_decode (fixture_t *f, const char *json)
{
    intake_lead_free (&f->lead);
    json_error_t jerr;
    json_t *obj = json_loads (json, 0, &jerr);
    if (!obj)
        fail_msg ("test JSON does not parse: %s (%s)", jerr.text, json);
    int rc = intake_lead_from_json (obj, &f->opts, &f->lead, &f->errors);
    json_decref (obj);
    return rc;
}

static const intake_error_t *
s_error (const fixture_t *f, const char *field)
{
    for (size_t i = 0; i < f->errors.count; i++)
        if (strcmp (f->errors.items[i].field, field) == 0)
            return &f->errors.items[i];
    return NULL;
}

/* Asserts that decoding failed with `code` on `field`. */
static void
s_expect_error (fixture_t *f, const char *json, const char *field, const char *code)
{
    int rc = s_decode (f, json);
    const intake_error_t *e = s_error (f, field);
    if (rc != PL_EINVAL || !e || strcmp (e->code, code) != 0) {
        char got[512] = "";
        for (size_t i = 0; i < f->errors.count; i++) {
            size_t used = strlen (got);
            snprintf (got + used, sizeof got - used, " [%s %s: %s]", f->errors.items[i].field,
                      f->errors.items[i].code, f->errors.items[i].message);
        }
        fail_msg ("%s: expected %s on '%s'; rc %d, errors:%s", json, code, field, rc, got);
    }
    assert_null (f->lead);
}

static const char *
s_custom (const Plateau__V1__Lead *lead, const char *key)
{
    for (size_t i = 0; i < lead->n_custom; i++)
        if (strcmp (lead->custom[i]->key, key) == 0)
            return lead->custom[i]->value;
    return NULL;
}

/* ------------------------------------------------------------------------------------------- */

static void
test_complete_lead_is_normalised (void **state)
{
    fixture_t *f = *state;
    int rc = s_decode (f, "{"
        "\"external_id\": \"SF-0042\", \"campaign\": \"recouvrement_q3\","
        "\"phone\": \"06 12 34 56 78\", \"alt_phones\": [\"01 23 45 67 89\", \"+44 20 7946 0000\"],"
        "\"country\": \"fr\", \"first_name\": \" Hélène \", \"last_name\": \"Dupont\","
        "\"address\": \"12 rue de la Paix\\nBâtiment B\", \"postal_code\": \"75002\","
        "\"email\": \"Helene.Dupont@Example.FR\","
        "\"consents\": [{\"scope\": \"canvassing\", \"channel\": \"Phone\","
        "  \"source\": \"web-form:example.fr/offre\", \"captured_at\": \"2026-03-01T10:00:00+01:00\","
        "  \"proof_ref\": \"proof-77\", \"wording_version\": \"v3\", \"number\": \"0612345678\"}],"
        "\"debt\": {\"account_ref\": \"ACC-1\", \"creditor\": \"Banque X\", \"balance\": 123456,"
        "  \"currency\": \"eur\", \"first_letter_ref\": \"LR-9\", \"first_letter_at\": 1772000000000},"
        "\"custom\": {\"segment\": \"gold\", \"score\": 42, \"vip\": true}"
        "}");
    if (rc != 0)
        fail_msg ("rejected: %s %s", f->errors.items[0].field, f->errors.items[0].message);
    Plateau__V1__Lead *l = f->lead;
    assert_string_equal (l->source, "crm-test");
    assert_string_equal (l->external_id, "SF-0042");
    assert_string_equal (l->campaign, "recouvrement_q3");
    assert_string_equal (l->country, "FR");
    assert_string_equal (l->first_name, "Hélène");
    assert_string_equal (l->address, "12 rue de la Paix\nBâtiment B");
    assert_string_equal (l->email, "Helene.Dupont@example.fr");
    assert_int_equal (l->received_at_ms, NOW_MS);
    assert_string_equal (l->id, "");                  /* the service names it */

    assert_non_null (l->phone);
    assert_string_equal (l->phone->e164, "+33612345678");
    assert_int_equal (l->phone->type, PLATEAU__V1__PHONE_NUMBER__TYPE__MOBILE);
    assert_string_equal (l->phone->region, "FR");
    assert_string_equal (l->phone->raw, "06 12 34 56 78");
    assert_int_equal (l->phone->n_zones, 1);
    assert_string_equal (l->phone->zones[0], "Europe/Paris");
    assert_string_equal (l->phone->zone_source, "postal_code");

    assert_int_equal (l->n_alt_phones, 2);
    assert_string_equal (l->alt_phones[0]->e164, "+33123456789");
    assert_int_equal (l->alt_phones[0]->type, PLATEAU__V1__PHONE_NUMBER__TYPE__FIXED_LINE);
    assert_string_equal (l->alt_phones[1]->e164, "+442079460000");
    assert_string_equal (l->alt_phones[1]->region, "GB");
    /* a London number for a Paris address: both zones, the strictest decides */
    assert_int_equal (l->alt_phones[1]->n_zones, 2);

    assert_int_equal (l->n_consents, 1);
    assert_string_equal (l->consents[0]->scope, "canvassing");
    assert_string_equal (l->consents[0]->channel, "phone");
    assert_int_equal (l->consents[0]->captured_at_ms, INT64_C(1772355600000));
    assert_string_equal (l->consents[0]->number, "+33612345678");
    assert_int_equal (l->consents[0]->revoked_at_ms, 0);

    assert_non_null (l->debt);
    assert_non_null (l->debt->balance);
    assert_int_equal (l->debt->balance->minor_units, 123456);
    assert_string_equal (l->debt->balance->currency, "EUR");
    assert_int_equal (l->debt->first_letter_at_ms, INT64_C(1772000000000));

    assert_string_equal (s_custom (l, "segment"), "gold");
    assert_string_equal (s_custom (l, "score"), "42");
    assert_string_equal (s_custom (l, "vip"), "true");

    /* and it survives a protobuf round trip */
    size_t n = plateau__v1__lead__get_packed_size (l);
    uint8_t *buf = malloc (n);
    assert_non_null (buf);
    plateau__v1__lead__pack (l, buf);
    Plateau__V1__Lead *back = plateau__v1__lead__unpack (NULL, n, buf);
    assert_non_null (back);
    assert_string_equal (back->phone->e164, "+33612345678");
    assert_int_equal (back->n_custom, 3);
    plateau__v1__lead__free_unpacked (back, NULL);
    free (buf);
}

static void
test_reunion_lead_resolves_to_indian_reunion (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (s_decode (f, "{\"phone\": \"0692 12 34 56\", \"country\": \"FR\"}"), 0);
    assert_string_equal (f->lead->phone->e164, "+262692123456");
    assert_string_equal (f->lead->phone->region, "RE");
    assert_int_equal (f->lead->phone->n_zones, 1);
    assert_string_equal (f->lead->phone->zones[0], "Indian/Reunion");
    assert_string_equal (f->lead->phone->zone_source, "prefix");

    /* with its postal code: still Réunion, now said by the address */
    assert_int_equal (s_decode (f, "{\"phone\": \"+262 262 16 12 34\", \"postal_code\": \"97400\"}"),
                      0);
    assert_string_equal (f->lead->phone->zones[0], "Indian/Reunion");
    assert_string_equal (f->lead->phone->zone_source, "postal_code");
}

static void
test_florida_zip_with_new_york_number_keeps_both_zones (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (s_decode (f, "{\"phone\": \"(212) 555-0199\", \"country\": \"US\", "
                                   "\"postal_code\": \"33101\", \"state\": \"FL\"}"), 0);
    Plateau__V1__PhoneNumber *p = f->lead->phone;
    assert_int_equal (p->n_zones, 2);
    bool ny = false, chicago = false;
    for (size_t i = 0; i < p->n_zones; i++) {
        ny = ny || strcmp (p->zones[i], "America/New_York") == 0;
        chicago = chicago || strcmp (p->zones[i], "America/Chicago") == 0;
    }
    assert_true (ny && chicago);
    assert_string_equal (p->zone_source, "postal_code");
}

static void
test_timezone_override_is_checked_and_wins (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (s_decode (f, "{\"phone\": \"0612345678\", \"timezone\": \"Indian/Mayotte\"}"),
                      0);
    assert_string_equal (f->lead->timezone, "Indian/Mayotte");
    assert_int_equal (f->lead->phone->n_zones, 1);
    assert_string_equal (f->lead->phone->zones[0], "Indian/Mayotte");
    assert_string_equal (f->lead->phone->zone_source, "override");

    s_expect_error (f, "{\"phone\": \"0612345678\", \"timezone\": \"Paris\"}", "timezone",
                    INTAKE_E_INVALID_TIMEZONE);
    s_expect_error (f, "{\"phone\": \"0612345678\", \"timezone\": \"../../etc/passwd\"}",
                    "timezone", INTAKE_E_INVALID_TIMEZONE);
}

static void
test_invalid_phone_names_the_reason (void **state)
{
    fixture_t *f = *state;
    s_expect_error (f, "{\"phone\": \"06 12 34\"}", "phone", INTAKE_E_INVALID_NUMBER);
    assert_string_equal (s_error (f, "phone")->message, "not a valid FR number: too short");
    s_expect_error (f, "{\"phone\": \"(415) 123-4567\", \"country\": \"US\"}", "phone",
                    INTAKE_E_INVALID_NUMBER);
    assert_string_equal (s_error (f, "phone")->message,
                         "not a valid US number: invalid for region");
    s_expect_error (f, "{\"phone\": \"0612345678\", \"alt_phones\": [\"0612\"]}", "alt_phones[0]",
                    INTAKE_E_INVALID_NUMBER);
    s_expect_error (f, "{\"phone\": 612345678}", "phone", INTAKE_E_WRONG_TYPE);
    assert_non_null (strstr (s_error (f, "phone")->message, "leading 0"));
    s_expect_error (f, "{\"campaign\": \"x\"}", "phone", INTAKE_E_REQUIRED);
    s_expect_error (f, "{\"phone\": \"   \"}", "phone", INTAKE_E_REQUIRED);
}

static void
test_national_number_needs_a_country (void **state)
{
    fixture_t *f = *state;
    f->opts.default_country = NULL;
    s_expect_error (f, "{\"phone\": \"06 12 34 56 78\"}", "phone", INTAKE_E_INVALID_NUMBER);
    assert_non_null (strstr (s_error (f, "phone")->message, "without a country"));
    assert_int_equal (s_decode (f, "{\"phone\": \"+33 6 12 34 56 78\"}"), 0);
    assert_string_equal (f->lead->country, "");
    f->opts.default_country = "fr";                /* a misconfigured source default */
    assert_int_equal (s_decode (f, "{\"phone\": \"+33 6 12 34 56 78\"}"), 0);
    assert_string_equal (f->lead->country, "");
    f->opts.default_country = NULL;
    assert_int_equal (s_decode (f, "{\"phone\": \"020 7946 0000\", \"country\": \"UK\"}"), 0);
    assert_string_equal (f->lead->country, "GB");
    assert_string_equal (f->lead->phone->e164, "+442079460000");
    s_expect_error (f, "{\"phone\": \"0612345678\", \"country\": \"Atlantide\"}", "country",
                    INTAKE_E_INVALID_COUNTRY);
    /* what spreadsheets write instead of the code */
    static const char *const names[][2] = {{"France", "FR"}, {"États-Unis", "US"},
                                           {"USA", "US"}, {"Royaume-Uni", "GB"},
                                           {"La Réunion", "RE"}, {"gbr", "GB"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char json[128];
        snprintf (json, sizeof json, "{\"phone\": \"+33612345678\", \"country\": \"%s\"}",
                  names[i][0]);
        assert_int_equal (s_decode (f, json), 0);
        assert_string_equal (f->lead->country, names[i][1]);
    }
    s_expect_error (f, "{\"phone\": \"0612345678\", \"country\": \"XX\"}", "country",
                    INTAKE_E_INVALID_COUNTRY);
}

static void
test_campaign_comes_from_the_lead_or_the_request (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (s_decode (f, "{\"phone\": \"0612345678\"}"), 0);
    assert_string_equal (f->lead->campaign, "spring-2026");
    assert_int_equal (s_decode (f, "{\"phone\": \"0612345678\", \"campaign\": \"other\"}"), 0);
    assert_string_equal (f->lead->campaign, "other");
    f->opts.default_campaign = NULL;
    s_expect_error (f, "{\"phone\": \"0612345678\"}", "campaign", INTAKE_E_REQUIRED);
    s_expect_error (f, "{\"phone\": \"0612345678\", \"campaign\": \"été {2026}\"}", "campaign",
                    INTAKE_E_INVALID_VALUE);
}

static void
test_types_are_checked (void **state)
{
    fixture_t *f = *state;
    s_expect_error (f, "{\"phone\": \"0612345678\", \"first_name\": 12}", "first_name",
                    INTAKE_E_WRONG_TYPE);
    s_expect_error (f, "{\"phone\": \"0612345678\", \"email\": [\"a@b.fr\"]}", "email",
                    INTAKE_E_WRONG_TYPE);
    s_expect_error (f, "{\"phone\": \"0612345678\", \"alt_phones\": \"0123456789\"}",
                    "alt_phones", INTAKE_E_WRONG_TYPE);
    s_expect_error (f, "{\"phone\": \"0612345678\", \"alt_phones\": [123]}", "alt_phones[0]",
                    INTAKE_E_WRONG_TYPE);
    s_expect_error (f, "{\"phone\": \"0612345678\", \"consents\": {}}", "consents",
                    INTAKE_E_WRONG_TYPE);
    s_expect_error (f, "{\"phone\": \"0612345678\", \"consents\": [\"yes\"]}", "consents[0]",
                    INTAKE_E_WRONG_TYPE);
    s_expect_error (f, "{\"phone\": \"0612345678\", \"debt\": 100}", "debt", INTAKE_E_WRONG_TYPE);
    s_expect_error (f, "{\"phone\": \"0612345678\", \"custom\": [1]}", "custom",
                    INTAKE_E_WRONG_TYPE);
    s_expect_error (f, "{\"phone\": \"0612345678\", \"debt\": {\"balance\": \"100\", "
                       "\"currency\": \"EUR\"}}", "debt.balance", INTAKE_E_WRONG_TYPE);

    /* null is "not given"; CRM ids may be integers */
    assert_int_equal (s_decode (f, "{\"phone\": \"0612345678\", \"email\": null, "
                                   "\"external_id\": 90210}"), 0);
    assert_string_equal (f->lead->email, "");
    assert_string_equal (f->lead->external_id, "90210");

    intake_lead_free (&f->lead);
    json_t *arr = json_array ();
    assert_int_equal (intake_lead_from_json (arr, &f->opts, &f->lead, &f->errors), PL_EINVAL);
    assert_int_equal (f->errors.count, 1);
    assert_string_equal (f->errors.items[0].code, INTAKE_E_WRONG_TYPE);
    json_decref (arr);
}

static void
test_lengths_are_bounded (void **state)
{
    fixture_t *f = *state;
    char json[2048];
    char longname[300];
    memset (longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    snprintf (json, sizeof json, "{\"phone\": \"0612345678\", \"first_name\": \"%s\"}", longname);
    s_expect_error (f, json, "first_name", INTAKE_E_TOO_LONG);
    snprintf (json, sizeof json, "{\"phone\": \"0612345678\", \"custom\": {\"%s\": \"x\"}}",
              longname);
    char field[sizeof f->errors.items[0].field];
    memcpy (field, "custom.", 7);                              /* paths are cut to fit */
    memset (field + 7, 'a', sizeof field - 8);
    field[sizeof field - 1] = '\0';
    s_expect_error (f, json, field, INTAKE_E_INVALID_VALUE);
    s_expect_error (f, "{\"phone\": \"0612345678\", \"alt_phones\": [\"1\",\"2\",\"3\",\"4\","
                       "\"5\",\"6\",\"7\",\"8\",\"9\"]}", "alt_phones", INTAKE_E_TOO_MANY);
    s_expect_error (f, "{\"phone\": \"0612345678\", \"last_name\": \"a\\u0007b\"}", "last_name",
                    INTAKE_E_INVALID_VALUE);
}

static void
test_email_sanity (void **state)
{
    fixture_t *f = *state;
    static const char *const good[] = {"a@b.fr", "jean.dupont+crm@Sub.Example.COM",
                                       "x_y@exemple-fr.fr", "é@café.fr", NULL};
    static const char *const bad[] = {"a", "a@", "@b.fr", "a@b", "a@@b.fr", "a b@c.fr",
                                      "a@b..fr", "a@-b.fr", "a@b-.fr", ".a@b.fr", "a.@b.fr",
                                      "a..b@c.fr", "a@b.123", "a@b,fr", NULL};
    char json[256];
    for (int i = 0; good[i]; i++) {
        snprintf (json, sizeof json, "{\"phone\": \"0612345678\", \"email\": \"%s\"}", good[i]);
        if (s_decode (f, json) != 0)
            fail_msg ("%s refused: %s", good[i], f->errors.items[0].message);
    }
    assert_string_equal (f->lead->email, "é@café.fr");
    assert_int_equal (s_decode (f, "{\"phone\": \"0612345678\", \"email\": \"A@EX.FR\"}"), 0);
    assert_string_equal (f->lead->email, "A@ex.fr");
    for (int i = 0; bad[i]; i++) {
        snprintf (json, sizeof json, "{\"phone\": \"0612345678\", \"email\": \"%s\"}", bad[i]);
        s_expect_error (f, json, "email", INTAKE_E_INVALID_EMAIL);
    }
}

static void
test_debt_money_is_minor_units_and_iso_currency (void **state)
{
    fixture_t *f = *state;
    s_expect_error (f, "{\"phone\": \"0612345678\", \"debt\": {\"balance\": 12.5, "
                       "\"currency\": \"EUR\"}}", "debt.balance", INTAKE_E_INVALID_AMOUNT);
    s_expect_error (f, "{\"phone\": \"0612345678\", \"debt\": {\"balance\": 1250, "
                       "\"currency\": \"EURO\"}}", "debt.currency", INTAKE_E_INVALID_CURRENCY);
    s_expect_error (f, "{\"phone\": \"0612345678\", \"debt\": {\"balance\": 1250, "
                       "\"currency\": \"E1R\"}}", "debt.currency", INTAKE_E_INVALID_CURRENCY);
    s_expect_error (f, "{\"phone\": \"0612345678\", \"debt\": {\"balance\": 1250}}",
                    "debt.currency", INTAKE_E_REQUIRED);
    s_expect_error (f, "{\"phone\": \"0612345678\", \"debt\": {\"currency\": \"USD\"}}",
                    "debt.balance", INTAKE_E_REQUIRED);
    assert_int_equal (s_decode (f, "{\"phone\": \"0612345678\", \"debt\": {\"account_ref\": 77,"
                                   "\"balance\": -500, \"currency\": \"usd\"}}"), 0);
    assert_string_equal (f->lead->debt->account_ref, "77");
    assert_int_equal (f->lead->debt->balance->minor_units, -500);
    assert_string_equal (f->lead->debt->balance->currency, "USD");
    assert_int_equal (s_decode (f, "{\"phone\": \"0612345678\", \"debt\": {}}"), 0);
    assert_null (f->lead->debt);
}

static void
test_consent_times (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (s_decode (f, "{\"phone\": \"0612345678\", \"consents\": [{\"scope\": \"c\","
                                   "\"captured_at\": \"2026-03-01T09:00:00.250Z\","
                                   "\"revoked_at\": 1780000000000}]}"), 0);
    assert_int_equal (f->lead->consents[0]->captured_at_ms, INT64_C(1772355600250));
    assert_int_equal (f->lead->consents[0]->revoked_at_ms, INT64_C(1780000000000));
    s_expect_error (f, "{\"phone\": \"0612345678\", \"consents\": [{\"scope\": \"c\","
                       "\"captured_at\": \"01/03/2026\"}]}", "consents[0].captured_at",
                    INTAKE_E_INVALID_TIME);
    s_expect_error (f, "{\"phone\": \"0612345678\", \"consents\": [{\"scope\": \"c\"}]}",
                    "consents[0].captured_at", INTAKE_E_REQUIRED);
    s_expect_error (f, "{\"phone\": \"0612345678\", \"consents\": [{\"captured_at\": 1}]}",
                    "consents[0].scope", INTAKE_E_REQUIRED);
    s_expect_error (f, "{\"phone\": \"0612345678\", \"consents\": [{\"scope\": \"c\","
                       "\"captured_at\": \"2026-03-01T10:00:00Z\","
                       "\"revoked_at\": \"2026-02-01T10:00:00Z\"}]}", "consents[0].revoked_at",
                    INTAKE_E_INVALID_TIME);
    s_expect_error (f, "{\"phone\": \"0612345678\", \"consents\": [{\"scope\": \"c\","
                       "\"captured_at\": \"2030-01-01T00:00:00Z\"}]}", "consents[0].captured_at",
                    INTAKE_E_INVALID_TIME);
    s_expect_error (f, "{\"phone\": \"0612345678\", \"consents\": [{\"scope\": \"c\","
                       "\"captured_at\": \"1772355600000\"}]}", "consents[0].captured_at",
                    INTAKE_E_INVALID_TIME);    /* milliseconds are a JSON number */
    s_expect_error (f, "{\"phone\": \"0612345678\", \"consents\": [{\"scope\": \"c\","
                       "\"captured_at\": 1, \"number\": \"12\"}]}", "consents[0].number",
                    INTAKE_E_INVALID_NUMBER);
}

/* Times are read by plateau/timefmt.h: an impossible date is an item error, never rolled over
 * into the next month, and the intake keeps its own bounds (1970 to 9999). */
static void
test_impossible_dates_are_item_errors (void **state)
{
    fixture_t *f = *state;
    static const char *const bad[] = {"2026-02-30T09:00:00Z", "2026-04-31T09:00:00Z",
                                      "2025-02-29T09:00:00Z", "2026-03-01T24:00:00Z",
                                      "2026-03-01T10:60:00Z", "1969-12-31T23:59:59Z", NULL};
    for (int i = 0; bad[i]; i++) {
        char json[256];
        snprintf (json, sizeof json, "{\"phone\": \"0612345678\", \"consents\": [{\"scope\": "
                  "\"c\", \"captured_at\": \"%s\"}]}", bad[i]);
        s_expect_error (f, json, "consents[0].captured_at", INTAKE_E_INVALID_TIME);
    }
    assert_int_equal (s_decode (f, "{\"phone\": \"0612345678\", \"consents\": [{\"scope\": "
                                   "\"c\", \"captured_at\": \"2024-02-29T09:00:00.5+01:00\"}]}"),
                      0);
    assert_int_equal (f->lead->consents[0]->captured_at_ms, INT64_C(1709193600500));
}

static void
test_unknown_fields_are_kept_or_rejected_never_dropped (void **state)
{
    fixture_t *f = *state;
    const char *json = "{\"phone\": \"0612345678\", \"city\": \"Lyon\", \"score\": 7.5,"
                       " \"tags\": [\"a\", \"b\"], \"debt\": {\"balance\": 1, \"currency\": "
                       "\"EUR\", \"interest\": 3}, \"consents\": [{\"scope\": \"c\", "
                       "\"captured_at\": 1, \"ip\": \"10.0.0.1\"}], \"nothing\": null}";
    assert_int_equal (s_decode (f, json), 0);
    assert_string_equal (s_custom (f->lead, "city"), "Lyon");
    assert_string_equal (s_custom (f->lead, "score"), "7.5");
    assert_string_equal (s_custom (f->lead, "tags"), "[\"a\",\"b\"]");
    assert_string_equal (s_custom (f->lead, "debt.interest"), "3");
    assert_string_equal (s_custom (f->lead, "consents[0].ip"), "10.0.0.1");
    assert_null (s_custom (f->lead, "nothing"));

    f->opts.reject_unknown = true;
    assert_int_equal (s_decode (f, json), PL_EINVAL);
    assert_string_equal (s_error (f, "city")->code, INTAKE_E_UNKNOWN_FIELD);
    assert_string_equal (s_error (f, "score")->code, INTAKE_E_UNKNOWN_FIELD);
    assert_string_equal (s_error (f, "debt.interest")->code, INTAKE_E_UNKNOWN_FIELD);
    assert_string_equal (s_error (f, "consents[0].ip")->code, INTAKE_E_UNKNOWN_FIELD);
    /* explicit custom fields are not unknown */
    assert_int_equal (s_decode (f, "{\"phone\": \"0612345678\", \"custom\": {\"city\": \"Lyon\"}}"),
                      0);
    f->opts.reject_unknown = false;

    s_expect_error (f, "{\"phone\": \"0612345678\", \"city\": \"A\", \"custom\": {\"city\": "
                       "\"B\"}}", "custom.city", INTAKE_E_INVALID_VALUE);
}

static void
test_every_problem_is_reported_at_once (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (s_decode (f, "{\"phone\": \"12\", \"email\": \"nope\", \"country\": \"ZZ\","
                                   "\"first_name\": 3, \"debt\": {\"balance\": 1.5}}"),
                      PL_EINVAL);
    assert_non_null (s_error (f, "phone"));
    assert_non_null (s_error (f, "email"));
    assert_non_null (s_error (f, "country"));
    assert_non_null (s_error (f, "first_name"));
    assert_non_null (s_error (f, "debt.balance"));
    assert_true (f->errors.count >= 5);
}

static void
test_errors_and_lead_render_as_json (void **state)
{
    fixture_t *f = *state;
    s_expect_error (f, "{\"phone\": \"0612\"}", "phone", INTAKE_E_INVALID_NUMBER);
    json_t *errs = intake_errors_to_json (&f->errors);
    assert_non_null (errs);
    char *text = json_dumps (errs, JSON_COMPACT);
    assert_string_equal (text, "[{\"field\":\"phone\",\"code\":\"invalid_number\","
                               "\"message\":\"not a valid FR number: too short\"}]");
    free (text);
    json_decref (errs);

    assert_int_equal (s_decode (f, "{\"phone\": \"0692 12 34 56\", \"consents\": [{\"scope\": "
                                   "\"c\", \"captured_at\": 1772355600000}], \"debt\": "
                                   "{\"balance\": 5, \"currency\": \"EUR\"}}"), 0);
    json_t *o = intake_lead_to_json (f->lead);
    assert_non_null (o);
    json_t *phone = json_object_get (o, "phone");
    assert_string_equal (json_string_value (json_object_get (phone, "e164")), "+262692123456");
    assert_string_equal (json_string_value (json_object_get (phone, "type")), "mobile");
    assert_string_equal (json_string_value (json_array_get (json_object_get (phone, "zones"), 0)),
                         "Indian/Reunion");
    assert_string_equal (json_string_value (json_object_get (
                             json_array_get (json_object_get (o, "consents"), 0), "captured_at")),
                         "2026-03-01T09:00:00.000Z");
    assert_int_equal (json_integer_value (json_object_get (json_object_get (o, "debt"), "balance")),
                      5);
    assert_null (json_object_get (o, "email"));
    json_decref (o);
}

static void
test_text_values_read_numbers_written_as_text (void **state)
{
    fixture_t *f = *state;
    f->opts.text_values = true;
    assert_int_equal (s_decode (f, "{\"phone\": \"0612345678\", \"debt\": {\"balance\": \"-12345\","
                                   "\"currency\": \"EUR\", \"first_letter_at\": \"1772000000000\"},"
                                   "\"consents\": [{\"scope\": \"c\", \"captured_at\": "
                                   "\"1772355600000\"}]}"), 0);
    assert_int_equal (f->lead->debt->balance->minor_units, -12345);
    assert_int_equal (f->lead->debt->first_letter_at_ms, INT64_C(1772000000000));
    assert_int_equal (f->lead->consents[0]->captured_at_ms, INT64_C(1772355600000));
    s_expect_error (f, "{\"phone\": \"0612345678\", \"debt\": {\"balance\": \"12,50\","
                       "\"currency\": \"EUR\"}}", "debt.balance", INTAKE_E_INVALID_AMOUNT);
    f->opts.text_values = false;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_complete_lead_is_normalised, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_reunion_lead_resolves_to_indian_reunion, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_florida_zip_with_new_york_number_keeps_both_zones, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_timezone_override_is_checked_and_wins, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_invalid_phone_names_the_reason, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_national_number_needs_a_country, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_campaign_comes_from_the_lead_or_the_request, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_types_are_checked, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_lengths_are_bounded, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_email_sanity, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_debt_money_is_minor_units_and_iso_currency, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_consent_times, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_impossible_dates_are_item_errors, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_unknown_fields_are_kept_or_rejected_never_dropped, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_every_problem_is_reported_at_once, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_errors_and_lead_render_as_json, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_text_values_read_numbers_written_as_text, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name ("intake_lead", tests, NULL, NULL);
}
