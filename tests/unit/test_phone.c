/*  test_phone.c — phone numbers: parsing, validation and time-zone resolution (lib/phone).
 *
 *  Table-driven: each row is a number as a CRM writes it and what it must become. The zone tests
 *  prove the cases that put calls at unlawful hours when they go wrong: overseas France, US
 *  split states, and a number whose area code and address disagree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "phone_internal.h"
#include "pl_test.h"
#include "plateau/error.h"
#include "plateau/phone.h"

/* The generated table's zone names (lib/phone/tz_prefixes.c). */
extern const char *const pl__tz_zone_names[];
extern const size_t pl__tz_zone_name_count;

static int
s_setup (void **state)
{
    pl_phone_t *phone = pl_phone_new ();
    if (!phone)
        return -1;
    *state = phone;
    return 0;
}

static int
s_teardown (void **state)
{
    pl_phone_t *phone = *state;
    pl_phone_destroy (&phone);
    assert_null (phone);
    pl_phone_destroy (&phone);                  /* safe twice */
    return 0;
}

static bool
s_has_zone (const pl_phone_zones_t *z, const char *zone)
{
    for (size_t i = 0; i < z->count; i++)
        if (strcmp (z->zones[i], zone) == 0)
            return true;
    return false;
}

/* ------------------------------------------------------------------------------------------- */

typedef struct {
    const char *raw;
    const char *region;
    const char *e164;
    pl_phone_type_t type;
    const char *number_region;
} valid_case_t;

static const valid_case_t s_valid[] = {
    /* France */
    {"06 12 34 56 78", "FR", "+33612345678", PL_PHONE_MOBILE, "FR"},
    {"0612345678", "FR", "+33612345678", PL_PHONE_MOBILE, "FR"},
    {"06.12.34.56.78", "FR", "+33612345678", PL_PHONE_MOBILE, "FR"},
    {"06-12-34-56-78", "FR", "+33612345678", PL_PHONE_MOBILE, "FR"},
    {"+33 6 12 34 56 78", "FR", "+33612345678", PL_PHONE_MOBILE, "FR"},
    {"+33 (0)6 12 34 56 78", "FR", "+33612345678", PL_PHONE_MOBILE, "FR"},
    {"0033 6 12 34 56 78", "FR", "+33612345678", PL_PHONE_MOBILE, "FR"},
    {"+33612345678", NULL, "+33612345678", PL_PHONE_MOBILE, "FR"},
    {"+33 6 12 34 56 78", "US", "+33612345678", PL_PHONE_MOBILE, "FR"},
    {"  06 12 34 56 78  ", "fr", "+33612345678", PL_PHONE_MOBILE, "FR"},
    {"tel:+33-6-12-34-56-78", "FR", "+33612345678", PL_PHONE_MOBILE, "FR"},
    {"06 12 34 56 78 poste 12", "FR", "+33612345678", PL_PHONE_MOBILE, "FR"},
    {"\xEF\xBC\x90\xEF\xBC\x96\xEF\xBC\x91\xEF\xBC\x92\xEF\xBC\x93\xEF\xBC\x94\xEF\xBC\x95"
     "\xEF\xBC\x96\xEF\xBC\x97\xEF\xBC\x98", "FR", "+33612345678", PL_PHONE_MOBILE, "FR"},
    {"01 23 45 67 89", "FR", "+33123456789", PL_PHONE_FIXED_LINE, "FR"},
    {"09 12 34 56 78", "FR", "+33912345678", PL_PHONE_VOIP, "FR"},
    {"0 801 23 45 67", "FR", "+33801234567", PL_PHONE_TOLL_FREE, "FR"},
    {"0 891 12 34 56", "FR", "+33891123456", PL_PHONE_PREMIUM_RATE, "FR"},
    {"0 884 01 23 45", "FR", "+33884012345", PL_PHONE_SHARED_COST, "FR"},
    {"0 806 12 34 56", "FR", "+33806123456", PL_PHONE_UAN, "FR"},
    /* French overseas: one national plan over several country codes */
    {"0692 12 34 56", "FR", "+262692123456", PL_PHONE_MOBILE, "RE"},
    {"0262 16 12 34", "FR", "+262262161234", PL_PHONE_FIXED_LINE, "RE"},
    {"+262 692 12 34 56", "FR", "+262692123456", PL_PHONE_MOBILE, "RE"},
    {"+33 6 92 12 34 56", "FR", "+262692123456", PL_PHONE_MOBILE, "RE"},
    {"0269 60 12 34", "FR", "+262269601234", PL_PHONE_FIXED_LINE, "YT"},
    {"0639 01 23 45", "FR", "+262639012345", PL_PHONE_MOBILE, "YT"},
    {"0590 20 12 34", "FR", "+590590201234", PL_PHONE_FIXED_LINE, "GP"},
    {"0690 00 12 34", "GP", "+590690001234", PL_PHONE_MOBILE, "GP"},
    {"0596 30 12 34", "FR", "+596596301234", PL_PHONE_FIXED_LINE, "MQ"},
    {"0694 20 12 34", "FR", "+594694201234", PL_PHONE_MOBILE, "GF"},
    {"06 12 34 56 78", "RE", "+33612345678", PL_PHONE_MOBILE, "FR"},
    {"0590 20 12 34", "RE", "+590590201234", PL_PHONE_FIXED_LINE, "GP"},
    {"0692 12 34 56", "GP", "+262692123456", PL_PHONE_MOBILE, "RE"},
    {"+33 5 90 20 12 34", "US", "+590590201234", PL_PHONE_FIXED_LINE, "GP"},
    /* United States */
    {"(415) 555-0123", "US", "+14155550123", PL_PHONE_FIXED_LINE_OR_MOBILE, "US"},
    {"415-555-0123", "US", "+14155550123", PL_PHONE_FIXED_LINE_OR_MOBILE, "US"},
    {"415.555.0123", "US", "+14155550123", PL_PHONE_FIXED_LINE_OR_MOBILE, "US"},
    {"4155550123", "US", "+14155550123", PL_PHONE_FIXED_LINE_OR_MOBILE, "US"},
    {"1-415-555-0123", "US", "+14155550123", PL_PHONE_FIXED_LINE_OR_MOBILE, "US"},
    {"1 (415) 555-0123", "US", "+14155550123", PL_PHONE_FIXED_LINE_OR_MOBILE, "US"},
    {"+1 415 555 0123", "US", "+14155550123", PL_PHONE_FIXED_LINE_OR_MOBILE, "US"},
    {"+1 (415) 555-0123", "FR", "+14155550123", PL_PHONE_FIXED_LINE_OR_MOBILE, "US"},
    {"011 33 6 12 34 56 78", "US", "+33612345678", PL_PHONE_MOBILE, "FR"},
    {"(415) 555-0123 ext. 45", "US", "+14155550123", PL_PHONE_FIXED_LINE_OR_MOBILE, "US"},
    {"1-800-FLOWERS", "US", "+18003569377", PL_PHONE_TOLL_FREE, "US"},
    {"(900) 234-5678", "US", "+19002345678", PL_PHONE_PREMIUM_RATE, "US"},
    {"+1 787 555 1234", "US", "+17875551234", PL_PHONE_FIXED_LINE_OR_MOBILE, "PR"},
    /* United Kingdom */
    {"020 7946 0000", "GB", "+442079460000", PL_PHONE_FIXED_LINE, "GB"},
    {"020-7946-0000", "GB", "+442079460000", PL_PHONE_FIXED_LINE, "GB"},
    {"(020) 7946 0000", "GB", "+442079460000", PL_PHONE_FIXED_LINE, "GB"},
    {"+44 20 7946 0000", "GB", "+442079460000", PL_PHONE_FIXED_LINE, "GB"},
    {"+44 (0)20 7946 0000", "GB", "+442079460000", PL_PHONE_FIXED_LINE, "GB"},
    {"0044 20 7946 0000", "GB", "+442079460000", PL_PHONE_FIXED_LINE, "GB"},
    {"0044 20 7946 0000", "FR", "+442079460000", PL_PHONE_FIXED_LINE, "GB"},
    {"020 7946 0000", "UK", "+442079460000", PL_PHONE_FIXED_LINE, "GB"},
    {"07400 123456", "GB", "+447400123456", PL_PHONE_MOBILE, "GB"},
    {"0800 123 4567", "GB", "+448001234567", PL_PHONE_TOLL_FREE, "GB"},
    {"0901 234 5678", "GB", "+449012345678", PL_PHONE_PREMIUM_RATE, "GB"},
    {"056 1234 5678", "GB", "+445612345678", PL_PHONE_VOIP, "GB"},
    {"070 1234 5678", "GB", "+447012345678", PL_PHONE_PERSONAL, "GB"},
    {"076 4012 3456", "GB", "+447640123456", PL_PHONE_PAGER, "GB"},
    {"01481 712345", "GB", "+441481712345", PL_PHONE_FIXED_LINE, "GG"},
};

