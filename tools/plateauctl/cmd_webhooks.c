/*  cmd_webhooks.c — `plateauctl webhooks …`: a CRM source's webhook subscriptions at the notify
 *  service (services/notify/README.md): list them with their state, show a subscription's dead
 *  letters, and replay them (which also resumes a paused subscription). The token says whose:
 *  a source sees only its own subscriptions. --json prints the API's answers as they are.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "plateau/error.h"

void
ctl_webhooks_usage (FILE *out)
{
    fprintf (out,
             "usage: plateauctl webhooks list [--json]\n"
             "       plateauctl webhooks dead-letters ID [--json]\n"
             "       plateauctl webhooks replay ID\n"
             "       (every form also takes --url URL --token T)\n\n"
             "list          the token's source's subscriptions: id, status (active or paused),\n"
             "              consecutive failures, leads waiting for delivery, events, URL\n"
             "dead-letters  the events a subscription gave up on: event id, type, lead, attempts,\n"
             "              last status and error, when\n"
             "replay        queue a subscription's dead letters again, each after its lead's pending\n"
             "              events, and resume the subscription if it was paused\n\n"
             "environment:\n"
             "  PLATEAU_NOTIFY_URL   the notify service's HTTP API (default for --url)\n"
             "  PLATEAU_API_TOKEN    the bearer token of the CRM source (default for --token)\n");
}

static const char *
s_str (json_t *o, const char *k)
{
    const char *s = json_string_value (json_object_get (o, k));
    return s ? s : "";
}

static void
s_print (const char *sub, json_t *o)
{
    if (!strcmp (sub, "list")) {
        json_t *a = json_object_get (o, "webhooks");
        if (!json_array_size (a))
            printf ("no webhooks\n");
        for (size_t i = 0; i < json_array_size (a); i++) {
            json_t *w = json_array_get (a, i), *ev = json_object_get (w, "events");
            printf ("%-30s %-7s failures %-4lld waiting %-6lld ", s_str (w, "id"), s_str (w, "status"),
                    (long long) json_integer_value (json_object_get (w, "failures")),
                    (long long) json_integer_value (json_object_get (w, "leads_waiting")));
            for (size_t k = 0; k < json_array_size (ev); k++)
                printf ("%s%s", k ? "," : "", json_string_value (json_array_get (ev, k)));
            printf ("  %s\n", s_str (w, "url"));
        }
    } else if (!strcmp (sub, "dead-letters")) {
        json_t *a = json_object_get (o, "dead_letters");
        if (!json_array_size (a))
            printf ("no dead letters\n");
        for (size_t i = 0; i < json_array_size (a); i++) {
            json_t *d = json_array_get (a, i);
            printf ("%s  %-36s %-22s lead %s  %lld attempts, last %lld %s\n", s_str (d, "failed_at"),
                    s_str (d, "event_id"), s_str (d, "type"), s_str (d, "lead_id"),
                    (long long) json_integer_value (json_object_get (d, "attempts")),
                    (long long) json_integer_value (json_object_get (d, "last_status")), s_str (d, "last_error"));
        }
    } else
        printf ("%lld dead letters queued again\n", (long long) json_integer_value (json_object_get (o, "replayed")));
}

int
ctl_webhooks_run (int argc, char **argv)
{
    const char *sub = ctl_positional (argc, argv, 0), *arg = ctl_positional (argc, argv, 1);
    const char *url = ctl_flag (argc, argv, "--url"), *token = ctl_flag (argc, argv, "--token");
    bool json = ctl_has_flag (argc, argv, "--json");
    if (ctl_has_flag (argc, argv, "--help") || (sub && !strcmp (sub, "help"))) {
        ctl_webhooks_usage (stdout);
        return CTL_EXIT_OK;
    }
    if (!sub)
        return ctl_usage_error ("webhooks", "give list, dead-letters ID or replay ID");
    char path[600], enc[400];
    const char *method = "GET";
    if (!strcmp (sub, "list"))
        snprintf (path, sizeof path, "/v1/webhooks");
    else if ((!strcmp (sub, "dead-letters") || !strcmp (sub, "replay")) && arg) {
        ctl_url_encode (enc, sizeof enc, arg);
        snprintf (path, sizeof path, "/v1/webhooks/%s/%s", enc, sub);
        if (!strcmp (sub, "replay"))
            method = "POST";
    } else
        return ctl_usage_error ("webhooks", "'%s': give list, dead-letters ID or replay ID", sub);
    pl_http_response_t resp = { 0 };
    int st = ctl_api_send ("webhooks", "PLATEAU_NOTIFY_URL", url, token, method, path, NULL, NULL, &resp);
    if (st == PL_EINVAL)
        return CTL_EXIT_USAGE;
    if (st < 200 || st > 299) {
        if (st > 0)
            fprintf (stderr, "plateauctl webhooks: HTTP %d %s\n", st, resp.body ? resp.body : "");
        pl_http_response_free (&resp);
        return CTL_EXIT_FAIL;
    }
    json_t *o = resp.body ? json_loads (resp.body, 0, NULL) : NULL;
    if (json || !o)
        printf ("%s\n", resp.body ? resp.body : "");
    else
        s_print (sub, o);
    json_decref (o);
    pl_http_response_free (&resp);
    return CTL_EXIT_OK;
}
