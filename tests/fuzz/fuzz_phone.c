/*  fuzz_phone.c — libFuzzer target for the phone-number shim and the zone tables (lib/phone).
 *
 *  Input: one byte choosing the default region, then the number as a CRM might write it (split
 *  at the first NUL into number / postal code / state / zone). Besides the sanitizers, it checks
 *  what must always hold: a valid number has a '+' E.164 of digits and a region, and parsing the
 *  raw text gives exactly what the fast path (the digits alone, read without Parse() when they
 *  are a French, British or North American number) gives: E.164, type, region and zones.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phone_internal.h"
#include "plateau/error.h"
#include "plateau/phone.h"

static pl_phone_t *s_fast;
static pl_phone_t *s_slow;

static const char *const s_regions[] = {"FR", "US", "GB", "RE", "GP", "DE", "CA", "UK",
                                        "fr", "",   NULL, "XX", "001", "ZZ", "YT", "MQ"};

static void
s_check (bool ok, const char *what, const char *raw)
{
    if (!ok) {
        fprintf (stderr, "invariant broken: %s (input '%s')\n", what, raw);
        abort ();
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_fast) {
        s_fast = pl_phone_new ();
        s_slow = pl_phone_new ();
        pl__phone_set_raw_only (s_slow, true);
    }
    if (size < 1 || size > 512)
        return 0;
    const char *region = s_regions[data[0] % (sizeof s_regions / sizeof s_regions[0])];
    char *buf = malloc (size + 4);
    if (!buf)
        return 0;
    memcpy (buf, data + 1, size - 1);
    memset (buf + size - 1, 0, 5);
    /* number \0 postal \0 state \0 zone */
    const char *parts[4] = {buf, "", "", ""};
    const char *p = buf;
    const char *end = buf + size - 1;
    for (int i = 1; i < 4; i++) {
        p += strlen (p) + 1;
        if (p > end)
            break;
        parts[i] = p;
    }

    pl_phone_number_t a, b;
    int rc_a = pl_phone_parse (s_fast, parts[0], region, &a);
    int rc_b = pl_phone_parse (s_slow, parts[0], region, &b);
    s_check (rc_a == rc_b, "fast and raw parses agree on validity", parts[0]);
    s_check (a.reason == b.reason, "fast and raw parses agree on the reason", parts[0]);
    if (rc_a == 0) {
        s_check (strcmp (a.e164, b.e164) == 0, "fast and raw parses agree on E.164", parts[0]);
        s_check (a.type == b.type && strcmp (a.region, b.region) == 0,
                 "fast and raw parses agree on type and region", parts[0]);
        s_check (a.e164[0] == '+' && strlen (a.e164) >= 3, "valid number has an E.164", parts[0]);
        for (const char *d = a.e164 + 1; *d; d++)
            s_check (*d >= '0' && *d <= '9', "E.164 is digits", parts[0]);
        s_check (a.region[0] != '\0', "valid number has a region", parts[0]);
        s_check (a.type != PL_PHONE_TYPE_UNSPECIFIED && a.type != PL_PHONE_UNKNOWN,
                 "valid number has a type", parts[0]);

        /* parsing its own E.164 gives it back */
        pl_phone_number_t c;
        s_check (pl_phone_parse (s_fast, a.e164, NULL, &c) == 0 && strcmp (c.e164, a.e164) == 0,
                 "E.164 parses to itself", parts[0]);

        pl_phone_zones_t z;
        int n = pl_phone_zones_for_number (a.e164, &z);
        s_check (n == PL_ENOTFOUND || (n > 0 && (size_t) n == z.count), "zone count", parts[0]);
        pl_phone_place_t place = {.e164 = a.e164, .region = a.region, .postal_code = parts[1],
                                  .state = parts[2], .override = parts[3]};
        n = pl_phone_resolve_zones (s_fast, &place, &z);
        s_check (n < 0 || (size_t) n == z.count, "resolved zone count", parts[0]);
        /* and the zones libphonenumber's own answer leads to */
        pl_phone_zones_t zb;
        pl_phone_place_t place_b = {.e164 = b.e164, .region = b.region, .postal_code = parts[1],
                                    .state = parts[2], .override = parts[3]};
        int nb = pl_phone_resolve_zones (s_slow, &place_b, &zb);
        s_check (nb == n && (n <= 0 || zb.count == z.count), "fast and raw parses lead to the same zones",
                 parts[0]);
        for (size_t i = 0; n > 0 && i < z.count; i++)
            s_check (strcmp (z.zones[i], zb.zones[i]) == 0, "fast and raw parses lead to the same zones",
                     parts[0]);
        for (size_t i = 0; n > 0 && i < z.count; i++)
            s_check (z.zones[i][0] != '\0', "zone names are not empty", parts[0]);
    }
    else {
        s_check (a.reason != PL_PHONE_VALID, "invalid number has a reason", parts[0]);
        s_check (pl_phone_errstr (s_fast)[0] != '\0', "invalid number has a message", parts[0]);
    }

    pl_phone_zones_t z;
    pl_phone_zones_for_number (parts[0], &z);
    pl_phone_zones_for_postal_code (region, parts[1], &z);
    pl_phone_zones_for_state (region && *region ? region : NULL, parts[2], &z);
    pl_phone_us_state_for_zip (parts[1]);
    pl_phone_zone_check (s_fast, parts[3]);
    pl_phone_region_known (s_fast, parts[0]);
    free (buf);
    return 0;
}
