/*  profile.c — jurisdiction profiles and holiday calendars: the text format, its validation,
 *  and compiling a rule's keys into the clauses the engine evaluates.
 *
 *  The format is line-oriented so that a compliance officer can read a profile next to the law
 *  and a reviewer can diff it:
 *
 *      # comment
 *      [profile]
 *      id = fr-cc
 *      [rule fr.hours]
 *      source = Code de la consommation D223-9
 *      hours = 10:00-13:00 14:00-20:00
 *
 *  Everything is checked at load — unknown sections and keys, malformed values, references to
 *  calendars, zones and exemption rules that do not exist — and the first error is reported as
 *  "<file>:<line>: key '<key>': <what is wrong>". A load either takes every file or none.
 */
#include "rules_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_TEXT (1 << 20)

/* ------------------------------------------------------------------------------------------ */
/* Small helpers                                                                                */

static void
s_err (pl__err_t *e, int line, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (e->msg, sizeof e->msg, fmt, ap);
    va_end (ap);
    e->line = line;
    snprintf (e->key, sizeof e->key, "%s", key ? key : "");
}

const char *
pl__arena_strdup (pl__arena_t *a, const char *s)
{
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 16;
        char **ns = realloc (a->s, nc * sizeof *ns);
        if (!ns)
            return NULL;
        a->s = ns;
        a->cap = nc;
    }
    char *d = strdup (s ? s : "");
    if (!d)
        return NULL;
    a->s[a->n++] = d;
    return d;
}

void
pl__arena_free (pl__arena_t *a)
{
    for (size_t i = 0; i < a->n; i++)
        free (a->s[i]);
    free (a->s);
    memset (a, 0, sizeof *a);
}

size_t
pl__split (const char *s, char *buf, size_t buflen, char **words, size_t max)
{
    size_t n = 0, o = 0;
    const char *p = s;
    while (*p && n < max) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        words[n++] = buf + o;
        if (*p == '"') {
            p++;
            while (*p && *p != '"' && o + 1 < buflen)
                buf[o++] = *p++;
            if (*p == '"')
                p++;
        }
        else {
            while (*p && *p != ' ' && *p != '\t' && o + 1 < buflen)
                buf[o++] = *p++;
        }
        if (o < buflen)
            buf[o++] = 0;
        else
            buf[buflen - 1] = 0;
    }
    return n;
}

static bool
s_word_ok (const char *w, const char *extra)
{
    if (!*w)
        return false;
    for (const char *p = w; *p; p++)
        if (!(islower ((unsigned char) *p) || isdigit ((unsigned char) *p) || strchr (extra, *p)))
            return false;
    return true;
}

static bool
s_rule_id_ok (const char *id)
{
    const char *dot = strchr (id, '.');
    if (!dot || dot == id || !dot[1] || strlen (id) >= PL__NAMELEN)
        return false;
    for (const char *p = id; p < dot; p++)
        if (!islower ((unsigned char) *p))
            return false;
    return s_word_ok (dot + 1, "-");
}

/* ------------------------------------------------------------------------------------------ */
/* Value parsers                                                                                */

int
pl__parse_duration (const char *s, pl__dur_t *d)
{
    char *end;
    errno = 0;
    long long v = strtoll (s, &end, 10);
    if (end == s || v < 0 || errno || v > 100000000LL || !isdigit ((unsigned char) *s))
        return -1;
    if (strcmp (end, "s") == 0)
        *d = (pl__dur_t) { v, 's' };
    else if (strcmp (end, "min") == 0)
        *d = (pl__dur_t) { v * 60, 's' };
    else if (strcmp (end, "h") == 0)
        *d = (pl__dur_t) { v * 3600, 's' };
    else if (strcmp (end, "d") == 0)
        *d = (pl__dur_t) { v * 86400, 's' };
    else if (strcmp (end, "bd") == 0)
        *d = (pl__dur_t) { v, 'b' };
    else if (strcmp (end, "mo") == 0)
        *d = (pl__dur_t) { v, 'M' };
    else if (strcmp (end, "y") == 0)
        *d = (pl__dur_t) { v * 12, 'M' };
    else
        return -1;
    return 0;
}

int64_t
pl__dur_ms (const pl__dur_t *d)
{
    return d->unit == 's' ? d->n * 1000 : -1;
}

int64_t
pl__add_months (int64_t ms, int64_t months)
{
    int64_t days = pl__floordiv (ms, PL__DAY_MS);
    int64_t rest = ms - days * PL__DAY_MS;
    int32_t y;
    int m, d;
    pl_civil_from_days (days, &y, &m, &d);
    int64_t total = (int64_t) y * 12 + (m - 1) + months;
    int32_t ny = (int32_t) pl__floordiv (total, 12);
    int nm = (int) (total - (int64_t) ny * 12) + 1;
    static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int last = mdays[nm - 1];
    if (nm == 2 && ((ny % 4 == 0 && ny % 100 != 0) || ny % 400 == 0))
        last = 29;
    if (d > last)
        d = last;       /* 31 August + 18 months: the last day of February */
    return pl_days_from_civil (ny, nm, d) * PL__DAY_MS + rest;
}

static int
s_parse_hms (const char *s, int32_t *out)
{
    int h, m, sec = 0, n = 0;
    if (sscanf (s, "%2d:%2d%n", &h, &m, &n) != 2)
        return -1;
    if (s[n] == ':') {
        int n2 = 0;
        if (sscanf (s + n + 1, "%2d%n", &sec, &n2) != 1)
            return -1;
        n += 1 + n2;
    }
    if (s[n] != 0 || h < 0 || h > 24 || m < 0 || m > 59 || sec < 0 || sec > 59)
        return -1;
    if (h == 24 && (m || sec))
        return -1;
    *out = h * 3600 + m * 60 + sec;
    return 0;
}

static int
s_cmp_win (const void *a, const void *b)
{
    return ((const pl__win_t *) a)->lo - ((const pl__win_t *) b)->lo;
}

int
pl__parse_windows (const char *s, pl__win_t *w, uint8_t *n, char *err, size_t errlen)
{
    char buf[512];
    char *words[16];
    size_t nw = pl__split (s, buf, sizeof buf, words, 16);
    if (nw == 0) {
        snprintf (err, errlen, "no window (expected HH:MM-HH:MM …)");
        return -1;
    }
    if (nw > PL__MAXWIN) {
        snprintf (err, errlen, "at most %d windows a day", PL__MAXWIN);
        return -1;
    }
    for (size_t i = 0; i < nw; i++) {
        char *dash = strchr (words[i], '-');
        if (!dash) {
            snprintf (err, errlen, "bad window '%s' (expected HH:MM-HH:MM)", words[i]);
            return -1;
        }
        *dash = 0;
        if (s_parse_hms (words[i], &w[i].lo) != 0 || s_parse_hms (dash + 1, &w[i].hi) != 0
            || w[i].lo >= w[i].hi || w[i].lo >= 86400) {
            *dash = '-';
            snprintf (err, errlen, "bad window '%s' (times 00:00..24:00, start before end)",
                      words[i]);
            return -1;
        }
    }
    qsort (w, nw, sizeof *w, s_cmp_win);
    for (size_t i = 1; i < nw; i++)
        if (w[i].lo < w[i - 1].hi) {
            snprintf (err, errlen, "windows overlap");
            return -1;
        }
    *n = (uint8_t) nw;
    return 0;
}

static const char *const s_days[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };

static int
s_day_index (const char *s)
{
    for (int i = 0; i < 7; i++)
        if (strcmp (s, s_days[i]) == 0)
            return i;
    return -1;
}

int
pl__parse_days (const char *s, uint8_t *mask, char *err, size_t errlen)
{
    char buf[256];
    char *words[16];
    for (size_t i = 0, o = 0; i < sizeof buf - 1; i++) {
        buf[o] = s[i] == ',' ? ' ' : s[i];
        if (!s[i])
            break;
        o++;
    }
    buf[sizeof buf - 1] = 0;
    char buf2[256];
    size_t nw = pl__split (buf, buf2, sizeof buf2, words, 16);
    uint8_t m = 0;
    for (size_t i = 0; i < nw; i++) {
        if (strcmp (words[i], "all") == 0) {
            m = 0x7f;
            continue;
        }
        char *dash = strchr (words[i], '-');
        int a, b;
        if (dash) {
            *dash = 0;
            a = s_day_index (words[i]);
            b = s_day_index (dash + 1);
        }
        else
            a = b = s_day_index (words[i]);
        if (a < 0 || b < 0) {
            snprintf (err, errlen, "bad days '%s' (mon..sun, ranges like mon-fri, or all)", s);
            return -1;
        }
        for (int d = a;; d = (d + 1) % 7) {
            m |= (uint8_t) (1 << d);
            if (d == b)
                break;
        }
    }
    if (!m) {
        snprintf (err, errlen, "no day allowed");
        return -1;
    }
    *mask = m;
    return 0;
}

