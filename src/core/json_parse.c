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
 * that is used. Near the end of the text, SSE2 looks at the text's last 16 bytes again rather
 * than read past it; what no chunk covers (texts under 16 bytes) is left to the callers' byte
 * loops. */
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
#define SPECIAL16(p, bits)                                                                    \
    do {                                                                                      \
        __m128i x_ = _mm_loadu_si128((const __m128i *)(const void *)(p));                     \
        /* signed compare: bytes >= 0x80 are negative, so "< 0x20" catches them too */        \
        __m128i m_ = _mm_or_si128(_mm_cmpeq_epi8(x_, bsl), _mm_cmplt_epi8(x_, sp));           \
        if (quote) m_ = _mm_or_si128(m_, _mm_cmpeq_epi8(x_, dq));                             \
        (bits) = (unsigned)_mm_movemask_epi8(m_);                                             \
    } while (0)
    unsigned bits;
    while (n - i >= 16) {
        SPECIAL16(u + i, bits);
        if (bits) return i + (size_t)__builtin_ctz(bits);
        i += 16;
    }
    if (n >= 16 && i < n) {
        /* the last < 16 bytes: look at the text's last 16 (all inside it) and drop the flags
         * of the bytes before i; nothing flagged means nothing until the end */
        SPECIAL16(u + n - 16, bits);
        bits >>= 16 - (n - i);
        return bits ? i + (size_t)__builtin_ctz(bits) : n;
    }
#undef SPECIAL16
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

static inline size_t skip_digits(const char *s, size_t n, size_t i)
{
#if SWAR
    /* 8 at a time: timestamps have 13 digits. A byte is a digit when its high nibble is 3 and
     * adding 6 keeps it so; a carry out of a byte (>= 0xFA, not a digit) only disturbs bytes
     * above the first non-digit, so the lowest flag is exact. */
    while (n - i >= 8) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        const uint64_t hi = ONES * 0xF0, three = ONES * 0x30;
        uint64_t t = ((x & hi) ^ three) | (((x + ONES * 0x06) & hi) ^ three);
        if (t) return i + ((size_t)__builtin_ctzll(t) >> 3);
        i += 8;
    }
#endif
    while (i < n && (unsigned)(s[i] - '0') < 10) i++;
    return i;
}

/* The longest JSON number at s[i] (i < n), RFC grammar: its end, or (size_t)-1 when s[i] starts
 * none. What follows it is the caller's business. */
static size_t number_end(const char *s, size_t n, size_t i)
{
    size_t d;
    if (s[i] == '-') i++;
    if (i >= n) return (size_t)-1;
    if (s[i] == '0') {
        i++;
    } else {
        d = skip_digits(s, n, i);
        if (d == i) return (size_t)-1;
        i = d;
    }
    if (i < n && s[i] == '.') {
        d = skip_digits(s, n, i + 1);
        if (d == i + 1) return (size_t)-1;
        i = d;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        d = skip_digits(s, n, i);
        if (d == i) return (size_t)-1;
        i = d;
    }
    return i;
}

size_t atd_json_number_end(const char *s, size_t n, size_t i)
{
    return i < n ? number_end(s, n, i) : (size_t)-1;
}

int atd_json_number_check(const char *s, size_t n)
{
    return n > 0 && number_end(s, n, 0) == n ? 0 : -1;
}

int atd_json_number_is_integer(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '.' || s[i] == 'e' || s[i] == 'E') return 0;
    return 1;
}

/* --- the scanner ----------------------------------------------------------------------- */

#define NPOS ((size_t)-1)

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

/* A string that string_end refused at `bad` (the text's length when the text ended first). */
static int fail_string(atd_json_scanner *sc, size_t bad) __attribute__((cold, noinline));
static int fail_string(atd_json_scanner *sc, size_t bad)
{
    if (bad >= sc->len) return fail_end(sc);
    return fail(sc, bad, "invalid string (bad escape, control character or UTF-8)");
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
     * the jsmn-based reader did (it looked for NUL before counting). */
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

static inline int is_ws(unsigned char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

/* Skips whitespace from i; returns the first other offset (or n). */
static inline size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (unsigned char)s[i] <= ' ' && is_ws((unsigned char)s[i])) i++;
    return i;
}

