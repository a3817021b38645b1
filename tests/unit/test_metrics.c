/*  test_metrics.c — counters, gauges, histograms and their Prometheus text rendering.
 *
 *  Renderings are compared byte for byte where the format is fixed, and parsed back with a
 *  small exposition-format reader where the point is that any scraper can read them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plateau/metrics.h"

/* ---- a reader for the text exposition format ------------------------------------------- */

typedef struct {
    char name[128];
    size_t n_labels;
    char keys[8][64];
    char values[8][256];
    double value;
} s_sample_t;

typedef struct {
    s_sample_t samples[512];
    size_t n;
    char typed[64][128];             /* names seen in # TYPE lines, in order */
    size_t n_typed;
} s_parsed_t;

static bool
s_name_char (char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'
           || (!first && c >= '0' && c <= '9');
}

/* Parses one sample line; fails the test on anything malformed. */
static void
s_parse_sample (const char *line, s_sample_t *s)
{
    memset (s, 0, sizeof *s);
    const char *p = line;
    size_t n = 0;
    while (s_name_char (*p, n == 0) && n + 1 < sizeof s->name)
        s->name[n++] = *p++;
    if (n == 0)
        fail_msg ("no metric name in: %s", line);
    if (*p == '{') {
        p++;
        while (*p != '}') {
            assert_true (s->n_labels < 8);
            size_t k = 0;
            while (s_name_char (*p, k == 0) && *p != ':')
                s->keys[s->n_labels][k++] = *p++;
            if (k == 0 || p[0] != '=' || p[1] != '"')
                fail_msg ("bad label in: %s", line);
            p += 2;
            size_t v = 0;
            while (*p != '"') {
                if (*p == '\0' || *p == '\n')
                    fail_msg ("unterminated label value in: %s", line);
                char c = *p++;
                if (c == '\\') {
                    c = *p++;
                    if (c == 'n')
                        c = '\n';
                    else if (c != '\\' && c != '"')
                        fail_msg ("bad escape in: %s", line);
                }
                s->values[s->n_labels][v++] = c;
            }
            p++;
            s->n_labels++;
            if (*p == ',')
                p++;
            else if (*p != '}')
                fail_msg ("expected , or } in: %s", line);
        }
        p++;
    }
    if (*p != ' ')
        fail_msg ("expected a space before the value in: %s", line);
    p++;
    char *end = NULL;
    if (strcmp (p, "+Inf") == 0)
        s->value = INFINITY;
    else if (strcmp (p, "-Inf") == 0)
        s->value = -INFINITY;
    else if (strcmp (p, "NaN") == 0)
        s->value = NAN;
    else {
        s->value = strtod (p, &end);
        if (end == p || *end)
            fail_msg ("bad value in: %s", line);
    }
}

static void
s_parse (const char *text, s_parsed_t *out)
{
    memset (out, 0, sizeof *out);
    assert_true (text[0] == '\0' || text[strlen (text) - 1] == '\n');
    char *copy = strdup (text);
    char *save = NULL;
    for (char *line = strtok_r (copy, "\n", &save); line; line = strtok_r (NULL, "\n", &save)) {
        if (strncmp (line, "# HELP ", 7) == 0)
            continue;
        if (strncmp (line, "# TYPE ", 7) == 0) {
            char name[128], type[32];
            assert_int_equal (sscanf (line + 7, "%127s %31s", name, type), 2);
            assert_true (strcmp (type, "counter") == 0 || strcmp (type, "gauge") == 0
                         || strcmp (type, "histogram") == 0);
            strcpy (out->typed[out->n_typed++], name);
            continue;
        }
        assert_true (line[0] != '#');
        assert_true (out->n < 512);
        s_parse_sample (line, &out->samples[out->n]);
        /* Every sample belongs to the metric whose TYPE line came last. */
        assert_true (out->n_typed > 0);
        const char *family = out->typed[out->n_typed - 1];
        assert_int_equal (strncmp (out->samples[out->n].name, family, strlen (family)), 0);
        out->n++;
    }
    free (copy);
}

