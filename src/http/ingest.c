/* The common tail of every ingest route: stamp, encode, key and log a request's events, then
 * answer. An event is acknowledged only after the log append that holds it returned 0.
 *
 * Group commit per event-loop turn: a route stages its events (encoded into this thread's batch)
 * and registers its answer; at the end of the loop turn (h2o's zero timeout, after every ready
 * socket was read) the whole batch goes to the log in one atd_log_append per partition, and then
 * every staged request is answered: 2xx when the append returned 0, else 503. Under load one
 * append (one write syscall and one log lock) serves all the requests that arrived together,
 * instead of one each; an idle server answers in the same turn, so latency does not grow. The
 * batch is flushed early when it gets big, so memory stays bounded. */
#include <inttypes.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "attribd/logging.h"
#include "http/http_internal.h"

/* Flush before the end of the turn past these (bounds memory and the size of one write). */
#define FLUSH_BYTES (4u << 20)
#define FLUSH_RECORDS 8192

static const char ACCEPTED_ONE[] = "{\"accepted\":1}";

struct atd_ingest_guard {
    atd_http_thread *t; /* NULL once answered */
    uint64_t gen;       /* the batch the request belongs to */
    size_t idx;         /* its answer in t->answers */
};

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

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return p;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *q = realloc(p, c * elem);
    if (!q) abort();
    *cap = c;
    return q;
}

static size_t key_bound(const atd_event *ev)
{
    return ev->app_id.n + ev->device_id.n + ev->advertising_id.n + ev->ip.n + 16;
}

void atd__ingest_stage(atd_http_thread *t, size_t n)
{
    int parts = t->srv->opt.events_partitions;
    int64_t now = atd_now_ms();
    t->staged = grow(t->staged, &t->staged_cap, t->n_staged + n, sizeof *t->staged);
    for (size_t i = 0; i < n; i++) {
        atd_event *ev = &t->events[i];
        ev->ts = now;
        atd_buf_reserve(&t->values, atd_event_encoded_size(ev));
        size_t vlen = atd_event_encode(ev, (uint8_t *)t->values.p + t->values.n);
        size_t kcap = key_bound(ev);
        atd_buf_reserve(&t->keys, kcap);
        size_t klen = atd_event_key(ev, t->keys.p + t->keys.n, kcap);
        int part = parts > 1 ? atd_log_partition_for(t->keys.p + t->keys.n, klen, parts) : 0;
        t->staged[t->n_staged++] = (atd_staged){.koff = t->keys.n, .klen = klen,
                                                .voff = t->values.n, .vlen = vlen, .ts = now,
                                                .part = part, .type = (uint8_t)ev->type};
        t->values.n += vlen;
        t->keys.n += klen;
    }
}

static void on_guard_dispose(void *p)
{
    struct atd_ingest_guard *g = p;
    /* the request went away before its answer (HTTP/2 reset): forget it */
    if (g->t && g->gen == g->t->batch_gen) g->t->answers[g->idx].req = NULL;
}

/* Answer turns (ATTRIBUTION.md §8): when a touch is acknowledged before an app event (install,
 * session, in-app), the app event's decision must see the touch, so the touch must be earlier
 * in the log. Over threads that means: a batch holding touches is answered only after every
 * earlier batch (lower ticket) holding app events was answered. Nothing else is ordered: a
 * batch of app events alone, or of touches with no app batch before it still unanswered, is
 * answered at once. (Ordering every batch cost ~5 % of the throughput under wrk: threads slept
 * on each other with the cores idle; BENCHMARKS.md "Ingest".)
 *
 * Each thread answers its batch before it appends the next, so it has at most one app batch
 * unanswered: app_unanswered, set under append_mu with the ticket (so a later ticket's check
 * sees it) and cleared after the last answer. A thread that has to wait sleeps on a futex; it
 * does not spin or yield: on this 2-core machine the CPU is shared with the clients, and every
 * cycle spent waiting is one they do not get (sched_yield in a loop cost ~20 % of the server's
 * CPU under wrk). */
static int app_batch_before(atd_http_server *srv, const atd_http_thread *self, uint64_t ticket)
{
    for (int i = 0; i < srv->n_threads; i++) {
        const atd_http_thread *u = &srv->threads[i];
        if (u == self) continue;
        uint64_t k = atomic_load(&u->app_unanswered);
        if (k && k < ticket) return 1;
    }
    return 0;
}

static void turn_wait(atd_http_thread *t, uint64_t ticket)
{
    atd_http_server *srv = t->srv;
    while (app_batch_before(srv, t, ticket)) {
        /* announce the sleep, then re-check: an answer in between changed the sequence (the
         * futex does not sleep) or is seen by the re-check */
        atomic_store(&srv->turn_waiters, 1);
        uint32_t seq = atomic_load(&srv->turn_seq);
        if (!app_batch_before(srv, t, ticket)) break;
        syscall(SYS_futex, (uint32_t *)&srv->turn_seq, FUTEX_WAIT_PRIVATE, seq, NULL, NULL, 0);
    }
}

/* The thread's app batch is answered: wake the sleepers, if any (each re-checks). */
static void turn_pass(atd_http_thread *t)
{
    atd_http_server *srv = t->srv;
    atomic_store(&t->app_unanswered, 0);
    atomic_fetch_add(&srv->turn_seq, 1);
    if (atomic_exchange(&srv->turn_waiters, 0))
        syscall(SYS_futex, (uint32_t *)&srv->turn_seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL,
                0);
}

