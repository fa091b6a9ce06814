/* The results service: events → engine → results, exactly once (see results_service.h). */
#include "attribd/results_service.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attribd/json.h"
#include "attribd/logging.h"

#define MAX_PARTITIONS 256

/* kv keys of the service; the leading '!' keeps them apart from the engine's keys */
#define KEY_POS "!svc/results/pos/"     /* + partition: next offset to read in `events` */
#define KEY_REND "!svc/results/rend/"   /* + partition: end `results` must reach */
#define KEY_SEQ "!svc/results/seq"      /* next engine sequence number */
#define KEY_OUTBOX "!svc/results/outbox" /* results of the last committed batch */

/* One event record copied out of the log (read callbacks lend their pointers). */
typedef struct pending {
    int partition;
    uint64_t offset;
    int64_t ts;
    size_t len;
    uint8_t *value; /* in the batch arena */
} pending;

struct atd_results_service {
    atd_results_options opt;
    atd_engine *engine;
    int partitions;
    uint64_t pos[MAX_PARTITIONS]; /* committed next offsets, mirrored from the kv */
    uint64_t seq;
    atd_arena arena; /* per batch */
    atd_buf outbox;  /* per batch: [u32 partition][u32 len][bytes]... */
    atd_buf enc;
    pending *batch;
    size_t batch_n, batch_cap;

    int64_t group_committed_at; /* atd_mono_ms of the last consumer-group commit in the log */

    pthread_t thread;
    atomic_int running;
    pthread_mutex_t stats_lock;
    atd_results_stats stats;
};

static void pos_key(char *buf, size_t cap, const char *prefix, int p)
{
    snprintf(buf, cap, "%s%d", prefix, p);
}

static int kv_get_u64(atd_kv_txn *txn, const char *key, uint64_t *out)
{
    atd_kv_val v;
    int rc = atd_kv_get(txn, key, strlen(key), &v);
    if (rc == ATD_ENOTFOUND) return rc;
    if (rc) return rc;
    if (v.n != 8) return ATD_ECORRUPT;
    memcpy(out, v.p, 8);
    return 0;
}

static int kv_put_u64(atd_kv_txn *txn, const char *key, uint64_t v)
{
    return atd_kv_put(txn, key, strlen(key), &v, 8, 0);
}

static uint64_t results_end(atd_results_service *s, int p)
{
    uint64_t start, end, durable;
    if (atd_log_offsets(s->opt.log, ATD_TOPIC_RESULTS, p, &start, &end, &durable)) return 0;
    return end;
}

/* Appends the outbox entries of partition p from index `skip` on (a result batch). */
static int append_outbox(atd_results_service *s, const uint8_t *box, size_t n, int p,
                         uint64_t skip)
{
    atd_log_record *recs = NULL;
    size_t nrec = 0, cap = 0, i = 0;
    uint64_t seen = 0;
    int rc = 0;
    while (i + 8 <= n) {
        uint32_t part, len;
        memcpy(&part, box + i, 4);
        memcpy(&len, box + i + 4, 4);
        if (i + 8 + len > n) return ATD_ECORRUPT;
        if ((int)part == p && seen++ >= skip) {
            if (nrec == cap) {
                cap = cap ? cap * 2 : 256;
                atd_log_record *nr = realloc(recs, cap * sizeof *recs);
                if (!nr) {
                    free(recs);
                    return -ENOMEM;
                }
                recs = nr;
            }
            recs[nrec++] = (atd_log_record){.ts = 0, .value = box + i + 8, .value_len = len};
        }
        i += 8 + len;
    }
    if (nrec) rc = atd_log_append(s->opt.log, ATD_TOPIC_RESULTS, p, recs, nrec, NULL);
    free(recs);
    return rc;
}

