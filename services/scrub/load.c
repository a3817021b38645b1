/*  load.c — registry files into list versions: the line readers of every scrub_format_t, the
 *  bad-line report, and the set arithmetic of change lists.
 *
 *  A file is read in chunks and cut into lines (LF or CRLF; a line over LOAD_LINE_MAX bytes is
 *  a bad line). Each line gives nothing (blank, comment, header), a number, a wildcard block,
 *  or a reason it is bad. Numbers go to growing arrays of keys (numset.h), one per action
 *  (added, deleted, found clear); at the end the arrays are sorted (radix sort, skipped when a
 *  registry file is already in order), deduplicated, merged with the base version when the load
 *  is a change list, and built into a new version. Nothing here touches a scrub_lists_t.
 *
 *  Speed: US files are parsed by hand ("AAA,NNNNNNN" is already national NANP), about 20 ns a
 *  line; the other formats go through libphonenumber (lib/phone), tens of microseconds a
 *  number, which is why a version is built once and shared as a file (scrub_list_save/map).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lists_internal.h"
#include "plateau/error.h"
#include "plateau/phone.h"
#include "plateau/timefmt.h"

#define LOAD_LINE_MAX 65536
#define LOAD_CHUNK (1u << 20)
#define LOAD_DEFAULT_KEPT 1000
#define DAY_MS 86400000LL

/* ------------------------------------------------------------------------------------------- */
/* Reports                                                                                      */

typedef struct {
    uint64_t line;
    const char *reason;
} bad_line_t;

struct scrub_load_report {
    size_t max_kept;
    uint64_t lines, good, bad;
    size_t kept;
    bad_line_t *items;
    char errstr[256];
};

scrub_load_report_t *
scrub_load_report_new (size_t max_kept)
{
    scrub_load_report_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->max_kept = max_kept ? max_kept : LOAD_DEFAULT_KEPT;
    self->items = calloc (self->max_kept, sizeof *self->items);
    if (!self->items) {
        free (self);
        return NULL;
    }
    return self;
}

void
scrub_load_report_destroy (scrub_load_report_t **self_p)
{
    scrub_load_report_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    free (self->items);
    free (self);
}

static void
s_report_reset (scrub_load_report_t *self)
{
    self->lines = self->good = self->bad = 0;
    self->kept = 0;
    self->errstr[0] = '\0';
}

static void
s_report_bad (scrub_load_report_t *self, uint64_t line, const char *reason)
{
    self->bad++;
    if (self->kept < self->max_kept)
        self->items[self->kept++] = (bad_line_t) { line, reason };
}

static int
s_fail (scrub_load_report_t *self, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (self->errstr, sizeof self->errstr, fmt, ap);
    va_end (ap);
    return rc;
}

uint64_t scrub_load_report_lines (const scrub_load_report_t *self) { return self->lines; }
uint64_t scrub_load_report_good (const scrub_load_report_t *self) { return self->good; }
uint64_t scrub_load_report_bad (const scrub_load_report_t *self) { return self->bad; }
size_t scrub_load_report_kept (const scrub_load_report_t *self) { return self->kept; }
const char *scrub_load_report_errstr (const scrub_load_report_t *self) { return self->errstr; }

int
scrub_load_report_bad_line (const scrub_load_report_t *self, size_t i, uint64_t *line,
                            const char **reason)
{
    if (i >= self->kept)
        return PL_ERANGE;
    if (line)
        *line = self->items[i].line;
    if (reason)
        *reason = self->items[i].reason;
    return 0;
}

/* ------------------------------------------------------------------------------------------- */
/* Growing arrays                                                                               */

typedef struct {
    uint64_t *key;
    int32_t *day;               /* rnd only: parallel to key */
    size_t n, cap;
} keys_t;

static int
s_push (keys_t *a, uint64_t key, int32_t day, bool with_day)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 4096;
        uint64_t *k = realloc (a->key, cap * sizeof *k);
        if (!k)
            return PL_ENOMEM;
        a->key = k;
        if (with_day) {
            int32_t *d = realloc (a->day, cap * sizeof *d);
            if (!d)
                return PL_ENOMEM;
            a->day = d;
        }
        a->cap = cap;
    }
    a->key[a->n] = key;
    if (with_day)
        a->day[a->n] = day;
    a->n++;
    return 0;
}

static void
s_keys_free (keys_t *a)
{
    free (a->key);
    free (a->day);
    memset (a, 0, sizeof *a);
}