/* The sample with this name and these label values ("k=v,k=v" or ""), or NULL. */
static const s_sample_t *
s_find (const s_parsed_t *p, const char *name, const char *labels)
{
    for (size_t i = 0; i < p->n; i++) {
        const s_sample_t *s = &p->samples[i];
        if (strcmp (s->name, name) != 0)
            continue;
        char joined[1024] = "";
        for (size_t l = 0; l < s->n_labels; l++) {
            size_t used = strlen (joined);
            snprintf (joined + used, sizeof joined - used, "%s%s=%s", l ? "," : "", s->keys[l],
                      s->values[l]);
        }
        if (strcmp (joined, labels) == 0)
            return s;
    }
    return NULL;
}

/* ---- tests ------------------------------------------------------------------------------ */

static void
test_counter_and_gauge_render_exactly (void **state)
{
    (void) state;
    pl_metrics_t *m = pl_metrics_new ();
    pl_metric_t *leads = pl_metrics_counter (m, "plateau_intake_leads_total",
                                             "Leads received, by outcome.", "status,source");
    pl_metric_t *inflight = pl_metrics_gauge (m, "plateau_intake_requests_in_flight",
                                              "Requests being handled.", NULL);
    assert_non_null (leads);
    assert_non_null (inflight);
    pl_metric_inc (leads, "accepted,crm-paris", 1);
    pl_metric_inc (leads, "accepted,crm-paris", 2);
    pl_metric_inc (leads, "rejected,crm-lyon", 1);
    pl_metric_set (inflight, NULL, 3);
    pl_metric_inc (inflight, NULL, -1);
    char *text = pl_metrics_render (m);
    assert_string_equal (text,
        "# HELP plateau_intake_leads_total Leads received, by outcome.\n"
        "# TYPE plateau_intake_leads_total counter\n"
        "plateau_intake_leads_total{status=\"accepted\",source=\"crm-paris\"} 3\n"
        "plateau_intake_leads_total{status=\"rejected\",source=\"crm-lyon\"} 1\n"
        "# HELP plateau_intake_requests_in_flight Requests being handled.\n"
        "# TYPE plateau_intake_requests_in_flight gauge\n"
        "plateau_intake_requests_in_flight 2\n");
    free (text);
    assert_true (pl_metric_value (leads, "accepted,crm-paris") == 3);
    assert_true (pl_metric_value (leads, "never,seen") == 0);
    assert_true (pl_metric_value (inflight, NULL) == 2);
    pl_metrics_destroy (&m);
    assert_null (m);
    pl_metrics_destroy (&m);
}

static void
test_histogram_buckets_are_cumulative_with_inf_sum_and_count (void **state)
{
    (void) state;
    pl_metrics_t *m = pl_metrics_new ();
    const double bounds[] = { 0.25, 1, 4 };
    pl_metric_t *h = pl_metrics_histogram (m, "plateau_audit_fsync_seconds",
                                           "Time to fsync the audit log.", "chain", bounds, 3);
    assert_non_null (h);
    const double seen[] = { 0.125, 0.25, 0.5, 2, 8 };   /* 0.25 lands in le="0.25" */
    for (size_t i = 0; i < 5; i++)
        pl_metric_observe (h, "main", seen[i]);
    pl_metric_observe (h, "spare", 1);
    char *text = pl_metrics_render (m);
    assert_string_equal (text,
        "# HELP plateau_audit_fsync_seconds Time to fsync the audit log.\n"
        "# TYPE plateau_audit_fsync_seconds histogram\n"
        "plateau_audit_fsync_seconds_bucket{chain=\"main\",le=\"0.25\"} 2\n"
        "plateau_audit_fsync_seconds_bucket{chain=\"main\",le=\"1\"} 3\n"
        "plateau_audit_fsync_seconds_bucket{chain=\"main\",le=\"4\"} 4\n"
        "plateau_audit_fsync_seconds_bucket{chain=\"main\",le=\"+Inf\"} 5\n"
        "plateau_audit_fsync_seconds_sum{chain=\"main\"} 10.875\n"
        "plateau_audit_fsync_seconds_count{chain=\"main\"} 5\n"
        "plateau_audit_fsync_seconds_bucket{chain=\"spare\",le=\"0.25\"} 0\n"
        "plateau_audit_fsync_seconds_bucket{chain=\"spare\",le=\"1\"} 1\n"
        "plateau_audit_fsync_seconds_bucket{chain=\"spare\",le=\"4\"} 1\n"
        "plateau_audit_fsync_seconds_bucket{chain=\"spare\",le=\"+Inf\"} 1\n"
        "plateau_audit_fsync_seconds_sum{chain=\"spare\"} 1\n"
        "plateau_audit_fsync_seconds_count{chain=\"spare\"} 1\n");
    free (text);
    assert_true (pl_metric_value (h, "main") == 5);
    assert_true (pl_metric_sum (h, "main") == 10.875);
    pl_metrics_destroy (&m);
}

