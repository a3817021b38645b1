/*  test_audit_retention.c — expiry removes whole old segments, is recorded, and verifies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "plateau/error.h"
#include "plateau/audit_query.h"
#include "plateau/audit_retention.h"
#include "plateau/audit_segment.h"
#include "plateau/audit_store.h"
#include "test_audit_support.h"

#define CHAIN "us-east"
#define DAY 86400000LL

static size_t
s_segments (const char *root, pl_audit_seg_entry_t **out)
{
    char dir[4096];
    snprintf (dir, sizeof dir, "%s/" CHAIN, root);
    pl_audit_seg_entry_t *segs;
    size_t n;
    assert_int_equal (pl_audit_seg_list (dir, &segs, &n), 0);
    if (out)
        *out = segs;
    else
        free (segs);
    return n;
}

static void
test_expiry_removes_whole_old_segments_and_records_it (void **state)
{
    char *root = ta_tmpdir ();
    pl_audit_keys_t *keys = ta_keys ();
    pl_audit_retention_t *ret = pl_audit_retention_new ();
    assert_int_equal (pl_audit_retention_parse (ret, "dial.*=30d, dnc.*=5y"), 0);
    pl_audit_store_config_t cfg;
    ta_config (&cfg, root, CHAIN, keys, 8 * 1024, NULL);
    cfg.retention = ret;
    pl_audit_store_t *s = ta_open (&cfg);
    for (uint64_t i = 0; i < 100; i += 10)
        ta_append_range (s, i, i + 10);
    /* An internal do-not-call request (kept 5 years) in the middle of the log. */
    ta_event_t e;
    ta_event_for (&e, 100, "+12025550100", "L-100", "spring", "dnc.request");
    assert_int_equal (pl_audit_store_append (s, &e.ev, TA_T0 + 100000, NULL), 0);
    assert_int_equal (pl_audit_store_sync (s), 0);
    for (uint64_t i = 101; i < 200; i += 11)
        ta_append_range (s, i, i + 11 < 200 ? i + 11 : 200);
    assert_int_equal (pl_audit_store_wait_indexed (s), 0);
    size_t n_before = s_segments (root, NULL);
    assert_true (n_before >= 8);

    /* Ten days on, nothing has passed its retention. */
    size_t removed = 99;
    assert_int_equal (pl_audit_store_expire (s, TA_T0 + 10 * DAY, &removed), 0);
    assert_int_equal (removed, 0);

    /* Forty days on, the dial decisions have: every segment before the one holding the
     * do-not-call request goes, and nothing after it, however old. */
    assert_int_equal (pl_audit_store_expire (s, TA_T0 + 40 * DAY, &removed), 0);
    assert_true (removed > 0);
    pl_audit_seg_entry_t *segs;
    size_t n_after = s_segments (root, &segs);
    assert_int_equal (n_after, n_before - removed);
    uint64_t anchor = segs[0].first_seq - 1;
    assert_true (segs[0].first_seq <= 100);
    assert_true (segs[1].first_seq > 100);
    free (segs);

    /* The chain verifies from its new anchor, and the expiry is on record. */
    pl_audit_verify_report_t *r;
    assert_int_equal (ta_verify (root, &r), 0);
    assert_int_equal (r->chains[0].first_seq, anchor + 1);
    assert_true (r->chains[0].checkpoints_expired > 0);
    pl_audit_verify_report_destroy (&r);
    pl_audit_reader_t *rd = pl_audit_reader_new (root, keys);
    pl_audit_query_t q = {.type = "retention.expired"};
    json_t *items;
    char *cursor;
    assert_int_equal (pl_audit_reader_query (rd, &q, &items, &cursor), 0);
    assert_int_equal (json_array_size (items), 1);
    json_t *attrs = json_object_get (json_array_get (items, 0), "attrs");
    char anchor_s[24];
    snprintf (anchor_s, sizeof anchor_s, "%llu", (unsigned long long) anchor);
    assert_string_equal (json_string_value (json_object_get (attrs, "anchor_seq")), anchor_s);
    assert_string_equal (json_string_value (json_object_get (attrs, "from_seq")), "0");
    json_decref (items);
    /* The index forgot the expired records too. */
    pl_audit_query_t all = {.limit = 1};
    assert_int_equal (pl_audit_reader_query (rd, &all, &items, &cursor), 0);
    assert_int_equal (json_integer_value (json_object_get (json_array_get (items, 0), "seq")),
                      anchor + 1);
    json_decref (items);
    free (cursor);

    /* Writing goes on, and so does verification after a restart. */
    ta_append_range (s, 200, 220);
    pl_audit_store_destroy (&s);
    s = ta_open (&cfg);
    ta_append_range (s, 220, 230);
    pl_audit_store_destroy (&s);
    assert_int_equal (ta_verify (root, NULL), 0);

    /* Removing the next segment by hand, without a record, is caught. */
    n_after = s_segments (root, &segs);
    char path[4096];
    ta_seg_path (root, CHAIN, segs[0].first_seq, path, sizeof path);
    assert_int_equal (unlink (path), 0);
    assert_int_equal (ta_verify (root, &r), PL_ECORRUPT);
    assert_non_null (strstr (r->chains[0].what, "no recorded retention expiry"));
    pl_audit_verify_report_destroy (&r);
    free (segs);
    pl_audit_reader_destroy (&rd);
    pl_audit_retention_destroy (&ret);
    pl_audit_keys_destroy (&keys);
    ta_rmdir (&root);
}

static void
test_nothing_expires_without_a_retention_table (void **state)
{
    char *root = ta_tmpdir ();
    pl_audit_keys_t *keys = ta_keys ();
    pl_audit_store_config_t cfg;
    ta_config (&cfg, root, CHAIN, keys, 4096, NULL);
    pl_audit_store_t *s = ta_open (&cfg);
    for (uint64_t i = 0; i < 40; i += 5)
        ta_append_range (s, i, i + 5);
    size_t removed = 7;
    assert_int_equal (pl_audit_store_expire (s, TA_T0 + 100000 * DAY, &removed), 0);
    assert_int_equal (removed, 0);
    pl_audit_store_destroy (&s);
    assert_int_equal (ta_verify (root, NULL), 0);
    pl_audit_keys_destroy (&keys);
    ta_rmdir (&root);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_expiry_removes_whole_old_segments_and_records_it),
        cmocka_unit_test (test_nothing_expires_without_a_retention_table),
    };
    return cmocka_run_group_tests_name ("audit retention", tests, NULL, NULL);
}
