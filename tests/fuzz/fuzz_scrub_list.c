/*  fuzz_scrub_list.c — libFuzzer target for the registry list loader
 *  (scrub_list_load_mem, services/scrub/load.c).
 *
 *  The first byte picks the format (us-dnc, tps, bloctel, lines, csv, rnd), the mode (full, add,
 *  delete, changes: the change lists apply to a small base version of the same format), bad
 *  lines applied or refused and whether an empty full list is allowed; the second the default
 *  region and the CSV column. The rest is the file. Whatever the answer, the report must add up
 *  (good + bad <= lines, the bad lines kept in order with a reason) and a version comes back
 *  exactly when the load succeeds, never with a bad line refused. A full load with bad lines
 *  applied is checked further: every line that loads alone (with the CSV header) is found in the
 *  version; for the formats whose lines stand alone the counts are the sum of the lines'; the
 *  file applied again as additions gives the same hits, and as deletions leaves nothing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lists.h"
#include "lists_internal.h"
#include "numset.h"
#include "plateau/error.h"

#define TAKEN_MS 1777939200000LL        /* 2026-05-05 */
#define MAX_KEPT 8
#define MAX_ALONE 32                    /* lines checked one by one */

static const scrub_format_t s_formats[] = {
    SCRUB_FORMAT_US_DNC, SCRUB_FORMAT_TPS, SCRUB_FORMAT_BLOCTEL,
    SCRUB_FORMAT_LINES, SCRUB_FORMAT_CSV, SCRUB_FORMAT_RND,
};
/* The base version a change list of each format applies to. */
static const char *s_base_text[] = {
    "201,2345678\n212,5550123\n",
    "0207 3787244\n01635506160 \n",
    "0612345678;1\n0145678901;0\n",
    "+33612345678\n+1 900 *\n",
    "number\n+33612345678\n+447911123456\n",
    "2015550123,2024-03-15\n",
};
static const char *s_regions[] = { NULL, "FR", "GB", "US" };
static const char *s_columns[] = { "Telephone", "number", "phone", "numero" };

static scrub_list_t *s_base[6];
static scrub_load_report_t *s_report, *s_other;

static scrub_load_options_t
s_opts (int f, scrub_load_mode_t mode, scrub_bad_lines_t bad, bool allow_empty, uint8_t b1)
{
    return (scrub_load_options_t) {
        .name = "fz", .kind = s_formats[f] == SCRUB_FORMAT_RND ? SCRUB_LIST_REASSIGNED : SCRUB_LIST_NATIONAL,
        .jurisdiction = "US", .taken_ms = TAKEN_MS, .format = s_formats[f], .mode = mode,
        .default_region = s_regions[b1 & 3], .csv_column = s_columns[(b1 >> 2) & 3],
        .bad_lines = bad, .allow_empty = allow_empty,
    };
}

static void
s_init (void)
{
    s_report = scrub_load_report_new (MAX_KEPT);
    s_other = scrub_load_report_new (MAX_KEPT);
    if (!s_report || !s_other)
        abort ();
    for (int f = 0; f < 6; f++) {
        scrub_load_options_t o = s_opts (f, SCRUB_LOAD_FULL, SCRUB_BAD_LINES_REFUSE, false, 1 << 2);
        if (scrub_list_load_mem (&o, s_base_text[f], strlen (s_base_text[f]), NULL, s_report, &s_base[f]) != 0)
            abort ();
    }
}

/* The report of the load that just ran adds up. */
static void
s_check_report (const scrub_load_report_t *r, int rc, const scrub_list_t *v)
{
    uint64_t lines = scrub_load_report_lines (r), good = scrub_load_report_good (r);
    uint64_t bad = scrub_load_report_bad (r);
    if ((rc == 0) != (v != NULL))
        abort ();
    if (rc != 0 && !*scrub_load_report_errstr (r))
        abort ();
    if (rc == PL_ENOMEM)
        return;
    if (good + bad > lines)
        abort ();
    size_t kept = scrub_load_report_kept (r);
    if (kept != (bad < MAX_KEPT ? bad : MAX_KEPT))
        abort ();
    uint64_t last = 0;
    for (size_t i = 0; i < kept; i++) {
        uint64_t line;
        const char *reason;
        if (scrub_load_report_bad_line (r, i, &line, &reason) != 0 || line <= last || line > lines || !reason
            || !*reason)
            abort ();
        last = line;
    }
    if (scrub_load_report_bad_line (r, kept, NULL, NULL) != PL_ERANGE)
        abort ();
}

