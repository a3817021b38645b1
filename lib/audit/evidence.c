/*  evidence.c — the typed evidence of an audit record as JSON (see evidence.h). */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include "evidence.h"

static json_t *s_message (const ProtobufCMessage *m, const char *skip);

/* One value of field f at p (a pointer to the value itself), or NULL for a default. */
static json_t *
s_value (const ProtobufCFieldDescriptor *f, const void *p, bool in_array)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *) p;
        return s && (s[0] || in_array) ? json_string (s) : NULL;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *m = *(ProtobufCMessage *const *) p;
        if (!m)
            return NULL;
        json_t *o = s_message (m, NULL);
        return o ? o : (in_array ? json_object () : NULL);
    }
    case PROTOBUF_C_TYPE_BOOL:
        return *(const protobuf_c_boolean *) p || in_array
                   ? json_boolean (*(const protobuf_c_boolean *) p) : NULL;
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: {
        int32_t v = *(const int32_t *) p;
        return v || in_array ? json_integer (v) : NULL;
    }
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: {
        uint32_t v = *(const uint32_t *) p;
        return v || in_array ? json_integer ((json_int_t) v) : NULL;
    }
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: {
        int64_t v = *(const int64_t *) p;
        return v || in_array ? json_integer ((json_int_t) v) : NULL;
    }
    case PROTOBUF_C_TYPE_ENUM: {
        int v = *(const int *) p;
        if (!v && !in_array)
            return NULL;
        const ProtobufCEnumValue *ev =
            protobuf_c_enum_descriptor_get_value (f->descriptor, v);
        if (!ev)
            return json_integer (v);
        char name[64];
        size_t i = 0;
        for (; ev->name[i] && i + 1 < sizeof name; i++)
            name[i] = (char) tolower ((unsigned char) ev->name[i]);
        name[i] = '\0';
        return json_string (name);
    }
    default:
        return NULL;            /* no float, double or bytes field is evidence */
    }
}

static size_t
s_elem_size (const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof (void *);
    case PROTOBUF_C_TYPE_BOOL:    return sizeof (protobuf_c_boolean);
    case PROTOBUF_C_TYPE_ENUM:    return sizeof (int);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: return 8;
    default:                      return 4;
    }
}

static json_t *
s_message (const ProtobufCMessage *m, const char *skip)
{
    json_t *o = json_object ();
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; o && i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (skip && strcmp (f->name, skip) == 0)
            continue;
        const char *at = (const char *) m + f->offset;
        json_t *v = NULL;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *) ((const char *) m + f->quantifier_offset);
            const char *arr = *(const char *const *) at;
            if (n && arr) {
                v = json_array ();
                for (size_t k = 0; v && k < n; k++)
                    json_array_append_new (v, s_value (f, arr + k * s_elem_size (f), true));
            }
        } else
            v = s_value (f, at, false);
        if (v)
            json_object_set_new (o, f->name, v);
    }
    if (o && json_object_size (o) == 0) {
        json_decref (o);
        return NULL;
    }
    return o;
}

json_t *
pl__audit_evidence_json (const Plateau__V1__AuditEvent *ev)
{
    return ev ? s_message (&ev->base, "lists") : NULL;
}
