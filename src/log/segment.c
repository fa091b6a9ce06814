/* Segment files: record framing, the sparse offset index, and recovery of a segment on open.
 * The format is described in segment.h and docs/log.md. */
#include "log/segment.h"

#include "attribd/common.h"
#include "attribd/crc32c.h"
#include "attribd/logging.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const uint8_t seg_magic[6] = {'A', 'T', 'D', 'S', 'E', 'G'};

/* Big enough that a scan costs few syscalls, small enough to stay out of the way. */
#define SCAN_CHUNK (1u << 20)

ssize_t atd_pread_full(int fd, void *buf, size_t n, uint64_t pos)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(pos + got));
        if (r < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

int atd_pwrite_full(int fd, const void *buf, size_t n, uint64_t pos)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pwrite(fd, (const char *)buf + done, n - done, (off_t)(pos + done));
        if (r < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        if (r == 0) return -EIO;
        done += (size_t)r;
    }
    return 0;
}

int atd_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -errno;
    int rc = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

char *atd_seg_name(char *buf, size_t n, const char *dir, uint64_t base, const char *ext)
{
    snprintf(buf, n, "%s/%020" PRIu64 ".%s", dir, base, ext);
    return buf;
}

size_t atd_rec_encode(uint8_t *dst, uint64_t offset, const atd_log_record *r)
{
    uint32_t body = (uint32_t)(ATD_REC_HDR - 8 + r->key_len + r->value_len);
    atd_put_le32(dst, body);
    atd_put_le64(dst + 8, offset);
    atd_put_le64(dst + 16, (uint64_t)r->ts);
    atd_put_le32(dst + 24, (uint32_t)r->key_len);
    if (r->key_len) memcpy(dst + ATD_REC_HDR, r->key, r->key_len);
    if (r->value_len) memcpy(dst + ATD_REC_HDR + r->key_len, r->value, r->value_len);
    uint32_t crc = atd_crc32c(atd_crc32c(0, dst, 4), dst + 8, body);
    atd_put_le32(dst + 4, crc);
    return 8 + (size_t)body;
}

int atd_rec_decode(const uint8_t *p, size_t avail, int check_crc, atd_log_record *out,
                   size_t *rec_len)
{
    *rec_len = 0;
    if (avail < 4) return ATD_REC_PARTIAL;
    uint32_t body = atd_get_le32(p);
    if (body < ATD_REC_HDR - 8 || body > ATD_REC_MAX_BODY) return ATD_ECORRUPT;
    size_t total = 8 + (size_t)body;
    *rec_len = total;
    if (avail < total) return ATD_REC_PARTIAL;
    uint32_t key_len = atd_get_le32(p + 24);
    if (key_len > body - (ATD_REC_HDR - 8)) return ATD_ECORRUPT;
    if (check_crc && atd_crc32c(atd_crc32c(0, p, 4), p + 8, body) != atd_get_le32(p + 4))
        return ATD_ECORRUPT;
    out->offset = atd_get_le64(p + 8);
    out->ts = (int64_t)atd_get_le64(p + 16);
    out->key = p + ATD_REC_HDR;
    out->key_len = key_len;
    out->value = p + ATD_REC_HDR + key_len;
    out->value_len = body - (ATD_REC_HDR - 8) - key_len;
    return ATD_REC_OK;
}

/* --- index ---------------------------------------------------------------------------- */

void atd_seg_index_add(atd_seg *s, uint64_t offset, uint64_t pos, int64_t ts_max)
{
    if (s->nidx == s->idx_cap) {
        size_t cap = s->idx_cap ? s->idx_cap * 2 : 64;
        atd_seg_idx *n = realloc(s->idx, cap * sizeof *n);
        if (!n) return; /* the index is only an accelerator: a missing entry costs a scan */
        s->idx = n;
        s->idx_cap = cap;
    }
    atd_seg_idx e = {(uint32_t)(offset - s->base), (uint32_t)pos, ts_max};
    s->idx[s->nidx++] = e;
}

