/* Little helpers for the engine's compact binary kv records: LEB128 varints and
 * presence-tagged strings (varint len+1; 0 = absent). Readers never trust the bytes: every
 * read is bounds-checked and a short or malformed record reads as corrupt. */
#ifndef ATTRIBD_ATTRIBUTION_CODEC_H
#define ATTRIBD_ATTRIBUTION_CODEC_H

#include "attribd/common.h"
#include "attribd/json.h"

/* The writers below reserve room themselves; a caller that reserved a bound first may use the
 * _raw forms, which do not. */
static inline void atd_put_varint_raw(atd_buf *b, uint64_t v)
{
    while (v >= 0x80) {
        b->p[b->n++] = (char)(v | 0x80);
        v >>= 7;
    }
    b->p[b->n++] = (char)v;
}

static inline void atd_put_strv_raw(atd_buf *b, atd_str s)
{
    if (!s.p) {
        b->p[b->n++] = 0;
        return;
    }
    atd_put_varint_raw(b, (uint64_t)s.n + 1);
    memcpy(b->p + b->n, s.p, s.n);
    b->n += s.n;
}

static inline void atd_put_varint(atd_buf *b, uint64_t v)
{
    atd_buf_reserve(b, 10);
    while (v >= 0x80) {
        b->p[b->n++] = (char)(v | 0x80);
        v >>= 7;
    }
    b->p[b->n++] = (char)v;
}

static inline void atd_put_byte(atd_buf *b, uint8_t v)
{
    atd_buf_reserve(b, 1);
    b->p[b->n++] = (char)v;
}

static inline void atd_put_strv(atd_buf *b, atd_str s)
{
    if (!s.p) {
        atd_put_byte(b, 0);
        return;
    }
    atd_put_varint(b, (uint64_t)s.n + 1);
    atd_buf_put(b, s.p, s.n);
}

/* A reader over a byte range; `bad` is set (and stays set) on the first error. */
typedef struct atd_rd {
    const uint8_t *p, *end;
    int bad;
} atd_rd;

static inline atd_rd atd_rd_init(const void *p, size_t n)
{
    return (atd_rd){(const uint8_t *)p, (const uint8_t *)p + n, 0};
}

static inline uint64_t atd_get_varint(atd_rd *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) break;
        uint8_t c = *r->p++;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) return v;
    }
    r->bad = 1;
    r->p = r->end;
    return 0;
}

static inline uint8_t atd_get_byte(atd_rd *r)
{
    if (r->p >= r->end) {
        r->bad = 1;
        return 0;
    }
    return *r->p++;
}

/* The string points into the reader's bytes. */
static inline atd_str atd_get_strv(atd_rd *r)
{
    uint64_t l = atd_get_varint(r);
    if (l == 0 || r->bad) return ATD_STR_NULL;
    l--;
    if (l > (uint64_t)(r->end - r->p)) {
        r->bad = 1;
        r->p = r->end;
        return ATD_STR_NULL;
    }
    atd_str s = {(const char *)r->p, (size_t)l};
    r->p += l;
    return s;
}

static inline const uint8_t *atd_get_bytes(atd_rd *r, size_t n)
{
    if (n > (size_t)(r->end - r->p)) {
        r->bad = 1;
        r->p = r->end;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    return p;
}

#endif
