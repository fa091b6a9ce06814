#include "attribd/ip.h"
#include "harness.h"

#include <arpa/inet.h>
#include <stdlib.h>

/* The canonical text of s, or "BAD" when it does not parse. */
static const char *canon(const char *s)
{
    static char buf[ATD_IP_TEXT_MAX];
    atd_ip ip;
    if (atd_ip_parse(s, strlen(s), &ip) != 0) return "BAD";
    size_t n = atd_ip_format(&ip, buf);
    if (n != strlen(buf)) return "LEN";
    return buf;
}

static int family(const char *s)
{
    atd_ip ip;
    return atd_ip_parse(s, strlen(s), &ip) == 0 ? ip.family : 0;
}

static void test_ipv4(void)
{
    CHECK_STR(canon("1.2.3.4"), "1.2.3.4");
    CHECK_STR(canon("0.0.0.0"), "0.0.0.0");
    CHECK_STR(canon("255.255.255.255"), "255.255.255.255");
    CHECK_STR(canon("10.0.100.9"), "10.0.100.9");
    CHECK_STR(canon(" \t192.168.1.1 \t"), "192.168.1.1");
    CHECK_EQ_INT(family("8.8.8.8"), 4);
    /* Strict dotted quad, as inet_pton: no leading zeros, no short forms, no hex. */
    CHECK_STR(canon("01.2.3.4"), "BAD");
    CHECK_STR(canon("1.2.3.04"), "BAD");
    CHECK_STR(canon("256.1.1.1"), "BAD");
    CHECK_STR(canon("1.2.3"), "BAD");
    CHECK_STR(canon("1.2.3.4.5"), "BAD");
    CHECK_STR(canon("1.2.3."), "BAD");
    CHECK_STR(canon(".1.2.3"), "BAD");
    CHECK_STR(canon("1..2.3"), "BAD");
    CHECK_STR(canon("0x1.2.3.4"), "BAD");
    CHECK_STR(canon("1.2.3.4a"), "BAD");
    CHECK_STR(canon("-1.2.3.4"), "BAD");
    CHECK_STR(canon("+1.2.3.4"), "BAD");
    CHECK_STR(canon("1.2.3.4:80"), "BAD");
    CHECK_STR(canon("1.2 .3.4"), "BAD");
    CHECK_STR(canon("1.2.3.4\n"), "BAD"); /* only spaces and tabs are trimmed */
    CHECK_STR(canon("16909060"), "BAD");
    CHECK_STR(canon(""), "BAD");
    CHECK_STR(canon("   "), "BAD");
    CHECK_STR(canon("localhost"), "BAD");
}

