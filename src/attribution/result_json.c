/* A result as one line of §7 JSON, every key present, in §7's order. On the replay's hot
 * path: the size is bounded first (one reserve), then bytes are written straight into the
 * buffer. */
#include "attribd/engine.h"

/* The name of a result type and its length. */
static atd_str type_name(atd_result_type t)
{
    switch (t) {
    case ATD_RES_INSTALL: return ATD_STR_LIT("install");
    case ATD_RES_REINSTALL: return ATD_STR_LIT("reinstall");
    case ATD_RES_REATTRIBUTION: return ATD_STR_LIT("re-attribution");
    case ATD_RES_SESSION: return ATD_STR_LIT("session");
    case ATD_RES_REENGAGEMENT: return ATD_STR_LIT("re-engagement");
    case ATD_RES_INAPP: return ATD_STR_LIT("inapp");
    default: return ATD_STR_LIT("none");
    }
}

/* worst case of a string as JSON: every byte as \u00XX, quotes */
static size_t str_bound(atd_str s) { return s.p ? s.n * 6 + 2 : 4; }

static size_t ref_bound(const atd_touch_ref *t)
{
    return 400 + str_bound(t->media_source) + str_bound(t->campaign) +
           str_bound(t->campaign_id) + str_bound(t->adset) + str_bound(t->ad) +
           str_bound(t->site_id) + str_bound(t->channel) + str_bound(t->click_id);
}

typedef struct w {
    char *p;
} w;

static inline void lit(w *o, const char *s, size_t n)
{
    memcpy(o->p, s, n);
    o->p += n;
}
#define LIT(o, s) lit(o, s, sizeof(s) - 1)

static char *str_escaped(char *p, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            *p++ = (char)c;
            continue;
        }
        *p++ = '\\';
        switch (c) {
        case '"': *p++ = '"'; break;
        case '\\': *p++ = '\\'; break;
        case '\n': *p++ = 'n'; break;
        case '\r': *p++ = 'r'; break;
        case '\t': *p++ = 't'; break;
        case '\b': *p++ = 'b'; break;
        case '\f': *p++ = 'f'; break;
        default:
            *p++ = 'u';
            *p++ = '0';
            *p++ = '0';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        }
    }
    return p;
}

#ifdef __SSE2__
#include <emmintrin.h>

/* The bytes of x (those of mask: a bit per byte) that need escaping: below 0x20, '"', '\\'. */
static inline int vec_needs_escape(__m128i x, int mask)
{
    __m128i q = _mm_cmpeq_epi8(x, _mm_set1_epi8('"'));
    __m128i b = _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'));
    __m128i c = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1f)), x); /* x <= 0x1f */
    return _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(q, b), c)) & mask;
}

static inline __m128i load8(const char *p)
{
    return _mm_loadl_epi64((const __m128i *)(const void *)p);
}

static inline void store8(char *p, __m128i x) { _mm_storel_epi64((__m128i *)(void *)p, x); }

/* The output has room for the worst case (6 bytes per input byte), so a clean string is
 * checked and copied 16 bytes at a time (SSE2, every x86-64 has it) without a call, never
 * reading past its end: from 16 bytes by 16 (the last block overlapping the one before), from
 * 8 as two overlapping 8-byte halves, from 4 as two 4-byte ones, up to 3 as its first, middle
 * and last byte. A string with a byte to escape goes byte by byte. */
static void str(w *o, atd_str s)
{
    if (!s.p) {
        LIT(o, "null");
        return;
    }
    char *p = o->p;
    *p++ = '"';
    const char *in = s.p;
    size_t n = s.n;
    if (n >= 16) {
        size_t i = 0;
        __m128i x;
        for (; i + 16 <= n; i += 16) {
            x = _mm_loadu_si128((const __m128i *)(const void *)(in + i));
            if (vec_needs_escape(x, 0xffff)) goto slow;
            _mm_storeu_si128((__m128i *)(void *)(p + i), x);
        }
        if (i < n) {
            x = _mm_loadu_si128((const __m128i *)(const void *)(in + n - 16));
            if (vec_needs_escape(x, 0xffff)) goto slow;
            _mm_storeu_si128((__m128i *)(void *)(p + n - 16), x);
        }
    } else if (n >= 8) {
        __m128i a = load8(in), b = load8(in + n - 8);
        if (vec_needs_escape(_mm_unpacklo_epi64(a, b), 0xffff)) goto slow;
        store8(p, a);
        store8(p + n - 8, b);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, in, 4);
        memcpy(&b, in + n - 4, 4);
        if (vec_needs_escape(_mm_cvtsi64_si128((long long)(a | (uint64_t)b << 32)), 0xff))
            goto slow;
        memcpy(p, &a, 4);
        memcpy(p + n - 4, &b, 4);
    } else if (n) {
        char f = in[0], m = in[n / 2], l = in[n - 1];
        int x = (uint8_t)f | (uint8_t)m << 8 | (uint8_t)l << 16;
        if (vec_needs_escape(_mm_cvtsi32_si128(x), 0x7)) goto slow;
        p[0] = f;
        p[n / 2] = m;
        p[n - 1] = l;
    }
    p += n;
    goto done;
