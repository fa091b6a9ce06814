/* Strict JSON in one pass: see include/attribd/json_parse.h for the why. */
#include "attribd/json_parse.h"

#include <stdio.h>
#include <string.h>

#include "attribd/common.h"

/* --- bytes that need a look ------------------------------------------------------------ */

/* Strings are mostly printable ASCII, which needs no look beyond "is it the closing quote?".
 * skip_plain finds the first byte that does ('"', '\\', < 0x20 or >= 0x80) a chunk at a time:
 * 16 bytes with SSE2 (every x86-64 has it), else 8 with the classic SWAR tricks, which flag
 * bytes that are zero / below a bound. A SWAR flag can be wrong only above a right one (a
 * borrow runs upwards), so the lowest flag always marks the first such byte, and that is all
 * that is used. The last < 8 bytes of the text are left to the byte loops of the callers. */
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SWAR 1
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
static inline uint64_t haszero8(uint64_t x) { return (x - ONES) & ~x & HIGHS; }
#else
#define SWAR 0
#endif

/* quote: whether '"' needs a look too (it ends a string being scanned; in the content of a
 * string checked on its own it is just a character). */
static inline __attribute__((always_inline)) size_t skip_plain(const unsigned char *u, size_t i,
                                                               size_t n, int quote)
{
#if defined(__SSE2__)
    const __m128i bsl = _mm_set1_epi8('\\'), dq = _mm_set1_epi8('"'), sp = _mm_set1_epi8(0x20);
    while (n - i >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(u + i));
        /* signed compare: bytes >= 0x80 are negative, so "< 0x20" catches them too */
        __m128i m = _mm_or_si128(_mm_cmpeq_epi8(x, bsl), _mm_cmplt_epi8(x, sp));
        if (quote) m = _mm_or_si128(m, _mm_cmpeq_epi8(x, dq));
        unsigned bits = (unsigned)_mm_movemask_epi8(m);
        if (bits) return i + (size_t)__builtin_ctz(bits);
        i += 16;
    }
#endif
#if SWAR
    while (n - i >= 8) {
        uint64_t x;
        memcpy(&x, u + i, 8);
        uint64_t t = ((((x - ONES * 0x20) & ~x) | x) & HIGHS) | haszero8(x ^ (ONES * '\\'));
        if (quote) t |= haszero8(x ^ (ONES * '"'));
        if (t) return i + ((size_t)__builtin_ctzll(t) >> 3);
        i += 8;
    }
#endif
    return i;
}

/* --- single values ----------------------------------------------------------------------- */

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Reads the 4 hex digits after "\u" at s[i] (i points at the first digit); -1 when bad. */
static long hex4(const char *s, size_t n, size_t i)
{
    if (n - i < 4) return -1;
    long v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval((unsigned char)s[i + k]);
        if (h < 0) return -1;
        v = v << 4 | h;
    }
    return v;
}

/* Length of the valid UTF-8 sequence at s[i] (lead byte >= 0x80), or 0 when invalid:
 * overlong forms, UTF-16 surrogates (ED A0..BF) and code points above U+10FFFF are refused. */
static size_t utf8_seq(const unsigned char *s, size_t n, size_t i)
{
    unsigned char c = s[i];
    size_t avail = n - i;
    if (c >= 0xC2 && c <= 0xDF) {
        if (avail < 2 || (s[i + 1] & 0xC0) != 0x80) return 0;
        return 2;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (avail < 3 || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && s[i + 1] < 0xA0) return 0; /* overlong */
        if (c == 0xED && s[i + 1] >= 0xA0) return 0; /* surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (avail < 4 || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80 ||
            (s[i + 3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && s[i + 1] < 0x90) return 0; /* overlong */
        if (c == 0xF4 && s[i + 1] >= 0x90) return 0; /* above U+10FFFF */
        return 4;
    }
    return 0; /* continuation byte as lead, C0/C1, F5..FF */
}

/* Length of the valid escape at s[i] (a backslash), or 0 when invalid: one of \" \\ \/ \b \f
 * \n \r \t \uXXXX, where \uD800-\uDBFF must be followed by an escaped low surrogate and a
 * lone low surrogate is refused (it cannot become valid UTF-8). */
static size_t escape_len(const char *s, size_t n, size_t i)
{
    if (n - i < 2) return 0;
    switch (s[i + 1]) {
    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        return 2;
    case 'u': {
        long cp = hex4(s, n, i + 2);
        if (cp < 0) return 0;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return 0; /* lone low surrogate */
        if (cp < 0xD800 || cp > 0xDBFF) return 6;
        if (n - i < 12 || s[i + 6] != '\\' || s[i + 7] != 'u') return 0;
        long lo = hex4(s, n, i + 8);
        if (lo < 0xDC00 || lo > 0xDFFF) return 0;
        return 12;
    }
    default:
        return 0;
    }
}

