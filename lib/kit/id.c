/*  id.c — ULIDs and traceparents (see id.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "plateau/id.h"

static const char s_crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t s_last_ms = -1;
static uint8_t s_last_rand[10];

/* Ids and trace ids need random bytes, and getrandom() is a system call, dear on some virtual
 * machines: one per message was about 15 % of the bus sender's CPU in bench/bus. A thread draws
 * them from its own ChaCha20 stream (libsodium's randombytes_buf_deterministic) keyed from the
 * system's generator, rekeyed every S_POOL bytes, each byte erased once handed out. A fork
 * makes every pool stale (pthread_atfork), so that a child never repeats its parent's ids. */
#define S_POOL 4096

static atomic_uint s_fork_gen;
static _Thread_local struct {
    uint8_t buf[S_POOL];
    size_t used;
    unsigned gen;
    bool ready;
} s_pool;

static void
s_forked (void)
{
    atomic_fetch_add (&s_fork_gen, 1);
}

static void
s_init_sodium (void)
{
    /* sodium_init is idempotent and thread-safe; it only fails without an entropy source. */
    if (sodium_init () < 0)
        abort ();
    pthread_atfork (NULL, NULL, s_forked);
}

static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static void
s_random (uint8_t *out, size_t n)
{
    unsigned gen = atomic_load (&s_fork_gen);
    if (!s_pool.ready || s_pool.gen != gen || s_pool.used + n > S_POOL) {
        uint8_t seed[randombytes_SEEDBYTES];
        randombytes_buf (seed, sizeof seed);
        randombytes_buf_deterministic (s_pool.buf, S_POOL, seed);
        sodium_memzero (seed, sizeof seed);
        s_pool.used = 0;
        s_pool.gen = gen;
        s_pool.ready = true;
    }
    memcpy (out, s_pool.buf + s_pool.used, n);
    sodium_memzero (s_pool.buf + s_pool.used, n);
    s_pool.used += n;
}

void
pl_id_new (char out[PL_ID_LEN + 1], int64_t ms)
{
    pthread_once (&s_once, s_init_sodium);
    uint8_t b[16];
    pthread_mutex_lock (&s_lock);
    if (ms <= s_last_ms) {
        /* Same (or earlier) millisecond: keep order by incrementing the random part. */
        ms = s_last_ms;
        for (int i = 9; i >= 0 && ++s_last_rand[i] == 0; i--)
            ;
    }
    else {
        s_last_ms = ms;
        s_random (s_last_rand, sizeof s_last_rand);
        s_last_rand[0] &= 0x7f;        /* headroom so increments never overflow the 80 bits */
    }
    memcpy (b + 6, s_last_rand, 10);
    pthread_mutex_unlock (&s_lock);
    uint64_t t = (uint64_t) ms;
    for (int i = 5; i >= 0; i--) {
        b[i] = (uint8_t) (t & 0xff);
        t >>= 8;
    }
    /* 128 bits → 26 base32 digits, most significant first (the first digit holds 3 bits). */
    int bit = -2;                      /* 130 bits of output, 2 leading zero bits */
    for (int i = 0; i < PL_ID_LEN; i++, bit += 5) {
        int v = 0;
        for (int k = 0; k < 5; k++) {
            int pos = bit + k;
            v <<= 1;
            if (pos >= 0)
                v |= (b[pos / 8] >> (7 - pos % 8)) & 1;
        }
        out[i] = s_crockford[v];
    }
    out[PL_ID_LEN] = '\0';
}

static int
s_digit (char c)
{
    const char *p = c ? strchr (s_crockford, c) : NULL;
    return p ? (int) (p - s_crockford) : -1;
}

bool
pl_id_valid (const char *id)
{
    if (!id || strlen (id) != PL_ID_LEN || s_digit (id[0]) > 7)
        return false;
    for (int i = 0; i < PL_ID_LEN; i++)
        if (s_digit (id[i]) < 0)
            return false;
    return true;
}

int64_t
pl_id_time_ms (const char *id)
{
    if (!pl_id_valid (id))
        return -1;
    int64_t ms = 0;
    for (int i = 0; i < 10; i++)       /* first 10 digits = 50 bits, top 2 zero */
        ms = (ms << 5) | s_digit (id[i]);
    return ms;
}

void
pl_trace_id_new (char out[PL_TRACE_ID_LEN + 1])
{
    pthread_once (&s_once, s_init_sodium);
    uint8_t r[24];
    s_random (r, sizeof r);
    r[0] |= 1;                          /* all-zero trace and span ids are invalid */
    r[16] |= 1;
    char trace[33], span[17];
    sodium_bin2hex (trace, sizeof trace, r, 16);
    sodium_bin2hex (span, sizeof span, r + 16, 8);
    memcpy (out, "00-", 3);
    memcpy (out + 3, trace, 32);
    out[35] = '-';
    memcpy (out + 36, span, 16);
    memcpy (out + 52, "-01", 4);
}

bool
pl_trace_id_valid (const char *t)
{
    if (!t || strlen (t) != PL_TRACE_ID_LEN || t[2] != '-' || t[35] != '-' || t[52] != '-')
        return false;
    for (int i = 0; i < PL_TRACE_ID_LEN; i++) {
        if (i == 2 || i == 35 || i == 52)
            continue;
        char c = t[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return strncmp (t + 3, "00000000000000000000000000000000", 32) != 0
           && strncmp (t + 36, "0000000000000000", 16) != 0;
}
