/*  log.c — JSON lines on stdout (see log.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "plateau/error.h"
#include "plateau/log.h"

struct pl_log {
    char *service;
    int fd;
    pl_log_level_t level;
};

static const char *s_level_names[] = { "debug", "info", "warn", "error" };

pl_log_t *
pl_log_new (const char *service, int fd)
{
    pl_log_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->service = strdup (service ? service : "plateau");
    self->fd = fd;
    self->level = PL_LOG_INFO;
    return self;
}

void
pl_log_destroy (pl_log_t **self_p)
{
    if (self_p && *self_p) {
        free ((*self_p)->service);
        free (*self_p);
        *self_p = NULL;
    }
}

void pl_log_set_level (pl_log_t *self, pl_log_level_t level) { self->level = level; }

int
pl_log_level_parse (const char *text, pl_log_level_t *out)
{
    for (int i = 0; i < 4; i++)
        if (text && strcmp (text, s_level_names[i]) == 0) {
            *out = (pl_log_level_t) i;
            return 0;
        }
    return PL_EINVAL;
}

/* Appends s to buf as a JSON string body (without quotes), escaping what JSON requires. */
static size_t
s_escape (char *buf, size_t pos, size_t cap, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    for (; s && *s && pos + 7 < cap; s++) {
        unsigned char c = (unsigned char) *s;
        if (c == '"' || c == '\\') {
            buf[pos++] = '\\';
            buf[pos++] = (char) c;
        }
        else if (c == '\n') { buf[pos++] = '\\'; buf[pos++] = 'n'; }
        else if (c == '\r') { buf[pos++] = '\\'; buf[pos++] = 'r'; }
        else if (c == '\t') { buf[pos++] = '\\'; buf[pos++] = 't'; }
        else if (c < 0x20) {
            memcpy (buf + pos, "\\u00", 4);
            buf[pos + 4] = hex[c >> 4];
            buf[pos + 5] = hex[c & 15];
            pos += 6;
        }
        else
            buf[pos++] = (char) c;
    }
    return pos;
}

static size_t
s_append (char *buf, size_t pos, size_t cap, const char *s)
{
    size_t n = strlen (s);
    if (pos + 1 >= cap)
        return pos;
    if (pos + n >= cap)
        n = cap - pos - 1;
    memcpy (buf + pos, s, n);
    return pos + n;
}

void
pl_log (pl_log_t *self, pl_log_level_t level, const char *trace_id, const char *msg, ...)
{
    if (!self || level < self->level)
        return;
    char buf[4096];
    const size_t cap = sizeof buf - 2;     /* room for "}\n" */
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r (&ts.tv_sec, &tm);
    size_t pos = (size_t) snprintf (buf, cap,
        "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"level\":\"%s\",\"service\":\"",
        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
        ts.tv_nsec / 1000000, s_level_names[level]);
    pos = s_escape (buf, pos, cap, self->service);
    if (trace_id && *trace_id) {
        pos = s_append (buf, pos, cap, "\",\"trace_id\":\"");
        pos = s_escape (buf, pos, cap, trace_id);
    }
    pos = s_append (buf, pos, cap, "\",\"msg\":\"");
    pos = s_escape (buf, pos, cap, msg);
    pos = s_append (buf, pos, cap, "\"");
    va_list ap;
    va_start (ap, msg);
    const char *key;
    while ((key = va_arg (ap, const char *)) != NULL) {
        const char *value = va_arg (ap, const char *);
        pos = s_append (buf, pos, cap, ",\"");
        pos = s_escape (buf, pos, cap, key);
        pos = s_append (buf, pos, cap, "\":\"");
        pos = s_escape (buf, pos, cap, value ? value : "");
        pos = s_append (buf, pos, cap, "\"");
    }
    va_end (ap);
    buf[pos++] = '}';
    buf[pos++] = '\n';
    ssize_t rc = write (self->fd, buf, pos);
    (void) rc;
}

char *
pl_log_mask_number (const char *e164, char *out, size_t out_size)
{
    if (!out || out_size == 0)
        return out;
    size_t n = e164 ? strlen (e164) : 0;
    if (n >= out_size)
        n = out_size - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (i + 4 >= n && i > 0) ? '*' : e164[i];
    out[n] = '\0';
    return out;
}
