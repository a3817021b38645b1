/*  test_audit_diskfull.c — a full disk stops acknowledgements, loses nothing, and resumes.
 *
 *  Two ways to fill the disk: the store's size cap (everywhere), and a real small tmpfs the
 *  test mounts when it runs as root (skipped otherwise, with a message).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "plateau/error.h"
#include "plateau/audit_store.h"
#include "test_audit_support.h"

#define CHAIN "c"
#define MAX_EVENTS 20000

/* Which events on_commit acknowledged (token = event number + 1). */
typedef struct {
    bool acked[MAX_EVENTS];
    uint64_t n;
} acks_t;

static void
s_on_commit (void *arg, const pl_audit_committed_t *items, size_t n)
{
    acks_t *a = arg;
    for (size_t i = 0; i < n; i++) {
        uintptr_t ev = (uintptr_t) items[i].token - 1;
        assert_true (ev < MAX_EVENTS);
        assert_false (a->acked[ev]);
        a->acked[ev] = true;
        a->n++;
    }
}

/* Appends events one by one, syncing each, until the disk refuses. Returns the number of the
 * first event that was not stored durably. */
static uint64_t
s_fill (pl_audit_store_t *s, uint64_t from)
{
    for (uint64_t i = from; i < MAX_EVENTS; i++) {
        ta_event_t e;
        ta_event (&e, i);
        int rc = pl_audit_store_append (s, &e.ev, TA_T0 + (int64_t) i, (void *) (uintptr_t) (i + 1));
        if (rc == PL_ENOSPC)
            return i;
        assert_int_equal (rc, 0);
        rc = pl_audit_store_sync (s);
        if (rc == PL_ENOSPC)
            return i;
        assert_int_equal (rc, 0);
    }
    fail_msg ("the disk never filled");
    return 0;
}

/* After the disk is full: nothing more is accepted, nothing unacknowledged was reported. */
static void
s_check_held (pl_audit_store_t *s, acks_t *acks, uint64_t first_unacked)
{
    assert_int_equal (pl_audit_store_state (s), PL_ENOSPC);
    ta_event_t e;
    ta_event (&e, first_unacked + 1);
    assert_int_equal (pl_audit_store_append (s, &e.ev, TA_T0, (void *) 1), PL_ENOSPC);
    assert_int_equal (pl_audit_store_sync (s), PL_ENOSPC);
    assert_false (acks->acked[first_unacked]);
    assert_int_equal (acks->n, first_unacked);
}

/* Resumed: the held event is acknowledged, more follow, every acknowledged event is stored
 * once, and the chain verifies. */
static void
s_check_resumed (pl_audit_store_t **sp, pl_audit_store_config_t *cfg, acks_t *acks,
                 uint64_t first_unacked, const char *root)
{
    pl_audit_store_t *s = *sp;
    assert_int_equal (pl_audit_store_sync (s), 0);
    assert_int_equal (pl_audit_store_state (s), 0);
    assert_true (acks->acked[first_unacked]);
    uint64_t next = first_unacked + 1;
    for (uint64_t i = next; i < next + 20; i++) {
        ta_event_t e;
        ta_event (&e, i);
        assert_int_equal (pl_audit_store_append (s, &e.ev, TA_T0 + (int64_t) i, (void *) (uintptr_t) (i + 1)), 0);
    }
    assert_int_equal (pl_audit_store_sync (s), 0);
    assert_int_equal (pl_audit_store_wait_indexed (s), 0);
    uint64_t total = acks->n;
    assert_int_equal (total, next + 20);
    pl_audit_store_destroy (sp);

    assert_int_equal (ta_verify (root, NULL), 0);
    cfg->on_commit = NULL;
    s = ta_open (cfg);
    pl_audit_store_stats_t st;
    pl_audit_store_stats (s, &st);
    assert_int_equal (st.next_seq, total);
    for (uint64_t i = 0; i < total; i++) {
        assert_true (acks->acked[i]);
        ta_event_t e;
        ta_event (&e, i);
        assert_int_equal (pl_audit_store_append (s, &e.ev, TA_T0, NULL), PL_EEXIST);
    }
    pl_audit_store_destroy (&s);
}

