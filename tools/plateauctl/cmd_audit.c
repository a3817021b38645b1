/*  cmd_audit.c — plateauctl audit: the story of a number, verification and export of the audit.
 *
 *      plateauctl audit why <+E164|lead-id>   [--url URL --token T | --data DIR]
 *      plateauctl audit verify                [--url URL --token T | --data DIR [--key FILE]…]
 *      plateauctl audit export [--from T] [--to T] [--url URL --token T | --data DIR]
 *      plateauctl audit export --chain C --from-seq N [--url URL --token T | --data DIR]
 *
 *  The second export is incremental, by arrival: the records of one chain from seq N on, in seq
 *  order, then "next --from-seq M" on stderr; running it again from M gives exactly what arrived
 *  since, late events included (a time range would skip an event decided before the last run
 *  but delivered after it). Numbers are in clear for an auditor token (and the read is recorded
 *  by the service) or with the data key under --data.
 *
 *  Two ways to reach the audit: through the service's HTTP API (--url, or PLATEAU_AUDIT_URL,
 *  with the bearer token from --token or PLATEAU_API_TOKEN), or by opening a data directory
 *  read-only (--data; a copy of the PersistentVolume, or the live one). With --data, `why`
 *  needs the pseudonym key to find a number and the data key to show it in clear
 *  (PLATEAU_AUDIT_PSEUDONYM_KEY_FILE, PLATEAU_AUDIT_DATA_KEY_FILE), and `verify` trusts only
 *  the public keys given with --key (or PLATEAU_AUDIT_PUBLIC_KEY_FILE); without any, it falls
 *  back to the *.pub files of the data directory and says so, since whoever can rewrite the
 *  data could replace those too. verify exits 1 when any chain is bad, naming the first bad
 *  record of each.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <jansson.h>

#include "commands.h"
#include "plateau/audit_keys.h"
#include "plateau/error.h"
#include "plateau/audit_query.h"
#include "plateau/audit_verify.h"

#define S_MAX_KEYS 16

void
ctl_audit_usage (FILE *out)
{
    fprintf (out,
             "usage: plateauctl audit why <+E164|lead-id> [--url URL --token T | --data DIR]\n"
             "       plateauctl audit verify [--url URL --token T | --data DIR [--key FILE]...]\n"
             "       plateauctl audit export [--from TIME] [--to TIME] [--url URL --token T | --data DIR]\n"
             "       plateauctl audit export --chain C --from-seq N [--url URL --token T | --data DIR]\n"
             "\n"
             "  why      everything recorded about a number or a lead, in the callee's local time,\n"
             "           with the rules cited\n"
             "  verify   checks every chain and checkpoint signature; names the first bad record;\n"
             "           exit 1 when anything is wrong\n"
             "  export   every record as NDJSON on stdout (TIME: UTC ms or RFC 3339); with --chain\n"
             "           and --from-seq, one chain by arrival from that seq, then the seq to resume\n"
             "           from on stderr (\"next --from-seq M\")\n"
             "\n"
             "  --url URL     the audit service's HTTP API (default PLATEAU_AUDIT_URL)\n"
             "  --token T     bearer token (default PLATEAU_API_TOKEN)\n"
             "  --data DIR    open a data directory read-only instead\n"
             "  --key FILE    a trusted checkpoint public key (verify --data; repeatable;\n"
             "                default PLATEAU_AUDIT_PUBLIC_KEY_FILE)\n"
             "  with --data: PLATEAU_AUDIT_PSEUDONYM_KEY_FILE finds numbers, PLATEAU_AUDIT_DATA_KEY_FILE\n"
             "  shows them in clear\n");
}

/* ---- a GET through the kit's HTTP client ------------------------------------------------- */

typedef struct {
    int status;
    char *body;
    size_t len;
    char cursor[512];               /* X-Next-Cursor */
} s_resp_t;

