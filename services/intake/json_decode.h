/*  json_decode.h — a JSON request body: one lead, or a batch {"leads": […]}.
 *
 *  The body is scanned before anything is parsed (json_scan.h): its size, the leads of a batch,
 *  the keys of each object, the values of each lead and the nesting are counted as the bytes
 *  arrive, and the first limit crossed refuses the body with the line and column where it was
 *  crossed. A body that passes is then parsed one lead at a time, each lead with jansson from
 *  its own bytes, so that the DOM alive at any moment is one lead's, never the batch's.
 *
 *  Every lead is validated with intake_lead_from_json() and handed to the callback in input
 *  order, accepted or rejected: one bad lead does not spoil the batch. A body that is not JSON,
 *  or not one of the two shapes, or over a limit, is refused as a whole before any item is
 *  emitted. What the scan cannot see without keeping values — a key given twice, a number
 *  jansson cannot hold — refuses a single lead body as a whole, and in a batch rejects that
 *  lead alone (code "malformed", with its line and column). A lead of a batch longer than
 *  INTAKE_JSON_MAX_ITEM_BYTES is rejected alone ("too_long") without being parsed.
 *
 *  Two ways in: intake_json_decode() over a body in memory, or a push decoder fed chunk by
 *  chunk (intake_json_new … feed … finish) that refuses a body at its first limit while it is
 *  still arriving and keeps at most max_body bytes of it.
 */
#ifndef PL_INTAKE_JSON_DECODE_H
#define PL_INTAKE_JSON_DECODE_H

#include <stdbool.h>
#include <stddef.h>

#include "json_scan.h"
#include "lead.h"

#define INTAKE_JSON_MAX_ITEMS 10000              /* default batch limit */
#define INTAKE_JSON_MAX_BODY (16 * 1024 * 1024)  /* default body limit of the push decoder */

/* Code of a body over max_body. */
#define INTAKE_E_TOO_LARGE "too_large"

/* Decodes `body` (UTF-8, a leading BOM tolerated). max_items 0 means INTAKE_JSON_MAX_ITEMS.
 * Returns the number of items emitted (accepted + rejected) — 0 for an empty batch — or:
 *   PL_EINVAL   malformed JSON, wrong shape or too deep: *fatal says where (line, column), why
 *               and its code (malformed, wrong_type, unknown_field, too_deep);
 *   PL_ETOOBIG  a limit crossed: more than max_items leads (code too_big), more keys in an
 *               object or values in a lead than json_scan.h allows (too_many_keys,
 *               too_many_values); nothing emitted;
 *   PL_ENOMEM;
 *   or the negative code the callback returned to stop.
 * *batch (when not NULL) tells whether the body was {"leads": […]} (answer with a list) or a
 * single lead (answer with one result). `fatal` and `batch` may be NULL. Borrows everything. */
int intake_json_decode (const char *body, size_t len, const intake_lead_opts_t *opts,
                        size_t max_items, intake_item_fn fn, void *arg, bool *batch,
                        intake_error_t *fatal);

/* The push form. */
typedef struct intake_json intake_json_t;

/* A new decoder keeping at most max_body bytes (0: INTAKE_JSON_MAX_BODY), or NULL when out of
 * memory. Borrows opts (and what it points to) and arg for its whole life. */
intake_json_t *intake_json_new (const intake_lead_opts_t *opts, size_t max_items, size_t max_body,
                                intake_item_fn fn, void *arg);
void intake_json_destroy (intake_json_t **self_p);

/* Scans and keeps the next chunk. 0, or the error that refuses the body (as for
 * intake_json_decode; PL_ETOOBIG with code too_large past max_body); later calls return it
 * again. Nothing is emitted while feeding. */
int intake_json_feed (intake_json_t *self, const void *data, size_t len);

/* Ends the body and emits its items: as intake_json_decode. */
int intake_json_finish (intake_json_t *self, bool *batch);

/* The error that refused the body, or NULL. */
const intake_error_t *intake_json_error (const intake_json_t *self);

/* Bytes the decoder holds now (the body kept so far, its item table), for memory budgets. */
size_t intake_json_held (const intake_json_t *self);

#endif
