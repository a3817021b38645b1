/*  config.c — PLATEAU_* environment variables and secret files (see config.h).
 *
 *  A service reads all its settings at start through one pl_config_t, then calls
 *  pl_config_check_or_exit(). Getters never fail loudly on their own: the first bad value is
 *  remembered (variable, what was expected, what was found) and the getter returns its
 *  default, so a service can read everything in a straight line and report one clear error.
 *
 *  Values read from secret files are never copied into an error message, and their memory is
 *  wiped when the config is destroyed.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "plateau/config.h"
#include "plateau/error.h"
#include "plateau/log.h"

/* Larger secret files are refused: a token table or a key is a few kilobytes at most. */
#define S_SECRET_MAX (1024 * 1024)
/* Values quoted in error messages are cut to this many bytes. */
#define S_GOT_MAX 80

typedef struct s_owned {
    struct s_owned *next;
    char *text;
    size_t size;
    bool secret;                     /* wiped before it is freed */
} s_owned_t;

struct pl_config {
    pl_config_getenv_fn *getenv;
    void *arg;
    s_owned_t *owned;
    bool failed;                     /* set first, so that no memory for details still counts */
    char *err_name;
    char *err_expected;
    char *err_got;
    char *errstr;
};

static const char *
s_process_env (const char *name, void *arg)
{
    (void) arg;
    return getenv (name);
}

pl_config_t *
pl_config_new_with (pl_config_getenv_fn *fn, void *arg)
{
    pl_config_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->getenv = fn ? fn : s_process_env;
    self->arg = arg;
    return self;
}

pl_config_t *
pl_config_new (void)
{
    return pl_config_new_with (s_process_env, NULL);
}

void
pl_config_destroy (pl_config_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pl_config_t *self = *self_p;
    s_owned_t *o = self->owned;
    while (o) {
        s_owned_t *next = o->next;
        if (o->secret)
            sodium_memzero (o->text, o->size);
        free (o->text);
        free (o);
        o = next;
    }
    free (self->err_name);
    free (self->err_expected);
    free (self->err_got);
    free (self->errstr);
    free (self);
    *self_p = NULL;
}

/* Keeps a copy of text (size bytes plus a NUL) for the life of self. */
static const char *
s_keep (pl_config_t *self, const char *text, size_t size, bool secret)
{
    s_owned_t *o = calloc (1, sizeof *o);
    char *copy = malloc (size + 1);
    if (!o || !copy) {
        free (o);
        free (copy);
        return NULL;
    }
    memcpy (copy, text, size);
    copy[size] = '\0';
    o->text = copy;
    o->size = size;
    o->secret = secret;
    o->next = self->owned;
    self->owned = o;
    return copy;
}

/* "'value'" for an error message: cut when long, control bytes shown as '?'. */
static char *
s_quote (const char *value)
{
    if (!value)
        return strdup ("nothing (unset)");
    size_t n = strlen (value);
    bool cut = n > S_GOT_MAX;
    if (cut)
        n = S_GOT_MAX;
    char *out = malloc (n + 6);
    if (!out)
        return NULL;
    size_t pos = 0;
    out[pos++] = '\'';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) value[i];
        out[pos++] = (c < 0x20 || c == 0x7f) ? '?' : (char) c;
    }
    if (cut) {
        memcpy (out + pos, "...", 3);
        pos += 3;
    }
    out[pos++] = '\'';
    out[pos] = '\0';
    return out;
}

/* Records the first error; `got` is the text shown as found (already quoted or described). */
static void
s_fail (pl_config_t *self, const char *name, const char *expected, const char *got)
{
    if (!self || self->failed)
        return;
    self->failed = true;
    self->err_name = strdup (name ? name : "?");
    self->err_expected = strdup (expected ? expected : "a valid value");
    self->err_got = strdup (got ? got : "nothing (unset)");
    if (!self->err_name || !self->err_expected || !self->err_got)
        return;
    size_t n = strlen (self->err_name) + strlen (self->err_expected) + strlen (self->err_got) + 32;
    self->errstr = malloc (n);
    if (self->errstr)
        snprintf (self->errstr, n, "%s: expected %s, got %s", self->err_name, self->err_expected,
                  self->err_got);
}

static void
s_fail_value (pl_config_t *self, const char *name, const char *expected, const char *value)
{
    char *got = s_quote (value);
    s_fail (self, name, expected, got);
    free (got);
}

void
pl_config_fail (pl_config_t *self, const char *name, const char *expected, const char *got)
{
    s_fail_value (self, name, expected, got);
}

/* The raw value, or NULL when unset. An empty value counts as unset: orchestrators often
 * render an absent setting as VAR="" and the default is what was meant. */
static const char *
s_raw (pl_config_t *self, const char *name)
{
    const char *v = self->getenv (name, self->arg);
    return (v && *v) ? v : NULL;
}

