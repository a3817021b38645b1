/*  test_kit_utf8.c — the one UTF-8 validator: strict RFC 3629, as phone, intake and audit need. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "plateau/utf8.h"

#define S(lit) lit, sizeof (lit) - 1

static void
test_well_formed_text_is_valid (void **state)
{
    assert_true (pl_utf8_valid (S ("")));
    assert_true (pl_utf8_valid (NULL, 0));
    assert_true (pl_utf8_valid (S ("06 12 34 56 78")));
    assert_true (pl_utf8_valid (S ("Hélène Müller, Łódź")));            /* 2-byte */
    assert_true (pl_utf8_valid (S ("\xe2\x82\xac 100")));                /* U+20AC € */
    assert_true (pl_utf8_valid (S ("\xef\xbb\xbfphone")));               /* BOM is a character */
    assert_true (pl_utf8_valid (S ("\xf0\x9f\x93\x9e")));                /* U+1F4DE, 4-byte */
    assert_true (pl_utf8_valid (S ("\xf4\x8f\xbf\xbf")));                /* U+10FFFF, the last */
    assert_true (pl_utf8_valid (S ("\xed\x9f\xbf")));                    /* U+D7FF, before D800 */
    assert_true (pl_utf8_valid (S ("\xee\x80\x80")));                    /* U+E000, after DFFF */
    assert_true (pl_utf8_valid (S ("a\0b")));                            /* NUL is U+0000 */
}

static void
test_overlongs_surrogates_and_out_of_range_are_refused (void **state)
{
    static const struct {
        const char *bytes;
        size_t len;
        const char *why;
    } bad[] = {
        {S ("\xc0\xaf"), "overlong '/' (2 bytes)"},
        {S ("\xc1\xbf"), "overlong (C1 lead)"},
        {S ("\xe0\x80\xaf"), "overlong '/' (3 bytes)"},
        {S ("\xe0\x9f\xbf"), "overlong U+07FF (3 bytes)"},
        {S ("\xf0\x80\x80\xaf"), "overlong '/' (4 bytes)"},
        {S ("\xf0\x8f\xbf\xbf"), "overlong U+FFFF (4 bytes)"},
        {S ("\xed\xa0\x80"), "surrogate U+D800"},
        {S ("\xed\xbf\xbf"), "surrogate U+DFFF"},
        {S ("\xf4\x90\x80\x80"), "U+110000"},
        {S ("\xf5\x80\x80\x80"), "F5 lead"},
        {S ("\xff"), "FF"},
        {S ("\x80"), "lone continuation"},
        {S ("a\xc3"), "truncated at the end"},
        {S ("\xe2\x82"), "truncated 3-byte"},
        {S ("\xf0\x9f\x93"), "truncated 4-byte"},
        {S ("\xc3\x28"), "continuation missing"},
        {S ("\xe2\x28\xa1"), "second byte not a continuation"},
        {S ("caf\xe9"), "Latin-1, not UTF-8"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (pl_utf8_valid (bad[i].bytes, bad[i].len))
            fail_msg ("accepted: %s", bad[i].why);
}

static void
test_length_bounds_the_check (void **state)
{
    /* Only len bytes are read: a valid prefix of invalid text is valid, and a sequence cut by
     * len is not. */
    const char text[] = "ok\xff";
    assert_true (pl_utf8_valid (text, 2));
    assert_false (pl_utf8_valid (text, 3));
    const char euro[] = "\xe2\x82\xac";
    assert_false (pl_utf8_valid (euro, 2));
    assert_true (pl_utf8_valid (euro, 3));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_well_formed_text_is_valid),
        cmocka_unit_test (test_overlongs_surrogates_and_out_of_range_are_refused),
        cmocka_unit_test (test_length_bounds_the_check),
    };
    return cmocka_run_group_tests_name ("kit_utf8", tests, NULL, NULL);
}
