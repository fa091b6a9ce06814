/* The engine through its API: the device lifecycle of §6 (installs, reinstalls,
 * re-attributions, sessions, re-engagements, in-app events, unknown devices), the §7 result
 * shapes, the protobuf codec, and batching (the write-behind cache) changing nothing. */
#include "engine_test_util.h"

static const char *cfg_default = "apps:\n  a1:\n";

static void ev_app(tenv *t, const char *type, const char *dev, long long ts, const char *adid)
{
    if (adid)
        feed(t, "{\"type\":\"%s\",\"ts\":%lld,\"app_id\":\"a1\",\"device_id\":\"%s\","
                "\"advertising_id\":\"%s\"}",
             type, ts, dev, adid);
    else
        feed(t, "{\"type\":\"%s\",\"ts\":%lld,\"app_id\":\"a1\",\"device_id\":\"%s\"}", type, ts,
             dev);
}

static void touch(tenv *t, const char *type, const char *ms, long long ts, const char *adid,
                  int retargeting)
{
    CHECK_STR(feed(t, "{\"type\":\"%s\",\"ts\":%lld,\"app_id\":\"a1\",\"media_source\":\"%s\","
                      "\"advertising_id\":\"%s\",\"is_retargeting\":%s}",
                   type, ts, ms, adid, retargeting ? "true" : "false"),
              "");
}

static void test_unknown_and_inapp(void)
{
    tenv t;
    tenv_open(&t, cfg_default, 0);
    ev_app(&t, "session", "nobody", T0, "u");
    CHECK_STR(type_of(&t), "session");
    CHECK_STR(attr_of(&t), "unknown");
    char want[1024];
    snprintf(want, sizeof want,
             "{\"event_type\":\"session\",\"app_id\":\"a1\",\"device_id\":\"nobody\",\"ts\":%lld,"
             "\"install_ts\":null,\"attribution\":{\"status\":\"unknown\",\"media_source\":null,"
             "\"campaign\":null,\"campaign_id\":null,\"adset\":null,\"ad\":null,\"site_id\":null,"
             "\"channel\":null,\"click_id\":null,\"touch_type\":null,\"touch_ts\":null,"
             "\"match_type\":null},\"retargeting\":null,\"contributors\":[],\"fraud\":null}",
             T0);
    CHECK_STR(t.json.p, want);
    feed(&t, "{\"type\":\"inapp\",\"ts\":%lld,\"app_id\":\"a1\",\"device_id\":\"nobody\","
             "\"event_name\":\"purchase\",\"revenue\":4.99,\"currency\":\"eur\"}",
         T0);
    CHECK_STR(type_of(&t), "inapp");
    CHECK_HAS(t.json.p, "\"install_ts\":null,\"attribution\":{\"status\":\"unknown\"");
    CHECK_HAS(t.json.p, "\"fraud\":null,\"event_name\":\"purchase\",\"revenue\":4.99,"
                        "\"currency\":\"EUR\"}");
    /* it created no state: a later install is a first install */
    touch(&t, "click", "netA", T0 + HOUR, "u", 0);
    ev_app(&t, "install", "nobody", T0 + 2 * HOUR, "u");
    CHECK_STR(type_of(&t), "install");
    CHECK_STR(attr_of(&t), "netA");
    feed(&t, "{\"type\":\"inapp\",\"ts\":%lld,\"app_id\":\"a1\",\"device_id\":\"nobody\","
             "\"event_name\":\"level\"}",
         T0 + 3 * HOUR);
    CHECK_STR(attr_of(&t), "netA");
    CHECK_EQ_INT(t.res.install_ts, T0 + 2 * HOUR);
    CHECK_HAS(t.json.p, "\"event_name\":\"level\",\"revenue\":null,\"currency\":\"USD\"}");
    feed(&t, "{\"type\":\"inapp\",\"ts\":%lld,\"app_id\":\"a1\",\"device_id\":\"nobody\","
             "\"event_name\":\"level\",\"currency\":\"\",\"revenue\":0}",
         T0 + 3 * HOUR);
    CHECK_HAS(t.json.p, "\"revenue\":0,\"currency\":\"USD\"}");
    /* sessions keep the acquisition attribution, no contributors, no fraud */
    ev_app(&t, "session", "nobody", T0 + 4 * HOUR, NULL);
    CHECK_STR(type_of(&t), "session");
    CHECK_STR(attr_of(&t), "netA");
    CHECK_HAS(t.json.p, "\"retargeting\":null,\"contributors\":[],\"fraud\":null}");
    tenv_close(&t);
}

