/*  json_scan.h — one pass over the bytes of a JSON body that applies its limits before any DOM.
 *
 *  jansson builds the whole document before anyone can count it: a body of 20 million empty
 *  objects, or of 4 million keys in one object, costs gigabytes before a limit is looked at.
 *  The scanner is a small push tokenizer (strings with their escapes and UTF-8, numbers,
 *  literals, nesting) that counts as the bytes arrive, chunk by chunk, and stops at the first
 *  limit crossed with the line and column where it was crossed. It keeps no values: its memory
 *  is its nesting stack and, for a batch, where each lead starts and ends (16 bytes a lead, at
 *  most max_items of them), so a lead can then be parsed alone, one small DOM at a time.
 *
 *  It checks the grammar as strictly as jansson does (control characters, escapes, \u0000 and
 *  lone surrogates, UTF-8, number syntax, one value), so that a body it passes parses; what it
 *  cannot see without keeping values (a key given twice, a number too large) is found by
 *  jansson when that lead is parsed.
 *
 *  The shape is the intake's: the root is a lead object, or {"leads": [...]} and nothing else.
 *  With `any_root` (NDJSON lines) any value is one item and only the limits are checked.
 */
#ifndef PL_INTAKE_JSON_SCAN_H
#define PL_INTAKE_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "lead.h"

/* Limits no valid lead comes near: a lead has 16 named fields and 64 custom ones, and a custom
 * value is at most 1 KiB of text. Crossing one refuses the whole body (see the codes below). */
#define INTAKE_JSON_MAX_KEYS 256                 /* members of one object */
#define INTAKE_JSON_MAX_ITEM_VALUES 4096         /* values (any kind, nested ones too) in one lead */
#define INTAKE_JSON_MAX_DEPTH 32                 /* nesting of arrays and objects */
#define INTAKE_JSON_MAX_ITEM_BYTES (1024 * 1024) /* one lead of a batch; longer: rejected alone */

/* Codes of the limits, in intake_error_t.code. */
#define INTAKE_E_TOO_MANY_KEYS "too_many_keys"
#define INTAKE_E_TOO_MANY_VALUES "too_many_values"
#define INTAKE_E_TOO_DEEP "too_deep"

typedef struct {
    size_t max_items;               /* leads of {"leads": […]}; 0: INTAKE_JSON_MAX_ITEMS */
    size_t max_keys;                /* 0: INTAKE_JSON_MAX_KEYS */
    size_t max_item_values;         /* 0: INTAKE_JSON_MAX_ITEM_VALUES */
    size_t max_depth;               /* 0: INTAKE_JSON_MAX_DEPTH */
    bool any_root;                  /* one value of any kind is the item (an NDJSON line) */
} intake_json_limits_t;

/* Where one item is in the body: bytes [start, end), and the line and column of its start. */
typedef struct {
    size_t start, end;
    size_t line, column;
} intake_json_span_t;

typedef struct intake_json_scan intake_json_scan_t;

/* A new scanner, or NULL when out of memory. limits may be NULL (the defaults). */
intake_json_scan_t *intake_json_scan_new (const intake_json_limits_t *limits);
void intake_json_scan_destroy (intake_json_scan_t **self_p);

/* Scans the next len bytes (a leading UTF-8 BOM is skipped; offsets count it). 0 to go on, or
 * the error that ended the scan, again on every later call:
 *   PL_EINVAL   malformed JSON or wrong shape (codes malformed, wrong_type, unknown_field,
 *               too_deep);
 *   PL_ETOOBIG  a limit crossed (codes too_big for the leads, too_many_keys, too_many_values);
 *   PL_ENOMEM. */
int intake_json_scan_feed (intake_json_scan_t *self, const void *data, size_t len);
/* The end of the body: 0 when it held one complete value of the right shape, else as feed. */
int intake_json_scan_finish (intake_json_scan_t *self);

/* After a successful finish: whether the body was {"leads": […]}, and its items (the single
 * lead, or each element of "leads", in order). Borrowed from the scanner. */
bool intake_json_scan_batch (const intake_json_scan_t *self);
size_t intake_json_scan_items (const intake_json_scan_t *self, const intake_json_span_t **spans);

/* The error that ended the scan (code, message naming the limit, line, column). */
const intake_error_t *intake_json_scan_error (const intake_json_scan_t *self);

/* Scans a whole buffer with `limits`: 0 or the error as above, with *error filled (may be
 * NULL). For a line of NDJSON: no spans kept. */
int intake_json_scan_buffer (const char *data, size_t len, const intake_json_limits_t *limits,
                             intake_error_t *error);

#endif
