/* The engine's per-event shortcuts against the plain code they replace: the result JSON's
 * number and string writers (snprintf and a byte-by-byte escaper), the user-agent fingerprint
 * memo (atd_fp_from_ua on every call), the device record's writer (encode, decode, encode
 * gives the same bytes) and the activity clusters' shortcut (the general merge). Random
 * inputs, many rounds: a shortcut that differs on any input fails here. */
#include <stdlib.h>

#include "attribd/engine.h"
#include "attribution/codec.h"
#include "attribution/device_state.h"
#include "attribution/fingerprint.h"
#include "attribution/touch_store.h"
#include "harness.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* --- result JSON ----------------------------------------------------------------------- */

static void ref_escape(atd_buf *b, atd_str s)
{
    if (!s.p) {
        atd_buf_puts(b, "null");
        return;
    }
    atd_buf_putc(b, '"');
    for (size_t i = 0; i < s.n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        char tmp[8];
        switch (c) {
        case '"': atd_buf_puts(b, "\\\""); break;
        case '\\': atd_buf_puts(b, "\\\\"); break;
        case '\n': atd_buf_puts(b, "\\n"); break;
        case '\r': atd_buf_puts(b, "\\r"); break;
        case '\t': atd_buf_puts(b, "\\t"); break;
        case '\b': atd_buf_puts(b, "\\b"); break;
        case '\f': atd_buf_puts(b, "\\f"); break;
        default:
            if (c < 0x20) {
                snprintf(tmp, sizeof tmp, "\\u%04x", c);
                atd_buf_puts(b, tmp);
            } else {
                atd_buf_putc(b, (char)c);
            }
        }
    }
    atd_buf_putc(b, '"');
}

/* A random string: mostly plain bytes, some that need escaping, high bytes; any length up to
 * 40 (every tail length of the word loop). */
static atd_str rnd_str(char *buf)
{
    static const char special[] = {'"', '\\', '\n', '\r', '\t', '\b', '\f', 0x01, 0x1f, 0x7f,
                                   (char)0x80, (char)0xff, ' ', '!', '#', '[', ']', ']' + 1};
    size_t n = rnd() % 41;
    int kind = (int)(rnd() % 4);
    for (size_t i = 0; i < n; i++) {
        if (kind == 0 || rnd() % 16) buf[i] = (char)('a' + rnd() % 26);
        else buf[i] = special[rnd() % sizeof special];
    }
    if (kind == 1 && n) buf[rnd() % n] = special[rnd() % sizeof special];
    return (atd_str){buf, n};
}

static int64_t rnd_i64(void)
{
    static const int64_t edge[] = {0, 1, -1, 9, 10, 99, 100, INT64_MAX, INT64_MIN, INT64_MIN + 1,
                                   1793534400000LL, 999999999999LL, 1000000000000LL};
    switch (rnd() % 4) {
    case 0: return edge[rnd() % (sizeof edge / sizeof edge[0])];
    case 1: { /* a power of ten, give or take one */
        int64_t p = 1;
        for (int k = (int)(rnd() % 19); k > 0; k--) p *= 10;
        return p + (int64_t)(rnd() % 3) - 1;
    }
    case 2: return (int64_t)(rnd() >> (rnd() % 64)) * ((rnd() & 1) ? -1 : 1);
    default: return 1793534400000LL + (int64_t)(rnd() % 100000000000ULL);
    }
}

