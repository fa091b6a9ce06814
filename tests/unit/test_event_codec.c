/* The record codec against protobuf-c's generated code for attribd.v1.Event: the same bytes in
 * both directions, every field; garbage never crashes the decoder; the partition key. */
#include <math.h>
#include <stdlib.h>

#include "attribd/event.h"
#include "attribd/v1/events.pb-c.h"
#include "harness.h"

static atd_arena arena;

/* Every field set, strings with odd bytes (empty, UTF-8, long, with quotes). */
static char long_ua[300];

static void fill_all(atd_event *ev, atd_event_type type)
{
    memset(ev, 0, sizeof *ev);
    ev->type = type;
    ev->ts = 9007199254740991LL;
    ev->app_id = ATD_STR_LIT("com.example.game");
    ev->ip = ATD_STR_LIT("2001:db8::1");
    memset(long_ua, 'u', sizeof long_ua - 1); /* > 127 bytes: a 2-byte length varint */
    ev->user_agent = atd_str_c(long_ua);
    ev->advertising_id = ATD_STR_LIT("38400000-8cf0-11bd-b23e-10b96e40000d");
    ev->media_source = ATD_STR_LIT("netA");
    ev->campaign = ATD_STR_LIT("\xc3\xa9t\xc3\xa9 \"q\"");
    ev->campaign_id = ATD_STR_LIT("c1");
    ev->adset = ATD_STR_LIT("");
    ev->adset_id = ATD_STR_LIT("as1");
    ev->ad = ATD_STR_LIT("ad");
    ev->ad_id = ATD_STR_LIT("ad1");
    ev->site_id = ATD_STR_LIT("site");
    ev->channel = ATD_STR_LIT("video");
    ev->click_id = ATD_STR_LIT("ck");
    ev->is_retargeting = 1;
    ev->click_lookback = ATD_STR_LIT("7d");
    ev->view_lookback = ATD_STR_LIT("1h");
    ev->deep_link_value = ATD_STR_LIT("dl");
    ev->cost_value = ATD_STR_LIT("0.5");
    ev->cost_currency = ATD_STR_LIT("EUR");
    ev->device_id = ATD_STR_LIT("dev");
    ev->platform = ATD_STR_LIT("ios");
    ev->os_version = ATD_STR_LIT("17");
    ev->device_model = ATD_STR_LIT("iPhone");
    ev->app_version = ATD_STR_LIT("2.0");
    ev->customer_user_id = ATD_STR_LIT("u1");
    ev->event_id = ATD_STR_LIT("e1");
    ev->event_name = ATD_STR_LIT("purchase");
    ev->has_revenue = 1;
    ev->revenue = -12.375;
    ev->currency = ATD_STR_LIT("usd");
    ev->event_value = ATD_STR_LIT("{\"a\":[1,2]}");
}

/* The string fields, pairwise: atd_event member vs protobuf-c member. */
#define STR_FIELDS(X)                                                                         \
    X(app_id) X(ip) X(user_agent) X(advertising_id) X(media_source) X(campaign) X(campaign_id)  \
    X(adset) X(adset_id) X(ad) X(ad_id) X(site_id) X(channel) X(click_id) X(click_lookback)     \
    X(view_lookback) X(deep_link_value) X(cost_value) X(cost_currency) X(device_id) X(platform) \
    X(os_version) X(device_model) X(app_version) X(customer_user_id) X(event_id) X(event_name)   \
    X(currency) X(event_value)

static void check_same_event(const atd_event *a, const atd_event *b)
{
    CHECK_EQ_INT(a->type, b->type);
    CHECK_EQ_INT(a->ts, b->ts);
    CHECK_EQ_INT(a->is_retargeting, b->is_retargeting);
    CHECK_EQ_INT(a->has_revenue, b->has_revenue);
    CHECK(memcmp(&a->revenue, &b->revenue, sizeof(double)) == 0);
#define X(f)                                                                                  \
    CHECK(atd_str_eq(a->f, b->f));                                                            \
    if (b->f.p) CHECK(b->f.p[b->f.n] == 0);
    STR_FIELDS(X)
#undef X
}

