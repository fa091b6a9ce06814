/* JSON → atd_event: the validation of ATTRIBUTION.md §1 at the edge. Decisions that §1 leaves
 * open are written down in docs/events.md. */
#include "attribd/event.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "attribd/config.h"
#include "attribd/ip.h"
#include "attribd/json_parse.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define EVENT_MAX_VALUES 4096 /* values, keys included: an event has ~35 fields; the rest is
                                * room for event_value */
#define EVENT_MAX_DEPTH 32

/* The JSON keys of §1. */
enum field {
    F_TYPE, F_TS, F_APP_ID, F_IP, F_USER_AGENT, F_ADVERTISING_ID,
    F_MEDIA_SOURCE, F_CAMPAIGN, F_CAMPAIGN_ID, F_ADSET, F_ADSET_ID, F_AD, F_AD_ID, F_SITE_ID,
    F_CHANNEL, F_CLICK_ID, F_IS_RETARGETING, F_CLICK_LOOKBACK, F_VIEW_LOOKBACK,
    F_DEEP_LINK_VALUE, F_COST_VALUE, F_COST_CURRENCY,
    F_DEVICE_ID, F_PLATFORM, F_OS_VERSION, F_DEVICE_MODEL, F_APP_VERSION, F_CUSTOMER_USER_ID,
    F_EVENT_ID,
    F_EVENT_NAME, F_REVENUE, F_CURRENCY, F_EVENT_VALUE,
    F__COUNT
};

static const char *const field_name[F__COUNT] = {
    "type", "ts", "app_id", "ip", "user_agent", "advertising_id",
    "media_source", "campaign", "campaign_id", "adset", "adset_id", "ad", "ad_id", "site_id",
    "channel", "click_id", "is_retargeting", "click_lookback", "view_lookback",
    "deep_link_value", "cost_value", "cost_currency",
    "device_id", "platform", "os_version", "device_model", "app_version", "customer_user_id",
    "event_id",
    "event_name", "revenue", "currency", "event_value",
};

/* Key → field: a hash probe (atd_json_keyset), built once before main. */
static atd_json_keyset field_keys;

static void field_keys_init(void) __attribute__((constructor));
static void field_keys_init(void)
{
    if (atd_json_keyset_init(&field_keys, field_name, F__COUNT) != 0) abort(); /* a typo */
}

typedef struct ctx {
    const char *s;
    uint64_t seen;              /* bit f: field f occurred (val[f] is then set) */
    atd_json_val val[F__COUNT]; /* each field's value (its last occurrence) */
    atd_arena *arena;
    atd_event_error *err;
    /* A text of up to COPY_MAX bytes is copied whole into the arena, once: a kept string is
     * then its own span of the copy, unescaped in place (never longer) and NUL-terminated
     * over its closing quote (or the delimiter after a number or object), which no other
     * value owns. That is one copy per event instead of one allocation and copy per string. */
    char *copy;
    /* Everything else (a longer text's strings, the canonical form of an ip, the URL's app)
     * is carved from one arena block: `need` bounds what the event can keep, since every kept
     * string is an unescaped (never longer) copy of a distinct value of the text. */
    size_t need;
    char *buf;
    size_t left;
} ctx;

#define COPY_MAX 4096