int atd_json_string_check(const char *s, size_t n, int *escaped, size_t *bad)
{
    const unsigned char *u = (const unsigned char *)s;
    int esc = 0;
    size_t i = 0;
    while ((i = skip_plain(u, i, n, 0)) < n) {
        unsigned char c = u[i];
        if (c >= 0x20 && c < 0x80 && c != '\\') {
            i++;
            continue;
        }
        size_t k;
        if (c == '\\') {
            esc = 1;
            k = escape_len(s, n, i);
        } else {
            k = c >= 0x80 ? utf8_seq(u, n, i) : 0;
        }
        if (!k) {
            if (bad) *bad = i;
            return -1;
        }
        i += k;
    }
    if (escaped) *escaped = esc;
    return 0;
}

static size_t put_utf8(char *o, unsigned long cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t atd_json_string_unescape(const char *s, size_t n, char *out)
{
    size_t i = 0, o = 0;
    while (i < n) {
        const char *bs = memchr(s + i, '\\', n - i);
        size_t run = bs ? (size_t)(bs - (s + i)) : n - i;
        memmove(out + o, s + i, run); /* out may alias s: decoding never overtakes reading */
        o += run;
        i += run;
        if (i >= n) break;
        char e = s[i + 1];
        switch (e) {
        case 'b': out[o++] = '\b'; i += 2; break;
        case 'f': out[o++] = '\f'; i += 2; break;
        case 'n': out[o++] = '\n'; i += 2; break;
        case 'r': out[o++] = '\r'; i += 2; break;
        case 't': out[o++] = '\t'; i += 2; break;
        case 'u': {
            unsigned long cp = (unsigned long)hex4(s, n, i + 2);
            i += 6;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned long lo = (unsigned long)hex4(s, n, i + 2);
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            }
            o += put_utf8(out + o, cp);
            break;
        }
        default: out[o++] = e; i += 2; break; /* " \ / */
        }
    }
    return o;
}

static size_t digits(const char *s, size_t n, size_t i)
{
    size_t k = i;
    while (k < n && s[k] >= '0' && s[k] <= '9') k++;
    return k - i;
}

int atd_json_number_check(const char *s, size_t n)
{
    size_t i = 0, d;
    if (i < n && s[i] == '-') i++;
    if (i >= n) return -1;
    if (s[i] == '0') {
        i++;
    } else {
        if (!(d = digits(s, n, i))) return -1;
        i += d;
    }
    if (i < n && s[i] == '.') {
        i++;
        if (!(d = digits(s, n, i))) return -1;
        i += d;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        if (!(d = digits(s, n, i))) return -1;
        i += d;
    }
    return i == n ? 0 : -1;
}

int atd_json_number_is_integer(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '.' || s[i] == 'e' || s[i] == 'E') return 0;
    return 1;
}

/* --- the scanner ----------------------------------------------------------------------- */

/* Failure paths are cold: keeping them out of line keeps the hot loops small. */
static int fail(atd_json_scanner *sc, size_t at, const char *msg) __attribute__((cold, noinline));
static int fail(atd_json_scanner *sc, size_t at, const char *msg)
{
    sc->err->code = ATD_EINVAL;
    sc->err->offset = at;
    snprintf(sc->err->message, sizeof sc->err->message, "%s at byte %zu", msg, at);
    return ATD_EINVAL;
}

static int fail_end(atd_json_scanner *sc) __attribute__((cold, noinline));
static int fail_end(atd_json_scanner *sc)
{
    return fail(sc, sc->len, "truncated JSON (unexpected end)");
}

static int fail_depth(atd_json_scanner *sc, size_t at) __attribute__((cold, noinline));
static int fail_depth(atd_json_scanner *sc, size_t at)
{
    sc->err->code = ATD_EINVAL;
    sc->err->offset = at;
    snprintf(sc->err->message, sizeof sc->err->message,
             "JSON nested deeper than %d levels at byte %zu", sc->max_depth, at);
    return ATD_EINVAL;
}

