/*  test_intake_csv.c — streamed CSV files (csv_decode.c, csv_mapping.c).
 *
 *  The files French spreadsheets really write (Windows-1252, semicolons, CRLF, with or without a
 *  BOM) import with their accents intact; every rejected row names its line, column and header;
 *  good rows pass whatever their neighbours do; the result does not depend on how the body is
 *  cut into chunks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv_decode.h"
#include "plateau/error.h"

#define MAX_SEEN 64

typedef struct {
    size_t index;
    size_t line;
    Plateau__V1__Lead *lead;            /* kept until the fixture is reset */
    intake_errors_t errors;
} seen_t;

typedef struct {
    pl_phone_t *phone;
    intake_mappings_t *mappings;
    intake_lead_opts_t opts;
    intake_csv_opts_t copts;
    seen_t seen[MAX_SEEN];
    size_t n;
    char delimiter;
    char encoding[16];
    bool bom;
    intake_error_t fatal;
    bool has_fatal;
} fixture_t;

static int
s_collect (void *arg, const intake_item_t *item)
{
    fixture_t *f = arg;
    assert_int_equal (item->index, f->n);
    if (f->n < MAX_SEEN) {
        seen_t *s = &f->seen[f->n];
        s->index = item->index;
        s->line = item->line;
        s->lead = item->lead;
        if (item->errors)
            s->errors = *item->errors;
        else
            intake_errors_clear (&s->errors);
    }
    else {
        Plateau__V1__Lead *lead = item->lead;
        intake_lead_free (&lead);
    }
    f->n++;
    return 0;
}

static void
s_reset (fixture_t *f)
{
    for (size_t i = 0; i < f->n && i < MAX_SEEN; i++)
        intake_lead_free (&f->seen[i].lead);
    f->n = 0;
    f->has_fatal = false;
}

static int
s_setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    if (!f)
        return -1;
    f->phone = pl_phone_new ();
    f->mappings = intake_mappings_new ();
    f->opts = (intake_lead_opts_t) {.phone = f->phone, .source = "crm", .default_campaign = "c1",
                                    .default_country = "FR"};
    *state = f;
    return f->phone && f->mappings ? 0 : -1;
}

static int
s_teardown (void **state)
{
    fixture_t *f = *state;
    s_reset (f);
    intake_mappings_destroy (&f->mappings);
    pl_phone_destroy (&f->phone);
    free (f);
    return 0;
}

/* Feeds `len` bytes in chunks of `chunk`; returns finish()'s result (or the failing feed's). */
static int
s_run (fixture_t *f, const char *body, size_t len, size_t chunk)
{
    s_reset (f);
    intake_csv_t *d = intake_csv_new (&f->copts, f->mappings, &f->opts, s_collect, f);
    assert_non_null (d);
    int rc = 0;
    for (size_t at = 0; at < len && rc == 0; at += chunk)
        rc = intake_csv_feed (d, body + at, len - at < chunk ? len - at : chunk);
    if (rc == 0)
        rc = intake_csv_finish (d);
    f->delimiter = intake_csv_delimiter (d);
    snprintf (f->encoding, sizeof f->encoding, "%s", intake_csv_encoding (d));
    f->bom = intake_csv_had_bom (d);
    const intake_error_t *e = intake_csv_error (d);
    f->has_fatal = e != NULL;
    if (e)
        f->fatal = *e;
    intake_csv_destroy (&d);
    assert_null (d);
    return rc;
}

static int
s_run_str (fixture_t *f, const char *body)
{
    return s_run (f, body, strlen (body), 1 << 16);
}

static char *
s_read_file (const char *name, size_t *len)
{
    const char *root = getenv ("PL_SOURCE_DIR");
    char path[1024];
    snprintf (path, sizeof path, "%s/tests/data/intake/%s", root ? root : ".", name);
    FILE *fp = fopen (path, "rb");
    if (!fp)
        fail_msg ("cannot open %s (is PL_SOURCE_DIR set?)", path);
    char *buf = malloc (1 << 20);
    assert_non_null (buf);
    *len = fread (buf, 1, 1 << 20, fp);
    fclose (fp);
    return buf;
}

