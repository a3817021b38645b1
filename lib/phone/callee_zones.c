/*  callee_zones.c — where in time a callee lives: zones from the number, the address and the CRM.
 *
 *  Calling windows are in the called person's local time, so a wrong zone is a call at an
 *  unlawful hour. Three sources are combined (see pl_phone_resolve_zones in phone.h):
 *
 *    - the number: tz_prefixes.c, generated from libphonenumber's data. Most countries are one
 *      zone; NANP numbers are resolved by area code and, in split states, by exchange;
 *    - the address: the postal systems whose codes say something about the zone (France with its
 *      overseas departments and collectivities, the US through ZIP → state, Canada through the
 *      first letter → province) and US states / Canadian provinces named directly. A split state
 *      keeps all of its zones: knowing "Florida" does not tell Eastern from Central;
 *    - an explicit zone from the CRM, accepted only if the system tzdata knows it.
 *
 *  The state tables list the zones in force (official observance) with the representative names
 *  the prefix data uses (America/New_York for Eastern Indiana and Michigan, America/Chicago for
 *  Central), so that an address which narrows a number down is recognised as a subset of the
 *  number's zones rather than as a disagreement. Where the prefix data has a name of its own for
 *  a distinct rule set (America/Phoenix, America/Boise, America/North_Dakota/Center) it is kept.
 */
#include "phone_internal.h"
#include "plateau/error.h"
#include "tz_prefixes.h"
#include "us_area_states.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------------- */
/* Zone sets                                                                                    */

static void
s_zones_clear (pl_phone_zones_t *out)
{
    out->count = 0;
    out->source = PL_PHONE_ZONES_NONE;
}

static bool
s_zones_has (const pl_phone_zones_t *set, const char *zone)
{
    for (size_t i = 0; i < set->count; i++)
        if (strcmp (set->zones[i], zone) == 0)
            return true;
    return false;
}

static void
s_zones_add (pl_phone_zones_t *set, const char *zone)
{
    if (s_zones_has (set, zone) || set->count >= PL_PHONE_MAX_ZONES
        || strlen (zone) >= PL_PHONE_ZONE_NAME_MAX)
        return;
    snprintf (set->zones[set->count++], PL_PHONE_ZONE_NAME_MAX, "%s", zone);
}

static void
s_zones_add_list (pl_phone_zones_t *set, const char *const *zones)
{
    for (; *zones; zones++)
        s_zones_add (set, *zones);
}

const char *
pl_phone_zone_source_str (pl_phone_zone_source_t source)
{
    switch (source) {
    case PL_PHONE_ZONES_PREFIX: return "prefix";
    case PL_PHONE_ZONES_STATE: return "state";
    case PL_PHONE_ZONES_POSTAL_CODE: return "postal_code";
    case PL_PHONE_ZONES_OVERRIDE: return "override";
    case PL_PHONE_ZONES_NONE: break;
    }
    return "";
}

/* ------------------------------------------------------------------------------------------- */
/* By number                                                                                    */

static int
s_prefix_cmp (const void *key, const void *elem)
{
    return strcmp ((const char *) key, ((const pl__tz_prefix_t *) elem)->prefix);
}

int
pl_phone_zones_for_number (const char *e164, pl_phone_zones_t *out)
{
    if (!out)
        return PL_EINVAL;
    s_zones_clear (out);
    if (!e164 || e164[0] != '+')
        return PL_EINVAL;
    const char *digits = e164 + 1;
    size_t n = strlen (digits);
    if (n == 0 || n > 20)
        return PL_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!isdigit ((unsigned char) digits[i]))
            return PL_EINVAL;

    size_t len = n < pl__tz_prefix_longest ? n : pl__tz_prefix_longest;
    char key[sizeof pl__tz_prefixes[0].prefix];
    for (; len > 0; len--) {
        memcpy (key, digits, len);
        key[len] = '\0';
        const pl__tz_prefix_t *hit = bsearch (key, pl__tz_prefixes, pl__tz_prefix_count,
                                              sizeof *pl__tz_prefixes, s_prefix_cmp);
        if (hit) {
            for (uint16_t i = 0; i < hit->count; i++)
                s_zones_add (out, pl__tz_zone_names[pl__tz_zone_lists[hit->first + i]]);
            out->source = PL_PHONE_ZONES_PREFIX;
            return (int) out->count;
        }
    }
    return PL_ENOTFOUND;
}

