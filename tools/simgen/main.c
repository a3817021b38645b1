/*  main.c — plateau-simgen: writes the compliance simulation's input bundle.
 *
 *    plateau-simgen --out DIR --leads N --seed S --start YYYY-MM-DD
 *
 *  Exit 0 when the bundle is written, 1 when a file cannot be, 2 on usage errors.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include "simgen.h"

static void
s_usage (void)
{
    fprintf (stderr, "usage: plateau-simgen --out DIR --leads N --seed S --start YYYY-MM-DD\n");
}

int
main (int argc, char **argv)
{
    pl_simgen_opts_t o = {.leads = 100000, .seed = 1};
    static struct option opts[] = {{"out", 1, 0, 'o'}, {"leads", 1, 0, 'n'}, {"seed", 1, 0, 's'},
                                   {"start", 1, 0, 'd'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    char *end;
    while ((c = getopt_long (argc, argv, "o:n:s:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': o.out = optarg; break;
        case 'n':
            o.leads = strtol (optarg, &end, 10);
            if (*end)
                o.leads = -1;
            break;
        case 's': o.seed = strtoull (optarg, &end, 10); break;
        case 'd': o.start = optarg; break;
        default: s_usage (); return c == 'h' ? 0 : 2;
        }
    }
    if (!o.out || !o.start || optind != argc) {
        s_usage ();
        return 2;
    }
    char err[512] = "";
    int rc = pl_simgen_run (&o, err, sizeof err);
    if (rc != 0) {
        fprintf (stderr, "plateau-simgen: %s\n", err);
        return rc == -EINVAL ? 2 : 1;
    }
    printf ("plateau-simgen: %ld leads in %s (seed %llu, start %s)\n", o.leads, o.out,
            (unsigned long long) o.seed, o.start);
    return 0;
}