static void
test_histogram_without_labels_or_bounds_uses_the_defaults (void **state)
{
    (void) state;
    pl_metrics_t *m = pl_metrics_new ();
    const double with_inf[] = { 0.5, INFINITY };
    pl_metric_t *d = pl_metrics_histogram (m, "plateau_test_default_seconds", "d", NULL, NULL, 0);
    pl_metric_t *i = pl_metrics_histogram (m, "plateau_test_inf_seconds", "i", NULL, with_inf, 2);
    pl_metric_observe (d, NULL, 0.3);
    char *text = pl_metrics_render (m);
    s_parsed_t *p = calloc (1, sizeof *p);
    s_parse (text, p);
    /* 11 default bounds + +Inf, then _sum and _count; the implied +Inf is not doubled. */
    assert_non_null (s_find (p, "plateau_test_default_seconds_bucket", "le=0.005"));
    assert_true (s_find (p, "plateau_test_default_seconds_bucket", "le=0.25")->value == 0);
    assert_true (s_find (p, "plateau_test_default_seconds_bucket", "le=0.5")->value == 1);
    assert_true (s_find (p, "plateau_test_default_seconds_bucket", "le=10")->value == 1);
    assert_true (s_find (p, "plateau_test_default_seconds_count", "")->value == 1);
    assert_non_null (s_find (p, "plateau_test_inf_seconds_bucket", "le=0.5"));
    size_t inf = 0;
    for (size_t k = 0; k < p->n; k++)
        if (strcmp (p->samples[k].name, "plateau_test_inf_seconds_bucket") == 0)
            inf++;
    assert_int_equal (inf, 2);
    assert_int_equal (p->n, 12 + 2 + 2 + 2);
    free (p);
    free (text);
    (void) i;
    pl_metrics_destroy (&m);
}

static void
test_unlabelled_metrics_render_zero_before_first_use (void **state)
{
    (void) state;
    pl_metrics_t *m = pl_metrics_new ();
    pl_metrics_counter (m, "plateau_scrub_refusals_total", "Refusals.", NULL);
    pl_metrics_counter (m, "plateau_scrub_lookups_total", "Lookups by list.", "list");
    char *text = pl_metrics_render (m);
    assert_string_equal (text,
        "# HELP plateau_scrub_refusals_total Refusals.\n"
        "# TYPE plateau_scrub_refusals_total counter\n"
        "plateau_scrub_refusals_total 0\n"
        "# HELP plateau_scrub_lookups_total Lookups by list.\n"
        "# TYPE plateau_scrub_lookups_total counter\n");
    free (text);
    pl_metrics_destroy (&m);
    m = pl_metrics_new ();
    text = pl_metrics_render (m);
    assert_string_equal (text, "");
    free (text);
    pl_metrics_destroy (&m);
}

static void
test_label_values_and_help_are_escaped (void **state)
{
    (void) state;
    pl_metrics_t *m = pl_metrics_new ();
    pl_metric_t *c = pl_metrics_counter (m, "plateau_test_escapes_total",
                                         "Help with a \\ backslash\nand a new line.", "reason");
    const char *value = "say \"hi\" \\ then\nbreak";
    pl_metric_inc (c, value, 1);
    char *text = pl_metrics_render (m);
    assert_string_equal (text,
        "# HELP plateau_test_escapes_total Help with a \\\\ backslash\\nand a new line.\n"
        "# TYPE plateau_test_escapes_total counter\n"
        "plateau_test_escapes_total{reason=\"say \\\"hi\\\" \\\\ then\\nbreak\"} 1\n");
    s_parsed_t *p = calloc (1, sizeof *p);
    s_parse (text, p);
    assert_int_equal (p->n, 1);
    assert_string_equal (p->samples[0].values[0], value);
    free (p);
    free (text);
    pl_metrics_destroy (&m);
}

