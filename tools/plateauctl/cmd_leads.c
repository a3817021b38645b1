/*  cmd_leads.c — `plateauctl leads submit FILE`: sends a CSV, JSON or NDJSON file of leads to
 *  the intake's HTTP API and prints what became of them.
 *
 *  The file is streamed (a million-row CSV is never held in memory) through the kit's HTTP
 *  client, with a progress bar on stderr when stderr is a terminal. The intake answers a
 *  streamed body with one NDJSON result per item and a summary line; the command asks for the
 *  non-accepted items only (?results=errors, or every item with --all) and prints a summary
 *  table with the first rejections and their line and column.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "commands.h"
#include "plateau/error.h"
#include "plateau/http_client.h"

void
ctl_leads_usage (FILE *out)
{
    fprintf (out,
             "usage: plateauctl leads submit FILE [--campaign C] [--mapping M] [--country CC]\n"
             "                                    [--type csv|json|ndjson] [--url URL] [--token T]\n"
             "                                    [--idempotency-key K] [--all] [--show N]\n\n"
             "Sends FILE to the intake (POST /v1/leads) and prints accepted / duplicate / rejected\n"
             "counts and the first N rejections (default 10) with their line and column.\n"
             "The type comes from the extension (.csv .json .ndjson .jsonl) unless --type says.\n\n"
             "environment:\n"
             "  PLATEAU_INTAKE_URL   the intake's HTTP API (default for --url), e.g. http://127.0.0.1:8080\n"
             "  PLATEAU_API_TOKEN    the bearer token (default for --token)\n"
             "(for the local stack: set -a; . run/stack.env; set +a)\n");
}

/* The value of "key": in a JSON line, as text (string or number); "" when absent. */
static const char *
s_field (const char *line, const char *key, char *buf, size_t size)
{
    char pat[64];
    snprintf (pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr (line, pat);
    buf[0] = '\0';
    if (!p)
        return buf;
    p += strlen (pat);
    size_t n = 0;
    if (*p == '"') {
        for (p++; *p && *p != '"' && n + 1 < size; p++) {
            if (*p == '\\' && p[1])
                p++;
            buf[n++] = *p;
        }
    } else
        while (*p && *p != ',' && *p != '}' && n + 1 < size)
            buf[n++] = *p++;
    buf[n] = '\0';
    return buf;
}

static long
s_count (const char *body, const char *key)
{
    char buf[32];
    const char *s = strstr (body, "\"summary\":");
    if (!s)
        return -1;
    return atol (s_field (s, key, buf, sizeof buf));
}

static void
s_progress (off_t done, off_t total)
{
    int width = 40, filled = total ? (int) (done * width / total) : width;
    fprintf (stderr, "\r[%.*s%*s] %3d%% %lld/%lld bytes", filled,
             "########################################", width - filled, "",
             total ? (int) (done * 100 / total) : 100, (long long) done, (long long) total);
}

static int
s_submit (int argc, char **argv)
{
    const char *campaign = NULL, *mapping = NULL, *country = NULL, *type = NULL, *idem = NULL;
    const char *url = getenv ("PLATEAU_INTAKE_URL"), *token = getenv ("PLATEAU_API_TOKEN");
    bool all = false;
    int show = 10;
    static const struct option opts[] = {
        { "campaign", required_argument, 0, 'c' }, { "mapping", required_argument, 0, 'm' },
        { "country", required_argument, 0, 'C' },  { "type", required_argument, 0, 't' },
        { "url", required_argument, 0, 'u' },      { "token", required_argument, 0, 'k' },
        { "idempotency-key", required_argument, 0, 'i' }, { "all", no_argument, 0, 'a' },
        { "show", required_argument, 0, 's' },     { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
    int o;
    optind = 1;
    while ((o = getopt_long (argc, argv, "c:m:C:t:u:k:i:as:h", opts, NULL)) != -1) {
        switch (o) {
        case 'c': campaign = optarg; break;
        case 'm': mapping = optarg; break;
        case 'C': country = optarg; break;
        case 't': type = optarg; break;
        case 'u': url = optarg; break;
        case 'k': token = optarg; break;
        case 'i': idem = optarg; break;
        case 'a': all = true; break;
        case 's': show = atoi (optarg); break;
        case 'h': ctl_leads_usage (stdout); return CTL_EXIT_OK;
        default: return ctl_usage_error ("leads", "unknown option");
        }
    }
    if (optind >= argc)
        return ctl_usage_error ("leads", "submit needs a FILE");
    const char *file = argv[optind];
    if (!url || !*url)
        return ctl_usage_error ("leads", "no intake URL: pass --url or set PLATEAU_INTAKE_URL");
    if (!token || !*token)
        return ctl_usage_error ("leads", "no token: pass --token or set PLATEAU_API_TOKEN");
    if (!type) {
        const char *dot = strrchr (file, '.');
        type = !dot ? "" : strcasecmp (dot, ".csv") == 0 || strcasecmp (dot, ".txt") == 0 ? "csv"
             : strcasecmp (dot, ".json") == 0 ? "json"
             : strcasecmp (dot, ".ndjson") == 0 || strcasecmp (dot, ".jsonl") == 0 ? "ndjson" : "";
    }
    const char *ctype = strcmp (type, "csv") == 0 ? "text/csv" : strcmp (type, "json") == 0 ? "application/json"
                      : strcmp (type, "ndjson") == 0 ? "application/x-ndjson" : NULL;
    if (!ctype)
        return ctl_usage_error ("leads", "cannot tell the type of '%s': pass --type csv|json|ndjson", file);
    char host[256];
    int port;
    if (pl_http_url_parse (url, host, sizeof host, &port) != 0)
        return ctl_usage_error ("leads", "URL '%s': expected http://host[:port]", url);
    FILE *fp = fopen (file, "rb");
    struct stat st;
    if (!fp || fstat (fileno (fp), &st) != 0) {
        fprintf (stderr, "plateauctl leads: %s: %s\n", file, strerror (errno));
        return CTL_EXIT_FAIL;
    }
    char query[1024] = "", v[512];
    size_t q = 0;
    q += (size_t) snprintf (query + q, sizeof query - q, "?results=%s", all ? "all" : "errors");
    if (campaign) { ctl_url_encode (v, sizeof v, campaign); q += (size_t) snprintf (query + q, sizeof query - q, "&campaign=%s", v); }
    if (mapping) { ctl_url_encode (v, sizeof v, mapping); q += (size_t) snprintf (query + q, sizeof query - q, "&mapping=%s", v); }
    if (country) { ctl_url_encode (v, sizeof v, country); snprintf (query + q, sizeof query - q, "&country=%s", v); }

    /* Each wait may be long (the intake answers once it has read a million rows), never
     * endless. */
    pl_http_client_t *client = pl_http_client_new (host, port, CTL_HTTP_TIMEOUT_MS);
    if (!client) {
        fclose (fp);
        return CTL_EXIT_FAIL;
    }
    char headers[2048];
    snprintf (headers, sizeof headers,
              "Authorization: Bearer %s\r\nContent-Type: %s\r\n%s%s%sConnection: close\r\n",
              token, ctype, idem ? "Idempotency-Key: " : "", idem ? idem : "", idem ? "\r\n" : "");
    char path[1200];
    snprintf (path, sizeof path, "/v1/leads%s", query);
    bool tty = isatty (2);
    int rc = pl_http_client_send_head (client, "POST", path, headers, (int64_t) st.st_size);
    char buf[65536];
    off_t sent = 0;
    size_t n;
    while (rc == 0 && (n = fread (buf, 1, sizeof buf, fp)) > 0) {
        rc = pl_http_client_send (client, buf, n);
        sent += (off_t) n;
        if (tty)
            s_progress (sent, st.st_size);
    }
    fclose (fp);
    if (tty)
        fputc ('\n', stderr);
    /* The answer, whole (only non-accepted items by default, so it stays small). A server that
     * refuses early (413, 401) may close while we send: its answer is still read. */
    pl_http_response_t resp = { 0 };
    int status = rc == 0 || rc == PL_EIO ? pl_http_client_read (client, &resp, false) : rc;
    if (status < 0) {
        fprintf (stderr, "plateauctl leads: no answer from %s: %s\n", url,
                 pl_http_client_errstr (client));
        pl_http_response_free (&resp);
        pl_http_client_destroy (&client);
        return CTL_EXIT_FAIL;
    }
    pl_http_client_destroy (&client);
    char *body = resp.body;
    long acc = s_count (body, "accepted"), dup = s_count (body, "duplicate"), rej = s_count (body, "rejected"),
         na = s_count (body, "not_accepted");
    if (acc < 0) {
        /* A single JSON lead, or an error. */
        char st2[32];
        s_field (body, "status", st2, sizeof st2);
        acc = strcmp (st2, "accepted") == 0;
        dup = strcmp (st2, "duplicate") == 0;
        rej = strcmp (st2, "rejected") == 0;
        na = 0;
    }
    printf ("%-14s %s\n%-14s %d\n", "file", file, "http status", status);
    printf ("%-14s %ld\n%-14s %ld\n%-14s %ld\n%-14s %ld\n", "accepted", acc, "duplicate", dup, "rejected", rej,
            "not accepted", na);
    int shown = 0;
    char *save = NULL;
    for (char *line = strtok_r (body, "\n", &save); line; line = strtok_r (NULL, "\n", &save)) {
        /* results are one per line (NDJSON) or inside "results":[…] (JSON): split on "},{" too */
        for (char *item = line; item && *item; ) {
            char *next = strstr (item, "},{\"index\"");
            if (next)
                *next = '\0';
            char f1[64], f2[64], f3[32], f4[32], f5[256], f6[32];
            if (strstr (item, "\"status\":\"rejected\"") && shown < show) {
                if (shown++ == 0)
                    printf ("\nfirst rejections:\n%-6s %-6s %-14s %-16s %s\n", "line", "column", "field", "code", "message");
                const char *e = strstr (item, "\"errors\":");
                e = e ? e : item;
                printf ("%-6s %-6s %-14s %-16s %s\n", s_field (e, "line", f3, sizeof f3), s_field (e, "column", f4, sizeof f4),
                        s_field (e, "field", f1, sizeof f1), s_field (e, "code", f2, sizeof f2), s_field (e, "message", f5, sizeof f5));
            } else if (all && strstr (item, "\"status\":\"accepted\""))
                printf ("accepted %s (line %s)\n", s_field (item, "lead_id", f1, sizeof f1), s_field (item, "line", f6, sizeof f6));
            item = next ? next + 2 : NULL;
        }
    }
    if (status < 200 || status >= 300) {
        char m[256];
        printf ("\nerror: %s\n", *s_field (body, "message", m, sizeof m) ? m : body);
    }
    pl_http_response_free (&resp);
    return status >= 200 && status < 300 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}

int
ctl_leads_run (int argc, char **argv)
{
    if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0) {
        ctl_leads_usage (argc < 2 ? stderr : stdout);
        return argc < 2 ? CTL_EXIT_USAGE : CTL_EXIT_OK;
    }
    if (strcmp (argv[1], "submit") == 0)
        return s_submit (argc - 1, argv + 1);
    return ctl_usage_error ("leads", "unknown subcommand '%s'", argv[1]);
}
