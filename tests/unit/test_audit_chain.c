/*  test_audit_chain.c — records, the hash chain, group commit, idempotency, checkpoints, keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <sodium.h>
#include "plateau/error.h"
#include "checkpoint.h"
#include "encode.h"
#include "plateau/audit_record.h"
#include "plateau/audit_retention.h"
#include "plateau/audit_segment.h"
#include "plateau/audit_store.h"
#include "test_audit_support.h"

static void
test_appended_events_commit_in_order_and_verify (void **state)
{
    char *root = ta_tmpdir ();
    pl_audit_keys_t *keys = ta_keys ();
    ta_commits_t commits = {0};
    pl_audit_store_config_t cfg;
    ta_config (&cfg, root, "replica-0", keys, 0, &commits);
    pl_audit_store_t *s = ta_open (&cfg);
    ta_append_range (s, 0, 500);
    assert_int_equal (commits.n, 500);
    assert_int_equal (commits.last_seq, 499);
    pl_audit_store_stats_t st;
    pl_audit_store_stats (s, &st);
    assert_int_equal (st.next_seq, 500);
    assert_int_equal (st.durable_next, 500);
    assert_true (st.batches >= 1);
    pl_audit_store_destroy (&s);
    assert_null (s);
    assert_int_equal (ta_verify (root, NULL), 0);

    /* Reopened, the chain continues where it stopped. */
    s = ta_open (&cfg);
    ta_append_range (s, 500, 1000);
    assert_int_equal (commits.last_seq, 999);
    pl_audit_store_destroy (&s);
    pl_audit_verify_report_t *r;
    assert_int_equal (ta_verify (root, &r), 0);
    assert_int_equal (r->n_chains, 1);
    assert_int_equal (r->chains[0].records, 1000);
    assert_int_equal (r->chains[0].last_seq, 999);
    assert_true (r->chains[0].checkpoints >= 2);
    pl_audit_verify_report_destroy (&r);
    pl_audit_keys_destroy (&keys);
    ta_rmdir (&root);
}

static void
test_several_chains_verify_together (void **state)
{
    char *root = ta_tmpdir ();
    pl_audit_keys_t *keys = ta_keys ();
    const char *chains[] = {"audit-0", "audit-1", "audit-2"};
    for (int c = 0; c < 3; c++) {
        pl_audit_store_config_t cfg;
        ta_config (&cfg, root, chains[c], keys, 8192, NULL);
        pl_audit_store_t *s = ta_open (&cfg);
        /* Batches of 10 (a batch never spans segments), so each chain has several. */
        uint64_t from = (uint64_t) c * 1000, to = from + 100 + (uint64_t) c * 10;
        for (uint64_t i = from; i < to; i += 10)
            ta_append_range (s, i, i + 10 < to ? i + 10 : to);
        pl_audit_store_destroy (&s);
    }
    pl_audit_verify_report_t *r;
    assert_int_equal (ta_verify (root, &r), 0);
    assert_int_equal (r->n_chains, 3);
    assert_string_equal (r->chains[1].chain, "audit-1");
    assert_int_equal (r->chains[2].records, 120);
    assert_true (r->chains[0].segments > 1);
    pl_audit_verify_report_destroy (&r);
    pl_audit_keys_destroy (&keys);
    ta_rmdir (&root);
}