static void test_ipv6(void)
{
    CHECK_STR(canon("::"), "::");
    CHECK_STR(canon("::1"), "::1");
    CHECK_STR(canon("2001:DB8::1"), "2001:db8::1");
    CHECK_STR(canon("2001:0db8:0000:0000:0000:0000:0000:0001"), "2001:db8::1");
    /* RFC 5952 §4.2.2: a single zero group is not compressed. */
    CHECK_STR(canon("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");
    /* §4.2.1 the longest run; §4.2.3 the leftmost on a tie. */
    CHECK_STR(canon("2001:0:0:1:0:0:0:1"), "2001:0:0:1::1");
    CHECK_STR(canon("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");
    CHECK_STR(canon("1:0:0:0:0:0:0:0"), "1::");
    CHECK_STR(canon("0:0:0:0:0:0:0:1"), "::1");
    CHECK_STR(canon("1:2:3:4:5:6:7:8"), "1:2:3:4:5:6:7:8");
    CHECK_STR(canon("fe80::ABCD:0:0:12"), "fe80::abcd:0:0:12");
    CHECK_STR(canon(" 2001:db8::1\t"), "2001:db8::1");
    CHECK_EQ_INT(family("2001:db8::1"), 6);
    /* IPv4-mapped: family 4, in both spellings. */
    CHECK_STR(canon("::ffff:1.2.3.4"), "1.2.3.4");
    CHECK_STR(canon("::FFFF:102:304"), "1.2.3.4");
    CHECK_STR(canon("0:0:0:0:0:ffff:0a00:0001"), "10.0.0.1");
    CHECK_EQ_INT(family("::ffff:1.2.3.4"), 4);
    /* Other embedded forms stay IPv6 and print in hex. */
    CHECK_STR(canon("::1.2.3.4"), "::102:304");
    CHECK_EQ_INT(family("::1.2.3.4"), 6);
    CHECK_STR(canon("64:ff9b::1.2.3.4"), "64:ff9b::102:304");
    CHECK_STR(canon("::fffe:1.2.3.4"), "::fffe:102:304");
    /* Not literals we accept. */
    CHECK_STR(canon("[::1]"), "BAD");
    CHECK_STR(canon("[::1]:80"), "BAD");
    CHECK_STR(canon("fe80::1%eth0"), "BAD");
    CHECK_STR(canon(":::1"), "BAD");
    CHECK_STR(canon("1::2::3"), "BAD");
    CHECK_STR(canon("12345::1"), "BAD");
    CHECK_STR(canon("1:2:3:4:5:6:7:8:9"), "BAD");
    CHECK_STR(canon("1:2:3:4:5:6:7"), "BAD");
    CHECK_STR(canon("g::1"), "BAD");
    CHECK_STR(canon("::ffff:01.2.3.4"), "BAD");
    CHECK_STR(canon("::ffff:1.2.3.256"), "BAD");
    CHECK_STR(canon("1:2:3:4:5:6:7:8:"), "BAD");
    /* Too long to be an address, even if trimmed spaces make it so. */
    CHECK_STR(canon("0000:0000:0000:0000:0000:0000:0000:0000:0000"), "BAD");
}

static void test_embedded_nul_and_lengths(void)
{
    atd_ip ip;
    CHECK(atd_ip_parse("1.2.3.4\0junk", 12, &ip) == -1);
    CHECK(atd_ip_parse("1.2.3.4junk", 7, &ip) == 0); /* n bounds the input */
    CHECK_EQ_INT(ip.family, 4);
    CHECK(atd_ip_parse(NULL, 0, &ip) == -1);
    /* unused bytes are zero: equal addresses compare equal with memcmp */
    atd_ip a, b;
    memset(&a, 0xaa, sizeof a);
    memset(&b, 0x55, sizeof b);
    CHECK(atd_ip_parse("1.2.3.4", 7, &a) == 0);
    CHECK(atd_ip_parse("::ffff:1.2.3.4", 14, &b) == 0);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
}

/* Our formatter against glibc's inet_ntop over random addresses (those glibc prints in mixed
 * notation are skipped: we print them in hex on purpose). Then round trip. */
static void test_format_matches_inet_ntop(void)
{
    srand(12345);
    int compared = 0;
    for (int iter = 0; iter < 20000; iter++) {
        atd_ip ip;
        memset(&ip, 0, sizeof ip);
        ip.family = 6;
        for (int i = 0; i < 8; i++) {
            /* many zero groups so that runs and ties happen often */
            unsigned v = rand() % 3 ? 0 : (unsigned)rand() & 0xffff;
            if (rand() % 5 == 0 && v) v &= 0xf;
            ip.addr[2 * i] = (uint8_t)(v >> 8);
            ip.addr[2 * i + 1] = (uint8_t)v;
        }
        char ours[ATD_IP_TEXT_MAX], theirs[INET6_ADDRSTRLEN];
        atd_ip_format(&ip, ours);
        CHECK(inet_ntop(AF_INET6, ip.addr, theirs, sizeof theirs) != NULL);
        if (!strchr(theirs, '.')) {
            compared++;
            if (strcmp(ours, theirs) != 0) CHECK_STR(ours, theirs);
        }
        atd_ip back;
        if (atd_ip_parse(ours, strlen(ours), &back) != 0) {
            CHECK(!"round trip parse failed");
            continue;
        }
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(ip.addr, mapped, 12) != 0 && memcmp(&back, &ip, sizeof ip) != 0)
            CHECK(!"round trip changed the address");
    }
    CHECK(compared > 10000);
}

/* Parses a CIDR, returns its canonical "net/prefix" text or "BAD". */
static const char *cidr(const char *s)
{
    static char buf[64];
    atd_cidr c;
    if (atd_cidr_parse(s, strlen(s), &c) != 0) return "BAD";
    char a[ATD_IP_TEXT_MAX];
    atd_ip_format(&c.net, a);
    snprintf(buf, sizeof buf, "%s/%u", a, c.prefix);
    return buf;
}

static int in(const char *block, const char *addr)
{
    atd_cidr c;
    atd_ip ip;
    if (atd_cidr_parse(block, strlen(block), &c) != 0) return -1;
    if (atd_ip_parse(addr, strlen(addr), &ip) != 0) return -2;
    return atd_cidr_contains(&c, &ip);
}

static void test_cidr_parse(void)
{
    CHECK_STR(cidr("1.2.3.4"), "1.2.3.4/32");
    CHECK_STR(cidr("1.2.3.4/32"), "1.2.3.4/32");
    CHECK_STR(cidr("1.2.3.4/24"), "1.2.3.0/24"); /* host bits cleared */
    CHECK_STR(cidr("1.2.3.4/0"), "0.0.0.0/0");
    CHECK_STR(cidr("10.255.255.255/9"), "10.128.0.0/9");
    CHECK_STR(cidr("10.255.255.255/15"), "10.254.0.0/15");
    CHECK_STR(cidr(" 10.0.0.0/8 "), "10.0.0.0/8");
    CHECK_STR(cidr("2001:db8::1"), "2001:db8::1/128");
    CHECK_STR(cidr("2001:DB8:ffff::1/32"), "2001:db8::/32");
    CHECK_STR(cidr("2001:db8::ff/121"), "2001:db8::80/121");
    CHECK_STR(cidr("::/0"), "::/0");
    /* IPv4-mapped entries count as IPv4, prefix - 96 */
    CHECK_STR(cidr("::ffff:1.2.3.4"), "1.2.3.4/32");
    CHECK_STR(cidr("::ffff:1.2.3.4/120"), "1.2.3.0/24");
    CHECK_STR(cidr("::ffff:1.2.3.4/96"), "0.0.0.0/0");
    CHECK_STR(cidr("::ffff:1.2.3.4/128"), "1.2.3.4/32");
    CHECK_STR(cidr("::ffff:1.2.3.4/95"), "BAD");
    CHECK_STR(cidr("::ffff:1.2.3.4/129"), "BAD");
    /* bad prefixes */
    CHECK_STR(cidr("1.2.3.4/33"), "BAD");
    CHECK_STR(cidr("2001:db8::/129"), "BAD");
    CHECK_STR(cidr("1.2.3.4/"), "BAD");
    CHECK_STR(cidr("1.2.3.4/-1"), "BAD");
    CHECK_STR(cidr("1.2.3.4/+8"), "BAD");
    CHECK_STR(cidr("1.2.3.4/08"), "BAD");
    CHECK_STR(cidr("1.2.3.4/8a"), "BAD");
    CHECK_STR(cidr("1.2.3.4/1000"), "BAD");
    CHECK_STR(cidr("1.2.3.4/8/8"), "BAD");
    CHECK_STR(cidr("1.2.3.4 /8"), "BAD");
    CHECK_STR(cidr("1.2.3.4/ 8"), "BAD");
    CHECK_STR(cidr("/8"), "BAD");
    CHECK_STR(cidr("01.2.3.4/8"), "BAD");
    CHECK_STR(cidr(""), "BAD");
    CHECK_STR(cidr("[::1]/128"), "BAD");
}

static void test_cidr_contains(void)
{
    CHECK_EQ_INT(in("10.0.0.0/8", "10.1.2.3"), 1);
    CHECK_EQ_INT(in("10.0.0.0/8", "11.0.0.0"), 0);
    CHECK_EQ_INT(in("10.0.0.0/8", "9.255.255.255"), 0);
    CHECK_EQ_INT(in("10.1.2.3/8", "10.200.0.1"), 1); /* host bits of the entry ignored */
    CHECK_EQ_INT(in("1.2.3.4", "1.2.3.4"), 1);
    CHECK_EQ_INT(in("1.2.3.4", "1.2.3.5"), 0);
    CHECK_EQ_INT(in("1.2.3.4", "::ffff:1.2.3.4"), 1);
    CHECK_EQ_INT(in("::ffff:1.2.3.0/120", "1.2.3.77"), 1);
    CHECK_EQ_INT(in("::ffff:1.2.3.0/120", "1.2.4.77"), 0);
    CHECK_EQ_INT(in("0.0.0.0/0", "255.255.255.255"), 1);
    CHECK_EQ_INT(in("0.0.0.0/0", "::1"), 0); /* family must match */
    CHECK_EQ_INT(in("::/0", "1.2.3.4"), 0);
    CHECK_EQ_INT(in("::/0", "2001:db8::1"), 1);
    CHECK_EQ_INT(in("2001:db8::/32", "2001:db8:ffff::1"), 1);
    CHECK_EQ_INT(in("2001:db8::/32", "2001:db9::1"), 0);
    CHECK_EQ_INT(in("2001:db8::80/121", "2001:db8::ff"), 1);
    CHECK_EQ_INT(in("2001:db8::80/121", "2001:db8::7f"), 0);
    CHECK_EQ_INT(in("10.128.0.0/9", "10.127.255.255"), 0);
    CHECK_EQ_INT(in("10.128.0.0/9", "10.128.0.0"), 1);
    CHECK_EQ_INT(in("::1.2.3.4", "1.2.3.4"), 0); /* IPv4-compatible is not IPv4 */
    /* every prefix length of an IPv6 block: the boundary address in, its neighbour out */
    for (unsigned p = 1; p <= 128; p++) {
        atd_cidr c;
        char text[64];
        snprintf(text, sizeof text, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/%u", p);
        CHECK(atd_cidr_parse(text, strlen(text), &c) == 0);
        atd_ip ip = c.net;
        CHECK_EQ_INT(atd_cidr_contains(&c, &ip), 1);
        ip.addr[(p - 1) / 8] ^= (uint8_t)(0x80u >> ((p - 1) % 8)); /* flip the last net bit */
        CHECK_EQ_INT(atd_cidr_contains(&c, &ip), 0);
    }
    CHECK_EQ_INT(atd_cidr_contains(NULL, NULL), 0);
}

/* IPv4 has its own parser (no inet_pton call): it must accept and read exactly what
 * inet_pton(AF_INET) does, on random strings over the characters that matter. */
static void test_ipv4_matches_inet_pton(void)
{
    static const char alphabet[] = "0123456789....x";
    uint64_t rng = 0x2545f4914f6cdd1dull;
    int mismatches = 0, accepted = 0;
    for (int i = 0; i < 300000; i++) {
        char s[24];
        size_t n = 0;
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        /* 3-5 parts of 0-4 digits (leading zeros, 256-999 and empty parts included), then
         * now and then a byte replaced by a dot, a letter or a wild byte */
        unsigned parts = 3 + (unsigned)(rng % 3);
        for (unsigned p = 0; p < parts && n < 18; p++) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            if (p) s[n++] = '.';
            unsigned digits = (unsigned)(rng % 5);
            for (unsigned d = 0; d < digits; d++) s[n++] = (char)('0' + (rng >> (8 + 4 * d)) % 10);
        }
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        if (n && rng % 4 == 0) s[(rng >> 8) % n] = alphabet[(rng >> 16) % 15];
        if (n && rng % 16 == 1) s[(rng >> 8) % n] = (char)(rng >> 24);
        s[n] = '\0';
        if (memchr(s, ':', n) || memchr(s, ' ', n) || memchr(s, '\t', n)) continue;
        uint8_t want[4];
        int ok = strlen(s) == n && inet_pton(AF_INET, s, want) == 1;
        atd_ip ip;
        int got = atd_ip_parse(s, n, &ip) == 0;
        if (ok) accepted++;
        if (ok != got || (ok && (ip.family != 4 || memcmp(ip.addr, want, 4) != 0))) {
            if (mismatches++ < 5) fprintf(stderr, "mismatch on '%s': inet_pton %d, ours %d\n", s, ok, got);
        }
    }
    CHECK_EQ_INT(mismatches, 0);
    CHECK(accepted > 1000); /* the generator does make valid addresses */
    /* the edges, by hand */
    CHECK_STR(canon("1.2.3.4."), "BAD");
    CHECK_STR(canon(".1.2.3.4"), "BAD");
    CHECK_STR(canon("1..2.3"), "BAD");
    CHECK_STR(canon("1.2.3"), "BAD");
    CHECK_STR(canon("1.2.3.4.5"), "BAD");
    CHECK_STR(canon("256.1.1.1"), "BAD");
    CHECK_STR(canon("1.2.3.00"), "BAD");
    CHECK_STR(canon("1.2.3.0"), "1.2.3.0");
    CHECK_STR(canon("1.2.3.1000"), "BAD");
}

int main(void)
{
    RUN(test_ipv4);
    RUN(test_ipv4_matches_inet_pton);
    RUN(test_ipv6);
    RUN(test_embedded_nul_and_lengths);
    RUN(test_format_matches_inet_ntop);
    RUN(test_cidr_parse);
    RUN(test_cidr_contains);
    return atd_test_done();
}
