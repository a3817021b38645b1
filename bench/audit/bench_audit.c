/*  bench_audit.c — durable audit appends and verification beside the machine's own limits.
 *
 *  Measures, in one run and on the same bytes:
 *
 *    1. durable append throughput: realistic events (~300 bytes as protobuf) appended to a
 *       store with group commit, counted when on_commit reports them durable (fdatasync'd);
 *       with the SQLite indexer running, then without it (the log alone);
 *    2. the machine's limits for that work: SHA-256 over the same bytes (libsodium, one
 *       stream), and sequential write + fdatasync of the same bytes in batches of the size
 *       the store used;
 *    3. verification speed (every hash, link, checkpoint) beside raw SHA-256 speed.
 *
 *  Prints the figures and the ratios. Usage:
 *      bench_audit [--events N] [--dir PATH] [--interval-ms MS] [--keep] [--log-only]
 *  The data goes to a fresh directory under PATH (default $TMPDIR or /tmp), removed at the end
 *  unless --keep.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include "plateau/audit_emit.h"
#include "plateau/error.h"
#include "plateau/audit_segment.h"
#include "plateau/audit_store.h"
#include "plateau/audit_verify.h"

/* CPU seconds this process has used (every thread, user and system). */
static double
s_cpu (void)
{
    struct rusage ru;
    getrusage (RUSAGE_SELF, &ru);
    return (double) ru.ru_utime.tv_sec + (double) ru.ru_utime.tv_usec / 1e6
         + (double) ru.ru_stime.tv_sec + (double) ru.ru_stime.tv_usec / 1e6;
}

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* ---- Events ------------------------------------------------------------------------------ */

typedef struct {
    Plateau__V1__AuditEvent ev;
    Plateau__V1__RuleHit rule;
    Plateau__V1__RuleHit *rules[1];
    Plateau__V1__ListVersion list;
    Plateau__V1__ListVersion *lists[1];
    Plateau__V1__AuditEvent__CountsEntry count[2];
    Plateau__V1__AuditEvent__CountsEntry *counts[2];
    char id[40], lead[24], number[16], trace[40], facts[48];
} s_event_t;

/* Writes v as `width` digits in `base` (zero padded) at p: events differ only in their
 * numbers, so they are patched in place rather than formatted (snprintf would cost the
 * producer more than the store spends). */
static void
s_digits (char *p, int width, uint64_t v, unsigned base)
{
    static const char d[] = "0123456789abcdef";
    for (int i = width - 1; i >= 0; i--, v /= base)
        p[i] = d[v % base];
}

/* A dialer decision as the rules engine would report it, built once by s_event_init. Event i
 * (s_event_set): 100,000 distinct numbers and leads, two campaigns, one rule, one list, two
 * counts, and a unique id. */
static void
s_event_init (s_event_t *e, int64_t t0)
{
    memset (e, 0, sizeof *e);
    pl_audit_event_init (&e->ev, "", "", "", 0);
    plateau__v1__rule_hit__init (&e->rule);
    plateau__v1__list_version__init (&e->list);
    snprintf (e->id, sizeof e->id, "0195f3c2-0000-7d2e-9b1a-000000000000");
    snprintf (e->lead, sizeof e->lead, "lead-000000000");
    snprintf (e->number, sizeof e->number, "+33600000000");
    snprintf (e->trace, sizeof e->trace, "00000000000000000000000000000000");
    snprintf (e->facts, sizeof e->facts, "local time 20:00 on a Tuesday");
    e->ev.event_id = e->id;
    e->ev.service = "dialer";
    e->ev.lead_id = e->lead;
    e->ev.number = e->number;
    e->rule.rule_id = "fr.hours";
    e->rule.value = "10:00-13:00,14:00-20:00";
    e->rule.facts = e->facts;
    e->rule.reason = "outside the legal calling hours";
    e->rule.zone = "Europe/Paris";
    e->rules[0] = &e->rule;
    e->ev.n_rules = 1;
    e->ev.rules = e->rules;
    e->list.name = "fr.bloctel";
    e->list.version = "2026-03-01";
    e->list.loaded_at_ms = t0 - 3600000;
    e->list.age_ms = 3600000;
    e->lists[0] = &e->list;
    e->ev.n_lists = 1;
    e->ev.lists = e->lists;
    const char *keys[2] = {"attempts_30d", "attempts_7d"};
    for (int k = 0; k < 2; k++) {
        plateau__v1__audit_event__counts_entry__init (&e->count[k]);
        e->count[k].key = (char *) keys[k];
        e->counts[k] = &e->count[k];
    }
    e->ev.n_counts = 2;
    e->ev.counts = e->counts;
    e->ev.trace_id = e->trace;
    e->ev.zone = "Europe/Paris";
    e->ev.actor = "pacing";
}