static int reject(atd_event_error *err, int status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int reject(atd_event_error *err, int status, const char *field, const char *fmt, ...)
{
    err->http_status = status;
    err->field = field;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return ATD_EINVAL;
}

/* The JSON type of field f, or 0 when it is absent (missing or null). */
static inline int ftype(const ctx *c, int f)
{
    if (!(c->seen >> f & 1)) return 0;
    int t = c->val[f].type;
    return t == ATD_JSON_NULL ? 0 : t;
}

/* n bytes of the event's block in the arena (see ctx.need). */
static inline char *take(ctx *c, size_t n)
{
    if (!c->buf) {
        c->buf = atd_arena_alloc(c->arena, c->need);
        c->left = c->need;
    }
    if (n > c->left) return atd_arena_alloc(c->arena, n); /* not expected: need is a bound */
    char *p = c->buf;
    c->buf += n;
    c->left -= n;
    return p;
}

/* str_copy for an escaped string or a text that was not copied whole: out of line. */
static int str_copy_slow(ctx *c, int f, atd_str *out) __attribute__((noinline));
static int str_copy_slow(ctx *c, int f, atd_str *out)
{
    const atd_json_val *t = &c->val[f];
    const char *p = c->s + t->start;
    size_t n = t->end - t->start;
    char *dst;
    if (c->copy) {
        dst = c->copy + t->start;
        if (t->escaped) n = atd_json_string_unescape(dst, n, dst); /* in place: never overtakes */
    } else {
        dst = take(c, n + 1);
        if (t->escaped)
            n = atd_json_string_unescape(p, n, dst);
        else if (n)
            memcpy(dst, p, n);
    }
    /* consumers use these as C strings and the record format cannot carry NUL */
    if (t->escaped && memchr(dst, 0, n))
        return reject(c->err, 400, field_name[f], "%s must not contain U+0000", field_name[f]);
    dst[n] = 0;
    out->p = dst;
    out->n = n;
    return 0;
}

/* Keeps the string value of field f, unescaped and NUL-terminated, in the arena. The common
 * case, a string without escapes in a text copied whole, is a NUL over its closing quote. */
static inline __attribute__((always_inline)) int str_copy(ctx *c, int f, atd_str *out)
{
    const atd_json_val *t = &c->val[f];
    if (__builtin_expect(c->copy && !t->escaped, 1)) {
        char *dst = c->copy + t->start;
        size_t n = t->end - t->start;
        dst[n] = 0;
        out->p = dst;
        out->n = n;
        return 0;
    }
    return str_copy_slow(c, f, out);
}

/* An optional string: stored when it is a JSON string, absent when missing/null, and ignored
 * (absent) when it has another type (§1: "other fields of an unexpected type are ignored"). */
static inline __attribute__((always_inline)) int opt_str(ctx *c, int f, atd_str *out)
{
    *out = ATD_STR_NULL;
    if (ftype(c, f) != ATD_JSON_STRING) return 0;
    return str_copy(c, f, out);
}

/* Why field f, required on `on`, was refused (t: its JSON type, 0 when absent). */
static int req_reject(ctx *c, int f, const char *on, int t) __attribute__((cold, noinline));
static int req_reject(ctx *c, int f, const char *on, int t)
{
    if (t == 0)
        return reject(c->err, 400, field_name[f], "%s is required on %s", field_name[f], on);
    if (t != ATD_JSON_STRING)
        return reject(c->err, 400, field_name[f], "%s must be a string", field_name[f]);
    return reject(c->err, 400, field_name[f], "%s must not be empty", field_name[f]);
}

/* A required id-like string: present, a string, non-empty. */
static inline __attribute__((always_inline)) int req_str(ctx *c, int f, const char *on,
                                                         atd_str *out)
{
    int t = ftype(c, f);
    if (t != ATD_JSON_STRING) return req_reject(c, f, on, t);
    if (str_copy(c, f, out) < 0) return ATD_EINVAL;
    if (out->n == 0) return req_reject(c, f, on, t);
    return 0;
}

static int is_blank(char ch) { return ch == ' ' || ch == '\t'; }

/* Lower-cases A-Z in p[0..n) in place and says whether every byte is '0' or '-' (the "limited
 * ad tracking" forms). Advertising ids are on most events, so 8 bytes at a time, with exact
 * per-byte tests (no carry crosses a byte: see the bounds in the comments). */
static int lower_is_lat(char *p, size_t n)
{
    size_t i = 0;
    int other = 0;
#if defined(__SSE2__)
    if (n >= 16) {
        /* 16 at a time; the last chunk overlaps the one before (both steps are idempotent) */
        const __m128i a1 = _mm_set1_epi8('A' - 1), z1 = _mm_set1_epi8('Z' + 1);
        const __m128i bit = _mm_set1_epi8(0x20), zero = _mm_set1_epi8('0'), dash = _mm_set1_epi8('-');
        unsigned lat = 0xFFFF;
        for (size_t at = 0;; at += 16) {
            if (at > n - 16) at = n - 16;
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + at));
            /* signed compares: bytes >= 0x80 are negative, never in 'A'..'Z' */
            __m128i up = _mm_and_si128(_mm_cmpgt_epi8(x, a1), _mm_cmplt_epi8(x, z1));
            x = _mm_or_si128(x, _mm_and_si128(up, bit));
            _mm_storeu_si128((__m128i *)(void *)(p + at), x);
            lat &= (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, zero),
                                                            _mm_cmpeq_epi8(x, dash)));
            if (at == n - 16) break;
        }
        return lat == 0xFFFF;
    }
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101ull, highs = ones * 0x80, lows = ones * 0x7f;
    uint64_t o = 0;
    for (; n - i >= 8; i += 8) {
        uint64_t x;
        memcpy(&x, p + i, 8);
        uint64_t h = x & lows; /* 0..0x7f: adding up to 0x3f cannot carry out of a byte */
        uint64_t upper = ((h + ones * (0x80 - 'A')) ^ (h + ones * (0x80 - 'Z' - 1))) & ~x & highs;
        x |= upper >> 2; /* 0x80 >> 2 == 0x20: 'A' | 0x20 == 'a' */
        memcpy(p + i, &x, 8);
        uint64_t z0 = x ^ (ones * '0'), zd = x ^ (ones * '-');
        /* exact "byte is zero" tests: high bit of ((v & 0x7f) + 0x7f) | v is clear iff v == 0 */
        uint64_t is0 = ~(((z0 & lows) + lows) | z0) & highs;
        uint64_t isd = ~(((zd & lows) + lows) | zd) & highs;
        o |= ~(is0 | isd) & highs;
    }
    other = o != 0;
#endif
    for (; i < n; i++) {
        char ch = p[i];
        if (ch >= 'A' && ch <= 'Z') p[i] = (char)(ch + ('a' - 'A'));
        if (ch != '0' && ch != '-') other = 1;
    }
    return !other;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ONES8 0x0101010101010101ull
/* Whether the 8 bytes of x (in memory order) are all ASCII digits: a byte is one when its
 * high nibble is 3 and adding 6 keeps it so (no carry crosses a byte: see skip_digits). */
static inline int digits8(uint64_t x)
{
    return ((((x & ONES8 * 0xF0) ^ ONES8 * 0x30) |
             (((x + ONES8 * 0x06) & ONES8 * 0xF0) ^ ONES8 * 0x30))) == 0;
}
/* The number of 8 digit values 0-9 (x: bytes d0..d7, d0 first in memory and most
 * significant): pairs, quads, then the two halves. */
static inline uint64_t value8(uint64_t x)
{
    x = (x * 10 + (x >> 8)) & 0x00FF00FF00FF00FFull;
    x = (x * 100 + (x >> 16)) & 0x0000FFFF0000FFFFull;
    return (x * 10000 + (x >> 32)) & 0xFFFFFFFFull;
}
#endif

/* The value of a ts token p[0..n) (a valid JSON number): 0 and *ts for an integer (no fraction,
 * no exponent) in [0, 2^53 - 1], else -1. "-0" is the integer 0: JSON has no separate negative
 * zero integer and every JSON parser reads it as 0. */
