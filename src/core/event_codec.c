/* The record format of the `events` topic: attribd.v1.Event (proto/attribd/v1/events.proto),
 * with the protobuf wire format written and read by hand. protobuf-c's generated code would
 * malloc every string on unpack and needs NUL-terminated char * on pack; this codec reads
 * straight into the caller's arena and is several times faster, which replay (> 1M events/s)
 * needs. tests/unit/test_event_codec.c proves that protobuf-c's generated pack/unpack agree
 * with it byte for byte, in both directions, for every field. */
#include "attribd/event.h"

#include <math.h>
#include <stddef.h>

/* --- type names ---------------------------------------------------------------------- */

static const char *const type_names[] = {NULL, "click", "impression", "install", "session",
                                         "inapp"};

const char *atd_event_type_name(atd_event_type t)
{
    return t >= ATD_EV_CLICK && t <= ATD_EV_INAPP ? type_names[t] : NULL;
}

atd_event_type atd_event_type_parse(atd_str s)
{
    if (!s.p) return ATD_EV_NONE;
    switch (s.n) {
    case 5:
        if (memcmp(s.p, "click", 5) == 0) return ATD_EV_CLICK;
        if (memcmp(s.p, "inapp", 5) == 0) return ATD_EV_INAPP;
        break;
    case 7:
        if (memcmp(s.p, "install", 7) == 0) return ATD_EV_INSTALL;
        if (memcmp(s.p, "session", 7) == 0) return ATD_EV_SESSION;
        break;
    case 10:
        if (memcmp(s.p, "impression", 10) == 0) return ATD_EV_IMPRESSION;
        break;
    default: break;
    }
    return ATD_EV_NONE;
}

/* --- the field table ----------------------------------------------------------------- */

enum kind { K_TYPE, K_TS, K_STR, K_BOOL, K_DOUBLE };

typedef struct field_desc {
    uint8_t num;  /* protobuf field number */
    uint8_t kind;
    uint16_t off; /* offset of the atd_str in atd_event (K_STR) */
} field_desc;

/* A tag (num << 3 | wire type): as one varint byte below field 16, two bytes from 16 on. */
#define TAG_V(num, wt) ((unsigned)(num) << 3 | (wt))
#define S(num, name) {num, K_STR, offsetof(atd_event, name)}
/* For the decoder: field number → kind and place (the encoder below is written out). */
static const field_desc fields[] = {
    {1, K_TYPE, 0},
    {2, K_TS, 0},
    S(3, app_id),
    S(4, ip),
    S(5, user_agent),
    S(6, advertising_id),
    S(10, media_source),
    S(11, campaign),
    S(12, campaign_id),
    S(13, adset),
    S(14, adset_id),
    S(15, ad),
    S(16, ad_id),
    S(17, site_id),
    S(18, channel),
    S(19, click_id),
    {20, K_BOOL, 0},
    S(21, click_lookback),
    S(22, view_lookback),
    S(23, deep_link_value),
    S(24, cost_value),
    S(25, cost_currency),
    S(30, device_id),
    S(31, platform),
    S(32, os_version),
    S(33, device_model),
    S(34, app_version),
    S(35, customer_user_id),
    S(36, event_id),
    S(40, event_name),
    {41, K_DOUBLE, 0},
    S(42, currency),
    S(43, event_value),
};
#undef S
#define N_FIELDS (sizeof fields / sizeof fields[0])
#define MAX_FIELD_NUM 43

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* --- encode -------------------------------------------------------------------------- */

/* Straight-line code, one line per field in field-number order (protobuf-c packs in this order
 * too, so the bytes are identical): an absent string costs a load and a branch, a present one
 * a constant tag store, its length and a copy. The table-driven loop over fields[] it replaced
 * spent ~850 instructions per ingest event (ingest was ~1.1 k with the size bound: docs/http.md,
 * "Session 6"); the table stays for the decoder. */

/* An upper bound, not the exact size: a tag is counted as 2 bytes and a length as 10, so the
 * bound is one add per string, branch-free (absent strings have n == 0, and a stray n only
 * makes the bound larger). */
