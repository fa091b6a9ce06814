/* The "file" backend of the event log: topics are folders, partitions are folders of segment
 * files (segment.h), consumer groups are small files (groups.h). docs/log.md has the design.
 *
 * Threads: each partition has one mutex taken by appends (one pwrite of the whole batch under
 * it), and briefly by readers to find a segment and the published end; the bytes themselves
 * are read without the lock. A flusher thread group-commits (fdatasync) dirty partitions every
 * fsync_interval_ms and applies retention. Topics are only added while the log is open, so
 * their array is published with an atomic count and looked up without a lock. */
#include "attribd/common.h"
#include "attribd/crc32c.h"
#include "attribd/log.h"
#include "attribd/logging.h"
#include "log/file_log.h"
#include "log/groups.h"
#include "log/segment.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_TOPICS 256
#define MAX_PARTITIONS 1024
#define MAX_BATCH_BYTES (256u << 20) /* keeps file positions inside the index's u32 */
#define READ_CHUNK (1u << 20)        /* reads pull this much per pread */
#define READ_POOL 8                  /* idle read buffers kept for reuse */
#define WBUF_KEEP (1u << 20)         /* an append buffer larger than this is not kept */
#define RETENTION_EVERY_MS 1000

typedef struct part {
    pthread_mutex_t mu;
    pthread_cond_t grew; /* broadcast by append; CLOCK_MONOTONIC */
    char *dir;
    atd_seg **segs; /* oldest first; the last one is active (appended to) */
    size_t nseg, seg_cap;
    uint64_t start, end, durable;
    uint64_t bytes;  /* sum of the segments' sizes */
    uint8_t *wbuf;   /* append scratch */
    size_t wcap;
} part;

typedef struct topic {
    char *name;
    int nparts;
    part *parts;
} topic;

typedef struct file_log {
    atd_log base;
    atd_log_options opt;
    char *dir;
    int lock_fd;
    pthread_mutex_t mu; /* topic creation */
    topic *topics[MAX_TOPICS];
    int ntopics; /* published with release, read with acquire */
    atd_groups *groups;

    pthread_t flusher;
    int flusher_running;
    pthread_mutex_t fl_mu;
    pthread_cond_t fl_cond;
    int stop;

    pthread_mutex_t pool_mu;
    uint8_t *pool[READ_POOL];
    int npool;
} file_log;

static const atd_log_ops file_ops;

/* --- small helpers ---------------------------------------------------------------------- */

static char *path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = malloc(la + lb + 2);
    if (!p) return NULL;
    memcpy(p, a, la);
    p[la] = '/';
    memcpy(p + la + 1, b, lb + 1);
    return p;
}

static int mkdir_p(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return ATD_EINVAL;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != 0) continue;
        char c = buf[i];
        buf[i] = 0;
        if (mkdir(buf, 0755) < 0 && errno != EEXIST) return -errno;
        buf[i] = c;
    }
    return 0;
}

