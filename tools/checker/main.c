/*  main.c — plateau-check: the independent compliance checker of a simulation run.
 *
 *    plateau-check --bundle DIR --audit EXPORT.ndjson [--json REPORT.json] [--florida-collection]
 *
 *  Exit 0 when every check passes, 1 on violations, 2 on bad input or usage.
 */
#include <getopt.h>
#include <stdio.h>
#include "check.h"

static void
s_usage (void)
{
    fprintf (stderr, "usage: plateau-check --bundle DIR --audit EXPORT.ndjson [--json REPORT.json] "
                     "[--florida-collection]\n");
}

int
main (int argc, char **argv)
{
    const char *bundle = NULL, *audit = NULL, *json = NULL;
    int florida = 0;
    static struct option opts[] = {{"bundle", 1, 0, 'b'}, {"audit", 1, 0, 'a'}, {"json", 1, 0, 'j'},
                                   {"florida-collection", 0, 0, 'f'}, {"help", 0, 0, 'h'},
                                   {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long (argc, argv, "b:a:j:fh", opts, NULL)) != -1) {
        switch (c) {
        case 'b': bundle = optarg; break;
        case 'a': audit = optarg; break;
        case 'j': json = optarg; break;
        case 'f': florida = 1; break;
        default: s_usage (); return c == 'h' ? 0 : 2;
        }
    }
    if (!bundle || !audit || optind != argc) {
        s_usage ();
        return 2;
    }
    pl_check_t *ck = pl_check_new ();
    if (!ck) {
        fprintf (stderr, "plateau-check: out of memory\n");
        return 2;
    }
    pl_check_set_florida_collection (ck, florida);
    if (pl_check_load_bundle (ck, bundle) != 0 || pl_check_load_audit (ck, audit) != 0) {
        fprintf (stderr, "plateau-check: %s\n", pl_check_errstr (ck));
        pl_check_destroy (&ck);
        return 2;
    }
    size_t n = pl_check_run (ck);
    pl_check_print (ck, stdout);
    int rc = n ? 1 : 0;
    if (json && pl_check_write_json (ck, json) != 0) {
        fprintf (stderr, "plateau-check: %s: cannot write the report\n", json);
        rc = 2;
    }
    pl_check_destroy (&ck);
    return rc;
}
