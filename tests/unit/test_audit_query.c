/*  test_audit_query.c — filters, pagination across chains, NDJSON, stories, export. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>
#include "plateau/error.h"
#include "plateau/audit_query.h"
#include "plateau/audit_store.h"
#include "localtime.h"
#include "test_audit_support.h"

typedef struct {
    char *root;
    pl_audit_keys_t *keys;
    pl_audit_reader_t *rd;
} fixture_t;

/* Two replicas: chain "a" holds the even events, chain "b" the odd ones, so times interleave
 * across chains. 120 events in all. */
static int
s_setup (void **state)
{
    fixture_t *fx = calloc (1, sizeof *fx);
    fx->root = ta_tmpdir ();
    fx->keys = ta_keys ();
    const char *chains[] = {"a", "b"};
    for (int c = 0; c < 2; c++) {
        pl_audit_store_config_t cfg;
        ta_config (&cfg, fx->root, chains[c], fx->keys, 0, NULL);
        pl_audit_store_t *s = ta_open (&cfg);
        for (uint64_t i = (uint64_t) c; i < 120; i += 2) {
            ta_event_t e;
            ta_event (&e, i);
            assert_int_equal (pl_audit_store_append (s, &e.ev, TA_T0 + (int64_t) i * 1000, NULL), 0);
        }
        assert_int_equal (pl_audit_store_sync (s), 0);
        assert_int_equal (pl_audit_store_wait_indexed (s), 0);
        pl_audit_store_destroy (&s);
    }
    fx->rd = pl_audit_reader_new (fx->root, fx->keys);
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *fx = *state;
    pl_audit_reader_destroy (&fx->rd);
    pl_audit_keys_destroy (&fx->keys);
    ta_rmdir (&fx->root);
    free (fx);
    return 0;
}

static size_t
s_count (pl_audit_reader_t *rd, pl_audit_query_t q)
{
    q.limit = PL_AUDIT_QUERY_LIMIT_MAX;
    json_t *items;
    char *cursor;
    assert_int_equal (pl_audit_reader_query (rd, &q, &items, &cursor), 0);
    assert_null (cursor);
    size_t n = json_array_size (items);
    json_decref (items);
    return n;
}