/* Copies the value without surrounding blanks into buf; false when it does not fit. */
static bool
s_trimmed (const char *v, char *buf, size_t size)
{
    while (isspace ((unsigned char) *v))
        v++;
    size_t n = strlen (v);
    while (n > 0 && isspace ((unsigned char) v[n - 1]))
        n--;
    if (n >= size)
        return false;
    memcpy (buf, v, n);
    buf[n] = '\0';
    return true;
}

const char *
pl_config_str (pl_config_t *self, const char *name, const char *def)
{
    const char *v = s_raw (self, name);
    if (!v)
        return def;
    const char *kept = s_keep (self, v, strlen (v), false);
    return kept ? kept : def;
}

const char *
pl_config_str_required (pl_config_t *self, const char *name, const char *expected)
{
    const char *v = pl_config_str (self, name, NULL);
    if (!v)
        s_fail (self, name, expected ? expected : "a value", "nothing (unset or empty)");
    return v;
}

/* Parses a whole decimal integer (optional sign). */
static bool
s_parse_int (const char *text, int64_t *out)
{
    if (!*text)
        return false;
    errno = 0;
    char *end = NULL;
    long long v = strtoll (text, &end, 10);
    if (errno || end == text || *end)
        return false;
    *out = v;
    return true;
}

/* The variable `name` as read by parse, within [min, max]; def when unset, and when invalid
 * (the failure noted with what was expected). */
static int64_t
s_number (pl_config_t *self, const char *name, int64_t def, bool (*parse) (const char *, int64_t *),
          int64_t min, int64_t max, const char *expected)
{
    const char *v = s_raw (self, name);
    if (!v)
        return def;
    char buf[64];
    int64_t n = 0;
    if (!s_trimmed (v, buf, sizeof buf) || !parse (buf, &n) || n < min || n > max) {
        s_fail_value (self, name, expected, v);
        return def;
    }
    return n;
}

int64_t
pl_config_int (pl_config_t *self, const char *name, int64_t def, int64_t min, int64_t max)
{
    char expected[96];
    snprintf (expected, sizeof expected, "an integer between %lld and %lld", (long long) min,
              (long long) max);
    return s_number (self, name, def, s_parse_int, min, max, expected);
}

