/*  test_scrub_numset.c — the compact number set (services/scrub/numset.c) answers exactly what
 *  a sorted array answers, at every width of its low bits, dense or sparse; its block reads back
 *  from memory only after its checks pass, and a damaged block is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "numset.h"
#include "plateau/error.h"
#include "pl_test.h"

static uint64_t s_rng = 0x243F6A8885A308D3ULL;

static uint64_t
s_rand (void)
{
    return pl_test_rand (&s_rng);
}

static int
s_cmp (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return (x > y) - (x < y);
}

/* n distinct sorted keys in [lo, lo + span). */
static size_t
s_keys (uint64_t *k, size_t n, uint64_t lo, uint64_t span)
{
    for (size_t i = 0; i < n; i++)
        k[i] = lo + s_rand () % span;
    qsort (k, n, sizeof *k, s_cmp);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m == 0 || k[i] != k[m - 1])
            k[m++] = k[i];
    }
    return m;
}

static void
s_check_against_array (const uint64_t *k, size_t n, int bits)
{
    void *block = NULL;
    size_t size = 0;
    assert_int_equal (scrub_numset_build (k, n, bits, &block, &size), 0);
    assert_int_equal (size, scrub_numset_size_for (k, n, bits));
    scrub_numset_t s;
    assert_int_equal (scrub_numset_view (block, size, &s), 0);
    assert_int_equal (s.n, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal (scrub_numset_rank (&s, k[i]), (int64_t) i);
        /* neighbours: in the set exactly when the array has them */
        uint64_t above = k[i] + 1;
        bool there = i + 1 < n && k[i + 1] == above;
        assert_int_equal (scrub_numset_contains (&s, above), there);
        if (k[i] > 0) {
            bool below = i > 0 && k[i - 1] == k[i] - 1;
            assert_int_equal (scrub_numset_contains (&s, k[i] - 1), below);
        }
    }
    /* the batched search agrees, on members and on their neighbours */
    size_t nq = 3 * n + 1;
    uint64_t *q = malloc (nq * sizeof *q);
    int64_t *ranks = malloc (nq * sizeof *ranks);
    for (size_t i = 0; i < n; i++) {
        q[3 * i] = k[i];
        q[3 * i + 1] = k[i] + 1;
        q[3 * i + 2] = k[i] ? k[i] - 1 : 0;
    }
    q[3 * n] = SCRUB_NUMSET_KEY_MAX;
    scrub_numset_rank_many (&s, q, nq, ranks);
    for (size_t i = 0; i < nq; i++)
        assert_int_equal (ranks[i], scrub_numset_rank (&s, q[i]));
    free (q);
    free (ranks);

    uint64_t *back = malloc ((n ? n : 1) * sizeof *back);
    scrub_numset_decode (&s, back);
    assert_memory_equal (back, k, n * sizeof *k);
    free (back);
    free (block);
}

static void
test_the_set_answers_as_a_sorted_array_at_every_density (void **state)
{
    (void) state;
    uint64_t *k = malloc (50000 * sizeof *k);
    /* French-like (1 %), US-like (3 %), dense (50 %), and sparse across countries */
    size_t n = s_keys (k, 50000, 33100000000ULL, 5000000ULL);
    s_check_against_array (k, n, SCRUB_NUMSET_AUTO_BITS);
    n = s_keys (k, 50000, 12010000000ULL, 1500000ULL);
    s_check_against_array (k, n, SCRUB_NUMSET_AUTO_BITS);
    n = s_keys (k, 50000, 12010000000ULL, 100000ULL);
    s_check_against_array (k, n, SCRUB_NUMSET_AUTO_BITS);
    n = s_keys (k, 2000, 10000000000ULL, 990000000000000ULL);
    s_check_against_array (k, n, SCRUB_NUMSET_AUTO_BITS);
    free (k);
}

static void
test_every_forced_width_gives_the_same_answers (void **state)
{
    (void) state;
    uint64_t k[3000];
    size_t n = s_keys (k, 3000, 447000000000ULL, 300000ULL);
    for (int w = 1; w <= 24; w++)
        s_check_against_array (k, n, w);
    /* a width so small that the directory would dwarf the keys is refused */
    void *b = NULL;
    size_t sz = 0;
    assert_int_equal (scrub_numset_build (k, n, 0, &b, &sz), PL_EINVAL);
}

