/* Process-wide metrics in the Prometheus text format: counters, histograms and gauges whose
 * value a callback computes at scrape time (log bytes, consumer lag).
 *
 * A metric is one series: a family name plus a fixed label set, e.g.
 *   atd_counter *c = atd_metrics_counter("attribd_http_requests_total", "HTTP requests",
 *                                        "route=\"click\",status=\"302\"");
 * Registration takes a lock and may allocate, so do it once and keep the pointer (series live
 * until the process exits; the same name + labels always returns the same series).
 * Updates are lock-free: each series keeps a few cache-line-padded shards and a thread always
 * adds to its own, so hot-path increments from the HTTP threads never share a cache line. */
#ifndef ATTRIBD_METRICS_H
#define ATTRIBD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "attribd/json.h"

typedef struct atd_counter atd_counter;
typedef struct atd_histogram atd_histogram;

/* name, help and labels are copied. labels is the inside of {...} (may be NULL or ""). */
atd_counter *atd_metrics_counter(const char *name, const char *help, const char *labels);
void atd_counter_add(atd_counter *c, uint64_t n);
static inline void atd_counter_inc(atd_counter *c) { atd_counter_add(c, 1); }
uint64_t atd_counter_value(const atd_counter *c); /* the sum over shards (for tests/tools) */

/* A histogram of durations in seconds with fixed buckets from 50 µs to 10 s. */
atd_histogram *atd_metrics_histogram(const char *name, const char *help, const char *labels);
void atd_histogram_observe_us(atd_histogram *h, uint64_t microseconds);

/* A gauge computed at scrape time: fn(ud) is called (from the scraping thread) and must be
 * thread-safe. ud is not owned and must live as long as the registration;
 * atd_metrics_gauge_remove(fn, ud) drops every gauge registered with that pair (call it before
 * freeing ud). */
typedef double (*atd_gauge_fn)(void *ud);
void atd_metrics_gauge(const char *name, const char *help, const char *labels, atd_gauge_fn fn,
                       void *ud);
void atd_metrics_gauge_remove(atd_gauge_fn fn, void *ud);

/* Appends every metric in the Prometheus text exposition format (version 0.0.4). */
void atd_metrics_render(atd_buf *out);

#endif
