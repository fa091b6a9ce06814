/* ATTRIBUTION.md §1 at the edge: every rule of atd_event_parse_json and its boundaries. */
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "attribd/config.h"
#include "attribd/event.h"
#include "attribd/ip.h"
#include "harness.h"

static atd_config cfg;
static atd_app_config apps[2];
static atd_arena arena;
static atd_event ev;
static atd_event_error err;

static void setup(void)
{
    memset(&cfg, 0, sizeof cfg);
    memset(apps, 0, sizeof apps);
    apps[0].app_id = "com.example.game";
    apps[1].app_id = "id123456";
    cfg.apps = apps;
    cfg.n_apps = 2;
    atd_arena_init(&arena, 4096);
}

/* Parses with the config, no path app. */
static int parse_f(const char *json, unsigned flags)
{
    atd_arena_reset(&arena);
    return atd_event_parse_json(json, strlen(json), flags, ATD_STR_NULL, &cfg, &arena, &ev, &err);
}
static int parse(const char *json) { return parse_f(json, 0); }
static int parse_ts(const char *json) { return parse_f(json, ATD_PARSE_REQUIRE_TS); }

/* Expects a refusal with this status and field. */
#define REFUSED(call, status, fld)                                                            \
    do {                                                                                      \
        int rc_ = (call);                                                                     \
        CHECK_EQ_INT(rc_, ATD_EINVAL);                                                        \
        if (rc_ == ATD_EINVAL) {                                                              \
            CHECK_EQ_INT(err.http_status, status);                                            \
            CHECK_STR(err.field, fld);                                                        \
            CHECK(err.message[0] != 0);                                                       \
        }                                                                                     \
    } while (0)

#define OK(call)                                                                              \
    do {                                                                                      \
        int rc_ = (call);                                                                     \
        CHECK_EQ_INT(rc_, 0);                                                                 \
        if (rc_) fprintf(stderr, "  refused: %s: %s\n", err.field, err.message);            \
    } while (0)

/* A string field equals s and is NUL-terminated. */
#define CHECK_FIELD(f, s)                                                                     \
    do {                                                                                      \
        CHECK((f).p != NULL);                                                                 \
        if ((f).p) {                                                                          \
            CHECK_EQ_INT((f).n, strlen(s));                                                   \
            CHECK((f).p[(f).n] == 0);                                                         \
            CHECK_STR((f).p, s);                                                              \
        }                                                                                     \
    } while (0)

#define CLICK "\"type\":\"click\",\"app_id\":\"com.example.game\",\"media_source\":\"netA\""
#define INSTALL "\"type\":\"install\",\"app_id\":\"com.example.game\",\"device_id\":\"d1\""
#define INAPP "\"type\":\"inapp\",\"app_id\":\"com.example.game\",\"device_id\":\"d1\",\"event_name\":\"purchase\""

static void test_full_click(void)
{
    const char *j =
        "{\"type\":\"click\",\"ts\":1700000000000,\"app_id\":\"com.example.game\","
        "\"ip\":\"203.0.113.7\",\"user_agent\":\"Mozilla/5.0\",\"advertising_id\":\"AbC-1\","
        "\"media_source\":\"netA\",\"campaign\":\"summer\",\"campaign_id\":\"c1\","
        "\"adset\":\"as\",\"adset_id\":\"as1\",\"ad\":\"banner\",\"ad_id\":\"ad1\","
        "\"site_id\":\"s1\",\"channel\":\"video\",\"click_id\":\"ck1\",\"is_retargeting\":true,"
        "\"click_lookback\":\"2d\",\"view_lookback\":\"1h\",\"deep_link_value\":\"promo\","
        "\"cost_value\":\"0.05\",\"cost_currency\":\"EUR\"}";
    OK(parse_ts(j));
    CHECK_EQ_INT(ev.type, ATD_EV_CLICK);
    CHECK_EQ_INT(ev.ts, 1700000000000LL);
    CHECK_FIELD(ev.app_id, "com.example.game");
    CHECK_FIELD(ev.ip, "203.0.113.7");
    CHECK_FIELD(ev.user_agent, "Mozilla/5.0");
    CHECK_FIELD(ev.advertising_id, "abc-1");
    CHECK_FIELD(ev.media_source, "netA");
    CHECK_FIELD(ev.campaign, "summer");
    CHECK_FIELD(ev.campaign_id, "c1");
    CHECK_FIELD(ev.adset, "as");
    CHECK_FIELD(ev.adset_id, "as1");
    CHECK_FIELD(ev.ad, "banner");
    CHECK_FIELD(ev.ad_id, "ad1");
    CHECK_FIELD(ev.site_id, "s1");
    CHECK_FIELD(ev.channel, "video");
    CHECK_FIELD(ev.click_id, "ck1");
    CHECK_EQ_INT(ev.is_retargeting, 1);
    CHECK_FIELD(ev.click_lookback, "2d");
    CHECK_FIELD(ev.view_lookback, "1h");
    CHECK_FIELD(ev.deep_link_value, "promo");
    CHECK_FIELD(ev.cost_value, "0.05");
    CHECK_FIELD(ev.cost_currency, "EUR");
    CHECK(!ev.device_id.p);
    /* the same without REQUIRE_TS: ts ignored, the caller stamps */
    OK(parse(j));
    CHECK_EQ_INT(ev.ts, 0);
    OK(parse("{" CLICK ",\"type\":\"impression\"}"));
    CHECK_EQ_INT(ev.type, ATD_EV_IMPRESSION);
    CHECK_EQ_INT(ev.is_retargeting, 0);
    CHECK(!ev.campaign.p && !ev.ip.p && !ev.advertising_id.p);
}