/* The helpers below work on (text, length, offset) and return offsets, so that the loops that
 * call them keep their position in a register; they report problems as NPOS. */

/* The rest of a string from u[i] on (a byte that needs a look, or the last few bytes of the
 * text): escapes, UTF-8, errors. Out of line, so that the common case stays small. */
static size_t string_end_slow(const unsigned char *u, size_t n, size_t i, int *esc, size_t *bad)
    __attribute__((noinline));
static size_t string_end_slow(const unsigned char *u, size_t n, size_t i, int *esc, size_t *bad)
{
    for (;;) {
        if (i >= n) break;
        unsigned char c = u[i];
        if (c == '"') return i;
        if (c >= 0x20 && c < 0x80 && c != '\\') {
            i = skip_plain(u, i + 1, n, 1);
            continue;
        }
        size_t k;
        if (c == '\\') {
            *esc = 1;
            k = escape_len((const char *)u, n, i);
        } else if (c >= 0x80) {
            k = utf8_seq(u, n, i);
        } else {
            k = 0; /* raw control character */
        }
        if (!k) break;
        i = skip_plain(u, i + k, n, 1);
    }
    *bad = i;
    return NPOS;
}

/* From u[i], just past an opening quote: the offset of the closing quote, with the checks of
 * atd_json_string_check on the way (*esc set when a backslash occurs), or NPOS and *bad. The
 * common case, printable ASCII without escapes, stays inline. */
static inline __attribute__((always_inline)) size_t string_end(const unsigned char *u, size_t n,
                                                               size_t i, int *esc, size_t *bad)
{
    i = skip_plain(u, i, n, 1);
    if (__builtin_expect(i < n && u[i] == '"', 1)) return i;
    return string_end_slow(u, n, i, esc, bad);
}

/* A number or literal at s[i] (not whitespace, i < n): fills *v and returns its end, or NPOS
 * with the error filled. `01`, `1.5.2`, `truex`: the value must end where the grammar says. */
static size_t primitive_end(atd_json_scanner *sc, size_t i, atd_json_val *v)
{
    const char *s = sc->s;
    size_t n = sc->len, e;
    unsigned char c = (unsigned char)s[i];
    if (c == '-' || (unsigned)(c - '0') < 10) {
        e = number_end(s, n, i);
        v->type = ATD_JSON_NUMBER;
    } else if (c == 't' && n - i >= 4 && memcmp(s + i, "true", 4) == 0) {
        e = i + 4;
        v->type = ATD_JSON_TRUE;
    } else if (c == 'f' && n - i >= 5 && memcmp(s + i, "false", 5) == 0) {
        e = i + 5;
        v->type = ATD_JSON_FALSE;
    } else if (c == 'n' && n - i >= 4 && memcmp(s + i, "null", 4) == 0) {
        e = i + 4;
        v->type = ATD_JSON_NULL;
    } else if (c == 't' || c == 'f' || c == 'n') {
        e = NPOS;
    } else {
        fail(sc, i, c == ',' || c == ']' || c == '}' || c == ':' ? "expected a value"
                                                                  : "unexpected character");
        return NPOS;
    }
    if (e == NPOS || (e < n && !(s[e] == ',' || s[e] == '}' || s[e] == ']' || is_ws((unsigned char)s[e])))) {
        fail(sc, i, "invalid literal or number");
        return NPOS;
    }
    v->escaped = 0;
    v->start = i;
    v->end = e;
    return e;
}

/* The object or array at s[i] (its bracket) at nesting level `level` (the top level is 1),
 * with everything inside it; fills *v and returns its end, or NPOS with the error filled.
 * Iterative, with the kind of each open container in a bit stack, so hostile nesting costs no
 * C stack; the states are labels because they nest freely. Values count against max_values
 * as they are met: containers when they open, the others once read. */