static const char *
s_custom (const Plateau__V1__Lead *lead, const char *key)
{
    for (size_t i = 0; i < lead->n_custom; i++)
        if (strcmp (lead->custom[i]->key, key) == 0)
            return lead->custom[i]->value;
    return NULL;
}

static const intake_error_t *
s_err (const seen_t *s, const char *field)
{
    for (size_t i = 0; i < s->errors.count; i++)
        if (strcmp (s->errors.items[i].field, field) == 0)
            return &s->errors.items[i];
    return NULL;
}

static const Plateau__V1__Lead *
s_lead (const fixture_t *f, size_t i)
{
    if (i >= f->n || !f->seen[i].lead)
        fail_msg ("item %zu is not accepted: %s %s", i,
                  i < f->n && f->seen[i].errors.count ? f->seen[i].errors.items[0].field : "-",
                  i < f->n && f->seen[i].errors.count ? f->seen[i].errors.items[0].message : "-");
    return f->seen[i].lead;
}

/* ------------------------------------------------------------------------------------------- */
/* French spreadsheets                                                                          */

/* The three exports of the same sheet give the same leads. */
static void
s_check_french_sheet (fixture_t *f)
{
    assert_int_equal (f->delimiter, ';');
    assert_int_equal (f->n, 4);

    const Plateau__V1__Lead *l = s_lead (f, 0);
    assert_int_equal (f->seen[0].line, 2);
    assert_string_equal (l->last_name, "Dupont");
    assert_string_equal (l->first_name, "Hélène");
    assert_string_equal (l->phone->e164, "+33612345678");
    assert_string_equal (l->address, "12, rue de l'Église");
    assert_string_equal (l->postal_code, "75002");
    assert_string_equal (l->email, "helene.dupont@example.fr");
    assert_string_equal (s_custom (l, "city"), "Paris");
    assert_string_equal (s_custom (l, "Montant dû"), "1 250 €");
    assert_string_equal (l->phone->zones[0], "Europe/Paris");

    l = s_lead (f, 1);
    assert_string_equal (l->last_name, "LEFÈVRE");
    assert_string_equal (l->first_name, "Æmilie");
    assert_string_equal (l->address, "5 chemin des Œillets");
    assert_string_equal (l->phone->e164, "+262692123456");
    assert_int_equal (l->phone->n_zones, 1);
    assert_string_equal (l->phone->zones[0], "Indian/Reunion");
    assert_string_equal (s_custom (l, "Montant dû"), "99 €");

    /* row 4: a short number and a bad e-mail, each with its column and header */
    const seen_t *bad = &f->seen[2];
    assert_null (bad->lead);
    assert_int_equal (bad->line, 4);
    const intake_error_t *e = s_err (bad, "phone");
    assert_non_null (e);
    assert_string_equal (e->code, INTAKE_E_INVALID_NUMBER);
    assert_string_equal (e->message, "not a valid FR number: too short");
    assert_int_equal (e->line, 4);
    assert_int_equal (e->column, 3);
    assert_string_equal (e->header, "Téléphone");
    e = s_err (bad, "email");
    assert_non_null (e);
    assert_int_equal (e->column, 7);
    assert_string_equal (e->header, "E-mail");

    l = s_lead (f, 3);
    assert_int_equal (f->seen[3].line, 5);
    assert_string_equal (l->first_name, "Jürgen");
    assert_string_equal (l->address, "Straße \"Alt\" 1");
    assert_string_equal (l->phone->region, "DE");
}

static void
test_windows_1252_semicolon_crlf_sheet_imports_with_accents (void **state)
{
    fixture_t *f = *state;
    size_t len;
    char *body = s_read_file ("fr_excel_cp1252.csv", &len);
    assert_int_equal (s_run (f, body, len, 4096), 4);
    assert_string_equal (f->encoding, "windows-1252");
    assert_false (f->bom);
    s_check_french_sheet (f);
    free (body);
}

static void
test_windows_1252_sheet_behind_a_bom_imports_with_accents (void **state)
{
    fixture_t *f = *state;
    size_t len;
    char *body = s_read_file ("fr_excel_cp1252_bom.csv", &len);
    assert_int_equal (s_run (f, body, len, 4096), 4);
    assert_true (f->bom);
    s_check_french_sheet (f);
    free (body);
}