static int
s_parse_date (const char *s, int64_t *days)
{
    int y, m, d, n = 0;
    if (sscanf (s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || s[n] || m < 1 || m > 12 || d < 1
        || d > 31)
        return -1;
    int64_t v = pl_days_from_civil (y, m, d);
    int32_t yy;
    int mm, dd;
    pl_civil_from_days (v, &yy, &mm, &dd);
    if (mm != m || dd != d)
        return -1;
    *days = v;
    return 0;
}

static int
s_parse_when (const char *s, pl__term_t *t, uint8_t *n, char *err, size_t errlen)
{
    static const struct { const char *name; uint32_t bit; } atoms[] = {
        { "mobile", PL__AT_MOBILE }, { "fixed", PL__AT_FIXED }, { "voip", PL__AT_VOIP },
        { "autodialed", PL__AT_AUTODIALED }, { "prerecorded", PL__AT_PRERECORDED },
        { "manual", PL__AT_MANUAL }, { "agent-guaranteed", PL__AT_AGENT },
    };
    char buf[256];
    char *words[PL__MAXWHEN + 1];
    size_t nw = pl__split (s, buf, sizeof buf, words, PL__MAXWHEN + 1);
    if (nw == 0 || nw > PL__MAXWHEN) {
        snprintf (err, errlen, "expected 1 to %d alternatives like mobile+autodialed",
                  PL__MAXWHEN);
        return -1;
    }
    for (size_t i = 0; i < nw; i++) {
        t[i].need = t[i].forbid = 0;
        char *save = NULL;
        for (char *a = strtok_r (words[i], "+", &save); a; a = strtok_r (NULL, "+", &save)) {
            bool neg = *a == '!';
            if (neg)
                a++;
            uint32_t bit = 0;
            for (size_t k = 0; k < sizeof atoms / sizeof atoms[0]; k++)
                if (strcmp (a, atoms[k].name) == 0)
                    bit = atoms[k].bit;
            if (!bit) {
                snprintf (err, errlen, "unknown condition '%s' (mobile, fixed, voip, "
                          "autodialed, prerecorded, manual, agent-guaranteed; ! negates)", a);
                return -1;
            }
            if (neg)
                t[i].forbid |= bit;
            else
                t[i].need |= bit;
        }
    }
    *n = (uint8_t) nw;
    return 0;
}

static int
s_parse_events (const char *w, uint32_t *ev)
{
    static const struct { const char *a, *b; uint32_t v; } names[] = {
        { "calls", "call", 0 },
        { "conversations", "conversation", PL_RULES_CALL_CONVERSATION },
        { "refusals", "refusal", PL_RULES_CALL_REFUSAL },
        { "abandoned", "abandon", PL_RULES_CALL_ABANDONED },
        { "machine", "machines", PL_RULES_CALL_MACHINE },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp (w, names[i].a) == 0 || strcmp (w, names[i].b) == 0) {
            *ev = names[i].v;
            return 0;
        }
    return -1;
}

static int
s_parse_scope (const char *w, uint32_t *sc)
{
    static const struct { const char *n; uint32_t v; } names[] = {
        { "tenant", PL__SC_TENANT }, { "campaign", PL__SC_CAMPAIGN }, { "debt", PL__SC_DEBT },
        { "subject", PL__SC_SUBJECT }, { "number", PL__SC_NUMBER }, { "person", 0 },
    };
    char buf[128];
    snprintf (buf, sizeof buf, "%s", w);
    uint32_t v = 0;
    char *save = NULL;
    for (char *t = strtok_r (buf, ",", &save); t; t = strtok_r (NULL, ",", &save)) {
        bool ok = false;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (strcmp (t, names[i].n) == 0) {
                v |= names[i].v;
                ok = true;
            }
        if (!ok)
            return -1;
    }
    *sc = v;
    return 0;
}

/* "<N> per <dur> [of <events>] [by <scope>]" */
static int
s_parse_cap (const char *s, pl__clause_t *c, char *err, size_t errlen)
{
    char buf[256];
    char *w[8];
    size_t n = pl__split (s, buf, sizeof buf, w, 8);
    char *end;
    long max = n ? strtol (w[0], &end, 10) : 0;
    pl__dur_t d;
    if (n < 3 || n % 2 == 0 || *end || max < 1 || max > 255 || strcmp (w[1], "per") != 0
        || pl__parse_duration (w[2], &d) != 0 || d.unit != 's' || d.n <= 0) {
        snprintf (err, errlen, "expected '<1..255> per <duration s|min|h|d> [of <events>] "
                  "[by <scope>]'");
        return -1;
    }
    c->u.cap.max = (int32_t) max;
    c->u.cap.max_prior = (int32_t) max - 1;
    c->u.cap.window_ms = d.n * 1000;
    for (size_t i = 3; i + 1 < n; i += 2) {
        if (strcmp (w[i], "of") == 0 && s_parse_events (w[i + 1], &c->u.cap.events) == 0)
            continue;
        if (strcmp (w[i], "by") == 0 && s_parse_scope (w[i + 1], &c->u.cap.scope) == 0)
            continue;
        snprintf (err, errlen, "bad '%s %s' (of calls|conversations|refusals|abandoned|machine;"
                  " by tenant,campaign,debt,subject,number|person)", w[i], w[i + 1]);
        return -1;
    }
    return 0;
}

/* "<event> <dur>|same-day [by <scope>]" */
static int
s_parse_after (const char *s, pl__clause_t *c, char *err, size_t errlen)
{
    char buf[256];
    char *w[6];
    size_t n = pl__split (s, buf, sizeof buf, w, 6);
    if ((n != 2 && n != 4) || s_parse_events (w[0], &c->u.cap.events) != 0
        || c->u.cap.events == 0) {
        snprintf (err, errlen, "expected '<conversation|refusal|abandoned|machine> "
                  "<duration>|same-day [by <scope>]'");
        return -1;
    }
    c->u.cap.is_after = true;
    c->u.cap.max = 1;
    c->u.cap.max_prior = 0;
    if (strcmp (w[1], "same-day") == 0)
        c->u.cap.same_day = true;
    else {
        pl__dur_t d;
        if (pl__parse_duration (w[1], &d) != 0 || d.unit != 's' || d.n <= 0) {
            snprintf (err, errlen, "bad duration '%s' (s, min, h or d, or same-day)", w[1]);
            return -1;
        }
        c->u.cap.window_ms = d.n * 1000;
    }
    if (n == 4 && (strcmp (w[2], "by") != 0 || s_parse_scope (w[3], &c->u.cap.scope) != 0)) {
        snprintf (err, errlen, "bad scope '%s %s' (by tenant,campaign,debt,subject,number)", w[2],
                  w[3]);
        return -1;
    }
    return 0;
}

static int
s_parse_names (const char *s, char (*names)[PL__NAMELEN], uint8_t *n, size_t max,
               const char *extra, char *err, size_t errlen)
{
    char buf[512];
    char *w[32];
    size_t nw = pl__split (s, buf, sizeof buf, w, 32);
    if (nw == 0 || nw > max) {
        snprintf (err, errlen, "expected 1 to %zu names", max);
        return -1;
    }
    for (size_t i = 0; i < nw; i++) {
        if (!s_word_ok (w[i], extra) || strlen (w[i]) >= PL__NAMELEN) {
            snprintf (err, errlen, "bad name '%s'", w[i]);
            return -1;
        }
        snprintf (names[i], PL__NAMELEN, "%s", w[i]);
    }
    *n = (uint8_t) nw;
    return 0;
}

static int
s_parse_prefixes (const char *s, char (*out)[16], uint8_t *n, char *err, size_t errlen)
{
    char buf[1024];
    char *w[PL__MAXPREFIX + 1];
    size_t nw = pl__split (s, buf, sizeof buf, w, PL__MAXPREFIX + 1);
    if (nw == 0 || nw > PL__MAXPREFIX) {
        snprintf (err, errlen, "expected 1 to %d E.164 prefixes (+33162 …)", PL__MAXPREFIX);
        return -1;
    }
    for (size_t i = 0; i < nw; i++) {
        size_t l = strlen (w[i]);
        bool ok = w[i][0] == '+' && l >= 2 && l < 16;
        for (size_t k = 1; ok && k < l; k++)
            ok = isdigit ((unsigned char) w[i][k]);
        if (!ok) {
            snprintf (err, errlen, "bad prefix '%s' (expected + and digits)", w[i]);
            return -1;
        }
        snprintf (out[i], 16, "%s", w[i]);
    }
    *n = (uint8_t) nw;
    return 0;
}

/* "3%" or "2.5%" -> parts per million. */
static int
s_parse_rate (const char *s, uint32_t *ppm)
{
    char *end;
    double v = strtod (s, &end);
    if (end == s || strcmp (end, "%") != 0 || v < 0 || v > 100)
        return -1;
    *ppm = (uint32_t) (v * 10000.0 + 0.5);
    return 0;
}

static int
s_yes_no (const char *s, bool *v)
{
    if (strcmp (s, "yes") == 0)
        *v = true;
    else if (strcmp (s, "no") == 0)
        *v = false;
    else
        return -1;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The keys of a rule                                                                           */

typedef enum { K_META, K_CAL, K_CAP, K_CONSENT, K_LIST, K_CLI, K_SECTOR, K_LETTER, K_REQ,
               K_EXEMPT, K_REASSIGN, K_REVOKE, K_OPTOUT, K_CALLEE, K_INFO } s_kgroup_t;

static const struct {
    const char *key;
    s_kgroup_t group;
    bool multi;
} s_keys[] = {
    { "source", K_META, false }, { "summary", K_META, false }, { "status", K_META, false },
    { "when", K_META, false }, { "from", K_META, false }, { "until", K_META, false },
    { "exempt-by", K_META, false }, { "note", K_META, true }, { "basis", K_META, false },
    { "hours", K_CAL, false }, { "hours.mon", K_CAL, false }, { "hours.tue", K_CAL, false },
    { "hours.wed", K_CAL, false }, { "hours.thu", K_CAL, false }, { "hours.fri", K_CAL, false },
    { "hours.sat", K_CAL, false }, { "hours.sun", K_CAL, false }, { "days", K_CAL, false },
    { "holidays", K_CAL, false },
    { "cap", K_CAP, true }, { "after", K_CAP, true },
    { "consent", K_CONSENT, false },
    { "list", K_LIST, false }, { "max-age", K_LIST, false }, { "required", K_LIST, false },
    { "cli", K_CLI, false }, { "cli-allow", K_CLI, false }, { "cli-forbid", K_CLI, false },
    { "sectors-banned", K_SECTOR, false },
    { "letter", K_LETTER, false },
    { "requests", K_REQ, false },
    { "exemption", K_EXEMPT, false }, { "purchase", K_EXEMPT, false },
    { "inquiry", K_EXEMPT, false }, { "overridden-by", K_EXEMPT, false },
    { "reassigned", K_REASSIGN, false }, { "disconnect-min", K_INFO, false },
    { "revoke", K_REVOKE, false }, { "optout", K_OPTOUT, false },
    { "callee", K_CALLEE, false }, { "lifts", K_CALLEE, false }, { "except-sector", K_CALLEE, false },
    { "max-rate", K_INFO, false }, { "period", K_INFO, false }, { "agent-within", K_INFO, false },
    { "ring-at-least", K_INFO, false }, { "message", K_INFO, false },
    { "honour-within", K_INFO, false }, { "retain", K_INFO, false }, { "report", K_INFO, false },
};

static int
s_key_index (const char *key)
{
    for (size_t i = 0; i < sizeof s_keys / sizeof s_keys[0]; i++)
        if (strcmp (s_keys[i].key, key) == 0)
            return (int) i;
    return -1;
}

bool
pl__key_known (const char *key, bool *per_call)
{
    int i = s_key_index (key);
    if (i < 0)
        return false;
    if (per_call)
        *per_call = s_keys[i].group != K_META && s_keys[i].group != K_INFO;
    return true;
}

static const pl__param_t *
s_get (const pl__param_t *p, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp (p[i].key, key) == 0)
            return &p[i];
    return NULL;
}

static pl__clause_t *
s_push (pl__clause_t **out, size_t *n, size_t *cap, const pl__clause_t *tmpl)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        pl__clause_t *nb = realloc (*out, nc * sizeof *nb);
        if (!nb)
            return NULL;
        *out = nb;
        *cap = nc;
    }
    (*out)[*n] = *tmpl;
    return &(*out)[(*n)++];
}