/* ------------------------------------------------------------------------------------------- */
/* US states and Canadian provinces                                                             */

typedef struct {
    const char *code;
    const char *country;
    const char *name;           /* lower case, ASCII, letters only ("newyork", "quebec") */
    const char *zones[8];
} s_state_t;

/* Official zones in force. Territories are listed under their own codes (they are also ISO
 * countries). Military "states" (AA, AE, AP) have no zone. */
static const s_state_t s_states[] = {
    {"AL", "US", "alabama", {"America/Chicago"}},
    /* Sitka, Yakutat, Nome and Metlakatla follow Anchorage's rules today. */
    {"AK", "US", "alaska", {"America/Anchorage", "America/Juneau", "America/Adak"}},
    /* Arizona does not observe DST, except the Navajo Nation (Mountain with DST). */
    {"AZ", "US", "arizona", {"America/Phoenix", "America/Denver"}},
    {"AR", "US", "arkansas", {"America/Chicago"}},
    {"CA", "US", "california", {"America/Los_Angeles"}},
    {"CO", "US", "colorado", {"America/Denver"}},
    {"CT", "US", "connecticut", {"America/New_York"}},
    {"DE", "US", "delaware", {"America/New_York"}},
    {"DC", "US", "districtofcolumbia", {"America/New_York"}},
    {"FL", "US", "florida", {"America/New_York", "America/Chicago"}},
    {"GA", "US", "georgia", {"America/New_York"}},
    {"HI", "US", "hawaii", {"Pacific/Honolulu"}},
    {"ID", "US", "idaho", {"America/Boise", "America/Los_Angeles"}},
    {"IL", "US", "illinois", {"America/Chicago"}},
    {"IN", "US", "indiana", {"America/New_York", "America/Chicago"}},
    {"IA", "US", "iowa", {"America/Chicago"}},
    {"KS", "US", "kansas", {"America/Chicago", "America/Denver"}},
    {"KY", "US", "kentucky", {"America/New_York", "America/Chicago"}},
    {"LA", "US", "louisiana", {"America/Chicago"}},
    {"ME", "US", "maine", {"America/New_York"}},
    {"MD", "US", "maryland", {"America/New_York"}},
    {"MA", "US", "massachusetts", {"America/New_York"}},
    {"MI", "US", "michigan", {"America/New_York", "America/Chicago"}},
    {"MN", "US", "minnesota", {"America/Chicago"}},
    {"MS", "US", "mississippi", {"America/Chicago"}},
    {"MO", "US", "missouri", {"America/Chicago"}},
    {"MT", "US", "montana", {"America/Denver"}},
    {"NE", "US", "nebraska", {"America/Chicago", "America/Denver"}},
    /* West Wendover officially observes Mountain time. */
    {"NV", "US", "nevada", {"America/Los_Angeles", "America/Denver"}},
    {"NH", "US", "newhampshire", {"America/New_York"}},
    {"NJ", "US", "newjersey", {"America/New_York"}},
    {"NM", "US", "newmexico", {"America/Denver"}},
    {"NY", "US", "newyork", {"America/New_York"}},
    {"NC", "US", "northcarolina", {"America/New_York"}},
    {"ND", "US", "northdakota", {"America/Chicago", "America/Denver",
                                  "America/North_Dakota/Center"}},
    {"OH", "US", "ohio", {"America/New_York"}},
    {"OK", "US", "oklahoma", {"America/Chicago"}},
    /* Malheur County is on Mountain time (America/Boise). */
    {"OR", "US", "oregon", {"America/Los_Angeles", "America/Boise"}},
    {"PA", "US", "pennsylvania", {"America/New_York"}},
    {"RI", "US", "rhodeisland", {"America/New_York"}},
    {"SC", "US", "southcarolina", {"America/New_York"}},
    {"SD", "US", "southdakota", {"America/Chicago", "America/Denver"}},
    {"TN", "US", "tennessee", {"America/Chicago", "America/New_York"}},
    {"TX", "US", "texas", {"America/Chicago", "America/Denver"}},
    {"UT", "US", "utah", {"America/Denver"}},
    {"VT", "US", "vermont", {"America/New_York"}},
    {"VA", "US", "virginia", {"America/New_York"}},
    {"WA", "US", "washington", {"America/Los_Angeles"}},
    {"WV", "US", "westvirginia", {"America/New_York"}},
    {"WI", "US", "wisconsin", {"America/Chicago"}},
    {"WY", "US", "wyoming", {"America/Denver"}},
    {"PR", "US", "puertorico", {"America/Puerto_Rico"}},
    {"VI", "US", "virginislands", {"America/St_Thomas"}},
    {"GU", "US", "guam", {"Pacific/Guam"}},
    {"MP", "US", "northernmarianaislands", {"Pacific/Saipan"}},
    {"AS", "US", "americansamoa", {"Pacific/Pago_Pago"}},
    {"PW", "US", "palau", {"Pacific/Palau"}},
    {"FM", "US", "micronesia", {"Pacific/Chuuk", "Pacific/Pohnpei", "Pacific/Kosrae"}},
    {"MH", "US", "marshallislands", {"Pacific/Majuro", "Pacific/Kwajalein"}},
    {"AA", "US", "armedforcesamericas", {NULL}},
    {"AE", "US", "armedforceseurope", {NULL}},
    {"AP", "US", "armedforcespacific", {NULL}},

    /* Labrador is on Atlantic time (America/Goose_Bay follows Halifax's rules). */
    {"NL", "CA", "newfoundlandandlabrador", {"America/St_Johns", "America/Halifax"}},
    {"NS", "CA", "novascotia", {"America/Halifax"}},
    {"PE", "CA", "princeedwardisland", {"America/Halifax"}},
    {"NB", "CA", "newbrunswick", {"America/Halifax"}},
    /* The Magdalen Islands are on Atlantic time, the Lower North Shore on AST without DST. */
    {"QC", "CA", "quebec", {"America/Toronto", "America/Halifax", "America/Blanc-Sablon"}},
    /* North-western Ontario is on Central time; Atikokan on EST without DST. */
    {"ON", "CA", "ontario", {"America/Toronto", "America/Winnipeg", "America/Atikokan"}},
    {"MB", "CA", "manitoba", {"America/Winnipeg"}},
    /* Lloydminster follows Alberta. */
    {"SK", "CA", "saskatchewan", {"America/Regina", "America/Edmonton"}},
    {"AB", "CA", "alberta", {"America/Edmonton"}},
    {"BC", "CA", "britishcolumbia", {"America/Vancouver", "America/Edmonton",
                                     "America/Dawson_Creek", "America/Fort_Nelson",
                                     "America/Creston"}},
    {"YT", "CA", "yukon", {"America/Whitehorse", "America/Dawson"}},
    {"NT", "CA", "northwestterritories", {"America/Edmonton"}},
    /* Eastern (Iqaluit), Central (Rankin Inlet, Resolute), Mountain (Cambridge Bay). */
    {"NU", "CA", "nunavut", {"America/Toronto", "America/Winnipeg", "America/Edmonton"}},
};
#define S_STATE_COUNT (sizeof s_states / sizeof s_states[0])