static void
test_each_filter_selects_what_it_names (void **state)
{
    fixture_t *fx = *state;
    struct {
        const char *what;
        pl_audit_query_t q;
        size_t expect;
    } cases[] = {
        {"everything", {0}, 120},
        {"a lead", {.lead = "L-3"}, 6},                             /* i % 20 == 3 */
        {"a number", {.number = "+33612000007"}, 3},                /* i % 50 == 7 */
        {"a campaign", {.campaign = "winter"}, 40},                 /* i % 3 == 0 */
        {"a type", {.type = "dial.denied"}, 60},
        {"a time range", {.has_from = true, .from_ms = TA_T0 + 10000, .has_to = true,
                          .to_ms = TA_T0 + 20000}, 10},
        {"combined", {.type = "dial.denied", .campaign = "winter"}, 20},
        {"no match", {.lead = "L-nobody"}, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = s_count (fx->rd, cases[i].q);
        if (n != cases[i].expect)
            fprintf (stderr, "%s: %zu\n", cases[i].what, n);
        assert_int_equal (n, cases[i].expect);
    }
}

static void
test_pages_cover_every_record_once_in_time_order (void **state)
{
    fixture_t *fx = *state;
    pl_audit_query_t q = {.type = "dial.denied", .limit = 7};
    char *cursor = NULL;
    bool seen[120] = {false};
    size_t total = 0, pages = 0;
    int64_t last_at = INT64_MIN;
    do {
        json_t *items;
        char *next;
        q.cursor = cursor;
        assert_int_equal (pl_audit_reader_query (fx->rd, &q, &items, &next), 0);
        free (cursor);
        cursor = next;
        pages++;
        assert_true (json_array_size (items) <= 7);
        size_t i;
        json_t *o;
        json_array_foreach (items, i, o)
        {
            int64_t at = json_integer_value (json_object_get (o, "at_ms"));
            assert_true (at >= last_at);
            last_at = at;
            int id = atoi (json_string_value (json_object_get (o, "event_id")) + 3);
            assert_false (seen[id]);
            seen[id] = true;
            total++;
        }
        json_decref (items);
    } while (cursor);
    assert_int_equal (total, 60);
    assert_int_equal (pages, 9);                /* 8 full pages of 7, one of 4 */
}

static int
s_sink (void *arg, const char *data, size_t len)
{
    size_t *lines = arg;
    for (size_t i = 0; i < len; i++)
        if (data[i] == '\n')
            (*lines)++;
    return 0;
}

static void
test_ndjson_and_bad_input (void **state)
{
    fixture_t *fx = *state;
    pl_audit_query_t q = {.lead = "L-4", .limit = 4};
    size_t lines = 0;
    char *cursor;
    assert_int_equal (pl_audit_reader_query_ndjson (fx->rd, &q, s_sink, &lines, &cursor), 0);
    assert_int_equal (lines, 4);
    assert_non_null (cursor);
    free (cursor);

    json_t *items;
    pl_audit_query_t bad[] = {
        {.number = "0612345678"},
        {.cursor = "garbage"},
        {.has_from = true, .from_ms = 10, .has_to = true, .to_ms = 5},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal (pl_audit_reader_query (fx->rd, &bad[i], &items, &cursor), PL_EINVAL);
        assert_true (strlen (pl_audit_reader_errstr (fx->rd)) > 0);
    }
}

static void
test_personal_data_is_shown_only_when_revealed (void **state)
{
    fixture_t *fx = *state;
    pl_audit_query_t q = {.number = "+33612000009", .limit = 1};
    json_t *items;
    char *cursor;
    assert_int_equal (pl_audit_reader_query (fx->rd, &q, &items, &cursor), 0);
    json_t *o = json_array_get (items, 0);
    assert_null (json_object_get (o, "number"));
    assert_null (json_object_get (o, "reason"));
    assert_string_equal (json_string_value (json_object_get (o, "personal")), "sealed");
    assert_int_equal (strlen (json_string_value (json_object_get (o, "number_pseudonym"))), 64);
    assert_string_equal (json_string_value (json_object_get (json_array_get (
                             json_object_get (o, "rules"), 0), "rule_id")),
                         "fr.hours");
    json_decref (items);
    free (cursor);
    q.reveal = true;
    assert_int_equal (pl_audit_reader_query (fx->rd, &q, &items, &cursor), 0);
    o = json_array_get (items, 0);
    assert_string_equal (json_string_value (json_object_get (o, "number")), "+33612000009");
    assert_string_equal (json_string_value (json_object_get (json_object_get (o, "details"), "agent")),
                         "A-17");
    json_decref (items);
    free (cursor);
    /* A reader without the data key cannot reveal. */
    pl_audit_keys_t *public_only = pl_audit_keys_new ();
    pl_audit_reader_t *rd = pl_audit_reader_new (fx->root, public_only);
    q.number = NULL;
    q.lead = "L-9";
    assert_int_equal (pl_audit_reader_query (rd, &q, &items, &cursor), 0);
    assert_string_equal (json_string_value (json_object_get (json_array_get (items, 0), "personal")),
                         "unreadable");
    json_decref (items);
    free (cursor);
    pl_audit_reader_destroy (&rd);
    pl_audit_keys_destroy (&public_only);
}

static void
test_the_story_speaks_in_the_callee_local_time_and_cites_rules (void **state)
{
    fixture_t *fx = *state;
    char *story;
    assert_int_equal (pl_audit_reader_story (fx->rd, "+33612000007", false, &story), 0);
    if (getenv ("PL_TEST_VERBOSE"))
        fprintf (stderr, "%s", story);
    /* Event 7 was at 12:00:07 UTC on Tue 3 March 2026: 13:00:07 in Paris (CET). */
    assert_non_null (strstr (story, "Story of number +3361200****: 3 records"));
    assert_non_null (strstr (story, "2026-03-03 Tue 13:00:07 CET (Europe/Paris)  dial.denied: DENY"));
    assert_non_null (strstr (story, "rule fr.hours [10:00-13:00,14:00-20:00]"));
    assert_non_null (strstr (story, "list bloctel version 2026-03-01, copy of 2026-03-01 (1 d old): not on it"));
    assert_non_null (strstr (story, "counts: attempts_30d=2"));
    assert_null (strstr (story, "reason:"));           /* sealed unless revealed */
    free (story);
    assert_int_equal (pl_audit_reader_story (fx->rd, "L-3", true, &story), 0);
    assert_non_null (strstr (story, "Story of lead L-3: 6 records"));
    assert_non_null (strstr (story, "reason: outside calling hours"));
    free (story);
    assert_int_equal (pl_audit_reader_story (fx->rd, "+33699999999", false, &story), PL_ENOTFOUND);
}

static void
test_local_time_follows_summer_time (void **state)
{
    pl_audit_tzcache_t *tz = pl_audit_tzcache_new (NULL);
    char out[64];
    /* 2026-07-14 12:00 UTC: 14:00 CEST in Paris, 08:00 EDT in New York. */
    int64_t t = 1784030400000LL;
    assert_string_equal (pl_audit_tz_format (tz, "Europe/Paris", t, out, sizeof out),
                         "2026-07-14 Tue 14:00:00 CEST");
    assert_string_equal (pl_audit_tz_format (tz, "America/New_York", t, out, sizeof out),
                         "2026-07-14 Tue 08:00:00 EDT");
    /* Far beyond the last transition in the file: the POSIX rule takes over. */
    int64_t y2100 = 4118083200000LL;            /* 2100-07-01 00:00 UTC */
    assert_string_equal (pl_audit_tz_format (tz, "Europe/Paris", y2100, out, sizeof out),
                         "2100-07-01 Thu 02:00:00 CEST");
    assert_string_equal (pl_audit_tz_format (tz, "Mars/Olympus", t, out, sizeof out),
                         "2026-07-14 Tue 12:00:00 UTC");
    assert_string_equal (pl_audit_tz_format (tz, "../../etc/passwd", t, out, sizeof out),
                         "2026-07-14 Tue 12:00:00 UTC");
    pl_audit_tzcache_destroy (&tz);
}

/* What the README tells auditors to do: open index.sqlite with plain SQLite and query it. */
static void
test_auditors_can_query_the_index_with_plain_sqlite (void **state)
{
    fixture_t *fx = *state;
    pl_audit_query_t q = {.number = "+33612000011", .limit = 1};
    json_t *items;
    char *cursor;
    assert_int_equal (pl_audit_reader_query (fx->rd, &q, &items, &cursor), 0);
    json_int_t key = json_integer_value (json_object_get (json_array_get (items, 0), "number_key"));
    json_decref (items);
    free (cursor);
    char path[4096];
    snprintf (path, sizeof path, "%s/b/index.sqlite", fx->root);    /* odd events: chain b */
    sqlite3 *db;
    assert_int_equal (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal (sqlite3_prepare_v2 (db,
                                          "SELECT count(*), min(lead_id) FROM events"
                                          " WHERE number_key = ? AND type = 'dial.denied'",
                                          -1, &st, NULL),
                      SQLITE_OK);
    sqlite3_bind_int64 (st, 1, key);
    assert_int_equal (sqlite3_step (st), SQLITE_ROW);
    assert_int_equal (sqlite3_column_int (st, 0), 3);               /* events 11, 61, 111 */
    assert_string_equal ((const char *) sqlite3_column_text (st, 1), "L-1");      /* 61 % 20 */
    sqlite3_finalize (st);
    assert_int_equal (sqlite3_prepare_v2 (db, "SELECT value FROM meta WHERE key = 'next_seq'", -1,
                                          &st, NULL),
                      SQLITE_OK);
    assert_int_equal (sqlite3_step (st), SQLITE_ROW);
    assert_string_equal ((const char *) sqlite3_column_text (st, 0), "60");
    sqlite3_finalize (st);
    sqlite3_close (db);
}

typedef struct {
    size_t lines;
    bool all_have_hash;
} export_t;

static int
s_export_sink (void *arg, const char *data, size_t len)
{
    export_t *x = arg;
    json_t *o = json_loadb (data, len, 0, NULL);
    if (!o || !json_string_value (json_object_get (o, "hash")))
        x->all_have_hash = false;
    json_decref (o);
    x->lines++;
    return 0;
}

static void
test_export_writes_every_record_of_every_chain (void **state)
{
    fixture_t *fx = *state;
    export_t x = {0, true};
    uint64_t count;
    assert_int_equal (pl_audit_reader_export (fx->rd, false, s_export_sink, &x, &count), 0);
    assert_int_equal (count, 120);
    assert_int_equal (x.lines, 120);
    assert_true (x.all_have_hash);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_each_filter_selects_what_it_names, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_pages_cover_every_record_once_in_time_order, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_ndjson_and_bad_input, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_personal_data_is_shown_only_when_revealed, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_the_story_speaks_in_the_callee_local_time_and_cites_rules,
                                         s_setup, s_teardown),
        cmocka_unit_test (test_local_time_follows_summer_time),
        cmocka_unit_test_setup_teardown (test_auditors_can_query_the_index_with_plain_sqlite,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_export_writes_every_record_of_every_chain, s_setup,
                                         s_teardown),
    };
    return cmocka_run_group_tests_name ("audit query", tests, NULL, NULL);
}
