/*  phone.cc — the C shim over libphonenumber: parse, validate, normalise to E.164.
 *
 *  libphonenumber is C++ and its PhoneNumberUtil is a process-wide singleton, initialised on
 *  first use and thread-safe for everything used here. The shim keeps no state of its own apart
 *  from a detail string and the tzdata directory, both per pl_phone_t. No C++ exception crosses
 *  into C: every entry point catches and reports PL_ENOMEM / PL_EINVAL.
 *
 *  Validity is decided in three steps, each with its own reason, because a CRM operator needs
 *  to know what to fix: Parse() (not a number, bad country code, too short/long after the
 *  international prefix), IsPossibleNumberWithReason() (length for the region), IsValidNumber()
 *  (the digits fall in a range in use).
 */
#include "phone_internal.h"
#include "plateau/error.h"
#include "plateau/utf8.h"

#include <phonenumbers/phonemetadata.pb.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>
#include <unicode/regex.h>
#include <unicode/unistr.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <list>
#include <memory>
#include <new>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

using i18n::phonenumbers::PhoneMetadata;
using i18n::phonenumbers::PhoneMetadataCollection;
using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberDesc;
using i18n::phonenumbers::PhoneNumberUtil;

/* libphonenumber's compiled-in metadata, exported by the library (metadata.h is not installed). */
namespace i18n {
namespace phonenumbers {
int metadata_size ();
const void *metadata_get ();
}
}

/* A thread's own copy of what GetNumberType() asks of libphonenumber's regex cache (s_fast_type). */
struct s_regex_t {
    std::unique_ptr<icu::RegexPattern> pattern;
    std::unique_ptr<icu::RegexMatcher> matcher;     /* reset on each input */
};

struct s_fast_t {
    icu::UnicodeString input;   /* the number being matched: the matchers point into it, so it is
                                   declared first and outlives them */
    std::unordered_map<const std::string *, s_regex_t> regex;           /* by pattern (metadata's) */
};

/* A calling code's regions, main one first, each with its metadata (NULL when it has none). */
typedef std::vector<std::pair<std::string, const PhoneMetadata *>> s_regions_t;

struct pl_phone {
    const PhoneNumberUtil *util;
    s_fast_t *fast;             /* this thread's patterns, for numbers read directly */
    bool raw_only;              /* never hand libphonenumber the digits alone (for fuzzing) */
    char tzdir[256];
    char err[256];
};

static_assert (PL_PHONE_TYPE_UNSPECIFIED == 0 && PL_PHONE_UNKNOWN == 12,
               "pl_phone_type_t mirrors plateau.v1.PhoneNumber.Type");

extern "C" pl_phone_t *
pl_phone_new (void)
{
    pl_phone_t *self = static_cast<pl_phone_t *> (calloc (1, sizeof *self));
    if (!self)
        return nullptr;
    try {
        self->util = PhoneNumberUtil::GetInstance ();
        self->fast = new s_fast_t;
    }
    catch (...) {
        free (self);
        return nullptr;
    }
    snprintf (self->tzdir, sizeof self->tzdir, "%s", "/usr/share/zoneinfo");
    return self;
}

extern "C" void
pl_phone_destroy (pl_phone_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    delete (*self_p)->fast;
    free (*self_p);
    *self_p = nullptr;
}

extern "C" const char *
pl_phone_errstr (const pl_phone_t *self)
{
    return self ? self->err : "";
}

extern "C" const char *
pl__phone_tzdir (const pl_phone_t *self)
{
    return self->tzdir;
}

extern "C" void
pl__phone_set_raw_only (pl_phone_t *self, bool raw_only)
{
    self->raw_only = raw_only;
}

extern "C" void
pl__phone_set_err (pl_phone_t *self, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (self->err, sizeof self->err, fmt, ap);
    va_end (ap);
}

extern "C" int
pl_phone_set_tzdir (pl_phone_t *self, const char *dir)
{
    if (!self || !dir || !*dir || strlen (dir) >= sizeof self->tzdir)
        return PL_EINVAL;
    snprintf (self->tzdir, sizeof self->tzdir, "%s", dir);
    return 0;
}

