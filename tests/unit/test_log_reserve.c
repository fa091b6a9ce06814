/* The file log's space reservation and deferred index writes (docs/log.md "Writing"): blocks
 * reserved ahead of the appends never show in the file size (recovery after a crash still finds
 * the data end and truncates a torn tail), are given back when a segment is sealed or the log
 * closed, retention still frees the space, and the index of the active segment reaches the disk
 * through the flusher while the log stays open. Real files in a temporary folder. */
#include "attribd/common.h"
#include "attribd/log.h"
#include "harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KEY_LEN 8
#define REC_HDR 28
#define SEG_HDR 16
#define IDX_INTERVAL 4096

static int fs_can_reserve; /* fallocate(KEEP_SIZE) works where the tests run */

static atd_log_options opts(const char *dir)
{
    atd_log_options o;
    memset(&o, 0, sizeof o);
    o.dir = dir;
    return o;
}

/* Appends n records with ids id0.. of val_len bytes each (content derived from the id). */
static int append_n(atd_log *l, int id0, int n, size_t val_len, uint64_t *first)
{
    atd_log_record *r = calloc((size_t)n, sizeof *r);
    char *keys = malloc((size_t)n * (KEY_LEN + 1));
    char *vals = malloc((size_t)n * val_len);
    for (int i = 0; i < n; i++) {
        snprintf(keys + i * (KEY_LEN + 1), KEY_LEN + 1, "k%07u", (unsigned)(id0 + i) % 10000000u);
        memset(vals + (size_t)i * val_len, 'a' + (id0 + i) % 26, val_len);
        r[i].ts = id0 + i;
        r[i].key = keys + i * (KEY_LEN + 1);
        r[i].key_len = KEY_LEN;
        r[i].value = vals + (size_t)i * val_len;
        r[i].value_len = val_len;
    }
    int rc = atd_log_append(l, "t", 0, r, (size_t)n, first);
    free(r);
    free(keys);
    free(vals);
    return rc;
}

typedef struct seen {
    uint64_t next; /* the offset expected next */
    int bad;
    size_t n;
} seen;

/* Checks that records come in offset order with the content append_n gave them. */
static int check_cb(void *ud, const atd_log_record *rec)
{
    seen *s = ud;
    char key[KEY_LEN + 1];
    snprintf(key, sizeof key, "k%07u", (unsigned)(rec->offset % 10000000u));
    if (rec->offset != s->next || rec->key_len != KEY_LEN || memcmp(rec->key, key, KEY_LEN) ||
        rec->ts != (int64_t)rec->offset ||
        (rec->value_len && ((const char *)rec->value)[0] != 'a' + (int)(rec->offset % 26)))
        s->bad++;
    s->next = rec->offset + 1;
    s->n++;
    return 0;
}

static seen read_from(atd_log *l, uint64_t from)
{
    seen s = {.next = from};
    for (;;) {
        int n = atd_log_read(l, "t", 0, s.next, 1000, check_cb, &s);
        if (n <= 0) {
            if (n < 0) s.bad++;
            return s;
        }
    }
}

static struct stat stat_of(const char *path)
{
    struct stat st;
    memset(&st, 0, sizeof st);
    CHECK_EQ_INT(stat(path, &st), 0);
    return st;
}

static int64_t held(const char *path) { return (int64_t)stat_of(path).st_blocks * 512; }

static int64_t round_block(int64_t n) { return (n + 4095) / 4096 * 4096; }

/* Index entries the log writes for `n` records of rec_bytes each from the segment start: one
 * at every record that starts >= 4 KiB past the previous entry (docs/log.md). */
static int64_t idx_entries(int n, int64_t rec_bytes)
{
    int64_t last = SEG_HDR, pos = SEG_HDR, e = 0;
    for (int i = 0; i < n; i++, pos += rec_bytes)
        if (pos - last >= IDX_INTERVAL) e++, last = pos;
    return e;
}

