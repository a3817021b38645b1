/*  test_intake_json.c — JSON request bodies: one lead or {"leads": […]} (json_decode.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_decode.h"
#include "plateau/error.h"

/* What the callback saw, in order. */
typedef struct {
    size_t index;
    size_t line;
    char e164[24];              /* accepted: the lead's number */
    char callee[16];            /* accepted: who is called, as stored */
    char field[64];             /* rejected: first error */
    char code[32];
    size_t nerrors;
} seen_t;

typedef struct {
    pl_phone_t *phone;
    intake_lead_opts_t opts;
    seen_t seen[64];
    size_t n;
    size_t stop_after;          /* the callback stops after this many items (0: never) */
    bool batch;
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
            assert_null (item->errors);
        }
        else {
            assert_non_null (item->errors);
            assert_true (item->errors->count >= 1);
            snprintf (s->field, sizeof s->field, "%s", item->errors->items[0].field);
            snprintf (s->code, sizeof s->code, "%s", item->errors->items[0].code);
            s->nerrors = item->errors->count;
        }
    }
    f->n++;
    Plateau__V1__Lead *lead = item->lead;           /* ours now */
    intake_lead_free (&lead);
    if (f->stop_after && f->n >= f->stop_after)
        return PL_ECLOSED;
    return 0;
}

