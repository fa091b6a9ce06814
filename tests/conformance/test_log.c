/* Conformance suite of the event log interface (include/attribd/log.h): it only goes through
 * the vtable, so every backend must pass it. The backend comes from ATD_LOG_BACKEND (default
 * "file"); ATD_LOG_BROKERS is passed as options.brokers for networked backends. */
#include "attribd/common.h"
#include "attribd/log.h"
#include "harness.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *backend;
static char *dir;
static char topic[64]; /* unique per run so that a shared broker does not mix runs */

static atd_log *open_log(void)
{
    atd_log_options o;
    memset(&o, 0, sizeof o);
    o.dir = dir;
    o.brokers = getenv("ATD_LOG_BROKERS");
    atd_log *l = NULL;
    int rc = atd_log_open(backend, &o, &l);
    CHECK_EQ_INT(rc, 0);
    return rc == 0 ? l : NULL;
}

typedef struct seen {
    uint64_t offs[64];
    char vals[64][32];
    int64_t ts[64];
    int n;
} seen;

static int seen_cb(void *ud, const atd_log_record *r)
{
    seen *s = ud;
    if (s->n < 64) {
        size_t n = r->value_len < 31 ? r->value_len : 31;
        memcpy(s->vals[s->n], r->value, n);
        s->vals[s->n][n] = 0;
        s->offs[s->n] = r->offset;
        s->ts[s->n] = r->ts;
    }
    s->n++;
    return 0;
}

static void test_topic_append_read(void)
{
    atd_log *l = open_log();
    if (!l) return;
    CHECK_EQ_INT(atd_log_topic_ensure(l, topic, 3), 3);
    CHECK_EQ_INT(atd_log_topic_ensure(l, topic, 3), 3);
    atd_log_record r[3] = {
        {.ts = 11, .key = "a", .key_len = 1, .value = "first", .value_len = 5},
        {.ts = 12, .key = "b", .key_len = 1, .value = "second", .value_len = 6},
        {.ts = 13, .key = NULL, .key_len = 0, .value = "third", .value_len = 5},
    };
    uint64_t first = 99;
    CHECK_EQ_INT(atd_log_append(l, topic, 1, r, 3, &first), 0);
    CHECK_EQ_INT(first, 0);
    CHECK_EQ_INT(atd_log_append(l, topic, 1, r, 1, &first), 0);
    CHECK_EQ_INT(first, 3);
    uint64_t s, e, d;
    CHECK_EQ_INT(atd_log_offsets(l, topic, 1, &s, &e, &d), 0);
    CHECK_EQ_INT(s, 0);
    CHECK_EQ_INT(e, 4);
    CHECK(d <= e);
    CHECK_EQ_INT(atd_log_sync(l), 0);
    CHECK_EQ_INT(atd_log_offsets(l, topic, 1, &s, &e, &d), 0);
    CHECK_EQ_INT(d, 4);

    seen sn = {0};
    CHECK_EQ_INT(atd_log_read(l, topic, 1, 0, 10, seen_cb, &sn), 4);
    CHECK_EQ_INT(sn.n, 4);
    CHECK_STR(sn.vals[0], "first");
    CHECK_STR(sn.vals[2], "third");
    CHECK_STR(sn.vals[3], "first");
    CHECK_EQ_INT(sn.offs[3], 3);
    CHECK_EQ_INT(sn.ts[1], 12);
    memset(&sn, 0, sizeof sn);
    CHECK_EQ_INT(atd_log_read(l, topic, 1, 2, 1, seen_cb, &sn), 1);
    CHECK_STR(sn.vals[0], "third");
    CHECK_EQ_INT(atd_log_read(l, topic, 1, 4, 10, seen_cb, &sn), 0);
    CHECK_EQ_INT(atd_log_read(l, topic, 0, 0, 10, seen_cb, &sn), 0);
    CHECK_EQ_INT(atd_log_read(l, "no-such-topic", 0, 0, 10, seen_cb, &sn), ATD_ENOTFOUND);
    atd_log_close(l);

    /* data and partitions persist */
    l = open_log();
    CHECK_EQ_INT(atd_log_topic_ensure(l, topic, 3), 3);
    memset(&sn, 0, sizeof sn);
    CHECK_EQ_INT(atd_log_read(l, topic, 1, 0, 10, seen_cb, &sn), 4);
    CHECK_STR(sn.vals[1], "second");
    atd_log_close(l);
}

typedef struct waiter {
    atd_log *log;
    int result;
} waiter;

static void *wait_main(void *arg)
{
    waiter *w = arg;
    w->result = atd_log_wait(w->log, topic, 2, 0, 10000);
    return NULL;
}

static void test_wait_wakes_and_times_out(void)
{
    atd_log *l = open_log();
    if (!l) return;
    atd_log_topic_ensure(l, topic, 3);
    CHECK_EQ_INT(atd_log_wait(l, topic, 2, 0, 50), 0);
    waiter w = {l, -1};
    pthread_t th;
    pthread_create(&th, NULL, wait_main, &w);
    usleep(50000);
    int64_t t0 = atd_mono_ms();
    atd_log_record r = {.ts = 1, .value = "x", .value_len = 1};
    CHECK_EQ_INT(atd_log_append(l, topic, 2, &r, 1, NULL), 0);
    pthread_join(th, NULL);
    CHECK_EQ_INT(w.result, 1);
    CHECK(atd_mono_ms() - t0 < 5000);
    atd_log_close(l);
}

static void test_consumer_group_positions(void)
{
    atd_log *l = open_log();
    if (!l) return;
    atd_log_topic_ensure(l, topic, 3);
    uint64_t next = 0;
    CHECK_EQ_INT(atd_log_committed(l, "conf-group", topic, 0, &next), ATD_ENOTFOUND);
    CHECK_EQ_INT(atd_log_commit(l, "conf-group", topic, 0, 2), 0);
    CHECK_EQ_INT(atd_log_commit(l, "conf-group", topic, 2, 1), 0);
    CHECK_EQ_INT(atd_log_committed(l, "conf-group", topic, 0, &next), 0);
    CHECK_EQ_INT(next, 2);
    atd_log_close(l);
    l = open_log();
    CHECK_EQ_INT(atd_log_committed(l, "conf-group", topic, 0, &next), 0);
    CHECK_EQ_INT(next, 2);
    CHECK_EQ_INT(atd_log_committed(l, "conf-group", topic, 2, &next), 0);
    CHECK_EQ_INT(next, 1);
    CHECK_EQ_INT(atd_log_committed(l, "conf-group", topic, 1, &next), ATD_ENOTFOUND);
    atd_log_close(l);
}

static void test_partitioner(void)
{
    int p = atd_log_partition_for("device-123", 10, 3);
    CHECK(p >= 0 && p < 3);
    CHECK_EQ_INT(p, atd_log_partition_for("device-123", 10, 3));
}

int main(void)
{
    backend = getenv("ATD_LOG_BACKEND") ? getenv("ATD_LOG_BACKEND") : "file";
    dir = atd_test_tmpdir("log-conf");
    snprintf(topic, sizeof topic, "conf-%d-%lld", (int)getpid(), (long long)atd_now_ms());
    printf("  (backend %s)\n", backend);
    RUN(test_topic_append_read);
    RUN(test_wait_wakes_and_times_out);
    RUN(test_consumer_group_positions);
    RUN(test_partitioner);
    atd_test_rmrf(dir);
    free(dir);
    return atd_test_done();
}
