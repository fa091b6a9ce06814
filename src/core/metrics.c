/* Metrics registry: see include/attribd/metrics.h. */
#include "attribd/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Shards per series: a thread adds to shard (its number % SHARDS). More than the HTTP threads of
 * a typical deployment; a collision only costs some cache-line sharing, never correctness. */
#define SHARDS 8
#define CACHE_LINE 64

enum { KIND_COUNTER, KIND_HISTOGRAM, KIND_GAUGE };

/* Bucket upper bounds in microseconds (Prometheus `le` in seconds). */
static const uint64_t bucket_us[] = {50,    100,    250,    500,     1000,    2500,   5000,
                                     10000, 25000,  50000,  100000,  250000,  500000, 1000000,
                                     2500000, 10000000};
#define NBUCKETS (sizeof bucket_us / sizeof bucket_us[0])

typedef struct family {
    struct family *next;
    char *name, *help;
    int kind;
    struct series *head, **tail;
} family;

typedef struct series {
    struct series *next;
    family *fam;
    char *labels;
    /* gauges */
    atd_gauge_fn fn;
    void *ud;
} series;

typedef struct {
    _Alignas(CACHE_LINE) _Atomic uint64_t v;
} counter_shard;

struct atd_counter {
    series s;
    counter_shard shard[SHARDS];
};

typedef struct {
    _Alignas(CACHE_LINE) _Atomic uint64_t count[NBUCKETS + 1]; /* last: over every bound */
    _Atomic uint64_t sum_us;
} histogram_shard;

struct atd_histogram {
    series s;
    histogram_shard shard[SHARDS];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static family *families, **families_tail = &families;

static _Atomic unsigned next_thread_no;
static _Thread_local int my_shard = -1;

static inline int shard_index(void)
{
    if (my_shard < 0) my_shard = (int)(atomic_fetch_add(&next_thread_no, 1) % SHARDS);
    return my_shard;
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s ? s : "");
    if (!p) abort();
    return p;
}

static void *xcalloc(size_t size)
{
    void *p = aligned_alloc(CACHE_LINE, (size + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE);
    if (!p) abort();
    memset(p, 0, size);
    return p;
}

/* Under lock: the family of name (created with kind when missing). */
static family *family_get(const char *name, const char *help, int kind)
{
    for (family *f = families; f; f = f->next)
        if (!strcmp(f->name, name)) return f;
    family *f = calloc(1, sizeof *f);
    if (!f) abort();
    f->name = xstrdup(name);
    f->help = xstrdup(help);
    f->kind = kind;
    f->tail = &f->head;
    *families_tail = f;
    families_tail = &f->next;
    return f;
}

static series *series_find(family *f, const char *labels)
{
    for (series *s = f->head; s; s = s->next)
        if (!strcmp(s->labels, labels ? labels : "")) return s;
    return NULL;
}

static void series_link(family *f, series *s, const char *labels)
{
    s->fam = f;
    s->labels = xstrdup(labels);
    *f->tail = s;
    f->tail = &s->next;
}

atd_counter *atd_metrics_counter(const char *name, const char *help, const char *labels)
{
    pthread_mutex_lock(&lock);
    family *f = family_get(name, help, KIND_COUNTER);
    atd_counter *c = (atd_counter *)series_find(f, labels);
    if (!c) {
        c = xcalloc(sizeof *c);
        series_link(f, &c->s, labels);
    }
    pthread_mutex_unlock(&lock);
    return c;
}

void atd_counter_add(atd_counter *c, uint64_t n)
{
    atomic_fetch_add_explicit(&c->shard[shard_index()].v, n, memory_order_relaxed);
}

uint64_t atd_counter_value(const atd_counter *c)
{
    uint64_t sum = 0;
    for (int i = 0; i < SHARDS; i++)
        sum += atomic_load_explicit(&c->shard[i].v, memory_order_relaxed);
    return sum;
}

atd_histogram *atd_metrics_histogram(const char *name, const char *help, const char *labels)
{
    pthread_mutex_lock(&lock);
    family *f = family_get(name, help, KIND_HISTOGRAM);
    atd_histogram *h = (atd_histogram *)series_find(f, labels);
    if (!h) {
        h = xcalloc(sizeof *h);
        series_link(f, &h->s, labels);
    }
    pthread_mutex_unlock(&lock);
    return h;
}

void atd_histogram_observe_us(atd_histogram *h, uint64_t us)
{
    histogram_shard *s = &h->shard[shard_index()];
    size_t b = 0;
    while (b < NBUCKETS && us > bucket_us[b]) b++;
    atomic_fetch_add_explicit(&s->count[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->sum_us, us, memory_order_relaxed);
}

void atd_metrics_gauge(const char *name, const char *help, const char *labels, atd_gauge_fn fn,
                       void *ud)
{
    pthread_mutex_lock(&lock);
    family *f = family_get(name, help, KIND_GAUGE);
    series *s = series_find(f, labels);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) abort();
        series_link(f, s, labels);
    }
    s->fn = fn;
    s->ud = ud;
    pthread_mutex_unlock(&lock);
}

