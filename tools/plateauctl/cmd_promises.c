/*  cmd_promises.c — `plateauctl promises …`: the promise service's API for a collection team's
 *  supervisor: open a promise from a JSON file, show one, an account's promises and unmatched
 *  payments, cancel one, and the KPIs (kept rate, promised and collected). --json prints the
 *  API's answers as they are.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "plateau/error.h"

void
ctl_promises_usage (FILE *out)
{
    fprintf (out,
             "usage: plateauctl promises show ID [--json]\n"
             "       plateauctl promises account REF [--json]\n"
             "       plateauctl promises open FILE.json [--json]\n"
             "       plateauctl promises cancel ID [--reason TEXT]\n"
             "       plateauctl promises stats [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--campaign C] [--json]\n"
             "       (every form also takes --url URL --token T)\n\n"
             "show      a promise: status, amounts, each instalment with its due date, paid and status\n"
             "account   an account's promises and the payments no promise has taken yet\n"
             "open      POST the promise in FILE.json (see services/promise/README.md)\n"
             "cancel    cancel an active promise (operators)\n"
             "stats     promises made, kept, partially kept, broken; kept rate; amounts promised and\n"
             "          collected, by campaign and agent, over UTC days (today by default)\n\n"
             "environment:\n"
             "  PLATEAU_PROMISE_URL  the promise service's HTTP API (default for --url)\n"
             "  PLATEAU_API_TOKEN    the bearer token (default for --token)\n");
}

static const char *
s_str (json_t *o, const char *k)
{
    const char *s = json_string_value (json_object_get (o, k));
    return s ? s : "";
}

static long long
s_int (json_t *o, const char *k)
{
    return (long long) json_integer_value (json_object_get (o, k));
}

/* Minor units as "123.45" (two decimals: most currencies; the API's integers are exact). */
static const char *
s_money (long long minor, char *out, size_t size)
{
    snprintf (out, size, "%s%lld.%02lld", minor < 0 ? "-" : "", llabs (minor) / 100, llabs (minor) % 100);
    return out;
}

static void
s_print_promise (json_t *p)
{
    char a[32], b[32];
    printf ("%-28s %-15s %s %s of %s paid", s_str (p, "id"), s_str (p, "status"), s_str (p, "currency"),
            s_money (s_int (p, "paid"), a, sizeof a), s_money (s_int (p, "amount"), b, sizeof b));
    if (s_int (p, "credit"))
        printf (" (+%s credit)", s_money (s_int (p, "credit"), a, sizeof a));
    printf ("; account %s, creditor %s, %s\n", s_str (p, "account"), s_str (p, "creditor"), s_str (p, "zone"));
    json_t *inst = json_object_get (p, "installments");
    for (size_t i = 0; i < json_array_size (inst); i++) {
        json_t *e = json_array_get (inst, i);
        printf ("    %zu. due %s  %s of %s  %s\n", i + 1, s_str (e, "due"), s_money (s_int (e, "paid"), a, sizeof a),
                s_money (s_int (e, "amount"), b, sizeof b), s_str (e, "status"));
    }
}

static void
s_print_stats (json_t *s)
{
    json_t *rate = json_object_get (s, "kept_rate");
    printf ("from %s to %s: %lld made, %lld decided, %lld kept", s_str (s, "from"), s_str (s, "to"), s_int (s, "made"),
            s_int (s, "decided"), s_int (s, "kept"));
    if (json_is_number (rate))
        printf (" (kept rate %.1f%%)", 100.0 * json_number_value (rate));
    json_t *per = json_object_get (s, "promises_per_rpc");
    if (json_is_number (per))
        printf ("; %lld right-party contacts, %.3f promises per contact", s_int (s, "rpc"), json_number_value (per));
    printf ("\n");
    json_t *rows = json_object_get (s, "by_campaign_agent");
    for (size_t i = 0; i < json_array_size (rows); i++) {
        json_t *r = json_array_get (rows, i);
        printf ("  %-20s %-12s right-party contacts %lld, made %lld, kept %lld, partially kept %lld, broken %lld, "
                "cancelled %lld", s_str (r, "campaign"), *s_str (r, "agent") ? s_str (r, "agent") : "-",
                s_int (r, "rpc"), s_int (r, "made"), s_int (r, "kept"), s_int (r, "partially_kept"),
                s_int (r, "broken"), s_int (r, "cancelled"));
        const char *cur;
        json_t *v;
        json_object_foreach (json_object_get (r, "promised"), cur, v) {
            char a[32], b[32];
            printf ("; %s promised %s, collected %s", cur, s_money (json_integer_value (v), a, sizeof a),
                    s_money (json_integer_value (json_object_get (json_object_get (r, "collected"), cur)), b, sizeof b));
        }
        printf ("\n");
    }
}

static char *
s_read_file (const char *path)
{
    FILE *fp = fopen (path, "rb");
    if (!fp)
        return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            char *g = realloc (buf, cap = cap ? cap * 2 : 8192);
            if (!g || cap > 1 << 20) {
                free (g ? g : buf);
                fclose (fp);
                return NULL;
            }
            buf = g;
        }
        size_t n = fread (buf + len, 1, 4096, fp);
        len += n;
        if (n < 4096)
            break;
    }
    fclose (fp);
    buf[len] = '\0';
    return buf;
}

