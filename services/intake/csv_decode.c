/*  csv_decode.c — streaming CSV decoder (see csv_decode.h).
 *
 *  Our own push parser rather than libcsv: a rejected row must name its line, and with quoted
 *  fields spanning lines (addresses do) the line of a record is only known to the code that sees
 *  every byte; libcsv reports fields and rows but no positions (docs/adr/0030).
 *
 *  Three stages, each bounded in memory:
 *    1. detection: up to the first ten lines (at most 64 KiB) are held back to find the
 *       delimiter (or read it from Excel's "sep=;" first line), a BOM, or a UTF-16 file;
 *    2. the byte state machine (s_run) gathers one record at a time into `rec`, with the
 *       offsets of its fields; a record over max_record bytes or max_columns fields is cut
 *       short and rejected as a whole, but its end is still found;
 *    3. each complete record becomes a JSON object named after the columns (s_row), its numbers
 *       put in the order of their columns' ranks (s_order_phones), decoded by
 *       intake_lead_from_json() like any other lead, and its errors are given back their column.
 *  The header row is read whole before any column is named: it says whether the file is a
 *  CRM's export, read by that CRM's preset (csv_mapping.h, docs/crm.md).
 *  Cells are converted to UTF-8 in stage 3: delimiters, quotes and newlines are ASCII in every
 *  encoding accepted, so splitting raw bytes first is exact.
 */
#include "csv_decode.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plateau/error.h"
#include "plateau/utf8.h"

#define S_PRE_MAX (64 * 1024)
#define S_PRE_LINES 10

enum { S_FIELD_START, S_UNQUOTED, S_QUOTED, S_QUOTE_QUOTE, S_AFTER_CR };
enum { S_ENC_UNKNOWN, S_ENC_UTF8, S_ENC_CP1252 };

typedef struct {
    size_t off;
    size_t len;
} s_field_t;

typedef struct {
    char path[96];
    size_t col;                 /* 1-based */
} s_path_t;

typedef struct {
    json_t *number;             /* the cell's text */
    unsigned rank;
    size_t col;                 /* 1-based */
} s_phone_t;

struct intake_csv {
    intake_csv_opts_t opts;
    const intake_mappings_t *mappings;
    intake_lead_opts_t lopts;
    intake_item_fn fn;
    void *arg;

    /* stage 1 */
    bool started;
    char *pre;
    size_t pre_len;
    size_t pre_newlines;
    char delim;
    bool bom;
    int enc;

    /* stage 2 */
    int state;
    char *rec;
    size_t rec_len;
    size_t rec_cap;
    s_field_t *fields;
    size_t nfields;
    size_t field_start;
    bool in_record;
    bool overflow;
    size_t line;                /* current physical line, 1-based */
    size_t rec_line;            /* line where the current record started */
    size_t quote_line;          /* line where the open quoted field started */

    /* columns */
    const intake_preset_t *preset;      /* named by opts.mapping, or recognised in the header */
    bool have_columns;
    bool skip_header;
    intake_col_t *cols;
    size_t ncols;

    /* stage 3 */
    char *conv;                 /* one cell converted to UTF-8 */
    size_t conv_cap;
    char *addr;                 /* address parts joined */
    size_t addr_cap;
    s_path_t *paths;
    size_t npaths;
    s_phone_t *phones;          /* a row's numbers, put in order once it is read */
    size_t nphones;
    size_t items;
    intake_errors_t row_errors;
    intake_errors_t lead_errors;
    int failed;
    bool has_fatal;
    intake_error_t fatal;
};

/* ------------------------------------------------------------------------------------------- */
/* Encoding                                                                                     */

/* Windows-1252 0x80..0x9F. The five bytes it leaves undefined map to the C1 controls, as in
 * ISO-8859-1; 0xA0..0xFF are U+00A0..U+00FF in both. */
static const unsigned short s_cp1252[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
    0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

static bool
s_ascii (const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char) s[i] >= 0x80)
            return false;
    return true;
}

static bool
s_conv_reserve (intake_csv_t *self, size_t n)
{
    if (n <= self->conv_cap)
        return true;
    size_t cap = self->conv_cap ? self->conv_cap : 256;
    while (cap < n)
        cap *= 2;
    char *b = realloc (self->conv, cap);
    if (!b)
        return false;
    self->conv = b;
    self->conv_cap = cap;
    return true;
}

/* The cell's bytes as UTF-8: either the raw bytes themselves or self->conv. NULL when out of
 * memory. */