static void test_reinstall_and_retargeting(void)
{
    tenv t;
    tenv_open(&t, cfg_default, 0);
    touch(&t, "click", "netA", T0 - HOUR, "r", 0);
    ev_app(&t, "install", "dR", T0, "r");
    CHECK_STR(attr_of(&t), "netA");
    /* a retargeting click never wins an install... */
    touch(&t, "click", "netR", T0 + DAY, "r", 1);
    ev_app(&t, "install", "dR", T0 + 2 * DAY, "r");
    /* ...but re-attributes a reinstall */
    CHECK_STR(type_of(&t), "re-attribution");
    CHECK_STR(attr_of(&t), "netA");
    CHECK_EQ_INT(t.res.install_ts, T0);
    CHECK_STR(rt_of(&t), "netR");
    CHECK_HAS(t.json.p, "\"retargeting\":{\"status\":\"non_organic\",\"media_source\":\"netR\"");
    CHECK_HAS(t.json.p, "\"touch_type\":\"click\",\"touch_ts\":");
    /* the window is open for 30 days from the re-attribution */
    ev_app(&t, "session", "dR", T0 + 3 * DAY, "r");
    CHECK_STR(type_of(&t), "session");
    CHECK_STR(rt_of(&t), "netR");
    feed(&t, "{\"type\":\"inapp\",\"ts\":%lld,\"app_id\":\"a1\",\"device_id\":\"dR\","
             "\"event_name\":\"buy\"}",
         T0 + 32 * DAY);
    CHECK_STR(rt_of(&t), "netR"); /* exactly window_start + 30d */
    CHECK_STR(attr_of(&t), "netA");
    feed(&t, "{\"type\":\"inapp\",\"ts\":%lld,\"app_id\":\"a1\",\"device_id\":\"dR\","
             "\"event_name\":\"buy\"}",
         T0 + 32 * DAY + 1);
    CHECK_STR(rt_of(&t), "null");
    feed(&t, "{\"type\":\"inapp\",\"ts\":%lld,\"app_id\":\"a1\",\"device_id\":\"dR\","
             "\"event_name\":\"buy\"}",
         T0 + 2 * DAY - 1); /* before the window started */
    CHECK_STR(rt_of(&t), "null");
    /* the used touch does not re-attribute again: a plain reinstall, the window stays */
    ev_app(&t, "install", "dR", T0 + 4 * DAY, "r");
    CHECK_STR(type_of(&t), "reinstall");
    CHECK_STR(rt_of(&t), "netR");
    CHECK_EQ_INT(t.res.n_contributors, 0);
    /* a session re-engages with a new retargeting click (ctit does not apply to sessions) */
    touch(&t, "click", "netS", T0 + 5 * DAY, "r", 1);
    ev_app(&t, "session", "dR", T0 + 5 * DAY + SEC, "r");
    CHECK_STR(type_of(&t), "re-engagement");
    CHECK_STR(rt_of(&t), "netS");
    CHECK_STR(attr_of(&t), "netA");
    /* retargeting impressions and non-retargeting clicks never re-engage */
    touch(&t, "impression", "netI", T0 + 6 * DAY, "r", 1);
    touch(&t, "click", "netN", T0 + 6 * DAY, "r", 0);
    ev_app(&t, "session", "dR", T0 + 6 * DAY + HOUR, "r");
    CHECK_STR(type_of(&t), "session");
    CHECK_STR(rt_of(&t), "netS");
    /* the touch is used for every device of the app */
    touch(&t, "click", "netT", T0 + 7 * DAY, "r", 1);
    touch(&t, "click", "netA", T0 - HOUR, "r2", 0);
    ev_app(&t, "install", "dR2", T0, "r2");
    ev_app(&t, "session", "dR2", T0 + 7 * DAY + HOUR, "r");
    CHECK_STR(type_of(&t), "re-engagement");
    CHECK_STR(rt_of(&t), "netT");
    ev_app(&t, "session", "dR", T0 + 7 * DAY + 2 * HOUR, "r");
    CHECK_STR(type_of(&t), "session");
    CHECK_STR(rt_of(&t), "netS");
    /* a reinstall: ctit applies (a retargeting click 5 s before is blocked) */
    touch(&t, "click", "netU", T0 + 8 * DAY - 5 * SEC, "r", 1);
    ev_app(&t, "install", "dR", T0 + 8 * DAY, "r");
    CHECK_STR(type_of(&t), "reinstall");
    CHECK(t.res.fraud_reason == NULL); /* only installs carry fraud records */
    /* the blocked click is still unused: a session later takes it */
    ev_app(&t, "session", "dR", T0 + 8 * DAY + MIN, "r");
    CHECK_STR(type_of(&t), "re-engagement");
    CHECK_STR(rt_of(&t), "netU");
    /* after the reattribution window (90 d): a new install, state starts over */
    ev_app(&t, "install", "dR", T0 + 91 * DAY, "r");
    CHECK_STR(type_of(&t), "install");
    CHECK_STR(attr_of(&t), "organic");
    CHECK_EQ_INT(t.res.install_ts, T0 + 91 * DAY);
    CHECK_STR(rt_of(&t), "null");
    ev_app(&t, "session", "dR", T0 + 91 * DAY + HOUR, "r");
    CHECK_STR(rt_of(&t), "null");
    CHECK_STR(attr_of(&t), "organic");
    /* retargeting clicks before install_ts do not count */
    touch(&t, "click", "netQ", T0 + 91 * DAY - HOUR, "r", 1);
    touch(&t, "click", "netQ2", T0 + 91 * DAY, "r", 1); /* tt == install_ts: not after it */
    ev_app(&t, "session", "dR", T0 + 91 * DAY + 2 * HOUR, "r");
    CHECK_STR(type_of(&t), "session");
    /* exactly the reattribution window: still a reinstall */
    ev_app(&t, "install", "dR", T0 + 181 * DAY, "r");
    CHECK_STR(type_of(&t), "reinstall");
    CHECK_EQ_INT(t.res.install_ts, T0 + 91 * DAY);
    tenv_close(&t);
}

