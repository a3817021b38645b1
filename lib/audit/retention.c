/*  retention.c — the retention table: parsing and lookup by event type (see audit_retention.h). */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plateau/error.h"
#include "grow.h"
#include "plateau/audit_retention.h"

typedef struct {
    char *pattern;              /* exact type, or prefix without its '*' */
    bool prefix;
    int64_t ms;
} s_entry_t;

struct pl_audit_retention {
    s_entry_t *v;
    size_t n, cap;
    int64_t def;
    char errstr[256];
};

pl_audit_retention_t *
pl_audit_retention_new (void)
{
    pl_audit_retention_t *self = calloc (1, sizeof *self);
    if (self)
        self->def = PL_AUDIT_FOREVER;
    return self;
}

void
pl_audit_retention_destroy (pl_audit_retention_t **self_p)
{
    if (self_p && *self_p) {
        for (size_t i = 0; i < (*self_p)->n; i++)
            free ((*self_p)->v[i].pattern);
        free ((*self_p)->v);
        free (*self_p);
        *self_p = NULL;
    }
}

const char *pl_audit_retention_errstr (const pl_audit_retention_t *self) { return self->errstr; }

static int
s_retention_set (pl_audit_retention_t *self, const char *pattern, int64_t ms)
{
    if (!pattern || !pattern[0] || ms < 0)
        return PL_EINVAL;
    if (strcmp (pattern, "default") == 0) {
        self->def = ms;
        return 0;
    }
    size_t len = strlen (pattern);
    bool prefix = pattern[len - 1] == '*';
    if (prefix)
        len--;
    for (size_t i = 0; i < self->n; i++)
        if (self->v[i].prefix == prefix && strlen (self->v[i].pattern) == len
            && strncmp (self->v[i].pattern, pattern, len) == 0) {
            self->v[i].ms = ms;
            return 0;
        }
    if (!pl__grow (&self->v, self->n, &self->cap, sizeof *self->v, 8))
        return PL_ENOMEM;
    char *copy = strndup (pattern, len);
    if (!copy)
        return PL_ENOMEM;
    self->v[self->n++] = (s_entry_t) {copy, prefix, ms};
    return 0;
}

/* "5y", "400d", "12h", "30m", "10s", "250ms", "forever" -> ms; -1 when invalid. */
static int64_t
s_duration (const char *s, size_t len)
{
    if (len == 7 && strncmp (s, "forever", 7) == 0)
        return PL_AUDIT_FOREVER;
    size_t i = 0;
    int64_t n = 0;
    while (i < len && isdigit ((unsigned char) s[i])) {
        if (n > INT64_MAX / 10 - 10)
            return -1;
        n = n * 10 + (s[i++] - '0');
    }
    if (i == 0)
        return -1;
    const char *unit = s + i;
    size_t ulen = len - i;
    int64_t mul;
    if (ulen == 1 && unit[0] == 'y')
        mul = 366LL * 86400000;
    else if (ulen == 1 && unit[0] == 'd')
        mul = 86400000;
    else if (ulen == 1 && unit[0] == 'h')
        mul = 3600000;
    else if (ulen == 1 && unit[0] == 'm')
        mul = 60000;
    else if (ulen == 1 && unit[0] == 's')
        mul = 1000;
    else if (ulen == 2 && unit[0] == 'm' && unit[1] == 's')
        mul = 1;
    else
        return -1;
    if (n > INT64_MAX / mul)
        return -1;
    return n * mul;
}

int
pl_audit_retention_parse (pl_audit_retention_t *self, const char *spec)
{
    if (!spec)
        return 0;
    const char *p = spec;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t' || *p == '\n')
            p++;
        if (!*p)
            break;
        const char *end = p;
        while (*end && *end != ',')
            end++;
        const char *eq = memchr (p, '=', (size_t) (end - p));
        const char *ke = eq, *vs = eq ? eq + 1 : NULL, *ve = end;
        while (ke && ke > p && ke[-1] == ' ')
            ke--;
        while (vs && vs < ve && *vs == ' ')
            vs++;
        while (vs && ve > vs && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\n'))
            ve--;
        int64_t ms = vs ? s_duration (vs, (size_t) (ve - vs)) : -1;
        if (!eq || ke == p || ms < 0) {
            snprintf (self->errstr, sizeof self->errstr,
                      "retention: expected type=duration (5y, 400d, 12h, forever), got '%.*s'",
                      (int) (end - p > 80 ? 80 : end - p), p);
            return PL_EINVAL;
        }
        char key[256];
        snprintf (key, sizeof key, "%.*s", (int) (ke - p), p);
        int rc = s_retention_set (self, key, ms);
        if (rc)
            return rc;
        p = end;
    }
    return 0;
}

int64_t
pl_audit_retention_for (const pl_audit_retention_t *self, const char *type)
{
    if (!self)
        return PL_AUDIT_FOREVER;
    int64_t best = self->def;
    size_t best_len = 0;
    bool exact = false;
    for (size_t i = 0; i < self->n && !exact; i++) {
        const s_entry_t *e = &self->v[i];
        size_t len = strlen (e->pattern);
        if (!e->prefix && strcmp (e->pattern, type) == 0) {
            best = e->ms;
            exact = true;
        } else if (e->prefix && strncmp (e->pattern, type, len) == 0 && len >= best_len) {
            best = e->ms;
            best_len = len + 1;         /* "" prefix ("*") still beats the default */
        }
    }
    return best;
}

int
pl_audit_retention_keeps_all (const pl_audit_retention_t *self)
{
    if (!self || self->def != PL_AUDIT_FOREVER)
        return self ? 0 : 1;
    for (size_t i = 0; i < self->n; i++)
        if (self->v[i].ms != PL_AUDIT_FOREVER)
            return 0;
    return 1;
}
