/*  index.c — the per-chain SQLite index (see index.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include <sqlite3.h>
#include "plateau/error.h"
#include "evidence.h"
#include "grow.h"
#include "index.h"
#include "parts.h"
#include "wire.h"

#define S_SCHEMA "3"              /* 3: the evidence column, lists with hit and copy date */

struct pl_audit_index {
    sqlite3 *db;
    char chain[PL_AUDIT_CHAIN_MAX + 1];
    sqlite3_stmt *insert, *find, *set_next;
    pl__wbuf_t json[4];                 /* rules, lists, counts, attrs of the row being added */
    char errstr[512];
};

static const char *s_schema_sql =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS events ("
    "  seq INTEGER PRIMARY KEY,"
    "  chain TEXT NOT NULL,"
    "  at_ms INTEGER NOT NULL,"
    "  written_ms INTEGER NOT NULL,"
    "  event_id TEXT NOT NULL,"
    "  event_key INTEGER NOT NULL,"
    "  service TEXT,"
    "  type TEXT NOT NULL,"
    "  lead_id TEXT,"
    "  campaign TEXT,"
    "  number_pseudonym TEXT,"
    "  number_key INTEGER,"
    "  decision TEXT,"
    "  trace_id TEXT,"
    "  zone TEXT,"
    "  actor TEXT,"
    "  rules TEXT,"
    "  lists TEXT,"
    "  counts TEXT,"
    "  attrs TEXT,"
    "  evidence TEXT,"
    "  personal BLOB,"
    "  erased INTEGER NOT NULL DEFAULT 0,"
    "  hash TEXT NOT NULL,"
    "  prev_hash TEXT NOT NULL,"
    "  segment INTEGER NOT NULL,"
    "  offset INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS events_event ON events (event_key);"
    "CREATE INDEX IF NOT EXISTS events_lead ON events (lead_id, at_ms) WHERE lead_id IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS events_number ON events (number_key, at_ms)"
    "  WHERE number_key IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS events_campaign ON events (campaign, at_ms)"
    "  WHERE campaign IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS events_type ON events (type, at_ms);"
    "CREATE INDEX IF NOT EXISTS events_at ON events (at_ms);";

static int
s_fail (pl_audit_index_t *self, int rc, const char *what)
{
    snprintf (self->errstr, sizeof self->errstr, "index: %.120s: %.300s", what,
              self->db ? sqlite3_errmsg (self->db) : "not open");
    return rc;
}

/* SQLite result codes to PL_E*: a full disk must read as such (the service stops acking). */
static int
s_code (int src)
{
    switch (src & 0xff) {
        case SQLITE_FULL:    return PL_ENOSPC;
        case SQLITE_NOMEM:   return PL_ENOMEM;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:  return PL_ECORRUPT;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:  return PL_EBUSY;
        default:             return PL_EIO;
    }
}

pl_audit_index_t *
pl_audit_index_new (void)
{
    return calloc (1, sizeof (pl_audit_index_t));
}

void
pl_audit_index_destroy (pl_audit_index_t **self_p)
{
    if (self_p && *self_p) {
        pl_audit_index_t *self = *self_p;
        sqlite3_finalize (self->insert);
        sqlite3_finalize (self->find);
        sqlite3_finalize (self->set_next);
        sqlite3_close (self->db);
        for (int i = 0; i < 4; i++)
            pl__wbuf_free (&self->json[i]);
        free (self);
        *self_p = NULL;
    }
}

const char *pl_audit_index_errstr (const pl_audit_index_t *self) { return self->errstr; }

static int
s_exec (pl_audit_index_t *self, const char *sql)
{
    int src = sqlite3_exec (self->db, sql, NULL, NULL, NULL);
    return src == SQLITE_OK ? 0 : s_fail (self, s_code (src), sql);
}

/* meta value for key into out; 1 found, 0 absent, negative on error. */
static int
s_meta_get (pl_audit_index_t *self, const char *key, char *out, size_t size)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2 (self->db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL)
        != SQLITE_OK)
        return s_fail (self, PL_EIO, "read meta");
    sqlite3_bind_text (st, 1, key, -1, SQLITE_STATIC);
    int src = sqlite3_step (st);
    int rc = 0;
    if (src == SQLITE_ROW) {
        snprintf (out, size, "%s", (const char *) sqlite3_column_text (st, 0));
        rc = 1;
    } else if (src != SQLITE_DONE)
        rc = s_fail (self, s_code (src), "read meta");
    sqlite3_finalize (st);
    return rc;
}