static void test_inactivity(void)
{
    tenv t;
    tenv_open(&t, "apps:\n  a1:\n    inactivity_period: 2d\n", 0);
    ev_app(&t, "install", "d", T0, "i");
    ev_app(&t, "session", "d", T0 + DAY, "i");
    /* activity at T0+1d is within [tt - 2d, tt): not inactive enough */
    touch(&t, "click", "netR", T0 + 2 * DAY, "i", 1);
    ev_app(&t, "session", "d", T0 + 2 * DAY + HOUR, "i");
    CHECK_STR(type_of(&t), "session");
    /* idle for long enough: re-engages */
    touch(&t, "click", "netS", T0 + 10 * DAY, "i", 1);
    ev_app(&t, "session", "d", T0 + 10 * DAY + MIN, "i");
    CHECK_STR(type_of(&t), "re-engagement");
    CHECK_STR(rt_of(&t), "netS");
    /* activity exactly at tt - P counts */
    ev_app(&t, "session", "d", T0 + 20 * DAY, "i");
    touch(&t, "click", "netU", T0 + 22 * DAY, "i", 1);
    ev_app(&t, "session", "d", T0 + 22 * DAY + MIN, "i");
    CHECK_STR(type_of(&t), "session");
    /* activity exactly at tt does not */
    ev_app(&t, "session", "d", T0 + 40 * DAY, "i");
    touch(&t, "click", "netW", T0 + 40 * DAY, "i", 1);
    ev_app(&t, "session", "d", T0 + 40 * DAY + SEC, "i");
    CHECK_STR(type_of(&t), "re-engagement");
    CHECK_STR(rt_of(&t), "netW");
    /* in-app events are no activity */
    feed(&t, "{\"type\":\"inapp\",\"ts\":%lld,\"app_id\":\"a1\",\"device_id\":\"d\","
             "\"event_name\":\"x\"}",
         T0 + 50 * DAY);
    touch(&t, "click", "netX", T0 + 51 * DAY, "i", 1);
    ev_app(&t, "session", "d", T0 + 51 * DAY + SEC, "i");
    CHECK_STR(type_of(&t), "re-engagement");
    CHECK_STR(rt_of(&t), "netX");
    /* a reinstall is not subject to the inactivity rule */
    touch(&t, "click", "netY", T0 + 51 * DAY + HOUR, "i", 1);
    ev_app(&t, "install", "d", T0 + 51 * DAY + 2 * HOUR, "i");
    CHECK_STR(type_of(&t), "re-attribution");
    CHECK_STR(rt_of(&t), "netY");
    /* the inactivity filter comes before choosing the newest: a newer click with activity in
     * its period loses to an older idle one (the activity at T0+64d is logged first, with a
     * ts after the older click) */
    ev_app(&t, "session", "d", T0 + 60 * DAY, "i");
    ev_app(&t, "session", "d", T0 + 64 * DAY, "i");
    touch(&t, "click", "netOld", T0 + 63 * DAY, "i", 1);
    touch(&t, "click", "netNew", T0 + 65 * DAY, "i", 1);
    ev_app(&t, "session", "d", T0 + 65 * DAY + HOUR, "i");
    CHECK_STR(type_of(&t), "re-engagement");
    CHECK_STR(rt_of(&t), "netOld");
    tenv_close(&t);
}

