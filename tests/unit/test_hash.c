/* The hash of the engine's in-memory tables (core/hash.h): every byte of a key of any
 * length counts (a flipped bit changes the hash, and the bits that pick a slot or a set), no
 * byte outside the key is read (keys at the end of a heap block, for ASan), and the length
 * counts (a key and its zero-padded longer form differ). */
#include <stdlib.h>

#include "core/hash.h"
#include "harness.h"

static void test_every_bit_of_every_length_counts(void)
{
    int bad = 0;
    for (size_t n = 0; n <= 80 && bad < 5; n++) {
        char *k = malloc(n ? n : 1);
        for (size_t i = 0; i < n; i++) k[i] = (char)(i * 37 + n);
        uint64_t base = atd_hash_bytes(k, n);
        for (size_t i = 0; i < n && bad < 5; i++) {
            for (int bit = 0; bit < 8 && bad < 5; bit++) {
                k[i] ^= (char)(1 << bit);
                uint64_t h = atd_hash_bytes(k, n);
                k[i] ^= (char)(1 << bit);
                if (h == base) {
                    atd_test_fail(__FILE__, __LINE__, "length %zu: byte %zu bit %d ignored", n,
                                  i, bit);
                    bad++;
                }
            }
        }
        CHECK(atd_hash_bytes(k, n) == base); /* the same bytes: the same hash */
        free(k);
    }
}

/* The low bits (slots) and bits 32.. (the fingerprint memo's sets) spread evenly over keys
 * that differ little: 4096 keys like the engine's into 64 buckets. */
static void test_low_and_high_bits_spread(void)
{
    int lo[64] = {0}, hi[64] = {0};
    char key[40];
    memset(key, 'k', sizeof key);
    for (int i = 0; i < 4096; i++) {
        memcpy(key + 20, &i, sizeof i);
        uint64_t h = atd_hash_bytes(key, 34);
        lo[h & 63]++;
        hi[(h >> 32) & 63]++;
    }
    for (int b = 0; b < 64; b++) {
        CHECK(lo[b] > 20 && lo[b] < 120); /* 64 expected */
        CHECK(hi[b] > 20 && hi[b] < 120);
    }
}

static void test_length_counts(void)
{
    char z[32] = {0};
    for (size_t n = 0; n < 31; n++) CHECK(atd_hash_bytes(z, n) != atd_hash_bytes(z, n + 1));
}

int main(void)
{
    RUN(test_every_bit_of_every_length_counts);
    RUN(test_low_and_high_bits_spread);
    RUN(test_length_counts);
    return atd_test_done();
}
