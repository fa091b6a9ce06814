/* IP addresses and CIDR blocks (ATTRIBUTION.md §1 "IP", §2 blocked_ips).
 *
 * Parsing follows inet_pton(3) exactly, because that is what every other tool on the machine
 * accepts: an IPv4 address is four decimal parts 0-255 without leading zeros ("01.2.3.4" is
 * refused: some libraries read it as octal, so accepting it would make our "same address" differ
 * from theirs); an IPv6 address is a literal with optional "::" and an optional trailing dotted
 * quad, without brackets, port or zone ("%eth0"). Spaces and tabs around are trimmed.
 *
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d, in either spelling) becomes family 4, so the two
 * spellings of one client compare equal. Every other IPv6 address is printed in pure hex per
 * RFC 5952 (the deprecated IPv4-compatible ::a.b.c.d prints as ::102:304), by our own formatter
 * so that the canonical form never depends on the libc. Unused bytes of atd_ip are zero, so two
 * parsed addresses compare with memcmp. */
#include "attribd/ip.h"

#include <arpa/inet.h>
#include <string.h>

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) (*s)++, (*n)--;
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t')) (*n)--;
}

/* A dotted quad exactly as inet_pton(AF_INET) reads it (four decimal parts 0-255, no leading
 * zeros, nothing else), without the copy to a C string and the libc call: every click and
 * install carries an address, and the engine reads it on each. Returns 0 or -1. */
static int ipv4_parse(const char *s, size_t n, uint8_t addr[4])
{
    unsigned part = 0, parts = 0, digits = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch >= '0' && ch <= '9') {
            if (digits && part == 0) return -1; /* a leading zero */
            part = part * 10 + (unsigned)(ch - '0');
            if (part > 255) return -1;
            if (!digits++ && ++parts > 4) return -1;
        } else if (ch == '.' && digits && parts < 4) {
            addr[parts - 1] = (uint8_t)part;
            part = digits = 0;
        } else {
            return -1;
        }
    }
    if (parts < 4 || !digits) return -1;
    addr[3] = (uint8_t)part;
    return 0;
}

/* The address in s[0..n), already trimmed. */
static int ip_parse_exact(const char *s, size_t n, atd_ip *out)
{
    if (n && n <= 15 && !memchr(s, ':', n)) {
        atd_ip ip;
        memset(&ip, 0, sizeof ip);
        if (ipv4_parse(s, n, ip.addr) != 0) return -1;
        ip.family = 4;
        *out = ip;
        return 0;
    }
    char buf[ATD_IP_TEXT_MAX];
    /* The longest valid literal is 45 characters; a NUL inside would hide a tail from
     * inet_pton, so refuse it rather than accept a prefix of the input. */
    if (n == 0 || n >= sizeof buf || memchr(s, '\0', n)) return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';

    atd_ip ip;
    memset(&ip, 0, sizeof ip);
    if (memchr(s, ':', n)) {
        if (inet_pton(AF_INET6, buf, ip.addr) != 1) return -1;
        if (memcmp(ip.addr, v4_mapped_prefix, 12) == 0) {
            memmove(ip.addr, ip.addr + 12, 4);
            memset(ip.addr + 4, 0, 12);
            ip.family = 4;
        } else {
            ip.family = 6;
        }
    } else {
        if (inet_pton(AF_INET, buf, ip.addr) != 1) return -1;
        ip.family = 4;
    }
    *out = ip;
    return 0;
}

int atd_ip_parse(const char *s, size_t n, atd_ip *out)
{
    if (!s || !out) return -1;
    trim(&s, &n);
    return ip_parse_exact(s, n, out);
}

static size_t put_hex16(char *p, unsigned v)
{
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    int started = 0;
    for (int shift = 12; shift >= 0; shift -= 4) {
        unsigned d = (v >> shift) & 0xf;
        if (d || started || shift == 0) {
            p[k++] = hex[d];
            started = 1;
        }
    }
    return k;
}

