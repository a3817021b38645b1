/*  commands.h — the subcommands of plateauctl and what they share.
 *
 *  Every subcommand lives in its own file, cmd_<name>.c, and provides two functions:
 *
 *    int  ctl_<name>_run (int argc, char **argv);    argv[0] is "<name>"; returns an exit status
 *    void ctl_<name>_usage (FILE *out);              the text of `plateauctl <name> --help`
 *
 *  declared here with CTL_COMMAND(<name>) and listed in the table of main.c. Exit statuses are
 *  the same for every command: 0 done, 1 refused or failed (the reason on stdout or stderr), 2
 *  usage error (bad arguments or configuration, nothing attempted).
 */
#ifndef PL_CTL_COMMANDS_H
#define PL_CTL_COMMANDS_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "plateau/http_client.h"

enum { CTL_EXIT_OK = 0, CTL_EXIT_FAIL = 1, CTL_EXIT_USAGE = 2 };

#define CTL_COMMAND(name)                                 \
    int ctl_##name##_run (int argc, char **argv);         \
    void ctl_##name##_usage (FILE *out)

CTL_COMMAND (audit);
CTL_COMMAND (clock);
CTL_COMMAND (keygen);
CTL_COMMAND (keys);
CTL_COMMAND (leads);
CTL_COMMAND (lists);
CTL_COMMAND (dnc);
CTL_COMMAND (consent);
CTL_COMMAND (scrub);
CTL_COMMAND (why);
CTL_COMMAND (queue);
CTL_COMMAND (campaign);
CTL_COMMAND (promises);
CTL_COMMAND (webhooks);

/* ---- shared helpers (common.c) ----------------------------------------------------------- */

/* Prints "plateauctl <cmd>: <message>" and a hint to stderr; returns CTL_EXIT_USAGE. */
int ctl_usage_error (const char *cmd, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

/* The Redis URL from --redis (may be NULL) or PLATEAU_REDIS_URL. NULL, after printing why, when
 * neither is set or the URL is malformed. */
const char *ctl_redis_url (const char *cmd, const char *flag);

/* Durations as PLATEAU_* variables take them: "90s", "15m", "2h", "7d", "250ms", "1h30m".
 * 0 and *ms set, or -1. */
int ctl_parse_duration (const char *text, int64_t *ms);

/* A point in time: UTC milliseconds ("1764403200000"), RFC 3339 with a zone as
 * pl_time_parse_rfc3339 reads it ("2026-11-29T08:00:00Z", "2026-11-29T09:00:00.250+01:00"), or a
 * bare date ("2026-11-29" = midnight UTC). Impossible dates are refused. 0 and *ms set, or -1. */
int ctl_parse_time (const char *text, int64_t *ms);

/* Writes "2026-11-29T08:00:00.000Z" into out (PL_TIME_RFC3339_MAX bytes); returns out. */
char *ctl_format_time (int64_t ms, char *out, size_t size);

/* A bus endpoint a client can connect to: tcp://host:port or ipc://path. */
bool ctl_endpoint_valid (const char *endpoint);
/* Percent-encodes a query value into out (always NUL-terminated). */
void ctl_url_encode (char *out, size_t size, const char *value);

/* Scrub's commands (cmd_scrub.c): "--name value" flags and positional arguments of argv (every
 * flag takes a value but --written, --all, --json and --help), and
 * one request to scrub's API (--url or PLATEAU_SCRUB_URL, --token or PLATEAU_API_TOKEN) with a
 * body in memory or streamed from fp (file_size bytes, progress on a terminal). Returns the
 * HTTP status, or a negative code after printing why; *resp to free with pl_http_response_free. */
const char *ctl_flag (int argc, char **argv, const char *name);
bool ctl_has_flag (int argc, char **argv, const char *name);
const char *ctl_positional (int argc, char **argv, int k);
int ctl_scrub_http (const char *cmd, int argc, char **argv, const char *method, const char *path,
                    const char *ctype, const char *body, size_t len, FILE *fp, int64_t file_size,
                    pl_http_response_t *resp);

/* The dialer's commands (cmd_why.c): one GET of the dialer's API (url: --url or
 * PLATEAU_DIALER_URL; token: --token or PLATEAU_API_TOKEN; NULL to take the variable). Returns the
 * HTTP status, or a negative code after printing why (PL_EINVAL: a usage error); *resp to free
 * with pl_http_response_free. */
int ctl_dialer_get (const char *cmd, const char *url, const char *token, const char *path,
                    pl_http_response_t *resp);
/* The same with any method and a body of type ctype (body NULL: none). */
int ctl_dialer_send (const char *cmd, const char *url, const char *token, const char *method, const char *path,
                     const char *ctype, const char *body, pl_http_response_t *resp);
/* The same for any service's API: its URL from url or the variable url_var
 * ("PLATEAU_PROMISE_URL"). */
int ctl_api_send (const char *cmd, const char *url_var, const char *url, const char *token, const char *method,
                  const char *path, const char *ctype, const char *body, pl_http_response_t *resp);

/* Each wait of an HTTP exchange (connect, send, answer) through pl_http_client gives up after
 * this long. */
#define CTL_HTTP_TIMEOUT_MS (10 * 60 * 1000)

#endif