/* LSD radix sort of keys (11-bit digits over the bits that differ), skipped when sorted. */
static int
s_sort_keys (keys_t *a)
{
    size_t n = a->n;
    bool sorted = true;
    for (size_t i = 1; i < n && sorted; i++)
        sorted = a->key[i - 1] <= a->key[i];
    if (sorted)
        return 0;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < n; i++) {
        lo = a->key[i] < lo ? a->key[i] : lo;
        hi = a->key[i] > hi ? a->key[i] : hi;
    }
    int bits = 64 - __builtin_clzll ((hi - lo) | 1);
    uint64_t *tmp = malloc (n * sizeof *tmp);
    if (!tmp)
        return PL_ENOMEM;
    uint64_t *src = a->key, *dst = tmp;
    size_t count[2048];
    for (int shift = 0; shift < bits; shift += 11) {
        memset (count, 0, sizeof count);
        for (size_t i = 0; i < n; i++)
            count[((src[i] - lo) >> shift) & 2047]++;
        size_t sum = 0;
        for (int d = 0; d < 2048; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[count[((src[i] - lo) >> shift) & 2047]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != a->key)
        memcpy (a->key, src, n * sizeof *src);
    free (tmp);
    return 0;
}

static void
s_dedupe_keys (keys_t *a)
{
    size_t k = 0;
    for (size_t i = 0; i < a->n; i++) {
        if (k == 0 || a->key[i] != a->key[k - 1])
            a->key[k++] = a->key[i];
    }
    a->n = k;
}

typedef struct {
    uint64_t key;
    int32_t day;
} dated_t;

static int
s_cmp_dated (const void *x, const void *y)
{
    const dated_t *a = x, *b = y;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return (a->day > b->day) - (a->day < b->day);
}

/* Sorts keys with their days; a key given twice keeps its latest day. */
static int
s_sort_dated (keys_t *a)
{
    dated_t *t = malloc ((a->n ? a->n : 1) * sizeof *t);
    if (!t)
        return PL_ENOMEM;
    for (size_t i = 0; i < a->n; i++)
        t[i] = (dated_t) { a->key[i], a->day[i] };
    qsort (t, a->n, sizeof *t, s_cmp_dated);
    size_t k = 0;
    for (size_t i = 0; i < a->n; i++) {
        if (k && a->key[k - 1] == t[i].key) {
            a->day[k - 1] = t[i].day;       /* sorted by day: the last is the latest */
        } else {
            a->key[k] = t[i].key;
            a->day[k] = t[i].day;
            k++;
        }
    }
    a->n = k;
    free (t);
    return 0;
}

/* ------------------------------------------------------------------------------------------- */
/* The loader                                                                                   */

typedef enum { ACT_ADD, ACT_DEL, ACT_CLEAR } action_t;

typedef struct {
    const scrub_load_options_t *o;
    scrub_load_report_t *r;
    pl_phone_t *phone;
    const char *region;
    keys_t add, del, clear;             /* numbers */
    keys_t padd, pdel;                  /* wildcard blocks (encoded) */
    bool dated;
    bool header_done;                   /* the first non-blank line was seen */
    int csv_col;                        /* CSV: the column's index, -1 before the header */
    char csv_delim;
    int fatal;                          /* a failure that ends the load (rc) */
    /* the line being assembled across chunks */
    char *carry;
    size_t carry_len;
    bool overlong;
} loader_t;

/* A parsed line. */
typedef enum { P_SKIP, P_NUMBER, P_PREFIX, P_BAD } parsed_kind_t;

typedef struct {
    parsed_kind_t kind;
    uint64_t key;           /* P_NUMBER: the key; P_PREFIX: the encoded block */
    int32_t day;            /* rnd */
    bool clear;             /* bloctel: checked and not registered */
    const char *reason;     /* P_BAD */
} parsed_t;

static const char *
s_phone_reason (pl_phone_reason_t r, const char *region)
{
    bool gb = region && strcasecmp (region, "GB") == 0;
    bool fr = region && strcasecmp (region, "FR") == 0;
    bool us = region && strcasecmp (region, "US") == 0;
    switch (r) {
    case PL_PHONE_NOT_A_NUMBER:
        return "not a phone number";
    case PL_PHONE_NO_REGION:
        return "national number and no default region";
    case PL_PHONE_INVALID_COUNTRY_CODE:
        return "invalid country code";
    case PL_PHONE_TOO_SHORT:
        return gb ? "not a valid GB number: too short"
             : fr ? "not a valid FR number: too short"
             : us ? "not a valid US number: too short" : "not a valid number: too short";
    case PL_PHONE_TOO_LONG:
        return gb ? "not a valid GB number: too long"
             : fr ? "not a valid FR number: too long"
             : us ? "not a valid US number: too long" : "not a valid number: too long";
    case PL_PHONE_INVALID_LENGTH:
        return "not a valid number: no such length";
    case PL_PHONE_INVALID_FOR_REGION:
        return gb ? "not a valid GB number: range not in use"
             : fr ? "not a valid FR number: range not in use"
             : us ? "not a valid US number: range not in use"
                  : "not a valid number: range not in use";
    case PL_PHONE_VALID:
        break;
    }
    return "not a valid number";
}

/* Trims ASCII blanks at both ends. */
static void
s_trim (const char **p, size_t *len)
{
    while (*len && ((*p)[0] == ' ' || (*p)[0] == '\t')) {
        (*p)++;
        (*len)--;
    }
    while (*len && ((*p)[*len - 1] == ' ' || (*p)[*len - 1] == '\t'))
        (*len)--;
}

static bool
s_has_alpha (const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (isalpha ((unsigned char) p[i]))
            return true;
    }
    return false;
}