static void
test_values_are_written_in_their_shortest_exact_form (void **state)
{
    (void) state;
    static const struct { double v; const char *text; } cases[] = {
        { 0, "0" }, { 1, "1" }, { -2.5, "-2.5" }, { 0.1, "0.1" }, { 123456789, "123456789" },
        { 1e21, "1e+21" }, { 1.0 / 3.0, "0.3333333333333333" }, { 0.30000000000000004,
        "0.30000000000000004" }, { 9007199254740993.0, "9007199254740992" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pl_metrics_t *m = pl_metrics_new ();
        pl_metric_t *g = pl_metrics_gauge (m, "plateau_test_value", "v", NULL);
        pl_metric_set (g, NULL, cases[i].v);
        char *text = pl_metrics_render (m);
        char want[128];
        snprintf (want, sizeof want, "\nplateau_test_value %s\n", cases[i].text);
        if (!strstr (text, want))
            fail_msg ("%.17g rendered as: %s", cases[i].v, text);
        s_parsed_t *p = calloc (1, sizeof *p);
        s_parse (text, p);
        assert_true (p->samples[0].value == cases[i].v);      /* reads back exactly */
        free (p);
        free (text);
        pl_metrics_destroy (&m);
    }
    pl_metrics_t *m = pl_metrics_new ();
    pl_metric_t *g = pl_metrics_gauge (m, "plateau_test_special", "s", "kind");
    pl_metric_set (g, "up", INFINITY);
    pl_metric_set (g, "down", -INFINITY);
    pl_metric_set (g, "nan", NAN);
    char *text = pl_metrics_render (m);
    assert_non_null (strstr (text, "plateau_test_special{kind=\"up\"} +Inf\n"));
    assert_non_null (strstr (text, "plateau_test_special{kind=\"down\"} -Inf\n"));
    assert_non_null (strstr (text, "plateau_test_special{kind=\"nan\"} NaN\n"));
    free (text);
    pl_metrics_destroy (&m);
}

static void
test_a_full_registry_parses_back_to_its_values (void **state)
{
    (void) state;
    pl_metrics_t *m = pl_metrics_new ();
    pl_metric_t *leads = pl_metrics_counter (m, "plateau_intake_leads_total", "Leads.",
                                             "status,source");
    pl_metric_t *queue = pl_metrics_gauge (m, "plateau_dialer_queue_depth", "Queue.", "campaign");
    const double bounds[] = { 0.01, 0.1, 1 };
    pl_metric_t *lat = pl_metrics_histogram (m, "plateau_scrub_verdict_seconds", "Latency.",
                                             "list", bounds, 3);
    const char *statuses[] = { "accepted", "rejected", "duplicate" };
    const char *sources[] = { "crm-paris", "crm-lyon" };
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 2; j++) {
            char labels[64];
            snprintf (labels, sizeof labels, "%s,%s", statuses[i], sources[j]);
            pl_metric_inc (leads, labels, i * 10 + j + 0.5);
        }
    pl_metric_set (queue, "fr-collect-1", 42);
    pl_metric_set (queue, "uk-sales", -1);
    for (int i = 0; i < 100; i++)
        pl_metric_observe (lat, i % 2 ? "bloctel" : "tps", i / 100.0);
    char *text = pl_metrics_render (m);
    s_parsed_t *p = calloc (1, sizeof *p);
    s_parse (text, p);
    assert_int_equal (p->n_typed, 3);
    assert_string_equal (p->typed[0], "plateau_intake_leads_total");
    assert_string_equal (p->typed[2], "plateau_scrub_verdict_seconds");
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 2; j++) {
            char labels[64], query[128];
            snprintf (labels, sizeof labels, "%s,%s", statuses[i], sources[j]);
            snprintf (query, sizeof query, "status=%s,source=%s", statuses[i], sources[j]);
            const s_sample_t *s = s_find (p, "plateau_intake_leads_total", query);
            assert_non_null (s);
            assert_true (s->value == pl_metric_value (leads, labels));
        }
    assert_true (s_find (p, "plateau_dialer_queue_depth", "campaign=uk-sales")->value == -1);
    const s_sample_t *count = s_find (p, "plateau_scrub_verdict_seconds_count", "list=tps");
    assert_true (count->value == 50);
    assert_true (s_find (p, "plateau_scrub_verdict_seconds_bucket", "list=tps,le=+Inf")->value
                 == 50);
    /* Buckets never decrease. */
    double last = -1;
    for (size_t i = 0; i < p->n; i++)
        if (strcmp (p->samples[i].name, "plateau_scrub_verdict_seconds_bucket") == 0
            && strcmp (p->samples[i].values[0], "bloctel") == 0) {
            assert_true (p->samples[i].value >= last);
            last = p->samples[i].value;
        }
    assert_true (last == 50);
    free (p);
    free (text);
    pl_metrics_destroy (&m);
}

