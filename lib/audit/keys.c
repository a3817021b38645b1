/*  keys.c — audit secrets: loading, pseudonyms, sealing personal data, signing (see audit_keys.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "plateau/error.h"
#include "plateau/audit_keys.h"

/* The whole object lives in sodium_malloc'd memory (guard pages, locked, wiped on free): the
 * error detail shares the allocation, which costs nothing and keeps one lifetime. */
struct pl_audit_keys {
    uint8_t sign_sk[crypto_sign_SECRETKEYBYTES];
    uint8_t sign_pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t pseudonym[crypto_auth_hmacsha256_KEYBYTES];
    crypto_auth_hmacsha256_state pseudonym_state;   /* keyed once: half of each HMAC saved */
    uint8_t data[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
    bool has_sign, has_pseudonym, has_data;
    char errstr[256];
};

pl_audit_keys_t *
pl_audit_keys_new (void)
{
    if (sodium_init () < 0)
        return NULL;
    pl_audit_keys_t *self = sodium_malloc (sizeof *self);
    if (!self)
        return NULL;
    memset (self, 0, sizeof *self);
    return self;
}

void
pl_audit_keys_destroy (pl_audit_keys_t **self_p)
{
    if (self_p && *self_p) {
        sodium_free (*self_p);          /* wipes before freeing */
        *self_p = NULL;
    }
}

const char *
pl_audit_keys_errstr (const pl_audit_keys_t *self)
{
    return self->errstr;
}

int
pl_audit_keys_parse_hex (const char *hex, uint8_t out[PL_AUDIT_KEY_LEN])
{
    if (!hex)
        return PL_ECONFIG;
    while (*hex == ' ' || *hex == '\t' || *hex == '\n' || *hex == '\r')
        hex++;
    size_t n = strlen (hex);
    while (n && (hex[n - 1] == ' ' || hex[n - 1] == '\t' || hex[n - 1] == '\n'
                 || hex[n - 1] == '\r'))
        n--;
    size_t bin_len = 0;
    const char *end = NULL;
    if (n != 2 * PL_AUDIT_KEY_LEN
        || sodium_hex2bin (out, PL_AUDIT_KEY_LEN, hex, n, NULL, &bin_len, &end) != 0
        || bin_len != PL_AUDIT_KEY_LEN || end != hex + n)
        return PL_ECONFIG;
    return 0;
}

/* Reads a small text file whole (at most 4 KiB) into buf. */
static int
s_read_small (const char *path, char *buf, size_t size)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return PL_EIO;
    size_t n = 0;
    while (n < size - 1) {
        ssize_t r = read (fd, buf + n, size - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            close (fd);
            return PL_EIO;
        }
        if (r == 0)
            break;
        n += (size_t) r;
    }
    close (fd);
    buf[n] = '\0';
    return 0;
}

static int
s_load_file (pl_audit_keys_t *self, const char *path, uint8_t out[PL_AUDIT_KEY_LEN])
{
    char text[4096];
    int rc = s_read_small (path, text, sizeof text);
    if (rc) {
        snprintf (self->errstr, sizeof self->errstr, "%s: cannot read: %s", path,
                  strerror (errno));
        return rc;
    }
    rc = pl_audit_keys_parse_hex (text, out);
    sodium_memzero (text, sizeof text);
    if (rc)
        snprintf (self->errstr, sizeof self->errstr, "%s: expected 64 hex digits", path);
    return rc;
}

void
pl_audit_keys_set_signing_seed (pl_audit_keys_t *self, const uint8_t seed[PL_AUDIT_KEY_LEN])
{
    crypto_sign_seed_keypair (self->sign_pk, self->sign_sk, seed);
    self->has_sign = true;
}

void
pl_audit_keys_set_pseudonym (pl_audit_keys_t *self, const uint8_t key[PL_AUDIT_KEY_LEN])
{
    memcpy (self->pseudonym, key, PL_AUDIT_KEY_LEN);
    crypto_auth_hmacsha256_init (&self->pseudonym_state, key, PL_AUDIT_KEY_LEN);
    self->has_pseudonym = true;
}