/* Normalises a number written as people write them through libphonenumber. */
static void
s_number (loader_t *L, const char *p, size_t len, const char *region, parsed_t *out)
{
    char buf[PL_PHONE_RAW_MAX + 1];
    if (len == 0) {
        out->kind = P_BAD;
        out->reason = "empty number";
        return;
    }
    if (len > PL_PHONE_RAW_MAX) {
        out->kind = P_BAD;
        out->reason = "not a valid number: too long";
        return;
    }
    memcpy (buf, p, len);
    buf[len] = '\0';
    pl_phone_number_t num;
    if (pl_phone_parse (L->phone, buf, region, &num) != 0) {
        out->kind = P_BAD;
        out->reason = s_phone_reason (num.reason, region);
        return;
    }
    if (scrub_key_from_e164 (num.e164, &out->key, NULL) != 0) {
        out->kind = P_BAD;
        out->reason = "not a valid number";
        return;
    }
    out->kind = P_NUMBER;
}

/* NANP national: 10 digits NPA NXX XXXX, NPA and NXX starting 2-9, NPA not N11. A leading
 * "+1" or "1" (11 digits) is accepted. */
static bool
s_nanp (const char *p, size_t len, uint64_t *key, const char **reason)
{
    if (len == 12 && p[0] == '+' && p[1] == '1') {
        p += 2;
        len -= 2;
    } else if (len == 11 && p[0] == '1') {
        p += 1;
        len -= 1;
    }
    if (len != 10) {
        *reason = "not a 10-digit NANP number";
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < 10; i++) {
        if (p[i] < '0' || p[i] > '9') {
            *reason = "not a 10-digit NANP number";
            return false;
        }
        v = v * 10 + (uint64_t) (p[i] - '0');
    }
    if (p[0] < '2' || (p[1] == '1' && p[2] == '1')) {
        *reason = "not a NANP area code";
        return false;
    }
    if (p[3] < '2') {
        *reason = "NANP exchange code must start with 2-9";
        return false;
    }
    *key = 10000000000ULL + v;
    return true;
}

/* "AAA,NNNNNNN" */
static void
s_us_dnc (const char *p, size_t len, parsed_t *out)
{
    char digits[10];
    if (len != 11 || p[3] != ',') {
        out->kind = P_BAD;
        out->reason = "not AAA,NNNNNNN";
        return;
    }
    memcpy (digits, p, 3);
    memcpy (digits + 3, p + 4, 7);
    for (int i = 0; i < 10; i++) {
        if (digits[i] < '0' || digits[i] > '9') {
            out->kind = P_BAD;
            out->reason = "not AAA,NNNNNNN";
            return;
        }
    }
    if (s_nanp (digits, 10, &out->key, &out->reason))
        out->kind = P_NUMBER;
    else
        out->kind = P_BAD;
}

/* "0207 3787244", "01635506160 ": digits, at most one inner space, trailing spaces. */
static void
s_tps (loader_t *L, const char *p, size_t len, parsed_t *out)
{
    char digits[16];
    size_t n = 0;
    int spaces = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == ' ') {
            spaces++;
            continue;
        }
        if (p[i] < '0' || p[i] > '9' || n == sizeof digits - 1 || spaces > 1) {
            out->kind = P_BAD;
            out->reason = "not a TPS record (a national number, digits and one space)";
            return;
        }
        digits[n++] = p[i];
    }
    if (spaces > 1 || n < 10 || n > 11 || digits[0] != '0') {
        out->kind = P_BAD;
        out->reason = "not a TPS record (a national number, digits and one space)";
        return;
    }
    s_number (L, digits, n, "GB", out);
}

/* "+CC…*": a whole block. */
static void
s_wildcard (const char *p, size_t len, parsed_t *out)
{
    uint64_t v = 0;
    int nd = 0;
    bool plus = false;
    for (size_t i = 0; i + 1 < len; i++) {          /* the last character is the '*' */
        char c = p[i];
        if (c == '+' && !plus && nd == 0) {
            plus = true;
        } else if (c >= '0' && c <= '9' && plus) {
            if (nd == 0 && c == '0')
                break;
            if (nd == 14) {
                nd = 99;
                break;
            }
            v = v * 10 + (uint64_t) (c - '0');
            nd++;
        } else if (c == ' ' || c == '.' || c == '-') {
            continue;
        } else {
            nd = 0;
            break;
        }
    }
    if (!plus || nd < 1 || nd > 14) {
        out->kind = P_BAD;
        out->reason = "a wildcard block must be +CC... in international form, 1-14 digits";
        return;
    }
    out->kind = P_PREFIX;
    out->key = SCRUB_PREFIX_ENCODE (nd, v);
}

/* A cell of LINES or CSV: a number or a wildcard block. */
static void
s_cell (loader_t *L, const char *p, size_t len, parsed_t *out)
{
    s_trim (&p, &len);
    if (len && p[len - 1] == '*')
        s_wildcard (p, len, out);
    else
        s_number (L, p, len, L->region, out);
}

/* The i-th field of a delimited line into out (quotes removed). -1 when the line has fewer
 * fields, -2 for an unterminated quote. */