static void rm_rf(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
            char *p = path_join(path, de->d_name);
            if (!p) continue;
            rm_rf(p);
            free(p);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static struct timespec deadline_after(int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static void cond_init_mono(pthread_cond_t *c)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
}

static topic *topic_get(file_log *fl, const char *name)
{
    int n = __atomic_load_n(&fl->ntopics, __ATOMIC_ACQUIRE);
    if (!name) return NULL;
    for (int i = 0; i < n; i++)
        if (strcmp(fl->topics[i]->name, name) == 0) return fl->topics[i];
    return NULL;
}

/* The partition, or NULL with *err set (ATD_ENOTFOUND: no topic; ATD_EINVAL: no partition). */
static part *part_get(file_log *fl, const char *name, int partition, int *err)
{
    topic *t = topic_get(fl, name);
    if (!t) {
        *err = ATD_ENOTFOUND;
        return NULL;
    }
    if (partition < 0 || partition >= t->nparts) {
        *err = ATD_EINVAL;
        return NULL;
    }
    return &t->parts[partition];
}

static atd_seg *part_active(part *p) { return p->segs[p->nseg - 1]; }

/* Drops a reference taken under p->mu; the caller holds p->mu. */
static void seg_unref(atd_seg *s)
{
    if (--s->refs == 0 && s->dead) atd_seg_free(s);
}

static int part_push_seg(part *p, atd_seg *s)
{
    if (p->nseg == p->seg_cap) {
        size_t cap = p->seg_cap ? p->seg_cap * 2 : 8;
        atd_seg **n = realloc(p->segs, cap * sizeof *n);
        if (!n) return -ENOMEM;
        p->segs = n;
        p->seg_cap = cap;
    }
    p->segs[p->nseg++] = s;
    p->bytes += s->size;
    return 0;
}

/* --- retention, roll, sync --------------------------------------------------------------- */

/* Deletes whole oldest segments over the size or age limit, never the active one. The caller
 * holds p->mu. Readers holding a segment keep its (unlinked) file open until they let go. */
static void part_retention(file_log *fl, part *p, int64_t now_ms)
{
    while (p->nseg > 1) {
        atd_seg *s = p->segs[0];
        int by_size = fl->opt.retention_bytes && p->bytes > fl->opt.retention_bytes;
        int by_time = fl->opt.retention_ms > 0 &&
                      (s->max_ts == INT64_MIN || s->max_ts < now_ms - fl->opt.retention_ms);
        if (!by_size && !by_time) break;
        ATD_DEBUG("log: retention (%s) removes %s", by_size ? "size" : "time", s->path);
        memmove(p->segs, p->segs + 1, (p->nseg - 1) * sizeof *p->segs);
        p->nseg--;
        p->bytes -= s->size;
        p->start = p->segs[0]->base;
        atd_seg_unlink(s);
        s->dead = 1;
        if (s->refs == 0) atd_seg_free(s);
    }
}

/* Seals the active segment and starts a new one at p->end. The caller holds p->mu. */
static int part_roll(file_log *fl, part *p)
{
    atd_seg *old = part_active(p), *s;
    int rc = atd_seg_seal(old);
    if (rc < 0) {
        ATD_ERROR("log: syncing %s before rolling: %s", old->path, atd_strerror(rc));
        return rc;
    }
    if (p->durable < p->end) p->durable = p->end; /* everything so far is in synced files */
    if ((rc = atd_seg_create(p->dir, p->end, &s)) < 0) return rc;
    if ((rc = part_push_seg(p, s)) < 0) {
        atd_seg_unlink(s);
        atd_seg_free(s);
        return rc;
    }
    part_retention(fl, p, atd_now_ms());
    return 0;
}

/* Writes the active segment's index entries [those on disk, upto) to its .idx, out of the
 * append path (appends only add entries in memory). The write runs without the partition lock,
 * through a dup of the descriptor: a roll may seal the segment and close its .idx meanwhile
 * (after writing the same entries itself: identical bytes at identical positions). */
static void part_index_flush(part *p, uint64_t base, size_t upto)
{
    uint8_t b[256 * ATD_IDX_ENTRY];
    for (;;) {
        pthread_mutex_lock(&p->mu);
        atd_seg *s = part_active(p);
        if (s->base != base || s->idx_fd < 0 || s->nidx_disk >= upto || s->nidx_disk >= s->nidx) {
            pthread_mutex_unlock(&p->mu);
            return;
        }
        size_t from = s->nidx_disk, want = upto - from < 256 ? upto - from : 256;
        size_t n = atd_seg_index_encode(s, from, b, want);
        int fd = fcntl(s->idx_fd, F_DUPFD_CLOEXEC, 0);
        int rc = fd < 0 ? -errno : 0;
        s->refs++;
        pthread_mutex_unlock(&p->mu);
        if (rc == 0) rc = atd_pwrite_full(fd, b, n * ATD_IDX_ENTRY, from * ATD_IDX_ENTRY);
        if (fd >= 0) close(fd);
        pthread_mutex_lock(&p->mu);
        if (rc == 0 && s->nidx_disk >= from && s->nidx_disk < from + n) {
            s->nidx_disk = from + n;
            s->idx_bytes = s->nidx_disk * ATD_IDX_ENTRY;
        }
        if (rc < 0) /* rebuilt by a scan on the next open if it ends up inconsistent */
            ATD_WARN("log: writing the index of %s: %s", s->path, atd_strerror(rc));
        seg_unref(s);
        pthread_mutex_unlock(&p->mu);
        if (rc < 0) return;
    }
}

/* fdatasyncs what is written to the partition and moves its durable watermark, then writes the
 * index entries of the records it made durable. The fsync runs without the lock so appends go
 * on meanwhile. */
static int part_sync(part *p)
{
    pthread_mutex_lock(&p->mu);
    atd_seg *s = part_active(p);
    uint64_t base = s->base;
    size_t idx_upto = s->nidx; /* entries of records written by now */
    if (p->durable >= p->end) {
        pthread_mutex_unlock(&p->mu);
        part_index_flush(p, base, idx_upto);
        return 0;
    }
    uint64_t target = p->end;
    s->refs++;
    pthread_mutex_unlock(&p->mu);
    /* segments before s were synced when they were sealed */
    int rc = fdatasync(s->fd) < 0 ? -errno : 0;
    if (rc < 0) ATD_ERROR("log: fdatasync %s: %s", s->path, atd_strerror(rc));
    pthread_mutex_lock(&p->mu);
    if (rc == 0 && p->durable < target) p->durable = target;
    seg_unref(s);
    pthread_mutex_unlock(&p->mu);
    if (rc == 0) part_index_flush(p, base, idx_upto);
    return rc;
}

static void *flusher_main(void *arg)
{
    file_log *fl = arg;
    int interval = fl->opt.fsync_always ? RETENTION_EVERY_MS : fl->opt.fsync_interval_ms;
    int64_t last_retention = atd_mono_ms();
    pthread_mutex_lock(&fl->fl_mu);
    while (!fl->stop) {
        struct timespec dl = deadline_after(interval);
        pthread_cond_timedwait(&fl->fl_cond, &fl->fl_mu, &dl);
        if (fl->stop) break;
        pthread_mutex_unlock(&fl->fl_mu);
        int n = __atomic_load_n(&fl->ntopics, __ATOMIC_ACQUIRE);
        int retention = atd_mono_ms() - last_retention >= RETENTION_EVERY_MS;
        int64_t now = atd_now_ms();
        for (int i = 0; i < n; i++) {
            topic *t = fl->topics[i];
            for (int j = 0; j < t->nparts; j++) {
                /* with fsync_always the appends sync; part_sync then only writes the index */
                part_sync(&t->parts[j]);
                if (retention && (fl->opt.retention_bytes || fl->opt.retention_ms > 0)) {
                    pthread_mutex_lock(&t->parts[j].mu);
                    part_retention(fl, &t->parts[j], now);
                    pthread_mutex_unlock(&t->parts[j].mu);
                }
            }
        }
        if (retention) last_retention = atd_mono_ms();
        pthread_mutex_lock(&fl->fl_mu);
    }
    pthread_mutex_unlock(&fl->fl_mu);
    return NULL;
}

/* --- opening ----------------------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Parses "%020llu.log" names. */
static int seg_base_of(const char *name, uint64_t *base)
{
    if (strlen(name) != 24 || strcmp(name + 20, ".log") != 0) return 0;
    uint64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9') return 0;
        v = v * 10 + (uint64_t)(name[i] - '0');
    }
    *base = v;
    return 1;
}

