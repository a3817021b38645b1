/*  csv_decode.h — leads from a CSV file, streamed (text/csv).
 *
 *  A push decoder for what spreadsheets and CRMs export: fed chunk by chunk (any sizes), it emits
 *  one item per data row as soon as the row is complete, and holds at most one record in memory
 *  (bounded by max_record), so a file of a million rows streams in constant memory.
 *
 *    - delimiter: detected among , ; tab | from the first lines (or given);
 *    - RFC 4180 quoting (quoted fields may hold delimiters, quotes "" and newlines), LF, CRLF or
 *      CR line ends, a bare quote inside an unquoted field taken literally;
 *    - encoding: UTF-8 with or without BOM, or Windows-1252 / ISO-8859-1 (what French Excel
 *      writes), converted to UTF-8. The first non-ASCII cell decides: valid UTF-8 means UTF-8,
 *      anything else Windows-1252. A cell that is not valid UTF-8 in a UTF-8 file (a BOM followed
 *      by Windows-1252 bytes, a file concatenated from two exports) is read as Windows-1252 too.
 *      UTF-16 is refused with a clear error;
 *    - columns: named by a header row (English and French names recognised, see csv_mapping.h;
 *      the exports of Salesforce, HubSpot, Zoho CRM, Dynamics 365 and Pipedrive recognised as
 *      such, or named by opts.mapping), or, without a header, by a named mapping ("vicidial"
 *      built in, user-defined ones). A row's numbers are ordered by their columns' ranks: the
 *      first one given is the phone, the others alt_phones.
 *      Unrecognised columns become custom fields named after their header, or are refused
 *      when the source rejects unknown fields.
 *
 *  Every rejected row carries its line (where the row starts, counting the header and embedded
 *  newlines), and each of its errors the column (1-based field index) and that column's header.
 *  Good rows are accepted even when others fail. Blank rows are skipped.
 *
 *  Errors that make the whole file unusable (no phone column, an unknown mapping, UTF-16, a
 *  header over the limits) end decoding with PL_EINVAL / PL_ENOTFOUND; intake_csv_error() then
 *  says what and where, for a 400 answer.
 *
 *      intake_csv_opts_t copts = {.mapping = "vicidial"};          // or {0}: header row
 *      intake_csv_t *d = intake_csv_new (&copts, mappings, &lead_opts, on_item, ctx);
 *      while ((n = read_some (buf)) > 0)
 *          if ((rc = intake_csv_feed (d, buf, n)) < 0) break;
 *      if (rc >= 0) rc = intake_csv_finish (d);                     // → number of items
 *      if (rc < 0) answer_400 (intake_csv_error (d));               // when it is set
 *      intake_csv_destroy (&d);
 */
#ifndef PL_INTAKE_CSV_DECODE_H
#define PL_INTAKE_CSV_DECODE_H

#include <stdbool.h>
#include <stddef.h>

#include "csv_mapping.h"
#include "lead.h"

typedef struct intake_csv intake_csv_t;

typedef struct {
    char delimiter;             /* ',', ';', '\t', '|'; 0 to detect */
    const char *mapping;        /* name of a mapping, or of a CRM preset (read from the header
                                   row); NULL: the first row is a header */
    bool mapping_has_header;    /* with a mapping: the first row is a header, skipped */
    size_t max_items;           /* 0: unlimited */
    size_t max_record;          /* longest record in bytes; 0: INTAKE_CSV_MAX_RECORD */
    size_t max_columns;         /* 0: INTAKE_CSV_MAX_COLUMNS */
} intake_csv_opts_t;

#define INTAKE_CSV_MAX_RECORD (256 * 1024)
#define INTAKE_CSV_MAX_COLUMNS 512

/* A new decoder, or NULL when out of memory. `opts` may be NULL (detect, header row) and is
 * copied; `mappings` (needed only with opts->mapping), `lead_opts` and `arg` are borrowed for
 * the decoder's life. */
intake_csv_t *intake_csv_new (const intake_csv_opts_t *opts, const intake_mappings_t *mappings,
                              const intake_lead_opts_t *lead_opts, intake_item_fn fn, void *arg);

void intake_csv_destroy (intake_csv_t **self_p);

/* Decodes what `data` completes. 0, or a negative code that ends decoding: PL_EINVAL (file
 * unusable, see intake_csv_error), PL_ENOTFOUND (unknown mapping), PL_ETOOBIG (over
 * max_items), PL_ENOMEM, or the callback's code. Later calls then return PL_ECLOSED. */
int intake_csv_feed (intake_csv_t *self, const void *data, size_t len);

/* Ends the input. Returns the number of items emitted, or a negative code as for feed. */
int intake_csv_finish (intake_csv_t *self);

/* The error that made the file unusable (line, column, header, code, message), or NULL. */
const intake_error_t *intake_csv_error (const intake_csv_t *self);

/* What was found: the delimiter (0 before detection), "utf-8" or "windows-1252", whether a
 * UTF-8 BOM was present, items emitted, physical lines read. */
char intake_csv_delimiter (const intake_csv_t *self);
const char *intake_csv_encoding (const intake_csv_t *self);
bool intake_csv_had_bom (const intake_csv_t *self);

/* The CRM preset the header was read with ("hubspot": named by opts.mapping, or recognised
 * in the header row), or NULL (general names, or a mapping). Static. */
const char *intake_csv_preset (const intake_csv_t *self);

#endif