static size_t container_end(atd_json_scanner *sc, int level, size_t i, atd_json_val *v)
{
    const char *s = sc->s;
    const unsigned char *u = (const unsigned char *)s;
    size_t n = sc->len, start = i, bad, e;
    uint64_t is_obj[ATD_JSON_DEPTH_CAP / 64];
    int top = 0; /* containers open in this call; the innermost is top - 1 */
    int values = sc->values, esc = 0;
    atd_json_val tmp;
#define INNER_IS_OBJ() (is_obj[(top - 1) >> 6] >> ((top - 1) & 63) & 1)
#define COUNT(at)                                                                             \
    do {                                                                                      \
        if (++values > sc->max_values) goto too_many_at;                                      \
        (void)(at);                                                                           \
    } while (0)

open: /* s[i] is '{' or '[' */
    if (level + top > sc->max_depth) {
        fail_depth(sc, i);
        return NPOS;
    }
    e = i;
    COUNT(e);
    if (s[i] == '{')
        is_obj[top >> 6] |= (uint64_t)1 << (top & 63);
    else
        is_obj[top >> 6] &= ~((uint64_t)1 << (top & 63));
    top++;
    i = skip_ws(s, n, i + 1);
    if (i >= n) goto end;
    if (INNER_IS_OBJ()) {
        if (s[i] == '}') goto closed;
        goto key;
    }
    if (s[i] == ']') goto closed;
    goto value;

key: /* at a non-whitespace byte, where an object wants a key */
    if (s[i] != '"') {
        fail(sc, i, "expected a string key");
        return NPOS;
    }
    e = string_end(u, n, i + 1, &esc, &bad);
    if (e == NPOS) goto bad_string;
    COUNT(e);
    i = skip_ws(s, n, e + 1);
    if (i >= n) goto end;
    if (s[i] != ':') {
        fail(sc, i, "expected ':' after a key");
        return NPOS;
    }
    i = skip_ws(s, n, i + 1);
    if (i >= n) goto end;
    /* fall through */
value: /* at a non-whitespace byte, where a value must start */
    if (s[i] == '{' || s[i] == '[') goto open;
    if (s[i] == '"') {
        e = string_end(u, n, i + 1, &esc, &bad);
        if (e == NPOS) goto bad_string;
        i = e + 1;
    } else {
        if ((e = primitive_end(sc, i, &tmp)) == NPOS) return NPOS;
        if (e >= n) goto end; /* truncated: say so before counting (see value_end) */
        i = e;
    }
    COUNT(e);
after: /* just past a value inside the innermost container */
    i = skip_ws(s, n, i);
    if (i >= n) goto end;
    if (INNER_IS_OBJ()) {
        if (s[i] == ',') {
            i = skip_ws(s, n, i + 1);
            if (i >= n) goto end;
            goto key;
        }
        if (s[i] != '}') {
            fail(sc, i, "expected ',' or '}'");
            return NPOS;
        }
    } else {
        if (s[i] == ',') {
            i = skip_ws(s, n, i + 1);
            if (i >= n) goto end;
            goto value;
        }
        if (s[i] != ']') {
            fail(sc, i, "expected ',' or ']'");
            return NPOS;
        }
    }
closed: /* at the closing bracket of the innermost container */
    i++;
    if (--top > 0) goto after;
#undef INNER_IS_OBJ
#undef COUNT
    sc->values = values;
    v->type = s[start] == '{' ? ATD_JSON_OBJECT : ATD_JSON_ARRAY;
    v->escaped = 0;
    v->start = start;
    v->end = i;
    return i;

end:
    fail_end(sc);
    return NPOS;
bad_string:
    fail_string(sc, bad);
    return NPOS;
too_many_at:
    fail_big(sc, e);
    return NPOS;
}