/* Checks one value on its own (used for every key, including info keys). */
/* A clause whose key takes one fixed word ("letter = required", "revoke = honour") and that
 * only states what the rule keeps (`what`). 1 when pushed, 0 when the key is absent, -1 after
 * an error in e. */
static int
s_word_clause (const pl__param_t *p, size_t n, const char *key, const char *word, uint8_t kind,
               const char *what, const pl__clause_t *base, pl__arena_t *arena,
               pl__clause_t **out, size_t *n_out, size_t *cap_out, pl__err_t *e)
{
    const pl__param_t *q = s_get (p, n, key);
    if (!q)
        return 0;
    if (strcmp (q->value, word) != 0) {
        s_err (e, q->line, q->key, "expected %s", word);
        return -1;
    }
    pl__clause_t c = *base;
    c.kind = kind;
    c.key = key;
    c.value = pl__arena_strdup (arena, what);
    if (!s_push (out, n_out, cap_out, &c)) {
        s_err (e, 0, "", "out of memory");
        return -1;
    }
    return 1;
}

static int
s_check_info (const pl__param_t *p, pl__err_t *e)
{
    pl__dur_t d;
    uint32_t ppm;
    const char *k = p->key, *v = p->value;
    if (strcmp (k, "max-rate") == 0 && s_parse_rate (v, &ppm) != 0)
        s_err (e, p->line, p->key, "bad rate '%s' (expected a percentage like 3%%)", v);
    else if (strcmp (k, "period") == 0 && strcmp (v, "day") != 0
             && (pl__parse_duration (v, &d) != 0 || d.unit != 's' || d.n <= 0))
        s_err (e, p->line, p->key, "bad period '%s' (a duration, or day for midnight to "
               "midnight)", v);
    else if ((strcmp (k, "agent-within") == 0 || strcmp (k, "ring-at-least") == 0
              || strcmp (k, "disconnect-min") == 0 || strcmp (k, "honour-within") == 0
              || strcmp (k, "retain") == 0)
             && pl__parse_duration (v, &d) != 0)
        s_err (e, p->line, p->key, "bad duration '%s' (e.g. 2s, 45d, 10bd, 18mo, 5y)", v);
    else if (strcmp (k, "message") == 0 && strcmp (v, "required") != 0 && strcmp (v, "none") != 0)
        s_err (e, p->line, p->key, "expected required or none");
    else if (strcmp (k, "status") == 0 && strcmp (v, "confirmed") != 0
             && strcmp (v, "unconfirmed") != 0)
        s_err (e, p->line, p->key, "expected confirmed or unconfirmed");
    else if (strcmp (k, "basis") == 0 && strcmp (v, "law") != 0 && strcmp (v, "policy") != 0)
        s_err (e, p->line, p->key, "expected law or policy");
    else if ((strcmp (k, "source") == 0 || strcmp (k, "summary") == 0) && !*v)
        s_err (e, p->line, p->key, "empty value");
    else
        return 0;
    return -1;
}

static const pl_rules_calendar_t *
s_find_calendar (const pl_rules_profiles_t *ps, const char *id)
{
    for (size_t i = 0; i < ps->n_calendars; i++)
        if (strcmp (ps->calendars[i]->id, id) == 0)
            return ps->calendars[i];
    return NULL;
}

/* The sector names of q (sectors-banned, except-sector): 0, or -1 with e set. */
static int
s_sectors (const pl__param_t *q, char names[PL__MAXSECTOR][32], uint8_t *n, pl__err_t *e)
{
    char buf[512];
    char *w[PL__MAXSECTOR + 1];
    size_t nw = pl__split (q->value, buf, sizeof buf, w, PL__MAXSECTOR + 1);
    if (nw == 0 || nw > PL__MAXSECTOR) {
        s_err (e, q->line, q->key, "expected 1 to %d sectors", PL__MAXSECTOR);
        return -1;
    }
    for (size_t i = 0; i < nw; i++) {
        if (!s_word_ok (w[i], "-") || strlen (w[i]) >= 32) {
            s_err (e, q->line, q->key, "bad sector '%s'", w[i]);
            return -1;
        }
        snprintf (names[i], 32, "%s", w[i]);
    }
    *n = (uint8_t) nw;
    return 0;
}