/* atd_event → protobuf-c message (strings must be NUL-terminated: ours are). */
static void to_pbc(const atd_event *ev, Attribd__V1__Event *m)
{
    attribd__v1__event__init(m);
    m->has_type = 1;
    m->type = (Attribd__V1__EventType)ev->type;
    m->has_ts = 1;
    m->ts = ev->ts;
#define X(f) m->f = (char *)ev->f.p;
    STR_FIELDS(X)
#undef X
    if (ev->is_retargeting) {
        m->has_is_retargeting = 1;
        m->is_retargeting = 1;
    }
    if (ev->has_revenue) {
        m->has_revenue = 1;
        m->revenue = ev->revenue;
    }
}

static void check_pbc_equals(const Attribd__V1__Event *m, const atd_event *ev)
{
    CHECK(m->has_type);
    CHECK_EQ_INT(m->type, ev->type);
    CHECK(m->has_ts);
    CHECK_EQ_INT(m->ts, ev->ts);
    CHECK_EQ_INT(m->has_is_retargeting ? m->is_retargeting : 0, ev->is_retargeting);
    CHECK_EQ_INT(m->has_revenue, ev->has_revenue);
    if (m->has_revenue) CHECK(memcmp(&m->revenue, &ev->revenue, sizeof(double)) == 0);
#define X(f)                                                                                  \
    CHECK((m->f == NULL) == (ev->f.p == NULL));                                               \
    if (m->f && ev->f.p) CHECK(strlen(m->f) == ev->f.n && memcmp(m->f, ev->f.p, ev->f.n) == 0);
    STR_FIELDS(X)
#undef X
}

static void roundtrip_both_ways(const atd_event *ev)
{
    /* ours → protobuf-c unpack */
    size_t cap = atd_event_encoded_size(ev);
    uint8_t *buf = malloc(cap + 1);
    size_t n = atd_event_encode(ev, buf);
    CHECK(n <= cap);
    Attribd__V1__Event *m = attribd__v1__event__unpack(NULL, n, buf);
    CHECK(m != NULL);
    if (m) {
        check_pbc_equals(m, ev);
        attribd__v1__event__free_unpacked(m, NULL);
    }
    /* protobuf-c pack → ours; and the bytes are identical */
    Attribd__V1__Event pm;
    to_pbc(ev, &pm);
    size_t pn = attribd__v1__event__get_packed_size(&pm);
    uint8_t *pbuf = malloc(pn + 1);
    CHECK_EQ_INT(attribd__v1__event__pack(&pm, pbuf), pn);
    CHECK_EQ_INT(pn, n);
    CHECK(pn == n && memcmp(pbuf, buf, n) == 0);
    atd_event back;
    CHECK_EQ_INT(atd_event_decode(pbuf, pn, &arena, &back), 0);
    check_same_event(ev, &back);
    /* and ours → ours */
    CHECK_EQ_INT(atd_event_decode(buf, n, &arena, &back), 0);
    check_same_event(ev, &back);
    free(buf);
    free(pbuf);
}

/* Length classes around the encoder's copy sizes and the varint steps of a length. */
static const size_t lens[] = {0, 1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65,
                              127, 128, 129, 300, 16383, 16384};
#define N_LENS (sizeof lens / sizeof lens[0])

/* A NUL-terminated string of n bytes (protobuf-c needs the NUL), distinct per seed. */
static atd_str text_of(size_t n, unsigned seed)
{
    char *s = atd_arena_alloc(&arena, n + 1);
    for (size_t i = 0; i < n; i++) s[i] = (char)('a' + (seed * 7 + i * 13) % 26);
    s[n] = 0;
    return (atd_str){s, n};
}

/* Only the bytes: ours vs protobuf-c's pack (for events the decoder refuses, such as an empty
 * app_id). */
static void same_bytes_as_pbc(const atd_event *ev)
{
    size_t cap = atd_event_encoded_size(ev);
    uint8_t *buf = malloc(cap + 1);
    size_t n = atd_event_encode(ev, buf);
    CHECK(n <= cap);
    Attribd__V1__Event pm;
    to_pbc(ev, &pm);
    size_t pn = attribd__v1__event__get_packed_size(&pm);
    uint8_t *pbuf = malloc(pn + 1);
    attribd__v1__event__pack(&pm, pbuf);
    CHECK(pn == n && memcmp(pbuf, buf, n) == 0);
    free(buf);
    free(pbuf);
}

