/* The engine through its API: §3 matching, §4 windows and blocking, §5 winner, contributors
 * and fraud records. Events are JSON lines (atd_event_parse_json), the store a real LMDB. */
#include "engine_test_util.h"

#define UA_PIXEL "Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A) Chrome/116 Mobile"
#define UA_IPHONE "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) Safari"

static const char *cfg_default = "apps:\n  a1:\n  a2:\n";

static void test_first_install_json(void)
{
    tenv t;
    tenv_open(&t, cfg_default, 0);
    CHECK_STR(feed(&t, "{\"type\":\"click\",\"ts\":%lld,\"app_id\":\"a1\",\"media_source\":\"netA\","
                       "\"campaign\":\"summer\",\"campaign_id\":\"17\",\"site_id\":\"s1\","
                       "\"click_id\":\"ck-9\",\"advertising_id\":\" ADID-1 \"}",
                  T0 - HOUR),
              "");
    char want[2048];
    snprintf(want, sizeof want,
             "{\"event_type\":\"install\",\"app_id\":\"a1\",\"device_id\":\"d-42\",\"ts\":%lld,"
             "\"install_ts\":%lld,\"attribution\":{\"status\":\"non_organic\",\"media_source\":"
             "\"netA\",\"campaign\":\"summer\",\"campaign_id\":\"17\",\"adset\":null,\"ad\":null,"
             "\"site_id\":\"s1\",\"channel\":null,\"click_id\":\"ck-9\",\"touch_type\":\"click\","
             "\"touch_ts\":%lld,\"match_type\":\"id\"},\"retargeting\":null,\"contributors\":[],"
             "\"fraud\":null}",
             T0, T0, T0 - HOUR);
    CHECK_STR(feed(&t, "{\"type\":\"install\",\"ts\":%lld,\"app_id\":\"a1\",\"device_id\":\"d-42\","
                       "\"advertising_id\":\"adid-1\"}",
                  T0),
              want);
    /* another app never sees a1's touches */
    feed(&t, "{\"type\":\"install\",\"ts\":%lld,\"app_id\":\"a2\",\"device_id\":\"d-42\","
             "\"advertising_id\":\"adid-1\"}",
         T0);
    CHECK_STR(attr_of(&t), "organic");
    CHECK_HAS(t.json.p, "\"attribution\":{\"status\":\"organic\",\"media_source\":null,"
                        "\"campaign\":null,\"campaign_id\":null,\"adset\":null,\"ad\":null,"
                        "\"site_id\":null,\"channel\":null,\"click_id\":null,\"touch_type\":null,"
                        "\"touch_ts\":null,\"match_type\":null}");
    tenv_close(&t);
}

static void click(tenv *t, const char *ms, long long ts, const char *adid)
{
    CHECK_STR(feed(t, "{\"type\":\"click\",\"ts\":%lld,\"app_id\":\"a1\",\"media_source\":\"%s\","
                      "\"advertising_id\":\"%s\"}",
                   ts, ms, adid),
              "");
}

static void impression(tenv *t, const char *ms, long long ts, const char *adid)
{
    CHECK_STR(feed(t, "{\"type\":\"impression\",\"ts\":%lld,\"app_id\":\"a1\",\"media_source\":"
                      "\"%s\",\"advertising_id\":\"%s\"}",
                   ts, ms, adid),
              "");
}

static void install(tenv *t, const char *dev, long long ts, const char *adid)
{
    feed(t, "{\"type\":\"install\",\"ts\":%lld,\"app_id\":\"a1\",\"device_id\":\"%s\","
            "\"advertising_id\":\"%s\"}",
         ts, dev, adid);
    CHECK_STR(type_of(t), "install");
}

