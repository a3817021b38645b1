/*  test_intake_ndjson.c — streamed NDJSON: one lead per line (ndjson_decode.c).
 *
 *  The same body must give the same items however it is cut into chunks; a bad line is one
 *  rejected item with its line and column, and the lines after it still count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ndjson_decode.h"
#include "plateau/error.h"

typedef struct {
    size_t index;
    size_t line;
    char e164[24];
    char callee[16];
    char field[64];
    char code[32];
    size_t err_line;
    size_t err_column;
} seen_t;

typedef struct {
    pl_phone_t *phone;
    intake_lead_opts_t opts;
    seen_t seen[64];
    size_t n;
} fixture_t;

static int
s_collect (void *arg, const intake_item_t *item)
{
    fixture_t *f = arg;
    if (f->n < 64) {
        seen_t *s = &f->seen[f->n];
        memset (s, 0, sizeof *s);
        s->index = item->index;
        s->line = item->line;
        if (item->lead) {
            snprintf (s->e164, sizeof s->e164, "%s", item->lead->phone->e164);
            snprintf (s->callee, sizeof s->callee, "%s", item->lead->callee);
        }
        else {
            snprintf (s->field, sizeof s->field, "%s", item->errors->items[0].field);
            snprintf (s->code, sizeof s->code, "%s", item->errors->items[0].code);
            s->err_line = item->errors->items[0].line;
            s->err_column = item->errors->items[0].column;
        }
    }
    f->n++;
    Plateau__V1__Lead *lead = item->lead;
    intake_lead_free (&lead);
    return 0;
}

static int
s_setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    if (!f)
        return -1;
    f->phone = pl_phone_new ();
    f->opts = (intake_lead_opts_t) {.phone = f->phone, .default_campaign = "c1",
                                    .default_country = "FR"};
    *state = f;
    return f->phone ? 0 : -1;
}

static int
s_teardown (void **state)
{
    fixture_t *f = *state;
    pl_phone_destroy (&f->phone);
    free (f);
    return 0;
}

/* Feeds `body` in chunks of `chunk` bytes; returns finish()'s result. */
static int
s_run (fixture_t *f, const char *body, size_t len, size_t chunk, size_t max_line, size_t max_items)
{
    f->n = 0;
    intake_ndjson_t *d = intake_ndjson_new (&f->opts, s_collect, f);
    assert_non_null (d);
    intake_ndjson_set_limits (d, max_line, max_items);
    int rc = 0;
    for (size_t at = 0; at < len && rc == 0; at += chunk)
        rc = intake_ndjson_feed (d, body + at, len - at < chunk ? len - at : chunk);
    if (rc == 0)
        rc = intake_ndjson_finish (d);
    intake_ndjson_destroy (&d);
    assert_null (d);
    intake_ndjson_destroy (&d);
    return rc;
}

static const char s_body[] =
    "{\"phone\": \"06 12 34 56 78\"}\n"
    "\n"
    "{\"phone\": \"+44 20 7946 0000\", \"first_name\": \"Æthelred\"}\r\n"
    "{\"phone\": \"0612345678\" \"x\": 1}\n"
    "   \n"
    "[\"not\", \"an object\"]\n"
    "{\"phone\": \"12\"}\n"
    "{\"phone\": \"(415) 555-0123\", \"country\": \"US\"}";      /* no final newline */

static void
s_check_body_items (fixture_t *f)
{
    assert_int_equal (f->n, 6);
    assert_string_equal (f->seen[0].e164, "+33612345678");
    assert_int_equal (f->seen[0].line, 1);
    assert_string_equal (f->seen[1].e164, "+442079460000");
    assert_int_equal (f->seen[1].line, 3);
    assert_string_equal (f->seen[2].code, INTAKE_E_MALFORMED);
    assert_int_equal (f->seen[2].line, 4);
    assert_int_equal (f->seen[2].err_line, 4);
    assert_int_equal (f->seen[2].err_column, 26);   /* the end of the unexpected "x" */
    assert_string_equal (f->seen[3].code, INTAKE_E_WRONG_TYPE);
    assert_int_equal (f->seen[3].line, 6);
    assert_string_equal (f->seen[4].field, "phone");
    assert_string_equal (f->seen[4].code, INTAKE_E_INVALID_NUMBER);
    assert_int_equal (f->seen[4].line, 7);
    assert_int_equal (f->seen[4].err_line, 7);
    assert_string_equal (f->seen[5].e164, "+14155550123");
    assert_int_equal (f->seen[5].line, 8);
    for (size_t i = 0; i < 6; i++)
        assert_int_equal (f->seen[i].index, i);
}

static void
test_lines_are_items_and_bad_lines_do_not_stop_the_rest (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (s_run (f, s_body, strlen (s_body), 4096, 0, 0), 6);
    s_check_body_items (f);
}

static void
test_any_chunking_gives_the_same_items (void **state)
{
    fixture_t *f = *state;
    static const size_t chunks[] = {1, 2, 3, 7, 16, 31, 64};
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        assert_int_equal (s_run (f, s_body, strlen (s_body), chunks[i], 0, 0), 6);
        s_check_body_items (f);
    }
}

/* The callee of each line is read as in JSON; a line with a bad one is rejected with its line,
 * the lines after it still count. */