static void
test_common_written_forms_normalise_to_e164 (void **state)
{
    pl_phone_t *phone = *state;
    for (size_t i = 0; i < sizeof s_valid / sizeof s_valid[0]; i++) {
        const valid_case_t *c = &s_valid[i];
        pl_phone_number_t n;
        int rc = pl_phone_parse (phone, c->raw, c->region, &n);
        if (rc != 0 || strcmp (n.e164, c->e164) != 0 || n.type != c->type
            || strcmp (n.region, c->number_region) != 0)
            fail_msg ("'%s' (%s): rc %d e164 %s type %s region %s (%s); expected %s %s %s",
                      c->raw, c->region ? c->region : "-", rc, n.e164, pl_phone_type_str (n.type),
                      n.region, pl_phone_errstr (phone), c->e164, pl_phone_type_str (c->type),
                      c->number_region);
        assert_int_equal (n.reason, PL_PHONE_VALID);
    }
}

typedef struct {
    const char *raw;
    const char *region;
    pl_phone_reason_t reason;
    const char *message;
} invalid_case_t;

static const invalid_case_t s_invalid[] = {
    {"0612", "FR", PL_PHONE_TOO_SHORT, "not a valid FR number: too short"},
    {"06 12 34", "FR", PL_PHONE_TOO_SHORT, "not a valid FR number: too short"},
    {"06 12 34 56 78 90 12", "FR", PL_PHONE_TOO_LONG, "not a valid FR number: too long"},
    {"+33 6 12 34 56", "US", PL_PHONE_TOO_SHORT, "not a valid FR number: too short"},
    {"555-0123", "US", PL_PHONE_TOO_SHORT, "not a valid US number: too short"},
    {"(415) 123-4567", "US", PL_PHONE_INVALID_FOR_REGION,
     "not a valid US number: invalid for region"},
    {"(415) 555-01234", "US", PL_PHONE_TOO_LONG, "not a valid US number: too long"},
    {"020 7946", "GB", PL_PHONE_INVALID_FOR_REGION, "not a valid GB number: invalid for region"},
    {"07700 900123", "GB", PL_PHONE_INVALID_FOR_REGION,
     "not a valid GB number: invalid for region"},
    {"+999 1234 5678", "FR", PL_PHONE_INVALID_COUNTRY_CODE,
     "not a valid phone number: invalid country code"},
    {"hello", "FR", PL_PHONE_NOT_A_NUMBER, "not a valid FR number: not a number"},
    {"", "FR", PL_PHONE_NOT_A_NUMBER, "not a valid FR number: not a number"},
    {"   ", "US", PL_PHONE_NOT_A_NUMBER, "not a valid US number: not a number"},
    {"\xff\xfe 06 12", "FR", PL_PHONE_NOT_A_NUMBER, "not a valid FR number: not a number"},
    {"06 12 34 56 78", NULL, PL_PHONE_NO_REGION, NULL},
    {"06 12 34 56 78", "", PL_PHONE_NO_REGION, NULL},
    {"06 12 34 56 78", "XX", PL_PHONE_NO_REGION, NULL},
    {"0612345678901234567890123456789012345678901234567890123456789012345678901234567890123456"
     "789012345678901234567890123456789012345678901234567890", "FR", PL_PHONE_TOO_LONG, NULL},
};