static void test_groups_and_windows(void)
{
    tenv t;
    tenv_open(&t, cfg_default, 0);
    /* a click exactly 7 days back is in the window and beats a newer impression */
    click(&t, "netA", T0 - 7 * DAY, "a");
    impression(&t, "netB", T0 - HOUR, "a");
    install(&t, "dA", T0, "a");
    CHECK_STR(attr_of(&t), "netA");
    CHECK_EQ_INT(t.res.attribution.touch_type, ATD_EV_CLICK);
    CHECK_EQ_INT(t.res.n_contributors, 1);
    CHECK_HAS(t.json.p, "\"contributors\":[{\"media_source\":\"netB\",\"campaign\":null,"
                        "\"touch_type\":\"impression\"");
    /* one millisecond more and the click is out; an impression exactly 24 h back is in */
    click(&t, "netA", T0 - 7 * DAY - 1, "b");
    impression(&t, "netB", T0 - DAY, "b");
    install(&t, "dB", T0, "b");
    CHECK_STR(attr_of(&t), "netB");
    CHECK_EQ_INT(t.res.n_contributors, 0);
    impression(&t, "netB", T0 - DAY - 1, "b2");
    install(&t, "dB2", T0, "b2");
    CHECK_STR(attr_of(&t), "organic");
    /* a touch later than the install (ts not monotonic) is no candidate */
    click(&t, "netA", T0 + 1, "b3");
    install(&t, "dB3", T0, "b3");
    CHECK_STR(attr_of(&t), "organic");
    /* equal ts: the later in the log wins */
    click(&t, "netA", T0 - HOUR, "c");
    click(&t, "netB", T0 - HOUR, "c");
    install(&t, "dC", T0, "c");
    CHECK_STR(attr_of(&t), "netB");
    CHECK_STR(cs(&t, t.res.contributors[0].media_source), "netA");
    tenv_close(&t);
}

