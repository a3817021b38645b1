/*  test_sec_intake_audit_storm.c — a storm of bad rows does not write an audit record per row.
 *
 *  Attack: one CSV of 20,000 rows that are all refused (a clumsy CRM, or one that wants to
 *  fill the audit's disk: 100 MB of bad CSV wrote 650 MB of audit). The answer still lists
 *  every rejected row; the audit gets at most PLATEAU_INTAKE_AUDIT_REJECTS_PER_REQUEST (1,000)
 *  lead.rejected records, then one lead.rejected_summary counting the rest in typed fields.
 *  The events are counted where the intake writes them, its audit outbox in Redis (the audit
 *  stand-in is not pumped, so none is taken away).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>

#include "plateau/envelope.h"
#include "test_intake_fixture.h"

#define S_ROWS 20000
#define S_BOUND 1000                /* the default of PLATEAU_INTAKE_AUDIT_REJECTS_PER_REQUEST */

typedef struct {
    size_t rejected, summaries, other;
    int64_t counts[5];              /* of the summary: rejected, recorded, not_recorded, index, line */
    char trace_id[64];
} s_tally_t;

static void
s_tally_event (s_tally_t *t, const pl_envelope_t *env)
{
    const Plateau__V1__AuditEvent *ev = env->audit_event;
    if (!ev) {
        t->other++;
        return;
    }
    if (strcmp (ev->type, "lead.rejected") == 0)
        t->rejected++;
    else if (strcmp (ev->type, "lead.rejected_summary") == 0) {
        static const char *names[5] = { "rejected", "recorded", "not_recorded", "first_not_recorded_index",
                                        "first_not_recorded_line" };
        t->summaries++;
        snprintf (t->trace_id, sizeof t->trace_id, "%s", env->trace_id ? env->trace_id : "");
        for (size_t i = 0; i < ev->n_counts; i++)
            for (int k = 0; k < 5; k++)
                if (strcmp (ev->counts[i]->key, names[k]) == 0)
                    t->counts[k] = ev->counts[i]->value;
    } else
        t->other++;
}

/* Every audit event in the intake's audit outbox slots. */
static void
s_tally (fx_t *f, s_tally_t *t)
{
    memset (t, 0, sizeof *t);
    char cursor[32] = "0";
    do {
        pl_reply_t *r = pl_redis_command (f->redis, "SCAN %s MATCH pl:{*}:ob:intake-test:audit COUNT 1000", cursor);
        assert_non_null (r);
        assert_int_equal (pl_reply_len (r), 2);
        snprintf (cursor, sizeof cursor, "%s", pl_reply_str (pl_reply_element (r, 0), NULL));
        pl_reply_t *keys = pl_reply_element (r, 1);
        for (size_t i = 0; i < pl_reply_len (keys); i++) {
            pl_reply_t *x = pl_redis_command (f->redis, "XRANGE %s - +", pl_reply_str (pl_reply_element (keys, i), NULL));
            assert_non_null (x);
            for (size_t j = 0; j < pl_reply_len (x); j++) {
                pl_reply_t *fields = pl_reply_element (pl_reply_element (x, j), 1);
                for (size_t k = 0; k + 1 < pl_reply_len (fields); k += 2) {
                    if (strcmp (pl_reply_str (pl_reply_element (fields, k), NULL), "e") != 0)
                        continue;
                    size_t len;
                    const char *e = pl_reply_str (pl_reply_element (fields, k + 1), &len);
                    pl_envelope_t *env = plateau__v1__envelope__unpack (NULL, len, (const uint8_t *) e);
                    assert_non_null (env);
                    s_tally_event (t, env);
                    plateau__v1__envelope__free_unpacked (env, NULL);
                }
            }
            pl_reply_free (&x);
        }
        pl_reply_free (&r);
    } while (strcmp (cursor, "0") != 0);
}

static int
setup (void **state)
{
    return fx_setup_with (state, NULL);
}

static int
teardown (void **state)
{
    return fx_teardown (state);
}

static void
test_twenty_thousand_bad_rows_write_the_bound_then_one_summary (void **state)
{
    fx_t *f = *state;
    /* rows 2 … 20,001: numbers too short to be numbers, one good lead in the middle */
    size_t cap = 32 + S_ROWS * 8;
    char *csv = malloc (cap);
    assert_non_null (csv);
    size_t len = (size_t) snprintf (csv, cap, "phone\n");
    for (int i = 0; i < S_ROWS; i++)
        len += (size_t) snprintf (csv + len, cap - len, "%s\n", i == 5000 ? "0612345678" : "12");
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (fx_post (f, "?campaign=storm&country=FR", FX_TOKEN, "text/csv", NULL, csv, len, &r), 200);
    free (csv);

    /* the caller is told about every row */
    size_t rejected_lines = 0;
    const char *last = r.body;
    for (const char *p = r.body; p && *p; p = strchr (p, '\n') ? strchr (p, '\n') + 1 : NULL) {
        if (strncmp (p, "{\"summary\"", 10) == 0)
            last = p;
        else if (strstr (p, "\"status\":\"rejected\"") && strstr (p, "\"status\":\"rejected\"") < strchr (p, '\n'))
            rejected_lines++;
    }
    assert_int_equal (rejected_lines, S_ROWS - 1);
    json_t *sum = json_loads (last, JSON_DISABLE_EOF_CHECK, NULL);
    assert_int_equal (json_integer_value (json_object_get (json_object_get (sum, "summary"), "rejected")), S_ROWS - 1);
    assert_int_equal (json_integer_value (json_object_get (json_object_get (sum, "summary"), "accepted")), 1);
    json_decref (sum);
    pl_test_http_resp_free (&r);

    /* the audit: the bound, then one summary with the rest counted in typed fields */
    s_tally_t t;
    s_tally (f, &t);
    print_message ("audit outbox: %zu lead.rejected, %zu lead.rejected_summary, %zu other\n", t.rejected,
                   t.summaries, t.other);
    assert_int_equal (t.rejected, S_BOUND);
    assert_int_equal (t.summaries, 1);
    assert_int_equal (t.counts[0], S_ROWS - 1);
    assert_int_equal (t.counts[1], S_BOUND);
    assert_int_equal (t.counts[2], S_ROWS - 1 - S_BOUND);
    assert_int_equal (t.counts[3], S_BOUND);              /* the 1,001st item (the good lead is the 5,001st) */
    assert_int_equal (t.counts[4], S_BOUND + 2);          /* its line: the header is line 1 */
    assert_true (t.trace_id[0]);
}

static void
test_a_small_request_records_every_rejection_and_no_summary (void **state)
{
    fx_t *f = *state;
    const char *csv = "phone\n12\n13\n14\n";
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (fx_post (f, "?campaign=few&country=FR", FX_TOKEN, "text/csv", NULL, csv, strlen (csv), &r), 200);
    pl_test_http_resp_free (&r);
    s_tally_t t;
    s_tally (f, &t);
    assert_int_equal (t.rejected, 3);
    assert_int_equal (t.summaries, 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_twenty_thousand_bad_rows_write_the_bound_then_one_summary, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_a_small_request_records_every_rejection_and_no_summary, setup,
                                         teardown),
    };
    return cmocka_run_group_tests_name ("sec_intake_audit_storm", tests, NULL, NULL);
}
