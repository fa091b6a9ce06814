#include "attribd/duration.h"
#include "harness.h"

/* The parsed value in ms, or -1 when it is not a duration. */
static int64_t dur(const char *s)
{
    int64_t ms = -12345;
    if (atd_duration_parse(s, strlen(s), &ms) != 0) {
        if (ms != -12345) return -2; /* a failed parse must not touch *ms */
        return -1;
    }
    return ms;
}

static void test_good(void)
{
    CHECK_EQ_INT(dur("0"), 0);
    CHECK_EQ_INT(dur("0s"), 0);
    CHECK_EQ_INT(dur("0d"), 0);
    CHECK_EQ_INT(dur("00s"), 0);
    CHECK_EQ_INT(dur("1s"), 1000);
    CHECK_EQ_INT(dur("10s"), 10000);
    CHECK_EQ_INT(dur("30m"), 30LL * 60 * 1000);
    CHECK_EQ_INT(dur("12h"), 12LL * 3600 * 1000);
    CHECK_EQ_INT(dur("7d"), 7LL * 86400 * 1000);
    CHECK_EQ_INT(dur("730d"), 730LL * 86400 * 1000);
    CHECK_EQ_INT(dur("007d"), 7LL * 86400 * 1000);
    /* the largest values that still fit in int64 milliseconds */
    CHECK_EQ_INT(dur("9223372036854775s"), 9223372036854775000LL);
    CHECK_EQ_INT(dur("106751991167d"), 106751991167LL * 86400000LL);
}

static void test_bad(void)
{
    const char *bad[] = {
        "", "h", "s", "2H", "2D", " 2h", "2h ", " 2h ", "2h\n", "\t2h", "2", "00", "1",
        "-1s", "+1s", "1.5h", "1e3s", "2hh", "2h2", "h2", "2 h", "1w", "1ms", "0x10s", "٣s",
        "99999999999999999999d", "9223372036854776s", "106751991168d",
        "99999999999999999999999999999999999999999999s",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = dur(bad[i]);
        if (v != -1) atd_test_fail(__FILE__, __LINE__, "\"%s\" parsed as %lld", bad[i], (long long)v);
    }
    int64_t ms;
    CHECK(atd_duration_parse("2h\0", 3, &ms) == -1); /* n counts: a trailing NUL is not trimmed */
    CHECK(atd_duration_parse("2hours", 2, &ms) == 0 && ms == 7200000); /* only s[0..n) is read */
    CHECK(atd_duration_parse(NULL, 0, &ms) == -1);
}

int main(void)
{
    RUN(test_good);
    RUN(test_bad);
    return atd_test_done();
}