static void test_probabilistic(void)
{
    tenv t;
    tenv_open(&t, cfg_default, 0);
    /* a probabilistic click beats an id-matched impression */
    feed(&t, "{\"type\":\"click\",\"ts\":%lld,\"app_id\":\"a1\",\"media_source\":\"netP\","
             "\"ip\":\"1.2.3.4\",\"user_agent\":\"" UA_PIXEL "\"}",
         T0 - 2 * HOUR);
    impression(&t, "netI", T0 - HOUR, "c");
    feed(&t, "{\"type\":\"install\",\"ts\":%lld,\"app_id\":\"a1\",\"device_id\":\"dC\","
             "\"advertising_id\":\"c\",\"ip\":\"1.2.3.4\",\"platform\":\"android\","
             "\"os_version\":\"13.0.1\",\"device_model\":\" PIXEL 7\"}",
         T0);
    CHECK_STR(attr_of(&t), "netP");
    CHECK_EQ_INT(t.res.attribution.probabilistic, 1);
    CHECK_HAS(t.json.p, "\"match_type\":\"probabilistic\"");
    CHECK_EQ_INT(t.res.n_contributors, 1);
    CHECK_STR(cs(&t, t.res.contributors[0].media_source), "netI");
    CHECK_EQ_INT(t.res.contributors[0].probabilistic, 0);

    /* beyond the probabilistic window (24 h) even for a click: organic */
    feed(&t, "{\"type\":\"click\",\"ts\":%lld,\"app_id\":\"a1\",\"media_source\":\"netP\","
             "\"ip\":\"1.2.3.5\",\"user_agent\":\"" UA_PIXEL "\"}",
         T0 - 25 * HOUR);
    feed(&t, "{\"type\":\"install\",\"ts\":%lld,\"app_id\":\"a1\",\"device_id\":\"dD\","
             "\"ip\":\"1.2.3.5\",\"user_agent\":\"" UA_PIXEL "\"}",
         T0);
    CHECK_STR(attr_of(&t), "organic");

    /* the touch has an advertising id, the install none: probabilistic (ip, iOS fingerprint
     * from the fields vs the touch's user agent), and an IPv4-mapped address is the IPv4 one */
    feed(&t, "{\"type\":\"click\",\"ts\":%lld,\"app_id\":\"a1\",\"media_source\":\"netE\","
             "\"advertising_id\":\"x\",\"ip\":\"::ffff:5.6.7.8\",\"user_agent\":\"" UA_IPHONE "\"}",
         T0 - HOUR);
    feed(&t, "{\"type\":\"install\",\"ts\":%lld,\"app_id\":\"a1\",\"device_id\":\"dE\","
             "\"ip\":\"5.6.7.8\",\"platform\":\"ios\",\"os_version\":\"17.1\","
             "\"device_model\":\"iPhone15,2\"}",
         T0);
    CHECK_STR(attr_of(&t), "netE");
    CHECK_EQ_INT(t.res.attribution.probabilistic, 1);

    /* both sides have (different) advertising ids: no match at all */
    feed(&t, "{\"type\":\"click\",\"ts\":%lld,\"app_id\":\"a1\",\"media_source\":\"netF\","
             "\"advertising_id\":\"g\",\"ip\":\"9.9.9.9\",\"user_agent\":\"" UA_IPHONE "\"}",
         T0 - HOUR);
    feed(&t, "{\"type\":\"install\",\"ts\":%lld,\"app_id\":\"a1\",\"device_id\":\"dF\","
             "\"advertising_id\":\"f\",\"ip\":\"9.9.9.9\",\"user_agent\":\"" UA_IPHONE "\"}",
         T0);
    CHECK_STR(attr_of(&t), "organic");
    /* a different fingerprint (os version) or ip: no match */
    feed(&t, "{\"type\":\"click\",\"ts\":%lld,\"app_id\":\"a1\",\"media_source\":\"netG\","
             "\"ip\":\"8.8.8.8\",\"user_agent\":\"" UA_IPHONE "\"}",
         T0 - HOUR);
    feed(&t, "{\"type\":\"install\",\"ts\":%lld,\"app_id\":\"a1\",\"device_id\":\"dG\","
             "\"ip\":\"8.8.8.8\",\"platform\":\"ios\",\"os_version\":\"17.2\","
             "\"device_model\":\"iPhone\"}",
         T0);
    CHECK_STR(attr_of(&t), "organic");
    feed(&t, "{\"type\":\"install\",\"ts\":%lld,\"app_id\":\"a1\",\"device_id\":\"dG2\","
             "\"ip\":\"8.8.8.9\",\"user_agent\":\"" UA_IPHONE "\"}",
         T0);
    CHECK_STR(attr_of(&t), "organic");
    /* same ip, same fingerprint from the user agent: it matches */
    feed(&t, "{\"type\":\"install\",\"ts\":%lld,\"app_id\":\"a1\",\"device_id\":\"dG3\","
             "\"ip\":\"8.8.8.8\",\"user_agent\":\"" UA_IPHONE "\"}",
         T0);
    CHECK_STR(attr_of(&t), "netG");
    tenv_close(&t);

    /* probabilistic_window 0: off; a touch's own shorter lookback limits it */
    tenv_open(&t, "apps:\n  a1:\n    probabilistic_window: 0\n  a2:\n", 0);
    feed(&t, "{\"type\":\"click\",\"ts\":%lld,\"app_id\":\"a1\",\"media_source\":\"netP\","
             "\"ip\":\"1.2.3.4\",\"user_agent\":\"" UA_PIXEL "\"}",
         T0 - MIN);
    feed(&t, "{\"type\":\"install\",\"ts\":%lld,\"app_id\":\"a1\",\"device_id\":\"d1\","
             "\"ip\":\"1.2.3.4\",\"user_agent\":\"" UA_PIXEL "\"}",
         T0);
    CHECK_STR(attr_of(&t), "organic");
    feed(&t, "{\"type\":\"click\",\"ts\":%lld,\"app_id\":\"a2\",\"media_source\":\"netP\","
             "\"ip\":\"1.2.3.4\",\"user_agent\":\"" UA_PIXEL "\",\"click_lookback\":\"1h\"}",
         T0 - 2 * HOUR);
    feed(&t, "{\"type\":\"install\",\"ts\":%lld,\"app_id\":\"a2\",\"device_id\":\"d1\","
             "\"ip\":\"1.2.3.4\",\"user_agent\":\"" UA_PIXEL "\"}",
         T0);
    CHECK_STR(attr_of(&t), "organic");
    tenv_close(&t);
}