static int decodable(const atd_event *ev)
{
    return ev->app_id.n && ev->device_id.n && ev->event_name.n &&
           (!ATD_EV_IS_TOUCH(ev->type) || ev->media_source.n);
}

/* A valid in-app event with only what decoding requires. */
static void minimal_inapp(atd_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->type = ATD_EV_INAPP;
    ev->ts = 1700000000123LL;
    ev->app_id = ATD_STR_LIT("a");
    ev->device_id = ATD_STR_LIT("d");
    ev->event_name = ATD_STR_LIT("e");
}

/* Every string field alone (beside the required ones), at every length class: each field's
 * tag, place and copy are checked against protobuf-c's bytes on their own. */
static void test_each_field_alone(void)
{
    atd_event ev;
    unsigned seed = 0;
#define X(f)                                                                                  \
    for (size_t i = 0; i < N_LENS; i++) {                                                     \
        atd_arena_reset(&arena);                                                              \
        minimal_inapp(&ev);                                                                   \
        ev.f = text_of(lens[i], seed++);                                                      \
        if (decodable(&ev))                                                                   \
            roundtrip_both_ways(&ev);                                                         \
        else                                                                                  \
            same_bytes_as_pbc(&ev);                                                           \
    }
    STR_FIELDS(X)
#undef X
    /* the scalars alone */
    minimal_inapp(&ev);
    ev.is_retargeting = 1;
    roundtrip_both_ways(&ev);
    minimal_inapp(&ev);
    ev.has_revenue = 1;
    ev.revenue = 3.25;
    roundtrip_both_ways(&ev);
    /* ts on every varint length */
    for (int b = 0; b < 63; b += 3) {
        minimal_inapp(&ev);
        ev.ts = (int64_t)1 << b;
        roundtrip_both_ways(&ev);
        ev.ts = ((int64_t)1 << b) - 1;
        roundtrip_both_ways(&ev);
    }
    /* the edges of the 6-byte fast path of ms timestamps, and today */
    static const int64_t edges[] = {((int64_t)1 << 35) - 1, (int64_t)1 << 35,
                                    ((int64_t)1 << 42) - 1, (int64_t)1 << 42, 1795000000000LL};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        minimal_inapp(&ev);
        ev.ts = edges[i];
        roundtrip_both_ways(&ev);
    }
}

static uint64_t xorshift(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* mostly short strings, sometimes one of the length classes */
static size_t random_len(uint64_t *x)
{
    if (xorshift(x) % 4 == 0) return lens[xorshift(x) % N_LENS];
    return (size_t)(xorshift(x) % 40);
}

/* Random subsets of the fields with random lengths and types: the same bytes as protobuf-c,
 * the length within the bound, and nothing written past the bound. */
static void test_random_subsets(void)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
#define RND() xorshift(&x)
    for (int round = 0; round < 3000; round++) {
        atd_arena_reset(&arena);
        atd_event ev;
        minimal_inapp(&ev);
        ev.type = (atd_event_type)(ATD_EV_CLICK + RND() % 5);
        ev.media_source = ATD_STR_LIT("m"); /* required on touches */
        uint64_t shift = RND() % 64;
        ev.ts = (int64_t)(RND() >> shift);
        unsigned seed = (unsigned)round * 64;
#define X(f)                                                                                  \
    if (RND() % 3 == 0) ev.f = text_of(random_len(&x), seed++);
        STR_FIELDS(X)
#undef X
        if (!ev.app_id.n) ev.app_id = ATD_STR_LIT("a");
        if (!ev.device_id.n) ev.device_id = ATD_STR_LIT("d");
        if (!ev.event_name.n) ev.event_name = ATD_STR_LIT("e");
        if (!ev.media_source.n) ev.media_source = ATD_STR_LIT("m");
        ev.is_retargeting = RND() % 2;
        ev.has_revenue = RND() % 2;
        ev.revenue = ev.has_revenue ? (double)(int64_t)RND() / 1024.0 : 0.0;
        roundtrip_both_ways(&ev);
        /* the bound holds: a guard zone after it stays untouched */
        size_t cap = atd_event_encoded_size(&ev);
        uint8_t *buf = malloc(cap + 64);
        memset(buf, 0xA5, cap + 64);
        size_t n = atd_event_encode(&ev, buf);
        CHECK(n <= cap);
        int guard_ok = 1;
        for (size_t i = cap; i < cap + 64; i++) guard_ok &= buf[i] == 0xA5;
        CHECK(guard_ok);
        free(buf);
    }
#undef RND
}

