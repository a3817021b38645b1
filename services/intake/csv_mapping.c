/*  csv_mapping.c — header names recognised, named column mappings, and the presets of CRM
 *  exports (see csv_mapping.h).
 *
 *  Header names are compared folded (lower case, accents removed, letters and digits only), so
 *  "Code Postal", "code_postal" and "CODE-POSTAL" are one name, and "Téléphone" is "telephone".
 *  The alias table is the contract with spreadsheet users: add names, never repurpose one. A
 *  CRM's names that would mean something else in another file ("Phone - Work" ranked after the
 *  mobile, Dynamics' "(Do Not Modify) Lead") live in that CRM's preset, not in the alias table;
 *  docs/crm.md is their user's documentation.
 */
#include "csv_mapping.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plateau/error.h"

/* ------------------------------------------------------------------------------------------- */
/* Targets                                                                                      */

static const char *const s_target_names[INTAKE_COL_KIND_COUNT] = {
    [INTAKE_COL_IGNORE] = "-",
    [INTAKE_COL_EXTRA] = "",
    [INTAKE_COL_EXTERNAL_ID] = "external_id",
    [INTAKE_COL_CAMPAIGN] = "campaign",
    [INTAKE_COL_PHONE] = "phone",
    [INTAKE_COL_ALT_PHONE] = "alt_phones",
    [INTAKE_COL_PHONE_CODE] = "phone_code",
    [INTAKE_COL_COUNTRY] = "country",
    [INTAKE_COL_FIRST_NAME] = "first_name",
    [INTAKE_COL_LAST_NAME] = "last_name",
    [INTAKE_COL_ADDRESS] = "address",
    [INTAKE_COL_POSTAL_CODE] = "postal_code",
    [INTAKE_COL_STATE] = "state",
    [INTAKE_COL_EMAIL] = "email",
    [INTAKE_COL_TIMEZONE] = "timezone",
    [INTAKE_COL_CALLEE] = "callee",
    [INTAKE_COL_DEBT_ACCOUNT_REF] = "debt.account_ref",
    [INTAKE_COL_DEBT_CREDITOR] = "debt.creditor",
    [INTAKE_COL_DEBT_BALANCE] = "debt.balance",
    [INTAKE_COL_DEBT_CURRENCY] = "debt.currency",
    [INTAKE_COL_DEBT_FIRST_LETTER_REF] = "debt.first_letter_ref",
    [INTAKE_COL_DEBT_FIRST_LETTER_AT] = "debt.first_letter_at",
    [INTAKE_COL_CONSENT_SCOPE] = "consent.scope",
    [INTAKE_COL_CONSENT_CHANNEL] = "consent.channel",
    [INTAKE_COL_CONSENT_SOURCE] = "consent.source",
    [INTAKE_COL_CONSENT_CAPTURED_AT] = "consent.captured_at",
    [INTAKE_COL_CONSENT_PROOF_REF] = "consent.proof_ref",
    [INTAKE_COL_CONSENT_WORDING_VERSION] = "consent.wording_version",
    [INTAKE_COL_CONSENT_REVOKED_AT] = "consent.revoked_at",
    [INTAKE_COL_CONSENT_NUMBER] = "consent.number",
    [INTAKE_COL_CUSTOM] = "custom.",
};

/* The order of numbers by column kind, where nothing more is known: the phone column, then
 * the alternates, each in column order. */
static unsigned
s_phone_rank (intake_col_kind_t kind)
{
    return kind == INTAKE_COL_PHONE ? 1 : kind == INTAKE_COL_ALT_PHONE ? 2 : 0;
}

const char *
intake_col_name (intake_col_kind_t kind)
{
    return kind >= 0 && kind < INTAKE_COL_KIND_COUNT ? s_target_names[kind] : "";
}

int
intake_col_parse (const char *target, intake_col_t *col)
{
    memset (col, 0, sizeof *col);
    if (!target)
        return PL_EINVAL;
    if (strncmp (target, "custom.", 7) == 0) {
        const char *key = target + 7;
        size_t n = strlen (key);
        if (n == 0 || n > INTAKE_MAX_CUSTOM_KEY)
            return PL_EINVAL;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char) key[i] < 0x20 || key[i] == 0x7F)
                return PL_EINVAL;
        col->kind = INTAKE_COL_CUSTOM;
        memcpy (col->key, key, n + 1);
        snprintf (col->label, sizeof col->label, "%s", target);
        return 0;
    }
    if (*target == '\0')
        return PL_EINVAL;
    for (int k = 0; k < INTAKE_COL_KIND_COUNT; k++) {
        if (k == INTAKE_COL_EXTRA || k == INTAKE_COL_CUSTOM)
            continue;
        if (strcmp (target, s_target_names[k]) == 0) {
            col->kind = (intake_col_kind_t) k;
            col->rank = s_phone_rank (col->kind);
            snprintf (col->label, sizeof col->label, "%s", target);
            return 0;
        }
    }
    return PL_EINVAL;
}

/* ------------------------------------------------------------------------------------------- */
/* Header names                                                                                 */