static void
s_event_set (s_event_t *e, uint64_t i, int64_t t0)
{
    s_digits (e->id + 9, 4, i & 0xffff, 16);
    s_digits (e->id + 24, 12, i, 16);
    s_digits (e->lead + 5, 9, i % 100000, 10);
    s_digits (e->number + 4, 8, (i * 7919) % 100000, 10);
    s_digits (e->trace, 32, i * 0x9e3779b97f4a7c15ULL, 16);
    s_digits (e->facts + 14, 2, i % 60, 10);
    e->ev.type = i % 4 ? "dial.allowed" : "dial.denied";
    e->ev.at_ms = t0 + (int64_t) i;
    e->ev.campaign = i % 2 ? "collections-fr-q1" : "renewals-fr";
    e->ev.decision = i % 4 ? PLATEAU__V1__DECISION__ALLOW : PLATEAU__V1__DECISION__DENY;
    e->count[0].value = (int64_t) (i % 9);
    e->count[1].value = (int64_t) (i % 3);
}

/* ---- Appends ----------------------------------------------------------------------------- */

typedef struct {
    uint64_t committed;
    double last_commit;
} s_commits_t;

static void
s_on_commit (void *arg, const pl_audit_committed_t *items, size_t n)
{
    s_commits_t *c = arg;
    c->committed += n;
    c->last_commit = s_now ();
}

typedef struct {
    double seconds, events_per_s, index_catchup_s;
    double cpu_us_per_event;            /* every thread of the process, until the last commit */
    uint64_t bytes, batches, lag_at_end;
} s_append_result_t;

static int
s_append_run (const char *root, const char *chain, pl_audit_keys_t *keys, uint64_t n,
              int interval_ms, bool index, s_append_result_t *out)
{
    s_commits_t commits = {0, 0};
    pl_audit_store_config_t cfg;
    pl_audit_store_config_defaults (&cfg);
    cfg.dir = root;
    cfg.chain_id = chain;
    cfg.keys = keys;
    cfg.commit_interval_ms = interval_ms;
    cfg.on_commit = s_on_commit;
    cfg.on_commit_arg = &commits;
    cfg.no_index = !index;
    cfg.segment_max_bytes = 32u << 20;
    pl_audit_store_t *s = pl_audit_store_new (&cfg);
    int rc = s ? pl_audit_store_open (s) : PL_ENOMEM;
    if (rc) {
        fprintf (stderr, "open: %s: %s\n", pl_strerror (rc), s ? pl_audit_store_errstr (s) : "");
        pl_audit_store_destroy (&s);
        return rc;
    }
    int64_t t0 = 1772539200000LL;
    struct pollfd pfd = {pl_audit_store_fd (s), POLLIN, 0};
    s_event_t e;
    s_event_init (&e, t0);
    double cpu0 = s_cpu ();
    double start = s_now ();
    for (uint64_t i = 0; i < n; i++) {
        s_event_set (&e, i, t0);
        while ((rc = pl_audit_store_append (s, &e.ev, t0 + (int64_t) i, NULL)) == PL_EAGAIN) {
            poll (&pfd, 1, 10);         /* backpressure: the disk is behind */
            pl_audit_store_dispatch (s);
        }
        if (rc) {
            fprintf (stderr, "append %" PRIu64 ": %s: %s\n", i, pl_strerror (rc),
                     pl_audit_store_errstr (s));
            pl_audit_store_destroy (&s);
            return rc;
        }
        if ((i & 255) == 0 && poll (&pfd, 1, 0) > 0)
            pl_audit_store_dispatch (s);
    }
    rc = pl_audit_store_sync (s);
    double end = commits.last_commit;
    out->cpu_us_per_event = (s_cpu () - cpu0) * 1e6 / (double) n;
    pl_audit_store_stats_t st;
    pl_audit_store_stats (s, &st);
    out->seconds = end - start;
    out->events_per_s = (double) commits.committed / out->seconds;
    out->bytes = st.bytes;
    out->batches = st.batches;
    out->lag_at_end = index ? st.durable_next - st.indexed_next : 0;
    double t = s_now ();
    if (index)
        pl_audit_store_wait_indexed (s);
    out->index_catchup_s = s_now () - t;
    pl_audit_store_destroy (&s);
    if (commits.committed != n) {
        fprintf (stderr, "committed %" PRIu64 " of %" PRIu64 "\n", commits.committed, n);
        return PL_EIO;
    }
    return rc;
}