static void test_every_field(void)
{
    atd_event ev;
    for (int t = ATD_EV_CLICK; t <= ATD_EV_INAPP; t++) {
        fill_all(&ev, (atd_event_type)t);
        roundtrip_both_ways(&ev);
    }
}

static void test_minimal_and_edges(void)
{
    atd_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = ATD_EV_INSTALL;
    ev.app_id = ATD_STR_LIT("a");
    ev.device_id = ATD_STR_LIT("d");
    roundtrip_both_ways(&ev); /* ts 0, nothing else */
    ev.ts = 1700000000123LL;
    ev.has_revenue = 0;
    roundtrip_both_ways(&ev);
    ev.type = ATD_EV_INAPP;
    ev.event_name = ATD_STR_LIT("x");
    ev.has_revenue = 1;
    ev.revenue = 0.0;
    roundtrip_both_ways(&ev);
    ev.revenue = -0.0;
    roundtrip_both_ways(&ev);
    ev.revenue = 1.7976931348623157e308;
    roundtrip_both_ways(&ev);
    ev.revenue = 5e-324;
    roundtrip_both_ways(&ev);
    /* a negative ts (never produced by the parser) is still the protobuf int64 encoding */
    ev.ts = -1;
    roundtrip_both_ways(&ev);
    /* a 70000-byte string: 3-byte length varint */
    char *big = malloc(70001);
    memset(big, 'z', 70000);
    big[70000] = 0;
    ev.ts = 5;
    ev.event_value = (atd_str){big, 70000};
    roundtrip_both_ways(&ev);
    free(big);
    /* empty strings stay present-but-empty */
    memset(&ev, 0, sizeof ev);
    ev.type = ATD_EV_CLICK;
    ev.app_id = ATD_STR_LIT("a");
    ev.media_source = ATD_STR_LIT("m");
    ev.campaign = ATD_STR_LIT("");
    roundtrip_both_ways(&ev);
    uint8_t buf[256];
    size_t n = atd_event_encode(&ev, buf);
    atd_event back;
    CHECK_EQ_INT(atd_event_decode(buf, n, &arena, &back), 0);
    CHECK(back.campaign.p != NULL && back.campaign.n == 0);
    CHECK(back.adset.p == NULL);
}

/* Bytes that protobuf-c accepts but our writer never produces: explicit false, unknown fields,
 * repeated fields (the last wins), fields out of order. */
static void test_decode_tolerance(void)
{
    atd_event ev;
    /* type=click(1), app_id "a", media_source "m", is_retargeting false, unknown fields of all
     * wire types, then app_id again "bb" */
    const uint8_t rec[] = {
        0x1a, 1, 'a',                  /* 3: app_id */
        0x52, 1, 'm',                  /* 10: media_source */
        0xa0, 0x01, 0x00,              /* 20: is_retargeting = false */
        0xf8, 0x03, 0x96, 0x01,        /* 63: varint 150 (unknown) */
        0xf9, 0x03, 1, 2, 3, 4, 5, 6, 7, 8, /* 63: fixed64 */
        0xfd, 0x03, 1, 2, 3, 4,        /* 63: fixed32 */
        0xfa, 0x03, 2, 'x', 'y',       /* 63: bytes */
        0x08, 0x01,                    /* 1: type = click (after the others) */
        0x1a, 2, 'b', 'b',             /* 3: app_id again: the last wins */
    };
    CHECK_EQ_INT(atd_event_decode(rec, sizeof rec, &arena, &ev), 0);
    CHECK_EQ_INT(ev.type, ATD_EV_CLICK);
    CHECK(atd_str_eq_c(ev.app_id, "bb"));
    CHECK(atd_str_eq_c(ev.media_source, "m"));
    CHECK_EQ_INT(ev.is_retargeting, 0);
    CHECK_EQ_INT(ev.ts, 0);
    /* protobuf-c agrees on the same bytes */
    Attribd__V1__Event *m = attribd__v1__event__unpack(NULL, sizeof rec, rec);
    CHECK(m != NULL);
    if (m) {
        CHECK_STR(m->app_id, "bb");
        attribd__v1__event__free_unpacked(m, NULL);
    }
}