/* Any value at s[i] (not whitespace, i < n) at nesting level `level`: its end, or NPOS. */
static size_t value_end(atd_json_scanner *sc, int level, size_t i, atd_json_val *v)
{
    const unsigned char *u = (const unsigned char *)sc->s;
    size_t e, bad;
    if (u[i] == '{' || u[i] == '[') return container_end(sc, level, i, v);
    if (u[i] == '"') {
        int esc = 0;
        e = string_end(u, sc->len, i + 1, &esc, &bad);
        if (e == NPOS) {
            fail_string(sc, bad);
            return NPOS;
        }
        v->type = ATD_JSON_STRING;
        v->escaped = (uint8_t)esc;
        v->start = i + 1;
        v->end = e;
        e++;
    } else if ((e = primitive_end(sc, i, v)) == NPOS) {
        return NPOS;
    } else if (level > 1 && e >= sc->len) {
        /* a number or literal that ends the text inside a container: the text is truncated,
         * and that is what is said even when this value would also be one too many (the
         * jsmn-based reader answered so, and it is the more useful of the two) */
        fail_end(sc);
        return NPOS;
    }
    if (++sc->values > sc->max_values) {
        fail_big(sc, i);
        return NPOS;
    }
    return e;
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

int atd_json_scan_value(atd_json_scanner *sc, atd_json_val *v)
{
    int rc = scan_start(sc);
    if (rc < 0) return rc;
    size_t e = value_end(sc, 1, sc->pos, v);
    if (e == NPOS) return sc->err->code;
    sc->pos = e;
    return 0;
}

int atd_json_scan_end(atd_json_scanner *sc)
{
    sc->pos = skip_ws(sc->s, sc->len, sc->pos);
    if (sc->pos != sc->len) return fail(sc, sc->pos, "unexpected data after the JSON value");
    return 0;
}

/* --- key sets ----------------------------------------------------------------------- */

/* lo/hi: the key's bytes, zero-padded (key_words). The top byte of a product depends on every
 * bit of the input. The length is left out: the short path of fast_members has the bytes in
 * a register, not the length, and a key differs from a name with the same bytes and hash only
 * by trailing NULs (an escaped \u0000), which the full compare catches. */
static inline unsigned keyset_hash(uint64_t mul, uint64_t lo, uint64_t hi)
{
    return atd_json_keyset_hash(mul, lo, hi);
}

static inline int keyset_probe(const atd_json_keyset *ks, uint64_t lo, uint64_t hi, size_t len)
{
    return atd_json_keyset_probe(ks, lo, hi, len);
}

/* Bytes p[0..n), n <= 16, as two zero-padded words in the machine's byte order (the short
 * path of fast_members, little-endian only, loads them straight from the text). */
static inline void key_words(const char *p, size_t n, uint64_t *lo, uint64_t *hi)
{
    uint64_t w[2] = {0, 0};
    memcpy(w, p, n);
    *lo = w[0];
    *hi = w[1];
}

int atd_json_keyset_init(atd_json_keyset *ks, const char *const *names, int n)
{
    memset(ks, 0, sizeof *ks);
    if (n < 0 || n > ATD_JSON_KEYSET_MAX) return ATD_EINVAL;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        if (len > ATD_JSON_KEYSET_KEY_MAX) return ATD_EINVAL;
        key_words(names[i], len, &ks->key[i].lo, &ks->key[i].hi);
        ks->key[i].len = (uint32_t)len;
        for (int j = 0; j < i; j++)
            if (ks->key[j].lo == ks->key[i].lo && ks->key[j].hi == ks->key[i].hi &&
                ks->key[j].len == len)
                return ATD_EINVAL;
    }
    ks->n = n;
    /* a multiplier under which no two keys share a bucket, so that a lookup is one probe
     * (with 33 keys in 256 buckets about one in eight fits); else the one with the fewest
     * collisions, and lookups probe on */
    uint64_t mul = 0x9E3779B97F4A7C15ull;
    int best_moves = -1;
    for (int attempt = 0; attempt < 4096 && best_moves != 0; attempt++) {
        uint8_t bucket[256] = {0};
        int moves = 0;
        for (int i = 0; i < n; i++) {
            unsigned h = keyset_hash(mul, ks->key[i].lo, ks->key[i].hi);
            while (bucket[h]) {
                h = (h + 1) & 255;
                moves++;
            }
            bucket[h] = (uint8_t)(i + 1);
        }
        if (best_moves < 0 || moves < best_moves) {
            best_moves = moves;
            ks->mul = mul;
            memcpy(ks->bucket, bucket, sizeof bucket);
        }
        mul = (mul * 0x5851F42D4C957F2Dull + 0x14057B7EF767814Full) | 1; /* next candidate */
    }
    ks->perfect = best_moves == 0;
    return 0;
}

int atd_json_keyset_find(const atd_json_keyset *ks, const char *key, size_t n)
{
    if (n > ATD_JSON_KEYSET_KEY_MAX) return -1;
    uint64_t lo, hi;
    key_words(key, n, &lo, &hi);
    return keyset_probe(ks, lo, hi, n);
}