/* Folds a state name for comparison: ASCII letters lower-cased, the accented Latin letters of
 * "Québec" and friends to their base letter, everything else dropped. */
static void
s_fold (const char *in, char *out, size_t outsz)
{
    size_t o = 0;
    const unsigned char *p = (const unsigned char *) in;
    while (*p && o + 1 < outsz) {
        unsigned c = *p;
        if (c == 0xC3 && p[1]) {                   /* U+00C0..U+00FF */
            unsigned d = p[1];
            if (d >= 0x80 && d <= 0x9E && d != 0x97)
                d += 0x20;                         /* lower-case the capitals */
            char base = 0;
            if (d >= 0xA0 && d <= 0xA5) base = 'a';
            else if (d == 0xA7) base = 'c';
            else if (d >= 0xA8 && d <= 0xAB) base = 'e';
            else if (d >= 0xAC && d <= 0xAF) base = 'i';
            else if (d == 0xB1) base = 'n';
            else if ((d >= 0xB2 && d <= 0xB6) || d == 0xB8) base = 'o';
            else if (d >= 0xB9 && d <= 0xBC) base = 'u';
            else if (d == 0xBD || d == 0xBF) base = 'y';
            if (base)
                out[o++] = base;
            p += 2;
            continue;
        }
        if (isalpha (c))
            out[o++] = (char) tolower (c);
        p++;
    }
    out[o] = '\0';
}