static void test_full_app_events(void)
{
    const char *j =
        "{\"type\":\"inapp\",\"ts\":5,\"app_id\":\"id123456\",\"device_id\":\"dev-1\","
        "\"platform\":\"ios\",\"os_version\":\"17.1\",\"device_model\":\"iPhone15,2\","
        "\"app_version\":\"2.0\",\"customer_user_id\":\"u42\",\"event_id\":\"e-1\","
        "\"event_name\":\"af_purchase\",\"revenue\":9.99,\"currency\":\"usd\","
        "\"event_value\":{ \"sku\" : [1, 2.5e1, \"x\"], \"n\": {\"m\": null} },"
        "\"ip\":\"2001:DB8::1\",\"user_agent\":\"sdk/1\",\"advertising_id\":\" 7A1B \"}";
    OK(parse_ts(j));
    CHECK_EQ_INT(ev.type, ATD_EV_INAPP);
    CHECK_EQ_INT(ev.ts, 5);
    CHECK_FIELD(ev.app_id, "id123456");
    CHECK_FIELD(ev.device_id, "dev-1");
    CHECK_FIELD(ev.platform, "ios");
    CHECK_FIELD(ev.os_version, "17.1");
    CHECK_FIELD(ev.device_model, "iPhone15,2");
    CHECK_FIELD(ev.app_version, "2.0");
    CHECK_FIELD(ev.customer_user_id, "u42");
    CHECK_FIELD(ev.event_id, "e-1");
    CHECK_FIELD(ev.event_name, "af_purchase");
    CHECK_EQ_INT(ev.has_revenue, 1);
    CHECK(ev.revenue == 9.99);
    CHECK_FIELD(ev.currency, "usd"); /* kept as given: the engine upper-cases */
    CHECK_FIELD(ev.event_value, "{ \"sku\" : [1, 2.5e1, \"x\"], \"n\": {\"m\": null} }");
    CHECK_FIELD(ev.ip, "2001:db8::1");
    CHECK_FIELD(ev.advertising_id, "7a1b");

    OK(parse("{" INSTALL ",\"platform\":\"android\"}"));
    CHECK_EQ_INT(ev.type, ATD_EV_INSTALL);
    CHECK_FIELD(ev.platform, "android");
    OK(parse("{\"type\":\"session\",\"app_id\":\"id123456\",\"device_id\":\"x\"}"));
    CHECK_EQ_INT(ev.type, ATD_EV_SESSION);
    CHECK(!ev.platform.p && !ev.event_name.p && !ev.has_revenue);
}

static void test_type_values(void)
{
    REFUSED(parse("{\"type\":null,\"app_id\":\"com.example.game\",\"device_id\":\"d\"}"), 400, "type");
    REFUSED(parse("{\"type\":3,\"app_id\":\"com.example.game\",\"device_id\":\"d\"}"), 400, "type");
    REFUSED(parse("{\"type\":\"CLICK\",\"app_id\":\"com.example.game\",\"media_source\":\"n\"}"), 400, "type");
    REFUSED(parse("{\"type\":\"conversion\",\"app_id\":\"com.example.game\",\"device_id\":\"d\"}"), 400, "type");
    REFUSED(parse("{\"type\":\"\",\"app_id\":\"com.example.game\",\"device_id\":\"d\"}"), 400, "type");
    REFUSED(parse("{\"type\":\"install \",\"app_id\":\"com.example.game\",\"device_id\":\"d\"}"), 400, "type");
    REFUSED(parse("{\"type\":[\"install\"],\"app_id\":\"com.example.game\",\"device_id\":\"d\"}"), 400, "type");
    /* an escaped spelling is the same string */
    OK(parse("{\"type\":\"inst\\u0061ll\",\"app_id\":\"com.example.game\",\"device_id\":\"d\"}"));
    CHECK_EQ_INT(ev.type, ATD_EV_INSTALL);
}

static void test_ts(void)
{
    OK(parse_ts("{" INSTALL ",\"ts\":0}"));
    CHECK_EQ_INT(ev.ts, 0);
    OK(parse_ts("{" INSTALL ",\"ts\":9007199254740991}"));
    CHECK_EQ_INT(ev.ts, 9007199254740991LL);
    OK(parse_ts("{" INSTALL ",\"ts\":-0}")); /* documented: -0 is the integer 0 */
    CHECK_EQ_INT(ev.ts, 0);
    REFUSED(parse_ts("{" INSTALL ",\"ts\":9007199254740992}"), 400, "ts");
    REFUSED(parse_ts("{" INSTALL ",\"ts\":90071992547409910}"), 400, "ts");
    REFUSED(parse_ts("{" INSTALL ",\"ts\":99999999999999999999999999}"), 400, "ts");
    REFUSED(parse_ts("{" INSTALL ",\"ts\":1.0}"), 400, "ts");
    REFUSED(parse_ts("{" INSTALL ",\"ts\":1e3}"), 400, "ts");
    REFUSED(parse_ts("{" INSTALL ",\"ts\":1E3}"), 400, "ts");
    REFUSED(parse_ts("{" INSTALL ",\"ts\":-1}"), 400, "ts");
    REFUSED(parse_ts("{" INSTALL ",\"ts\":\"1700000000000\"}"), 400, "ts");
    REFUSED(parse_ts("{" INSTALL ",\"ts\":true}"), 400, "ts");
    REFUSED(parse_ts("{" INSTALL ",\"ts\":null}"), 400, "ts");
    REFUSED(parse_ts("{" INSTALL "}"), 400, "ts");
    REFUSED(parse_ts("{" INSTALL ",\"ts\":01}"), 400, "body"); /* not JSON at all */
    CHECK(strstr(err.message, "byte") != NULL);
    /* the last ts wins */
    OK(parse_ts("{" INSTALL ",\"ts\":\"x\",\"ts\":7}"));
    CHECK_EQ_INT(ev.ts, 7);
    /* without REQUIRE_TS any ts is ignored */
    OK(parse("{" INSTALL ",\"ts\":\"yesterday\"}"));
    CHECK_EQ_INT(ev.ts, 0);
    OK(parse("{" INSTALL ",\"ts\":-5}"));
    CHECK_EQ_INT(ev.ts, 0);
}