static void
test_utf8_sheet_with_bom_imports_with_accents (void **state)
{
    fixture_t *f = *state;
    size_t len;
    char *body = s_read_file ("fr_excel_utf8_bom.csv", &len);
    assert_int_equal (s_run (f, body, len, 4096), 4);
    assert_string_equal (f->encoding, "utf-8");
    assert_true (f->bom);
    s_check_french_sheet (f);
    free (body);
}

static void
test_any_chunking_gives_the_same_items (void **state)
{
    fixture_t *f = *state;
    size_t len;
    char *body = s_read_file ("fr_excel_cp1252_bom.csv", &len);
    static const size_t chunks[] = {1, 2, 3, 5, 17, 64};
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        assert_int_equal (s_run (f, body, len, chunks[i]), 4);
        s_check_french_sheet (f);
    }
    free (body);
}

/* ------------------------------------------------------------------------------------------- */
/* Headers and delimiters                                                                       */

static void
test_header_names_are_recognised_in_english_and_french (void **state)
{
    fixture_t *f = *state;
    const char *csv = "ID CRM,N° de Téléphone,PORTABLE,Prénom,NOM,Courriel,CP,Pays,Campagne,"
                      "Adresse 1,Adresse 2,Fuseau horaire,Région\n"
                      "A-1,01 23 45 67 89,06 12 34 56 78,Jean,Durand,j@example.fr,13001,FR,"
                      "printemps,1 rue A,Bât. C,Europe/Paris,PACA\n";
    assert_int_equal (s_run_str (f, csv), 1);
    const Plateau__V1__Lead *l = s_lead (f, 0);
    assert_string_equal (l->external_id, "A-1");
    assert_string_equal (l->phone->e164, "+33123456789");
    assert_int_equal (l->n_alt_phones, 1);
    assert_string_equal (l->alt_phones[0]->e164, "+33612345678");
    assert_string_equal (l->first_name, "Jean");
    assert_string_equal (l->last_name, "Durand");
    assert_string_equal (l->email, "j@example.fr");
    assert_string_equal (l->postal_code, "13001");
    assert_string_equal (l->country, "FR");
    assert_string_equal (l->campaign, "printemps");
    assert_string_equal (l->address, "1 rue A, Bât. C");
    assert_string_equal (l->timezone, "Europe/Paris");
    assert_string_equal (l->state, "PACA");

    csv = "Phone Number;First Name;Last_Name;e-mail;Zip Code;State;City;Alt Phone\n"
          "(415) 555-0123;Ann;Lee;ann@example.com;94105;CA;San Francisco;415-555-0124\n";
    f->opts.default_country = "US";
    assert_int_equal (s_run_str (f, csv), 1);
    l = s_lead (f, 0);
    assert_string_equal (l->phone->e164, "+14155550123");
    assert_string_equal (l->alt_phones[0]->e164, "+14155550124");
    assert_string_equal (l->last_name, "Lee");
    assert_string_equal (s_custom (l, "city"), "San Francisco");
    assert_string_equal (l->phone->zone_source, "postal_code");
}

/* Who is called has a column of its own under the names CRM exports give it, checked as in
 * JSON: a bad value rejects its row with line, column and header, the other rows pass. */
