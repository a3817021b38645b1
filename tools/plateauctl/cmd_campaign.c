/*  cmd_campaign.c — an operator's campaigns in the dialer:
 *    plateauctl campaign pause|resume CAMPAIGN [--reason TEXT]   stop or restart its dialling
 *    plateauctl campaign put CAMPAIGN FILE                        define or replace it
 *    plateauctl campaign show CAMPAIGN                            its settings and definition
 *  From POST /v1/campaigns/{id}/pause and /resume (audited campaign.paused / .resumed), PUT and
 *  GET /v1/campaigns/{id} (audited campaign.configured).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "plateau/error.h"

void
ctl_campaign_usage (FILE *out)
{
    fprintf (out,
             "usage: plateauctl campaign pause CAMPAIGN [--reason TEXT] [--url URL] [--token T]\n"
             "       plateauctl campaign resume CAMPAIGN [--url URL] [--token T]\n"
             "       plateauctl campaign put CAMPAIGN FILE [--url URL] [--token T]\n"
             "       plateauctl campaign show CAMPAIGN [--url URL] [--token T]\n\n"
             "put: FILE (the campaign file format) defines CAMPAIGN, or replaces its definition, in\n"
             "every service within a second; refused when a campaign file of that name exists, or\n"
             "when it would widen its profile (the error names the line and the key).\n"
             "show: the campaign's settings and the definition in force.\n"
             "pause: nothing of the campaign is dialled any more, by the pacing or by an agent's own\n"
             "dial, until it is resumed; calls already placed run to their end. Pausing a paused\n"
             "campaign (or resuming a running one) changes nothing. Prints the state and the lines\n"
             "still in flight.\n\n"
             "environment:\n"
             "  PLATEAU_DIALER_URL  the dialer's HTTP API (default for --url)\n"
             "  PLATEAU_API_TOKEN   the bearer token (default for --token): an operator's\n");
}

static int
s_put_or_show (const char *act, const char *campaign, const char *file, int nargs, const char *url, const char *token)
{
    bool put = strcmp (act, "put") == 0;
    if (put ? nargs != 3 : nargs != 2)
        return ctl_usage_error ("campaign", put ? "put takes CAMPAIGN FILE" : "show takes one CAMPAIGN");
    char *text = NULL;
    if (put) {
        FILE *fp = fopen (file, "r");
        text = fp ? malloc (64 * 1024 + 2) : NULL;
        size_t len = text ? fread (text, 1, 64 * 1024 + 1, fp) : 0;
        if (fp)
            fclose (fp);
        if (!text) {
            fprintf (stderr, "plateauctl campaign: %s: cannot be read\n", file);
            return CTL_EXIT_FAIL;
        }
        if (len > 64 * 1024) {
            free (text);
            fprintf (stderr, "plateauctl campaign: %s: over 64 KiB\n", file);
            return CTL_EXIT_FAIL;
        }
        text[len] = '\0';
    }
    char path[512], enc[256];
    ctl_url_encode (enc, sizeof enc, campaign);
    snprintf (path, sizeof path, "/v1/campaigns/%s", enc);
    pl_http_response_t resp = { 0 };
    int st = put ? ctl_dialer_send ("campaign", url, token, "PUT", path, "text/plain", text, &resp)
                 : ctl_dialer_get ("campaign", url, token, path, &resp);
    free (text);
    if (st == PL_EINVAL)
        return CTL_EXIT_USAGE;
    json_t *o = st > 0 && resp.body ? json_loads (resp.body, 0, NULL) : NULL;
    int rc = CTL_EXIT_FAIL;
    if ((st == 200 || st == 201) && o) {
        if (put)
            printf ("%s: %s (%s, %s, tenant %s)\n", campaign, json_string_value (json_object_get (o, "status")) ?: "",
                    json_string_value (json_object_get (o, "profile")) ?: "", json_string_value (json_object_get (o, "mode")) ?: "",
                    json_string_value (json_object_get (o, "tenant")) ?: "");
        else {
            json_t *def = json_object_get (o, "definition");
            json_incref (def);
            json_object_del (o, "definition");
            char *s = json_dumps (o, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
            printf ("%s\n# definition in force:\n%s", s ? s : "", json_string_value (def) ?: "");
            free (s);
            json_decref (def);
        }
        rc = CTL_EXIT_OK;
    } else if (st == 404)
        fprintf (stderr, "plateauctl campaign: %s: no such campaign in the dialer\n", campaign);
    else if (st == 403)
        fprintf (stderr, "plateauctl campaign: this token may not %s campaigns\n", put ? "define" : "read");
    else if (st > 0 && o) {
        /* "body:6: key 'mode': …" is the file's line 6 */
        const char *msg = json_string_value (json_object_get (json_object_get (o, "error"), "message")) ?: "";
        bool body = put && strncmp (msg, "body", 4) == 0;
        fprintf (stderr, "plateauctl campaign: %s%s\n", body ? file : "", body ? msg + 4 : msg);
    }
    else if (st > 0)
        fprintf (stderr, "plateauctl campaign: HTTP %d %s\n", st, resp.body ? resp.body : "");
    json_decref (o);
    pl_http_response_free (&resp);
    return rc;
}

