/*  cmd_scrub.c — `plateauctl scrub FILE`: every number of a file through scrub's POST /v1/scrub,
 *  10,000 at a time, with progress on stderr; one line per number and a summary. Also the HTTP
 *  call and the --flag parsing that `lists`, `dnc` and `consent` share (commands.h).
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "commands.h"
#include "plateau/error.h"
#include "plateau/http_client.h"

#define S_BATCH 10000                 /* the route's limit */

const char *
ctl_flag (int argc, char **argv, const char *name)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp (argv[i], name) == 0)
            return argv[i + 1];
    return NULL;
}

bool
ctl_has_flag (int argc, char **argv, const char *name)
{
    for (int i = 1; i < argc; i++)
        if (strcmp (argv[i], name) == 0)
            return true;
    return false;
}

const char *
ctl_positional (int argc, char **argv, int k)
{
    for (int i = 1; i < argc; i++) {
        if (strncmp (argv[i], "--", 2) == 0) {
            /* a flag: skip its value unless it stands alone */
            static const char *const alone[] = { "--written", "--all", "--json", "--help", NULL };
            bool standalone = false;
            for (int j = 0; alone[j] && !standalone; j++)
                standalone = strcmp (argv[i], alone[j]) == 0;
            if (!standalone)
                i++;
            continue;
        }
        if (k-- == 0)
            return argv[i];
    }
    return NULL;
}

int
ctl_scrub_http (const char *cmd, int argc, char **argv, const char *method, const char *path, const char *ctype,
                const char *body, size_t len, FILE *fp, int64_t file_size, pl_http_response_t *resp)
{
    const char *url = ctl_flag (argc, argv, "--url") ?: getenv ("PLATEAU_SCRUB_URL");
    const char *token = ctl_flag (argc, argv, "--token") ?: getenv ("PLATEAU_API_TOKEN");
    if (!url || !*url)
        return ctl_usage_error (cmd, "no scrub URL: pass --url or set PLATEAU_SCRUB_URL"), PL_EINVAL;
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
    snprintf (headers, sizeof headers, "Authorization: Bearer %s\r\n%s%s%sConnection: close\r\n", token,
              ctype ? "Content-Type: " : "", ctype ? ctype : "", ctype ? "\r\n" : "");
    int64_t size = fp ? file_size : (int64_t) len;
    int rc = pl_http_client_send_head (client, method, path, headers, body || fp ? size : -1);
    if (rc == 0 && body && len)
        rc = pl_http_client_send (client, body, len);
    bool tty = isatty (2);
    int64_t sent = 0;
    char buf[65536];
    size_t n;
    while (rc == 0 && fp && (n = fread (buf, 1, sizeof buf, fp)) > 0) {
        rc = pl_http_client_send (client, buf, n);
        sent += (int64_t) n;
        if (tty && size > 0)
            fprintf (stderr, "\r%s: %3d%% of %lld bytes sent", cmd, (int) (100 * sent / size), (long long) size);
    }
    if (tty && fp)
        fputc ('\n', stderr);
    int status = rc == 0 || rc == PL_EIO ? pl_http_client_read (client, resp, false) : rc;
    if (status < 0)
        fprintf (stderr, "plateauctl %s: no answer from %s: %s\n", cmd, url, pl_http_client_errstr (client));
    pl_http_client_destroy (&client);
    return status;
}

void
ctl_scrub_usage (FILE *out)
{
    fprintf (out,
             "usage: plateauctl scrub FILE [--campaign C] [--country CC] [--url URL] [--token T]\n\n"
             "Sends every number of FILE (one per line, or CSV with the number first) to scrub\n"
             "(POST /v1/scrub), 10,000 at a time, and prints one line per number — decision, the\n"
             "rule that decided, the lists consulted with their versions — then a summary.\n"
             "Progress goes to stderr.\n\n"
             "environment:\n"
             "  PLATEAU_SCRUB_URL   scrub's HTTP API (default for --url)\n"
             "  PLATEAU_API_TOKEN   the bearer token (default for --token)\n"
             "(for the local stack: set -a; . run/stack.env; set +a)\n");
}