/* A line as the loader sees it: no '\r' at the end, no BOM on line 1, no blanks around. */
static bool
s_blank (const uint8_t *p, size_t len, size_t lineno)
{
    if (len && p[len - 1] == '\r')
        len--;
    if (lineno == 1 && len >= 3 && memcmp (p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3;
        len -= 3;
    }
    for (size_t i = 0; i < len; i++)
        if (p[i] != ' ' && p[i] != '\t')
            return false;
    return true;
}

static bool
s_has_prefix (const scrub_list_t *v, uint64_t p)
{
    size_t n;
    const uint64_t *all = scrub__list_prefixes (v, &n);
    for (size_t i = 0; i < n; i++)
        if (all[i] == p)
            return true;
    return false;
}

/* Each line that loads alone must be in the version; for us-dnc, tps and lines the counts of
 * the whole file are the sums of its lines'. */
static void
s_check_alone (const scrub_load_options_t *o, const uint8_t *data, size_t size, const scrub_list_t *v)
{
    size_t starts[MAX_ALONE + 1], lens[MAX_ALONE + 1], n = 0, at = 0;
    while (at < size) {
        const uint8_t *nl = memchr (data + at, '\n', size - at);
        if (!nl)
            break;
        if (n == MAX_ALONE)
            return;
        starts[n] = at;
        lens[n] = (size_t) (nl - (data + at));
        at += lens[n] + 1;
        n++;
    }
    bool whole = true;                  /* no cut last line: its rest is blanks (not even '\r') */
    for (size_t i = at; i < size && whole; i++)
        whole = data[i] == ' ' || data[i] == '\t';
    size_t header = SIZE_MAX;                                           /* CSV: its header line */
    if (o->format == SCRUB_FORMAT_CSV) {
        for (size_t i = 0; i < n && header == SIZE_MAX; i++)
            if (!s_blank (data + starts[i], lens[i], i + 1))
                header = i;
        if (header == SIZE_MAX)
            return;
    }
    scrub_lists_t *set = scrub_lists_new ();
    if (!set || scrub_lists_swap (set, (scrub_list_t *) v) != 0)
        abort ();
    scrub_load_options_t one = *o;
    one.allow_empty = true;
    one.bad_lines = SCRUB_BAD_LINES_SKIP;
    uint64_t good = 0, bad = 0;
    char *buf = malloc (size + 4);
    for (size_t i = 0; i < n; i++) {
        if (o->format == SCRUB_FORMAT_CSV && i <= header)
            continue;
        size_t len = 0;
        if (o->format == SCRUB_FORMAT_CSV) {
            if (header > 0)
                buf[len++] = '\n';              /* the header stays off line 1 if it was */
            memcpy (buf + len, data + starts[header], lens[header]);
            len += lens[header];
            buf[len++] = '\n';
        } else if (i > 0) {
            buf[len++] = '\n';                  /* off line 1, as in the file */
        }
        memcpy (buf + len, data + starts[i], lens[i]);
        len += lens[i];
        buf[len++] = '\n';
        scrub_list_t *w = NULL;
        int rc = scrub_list_load_mem (&one, buf, len, NULL, s_other, &w);
        s_check_report (s_other, rc, w);
        if (rc != 0) {
            fprintf (stderr, "line %zu alone: %s\n", i + 1, scrub_load_report_errstr (s_other));
            abort ();
        }
        good += scrub_load_report_good (s_other);
        bad += scrub_load_report_bad (s_other);
        if (scrub_load_report_good (s_other) > 1 || scrub_list_count (w) + scrub_list_clear_count (w)
                                                           + scrub_list_prefix_count (w)
                                                       != scrub_load_report_good (s_other))
            abort ();
        const scrub_numset_t *hits = scrub__list_hits (w), *clear = scrub__list_clear (w);
        uint64_t key;
        char e164[SCRUB_E164_MAX + 8];
        scrub_hit_t h;
        if (hits->n || clear->n) {
            scrub_numset_decode (hits->n ? hits : clear, &key);
            scrub_key_to_e164 (key, e164, sizeof e164);
            if (scrub_lists_lookup (set, e164, &h, 1) != 1)
                abort ();
            if (hits->n ? !h.hit : !h.known) {
                fprintf (stderr, "line %zu (%s) is %s alone but not in the version\n", i + 1, e164,
                         hits->n ? "a hit" : "clear");
                abort ();
            }
        }
        size_t np;
        const uint64_t *p = scrub__list_prefixes (w, &np);
        if (np && !s_has_prefix (v, p[0])) {
            fprintf (stderr, "line %zu: a block alone but not in the version\n", i + 1);
            abort ();
        }
        scrub_list_destroy (&w);
    }
    free (buf);
    scrub_lists_destroy (&set);
    bool alone = o->format == SCRUB_FORMAT_US_DNC || o->format == SCRUB_FORMAT_TPS || o->format == SCRUB_FORMAT_LINES;
    if (alone && whole && (good != scrub_load_report_good (s_report) || bad != scrub_load_report_bad (s_report))) {
        fprintf (stderr, "lines alone: %llu good, %llu bad; the file: %llu good, %llu bad\n",
                 (unsigned long long) good, (unsigned long long) bad,
                 (unsigned long long) scrub_load_report_good (s_report),
                 (unsigned long long) scrub_load_report_bad (s_report));
        abort ();
    }
}

/* The file again as a change list on the version it built. */
static void
s_check_again (const scrub_load_options_t *o, const uint8_t *data, size_t size, const scrub_list_t *v)
{
    scrub_load_options_t again = *o;
    again.mode = SCRUB_LOAD_ADD;
    scrub_list_t *w = NULL;
    int rc = scrub_list_load_mem (&again, data, size, v, s_other, &w);
    s_check_report (s_other, rc, w);
    if (rc != 0 || scrub_list_count (w) != scrub_list_count (v)
        || scrub_list_prefix_count (w) != scrub_list_prefix_count (v)) {
        fprintf (stderr, "added again: rc %d (%s), %llu hits, %zu blocks; first %llu, %zu\n", rc,
                 scrub_load_report_errstr (s_other), (unsigned long long) (w ? scrub_list_count (w) : 0),
                 w ? scrub_list_prefix_count (w) : 0, (unsigned long long) scrub_list_count (v),
                 scrub_list_prefix_count (v));
        abort ();
    }
    scrub_list_destroy (&w);
    again.mode = SCRUB_LOAD_DELETE;
    rc = scrub_list_load_mem (&again, data, size, v, s_other, &w);
    s_check_report (s_other, rc, w);
    if (rc != 0 || scrub_list_count (w) || scrub_list_clear_count (w) || scrub_list_prefix_count (w)) {
        fprintf (stderr, "deleted again: rc %d (%s), %llu hits, %llu clear, %zu blocks left\n", rc,
                 scrub_load_report_errstr (s_other), (unsigned long long) (w ? scrub_list_count (w) : 0),
                 (unsigned long long) (w ? scrub_list_clear_count (w) : 0), w ? scrub_list_prefix_count (w) : 0);
        abort ();
    }
    scrub_list_destroy (&w);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_report)
        s_init ();
    if (size < 2)
        return 0;
    uint8_t b0 = data[0], b1 = data[1];
    data += 2;
    size -= 2;
    int f = (b0 & 7) % 6;
    scrub_load_mode_t mode = (scrub_load_mode_t) ((b0 >> 3) & 3);
    scrub_bad_lines_t bad = (b0 & 32) ? SCRUB_BAD_LINES_SKIP : SCRUB_BAD_LINES_REFUSE;
    scrub_load_options_t o = s_opts (f, mode, bad, (b0 & 64) != 0, b1);
    scrub_list_t *v = NULL;
    int rc = scrub_list_load_mem (&o, data, size, mode == SCRUB_LOAD_FULL ? NULL : s_base[f], s_report, &v);
    s_check_report (s_report, rc, v);
    if (rc == 0) {
        uint64_t good = scrub_load_report_good (s_report);
        if (scrub_load_report_bad (s_report) && bad != SCRUB_BAD_LINES_SKIP)
            abort ();
        if (strcmp (scrub_list_name (v), "fz") != 0 || strcmp (scrub_list_version (v), "fz@2026-05-05") != 0
            || scrub_list_taken_ms (v) != TAKEN_MS)
            abort ();
        if (mode == SCRUB_LOAD_FULL) {
            if (scrub_list_count (v) + scrub_list_clear_count (v) + scrub_list_prefix_count (v) > good
                || (!good && !o.allow_empty))
                abort ();
            if (bad == SCRUB_BAD_LINES_SKIP) {
                s_check_alone (&o, data, size, v);
                s_check_again (&o, data, size, v);
            }
        }
        scrub_list_destroy (&v);
    } else if (rc == PL_EINVAL && mode == SCRUB_LOAD_FULL && bad == SCRUB_BAD_LINES_SKIP && (b0 & 64)
               && s_formats[f] != SCRUB_FORMAT_CSV) {
        abort ();   /* nothing but a CSV without its column refuses such a load */
    }
    return 0;
}
