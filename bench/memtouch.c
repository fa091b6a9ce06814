/* bench_memtouch: what first touches of memory cost on this machine.
 *
 * A replay's state is gigabytes of fresh memory (the batch cache) and a fresh store file (the
 * LMDB map), so the price of touching a page for the first time sets a floor under its time.
 * On a bare-metal Linux box that price is small (~0.1-0.3 s per GiB); on a virtual machine it
 * can be far higher, and it differs by page size and mapping kind. This program measures, for
 * N MiB (default 512), one write per 4 KiB page:
 *
 *   anon-4k      anonymous memory in 4 KiB pages (malloc's big blocks, LMDB's own pages)
 *   anon-huge    anonymous memory with MADV_HUGEPAGE (the batch cache's pool and table)
 *   file-map     a shared writable file mapping, page by page (a write-mapped LMDB)
 *   file-pop     the same after MADV_POPULATE_WRITE (replay's populate_ahead)
 *   file-pwrite  the same bytes written with pwrite(2) in 1 MiB calls
 *
 * each three times in a row (the first round may also pay for the host backing new guest
 * memory). Usage: bench_memtouch [MiB] [DIR for the file, default /tmp]. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void touch(volatile char *p, size_t n)
{
    for (size_t i = 0; i < n; i += 4096) p[i] = 1;
}

static double anon(size_t n, int huge)
{
    char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return -1;
    if (huge) (void)madvise(p, n, MADV_HUGEPAGE);
    double t = now();
    touch(p, n);
    t = now() - t;
    munmap(p, n);
    return t;
}

static double file(size_t n, const char *dir, int how)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/bench_memtouch.%d", dir, (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) return -1;
    unlink(path);
    double t = -1;
    if (ftruncate(fd, (off_t)n) == 0) {
        t = now();
        if (how == 2) {
            static char buf[1 << 20];
            memset(buf, 1, sizeof buf);
            for (size_t off = 0; off < n; off += sizeof buf)
                if (pwrite(fd, buf, sizeof buf, (off_t)off) < 0) break;
        } else {
            char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            if (p != MAP_FAILED) {
                if (how == 1) (void)madvise(p, n, MADV_POPULATE_WRITE);
                touch(p, n);
                munmap(p, n);
            }
        }
        t = now() - t;
    }
    close(fd);
    return t;
}

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 512;
    const char *dir = argc > 2 ? argv[2] : "/tmp";
    if (mib == 0 || mib > (1u << 20)) {
        fprintf(stderr, "usage: bench_memtouch [MiB] [DIR]\n");
        return 2;
    }
    size_t n = mib << 20;
    static const char *names[] = {"anon-4k", "anon-huge", "file-map", "file-pop", "file-pwrite"};
    printf("%zu MiB, one write per 4 KiB page; seconds per GiB, rounds 1 2 3\n", mib);
    for (int k = 0; k < 5; k++) {
        printf("%-12s", names[k]);
        for (int round = 0; round < 3; round++) {
            double t = k < 2 ? anon(n, k) : file(n, dir, k - 2);
            printf(" %8.3f", t < 0 ? -1.0 : t * 1024.0 / (double)mib);
            fflush(stdout);
        }
        printf("\n");
    }
    return 0;
}