static void test_overrides(void)
{
    tenv t;
    tenv_open(&t, cfg_default, 0);
    feed(&t, "{\"type\":\"click\",\"ts\":%lld,\"app_id\":\"a1\",\"media_source\":\"n\","
             "\"advertising_id\":\"o1\",\"click_lookback\":\"1h\"}",
         T0 - 2 * HOUR);
    install(&t, "d1", T0, "o1");
    CHECK_STR(attr_of(&t), "organic");
    feed(&t, "{\"type\":\"click\",\"ts\":%lld,\"app_id\":\"a1\",\"media_source\":\"n\","
             "\"advertising_id\":\"o2\",\"click_lookback\":\"30d\"}",
         T0 - 20 * DAY);
    install(&t, "d2", T0, "o2");
    CHECK_STR(attr_of(&t), "n");
    /* out of range or not a duration: ignored, the app's 7d applies (and counted) */
    feed(&t, "{\"type\":\"click\",\"ts\":%lld,\"app_id\":\"a1\",\"media_source\":\"n\","
             "\"advertising_id\":\"o3\",\"click_lookback\":\"31d\"}",
         T0 - 8 * DAY);
    install(&t, "d3", T0, "o3");
    CHECK_STR(attr_of(&t), "organic");
    feed(&t, "{\"type\":\"click\",\"ts\":%lld,\"app_id\":\"a1\",\"media_source\":\"n\","
             "\"advertising_id\":\"o4\",\"click_lookback\":\"2H\"}",
         T0 - 6 * DAY);
    install(&t, "d4", T0, "o4");
    CHECK_STR(attr_of(&t), "n");
    feed(&t, "{\"type\":\"impression\",\"ts\":%lld,\"app_id\":\"a1\",\"media_source\":\"v\","
             "\"advertising_id\":\"o5\",\"view_lookback\":\"2h\"}",
         T0 - 3 * HOUR);
    install(&t, "d5", T0, "o5");
    CHECK_STR(attr_of(&t), "organic");
    feed(&t, "{\"type\":\"impression\",\"ts\":%lld,\"app_id\":\"a1\",\"media_source\":\"v\","
             "\"advertising_id\":\"o6\",\"view_lookback\":\"48h\"}",
         T0 - 20 * HOUR);
    install(&t, "d6", T0, "o6");
    CHECK_STR(attr_of(&t), "v");
    feed(&t, "{\"type\":\"impression\",\"ts\":%lld,\"app_id\":\"a1\",\"media_source\":\"v\","
             "\"advertising_id\":\"o7\",\"view_lookback\":\"0\"}",
         T0 - 20 * HOUR);
    install(&t, "d7", T0, "o7");
    CHECK_STR(attr_of(&t), "v");
    CHECK_EQ_INT(atd_engine_stats(t.eng)->overrides_ignored, 4);
    tenv_close(&t);
}

static void test_contributors(void)
{
    tenv t;
    tenv_open(&t, cfg_default, 0);
    click(&t, "netA", T0 - 6 * HOUR, "k");
    click(&t, "netA", T0 - 7 * HOUR, "k"); /* same source as the winner: never a contributor */
    impression(&t, "netB", T0 - 3 * HOUR, "k");
    impression(&t, "netB", T0 - 2 * HOUR, "k");
    click(&t, "netC", T0 - 5 * HOUR - 1, "k"); /* older than the other three: the fourth */
    impression(&t, "netD", T0 - HOUR, "k");
    impression(&t, "netE", T0 - 30 * MIN, "k");
    click(&t, "netA", T0 - 4 * HOUR, "k"); /* the newest click: the winner */
    install(&t, "dK", T0, "k");
    CHECK_STR(attr_of(&t), "netA");
    CHECK_EQ_INT(t.res.attribution.touch_ts, T0 - 4 * HOUR);
    CHECK_EQ_INT(t.res.n_contributors, 3);
    CHECK_STR(cs(&t, t.res.contributors[0].media_source), "netE");
    CHECK_STR(cs(&t, t.res.contributors[1].media_source), "netD");
    CHECK_STR(cs(&t, t.res.contributors[2].media_source), "netB");
    CHECK_EQ_INT(t.res.contributors[2].touch_ts, T0 - 2 * HOUR);
    /* contributors are not "won": they can still win another install */
    install(&t, "dK2", T0 + MIN, "k");
    CHECK_STR(attr_of(&t), "netC"); /* netA's newest click won; netC is the newest click left */
    tenv_close(&t);
}