/* After a crash between the kv commit and the append: append what `results` lacks. */
static int recover(atd_results_service *s)
{
    atd_kv_txn *txn;
    int rc = atd_kv_txn_begin(s->opt.kv, 0, &txn);
    if (rc) return rc;
    if (!rc) rc = atd_engine_batch_flush(s->engine, txn);
    for (int p = 0; p < s->partitions && !rc; p++) {
        char key[64];
        pos_key(key, sizeof key, KEY_POS, p);
        rc = kv_get_u64(txn, key, &s->pos[p]);
        if (rc == ATD_ENOTFOUND) s->pos[p] = 0, rc = 0;
    }
    if (!rc) {
        rc = kv_get_u64(txn, KEY_SEQ, &s->seq);
        if (rc == ATD_ENOTFOUND) s->seq = 1, rc = 0;
    }
    atd_kv_val box = {0};
    if (!rc) {
        rc = atd_kv_get(txn, KEY_OUTBOX, strlen(KEY_OUTBOX), &box);
        if (rc == ATD_ENOTFOUND) box.p = NULL, box.n = 0, rc = 0;
    }
    for (int p = 0; p < s->partitions && !rc && box.n; p++) {
        char key[64];
        uint64_t want, have = results_end(s, p);
        pos_key(key, sizeof key, KEY_REND, p);
        if (kv_get_u64(txn, key, &want)) continue;
        if (have >= want) {
            if (have > want)
                ATD_ERROR("results partition %d holds %llu records, more than the %llu the "
                          "state expects", p, (unsigned long long)have, (unsigned long long)want);
            continue;
        }
        /* count this partition's outbox entries to find where the missing tail starts */
        uint64_t count = 0;
        const uint8_t *b = box.p;
        for (size_t i = 0; i + 8 <= box.n;) {
            uint32_t part, len;
            memcpy(&part, b + i, 4);
            memcpy(&len, b + i + 4, 4);
            if ((int)part == p) count++;
            i += 8 + len;
        }
        uint64_t missing = want - have;
        if (missing > count) {
            ATD_ERROR("results partition %d lacks %llu records but the outbox holds only %llu",
                      p, (unsigned long long)missing, (unsigned long long)count);
            rc = ATD_ECORRUPT;
            break;
        }
        ATD_WARN("recovery: appending %llu results of the last batch to partition %d",
                 (unsigned long long)missing, p);
        rc = append_outbox(s, box.p, box.n, p, count - missing);
    }
    atd_kv_txn_abort(txn);
    return rc;
}

atd_results_service *atd_results_service_new(const atd_results_options *opt)
{
    atd_results_service *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->opt = *opt;
    if (s->opt.batch_max <= 0) s->opt.batch_max = 2048;
    if (s->opt.merge_grace_ms <= 0) s->opt.merge_grace_ms = 200;
    int parts = atd_log_topic_ensure(opt->log, ATD_TOPIC_EVENTS, 1);
    if (parts < 1 || parts > MAX_PARTITIONS) {
        ATD_ERROR("results service: topic events: %s", atd_strerror(parts < 0 ? parts : ATD_EINVAL));
        free(s);
        return NULL;
    }
    s->partitions = parts;
    int rp = atd_log_topic_ensure(opt->log, ATD_TOPIC_RESULTS, parts);
    int dp = atd_log_topic_ensure(opt->log, ATD_TOPIC_DEADLETTER, 1);
    if (rp != parts || dp < 1) {
        ATD_ERROR("results service: topic results has %d partitions, events has %d", rp, parts);
        free(s);
        return NULL;
    }
    s->engine = atd_engine_new(opt->kv);
    atd_arena_init(&s->arena, 1 << 20);
    atd_buf_init(&s->outbox);
    atd_buf_init(&s->enc);
    pthread_mutex_init(&s->stats_lock, NULL);
    int rc = s->engine ? recover(s) : -ENOMEM;
    if (rc) {
        ATD_ERROR("results service: recovery failed: %s", atd_strerror(rc));
        atd_results_service_free(s);
        return NULL;
    }
    return s;
}

typedef struct read_ctx {
    atd_results_service *s;
    int partition;
} read_ctx;

