/*  cmd_queue.c — `plateauctl queue CAMPAIGN [--limit N]`: a campaign's queue as the dialer sees
 *  it now — depth, leads due, lines in flight, agents by state, the abandon rate of the legal
 *  period against its budget, the pacing (lines, predicting, headroom), then the head, one line
 *  per lead with its due time in the callee's zone and why. From GET /v1/campaigns/{id}/queue;
 *  --json prints the API's answer.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "plateau/error.h"

void
ctl_queue_usage (FILE *out)
{
    fprintf (out,
             "usage: plateauctl queue CAMPAIGN [--limit N] [--json] [--url URL] [--token T]\n\n"
             "A campaign's queue now: depth, leads due now, lines in flight, agents by state, the\n"
             "abandon rate of its legal period against the budget, the pacing (lines it would dial,\n"
             "whether it predicts, headroom), then the first N leads by due time (20; at most 200),\n"
             "each with its due time in the callee's zone and why it waits. --json prints the API's\n"
             "answer as it is.\n\n"
             "environment:\n"
             "  PLATEAU_DIALER_URL  the dialer's HTTP API (default for --url)\n"
             "  PLATEAU_API_TOKEN   the bearer token (default for --token): a reader's or an operator's\n");
}

static const char *
s_str (json_t *o, const char *k)
{
    return json_string_value (json_object_get (o, k)) ?: "";
}

static long long
s_int (json_t *o, const char *k)
{
    return (long long) json_integer_value (json_object_get (o, k));
}

static void
s_print (json_t *q)
{
    printf ("campaign    %s  (%s, tenant %s)%s%s\n", s_str (q, "campaign"), s_str (q, "mode"), s_str (q, "tenant"),
            *s_str (q, "paced_by") ? ", paced by " : ", no replica pacing it", s_str (q, "paced_by"));
    printf ("depth       %lld queued, %lld due now, %lld lines in flight, %lld calls with an agent\n", s_int (q, "queued"),
            s_int (q, "due_now"), s_int (q, "lines_in_flight"), s_int (q, "calls_bridged"));
    json_t *pz = json_object_get (q, "paused");
    if (json_is_object (pz))
        printf ("paused      by %s since %s%s%s: nothing is claimed until resumed\n", s_str (pz, "by"), s_str (pz, "at"),
                *s_str (pz, "reason") ? ", " : "", s_str (pz, "reason"));
    json_t *ag = json_object_get (q, "agents");
    printf ("agents      ready %lld, on_call %lld, wrap_up %lld, paused %lld, logged_out %lld\n", s_int (ag, "ready"),
            s_int (ag, "on_call"), s_int (ag, "wrap_up"), s_int (ag, "paused"), s_int (ag, "logged_out"));
    json_t *ab = json_object_get (q, "abandon");
    printf ("abandon     %.2f%% (%lld of %lld live answered since %s), budget %.2f%% (%s)\n",
            100.0 * json_number_value (json_object_get (ab, "rate")), s_int (ab, "abandoned"), s_int (ab, "live_answered"),
            s_str (ab, "period_from"), 100.0 * json_number_value (json_object_get (ab, "budget")), s_str (ab, "rule"));
    json_t *p = json_object_get (q, "pacing");
    printf ("pacing      %lld lines now, %s, headroom %lld\n", s_int (p, "lines_now"),
            json_is_true (json_object_get (p, "predicting")) ? "predicting" : "not predicting", s_int (p, "headroom"));
    if (*s_str (q, "summary"))
        printf ("            %s\n", s_str (q, "summary"));
    json_t *head = json_object_get (q, "head");
    printf ("head        %zu lead%s\n", json_array_size (head), json_array_size (head) == 1 ? "" : "s");
    for (size_t i = 0; i < json_array_size (head); i++) {
        json_t *e = json_array_get (head, i);
        json_t *next = json_object_get (e, "next_attempt");
        json_t *last = json_object_get (e, "last_check");
        printf ("  %-28s due %s %s  %s, %lld attempt%s", s_str (e, "lead"), s_str (next, "local"), s_str (next, "zone"),
                *s_str (next, "reason") ? s_str (next, "reason") : "queued", s_int (e, "attempts"),
                s_int (e, "attempts") == 1 ? "" : "s");
        if (last)
            printf ("; last check %s by %s", s_str (last, "decision"), *s_str (last, "rule") ? s_str (last, "rule") : "-");
        putchar ('\n');
    }
}

int
ctl_queue_run (int argc, char **argv)
{
    static const struct option opts[] = { { "limit", required_argument, NULL, 'l' },
                                          { "url", required_argument, NULL, 'u' },
                                          { "token", required_argument, NULL, 't' },
                                          { "json", no_argument, NULL, 'j' },
                                          { "help", no_argument, NULL, 'h' },
                                          { NULL, 0, NULL, 0 } };
    const char *url = NULL, *token = NULL;
    long limit = 20;
    bool json = false;
    int c;
    optind = 1;                   /* options before or after the campaign: getopt moves it last */
    while ((c = getopt_long (argc, argv, "", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'l':
            limit = strtol (optarg, &end, 10);
            if (!*optarg || *end || limit < 1 || limit > 200)
                return ctl_usage_error ("queue", "--limit is 1 to 200");
            break;
        case 'u': url = optarg; break;
        case 't': token = optarg; break;
        case 'j': json = true; break;
        case 'h': ctl_queue_usage (stdout); return CTL_EXIT_OK;
        default: return ctl_usage_error ("queue", "unknown option");
        }
    }
    if (optind + 1 != argc)
        return ctl_usage_error ("queue", "give one CAMPAIGN");
    const char *campaign = argv[optind];
    char path[512], enc[256];
    ctl_url_encode (enc, sizeof enc, campaign);
    snprintf (path, sizeof path, "/v1/campaigns/%s/queue?limit=%ld", enc, limit);
    pl_http_response_t resp = { 0 };
    int st = ctl_dialer_get ("queue", url, token, path, &resp);
    if (st == PL_EINVAL)
        return CTL_EXIT_USAGE;
    if (st != 200) {
        if (st == 404)
            fprintf (stderr, "plateauctl queue: %s: no such campaign in the dialer\n", campaign);
        else if (st > 0)
            fprintf (stderr, "plateauctl queue: HTTP %d %s\n", st, resp.body ? resp.body : "");
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
        fprintf (stderr, "plateauctl queue: the dialer's answer is not JSON\n");
        return CTL_EXIT_FAIL;
    }
    s_print (o);
    json_decref (o);
    return CTL_EXIT_OK;
}