static void part_free(part *p)
{
    if (p->nseg) { /* a clean close: the index on disk, no blocks held past the end */
        atd_seg_index_write(part_active(p));
        atd_seg_release(part_active(p));
    }
    for (size_t i = 0; i < p->nseg; i++) atd_seg_free(p->segs[i]);
    free(p->segs);
    free(p->wbuf);
    free(p->dir);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->grew);
}

/* Loads a partition folder: every segment, recovering the last. */
static int part_load(part *p, const char *dir)
{
    pthread_mutex_init(&p->mu, NULL);
    cond_init_mono(&p->grew);
    if (!(p->dir = strdup(dir))) return -ENOMEM;
    DIR *d = opendir(dir);
    if (!d) return -errno;
    uint64_t *bases = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        uint64_t b;
        if (!seg_base_of(de->d_name, &b)) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            uint64_t *nb = realloc(bases, cap * sizeof *nb);
            if (!nb) {
                rc = -ENOMEM;
                break;
            }
            bases = nb;
        }
        bases[n++] = b;
    }
    closedir(d);
    if (rc == 0 && n) qsort(bases, n, sizeof *bases, cmp_u64);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        atd_seg *s;
        int active = i + 1 == n;
        rc = atd_seg_open(dir, bases[i], active, active ? 0 : bases[i + 1], &s);
        if (rc == 0 && (rc = part_push_seg(p, s)) < 0) atd_seg_free(s);
    }
    free(bases);
    if (rc == 0 && p->nseg == 0) { /* a partition folder whose segment was never created */
        atd_seg *s;
        if ((rc = atd_seg_create(dir, 0, &s)) == 0 && (rc = part_push_seg(p, s)) < 0)
            atd_seg_free(s);
    }
    if (rc < 0) return rc;
    atd_seg *a = part_active(p);
    p->start = p->segs[0]->base;
    p->end = a->next;
    /* what survived a crash of the process may still be only in the page cache */
    if (fdatasync(a->fd) < 0) return -errno;
    p->durable = p->end;
    return 0;
}

