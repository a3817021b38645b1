/*  test_audit_evidence.c — typed evidence: public, hashed, kept after erasure, read back in every
 *  view; events that put the callee's number into evidence are refused; version 1 records
 *  still read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "encode.h"
#include "plateau/error.h"
#include "plateau/audit_query.h"
#include "plateau/audit_record.h"
#include "plateau/audit_store.h"
#include "test_audit_support.h"

#define CHAIN "eu-1"
#define CALLEE "+19075550123"

/* A dial.allowed with every kind of evidence a check needs, for the number CALLEE. */
typedef struct {
    ta_event_t t;
    Plateau__V1__ZoneCandidate z[2], *zp[2];
    Plateau__V1__ListVersion l[2], *lp[2];
    Plateau__V1__CallFacts call;
    char *overlays[1], *regions[1];
} s_dial_t;

static void
s_dial (s_dial_t *d, uint64_t i, const char *number)
{
    memset (d, 0, sizeof *d);
    ta_event_for (&d->t, i, number, "L-1", "camp-1", "dial.allowed");
    Plateau__V1__AuditEvent *ev = &d->t.ev;
    const char *zones[2][2] = {{"America/Juneau", "prefix"}, {"America/Anchorage", "prefix"}};
    for (int k = 0; k < 2; k++) {
        plateau__v1__zone_candidate__init (&d->z[k]);
        d->z[k].zone = (char *) zones[k][0];
        d->z[k].source = (char *) zones[k][1];
        d->zp[k] = &d->z[k];
        plateau__v1__list_version__init (&d->l[k]);
        d->lp[k] = &d->l[k];
    }
    d->l[0].name = "us-dnc";
    d->l[0].version = "2026-02-27";
    d->l[0].copy_date = "2026-02-27";
    d->l[0].loaded_at_ms = TA_T0 - 4 * 86400000LL;
    d->l[1].name = "internal-dnc";
    d->l[1].version = "v812";
    d->l[1].copy_date = "2026-03-03";
    d->l[1].hit = false;
    ev->n_lists = 2;
    ev->lists = d->lp;
    ev->n_zones = 2;
    ev->zones = d->zp;
    ev->zone = "America/Juneau";
    ev->tenant = "acme";
    ev->attempt_id = "D-42";
    ev->call_kind = PLATEAU__V1__CALL_KIND__DEBT_COLLECTION;
    ev->profile = "us-dc";
    d->overlays[0] = "us-ak";
    ev->n_overlays = 1;
    ev->overlays = d->overlays;
    d->regions[0] = "US-AK";
    ev->n_regions = 1;
    ev->regions = d->regions;
    ev->evaluated_at_ms = TA_T0;
    ev->local_time = "2026-03-03T03:00:00-09:00";
    ev->dial_mode = PLATEAU__V1__DIAL_MODE__AUTODIALED;
    ev->caller_id = "+18005550100";
    plateau__v1__call_facts__init (&d->call);
    d->call.result = "answered";
    d->call.placed_at_ms = TA_T0 + 1000;
    d->call.answered_at_ms = TA_T0 + 9000;
    d->call.ended_at_ms = TA_T0 + 95000;
    ev->call = &d->call;
}


typedef struct {
    char *p;
    size_t len;
} s_text_t;

static int
s_sink (void *arg, const char *data, size_t len)
{
    s_text_t *t = arg;
    t->p = realloc (t->p, t->len + len + 1);
    memcpy (t->p + t->len, data, len);
    t->len += len;
    t->p[t->len] = '\0';
    return 0;
}

static json_t *
s_item (json_t *items, const char *type)
{
    size_t i;
    json_t *o;
    json_array_foreach (items, i, o)
        if (strcmp (json_string_value (json_object_get (o, "type")), type) == 0)
            return o;
    return NULL;
}