size_t atd_seg_index_encode(const atd_seg *s, size_t from, uint8_t *dst, size_t max)
{
    size_t n = 0;
    for (size_t i = from; i < s->nidx && n < max; i++, n++) {
        atd_put_le32(dst + n * ATD_IDX_ENTRY, s->idx[i].rel);
        atd_put_le32(dst + n * ATD_IDX_ENTRY + 4, s->idx[i].pos);
        atd_put_le64(dst + n * ATD_IDX_ENTRY + 8, (uint64_t)s->idx[i].ts_max);
    }
    return n;
}

void atd_seg_index_write(atd_seg *s)
{
    uint8_t b[256 * ATD_IDX_ENTRY];
    while (s->idx_fd >= 0 && s->nidx_disk < s->nidx) {
        size_t n = atd_seg_index_encode(s, s->nidx_disk, b, 256);
        int rc = atd_pwrite_full(s->idx_fd, b, n * ATD_IDX_ENTRY, s->nidx_disk * ATD_IDX_ENTRY);
        if (rc < 0) { /* it is rebuilt on the next open if it ends up inconsistent */
            ATD_WARN("log: writing the index of %s: %s", s->path, atd_strerror(rc));
            return;
        }
        s->nidx_disk += n;
        s->idx_bytes = s->nidx_disk * ATD_IDX_ENTRY;
    }
}

void atd_seg_reserve(atd_seg *s, uint64_t need, uint64_t limit)
{
    if (need <= s->alloc) return;
    uint64_t to = s->alloc + ATD_SEG_PREALLOC;
    if (to > limit) to = limit;
    if (to < need) to = need;
    if (fallocate(s->fd, FALLOC_FL_KEEP_SIZE, (off_t)s->size, (off_t)(to - s->size)) < 0) {
        int e = errno;
        if (e == EOPNOTSUPP || e == ENOSYS) {
            s->alloc = UINT64_MAX; /* this file system cannot: never ask again */
            return;
        }
        /* ENOSPC and the like: the write itself says whether the bytes fit; try again a step
         * later rather than on every append */
        ATD_WARN("log: reserving space in %s: %s", s->path, strerror(e));
    }
    s->alloc = to;
}

void atd_seg_release(atd_seg *s)
{
    /* truncating to the current size frees the blocks past it (KEEP_SIZE reservations) */
    if (s->alloc > s->size && s->alloc != UINT64_MAX && ftruncate(s->fd, (off_t)s->size) < 0)
        ATD_WARN("log: giving back the space reserved in %s: %s", s->path, strerror(errno));
    s->alloc = s->size;
}

uint64_t atd_seg_index_lookup(const atd_seg *s, uint64_t offset, uint64_t *at)
{
    size_t lo = 0, hi = s->nidx; /* find the last entry with base + rel <= offset */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->base + s->idx[mid].rel <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0) {
        *at = s->base;
        return ATD_SEG_HDR;
    }
    *at = s->base + s->idx[lo - 1].rel;
    return s->idx[lo - 1].pos;
}

/* --- scanning ------------------------------------------------------------------------- */

typedef struct scan_result {
    uint64_t end_pos;  /* position after the last good record */
    uint64_t next_off; /* offset after the last good record */
    int64_t max_ts;
    int bad; /* 0: clean end; 1: a partial record at the end; 2: a corrupt record */
} scan_result;

/* Walks the records from pos (whose record has offset `off`) to file_size, checking framing,
 * offsets and (when check_crc) CRCs, adding index entries every ATD_IDX_INTERVAL bytes. Stops
 * at the first bad record. Returns 0 or -errno (I/O error). */
