/*  csv_mapping.h — what each CSV column means: header names recognised, and named mappings.
 *
 *  A CSV file names its columns in a header row, in whatever language and spelling the CRM or
 *  the spreadsheet chose. intake_csv_column_from_header() recognises the usual English and
 *  French names ("Téléphone", "Prénom", "Code postal", "E-mail", "Ville"…) case-, accent- and
 *  punctuation-insensitively. A file without a header needs a mapping: a named list giving the
 *  meaning of each column by position. "vicidial" (VICIdial's standard lead file) is built in;
 *  users register their own with intake_mappings_add().
 *
 *  The exports of the CRMs call centres are fed from most (Salesforce, HubSpot, Zoho CRM,
 *  Microsoft Dynamics 365, Pipedrive) are read by presets: the header names each CRM writes,
 *  which of its several address blocks is the person's, and where each of its phone columns
 *  goes in the lead's order of numbers (docs/crm.md). A preset is recognised from the header
 *  row itself (intake_preset_detect), or named like a mapping (?mapping=hubspot); a file read
 *  by a preset keeps its header row.
 *
 *  A column's target is written as a lead field name:
 *      external_id, campaign, phone, alt_phones, country, first_name, last_name, address,
 *      postal_code, state, email, timezone, callee,
 *      debt.account_ref, debt.creditor, debt.balance, debt.currency, debt.first_letter_ref,
 *      debt.first_letter_at,
 *      consent.scope, consent.channel, consent.source, consent.captured_at, consent.proof_ref,
 *      consent.wording_version, consent.revoked_at, consent.number   (one consent per row),
 *      phone_code      (a country calling code put in front of national phone and alt_phones),
 *      custom.<name>   (kept as custom field <name>),
 *      -               (the column is deliberately ignored).
 *  alt_phones, address (joined with ", ") and "-" may repeat; other fields appear once.
 */
#ifndef PL_INTAKE_CSV_MAPPING_H
#define PL_INTAKE_CSV_MAPPING_H

#include <stdbool.h>
#include <stddef.h>

#include "lead.h"

typedef enum {
    INTAKE_COL_IGNORE = 0,
    INTAKE_COL_EXTRA,                   /* no meaning known (no or empty header): kept as
                                           custom column_<n>, or rejected when not empty */
    INTAKE_COL_EXTERNAL_ID,
    INTAKE_COL_CAMPAIGN,
    INTAKE_COL_PHONE,
    INTAKE_COL_ALT_PHONE,
    INTAKE_COL_PHONE_CODE,
    INTAKE_COL_COUNTRY,
    INTAKE_COL_FIRST_NAME,
    INTAKE_COL_LAST_NAME,
    INTAKE_COL_ADDRESS,
    INTAKE_COL_POSTAL_CODE,
    INTAKE_COL_STATE,
    INTAKE_COL_EMAIL,
    INTAKE_COL_TIMEZONE,
    INTAKE_COL_CALLEE,
    INTAKE_COL_DEBT_ACCOUNT_REF,
    INTAKE_COL_DEBT_CREDITOR,
    INTAKE_COL_DEBT_BALANCE,
    INTAKE_COL_DEBT_CURRENCY,
    INTAKE_COL_DEBT_FIRST_LETTER_REF,
    INTAKE_COL_DEBT_FIRST_LETTER_AT,
    INTAKE_COL_CONSENT_SCOPE,
    INTAKE_COL_CONSENT_CHANNEL,
    INTAKE_COL_CONSENT_SOURCE,
    INTAKE_COL_CONSENT_CAPTURED_AT,
    INTAKE_COL_CONSENT_PROOF_REF,
    INTAKE_COL_CONSENT_WORDING_VERSION,
    INTAKE_COL_CONSENT_REVOKED_AT,
    INTAKE_COL_CONSENT_NUMBER,
    INTAKE_COL_CUSTOM,                  /* custom field named `key` */
    INTAKE_COL_KIND_COUNT
} intake_col_kind_t;

typedef struct {
    intake_col_kind_t kind;
    char key[INTAKE_MAX_CUSTOM_KEY + 1];    /* INTAKE_COL_CUSTOM: the custom field's name */
    char label[64];                         /* what people call the column: its header text, or
                                               the mapping's name for it ("phone_number") */
    unsigned rank;                          /* phone and alt_phones columns: place in the lead's
                                               order of numbers, lowest first (ties: column
                                               order); the first number given in a row is its
                                               phone, the others its alt_phones */
} intake_col_t;

