/* atd_json_scan_fields (a keyset, with a shorter path for common members) against
 * atd_json_scan_object (a slot() callback, the general loop only): on many generated and
 * mutated texts both must give the same return code, error (code, offset, message), values
 * seen, positions and counts. Plus the keyset itself: every key found, others not. */
#include <stdlib.h>

#include "attribd/common.h"
#include "attribd/json_parse.h"
#include "harness.h"

static const char *const names[] = {
    "type", "ts", "app_id", "ip", "user_agent", "advertising_id", "media_source", "campaign",
    "campaign_id", "adset", "adset_id", "ad", "ad_id", "site_id", "channel", "click_id",
    "is_retargeting", "click_lookback", "view_lookback", "deep_link_value", "cost_value",
    "cost_currency", "device_id", "platform", "os_version", "device_model", "app_version",
    "customer_user_id", "event_id", "event_name", "revenue", "currency", "event_value",
    "", "a\"b", "x\\y", "k\n",
};
#define NNAMES ((int)(sizeof names / sizeof names[0]))

static atd_json_keyset keys;

static int by_name(const char *k, size_t n, void *arg)
{
    (void)arg;
    for (int i = 0; i < NNAMES; i++)
        if (strlen(names[i]) == n && memcmp(names[i], k, n) == 0) return i;
    return -1;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static long compared, accepted;

/* Scans text both ways and compares everything. */
static void same(const char *text, size_t len, int max_values)
{
    atd_json_scanner a, b;
    atd_json_error ea, eb;
    atd_json_val va[64], vb[64];
    uint64_t sa = 0, sb = 0;
    memset(va, 0, sizeof va);
    memset(vb, 0, sizeof vb);
    atd_json_scan_init(&a, text, len, max_values, 8, &ea);
    atd_json_scan_init(&b, text, len, max_values, 8, &eb);
    int ra = atd_json_scan_object(&a, by_name, NULL, va, &sa);
    int rb = atd_json_scan_fields(&b, &keys, vb, &sb);
    compared++;
    int ok = ra == rb;
    if (ok && ra != 0)
        ok = ea.code == eb.code && ea.offset == eb.offset && strcmp(ea.message, eb.message) == 0;
    if (ok && ra == 0) {
        accepted++;
        ok = sa == sb && a.pos == b.pos && a.values == b.values;
        for (int f = 0; ok && f < 64; f++)
            if (sa >> f & 1)
                ok = va[f].type == vb[f].type && va[f].escaped == vb[f].escaped &&
                     va[f].start == vb[f].start && va[f].end == vb[f].end;
    }
    if (!ok) {
        fprintf(stderr, "  differ on (%zu bytes): %.*s\n  object: rc %d '%s'  fields: rc %d '%s'\n",
                len, (int)len, text, ra, ea.message, rb, eb.message);
        CHECK(ok);
    }
}

static void test_keyset(void)
{
    CHECK_EQ_INT(atd_json_keyset_init(&keys, names, NNAMES), 0);
    for (int i = 0; i < NNAMES; i++) CHECK_EQ_INT(atd_json_keyset_find(&keys, names[i], strlen(names[i])), i);
    const char *other[] = {"t", "typ", "types", "tS", "campaign_i", "campaign_idx",
                           "customer_user_i", "customer_user_id_", "ts\0", "a"};
    size_t olen[] = {1, 3, 5, 2, 10, 12, 15, 17, 3, 1};
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
        CHECK_EQ_INT(atd_json_keyset_find(&keys, other[i], olen[i]), -1);
    atd_json_keyset k2;
    const char *dup[] = {"a", "b", "a"};
    CHECK_EQ_INT(atd_json_keyset_init(&k2, dup, 3), ATD_EINVAL);
    const char *lng[] = {"a", "seventeen_bytes_x"};
    CHECK_EQ_INT(atd_json_keyset_init(&k2, lng, 2), ATD_EINVAL);
    CHECK_EQ_INT(atd_json_keyset_init(&k2, lng, 1), 0);
    CHECK_EQ_INT(atd_json_keyset_find(&k2, "a", 1), 0);
    CHECK_EQ_INT(atd_json_keyset_find(&k2, "b", 1), -1);
    /* many keys: every one still found */
    static char many[ATD_JSON_KEYSET_MAX][8];
    const char *mp[ATD_JSON_KEYSET_MAX];
    for (int i = 0; i < ATD_JSON_KEYSET_MAX; i++) {
        snprintf(many[i], sizeof many[i], "k%d", i);
        mp[i] = many[i];
    }
    CHECK_EQ_INT(atd_json_keyset_init(&k2, mp, ATD_JSON_KEYSET_MAX), 0);
    for (int i = 0; i < ATD_JSON_KEYSET_MAX; i++) CHECK_EQ_INT(atd_json_keyset_find(&k2, mp[i], strlen(mp[i])), i);
    CHECK_EQ_INT(atd_json_keyset_init(&k2, mp, ATD_JSON_KEYSET_MAX + 1), ATD_EINVAL);
}

static const char *const templates[] = {
    "{\"type\":\"click\",\"ts\":1793534400050,\"app_id\":\"com.example.game\",\"media_source\":"
    "\"networkF\",\"campaign\":\"c12\",\"campaign_id\":\"117\",\"site_id\":\"s25\",\"click_id\":"
    "\"ck88389-0\",\"advertising_id\":\"67fecb8a-b04b-bea9-99dc-24d5c4535274\",\"ip\":"
    "\"41.254.100.20\",\"user_agent\":\"Mozilla/5.0 (Linux; Android 14; K Build/TQ3A) Chrome/116.0 Mobile\"}",
    "{\"type\":\"install\",\"ts\":1793534400550,\"app_id\":\"com.example.game\",\"device_id\":"
    "\"dev-93916\",\"platform\":\"android\",\"os_version\":\"11\",\"device_model\":\"SM-G991B\","
    "\"customer_user_id\":\"u-1\",\"is_retargeting\":false,\"app_version\":\"3.1\"}",
    "{\"type\":\"inapp\",\"ts\":-0,\"app_id\":\"a\",\"device_id\":\"d\",\"event_name\":\"purchase\","
    "\"revenue\":7.99e-1,\"currency\":null,\"event_value\":{\"sku\":[1,2,{\"x\":true}]},\"zz\":[]}",
    "{ \"type\" : \"session\" , \"ts\" : 1 , \"app_id\" : \"a\\u00e9\" , \"device_id\" : \"d\\n\" }",
    "{\"k\\n\":\"v\",\"a\\\"b\":\"w\",\"x\\\\y\":1,\"\":2,\"unknown_key_longer_than_sixteen\":\"\xc3\xa9\"}",
    "{\"type\":\"click\",\"is_retargeting\":true,\"cost_value\":\"0.1\",\"ad\":null,\"ts\":12,\"ts\":13}",
    "{\"customer_user_id\":\"0123456789abcdef0123456789\",\"campaign_id\":\"\",\"ad_id\":1e5,\"adset\":\"x\"}",
};

static const char alphabet[] = "\"\\{}[]:, \t\n0123456789-+.eEtrufalsn_a\x01\xc3\xa9\x80";

/* Writes a random object in the compact form the short path takes (mostly): known and
 * unknown keys, strings of every length up to 40 (the 16-byte steps and the text's end),
 * numbers, literals, nested values, now and then an escape, a raw control byte or UTF-8.
 * Returns its length. */
static size_t random_object(char *out, size_t cap)
{
    static const char plain[] = "abcXYZ019 -_./:;(){}[],'!~";
    static const char *const other[] = {"1", "-0", "0.5", "12e3", "-7.25E-2", "true", "false",
                                        "null", "{}", "[]", "{\"a\":[1,{\"b\":null}]}",
                                        "[\"x\",2]", "01", "1.", "tru", "nul", "-"};
    size_t n = 0;
    out[n++] = '{';
    int members = (int)rnd(14);
    for (int m = 0; m < members && n + 120 < cap; m++) {
        if (m) out[n++] = ',';
        if (rnd(40) == 0) out[n++] = ' ';
        if (rnd(6)) {
            n += (size_t)snprintf(out + n, cap - n, "\"%s\"", names[rnd(33)]);
        } else { /* an unknown key, 0-20 bytes */
            unsigned kl = rnd(21);
            out[n++] = '"';
            for (unsigned i = 0; i < kl; i++) out[n++] = plain[rnd(sizeof plain - 1)];
            out[n++] = '"';
        }
        out[n++] = ':';
        if (rnd(40) == 0) out[n++] = '\t';
        if (rnd(4)) {
            unsigned vl = rnd(41);
            out[n++] = '"';
            for (unsigned i = 0; i < vl; i++) {
                unsigned r = rnd(200);
                if (r == 0) { out[n++] = '\\'; out[n++] = 'n'; }
                else if (r == 1) out[n++] = 0x01;
                else if (r == 2) { out[n++] = (char)0xc3; out[n++] = (char)0xa9; }
                else if (r == 3) out[n++] = '"';
                else out[n++] = plain[rnd(sizeof plain - 1)];
            }
            out[n++] = '"';
        } else {
            n += (size_t)snprintf(out + n, cap - n, "%s", other[rnd(sizeof other / sizeof other[0])]);
        }
    }
    if (rnd(30) == 0) out[n++] = ' ';
    out[n++] = '}';
    if (rnd(30) == 0) out[n++] = '\n';
    return n;
}

static void test_differential(void)
{
    char buf[1024];
    for (size_t t = 0; t < sizeof templates / sizeof templates[0]; t++)
        same(templates[t], strlen(templates[t]), 4096);
    for (int iter = 0; iter < 400000; iter++) {
        size_t n;
        if (iter & 1) {
            n = random_object(buf, sizeof buf);
        } else {
            const char *src = templates[rnd(sizeof templates / sizeof templates[0])];
            n = strlen(src);
            memcpy(buf, src, n);
        }
        int edits = (iter & 1) && rnd(2) ? 0 : (int)rnd(4);
        for (int e = 0; e < edits; e++) {
            size_t at = n ? rnd((unsigned)n) : 0;
            char c = alphabet[rnd(sizeof alphabet - 1)];
            switch (rnd(4)) {
            case 0: /* replace */
                if (n) buf[at] = c;
                break;
            case 1: /* insert */
                if (n + 1 < sizeof buf) {
                    memmove(buf + at + 1, buf + at, n - at);
                    buf[at] = c;
                    n++;
                }
                break;
            case 2: /* delete */
                if (n) {
                    memmove(buf + at, buf + at + 1, n - at - 1);
                    n--;
                }
                break;
            default: /* duplicate a span (repeats keys, grows strings) */
                if (n && n < 500) {
                    size_t len = rnd(40) + 1;
                    if (at + len > n) len = n - at;
                    memmove(buf + at + len, buf + at, n - at);
                    n += len;
                }
                break;
            }
        }
        /* sometimes cut: the last bytes are where the short path hands over */
        if (rnd(8) == 0 && n) n = rnd((unsigned)n) + 1;
        /* small value limits: the short path must leave the counting errors to the loop */
        int max_values = rnd(10) == 0 ? (int)rnd(30) + 1 : 4096;
        /* a private heap copy of exactly n bytes, so that ASan sees any read past the end */
        char *exact = malloc(n ? n : 1);
        memcpy(exact, buf, n);
        same(exact, n, max_values);
        free(exact);
    }
    fprintf(stderr, "  %ld texts compared, %ld accepted\n", compared, accepted);
    CHECK(accepted > 1000);
}

/* Every string length 0..80 with, at every place, each kind of byte that needs a look (an
 * escape, a raw control byte, UTF-8, a stray quote), as a value and as a key, behind keys of
 * every length (so every alignment of the 16-byte steps and of the text's end): the short
 * paths must hand over exactly where the general loop would decide. */
static void test_every_length_and_place(void)
{
    static const char *const odd[] = {"\\n", "\\u00e9", "\x01", "\x1f", "\xc3\xa9", "\xff", "\"",
                                      "\\", "\x7f"};
    char buf[512], str[128];
    for (int len = 0; len <= 80; len++) {
        for (int at = -1; at < len; at++) {
            for (size_t o = 0; o < (at < 0 ? 1 : sizeof odd / sizeof odd[0]); o++) {
                size_t sl = 0;
                for (int k = 0; k < len; k++) {
                    if (k == at) {
                        size_t ol = strlen(odd[o]);
                        memcpy(str + sl, odd[o], ol);
                        sl += ol;
                    } else {
                        str[sl++] = (char)('a' + (k * 5 + len) % 26);
                    }
                }
                str[sl] = 0;
                int pad = (len + at + 1 + (int)o) % 19; /* a leading key of 0..18 bytes */
                char key[24];
                memset(key, 'k', (size_t)pad);
                key[pad] = 0;
                size_t n;
                /* as a value, then more members */
                n = (size_t)snprintf(buf, sizeof buf,
                                     "{\"%s\":1,\"user_agent\":\"%s\",\"ts\":17,\"ip\":\"1.2.3.4\"}",
                                     key, str);
                char *exact = malloc(n);
                memcpy(exact, buf, n);
                same(exact, n, 4096);
                /* as the last value (the text's end inside the 16-byte steps) */
                n = (size_t)snprintf(buf, sizeof buf, "{\"%s\":true,\"campaign\":\"%s\"}", key, str);
                exact = realloc(exact, n);
                memcpy(exact, buf, n);
                same(exact, n, 4096);
                /* as a key */
                n = (size_t)snprintf(buf, sizeof buf, "{\"%s\":null,\"%s\":\"v\",\"type\":\"click\"}",
                                     key, str);
                exact = realloc(exact, n);
                memcpy(exact, buf, n);
                same(exact, n, 4096);
                free(exact);
            }
        }
    }
}

int main(void)
{
    RUN(test_keyset);
    RUN(test_differential);
    RUN(test_every_length_and_place);
    /* the same on the baseline copy of scan_fields (the above ran the AVX2 one where the CPU
     * has it) */
    atd_json_scan_fields_use_avx2(0);
    RUN(test_differential);
    RUN(test_every_length_and_place);
    atd_json_scan_fields_use_avx2(1);
    return atd_test_done();
}