size_t atd_ip_format(const atd_ip *ip, char out[ATD_IP_TEXT_MAX])
{
    if (!ip || (ip->family != 4 && ip->family != 6)) {
        out[0] = '\0';
        return 0;
    }
    if (ip->family == 4) {
        size_t k = 0;
        for (int i = 0; i < 4; i++) {
            unsigned v = ip->addr[i];
            if (i) out[k++] = '.';
            if (v >= 100) out[k++] = (char)('0' + v / 100);
            if (v >= 10) out[k++] = (char)('0' + v / 10 % 10);
            out[k++] = (char)('0' + v % 10);
        }
        out[k] = '\0';
        return k;
    }

    unsigned w[8];
    for (int i = 0; i < 8; i++) w[i] = (unsigned)ip->addr[2 * i] << 8 | ip->addr[2 * i + 1];
    /* RFC 5952 §4.2: compress the longest run of zero groups, only when it is at least two
     * groups long, the leftmost one on a tie. */
    int best = -1, best_len = 0;
    for (int i = 0; i < 8;) {
        if (w[i] != 0) {
            i++;
            continue;
        }
        int j = i;
        while (j < 8 && w[j] == 0) j++;
        if (j - i > best_len) best = i, best_len = j - i;
        i = j;
    }
    if (best_len < 2) best = -1;

    size_t k = 0;
    for (int i = 0; i < 8;) {
        if (i == best) {
            out[k++] = ':';
            if (i == 0) out[k++] = ':';
            i += best_len;
            continue;
        }
        k += put_hex16(out + k, w[i]);
        if (i < 7) out[k++] = ':';
        i++;
    }
    out[k] = '\0';
    return k;
}

/* A prefix length: 1-3 decimal digits, no sign and no leading zero (like the address parts). */
static int prefix_parse(const char *s, size_t n, unsigned max, unsigned *out)
{
    if (n == 0 || n > 3 || (n > 1 && s[0] == '0')) return -1;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > max) return -1;
    *out = v;
    return 0;
}

static void clear_host_bits(atd_ip *ip, unsigned prefix)
{
    unsigned bytes = ip->family == 4 ? 4 : 16;
    for (unsigned i = 0; i < bytes; i++) {
        unsigned lo = i * 8;
        if (prefix >= lo + 8) continue;
        if (prefix <= lo) ip->addr[i] = 0;
        else ip->addr[i] &= (uint8_t)(0xff00u >> (prefix - lo));
    }
}

int atd_cidr_parse(const char *s, size_t n, atd_cidr *out)
{
    if (!s || !out) return -1;
    trim(&s, &n);
    const char *slash = memchr(s, '/', n);
    size_t addr_len = slash ? (size_t)(slash - s) : n;

    atd_ip ip;
    if (ip_parse_exact(s, addr_len, &ip) != 0) return -1;
    /* A mapped address was written as IPv6, so its prefix is written on the 128-bit scale. */
    int mapped = ip.family == 4 && memchr(s, ':', addr_len) != NULL;
    unsigned written_max = (ip.family == 4 && !mapped) ? 32 : 128;
    unsigned prefix = written_max;
    if (slash && prefix_parse(slash + 1, n - addr_len - 1, written_max, &prefix) != 0) return -1;
    if (mapped) {
        /* "::ffff:0:0/80" would cover non-mapped IPv6 addresses as well: neither an IPv4 nor
         * an IPv6 block in our model, so it is refused rather than guessed at. */
        if (prefix < 96) return -1;
        prefix -= 96;
    }
    clear_host_bits(&ip, prefix);
    out->net = ip;
    out->prefix = (uint8_t)prefix;
    return 0;
}

int atd_cidr_contains(const atd_cidr *c, const atd_ip *ip)
{
    if (!c || !ip || c->net.family != ip->family) return 0;
    unsigned prefix = c->prefix;
    if (prefix > (ip->family == 4 ? 32u : 128u)) return 0; /* not made by atd_cidr_parse */
    unsigned full = prefix / 8, rest = prefix % 8;
    if (memcmp(c->net.addr, ip->addr, full) != 0) return 0;
    if (rest) {
        uint8_t mask = (uint8_t)(0xff00u >> rest);
        if ((c->net.addr[full] & mask) != (ip->addr[full] & mask)) return 0;
    }
    return 1;
}
