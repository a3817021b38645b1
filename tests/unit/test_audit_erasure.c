/*  test_audit_erasure.c — erasing a person keeps every chain verifiable and the number gone. */
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
#include "plateau/audit_record.h"
#include "plateau/audit_segment.h"
#include "plateau/audit_store.h"
#include "test_audit_support.h"

#define CHAIN "eu-1"
#define VICTIM "+33612000007"           /* ta_event gives it to events 7, 57, 107, 157 */

/* The sealed personal blobs of every record about `number`, as stored in the segments. */
typedef struct {
    uint8_t *blob[16];
    size_t len[16];
    size_t n;
} blobs_t;

static void
s_collect_blobs (const char *root, const pl_audit_keys_t *keys, const char *number, blobs_t *out)
{
    uint8_t pseud[32];
    assert_int_equal (pl_audit_keys_pseudonym (keys, number, pseud), 0);
    char dir[4096];
    snprintf (dir, sizeof dir, "%s/" CHAIN, root);
    pl_audit_seg_entry_t *segs;
    size_t n;
    assert_int_equal (pl_audit_seg_list (dir, &segs, &n), 0);
    pl_audit_codec_t *codec = pl_audit_codec_new ();
    memset (out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        ta_seg_path (root, CHAIN, segs[i].first_seq, path, sizeof path);
        size_t len;
        uint8_t *data = ta_read_file (path, &len);
        size_t off = PL_AUDIT_SEG_HEADER;
        while (off < len) {
            pl_audit_frame_t f;
            const pl_audit_record_t *r;
            assert_int_equal (pl_audit_frame_parse (data + off, len - off, &f), 0);
            assert_int_equal (pl_audit_codec_decode (codec, &f, &r), 0);
            if (r->has_pseudonym && memcmp (r->pseudonym, pseud, 32) == 0 && r->pd_len
                && out->n < 16) {
                out->blob[out->n] = malloc (r->pd_len);
                memcpy (out->blob[out->n], r->pd, r->pd_len);
                out->len[out->n++] = r->pd_len;
            }
            off += f.frame_len;
        }
        free (data);
    }
    pl_audit_codec_destroy (&codec);
    free (segs);
}

static void
s_free_blobs (blobs_t *b)
{
    for (size_t i = 0; i < b->n; i++)
        free (b->blob[i]);
    b->n = 0;
}

static json_t *
s_query_number (pl_audit_reader_t *rd, const char *number, bool reveal)
{
    pl_audit_query_t q = {.number = number, .reveal = reveal, .limit = 100};
    json_t *items;
    char *cursor;
    assert_int_equal (pl_audit_reader_query (rd, &q, &items, &cursor), 0);
    assert_null (cursor);
    return items;
}

