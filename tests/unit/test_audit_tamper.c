/*  test_audit_tamper.c — verify catches every alteration and names the first bad seq.
 *
 *  Each case builds the same chain (300 records over several segments, a checkpoint every 50
 *  and one on close), alters the files the way an insider with disk access could, and checks
 *  that verify fails at the expected sequence number with the expected explanation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>
#include "plateau/error.h"
#include "checkpoint.h"
#include "encode.h"
#include "plateau/audit_record.h"
#include "plateau/audit_segment.h"
#include "plateau/audit_store.h"
#include "test_audit_support.h"

#define N_RECORDS 300
#define CHAIN "replica-a"

typedef struct {
    char *root;
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *fx = calloc (1, sizeof *fx);
    fx->root = ta_tmpdir ();
    pl_audit_keys_t *keys = ta_keys ();
    pl_audit_store_config_t cfg;
    ta_config (&cfg, fx->root, CHAIN, keys, 16 * 1024, NULL);
    pl_audit_store_t *s = ta_open (&cfg);
    for (uint64_t i = 0; i < N_RECORDS; i += 10)
        ta_append_range (s, i, i + 10);
    pl_audit_store_destroy (&s);
    pl_audit_keys_destroy (&keys);
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *fx = *state;
    ta_rmdir (&fx->root);
    free (fx);
    return 0;
}

/* Where record seq lives: its segment's path, the segment bytes (malloc'd), the offset. */
typedef struct {
    char path[4096];
    uint8_t *data;
    size_t len, off, frame_len;
    uint64_t first_seq;
} loc_t;

static void
s_locate (const char *root, uint64_t seq, loc_t *loc)
{
    char dir[4096];
    snprintf (dir, sizeof dir, "%s/" CHAIN, root);
    pl_audit_seg_entry_t *segs;
    size_t n;
    assert_int_equal (pl_audit_seg_list (dir, &segs, &n), 0);
    size_t i = 0;
    while (i + 1 < n && segs[i + 1].first_seq <= seq)
        i++;
    loc->first_seq = segs[i].first_seq;
    ta_seg_path (root, CHAIN, segs[i].first_seq, loc->path, sizeof loc->path);
    free (segs);
    loc->data = ta_read_file (loc->path, &loc->len);
    loc->off = ta_frame_offset (loc->data, loc->len, seq, &loc->frame_len);
    assert_true (loc->off != (size_t) -1);
}

static void
s_expect_bad (const char *root, uint64_t seq, const char *words)
{
    pl_audit_verify_report_t *r;
    int rc = ta_verify (root, &r);
    assert_int_equal (rc, PL_ECORRUPT);
    assert_int_equal (r->chains[0].status, PL_ECORRUPT);
    assert_true (r->chains[0].has_bad_seq);
    if (r->chains[0].bad_seq != seq || !strstr (r->chains[0].what, words))
        fprintf (stderr, "expected seq %llu with '%s'; got seq %llu: %s\n",
                 (unsigned long long) seq, words, (unsigned long long) r->chains[0].bad_seq,
                 r->chains[0].what);
    assert_int_equal (r->chains[0].bad_seq, seq);
    assert_non_null (strstr (r->chains[0].what, words));
    char *text = pl_audit_verify_report_text (r);
    assert_non_null (strstr (text, "FAILED at seq"));
    free (text);
    pl_audit_verify_report_destroy (&r);
}

static void
test_an_untouched_log_verifies (void **state)
{
    fixture_t *fx = *state;
    pl_audit_verify_report_t *r;
    assert_int_equal (ta_verify (fx->root, &r), 0);
    assert_int_equal (r->chains[0].records, N_RECORDS);
    assert_true (r->chains[0].segments >= 5);
    assert_true (r->chains[0].checkpoints >= 6);
    json_t *j = pl_audit_verify_report_json (r);
    assert_true (json_is_true (json_object_get (j, "ok")));
    json_decref (j);
    pl_audit_verify_report_destroy (&r);
}

