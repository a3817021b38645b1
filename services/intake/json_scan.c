/*  json_scan.c — the limits of a JSON body, applied byte by byte (see json_scan.h).
 *
 *  A state machine fed one byte at a time. Structural states say what may come next (a value,
 *  a key, ':', ',' or a closing bracket); token states read a string, a number or a literal to
 *  its end. A token that may not stand where it is (a string where ',' was due) is read to its
 *  end first and refused there, as jansson does, so that the column of the error is the end of
 *  the unexpected token. The containers open are a stack of brackets, each object with its
 *  count of keys so far.
 */
#include "json_scan.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_decode.h"
#include "plateau/error.h"

#define S_DEPTH_CAP 64

typedef enum {
    ST_VALUE,                       /* a value is due */
    ST_VALUE_OR_CLOSE,              /* after '[' */
    ST_KEY_OR_CLOSE,                /* after '{' */
    ST_KEY,                         /* after ',' in an object */
    ST_COLON,                       /* after a key */
    ST_NEXT,                        /* after a value in a container: ',' or its closing bracket */
    ST_END,                         /* after the root value: blanks only */
    ST_STRING,
    ST_NUMBER,
    ST_LITERAL,
} s_state_t;

/* Number grammar: - 0 | [1-9][0-9]* (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
typedef enum { N_MINUS, N_ZERO, N_INT, N_DOT, N_FRAC, N_E, N_ESIGN, N_EXP } s_num_t;

struct intake_json_scan {
    intake_json_limits_t lim;
    int failed;                     /* the error code once the scan has ended badly */
    intake_error_t error;
    bool finished;

    size_t offset;                  /* of the byte being read */
    size_t line, column;            /* of the byte being read (column in characters) */
    size_t bom;                     /* bytes of a leading BOM matched */

    s_state_t state;
    size_t depth;
    char stack[S_DEPTH_CAP];        /* '{' or '[' */
    size_t keys[S_DEPTH_CAP];       /* keys of each open object */
    bool root_seen;

    /* the token being read */
    bool is_key;
    const char *bad;                /* not allowed here: refused once read to its end */
    size_t tok_line, tok_column;    /* where it started */
    int utf8_need;                  /* continuation bytes still due */
    unsigned char utf8_lo, utf8_hi; /* range of the next one */
    int esc;                        /* 0, 1 after '\', 2..5 reading \u hex digits */
    unsigned uval;
    bool want_low;                  /* a high surrogate read: its low half is due */
    s_num_t num;
    const char *lit;
    size_t lit_i;
    char name[8];                   /* a root key, decoded, to recognise "leads" */
    size_t name_len;
    bool name_other;

    /* shape */
    bool batch;                     /* the root's first key is "leads" */
    bool in_leads;                  /* reading the value of "leads" */
    bool in_item;
    size_t item_depth;              /* depth where the item's value started */
    size_t item_values;
    intake_json_span_t *spans;
    size_t nspans, cap;
    bool keep_spans;
};

static const char *s_shape_message = "the body is a lead object or {\"leads\": [...]}";