/* Reads the digits at *p into *out; false when there are none or they overflow. */
static bool
s_digits (const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (!isdigit ((unsigned char) *s))
        return false;
    for (; isdigit ((unsigned char) *s); s++) {
        unsigned d = (unsigned) (*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *p = s;
    *out = v;
    return true;
}

/* "250ms", "10s", "5m", "2h", "30d", also sums of them ("1h30m"); a bare "0" is zero. */
static bool
s_parse_duration (const char *text, int64_t *out_ms)
{
    static const struct { const char *unit; int64_t ms; } units[] = {
        { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 },
    };
    if (strcmp (text, "0") == 0) {
        *out_ms = 0;
        return true;
    }
    const char *p = text;
    int64_t total = 0;
    if (!*p)
        return false;
    while (*p) {
        uint64_t n;
        if (!s_digits (&p, &n))
            return false;
        size_t u;
        for (u = 0; u < sizeof units / sizeof units[0]; u++) {
            size_t len = strlen (units[u].unit);
            if (strncmp (p, units[u].unit, len) == 0)   /* "ms" is tried before "m" */
                break;
        }
        if (u == sizeof units / sizeof units[0])
            return false;
        p += strlen (units[u].unit);
        if (n > (uint64_t) (INT64_MAX / units[u].ms))
            return false;
        int64_t part = (int64_t) n * units[u].ms;
        if (total > INT64_MAX - part)
            return false;
        total += part;
    }
    *out_ms = total;
    return true;
}

int64_t
pl_config_duration_ms (pl_config_t *self, const char *name, int64_t def_ms)
{
    return s_number (self, name, def_ms, s_parse_duration, INT64_MIN, INT64_MAX,
                     "a duration such as 250ms, 10s, 5m, 2h or 30d");
}

/* "512", "512B", "64k", "64KB", "64KiB", "10M", "1G", "2T": powers of 1024, any case. */
static bool
s_parse_size (const char *text, int64_t *out)
{
    const char *p = text;
    uint64_t n;
    if (!s_digits (&p, &n))
        return false;
    int shift = 0;
    switch (tolower ((unsigned char) *p)) {
    case '\0': break;
    case 'b': shift = 0; break;
    case 'k': shift = 10; break;
    case 'm': shift = 20; break;
    case 'g': shift = 30; break;
    case 't': shift = 40; break;
    default: return false;
    }
    if (*p) {
        bool bare_b = tolower ((unsigned char) *p) == 'b';
        p++;
        if (!bare_b) {
            if (tolower ((unsigned char) *p) == 'i' && tolower ((unsigned char) p[1]) == 'b')
                p += 2;
            else if (tolower ((unsigned char) *p) == 'b')
                p++;
        }
        if (*p)
            return false;
    }
    if (n > ((uint64_t) INT64_MAX >> shift))
        return false;
    *out = (int64_t) (n << shift);
    return true;
}

int64_t
pl_config_size (pl_config_t *self, const char *name, int64_t def)
{
    return s_number (self, name, def, s_parse_size, INT64_MIN, INT64_MAX,
                     "a size such as 512, 64k, 10M or 1G");
}

bool
pl_config_bool (pl_config_t *self, const char *name, bool def)
{
    static const char *yes[] = { "true", "1", "yes", "on" };
    static const char *no[] = { "false", "0", "no", "off" };
    const char *v = s_raw (self, name);
    if (!v)
        return def;
    char buf[16];
    if (s_trimmed (v, buf, sizeof buf))
        for (size_t i = 0; i < 4; i++) {
            if (strcasecmp (buf, yes[i]) == 0)
                return true;
            if (strcasecmp (buf, no[i]) == 0)
                return false;
        }
    s_fail_value (self, name, "true, false, 1, 0, yes, no, on or off", v);
    return def;
}

/* Reads a whole file of at most S_SECRET_MAX bytes; NULL with errno on failure. */
static char *
s_read_file (const char *path, size_t *size_out)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    int e = 0;
    if (fstat (fd, &st) < 0)
        e = errno;
    else if (S_ISDIR (st.st_mode))
        e = EISDIR;
    else if (!S_ISREG (st.st_mode))
        e = EINVAL;
    else if (st.st_size > S_SECRET_MAX)
        e = EFBIG;
    if (e) {
        close (fd);
        errno = e;
        return NULL;
    }
    size_t cap = (size_t) st.st_size + 1, size = 0;
    char *buf = malloc (cap);
    if (!buf) {
        close (fd);
        errno = ENOMEM;
        return NULL;
    }
    for (;;) {
        ssize_t n = read (fd, buf + size, cap - size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            sodium_memzero (buf, cap);
            free (buf);
            close (fd);
            errno = e;
            return NULL;
        }
        if (n == 0)
            break;
        size += (size_t) n;
        if (size == cap) {                 /* the file grew since fstat: refuse it */
            sodium_memzero (buf, cap);
            free (buf);
            close (fd);
            errno = EFBIG;
            return NULL;
        }
    }
    close (fd);
    *size_out = size;
    return buf;
}

const char *
pl_config_secret_file (pl_config_t *self, const char *name, bool required)
{
    const char *path = s_raw (self, name);
    if (!path) {
        if (required)
            s_fail (self, name, "the path of a readable file holding the secret",
                    "nothing (unset or empty)");
        return NULL;
    }
    size_t size = 0;
    char *data = s_read_file (path, &size);
    if (!data) {
        /* The path is not secret; the contents are, and never reach a message. */
        char *quoted = s_quote (path);
        char got[S_GOT_MAX + 128];
        snprintf (got, sizeof got, "%s (%s)", quoted ? quoted : "?",
                  errno == EFBIG ? "larger than 1 MiB" : strerror (errno));
        free (quoted);
        s_fail (self, name, "the path of a readable file holding the secret", got);
        return NULL;
    }
    while (size > 0 && (data[size - 1] == '\n' || data[size - 1] == '\r'))
        size--;
    const char *kept = NULL;
    if (memchr (data, '\0', size))
        s_fail (self, name, "a text file (the secret file holds a NUL byte)",
                "a binary file");
    else if (size == 0 && required)
        s_fail (self, name, "a file holding the secret", "an empty file");
    else
        kept = s_keep (self, data, size, true);
    sodium_memzero (data, size);
    free (data);
    return kept;
}

int
pl_config_ok (const pl_config_t *self)
{
    return (self && !self->failed) ? 0 : PL_ECONFIG;
}

const char *
pl_config_errstr (const pl_config_t *self)
{
    if (!self)
        return "no configuration";
    if (self->errstr)
        return self->errstr;
    return self->failed ? "out of memory while recording a configuration error" : "";
}

const char *
pl_config_errvar (const pl_config_t *self)
{
    return self && self->err_name ? self->err_name : NULL;
}

void
pl_config_check_or_exit (const pl_config_t *self, const char *service)
{
    if (pl_config_ok (self) == 0)
        return;
    pl_log_t *log = pl_log_new (service ? service : "plateau", STDERR_FILENO);
    if (log) {
        pl_log (log, PL_LOG_ERROR, NULL, "invalid configuration",
                "error", pl_config_errstr (self),
                "variable", self && self->err_name ? self->err_name : "",
                "expected", self && self->err_expected ? self->err_expected : "",
                "got", self && self->err_got ? self->err_got : "",
                NULL);
        pl_log_destroy (&log);
    }
    else {
        static const char line[] = "{\"level\":\"error\",\"msg\":\"invalid configuration\"}\n";
        ssize_t rc = write (STDERR_FILENO, line, sizeof line - 1);
        (void) rc;
    }
    exit (2);
}
