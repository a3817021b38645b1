/*  fuzz_csv.c — libFuzzer target for streamed CSV (services/intake/csv_decode.c).
 *
 *  The first byte picks the options (delimiter given or detected, header row or the VICIdial
 *  mapping, unknown columns kept or refused) and the second the chunk size. Limits are small so
 *  that over-long records and column counts are reached. Items must come out numbered in order
 *  with increasing lines, and every rejection must say where it is.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv_decode.h"
#include "plateau/error.h"

static pl_phone_t *s_phone;
static intake_mappings_t *s_mappings;

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
        json_t *o = intake_lead_to_json (lead);
        if (!o)
            abort ();                              /* every string must be valid UTF-8 */
        json_decref (o);
        intake_lead_free (&lead);
    }
    else {
        if (!item->errors || item->errors->count == 0)
            abort ();
        for (size_t i = 0; i < item->errors->count; i++)
            if (item->errors->items[i].line != item->line || !item->errors->items[i].code)
                abort ();
    }
    return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_phone) {
        s_phone = pl_phone_new ();
        s_mappings = intake_mappings_new ();
    }
    if (size < 2)
        return 0;
    static const char delims[] = {0, ',', ';', '\t', '|', 0, 0, 0};
    uint8_t o = data[0];
    size_t chunk = (size_t) data[1] + 1;
    data += 2;
    size -= 2;
    intake_csv_opts_t copts = {.delimiter = delims[o & 7],
                               .mapping = (o & 8) ? "vicidial" : NULL,
                               .mapping_has_header = (o & 16) != 0,
                               .max_items = 500, .max_record = 2048, .max_columns = 40};
    intake_lead_opts_t opts = {.phone = s_phone, .default_campaign = "c",
                               .default_country = (o & 32) ? "US" : "FR",
                               .reject_unknown = (o & 64) != 0,
                               .received_at_ms = 1790000000000};
    ctx_t ctx = {0};
    intake_csv_t *d = intake_csv_new (&copts, s_mappings, &opts, s_item, &ctx);
    if (!d)
        return 0;
    int rc = 0;
    for (size_t at = 0; at < size && rc == 0; at += chunk)
        rc = intake_csv_feed (d, data + at, size - at < chunk ? size - at : chunk);
    if (rc == 0)
        rc = intake_csv_finish (d);
    if (rc >= 0 && (size_t) rc != ctx.next)
        abort ();
    if ((rc == PL_EINVAL || rc == PL_ENOTFOUND) && !intake_csv_error (d))
        abort ();
    intake_csv_destroy (&d);
    return 0;
}
