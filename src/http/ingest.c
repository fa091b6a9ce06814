/* The common tail of every ingest route: stamp, encode, key and log a request's events in one
 * batch. An event is acknowledged only after this returned 0. */
#include <stdlib.h>

#include "attribd/logging.h"
#include "http/http_internal.h"

atd_event *atd__ingest_events(atd_http_thread *t, size_t n)
{
    if (n > t->events_cap) {
        size_t cap = t->events_cap ? t->events_cap : 16;
        while (cap < n) cap *= 2;
        atd_event *ev = realloc(t->events, cap * sizeof *ev);
        if (!ev) abort();
        t->events = ev;
        t->events_cap = cap;
    }
    return t->events;
}

static void recs_reserve(atd_http_thread *t, size_t n)
{
    if (n <= t->recs_cap) return;
    size_t cap = t->recs_cap ? t->recs_cap : 16;
    while (cap < n) cap *= 2;
    atd_log_record *r = realloc(t->recs, 2 * cap * sizeof *r); /* second half: per-partition */
    if (!r) abort();
    t->recs = r;
    t->recs_cap = cap;
}

static size_t key_bound(const atd_event *ev)
{
    return ev->app_id.n + ev->device_id.n + ev->advertising_id.n + ev->ip.n + 16;
}

int atd__ingest_commit(atd_http_thread *t, size_t n)
{
    atd_http_server *srv = t->srv;
    int parts = srv->opt.events_partitions;
    int64_t now = atd_now_ms();
    recs_reserve(t, n);
    t->values.n = 0;
    t->keys.n = 0;
    int *part = NULL, part_stack[64] = {0}, mixed = 0;
    part = n <= 64 ? part_stack : malloc(n * sizeof *part);
    if (!part) abort();

    /* Encode into the reused buffers; record offsets first (the buffers may move). */
    for (size_t i = 0; i < n; i++) {
        atd_event *ev = &t->events[i];
        ev->ts = now;
        atd_buf_reserve(&t->values, atd_event_encoded_size(ev));
        size_t vlen = atd_event_encode(ev, (uint8_t *)t->values.p + t->values.n);
        size_t kcap = key_bound(ev);
        atd_buf_reserve(&t->keys, kcap);
        size_t klen = atd_event_key(ev, t->keys.p + t->keys.n, kcap);
        t->recs[i] = (atd_log_record){.ts = now,
                                      .key = (const void *)(uintptr_t)t->keys.n,
                                      .key_len = klen,
                                      .value = (const void *)(uintptr_t)t->values.n,
                                      .value_len = vlen};
        t->values.n += vlen;
        t->keys.n += klen;
        part[i] = parts > 1 ? atd_log_partition_for(t->keys.p + t->keys.n - klen, klen, parts) : 0;
        if (part[i] != part[0]) mixed = 1;
    }
    for (size_t i = 0; i < n; i++) {
        t->recs[i].key = t->keys.p + (uintptr_t)t->recs[i].key;
        t->recs[i].value = t->values.p + (uintptr_t)t->recs[i].value;
    }

    int rc = 0;
    if (!mixed) {
        rc = atd_log_append(srv->log, ATD_TOPIC_EVENTS, part[0], t->recs, n, NULL);
    } else {
        /* One append per partition, in body order within each. Atomic per partition only:
         * docs/http.md says what a failure in the middle means. */
        atd_log_record *sub = t->recs + t->recs_cap;
        for (int p = 0; p < parts && rc == 0; p++) {
            size_t m = 0;
            for (size_t i = 0; i < n; i++)
                if (part[i] == p) sub[m++] = t->recs[i];
            if (m) rc = atd_log_append(srv->log, ATD_TOPIC_EVENTS, p, sub, m, NULL);
        }
    }
    if (part != part_stack) free(part);
    if (rc != 0) {
        ATD_ERROR("log append failed: %s", atd_strerror(rc));
        return rc;
    }
    for (size_t i = 0; i < n; i++) atd__metrics_events(t->events[i].type, 1);
    return 0;
}
