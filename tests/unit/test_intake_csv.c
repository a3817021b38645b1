/*  test_intake_csv.c — streamed CSV files (csv_decode.c, csv_mapping.c).
 *
 *  The files French spreadsheets really write (Windows-1252, semicolons, CRLF, with or without a
 *  BOM) import with their accents intact; every rejected row names its line, column and header;
 *  good rows pass whatever their neighbours do; the result does not depend on how the body is
 *  cut into chunks. The exports of five CRMs are recognised from their headers (or named with a
 *  mapping) and give each lead its CRM id, every number in a fixed order, the postal code and
 *  the country, named in English or French.
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
    char preset[16];                    /* the CRM preset the header was read with, or "" */
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
    snprintf (f->preset, sizeof f->preset, "%s", intake_csv_preset (d) ? intake_csv_preset (d) : "");
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
    /* "crm/…": the CRM export samples of tests/data/crm */
    if (strncmp (name, "crm/", 4) == 0)
        snprintf (path, sizeof path, "%s/tests/data/%s", root ? root : ".", name);
    else
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
    /* A header label with control bytes, which still names its column (folding drops them),
     * echoed in a row's error as the column's header. */
    const char labels[] = "phone,last_name,coun\x01try\n0612345678,A,Atlantis\n";
    assert_int_equal (s_run (f, labels, sizeof labels - 1, 1 << 16), 1);
    assert_null (f->seen[0].lead);
    const intake_error_t *e = s_err (&f->seen[0], "country");
    assert_non_null (e);
    assert_string_equal (e->header, "coun?try");
    for (size_t i = 0; i < f->seen[0].errors.count; i++)
        s_assert_text (f->seen[0].errors.items[i].header);
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
    assert_string_equal (f->fatal.field, "mapping");
    assert_non_null (strstr (f->fatal.message, "'nope'"));
    /* what could have been named */
    assert_non_null (strstr (f->fatal.message, "vicidial, dynamics, hubspot, pipedrive, zoho, "
                                               "salesforce"));
}

/* ------------------------------------------------------------------------------------------- */
/* CRM exports (tests/data/crm, docs/crm.md)                                                    */

typedef struct {
    const char *external_id;
    const char *phones[5];              /* phone, then alt_phones, in order */
    const char *postal_code;
    const char *country;
    const char *state;                  /* NULL: none */
} crm_row_t;

typedef struct {
    const char *file;
    const char *preset;
    size_t nrows;
    crm_row_t rows[4];
} crm_file_t;

/* What each sample must give: the main phone first, then mobile, home, work, other; a row
 * whose main phone is empty starts with the next number it has. */