extern "C" const char *
pl_phone_reason_str (pl_phone_reason_t reason)
{
    switch (reason) {
    case PL_PHONE_VALID: return "valid";
    case PL_PHONE_NOT_A_NUMBER: return "not a number";
    case PL_PHONE_NO_REGION: return "national number without a country";
    case PL_PHONE_INVALID_COUNTRY_CODE: return "invalid country code";
    case PL_PHONE_TOO_SHORT: return "too short";
    case PL_PHONE_TOO_LONG: return "too long";
    case PL_PHONE_INVALID_LENGTH: return "invalid length";
    case PL_PHONE_INVALID_FOR_REGION: return "invalid for region";
    }
    return "invalid";
}

extern "C" const char *
pl_phone_type_str (pl_phone_type_t type)
{
    switch (type) {
    case PL_PHONE_TYPE_UNSPECIFIED: return "unspecified";
    case PL_PHONE_FIXED_LINE: return "fixed_line";
    case PL_PHONE_MOBILE: return "mobile";
    case PL_PHONE_FIXED_LINE_OR_MOBILE: return "fixed_line_or_mobile";
    case PL_PHONE_VOIP: return "voip";
    case PL_PHONE_TOLL_FREE: return "toll_free";
    case PL_PHONE_PREMIUM_RATE: return "premium_rate";
    case PL_PHONE_SHARED_COST: return "shared_cost";
    case PL_PHONE_PERSONAL: return "personal";
    case PL_PHONE_PAGER: return "pager";
    case PL_PHONE_UAN: return "uan";
    case PL_PHONE_VOICEMAIL: return "voicemail";
    case PL_PHONE_UNKNOWN: return "unknown";
    }
    return "unknown";
}

static pl_phone_type_t
s_type (PhoneNumberUtil::PhoneNumberType t)
{
    switch (t) {
    case PhoneNumberUtil::FIXED_LINE: return PL_PHONE_FIXED_LINE;
    case PhoneNumberUtil::MOBILE: return PL_PHONE_MOBILE;
    case PhoneNumberUtil::FIXED_LINE_OR_MOBILE: return PL_PHONE_FIXED_LINE_OR_MOBILE;
    case PhoneNumberUtil::TOLL_FREE: return PL_PHONE_TOLL_FREE;
    case PhoneNumberUtil::PREMIUM_RATE: return PL_PHONE_PREMIUM_RATE;
    case PhoneNumberUtil::SHARED_COST: return PL_PHONE_SHARED_COST;
    case PhoneNumberUtil::VOIP: return PL_PHONE_VOIP;
    case PhoneNumberUtil::PERSONAL_NUMBER: return PL_PHONE_PERSONAL;
    case PhoneNumberUtil::PAGER: return PL_PHONE_PAGER;
    case PhoneNumberUtil::UAN: return PL_PHONE_UAN;
    case PhoneNumberUtil::VOICEMAIL: return PL_PHONE_VOICEMAIL;
    case PhoneNumberUtil::UNKNOWN: return PL_PHONE_UNKNOWN;
    }
    return PL_PHONE_UNKNOWN;
}

/* Upper-cases a two-letter region into buf; "UK" becomes "GB" (the usual CRM slip). Returns
 * false when `region` is not two ASCII letters. */
static bool
s_region (const char *region, char buf[3])
{
    if (!region || strlen (region) != 2)
        return false;
    for (int i = 0; i < 2; i++) {
        char c = region[i];
        if (c >= 'a' && c <= 'z')
            c = static_cast<char> (c - 'a' + 'A');
        if (c < 'A' || c > 'Z')
            return false;
        buf[i] = c;
    }
    buf[2] = '\0';
    if (strcmp (buf, "UK") == 0)
        strcpy (buf, "GB");
    return true;
}

extern "C" bool
pl_phone_region_known (const pl_phone_t *self, const char *region)
{
    char r[3];
    if (!self || !s_region (region, r) || strcmp (r, region) != 0)
        return false;
    try {
        return self->util->GetCountryCodeForRegion (r) != 0;
    }
    catch (...) {
        return false;
    }
}

