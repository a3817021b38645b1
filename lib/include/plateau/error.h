/*  error.h — the one error convention of libplateau.
 *
 *  Functions return 0 (or a count) on success and a negative PL_E* code on failure. Objects
 *  keep a human detail of their last failure, read with <module>_errstr(self). No exit() in the
 *  library; assert() only for programmer errors.
 */
#ifndef PL_ERROR_H
#define PL_ERROR_H

enum {
    PL_OK        = 0,
    PL_EINVAL    = -1,   /* bad argument or malformed input */
    PL_ENOMEM    = -2,
    PL_EIO       = -3,   /* file or socket I/O failed */
    PL_EREDIS    = -4,   /* Redis unreachable or answered an error */
    PL_ETIMEDOUT = -5,
    PL_ENOTFOUND = -6,
    PL_EEXIST    = -7,   /* already there (duplicate id, key exists) */
    PL_EPROTO    = -8,   /* peer spoke something we cannot decode */
    PL_EBUSY     = -9,   /* try again later (lease held, queue full) */
    PL_ECLOSED   = -10,  /* object is draining or closed */
    PL_ENOSPC    = -11,  /* disk full or size cap reached */
    PL_EAGAIN    = -12,  /* nothing to do now */
    PL_ERANGE    = -13,  /* value out of range */
    PL_EPERM     = -14,  /* not allowed (auth, ZAP) */
    PL_ETOOBIG   = -15,  /* input over a configured limit */
    PL_ECONFIG   = -16,  /* configuration missing or invalid */
    PL_ECORRUPT  = -17,  /* stored data failed verification */
};

/* Static, human name of a PL_E* code ("redis unreachable"). Never NULL. */
const char *pl_strerror (int code);

#endif
