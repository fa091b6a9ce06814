/* Exactly-once across crashes: a child process runs the results service over a stream of
 * events and is SIGKILLed at random moments, again and again; after the last restart the
 * `results` topic must equal, record for record, that of an uninterrupted run. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attribd/config.h"
#include "attribd/event.h"
#include "attribd/json.h"
#include "attribd/kv.h"
#include "attribd/log.h"
#include "attribd/results_service.h"
#include "harness.h"

#define N_EVENTS 30000

static const char *config_yaml = "apps:\n"
                                 "  com.test.app:\n"
                                 "    click_lookback: 7d\n"
                                 "    min_ctit: 0\n";

static uint64_t rng = 42;
static uint64_t next_rand(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

/* A stream in which touches, installs, reinstalls, sessions and in-app events interact. */
static void make_event(atd_buf *b, int i)
{
    int64_t ts = 1790000000000LL + (int64_t)i * 1000;
    unsigned dev = (unsigned)(next_rand() % 3000);
    unsigned r = (unsigned)(next_rand() % 10);
    b->n = 0;
    if (r < 5) {
        atd_buf_printf(b,
                       "{\"type\":\"%s\",\"ts\":%lld,\"app_id\":\"com.test.app\","
                       "\"media_source\":\"net%u\",\"advertising_id\":\"ad-%u\","
                       "\"ip\":\"10.0.%u.%u\",\"is_retargeting\":%s}",
                       r < 4 ? "click" : "impression", (long long)ts, dev % 4, dev,
                       dev % 200, dev % 250, r == 3 ? "true" : "false");
    } else if (r < 7) {
        atd_buf_printf(b,
                       "{\"type\":\"install\",\"ts\":%lld,\"app_id\":\"com.test.app\","
                       "\"device_id\":\"d%u\",\"advertising_id\":\"ad-%u\"}",
                       (long long)ts, dev, dev);
    } else if (r < 9) {
        atd_buf_printf(b,
                       "{\"type\":\"session\",\"ts\":%lld,\"app_id\":\"com.test.app\","
                       "\"device_id\":\"d%u\",\"advertising_id\":\"ad-%u\"}",
                       (long long)ts, dev, dev);
    } else {
        atd_buf_printf(b,
                       "{\"type\":\"inapp\",\"ts\":%lld,\"app_id\":\"com.test.app\","
                       "\"device_id\":\"d%u\",\"event_name\":\"buy\",\"revenue\":1.5}",
                       (long long)ts, dev);
    }
}

static void fill_log(const char *dir, atd_config *cfg)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/log", dir);
    atd_log_options lo = {.dir = path};
    atd_log *log;
    CHECK_EQ_INT(atd_log_open("file", &lo, &log), 0);
    CHECK_EQ_INT(atd_log_topic_ensure(log, ATD_TOPIC_EVENTS, 1), 1);
    atd_buf line, enc;
    atd_buf_init(&line);
    atd_buf_init(&enc);
    atd_arena arena;
    atd_arena_init(&arena, 1 << 16);
    rng = 42;
    for (int i = 0; i < N_EVENTS; i++) {
        make_event(&line, i);
        atd_event ev;
        atd_event_error err;
        atd_arena_reset(&arena);
        int rc = atd_event_parse_json(line.p, line.n, ATD_PARSE_REQUIRE_TS, ATD_STR_NULL, cfg,
                                      &arena, &ev, &err);
        if (rc) {
            atd_test_fail(__FILE__, __LINE__, "event %d rejected: %s: %s", i, err.field,
                          err.message);
            break;
        }
        atd_buf_reserve(&enc, atd_event_encoded_size(&ev));
        size_t n = atd_event_encode(&ev, (uint8_t *)enc.p);
        atd_log_record rec = {.ts = ev.ts, .value = enc.p, .value_len = n};
        CHECK_EQ_INT(atd_log_append(log, ATD_TOPIC_EVENTS, 0, &rec, 1, NULL), 0);
    }
    atd_arena_free(&arena);
    atd_buf_free(&line);
    atd_buf_free(&enc);
    atd_log_close(log);
}

