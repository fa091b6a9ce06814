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

/* Writers over a local pointer into memory the caller reserved (a bound first): the compiler
 * then keeps the pointer in a register instead of reloading a buffer's fields after every
 * copy (a copy could alias them). Each returns the pointer past what it wrote. */
static inline uint8_t *atd_w_varint(uint8_t *w, uint64_t v)
{
    while (v >= 0x80) {
        *w++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *w++ = (uint8_t)v;
    return w;
}

/* n bytes from s, without a call for the short strings of the engine's records (ids, media
 * sources, campaigns): two overlapping loads and stores cover any length of a size class. */
static inline uint8_t *atd_w_bytes(uint8_t *w, const void *src, size_t n)
{
    const uint8_t *s = src;
    if (n >= 8) {
        if (n > 16) {
            memcpy(w, s, n);
        } else {
            uint64_t a, b;
            memcpy(&a, s, 8);
            memcpy(&b, s + n - 8, 8);
            memcpy(w, &a, 8);
            memcpy(w + n - 8, &b, 8);
        }
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(w, &a, 4);
        memcpy(w + n - 4, &b, 4);
    } else if (n) {
        w[0] = s[0];
        w[n / 2] = s[n / 2];
        w[n - 1] = s[n - 1];
    }
    return w + n;
}

/* A presence-tagged string: at most s.n + 10 bytes. */
static inline uint8_t *atd_w_strv(uint8_t *w, atd_str s)
{
    if (!s.p) {
        *w++ = 0;
        return w;
    }
    w = atd_w_varint(w, (uint64_t)s.n + 1);
    return atd_w_bytes(w, s.p, s.n);
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

/* A varint of up to 8 bytes from 8 readable bytes at once (the ts of touches and devices are
 * 6 bytes): 1 and *v with *len its bytes, or 0 when it is longer (or the machine is not
 * little-endian): the byte loop then reads it. */
static inline int atd_varint8(const uint8_t *p, uint64_t *v, size_t *len)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t x;
    memcpy(&x, p, 8);
    uint64_t stop = ~x & 0x8080808080808080ULL; /* bytes without a continuation bit */
    if (!stop) return 0;
    unsigned bits = (unsigned)__builtin_ctzll(stop) + 1; /* 8 × the length */
    if (bits < 64) x &= (1ULL << bits) - 1;
    x &= 0x7f7f7f7f7f7f7f7fULL;
    /* the 7-bit groups side by side: pairs, then fours, then all eight */
    x = ((x & 0x7f007f007f007f00ULL) >> 1) | (x & 0x007f007f007f007fULL);
    x = ((x & 0x3fff00003fff0000ULL) >> 2) | (x & 0x00003fff00003fffULL);
    x = ((x & 0x0fffffff00000000ULL) >> 4) | (x & 0x000000000fffffffULL);
    *v = x;
    *len = bits >> 3;
    return 1;
#else
    (void)p, (void)v, (void)len;
    return 0;
#endif
}

static inline uint64_t atd_get_varint(atd_rd *r)
{
    if (r->p < r->end && *r->p < 0x80) return *r->p++;
    uint64_t v = 0;
    size_t len;
    if (r->end - r->p >= 8 && atd_varint8(r->p, &v, &len)) {
        r->p += len;
        return v;
    }
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
