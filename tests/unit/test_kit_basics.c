/*  test_kit_basics.c — ids, trace ids, clocks, envelopes and log lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "plateau/audit_emit.h"
#include "plateau/clock.h"
#include "plateau/envelope.h"
#include "plateau/error.h"
#include "plateau/id.h"
#include "plateau/log.h"
#include "plateau/retired.h"

static void
test_ids_are_unique_ordered_and_carry_their_time (void **state)
{
    char prev[PL_ID_LEN + 1] = "";
    for (int i = 0; i < 10000; i++) {
        char id[PL_ID_LEN + 1];
        pl_id_new (id, 1764403200000LL + i / 100);
        assert_true (pl_id_valid (id));
        assert_true (strcmp (prev, id) < 0);       /* strictly increasing, even within one ms */
        assert_int_equal (pl_id_time_ms (id), 1764403200000LL + i / 100);
        strcpy (prev, id);
    }
    assert_false (pl_id_valid ("not-an-id"));
    assert_false (pl_id_valid ("8ZZZZZZZZZZZZZZZZZZZZZZZZZ"));   /* over 128 bits */
    assert_int_equal (pl_id_time_ms ("garbage"), -1);
}

static void
test_trace_ids_follow_w3c_traceparent (void **state)
{
    char t[PL_TRACE_ID_LEN + 1];
    pl_trace_id_new (t);
    assert_int_equal (strlen (t), 55);
    assert_true (pl_trace_id_valid (t));
    assert_memory_equal (t, "00-", 3);
    assert_false (pl_trace_id_valid ("00-00000000000000000000000000000000-0000000000000000-01"));
    assert_false (pl_trace_id_valid ("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
    assert_true (pl_trace_id_valid ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
}

static int
s_cmp_trace (const void *a, const void *b)
{
    return memcmp (a, b, PL_TRACE_ID_LEN + 1);
}

/* Trace ids come from a per-thread stream rekeyed every 4 KiB: thousands of them (many rekeys)
 * are all distinct, and a forked child does not draw its parent's next ones. */
static void
test_trace_ids_are_distinct_across_rekeys_and_forks (void **state)
{
    (void) state;
    enum { N = 3000 };
    char (*t)[PL_TRACE_ID_LEN + 1] = calloc (N + 1, sizeof *t);
    assert_non_null (t);
    for (int i = 0; i < N; i++) {
        pl_trace_id_new (t[i]);
        assert_true (pl_trace_id_valid (t[i]));
    }
    int fds[2];
    assert_int_equal (pipe (fds), 0);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        char c[PL_TRACE_ID_LEN + 1];
        pl_trace_id_new (c);
        ssize_t w = write (fds[1], c, sizeof c);
        _exit (w == (ssize_t) sizeof c ? 0 : 1);
    }
    char child[PL_TRACE_ID_LEN + 1];
    assert_int_equal (read (fds[0], child, sizeof child), (ssize_t) sizeof child);
    close (fds[0]);
    close (fds[1]);
    int status = 0;
    waitpid (pid, &status, 0);
    assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    assert_true (pl_trace_id_valid (child));
    pl_trace_id_new (t[N]);                           /* the parent's next */
    assert_memory_not_equal (child, t[N], PL_TRACE_ID_LEN);
    qsort (t, N + 1, sizeof *t, s_cmp_trace);
    for (int i = 1; i <= N; i++)
        assert_memory_not_equal (t[i - 1], t[i], PL_TRACE_ID_LEN);
    free (t);
}

static void
test_virtual_clock_moves_only_forward_and_only_when_told (void **state)
{
    pl_clock_t *c = pl_clock_new_virtual (1000);
    assert_true (pl_clock_is_virtual (c));
    assert_int_equal (pl_clock_now_ms (c), 1000);
    assert_int_equal (pl_clock_now_ms (c), 1000);
    assert_int_equal (pl_clock_advance (c, 7 * 24 * 3600 * 1000LL), 0);
    assert_int_equal (pl_clock_now_ms (c), 1000 + 7 * 24 * 3600 * 1000LL);
    assert_int_equal (pl_clock_set (c, 500), PL_EINVAL);
    assert_int_equal (pl_clock_advance (c, -1), PL_EINVAL);
    assert_int_equal (pl_clock_set (c, 1LL << 42), 0);
    assert_int_equal (pl_clock_now_ms (c), 1LL << 42);
    pl_clock_destroy (&c);
    assert_null (c);
    pl_clock_destroy (&c);

    pl_clock_t *r = pl_clock_new_real ();
    assert_false (pl_clock_is_virtual (r));
    assert_int_equal (pl_clock_advance (r, 10), PL_EINVAL);
    assert_true (pl_clock_now_ms (r) > 1700000000000LL);
    pl_clock_destroy (&r);
}

/* Two clocks given the same start, anchor and speed read the same virtual time (the processes of
 * a simulation agree without messages); a jump keeps the speed; nothing goes backwards. */
static void
test_running_clocks_agree_from_one_anchor_and_never_go_back (void **state)
{
    int64_t wall = pl_clock_now_ms (NULL);
    int64_t start = 1764403200000LL;
    pl_clock_t *a = pl_clock_new_virtual (0), *b = pl_clock_new_virtual (0);
    assert_int_equal (pl_clock_run (a, start, wall - 1000, 600), 0);
    assert_int_equal (pl_clock_run (b, start, wall - 1000, 600), 0);
    assert_true (pl_clock_is_running (a));
    int64_t ta = pl_clock_now_ms (a), tb = pl_clock_now_ms (b);
    /* One real second at 600×: ten virtual minutes, give or take what the reads took. */
    assert_true (ta >= start + 600000 && ta < start + 600000 + 600 * 200);
    assert_true (llabs (ta - tb) < 600 * 50);
    /* A jump goes on at the same speed; a jump back is refused. */
    assert_int_equal (pl_clock_set (a, ta + 3600000), 0);
    int64_t tj = pl_clock_now_ms (a);
    assert_true (tj >= ta + 3600000 && tj < ta + 3600000 + 600 * 200);
    assert_int_equal (pl_clock_set (a, ta), PL_EINVAL);
    assert_int_equal (pl_clock_run (a, start, wall, 600), PL_EINVAL);
    assert_int_equal (pl_clock_run (a, tj + 7200000, wall, 0), PL_EINVAL);
    pl_clock_t *r = pl_clock_new_real ();
    assert_int_equal (pl_clock_run (r, start, wall, 2), PL_EINVAL);
    assert_false (pl_clock_is_running (r));
    /* Its speed scales a tolerance meant in wall time; a real or standing clock's is 1. */
    assert_int_equal (pl_clock_speed (a), 600);
    assert_int_equal (pl_clock_speed (r), 1);
    pl_clock_t *standing = pl_clock_new_virtual (start);
    assert_int_equal (pl_clock_speed (standing), 1);
    pl_clock_destroy (&standing);
    pl_clock_destroy (&r);
    pl_clock_destroy (&a);
    pl_clock_destroy (&b);
}

static int s_released;
static void s_release (void *item) { s_released++; free (item); }

/* A replaced item is kept for keep_ms, then freed by a later add; destroy frees the rest. */
static void
test_retired_items_are_kept_a_while_then_freed (void **state)
{
    (void) state;
    s_released = 0;
    pl_retired_t *r = pl_retired_new (s_release, 50);
    assert_non_null (r);
    for (int i = 0; i < 20; i++)
        assert_int_equal (pl_retired_add (r, malloc (8)), 0);
    assert_int_equal (pl_retired_count (r), 20);
    assert_int_equal (s_released, 0);        /* none kept 50 ms yet */
    usleep (80 * 1000);
    assert_int_equal (pl_retired_add (r, malloc (8)), 0);
    assert_int_equal (s_released, 20);
    assert_int_equal (pl_retired_count (r), 1);
    pl_retired_destroy (&r);
    assert_null (r);
    assert_int_equal (s_released, 21);
}

static void
test_envelope_round_trips_and_names_its_type (void **state)
{
    pl_clock_t *clock = pl_clock_new_virtual (1764403200000LL);
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    pl_envelope_init (&env, &ids, "intake", clock, NULL);
    Plateau__V1__AuditEvent ev;
    pl_audit_event_init (&ev, "intake", "lead.accepted", "L1.accepted", 0);
    ev.lead_id = "L1";
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_AUDIT_EVENT;
    env.audit_event = &ev;
    size_t len;
    uint8_t *buf = pl_envelope_pack (&env, &len);
    assert_non_null (buf);
    assert_string_equal (env.type, "AuditEvent");
    char err[256];
    pl_envelope_t *back = pl_envelope_unpack (buf, len, err, sizeof err);
    assert_non_null (back);
    assert_string_equal (back->id, ids.id);
    assert_string_equal (back->type, "AuditEvent");
    assert_string_equal (back->source, "intake");
    assert_int_equal (back->sent_at_ms, 1764403200000LL);
    assert_int_equal (back->schema_version, PL_SCHEMA_VERSION);
    assert_true (pl_trace_id_valid (back->trace_id));
    assert_string_equal (back->audit_event->lead_id, "L1");
    pl_envelope_free (&back);
    assert_null (back);

    assert_int_equal (pl_envelope_type_from_name ("LeadSubmitted"), PLATEAU__V1__ENVELOPE__BODY_LEAD_SUBMITTED);
    assert_int_equal (pl_envelope_type_from_name ("Nope"), PLATEAU__V1__ENVELOPE__BODY__NOT_SET);
    assert_string_equal (pl_envelope_type_name (PLATEAU__V1__ENVELOPE__BODY_PROMISE_BROKEN), "PromiseBroken");

    /* Garbage and a lying type are refused with a reason. */
    assert_null (pl_envelope_unpack ((const uint8_t *) "\xff\xff\xff", 3, err, sizeof err));
    assert_non_null (strstr (err, "not a valid"));
    env.type = "LeadSubmitted";
    size_t n = plateau__v1__envelope__get_packed_size (&env);
    uint8_t *lying = malloc (n);
    plateau__v1__envelope__pack (&env, lying);
    assert_null (pl_envelope_unpack (lying, n, err, sizeof err));
    assert_non_null (strstr (err, "does not match"));
    free (lying);

    /* An id over the limit is refused: services derive bounded ids from it. */
    char long_id[PL_ENVELOPE_ID_MAX + 2];
    memset (long_id, 'A', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    env.type = NULL;
    env.id = long_id;
    uint8_t *big = pl_envelope_pack (&env, &n);
    assert_null (pl_envelope_unpack (big, n, err, sizeof err));
    assert_non_null (strstr (err, "envelope id of 129 bytes"));
    free (big);
    long_id[PL_ENVELOPE_ID_MAX] = '\0';           /* at the limit: accepted */
    big = pl_envelope_pack (&env, &n);
    back = pl_envelope_unpack (big, n, err, sizeof err);
    assert_non_null (back);
    pl_envelope_free (&back);
    free (big);
    free (buf);
    pl_clock_destroy (&clock);
}

static void
test_log_writes_one_json_object_per_line_and_masks_numbers (void **state)
{
    int fds[2];
    assert_int_equal (pipe (fds), 0);
    pl_log_t *log = pl_log_new ("intake", fds[1]);
    pl_log_info (log, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "lead \"accepted\"\n",
                 "lead_id", "L1");
    pl_log_debug (log, NULL, "hidden at info level");
    char buf[2048] = "";
    ssize_t n = read (fds[0], buf, sizeof buf - 1);
    assert_true (n > 0);
    buf[n] = '\0';
    assert_non_null (strstr (buf, "\"service\":\"intake\""));
    assert_non_null (strstr (buf, "\"level\":\"info\""));
    assert_non_null (strstr (buf, "\"msg\":\"lead \\\"accepted\\\"\\n\""));
    assert_non_null (strstr (buf, "\"lead_id\":\"L1\""));
    assert_null (strstr (buf, "hidden"));
    assert_int_equal (buf[n - 1], '\n');
    assert_null (strchr (buf, '\n') + 1 < buf + n ? strchr (strchr (buf, '\n') + 1, '\n') : NULL);
    char masked[32];
    assert_string_equal (pl_log_mask_number ("+33612345678", masked, sizeof masked), "+3361234****");
    pl_log_level_t lvl;
    assert_int_equal (pl_log_level_parse ("warn", &lvl), 0);
    assert_int_equal (lvl, PL_LOG_WARN);
    assert_int_equal (pl_log_level_parse ("loud", &lvl), PL_EINVAL);
    pl_log_destroy (&log);
    close (fds[0]);
    close (fds[1]);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_ids_are_unique_ordered_and_carry_their_time),
        cmocka_unit_test (test_trace_ids_follow_w3c_traceparent),
        cmocka_unit_test (test_trace_ids_are_distinct_across_rekeys_and_forks),
        cmocka_unit_test (test_virtual_clock_moves_only_forward_and_only_when_told),
        cmocka_unit_test (test_running_clocks_agree_from_one_anchor_and_never_go_back),
        cmocka_unit_test (test_retired_items_are_kept_a_while_then_freed),
        cmocka_unit_test (test_envelope_round_trips_and_names_its_type),
        cmocka_unit_test (test_log_writes_one_json_object_per_line_and_masks_numbers),
    };
    return cmocka_run_group_tests_name ("kit_basics", tests, NULL, NULL);
}