static void
test_callee_column_is_recognised_and_checked (void **state)
{
    fixture_t *f = *state;
    static const char *const names[] = {"callee", "Callee", "callee_type", "Callee Type", "CALLEE-TYPE"};
    intake_col_t col;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!intake_csv_column_from_header (names[i], &col) || col.kind != INTAKE_COL_CALLEE)
            fail_msg ("'%s' is not read as the callee column", names[i]);
    }
    assert_false (intake_csv_column_from_header ("Account Type", &col));   /* ambiguous: custom */
    assert_int_equal (col.kind, INTAKE_COL_CUSTOM);
    assert_false (intake_csv_column_from_header ("Customer Type", &col));
    assert_int_equal (col.kind, INTAKE_COL_CUSTOM);
    assert_int_equal (intake_col_parse ("callee", &col), 0);
    assert_int_equal (col.kind, INTAKE_COL_CALLEE);
    assert_string_equal (intake_col_name (INTAKE_COL_CALLEE), "callee");

    const char *csv = "phone;Callee Type;last_name\n"
                      "0612345678;Business;A\n"
                      "0612345679;sole_trader;B\n"
                      "0612345670;b2b;C\n"
                      "0612345671;;D\n"
                      "0612345672;consumer;E\n";
    assert_int_equal (s_run_str (f, csv), 5);
    assert_string_equal (s_lead (f, 0)->callee, "business");
    assert_string_equal (s_lead (f, 1)->callee, "sole-trader");
    const seen_t *bad = &f->seen[2];
    assert_null (bad->lead);
    assert_int_equal (bad->line, 4);
    const intake_error_t *e = s_err (bad, "callee");
    assert_non_null (e);
    assert_string_equal (e->code, INTAKE_E_INVALID_VALUE);
    assert_string_equal (e->message, "callee 'b2b' is not consumer, business or sole-trader");
    assert_int_equal (e->line, 4);
    assert_int_equal (e->column, 2);
    assert_string_equal (e->header, "Callee Type");
    assert_string_equal (s_lead (f, 3)->callee, "");
    assert_string_equal (s_lead (f, 3)->last_name, "D");
    assert_string_equal (s_lead (f, 4)->callee, "consumer");
    assert_null (s_custom (s_lead (f, 4), "Callee Type"));

    /* a mapping names it as a lead field */
    const char *cols[] = {"phone", "callee"};
    assert_int_equal (intake_mappings_add (f->mappings, "with-callee", cols, 2), 0);
    f->copts.mapping = "with-callee";
    assert_int_equal (s_run_str (f, "0612345678,business\n0612345679,nobody\n"), 2);
    assert_string_equal (s_lead (f, 0)->callee, "business");
    e = s_err (&f->seen[1], "callee");
    assert_non_null (e);
    assert_int_equal (e->column, 2);
    assert_string_equal (e->header, "callee");
}

/* French Excel writes "sep=;" as its first line: the delimiter is that one, the line is not
 * a header, and line numbers stay the file's (the header is line 2). */
static void
test_excel_sep_line_names_the_delimiter (void **state)
{
    fixture_t *f = *state;
    const char *csv = "sep=;\r\n"
                      "nom;t\u00e9l\u00e9phone\r\n"
                      "Dupont;06 12 34 56 78\r\n"
                      "Martin;pas un num\u00e9ro\r\n";
    assert_int_equal (s_run_str (f, csv), 2);
    assert_int_equal (f->delimiter, ';');
    assert_string_equal (s_lead (f, 0)->phone->e164, "+33612345678");
    assert_string_equal (s_lead (f, 0)->last_name, "Dupont");
    assert_int_equal (f->seen[0].line, 3);
    assert_null (f->seen[1].lead);
    assert_int_equal (f->seen[1].line, 4);
    assert_int_equal (s_err (&f->seen[1], "phone")->line, 4);
}

/* Bytes of a binary body (a compressed one sent without its Content-Encoding) are never
 * echoed in an error: control characters and broken UTF-8 become '?'. */
static void
s_assert_text (const char *s)
{
    for (const char *p = s; *p; p++)
        if ((unsigned char) *p < 0x20 || (unsigned char) *p == 0x7f)
            fail_msg ("byte 0x%02x echoed in \"%s\"", (unsigned char) *p, s);
}

static void
test_errors_never_echo_binary_bytes (void **state)
{
    fixture_t *f = *state;
    /* The start of a gzip stream read as a CSV header. */
    const char gz[] = "\x1f\x8b\x08\x00\x12\x34\x56\x78\x00\x03\x01,\x02\x03\x7f\n\x05\x06,\x07\n";
    assert_int_equal (s_run (f, gz, sizeof gz - 1, 1 << 16), PL_EINVAL);
    assert_true (f->has_fatal);
    s_assert_text (f->fatal.message);
    s_assert_text (f->fatal.header);
    /* A cell echoed in a row's error. */
    const char csv[] = "phone,last_name,country\n0612345678,A,\x01\x02Z\x1b[2J\n";
    assert_int_equal (s_run (f, csv, sizeof csv - 1, 1 << 16), 1);
    assert_null (f->seen[0].lead);
    for (size_t i = 0; i < f->seen[0].errors.count; i++) {
        s_assert_text (f->seen[0].errors.items[i].message);
        s_assert_text (f->seen[0].errors.items[i].header);
    }
}