static int
s_meta_set (pl_audit_index_t *self, const char *key, const char *value)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2 (self->db, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                            -1, &st, NULL)
        != SQLITE_OK)
        return s_fail (self, PL_EIO, "write meta");
    sqlite3_bind_text (st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text (st, 2, value, -1, SQLITE_STATIC);
    int src = sqlite3_step (st);
    sqlite3_finalize (st);
    return src == SQLITE_DONE ? 0 : s_fail (self, s_code (src), "write meta");
}

int
pl_audit_index_open (pl_audit_index_t *self, const char *path, const char *chain_id,
                     bool read_only)
{
    snprintf (self->chain, sizeof self->chain, "%s", chain_id);
    int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int src = sqlite3_open_v2 (path, &self->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (src != SQLITE_OK)
        return s_fail (self, s_code (src) == PL_ECORRUPT ? PL_ECORRUPT : PL_EIO, path);
    sqlite3_busy_timeout (self->db, 5000);
    int rc;
    if (!read_only) {
        /* The index is rebuildable from the segments, so it does not need its own fsync per
         * transaction: NORMAL in WAL mode is safe against corruption, and may lose only the
         * last transactions, which the indexer then redoes from next_seq. */
        if ((rc = s_exec (self, "PRAGMA journal_mode = WAL")) || (rc = s_exec (self, "PRAGMA synchronous = NORMAL"))
            || (rc = s_exec (self, "PRAGMA secure_delete = ON"))
            || (rc = s_exec (self, "PRAGMA cache_size = -32768"))
            /* Bound the WAL: checkpoint every 4 MiB and give the file back afterwards, so the
             * index never holds on to much more disk than its data. */
            || (rc = s_exec (self, "PRAGMA wal_autocheckpoint = 1000"))
            || (rc = s_exec (self, "PRAGMA journal_size_limit = 4194304"))
            || (rc = s_exec (self, s_schema_sql)))
            return rc;
    }
    char value[128];
    rc = s_meta_get (self, "chain", value, sizeof value);
    if (rc < 0)
        return rc;
    if (rc == 1 && strcmp (value, chain_id) != 0) {
        snprintf (self->errstr, sizeof self->errstr, "index %s belongs to chain %s, not %s", path,
                  value, chain_id);
        return PL_ECORRUPT;
    }
    if (rc == 0 && !read_only) {
        if ((rc = s_meta_set (self, "chain", chain_id)) || (rc = s_meta_set (self, "schema", S_SCHEMA))
            || (rc = s_meta_set (self, "next_seq", "0")))
            return rc;
    }
    rc = s_meta_get (self, "schema", value, sizeof value);
    if (rc == 1 && strcmp (value, S_SCHEMA) != 0) {
        snprintf (self->errstr, sizeof self->errstr, "index %s: schema %s, expected " S_SCHEMA,
                  path, value);
        return PL_ECORRUPT;
    }
    if (read_only)
        return 0;
    if (sqlite3_prepare_v2 (self->db,
                            "INSERT OR IGNORE INTO events (seq, chain, at_ms, written_ms, event_id,"
                            " service, type, lead_id, campaign, number_pseudonym, decision,"
                            " trace_id, zone, actor, rules, lists, counts, attrs, personal, erased,"
                            " hash, prev_hash, segment, offset, event_key, number_key, evidence)"
                            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                            -1, &self->insert, NULL)
            != SQLITE_OK
        || sqlite3_prepare_v2 (self->db, "INSERT OR REPLACE INTO meta (key, value) VALUES ('next_seq', ?)",
                               -1, &self->set_next, NULL)
               != SQLITE_OK)
        return s_fail (self, PL_EIO, "prepare");
    return 0;
}

int
pl_audit_index_next_seq (pl_audit_index_t *self, uint64_t *next)
{
    char value[32];
    int rc = s_meta_get (self, "next_seq", value, sizeof value);
    if (rc < 0)
        return rc;
    *next = rc == 1 ? strtoull (value, NULL, 10) : 0;
    return 0;
}

int pl_audit_index_begin (pl_audit_index_t *self) { return s_exec (self, "BEGIN"); }

void
pl_audit_index_rollback (pl_audit_index_t *self)
{
    sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
}

int
pl_audit_index_commit (pl_audit_index_t *self, uint64_t next_seq)
{
    sqlite3_reset (self->set_next);
    /* meta.value is TEXT: store the number as text so readers parse one form. */
    char v[32];
    snprintf (v, sizeof v, "%" PRIu64, next_seq);
    sqlite3_bind_text (self->set_next, 1, v, -1, SQLITE_TRANSIENT);
    int src = sqlite3_step (self->set_next);
    if (src != SQLITE_DONE) {
        int rc = s_fail (self, s_code (src), "set next_seq");
        pl_audit_index_rollback (self);
        return rc;
    }
    return s_exec (self, "COMMIT");
}

static void
s_bind_opt (sqlite3_stmt *st, int i, const char *s)
{
    if (s && s[0])
        sqlite3_bind_text (st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null (st, i);
}

/* JSON text of the record's structured parts, written by hand into reusable buffers: the
 * indexer runs for every record, and building jansson objects for four small arrays cost a
 * third of its time. Strings are valid UTF-8 (the encoder checked), so only quotes, backslashes
 * and control characters need escaping. */
static void
s_json_str (pl__wbuf_t *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    pl__wbuf_u8 (b, '"');
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char) *s;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        pl__wbuf_bytes (b, run, (size_t) (s - run));
        run = s + 1;
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (c) {
            case '"':  esc[1] = '"'; break;
            case '\\': esc[1] = '\\'; break;
            case '\n': esc[1] = 'n'; break;
            case '\r': esc[1] = 'r'; break;
            case '\t': esc[1] = 't'; break;
            default:
                esc[1] = 'u';
                esc[2] = '0';
                esc[3] = '0';
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                n = 6;
        }
        pl__wbuf_bytes (b, esc, n);
    }
    pl__wbuf_bytes (b, run, (size_t) (s - run));
    pl__wbuf_u8 (b, '"');
}

