#include "attribd/config.h"
#include "attribd/engine.h"
#include "harness.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define H (3600LL * 1000)
#define D (24 * H)

static atd_config *parse(const char *yaml, char *err, size_t errlen)
{
    return atd_config_parse_string(yaml, strlen(yaml), "t.yaml", err, errlen);
}

/* "OK" when yaml is valid, else its error message. */
static const char *err_of(const char *yaml)
{
    static char err[600];
    atd_config *cfg = parse(yaml, err, sizeof err);
    if (!cfg) {
        if (!err[0]) return "(empty error)";
        return err;
    }
    atd_config_release(cfg);
    return "OK";
}

/* The error for one app setting line (the app is com.example.game, the key on line 3). */
static const char *app_err(const char *setting)
{
    static char yaml[600];
    snprintf(yaml, sizeof yaml, "apps:\n  com.example.game:\n    %s\n", setting);
    return err_of(yaml);
}

/* One app setting's value in ms, or -1 when the config is refused. */
static int64_t app_ms(const char *key, const char *value)
{
    char yaml[400], err[400];
    snprintf(yaml, sizeof yaml, "apps:\n  a:\n    %s: %s\n", key, value);
    atd_config *cfg = parse(yaml, err, sizeof err);
    if (!cfg) return -1;
    const atd_app_config *app = atd_config_app(cfg, "a", 1);
    int64_t v = -2;
    if (!app) v = -3;
    else if (!strcmp(key, "click_lookback")) v = app->click_lookback_ms;
    else if (!strcmp(key, "view_lookback")) v = app->view_lookback_ms;
    else if (!strcmp(key, "probabilistic_window")) v = app->probabilistic_window_ms;
    else if (!strcmp(key, "reattribution_window")) v = app->reattribution_window_ms;
    else if (!strcmp(key, "reengagement_window")) v = app->reengagement_window_ms;
    else if (!strcmp(key, "inactivity_period")) v = app->inactivity_period_ms;
    else if (!strcmp(key, "min_ctit")) v = app->min_ctit_ms;
    else if (!strcmp(key, "click_cap")) v = app->click_cap;
    atd_config_release(cfg);
    return v;
}

static void test_defaults(void)
{
    char err[400] = "x";
    atd_config *cfg = parse("apps:\n  com.example.game:\n", err, sizeof err);
    CHECK(cfg != NULL);
    if (!cfg) return;
    CHECK_STR(err, "");
    CHECK(cfg->path == NULL);
    CHECK_EQ_INT(cfg->refs, 1);
    CHECK_STR(cfg->server.listen, "127.0.0.1:8080");
    CHECK_STR(cfg->server.data_dir, "./data");
    CHECK_EQ_INT(cfg->server.threads, 2);
    CHECK_EQ_INT(cfg->server.max_body, 1 << 20);
    CHECK_EQ_INT(cfg->server.trust_proxy, 0);
    CHECK_EQ_INT(cfg->server.max_connections, 10000);
    CHECK_EQ_INT(cfg->server.idle_timeout_ms, 30000);
    CHECK_EQ_INT(cfg->server.max_header_bytes, 16384);
    CHECK_STR(cfg->log.backend, "file");
    CHECK_STR(cfg->log.fsync, "interval");
    CHECK_EQ_INT(cfg->log.fsync_interval_ms, 10);
    CHECK_EQ_INT(cfg->log.partitions, 1);
    CHECK_EQ_INT(cfg->log.segment_bytes, 64 << 20);
    CHECK_EQ_INT(cfg->log.retention_bytes, 0);
    CHECK_EQ_INT(cfg->log.retention_ms, 7 * D);
    CHECK(cfg->log.brokers == NULL);
    CHECK_STR(cfg->kv.backend, "lmdb");
    CHECK_EQ_INT(cfg->kv.map_size, 64LL << 30);
    CHECK_EQ_INT(cfg->kv.n_nodes, 0);
    CHECK_STR(cfg->olap.backend, "sqlite");
    CHECK(cfg->olap.url == NULL);
    CHECK_EQ_INT(cfg->n_apps, 1);
    const atd_app_config *a = atd_config_app(cfg, "com.example.game", 16);
    CHECK(a != NULL);
    if (a) {
        CHECK_STR(a->app_id, "com.example.game");
        CHECK_EQ_INT(a->click_lookback_ms, 7 * D);
        CHECK_EQ_INT(a->view_lookback_ms, 24 * H);
        CHECK_EQ_INT(a->probabilistic_window_ms, 24 * H);
        CHECK_EQ_INT(a->reattribution_window_ms, 90 * D);
        CHECK_EQ_INT(a->reengagement_window_ms, 30 * D);
        CHECK_EQ_INT(a->inactivity_period_ms, 0);
        CHECK_EQ_INT(a->min_ctit_ms, 10000);
        CHECK_EQ_INT(a->click_cap, 0);
        CHECK_EQ_INT(a->n_blocked_ips, 0);
        CHECK_EQ_INT(a->n_blocked_sites, 0);
        CHECK(a->store_url == NULL && a->sdk_key == NULL && a->api_token == NULL);
        CHECK_EQ_INT(a->n_postbacks, 0);
        CHECK_EQ_INT(a->n_push, 0);
    }
    CHECK(atd_config_app(cfg, "com.example", 11) == NULL);
    atd_config_release(cfg);

    /* an app as an empty map is the same as an app with nothing under it */
    CHECK_EQ_INT(app_ms("click_cap", "0"), 0);
    CHECK_STR(err_of("apps:\n  a: {}\n  b: ~\n"), "OK");
}