void
intake_csv_fold (const char *in, char *out, size_t size)
{
    size_t o = 0;
    const unsigned char *p = (const unsigned char *) in;
#define S_PUT(ch) do { if (o + 1 < size) out[o++] = (ch); } while (0)
    while (*p) {
        unsigned c = *p;
        if (c < 0x80) {
            if (isalnum (c))
                S_PUT ((char) tolower (c));
            p++;
            continue;
        }
        if (c == 0xC3 && p[1] >= 0x80 && p[1] <= 0xBF) {      /* U+00C0..U+00FF */
            unsigned d = p[1];
            if (d >= 0x80 && d <= 0x9E && d != 0x97)
                d += 0x20;                                   /* lower-case */
            switch (d) {
            case 0xA0: case 0xA1: case 0xA2: case 0xA3: case 0xA4: case 0xA5: S_PUT ('a'); break;
            case 0xA6: S_PUT ('a'); S_PUT ('e'); break;      /* æ */
            case 0xA7: S_PUT ('c'); break;
            case 0xA8: case 0xA9: case 0xAA: case 0xAB: S_PUT ('e'); break;
            case 0xAC: case 0xAD: case 0xAE: case 0xAF: S_PUT ('i'); break;
            case 0xB1: S_PUT ('n'); break;
            case 0xB2: case 0xB3: case 0xB4: case 0xB5: case 0xB6: case 0xB8: S_PUT ('o'); break;
            case 0xB9: case 0xBA: case 0xBB: case 0xBC: S_PUT ('u'); break;
            case 0xBD: case 0xBF: S_PUT ('y'); break;
            case 0x9F: S_PUT ('s'); S_PUT ('s'); break;      /* ß */
            default: break;
            }
            p += 2;
            continue;
        }
        if (c == 0xC5 && (p[1] == 0x92 || p[1] == 0x93)) {   /* Œ œ */
            S_PUT ('o');
            S_PUT ('e');
            p += 2;
            continue;
        }
        /* any other non-ASCII character (°, №, emoji…) is dropped whole */
        p++;
        while ((*p & 0xC0) == 0x80)
            p++;
    }
#undef S_PUT
    out[o] = '\0';
}

typedef struct {
    const char *folded;
    intake_col_kind_t kind;
    const char *custom_key;             /* INTAKE_COL_CUSTOM: the custom field's name */
} s_alias_t;

