/*  error.c — names of the PL_E* codes. */
#include "plateau/error.h"

const char *
pl_strerror (int code)
{
    switch (code) {
        case PL_OK:        return "ok";
        case PL_EINVAL:    return "invalid argument or input";
        case PL_ENOMEM:    return "out of memory";
        case PL_EIO:       return "i/o error";
        case PL_EREDIS:    return "redis unreachable or in error";
        case PL_ETIMEDOUT: return "timed out";
        case PL_ENOTFOUND: return "not found";
        case PL_EEXIST:    return "already exists";
        case PL_EPROTO:    return "protocol error";
        case PL_EBUSY:     return "busy";
        case PL_ECLOSED:   return "closed or draining";
        case PL_ENOSPC:    return "no space left";
        case PL_EAGAIN:    return "try again";
        case PL_ERANGE:    return "out of range";
        case PL_EPERM:     return "not permitted";
        case PL_ETOOBIG:   return "too large";
        case PL_ECONFIG:   return "invalid configuration";
        case PL_ECORRUPT:  return "corrupt data";
        default:           return "unknown error";
    }
}
