/*  audit_keys.h — the audit service's secrets: checkpoint signing, number pseudonyms, personal data.
 *
 *  Three independent keys, each from its own secret file (a Kubernetes Secret mounted as a
 *  volume), each 32 bytes written as 64 hex digits on one line:
 *
 *    signing    Ed25519 seed; signs checkpoints. Its public half is published (a file beside the
 *               data and pl_audit_keys_public_hex for the HTTP API) so anyone can verify.
 *    pseudonym  HMAC-SHA256 key; turns an E.164 number into the pseudonym the records and the
 *               index are searched by. Every replica must share it.
 *    data       XChaCha20-Poly1305 key; encrypts the personal part of a record (the number in
 *               clear, the event's free text) for display to authorised queries.
 *
 *  A process needs only what it uses: the writer needs all three, `audit verify` needs none
 *  (only published public keys), a query that reveals numbers needs pseudonym and data.
 *  Secrets live in libsodium guarded memory and are wiped on destroy.
 */
#ifndef PL_AUDIT_KEYS_H
#define PL_AUDIT_KEYS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PL_AUDIT_KEY_LEN 32             /* every secret and public key */
#define PL_AUDIT_SIG_LEN 64             /* Ed25519 signature */
#define PL_AUDIT_PSEUDONYM_LEN 32       /* HMAC-SHA256 output */
#define PL_AUDIT_SEAL_OVERHEAD 40       /* nonce (24) + tag (16) added by pl_audit_keys_seal_with */

typedef struct pl_audit_keys pl_audit_keys_t;

/* Returns an empty key set, or NULL on allocation failure. */
pl_audit_keys_t *pl_audit_keys_new (void);
/* Wipes and frees *self_p, sets it to NULL; safe twice. */
void pl_audit_keys_destroy (pl_audit_keys_t **self_p);

/* Load a key from a secret file (64 hex digits, surrounding blanks allowed). 0, or PL_EIO when
 * the file cannot be read, PL_ECONFIG when it does not hold a key (errstr names the path). */
int pl_audit_keys_load_signing (pl_audit_keys_t *self, const char *path);
int pl_audit_keys_load_pseudonym (pl_audit_keys_t *self, const char *path);
int pl_audit_keys_load_data (pl_audit_keys_t *self, const char *path);
/* The same from raw bytes (tests, benchmarks). */
void pl_audit_keys_set_signing_seed (pl_audit_keys_t *self, const uint8_t seed[PL_AUDIT_KEY_LEN]);
void pl_audit_keys_set_pseudonym (pl_audit_keys_t *self, const uint8_t key[PL_AUDIT_KEY_LEN]);
void pl_audit_keys_set_data (pl_audit_keys_t *self, const uint8_t key[PL_AUDIT_KEY_LEN]);

bool pl_audit_keys_has_signing (const pl_audit_keys_t *self);
bool pl_audit_keys_has_pseudonym (const pl_audit_keys_t *self);
bool pl_audit_keys_has_data (const pl_audit_keys_t *self);

/* The signing key's public half: raw, as 64 hex digits + NUL, or written to a file (mode 0644,
 * replaced atomically). PL_EINVAL without a signing key. */
int pl_audit_keys_public (const pl_audit_keys_t *self, uint8_t out[PL_AUDIT_KEY_LEN]);
int pl_audit_keys_public_hex (const pl_audit_keys_t *self, char out[2 * PL_AUDIT_KEY_LEN + 1]);
int pl_audit_keys_write_public (pl_audit_keys_t *self, const char *path);

/* Detached Ed25519 signature of msg. PL_EINVAL without a signing key. */
int pl_audit_keys_sign (const pl_audit_keys_t *self, const uint8_t *msg, size_t len,
                        uint8_t sig[PL_AUDIT_SIG_LEN]);

/* The keyed pseudonym of an E.164 number (HMAC-SHA256). PL_EINVAL without the pseudonym key or
 * when e164 is not "+" followed by 2 to 15 digits. */
int pl_audit_keys_pseudonym (const pl_audit_keys_t *self, const char *e164,
                             uint8_t out[PL_AUDIT_PSEUDONYM_LEN]);

/* Encrypts plain (len bytes) bound to ad into out (len + PL_AUDIT_SEAL_OVERHEAD bytes): the
 * nonce the caller drew (24 random bytes; never reuse one under a key) followed by the
 * XChaCha20-Poly1305 ciphertext. PL_EINVAL without the data key. */
int pl_audit_keys_seal_with (const pl_audit_keys_t *self, const uint8_t nonce[24],
                             const uint8_t *plain, size_t len, const uint8_t *ad, size_t ad_len,
                             uint8_t *out);
/* Decrypts what seal produced; plain receives len - PL_AUDIT_SEAL_OVERHEAD bytes.
 * PL_ECORRUPT when the blob was altered or bound to other ad, PL_EINVAL without the data key. */
int pl_audit_keys_open (const pl_audit_keys_t *self, const uint8_t *blob, size_t len,
                        const uint8_t *ad, size_t ad_len, uint8_t *plain);

/* Detail of the last failure ("/run/secrets/audit-signing: expected 64 hex digits"). */
const char *pl_audit_keys_errstr (const pl_audit_keys_t *self);

/* --- Files ------------------------------------------------------------------------------ */

/* Creates a new Ed25519 key: the seed in secret_path (mode 0600) and the public key in
 * public_path (mode 0644, may be NULL). Refuses to overwrite an existing secret (PL_EEXIST). */
int pl_audit_keys_generate_signing (const char *secret_path, const char *public_path);
/* Creates a new random 32-byte secret (pseudonym or data key) in path, mode 0600; PL_EEXIST if
 * the file exists. */
int pl_audit_keys_generate_secret (const char *path);
/* Reads a published public key file (64 hex digits). PL_EIO / PL_ECONFIG. */
int pl_audit_keys_read_public (const char *path, uint8_t out[PL_AUDIT_KEY_LEN]);
/* Parses 64 hex digits (blanks around allowed) into 32 bytes; PL_ECONFIG otherwise. */
int pl_audit_keys_parse_hex (const char *hex, uint8_t out[PL_AUDIT_KEY_LEN]);

/* True when s is "+" followed by 2 to 15 digits, the first not 0. */
bool pl_audit_is_e164 (const char *s);

#endif
