/* A small JSON writer into a growable buffer (results, error bodies, metrics). */
#ifndef ATTRIBD_JSON_H
#define ATTRIBD_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "attribd/common.h"

typedef struct atd_buf {
    char *p;
    size_t n, cap;
} atd_buf;

void atd_buf_init(atd_buf *b);
void atd_buf_free(atd_buf *b);
void atd_buf_reserve(atd_buf *b, size_t extra); /* aborts on out-of-memory */
void atd_buf_put(atd_buf *b, const void *p, size_t n);
void atd_buf_puts(atd_buf *b, const char *s);
void atd_buf_putc(atd_buf *b, char c);
void atd_buf_printf(atd_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* JSON values. Strings are escaped (", \, control characters; other bytes as they are). */
void atd_json_str(atd_buf *b, const char *s, size_t n);
void atd_json_strz(atd_buf *b, const char *s);      /* NULL → null */
void atd_json_str_or_null(atd_buf *b, atd_str s);   /* absent → null */
void atd_json_i64(atd_buf *b, int64_t v);
void atd_json_double(atd_buf *b, double v);         /* shortest text that round-trips */
/* `"key":` (with a leading comma unless first) */
void atd_json_key(atd_buf *b, const char *key, int first);

#endif