static void
test_record_round_trip_keeps_every_field (void **state)
{
    pl_audit_keys_t *keys = ta_keys ();
    pl_audit_codec_t *codec = pl_audit_codec_new ();
    ta_event_t e;
    ta_event (&e, 7);
    uint8_t prev[32], hash[32];
    memset (prev, 0xab, sizeof prev);
    pl__wbuf_t out = {0};
    pl_audit_encode_ctx_t ctx = {.seq = 42, .chain_id = "c1", .written_ms = TA_T0 + 9,
                                 .prev_hash = prev, .keys = keys};
    assert_int_equal (pl_audit_codec_encode (codec, &out, &e.ev, &ctx, hash), 0);

    pl_audit_frame_t f;
    const char *what = NULL;
    assert_int_equal (pl_audit_frame_parse (out.p, out.len, &f), 0);
    assert_int_equal (f.frame_len, out.len);
    assert_int_equal (pl_audit_frame_check (&f, &what), 0);
    uint8_t h[32];
    crypto_hash_sha256 (h, f.body, f.body_len);
    assert_memory_equal (h, hash, 32);
    assert_int_equal (pl_audit_frame_parse (out.p, out.len - 1, &f), PL_EAGAIN);

    const pl_audit_record_t *r;
    assert_int_equal (pl_audit_frame_parse (out.p, out.len, &f), 0);
    assert_int_equal (pl_audit_codec_decode (codec, &f, &r), 0);
    assert_int_equal (r->seq, 42);
    assert_string_equal (r->chain_id, "c1");
    assert_string_equal (r->event_id, "ev-7");
    assert_string_equal (r->type, "dial.denied");
    assert_string_equal (r->lead_id, "L-7");
    assert_string_equal (r->campaign, "spring");
    assert_int_equal (r->decision, PLATEAU__V1__DECISION__DENY);
    assert_int_equal (r->at_ms, TA_T0 + 7000);
    assert_int_equal (r->written_ms, TA_T0 + 9);
    assert_memory_equal (r->prev_hash, prev, 32);
    assert_int_equal (r->n_rules, 1);
    assert_string_equal (r->rules[0].rule_id, "fr.hours");
    assert_string_equal (r->rules[0].zone, "Europe/Paris");
    assert_int_equal (r->n_lists, 1);
    assert_string_equal (r->lists[0].version, "2026-03-01");
    assert_int_equal (r->n_counts, 1);
    assert_int_equal (r->counts[0].value, 2);
    assert_true (r->has_pseudonym);
    uint8_t pseud[32];
    assert_int_equal (pl_audit_keys_pseudonym (keys, "+33612000007", pseud), 0);
    assert_memory_equal (r->pseudonym, pseud, 32);
    /* The number is nowhere in clear. */
    assert_null (memmem (out.p, out.len, "+33612000007", 12));

    const pl_audit_personal_t *p;
    assert_int_equal (pl_audit_codec_personal (codec, r, keys, &p), 0);
    assert_string_equal (p->number, "+33612000007");
    assert_string_equal (p->reason, e.reason);
    assert_int_equal (p->n_details, 1);
    assert_string_equal (p->details[0].value, "A-17");
    /* Bound to its chain and seq: the same blob elsewhere does not open. */
    assert_int_equal (pl_audit_codec_open_personal (codec, "c1", 43, r->pd, r->pd_len, keys, &p),
                      PL_ECORRUPT);
    pl__wbuf_free (&out);
    pl_audit_codec_destroy (&codec);
    pl_audit_keys_destroy (&keys);
}