static void topic_free(topic *t)
{
    if (!t) return;
    for (int i = 0; i < t->nparts; i++) part_free(&t->parts[i]);
    free(t->parts);
    free(t->name);
    free(t);
}

/* Loads DIR/NAME, whose partitions are the folders 0..n-1. */
static int topic_load(file_log *fl, const char *name, topic **out)
{
    char *tdir = path_join(fl->dir, name);
    topic *t = calloc(1, sizeof *t);
    int rc = 0, n = 0;
    if (!tdir || !t || !(t->name = strdup(name))) {
        rc = -ENOMEM;
        goto done;
    }
    DIR *d = opendir(tdir);
    if (!d) {
        rc = -errno;
        goto done;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        char *e;
        long v = strtol(de->d_name, &e, 10);
        if (de->d_name[0] >= '0' && de->d_name[0] <= '9' && *e == 0 && v >= 0 &&
            v < MAX_PARTITIONS)
            n = (int)v + 1 > n ? (int)v + 1 : n;
    }
    closedir(d);
    if (n == 0) {
        ATD_ERROR("log: topic folder %s has no partitions", tdir);
        rc = ATD_ECORRUPT;
        goto done;
    }
    if (!(t->parts = calloc((size_t)n, sizeof *t->parts))) {
        rc = -ENOMEM;
        goto done;
    }
    for (int i = 0; i < n && rc == 0; i++) {
        char pdir[4096];
        snprintf(pdir, sizeof pdir, "%s/%d", tdir, i);
        t->nparts = i + 1;
        rc = part_load(&t->parts[i], pdir);
        if (rc < 0) ATD_ERROR("log: loading partition %s: %s", pdir, atd_strerror(rc));
    }
done:
    free(tdir);
    if (rc < 0) {
        topic_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

static int topics_load(file_log *fl)
{
    DIR *d = opendir(fl->dir);
    if (!d) return -errno;
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        if (strncmp(de->d_name, ".tmp-", 5) == 0) { /* a topic_ensure that crashed */
            char *p = path_join(fl->dir, de->d_name);
            if (p) rm_rf(p);
            free(p);
            continue;
        }
        if (!atd_log_name_ok(de->d_name) || strcmp(de->d_name, "LOCK") == 0) continue;
        char *p = path_join(fl->dir, de->d_name);
        struct stat st;
        int isdir = p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
        free(p);
        if (!isdir) continue;
        if (fl->ntopics == MAX_TOPICS) {
            rc = ATD_ETOOBIG;
            break;
        }
        topic *t;
        if ((rc = topic_load(fl, de->d_name, &t)) == 0) fl->topics[fl->ntopics++] = t;
    }
    closedir(d);
    return rc;
}

static void fl_free(file_log *fl)
{
    for (int i = 0; i < fl->ntopics; i++) topic_free(fl->topics[i]);
    atd_groups_free(fl->groups);
    for (int i = 0; i < fl->npool; i++) free(fl->pool[i]);
    if (fl->lock_fd >= 0) close(fl->lock_fd); /* releases the flock */
    pthread_mutex_destroy(&fl->mu);
    pthread_mutex_destroy(&fl->fl_mu);
    pthread_cond_destroy(&fl->fl_cond);
    pthread_mutex_destroy(&fl->pool_mu);
    free(fl->dir);
    free(fl);
}

static int fl_open(const atd_log_options *opt, atd_log **out)
{
    /* 3000: room left in PATH_MAX-sized buffers for topic/partition/segment names */
    if (!opt || !opt->dir || !*opt->dir || strlen(opt->dir) > 3000 || !out) return ATD_EINVAL;
    file_log *fl = calloc(1, sizeof *fl);
    int rc;
    if (!fl) return -ENOMEM;
    fl->base.ops = &file_ops;
    fl->opt = *opt;
    fl->opt.dir = NULL; /* not kept: the caller owns it */
    fl->opt.brokers = NULL;
    if (fl->opt.fsync_interval_ms <= 0) fl->opt.fsync_interval_ms = 10;
    if (fl->opt.segment_bytes == 0) fl->opt.segment_bytes = 64ull << 20;
    if (fl->opt.segment_bytes > ATD_SEG_MAX_BYTES) fl->opt.segment_bytes = ATD_SEG_MAX_BYTES;
    fl->lock_fd = -1;
    pthread_mutex_init(&fl->mu, NULL);
    pthread_mutex_init(&fl->fl_mu, NULL);
    cond_init_mono(&fl->fl_cond);
    pthread_mutex_init(&fl->pool_mu, NULL);
    if (!(fl->dir = strdup(opt->dir))) {
        rc = -ENOMEM;
        goto fail;
    }
    if ((rc = mkdir_p(fl->dir)) < 0) {
        ATD_ERROR("log: creating %s: %s", fl->dir, atd_strerror(rc));
        goto fail;
    }
    /* two processes appending to the same files would interleave garbage */
    char *lock = path_join(fl->dir, "LOCK");
    fl->lock_fd = lock ? open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644) : -1;
    free(lock);
    if (fl->lock_fd < 0 || flock(fl->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
        ATD_ERROR("log: %s is in use by another log handle or process: %s", fl->dir,
                  atd_strerror(rc));
        goto fail;
    }
    char *gdir = path_join(fl->dir, "__groups");
    rc = gdir ? atd_groups_open(gdir, &fl->groups) : -ENOMEM;
    free(gdir);
    if (rc < 0) goto fail;
    if ((rc = topics_load(fl)) < 0) goto fail;
    if (pthread_create(&fl->flusher, NULL, flusher_main, fl) != 0) {
        rc = -EAGAIN;
        goto fail;
    }
    fl->flusher_running = 1;
    *out = &fl->base;
    return 0;
fail:
    fl_free(fl);
    return rc;
}

static int fl_sync(atd_log *l)
{
    file_log *fl = (file_log *)l;
    int n = __atomic_load_n(&fl->ntopics, __ATOMIC_ACQUIRE), rc = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < fl->topics[i]->nparts; j++) {
            int r = part_sync(&fl->topics[i]->parts[j]);
            if (r < 0 && rc == 0) rc = r;
        }
    return rc;
}