/* ts of every length 1..17, with a non-digit at each place: the 8-digit steps must agree
 * with the plain reading (value, range, refusals). */
static void test_ts_lengths(void)
{
    for (int len = 1; len <= 17; len++) {
        char digits[32], j[256];
        for (int k = 0; k < len; k++) digits[k] = (char)('1' + (k * 7 + len) % 9);
        digits[len] = 0;
        snprintf(j, sizeof j, "{" INSTALL ",\"ts\":%s}", digits);
        long long want = strtoll(digits, NULL, 10);
        if (len <= 15 || (len == 16 && want <= 9007199254740991LL)) {
            OK(parse_ts(j));
            CHECK(ev.ts == want);
        } else {
            REFUSED(parse_ts(j), 400, "ts");
        }
        /* a fraction or an exponent anywhere after the first digit */
        for (int at = 1; at < len; at++) {
            char d2[40];
            memcpy(d2, digits, (size_t)at);
            d2[at] = at % 2 ? '.' : 'e';
            memcpy(d2 + at + 1, digits + at, (size_t)(len - at) + 1);
            snprintf(j, sizeof j, "{" INSTALL ",\"ts\":%s}", d2);
            REFUSED(parse_ts(j), 400, "ts");
        }
    }
    OK(parse_ts("{" INSTALL ",\"ts\":1793534400050}"));
    CHECK(ev.ts == 1793534400050LL);
    OK(parse_ts("{" INSTALL ",\"ts\":10000000}"));
    CHECK(ev.ts == 10000000LL);
    OK(parse_ts("{" INSTALL ",\"ts\":100000000}"));
    CHECK(ev.ts == 100000000LL);
}

static void test_app_id(void)
{
    REFUSED(parse("{\"type\":\"install\",\"device_id\":\"d\"}"), 400, "app_id");
    REFUSED(parse("{\"type\":\"install\",\"app_id\":null,\"device_id\":\"d\"}"), 400, "app_id");
    REFUSED(parse("{\"type\":\"install\",\"app_id\":\"\",\"device_id\":\"d\"}"), 400, "app_id");
    REFUSED(parse("{\"type\":\"install\",\"app_id\":42,\"device_id\":\"d\"}"), 400, "app_id");
    REFUSED(parse("{\"type\":\"install\",\"app_id\":\"com.other\",\"device_id\":\"d\"}"), 404, "app_id");
    CHECK(strstr(err.message, "com.other") != NULL);
    /* apps are compared exactly */
    REFUSED(parse("{\"type\":\"install\",\"app_id\":\"COM.EXAMPLE.GAME\",\"device_id\":\"d\"}"), 404, "app_id");
    /* without a config any app is accepted */
    atd_arena_reset(&arena);
    const char *j = "{\"type\":\"install\",\"app_id\":\"com.other\",\"device_id\":\"d\"}";
    OK(atd_event_parse_json(j, strlen(j), 0, ATD_STR_NULL, NULL, &arena, &ev, &err));
    CHECK_FIELD(ev.app_id, "com.other");
}

static int parse_path(const char *json, const char *app)
{
    atd_arena_reset(&arena);
    return atd_event_parse_json(json, strlen(json), 0, atd_str_c(app), &cfg, &arena, &ev, &err);
}

static void test_path_app(void)
{
    OK(parse_path("{\"type\":\"install\",\"device_id\":\"d\"}", "id123456"));
    CHECK_FIELD(ev.app_id, "id123456");
    OK(parse_path("{\"type\":\"install\",\"device_id\":\"d\",\"app_id\":null}", "id123456"));
    CHECK_FIELD(ev.app_id, "id123456");
    OK(parse_path("{\"type\":\"install\",\"device_id\":\"d\",\"app_id\":\"id123456\"}", "id123456"));
    OK(parse_path("{\"type\":\"install\",\"device_id\":\"d\",\"app_id\":\"id12345\\u0036\"}", "id123456"));
    REFUSED(parse_path("{\"type\":\"install\",\"device_id\":\"d\",\"app_id\":\"com.example.game\"}", "id123456"), 400, "app_id");
    REFUSED(parse_path("{\"type\":\"install\",\"device_id\":\"d\",\"app_id\":\"\"}", "id123456"), 400, "app_id");
    REFUSED(parse_path("{\"type\":\"install\",\"device_id\":\"d\",\"app_id\":5}", "id123456"), 400, "app_id");
    REFUSED(parse_path("{\"type\":\"install\",\"device_id\":\"d\"}", "nope"), 404, "app_id");
    REFUSED(parse_path("{\"type\":\"install\",\"device_id\":\"d\"}", ""), 400, "app_id");
    /* the path app is copied: the event does not point into the caller's URL */
    char url_app[] = "id123456";
    atd_arena_reset(&arena);
    const char *j = "{\"type\":\"install\",\"device_id\":\"d\"}";
    OK(atd_event_parse_json(j, strlen(j), 0, atd_str_c(url_app), &cfg, &arena, &ev, &err));
    url_app[0] = 'X';
    CHECK_FIELD(ev.app_id, "id123456");
}