/* Sends one batch (CSV text) and prints its results; adds to counts. */
static int
s_batch (int argc, char **argv, const char *path, const char *csv, size_t len, long counts[4])
{
    pl_http_response_t resp = { 0 };
    int st = ctl_scrub_http ("scrub", argc, argv, "POST", path, "text/csv", csv, len, NULL, 0, &resp);
    if (st != 200) {
        if (st > 0)
            fprintf (stderr, "plateauctl scrub: %d %s\n", st, resp.body ? resp.body : "");
        pl_http_response_free (&resp);
        return CTL_EXIT_FAIL;
    }
    json_t *o = json_loads (resp.body, 0, NULL);
    json_t *res = json_object_get (o, "results");
    for (size_t i = 0; i < json_array_size (res); i++) {
        json_t *r = json_array_get (res, i);
        const char *d = json_string_value (json_object_get (r, "decision")) ?: "?";
        counts[strcmp (d, "allow") == 0 ? 0 : strcmp (d, "defer") == 0 ? 1 : strcmp (d, "deny") == 0 ? 2 : 3]++;
        printf ("%-18s %-7s %-18s", json_string_value (json_object_get (r, "number")) ?: json_string_value (
                                        json_object_get (r, "input")) ?: "", d,
                json_string_value (json_object_get (r, "decisive")) ?: "");
        json_t *lists = json_object_get (r, "lists");
        for (size_t l = 0; l < json_array_size (lists); l++) {
            json_t *x = json_array_get (lists, l);
            printf (" %s%s", json_string_value (json_object_get (x, "version")) ?: "",
                    json_is_true (json_object_get (x, "hit")) ? "(hit)" : "");
        }
        putchar ('\n');
    }
    json_decref (o);
    pl_http_response_free (&resp);
    return CTL_EXIT_OK;
}

int
ctl_scrub_run (int argc, char **argv)
{
    if (ctl_has_flag (argc, argv, "--help")) {
        ctl_scrub_usage (stdout);
        return CTL_EXIT_OK;
    }
    const char *file = ctl_positional (argc, argv, 0);
    if (!file)
        return ctl_usage_error ("scrub", "needs a FILE");
    FILE *fp = fopen (file, "r");
    struct stat st;
    if (!fp || fstat (fileno (fp), &st) != 0) {
        fprintf (stderr, "plateauctl scrub: %s: %s\n", file, strerror (errno));
        if (fp)
            fclose (fp);
        return CTL_EXIT_FAIL;
    }
    char path[512] = "/v1/scrub", v[256];
    size_t q = strlen (path);
    const char *campaign = ctl_flag (argc, argv, "--campaign"), *country = ctl_flag (argc, argv, "--country");
    if (campaign) { ctl_url_encode (v, sizeof v, campaign); q += (size_t) snprintf (path + q, sizeof path - q, "?campaign=%s", v); }
    if (country) { ctl_url_encode (v, sizeof v, country); snprintf (path + q, sizeof path - q, "%scountry=%s", campaign ? "&" : "?", v); }
    size_t cap = 1 << 20, len = 0, lines = 0;
    char *csv = malloc (cap), line[512];
    long counts[4] = { 0 };
    int rc = CTL_EXIT_OK;
    bool tty = isatty (2);
    while (csv && rc == CTL_EXIT_OK && fgets (line, sizeof line, fp)) {
        size_t n = strlen (line);
        if (len + n + 2 > cap && !(csv = realloc (csv, cap *= 2)))
            break;
        memcpy (csv + len, line, n);
        len += n;
        if (n && line[n - 1] != '\n')
            csv[len++] = '\n';
        if (++lines % S_BATCH == 0) {
            rc = s_batch (argc, argv, path, csv, len, counts);
            len = 0;
            if (tty)
                fprintf (stderr, "scrub: %zu lines, %ld%% of the file\n", lines,
                         st.st_size ? (long) (100 * ftell (fp) / st.st_size) : 100L);
        }
    }
    if (csv && rc == CTL_EXIT_OK && len)
        rc = s_batch (argc, argv, path, csv, len, counts);
    free (csv);
    fclose (fp);
    printf ("allow %ld, defer %ld, deny %ld, invalid %ld\n", counts[0], counts[1], counts[2], counts[3]);
    return rc;
}