int
pl__rule_compile (const pl_rules_profiles_t *ps, const char *rule_id, int rule_line,
                  const pl__param_t *p, size_t n, const uint64_t *regions, size_t n_regions,
                  pl__arena_t *arena, pl__clause_t **out, size_t *n_out, size_t *cap_out,
                  pl__err_t *e)
{
    char emsg[PL__ERRLEN];
    pl__clause_t base;
    memset (&base, 0, sizeof base);
    base.rule_id = pl__arena_strdup (arena, rule_id);
    base.from_day = INT64_MIN;
    base.until_day = INT64_MAX;
    for (size_t i = 0; i < n_regions && i < PL__MAXREGIONS; i++)
        base.regions[base.n_regions++] = regions[i];

    /* Known keys, no duplicates of single-valued keys, every value valid on its own. */
    for (size_t i = 0; i < n; i++) {
        int ki = s_key_index (p[i].key);
        if (ki < 0) {
            s_err (e, p[i].line, p[i].key, "unknown key");
            return -1;
        }
        if (!s_keys[ki].multi)
            for (size_t j = 0; j < i; j++)
                if (strcmp (p[j].key, p[i].key) == 0) {
                    s_err (e, p[i].line, p[i].key, "given twice (first on line %d)", p[j].line);
                    return -1;
                }
        if (s_check_info (&p[i], e) != 0)
            return -1;
    }

    const pl__param_t *q;
    if (!(q = s_get (p, n, "source"))) {
        s_err (e, rule_line, "source", "every rule needs its legal source");
        return -1;
    }
    base.source = pl__arena_strdup (arena, q->value);
    if ((q = s_get (p, n, "status")))
        base.unconfirmed = strcmp (q->value, "unconfirmed") == 0;
    if ((q = s_get (p, n, "basis")))
        base.policy = strcmp (q->value, "policy") == 0;
    if ((q = s_get (p, n, "when"))
        && s_parse_when (q->value, base.when, &base.n_when, emsg, sizeof emsg) != 0) {
        s_err (e, q->line, q->key, "%s", emsg);
        return -1;
    }
    /* `callee` without `lifts`: a check for those callee types only (a house window for calls
     * to businesses, which the consumer windows do not bind). */
    const pl__param_t *only = s_get (p, n, "callee");
    if (only && !s_get (p, n, "lifts") && !s_get (p, n, "except-sector")) {
        unsigned m;
        if (pl__callees_mask (only->value, &m, emsg, sizeof emsg) != 0) {
            s_err (e, only->line, only->key, "%s", emsg);
            return -1;
        }
        base.only_callees = (uint8_t) m;
    }
    if ((q = s_get (p, n, "from")) && s_parse_date (q->value, &base.from_day) != 0) {
        s_err (e, q->line, q->key, "bad date '%s' (YYYY-MM-DD)", q->value);
        return -1;
    }
    if ((q = s_get (p, n, "until")) && s_parse_date (q->value, &base.until_day) != 0) {
        s_err (e, q->line, q->key, "bad date '%s' (YYYY-MM-DD)", q->value);
        return -1;
    }
    base.dated = base.from_day != INT64_MIN || base.until_day != INT64_MAX;
    if (base.until_day < base.from_day) {
        s_err (e, q->line, q->key, "until is before from");
        return -1;
    }
    if ((q = s_get (p, n, "exempt-by"))) {
        char buf[256];
        char *w[PL__MAXEXEMPT + 1];
        size_t nw = pl__split (q->value, buf, sizeof buf, w, PL__MAXEXEMPT + 1);
        if (nw == 0 || nw > PL__MAXEXEMPT) {
            s_err (e, q->line, q->key, "expected 1 to %d exemption rule ids", PL__MAXEXEMPT);
            return -1;
        }
        for (size_t i = 0; i < nw; i++) {
            if (strcmp (w[i], "consent") != 0 && strcmp (w[i], "written-consent") != 0
                && !s_rule_id_ok (w[i])) {
                s_err (e, q->line, q->key, "'%s' is neither a rule id nor consent / "
                       "written-consent", w[i]);
                return -1;
            }
            snprintf (base.exempt_names[i], PL__NAMELEN, "%s", w[i]);
        }
        base.n_exempt = (uint8_t) nw;
    }

    size_t start = *n_out;
    bool any = false;
    int rc;

    /* Calendar: hours, hours.<day>, days, holidays. */
    const pl__param_t *hours = s_get (p, n, "hours"), *days = s_get (p, n, "days"),
                      *hol = s_get (p, n, "holidays");
    bool per_day = false;
    for (int d = 0; d < 7; d++) {
        char k[16];
        snprintf (k, sizeof k, "hours.%s", s_days[d]);
        per_day |= s_get (p, n, k) != NULL;
    }
    if (hours || days || hol || per_day) {
        pl__clause_t c = base;
        c.kind = PL__CL_CALENDAR;
        pl__win_t bw[PL__MAXWIN] = { { 0, 86400 } };
        uint8_t bn = 1;
        if (hours && pl__parse_windows (hours->value, bw, &bn, emsg, sizeof emsg) != 0) {
            s_err (e, hours->line, hours->key, "%s", emsg);
            return -1;
        }
        uint8_t mask = 0x7f;
        if (days && pl__parse_days (days->value, &mask, emsg, sizeof emsg) != 0) {
            s_err (e, days->line, days->key, "%s", emsg);
            return -1;
        }
        char disp[512] = "";
        size_t dl = 0;
        if (hours)
            dl += (size_t) snprintf (disp + dl, sizeof disp - dl, "%s", hours->value);
        for (int d = 0; d < 7; d++) {
            char k[16];
            snprintf (k, sizeof k, "hours.%s", s_days[d]);
            const pl__param_t *hd = s_get (p, n, k);
            if (hd) {
                if (!(mask & (1 << d))) {
                    s_err (e, hd->line, hd->key, "hours given for a day that 'days' excludes");
                    return -1;
                }
                if (pl__parse_windows (hd->value, c.u.cal.win[d], &c.u.cal.nwin[d], emsg,
                                       sizeof emsg) != 0) {
                    s_err (e, hd->line, hd->key, "%s", emsg);
                    return -1;
                }
                if (dl < sizeof disp)
                    dl += (size_t) snprintf (disp + dl, sizeof disp - dl, "%s%s %s",
                                             dl ? "; " : "", s_days[d], hd->value);
            }
            else if (mask & (1 << d)) {
                memcpy (c.u.cal.win[d], bw, sizeof bw);
                c.u.cal.nwin[d] = bn;
            }
            else
                c.u.cal.nwin[d] = 0;
        }
        if (days && dl < sizeof disp)
            dl += (size_t) snprintf (disp + dl, sizeof disp - dl, "%s%s", dl ? "; " : "",
                                     days->value);
        if (hol) {
            char buf[256];
            char *w[PL__MAXCAL + 1];
            size_t nw = pl__split (hol->value, buf, sizeof buf, w, PL__MAXCAL + 1);
            if (nw == 0 || nw > PL__MAXCAL) {
                s_err (e, hol->line, hol->key, "expected 1 to %d calendar ids", PL__MAXCAL);
                return -1;
            }
            for (size_t i = 0; i < nw; i++) {
                const pl_rules_calendar_t *cal = s_find_calendar (ps, w[i]);
                if (!cal) {
                    s_err (e, hol->line, hol->key, "no holiday calendar '%s' is loaded", w[i]);
                    return -1;
                }
                c.u.cal.cal[c.u.cal.ncal++] = cal;
            }
            if (dl < sizeof disp)
                dl += (size_t) snprintf (disp + dl, sizeof disp - dl, "%snot on holidays (%s)",
                                         dl ? "; " : "", hol->value);
        }
        c.u.cal.has_hours = hours || per_day;
        c.key = c.u.cal.has_hours ? "hours" : "days";
        c.value = pl__arena_strdup (arena, disp);
        if (!s_push (out, n_out, cap_out, &c))
            goto oom;
        any = true;
    }

    /* Caps and cool-downs. */
    for (size_t i = 0; i < n; i++) {
        bool cap = strcmp (p[i].key, "cap") == 0, after = strcmp (p[i].key, "after") == 0;
        if (!cap && !after)
            continue;
        pl__clause_t c = base;
        c.kind = PL__CL_CAP;
        c.key = cap ? "cap" : "after";
        int rc = cap ? s_parse_cap (p[i].value, &c, emsg, sizeof emsg)
                     : s_parse_after (p[i].value, &c, emsg, sizeof emsg);
        if (rc != 0) {
            s_err (e, p[i].line, p[i].key, "%s", emsg);
            return -1;
        }
        c.value = pl__arena_strdup (arena, p[i].value);
        if (!s_push (out, n_out, cap_out, &c))
            goto oom;
        any = true;
    }

    if ((q = s_get (p, n, "consent"))) {
        pl__clause_t c = base;
        c.kind = PL__CL_CONSENT;
        c.key = "consent";
        if (strcmp (q->value, "required") == 0)
            c.u.consent.mode = PL__CONSENT_REQUIRED;
        else if (strcmp (q->value, "written-for-number") == 0)
            c.u.consent.mode = PL__CONSENT_WRITTEN_NUMBER;
        else {
            s_err (e, q->line, q->key, "expected required or written-for-number");
            return -1;
        }
        c.value = pl__arena_strdup (arena, q->value);
        if (!s_push (out, n_out, cap_out, &c))
            goto oom;
        any = true;
    }

    const pl__param_t *list = s_get (p, n, "list"), *age = s_get (p, n, "max-age"),
                      *req = s_get (p, n, "required");
    if (!list && (age || req)) {
        q = age ? age : req;
        s_err (e, q->line, q->key, "needs a 'list' key in the same rule");
        return -1;
    }
    if (list) {
        pl__clause_t c = base;
        c.kind = PL__CL_LIST;
        c.key = "list";
        c.u.list.required = true;
        if (s_parse_names (list->value, c.u.list.names, &c.u.list.n, PL__MAXLIST, "-", emsg,
                           sizeof emsg) != 0) {
            s_err (e, list->line, list->key, "%s", emsg);
            return -1;
        }
        if (age) {
            pl__dur_t d;
            /* Ages count calendar dates (a copy of 28 April serves calls through 29 May under
             * a 31-day limit), so only whole days make sense. */
            size_t al = strlen (age->value);
            if (pl__parse_duration (age->value, &d) != 0 || d.unit != 's' || d.n <= 0
                || al < 2 || age->value[al - 1] != 'd'
                || !isdigit ((unsigned char) age->value[al - 2])) {
                s_err (e, age->line, age->key, "bad duration '%s' (whole days, e.g. 31d: list "
                       "ages count calendar dates)", age->value);
                return -1;
            }
            c.u.list.max_age_ms = d.n * 1000;
            c.u.list.max_age_days = (int32_t) (d.n / PL__DAY_S);
        }
        if (req && s_yes_no (req->value, &c.u.list.required) != 0) {
            s_err (e, req->line, req->key, "expected yes or no");
            return -1;
        }
        char disp[256];
        snprintf (disp, sizeof disp, "%s%s%s%s", list->value, age ? "; max age " : "",
                  age ? age->value : "", c.u.list.required ? "" : "; if screened");
        c.value = pl__arena_strdup (arena, disp);
        if (!s_push (out, n_out, cap_out, &c))
            goto oom;
        any = true;
    }

    const pl__param_t *cli = s_get (p, n, "cli"), *allow = s_get (p, n, "cli-allow"),
                      *forbid = s_get (p, n, "cli-forbid");
    if (cli || allow || forbid) {
        pl__clause_t c = base;
        c.kind = PL__CL_CLI;
        c.key = "cli";
        if (cli) {
            if (strcmp (cli->value, "valid") != 0) {
                s_err (e, cli->line, cli->key, "expected valid");
                return -1;
            }
            c.u.cli.valid = true;
        }
        if (allow && s_parse_prefixes (allow->value, c.u.cli.allow, &c.u.cli.nallow, emsg,
                                       sizeof emsg) != 0) {
            s_err (e, allow->line, allow->key, "%s", emsg);
            return -1;
        }
        if (forbid && s_parse_prefixes (forbid->value, c.u.cli.forbid, &c.u.cli.nforbid, emsg,
                                        sizeof emsg) != 0) {
            s_err (e, forbid->line, forbid->key, "%s", emsg);
            return -1;
        }
        char disp[768];
        snprintf (disp, sizeof disp, "%s%s%s%s%s", cli ? "valid caller id" : "",
                  allow ? (cli ? "; from " : "from ") : "", allow ? allow->value : "",
                  forbid ? "; never " : "", forbid ? forbid->value : "");
        c.value = pl__arena_strdup (arena, disp);
        if (!s_push (out, n_out, cap_out, &c))
            goto oom;
        any = true;
    }

    if ((q = s_get (p, n, "sectors-banned"))) {
        pl__clause_t c = base;
        c.kind = PL__CL_SECTOR;
        c.key = "sectors-banned";
        if (s_sectors (q, c.u.sector.names, &c.u.sector.n, e) != 0)
            return -1;
        c.value = pl__arena_strdup (arena, q->value);
        if (!s_push (out, n_out, cap_out, &c))
            goto oom;
        any = true;
    }

    /* Callee: the rules of this profile that do not apply to the callee types named (fr.b2b:
     * the consumer code's canvassing rules are not a business's), unless the campaign's sector
     * is one of except-sector. */
    const pl__param_t *lifts = s_get (p, n, "lifts"), *exc = s_get (p, n, "except-sector");
    if (lifts || exc) {
        q = s_get (p, n, "callee");
        if (!q || !lifts) {
            s_err (e, q ? q->line : (lifts ? lifts : exc)->line, q ? "lifts" : "callee",
                   "a callee rule needs both callee and lifts");
            return -1;
        }
        pl__clause_t c = base;
        c.kind = PL__CL_CALLEE;
        c.key = "callee";
        unsigned m;
        if (pl__callees_mask (q->value, &m, emsg, sizeof emsg) != 0) {
            s_err (e, q->line, q->key, "%s", emsg);
            return -1;
        }
        if (m & PL_RULES_CALLEE_BIT (PL_RULES_CALLEE_CONSUMER)) {
            s_err (e, q->line, q->key, "a callee rule's callee is not business or sole-trader (consumer "
                   "rules are never lifted for consumers)");
            return -1;
        }
        c.u.callee.callees = (uint8_t) m;
        char buf[512];
        char *w[PL__MAXLIFT + 1];
        size_t nw = pl__split (lifts->value, buf, sizeof buf, w, PL__MAXLIFT + 1);
        if (nw == 0 || nw > PL__MAXLIFT) {
            s_err (e, lifts->line, lifts->key, "expected 1 to %d rule ids", PL__MAXLIFT);
            return -1;
        }
        for (size_t i = 0; i < nw; i++) {
            if (!s_rule_id_ok (w[i]) || strlen (w[i]) >= PL__NAMELEN) {
                s_err (e, lifts->line, lifts->key, "'%s' is not a rule id", w[i]);
                return -1;
            }
            snprintf (c.u.callee.lifts[i], PL__NAMELEN, "%s", w[i]);
        }
        c.u.callee.n_lifts = (uint8_t) nw;
        if (exc && s_sectors (exc, c.u.callee.except, &c.u.callee.n_except, e) != 0)
            return -1;
        char disp[600];
        snprintf (disp, sizeof disp, "not %s for %s callees%s%s", lifts->value, q->value,
                  exc ? "; except for sector " : "", exc ? exc->value : "");
        c.value = pl__arena_strdup (arena, disp);
        if (!s_push (out, n_out, cap_out, &c))
            goto oom;
        any = true;
    }

    if ((rc = s_word_clause (p, n, "letter", "required", PL__CL_LETTER,
                             "first letter's reference and date", &base, arena, out, n_out, cap_out,
                             e)) < 0)
        return -1;
    any |= rc > 0;

    if ((rc = s_word_clause (p, n, "requests", "honour", PL__CL_REQUESTS,
                             "times the person asked for", &base, arena, out, n_out, cap_out,
                             e)) < 0)
        return -1;
    any |= rc > 0;

    if ((q = s_get (p, n, "optout"))) {
        static const struct { const char *name; uint8_t kind; } kinds[] = {
            { "cease", PL_RULES_OPTOUT_CEASE }, { "refuse-to-pay", PL_RULES_OPTOUT_REFUSE_PAY },
            { "medium", PL_RULES_OPTOUT_MEDIUM },
        };
        pl__clause_t c = base;
        c.kind = PL__CL_OPTOUT;
        c.key = "optout";
        char buf[256];
        char *w[4];
        size_t nw = pl__split (q->value, buf, sizeof buf, w, 4);
        if (nw == 0 || nw > 3) {
            s_err (e, q->line, q->key, "expected 1 to 3 of cease, refuse-to-pay, medium");
            return -1;
        }
        for (size_t i = 0; i < nw; i++) {
            size_t k = 0;
            while (k < 3 && strcmp (w[i], kinds[k].name) != 0)
                k++;
            if (k == 3) {
                s_err (e, q->line, q->key, "unknown request '%s' (cease, refuse-to-pay, medium)",
                       w[i]);
                return -1;
            }
            c.u.optout.kinds |= (uint8_t) (1u << kinds[k].kind);
        }
        c.value = pl__arena_strdup (arena, q->value);
        if (!s_push (out, n_out, cap_out, &c))
            goto oom;
        any = true;
    }

    const pl__param_t *ex = s_get (p, n, "exemption");
    const pl__param_t *pur = s_get (p, n, "purchase"), *inq = s_get (p, n, "inquiry"),
                      *ovr = s_get (p, n, "overridden-by");
    if (!ex && (pur || inq || ovr)) {
        q = pur ? pur : inq ? inq : ovr;
        s_err (e, q->line, q->key, "needs an 'exemption' key in the same rule");
        return -1;
    }
    if (ex) {
        pl__clause_t c = base;
        c.kind = PL__CL_EXEMPTION;
        c.key = "exemption";
        if (base.n_exempt) {
            q = s_get (p, n, "exempt-by");
            s_err (e, q->line, q->key, "an exemption rule cannot itself be exempted");
            return -1;
        }
        if (strcmp (ex->value, "contract") == 0)
            c.u.ex.type = PL__EXT_CONTRACT;
        else if (strcmp (ex->value, "ebr") == 0)
            c.u.ex.type = PL__EXT_EBR;
        else if (strcmp (ex->value, "consent") == 0)
            c.u.ex.type = PL__EXT_CONSENT;
        else {
            s_err (e, ex->line, ex->key, "expected contract, ebr or consent");
            return -1;
        }
        if (c.u.ex.type == PL__EXT_EBR) {
            if (!pur || !inq) {
                s_err (e, ex->line, ex->key, "an ebr exemption needs purchase and inquiry");
                return -1;
            }
            if (pl__parse_duration (pur->value, &c.u.ex.purchase) != 0
                || c.u.ex.purchase.unit == 'b') {
                s_err (e, pur->line, pur->key, "bad duration '%s' (d, mo, y)", pur->value);
                return -1;
            }
            if (pl__parse_duration (inq->value, &c.u.ex.inquiry) != 0
                || c.u.ex.inquiry.unit == 'b') {
                s_err (e, inq->line, inq->key, "bad duration '%s' (d, mo, y)", inq->value);
                return -1;
            }
        }
        else if (pur || inq) {
            q = pur ? pur : inq;
            s_err (e, q->line, q->key, "only an ebr exemption has purchase / inquiry");
            return -1;
        }
        if (ovr && s_parse_names (ovr->value, c.u.ex.over, &c.u.ex.n_over, PL__MAXLIST, "-",
                                  emsg, sizeof emsg) != 0) {
            s_err (e, ovr->line, ovr->key, "%s", emsg);
            return -1;
        }
        char disp[256];
        if (c.u.ex.type == PL__EXT_EBR)
            snprintf (disp, sizeof disp, "purchase %s, inquiry %s%s%s", pur->value, inq->value,
                      ovr ? "; not after a request on " : "", ovr ? ovr->value : "");
        else
            snprintf (disp, sizeof disp, "%s", ex->value);
        c.value = pl__arena_strdup (arena, disp);
        if (!s_push (out, n_out, cap_out, &c))
            goto oom;
        any = true;
    }

    if ((q = s_get (p, n, "reassigned"))) {
        pl__clause_t c = base;
        c.kind = PL__CL_REASSIGNED;
        c.key = "reassigned";
        uint8_t one;
        char names[1][PL__NAMELEN];
        if (s_parse_names (q->value, names, &one, 1, "-", emsg, sizeof emsg) != 0) {
            s_err (e, q->line, q->key, "%s", emsg);
            return -1;
        }
        snprintf (c.u.re.list, PL__NAMELEN, "%s", names[0]);
        c.value = pl__arena_strdup (arena, q->value);
        if (!s_push (out, n_out, cap_out, &c))
            goto oom;
        any = true;
    }

    if ((rc = s_word_clause (p, n, "revoke", "honour", PL__CL_REVOKE,
                             "revocation by any reasonable means", &base, arena, out, n_out, cap_out,
                             e)) < 0)
        return -1;
    any |= rc > 0;

    if (!any && (base.n_exempt || base.n_when || base.only_callees)) {
        q = s_get (p, n, base.n_exempt ? "exempt-by" : base.n_when ? "when" : "callee");
        s_err (e, q->line, q->key, "only meaningful on a rule that checks something");
        return -1;
    }
    for (size_t i = start; i < *n_out; i++)
        if (!(*out)[i].value || !(*out)[i].rule_id || !(*out)[i].source)
            goto oom;
    return 0;
oom:
    s_err (e, 0, "", "out of memory");
    return -1;
}