static void
test_delimiter_is_detected_among_comma_semicolon_tab_pipe (void **state)
{
    fixture_t *f = *state;
    static const struct {
        const char *csv;
        char delim;
    } cases[] = {
        {"phone,first_name,address\n0612345678,Ann,\"1 rue A; bât B | 2\"\n", ','},
        {"phone;first_name;address\n0612345678;Ann;\"1, rue A\"\n", ';'},
        {"phone\tfirst_name\taddress\n0612345678\tAnn\t1, rue A; B\n", '\t'},
        {"phone|first_name|address\n0612345678|Ann|1, rue A; B\n", '|'},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal (s_run_str (f, cases[i].csv), 1);
        assert_int_equal (f->delimiter, cases[i].delim);
        assert_string_equal (s_lead (f, 0)->first_name, "Ann");
    }
    /* one column: nothing to detect */
    assert_int_equal (s_run_str (f, "phone\n0612345678\n0612345679\n"), 2);
    /* given explicitly */
    f->copts.delimiter = ';';
    assert_int_equal (s_run_str (f, "phone,first_name\n0612345678,Ann\n"), PL_EINVAL);
}

static void
test_quoted_fields_span_lines_and_lines_stay_right (void **state)
{
    fixture_t *f = *state;
    const char *csv = "phone,address,first_name\r\n"
                      "0612345678,\"12 rue A\r\n75002 Paris\",Ann\r\n"
                      "0612,\"3 rue B\n\nBât. C\",Bob\r\n"
                      "\"06 12 34 56 79\",\"say \"\"hi\"\"\",Cy\r\n";
    assert_int_equal (s_run_str (f, csv), 3);
    assert_string_equal (s_lead (f, 0)->address, "12 rue A\r\n75002 Paris");
    assert_int_equal (f->seen[1].line, 4);
    assert_int_equal (s_err (&f->seen[1], "phone")->line, 4);
    assert_int_equal (s_err (&f->seen[1], "phone")->column, 1);
    assert_int_equal (f->seen[2].line, 7);
    assert_string_equal (s_lead (f, 2)->address, "say \"hi\"");
}

static void
test_unterminated_quote_is_a_rejected_row_with_its_line (void **state)
{
    fixture_t *f = *state;
    const char *csv = "phone,first_name\n0612345678,Ann\n0612345679,\"Bob\n0612345670,Cy\n";
    assert_int_equal (s_run_str (f, csv), 2);
    assert_string_equal (s_lead (f, 0)->first_name, "Ann");
    const seen_t *s = &f->seen[1];
    assert_null (s->lead);
    assert_int_equal (s->line, 3);
    assert_string_equal (s->errors.items[0].code, INTAKE_E_MALFORMED);
    assert_int_equal (s->errors.items[0].line, 3);
    assert_int_equal (s->errors.items[0].column, 2);
    assert_string_equal (s->errors.items[0].header, "first_name");
    assert_non_null (strstr (s->errors.items[0].message, "unterminated"));
}

static void
test_bare_quotes_inside_a_field_are_literal (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (s_run_str (f, "phone,first_name\n0612345678,Jo \"Big\" Smith\n"
                                    "0612345679,\"Al\"ex\n"), 2);
    assert_string_equal (s_lead (f, 0)->first_name, "Jo \"Big\" Smith");
    assert_string_equal (s_lead (f, 1)->first_name, "Alex");
}

static void
test_blank_rows_are_skipped_and_not_counted (void **state)
{
    fixture_t *f = *state;
    const char *csv = "\n\nphone;first_name\n\n0612345678;Ann\n;;\n   ;\n\n0612345679;Bob";
    assert_int_equal (s_run_str (f, csv), 2);
    assert_int_equal (f->seen[0].line, 5);
    assert_int_equal (f->seen[1].index, 1);
    assert_int_equal (f->seen[1].line, 9);
}