static inline int ts_value(const char *p, size_t n, int64_t *ts)
{
    int neg = n > 0 && p[0] == '-';
    if (neg) {
        p++;
        n--;
    }
    if (n > 16) return -1; /* 2^53 - 1 has 16 digits */
    int64_t v = 0;
    size_t i = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (n >= 8) {
        /* 8 digits at once (ms timestamps have 13): the first 8, then the last 8 (which
         * overlap them; the overlap is dropped), each checked to be all digits (see
         * skip_digits in json_parse.c) and combined by pairs, quads and halves */
        uint64_t hi, lo;
        memcpy(&hi, p, 8);
        memcpy(&lo, p + n - 8, 8);
        if (!digits8(hi) || !digits8(lo)) return -1;
        lo = value8(lo - ONES8 * '0');
        if (n > 8) {
            /* the first n - 8 digits: shifted up, the bytes below them become zero digits */
            hi = value8((hi - ONES8 * '0') << (8 * (16 - n)));
            v = (int64_t)(hi * 100000000u + lo);
        } else {
            v = (int64_t)lo;
        }
        i = n;
    }
#endif
    for (; i < n; i++) {
        /* a valid JSON number: anything but a digit is a fraction or an exponent */
        unsigned d = (unsigned)(unsigned char)p[i] - '0';
        if (d > 9) return -1;
        v = v * 10 + d;
    }
    if (neg && v != 0) return -1;
    if (v > ((int64_t)1 << 53) - 1) return -1;
    *ts = v;
    return 0;
}

/* ts: a JSON integer token in [0, 2^53 - 1] (ts_value). */
static int parse_ts(ctx *c, int64_t *ts)
{
    static const char msg[] = "ts must be an integer in [0, 2^53-1]";
    int t = ftype(c, F_TS);
    if (t == 0) return reject(c->err, 400, "ts", "ts is required");
    if (t != ATD_JSON_NUMBER) return reject(c->err, 400, "ts", msg);
    const atd_json_val *tk = &c->val[F_TS];
    if (ts_value(c->s + tk->start, tk->end - tk->start, ts) < 0)
        return reject(c->err, 400, "ts", msg);
    return 0;
}

static int parse_app(ctx *c, atd_str path_app, const struct atd_config *cfg, atd_event *ev)
{
    if (path_app.p) {
        /* HTTP ingest: the URL names the app; a body app_id may only repeat it */
        int t = ftype(c, F_APP_ID);
        if (t != 0) {
            atd_str body_app = ATD_STR_NULL;
            if (t == ATD_JSON_STRING && str_copy(c, F_APP_ID, &body_app) < 0) return ATD_EINVAL;
            if (t != ATD_JSON_STRING || !atd_str_eq(body_app, path_app))
                return reject(c->err, 400, "app_id",
                              "app_id in the body differs from the app of the URL");
        }
        if (path_app.n == 0)
            return reject(c->err, 400, "app_id", "app_id must not be empty");
        char *app = take(c, path_app.n + 1);
        memcpy(app, path_app.p, path_app.n);
        app[path_app.n] = 0;
        ev->app_id.p = app;
        ev->app_id.n = path_app.n;
    } else if (req_str(c, F_APP_ID, "every event", &ev->app_id) < 0) {
        return ATD_EINVAL;
    }
    if (cfg && !atd_config_app(cfg, ev->app_id.p, ev->app_id.n))
        return reject(c->err, 404, "app_id", "unknown app_id \"%.100s\"", ev->app_id.p);
    return 0;
}

/* Whether p[0..n) is an IPv4 address exactly as atd_ip_format prints it: four parts 0-255,
 * no leading zeros, nothing around (quad: its bytes, meaningful only then). Most events carry one, and then the text is already the
 * canonical form: the general path (ip.h, via inet_pton) cost 10x more. */
static int is_canonical_ipv4(const char *p, size_t n, uint8_t quad[4])
{
    if (n < 7 || n > 15) return 0;
    size_t i = 0;
    for (int part = 0;; part++) {
        /* one part: "0", or 1-3 digits without a leading zero, at most 255 */
        unsigned d0 = (unsigned)(unsigned char)p[i] - '0', v;
        if (d0 > 9) return 0;
        i++;
        v = d0;
        if (i < n && (unsigned)(unsigned char)p[i] - '0' <= 9) {
            if (d0 == 0) return 0;
            v = v * 10 + ((unsigned)(unsigned char)p[i++] - '0');
            if (i < n && (unsigned)(unsigned char)p[i] - '0' <= 9) {
                v = v * 10 + ((unsigned)(unsigned char)p[i++] - '0');
                if (v > 255) return 0;
            }
        }
        quad[part] = (uint8_t)v;
        if (part == 3) return i == n;
        if (i >= n || p[i] != '.') return 0;
        i++;
        if (i >= n) return 0;
    }
}

/* is_canonical_ipv4 for a NUL-terminated p (p[n] == 0): the NUL ends the last part, so no
 * byte needs a bounds check (half the instructions; most events carry an ip). */
static int is_canonical_ipv4_z(const char *p, size_t n, uint8_t quad[4])
{
    if (n < 7 || n > 15) return 0;
    const unsigned char *u = (const unsigned char *)p;
    for (int part = 0; part < 4; part++) {
        unsigned v = (unsigned)*u++ - '0', d;
        if (v > 9) return 0;
        if ((d = (unsigned)*u - '0') <= 9) {
            if (v == 0) return 0; /* a leading zero */
            v = v * 10 + d;
            u++;
            if ((d = (unsigned)*u - '0') <= 9) {
                v = v * 10 + d;
                u++;
                if (v > 255) return 0;
            }
        }
        quad[part] = (uint8_t)v;
        if (part < 3 && *u++ != '.') return 0;
    }
    return u == (const unsigned char *)p + n;
}

