#include "attribd/json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void atd_buf_init(atd_buf *b)
{
    b->p = NULL;
    b->n = b->cap = 0;
}

void atd_buf_free(atd_buf *b)
{
    free(b->p);
    atd_buf_init(b);
}

void atd_buf_reserve(atd_buf *b, size_t extra)
{
    if (b->cap - b->n > extra) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->n <= extra) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        fprintf(stderr, "attribd: out of memory (%zu bytes)\n", cap);
        abort();
    }
    b->p = p;
    b->cap = cap;
}

void atd_buf_put(atd_buf *b, const void *p, size_t n)
{
    atd_buf_reserve(b, n);
    if (n) memcpy(b->p + b->n, p, n);
    b->n += n;
    b->p[b->n] = 0; /* always NUL-terminated for convenience; not counted in n */
}

void atd_buf_puts(atd_buf *b, const char *s) { atd_buf_put(b, s, strlen(s)); }

void atd_buf_putc(atd_buf *b, char c) { atd_buf_put(b, &c, 1); }

void atd_buf_printf(atd_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0) return;
    atd_buf_reserve(b, (size_t)need + 1);
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)need + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)need;
}

void atd_json_str(atd_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    atd_buf_reserve(b, n + 2);
    b->p[b->n++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            atd_buf_reserve(b, 2);
            b->p[b->n++] = (char)c;
            continue;
        }
        char esc[7] = {'\\', 0};
        size_t el = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            esc[1] = 'u', esc[2] = '0', esc[3] = '0', esc[4] = hex[c >> 4], esc[5] = hex[c & 15];
            el = 6;
        }
        atd_buf_put(b, esc, el);
    }
    atd_buf_putc(b, '"');
}

void atd_json_strz(atd_buf *b, const char *s)
{
    if (s)
        atd_json_str(b, s, strlen(s));
    else
        atd_buf_put(b, "null", 4);
}

void atd_json_str_or_null(atd_buf *b, atd_str s)
{
    if (s.p)
        atd_json_str(b, s.p, s.n);
    else
        atd_buf_put(b, "null", 4);
}

void atd_json_i64(atd_buf *b, int64_t v) { atd_buf_printf(b, "%lld", (long long)v); }

void atd_json_double(atd_buf *b, double v)
{
    if (!isfinite(v)) {
        atd_buf_put(b, "null", 4);
        return;
    }
    if (v == (double)(int64_t)v && fabs(v) < 9007199254740992.0) {
        atd_buf_printf(b, "%lld", (long long)v);
        return;
    }
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v) break;
    }
    atd_buf_puts(b, tmp);
}

void atd_json_key(atd_buf *b, const char *key, int first)
{
    if (!first) atd_buf_putc(b, ',');
    atd_json_str(b, key, strlen(key));
    atd_buf_putc(b, ':');
}