slow:
    p = str_escaped(p, in, n);
done:
    *p++ = '"';
    o->p = p;
}
#else
/* SWAR tests over 8 bytes: whether one is below 0x20, a '"' or a '\\' (exact as a yes/no,
 * which is all that is asked: the byte loop then finds which). */
static inline int word_needs_escape(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
    uint64_t t = ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b);
    return (t & high) != 0;
}

/* The portable form of the above: a word at a time from 8 bytes (the last word overlapping
 * the one before), shorter strings byte by byte. */
static void str(w *o, atd_str s)
{
    if (!s.p) {
        LIT(o, "null");
        return;
    }
    char *p = o->p;
    *p++ = '"';
    const char *in = s.p;
    size_t n = s.n;
    if (n >= 8) {
        size_t i = 0;
        uint64_t x;
        for (; i + 8 <= n; i += 8) {
            memcpy(&x, in + i, 8);
            if (word_needs_escape(x)) goto slow;
            memcpy(p + i, &x, 8);
        }
        if (i < n) {
            memcpy(&x, in + n - 8, 8);
            if (word_needs_escape(x)) goto slow;
            memcpy(p + n - 8, &x, 8);
        }
        p += n;
        goto done;
    }
slow:
    p = str_escaped(p, in, n);
done:
    *p++ = '"';
    o->p = p;
}
#endif

/* The 8 decimal digits of v (< 10^8, leading zeros included) as ASCII bytes of a word, the
 * first digit in the low byte: both halves of 4 digits divided by 100 at once, then the four
 * 2-digit lanes by 10 at once (multiplications by reciprocals, exact in these ranges: n/100 =
 * n * 5243 >> 19 for n < 10^4, n/10 = n * 103 >> 10 for n < 100), no lane overflowing into
 * the next. */
static inline uint64_t digits8(uint32_t v)
{
    uint64_t x = (v / 10000) | (uint64_t)(v % 10000) << 32;
    uint64_t q = ((x * 5243) >> 19) & 0x0000007f0000007fULL;
    x = q | (x - q * 100) << 16;
    q = ((x * 103) >> 10) & 0x000f000f000f000fULL;
    x = q | (x - q * 10) << 8;
    return x + 0x3030303030303030ULL;
}

/* v (< 10^8) without leading zeros at p: 8 bytes are written, the digits are the first ones;
 * returns the end of the digits. */
static inline char *digits_lead(char *p, uint32_t v)
{
    uint64_t d = digits8(v);
    /* the leading zeros are the low bytes of d - '0's; v == 0 keeps one */
    unsigned zeros = v ? (unsigned)__builtin_ctzll(d - 0x3030303030303030ULL) / 8 : 7;
    d >>= 8 * zeros;
    memcpy(p, &d, 8);
    return p + 8 - zeros;
}

static inline char *digits_all8(char *p, uint32_t v)
{
    uint64_t d = digits8(v);
    memcpy(p, &d, 8);
    return p + 8;
}

/* Decimal, 8 digits at a time (a ts of 13 digits: 5 + 8). Writes up to 7 bytes past the
 * number: the bounds of atd_result_to_json have room for it. */
static void i64(w *o, int64_t v)
{
    char *p = o->p;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    if (v < 0) *p++ = '-';
    if (u < 100000000) {
        p = digits_lead(p, (uint32_t)u);
    } else {
        uint64_t hi = u / 100000000;
        if (hi < 100000000) {
            p = digits_lead(p, (uint32_t)hi);
        } else { /* 17 to 20 digits */
            p = digits_lead(p, (uint32_t)(hi / 100000000));
            p = digits_all8(p, (uint32_t)(hi % 100000000));
        }
        p = digits_all8(p, (uint32_t)(u % 100000000));
    }
    o->p = p;
}

static void touch_type(w *o, atd_event_type t)
{
    if (t == ATD_EV_CLICK) LIT(o, "\"click\"");
    else LIT(o, "\"impression\"");
}

static void match_type(w *o, int prob)
{
    if (prob) LIT(o, "\"probabilistic\"");
    else LIT(o, "\"id\"");
}