int
pl__clauses_link (pl__clause_t *cl, size_t n, pl__err_t *e)
{
    for (size_t i = 0; i < n; i++)
        cl[i].n_lifted_by = 0;
    /* Callee rules: each rule they lift learns by whom (every clause of that rule). */
    for (size_t j = 0; j < n; j++) {
        if (cl[j].kind != PL__CL_CALLEE)
            continue;
        for (size_t k = 0; k < cl[j].u.callee.n_lifts; k++) {
            const char *name = cl[j].u.callee.lifts[k];
            bool found = false;
            for (size_t i = 0; i < n; i++) {
                if (strcmp (cl[i].rule_id, name) != 0)
                    continue;
                found = true;
                if (cl[i].kind == PL__CL_CALLEE || cl[i].n_lifted_by >= PL__MAXLIFTBY) {
                    s_err (e, 0, "lifts", "rule %s cannot be lifted by %s (a callee rule, or "
                           "lifted by %d rules already)", name, cl[j].rule_id, PL__MAXLIFTBY);
                    return -1;
                }
                cl[i].lifted_by[cl[i].n_lifted_by++] = (int16_t) j;
            }
            if (!found) {
                s_err (e, 0, "lifts", "rule %s lifts %s, which is not a rule of this profile",
                       cl[j].rule_id, name);
                return -1;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        cl[i].exempt_builtin = 0;
        for (size_t k = 0; k < cl[i].n_exempt; k++) {
            const char *name = cl[i].exempt_names[k];
            cl[i].exempt[k] = -1;
            if (strcmp (name, "consent") == 0) {
                cl[i].exempt_builtin |= PL__EX_CONSENT;
                continue;
            }
            if (strcmp (name, "written-consent") == 0) {
                cl[i].exempt_builtin |= PL__EX_WRITTEN;
                continue;
            }
            for (size_t j = 0; j < n; j++)
                if (cl[j].kind == PL__CL_EXEMPTION && strcmp (cl[j].rule_id, name) == 0)
                    cl[i].exempt[k] = (int16_t) j;
            if (cl[i].exempt[k] < 0) {
                s_err (e, 0, "exempt-by", "rule %s is exempted by %s, which is not an "
                       "exemption rule of this profile", cl[i].rule_id, name);
                return -1;
            }
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Text -> sections                                                                             */

static void
s_params_free (pl__param_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free (p[i].key);
        free (p[i].value);
    }
    free (p);
}

void
pl__doc_free (pl__doc_t *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free (d->s[i].type);
        free (d->s[i].arg);
        s_params_free (d->s[i].p, d->s[i].n);
    }
    free (d->s);
    free (d->file);
    memset (d, 0, sizeof *d);
}

static int
s_param_add (pl__param_t **p, size_t *n, size_t *cap, const char *key, const char *value,
             int line)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        pl__param_t *np = realloc (*p, nc * sizeof *np);
        if (!np)
            return -1;
        *p = np;
        *cap = nc;
    }
    (*p)[*n].key = strdup (key);
    (*p)[*n].value = strdup (value);
    (*p)[*n].line = line;
    if (!(*p)[*n].key || !(*p)[*n].value) {
        free ((*p)[*n].key);
        free ((*p)[*n].value);
        return -1;
    }
    (*n)++;
    return 0;
}

static char *
s_trim (char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t l = strlen (s);
    while (l && (s[l - 1] == ' ' || s[l - 1] == '\t' || s[l - 1] == '\r' || s[l - 1] == '\n'))
        s[--l] = 0;
    return s;
}

/* Parses text into sections; syntax errors only. */
int
pl__doc_parse (const char *origin, const char *text, pl__doc_t *doc, pl__err_t *e)
{
    memset (doc, 0, sizeof *doc);
    doc->file = strdup (origin);
    e->file = origin;
    if (!doc->file) {
        s_err (e, 0, "", "out of memory");
        return -1;
    }
    if (strlen (text) > S_MAX_TEXT) {
        s_err (e, 0, "", "file larger than %d bytes", S_MAX_TEXT);
        goto fail;
    }
    const char *p = text;
    int line = 0;
    char buf[2048];
    while (*p) {
        line++;
        const char *nl = strchr (p, '\n');
        size_t len = nl ? (size_t) (nl - p) : strlen (p);
        if (len >= sizeof buf) {
            s_err (e, line, "", "line longer than %zu characters", sizeof buf - 1);
            goto fail;
        }
        memcpy (buf, p, len);
        buf[len] = 0;
        p = nl ? nl + 1 : p + len;
        /* Strip a comment: '#' at the start or after blank, outside quotes. */
        bool inq = false;
        for (char *c = buf; *c; c++) {
            if (*c == '"')
                inq = !inq;
            else if (*c == '#' && !inq && (c == buf || c[-1] == ' ' || c[-1] == '\t')) {
                *c = 0;
                break;
            }
        }
        char *s = s_trim (buf);
        if (!*s)
            continue;
        if (*s == '[') {
            size_t l = strlen (s);
            if (s[l - 1] != ']') {
                s_err (e, line, "", "section header without ']'");
                goto fail;
            }
            s[l - 1] = 0;
            char wbuf[512];
            char *w[3];
            size_t nw = pl__split (s + 1, wbuf, sizeof wbuf, w, 3);
            if (nw == 0 || nw > 2) {
                s_err (e, line, "", "expected [profile], [rule <id>] or [calendar <id>]");
                goto fail;
            }
            if (doc->n == doc->cap) {
                size_t nc = doc->cap ? doc->cap * 2 : 16;
                pl__section_t *ns = realloc (doc->s, nc * sizeof *ns);
                if (!ns) {
                    s_err (e, line, "", "out of memory");
                    goto fail;
                }
                doc->s = ns;
                doc->cap = nc;
            }
            pl__section_t *sec = &doc->s[doc->n++];
            memset (sec, 0, sizeof *sec);
            sec->type = strdup (w[0]);
            sec->arg = strdup (nw > 1 ? w[1] : "");
            sec->line = line;
            if (!sec->type || !sec->arg) {
                s_err (e, line, "", "out of memory");
                goto fail;
            }
            continue;
        }
        char *eq = strchr (s, '=');
        if (!eq) {
            s_err (e, line, "", "expected 'key = value' or a [section]");
            goto fail;
        }
        *eq = 0;
        char *key = s_trim (s), *value = s_trim (eq + 1);
        if (!s_word_ok (key, ".-")) {
            s_err (e, line, "", "bad key '%s' (lower-case letters, digits, '.', '-')", key);
            goto fail;
        }
        if (!doc->n) {
            s_err (e, line, "", "key '%s' before any [section]", key);
            goto fail;
        }
        pl__section_t *sec = &doc->s[doc->n - 1];
        if (s_param_add (&sec->p, &sec->n, &sec->cap, key, value, line) != 0) {
            s_err (e, line, "", "out of memory");
            goto fail;
        }
    }
    return 0;
fail:
    pl__doc_free (doc);
    return -1;
}

/* ------------------------------------------------------------------------------------------ */
/* Sections -> calendars and profiles                                                           */

static void
s_calendar_free (pl_rules_calendar_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        pl__holiday_free (&c->h[i]);
    free (c->h);
    free (c->id);
    free (c->title);
    free (c->source);
    free (c->file);
    free (c->bits);
    free (c);
}

static void
s_rule_free (pl_rules_rule_t *r)
{
    if (!r)
        return;
    free (r->id);
    s_params_free (r->p, r->n);
    free (r);
}

static void
s_profile_free (pl_rules_profile_t *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_rules; i++)
        s_rule_free (p->rules[i]);
    free (p->rules);
    free (p->id);
    free (p->title);
    free (p->jurisdiction);
    free (p->file);
    free (p->base_id);
    free (p);
}

