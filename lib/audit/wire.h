/*  wire.h — little-endian byte writing and reading shared by the audit file formats.
 *
 *  Every audit file (segments, checkpoints) is written with these helpers so that one place
 *  decides byte order and length prefixes: integers are little-endian and fixed width, strings
 *  are a u16 length followed by that many bytes (no terminator). A write buffer grows on demand
 *  and remembers an allocation failure instead of reporting it at every call; a read cursor
 *  remembers running past the end. Callers check `err` once at the end.
 *
 *  Internal to the audit modules (the pl__ prefix): not an interface for other services.
 */
#ifndef PL_AUDIT_WIRE_H
#define PL_AUDIT_WIRE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t *p;
    size_t len;
    size_t cap;
    bool err;                   /* an allocation failed: contents are incomplete */
} pl__wbuf_t;

typedef struct {
    const uint8_t *p;
    size_t len;
    size_t pos;
    bool err;                   /* a read ran past the end: values read are zero */
} pl__rbuf_t;

static inline bool
pl__wbuf_reserve (pl__wbuf_t *b, size_t n)
{
    if (b->err)
        return false;
    if (b->len + n <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n)
        cap *= 2;
    uint8_t *p = realloc (b->p, cap);
    if (!p) {
        b->err = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

static inline void
pl__wbuf_free (pl__wbuf_t *b)
{
    free (b->p);
    memset (b, 0, sizeof *b);
}

static inline void
pl__wbuf_bytes (pl__wbuf_t *b, const void *src, size_t n)
{
    if (n && pl__wbuf_reserve (b, n)) {
        memcpy (b->p + b->len, src, n);
        b->len += n;
    }
}

static inline void
pl__wbuf_zeros (pl__wbuf_t *b, size_t n)
{
    if (n && pl__wbuf_reserve (b, n)) {
        memset (b->p + b->len, 0, n);
        b->len += n;
    }
}

static inline void pl__wbuf_u8 (pl__wbuf_t *b, uint8_t v) { pl__wbuf_bytes (b, &v, 1); }

/* The low n bytes of v, little-endian. */
static inline void
pl__put_le (uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t) (v >> (8 * i));
}

static inline void pl__put_u16 (uint8_t *p, uint16_t v) { pl__put_le (p, v, 2); }
static inline void pl__put_u32 (uint8_t *p, uint32_t v) { pl__put_le (p, v, 4); }
static inline void pl__put_u64 (uint8_t *p, uint64_t v) { pl__put_le (p, v, 8); }

static inline uint16_t pl__get_u16 (const uint8_t *p) { return (uint16_t) (p[0] | (p[1] << 8)); }

static inline uint32_t
pl__get_u32 (const uint8_t *p)
{
    return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16)
         | ((uint32_t) p[3] << 24);
}

static inline uint64_t
pl__get_u64 (const uint8_t *p)
{
    return (uint64_t) pl__get_u32 (p) | ((uint64_t) pl__get_u32 (p + 4) << 32);
}

static inline void
pl__wbuf_le (pl__wbuf_t *b, uint64_t v, size_t n)
{
    uint8_t t[8];
    pl__put_le (t, v, n);
    pl__wbuf_bytes (b, t, n);
}

static inline void pl__wbuf_u16 (pl__wbuf_t *b, uint16_t v) { pl__wbuf_le (b, v, 2); }
static inline void pl__wbuf_u32 (pl__wbuf_t *b, uint32_t v) { pl__wbuf_le (b, v, 4); }
static inline void pl__wbuf_u64 (pl__wbuf_t *b, uint64_t v) { pl__wbuf_le (b, v, 8); }

/* A string as u16 length + bytes. NULL is written as "". Callers validate lengths first. */
static inline void
pl__wbuf_str (pl__wbuf_t *b, const char *s)
{
    size_t n = s ? strlen (s) : 0;
    if (n > UINT16_MAX) {
        b->err = true;
        return;
    }
    pl__wbuf_u16 (b, (uint16_t) n);
    pl__wbuf_bytes (b, s, n);
}

static inline const uint8_t *
pl__rbuf_take (pl__rbuf_t *r, size_t n)
{
    if (r->err || r->len - r->pos < n) {
        r->err = true;
        return NULL;
    }
    const uint8_t *p = r->p + r->pos;
    r->pos += n;
    return p;
}

static inline uint8_t
pl__rbuf_u8 (pl__rbuf_t *r)
{
    const uint8_t *p = pl__rbuf_take (r, 1);
    return p ? p[0] : 0;
}

static inline uint16_t
pl__rbuf_u16 (pl__rbuf_t *r)
{
    const uint8_t *p = pl__rbuf_take (r, 2);
    return p ? pl__get_u16 (p) : 0;
}

static inline uint64_t
pl__rbuf_u64 (pl__rbuf_t *r)
{
    const uint8_t *p = pl__rbuf_take (r, 8);
    return p ? pl__get_u64 (p) : 0;
}

/* A u16-prefixed string: *s points into the buffer (not terminated), *n is its length. */
static inline void
pl__rbuf_str (pl__rbuf_t *r, const char **s, size_t *n)
{
    uint16_t len = pl__rbuf_u16 (r);
    const uint8_t *p = pl__rbuf_take (r, len);
    *s = p ? (const char *) p : "";
    *n = p ? len : 0;
}

#endif