static void
test_erasure_keeps_verify_green_and_the_number_unreadable (void **state)
{
    char *root = ta_tmpdir ();
    pl_audit_keys_t *keys = ta_keys ();
    pl_audit_store_config_t cfg;
    ta_config (&cfg, root, CHAIN, keys, 16 * 1024, NULL);
    pl_audit_store_t *s = ta_open (&cfg);
    for (uint64_t i = 0; i < 200; i += 20)
        ta_append_range (s, i, i + 20);
    assert_int_equal (pl_audit_store_wait_indexed (s), 0);

    /* Before: an authorised reader sees the number and the story tells it. */
    pl_audit_reader_t *rd = pl_audit_reader_new (root, keys);
    json_t *items = s_query_number (rd, VICTIM, true);
    assert_int_equal (json_array_size (items), 4);
    assert_string_equal (json_string_value (json_object_get (json_array_get (items, 0), "number")),
                         VICTIM);
    json_decref (items);
    char *story;
    assert_int_equal (pl_audit_reader_story (rd, VICTIM, true, &story), 0);
    assert_non_null (strstr (story, "4 records"));
    assert_non_null (strstr (story, "reason: outside calling hours"));
    free (story);
    blobs_t before;
    s_collect_blobs (root, keys, VICTIM, &before);
    assert_int_equal (before.n, 4);

    size_t erased = 0;
    assert_int_equal (pl_audit_store_erase (s, VICTIM, TA_T0 + 86400000, "dpo@example.com",
                                            "erase-req-1", &erased),
                      0);
    assert_int_equal (erased, 4);

    /* After: the chain verifies, the sealed data is gone from every file (segments, index,
     * its WAL), other people are untouched, and the erasure itself is on record. */
    pl_audit_verify_report_t *r;
    assert_int_equal (ta_verify (root, &r), 0);
    assert_int_equal (r->chains[0].erased, 4);
    assert_int_equal (r->chains[0].records, 201);
    pl_audit_verify_report_destroy (&r);
    for (size_t i = 0; i < before.n; i++)
        assert_false (ta_dir_contains (root, before.blob[i], before.len[i]));
    s_free_blobs (&before);

    items = s_query_number (rd, VICTIM, true);
    assert_int_equal (json_array_size (items), 5);          /* 4 decisions + the erasure */
    size_t i;
    json_t *o;
    json_array_foreach (items, i, o)
    {
        assert_null (json_object_get (o, "number"));
        assert_null (json_object_get (o, "reason"));
        const char *type = json_string_value (json_object_get (o, "type"));
        if (strcmp (type, "person.erased") == 0)
            assert_string_equal (json_string_value (json_object_get (o, "actor")),
                                 "dpo@example.com");
        else
            assert_string_equal (json_string_value (json_object_get (o, "personal")), "erased");
    }
    json_decref (items);
    items = s_query_number (rd, "+33612000008", true);
    assert_string_equal (json_string_value (json_object_get (json_array_get (items, 0), "number")),
                         "+33612000008");
    json_decref (items);
    assert_int_equal (pl_audit_reader_story (rd, VICTIM, true, &story), 0);
    assert_non_null (strstr (story, "(personal data erased)"));
    assert_non_null (strstr (story, "person.erased"));
    assert_null (strstr (story, VICTIM + 3));
    free (story);

    /* The same request again (a redelivery, or a rerun after a crash) changes nothing. */
    assert_int_equal (pl_audit_store_erase (s, VICTIM, TA_T0 + 86400001, "dpo@example.com",
                                            "erase-req-1", &erased),
                      0);
    assert_int_equal (erased, 0);
    pl_audit_store_stats_t st;
    pl_audit_store_stats (s, &st);
    assert_int_equal (st.next_seq, 201);
    pl_audit_store_destroy (&s);

    /* A rebuilt index learns the erasure from the segments. */
    char path[4096];
    snprintf (path, sizeof path, "%s/" CHAIN "/index.sqlite", root);
    unlink (path);
    s = ta_open (&cfg);
    assert_int_equal (pl_audit_store_wait_indexed (s), 0);
    pl_audit_store_destroy (&s);
    items = s_query_number (rd, VICTIM, true);
    assert_int_equal (json_array_size (items), 5);
    json_array_foreach (items, i, o)
        assert_null (json_object_get (o, "number"));
    json_decref (items);
    assert_int_equal (ta_verify (root, NULL), 0);
    pl_audit_reader_destroy (&rd);
    pl_audit_keys_destroy (&keys);
    ta_rmdir (&root);
}

static void
test_erasure_of_an_unknown_or_malformed_number (void **state)
{
    char *root = ta_tmpdir ();
    pl_audit_keys_t *keys = ta_keys ();
    pl_audit_store_config_t cfg;
    ta_config (&cfg, root, CHAIN, keys, 0, NULL);
    pl_audit_store_t *s = ta_open (&cfg);
    ta_append_range (s, 0, 10);
    size_t erased = 99;
    assert_int_equal (pl_audit_store_erase (s, "0612", TA_T0, "dpo", NULL, &erased), PL_EINVAL);
    assert_int_equal (pl_audit_store_erase (s, "+4915112345678", TA_T0, "dpo", NULL, &erased), 0);
    assert_int_equal (erased, 0);   /* recorded all the same: the request was honoured */
    pl_audit_store_stats_t st;
    pl_audit_store_stats (s, &st);
    assert_int_equal (st.next_seq, 11);
    pl_audit_store_destroy (&s);
    assert_int_equal (ta_verify (root, NULL), 0);
    pl_audit_keys_destroy (&keys);
    ta_rmdir (&root);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_erasure_keeps_verify_green_and_the_number_unreadable),
        cmocka_unit_test (test_erasure_of_an_unknown_or_malformed_number),
    };
    return cmocka_run_group_tests_name ("audit erasure", tests, NULL, NULL);
}