static int
s_get (const char *url, const char *token, const char *path, s_resp_t *resp)
{
    memset (resp, 0, sizeof *resp);
    char host[256], auth[1024];
    int port;
    if (pl_http_url_parse (url, host, sizeof host, &port) != 0) {
        fprintf (stderr, "plateauctl audit: URL '%s': expected http://host[:port]\n", url);
        return -1;
    }
    snprintf (auth, sizeof auth, "Authorization: Bearer %s\r\n", token ? token : "");
    pl_http_client_t *client = pl_http_client_new (host, port, CTL_HTTP_TIMEOUT_MS);
    pl_http_response_t r = { 0 };
    int status = client ? pl_http_client_request (client, "GET", path, auth, NULL, 0, &r) : -1;
    if (status < 0) {
        fprintf (stderr, "plateauctl audit: no HTTP answer from %s: %s\n", url,
                 client ? pl_http_client_errstr (client) : "out of memory");
        pl_http_response_free (&r);
        pl_http_client_destroy (&client);
        return -1;
    }
    resp->status = status;
    resp->body = r.body;
    resp->len = r.body_len;
    r.body = NULL;
    pl_http_response_header (&r, "X-Next-Cursor", resp->cursor, sizeof resp->cursor);
    pl_http_response_free (&r);
    pl_http_client_destroy (&client);
    return 0;
}

/* ---- local readers ----------------------------------------------------------------------- */

static pl_audit_keys_t *
s_reader_keys (void)
{
    pl_audit_keys_t *keys = pl_audit_keys_new ();
    const char *p = getenv ("PLATEAU_AUDIT_PSEUDONYM_KEY_FILE"), *d = getenv ("PLATEAU_AUDIT_DATA_KEY_FILE");
    if (p && *p && pl_audit_keys_load_pseudonym (keys, p) != 0)
        fprintf (stderr, "plateauctl audit: %s\n", pl_audit_keys_errstr (keys));
    if (d && *d && pl_audit_keys_load_data (keys, d) != 0)
        fprintf (stderr, "plateauctl audit: %s\n", pl_audit_keys_errstr (keys));
    return keys;
}

static int
s_stdout_sink (void *arg, const char *data, size_t len)
{
    (void) arg;
    return fwrite (data, 1, len, stdout) == len ? 0 : -1;
}

/* ---- subcommands ------------------------------------------------------------------------- */

static int
s_why (const char *subject, const char *url, const char *token, const char *data)
{
    bool number = subject[0] == '+';
    if (data) {
        pl_audit_keys_t *keys = s_reader_keys ();
        if (number && !pl_audit_keys_has_pseudonym (keys)) {
            pl_audit_keys_destroy (&keys);
            return ctl_usage_error ("audit", "a number needs PLATEAU_AUDIT_PSEUDONYM_KEY_FILE with --data");
        }
        pl_audit_reader_t *r = pl_audit_reader_new (data, keys);
        char *text = NULL;
        int rc = r ? pl_audit_reader_story (r, subject, pl_audit_keys_has_data (keys), &text) : PL_ENOMEM;
        if (rc == 0)
            fputs (text, stdout);
        else
            fprintf (stderr, "plateauctl audit why: %s\n",
                     rc == PL_ENOTFOUND ? "nothing is recorded about it" : r ? pl_audit_reader_errstr (r) : "no memory");
        free (text);
        pl_audit_reader_destroy (&r);
        pl_audit_keys_destroy (&keys);
        return rc == 0 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
    }
    char enc[256], path[512];
    ctl_url_encode (enc, sizeof enc, subject);
    snprintf (path, sizeof path, "/v1/audit/why?%s=%s", number ? "number" : "lead", enc);
    s_resp_t resp;
    if (s_get (url, token, path, &resp) != 0)
        return CTL_EXIT_FAIL;
    if (resp.status == 200)
        fputs (resp.body, stdout);
    else
        fprintf (stderr, "plateauctl audit why: HTTP %d %s\n", resp.status, resp.body);
    free (resp.body);
    return resp.status == 200 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}

