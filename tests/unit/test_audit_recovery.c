/*  test_audit_recovery.c — torn tails after a crash, and kill -9 losing nothing committed. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "plateau/error.h"
#include "plateau/audit_record.h"
#include "plateau/audit_segment.h"
#include "plateau/audit_store.h"
#include "test_audit_support.h"

#define CHAIN "r0"

static pl_audit_store_t *
s_build (const char *root, pl_audit_keys_t *keys, uint64_t n)
{
    pl_audit_store_config_t cfg;
    ta_config (&cfg, root, CHAIN, keys, 0, NULL);
    pl_audit_store_t *s = ta_open (&cfg);
    ta_append_range (s, 0, n);
    return s;
}

static void
s_last_segment (const char *root, char *path, size_t size, uint64_t *first)
{
    char dir[4096];
    snprintf (dir, sizeof dir, "%s/" CHAIN, root);
    pl_audit_seg_entry_t *segs;
    size_t n;
    assert_int_equal (pl_audit_seg_list (dir, &segs, &n), 0);
    assert_true (n > 0);
    *first = segs[n - 1].first_seq;
    ta_seg_path (root, CHAIN, segs[n - 1].first_seq, path, size);
    free (segs);
}

static void
s_append_bytes (const char *path, const void *data, size_t len)
{
    int fd = open (path, O_WRONLY | O_APPEND);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, data, len), (ssize_t) len);
    close (fd);
}

static int
s_count_torn (const char *root)
{
    char dir[4096];
    snprintf (dir, sizeof dir, "%s/" CHAIN, root);
    char cmd[4200];
    snprintf (cmd, sizeof cmd, "ls '%s' | grep -c torn", dir);
    FILE *p = popen (cmd, "r");
    int n = 0;
    if (p) {
        if (fscanf (p, "%d", &n) != 1)
            n = 0;
        pclose (p);
    }
    return n;
}

static void
test_a_torn_tail_is_cut_back_to_the_last_complete_record (void **state)
{
    char *root = ta_tmpdir ();
    pl_audit_keys_t *keys = ta_keys ();
    pl_audit_store_t *s = s_build (root, keys, 100);
    pl_audit_store_destroy (&s);
    char path[4096];
    uint64_t first;
    s_last_segment (root, path, sizeof path, &first);
    size_t len;
    uint8_t *seg = ta_read_file (path, &len);
    size_t flen;
    size_t off = ta_frame_offset (seg, len, 99, &flen);
    /* What a kill -9 in the middle of a write leaves: the start of a record. */
    s_append_bytes (path, seg + off, flen / 2);
    free (seg);
    assert_int_equal (ta_verify (root, NULL), PL_ECORRUPT);

    pl_audit_store_config_t cfg;
    ta_config (&cfg, root, CHAIN, keys, 0, NULL);
    s = ta_open (&cfg);
    pl_audit_store_stats_t st;
    pl_audit_store_stats (s, &st);
    assert_int_equal (st.next_seq, 100);
    ta_append_range (s, 100, 150);
    pl_audit_store_destroy (&s);
    pl_audit_verify_report_t *r;
    assert_int_equal (ta_verify (root, &r), 0);
    assert_int_equal (r->chains[0].records, 150);
    assert_int_equal (r->chains[0].torn_files, 1);     /* the cut bytes were kept aside */
    pl_audit_verify_report_destroy (&r);
    assert_int_equal (s_count_torn (root), 1);
    pl_audit_keys_destroy (&keys);
    ta_rmdir (&root);
}

static void
test_a_zero_filled_tail_is_cut_too (void **state)
{
    char *root = ta_tmpdir ();
    pl_audit_keys_t *keys = ta_keys ();
    pl_audit_store_t *s = s_build (root, keys, 40);
    pl_audit_store_destroy (&s);
    char path[4096];
    uint64_t first;
    s_last_segment (root, path, sizeof path, &first);
    uint8_t zeros[3000] = {0};                  /* pages that never reached the disk */
    s_append_bytes (path, zeros, sizeof zeros);
    pl_audit_store_config_t cfg;
    ta_config (&cfg, root, CHAIN, keys, 0, NULL);
    s = ta_open (&cfg);
    ta_append_range (s, 40, 45);
    pl_audit_store_destroy (&s);
    assert_int_equal (ta_verify (root, NULL), 0);
    pl_audit_keys_destroy (&keys);
    ta_rmdir (&root);
}

static void
test_damage_inside_the_segment_is_not_cut (void **state)
{
    char *root = ta_tmpdir ();
    pl_audit_keys_t *keys = ta_keys ();
    pl_audit_store_t *s = s_build (root, keys, 60);
    pl_audit_store_destroy (&s);
    char path[4096];
    uint64_t first;
    s_last_segment (root, path, sizeof path, &first);
    size_t len;
    uint8_t *seg = ta_read_file (path, &len);
    size_t off = ta_frame_offset (seg, len, 30, NULL);
    seg[off + PL_AUDIT_FRAME_HEAD + 40] ^= 1;
    ta_write_file (path, seg, len);
    free (seg);
    pl_audit_store_config_t cfg;
    ta_config (&cfg, root, CHAIN, keys, 0, NULL);
    s = pl_audit_store_new (&cfg);
    assert_int_equal (pl_audit_store_open (s), PL_ECORRUPT);
    assert_non_null (strstr (pl_audit_store_errstr (s), "not a torn tail"));
    pl_audit_store_destroy (&s);
    size_t len2;
    free (ta_read_file (path, &len2));
    assert_int_equal (len2, len);               /* nothing was cut */
    pl_audit_keys_destroy (&keys);
    ta_rmdir (&root);
}