static void test_protobuf_roundtrip(void)
{
    tenv t;
    tenv_open(&t, "apps:\n  a1:\n    blocked_sites: [\"netZ/s\"]\n", 0);
    touch(&t, "click", "netA", T0 - HOUR, "p", 0);
    touch(&t, "impression", "netB", T0 - 2 * HOUR, "p", 0);
    feed(&t, "{\"type\":\"click\",\"ts\":%lld,\"app_id\":\"a1\",\"media_source\":\"netZ\","
             "\"site_id\":\"s\",\"advertising_id\":\"p\",\"campaign\":\"c\\\"q\"}",
         T0 - MIN);
    ev_app(&t, "install", "dp", T0, "p");
    CHECK_STR(t.res.fraud_reason, "site_blocked");
    char *json1 = strdup(t.json.p);
    atd_buf pb;
    atd_buf_init(&pb);
    t.res.source_partition = 3;
    t.res.source_offset = 12345;
    atd_result_encode(&t.res, &pb);
    atd_result back;
    CHECK_EQ_INT(atd_result_decode((const uint8_t *)pb.p, pb.n, &t.arena, &back), 0);
    atd_buf j2;
    atd_buf_init(&j2);
    atd_result_to_json(&back, &j2);
    atd_buf_putc(&j2, 0);
    CHECK_STR(j2.p, json1);
    CHECK_EQ_INT(back.source_partition, 3);
    CHECK_EQ_INT(back.source_offset, 12345);
    /* in-app with revenue */
    feed(&t, "{\"type\":\"inapp\",\"ts\":%lld,\"app_id\":\"a1\",\"device_id\":\"dp\","
             "\"event_name\":\"buy\",\"revenue\":0.1,\"currency\":\"jpy\",\"event_id\":\"e1\"}",
         T0 + 1);
    free(json1);
    json1 = strdup(t.json.p);
    pb.n = 0;
    atd_result_encode(&t.res, &pb);
    CHECK_EQ_INT(atd_result_decode((const uint8_t *)pb.p, pb.n, &t.arena, &back), 0);
    j2.n = 0;
    atd_result_to_json(&back, &j2);
    atd_buf_putc(&j2, 0);
    CHECK_STR(j2.p, json1);
    CHECK_STR(cs(&t, back.event_id), "e1");
    /* garbage does not decode */
    CHECK(atd_result_decode((const uint8_t *)"\xff\xff\xff", 3, &t.arena, &back) < 0);
    free(json1);
    atd_buf_free(&pb);
    atd_buf_free(&j2);
    tenv_close(&t);
}