#define STR_FIELDS_ALL(X)                                                                     \
    X(app_id) X(ip) X(user_agent) X(advertising_id) X(media_source) X(campaign) X(campaign_id)  \
    X(adset) X(adset_id) X(ad) X(ad_id) X(site_id) X(channel) X(click_id) X(click_lookback)     \
    X(view_lookback) X(deep_link_value) X(cost_value) X(cost_currency) X(device_id) X(platform) \
    X(os_version) X(device_model) X(app_version) X(customer_user_id) X(event_id) X(event_name)   \
    X(currency) X(event_value)
#define N_STR_FIELDS 29
_Static_assert(N_FIELDS == N_STR_FIELDS + 4, "a string field is missing from STR_FIELDS_ALL");
/* per string 2 (tag) + 10 (length); type and ts 2 + 10 each, is_retargeting 2 + 1, revenue
 * 2 + 8 */
#define BOUND_FIXED ((2 + 10) * N_STR_FIELDS + (2 + 10) * 2 + (2 + 1) + (2 + 8))

size_t atd_event_encoded_size(const atd_event *ev)
{
    size_t n = BOUND_FIXED;
#define X(f) n += ev->f.n;
    STR_FIELDS_ALL(X)
#undef X
    return n;
}

static inline uint8_t *put_len(uint8_t *p, size_t n)
{
    if (n < 0x80) {
        *p = (uint8_t)n;
        return p + 1;
    }
    return p + put_varint(p, n);
}

/* Copies n bytes; strings of up to 32 bytes (most of an event's) with two overlapping loads
 * and stores and no call. Reads and writes only [s, s+n) and [d, d+n). */
static inline void copy_bytes(uint8_t *d, const char *s, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n > 16 && n <= 32) {
        struct b16 {
            uint8_t x[16];
        } a, b;
        memcpy(&a, s, 16);
        memcpy(&b, s + n - 16, 16);
        memcpy(d, &a, 16);
        memcpy(d + n - 16, &b, 16);
    } else if (n >= 4 && n < 8) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else if (n > 32) {
        memcpy(d, s, n);
    } else if (n) { /* 1..3 */
        d[0] = (uint8_t)s[0];
        d[n / 2] = (uint8_t)s[n / 2];
        d[n - 1] = (uint8_t)s[n - 1];
    }
}

static inline uint8_t *put_str(uint8_t *p, atd_str s)
{
    p = put_len(p, s.n);
    copy_bytes(p, s.p, s.n);
    return p + s.n;
}

/* ts: milliseconds since the epoch take 6 varint bytes from 1971 to 2109; written without the
 * loop then. */
static inline uint8_t *put_ts(uint8_t *p, uint64_t v)
{
    if (v >= (uint64_t)1 << 35 && v < (uint64_t)1 << 42) {
        p[0] = (uint8_t)(v | 0x80);
        p[1] = (uint8_t)(v >> 7 | 0x80);
        p[2] = (uint8_t)(v >> 14 | 0x80);
        p[3] = (uint8_t)(v >> 21 | 0x80);
        p[4] = (uint8_t)(v >> 28 | 0x80);
        p[5] = (uint8_t)(v >> 35);
        return p + 6;
    }
    return p + put_varint(p, v);
}

/* Tag bytes of a length-delimited field: one byte below field 16, two from 16 on (every field
 * number here is < 2^11). */
#define TAG1(num) ((uint8_t)TAG_V(num, WT_LEN))
#define STR_LO(num, f)                                                                        \
    if (ev->f.p) {                                                                            \
        *p++ = TAG1(num);                                                                     \
        p = put_str(p, ev->f);                                                                \
    }
#define STR_HI(num, f)                                                                        \
    if (ev->f.p) {                                                                            \
        p[0] = (uint8_t)((TAG_V(num, WT_LEN) & 0x7f) | 0x80);                                 \
        p[1] = (uint8_t)(TAG_V(num, WT_LEN) >> 7);                                            \
        p = put_str(p + 2, ev->f);                                                            \
    }