void
pl_audit_keys_set_data (pl_audit_keys_t *self, const uint8_t key[PL_AUDIT_KEY_LEN])
{
    memcpy (self->data, key, PL_AUDIT_KEY_LEN);
    self->has_data = true;
}

/* One loader per key kind: the file's 64 hex digits, handed to the kind's setter. */
static int
s_load (pl_audit_keys_t *self, const char *path,
        void (*setter) (pl_audit_keys_t *, const uint8_t *))
{
    uint8_t k[PL_AUDIT_KEY_LEN];
    int rc = s_load_file (self, path, k);
    if (rc == 0)
        setter (self, k);
    sodium_memzero (k, sizeof k);
    return rc;
}

int
pl_audit_keys_load_signing (pl_audit_keys_t *self, const char *path)
{
    return s_load (self, path, pl_audit_keys_set_signing_seed);
}

int
pl_audit_keys_load_pseudonym (pl_audit_keys_t *self, const char *path)
{
    return s_load (self, path, pl_audit_keys_set_pseudonym);
}

int
pl_audit_keys_load_data (pl_audit_keys_t *self, const char *path)
{
    return s_load (self, path, pl_audit_keys_set_data);
}

bool pl_audit_keys_has_signing (const pl_audit_keys_t *self) { return self->has_sign; }
bool pl_audit_keys_has_pseudonym (const pl_audit_keys_t *self) { return self->has_pseudonym; }
bool pl_audit_keys_has_data (const pl_audit_keys_t *self) { return self->has_data; }

int
pl_audit_keys_public (const pl_audit_keys_t *self, uint8_t out[PL_AUDIT_KEY_LEN])
{
    if (!self->has_sign)
        return PL_EINVAL;
    memcpy (out, self->sign_pk, PL_AUDIT_KEY_LEN);
    return 0;
}

int
pl_audit_keys_public_hex (const pl_audit_keys_t *self, char out[2 * PL_AUDIT_KEY_LEN + 1])
{
    if (!self->has_sign)
        return PL_EINVAL;
    sodium_bin2hex (out, 2 * PL_AUDIT_KEY_LEN + 1, self->sign_pk, PL_AUDIT_KEY_LEN);
    return 0;
}

/* Writes text to path through a temporary file and rename, with the given mode. When
 * exclusive, an existing path is an error (PL_EEXIST) rather than replaced. */
static int
s_write_file (const char *path, const char *text, mode_t mode, bool exclusive)
{
    if (exclusive && access (path, F_OK) == 0)
        return PL_EEXIST;
    char tmp[4096];
    if (snprintf (tmp, sizeof tmp, "%s.tmp.%d", path, (int) getpid ()) >= (int) sizeof tmp)
        return PL_EINVAL;
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return errno == ENOSPC ? PL_ENOSPC : PL_EIO;
    size_t n = strlen (text);
    int rc = 0;
    if (write (fd, text, n) != (ssize_t) n || fsync (fd) != 0)
        rc = errno == ENOSPC ? PL_ENOSPC : PL_EIO;
    if (fchmod (fd, mode) != 0 && rc == 0)
        rc = PL_EIO;
    close (fd);
    if (rc == 0 && exclusive) {
        /* link() fails if path appeared meanwhile: never clobber a secret. */
        if (link (tmp, path) != 0)
            rc = errno == EEXIST ? PL_EEXIST : PL_EIO;
        unlink (tmp);
    } else if (rc == 0) {
        if (rename (tmp, path) != 0)
            rc = PL_EIO;
    } else
        unlink (tmp);
    return rc;
}

int
pl_audit_keys_write_public (pl_audit_keys_t *self, const char *path)
{
    char hex[2 * PL_AUDIT_KEY_LEN + 2];
    if (pl_audit_keys_public_hex (self, hex) != 0) {
        snprintf (self->errstr, sizeof self->errstr, "no signing key loaded");
        return PL_EINVAL;
    }
    strcat (hex, "\n");
    int rc = s_write_file (path, hex, 0644, false);
    if (rc)
        snprintf (self->errstr, sizeof self->errstr, "%s: cannot write public key", path);
    return rc;
}

