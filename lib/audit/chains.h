/*  chains.h — the chain directories under an audit data directory.
 *
 *  Each chain lives in a directory named by its chain id under the root. Verification and
 *  queries both walk all of them, in the same (sorted) order; this is the one walk.
 *  Internal to the audit modules (the pl__ prefix).
 */
#ifndef PL_AUDIT_CHAINS_H
#define PL_AUDIT_CHAINS_H
#include <stddef.h>

/* Sets *names to a new array of the *n chain ids under root, sorted (NULL when there are
 * none); free with pl__audit_chains_free. 0, or PL_ENOTFOUND when root does not exist and
 * PL_EIO when it cannot be read. Running out of memory shortens the list. */
int pl__audit_chains (const char *root, char ***names, size_t *n);

/* Frees what pl__audit_chains returned. */
void pl__audit_chains_free (char **names, size_t n);
#endif