size_t atd_event_encode(const atd_event *ev, uint8_t *buf)
{
    uint8_t *p = buf;
    /* 1 type: enums are int32 on the wire, a negative one takes 10 bytes, sign-extended */
    *p++ = TAG_V(1, WT_VARINT);
    if ((uint64_t)(int64_t)ev->type < 0x80)
        *p++ = (uint8_t)ev->type;
    else
        p += put_varint(p, (uint64_t)(int64_t)ev->type);
    /* 2 ts */
    *p++ = TAG_V(2, WT_VARINT);
    p = put_ts(p, (uint64_t)ev->ts);
    STR_LO(3, app_id)
    STR_LO(4, ip)
    STR_LO(5, user_agent)
    STR_LO(6, advertising_id)
    STR_LO(10, media_source)
    STR_LO(11, campaign)
    STR_LO(12, campaign_id)
    STR_LO(13, adset)
    STR_LO(14, adset_id)
    STR_LO(15, ad)
    STR_HI(16, ad_id)
    STR_HI(17, site_id)
    STR_HI(18, channel)
    STR_HI(19, click_id)
    if (ev->is_retargeting) { /* false is the default: written only when true */
        p[0] = (uint8_t)((TAG_V(20, WT_VARINT) & 0x7f) | 0x80);
        p[1] = (uint8_t)(TAG_V(20, WT_VARINT) >> 7);
        p[2] = 1;
        p += 3;
    }
    STR_HI(21, click_lookback)
    STR_HI(22, view_lookback)
    STR_HI(23, deep_link_value)
    STR_HI(24, cost_value)
    STR_HI(25, cost_currency)
    STR_HI(30, device_id)
    STR_HI(31, platform)
    STR_HI(32, os_version)
    STR_HI(33, device_model)
    STR_HI(34, app_version)
    STR_HI(35, customer_user_id)
    STR_HI(36, event_id)
    STR_HI(40, event_name)
    if (ev->has_revenue) {
        p[0] = (uint8_t)((TAG_V(41, WT_I64) & 0x7f) | 0x80);
        p[1] = (uint8_t)(TAG_V(41, WT_I64) >> 7);
        uint64_t bits;
        memcpy(&bits, &ev->revenue, 8);
        for (int k = 0; k < 8; k++) p[2 + k] = (uint8_t)(bits >> (8 * k)); /* little-endian */
        p += 10;
    }
    STR_HI(42, currency)
    STR_HI(43, event_value)
    return (size_t)(p - buf);
}
#undef STR_LO
#undef STR_HI

/* --- decode -------------------------------------------------------------------------- */

/* field number → index in fields[] + 1 (0: unknown) */
static const uint8_t slot_of[MAX_FIELD_NUM + 1] = {
    [1] = 1, [2] = 2, [3] = 3, [4] = 4, [5] = 5, [6] = 6,
    [10] = 7, [11] = 8, [12] = 9, [13] = 10, [14] = 11, [15] = 12, [16] = 13, [17] = 14,
    [18] = 15, [19] = 16, [20] = 17, [21] = 18, [22] = 19, [23] = 20, [24] = 21, [25] = 22,
    [30] = 23, [31] = 24, [32] = 25, [33] = 26, [34] = 27, [35] = 28, [36] = 29,
    [40] = 30, [41] = 31, [42] = 32, [43] = 33,
};

