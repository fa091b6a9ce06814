/* The HTTP ingest server end to end: the real binary, real HTTP over loopback (libcurl), every
 * endpoint and error, then the log read back with the log API: exactly the acknowledged events
 * are there, with the right fields. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "http_test_util.h"

static const char *CONFIG =
    "server:\n"
    "  threads: 2\n"
    "  max_body: 4096\n"
    "  max_header_bytes: 2048\n"
    "apps:\n"
    "  app.keyed:\n"
    "    sdk_key: \"k1\"\n"
    "    store_url: \"https://store.example/app.keyed\"\n"
    "  app.open:\n"
    "    click_lookback: 7d\n";

static test_server S;

/* What the log must hold at the end, filled as requests get 2xx. */
static int expect_clicks, expect_impressions, expect_installs, expect_sessions, expect_inapps;

static long GET(const char *path, const char *const *headers, http_resp *r)
{
    return ts_get(&S, path, headers, r);
}

static long POST(const char *path, const char *body, const char *const *headers, http_resp *r)
{
    return ts_post(&S, path, body, headers, r);
}

/* The value of one series in a /metrics text, or -1 when absent. */
static double metric(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; (p = strstr(p, series)); p += n)
        if ((p == text || p[-1] == '\n') && p[n] == ' ') return atof(p + n + 1);
    return -1;
}

static void test_healthz(void)
{
    http_resp r;
    CHECK_EQ_INT(GET("/healthz", NULL, &r), 200);
    CHECK_STR(r.body, "{\"status\":\"ok\"}");
    CHECK(strstr(r.content_type, "application/json") != NULL);
    char url[256];
    snprintf(url, sizeof url, "%s/healthz", S.base);
    CHECK_EQ_INT(http_do("DELETE", url, NULL, 0, NULL, &r), 405);
}

static void test_clicks(void)
{
    http_resp r;
    const char *ua[] = {"User-Agent: TestUA/1.0 (Linux; Android 13; Pixel 7)", NULL};
    /* af_r wins over store_url; parameters are percent-decoded */
    CHECK_EQ_INT(GET("/c/app.keyed?pid=net_a&c=camp%201&af_c_id=cid1&af_adset=set+a&"
                     "af_adset_id=sid&af_ad=ad1&af_ad_id=adid&af_siteid=site1&af_channel=ch&"
                     "clickid=ck1&idfa=ABCD-EF01&is_retargeting=true&af_click_lookback=2d&"
                     "deep_link_value=dl%2Fx&af_cost_value=0.25&af_cost_currency=USD&"
                     "unknown=zzz&af_r=https%3A%2F%2Fland.example%2Fp%3Fx%3D1",
                     ua, &r),
                 302);
    CHECK_STR(r.location, "https://land.example/p?x=1");
    expect_clicks++;
    /* no af_r: the app's store_url */
    CHECK_EQ_INT(GET("/c/app.keyed?pid=net_b&clickid=ck2", NULL, &r), 302);
    CHECK_STR(r.location, "https://store.example/app.keyed");
    expect_clicks++;
    /* no store_url: 204 */
    CHECK_EQ_INT(GET("/c/app.open?pid=net_c&clickid=ck3&gaid=0000-0000", NULL, &r), 204);
    CHECK_STR(r.location, "");
    expect_clicks++;
    /* an af_r that is not an http(s) URL is not followed */
    CHECK_EQ_INT(GET("/c/app.open?pid=net_c&clickid=ck4&af_r=javascript%3Aalert(1)", NULL, &r),
                 204);
    expect_clicks++;
    CHECK_EQ_INT(GET("/c/app.keyed?pid=net_c&clickid=ck5&af_r=https%3A%2F%2Fa%0D%0AX-Evil%3A1",
                     NULL, &r),
                 302);
    CHECK_STR(r.location, "https://store.example/app.keyed");
    expect_clicks++;
    /* impressions answer 204 */
    CHECK_EQ_INT(GET("/i/app.keyed?pid=net_a&c=camp1&af_viewthrough_lookback=12h", ua, &r), 204);
    expect_impressions++;

    /* errors: nothing logged */
    CHECK_EQ_INT(GET("/c/app.keyed?c=nopid&clickid=bad1", NULL, &r), 400);
    CHECK(strstr(r.body, "\"field\":\"media_source\"") != NULL);
    CHECK(strstr(r.content_type, "application/json") != NULL);
    CHECK_EQ_INT(GET("/c/no.such.app?pid=x", NULL, &r), 404);
    CHECK(strstr(r.body, "\"error\"") != NULL);
    CHECK_EQ_INT(GET("/i/app.keyed", NULL, &r), 400);
    char url[256];
    snprintf(url, sizeof url, "%s/c/app.keyed?pid=x", S.base);
    CHECK_EQ_INT(http_do("POST", url, "x", 1, NULL, &r), 405);
    CHECK_EQ_INT(http_do("HEAD", url, NULL, 0, NULL, &r), 405); /* a HEAD is not a click */
    CHECK_EQ_INT(GET("/c/app.keyed/extra?pid=x", NULL, &r), 404);
    CHECK_EQ_INT(GET("/nothing/here", NULL, &r), 404);
    CHECK(strstr(r.body, "\"error\"") != NULL);
}

