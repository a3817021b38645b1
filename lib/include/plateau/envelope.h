/*  envelope.h — building, packing and reading the one Envelope every bus message travels in.
 *
 *  An envelope carries an id (ULID), the body's type name ("LeadSubmitted", the short name of
 *  the oneof case, which also travels as the first ZeroMQ frame), the source service, the sent
 *  time from the service's clock, a W3C trace id and the schema version. Bodies are the
 *  generated protobuf-c structs of proto/plateau/v1.
 */
#ifndef PL_ENVELOPE_H
#define PL_ENVELOPE_H
#include <stddef.h>
#include <stdint.h>
#include "plateau/v1/envelope.pb-c.h"
#include "plateau/clock.h"
#include "plateau/id.h"

#define PL_SCHEMA_VERSION 1
/* Upper bound on an encoded envelope accepted from the wire (bigger ones are nacked TOO_LARGE). */
#define PL_ENVELOPE_MAX_BYTES (4 * 1024 * 1024)
/* Upper bound on an envelope id from the wire: ULIDs are 26 characters, and the ids services
 * derive from one ("<id>.verdict.3") must stay unique in their bounded buffers. */
#define PL_ENVELOPE_ID_MAX 128

typedef Plateau__V1__Envelope pl_envelope_t;
typedef Plateau__V1__Envelope__BodyCase pl_body_case_t;

/* Fills the header of env: new id, source, sent time from clock, trace id (copied when given
 * and valid, new otherwise), schema version, attempt 1. Strings point into storage of at least
 * PL_ID_LEN+1 / PL_TRACE_ID_LEN+1 bytes provided by the caller in `ids`. */
typedef struct {
    char id[PL_ID_LEN + 1];
    char trace_id[PL_TRACE_ID_LEN + 1];
} pl_envelope_ids_t;
void pl_envelope_init (pl_envelope_t *env, pl_envelope_ids_t *ids, const char *source,
                       const pl_clock_t *clock, const char *trace_id);

/* Type name of a body case ("LeadSubmitted"); "" for none or unknown. Static string. */
const char *pl_envelope_type_name (pl_body_case_t body_case);
/* Body case for a type name, or PLATEAU__V1__ENVELOPE__BODY__NOT_SET. */
pl_body_case_t pl_envelope_type_from_name (const char *name);

/* Encodes env (setting env->type from its body case). Returns a malloc'd buffer and its length
 * in *len, or NULL. */
uint8_t *pl_envelope_pack (pl_envelope_t *env, size_t *len);
/* Decodes; NULL when malformed, over PL_ENVELOPE_MAX_BYTES, with no id or one over
 * PL_ENVELOPE_ID_MAX bytes, or when the type does not match the body (why in err). Free with pl_envelope_free. */
pl_envelope_t *pl_envelope_unpack (const uint8_t *data, size_t len, char *err, size_t err_size);
void pl_envelope_free (pl_envelope_t **env_p);

#endif