static int
s_add_calendar (pl_rules_profiles_t *ps, const pl__section_t *sec, const char *file,
                pl__err_t *e)
{
    if (!s_word_ok (sec->arg, "-")) {
        s_err (e, sec->line, "", "calendar needs an id: [calendar <id>]");
        return -1;
    }
    if (s_find_calendar (ps, sec->arg)) {
        s_err (e, sec->line, "", "calendar '%s' is defined twice", sec->arg);
        return -1;
    }
    pl_rules_calendar_t *c = calloc (1, sizeof *c);
    pl_rules_calendar_t **nc = realloc (ps->calendars, (ps->n_calendars + 1) * sizeof *nc);
    if (nc)
        ps->calendars = nc;
    if (!c || !nc || !(c->id = strdup (sec->arg)) || !(c->file = strdup (file))) {
        s_calendar_free (c);
        s_err (e, sec->line, "", "out of memory");
        return -1;
    }
    for (size_t i = 0; i < sec->n; i++) {
        const pl__param_t *q = &sec->p[i];
        if (strcmp (q->key, "title") == 0 || strcmp (q->key, "source") == 0) {
            char **dst = q->key[0] == 't' ? &c->title : &c->source;
            if (*dst) {
                s_err (e, q->line, q->key, "given twice");
                goto fail;
            }
            *dst = strdup (q->value);
        }
        else if (strcmp (q->key, "status") == 0) {
            if (strcmp (q->value, "confirmed") != 0 && strcmp (q->value, "unconfirmed") != 0) {
                s_err (e, q->line, q->key, "expected confirmed or unconfirmed");
                goto fail;
            }
            c->unconfirmed = q->value[0] == 'u';
        }
        else if (strcmp (q->key, "holiday") == 0) {
            pl__holiday_t *nh = realloc (c->h, (c->n + 1) * sizeof *nh);
            if (!nh) {
                s_err (e, q->line, q->key, "out of memory");
                goto fail;
            }
            c->h = nh;
            char emsg[256];
            if (pl__holiday_parse (q->value, &c->h[c->n], emsg, sizeof emsg) != 0) {
                s_err (e, q->line, q->key, "%s", emsg);
                goto fail;
            }
            c->n++;
            pl__holiday_t *h = &c->h[c->n - 1];
            for (size_t z = 0; z < h->n_zones; z++) {
                int rc = pl_rules_tzdb_load (ps->tzdb, h->zones[z], NULL);
                if (rc != 0) {
                    s_err (e, q->line, q->key, "zone %s: %s", h->zones[z],
                           pl_rules_tzdb_errstr (ps->tzdb));
                    goto fail;
                }
            }
        }
        else if (strcmp (q->key, "note") != 0) {
            s_err (e, q->line, q->key, "unknown key in a calendar (title, source, status, "
                   "holiday, note)");
            goto fail;
        }
    }
    if (!c->source) {
        s_err (e, sec->line, "source", "calendar '%s' needs a source", c->id);
        goto fail;
    }
    if (!c->n) {
        s_err (e, sec->line, "holiday", "calendar '%s' has no holiday", c->id);
        goto fail;
    }
    if (pl__calendar_index (c) != 0) {
        s_err (e, sec->line, "", "out of memory");
        goto fail;
    }
    ps->calendars[ps->n_calendars++] = c;
    return 0;
fail:
    s_calendar_free (c);
    return -1;
}

static const pl_rules_profile_t *
s_find_profile (const pl_rules_profiles_t *ps, const char *id)
{
    for (size_t i = 0; i < ps->n_profiles; i++)
        if (strcmp (ps->profiles[i]->id, id) == 0)
            return ps->profiles[i];
    return NULL;
}

/* Compiles every rule of p (and of its base) to check values and exemption links. */
static int
s_profile_check (const pl_rules_profiles_t *ps, const pl_rules_profile_t *p, const char *file,
                 pl__err_t *e)
{
    pl__arena_t arena = { 0 };
    pl__clause_t *cl = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    const pl_rules_profile_t *chain[2] = { p->base, p };
    for (int k = 0; k < 2 && rc == 0; k++) {
        const pl_rules_profile_t *q = chain[k];
        if (!q)
            continue;
        for (size_t i = 0; i < q->n_rules && rc == 0; i++) {
            const pl_rules_rule_t *r = q->rules[i];
            /* p is freed on failure: name its file from the caller's copy. */
            e->file = q == p ? file : r->file;
            rc = pl__rule_compile (ps, r->id, r->line, r->p, r->n, NULL, 0, &arena, &cl, &n,
                                   &cap, e);
        }
    }
    if (rc == 0)
        e->file = file;
    if (rc == 0 && pl__clauses_link (cl, n, e) != 0) {
        e->line = 0;
        rc = -1;
    }
    if (rc == 0 && n > PL_RULES_MAX_FIRED) {
        s_err (e, 0, "", "profile %s has %zu clauses, more than %d", p->id, n,
               PL_RULES_MAX_FIRED);
        rc = -1;
    }
    free (cl);
    pl__arena_free (&arena);
    return rc;
}