static int
s_field (const char *p, size_t len, char delim, int want, char *out, size_t cap, size_t *outlen)
{
    size_t i = 0;
    int f = 0;
    for (;;) {
        size_t n = 0;
        bool quoted = i < len && p[i] == '"';
        if (quoted) {
            i++;
            for (;;) {
                if (i >= len)
                    return -2;
                if (p[i] == '"') {
                    if (i + 1 < len && p[i + 1] == '"') {
                        if (f == want && n < cap)
                            out[n++] = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                if (f == want && n < cap)
                    out[n++] = p[i];
                i++;
            }
            while (i < len && p[i] != delim)
                i++;
        } else {
            while (i < len && p[i] != delim) {
                if (f == want && n < cap)
                    out[n++] = p[i];
                i++;
            }
        }
        if (f == want) {
            *outlen = n;
            return 0;
        }
        if (i >= len)
            return -1;
        i++;            /* the delimiter */
        f++;
    }
}

/* The CSV header: the delimiter, then the index of the named column. */
static void
s_csv_header (loader_t *L, const char *p, size_t len)
{
    const char *cands = ",;\t";
    L->csv_delim = ',';
    for (const char *c = cands; *c; c++) {
        if (memchr (p, *c, len)) {
            L->csv_delim = *c;
            break;
        }
    }
    char cell[256];
    for (int f = 0; f < 1024; f++) {
        size_t n = 0;
        int rc = s_field (p, len, L->csv_delim, f, cell, sizeof cell - 1, &n);
        if (rc != 0)
            break;
        const char *c = cell;
        s_trim (&c, &n);
        if (n == strlen (L->o->csv_column) && strncasecmp (c, L->o->csv_column, n) == 0) {
            L->csv_col = f;
            return;
        }
    }
    L->fatal = s_fail (L->r, PL_EINVAL, "the CSV header has no column named \"%s\"",
                       L->o->csv_column);
}

static bool
s_parse_day (const char *p, size_t len, int32_t *day)
{
    int y, m, d;
    char buf[16];
    if (len == 10 && p[4] == '-' && p[7] == '-') {
        memcpy (buf, p, 10);
        buf[10] = '\0';
        if (sscanf (buf, "%4d-%2d-%2d", &y, &m, &d) != 3)
            return false;
    } else if (len == 8) {
        for (int i = 0; i < 8; i++) {
            if (p[i] < '0' || p[i] > '9')
                return false;
        }
        y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
        m = (p[4] - '0') * 10 + (p[5] - '0');
        d = (p[6] - '0') * 10 + (p[7] - '0');
    } else {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!(isdigit ((unsigned char) p[i]) || p[i] == '-'))
            return false;
    }
    if (y < 1970 || y > 2200 || !pl_civil_valid (y, m, d))
        return false;
    *day = (int32_t) pl_days_from_civil (y, m, d);
    return true;
}

/* "number[,date]" — the date is required unless the line deletes. */
static void
s_rnd (loader_t *L, const char *p, size_t len, bool deleting, parsed_t *out)
{
    const char *comma = memchr (p, ',', len);
    size_t nlen = comma ? (size_t) (comma - p) : len;
    const char *np = p;
    s_trim (&np, &nlen);
    const char *reason = NULL;
    if (s_nanp (np, nlen, &out->key, &reason)) {
        out->kind = P_NUMBER;
    } else {
        s_number (L, np, nlen, "US", out);
        if (out->kind != P_NUMBER) {
            if (nlen >= 10 && nlen <= 12 && np[0] != '+')
                out->reason = reason;
            return;
        }
    }
    if (!comma) {
        if (!deleting) {
            out->kind = P_BAD;
            out->reason = "no disconnect date (number,YYYY-MM-DD)";
        }
        return;
    }
    const char *dp = comma + 1;
    size_t dlen = (size_t) (p + len - dp);
    s_trim (&dp, &dlen);
    if (!s_parse_day (dp, dlen, &out->day)) {
        if (deleting && dlen == 0)
            return;
        out->kind = P_BAD;
        out->reason = "bad disconnect date (YYYY-MM-DD or YYYYMMDD)";
    }
}

static bool
s_word_is (const char *p, size_t len, const char *const *words)
{
    for (; *words; words++) {
        if (strlen (*words) == len && strncasecmp (p, *words, len) == 0)
            return true;
    }
    return false;
}

static void
s_bloctel (loader_t *L, const char *p, size_t len, parsed_t *out)
{
    static const char *const yes[] = { "1", "O", "OUI", "Y", "YES", "INSCRIT", NULL };
    static const char *const no[] = { "0", "N", "NON", "NO", "NON INSCRIT", "NON_INSCRIT",
                                      "NON-INSCRIT", NULL };
    const char *semi = memchr (p, ';', len);
    size_t nlen = semi ? (size_t) (semi - p) : len;
    const char *np = p;
    s_trim (&np, &nlen);
    s_number (L, np, nlen, "FR", out);
    if (out->kind != P_NUMBER || !semi)
        return;
    const char *sp = semi + 1;
    const char *end = memchr (sp, ';', (size_t) (p + len - sp));
    size_t slen = (size_t) ((end ? end : p + len) - sp);
    s_trim (&sp, &slen);
    if (s_word_is (sp, slen, yes)) {
        out->clear = false;
    } else if (s_word_is (sp, slen, no)) {
        out->clear = true;
    } else {
        out->kind = P_BAD;
        out->reason = "unknown Bloctel status (1/O/OUI/INSCRIT or 0/N/NON/NON INSCRIT)";
    }
}

static void
s_keep (loader_t *L, keys_t *a, uint64_t key, int32_t day, bool dated)
{
    if (!L->fatal && s_push (a, key, day, dated) != 0)
        L->fatal = s_fail (L->r, PL_ENOMEM, "out of memory after %llu lines",
                           (unsigned long long) L->r->lines);
}

/* One line (without its newline). */
static void
s_line (loader_t *L, const char *p, size_t len, uint64_t lineno)
{
    const scrub_load_options_t *o = L->o;
    if (len && p[len - 1] == '\r')
        len--;
    if (lineno == 1 && len >= 3 && memcmp (p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3;         /* a UTF-8 byte order mark */
        len -= 3;
    }
    const char *t = p;
    size_t tlen = len;
    s_trim (&t, &tlen);
    if (tlen == 0)
        return;
    bool first = !L->header_done;
    L->header_done = true;

    if (o->format == SCRUB_FORMAT_CSV && L->csv_col < 0) {
        s_csv_header (L, t, tlen);
        return;
    }
    if (o->format == SCRUB_FORMAT_LINES && t[0] == '#')
        return;

    action_t act = o->mode == SCRUB_LOAD_DELETE ? ACT_DEL : ACT_ADD;
    if (o->mode == SCRUB_LOAD_CHANGES) {
        static const char *const adds[] = { "A", "ADD", "I", "+", NULL };
        static const char *const dels[] = { "D", "DEL", "DELETE", "R", "-", NULL };
        const char *comma = NULL;
        for (size_t i = tlen; i > 0; i--) {
            if (t[i - 1] == ',') {
                comma = t + i - 1;
                break;
            }
        }
        const char *ap = comma ? comma + 1 : t;
        size_t alen = comma ? (size_t) (t + tlen - ap) : 0;
        s_trim (&ap, &alen);
        if (comma && s_word_is (ap, alen, adds)) {
            act = ACT_ADD;
        } else if (comma && s_word_is (ap, alen, dels)) {
            act = ACT_DEL;
        } else {
            s_report_bad (L->r, lineno, "change list line without its action (,A or ,D)");
            return;
        }
        tlen = (size_t) (comma - t);
        s_trim (&t, &tlen);
    }

    parsed_t r = { .kind = P_BAD, .reason = "unreadable line" };
    switch (o->format) {
    case SCRUB_FORMAT_US_DNC:
        s_us_dnc (t, tlen, &r);
        break;
    case SCRUB_FORMAT_TPS:
        s_tps (L, t, tlen, &r);
        break;
    case SCRUB_FORMAT_BLOCTEL: {
        const char *semi = memchr (t, ';', tlen);
        size_t flen = semi ? (size_t) (semi - t) : tlen;
        if (first && s_has_alpha (t, flen))
            return;                                     /* header */
        s_bloctel (L, t, tlen, &r);
        break;
    }
    case SCRUB_FORMAT_LINES:
        s_cell (L, t, tlen, &r);
        break;
    case SCRUB_FORMAT_CSV: {
        char cell[256];
        size_t n = 0;
        int rc = s_field (t, tlen, L->csv_delim, L->csv_col, cell, sizeof cell, &n);
        if (rc == -2) {
            r.reason = "unterminated quote (a field may not span lines)";
        } else if (rc == -1) {
            r.reason = "no cell in the numbers' column";
        } else if (n == sizeof cell) {
            r.reason = "number cell too long";
        } else {
            s_cell (L, cell, n, &r);
        }
        break;
    }
    case SCRUB_FORMAT_RND: {
        const char *comma = memchr (t, ',', tlen);
        size_t flen = comma ? (size_t) (comma - t) : tlen;
        if (first && s_has_alpha (t, flen))
            return;                                     /* header */
        s_rnd (L, t, tlen, act == ACT_DEL, &r);
        break;
    }
    }

    switch (r.kind) {
    case P_SKIP:
        return;
    case P_BAD:
        s_report_bad (L->r, lineno, r.reason);
        return;
    case P_PREFIX:
        L->r->good++;
        s_keep (L, act == ACT_DEL ? &L->pdel : &L->padd, r.key, 0, false);
        return;
    case P_NUMBER:
        L->r->good++;
        if (act == ACT_DEL)
            s_keep (L, &L->del, r.key, 0, false);
        else if (r.clear)
            s_keep (L, &L->clear, r.key, 0, false);
        else
            s_keep (L, &L->add, r.key, r.day, L->dated);
        return;
    }
}

/* Feeds bytes; at eof, a last line without its newline is reported, not applied. */
static void
s_feed (loader_t *L, const char *data, size_t len, bool eof)
{
    while (len && !L->fatal) {
        const char *nl = memchr (data, '\n', len);
        size_t piece = nl ? (size_t) (nl - data) : len;
        if (!L->carry_len && !L->overlong && nl) {
            /* the whole line is in this chunk: no copy */
            L->r->lines++;
            if (piece > LOAD_LINE_MAX)
                s_report_bad (L->r, L->r->lines, "line longer than 65536 bytes");
            else
                s_line (L, data, piece, L->r->lines);
        } else {
            if (L->carry_len + piece > LOAD_LINE_MAX) {
                L->overlong = true;
            } else {
                memcpy (L->carry + L->carry_len, data, piece);
                L->carry_len += piece;
            }
            if (nl) {
                L->r->lines++;
                if (L->overlong)
                    s_report_bad (L->r, L->r->lines, "line longer than 65536 bytes");
                else
                    s_line (L, L->carry, L->carry_len, L->r->lines);
                L->carry_len = 0;
                L->overlong = false;
            }
        }
        data += piece + (nl ? 1 : 0);
        len -= piece + (nl ? 1 : 0);
    }
    if (eof && !L->fatal && (L->carry_len || L->overlong)) {
        L->r->lines++;
        const char *t = L->carry;
        size_t tlen = L->carry_len;
        s_trim (&t, &tlen);
        if (tlen || L->overlong)
            s_report_bad (L->r, L->r->lines,
                          "no newline at the end of the file: the last line may be cut short");
        L->carry_len = 0;
        L->overlong = false;
    }
}

/* ------------------------------------------------------------------------------------------- */
/* Merging                                                                                      */

/* A version's numbers, decoded (a change list is merged into them). */
static uint64_t *
s_all_of (const scrub_numset_t *s)
{
    uint64_t *all = malloc ((s->n ? s->n : 1) * sizeof *all);
    if (all)
        scrub_numset_decode (s, all);
    return all;
}

/* out = (a ∪ b) \ c, all sorted unique; days follow keys (from b when a key is in both). */
static int
s_merge (const uint64_t *a, const int32_t *ad, size_t na, const uint64_t *b, const int32_t *bd,
         size_t nb, const uint64_t *c, size_t nc, keys_t *out, bool dated)
{
    size_t cap = na + nb;
    out->key = malloc ((cap ? cap : 1) * sizeof *out->key);
    out->day = dated ? malloc ((cap ? cap : 1) * sizeof *out->day) : NULL;
    if (!out->key || (dated && !out->day))
        return PL_ENOMEM;
    out->cap = cap;
    size_t i = 0, j = 0, k = 0, n = 0;
    while (i < na || j < nb) {
        uint64_t key;
        int32_t day = 0;
        if (j >= nb || (i < na && a[i] < b[j])) {
            key = a[i];
            day = dated ? ad[i] : 0;
            i++;
        } else {
            if (i < na && a[i] == b[j])
                i++;
            key = b[j];
            day = dated ? bd[j] : 0;
            j++;
        }
        while (k < nc && c[k] < key)
            k++;
        if (k < nc && c[k] == key)
            continue;
        out->key[n] = key;
        if (dated)
            out->day[n] = day;
        n++;
    }
    out->n = n;
    return 0;
}

static int
s_default_version (const scrub_load_options_t *o, char *buf, size_t cap)
{
    int32_t y;
    int m, d;
    int64_t days = o->taken_ms / DAY_MS - (o->taken_ms % DAY_MS < 0);
    pl_civil_from_days (days, &y, &m, &d);
    int n = snprintf (buf, cap, "%s@%04d-%02d-%02d", o->name, (int) y, m, d);
    return n > 0 && (size_t) n < cap ? 0 : PL_EINVAL;
}

static int
s_check_options (const scrub_load_options_t *o, const scrub_list_t *base,
                 scrub_load_report_t *r)
{
    if (!o->name || !o->name[0] || strlen (o->name) >= SCRUB_LIST_NAME_MAX)
        return s_fail (r, PL_EINVAL, "a list name of 1 to %d bytes is required",
                       SCRUB_LIST_NAME_MAX - 1);
    if (o->version && (!o->version[0] || strlen (o->version) >= SCRUB_LIST_VERSION_MAX))
        return s_fail (r, PL_EINVAL, "a version id is 1 to %d bytes",
                       SCRUB_LIST_VERSION_MAX - 1);
    if (o->jurisdiction && strlen (o->jurisdiction) >= SCRUB_JURISDICTION_MAX)
        return s_fail (r, PL_EINVAL, "jurisdiction too long");
    if (o->taken_ms <= 0)
        return s_fail (r, PL_EINVAL, "the date the copy was taken is required");
    if ((unsigned) o->format > SCRUB_FORMAT_RND || (unsigned) o->mode > SCRUB_LOAD_CHANGES)
        return s_fail (r, PL_EINVAL, "unknown format or mode");
    if (o->format == SCRUB_FORMAT_CSV && (!o->csv_column || !o->csv_column[0]))
        return s_fail (r, PL_EINVAL, "CSV needs the name of the numbers' column");
    if (o->format == SCRUB_FORMAT_CSV && o->mode == SCRUB_LOAD_CHANGES)
        return s_fail (r, PL_EINVAL,
                       "CSV change lists: load the additions and the deletions as two files");
    if (o->format == SCRUB_FORMAT_RND && o->kind != SCRUB_LIST_REASSIGNED)
        return s_fail (r, PL_EINVAL, "the rnd format makes a reassigned-numbers list");
    if (o->mode != SCRUB_LOAD_FULL) {
        if (!base)
            return s_fail (r, PL_EINVAL, "a change list needs the version it applies to");
        if (strcmp (scrub_list_name (base), o->name) != 0)
            return s_fail (r, PL_EINVAL, "the base version is of list \"%s\", not \"%s\"",
                           scrub_list_name (base), o->name);
        /* An rnd version emptied by deletions keeps no dates and is still dated. */
        bool dated = scrub__list_dates (base) != NULL
                     || (scrub_list_kind (base) == SCRUB_LIST_REASSIGNED && scrub_list_count (base) == 0);
        if (dated != (o->format == SCRUB_FORMAT_RND))
            return s_fail (r, PL_EINVAL, "the base version and the file disagree on dates");
        if (scrub__list_partial (base) != (o->format == SCRUB_FORMAT_BLOCTEL))
            return s_fail (r, PL_EINVAL, "the base version and the file disagree on answers");
    }
    return 0;
}

/* Everything read: sort, check, merge, build. */
static int
s_finish (loader_t *L, const scrub_list_t *base, scrub_list_t **out)
{
    const scrub_load_options_t *o = L->o;
    scrub_load_report_t *r = L->r;
    if (L->fatal)
        return L->fatal;
    if (o->format == SCRUB_FORMAT_CSV && L->csv_col < 0)
        return s_fail (r, PL_EINVAL, "the CSV file has no header row");
    if (r->bad && o->bad_lines != SCRUB_BAD_LINES_SKIP)
        return s_fail (r, PL_EINVAL,
                       "%llu bad line%s (first at line %llu); the version is refused as asked",
                       (unsigned long long) r->bad, r->bad > 1 ? "s" : "",
                       (unsigned long long) (r->kept ? r->items[0].line : 0));
    if (o->mode == SCRUB_LOAD_FULL && r->good == 0 && !o->allow_empty)
        return s_fail (r, PL_EINVAL, "no number in the file: an empty full list is refused");

    int rc = L->dated ? s_sort_dated (&L->add) : s_sort_keys (&L->add);
    keys_t *sets[] = { &L->del, &L->clear, &L->padd, &L->pdel };
    for (size_t i = 0; rc == 0 && i < sizeof sets / sizeof *sets; i++)
        rc = s_sort_keys (sets[i]);
    if (rc)
        return s_fail (r, rc, "out of memory while sorting");
    if (!L->dated)
        s_dedupe_keys (&L->add);
    for (size_t i = 0; i < sizeof sets / sizeof *sets; i++)
        s_dedupe_keys (sets[i]);
    if (o->mode == SCRUB_LOAD_FULL) {
        /* a number given both registered and clear in one answer file is registered */
        keys_t c = { 0 };
        rc = s_merge (NULL, NULL, 0, L->clear.key, NULL, L->clear.n, L->add.key, L->add.n, &c,
                      false);
        if (rc) {
            s_keys_free (&c);
            return s_fail (r, rc, "out of memory");
        }
        s_keys_free (&L->clear);
        L->clear = c;
    }

    char vbuf[SCRUB_LIST_VERSION_MAX];
    if (!o->version && s_default_version (o, vbuf, sizeof vbuf) != 0)
        return s_fail (r, PL_EINVAL, "list name too long for a version id");
    scrub__meta_t meta = { .name = o->name, .version = o->version ? o->version : vbuf,
                           .jurisdiction = o->jurisdiction, .kind = o->kind,
                           .partial = o->format == SCRUB_FORMAT_BLOCTEL,
                           .taken_ms = o->taken_ms };

    if (o->mode == SCRUB_LOAD_FULL) {
        rc = scrub__list_build (&meta, L->add.key, L->add.n, L->dated ? L->add.day : NULL,
                                L->clear.key, L->clear.n, L->padd.key, L->padd.n, out);
    } else {
        /* hits' = (base.hits \ (del ∪ clear)) ∪ add ;  clear' = (base.clear \ (del ∪ add)) ∪ clear
         * prefixes' = (base.prefixes \ pdel) ∪ padd */
        const scrub_numset_t *bh = scrub__list_hits (base), *bc = scrub__list_clear (base);
        uint64_t *bhk = s_all_of (bh), *bck = s_all_of (bc);
        keys_t gone = { 0 }, hits = { 0 }, clear = { 0 }, tmp = { 0 }, pfx = { 0 };
        size_t nbp;
        const uint64_t *bp = scrub__list_prefixes (base, &nbp);
        rc = (!bhk || !bck) ? PL_ENOMEM : 0;
        if (!rc)
            rc = s_merge (L->del.key, NULL, L->del.n, L->clear.key, NULL, L->clear.n, NULL, 0,
                          &gone, false);
        if (!rc)        /* base hits minus what is gone, then plus what is added */
            rc = s_merge (bhk, scrub__list_dates (base), bh->n, NULL, NULL, 0, gone.key, gone.n,
                          &tmp, L->dated);
        if (!rc)
            rc = s_merge (tmp.key, tmp.day, tmp.n, L->add.key, L->add.day, L->add.n, NULL, 0,
                          &hits, L->dated);
        s_keys_free (&gone);
        s_keys_free (&tmp);
        if (!rc)
            rc = s_merge (L->del.key, NULL, L->del.n, L->add.key, NULL, L->add.n, NULL, 0,
                          &gone, false);
        if (!rc)
            rc = s_merge (bck, NULL, bc->n, L->clear.key, NULL, L->clear.n, gone.key, gone.n,
                          &clear, false);
        if (!rc)
            rc = s_merge (bp, NULL, nbp, L->padd.key, NULL, L->padd.n, L->pdel.key, L->pdel.n,
                          &pfx, false);
        free (bhk);
        free (bck);
        if (!rc)
            rc = scrub__list_build (&meta, hits.key, hits.n, L->dated ? hits.day : NULL,
                                    clear.key, clear.n, pfx.key, pfx.n, out);
        s_keys_free (&gone);
        s_keys_free (&hits);
        s_keys_free (&clear);
        s_keys_free (&pfx);
    }
    if (rc == PL_ETOOBIG)
        return s_fail (r, rc, "more than 2^32 - 1 numbers in one version");
    if (rc)
        return s_fail (r, rc, "cannot build the version: %s",
                       rc == PL_ENOMEM ? "out of memory" : "a number out of range");
    return 0;
}

static int
s_begin (loader_t *L, const scrub_load_options_t *o, const scrub_list_t *base,
         scrub_load_report_t *r)
{
    memset (L, 0, sizeof *L);
    L->o = o;
    L->r = r;
    L->csv_col = -1;
    L->dated = o->format == SCRUB_FORMAT_RND;
    L->region = o->default_region;
    s_report_reset (r);
    int rc = s_check_options (o, base, r);
    if (rc)
        return rc;
    L->carry = malloc (LOAD_LINE_MAX);
    L->phone = pl_phone_new ();
    if (!L->carry || !L->phone)
        return s_fail (r, PL_ENOMEM, "out of memory");
    return 0;
}

static void
s_end (loader_t *L)
{
    free (L->carry);
    pl_phone_destroy (&L->phone);
    keys_t *all[] = { &L->add, &L->del, &L->clear, &L->padd, &L->pdel };
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        s_keys_free (all[i]);
}

int
scrub_list_load_mem (const scrub_load_options_t *opts, const void *data, size_t len,
                     const scrub_list_t *base, scrub_load_report_t *report, scrub_list_t **out)
{
    *out = NULL;
    loader_t L;
    int rc = s_begin (&L, opts, base, report);
    if (rc == 0) {
        s_feed (&L, data, len, true);
        rc = s_finish (&L, base, out);
    }
    s_end (&L);
    return rc;
}

int
scrub_list_load_file (const scrub_load_options_t *opts, const char *path,
                      const scrub_list_t *base, scrub_load_report_t *report, scrub_list_t **out)
{
    *out = NULL;
    loader_t L;
    int rc = s_begin (&L, opts, base, report);
    char *buf = NULL;
    int fd = -1;
    if (rc == 0) {
        buf = malloc (LOAD_CHUNK);
        if (!buf)
            rc = s_fail (report, PL_ENOMEM, "out of memory");
    }
    if (rc == 0) {
        fd = open (path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            rc = s_fail (report, PL_EIO, "cannot open %s: %s", path, strerror (errno));
    }
    if (rc == 0) {
        posix_fadvise (fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        for (;;) {
            ssize_t n = read (fd, buf, LOAD_CHUNK);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                rc = s_fail (report, PL_EIO, "reading %s after line %llu: %s", path,
                             (unsigned long long) report->lines, strerror (errno));
                break;
            }
            s_feed (&L, buf, (size_t) n, n == 0);
            if (n == 0 || L.fatal)
                break;
        }
    }
    if (fd >= 0)
        close (fd);
    free (buf);
    if (rc == 0)
        rc = s_finish (&L, base, out);
    s_end (&L);
    return rc;
}

int
scrub_list_from_keys (const scrub_load_options_t *opts, const uint64_t *keys, size_t n,
                      scrub_list_t **out)
{
    *out = NULL;
    char vbuf[SCRUB_LIST_VERSION_MAX];
    if (!opts->name || !opts->name[0] || strlen (opts->name) >= SCRUB_LIST_NAME_MAX
        || opts->taken_ms <= 0 || (!opts->version && s_default_version (opts, vbuf, sizeof vbuf)))
        return PL_EINVAL;
    scrub__meta_t meta = { .name = opts->name, .version = opts->version ? opts->version : vbuf,
                           .jurisdiction = opts->jurisdiction, .kind = opts->kind,
                           .taken_ms = opts->taken_ms };
    bool increasing = true;
    for (size_t i = 1; i < n && increasing; i++)
        increasing = keys[i - 1] < keys[i];
    if (increasing)
        return scrub__list_build (&meta, keys, n, NULL, NULL, 0, NULL, 0, out);
    keys_t k = { .key = malloc ((n ? n : 1) * sizeof *k.key), .n = n, .cap = n };
    if (!k.key)
        return PL_ENOMEM;
    memcpy (k.key, keys, n * sizeof *keys);
    int rc = s_sort_keys (&k);
    if (rc == 0) {
        s_dedupe_keys (&k);
        rc = scrub__list_build (&meta, k.key, k.n, NULL, NULL, 0, NULL, 0, out);
    }
    s_keys_free (&k);
    return rc;
}