static void
test_empty_and_single_sets (void **state)
{
    (void) state;
    s_check_against_array (NULL, 0, SCRUB_NUMSET_AUTO_BITS);
    uint64_t one = 33612345678ULL;
    s_check_against_array (&one, 1, SCRUB_NUMSET_AUTO_BITS);
    uint64_t top = SCRUB_NUMSET_KEY_MAX;
    s_check_against_array (&top, 1, SCRUB_NUMSET_AUTO_BITS);
}

static void
test_unsorted_duplicate_or_oversized_keys_are_refused (void **state)
{
    (void) state;
    void *b = NULL;
    size_t sz = 0;
    uint64_t unsorted[] = { 5, 3 }, dup[] = { 3, 3 }, big[] = { SCRUB_NUMSET_KEY_MAX + 1 };
    assert_int_equal (scrub_numset_build (unsorted, 2, -1, &b, &sz), PL_EINVAL);
    assert_int_equal (scrub_numset_build (dup, 2, -1, &b, &sz), PL_EINVAL);
    assert_int_equal (scrub_numset_build (big, 1, -1, &b, &sz), PL_EINVAL);
    assert_null (b);
}

static void
test_a_damaged_block_is_refused_not_read (void **state)
{
    (void) state;
    uint64_t k[1000];
    size_t n = s_keys (k, 1000, 33600000000ULL, 100000000ULL);
    void *block = NULL;
    size_t size = 0;
    assert_int_equal (scrub_numset_build (k, n, -1, &block, &size), 0);
    scrub_numset_t s;
    assert_int_equal (scrub_numset_view (block, size - 64, &s), PL_ECORRUPT);   /* cut short */
    uint8_t *bytes = block;
    uint32_t saved;
    memcpy (&saved, bytes + 128 + 4, 4);                  /* dir[1] beyond n */
    uint32_t huge = 0xFFFFFFF0u;
    memcpy (bytes + 128 + 4, &huge, 4);
    assert_int_equal (scrub_numset_view (block, size, &s), PL_ECORRUPT);
    memcpy (bytes + 128 + 4, &saved, 4);
    bytes[0] ^= 1;                                        /* magic */
    assert_int_equal (scrub_numset_view (block, size, &s), PL_ECORRUPT);
    bytes[0] ^= 1;
    assert_int_equal (scrub_numset_view (block, size, &s), 0);
    free (block);
}

static void
test_keys_and_e164_convert_both_ways (void **state)
{
    (void) state;
    uint64_t key;
    int nd;
    assert_int_equal (scrub_key_from_e164 ("+33612345678", &key, &nd), 0);
    assert_int_equal (key, 33612345678ULL);
    assert_int_equal (nd, 11);
    char out[17];
    assert_int_equal (scrub_key_to_e164 (key, out, sizeof out), 12);
    assert_string_equal (out, "+33612345678");
    assert_int_equal (scrub_key_from_e164 ("33612345678", &key, NULL), PL_EINVAL);
    assert_int_equal (scrub_key_from_e164 ("+0612345678", &key, NULL), PL_EINVAL);
    assert_int_equal (scrub_key_from_e164 ("+3361234567a", &key, NULL), PL_EINVAL);
    assert_int_equal (scrub_key_from_e164 ("+1234567890123456", &key, NULL), PL_EINVAL);
    assert_int_equal (scrub_key_from_e164 ("+", &key, NULL), PL_EINVAL);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_the_set_answers_as_a_sorted_array_at_every_density),
        cmocka_unit_test (test_every_forced_width_gives_the_same_answers),
        cmocka_unit_test (test_empty_and_single_sets),
        cmocka_unit_test (test_unsorted_duplicate_or_oversized_keys_are_refused),
        cmocka_unit_test (test_a_damaged_block_is_refused_not_read),
        cmocka_unit_test (test_keys_and_e164_convert_both_ways),
    };
    return cmocka_run_group_tests_name ("scrub_numset", tests, NULL, NULL);
}