static const s_state_t *
s_state_find (const char *country, const char *state)
{
    char folded[64];
    s_fold (state, folded, sizeof folded);
    if (!folded[0])
        return NULL;
    bool code = strlen (folded) == 2;
    for (size_t i = 0; i < S_STATE_COUNT; i++) {
        const s_state_t *s = &s_states[i];
        if (country && strcmp (country, s->country) != 0)
            continue;
        if (code ? (tolower ((unsigned char) s->code[0]) == folded[0]
                    && tolower ((unsigned char) s->code[1]) == folded[1])
                 : strcmp (s->name, folded) == 0)
            return s;
    }
    return NULL;
}

/* The postal system a country uses, for our purposes. */
typedef enum { S_POST_NONE, S_POST_FR, S_POST_US, S_POST_CA } s_post_t;

static s_post_t
s_post_system (const char *country)
{
    static const char *const fr[] = {"FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF",
                                     "WF", "PF", "NC", "TF", "MC", NULL};
    static const char *const us[] = {"US", "PR", "VI", "GU", "MP", "AS", "UM", NULL};
    if (!country || strlen (country) != 2)
        return S_POST_NONE;
    char c[3] = {(char) toupper ((unsigned char) country[0]),
                 (char) toupper ((unsigned char) country[1]), 0};
    for (int i = 0; fr[i]; i++)
        if (strcmp (c, fr[i]) == 0)
            return S_POST_FR;
    for (int i = 0; us[i]; i++)
        if (strcmp (c, us[i]) == 0)
            return S_POST_US;
    if (strcmp (c, "CA") == 0)
        return S_POST_CA;
    return S_POST_NONE;
}

int
pl_phone_zones_for_state (const char *country, const char *state, pl_phone_zones_t *out)
{
    if (!out)
        return PL_EINVAL;
    s_zones_clear (out);
    if (!state || !*state)
        return PL_ENOTFOUND;
    const char *cc = NULL;
    if (country && *country) {
        s_post_t sys = s_post_system (country);
        if (sys == S_POST_US)
            cc = "US";
        else if (sys == S_POST_CA)
            cc = "CA";
        else
            return PL_ENOTFOUND;
    }
    const s_state_t *s = s_state_find (cc, state);
    if (!s || !s->zones[0])
        return PL_ENOTFOUND;
    s_zones_add_list (out, s->zones);
    out->source = PL_PHONE_ZONES_STATE;
    return (int) out->count;
}