/* ip: any string, trimmed, must be an IPv4 dotted quad or IPv6 literal; stored canonical. */
static int parse_ip(ctx *c, atd_event *ev)
{
    int t = ftype(c, F_IP);
    if (t == 0) return 0;
    if (t != ATD_JSON_STRING)
        return reject(c->err, 400, "ip", "ip must be a string holding an IPv4 or IPv6 address");
    /* the text itself when it has no escape: only the canonical form is kept */
    atd_str raw = {c->s + c->val[F_IP].start, c->val[F_IP].end - c->val[F_IP].start};
    if ((c->val[F_IP].escaped || c->copy) && str_copy(c, F_IP, &raw) < 0) return ATD_EINVAL;
    uint8_t quad[4];
    int nul = c->val[F_IP].escaped || c->copy; /* raw is then the kept, NUL-terminated copy */
    if (nul ? is_canonical_ipv4_z(raw.p, raw.n, quad) : is_canonical_ipv4(raw.p, raw.n, quad)) {
        memcpy(ev->ip4, quad, 4); /* the engine takes the address from here */
        ev->ip4_set = 1;
        if (c->copy) { /* already kept, NUL-terminated, in the copy */
            ev->ip = raw;
            return 0;
        }
        char *canon = take(c, raw.n + 1);
        memcpy(canon, raw.p, raw.n);
        canon[raw.n] = 0;
        ev->ip.p = canon;
        ev->ip.n = raw.n;
        return 0;
    }
    atd_ip ip;
    if (atd_ip_parse(raw.p, raw.n, &ip) < 0)
        return reject(c->err, 400, "ip", "ip \"%.*s\" is not a valid IPv4 or IPv6 address",
                      (int)(raw.n < 60 ? raw.n : 60), raw.p);
    char txt[ATD_IP_TEXT_MAX];
    size_t n = atd_ip_format(&ip, txt);
    char *canon = take(c, n + 1);
    memcpy(canon, txt, n);
    canon[n] = 0;
    ev->ip.p = canon;
    ev->ip.n = n;
    return 0;
}

/* advertising_id: trimmed, A-Z lower-cased; empty or only '0'/'-' (limited ad tracking) is
 * absent. Other JSON types are ignored. */
/* The normal form of a kept advertising id p[0..n) (our own copy, changed in place): trimmed,
 * A-Z lower-cased, NUL-terminated; absent when only '0' and '-' (limited ad tracking) or empty. */
static atd_str adid_normal(char *p, size_t n)
{
    size_t b = 0, e = n;
    while (b < e && is_blank(p[b])) b++;
    while (e > b && is_blank(p[e - 1])) e--;
    if (lower_is_lat(p + b, e - b)) return ATD_STR_NULL; /* also covers the empty string */
    p[e] = 0;
    return (atd_str){p + b, e - b};
}

static int parse_adid(ctx *c, atd_event *ev)
{
    atd_str s;
    if (opt_str(c, F_ADVERTISING_ID, &s) < 0) return ATD_EINVAL;
    ev->advertising_id = s.p ? adid_normal((char *)s.p, s.n) : ATD_STR_NULL;
    return 0;
}

static int parse_touch(ctx *c, atd_event *ev)
{
    const char *on = ev->type == ATD_EV_CLICK ? "a click" : "an impression";
    if (req_str(c, F_MEDIA_SOURCE, on, &ev->media_source) < 0) return ATD_EINVAL;
    /* the optional strings of touches, in field order (the first bad one is reported) */
#define B(f) ((uint64_t)1 << (f))
    const uint64_t opt = B(F_CAMPAIGN) | B(F_CAMPAIGN_ID) | B(F_ADSET) | B(F_ADSET_ID) | B(F_AD) |
                         B(F_AD_ID) | B(F_SITE_ID) | B(F_CHANNEL) | B(F_CLICK_ID) |
                         B(F_CLICK_LOOKBACK) | B(F_VIEW_LOOKBACK) | B(F_DEEP_LINK_VALUE) |
                         B(F_COST_VALUE) | B(F_COST_CURRENCY);
#undef B
    static const uint16_t off[F__COUNT] = {
        [F_CAMPAIGN] = offsetof(atd_event, campaign),
        [F_CAMPAIGN_ID] = offsetof(atd_event, campaign_id),
        [F_ADSET] = offsetof(atd_event, adset),
        [F_ADSET_ID] = offsetof(atd_event, adset_id),
        [F_AD] = offsetof(atd_event, ad),
        [F_AD_ID] = offsetof(atd_event, ad_id),
        [F_SITE_ID] = offsetof(atd_event, site_id),
        [F_CHANNEL] = offsetof(atd_event, channel),
        [F_CLICK_ID] = offsetof(atd_event, click_id),
        [F_CLICK_LOOKBACK] = offsetof(atd_event, click_lookback),
        [F_VIEW_LOOKBACK] = offsetof(atd_event, view_lookback),
        [F_DEEP_LINK_VALUE] = offsetof(atd_event, deep_link_value),
        [F_COST_VALUE] = offsetof(atd_event, cost_value),
        [F_COST_CURRENCY] = offsetof(atd_event, cost_currency),
    };
    /* ev was zeroed: only the fields present need a look */
    for (uint64_t m = c->seen & opt; m; m &= m - 1) {
        int f = __builtin_ctzll(m);
        if (opt_str(c, f, (atd_str *)(void *)((char *)ev + off[f])) < 0) return ATD_EINVAL;
    }
    int t = ftype(c, F_IS_RETARGETING);
    if (t == ATD_JSON_TRUE)
        ev->is_retargeting = 1;
    else if (t == 0 || t == ATD_JSON_FALSE)
        ev->is_retargeting = 0;
    else
        return reject(c->err, 400, "is_retargeting", "is_retargeting must be true or false");
    return 0;
}

static int parse_revenue(ctx *c, atd_event *ev)
{
    int t = ftype(c, F_REVENUE);
    if (t == 0) return 0;
    if (t != ATD_JSON_NUMBER)
        return reject(c->err, 400, "revenue", "revenue must be a finite number");
    const atd_json_val *tk = &c->val[F_REVENUE];
    size_t n = tk->end - tk->start;
    /* strtod needs a NUL-terminated copy; the token is already a valid JSON number, which is
     * also valid for strtod in the C locale (the process never calls setlocale) */
    char small[64], *tmp;
    if (c->copy) {
        tmp = c->copy + tk->start; /* the delimiter after it is no value's */
    } else {
        tmp = n < sizeof small ? small : take(c, n + 1);
        memcpy(tmp, c->s + tk->start, n);
    }
    tmp[n] = 0;
    double v = strtod(tmp, NULL);
    if (!isfinite(v)) return reject(c->err, 400, "revenue", "revenue must be a finite number");
    ev->has_revenue = 1;
    ev->revenue = v;
    return 0;
}