static void probe_reserve(void)
{
    char *dir = atd_test_tmpdir("log-probe");
    char path[4200];
    snprintf(path, sizeof path, "%s/probe", dir);
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    fs_can_reserve = fd >= 0 && fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 1 << 20) == 0;
    if (fd >= 0) close(fd);
    if (!fs_can_reserve) printf("note: fallocate(KEEP_SIZE) unsupported here, block checks skipped\n");
    atd_test_rmrf(dir);
    free(dir);
}

static void test_reserved_then_released(void)
{
    char *dir = atd_test_tmpdir("log-reserve");
    atd_log_options o = opts(dir);
    o.segment_bytes = 8u << 20;
    atd_log *l = NULL;
    CHECK_EQ_INT(atd_log_open("file", &o, &l), 0);
    CHECK_EQ_INT(atd_log_topic_ensure(l, "t", 1), 1);
    const size_t val = 1000;
    const int64_t rec = REC_HDR + KEY_LEN + (int64_t)val;
    for (int i = 0; i < 200; i += 10) CHECK_EQ_INT(append_n(l, i, 10, val, NULL), 0);
    char seg[4300], idx[4300];
    snprintf(seg, sizeof seg, "%s/t/0/%020d.log", dir, 0);
    snprintf(idx, sizeof idx, "%s/t/0/%020d.idx", dir, 0);
    /* the size is the data end, exactly; the blocks are reserved up to the segment size */
    CHECK_EQ_INT(stat_of(seg).st_size, SEG_HDR + 200 * rec);
    if (fs_can_reserve) CHECK(held(seg) >= (int64_t)o.segment_bytes);

    /* the flusher writes the active segment's index while the log stays open */
    int64_t want = idx_entries(200, rec) * 16;
    CHECK(want > 0);
    for (int i = 0; i < 200 && stat_of(idx).st_size != want; i++) usleep(10000);
    CHECK_EQ_INT(stat_of(idx).st_size, want);

    seen s = read_from(l, 123);
    CHECK_EQ_INT(s.n, 77);
    CHECK_EQ_INT(s.bad, 0);
    atd_log_close(l);

    /* a clean close gives the reserved blocks back */
    CHECK_EQ_INT(stat_of(seg).st_size, SEG_HDR + 200 * rec);
    CHECK(held(seg) <= round_block(SEG_HDR + 200 * rec));
    CHECK_EQ_INT(stat_of(idx).st_size, want);
    atd_test_rmrf(dir);
    free(dir);
}

/* A crashed process leaves its reservation; recovery finds the data end, truncates a torn tail
 * (which also gives the reservation back) and appends go on at the right offset. */
static void test_crash_with_reserved_space(void)
{
    char *dir = atd_test_tmpdir("log-reserve-crash");
    atd_log_options o = opts(dir);
    const size_t val = 300;
    const int64_t rec = REC_HDR + KEY_LEN + (int64_t)val;
    pid_t pid = fork();
    if (pid == 0) {
        atd_log *l = NULL;
        if (atd_log_open("file", &o, &l) || atd_log_topic_ensure(l, "t", 1) != 1) _exit(3);
        for (int i = 0; i < 300; i++)
            if (append_n(l, i, 1, val, NULL)) _exit(4);
        _exit(0); /* no close: no sync, no release, the index only as far as the flusher got */
    }
    int status = 0;
    CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char seg[4300];
    snprintf(seg, sizeof seg, "%s/t/0/%020d.log", dir, 0);
    CHECK_EQ_INT(stat_of(seg).st_size, SEG_HDR + 300 * rec);
    if (fs_can_reserve) CHECK(held(seg) > round_block(SEG_HDR + 300 * rec)); /* still held */

    /* a torn record at the end: a plausible header, then nothing */
    uint8_t torn[20] = {0};
    torn[0] = 200; /* len */
    int fd = open(seg, O_WRONLY | O_APPEND);
    CHECK(fd >= 0);
    CHECK(write(fd, torn, sizeof torn) == (ssize_t)sizeof torn);
    close(fd);

    atd_log *l = NULL;
    CHECK_EQ_INT(atd_log_open("file", &o, &l), 0);
    uint64_t end = 0, first = 0;
    CHECK_EQ_INT(atd_log_offsets(l, "t", 0, NULL, &end, NULL), 0);
    CHECK_EQ_INT(end, 300);
    CHECK_EQ_INT(stat_of(seg).st_size, SEG_HDR + 300 * rec);
    if (fs_can_reserve) CHECK(held(seg) <= round_block(SEG_HDR + 300 * rec)); /* truncated */
    seen s = read_from(l, 0);
    CHECK_EQ_INT(s.n, 300);
    CHECK_EQ_INT(s.bad, 0);
    s = read_from(l, 211); /* through the index */
    CHECK_EQ_INT(s.n, 89);
    CHECK_EQ_INT(s.bad, 0);
    CHECK_EQ_INT(append_n(l, 300, 5, val, &first), 0);
    CHECK_EQ_INT(first, 300);
    atd_log_close(l);

    CHECK_EQ_INT(atd_log_open("file", &o, &l), 0);
    s = read_from(l, 0);
    CHECK_EQ_INT(s.n, 305);
    CHECK_EQ_INT(s.bad, 0);
    atd_log_close(l);
    atd_test_rmrf(dir);
    free(dir);
}