/* ------------------------------------------------------------------------------------------- */
/* Postal codes                                                                                 */

/* US ZIP codes by their first three digits (USPS sectional centres). Ranges, so a prefix that is
 * not in use maps to its neighbours' state; the zones of a state are all kept anyway. */
static const struct { unsigned short lo, hi; const char *state; } s_zip3[] = {
    {5, 5, "NY"},     {6, 7, "PR"},     {8, 8, "VI"},     {9, 9, "PR"},     {10, 27, "MA"},
    {28, 29, "RI"},   {30, 38, "NH"},   {39, 49, "ME"},   {50, 54, "VT"},   {55, 55, "MA"},
    {56, 59, "VT"},   {60, 69, "CT"},   {70, 89, "NJ"},   {90, 99, "AE"},   {100, 149, "NY"},
    {150, 196, "PA"}, {197, 199, "DE"}, {200, 200, "DC"}, {201, 201, "VA"}, {202, 205, "DC"},
    {206, 219, "MD"}, {220, 246, "VA"}, {247, 268, "WV"}, {270, 289, "NC"}, {290, 299, "SC"},
    {300, 319, "GA"}, {320, 339, "FL"}, {340, 340, "AA"}, {341, 349, "FL"}, {350, 369, "AL"},
    {370, 385, "TN"}, {386, 397, "MS"}, {398, 399, "GA"}, {400, 427, "KY"}, {430, 459, "OH"},
    {460, 479, "IN"}, {480, 499, "MI"}, {500, 528, "IA"}, {530, 549, "WI"}, {550, 567, "MN"},
    {569, 569, "DC"}, {570, 577, "SD"}, {580, 588, "ND"}, {590, 599, "MT"}, {600, 629, "IL"},
    {630, 658, "MO"}, {660, 679, "KS"}, {680, 693, "NE"}, {700, 714, "LA"}, {716, 729, "AR"},
    {730, 731, "OK"}, {733, 733, "TX"}, {734, 749, "OK"}, {750, 799, "TX"}, {800, 816, "CO"},
    {820, 831, "WY"}, {832, 838, "ID"}, {840, 847, "UT"}, {850, 865, "AZ"}, {870, 884, "NM"},
    {885, 885, "TX"}, {889, 898, "NV"}, {900, 961, "CA"}, {962, 966, "AP"}, {967, 968, "HI"},
    {969, 969, "GU"}, {970, 979, "OR"}, {980, 994, "WA"}, {995, 999, "AK"},
};

const char *
pl_phone_us_state_for_number (const char *e164)
{
    if (!e164 || e164[0] != '+' || e164[1] != '1')
        return NULL;
    for (int i = 2; i < 12; i++)
        if (!isdigit ((unsigned char) e164[i]))
            return NULL;
    if (e164[12])
        return NULL;
    int npa = (e164[2] - '0') * 100 + (e164[3] - '0') * 10 + (e164[4] - '0');
    if (npa < 200)
        return NULL;
    const char *st = pl__us_area_states[npa - 200];
    return *st ? st : NULL;
}

const char *
pl_phone_us_state_for_zip (const char *zip)
{
    if (!zip)
        return NULL;
    while (*zip == ' ')
        zip++;
    /* 5 digits, optionally followed by "-dddd" (ZIP+4) */
    for (int i = 0; i < 5; i++)
        if (!isdigit ((unsigned char) zip[i]))
            return NULL;
    const char *rest = zip + 5;
    if (*rest == '-' || *rest == ' ') {
        rest++;
        for (int i = 0; i < 4; i++, rest++)
            if (!isdigit ((unsigned char) *rest))
                return NULL;
    }
    while (*rest == ' ')
        rest++;
    if (*rest)
        return NULL;
    int z5 = atoi ((char[6]) {zip[0], zip[1], zip[2], zip[3], zip[4], 0});
    /* 967 and 969 hold several Pacific territories. */
    if (z5 == 96799)
        return "AS";
    if (z5 >= 96939 && z5 <= 96940)
        return "PW";
    if (z5 >= 96941 && z5 <= 96944)
        return "FM";
    if (z5 >= 96950 && z5 <= 96952)
        return "MP";
    if (z5 == 96960 || z5 == 96970)
        return "MH";
    int z3 = z5 / 100;
    for (size_t i = 0; i < sizeof s_zip3 / sizeof s_zip3[0]; i++)
        if (z3 >= s_zip3[i].lo && z3 <= s_zip3[i].hi)
            return s_zip3[i].state;
    return NULL;
}

