/* A fast path for the status line and first headers of every HTTP/1.1 answer.
 *
 * h2o 2.2 (Debian's libh2o-evloop) formats the head of each answer with one
 *     sprintf(dst, "HTTP/1.1 %d %s\r\nDate: %s\r\nConnection: %s\r\nContent-Length: %zu\r\n", ...)
 * (lib/http1.c, flatten_headers). glibc's printf engine spends ~2,100 instructions on it: 18 %
 * of the user-space instructions of an ingest request (callgrind, docs/http.md). h2o is a
 * system library that we do not patch, and it calls the fortified __sprintf_chk (Debian builds
 * it with _FORTIFY_SOURCE). The binary defines that symbol here, so the dynamic linker binds
 * h2o's calls to it (the executable comes first in the lookup order, as for a malloc
 * replacement). For those two formats of h2o, recognised by their exact text, it writes the
 * same bytes with a few copies; every other call goes to glibc's __vsprintf_chk unchanged.
 *
 * tests/unit/test_answer_head.c compares the output with glibc's vsprintf for many argument
 * values; tests/integration checks the heads on the wire. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http/http_internal.h"

#define HEAD_START "HTTP/1.1 %d %s\r\nDate: %s\r\nConnection: %s\r\n"
#define HEAD_LENGTH "Content-Length: %zu\r\n"

/* glibc's own entry, which this file's __sprintf_chk hands every other format to. */
int __vsprintf_chk(char *s, int flag, size_t slen, const char *fmt, va_list ap);
int __sprintf_chk(char *s, int flag, size_t slen, const char *fmt, ...);

/* The addresses of h2o's two format strings, once seen (string literals: they do not move). */
static _Atomic(const char *) head_fmt, head_len_fmt;

static char *put_str(char *d, const char *s)
{
    size_t n = strlen(s);
    memcpy(d, s, n);
    return d + n;
}

/* Decimal digits of v (unsigned), written at d; returns the end. */
static char *put_uint(char *d, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[sizeof tmp - ++n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    memcpy(d, tmp + sizeof tmp - n, n);
    return d + n;
}

int atd__answer_head(char *s, int with_length, va_list ap)
{
    int status = va_arg(ap, int);
    const char *reason = va_arg(ap, const char *);
    const char *date = va_arg(ap, const char *);
    const char *connection = va_arg(ap, const char *);
    char *d = s;
    memcpy(d, "HTTP/1.1 ", 9);
    d += 9;
    if (status < 0) {
        *d++ = '-';
        d = put_uint(d, -(uint64_t)(int64_t)status);
    } else {
        d = put_uint(d, (uint64_t)status);
    }
    *d++ = ' ';
    d = put_str(d, reason);
    memcpy(d, "\r\nDate: ", 8);
    d = put_str(d + 8, date);
    memcpy(d, "\r\nConnection: ", 14);
    d = put_str(d + 14, connection);
    memcpy(d, "\r\n", 2);
    d += 2;
    if (with_length) {
        size_t len = va_arg(ap, size_t);
        memcpy(d, "Content-Length: ", 16);
        d = put_uint(d + 16, len);
        memcpy(d, "\r\n", 2);
        d += 2;
    }
    *d = '\0';
    return (int)(d - s);
}

/* 1: fmt is h2o's head without Content-Length, 2: with it, 0: anything else. */
static int head_kind(const char *fmt)
{
    if (fmt == atomic_load_explicit(&head_len_fmt, memory_order_relaxed)) return 2;
    if (fmt == atomic_load_explicit(&head_fmt, memory_order_relaxed)) return 1;
    if (fmt[0] != 'H' || strncmp(fmt, HEAD_START, sizeof HEAD_START - 1) != 0) return 0;
    const char *rest = fmt + sizeof HEAD_START - 1;
    if (rest[0] == '\0') {
        atomic_store_explicit(&head_fmt, fmt, memory_order_relaxed);
        return 1;
    }
    if (strcmp(rest, HEAD_LENGTH) == 0) {
        atomic_store_explicit(&head_len_fmt, fmt, memory_order_relaxed);
        return 2;
    }
    return 0;
}

int __sprintf_chk(char *s, int flag, size_t slen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int kind = slen == (size_t)-1 ? head_kind(fmt) : 0; /* a known size: glibc checks it */
    int r = kind ? atd__answer_head(s, kind == 2, ap) : __vsprintf_chk(s, flag, slen, fmt, ap);
    va_end(ap);
    return r;
}