static void test_sdk(void)
{
    http_resp r;
    const char *key[] = {"X-Sdk-Key: k1", "User-Agent: SdkUA/2", NULL};
    const char *badkey[] = {"X-Sdk-Key: nope", NULL};
    const char *install = "{\"type\":\"install\",\"device_id\":\"dev1\",\"event_id\":\"e1\","
                          "\"platform\":\"android\",\"os_version\":\"13\"}";
    CHECK_EQ_INT(POST("/v1/events/app.keyed", install, NULL, &r), 401);
    CHECK(strstr(r.body, "\"error\"") != NULL);
    CHECK_EQ_INT(POST("/v1/events/app.keyed", install, badkey, &r), 401);
    CHECK_EQ_INT(POST("/v1/events/app.keyed", install, key, &r), 200);
    CHECK_STR(r.body, "{\"accepted\":1}");
    expect_installs++;
    /* no key configured: none needed; the body's ip wins over the peer */
    CHECK_EQ_INT(POST("/v1/events/app.open",
                      "{\"type\":\"session\",\"device_id\":\"dev2\",\"event_id\":\"e2\","
                      "\"ip\":\"::ffff:10.1.2.3\",\"user_agent\":\"BodyUA\"}",
                      NULL, &r),
                 200);
    expect_sessions++;
    /* a pretty-printed single object */
    CHECK_EQ_INT(POST("/v1/events/app.open",
                      "{\n  \"type\": \"session\",\n  \"device_id\": \"dev3\",\n"
                      "  \"event_id\": \"e3\"\n}\n",
                      NULL, &r),
                 200);
    expect_sessions++;
    /* NDJSON with a blank line */
    CHECK_EQ_INT(POST("/v1/events/app.keyed",
                      "{\"type\":\"session\",\"device_id\":\"dev1\",\"event_id\":\"e4\"}\n"
                      "\n"
                      "{\"type\":\"inapp\",\"device_id\":\"dev1\",\"event_id\":\"e5\","
                      "\"event_name\":\"purchase\",\"revenue\":4.5,\"currency\":\"EUR\"}\r\n"
                      "{\"type\":\"session\",\"device_id\":\"dev1\",\"event_id\":\"e6\"}\n",
                      key, &r),
                 200);
    CHECK_STR(r.body, "{\"accepted\":3}");
    expect_sessions += 2;
    expect_inapps++;
    /* all or nothing: line 3 is bad, so lines 1-2 are not logged either */
    CHECK_EQ_INT(POST("/v1/events/app.keyed",
                      "{\"type\":\"session\",\"device_id\":\"dev1\",\"event_id\":\"bad-1\"}\n"
                      "{\"type\":\"session\",\"device_id\":\"dev1\",\"event_id\":\"bad-2\"}\n"
                      "{\"type\":\"inapp\",\"device_id\":\"dev1\",\"event_id\":\"bad-3\"}\n",
                      key, &r),
                 400);
    CHECK(strstr(r.body, "\"field\":\"event_name\"") != NULL);
    CHECK(strstr(r.body, "\"line\":3") != NULL);
    /* touches do not go through the SDK route */
    CHECK_EQ_INT(POST("/v1/events/app.keyed", "{\"type\":\"click\",\"media_source\":\"x\"}",
                      key, &r),
                 400);
    CHECK(strstr(r.body, "\"field\":\"type\"") != NULL);
    CHECK_EQ_INT(POST("/v1/events/app.keyed", "{\"type\":\"install\"}", key, &r), 400);
    CHECK(strstr(r.body, "\"field\":\"device_id\"") != NULL);
    CHECK(strstr(r.body, "\"line\":1") != NULL);
    CHECK_EQ_INT(POST("/v1/events/app.keyed", "not json", key, &r), 400);
    CHECK_EQ_INT(POST("/v1/events/app.keyed", "", key, &r), 400);
    CHECK(strstr(r.body, "\"field\":\"body\"") != NULL);
    CHECK_EQ_INT(POST("/v1/events/nope", install, key, &r), 404);
    /* another app in the body than in the URL */
    CHECK_EQ_INT(POST("/v1/events/app.keyed",
                      "{\"type\":\"install\",\"device_id\":\"d\",\"app_id\":\"app.open\"}", key,
                      &r),
                 400);
    CHECK(strstr(r.body, "\"field\":\"app_id\"") != NULL);
    /* over max_body (4096): 413 */
    char big[6000];
    memset(big, ' ', sizeof big - 1);
    big[sizeof big - 1] = 0;
    memcpy(big, install, strlen(install));
    CHECK_EQ_INT(POST("/v1/events/app.keyed", big, key, &r), 413);
    char url[256];
    snprintf(url, sizeof url, "%s/v1/events/app.keyed", S.base);
    CHECK_EQ_INT(http_do("GET", url, NULL, 0, NULL, &r), 405);
    /* headers over max_header_bytes (2048): 431 */
    char hdr[3000];
    snprintf(hdr, sizeof hdr, "X-Pad: %02900d", 0);
    const char *huge[] = {"X-Sdk-Key: k1", hdr, NULL};
    CHECK_EQ_INT(POST("/v1/events/app.keyed", install, huge, &r), 431);
}

