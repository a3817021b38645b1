/*  json_decode.h — a JSON request body: one lead, or a batch {"leads": […]}.
 *
 *  The body is parsed whole (its size is bounded by the HTTP layer), then every lead is
 *  validated with intake_lead_from_json() and handed to the callback in input order, accepted or
 *  rejected: one bad lead does not spoil the batch. A body that is not JSON, or not one of the two
 *  shapes, is refused as a whole with the line and column of the problem, before any item is
 *  emitted; so is a batch over its item limit.
 */
#ifndef PL_INTAKE_JSON_DECODE_H
#define PL_INTAKE_JSON_DECODE_H

#include <stdbool.h>
#include <stddef.h>

#include "lead.h"

#define INTAKE_JSON_MAX_ITEMS 10000        /* default batch limit */

/* Decodes `body` (UTF-8, a leading BOM tolerated). max_items 0 means INTAKE_JSON_MAX_ITEMS.
 * Returns the number of items emitted (accepted + rejected) — 0 for an empty batch — or:
 *   PL_EINVAL   malformed JSON or wrong shape: *fatal says where (line, column) and why;
 *   PL_ETOOBIG  more than max_items leads: *fatal says so; nothing emitted;
 *   PL_ENOMEM;
 *   or the negative code the callback returned to stop.
 * *batch (when not NULL) tells whether the body was {"leads": […]} (answer with a list) or a
 * single lead (answer with one result). `fatal` and `batch` may be NULL. Borrows everything. */
int intake_json_decode (const char *body, size_t len, const intake_lead_opts_t *opts,
                        size_t max_items, intake_item_fn fn, void *arg, bool *batch,
                        intake_error_t *fatal);

#endif