static void fl_close(atd_log *l)
{
    file_log *fl = (file_log *)l;
    if (!fl) return;
    if (fl->flusher_running) {
        pthread_mutex_lock(&fl->fl_mu);
        fl->stop = 1;
        pthread_cond_signal(&fl->fl_cond);
        pthread_mutex_unlock(&fl->fl_mu);
        pthread_join(fl->flusher, NULL);
    }
    fl_sync(l);
    fl_free(fl);
}

/* --- topics ------------------------------------------------------------------------------ */

static int fl_topic_ensure(atd_log *l, const char *name, int partitions)
{
    file_log *fl = (file_log *)l;
    if (!atd_log_name_ok(name) || strcmp(name, "LOCK") == 0 || partitions < 1 ||
        partitions > MAX_PARTITIONS)
        return ATD_EINVAL;
    topic *t = topic_get(fl, name);
    if (t) return t->nparts;
    pthread_mutex_lock(&fl->mu);
    int rc = 0;
    if ((t = topic_get(fl, name))) { /* created meanwhile */
        rc = t->nparts;
        goto out;
    }
    if (fl->ntopics == MAX_TOPICS) {
        rc = ATD_ETOOBIG;
        goto out;
    }
    /* built under a temporary name and renamed, so a crash never leaves half a topic */
    char tmp[4096], final[4096];
    snprintf(tmp, sizeof tmp, "%s/.tmp-%s", fl->dir, name);
    snprintf(final, sizeof final, "%s/%s", fl->dir, name);
    rm_rf(tmp);
    if (mkdir(tmp, 0755) < 0) {
        rc = -errno;
        goto out;
    }
    for (int i = 0; i < partitions && rc == 0; i++) {
        char pdir[sizeof tmp + 16];
        atd_seg *s;
        snprintf(pdir, sizeof pdir, "%s/%d", tmp, i);
        if (mkdir(pdir, 0755) < 0)
            rc = -errno;
        else if ((rc = atd_seg_create(pdir, 0, &s)) == 0)
            atd_seg_free(s);
    }
    if (rc == 0 && (rc = atd_fsync_dir(tmp)) == 0 && rename(tmp, final) < 0) rc = -errno;
    if (rc == 0) rc = atd_fsync_dir(fl->dir);
    if (rc == 0) rc = topic_load(fl, name, &t);
    if (rc == 0) {
        fl->topics[fl->ntopics] = t;
        __atomic_store_n(&fl->ntopics, fl->ntopics + 1, __ATOMIC_RELEASE);
        rc = t->nparts;
    } else {
        ATD_ERROR("log: creating topic %s in %s: %s", name, fl->dir, atd_strerror(rc));
        rm_rf(tmp);
    }
out:
    pthread_mutex_unlock(&fl->mu);
    return rc;
}