int
ctl_promises_run (int argc, char **argv)
{
    const char *sub = ctl_positional (argc, argv, 0), *arg = ctl_positional (argc, argv, 1);
    const char *url = ctl_flag (argc, argv, "--url"), *token = ctl_flag (argc, argv, "--token");
    bool json = ctl_has_flag (argc, argv, "--json");
    if (ctl_has_flag (argc, argv, "--help") || (sub && !strcmp (sub, "help"))) {
        ctl_promises_usage (stdout);
        return CTL_EXIT_OK;
    }
    if (!sub)
        return ctl_usage_error ("promises", "give show, account, open, cancel or stats");
    char path[1024], enc[512], body_buf[1200];
    const char *method = "GET", *body = NULL;
    char *file = NULL;
    bool stats = false, promise = false;
    if (!strcmp (sub, "show") && arg) {
        ctl_url_encode (enc, sizeof enc, arg);
        snprintf (path, sizeof path, "/v1/promises/%s", enc);
        promise = true;
    } else if (!strcmp (sub, "account") && arg) {
        ctl_url_encode (enc, sizeof enc, arg);
        snprintf (path, sizeof path, "/v1/accounts/%s/promises", enc);
    } else if (!strcmp (sub, "open") && arg) {
        if (!(file = s_read_file (arg))) {
            fprintf (stderr, "plateauctl promises: cannot read %s (a JSON file of at most 1 MiB)\n", arg);
            return CTL_EXIT_FAIL;
        }
        snprintf (path, sizeof path, "/v1/promises");
        method = "POST";
        body = file;
        promise = true;
    } else if (!strcmp (sub, "cancel") && arg) {
        ctl_url_encode (enc, sizeof enc, arg);
        snprintf (path, sizeof path, "/v1/promises/%s/cancel", enc);
        json_t *o = json_pack ("{s:s}", "reason", ctl_flag (argc, argv, "--reason") ?: "");
        char *s = o ? json_dumps (o, JSON_COMPACT) : NULL;
        snprintf (body_buf, sizeof body_buf, "%s", s ? s : "{}");
        free (s);
        json_decref (o);
        method = "POST";
        body = body_buf;
        promise = true;
    } else if (!strcmp (sub, "stats")) {
        const char *from = ctl_flag (argc, argv, "--from"), *to = ctl_flag (argc, argv, "--to");
        const char *camp = ctl_flag (argc, argv, "--campaign");
        char e1[64] = "", e2[64] = "", e3[256] = "";
        if (from)
            ctl_url_encode (e1, sizeof e1, from);
        if (to)
            ctl_url_encode (e2, sizeof e2, to);
        if (camp)
            ctl_url_encode (e3, sizeof e3, camp);
        snprintf (path, sizeof path, "/v1/promises/stats?%s%s%s%s%s%s", from ? "from=" : "", e1, to ? "&to=" : "", e2,
                  camp ? "&campaign=" : "", e3);
        stats = true;
    } else
        return ctl_usage_error ("promises", "'%s': give show ID, account REF, open FILE, cancel ID or stats", sub);
    pl_http_response_t resp = { 0 };
    int st = ctl_api_send ("promises", "PLATEAU_PROMISE_URL", url, token, method, path, "application/json", body,
                           &resp);
    free (file);
    if (st == PL_EINVAL)
        return CTL_EXIT_USAGE;
    if (st < 200 || st > 299) {
        if (st > 0)
            fprintf (stderr, "plateauctl promises: HTTP %d %s\n", st, resp.body ? resp.body : "");
        pl_http_response_free (&resp);
        return CTL_EXIT_FAIL;
    }
    json_t *o = resp.body ? json_loads (resp.body, 0, NULL) : NULL;
    if (json || !o) {
        printf ("%s\n", resp.body ? resp.body : "");
        pl_http_response_free (&resp);
        json_decref (o);
        return CTL_EXIT_OK;
    }
    pl_http_response_free (&resp);
    if (stats)
        s_print_stats (o);
    else if (promise)
        s_print_promise (o);
    else {
        json_t *ps = json_object_get (o, "promises"), *us = json_object_get (o, "unmatched_payments");
        printf ("account %s: %zu promise%s\n", s_str (o, "account"), json_array_size (ps),
                json_array_size (ps) == 1 ? "" : "s");
        for (size_t i = 0; i < json_array_size (ps); i++)
            s_print_promise (json_array_get (ps, i));
        for (size_t i = 0; i < json_array_size (us); i++) {
            json_t *u = json_array_get (us, i);
            char a[32];
            printf ("  unmatched payment %s: %s %s\n", s_str (u, "payment_id"), s_str (u, "currency"),
                    s_money (s_int (u, "amount"), a, sizeof a));
        }
    }
    json_decref (o);
    return CTL_EXIT_OK;
}
