/* Segment files of the file log (docs/log.md "On-disk format"). Internal to src/log/.
 *
 * A partition is a folder of segments, each named by the offset of its first record:
 *   00000000000000000000.log   header (16 bytes) + records
 *   00000000000000000000.idx   sparse index: one 16-byte entry every ~4 KiB of log
 *
 * Segment header: "ATDSEG" | version u8 (1) | reserved u8 | base offset u64.
 * Record: len u32 | crc u32 | offset u64 | ts i64 | key_len u32 | key | value
 *   len counts the bytes after the crc field (so a record is 8 + len bytes);
 *   crc is CRC32C over the len field and then those len bytes.
 * Index entry: rel u32 (offset - base) | pos u32 (file position of that record) |
 *   ts_max i64 (the largest ts of the records before pos; INT64_MIN if none).
 * Every integer is little-endian.
 *
 * Locking: segment structs belong to a partition and are guarded by its mutex, except the
 * immutable fields (base, fd, path) and reads of bytes below a size published under the lock. */
#ifndef ATTRIBD_LOG_SEGMENT_H
#define ATTRIBD_LOG_SEGMENT_H

#include "attribd/log.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ATD_SEG_HDR 16u
#define ATD_SEG_VERSION 1u
#define ATD_REC_HDR 28u                 /* len, crc, offset, ts, key_len */
#define ATD_REC_MAX_BODY (64u << 20)    /* a record's len field never exceeds this */
#define ATD_IDX_INTERVAL 4096u          /* an index entry every this many bytes of log */
#define ATD_IDX_ENTRY 16u
#define ATD_SEG_MAX_BYTES (1ull << 30)  /* segment_bytes is clamped to this */
#define ATD_SEG_PREALLOC (64ull << 20)  /* blocks reserved ahead of the appends, per step */

typedef struct atd_seg_idx {
    uint32_t rel, pos;
    int64_t ts_max;
} atd_seg_idx;

typedef struct atd_seg {
    uint64_t base;  /* offset of the first record (also in the name) */
    uint64_t next;  /* offset after the last record */
    uint64_t size;  /* bytes of the .log that hold complete records (published) */
    int64_t max_ts; /* the largest record ts, INT64_MIN when empty */
    int fd;         /* the .log, O_RDWR */
    int idx_fd;     /* the .idx, O_RDWR; -1 once sealed */
    atd_seg_idx *idx;
    size_t nidx, idx_cap;
    uint64_t idx_bytes; /* size of the .idx file */
    size_t nidx_disk;   /* entries [0, nidx_disk) are in the .idx file */
    uint64_t alloc;     /* .log blocks are reserved (fallocate) up to this position */
    int refs;           /* readers and the flusher holding it; freed at 0 once dead */
    int dead;           /* removed by retention: free when refs drops to 0 */
    char *path;         /* malloc'd path of the .log; the .idx is the same with ".idx" */
} atd_seg;

/* The result of decoding one record in a buffer. */
enum { ATD_REC_PARTIAL = 0, ATD_REC_OK = 1 };

/* Bytes a record takes on disk. */
static inline size_t atd_rec_size(const atd_log_record *r)
{
    return ATD_REC_HDR + r->key_len + r->value_len;
}
/* Writes the record with `offset` into dst (atd_rec_size bytes); returns that size. */
size_t atd_rec_encode(uint8_t *dst, uint64_t offset, const atd_log_record *r);
/* Decodes the record at p (avail bytes there). Returns ATD_REC_OK and fills *out (pointers into
 * p) and *rec_len, ATD_REC_PARTIAL when avail does not hold all of it (*rec_len is then the
 * bytes needed, or 0 when even the header is incomplete), or ATD_ECORRUPT when the framing is
 * impossible or (when check_crc) the CRC fails. */
int atd_rec_decode(const uint8_t *p, size_t avail, int check_crc, atd_log_record *out,
                   size_t *rec_len);

/* Creates an empty segment `base` in folder dir (header written, folder fsynced). */
int atd_seg_create(const char *dir, uint64_t base, atd_seg **out);
/* Opens an existing segment and its index (rebuilt when missing or damaged). For the last
 * segment of a partition (`active`), scans the records after the last index entry, checks
 * their CRCs and truncates a torn or corrupt tail (ATD_WARN with file, offset, bytes dropped).
 * `next_base` is the following segment's base (sealed ones) for a consistency check. */
int atd_seg_open(const char *dir, uint64_t base, int active, uint64_t next_base, atd_seg **out);
/* Closes the files and frees s. */
void atd_seg_free(atd_seg *s);
/* Removes the segment's files (it stays usable through the open fd until freed). */
void atd_seg_unlink(atd_seg *s);
/* Seals the segment: writes the rest of its index, gives back the reserved blocks past its
 * end, fdatasyncs it, closes the index fd. */
int atd_seg_seal(atd_seg *s);

/* Adds an index entry in memory only; atd_seg_index_write (or the flusher, file_log.c) puts it
 * on disk later, so that an append makes no second write. */
void atd_seg_index_add(atd_seg *s, uint64_t offset, uint64_t pos, int64_t ts_max);
/* Encodes entries [from, s->nidx) into dst (16 bytes each, at most max entries); returns the
 * count encoded. */
size_t atd_seg_index_encode(const atd_seg *s, size_t from, uint8_t *dst, size_t max);
/* Writes the entries not yet in the .idx file (a no-op when it is closed). A failed write is
 * only logged: the index can always be rebuilt by a scan. The caller owns s (or holds its
 * partition's mutex). */
void atd_seg_index_write(atd_seg *s);
/* Reserves the .log's blocks up to at least `need` (fallocate with FALLOC_FL_KEEP_SIZE, in
 * steps of ATD_SEG_PREALLOC, never past `limit` unless need is past it) so that appends fill
 * reserved blocks instead of allocating them; the file size stays the data end. Failures
 * (unsupported, ENOSPC) are not errors: the write allocates as it would without. */
void atd_seg_reserve(atd_seg *s, uint64_t need, uint64_t limit);
/* Gives back the blocks reserved past the data end (s->size). */
void atd_seg_release(atd_seg *s);
/* The file position from which to scan for `offset` (the last index entry at or before it);
 * *at gets the offset of the record found there. */
uint64_t atd_seg_index_lookup(const atd_seg *s, uint64_t offset, uint64_t *at);
/* Position of the last index entry (or the header end) */
static inline uint64_t atd_seg_last_indexed_pos(const atd_seg *s)
{
    return s->nidx ? s->idx[s->nidx - 1].pos : ATD_SEG_HDR;
}

/* "%020llu" file name of a segment base into buf; returns buf. */
char *atd_seg_name(char *buf, size_t n, const char *dir, uint64_t base, const char *ext);

static inline void atd_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}
static inline void atd_put_le64(uint8_t *p, uint64_t v)
{
    atd_put_le32(p, (uint32_t)v);
    atd_put_le32(p + 4, (uint32_t)(v >> 32));
}
static inline uint32_t atd_get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t atd_get_le64(const uint8_t *p)
{
    return (uint64_t)atd_get_le32(p) | (uint64_t)atd_get_le32(p + 4) << 32;
}

/* pread/pwrite of all n bytes (retrying short transfers and EINTR): 0, -errno, or for
 * pread_full the count read when the file ends first. */
ssize_t atd_pread_full(int fd, void *buf, size_t n, uint64_t pos);
int atd_pwrite_full(int fd, const void *buf, size_t n, uint64_t pos);
/* fsyncs a folder so that names created or removed in it are durable. */
int atd_fsync_dir(const char *dir);

#endif