static void
test_malformed_events_are_refused_and_leave_the_chain_alone (void **state)
{
    char *root = ta_tmpdir ();
    pl_audit_keys_t *keys = ta_keys ();
    pl_audit_store_config_t cfg;
    ta_config (&cfg, root, "c", keys, 0, NULL);
    pl_audit_store_t *s = ta_open (&cfg);
    ta_event_t e;
    struct {
        const char *what;
        void (*mutate) (ta_event_t *);
        int rc;
    } cases[] = {
        {"no id", NULL, PL_EINVAL},
        {"no type", NULL, PL_EINVAL},
        {"bad number", NULL, PL_EINVAL},
        {"bad utf-8", NULL, PL_EINVAL},
        {"too big", NULL, PL_ETOOBIG},
    };
    char *big = malloc (70000);
    memset (big, 'x', 69999);
    big[69999] = '\0';
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ta_event (&e, 1);
        switch (i) {
            case 0: e.ev.event_id = ""; break;
            case 1: e.ev.type = ""; break;
            case 2: e.ev.number = "0612345678"; break;
            case 3: e.ev.lead_id = "L-\xc3\x28"; break;
            case 4: e.ev.reason = big; break;
        }
        int rc = pl_audit_store_append (s, &e.ev, TA_T0, NULL);
        if (rc != cases[i].rc)
            fprintf (stderr, "%s: got %d (%s)\n", cases[i].what, rc, pl_audit_store_errstr (s));
        assert_int_equal (rc, cases[i].rc);
        assert_true (strlen (pl_audit_store_errstr (s)) > 0);
    }
    free (big);
    ta_append_range (s, 1, 3);
    pl_audit_store_stats_t st;
    pl_audit_store_stats (s, &st);
    assert_int_equal (st.next_seq, 2);
    assert_int_equal (st.rejected, 5);
    pl_audit_store_destroy (&s);
    assert_int_equal (ta_verify (root, NULL), 0);
    pl_audit_keys_destroy (&keys);
    ta_rmdir (&root);
}

static void
test_an_event_id_is_stored_once_whatever_the_redeliveries (void **state)
{
    char *root = ta_tmpdir ();
    pl_audit_keys_t *keys = ta_keys ();
    ta_commits_t commits = {0};
    pl_audit_store_config_t cfg;
    ta_config (&cfg, root, "c", keys, 0, &commits);
    cfg.commit_interval_ms = 60000;         /* nothing flushes until sync */
    cfg.recent_ids = 16;                    /* most ids must come from the index */
    pl_audit_store_t *s = ta_open (&cfg);
    ta_event_t e;
    ta_event (&e, 1);
    assert_int_equal (pl_audit_store_append (s, &e.ev, TA_T0, (void *) 1), 0);
    /* Redelivered before it is durable: the first copy's commit will ack it. */
    assert_int_equal (pl_audit_store_append (s, &e.ev, TA_T0, (void *) 2), PL_EBUSY);
    assert_int_equal (pl_audit_store_sync (s), 0);
    assert_int_equal (commits.n, 1);
    /* Redelivered after: acknowledged at once, not stored again. */
    assert_int_equal (pl_audit_store_append (s, &e.ev, TA_T0, (void *) 3), PL_EEXIST);
    ta_append_range (s, 2, 200);
    assert_int_equal (pl_audit_store_wait_indexed (s), 0);
    /* ev-1 left the in-memory set long ago: the index answers. */
    ta_append_range (s, 200, 201);
    assert_int_equal (pl_audit_store_append (s, &e.ev, TA_T0, (void *) 4), PL_EEXIST);
    pl_audit_store_stats_t st;
    pl_audit_store_stats (s, &st);
    assert_true (st.index_lookups >= 1);
    assert_int_equal (st.next_seq, 200);
    pl_audit_store_destroy (&s);

    /* After a restart, durable ids (indexed or not) are still known. */
    s = ta_open (&cfg);
    for (uint64_t i = 1; i < 201; i += 37) {
        ta_event (&e, i);
        assert_int_equal (pl_audit_store_append (s, &e.ev, TA_T0, NULL), PL_EEXIST);
    }
    pl_audit_store_stats (s, &st);
    assert_int_equal (st.next_seq, 200);
    pl_audit_store_destroy (&s);
    pl_audit_verify_report_t *r;
    assert_int_equal (ta_verify (root, &r), 0);
    assert_int_equal (r->chains[0].records, 200);
    pl_audit_verify_report_destroy (&r);
    pl_audit_keys_destroy (&keys);
    ta_rmdir (&root);
}

