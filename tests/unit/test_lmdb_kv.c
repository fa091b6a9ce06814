/* LMDB specifics of the kv store (src/kv/lmdb_kv.c) that the conformance suite cannot see:
 * the on-disk layout (value header, expiry index) read back with liblmdb directly, key limits,
 * a full map, size_bytes, threads (read txns moving between threads, a second writer
 * blocking), damaged values. */
#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attribd/common.h"
#include "attribd/kv.h"
#include "harness.h"

/* --- helpers ------------------------------------------------------------------------------ */

static char *dir;
static char path[4200];

static atd_kv *open_store(uint64_t map_size, int no_sync)
{
    dir = atd_test_tmpdir("lmdbkv");
    snprintf(path, sizeof path, "%s/kv", dir);
    atd_kv_options opt = {.path = path, .map_size = map_size, .no_sync = no_sync};
    atd_kv *kv = NULL;
    int rc = atd_kv_open("lmdb", &opt, &kv);
    CHECK_EQ_INT(rc, 0);
    if (rc) exit(1);
    return kv;
}

/* Closes kv (unless NULL: already closed) and opens the same store again. */
static atd_kv *reopen(atd_kv *kv)
{
    if (kv) atd_kv_close(kv);
    atd_kv_options opt = {.path = path};
    kv = NULL;
    CHECK_EQ_INT(atd_kv_open("lmdb", &opt, &kv), 0);
    if (!kv) exit(1);
    return kv;
}

static void done(atd_kv *kv)
{
    if (kv) atd_kv_close(kv);
    atd_test_rmrf(dir);
    free(dir);
}

static atd_kv_txn *begin(atd_kv *kv, int write)
{
    atd_kv_txn *t = NULL;
    int rc = atd_kv_txn_begin(kv, write, &t);
    CHECK_EQ_INT(rc, 0);
    if (rc) exit(1);
    return t;
}

/* The store's files opened with liblmdb itself (the kv must be closed). */
typedef struct raw {
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi data, expiry;
} raw;

static int raw_open(raw *r, int write)
{
    if (mdb_env_create(&r->env) || mdb_env_set_maxdbs(r->env, 2) ||
        mdb_env_open(r->env, path, 0, 0644) ||
        mdb_txn_begin(r->env, NULL, write ? 0 : MDB_RDONLY, &r->txn) ||
        mdb_dbi_open(r->txn, "data", 0, &r->data) ||
        mdb_dbi_open(r->txn, "expiry", 0, &r->expiry))
        return -1;
    return 0;
}

static void raw_close(raw *r, int commit)
{
    if (commit)
        CHECK_EQ_INT(mdb_txn_commit(r->txn), 0);
    else
        mdb_txn_abort(r->txn);
    mdb_env_close(r->env);
}

static size_t raw_count(raw *r, MDB_dbi dbi)
{
    MDB_stat st;
    CHECK_EQ_INT(mdb_stat(r->txn, dbi, &st), 0);
    return st.ms_entries;
}

/* Size of the stored value (header included), or -1 when missing. */
static long raw_size(raw *r, const char *key)
{
    MDB_val k = {strlen(key), (void *)key}, v;
    return mdb_get(r->txn, r->data, &k, &v) ? -1 : (long)v.mv_size;
}

static int raw_has_index(raw *r, uint64_t exp, const char *key)
{
    unsigned char ik[64];
    for (int i = 0; i < 8; i++) ik[i] = (unsigned char)(exp >> (56 - 8 * i));
    memcpy(ik + 8, key, strlen(key));
    MDB_val k = {8 + strlen(key), ik}, v;
    return mdb_get(r->txn, r->expiry, &k, &v) == 0;
}

static int put_s(atd_kv_txn *t, const char *k, const char *v, int64_t exp)
{
    return atd_kv_put(t, k, strlen(k), v, strlen(v), exp);
}

/* --- layout ------------------------------------------------------------------------------ */