/* Sets out->reason and the detail; returns PL_EINVAL. `where` names the region for people. */
static int
s_invalid (pl_phone_t *self, pl_phone_number_t *out, pl_phone_reason_t reason, const char *where)
{
    out->reason = reason;
    out->type = PL_PHONE_UNKNOWN;
    if (reason == PL_PHONE_NO_REGION)
        pl__phone_set_err (self, "national number without a country: write it with +<country "
                                 "code> or give the lead's country");
    else if (where && *where && strcmp (where, "ZZ") != 0 && strcmp (where, "001") != 0)
        pl__phone_set_err (self, "not a valid %s number: %s", where, pl_phone_reason_str (reason));
    else
        pl__phone_set_err (self, "not a valid phone number: %s", pl_phone_reason_str (reason));
    return PL_EINVAL;
}

/* True when the number is written in international form ("+…", "00…", "011…"): then a missing
 * default region is not the problem. */
static bool
s_looks_international (const char *raw)
{
    while (*raw && strchr (" \t(.-", *raw))
        raw++;
    return *raw == '+' || strncmp (raw, "\xEF\xBC\x8B", 3) == 0;     /* '+' or fullwidth '＋' */
}

static bool
s_geographic (PhoneNumberUtil::PhoneNumberType t)
{
    return t == PhoneNumberUtil::FIXED_LINE || t == PhoneNumberUtil::MOBILE
           || t == PhoneNumberUtil::FIXED_LINE_OR_MOBILE;
}

/* ---- a number's type and region without libphonenumber's shared regex cache ----------------
 *
 * GetNumberType() and GetRegionCodeForNumber() match the number against its regions' patterns,
 * each looked up by its text in one cache of the process behind one mutex (RegExpCache): two
 * threads parsing numbers ran at 1.14–1.19× one (bench/README.md, intake), a quarter of the time
 * in that lock and a seventh hashing the patterns' text. For the numbers s_direct() reads, the
 * same algorithm is run here on the same metadata (libphonenumber's own, parsed once) with ICU,
 * the engine libphonenumber itself uses, and patterns compiled once per pl_phone_t — one per
 * thread — and found by address. The differential test in test_phone and fuzz_phone compare
 * its answers with libphonenumber's on both roads. */

/* Every calling code's regions with libphonenumber's metadata, read once for the process. The
 * non-geographic entities (+800, +808…) all have the id "001": they get no metadata here, and
 * their numbers (never read directly) would take Parse(). */
static const std::unordered_map<int, s_regions_t> &
s_regions_by_code (void)
{
    static const PhoneMetadataCollection collection = [] {
        PhoneMetadataCollection c;
        c.ParseFromArray (i18n::phonenumbers::metadata_get (), i18n::phonenumbers::metadata_size ());
        return c;
    }();
    static const std::unordered_map<int, s_regions_t> by_code = [] {
        std::unordered_map<std::string, const PhoneMetadata *> by_region;
        for (const PhoneMetadata &md : collection.metadata ())
            if (md.id () != "001")
                by_region.emplace (md.id (), &md);
        const PhoneNumberUtil &util = *PhoneNumberUtil::GetInstance ();
        std::unordered_map<int, s_regions_t> m;
        for (const PhoneMetadata &md : collection.metadata ()) {
            if (m.count (md.country_code ()))
                continue;
            std::list<std::string> codes;
            util.GetRegionCodesForCountryCallingCode (md.country_code (), &codes);
            s_regions_t &list = m[md.country_code ()];
            for (const std::string &c : codes) {
                auto it = by_region.find (c);
                list.emplace_back (c, it == by_region.end () ? nullptr : it->second);
            }
        }
        return m;
    }();
    return by_code;
}

/* Whether the pattern matches all of input (anchored: libphonenumber's FullMatch) or a prefix
 * of it (its Consume, anchored at the start). A pattern ICU refuses matches nothing, as in
 * libphonenumber (which then has no compiled pattern). */