static int parse_app_event(ctx *c, atd_event *ev)
{
    if (req_str(c, F_DEVICE_ID, "an app event", &ev->device_id) < 0) return ATD_EINVAL;
    int t = ftype(c, F_PLATFORM);
    if (t == ATD_JSON_STRING && str_copy(c, F_PLATFORM, &ev->platform) < 0) return ATD_EINVAL;
    if (t != 0 && (t != ATD_JSON_STRING || (!atd_str_eq_c(ev->platform, "android") &&
                                            !atd_str_eq_c(ev->platform, "ios"))))
        return reject(c->err, 400, "platform", "platform must be \"android\" or \"ios\"");
    t = ftype(c, F_OS_VERSION);
    if (t != 0 && t != ATD_JSON_STRING)
        return reject(c->err, 400, "os_version", "os_version must be a string");
    if (opt_str(c, F_OS_VERSION, &ev->os_version) < 0 ||
        opt_str(c, F_DEVICE_MODEL, &ev->device_model) < 0 ||
        opt_str(c, F_APP_VERSION, &ev->app_version) < 0 ||
        opt_str(c, F_CUSTOMER_USER_ID, &ev->customer_user_id) < 0 ||
        opt_str(c, F_EVENT_ID, &ev->event_id) < 0)
        return ATD_EINVAL;
    if (ev->type != ATD_EV_INAPP) return 0;

    if (req_str(c, F_EVENT_NAME, "an inapp event", &ev->event_name) < 0) return ATD_EINVAL;
    if (parse_revenue(c, ev) < 0) return ATD_EINVAL;
    if (opt_str(c, F_CURRENCY, &ev->currency) < 0) return ATD_EINVAL;
    if (ftype(c, F_EVENT_VALUE) == ATD_JSON_OBJECT) {
        /* kept as the JSON text given: it was validated with the rest of the document */
        const atd_json_val *tk = &c->val[F_EVENT_VALUE];
        size_t n = tk->end - tk->start;
        char *text;
        if (c->copy) {
            text = c->copy + tk->start; /* the delimiter after it is no value's */
        } else {
            text = take(c, n + 1);
            memcpy(text, c->s + tk->start, n);
        }
        text[n] = 0;
        ev->event_value.p = text;
        ev->event_value.n = n;
    }
    return 0;
}

/* --- the fast path: one flat, compact object ------------------------------------------ */

/* Almost every event (a line of replay or import, the body of an SDK request) is one flat,
 * compact object whose strings have no escapes: `{"type":"click","ts":1793534400050,...}`.
 * parse_flat reads that form only, and writes each string straight into the event (a span of
 * the text's copy, NUL-terminated over its closing quote) instead of noting where each value
 * is and reading the notes afterwards. It takes a text only when it can give exactly what the
 * general path gives: at anything else (whitespace, an escape, a byte that is not printable
 * ASCII, a nested value, a field of an unexpected JSON type, a missing or bad field, an
 * unknown app) it returns 0, and the general path reads the text from the start and gives the
 * answer or the error. tests/unit/test_event_parse_flat.c checks both paths against each other. */

enum flat_kind { FK_STR, FK_TYPE, FK_TS, FK_BOOL, FK_NUM, FK_IGNORE };
static const uint8_t flat_kind[F__COUNT] = {
    [F_TYPE] = FK_TYPE, [F_TS] = FK_TS, [F_IS_RETARGETING] = FK_BOOL,
    [F_REVENUE] = FK_NUM, [F_EVENT_VALUE] = FK_IGNORE, /* every other field is a string */
};
#define EV_STR(name) offsetof(atd_event, name)
static const uint16_t flat_off[F__COUNT] = {
    [F_APP_ID] = EV_STR(app_id), [F_IP] = EV_STR(ip), [F_USER_AGENT] = EV_STR(user_agent),
    [F_ADVERTISING_ID] = EV_STR(advertising_id), [F_MEDIA_SOURCE] = EV_STR(media_source),
    [F_CAMPAIGN] = EV_STR(campaign), [F_CAMPAIGN_ID] = EV_STR(campaign_id),
    [F_ADSET] = EV_STR(adset), [F_ADSET_ID] = EV_STR(adset_id), [F_AD] = EV_STR(ad),
    [F_AD_ID] = EV_STR(ad_id), [F_SITE_ID] = EV_STR(site_id), [F_CHANNEL] = EV_STR(channel),
    [F_CLICK_ID] = EV_STR(click_id), [F_CLICK_LOOKBACK] = EV_STR(click_lookback),
    [F_VIEW_LOOKBACK] = EV_STR(view_lookback), [F_DEEP_LINK_VALUE] = EV_STR(deep_link_value),
    [F_COST_VALUE] = EV_STR(cost_value), [F_COST_CURRENCY] = EV_STR(cost_currency),
    [F_DEVICE_ID] = EV_STR(device_id), [F_PLATFORM] = EV_STR(platform),
    [F_OS_VERSION] = EV_STR(os_version), [F_DEVICE_MODEL] = EV_STR(device_model),
    [F_APP_VERSION] = EV_STR(app_version), [F_CUSTOMER_USER_ID] = EV_STR(customer_user_id),
    [F_EVENT_ID] = EV_STR(event_id), [F_EVENT_NAME] = EV_STR(event_name),
    [F_CURRENCY] = EV_STR(currency),
};
#undef EV_STR

/* The string fields each kind of event keeps (the general path never reads the others). */
#define FB(f) ((uint64_t)1 << (f))
#define FLAT_COMMON (FB(F_APP_ID) | FB(F_IP) | FB(F_USER_AGENT) | FB(F_ADVERTISING_ID))
#define FLAT_TOUCH                                                                            \
    (FB(F_MEDIA_SOURCE) | FB(F_CAMPAIGN) | FB(F_CAMPAIGN_ID) | FB(F_ADSET) | FB(F_ADSET_ID) |  \
     FB(F_AD) | FB(F_AD_ID) | FB(F_SITE_ID) | FB(F_CHANNEL) | FB(F_CLICK_ID) |                 \
     FB(F_CLICK_LOOKBACK) | FB(F_VIEW_LOOKBACK) | FB(F_DEEP_LINK_VALUE) | FB(F_COST_VALUE) |    \
     FB(F_COST_CURRENCY))
