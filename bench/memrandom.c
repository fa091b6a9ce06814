/* bench_memrandom: what a random access costs as the memory grows, prefetched well ahead.
 *
 * A replay's lookups land on random places of the batch cache (a table slot, then the entry's
 * block): 0.6 GB at 1 M devices, 14 GB at 20 M. It prefetches each event's state ~8-16 events
 * before it is used, which on a bare-metal machine hides a random access whatever the size.
 * This program measures whether it does here: for each size (GiB, default 1 and 12) it maps
 * that much memory in transparent huge pages (as the batch cache does), writes every page, then
 * runs ITERS steps of: prefetch a random cache line, do ~100 dependent multiplies of work (a
 * few hundred cycles, like an event's processing between its prefetch and its use), and read
 * the line prefetched 16 steps before. It prints ns per step, and the work alone without the
 * memory: what a size adds over the work is what its random accesses cost that the prefetch
 * did not hide. Usage: bench_memrandom [GiB...]. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define ITERS 10000000u
#define AHEAD 16u /* steps between a line's prefetch and its read */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* ns per step over n bytes at p (n 0: the work alone) */
static double run(const volatile char *p, size_t n)
{
    uint64_t x = 88172645463325252ull, sum = 0;
    size_t lines = n / 64, ahead[AHEAD] = {0};
    double t0 = now();
    for (uint32_t i = 0; i < ITERS; i++) {
        uint64_t w = i;
        for (int k = 0; k < 100; k++) w = w * 6364136223846793005ull + 1442695040888963407ull;
        sum += w & 1;
        if (!lines) continue;
        size_t at = (size_t)(next(&x) % lines) * 64;
        __builtin_prefetch((const char *)p + at);
        sum += (uint64_t)p[ahead[i % AHEAD]];
        ahead[i % AHEAD] = at;
    }
    double ns = (now() - t0) / ITERS * 1e9;
    if (sum == 42) fputc(' ', stderr); /* keeps the loop */
    return ns;
}

int main(int argc, char **argv)
{
    static const char *dflt[] = {"1", "12"};
    const char **sizes = argc > 1 ? (const char **)argv + 1 : dflt;
    int nsizes = argc > 1 ? argc - 1 : 2;
    double work = run(NULL, 0);
    printf("work alone: %.1f ns per step\n", work);
    for (int s = 0; s < nsizes; s++) {
        size_t gib = strtoull(sizes[s], NULL, 10);
        if (gib == 0) {
            fprintf(stderr, "bench_memrandom: %s: not a size in GiB\n", sizes[s]);
            return 2;
        }
        size_t n = gib << 30;
        char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            perror("bench_memrandom: mmap");
            return 1;
        }
        (void)madvise(p, n, MADV_HUGEPAGE);
        memset(p, 1, n);
        double ns = run(p, n);
        printf("%zu GiB: %.1f ns per step, %.1f ns more than the work\n", gib, ns, ns - work);
        munmap(p, n);
    }
    return 0;
}