static void
test_no_phone_column_is_refused_with_a_reason (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (s_run_str (f, "name,email\nAnn,a@b.fr\n"), PL_EINVAL);
    assert_int_equal (f->n, 0);
    assert_true (f->has_fatal);
    assert_int_equal (f->fatal.line, 1);
    assert_non_null (strstr (f->fatal.message, "no phone column"));

    /* a file without header and without mapping: its first row is no header */
    assert_int_equal (s_run_str (f, "0612345678;Dupont;Jean\n0612345679;Durand;Luc\n"),
                      PL_EINVAL);
    assert_true (f->has_fatal);
    assert_int_equal (s_run_str (f, ""), 0);                  /* empty file: no items */
}

static void
test_unknown_columns_are_kept_or_refused (void **state)
{
    fixture_t *f = *state;
    const char *csv = "phone,Segment,,Note client\n0612345678,gold,x,VIP,extra\n";
    assert_int_equal (s_run_str (f, csv), 1);
    const Plateau__V1__Lead *l = s_lead (f, 0);
    assert_string_equal (s_custom (l, "Segment"), "gold");
    assert_string_equal (s_custom (l, "column_3"), "x");      /* no header */
    assert_string_equal (s_custom (l, "Note client"), "VIP");
    assert_string_equal (s_custom (l, "column_5"), "extra");  /* beyond the header */

    f->opts.reject_unknown = true;
    assert_int_equal (s_run_str (f, csv), PL_EINVAL);
    assert_true (f->has_fatal);
    assert_string_equal (f->fatal.code, INTAKE_E_UNKNOWN_FIELD);
    assert_int_equal (f->fatal.line, 1);
    assert_int_equal (f->fatal.column, 2);
    assert_string_equal (f->fatal.header, "Segment");

    assert_int_equal (s_run_str (f, "phone,Ville\n0612345678,Lyon\n0612345679,Nice,oops\n"), 2);
    assert_string_equal (s_custom (s_lead (f, 0), "city"), "Lyon");
    const seen_t *s = &f->seen[1];
    assert_null (s->lead);
    assert_string_equal (s->errors.items[0].code, INTAKE_E_EXTRA_COLUMN);
    assert_int_equal (s->errors.items[0].column, 3);
    assert_int_equal (s->errors.items[0].line, 3);
}