static int collect(void *ud, const atd_log_record *rec)
{
    read_ctx *c = ud;
    atd_results_service *s = c->s;
    if (s->batch_n == s->batch_cap) {
        size_t cap = s->batch_cap ? s->batch_cap * 2 : 1024;
        pending *nb = realloc(s->batch, cap * sizeof *nb);
        if (!nb) return 1;
        s->batch = nb;
        s->batch_cap = cap;
    }
    pending *pe = &s->batch[s->batch_n++];
    pe->partition = c->partition;
    pe->offset = rec->offset;
    pe->ts = rec->ts;
    pe->len = rec->value_len;
    pe->value = atd_arena_alloc(&s->arena, rec->value_len ? rec->value_len : 1);
    memcpy(pe->value, rec->value, rec->value_len);
    return 0;
}

/* Several partitions: a k-way merge of the partitions' records by (ts, partition), each
 * partition kept in offset order. The head with the smallest ts is taken only when no other
 * partition can still hold an earlier record: each other partition has a buffered head (whose ts
 * is not smaller, since we pick the minimum), or is drained to its end and the record is older
 * than the grace period (an idle partition must not stall the others forever). A partition
 * whose buffer ran out before its end stops the merge: its next records are unknown. The ingest
 * stamps ts before it acknowledges, so a touch acknowledged before an install has a ts no later
 * than the install's and is taken first. Reorders s->batch into the merged order; returns how
 * many records of it may be processed now. */
static size_t merge_cut(atd_results_service *s, const int *exhausted)
{
    size_t head[MAX_PARTITIONS], stop[MAX_PARTITIONS];
    for (int p = 0; p < s->partitions; p++) head[p] = stop[p] = 0;
    /* records are collected partition by partition: find each partition's slice */
    for (size_t i = 0; i < s->batch_n; i++) {
        int p = s->batch[i].partition;
        if (stop[p] == 0) head[p] = i;
        stop[p] = i + 1;
    }
    for (int p = 0; p < s->partitions; p++)
        if (stop[p] == 0) head[p] = stop[p] = 0;
    pending *out = malloc((s->batch_n ? s->batch_n : 1) * sizeof *out);
    if (!out) return 0;
    int64_t horizon = atd_now_ms() - s->opt.merge_grace_ms;
    size_t n = 0;
    for (;;) {
        int best = -1;
        for (int p = 0; p < s->partitions; p++)
            if (head[p] < stop[p] &&
                (best < 0 || s->batch[head[p]].ts < s->batch[head[best]].ts))
                best = p;
        if (best < 0) break;
        const pending *pe = &s->batch[head[best]];
        int ok = 1;
        for (int p = 0; p < s->partitions && ok; p++) {
            if (p == best || head[p] < stop[p]) continue;
            ok = exhausted[p] && pe->ts <= horizon;
        }
        if (!ok) break;
        out[n++] = *pe;
        head[best]++;
    }
    memcpy(s->batch, out, n * sizeof *out);
    free(out);
    return n;
}

static void outbox_add(atd_buf *box, int partition, const atd_buf *enc)
{
    uint32_t hdr[2] = {(uint32_t)partition, (uint32_t)enc->n};
    atd_buf_put(box, hdr, sizeof hdr);
    atd_buf_put(box, enc->p, enc->n);
}

static void deadletter(atd_results_service *s, const pending *pe, const char *reason)
{
    atd_buf b;
    atd_buf_init(&b);
    atd_buf_printf(&b, "{\"topic\":\"events\",\"partition\":%d,\"offset\":%llu,\"reason\":",
                   pe->partition, (unsigned long long)pe->offset);
    atd_json_strz(&b, reason);
    atd_buf_putc(&b, '}');
    atd_log_record rec = {.ts = pe->ts, .key = b.p, .key_len = b.n, .value = pe->value,
                          .value_len = pe->len};
    int rc = atd_log_append(s->opt.log, ATD_TOPIC_DEADLETTER, 0, &rec, 1, NULL);
    if (rc) ATD_ERROR("dead-letter append failed: %s", atd_strerror(rc));
    ATD_WARN("events partition %d offset %llu parked in deadletter: %s", pe->partition,
             (unsigned long long)pe->offset, reason);
    atd_buf_free(&b);
}