static const s_alias_t s_aliases[] = {
    /* phone: the first such column is the phone, the next ones alternate numbers */
    {"phone", INTAKE_COL_PHONE, NULL}, {"telephone", INTAKE_COL_PHONE, NULL},
    {"tel", INTAKE_COL_PHONE, NULL}, {"mobile", INTAKE_COL_PHONE, NULL},
    {"portable", INTAKE_COL_PHONE, NULL}, {"numero", INTAKE_COL_PHONE, NULL},
    {"phonenumber", INTAKE_COL_PHONE, NULL}, {"telephonenumber", INTAKE_COL_PHONE, NULL},
    {"numerodetelephone", INTAKE_COL_PHONE, NULL}, {"ndetelephone", INTAKE_COL_PHONE, NULL},
    {"notelephone", INTAKE_COL_PHONE, NULL}, {"ntelephone", INTAKE_COL_PHONE, NULL},
    {"ntel", INTAKE_COL_PHONE, NULL}, {"numtel", INTAKE_COL_PHONE, NULL},
    {"numerotel", INTAKE_COL_PHONE, NULL}, {"numtelephone", INTAKE_COL_PHONE, NULL},
    {"numerotelephone", INTAKE_COL_PHONE, NULL}, {"cell", INTAKE_COL_PHONE, NULL},
    {"cellphone", INTAKE_COL_PHONE, NULL}, {"mobilephone", INTAKE_COL_PHONE, NULL},
    {"mobilenumber", INTAKE_COL_PHONE, NULL}, {"gsm", INTAKE_COL_PHONE, NULL},
    {"telportable", INTAKE_COL_PHONE, NULL}, {"telephoneportable", INTAKE_COL_PHONE, NULL},
    {"telephonemobile", INTAKE_COL_PHONE, NULL}, {"telmobile", INTAKE_COL_PHONE, NULL},
    {"phone1", INTAKE_COL_PHONE, NULL}, {"tel1", INTAKE_COL_PHONE, NULL},
    {"telephone1", INTAKE_COL_PHONE, NULL}, {"mobile1", INTAKE_COL_PHONE, NULL},
    {"primaryphone", INTAKE_COL_PHONE, NULL}, {"homephone", INTAKE_COL_PHONE, NULL},
    {"workphone", INTAKE_COL_PHONE, NULL}, {"telephonefixe", INTAKE_COL_PHONE, NULL},
    {"telfixe", INTAKE_COL_PHONE, NULL}, {"fixe", INTAKE_COL_PHONE, NULL},
    {"phonenumber1", INTAKE_COL_PHONE, NULL}, {"mobilephonenumber", INTAKE_COL_PHONE, NULL},
    /* explicit alternates */
    {"altphone", INTAKE_COL_ALT_PHONE, NULL}, {"altphones", INTAKE_COL_ALT_PHONE, NULL},
    {"alternatephone", INTAKE_COL_ALT_PHONE, NULL}, {"otherphone", INTAKE_COL_ALT_PHONE, NULL},
    {"secondphone", INTAKE_COL_ALT_PHONE, NULL}, {"phone2", INTAKE_COL_ALT_PHONE, NULL},
    {"phone3", INTAKE_COL_ALT_PHONE, NULL}, {"tel2", INTAKE_COL_ALT_PHONE, NULL},
    {"tel3", INTAKE_COL_ALT_PHONE, NULL}, {"telephone2", INTAKE_COL_ALT_PHONE, NULL},
    {"telephone3", INTAKE_COL_ALT_PHONE, NULL}, {"mobile2", INTAKE_COL_ALT_PHONE, NULL},
    {"autretelephone", INTAKE_COL_ALT_PHONE, NULL}, {"autretel", INTAKE_COL_ALT_PHONE, NULL},
    {"telephonesecondaire", INTAKE_COL_ALT_PHONE, NULL},
    {"phonenumber2", INTAKE_COL_ALT_PHONE, NULL},
    {"phonecode", INTAKE_COL_PHONE_CODE, NULL}, {"indicatif", INTAKE_COL_PHONE_CODE, NULL},
    {"countrycallingcode", INTAKE_COL_PHONE_CODE, NULL},
    {"dialcode", INTAKE_COL_PHONE_CODE, NULL}, {"callingcode", INTAKE_COL_PHONE_CODE, NULL},
    /* names */
    {"firstname", INTAKE_COL_FIRST_NAME, NULL}, {"prenom", INTAKE_COL_FIRST_NAME, NULL},
    {"givenname", INTAKE_COL_FIRST_NAME, NULL}, {"first", INTAKE_COL_FIRST_NAME, NULL},
    {"forename", INTAKE_COL_FIRST_NAME, NULL}, {"prenoms", INTAKE_COL_FIRST_NAME, NULL},
    {"lastname", INTAKE_COL_LAST_NAME, NULL}, {"nom", INTAKE_COL_LAST_NAME, NULL},
    {"surname", INTAKE_COL_LAST_NAME, NULL}, {"familyname", INTAKE_COL_LAST_NAME, NULL},
    {"nomdefamille", INTAKE_COL_LAST_NAME, NULL}, {"last", INTAKE_COL_LAST_NAME, NULL},
    {"nomdenaissance", INTAKE_COL_LAST_NAME, NULL},
    /* address */
    {"address", INTAKE_COL_ADDRESS, NULL}, {"adresse", INTAKE_COL_ADDRESS, NULL},
    {"address1", INTAKE_COL_ADDRESS, NULL}, {"address2", INTAKE_COL_ADDRESS, NULL},
    {"address3", INTAKE_COL_ADDRESS, NULL}, {"adresse1", INTAKE_COL_ADDRESS, NULL},
    {"adresse2", INTAKE_COL_ADDRESS, NULL}, {"adresse3", INTAKE_COL_ADDRESS, NULL},
    {"addressline1", INTAKE_COL_ADDRESS, NULL}, {"addressline2", INTAKE_COL_ADDRESS, NULL},
    {"street", INTAKE_COL_ADDRESS, NULL}, {"streetaddress", INTAKE_COL_ADDRESS, NULL},
    {"rue", INTAKE_COL_ADDRESS, NULL}, {"voie", INTAKE_COL_ADDRESS, NULL},
    {"complementadresse", INTAKE_COL_ADDRESS, NULL},
    {"complementdadresse", INTAKE_COL_ADDRESS, NULL},
    {"postalcode", INTAKE_COL_POSTAL_CODE, NULL}, {"codepostal", INTAKE_COL_POSTAL_CODE, NULL},
    {"cp", INTAKE_COL_POSTAL_CODE, NULL}, {"zip", INTAKE_COL_POSTAL_CODE, NULL},
    {"zipcode", INTAKE_COL_POSTAL_CODE, NULL}, {"postcode", INTAKE_COL_POSTAL_CODE, NULL},
    {"postal", INTAKE_COL_POSTAL_CODE, NULL}, {"zippostalcode", INTAKE_COL_POSTAL_CODE, NULL},
    {"city", INTAKE_COL_CUSTOM, "city"}, {"ville", INTAKE_COL_CUSTOM, "city"},
    {"town", INTAKE_COL_CUSTOM, "city"}, {"commune", INTAKE_COL_CUSTOM, "city"},
    {"localite", INTAKE_COL_CUSTOM, "city"},
    {"state", INTAKE_COL_STATE, NULL}, {"province", INTAKE_COL_STATE, NULL},
    {"region", INTAKE_COL_STATE, NULL}, {"etat", INTAKE_COL_STATE, NULL},
    {"stateprovince", INTAKE_COL_STATE, NULL}, {"stateregion", INTAKE_COL_STATE, NULL},
    {"country", INTAKE_COL_COUNTRY, NULL}, {"pays", INTAKE_COL_COUNTRY, NULL},
    {"countryregion", INTAKE_COL_COUNTRY, NULL},
    {"countrycode", INTAKE_COL_COUNTRY, NULL}, {"codepays", INTAKE_COL_COUNTRY, NULL},
    /* contact */
    {"email", INTAKE_COL_EMAIL, NULL}, {"courriel", INTAKE_COL_EMAIL, NULL},
    {"mail", INTAKE_COL_EMAIL, NULL}, {"emailaddress", INTAKE_COL_EMAIL, NULL},
    {"adresseemail", INTAKE_COL_EMAIL, NULL}, {"adressemail", INTAKE_COL_EMAIL, NULL},
    {"adresseelectronique", INTAKE_COL_EMAIL, NULL}, {"mel", INTAKE_COL_EMAIL, NULL},
    {"adressecourriel", INTAKE_COL_EMAIL, NULL},
    /* identity and routing */
    {"externalid", INTAKE_COL_EXTERNAL_ID, NULL}, {"id", INTAKE_COL_EXTERNAL_ID, NULL},
    {"crmid", INTAKE_COL_EXTERNAL_ID, NULL}, {"leadid", INTAKE_COL_EXTERNAL_ID, NULL},
    {"idcrm", INTAKE_COL_EXTERNAL_ID, NULL}, {"identifiant", INTAKE_COL_EXTERNAL_ID, NULL},
    {"clientid", INTAKE_COL_EXTERNAL_ID, NULL}, {"customerid", INTAKE_COL_EXTERNAL_ID, NULL},
    {"idclient", INTAKE_COL_EXTERNAL_ID, NULL}, {"numeroclient", INTAKE_COL_EXTERNAL_ID, NULL},
    {"referenceclient", INTAKE_COL_EXTERNAL_ID, NULL},
    {"vendorleadcode", INTAKE_COL_EXTERNAL_ID, NULL}, {"recordid", INTAKE_COL_EXTERNAL_ID, NULL},
    {"campaign", INTAKE_COL_CAMPAIGN, NULL}, {"campagne", INTAKE_COL_CAMPAIGN, NULL},
    {"timezone", INTAKE_COL_TIMEZONE, NULL}, {"tz", INTAKE_COL_TIMEZONE, NULL},
    {"fuseauhoraire", INTAKE_COL_TIMEZONE, NULL}, {"fuseau", INTAKE_COL_TIMEZONE, NULL},
    /* who is called; "account type", "customer type" and "type" hold other values in CRM
     * exports ("Individual", "Prospect"): read as the callee they would reject good rows */
    {"callee", INTAKE_COL_CALLEE, NULL}, {"calleetype", INTAKE_COL_CALLEE, NULL},
    /* debt collection */
    {"accountref", INTAKE_COL_DEBT_ACCOUNT_REF, NULL},
    {"accountreference", INTAKE_COL_DEBT_ACCOUNT_REF, NULL},
    {"debtaccountref", INTAKE_COL_DEBT_ACCOUNT_REF, NULL},
    {"referencedossier", INTAKE_COL_DEBT_ACCOUNT_REF, NULL},
    {"numerodossier", INTAKE_COL_DEBT_ACCOUNT_REF, NULL},
    {"dossier", INTAKE_COL_DEBT_ACCOUNT_REF, NULL},
    {"creditor", INTAKE_COL_DEBT_CREDITOR, NULL}, {"debtcreditor", INTAKE_COL_DEBT_CREDITOR, NULL},
    {"creancier", INTAKE_COL_DEBT_CREDITOR, NULL},
    {"balance", INTAKE_COL_DEBT_BALANCE, NULL}, {"debtbalance", INTAKE_COL_DEBT_BALANCE, NULL},
    {"solde", INTAKE_COL_DEBT_BALANCE, NULL},
    {"currency", INTAKE_COL_DEBT_CURRENCY, NULL}, {"debtcurrency", INTAKE_COL_DEBT_CURRENCY, NULL},
    {"devise", INTAKE_COL_DEBT_CURRENCY, NULL},
    {"firstletterref", INTAKE_COL_DEBT_FIRST_LETTER_REF, NULL},
    {"debtfirstletterref", INTAKE_COL_DEBT_FIRST_LETTER_REF, NULL},
    {"referencecourrier", INTAKE_COL_DEBT_FIRST_LETTER_REF, NULL},
    {"firstletterat", INTAKE_COL_DEBT_FIRST_LETTER_AT, NULL},
    {"firstletterdate", INTAKE_COL_DEBT_FIRST_LETTER_AT, NULL},
    {"debtfirstletterat", INTAKE_COL_DEBT_FIRST_LETTER_AT, NULL},
    {"datecourrier", INTAKE_COL_DEBT_FIRST_LETTER_AT, NULL},
    /* consent (one per row) */
    {"consentscope", INTAKE_COL_CONSENT_SCOPE, NULL},
    {"consentchannel", INTAKE_COL_CONSENT_CHANNEL, NULL},
    {"consentsource", INTAKE_COL_CONSENT_SOURCE, NULL},
    {"consentcapturedat", INTAKE_COL_CONSENT_CAPTURED_AT, NULL},
    {"consentdate", INTAKE_COL_CONSENT_CAPTURED_AT, NULL},
    {"dateconsentement", INTAKE_COL_CONSENT_CAPTURED_AT, NULL},
    {"consentproofref", INTAKE_COL_CONSENT_PROOF_REF, NULL},
    {"consentproof", INTAKE_COL_CONSENT_PROOF_REF, NULL},
    {"preuveconsentement", INTAKE_COL_CONSENT_PROOF_REF, NULL},
    {"consentwordingversion", INTAKE_COL_CONSENT_WORDING_VERSION, NULL},
    {"consentrevokedat", INTAKE_COL_CONSENT_REVOKED_AT, NULL},
    {"consentnumber", INTAKE_COL_CONSENT_NUMBER, NULL},
};