static void test_required(void)
{
    const char *app = "\"app_id\":\"com.example.game\"";
    char j[512];
    /* media_source on touches */
    snprintf(j, sizeof j, "{\"type\":\"click\",%s}", app);
    REFUSED(parse(j), 400, "media_source");
    snprintf(j, sizeof j, "{\"type\":\"impression\",%s,\"media_source\":\"\"}", app);
    REFUSED(parse(j), 400, "media_source");
    snprintf(j, sizeof j, "{\"type\":\"click\",%s,\"media_source\":null}", app);
    REFUSED(parse(j), 400, "media_source");
    snprintf(j, sizeof j, "{\"type\":\"click\",%s,\"media_source\":7}", app);
    REFUSED(parse(j), 400, "media_source");
    snprintf(j, sizeof j, "{\"type\":\"click\",%s,\"media_source\":{\"a\":1}}", app);
    REFUSED(parse(j), 400, "media_source");
    /* device_id on app events, not on touches */
    snprintf(j, sizeof j, "{\"type\":\"install\",%s}", app);
    REFUSED(parse(j), 400, "device_id");
    snprintf(j, sizeof j, "{\"type\":\"session\",%s,\"device_id\":\"\"}", app);
    REFUSED(parse(j), 400, "device_id");
    snprintf(j, sizeof j, "{\"type\":\"inapp\",%s,\"device_id\":false,\"event_name\":\"x\"}", app);
    REFUSED(parse(j), 400, "device_id");
    /* event_name on inapp only */
    REFUSED(parse("{" INSTALL ",\"type\":\"inapp\"}"), 400, "event_name");
    REFUSED(parse("{" INAPP ",\"event_name\":\"\"}"), 400, "event_name");
    REFUSED(parse("{" INAPP ",\"event_name\":[]}"), 400, "event_name");
    REFUSED(parse("{" INAPP ",\"event_name\":null}"), 400, "event_name");
    /* a blank string is not empty: ids are kept as given */
    OK(parse("{" INSTALL ",\"device_id\":\" \"}"));
    CHECK_FIELD(ev.device_id, " ");
}

static void test_is_retargeting(void)
{
    OK(parse("{" CLICK ",\"is_retargeting\":true}"));
    CHECK_EQ_INT(ev.is_retargeting, 1);
    OK(parse("{" CLICK ",\"is_retargeting\":false}"));
    CHECK_EQ_INT(ev.is_retargeting, 0);
    OK(parse("{" CLICK ",\"is_retargeting\":null}"));
    CHECK_EQ_INT(ev.is_retargeting, 0);
    REFUSED(parse("{" CLICK ",\"is_retargeting\":\"true\"}"), 400, "is_retargeting");
    REFUSED(parse("{" CLICK ",\"is_retargeting\":1}"), 400, "is_retargeting");
    REFUSED(parse("{" CLICK ",\"is_retargeting\":{}}"), 400, "is_retargeting");
    /* a touch field on an app event is ignored */
    OK(parse("{" INSTALL ",\"is_retargeting\":\"yes\"}"));
    CHECK_EQ_INT(ev.is_retargeting, 0);
}

static void test_revenue(void)
{
    OK(parse("{" INAPP ",\"revenue\":9.99}"));
    CHECK(ev.has_revenue && ev.revenue == 9.99);
    OK(parse("{" INAPP ",\"revenue\":-2.5e2}"));
    CHECK(ev.has_revenue && ev.revenue == -250.0);
    OK(parse("{" INAPP ",\"revenue\":0}"));
    CHECK(ev.has_revenue && ev.revenue == 0);
    OK(parse("{" INAPP ",\"revenue\":1.7976931348623157e308}"));
    CHECK(ev.has_revenue);
    OK(parse("{" INAPP ",\"revenue\":1e-400}")); /* underflow to 0 is still finite */
    CHECK(ev.has_revenue && ev.revenue == 0);
    OK(parse("{" INAPP ",\"revenue\":null}"));
    CHECK_EQ_INT(ev.has_revenue, 0);
    OK(parse("{" INAPP "}"));
    CHECK_EQ_INT(ev.has_revenue, 0);
    REFUSED(parse("{" INAPP ",\"revenue\":1e999}"), 400, "revenue");
    REFUSED(parse("{" INAPP ",\"revenue\":-1e999}"), 400, "revenue");
    REFUSED(parse("{" INAPP ",\"revenue\":\"9.99\"}"), 400, "revenue");
    REFUSED(parse("{" INAPP ",\"revenue\":true}"), 400, "revenue");
    REFUSED(parse("{" INAPP ",\"revenue\":[1]}"), 400, "revenue");
    /* a long but valid number (> the 64-byte fast path) */
    char j[512];
    snprintf(j, sizeof j, "{" INAPP ",\"revenue\":1.%0100d5}", 0);
    OK(parse(j));
    CHECK(ev.has_revenue && ev.revenue == 1.0);
    /* NaN / Infinity are not JSON */
    REFUSED(parse("{" INAPP ",\"revenue\":NaN}"), 400, "body");
    REFUSED(parse("{" INAPP ",\"revenue\":Infinity}"), 400, "body");
    /* in-app fields on other events are ignored */
    OK(parse("{" INSTALL ",\"revenue\":\"lots\",\"event_name\":5,\"currency\":\"usd\","
             "\"event_value\":{\"a\":1}}"));
    CHECK(!ev.has_revenue && !ev.event_name.p && !ev.currency.p && !ev.event_value.p);
}

