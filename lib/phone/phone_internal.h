/*  phone_internal.h — what phone.cc (the libphonenumber shim) and callee_zones.c (time zones)
 *  share.
 *
 *  Internal to lib/phone; not installed.
 */
#ifndef PL_PHONE_INTERNAL_H
#define PL_PHONE_INTERNAL_H

#include "plateau/phone.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The tzdata directory of self ("/usr/share/zoneinfo" unless set). */
const char *pl__phone_tzdir (const pl_phone_t *self);

/* Sets self's detail string (printf format). */
void pl__phone_set_err (pl_phone_t *self, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

/* Makes pl_phone_parse() always give libphonenumber the raw text, as written: the slow road
 * that the digits-only fast path must agree with (tests/fuzz/fuzz_phone.c checks it). */
void pl__phone_set_raw_only (pl_phone_t *self, bool raw_only);

#ifdef __cplusplus
}
#endif
#endif