static void
test_evidence_is_kept_after_erasure_in_query_export_and_story (void **state)
{
    char *root = ta_tmpdir ();
    pl_audit_keys_t *keys = ta_keys ();
    pl_audit_store_config_t cfg;
    ta_config (&cfg, root, CHAIN, keys, 0, NULL);
    pl_audit_store_t *s = ta_open (&cfg);
    s_dial_t d;
    s_dial (&d, 0, CALLEE);
    assert_int_equal (pl_audit_store_append (s, &d.t.ev, TA_T0, NULL), 0);
    ta_append_range (s, 1, 5);
    size_t erased = 0;
    assert_int_equal (pl_audit_store_erase (s, CALLEE, TA_T0 + 60000, "dpo", "erase-1", &erased), 0);
    assert_int_equal (erased, 1);
    assert_int_equal (pl_audit_store_wait_indexed (s), 0);
    pl_audit_store_destroy (&s);
    assert_int_equal (ta_verify (root, NULL), 0);

    /* The query, from the index: the personal part is gone, every typed fact is there. */
    pl_audit_reader_t *rd = pl_audit_reader_new (root, keys);
    pl_audit_query_t q = {.number = CALLEE, .reveal = true};
    json_t *items;
    char *cursor;
    assert_int_equal (pl_audit_reader_query (rd, &q, &items, &cursor), 0);
    json_t *o = s_item (items, "dial.allowed");
    assert_non_null (o);
    assert_string_equal (json_string_value (json_object_get (o, "personal")), "erased");
    assert_null (json_object_get (o, "number"));
    json_t *ev = json_object_get (o, "evidence");
    assert_non_null (ev);
    json_t *z1 = json_array_get (json_object_get (ev, "zones"), 1);
    assert_string_equal (json_string_value (json_object_get (z1, "zone")), "America/Anchorage");
    assert_string_equal (json_string_value (json_object_get (z1, "source")), "prefix");
    assert_string_equal (json_string_value (json_object_get (ev, "local_time")),
                         "2026-03-03T03:00:00-09:00");
    assert_int_equal (json_integer_value (json_object_get (ev, "evaluated_at_ms")), TA_T0);
    assert_string_equal (json_string_value (json_object_get (ev, "dial_mode")), "autodialed");
    assert_string_equal (json_string_value (json_object_get (ev, "call_kind")), "debt_collection");
    assert_string_equal (json_string_value (json_object_get (ev, "caller_id")), "+18005550100");
    assert_string_equal (json_string_value (json_object_get (ev, "attempt_id")), "D-42");
    json_t *call = json_object_get (ev, "call");
    assert_int_equal (json_integer_value (json_object_get (call, "placed_at_ms")), TA_T0 + 1000);
    assert_int_equal (json_integer_value (json_object_get (call, "ended_at_ms")), TA_T0 + 95000);
    json_t *l0 = json_array_get (json_object_get (o, "lists"), 0);
    assert_string_equal (json_string_value (json_object_get (l0, "name")), "us-dnc");
    assert_string_equal (json_string_value (json_object_get (l0, "copy_date")), "2026-02-27");
    assert_true (json_is_false (json_object_get (l0, "hit")));
    json_decref (items);

    /* The export, from the segments, shows the same evidence and never the number. */
    s_text_t t = {0};
    uint64_t count = 0;
    assert_int_equal (pl_audit_reader_export (rd, true, s_sink, &t, &count), 0);
    assert_int_equal (count, 6);
    assert_non_null (strstr (t.p, "\"local_time\":\"2026-03-03T03:00:00-09:00\""));
    assert_non_null (strstr (t.p, "\"copy_date\":\"2026-02-27\""));
    assert_null (strstr (t.p, "9075550123"));
    free (t.p);

    /* The story tells the zones, the instant in the binding zone, the lists and the call. */
    char *story;
    assert_int_equal (pl_audit_reader_story (rd, CALLEE, true, &story), 0);
    assert_non_null (strstr (story, "zones: America/Juneau (prefix), America/Anchorage (prefix); "
                                    "binding America/Juneau"));
    assert_non_null (strstr (story, "evaluated at 2026-03-03 Tue 03:00:00 AKST"));
    assert_non_null (strstr (story, "list us-dnc version 2026-02-27, copy of 2026-02-27"));
    assert_non_null (strstr (story, "call: result=answered, placed 2026-03-03 Tue 03:00:01 AKST"));
    assert_non_null (strstr (story, "overlays: us-ak"));
    assert_non_null (strstr (story, "(personal data erased)"));
    free (story);
    pl_audit_reader_destroy (&rd);
    pl_audit_keys_destroy (&keys);
    ta_rmdir (&root);
}

/* The callee's number in a public field would survive the person's erasure: refused. */
static void
test_the_callee_number_in_evidence_is_refused (void **state)
{
    char *root = ta_tmpdir ();
    pl_audit_keys_t *keys = ta_keys ();
    pl_audit_store_config_t cfg;
    ta_config (&cfg, root, CHAIN, keys, 0, NULL);
    pl_audit_store_t *s = ta_open (&cfg);
    s_dial_t d;
    s_dial (&d, 0, CALLEE);
    d.t.ev.caller_id = CALLEE;
    assert_int_equal (pl_audit_store_append (s, &d.t.ev, TA_T0, NULL), PL_EINVAL);
    assert_non_null (strstr (pl_audit_store_errstr (s), "caller_id"));
    s_dial (&d, 1, CALLEE);
    d.t.ev.caller_id = "0800 555 0100";
    assert_int_equal (pl_audit_store_append (s, &d.t.ev, TA_T0, NULL), PL_EINVAL);
    s_dial (&d, 2, CALLEE);
    d.t.ev.attempt_id = "dial-907-555-0123";
    assert_int_equal (pl_audit_store_append (s, &d.t.ev, TA_T0, NULL), PL_EINVAL);
    assert_non_null (strstr (pl_audit_store_errstr (s), "attempt_id"));
    s_dial (&d, 3, CALLEE);
    d.l[1].version = "+19075550123";
    assert_int_equal (pl_audit_store_append (s, &d.t.ev, TA_T0, NULL), PL_EINVAL);
    /* The same event with the number only in `number` is stored. */
    s_dial (&d, 4, CALLEE);
    assert_int_equal (pl_audit_store_append (s, &d.t.ev, TA_T0, NULL), 0);
    assert_int_equal (pl_audit_store_sync (s), 0);
    pl_audit_store_stats_t st;
    pl_audit_store_stats (s, &st);
    assert_int_equal (st.next_seq, 1);
    pl_audit_store_destroy (&s);
    pl_audit_keys_destroy (&keys);
    ta_rmdir (&root);
}

