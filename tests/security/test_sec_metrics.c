/*  test_sec_metrics.c — label values taken from outside (a source name, a peer) once grew
 *  /metrics without bound. A metric now keeps at most 1000 label sets; later ones are folded
 *  into one whose values are all "other", and the counts are kept there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "plateau/metrics.h"

static size_t
s_count (const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr (text, needle); p; p = strstr (p + 1, needle))
        n++;
    return n;
}

static void
test_a_flood_of_label_values_stays_bounded (void **state)
{
    (void) state;
    pl_metrics_t *m = pl_metrics_new ();
    pl_metric_t *c = pl_metrics_counter (m, "plateau_test_leads_total", "Leads by source", "status,source");
    char labels[64];
    for (int i = 0; i < 50000; i++) {
        snprintf (labels, sizeof labels, "accepted,forged-%d", i);
        pl_metric_inc (c, labels, 1);
    }
    pl_metric_inc (c, "accepted,forged-7", 1);            /* an early one keeps its own series */
    char *text = pl_metrics_render (m);
    assert_non_null (text);
    assert_true (s_count (text, "\nplateau_test_leads_total{") <= 1001);
    assert_non_null (strstr (text, "plateau_test_leads_total{status=\"other\",source=\"other\"} 49000\n"));
    assert_non_null (strstr (text, "plateau_test_leads_total{status=\"accepted\",source=\"forged-7\"} 2\n"));
    assert_true (strlen (text) < 200 * 1024);
    free (text);
    pl_metrics_destroy (&m);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_a_flood_of_label_values_stays_bounded),
    };
    return cmocka_run_group_tests_name ("sec_metrics", tests, NULL, NULL);
}