static int
s_verify (const char *url, const char *token, const char *data, char **key_files, size_t n_keys)
{
    if (!data) {
        s_resp_t resp;
        if (s_get (url, token, "/v1/audit/verify", &resp) != 0)
            return CTL_EXIT_FAIL;
        json_t *j = resp.status == 200 ? json_loads (resp.body, 0, NULL) : NULL;
        bool ok = j && json_is_true (json_object_get (j, "verified"));
        printf ("%s\n", resp.body);
        if (!j)
            fprintf (stderr, "plateauctl audit verify: HTTP %d\n", resp.status);
        json_decref (j);
        free (resp.body);
        return ok ? CTL_EXIT_OK : CTL_EXIT_FAIL;
    }
    uint8_t trusted[S_MAX_KEYS][PL_AUDIT_KEY_LEN];
    size_t n = 0;
    for (size_t i = 0; i < n_keys && n < S_MAX_KEYS; i++) {
        if (pl_audit_keys_read_public (key_files[i], trusted[n]) != 0) {
            fprintf (stderr, "plateauctl audit verify: %s: not a public key file\n", key_files[i]);
            return CTL_EXIT_USAGE;
        }
        n++;
    }
    if (n == 0) {
        DIR *d = opendir (data);
        struct dirent *e;
        while (d && (e = readdir (d)) && n < S_MAX_KEYS) {
            size_t l = strlen (e->d_name);
            char path[4096];
            if (l > 4 && strcmp (e->d_name + l - 4, ".pub") == 0) {
                snprintf (path, sizeof path, "%s/%s", data, e->d_name);
                if (pl_audit_keys_read_public (path, trusted[n]) == 0)
                    n++;
            }
        }
        if (d)
            closedir (d);
        if (n)
            fprintf (stderr, "plateauctl audit verify: no --key given: trusting the %zu public key(s) "
                             "found in %s\n", n, data);
    }
    if (n == 0)
        return ctl_usage_error ("audit", "verify needs a trusted public key: --key FILE");
    pl_audit_verify_opts_t o = { .trusted = (const uint8_t (*)[PL_AUDIT_KEY_LEN]) trusted, .n_trusted = n,
                                 .live = true };
    pl_audit_verify_report_t *r = NULL;
    int rc = pl_audit_verify (data, &o, &r);
    if (!r) {
        fprintf (stderr, "plateauctl audit verify: %s: %s\n", data, pl_strerror (rc));
        return CTL_EXIT_FAIL;
    }
    char *text = pl_audit_verify_report_text (r);
    if (text)
        fputs (text, stdout);
    free (text);
    pl_audit_verify_report_destroy (&r);
    return rc == 0 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}