static void test_value_header_is_tiny(void)
{
    atd_kv *kv = open_store(0, 1);
    atd_kv_txn *t = begin(kv, 1);
    CHECK_EQ_INT(put_s(t, "never", "0123456789", 0), 0);
    CHECK_EQ_INT(put_s(t, "ms", "0123456789", 1764244800000LL), 0); /* 2025-11-27 in ms */
    CHECK_EQ_INT(put_s(t, "small", "0123456789", 100), 0);
    CHECK_EQ_INT(put_s(t, "empty", "", 0), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    atd_kv_close(kv);

    raw r;
    CHECK_EQ_INT(raw_open(&r, 0), 0);
    CHECK_EQ_INT(raw_size(&r, "never"), 11); /* 1 byte: never expires */
    CHECK_EQ_INT(raw_size(&r, "ms"), 16);    /* 6 bytes: a millisecond timestamp */
    CHECK_EQ_INT(raw_size(&r, "small"), 11);
    CHECK_EQ_INT(raw_size(&r, "empty"), 1);
    CHECK_EQ_INT(raw_count(&r, r.data), 4);
    CHECK_EQ_INT(raw_count(&r, r.expiry), 2);
    CHECK(raw_has_index(&r, 1764244800000ULL, "ms"));
    CHECK(raw_has_index(&r, 100, "small"));
    raw_close(&r, 0);
    done(NULL);
}

static void test_index_follows_overwrite_and_del(void)
{
    atd_kv *kv = open_store(0, 1);
    atd_kv_txn *t = begin(kv, 1);
    CHECK_EQ_INT(put_s(t, "a", "1", 100), 0);
    CHECK_EQ_INT(put_s(t, "b", "1", 100), 0);
    CHECK_EQ_INT(put_s(t, "c", "1", 100), 0);
    CHECK_EQ_INT(put_s(t, "d", "1", 100), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    t = begin(kv, 1);
    CHECK_EQ_INT(put_s(t, "a", "2", 200), 0); /* moves */
    CHECK_EQ_INT(put_s(t, "b", "2", 0), 0);   /* leaves the index */
    CHECK_EQ_INT(atd_kv_del(t, "c", 1), 0);   /* leaves the index */
    CHECK_EQ_INT(put_s(t, "d", "2", 100), 0); /* stays */
    CHECK_EQ_INT(put_s(t, "e", "1", 0), 0);   /* never enters */
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    atd_kv_close(kv);

    raw r;
    CHECK_EQ_INT(raw_open(&r, 0), 0);
    CHECK_EQ_INT(raw_count(&r, r.expiry), 2);
    CHECK(raw_has_index(&r, 200, "a"));
    CHECK(!raw_has_index(&r, 100, "a"));
    CHECK(!raw_has_index(&r, 100, "b"));
    CHECK(!raw_has_index(&r, 100, "c"));
    CHECK(raw_has_index(&r, 100, "d"));
    raw_close(&r, 0);

    kv = reopen(NULL);
    CHECK_EQ_INT(atd_kv_expire(kv, 1000, 100), 2);
    atd_kv_close(kv);
    CHECK_EQ_INT(raw_open(&r, 0), 0);
    CHECK_EQ_INT(raw_count(&r, r.expiry), 0);
    CHECK_EQ_INT(raw_count(&r, r.data), 2); /* b, e */
    raw_close(&r, 0);
    done(NULL);
}

/* A value whose header is damaged: get and scan say so; a put repairs it; a stale index entry
 * pointing at a newer value does not delete it. */
static int cb_none(void *ud, const void *k, size_t kl, const void *v, size_t vl) { return 0; }

static void test_damaged_value(void)
{
    atd_kv *kv = open_store(0, 1);
    atd_kv_txn *t = begin(kv, 1);
    CHECK_EQ_INT(put_s(t, "ok", "fine", 0), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    atd_kv_close(kv);

    raw r;
    CHECK_EQ_INT(raw_open(&r, 1), 0);
    MDB_val k = {3, "bad"}, v = {2, "\x80\x80"}; /* a varint that never ends */
    CHECK_EQ_INT(mdb_put(r.txn, r.data, &k, &v, 0), 0);
    MDB_val k2 = {5, "trunc"}, v2 = {0, ""}; /* no header at all */
    CHECK_EQ_INT(mdb_put(r.txn, r.data, &k2, &v2, 0), 0);
    unsigned char ik[9] = {0, 0, 0, 0, 0, 0, 0, 5, 'x'}; /* stale: "x" expires at 5 */
    MDB_val k3 = {9, ik}, v3 = {0, ""};
    CHECK_EQ_INT(mdb_put(r.txn, r.expiry, &k3, &v3, 0), 0);
    raw_close(&r, 1);

    kv = reopen(NULL);
    t = begin(kv, 0);
    atd_kv_val val;
    CHECK_EQ_INT(atd_kv_get(t, "bad", 3, &val), ATD_ECORRUPT);
    CHECK_EQ_INT(atd_kv_get(t, "trunc", 5, &val), ATD_ECORRUPT);
    CHECK_EQ_INT(atd_kv_get(t, "ok", 2, &val), 0);
    CHECK_EQ_INT(kv->ops->scan(t, "", 0, cb_none, NULL), ATD_ECORRUPT);
    atd_kv_txn_abort(t);

    t = begin(kv, 1);
    CHECK_EQ_INT(put_s(t, "bad", "repaired", 0), 0);
    CHECK_EQ_INT(atd_kv_del(t, "trunc", 5), 0);
    CHECK_EQ_INT(put_s(t, "x", "new", 50), 0); /* x's real expiry: 50 */
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    CHECK_EQ_INT(atd_kv_expire(kv, 10, 100), 0); /* the stale 5 entry goes, x stays */
    t = begin(kv, 0);
    CHECK_EQ_INT(atd_kv_get(t, "x", 1, &val), 0);
    CHECK_EQ_INT(atd_kv_get(t, "bad", 3, &val), 0);
    CHECK(val.n == 8 && memcmp(val.p, "repaired", 8) == 0);
    CHECK_EQ_INT(kv->ops->scan(t, "", 0, cb_none, NULL), 0);
    atd_kv_txn_abort(t);
    CHECK_EQ_INT(atd_kv_expire(kv, 51, 100), 1);
    done(kv);
}

/* --- limits ------------------------------------------------------------------------------ */

static void test_key_limits(void)
{
    atd_kv *kv = open_store(0, 1);
    char key[600];
    memset(key, 'k', sizeof key);
    atd_kv_txn *t = begin(kv, 1);
    CHECK_EQ_INT(atd_kv_put(t, key, 503, "v", 1, 0), 0); /* LMDB's 511 minus the index's 8 */
    CHECK_EQ_INT(atd_kv_put(t, key, 503, "v", 1, 99), 0);
    CHECK_EQ_INT(atd_kv_put(t, key, 504, "v", 1, 0), ATD_ETOOBIG);
    CHECK_EQ_INT(atd_kv_put(t, key, 0, "v", 1, 0), ATD_EINVAL);
    CHECK_EQ_INT(atd_kv_put(t, "k", 1, "v", 1, -5), ATD_EINVAL);
    CHECK_EQ_INT(atd_kv_del(t, key, 504), 0); /* cannot exist */
    atd_kv_val v;
    CHECK_EQ_INT(atd_kv_get(t, key, 504, &v), ATD_ENOTFOUND);
    CHECK_EQ_INT(atd_kv_get(t, key, 0, &v), ATD_ENOTFOUND);
    CHECK_EQ_INT(atd_kv_get(t, key, 503, &v), 0);
    /* Refused input does not poison the txn. */
    CHECK_EQ_INT(put_s(t, "after", "x", 0), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    CHECK_EQ_INT(atd_kv_expire(kv, 100, 10), 1);
    done(kv);
}

/* Both kinds of store: durable (fsync at commit) and no_sync. */
static void map_full(int no_sync)
{
    atd_kv *kv = open_store(1u << 20, no_sync); /* 1 MiB */
    atd_kv_txn *t = begin(kv, 1);
    CHECK_EQ_INT(put_s(t, "before", "kept", 0), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);

    size_t n = 64 * 1024;
    char *big = calloc(1, n);
    t = begin(kv, 1);
    int rc = 0, i;
    char key[32];
    for (i = 0; i < 100 && rc == 0; i++) {
        snprintf(key, sizeof key, "big%d", i);
        rc = atd_kv_put(t, key, strlen(key), big, n, 0);
    }
    CHECK_EQ_INT(rc, ATD_EFULL);
    CHECK(i > 1 && i < 100);
    CHECK_EQ_INT(put_s(t, "more", "x", 0), ATD_EFULL); /* the txn stays failed */
    CHECK_EQ_INT(atd_kv_txn_commit(t), ATD_EFULL);    /* and commits nothing */

    t = begin(kv, 0);
    atd_kv_val v;
    CHECK_EQ_INT(atd_kv_get(t, "before", 6, &v), 0);
    CHECK_EQ_INT(atd_kv_get(t, "big0", 4, &v), ATD_ENOTFOUND);
    atd_kv_txn_abort(t);
    t = begin(kv, 1); /* a small txn still fits */
    CHECK_EQ_INT(put_s(t, "small", "fits", 0), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    free(big);
    done(kv);
}

static void test_map_full(void)
{
    map_full(0);
    map_full(1);
}

static void test_size_bytes(void)
{
    atd_kv *kv = open_store(0, 1);
    int64_t empty = kv->ops->size_bytes(kv);
    CHECK(empty > 0 && empty < 256 * 1024);
    size_t n = 4 << 20;
    unsigned char *big = malloc(n);
    for (size_t i = 0; i < n; i++) big[i] = (unsigned char)(i * 7);
    atd_kv_txn *t = begin(kv, 1);
    CHECK_EQ_INT(atd_kv_put(t, "big", 3, big, n, 0), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    int64_t full = kv->ops->size_bytes(kv);
    CHECK(full >= empty + (int64_t)n);
    CHECK(full < empty + (int64_t)n + 256 * 1024);

    /* It is the used part of the file, not the 64 GiB map. */
    char f[4300];
    snprintf(f, sizeof f, "%s/data.mdb", path);
    struct stat st;
    CHECK_EQ_INT(stat(f, &st), 0);
    CHECK(full <= (int64_t)st.st_size);
    CHECK((int64_t)st.st_blocks * 512 >= full - 64 * 1024);

    /* Freed pages are reused, so the size does not grow on delete and re-put. */
    t = begin(kv, 1);
    CHECK_EQ_INT(atd_kv_del(t, "big", 3), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    for (int i = 0; i < 3; i++) { /* LMDB reuses a freed page once no snapshot needs it */
        t = begin(kv, 1);
        CHECK_EQ_INT(put_s(t, "tick", "x", 0), 0);
        CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    }
    t = begin(kv, 1);
    CHECK_EQ_INT(atd_kv_put(t, "big2", 4, big, n, 0), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    CHECK(kv->ops->size_bytes(kv) < full + 256 * 1024);
    free(big);
    done(kv);
}

static void test_open_errors_and_folders(void)
{
    char *d = atd_test_tmpdir("lmdbopen");
    char p[4300];
    snprintf(p, sizeof p, "%s/a/b/c", d);
    atd_kv_options opt = {.path = p};
    atd_kv *kv = NULL;
    CHECK_EQ_INT(atd_kv_open("lmdb", &opt, &kv), 0); /* nested folders are created */
    struct stat st;
    char f[4400];
    snprintf(f, sizeof f, "%s/data.mdb", p);
    CHECK_EQ_INT(stat(f, &st), 0);
    if (kv) atd_kv_close(kv);

    snprintf(p, sizeof p, "%s/file", d);
    CHECK_EQ_INT(atd_test_write_file(p, "not a folder"), 0);
    kv = (atd_kv *)1;
    CHECK_EQ_INT(atd_kv_open("lmdb", &opt, &kv), -ENOTDIR);
    CHECK(kv == NULL);
    opt.path = "";
    CHECK_EQ_INT(atd_kv_open("lmdb", &opt, &kv), ATD_EINVAL);
    opt.path = NULL;
    CHECK_EQ_INT(atd_kv_open("lmdb", &opt, &kv), ATD_EINVAL);
    atd_test_rmrf(d);
    free(d);
}

/* --- transactions and threads ----------------------------------------------------------- */

/* get's pointer may be fed back into put in the same txn (a copy): the store copies key and
 * value before writing, even when the write moves the page they point into. */
static void test_put_from_own_pointer(void)
{
    atd_kv *kv = open_store(0, 1);
    size_t n = 3000; /* a big node value: splits and moves pages */
    unsigned char *v = malloc(n);
    for (size_t i = 0; i < n; i++) v[i] = (unsigned char)(i * 13 + 1);
    atd_kv_txn *t = begin(kv, 1);
    char key[32];
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof key, "src%03d", i);
        CHECK_EQ_INT(atd_kv_put(t, key, strlen(key), v, n, 0), 0);
    }
    for (int i = 0; i < 200; i++) {
        atd_kv_val src;
        snprintf(key, sizeof key, "src%03d", i);
        CHECK_EQ_INT(atd_kv_get(t, key, strlen(key), &src), 0);
        CHECK_EQ_INT(atd_kv_put(t, src.p, 100, "k", 1, 0), 0); /* a value used as a key */
        CHECK_EQ_INT(atd_kv_get(t, key, strlen(key), &src), 0); /* the put moved it */
        snprintf(key, sizeof key, "cp%03d", i);
        CHECK_EQ_INT(atd_kv_put(t, key, strlen(key), src.p, src.n, 1000 + i), 0);
    }
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    t = begin(kv, 0);
    int bad = 0;
    for (int i = 0; i < 200; i++) {
        atd_kv_val got;
        snprintf(key, sizeof key, "cp%03d", i);
        bad += atd_kv_get(t, key, strlen(key), &got) != 0 || got.n != n ||
               memcmp(got.p, v, n) != 0;
    }
    CHECK_EQ_INT(bad, 0);
    atd_kv_val got;
    CHECK_EQ_INT(atd_kv_get(t, v, 100, &got), 0);
    atd_kv_txn_abort(t);
    free(v);
    done(kv);
}

static void test_same_thread_second_writer_refused(void)
{
    atd_kv *kv = open_store(0, 1);
    atd_kv_txn *t = begin(kv, 1), *t2 = NULL;
    CHECK_EQ_INT(atd_kv_txn_begin(kv, 1, &t2), ATD_EINVAL); /* instead of a deadlock */
    CHECK(t2 == NULL);
    CHECK_EQ_INT(atd_kv_expire(kv, 100, 10), ATD_EINVAL);
    atd_kv_txn *r = begin(kv, 0); /* reads are fine meanwhile */
    atd_kv_txn_abort(r);
    CHECK_EQ_INT(put_s(t, "k", "v", 0), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    t = begin(kv, 1); /* and the next write txn is fine */
    atd_kv_txn_abort(t);
    done(kv);
}

typedef struct writer_arg {
    atd_kv *kv;
    atomic_int began;
    int saw;
} writer_arg;

static void *second_writer(void *p)
{
    writer_arg *a = p;
    atd_kv_txn *t = NULL;
    if (atd_kv_txn_begin(a->kv, 1, &t) != 0) return NULL;
    atomic_store(&a->began, 1);
    atd_kv_val v;
    a->saw = atd_kv_get(t, "first", 5, &v) == 0; /* the first writer's commit */
    put_s(t, "second", "v", 0);
    atd_kv_txn_commit(t);
    return NULL;
}

static void test_second_writer_blocks(void)
{
    atd_kv *kv = open_store(0, 1);
    atd_kv_txn *t = begin(kv, 1);
    writer_arg a = {.kv = kv};
    pthread_t th;
    CHECK_EQ_INT(pthread_create(&th, NULL, second_writer, &a), 0);
    usleep(200 * 1000);
    CHECK_EQ_INT(atomic_load(&a.began), 0); /* waiting for our write txn */
    CHECK_EQ_INT(put_s(t, "first", "v", 0), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    pthread_join(th, NULL);
    CHECK_EQ_INT(atomic_load(&a.began), 1);
    CHECK_EQ_INT(a.saw, 1);
    t = begin(kv, 0);
    atd_kv_val v;
    CHECK_EQ_INT(atd_kv_get(t, "second", 6, &v), 0);
    atd_kv_txn_abort(t);
    done(kv);
}

typedef struct hop_arg {
    atd_kv_txn *t;
    int step, ok;
} hop_arg;

static void *read_hop(void *p)
{
    hop_arg *a = p;
    atd_kv_val v;
    if (a->step == 1)
        a->ok = atd_kv_get(a->t, "k", 1, &v) == 0 && v.n == 3 && memcmp(v.p, "old", 3) == 0;
    else
        a->ok = atd_kv_txn_commit(a->t) == 0;
    return NULL;
}

static void test_read_txn_moves_between_threads(void)
{
    atd_kv *kv = open_store(0, 1);
    atd_kv_txn *t = begin(kv, 1);
    CHECK_EQ_INT(put_s(t, "k", "old", 0), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    hop_arg a = {.t = begin(kv, 0), .step = 1};
    t = begin(kv, 1);
    CHECK_EQ_INT(put_s(t, "k", "new", 0), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    pthread_t th;
    pthread_create(&th, NULL, read_hop, &a); /* read on another thread: its snapshot */
    pthread_join(th, NULL);
    CHECK_EQ_INT(a.ok, 1);
    a.step = 2;
    pthread_create(&th, NULL, read_hop, &a); /* and end it on a third */
    pthread_join(th, NULL);
    CHECK_EQ_INT(a.ok, 1);
    done(kv);
}

typedef struct reader_arg {
    atd_kv *kv;
    int rounds, errors;
} reader_arg;

static void *reader(void *p)
{
    reader_arg *a = p;
    char key[32];
    for (int i = 0; i < a->rounds; i++) {
        atd_kv_txn *t;
        if (atd_kv_txn_begin(a->kv, 0, &t)) {
            a->errors++;
            continue;
        }
        /* Every committed batch writes the same counter to all keys: a snapshot sees one. */
        atd_kv_val first = {0}, v;
        for (int j = 0; j < 10; j++) {
            snprintf(key, sizeof key, "key%d", j);
            if (atd_kv_get(t, key, strlen(key), &v) != 0) {
                a->errors++;
                continue;
            }
            if (j == 0) first = v;
            else if (v.n != first.n || memcmp(v.p, first.p, v.n) != 0) a->errors++;
        }
        if (i % 2)
            atd_kv_txn_abort(t);
        else if (atd_kv_txn_commit(t))
            a->errors++;
    }
    return NULL;
}

static void test_concurrent_readers_and_writer(void)
{
    atd_kv *kv = open_store(0, 1);
    char key[32], val[32];
    atd_kv_txn *t = begin(kv, 1);
    for (int j = 0; j < 10; j++) {
        snprintf(key, sizeof key, "key%d", j);
        CHECK_EQ_INT(put_s(t, key, "0", 0), 0);
    }
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    enum { READERS = 6 };
    pthread_t th[READERS];
    reader_arg ra[READERS];
    for (int i = 0; i < READERS; i++) {
        ra[i] = (reader_arg){.kv = kv, .rounds = 3000};
        pthread_create(&th[i], NULL, reader, &ra[i]);
    }
    for (int round = 1; round <= 300; round++) {
        t = begin(kv, 1);
        snprintf(val, sizeof val, "%d", round);
        for (int j = 0; j < 10; j++) {
            snprintf(key, sizeof key, "key%d", j);
            CHECK_EQ_INT(put_s(t, key, val, round % 2 ? 0 : 10000 + round), 0);
        }
        CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    }
    int errors = 0;
    for (int i = 0; i < READERS; i++) {
        pthread_join(th[i], NULL);
        errors += ra[i].errors;
    }
    CHECK_EQ_INT(errors, 0);
    /* More read txns than the pool keeps, open at once. */
    atd_kv_txn *many[100];
    for (int i = 0; i < 100; i++) many[i] = begin(kv, 0);
    for (int i = 0; i < 100; i++) atd_kv_txn_abort(many[i]);
    done(kv);
}

static void test_no_sync_persists_after_close(void)
{
    atd_kv *kv = open_store(0, 1);
    atd_kv_txn *t = begin(kv, 1);
    CHECK_EQ_INT(put_s(t, "k", "v", 0), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    kv = reopen(kv);
    t = begin(kv, 0);
    atd_kv_val v;
    CHECK_EQ_INT(atd_kv_get(t, "k", 1, &v), 0);
    atd_kv_txn_abort(t);
    done(kv);
}

/* The figure the engine's batches care about; printed, not asserted (shared machine). */
static void test_batch_speed(void)
{
    atd_kv *kv = open_store(0, 1);
    enum { N = 200000, BATCH = 5000 };
    char key[32], val[64];
    memset(val, 'v', sizeof val);
    int64_t t0 = atd_mono_ms();
    for (int b = 0; b < N; b += BATCH) {
        atd_kv_txn *t = begin(kv, 1);
        for (int i = b; i < b + BATCH; i++) {
            uint32_t id = (uint32_t)i * 2654435761u;
            int kl = snprintf(key, sizeof key, "d:%08x", id);
            atd_kv_val cur;
            atd_kv_get(t, key, (size_t)kl, &cur); /* the engine reads, then writes */
            CHECK_EQ_INT(atd_kv_put(t, key, (size_t)kl, val, 40, 1764244800000LL + i), 0);
        }
        CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    }
    int64_t ms = atd_mono_ms() - t0;
    fprintf(stderr, "  %d get+put (with expiry) in batches of %d: %lld ms, %.0f/s, %lld B/key\n",
            N, BATCH, (long long)ms, ms ? N * 1000.0 / (double)ms : 0.0,
            (long long)(kv->ops->size_bytes(kv) / N));
    done(kv);
}

int main(void)
{
    RUN(test_value_header_is_tiny);
    RUN(test_index_follows_overwrite_and_del);
    RUN(test_damaged_value);
    RUN(test_key_limits);
    RUN(test_map_full);
    RUN(test_size_bytes);
    RUN(test_open_errors_and_folders);
    RUN(test_put_from_own_pointer);
    RUN(test_same_thread_second_writer_refused);
    RUN(test_second_writer_blocks);
    RUN(test_read_txn_moves_between_threads);
    RUN(test_concurrent_readers_and_writer);
    RUN(test_no_sync_persists_after_close);
    RUN(test_batch_speed);
    return atd_test_done();
}