#define FLAT_APP                                                                              \
    (FB(F_DEVICE_ID) | FB(F_PLATFORM) | FB(F_OS_VERSION) | FB(F_DEVICE_MODEL) |               \
     FB(F_APP_VERSION) | FB(F_CUSTOMER_USER_ID) | FB(F_EVENT_ID))
#define FLAT_INAPP (FB(F_EVENT_NAME) | FB(F_CURRENCY))

enum { V_STR, V_NUM, V_TRUE, V_FALSE, V_NULL };

/* The field of the key between the quotes u[ko] and u[kc] (printable ASCII, no escape), or -1:
 * its bytes, zero-padded to 16, looked up in field_keys. */
static inline int flat_key(const unsigned char *u, size_t len, size_t ko, size_t kc)
{
    size_t k = kc - ko - 1;
    if (k > ATD_JSON_KEYSET_KEY_MAX) return -1;
    uint64_t w[2] = {0, 0};
#if defined(__SSE2__)
    /* ones[16 - k .. 32 - k): k bytes 0xFF, then zeros */
    static const unsigned char ones[32] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                           0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    if (len - (ko + 1) >= 16) {
        __m128i x = _mm_and_si128(_mm_loadu_si128((const __m128i *)(const void *)(u + ko + 1)),
                                  _mm_loadu_si128((const __m128i *)(const void *)(ones + 16 - k)));
        _mm_storeu_si128((__m128i *)(void *)w, x);
    } else
#endif
        memcpy(w, u + ko + 1, k);
    const atd_json_keyset *ks = &field_keys;
    unsigned b = ks->bucket[atd_json_keyset_hash(ks->mul, w[0], w[1])];
    /* equal padded bytes are the same key: a key here holds no NUL */
    if (b && ks->key[b - 1].lo == w[0] && ks->key[b - 1].hi == w[1]) return (int)b - 1;
    return ks->perfect ? -1 : atd_json_keyset_probe(ks, w[0], w[1], k);
}

#if defined(__SSE2__)
/* The first byte from c[p] on that is '"', '\\', < 0x20 or >= 0x80 (a signed compare takes
 * bytes >= 0x80 as negative), 16 at a time. The text's copy ends with zero bytes (flagged),
 * so this stops there at the latest. */
static inline size_t flat_look(const unsigned char *c, size_t p)
{
    const __m128i bsl = _mm_set1_epi8('\\'), dq = _mm_set1_epi8('"'), sp = _mm_set1_epi8(0x20);
    for (;; p += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(c + p));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(x, bsl), _mm_cmplt_epi8(x, sp)), _mm_cmpeq_epi8(x, dq)));
        if (m) return p + (size_t)__builtin_ctz(m);
    }
}

/* The length of the JSON integer at c[p] when it is 1 to 15 digits without a leading zero
 * followed by ',' or '}' (a ms timestamp), else 0. 16 bytes at once: the copy's zero bytes
 * after the text are not digits. */
static inline size_t flat_digits(const unsigned char *c, size_t p)
{
    __m128i d = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(const void *)(c + p)),
                             _mm_set1_epi8('0'));
    unsigned digit = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d));
    size_t n = (size_t)__builtin_ctz(~digit); /* bit 16 and up of ~digit are set */
    if (n == 0 || n > 15 || (c[p] == '0' && n > 1) || (c[p + n] != ',' && c[p + n] != '}'))
        return 0;
    return n;
}

/* The members this thread met after each field: their first bytes up to the value (`"key":`,
 * at most 32) and their field, the last two seen after that field (the most recent first).
 * The events of one source write their keys in the same few orders (an SDK, a generator, an
 * exporter), so most members are recognized by one 32-byte compare, without finding the key's
 * end or probing the key set. A member that matches neither is read the long way and becomes
 * the most recent. Index: the field before it + 1 (0: a key that is not one of §1), or
 * FLAT_START for the first member. */
#define FLAT_START (F__COUNT + 1)
typedef struct flat_member {
    __m128i pat[2]; /* the bytes, zero after plen */
    uint32_t mask;  /* (1 << plen) - 1; 0: none known */
    uint8_t plen;
    int8_t f; /* the field, or -1 for a key that is not one of §1 */
} flat_member;
static _Thread_local flat_member flat_next[FLAT_START + 1][2];

/* Whether the 32 bytes a, b start with member t's bytes. */
static inline int flat_match(const flat_member *t, __m128i a, __m128i b)
{
    unsigned eq = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(a, t->pat[0])) |
                  (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(b, t->pat[1])) << 16;
    return t->mask && (eq & t->mask) == t->mask;
}

/* 32 bytes 0xFF then 32 zeros: from ff + 32 - n, the first n bytes are kept */
static const unsigned char flat_ff[64] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
#endif