int
ctl_campaign_run (int argc, char **argv)
{
    static const struct option opts[] = { { "reason", required_argument, NULL, 'r' },
                                          { "url", required_argument, NULL, 'u' },
                                          { "token", required_argument, NULL, 't' },
                                          { "help", no_argument, NULL, 'h' },
                                          { NULL, 0, NULL, 0 } };
    const char *url = NULL, *token = NULL, *reason = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long (argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'r': reason = optarg; break;
        case 'u': url = optarg; break;
        case 't': token = optarg; break;
        case 'h': ctl_campaign_usage (stdout); return CTL_EXIT_OK;
        default: return ctl_usage_error ("campaign", "unknown option");
        }
    }
    if (optind + 2 > argc)
        return ctl_usage_error ("campaign", "give pause, resume, put or show, then one CAMPAIGN");
    const char *act = argv[optind], *campaign = argv[optind + 1];
    if (strcmp (act, "put") == 0 || strcmp (act, "show") == 0)
        return s_put_or_show (act, campaign, optind + 3 == argc ? argv[optind + 2] : NULL, argc - optind, url, token);
    if (optind + 2 != argc)
        return ctl_usage_error ("campaign", "give pause or resume, then one CAMPAIGN");
    bool pause = strcmp (act, "pause") == 0;
    if (!pause && strcmp (act, "resume") != 0)
        return ctl_usage_error ("campaign", "'%s': pause or resume", act);
    if (!pause && reason)
        return ctl_usage_error ("campaign", "--reason goes with pause");
    json_t *b = reason ? json_pack ("{s:s}", "reason", reason) : json_object ();
    char *body = b ? json_dumps (b, JSON_COMPACT) : NULL;
    json_decref (b);
    if (!body)
        return ctl_usage_error ("campaign", "--reason must be UTF-8 text");
    char path[512], enc[256];
    ctl_url_encode (enc, sizeof enc, campaign);
    snprintf (path, sizeof path, "/v1/campaigns/%s/%s", enc, act);
    pl_http_response_t resp = { 0 };
    int st = ctl_dialer_send ("campaign", url, token, "POST", path, "application/json", body, &resp);
    free (body);
    if (st == PL_EINVAL)
        return CTL_EXIT_USAGE;
    json_t *o = st > 0 && resp.body ? json_loads (resp.body, 0, NULL) : NULL;
    int rc = CTL_EXIT_FAIL;
    if (st == 200 && o) {
        json_t *p = json_object_get (o, "paused");
        bool changed = json_is_true (json_object_get (o, "changed"));
        if (json_is_object (p))
            printf ("%s: paused%s by %s at %s%s%s; %lld lines in flight\n", campaign, changed ? "" : " already",
                    json_string_value (json_object_get (p, "by")) ?: "", json_string_value (json_object_get (p, "at")) ?: "",
                    *(json_string_value (json_object_get (p, "reason")) ?: "") ? ": " : "",
                    json_string_value (json_object_get (p, "reason")) ?: "",
                    (long long) json_integer_value (json_object_get (o, "lines_in_flight")));
        else
            printf ("%s: %s\n", campaign, changed ? "running again" : "running already");
        rc = CTL_EXIT_OK;
    } else if (st == 404)
        fprintf (stderr, "plateauctl campaign: %s: no such campaign in the dialer\n", campaign);
    else if (st == 403)
        fprintf (stderr, "plateauctl campaign: this token is not an operator's\n");
    else if (st > 0)
        fprintf (stderr, "plateauctl campaign: HTTP %d %s\n", st, resp.body ? resp.body : "");
    json_decref (o);
    pl_http_response_free (&resp);
    return rc;
}
