/*  test_scrub_swap.c — a new version swapped in while four threads hammer lookups
 *  (services/scrub/lists.c): zero errors, and every answer from exactly one version.
 *
 *  Version A holds the set X and version B the disjoint set Y, each under its own version id.
 *  Every lookup batch asks about numbers of both sets and must come back all-A (every X number
 *  a hit with id A, every Y number a miss) or all-B; a batch that mixes the two, a failed
 *  lookup or a number that is neither is an error. A second list that never changes must answer
 *  the same throughout. The writer swaps A and B back and forth until each reader has seen
 *  both versions many times. Timing is never asserted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lists.h"
#include "plateau/error.h"
#include "pl_test.h"

#define TAKEN_MS 1777939200000LL
#define PER_SET 2000
#define BATCH 8
#define READERS 4
#define SWAPS 200
#define LISTS 2

typedef struct {
    scrub_lists_t *set;
    char x[PER_SET][SCRUB_E164_MAX];        /* in A only */
    char y[PER_SET][SCRUB_E164_MAX];        /* in B only */
    atomic_bool stop;
    atomic_long batches, errors, seen_a, seen_b;
} shared_t;

/* Version `id` of "us-dnc" holding `nums`. */
static scrub_list_t *
s_version (const char *id, char nums[][SCRUB_E164_MAX], size_t n)
{
    size_t cap = n * 13 + 1;
    char *body = malloc (cap), *p = body;
    for (size_t i = 0; i < n; i++)             /* "+1AAANNNNNNN" → "AAA,NNNNNNN\n" */
        p += sprintf (p, "%.3s,%.7s\n", nums[i] + 2, nums[i] + 5);
    scrub_load_options_t o = { .name = "us-dnc", .version = id, .taken_ms = TAKEN_MS,
                               .format = SCRUB_FORMAT_US_DNC };
    scrub_load_report_t *r = scrub_load_report_new (0);
    scrub_list_t *v = NULL;
    assert_int_equal (scrub_list_load_mem (&o, body, (size_t) (p - body), NULL, r, &v), 0);
    assert_int_equal (scrub_list_count (v), n);
    scrub_load_report_destroy (&r);
    free (body);
    return v;
}

static void *
s_reader (void *arg)
{
    shared_t *s = arg;
    uint64_t rng = (uint64_t) (uintptr_t) &rng | 1;
    const char *nums[BATCH];
    bool from_x[BATCH];
    scrub_hit_t hits[BATCH * LISTS];
    while (!atomic_load (&s->stop)) {
        for (int i = 0; i < BATCH; i++) {
            pl_test_rand (&rng);
            from_x[i] = i % 2 == 0;
            nums[i] = from_x[i] ? s->x[rng % PER_SET] : s->y[rng % PER_SET];
        }
        size_t n_lists = 0;
        int rc = scrub_lists_lookup_batch (s->set, nums, BATCH, hits, LISTS, &n_lists);
        bool ok = rc == 0 && n_lists == LISTS;
        /* which version answered: decided by the first answer, checked against all */
        const char *ver = NULL;
        for (int i = 0; ok && i < BATCH; i++) {
            const scrub_hit_t *dnc = &hits[i * LISTS], *other = &hits[i * LISTS + 1];
            if (strcmp (dnc->list, "us-dnc") != 0 || strcmp (other->list, "litigator") != 0
                || other->hit || strcmp (other->version, "lit-1") != 0) {
                ok = false;
                break;
            }
            if (!ver)
                ver = strcmp (dnc->version, "A") == 0 ? "A"
                    : strcmp (dnc->version, "B") == 0 ? "B" : NULL;
            if (!ver || strcmp (dnc->version, ver) != 0) {
                ok = false;
                break;
            }
            bool want_hit = (ver[0] == 'A') == from_x[i];
            if (dnc->hit != want_hit)
                ok = false;
        }
        if (!ok)
            atomic_fetch_add (&s->errors, 1);
        else if (ver[0] == 'A')
            atomic_fetch_add (&s->seen_a, 1);
        else
            atomic_fetch_add (&s->seen_b, 1);
        /* and one single lookup between batches */
        scrub_hit_t one[LISTS];
        if (scrub_lists_lookup (s->set, s->x[rng % PER_SET], one, LISTS) != LISTS
            || one[0].hit != (strcmp (one[0].version, "A") == 0))
            atomic_fetch_add (&s->errors, 1);
        atomic_fetch_add (&s->batches, 1);
    }
    return NULL;
}