/* ---- Baselines ----------------------------------------------------------------------------- */

/* Every segment of chain under root, concatenated in memory: the bytes the store wrote. */
static uint8_t *
s_load_segments (const char *root, const char *chain, size_t *len)
{
    char dir[4200];
    snprintf (dir, sizeof dir, "%.4000s/%.64s", root, chain);
    pl_audit_seg_entry_t *segs;
    size_t n;
    if (pl_audit_seg_list (dir, &segs, &n) != 0)
        return NULL;
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += segs[i].size;
    uint8_t *buf = malloc (total ? total : 1);
    size_t off = 0;
    for (size_t i = 0; buf && i < n; i++) {
        char name[PL_AUDIT_SEG_NAME_MAX], path[4300];
        pl_audit_seg_name (segs[i].first_seq, name);
        snprintf (path, sizeof path, "%s/%s", dir, name);
        int fd = open (path, O_RDONLY);
        ssize_t r;
        while (fd >= 0 && (r = read (fd, buf + off, total - off)) > 0)
            off += (size_t) r;
        if (fd >= 0)
            close (fd);
    }
    free (segs);
    *len = off;
    return buf;
}

static double
s_sha256_mb_s (const uint8_t *buf, size_t len)
{
    uint8_t h[32];
    double best = 0;
    for (int round = 0; round < 3; round++) {
        double t = s_now ();
        crypto_hash_sha256 (h, buf, len);
        double mb_s = (double) len / 1e6 / (s_now () - t);
        if (mb_s > best)
            best = mb_s;
    }
    return best;
}

/* Sequential write + fdatasync of buf in chunks of `batch` bytes to a new file in dir. */
static double
s_write_fsync_mb_s (const char *dir, const uint8_t *buf, size_t len, size_t batch)
{
    char path[4200];
    snprintf (path, sizeof path, "%s/raw-write.bin", dir);
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return 0;
    double t = s_now ();
    for (size_t off = 0; off < len; off += batch) {
        size_t n = len - off < batch ? len - off : batch;
        if (write (fd, buf + off, n) != (ssize_t) n || fdatasync (fd) != 0) {
            close (fd);
            return 0;
        }
    }
    double mb_s = (double) len / 1e6 / (s_now () - t);
    close (fd);
    unlink (path);
    return mb_s;
}

static double
s_verify_mb_s (const char *root, const pl_audit_keys_t *keys, int threads, double *seconds)
{
    uint8_t pk[32];
    pl_audit_keys_public (keys, pk);
    pl_audit_verify_opts_t opts = {.trusted = (const uint8_t (*)[32]) pk, .n_trusted = 1,
                                   .threads = threads};
    pl_audit_verify_report_t *r;
    double best = 0;
    for (int round = 0; round < 2; round++) {
        int rc = pl_audit_verify (root, &opts, &r);
        if (rc) {
            char *text = r ? pl_audit_verify_report_text (r) : NULL;
            fprintf (stderr, "verify failed: %s\n%s", pl_strerror (rc), text ? text : "");
            free (text);
            pl_audit_verify_report_destroy (&r);
            return 0;
        }
        double mb_s = (double) r->bytes / 1e6 / r->seconds;
        if (mb_s > best) {
            best = mb_s;
            *seconds = r->seconds;
        }
        pl_audit_verify_report_destroy (&r);
    }
    return best;
}

