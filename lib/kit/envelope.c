/*  envelope.c — Envelope header, type names, pack and unpack (see envelope.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plateau/envelope.h"

void
pl_envelope_init (pl_envelope_t *env, pl_envelope_ids_t *ids, const char *source,
                  const pl_clock_t *clock, const char *trace_id)
{
    plateau__v1__envelope__init (env);
    int64_t now = pl_clock_now_ms (clock);
    /* Ids order by real time even under a virtual clock: they must stay unique across runs. */
    pl_id_new (ids->id, pl_clock_is_virtual (clock) ? pl_clock_now_ms (NULL) : now);
    if (trace_id && pl_trace_id_valid (trace_id))
        memcpy (ids->trace_id, trace_id, PL_TRACE_ID_LEN + 1);
    else
        pl_trace_id_new (ids->trace_id);
    env->id = ids->id;
    env->trace_id = ids->trace_id;
    env->source = (char *) (source ? source : "");
    env->sent_at_ms = now;
    env->schema_version = PL_SCHEMA_VERSION;
    env->attempt = 1;
}

const char *
pl_envelope_type_name (pl_body_case_t body_case)
{
    if (body_case == PLATEAU__V1__ENVELOPE__BODY__NOT_SET)
        return "";
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field (&plateau__v1__envelope__descriptor, (unsigned) body_case);
    if (!f || f->type != PROTOBUF_C_TYPE_MESSAGE)
        return "";
    return ((const ProtobufCMessageDescriptor *) f->descriptor)->short_name;
}

pl_body_case_t
pl_envelope_type_from_name (const char *name)
{
    const ProtobufCMessageDescriptor *d = &plateau__v1__envelope__descriptor;
    for (unsigned i = 0; name && *name && i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type == PROTOBUF_C_TYPE_MESSAGE && (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
            && strcmp (((const ProtobufCMessageDescriptor *) f->descriptor)->short_name, name) == 0)
            return (pl_body_case_t) f->id;
    }
    return PLATEAU__V1__ENVELOPE__BODY__NOT_SET;
}

uint8_t *
pl_envelope_pack (pl_envelope_t *env, size_t *len)
{
    /* Only replaced when different: an unpacked envelope owns its type string. */
    const char *name = pl_envelope_type_name (env->body_case);
    if (!env->type || strcmp (env->type, name) != 0)
        env->type = (char *) name;
    size_t n = plateau__v1__envelope__get_packed_size (env);
    uint8_t *buf = malloc (n ? n : 1);
    if (!buf)
        return NULL;
    *len = plateau__v1__envelope__pack (env, buf);
    return buf;
}

pl_envelope_t *
pl_envelope_unpack (const uint8_t *data, size_t len, char *err, size_t err_size)
{
    if (len > PL_ENVELOPE_MAX_BYTES) {
        if (err)
            snprintf (err, err_size, "envelope of %zu bytes is over the %d-byte limit", len,
                      PL_ENVELOPE_MAX_BYTES);
        return NULL;
    }
    pl_envelope_t *env = plateau__v1__envelope__unpack (NULL, len, data);
    if (!env) {
        if (err)
            snprintf (err, err_size, "not a valid plateau.v1.Envelope (%zu bytes)", len);
        return NULL;
    }
    const char *expected = pl_envelope_type_name (env->body_case);
    if (!*expected || strcmp (env->type ? env->type : "", expected) != 0) {
        if (err)
            snprintf (err, err_size, "envelope type '%s' does not match its body '%s'",
                      env->type ? env->type : "", *expected ? expected : "(none)");
        plateau__v1__envelope__free_unpacked (env, NULL);
        return NULL;
    }
    if (!env->id || !*env->id) {
        if (err)
            snprintf (err, err_size, "envelope has no id");
        plateau__v1__envelope__free_unpacked (env, NULL);
        return NULL;
    }
    if (strlen (env->id) > PL_ENVELOPE_ID_MAX) {
        if (err)
            snprintf (err, err_size, "envelope id of %zu bytes is over the %d-byte limit", strlen (env->id),
                      PL_ENVELOPE_ID_MAX);
        plateau__v1__envelope__free_unpacked (env, NULL);
        return NULL;
    }
    return env;
}

void
pl_envelope_free (pl_envelope_t **env_p)
{
    if (env_p && *env_p) {
        plateau__v1__envelope__free_unpacked (*env_p, NULL);
        *env_p = NULL;
    }
}
