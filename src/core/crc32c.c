/* CRC32C: hardware (SSE4.2) when present, else slicing-by-8 tables. */
#include "attribd/crc32c.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define ATD_CRC_X86 1
#include <nmmintrin.h>
#endif

#define POLY 0x82F63B78u /* 0x1EDC6F41 bit-reversed */

static uint32_t crc_table[8][256];
static pthread_once_t crc_table_once = PTHREAD_ONCE_INIT;

static void crc_table_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
        crc_table[0][i] = c;
    }
    /* table[t][i]: the crc of byte i followed by t zero bytes, so 8 bytes fold in one step */
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xff];
}

static inline uint32_t load_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint32_t atd_crc32c_sw(uint32_t crc, const void *buf, size_t n)
{
    pthread_once(&crc_table_once, crc_table_init);
    const uint8_t *p = buf;
    uint32_t c = ~crc;
    while (n >= 8) {
        uint32_t lo = c ^ load_le32(p), hi = load_le32(p + 4);
        c = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
            crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
            crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
            crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--) c = crc_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}

#ifdef ATD_CRC_X86
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const void *buf, size_t n)
{
    const uint8_t *p = buf;
    uint64_t c = ~crc;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8); /* unaligned-safe; compiles to one load */
        c = _mm_crc32_u64(c, w);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n--) c32 = _mm_crc32_u8(c32, *p++);
    return ~c32;
}
#endif

/* -1 unknown, 0 no, 1 yes; a benign race: every thread computes the same answer */
static int crc_hw_state = -1;

int atd_crc32c_hw_available(void)
{
    int s = __atomic_load_n(&crc_hw_state, __ATOMIC_RELAXED);
    if (s < 0) {
#ifdef ATD_CRC_X86
        __builtin_cpu_init();
        s = __builtin_cpu_supports("sse4.2") ? 1 : 0;
#else
        s = 0;
#endif
        __atomic_store_n(&crc_hw_state, s, __ATOMIC_RELAXED);
    }
    return s;
}

uint32_t atd_crc32c(uint32_t crc, const void *buf, size_t n)
{
#ifdef ATD_CRC_X86
    if (atd_crc32c_hw_available()) return crc_hw(crc, buf, n);
#endif
    return atd_crc32c_sw(crc, buf, n);
}
