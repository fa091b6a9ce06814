/* Shared basics: string views, error codes, a bump arena. */
#ifndef ATTRIBD_COMMON_H
#define ATTRIBD_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A string view: not NUL-terminated, not owned. p == NULL means "absent" (distinct from the
 * empty string, which has p != NULL and n == 0). */
typedef struct atd_str {
    const char *p;
    size_t n;
} atd_str;

#define ATD_STR_NULL ((atd_str){NULL, 0})
#define ATD_STR_LIT(s) ((atd_str){(s), sizeof(s) - 1})
static inline atd_str atd_str_c(const char *s) { return (atd_str){s, s ? strlen(s) : 0}; }
static inline int atd_str_present(atd_str s) { return s.p != NULL; }
static inline int atd_str_eq(atd_str a, atd_str b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0) && (!a.p) == (!b.p);
}
static inline int atd_str_eq_c(atd_str a, const char *c)
{
    size_t n = strlen(c);
    return a.p && a.n == n && memcmp(a.p, c, n) == 0;
}

/* Errors: 0 is success, negative errno for system errors, ATD_E* below for our own
 * (the libuv/LMDB convention). atd_strerror() names both. */
enum {
    ATD_OK = 0,
    ATD_EBASE = -30000,
    ATD_EINVAL = -30001,    /* bad input (the caller's fault; not retriable) */
    ATD_ENOTFOUND = -30002, /* no such key / topic / app */
    ATD_ECORRUPT = -30003,  /* on-disk data failed a check (CRC, framing) */
    ATD_ETOOBIG = -30004,   /* over a configured limit */
    ATD_EFULL = -30005,     /* a bounded queue or buffer is full: retry later */
    ATD_ECLOSED = -30006,   /* the object was closed or is shutting down */
};
const char *atd_strerror(int err);

/* A bump allocator: allocations live until atd_arena_reset/atd_arena_free. Blocks are chained,
 * so pointers stay valid when the arena grows. */
typedef struct atd_arena_block atd_arena_block;
typedef struct atd_arena {
    atd_arena_block *head;
    size_t block_size;
} atd_arena;

void atd_arena_init(atd_arena *a, size_t block_size);
void *atd_arena_alloc(atd_arena *a, size_t n); /* 8-byte aligned; aborts on out-of-memory */
char *atd_arena_strndup(atd_arena *a, const char *s, size_t n); /* NUL-terminated copy */
void atd_arena_reset(atd_arena *a); /* keeps the first block for reuse */
void atd_arena_free(atd_arena *a);

/* Milliseconds since the Unix epoch (wall clock): only the ingest edge stamps with it. */
int64_t atd_now_ms(void);
/* Monotonic milliseconds, for timeouts and measurements. */
int64_t atd_mono_ms(void);

#endif