static int seg_scan(atd_seg *s, uint64_t pos, uint64_t off, int64_t ts_max, uint64_t file_size,
                    int check_crc, scan_result *res)
{
    size_t cap = SCAN_CHUNK, have = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) return -ENOMEM;
    uint64_t bufpos = pos;
    int rc = 0;
    res->bad = 0;
    for (;;) {
        size_t cur = (size_t)(pos - bufpos), rl = 0;
        atd_log_record rec;
        int d = atd_rec_decode(buf + cur, have - cur, check_crc, &rec, &rl);
        if (d == ATD_REC_OK) {
            if (rec.offset != off) {
                res->bad = 2;
                break;
            }
            if (pos - atd_seg_last_indexed_pos(s) >= ATD_IDX_INTERVAL)
                atd_seg_index_add(s, off, pos, ts_max);
            if (rec.ts > ts_max) ts_max = rec.ts;
            pos += rl;
            off++;
            continue;
        }
        if (d < 0) {
            res->bad = 2;
            break;
        }
        /* partial: read more unless the file ends here */
        if (bufpos + have >= file_size) {
            if (pos < file_size) res->bad = 1;
            break;
        }
        memmove(buf, buf + cur, have - cur);
        have -= cur;
        bufpos = pos;
        if (rl > cap) {
            uint8_t *nb = realloc(buf, rl);
            if (!nb) {
                rc = -ENOMEM;
                break;
            }
            buf = nb;
            cap = rl;
        }
        uint64_t left = file_size - (bufpos + have);
        size_t want = cap - have < left ? cap - have : (size_t)left;
        ssize_t got = atd_pread_full(s->fd, buf + have, want, bufpos + have);
        if (got < 0) {
            rc = (int)got;
            break;
        }
        if ((size_t)got < want) file_size = bufpos + have + (size_t)got; /* shrank under us */
        have += (size_t)got;
    }
    free(buf);
    res->end_pos = pos;
    res->next_off = off;
    res->max_ts = ts_max;
    return rc;
}

/* Reads the record header at pos and checks that it carries `offset`. */
static int seg_check_at(const atd_seg *s, uint64_t pos, uint64_t offset)
{
    uint8_t h[ATD_REC_HDR];
    if (atd_pread_full(s->fd, h, sizeof h, pos) != (ssize_t)sizeof h) return 0;
    uint32_t body = atd_get_le32(h);
    return body >= ATD_REC_HDR - 8 && body <= ATD_REC_MAX_BODY && atd_get_le64(h + 8) == offset;
}

/* Loads the .idx into memory; returns 1 if it looks right, 0 when it must be rebuilt. The
 * check is cheap on purpose (ordering, bounds, the first and last entries point at the right
 * records): it runs for every segment on open. */
static int seg_index_load(atd_seg *s, uint64_t file_size)
{
    struct stat st;
    if (fstat(s->idx_fd, &st) < 0) return 0;
    size_t n = (size_t)st.st_size / ATD_IDX_ENTRY; /* a torn last entry is dropped */
    s->idx_bytes = n * ATD_IDX_ENTRY;
    s->nidx_disk = n;
    if (n == 0) return 1;
    uint8_t *b = malloc(n * ATD_IDX_ENTRY);
    s->idx = malloc(n * sizeof *s->idx);
    if (!b || !s->idx) {
        free(b);
        return 0;
    }
    s->idx_cap = n;
    int ok = atd_pread_full(s->idx_fd, b, n * ATD_IDX_ENTRY, 0) == (ssize_t)(n * ATD_IDX_ENTRY);
    for (size_t i = 0; ok && i < n; i++) {
        atd_seg_idx e = {atd_get_le32(b + i * 16), atd_get_le32(b + i * 16 + 4),
                         (int64_t)atd_get_le64(b + i * 16 + 8)};
        uint64_t prev_pos = i ? s->idx[i - 1].pos : ATD_SEG_HDR;
        if (e.pos < prev_pos + ATD_IDX_INTERVAL || e.pos >= file_size ||
            (i && e.rel <= s->idx[i - 1].rel))
            ok = 0;
        s->idx[i] = e;
    }
    free(b);
    s->nidx = n;
    if (ok) ok = seg_check_at(s, s->idx[0].pos, s->base + s->idx[0].rel) &&
                 seg_check_at(s, s->idx[n - 1].pos, s->base + s->idx[n - 1].rel);
    return ok;
}