static int
s_export (const char *url, const char *token, const char *data, const char *from, const char *to)
{
    pl_audit_keys_t *keys = data ? s_reader_keys () : NULL;
    pl_audit_reader_t *r = data ? pl_audit_reader_new (data, keys) : NULL;
    int status = CTL_EXIT_OK;
    if (data && !from && !to) {
        uint64_t count = 0;
        int rc = r ? pl_audit_reader_export (r, pl_audit_keys_has_data (keys), s_stdout_sink, NULL, &count) : PL_ENOMEM;
        if (rc != 0) {
            fprintf (stderr, "plateauctl audit export: %s\n", r ? pl_audit_reader_errstr (r) : "no memory");
            status = CTL_EXIT_FAIL;
        } else
            fprintf (stderr, "plateauctl audit export: %llu records\n", (unsigned long long) count);
        pl_audit_reader_destroy (&r);
        pl_audit_keys_destroy (&keys);
        return status;
    }
    int64_t from_ms = 0, to_ms = 0;
    if ((from && ctl_parse_time (from, &from_ms) != 0) || (to && ctl_parse_time (to, &to_ms) != 0)) {
        pl_audit_reader_destroy (&r);
        pl_audit_keys_destroy (&keys);
        return ctl_usage_error ("audit", "--from/--to: UTC ms or RFC 3339");
    }
    char cursor[512] = "";
    do {
        if (data) {
            pl_audit_query_t q = { .has_from = from != NULL, .from_ms = from_ms, .has_to = to != NULL,
                                   .to_ms = to_ms, .cursor = cursor[0] ? cursor : NULL,
                                   .limit = PL_AUDIT_QUERY_LIMIT_MAX, .reveal = pl_audit_keys_has_data (keys) };
            char *next = NULL;
            if (pl_audit_reader_query_ndjson (r, &q, s_stdout_sink, NULL, &next) != 0) {
                fprintf (stderr, "plateauctl audit export: %s\n", pl_audit_reader_errstr (r));
                status = CTL_EXIT_FAIL;
                break;
            }
            snprintf (cursor, sizeof cursor, "%s", next ? next : "");
            free (next);
        } else {
            char path[2048], v[600];
            int k = snprintf (path, sizeof path, "/v1/audit?format=ndjson&limit=%d", PL_AUDIT_QUERY_LIMIT_MAX);
            if (from)
                k += snprintf (path + k, sizeof path - (size_t) k, "&from=%lld", (long long) from_ms);
            if (to)
                k += snprintf (path + k, sizeof path - (size_t) k, "&to=%lld", (long long) to_ms);
            if (cursor[0]) {
                ctl_url_encode (v, sizeof v, cursor);
                snprintf (path + k, sizeof path - (size_t) k, "&cursor=%s", v);
            }
            s_resp_t resp;
            if (s_get (url, token, path, &resp) != 0 || resp.status != 200) {
                fprintf (stderr, "plateauctl audit export: HTTP %d %s\n", resp.status, resp.body ? resp.body : "");
                free (resp.body);
                status = CTL_EXIT_FAIL;
                break;
            }
            fwrite (resp.body, 1, resp.len, stdout);
            snprintf (cursor, sizeof cursor, "%s", resp.cursor);
            free (resp.body);
        }
    } while (cursor[0]);
    pl_audit_reader_destroy (&r);
    pl_audit_keys_destroy (&keys);
    return status;
}

/* One chain by arrival from seq `from`, every page, as NDJSON; the seq to resume from on stderr. */
static int
s_export_arrivals (const char *url, const char *token, const char *data, const char *chain,
                   uint64_t from)
{
    pl_audit_keys_t *keys = data ? s_reader_keys () : NULL;
    pl_audit_reader_t *r = data ? pl_audit_reader_new (data, keys) : NULL;
    if (data && !r) {
        pl_audit_keys_destroy (&keys);
        return CTL_EXIT_FAIL;
    }
    int status = CTL_EXIT_OK;
    uint64_t next = from, count = 0;
    for (;;) {
        json_t *items = NULL, *page = NULL;
        uint64_t after = next;
        if (data) {
            if (pl_audit_reader_arrivals (r, chain, next, PL_AUDIT_QUERY_LIMIT_MAX,
                                          pl_audit_keys_has_data (keys), &items, &after) != 0) {
                fprintf (stderr, "plateauctl audit export: %s\n", pl_audit_reader_errstr (r));
                status = CTL_EXIT_FAIL;
                break;
            }
        } else {
            char path[512], v[200];
            ctl_url_encode (v, sizeof v, chain);
            snprintf (path, sizeof path, "/v1/audit/export?chain=%s&from_seq=%llu&limit=%d", v,
                      (unsigned long long) next, PL_AUDIT_QUERY_LIMIT_MAX);
            s_resp_t resp;
            if (s_get (url, token, path, &resp) != 0 || resp.status != 200) {
                fprintf (stderr, "plateauctl audit export: HTTP %d %s\n", resp.status,
                         resp.body ? resp.body : "");
                free (resp.body);
                status = CTL_EXIT_FAIL;
                break;
            }
            page = json_loadb (resp.body, resp.len, 0, NULL);
            free (resp.body);
            items = json_incref (json_object_get (page, "items"));
            after = (uint64_t) json_integer_value (json_object_get (page, "next_seq"));
            json_decref (page);
            if (!json_is_array (items) || after < next) {
                fprintf (stderr, "plateauctl audit export: the service answered no page\n");
                json_decref (items);
                status = CTL_EXIT_FAIL;
                break;
            }
        }
        size_t i;
        json_t *o;
        json_array_foreach (items, i, o)
        {
            char *line = json_dumps (o, JSON_COMPACT);
            if (line)
                printf ("%s\n", line);
            free (line);
        }
        count += json_array_size (items);
        size_t n = json_array_size (items);
        json_decref (items);
        next = after;
        if (n < PL_AUDIT_QUERY_LIMIT_MAX)
            break;
    }
    if (status == CTL_EXIT_OK)
        fprintf (stderr, "plateauctl audit export: %llu records; next --from-seq %llu\n",
                 (unsigned long long) count, (unsigned long long) next);
    pl_audit_reader_destroy (&r);
    pl_audit_keys_destroy (&keys);
    return status;
}

