/* The event log (DESIGN.md "Interfaces"): topics split in partitions, each an append-only
 * sequence of records numbered by offset (0, 1, 2, ...). Backends: "file" (embedded, segment
 * files; src/log/file_log.c) and later "kafka". Callers use the atd_log_* wrappers below, which
 * go through the backend's vtable.
 *
 * Threads: every call is safe from any thread; appends to one partition are serialized, reads
 * run concurrently with appends. */
#ifndef ATTRIBD_LOG_H
#define ATTRIBD_LOG_H

#include <stddef.h>
#include <stdint.h>

typedef struct atd_log atd_log;

typedef struct atd_log_options {
    const char *dir;          /* file backend: the folder of the log (created if missing) */
    int fsync_always;         /* 1: fsync before an append returns */
    int fsync_interval_ms;    /* else: group commit, fsync at most every N ms (default 10) */
    uint64_t segment_bytes;   /* roll a segment past this size (default 64 MiB) */
    uint64_t retention_bytes; /* per partition, 0 = unlimited: oldest whole segments go first */
    int64_t retention_ms;     /* 0 = unlimited: segments whose newest record is older go */
    const char *brokers;      /* kafka backend */
} atd_log_options;

/* One record. On append the caller owns key/value (copied before the call returns). On read
 * the pointers are valid only during the callback. */
typedef struct atd_log_record {
    uint64_t offset; /* set by read; ignored on append */
    int64_t ts;      /* ms since the epoch; the producer's */
    const void *key;
    size_t key_len;
    const void *value;
    size_t value_len;
} atd_log_record;

/* Read callback: return 0 to go on, non-zero to stop the read after this record. */
typedef int (*atd_log_read_cb)(void *ud, const atd_log_record *rec);

typedef struct atd_log_ops {
    const char *name;
    int (*open)(const atd_log_options *opt, atd_log **out);
    void (*close)(atd_log *log); /* syncs, then frees */
    /* Creates the topic with `partitions` partitions when it does not exist; returns the number
     * of partitions it has (>= 1) or a negative error. */
    int (*topic_ensure)(atd_log *log, const char *topic, int partitions);
    /* Appends n records to one partition, atomically in order; *first_offset (may be NULL) gets
     * the offset of the first. When it returns 0 the records survive a crash of the process
     * (they are written); with fsync_always they also survive a crash of the machine. */
    int (*append)(atd_log *log, const char *topic, int partition, const atd_log_record *recs,
                  size_t n, uint64_t *first_offset);
    /* Calls cb for records from offset `from` on (or from the oldest retained one, if `from` was
     * removed by retention), at most max_records. Returns the number delivered (0 at the end) or
     * a negative error. A record that fails its CRC yields ATD_ECORRUPT. */
    int (*read)(atd_log *log, const char *topic, int partition, uint64_t from,
                size_t max_records, atd_log_read_cb cb, void *ud);
    /* Blocks until the partition has a record at `offset` or timeout_ms passes; returns 1 when
     * there is one, 0 on timeout. */
    int (*wait)(atd_log *log, const char *topic, int partition, uint64_t offset, int timeout_ms);
    /* The offset the next append will get (end), the oldest retained (start), and the durable
     * watermark (every offset below it is fsynced). */
    int (*offsets)(atd_log *log, const char *topic, int partition, uint64_t *start, uint64_t *end,
                   uint64_t *durable);
    /* Consumer groups: the next offset to read for (group, topic, partition). `committed`
     * returns ATD_ENOTFOUND when the group never committed (start at 0). */
    int (*commit)(atd_log *log, const char *group, const char *topic, int partition,
                  uint64_t next_offset);
    int (*committed)(atd_log *log, const char *group, const char *topic, int partition,
                     uint64_t *next_offset);
    int (*sync)(atd_log *log); /* fsyncs all that is written */
    /* Bytes on disk of the topic (all partitions), for metrics. */
    int64_t (*disk_bytes)(atd_log *log, const char *topic);
} atd_log_ops;

/* Every backend's handle starts with this. */
struct atd_log {
    const atd_log_ops *ops;
};

/* Backends are registered by name; "file" is built in. */
const atd_log_ops *atd_log_backend(const char *name);
int atd_log_open(const char *backend, const atd_log_options *opt, atd_log **out);

/* Which partition of n a key goes to (a stable hash: the same in every process). */
int atd_log_partition_for(const void *key, size_t key_len, int n_partitions);

static inline void atd_log_close(atd_log *l) { l->ops->close(l); }
static inline int atd_log_topic_ensure(atd_log *l, const char *t, int parts)
{
    return l->ops->topic_ensure(l, t, parts);
}
static inline int atd_log_append(atd_log *l, const char *t, int p, const atd_log_record *r,
                                 size_t n, uint64_t *first)
{
    return l->ops->append(l, t, p, r, n, first);
}
static inline int atd_log_read(atd_log *l, const char *t, int p, uint64_t from, size_t max,
                               atd_log_read_cb cb, void *ud)
{
    return l->ops->read(l, t, p, from, max, cb, ud);
}
static inline int atd_log_wait(atd_log *l, const char *t, int p, uint64_t off, int timeout_ms)
{
    return l->ops->wait(l, t, p, off, timeout_ms);
}
static inline int atd_log_offsets(atd_log *l, const char *t, int p, uint64_t *start,
                                  uint64_t *end, uint64_t *durable)
{
    return l->ops->offsets(l, t, p, start, end, durable);
}
static inline int atd_log_commit(atd_log *l, const char *g, const char *t, int p, uint64_t next)
{
    return l->ops->commit(l, g, t, p, next);
}
static inline int atd_log_committed(atd_log *l, const char *g, const char *t, int p,
                                    uint64_t *next)
{
    return l->ops->committed(l, g, t, p, next);
}
static inline int atd_log_sync(atd_log *l) { return l->ops->sync(l); }

/* Topic names used by the services. */
#define ATD_TOPIC_EVENTS "events"
#define ATD_TOPIC_RESULTS "results"
#define ATD_TOPIC_DEADLETTER "deadletter"

#endif
