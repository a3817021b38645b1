/*  id.h — unique, time-ordered identifiers and W3C trace ids.
 *
 *  Message and lead ids are ULIDs: 48 bits of milliseconds then 80 random bits, 26 characters of
 *  Crockford base32, so that they sort by creation time (Redis streams, logs and audit queries
 *  read in order) and need no coordination between replicas. Ids made in the same millisecond by
 *  one process stay ordered (the random part is incremented).
 */
#ifndef PL_ID_H
#define PL_ID_H
#include <stdint.h>
#include <stdbool.h>

#define PL_ID_LEN 26          /* characters, without the terminating NUL */
#define PL_TRACE_ID_LEN 55    /* "00-<32 hex>-<16 hex>-01" */

/* Writes a new ULID and a NUL into out[PL_ID_LEN + 1]. ms: the time part (UTC ms, usually the
 * real clock). Thread-safe. */
void pl_id_new (char out[PL_ID_LEN + 1], int64_t ms);
/* Milliseconds encoded in an id, or -1 when it is not a ULID. */
int64_t pl_id_time_ms (const char *id);
bool pl_id_valid (const char *id);

/* Writes a new W3C traceparent ("00-<trace>-<span>-01") into out[PL_TRACE_ID_LEN + 1]. */
void pl_trace_id_new (char out[PL_TRACE_ID_LEN + 1]);
/* true when text is a well-formed traceparent. */
bool pl_trace_id_valid (const char *text);

#endif