/* Copies at most size-1 bytes of s, cut at a UTF-8 character boundary. */
static void
s_copy_utf8 (char *dst, size_t size, const char *s, size_t n)
{
    if (n >= size) {
        n = size - 1;
        while (n > 0 && ((unsigned char) s[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy (dst, s, n);
    dst[n] = '\0';
}

/* Trims a header cell into col->label (cleared first) and folds it into `folded`; returns the
 * trimmed length, and the trimmed text in *text. */
static size_t
s_prepare (const char *header, intake_col_t *col, char *folded, size_t size, const char **text)
{
    memset (col, 0, sizeof *col);
    const char *s = header ? header : "";
    size_t n = strlen (s);
    while (n > 0 && isspace ((unsigned char) *s)) {
        s++;
        n--;
    }
    while (n > 0 && isspace ((unsigned char) s[n - 1]))
        n--;
    s_copy_utf8 (col->label, sizeof col->label, s, n);
    intake_csv_fold (col->label, folded, size);
    *text = s;
    return n;
}

/* Looks a folded name up in the general alias table. */
static bool
s_generic (const char *folded, intake_col_t *col)
{
    for (size_t i = 0; folded[0] && i < sizeof s_aliases / sizeof s_aliases[0]; i++)
        if (strcmp (folded, s_aliases[i].folded) == 0) {
            col->kind = s_aliases[i].kind;
            col->rank = s_phone_rank (col->kind);
            if (s_aliases[i].custom_key)
                snprintf (col->key, sizeof col->key, "%s", s_aliases[i].custom_key);
            return true;
        }
    return false;
}

/* No meaning known: a custom field named after the header text, or INTAKE_COL_EXTRA. */
static bool
s_unknown (intake_col_t *col, const char *text, size_t n)
{
    if (n == 0) {
        col->kind = INTAKE_COL_EXTRA;
        return false;
    }
    col->kind = INTAKE_COL_CUSTOM;
    s_copy_utf8 (col->key, sizeof col->key, text, n);
    return false;
}

bool
intake_csv_column_from_header (const char *header, intake_col_t *col)
{
    char folded[64];
    const char *text;
    size_t n = s_prepare (header, col, folded, sizeof folded, &text);
    return s_generic (folded, col) || s_unknown (col, text, n);
}

/* ------------------------------------------------------------------------------------------- */
/* CRM export presets                                                                           */

/* The order of a lead's numbers, the same for every CRM (docs/crm.md):
 *   1. the CRM's main phone field — the one its users were asked to fill, the number the
 *      record is known by (Salesforce's and Zoho's Phone, HubSpot's Phone Number, Dynamics'
 *      Business Phone, its primary telephone1; Pipedrive's unlabelled Phone);
 *   2. mobile: it reaches the person wherever they are;
 *   3. home: the person's household, answered outside office hours when most calls are made;
 *   4. work or business (when it is not the main field): office hours and a switchboard;
 *   5. other: a number nobody labelled.
 * A row whose main phone is empty is called on its next number, not rejected. Fax and an
 * assistant's phone are not the person's numbers: they stay custom fields. */
enum { S_MAIN = 1, S_MOBILE, S_HOME, S_WORK, S_OTHER, S_GENERIC = 10 };

typedef struct {
    const char *folded;                 /* a header as the CRM writes it, folded */
    intake_col_kind_t kind;
    unsigned rank;                      /* phone columns */
    const char *custom_key;             /* INTAKE_COL_CUSTOM */
} s_preset_col_t;

struct intake_preset {
    const char *name;
    const char *prefix;                 /* folded prefix the CRM may put before every header
                                           (Pipedrive's "Person - "), or NULL */
    const char *const *ids;             /* one of these (folded) must be in the header… */
    const char *const *marks;           /* …with one of these, to recognise the export */
    const s_preset_col_t *cols;
};

#define S_PHONE(name, rank) {name, INTAKE_COL_PHONE, rank, NULL}
#define S_COL(name, kind) {name, kind, 0, NULL}
#define S_CITY(name) {name, INTAKE_COL_CUSTOM, 0, "city"}

/* Salesforce: reports and list views (labels: "Lead ID", "Zip/Postal Code"), Data Loader and
 * Data Export (API names: "MobilePhone", "MailingPostalCode"); leads and contacts. A contact
 * has a mailing address (the person's) and an "other" one: only the mailing address is read,
 * the other stays in custom fields. With state and country picklists, reports add "(text only)"
 * columns and the ISO "Country Code". */
static const s_preset_col_t s_salesforce_cols[] = {
    S_COL ("leadid", INTAKE_COL_EXTERNAL_ID), S_COL ("contactid", INTAKE_COL_EXTERNAL_ID),
    S_COL ("id", INTAKE_COL_EXTERNAL_ID),
    S_PHONE ("phone", S_MAIN), S_PHONE ("businessphone", S_MAIN),
    S_PHONE ("mobile", S_MOBILE), S_PHONE ("mobilephone", S_MOBILE),
    S_PHONE ("homephone", S_HOME), S_PHONE ("otherphone", S_OTHER),
    S_COL ("street", INTAKE_COL_ADDRESS), S_COL ("mailingstreet", INTAKE_COL_ADDRESS),
    S_CITY ("city"), S_CITY ("mailingcity"),
    S_COL ("zippostalcode", INTAKE_COL_POSTAL_CODE), S_COL ("postalcode", INTAKE_COL_POSTAL_CODE),
    S_COL ("mailingzippostalcode", INTAKE_COL_POSTAL_CODE),
    S_COL ("mailingpostalcode", INTAKE_COL_POSTAL_CODE),
    S_COL ("stateprovince", INTAKE_COL_STATE), S_COL ("stateprovincetextonly", INTAKE_COL_STATE),
    S_COL ("state", INTAKE_COL_STATE), S_COL ("mailingstateprovince", INTAKE_COL_STATE),
    S_COL ("mailingstateprovincetextonly", INTAKE_COL_STATE),
    S_COL ("mailingstate", INTAKE_COL_STATE),
    S_COL ("country", INTAKE_COL_COUNTRY), S_COL ("countrytextonly", INTAKE_COL_COUNTRY),
    S_COL ("countrycode", INTAKE_COL_COUNTRY), S_COL ("mailingcountry", INTAKE_COL_COUNTRY),
    S_COL ("mailingcountrytextonly", INTAKE_COL_COUNTRY),
    S_COL ("mailingcountrycode", INTAKE_COL_COUNTRY),
    {NULL, 0, 0, NULL},
};
static const char *const s_salesforce_ids[] = {"leadid", "contactid", NULL};
static const char *const s_salesforce_marks[] = {
    "zippostalcode", "mailingzippostalcode", "stateprovince", "mailingstateprovince",
    "stateprovincetextonly", "mailingstateprovincetextonly", NULL};

/* HubSpot: contacts exported from a view ("Record ID", "Phone Number", "Country/Region"). */
static const s_preset_col_t s_hubspot_cols[] = {
    S_COL ("recordid", INTAKE_COL_EXTERNAL_ID), S_COL ("contactid", INTAKE_COL_EXTERNAL_ID),
    S_PHONE ("phonenumber", S_MAIN), S_PHONE ("phone", S_MAIN),
    S_PHONE ("mobilephonenumber", S_MOBILE), S_PHONE ("whatsappphonenumber", S_OTHER),
    S_COL ("streetaddress", INTAKE_COL_ADDRESS), S_CITY ("city"),
    S_COL ("postalcode", INTAKE_COL_POSTAL_CODE), S_COL ("zip", INTAKE_COL_POSTAL_CODE),
    S_COL ("zipcode", INTAKE_COL_POSTAL_CODE),
    S_COL ("stateregion", INTAKE_COL_STATE), S_COL ("countryregion", INTAKE_COL_COUNTRY),
    {NULL, 0, 0, NULL},
};
static const char *const s_hubspot_ids[] = {"recordid", NULL};
static const char *const s_hubspot_marks[] = {
    "countryregion", "stateregion", "mobilephonenumber", "phonenumber", NULL};

/* Zoho CRM: leads and contacts ("Record Id", older exports "Lead Id" / "Contact Id"). A contact
 * has a mailing address (read) and an "other" one (kept in custom fields). */
static const s_preset_col_t s_zoho_cols[] = {
    S_COL ("recordid", INTAKE_COL_EXTERNAL_ID), S_COL ("leadid", INTAKE_COL_EXTERNAL_ID),
    S_COL ("contactid", INTAKE_COL_EXTERNAL_ID),
    S_PHONE ("phone", S_MAIN), S_PHONE ("mobile", S_MOBILE), S_PHONE ("homephone", S_HOME),
    S_PHONE ("otherphone", S_OTHER),
    S_COL ("street", INTAKE_COL_ADDRESS), S_COL ("mailingstreet", INTAKE_COL_ADDRESS),
    S_CITY ("city"), S_CITY ("mailingcity"),
    S_COL ("zipcode", INTAKE_COL_POSTAL_CODE), S_COL ("mailingzip", INTAKE_COL_POSTAL_CODE),
    S_COL ("state", INTAKE_COL_STATE), S_COL ("mailingstate", INTAKE_COL_STATE),
    S_COL ("country", INTAKE_COL_COUNTRY), S_COL ("mailingcountry", INTAKE_COL_COUNTRY),
    {NULL, 0, 0, NULL},
};
static const char *const s_zoho_ids[] = {"recordid", "leadid", "contactid", NULL};
static const char *const s_zoho_marks[] = {"zipcode", "mailingzip", NULL};

/* Microsoft Dynamics 365: "Export to Excel" of a lead or contact view, saved as CSV. Its three
 * hidden columns come first: "(Do Not Modify) Lead" (or "Contact") is the record's GUID, the
 * row checksum and modification date are the CRM's bookkeeping and are dropped. telephone1
 * ("Business Phone") is the main number of both tables; a contact's address columns are
 * named "Address 1: …" in views built with Advanced Find. */
static const s_preset_col_t s_dynamics_cols[] = {
    S_COL ("donotmodifylead", INTAKE_COL_EXTERNAL_ID),
    S_COL ("donotmodifycontact", INTAKE_COL_EXTERNAL_ID),
    S_COL ("donotmodifyrowchecksum", INTAKE_COL_IGNORE),
    S_COL ("donotmodifymodifiedon", INTAKE_COL_IGNORE),
    S_PHONE ("businessphone", S_MAIN), S_PHONE ("mobilephone", S_MOBILE),
    S_PHONE ("homephone", S_HOME), S_PHONE ("otherphone", S_OTHER),
    S_PHONE ("telephone3", S_OTHER),
    S_COL ("street1", INTAKE_COL_ADDRESS), S_COL ("street2", INTAKE_COL_ADDRESS),
    S_COL ("street3", INTAKE_COL_ADDRESS), S_COL ("address1street1", INTAKE_COL_ADDRESS),
    S_COL ("address1street2", INTAKE_COL_ADDRESS), S_COL ("address1street3", INTAKE_COL_ADDRESS),
    S_CITY ("city"), S_CITY ("address1city"),
    S_COL ("zippostalcode", INTAKE_COL_POSTAL_CODE),
    S_COL ("address1zippostalcode", INTAKE_COL_POSTAL_CODE),
    S_COL ("stateprovince", INTAKE_COL_STATE), S_COL ("address1stateprovince", INTAKE_COL_STATE),
    S_COL ("countryregion", INTAKE_COL_COUNTRY),
    S_COL ("address1countryregion", INTAKE_COL_COUNTRY),
    {NULL, 0, 0, NULL},
};
static const char *const s_dynamics_ids[] = {"donotmodifylead", "donotmodifycontact", NULL};

/* Pipedrive: people exported from the contacts list. Every header may be prefixed with the
 * entity ("Person - Phone - Mobile"); a person's numbers and e-mails are labelled work, home,
 * mobile or other, and the postal address is one field with its parts as sub-columns
 * ("Postal address - ZIP/Postal code"). */
static const s_preset_col_t s_pipedrive_cols[] = {
    S_COL ("id", INTAKE_COL_EXTERNAL_ID),
    S_PHONE ("phone", S_MAIN), S_PHONE ("phonemobile", S_MOBILE),
    S_PHONE ("phonehome", S_HOME), S_PHONE ("phonework", S_WORK),
    S_PHONE ("phoneother", S_OTHER),
    S_COL ("email", INTAKE_COL_EMAIL), S_COL ("emailwork", INTAKE_COL_EMAIL),
    S_COL ("emailhome", INTAKE_COL_EMAIL), S_COL ("emailother", INTAKE_COL_EMAIL),
    S_COL ("postaladdress", INTAKE_COL_ADDRESS),
    S_COL ("postaladdresszippostalcode", INTAKE_COL_POSTAL_CODE),
    S_COL ("postaladdressstatecounty", INTAKE_COL_STATE),
    S_COL ("postaladdresscountry", INTAKE_COL_COUNTRY),
    S_CITY ("postaladdresscitytownvillagelocality"),
    {NULL, 0, 0, NULL},
};
static const char *const s_pipedrive_ids[] = {"personid", "id", NULL};
static const char *const s_pipedrive_marks[] = {
    "personphonework", "personphonehome", "personphonemobile", "personphoneother",
    "phonework", "phonehome", "phonemobile", "phoneother", NULL};

#undef S_PHONE
#undef S_COL
#undef S_CITY

/* Recognition tries them in this order: the most distinctive headers first (Dynamics' hidden
 * columns, HubSpot's "/Region" names), Salesforce last as its names are the most common. */
static const intake_preset_t s_presets[] = {
    {"dynamics", NULL, s_dynamics_ids, NULL, s_dynamics_cols},
    {"hubspot", NULL, s_hubspot_ids, s_hubspot_marks, s_hubspot_cols},
    {"pipedrive", "person", s_pipedrive_ids, s_pipedrive_marks, s_pipedrive_cols},
    {"zoho", NULL, s_zoho_ids, s_zoho_marks, s_zoho_cols},
    {"salesforce", NULL, s_salesforce_ids, s_salesforce_marks, s_salesforce_cols},
};
#define S_NPRESETS (sizeof s_presets / sizeof s_presets[0])

const intake_preset_t *
intake_preset_get (const char *name)
{
    for (size_t i = 0; name && i < S_NPRESETS; i++)
        if (strcmp (s_presets[i].name, name) == 0)
            return &s_presets[i];
    return NULL;
}

const char *
intake_preset_name (const intake_preset_t *preset)
{
    return preset ? preset->name : "";
}

static bool
s_listed (const char *const *list, const char *folded)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strcmp (list[i], folded) == 0)
            return true;
    return false;
}

const intake_preset_t *
intake_preset_detect (const char *const *headers, size_t count)
{
    for (size_t p = 0; p < S_NPRESETS; p++) {
        const intake_preset_t *ps = &s_presets[p];
        bool id = false, mark = !ps->marks;
        for (size_t i = 0; i < count && !(id && mark); i++) {
            char folded[64];
            intake_csv_fold (headers[i] ? headers[i] : "", folded, sizeof folded);
            id = id || s_listed (ps->ids, folded);
            mark = mark || s_listed (ps->marks, folded);
        }
        if (id && mark)
            return ps;
    }
    return NULL;
}

/* Looks a folded name up in the preset's own table. */
static bool
s_preset_own (const intake_preset_t *preset, const char *folded, intake_col_t *col)
{
    for (const s_preset_col_t *c = preset->cols; c->folded; c++)
        if (strcmp (c->folded, folded) == 0) {
            col->kind = c->kind;
            col->rank = c->rank;
            if (c->custom_key)
                snprintf (col->key, sizeof col->key, "%s", c->custom_key);
            return true;
        }
    return false;
}

bool
intake_preset_column (const intake_preset_t *preset, const char *header, intake_col_t *col)
{
    if (!preset)
        return intake_csv_column_from_header (header, col);
    char folded[64];
    const char *text;
    size_t n = s_prepare (header, col, folded, sizeof folded, &text);
    const char *bare = folded;
    size_t pn = preset->prefix ? strlen (preset->prefix) : 0;
    if (pn && strncmp (folded, preset->prefix, pn) == 0 && folded[pn])
        bare = folded + pn;
    if (s_preset_own (preset, folded, col) || s_preset_own (preset, bare, col))
        return true;
    if (s_generic (folded, col) || s_generic (bare, col)) {
        if (col->rank)
            col->rank += S_GENERIC;        /* after the numbers the preset knows */
        return true;
    }
    return s_unknown (col, text, n);
}

/* ------------------------------------------------------------------------------------------- */
/* Mappings                                                                                     */

struct intake_mapping {
    char name[33];
    bool builtin;
    size_t count;
    intake_col_t *cols;
};

struct intake_mappings {
    intake_mapping_t *items;
    size_t count;
    char err[256];
};

/* VICIdial's standard lead file, as its list loader reads it (admin_listloader: "standard
 * format"). The loader itself sets gmt_offset_now and called_since_last_reset; they are not
 * columns of the file. Columns that have no lead field are kept as custom fields under their
 * VICIdial names. */
static const char *const s_vicidial[][2] = {
    {"vendor_lead_code", "external_id"},
    {"source_id", "custom.source_id"},
    {"list_id", "custom.list_id"},
    {"phone_code", "phone_code"},
    {"phone_number", "phone"},
    {"title", "custom.title"},
    {"first_name", "first_name"},
    {"middle_initial", "custom.middle_initial"},
    {"last_name", "last_name"},
    {"address1", "address"},
    {"address2", "address"},
    {"address3", "address"},
    {"city", "custom.city"},
    {"state", "state"},
    {"province", "custom.province"},
    {"postal_code", "postal_code"},
    {"country_code", "custom.country_code"},
    {"gender", "custom.gender"},
    {"date_of_birth", "custom.date_of_birth"},
    {"alt_phone", "alt_phones"},
    {"email", "email"},
    {"security_phrase", "custom.security_phrase"},
    {"comments", "custom.comments"},
    {"rank", "custom.rank"},
    {"owner", "custom.owner"},
};

static bool
s_single_valued (intake_col_kind_t k)
{
    return k != INTAKE_COL_IGNORE && k != INTAKE_COL_EXTRA && k != INTAKE_COL_ALT_PHONE
           && k != INTAKE_COL_ADDRESS && k != INTAKE_COL_CUSTOM;
}

static bool
s_name_ok (const char *name)
{
    size_t n = name ? strlen (name) : 0;
    if (n == 0 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(islower ((unsigned char) name[i]) || isdigit ((unsigned char) name[i])
              || name[i] == '_' || name[i] == '-'))
            return false;
    return true;
}

static intake_mapping_t *
s_find (const intake_mappings_t *self, const char *name)
{
    for (size_t i = 0; i < self->count; i++)
        if (strcmp (self->items[i].name, name) == 0)
            return &self->items[i];
    return NULL;
}

static int
s_add (intake_mappings_t *self, const char *name, const char *const *targets,
       const char *const *labels, size_t count, bool builtin)
{
    if (!s_name_ok (name)) {
        snprintf (self->err, sizeof self->err, "mapping names are 1 to 32 of [a-z0-9_-]");
        return PL_EINVAL;
    }
    if (count == 0 || count > INTAKE_MAPPING_MAX_COLUMNS) {
        snprintf (self->err, sizeof self->err, "a mapping has 1 to %d columns",
                  INTAKE_MAPPING_MAX_COLUMNS);
        return PL_EINVAL;
    }
    intake_mapping_t *old = s_find (self, name);
    if ((old && old->builtin) || intake_preset_get (name)) {
        snprintf (self->err, sizeof self->err, "mapping '%s' is built in", name);
        return PL_EPERM;
    }
    intake_col_t *cols = calloc (count, sizeof *cols);
    if (!cols)
        return PL_ENOMEM;
    bool seen[INTAKE_COL_KIND_COUNT] = {false};
    for (size_t i = 0; i < count; i++) {
        if (!targets[i] || intake_col_parse (targets[i], &cols[i]) != 0) {
            snprintf (self->err, sizeof self->err, "column %zu: unknown target '%.64s'", i + 1,
                      targets[i] ? targets[i] : "(null)");
            free (cols);
            return PL_EINVAL;
        }
        intake_col_kind_t k = cols[i].kind;
        bool dup = s_single_valued (k) && seen[k];
        for (size_t j = 0; !dup && k == INTAKE_COL_CUSTOM && j < i; j++)
            dup = cols[j].kind == INTAKE_COL_CUSTOM && strcmp (cols[j].key, cols[i].key) == 0;
        if (dup) {
            snprintf (self->err, sizeof self->err, "column %zu: '%.64s' is already mapped", i + 1,
                      targets[i]);
            free (cols);
            return PL_EINVAL;
        }
        seen[k] = true;
        if (labels)
            snprintf (cols[i].label, sizeof cols[i].label, "%s", labels[i]);
    }
    if (!seen[INTAKE_COL_PHONE]) {
        snprintf (self->err, sizeof self->err, "a mapping needs a phone column");
        free (cols);
        return PL_EINVAL;
    }
    if (old) {
        free (old->cols);
        old->cols = cols;
        old->count = count;
        return 0;
    }
    intake_mapping_t *items = realloc (self->items, (self->count + 1) * sizeof *items);
    if (!items) {
        free (cols);
        return PL_ENOMEM;
    }
    self->items = items;
    intake_mapping_t *m = &self->items[self->count++];
    memset (m, 0, sizeof *m);
    snprintf (m->name, sizeof m->name, "%s", name);
    m->builtin = builtin;
    m->count = count;
    m->cols = cols;
    return 0;
}

intake_mappings_t *
intake_mappings_new (void)
{
    intake_mappings_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    enum { N = sizeof s_vicidial / sizeof s_vicidial[0] };
    const char *targets[N], *labels[N];
    for (size_t i = 0; i < N; i++) {
        labels[i] = s_vicidial[i][0];
        targets[i] = s_vicidial[i][1];
    }
    if (s_add (self, "vicidial", targets, labels, N, true) != 0) {
        intake_mappings_destroy (&self);
        return NULL;
    }
    return self;
}

void
intake_mappings_destroy (intake_mappings_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    intake_mappings_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++)
        free (self->items[i].cols);
    free (self->items);
    free (self);
    *self_p = NULL;
}

int
intake_mappings_add (intake_mappings_t *self, const char *name, const char *const *columns,
                     size_t count)
{
    if (!self || !columns)
        return PL_EINVAL;
    return s_add (self, name, columns, NULL, count, false);
}

const intake_mapping_t *
intake_mappings_get (const intake_mappings_t *self, const char *name)
{
    if (!self || !name)
        return NULL;
    return s_find (self, name);
}

const char *
intake_mappings_errstr (const intake_mappings_t *self)
{
    return self ? self->err : "";
}

size_t
intake_mapping_size (const intake_mapping_t *mapping)
{
    return mapping->count;
}

const intake_col_t *
intake_mapping_column (const intake_mapping_t *mapping, size_t i)
{
    return i < mapping->count ? &mapping->cols[i] : NULL;
}

bool
intake_mappings_known (const intake_mappings_t *self, const char *name)
{
    return intake_mappings_get (self, name) || intake_preset_get (name);
}

/* Appends ", name" (or "name") to out while it fits. */
static void
s_append_name (char *out, size_t size, size_t *used, const char *name)
{
    int w = snprintf (out + *used, size - *used, "%s%s", *used ? ", " : "", name);
    if (w >= 0 && (size_t) w < size - *used)
        *used += (size_t) w;
    else
        out[*used] = '\0';
}

char *
intake_mappings_names (const intake_mappings_t *self, char *out, size_t size)
{
    if (!size)
        return out;
    size_t used = 0;
    out[0] = '\0';
    /* the built-in mapping, the presets, then the user mappings */
    for (size_t i = 0; self && i < self->count; i++)
        if (self->items[i].builtin)
            s_append_name (out, size, &used, self->items[i].name);
    for (size_t i = 0; i < S_NPRESETS; i++)
        s_append_name (out, size, &used, s_presets[i].name);
    for (size_t i = 0; self && i < self->count; i++)
        if (!self->items[i].builtin)
            s_append_name (out, size, &used, self->items[i].name);
    return out;
}
