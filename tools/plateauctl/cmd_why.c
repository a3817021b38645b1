/*  cmd_why.c — `plateauctl why <+E164|lead-id> [--campaign C]`: why the dialer calls a lead when
 *  it does, or never — its state, its next attempt in the callee's local time and the reason,
 *  the last check (decision, rule, until), the finish reason, the attempts. From the dialer's
 *  GET /v1/leads/{id}/why or GET /v1/numbers/{e164}/why; --json prints the API's answer.
 *  Also the one GET to the dialer's API that `queue` shares (commands.h).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "plateau/error.h"
#include "plateau/http_client.h"

int
ctl_dialer_get (const char *cmd, const char *url, const char *token, const char *path, pl_http_response_t *resp)
{
    return ctl_dialer_send (cmd, url, token, "GET", path, NULL, NULL, resp);
}

int
ctl_dialer_send (const char *cmd, const char *url, const char *token, const char *method, const char *path,
                 const char *ctype, const char *body, pl_http_response_t *resp)
{
    return ctl_api_send (cmd, "PLATEAU_DIALER_URL", url, token, method, path, ctype, body, resp);
}

int
ctl_api_send (const char *cmd, const char *url_var, const char *url, const char *token, const char *method,
              const char *path, const char *ctype, const char *body, pl_http_response_t *resp)
{
    url = url ?: getenv (url_var);
    token = token ?: getenv ("PLATEAU_API_TOKEN");
    if (!url || !*url)
        return ctl_usage_error (cmd, "no URL: pass --url or set %s", url_var), PL_EINVAL;
    if (!token || !*token)
        return ctl_usage_error (cmd, "no token: pass --token or set PLATEAU_API_TOKEN"), PL_EINVAL;
    char host[256];
    int port;
    if (pl_http_url_parse (url, host, sizeof host, &port) != 0)
        return ctl_usage_error (cmd, "URL '%s': expected http://host[:port]", url), PL_EINVAL;
    pl_http_client_t *client = pl_http_client_new (host, port, CTL_HTTP_TIMEOUT_MS);
    if (!client)
        return PL_ENOMEM;
    char headers[1024];
    snprintf (headers, sizeof headers, "Authorization: Bearer %s\r\nAccept: application/json\r\n%s%s%s", token,
              body ? "Content-Type: " : "", body ? ctype : "", body ? "\r\n" : "");
    int status = pl_http_client_request (client, method, path, headers, body, body ? strlen (body) : 0, resp);
    if (status < 0)
        fprintf (stderr, "plateauctl %s: no answer from %s: %s\n", cmd, url, pl_http_client_errstr (client));
    pl_http_client_destroy (&client);
    return status;
}

void
ctl_why_usage (FILE *out)
{
    fprintf (out,
             "usage: plateauctl why <+E164|lead-id> [--campaign C] [--json] [--url URL] [--token T]\n\n"
             "Why the dialer calls a lead when it does, or never: its state, its next attempt in the\n"
             "callee's local time with the reason, the last check at the instant of dialling (decision,\n"
             "the rule that bound it, until when), the finish reason, the attempts and the contact\n"
             "history of its number. A number (+E164) gives every lead that holds it. --json prints\n"
             "the API's answer as it is.\n\n"
             "environment:\n"
             "  PLATEAU_DIALER_URL  the dialer's HTTP API (default for --url)\n"
             "  PLATEAU_API_TOKEN   the bearer token (default for --token): a reader's or an operator's\n"
             "(for the local stack: set -a; . run/stack.env; set +a)\n");
}

static const char *
s_str (json_t *o, const char *k)
{
    return json_string_value (json_object_get (o, k)) ?: "";
}

/* "2026-12-08T10:00:00+01:00 Europe/Paris" of an instant of the API ({utc, local, zone}). */
static void
s_instant (json_t *i, char *out, size_t size)
{
    snprintf (out, size, "%s %s", s_str (i, "local"), s_str (i, "zone"));
}