static const crm_file_t s_crm_files[] = {
    {"crm/salesforce_leads.csv", "salesforce", 4, {
        {"00Q8d00000LxQ1aEAF", {"+33199001234", "+33612981234"}, "69003", "FR", NULL},
        {"00Q8d00000LxQ1bEAF", {"+12125550108", "+19175550119"}, "10001", "US", "NY"},
        {"00Q8d00000LxQ1cEAF", {"+447911123123"}, "SW1A 0AA", "GB", NULL},
        {"00Q8d00000LxQ1dEAF", {"+33612984567"}, "44000", "FR", NULL}}},
    {"crm/salesforce_contacts.csv", "salesforce", 3, {
        {"0038d00000QmZ7aAAF", {"+13055550121", "+17865550134", "+13055550177"}, "33131", "US",
         "FL"},
        {"0038d00000QmZ7bAAF", {"+33199003456", "+33612983456", "+33199003457", "+33612983458"},
         "75011", "FR", NULL},
        {"0038d00000QmZ7cAAF", {"+447911123234", "+442079460321", "+447911123235"}, "CA12 5BX",
         "GB", NULL}}},
    {"crm/hubspot_contacts.csv", "hubspot", 4, {
        {"51234567801", {"+13055550142", "+17865550150"}, "33131", "US", "Florida"},
        {"51234567802", {"+33199002345", "+33612982345"}, "59000", "FR", NULL},
        {"51234567803", {"+447911123456"}, "M3 2BW", "GB", NULL},
        {"51234567804", {"+15125550187"}, "78701", "US", "Texas"}}},
    {"crm/zoho_contacts.csv", "zoho", 4, {
        {"zcrm_5725767000000412001", {"+33199004567", "+33612984560", "+33199004568"}, "33000",
         "FR", NULL},
        {"zcrm_5725767000000412002", {"+17865550112", "+13055550113"}, "33130", "US", "FL"},
        {"zcrm_5725767000000412003", {"+442079460456", "+447911123345"}, "BS1 4DJ", "GB", NULL},
        {"zcrm_5725767000000412004", {"+33199005678"}, "31000", "FR", NULL}}},
    {"crm/dynamics_leads.csv", "dynamics", 3, {
        {"3f2b8c1e-6a4d-ef11-8409-000d3a5c7b01", {"+14045550131", "+16785550132"}, "30303", "US",
         "GA"},
        {"3f2b8c1e-6a4d-ef11-8409-000d3a5c7b02", {"+33612985678", "+33199006789"}, "35000", "FR",
         NULL},
        {"3f2b8c1e-6a4d-ef11-8409-000d3a5c7b03", {"+441614960123", "+447911123567"}, "M3 3HN",
         "GB", NULL}}},
    {"crm/pipedrive_persons.csv", "pipedrive", 3, {
        {"1042", {"+33612987890", "+33199007890"}, "44000", "FR", "Pays de la Loire"},
        {"1043", {"+17255550146", "+17025550145", "+17025550144"}, "89109", "US", "Nevada"},
        {"1044", {"+447911123678", "+442079460678"}, "B1 2JP", "GB", NULL}}},
};

static void
s_check_crm_file (fixture_t *f, const crm_file_t *cf)
{
    assert_string_equal (f->preset, cf->preset);
    assert_int_equal (f->n, cf->nrows);
    for (size_t i = 0; i < cf->nrows; i++) {
        const crm_row_t *want = &cf->rows[i];
        const Plateau__V1__Lead *l = s_lead (f, i);
        assert_string_equal (l->external_id, want->external_id);
        assert_string_equal (l->phone->e164, want->phones[0]);
        size_t nalt = 0;
        while (nalt + 1 < 5 && want->phones[nalt + 1])
            nalt++;
        if (l->n_alt_phones != nalt)
            fail_msg ("%s row %zu: %zu alt phones, want %zu", cf->file, i + 1, l->n_alt_phones,
                      nalt);
        for (size_t k = 0; k < nalt; k++)
            assert_string_equal (l->alt_phones[k]->e164, want->phones[k + 1]);
        assert_string_equal (l->postal_code, want->postal_code);
        assert_string_equal (l->country, want->country);
        assert_string_equal (l->state, want->state ? want->state : "");
    }
}

/* Every sample is recognised from its header with FR as the source's default region: the
 * Miami number of the HubSpot export is read as American because its Country/Region says so. */
static void
test_crm_exports_are_recognised_from_their_headers (void **state)
{
    fixture_t *f = *state;
    for (size_t i = 0; i < sizeof s_crm_files / sizeof s_crm_files[0]; i++) {
        size_t len;
        char *body = s_read_file (s_crm_files[i].file, &len);
        int rc = s_run (f, body, len, 1 << 16);
        if (rc != (int) s_crm_files[i].nrows)
            fail_msg ("%s: %d items (%s)", s_crm_files[i].file, rc,
                      f->has_fatal ? f->fatal.message : "");
        s_check_crm_file (f, &s_crm_files[i]);
        assert_int_equal (s_run (f, body, len, 7), (int) s_crm_files[i].nrows);  /* any chunks */
        s_check_crm_file (f, &s_crm_files[i]);
        free (body);
    }
}