static void
test_swaps_under_four_readers_never_fail_or_mix_versions (void **state)
{
    (void) state;
    shared_t *s = calloc (1, sizeof *s);
    for (unsigned i = 0; i < PER_SET; i++) {
        /* X: exchanges 200-899, Y: exchanges 900-999 — disjoint */
        snprintf (s->x[i], SCRUB_E164_MAX, "+1201%03u%04u", (200 + i % 700) % 1000, i % 10000);
        snprintf (s->y[i], SCRUB_E164_MAX, "+1201%03u%04u", (900 + i % 100) % 1000, i % 10000);
    }
    scrub_list_t *a = s_version ("A", s->x, PER_SET);
    scrub_list_t *b = s_version ("B", s->y, PER_SET);
    scrub_load_options_t lo = { .name = "litigator", .kind = SCRUB_LIST_LITIGATOR,
                                .version = "lit-1", .taken_ms = TAKEN_MS,
                                .format = SCRUB_FORMAT_LINES };
    scrub_load_report_t *r = scrub_load_report_new (0);
    scrub_list_t *lit = NULL;
    assert_int_equal (scrub_list_load_mem (&lo, "+33612345678\n", 13, NULL, r, &lit), 0);

    s->set = scrub_lists_new ();
    assert_int_equal (scrub_lists_swap (s->set, a), 0);
    assert_int_equal (scrub_lists_swap (s->set, lit), 0);
    pthread_t th[READERS];
    for (int i = 0; i < READERS; i++)
        assert_int_equal (pthread_create (&th[i], NULL, s_reader, s), 0);
    for (int i = 0; i < SWAPS; i++) {
        assert_int_equal (scrub_lists_swap (s->set, i % 2 == 0 ? b : a), 0);
        /* let the readers run on this version a little */
        long until = atomic_load (&s->batches) + 20;
        while (atomic_load (&s->batches) < until)
            sched_yield ();
    }
    atomic_store (&s->stop, true);
    for (int i = 0; i < READERS; i++)
        pthread_join (th[i], NULL);

    fprintf (stderr, "batches %ld (all-A %ld, all-B %ld), errors %ld, swaps %d\n",
             atomic_load (&s->batches), atomic_load (&s->seen_a), atomic_load (&s->seen_b),
             atomic_load (&s->errors), SWAPS);
    assert_int_equal (atomic_load (&s->errors), 0);
    assert_true (atomic_load (&s->seen_a) > 0);
    assert_true (atomic_load (&s->seen_b) > 0);

    scrub_lists_destroy (&s->set);
    scrub_list_destroy (&lit);
    scrub_list_destroy (&a);
    scrub_list_destroy (&b);
    scrub_load_report_destroy (&r);
    free (s);
}

static void
test_the_set_keeps_a_version_alive_after_its_owner_lets_go (void **state)
{
    (void) state;
    char nums[1][SCRUB_E164_MAX] = { "+12015550123" };
    scrub_list_t *v = s_version ("A", nums, 1);
    scrub_lists_t *set = scrub_lists_new ();
    assert_int_equal (scrub_lists_swap (set, v), 0);
    scrub_list_destroy (&v);
    assert_null (v);
    scrub_hit_t h;
    assert_int_equal (scrub_lists_lookup (set, "+12015550123", &h, 1), 1);
    assert_true (h.hit);
    /* a short cap still says how many lists there are */
    assert_int_equal (scrub_lists_lookup (set, "+12015550123", &h, 0), 1);
    scrub_lists_destroy (&set);
    scrub_lists_destroy (&set);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_swaps_under_four_readers_never_fail_or_mix_versions),
        cmocka_unit_test (test_the_set_keeps_a_version_alive_after_its_owner_lets_go),
    };
    return cmocka_run_group_tests_name ("scrub_swap", tests, NULL, NULL);
}