static void test_result_json_numbers_and_strings(void)
{
    atd_buf got, want;
    atd_buf_init(&got);
    atd_buf_init(&want);
    char s1[64], s2[64], s3[64], s4[64];
    int bad = 0;
    for (int round = 0; round < 200000 && bad < 5; round++) {
        atd_result r;
        memset(&r, 0, sizeof r);
        r.type = ATD_RES_INSTALL;
        r.app_id = rnd_str(s1);
        r.device_id = rnd() % 8 ? rnd_str(s2) : ATD_STR_NULL;
        r.ts = rnd_i64();
        r.has_install_ts = 1;
        r.install_ts = rnd_i64();
        r.status = ATD_ATTR_NON_ORGANIC;
        r.attribution.media_source = rnd_str(s3);
        r.attribution.click_id = rnd_str(s4);
        r.attribution.touch_type = ATD_EV_CLICK;
        r.attribution.touch_ts = rnd_i64();
        got.n = 0;
        atd_result_to_json(&r, &got);
        want.n = 0;
        atd_buf_puts(&want, "{\"event_type\":\"install\",\"app_id\":");
        ref_escape(&want, r.app_id);
        atd_buf_puts(&want, ",\"device_id\":");
        ref_escape(&want, r.device_id);
        atd_buf_printf(&want, ",\"ts\":%lld,\"install_ts\":%lld", (long long)r.ts,
                       (long long)r.install_ts);
        atd_buf_puts(&want, ",\"attribution\":{\"status\":\"non_organic\",\"media_source\":");
        ref_escape(&want, r.attribution.media_source);
        atd_buf_puts(&want, ",\"campaign\":null,\"campaign_id\":null,\"adset\":null,\"ad\":null,"
                            "\"site_id\":null,\"channel\":null,\"click_id\":");
        ref_escape(&want, r.attribution.click_id);
        atd_buf_printf(&want,
                       ",\"touch_type\":\"click\",\"touch_ts\":%lld,\"match_type\":\"id\"},"
                       "\"retargeting\":null,\"contributors\":[],\"fraud\":null}",
                       (long long)r.attribution.touch_ts);
        if (got.n != want.n || memcmp(got.p, want.p, got.n) != 0) {
            atd_test_fail(__FILE__, __LINE__, "round %d:\n got %s\nwant %s", round, got.p,
                          want.p);
            bad++;
        }
    }
    atd_buf_free(&got);
    atd_buf_free(&want);
}

/* The result JSON of an install with ts v and the app id a (the rest fixed), and what
 * snprintf and the byte escaper make of them. */
static int result_json_same(int64_t v, atd_str a, atd_buf *got, atd_buf *want)
{
    atd_result r;
    memset(&r, 0, sizeof r);
    r.type = ATD_RES_INSTALL;
    r.app_id = a;
    r.ts = v;
    r.status = ATD_ATTR_ORGANIC;
    got->n = 0;
    atd_result_to_json(&r, got);
    want->n = 0;
    atd_buf_puts(want, "{\"event_type\":\"install\",\"app_id\":");
    ref_escape(want, a);
    atd_buf_printf(want, ",\"device_id\":null,\"ts\":%lld,\"install_ts\":null,", (long long)v);
    return got->n > want->n && memcmp(got->p, want->p, want->n) == 0;
}

/* Every number of digits (1 to 19, both signs) at its edges and inside, against snprintf: the
 * writer goes 8 digits at a time and drops leading zeros of the first group. */
static void test_result_json_every_digit_count(void)
{
    atd_buf got, want;
    atd_buf_init(&got);
    atd_buf_init(&want);
    atd_str a = atd_str_c("app");
    int bad = 0;
    uint64_t up = 1; /* 10^k (unsigned: 10^19 is past INT64_MAX) */
    for (int k = 0; k <= 18 && bad < 5; k++, up *= 10) {
        /* 10^k - 1 .. 10^(k+1) - 1, those past INT64_MAX (k == 18) as INT64_MAX */
        uint64_t uvals[] = {up - 1, up, up + 1, up * 2 - 1, up * 5, up * 9, up + rnd() % up,
                            up * 10 - 1};
        int64_t vals[8];
        for (size_t i = 0; i < 8; i++)
            vals[i] = uvals[i] > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)uvals[i];
        for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
            for (int sign = 1; sign >= -1; sign -= 2) {
                int64_t v = vals[i] * sign;
                if (!result_json_same(v, a, &got, &want)) {
                    atd_test_fail(__FILE__, __LINE__, "%lld: %s", (long long)v, got.p);
                    bad++;
                }
            }
        }
    }
    CHECK(result_json_same(INT64_MIN, a, &got, &want));
    CHECK(result_json_same(INT64_MIN + 1, a, &got, &want));
    CHECK(result_json_same(0, a, &got, &want));
    atd_buf_free(&got);
    atd_buf_free(&want);
}