static void
s_rm_rf (const char *path)
{
    char cmd[4300];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system (cmd) != 0)
        fprintf (stderr, "could not remove %s\n", path);
}

int
main (int argc, char **argv)
{
    uint64_t n = 1000000;
    int interval_ms = 5;
    const char *base = getenv ("TMPDIR");
    bool keep = false, log_only = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--events") == 0 && i + 1 < argc)
            n = strtoull (argv[++i], NULL, 10);
        else if (strcmp (argv[i], "--dir") == 0 && i + 1 < argc)
            base = argv[++i];
        else if (strcmp (argv[i], "--interval-ms") == 0 && i + 1 < argc)
            interval_ms = atoi (argv[++i]);
        else if (strcmp (argv[i], "--keep") == 0)
            keep = true;
        else if (strcmp (argv[i], "--log-only") == 0)
            log_only = true;            /* the append path alone, for profiling */
        else {
            fprintf (stderr, "usage: %s [--events N] [--dir PATH] [--interval-ms MS] [--keep] "
                             "[--log-only]\n",
                     argv[0]);
            return 2;
        }
    }
    if (sodium_init () < 0)
        return 1;
    char root[4096];
    snprintf (root, sizeof root, "%s/bench-audit-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp (root)) {
        fprintf (stderr, "mkdtemp %s: %s\n", root, strerror (errno));
        return 1;
    }
    pl_audit_keys_t *keys = pl_audit_keys_new ();
    uint8_t k[32];
    randombytes_buf (k, sizeof k);
    pl_audit_keys_set_signing_seed (keys, k);
    randombytes_buf (k, sizeof k);
    pl_audit_keys_set_pseudonym (keys, k);
    randombytes_buf (k, sizeof k);
    pl_audit_keys_set_data (keys, k);

    s_event_t e;
    s_event_init (&e, 0);
    s_event_set (&e, 12345, 0);
    size_t pb = plateau__v1__audit_event__get_packed_size (&e.ev);
    double load = 0;
    FILE *lf = fopen ("/proc/loadavg", "r");
    if (lf) {
        if (fscanf (lf, "%lf", &load) != 1)
            load = 0;
        fclose (lf);
    }
#ifdef NDEBUG
    const char *build = "Release";
#else
    const char *build = "not a Release build";
