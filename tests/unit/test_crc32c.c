#include "attribd/crc32c.h"
#include "harness.h"

#include <stdlib.h>

/* Known answers: the "check" value of CRC-32C and the iSCSI vectors of RFC 3720 B.4. */
static void check_vectors(uint32_t (*fn)(uint32_t, const void *, size_t))
{
    uint8_t buf[32];
    CHECK_EQ_INT(fn(0, "123456789", 9), 0xE3069283u);
    CHECK_EQ_INT(fn(0, "", 0), 0);
    memset(buf, 0, sizeof buf);
    CHECK_EQ_INT(fn(0, buf, 32), 0x8A9136AAu);
    memset(buf, 0xff, sizeof buf);
    CHECK_EQ_INT(fn(0, buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++) buf[i] = (uint8_t)i;
    CHECK_EQ_INT(fn(0, buf, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++) buf[i] = (uint8_t)(31 - i);
    CHECK_EQ_INT(fn(0, buf, 32), 0x113FDB5Cu);
}

static void test_vectors_dispatch(void) { check_vectors(atd_crc32c); }
static void test_vectors_table(void) { check_vectors(atd_crc32c_sw); }

/* hardware and table agree on every length and alignment, and chaining pieces gives the same
 * value as one call */
static void test_hw_matches_table_and_chains(void)
{
    enum { N = 4096 };
    uint8_t *buf = malloc(N + 16);
    uint32_t x = 12345;
    for (int i = 0; i < N + 16; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    printf("  (sse4.2 crc32: %s)\n", atd_crc32c_hw_available() ? "yes" : "no");
    for (size_t off = 0; off < 9; off++) {
        for (size_t n = 0; n < 200; n++)
            CHECK_EQ_INT(atd_crc32c(0, buf + off, n), atd_crc32c_sw(0, buf + off, n));
        CHECK_EQ_INT(atd_crc32c(0, buf + off, N), atd_crc32c_sw(0, buf + off, N));
    }
    uint32_t whole = atd_crc32c(0, buf, N);
    for (size_t cut = 0; cut <= N; cut += 37) {
        CHECK_EQ_INT(atd_crc32c(atd_crc32c(0, buf, cut), buf + cut, N - cut), whole);
        CHECK_EQ_INT(atd_crc32c_sw(atd_crc32c(0, buf, cut), buf + cut, N - cut), whole);
    }
    buf[100] ^= 1; /* a single flipped bit changes it */
    CHECK(atd_crc32c(0, buf, N) != whole);
    free(buf);
}

int main(void)
{
    RUN(test_vectors_dispatch);
    RUN(test_vectors_table);
    RUN(test_hw_matches_table_and_chains);
    return atd_test_done();
}