int
ctl_audit_run (int argc, char **argv)
{
    static const struct option opts[] = {
        { "url", required_argument, NULL, 'u' }, { "token", required_argument, NULL, 't' },
        { "data", required_argument, NULL, 'd' }, { "key", required_argument, NULL, 'k' },
        { "from", required_argument, NULL, 'f' }, { "to", required_argument, NULL, 'T' },
        { "chain", required_argument, NULL, 'c' }, { "from-seq", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 }
    };
    const char *url = getenv ("PLATEAU_AUDIT_URL"), *token = getenv ("PLATEAU_API_TOKEN");
    const char *data = NULL, *from = NULL, *to = NULL, *chain = NULL, *from_seq = NULL;
    char *key_files[S_MAX_KEYS];
    size_t n_keys = 0;
    const char *env_key = getenv ("PLATEAU_AUDIT_PUBLIC_KEY_FILE");
    if (env_key && *env_key)
        key_files[n_keys++] = (char *) env_key;
    int c;
    optind = 1;
    while ((c = getopt_long (argc, argv, "u:t:d:k:f:T:c:s:h", opts, NULL)) != -1) {
        switch (c) {
        case 'u': url = optarg; break;
        case 't': token = optarg; break;
        case 'd': data = optarg; break;
        case 'k':
            if (n_keys < S_MAX_KEYS)
                key_files[n_keys++] = optarg;
            break;
        case 'f': from = optarg; break;
        case 'T': to = optarg; break;
        case 'c': chain = optarg; break;
        case 's': from_seq = optarg; break;
        case 'h': ctl_audit_usage (stdout); return CTL_EXIT_OK;
        default: return ctl_usage_error ("audit", "unknown option");
        }
    }
    if (optind >= argc)
        return ctl_usage_error ("audit", "which: why, verify or export?");
    const char *what = argv[optind];
    if (!data && (!url || !*url))
        return ctl_usage_error ("audit", "no audit: pass --data DIR, or --url URL (or set PLATEAU_AUDIT_URL)");
    if (strcmp (what, "why") == 0) {
        if (optind + 1 >= argc)
            return ctl_usage_error ("audit", "why: give a number (+E164) or a lead id");
        return s_why (argv[optind + 1], url, token, data);
    }
    if (strcmp (what, "verify") == 0)
        return s_verify (url, token, data, key_files, n_keys);
    if (strcmp (what, "export") == 0 && (chain || from_seq)) {
        char *end = NULL;
        errno = 0;
        unsigned long long seq = from_seq ? strtoull (from_seq, &end, 10) : 0;
        if (!chain || !from_seq || !*from_seq || *end || errno || *from_seq == '-')
            return ctl_usage_error ("audit", "export by arrival: give --chain C and --from-seq N");
        if (from || to)
            return ctl_usage_error ("audit", "export: --from/--to or --chain/--from-seq, not both");
        return s_export_arrivals (url, token, data, chain, seq);
    }
    if (strcmp (what, "export") == 0)
        return s_export (url, token, data, from, to);
    return ctl_usage_error ("audit", "unknown subcommand '%s'", what);
}