static void answer(atd_http_server *srv, h2o_req_t *req, const atd_answer *a, int ok)
{
    if (srv->answer_seq_on) {
        /* taken here, just before h2o writes the answer (HTTP/1 writes from this call) */
        char *seq = h2o_mem_alloc_pool(&req->pool, 24);
        int n = snprintf(seq, 24, "%" PRIu64, atomic_fetch_add(&srv->answer_seq, 1) + 1);
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-answer-seq"), 0, NULL,
                              seq, (size_t)n);
    }
    if (!ok) {
        atd__http_send_error(req, 503, "the event log cannot take events now; retry later", NULL,
                             0);
        return;
    }
    if (a->location.base)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_LOCATION, NULL, a->location.base,
                       a->location.len);
    if (a->body.len)
        atd__http_send_json_kept(req, a->status, a->body.base, a->body.len);
    else
        atd__http_send_empty(req, a->status, NULL);
}

void atd__ingest_flush(atd_http_thread *t)
{
    if (h2o_timeout_is_linked(&t->flush_entry)) h2o_timeout_unlink(&t->flush_entry);
    if (t->n_answers == 0 && t->n_staged == 0) return;
    atd_http_server *srv = t->srv;
    int parts = srv->opt.events_partitions;
    int rc = 0;
    t->recs = grow(t->recs, &t->recs_cap, t->n_staged, sizeof *t->recs);
    /* what the batch holds decides its turn (above) */
    int touches = 0, app_events = 0;
    for (size_t i = 0; i < t->n_staged; i++) {
        touches |= ATD_EV_IS_TOUCH(t->staged[i].type);
        app_events |= ATD_EV_IS_APP(t->staged[i].type);
    }
    pthread_mutex_lock(&srv->append_mu);
    for (int p = 0; p < parts && rc == 0; p++) {
        size_t m = 0;
        for (size_t i = 0; i < t->n_staged; i++) {
            const atd_staged *s = &t->staged[i];
            if (s->part != p) continue;
            t->recs[m++] = (atd_log_record){.ts = s->ts, .key = t->keys.p + s->koff,
                                            .key_len = s->klen, .value = t->values.p + s->voff,
                                            .value_len = s->vlen};
        }
        if (m) rc = atd_log_append(srv->log, ATD_TOPIC_EVENTS, p, t->recs, m, NULL);
    }
    uint64_t ticket = ++srv->append_ticket;
    if (app_events) atomic_store(&t->app_unanswered, ticket);
    pthread_mutex_unlock(&srv->append_mu);
    if (touches) turn_wait(t, ticket);
    if (rc != 0) {
        ATD_ERROR("log append of %zu events failed: %s", t->n_staged, atd_strerror(rc));
    } else {
        /* one counter update per type and batch, not per event */
        uint64_t by_type[ATD_EV_INAPP + 1] = {0};
        for (size_t i = 0; i < t->n_staged; i++)
            if (t->staged[i].type <= ATD_EV_INAPP) by_type[t->staged[i].type]++;
        for (int ty = 0; ty <= ATD_EV_INAPP; ty++)
            if (by_type[ty]) atd__metrics_events((atd_event_type)ty, by_type[ty]);
    }
    /* Answer after resetting the batch: sending may run h2o callbacks that stage again. */
    size_t n = t->n_answers;
    atd_answer *answers = t->answers;
    t->answers = t->answers_spare;
    t->answers_spare = answers;
    size_t cap = t->answers_cap;
    t->answers_cap = t->answers_spare_cap;
    t->answers_spare_cap = cap;
    t->n_answers = 0;
    t->n_staged = 0;
    t->values.n = 0;
    t->keys.n = 0;
    t->batch_gen++;
    for (size_t i = 0; i < n; i++) {
        atd_answer *a = &answers[i];
        if (!a->req) continue;
        if (a->guard) a->guard->t = NULL;
        answer(srv, a->req, a, rc == 0);
    }
    if (app_events) turn_pass(t);
}

static void on_flush_timer(h2o_timeout_entry_t *e)
{
    atd_http_thread *t = H2O_STRUCT_FROM_MEMBER(atd_http_thread, flush_entry, e);
    atd__ingest_flush(t);
}

void atd__ingest_answer(atd_http_thread *t, h2o_req_t *req, int status, const char *body,
                        size_t len, const char *location, size_t location_len)
{
    t->answers = grow(t->answers, &t->answers_cap, t->n_answers + 1, sizeof *t->answers);
    atd_answer *a = &t->answers[t->n_answers];
    /* An HTTP/1 request cannot go away while it is being processed (h2o stops reading the
     * connection until the answer is sent); an HTTP/2 stream can be reset, so it gets a guard
     * in its pool that forgets the answer when the request is freed. */
    struct atd_ingest_guard *g = NULL;
    if (req->version >= 0x200) {
        g = h2o_mem_alloc_shared(&req->pool, sizeof *g, on_guard_dispose);
        *g = (struct atd_ingest_guard){t, t->batch_gen, t->n_answers};
    }
    *a = (atd_answer){.req = req, .guard = g, .status = status};
    /* the common answer (one event accepted) is not copied: it is the same bytes every time */
    if (len == sizeof ACCEPTED_ONE - 1 && !memcmp(body, ACCEPTED_ONE, len))
        a->body = h2o_iovec_init(ACCEPTED_ONE, len);
    else if (len)
        a->body = h2o_strdup(&req->pool, body, len);
    if (location) a->location = h2o_strdup(&req->pool, location, location_len);
    t->n_answers++;
    if (t->values.n >= FLUSH_BYTES || t->n_staged >= FLUSH_RECORDS) {
        atd__ingest_flush(t);
        return;
    }
    if (!h2o_timeout_is_linked(&t->flush_entry)) {
        t->flush_entry.cb = on_flush_timer;
        h2o_timeout_link(t->ctx.loop, &t->ctx.zero_timeout, &t->flush_entry);
    }
}
