/*  fuzz_envelope.c — the bus's envelope decoder on arbitrary bytes: it must refuse or accept,
 *  never crash, and what it accepts must encode again.
 */
#include <stdint.h>
#include <stdlib.h>
#include "plateau/envelope.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char err[256];
    pl_envelope_t *env = pl_envelope_unpack (data, size, err, sizeof err);
    if (env) {
        size_t len;
        uint8_t *again = pl_envelope_pack (env, &len);
        if (!again)
            abort ();
        free (again);
        (void) pl_envelope_type_from_name (env->type);
        pl_envelope_free (&env);
    }
    return 0;
}