int atd_results_service_step(atd_results_service *s, const atd_config *cfg, int timeout_ms)
{
    int per_part = s->opt.batch_max / s->partitions;
    if (per_part < 1) per_part = 1;
    s->batch_n = 0;
    atd_arena_reset(&s->arena);
    int exhausted[MAX_PARTITIONS];
    size_t got = 0;
    for (int p = 0; p < s->partitions; p++) {
        read_ctx c = {s, p};
        size_t before = s->batch_n;
        int rc = atd_log_read(s->opt.log, ATD_TOPIC_EVENTS, p, s->pos[p], (size_t)per_part,
                              collect, &c);
        if (rc < 0) return rc;
        exhausted[p] = (s->batch_n - before) < (size_t)per_part;
        got += s->batch_n - before;
    }
    if (got == 0) {
        if (timeout_ms > 0 && s->partitions == 1)
            atd_log_wait(s->opt.log, ATD_TOPIC_EVENTS, 0, s->pos[0], timeout_ms);
        else if (timeout_ms > 0) {
            struct timespec ts = {0, (timeout_ms > 50 ? 50 : timeout_ms) * 1000000L};
            nanosleep(&ts, NULL);
        }
        return 0;
    }
    size_t n = s->partitions == 1 ? s->batch_n : merge_cut(s, exhausted);
    if (n == 0) return 0;

    atd_kv_txn *txn;
    int rc = atd_kv_txn_begin(s->opt.kv, 1, &txn);
    if (rc) return rc;
    s->outbox.n = 0;
    /* the engine's write-behind cache: one kv write per changed key per batch */
    atd_engine_batch_begin(s->engine);
    uint64_t newpos[MAX_PARTITIONS];
    uint64_t nres[MAX_PARTITIONS] = {0};
    memcpy(newpos, s->pos, sizeof(uint64_t) * (size_t)s->partitions);
    uint64_t seq = s->seq, ndead = 0, nresults = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const pending *pe = &s->batch[i];
        newpos[pe->partition] = pe->offset + 1;
        atd_event ev;
        if (atd_event_decode(pe->value, pe->len, &s->arena, &ev)) {
            deadletter(s, pe, "record does not decode as attribd.v1.Event");
            ndead++;
            continue;
        }
        const atd_app_config *app = atd_config_app(cfg, ev.app_id.p, ev.app_id.n);
        if (!app) {
            deadletter(s, pe, "app is not in the config");
            ndead++;
            continue;
        }
        atd_result res;
        memset(&res, 0, sizeof res);
        int r = atd_engine_process(s->engine, txn, app, &ev, seq++, &res, &s->arena);
        if (r < 0) {
            rc = r;
            break;
        }
        if (r == 1) {
            res.source_partition = pe->partition;
            res.source_offset = pe->offset;
            s->enc.n = 0;
            atd_result_encode(&res, &s->enc);
            outbox_add(&s->outbox, pe->partition, &s->enc);
            nres[pe->partition]++;
            nresults++;
        }
    }
    if (!rc) rc = atd_engine_batch_flush(s->engine, txn);
    for (int p = 0; p < s->partitions && !rc; p++) {
        char key[64];
        pos_key(key, sizeof key, KEY_POS, p);
        if (newpos[p] != s->pos[p]) rc = kv_put_u64(txn, key, newpos[p]);
        if (!rc && nres[p]) {
            pos_key(key, sizeof key, KEY_REND, p);
            rc = kv_put_u64(txn, key, results_end(s, p) + nres[p]);
        }
    }
    if (!rc) rc = kv_put_u64(txn, KEY_SEQ, seq);
    if (!rc)
        rc = atd_kv_put(txn, KEY_OUTBOX, strlen(KEY_OUTBOX), s->outbox.p ? s->outbox.p : "",
                        s->outbox.n, 0);
    if (rc) {
        atd_engine_batch_discard(s->engine);
        atd_kv_txn_abort(txn);
        return rc;
    }
    rc = atd_kv_txn_commit(txn);
    if (rc) return rc;
    memcpy(s->pos, newpos, sizeof(uint64_t) * (size_t)s->partitions);
    s->seq = seq;
    for (int p = 0; p < s->partitions; p++) {
        if (!nres[p]) continue;
        rc = append_outbox(s, (const uint8_t *)s->outbox.p, s->outbox.n, p, 0);
        if (rc) {
            /* the state is committed: the next recovery appends what is missing */
            ATD_ERROR("results append failed: %s; will retry from the outbox", atd_strerror(rc));
            recover(s);
            return rc;
        }
    }
    pthread_mutex_lock(&s->stats_lock);
    s->stats.events += n;
    s->stats.results += nresults;
    s->stats.deadlettered += ndead;
    s->stats.batches++;
    pthread_mutex_unlock(&s->stats_lock);
    /* The position that counts is the one in the kv; the log's consumer group only shows it
     * to operators and tools, and a commit there costs fsyncs: once a second is enough. */
    int64_t now = atd_mono_ms();
    if (now - s->group_committed_at >= 1000) {
        s->group_committed_at = now;
        for (int p = 0; p < s->partitions; p++)
            atd_log_commit(s->opt.log, "attribution", ATD_TOPIC_EVENTS, p, s->pos[p]);
    }
    return (int)n;
}