static void test_platform_os(void)
{
    OK(parse("{" INSTALL ",\"platform\":null,\"os_version\":null}"));
    CHECK(!ev.platform.p && !ev.os_version.p);
    REFUSED(parse("{" INSTALL ",\"platform\":\"Android\"}"), 400, "platform");
    REFUSED(parse("{" INSTALL ",\"platform\":\"web\"}"), 400, "platform");
    REFUSED(parse("{" INSTALL ",\"platform\":\"\"}"), 400, "platform");
    REFUSED(parse("{" INSTALL ",\"platform\":\" ios\"}"), 400, "platform");
    REFUSED(parse("{" INSTALL ",\"platform\":1}"), 400, "platform");
    REFUSED(parse("{" INAPP ",\"platform\":true}"), 400, "platform");
    OK(parse("{" INSTALL ",\"platform\":\"\\u0069os\"}"));
    CHECK_FIELD(ev.platform, "ios");
    REFUSED(parse("{" INSTALL ",\"os_version\":17}"), 400, "os_version");
    REFUSED(parse("{" INAPP ",\"os_version\":[\"17\"]}"), 400, "os_version");
    OK(parse("{" INSTALL ",\"os_version\":\"\"}"));
    CHECK_FIELD(ev.os_version, "");
    /* app fields on touches are ignored */
    OK(parse("{" CLICK ",\"platform\":5,\"os_version\":17,\"device_id\":\"x\"}"));
    CHECK(!ev.platform.p && !ev.os_version.p && !ev.device_id.p);
}

static void test_ip(void)
{
    OK(parse("{" CLICK ",\"ip\":\" 1.2.3.4\\t\"}"));
    CHECK_FIELD(ev.ip, "1.2.3.4");
    OK(parse("{" CLICK ",\"ip\":\"::FFFF:10.0.0.1\"}"));
    CHECK_FIELD(ev.ip, "10.0.0.1");
    OK(parse("{" INSTALL ",\"ip\":\"2001:0DB8:0000:0000:0000:0000:0000:0001\"}"));
    CHECK_FIELD(ev.ip, "2001:db8::1");
    OK(parse("{" INSTALL ",\"ip\":\"::1\"}"));
    CHECK_FIELD(ev.ip, "::1");
    OK(parse("{" INSTALL ",\"ip\":null}"));
    CHECK(!ev.ip.p);
    const char *bad[] = {"\"1.2.3\"", "\"1.2.3.4.5\"", "\"256.1.1.1\"", "\"1.2.3.4:80\"",
                         "\"[::1]\"", "\"fe80::1%eth0\"", "\"\"", "\"  \"", "\"localhost\"",
                         "\"1.2.3.4/24\"", "\"1.2.3.4\\n\"", "\"::ffff:1.2.3\"", "16909060",
                         "true", "[\"1.2.3.4\"]", "{}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char j[256];
        snprintf(j, sizeof j, "{" CLICK ",\"ip\":%s}", bad[i]);
        REFUSED(parse(j), 400, "ip");
        snprintf(j, sizeof j, "{" INAPP ",\"ip\":%s}", bad[i]);
        REFUSED(parse(j), 400, "ip");
    }
}

/* ev.ip4 (the parsed dotted quad the engine reuses) agrees with atd_ip_parse on the text,
 * and is only set for a dotted quad. */
static void test_ip4_bytes(void)
{
    uint64_t r = 12345;
    for (int round = 0; round < 20000; round++) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        char ip[40], j[256];
        unsigned a = (unsigned)(r >> 20) % 300, b = (unsigned)(r >> 30) % 260,
                 c = (unsigned)(r >> 40) % 256, d = (unsigned)(r >> 50) % 1000;
        int n = snprintf(ip, sizeof ip, round % 5 == 0 ? "%u.%u.%u.%03u" : "%u.%u.%u.%u", a, b,
                         c, d);
        if (round % 7 == 0) ip[(r >> 8) % (unsigned)n] = "0123456789. :x"[(r >> 3) % 14];
        snprintf(j, sizeof j, "{" CLICK ",\"ip\":\"%s\"}", ip);
        int rc = parse(j);
        atd_ip want;
        if (rc != 0) {
            CHECK(!ev.ip4_set);
            continue;
        }
        CHECK_EQ_INT(atd_ip_parse(ev.ip.p, ev.ip.n, &want), 0);
        if (want.family == 4 && ev.ip4_set) {
            CHECK(memcmp(ev.ip4, want.addr, 4) == 0);
        } else {
            CHECK(!ev.ip4_set);
            CHECK(want.family == 6 || strcmp(ev.ip.p, ip) != 0); /* not the text as given */
        }
        if (round % 5 != 0 && round % 7 != 0 && a < 256 && b < 256 && d < 256) CHECK(ev.ip4_set);
    }
    OK(parse("{" CLICK ",\"ip\":\"255.255.255.255\"}"));
    CHECK(ev.ip4_set && ev.ip4[0] == 255 && ev.ip4[3] == 255);
    OK(parse("{" CLICK ",\"ip\":\"::1\"}"));
    CHECK(!ev.ip4_set);
    OK(parse("{" CLICK "}"));
    CHECK(!ev.ip4_set);
}

static void test_advertising_id(void)
{
    OK(parse("{" CLICK ",\"advertising_id\":\" ABC \"}"));
    CHECK_FIELD(ev.advertising_id, "abc");
    OK(parse("{" CLICK ",\"advertising_id\":\"\\t38400000-8CF0-11BD-B23E-10B96E40000D \"}"));
    CHECK_FIELD(ev.advertising_id, "38400000-8cf0-11bd-b23e-10b96e40000d");
    const char *lat[] = {"\"00000000-0000-0000-0000-000000000000\"", "\"\"", "\"   \"", "\"0\"",
                         "\"-\"", "\" 0000-00 \"", "null", "5", "false", "{\"id\":\"x\"}"};
    for (size_t i = 0; i < sizeof lat / sizeof lat[0]; i++) {
        char j[256];
        snprintf(j, sizeof j, "{" INSTALL ",\"advertising_id\":%s}", lat[i]);
        OK(parse(j));
        CHECK(ev.advertising_id.p == NULL);
    }
    /* only A-Z are lower-cased; other bytes are kept */
    OK(parse("{" INSTALL ",\"advertising_id\":\"\\u00c4B\"}"));
    CHECK_FIELD(ev.advertising_id, "\xc3\x84" "b");
    OK(parse("{" INSTALL ",\"advertising_id\":\"0-0-1\"}"));
    CHECK_FIELD(ev.advertising_id, "0-0-1");
}