static void
test_a_segment_torn_inside_its_header_is_set_aside (void **state)
{
    char *root = ta_tmpdir ();
    pl_audit_keys_t *keys = ta_keys ();
    pl_audit_store_t *s = s_build (root, keys, 20);
    pl_audit_store_destroy (&s);
    char path[4096];
    ta_seg_path (root, CHAIN, 20, path, sizeof path);
    ta_write_file (path, (const uint8_t *) "PLAUDSEG", 8);
    pl_audit_store_config_t cfg;
    ta_config (&cfg, root, CHAIN, keys, 0, NULL);
    s = ta_open (&cfg);
    ta_append_range (s, 20, 30);
    pl_audit_store_destroy (&s);
    pl_audit_verify_report_t *r;
    assert_int_equal (ta_verify (root, &r), 0);
    assert_int_equal (r->chains[0].records, 30);
    pl_audit_verify_report_destroy (&r);
    pl_audit_keys_destroy (&keys);
    ta_rmdir (&root);
}

/* ---- kill -9 --------------------------------------------------------------------------- */

static int s_pipe_fd = -1;

static void
s_child_commit (void *arg, const pl_audit_committed_t *items, size_t n)
{
    uint64_t seq = items[n - 1].seq;
    if (write (s_pipe_fd, &seq, sizeof seq) != sizeof seq)
        _exit (3);
}

/* The child: appends events from `from` on, forever, reporting each durable batch. */
static void
s_child (const char *root, uint64_t from)
{
    pl_audit_keys_t *keys = ta_keys ();
    pl_audit_store_config_t cfg;
    pl_audit_store_config_defaults (&cfg);
    cfg.dir = root;
    cfg.chain_id = CHAIN;
    cfg.keys = keys;
    cfg.commit_interval_ms = 2;
    cfg.segment_max_bytes = 256 * 1024;
    cfg.checkpoint_every = 500;
    cfg.on_commit = s_child_commit;
    pl_audit_store_t *s = pl_audit_store_new (&cfg);
    if (!s || pl_audit_store_open (s) != 0)
        _exit (2);
    for (uint64_t i = from;; i++) {
        ta_event_t e;
        ta_event (&e, i);
        int rc = pl_audit_store_append (s, &e.ev, TA_T0 + (int64_t) i, NULL);
        if (rc != 0 && rc != PL_EEXIST && rc != PL_EAGAIN)
            _exit (4);
        if (rc == PL_EAGAIN)
            i--;
        if (i % 64 == 0)
            pl_audit_store_dispatch (s);
    }
}

/* Runs a child until it has committed past `target`, kills it with SIGKILL, and returns the
 * highest seq it reported durable. */
static uint64_t
s_run_and_kill (const char *root, uint64_t from, uint64_t target)
{
    int fds[2];
    assert_int_equal (pipe (fds), 0);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        close (fds[0]);
        s_pipe_fd = fds[1];
        s_child (root, from);
        _exit (0);
    }
    close (fds[1]);
    uint64_t seq, max = 0;
    bool any = false;
    while (read (fds[0], &seq, sizeof seq) == sizeof seq) {
        if (!any || seq > max)
            max = seq;
        any = true;
        if (max >= target)
            break;
    }
    kill (pid, SIGKILL);
    int status;
    waitpid (pid, &status, 0);
    assert_true (WIFSIGNALED (status));
    while (read (fds[0], &seq, sizeof seq) == sizeof seq)     /* reported before it died */
        if (seq > max)
            max = seq;
    close (fds[0]);
    assert_true (any);
    return max;
}

static void
test_kill_9_loses_no_committed_event_and_the_chain_verifies (void **state)
{
    char *root = ta_tmpdir ();
    pl_audit_keys_t *keys = ta_keys ();
    uint64_t committed = s_run_and_kill (root, 0, 3000);
    /* The second run resends what the first may not have had acknowledged (as a sender's
     * outbox would), from well before the last commit. */
    uint64_t resend_from = committed > 500 ? committed - 500 : 0;
    uint64_t committed2 = s_run_and_kill (root, resend_from, committed + 3000);
    assert_true (committed2 > committed);

    pl_audit_store_config_t cfg;
    ta_config (&cfg, root, CHAIN, keys, 0, NULL);
    pl_audit_store_t *s = ta_open (&cfg);
    pl_audit_store_stats_t st;
    pl_audit_store_stats (s, &st);
    /* Every committed record is there; events were never stored twice: seq i holds ev-i. */
    assert_true (st.next_seq > committed2);
    assert_int_equal (pl_audit_store_wait_indexed (s), 0);
    for (uint64_t i = 0; i < st.next_seq; i++) {
        ta_event_t e;
        ta_event (&e, i);
        assert_int_equal (pl_audit_store_append (s, &e.ev, TA_T0, NULL), PL_EEXIST);
    }
    pl_audit_store_destroy (&s);
    pl_audit_verify_report_t *r;
    assert_int_equal (ta_verify (root, &r), 0);
    assert_int_equal (r->chains[0].records, st.next_seq);
    pl_audit_verify_report_destroy (&r);
    pl_audit_keys_destroy (&keys);
    ta_rmdir (&root);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_a_torn_tail_is_cut_back_to_the_last_complete_record),
        cmocka_unit_test (test_a_zero_filled_tail_is_cut_too),
        cmocka_unit_test (test_damage_inside_the_segment_is_not_cut),
        cmocka_unit_test (test_a_segment_torn_inside_its_header_is_set_aside),
        cmocka_unit_test (test_kill_9_loses_no_committed_event_and_the_chain_verifies),
    };
    return cmocka_run_group_tests_name ("audit recovery", tests, NULL, NULL);
}
