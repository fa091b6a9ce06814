/* The UUID decoder of the advertising id keys (touch_store.c, atd_touch_uuid_parse): its SIMD
 * path and its portable word path against a plain per-character reference, for every byte
 * value at every position of the text (malformed input included) and for random UUIDs. */
#include <stdlib.h>

#include "attribution/touch_store.h"
#include "harness.h"

static int ref_hex(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* The specification: 36 bytes, dashes at 8, 13, 18, 23, lower-case hex digits elsewhere. */
static int ref_parse(const char *s, size_t n, uint8_t raw[16])
{
    if (n != 36) return -1;
    int k = 0, hi = -1;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return -1;
            continue;
        }
        int v = ref_hex((unsigned char)s[i]);
        if (v < 0) return -1;
        if (hi < 0) {
            hi = v;
        } else {
            raw[k++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    return 0;
}

static uint64_t rng = 0x243f6a8885a308d3ULL;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Compares the decoder (in its current mode) with the reference on s; reports a mismatch. */
static int agrees(const char *s, size_t n)
{
    /* the text at the end of a heap block of its size: a read past it shows under ASan */
    char *copy = malloc(n ? n : 1);
    memcpy(copy, s, n);
    uint8_t want[16], got[16];
    int rw = ref_parse(copy, n, want);
    int rg = atd_touch_uuid_parse((atd_str){copy, n}, got);
    int ok = rw == rg && (rw != 0 || memcmp(want, got, 16) == 0);
    if (!ok) atd_test_fail(__FILE__, __LINE__, "%.*s: want %d, got %d", (int)n, copy, rw, rg);
    free(copy);
    return ok;
}

static void every_byte_everywhere(void)
{
    static const char base[] = "0123abcd-ef45-6789-abcd-ef0123456789";
    int bad = 0;
    for (size_t at = 0; at < 36 && bad < 5; at++) {
        for (int c = 0; c < 256 && bad < 5; c++) {
            char id[36];
            memcpy(id, base, 36);
            id[at] = (char)c;
            bad += !agrees(id, 36);
        }
    }
    CHECK(agrees(base, 36));
}

static void random_uuids_and_lengths(void)
{
    int bad = 0;
    for (int round = 0; round < 20000 && bad < 5; round++) {
        char id[40];
        for (int i = 0; i < 40; i++) id[i] = "0123456789abcdef"[rnd() % 16];
        id[8] = id[13] = id[18] = id[23] = '-';
        if (round % 7 == 0) id[rnd() % 36] = "ABCDEFG-/:`@ \x80"[rnd() % 14];
        if (round % 11 == 0) id[rnd() % 36] = (char)rnd();
        size_t n = round % 13 == 0 ? 34 + rnd() % 6 : 36;
        bad += !agrees(id, n);
    }
    CHECK(agrees("", 0));
}

static void both_paths(void (*fn)(void))
{
    atd_touch_uuid_simd(1);
    fn();
    atd_touch_uuid_simd(0);
    fn();
    atd_touch_uuid_simd(1);
}

static void test_every_byte_everywhere(void) { both_paths(every_byte_everywhere); }
static void test_random_uuids_and_lengths(void) { both_paths(random_uuids_and_lengths); }

static void test_known_bytes(void)
{
    uint8_t raw[16];
    static const uint8_t want[16] = {0xff, 0xee, 0xdd, 0xcc, 0x00, 0x11, 0x98, 0x76,
                                     0xa5, 0x5a, 0x0f, 0xf0, 0x12, 0x34, 0xab, 0xcd};
    const char *t = "ffeeddcc-0011-9876-a55a-0ff01234abcd";
    for (int simd = 1; simd >= 0; simd--) {
        atd_touch_uuid_simd(simd);
        memset(raw, 0, sizeof raw);
        CHECK_EQ_INT(atd_touch_uuid_parse((atd_str){t, 36}, raw), 0);
        CHECK(memcmp(raw, want, 16) == 0);
    }
    atd_touch_uuid_simd(1);
}

int main(void)
{
    RUN(test_known_bytes);
    RUN(test_every_byte_everywhere);
    RUN(test_random_uuids_and_lengths);
    return atd_test_done();
}