#endif
    printf ("audit benchmark: %" PRIu64 " events of %zu bytes as protobuf, group commit every "
            "%d ms, %ld CPUs, %s, load average %.2f, data in %s\n\n",
            n, pb, interval_ms, sysconf (_SC_NPROCESSORS_ONLN), build, load, root);

    s_append_result_t idx = {0}, raw = {0};
    if (log_only) {
        if (s_append_run (root, "log-only", keys, n, interval_ms, false, &raw) != 0)
            return 1;
        printf ("log only (no indexer)  %10.0f events/s  %5.2f s  %" PRIu64 " batches\n",
                raw.events_per_s, raw.seconds, raw.batches);
        pl_audit_keys_destroy (&keys);
        if (!keep)
            s_rm_rf (root);
        return 0;
    }
    if (s_append_run (root, "indexed", keys, n, interval_ms, true, &idx) != 0
        || s_append_run (root, "log-only", keys, n, interval_ms, false, &raw) != 0)
        return 1;
    double rec_bytes = (double) raw.bytes / (double) n;
    printf ("durable appends (on_commit after fdatasync)\n");
    printf ("  with the SQLite indexer    %10.0f events/s  %7.1f MB/s  %5.2f s  %" PRIu64
            " batches; index %" PRIu64 " behind at the end, caught up in %.2f s\n",
            idx.events_per_s, idx.events_per_s * rec_bytes / 1e6, idx.seconds, idx.batches,
            idx.lag_at_end, idx.index_catchup_s);
    if (idx.index_catchup_s > 0 && idx.lag_at_end > 0)
        printf ("  the indexer alone, catching up      %10.0f records/s into SQLite\n",
                (double) idx.lag_at_end / idx.index_catchup_s);
    printf ("  log only (no indexer)      %10.0f events/s  %7.1f MB/s  %5.2f s  %" PRIu64
            " batches\n",
            raw.events_per_s, raw.events_per_s * rec_bytes / 1e6, raw.seconds, raw.batches);
    printf ("  record size on disk        %10.0f bytes (frame: hashes, pseudonym, sealed number)\n",
            rec_bytes);
    printf ("  CPU per durable event      %10.2f us log only (all threads, producer included), "
            "%.2f us with the indexer running\n",
            raw.cpu_us_per_event, idx.cpu_us_per_event);
    printf ("  so two idle cores could take %8.0f events/s (log only; the pipeline has three busy "
            "threads)\n",
            2e6 / raw.cpu_us_per_event);

    size_t len;
    uint8_t *bytes = s_load_segments (root, "log-only", &len);
    if (!bytes)
        return 1;
    double sha = s_sha256_mb_s (bytes, len);
    size_t batch = raw.batches ? (size_t) (raw.bytes / raw.batches) : 1 << 20;
    double wr = s_write_fsync_mb_s (root, bytes, len, batch);
    /* What one commit window holds at the goal rate: 5 ms of 100,000 events/s. */
    size_t small = (size_t) (500 * rec_bytes);
    double wr_small = s_write_fsync_mb_s (root, bytes, len, small);
    free (bytes);
    printf ("\nmachine limits on the same %.1f MB\n", (double) len / 1e6);
    printf ("  SHA-256 (libsodium, one stream)              %8.1f MB/s = %8.0f records/s\n", sha,
            sha * 1e6 / rec_bytes);
    printf ("  write + fdatasync, the store's batches (%4.1f MB) %6.1f MB/s = %8.0f records/s\n",
            (double) batch / 1e6, wr, wr * 1e6 / rec_bytes);
    printf ("  write + fdatasync, 500-record batches (%4.2f MB) %6.1f MB/s = %8.0f records/s\n",
            (double) small / 1e6, wr_small, wr_small * 1e6 / rec_bytes);

    double vs_all = 0, vs_one = 0;
    double v_all = s_verify_mb_s (root, keys, 0, &vs_all);
    double v_one = s_verify_mb_s (root, keys, 1, &vs_one);
    printf ("\nverification (every hash, link, signature) of %.1f MB in both chains\n",
            (double) (idx.bytes + raw.bytes) / 1e6);
    printf ("  all CPUs                   %8.1f MB/s  (%.2f s)\n", v_all, vs_all);
    printf ("  one thread                 %8.1f MB/s  (%.2f s)\n", v_one, vs_one);

    printf ("\nratios\n");
    printf ("  durable appends, indexed / write+fsync, same batches   %5.2f\n",
            idx.events_per_s * rec_bytes / 1e6 / wr);
    printf ("  durable appends, log only / write+fsync, same batches  %5.2f\n",
            raw.events_per_s * rec_bytes / 1e6 / wr);
    printf ("  durable appends, log only / SHA-256 over the bytes     %5.2f\n",
            raw.events_per_s * rec_bytes / 1e6 / sha);
    printf ("  verification (all CPUs) / raw SHA-256                  %5.2f   (goal >= 0.50)\n",
            v_all / sha);
    printf ("  verification (one thread) / raw SHA-256                %5.2f\n", v_one / sha);
    printf ("  durable events/s (indexed) / goal 100,000              %5.2f\n",
            idx.events_per_s / 1e5);

    pl_audit_keys_destroy (&keys);
    if (!keep)
        s_rm_rf (root);
    return 0;
}
