/*  cmd_dnc.c — `plateauctl dnc add|remove NUMBER`: the internal do-not-call list, through
 *  scrub's HTTP API (removing needs the operator role).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"

void
ctl_dnc_usage (FILE *out)
{
    fprintf (out,
             "usage: plateauctl dnc add NUMBER [--tenant T] [--debt REF] [--channel call|web|letter|crm|operator]\n"
             "                          [--requested-at TIME] [--country CC]\n"
             "       plateauctl dnc remove NUMBER [--tenant T] [--debt REF] [--country CC]\n\n"
             "Records or removes an opt-out; it is in force on every scrub replica at once.\n\n"
             "environment: PLATEAU_SCRUB_URL, PLATEAU_API_TOKEN (see plateauctl scrub --help)\n");
}

int
ctl_dnc_run (int argc, char **argv)
{
    const char *sub = ctl_positional (argc, argv, 0), *number = ctl_positional (argc, argv, 1);
    if (ctl_has_flag (argc, argv, "--help")) {
        ctl_dnc_usage (stdout);
        return CTL_EXIT_OK;
    }
    if (!sub || !number)
        return ctl_usage_error ("dnc", "needs add|remove NUMBER");
    const char *tenant = ctl_flag (argc, argv, "--tenant"), *debt = ctl_flag (argc, argv, "--debt");
    const char *country = ctl_flag (argc, argv, "--country");
    pl_http_response_t resp = { 0 };
    int st;
    if (strcmp (sub, "add") == 0) {
        json_t *o = json_pack ("{s:s}", "number", number);
        const char *fields[][2] = { { "--tenant", "tenant" }, { "--debt", "debt_ref" }, { "--channel", "channel" },
                                    { "--requested-at", "requested_at" }, { "--country", "country" } };
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
            if (ctl_flag (argc, argv, fields[i][0]))
                json_object_set_new (o, fields[i][1], json_string (ctl_flag (argc, argv, fields[i][0])));
        char *body = json_dumps (o, JSON_COMPACT);
        json_decref (o);
        st = ctl_scrub_http ("dnc", argc, argv, "POST", "/v1/dnc", "application/json", body, strlen (body), NULL, 0,
                             &resp);
        free (body);
    } else if (strcmp (sub, "remove") == 0) {
        char path[1024], v[256];
        ctl_url_encode (v, sizeof v, number);
        size_t q = (size_t) snprintf (path, sizeof path, "/v1/dnc/%s?x=1", v);
        if (tenant) { ctl_url_encode (v, sizeof v, tenant); q += (size_t) snprintf (path + q, sizeof path - q, "&tenant=%s", v); }
        if (debt) { ctl_url_encode (v, sizeof v, debt); q += (size_t) snprintf (path + q, sizeof path - q, "&debt_ref=%s", v); }
        if (country) { ctl_url_encode (v, sizeof v, country); snprintf (path + q, sizeof path - q, "&country=%s", v); }
        st = ctl_scrub_http ("dnc", argc, argv, "DELETE", path, NULL, NULL, 0, NULL, 0, &resp);
    } else
        return ctl_usage_error ("dnc", "unknown subcommand '%s' (add, remove)", sub);
    bool ok = st == 200 || st == 201 || st == 204;
    if (st > 0)
        printf ("%d %s\n", st, resp.body && *resp.body ? resp.body : ok ? "done" : "");
    pl_http_response_free (&resp);
    return ok ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}