static void test_s2s(void)
{
    http_resp r;
    const char *auth[] = {"authentication: k1", NULL};
    const char *body =
        "{\"appsflyer_id\":\"af-dev-9\",\"eventName\":\"af_purchase\","
        "\"eventValue\":\"{\\\"af_revenue\\\":\\\"9.99\\\",\\\"sku\\\":\\\"x1\\\"}\","
        "\"eventCurrency\":\"EUR\",\"eventTime\":\"2024-01-01 10:00:00.000\","
        "\"advertising_id\":\"GAID-ABC\",\"ip\":\"1.2.3.4\",\"customer_user_id\":\"cu1\"}";
    CHECK_EQ_INT(POST("/inappevent/app.keyed", body, NULL, &r), 401);
    CHECK_EQ_INT(POST("/inappevent/app.keyed", body, auth, &r), 200);
    CHECK_STR(r.body, "{\"accepted\":1}");
    expect_inapps++;
    /* eventValue as an object, numeric revenue */
    CHECK_EQ_INT(POST("/inappevent/app.open",
                      "{\"appsflyer_id\":\"af-dev-10\",\"eventName\":\"lvl\","
                      "\"eventValue\":{\"af_revenue\":2,\"level\":3}}",
                      NULL, &r),
                 200);
    expect_inapps++;
    CHECK_EQ_INT(POST("/inappevent/app.open", "{\"eventName\":\"lvl\"}", NULL, &r), 400);
    CHECK(strstr(r.body, "\"field\":\"appsflyer_id\"") != NULL);
    CHECK_EQ_INT(POST("/inappevent/app.open", "{\"appsflyer_id\":\"x\"}", NULL, &r), 400);
    CHECK(strstr(r.body, "\"field\":\"eventName\"") != NULL);
    CHECK_EQ_INT(POST("/inappevent/app.open", "[1,2]", NULL, &r), 400);
    CHECK_EQ_INT(POST("/inappevent/app.open",
                      "{\"appsflyer_id\":\"x\",\"eventName\":\"e\",\"eventValue\":\"{bad\"}", NULL,
                      &r),
                 400);
    CHECK(strstr(r.body, "\"field\":\"eventValue\"") != NULL);
    CHECK_EQ_INT(POST("/inappevent/none", "{}", NULL, &r), 404);
}

