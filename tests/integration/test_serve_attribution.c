/* `attribd serve` end to end: touches and installs in over HTTP, the results service decides,
 * GET /v1/conversion answers the SDK, and the `results` topic holds one result per app event. */
#include "attribd/engine.h"
#include "http_test_util.h"

static const char *CONFIG = "apps:\n"
                            "  com.e2e.app:\n"
                            "    sdk_key: k1\n"
                            "    min_ctit: 0\n";

static test_server S;

static long GET(const char *path, const char *const *headers, http_resp *r)
{
    return ts_get(&S, path, headers, r);
}

static long POST(const char *path, const char *body, const char *const *headers, http_resp *r)
{
    return ts_post(&S, path, body, headers, r);
}

static const char *const KEY[] = {"X-Sdk-Key: k1", NULL};

/* Polls the conversion endpoint until the device is known (the engine runs asynchronously). */
static long conversion(const char *device, const char *query, http_resp *r)
{
    char path[512];
    snprintf(path, sizeof path, "/v1/conversion/com.e2e.app/%s%s", device, query ? query : "");
    long st = 0;
    for (int i = 0; i < 250; i++) {
        st = GET(path, KEY, r);
        if (st != 404) break;
        usleep(20000);
    }
    return st;
}

static void test_attribution_flow(void)
{
    http_resp r;
    CHECK_EQ_INT(GET("/c/com.e2e.app?pid=netA&c=summer&af_siteid=s1&clickid=ck1"
                     "&advertising_id=AAAA-1&deep_link_value=level5",
                     NULL, &r),
                 204);
    CHECK_EQ_INT(GET("/i/com.e2e.app?pid=netB&c=c2&advertising_id=aaaa-1", NULL, &r), 204);
    usleep(5000); /* the install must come strictly later than the touches' ms, usually is */
    CHECK_EQ_INT(POST("/v1/events/com.e2e.app",
                      "{\"type\":\"install\",\"device_id\":\"d1\",\"advertising_id\":\"aaaa-1\"}\n"
                      "{\"type\":\"install\",\"device_id\":\"d2\"}\n"
                      "{\"type\":\"inapp\",\"device_id\":\"d1\",\"event_name\":\"buy\","
                      "\"revenue\":2.5,\"currency\":\"eur\"}",
                      KEY, &r),
                 200);
    CHECK_STR(r.body, "{\"accepted\":3}");

    CHECK_EQ_INT(conversion("d1", NULL, &r), 200);
    CHECK(strstr(r.body, "\"af_status\":\"Non-organic\"") != NULL);
    CHECK(strstr(r.body, "\"media_source\":\"netA\"") != NULL);
    CHECK(strstr(r.body, "\"campaign\":\"summer\"") != NULL);
    CHECK(strstr(r.body, "\"af_siteid\":\"s1\"") != NULL);
    CHECK(strstr(r.body, "\"deep_link_value\":\"level5\"") != NULL);
    CHECK(strstr(r.body, "\"is_first_launch\":true") != NULL);
    CHECK(strstr(r.body, "\"click_time\":\"20") != NULL);

    CHECK_EQ_INT(conversion("d1", "?first_launch=false", &r), 200);
    CHECK(strstr(r.body, "\"is_first_launch\":false") != NULL);

    CHECK_EQ_INT(conversion("d2", NULL, &r), 200);
    CHECK(strstr(r.body, "\"af_status\":\"Organic\"") != NULL);
    CHECK(strstr(r.body, "\"media_source\":null") != NULL);

    CHECK_EQ_INT(GET("/v1/conversion/com.e2e.app/nobody", KEY, &r), 404);
    CHECK(strstr(r.body, "\"field\":\"device_id\"") != NULL);
    CHECK_EQ_INT(GET("/v1/conversion/com.e2e.app/d1", NULL, &r), 401);
    CHECK_EQ_INT(GET("/v1/conversion/com.other/d1", KEY, &r), 404);
    CHECK_EQ_INT(GET("/v1/conversion/com.e2e.app", KEY, &r), 404);

    /* the metrics show the service's work (counted once the results are appended, a moment
     * after the state the conversion endpoint reads is committed) */
    int ok = 0;
    for (int i = 0; i < 250 && !ok; i++) {
        CHECK_EQ_INT(GET("/metrics", NULL, &r), 200);
        ok = strstr(r.body, "attribd_results_written 3\n") != NULL;
        if (!ok) usleep(20000);
    }
    CHECK(ok);
    CHECK(strstr(r.body, "attribd_results_lag_events 0") != NULL);
}

typedef struct seen {
    int installs, inapps, non_organic;
    char inapp_currency[8];
} seen;

static int on_result(void *ud, const atd_log_record *rec)
{
    seen *s = ud;
    atd_arena a;
    atd_arena_init(&a, 4096);
    atd_result res;
    if (atd_result_decode(rec->value, rec->value_len, &a, &res) == 0) {
        if (res.type == ATD_RES_INSTALL) s->installs++;
        if (res.type == ATD_RES_INAPP) {
            s->inapps++;
            snprintf(s->inapp_currency, sizeof s->inapp_currency, "%.*s", (int)res.currency.n,
                     res.currency.p ? res.currency.p : "");
        }
        if (res.status == ATD_ATTR_NON_ORGANIC) s->non_organic++;
    }
    atd_arena_free(&a);
    return 0;
}