/* What a preset keeps apart: the CRM's other address, fax and assistant numbers, its
 * bookkeeping columns. */
static void
test_crm_columns_that_are_not_the_persons_stay_custom_or_are_dropped (void **state)
{
    fixture_t *f = *state;
    size_t len;
    char *body = s_read_file ("crm/salesforce_contacts.csv", &len);
    assert_int_equal (s_run (f, body, len, 4096), 3);
    const Plateau__V1__Lead *l = s_lead (f, 1);
    assert_string_equal (l->address, "27 boulevard Voltaire");
    assert_string_equal (s_custom (l, "city"), "Paris");
    assert_string_equal (s_custom (l, "Other City"), "Annecy");
    assert_string_equal (s_custom (l, "Other Zip/Postal Code"), "74000");
    assert_string_equal (s_custom (s_lead (f, 0), "Fax"), "(305) 555-0199");
    free (body);

    body = s_read_file ("crm/zoho_contacts.csv", &len);
    assert_int_equal (s_run (f, body, len, 4096), 4);
    assert_int_equal (f->delimiter, ';');
    assert_string_equal (s_custom (s_lead (f, 2), "Asst Phone"), "020 7946 0999");
    assert_string_equal (s_custom (s_lead (f, 0), "Description"), "Rappeler après 18h");
    free (body);

    body = s_read_file ("crm/dynamics_leads.csv", &len);
    assert_int_equal (s_run (f, body, len, 4096), 3);
    assert_true (f->bom);
    l = s_lead (f, 0);
    assert_null (s_custom (l, "(Do Not Modify) Row Checksum"));
    assert_null (s_custom (l, "(Do Not Modify) Modified On"));
    assert_string_equal (s_custom (l, "Topic"), "Fleet leasing");
    assert_string_equal (l->address, "191 Peachtree St NE");
    free (body);

    body = s_read_file ("crm/pipedrive_persons.csv", &len);
    assert_int_equal (s_run (f, body, len, 4096), 3);
    l = s_lead (f, 0);
    assert_string_equal (l->first_name, "Manon");
    assert_string_equal (l->last_name, "Leroy");
    assert_string_equal (l->email, "manon.leroy@example.fr");
    /* one e-mail per lead: the first e-mail column; the others are kept as they are */
    assert_string_equal (s_lead (f, 2)->email, "");
    assert_string_equal (s_custom (s_lead (f, 2), "Person - Email - Home"),
                         "fiona.marsh@example.co.uk");
    assert_string_equal (l->address, "15 quai de la Fosse, 44000 Nantes, France");
    assert_string_equal (s_custom (l, "city"), "Nantes");
    assert_string_equal (s_custom (l, "Person - Organization"), "Leroy Conseil");
    free (body);
}

/* An export whose header does not give its CRM away (Salesforce's Data Loader writes API names)
 * is read by the preset named with a mapping; without it the general names read what they
 * know and keep the rest. */