static void
s_json_lit (pl__wbuf_t *b, const char *lit)
{
    pl__wbuf_bytes (b, lit, strlen (lit));
}

static void
s_json_int (pl__wbuf_t *b, int64_t v)
{
    char t[24];
    int n = snprintf (t, sizeof t, "%" PRId64, v);
    pl__wbuf_bytes (b, t, (size_t) n);
}

static void
s_json_value (pl__wbuf_t *b, const void *item, const pl__field_t *f)
{
    const char *p = (const char *) item + f->off;
    switch (f->kind) {
        case PL__FIELD_STR: s_json_str (b, *(const char *const *) p); break;
        case PL__FIELD_I64: s_json_int (b, *(const int64_t *) p); break;
        case PL__FIELD_BOOL: s_json_lit (b, *(const bool *) p ? "true" : "false"); break;
    }
}

/* The JSON text of the n items of `size` bytes at v, in b (NUL-terminated), or NULL when there
 * are none: an array of objects with the nf fields, or with map an object of fields[0] as key
 * and fields[1] as value. */
static const char *
s_part_json (pl__wbuf_t *b, const void *v, size_t n, size_t size, const pl__field_t *f,
             size_t nf, bool map)
{
    if (!n)
        return NULL;
    b->len = 0;
    pl__wbuf_u8 (b, map ? '{' : '[');
    for (size_t i = 0; i < n; i++) {
        const void *item = (const char *) v + i * size;
        if (i)
            pl__wbuf_u8 (b, ',');
        if (map) {
            s_json_value (b, item, &f[0]);
            pl__wbuf_u8 (b, ':');
            s_json_value (b, item, &f[1]);
            continue;
        }
        pl__wbuf_u8 (b, '{');
        for (size_t j = 0; j < nf; j++) {
            if (j)
                pl__wbuf_u8 (b, ',');
            pl__wbuf_u8 (b, '"');
            s_json_lit (b, f[j].name);
            pl__wbuf_bytes (b, "\":", 2);
            s_json_value (b, item, &f[j]);
        }
        pl__wbuf_u8 (b, '}');
    }
    pl__wbuf_bytes (b, map ? "}" : "]", 2);
    return b->err ? NULL : (const char *) b->p;
}