/* Reads a varint at *pos; -1 when truncated or longer than 10 bytes. */
static int get_varint(const uint8_t *buf, size_t len, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (*pos >= len) return -1;
        uint8_t b = buf[(*pos)++];
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* Skips an unknown field (forward compatibility: a newer writer may add fields). */
static int skip_field(const uint8_t *buf, size_t len, size_t *pos, unsigned wt)
{
    uint64_t v;
    switch (wt) {
    case WT_VARINT: return get_varint(buf, len, pos, &v);
    case WT_I64: if (len - *pos < 8) return -1; *pos += 8; return 0;
    case WT_I32: if (len - *pos < 4) return -1; *pos += 4; return 0;
    case WT_LEN:
        if (get_varint(buf, len, pos, &v) < 0 || v > len - *pos) return -1;
        *pos += (size_t)v;
        return 0;
    default: return -1; /* groups (3, 4) and 6, 7: never written by protobuf-c for proto2 here */
    }
}

int atd_event_decode(const uint8_t *buf, size_t len, atd_arena *arena, atd_event *ev)
{
    memset(ev, 0, sizeof *ev);
    size_t pos = 0;
    int has_type = 0;
    while (pos < len) {
        uint64_t key;
        if (get_varint(buf, len, &pos, &key) < 0) goto corrupt;
        uint64_t num = key >> 3;
        unsigned wt = (unsigned)(key & 7);
        if (num == 0 || num > 0x1FFFFFFF) goto corrupt;
        const field_desc *f = num <= MAX_FIELD_NUM && slot_of[num] ? &fields[slot_of[num] - 1] : NULL;
        if (!f) {
            if (skip_field(buf, len, &pos, wt) < 0) goto corrupt;
            continue;
        }
        uint64_t v;
        switch (f->kind) {
        case K_TYPE:
            if (wt != WT_VARINT || get_varint(buf, len, &pos, &v) < 0) goto corrupt;
            /* an unknown type cannot be processed: treat it as damage, not as an event */
            if (v < ATD_EV_CLICK || v > ATD_EV_INAPP) goto corrupt;
            ev->type = (atd_event_type)v;
            has_type = 1;
            break;
        case K_TS:
            if (wt != WT_VARINT || get_varint(buf, len, &pos, &v) < 0) goto corrupt;
            ev->ts = (int64_t)v;
            break;
        case K_BOOL:
            if (wt != WT_VARINT || get_varint(buf, len, &pos, &v) < 0) goto corrupt;
            ev->is_retargeting = v != 0;
            break;
        case K_DOUBLE: {
            if (wt != WT_I64 || len - pos < 8) goto corrupt;
            uint64_t bits = 0;
            for (int k = 0; k < 8; k++) bits |= (uint64_t)buf[pos + k] << (8 * k);
            pos += 8;
            memcpy(&ev->revenue, &bits, 8);
            ev->has_revenue = 1;
            break;
        }
        case K_STR: {
            if (wt != WT_LEN || get_varint(buf, len, &pos, &v) < 0 || v > len - pos) goto corrupt;
            atd_str *s = (atd_str *)((char *)ev + f->off);
            s->p = atd_arena_strndup(arena, (const char *)buf + pos, (size_t)v);
            s->n = (size_t)v;
            pos += (size_t)v;
            break;
        }
        }
    }
    /* The invariants atd_event_parse_json guarantees, so that consumers can rely on them for
     * every event read from the log. */
    if (!has_type || !ev->app_id.p || ev->app_id.n == 0) goto corrupt;
    if (ATD_EV_IS_TOUCH(ev->type) && (!ev->media_source.p || ev->media_source.n == 0))
        goto corrupt;
    if (ATD_EV_IS_APP(ev->type) && (!ev->device_id.p || ev->device_id.n == 0)) goto corrupt;
    if (ev->type == ATD_EV_INAPP && (!ev->event_name.p || ev->event_name.n == 0)) goto corrupt;
    if (ev->has_revenue && !isfinite(ev->revenue)) goto corrupt;
    return 0;
corrupt:
    memset(ev, 0, sizeof *ev);
    return ATD_ECORRUPT;
}

/* --- partition key ------------------------------------------------------------------- */

size_t atd_event_key(const atd_event *ev, char *buf, size_t cap)
{
    /* app_id '/' device key: all events of one device of one app go to one partition, in
     * order. Touches have no device_id: their advertising id is the device key, else the IP
     * (the probabilistic match works on it). */
    atd_str dev = ev->device_id;
    if (ATD_EV_IS_TOUCH(ev->type)) dev = ev->advertising_id.p ? ev->advertising_id : ev->ip;
    if (ev->app_id.n + 1 + dev.n < cap) { /* it fits, with its NUL: the common case */
        uint8_t *d = (uint8_t *)buf;
        copy_bytes(d, ev->app_id.p, ev->app_id.n);
        d[ev->app_id.n] = '/';
        copy_bytes(d + ev->app_id.n + 1, dev.p, dev.n);
        size_t len = ev->app_id.n + 1 + dev.n;
        d[len] = 0;
        return len;
    }
    size_t n = 0;
#define PUT(src, len)                                   \
    do {                                                \
        size_t k_ = (len) < cap - n ? (len) : cap - n;  \
        if (k_) memcpy(buf + n, (src), k_);             \
        n += k_;                                        \
    } while (0)
    if (cap == 0) return 0;
    PUT(ev->app_id.p, ev->app_id.n);
    PUT("/", 1);
    if (dev.p) PUT(dev.p, dev.n);
#undef PUT
    if (n < cap) buf[n] = 0; /* a C string when it fits; the length is the return value */
    return n;
}