static int
s_setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    if (!f)
        return -1;
    f->phone = pl_phone_new ();
    f->opts = (intake_lead_opts_t) {.phone = f->phone, .source = "crm", .default_campaign = "c1",
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

static int
s_decode (fixture_t *f, const char *body, size_t max, intake_error_t *fatal)
{
    f->n = 0;
    f->batch = false;
    return intake_json_decode (body, strlen (body), &f->opts, max, s_collect, f, &f->batch, fatal);
}

/* ------------------------------------------------------------------------------------------- */

static void
test_single_lead_body_gives_one_item (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (s_decode (f, "{\"phone\": \"06 12 34 56 78\"}", 0, NULL), 1);
    assert_false (f->batch);
    assert_int_equal (f->n, 1);
    assert_int_equal (f->seen[0].index, 0);
    assert_int_equal (f->seen[0].line, 0);
    assert_string_equal (f->seen[0].e164, "+33612345678");

    /* a rejected single lead is still an item (422 for the HTTP layer), not a parse error */
    assert_int_equal (s_decode (f, "{\"phone\": \"06\"}", 0, NULL), 1);
    assert_string_equal (f->seen[0].field, "phone");
    assert_string_equal (f->seen[0].code, INTAKE_E_INVALID_NUMBER);
}

static void
test_batch_items_come_out_in_input_order_good_ones_accepted (void **state)
{
    fixture_t *f = *state;
    const char *body = "{\"leads\": ["
                       "{\"phone\": \"0612345678\"},"
                       "{\"phone\": \"12\"},"
                       "[1, 2],"
                       "{\"phone\": \"+44 20 7946 0000\"},"
                       "{\"phone\": \"0123456789\", \"email\": \"bad\"}"
                       "]}";
    assert_int_equal (s_decode (f, body, 0, NULL), 5);
    assert_true (f->batch);
    assert_int_equal (f->n, 5);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal (f->seen[i].index, i);
    assert_string_equal (f->seen[0].e164, "+33612345678");
    assert_string_equal (f->seen[1].code, INTAKE_E_INVALID_NUMBER);
    assert_string_equal (f->seen[2].code, INTAKE_E_WRONG_TYPE);
    assert_string_equal (f->seen[3].e164, "+442079460000");
    assert_string_equal (f->seen[4].field, "email");
}

/* A callee that is not one of the three names refuses its lead alone, naming the field; the
 * good leads around it are kept with theirs. */
static void
test_batch_callee_values_are_kept_and_a_bad_one_rejected_alone (void **state)
{
    fixture_t *f = *state;
    const char *body = "{\"leads\": ["
                       "{\"phone\": \"0612345678\", \"callee\": \"consumer\"},"
                       "{\"phone\": \"0612345679\", \"callee\": \"business\"},"
                       "{\"phone\": \"0612345670\", \"callee\": \"b2c\"},"
                       "{\"phone\": \"0612345671\", \"callee\": \"Sole_Trader\"},"
                       "{\"phone\": \"0612345672\"}"
                       "]}";
    assert_int_equal (s_decode (f, body, 0, NULL), 5);
    assert_string_equal (f->seen[0].callee, "consumer");
    assert_string_equal (f->seen[1].callee, "business");
    assert_string_equal (f->seen[2].field, "callee");
    assert_string_equal (f->seen[2].code, INTAKE_E_INVALID_VALUE);
    assert_int_equal (f->seen[2].nerrors, 1);
    assert_string_equal (f->seen[3].e164, "+33612345671");
    assert_string_equal (f->seen[3].callee, "sole-trader");
    assert_string_equal (f->seen[4].e164, "+33612345672");
    assert_string_equal (f->seen[4].callee, "");
}

static void
test_malformed_json_names_line_and_column (void **state)
{
    fixture_t *f = *state;
    intake_error_t fatal;
    const char *body = "{\"leads\": [\n"
                       "  {\"phone\": \"0612345678\"},\n"
                       "  {\"phone\": \"0612345678\" \"email\": \"a@b.fr\"}\n"
                       "]}";
    assert_int_equal (s_decode (f, body, 0, &fatal), PL_EINVAL);
    assert_int_equal (f->n, 0);                    /* nothing emitted */
    assert_string_equal (fatal.code, INTAKE_E_MALFORMED);
    assert_int_equal (fatal.line, 3);
    assert_int_equal (fatal.column, 32);       /* the end of the unexpected token */
    assert_non_null (strstr (fatal.message, "malformed JSON"));

    assert_int_equal (s_decode (f, "", 0, &fatal), PL_EINVAL);
    assert_int_equal (s_decode (f, "{\"phone\": \"1\"} trailing", 0, &fatal), PL_EINVAL);
    assert_int_equal (s_decode (f, "{\"phone\": \"1\", \"phone\": \"2\"}", 0, &fatal), PL_EINVAL);
    assert_non_null (strstr (fatal.message, "duplicate"));
    assert_int_equal (s_decode (f, "{\"phone\": \"\\u0000\"}", 0, &fatal), PL_EINVAL);
    assert_int_equal (s_decode (f, "{\"phone\": \"\xff\"}", 0, &fatal), PL_EINVAL);
}

static void
test_wrong_shapes_are_refused_whole (void **state)
{
    fixture_t *f = *state;
    intake_error_t fatal;
    assert_int_equal (s_decode (f, "[{\"phone\": \"0612345678\"}]", 0, &fatal), PL_EINVAL);
    assert_string_equal (fatal.code, INTAKE_E_WRONG_TYPE);
    assert_int_equal (s_decode (f, "\"0612345678\"", 0, &fatal), PL_EINVAL);
    assert_int_equal (s_decode (f, "{\"leads\": {\"phone\": \"0612345678\"}}", 0, &fatal),
                      PL_EINVAL);
    assert_int_equal (s_decode (f, "{\"leads\": [], \"campaign\": \"x\"}", 0, &fatal), PL_EINVAL);
    assert_int_equal (f->n, 0);
    assert_int_equal (s_decode (f, "{\"leads\": []}", 0, &fatal), 0);
}

static void
test_batch_over_the_limit_is_refused_before_any_item (void **state)
{
    fixture_t *f = *state;
    intake_error_t fatal;
    const char *body = "{\"leads\": [{\"phone\": \"0612345678\"}, {\"phone\": \"0612345679\"},"
                       "{\"phone\": \"0612345670\"}]}";
    assert_int_equal (s_decode (f, body, 2, &fatal), PL_ETOOBIG);
    assert_int_equal (f->n, 0);
    assert_string_equal (fatal.code, INTAKE_E_TOO_BIG);
    assert_int_equal (s_decode (f, body, 3, NULL), 3);

    /* the default limit is 10,000 */
    size_t n = INTAKE_JSON_MAX_ITEMS + 1;
    size_t cap = 16 + n * 4;
    char *big = malloc (cap);
    assert_non_null (big);
    strcpy (big, "{\"leads\":[");
    size_t len = strlen (big);
    for (size_t i = 0; i < n; i++) {
        memcpy (big + len, i ? ",{}" : "{}", i ? 3 : 2);
        len += i ? 3 : 2;
    }
    memcpy (big + len, "]}", 3);
    f->n = 0;
    assert_int_equal (intake_json_decode (big, strlen (big), &f->opts, 0, s_collect, f, NULL,
                                          &fatal),
                      PL_ETOOBIG);
    assert_int_equal (f->n, 0);
    free (big);
}

static void
test_bom_is_tolerated (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (s_decode (f, "\xEF\xBB\xBF{\"phone\": \"0612345678\"}", 0, NULL), 1);
    assert_string_equal (f->seen[0].e164, "+33612345678");
}

static void
test_callback_can_stop_decoding (void **state)
{
    fixture_t *f = *state;
    f->stop_after = 2;
    const char *body = "{\"leads\": [{\"phone\": \"0612345678\"}, {\"phone\": \"0612345679\"},"
                       "{\"phone\": \"0612345670\"}]}";
    assert_int_equal (s_decode (f, body, 0, NULL), PL_ECLOSED);
    assert_int_equal (f->n, 2);
}


/* A body of `n` copies of `item` joined by commas, between head and tail. */
static char *
s_repeat (const char *head, const char *item, size_t n, const char *tail)
{
    size_t il = strlen (item), len = strlen (head);
    char *b = malloc (len + n * (il + 1) + strlen (tail) + 1);
    assert_non_null (b);
    strcpy (b, head);
    for (size_t i = 0; i < n; i++) {
        if (i)
            b[len++] = ',';
        memcpy (b + len, item, il);
        len += il;
    }
    strcpy (b + len, tail);
    return b;
}

static void
test_limits_stop_the_scan_where_they_are_crossed (void **state)
{
    fixture_t *f = *state;
    intake_error_t fatal;

    /* 300 keys in one object: refused at the 257th, on its line and column */
    char *keys = malloc (300 * 16 + 64);
    assert_non_null (keys);
    strcpy (keys, "{\"phone\": \"0612345678\",\n\"custom\": {");
    for (int i = 0; i < 300; i++)
        sprintf (keys + strlen (keys), "%s\"k%d\":1", i ? "," : "", i);
    strcat (keys, "}}");
    assert_int_equal (s_decode (f, keys, 0, &fatal), PL_ETOOBIG);
    assert_int_equal (f->n, 0);
    assert_string_equal (fatal.code, INTAKE_E_TOO_MANY_KEYS);
    assert_int_equal (fatal.line, 2);
    assert_int_equal (fatal.column, (size_t) (strstr (keys, "\"k256\"") - strchr (keys, '\n')));
    assert_non_null (strstr (fatal.message, "256"));
    free (keys);

    /* more values in one lead than any lead needs */
    char *values = s_repeat ("{\"phone\": \"0612345678\", \"custom\": {\"a\": [", "1",
                             INTAKE_JSON_MAX_ITEM_VALUES, "]}}");
    assert_int_equal (s_decode (f, values, 0, &fatal), PL_ETOOBIG);
    assert_string_equal (fatal.code, INTAKE_E_TOO_MANY_VALUES);
    free (values);

    /* nesting */
    char deep[200] = "{\"custom\": {\"a\": ";
    for (int i = 0; i < 40; i++)
        strcat (deep, "[");
    assert_int_equal (s_decode (f, deep, 0, &fatal), PL_EINVAL);
    assert_string_equal (fatal.code, INTAKE_E_TOO_DEEP);
    assert_int_equal (fatal.column, 17 + INTAKE_JSON_MAX_DEPTH - 1);   /* the first "[" too deep */

    /* the batch limit is found at the first lead over it, whatever follows */
    char *many = s_repeat ("{\"leads\":[", "{}", 20001, "]}");
    assert_int_equal (s_decode (f, many, 0, &fatal), PL_ETOOBIG);
    assert_string_equal (fatal.code, INTAKE_E_TOO_BIG);
    assert_int_equal (fatal.line, 1);
    assert_int_equal (fatal.column, 11 + 3 * INTAKE_JSON_MAX_ITEMS);
    free (many);
}

static void
test_a_batch_lead_that_jansson_refuses_is_rejected_alone (void **state)
{
    fixture_t *f = *state;
    const char *body = "{\"leads\": [{\"phone\": \"0612345678\"},\n"
                       "  {\"phone\": \"0612345679\", \"phone\": \"0612345670\"},\n"
                       "  {\"phone\": \"0612345671\"}]}";
    assert_int_equal (s_decode (f, body, 0, NULL), 3);
    assert_string_equal (f->seen[0].e164, "+33612345678");
    assert_string_equal (f->seen[1].code, INTAKE_E_MALFORMED);
    assert_string_equal (f->seen[2].e164, "+33612345671");
}

static void
test_grammar_is_checked_as_strictly_as_jansson (void **state)
{
    fixture_t *f = *state;
    static const char *bad[] = {
        "{\"phone\": 01}", "{\"phone\": -}", "{\"phone\": 1.}", "{\"phone\": 1e}", "{\"phone\": tru}",
        "{\"phone\": \"\\ud800\"}", "{\"phone\": \"\\udc00\"}", "{\"phone\": \"\\x\"}", "{\"phone\": \"\t\"}",
        "{\"phone\": \"\xc0\xaf\"}", "{\"phone\": \"\xed\xa0\x80\"}", "{\"phone\" 1}", "{,}", "{\"a\":1,}",
        "[", "{\"leads\": [{}],}", "{\"phone\": \"0612345678\"}}", "\xef\xbb{}", "{\"leads\": [{} {}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        intake_error_t fatal;
        memset (&fatal, 0, sizeof fatal);
        assert_int_equal (s_decode (f, bad[i], 0, &fatal), PL_EINVAL);
        assert_non_null (fatal.code);
        assert_true (fatal.line >= 1 && fatal.column >= 1);
        assert_int_equal (f->n, 0);
        json_error_t jerr;
        json_t *j = json_loads (bad[i], 0, &jerr);     /* jansson agrees */
        if (j && json_object_get (j, "leads") == NULL && i != 17)
            fail_msg ("jansson takes '%s'", bad[i]);
        json_decref (j);
    }
    static const char *good[] = {
        "{\"phone\": \"0612345678\", \"custom\": {\"n\": -0.5e+3, \"t\": true, \"z\": null, \"e\": [], \"o\": {}}}",
        "{\"phone\": \"06\\u00e9\\ud83d\\ude00 12 34 56 78\"}", " \r\n\t{\"phone\": \"0612345678\"} \n",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_int_equal (s_decode (f, good[i], 0, NULL), 1);
}

static void
test_the_push_decoder_refuses_while_the_body_arrives (void **state)
{
    fixture_t *f = *state;
    /* fed one byte at a time, it gives what the whole body gives */
    const char *body = "{\"leads\": [{\"phone\": \"0612345678\"}, {\"phone\": \"12\"}]}";
    intake_json_t *d = intake_json_new (&f->opts, 0, 0, s_collect, f);
    f->n = 0;
    for (const char *p = body; *p; p++)
        assert_int_equal (intake_json_feed (d, p, 1), 0);
    assert_int_equal (f->n, 0);                       /* nothing emitted while feeding */
    bool batch = false;
    assert_int_equal (intake_json_finish (d, &batch), 2);
    assert_true (batch);
    assert_string_equal (f->seen[0].e164, "+33612345678");
    assert_string_equal (f->seen[1].code, INTAKE_E_INVALID_NUMBER);
    intake_json_destroy (&d);

    /* over the batch limit: refused at the lead that crosses it, before the rest arrives */
    d = intake_json_new (&f->opts, 2, 0, s_collect, f);
    const char *head = "{\"leads\": [{}, {}, {}";
    assert_int_equal (intake_json_feed (d, head, strlen (head)), PL_ETOOBIG);
    assert_int_equal (intake_json_feed (d, "]}", 2), PL_ETOOBIG);
    assert_string_equal (intake_json_error (d)->code, INTAKE_E_TOO_BIG);
    assert_true (intake_json_held (d) < 64 * 1024);
    intake_json_destroy (&d);

    /* over the byte limit */
    d = intake_json_new (&f->opts, 0, 16, s_collect, f);
    assert_int_equal (intake_json_feed (d, "{\"phone\": ", 10), 0);
    assert_int_equal (intake_json_feed (d, "\"0612345678\"}", 13), PL_ETOOBIG);
    assert_string_equal (intake_json_error (d)->code, INTAKE_E_TOO_LARGE);
    assert_int_equal (intake_json_finish (d, NULL), PL_ETOOBIG);
    intake_json_destroy (&d);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_single_lead_body_gives_one_item, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_batch_items_come_out_in_input_order_good_ones_accepted,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_batch_callee_values_are_kept_and_a_bad_one_rejected_alone,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_malformed_json_names_line_and_column, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_wrong_shapes_are_refused_whole, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_batch_over_the_limit_is_refused_before_any_item,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_bom_is_tolerated, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_callback_can_stop_decoding, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_limits_stop_the_scan_where_they_are_crossed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_batch_lead_that_jansson_refuses_is_rejected_alone, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_grammar_is_checked_as_strictly_as_jansson, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_the_push_decoder_refuses_while_the_body_arrives, s_setup,
                                         s_teardown),
    };
    return cmocka_run_group_tests_name ("intake_json", tests, NULL, NULL);
}