static void
test_callee_is_read_per_line_and_a_bad_one_rejected_alone (void **state)
{
    fixture_t *f = *state;
    const char *body = "{\"phone\": \"0612345678\", \"callee\": \"consumer\"}\n"
                       "{\"phone\": \"0612345679\", \"callee\": \"BUSINESS\"}\n"
                       "{\"phone\": \"0612345670\", \"callee\": \"corporate\"}\n"
                       "{\"phone\": \"0612345671\", \"callee\": \"sole-trader\"}\n"
                       "{\"phone\": \"0612345672\", \"callee\": 2}\n";
    assert_int_equal (s_run (f, body, strlen (body), 7, 0, 0), 5);
    assert_string_equal (f->seen[0].callee, "consumer");
    assert_string_equal (f->seen[1].callee, "business");
    assert_string_equal (f->seen[2].field, "callee");
    assert_string_equal (f->seen[2].code, INTAKE_E_INVALID_VALUE);
    assert_int_equal (f->seen[2].line, 3);
    assert_int_equal (f->seen[2].err_line, 3);
    assert_string_equal (f->seen[3].e164, "+33612345671");
    assert_string_equal (f->seen[3].callee, "sole-trader");
    assert_string_equal (f->seen[4].field, "callee");
    assert_string_equal (f->seen[4].code, INTAKE_E_WRONG_TYPE);
    assert_int_equal (f->seen[4].line, 5);
}

static void
test_too_long_line_is_rejected_and_memory_stays_bounded (void **state)
{
    fixture_t *f = *state;
    size_t big = 10000;
    char *body = malloc (big + 200);
    assert_non_null (body);
    strcpy (body, "{\"phone\": \"0612345678\"}\n{\"phone\": \"0612345678\", \"note\": \"");
    size_t len = strlen (body);
    memset (body + len, 'x', big);
    len += big;
    strcpy (body + len, "\"}\n{\"phone\": \"0612345679\"}\n");
    len += strlen (body + len);
    assert_int_equal (s_run (f, body, len, 1000, 1024, 0), 3);
    assert_string_equal (f->seen[0].e164, "+33612345678");
    assert_string_equal (f->seen[1].code, INTAKE_E_TOO_LONG);
    assert_int_equal (f->seen[1].line, 2);
    assert_string_equal (f->seen[2].e164, "+33612345679");
    assert_int_equal (f->seen[2].line, 3);
    free (body);
}

static void
test_bom_is_skipped_even_split_across_chunks (void **state)
{
    fixture_t *f = *state;
    const char *body = "\xEF\xBB\xBF{\"phone\": \"0612345678\"}\n";
    assert_int_equal (s_run (f, body, strlen (body), 1, 0, 0), 1);
    assert_string_equal (f->seen[0].e164, "+33612345678");
}

static void
test_item_limit_ends_decoding (void **state)
{
    fixture_t *f = *state;
    const char *body = "{\"phone\": \"0612345678\"}\n{\"phone\": \"0612345679\"}\n"
                       "{\"phone\": \"0612345670\"}\n";
    assert_int_equal (s_run (f, body, strlen (body), 4096, 0, 2), PL_ETOOBIG);
    assert_int_equal (f->n, 2);

    intake_ndjson_t *d = intake_ndjson_new (&f->opts, s_collect, f);
    intake_ndjson_set_limits (d, 0, 1);
    f->n = 0;
    assert_int_equal (intake_ndjson_feed (d, body, strlen (body)), PL_ETOOBIG);
    assert_int_equal (intake_ndjson_feed (d, "x", 1), PL_ECLOSED);
    assert_int_equal (intake_ndjson_finish (d), PL_ECLOSED);
    assert_non_null (strstr (intake_ndjson_errstr (d), "more than 1"));
    intake_ndjson_destroy (&d);
}

static void
test_empty_body_has_no_items (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (s_run (f, "", 0, 1, 0, 0), 0);
    assert_int_equal (s_run (f, "\n\r\n  \n", 6, 1, 0, 0), 0);
    assert_int_equal (f->n, 0);
}

static void
test_counts (void **state)
{
    fixture_t *f = *state;
    intake_ndjson_t *d = intake_ndjson_new (&f->opts, s_collect, f);
    assert_int_equal (intake_ndjson_feed (d, s_body, strlen (s_body)), 0);
    assert_int_equal (intake_ndjson_items (d), 5);         /* the last line is not complete */
    assert_int_equal (intake_ndjson_lines (d), 7);
    assert_int_equal (intake_ndjson_finish (d), 6);
    assert_int_equal (intake_ndjson_lines (d), 8);
    intake_ndjson_destroy (&d);
}

static void
test_a_line_over_a_lead_limit_is_rejected_before_its_dom_is_built (void **state)
{
    fixture_t *f = *state;
    /* 1,000 custom keys fit in a 64 KiB line; more than any lead may have */
    char *body = malloc (64 * 1024);
    assert_non_null (body);
    strcpy (body, "{\"phone\": \"0612345678\"}\n{\"phone\": \"0612345679\", \"custom\": {");
    for (int i = 0; i < 1000; i++)
        sprintf (body + strlen (body), "%s\"k%d\":1", i ? "," : "", i);
    strcat (body, "}}\n{\"phone\": \"0612345670\"}\n");
    assert_int_equal (s_run (f, body, strlen (body), 4096, 0, 0), 3);
    assert_string_equal (f->seen[0].e164, "+33612345678");
    assert_string_equal (f->seen[1].code, "too_many_keys");
    assert_int_equal (f->seen[1].err_line, 2);
    assert_true (f->seen[1].err_column > 256 * 6);
    assert_string_equal (f->seen[2].e164, "+33612345670");
    free (body);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_a_line_over_a_lead_limit_is_rejected_before_its_dom_is_built, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_lines_are_items_and_bad_lines_do_not_stop_the_rest,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_any_chunking_gives_the_same_items, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_callee_is_read_per_line_and_a_bad_one_rejected_alone,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_too_long_line_is_rejected_and_memory_stays_bounded,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_bom_is_skipped_even_split_across_chunks, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_item_limit_ends_decoding, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_empty_body_has_no_items, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_counts, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name ("intake_ndjson", tests, NULL, NULL);
}
