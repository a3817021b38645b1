/*  test_scrub_retention.c — old list version files leave the shared lists directory: with
 *  PLATEAU_SCRUB_LISTS_KEEP=2, four loads leave the version in force and the one before it once
 *  the grace is over, both replicas sweeping the same directory at once; lookups answer from the
 *  version in force throughout; files the catalog did not name are left alone, a dead load's
 *  leftovers are not; nothing goes before the grace.
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <time.h>
#include <cmocka.h>

#include "test_scrub_fixture.h"

typedef struct {
    sx_t *f;
    char lists[600];
    char files[4][128];                 /* the four versions' files, oldest first */
} s_t;

/* Four versions of us-dnc, copies of 4, 3, 2 and 1 days ago; version i lists +1202555010<i>. */
static void
s_load_four (s_t *s)
{
    for (int i = 1; i <= 4; i++) {
        char date[11], path[128], body[32];
        pl_test_date (i - 5, date);
        snprintf (path, sizeof path, "/v1/lists/us-dnc?jurisdiction=US&taken=%s", date);
        snprintf (body, sizeof body, "202,555010%d\n", i);
        pl_test_http_resp_t r = { 0 };
        assert_int_equal (sx_http (&s->f->scrub[0], "PUT", path, SX_OPS_TOKEN, "text/plain", body, &r), 201);
        json_t *o = json_loads (r.body, 0, NULL);
        snprintf (s->files[i - 1], sizeof s->files[0], "%s.list",
                  json_string_value (json_object_get (o, "version")) ?: "?");
        json_decref (o);
        pl_test_http_resp_free (&r);
    }
}

static bool
s_exists (s_t *s, const char *name)
{
    char path[800];
    snprintf (path, sizeof path, "%s/%s", s->lists, name);
    return access (path, F_OK) == 0;
}

static long long
s_size (s_t *s, const char *name)
{
    char path[800];
    struct stat st;
    snprintf (path, sizeof path, "%s/%s", s->lists, name);
    return stat (path, &st) == 0 ? (long long) st.st_size : -1;
}

/* us-dnc version files in the directory. */
static int
s_versions (s_t *s)
{
    int n = 0;
    DIR *d = opendir (s->lists);
    for (struct dirent *e; d && (e = readdir (d));) {
        size_t len = strlen (e->d_name);
        n += strncmp (e->d_name, "us-dnc@20", 9) == 0 && len > 5 && strcmp (e->d_name + len - 5, ".list") == 0;
    }
    if (d)
        closedir (d);
    return n;
}

/* A file with `text`, last written `age_s` seconds ago. */
static void
s_plant (s_t *s, const char *name, const char *text, int age_s)
{
    char path[800];
    snprintf (path, sizeof path, "%s/%s", s->lists, name);
    FILE *fp = fopen (path, "w");
    assert_non_null (fp);
    fputs (text, fp);
    fclose (fp);
    struct timespec t[2];
    clock_gettime (CLOCK_REALTIME, &t[0]);
    t[0].tv_sec -= age_s;
    t[1] = t[0];
    assert_int_equal (utimensat (AT_FDCWD, path, t, 0), 0);
}

/* An unlabelled metric of replica i, -1 when absent. */
static double
s_metric (s_t *s, int i, const char *name)
{
    char *text = NULL, line[128];
    double v = -1;
    snprintf (line, sizeof line, "\n%s ", name);
    if (pl_test_http_get (s->f->scrub[i].ops_port, "/metrics", &text) == 200 && text && strstr (text, line))
        v = strtod (strstr (text, line) + strlen (line), NULL);
    free (text);
    return v;
}

/* The bytes of version files left: versions 3 and 4, and the planted bloctel one. */
static long long
s_left_bytes (s_t *s)
{
    return s_size (s, s->files[2]) + s_size (s, s->files[3]) + s_size (s, "bloctel@2020-01-01.list");
}

/* Both replicas swept the deletions: two us-dnc files left, two deletions between them, and each
 * replica's gauge at the bytes left. */
static bool
s_swept (void *arg)
{
    s_t *s = arg;
    double bytes = (double) s_left_bytes (s);
    return s_versions (s) == 2
           && s_metric (s, 0, "plateau_scrub_list_files_deleted_total")
                      + s_metric (s, 1, "plateau_scrub_list_files_deleted_total") == 2
           && s_metric (s, 0, "plateau_scrub_lists_dir_bytes") == bytes
           && s_metric (s, 1, "plateau_scrub_lists_dir_bytes") == bytes;
}

/* Replica i answers `decision` for number (through the rules, so from the list in force). */
static bool
s_decides (s_t *s, int i, const char *number, const char *decision)
{
    char d[16];
    sx_decision (s->f, i, number, NULL, d, sizeof d);
    return strcmp (d, decision) == 0;
}