static void
test_over_long_record_is_rejected_alone (void **state)
{
    fixture_t *f = *state;
    f->copts.max_record = 64;
    char csv[512];
    char big[200];
    memset (big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    snprintf (csv, sizeof csv, "phone,note\n0612345678,a\n0612345679,\"%s\n%s\"\n0612345670,c\n",
              big, big);
    assert_int_equal (s_run_str (f, csv), 3);
    assert_non_null (f->seen[0].lead);
    assert_null (f->seen[1].lead);
    assert_string_equal (f->seen[1].errors.items[0].code, INTAKE_E_TOO_LONG);
    assert_int_equal (f->seen[1].line, 3);
    assert_int_equal (f->seen[2].line, 5);
    assert_non_null (f->seen[2].lead);
}

static void
test_item_limit_and_utf16_end_decoding (void **state)
{
    fixture_t *f = *state;
    f->copts.max_items = 2;
    assert_int_equal (s_run_str (f, "phone\n0612345678\n0612345679\n0612345670\n"), PL_ETOOBIG);
    assert_int_equal (f->n, 2);
    assert_string_equal (f->fatal.code, INTAKE_E_TOO_BIG);
    f->copts.max_items = 0;

    const char utf16[] = "\xFF\xFEp\0h\0o\0n\0e\0\n\0";
    assert_int_equal (s_run (f, utf16, sizeof utf16 - 1, 4096), PL_EINVAL);
    assert_non_null (strstr (f->fatal.message, "UTF-16"));
}

/* ------------------------------------------------------------------------------------------- */
/* Mappings                                                                                     */

/* A VICIdial standard lead file row (25 columns) with `d` between columns. */
static void
s_vicidial_row (char *out, size_t size, char d, const char *code, const char *number,
                const char *alt)
{
    const char *cols[25] = {"VL-7", "src", "1001", code, number, "Mme", "Hélène", "M",
                            "Dupont", "12 rue A", "Bât B", "", "Paris", "", "", "75002", "FRA",
                            "F", "1980-04-01", alt, "h@example.fr", "", "rappeler après 18h",
                            "3", "agent7"};
    size_t used = 0;
    for (int i = 0; i < 25; i++)
        used += (size_t) snprintf (out + used, size - used, "%s%s", i ? (char[2]) {d, 0} : "",
                                   cols[i]);
    snprintf (out + used, size - used, "\n");
}

static void
test_vicidial_mapping_reads_tab_and_pipe_files (void **state)
{
    fixture_t *f = *state;
    f->copts.mapping = "vicidial";
    static const char delims[] = {'\t', '|', ','};
    for (size_t k = 0; k < sizeof delims; k++) {
        char csv[2048], row[1024];
        s_vicidial_row (row, sizeof row, delims[k], "33", "612345678", "0123456789");
        snprintf (csv, sizeof csv, "%s", row);
        s_vicidial_row (row, sizeof row, delims[k], "1", "4155550123", "");
        strncat (csv, row, sizeof csv - strlen (csv) - 1);
        s_vicidial_row (row, sizeof row, delims[k], "", "0612", "");
        strncat (csv, row, sizeof csv - strlen (csv) - 1);
        assert_int_equal (s_run_str (f, csv), 3);
        assert_int_equal (f->delimiter, delims[k]);

        const Plateau__V1__Lead *l = s_lead (f, 0);
        assert_string_equal (l->external_id, "VL-7");
        assert_string_equal (l->phone->e164, "+33612345678");
        assert_string_equal (l->alt_phones[0]->e164, "+33123456789");
        assert_string_equal (l->first_name, "Hélène");
        assert_string_equal (l->last_name, "Dupont");
        assert_string_equal (l->address, "12 rue A, Bât B");
        assert_string_equal (l->postal_code, "75002");
        assert_string_equal (l->email, "h@example.fr");
        assert_string_equal (s_custom (l, "city"), "Paris");
        assert_string_equal (s_custom (l, "list_id"), "1001");
        assert_string_equal (s_custom (l, "country_code"), "FRA");
        assert_string_equal (s_custom (l, "comments"), "rappeler après 18h");
        assert_string_equal (s_custom (l, "owner"), "agent7");

        assert_string_equal (s_lead (f, 1)->phone->e164, "+14155550123");

        const seen_t *s = &f->seen[2];
        assert_null (s->lead);
        assert_int_equal (s->line, 3);
        assert_int_equal (s_err (s, "phone")->column, 5);
        assert_string_equal (s_err (s, "phone")->header, "phone_number");
    }
}

static void
test_user_mappings (void **state)
{
    fixture_t *f = *state;
    const char *cols[] = {"external_id", "phone", "-", "custom.segment", "alt_phones",
                          "alt_phones", "debt.balance", "debt.currency", "consent.scope",
                          "consent.captured_at"};
    assert_int_equal (intake_mappings_add (f->mappings, "crm-one", cols, 10), 0);
    f->copts.mapping = "crm-one";
    f->copts.mapping_has_header = true;
    const char *csv = "id;tel;ignored;seg;t2;t3;bal;cur;scope;when\n"
                      "X1;0612345678;secret;gold;0123456789;;12345;EUR;canvassing;"
                      "2026-03-01T10:00:00+01:00\n";
    assert_int_equal (s_run_str (f, csv), 1);
    const Plateau__V1__Lead *l = s_lead (f, 0);
    assert_string_equal (l->external_id, "X1");
    assert_string_equal (s_custom (l, "segment"), "gold");
    assert_null (s_custom (l, "ignored"));
    assert_int_equal (l->n_custom, 1);
    assert_int_equal (l->n_alt_phones, 1);
    assert_int_equal (l->debt->balance->minor_units, 12345);
    assert_int_equal (l->n_consents, 1);
    assert_int_equal (l->consents[0]->captured_at_ms, INT64_C(1772355600000));

    /* errors in mapped columns name the mapping's target */
    assert_int_equal (s_run_str (f, "h\nX2;0612345678;;;;;12,5;EUR;;\n"), 1);
    const intake_error_t *e = s_err (&f->seen[0], "debt.balance");
    assert_non_null (e);
    assert_int_equal (e->column, 7);
    assert_string_equal (e->header, "debt.balance");

    /* bad definitions */
    const char *unknown[] = {"phone", "shoe_size"};
    assert_int_equal (intake_mappings_add (f->mappings, "bad", unknown, 2), PL_EINVAL);
    assert_non_null (strstr (intake_mappings_errstr (f->mappings), "shoe_size"));
    const char *twice[] = {"phone", "email", "email"};
    assert_int_equal (intake_mappings_add (f->mappings, "bad", twice, 3), PL_EINVAL);
    const char *nophone[] = {"email"};
    assert_int_equal (intake_mappings_add (f->mappings, "bad", nophone, 1), PL_EINVAL);
    const char *ok[] = {"phone"};
    assert_int_equal (intake_mappings_add (f->mappings, "Bad Name", ok, 1), PL_EINVAL);
    assert_int_equal (intake_mappings_add (f->mappings, "vicidial", ok, 1), PL_EPERM);
    assert_null (intake_mappings_get (f->mappings, "bad"));

    /* replacing a user mapping */
    assert_int_equal (intake_mappings_add (f->mappings, "crm-one", ok, 1), 0);
    assert_int_equal (intake_mapping_size (intake_mappings_get (f->mappings, "crm-one")), 1);
}

static void
test_unknown_mapping_is_refused (void **state)
{
    fixture_t *f = *state;
    f->copts.mapping = "nope";
    assert_int_equal (s_run_str (f, "0612345678\n"), PL_ENOTFOUND);
    assert_true (f->has_fatal);
    assert_non_null (strstr (f->fatal.message, "nope"));
}

static void
test_header_fold (void **state)
{
    (void) state;
    char out[64];
    intake_csv_fold ("N° de Téléphone", out, sizeof out);
    assert_string_equal (out, "ndetelephone");
    intake_csv_fold ("  E-MAIL ", out, sizeof out);
    assert_string_equal (out, "email");
    intake_csv_fold ("Prénom", out, sizeof out);
    assert_string_equal (out, "prenom");
    intake_csv_fold ("ŒUVRE Æ ß", out, sizeof out);
    assert_string_equal (out, "oeuvreaess");
    intake_col_t col;
    assert_true (intake_csv_column_from_header ("Code Postal", &col));
    assert_int_equal (col.kind, INTAKE_COL_POSTAL_CODE);
    assert_false (intake_csv_column_from_header ("Shoe size", &col));
    assert_int_equal (col.kind, INTAKE_COL_CUSTOM);
    assert_string_equal (col.key, "Shoe size");
}

int
main (void)
{
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        T (test_windows_1252_semicolon_crlf_sheet_imports_with_accents),
        T (test_windows_1252_sheet_behind_a_bom_imports_with_accents),
        T (test_utf8_sheet_with_bom_imports_with_accents),
        T (test_any_chunking_gives_the_same_items),
        T (test_header_names_are_recognised_in_english_and_french),
        T (test_callee_column_is_recognised_and_checked),
        T (test_delimiter_is_detected_among_comma_semicolon_tab_pipe),
        T (test_excel_sep_line_names_the_delimiter),
        T (test_errors_never_echo_binary_bytes),
        T (test_quoted_fields_span_lines_and_lines_stay_right),
        T (test_unterminated_quote_is_a_rejected_row_with_its_line),
        T (test_bare_quotes_inside_a_field_are_literal),
        T (test_blank_rows_are_skipped_and_not_counted),
        T (test_no_phone_column_is_refused_with_a_reason),
        T (test_unknown_columns_are_kept_or_refused),
        T (test_over_long_record_is_rejected_alone),
        T (test_item_limit_and_utf16_end_decoding),
        T (test_vicidial_mapping_reads_tab_and_pipe_files),
        T (test_user_mappings),
        T (test_unknown_mapping_is_refused),
        T (test_header_fold),
    };
#undef T
    return cmocka_run_group_tests_name ("intake_csv", tests, NULL, NULL);
}