static void
test_invalid_numbers_are_rejected_with_a_reason (void **state)
{
    pl_phone_t *phone = *state;
    for (size_t i = 0; i < sizeof s_invalid / sizeof s_invalid[0]; i++) {
        const invalid_case_t *c = &s_invalid[i];
        pl_phone_number_t n;
        int rc = pl_phone_parse (phone, c->raw, c->region, &n);
        if (rc != PL_EINVAL || n.reason != c->reason)
            fail_msg ("'%s' (%s): rc %d reason '%s' (%s), expected '%s'", c->raw,
                      c->region ? c->region : "-", rc, pl_phone_reason_str (n.reason),
                      pl_phone_errstr (phone), pl_phone_reason_str (c->reason));
        assert_int_equal (n.type, PL_PHONE_UNKNOWN);
        if (c->message)
            assert_string_equal (pl_phone_errstr (phone), c->message);
        else
            assert_true (strlen (pl_phone_errstr (phone)) > 0);
    }
}

static void
test_parse_rejects_null_input_without_crashing (void **state)
{
    pl_phone_t *phone = *state;
    pl_phone_number_t n;
    assert_int_equal (pl_phone_parse (phone, NULL, "FR", &n), PL_EINVAL);
    assert_int_equal (n.reason, PL_PHONE_NOT_A_NUMBER);
    assert_int_equal (pl_phone_parse (NULL, "0612345678", "FR", &n), PL_EINVAL);
    assert_int_equal (pl_phone_parse (phone, "0612345678", "FR", NULL), PL_EINVAL);
}

static void
test_type_values_mirror_the_protobuf_enum (void **state)
{
    (void) state;
    /* plateau.v1.PhoneNumber.Type in common.proto */
    assert_int_equal (PL_PHONE_FIXED_LINE, 1);
    assert_int_equal (PL_PHONE_MOBILE, 2);
    assert_int_equal (PL_PHONE_FIXED_LINE_OR_MOBILE, 3);
    assert_int_equal (PL_PHONE_VOIP, 4);
    assert_int_equal (PL_PHONE_TOLL_FREE, 5);
    assert_int_equal (PL_PHONE_PREMIUM_RATE, 6);
    assert_int_equal (PL_PHONE_SHARED_COST, 7);
    assert_int_equal (PL_PHONE_PERSONAL, 8);
    assert_int_equal (PL_PHONE_PAGER, 9);
    assert_int_equal (PL_PHONE_UAN, 10);
    assert_int_equal (PL_PHONE_VOICEMAIL, 11);
    assert_int_equal (PL_PHONE_UNKNOWN, 12);
    assert_string_equal (pl_phone_type_str (PL_PHONE_MOBILE), "mobile");
    assert_string_equal (pl_phone_reason_str (PL_PHONE_TOO_SHORT), "too short");
}

static void
test_known_regions (void **state)
{
    pl_phone_t *phone = *state;
    assert_true (pl_phone_region_known (phone, "FR"));
    assert_true (pl_phone_region_known (phone, "RE"));
    assert_true (pl_phone_region_known (phone, "GB"));
    assert_false (pl_phone_region_known (phone, "UK"));      /* not ISO 3166 */
    assert_false (pl_phone_region_known (phone, "fr"));      /* upper case only */
    assert_false (pl_phone_region_known (phone, "XX"));
    assert_false (pl_phone_region_known (phone, "FRA"));
    assert_false (pl_phone_region_known (phone, NULL));
}

/* ------------------------------------------------------------------------------------------- */
/* Zones from the number                                                                        */

typedef struct {
    const char *e164;
    const char *zones[4];
} prefix_case_t;

static const prefix_case_t s_prefixes[] = {
    {"+262262161234", {"Indian/Reunion"}},
    {"+262692123456", {"Indian/Reunion"}},
    {"+262269601234", {"Indian/Mayotte"}},
    {"+262639012345", {"Indian/Mayotte"}},
    {"+590590201234", {"America/Guadeloupe"}},
    {"+596596301234", {"America/Martinique"}},
    {"+594594101234", {"America/Cayenne"}},
    {"+33612345678", {"Europe/Paris"}},
    {"+442079460000", {"Europe/London"}},
    {"+14155550123", {"America/Los_Angeles"}},
    {"+12125550199", {"America/New_York"}},
    {"+18502001234", {"America/Chicago"}},              /* Florida panhandle exchange */
    {"+19285550123", {"America/Denver", "America/Phoenix"}},   /* a prefix spanning zones */
};

static void
test_number_prefix_gives_every_candidate_zone (void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof s_prefixes / sizeof s_prefixes[0]; i++) {
        const prefix_case_t *c = &s_prefixes[i];
        pl_phone_zones_t z;
        int rc = pl_phone_zones_for_number (c->e164, &z);
        size_t want = 0;
        while (want < 4 && c->zones[want])
            want++;
        if (rc != (int) want || z.count != want)
            fail_msg ("%s: %d zones (%s…), expected %zu", c->e164, rc,
                      z.count ? z.zones[0] : "-", want);
        for (size_t k = 0; k < want; k++)
            assert_true (s_has_zone (&z, c->zones[k]));
        assert_int_equal (z.source, PL_PHONE_ZONES_PREFIX);
    }
    pl_phone_zones_t z;
    assert_int_equal (pl_phone_zones_for_number ("+18003569377", &z), 42);   /* all of NANP */
    assert_int_equal (pl_phone_zones_for_number ("33612345678", &z), PL_EINVAL);
    assert_int_equal (pl_phone_zones_for_number ("+33 6", &z), PL_EINVAL);
    assert_int_equal (pl_phone_zones_for_number ("+", &z), PL_EINVAL);
    assert_int_equal (pl_phone_zones_for_number (NULL, &z), PL_EINVAL);
    assert_int_equal (pl_phone_zones_for_number ("+999", &z), PL_ENOTFOUND);
    assert_int_equal (z.count, 0);
}

static void
test_reunion_number_resolves_to_indian_reunion (void **state)
{
    pl_phone_t *phone = *state;
    const char *forms[] = {"+262 262 16 12 34", "+262 692 12 34 56", "0692 12 34 56",
                           "0262 16 12 34", "00262 692 12 34 56"};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        pl_phone_number_t n;
        assert_int_equal (pl_phone_parse (phone, forms[i], "FR", &n), 0);
        assert_string_equal (n.region, "RE");
        pl_phone_zones_t z;
        pl_phone_place_t place = {.e164 = n.e164, .region = n.region};
        assert_int_equal (pl_phone_resolve_zones (phone, &place, &z), 1);
        assert_string_equal (z.zones[0], "Indian/Reunion");
        assert_string_equal (pl_phone_zone_source_str (z.source), "prefix");
    }
}