/* --- objects --------------------------------------------------------------------------- */

#if defined(__SSE2__) && SWAR
/* The common members of a flat object, from s[i] == '"' (a key's opening quote) on: a key of
 * printable ASCII without escapes (at most 16 bytes), ':', then a string of the same kind, a
 * number or a literal, then `,"` or `}`, nothing else and no whitespace. Each such member is
 * read as the general loop of scan_members would read it (the same checks, the same value);
 * at the first member that is anything else, or that comes within 32 bytes of the end of the
 * text (the 16-byte loads must stay inside it), it stops and returns where that member starts,
 * which the general loop then reads. After the closing '}' it returns just past it with
 * *closed set. values/got are the scan's counters, updated for the members read.
 *
 * What makes it cheaper than the general loop: bounds checked once per member and once per
 * 16 bytes of a string against precomputed limits, the value limit checked once for the most
 * members the rest of the text can hold, the key looked up from the register that found its
 * end (one hash probe, one 16-byte compare), two-byte compares for `":` and `,"`. */
static inline __attribute__((always_inline)) size_t
fast_members(const unsigned char *u, size_t n, size_t i, const atd_json_keyset *ks,
             atd_json_val *vals, uint64_t *got, int *values, int max_values, int *closed)
{
    /* a member takes at least 5 bytes (`"":0,`): when even that many fit under max_values,
     * no member here can hit it */
    if (n < 24 || (size_t)*values + 2 * ((n - i) / 5 + 1) > (size_t)max_values) return i;
    /* a byte needs a look when it is '"', '\\', < 0x20 or >= 0x80 (signed compare) */
    const __m128i bsl = _mm_set1_epi8('\\'), dq = _mm_set1_epi8('"'), sp = _mm_set1_epi8(0x20);
#define LOOK(x)                                                                               \
    ((unsigned)_mm_movemask_epi8(_mm_or_si128(                                                \
        _mm_or_si128(_mm_cmpeq_epi8((x), bsl), _mm_cmplt_epi8((x), sp)), _mm_cmpeq_epi8((x), dq))))
#define LOAD(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
    /* ones[16 - k .. 32 - k): k bytes 0xFF, then zeros: keeps the first k bytes of a key */
    static const unsigned char ones[32] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                           0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    /* the last member start (a member reads at most 24 bytes from its start before it knows
     * its value's end: key 16, `":`, 5 of a literal) and the last 16-byte load */
    const size_t lim = n - 24, lim16 = n - 16;
    const uint64_t mul = ks->mul;
    int nv = *values;
    uint64_t g = *got;
    const char *s = (const char *)u;
    uint16_t two;
    for (;;) {
        if (i > lim) break;
        /* the key: its closing quote is the first byte that needs a look */
        __m128i x = LOAD(u + i + 1);
        size_t k = (size_t)__builtin_ctz(LOOK(x) | 0x10000);
        size_t ke = i + 1 + k;
        memcpy(&two, u + ke, 2);
        if (two != ('"' | ':' << 8)) break;
        __m128i xm = _mm_and_si128(x, LOAD(ones + 16 - k));
        uint64_t lo = (uint64_t)_mm_cvtsi128_si64(xm);
        uint64_t hi = (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(xm, xm));
        /* the value */
        size_t vs = ke + 2, e;
        unsigned char c = u[vs];
        atd_json_val v;
        if (c == '"') {
            size_t p = vs + 1;
            unsigned mv;
            for (;;) {
                if (p > lim16) {
                    /* the last < 16 bytes: the text's last 16, without the flags before p
                     * (p <= n: at most 16 of them) */
                    mv = LOOK(LOAD(u + lim16)) >> (p - lim16);
                    if (!mv) goto stop; /* no end before the text's: the general loop says */
                    break;
                }
                if ((mv = LOOK(LOAD(u + p))) != 0) break;
                p += 16;
            }
            p += (size_t)__builtin_ctz(mv);
            if (u[p] != '"') goto stop;
            v.type = ATD_JSON_STRING;
            v.start = vs + 1;
            v.end = p;
            e = p + 1;
        } else if ((unsigned)(c - '1') < 9) {
            /* digits, then (rarely) a fraction or an exponent */
            e = skip_digits(s, n, vs + 1);
            if (e < n && (u[e] == '.' || (u[e] | 0x20) == 'e')) e = number_end(s, n, vs);
            if (e == NPOS) goto stop;
            v.type = ATD_JSON_NUMBER;
            v.start = vs;
            v.end = e;
        } else if (c == '0' || c == '-') {
            e = number_end(s, n, vs);
            if (e == NPOS) goto stop;
            v.type = ATD_JSON_NUMBER;
            v.start = vs;
            v.end = e;
        } else if (c == 't' && memcmp(u + vs, "true", 4) == 0) {
            v.type = ATD_JSON_TRUE, v.start = vs, v.end = e = vs + 4;
        } else if (c == 'f' && memcmp(u + vs, "false", 5) == 0) {
            v.type = ATD_JSON_FALSE, v.start = vs, v.end = e = vs + 5;
        } else if (c == 'n' && memcmp(u + vs, "null", 4) == 0) {
            v.type = ATD_JSON_NULL, v.start = vs, v.end = e = vs + 4;
        } else {
            break; /* objects, arrays, whitespace, errors */
        }
        v.escaped = 0;
        /* what follows: `,"` (the next key) or '}' */
        if (e >= n) break;
        int end = u[e] == '}';
        if (!end) {
            if (e + 1 >= n) break;
            memcpy(&two, u + e, 2);
            if (two != (',' | '"' << 8)) break;
        }
        /* where the value goes */
        unsigned h = keyset_hash(mul, lo, hi), b = ks->bucket[h];
        int f = -1;
        if (b) {
            if (_mm_movemask_epi8(_mm_cmpeq_epi8(xm, LOAD(&ks->key[b - 1].lo))) == 0xFFFF)
                f = (int)b - 1;
            else if (!ks->perfect)
                f = keyset_probe(ks, lo, hi, k);
        }
        if (f >= 0) {
            vals[f] = v;
            g |= (uint64_t)1 << f;
        }
        nv += 2;
        i = e + 1;
        if (end) {
            *closed = 1;
            break;
        }
    }
stop:
#undef LOOK
#undef LOAD
    *values = nv;
    *got = g;
    return i;
}
#endif