static const char *
s_utf8 (intake_csv_t *self, const char *s, size_t n, size_t *out_len)
{
    *out_len = n;
    if (s_ascii (s, n))
        return s;
    bool valid = pl_utf8_valid (s, n);
    if (self->enc == S_ENC_UNKNOWN)
        self->enc = valid ? S_ENC_UTF8 : S_ENC_CP1252;
    if (self->enc == S_ENC_UTF8 && valid)
        return s;
    if (!s_conv_reserve (self, 3 * n + 1))
        return NULL;
    char *o = self->conv;
    for (size_t i = 0; i < n; i++) {
        unsigned c = (unsigned char) s[i];
        unsigned cp = c < 0x80 ? c : c < 0xA0 ? s_cp1252[c - 0x80] : c;
        if (cp < 0x80) {
            *o++ = (char) cp;
        }
        else if (cp < 0x800) {
            *o++ = (char) (0xC0 | (cp >> 6));
            *o++ = (char) (0x80 | (cp & 0x3F));
        }
        else {
            *o++ = (char) (0xE0 | (cp >> 12));
            *o++ = (char) (0x80 | ((cp >> 6) & 0x3F));
            *o++ = (char) (0x80 | (cp & 0x3F));
        }
    }
    *o = '\0';
    *out_len = (size_t) (o - self->conv);
    return self->conv;
}

