/* Fuzzes the file log's recovery and read paths with arbitrary segment and index bytes: open
 * must recover or fail cleanly, reads must deliver increasing offsets or ATD_ECORRUPT, never
 * crash, and the log must accept appends afterwards.
 *
 * Input: flags u8 (bit 0: the segment is sealed, an empty active segment follows it; bit 1:
 * an index is given), then if bit 1: idx_len u8 and idx_len bytes of .idx, then the bytes that
 * follow the 16-byte segment header. */
#include "attribd/common.h"
#include "attribd/log.h"
#include "attribd/logging.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[256];

static void rm_tree(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        unlink(path);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", path, de->d_name);
        rm_tree(p);
    }
    closedir(d);
    rmdir(path);
}

static void put_file(const char *path, const void *a, size_t na, const void *b, size_t nb)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) abort();
    if ((na && write(fd, a, na) != (ssize_t)na) || (nb && write(fd, b, nb) != (ssize_t)nb))
        abort();
    close(fd);
}

static void header(uint8_t h[16], uint64_t base)
{
    memcpy(h, "ATDSEG\x01\x00", 8);
    for (int i = 0; i < 8; i++) h[8 + i] = (uint8_t)(base >> (8 * i));
}

typedef struct check {
    uint64_t next;
} check;

static int on_rec(void *ud, const atd_log_record *r)
{
    check *c = ud;
    if (r->offset < c->next) abort(); /* offsets only go up */
    c->next = r->offset + 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    if (!root[0]) {
        snprintf(root, sizeof root, "/tmp/attribd-fuzz-log-%d", (int)getpid());
        atd_logmsg_set_level(ATD_LOG_ERROR + 1); /* recovery warnings are expected here */
    }
    uint8_t flags = data[0];
    const uint8_t *idx = NULL;
    size_t idx_len = 0, at = 1;
    if (flags & 2) {
        if (size < 2) return 0;
        idx_len = data[1];
        at = 2;
        if (size - at < idx_len) idx_len = size - at;
        idx = data + at;
        at += idx_len;
    }
    char p[1024];
    uint8_t h[16];
    rm_tree(root);
    mkdir(root, 0755);
    snprintf(p, sizeof p, "%s/t", root);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/t/0", root);
    mkdir(p, 0755);
    header(h, 0);
    snprintf(p, sizeof p, "%s/t/0/00000000000000000000.log", root);
    put_file(p, h, sizeof h, data + at, size - at);
    if (idx) {
        snprintf(p, sizeof p, "%s/t/0/00000000000000000000.idx", root);
        put_file(p, idx, idx_len, NULL, 0);
    }
    if (flags & 1) {
        header(h, 100000);
        snprintf(p, sizeof p, "%s/t/0/00000000000000100000.log", root);
        put_file(p, h, sizeof h, NULL, 0);
    }

    atd_log_options o;
    memset(&o, 0, sizeof o);
    o.dir = root;
    o.segment_bytes = 1 << 16;
    atd_log *l = NULL;
    if (atd_log_open("file", &o, &l) != 0) {
        rm_tree(root);
        return 0;
    }
    uint64_t start, end;
    if (atd_log_offsets(l, "t", 0, &start, &end, NULL) != 0) abort();
    check c = {0};
    uint64_t from = 0;
    for (int i = 0; i < 10000 && from < end; i++) {
        int n = atd_log_read(l, "t", 0, from, 64, on_rec, &c);
        if (n == ATD_ECORRUPT)
            from++; /* skip it, as a consumer may */
        else if (n > 0)
            from = c.next;
        else if (n == 0)
            break;
        else
            abort(); /* nothing but corruption may go wrong here */
        if (c.next > from) from = c.next;
    }
    atd_log_record r = {.ts = 1, .key = "k", .key_len = 1, .value = "v", .value_len = 1};
    uint64_t first;
    if (atd_log_append(l, "t", 0, &r, 1, &first) != 0 || first != end) abort();
    atd_log_close(l);
    rm_tree(root);
    return 0;
}