/* Every string length of every size class of the writer (0 to 40), clean and with one byte
 * to escape at each position, against the byte escaper; strings at the end of a heap block,
 * so that a read past them shows under ASan. */
static void test_result_json_every_length_and_position(void)
{
    static const char special[] = {'"', '\\', '\n', 0x01, 0x1f};
    atd_buf got, want;
    atd_buf_init(&got);
    atd_buf_init(&want);
    int bad = 0;
    for (size_t n = 0; n <= 40 && bad < 5; n++) {
        for (size_t at = 0; at <= n && bad < 5; at++) { /* at == n: clean */
            for (size_t k = 0; k < sizeof special && bad < 5; k++) {
                char *buf = malloc(n ? n : 1);
                for (size_t i = 0; i < n; i++) buf[i] = (char)(i % 2 ? 0x7f + i : 'a' + i % 26);
                if (at < n) buf[at] = special[k];
                if (!result_json_same(1793534400000LL, (atd_str){buf, n}, &got, &want)) {
                    atd_test_fail(__FILE__, __LINE__, "length %zu, at %zu: %s", n, at, got.p);
                    bad++;
                }
                free(buf);
                if (at == n) break;
            }
        }
    }
    atd_buf_free(&got);
    atd_buf_free(&want);
}

/* --- fingerprint memo ------------------------------------------------------------------ */

static void test_fp_memo_same_as_rules(void)
{
    static const char *uas[] = {
        "Mozilla/5.0 (Linux; Android 13; moto g(30) Build/TQ3A) Chrome/116.0 Mobile",
        "Mozilla/5.0 (Linux; Android 14; K Build/TQ3A) Chrome/116.0 Mobile",
        "Mozilla/5.0 (Linux; U; Android 4.4.2; en-us; SM-G900F Build/KOT49H)",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15",
        "Mozilla/5.0 (iPad; CPU OS 09_01 like Mac OS X)",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", /* no fingerprint */
        "Mozilla/5.0 (Linux; Android 12; )",        /* matches, but no model */
        "",
        "Android 5; x",
        "Mozilla/5.0 (Linux; Android 99999999999999999999.88888888888888888888; model Build/X)",
        "Mozilla/5.0 (Linux; Android 10; a model name longer than the memo keeps it, "
        "surely longer than forty-eight bytes Build/X)",
    };
    size_t nua = sizeof uas / sizeof uas[0];
    /* variants that differ in one byte, and some too long to be memoized */
    char var[64][300];
    for (int i = 0; i < 64; i++) {
        const char *base = uas[i % nua];
        size_t n = strlen(base);
        memcpy(var[i], base, n + 1);
        if (n && i >= (int)nua) var[i][rnd() % n] = (char)('0' + i % 10);
        if (i % 16 == 15) { /* 250 bytes: past ATD_FP_MEMO_UA */
            memset(var[i], 'x', 250);
            memcpy(var[i] + 100, " (iPhone; CPU iPhone OS 16_4 like", 34);
            var[i][250] = 0;
        }
    }
    atd_fp_memo *m = calloc(1, sizeof *m);
    atd_arena a;
    atd_arena_init(&a, 4096);
    int bad = 0;
    for (int round = 0; round < 100000 && bad < 5; round++) {
        const char *s = var[rnd() % 64];
        atd_str ua = round % 97 == 0 ? ATD_STR_NULL : atd_str_c(s);
        atd_fp want, got;
        int rw = atd_fp_from_ua(ua, &a, &want);
        int rg = atd_fp_from_ua_memo(m, ua, &a, &got);
        int same = rw == rg && want.os == got.os && want.version.n == got.version.n &&
                   want.model.n == got.model.n && (want.version.p == NULL) == (got.version.p == NULL) &&
                   (want.model.p == NULL) == (got.model.p == NULL) &&
                   (!want.version.n || memcmp(want.version.p, got.version.p, want.version.n) == 0) &&
                   (!want.model.n || memcmp(want.model.p, got.model.p, want.model.n) == 0);
        if (!same) {
            atd_test_fail(__FILE__, __LINE__, "round %d, ua \"%s\": %d/%d os %d/%d", round,
                          ua.p ? s : "(null)", rw, rg, want.os, got.os);
            bad++;
        }
        atd_arena_reset(&a);
    }
    atd_arena_free(&a);
    free(m);
}