static int
s_fail (intake_json_scan_t *self, int rc, const char *code, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

static int
s_fail (intake_json_scan_t *self, int rc, const char *code, const char *fmt, ...)
{
    if (self->failed)
        return self->failed;
    memset (&self->error, 0, sizeof self->error);
    self->error.code = code;
    self->error.line = self->line ? self->line : 1;
    self->error.column = self->column ? self->column : 1;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (self->error.message, sizeof self->error.message, fmt, ap);
    va_end (ap);
    self->failed = rc;
    return rc;
}

static int
s_malformed (intake_json_scan_t *self, const char *what)
{
    return s_fail (self, PL_EINVAL, INTAKE_E_MALFORMED, "malformed JSON: %s", what);
}

static void
s_init (intake_json_scan_t *self, const intake_json_limits_t *limits)
{
    memset (self, 0, sizeof *self);
    if (limits)
        self->lim = *limits;
    if (!self->lim.max_items)
        self->lim.max_items = INTAKE_JSON_MAX_ITEMS;
    if (!self->lim.max_keys)
        self->lim.max_keys = INTAKE_JSON_MAX_KEYS;
    if (!self->lim.max_item_values)
        self->lim.max_item_values = INTAKE_JSON_MAX_ITEM_VALUES;
    if (!self->lim.max_depth || self->lim.max_depth > S_DEPTH_CAP)
        self->lim.max_depth = self->lim.max_depth ? S_DEPTH_CAP : INTAKE_JSON_MAX_DEPTH;
    self->line = 1;
    self->state = ST_VALUE;
}

intake_json_scan_t *
intake_json_scan_new (const intake_json_limits_t *limits)
{
    intake_json_scan_t *self = malloc (sizeof *self);
    if (!self)
        return NULL;
    s_init (self, limits);
    self->keep_spans = !self->lim.any_root;
    return self;
}

void
intake_json_scan_destroy (intake_json_scan_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->spans);
    free (*self_p);
    *self_p = NULL;
}

/* ---- items ----------------------------------------------------------------------------------- */

static int
s_item_begin (intake_json_scan_t *self)
{
    if (self->batch && self->nspans >= self->lim.max_items)
        return s_fail (self, PL_ETOOBIG, INTAKE_E_TOO_BIG, "more than %zu leads in one batch",
                       self->lim.max_items);
    self->in_item = true;
    self->item_depth = self->depth;
    self->item_values = 0;
    if (!self->keep_spans)
        return 0;
    if (self->nspans == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 16;
        intake_json_span_t *s = realloc (self->spans, cap * sizeof *s);
        if (!s)
            return s_fail (self, PL_ENOMEM, INTAKE_E_MALFORMED, "out of memory");
        self->spans = s;
        self->cap = cap;
    }
    self->spans[self->nspans++] = (intake_json_span_t) { .start = self->offset, .line = self->line,
                                                          .column = self->column };
    return 0;
}

/* A value has started (its first byte is being read). */
static int
s_value_begin (intake_json_scan_t *self)
{
    if (!self->in_item) {
        bool item = self->depth == 0 || (self->in_leads && self->depth == 2);
        if (item && s_item_begin (self) != 0)
            return self->failed;
    }
    if (self->in_item && ++self->item_values > self->lim.max_item_values)
        return s_fail (self, PL_ETOOBIG, INTAKE_E_TOO_MANY_VALUES, "more than %zu values in one lead",
                       self->lim.max_item_values);
    return 0;
}

/* A value has ended; end is the offset just past it. */
static void
s_value_end (intake_json_scan_t *self, size_t end)
{
    if (self->in_item && self->depth == self->item_depth) {
        self->in_item = false;
        if (self->keep_spans)
            self->spans[self->nspans - 1].end = end;
    }
    self->state = self->depth ? ST_NEXT : ST_END;
}

/* ---- tokens ---------------------------------------------------------------------------------- */

static int
s_token_begin (intake_json_scan_t *self, unsigned char c, const char *bad)
{
    self->bad = bad;
    self->tok_line = self->line;
    self->tok_column = self->column;
    if (c == '"') {
        self->state = ST_STRING;
        self->utf8_need = 0;
        self->esc = 0;
        self->want_low = false;
        self->name_len = 0;
        self->name_other = false;
        return 0;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        self->state = ST_NUMBER;
        self->num = c == '-' ? N_MINUS : c == '0' ? N_ZERO : N_INT;
        return 0;
    }
    self->lit = c == 't' ? "true" : c == 'f' ? "false" : c == 'n' ? "null" : NULL;
    if (!self->lit)
        return s_malformed (self, "invalid token");
    self->state = ST_LITERAL;
    self->lit_i = 1;
    return 0;
}

