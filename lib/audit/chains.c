/*  chains.c — the chain directories under an audit data directory (see chains.h). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "plateau/error.h"
#include "plateau/audit_record.h"
#include "chains.h"
#include "grow.h"

static int
s_name_cmp (const void *a, const void *b)
{
    return strcmp (*(char *const *) a, *(char *const *) b);
}

int
pl__audit_chains (const char *root, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    DIR *d = opendir (root);
    if (!d)
        return errno == ENOENT ? PL_ENOTFOUND : PL_EIO;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir (d))) {
        if (!pl_audit_chain_id_valid (e->d_name))
            continue;
        char path[4096];
        struct stat st;
        snprintf (path, sizeof path, "%s/%s", root, e->d_name);
        if (stat (path, &st) != 0 || !S_ISDIR (st.st_mode))
            continue;
        if (!pl__grow (names, *n, &cap, sizeof **names, 8))
            break;
        if (((*names)[*n] = strdup (e->d_name)))
            (*n)++;
    }
    closedir (d);
    if (*n)
        qsort (*names, *n, sizeof **names, s_name_cmp);
    return 0;
}

void
pl__audit_chains_free (char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free (names[i]);
    free (names);
}