/* --- device records and activity ------------------------------------------------------- */

/* The activity merge as it was written first: insert, merge neighbours, drop the oldest. */
static void ref_activity_add(atd_device *d, int64_t ts, int64_t p)
{
    if (p <= 0) return;
    if (d->act_gap != p) {
        d->n_act = 0;
        d->act_gap = p;
    }
    size_t n = d->n_act, i = 0, k = 0;
    int64_t f[ATD_ACT_MAX + 1], l[ATD_ACT_MAX + 1];
    int placed = 0;
    for (i = 0; i < n || !placed; k++) {
        if (!placed && (i >= n || ts < d->act_first[i])) {
            f[k] = l[k] = ts;
            placed = 1;
        } else {
            f[k] = d->act_first[i];
            l[k] = d->act_last[i];
            i++;
        }
    }
    size_t m = 0;
    for (size_t j = 0; j < k; j++) {
        if (m && f[j] - l[m - 1] <= p) {
            if (l[j] > l[m - 1]) l[m - 1] = l[j];
        } else {
            f[m] = f[j];
            l[m] = l[j];
            m++;
        }
    }
    while (m > ATD_ACT_MAX) {
        size_t old = 0;
        for (size_t j = 1; j < m; j++)
            if (l[j] < l[old]) old = j;
        memmove(f + old, f + old + 1, (m - old - 1) * sizeof f[0]);
        memmove(l + old, l + old + 1, (m - old - 1) * sizeof l[0]);
        m--;
    }
    memcpy(d->act_first, f, m * sizeof f[0]);
    memcpy(d->act_last, l, m * sizeof l[0]);
    d->n_act = m;
}

static void test_device_activity_and_codec(void)
{
    atd_buf b1, b2;
    atd_buf_init(&b1);
    atd_buf_init(&b2);
    int bad = 0;
    for (int round = 0; round < 3000 && bad < 5; round++) {
        atd_device d, ref;
        memset(&d, 0, sizeof d);
        d.install_ts = 1793534400000LL + (int64_t)(rnd() % 1000000);
        d.status = rnd() % 2 ? ATD_ATTR_NON_ORGANIC : ATD_ATTR_ORGANIC;
        char s1[64], s2[64];
        if (d.status == ATD_ATTR_NON_ORGANIC) {
            d.acq.media_source = rnd_str(s1);
            d.acq.campaign = rnd() % 2 ? rnd_str(s2) : ATD_STR_NULL;
            d.acq.touch_type = ATD_EV_CLICK;
            d.acq.touch_ts = d.install_ts - 1000;
            d.acq.probabilistic = (int)(rnd() % 2);
        }
        if (rnd() % 3 == 0) {
            d.has_window = 1;
            d.window_start = d.install_ts + 5;
            d.window.media_source = atd_str_c("retarget");
            d.window.touch_type = ATD_EV_CLICK;
            d.window.touch_ts = d.install_ts + 1;
        }
        ref = d;
        int64_t p = (int64_t)(1 + rnd() % 1000), t = d.install_ts;
        for (int step = 0; step < 300; step++) {
            /* mostly forward in time, sometimes back, sometimes a new period */
            int64_t dt = (int64_t)(rnd() % (3 * (uint64_t)p)) - (rnd() % 8 == 0 ? 2 * p : 0);
            t += dt;
            int64_t pp = rnd() % 200 == 0 ? p + 1 : p;
            atd_device_activity_add(&d, t, pp);
            ref_activity_add(&ref, t, pp);
            if (d.n_act != ref.n_act || d.act_gap != ref.act_gap ||
                memcmp(d.act_first, ref.act_first, d.n_act * sizeof(int64_t)) != 0 ||
                memcmp(d.act_last, ref.act_last, d.n_act * sizeof(int64_t)) != 0) {
                atd_test_fail(__FILE__, __LINE__, "round %d step %d: activity differs", round,
                              step);
                bad++;
                break;
            }
            /* the record survives a round trip byte for byte */
            b1.n = b2.n = 0;
            atd_device_encode(&d, &b1);
            atd_device back;
            if (atd_device_decode(b1.p, b1.n, &back) != 0) {
                atd_test_fail(__FILE__, __LINE__, "round %d: decode failed", round);
                bad++;
                break;
            }
            atd_device_encode(&back, &b2);
            if (b1.n != b2.n || memcmp(b1.p, b2.p, b1.n) != 0) {
                atd_test_fail(__FILE__, __LINE__, "round %d: re-encoded record differs", round);
                bad++;
                break;
            }
            CHECK(back.install_ts == d.install_ts && back.status == d.status &&
                  back.n_act == d.n_act && back.has_window == d.has_window);
            /* the next step starts from the decoded activity (decode judges whether the
             * shortcut may be taken) */
            CHECK(back.act_merged);
            d.act_merged = back.act_merged;
        }
    }
    atd_buf_free(&b1);
    atd_buf_free(&b2);
}