/* --- append ------------------------------------------------------------------------------ */

static int fl_append(atd_log *l, const char *name, int partition, const atd_log_record *recs,
                     size_t n, uint64_t *first_offset)
{
    file_log *fl = (file_log *)l;
    int rc = 0;
    part *p = part_get(fl, name, partition, &rc);
    if (!p) return rc;
    if (n && !recs) return ATD_EINVAL;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        const atd_log_record *r = &recs[i];
        if ((!r->key && r->key_len) || (!r->value && r->value_len)) return ATD_EINVAL;
        if (r->key_len > ATD_REC_MAX_BODY || r->value_len > ATD_REC_MAX_BODY ||
            atd_rec_size(r) - 8 > ATD_REC_MAX_BODY)
            return ATD_ETOOBIG;
        total += atd_rec_size(r);
        if (total > MAX_BATCH_BYTES) return ATD_ETOOBIG;
    }

    pthread_mutex_lock(&p->mu);
    uint64_t first = p->end;
    if (n == 0) goto out;
    atd_seg *s = part_active(p);
    if (s->size > ATD_SEG_HDR && s->size + total > fl->opt.segment_bytes) {
        if ((rc = part_roll(fl, p)) < 0) goto out;
        s = part_active(p);
    }
    if (p->wcap < total) {
        size_t cap = total > 65536 ? total : 65536;
        uint8_t *nb = malloc(cap);
        if (!nb) {
            rc = -ENOMEM;
            goto out;
        }
        free(p->wbuf);
        p->wbuf = nb;
        p->wcap = cap;
    }
    size_t at = 0;
    for (size_t i = 0; i < n; i++) at += atd_rec_encode(p->wbuf + at, first + i, &recs[i]);
    /* the write fills blocks reserved ahead instead of allocating them (docs/log.md) */
    atd_seg_reserve(s, s->size + total, fl->opt.segment_bytes);
    if ((rc = atd_pwrite_full(s->fd, p->wbuf, total, s->size)) < 0) {
        /* leave no partial batch behind (the next append overwrites it anyway: it writes at
         * s->size, not at the end of the file) */
        if (ftruncate(s->fd, (off_t)s->size) < 0) { /* nothing more to do */
        }
        ATD_ERROR("log: writing %s: %s", s->path, atd_strerror(rc));
        goto out;
    }
    uint64_t pos = s->size;
    for (size_t i = 0; i < n; i++) {
        if (pos - atd_seg_last_indexed_pos(s) >= ATD_IDX_INTERVAL)
            atd_seg_index_add(s, first + i, pos, s->max_ts);
        if (recs[i].ts > s->max_ts) s->max_ts = recs[i].ts;
        pos += atd_rec_size(&recs[i]);
    }
    /* publish: readers see the batch only now, whole */
    s->size += total;
    s->next += n;
    p->end += n;
    p->bytes += total;
    if (fl->opt.fsync_always) {
        if (fdatasync(s->fd) < 0) {
            rc = -errno; /* written (readers see it) but not known durable */
            ATD_ERROR("log: fdatasync %s: %s", s->path, atd_strerror(rc));
        } else {
            p->durable = p->end;
        }
    }
    pthread_cond_broadcast(&p->grew);
    if (p->wcap > WBUF_KEEP) {
        free(p->wbuf);
        p->wbuf = NULL;
        p->wcap = 0;
    }