static int
s_add_profile (pl_rules_profiles_t *ps, const pl__doc_t *doc, pl__err_t *e)
{
    const pl__section_t *hdr = &doc->s[0];
    pl_rules_profile_t *p = calloc (1, sizeof *p);
    pl_rules_profile_t **np = realloc (ps->profiles, (ps->n_profiles + 1) * sizeof *np);
    if (np)
        ps->profiles = np;
    if (!p || !np || !(p->file = strdup (doc->file))) {
        s_profile_free (p);
        s_err (e, hdr->line, "", "out of memory");
        return -1;
    }
    if (*hdr->arg) {
        s_err (e, hdr->line, "", "[profile] takes no argument; use 'id = …'");
        goto fail;
    }
    const char *regions = NULL;
    int regions_line = 0;
    for (size_t i = 0; i < hdr->n; i++) {
        const pl__param_t *q = &hdr->p[i];
        char **dst = NULL;
        if (strcmp (q->key, "id") == 0)
            dst = &p->id;
        else if (strcmp (q->key, "title") == 0)
            dst = &p->title;
        else if (strcmp (q->key, "jurisdiction") == 0)
            dst = &p->jurisdiction;
        else if (strcmp (q->key, "overlay-of") == 0)
            dst = &p->base_id;
        else if (strcmp (q->key, "kind") == 0) {
            if (p->kind) {
                s_err (e, q->line, q->key, "given twice");
                goto fail;
            }
            if (strcmp (q->value, "CC") == 0)
                p->kind = PL_RULES_CC;
            else if (strcmp (q->value, "DC") == 0)
                p->kind = PL_RULES_DC;
            else {
                s_err (e, q->line, q->key, "expected CC (canvassing) or DC (debt collection)");
                goto fail;
            }
            continue;
        }
        else if (strcmp (q->key, "regions") == 0) {
            if (regions) {
                s_err (e, q->line, q->key, "given twice");
                goto fail;
            }
            regions = q->value;
            regions_line = q->line;
            continue;
        }
        else if (strcmp (q->key, "note") == 0)
            continue;
        else {
            s_err (e, q->line, q->key, "unknown key in [profile] (id, title, jurisdiction, kind,"
                   " overlay-of, regions, note)");
            goto fail;
        }
        if (*dst) {
            s_err (e, q->line, q->key, "given twice");
            goto fail;
        }
        if (!(*dst = strdup (q->value))) {
            s_err (e, q->line, q->key, "out of memory");
            goto fail;
        }
    }
    if (!p->id || !s_word_ok (p->id, "-")) {
        s_err (e, hdr->line, "id", "a profile needs an id (lower case, digits, '-')");
        goto fail;
    }
    if (!p->jurisdiction || !*p->jurisdiction) {
        s_err (e, hdr->line, "jurisdiction", "a profile needs a jurisdiction (FR, US, GB…)");
        goto fail;
    }
    if (!p->kind) {
        s_err (e, hdr->line, "kind", "a profile needs a kind (CC or DC)");
        goto fail;
    }
    if (s_find_profile (ps, p->id)) {
        s_err (e, hdr->line, "id", "profile '%s' is already loaded", p->id);
        goto fail;
    }
    if (p->base_id) {
        p->base = s_find_profile (ps, p->base_id);
        if (!p->base) {
            s_err (e, hdr->line, "overlay-of", "no profile '%s' is loaded", p->base_id);
            goto fail;
        }
        if (p->base->base) {
            s_err (e, hdr->line, "overlay-of", "'%s' is itself an overlay", p->base_id);
            goto fail;
        }
        if (p->base->kind != p->kind) {
            s_err (e, hdr->line, "kind", "an overlay has the kind of its base (%s)",
                   p->base->kind == PL_RULES_CC ? "CC" : "DC");
            goto fail;
        }
        if (!regions) {
            s_err (e, hdr->line, "regions", "an overlay needs the regions it applies to");
            goto fail;
        }
    }
    if (regions) {
        if (!p->base) {
            s_err (e, regions_line, "regions", "only an overlay (overlay-of) has regions");
            goto fail;
        }
        char buf[256];
        char *w[PL__MAXREGIONS + 1];
        size_t nw = pl__split (regions, buf, sizeof buf, w, PL__MAXREGIONS + 1);
        if (nw == 0 || nw > PL__MAXREGIONS) {
            s_err (e, regions_line, "regions", "expected 1 to %d region codes", PL__MAXREGIONS);
            goto fail;
        }
        for (size_t i = 0; i < nw; i++) {
            uint64_t v = pl__region_pack (w[i]);
            if (!v) {
                s_err (e, regions_line, "regions", "bad region code '%s' (ISO 3166-2: US-FL)",
                       w[i]);
                goto fail;
            }
            snprintf (p->regions[i], sizeof p->regions[i], "%s", w[i]);
            p->regions_packed[i] = v;
        }
        p->n_regions = nw;
    }

    for (size_t si = 1; si < doc->n; si++) {
        const pl__section_t *sec = &doc->s[si];
        if (strcmp (sec->type, "calendar") == 0)
            continue;
        if (strcmp (sec->type, "rule") != 0) {
            s_err (e, sec->line, "", "unknown section [%s] (profile, rule, calendar)", sec->type);
            goto fail;
        }
        if (!s_rule_id_ok (sec->arg)) {
            s_err (e, sec->line, "", "bad rule id '%s' (like fr.hours or us.regf-7in7)",
                   sec->arg);
            goto fail;
        }
        if (strncmp (sec->arg, "campaign.", 9) == 0) {
            s_err (e, sec->line, "", "rule ids campaign.* are reserved for campaigns");
            goto fail;
        }
        if (pl_rules_profile_rule (p, sec->arg)
            || (p->base && pl_rules_profile_rule (p->base, sec->arg))) {
            s_err (e, sec->line, "", "rule %s is defined twice%s", sec->arg,
                   p->base ? " (an overlay adds rules; it cannot redefine its base's)" : "");
            goto fail;
        }
        pl_rules_rule_t *r = calloc (1, sizeof *r);
        pl_rules_rule_t **nr = realloc (p->rules, (p->n_rules + 1) * sizeof *nr);
        if (nr)
            p->rules = nr;
        if (!r || !nr || !(r->id = strdup (sec->arg))) {
            s_rule_free (r);
            s_err (e, sec->line, "", "out of memory");
            goto fail;
        }
        r->file = p->file;
        r->line = sec->line;
        r->profile = p;
        p->rules[p->n_rules++] = r;
        for (size_t i = 0; i < sec->n; i++) {
            bool pc = false;
            if (!pl__key_known (sec->p[i].key, &pc)) {
                s_err (e, sec->p[i].line, sec->p[i].key, "unknown key");
                goto fail;
            }
            r->per_call |= pc;
            if (s_param_add (&r->p, &r->n, &r->cap, sec->p[i].key, sec->p[i].value,
                             sec->p[i].line) != 0) {
                s_err (e, sec->p[i].line, sec->p[i].key, "out of memory");
                goto fail;
            }
        }
    }
    if (!p->n_rules) {
        s_err (e, hdr->line, "", "profile %s has no rule", p->id);
        goto fail;
    }
    if (s_profile_check (ps, p, doc->file, e) != 0)
        goto fail;
    ps->profiles[ps->n_profiles++] = p;
    return 0;
fail:
    s_profile_free (p);
    return -1;
}

/* ------------------------------------------------------------------------------------------ */
/* Loading                                                                                      */

pl_rules_profiles_t *
pl_rules_profiles_new (pl_rules_tzdb_t *tzdb)
{
    if (!tzdb)
        return NULL;
    pl_rules_profiles_t *self = calloc (1, sizeof *self);
    if (self)
        self->tzdb = tzdb;
    return self;
}

void
pl_rules_profiles_destroy (pl_rules_profiles_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pl_rules_profiles_t *self = *self_p;
    for (size_t i = 0; i < self->n_profiles; i++)
        s_profile_free (self->profiles[i]);
    for (size_t i = 0; i < self->n_calendars; i++)
        s_calendar_free (self->calendars[i]);
    free (self->profiles);
    free (self->calendars);
    free (self);
    *self_p = NULL;
}

static void
s_set_error (pl_rules_profiles_t *ps, const pl__err_t *e)
{
    snprintf (ps->errfile, sizeof ps->errfile, "%s", e->file ? e->file : "");
    ps->errline = e->line;
    snprintf (ps->errkey, sizeof ps->errkey, "%s", e->key);
    char loc[320];
    if (e->line > 0)
        snprintf (loc, sizeof loc, "%s:%d: ", ps->errfile, e->line);
    else if (*ps->errfile)
        snprintf (loc, sizeof loc, "%s: ", ps->errfile);
    else
        loc[0] = 0;
    if (*ps->errkey)
        snprintf (ps->err, sizeof ps->err, "%skey '%s': %s", loc, ps->errkey, e->msg);
    else
        snprintf (ps->err, sizeof ps->err, "%s%s", loc, e->msg);
}

/* Loads parsed docs: calendars of all, then base profiles, then overlays. All or nothing. */
static int
s_load_docs (pl_rules_profiles_t *ps, pl__doc_t *docs, size_t n)
{
    size_t n_cal0 = ps->n_calendars, n_prof0 = ps->n_profiles;
    pl__err_t e = { 0 };
    int rc = 0;
    for (size_t d = 0; d < n && rc == 0; d++) {
        e.file = docs[d].file;
        for (size_t i = 0; i < docs[d].n && rc == 0; i++) {
            const pl__section_t *sec = &docs[d].s[i];
            if (strcmp (sec->type, "calendar") == 0)
                rc = s_add_calendar (ps, sec, docs[d].file, &e);
            else if (strcmp (sec->type, "profile") == 0 && i != 0) {
                s_err (&e, sec->line, "", "[profile] must be the first section of its file");
                rc = -1;
            }
            else if (strcmp (sec->type, "profile") != 0 && strcmp (sec->type, "rule") != 0) {
                s_err (&e, sec->line, "", "unknown section [%s] (profile, rule, calendar)",
                       sec->type);
                rc = -1;
            }
            else if (strcmp (sec->type, "rule") == 0 && strcmp (docs[d].s[0].type, "profile")) {
                s_err (&e, sec->line, "", "[rule] outside a profile file (no [profile] first)");
                rc = -1;
            }
        }
    }
    for (int pass = 0; pass < 2 && rc == 0; pass++) {
        for (size_t d = 0; d < n && rc == 0; d++) {
            if (!docs[d].n || strcmp (docs[d].s[0].type, "profile") != 0)
                continue;
            bool overlay = false;
            for (size_t i = 0; i < docs[d].s[0].n; i++)
                overlay |= strcmp (docs[d].s[0].p[i].key, "overlay-of") == 0;
            if (overlay != (pass == 1))
                continue;
            e.file = docs[d].file;
            rc = s_add_profile (ps, &docs[d], &e);
        }
    }
    if (rc != 0) {
        s_set_error (ps, &e);
        while (ps->n_profiles > n_prof0)
            s_profile_free (ps->profiles[--ps->n_profiles]);
        while (ps->n_calendars > n_cal0)
            s_calendar_free (ps->calendars[--ps->n_calendars]);
        return PL_ECONFIG;
    }
    return 0;
}