static bool
s_match (pl_phone_t *self, const std::string &pattern, const icu::UnicodeString &input, bool whole)
{
    s_regex_t &re = self->fast->regex[&pattern];
    if (!re.pattern) {
        UErrorCode st = U_ZERO_ERROR;
        UParseError pe;
        re.pattern.reset (icu::RegexPattern::compile (icu::UnicodeString::fromUTF8 (pattern), 0, pe, st));
        if (U_FAILURE (st) || !re.pattern) {
            re.pattern.reset ();
            return false;
        }
        st = U_ZERO_ERROR;
        re.matcher.reset (re.pattern->matcher (st));
        if (U_FAILURE (st) || !re.matcher) {
            re.pattern.reset ();
            re.matcher.reset ();
            return false;
        }
    }
    re.matcher->reset (input);
    UErrorCode st = U_ZERO_ERROR;
    bool m = whole ? re.matcher->matches (st) : re.matcher->lookingAt (st);
    return U_SUCCESS (st) && m;
}

/* PhoneNumberUtil::IsNumberMatchingDesc(): the possible lengths first, then the whole pattern. */
static bool
s_matches_desc (pl_phone_t *self, const std::string &nsn, const icu::UnicodeString &u, const PhoneNumberDesc &desc)
{
    if (desc.possible_length_size () > 0) {
        bool len_ok = false;
        for (int l : desc.possible_length ())
            len_ok = len_ok || l == static_cast<int> (nsn.size ());
        if (!len_ok)
            return false;
    }
    const std::string &pattern = desc.national_number_pattern ();
    return !pattern.empty () && s_match (self, pattern, u, true);
}

/* PhoneNumberUtil::GetNumberTypeHelper(). */
static PhoneNumberUtil::PhoneNumberType
s_type_in (pl_phone_t *self, const std::string &nsn, const icu::UnicodeString &u, const PhoneMetadata &md)
{
    if (!s_matches_desc (self, nsn, u, md.general_desc ()))
        return PhoneNumberUtil::UNKNOWN;
    /* The special ranges first, in libphonenumber's order. */
    const std::pair<const PhoneNumberDesc *, PhoneNumberUtil::PhoneNumberType> special[] = {
        { &md.premium_rate (), PhoneNumberUtil::PREMIUM_RATE }, { &md.toll_free (), PhoneNumberUtil::TOLL_FREE },
        { &md.shared_cost (), PhoneNumberUtil::SHARED_COST },   { &md.voip (), PhoneNumberUtil::VOIP },
        { &md.personal_number (), PhoneNumberUtil::PERSONAL_NUMBER }, { &md.pager (), PhoneNumberUtil::PAGER },
        { &md.uan (), PhoneNumberUtil::UAN },                   { &md.voicemail (), PhoneNumberUtil::VOICEMAIL },
    };
    for (const auto &range : special)
        if (s_matches_desc (self, nsn, u, *range.first))
            return range.second;
    if (s_matches_desc (self, nsn, u, md.fixed_line ())) {
        if (md.same_mobile_and_fixed_line_pattern () || s_matches_desc (self, nsn, u, md.mobile ()))
            return PhoneNumberUtil::FIXED_LINE_OR_MOBILE;
        return PhoneNumberUtil::FIXED_LINE;
    }
    if (!md.same_mobile_and_fixed_line_pattern () && s_matches_desc (self, nsn, u, md.mobile ()))
        return PhoneNumberUtil::MOBILE;
    return PhoneNumberUtil::UNKNOWN;
}

/* PhoneNumberUtil::GetNumberType() of a number without leading zeros (what s_direct() builds),
 * and the region GetRegionCodeForNumber() gives it ("ZZ" when none). */
