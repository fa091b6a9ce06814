/* Test helpers for the engine unit tests: a real LMDB store in a temporary folder, a config
 * from YAML text, events given as JSON lines (parsed by atd_event_parse_json, as replay and
 * serve do), and each result both as the struct and as its §7 JSON line. */
#ifndef ATD_ENGINE_TEST_UTIL_H
#define ATD_ENGINE_TEST_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "attribd/config.h"
#include "attribd/engine.h"
#include "attribd/event.h"
#include "attribd/kv.h"
#include "harness.h"

#define T0 1793534400000LL /* 2026-11-01T12:00:00Z */
#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

typedef struct tenv {
    char *dir;
    atd_config *cfg;
    atd_kv *kv;
    atd_engine *eng;
    atd_arena arena;
    uint64_t seq;
    int batch; /* 1: the engine's batch cache, one transaction for the whole test */
    atd_kv_txn *txn;
    atd_result res;
    atd_buf json;
    int rc;
} tenv;

__attribute__((unused)) static void tenv_open(tenv *t, const char *yaml, int batch)
{
    memset(t, 0, sizeof *t);
    char err[512] = "";
    t->cfg = atd_config_parse_string(yaml, strlen(yaml), "test.yaml", err, sizeof err);
    if (!t->cfg) {
        fprintf(stderr, "config: %s\n", err);
        abort();
    }
    t->dir = atd_test_tmpdir("engine");
    atd_kv_options o;
    memset(&o, 0, sizeof o);
    o.path = t->dir;
    o.map_size = 1ULL << 30;
    o.no_sync = 1;
    if (atd_kv_open("lmdb", &o, &t->kv) != 0) abort();
    t->eng = atd_engine_new(t->kv);
    atd_arena_init(&t->arena, 0);
    atd_buf_init(&t->json);
    t->batch = batch;
    if (batch) {
        atd_kv_txn_begin(t->kv, 1, &t->txn);
        atd_engine_batch_begin(t->eng);
    }
}

__attribute__((unused)) static void tenv_close(tenv *t)
{
    if (t->txn) {
        CHECK_EQ_INT(atd_engine_batch_flush(t->eng, t->txn), 0);
        CHECK_EQ_INT(atd_kv_txn_commit(t->txn), 0);
    }
    atd_engine_free(t->eng);
    atd_kv_close(t->kv);
    atd_config_release(t->cfg);
    atd_arena_free(&t->arena);
    atd_buf_free(&t->json);
    atd_test_rmrf(t->dir);
    free(t->dir);
}

/* Feeds one event (printf-style JSON). Returns the result JSON, "" for a touch, or
 * "ERROR: ..." when the line was refused or the engine failed. */
static const char *feed(tenv *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *feed(tenv *t, const char *fmt, ...)
{
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    atd_event ev;
    atd_event_error err;
    t->json.n = 0;
    atd_buf_put(&t->json, "", 0);
    char *copy = atd_arena_strndup(&t->arena, line, strlen(line));
    if (atd_event_parse_json(copy, strlen(copy), ATD_PARSE_REQUIRE_TS, ATD_STR_NULL, t->cfg,
                             &t->arena, &ev, &err) != 0) {
        atd_buf_printf(&t->json, "ERROR: %s: %s", err.field, err.message);
        return t->json.p;
    }
    const atd_app_config *app = atd_config_app(t->cfg, ev.app_id.p, ev.app_id.n);
    atd_kv_txn *txn = t->txn;
    if (!t->batch) atd_kv_txn_begin(t->kv, 1, &txn);
    t->rc = atd_engine_process(t->eng, txn, app, &ev, t->seq++, &t->res, &t->arena);
    if (t->rc == 1) atd_result_to_json(&t->res, &t->json);
    if (!t->batch) {
        if (t->rc < 0) atd_kv_txn_abort(txn);
        else if (atd_kv_txn_commit(txn) != 0) t->rc = -1;
    }
    if (t->rc < 0) atd_buf_printf(&t->json, "ERROR: engine %d", t->rc);
    return t->json.p;
}

/* A NUL-terminated copy of a view ("null" when absent). */
__attribute__((unused)) static const char *cs(tenv *t, atd_str s)
{
    return s.p ? atd_arena_strndup(&t->arena, s.p, s.n) : "null";
}

__attribute__((unused)) static const char *type_of(tenv *t)
{
    static const char *names[] = {"none",    "install",       "reinstall", "re-attribution",
                                  "session", "re-engagement", "inapp"};
    return t->rc == 1 ? names[t->res.type] : "no result";
}

/* the attribution's media source ("organic"/"unknown" when it has none) */
__attribute__((unused)) static const char *attr_of(tenv *t)
{
    if (t->res.status == ATD_ATTR_ORGANIC) return "organic";
    if (t->res.status == ATD_ATTR_UNKNOWN) return "unknown";
    return cs(t, t->res.attribution.media_source);
}

__attribute__((unused)) static const char *rt_of(tenv *t)
{
    return t->res.has_retargeting ? cs(t, t->res.retargeting.media_source) : "null";
}

#define CHECK_HAS(hay, needle)                                                               \
    do {                                                                                     \
        const char *h_ = (hay), *n_ = (needle);                                              \
        if (!strstr(h_, n_))                                                                 \
            atd_test_fail(__FILE__, __LINE__, "\"%s\" not in \"%s\"", n_, h_);              \
    } while (0)

#endif