static void test_metrics(void)
{
    http_resp r;
    CHECK_EQ_INT(GET("/metrics", NULL, &r), 200);
    double clicks302 = metric(r.body, "attribd_http_requests_total{route=\"click\",status=\"302\"}");
    double installs = metric(r.body, "attribd_events_total{type=\"install\"}");
    CHECK(clicks302 >= 2);
    CHECK(installs >= 1);
    CHECK(metric(r.body, "attribd_rejects_total{field=\"media_source\"}") >= 1);
    CHECK(strstr(r.body, "attribd_http_request_duration_seconds_bucket{route=\"sdk\",le=") != NULL);
    CHECK(metric(r.body, "attribd_log_bytes{topic=\"events\"}") > 0);
    CHECK(strstr(r.body, "# TYPE attribd_http_requests_total counter") != NULL);

    CHECK_EQ_INT(GET("/c/app.keyed?pid=m1", NULL, &r), 302);
    const char *key[] = {"X-Sdk-Key: k1", NULL};
    CHECK_EQ_INT(POST("/v1/events/app.keyed", "{\"type\":\"install\",\"device_id\":\"m2\"}", key,
                      &r),
                 200);
    expect_clicks++;
    expect_installs++;
    CHECK_EQ_INT(GET("/metrics", NULL, &r), 200);
    CHECK(metric(r.body, "attribd_http_requests_total{route=\"click\",status=\"302\"}") ==
          clicks302 + 1);
    CHECK(metric(r.body, "attribd_events_total{type=\"install\"}") == installs + 1);
    CHECK(metric(r.body, "attribd_http_requests_total{route=\"sdk\",status=\"413\"}") >= 1);
}

/* --- the log afterwards ------------------------------------------------------------------ */

static int got_click, got_impression, got_install, got_session, got_inapp, field_errors;

#define FIELD(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            field_errors++;                                                         \
            fprintf(stderr, "  field check failed: %s (line %d)\n", #cond, __LINE__); \
        }                                                                           \
    } while (0)

static void on_event(const atd_event *ev, void *ud)
{
    int64_t now = atd_now_ms();
    FIELD(ev->ts > now - 600000 && ev->ts <= now);
    switch (ev->type) {
    case ATD_EV_CLICK:
        got_click++;
        if (str_is(ev->click_id, "ck1")) {
            FIELD(str_is(ev->app_id, "app.keyed"));
            FIELD(str_is(ev->media_source, "net_a"));
            FIELD(str_is(ev->campaign, "camp 1"));
            FIELD(str_is(ev->campaign_id, "cid1"));
            FIELD(str_is(ev->adset, "set a"));
            FIELD(str_is(ev->adset_id, "sid"));
            FIELD(str_is(ev->ad, "ad1"));
            FIELD(str_is(ev->ad_id, "adid"));
            FIELD(str_is(ev->site_id, "site1"));
            FIELD(str_is(ev->channel, "ch"));
            FIELD(str_is(ev->advertising_id, "abcd-ef01"));
            FIELD(ev->is_retargeting == 1);
            FIELD(str_is(ev->click_lookback, "2d"));
            FIELD(str_is(ev->deep_link_value, "dl/x"));
            FIELD(str_is(ev->cost_value, "0.25"));
            FIELD(str_is(ev->cost_currency, "USD"));
            FIELD(str_is(ev->ip, "127.0.0.1"));
            FIELD(str_is(ev->user_agent, "TestUA/1.0 (Linux; Android 13; Pixel 7)"));
        }
        if (str_is(ev->click_id, "ck3")) {
            FIELD(str_is(ev->app_id, "app.open"));
            FIELD(!ev->advertising_id.p); /* all zeros: limited ad tracking */
            FIELD(!ev->user_agent.p || ev->user_agent.n > 0);
        }
        FIELD(!str_is(ev->click_id, "bad1"));
        break;
    case ATD_EV_IMPRESSION:
        got_impression++;
        FIELD(str_is(ev->view_lookback, "12h"));
        break;
    case ATD_EV_INSTALL:
        got_install++;
        if (str_is(ev->event_id, "e1")) {
            FIELD(str_is(ev->device_id, "dev1"));
            FIELD(str_is(ev->platform, "android"));
            FIELD(str_is(ev->ip, "127.0.0.1"));
            FIELD(str_is(ev->user_agent, "SdkUA/2"));
        }
        break;
    case ATD_EV_SESSION:
        got_session++;
        FIELD(!ev->event_id.p || strncmp(ev->event_id.p, "bad", 3) != 0);
        if (str_is(ev->event_id, "e2")) {
            FIELD(str_is(ev->ip, "10.1.2.3"));
            FIELD(str_is(ev->user_agent, "BodyUA"));
        }
        break;
    case ATD_EV_INAPP:
        got_inapp++;
        if (str_is(ev->device_id, "af-dev-9")) {
            FIELD(str_is(ev->event_name, "af_purchase"));
            FIELD(ev->has_revenue && ev->revenue > 9.98 && ev->revenue < 10.0);
            FIELD(str_is(ev->currency, "EUR"));
            FIELD(str_is(ev->advertising_id, "gaid-abc"));
            FIELD(str_is(ev->ip, "1.2.3.4"));
            FIELD(str_is(ev->customer_user_id, "cu1"));
            FIELD(ev->event_value.p && memmem(ev->event_value.p, ev->event_value.n, "\"sku\"", 5));
        }
        if (str_is(ev->device_id, "af-dev-10")) {
            FIELD(ev->has_revenue && ev->revenue == 2);
            FIELD(ev->event_value.p && memmem(ev->event_value.p, ev->event_value.n, "level", 5));
        }
        if (str_is(ev->event_id, "e5")) FIELD(ev->has_revenue && ev->revenue == 4.5);
        break;
    default: field_errors++;
    }
}

