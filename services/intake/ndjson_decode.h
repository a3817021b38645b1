/*  ndjson_decode.h — a stream of leads, one JSON object per line (application/x-ndjson).
 *
 *  A push decoder: feed it the body chunk by chunk as it arrives, in pieces of any size; it
 *  emits one item per non-blank line, in order, as soon as the line is complete. Memory stays
 *  bounded by the longest line allowed (max_line), whatever the body's size.
 *
 *  A line that is not JSON, not an object, too long, or over a limit of json_scan.h (keys in an
 *  object, values, nesting) is a rejected item (code "malformed", "too_long", "too_many_keys",
 *  "too_many_values" or "too_deep", with its line and, for parse errors and limits, column);
 *  the other lines are still decoded.
 *  Lines end with LF or CRLF; blank lines are skipped but counted; a leading UTF-8 BOM is
 *  ignored.
 *
 *      intake_ndjson_t *d = intake_ndjson_new (&opts, on_item, ctx);
 *      while ((n = read_some (buf)) > 0)
 *          if ((rc = intake_ndjson_feed (d, buf, n)) < 0) break;
 *      if (rc >= 0) rc = intake_ndjson_finish (d);      // the last line may lack its newline
 *      intake_ndjson_destroy (&d);
 */
#ifndef PL_INTAKE_NDJSON_DECODE_H
#define PL_INTAKE_NDJSON_DECODE_H

#include <stddef.h>

#include "lead.h"

typedef struct intake_ndjson intake_ndjson_t;

#define INTAKE_NDJSON_MAX_LINE (64 * 1024)      /* default longest line, bytes */

/* A new decoder, or NULL when out of memory. Borrows opts (and what it points to) and arg for
 * its whole life. */
intake_ndjson_t *intake_ndjson_new (const intake_lead_opts_t *opts, intake_item_fn fn, void *arg);

void intake_ndjson_destroy (intake_ndjson_t **self_p);

/* Limits: longest line in bytes (0: default), most items (0: unlimited). Call before feeding. */
void intake_ndjson_set_limits (intake_ndjson_t *self, size_t max_line, size_t max_items);

/* Decodes what `data` completes. 0, or a negative code that ends decoding: the callback's,
 * PL_ETOOBIG (more than max_items items), PL_ENOMEM; later calls then return PL_ECLOSED. */
int intake_ndjson_feed (intake_ndjson_t *self, const void *data, size_t len);

/* Ends the input (a last line without newline is decoded). Returns the number of items, or a
 * negative code as for feed. */
int intake_ndjson_finish (intake_ndjson_t *self);

/* Items emitted so far; lines read so far. */
size_t intake_ndjson_items (const intake_ndjson_t *self);
size_t intake_ndjson_lines (const intake_ndjson_t *self);

/* Detail of the error that ended decoding. */
const char *intake_ndjson_errstr (const intake_ndjson_t *self);

#endif