void atd_metrics_gauge_remove(atd_gauge_fn fn, void *ud)
{
    pthread_mutex_lock(&lock);
    for (family *f = families; f; f = f->next)
        if (f->kind == KIND_GAUGE)
            for (series *s = f->head; s; s = s->next)
                if (s->fn == fn && s->ud == ud) s->fn = NULL, s->ud = NULL;
    pthread_mutex_unlock(&lock);
}

/* `name{labels}` or `name{labels,extra}`; extra may be NULL. */
static void put_name(atd_buf *out, const char *name, const char *suffix, const char *labels,
                     const char *extra)
{
    atd_buf_puts(out, name);
    atd_buf_puts(out, suffix);
    int has = labels && *labels;
    if (!has && !extra) return;
    atd_buf_putc(out, '{');
    if (has) atd_buf_puts(out, labels);
    if (extra) {
        if (has) atd_buf_putc(out, ',');
        atd_buf_puts(out, extra);
    }
    atd_buf_putc(out, '}');
}

static void render_histogram(atd_buf *out, const atd_histogram *h)
{
    uint64_t count[NBUCKETS + 1] = {0}, sum_us = 0;
    for (int i = 0; i < SHARDS; i++) {
        for (size_t b = 0; b <= NBUCKETS; b++)
            count[b] += atomic_load_explicit(&h->shard[i].count[b], memory_order_relaxed);
        sum_us += atomic_load_explicit(&h->shard[i].sum_us, memory_order_relaxed);
    }
    uint64_t cum = 0;
    char le[48];
    for (size_t b = 0; b <= NBUCKETS; b++) {
        cum += count[b];
        if (b < NBUCKETS)
            snprintf(le, sizeof le, "le=\"%g\"", (double)bucket_us[b] / 1e6);
        else
            snprintf(le, sizeof le, "le=\"+Inf\"");
        put_name(out, h->s.fam->name, "_bucket", h->s.labels, le);
        atd_buf_printf(out, " %llu\n", (unsigned long long)cum);
    }
    put_name(out, h->s.fam->name, "_sum", h->s.labels, NULL);
    atd_buf_printf(out, " %.6f\n", (double)sum_us / 1e6);
    put_name(out, h->s.fam->name, "_count", h->s.labels, NULL);
    atd_buf_printf(out, " %llu\n", (unsigned long long)cum);
}

void atd_metrics_render(atd_buf *out)
{
    static const char *type_names[] = {"counter", "histogram", "gauge"};
    pthread_mutex_lock(&lock);
    for (family *f = families; f; f = f->next) {
        int any = 0;
        for (series *s = f->head; s; s = s->next) any |= f->kind != KIND_GAUGE || s->fn;
        if (!any) continue;
        atd_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
                       type_names[f->kind]);
        for (series *s = f->head; s; s = s->next) {
            switch (f->kind) {
            case KIND_COUNTER:
                put_name(out, f->name, "", s->labels, NULL);
                atd_buf_printf(out, " %llu\n",
                               (unsigned long long)atd_counter_value((atd_counter *)s));
                break;
            case KIND_HISTOGRAM: render_histogram(out, (atd_histogram *)s); break;
            case KIND_GAUGE:
                if (!s->fn) break;
                put_name(out, f->name, "", s->labels, NULL);
                atd_buf_printf(out, " %.17g\n", s->fn(s->ud));
                break;
            }
        }
    }
    pthread_mutex_unlock(&lock);
}