/* French postal codes: five digits, the first two or three are the department. */
static const char *const *
s_fr_postal (const char *pc)
{
    static const char *const paris[] = {"Europe/Paris", NULL};
    static const char *const guadeloupe[] = {"America/Guadeloupe", NULL};
    static const char *const st_barth[] = {"America/St_Barthelemy", NULL};
    static const char *const st_martin[] = {"America/Marigot", NULL};
    static const char *const martinique[] = {"America/Martinique", NULL};
    static const char *const guyane[] = {"America/Cayenne", NULL};
    static const char *const reunion[] = {"Indian/Reunion", NULL};
    static const char *const miquelon[] = {"America/Miquelon", NULL};
    static const char *const mayotte[] = {"Indian/Mayotte", NULL};
    static const char *const monaco[] = {"Europe/Monaco", NULL};
    static const char *const taaf[] = {"Indian/Kerguelen", NULL};
    static const char *const wallis[] = {"Pacific/Wallis", NULL};
    static const char *const polynesia[] = {"Pacific/Tahiti", "Pacific/Marquesas",
                                            "Pacific/Gambier", NULL};
    static const char *const caledonia[] = {"Pacific/Noumea", NULL};

    char d[6];
    size_t n = 0;
    for (const char *p = pc; *p; p++) {
        if (*p == ' ')
            continue;
        if (!isdigit ((unsigned char) *p) || n == 5)
            return NULL;
        d[n++] = *p;
    }
    if (n != 5)
        return NULL;
    d[5] = '\0';
    int dep2 = (d[0] - '0') * 10 + (d[1] - '0');
    int dep3 = dep2 * 10 + (d[2] - '0');
    int code = atoi (d);
    if (dep2 >= 1 && dep2 <= 95)
        return paris;                            /* metropolitan France, Corsica (20) included */
    switch (dep3) {
    case 971:
        if (code == 97133)
            return st_barth;
        if (code == 97150)
            return st_martin;
        return guadeloupe;
    case 972: return martinique;
    case 973: return guyane;
    case 974: return reunion;
    case 975: return miquelon;
    case 976: return mayotte;
    case 977: return st_barth;
    case 978: return st_martin;
    case 980: return monaco;
    case 984: return taaf;
    case 986: return wallis;
    case 987: return polynesia;
    case 988: return caledonia;
    }
    return NULL;
}

/* Canadian postal codes: the first letter is the province ("H2X 1Y4" → QC). */
static const char *
s_ca_province (const char *pc)
{
    while (*pc == ' ')
        pc++;
    char c = (char) toupper ((unsigned char) pc[0]);
    char third = (char) toupper ((unsigned char) (pc[0] && pc[1] ? pc[2] : 0));
    if (!isdigit ((unsigned char) (pc[0] ? pc[1] : 0)))
        return NULL;
    switch (c) {
    case 'A': return "NL";
    case 'B': return "NS";
    case 'C': return "PE";
    case 'E': return "NB";
    case 'G': case 'H': case 'J': return "QC";
    case 'K': case 'L': case 'M': case 'N': case 'P': return "ON";
    case 'R': return "MB";
    case 'S': return "SK";
    case 'T': return "AB";
    case 'V': return "BC";
    case 'X': return (third == 'A' || third == 'B' || third == 'C') ? "NU" : "NT";
    case 'Y': return "YT";
    }
    return NULL;
}