/* A kind's target name as a mapping writes it ("phone", "debt.balance", "consent.scope",
 * "custom." for custom fields, "-" to ignore); static, never NULL. */
const char *intake_col_name (intake_col_kind_t kind);

/* Reads a target ("phone", "custom.city", "-"); 0, or PL_EINVAL. */
int intake_col_parse (const char *target, intake_col_t *col);

/* Recognises a header cell (UTF-8). Returns true and fills *col when the name is a known one;
 * false otherwise, with *col a custom field named after the header text (kind
 * INTAKE_COL_EXTRA when the text is empty). col->label is the trimmed header text. */
bool intake_csv_column_from_header (const char *header, intake_col_t *col);

/* Folds a header for comparison: lower case, accents removed, only letters and digits
 * ("N° de Téléphone" → "ndetelephone"). */
void intake_csv_fold (const char *in, char *out, size_t size);

/* ------------------------------------------------------------------------------------------- */

typedef struct intake_mappings intake_mappings_t;
typedef struct intake_mapping intake_mapping_t;

#define INTAKE_MAPPING_MAX_COLUMNS 256

/* A registry holding the built-in mappings ("vicidial"), or NULL when out of memory. Adding is
 * not thread-safe: register user mappings before decoding starts. */
intake_mappings_t *intake_mappings_new (void);
void intake_mappings_destroy (intake_mappings_t **self_p);

/* Registers a mapping named `name` ([a-z0-9_-], 1–32 characters): columns[i] is the target of
 * column i+1 (see the top of this file). Replaces a user mapping of the same name. Returns 0;
 * PL_EINVAL for a bad name or target, or a single-valued field given twice (errstr says
 * which); PL_EPERM to replace a built-in or take a preset's name; PL_ENOMEM. */
int intake_mappings_add (intake_mappings_t *self, const char *name, const char *const *columns,
                         size_t count);

/* The mapping named `name`, or NULL. Valid until the next intake_mappings_add() or the
 * registry's destruction. */
const intake_mapping_t *intake_mappings_get (const intake_mappings_t *self, const char *name);

const char *intake_mappings_errstr (const intake_mappings_t *self);

size_t intake_mapping_size (const intake_mapping_t *mapping);
const intake_col_t *intake_mapping_column (const intake_mapping_t *mapping, size_t i);

/* Whether `name` is a mapping of the registry or a preset (what ?mapping= may name). */
bool intake_mappings_known (const intake_mappings_t *self, const char *name);

/* The names ?mapping= accepts, comma-separated ("vicidial, salesforce, hubspot, …", then the
 * user mappings), cut to fit `size`. Returns out. */
char *intake_mappings_names (const intake_mappings_t *self, char *out, size_t size);

/* ------------------------------------------------------------------------------------------- */
/* CRM export presets (static tables; nothing to free)                                          */

typedef struct intake_preset intake_preset_t;

/* The preset named `name` ("salesforce", "hubspot", "zoho", "dynamics", "pipedrive"), or NULL. */
const intake_preset_t *intake_preset_get (const char *name);

/* The preset whose export a header row (its cells, UTF-8, in file order) comes from, or NULL
 * when it looks like none: a preset is recognised by its id column together with a column no
 * other CRM names that way (HubSpot's "Record ID" with "Country/Region", Dynamics' "(Do Not
 * Modify) Lead"…). A preset falls back on the general names, so a hand-made sheet taken for
 * a CRM's export would lose nothing but the column order of its numbers. */
const intake_preset_t *intake_preset_detect (const char *const *headers, size_t count);

/* "hubspot"…; static. */
const char *intake_preset_name (const intake_preset_t *preset);

/* Recognises a header cell of this preset's export: its own names first, then the general ones
 * of intake_csv_column_from_header(), which it otherwise behaves like. Phone columns get the
 * preset's rank (docs/crm.md); a phone column the preset does not know comes after its own. */
bool intake_preset_column (const intake_preset_t *preset, const char *header, intake_col_t *col);

#endif