static void seg_index_reset(atd_seg *s)
{
    s->nidx = s->nidx_disk = 0;
    s->idx_bytes = 0;
    if (s->idx_fd >= 0 && ftruncate(s->idx_fd, 0) < 0)
        ATD_WARN("log: truncating %s.idx: %s", s->path, strerror(errno));
}

static atd_seg *seg_new(const char *dir, uint64_t base)
{
    atd_seg *s = calloc(1, sizeof *s);
    char path[4096];
    if (!s) return NULL;
    s->path = strdup(atd_seg_name(path, sizeof path, dir, base, "log"));
    if (!s->path) {
        free(s);
        return NULL;
    }
    s->base = s->next = base;
    s->max_ts = INT64_MIN;
    s->fd = s->idx_fd = -1;
    return s;
}

void atd_seg_free(atd_seg *s)
{
    if (!s) return;
    if (s->fd >= 0) close(s->fd);
    if (s->idx_fd >= 0) close(s->idx_fd);
    free(s->idx);
    free(s->path);
    free(s);
}

void atd_seg_unlink(atd_seg *s)
{
    char idx[4096];
    snprintf(idx, sizeof idx, "%.*s.idx", (int)(strlen(s->path) - 4), s->path);
    if (unlink(s->path) < 0 && errno != ENOENT)
        ATD_WARN("log: removing %s: %s", s->path, strerror(errno));
    if (unlink(idx) < 0 && errno != ENOENT) ATD_WARN("log: removing %s: %s", idx, strerror(errno));
}

int atd_seg_seal(atd_seg *s)
{
    atd_seg_index_write(s);
    atd_seg_release(s);
    if (fdatasync(s->fd) < 0) return -errno;
    if (s->idx_fd >= 0) {
        close(s->idx_fd);
        s->idx_fd = -1;
    }
    return 0;
}

static void seg_header(uint8_t h[ATD_SEG_HDR], uint64_t base)
{
    memcpy(h, seg_magic, 6);
    h[6] = ATD_SEG_VERSION;
    h[7] = 0;
    atd_put_le64(h + 8, base);
}