/* One byte changed, at each part of record 120's frame. */
static void
test_one_changed_byte_is_found_wherever_it_is (void **state)
{
    fixture_t *fx = *state;
    struct {
        const char *part;
        size_t at;              /* offset in the frame; (size_t) -k: k bytes from its end */
        uint8_t mask;
        const char *words;
    } cases[] = {
        {"frame length", 1, 0x20, "damaged frame"},
        {"flags: unknown bit", 7, 0x20, "damaged frame"},
        {"flags: erased bit", 7, PL_AUDIT_FLAG_ERASED, "erase"},
        {"seq", PL_AUDIT_FRAME_HEAD + 0, 0x20, "hash does not match"},
        {"prev hash", PL_AUDIT_FRAME_HEAD + 30, 0x20, "hash does not match"},
        {"lead id", PL_AUDIT_FRAME_HEAD + PL_AUDIT_BODY_FIXED + 30, 0x20, "hash does not match"},
        {"personal part", (size_t) -40, 0x20, "personal part does not match"},
        {"stored hash", (size_t) -1, 0x20, "hash does not match"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        if (c)
            s_setup ((void **) &fx), *state = fx;
        loc_t loc;
        s_locate (fx->root, 120, &loc);
        size_t at = cases[c].at > loc.frame_len ? loc.frame_len + cases[c].at : cases[c].at;
        loc.data[loc.off + at] ^= cases[c].mask;
        ta_write_file (loc.path, loc.data, loc.len);
        free (loc.data);
        fprintf (stderr, "  byte in the %s\n", cases[c].part);
        s_expect_bad (fx->root, 120, cases[c].words);
        s_teardown ((void **) &fx);
        fx = NULL;
    }
    *state = NULL;
    s_setup (state);        /* leave a fixture for the teardown */
}

static void
test_a_deleted_record_is_found (void **state)
{
    fixture_t *fx = *state;
    loc_t loc;
    s_locate (fx->root, 120, &loc);
    memmove (loc.data + loc.off, loc.data + loc.off + loc.frame_len,
             loc.len - loc.off - loc.frame_len);
    ta_write_file (loc.path, loc.data, loc.len - loc.frame_len);
    free (loc.data);
    s_expect_bad (fx->root, 120, "missing");
}

static void
test_two_swapped_records_are_found (void **state)
{
    fixture_t *fx = *state;
    loc_t loc;
    s_locate (fx->root, 120, &loc);
    size_t len2;
    size_t off2 = ta_frame_offset (loc.data, loc.len, 121, &len2);
    assert_int_equal (off2, loc.off + loc.frame_len);
    uint8_t *tmp = malloc (loc.frame_len + len2);
    memcpy (tmp, loc.data + off2, len2);
    memcpy (tmp + len2, loc.data + loc.off, loc.frame_len);
    memcpy (loc.data + loc.off, tmp, loc.frame_len + len2);
    free (tmp);
    ta_write_file (loc.path, loc.data, loc.len);
    free (loc.data);
    s_expect_bad (fx->root, 120, "found 121");
}

static void
test_a_truncated_tail_is_found_against_the_last_checkpoint (void **state)
{
    fixture_t *fx = *state;
    /* Cut at a record boundary: every remaining record is sound, only the checkpoint knows. */
    loc_t loc;
    s_locate (fx->root, N_RECORDS - 5, &loc);
    assert_int_equal (truncate (loc.path, (off_t) loc.off), 0);
    free (loc.data);
    s_expect_bad (fx->root, N_RECORDS - 5, "tail truncated");
}

static void
test_a_tail_cut_inside_a_record_is_found (void **state)
{
    fixture_t *fx = *state;
    loc_t loc;
    s_locate (fx->root, N_RECORDS - 1, &loc);
    assert_int_equal (truncate (loc.path, (off_t) (loc.off + 100)), 0);
    free (loc.data);
    s_expect_bad (fx->root, N_RECORDS - 1, "torn tail");
}

static void
test_a_forged_checkpoint_is_found (void **state)
{
    fixture_t *fx = *state;
    char path[4096];
    snprintf (path, sizeof path, "%s/" CHAIN "/" PL_AUDIT_CKPT_FILE, fx->root);
    size_t len;
    uint8_t *data = ta_read_file (path, &len);
    pl_audit_ckpt_t c;
    assert_int_equal (pl_audit_ckpt_decode (data, &c), 0);
    free (data);

    /* 1. Signed by someone else's key. */
    loc_t loc;
    s_locate (fx->root, 200, &loc);
    pl_audit_frame_t f;
    assert_int_equal (pl_audit_frame_parse (loc.data + loc.off, loc.len - loc.off, &f), 0);
    pl_audit_ckpt_t forged = {.seq = 200, .at_ms = TA_T0};
    snprintf (forged.chain_id, sizeof forged.chain_id, CHAIN);
    memcpy (forged.hash, f.hash, 32);
    free (loc.data);
    pl_audit_keys_t *other = ta_other_keys ();
    assert_int_equal (pl_audit_ckpt_sign (&forged, other), 0);
    pl_audit_keys_destroy (&other);
    uint8_t entry[PL_AUDIT_CKPT_LEN];
    pl_audit_ckpt_encode (&forged, entry);
    FILE *fp = fopen (path, "ab");
    fwrite (entry, 1, sizeof entry, fp);
    fclose (fp);
    s_expect_bad (fx->root, 200, "not trusted");

    /* 2. A genuine checkpoint edited to name another seq: its signature breaks. */
    data = ta_read_file (path, &len);
    len -= PL_AUDIT_CKPT_LEN;               /* drop the forgery */
    pl__put_u64 (data + PL_AUDIT_CKPT_LEN + 8, 77);
    ta_write_file (path, data, len);
    free (data);
    s_expect_bad (fx->root, 77, "invalid signature");
}

static void
test_a_rewritten_record_is_caught_by_its_checkpoint (void **state)
{
    fixture_t *fx = *state;
    /* Whoever knows the format can rehash the last record after changing it; only the
     * signed checkpoint on close still names the original. */
    loc_t loc;
    s_locate (fx->root, N_RECORDS - 1, &loc);
    pl_audit_frame_t f;
    assert_int_equal (pl_audit_frame_parse (loc.data + loc.off, loc.len - loc.off, &f), 0);
    uint8_t *body = loc.data + loc.off + PL_AUDIT_FRAME_HEAD;
    body[PL_AUDIT_BODY_FIXED + 15] ^= 1;          /* a letter of the event id */
    crypto_hash_sha256 ((uint8_t *) f.hash, body, f.body_len);
    ta_write_file (loc.path, loc.data, loc.len);
    free (loc.data);
    s_expect_bad (fx->root, N_RECORDS - 1, "checkpoint");
}

static void
test_deleted_segments_are_found (void **state)
{
    fixture_t *fx = *state;
    char dir[4096];
    snprintf (dir, sizeof dir, "%s/" CHAIN, fx->root);
    pl_audit_seg_entry_t *segs;
    size_t n;
    assert_int_equal (pl_audit_seg_list (dir, &segs, &n), 0);
    assert_true (n >= 3);
    char path[4096];
    ta_seg_path (fx->root, CHAIN, segs[1].first_seq, path, sizeof path);
    assert_int_equal (unlink (path), 0);
    s_expect_bad (fx->root, segs[1].first_seq, "missing between segments");
    /* The oldest one, without a recorded retention expiry. */
    ta_seg_path (fx->root, CHAIN, segs[0].first_seq, path, sizeof path);
    assert_int_equal (unlink (path), 0);
    s_expect_bad (fx->root, 0, "no recorded retention expiry");
    free (segs);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_an_untouched_log_verifies, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_one_changed_byte_is_found_wherever_it_is, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_a_deleted_record_is_found, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_two_swapped_records_are_found, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_truncated_tail_is_found_against_the_last_checkpoint,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_tail_cut_inside_a_record_is_found, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_a_forged_checkpoint_is_found, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_rewritten_record_is_caught_by_its_checkpoint,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_deleted_segments_are_found, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name ("audit tamper", tests, NULL, NULL);
}