static void
test_a_crm_preset_is_named_with_the_mapping (void **state)
{
    fixture_t *f = *state;
    const char *csv = "Id,FirstName,LastName,Phone,MobilePhone,HomePhone,MailingPostalCode,"
                      "MailingState,MailingCountry\n"
                      "0038d00000QmZ9aAAF,Ava,Brooks,,(212) 555-0161,(212) 555-0162,10013,NY,"
                      "United States\n";
    assert_int_equal (s_run_str (f, csv), 1);
    assert_string_equal (f->preset, "");
    /* MailingCountry is no general name: the number is read in the default region, FR */
    assert_null (f->seen[0].lead);
    assert_string_equal (s_err (&f->seen[0], "phone")->code, INTAKE_E_INVALID_NUMBER);

    f->copts.mapping = "salesforce";
    assert_int_equal (s_run_str (f, csv), 1);
    assert_string_equal (f->preset, "salesforce");
    const Plateau__V1__Lead *l = s_lead (f, 0);
    assert_string_equal (l->external_id, "0038d00000QmZ9aAAF");
    assert_string_equal (l->phone->e164, "+12125550161");
    assert_string_equal (l->alt_phones[0]->e164, "+12125550162");
    assert_string_equal (l->postal_code, "10013");
    assert_string_equal (l->state, "NY");
    assert_string_equal (l->country, "US");

    /* a preset named for another CRM's file still reads the general names */
    f->copts.mapping = "pipedrive";
    assert_int_equal (s_run_str (f, "phone;Pays\n06 12 98 11 22;France\n"), 1);
    assert_string_equal (s_lead (f, 0)->phone->e164, "+33612981122");
    assert_string_equal (f->preset, "pipedrive");

    /* a user mapping cannot take a preset's name */
    const char *cols[] = {"phone"};
    assert_int_equal (intake_mappings_add (f->mappings, "hubspot", cols, 1), PL_EPERM);
    assert_true (intake_mappings_known (f->mappings, "zoho"));
    assert_true (intake_mappings_known (f->mappings, "vicidial"));
    assert_false (intake_mappings_known (f->mappings, "sugarcrm"));
}

/* Whatever the columns' order, the numbers follow the CRM's ranks; a file without a preset
 * keeps the order of its columns, and an empty phone cell gives way to the next number. */
static void
test_numbers_follow_the_phone_order_and_an_empty_first_phone_gives_way (void **state)
{
    fixture_t *f = *state;
    f->copts.mapping = "pipedrive";
    const char *csv = "Phone - Other,Phone - Work,Phone - Home,Phone - Mobile\n"
                      "01 99 00 10 04,01 99 00 10 03,01 99 00 10 02,06 12 98 10 01\n"
                      ",,01 99 00 20 02,\n";
    assert_int_equal (s_run_str (f, csv), 2);
    const Plateau__V1__Lead *l = s_lead (f, 0);
    assert_string_equal (l->phone->e164, "+33612981001");
    assert_string_equal (l->alt_phones[0]->e164, "+33199001002");
    assert_string_equal (l->alt_phones[1]->e164, "+33199001003");
    assert_string_equal (l->alt_phones[2]->e164, "+33199001004");
    assert_string_equal (s_lead (f, 1)->phone->e164, "+33199002002");
    assert_int_equal (s_lead (f, 1)->n_alt_phones, 0);

    /* general names: the phone column, then the alternates, each in column order */
    f->copts.mapping = NULL;
    csv = "Alt Phone,Téléphone,Portable\n"
          "01 99 00 30 03,,06 12 98 30 02\n"
          ",,\n";
    assert_int_equal (s_run_str (f, csv), 1);       /* the blank row is skipped */
    l = s_lead (f, 0);
    assert_string_equal (l->phone->e164, "+33612983002");
    assert_string_equal (l->alt_phones[0]->e164, "+33199003003");

    /* an error in a promoted number names its own column */
    assert_int_equal (s_run_str (f, "id,phone,mobile\nX,,06 12\n"), 1);
    const intake_error_t *e = s_err (&f->seen[0], "phone");
    assert_non_null (e);
    assert_int_equal (e->column, 3);
    assert_string_equal (e->header, "mobile");

    /* a row without any number is still refused */
    assert_int_equal (s_run_str (f, "id,phone,mobile\nX,,\n"), 1);
    assert_string_equal (s_err (&f->seen[0], "phone")->code, INTAKE_E_REQUIRED);
}

