/* The fast path of atd_event_parse_json (one flat, compact object without escapes) against the
 * general path: for every text, in every mode (import/replay, HTTP ingest with the URL's app,
 * no config), both must give the same answer: the same event, or the same refusal. The texts:
 * typical events of every type, edge cases of each rule, and every one-byte change of them
 * (replace, delete, insert), parsed in an order that keeps changing what the fast path has
 * learned about key orders. */
#include <stdlib.h>

#include "../fuzz/event_compare.h"
#include "attribd/config.h"
#include "attribd/event.h"
#include "harness.h"

static atd_config cfg;
static atd_app_config apps[2];
static atd_arena arena_a, arena_b;
static unsigned long compared, mismatches;

static const struct {
    unsigned flags;
    const char *path;
    int with_cfg;
} modes[] = {
    {ATD_PARSE_REQUIRE_TS, NULL, 1},
    {0, "com.example.game", 1},
    {0, NULL, 0},
};

/* Parses text with both paths in every mode and checks that they agree. */
static void both(const char *text, size_t len)
{
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        atd_str path = modes[m].path ? atd_str_c(modes[m].path) : ATD_STR_NULL;
        const atd_config *c = modes[m].with_cfg ? &cfg : NULL;
        atd_event a, b;
        atd_event_error ea, eb;
        atd_arena_reset(&arena_a);
        atd_arena_reset(&arena_b);
        atd_event_parse_use_flat(1);
        int ra = atd_event_parse_json(text, len, modes[m].flags, path, c, &arena_a, &a, &ea);
        atd_event_parse_use_flat(0);
        int rb = atd_event_parse_json(text, len, modes[m].flags, path, c, &arena_b, &b, &eb);
        atd_event_parse_use_flat(1);
        compared++;
        const char *diff = NULL;
        if (ra != rb)
            diff = "result";
        else if (ra == 0)
            diff = event_diff(&a, &b);
        else if (!event_error_same(&ea, &eb))
            diff = "error";
        if (diff) {
            if (mismatches++ < 10)
                fprintf(stderr, "  mode %zu, %s differs (fast %d, general %d) for: %.*s\n", m, diff,
                        ra, rb, (int)len, text);
            CHECK(diff == NULL);
        }
    }
}

static void both_c(const char *text) { both(text, strlen(text)); }