/* ------------------------------------------------------------------------------------------- */
/* Zones from the address                                                                       */

typedef struct {
    const char *country;
    const char *postal_code;
    const char *zones[4];
} postal_case_t;

static const postal_case_t s_postal[] = {
    {"FR", "75001", {"Europe/Paris"}},
    {"FR", "20000", {"Europe/Paris"}},                  /* Corsica */
    {"FR", "97110", {"America/Guadeloupe"}},
    {"GP", "97110", {"America/Guadeloupe"}},
    {"FR", "97133", {"America/St_Barthelemy"}},
    {"FR", "97150", {"America/Marigot"}},
    {"FR", "97200", {"America/Martinique"}},
    {"FR", "97300", {"America/Cayenne"}},
    {"FR", "97400", {"Indian/Reunion"}},
    {"RE", "97 400", {"Indian/Reunion"}},
    {"FR", "97500", {"America/Miquelon"}},
    {"FR", "97600", {"Indian/Mayotte"}},
    {"FR", "98714", {"Pacific/Tahiti", "Pacific/Marquesas", "Pacific/Gambier"}},
    {"FR", "98800", {"Pacific/Noumea"}},
    {"US", "10001", {"America/New_York"}},
    {"US", "33101", {"America/New_York", "America/Chicago"}},
    {"US", "32501-1234", {"America/New_York", "America/Chicago"}},
    {"US", "85001", {"America/Phoenix", "America/Denver"}},
    {"US", "94105", {"America/Los_Angeles"}},
    {"US", "96799", {"Pacific/Pago_Pago"}},
    {"PR", "00901", {"America/Puerto_Rico"}},
    {"CA", "H2X 1Y4", {"America/Toronto", "America/Halifax", "America/Blanc-Sablon"}},
    {"CA", "T5J0N3", {"America/Edmonton"}},
};

static void
test_postal_codes_give_zones (void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof s_postal / sizeof s_postal[0]; i++) {
        const postal_case_t *c = &s_postal[i];
        pl_phone_zones_t z;
        int rc = pl_phone_zones_for_postal_code (c->country, c->postal_code, &z);
        size_t want = 0;
        while (want < 4 && c->zones[want])
            want++;
        if (rc != (int) want)
            fail_msg ("%s %s: %d zones, expected %zu", c->country, c->postal_code, rc, want);
        for (size_t k = 0; k < want; k++)
            assert_true (s_has_zone (&z, c->zones[k]));
        assert_int_equal (z.source, PL_PHONE_ZONES_POSTAL_CODE);
    }
    pl_phone_zones_t z;
    assert_int_equal (pl_phone_zones_for_postal_code ("FR", "9740", &z), PL_ENOTFOUND);
    assert_int_equal (pl_phone_zones_for_postal_code ("FR", "ABCDE", &z), PL_ENOTFOUND);
    assert_int_equal (pl_phone_zones_for_postal_code ("FR", "00100", &z), PL_ENOTFOUND);
    assert_int_equal (pl_phone_zones_for_postal_code ("DE", "10115", &z), PL_ENOTFOUND);
    assert_int_equal (pl_phone_zones_for_postal_code (NULL, "75001", &z), PL_ENOTFOUND);
    assert_int_equal (pl_phone_zones_for_postal_code ("US", "9410", &z), PL_ENOTFOUND);
    assert_int_equal (pl_phone_zones_for_postal_code ("US", "", &z), PL_ENOTFOUND);
    assert_int_equal (pl_phone_zones_for_postal_code ("CA", "1A1 A1A", &z), PL_ENOTFOUND);
}

static void
test_zip_codes_map_to_states (void **state)
{
    (void) state;
    assert_string_equal (pl_phone_us_state_for_zip ("33101"), "FL");
    assert_string_equal (pl_phone_us_state_for_zip ("46204"), "IN");
    assert_string_equal (pl_phone_us_state_for_zip ("73301"), "TX");
    assert_string_equal (pl_phone_us_state_for_zip ("99501"), "AK");
    assert_string_equal (pl_phone_us_state_for_zip ("02134-1234"), "MA");
    assert_string_equal (pl_phone_us_state_for_zip ("96950"), "MP");
    assert_null (pl_phone_us_state_for_zip ("3310"));
    assert_null (pl_phone_us_state_for_zip ("331011"));
    assert_null (pl_phone_us_state_for_zip ("ABCDE"));
    assert_null (pl_phone_us_state_for_zip (NULL));
}