int
pl_audit_keys_sign (const pl_audit_keys_t *self, const uint8_t *msg, size_t len,
                    uint8_t sig[PL_AUDIT_SIG_LEN])
{
    if (!self->has_sign)
        return PL_EINVAL;
    crypto_sign_detached (sig, NULL, msg, len, self->sign_sk);
    return 0;
}

bool
pl_audit_is_e164 (const char *s)
{
    if (!s || s[0] != '+' || s[1] < '1' || s[1] > '9')
        return false;
    size_t digits = 0;
    for (const char *p = s + 1; *p; p++, digits++)
        if (*p < '0' || *p > '9')
            return false;
    return digits >= 2 && digits <= 15;
}

int
pl_audit_keys_pseudonym (const pl_audit_keys_t *self, const char *e164,
                         uint8_t out[PL_AUDIT_PSEUDONYM_LEN])
{
    if (!self->has_pseudonym || !pl_audit_is_e164 (e164))
        return PL_EINVAL;
    crypto_auth_hmacsha256_state st = self->pseudonym_state;
    crypto_auth_hmacsha256_update (&st, (const uint8_t *) e164, strlen (e164));
    crypto_auth_hmacsha256_final (&st, out);
    sodium_memzero (&st, sizeof st);
    return 0;
}

int
pl_audit_keys_seal_with (const pl_audit_keys_t *self, const uint8_t nonce[24],
                         const uint8_t *plain, size_t len, const uint8_t *ad, size_t ad_len,
                         uint8_t *out)
{
    if (!self->has_data)
        return PL_EINVAL;
    memmove (out, nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt (
        out + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, NULL, plain, len, ad, ad_len, NULL,
        out, self->data);
    return 0;
}

int
pl_audit_keys_open (const pl_audit_keys_t *self, const uint8_t *blob, size_t len,
                    const uint8_t *ad, size_t ad_len, uint8_t *plain)
{
    if (!self->has_data)
        return PL_EINVAL;
    if (len < PL_AUDIT_SEAL_OVERHEAD)
        return PL_ECORRUPT;
    const uint8_t *nonce = blob;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt (
            plain, NULL, NULL, blob + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
            len - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, ad, ad_len, nonce, self->data)
        != 0)
        return PL_ECORRUPT;
    return 0;
}

int
pl_audit_keys_generate_signing (const char *secret_path, const char *public_path)
{
    if (sodium_init () < 0)
        return PL_EIO;
    uint8_t seed[PL_AUDIT_KEY_LEN], pk[crypto_sign_PUBLICKEYBYTES],
        sk[crypto_sign_SECRETKEYBYTES];
    char hex[2 * PL_AUDIT_KEY_LEN + 2];
    randombytes_buf (seed, sizeof seed);
    crypto_sign_seed_keypair (pk, sk, seed);
    sodium_bin2hex (hex, sizeof hex, seed, sizeof seed);
    strcat (hex, "\n");
    int rc = s_write_file (secret_path, hex, 0600, true);
    sodium_memzero (seed, sizeof seed);
    sodium_memzero (sk, sizeof sk);
    sodium_memzero (hex, sizeof hex);
    if (rc == 0 && public_path) {
        sodium_bin2hex (hex, sizeof hex, pk, sizeof pk);
        strcat (hex, "\n");
        rc = s_write_file (public_path, hex, 0644, false);
    }
    return rc;
}

int
pl_audit_keys_generate_secret (const char *path)
{
    if (sodium_init () < 0)
        return PL_EIO;
    uint8_t key[PL_AUDIT_KEY_LEN];
    char hex[2 * PL_AUDIT_KEY_LEN + 2];
    randombytes_buf (key, sizeof key);
    sodium_bin2hex (hex, sizeof hex, key, sizeof key);
    strcat (hex, "\n");
    int rc = s_write_file (path, hex, 0600, true);
    sodium_memzero (key, sizeof key);
    sodium_memzero (hex, sizeof hex);
    return rc;
}

int
pl_audit_keys_read_public (const char *path, uint8_t out[PL_AUDIT_KEY_LEN])
{
    char text[4096];
    int rc = s_read_small (path, text, sizeof text);
    if (rc)
        return rc;
    return pl_audit_keys_parse_hex (text, out);
}
