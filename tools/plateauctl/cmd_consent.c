/*  cmd_consent.c — `plateauctl consent add|revoke`: the consent registry, through scrub's HTTP
 *  API. A revocation applies to the next decision on every replica.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"

void
ctl_consent_usage (FILE *out)
{
    fprintf (out,
             "usage: plateauctl consent add NUMBER --source S --evidence REF --captured-at TIME\n"
             "                  [--tenant T] [--campaign C] [--subject S] [--channel phone|sms|email]\n"
             "                  [--purpose P] [--wording V] [--ref LEAD-OR-CRM-REF] [--written] [--country CC]\n"
             "       plateauctl consent revoke ID\n\n"
             "add prints the consent's id; revoke ends it at once (the proof of both is kept).\n\n"
             "environment: PLATEAU_SCRUB_URL, PLATEAU_API_TOKEN (see plateauctl scrub --help)\n");
}

int
ctl_consent_run (int argc, char **argv)
{
    const char *sub = ctl_positional (argc, argv, 0), *arg = ctl_positional (argc, argv, 1);
    if (ctl_has_flag (argc, argv, "--help")) {
        ctl_consent_usage (stdout);
        return CTL_EXIT_OK;
    }
    if (!sub || !arg)
        return ctl_usage_error ("consent", "needs add NUMBER … or revoke ID");
    pl_http_response_t resp = { 0 };
    int st;
    if (strcmp (sub, "add") == 0) {
        json_t *o = json_pack ("{s:s,s:b}", "number", arg, "written", ctl_has_flag (argc, argv, "--written"));
        const char *fields[][2] = { { "--source", "source" }, { "--evidence", "evidence_ref" },
                                    { "--captured-at", "captured_at" }, { "--tenant", "tenant" },
                                    { "--campaign", "campaign" }, { "--subject", "subject" },
                                    { "--channel", "channel" }, { "--purpose", "purpose" },
                                    { "--wording", "wording_version" }, { "--ref", "ref" }, { "--country", "country" } };
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
            if (ctl_flag (argc, argv, fields[i][0]))
                json_object_set_new (o, fields[i][1], json_string (ctl_flag (argc, argv, fields[i][0])));
        /* times as plateauctl reads them everywhere (a bare date is midnight UTC) */
        const char *at = ctl_flag (argc, argv, "--captured-at");
        int64_t ms;
        if (at && ctl_parse_time (at, &ms) != 0) {
            json_decref (o);
            return ctl_usage_error ("consent", "--captured-at '%s': expected RFC 3339, a date or UTC ms", at);
        }
        if (at)
            json_object_set_new (o, "captured_at", json_integer ((json_int_t) ms));
        char *body = json_dumps (o, JSON_COMPACT);
        json_decref (o);
        st = ctl_scrub_http ("consent", argc, argv, "POST", "/v1/consents", "application/json", body, strlen (body),
                             NULL, 0, &resp);
        free (body);
    } else if (strcmp (sub, "revoke") == 0) {
        char path[512], v[256];
        ctl_url_encode (v, sizeof v, arg);
        snprintf (path, sizeof path, "/v1/consents/%s", v);
        st = ctl_scrub_http ("consent", argc, argv, "DELETE", path, NULL, NULL, 0, NULL, 0, &resp);
    } else
        return ctl_usage_error ("consent", "unknown subcommand '%s' (add, revoke)", sub);
    bool ok = st == 201 || st == 204;
    if (st > 0)
        printf ("%d %s\n", st, resp.body && *resp.body ? resp.body : ok ? "done" : "");
    pl_http_response_free (&resp);
    return ok ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}