static void test_ignored_and_wrong_types(void)
{
    OK(parse("{" CLICK ",\"campaign\":5,\"adset\":{\"a\":1},\"ad\":[],\"user_agent\":true,"
             "\"click_lookback\":7,\"view_lookback\":null,\"unknown_field\":\"x\",\"extra\":{}}"));
    CHECK(!ev.campaign.p && !ev.adset.p && !ev.ad.p && !ev.user_agent.p && !ev.click_lookback.p &&
          !ev.view_lookback.p);
    /* touch fields on an install, app fields on a click are ignored */
    OK(parse("{" INSTALL ",\"media_source\":\"netA\",\"campaign\":\"c\",\"click_id\":\"k\"}"));
    CHECK(!ev.media_source.p && !ev.campaign.p && !ev.click_id.p);
    OK(parse("{" CLICK ",\"device_model\":\"m\",\"event_id\":\"e\",\"customer_user_id\":\"u\"}"));
    CHECK(!ev.device_model.p && !ev.event_id.p && !ev.customer_user_id.p);
    /* event_value: only an object is kept */
    OK(parse("{" INAPP ",\"event_value\":\"{\\\"a\\\":1}\"}"));
    CHECK(!ev.event_value.p);
    OK(parse("{" INAPP ",\"event_value\":[1]}"));
    CHECK(!ev.event_value.p);
    OK(parse("{" INAPP ",\"event_value\":{}}"));
    CHECK_FIELD(ev.event_value, "{}");
    /* empty strings of optional fields are kept (present, empty) */
    OK(parse("{" CLICK ",\"campaign\":\"\"}"));
    CHECK_FIELD(ev.campaign, "");
    /* keys are case-sensitive */
    OK(parse("{" CLICK ",\"Campaign\":\"x\"}"));
    CHECK(!ev.campaign.p);
}

static void test_duplicates(void)
{
    OK(parse("{\"type\":\"click\"," INSTALL "}")); /* the later type wins */
    CHECK_EQ_INT(ev.type, ATD_EV_INSTALL);
    OK(parse("{" CLICK ",\"campaign\":\"a\",\"campaign\":\"b\"}"));
    CHECK_FIELD(ev.campaign, "b");
    OK(parse("{" CLICK ",\"campaign\":\"a\",\"campaign\":null}"));
    CHECK(!ev.campaign.p);
    REFUSED(parse("{" CLICK ",\"media_source\":null}"), 400, "media_source");
    OK(parse("{" CLICK ",\"ip\":\"bad\",\"ip\":\"1.1.1.1\"}"));
    CHECK_FIELD(ev.ip, "1.1.1.1");
}

