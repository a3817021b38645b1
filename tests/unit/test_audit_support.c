/*  test_audit_support.c — keys, events and stores for the audit tests (see the header). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "pl_test.h"
#include "plateau/audit_emit.h"
#include "plateau/error.h"
#include "plateau/audit_record.h"
#include "plateau/audit_segment.h"
#include "test_audit_support.h"

void
ta_event_for (ta_event_t *e, uint64_t i, const char *number, const char *lead,
              const char *campaign, const char *type)
{
    memset (e, 0, sizeof *e);
    pl_audit_event_init (&e->ev, "", "", "", 0);
    plateau__v1__rule_hit__init (&e->rule);
    plateau__v1__list_version__init (&e->list);
    plateau__v1__audit_event__counts_entry__init (&e->count);
    plateau__v1__audit_event__details_entry__init (&e->detail);
    snprintf (e->event_id, sizeof e->event_id, "ev-%llu", (unsigned long long) i);
    snprintf (e->lead_id, sizeof e->lead_id, "%s", lead ? lead : "");
    snprintf (e->number, sizeof e->number, "%s", number ? number : "");
    snprintf (e->trace_id, sizeof e->trace_id, "trace-%016llx", (unsigned long long) i * 7919);
    snprintf (e->reason, sizeof e->reason, "outside calling hours in the callee's zone (%llu)",
              (unsigned long long) i);
    e->ev.event_id = e->event_id;
    e->ev.service = "dialer";
    e->ev.type = (char *) type;
    e->ev.at_ms = TA_T0 + (int64_t) i * 1000;
    e->ev.lead_id = e->lead_id;
    e->ev.campaign = (char *) (campaign ? campaign : "");
    e->ev.number = e->number;
    e->ev.decision = strstr (type, "denied") ? PLATEAU__V1__DECISION__DENY
                                            : PLATEAU__V1__DECISION__ALLOW;
    e->rule.rule_id = "fr.hours";
    e->rule.value = "10:00-13:00,14:00-20:00";
    e->rule.facts = "local time 20:12";
    e->rule.reason = "outside the legal calling hours";
    e->rule.zone = "Europe/Paris";
    e->rules[0] = &e->rule;
    e->ev.n_rules = 1;
    e->ev.rules = e->rules;
    e->list.name = "bloctel";
    e->list.copy_date = "2026-03-01";
    e->list.version = "2026-03-01";
    e->list.loaded_at_ms = TA_T0 - 86400000;
    e->list.age_ms = 86400000;
    e->lists[0] = &e->list;
    e->ev.n_lists = 1;
    e->ev.lists = e->lists;
    e->count.key = "attempts_30d";
    e->count.value = (int64_t) (i % 5);
    e->counts[0] = &e->count;
    e->ev.n_counts = 1;
    e->ev.counts = e->counts;
    e->detail.key = "agent";
    e->detail.value = "A-17";
    e->details[0] = &e->detail;
    e->ev.n_details = 1;
    e->ev.details = e->details;
    e->ev.trace_id = e->trace_id;
    e->ev.zone = "Europe/Paris";
    e->ev.reason = e->reason;
    e->ev.actor = "pacing";
}

void
ta_event (ta_event_t *e, uint64_t i)
{
    char number[24], lead[32];
    snprintf (number, sizeof number, "+3361200%04llu", (unsigned long long) (i % 50));
    snprintf (lead, sizeof lead, "L-%llu", (unsigned long long) (i % 20));
    ta_event_for (e, i, number, lead, i % 3 ? "spring" : "winter",
                  i % 2 ? "dial.denied" : "dial.allowed");
}

static pl_audit_keys_t *
s_keys (uint8_t base)
{
    pl_audit_keys_t *k = pl_audit_keys_new ();
    assert_non_null (k);
    uint8_t seed[32];
    memset (seed, base, sizeof seed);
    pl_audit_keys_set_signing_seed (k, seed);
    memset (seed, base + 1, sizeof seed);
    pl_audit_keys_set_pseudonym (k, seed);
    memset (seed, base + 2, sizeof seed);
    pl_audit_keys_set_data (k, seed);
    return k;
}

pl_audit_keys_t *ta_keys (void) { return s_keys (0x11); }
pl_audit_keys_t *ta_other_keys (void) { return s_keys (0x51); }

void
ta_on_commit (void *arg, const pl_audit_committed_t *items, size_t n)
{
    ta_commits_t *c = arg;
    for (size_t i = 0; i < n; i++) {
        c->n++;
        c->last_seq = items[i].seq;
        if (!items[i].token)
            c->seen_token_null = true;
    }
}

void
ta_config (pl_audit_store_config_t *cfg, const char *root, const char *chain,
           pl_audit_keys_t *keys, size_t seg_bytes, ta_commits_t *commits)
{
    pl_audit_store_config_defaults (cfg);
    cfg->dir = root;
    cfg->chain_id = chain;
    cfg->keys = keys;
    cfg->commit_interval_ms = 1;
    if (seg_bytes)
        cfg->segment_max_bytes = seg_bytes;
    cfg->checkpoint_every = 50;
    if (commits) {
        cfg->on_commit = ta_on_commit;
        cfg->on_commit_arg = commits;
    }
}

pl_audit_store_t *
ta_open (const pl_audit_store_config_t *cfg)
{
    pl_audit_store_t *s = pl_audit_store_new (cfg);
    assert_non_null (s);
    int rc = pl_audit_store_open (s);
    if (rc)
        fprintf (stderr, "open: %s: %s\n", pl_strerror (rc), pl_audit_store_errstr (s));
    assert_int_equal (rc, 0);
    return s;
}

void
ta_append_range (pl_audit_store_t *s, uint64_t from, uint64_t to)
{
    for (uint64_t i = from; i < to; i++) {
        ta_event_t e;
        ta_event (&e, i);
        int rc = pl_audit_store_append (s, &e.ev, TA_T0 + (int64_t) i * 1000 + 5, (void *) 1);
        if (rc)
            fprintf (stderr, "append %llu: %s: %s\n", (unsigned long long) i, pl_strerror (rc),
                     pl_audit_store_errstr (s));
        assert_int_equal (rc, 0);
    }
    assert_int_equal (pl_audit_store_sync (s), 0);
}

int
ta_verify (const char *root, pl_audit_verify_report_t **out)
{
    pl_audit_keys_t *k = ta_keys ();
    uint8_t pk[32];
    pl_audit_keys_public (k, pk);
    pl_audit_keys_destroy (&k);
    const uint8_t (*trusted)[32] = (const uint8_t (*)[32]) pk;
    pl_audit_verify_opts_t opts = {.trusted = trusted, .n_trusted = 1, .threads = 2};
    pl_audit_verify_report_t *r = NULL;
    int rc = pl_audit_verify (root, &opts, &r);
    if (r && (rc || getenv ("PL_TEST_VERBOSE"))) {
        char *text = pl_audit_verify_report_text (r);
        fprintf (stderr, "%s", text ? text : "");
        free (text);
    }
    if (out)
        *out = r;
    else
        pl_audit_verify_report_destroy (&r);
    return rc;
}

char *
ta_tmpdir (void)
{
    char *p = pl_test_tmpdir ("audit");
    assert_non_null (p);
    return p;
}

void
ta_rmdir (char **path)
{
    if (path && *path) {
        pl_test_rmdir (*path);
        free (*path);
        *path = NULL;
    }
}

void
ta_seg_path (const char *root, const char *chain, uint64_t first_seq, char *out, size_t size)
{
    char name[PL_AUDIT_SEG_NAME_MAX];
    pl_audit_seg_name (first_seq, name);
    snprintf (out, size, "%s/%s/%s", root, chain, name);
}

uint8_t *
ta_read_file (const char *path, size_t *len)
{
    FILE *f = fopen (path, "rb");
    assert_non_null (f);
    fseek (f, 0, SEEK_END);
    long n = ftell (f);
    fseek (f, 0, SEEK_SET);
    uint8_t *buf = malloc ((size_t) n + 1);
    assert_non_null (buf);
    assert_int_equal (fread (buf, 1, (size_t) n, f), (size_t) n);
    fclose (f);
    *len = (size_t) n;
    return buf;
}

void
ta_write_file (const char *path, const uint8_t *data, size_t len)
{
    FILE *f = fopen (path, "wb");
    assert_non_null (f);
    assert_int_equal (fwrite (data, 1, len, f), len);
    fclose (f);
}

size_t
ta_frame_offset (const uint8_t *seg, size_t len, uint64_t seq, size_t *frame_len)
{
    size_t off = PL_AUDIT_SEG_HEADER;
    while (off < len) {
        pl_audit_frame_t f;
        if (pl_audit_frame_parse (seg + off, len - off, &f) != 0)
            return (size_t) -1;
        if (f.seq == seq) {
            if (frame_len)
                *frame_len = f.frame_len;
            return off;
        }
        off += f.frame_len;
    }
    return (size_t) -1;
}

bool
ta_dir_contains (const char *dir, const void *needle, size_t n)
{
    DIR *d = opendir (dir);
    if (!d)
        return false;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir (d))) {
        if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
            continue;
        char path[4096];
        snprintf (path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat (path, &st) != 0)
            continue;
        if (S_ISDIR (st.st_mode))
            found = ta_dir_contains (path, needle, n);
        else if (S_ISREG (st.st_mode) && st.st_size > 0) {
            size_t len;
            uint8_t *buf = ta_read_file (path, &len);
            found = memmem (buf, len, needle, n) != NULL;
            free (buf);
        }
    }
    closedir (d);
    return found;
}