static void
test_split_states_keep_all_their_zones (void **state)
{
    (void) state;
    static const struct {
        const char *state;
        const char *zones[4];
    } cases[] = {
        {"IN", {"America/New_York", "America/Chicago"}},
        {"KY", {"America/New_York", "America/Chicago"}},
        {"TN", {"America/Chicago", "America/New_York"}},
        {"FL", {"America/New_York", "America/Chicago"}},
        {"MI", {"America/New_York", "America/Chicago"}},
        {"TX", {"America/Chicago", "America/Denver"}},
        {"ID", {"America/Boise", "America/Los_Angeles"}},
        {"OR", {"America/Los_Angeles", "America/Boise"}},
        {"AZ", {"America/Phoenix", "America/Denver"}},
        {"Florida", {"America/New_York", "America/Chicago"}},
        {"  south dakota ", {"America/Chicago", "America/Denver"}},
        {"Québec", {"America/Toronto", "America/Halifax", "America/Blanc-Sablon"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pl_phone_zones_t z;
        int rc = pl_phone_zones_for_state (NULL, cases[i].state, &z);
        size_t want = 0;
        while (want < 4 && cases[i].zones[want])
            want++;
        if (rc != (int) want)
            fail_msg ("%s: %d zones, expected %zu", cases[i].state, rc, want);
        for (size_t k = 0; k < want; k++)
            assert_true (s_has_zone (&z, cases[i].zones[k]));
        assert_int_equal (z.source, PL_PHONE_ZONES_STATE);
    }
    pl_phone_zones_t z;
    assert_int_equal (pl_phone_zones_for_state ("US", "QC", &z), PL_ENOTFOUND);
    assert_int_equal (pl_phone_zones_for_state ("FR", "TX", &z), PL_ENOTFOUND);
    assert_int_equal (pl_phone_zones_for_state ("US", "Atlantis", &z), PL_ENOTFOUND);
    assert_int_equal (pl_phone_zones_for_state ("US", "AE", &z), PL_ENOTFOUND);  /* military */
    assert_int_equal (pl_phone_zones_for_state ("US", "", &z), PL_ENOTFOUND);
}

/* ------------------------------------------------------------------------------------------- */
/* Resolution                                                                                   */

static void
test_florida_address_with_new_york_area_code_keeps_both_zones (void **state)
{
    pl_phone_t *phone = *state;
    pl_phone_number_t n;
    assert_int_equal (pl_phone_parse (phone, "(212) 555-0199", "US", &n), 0);
    pl_phone_zones_t z;
    pl_phone_place_t place = {.e164 = n.e164, .region = n.region, .country = "US",
                              .postal_code = "33101"};
    assert_int_equal (pl_phone_resolve_zones (phone, &place, &z), 2);
    assert_true (s_has_zone (&z, "America/New_York"));
    assert_true (s_has_zone (&z, "America/Chicago"));
    assert_string_equal (pl_phone_zone_source_str (z.source), "postal_code");

    /* the same with the state alone */
    place.postal_code = NULL;
    place.state = "FL";
    assert_int_equal (pl_phone_resolve_zones (phone, &place, &z), 2);
    assert_string_equal (pl_phone_zone_source_str (z.source), "state");
}

static void
test_indiana_number_with_state_keeps_both_zones (void **state)
{
    pl_phone_t *phone = *state;
    pl_phone_number_t n;
    assert_int_equal (pl_phone_parse (phone, "(317) 555-0123", "US", &n), 0);
    pl_phone_zones_t z;
    pl_phone_place_t place = {.e164 = n.e164, .region = n.region, .state = "Indiana"};
    assert_int_equal (pl_phone_resolve_zones (phone, &place, &z), 2);
    assert_true (s_has_zone (&z, "America/New_York"));
    assert_true (s_has_zone (&z, "America/Chicago"));
    assert_int_equal (z.source, PL_PHONE_ZONES_STATE);
}

static void
test_address_narrows_a_number_down (void **state)
{
    pl_phone_t *phone = *state;
    /* a toll-free number says "somewhere in NANP"; the ZIP says San Francisco */
    pl_phone_zones_t z;
    pl_phone_place_t place = {.e164 = "+18003569377", .region = "US", .postal_code = "94105"};
    assert_int_equal (pl_phone_resolve_zones (phone, &place, &z), 1);
    assert_string_equal (z.zones[0], "America/Los_Angeles");
    assert_int_equal (z.source, PL_PHONE_ZONES_POSTAL_CODE);

    /* +262 80… may be Réunion or Mayotte; the postal code says Mayotte */
    place = (pl_phone_place_t) {.e164 = "+262801234567", .region = "RE", .postal_code = "97600"};
    assert_int_equal (pl_phone_resolve_zones (phone, &place, &z), 1);
    assert_string_equal (z.zones[0], "Indian/Mayotte");
}

static void
test_guadeloupe_resolves_by_number_and_postal_code (void **state)
{
    pl_phone_t *phone = *state;
    pl_phone_number_t n;
    assert_int_equal (pl_phone_parse (phone, "0590 20 12 34", "FR", &n), 0);
    pl_phone_zones_t z;
    pl_phone_place_t place = {.e164 = n.e164, .region = n.region, .country = "FR",
                              .postal_code = "97110"};
    assert_int_equal (pl_phone_resolve_zones (phone, &place, &z), 1);
    assert_string_equal (z.zones[0], "America/Guadeloupe");
    assert_int_equal (z.source, PL_PHONE_ZONES_POSTAL_CODE);
}

static void
test_metropolitan_mobile_living_overseas_keeps_both_zones (void **state)
{
    pl_phone_t *phone = *state;
    pl_phone_zones_t z;
    pl_phone_place_t place = {.e164 = "+33612345678", .region = "FR", .country = "FR",
                              .postal_code = "97400"};
    assert_int_equal (pl_phone_resolve_zones (phone, &place, &z), 2);
    assert_true (s_has_zone (&z, "Europe/Paris"));
    assert_true (s_has_zone (&z, "Indian/Reunion"));
    assert_int_equal (z.source, PL_PHONE_ZONES_POSTAL_CODE);
}

static void
test_unknown_postal_code_falls_back_to_state_then_prefix (void **state)
{
    pl_phone_t *phone = *state;
    pl_phone_zones_t z;
    pl_phone_place_t place = {.e164 = "+14155550123", .region = "US", .postal_code = "n/a",
                              .state = "CA"};
    assert_int_equal (pl_phone_resolve_zones (phone, &place, &z), 1);
    assert_int_equal (z.source, PL_PHONE_ZONES_STATE);
    place.state = "nowhere";
    assert_int_equal (pl_phone_resolve_zones (phone, &place, &z), 1);
    assert_int_equal (z.source, PL_PHONE_ZONES_PREFIX);
    assert_string_equal (z.zones[0], "America/Los_Angeles");

    place = (pl_phone_place_t) {.e164 = NULL};
    assert_int_equal (pl_phone_resolve_zones (phone, &place, &z), PL_ENOTFOUND);
    assert_int_equal (z.count, 0);
}

static void
test_override_wins_when_tzdata_knows_it (void **state)
{
    pl_phone_t *phone = *state;
    pl_phone_zones_t z;
    pl_phone_place_t place = {.e164 = "+33612345678", .region = "FR",
                              .override = "America/Guadeloupe"};
    assert_int_equal (pl_phone_resolve_zones (phone, &place, &z), 1);
    assert_string_equal (z.zones[0], "America/Guadeloupe");
    assert_string_equal (pl_phone_zone_source_str (z.source), "override");

    place.override = "Mars/Olympus_Mons";
    assert_int_equal (pl_phone_resolve_zones (phone, &place, &z), PL_EINVAL);
    assert_non_null (strstr (pl_phone_errstr (phone), "unknown time zone"));
}

static void
test_zone_check_refuses_what_is_not_a_zone (void **state)
{
    pl_phone_t *phone = *state;
    assert_int_equal (pl_phone_zone_check (phone, "Europe/Paris"), 0);
    assert_int_equal (pl_phone_zone_check (phone, "Indian/Reunion"), 0);
    assert_int_equal (pl_phone_zone_check (phone, "UTC"), 0);
    const char *bad[] = {"", "europe/paris", "Europe/Pariss", "../../etc/passwd",
                         "/etc/passwd", "Europe//Paris", "Europe/", "Europe", "posix/Europe/Paris",
                         "right/UTC", "localtime", "Europe/Paris ", "Europe/Paris\n",
                         "Europe/../Europe/Paris", NULL};
    for (int i = 0; bad[i]; i++)
        if (pl_phone_zone_check (phone, bad[i]) != PL_EINVAL)
            fail_msg ("'%s' accepted as a time zone", bad[i]);
    assert_int_equal (pl_phone_zone_check (phone, NULL), PL_EINVAL);

    /* a file that is not TZif is not a zone */
    char *dir = pl_test_tmpdir ("pl-tzdir");
    assert_non_null (dir);
    char path[256];
    snprintf (path, sizeof path, "%s/Fake", dir);
    FILE *f = fopen (path, "w");
    assert_non_null (f);
    fputs ("not a zone\n", f);
    fclose (f);
    snprintf (path, sizeof path, "%s/Good", dir);
    f = fopen (path, "w");
    assert_non_null (f);
    fputs ("TZif2 and the rest", f);
    fclose (f);
    assert_int_equal (pl_phone_set_tzdir (phone, dir), 0);
    assert_int_equal (pl_phone_zone_check (phone, "Fake"), PL_EINVAL);
    assert_int_equal (pl_phone_zone_check (phone, "Good"), 0);
    assert_int_equal (pl_phone_zone_check (phone, "Europe/Paris"), PL_EINVAL);
    assert_int_equal (pl_phone_set_tzdir (phone, "/usr/share/zoneinfo"), 0);
    snprintf (path, sizeof path, "%s/Fake", dir);
    unlink (path);
    snprintf (path, sizeof path, "%s/Good", dir);
    unlink (path);
    pl_test_rmdir (dir);
    free (dir);
}

static void
test_every_zone_in_the_tables_exists_in_tzdata (void **state)
{
    pl_phone_t *phone = *state;
    assert_true (pl__tz_zone_name_count > 200);
    for (size_t i = 0; i < pl__tz_zone_name_count; i++)
        if (pl_phone_zone_check (phone, pl__tz_zone_names[i]) != 0)
            fail_msg ("prefix table zone %s: %s", pl__tz_zone_names[i], pl_phone_errstr (phone));
    static const char *const states[] = {
        "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN",
        "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH",
        "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT",
        "VT", "VA", "WA", "WV", "WI", "WY", "PR", "VI", "GU", "MP", "AS", "PW", "FM", "MH", NULL};
    for (int i = 0; states[i]; i++) {
        pl_phone_zones_t z;
        if (pl_phone_zones_for_state ("US", states[i], &z) < 1)
            fail_msg ("state %s has no zone", states[i]);
        for (size_t k = 0; k < z.count; k++)
            if (pl_phone_zone_check (phone, z.zones[k]) != 0)
                fail_msg ("%s: %s", states[i], pl_phone_errstr (phone));
    }
    static const char *const provinces[] = {"NL", "NS", "PE", "NB", "QC", "ON", "MB", "SK",
                                            "AB", "BC", "YT", "NT", "NU", NULL};
    for (int i = 0; provinces[i]; i++) {
        pl_phone_zones_t z;
        if (pl_phone_zones_for_state ("CA", provinces[i], &z) < 1)
            fail_msg ("province %s has no zone", provinces[i]);
        for (size_t k = 0; k < z.count; k++)
            if (pl_phone_zone_check (phone, z.zones[k]) != 0)
                fail_msg ("%s: %s", provinces[i], pl_phone_errstr (phone));
    }
    for (size_t i = 0; i < sizeof s_postal / sizeof s_postal[0]; i++)
        for (int k = 0; k < 4 && s_postal[i].zones[k]; k++)
            assert_int_equal (pl_phone_zone_check (phone, s_postal[i].zones[k]), 0);
}

static void
test_two_parsers_side_by_side (void **state)
{
    (void) state;
    pl_phone_t *a = pl_phone_new ();
    pl_phone_t *b = pl_phone_new ();
    assert_non_null (a);
    assert_non_null (b);
    pl_phone_number_t n;
    assert_int_equal (pl_phone_parse (a, "0612", "FR", &n), PL_EINVAL);
    assert_int_equal (pl_phone_parse (b, "0612345678", "FR", &n), 0);
    assert_string_equal (pl_phone_errstr (a), "not a valid FR number: too short");
    assert_string_equal (pl_phone_errstr (b), "");
    pl_phone_destroy (&a);
    pl_phone_destroy (&b);
}

/* A US number's area code names its state, from libphonenumber's geocoding data: the three
 * states with telemarketing hours of their own, DC, and what is not a state's. */
static void
test_a_us_numbers_area_code_names_its_state (void **state)
{
    (void) state;
    static const struct { const char *e164, *state; } cases[] = {
        { "+13055550123", "FL" }, { "+17865550123", "FL" }, { "+12395550123", "FL" },
        { "+14055550123", "OK" }, { "+19185550123", "OK" }, { "+13015550123", "MD" },
        { "+14105550123", "MD" }, { "+12125550123", "NY" }, { "+12025550123", "DC" },
        { "+12015550123", "NJ" }, { "+12155550123", "PA" }, { "+12065550123", "WA" },
        { "+14165550123", NULL },   /* Toronto */
        { "+17875550123", NULL },   /* Puerto Rico: a region of its own */
        { "+18005550123", NULL },   /* toll-free */
        { "+33612345678", NULL }, { "+1305555012", NULL }, { "+130555501234", NULL },
        { "13055550123", NULL }, { "", NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = pl_phone_us_state_for_number (cases[i].e164);
        if (cases[i].state == NULL ? got != NULL : !got || strcmp (got, cases[i].state) != 0)
            fail_msg ("%s: got %s, want %s", cases[i].e164, got ? got : "NULL",
                      cases[i].state ? cases[i].state : "NULL");
    }
    assert_null (pl_phone_us_state_for_number (NULL));
}

/* A string "US:number US-FL:number US-NY:address" of a callee's regions. */
static void
s_regions (const pl_phone_place_t *place, char *out, size_t len)
{
    pl_phone_regions_t r;
    int n = pl_phone_resolve_regions (place, &r);
    assert_int_equal (n, (int) r.count);
    out[0] = 0;
    for (size_t i = 0; i < r.count; i++) {
        size_t used = strlen (out);
        snprintf (out + used, len - used, "%s%s:%s", i ? " " : "", r.regions[i],
                  pl_phone_region_source_str (r.sources[i]));
    }
}

static void
test_regions_come_from_the_number_and_the_address (void **state)
{
    (void) state;
    char got[128];
    /* A Florida area code with no address: in Florida by its number. */
    s_regions (&(pl_phone_place_t) { .e164 = "+13055550123", .region = "US" }, got, sizeof got);
    assert_string_equal (got, "US:number US-FL:number");
    /* A Florida number with a New York address, by code, by name and by ZIP: in both states. */
    s_regions (&(pl_phone_place_t) { .e164 = "+13055550123", .region = "US", .state = "NY" }, got, sizeof got);
    assert_string_equal (got, "US:number US-FL:number US-NY:address");
    s_regions (&(pl_phone_place_t) { .e164 = "+13055550123", .region = "US", .state = "New York" }, got,
               sizeof got);
    assert_string_equal (got, "US:number US-FL:number US-NY:address");
    s_regions (&(pl_phone_place_t) { .e164 = "+13055550123", .region = "US", .postal_code = "10001" }, got,
               sizeof got);
    assert_string_equal (got, "US:number US-FL:number US-NY:address");
    /* The same state by both: kept twice, once per source. */
    s_regions (&(pl_phone_place_t) { .e164 = "+13055550123", .region = "US", .country = "US", .state = "fl" },
               got, sizeof got);
    assert_string_equal (got, "US:number US-FL:number US-FL:address");
    /* A state that is not one, a Canadian number, a French one with a US-looking state. */
    s_regions (&(pl_phone_place_t) { .e164 = "+13055550123", .region = "US", .state = "Atlantis" }, got,
               sizeof got);
    assert_string_equal (got, "US:number US-FL:number");
    s_regions (&(pl_phone_place_t) { .e164 = "+14165550123", .region = "CA", .state = "ON" }, got, sizeof got);
    assert_string_equal (got, "CA:number");
    s_regions (&(pl_phone_place_t) { .e164 = "+33612345678", .region = "FR", .state = "FL" }, got, sizeof got);
    assert_string_equal (got, "FR:number");
    /* An American living abroad keeps the area code's state; a US address of a French number. */
    s_regions (&(pl_phone_place_t) { .e164 = "+33612345678", .region = "FR", .country = "US", .state = "MD" },
               got, sizeof got);
    assert_string_equal (got, "FR:number US-MD:address");
    s_regions (NULL, got, sizeof got);
    assert_string_equal (got, "");
    assert_int_equal (pl_phone_resolve_regions (NULL, NULL), PL_EINVAL);
}

/* French, British and North American digits skip Parse(): every answer must be Parse()'s, valid
 * or not, for numbers drawn over the whole national plans (mobiles, geographic, overseas, toll-
 * free, unused ranges) in the national and the international form, written as CRMs write them:
 * digits alone, grouped with spaces, dots or dashes, in parentheses, with the American trunk 1. */
static void
test_direct_digits_answer_as_parse_does (void **state)
{
    (void) state;
    pl_phone_t *direct = pl_phone_new (), *parse = pl_phone_new ();
    assert_non_null (direct);
    assert_non_null (parse);
    pl__phone_set_raw_only (parse, true);
    static const char *const regions[] = {"FR", "GB", "US"};
    static const char *const ccs[] = {"+33", "+44", "+1"};
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    int valid[3] = {0}, total = 0;
    for (int i = 0; i < 60000; i++) {
        pl_test_rand (&x);
        int k = i % 3;
        bool intl = (i / 3) % 2;
        int style = (int) ((x >> 50) % 6);
        int nsn_len = k == 0 ? 9 : k == 1 ? 9 + (int) ((x >> 40) % 2) : 10;
        uint64_t mod = nsn_len == 9 ? 1000000000ULL : 10000000000ULL;
        char nsn[16];
        snprintf (nsn, sizeof nsn, "%0*llu", nsn_len, (unsigned long long) (x % mod));
        /* North American numbers: mostly in the plan's NXX-NXX shape, so that most are valid */
        if (k == 2 && style < 4) {
            nsn[0] = (char) ('2' + (x >> 20) % 8);
            nsn[3] = (char) ('2' + (x >> 24) % 8);
        }
        const char *prefix = intl ? ccs[k] : k == 2 ? (style == 5 ? "1" : "") : "0";
        char raw[48];
        const char *sep = style == 1 ? " " : style == 2 ? "." : style == 3 ? "-" : "";
        if (style == 4 && k == 2)
            snprintf (raw, sizeof raw, "%s%s(%.3s) %.3s-%s", prefix, intl ? " " : "", nsn, nsn + 3, nsn + 6);
        else if (style == 4)
            snprintf (raw, sizeof raw, "%s (%.1s) %s", prefix, nsn, nsn + 1);
        else
            snprintf (raw, sizeof raw, "%s%s%.3s%s%.3s%s%s", prefix, intl && *sep ? sep : "", nsn, sep, nsn + 3,
                      sep, nsn + 6);
        pl_phone_number_t a, b;
        int ra = pl_phone_parse (direct, raw, regions[k], &a);
        int rb = pl_phone_parse (parse, raw, regions[k], &b);
        if (ra != rb || a.reason != b.reason || strcmp (a.region, b.region) != 0 || a.type != b.type
            || (ra == 0 && strcmp (a.e164, b.e164) != 0))
            fail_msg ("%s (%s): direct %d %s %s type %d reason %d, parse %d %s %s type %d reason %d", raw, regions[k],
                      ra, a.e164, a.region, a.type, a.reason, rb, b.e164, b.region, b.type, b.reason);
        valid[k] += ra == 0;
        total++;
    }
    /* both kinds were drawn in every plan */
    for (int k = 0; k < 3; k++) {
        assert_true (valid[k] > total / 30);
        assert_true (valid[k] < total / 3);
    }
    pl_phone_destroy (&direct);
    pl_phone_destroy (&parse);
}

/* Numbers read at once by four threads, each with its own pl_phone_t as the services give them,
 * come out as one thread reads them: the metadata is read once for the process and each parser's
 * compiled patterns are its own (ADR 0067). The sanitizer build runs it too. */
#define S_THREAD_NUMBERS 3000

typedef struct {
    const char (*raw)[32];
    pl_phone_number_t *out;
    int *rc;
} s_reader_t;

static void
s_number (int i, char *raw, size_t size)
{
    static const char *const forms[] = { "06 %02d %02d %02d %02d", "+33 7 %02d %02d %02d %02d", "(212) 5%02d-%02d%02d",
                                         "+1 416 5%02d %02d%02d", "+44 20 79%02d %02d%02d", "+44 1481 2%02d%02d%d",
                                         "+590 690 %02d %02d %02d", "09 %02d %02d %02d %02d" };
    snprintf (raw, size, forms[i % 8], (i * 7) % 100, (i * 13) % 100, (i * 29) % 100, (i * 31) % 100);
}

static void *
s_reader (void *arg)
{
    s_reader_t *r = arg;
    pl_phone_t *ph = pl_phone_new ();
    for (int i = 0; ph && i < S_THREAD_NUMBERS; i++)
        r->rc[i] = pl_phone_parse (ph, r->raw[i], i % 8 == 2 ? "US" : "FR", &r->out[i]);
    pl_phone_destroy (&ph);
    return NULL;
}

static void
test_threads_each_with_a_parser_read_numbers_as_one_does (void **state)
{
    (void) state;
    static char raw[S_THREAD_NUMBERS][32];
    for (int i = 0; i < S_THREAD_NUMBERS; i++)
        s_number (i, raw[i], sizeof raw[i]);
    static pl_phone_number_t want[S_THREAD_NUMBERS], got[4][S_THREAD_NUMBERS];
    static int want_rc[S_THREAD_NUMBERS], got_rc[4][S_THREAD_NUMBERS];
    pl_phone_t *one = pl_phone_new ();
    assert_non_null (one);
    pl__phone_set_raw_only (one, true);              /* libphonenumber's own answers */
    int valid = 0;
    for (int i = 0; i < S_THREAD_NUMBERS; i++) {
        want_rc[i] = pl_phone_parse (one, raw[i], i % 8 == 2 ? "US" : "FR", &want[i]);
        valid += want_rc[i] == 0;
    }
    pl_phone_destroy (&one);
    assert_true (valid > S_THREAD_NUMBERS / 2);
    pthread_t t[4];
    s_reader_t r[4];
    for (int k = 0; k < 4; k++) {
        r[k] = (s_reader_t) { (const char (*)[32]) raw, got[k], got_rc[k] };
        assert_int_equal (pthread_create (&t[k], NULL, s_reader, &r[k]), 0);
    }
    for (int k = 0; k < 4; k++)
        pthread_join (t[k], NULL);
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < S_THREAD_NUMBERS; i++) {
            if (got_rc[k][i] != want_rc[i] || got[k][i].type != want[i].type || strcmp (got[k][i].e164, want[i].e164)
                || strcmp (got[k][i].region, want[i].region))
                fail_msg ("thread %d, %s: %d %s %s type %d; alone %d %s %s type %d", k, raw[i], got_rc[k][i],
                          got[k][i].e164, got[k][i].region, got[k][i].type, want_rc[i], want[i].e164, want[i].region,
                          want[i].type);
        }
}

/* Blanks around a number are nothing, on both roads (the digits alone and libphonenumber's
 * Parse(), which judged "+80000000000 " otherwise than "+80000000000": found by fuzz_phone). */
static void
test_blanks_around_a_number_change_nothing (void **state)
{
    (void) state;
    pl_phone_t *direct = pl_phone_new (), *parse = pl_phone_new ();
    pl__phone_set_raw_only (parse, true);
    static const char *const forms[] = { "+80000000000", "+33612345678", "0612345678" };
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
        char padded[64];
        snprintf (padded, sizeof padded, " \t%s \t", forms[i]);
        pl_phone_number_t a, b, c;
        int ra = pl_phone_parse (direct, forms[i], "FR", &a);
        int rb = pl_phone_parse (parse, padded, "FR", &b);
        int rc = pl_phone_parse (direct, padded, "FR", &c);
        assert_int_equal (ra, rb);
        assert_int_equal (ra, rc);
        assert_int_equal (a.reason, b.reason);
        if (ra == 0) {
            assert_string_equal (a.e164, b.e164);
            assert_string_equal (a.e164, c.e164);
        }
    }
    pl_phone_destroy (&direct);
    pl_phone_destroy (&parse);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_common_written_forms_normalise_to_e164),
        cmocka_unit_test (test_blanks_around_a_number_change_nothing),
        cmocka_unit_test (test_invalid_numbers_are_rejected_with_a_reason),
        cmocka_unit_test (test_parse_rejects_null_input_without_crashing),
        cmocka_unit_test (test_type_values_mirror_the_protobuf_enum),
        cmocka_unit_test (test_known_regions),
        cmocka_unit_test (test_number_prefix_gives_every_candidate_zone),
        cmocka_unit_test (test_reunion_number_resolves_to_indian_reunion),
        cmocka_unit_test (test_postal_codes_give_zones),
        cmocka_unit_test (test_zip_codes_map_to_states),
        cmocka_unit_test (test_split_states_keep_all_their_zones),
        cmocka_unit_test (test_florida_address_with_new_york_area_code_keeps_both_zones),
        cmocka_unit_test (test_indiana_number_with_state_keeps_both_zones),
        cmocka_unit_test (test_address_narrows_a_number_down),
        cmocka_unit_test (test_guadeloupe_resolves_by_number_and_postal_code),
        cmocka_unit_test (test_metropolitan_mobile_living_overseas_keeps_both_zones),
        cmocka_unit_test (test_unknown_postal_code_falls_back_to_state_then_prefix),
        cmocka_unit_test (test_override_wins_when_tzdata_knows_it),
        cmocka_unit_test (test_zone_check_refuses_what_is_not_a_zone),
        cmocka_unit_test (test_every_zone_in_the_tables_exists_in_tzdata),
        cmocka_unit_test (test_two_parsers_side_by_side),
        cmocka_unit_test (test_a_us_numbers_area_code_names_its_state),
        cmocka_unit_test (test_regions_come_from_the_number_and_the_address),
        cmocka_unit_test (test_direct_digits_answer_as_parse_does),
        cmocka_unit_test (test_threads_each_with_a_parser_read_numbers_as_one_does),
    };
    return cmocka_run_group_tests_name ("phone", tests, s_setup, s_teardown);
}