/* A key has been read (its closing quote is the current byte). */
static int
s_key_end (intake_json_scan_t *self)
{
    self->state = ST_COLON;
    if (self->depth != 1 || self->lim.any_root)
        return 0;
    bool leads = !self->name_other && self->name_len == 5 && memcmp (self->name, "leads", 5) == 0;
    size_t nth = self->keys[0];
    if (leads && nth == 1) {
        /* {"leads": …}: the root is no item, each element of the array is one */
        self->batch = true;
        self->in_item = false;
        self->nspans = 0;
        return 0;
    }
    if (self->batch || leads)
        return s_fail (self, PL_EINVAL, INTAKE_E_UNKNOWN_FIELD,
                       "a batch holds only \"leads\" (give the campaign as a parameter or in each lead)");
    return 0;
}

/* A string, number or literal has been read to its end (exclusive offset end). */
static int
s_token_end (intake_json_scan_t *self, size_t end)
{
    if (self->bad)
        return s_malformed (self, self->bad);
    if (self->is_key) {
        self->is_key = false;
        return s_key_end (self);
    }
    s_value_end (self, end);
    return 0;
}

static void
s_name_add (intake_json_scan_t *self, unsigned c)
{
    if (self->depth != 1 || !self->is_key)
        return;
    if (c >= 0x80 || self->name_len >= sizeof self->name)
        self->name_other = true;
    else
        self->name[self->name_len++] = (char) c;
}

static int
s_hex (unsigned char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int
s_string_byte (intake_json_scan_t *self, unsigned char c)
{
    if (self->utf8_need) {
        if (c < self->utf8_lo || c > self->utf8_hi)
            return s_malformed (self, "invalid UTF-8 in a string");
        self->utf8_lo = 0x80;
        self->utf8_hi = 0xBF;
        self->utf8_need--;
        return 0;
    }
    if (self->esc == 1) {
        if (self->want_low && c != 'u')
            return s_malformed (self, "invalid Unicode escape: a lone surrogate");
        if (c == 'u') {
            self->esc = 2;
            self->uval = 0;
            return 0;
        }
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *p = strchr (from, c);
        if (!p || !c)
            return s_malformed (self, "invalid escape in a string");
        s_name_add (self, (unsigned char) to[p - from]);
        self->esc = 0;
        return 0;
    }
    if (self->esc >= 2) {
        int h = s_hex (c);
        if (h < 0)
            return s_malformed (self, "invalid \\u escape in a string");
        self->uval = self->uval * 16 + (unsigned) h;
        if (++self->esc < 6)
            return 0;
        self->esc = 0;
        unsigned u = self->uval;
        if (self->want_low) {
            if (u < 0xDC00 || u > 0xDFFF)
                return s_malformed (self, "invalid Unicode escape: a lone surrogate");
            self->want_low = false;
            s_name_add (self, 0x80);
            return 0;
        }
        if (u >= 0xD800 && u <= 0xDBFF) {
            self->want_low = true;
            return 0;
        }
        if (u >= 0xDC00 && u <= 0xDFFF)
            return s_malformed (self, "invalid Unicode escape: a lone surrogate");
        if (u == 0)
            return s_malformed (self, "\\u0000 is not allowed in a string");
        s_name_add (self, u);
        return 0;
    }
    if (self->want_low) {
        if (c != '\\')
            return s_malformed (self, "invalid Unicode escape: a lone surrogate");
        self->esc = 1;
        return 0;
    }
    if (c == '"')
        return s_token_end (self, self->offset + 1);
    if (c == '\\') {
        self->esc = 1;
        return 0;
    }
    if (c < 0x20)
        return s_malformed (self, "control character in a string");
    if (c < 0x80) {
        s_name_add (self, c);
        return 0;
    }
    s_name_add (self, c);
    self->utf8_lo = 0x80;
    self->utf8_hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        self->utf8_need = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
        self->utf8_need = 2;
        if (c == 0xE0)
            self->utf8_lo = 0xA0;
        else if (c == 0xED)
            self->utf8_hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        self->utf8_need = 3;
        if (c == 0xF0)
            self->utf8_lo = 0x90;
        else if (c == 0xF4)
            self->utf8_hi = 0x8F;
    } else
        return s_malformed (self, "invalid UTF-8 in a string");
    return 0;
}