static void
test_the_size_cap_stops_acknowledgements_and_writing_resumes_when_raised (void **state)
{
    char *root = ta_tmpdir ();
    pl_audit_keys_t *keys = ta_keys ();
    acks_t *acks = calloc (1, sizeof *acks);
    pl_audit_store_config_t cfg;
    ta_config (&cfg, root, CHAIN, keys, 16 * 1024, NULL);
    cfg.on_commit = s_on_commit;
    cfg.on_commit_arg = acks;
    cfg.size_cap_bytes = 40 * 1024;
    pl_audit_store_t *s = ta_open (&cfg);
    uint64_t first_unacked = s_fill (s, 0);
    assert_true (first_unacked > 10);
    s_check_held (s, acks, first_unacked);
    /* What is on disk is whole: nothing half-written. */
    pl_audit_store_stats_t st;
    pl_audit_store_stats (s, &st);
    assert_true (st.bytes <= cfg.size_cap_bytes);
    assert_int_equal (ta_verify (root, NULL), 0);

    pl_audit_store_set_size_cap (s, 0);
    s_check_resumed (&s, &cfg, acks, first_unacked, root);
    free (acks);
    pl_audit_keys_destroy (&keys);
    ta_rmdir (&root);
}

/* The tmpfs is unmounted by the teardown, so a failing test leaves nothing mounted. */
typedef struct {
    char *base;
    char mnt[4096];
    bool mounted;
} tmpfs_t;

static int
s_tmpfs_teardown (void **state)
{
    tmpfs_t *t = *state;
    if (t) {
        if (t->mounted)
            umount2 (t->mnt, MNT_DETACH);
        ta_rmdir (&t->base);
        free (t);
    }
    return 0;
}

static void
test_a_real_full_filesystem_loses_nothing_and_resumes_when_space_returns (void **state)
{
    if (geteuid () != 0) {
        fprintf (stderr, "SKIPPED: mounting a small tmpfs needs root; the size cap test covers "
                         "the same paths\n");
        skip ();
    }
    tmpfs_t *t = calloc (1, sizeof *t);
    *state = t;
    t->base = ta_tmpdir ();
    snprintf (t->mnt, sizeof t->mnt, "%s/mnt", t->base);
    assert_int_equal (mkdir (t->mnt, 0700), 0);
    if (mount ("tmpfs", t->mnt, "tmpfs", 0, "size=4m,mode=0700") != 0) {
        fprintf (stderr, "SKIPPED: cannot mount a tmpfs here (%s)\n", strerror (errno));
        skip ();
    }
    t->mounted = true;
    char root[4200], filler[4200];
    snprintf (root, sizeof root, "%s/audit", t->mnt);
    snprintf (filler, sizeof filler, "%s/filler", t->mnt);
    /* Leave about 1 MiB: segments, the index and its WAL fill it; freeing the filler gives
     * back 3 MiB, plenty for what follows. */
    uint8_t *junk = calloc (1, 3 * 1024 * 1024);
    ta_write_file (filler, junk, 3 * 1024 * 1024);
    free (junk);

    pl_audit_keys_t *keys = ta_keys ();
    acks_t *acks = calloc (1, sizeof *acks);
    pl_audit_store_config_t cfg;
    ta_config (&cfg, root, CHAIN, keys, 64 * 1024, NULL);
    cfg.on_commit = s_on_commit;
    cfg.on_commit_arg = acks;
    pl_audit_store_t *s = ta_open (&cfg);
    uint64_t first_unacked = s_fill (s, 0);
    fprintf (stderr, "full after %llu events: %s\n", (unsigned long long) first_unacked,
             pl_audit_store_errstr (s));
    assert_true (first_unacked > 10);
    s_check_held (s, acks, first_unacked);
    assert_non_null (strstr (pl_audit_store_errstr (s), "No space left"));
    assert_int_equal (ta_verify (root, NULL), 0);

    assert_int_equal (unlink (filler), 0);          /* an operator frees space */
    s_check_resumed (&s, &cfg, acks, first_unacked, root);
    free (acks);
    pl_audit_keys_destroy (&keys);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_the_size_cap_stops_acknowledgements_and_writing_resumes_when_raised),
        cmocka_unit_test_teardown (test_a_real_full_filesystem_loses_nothing_and_resumes_when_space_returns,
                                   s_tmpfs_teardown),
    };
    return cmocka_run_group_tests_name ("audit disk full", tests, NULL, NULL);
}