static int fail_big(atd_json_scanner *sc, size_t at) __attribute__((cold, noinline));
static int fail_big(atd_json_scanner *sc, size_t at)
{
    /* A NUL byte makes the text no JSON at all, whatever else is wrong: say that first, as
     * the jsmn-based reader did (it checked for NUL before counting). */
    const char *nul = memchr(sc->s, 0, sc->len);
    if (nul) return fail(sc, (size_t)(nul - sc->s), "NUL byte in JSON text");
    sc->err->code = ATD_ETOOBIG;
    sc->err->offset = at;
    if (sc->len > ATD_JSON_MAX_LEN)
        snprintf(sc->err->message, sizeof sc->err->message, "JSON text too long");
    else
        snprintf(sc->err->message, sizeof sc->err->message, "JSON has more than %d values",
                 sc->max_values);
    return ATD_ETOOBIG;
}

/* Every value (keys too) counts against max_values: containers when they open, the others
 * once read. */
static inline int count_value(atd_json_scanner *sc, size_t at)
{
    if (__builtin_expect(++sc->values > sc->max_values, 0)) return fail_big(sc, at);
    return 0;
}

static inline int is_ws(unsigned char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

/* Skips whitespace from i; returns the first other offset (or len). Compact JSON has none, so
 * the first test usually ends it. */
static inline size_t skip_ws(const char *s, size_t len, size_t i)
{
    while (i < len && (unsigned char)s[i] <= ' ' && is_ws((unsigned char)s[i])) i++;
    return i;
}

/* What may follow a number or a literal: whitespace, ',', ']', '}' or the end. */
static inline int ends_primitive(const atd_json_scanner *sc, size_t i)
{
    if (i >= sc->len) return 1;
    unsigned char c = (unsigned char)sc->s[i];
    return c == ',' || c == '}' || c == ']' || is_ws(c);
}

/* The rest of a string from s[i] on (a byte that needs a look, or the last < 8 bytes of the
 * text): escapes, UTF-8, errors. Out of line, so that the common case stays small. */
static int scan_string_slow(atd_json_scanner *sc, atd_json_val *v, size_t i)
    __attribute__((noinline));
static int scan_string_slow(atd_json_scanner *sc, atd_json_val *v, size_t i)
{
    const unsigned char *u = (const unsigned char *)sc->s;
    size_t n = sc->len;
    int esc = 0;
    for (;;) {
        if (i >= n) return fail_end(sc);
        unsigned char c = u[i];
        if (c == '"') break;
        if (c >= 0x20 && c < 0x80 && c != '\\') {
            i = skip_plain(u, i + 1, n, 1);
            continue;
        }
        size_t k;
        if (c == '\\') {
            esc = 1;
            k = escape_len(sc->s, n, i);
        } else if (c >= 0x80) {
            k = utf8_seq(u, n, i);
        } else {
            k = 0; /* raw control character */
        }
        if (!k) return fail(sc, i, "invalid string (bad escape, control character or UTF-8)");
        i = skip_plain(u, i + k, n, 1);
    }
    v->type = ATD_JSON_STRING;
    v->escaped = (uint8_t)esc;
    v->end = i;
    sc->pos = i + 1;
    return count_value(sc, v->start - 1);
}

/* A string at sc->pos (its opening quote): finds the closing quote and checks the content on
 * the way (the checks of atd_json_string_check). The common case, printable ASCII without
 * escapes, never leaves this function. */
static inline __attribute__((always_inline)) int scan_string(atd_json_scanner *sc,
                                                             atd_json_val *v)
{
    const unsigned char *u = (const unsigned char *)sc->s;
    size_t n = sc->len, i = sc->pos + 1;
    v->start = i;
    i = skip_plain(u, i, n, 1);
    if (__builtin_expect(i >= n || u[i] != '"', 0)) return scan_string_slow(sc, v, i);
    v->type = ATD_JSON_STRING;
    v->escaped = 0;
    v->end = i;
    sc->pos = i + 1;
    return count_value(sc, v->start - 1);
}

static inline size_t skip_digits(const char *s, size_t n, size_t i)
{
    while (i < n && (unsigned)(s[i] - '0') < 10) i++;
    return i;
}

/* A number at sc->pos ('-' or a digit), RFC grammar; what follows is checked by the caller. */
static inline int scan_number(atd_json_scanner *sc, atd_json_val *v)
{
    const char *s = sc->s;
    size_t n = sc->len, i = sc->pos, d;
    if (s[i] == '-') i++;
    if (i >= n) goto bad;
    if (s[i] == '0') {
        i++;
    } else {
        d = skip_digits(s, n, i);
        if (d == i) goto bad;
        i = d;
    }
    if (i < n && s[i] == '.') {
        d = skip_digits(s, n, i + 1);
        if (d == i + 1) goto bad;
        i = d;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        d = skip_digits(s, n, i);
        if (d == i) goto bad;
        i = d;
    }
    v->type = ATD_JSON_NUMBER;
    v->escaped = 0;
    v->start = sc->pos;
    v->end = i;
    sc->pos = i;
    return 0;
bad:
    return fail(sc, sc->pos, "invalid literal or number");
}

/* A value that is not an object or array, at sc->pos (not whitespace, not the end). */
static inline int scan_scalar(atd_json_scanner *sc, atd_json_val *v)
{
    const char *s = sc->s;
    size_t at = sc->pos;
    unsigned char c = (unsigned char)s[at];
    if (c == '"') return scan_string(sc, v);
    if (c == '-' || (unsigned)(c - '0') < 10) {
        if (scan_number(sc, v) < 0) return ATD_EINVAL;
    } else if (c == 't' || c == 'f' || c == 'n') {
        static const char *const lit[3] = {"true", "false", "null"};
        static const uint8_t type[3] = {ATD_JSON_TRUE, ATD_JSON_FALSE, ATD_JSON_NULL};
        int which = c == 't' ? 0 : c == 'f' ? 1 : 2;
        size_t ln = which == 1 ? 5 : 4;
        if (sc->len - at < ln || memcmp(s + at, lit[which], ln) != 0)
            return fail(sc, at, "invalid literal or number");
        v->type = type[which];
        v->escaped = 0;
        v->start = at;
        v->end = at + ln;
        sc->pos = at + ln;
    } else if (c == ',' || c == ']' || c == '}' || c == ':') {
        return fail(sc, at, "expected a value");
    } else {
        return fail(sc, at, "unexpected character");
    }
    /* `01`, `1.5.2`, `truex`: the value must end here */
    if (!ends_primitive(sc, sc->pos)) return fail(sc, at, "invalid literal or number");
    return count_value(sc, at);
}

/* An object or array at sc->pos (its bracket) at nesting level `level` (the top level is 1),
 * with everything inside it. Iterative, with the kind of each open container in a bit stack,
 * so hostile nesting costs no C stack; the states are labels because they nest freely. */
static int scan_container(atd_json_scanner *sc, int level, atd_json_val *v)
{
    const char *s = sc->s;
    size_t n = sc->len, i = sc->pos, start = i;
    uint64_t is_obj[ATD_JSON_DEPTH_CAP / 64];
    int top = 0; /* containers open in this call; the innermost is top - 1 */
    atd_json_val tmp;
    int rc;
    char c;

open: /* s[i] is '{' or '[' */
    if (level + top > sc->max_depth) return fail_depth(sc, i);
    if ((rc = count_value(sc, i)) < 0) return rc;
    if (s[i] == '{')
        is_obj[top >> 6] |= (uint64_t)1 << (top & 63);
    else
        is_obj[top >> 6] &= ~((uint64_t)1 << (top & 63));
    top++;
    i = skip_ws(s, n, i + 1);
    if (i >= n) return fail_end(sc);
    if (is_obj[(top - 1) >> 6] >> ((top - 1) & 63) & 1) {
        if (s[i] == '}') {
            i++;
            goto closed;
        }
        goto key;
    }
    if (s[i] == ']') {
        i++;
        goto closed;
    }
    goto value;

key: /* at a non-whitespace byte, where an object wants a key */
    if (s[i] != '"') return fail(sc, i, "expected a string key");
    sc->pos = i;
    if ((rc = scan_string(sc, &tmp)) < 0) return rc;
    i = skip_ws(s, n, sc->pos);
    if (i >= n) return fail_end(sc);
    if (s[i] != ':') return fail(sc, i, "expected ':' after a key");
    i = skip_ws(s, n, i + 1);
    if (i >= n) return fail_end(sc);
    /* fall through */
value: /* at a non-whitespace byte, where a value must start */
    if (s[i] == '{' || s[i] == '[') goto open;
    sc->pos = i;
    if ((rc = scan_scalar(sc, &tmp)) < 0) return rc;
    i = sc->pos;
after: /* just past a value inside the innermost container */
    i = skip_ws(s, n, i);
    if (i >= n) return fail_end(sc);
    c = s[i];
    if (is_obj[(top - 1) >> 6] >> ((top - 1) & 63) & 1) {
        if (c == ',') {
            i = skip_ws(s, n, i + 1);
            if (i >= n) return fail_end(sc);
            goto key;
        }
        if (c != '}') return fail(sc, i, "expected ',' or '}'");
    } else {
        if (c == ',') {
            i = skip_ws(s, n, i + 1);
            if (i >= n) return fail_end(sc);
            goto value;
        }
        if (c != ']') return fail(sc, i, "expected ',' or ']'");
    }
    i++;
closed: /* just past the closing bracket of the innermost container */
    if (--top > 0) goto after;
    v->type = s[start] == '{' ? ATD_JSON_OBJECT : ATD_JSON_ARRAY;
    v->escaped = 0;
    v->start = start;
    v->end = i;
    sc->pos = i;
    return 0;
}

void atd_json_scan_init(atd_json_scanner *sc, const char *text, size_t len, int max_values,
                        int max_depth, atd_json_error *err)
{
    sc->s = text;
    sc->len = len;
    sc->pos = 0;
    sc->values = 0;
    sc->max_values = max_values < 1 ? 1 : max_values;
    sc->max_depth = max_depth < 1 ? 1 : max_depth > ATD_JSON_DEPTH_CAP ? ATD_JSON_DEPTH_CAP : max_depth;
    sc->in_object = 0;
    sc->err = err;
    err->code = 0;
    err->offset = 0;
    err->message[0] = 0;
}

/* Positions sc->pos on the first byte of the top-level value. */
static int scan_start(atd_json_scanner *sc)
{
    if (sc->len > ATD_JSON_MAX_LEN) return fail_big(sc, 0);
    sc->pos = skip_ws(sc->s, sc->len, sc->pos);
    if (sc->pos >= sc->len) return fail(sc, sc->pos, "empty JSON text (no value)");
    return 0;
}

/* A value inside the top-level object (nesting level 2). */
static int scan_inner(atd_json_scanner *sc, int level, atd_json_val *v)
{
    char c = sc->s[sc->pos];
    if (c == '{' || c == '[') return scan_container(sc, level, v);
    return scan_scalar(sc, v);
}

int atd_json_scan_value(atd_json_scanner *sc, atd_json_val *v)
{
    int rc = scan_start(sc);
    if (rc < 0) return rc;
    return scan_inner(sc, 1, v);
}

int atd_json_scan_object_begin(atd_json_scanner *sc)
{
    int rc = scan_start(sc);
    if (rc < 0) return rc;
    if (sc->s[sc->pos] != '{') return fail(sc, sc->pos, "expected a JSON object");
    if ((rc = count_value(sc, sc->pos)) < 0) return rc;
    sc->pos++;
    sc->in_object = 2;
    return 0;
}

int atd_json_scan_member(atd_json_scanner *sc, atd_json_val *key, atd_json_val *val)
{
    /* Compact JSON (no whitespace between tokens) takes the first test at each step; the
     * general case goes through skip_ws. */
    const char *s = sc->s;
    size_t n = sc->len, i = sc->pos;
    if (sc->in_object == 1 && i < n && s[i] == ',') {
        i++;
    } else {
        if (!sc->in_object) return 0;
        i = skip_ws(s, n, i);
        if (i >= n) return fail_end(sc);
        if (s[i] == '}') {
            sc->pos = i + 1;
            sc->in_object = 0;
            return 0;
        }
        if (sc->in_object == 1) {
            if (s[i] != ',') return fail(sc, i, "expected ',' or '}'");
            i++;
        }
    }
    if (!(i < n && s[i] == '"')) {
        i = skip_ws(s, n, i);
        if (i >= n) return fail_end(sc);
        if (s[i] != '"') return fail(sc, i, "expected a string key");
    }
    sc->pos = i;
    int rc = scan_string(sc, key);
    if (rc < 0) return rc;
    i = sc->pos;
    if (i < n && s[i] == ':') {
        i++;
    } else {
        i = skip_ws(s, n, i);
        if (i >= n) return fail_end(sc);
        if (s[i] != ':') return fail(sc, i, "expected ':' after a key");
        i++;
    }
    if (!(i < n && (unsigned char)s[i] > ' ')) {
        i = skip_ws(s, n, i);
        if (i >= n) return fail_end(sc);
    }
    sc->pos = i;
    if (s[i] == '"')
        rc = scan_string(sc, val);
    else if (s[i] == '{' || s[i] == '[')
        rc = scan_container(sc, 2, val);
    else
        rc = scan_scalar(sc, val);
    if (rc < 0) return rc;
    sc->in_object = 1;
    return 1;
}

int atd_json_scan_end(atd_json_scanner *sc)
{
    sc->pos = skip_ws(sc->s, sc->len, sc->pos);
    if (sc->pos != sc->len) return fail(sc, sc->pos, "unexpected data after the JSON value");
    return 0;
}

int atd_json_validate(const char *text, size_t len, int max_values, int max_depth,
                      atd_json_error *err)
{
    atd_json_scanner sc;
    atd_json_val v;
    atd_json_scan_init(&sc, text, len, max_values, max_depth, err);
    int rc = atd_json_scan_value(&sc, &v);
    if (rc == 0) rc = atd_json_scan_end(&sc);
    return rc;
}
