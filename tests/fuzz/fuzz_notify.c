/*  fuzz_notify.c — libFuzzer target for what the notify service reads from outside
 *  (services/notify): a subscription's URL, a receiver's Retry-After, and the audit export's
 *  records it turns into webhook bodies.
 *
 *  Input: one byte choosing the decoder, then its text. Besides the sanitizers, it checks what
 *  must always hold: an accepted URL is https:// (http:// only when insecure URLs are allowed)
 *  and has a path to sign; a Retry-After is -1 or a delay >= 0; a record's webhook body is a
 *  JSON object whose id is the record's stable event id, and its facts never carry a number.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "payload.h"
#include "plateau/error.h"
#include "policy.h"

static void
s_check (bool ok, const char *what)
{
    if (!ok) {
        fprintf (stderr, "invariant broken: %s\n", what);
        abort ();
    }
}

static void
s_url (const char *text, bool insecure)
{
    char why[200], target[2100];
    if (notify_policy_url_check (text, 2048, insecure, why, sizeof why) != 0) {
        s_check (why[0] != '\0', "a refused URL says why");
        return;
    }
    s_check (strncasecmp (text, "https://", 8) == 0 || (insecure && strncasecmp (text, "http://", 7) == 0),
             "an accepted URL is https (http only when allowed)");
    for (const char *p = text; *p; p++)
        s_check ((unsigned char) *p > ' ' && (unsigned char) *p < 0x7f, "an accepted URL is printable ASCII");
    s_check (notify_payload_target (text, target, sizeof target) == 0 && target[0] == '/',
             "an accepted URL has a path and query to sign");
}

static void
s_record (const char *text, size_t len)
{
    json_t *item = json_loadb (text, len, 0, NULL);
    if (!item)
        return;
    notify_event_t ev = { 0 };
    int rc = notify_event_from_record (item, &ev);
    if (rc == 0 && ev.kind == NOTIFY_RECORD_EVENT) {
        char id[NOTIFY_EVENT_ID_SIZE];
        notify_event_id (ev.audit_id, id);
        char *body = notify_payload_body (id, ev.type, ev.at_ms, ev.source, ev.lead_id, ev.external_id,
                                          ev.campaign, ev.data);
        s_check (body != NULL, "an event has a body");
        json_t *o = json_loads (body, 0, NULL);
        s_check (json_is_object (o), "the body is a JSON object");
        s_check (strcmp (json_string_value (json_object_get (o, "id")), id) == 0, "the body carries its id");
        s_check (!json_object_get (json_object_get (o, "data"), "number"), "the facts carry no number");
        json_decref (o);
        free (body);
    }
    notify_event_clear (&ev);
    json_decref (item);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1 || size > 8192)
        return 0;
    char *text = malloc (size);
    if (!text)
        return 0;
    memcpy (text, data + 1, size - 1);
    text[size - 1] = '\0';
    switch (data[0] % 4) {
    case 0: s_url (text, false); break;
    case 1: s_url (text, true); break;
    case 2: {
        int64_t ms = notify_policy_retry_after_ms (text, 1796634000000LL);
        s_check (ms == -1 || ms >= 0, "a Retry-After is -1 or a delay");
        break;
    }
    default: s_record (text, size - 1); break;
    }
    free (text);
    return 0;
}
