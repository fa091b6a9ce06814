/* `attribd import`: good lines land in the log with their own ts, bad ones are reported on
 * stderr with line number and field and skipped (exit 2); all good → exit 0; it refuses to run
 * while `attribd serve` holds the data folder. */
#include "http_test_util.h"

static const char *CONFIG = "apps:\n"
                            "  imp.app:\n"
                            "    click_lookback: 7d\n";

static const char *INPUT =
    "{\"type\":\"install\",\"ts\":1700000000000,\"app_id\":\"imp.app\",\"device_id\":\"d1\","
    "\"event_id\":\"g1\"}\n"
    "{\"type\":\"click\",\"ts\":1699999990000,\"app_id\":\"imp.app\",\"media_source\":\"net\","
    "\"click_id\":\"g2\"}\n"
    "{\"type\":\"session\",\"app_id\":\"imp.app\",\"device_id\":\"d1\",\"event_id\":\"b3\"}\n"
    "\n"
    "{\"type\":\"session\",\"ts\":1700000100000,\"app_id\":\"other.app\",\"device_id\":\"d1\"}\n"
    "not json at all\n"
    "{\"type\":\"inapp\",\"ts\":1700000200000,\"app_id\":\"imp.app\",\"device_id\":\"d1\","
    "\"event_name\":\"buy\",\"revenue\":1.5,\"event_id\":\"g7\"}\n"
    "{\"type\":\"click\",\"ts\":1700000300000,\"app_id\":\"imp.app\",\"click_id\":\"b8\"}\n";

static int good_seen, bad_seen, ts_ok;

static void on_event(const atd_event *ev, void *ud)
{
    if (str_is(ev->event_id, "g1") && ev->ts == 1700000000000) ts_ok++;
    if (str_is(ev->click_id, "g2") && ev->ts == 1699999990000) ts_ok++;
    if (str_is(ev->event_id, "g7") && ev->ts == 1700000200000 && ev->revenue == 1.5) ts_ok++;
    if (str_is(ev->event_id, "g1") || str_is(ev->click_id, "g2") || str_is(ev->event_id, "g7"))
        good_seen++;
    else
        bad_seen++;
}

static int run_import(const char *dir, const char *input, const char *err_path)
{
    char cmd[32768];
    snprintf(cmd, sizeof cmd,
             "'%s' import --config '%s/attribd.yaml' --input %s --data-dir '%s/data' 2>'%s'",
             atd_test_bin(), dir, input, dir, err_path);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_import(void)
{
    test_server S;
    ts_init(&S, "import", CONFIG);
    char in[4200], err[4200], path[4300];
    snprintf(in, sizeof in, "%s/in.ndjson", S.dir);
    snprintf(err, sizeof err, "%s/err.txt", S.dir);
    CHECK(atd_test_write_file(in, INPUT) == 0);

    CHECK_EQ_INT(run_import(S.dir, in, err), 2);
    char *e = atd_test_read_file(err, NULL);
    CHECK(e && strstr(e, "line 3: field ts"));
    CHECK(e && strstr(e, "line 5: field app_id"));
    CHECK(e && strstr(e, "line 6: "));
    CHECK(e && strstr(e, "line 8: field media_source"));
    CHECK(e && strstr(e, "3 imported, 4 rejected"));
    CHECK(e && !strstr(e, "line 4:")); /* blank lines are skipped silently */
    free(e);
    CHECK_EQ_INT(ts_read_events(S.data, on_event, NULL), 3);
    CHECK_EQ_INT(good_seen, 3);
    CHECK_EQ_INT(bad_seen, 0);
    CHECK_EQ_INT(ts_ok, 3);

    /* only good lines, from stdin: exit 0, appended after the first run's */
    snprintf(path, sizeof path, "- < '%s/good.ndjson'", S.dir);
    char good[4200];
    snprintf(good, sizeof good, "%s/good.ndjson", S.dir);
    CHECK(atd_test_write_file(good,
                              "{\"type\":\"session\",\"ts\":5,\"app_id\":\"imp.app\","
                              "\"device_id\":\"d9\"}\n") == 0);
    CHECK_EQ_INT(run_import(S.dir, path, err), 0);
    CHECK_EQ_INT(ts_read_events(S.data, NULL, NULL), 4);

    /* a missing input file is an I/O error */
    CHECK_EQ_INT(run_import(S.dir, "/nonexistent/file.ndjson", err), 1);

    /* while serve holds the data folder, import refuses */
    CHECK(ts_start(&S) == 0);
    CHECK_EQ_INT(run_import(S.dir, in, err), 1);
    e = atd_test_read_file(err, NULL);
    CHECK(e && strstr(e, "in use"));
    free(e);
    int st = ts_stop(&S, SIGTERM);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK_EQ_INT(ts_read_events(S.data, NULL, NULL), 4);
    ts_free(&S);
}

int main(void)
{
    RUN(test_import);
    return atd_test_done();
}