static void
test_old_versions_go_after_the_grace_and_lookups_stay_on_the_version_in_force (void **state)
{
    s_t *s = *state;
    /* Not the catalog's: left alone however old. A list never in force keeps its files too. */
    const char *foreign[] = { "notes.txt", "us-dnc@2020-01-01.list.bak", "us-dnc@latest.list",
                              "us-dnc@2020-01-01.list.tmp.x1", ".upload-short", "bloctel@2020-01-01.list", NULL };
    for (int i = 0; foreign[i]; i++)
        s_plant (s, foreign[i], "keep me\n", 86400);
    /* A dead load's spool and save, an hour old; and an upload still arriving. */
    s_plant (s, ".upload-Ab12Cd", "202,5550100\n", 3600);
    s_plant (s, "us-dnc@2020-01-01.list.tmp.4242", "partial", 3600);
    s_plant (s, ".upload-Xy34Zw", "202,5550100\n", 0);

    int64_t t0 = pl_clock_mono_ms ();
    s_load_four (s);
    bool swept = pl_test_wait_until (s_swept, s, 8000);
    if (!swept)
        fprintf (stderr, "files %d, deleted %g + %g, bytes %g, %g, expected %lld\n", s_versions (s),
                 s_metric (s, 0, "plateau_scrub_list_files_deleted_total"),
                 s_metric (s, 1, "plateau_scrub_list_files_deleted_total"),
                 s_metric (s, 0, "plateau_scrub_lists_dir_bytes"), s_metric (s, 1, "plateau_scrub_lists_dir_bytes"),
                 s_left_bytes (s));
    assert_true (swept);
    printf ("old versions deleted %lld ms after the fourth load\n", (long long) (pl_clock_mono_ms () - t0));

    assert_false (s_exists (s, s->files[0]));
    assert_false (s_exists (s, s->files[1]));
    assert_true (s_exists (s, s->files[2]));                 /* the one before: rollback, evidence */
    assert_true (s_exists (s, s->files[3]));                 /* in force */
    for (int i = 0; foreign[i]; i++)
        assert_true (s_exists (s, foreign[i]));
    assert_false (s_exists (s, ".upload-Ab12Cd"));
    assert_false (s_exists (s, "us-dnc@2020-01-01.list.tmp.4242"));
    assert_true (s_exists (s, ".upload-Xy34Zw"));

    /* Both replicas answer from version 4: its number denied, version 3's not. */
    for (int i = 0; i < 2; i++) {
        assert_true (s_decides (s, i, "+12025550104", "deny"));
        assert_false (s_decides (s, i, "+12025550103", "deny"));
    }
}

static void
test_nothing_goes_before_the_grace (void **state)
{
    s_t *s = *state;
    s_load_four (s);
    /* Every load asks for a sweep: once the gauge counts the four files, one has run after the last. */
    double bytes = 0;
    for (int i = 0; i < 4; i++)
        bytes += (double) s_size (s, s->files[i]);
    int64_t t0 = pl_clock_mono_ms ();
    while (s_metric (s, 0, "plateau_scrub_lists_dir_bytes") != bytes && pl_clock_mono_ms () - t0 < 5000)
        usleep (20000);
    assert_true (s_metric (s, 0, "plateau_scrub_lists_dir_bytes") == bytes);
    assert_int_equal (s_versions (s), 4);
    assert_true (s_metric (s, 0, "plateau_scrub_list_files_deleted_total") == 0);
    assert_true (s_decides (s, 0, "+12025550104", "deny"));
}

static int
s_setup_with (void **state, const char *grace, int replicas)
{
    s_t *s = calloc (1, sizeof *s);
    s->f = sx_new ();
    if (!s->f) {
        free (s);
        return -1;
    }
    snprintf (s->lists, sizeof s->lists, "%s/lists", s->f->dir);
    char dir[700], g[64];
    snprintf (dir, sizeof dir, "PLATEAU_SCRUB_LISTS_DIR=%s", s->lists);
    snprintf (g, sizeof g, "PLATEAU_SCRUB_LISTS_GRACE=%s", grace);
    const char *extra[] = { dir, "PLATEAU_SCRUB_LISTS_KEEP=2", g, NULL };
    for (int i = 0; i < replicas; i++)
        if (sx_start_scrub (s->f, i, extra) != 0) {
            sx_destroy (s->f);
            free (s);
            return -1;
        }
    *state = s;
    return 0;
}

static int
s_setup_short (void **state)
{
    return s_setup_with (state, "1s", 2);
}

static int
s_setup_long (void **state)
{
    return s_setup_with (state, "1h", 1);
}

static int
s_teardown (void **state)
{
    s_t *s = *state;
    sx_destroy (s->f);
    free (s);
    return 0;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_old_versions_go_after_the_grace_and_lookups_stay_on_the_version_in_force,
                                         s_setup_short, s_teardown),
        cmocka_unit_test_setup_teardown (test_nothing_goes_before_the_grace, s_setup_long, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