/* A pseudo-random mix of events run twice, straight through and batched: same lines. */
static void run_mix(int batch, atd_buf *all)
{
    tenv t;
    tenv_open(&t, "apps:\n  a1:\n    click_cap: 2\n    inactivity_period: 1d\n", batch);
    uint64_t x = 42;
    static const char *srcs[] = {"n1", "n2", "n3", "n4"};
    for (int i = 0; i < 3000; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        unsigned r = (unsigned)(x >> 33);
        long long ts = T0 + (long long)i * 2 * MIN + (long long)(r % 7) * MIN;
        int dev = (int)(r % 300), kind = (int)((r >> 8) % 10);
        char adid[16];
        snprintf(adid, sizeof adid, "ad%d", dev % 40);
        const char *j;
        if (kind < 4)
            j = feed(&t, "{\"type\":\"click\",\"ts\":%lld,\"app_id\":\"a1\",\"media_source\":\"%s\","
                         "\"advertising_id\":\"%s\",\"is_retargeting\":%s,\"ip\":\"10.0.0.%d\","
                         "\"user_agent\":\"X (Android 1%d; M)\"}",
                     ts, srcs[(r >> 12) % 4], adid, (r >> 16) % 5 == 0 ? "true" : "false",
                     dev % 7, dev % 3);
        else if (kind < 5)
            j = feed(&t, "{\"type\":\"impression\",\"ts\":%lld,\"app_id\":\"a1\","
                         "\"media_source\":\"%s\",\"ip\":\"10.0.0.%d\","
                         "\"user_agent\":\"X (Android 1%d; M)\"}",
                     ts, srcs[(r >> 12) % 4], dev % 7, dev % 3);
        else if (kind < 7)
            j = feed(&t, "{\"type\":\"install\",\"ts\":%lld,\"app_id\":\"a1\",\"device_id\":\"d%d\","
                         "\"advertising_id\":\"%s\",\"ip\":\"10.0.0.%d\","
                         "\"user_agent\":\"X (Android 1%d; M)\"}",
                     ts, dev, (r >> 20) % 3 ? adid : "0000", dev % 7, dev % 3);
        else if (kind < 9)
            j = feed(&t, "{\"type\":\"session\",\"ts\":%lld,\"app_id\":\"a1\",\"device_id\":\"d%d\","
                         "\"advertising_id\":\"%s\"}",
                     ts, dev, adid);
        else
            j = feed(&t, "{\"type\":\"inapp\",\"ts\":%lld,\"app_id\":\"a1\",\"device_id\":\"d%d\","
                         "\"event_name\":\"e\",\"revenue\":%u.5}",
                     ts, dev, r % 100);
        atd_buf_puts(all, j);
        atd_buf_putc(all, '\n');
    }
    tenv_close(&t);
}

static void test_batch_same_results(void)
{
    atd_buf a, b;
    atd_buf_init(&a);
    atd_buf_init(&b);
    run_mix(0, &a);
    run_mix(1, &b);
    CHECK(a.n > 100000);
    CHECK(a.n == b.n && memcmp(a.p, b.p, a.n) == 0);
    /* the mix exercises every outcome */
    CHECK(strstr(a.p, "\"re-engagement\"") != NULL);
    CHECK(strstr(a.p, "\"re-attribution\"") != NULL);
    CHECK(strstr(a.p, "\"probabilistic\"") != NULL);
    CHECK(strstr(a.p, "\"click_flood\"") != NULL);
    CHECK(strstr(a.p, "ERROR") == NULL);
    atd_buf_free(&a);
    atd_buf_free(&b);
}

int main(void)
{
    RUN(test_unknown_and_inapp);
    RUN(test_reinstall_and_retargeting);
    RUN(test_inactivity);
    RUN(test_protobuf_roundtrip);
    RUN(test_batch_same_results);
    return atd_test_done();
}