static void test_results_topic_after_restart(void)
{
    /* a restart must not decide anything twice */
    CHECK_EQ_INT(ts_stop(&S, SIGTERM), 0);
    CHECK_EQ_INT(ts_start(&S), 0);
    http_resp r;
    CHECK_EQ_INT(POST("/v1/events/com.e2e.app", "{\"type\":\"session\",\"device_id\":\"d1\"}",
                      KEY, &r),
                 200);
    int ok = 0;
    for (int i = 0; i < 250 && !ok; i++) {
        GET("/metrics", NULL, &r);
        ok = strstr(r.body, "attribd_results_written 1\n") != NULL;
        if (!ok) usleep(20000);
    }
    CHECK(ok);
    CHECK_EQ_INT(ts_stop(&S, SIGTERM), 0);

    char logdir[4200];
    snprintf(logdir, sizeof logdir, "%s/log", S.data);
    atd_log_options lo = {.dir = logdir};
    atd_log *log;
    CHECK_EQ_INT(atd_log_open("file", &lo, &log), 0);
    seen s = {0};
    uint64_t start, end, durable;
    CHECK_EQ_INT(atd_log_offsets(log, ATD_TOPIC_RESULTS, 0, &start, &end, &durable), 0);
    CHECK_EQ_INT(end, 4); /* install d1, install d2, inapp, session */
    CHECK_EQ_INT(atd_log_read(log, ATD_TOPIC_RESULTS, 0, 0, 100, on_result, &s), 4);
    CHECK_EQ_INT(s.installs, 2);
    CHECK_EQ_INT(s.inapps, 1);
    CHECK_EQ_INT(s.non_organic, 3); /* install d1, its inapp and its session */
    CHECK_STR(s.inapp_currency, "EUR");
    atd_log_close(log);
}

/* --role ingest logs events without deciding them; --role attribution (no HTTP) decides them. */
static void test_roles(void)
{
    test_server R;
    ts_init(&R, "serve-roles", CONFIG);
    R.port = atd_test_free_port();
    snprintf(R.base, sizeof R.base, "http://127.0.0.1:%d", R.port);
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", R.port);
    char *ingest[] = {"attribd", "serve", "--role", "ingest", "--config", R.config,
                      "--listen", listen, "--data-dir", R.data, NULL};
    R.pid = atd_test_spawn(ingest, R.logfile);
    CHECK_EQ_INT(atd_test_wait_port(R.port, 10000), 0);
    http_resp r;
    CHECK_EQ_INT(ts_post(&R, "/v1/events/com.e2e.app", "{\"type\":\"install\",\"device_id\":\"x\"}",
                         KEY, &r),
                 200);
    CHECK_EQ_INT(ts_get(&R, "/v1/conversion/com.e2e.app/x", KEY, &r), 503); /* no engine here */
    CHECK_EQ_INT(ts_stop(&R, SIGTERM), 0);
    char kvdir[4200];
    snprintf(kvdir, sizeof kvdir, "%s/kv", R.data);
    CHECK(access(kvdir, F_OK) != 0); /* nothing was decided */

    char *attribution[] = {"attribd", "serve", "--role", "attribution", "--config", R.config,
                           "--data-dir", R.data, NULL};
    char logdir[4200];
    snprintf(logdir, sizeof logdir, "%s/log", R.data);
    /* no HTTP to ask: run it, stop it, look at `results`; again (longer) until it is there */
    uint64_t start, end = 0, durable;
    for (int round = 1; round <= 10 && end == 0; round++) {
        atd_test_write_file(R.logfile, "");
        R.pid = atd_test_spawn(attribution, R.logfile);
        /* SIGTERM only once it is up (before, the signal would simply kill it) */
        int up = 0;
        for (int i = 0; i < 1000 && !up; i++) {
            char *out = atd_test_read_file(R.logfile, NULL);
            up = out && strstr(out, "serve: started");
            free(out);
            if (!up) usleep(10000);
        }
        CHECK(up);
        usleep(200000 * round);
        CHECK_EQ_INT(ts_stop(&R, SIGTERM), 0);
        atd_log_options lo = {.dir = logdir};
        atd_log *log;
        CHECK_EQ_INT(atd_log_open("file", &lo, &log), 0);
        atd_log_offsets(log, ATD_TOPIC_RESULTS, 0, &start, &end, &durable);
        atd_log_close(log);
    }
    CHECK_EQ_INT(end, 1);
    ts_free(&R);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    ts_init(&S, "serve-attr", CONFIG);
    if (ts_start(&S) != 0) return 1;
    RUN(test_attribution_flow);
    RUN(test_results_topic_after_restart);
    RUN(test_roles);
    ts_free(&S);
    curl_global_cleanup();
    return atd_test_done();
}
