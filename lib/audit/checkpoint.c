/*  checkpoint.c — signing, encoding and storing checkpoints (see checkpoint.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "plateau/error.h"
#include "checkpoint.h"
#include "wire.h"

#define S_SIGNED_LEN 152
static const char s_domain[] = "plateau.audit.checkpoint.v1";

void
pl_audit_ckpt_encode (const pl_audit_ckpt_t *c, uint8_t out[PL_AUDIT_CKPT_LEN])
{
    memset (out, 0, PL_AUDIT_CKPT_LEN);
    memcpy (out, "PLCK", 4);
    out[4] = 1;
    size_t chain_len = strlen (c->chain_id);
    out[5] = (uint8_t) chain_len;
    pl__put_u64 (out + 8, c->seq);
    pl__put_u64 (out + 16, (uint64_t) c->at_ms);
    memcpy (out + 24, c->hash, PL_AUDIT_HASH_LEN);
    memcpy (out + 56, c->chain_id, chain_len);
    memcpy (out + 120, c->signer, PL_AUDIT_KEY_LEN);
    memcpy (out + 152, c->sig, PL_AUDIT_SIG_LEN);
}

int
pl_audit_ckpt_decode (const uint8_t in[PL_AUDIT_CKPT_LEN], pl_audit_ckpt_t *c)
{
    size_t chain_len = in[5];
    if (memcmp (in, "PLCK", 4) != 0 || in[4] != 1 || chain_len == 0
        || chain_len > PL_AUDIT_CHAIN_MAX || in[6] || in[7])
        return PL_ECORRUPT;
    for (size_t i = 56 + chain_len; i < 120; i++)
        if (in[i])
            return PL_ECORRUPT;
    memset (c, 0, sizeof *c);
    memcpy (c->chain_id, in + 56, chain_len);
    c->seq = pl__get_u64 (in + 8);
    c->at_ms = (int64_t) pl__get_u64 (in + 16);
    memcpy (c->hash, in + 24, PL_AUDIT_HASH_LEN);
    memcpy (c->signer, in + 120, PL_AUDIT_KEY_LEN);
    memcpy (c->sig, in + 152, PL_AUDIT_SIG_LEN);
    return 0;
}

/* The signed message: the domain string, then the entry up to the signature. */
static void
s_message (const pl_audit_ckpt_t *c, uint8_t *msg, size_t *len)
{
    uint8_t entry[PL_AUDIT_CKPT_LEN];
    pl_audit_ckpt_encode (c, entry);
    memcpy (msg, s_domain, sizeof s_domain - 1);
    memcpy (msg + sizeof s_domain - 1, entry, S_SIGNED_LEN);
    *len = sizeof s_domain - 1 + S_SIGNED_LEN;
}

int
pl_audit_ckpt_sign (pl_audit_ckpt_t *c, const pl_audit_keys_t *keys)
{
    if (pl_audit_keys_public (keys, c->signer) != 0)
        return PL_EINVAL;
    uint8_t msg[sizeof s_domain + S_SIGNED_LEN];
    size_t len;
    s_message (c, msg, &len);
    return pl_audit_keys_sign (keys, msg, len, c->sig);
}

int
pl_audit_ckpt_verify (const pl_audit_ckpt_t *c, const uint8_t (*trusted)[PL_AUDIT_KEY_LEN],
                      size_t n_trusted)
{
    bool known = false;
    for (size_t i = 0; i < n_trusted && !known; i++)
        known = sodium_memcmp (trusted[i], c->signer, PL_AUDIT_KEY_LEN) == 0;
    uint8_t msg[sizeof s_domain + S_SIGNED_LEN];
    size_t len;
    s_message (c, msg, &len);
    if (crypto_sign_verify_detached (c->sig, msg, len, c->signer) != 0)
        return PL_ECORRUPT;
    return known ? 0 : PL_EPERM;
}

int
pl_audit_ckpt_append (int fd, const pl_audit_ckpt_t *c)
{
    uint8_t entry[PL_AUDIT_CKPT_LEN];
    pl_audit_ckpt_encode (c, entry);
    off_t end = lseek (fd, 0, SEEK_END);
    if (end < 0)
        return PL_EIO;
    /* Entries stay aligned: a previous torn write is cut before appending. */
    if (end % PL_AUDIT_CKPT_LEN) {
        end -= end % PL_AUDIT_CKPT_LEN;
        if (ftruncate (fd, end) != 0)
            return PL_EIO;
    }
    ssize_t w = pwrite (fd, entry, sizeof entry, end);
    int e = 0;
    if (w != (ssize_t) sizeof entry)
        e = w < 0 ? errno : ENOSPC;         /* a short write to a regular file: out of space */
    else if (fdatasync (fd) != 0)
        e = errno;
    if (e) {
        int rc = e == ENOSPC || e == EDQUOT ? PL_ENOSPC : PL_EIO;
        if (ftruncate (fd, end) != 0)
            rc = PL_EIO;
        return rc;
    }
    return 0;
}

int
pl_audit_ckpt_load (const char *path, pl_audit_ckpt_t **out, size_t *n, size_t *partial,
                    size_t *bad_index)
{
    *out = NULL;
    *n = 0;
    *partial = 0;
    if (bad_index)
        *bad_index = 0;
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : PL_EIO;
    struct stat st;
    if (fstat (fd, &st) != 0) {
        close (fd);
        return PL_EIO;
    }
    size_t count = (size_t) st.st_size / PL_AUDIT_CKPT_LEN;
    *partial = (size_t) st.st_size % PL_AUDIT_CKPT_LEN;
    pl_audit_ckpt_t *v = count ? calloc (count, sizeof *v) : NULL;
    if (count && !v) {
        close (fd);
        return PL_ENOMEM;
    }
    int rc = 0;
    uint8_t entry[PL_AUDIT_CKPT_LEN];
    for (size_t i = 0; i < count; i++) {
        if (pread (fd, entry, sizeof entry, (off_t) (i * PL_AUDIT_CKPT_LEN))
            != (ssize_t) sizeof entry) {
            rc = PL_EIO;
            break;
        }
        if (pl_audit_ckpt_decode (entry, &v[i]) != 0) {
            if (bad_index)
                *bad_index = i;
            rc = PL_ECORRUPT;
            break;
        }
        (*n)++;
    }
    close (fd);
    *out = v;
    return rc;
}
