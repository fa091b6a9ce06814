/* A result as one line of §7 JSON, every key present, in §7's order. On the replay's hot
 * path: the size is bounded first (one reserve), then bytes are written straight into the
 * buffer. */
#include "attribd/engine.h"

static const char *type_name(atd_result_type t)
{
    switch (t) {
    case ATD_RES_INSTALL: return "install";
    case ATD_RES_REINSTALL: return "reinstall";
    case ATD_RES_REATTRIBUTION: return "re-attribution";
    case ATD_RES_SESSION: return "session";
    case ATD_RES_REENGAGEMENT: return "re-engagement";
    case ATD_RES_INAPP: return "inapp";
    default: return "none";
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

/* SWAR tests over 8 bytes: whether one is below 0x20, a '"' or a '\\' (exact as a yes/no,
 * which is all that is asked: the byte loop then finds which). */
static inline int word_needs_escape(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
    uint64_t t = ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b);
    return (t & high) != 0;
}

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

/* The output has room for the worst case (6 bytes per input byte), so a clean string of 8
 * bytes or more is copied a word at a time while it is checked (its last word overlapping the
 * one before), without a call; short strings and those with a byte to escape go byte by byte. */
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

static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324252627282930"
                                     "31323334353637383940414243444546474849505152535455565758596061"
                                     "62636465666768697071727374757677787980818283848586878889909192"
                                     "93949596979899";

/* Decimal digits of u (1..20). */
static inline unsigned digits_of(uint64_t u)
{
    static const uint64_t pow10[20] = {1ULL,
                                       10ULL,
                                       100ULL,
                                       1000ULL,
                                       10000ULL,
                                       100000ULL,
                                       1000000ULL,
                                       10000000ULL,
                                       100000000ULL,
                                       1000000000ULL,
                                       10000000000ULL,
                                       100000000000ULL,
                                       1000000000000ULL,
                                       10000000000000ULL,
                                       100000000000000ULL,
                                       1000000000000000ULL,
                                       10000000000000000ULL,
                                       100000000000000000ULL,
                                       1000000000000000000ULL,
                                       10000000000000000000ULL};
    /* floor(log10 u) from the bit length (1233/4096 ~ log10 2), then one correction */
    unsigned bits = 64 - (unsigned)__builtin_clzll(u | 1);
    unsigned t = (bits * 1233) >> 12;
    return u ? t + 1 - (u < pow10[t]) : 1;
}

/* Two digits at a time, from the end (the ts of a result are 13 digits: 7 steps, not 13
 * divisions and a reversing copy). */
static void i64(w *o, int64_t v)
{
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    if (v < 0) *o->p++ = '-';
    unsigned n = digits_of(u);
    char *e = o->p + n;
    o->p = e;
    while (u >= 100) {
        unsigned r = (unsigned)(u % 100);
        u /= 100;
        e -= 2;
        memcpy(e, digit_pairs + 2 * r, 2);
    }
    if (u >= 10) {
        memcpy(e - 2, digit_pairs + 2 * u, 2);
    } else {
        e[-1] = (char)('0' + u);
    }
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
    size_t bound = 1201 + str_bound(r->app_id) + str_bound(r->device_id) +
                   str_bound(r->event_name) + str_bound(r->currency) +
                   str_bound(r->fraud_media_source) + ref_bound(&r->attribution) +
                   ref_bound(&r->retargeting);
    for (size_t i = 0; i < r->n_contributors; i++) bound += ref_bound(&r->contributors[i]);
    atd_buf_reserve(b, bound);
    w o = {b->p + b->n};
    LIT(&o, "{\"event_type\":\"");
    const char *tn = type_name(r->type);
    lit(&o, tn, strlen(tn));
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