static void
test_checkpoints_are_signed_with_the_published_key (void **state)
{
    char *root = ta_tmpdir ();
    pl_audit_keys_t *keys = ta_keys ();
    pl_audit_store_config_t cfg;
    ta_config (&cfg, root, "c", keys, 0, NULL);
    cfg.checkpoint_every = 100;
    pl_audit_store_t *s = ta_open (&cfg);
    for (uint64_t b = 0; b < 5; b++)
        ta_append_range (s, b * 100, b * 100 + 100);
    pl_audit_store_stats_t st;
    pl_audit_store_stats (s, &st);
    assert_true (st.checkpoints >= 4);
    pl_audit_store_destroy (&s);                /* signs the tail on the way out */

    char path[4096];
    snprintf (path, sizeof path, "%s/c/" PL_AUDIT_CKPT_FILE, root);
    pl_audit_ckpt_t *v;
    size_t n, partial, bad;
    assert_int_equal (pl_audit_ckpt_load (path, &v, &n, &partial, &bad), 0);
    assert_true (n >= 5);
    assert_int_equal (partial, 0);
    assert_int_equal (v[n - 1].seq, 499);
    uint8_t pk[32];
    assert_int_equal (pl_audit_keys_public (keys, pk), 0);
    const uint8_t (*trusted)[32] = (const uint8_t (*)[32]) pk;
    for (size_t i = 0; i < n; i++)
        assert_int_equal (pl_audit_ckpt_verify (&v[i], trusted, 1), 0);
    pl_audit_keys_t *other = ta_other_keys ();
    uint8_t opk[32];
    pl_audit_keys_public (other, opk);
    assert_int_equal (pl_audit_ckpt_verify (&v[0], (const uint8_t (*)[32]) opk, 1), PL_EPERM);
    v[0].seq++;
    assert_int_equal (pl_audit_ckpt_verify (&v[0], trusted, 1), PL_ECORRUPT);
    free (v);
    pl_audit_keys_destroy (&other);

    /* Time checkpoints follow the store's clock, passed in. */
    s = ta_open (&cfg);
    ta_append_range (s, 500, 510);
    pl_audit_store_stats (s, &st);
    int64_t before = st.last_checkpoint_ms;
    pl_audit_store_tick (s, TA_T0 + 510 * 1000 + cfg.checkpoint_interval_ms * 2);
    pl_audit_store_stats (s, &st);
    assert_int_equal (st.last_checkpoint_seq, 509);
    assert_true (st.last_checkpoint_ms >= before);
    pl_audit_store_destroy (&s);
    pl_audit_keys_destroy (&keys);
    ta_rmdir (&root);
}