static PhoneNumberUtil::PhoneNumberType
s_fast_type (pl_phone_t *self, const PhoneNumber &number, std::string *region)
{
    *region = "ZZ";
    const auto &all = s_regions_by_code ();
    auto found = all.find (number.country_code ());
    if (found == all.end () || found->second.empty ())
        return PhoneNumberUtil::UNKNOWN;
    const s_regions_t &list = found->second;
    char buf[24];
    snprintf (buf, sizeof buf, "%llu", static_cast<unsigned long long> (number.national_number ()));
    std::string nsn (buf);
    icu::UnicodeString &u = self->fast->input;
    u = icu::UnicodeString::fromUTF8 (nsn);
    const PhoneMetadata *md = nullptr;
    if (list.size () == 1) {
        *region = list.front ().first;
        md = list.front ().second;
    }
    else
        for (const auto &r : list) {     /* GetRegionCodeForNumberFromRegionList() */
            if (!r.second)
                continue;
            bool ours = r.second->has_leading_digits () ? s_match (self, r.second->leading_digits (), u, false)
                                                         : s_type_in (self, nsn, u, *r.second) != PhoneNumberUtil::UNKNOWN;
            if (ours) {
                *region = r.first;
                md = r.second;
                break;
            }
        }
    return md ? s_type_in (self, nsn, u, *md) : PhoneNumberUtil::UNKNOWN;
}

/* The type of a number: ours for the numbers read directly, libphonenumber's otherwise. */
static PhoneNumberUtil::PhoneNumberType
s_number_type (pl_phone_t *self, const PhoneNumber &number, bool direct, std::string *region)
{
    if (direct)
        return s_fast_type (self, number, region);
    region->clear ();
    return self->util->GetNumberType (number);
}

/* France, its overseas departments and some collectivities share one national numbering plan
 * over several country codes (33, 262, 590, 594, 596): "0692 12 34 56" written in France is a
 * Réunion mobile, +262 692 12 34 56, and "0612345678" written in Réunion is a metropolitan
 * mobile, +33 6 12 34 56 78. libphonenumber reads national numbers with the default region's
 * country code only, and even accepts some overseas ranges (0262, 0590…) as +33 numbers that do
 * not route. Putting such a number on the right country code matters twice: it is the number
 * that rings, and its zone is not Paris.
 *   - A +33 number (however written), or a national-form number read with any default region
 *     of the plan, whose digits are a fixed or mobile number of an overseas code moves to that
 *     code: those ranges are reserved to the overseas territories.
 *   - Otherwise a national-form number read with an overseas default region that is not valid
 *     there but is valid as a +33 number moves to +33. */
static void
s_french_plan (pl_phone_t *self, PhoneNumber *number, bool national_form, bool direct)
{
    static const int overseas[] = {262, 590, 596, 594};
    int cc = number->country_code ();
    bool in_plan = cc == 33;
    for (int o : overseas)
        in_plan = in_plan || o == cc;
    if (!in_plan || (cc != 33 && !national_form))
        return;

    /* Overseas fixed and mobile ranges all start 26, 59, 63 or 69: skip the (slow) checks for
     * every other number. */
    char lead[24];
    snprintf (lead, sizeof lead, "%llu",
              static_cast<unsigned long long> (number->national_number ()));
    if (strncmp (lead, "26", 2) == 0 || strncmp (lead, "59", 2) == 0
        || strncmp (lead, "63", 2) == 0 || strncmp (lead, "69", 2) == 0) {
        for (int alt_cc : overseas) {
            PhoneNumber alt (*number);
            alt.set_country_code (alt_cc);
            std::string r;
            if (s_geographic (s_number_type (self, alt, direct, &r))) {
                *number = alt;
                return;
            }
        }
    }
    std::string r;
    if (cc != 33 && s_number_type (self, *number, direct, &r) == PhoneNumberUtil::UNKNOWN) {
        PhoneNumber alt (*number);
        alt.set_country_code (33);
        if (s_number_type (self, alt, direct, &r) != PhoneNumberUtil::UNKNOWN)
            *number = alt;
    }
}

/* libphonenumber's Parse() runs several large regular expressions over its input, and their
 * cost grows with the input's length and punctuation: "06 12 34 56 78" costs twice
 * "0612345678". Most CRM numbers are digits with spaces, dots, dashes and parentheses, which
 * Parse() would strip anyway; for those we hand it the digits alone (with the leading '+').
 * Anything else (letters, extensions, "tel:", slashes, non-ASCII digits) goes in untouched.
 * tests/fuzz/fuzz_phone.c checks that both roads give the same answer. */
typedef enum {
    S_RAW,                      /* Parse() gets the text as it came */
    S_DIGITS,                   /* the digits stand for the text, for s_direct() and Parse() */
    S_DIRECT_ONLY               /* the digits may be read by s_direct(); Parse() gets the text */
} s_form_t;