static void test_strings(void)
{
    OK(parse("{" CLICK ",\"campaign\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\u20AC\\ud83d\\ude00\"}"));
    CHECK_FIELD(ev.campaign, "a\"b\\c/d\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    /* raw UTF-8 passes through */
    OK(parse("{" CLICK ",\"campaign\":\"\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80\"}"));
    CHECK_FIELD(ev.campaign, "\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80");
    /* escaped keys are the same keys */
    OK(parse("{\"\\u0074ype\":\"click\",\"app_\\u0069d\":\"com.example.game\","
             "\"media\\u005fsource\":\"n\\u0041\"}"));
    CHECK_EQ_INT(ev.type, ATD_EV_CLICK);
    CHECK_FIELD(ev.media_source, "nA");
    /* U+0000 cannot be kept in a C string or a record field */
    REFUSED(parse("{" CLICK ",\"campaign\":\"a\\u0000b\"}"), 400, "campaign");
    REFUSED(parse("{" INSTALL ",\"device_id\":\"\\u0000\"}"), 400, "device_id");
    /* ... but is fine in ignored fields and inside event_value (kept escaped) */
    OK(parse("{" INAPP ",\"other\":\"\\u0000\",\"event_value\":{\"k\":\"\\u0000\"}}"));
    CHECK_FIELD(ev.event_value, "{\"k\":\"\\u0000\"}");
    /* long strings */
    char *big = malloc(200000);
    int n = snprintf(big, 200000, "{" CLICK ",\"campaign\":\"");
    memset(big + n, 'x', 100000);
    strcpy(big + n + 100000, "\"}");
    OK(parse(big));
    CHECK_EQ_INT(ev.campaign.n, 100000);
    free(big);
}

static void test_bad_json(void)
{
    const char *bad[] = {
        "",
        "   \n",
        "{",
        "{\"type\":\"click\"",
        "{\"type\":\"cli",
        "{\"type\":",
        "{\"type\"",
        "{" CLICK "} x",
        "{" CLICK "}{}",
        "{" CLICK "} {}",
        "{" CLICK "}}",
        "{" CLICK "]",
        "{" CLICK ",}",
        "{," CLICK "}",
        "{" CLICK ",,\"a\":1}",
        "{" CLICK " \"a\":1}",
        "{" CLICK ",\"a\" 1}",
        "{" CLICK ",\"a\"::1}",
        "{" CLICK ",\"a\":}",
        "{" CLICK ",\"a\"}",
        "{" CLICK ",\"a\":1 2}",
        "{" CLICK ",\"a\":[1 2]}",
        "{" CLICK ",\"a\":[1,]}",
        "{" CLICK ",\"a\":[,1]}",
        "{" CLICK ",\"a\":[1}",
        "{" CLICK ",\"a\":{\"b\"}}",
        "{" CLICK ",\"a\":{\"b\":1,}}",
        "{" CLICK ",\"a\":tru}",
        "{" CLICK ",\"a\":truex}",
        "{" CLICK ",\"a\":True}",
        "{" CLICK ",\"a\":nul}",
        "{" CLICK ",\"a\":01}",
        "{" CLICK ",\"a\":1.}",
        "{" CLICK ",\"a\":.5}",
        "{" CLICK ",\"a\":-}",
        "{" CLICK ",\"a\":+1}",
        "{" CLICK ",\"a\":1e}",
        "{" CLICK ",\"a\":1e+}",
        "{" CLICK ",\"a\":0x10}",
        "{" CLICK ",\"a\":--1}",
        "{" CLICK ",\"a\":1-2}",
        "{" CLICK ",\"a\":'x'}",
        "{" CLICK ",a:1}",
        "{" CLICK ",1:1}",
        "{" CLICK ",\"a\":\"x\ty\"}",   /* raw tab */
        "{" CLICK ",\"a\":\"x\ny\"}",   /* raw newline */
        "{" CLICK ",\"a\":\"x\x01y\"}", /* raw control */
        "{" CLICK ",\"a\":\"\\x\"}",
        "{" CLICK ",\"a\":\"\\u12\"}",
        "{" CLICK ",\"a\":\"\\u12G4\"}",
        "{" CLICK ",\"a\":\"\\ud800\"}",       /* lone high surrogate */
        "{" CLICK ",\"a\":\"\\ud800x\"}",
        "{" CLICK ",\"a\":\"\\ud800\\u0041\"}", /* high + non-low */
        "{" CLICK ",\"a\":\"\\udc00\"}",       /* lone low surrogate */
        "{" CLICK ",\"a\":\"\\\"}",
        "{" CLICK ",\"a\":\"\xff\"}",          /* invalid UTF-8 */
        "{" CLICK ",\"a\":\"\xc0\xaf\"}",      /* overlong */
        "{" CLICK ",\"a\":\"\xe0\x80\xaf\"}",  /* overlong */
        "{" CLICK ",\"a\":\"\xed\xa0\x80\"}",  /* encoded surrogate */
        "{" CLICK ",\"a\":\"\xf4\x90\x80\x80\"}", /* > U+10FFFF */
        "{" CLICK ",\"a\":\"\xc3\"}",          /* truncated sequence */
        "{" CLICK ",\"a\":\"\x80\"}",          /* lone continuation */
        "{\"type\":\"click\",\"app_id\":\"com.example.game\",\"media_source\":\"n\xe2\x82\"}",
        "\xef\xbb\xbf{" CLICK "}",             /* a BOM is not JSON */
        "{" CLICK "}\x0b",                     /* vertical tab is not whitespace */
        "{" CLICK ",\"a\":[}]}",
        "{" CLICK ",\"a\":{]}",
        "{\"a\":{}:1," CLICK "}",
        "{{}:1," CLICK "}",
        "{[]:1," CLICK "}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = parse(bad[i]);
        if (rc != ATD_EINVAL || !err.field || strcmp(err.field, "body") != 0)
            fprintf(stderr, "  accepted or misreported bad JSON #%zu: %s\n", i, bad[i]);
        REFUSED(rc, 400, "body");
    }
    /* a NUL byte inside the text, and right after a complete object */
    const char nul1[] = "{\"type\":\"cl\0ick\"}";
    REFUSED(atd_event_parse_json(nul1, sizeof nul1 - 1, 0, ATD_STR_NULL, &cfg, &arena, &ev, &err), 400, "body");
    const char nul2[] = "{" CLICK "}\0{}";
    REFUSED(atd_event_parse_json(nul2, sizeof nul2 - 1, 0, ATD_STR_NULL, &cfg, &arena, &ev, &err), 400, "body");
    /* the length is respected: the same text cut short is truncated JSON */
    const char *full = "{" CLICK "}";
    REFUSED(atd_event_parse_json(full, strlen(full) - 1, 0, ATD_STR_NULL, &cfg, &arena, &ev, &err), 400, "body");
    OK(atd_event_parse_json(full, strlen(full), 0, ATD_STR_NULL, &cfg, &arena, &ev, &err));
}

static void test_not_an_object(void)
{
    const char *tops[] = {"[]", "[{" CLICK "}]", "\"click\"", "5", "null", "true", "-1.5e3"};
    for (size_t i = 0; i < sizeof tops / sizeof tops[0]; i++) {
        REFUSED(parse(tops[i]), 400, "body");
        CHECK(strstr(err.message, "object") != NULL);
    }
    /* whitespace around the object (an NDJSON line with its CR LF) is fine */
    OK(parse(" \t\r\n{" CLICK "}\r\n"));
    OK(parse("{ \"type\" : \"click\" , \"app_id\" : \"com.example.game\" ,\n"
             " \"media_source\" : \"netA\" }"));
    /* an empty object is an event without a type */
    REFUSED(parse("{}"), 400, "type");
}

static void test_limits(void)
{
    char j[4096];
    /* nesting: the event object is level 1; 32 levels are fine, 33 are not */
    for (int levels = 31; levels <= 33; levels++) {
        int n = snprintf(j, sizeof j, "{" CLICK ",\"x\":");
        for (int i = 0; i < levels - 1; i++) j[n++] = '[';
        for (int i = 0; i < levels - 1; i++) j[n++] = ']';
        j[n++] = '}';
        j[n] = 0;
        if (levels <= 32)
            OK(parse(j));
        else {
            REFUSED(parse(j), 400, "body");
            CHECK(strstr(err.message, "deeper") != NULL);
        }
    }
    /* deeply nested garbage is refused without recursion trouble */
    size_t big = 1000000;
    char *deep = malloc(big + 1);
    memset(deep, '[', big);
    deep[big] = 0;
    atd_arena_reset(&arena);
    int rc = atd_event_parse_json(deep, big, 0, ATD_STR_NULL, &cfg, &arena, &ev, &err);
    CHECK_EQ_INT(rc, ATD_EINVAL);
    CHECK_STR(err.field, "body");
    CHECK(err.http_status == 413 || err.http_status == 400);
    /* tokens: 4096 values are the limit (413 beyond) */
    size_t cap = 64 + 4 * 5000;
    char *arr = malloc(cap);
    for (int count = 4000; count <= 4200; count += 200) {
        int n = snprintf(arr, cap, "{" CLICK ",\"x\":[");
        for (int i = 0; i < count; i++) n += snprintf(arr + n, cap - (size_t)n, i ? ",1" : "1");
        snprintf(arr + n, cap - (size_t)n, "]}");
        if (count == 4000)
            OK(parse(arr));
        else {
            REFUSED(parse(arr), 413, "body");
            CHECK(strstr(err.message, "4096") != NULL);
        }
    }
    free(arr);
    free(deep);
}

/* picohttpparser's trick: put the text at the very end of a page followed by a PROT_NONE page,
 * so that reading one byte too far crashes even without ASan; every prefix must be refused. */
static void test_no_overread(void)
{
    long pg = sysconf(_SC_PAGESIZE);
    char *map = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(map != MAP_FAILED);
    if (map == MAP_FAILED) return;
    CHECK(mprotect(map + pg, (size_t)pg, PROT_NONE) == 0);
    const char *full = "{\"type\":\"inapp\",\"ts\":123,\"app_id\":\"com.example.game\","
                       "\"device_id\":\"d\\u00e9\",\"event_name\":\"x\",\"revenue\":1.5e2,"
                       "\"ip\":\"::ffff:1.2.3.4\",\"advertising_id\":\" AB \","
                       "\"event_value\":{\"a\":[true,false,null,-0.5]}}";
    size_t len = strlen(full);
    for (size_t cut = 0; cut <= len; cut++) {
        char *p = map + pg - cut;
        memcpy(p, full, cut);
        atd_arena_reset(&arena);
        int rc = atd_event_parse_json(p, cut, ATD_PARSE_REQUIRE_TS, ATD_STR_NULL, &cfg, &arena, &ev, &err);
        if (cut == len) {
            CHECK_EQ_INT(rc, 0);
            CHECK_FIELD(ev.ip, "1.2.3.4");
            CHECK_FIELD(ev.device_id, "d\xc3\xa9");
            CHECK(ev.revenue == 150.0);
        } else {
            CHECK_EQ_INT(rc, ATD_EINVAL);
        }
    }
    munmap(map, (size_t)pg * 2);
}

static void test_input_untouched(void)
{
    char j[] = "{" CLICK ",\"advertising_id\":\"ABC\",\"campaign\":\"x\\n\"}";
    char copy[sizeof j];
    memcpy(copy, j, sizeof j);
    OK(parse(j));
    CHECK(memcmp(j, copy, sizeof j) == 0);
    /* the event does not point into the input */
    memset(j, '#', sizeof j - 1);
    CHECK_FIELD(ev.media_source, "netA");
    CHECK_FIELD(ev.advertising_id, "abc");
    CHECK_FIELD(ev.campaign, "x\n");
}

static void test_type_names(void)
{
    for (int t = ATD_EV_CLICK; t <= ATD_EV_INAPP; t++)
        CHECK_EQ_INT(atd_event_type_parse(atd_str_c(atd_event_type_name((atd_event_type)t))), t);
    CHECK(atd_event_type_name(ATD_EV_NONE) == NULL);
    CHECK(atd_event_type_name((atd_event_type)6) == NULL);
    CHECK(atd_event_type_name((atd_event_type)-1) == NULL);
    CHECK_EQ_INT(atd_event_type_parse(ATD_STR_NULL), ATD_EV_NONE);
    CHECK_EQ_INT(atd_event_type_parse(ATD_STR_LIT("Click")), ATD_EV_NONE);
    CHECK_EQ_INT(atd_event_type_parse(ATD_STR_LIT("clicks")), ATD_EV_NONE);
    CHECK_STR(atd_event_type_name(ATD_EV_IMPRESSION), "impression");
}

int main(void)
{
    setup();
    RUN(test_full_click);
    RUN(test_full_app_events);
    RUN(test_type_values);
    RUN(test_ts);
    RUN(test_ts_lengths);
    RUN(test_app_id);
    RUN(test_path_app);
    RUN(test_required);
    RUN(test_is_retargeting);
    RUN(test_revenue);
    RUN(test_platform_os);
    RUN(test_ip);
    RUN(test_ip4_bytes);
    RUN(test_advertising_id);
    RUN(test_ignored_and_wrong_types);
    RUN(test_duplicates);
    RUN(test_strings);
    RUN(test_bad_json);
    RUN(test_not_an_object);
    RUN(test_limits);
    RUN(test_no_overread);
    RUN(test_input_untouched);
    RUN(test_type_names);
    atd_arena_free(&arena);
    return atd_test_done();
}