/* --- advertising id keys --------------------------------------------------------------- */

static int ref_hex(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

static void test_adid_key_uuid_decoding(void)
{
    static const char pool[] = "0123456789abcdef0123456789abcdefABCDEF-g/:`@{\x80\xff\x00 G";
    int bad = 0;
    for (int round = 0; round < 300000 && bad < 5; round++) {
        char id[37];
        for (int i = 0; i < 36; i++) id[i] = "0123456789abcdef"[rnd() % 16];
        id[8] = id[13] = id[18] = id[23] = '-';
        int k = (int)(rnd() % 4); /* 0..3 bytes changed to anything */
        for (int j = 0; j < k; j++) {
            size_t at = rnd() % 36;
            id[at] = rnd() % 2 ? pool[rnd() % (sizeof pool - 1)] : (char)(rnd() & 0xff);
        }
        atd_str adid = {id, 36};
        /* the reference: dashes in place and 32 lower-case hex digits */
        uint8_t raw[16];
        int ok = id[8] == '-' && id[13] == '-' && id[18] == '-' && id[23] == '-';
        static const int at[16] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};
        for (int i = 0; i < 16 && ok; i++) {
            int h = ref_hex(id[at[i]]), l = ref_hex(id[at[i] + 1]);
            if (h < 0 || l < 0) ok = 0;
            else raw[i] = (uint8_t)(h << 4 | l);
        }
        char key[ATD_KEY_MAX];
        size_t kl = atd_key_touch_adid(key, atd_str_c("com.example.game"), adid);
        int good;
        if (ok)
            good = kl == 2 + 16 + 16 && key[0] == 'U' && key[1] == 16 &&
                   memcmp(key + 2, raw, 16) == 0 && memcmp(key + 18, "com.example.game", 16) == 0;
        else
            good = kl == 2 + 36 + 16 && key[0] == 'A' && key[1] == 36 &&
                   memcmp(key + 2, id, 36) == 0;
        if (!good) {
            atd_test_fail(__FILE__, __LINE__, "round %d: id %.36s (valid %d)", round, id, ok);
            bad++;
        }
    }
}

/* --- varints ---------------------------------------------------------------------------- */

/* The byte loop, as atd_get_varint was written first. */
static uint64_t ref_varint(atd_rd *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) break;
        uint8_t c = *r->p++;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) return v;
    }
    r->bad = 1;
    r->p = r->end;
    return 0;
}