static s_form_t
s_simple_form (const char *raw, size_t len, std::string *canon)
{
    /* Inside a number libphonenumber only accepts its own punctuation, which has the space but
     * not the tab (the blanks at both ends are gone: s_parse). */
    canon->clear ();
    size_t i = 0;
    /* After a plus, libphonenumber reads punctuation inside the country code its own way
     * ("+8-0…", "+-80…" come out of it as no E.164 at all): an international number with
     * punctuation goes to Parse() as it came. When the punctuation comes only after a whole
     * country code that s_direct() reads ("+33 6 12 34 56 78", "+1 (212) 555-1234"), its digits
     * may still be read directly, which answers only when the number is valid. */
    bool plus = i < len && raw[i] == '+';
    bool punct = false, cc_whole = false;
    if (plus) {
        canon->push_back ('+');
        i++;
        size_t cc = 0;
        while (i + cc < len && raw[i + cc] >= '0' && raw[i + cc] <= '9')
            cc++;
        cc_whole = i + cc < len && ((cc == 1 && raw[i] == '1')
                                    || (cc == 2 && (memcmp (raw + i, "33", 2) == 0
                                                    || memcmp (raw + i, "44", 2) == 0)));
    }
    size_t digits = 0;
    for (; i < len; i++) {
        char c = raw[i];
        if (c >= '0' && c <= '9') {
            canon->push_back (c);
            digits++;
        }
        else if (c == ' ' || c == '.' || c == '-' || c == '(' || c == ')')
            punct = true;
        else
            return S_RAW;
    }
    /* With punctuation, libphonenumber wants three digits to call it a number at all. */
    if (digits < 3 || digits > 20)
        return S_RAW;
    if (plus && punct)
        return cc_whole ? S_DIRECT_ONLY : S_RAW;
    return S_DIGITS;
}

/* Position of `word` (lower-case ASCII) in s from `from`, ignoring ASCII case, or npos. */
static size_t
s_find_ci (const std::string &s, const char *word, size_t from)
{
    size_t n = strlen (word);
    for (size_t i = from; i + n <= s.size (); i++) {
        size_t k = 0;
        while (k < n && (s[i + k] | 0x20) == word[k])
            k++;
        if (k == n)
            return i;
    }
    return std::string::npos;
}

/* The digits of a number of a country whose calling rules plateau ships (France, the United
 * Kingdom, the United States and the rest of the North American plan), national ("0612345678"
 * with default region FR, "07911 123456" with GB, "(212) 555-1234" or "1 212 555 1234" with US)
 * or international ("+33612345678", "+447911123456", "+12125551234"), as a PhoneNumber built
 * without Parse(): Parse() is two thirds of a parse's cost, and CRM exports and registry files
 * (Bloctel, TPS, the National DNC) hold millions of these. It only builds what Parse() would
 * build for the same digits: the caller takes the number only when it is valid, checked against
 * the same ranges, and otherwise parses it for the exact reason. tests/fuzz/fuzz_phone.c and
 * test_phone check both roads agree. */
