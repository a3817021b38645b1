/*  common.c — what plateauctl's subcommands share: configuration, durations, times, endpoints
 *  (see commands.h).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include "commands.h"
#include "plateau/config.h"
#include "plateau/http_client.h"
#include "plateau/redis.h"
#include "plateau/timefmt.h"

int
ctl_usage_error (const char *cmd, const char *fmt, ...)
{
    fprintf (stderr, "plateauctl %s: ", cmd);
    va_list ap;
    va_start (ap, fmt);
    vfprintf (stderr, fmt, ap);
    va_end (ap);
    fprintf (stderr, "\n(see plateauctl %s --help)\n", cmd);
    return CTL_EXIT_USAGE;
}

const char *
ctl_redis_url (const char *cmd, const char *flag)
{
    const char *url = flag && *flag ? flag : getenv ("PLATEAU_REDIS_URL");
    if (!url || !*url) {
        ctl_usage_error (cmd, "no Redis: pass --redis URL or set PLATEAU_REDIS_URL "
                              "(for the local stack: set -a; . run/stack.env; set +a)");
        return NULL;
    }
    char err[256];
    if (pl_redis_url_check (url, err, sizeof err) != 0) {
        ctl_usage_error (cmd, "Redis URL '%s': %s", url, err);
        return NULL;
    }
    return url;
}

/* Durations are parsed by the kit's config reader, so that "7d" means here what it means in
 * every PLATEAU_* variable. */
static const char *
s_lookup (const char *name, void *arg)
{
    return strcmp (name, "duration") == 0 ? arg : NULL;
}

int
ctl_parse_duration (const char *text, int64_t *ms)
{
    pl_config_t *c = pl_config_new_with (s_lookup, (void *) text);
    if (!c)
        return -1;
    int64_t v = pl_config_duration_ms (c, "duration", -1);
    int ok = pl_config_ok (c) == 0 && v >= 0;
    pl_config_destroy (&c);
    if (!ok)
        return -1;
    *ms = v;
    return 0;
}

static bool
s_all_digits (const char *text)
{
    if (!*text)
        return false;
    for (const char *p = text; *p; p++)
        if (!isdigit ((unsigned char) *p))
            return false;
    return true;
}

int
ctl_parse_time (const char *text, int64_t *ms)
{
    if (s_all_digits (text)) {
        if (strlen (text) > 15)            /* beyond year 33000: a typo, not a time */
            return -1;
        *ms = strtoll (text, NULL, 10);
        return 0;
    }
    /* A bare date is midnight UTC; anything else is RFC 3339 with a zone, read by the kit's one
     * parser (a bare local time means something else on every machine). */
    char full[32];
    if (strlen (text) == 10 && snprintf (full, sizeof full, "%sT00:00:00Z", text) > 0)
        text = full;
    return pl_time_parse_rfc3339 (text, ms) == 0 ? 0 : -1;
}

char *
ctl_format_time (int64_t ms, char *out, size_t size)
{
    if (ms < 0)
        snprintf (out, size, "%lld", (long long) ms);
    else
        pl_time_format_rfc3339 (ms, out, size);
    return out;
}

bool
ctl_endpoint_valid (const char *endpoint)
{
    if (strncmp (endpoint, "ipc://", 6) == 0)
        return endpoint[6] != '\0';
    if (strncmp (endpoint, "tcp://", 6) != 0)
        return false;
    const char *host = endpoint + 6, *colon = strrchr (host, ':');
    if (!colon || colon == host || !colon[1])
        return false;
    for (const char *c = colon + 1; *c; c++)
        if (!isdigit ((unsigned char) *c))
            return false;
    long port = strtol (colon + 1, NULL, 10);
    return port > 0 && port < 65536;
}

void
ctl_url_encode (char *out, size_t size, const char *v)
{
    size_t n = 0;
    for (; *v && n + 4 < size; v++) {
        unsigned char c = (unsigned char) *v;
        if (isalnum (c) || strchr ("-_.~", c))
            out[n++] = (char) c;
        else
            n += (size_t) snprintf (out + n, size - n, "%%%02X", c);
    }
    out[n] = '\0';
}