static void
test_registration_rules (void **state)
{
    (void) state;
    pl_metrics_t *m = pl_metrics_new ();
    const char *bad_names[] = { "", "9lives", "has-dash", "has space", "é" };
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++)
        assert_null (pl_metrics_counter (m, bad_names[i], "h", NULL));
    assert_null (pl_metrics_counter (m, NULL, "h", NULL));
    assert_null (pl_metrics_counter (m, "plateau_x_total", "h", "__reserved"));
    assert_null (pl_metrics_counter (m, "plateau_x_total", "h", "a,a"));
    assert_null (pl_metrics_counter (m, "plateau_x_total", "h", "a,"));
    assert_null (pl_metrics_counter (m, "plateau_x_total", "h", "bad-label"));
    assert_null (pl_metrics_histogram (m, "plateau_x_seconds", "h", "le", NULL, 0));
    const double down[] = { 1, 0.5 };
    assert_null (pl_metrics_histogram (m, "plateau_x_seconds", "h", NULL, down, 2));
    const double nan_bound[] = { NAN };
    assert_null (pl_metrics_histogram (m, "plateau_x_seconds", "h", NULL, nan_bound, 1));

    pl_metric_t *a = pl_metrics_counter (m, "plateau_x_total", "h", "status");
    assert_non_null (a);
    assert_ptr_equal (pl_metrics_counter (m, "plateau_x_total", "other help", "status"), a);
    assert_null (pl_metrics_gauge (m, "plateau_x_total", "h", "status"));
    assert_null (pl_metrics_counter (m, "plateau_x_total", "h", "status,source"));
    const double b1[] = { 1, 2 }, b2[] = { 1, 3 };
    pl_metric_t *h = pl_metrics_histogram (m, "plateau_x_seconds", "h", NULL, b1, 2);
    assert_ptr_equal (pl_metrics_histogram (m, "plateau_x_seconds", "h", NULL, b1, 2), h);
    assert_null (pl_metrics_histogram (m, "plateau_x_seconds", "h", NULL, b2, 2));
    assert_non_null (pl_metrics_counter (m, "plateau:recorded:rate", "colons are allowed", NULL));
    pl_metrics_destroy (&m);
}

static void
test_misuse_is_ignored_rather_than_fatal (void **state)
{
    (void) state;
    pl_metrics_t *m = pl_metrics_new ();
    pl_metric_t *c = pl_metrics_counter (m, "plateau_y_total", "h", "a,b");
    pl_metric_t *g = pl_metrics_gauge (m, "plateau_y_gauge", "h", NULL);
    pl_metric_inc (c, "only-one", 1);          /* wrong number of values */
    pl_metric_inc (c, "1,2,3", 1);
    pl_metric_inc (c, NULL, 1);
    pl_metric_inc (c, "x,y", -5);               /* counters never go down */
    pl_metric_inc (c, "x,y", NAN);
    pl_metric_set (c, "x,y", 7);                /* set is for gauges */
    pl_metric_observe (g, NULL, 1);             /* observe is for histograms */
    pl_metric_inc (NULL, NULL, 1);
    pl_metric_set (NULL, NULL, 1);
    pl_metric_observe (NULL, NULL, 1);
    assert_true (pl_metric_value (NULL, NULL) == 0);
    char *text = pl_metrics_render (m);
    assert_string_equal (text,
        "# HELP plateau_y_total h\n"
        "# TYPE plateau_y_total counter\n"
        "# HELP plateau_y_gauge h\n"
        "# TYPE plateau_y_gauge gauge\n"
        "plateau_y_gauge 0\n");
    free (text);
    text = pl_metrics_render (NULL);
    assert_string_equal (text, "");
    free (text);
    pl_metrics_destroy (&m);
}