static void test_varint_reader(void)
{
    atd_buf b;
    atd_buf_init(&b);
    int bad = 0;
    for (int round = 0; round < 20000 && bad < 5; round++) {
        /* a run of varints of every length, then random bytes (continuation bits, overlong
         * and truncated forms), read both ways to the end */
        b.n = 0;
        int n = (int)(rnd() % 12);
        for (int i = 0; i < n; i++) atd_put_varint(&b, rnd() >> (rnd() % 64));
        int junk = (int)(rnd() % 16);
        for (int i = 0; i < junk; i++) atd_put_byte(&b, (uint8_t)(rnd() % 3 ? rnd() | 0x80 : rnd()));
        atd_rd a = atd_rd_init(b.p, b.n), ref = atd_rd_init(b.p, b.n);
        while (ref.p < ref.end && !ref.bad) {
            uint64_t want = ref_varint(&ref), got = atd_get_varint(&a);
            if (want != got || a.p != ref.p || a.bad != ref.bad) {
                atd_test_fail(__FILE__, __LINE__, "round %d: %llu != %llu", round,
                              (unsigned long long)got, (unsigned long long)want);
                bad++;
                break;
            }
        }
    }
    atd_buf_free(&b);
}

/* --- event ips ------------------------------------------------------------------------- */

static void test_prefetch_ip_same_as_atd_ip_parse(void)
{
    atd_engine *e = atd_engine_new(NULL);
    atd_engine_batch_begin(e); /* the prefetch works only in a batch */
    static const char *fixed[] = {"0.0.0.0", "255.255.255.255", "1.2.3.4", "01.2.3.4",
                                  "1.2.3.04", "256.1.1.1", "1.2.3", "1.2.3.4.", ".1.2.3.4",
                                  "1..2.3", " 1.2.3.4", "1.2.3.4 ", "::ffff:1.2.3.4", "::1",
                                  "1.2.3.4/8", "1000.2.3.4", "1.2.3.2555", "9.9.9.9",
                                  "100.200.250.255", "100.200.260.255", "0.00.0.0"};
    int bad = 0;
    for (int round = 0; round < 300000 && bad < 5; round++) {
        char buf[32];
        size_t n;
        if (round < (int)(sizeof fixed / sizeof fixed[0])) {
            n = strlen(fixed[round]);
            memcpy(buf, fixed[round], n);
        } else {
            /* dotted quads of random parts, some spoiled by a byte */
            n = (size_t)snprintf(buf, sizeof buf, "%u.%u.%u.%u", (unsigned)(rnd() % 300),
                                 (unsigned)(rnd() % 300), (unsigned)(rnd() % 1100),
                                 (unsigned)(rnd() % 260));
            if (rnd() % 3 == 0) buf[rnd() % n] = "0123456789. :x\t/"[rnd() % 16];
            if (rnd() % 20 == 0) n = rnd() % (n + 1);
        }
        atd_event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = ATD_EV_CLICK;
        ev.app_id = atd_str_c("a1");
        ev.media_source = atd_str_c("m");
        ev.ip = (atd_str){buf, n};
        atd_prefetch pf;
        atd_engine_prefetch_slots(e, &ev, &pf);
        atd_ip want;
        int ok = atd_ip_parse(buf, n, &want) == 0;
        int good = ok ? pf.ip_src == buf && memcmp(&pf.ip, &want, sizeof want) == 0
                      : pf.ip_src == NULL;
        if (!good) {
            atd_test_fail(__FILE__, __LINE__, "ip \"%.*s\": valid %d, prefetch %d", (int)n, buf,
                          ok, pf.ip_src != NULL);
            bad++;
        }
    }
    atd_engine_free(e);
}

int main(void)
{
    RUN(test_result_json_numbers_and_strings);
    RUN(test_result_json_every_digit_count);
    RUN(test_result_json_every_length_and_position);
    RUN(test_fp_memo_same_as_rules);
    RUN(test_device_activity_and_codec);
    RUN(test_adid_key_uuid_decoding);
    RUN(test_varint_reader);
    RUN(test_prefetch_ip_same_as_atd_ip_parse);
    return atd_test_done();
}