int
pl_phone_zones_for_postal_code (const char *country, const char *postal_code,
                                pl_phone_zones_t *out)
{
    if (!out)
        return PL_EINVAL;
    s_zones_clear (out);
    if (!postal_code || !*postal_code || strlen (postal_code) > 16)
        return PL_ENOTFOUND;
    const char *state = NULL;
    const char *cc = NULL;
    switch (s_post_system (country)) {
    case S_POST_FR: {
        const char *const *zones = s_fr_postal (postal_code);
        if (!zones)
            return PL_ENOTFOUND;
        s_zones_add_list (out, zones);
        out->source = PL_PHONE_ZONES_POSTAL_CODE;
        return (int) out->count;
    }
    case S_POST_US:
        state = pl_phone_us_state_for_zip (postal_code);
        cc = "US";
        break;
    case S_POST_CA:
        state = s_ca_province (postal_code);
        cc = "CA";
        break;
    case S_POST_NONE:
        return PL_ENOTFOUND;
    }
    if (!state || pl_phone_zones_for_state (cc, state, out) <= 0) {
        s_zones_clear (out);
        return PL_ENOTFOUND;
    }
    out->source = PL_PHONE_ZONES_POSTAL_CODE;
    return (int) out->count;
}

/* ------------------------------------------------------------------------------------------- */
/* Explicit zones                                                                               */

