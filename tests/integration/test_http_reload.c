/* SIGHUP reloads the config: a new sdk_key is required at once; a broken file keeps the old
 * config running (and says why in the server's log). */
#include "http_test_util.h"

static test_server S;

static long post_with_key(const char *key)
{
    char url[256], hdr[128];
    snprintf(url, sizeof url, "%s/v1/events/r1", S.base);
    snprintf(hdr, sizeof hdr, "X-Sdk-Key: %s", key);
    const char *h[] = {hdr, NULL};
    const char *body = "{\"type\":\"session\",\"device_id\":\"d1\"}";
    http_resp r;
    return http_do("POST", url, body, strlen(body), h, &r);
}

static void test_reload(void)
{
    CHECK_EQ_INT(post_with_key("old"), 200);
    CHECK_EQ_INT(post_with_key("new"), 401);

    CHECK(atd_test_write_file(S.config, "apps:\n  r1:\n    sdk_key: \"new\"\n") == 0);
    kill(S.pid, SIGHUP);
    int switched = 0;
    for (int i = 0; i < 100 && !switched; i++) {
        usleep(50 * 1000);
        switched = post_with_key("new") == 200;
    }
    CHECK(switched);
    CHECK_EQ_INT(post_with_key("old"), 401);

    /* broken: the running config stays */
    CHECK(atd_test_write_file(S.config, "apps:\n  r1:\n    sdk_key: [unterminated\n") == 0);
    kill(S.pid, SIGHUP);
    usleep(300 * 1000);
    CHECK_EQ_INT(post_with_key("new"), 200);
    CHECK_EQ_INT(post_with_key("old"), 401);
    /* an invalid setting is a config error too */
    CHECK(atd_test_write_file(S.config, "apps:\n  r1:\n    click_lookback: 99d\n") == 0);
    kill(S.pid, SIGHUP);
    usleep(300 * 1000);
    CHECK_EQ_INT(post_with_key("new"), 200);

    int st = ts_stop(&S, SIGTERM);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    char *out = atd_test_read_file(S.logfile, NULL);
    CHECK(out && strstr(out, "config reloaded"));
    CHECK(out && strstr(out, "reload failed"));
    free(out);
    CHECK_EQ_INT(ts_read_events(S.data, NULL, NULL), 4);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    ts_init(&S, "http-reload", "apps:\n  r1:\n    sdk_key: \"old\"\n");
    if (ts_start(&S) != 0) return 1;
    RUN(test_reload);
    ts_free(&S);
    curl_global_cleanup();
    return atd_test_done();
}
