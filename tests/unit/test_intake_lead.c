/*  test_intake_lead.c — one lead: validation and normalisation (services/intake/lead.c).
 *
 *  A lead that is accepted comes out normalised (E.164, zones, upper-case codes); one that is
 *  refused says which field is wrong, with a stable code and a message a CRM operator can act
 *  on, and every problem is reported at once. A lead that comes on the bus as a protobuf message
 *  is read by the same checks: given the same lead, both doors give the same answer.
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

/* Who is called: one of three names, forgiven their case and an underscore, shown as stored;
 * anything else names the field and the names it takes. Not said, it stays empty. */
static void
test_callee_is_one_of_three_names (void **state)
{
    fixture_t *f = *state;
    static const char *const given[][2] = {
        {"consumer", "consumer"}, {"business", "business"}, {"sole-trader", "sole-trader"},
        {" Business ", "business"}, {"CONSUMER", "consumer"}, {"sole_trader", "sole-trader"},
        {"Sole_Trader", "sole-trader"},
    };
    for (size_t i = 0; i < sizeof given / sizeof given[0]; i++) {
        char json[128];
        snprintf (json, sizeof json, "{\"phone\": \"0612345678\", \"callee\": \"%s\"}",
                  given[i][0]);
        if (s_decode (f, json) != 0)
            fail_msg ("%s: rejected: %s", given[i][0], f->errors.items[0].message);
        assert_string_equal (f->lead->callee, given[i][1]);
        json_t *o = intake_lead_to_json (f->lead);
        assert_string_equal (json_string_value (json_object_get (o, "callee")), given[i][1]);
        json_decref (o);

        /* and the stored form keeps it */
        size_t n = plateau__v1__lead__get_packed_size (f->lead);
        uint8_t *buf = malloc (n);
        assert_non_null (buf);
        plateau__v1__lead__pack (f->lead, buf);
        Plateau__V1__Lead *back = plateau__v1__lead__unpack (NULL, n, buf);
        assert_non_null (back);
        assert_string_equal (back->callee, given[i][1]);
        plateau__v1__lead__free_unpacked (back, NULL);
        free (buf);
    }

    /* not said: empty, and not shown */
    assert_int_equal (s_decode (f, "{\"phone\": \"0612345678\"}"), 0);
    assert_string_equal (f->lead->callee, "");
    json_t *o = intake_lead_to_json (f->lead);
    assert_null (json_object_get (o, "callee"));
    json_decref (o);
    assert_int_equal (s_decode (f, "{\"phone\": \"0612345678\", \"callee\": null}"), 0);
    assert_string_equal (f->lead->callee, "");
    assert_int_equal (s_decode (f, "{\"phone\": \"0612345678\", \"callee\": \"  \"}"), 0);
    assert_string_equal (f->lead->callee, "");

    s_expect_error (f, "{\"phone\": \"0612345678\", \"callee\": \"b2b\"}", "callee",
                    INTAKE_E_INVALID_VALUE);
    assert_string_equal (s_error (f, "callee")->message,
                         "callee 'b2b' is not consumer, business or sole-trader");
    s_expect_error (f, "{\"phone\": \"0612345678\", \"callee\": \"sole trader\"}", "callee",
                    INTAKE_E_INVALID_VALUE);
    s_expect_error (f, "{\"phone\": \"0612345678\", \"callee\": \"company\"}", "callee",
                    INTAKE_E_INVALID_VALUE);
    s_expect_error (f, "{\"phone\": \"0612345678\", \"callee\": 1}", "callee",
                    INTAKE_E_WRONG_TYPE);
    s_expect_error (f, "{\"phone\": \"0612345678\", \"callee\": [\"business\"]}", "callee",
                    INTAKE_E_WRONG_TYPE);
    /* reported with the lead's other problems, not instead of them */
    assert_int_equal (s_decode (f, "{\"phone\": \"12\", \"callee\": \"pro\"}"), PL_EINVAL);
    assert_non_null (s_error (f, "callee"));
    assert_non_null (s_error (f, "phone"));
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
                                           {"La Réunion", "RE"}, {"gbr", "GB"},
                                           {"United States", "US"}, {"U.S.", "US"},
                                           {"United Kingdom", "GB"}, {"Grande-Bretagne", "GB"},
                                           {"Écosse", "GB"}, {"Allemagne", "DE"},
                                           {"Germany", "DE"}, {"Pays-Bas", "NL"},
                                           {"Puerto Rico", "PR"}, {"Brésil", "BR"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char json[128];
        snprintf (json, sizeof json, "{\"phone\": \"+33612345678\", \"country\": \"%s\"}",
                  names[i][0]);
        assert_int_equal (s_decode (f, json), 0);
        assert_string_equal (f->lead->country, names[i][1]);
    }
    s_expect_error (f, "{\"phone\": \"0612345678\", \"country\": \"XX\"}", "country",
                    INTAKE_E_INVALID_COUNTRY);
    /* a name not known is an error, never the default region */
    f->opts.default_country = "FR";
    s_expect_error (f, "{\"phone\": \"(305) 555-0142\", \"country\": \"Estados Unidos\"}",
                    "country", INTAKE_E_INVALID_COUNTRY);
    assert_non_null (strstr (s_error (f, "country")->message, "'Estados Unidos'"));
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

/* ------------------------------------------------------------------------------------------- */
/* The bus door reads the same lead the same way                                                */

/* One field of a lead, written once and handed to both doors: text, or (s NULL) an integer
 * (milliseconds, minor units). Keys are the API's names: top-level fields, "alt_phones" (one
 * more number), "consent.<name>" (the lead's one consent), "debt.<name>", "custom.<key>",
 * "phone.e164" (a number the sender already normalised: plain "phone" in JSON), and the fields
 * only the intake sets ("id", "received_at"). */
typedef struct {
    const char *key;
    const char *s;
    int64_t n;
} s_field_t;

#define S_MAX_FIELDS 20

typedef struct {
    const char *name;
    s_field_t fields[S_MAX_FIELDS];
    const char *field;                  /* the first error's field; NULL: accepted */
    const char *code;
    bool reject_unknown;
} s_case_t;

#define S_BASE {"campaign", "spring-2026"}, {"country", "FR"}, {"phone", "06 12 34 56 78"}
#define S_X16 "xxxxxxxxxxxxxxxx"
#define S_X128 S_X16 S_X16 S_X16 S_X16 S_X16 S_X16 S_X16 S_X16
#define S_X1024 S_X128 S_X128 S_X128 S_X128 S_X128 S_X128 S_X128 S_X128

static const s_case_t s_cases[] = {
    {"a complete lead", {
        {"external_id", "SF-0042"}, {"campaign", "recouvrement_q3"}, {"country", "fr"},
        {"phone", "06 12 34 56 78"}, {"alt_phones", "+44 20 7946 0000"},
        {"first_name", " Hélène "}, {"last_name", "Dupont"},
        {"address", "12 rue de la Paix\nBâtiment B"}, {"postal_code", "75002"},
        {"email", "Helene.Dupont@Example.FR"}, {"consent.scope", "canvassing"},
        {"consent.channel", "Phone"}, {"consent.captured_at", NULL, INT64_C(1772355600000)},
        {"consent.number", "0612345678"}, {"debt.account_ref", "ACC-1"},
        {"debt.balance", NULL, 123456}, {"debt.currency", "eur"},
        {"debt.first_letter_at", NULL, INT64_C(1772000000000)}, {"custom.segment", "gold"}}},
    {"a CRM time zone", {S_BASE, {"timezone", "Indian/Mayotte"}}},
    {"a business callee", {S_BASE, {"callee", "business"}}},
    {"a sole trader written as spreadsheets do", {S_BASE, {"callee", " Sole_Trader "}}},
    {"a consumer callee", {S_BASE, {"callee", "Consumer"}}},
    {"a number already in E.164", {{"campaign", "c"}, {"phone.e164", "+33612345678"}}},
    {"a zero balance", {S_BASE, {"debt.balance", NULL, 0}, {"debt.currency", "EUR"}}},
    {"a blank debt is no debt", {S_BASE, {"debt.creditor", "  "}}},
    {"fields only the intake sets are kept as unknown",
     {S_BASE, {"id", "L-1"}, {"received_at", NULL, INT64_C(1790000000000)}}},
    {"fields only the intake sets are refused as unknown",
     {S_BASE, {"id", "L-1"}}, "id", INTAKE_E_UNKNOWN_FIELD, true},
    {"nothing at all", {{NULL}}, "campaign", INTAKE_E_REQUIRED},
    {"missing campaign", {{"country", "FR"}, {"phone", "06 12 34 56 78"}},
     "campaign", INTAKE_E_REQUIRED},
    {"a campaign with spaces", {{"campaign", "été {2026}"}, {"phone", "+33612345678"}},
     "campaign", INTAKE_E_INVALID_VALUE},
    {"missing phone", {{"campaign", "c"}}, "phone", INTAKE_E_REQUIRED},
    {"an invalid number", {{"campaign", "c"}, {"country", "FR"}, {"phone", "06 12 34"}},
     "phone", INTAKE_E_INVALID_NUMBER},
    {"a national number without a country", {{"campaign", "c"}, {"phone", "06 12 34 56 78"}},
     "phone", INTAKE_E_INVALID_NUMBER},
    {"an invalid alternate number", {S_BASE, {"alt_phones", "0612"}},
     "alt_phones[0]", INTAKE_E_INVALID_NUMBER},
    {"too many alternate numbers", {S_BASE, {"alt_phones", "1"}, {"alt_phones", "2"},
        {"alt_phones", "3"}, {"alt_phones", "4"}, {"alt_phones", "5"}, {"alt_phones", "6"},
        {"alt_phones", "7"}, {"alt_phones", "8"}, {"alt_phones", "9"}},
     "alt_phones", INTAKE_E_TOO_MANY},
    {"an unknown country", {S_BASE, {"country", "ZZ"}}, "country", INTAKE_E_INVALID_COUNTRY},
    {"an unknown time zone", {S_BASE, {"timezone", "Paris"}}, "timezone",
     INTAKE_E_INVALID_TIMEZONE},
    {"an unknown callee", {S_BASE, {"callee", "b2b"}}, "callee", INTAKE_E_INVALID_VALUE},
    {"an over-long callee", {S_BASE, {"callee", S_X128}}, "callee", INTAKE_E_TOO_LONG},
    {"a bad email", {S_BASE, {"email", "a@b..fr"}}, "email", INTAKE_E_INVALID_EMAIL},
    {"a consent captured after receipt",
     {S_BASE, {"consent.scope", "c"}, {"consent.captured_at", NULL, NOW_MS + 7200000}},
     "consents[0].captured_at", INTAKE_E_INVALID_TIME},
    {"a consent captured after year 9999",
     {S_BASE, {"consent.scope", "c"}, {"consent.captured_at", NULL, INT64_C(253402300800000)}},
     "consents[0].captured_at", INTAKE_E_INVALID_TIME},
    {"a consent captured before 1970",
     {S_BASE, {"consent.scope", "c"}, {"consent.captured_at", NULL, -1}},
     "consents[0].captured_at", INTAKE_E_INVALID_TIME},
    {"a consent revoked before it was captured",
     {S_BASE, {"consent.scope", "c"}, {"consent.captured_at", NULL, INT64_C(1772355600000)},
      {"consent.revoked_at", NULL, INT64_C(1772000000000)}},
     "consents[0].revoked_at", INTAKE_E_INVALID_TIME},
    {"a consent without a scope", {S_BASE, {"consent.captured_at", NULL, 1}},
     "consents[0].scope", INTAKE_E_REQUIRED},
    {"a consent naming a bad number",
     {S_BASE, {"consent.scope", "c"}, {"consent.captured_at", NULL, 1}, {"consent.number", "12"}},
     "consents[0].number", INTAKE_E_INVALID_NUMBER},
    {"a balance without currency", {S_BASE, {"debt.balance", NULL, 1250}},
     "debt.currency", INTAKE_E_REQUIRED},
    {"a currency that is not ISO 4217",
     {S_BASE, {"debt.balance", NULL, 1250}, {"debt.currency", "EURO"}},
     "debt.currency", INTAKE_E_INVALID_CURRENCY},
    {"an over-long first name", {S_BASE, {"first_name", S_X128 "x"}},
     "first_name", INTAKE_E_TOO_LONG},
    {"an over-long address", {S_BASE, {"address", S_X128 S_X128 S_X128 S_X128 "x"}},
     "address", INTAKE_E_TOO_LONG},
    {"an over-long consent proof", {S_BASE, {"consent.scope", "c"},
        {"consent.captured_at", NULL, 1}, {"consent.proof_ref", S_X128 S_X128 "x"}},
     "consents[0].proof_ref", INTAKE_E_TOO_LONG},
    {"an over-long custom value", {S_BASE, {"custom.note", S_X1024 "x"}},
     "custom.note", INTAKE_E_TOO_LONG},
    {"an over-long custom name", {S_BASE, {"custom." S_X128, "x"}},
     "custom." S_X16 S_X16 S_X16 "xxxxxxxx", INTAKE_E_INVALID_VALUE},
    {"a control character", {S_BASE, {"last_name", "a\ab"}}, "last_name",
     INTAKE_E_INVALID_VALUE},
    {"a byte that is not UTF-8", {S_BASE, {"last_name", "Dupont\xff"}}, "last_name",
     INTAKE_E_INVALID_VALUE},
    {"a truncated UTF-8 sequence", {S_BASE, {"consent.scope", "c"},
        {"consent.captured_at", NULL, 1}, {"consent.source", "caf\xc3"}},
     "consents[0].source", INTAKE_E_INVALID_VALUE},
    {"a UTF-16 surrogate", {S_BASE, {"debt.creditor", "\xed\xa0\x80"}}, "debt.creditor",
     INTAKE_E_INVALID_VALUE},
    {"a custom value that is not UTF-8", {S_BASE, {"custom.city", "Saint-\xe9tienne"}},
     "custom.city", INTAKE_E_INVALID_VALUE},
    {"every problem at once", {{"phone", "12"}, {"email", "nope"}, {"country", "ZZ"},
        {"debt.balance", NULL, 5}}, "country", INTAKE_E_INVALID_COUNTRY},
};

/* The JSON form. Strings go in unchecked: jansson would refuse bytes that are not UTF-8, but
 * intake_lead_from_json takes any json_t and checks them itself. */
static json_t *
s_json_form (const s_case_t *tc)
{
    json_t *o = json_object ();
    for (const s_field_t *f = tc->fields; f < tc->fields + S_MAX_FIELDS && f->key; f++) {
        json_t *v = f->s ? json_stringn_nocheck (f->s, strlen (f->s)) : json_integer (f->n);
        const char *dot = strchr (f->key, '.');
        if (strcmp (f->key, "phone.e164") == 0) {
            json_object_set_new (o, "phone", v);
        }
        else if (strcmp (f->key, "alt_phones") == 0) {
            if (!json_object_get (o, "alt_phones"))
                json_object_set_new (o, "alt_phones", json_array ());
            json_array_append_new (json_object_get (o, "alt_phones"), v);
        }
        else if (dot) {
            const char *parent = strncmp (f->key, "consent.", 8) == 0 ? "consents"
                                 : strncmp (f->key, "debt.", 5) == 0 ? "debt" : "custom";
            json_t *p = json_object_get (o, parent);
            if (!p) {
                json_t *obj = json_object ();
                if (strcmp (parent, "consents") == 0) {
                    p = json_array ();
                    json_array_append_new (p, obj);
                }
                json_object_set_new (o, parent, p ? p : obj);
                p = p ? p : obj;
            }
            json_object_set_new (json_is_array (p) ? json_array_get (p, 0) : p, dot + 1, v);
        }
        else {
            json_object_set_new (o, f->key, v);
        }
    }
    return o;
}

/* The protobuf form, as a sender builds it before it is packed. */
typedef struct {
    Plateau__V1__Lead lead;
    Plateau__V1__PhoneNumber phone;
    Plateau__V1__PhoneNumber alt[S_MAX_FIELDS];
    Plateau__V1__PhoneNumber *alt_p[S_MAX_FIELDS];
    Plateau__V1__Consent consent;
    Plateau__V1__Consent *consent_p[1];
    Plateau__V1__Debt debt;
    Plateau__V1__Money money;
    Plateau__V1__Lead__CustomEntry custom[S_MAX_FIELDS];
    Plateau__V1__Lead__CustomEntry *custom_p[S_MAX_FIELDS];
} s_pb_t;

static void
s_pb_set (s_pb_t *m, const s_field_t *f)
{
    static const struct {
        const char *key;
        size_t offset;
    } lead_strings[] = {
        {"id", offsetof (Plateau__V1__Lead, id)},
        {"external_id", offsetof (Plateau__V1__Lead, external_id)},
        {"campaign", offsetof (Plateau__V1__Lead, campaign)},
        {"country", offsetof (Plateau__V1__Lead, country)},
        {"first_name", offsetof (Plateau__V1__Lead, first_name)},
        {"last_name", offsetof (Plateau__V1__Lead, last_name)},
        {"address", offsetof (Plateau__V1__Lead, address)},
        {"postal_code", offsetof (Plateau__V1__Lead, postal_code)},
        {"state", offsetof (Plateau__V1__Lead, state)},
        {"email", offsetof (Plateau__V1__Lead, email)},
        {"timezone", offsetof (Plateau__V1__Lead, timezone)},
        {"callee", offsetof (Plateau__V1__Lead, callee)},
    }, consent_strings[] = {
        {"consent.scope", offsetof (Plateau__V1__Consent, scope)},
        {"consent.channel", offsetof (Plateau__V1__Consent, channel)},
        {"consent.source", offsetof (Plateau__V1__Consent, source)},
        {"consent.proof_ref", offsetof (Plateau__V1__Consent, proof_ref)},
        {"consent.wording_version", offsetof (Plateau__V1__Consent, wording_version)},
        {"consent.number", offsetof (Plateau__V1__Consent, number)},
    }, debt_strings[] = {
        {"debt.account_ref", offsetof (Plateau__V1__Debt, account_ref)},
        {"debt.creditor", offsetof (Plateau__V1__Debt, creditor)},
        {"debt.first_letter_ref", offsetof (Plateau__V1__Debt, first_letter_ref)},
    };
    char *s = (char *) f->s;
    for (size_t i = 0; i < sizeof lead_strings / sizeof lead_strings[0]; i++)
        if (strcmp (f->key, lead_strings[i].key) == 0) {
            *(char **) ((char *) &m->lead + lead_strings[i].offset) = s;
            return;
        }
    if (strncmp (f->key, "consent.", 8) == 0) {
        m->lead.n_consents = 1;
        for (size_t i = 0; i < sizeof consent_strings / sizeof consent_strings[0]; i++)
            if (strcmp (f->key, consent_strings[i].key) == 0) {
                *(char **) ((char *) &m->consent + consent_strings[i].offset) = s;
                return;
            }
        if (strcmp (f->key, "consent.captured_at") == 0)
            m->consent.captured_at_ms = f->n;
        else if (strcmp (f->key, "consent.revoked_at") == 0)
            m->consent.revoked_at_ms = f->n;
        else
            fail_msg ("no protobuf field for %s", f->key);
        return;
    }
    if (strncmp (f->key, "debt.", 5) == 0) {
        m->lead.debt = &m->debt;
        for (size_t i = 0; i < sizeof debt_strings / sizeof debt_strings[0]; i++)
            if (strcmp (f->key, debt_strings[i].key) == 0) {
                *(char **) ((char *) &m->debt + debt_strings[i].offset) = s;
                return;
            }
        if (strcmp (f->key, "debt.first_letter_at") == 0) {
            m->debt.first_letter_at_ms = f->n;
            return;
        }
        m->debt.balance = &m->money;            /* balance and currency are one Money */
        if (strcmp (f->key, "debt.balance") == 0)
            m->money.minor_units = f->n;
        else if (strcmp (f->key, "debt.currency") == 0)
            m->money.currency = s;
        else
            fail_msg ("no protobuf field for %s", f->key);
        return;
    }
    if (strncmp (f->key, "custom.", 7) == 0) {
        Plateau__V1__Lead__CustomEntry *e = &m->custom[m->lead.n_custom++];
        e->key = (char *) f->key + 7;
        e->value = s;
        return;
    }
    if (strcmp (f->key, "phone") == 0 || strcmp (f->key, "phone.e164") == 0) {
        m->lead.phone = &m->phone;
        *(f->key[5] ? &m->phone.e164 : &m->phone.raw) = s;
    }
    else if (strcmp (f->key, "alt_phones") == 0) {
        m->alt[m->lead.n_alt_phones++].raw = s;
    }
    else if (strcmp (f->key, "received_at") == 0) {
        m->lead.received_at_ms = f->n;
    }
    else {
        fail_msg ("no protobuf field for %s", f->key);
    }
}

/* Builds the case as a sender would, and returns it as the bus delivers it: packed, then
 * unpacked by the receiver. Free with plateau__v1__lead__free_unpacked. */
static Plateau__V1__Lead *
s_pb_form (const s_case_t *tc)
{
    s_pb_t *m = calloc (1, sizeof *m);
    assert_non_null (m);
    plateau__v1__lead__init (&m->lead);
    plateau__v1__phone_number__init (&m->phone);
    plateau__v1__consent__init (&m->consent);
    plateau__v1__debt__init (&m->debt);
    plateau__v1__money__init (&m->money);
    for (size_t i = 0; i < S_MAX_FIELDS; i++) {
        plateau__v1__phone_number__init (&m->alt[i]);
        m->alt_p[i] = &m->alt[i];
        plateau__v1__lead__custom_entry__init (&m->custom[i]);
        m->custom_p[i] = &m->custom[i];
    }
    m->consent_p[0] = &m->consent;
    m->lead.alt_phones = m->alt_p;
    m->lead.consents = m->consent_p;
    m->lead.custom = m->custom_p;
    for (const s_field_t *f = tc->fields; f < tc->fields + S_MAX_FIELDS && f->key; f++)
        s_pb_set (m, f);
    size_t n = plateau__v1__lead__get_packed_size (&m->lead);
    uint8_t *buf = malloc (n ? n : 1);
    assert_non_null (buf);
    assert_int_equal (plateau__v1__lead__pack (&m->lead, buf), n);
    Plateau__V1__Lead *l = plateau__v1__lead__unpack (NULL, n, buf);
    assert_non_null (l);
    free (buf);
    free (m);
    return l;
}

static char *
s_render (const Plateau__V1__Lead *lead)
{
    json_t *o = intake_lead_to_json (lead);
    char *text = o ? json_dumps (o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref (o);
    return text;
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

static void
s_errors_text (const intake_errors_t *e, char *out, size_t size)
{
    out[0] = '\0';
    for (size_t i = 0; i < e->count; i++) {
        size_t used = strlen (out);
        snprintf (out + used, size - used, " [%s %s]", e->items[i].field, e->items[i].code);
    }
}

static void
test_the_bus_door_and_the_json_door_agree (void **state)
{
    fixture_t *f = *state;
    f->opts.default_campaign = NULL;            /* as the bus door: the lead says it all */
    f->opts.default_country = NULL;
    for (size_t i = 0; i < sizeof s_cases / sizeof s_cases[0]; i++) {
        const s_case_t *tc = &s_cases[i];
        f->opts.reject_unknown = tc->reject_unknown;

        json_t *obj = s_json_form (tc);
        Plateau__V1__Lead *from_json = NULL;
        intake_errors_t json_errors;
        int json_rc = intake_lead_from_json (obj, &f->opts, &from_json, &json_errors);
        json_decref (obj);

        Plateau__V1__Lead *bus = s_pb_form (tc);
        Plateau__V1__Lead *from_pb = NULL;
        intake_errors_t pb_errors;
        int pb_rc = intake_lead_from_pb (bus, &f->opts, &from_pb, &pb_errors);
        plateau__v1__lead__free_unpacked (bus, NULL);

        char je[512], pe[512];
        s_errors_text (&json_errors, je, sizeof je);
        s_errors_text (&pb_errors, pe, sizeof pe);
        if (json_rc != pb_rc || strcmp (je, pe) != 0)
            fail_msg ("%s: JSON rc %d%s; protobuf rc %d%s", tc->name, json_rc, je, pb_rc, pe);
        if (!tc->field) {
            if (json_rc != 0)
                fail_msg ("%s: refused:%s", tc->name, je);
            if (!s_same_lead (from_json, from_pb)) {
                char *a = s_render (from_json), *b = s_render (from_pb);
                fail_msg ("%s: JSON gives %s\nprotobuf gives %s", tc->name, a, b);
            }
        }
        else if (json_rc != PL_EINVAL || strcmp (json_errors.items[0].field, tc->field) != 0
                 || strcmp (json_errors.items[0].code, tc->code) != 0) {
            fail_msg ("%s: expected %s on '%s' first; rc %d, errors:%s", tc->name, tc->code,
                      tc->field, json_rc, je);
        }
        /* whatever the input, the errors render as JSON (the API's answer, the nack's audit) */
        json_t *rendered = intake_errors_to_json (&pb_errors);
        assert_non_null (rendered);
        json_decref (rendered);
        intake_lead_free (&from_json);
        intake_lead_free (&from_pb);
    }
    f->opts.reject_unknown = false;
}

/* What the bus door's lead carries besides: the number's derived fields are worked out again,
 * not trusted, and a message with no lead at all is an empty lead. */
static void
test_the_bus_door_recomputes_what_it_is_not_told (void **state)
{
    fixture_t *f = *state;
    Plateau__V1__Lead in = PLATEAU__V1__LEAD__INIT;
    Plateau__V1__PhoneNumber ph = PLATEAU__V1__PHONE_NUMBER__INIT;
    char *zones[] = {(char *) "America/New_York"};
    ph.raw = (char *) "0692 12 34 56";
    ph.e164 = (char *) "+12125550199";      /* what the sender thinks: raw wins */
    ph.region = (char *) "US";
    ph.zones = zones;
    ph.n_zones = 1;
    in.phone = &ph;
    in.country = (char *) "FR";
    assert_int_equal (intake_lead_from_pb (&in, &f->opts, &f->lead, &f->errors), 0);
    assert_string_equal (f->lead->campaign, "spring-2026");     /* options apply as for JSON */
    assert_string_equal (f->lead->source, "crm-test");
    assert_string_equal (f->lead->phone->e164, "+262692123456");
    assert_string_equal (f->lead->phone->region, "RE");
    assert_int_equal (f->lead->phone->n_zones, 1);
    assert_string_equal (f->lead->phone->zones[0], "Indian/Reunion");
    intake_lead_free (&f->lead);

    f->opts.default_campaign = NULL;
    assert_int_equal (intake_lead_from_pb (NULL, &f->opts, &f->lead, &f->errors), PL_EINVAL);
    assert_null (f->lead);
    assert_int_equal (f->errors.count, 2);
    assert_string_equal (f->errors.items[0].field, "campaign");
    assert_string_equal (f->errors.items[0].code, INTAKE_E_REQUIRED);
    assert_string_equal (f->errors.items[1].field, "phone");
    assert_string_equal (f->errors.items[1].code, INTAKE_E_REQUIRED);
}

/* The bus door takes the callee a native lead says, by the same rule; a lead of the same batch
 * that names none still comes through. */
static void
test_the_bus_door_reads_the_callee (void **state)
{
    fixture_t *f = *state;
    Plateau__V1__Lead in = PLATEAU__V1__LEAD__INIT;
    Plateau__V1__PhoneNumber ph = PLATEAU__V1__PHONE_NUMBER__INIT;
    ph.raw = (char *) "06 12 34 56 78";
    in.phone = &ph;
    static const char *const given[][2] = {
        {"consumer", "consumer"}, {"business", "business"}, {"sole-trader", "sole-trader"},
        {"BUSINESS", "business"}, {"sole_trader", "sole-trader"}, {"", ""},
    };
    for (size_t i = 0; i < sizeof given / sizeof given[0]; i++) {
        in.callee = (char *) given[i][0];
        assert_int_equal (intake_lead_from_pb (&in, &f->opts, &f->lead, &f->errors), 0);
        assert_string_equal (f->lead->callee, given[i][1]);
        char *text = s_render (f->lead);
        if (*given[i][1]) {
            char want[48];
            snprintf (want, sizeof want, "\"callee\":\"%s\"", given[i][1]);
            assert_non_null (strstr (text, want));
        }
        else {
            assert_null (strstr (text, "callee"));
        }
        free (text);
        intake_lead_free (&f->lead);
    }
    in.callee = (char *) "individual";
    assert_int_equal (intake_lead_from_pb (&in, &f->opts, &f->lead, &f->errors), PL_EINVAL);
    assert_null (f->lead);
    assert_int_equal (f->errors.count, 1);
    assert_string_equal (f->errors.items[0].field, "callee");
    assert_string_equal (f->errors.items[0].code, INTAKE_E_INVALID_VALUE);
    assert_non_null (strstr (f->errors.items[0].message, "consumer, business or sole-trader"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_complete_lead_is_normalised, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_reunion_lead_resolves_to_indian_reunion, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_florida_zip_with_new_york_number_keeps_both_zones, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_timezone_override_is_checked_and_wins, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_callee_is_one_of_three_names, s_setup, s_teardown),
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
        cmocka_unit_test_setup_teardown (test_the_bus_door_and_the_json_door_agree, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_the_bus_door_recomputes_what_it_is_not_told, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_the_bus_door_reads_the_callee, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name ("intake_lead", tests, NULL, NULL);
}
