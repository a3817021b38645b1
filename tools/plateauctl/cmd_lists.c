/*  cmd_lists.c — `plateauctl lists status|load`: the suppression lists scrub answers from, and
 *  loading a new copy of one (streamed, with progress), through scrub's HTTP API.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "commands.h"

void
ctl_lists_usage (FILE *out)
{
    fprintf (out,
             "usage: plateauctl lists status [--url URL] [--token T]\n"
             "       plateauctl lists load NAME FILE --jurisdiction J --taken YYYY-MM-DD\n"
             "                  [--mode full|delta|add|delete] [--format us-dnc|tps|bloctel|lines|csv|rnd]\n"
             "                  [--bad-lines refuse|apply] [--column NAME]\n\n"
             "status prints every list in force (version, copy date, age, STALE when older than its\n"
             "legal age: the rules then deny its jurisdiction) and exits 1 if any is stale.\n"
             "load sends FILE as a new version of list NAME (us-dnc, bloctel, tps, ctps, litigator,\n"
             "rnd, client:<name>, campaign:<name>); bad lines are listed with their line numbers.\n"
             "Loading needs a token of scrub's operator role.\n\n"
             "environment: PLATEAU_SCRUB_URL, PLATEAU_API_TOKEN (see plateauctl scrub --help)\n");
}

static int
s_status (int argc, char **argv)
{
    pl_http_response_t resp = { 0 };
    int st = ctl_scrub_http ("lists", argc, argv, "GET", "/v1/lists", NULL, NULL, 0, NULL, 0, &resp);
    if (st != 200) {
        if (st > 0)
            fprintf (stderr, "plateauctl lists: %d %s\n", st, resp.body ? resp.body : "");
        pl_http_response_free (&resp);
        return CTL_EXIT_FAIL;
    }
    json_t *o = json_loads (resp.body, 0, NULL);
    json_t *lists = json_object_get (o, "lists");
    int stale = 0;
    printf ("%-16s %-4s %-28s %-10s %8s %8s  %s\n", "list", "jur", "version", "copy date", "age (d)", "max (d)",
            "state");
    for (size_t i = 0; i < json_array_size (lists); i++) {
        json_t *l = json_array_get (lists, i);
        bool s = json_is_true (json_object_get (l, "stale"));
        stale += s;
        json_t *max = json_object_get (l, "max_age_days");
        char maxs[16] = "-", ages[16] = "-";
        if (max)
            snprintf (maxs, sizeof maxs, "%lld", (long long) json_integer_value (max));
        if (json_object_get (l, "age_days"))
            snprintf (ages, sizeof ages, "%lld", (long long) json_integer_value (json_object_get (l, "age_days")));
        printf ("%-16s %-4s %-28s %-10s %8s %8s  %s\n", json_string_value (json_object_get (l, "name")) ?: "",
                json_string_value (json_object_get (l, "jurisdiction")) ?: "",
                json_string_value (json_object_get (l, "version")) ?: "",
                json_string_value (json_object_get (l, "copy_date")) ?: "", ages, maxs, s ? "STALE" : "ok");
    }
    json_decref (o);
    pl_http_response_free (&resp);
    return stale ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}

static int
s_load (int argc, char **argv)
{
    const char *name = ctl_positional (argc, argv, 1), *file = ctl_positional (argc, argv, 2);
    const char *jur = ctl_flag (argc, argv, "--jurisdiction"), *taken = ctl_flag (argc, argv, "--taken");
    if (!name || !file || !jur || !taken)
        return ctl_usage_error ("lists", "load needs NAME FILE --jurisdiction J --taken YYYY-MM-DD");
    char path[1024], v[256];
    size_t q = 0;
    ctl_url_encode (v, sizeof v, name);
    q += (size_t) snprintf (path + q, sizeof path - q, "/v1/lists/%s", v);
    const char *keys[][2] = { { "--jurisdiction", "jurisdiction" }, { "--taken", "taken" }, { "--mode", "mode" },
                              { "--format", "format" }, { "--bad-lines", "bad_lines" }, { "--column", "column" } };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *val = ctl_flag (argc, argv, keys[i][0]);
        if (!val)
            continue;
        ctl_url_encode (v, sizeof v, val);
        q += (size_t) snprintf (path + q, sizeof path - q, "%c%s=%s", i ? '&' : '?', keys[i][1], v);
    }
    FILE *fp = fopen (file, "rb");
    struct stat st;
    if (!fp || fstat (fileno (fp), &st) != 0) {
        fprintf (stderr, "plateauctl lists: %s: %s\n", file, strerror (errno));
        if (fp)
            fclose (fp);
        return CTL_EXIT_FAIL;
    }
    pl_http_response_t resp = { 0 };
    int status = ctl_scrub_http ("lists", argc, argv, "PUT", path, "text/plain", NULL, 0, fp, st.st_size, &resp);
    fclose (fp);
    json_t *o = resp.body ? json_loads (resp.body, 0, NULL) : NULL;
    if (status == 201 || status == 422) {
        printf ("%-10s %s\n%-10s %s\n%-10s %lld\n%-10s %lld\n%-10s %lld\n", "version",
                json_string_value (json_object_get (o, "version")) ?: "", "result", status == 201 ? "loaded" : "REFUSED",
                "lines", (long long) json_integer_value (json_object_get (o, "lines")), "good",
                (long long) json_integer_value (json_object_get (o, "good")), "bad",
                (long long) json_integer_value (json_object_get (o, "bad")));
        json_t *bad = json_object_get (o, "bad_lines");
        for (size_t i = 0; i < json_array_size (bad) && i < 20; i++)
            printf ("  line %lld: %s\n", (long long) json_integer_value (json_object_get (json_array_get (bad, i), "line")),
                    json_string_value (json_object_get (json_array_get (bad, i), "reason")) ?: "");
    } else if (status > 0)
        fprintf (stderr, "plateauctl lists: %d %s\n", status, resp.body ? resp.body : "");
    json_decref (o);
    pl_http_response_free (&resp);
    return status == 201 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}

int
ctl_lists_run (int argc, char **argv)
{
    const char *sub = ctl_positional (argc, argv, 0);
    if (ctl_has_flag (argc, argv, "--help") || !sub) {
        ctl_lists_usage (sub ? stdout : stderr);
        return sub ? CTL_EXIT_OK : CTL_EXIT_USAGE;
    }
    if (strcmp (sub, "status") == 0)
        return s_status (argc, argv);
    if (strcmp (sub, "load") == 0)
        return s_load (argc, argv);
    return ctl_usage_error ("lists", "unknown subcommand '%s' (status, load)", sub);
}