/* Typical events as `attribd gen` and SDKs write them, and the edge cases of §1. */
static const char *const base[] = {
    "{\"type\":\"click\",\"ts\":1793534400050,\"app_id\":\"com.example.game\",\"media_source\":"
    "\"networkF\",\"campaign\":\"c12\",\"campaign_id\":\"117\",\"site_id\":\"s25\",\"click_id\":"
    "\"ck88389-0\",\"advertising_id\":\"67FECB8A-b04b-bea9-99dc-24d5c4535274\",\"ip\":"
    "\"41.254.100.20\",\"user_agent\":\"Mozilla/5.0 (Linux; Android 14; K Build/TQ3A) "
    "Chrome/116.0 Mobile\"}",
    "{\"type\":\"impression\",\"ts\":1793534400200,\"app_id\":\"com.example.game\","
    "\"media_source\":\"networkA\",\"campaign\":\"c19\",\"ip\":\"104.249.160.40\",\"user_agent\":"
    "\"Mozilla/5.0 (iPhone; CPU iPhone OS 15_2 like Mac OS X) AppleWebKit/605.1.15\"}",
    "{\"type\":\"install\",\"ts\":1793534401000,\"app_id\":\"com.example.game\",\"device_id\":"
    "\"dev-1\",\"platform\":\"android\",\"os_version\":\"14\",\"device_model\":\"K\","
    "\"app_version\":\"1.2\",\"advertising_id\":\"67fecb8a-b04b-bea9-99dc-24d5c4535274\",\"ip\":"
    "\"41.254.100.20\",\"user_agent\":\"Dalvik/2.1.0 (Linux; U; Android 14; K Build/TQ3A)\"}",
    "{\"type\":\"session\",\"ts\":1793534402000,\"app_id\":\"com.example.game\",\"device_id\":"
    "\"dev-1\",\"platform\":\"ios\",\"customer_user_id\":\"u1\",\"event_id\":\"e1\"}",
    "{\"type\":\"inapp\",\"ts\":1793534403000,\"app_id\":\"com.example.game\",\"device_id\":"
    "\"dev-1\",\"event_name\":\"purchase\",\"revenue\":4.99,\"currency\":\"USD\","
    "\"event_value\":\"{}\"}",
    "{\"type\":\"inapp\",\"ts\":0,\"app_id\":\"com.example.game\",\"device_id\":\"d\","
    "\"event_name\":\"x\",\"revenue\":-1e3,\"event_value\":12,\"is_retargeting\":true}",
    "{\"type\":\"click\",\"ts\":-0,\"app_id\":\"com.example.game\",\"media_source\":\"m\","
    "\"is_retargeting\":true,\"click_lookback\":\"7d\",\"view_lookback\":\"1h\","
    "\"deep_link_value\":\"dl\",\"cost_value\":\"0.5\",\"cost_currency\":\"EUR\",\"adset\":\"a\","
    "\"adset_id\":\"1\",\"ad\":\"x\",\"ad_id\":\"2\",\"channel\":\"c\",\"device_id\":\"ignored\"}",
    "{\"type\":\"click\",\"ts\":9007199254740991,\"app_id\":\"com.example.game\","
    "\"media_source\":\"m\",\"ip\":\"2001:DB8::1\",\"advertising_id\":\" 00000000-0000 \"}",
    "{\"type\":\"click\",\"ts\":9007199254740992,\"app_id\":\"com.example.game\","
    "\"media_source\":\"m\",\"ip\":\"010.1.1.1\"}",
    "{\"type\":\"click\",\"ts\":1,\"app_id\":\"com.example.game\",\"media_source\":\"m\","
    "\"ip\":\"::ffff:1.2.3.4\",\"campaign\":null,\"campaign\":\"c2\",\"site_id\":\"s\","
    "\"site_id\":null}",
    "{\"type\":\"install\",\"ts\":1.5,\"app_id\":\"com.example.game\",\"device_id\":\"d\"}",
    "{\"type\":\"install\",\"ts\":15e2,\"app_id\":\"other.app\",\"device_id\":\"d\"}",
    "{\"type\":\"install\",\"ts\":1,\"app_id\":\"com.example.game\",\"device_id\":\"d\","
    "\"platform\":\"windows\"}",
    "{\"type\":\"install\",\"ts\":1,\"app_id\":\"com.example.game\",\"device_id\":\"\"}",
    "{\"type\":\"install\",\"ts\":1,\"app_id\":\"com.example.game\",\"device_id\":\"d\","
    "\"os_version\":14,\"\":0,\"a_key_much_longer_than_sixteen\":[1],"
    "\"another_key_that_is_longer_than_thirty_two_bytes\":false}",
    "{\"type\":\"session\",\"ts\":1,\"app_id\":\"com.example.game\",\"device_id\":\"d\","
    "\"event_value\":{\"a\":1},\"x\":null}",
    "{\"type\":\"click\",\"ts\":\"1\",\"app_id\":\"com.example.game\",\"media_source\":\"m\"}",
    "{\"type\":\"click\",\"ts\":1,\"app_id\":\"com.example.game\",\"media_source\":\"m\","
    "\"is_retargeting\":\"yes\"}",
    "{\"type\":\"click\", \"ts\":1,\"app_id\":\"com.example.game\",\"media_source\":\"m\"}",
    "{\"type\":\"click\",\"ts\":1,\"app_id\":\"com.example.game\",\"media_source\":\"m\\u0041\"}",
    "{\"type\":\"click\",\"ts\":1,\"app_id\":\"com.example.game\",\"media_source\":\"caf\xc3\xa9\"}",
    "{\"type\":null,\"type\":\"session\",\"ts\":2,\"app_id\":\"com.example.game\","
    "\"device_id\":\"d\",\"revenue\":\"1\"}",
    "{\"ts\":3,\"app_id\":\"com.example.game\",\"device_id\":\"d\",\"type\":\"session\"}",
    "{\"type\":\"click\",\"ts\":5,\"app_id\":\"com.example.game\",\"media_source\":\"m\","
    "\"is_retargeting\":null,\"ip\":null,\"user_agent\":null}",
    "{\"type\":\"impression\",\"ts\":5,\"app_id\":\"com.example.game\",\"media_source\":\"m\","
    "\"is_retargeting\":false,\"advertising_id\":\"\",\"ip\":\"1.2.3.4 \"}",
    "{\"type\":\"install\",\"ts\":5,\"app_id\":null,\"app_id\":\"com.example.game\","
    "\"device_id\":\"d\",\"event_name\":\"n\",\"currency\":\"c\",\"media_source\":\"m\"}",
    "{\"type\":\"inapp\",\"ts\":5,\"app_id\":\"com.example.game\",\"device_id\":\"d\","
    "\"event_name\":\"n\",\"revenue\":null,\"revenue\":1e400}",
    "{\"type\":\"click\",\"ts\":01,\"app_id\":\"com.example.game\",\"media_source\":\"m\"}",
};