/* A byte of a number; *done when c is not part of it (the number ended just before c). */
static int
s_number_byte (intake_json_scan_t *self, unsigned char c, bool *done)
{
    bool digit = c >= '0' && c <= '9';
    switch (self->num) {
    case N_MINUS:
        if (!digit)
            return s_malformed (self, "invalid number");
        self->num = c == '0' ? N_ZERO : N_INT;
        return 0;
    case N_ZERO:
    case N_INT:
        if (digit && self->num == N_INT)
            return 0;
        if (digit)
            return s_malformed (self, "invalid number: a leading zero");
        if (c == '.')
            self->num = N_DOT;
        else if (c == 'e' || c == 'E')
            self->num = N_E;
        else
            *done = true;
        return 0;
    case N_DOT:
        if (!digit)
            return s_malformed (self, "invalid number");
        self->num = N_FRAC;
        return 0;
    case N_FRAC:
        if (digit)
            return 0;
        if (c == 'e' || c == 'E')
            self->num = N_E;
        else
            *done = true;
        return 0;
    case N_E:
        if (c == '+' || c == '-') {
            self->num = N_ESIGN;
            return 0;
        }
        /* fall through */
    case N_ESIGN:
        if (!digit)
            return s_malformed (self, "invalid number");
        self->num = N_EXP;
        return 0;
    case N_EXP:
        if (!digit)
            *done = true;
        return 0;
    }
    return 0;
}

/* ---- structure ------------------------------------------------------------------------------- */

static int
s_open (intake_json_scan_t *self, unsigned char c)
{
    if (self->depth >= self->lim.max_depth)
        return s_fail (self, PL_EINVAL, INTAKE_E_TOO_DEEP, "nested deeper than %zu levels",
                       self->lim.max_depth);
    self->stack[self->depth] = (char) c;
    self->keys[self->depth] = 0;
    self->depth++;
    self->state = c == '{' ? ST_KEY_OR_CLOSE : ST_VALUE_OR_CLOSE;
    return 0;
}

static int
s_close (intake_json_scan_t *self)
{
    self->depth--;
    if (self->depth == 1 && self->in_leads)
        self->in_leads = false;
    s_value_end (self, self->offset + 1);
    return 0;
}

/* A value is due and c starts it. */
static int
s_value_start (intake_json_scan_t *self, unsigned char c)
{
    if (!self->lim.any_root) {
        if (self->depth == 0 && c != '{' && !self->root_seen)
            return s_fail (self, PL_EINVAL, INTAKE_E_WRONG_TYPE, "%s", s_shape_message);
        if (self->depth == 1 && self->batch && !self->in_leads) {
            if (c != '[')
                return s_fail (self, PL_EINVAL, INTAKE_E_WRONG_TYPE,
                               "\"leads\" must be an array of lead objects");
        }
    }
    self->root_seen = true;
    if (s_value_begin (self) != 0)
        return self->failed;
    if (c == '{' || c == '[') {
        if (self->depth == 1 && self->batch && c == '[')
            self->in_leads = true;
        return s_open (self, c);
    }
    return s_token_begin (self, c, NULL);
}