static int parse_flat(const char *json, size_t len, unsigned flags, atd_str path_app,
                      const struct atd_config *cfg, atd_arena *arena, atd_event *ev)
{
#if !defined(__SSE2__)
    (void)json, (void)len, (void)flags, (void)path_app, (void)cfg, (void)arena, (void)ev;
    return 0;
#else
    if (len < 8 || len > COPY_MAX || json[0] != '{' || json[len - 1] != '}') return 0;
    /* the copy of the text that keeps the strings (see ctx.copy), 32 zero bytes (16-byte
     * steps may look past the end), then room for an ip's canonical form and the URL's app */
    size_t need = ATD_IP_TEXT_MAX + (path_app.p ? path_app.n + 1 : 0);
    char *copy = atd_arena_alloc(arena, len + 32 + need);
    memcpy(copy, json, len);
    memset(copy + len, 0, 32);
    char *room = copy + len + 32;
    const unsigned char *c = (const unsigned char *)copy;
    memset(ev, 0, sizeof *ev);

    uint64_t set = 0; /* string fields written into ev */
    size_t type_s = 0, type_e = 0, ts_s = 0, ts_e = 0, rev_s = 0, rev_e = 0;
    int have_type = 0, have_ts = 0, have_rev = 0, retarget = 0;
    size_t i = 1; /* where the member starts */
    int prev = FLAT_START;
    for (;;) {
        if (c[i] != '"') return 0;
        /* the key: one met after the previous field, or read and noted */
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(c + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(c + i + 16));
        flat_member *t = flat_next[prev];
        size_t vs;
        int f;
        if (flat_match(&t[0], a, b)) {
            /* the same bytes as a key read before: valid, and the same field */
            f = t[0].f;
            vs = i + t[0].plen;
        } else if (flat_match(&t[1], a, b)) {
            f = t[1].f;
            vs = i + t[1].plen;
        } else {
            size_t kc = flat_look(c, i + 1);
            if (c[kc] != '"' || c[kc + 1] != ':') return 0;
            f = flat_key(c, len + 32, i, kc);
            vs = kc + 2;
            size_t plen = vs - i;
            t[1] = t[0];
            if (plen <= 32) {
                const unsigned char *m = flat_ff + 32 - plen;
                t[0].pat[0] = _mm_and_si128(a, _mm_loadu_si128((const __m128i *)(const void *)m));
                t[0].pat[1] =
                    _mm_and_si128(b, _mm_loadu_si128((const __m128i *)(const void *)(m + 16)));
                t[0].mask = plen == 32 ? 0xFFFFFFFFu : (1u << plen) - 1;
                t[0].plen = (uint8_t)plen;
                t[0].f = (int8_t)f;
            } else {
                t[0].mask = 0;
            }
        }
        prev = f + 1;
        /* the value */
        int kind = f < 0 ? FK_IGNORE : flat_kind[f];
        size_t e;
        if (c[vs] == '"') {
            size_t ve = flat_look(c, vs + 1);
            if (c[ve] != '"') return 0; /* an escape, a byte to check, or the end */
            e = ve + 1; /* < len: the text ends with a closing brace */
            if (kind == FK_STR) {
                atd_str *d = (atd_str *)(void *)((char *)ev + flat_off[f]);
                copy[ve] = 0;
                d->p = copy + vs + 1;
                d->n = ve - vs - 1;
                set |= FB(f);
            } else if (kind == FK_TYPE) {
                have_type = 1, type_s = vs + 1, type_e = ve;
            } else if (kind != FK_IGNORE) {
                return 0; /* a string for ts, is_retargeting or revenue */
            }
        } else {
            int vk;
            unsigned char v0 = c[vs];
            size_t nd;
            if (kind == FK_TS && (nd = flat_digits(c, vs)) != 0) {
                /* the common ts: digits only, then the next member or the end */
                have_ts = 1, ts_s = vs, ts_e = e = vs + nd;
                goto next;
            }
            if (v0 == 't' && len - vs >= 4 && memcmp(c + vs, "true", 4) == 0)
                vk = V_TRUE, e = vs + 4;
            else if (v0 == 'f' && len - vs >= 5 && memcmp(c + vs, "false", 5) == 0)
                vk = V_FALSE, e = vs + 5;
            else if (v0 == 'n' && len - vs >= 4 && memcmp(c + vs, "null", 4) == 0)
                vk = V_NULL, e = vs + 4;
            else if ((e = atd_json_number_end(copy, len, vs)) != (size_t)-1)
                vk = V_NUM;
            else
                return 0; /* an object, an array, whitespace, or not JSON */
            if (e >= len) return 0;
            switch (kind) {
            case FK_STR:
                if (vk != V_NULL) return 0;
                *(atd_str *)(void *)((char *)ev + flat_off[f]) = ATD_STR_NULL;
                set &= ~FB(f);
                break;
            case FK_TYPE:
                if (vk != V_NULL) return 0;
                have_type = 0;
                break;
            case FK_TS:
                if (vk != V_NUM && vk != V_NULL) return 0;
                have_ts = vk == V_NUM, ts_s = vs, ts_e = e;
                break;
            case FK_BOOL:
                if (vk != V_TRUE && vk != V_FALSE && vk != V_NULL) return 0;
                retarget = vk == V_TRUE;
                break;
            case FK_NUM:
                if (vk != V_NUM && vk != V_NULL) return 0;
                have_rev = vk == V_NUM, rev_s = vs, rev_e = e;
                break;
            default: break; /* not a field of §1, or event_value (only an object is kept) */
            }
        }
    next:
        if (c[e] == ',') {
            i = e + 1;
            continue;
        }
        if (e == len - 1) break; /* the closing '}' (json[len - 1] is one) */
        return 0;
    }

    /* what the general path checks, in any order: each failure is its answer to give */
    if (!have_type) return 0;
    ev->type = atd_event_type_parse((atd_str){json + type_s, type_e - type_s});
    if (ev->type == ATD_EV_NONE) return 0;
    if ((flags & ATD_PARSE_REQUIRE_TS) && (!have_ts || ts_value(json + ts_s, ts_e - ts_s, &ev->ts) < 0))
        return 0;
    if (path_app.p) {
        if ((set & FB(F_APP_ID)) && !atd_str_eq(ev->app_id, path_app)) return 0;
        if (path_app.n == 0) return 0;
        memcpy(room, path_app.p, path_app.n);
        room[path_app.n] = 0;
        ev->app_id.p = room;
        ev->app_id.n = path_app.n;
        room += path_app.n + 1;
    } else if (!(set & FB(F_APP_ID)) || ev->app_id.n == 0) {
        return 0;
    }
    if (cfg && !atd_config_app(cfg, ev->app_id.p, ev->app_id.n)) return 0;
    uint64_t keep = FLAT_COMMON;
    if (ATD_EV_IS_TOUCH(ev->type)) {
        if (!(set & FB(F_MEDIA_SOURCE)) || ev->media_source.n == 0) return 0;
        ev->is_retargeting = retarget;
        keep |= FLAT_TOUCH;
    } else {
        if (!(set & FB(F_DEVICE_ID)) || ev->device_id.n == 0) return 0;
        if ((set & FB(F_PLATFORM)) && !atd_str_eq_c(ev->platform, "android") &&
            !atd_str_eq_c(ev->platform, "ios"))
            return 0;
        keep |= FLAT_APP;
        if (ev->type == ATD_EV_INAPP) {
            if (!(set & FB(F_EVENT_NAME)) || ev->event_name.n == 0) return 0;
            if (have_rev) {
                copy[rev_e] = 0; /* the delimiter after it: no value's */
                double v = strtod(copy + rev_s, NULL);
                if (!isfinite(v)) return 0;
                ev->has_revenue = 1;
                ev->revenue = v;
            }
            keep |= FLAT_INAPP;
        }
    }
    /* the fields of other kinds of events are not this event's */
    for (uint64_t m = set & ~keep; m; m &= m - 1)
        *(atd_str *)(void *)((char *)ev + flat_off[__builtin_ctzll(m)]) = ATD_STR_NULL;
    if (set & FB(F_IP)) {
        uint8_t quad[4];
        if (is_canonical_ipv4_z(ev->ip.p, ev->ip.n, quad)) {
            memcpy(ev->ip4, quad, 4); /* the engine takes the address from here */
            ev->ip4_set = 1;
        } else {
            atd_ip ip;
            if (atd_ip_parse(ev->ip.p, ev->ip.n, &ip) < 0) return 0;
            char txt[ATD_IP_TEXT_MAX];
            size_t n = atd_ip_format(&ip, txt);
            memcpy(room, txt, n);
            room[n] = 0;
            ev->ip.p = room;
            ev->ip.n = n;
        }
    }
    if (set & FB(F_ADVERTISING_ID)) /* in our copy */
        ev->advertising_id = adid_normal((char *)ev->advertising_id.p, ev->advertising_id.n);
    return 1;
#endif
}
#undef FB