static void test_decode_corrupt(void)
{
    atd_event ev;
    uint8_t ok_rec[64];
    atd_event good;
    memset(&good, 0, sizeof good);
    good.type = ATD_EV_SESSION;
    good.app_id = ATD_STR_LIT("app");
    good.device_id = ATD_STR_LIT("dev");
    good.ts = 300;
    size_t n = atd_event_encode(&good, ok_rec);
    CHECK_EQ_INT(atd_event_decode(ok_rec, n, &arena, &ev), 0);
    /* every strict prefix is corrupt (cut inside a field, or a required field missing) */
    for (size_t cut = 0; cut < n; cut++)
        CHECK_EQ_INT(atd_event_decode(ok_rec, cut, &arena, &ev), ATD_ECORRUPT);

    struct {
        const char *what;
        uint8_t b[24];
        size_t n;
    } bad[] = {
        {"empty", {0}, 0},
        {"no type", {0x1a, 1, 'a', 0xf2, 0x01, 1, 'd'}, 7},
        {"type 0", {0x08, 0x00, 0x1a, 1, 'a', 0xf2, 0x01, 1, 'd'}, 9},
        {"type 6", {0x08, 0x06, 0x1a, 1, 'a', 0xf2, 0x01, 1, 'd'}, 9},
        {"type -1", {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x1a, 1, 'a'}, 14},
        {"no app_id", {0x08, 0x03, 0xf2, 0x01, 1, 'd'}, 6},
        {"empty app_id", {0x08, 0x03, 0x1a, 0, 0xf2, 0x01, 1, 'd'}, 8},
        {"install w/o device", {0x08, 0x03, 0x1a, 1, 'a'}, 5},
        {"click w/o media", {0x08, 0x01, 0x1a, 1, 'a'}, 5},
        {"inapp w/o name", {0x08, 0x05, 0x1a, 1, 'a', 0xf2, 0x01, 1, 'd'}, 9},
        {"length past end", {0x08, 0x03, 0x1a, 9, 'a'}, 5},
        {"huge length", {0x08, 0x03, 0x1a, 0xff, 0xff, 0xff, 0xff, 0x0f, 'a'}, 9},
        {"11-byte varint", {0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 12},
        {"field 0", {0x00, 0x01}, 2},
        {"group start", {0x0b, 0x0c}, 2},
        {"wire type 7", {0x0f}, 1},
        {"string as varint", {0x08, 0x03, 0x18, 0x01}, 4},
        {"type as bytes", {0x0a, 1, 3}, 3},
        {"revenue as varint", {0xc8, 0x02, 0x01}, 3},
        {"truncated fixed64", {0xc9, 0x02, 1, 2, 3}, 5},
        {"truncated tag", {0x80}, 1},
        {"nan revenue",
         {0x08, 0x03, 0x1a, 1, 'a', 0xf2, 0x01, 1, 'd', 0xc9, 0x02, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f},
         19},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = atd_event_decode(bad[i].b, bad[i].n, &arena, &ev);
        if (rc != ATD_ECORRUPT) fprintf(stderr, "  not refused: %s\n", bad[i].what);
        CHECK_EQ_INT(rc, ATD_ECORRUPT);
        CHECK_EQ_INT(ev.type, ATD_EV_NONE); /* a refused record leaves nothing behind */
    }
    /* the nan record is structurally fine except for nan (protobuf-c takes it) */
    Attribd__V1__Event *m = attribd__v1__event__unpack(NULL, bad[21].n, bad[21].b);
    CHECK(m != NULL && m->has_revenue && isnan(m->revenue));
    if (m) attribd__v1__event__free_unpacked(m, NULL);

    /* random garbage: never a crash, and anything accepted re-encodes to a valid record */
    uint32_t x = 12345;
    uint8_t rnd[200];
    int accepted = 0;
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)(x % sizeof rnd);
        for (size_t i = 0; i < len; i++) {
            x = x * 1103515245u + 12345u;
            rnd[i] = (uint8_t)(x >> 16);
        }
        /* a valid prefix makes acceptance possible */
        if (round & 1 && len >= n) memcpy(rnd, ok_rec, n);
        atd_arena_reset(&arena);
        if (atd_event_decode(rnd, len, &arena, &ev) == 0) {
            accepted++;
            uint8_t out[512];
            CHECK(atd_event_encoded_size(&ev) <= sizeof out);
            size_t on = atd_event_encode(&ev, out);
            atd_event again;
            CHECK_EQ_INT(atd_event_decode(out, on, &arena, &again), 0);
            check_same_event(&ev, &again);
        }
    }
    CHECK(accepted > 0);
}

