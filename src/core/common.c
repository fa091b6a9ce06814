#include "attribd/common.h"
#include "attribd/logging.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

const char *atd_strerror(int err)
{
    switch (err) {
    case ATD_OK: return "success";
    case ATD_EINVAL: return "invalid input";
    case ATD_ENOTFOUND: return "not found";
    case ATD_ECORRUPT: return "corrupt data";
    case ATD_ETOOBIG: return "over a configured limit";
    case ATD_EFULL: return "full, try again later";
    case ATD_ECLOSED: return "closed";
    default: return err < 0 && err > -4096 ? strerror(-err) : "unknown error";
    }
}

struct atd_arena_block {
    atd_arena_block *next;
    size_t used, cap;
    _Alignas(16) char data[];
};

void atd_arena_init(atd_arena *a, size_t block_size)
{
    a->head = NULL;
    a->block_size = block_size ? block_size : 16384;
}

void *atd_arena_alloc(atd_arena *a, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    atd_arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > a->block_size ? n : a->block_size;
        b = malloc(sizeof *b + cap);
        if (!b) {
            fprintf(stderr, "attribd: out of memory (%zu bytes)\n", cap);
            abort();
        }
        b->used = 0;
        b->cap = cap;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

char *atd_arena_strndup(atd_arena *a, const char *s, size_t n)
{
    char *p = atd_arena_alloc(a, n + 1);
    if (n) memcpy(p, s, n);
    p[n] = 0;
    return p;
}

void atd_arena_reset(atd_arena *a)
{
    atd_arena_block *b = a->head;
    if (!b) return;
    /* keep the oldest block (the one of the regular size) and free the rest */
    while (b->next) {
        atd_arena_block *next = b->next;
        free(b);
        b = next;
    }
    b->used = 0;
    a->head = b;
}

void atd_arena_free(atd_arena *a)
{
    atd_arena_block *b = a->head;
    while (b) {
        atd_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}

int64_t atd_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t atd_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int log_level = ATD_LOG_INFO;

void atd_logmsg_set_level(int level) { log_level = level; }

void atd_logmsg(int level, const char *fmt, ...)
{
    static const char *names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    if (level < log_level) return;
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ attribd[%d] %s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, (int)getpid(), names[level & 3]);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = strlen(line);
    line[len++] = '\n';
    /* one write() per message so lines from threads do not interleave */
    ssize_t w = write(2, line, len);
    (void)w;
}
