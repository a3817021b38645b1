/*  http_json.c — a request's JSON object body, checked the same way on every route (http.h). */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "plateau/http.h"

json_t *
pl_http_req_json_object (pl_http_req_t *req, const char *const *allowed)
{
    size_t len = 0;
    const char *body = pl_http_req_body (req, &len);
    json_error_t e;
    json_t *o = body && len ? json_loadb (body, len, JSON_REJECT_DUPLICATES, &e) : NULL;
    if (!o) {
        pl_http_reply_error_at (req, 400, "bad_json", body && len ? e.text : "empty body: a JSON object is expected",
                                NULL, body && len ? e.line : 0, body && len ? e.column : 0);
        return NULL;
    }
    if (!json_is_object (o)) {
        json_decref (o);
        pl_http_reply_error (req, 400, "bad_json", "expected a JSON object", NULL);
        return NULL;
    }
    const char *k;
    json_t *v;
    json_object_foreach (o, k, v) {
        bool known = false;
        for (size_t i = 0; allowed && allowed[i] && !known; i++)
            known = strcmp (allowed[i], k) == 0;
        if (!known) {
            char field[72], msg[128];
            snprintf (field, sizeof field, "%.64s", k);
            snprintf (msg, sizeof msg, "unknown member '%s'", field);
            pl_http_reply_error (req, 400, "unknown_field", msg, field);
            json_decref (o);
            return NULL;
        }
    }
    return o;
}