/* Field i of the current record, trimmed of ASCII blanks (raw bytes). */
static const char *
s_cell_raw (const intake_csv_t *self, size_t i, size_t *n)
{
    size_t len = self->fields[i].len;
    const char *s = len ? self->rec + self->fields[i].off : "";
    while (len > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    *n = len;
    return s;
}

/* ------------------------------------------------------------------------------------------- */
/* Lifecycle                                                                                    */

intake_csv_t *
intake_csv_new (const intake_csv_opts_t *opts, const intake_mappings_t *mappings,
                const intake_lead_opts_t *lead_opts, intake_item_fn fn, void *arg)
{
    if (!lead_opts || !fn)
        return NULL;
    intake_csv_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    if (opts)
        self->opts = *opts;
    if (!self->opts.max_record)
        self->opts.max_record = INTAKE_CSV_MAX_RECORD;
    if (!self->opts.max_columns)
        self->opts.max_columns = INTAKE_CSV_MAX_COLUMNS;
    self->mappings = mappings;
    self->lopts = *lead_opts;
    self->lopts.text_values = true;
    self->fn = fn;
    self->arg = arg;
    self->line = 1;
    self->pre = malloc (S_PRE_MAX);
    self->fields = calloc (self->opts.max_columns, sizeof *self->fields);
    self->paths = calloc (self->opts.max_columns + 4, sizeof *self->paths);
    self->phones = calloc (self->opts.max_columns, sizeof *self->phones);
    if (!self->pre || !self->fields || !self->paths || !self->phones) {
        intake_csv_destroy (&self);
        return NULL;
    }
    return self;
}

void
intake_csv_destroy (intake_csv_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    intake_csv_t *self = *self_p;
    free (self->pre);
    free (self->rec);
    free (self->fields);
    free (self->cols);
    free (self->conv);
    free (self->addr);
    free (self->paths);
    free (self->phones);
    free (self);
    *self_p = NULL;
}

const intake_error_t *
intake_csv_error (const intake_csv_t *self)
{
    return self && self->has_fatal ? &self->fatal : NULL;
}

char
intake_csv_delimiter (const intake_csv_t *self)
{
    return self->started ? self->delim : 0;
}

const char *
intake_csv_encoding (const intake_csv_t *self)
{
    return self->enc == S_ENC_CP1252 ? "windows-1252" : "utf-8";
}

bool
intake_csv_had_bom (const intake_csv_t *self)
{
    return self->bom;
}

const char *
intake_csv_preset (const intake_csv_t *self)
{
    return self && self->preset ? intake_preset_name (self->preset) : NULL;
}

/* Ends decoding with a file-level error. */
static int
s_fatal (intake_csv_t *self, int rc, const char *code, size_t line, size_t column,
         const char *header, const char *fmt, ...) __attribute__ ((format (printf, 7, 8)));

static int
s_fatal (intake_csv_t *self, int rc, const char *code, size_t line, size_t column,
         const char *header, const char *fmt, ...)
{
    intake_error_t *e = &self->fatal;
    memset (e, 0, sizeof *e);
    e->code = code;
    e->line = line;
    e->column = column;
    snprintf (e->header, sizeof e->header, "%s", header ? header : "");
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (e->message, sizeof e->message, fmt, ap);
    va_end (ap);
    intake_error_printable (e->message);
    intake_error_printable (e->header);
    self->has_fatal = true;
    self->failed = rc;
    return rc;
}

static int
s_fail (intake_csv_t *self, int rc)
{
    self->failed = rc;
    return rc;
}

/* ------------------------------------------------------------------------------------------- */
/* Items                                                                                        */

static int
s_emit (intake_csv_t *self, Plateau__V1__Lead *lead, const intake_errors_t *errors)
{
    if (self->opts.max_items && self->items >= self->opts.max_items) {
        intake_lead_free (&lead);
        return s_fatal (self, PL_ETOOBIG, INTAKE_E_TOO_BIG, self->rec_line, 0, NULL,
                        "more than %zu leads in one file", self->opts.max_items);
    }
    intake_item_t item = {.index = self->items, .line = self->rec_line, .lead = lead,
                          .errors = lead ? NULL : errors};
    self->items++;
    int rc = self->fn (self->arg, &item);
    return rc < 0 ? s_fail (self, rc) : 0;
}

static const char *
s_label (const intake_csv_t *self, size_t col)
{
    if (col == 0 || col > self->ncols)
        return "";
    return self->cols[col - 1].label;
}

/* A row rejected by the CSV layer alone. */
static int
s_reject (intake_csv_t *self, const char *code, size_t column, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

static int
s_reject (intake_csv_t *self, const char *code, size_t column, const char *fmt, ...)
{
    intake_errors_t *errs = &self->row_errors;
    intake_errors_clear (errs);
    intake_errors_add (errs, "", code, "%s", "");
    intake_error_t *e = &errs->items[0];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (e->message, sizeof e->message, fmt, ap);
    va_end (ap);
    e->line = self->rec_line;
    e->column = column;
    snprintf (e->header, sizeof e->header, "%s", s_label (self, column));
    intake_error_printable (e->message);
    intake_error_printable (e->header);
    return s_emit (self, NULL, errs);
}

/* ------------------------------------------------------------------------------------------- */
/* Columns                                                                                      */

static bool
s_single_valued (intake_col_kind_t k)
{
    return k != INTAKE_COL_IGNORE && k != INTAKE_COL_EXTRA && k != INTAKE_COL_ALT_PHONE
           && k != INTAKE_COL_ADDRESS && k != INTAKE_COL_CUSTOM;
}

static bool
s_blank (const intake_csv_t *self)
{
    for (size_t i = 0; i < self->nfields; i++) {
        size_t n;
        s_cell_raw (self, i, &n);
        if (n > 0)
            return false;
    }
    return true;
}

static int
s_use_mapping (intake_csv_t *self)
{
    const intake_mapping_t *m = intake_mappings_get (self->mappings, self->opts.mapping);
    if (!m && (self->preset = intake_preset_get (self->opts.mapping)))
        return 0;                       /* a CRM's export: the header row names its columns */
    if (!m) {
        char names[256];
        intake_mappings_names (self->mappings, names, sizeof names);
        int rc = s_fatal (self, PL_ENOTFOUND, INTAKE_E_INVALID_VALUE, 0, 0, NULL,
                          "unknown mapping '%.64s': the mappings are %s", self->opts.mapping,
                          names);
        snprintf (self->fatal.field, sizeof self->fatal.field, "mapping");
        return rc;
    }
    self->ncols = intake_mapping_size (m);
    self->cols = calloc (self->ncols, sizeof *self->cols);
    if (!self->cols)
        return s_fail (self, PL_ENOMEM);
    for (size_t i = 0; i < self->ncols; i++)
        self->cols[i] = *intake_mapping_column (m, i);
    self->have_columns = true;
    self->skip_header = self->opts.mapping_has_header;
    return 0;
}

static int s_columns (intake_csv_t *self, char (*cells)[256]);

/* Reads the header row into self->cols. */
static int
s_header (intake_csv_t *self)
{
    self->ncols = self->nfields;
    self->cols = calloc (self->ncols, sizeof *self->cols);
    if (!self->cols)
        return s_fail (self, PL_ENOMEM);
    /* The cells as text first: the header as a whole says whose export this is. */
    char (*cells)[256] = calloc (self->ncols ? self->ncols : 1, sizeof *cells);
    const char **texts = calloc (self->ncols ? self->ncols : 1, sizeof *texts);
    if (!cells || !texts) {
        free (cells);
        free (texts);
        return s_fail (self, PL_ENOMEM);
    }
    for (size_t i = 0; i < self->ncols; i++) {
        size_t rn, n;
        const char *raw = s_cell_raw (self, i, &rn);
        const char *text = s_utf8 (self, raw, rn, &n);
        if (!text) {
            free (cells);
            free (texts);
            return s_fail (self, PL_ENOMEM);
        }
        size_t cn = n < sizeof cells[i] - 1 ? n : sizeof cells[i] - 1;
        memcpy (cells[i], text, cn);
        cells[i][cn] = '\0';
        texts[i] = cells[i];
    }
    if (!self->preset)
        self->preset = intake_preset_detect (texts, self->ncols);
    int rc = s_columns (self, cells);
    free (cells);
    free (texts);
    return rc;
}

/* Gives each header cell its meaning. */
static int
s_columns (intake_csv_t *self, char (*cells)[256])
{
    bool seen[INTAKE_COL_KIND_COUNT] = {false};
    for (size_t i = 0; i < self->ncols; i++) {
        const char *cell = cells[i];
        intake_col_t *col = &self->cols[i];
        bool known = intake_preset_column (self->preset, cell, col);
        if (!known && col->kind == INTAKE_COL_CUSTOM && self->lopts.reject_unknown)
            return s_fatal (self, PL_EINVAL, INTAKE_E_UNKNOWN_FIELD, self->rec_line, i + 1,
                            col->label, "unknown column '%.64s' (this source rejects unknown "
                                        "fields)", col->label);
        if (col->kind == INTAKE_COL_PHONE && seen[INTAKE_COL_PHONE])
            col->kind = INTAKE_COL_ALT_PHONE;
        if (s_single_valued (col->kind) && seen[col->kind]) {
            /* a second column for a field that holds one value: kept apart, not merged */
            col->kind = INTAKE_COL_CUSTOM;
            snprintf (col->key, sizeof col->key, "%s", col->label);
        }
        if (col->kind == INTAKE_COL_CUSTOM) {
            for (size_t j = 0; j < i; j++)
                if (self->cols[j].kind == INTAKE_COL_CUSTOM
                    && strcmp (self->cols[j].key, col->key) == 0) {
                    char suffix[24];
                    snprintf (suffix, sizeof suffix, "#%zu", i + 1);
                    size_t keep = strlen (col->label);
                    if (keep > sizeof col->key - 1 - strlen (suffix))
                        keep = sizeof col->key - 1 - strlen (suffix);
                    memcpy (col->key, col->label, keep);
                    memcpy (col->key + keep, suffix, strlen (suffix) + 1);
                    break;
                }
        }
        seen[col->kind] = true;
    }
    if (!seen[INTAKE_COL_PHONE]) {
        char found[128] = "";
        size_t used = 0;
        for (size_t i = 0; i < self->ncols && used + 1 < sizeof found; i++) {
            int w = snprintf (found + used, sizeof found - used, "%s%s", i ? ", " : "",
                              self->cols[i].label);
            if (w < 0 || (size_t) w >= sizeof found - used)
                break;
            used += (size_t) w;
        }
        return s_fatal (self, PL_EINVAL, INTAKE_E_REQUIRED, self->rec_line, 0, NULL,
                        "no phone column in the header (%.100s): name one phone, telephone, "
                        "mobile… or give a mapping", found);
    }
    self->have_columns = true;
    return 0;
}

/* ------------------------------------------------------------------------------------------- */
/* Rows                                                                                         */

static void
s_path (intake_csv_t *self, const char *path, size_t col)
{
    if (self->npaths >= self->opts.max_columns + 4)
        return;
    s_path_t *p = &self->paths[self->npaths++];
    snprintf (p->path, sizeof p->path, "%s", path);
    p->col = col;
}

/* The column a lead error's field came from (0 when none did). */
static size_t
s_column_of (const intake_csv_t *self, const char *field)
{
    size_t flen = strlen (field);
    for (size_t i = 0; i < self->npaths; i++)
        if (strcmp (self->paths[i].path, field) == 0)
            return self->paths[i].col;
    for (size_t i = 0; i < self->npaths; i++) {
        const char *p = self->paths[i].path;
        size_t plen = strlen (p);
        if (flen && plen > flen && strncmp (p, field, flen) == 0
            && (p[flen] == '.' || p[flen] == '['))
            return self->paths[i].col;             /* "consents[0]" → its first column */
        if (plen && flen > plen && strncmp (p, field, plen) == 0
            && (field[plen] == '.' || field[plen] == '['))
            return self->paths[i].col;
    }
    return 0;
}

static int
s_set (json_t *obj, const char *key, const char *s, size_t n)
{
    json_t *v = json_stringn (s, n);
    if (!v)
        return -1;
    return json_object_set_new (obj, key, v);
}

/* An object member, created on first use. */
static json_t *
s_sub (json_t **holder)
{
    if (!*holder)
        *holder = json_object ();
    return *holder;
}

static bool
s_international (const char *s, size_t n)
{
    while (n > 0 && (*s == ' ' || *s == '('))
        s++, n--;
    return (n >= 1 && *s == '+') || (n >= 2 && s[0] == '0' && s[1] == '0');
}

static void
s_drop_phones (intake_csv_t *self)
{
    for (size_t i = 0; i < self->nphones; i++)
        json_decref (self->phones[i].number);
    self->nphones = 0;
}

/* The row's numbers in the lead's order — by rank, then column — the first given is the
 * phone, the others alt_phones: a row whose first phone column is empty is called on the next
 * number it has rather than rejected. Takes the numbers; 0 or PL_ENOMEM. */
static int
s_order_phones (intake_csv_t *self, json_t *obj, json_t *alts)
{
    s_phone_t *ph = self->phones;
    for (size_t i = 1; i < self->nphones; i++) {             /* stable: few columns */
        s_phone_t t = ph[i];
        size_t j = i;
        for (; j > 0 && ph[j - 1].rank > t.rank; j--)
            ph[j] = ph[j - 1];
        ph[j] = t;
    }
    int bad = 0;
    for (size_t i = 0; i < self->nphones; i++) {
        char path[48];                      /* "alt_phones[" and any size_t */
        if (i == 0)
            snprintf (path, sizeof path, "phone");
        else
            snprintf (path, sizeof path, "alt_phones[%zu]", i - 1);
        s_path (self, path, ph[i].col);
        if (bad)
            json_decref (ph[i].number);
        else if (i == 0)
            bad = json_object_set_new (obj, "phone", ph[i].number) ? PL_ENOMEM : 0;
        else
            bad = json_array_append_new (alts, ph[i].number) ? PL_ENOMEM : 0;
    }
    self->nphones = 0;
    return bad;
}

static int
s_row (intake_csv_t *self)
{
    intake_errors_t *rerr = &self->row_errors;
    intake_errors_clear (rerr);
    self->npaths = 0;
    self->nphones = 0;
    json_t *obj = json_object ();
    json_t *alts = json_array ();
    json_t *debt = NULL, *consent = NULL, *custom = NULL;
    if (!obj || !alts) {
        json_decref (obj);
        json_decref (alts);
        return s_fail (self, PL_ENOMEM);
    }
    int bad = 0;
    size_t addr_len = 0, addr_col = 0;
    char code[8] = "";
    size_t code_col = 0;
    char path[96];

    for (size_t i = 0; i < self->nfields && !bad; i++) {
        size_t rn, n;
        const char *raw = s_cell_raw (self, i, &rn);
        if (rn == 0)
            continue;
        const char *s = s_utf8 (self, raw, rn, &n);
        if (!s) {
            bad = PL_ENOMEM;
            break;
        }
        size_t col = i + 1;
        intake_col_t extra = {.kind = INTAKE_COL_EXTRA};
        const intake_col_t *c = i < self->ncols ? &self->cols[i] : &extra;
        const char *name = NULL;
        json_t *target = obj;
        switch (c->kind) {
        case INTAKE_COL_IGNORE:
            continue;
        case INTAKE_COL_EXTRA:
            if (self->lopts.reject_unknown) {
                intake_errors_add (rerr, "", INTAKE_E_EXTRA_COLUMN,
                                   i < self->ncols ? "column %zu has no header"
                                                   : "cell beyond the %zu columns of the header",
                                   i < self->ncols ? col : self->ncols);
                intake_error_t *e = &rerr->items[rerr->count - 1];
                e->line = self->rec_line;
                e->column = col;
                continue;
            }
            {
                char key[32];
                snprintf (key, sizeof key, "column_%zu", col);
                snprintf (path, sizeof path, "custom.%s", key);
                s_path (self, path, col);
                bad = s_sub (&custom) ? s_set (custom, key, s, n) : PL_ENOMEM;
            }
            continue;
        case INTAKE_COL_CUSTOM:
            snprintf (path, sizeof path, "custom.%s", c->key);
            s_path (self, path, col);
            bad = s_sub (&custom) ? s_set (custom, c->key, s, n) : PL_ENOMEM;
            continue;
        case INTAKE_COL_PHONE:
        case INTAKE_COL_ALT_PHONE: {
            /* put in order once the row is read (s_order_phones) */
            s_phone_t *ph = &self->phones[self->nphones];
            ph->number = json_stringn (s, n);
            ph->rank = c->rank;
            ph->col = col;
            if (ph->number)
                self->nphones++;
            else
                bad = PL_ENOMEM;
            continue;
        }
        case INTAKE_COL_ADDRESS:
            if (!addr_col)
                addr_col = col;
            if (addr_len + n + 3 > self->addr_cap) {
                size_t cap = (addr_len + n + 3) * 2;
                char *b = realloc (self->addr, cap);
                if (!b) {
                    bad = PL_ENOMEM;
                    continue;
                }
                self->addr = b;
                self->addr_cap = cap;
            }
            if (addr_len) {
                memcpy (self->addr + addr_len, ", ", 2);
                addr_len += 2;
            }
            memcpy (self->addr + addr_len, s, n);
            addr_len += n;
            continue;
        case INTAKE_COL_PHONE_CODE: {
            const char *p = s;
            size_t m = n;
            if (m && *p == '+')
                p++, m--;
            bool ok = m >= 1 && m <= 4;
            for (size_t k = 0; ok && k < m; k++)
                ok = isdigit ((unsigned char) p[k]);
            if (!ok) {
                intake_errors_add (rerr, "phone_code", INTAKE_E_INVALID_VALUE,
                                   "phone_code is a country calling code (1 to 4 digits)");
                intake_error_t *e = &rerr->items[rerr->count - 1];
                e->line = self->rec_line;
                e->column = col;
                snprintf (e->header, sizeof e->header, "%s", c->label);
                intake_error_printable (e->header);
            }
            else {
                memcpy (code, p, m);
                code[m] = '\0';
                code_col = col;
            }
            continue;
        }
        case INTAKE_COL_KIND_COUNT:
            continue;
        default: {
            /* A plain field: its name in the lead's JSON is its mapping target's. */
            const char *t = intake_col_name (c->kind);
            if (strncmp (t, "debt.", 5) == 0) {
                name = t + 5;
                target = s_sub (&debt);
            }
            else if (strncmp (t, "consent.", 8) == 0) {
                name = t + 8;
                target = s_sub (&consent);
            }
            else
                name = t;
            break;
        }
        }
        if (!target) {
            bad = PL_ENOMEM;
            continue;
        }
        if (target == debt)
            snprintf (path, sizeof path, "debt.%s", name);
        else if (target == consent)
            snprintf (path, sizeof path, "consents[0].%s", name);
        else
            snprintf (path, sizeof path, "%s", name);
        s_path (self, path, col);
        bad = s_set (target, name, s, n);
    }

    if (!bad)
        bad = s_order_phones (self, obj, alts);
    else
        s_drop_phones (self);
    if (!bad && addr_len) {
        s_path (self, "address", addr_col);
        bad = s_set (obj, "address", self->addr, addr_len);
    }
    if (!bad && code[0]) {
        /* VICIdial-style files give the country calling code apart from a national number */
        json_t *phone = json_object_get (obj, "phone");
        char buf[PL_PHONE_RAW_MAX + 16];
        if (phone && !s_international (json_string_value (phone), json_string_length (phone))) {
            snprintf (buf, sizeof buf, "+%s %.*s", code, (int) json_string_length (phone),
                      json_string_value (phone));
            bad = json_object_set_new (obj, "phone", json_string (buf));
        }
        for (size_t k = 0; !bad && k < json_array_size (alts); k++) {
            json_t *a = json_array_get (alts, k);
            if (!s_international (json_string_value (a), json_string_length (a))) {
                snprintf (buf, sizeof buf, "+%s %.*s", code, (int) json_string_length (a),
                          json_string_value (a));
                bad = json_array_set_new (alts, k, json_string (buf));
            }
        }
        (void) code_col;
    }
    if (!bad && json_array_size (alts))
        bad = json_object_set (obj, "alt_phones", alts);
    if (!bad && debt)
        bad = json_object_set (obj, "debt", debt);
    if (!bad && consent) {
        json_t *list = json_array ();
        bad = !list || json_array_append (list, consent) || json_object_set_new (obj, "consents",
                                                                                list);
    }
    if (!bad && custom)
        bad = json_object_set (obj, "custom", custom);
    json_decref (alts);
    json_decref (debt);
    json_decref (consent);
    json_decref (custom);
    if (bad) {
        json_decref (obj);
        return s_fail (self, PL_ENOMEM);
    }

    Plateau__V1__Lead *lead = NULL;
    int rc = intake_lead_from_json (obj, &self->lopts, &lead, &self->lead_errors);
    json_decref (obj);
    if (rc == PL_ENOMEM)
        return s_fail (self, PL_ENOMEM);
    if (lead && rerr->count == 0)
        return s_emit (self, lead, NULL);
    intake_lead_free (&lead);

    /* The CSV layer's errors first, then the lead's, each with its column. */
    for (size_t i = 0; i < self->lead_errors.count; i++) {
        const intake_error_t *le = &self->lead_errors.items[i];
        if (rerr->count >= INTAKE_MAX_ERRORS) {
            rerr->dropped++;
            continue;
        }
        intake_error_t *e = &rerr->items[rerr->count++];
        *e = *le;
        e->line = self->rec_line;
        e->column = s_column_of (self, le->field);
        snprintf (e->header, sizeof e->header, "%s", s_label (self, e->column));
        intake_error_printable (e->header);
    }
    rerr->dropped += self->lead_errors.dropped;
    rerr->known = self->lead_errors.known;
    for (size_t i = 0; i < rerr->count; i++)
        if (rerr->items[i].column && !rerr->items[i].header[0]) {
            snprintf (rerr->items[i].header, sizeof rerr->items[i].header, "%s",
                      s_label (self, rerr->items[i].column));
            intake_error_printable (rerr->items[i].header);
        }
    return s_emit (self, NULL, rerr);
}

/* A complete record is in rec/fields. */
static int
s_record (intake_csv_t *self, bool unterminated)
{
    if (!self->have_columns) {          /* no mapping, or a preset's: a header row */
        if (self->overflow)
            return s_fatal (self, PL_EINVAL, INTAKE_E_TOO_LONG, self->rec_line, 0, NULL,
                            "header longer than %zu bytes or %zu columns",
                            self->opts.max_record, self->opts.max_columns);
        if (unterminated)
            return s_fatal (self, PL_EINVAL, INTAKE_E_MALFORMED, self->rec_line, self->nfields,
                            NULL, "unterminated quoted field in the header");
        if (s_blank (self))
            return 0;
        return s_header (self);
    }
    if (self->overflow)
        return s_reject (self, INTAKE_E_TOO_LONG, 0, "record longer than %zu bytes or %zu "
                                                     "columns", self->opts.max_record,
                         self->opts.max_columns);
    if (unterminated)
        return s_reject (self, INTAKE_E_MALFORMED, self->nfields,
                         "unterminated quoted field (opened at line %zu)", self->quote_line);
    if (s_blank (self))
        return 0;
    if (self->skip_header) {
        self->skip_header = false;
        return 0;
    }
    return s_row (self);
}

/* ------------------------------------------------------------------------------------------- */
/* Stage 2: bytes → records                                                                     */

static inline int
s_append (intake_csv_t *self, char ch)
{
    if (self->overflow)
        return 0;
    if (self->rec_len + 1 > self->opts.max_record) {
        self->overflow = true;
        return 0;
    }
    if (self->rec_len + 1 > self->rec_cap) {
        size_t cap = self->rec_cap ? self->rec_cap * 2 : 1024;
        if (cap > self->opts.max_record)
            cap = self->opts.max_record;
        char *b = realloc (self->rec, cap);
        if (!b)
            return s_fail (self, PL_ENOMEM);
        self->rec = b;
        self->rec_cap = cap;
    }
    self->rec[self->rec_len++] = ch;
    return 0;
}

static inline void
s_end_field (intake_csv_t *self)
{
    if (self->overflow)
        return;
    if (self->nfields >= self->opts.max_columns) {
        self->overflow = true;
        return;
    }
    self->fields[self->nfields].off = self->field_start;
    self->fields[self->nfields].len = self->rec_len - self->field_start;
    self->nfields++;
    self->field_start = self->rec_len;
}

static int
s_end_record (intake_csv_t *self, bool unterminated)
{
    int rc = s_record (self, unterminated);
    self->rec_len = 0;
    self->nfields = 0;
    self->field_start = 0;
    self->overflow = false;
    self->in_record = false;
    return rc;
}

/* A line break outside quotes: it ends the field and the record; a CR may be followed by LF. */
static int
s_end_line (intake_csv_t *self, int ch)
{
    s_end_field (self);
    self->line++;
    int rc = s_end_record (self, false);
    self->state = ch == '\r' ? S_AFTER_CR : S_FIELD_START;
    return rc;
}

/* A delimiter or a line break outside quotes ends the field: true when ch is one (*rc set). */
static inline bool
s_field_ends (intake_csv_t *self, char ch, int *rc)
{
    if (ch == self->delim) {
        s_end_field (self);
        self->state = S_FIELD_START;
        return true;
    }
    if (ch == '\n' || ch == '\r') {
        *rc = s_end_line (self, ch);
        return true;
    }
    return false;
}

static int
s_run (intake_csv_t *self, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char ch = data[i];
        int rc = 0;
        switch (self->state) {
        case S_AFTER_CR:
            self->state = S_FIELD_START;
            if (ch == '\n')
                continue;
            /* fall through */
        case S_FIELD_START:
            if (!self->in_record) {
                self->in_record = true;
                self->rec_line = self->line;
            }
            if (ch == '"') {
                self->state = S_QUOTED;
                self->quote_line = self->line;
            }
            else if (!s_field_ends (self, ch, &rc)) {
                rc = s_append (self, ch);
                self->state = S_UNQUOTED;
            }
            break;
        case S_UNQUOTED:
            if (!s_field_ends (self, ch, &rc))
                rc = s_append (self, ch);
            break;
        case S_QUOTED:
            if (ch == '"') {
                self->state = S_QUOTE_QUOTE;
            }
            else {
                if (ch == '\n')
                    self->line++;
                rc = s_append (self, ch);
            }
            break;
        case S_QUOTE_QUOTE:
            if (ch == '"') {
                rc = s_append (self, '"');
                self->state = S_QUOTED;
            }
            else if (!s_field_ends (self, ch, &rc)) {
                /* "abc"def: lenient, like the spreadsheets that write it */
                rc = s_append (self, ch);
                self->state = S_UNQUOTED;
            }
            break;
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------- */
/* Stage 1: detection                                                                           */

static char
s_detect_delimiter (const char *buf, size_t len)
{
    static const char cands[] = {',', ';', '\t', '|'};
    enum { NC = sizeof cands, NL = S_PRE_LINES };
    size_t counts[NC][NL] = {{0}};
    size_t lines = 0;
    bool quoted = false, any = false;
    for (size_t i = 0; i < len && lines < NL; i++) {
        char ch = buf[i];
        if (ch == '"') {
            quoted = !quoted;
        }
        else if (!quoted && (ch == '\n' || ch == '\r')) {
            if (any)
                lines++;
            any = false;
        }
        else if (!quoted) {
            any = true;
            for (size_t c = 0; c < NC; c++)
                if (ch == cands[c])
                    counts[c][lines]++;
        }
    }
    if (any && lines < NL)
        lines++;                                   /* the last, unterminated line */
    /* For each candidate, the most frequent non-zero count per line and how many lines have
     * it: a real delimiter splits every line the same way. A header without delimiters (a
     * one-word line before a mapped file) does not spoil the vote. */
    char best = ',';
    size_t best_lines = 0, best_count = 0;
    for (size_t c = 0; c < NC; c++) {
        for (size_t l = 0; l < lines; l++) {
            size_t m = counts[c][l];
            if (m == 0)
                continue;
            size_t same = 0;
            for (size_t k = 0; k < lines; k++)
                same += counts[c][k] == m;
            if (same > best_lines || (same == best_lines && m > best_count)) {
                best = cands[c];
                best_lines = same;
                best_count = m;
            }
        }
    }
    return best;
}

static int
s_start (intake_csv_t *self)
{
    self->started = true;
    const char *p = self->pre;
    size_t n = self->pre_len;
    if (n >= 2 && ((unsigned char) p[0] == 0xFF && (unsigned char) p[1] == 0xFE))
        return s_fatal (self, PL_EINVAL, INTAKE_E_MALFORMED, 1, 0, NULL,
                        "UTF-16 files are not supported: save as CSV UTF-8 or CSV (Windows)");
    if (n >= 2 && ((unsigned char) p[0] == 0xFE && (unsigned char) p[1] == 0xFF))
        return s_fatal (self, PL_EINVAL, INTAKE_E_MALFORMED, 1, 0, NULL,
                        "UTF-16 files are not supported: save as CSV UTF-8 or CSV (Windows)");
    if (n >= 3 && memcmp (p, "\xEF\xBB\xBF", 3) == 0) {
        self->bom = true;
        p += 3;
        n -= 3;
    }
    /* Excel's "sep=;" first line names the delimiter (French Excel writes ';'): honoured,
     * and skipped as a line of the file, so that line numbers stay the file's. */
    char sep = 0;
    if (n >= 5 && strncasecmp (p, "sep=", 4) == 0 && (p[4] == ',' || p[4] == ';' || p[4] == '\t' || p[4] == '|')
        && (n == 5 || p[5] == '\n' || p[5] == '\r')) {
        sep = p[4];
        size_t skip = 5;
        while (skip < n && (p[skip] == '\r' || p[skip] == '\n') && skip < 7) {
            bool nl = p[skip] == '\n';
            skip++;
            if (nl)
                break;
        }
        p += skip;
        n -= skip;
        self->line++;
    }
    if (self->opts.delimiter == ',' || self->opts.delimiter == ';'
        || self->opts.delimiter == '\t' || self->opts.delimiter == '|')
        self->delim = self->opts.delimiter;
    else if (sep)
        self->delim = sep;
    else
        self->delim = s_detect_delimiter (p, n);
    if (self->opts.mapping) {
        int rc = s_use_mapping (self);
        if (rc < 0)
            return rc;
    }
    int rc = s_run (self, p, n);
    free (self->pre);
    self->pre = NULL;
    self->pre_len = 0;
    return rc;
}

int
intake_csv_feed (intake_csv_t *self, const void *data, size_t len)
{
    if (!self || (!data && len))
        return PL_EINVAL;
    if (self->failed)
        return PL_ECLOSED;
    const char *p = data;
    if (!self->started) {
        size_t take = S_PRE_MAX - self->pre_len;
        if (take > len)
            take = len;
        memcpy (self->pre + self->pre_len, p, take);
        for (size_t i = 0; i < take; i++)
            self->pre_newlines += p[i] == '\n';
        self->pre_len += take;
        p += take;
        len -= take;
        if (self->pre_newlines < S_PRE_LINES && self->pre_len < S_PRE_MAX)
            return 0;
        int rc = s_start (self);
        if (rc < 0)
            return rc;
    }
    return s_run (self, p, len);
}

int
intake_csv_finish (intake_csv_t *self)
{
    if (!self)
        return PL_EINVAL;
    if (self->failed)
        return PL_ECLOSED;
    int rc = 0;
    if (!self->started)
        rc = s_start (self);
    if (rc == 0 && self->state != S_AFTER_CR
        && (self->in_record || self->state != S_FIELD_START)) {
        bool unterminated = self->state == S_QUOTED;
        s_end_field (self);
        self->line++;
        rc = s_end_record (self, unterminated);
    }
    if (rc < 0)
        return rc;
    self->failed = PL_ECLOSED;
    return (int) self->items;
}
