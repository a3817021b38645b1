/*  segment.c — segment headers, names, listing, mapping and torn-tail recovery
 *  (see plateau/audit_segment.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "plateau/error.h"
#include "grow.h"
#include "plateau/audit_segment.h"
#include "wire.h"

static const char s_magic[8] = {'P', 'L', 'A', 'U', 'D', 'S', 'E', 'G'};

void
pl_audit_seg_header_encode (const pl_audit_seg_header_t *h, uint8_t out[PL_AUDIT_SEG_HEADER])
{
    memset (out, 0, PL_AUDIT_SEG_HEADER);
    memcpy (out, s_magic, 8);
    size_t chain_len = strlen (h->chain_id);
    pl__put_u32 (out + 8, 1);
    pl__put_u32 (out + 12, (uint32_t) chain_len);
    pl__put_u64 (out + 16, h->first_seq);
    pl__put_u64 (out + 24, (uint64_t) h->created_ms);
    memcpy (out + 32, h->prev_hash, PL_AUDIT_HASH_LEN);
    memcpy (out + 64, h->chain_id, chain_len);
}

int
pl_audit_seg_header_decode (const uint8_t *p, size_t len, pl_audit_seg_header_t *h)
{
    if (len < PL_AUDIT_SEG_HEADER)
        return PL_EAGAIN;
    uint32_t chain_len = pl__get_u32 (p + 12);
    if (memcmp (p, s_magic, 8) != 0 || pl__get_u32 (p + 8) != 1 || chain_len == 0
        || chain_len > PL_AUDIT_CHAIN_MAX)
        return PL_ECORRUPT;
    memset (h, 0, sizeof *h);
    h->first_seq = pl__get_u64 (p + 16);
    h->created_ms = (int64_t) pl__get_u64 (p + 24);
    memcpy (h->prev_hash, p + 32, PL_AUDIT_HASH_LEN);
    memcpy (h->chain_id, p + 64, chain_len);
    if (!pl_audit_chain_id_valid (h->chain_id))
        return PL_ECORRUPT;
    return 0;
}

void
pl_audit_seg_name (uint64_t first_seq, char *out)
{
    snprintf (out, PL_AUDIT_SEG_NAME_MAX, "seg-%020" PRIu64 ".plaud", first_seq);
}

static bool
s_seg_name_parse (const char *name, uint64_t *first_seq)
{
    if (strlen (name) != 30 || strncmp (name, "seg-", 4) != 0 || strcmp (name + 24, ".plaud") != 0)
        return false;
    uint64_t v = 0;
    for (int i = 4; i < 24; i++) {
        if (name[i] < '0' || name[i] > '9')
            return false;
        v = v * 10 + (uint64_t) (name[i] - '0');
    }
    *first_seq = v;
    return true;
}

static int
s_entry_cmp (const void *a, const void *b)
{
    uint64_t x = ((const pl_audit_seg_entry_t *) a)->first_seq;
    uint64_t y = ((const pl_audit_seg_entry_t *) b)->first_seq;
    return x < y ? -1 : x > y;
}

int
pl_audit_seg_list (const char *dir, pl_audit_seg_entry_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir (dir);
    if (!d)
        return errno == ENOENT ? PL_ENOTFOUND : PL_EIO;
    size_t cap = 0;
    pl_audit_seg_entry_t *v = NULL;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir (d))) {
        uint64_t first;
        if (!s_seg_name_parse (e->d_name, &first))
            continue;
        struct stat st;
        if (fstatat (dirfd (d), e->d_name, &st, 0) != 0 || !S_ISREG (st.st_mode))
            continue;
        if (!pl__grow (&v, *n, &cap, sizeof *v, 16)) {
            rc = PL_ENOMEM;
            break;
        }
        v[*n].first_seq = first;
        v[*n].size = (uint64_t) st.st_size;
        (*n)++;
    }
    closedir (d);
    if (rc) {
        free (v);
        *n = 0;
        return rc;
    }
    if (*n)
        qsort (v, *n, sizeof *v, s_entry_cmp);
    *out = v;
    return 0;
}

int
pl_audit_map_open (const char *path, uint64_t limit, pl_audit_map_t *m)
{
    m->data = NULL;
    m->len = 0;
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? PL_ENOTFOUND : PL_EIO;
    struct stat st;
    if (fstat (fd, &st) != 0) {
        close (fd);
        return PL_EIO;
    }
    uint64_t len = (uint64_t) st.st_size;
    if (limit && limit < len)
        len = limit;
    if (len == 0) {
        close (fd);
        return 0;
    }
    void *p = mmap (NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    close (fd);
    if (p == MAP_FAILED)
        return PL_EIO;
    madvise (p, len, MADV_SEQUENTIAL);
    m->data = p;
    m->len = len;
    return 0;
}

void
pl_audit_map_close (pl_audit_map_t *m)
{
    if (m->data)
        munmap ((void *) m->data, m->len);
    m->data = NULL;
    m->len = 0;
}

int
pl_audit_fsync_dir (const char *dir)
{
    int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return PL_EIO;
    int rc = fsync (fd) == 0 ? 0 : PL_EIO;
    close (fd);
    return rc;
}

/* Copies data[off, len) to path.torn-<off> and makes it durable. */
static int
s_quarantine (const char *path, const uint8_t *data, size_t off, size_t len)
{
    char qpath[4096];
    snprintf (qpath, sizeof qpath, "%s.torn-%zu", path, off);
    int fd = open (qpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return PL_EIO;
    size_t done = 0;
    while (done < len - off) {
        ssize_t w = write (fd, data + off + done, len - off - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close (fd);
            unlink (qpath);
            return errno == ENOSPC ? PL_ENOSPC : PL_EIO;
        }
        done += (size_t) w;
    }
    int rc = fdatasync (fd) == 0 ? 0 : PL_EIO;
    close (fd);
    return rc;
}

int
pl_audit_seg_recover (const char *path, uint64_t max_cut, bool repair,
                      pl_audit_seg_tail_t *out, char *err, size_t err_len)
{
    memset (out, 0, sizeof *out);
    pl_audit_map_t m;
    int rc = pl_audit_map_open (path, 0, &m);
    if (rc) {
        snprintf (err, err_len, "%s: cannot map: %s", path, strerror (errno));
        return rc;
    }
    rc = pl_audit_seg_header_decode (m.data, m.len, &out->header);
    if (rc) {
        if (rc == PL_ECORRUPT)
            snprintf (err, err_len, "%s: bad segment header", path);
        pl_audit_map_close (&m);
        return rc;
    }
    out->last_seq = out->header.first_seq - 1;
    memcpy (out->last_hash, out->header.prev_hash, PL_AUDIT_HASH_LEN);
    out->last_written_ms = out->header.created_ms;

    size_t pos = PL_AUDIT_SEG_HEADER;
    bool complete_but_bad = false;
    while (pos < m.len) {
        pl_audit_frame_t f;
        const char *what = NULL;
        int prc = pl_audit_frame_parse (m.data + pos, m.len - pos, &f);
        if (prc == 0 && pl_audit_frame_check (&f, &what) != 0)
            complete_but_bad = true;
        if (prc != 0 || complete_but_bad)
            break;
        out->records++;
        out->last_seq = f.seq;
        memcpy (out->last_hash, f.hash, PL_AUDIT_HASH_LEN);
        out->last_written_ms = f.written_ms;
        pos += f.frame_len;
    }
    out->good_len = pos;
    out->cut_len = m.len - pos;
    if (out->cut_len == 0) {
        pl_audit_map_close (&m);
        return 0;
    }
    /* A torn write leaves a partial frame, or zeros where pages never reached the disk, and
     * spans at most one batch; it never leaves a whole frame with a wrong hash. Anything else
     * is damage that verify must report, not something to cut. */
    if (complete_but_bad || out->cut_len > max_cut) {
        snprintf (err, err_len,
                  "%s: damaged at offset %zu (after seq %" PRIu64 "), %" PRIu64
                  " bytes follow: not a torn tail, nothing cut",
                  path, pos, out->last_seq, out->cut_len);
        pl_audit_map_close (&m);
        return PL_ECORRUPT;
    }
    if (!repair) {
        pl_audit_map_close (&m);
        return 0;
    }
    rc = s_quarantine (path, m.data, pos, m.len);
    pl_audit_map_close (&m);
    if (rc) {
        snprintf (err, err_len, "%s: cannot keep the torn tail aside", path);
        return rc;
    }
    int fd = open (path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ftruncate (fd, (off_t) pos) != 0 || fdatasync (fd) != 0) {
        snprintf (err, err_len, "%s: cannot truncate the torn tail: %s", path, strerror (errno));
        if (fd >= 0)
            close (fd);
        return PL_EIO;
    }
    close (fd);
    return 0;
}
