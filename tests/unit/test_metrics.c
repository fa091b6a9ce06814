/* Metrics registry: counters summed over threads, histogram buckets, gauges, text format. */
#include <pthread.h>

#include "attribd/metrics.h"
#include "harness.h"

static atd_counter *shared;

static void *adder(void *arg)
{
    for (int i = 0; i < 100000; i++) atd_counter_inc(shared);
    return NULL;
}

static void test_counter_threads(void)
{
    shared = atd_metrics_counter("t_total", "test counter", "k=\"v\"");
    CHECK(atd_metrics_counter("t_total", "test counter", "k=\"v\"") == shared);
    CHECK(atd_metrics_counter("t_total", "test counter", "k=\"w\"") != shared);
    pthread_t th[4];
    for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, adder, NULL);
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    CHECK_EQ_INT(atd_counter_value(shared), 400000);
}

static double gauge_fn(void *ud) { return *(double *)ud; }

static void test_render(void)
{
    atd_histogram *h = atd_metrics_histogram("t_seconds", "test histogram", "route=\"x\"");
    atd_histogram_observe_us(h, 40);      /* <= 50 us */
    atd_histogram_observe_us(h, 700);     /* <= 1 ms */
    atd_histogram_observe_us(h, 9000000); /* <= 10 s */
    atd_histogram_observe_us(h, 60000000); /* over every bound: only +Inf */
    static double g = 42.5;
    atd_metrics_gauge("t_gauge", "test gauge", NULL, gauge_fn, &g);
    atd_buf b;
    atd_buf_init(&b);
    atd_metrics_render(&b);
    CHECK(strstr(b.p, "# TYPE t_total counter\n") != NULL);
    CHECK(strstr(b.p, "t_total{k=\"v\"} 400000\n") != NULL);
    CHECK(strstr(b.p, "t_total{k=\"w\"} 0\n") != NULL);
    CHECK(strstr(b.p, "# TYPE t_seconds histogram\n") != NULL);
    CHECK(strstr(b.p, "t_seconds_bucket{route=\"x\",le=\"5e-05\"} 1\n") != NULL);
    CHECK(strstr(b.p, "t_seconds_bucket{route=\"x\",le=\"0.001\"} 2\n") != NULL);
    CHECK(strstr(b.p, "t_seconds_bucket{route=\"x\",le=\"10\"} 3\n") != NULL);
    CHECK(strstr(b.p, "t_seconds_bucket{route=\"x\",le=\"+Inf\"} 4\n") != NULL);
    CHECK(strstr(b.p, "t_seconds_count{route=\"x\"} 4\n") != NULL);
    CHECK(strstr(b.p, "t_seconds_sum{route=\"x\"} 69.000740\n") != NULL);
    CHECK(strstr(b.p, "t_gauge 42.5\n") != NULL);
    atd_buf_free(&b);

    atd_metrics_gauge_remove(gauge_fn, &g);
    atd_buf_init(&b);
    atd_metrics_render(&b);
    CHECK(strstr(b.p, "t_gauge") == NULL);
    atd_buf_free(&b);
}

int main(void)
{
    RUN(test_counter_threads);
    RUN(test_render);
    return atd_test_done();
}