/* Runs the service until it has consumed every event; returns the process exit status. */
static int run_service(const char *dir, atd_config *cfg, int batch_max)
{
    char lpath[4200], kpath[4200];
    snprintf(lpath, sizeof lpath, "%s/log", dir);
    snprintf(kpath, sizeof kpath, "%s/kv", dir);
    atd_log_options lo = {.dir = lpath};
    atd_kv_options ko = {.path = kpath, .map_size = 1ULL << 30};
    atd_log *log;
    atd_kv *kv;
    if (atd_log_open("file", &lo, &log) || atd_kv_open("lmdb", &ko, &kv)) return 3;
    atd_results_options ro = {.log = log, .kv = kv, .batch_max = batch_max};
    atd_results_service *s = atd_results_service_new(&ro);
    if (!s) return 4;
    int rc;
    while ((rc = atd_results_service_step(s, cfg, 0)) > 0) {
    }
    atd_results_service_free(s);
    atd_kv_close(kv);
    atd_log_close(log);
    return rc < 0 ? 5 : 0;
}

typedef struct collected {
    atd_buf all; /* the records, each prefixed by its length */
    size_t count;
} collected;

static int collect_cb(void *ud, const atd_log_record *rec)
{
    collected *c = ud;
    uint32_t len = (uint32_t)rec->value_len;
    atd_buf_put(&c->all, &len, 4);
    atd_buf_put(&c->all, rec->value, rec->value_len);
    c->count++;
    return 0;
}

static void read_results(const char *dir, collected *c)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/log", dir);
    atd_log_options lo = {.dir = path};
    atd_log *log;
    atd_buf_init(&c->all);
    c->count = 0;
    if (atd_log_open("file", &lo, &log)) return;
    uint64_t from = 0;
    int n;
    while ((n = atd_log_read(log, ATD_TOPIC_RESULTS, 0, from, 4096, collect_cb, c)) > 0)
        from += (uint64_t)n;
    atd_log_close(log);
}

static void test_sigkill_exactly_once(void)
{
    char err[512];
    atd_config *cfg = atd_config_parse_string(config_yaml, strlen(config_yaml), "test.yaml", err,
                                              sizeof err);
    CHECK(cfg != NULL);
    if (!cfg) return;
    char *clean = atd_test_tmpdir("results-clean");
    char *crashy = atd_test_tmpdir("results-crashy");
    fill_log(clean, cfg);
    fill_log(crashy, cfg);
    /* the kill delays scale with how long an uninterrupted run takes on this machine now: a
     * fixed delay got too few kills on a fast machine or none after results on a loaded one */
    int64_t t0 = atd_mono_ms();
    CHECK_EQ_INT(run_service(clean, cfg, 512), 0);
    int64_t clean_ms = atd_mono_ms() - t0;
    if (clean_ms < 20) clean_ms = 20;

    srand((unsigned)time(NULL));
    int kills = 0, done = 0, mid_stream = 0;
    for (int round = 0; round < 60 && !done; round++) {
        pid_t pid = fork();
        if (pid == 0) _exit(run_service(crashy, cfg, 256));
        /* a random point in the first third of a clean run's time (so several kills land
         * before the stream is done), later rounds a little later (so each round gets past the
         * service's start and makes progress even when the machine slows down meanwhile) */
        int64_t ms = clean_ms / 20 + rand() % (clean_ms / 3) + clean_ms * round / 20;
        struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
            done = 1;
        } else {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            kills++;
            collected part;
            read_results(crashy, &part);
            if (part.count > 0) mid_stream++;
            atd_buf_free(&part.all);
        }
    }
    fprintf(stderr, "  killed the service %d times, %d of them after results were written\n",
            kills, mid_stream);
    CHECK(kills >= 3);
    CHECK(mid_stream >= 2);
    CHECK_EQ_INT(run_service(crashy, cfg, 256), 0); /* the last restart */

    collected a, b;
    read_results(clean, &a);
    read_results(crashy, &b);
    CHECK(a.count > N_EVENTS / 3);
    CHECK_EQ_INT(a.count, b.count);
    CHECK(a.all.n == b.all.n && memcmp(a.all.p, b.all.p, a.all.n) == 0);
    atd_buf_free(&a.all);
    atd_buf_free(&b.all);
    atd_test_rmrf(clean);
    atd_test_rmrf(crashy);
    free(clean);
    free(crashy);
    atd_config_release(cfg);
}

int main(void)
{
    RUN(test_sigkill_exactly_once);
    return atd_test_done();
}
