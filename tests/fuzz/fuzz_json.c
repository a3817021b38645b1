/*  fuzz_json.c — libFuzzer target for JSON request bodies (services/intake/json_decode.c).
 *
 *  Any bytes: the decoder must either refuse the body with a position, or emit items in order,
 *  each either a lead that packs and renders, or errors with a code. The push decoder, fed the
 *  same bytes in uneven chunks, must come to the same answer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_decode.h"
#include "plateau/error.h"

static pl_phone_t *s_phone;

typedef struct {
    size_t next;
} ctx_t;

/* Shared by the decoder targets: checks one item and frees its lead. */
static int
s_item (void *arg, const intake_item_t *item)
{
    ctx_t *ctx = arg;
    if (item->index != ctx->next++)
        abort ();
    Plateau__V1__Lead *lead = item->lead;
    if (lead) {
        if (item->errors || !lead->phone || lead->phone->e164[0] != '+')
            abort ();
        size_t n = plateau__v1__lead__get_packed_size (lead);
        uint8_t *buf = malloc (n ? n : 1);
        if (buf && plateau__v1__lead__pack (lead, buf) != n)
            abort ();
        free (buf);
        json_t *o = intake_lead_to_json (lead);
        char *text = o ? json_dumps (o, JSON_COMPACT) : NULL;
        free (text);
        json_decref (o);
        intake_lead_free (&lead);
    }
    else {
        if (!item->errors || item->errors->count == 0)
            abort ();
        for (size_t i = 0; i < item->errors->count; i++)
            if (!item->errors->items[i].code)
                abort ();
        json_t *e = intake_errors_to_json (item->errors);
        json_decref (e);
    }
    return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_phone)
        s_phone = pl_phone_new ();
    intake_lead_opts_t opts = {.phone = s_phone, .source = "fuzz", .default_campaign = "c",
                               .default_country = size % 2 ? "FR" : NULL,
                               .reject_unknown = size % 3 == 0,
                               .received_at_ms = 1790000000000};
    ctx_t ctx = {0};
    intake_error_t fatal;
    bool batch;
    int rc = intake_json_decode ((const char *) data, size, &opts, 50, s_item, &ctx, &batch,
                                 &fatal);
    if (rc > 1 && !batch)
        abort ();
    if (rc >= 0 && (size_t) rc != ctx.next)
        abort ();
    if ((rc == PL_EINVAL || rc == PL_ETOOBIG) && (ctx.next != 0 || !fatal.code))
        abort ();

    ctx_t pctx = {0};
    intake_json_t *d = intake_json_new (&opts, 50, 0, s_item, &pctx);
    if (!d)
        return 0;
    int prc = 0;
    for (size_t at = 0, step = 1; at < size && prc == 0; at += step, step = step * 3 % 17 + 1)
        prc = intake_json_feed (d, data + at, size - at < step ? size - at : step);
    if (prc == 0)
        prc = intake_json_finish (d, &batch);
    if (prc != rc || pctx.next != ctx.next)
        abort ();
    if (rc < 0 && rc != PL_ENOMEM && strcmp (intake_json_error (d)->code, fatal.code) != 0)
        abort ();
    intake_json_destroy (&d);
    return 0;
}