/* The evidence is in the hashed body: changing one byte of it breaks the record's hash. */
static void
test_the_evidence_is_hashed (void **state)
{
    pl_audit_keys_t *keys = ta_keys ();
    pl_audit_codec_t *c = pl_audit_codec_new ();
    s_dial_t d;
    s_dial (&d, 0, CALLEE);
    uint8_t prev[32] = {0}, hash[32];
    pl_audit_encode_ctx_t ctx = {.seq = 0, .chain_id = CHAIN, .written_ms = TA_T0,
                                 .prev_hash = prev, .keys = keys};
    pl__wbuf_t b = {0};
    assert_int_equal (pl_audit_codec_encode (c, &b, &d.t.ev, &ctx, hash), 0);
    pl_audit_frame_t f;
    const char *what = NULL;
    assert_int_equal (pl_audit_frame_parse (b.p, b.len, &f), 0);
    assert_int_equal (f.version, 2);
    assert_int_equal (pl_audit_frame_check (&f, &what), 0);
    uint8_t *at = memmem (b.p, b.len, "Anchorage", 9);
    assert_non_null (at);
    at[0] = 'B';
    assert_int_equal (pl_audit_frame_check (&f, &what), PL_ECORRUPT);
    pl__wbuf_free (&b);
    pl_audit_codec_destroy (&c);
    pl_audit_keys_destroy (&keys);
}

/* A record written before the evidence existed (format 1), byte for byte. */
static const uint8_t s_v1_frame[] = {
0xef, 0x00, 0x00, 0x00, 0x50, 0x41, 0x01, 0x00, 0xbf, 0x00, 0x00, 0x00,
0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
0x00, 0xa4, 0x38, 0x1c, 0x9c, 0x01, 0x00, 0x00, 0x64, 0xa4, 0x38, 0x1c,
0x9c, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x61, 0x31,
0x06, 0x00, 0x76, 0x31, 0x2d, 0x65, 0x76, 0x74, 0x05, 0x00, 0x73, 0x63,
0x72, 0x75, 0x62, 0x0d, 0x00, 0x73, 0x63, 0x72, 0x75, 0x62, 0x2e, 0x76,
0x65, 0x72, 0x64, 0x69, 0x63, 0x74, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
0x00, 0x00, 0x0c, 0x00, 0x45, 0x75, 0x72, 0x6f, 0x70, 0x65, 0x2f, 0x50,
0x61, 0x72, 0x69, 0x73, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x07, 0x00,
0x62, 0x6c, 0x6f, 0x63, 0x74, 0x65, 0x6c, 0x0a, 0x00, 0x32, 0x30, 0x32,
0x36, 0x2d, 0x30, 0x31, 0x2d, 0x33, 0x30, 0x00, 0xc3, 0x42, 0x16, 0x9c,
0x01, 0x00, 0x00, 0x00, 0xe1, 0xf5, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00,
0x00, 0x00, 0x00, 0x81, 0x50, 0xd3, 0x88, 0x7a, 0x0a, 0x69, 0xab, 0x39,
0xec, 0xab, 0xa2, 0xaa, 0x8a, 0x49, 0x34, 0xae, 0xb0, 0x84, 0x4e, 0xea,
0x23, 0x61, 0xb7, 0xa8, 0xe9, 0x62, 0x1b, 0x03, 0x1e, 0xbb, 0x5e, 
};

static void
test_a_version_1_record_still_reads (void **state)
{
    pl_audit_frame_t f;
    const pl_audit_record_t *r;
    const char *what = NULL;
    assert_int_equal (pl_audit_frame_parse (s_v1_frame, sizeof s_v1_frame, &f), 0);
    assert_int_equal (f.version, 1);
    assert_int_equal (pl_audit_frame_check (&f, &what), 0);
    pl_audit_codec_t *c = pl_audit_codec_new ();
    assert_int_equal (pl_audit_codec_decode (c, &f, &r), 0);
    assert_null (r->evidence);
    assert_int_equal (r->seq, 7);
    assert_string_equal (r->type, "scrub.verdict");
    assert_string_equal (r->zone, "Europe/Paris");
    assert_int_equal (r->n_lists, 1);
    assert_string_equal (r->lists[0].name, "bloctel");
    assert_string_equal (r->lists[0].version, "2026-01-30");
    assert_string_equal (r->lists[0].copy_date, "");
    pl_audit_codec_destroy (&c);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_evidence_is_kept_after_erasure_in_query_export_and_story),
        cmocka_unit_test (test_the_callee_number_in_evidence_is_refused),
        cmocka_unit_test (test_the_evidence_is_hashed),
        cmocka_unit_test (test_a_version_1_record_still_reads),
    };
    return cmocka_run_group_tests_name ("audit evidence", tests, NULL, NULL);
}