/* The body of atd_json_scan_object (slot() for keys) and atd_json_scan_fields (a keyset): one
 * copy of each is compiled, ks being a constant in each. */
static inline __attribute__((always_inline)) int
scan_members(atd_json_scanner *sc, atd_json_slot_fn slot, void *arg, const atd_json_keyset *ks,
             atd_json_val *vals, uint64_t *seen)
{
    int rc = scan_start(sc);
    if (rc < 0) return rc;
    const char *s = sc->s;
    const unsigned char *u = (const unsigned char *)s;
    size_t n = sc->len, i = sc->pos, kstart, ke, bad;
    uint64_t got = 0;
    int values = sc->values, max_values = sc->max_values; /* kept in sync around value_end */
    if (s[i] != '{') return fail(sc, i, "expected a JSON object");
    if (++values > max_values) return fail_big(sc, i);
    /* Compact JSON (no whitespace between tokens) passes the first test at each step; the
     * general case goes through skip_ws. */
    i = skip_ws(s, n, i + 1);
    if (i >= n) return fail_end(sc);
    if (s[i] == '}') {
        i++;
        goto closed;
    }
    for (;;) {
        /* "key" */
        if (s[i] != '"') return fail(sc, i, "expected a string key");
#if defined(__SSE2__) && SWAR
        if (ks) {
            int end = 0;
            i = fast_members(u, n, i, ks, vals, &got, &values, max_values, &end);
            if (end) break;
        }
#endif
        int kesc = 0;
        kstart = i + 1;
        ke = string_end(u, n, kstart, &kesc, &bad);
        if (ke == NPOS) return fail_string(sc, bad);
        if (++values > max_values) return fail_big(sc, ke);
        i = ke + 1;
        /* : */
        if (__builtin_expect(!(i < n && s[i] == ':'), 0)) {
            i = skip_ws(s, n, i);
            if (i >= n) return fail_end(sc);
            if (s[i] != ':') return fail(sc, i, "expected ':' after a key");
        }
        i++;
        if (__builtin_expect(!(i < n && u[i] > ' '), 0)) {
            i = skip_ws(s, n, i);
            if (i >= n) return fail_end(sc);
        }
        /* value */
        atd_json_val v;
        if (s[i] == '"') {
            int esc = 0;
            size_t e = string_end(u, n, i + 1, &esc, &bad);
            if (e == NPOS) return fail_string(sc, bad);
            v.type = ATD_JSON_STRING;
            v.escaped = (uint8_t)esc;
            v.start = i + 1;
            v.end = e;
            if (++values > max_values) return fail_big(sc, e);
            i = e + 1;
        } else {
            sc->values = values;
            size_t e = value_end(sc, 2, i, &v);
            if (e == NPOS) return sc->err->code;
            values = sc->values;
            i = e;
        }
        /* the key, unescaped when it has to be: where does the value go? */
        int f;
        if (!kesc) {
            if (ks)
                f = atd_json_keyset_find(ks, s + kstart, ke - kstart);
            else
                f = ke - kstart <= ATD_JSON_KEY_MAX ? slot(s + kstart, ke - kstart, arg) : -1;
        } else if (ke - kstart <= 6 * ATD_JSON_KEY_MAX) {
            /* a longer escaped key decodes to more than ATD_JSON_KEY_MAX bytes (at most 6
             * bytes of text per decoded byte) */
            char kbuf[6 * ATD_JSON_KEY_MAX];
            size_t kn = atd_json_string_unescape(s + kstart, ke - kstart, kbuf);
            if (ks)
                f = atd_json_keyset_find(ks, kbuf, kn);
            else
                f = kn <= ATD_JSON_KEY_MAX ? slot(kbuf, kn, arg) : -1;
        } else {
            f = -1;
        }
        if (f >= 0 && f < 64) {
            vals[f] = v;
            got |= (uint64_t)1 << f;
        }
        /* , or } */
        if (__builtin_expect(i < n && s[i] == ',', 1)) {
            i++;
        } else {
            i = skip_ws(s, n, i);
            if (i >= n) return fail_end(sc);
            if (s[i] == '}') {
                i++;
                break;
            }
            if (s[i] != ',') return fail(sc, i, "expected ',' or '}'");
            i++;
        }
        if (__builtin_expect(!(i < n && s[i] == '"'), 0)) {
            i = skip_ws(s, n, i);
            if (i >= n) return fail_end(sc);
        }
    }
closed:
    sc->pos = i;
    sc->values = values;
    *seen = got;
    return atd_json_scan_end(sc);
}

