/* Query strings: splitting `a=1&b=2` and percent-decoding (RFC 3986, plus the HTML form rule
 * that '+' is a space, which ad networks' click URLs rely on). */
#include "http/http_internal.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

size_t atd__url_decode(const char *src, size_t n, char *dst, int plus_is_space)
{
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        char c = src[i];
        if (c == '%' && i + 2 < n) {
            int hi = hexval(src[i + 1]), lo = hexval(src[i + 2]);
            if (hi >= 0 && lo >= 0) {
                dst[j++] = (char)(hi << 4 | lo);
                i += 2;
                continue;
            }
        }
        dst[j++] = (c == '+' && plus_is_space) ? ' ' : c;
    }
    return j;
}

void atd__query_each(const char *q, size_t n,
                     int (*cb)(const char *name, size_t nlen, const char *val, size_t vlen,
                               void *ud),
                     void *ud)
{
    size_t i = 0;
    while (i < n) {
        size_t start = i;
        while (i < n && q[i] != '&') i++;
        const char *pair = q + start;
        size_t plen = i - start;
        i++; /* skip '&' */
        if (plen == 0) continue;
        const char *eq = memchr(pair, '=', plen);
        size_t nlen = eq ? (size_t)(eq - pair) : plen;
        const char *val = eq ? eq + 1 : pair + plen;
        size_t vlen = eq ? plen - nlen - 1 : 0;
        if (cb(pair, nlen, val, vlen, ud)) return;
    }
}