typedef struct {
    pl_metric_t *counter;
    pl_metric_t *hist;
    int id;
    atomic_int *done;
} s_worker_t;

static void *
s_worker (void *arg)
{
    s_worker_t *w = arg;
    char own[32];
    snprintf (own, sizeof own, "worker-%d", w->id);
    for (int i = 0; i < 100000; i++) {
        pl_metric_inc (w->counter, "shared", 1);
        pl_metric_inc (w->counter, own, 0.5);
        if (i % 1000 == 0) {                 /* new series appear while others update */
            char fresh[48];
            snprintf (fresh, sizeof fresh, "w%d-%d", w->id, i / 1000);
            pl_metric_inc (w->counter, fresh, 1);
        }
        pl_metric_observe (w->hist, NULL, (i % 4) * 0.5);
    }
    atomic_fetch_add (w->done, 1);
    return NULL;
}

static void
test_concurrent_updates_lose_nothing_while_rendering (void **state)
{
    (void) state;
    pl_metrics_t *m = pl_metrics_new ();
    pl_metric_t *c = pl_metrics_counter (m, "plateau_z_total", "h", "who");
    const double bounds[] = { 0.5, 1 };
    pl_metric_t *h = pl_metrics_histogram (m, "plateau_z_seconds", "h", NULL, bounds, 2);
    atomic_int done = 0;
    s_worker_t w[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (s_worker_t) { .counter = c, .hist = h, .id = i, .done = &done };
        pthread_create (&t[i], NULL, s_worker, &w[i]);
    }
    int renders = 0;
    while (atomic_load (&done) < 4 || renders == 0) {
        char *text = pl_metrics_render (m);
        s_parsed_t *p = calloc (1, sizeof *p);
        s_parse (text, p);
        /* A scrape in the middle is consistent: the +Inf bucket equals _count. */
        const s_sample_t *inf = s_find (p, "plateau_z_seconds_bucket", "le=+Inf");
        const s_sample_t *count = s_find (p, "plateau_z_seconds_count", "");
        assert_true (inf->value == count->value);
        free (p);
        free (text);
        renders++;
    }
    for (int i = 0; i < 4; i++)
        pthread_join (t[i], NULL);
    assert_true (pl_metric_value (c, "shared") == 400000);
    for (int i = 0; i < 4; i++) {
        char own[32];
        snprintf (own, sizeof own, "worker-%d", i);
        assert_true (pl_metric_value (c, own) == 50000);
    }
    assert_true (pl_metric_value (c, "w3-99") == 1);
    assert_true (pl_metric_value (h, NULL) == 400000);
    /* (0 + 0.5 + 1 + 1.5) per 4 observations, exact in binary. */
    assert_true (pl_metric_sum (h, NULL) == 300000);
    pl_metrics_destroy (&m);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_counter_and_gauge_render_exactly),
        cmocka_unit_test (test_histogram_buckets_are_cumulative_with_inf_sum_and_count),
        cmocka_unit_test (test_histogram_without_labels_or_bounds_uses_the_defaults),
        cmocka_unit_test (test_unlabelled_metrics_render_zero_before_first_use),
        cmocka_unit_test (test_label_values_and_help_are_escaped),
        cmocka_unit_test (test_values_are_written_in_their_shortest_exact_form),
        cmocka_unit_test (test_a_full_registry_parses_back_to_its_values),
        cmocka_unit_test (test_registration_rules),
        cmocka_unit_test (test_misuse_is_ignored_rather_than_fatal),
        cmocka_unit_test (test_concurrent_updates_lose_nothing_while_rendering),
    };
    return cmocka_run_group_tests_name ("metrics", tests, NULL, NULL);
}