static void test_log_contents(void)
{
    int st = ts_stop(&S, SIGTERM);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    long n = ts_read_events(S.data, on_event, NULL);
    CHECK_EQ_INT(n, expect_clicks + expect_impressions + expect_installs + expect_sessions +
                        expect_inapps);
    CHECK_EQ_INT(got_click, expect_clicks);
    CHECK_EQ_INT(got_impression, expect_impressions);
    CHECK_EQ_INT(got_install, expect_installs);
    CHECK_EQ_INT(got_session, expect_sessions);
    CHECK_EQ_INT(got_inapp, expect_inapps);
    CHECK_EQ_INT(field_errors, 0);
    char *out = atd_test_read_file(S.logfile, NULL);
    CHECK(out && strstr(out, "listening on http://127.0.0.1:") && strstr(out, "curl -X POST"));
    free(out);
}

/* --- trust_proxy and max_connections on a second server --------------------------------- */

static const char *CONFIG_PROXY = "server:\n"
                                  "  trust_proxy: true\n"
                                  "  max_connections: 3\n"
                                  "apps:\n"
                                  "  a1:\n"
                                  "    click_lookback: 1d\n";

static int proxy_ok;
static void on_proxy_event(const atd_event *ev, void *ud)
{
    if (str_is(ev->click_id, "p1") && str_is(ev->ip, "9.9.9.9")) proxy_ok++;
    if (str_is(ev->click_id, "p2") && str_is(ev->ip, "127.0.0.1")) proxy_ok++;
    if (str_is(ev->click_id, "p3") && str_is(ev->ip, "2001:db8::1")) proxy_ok++;
}

