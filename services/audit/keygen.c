/*  keygen.c — plateau-audit-keygen: creates the audit service's key files.
 *
 *      plateau-audit-keygen DIR [--signing-only]
 *
 *  writes DIR/audit-signing.key (Ed25519 seed) and DIR/audit-signing.pub (its public key, to
 *  publish), DIR/audit-pseudonym.key and DIR/audit-data.key (shared by every replica). Secret
 *  files are mode 0600; an existing file is never overwritten. With --signing-only, only a new
 *  signing pair (a new replica, or a key rotation). Load them into Kubernetes Secrets with
 *  `kubectl create secret generic … --from-file=DIR/audit-signing.key …`.
 */
#include <stdio.h>
#include <string.h>
#include "plateau/error.h"
#include "plateau/audit_keys.h"

static int
s_make (int rc, const char *path)
{
    if (rc == PL_EEXIST)
        fprintf (stderr, "plateau-audit-keygen: %s exists; not overwritten\n", path);
    else if (rc)
        fprintf (stderr, "plateau-audit-keygen: %s: %s\n", path, pl_strerror (rc));
    else
        printf ("wrote %s\n", path);
    return rc;
}

int
main (int argc, char **argv)
{
    if (argc < 2 || argc > 3 || (argc == 3 && strcmp (argv[2], "--signing-only") != 0)) {
        fprintf (stderr, "usage: plateau-audit-keygen DIR [--signing-only]\n");
        return 2;
    }
    const char *dir = argv[1];
    char sk[4096], pk[4096], ps[4096], dk[4096];
    snprintf (sk, sizeof sk, "%s/audit-signing.key", dir);
    snprintf (pk, sizeof pk, "%s/audit-signing.pub", dir);
    snprintf (ps, sizeof ps, "%s/audit-pseudonym.key", dir);
    snprintf (dk, sizeof dk, "%s/audit-data.key", dir);
    int failed = 0;
    if (s_make (pl_audit_keys_generate_signing (sk, pk), sk) == 0)
        printf ("wrote %s\n", pk);
    else
        failed = 1;
    if (argc == 2) {
        failed |= s_make (pl_audit_keys_generate_secret (ps), ps) != 0;
        failed |= s_make (pl_audit_keys_generate_secret (dk), dk) != 0;
    }
    return failed;
}