out:
    pthread_mutex_unlock(&p->mu);
    if (rc == 0 && first_offset) *first_offset = first;
    return rc;
}

/* --- read -------------------------------------------------------------------------------- */

static uint8_t *pool_get(file_log *fl)
{
    uint8_t *b = NULL;
    pthread_mutex_lock(&fl->pool_mu);
    if (fl->npool) b = fl->pool[--fl->npool];
    pthread_mutex_unlock(&fl->pool_mu);
    return b ? b : malloc(READ_CHUNK);
}

static void pool_put(file_log *fl, uint8_t *b, size_t cap)
{
    if (cap == READ_CHUNK) {
        pthread_mutex_lock(&fl->pool_mu);
        if (fl->npool < READ_POOL) {
            fl->pool[fl->npool++] = b;
            b = NULL;
        }
        pthread_mutex_unlock(&fl->pool_mu);
    }
    free(b);
}

typedef struct read_state {
    uint8_t *buf;
    size_t cap;
    uint64_t want;   /* the next offset to deliver */
    size_t left;     /* records still wanted */
    size_t got;      /* records delivered */
    int stopped;     /* the callback asked to stop */
    atd_log_read_cb cb;
    void *ud;
} read_state;

/* Reads segment s from pos (holding the record `at`) up to position limit / offset seg_end,
 * delivering records from rs->want on. Records before want are only framing-checked (so that
 * a consumer can skip a record that fails its CRC by reading from the next offset). */
static int seg_read(atd_seg *s, uint64_t pos, uint64_t at, uint64_t limit, uint64_t seg_end,
                    read_state *rs)
{
    uint64_t bufpos = pos, off = at;
    size_t have = 0;
    while (off < seg_end && rs->left && !rs->stopped) {
        size_t cur = (size_t)(pos - bufpos), rl;
        atd_log_record rec;
        int d = atd_rec_decode(rs->buf + cur, have - cur, off >= rs->want, &rec, &rl);
        if (d == ATD_REC_OK) {
            if (rec.offset != off) return ATD_ECORRUPT;
            if (off >= rs->want) {
                rs->want = off + 1;
                rs->left--;
                rs->got++;
                if (rs->cb(rs->ud, &rec)) rs->stopped = 1;
            }
            pos += rl;
            off++;
            continue;
        }
        if (d < 0) return d;
        if (bufpos + have >= limit) return ATD_ECORRUPT; /* records missing in a sealed segment */
        memmove(rs->buf, rs->buf + cur, have - cur);
        have -= cur;
        bufpos = pos;
        if (rl > rs->cap) {
            uint8_t *nb = realloc(rs->buf, rl);
            if (!nb) return -ENOMEM;
            rs->buf = nb;
            rs->cap = rl;
        }
        uint64_t rest = limit - (bufpos + have);
        size_t n = rs->cap - have < rest ? rs->cap - have : (size_t)rest;
        ssize_t r = atd_pread_full(s->fd, rs->buf + have, n, bufpos + have);
        if (r < 0) return (int)r;
        if ((size_t)r < n) return ATD_ECORRUPT; /* the file is shorter than it should be */
        have += (size_t)r;
    }
    return 0;
}