static bool
s_direct (const std::string &digits, const char *region, PhoneNumber *number)
{
    const char *d = digits.c_str ();
    size_t n = digits.size ();
    int cc;
    size_t skip;
    bool national = d[0] != '+';
    if (n > 3 && d[0] == '+' && d[1] == '3' && d[2] == '3')
        cc = 33, skip = 3;
    else if (n > 3 && d[0] == '+' && d[1] == '4' && d[2] == '4')
        cc = 44, skip = 3;
    else if (n == 12 && d[0] == '+' && d[1] == '1')
        cc = 1, skip = 2;
    else if (d[0] == '0' && strcmp (region, "FR") == 0)
        cc = 33, skip = 1;
    else if (d[0] == '0' && strcmp (region, "GB") == 0)
        cc = 44, skip = 1;
    /* The North American plan has no leading 0; its trunk prefix is 1, which Parse() strips from
     * eleven digits (ten are left, a possible length). Only the US default region is read here:
     * the other regions of +1 go through Parse(). */
    else if (strcmp (region, "US") == 0 && (n == 10 || (n == 11 && d[0] == '1')))
        cc = 1, skip = n - 10;
    else
        return false;
    d += skip;
    n -= skip;
    /* A French significant number has 9 digits, most British ones 10 (some 9), a North American
     * one 10 and never starts with 0 or 1; a leading 0 left after the prefix (Italian-style) or
     * any other length goes through Parse(). */
    if (n < 9 || n > 10 || (cc == 33 && n != 9) || (cc == 1 && n != 10) || d[0] < '1' || d[0] > '9'
        || (cc == 1 && d[0] == '1'))
        return false;
    uint64_t nsn = 0;
    for (size_t i = 0; i < n; i++) {
        if (d[i] < '0' || d[i] > '9')
            return false;
        nsn = nsn * 10 + static_cast<uint64_t> (d[i] - '0');
    }
    number->set_country_code (cc);
    number->set_national_number (nsn);
    number->set_country_code_source (national ? PhoneNumber::FROM_DEFAULT_COUNTRY
                                              : PhoneNumber::FROM_NUMBER_WITH_PLUS_SIGN);
    return true;
}