static void
s_print_lead (json_t *w)
{
    char t[128];
    printf ("lead        %s  (campaign %s, tenant %s)\n", s_str (w, "lead"), s_str (w, "campaign"), s_str (w, "tenant"));
    printf ("state       %s — %s\n", s_str (w, "state"), s_str (w, "summary"));
    printf ("number      %s", s_str (w, "number"));
    json_t *nums = json_object_get (w, "numbers");
    if (json_array_size (nums) > 1) {
        printf ("  (of");
        for (size_t i = 0; i < json_array_size (nums); i++)
            printf (" %s", json_string_value (json_array_get (nums, i)) ?: "");
        printf (")");
    }
    putchar ('\n');
    json_t *next = json_object_get (w, "next_attempt");
    if (next) {
        s_instant (next, t, sizeof t);
        printf ("next        %s — %s  (%s UTC)\n", t, s_str (next, "reason"), s_str (next, "utc"));
    }
    json_t *last = json_object_get (w, "last_check");
    if (last) {
        printf ("last check  %s by %s", s_str (last, "decision"), *s_str (last, "rule") ? s_str (last, "rule") : "-");
        json_t *until = json_object_get (last, "allowed_until") ?: json_object_get (last, "until");
        if (until) {
            s_instant (until, t, sizeof t);
            printf (", %s %s", json_object_get (last, "allowed_until") ? "allowed until" : "until", t);
        }
        json_t *at = json_object_get (last, "evaluated_at");
        if (at)
            printf (" (checked at %s)", s_str (at, "local"));
        putchar ('\n');
    }
    if (json_object_get (w, "finished"))
        printf ("finished    %s\n", s_str (w, "finished"));
    if (json_object_get (w, "last_result"))
        printf ("last call   %s\n", s_str (w, "last_result"));
    if (json_object_get (w, "last_disposition"))
        printf ("disposition %s\n", s_str (w, "last_disposition"));
    printf ("attempts    %lld of %lld\n", (long long) json_integer_value (json_object_get (w, "attempts")),
            (long long) json_integer_value (json_object_get (w, "max_attempts")));
    json_t *hist = json_object_get (w, "history");
    for (size_t i = 0; i < json_array_size (hist); i++) {
        json_t *h = json_array_get (hist, i);
        printf ("  %s  %-28s %s/%s%s%s%s%s\n", s_str (h, "at"), s_str (h, "attempt"), s_str (h, "tenant"),
                s_str (h, "campaign"), json_is_true (json_object_get (h, "conversation")) ? " conversation" : "",
                json_is_true (json_object_get (h, "refusal")) ? " refusal" : "",
                json_is_true (json_object_get (h, "abandoned")) ? " abandoned" : "",
                json_is_true (json_object_get (h, "machine")) ? " machine" : "");
    }
}

int
ctl_why_run (int argc, char **argv)
{
    static const struct option opts[] = { { "campaign", required_argument, NULL, 'c' },
                                          { "url", required_argument, NULL, 'u' },
                                          { "token", required_argument, NULL, 't' },
                                          { "json", no_argument, NULL, 'j' },
                                          { "help", no_argument, NULL, 'h' },
                                          { NULL, 0, NULL, 0 } };
    const char *campaign = NULL, *url = NULL, *token = NULL;
    bool json = false;
    int c;
    optind = 1;                   /* options before or after the subject: getopt moves it last */
    while ((c = getopt_long (argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c': campaign = optarg; break;
        case 'u': url = optarg; break;
        case 't': token = optarg; break;
        case 'j': json = true; break;
        case 'h': ctl_why_usage (stdout); return CTL_EXIT_OK;
        default: return ctl_usage_error ("why", "unknown option");
        }
    }
    const char *subject = optind < argc ? argv[optind++] : NULL;
    if (!subject || optind < argc)
        return ctl_usage_error ("why", "give one number (+E164) or lead id");
    bool number = subject[0] == '+';
    if (number && campaign)
        return ctl_usage_error ("why", "--campaign goes with a lead id: a number's leads are all told");
    char path[1024], enc[512], cenc[256];
    ctl_url_encode (enc, sizeof enc, subject);
    if (number)
        snprintf (path, sizeof path, "/v1/numbers/%s/why", enc);
    else if (campaign) {
        ctl_url_encode (cenc, sizeof cenc, campaign);
        snprintf (path, sizeof path, "/v1/leads/%s/why?campaign=%s", enc, cenc);
    } else
        snprintf (path, sizeof path, "/v1/leads/%s/why", enc);
    pl_http_response_t resp = { 0 };
    int st = ctl_dialer_get ("why", url, token, path, &resp);
    if (st == PL_EINVAL)
        return CTL_EXIT_USAGE;
    if (st != 200) {
        if (st == 404)
            fprintf (stderr, "plateauctl why: %s: no campaign of the dialer holds it\n", subject);
        else if (st > 0)
            fprintf (stderr, "plateauctl why: HTTP %d %s\n", st, resp.body ? resp.body : "");
        pl_http_response_free (&resp);
        return CTL_EXIT_FAIL;
    }
    if (json) {
        printf ("%s\n", resp.body);
        pl_http_response_free (&resp);
        return CTL_EXIT_OK;
    }
    json_t *o = json_loads (resp.body, 0, NULL);
    pl_http_response_free (&resp);
    if (!o) {
        fprintf (stderr, "plateauctl why: the dialer's answer is not JSON\n");
        return CTL_EXIT_FAIL;
    }
    if (number) {
        json_t *leads = json_object_get (o, "leads");
        printf ("number %s: %zu lead%s%s\n", s_str (o, "number"), json_array_size (leads),
                json_array_size (leads) == 1 ? "" : "s", json_is_true (json_object_get (o, "truncated")) ? " (more not shown)" : "");
        for (size_t i = 0; i < json_array_size (leads); i++) {
            putchar ('\n');
            s_print_lead (json_array_get (leads, i));
        }
    } else
        s_print_lead (o);
    json_decref (o);
    return CTL_EXIT_OK;
}