static void test_key(void)
{
    atd_event ev;
    char buf[128];
    memset(&ev, 0, sizeof ev);
    ev.type = ATD_EV_INSTALL;
    ev.app_id = ATD_STR_LIT("app");
    ev.device_id = ATD_STR_LIT("dev");
    ev.advertising_id = ATD_STR_LIT("gaid");
    ev.ip = ATD_STR_LIT("1.2.3.4");
    size_t n = atd_event_key(&ev, buf, sizeof buf);
    CHECK_EQ_INT(n, 7);
    CHECK_STR(buf, "app/dev");
    ev.type = ATD_EV_CLICK;
    n = atd_event_key(&ev, buf, sizeof buf);
    CHECK_STR(buf, "app/gaid");
    CHECK_EQ_INT(n, 8);
    ev.advertising_id = ATD_STR_NULL;
    n = atd_event_key(&ev, buf, sizeof buf);
    CHECK_STR(buf, "app/1.2.3.4");
    ev.ip = ATD_STR_NULL;
    n = atd_event_key(&ev, buf, sizeof buf);
    CHECK_STR(buf, "app/");
    CHECK_EQ_INT(n, 4);
    /* a small buffer: truncated, never overrun */
    ev.ip = ATD_STR_LIT("1.2.3.4");
    memset(buf, '#', sizeof buf);
    n = atd_event_key(&ev, buf, 6);
    CHECK_EQ_INT(n, 6);
    CHECK(memcmp(buf, "app/1.", 6) == 0);
    CHECK(buf[6] == '#');
    CHECK_EQ_INT(atd_event_key(&ev, buf, 0), 0);
    /* app events of one device share a key whatever else they carry */
    atd_event a, b;
    char ka[64], kb[64];
    memset(&a, 0, sizeof a);
    a.type = ATD_EV_SESSION;
    a.app_id = ATD_STR_LIT("x");
    a.device_id = ATD_STR_LIT("d");
    b = a;
    b.type = ATD_EV_INAPP;
    b.ip = ATD_STR_LIT("9.9.9.9");
    size_t na = atd_event_key(&a, ka, sizeof ka), nb = atd_event_key(&b, kb, sizeof kb);
    CHECK(na == nb && memcmp(ka, kb, na) == 0);

    /* every length class of app and device, every buffer size around the key's length: the
     * bytes of app + '/' + device, truncated to cap, NUL after when it fits, nothing past cap */
    int all_ok = 1;
    for (size_t i = 0; i < N_LENS && lens[i] < 200; i++) {
        for (size_t j = 0; j < N_LENS && lens[j] < 200; j++) {
            atd_arena_reset(&arena);
            minimal_inapp(&a);
            a.app_id = text_of(lens[i], 1);
            a.device_id = text_of(lens[j], 2);
            char want[512];
            size_t wn = (size_t)snprintf(want, sizeof want, "%s/%s", a.app_id.p, a.device_id.p);
            for (size_t cap = 0; cap <= wn + 2; cap++) {
                char out[512];
                memset(out, '#', sizeof out);
                size_t got = atd_event_key(&a, out, cap);
                size_t expect = wn < cap ? wn : cap;
                all_ok &= got == expect && memcmp(out, want, got) == 0;
                if (got < cap) all_ok &= out[got] == 0;
                all_ok &= out[cap] == '#';
            }
        }
    }
    CHECK(all_ok);
}

int main(void)
{
    atd_arena_init(&arena, 4096);
    RUN(test_every_field);
    RUN(test_minimal_and_edges);
    RUN(test_each_field_alone);
    RUN(test_random_subsets);
    RUN(test_decode_tolerance);
    RUN(test_decode_corrupt);
    RUN(test_key);
    atd_arena_free(&arena);
    return atd_test_done();
}