static void test_trust_proxy_and_limits(void)
{
    test_server P;
    ts_init(&P, "http-proxy", CONFIG_PROXY);
    CHECK(ts_start(&P) == 0);
    http_resp r;
    char url[256];
    const char *xff1[] = {"X-Forwarded-For: 9.9.9.9, 10.0.0.1", NULL};
    const char *xff2[] = {"X-Forwarded-For: not-an-ip", NULL};
    const char *xff3[] = {"X-Forwarded-For: 2001:DB8:0:0::1", NULL};
    snprintf(url, sizeof url, "%s/c/a1?pid=n&clickid=p1", P.base);
    CHECK_EQ_INT(http_do("GET", url, NULL, 0, xff1, &r), 204);
    snprintf(url, sizeof url, "%s/c/a1?pid=n&clickid=p2", P.base);
    CHECK_EQ_INT(http_do("GET", url, NULL, 0, xff2, &r), 204);
    snprintf(url, sizeof url, "%s/c/a1?pid=n&clickid=p3", P.base);
    CHECK_EQ_INT(http_do("GET", url, NULL, 0, xff3, &r), 204);

    /* max_connections = 3: three idle connections fill it, the fourth is closed. First let the
     * server see that curl's connections above are closed. */
    usleep(300 * 1000);
    int fds[3];
    for (int i = 0; i < 3; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(P.port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        CHECK(connect(fds[i], (struct sockaddr *)&sa, sizeof sa) == 0);
    }
    usleep(200 * 1000);
    snprintf(url, sizeof url, "%s/healthz", P.base);
    http_do("GET", url, NULL, 0, NULL, &r);
    CHECK(r.status == 0 && r.curl_error != 0);
    for (int i = 0; i < 3; i++) close(fds[i]);
    usleep(200 * 1000);
    CHECK_EQ_INT(http_do("GET", url, NULL, 0, NULL, &r), 200);
    snprintf(url, sizeof url, "%s/metrics", P.base);
    CHECK_EQ_INT(http_do("GET", url, NULL, 0, NULL, &r), 200);
    CHECK(metric(r.body, "attribd_http_connections_total{result=\"rejected_max_connections\"}") >=
          1);

    int st = ts_stop(&P, SIGINT);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK_EQ_INT(ts_read_events(P.data, on_proxy_event, NULL), 3);
    CHECK_EQ_INT(proxy_ok, 3);
    ts_free(&P);
}

/* --- a log that cannot write: 503, and nothing 503'd is acknowledged ------------------- */

static char acked_ids[4000];
static int log_full_found, log_full_extra;

static void on_full_event(const atd_event *ev, void *ud)
{
    int i;
    char id[32] = "";
    if (ev->event_id.p && ev->event_id.n < sizeof id) memcpy(id, ev->event_id.p, ev->event_id.n);
    if (sscanf(id, "f%d", &i) == 1 && i >= 0 && i < 4000 && acked_ids[i])
        log_full_found++;
    else
        log_full_extra++;
}

static void test_log_full(void)
{
    test_server F;
    ts_init(&F, "http-full", "apps:\n  a1:\n    click_lookback: 1d\n");
    /* The server inherits a 64 KiB file size limit: the log's segment write fails (EFBIG) once
     * it is reached, which is how a full disk looks to the server. */
    struct rlimit old, small = {64 * 1024, 0};
    getrlimit(RLIMIT_FSIZE, &old);
    small.rlim_max = old.rlim_max;
    setrlimit(RLIMIT_FSIZE, &small);
    int started = ts_start(&F);
    setrlimit(RLIMIT_FSIZE, &old);
    CHECK(started == 0);
    char url[256], body[1024], pad[600];
    memset(pad, 'x', sizeof pad - 1);
    pad[sizeof pad - 1] = 0;
    snprintf(url, sizeof url, "%s/v1/events/a1", F.base);
    int ok = 0, unavailable = 0, other = 0;
    http_resp r;
    for (int i = 0; i < 4000 && unavailable < 20; i++) {
        snprintf(body, sizeof body,
                 "{\"type\":\"install\",\"device_id\":\"d%d\",\"event_id\":\"f%d\","
                 "\"user_agent\":\"%s\"}",
                 i, i, pad);
        long st = http_do("POST", url, body, strlen(body), NULL, &r);
        if (st == 200) {
            acked_ids[i] = 1;
            ok++;
        } else if (st == 503) {
            unavailable++;
            if (unavailable == 1) CHECK(strstr(r.body, "\"error\"") != NULL);
        } else {
            other++;
        }
    }
    CHECK(ok > 20);
    CHECK_EQ_INT(unavailable, 20);
    CHECK_EQ_INT(other, 0);
    snprintf(url, sizeof url, "%s/healthz", F.base); /* the server lives on */
    CHECK_EQ_INT(http_do("GET", url, NULL, 0, NULL, &r), 200);
    int st = ts_stop(&F, SIGTERM);
    CHECK(WIFSIGNALED(st) == 0);
    long n = ts_read_events(F.data, on_full_event, NULL);
    CHECK_EQ_INT(log_full_found, ok); /* every 200 is there */
    CHECK(n >= ok);
    ts_free(&F);
}

static void test_bad_usage(void)
{
    char *argv1[] = {"attribd", "serve", "--help", NULL};
    pid_t pid = atd_test_spawn(argv1, "/dev/null");
    int st;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    char *argv2[] = {"attribd", "serve", "--config", "/nonexistent/x.yaml", NULL};
    pid = atd_test_spawn(argv2, "/dev/null");
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    char *argv3[] = {"attribd", "serve", NULL};
    pid = atd_test_spawn(argv3, "/dev/null");
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    ts_init(&S, "http-ingest", CONFIG);
    if (ts_start(&S) != 0) {
        ts_free(&S);
        return 1;
    }
    RUN(test_healthz);
    RUN(test_clicks);
    RUN(test_sdk);
    RUN(test_s2s);
    RUN(test_metrics);
    RUN(test_log_contents);
    ts_free(&S);
    RUN(test_trust_proxy_and_limits);
    RUN(test_log_full);
    RUN(test_bad_usage);
    curl_global_cleanup();
    return atd_test_done();
}
