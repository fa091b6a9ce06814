/* A 64-bit hash of a byte string for in-memory tables (the engine's batch cache and fingerprint
 * memo, the HTTP threads' app index): fast on short keys, every bit of the result depending on
 * every byte. Not stored anywhere: it may change between versions. */
#ifndef ATTRIBD_CORE_HASH_H
#define ATTRIBD_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __SIZEOF_INT128__
/* The 128-bit product of a and b folded to 64 bits: every bit of it depends on every bit of
 * both (one multiply instruction on 64-bit machines). */
static inline uint64_t atd_fold_mul(uint64_t a, uint64_t b)
{
    unsigned __int128 m = (unsigned __int128)a * b;
    return (uint64_t)m ^ (uint64_t)(m >> 64);
}

static inline uint64_t atd_load64(const char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* 16 bytes per folded multiply (the scheme of wyhash): the engine's keys are 20 to 60 bytes,
 * one to three steps and the tail, without a byte loop (the tail overlaps the bytes before
 * it; the length is mixed in). */
static inline uint64_t atd_hash_bytes(const char *p, size_t n)
{
    const uint64_t k0 = 0xa0761d6478bd642fULL, k1 = 0xe7037ed1a0b428dbULL,
                   k2 = 0x8ebc6af09c88c6e3ULL;
    uint64_t h = k0 ^ n, a, b;
    if (n > 16) {
        const char *last = p + n - 16;
        for (; p < last; p += 16) h = atd_fold_mul(atd_load64(p) ^ k1, atd_load64(p + 8) ^ h);
        a = atd_load64(last);
        b = atd_load64(last + 8);
    } else if (n >= 8) {
        a = atd_load64(p);
        b = atd_load64(p + n - 8);
    } else if (n >= 4) {
        uint32_t x, y;
        memcpy(&x, p, 4);
        memcpy(&y, p + n - 4, 4);
        a = x;
        b = y;
    } else {
        a = n ? (uint64_t)(uint8_t)p[0] << 16 | (uint64_t)(uint8_t)p[n / 2] << 8 | (uint8_t)p[n - 1]
              : 0;
        b = 0;
    }
    return atd_fold_mul(atd_fold_mul(a ^ k1, b ^ h) ^ k2, n ^ k1);
}
#else
static inline uint64_t atd_hash_bytes(const char *p, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (n * 0xff51afd7ed558ccdULL);
    uint64_t v = 0;
    if (n >= 8) {
        /* the tail is the last 8 bytes, overlapping the last whole word: no byte loop and no
         * memcpy call for the odd length (the length is in h already) */
        memcpy(&v, p + n - 8, 8);
        while (n > 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
            h ^= h >> 31;
            p += 8;
            n -= 8;
        }
    } else {
        for (size_t i = 0; i < n; i++) v |= (uint64_t)(uint8_t)p[i] << (8 * i);
    }
    h = (h ^ v) * 0x94d049bb133111ebULL;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    return h ^ (h >> 32);
}
#endif

#endif