static void test_won_touch(void)
{
    tenv t;
    tenv_open(&t, cfg_default, 0);
    feed(&t, "{\"type\":\"click\",\"ts\":%lld,\"app_id\":\"a1\",\"media_source\":\"netA\","
             "\"advertising_id\":\"z\",\"ip\":\"7.7.7.7\",\"user_agent\":\"" UA_PIXEL "\"}",
         T0 - HOUR);
    install(&t, "dX", T0, "z");
    CHECK_STR(attr_of(&t), "netA");
    /* the same advertising id on a new device id: the won click is gone */
    install(&t, "dY", T0 + HOUR, "z");
    CHECK_STR(attr_of(&t), "organic");
    /* and by ip + fingerprint too */
    feed(&t, "{\"type\":\"install\",\"ts\":%lld,\"app_id\":\"a1\",\"device_id\":\"dZ\","
             "\"ip\":\"7.7.7.7\",\"user_agent\":\"" UA_PIXEL "\"}",
         T0 + HOUR);
    CHECK_STR(attr_of(&t), "organic");
    /* a touch won probabilistically is also gone for its advertising id */
    feed(&t, "{\"type\":\"click\",\"ts\":%lld,\"app_id\":\"a1\",\"media_source\":\"netB\","
             "\"advertising_id\":\"w\",\"ip\":\"7.7.7.8\",\"user_agent\":\"" UA_PIXEL "\"}",
         T0 - HOUR);
    feed(&t, "{\"type\":\"install\",\"ts\":%lld,\"app_id\":\"a1\",\"device_id\":\"dW\","
             "\"ip\":\"7.7.7.8\",\"user_agent\":\"" UA_PIXEL "\"}",
         T0);
    CHECK_STR(attr_of(&t), "netB");
    install(&t, "dW2", T0 + MIN, "w");
    CHECK_STR(attr_of(&t), "organic");
    tenv_close(&t);
}

static const char *cfg_block =
    "apps:\n"
    "  a1:\n"
    "    blocked_ips: [\"10.9.0.0/16\", \"2001:db8::/32\"]\n"
    "    blocked_sites: [\"netB/bad\"]\n"
    "    click_cap: 2\n";