static bool
s_blank (unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A structural byte that may not stand here: read the token it starts, then refuse it. */
static int
s_unexpected (intake_json_scan_t *self, unsigned char c, const char *expected)
{
    if (c == '"' || c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n')
        return s_token_begin (self, c, expected);
    if (c == '{' || c == '[' || c == '}' || c == ']' || c == ':' || c == ',')
        return s_malformed (self, expected);
    return s_malformed (self, "invalid token");
}

static int
s_byte (intake_json_scan_t *self, unsigned char c)
{
    bool done = false;
    switch (self->state) {
    case ST_STRING:
        return s_string_byte (self, c);
    case ST_NUMBER:
        if (s_number_byte (self, c, &done) != 0)
            return self->failed;
        if (!done)
            return 0;
        if (s_token_end (self, self->offset) != 0)
            return self->failed;
        return s_byte (self, c);               /* the byte after the number */
    case ST_LITERAL:
        if ((unsigned char) self->lit[self->lit_i] != c)
            return s_malformed (self, "invalid token");
        if (self->lit[++self->lit_i])
            return 0;
        return s_token_end (self, self->offset + 1);
    default:
        break;
    }
    if (s_blank (c))
        return 0;
    switch (self->state) {
    case ST_VALUE_OR_CLOSE:
        if (c == ']')
            return s_close (self);
        /* fall through */
    case ST_VALUE:
        if (c == '}' || c == ']' || c == ':' || c == ',')
            return s_malformed (self, "a value was expected");
        return s_value_start (self, c);
    case ST_KEY_OR_CLOSE:
        if (c == '}')
            return s_close (self);
        /* fall through */
    case ST_KEY:
        if (c != '"')
            return s_unexpected (self, c, "a key (a string) was expected");
        if (++self->keys[self->depth - 1] > self->lim.max_keys)
            return s_fail (self, PL_ETOOBIG, INTAKE_E_TOO_MANY_KEYS, "more than %zu keys in one object",
                           self->lim.max_keys);
        self->is_key = true;
        return s_token_begin (self, c, NULL);
    case ST_COLON:
        if (c != ':')
            return s_unexpected (self, c, "':' was expected");
        self->state = ST_VALUE;
        return 0;
    case ST_NEXT: {
        char open = self->stack[self->depth - 1];
        if (c == ',') {
            self->state = open == '{' ? ST_KEY : ST_VALUE;
            return 0;
        }
        if ((open == '{' && c == '}') || (open == '[' && c == ']'))
            return s_close (self);
        return s_unexpected (self, c, open == '{' ? "',' or '}' was expected" : "',' or ']' was expected");
    }
    case ST_END:
        return s_unexpected (self, c, "one value only: end of input was expected");
    default:
        return 0;
    }
}

int
intake_json_scan_feed (intake_json_scan_t *self, const void *data, size_t len)
{
    if (self->failed)
        return self->failed;
    static const unsigned char bom[3] = { 0xEF, 0xBB, 0xBF };
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++, self->offset++) {
        unsigned char c = p[i];
        if (self->offset < 3 && self->bom == self->offset && c == bom[self->offset]) {
            self->bom++;
            continue;
        }
        if (c == '\n') {
            self->line++;
            self->column = 0;
        } else if ((c & 0xC0) != 0x80)
            self->column++;
        if (s_byte (self, c) != 0)
            return self->failed;
    }
    return 0;
}

int
intake_json_scan_finish (intake_json_scan_t *self)
{
    if (self->failed)
        return self->failed;
    if (self->bom && self->bom < 3)
        return s_malformed (self, "invalid token");
    if (self->state == ST_NUMBER) {
        bool ok = self->num == N_ZERO || self->num == N_INT || self->num == N_FRAC || self->num == N_EXP;
        if (!ok)
            return s_malformed (self, "invalid number");
        if (s_token_end (self, self->offset) != 0)
            return self->failed;
    }
    if (self->state != ST_END) {
        self->column++;
        return s_malformed (self, self->root_seen ? "premature end of input" : "the body is empty");
    }
    self->finished = true;
    return 0;
}

bool
intake_json_scan_batch (const intake_json_scan_t *self)
{
    return self->batch;
}

size_t
intake_json_scan_items (const intake_json_scan_t *self, const intake_json_span_t **spans)
{
    if (spans)
        *spans = self->spans;
    return self->nspans;
}

const intake_error_t *
intake_json_scan_error (const intake_json_scan_t *self)
{
    return self->failed ? &self->error : NULL;
}

int
intake_json_scan_buffer (const char *data, size_t len, const intake_json_limits_t *limits,
                         intake_error_t *error)
{
    intake_json_scan_t s;
    s_init (&s, limits);
    s.keep_spans = false;
    int rc = intake_json_scan_feed (&s, data, len);
    if (rc == 0)
        rc = intake_json_scan_finish (&s);
    if (rc != 0 && error)
        *error = s.error;
    return rc;
}