/* Sealed segments hold no reserved blocks past their data; retention frees whole segments. */
static void test_retention_frees_reserved_space(void)
{
    char *dir = atd_test_tmpdir("log-reserve-ret");
    atd_log_options o = opts(dir);
    o.segment_bytes = 1u << 20;
    o.retention_bytes = 3u << 20;
    atd_log *l = NULL;
    CHECK_EQ_INT(atd_log_open("file", &o, &l), 0);
    CHECK_EQ_INT(atd_log_topic_ensure(l, "t", 1), 1);
    /* 300 KB batches: a segment ends ~124 KB before segment_bytes, reserved up to it */
    const size_t val = 60000;
    for (int i = 0; i < 200; i += 5) CHECK_EQ_INT(append_n(l, i, 5, val, NULL), 0);
    char pdir[4200];
    snprintf(pdir, sizeof pdir, "%s/t/0", dir);
    DIR *d = opendir(pdir);
    CHECK(d != NULL);
    struct dirent *de;
    int64_t total = 0;
    int nseg = 0, nsealed_ok = 0;
    uint64_t last_base = 0;
    while (d && (de = readdir(d))) {
        unsigned long long b;
        if (sscanf(de->d_name, "%20llu.log", &b) == 1 && strstr(de->d_name, ".log"))
            last_base = b > last_base ? b : last_base;
    }
    if (d) rewinddir(d);
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char p[4500];
        snprintf(p, sizeof p, "%s/%s", pdir, de->d_name);
        total += held(p);
        unsigned long long b;
        if (sscanf(de->d_name, "%20llu.log", &b) != 1 || !strstr(de->d_name, ".log")) continue;
        nseg++;
        if (b == last_base) continue; /* the active one keeps its reservation */
        struct stat st = stat_of(p);
        if (held(p) <= round_block(st.st_size)) nsealed_ok++;
    }
    if (d) closedir(d);
    CHECK(nseg >= 2 && nseg <= 5);
    CHECK_EQ_INT(nsealed_ok, nseg - 1);
    /* retention (3 MiB) + the active segment's reservation (1 MiB) + indexes and slack */
    CHECK(total <= (int64_t)(4u << 20) + (256 << 10));
    uint64_t start = 0, end = 0;
    CHECK_EQ_INT(atd_log_offsets(l, "t", 0, &start, &end, NULL), 0);
    CHECK(start > 0);
    CHECK_EQ_INT(end, 200);
    seen s = read_from(l, start);
    CHECK_EQ_INT(s.n, 200 - start);
    CHECK_EQ_INT(s.bad, 0);
    atd_log_close(l);
    atd_test_rmrf(dir);
    free(dir);
}

int main(void)
{
    probe_reserve();
    RUN(test_reserved_then_released);
    RUN(test_crash_with_reserved_space);
    RUN(test_retention_frees_reserved_space);
    return atd_test_done();
}