int
pl_rules_profiles_load_text (pl_rules_profiles_t *self, const char *origin, const char *text)
{
    if (!self || !text)
        return PL_EINVAL;
    pl__doc_t doc;
    pl__err_t e = { 0 };
    if (pl__doc_parse (origin ? origin : "(text)", text, &doc, &e) != 0) {
        s_set_error (self, &e);
        return PL_ECONFIG;
    }
    int rc = s_load_docs (self, &doc, 1);
    pl__doc_free (&doc);
    return rc;
}

static char *
s_slurp (const char *path, pl__err_t *e, int *rc)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        s_err (e, 0, "", "%s", strerror (errno));
        *rc = errno == ENOENT ? PL_ENOTFOUND : PL_EIO;
        return NULL;
    }
    char *buf = malloc (S_MAX_TEXT + 2);
    size_t n = buf ? fread (buf, 1, S_MAX_TEXT + 1, f) : 0;
    bool bad = ferror (f);
    fclose (f);
    if (!buf || bad || n > S_MAX_TEXT) {
        s_err (e, 0, "", !buf ? "out of memory" : bad ? "read error" : "file too large");
        *rc = !buf ? PL_ENOMEM : bad ? PL_EIO : PL_ETOOBIG;
        free (buf);
        return NULL;
    }
    buf[n] = 0;
    if (memchr (buf, 0, n)) {
        s_err (e, 0, "", "binary file (NUL byte)");
        *rc = PL_ECONFIG;
        free (buf);
        return NULL;
    }
    return buf;
}

static const char *
s_basename (const char *path)
{
    const char *s = strrchr (path, '/');
    return s ? s + 1 : path;
}

int
pl_rules_profiles_load_file (pl_rules_profiles_t *self, const char *path)
{
    if (!self || !path)
        return PL_EINVAL;
    pl__err_t e = { .file = s_basename (path) };
    int rc = 0;
    char *text = s_slurp (path, &e, &rc);
    if (!text) {
        e.file = path;
        s_set_error (self, &e);
        return rc;
    }
    rc = pl_rules_profiles_load_text (self, s_basename (path), text);
    free (text);
    return rc;
}

static int
s_cmp_str (const void *a, const void *b)
{
    return strcmp (*(char *const *) a, *(char *const *) b);
}

static bool
s_ends_with (const char *s, const char *suffix)
{
    size_t a = strlen (s), b = strlen (suffix);
    return a > b && strcmp (s + a - b, suffix) == 0;
}

int
pl_rules_profiles_load_dir (pl_rules_profiles_t *self, const char *dir)
{
    if (!self || !dir)
        return PL_EINVAL;
    pl__err_t e = { .file = dir };
    DIR *d = opendir (dir);
    if (!d) {
        s_err (&e, 0, "", "cannot open directory: %s", strerror (errno));
        s_set_error (self, &e);
        return errno == ENOENT ? PL_ENOTFOUND : PL_EIO;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir (d)) != NULL) {
        if (de->d_name[0] == '.'
            || !(s_ends_with (de->d_name, ".profile") || s_ends_with (de->d_name, ".holidays")))
            continue;
        char **nn = realloc (names, (n + 1) * sizeof *nn);
        if (!nn || !(nn[n] = strdup (de->d_name))) {
            names = nn ? nn : names;
            rc = PL_ENOMEM;
            break;
        }
        names = nn;
        n++;
    }
    closedir (d);
    pl__doc_t *docs = calloc (n ? n : 1, sizeof *docs);
    size_t nd = 0;
    if (!docs)
        rc = PL_ENOMEM;
    if (rc == 0) {
        qsort (names, n, sizeof *names, s_cmp_str);
        for (size_t i = 0; i < n && rc == 0; i++) {
            char path[4096];
            snprintf (path, sizeof path, "%s/%s", dir, names[i]);
            e = (pl__err_t) { .file = names[i] };
            char *text = s_slurp (path, &e, &rc);
            if (!text) {
                s_set_error (self, &e);
                break;
            }
            if (pl__doc_parse (names[i], text, &docs[nd], &e) != 0) {
                s_set_error (self, &e);
                rc = PL_ECONFIG;
            }
            else
                nd++;
            free (text);
        }
    }
    if (rc == 0)
        rc = s_load_docs (self, docs, nd);
    else if (rc == PL_ENOMEM) {
        e = (pl__err_t) { .file = dir };
        s_err (&e, 0, "", "out of memory");
        s_set_error (self, &e);
    }
    for (size_t i = 0; i < nd; i++)
        pl__doc_free (&docs[i]);
    free (docs);
    for (size_t i = 0; i < n; i++)
        free (names[i]);
    free (names);
    return rc == 0 ? (int) n : rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Accessors                                                                                    */

const char *
pl_rules_profiles_errstr (const pl_rules_profiles_t *self)
{
    return self ? self->err : "no profiles";
}

const char *
pl_rules_profiles_errfile (const pl_rules_profiles_t *self)
{
    return self ? self->errfile : "";
}

int
pl_rules_profiles_errline (const pl_rules_profiles_t *self)
{
    return self ? self->errline : 0;
}

const char *
pl_rules_profiles_errkey (const pl_rules_profiles_t *self)
{
    return self ? self->errkey : "";
}

size_t
pl_rules_profiles_count (const pl_rules_profiles_t *self)
{
    return self ? self->n_profiles : 0;
}

const pl_rules_profile_t *
pl_rules_profiles_find (const pl_rules_profiles_t *self, const char *id)
{
    return self && id ? s_find_profile (self, id) : NULL;
}

const pl_rules_calendar_t *
pl_rules_profiles_calendar (const pl_rules_profiles_t *self, const char *id)
{
    return self && id ? s_find_calendar (self, id) : NULL;
}

const char *
pl_rules_profile_id (const pl_rules_profile_t *p)
{
    return p ? p->id : "";
}

const char *
pl_rules_profile_title (const pl_rules_profile_t *p)
{
    return p && p->title ? p->title : "";
}

const char *
pl_rules_profile_jurisdiction (const pl_rules_profile_t *p)
{
    return p ? p->jurisdiction : "";
}

pl_rules_kind_t
pl_rules_profile_kind (const pl_rules_profile_t *p)
{
    return p ? p->kind : 0;
}

const pl_rules_profile_t *
pl_rules_profile_base (const pl_rules_profile_t *p)
{
    return p ? p->base : NULL;
}

size_t
pl_rules_profile_region_count (const pl_rules_profile_t *p)
{
    return p ? p->n_regions : 0;
}

const char *
pl_rules_profile_region (const pl_rules_profile_t *p, size_t i)
{
    return p && i < p->n_regions ? p->regions[i] : NULL;
}

const pl_rules_rule_t *
pl_rules_profile_rule (const pl_rules_profile_t *p, const char *rule_id)
{
    if (!p || !rule_id)
        return NULL;
    for (size_t i = 0; i < p->n_rules; i++)
        if (strcmp (p->rules[i]->id, rule_id) == 0)
            return p->rules[i];
    return NULL;
}

const char *
pl_rules_rule_param (const pl_rules_rule_t *r, const char *key)
{
    if (!r || !key)
        return NULL;
    const pl__param_t *q = s_get (r->p, r->n, key);
    return q ? q->value : NULL;
}

const char *
pl_rules_rule_source (const pl_rules_rule_t *r)
{
    const char *s = pl_rules_rule_param (r, "source");
    return s ? s : "";
}

const char *
pl_rules_rule_summary (const pl_rules_rule_t *r)
{
    const char *s = pl_rules_rule_param (r, "summary");
    return s ? s : "";
}

bool
pl_rules_rule_unconfirmed (const pl_rules_rule_t *r)
{
    const char *s = pl_rules_rule_param (r, "status");
    return s && strcmp (s, "unconfirmed") == 0;
}

bool
pl_rules_rule_policy (const pl_rules_rule_t *r)
{
    const char *s = pl_rules_rule_param (r, "basis");
    return s && strcmp (s, "policy") == 0;
}

bool
pl_rules_rule_per_call (const pl_rules_rule_t *r)
{
    return r && r->per_call;
}

size_t
pl_rules_rule_param_count (const pl_rules_rule_t *r)
{
    return r ? r->n : 0;
}

void
pl_rules_rule_param_at (const pl_rules_rule_t *r, size_t i, const char **key, const char **value)
{
    if (key)
        *key = r && i < r->n ? r->p[i].key : NULL;
    if (value)
        *value = r && i < r->n ? r->p[i].value : NULL;
}

/* Abandon budget from a value getter (profile rule, or campaign with narrowing). */
int
pl__abandon_fill (const char *rule, const char *source, const char *rate, const char *period,
                  const char *agent, const char *ring, const char *message,
                  pl_rules_abandon_t *out)
{
    memset (out, 0, sizeof *out);
    out->rule = rule;
    out->source = source ? source : "";
    if (!rate || s_parse_rate (rate, &out->max_rate_ppm) != 0)
        return PL_ENOTFOUND;
    pl__dur_t d;
    if (period && strcmp (period, "day") == 0)
        out->calendar_day = true;
    else if (period && pl__parse_duration (period, &d) == 0)
        out->period_ms = pl__dur_ms (&d);
    if (agent && pl__parse_duration (agent, &d) == 0)
        out->agent_within_ms = pl__dur_ms (&d);
    if (ring && pl__parse_duration (ring, &d) == 0)
        out->ring_min_ms = pl__dur_ms (&d);
    out->message_required = message && strcmp (message, "required") == 0;
    return 0;
}

int
pl_rules_profile_abandon (const pl_rules_profile_t *p, pl_rules_abandon_t *out)
{
    if (!p || !out)
        return PL_EINVAL;
    for (const pl_rules_profile_t *q = p; q; q = q->base)
        for (size_t i = 0; i < q->n_rules; i++) {
            const pl_rules_rule_t *r = q->rules[i];
            if (!pl_rules_rule_param (r, "max-rate"))
                continue;
            return pl__abandon_fill (r->id, pl_rules_rule_source (r),
                                     pl_rules_rule_param (r, "max-rate"),
                                     pl_rules_rule_param (r, "period"),
                                     pl_rules_rule_param (r, "agent-within"),
                                     pl_rules_rule_param (r, "ring-at-least"),
                                     pl_rules_rule_param (r, "message"), out);
        }
    return PL_ENOTFOUND;
}