static int fl_read(atd_log *l, const char *name, int partition, uint64_t from,
                   size_t max_records, atd_log_read_cb cb, void *ud)
{
    file_log *fl = (file_log *)l;
    int rc = 0;
    part *p = part_get(fl, name, partition, &rc);
    if (!p) return rc;
    if (!cb) return ATD_EINVAL;
    if (max_records == 0) return 0;
    if (max_records > INT32_MAX) max_records = INT32_MAX; /* the count is returned as int */
    read_state rs = {.cap = READ_CHUNK, .want = from, .left = max_records, .cb = cb, .ud = ud};
    if (!(rs.buf = pool_get(fl))) return -ENOMEM;
    while (rs.left && !rs.stopped) {
        pthread_mutex_lock(&p->mu);
        if (rs.want < p->start) rs.want = p->start;
        if (rs.want >= p->end) {
            pthread_mutex_unlock(&p->mu);
            break;
        }
        size_t lo = 0, hi = p->nseg; /* the last segment with base <= want */
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (p->segs[mid]->base <= rs.want)
                lo = mid;
            else
                hi = mid;
        }
        atd_seg *s = p->segs[lo];
        uint64_t at, limit = s->size, seg_end = s->next;
        uint64_t pos = atd_seg_index_lookup(s, rs.want, &at);
        s->refs++;
        pthread_mutex_unlock(&p->mu);

        rc = seg_read(s, pos, at, limit, seg_end, &rs);

        pthread_mutex_lock(&p->mu);
        seg_unref(s);
        pthread_mutex_unlock(&p->mu);
        if (rc < 0) break;
        if (rs.want < seg_end) break; /* stopped inside this segment */
    }
    pool_put(fl, rs.buf, rs.cap);
    if (rs.got) return (int)rs.got; /* an error shows again on the next read from there */
    return rc;
}

/* --- wait, offsets, groups, sizes ------------------------------------------------------- */

static int fl_wait(atd_log *l, const char *name, int partition, uint64_t offset, int timeout_ms)
{
    file_log *fl = (file_log *)l;
    int rc = 0;
    part *p = part_get(fl, name, partition, &rc);
    if (!p) return rc;
    struct timespec dl = deadline_after(timeout_ms > 0 ? timeout_ms : 0);
    pthread_mutex_lock(&p->mu);
    while (p->end <= offset && timeout_ms != 0) {
        int e = timeout_ms < 0 ? pthread_cond_wait(&p->grew, &p->mu)
                               : pthread_cond_timedwait(&p->grew, &p->mu, &dl);
        if (e == ETIMEDOUT) break;
    }
    rc = p->end > offset;
    pthread_mutex_unlock(&p->mu);
    return rc;
}

static int fl_offsets(atd_log *l, const char *name, int partition, uint64_t *start,
                      uint64_t *end, uint64_t *durable)
{
    file_log *fl = (file_log *)l;
    int rc = 0;
    part *p = part_get(fl, name, partition, &rc);
    if (!p) return rc;
    pthread_mutex_lock(&p->mu);
    if (start) *start = p->start;
    if (end) *end = p->end;
    if (durable) *durable = p->durable;
    pthread_mutex_unlock(&p->mu);
    return 0;
}

static int fl_commit(atd_log *l, const char *group, const char *name, int partition,
                     uint64_t next_offset)
{
    file_log *fl = (file_log *)l;
    int rc = 0;
    if (!part_get(fl, name, partition, &rc)) return rc;
    return atd_groups_commit(fl->groups, group, name, partition, next_offset);
}

static int fl_committed(atd_log *l, const char *group, const char *name, int partition,
                        uint64_t *next_offset)
{
    file_log *fl = (file_log *)l;
    if (!group || !name || !next_offset) return ATD_EINVAL;
    return atd_groups_get(fl->groups, group, name, partition, next_offset);
}

static int64_t fl_disk_bytes(atd_log *l, const char *name)
{
    file_log *fl = (file_log *)l;
    topic *t = topic_get(fl, name);
    if (!t) return ATD_ENOTFOUND;
    int64_t sum = 0;
    for (int i = 0; i < t->nparts; i++) {
        part *p = &t->parts[i];
        pthread_mutex_lock(&p->mu);
        for (size_t j = 0; j < p->nseg; j++)
            sum += (int64_t)(p->segs[j]->size + p->segs[j]->nidx * ATD_IDX_ENTRY);
        pthread_mutex_unlock(&p->mu);
    }
    return sum;
}

static const atd_log_ops file_ops = {
    .name = "file",
    .open = fl_open,
    .close = fl_close,
    .topic_ensure = fl_topic_ensure,
    .append = fl_append,
    .read = fl_read,
    .wait = fl_wait,
    .offsets = fl_offsets,
    .commit = fl_commit,
    .committed = fl_committed,
    .sync = fl_sync,
    .disk_bytes = fl_disk_bytes,
};

const atd_log_ops *atd_log_file_ops(void) { return &file_ops; }