static void attribution(w *o, atd_attr_status st, const atd_touch_ref *t)
{
    if (st != ATD_ATTR_NON_ORGANIC) {
        if (st == ATD_ATTR_ORGANIC) LIT(o, "{\"status\":\"organic\"");
        else LIT(o, "{\"status\":\"unknown\"");
        LIT(o, ",\"media_source\":null,\"campaign\":null,\"campaign_id\":null,\"adset\":null,"
               "\"ad\":null,\"site_id\":null,\"channel\":null,\"click_id\":null,"
               "\"touch_type\":null,\"touch_ts\":null,\"match_type\":null}");
        return;
    }
    LIT(o, "{\"status\":\"non_organic\",\"media_source\":");
    str(o, t->media_source);
    LIT(o, ",\"campaign\":");
    str(o, t->campaign);
    LIT(o, ",\"campaign_id\":");
    str(o, t->campaign_id);
    LIT(o, ",\"adset\":");
    str(o, t->adset);
    LIT(o, ",\"ad\":");
    str(o, t->ad);
    LIT(o, ",\"site_id\":");
    str(o, t->site_id);
    LIT(o, ",\"channel\":");
    str(o, t->channel);
    LIT(o, ",\"click_id\":");
    str(o, t->click_id);
    LIT(o, ",\"touch_type\":");
    touch_type(o, t->touch_type);
    LIT(o, ",\"touch_ts\":");
    i64(o, t->touch_ts);
    LIT(o, ",\"match_type\":");
    match_type(o, t->probabilistic);
    *o->p++ = '}';
}

void atd_result_to_json(const atd_result *r, atd_buf *b)
{
    /* 1201: the literals and numbers outside the touches (under 600 bytes; numbers write up
     * to 7 bytes past themselves, i64), the organic attribution's literal included; a touch
     * written counts ref_bound */
    size_t bound = 1201 + str_bound(r->app_id) + str_bound(r->device_id) +
                   str_bound(r->event_name) + str_bound(r->currency) +
                   str_bound(r->fraud_media_source);
    if (r->status == ATD_ATTR_NON_ORGANIC) bound += ref_bound(&r->attribution);
    if (r->has_retargeting) bound += ref_bound(&r->retargeting);
    for (size_t i = 0; i < r->n_contributors; i++) bound += ref_bound(&r->contributors[i]);
    atd_buf_reserve(b, bound);
    w o = {b->p + b->n};
    LIT(&o, "{\"event_type\":\"");
    atd_str tn = type_name(r->type);
    lit(&o, tn.p, tn.n);
    LIT(&o, "\",\"app_id\":");
    str(&o, r->app_id);
    LIT(&o, ",\"device_id\":");
    str(&o, r->device_id);
    LIT(&o, ",\"ts\":");
    i64(&o, r->ts);
    LIT(&o, ",\"install_ts\":");
    if (r->has_install_ts) i64(&o, r->install_ts);
    else LIT(&o, "null");
    LIT(&o, ",\"attribution\":");
    attribution(&o, r->status, &r->attribution);
    LIT(&o, ",\"retargeting\":");
    if (r->has_retargeting) attribution(&o, ATD_ATTR_NON_ORGANIC, &r->retargeting);
    else LIT(&o, "null");
    LIT(&o, ",\"contributors\":[");
    for (size_t i = 0; i < r->n_contributors; i++) {
        const atd_touch_ref *t = &r->contributors[i];
        if (i) *o.p++ = ',';
        LIT(&o, "{\"media_source\":");
        str(&o, t->media_source);
        LIT(&o, ",\"campaign\":");
        str(&o, t->campaign);
        LIT(&o, ",\"touch_type\":");
        touch_type(&o, t->touch_type);
        LIT(&o, ",\"touch_ts\":");
        i64(&o, t->touch_ts);
        LIT(&o, ",\"match_type\":");
        match_type(&o, t->probabilistic);
        *o.p++ = '}';
    }
    LIT(&o, "],\"fraud\":");
    if (r->fraud_reason) {
        LIT(&o, "{\"reason\":\"");
        lit(&o, r->fraud_reason, strlen(r->fraud_reason));
        LIT(&o, "\",\"media_source\":");
        str(&o, r->fraud_media_source);
        LIT(&o, ",\"touch_ts\":");
        i64(&o, r->fraud_touch_ts);
        *o.p++ = '}';
    } else {
        LIT(&o, "null");
    }
    if (r->type == ATD_RES_INAPP) {
        LIT(&o, ",\"event_name\":");
        str(&o, r->event_name);
        LIT(&o, ",\"revenue\":");
        b->n = (size_t)(o.p - b->p);
        if (r->has_revenue) atd_json_double(b, r->revenue);
        else atd_buf_put(b, "null", 4);
        atd_buf_reserve(b, str_bound(r->currency) + 16);
        o.p = b->p + b->n;
        LIT(&o, ",\"currency\":");
        str(&o, r->currency);
    }
    *o.p++ = '}';
    *o.p = 0; /* NUL-terminated like every atd_buf, not counted */
    b->n = (size_t)(o.p - b->p);
}