int atd_seg_create(const char *dir, uint64_t base, atd_seg **out)
{
    atd_seg *s = seg_new(dir, base);
    char idx[4096];
    uint8_t h[ATD_SEG_HDR];
    int rc;
    if (!s) return -ENOMEM;
    s->fd = open(s->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (s->fd < 0) goto fail_errno;
    s->idx_fd = open(atd_seg_name(idx, sizeof idx, dir, base, "idx"),
                     O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (s->idx_fd < 0) goto fail_errno;
    seg_header(h, base);
    if ((rc = atd_pwrite_full(s->fd, h, sizeof h, 0)) < 0) goto fail;
    if (fdatasync(s->fd) < 0) goto fail_errno;
    if ((rc = atd_fsync_dir(dir)) < 0) goto fail;
    s->size = s->alloc = ATD_SEG_HDR;
    *out = s;
    return 0;
fail_errno:
    rc = -errno;
fail:
    ATD_ERROR("log: creating segment %s: %s", s->path, atd_strerror(rc));
    atd_seg_free(s);
    return rc;
}

int atd_seg_open(const char *dir, uint64_t base, int active, uint64_t next_base, atd_seg **out)
{
    atd_seg *s = seg_new(dir, base);
    char idx[4096];
    uint8_t h[ATD_SEG_HDR], want[ATD_SEG_HDR];
    struct stat st;
    int rc = 0;
    if (!s) return -ENOMEM;
    s->fd = open(s->path, O_RDWR | O_CLOEXEC);
    if (s->fd < 0 || fstat(s->fd, &st) < 0) goto fail_errno;
    uint64_t size = (uint64_t)st.st_size;
    seg_header(want, base);
    if (size < ATD_SEG_HDR && active) {
        /* created but its header never reached the disk: start it again */
        ATD_WARN("log: %s: incomplete segment header (%" PRIu64 " bytes), rewriting it", s->path,
                 size);
        if ((rc = atd_pwrite_full(s->fd, want, sizeof want, 0)) < 0) goto fail;
        if (ftruncate(s->fd, ATD_SEG_HDR) < 0 || fdatasync(s->fd) < 0) goto fail_errno;
        size = ATD_SEG_HDR;
    }
    if (atd_pread_full(s->fd, h, sizeof h, 0) != (ssize_t)sizeof h || memcmp(h, want, 6) != 0 ||
        atd_get_le64(h + 8) != base) {
        ATD_ERROR("log: %s: not a segment of this log (bad header)", s->path);
        rc = ATD_ECORRUPT;
        goto fail;
    }
    if (h[6] != ATD_SEG_VERSION) {
        ATD_ERROR("log: %s: segment format version %u is not supported (this build reads %u)",
                  s->path, h[6], ATD_SEG_VERSION);
        rc = ATD_ECORRUPT;
        goto fail;
    }

    int existed = access(atd_seg_name(idx, sizeof idx, dir, base, "idx"), F_OK) == 0;
    s->idx_fd = open(idx, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (s->idx_fd < 0) goto fail_errno;
    uint64_t from = ATD_SEG_HDR, from_off = base;
    int64_t from_ts = INT64_MIN;
    if (!existed || !seg_index_load(s, size)) {
        if (existed) ATD_WARN("log: %s: index damaged, rebuilding it", idx);
        seg_index_reset(s);
    } else if (s->nidx) {
        from = s->idx[s->nidx - 1].pos;
        from_off = base + s->idx[s->nidx - 1].rel;
        from_ts = s->idx[s->nidx - 1].ts_max;
    }

    /* sealed segments were fdatasynced when they rolled, so only framing is checked there;
     * the active one may end in a torn write and gets its CRCs checked */
    scan_result r;
    if ((rc = seg_scan(s, from, from_off, from_ts, size, active, &r)) < 0) goto fail;
    s->max_ts = r.max_ts;
    if (active) {
        if (r.bad) {
            ATD_WARN("log: %s: %s record at offset %" PRIu64 " (file position %" PRIu64
                     "): truncating, %" PRIu64 " bytes dropped",
                     s->path, r.bad == 1 ? "torn" : "corrupt", r.next_off, r.end_pos,
                     size - r.end_pos);
            if (ftruncate(s->fd, (off_t)r.end_pos) < 0 || fdatasync(s->fd) < 0) goto fail_errno;
        }
        s->size = s->alloc = r.end_pos; /* blocks reserved past it are reserved again */
        s->next = r.next_off;
        atd_seg_index_write(s);
    } else {
        /* keep the damage visible: reads of it return ATD_ECORRUPT instead of skipping */
        if (r.bad || r.end_pos != size || r.next_off != next_base)
            ATD_WARN("log: %s: sealed segment damaged: records end at offset %" PRIu64
                     " (position %" PRIu64 " of %" PRIu64 "), expected offset %" PRIu64
                     "; reads of the damage fail with ATD_ECORRUPT",
                     s->path, r.next_off, r.end_pos, size, next_base);
        s->size = s->alloc = size;
        s->next = next_base;
        atd_seg_index_write(s);
        close(s->idx_fd);
        s->idx_fd = -1;
    }
    *out = s;
    return 0;
fail_errno:
    rc = -errno;
    ATD_ERROR("log: opening segment %s: %s", s->path, atd_strerror(rc));
fail:
    atd_seg_free(s);
    return rc;
}