static void test_no_apps_is_valid(void)
{
    const char *ok[] = {"", "# nothing\n", "apps:\n", "apps: {}\n", "server:\n  threads: 3\n",
                        "---\napps:\n...\n"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char err[300];
        atd_config *cfg = parse(ok[i], err, sizeof err);
        CHECK(cfg != NULL);
        if (!cfg) {
            atd_test_fail(__FILE__, __LINE__, "refused %s: %s", ok[i], err);
            continue;
        }
        CHECK_EQ_INT(cfg->n_apps, 0);
        atd_config_release(cfg);
    }
}

static void test_example_file(void)
{
    const char *src = getenv("ATD_SRC");
    char path[1024];
    snprintf(path, sizeof path, "%s/examples/attribd.yaml", src ? src : ".");
    char err[400];
    atd_config *cfg = atd_config_load(path, err, sizeof err);
    if (!cfg) atd_test_fail(__FILE__, __LINE__, "example refused: %s", err);
    if (!cfg) return;
    CHECK_STR(cfg->path, path);
    const atd_app_config *a = atd_config_app(cfg, "com.example.game", 16);
    CHECK(a != NULL);
    if (a) {
        CHECK_STR(a->sdk_key, "demo-sdk-key");
        CHECK_STR(a->api_token, "demo-api-token");
        CHECK(a->store_url && strncmp(a->store_url, "https://", 8) == 0);
    }
    atd_config_release(cfg);

    /* The commented examples in it must be valid too: uncomment "# key: ..." and "#   - ..."
     * lines (not the "# For Kafka: ..." notes) and load the result. */
    size_t len;
    char *text = atd_test_read_file(path, &len);
    CHECK(text != NULL);
    if (!text) return;
    char *out = malloc(len + 1), *o = out;
    int uncommented = 0;
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line + 1) : strlen(line);
        size_t ind = strspn(line, " ");
        const char *rest = line + ind + 2;
        int key = strncmp(line + ind, "# ", 2) == 0 && rest[0] >= 'a' && rest[0] <= 'z' &&
                  rest[strspn(rest, "abcdefghijklmnopqrstuvwxyz_")] == ':';
        int item = strncmp(line + ind, "#   - ", 6) == 0;
        if (key || item) {
            memcpy(o, line, ind);
            memcpy(o + ind, line + ind + 2, n - ind - 2);
            o += n - 2;
            uncommented++;
        } else {
            memcpy(o, line, n);
            o += n;
        }
        line += n;
    }
    *o = '\0';
    CHECK(uncommented > 10);
    cfg = atd_config_parse_string(out, strlen(out), "example-uncommented", err, sizeof err);
    if (!cfg) atd_test_fail(__FILE__, __LINE__, "%s", err);
    if (cfg) {
        CHECK_EQ_INT(cfg->apps[0].n_blocked_ips, 2);
        CHECK_EQ_INT(cfg->apps[0].n_postbacks, 1);
        CHECK_EQ_INT(cfg->apps[0].n_push, 1);
        atd_config_release(cfg);
    }
    free(out);
    free(text);
}

