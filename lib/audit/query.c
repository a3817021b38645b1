/*  query.c — filtered pages, stories and exports over every chain (see audit_query.h).
 *
 *  Pages merge the chains by (at_ms, chain, seq): each chain's index is asked for up to
 *  limit + 1 rows after the cursor, the rows are merged, the first `limit` returned, and the
 *  cursor names the last one returned. The cursor is "<at_ms>_<seq>_<chain>", opaque to
 *  callers.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sodium.h>
#include "plateau/error.h"
#include "plateau/timefmt.h"
#include "chains.h"
#include "evidence.h"
#include "grow.h"
#include "index.h"
#include "parts.h"
#include "plateau/audit_query.h"
#include "plateau/audit_record.h"
#include "plateau/audit_segment.h"
#include "localtime.h"

struct pl_audit_reader {
    char *root;
    const pl_audit_keys_t *keys;
    pl_audit_codec_t *codec;
    char *zoneinfo;
    char errstr[512];
};

pl_audit_reader_t *
pl_audit_reader_new (const char *root, const pl_audit_keys_t *keys)
{
    pl_audit_reader_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->root = strdup (root);
    self->keys = keys;
    self->codec = pl_audit_codec_new ();
    if (!self->root || !self->codec)
        pl_audit_reader_destroy (&self);
    return self;
}

void
pl_audit_reader_destroy (pl_audit_reader_t **self_p)
{
    if (self_p && *self_p) {
        pl_audit_reader_t *self = *self_p;
        pl_audit_codec_destroy (&self->codec);
        free (self->root);
        free (self->zoneinfo);
        free (self);
        *self_p = NULL;
    }
}

void
pl_audit_reader_set_zoneinfo (pl_audit_reader_t *self, const char *dir)
{
    free (self->zoneinfo);
    self->zoneinfo = dir ? strdup (dir) : NULL;
}

const char *pl_audit_reader_errstr (const pl_audit_reader_t *self) { return self->errstr; }

static int
s_fail (pl_audit_reader_t *self, int rc, const char *what)
{
    snprintf (self->errstr, sizeof self->errstr, "%s", what);
    return rc;
}

/* Chain directories under root, sorted; free with pl__audit_chains_free. */
static int
s_chains (pl_audit_reader_t *self, char ***names, size_t *n)
{
    int rc = pl__audit_chains (self->root, names, n);
    return rc ? s_fail (self, rc, "data directory cannot be read") : 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Records as JSON                                                                          */

/* "2026-03-03T19:58:07.123Z", by the project's one RFC 3339 writer. */
static const char *
s_iso (int64_t ms, char *out, size_t size)
{
    pl_time_format_rfc3339 (ms, out, size);
    return out;
}

static void
s_set_str (json_t *o, const char *k, const char *v)
{
    if (v && v[0])
        json_object_set_new (o, k, json_string (v));
}

/* Adds the revealed personal fields, or says why there are none. */
static void
s_set_personal (pl_audit_reader_t *self, json_t *o, const char *chain, uint64_t seq,
                const uint8_t *blob, size_t len, bool erased, bool reveal)
{
    if (erased) {
        json_object_set_new (o, "personal", json_string ("erased"));
        return;
    }
    if (!blob || !len) {
        json_object_set_new (o, "personal", json_string ("none"));
        return;
    }
    json_object_set_new (o, "personal", json_string ("sealed"));
    if (!reveal)
        return;
    const pl_audit_personal_t *p;
    if (pl_audit_codec_open_personal (self->codec, chain, seq, blob, len, self->keys, &p) != 0) {
        json_object_set_new (o, "personal", json_string ("unreadable"));
        return;
    }
    json_object_set_new (o, "personal", json_string ("revealed"));
    s_set_str (o, "number", p->number);
    s_set_str (o, "reason", p->reason);
    if (p->n_details) {
        json_t *d = json_object ();
        for (size_t i = 0; i < p->n_details; i++)
            json_object_set_new (d, p->details[i].key, json_string (p->details[i].value));
        json_object_set_new (o, "details", d);
    }
}

/* The JSON of one record, the same from an index row as from a segment record. The parts
 * (rules, lists, counts, attrs, evidence: NULL where absent) come built and are taken. */
enum { S_PARTS = 5 };

static json_t *
s_event_json (pl_audit_reader_t *self, const pl_audit_row_t *r, json_t *parts[S_PARTS],
              bool reveal)
{
    static const char *const names[S_PARTS] = {"rules", "lists", "counts", "attrs", "evidence"};
    char at[40];
    json_t *o = json_pack ("{s:s, s:I, s:I, s:s, s:I, s:s, s:s}", "chain", r->chain, "seq",
                           (json_int_t) r->seq, "at_ms", (json_int_t) r->at_ms, "at",
                           s_iso (r->at_ms, at, sizeof at), "written_ms",
                           (json_int_t) r->written_ms, "event_id", r->event_id, "type", r->type);
    if (!o) {
        for (int i = 0; i < S_PARTS; i++)
            json_decref (parts[i]);
        return NULL;
    }
    s_set_str (o, "service", r->service);
    s_set_str (o, "lead_id", r->lead_id);
    s_set_str (o, "campaign", r->campaign);
    s_set_str (o, "number_pseudonym", r->pseudonym_hex);
    if (r->has_number_key)
        json_object_set_new (o, "number_key", json_integer (r->number_key));
    s_set_str (o, "decision", r->decision);
    s_set_str (o, "trace_id", r->trace_id);
    s_set_str (o, "zone", r->zone);
    s_set_str (o, "actor", r->actor);
    for (int i = 0; i < S_PARTS; i++)
        if (parts[i])
            json_object_set_new (o, names[i], parts[i]);
    s_set_personal (self, o, r->chain, r->seq, r->personal, r->personal_len, r->erased, reveal);
    s_set_str (o, "hash", r->hash_hex);
    s_set_str (o, "prev_hash", r->prev_hash_hex);
    return o;
}

static json_t *
s_parse (const char *text)
{
    return text ? json_loads (text, 0, NULL) : NULL;
}

static json_t *
s_row_json (pl_audit_reader_t *self, const pl_audit_row_t *r, bool reveal)
{
    json_t *parts[S_PARTS] = {s_parse (r->rules_json), s_parse (r->lists_json),
                              s_parse (r->counts_json), s_parse (r->attrs_json),
                              s_parse (r->evidence_json)};
    return s_event_json (self, r, parts, reveal);
}

static json_t *
s_field_json (const char *item, const pl__field_t *f)
{
    const char *p = item + f->off;
    switch (f->kind) {
        case PL__FIELD_STR: return json_string (*(const char *const *) p);
        case PL__FIELD_I64: return json_integer (*(const int64_t *) p);
        case PL__FIELD_BOOL: return json_boolean (*(const bool *) p);
    }
    return NULL;
}

/* One of a record's parts (parts.h) as JSON, as the index writes it: an array of objects with
 * the nf fields, or with map an object of fields[0] as key and fields[1] as value; NULL when
 * there are no items. */
static json_t *
s_part_json (const void *v, size_t n, size_t size, const pl__field_t *f, size_t nf, bool map)
{
    if (!n)
        return NULL;
    json_t *out = map ? json_object () : json_array ();
    for (size_t i = 0; i < n; i++) {
        const char *item = (const char *) v + i * size;
        if (map) {
            json_object_set_new (out, *(const char *const *) (item + f[0].off),
                                 s_field_json (item, &f[1]));
            continue;
        }
        json_t *o = json_object ();
        for (size_t j = 0; j < nf; j++)
            json_object_set_new (o, f[j].name, s_field_json (item, &f[j]));
        json_array_append_new (out, o);
    }
    return out;
}

static json_t *
s_record_json (pl_audit_reader_t *self, const pl_audit_record_t *r, bool reveal)
{
    char hash[65], prev[65], pseud[65];
    sodium_bin2hex (hash, sizeof hash, r->hash, PL_AUDIT_HASH_LEN);
    sodium_bin2hex (prev, sizeof prev, r->prev_hash, PL_AUDIT_HASH_LEN);
    if (r->has_pseudonym)
        sodium_bin2hex (pseud, sizeof pseud, r->pseudonym, PL_AUDIT_PSEUDONYM_LEN);
    pl_audit_row_t row = {
        .chain = r->chain_id, .seq = r->seq, .at_ms = r->at_ms, .written_ms = r->written_ms,
        .event_id = r->event_id, .service = r->service, .type = r->type, .lead_id = r->lead_id,
        .campaign = r->campaign, .pseudonym_hex = r->has_pseudonym ? pseud : NULL,
        .decision = pl_audit_decision_name (r->decision), .trace_id = r->trace_id,
        .zone = r->zone, .actor = r->actor, .personal = r->pd, .personal_len = r->pd_len,
        .erased = (r->flags & PL_AUDIT_FLAG_ERASED) != 0, .hash_hex = hash,
        .prev_hash_hex = prev, .has_number_key = r->has_pseudonym,
        .number_key = r->has_pseudonym ? pl_audit_index_number_key (r->pseudonym) : 0};
    json_t *parts[S_PARTS] = {
        s_part_json (r->rules, r->n_rules, sizeof *r->rules, pl__rule_fields,
                     PL__NFIELDS (pl__rule_fields), false),
        s_part_json (r->lists, r->n_lists, sizeof *r->lists, pl__list_fields,
                     r->evidence ? PL__NFIELDS (pl__list_fields) : PL__LIST_BODY_FIELDS, false),
        s_part_json (r->counts, r->n_counts, sizeof *r->counts, pl__count_fields, 2, true),
        s_part_json (r->attrs, r->n_attrs, sizeof *r->attrs, pl__attr_fields, 2, true),
        pl__audit_evidence_json (r->evidence)};
    return s_event_json (self, &row, parts, reveal);
}

/* ---------------------------------------------------------------------------------------- */
/* Pages                                                                                    */

typedef struct {
    int64_t at_ms;
    uint64_t seq;
    const char *chain;          /* points into names */
    json_t *obj;
} s_hit_t;

typedef struct {
    pl_audit_reader_t *self;
    const char *chain;
    bool reveal;
    s_hit_t *v;
    size_t n, cap;
    int err;
} s_collect_t;

static int
s_collect (void *arg, const pl_audit_row_t *row)
{
    s_collect_t *c = arg;
    if (!pl__grow (&c->v, c->n, &c->cap, sizeof *c->v, 64)) {
        c->err = PL_ENOMEM;
        return 1;
    }
    json_t *o = s_row_json (c->self, row, c->reveal);
    if (!o) {
        c->err = PL_ENOMEM;
        return 1;
    }
    c->v[c->n++] = (s_hit_t) {row->at_ms, row->seq, c->chain, o};
    return 0;
}

static int
s_hit_cmp (const void *a, const void *b)
{
    const s_hit_t *x = a, *y = b;
    if (x->at_ms != y->at_ms)
        return x->at_ms < y->at_ms ? -1 : 1;
    int c = strcmp (x->chain, y->chain);
    if (c)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static bool
s_parse_cursor (const char *s, pl_audit_pos_t *pos)
{
    char *end;
    errno = 0;
    long long at = strtoll (s, &end, 10);
    if (errno || end == s || *end != '_')
        return false;
    const char *p = end + 1;
    if (*p < '0' || *p > '9')
        return false;
    unsigned long long seq = strtoull (p, &end, 10);
    if (errno || *end != '_' || !pl_audit_chain_id_valid (end + 1))
        return false;
    pos->at_ms = at;
    pos->seq = seq;
    snprintf (pos->chain, sizeof pos->chain, "%s", end + 1);
    return true;
}

/* Runs the filter on every chain and returns the merged hits, sorted; `limit` 0 means all. */
static int
s_run (pl_audit_reader_t *self, const pl_audit_query_t *q, size_t limit, s_collect_t *c,
       char ***names_out, size_t *n_names)
{
    pl_audit_filter_t f = {0};
    char pseud_hex[2 * PL_AUDIT_PSEUDONYM_LEN + 1];
    pl_audit_pos_t after;
    if (q->number) {
        uint8_t p[PL_AUDIT_PSEUDONYM_LEN];
        if (!pl_audit_is_e164 (q->number))
            return s_fail (self, PL_EINVAL, "number: expected E.164 (+ and 2 to 15 digits)");
        if (!self->keys || pl_audit_keys_pseudonym (self->keys, q->number, p) != 0)
            return s_fail (self, PL_EINVAL, "number: no pseudonym key to search numbers with");
        sodium_bin2hex (pseud_hex, sizeof pseud_hex, p, sizeof p);
        f.pseudonym_hex = pseud_hex;
    }
    if (q->cursor) {
        if (!s_parse_cursor (q->cursor, &after))
            return s_fail (self, PL_EINVAL, "cursor: not a cursor this API returned");
        f.after = &after;
    }
    if (q->has_from && q->has_to && q->to_ms < q->from_ms)
        return s_fail (self, PL_EINVAL, "to: before from");
    f.lead_id = q->lead && q->lead[0] ? q->lead : NULL;
    f.campaign = q->campaign && q->campaign[0] ? q->campaign : NULL;
    f.type = q->type && q->type[0] ? q->type : NULL;
    f.has_from = q->has_from;
    f.from_ms = q->from_ms;
    f.has_to = q->has_to;
    f.to_ms = q->to_ms;
    f.limit = limit ? limit + 1 : 0;

    char **names;
    size_t n;
    int rc = s_chains (self, &names, &n);
    if (rc)
        return rc;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char path[4096];
        snprintf (path, sizeof path, "%s/%s/" PL_AUDIT_INDEX_FILE, self->root, names[i]);
        struct stat st;
        if (stat (path, &st) != 0)
            continue;                   /* a chain with nothing indexed yet */
        pl_audit_index_t *ix = pl_audit_index_new ();
        if (!ix) {
            rc = PL_ENOMEM;
            break;
        }
        c->chain = names[i];
        rc = pl_audit_index_open (ix, path, names[i], true);
        if (rc == 0)
            rc = pl_audit_index_query (ix, &f, s_collect, c);
        if (rc)
            s_fail (self, rc, pl_audit_index_errstr (ix));
        if (rc == 0 && c->err)
            rc = c->err;
        pl_audit_index_destroy (&ix);
    }
    if (c->n)
        qsort (c->v, c->n, sizeof *c->v, s_hit_cmp);
    *names_out = names;
    *n_names = n;
    return rc;
}

static void
s_collect_free (s_collect_t *c, size_t from)
{
    for (size_t i = from; i < c->n; i++)
        json_decref (c->v[i].obj);
    free (c->v);
}

int
pl_audit_reader_arrivals (pl_audit_reader_t *self, const char *chain, uint64_t from_seq,
                          size_t limit, bool reveal, json_t **items, uint64_t *next_seq)
{
    *items = NULL;
    *next_seq = from_seq;
    if (!pl_audit_chain_id_valid (chain))
        return s_fail (self, PL_EINVAL, "chain: expected [A-Za-z0-9._-]{1,64}");
    if (!limit)
        limit = PL_AUDIT_QUERY_LIMIT_DEFAULT;
    if (limit > PL_AUDIT_QUERY_LIMIT_MAX)
        limit = PL_AUDIT_QUERY_LIMIT_MAX;
    char path[4096];
    snprintf (path, sizeof path, "%s/%s/" PL_AUDIT_INDEX_FILE, self->root, chain);
    struct stat st;
    if (stat (path, &st) != 0)
        return s_fail (self, PL_ENOTFOUND, "chain: no such chain (or nothing indexed yet)");
    pl_audit_index_t *ix = pl_audit_index_new ();
    if (!ix)
        return PL_ENOMEM;
    pl_audit_filter_t f = {.has_from_seq = true, .from_seq = from_seq, .limit = limit};
    s_collect_t c = {.self = self, .chain = chain, .reveal = reveal};
    int rc = pl_audit_index_open (ix, path, chain, true);
    if (rc == 0)
        rc = pl_audit_index_query (ix, &f, s_collect, &c);
    if (rc)
        s_fail (self, rc, pl_audit_index_errstr (ix));
    if (rc == 0 && c.err)
        rc = c.err;
    pl_audit_index_destroy (&ix);
    if (rc == 0) {
        json_t *a = json_array ();
        for (size_t i = 0; i < c.n; i++)
            json_array_append_new (a, c.v[i].obj);      /* already in seq order */
        if (c.n)
            *next_seq = c.v[c.n - 1].seq + 1;
        s_collect_free (&c, c.n);
        *items = a;
    } else
        s_collect_free (&c, 0);
    return rc;
}

static size_t
s_limit (const pl_audit_query_t *q)
{
    size_t limit = q->limit ? q->limit : PL_AUDIT_QUERY_LIMIT_DEFAULT;
    return limit > PL_AUDIT_QUERY_LIMIT_MAX ? PL_AUDIT_QUERY_LIMIT_MAX : limit;
}

static char *
s_cursor (const s_hit_t *h)
{
    char *s = NULL;
    if (asprintf (&s, "%" PRId64 "_%" PRIu64 "_%s", h->at_ms, h->seq, h->chain) < 0)
        return NULL;
    return s;
}

int
pl_audit_reader_query (pl_audit_reader_t *self, const pl_audit_query_t *q, json_t **items,
                       char **next_cursor)
{
    *items = NULL;
    if (next_cursor)
        *next_cursor = NULL;
    size_t limit = s_limit (q);
    s_collect_t c = {.self = self, .reveal = q->reveal};
    char **names = NULL;
    size_t n_names = 0;
    int rc = s_run (self, q, limit, &c, &names, &n_names);
    if (rc == 0) {
        json_t *a = json_array ();
        size_t take = c.n < limit ? c.n : limit;
        for (size_t i = 0; i < take; i++)
            json_array_append_new (a, c.v[i].obj);
        if (c.n > limit && next_cursor)
            *next_cursor = s_cursor (&c.v[take - 1]);
        s_collect_free (&c, take);
        *items = a;
    } else
        s_collect_free (&c, 0);
    pl__audit_chains_free (names, n_names);
    return rc;
}

int
pl_audit_reader_query_ndjson (pl_audit_reader_t *self, const pl_audit_query_t *q,
                              pl_audit_sink_fn *sink, void *arg, char **next_cursor)
{
    json_t *items;
    int rc = pl_audit_reader_query (self, q, &items, next_cursor);
    if (rc)
        return rc;
    size_t i;
    json_t *o;
    json_array_foreach (items, i, o)
    {
        char *line = json_dumps (o, JSON_COMPACT);
        if (!line) {
            rc = PL_ENOMEM;
            break;
        }
        size_t len = strlen (line);
        line[len] = '\n';               /* json_dumps leaves room: replace the NUL */
        int stop = sink (arg, line, len + 1);
        free (line);
        if (stop) {
            rc = PL_ECLOSED;
            break;
        }
    }
    json_decref (items);
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Stories                                                                                  */

static const char *
s_js (json_t *o, const char *k)
{
    const char *s = json_string_value (json_object_get (o, k));
    return s ? s : "";
}

/* "3 d", "5 h", "12 min" for an age in ms. */
static void
s_age (int64_t ms, char *out, size_t size)
{
    if (ms >= 86400000)
        snprintf (out, size, "%" PRId64 " d", ms / 86400000);
    else if (ms >= 3600000)
        snprintf (out, size, "%" PRId64 " h", ms / 3600000);
    else
        snprintf (out, size, "%" PRId64 " min", ms / 60000);
}

/* One line of an evidence sub-object: "    call: result=answered, placed 20:58:07 CET, …", its
 * *_at_ms instants in the callee's zone. */
static void
s_story_object (pl_audit_tzcache_t *tz, FILE *f, const char *name, json_t *o, const char *zone)
{
    fprintf (f, "    %s:", name);
    const char *k;
    json_t *v;
    const char *sep = " ";
    json_object_foreach (o, k, v)
    {
        size_t kl = strlen (k);
        if (json_is_integer (v) && kl > 6 && strcmp (k + kl - 6, "_at_ms") == 0) {
            char when[64];
            fprintf (f, "%s%.*s %s", sep, (int) (kl - 6), k,
                     pl_audit_tz_format (tz, zone, json_integer_value (v), when, sizeof when));
        } else if (json_is_string (v))
            fprintf (f, "%s%s=%s", sep, k, json_string_value (v));
        else if (json_is_integer (v))
            fprintf (f, "%s%s=%" JSON_INTEGER_FORMAT, sep, k, json_integer_value (v));
        else if (json_is_boolean (v))
            fprintf (f, "%s%s%s", sep, json_is_true (v) ? "" : "not ", k);
        else {
            char *t = json_dumps (v, JSON_COMPACT);
            fprintf (f, "%s%s=%s", sep, k, t ? t : "?");
            free (t);
        }
        sep = ", ";
    }
    fprintf (f, "\n");
}

/* The typed evidence of a record, for people: candidate zones with their sources, the instant
 * evaluated in the binding zone, then every other fact as "name: value". */
static void
s_story_evidence (pl_audit_tzcache_t *tz, FILE *f, json_t *ev, const char *zone)
{
    if (!json_is_object (ev))
        return;
    json_t *zones = json_object_get (ev, "zones");
    if (json_array_size (zones)) {
        size_t i;
        json_t *z;
        fprintf (f, "    zones:");
        json_array_foreach (zones, i, z)
            fprintf (f, "%s %s (%s)", i ? "," : "", s_js (z, "zone"),
                     s_js (z, "source")[0] ? s_js (z, "source") : "?");
        fprintf (f, "%s%s\n", zone[0] ? "; binding " : "", zone);
    }
    /* Regions with where each comes from (a state's rules apply by the number or the address). */
    json_t *regions = json_object_get (ev, "region_sources");
    if (json_array_size (regions)) {
        size_t i;
        json_t *r;
        fprintf (f, "    regions:");
        json_array_foreach (regions, i, r)
            fprintf (f, "%s %s (%s)", i ? "," : "", s_js (r, "region"),
                     s_js (r, "source")[0] ? s_js (r, "source") : "?");
        fprintf (f, "\n");
    }
    json_t *at = json_object_get (ev, "evaluated_at_ms");
    if (at) {
        char when[64];
        fprintf (f, "    evaluated at %s",
                 pl_audit_tz_format (tz, zone, json_integer_value (at), when, sizeof when));
        if (s_js (ev, "local_time")[0])
            fprintf (f, " (local time recorded: %s)", s_js (ev, "local_time"));
        fprintf (f, "\n");
    } else if (s_js (ev, "local_time")[0])
        fprintf (f, "    local time recorded: %s\n", s_js (ev, "local_time"));
    const char *k;
    json_t *v;
    json_object_foreach (ev, k, v)
    {
        if (!strcmp (k, "zones") || !strcmp (k, "evaluated_at_ms") || !strcmp (k, "local_time")
            || (!strcmp (k, "regions") && json_array_size (regions)) || !strcmp (k, "region_sources"))
            continue;
        if (json_is_object (v))
            s_story_object (tz, f, k, v, zone);
        else if (json_is_array (v)) {
            size_t i;
            json_t *x;
            fprintf (f, "    %s:", k);
            json_array_foreach (v, i, x)
            {
                char *t = json_is_string (x) ? NULL : json_dumps (x, JSON_COMPACT);
                fprintf (f, "%s %s", i ? "," : "", t ? t : json_string_value (x));
                free (t);
            }
            fprintf (f, "\n");
        } else if (json_is_string (v))
            fprintf (f, "    %s: %s\n", k, json_string_value (v));
        else if (json_is_integer (v))
            fprintf (f, "    %s: %" JSON_INTEGER_FORMAT "\n", k, json_integer_value (v));
        else if (json_is_boolean (v))
            fprintf (f, "    %s: %s\n", k, json_is_true (v) ? "yes" : "no");
    }
}

static void
s_story_event (pl_audit_reader_t *self, pl_audit_tzcache_t *tz, FILE *f, json_t *o)
{
    const char *zone = s_js (o, "zone");
    json_t *rules = json_object_get (o, "rules");
    if (!zone[0] && json_array_size (rules))
        zone = s_js (json_array_get (rules, 0), "zone");
    int64_t at = json_integer_value (json_object_get (o, "at_ms"));
    char when[64];
    pl_audit_tz_format (tz, zone, at, when, sizeof when);
    fprintf (f, "%s%s%s%s  %s", when, zone[0] ? " (" : "", zone, zone[0] ? ")" : "",
             s_js (o, "type"));
    const char *decision = s_js (o, "decision");
    if (decision[0]) {
        char up[16];
        size_t i = 0;
        for (; decision[i] && i < sizeof up - 1; i++)
            up[i] = (char) (decision[i] >= 'a' && decision[i] <= 'z' ? decision[i] - 32 : decision[i]);
        up[i] = '\0';
        fprintf (f, ": %s", up);
    }
    fprintf (f, "  — by %s", s_js (o, "service")[0] ? s_js (o, "service") : "?");
    if (s_js (o, "actor")[0])
        fprintf (f, " (%s)", s_js (o, "actor"));
    fprintf (f, "\n");
    if (s_js (o, "lead_id")[0] || s_js (o, "campaign")[0]) {
        fprintf (f, "    ");
        if (s_js (o, "lead_id")[0])
            fprintf (f, "lead %s", s_js (o, "lead_id"));
        if (s_js (o, "campaign")[0])
            fprintf (f, "%scampaign %s", s_js (o, "lead_id")[0] ? ", " : "", s_js (o, "campaign"));
        fprintf (f, "\n");
    }
    size_t i;
    json_t *x;
    json_array_foreach (rules, i, x)
    {
        fprintf (f, "    rule %s", s_js (x, "rule_id"));
        if (s_js (x, "value")[0])
            fprintf (f, " [%s]", s_js (x, "value"));
        if (s_js (x, "reason")[0])
            fprintf (f, ": %s", s_js (x, "reason"));
        if (s_js (x, "facts")[0])
            fprintf (f, " (%s)", s_js (x, "facts"));
        if (s_js (x, "region")[0])
            fprintf (f, "; applies through %s (%s)", s_js (x, "region"), s_js (x, "region_source"));
        int64_t until = json_integer_value (json_object_get (x, "defer_until_ms"));
        if (until > 0) {
            char u[64];
            fprintf (f, "; deferred until %s", pl_audit_tz_format (tz, zone, until, u, sizeof u));
        }
        fprintf (f, "\n");
    }
    json_array_foreach (json_object_get (o, "lists"), i, x)
    {
        char age[32];
        s_age (json_integer_value (json_object_get (x, "age_ms")), age, sizeof age);
        fprintf (f, "    list %s version %s", s_js (x, "name"), s_js (x, "version"));
        if (s_js (x, "copy_date")[0])
            fprintf (f, ", copy of %s", s_js (x, "copy_date"));
        fprintf (f, " (%s old)", age);
        json_t *hit = json_object_get (x, "hit");
        if (hit)
            fprintf (f, ": %s", json_is_true (hit) ? "ON THE LIST" : "not on it");
        fprintf (f, "\n");
    }
    s_story_evidence (tz, f, json_object_get (o, "evidence"), zone);
    json_t *counts = json_object_get (o, "counts");
    if (json_object_size (counts)) {
        const char *k;
        json_t *v;
        const char *sep = "";
        fprintf (f, "    counts: ");
        json_object_foreach (counts, k, v)
        {
            fprintf (f, "%s%s=%" JSON_INTEGER_FORMAT, sep, k, json_integer_value (v));
            sep = ", ";
        }
        fprintf (f, "\n");
    }
    json_t *attrs = json_object_get (o, "attrs");
    if (json_object_size (attrs)) {
        const char *k;
        json_t *v;
        json_object_foreach (attrs, k, v)
            fprintf (f, "    %s: %s\n", k, json_string_value (v));
    }
    const char *personal = s_js (o, "personal");
    if (strcmp (personal, "erased") == 0)
        fprintf (f, "    (personal data erased)\n");
    else if (s_js (o, "reason")[0])
        fprintf (f, "    reason: %s\n", s_js (o, "reason"));
    fprintf (f, "    [chain %s seq %" JSON_INTEGER_FORMAT "%s%s]\n", s_js (o, "chain"),
             json_integer_value (json_object_get (o, "seq")), s_js (o, "trace_id")[0] ? ", trace " : "",
             s_js (o, "trace_id"));
    (void) self;
}

int
pl_audit_reader_story (pl_audit_reader_t *self, const char *subject, bool reveal, char **text)
{
    *text = NULL;
    if (!subject || !subject[0])
        return s_fail (self, PL_EINVAL, "subject: expected a number (E.164) or a lead id");
    bool is_number = subject[0] == '+';
    pl_audit_query_t q = {.reveal = reveal};
    if (is_number)
        q.number = subject;
    else
        q.lead = subject;
    s_collect_t c = {.self = self, .reveal = reveal};
    char **names = NULL;
    size_t n_names = 0;
    int rc = s_run (self, &q, 0, &c, &names, &n_names);
    if (rc == 0 && c.n == 0)
        rc = s_fail (self, PL_ENOTFOUND, "nothing is recorded about this subject");
    pl_audit_tzcache_t *tz = rc == 0 ? pl_audit_tzcache_new (self->zoneinfo) : NULL;
    if (rc == 0 && !tz)
        rc = PL_ENOMEM;
    if (rc == 0) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream (&buf, &len);
        if (!f)
            rc = PL_ENOMEM;
        else {
            /* The subject is masked even when revealing: a story gets pasted into tickets, and
             * whoever asked already knows the number. */
            char masked[32];
            if (is_number) {
                size_t sl = strlen (subject);
                snprintf (masked, sizeof masked, "%.*s****", (int) (sl > 4 ? sl - 4 : 1), subject);
            }
            const char *first_at = s_js (c.v[0].obj, "at"), *last_at = s_js (c.v[c.n - 1].obj, "at");
            fprintf (f, "Story of %s %s: %zu record%s from %.10s to %.10s (UTC dates)\n\n",
                     is_number ? "number" : "lead", is_number ? masked : subject, c.n,
                     c.n == 1 ? "" : "s", first_at, last_at);
            for (size_t i = 0; i < c.n; i++) {
                s_story_event (self, tz, f, c.v[i].obj);
                fprintf (f, "\n");
            }
            fclose (f);
            *text = buf;
        }
    }
    pl_audit_tzcache_destroy (&tz);
    s_collect_free (&c, 0);
    pl__audit_chains_free (names, n_names);
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Export                                                                                   */

static int
s_export_chain (pl_audit_reader_t *self, const char *chain, bool reveal, pl_audit_sink_fn *sink,
                void *arg, uint64_t *count)
{
    char dir[4096];
    snprintf (dir, sizeof dir, "%s/%s", self->root, chain);
    pl_audit_seg_entry_t *segs;
    size_t n;
    int rc = pl_audit_seg_list (dir, &segs, &n);
    if (rc)
        return s_fail (self, rc, "chain directory cannot be read");
    for (size_t i = 0; i < n && rc == 0; i++) {
        char name[PL_AUDIT_SEG_NAME_MAX], path[4200];
        pl_audit_seg_name (segs[i].first_seq, name);
        snprintf (path, sizeof path, "%s/%s", dir, name);
        pl_audit_map_t m;
        if ((rc = pl_audit_map_open (path, 0, &m))) {
            s_fail (self, rc, "segment cannot be read");
            break;
        }
        size_t off = PL_AUDIT_SEG_HEADER;
        while (off < m.len) {
            pl_audit_frame_t f;
            const pl_audit_record_t *r;
            if (pl_audit_frame_parse (m.data + off, m.len - off, &f) != 0)
                break;                  /* a tail being written; verify judges the rest */
            if (pl_audit_codec_decode (self->codec, &f, &r) != 0) {
                rc = s_fail (self, PL_ECORRUPT, pl_audit_codec_errstr (self->codec));
                break;
            }
            json_t *o = s_record_json (self, r, reveal);
            char *line = o ? json_dumps (o, JSON_COMPACT) : NULL;
            json_decref (o);
            if (!line) {
                rc = PL_ENOMEM;
                break;
            }
            size_t len = strlen (line);
            line[len] = '\n';
            int stop = sink (arg, line, len + 1);
            free (line);
            if (stop) {
                rc = PL_ECLOSED;
                break;
            }
            (*count)++;
            off += f.frame_len;
        }
        pl_audit_map_close (&m);
    }
    free (segs);
    return rc;
}

int
pl_audit_reader_export (pl_audit_reader_t *self, bool reveal, pl_audit_sink_fn *sink,
                        void *arg, uint64_t *count)
{
    uint64_t dummy;
    if (!count)
        count = &dummy;
    *count = 0;
    char **names;
    size_t n;
    int rc = s_chains (self, &names, &n);
    if (rc)
        return rc;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = s_export_chain (self, names[i], reveal, sink, arg, count);
    pl__audit_chains_free (names, n);
    return rc;
}