/* The names a CRM export taught the general table: added, none repurposed. */
static void
test_general_names_read_what_crm_exports_write (void **state)
{
    (void) state;
    static const struct {
        const char *header;
        intake_col_kind_t kind;
    } cases[] = {
        {"Zip/Postal Code", INTAKE_COL_POSTAL_CODE}, {"Mobile Phone Number", INTAKE_COL_PHONE},
        {"Country/Region", INTAKE_COL_COUNTRY}, {"Record ID", INTAKE_COL_EXTERNAL_ID},
        {"State/Region", INTAKE_COL_STATE}, {"Phone Number", INTAKE_COL_PHONE},
        {"Lead ID", INTAKE_COL_EXTERNAL_ID}, {"Code postal", INTAKE_COL_POSTAL_CODE},
    };
    intake_col_t col;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (!intake_csv_column_from_header (cases[i].header, &col) || col.kind != cases[i].kind)
            fail_msg ("'%s' is not read as %s", cases[i].header, intake_col_name (cases[i].kind));
    }
    /* a CRM's second address and its assistant are not the person's */
    assert_false (intake_csv_column_from_header ("Other Zip/Postal Code", &col));
    assert_false (intake_csv_column_from_header ("Asst. Phone", &col));
    assert_false (intake_csv_column_from_header ("Fax", &col));

    /* recognition needs the CRM's id column and one of its own names */
    const char *hubspot[] = {"Record ID", "First Name", "Phone Number", "Country/Region"};
    assert_string_equal (intake_preset_name (intake_preset_detect (hubspot, 4)), "hubspot");
    const char *sheet[] = {"Record ID", "Téléphone", "Pays"};
    assert_null (intake_preset_detect (sheet, 3));
    const char *dyn[] = {"(Do Not Modify) Contact", "Full Name", "Business Phone"};
    assert_string_equal (intake_preset_name (intake_preset_detect (dyn, 3)), "dynamics");
    assert_null (intake_preset_get ("sugarcrm"));
}

/* The country column takes English and French names and ISO codes; a name it does not know
 * rejects its row, naming column and header, rather than reading the numbers in the default
 * region. */
static void
test_crm_country_names_in_english_and_french (void **state)
{
    fixture_t *f = *state;
    const char *csv = "Record ID,Phone Number,Country/Region\n"
                      "1,(305) 555-0142,États-Unis\n"
                      "2,020 7946 0111,Royaume-Uni\n"
                      "3,030 901820,Allemagne\n"
                      "4,030 901821,Germany\n"
                      "5,(212) 555-0170,U.S.\n"
                      "6,0692 12 34 56,La Réunion\n"
                      "7,06 12 98 40 01,fr\n"
                      "8,(305) 555-0143,Estados Unidos\n";
    assert_int_equal (s_run_str (f, csv), 8);
    static const char *const want[][2] = {{"US", "+13055550142"}, {"GB", "+442079460111"},
                                          {"DE", "+4930901820"}, {"DE", "+4930901821"},
                                          {"US", "+12125550170"}, {"RE", "+262692123456"},
                                          {"FR", "+33612984001"}};
    for (size_t i = 0; i < 7; i++) {
        const Plateau__V1__Lead *l = s_lead (f, i);
        assert_string_equal (l->country, want[i][0]);
        assert_string_equal (l->phone->e164, want[i][1]);
    }
    const seen_t *s = &f->seen[7];
    assert_null (s->lead);
    const intake_error_t *e = s_err (s, "country");
    assert_non_null (e);
    assert_string_equal (e->code, INTAKE_E_INVALID_COUNTRY);
    assert_int_equal (e->line, 9);
    assert_int_equal (e->column, 3);
    assert_string_equal (e->header, "Country/Region");
    assert_non_null (strstr (e->message, "'Estados Unidos'"));
    assert_non_null (strstr (e->message, "write its code"));
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
        T (test_crm_exports_are_recognised_from_their_headers),
        T (test_crm_columns_that_are_not_the_persons_stay_custom_or_are_dropped),
        T (test_a_crm_preset_is_named_with_the_mapping),
        T (test_numbers_follow_the_phone_order_and_an_empty_first_phone_gives_way),
        T (test_general_names_read_what_crm_exports_write),
        T (test_crm_country_names_in_english_and_french),
        T (test_header_fold),
    };
#undef T
    return cmocka_run_group_tests_name ("intake_csv", tests, NULL, NULL);
}