static void
test_key_files_are_generated_loaded_and_never_overwritten (void **state)
{
    char *dir = ta_tmpdir ();
    char sk[4096], pk[4096], ps[4096], dk[4096];
    snprintf (sk, sizeof sk, "%s/signing.key", dir);
    snprintf (pk, sizeof pk, "%s/signing.pub", dir);
    snprintf (ps, sizeof ps, "%s/pseudonym.key", dir);
    snprintf (dk, sizeof dk, "%s/data.key", dir);
    assert_int_equal (pl_audit_keys_generate_signing (sk, pk), 0);
    assert_int_equal (pl_audit_keys_generate_signing (sk, pk), PL_EEXIST);
    assert_int_equal (pl_audit_keys_generate_secret (ps), 0);
    assert_int_equal (pl_audit_keys_generate_secret (dk), 0);
    assert_int_equal (pl_audit_keys_generate_secret (dk), PL_EEXIST);
    struct stat st;
    assert_int_equal (stat (sk, &st), 0);
    assert_int_equal (st.st_mode & 0777, 0600);

    pl_audit_keys_t *k = pl_audit_keys_new ();
    assert_int_equal (pl_audit_keys_load_signing (k, sk), 0);
    assert_int_equal (pl_audit_keys_load_pseudonym (k, ps), 0);
    assert_int_equal (pl_audit_keys_load_data (k, dk), 0);
    uint8_t pub[32], pub_file[32];
    assert_int_equal (pl_audit_keys_public (k, pub), 0);
    assert_int_equal (pl_audit_keys_read_public (pk, pub_file), 0);
    assert_memory_equal (pub, pub_file, 32);
    char hex[65];
    assert_int_equal (pl_audit_keys_public_hex (k, hex), 0);
    assert_int_equal (strlen (hex), 64);
    assert_int_equal (pl_audit_keys_load_data (k, "/nonexistent/key"), PL_EIO);
    assert_non_null (strstr (pl_audit_keys_errstr (k), "/nonexistent/key"));
    uint8_t raw[32];
    assert_int_equal (pl_audit_keys_parse_hex ("not hex", raw), PL_ECONFIG);

    /* Pseudonyms: stable under one key, different under another, only for E.164. */
    uint8_t a[32], b[32];
    assert_int_equal (pl_audit_keys_pseudonym (k, "+33612345678", a), 0);
    assert_int_equal (pl_audit_keys_pseudonym (k, "+33612345678", b), 0);
    assert_memory_equal (a, b, 32);
    pl_audit_keys_t *t = ta_keys ();
    assert_int_equal (pl_audit_keys_pseudonym (t, "+33612345678", b), 0);
    assert_memory_not_equal (a, b, 32);
    assert_int_equal (pl_audit_keys_pseudonym (k, "33612345678", a), PL_EINVAL);
    assert_int_equal (pl_audit_keys_pseudonym (k, "+0612345678", a), PL_EINVAL);
    pl_audit_keys_destroy (&t);
    pl_audit_keys_destroy (&k);
    assert_null (k);
    ta_rmdir (&dir);
}

static void
test_retention_table_matches_exact_types_then_longest_prefix (void **state)
{
    pl_audit_retention_t *r = pl_audit_retention_new ();
    assert_int_equal (pl_audit_retention_for (r, "dial.denied"), PL_AUDIT_FOREVER);
    assert_true (pl_audit_retention_keeps_all (r));
    assert_int_equal (pl_audit_retention_parse (r, "dnc.*=5y, dnc.request.us=6y,dial.*=400d, "
                                                   "default=3y"),
                      0);
    const int64_t day = 86400000;
    assert_int_equal (pl_audit_retention_for (r, "dnc.request"), 5 * 366 * day);
    assert_int_equal (pl_audit_retention_for (r, "dnc.request.us"), 6 * 366 * day);
    assert_int_equal (pl_audit_retention_for (r, "dial.denied"), 400 * day);
    assert_int_equal (pl_audit_retention_for (r, "lead.accepted"), 3 * 366 * day);
    assert_false (pl_audit_retention_keeps_all (r));
    assert_int_equal (pl_audit_retention_parse (r, "lead.accepted=forever"), 0);
    assert_int_equal (pl_audit_retention_for (r, "lead.accepted"), PL_AUDIT_FOREVER);
    assert_int_equal (pl_audit_retention_parse (r, "dial.*=five years"), PL_EINVAL);
    assert_non_null (strstr (pl_audit_retention_errstr (r), "five years"));
    assert_int_equal (pl_audit_retention_parse (r, "=5y"), PL_EINVAL);
    pl_audit_retention_destroy (&r);
    assert_null (r);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_appended_events_commit_in_order_and_verify),
        cmocka_unit_test (test_several_chains_verify_together),
        cmocka_unit_test (test_record_round_trip_keeps_every_field),
        cmocka_unit_test (test_malformed_events_are_refused_and_leave_the_chain_alone),
        cmocka_unit_test (test_an_event_id_is_stored_once_whatever_the_redeliveries),
        cmocka_unit_test (test_checkpoints_are_signed_with_the_published_key),
        cmocka_unit_test (test_key_files_are_generated_loaded_and_never_overwritten),
        cmocka_unit_test (test_retention_table_matches_exact_types_then_longest_prefix),
    };
    return cmocka_run_group_tests_name ("audit chain", tests, NULL, NULL);
}
