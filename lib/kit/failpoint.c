/*  failpoint.c — test hooks that kill the process at named places (see failpoint.h). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "plateau/failpoint.h"

#define S_MAX 16

static struct {
    char name[48];
    unsigned permille;
} s_points[S_MAX];
static size_t s_npoints;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static void
s_load (void)
{
    const char *spec = getenv ("PLATEAU_FAILPOINTS");
    if (!spec || !*spec)
        return;
    char buf[1024];
    snprintf (buf, sizeof buf, "%s", spec);
    char *save = NULL;
    for (char *tok = strtok_r (buf, ",", &save); tok && s_npoints < S_MAX; tok = strtok_r (NULL, ",", &save)) {
        char *eq = strchr (tok, '=');
        if (!eq)
            continue;
        *eq = '\0';
        snprintf (s_points[s_npoints].name, sizeof s_points[s_npoints].name, "%s", tok);
        s_points[s_npoints++].permille = (unsigned) strtoul (eq + 1, NULL, 10);
    }
}

void
pl_failpoint (const char *name)
{
    pthread_once (&s_once, s_load);
    if (s_npoints == 0)
        return;
    for (size_t i = 0; i < s_npoints; i++) {
        if (strcmp (s_points[i].name, name) != 0)
            continue;
        static __thread unsigned seed;
        if (!seed)
            seed = (unsigned) time (NULL) ^ (unsigned) getpid () ^ (unsigned) (size_t) &seed;
        if ((unsigned) rand_r (&seed) % 1000 < s_points[i].permille)
            raise (SIGKILL);
    }
}