int atd_json_scan_object(atd_json_scanner *sc, atd_json_slot_fn slot, void *arg,
                         atd_json_val *vals, uint64_t *seen)
{
    return scan_members(sc, slot, arg, NULL, vals, seen);
}

#if defined(__x86_64__) && defined(__GNUC__) && defined(__SSE2__)
/* The same code for CPUs with AVX2: the compiler's three-operand (VEX) forms of the SSE2 steps
 * save the register copies of two-operand SSE2. Chosen once, at start. */
static int scan_fields_avx2(atd_json_scanner *sc, const atd_json_keyset *ks, atd_json_val *vals,
                            uint64_t *seen) __attribute__((target("avx2,bmi,bmi2")));
static int scan_fields_avx2(atd_json_scanner *sc, const atd_json_keyset *ks, atd_json_val *vals,
                            uint64_t *seen)
{
    return scan_members(sc, NULL, NULL, ks, vals, seen);
}
static int have_avx2;
static void cpu_init(void) __attribute__((constructor));
static void cpu_init(void)
{
    __builtin_cpu_init();
    have_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2");
}
#endif

void atd_json_scan_fields_use_avx2(int on)
{
#if defined(__x86_64__) && defined(__GNUC__) && defined(__SSE2__)
    if (on)
        cpu_init();
    else
        have_avx2 = 0;
#else
    (void)on;
#endif
}

int atd_json_scan_fields(atd_json_scanner *sc, const atd_json_keyset *ks, atd_json_val *vals,
                         uint64_t *seen)
{
#if defined(__x86_64__) && defined(__GNUC__) && defined(__SSE2__)
    if (have_avx2) return scan_fields_avx2(sc, ks, vals, seen);
#endif
    return scan_members(sc, NULL, NULL, ks, vals, seen);
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