static int flat_on = 1; /* tests compare the two paths: atd_event_parse_use_flat */
static _Thread_local unsigned long flat_taken;

void atd_event_parse_use_flat(int on) { flat_on = on; }
unsigned long atd_event_parse_flat_count(void) { return flat_taken; }

int atd_event_parse_json(const char *json, size_t len, unsigned flags, atd_str path_app,
                         const struct atd_config *cfg, atd_arena *arena, atd_event *ev,
                         atd_event_error *err)
{
    err->http_status = 0;
    err->field = NULL;
    err->message[0] = 0;
    if (flat_on && parse_flat(json, len, flags, path_app, cfg, arena, ev)) {
        flat_taken++;
        return 0;
    }
    memset(ev, 0, sizeof *ev);

    /* Say "not an object" for any other top-level value before looking further. */
    size_t first = 0;
    while (first < len && (json[first] == ' ' || json[first] == '\t' || json[first] == '\n' ||
                           json[first] == '\r'))
        first++;
    if (first < len && json[first] != '{')
        return reject(err, 400, "body", "the event must be a JSON object");

    /* One pass over the text: validates all of it and notes where each known top-level key's
     * value is; nothing else is kept. A later duplicate key overwrites (the last one wins). */
    atd_json_scanner sc;
    atd_json_error jerr;
    ctx c; /* not zeroed as a whole: val[f] is read only when bit f of seen is set */
    c.s = json;
    c.seen = 0;
    c.arena = arena;
    c.err = err;
    c.need = ATD_IP_TEXT_MAX + (path_app.p ? path_app.n + 1 : 0);
    c.copy = NULL;
    c.buf = NULL;
    c.left = 0;
    atd_json_scan_init(&sc, json, len, EVENT_MAX_VALUES, EVENT_MAX_DEPTH, &jerr);
    int rc = atd_json_scan_fields(&sc, &field_keys, c.val, &c.seen);
    if (rc < 0) return reject(err, rc == ATD_ETOOBIG ? 413 : 400, "body", "%s", jerr.message);
    /* a small text is copied whole (see ctx.copy), with the block for the rest after it; for a
     * big one, sum the fields present (and skip the rest): each is kept with a NUL */
    if (len <= COPY_MAX) {
        c.copy = atd_arena_alloc(arena, len + 1 + c.need);
        memcpy(c.copy, json, len);
        c.copy[len] = 0;
        c.buf = c.copy + len + 1;
        c.left = c.need;
    } else {
        for (uint64_t m = c.seen; m; m &= m - 1) {
            const atd_json_val *v = &c.val[__builtin_ctzll(m)];
            c.need += v->end - v->start + 1;
        }
    }

    rc = ATD_EINVAL;
    /* type */
    int t = ftype(&c, F_TYPE);
    if (t == ATD_JSON_STRING) {
        const atd_json_val *tk = &c.val[F_TYPE];
        if (!tk->escaped)
            ev->type = atd_event_type_parse((atd_str){json + tk->start, tk->end - tk->start});
        else {
            atd_str s;
            if (str_copy(&c, F_TYPE, &s) < 0) goto out;
            ev->type = atd_event_type_parse(s);
        }
    }
    if (ev->type == ATD_EV_NONE) {
        if (t == 0)
            reject(err, 400, "type", "type is required");
        else
            reject(err, 400, "type",
                   "type must be one of \"click\", \"impression\", \"install\", \"session\", "
                   "\"inapp\"");
        goto out;
    }
    if ((flags & ATD_PARSE_REQUIRE_TS) && parse_ts(&c, &ev->ts) < 0) goto out;
    if (parse_app(&c, path_app, cfg, ev) < 0) goto out;
    if (ATD_EV_IS_TOUCH(ev->type)) {
        if (parse_touch(&c, ev) < 0) goto out;
    } else if (parse_app_event(&c, ev) < 0) {
        goto out;
    }
    if (parse_ip(&c, ev) < 0 || opt_str(&c, F_USER_AGENT, &ev->user_agent) < 0 ||
        parse_adid(&c, ev) < 0)
        goto out;
    rc = 0;
out:
    if (rc < 0) {
        atd_event_type keep = ev->type;
        memset(ev, 0, sizeof *ev);
        ev->type = keep;
    }
    return rc;
}