int
pl_phone_zone_check (pl_phone_t *self, const char *zone)
{
    if (!self)
        return PL_EINVAL;
    size_t n = zone ? strlen (zone) : 0;
    if (n == 0 || n >= PL_PHONE_ZONE_NAME_MAX) {
        pl__phone_set_err (self, "time zone name is empty or longer than %d bytes",
                           PL_PHONE_ZONE_NAME_MAX - 1);
        return PL_EINVAL;
    }
    /* Names are Area/Location made of letters, digits, '_', '-', '+'; no '.' at all, so no
     * way out of the tzdata directory. */
    for (size_t i = 0; i < n; i++) {
        char c = zone[i];
        bool ok = isalnum ((unsigned char) c) || c == '_' || c == '-' || c == '+'
                  || (c == '/' && i > 0 && i + 1 < n && zone[i - 1] != '/');
        if (!ok) {
            pl__phone_set_err (self, "not an IANA time zone name (like Europe/Paris)");
            return PL_EINVAL;
        }
    }
    if (strncmp (zone, "posix/", 6) == 0 || strncmp (zone, "right/", 6) == 0
        || strcmp (zone, "localtime") == 0 || strcmp (zone, "posixrules") == 0
        || strcmp (zone, "Factory") == 0) {
        pl__phone_set_err (self, "'%s' is not a time zone of the tz database", zone);
        return PL_EINVAL;
    }
    char path[512];
    int w = snprintf (path, sizeof path, "%s/%s", pl__phone_tzdir (self), zone);
    if (w < 0 || (size_t) w >= sizeof path) {
        pl__phone_set_err (self, "time zone path too long");
        return PL_EINVAL;
    }
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        pl__phone_set_err (self, "unknown time zone '%s'", zone);
        return PL_EINVAL;
    }
    struct stat st;
    char magic[4];
    bool ok = fstat (fd, &st) == 0 && S_ISREG (st.st_mode)
              && read (fd, magic, 4) == 4 && memcmp (magic, "TZif", 4) == 0;
    close (fd);
    if (!ok) {
        pl__phone_set_err (self, "unknown time zone '%s' (not a tzdata file)", zone);
        return PL_EINVAL;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------- */
/* Resolution                                                                                   */

static bool
s_set (const char *s)
{
    return s && *s;
}

int
pl_phone_resolve_zones (pl_phone_t *self, const pl_phone_place_t *place, pl_phone_zones_t *out)
{
    if (!self || !place || !out)
        return PL_EINVAL;
    s_zones_clear (out);

    if (s_set (place->override)) {
        int rc = pl_phone_zone_check (self, place->override);
        if (rc < 0)
            return rc;
        s_zones_add (out, place->override);
        out->source = PL_PHONE_ZONES_OVERRIDE;
        return (int) out->count;
    }

    pl_phone_zones_t by_number;
    s_zones_clear (&by_number);
    if (s_set (place->e164))
        pl_phone_zones_for_number (place->e164, &by_number);

    const char *country = s_set (place->country) ? place->country : place->region;
    pl_phone_zones_t by_place;
    s_zones_clear (&by_place);
    if (s_set (place->postal_code))
        pl_phone_zones_for_postal_code (country, place->postal_code, &by_place);
    if (by_place.count == 0 && s_set (place->state))
        pl_phone_zones_for_state (s_set (country) ? country : NULL, place->state, &by_place);

    if (by_place.count == 0) {
        *out = by_number;
    }
    else {
        bool subset = by_number.count > 0;
        for (size_t i = 0; subset && i < by_place.count; i++)
            subset = s_zones_has (&by_number, by_place.zones[i]);
        if (subset || by_number.count == 0) {
            *out = by_place;                       /* the address narrows the number down */
        }
        else {
            *out = by_number;                      /* they disagree: keep every candidate */
            for (size_t i = 0; i < by_place.count; i++)
                s_zones_add (out, by_place.zones[i]);
            out->source = by_place.source;
        }
    }
    if (out->count == 0) {
        pl__phone_set_err (self, "no time zone known for this number or address");
        return PL_ENOTFOUND;
    }
    return (int) out->count;
}

/* ------------------------------------------------------------------------------------------- */
/* Regions                                                                                      */

const char *
pl_phone_region_source_str (pl_phone_region_source_t source)
{
    return source == PL_PHONE_REGION_ADDRESS ? "address" : "number";
}

static void
s_regions_add (pl_phone_regions_t *out, const char *a, const char *b, pl_phone_region_source_t source)
{
    char r[8];
    snprintf (r, sizeof r, "%s%s%s", a, b ? "-" : "", b ? b : "");
    for (size_t i = 0; i < out->count; i++)
        if (out->sources[i] == source && strcmp (out->regions[i], r) == 0)
            return;
    if (out->count == PL_PHONE_MAX_REGIONS)
        return;
    memcpy (out->regions[out->count], r, sizeof r);
    out->sources[out->count++] = source;
}

int
pl_phone_resolve_regions (const pl_phone_place_t *place, pl_phone_regions_t *out)
{
    if (!out)
        return PL_EINVAL;
    memset (out, 0, sizeof *out);
    if (!place)
        return 0;
    if (s_set (place->region) && strlen (place->region) == 2)
        s_regions_add (out, place->region, NULL, PL_PHONE_REGION_NUMBER);
    const char *by_number = pl_phone_us_state_for_number (place->e164);
    if (by_number)
        s_regions_add (out, "US", by_number, PL_PHONE_REGION_NUMBER);
    /* The address: a US one when it says so, or says no country and the number is American. */
    const char *country = s_set (place->country) ? place->country : place->region;
    if (!country || strcasecmp (country, "US") != 0)
        return (int) out->count;
    const char *by_address = NULL;
    if (s_set (place->state)) {
        const s_state_t *st = s_state_find ("US", place->state);
        by_address = st ? st->code : NULL;
    }
    if (!by_address && s_set (place->postal_code))
        by_address = pl_phone_us_state_for_zip (place->postal_code);
    if (by_address && isupper ((unsigned char) by_address[0]) && strlen (by_address) == 2)
        s_regions_add (out, "US", by_address, PL_PHONE_REGION_ADDRESS);
    return (int) out->count;
}