/* The bytes a change puts in: JSON's structure, digits, letters, space, control, non-ASCII. */
static const char subst[] = {'"', '\\', ',', ':', '{', '}', '[', ' ', '0', '9', '-', 'e', 'n',
                             't', 'a', 'A', 0x01, (char)0x80};

static void test_typical_events_take_the_fast_path(void)
{
    unsigned long before = atd_event_parse_flat_count();
    for (int round = 0; round < 2; round++) /* the second round: key orders already met */
        for (int i = 0; i < 5; i++) both_c(base[i]);
    /* 5 texts x 3 modes x 2 rounds; the general path's calls do not count */
    CHECK(atd_event_parse_flat_count() - before >= 5 * 3 * 2 - 2 * 3);
}

static void test_edge_cases(void)
{
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++) both_c(base[i]);
    /* and in reverse order, so that each text meets other learned key orders */
    for (size_t i = sizeof base / sizeof base[0]; i-- > 0;) both_c(base[i]);
    both_c("{}");
    both_c("{\"type\":\"click\"}");
    both_c("{\"type\":\"click\",\"ts\":1,\"app_id\":\"com.example.game\",\"media_source\":\"m\",}");
    both_c("{\"type\":\"click\",\"ts\":1,\"app_id\":\"com.example.game\",\"media_source\":\"m\"}\n");
    both_c("{\"type\":\"click\",\"ts\":1,\"app_id\":\"com.example.game\",\"media_source\":\"m\"");
    both_c("{\"type\":\"click\",\"ts\":1,\"app_id\":\"com.example.game\",\"media_source\":tru}");
    both_c("{\"type\":\"click\",\"ts\":1,\"app_id\":\"com.example.game\",\"media_source\":\"m\"}}");
    both_c("[{\"type\":\"click\",\"ts\":1,\"app_id\":\"com.example.game\",\"media_source\":\"m\"}]");
}

/* Every one-byte change of every text, in every mode. */
static void test_every_one_byte_change(void)
{
    char buf[1024];
    for (size_t t = 0; t < sizeof base / sizeof base[0]; t++) {
        const char *s = base[t];
        size_t n = strlen(s);
        for (size_t i = 0; i < n; i++) {
            for (size_t k = 0; k < sizeof subst; k++) {
                memcpy(buf, s, n);
                buf[i] = subst[k];
                both(buf, n); /* replaced */
                memcpy(buf, s, i);
                buf[i] = subst[k];
                memcpy(buf + i + 1, s + i, n - i);
                both(buf, n + 1); /* inserted */
            }
            memcpy(buf, s, i);
            memcpy(buf + i, s + i + 1, n - i - 1);
            both(buf, n - 1); /* deleted */
        }
    }
    CHECK(compared > 100000);
}

/* Texts over the copy limit (4 KiB) and at the short end go through the general path only,
 * with the same answers. */
static void test_lengths(void)
{
    static char big[6000];
    const char *head = "{\"type\":\"click\",\"ts\":1,\"app_id\":\"com.example.game\",\"media_source\":\"";
    for (size_t fill = 4000; fill < 4120; fill += 7) {
        size_t n = strlen(head);
        memcpy(big, head, n);
        memset(big + n, 'x', fill);
        memcpy(big + n + fill, "\"}", 2);
        both(big, n + fill + 2);
    }
    for (size_t n = 0; n < 12; n++) both("{\"type\":\"x\"}", n);
}

int main(void)
{
    memset(&cfg, 0, sizeof cfg);
    apps[0].app_id = "com.example.game";
    apps[1].app_id = "id123456";
    cfg.apps = apps;
    cfg.n_apps = 2;
    atd_arena_init(&arena_a, 4096);
    atd_arena_init(&arena_b, 4096);
    RUN(test_typical_events_take_the_fast_path);
    RUN(test_edge_cases);
    RUN(test_every_one_byte_change);
    RUN(test_lengths);
    fprintf(stderr, "  %lu texts x modes compared\n", compared);
    atd_arena_free(&arena_a);
    atd_arena_free(&arena_b);
    return atd_test_done();
}