static int
s_parse (pl_phone_t *self, const char *raw, const char *default_region, pl_phone_number_t *out)
{
    const PhoneNumberUtil &util = *self->util;
    size_t len = strlen (raw);
    char region[3] = "ZZ";
    bool have_region = s_region (default_region, region)
                       && util.GetCountryCodeForRegion (region) != 0;
    if (!have_region)
        strcpy (region, "ZZ");
    const char *who = have_region ? region : nullptr;

    if (len > PL_PHONE_RAW_MAX)
        return s_invalid (self, out, PL_PHONE_TOO_LONG, who);
    /* Blanks at both ends are nothing, on either road: libphonenumber does not always ignore a
     * trailing one ("+80000000000 " was invalid, "+80000000000" valid; found by fuzz_phone). */
    while (len > 0 && (raw[0] == ' ' || raw[0] == '\t'))
        raw++, len--;
    while (len > 0 && (raw[len - 1] == ' ' || raw[len - 1] == '\t'))
        len--;
    if (!pl_utf8_valid (raw, len))
        return s_invalid (self, out, PL_PHONE_NOT_A_NUMBER, who);

    std::string input;
    s_form_t form = self->raw_only ? S_RAW : s_simple_form (raw, len, &input);
    bool simple = form != S_RAW;
    std::string digits;
    if (form == S_DIRECT_ONLY)
        digits.swap (input);
    if (form != S_DIGITS) {
        input.assign (raw, len);
        /* French extensions ("poste 12") are not among libphonenumber's extension words, and
         * their letters would be read as a vanity number. */
        for (size_t at = 0; (at = s_find_ci (input, "poste", at)) != std::string::npos;)
            input.replace (at, 5, "ext.");
    }
    PhoneNumber number;
    /* GetNumberType() is UNKNOWN exactly when IsValidNumber() is false (both match the number
     * against its region's ranges); calling one instead of both halves the regex work. */
    PhoneNumberUtil::PhoneNumberType type = PhoneNumberUtil::UNKNOWN;
    std::string fast_region;            /* GetRegionCodeForNumber(), when read directly */
    if (simple && s_direct (form == S_DIGITS ? input : digits, region, &number)) {
        s_french_plan (self, &number, number.country_code_source () == PhoneNumber::FROM_DEFAULT_COUNTRY, true);
        type = s_number_type (self, number, true, &fast_region);
    }
    if (type == PhoneNumberUtil::UNKNOWN) {
        number.Clear ();
        switch (util.ParseAndKeepRawInput (input, region, &number)) {
        case PhoneNumberUtil::NO_PARSING_ERROR:
            break;
        case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
            if (!have_region && !s_looks_international (raw))
                return s_invalid (self, out, PL_PHONE_NO_REGION, who);
            return s_invalid (self, out, PL_PHONE_INVALID_COUNTRY_CODE,
                              s_looks_international (raw) ? nullptr : who);
        case PhoneNumberUtil::NOT_A_NUMBER:
            return s_invalid (self, out, PL_PHONE_NOT_A_NUMBER, who);
        case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
        case PhoneNumberUtil::TOO_SHORT_NSN:
            return s_invalid (self, out, PL_PHONE_TOO_SHORT, who);
        case PhoneNumberUtil::TOO_LONG_NSN:
            return s_invalid (self, out, PL_PHONE_TOO_LONG, who);
        }
        fast_region.clear ();
        s_french_plan (self, &number, number.country_code_source () == PhoneNumber::FROM_DEFAULT_COUNTRY, false);
    }
    out->country_code = number.country_code ();
    std::string e164;
    util.Format (number, PhoneNumberUtil::E164, &e164);
    if (e164.size () < sizeof out->e164)
        memcpy (out->e164, e164.c_str (), e164.size () + 1);
    std::string main_region;
    util.GetRegionCodeForCountryCode (number.country_code (), &main_region);
    if (main_region != "ZZ" && main_region.size () < sizeof out->region)
        memcpy (out->region, main_region.c_str (), main_region.size () + 1);
    /* People read "not a valid GB number" for "+44 …" even when the default was FR. */
    const char *where = out->region[0] ? out->region : who;

    switch (util.IsPossibleNumberWithReason (number)) {
    case PhoneNumberUtil::IS_POSSIBLE:
        break;
    case PhoneNumberUtil::IS_POSSIBLE_LOCAL_ONLY:     /* dialable locally: area code missing */
    case PhoneNumberUtil::TOO_SHORT:
        return s_invalid (self, out, PL_PHONE_TOO_SHORT, where);
    case PhoneNumberUtil::INVALID_COUNTRY_CODE:
        return s_invalid (self, out, PL_PHONE_INVALID_COUNTRY_CODE, where);
    case PhoneNumberUtil::INVALID_LENGTH:
        return s_invalid (self, out, PL_PHONE_INVALID_LENGTH, where);
    case PhoneNumberUtil::TOO_LONG:
        return s_invalid (self, out, PL_PHONE_TOO_LONG, where);
    }
    if (type == PhoneNumberUtil::UNKNOWN)
        type = util.GetNumberType (number);
    if (type == PhoneNumberUtil::UNKNOWN || out->e164[0] != '+')
        return s_invalid (self, out, PL_PHONE_INVALID_FOR_REGION, where);
    for (const char *d = out->e164 + 1; *d; d++)
        if (*d < '0' || *d > '9')              /* libphonenumber's "+-800…": not an E.164 */
            return s_invalid (self, out, PL_PHONE_NOT_A_NUMBER, where);

    /* Country codes shared by several regions (+1, +44, +262, +590, +7…): which one. */
    std::list<std::string> regions;
    util.GetRegionCodesForCountryCallingCode (number.country_code (), &regions);
    if (regions.size () > 1) {
        std::string num_region = fast_region;
        if (num_region.empty ())
            util.GetRegionCodeForNumber (number, &num_region);
        if (num_region != "ZZ" && num_region.size () < sizeof out->region)
            memcpy (out->region, num_region.c_str (), num_region.size () + 1);
    }
    out->type = s_type (type);
    out->reason = PL_PHONE_VALID;
    self->err[0] = '\0';
    return 0;
}

extern "C" int
pl_phone_parse (pl_phone_t *self, const char *raw, const char *default_region,
                pl_phone_number_t *out)
{
    if (!self || !out)
        return PL_EINVAL;
    memset (out, 0, sizeof *out);
    out->type = PL_PHONE_UNKNOWN;
    if (!raw)
        return s_invalid (self, out, PL_PHONE_NOT_A_NUMBER, nullptr);
    try {
        return s_parse (self, raw, default_region, out);
    }
    catch (const std::bad_alloc &) {
        pl__phone_set_err (self, "out of memory");
        memset (out, 0, sizeof *out);
        return PL_ENOMEM;
    }
    catch (...) {
        memset (out, 0, sizeof *out);
        return s_invalid (self, out, PL_PHONE_NOT_A_NUMBER, nullptr);
    }
}