static void test_blocking_and_fraud(void)
{
    tenv t;
    tenv_open(&t, cfg_block, 0);
    /* ctit: a click 5 s before the install is blocked; the impression wins */
    click(&t, "netA", T0 - 5 * SEC, "d1");
    impression(&t, "netC", T0 - HOUR, "d1");
    install(&t, "dev1", T0, "d1");
    CHECK_STR(attr_of(&t), "netC");
    CHECK_STR(t.res.fraud_reason, "ctit_anomaly");
    char want[256];
    snprintf(want, sizeof want,
             "\"fraud\":{\"reason\":\"ctit_anomaly\",\"media_source\":\"netA\",\"touch_ts\":%lld}",
             T0 - 5 * SEC);
    CHECK_HAS(t.json.p, want);
    /* judged anew: for a later install the same click is fine (and not won) */
    install(&t, "dev1b", T0 + HOUR, "d1");
    CHECK_STR(attr_of(&t), "netA");
    CHECK(t.res.fraud_reason == NULL);
    CHECK_HAS(t.json.p, "\"fraud\":null");
    /* exactly min_ctit (10 s) is not blocked */
    click(&t, "netA", T0 - 10 * SEC, "d1c");
    install(&t, "dev1c", T0, "d1c");
    CHECK_STR(attr_of(&t), "netA");

    /* ip_blocked (IPv4 and IPv6 blocks): organic with a fraud record */
    feed(&t, "{\"type\":\"click\",\"ts\":%lld,\"app_id\":\"a1\",\"media_source\":\"netA\","
             "\"advertising_id\":\"d2\",\"ip\":\"10.9.1.1\"}",
         T0 - HOUR);
    install(&t, "dev2", T0, "d2");
    CHECK_STR(attr_of(&t), "organic");
    CHECK_STR(t.res.fraud_reason, "ip_blocked");
    feed(&t, "{\"type\":\"click\",\"ts\":%lld,\"app_id\":\"a1\",\"media_source\":\"netB\","
             "\"site_id\":\"bad\",\"advertising_id\":\"d2v6\",\"ip\":\"2001:DB8::1\"}",
         T0 - HOUR);
    install(&t, "dev2v6", T0, "d2v6");
    CHECK_STR(t.res.fraud_reason, "ip_blocked"); /* the first reason in order */

    /* site_blocked: the newest touch is blocked, an older one wins, fraud names the blocked */
    feed(&t, "{\"type\":\"click\",\"ts\":%lld,\"app_id\":\"a1\",\"media_source\":\"netA\","
             "\"site_id\":\"ok\",\"advertising_id\":\"d3\"}",
         T0 - 2 * HOUR);
    feed(&t, "{\"type\":\"click\",\"ts\":%lld,\"app_id\":\"a1\",\"media_source\":\"netB\","
             "\"site_id\":\"bad\",\"advertising_id\":\"d3\"}",
         T0 - HOUR);
    install(&t, "dev3", T0, "d3");
    CHECK_STR(attr_of(&t), "netA");
    CHECK_STR(t.res.fraud_reason, "site_blocked");
    CHECK_STR(cs(&t, t.res.fraud_media_source), "netB");
    CHECK_EQ_INT(t.res.n_contributors, 0); /* a blocked touch is no contributor */
    /* a blocked touch that would not have won anyway: no fraud record */
    feed(&t, "{\"type\":\"impression\",\"ts\":%lld,\"app_id\":\"a1\",\"media_source\":\"netB\","
             "\"site_id\":\"bad\",\"advertising_id\":\"d3b\"}",
         T0 - HOUR);
    click(&t, "netA", T0 - 2 * HOUR, "d3b");
    install(&t, "dev3b", T0, "d3b");
    CHECK_STR(attr_of(&t), "netA");
    CHECK(t.res.fraud_reason == NULL);

    /* click_flood: 3 clicks of one source for one advertising id in 24 h > cap 2 */
    click(&t, "netF", T0 - 3 * HOUR, "d4");
    click(&t, "netF", T0 - 2 * HOUR, "d4");
    click(&t, "netF", T0 - HOUR, "d4");
    install(&t, "dev4", T0, "d4");
    CHECK_STR(attr_of(&t), "organic");
    CHECK_STR(t.res.fraud_reason, "click_flood");
    CHECK_EQ_INT(t.res.fraud_touch_ts, T0 - HOUR);
    /* exactly the cap: fine */
    click(&t, "netF", T0 - 2 * HOUR, "d5");
    click(&t, "netF", T0 - HOUR, "d5");
    install(&t, "dev5", T0, "d5");
    CHECK_STR(attr_of(&t), "netF");
    /* a retargeting click counts too; another source does not */
    click(&t, "netF", T0 - 2 * HOUR, "d6");
    click(&t, "netG", T0 - 2 * HOUR, "d6");
    feed(&t, "{\"type\":\"click\",\"ts\":%lld,\"app_id\":\"a1\",\"media_source\":\"netF\","
             "\"advertising_id\":\"d6\",\"is_retargeting\":true}",
         T0 - 90 * MIN);
    click(&t, "netF", T0 - HOUR, "d6");
    install(&t, "dev6", T0, "d6");
    CHECK_STR(attr_of(&t), "netG");
    CHECK_STR(t.res.fraud_reason, "click_flood");
    /* [t - 24h, t]: a click 24 h + 1 ms back does not count, one exactly 24 h back does */
    click(&t, "netF", T0 - DAY - 1, "d7");
    click(&t, "netF", T0 - 2 * HOUR, "d7");
    click(&t, "netF", T0 - HOUR, "d7");
    install(&t, "dev7", T0, "d7");
    CHECK_STR(attr_of(&t), "netF");
    click(&t, "netF", T0 - DAY, "d8");
    click(&t, "netF", T0 - 2 * HOUR, "d8");
    click(&t, "netF", T0 - HOUR, "d8");
    install(&t, "dev8", T0, "d8");
    CHECK_STR(attr_of(&t), "organic");
    /* clicks with a later ts than the event do not count (and are no candidates) */
    click(&t, "netF", T0 - 2 * HOUR, "d9");
    click(&t, "netF", T0 - HOUR, "d9");
    click(&t, "netF", T0 + HOUR, "d9");
    install(&t, "dev9", T0, "d9");
    CHECK_STR(attr_of(&t), "netF");
    CHECK(atd_engine_stats(t.eng)->blocked[3] > 0);
    CHECK(atd_engine_stats(t.eng)->fraud_records >= 7);
    tenv_close(&t);
}

int main(void)
{
    RUN(test_first_install_json);
    RUN(test_groups_and_windows);
    RUN(test_probabilistic);
    RUN(test_overrides);
    RUN(test_contributors);
    RUN(test_won_touch);
    RUN(test_blocking_and_fraud);
    return atd_test_done();
}