static void test_app_duration_ranges(void)
{
    struct { const char *key, *value; int64_t want; } cases[] = {
        {"click_lookback", "1h", H},       {"click_lookback", "59m", -1},
        {"click_lookback", "60m", H},      {"click_lookback", "3599s", -1},
        {"click_lookback", "30d", 30 * D}, {"click_lookback", "31d", -1},
        {"click_lookback", "720h", 30 * D}, {"click_lookback", "721h", -1},
        {"click_lookback", "0", -1},       {"click_lookback", "\"7d\"", 7 * D},
        {"click_lookback", "'7d'", 7 * D}, {"click_lookback", "7", -1},
        {"click_lookback", "7D", -1},      {"click_lookback", "\" 7d\"", -1},
        {"click_lookback", "\"7d\\n\"", -1}, {"click_lookback", "7.5d", -1},
        {"click_lookback", "99999999999999999999d", -1},
        {"view_lookback", "1h", H},        {"view_lookback", "24h", 24 * H},
        {"view_lookback", "1d", 24 * H},   {"view_lookback", "25h", -1},
        {"view_lookback", "59m", -1},
        {"probabilistic_window", "0", 0},  {"probabilistic_window", "\"0\"", 0},
        {"probabilistic_window", "0s", 0}, {"probabilistic_window", "24h", 24 * H},
        {"probabilistic_window", "1441m", -1}, {"probabilistic_window", "1s", 1000},
        {"reattribution_window", "1d", D}, {"reattribution_window", "23h", -1},
        {"reattribution_window", "730d", 730 * D}, {"reattribution_window", "731d", -1},
        {"reengagement_window", "1d", D},  {"reengagement_window", "90d", 90 * D},
        {"reengagement_window", "91d", -1}, {"reengagement_window", "0", -1},
        {"inactivity_period", "0", 0},     {"inactivity_period", "30d", 30 * D},
        {"inactivity_period", "31d", -1},  {"inactivity_period", "1s", 1000},
        {"min_ctit", "0", 0},              {"min_ctit", "1h", H},
        {"min_ctit", "3601s", -1},         {"min_ctit", "10s", 10000},
        {"click_cap", "0", 0},             {"click_cap", "1000", 1000},
        {"click_cap", "1001", -1},         {"click_cap", "-1", -1},
        {"click_cap", "\"5\"", -1},        {"click_cap", "5", 5},
        {"click_cap", "+5", 5},            {"click_cap", "010", -1},
        {"click_cap", "1.5", -1},          {"click_cap", "1e3", -1},
        {"click_cap", "0x10", -1},         {"click_cap", "99999999999999999999999", -1},
        {"click_cap", "-99999999999999999999999", -1}, {"click_cap", "5s", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t got = app_ms(cases[i].key, cases[i].value);
        if (got != cases[i].want)
            atd_test_fail(__FILE__, __LINE__, "%s: %s gave %lld, want %lld", cases[i].key,
                          cases[i].value, (long long)got, (long long)cases[i].want);
    }
}

static void test_error_messages(void)
{
    CHECK_STR(app_err("click_lookback: 45d"),
              "t.yaml:3: apps.com.example.game.click_lookback: \"45d\" is out of range 1h-30d");
    CHECK_STR(app_err("view_lookback: 2H"),
              "t.yaml:3: apps.com.example.game.view_lookback: \"2H\" is not a duration (digits "
              "then s, m, h or d, or 0), range 1h-24h");
    CHECK_STR(app_err("min_ctit: 2h"),
              "t.yaml:3: apps.com.example.game.min_ctit: \"2h\" is out of range 0-1h");
    CHECK_STR(app_err("click_cap: 1001"),
              "t.yaml:3: apps.com.example.game.click_cap: \"1001\" is out of range 0-1000");
    CHECK_STR(app_err("click_cap: \"5\""),
              "t.yaml:3: apps.com.example.game.click_cap: \"5\" is quoted text; write a plain "
              "integer (0-1000)");
    CHECK_STR(app_err("click_lookback:"),
              "t.yaml:3: apps.com.example.game.click_lookback: needs a value (a duration)");
    CHECK_STR(app_err("click_lookback: [7d]"),
              "t.yaml:3: apps.com.example.game.click_lookback: expected a duration, got a list");
    CHECK_STR(app_err("click_lookback: {a: 1}"),
              "t.yaml:3: apps.com.example.game.click_lookback: expected a duration, got a map");
    CHECK_STR(app_err("clik_lookback: 7d"),
              "t.yaml:3: apps.com.example.game.clik_lookback: unknown key (expected one of: "
              "click_lookback, view_lookback, probabilistic_window, reattribution_window, "
              "reengagement_window, inactivity_period, min_ctit, click_cap, blocked_ips, "
              "blocked_sites, store_url, sdk_key, api_token, postbacks, push)");
    CHECK_STR(app_err("sdk_key: [a, b]"),
              "t.yaml:3: apps.com.example.game.sdk_key: expected text, got a list");
    CHECK_STR(app_err("sdk_key: ''"),
              "t.yaml:3: apps.com.example.game.sdk_key: must not be empty");
    CHECK_STR(app_err("sdk_key: \"a\\0b\""),
              "t.yaml:3: apps.com.example.game.sdk_key: contains a NUL character");
    CHECK_STR(app_err("store_url: ftp://x"),
              "t.yaml:3: apps.com.example.game.store_url: \"ftp://x\" is not an http:// or "
              "https:// URL (no spaces)");
    CHECK_STR(app_err("blocked_ips: 10.0.0.1"),
              "t.yaml:3: apps.com.example.game.blocked_ips: expected a list, got text");
    /* the line is the value's line, in a longer file */
    CHECK_STR(err_of("server:\n  threads: 2\n\napps:\n  a:\n    min_ctit: 10s\n  b:\n"
                     "    view_lookback: 48h\n"),
              "t.yaml:8: apps.b.view_lookback: \"48h\" is out of range 1h-24h");
    /* long and binary values are shortened in messages */
    const char *e = app_err("sdk_key: [\"\\x01\\x02\"]");
    CHECK(strstr(e, "expected text, got a list") != NULL);
    e = app_err("click_lookback: \"\\x01xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"");
    CHECK(strstr(e, "\"?xxxx") != NULL && strstr(e, "...\"") != NULL);
}

static void test_structure_errors(void)
{
    CHECK_STR(err_of("- a\n- b\n"),
              "t.yaml:1: the config must be a map (server, log, kv, olap, apps)");
    CHECK_STR(err_of("just text\n"),
              "t.yaml:1: the config must be a map (server, log, kv, olap, apps)");
    CHECK_STR(err_of("server: 5\n"), "t.yaml:1: server: expected a map, got text");
    CHECK_STR(err_of("apps: [a, b]\n"),
              "t.yaml:1: apps: expected a map of app id to settings, got a list");
    CHECK_STR(err_of("apps:\n  a: [x]\n"), "t.yaml:2: apps.a: expected a map, got a list");
    CHECK_STR(err_of("apps:\n  a: 7d\n"), "t.yaml:2: apps.a: expected a map, got text");
    CHECK_STR(err_of("server:\n  threads: 2\nloggg:\n  backend: file\n"),
              "t.yaml:3: loggg: unknown key (expected one of: server, log, kv, olap, apps)");
    CHECK_STR(err_of("server:\n  thread: 2\n"),
              "t.yaml:2: server.thread: unknown key (expected one of: listen, data_dir, threads, "
              "max_body, trust_proxy, max_connections, idle_timeout, max_header_bytes)");
    CHECK_STR(err_of("apps:\n  a:\n    click_cap: 1\n    click_cap: 2\n"),
              "t.yaml:4: apps.a.click_cap: duplicate key (first at line 3)");
    CHECK_STR(err_of("apps:\n  a: {}\n  a: {}\n"), "t.yaml:3: apps.a: duplicate app");
    CHECK_STR(err_of("apps:\n  \"a b\": {}\n"),
              "t.yaml:2: apps.a b: an app id is 1-200 letters, digits, '.', '_' or '-'");
    CHECK_STR(err_of("apps:\n  \"\": {}\n"),
              "t.yaml:2: apps.: an app id is 1-200 letters, digits, '.', '_' or '-'");
    CHECK_STR(err_of("apps:\n  [a]: {}\n"), "t.yaml:2: apps: app ids must be text, got a list");
    CHECK_STR(err_of("server:\n  [a]: 1\n"), "t.yaml:2: server: keys must be text, got a list");
    CHECK_STR(err_of("apps:\n  a: {}\n---\napps:\n  b: {}\n"),
              "t.yaml:4: only one YAML document is allowed");
    /* anchors and aliases work as YAML says */
    char err[300];
    atd_config *cfg = parse("apps:\n  a: &s {click_lookback: 2d}\n  b: *s\n", err, sizeof err);
    CHECK(cfg != NULL);
    if (cfg) {
        CHECK_EQ_INT(cfg->n_apps, 2);
        CHECK_EQ_INT(cfg->apps[1].click_lookback_ms, 2 * D);
        atd_config_release(cfg);
    }
}

static void test_syntax_errors(void)
{
    const char *e = err_of("apps:\n  a:\n    click_lookback: [7d\n");
    CHECK(strncmp(e, "t.yaml:4: YAML syntax error: ", 29) == 0);
    e = err_of("server:\n  threads: 2\n   listen: x\n");
    CHECK(strncmp(e, "t.yaml:3: YAML syntax error: ", 29) == 0);
    e = err_of("apps:\n\ta: {}\n");
    CHECK(strncmp(e, "t.yaml:2: YAML syntax error: ", 29) == 0);
    e = err_of("apps: {a: *nope}\n");
    CHECK(strncmp(e, "t.yaml:1: YAML syntax error: ", 29) == 0);
    e = err_of("apps: \"unterminated\n");
    CHECK(strstr(e, "YAML syntax error") != NULL);
    /* an embedded NUL byte is a YAML error, not a silently shorter file */
    char err[300];
    CHECK(atd_config_parse_string("apps:\n\0  a: {}\n", 14, "t.yaml", err, sizeof err) == NULL);
    CHECK(strstr(err, "t.yaml:") == err);
    CHECK(atd_config_parse_string(NULL, 0, "t.yaml", err, sizeof err) == NULL);
    /* a zero-length error buffer is fine */
    CHECK(atd_config_parse_string("x: 1", 4, "t.yaml", NULL, 0) == NULL);
}

static void test_blocked(void)
{
    char err[400];
    atd_config *cfg = parse("apps:\n  a:\n    blocked_ips:\n      - 10.0.0.0/8\n"
                            "      - \"2001:db8::/32\"\n      - 192.168.1.7\n"
                            "      - \"::ffff:172.16.0.0/108\"\n      - ' 1.2.3.4 '\n"
                            "    blocked_sites: [netA/site1, \"netB/s/2\"]\n",
                            err, sizeof err);
    CHECK(cfg != NULL);
    if (!cfg) {
        atd_test_fail(__FILE__, __LINE__, "%s", err);
        return;
    }
    const atd_app_config *a = &cfg->apps[0];
    CHECK_EQ_INT(a->n_blocked_ips, 5);
    atd_ip ip;
    CHECK(atd_ip_parse("10.9.8.7", 8, &ip) == 0 && atd_cidr_contains(&a->blocked_ips[0], &ip));
    CHECK(atd_ip_parse("2001:db8:1::1", 13, &ip) == 0 &&
          atd_cidr_contains(&a->blocked_ips[1], &ip));
    CHECK(atd_ip_parse("172.16.200.1", 12, &ip) == 0 &&
          atd_cidr_contains(&a->blocked_ips[3], &ip));
    CHECK_EQ_INT(a->blocked_ips[3].prefix, 12);
    CHECK_EQ_INT(a->blocked_ips[4].prefix, 32);
    CHECK_EQ_INT(a->n_blocked_sites, 2);
    CHECK_STR(a->blocked_sites[0], "netA/site1");
    CHECK_STR(a->blocked_sites[1], "netB/s/2");
    atd_config_release(cfg);

    CHECK_STR(app_err("blocked_ips: [10.0.0.1, 10.0.0.300, 10.0.0.2]"),
              "t.yaml:3: apps.com.example.game.blocked_ips[1]: \"10.0.0.300\" is not an IP "
              "address or CIDR block");
    CHECK_STR(err_of("apps:\n  a:\n    blocked_ips:\n      - 1.2.3.4\n      - 1.2.3.4/33\n"),
              "t.yaml:5: apps.a.blocked_ips[1]: \"1.2.3.4/33\" is not an IP address or CIDR block");
    CHECK_STR(app_err("blocked_ips: [[1.2.3.4]]"),
              "t.yaml:3: apps.com.example.game.blocked_ips[0]: expected text, got a list");
    CHECK_STR(app_err("blocked_ips: [\"::ffff:1.2.3.4/64\"]"),
              "t.yaml:3: apps.com.example.game.blocked_ips[0]: \"::ffff:1.2.3.4/64\" is not an "
              "IP address or CIDR block");
    CHECK_STR(app_err("blocked_sites: [netA]"),
              "t.yaml:3: apps.com.example.game.blocked_sites[0]: \"netA\" is not "
              "media_source/site_id");
    CHECK_STR(app_err("blocked_sites: [/x]"),
              "t.yaml:3: apps.com.example.game.blocked_sites[0]: \"/x\" is not "
              "media_source/site_id");
    CHECK_STR(app_err("blocked_sites: [x/]"),
              "t.yaml:3: apps.com.example.game.blocked_sites[0]: \"x/\" is not "
              "media_source/site_id");
    /* IPv6 may be plain in a block list; in a [flow, list] its colons need quotes */
    CHECK_STR(err_of("apps:\n  a:\n    blocked_ips:\n      - ::1\n      - 2001:db8::/32\n"), "OK");
    CHECK(strstr(app_err("blocked_ips: [::1]"), "t.yaml:3: YAML syntax error: ") != NULL);
    CHECK_STR(app_err("blocked_ips: []"), "OK");
    CHECK_STR(app_err("blocked_ips:"), "OK");
}

static void test_postbacks_push(void)
{
    char err[400];
    atd_config *cfg = parse(
        "apps:\n  a:\n    postbacks:\n"
        "      - { media_source: netA, events: [install, inapp], url: \"https://a.example/pb?c={click_id}\" }\n"
        "      - media_source: netB\n        events: [reinstall, re-attribution, session, re-engagement]\n"
        "        url: http://b.example/x\n"
        "    push:\n      - { url: \"https://owner.example/hook\", events: [install, install] }\n",
        err, sizeof err);
    CHECK(cfg != NULL);
    if (!cfg) {
        atd_test_fail(__FILE__, __LINE__, "%s", err);
        return;
    }
    const atd_app_config *a = &cfg->apps[0];
    CHECK_EQ_INT(a->n_postbacks, 2);
    CHECK_STR(a->postbacks[0].media_source, "netA");
    CHECK_EQ_INT(a->postbacks[0].events, (1u << ATD_RES_INSTALL) | (1u << ATD_RES_INAPP));
    CHECK_STR(a->postbacks[0].url, "https://a.example/pb?c={click_id}");
    CHECK_STR(a->postbacks[1].media_source, "netB");
    CHECK_EQ_INT(a->postbacks[1].events, (1u << ATD_RES_REINSTALL) |
                                             (1u << ATD_RES_REATTRIBUTION) |
                                             (1u << ATD_RES_SESSION) |
                                             (1u << ATD_RES_REENGAGEMENT));
    CHECK_EQ_INT(a->n_push, 1);
    CHECK_STR(a->push[0].url, "https://owner.example/hook");
    CHECK_EQ_INT(a->push[0].events, 1u << ATD_RES_INSTALL);
    atd_config_release(cfg);

    CHECK_STR(app_err("postbacks: [{media_source: n, events: [install]}]"),
              "t.yaml:3: apps.com.example.game.postbacks[0]: missing key \"url\"");
    CHECK_STR(app_err("postbacks: [{media_source: n, events: [purchase], url: http://x}]"),
              "t.yaml:3: apps.com.example.game.postbacks[0].events[0]: \"purchase\" is not an "
              "event (install, reinstall, re-attribution, session, re-engagement, inapp)");
    CHECK_STR(app_err("postbacks: [{media_source: n, events: [], url: http://x}]"),
              "t.yaml:3: apps.com.example.game.postbacks[0].events: needs a list of events "
              "(install, reinstall, re-attribution, session, re-engagement, inapp)");
    CHECK_STR(app_err("postbacks: [{media_source: n, events: install, url: http://x}]"),
              "t.yaml:3: apps.com.example.game.postbacks[0].events: expected a list, got text");
    CHECK_STR(app_err("postbacks: [{media_source: n, events: [install], url: http://x, x: 1}]"),
              "t.yaml:3: apps.com.example.game.postbacks[0].x: unknown key (expected one of: "
              "media_source, events, url)");
    CHECK_STR(app_err("postbacks: [netA]"),
              "t.yaml:3: apps.com.example.game.postbacks[0]: expected a map, got text");
    CHECK_STR(app_err("push: [{url: \"https://x y\", events: [install]}]"),
              "t.yaml:3: apps.com.example.game.push[0].url: \"https://x y\" is not an http:// or "
              "https:// URL (no spaces)");
    CHECK_STR(app_err("push: [{events: [install]}]"),
              "t.yaml:3: apps.com.example.game.push[0]: missing key \"url\"");
}

static void test_server_section(void)
{
    char err[400];
    atd_config *cfg = parse("server:\n  listen: \"0.0.0.0:9000\"\n  data_dir: /var/lib/x\n"
                            "  threads: 64\n  max_body: 512k\n  trust_proxy: true\n"
                            "  max_connections: 5\n  idle_timeout: 5s\n  max_header_bytes: 8k\n",
                            err, sizeof err);
    CHECK(cfg != NULL);
    if (cfg) {
        CHECK_STR(cfg->server.listen, "0.0.0.0:9000");
        CHECK_STR(cfg->server.data_dir, "/var/lib/x");
        CHECK_EQ_INT(cfg->server.threads, 64);
        CHECK_EQ_INT(cfg->server.max_body, 512 * 1024);
        CHECK_EQ_INT(cfg->server.trust_proxy, 1);
        CHECK_EQ_INT(cfg->server.max_connections, 5);
        CHECK_EQ_INT(cfg->server.idle_timeout_ms, 5000);
        CHECK_EQ_INT(cfg->server.max_header_bytes, 8192);
        atd_config_release(cfg);
    } else {
        atd_test_fail(__FILE__, __LINE__, "%s", err);
    }
    const char *good[] = {"listen: localhost:80", "listen: \"[::1]:8080\"", "listen: a-b.c:65535",
                          "max_body: 1048576", "max_body: \"2m\"", "max_body: 1k",
                          "max_body: 256m", "trust_proxy: false", "threads: 1"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char y[200];
        snprintf(y, sizeof y, "server:\n  %s\n", good[i]);
        const char *e = err_of(y);
        if (strcmp(e, "OK") != 0) atd_test_fail(__FILE__, __LINE__, "%s: %s", good[i], e);
    }
    struct { const char *line, *err; } bad[] = {
        {"listen: 8080", "t.yaml:2: server.listen: \"8080\" is not host:port (port 1-65535; IPv6 in brackets)"},
        {"listen: \"localhost\"", NULL}, {"listen: \"h:0\"", NULL}, {"listen: \"h:65536\"", NULL},
        {"listen: \":80\"", NULL}, {"listen: \"::1:80\"", NULL}, {"listen: \"[::1]\"", NULL},
        {"listen: \"[zz]:80\"", NULL}, {"listen: \"h :80\"", NULL}, {"listen: \"h:080\"", NULL},
        {"listen: \"h:8o\"", NULL},
        {"threads: 0", "t.yaml:2: server.threads: \"0\" is out of range 1-64"},
        {"threads: 65", NULL}, {"threads: two", NULL}, {"threads: [2]", NULL},
        {"max_body: 1M", "t.yaml:2: server.max_body: \"1M\" is not a size (bytes, or digits then k, m, g or t), range 1k-256m"},
        {"max_body: 1023", "t.yaml:2: server.max_body: \"1023\" is out of range 1k-256m"},
        {"max_body: 257m", NULL}, {"max_body: 99999999999999999999999", NULL},
        {"max_body: 99999999999t", NULL}, {"max_body: k", NULL}, {"max_body: -1", NULL},
        {"trust_proxy: yes", "t.yaml:2: server.trust_proxy: \"yes\" is not true or false (plain)"},
        {"trust_proxy: \"true\"", NULL}, {"trust_proxy: 1", NULL},
        {"idle_timeout: 0", "t.yaml:2: server.idle_timeout: \"0\" is out of range 1s-1h"},
        {"idle_timeout: 30000", NULL}, {"data_dir: \"\"", NULL}, {"data_dir:", NULL},
        {"max_connections: 0", NULL}, {"max_header_bytes: 2m", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char y[200];
        snprintf(y, sizeof y, "server:\n  %s\n", bad[i].line);
        const char *e = err_of(y);
        if (!strcmp(e, "OK") || strncmp(e, "t.yaml:2: server.", 17) != 0)
            atd_test_fail(__FILE__, __LINE__, "%s: %s", bad[i].line, e);
        else if (bad[i].err && strcmp(e, bad[i].err) != 0)
            atd_test_fail(__FILE__, __LINE__, "%s: \"%s\" != \"%s\"", bad[i].line, e, bad[i].err);
    }
}

static void test_log_kv_olap(void)
{
    char err[400];
    atd_config *cfg = parse("log:\n  fsync: always\n  partitions: 256\n  segment_bytes: 4k\n"
                            "  retention_bytes: 10g\n  retention: 0\n",
                            err, sizeof err);
    CHECK(cfg != NULL);
    if (cfg) {
        CHECK_STR(cfg->log.fsync, "always");
        CHECK_EQ_INT(cfg->log.partitions, 256);
        CHECK_EQ_INT(cfg->log.segment_bytes, 4096);
        CHECK_EQ_INT(cfg->log.retention_bytes, 10LL << 30);
        CHECK_EQ_INT(cfg->log.retention_ms, 0);
        atd_config_release(cfg);
    }
    cfg = parse("log: {fsync: 250, retention: 30d}\n", err, sizeof err);
    CHECK(cfg != NULL);
    if (cfg) {
        CHECK_STR(cfg->log.fsync, "interval");
        CHECK_EQ_INT(cfg->log.fsync_interval_ms, 250);
        CHECK_EQ_INT(cfg->log.retention_ms, 30 * D);
        atd_config_release(cfg);
    }
    cfg = parse("log: {backend: kafka, brokers: \"127.0.0.1:9092,k2:9093\", partitions: 8}\n"
                "kv: {backend: redis, nodes: [\"127.0.0.1:6379\", \"r2:6380\"], map_size: 1g}\n"
                "olap: {backend: clickhouse, url: \"http://127.0.0.1:8123\"}\n",
                err, sizeof err);
    CHECK(cfg != NULL);
    if (cfg) {
        CHECK_STR(cfg->log.backend, "kafka");
        CHECK_STR(cfg->log.brokers, "127.0.0.1:9092,k2:9093");
        CHECK_STR(cfg->kv.backend, "redis");
        CHECK_EQ_INT(cfg->kv.n_nodes, 2);
        CHECK_STR(cfg->kv.nodes[1], "r2:6380");
        CHECK_EQ_INT(cfg->kv.map_size, 1LL << 30);
        CHECK_STR(cfg->olap.backend, "clickhouse");
        CHECK_STR(cfg->olap.url, "http://127.0.0.1:8123");
        atd_config_release(cfg);
    } else {
        atd_test_fail(__FILE__, __LINE__, "%s", err);
    }
    CHECK_STR(err_of("log:\n  fsync: sometimes\n"),
              "t.yaml:2: log.fsync: \"sometimes\" is not \"always\" or milliseconds between "
              "fsyncs (1-10000)");
    CHECK_STR(err_of("log:\n  fsync: 0\n"), "t.yaml:2: log.fsync: \"0\" is out of range 1-10000");
    CHECK_STR(err_of("log:\n  fsync: 10001\n"),
              "t.yaml:2: log.fsync: \"10001\" is out of range 1-10000");
    CHECK_STR(err_of("log:\n  fsync: \"10\"\n"),
              "t.yaml:2: log.fsync: is \"always\" or a plain integer of milliseconds between "
              "fsyncs (1-10000)");
    CHECK_STR(err_of("log:\n  fsync: [always]\n"),
              "t.yaml:2: log.fsync: expected an integer, got a list");
    CHECK_STR(err_of("log:\n  partitions: 257\n"),
              "t.yaml:2: log.partitions: \"257\" is out of range 1-256");
    CHECK_STR(err_of("log:\n  backend: mysql\n"),
              "t.yaml:2: log.backend: \"mysql\" is not one of: file, kafka");
    CHECK_STR(err_of("log:\n  backend: kafka\n"),
              "t.yaml:1: log.brokers: is required with backend kafka");
    CHECK_STR(err_of("log:\n  backend: kafka\n  brokers: \"a:1,,b:2\"\n"),
              "t.yaml:3: log.brokers: \"a:1,,b:2\" is not host:port[,host:port...]");
    CHECK_STR(err_of("log:\n  backend: kafka\n  brokers: \"a:1,b\"\n"),
              "t.yaml:3: log.brokers: \"b\" is not host:port (port 1-65535; IPv6 in brackets)");
    CHECK_STR(err_of("log:\n  retention: 7\n"),
              "t.yaml:2: log.retention: \"7\" is not a duration (digits then s, m, h or d, or "
              "0), range 0-3650d");
    CHECK_STR(err_of("log:\n  segment_bytes: 1k\n"),
              "t.yaml:2: log.segment_bytes: \"1k\" is out of range 4k-64g");
    CHECK_STR(err_of("kv:\n  backend: redis\n"),
              "t.yaml:1: kv.nodes: is required with backend redis (a list of host:port)");
    CHECK_STR(err_of("kv:\n  backend: redis\n  nodes: [\"a:1\", \"b\"]\n"),
              "t.yaml:3: kv.nodes[1]: \"b\" is not host:port (port 1-65535; IPv6 in brackets)");
    CHECK_STR(err_of("kv:\n  map_size: 1k\n"),
              "t.yaml:2: kv.map_size: \"1k\" is out of range 1m-64t");
    CHECK_STR(err_of("olap:\n  backend: clickhouse\n"),
              "t.yaml:1: olap.url: is required with backend clickhouse");
    CHECK_STR(err_of("olap:\n  backend: duckdb\n"),
              "t.yaml:2: olap.backend: \"duckdb\" is not one of: sqlite, clickhouse");
    /* settings of another backend are ignored (with a warning), not refused */
    CHECK_STR(err_of("log: {brokers: \"a:1\"}\nkv: {nodes: [\"a:1\"]}\nolap: {url: \"http://x\"}\n"),
              "OK");
}

static void test_load_errors(void)
{
    char err[400];
    CHECK(atd_config_load("/nonexistent/attribd.yaml", err, sizeof err) == NULL);
    CHECK_STR(err, "/nonexistent/attribd.yaml: cannot open: No such file or directory");
    char *dir = atd_test_tmpdir("cfg");
    char path[512];
    snprintf(path, sizeof path, "%s/attribd.yaml", dir);
    CHECK(atd_test_write_file(path, "apps:\n  a:\n    click_lookback: 45d\n") == 0);
    CHECK(atd_config_load(path, err, sizeof err) == NULL);
    char want[700];
    snprintf(want, sizeof want, "%s:3: apps.a.click_lookback: \"45d\" is out of range 1h-30d", path);
    CHECK_STR(err, want);
    CHECK(atd_config_load(dir, err, sizeof err) == NULL); /* a directory */
    CHECK(strstr(err, dir) == err);
    atd_test_rmrf(dir);
    free(dir);
}

static void test_reload_and_refs(void)
{
    char *dir = atd_test_tmpdir("cfg");
    char path[512], err[600];
    snprintf(path, sizeof path, "%s/attribd.yaml", dir);

    CHECK(atd_config_current() == NULL);
    CHECK(atd_config_reload(path, err, sizeof err) == ATD_EINVAL); /* no file yet */
    CHECK(atd_config_current() == NULL);

    CHECK(atd_test_write_file(path, "apps:\n  a:\n    click_lookback: 2d\n") == 0);
    CHECK_EQ_INT(atd_config_reload(path, err, sizeof err), 0);
    atd_config *first = atd_config_current();
    CHECK(first != NULL);
    if (!first) return;
    CHECK_EQ_INT(first->refs, 2); /* current + ours */
    CHECK_EQ_INT(first->apps[0].click_lookback_ms, 2 * D);
    CHECK_STR(first->path, path);

    /* a bad file: the error is returned, the old config stays current */
    CHECK(atd_test_write_file(path, "apps:\n  a:\n    click_lookback: 31d\n") == 0);
    CHECK_EQ_INT(atd_config_reload(path, err, sizeof err), ATD_EINVAL);
    CHECK(strstr(err, ":3: apps.a.click_lookback: \"31d\" is out of range 1h-30d") != NULL);
    atd_config *still = atd_config_current();
    CHECK(still == first);
    CHECK_EQ_INT(first->refs, 3);
    atd_config_release(still);
    CHECK(atd_test_write_file(path, "apps: [\n") == 0);
    CHECK_EQ_INT(atd_config_reload(path, err, sizeof err), ATD_EINVAL);
    CHECK(strstr(err, "YAML syntax error") != NULL);
    still = atd_config_current();
    CHECK(still == first);
    atd_config_release(still);

    /* a good file replaces it; our reference keeps the old one alive (ASan checks the reads) */
    CHECK(atd_test_write_file(path, "apps:\n  a:\n    click_lookback: 3d\n  b: {}\n") == 0);
    CHECK_EQ_INT(atd_config_reload(path, err, sizeof err), 0);
    atd_config *second = atd_config_current();
    CHECK(second != first && second != NULL);
    CHECK_EQ_INT(first->refs, 1);
    CHECK_EQ_INT(first->apps[0].click_lookback_ms, 2 * D);
    CHECK_STR(first->apps[0].app_id, "a");
    atd_config_release(first);
    if (second) {
        CHECK_EQ_INT(second->n_apps, 2);
        CHECK_EQ_INT(second->apps[0].click_lookback_ms, 3 * D);
        atd_config_release(second);
    }
    CHECK(atd_config_acquire(NULL) == NULL);
    atd_config_release(NULL);
    atd_config_set_current(NULL); /* drops the last reference */
    CHECK(atd_config_current() == NULL);
    atd_test_rmrf(dir);
    free(dir);
}

/* Readers take and drop the current config while it is swapped underneath them: under ASan any
 * early free shows as a use-after-free. */
static volatile int stop_readers;
static void *reader(void *arg)
{
    long sum = 0;
    while (!stop_readers) {
        atd_config *cfg = atd_config_current();
        if (cfg) {
            sum += cfg->apps[0].click_cap + (long)strlen(cfg->apps[0].app_id);
            atd_config_release(cfg);
        }
    }
    *(long *)arg = sum;
    return NULL;
}

static void test_concurrent_swap(void)
{
    pthread_t th[3];
    long sums[3];
    stop_readers = 0;
    for (int i = 0; i < 3; i++) pthread_create(&th[i], NULL, reader, &sums[i]);
    for (int i = 0; i < 2000; i++) {
        char yaml[100], err[200];
        snprintf(yaml, sizeof yaml, "apps:\n  app%d:\n    click_cap: %d\n", i, i % 1000);
        atd_config *cfg = parse(yaml, err, sizeof err);
        CHECK(cfg != NULL);
        atd_config_set_current(cfg);
    }
    stop_readers = 1;
    for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
    atd_config *last = atd_config_current();
    CHECK(last != NULL && last->refs == 2 && last->apps[0].click_cap == 999);
    atd_config_release(last);
    atd_config_set_current(NULL);
}

/* Random damage to a full config never crashes and either loads or explains itself. */
static void test_mutations(void)
{
    const char *base =
        "server: {listen: \"127.0.0.1:8080\", threads: 2, max_body: 1m}\n"
        "log: {backend: file, fsync: 10}\nkv: {backend: lmdb}\nolap: {backend: sqlite}\n"
        "apps:\n  com.x:\n    click_lookback: 7d\n    click_cap: 5\n"
        "    blocked_ips: [10.0.0.0/8, \"::1\"]\n    blocked_sites: [a/b]\n"
        "    postbacks:\n      - {media_source: n, events: [install], url: \"https://x/\"}\n"
        "    push: [{url: \"http://y/\", events: [inapp]}]\n";
    size_t n = strlen(base);
    char *buf = malloc(n + 1);
    srand(7);
    int ok = 0, refused = 0;
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(buf, base, n + 1);
        int edits = 1 + rand() % 4;
        for (int e = 0; e < edits; e++) {
            static const char alphabet[] = "{}[],:-\"'&*!|>#%@ \n\t0123456789abcdhms./\\~";
            size_t at = (size_t)rand() % n;
            buf[at] = (rand() % 8 == 0) ? (char)(rand() % 256)
                                        : alphabet[rand() % (sizeof alphabet - 1)];
        }
        char err[300];
        atd_config *cfg = atd_config_parse_string(buf, n, "m.yaml", err, sizeof err);
        if (cfg) {
            ok++;
            atd_config_release(cfg);
        } else {
            refused++;
            CHECK(strncmp(err, "m.yaml", 6) == 0);
        }
    }
    CHECK(ok > 0 && refused > 0);
    free(buf);
}

int main(void)
{
    RUN(test_defaults);
    RUN(test_no_apps_is_valid);
    RUN(test_example_file);
    RUN(test_app_duration_ranges);
    RUN(test_error_messages);
    RUN(test_structure_errors);
    RUN(test_syntax_errors);
    RUN(test_blocked);
    RUN(test_postbacks_push);
    RUN(test_server_section);
    RUN(test_log_kv_olap);
    RUN(test_load_errors);
    RUN(test_reload_and_refs);
    RUN(test_concurrent_swap);
    RUN(test_mutations);
    return atd_test_done();
}