static void *service_main(void *arg)
{
    atd_results_service *s = arg;
    int backoff = 10;
    while (atomic_load(&s->running)) {
        atd_config *cfg = atd_config_current();
        int rc = cfg ? atd_results_service_step(s, cfg, 100) : 0;
        if (cfg) atd_config_release(cfg);
        if (rc < 0) {
            ATD_ERROR("results service: %s; retrying in %d ms", atd_strerror(rc), backoff);
            struct timespec ts = {backoff / 1000, (backoff % 1000) * 1000000L};
            nanosleep(&ts, NULL);
            if (backoff < 5000) backoff *= 2;
            recover(s);
        } else {
            backoff = 10;
        }
    }
    return NULL;
}

int atd_results_service_start(atd_results_service *s)
{
    atomic_store(&s->running, 1);
    int rc = pthread_create(&s->thread, NULL, service_main, s);
    if (rc) {
        atomic_store(&s->running, 0);
        return -rc;
    }
    return 0;
}

void atd_results_service_stop(atd_results_service *s)
{
    if (!atomic_exchange(&s->running, 0)) return;
    pthread_join(s->thread, NULL);
    for (int p = 0; p < s->partitions; p++)
        atd_log_commit(s->opt.log, "attribution", ATD_TOPIC_EVENTS, p, s->pos[p]);
}

void atd_results_service_free(atd_results_service *s)
{
    if (!s) return;
    atd_results_service_stop(s);
    if (s->engine) atd_engine_free(s->engine);
    atd_arena_free(&s->arena);
    atd_buf_free(&s->outbox);
    atd_buf_free(&s->enc);
    free(s->batch);
    pthread_mutex_destroy(&s->stats_lock);
    free(s);
}

void atd_results_service_stats(atd_results_service *s, atd_results_stats *out)
{
    pthread_mutex_lock(&s->stats_lock);
    *out = s->stats;
    pthread_mutex_unlock(&s->stats_lock);
}

uint64_t atd_results_service_lag(atd_results_service *s)
{
    uint64_t lag = 0;
    for (int p = 0; p < s->partitions; p++) {
        uint64_t start, end, durable;
        if (atd_log_offsets(s->opt.log, ATD_TOPIC_EVENTS, p, &start, &end, &durable) == 0 &&
            end > s->pos[p])
            lag += end - s->pos[p];
    }
    return lag;
}

atd_engine *atd_results_service_engine(atd_results_service *s) { return s->engine; }
