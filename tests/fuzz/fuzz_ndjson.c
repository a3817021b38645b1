/*  fuzz_ndjson.c — libFuzzer target for streamed NDJSON (services/intake/ndjson_decode.c).
 *
 *  The first byte sets the chunk size: the same body is fed in pieces of that size, so line
 *  handling across chunk boundaries is exercised. Items must come out numbered in order.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ndjson_decode.h"
#include "plateau/error.h"

static pl_phone_t *s_phone;

typedef struct {
    size_t next;
    size_t last_line;
} ctx_t;

static int
s_item (void *arg, const intake_item_t *item)
{
    ctx_t *ctx = arg;
    if (item->index != ctx->next++ || item->line <= ctx->last_line)
        abort ();
    ctx->last_line = item->line;
    Plateau__V1__Lead *lead = item->lead;
    if (lead) {
        if (item->errors)
            abort ();
        size_t n = plateau__v1__lead__get_packed_size (lead);
        uint8_t *buf = malloc (n ? n : 1);
        if (buf && plateau__v1__lead__pack (lead, buf) != n)
            abort ();
        free (buf);
        intake_lead_free (&lead);
    }
    else {
        if (!item->errors || item->errors->count == 0)
            abort ();
        for (size_t i = 0; i < item->errors->count; i++)
            if (item->errors->items[i].line != item->line)
                abort ();
    }
    return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_phone)
        s_phone = pl_phone_new ();
    if (size < 1)
        return 0;
    size_t chunk = (size_t) (data[0] % 64) + 1;
    data++;
    size--;
    intake_lead_opts_t opts = {.phone = s_phone, .default_campaign = "c",
                               .default_country = "FR", .reject_unknown = chunk % 2};
    ctx_t ctx = {0};
    intake_ndjson_t *d = intake_ndjson_new (&opts, s_item, &ctx);
    if (!d)
        return 0;
    intake_ndjson_set_limits (d, 512, 200);
    int rc = 0;
    for (size_t at = 0; at < size && rc == 0; at += chunk)
        rc = intake_ndjson_feed (d, data + at, size - at < chunk ? size - at : chunk);
    if (rc == 0)
        rc = intake_ndjson_finish (d);
    if (rc >= 0 && (size_t) rc != ctx.next)
        abort ();
    intake_ndjson_destroy (&d);
    return 0;
}