int64_t
pl_audit_index_event_key (const char *event_id)
{
    uint8_t h[32];
    crypto_hash_sha256 (h, (const uint8_t *) event_id, strlen (event_id));
    return (int64_t) pl__get_u64 (h);
}

int64_t
pl_audit_index_number_key (const uint8_t pseudonym[PL_AUDIT_PSEUDONYM_LEN])
{
    return (int64_t) pl__get_u64 (pseudonym);
}

/* The number key of a pseudonym given in hex; false when it is not 64 hex digits. */
static bool
s_number_key_hex (const char *hex, int64_t *key)
{
    uint8_t p[PL_AUDIT_PSEUDONYM_LEN];
    size_t len = 0;
    if (!hex || strlen (hex) != 2 * PL_AUDIT_PSEUDONYM_LEN
        || sodium_hex2bin (p, sizeof p, hex, strlen (hex), NULL, &len, NULL) != 0
        || len != sizeof p)
        return false;
    *key = pl_audit_index_number_key (p);
    return true;
}

int
pl_audit_index_add (pl_audit_index_t *self, const pl_audit_record_t *r, uint64_t segment,
                    uint64_t offset, bool *dup)
{
    sqlite3_stmt *st = self->insert;
    char hash[65], prev[65], pseud[65];
    const char *rules = s_part_json (&self->json[0], r->rules, r->n_rules, sizeof *r->rules,
                                     pl__rule_fields, PL__NFIELDS (pl__rule_fields), false),
               *lists = s_part_json (&self->json[1], r->lists, r->n_lists, sizeof *r->lists,
                                     pl__list_fields,
                                     r->evidence ? PL__NFIELDS (pl__list_fields)
                                                 : PL__LIST_BODY_FIELDS,
                                     false),
               *counts = s_part_json (&self->json[2], r->counts, r->n_counts, sizeof *r->counts,
                                      pl__count_fields, 2, true),
               *attrs = s_part_json (&self->json[3], r->attrs, r->n_attrs, sizeof *r->attrs,
                                     pl__attr_fields, 2, true);
    for (int i = 0; i < 4; i++)
        if (self->json[i].err) {
            self->json[i].err = false;
            return s_fail (self, PL_ENOMEM, "json");
        }
    sodium_bin2hex (hash, sizeof hash, r->hash, PL_AUDIT_HASH_LEN);
    sodium_bin2hex (prev, sizeof prev, r->prev_hash, PL_AUDIT_HASH_LEN);
    if (r->has_pseudonym)
        sodium_bin2hex (pseud, sizeof pseud, r->pseudonym, PL_AUDIT_PSEUDONYM_LEN);
    bool erased = (r->flags & PL_AUDIT_FLAG_ERASED) != 0;
    sqlite3_reset (st);
    sqlite3_bind_int64 (st, 1, (sqlite3_int64) r->seq);
    sqlite3_bind_text (st, 2, r->chain_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (st, 3, r->at_ms);
    sqlite3_bind_int64 (st, 4, r->written_ms);
    sqlite3_bind_text (st, 5, r->event_id, -1, SQLITE_STATIC);
    s_bind_opt (st, 6, r->service);
    sqlite3_bind_text (st, 7, r->type, -1, SQLITE_STATIC);
    s_bind_opt (st, 8, r->lead_id);
    s_bind_opt (st, 9, r->campaign);
    s_bind_opt (st, 10, r->has_pseudonym ? pseud : NULL);
    s_bind_opt (st, 11, pl_audit_decision_name (r->decision));
    s_bind_opt (st, 12, r->trace_id);
    s_bind_opt (st, 13, r->zone);
    s_bind_opt (st, 14, r->actor);
    s_bind_opt (st, 15, rules);
    s_bind_opt (st, 16, lists);
    s_bind_opt (st, 17, counts);
    s_bind_opt (st, 18, attrs);
    if (r->pd_len && !erased)
        sqlite3_bind_blob (st, 19, r->pd, (int) r->pd_len, SQLITE_STATIC);
    else
        sqlite3_bind_null (st, 19);
    sqlite3_bind_int (st, 20, erased);
    sqlite3_bind_text (st, 21, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text (st, 22, prev, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (st, 23, (sqlite3_int64) segment);
    sqlite3_bind_int64 (st, 24, (sqlite3_int64) offset);
    sqlite3_bind_int64 (st, 25, pl_audit_index_event_key (r->event_id));
    if (r->has_pseudonym)
        sqlite3_bind_int64 (st, 26, pl_audit_index_number_key (r->pseudonym));
    else
        sqlite3_bind_null (st, 26);
    json_t *ev = pl__audit_evidence_json (r->evidence);
    char *evidence = ev ? json_dumps (ev, JSON_COMPACT) : NULL;
    json_decref (ev);
    s_bind_opt (st, 27, evidence);
    int src = sqlite3_step (st);
    int rc = src == SQLITE_DONE ? 0 : s_fail (self, s_code (src), "insert");
    if (rc == 0 && dup)
        *dup = sqlite3_changes (self->db) == 0;
    sqlite3_reset (st);
    sqlite3_clear_bindings (st);
    free (evidence);
    return rc;
}

int
pl_audit_index_find_event (pl_audit_index_t *self, const char *event_id, uint64_t *seq)
{
    if (!self->find
        && sqlite3_prepare_v2 (self->db,
                               "SELECT seq FROM events WHERE event_key = ? AND event_id = ?", -1,
                               &self->find, NULL)
               != SQLITE_OK)
        return s_fail (self, PL_EIO, "prepare find");
    sqlite3_reset (self->find);
    sqlite3_bind_int64 (self->find, 1, pl_audit_index_event_key (event_id));
    sqlite3_bind_text (self->find, 2, event_id, -1, SQLITE_STATIC);
    int src = sqlite3_step (self->find);
    int rc;
    if (src == SQLITE_ROW) {
        if (seq)
            *seq = (uint64_t) sqlite3_column_int64 (self->find, 0);
        rc = 1;
    } else if (src == SQLITE_DONE)
        rc = 0;
    else
        rc = s_fail (self, s_code (src), "find event");
    sqlite3_reset (self->find);
    return rc;
}

int
pl_audit_index_max_at (pl_audit_index_t *self, int64_t *out)
{
    sqlite3_stmt *st;
    *out = INT64_MIN;
    if (sqlite3_prepare_v2 (self->db, "SELECT max(at_ms) FROM events", -1, &st, NULL) != SQLITE_OK)
        return s_fail (self, PL_EIO, "max at");
    int src = sqlite3_step (st);
    if (src == SQLITE_ROW && sqlite3_column_type (st, 0) != SQLITE_NULL)
        *out = sqlite3_column_int64 (st, 0);
    sqlite3_finalize (st);
    return src == SQLITE_ROW || src == SQLITE_DONE ? 0 : s_fail (self, s_code (src), "max at");
}

/* Prepares sql, a statement over one person's rows before a seq, and binds its parameters
 * (number_key, number_pseudonym, seq); finalize *st after use. PL_EINVAL when pseudonym_hex is
 * not one. */
static int
s_person_stmt (pl_audit_index_t *self, const char *sql, const char *pseudonym_hex,
               uint64_t before, const char *what, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2 (self->db, sql, -1, st, NULL) != SQLITE_OK)
        return s_fail (self, PL_EIO, what);
    int64_t key;
    if (!s_number_key_hex (pseudonym_hex, &key)) {
        sqlite3_finalize (*st);
        return PL_EINVAL;
    }
    sqlite3_bind_int64 (*st, 1, key);
    sqlite3_bind_text (*st, 2, pseudonym_hex, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (*st, 3, (sqlite3_int64) before);
    return 0;
}

int
pl_audit_index_personal_locs (pl_audit_index_t *self, const char *pseudonym_hex,
                              uint64_t before, pl_audit_loc_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st;
    int src, rc = s_person_stmt (self,
                                 "SELECT seq, segment, offset FROM events WHERE number_key = ?"
                                 " AND number_pseudonym = ? AND seq < ? AND erased = 0"
                                 " AND personal IS NOT NULL ORDER BY seq",
                                 pseudonym_hex, before, "personal locations", &st);
    if (rc)
        return rc;
    size_t cap = 0;
    while ((src = sqlite3_step (st)) == SQLITE_ROW) {
        if (!pl__grow (out, *n, &cap, sizeof **out, 16)) {
            rc = PL_ENOMEM;
            break;
        }
        (*out)[*n].seq = (uint64_t) sqlite3_column_int64 (st, 0);
        (*out)[*n].segment = (uint64_t) sqlite3_column_int64 (st, 1);
        (*out)[*n].offset = (uint64_t) sqlite3_column_int64 (st, 2);
        (*n)++;
    }
    if (rc == 0 && src != SQLITE_DONE)
        rc = s_fail (self, s_code (src), "personal locations");
    sqlite3_finalize (st);
    if (rc) {
        free (*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

int
pl_audit_index_erase (pl_audit_index_t *self, const char *pseudonym_hex, uint64_t before,
                      size_t *rows)
{
    sqlite3_stmt *st;
    int rc = s_person_stmt (self,
                            "UPDATE events SET personal = NULL, erased = 1 WHERE number_key = ?"
                            " AND number_pseudonym = ? AND seq < ? AND personal IS NOT NULL",
                            pseudonym_hex, before, "erase", &st);
    if (rc)
        return rc;
    int src = sqlite3_step (st);
    sqlite3_finalize (st);
    if (src != SQLITE_DONE)
        return s_fail (self, s_code (src), "erase");
    if (rows)
        *rows = (size_t) sqlite3_changes (self->db);
    /* With secure_delete the old blobs are overwritten in the database file once the WAL is
     * checkpointed; TRUNCATE also empties the WAL file that still holds the old pages. */
    sqlite3_wal_checkpoint_v2 (self->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    return 0;
}

int
pl_audit_index_delete_through (pl_audit_index_t *self, uint64_t last)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2 (self->db, "DELETE FROM events WHERE seq <= ?", -1, &st, NULL)
        != SQLITE_OK)
        return s_fail (self, PL_EIO, "delete");
    sqlite3_bind_int64 (st, 1, (sqlite3_int64) last);
    int src = sqlite3_step (st);
    sqlite3_finalize (st);
    return src == SQLITE_DONE ? 0 : s_fail (self, s_code (src), "delete");
}

int
pl_audit_index_truncate_from (pl_audit_index_t *self, uint64_t first)
{
    sqlite3_stmt *st;
    int rc = pl_audit_index_begin (self);
    if (rc)
        return rc;
    if (sqlite3_prepare_v2 (self->db, "DELETE FROM events WHERE seq >= ?", -1, &st, NULL)
        != SQLITE_OK) {
        pl_audit_index_rollback (self);
        return s_fail (self, PL_EIO, "truncate");
    }
    sqlite3_bind_int64 (st, 1, (sqlite3_int64) first);
    int src = sqlite3_step (st);
    sqlite3_finalize (st);
    if (src != SQLITE_DONE) {
        rc = s_fail (self, s_code (src), "truncate");
        pl_audit_index_rollback (self);
        return rc;
    }
    return pl_audit_index_commit (self, first);
}

static const char *
s_col_text (sqlite3_stmt *st, int i)
{
    return (const char *) sqlite3_column_text (st, i);     /* NULL for SQL NULL */
}

int
pl_audit_index_query (pl_audit_index_t *self, const pl_audit_filter_t *f, pl_audit_row_fn *fn,
                      void *arg)
{
    char sql[2048];
    size_t n = (size_t) snprintf (
        sql, sizeof sql,
        "SELECT chain, seq, at_ms, written_ms, event_id, service, type, lead_id, campaign,"
        " number_pseudonym, decision, trace_id, zone, actor, rules, lists, counts, attrs,"
        " personal, erased, hash, prev_hash, number_key, evidence FROM events WHERE 1");
    /* Rows after (at, chain, seq): within this chain's database the chain is constant, so the
     * comparison folds to at_ms alone unless the chains are equal. */
    int cmp = f->after ? strcmp (self->chain, f->after->chain) : 0;
    const char *after = cmp > 0   ? " AND at_ms >= :after_at"
                        : cmp < 0 ? " AND at_ms > :after_at"
                                  : " AND (at_ms > :after_at"
                                    " OR (at_ms = :after_at AND seq > :after_seq))";
    const struct {
        bool on;
        const char *sql;
    } where[] = {{f->lead_id, " AND lead_id = :lead"},
                 {f->campaign, " AND campaign = :campaign"},
                 {f->type, " AND type = :type"},
                 {f->pseudonym_hex, " AND number_key = :nkey AND number_pseudonym = :pseud"},
                 {f->has_from_seq, " AND seq >= :from_seq"},
                 {f->has_from, " AND at_ms >= :from"},
                 {f->has_to, " AND at_ms < :to"},
                 {f->after, after}};
    for (size_t i = 0; i < sizeof where / sizeof *where; i++)
        if (where[i].on)
            n += (size_t) snprintf (sql + n, sizeof sql - n, "%s", where[i].sql);
    n += (size_t) snprintf (sql + n, sizeof sql - n,
                            f->has_from_seq ? " ORDER BY seq" : " ORDER BY at_ms, seq");
    if (f->limit)
        snprintf (sql + n, sizeof sql - n, " LIMIT %zu", f->limit);

    sqlite3_stmt *st;
    if (sqlite3_prepare_v2 (self->db, sql, -1, &st, NULL) != SQLITE_OK)
        return s_fail (self, PL_EIO, "prepare query");
#define S_BIND_TEXT(name, v) \
    if (v) sqlite3_bind_text (st, sqlite3_bind_parameter_index (st, name), v, -1, SQLITE_STATIC)
    S_BIND_TEXT (":lead", f->lead_id);
    S_BIND_TEXT (":campaign", f->campaign);
    S_BIND_TEXT (":type", f->type);
    S_BIND_TEXT (":pseud", f->pseudonym_hex);
#undef S_BIND_TEXT
    int64_t nkey;
    if (f->pseudonym_hex) {
        if (!s_number_key_hex (f->pseudonym_hex, &nkey)) {
            sqlite3_finalize (st);
            return s_fail (self, PL_EINVAL, "pseudonym");
        }
        sqlite3_bind_int64 (st, sqlite3_bind_parameter_index (st, ":nkey"), nkey);
    }
    if (f->has_from_seq)
        sqlite3_bind_int64 (st, sqlite3_bind_parameter_index (st, ":from_seq"),
                            (sqlite3_int64) f->from_seq);
    if (f->has_from)
        sqlite3_bind_int64 (st, sqlite3_bind_parameter_index (st, ":from"), f->from_ms);
    if (f->has_to)
        sqlite3_bind_int64 (st, sqlite3_bind_parameter_index (st, ":to"), f->to_ms);
    if (f->after) {
        sqlite3_bind_int64 (st, sqlite3_bind_parameter_index (st, ":after_at"), f->after->at_ms);
        int i = sqlite3_bind_parameter_index (st, ":after_seq");
        if (i)
            sqlite3_bind_int64 (st, i, (sqlite3_int64) f->after->seq);
    }
    int src, rc = 0;
    while ((src = sqlite3_step (st)) == SQLITE_ROW) {
        pl_audit_row_t row = {
            .chain = s_col_text (st, 0),
            .seq = (uint64_t) sqlite3_column_int64 (st, 1),
            .at_ms = sqlite3_column_int64 (st, 2),
            .written_ms = sqlite3_column_int64 (st, 3),
            .event_id = s_col_text (st, 4),
            .service = s_col_text (st, 5),
            .type = s_col_text (st, 6),
            .lead_id = s_col_text (st, 7),
            .campaign = s_col_text (st, 8),
            .pseudonym_hex = s_col_text (st, 9),
            .decision = s_col_text (st, 10),
            .trace_id = s_col_text (st, 11),
            .zone = s_col_text (st, 12),
            .actor = s_col_text (st, 13),
            .rules_json = s_col_text (st, 14),
            .lists_json = s_col_text (st, 15),
            .counts_json = s_col_text (st, 16),
            .attrs_json = s_col_text (st, 17),
            .personal = sqlite3_column_blob (st, 18),
            .personal_len = (size_t) sqlite3_column_bytes (st, 18),
            .erased = sqlite3_column_int (st, 19) != 0,
            .hash_hex = s_col_text (st, 20),
            .prev_hash_hex = s_col_text (st, 21),
            .has_number_key = sqlite3_column_type (st, 22) != SQLITE_NULL,
            .number_key = sqlite3_column_int64 (st, 22),
            .evidence_json = s_col_text (st, 23),
        };
        if (fn (arg, &row))
            break;
    }
    if (src != SQLITE_ROW && src != SQLITE_DONE)
        rc = s_fail (self, s_code (src), "query");
    sqlite3_finalize (st);
    return rc;
}
