/* The kv conformance suite: the contract of include/attribd/kv.h, checked through the vtable
 * only, against every backend in `fixtures` below. A backend joins by adding a fixture that
 * prepares an empty store (and skips itself when its server is unavailable). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attribd/common.h"
#include "attribd/kv.h"
#include "harness.h"

/* --- fixtures: one per backend ----------------------------------------------------------- */

typedef struct kv_fixture {
    const char *backend;
    /* Prepares a fresh, empty store and fills opt: 0 ok, 1 skip this backend. */
    int (*setup)(struct kv_fixture *f);
    void (*teardown)(struct kv_fixture *f);
    atd_kv_options opt;
    char *dir;
    char path[4200];
} kv_fixture;

static int lmdb_setup(kv_fixture *f)
{
    f->dir = atd_test_tmpdir("kv");
    /* A folder that does not exist yet: open must create it. */
    snprintf(f->path, sizeof f->path, "%s/store", f->dir);
    memset(&f->opt, 0, sizeof f->opt);
    f->opt.path = f->path;
    return 0;
}

static void lmdb_teardown(kv_fixture *f)
{
    atd_test_rmrf(f->dir);
    free(f->dir);
    f->dir = NULL;
}

static kv_fixture fixtures[] = {
    {.backend = "lmdb", .setup = lmdb_setup, .teardown = lmdb_teardown},
};

static kv_fixture *fx; /* the backend under test */

/* Opens a fresh empty store of the current backend. */
static atd_kv *fresh(void)
{
    if (fx->setup(fx) != 0) return NULL;
    atd_kv *kv = NULL;
    int rc = atd_kv_open(fx->backend, &fx->opt, &kv);
    CHECK_EQ_INT(rc, 0);
    if (rc) {
        fprintf(stderr, "  open %s: %s\n", fx->backend, atd_strerror(rc));
        fx->teardown(fx);
        return NULL;
    }
    return kv;
}

static void finish(atd_kv *kv)
{
    if (kv) atd_kv_close(kv);
    fx->teardown(fx);
}

static atd_kv *reopen(atd_kv *kv)
{
    atd_kv_close(kv);
    kv = NULL;
    CHECK_EQ_INT(atd_kv_open(fx->backend, &fx->opt, &kv), 0);
    return kv;
}

/* --- helpers ------------------------------------------------------------------------------ */

static atd_kv_txn *begin(atd_kv *kv, int write)
{
    atd_kv_txn *t = NULL;
    int rc = atd_kv_txn_begin(kv, write, &t);
    CHECK_EQ_INT(rc, 0);
    if (rc) {
        fprintf(stderr, "txn_begin: %s\n", atd_strerror(rc));
        exit(1); /* nothing below can run without a txn */
    }
    return t;
}

static int put_s(atd_kv_txn *t, const char *k, const char *v, int64_t exp)
{
    return atd_kv_put(t, k, strlen(k), v, strlen(v), exp);
}

/* 1 when key holds exactly the string v, 0 when missing, -1 when it holds something else. */
static int has(atd_kv_txn *t, const char *k, const char *v)
{
    atd_kv_val val = {(const void *)1, 99};
    int rc = atd_kv_get(t, k, strlen(k), &val);
    if (rc == ATD_ENOTFOUND) return 0;
    if (rc != 0) return -2;
    return val.p && val.n == strlen(v) && memcmp(val.p, v, val.n) == 0 ? 1 : -1;
}

/* In a fresh read txn. */
static int has_now(atd_kv *kv, const char *k, const char *v)
{
    atd_kv_txn *t = begin(kv, 0);
    int r = has(t, k, v);
    atd_kv_txn_abort(t);
    return r;
}

static uint64_t rng_state = 88172645463325252ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void fill_random(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) p[i] = (unsigned char)rnd();
}

/* --- the contract ------------------------------------------------------------------------ */

static void test_put_get_del(void)
{
    atd_kv *kv = fresh();
    if (!kv) return;
    atd_kv_txn *t = begin(kv, 1);
    CHECK_EQ_INT(put_s(t, "alpha", "one", 0), 0);
    CHECK_EQ_INT(put_s(t, "beta", "two", 0), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    CHECK_EQ_INT(has_now(kv, "alpha", "one"), 1);
    CHECK_EQ_INT(has_now(kv, "beta", "two"), 1);

    t = begin(kv, 1);
    CHECK_EQ_INT(atd_kv_del(t, "alpha", 5), 0);
    CHECK_EQ_INT(atd_kv_del(t, "never-there", 11), 0); /* deleting a missing key is fine */
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    CHECK_EQ_INT(has_now(kv, "alpha", "one"), 0);
    CHECK_EQ_INT(has_now(kv, "beta", "two"), 1);
    finish(kv);
}

static void test_overwrite(void)
{
    atd_kv *kv = fresh();
    if (!kv) return;
    atd_kv_txn *t = begin(kv, 1);
    CHECK_EQ_INT(put_s(t, "k", "short", 0), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    t = begin(kv, 1);
    CHECK_EQ_INT(put_s(t, "k", "a much longer value than before", 0), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    CHECK_EQ_INT(has_now(kv, "k", "a much longer value than before"), 1);
    t = begin(kv, 1);
    CHECK_EQ_INT(put_s(t, "k", "s", 0), 0);
    CHECK_EQ_INT(put_s(t, "k", "x", 0), 0); /* twice in one txn: the last one wins */
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    CHECK_EQ_INT(has_now(kv, "k", "x"), 1);
    finish(kv);
}

static void test_get_missing(void)
{
    atd_kv *kv = fresh();
    if (!kv) return;
    CHECK_EQ_INT(has_now(kv, "nothing", ""), 0); /* empty store */
    atd_kv_txn *t = begin(kv, 1);
    CHECK_EQ_INT(put_s(t, "abc", "v", 0), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    /* Neighbours of a stored key are not it. */
    CHECK_EQ_INT(has_now(kv, "ab", "v"), 0);
    CHECK_EQ_INT(has_now(kv, "abcd", "v"), 0);
    CHECK_EQ_INT(has_now(kv, "abd", "v"), 0);
    CHECK_EQ_INT(has_now(kv, "abc", "v"), 1);
    t = begin(kv, 0);
    atd_kv_val v = {(const void *)1, 5};
    CHECK_EQ_INT(atd_kv_get(t, "zzz", 3, &v), ATD_ENOTFOUND);
    atd_kv_txn_abort(t);
    finish(kv);
}

static void test_abort_discards(void)
{
    atd_kv *kv = fresh();
    if (!kv) return;
    atd_kv_txn *t = begin(kv, 1);
    CHECK_EQ_INT(put_s(t, "kept", "1", 0), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    t = begin(kv, 1);
    CHECK_EQ_INT(put_s(t, "gone", "2", 0), 0);
    CHECK_EQ_INT(put_s(t, "kept", "changed", 0), 0);
    CHECK_EQ_INT(atd_kv_del(t, "kept", 4), 0);
    atd_kv_txn_abort(t);
    CHECK_EQ_INT(has_now(kv, "gone", "2"), 0);
    CHECK_EQ_INT(has_now(kv, "kept", "1"), 1);
    /* The store takes the next write txn after an abort. */
    t = begin(kv, 1);
    CHECK_EQ_INT(put_s(t, "after", "3", 0), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    CHECK_EQ_INT(has_now(kv, "after", "3"), 1);
    finish(kv);
}

static void test_commit_persists_reopen(void)
{
    atd_kv *kv = fresh();
    if (!kv) return;
    atd_kv_txn *t = begin(kv, 1);
    CHECK_EQ_INT(put_s(t, "durable", "yes", 0), 0);
    CHECK_EQ_INT(put_s(t, "expiring", "later", 4102444800000LL), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    t = begin(kv, 1);
    CHECK_EQ_INT(put_s(t, "aborted", "no", 0), 0);
    atd_kv_txn_abort(t);
    kv = reopen(kv);
    if (!kv) {
        fx->teardown(fx);
        return;
    }
    CHECK_EQ_INT(has_now(kv, "durable", "yes"), 1);
    CHECK_EQ_INT(has_now(kv, "expiring", "later"), 1);
    CHECK_EQ_INT(has_now(kv, "aborted", "no"), 0);
    finish(kv);
}

static void test_read_isolation(void)
{
    atd_kv *kv = fresh();
    if (!kv) return;
    atd_kv_txn *t = begin(kv, 1);
    CHECK_EQ_INT(put_s(t, "k", "old", 0), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);

    atd_kv_txn *r = begin(kv, 0); /* its snapshot: k=old, no "new" */
    CHECK_EQ_INT(has(r, "k", "old"), 1);
    t = begin(kv, 1);
    CHECK_EQ_INT(put_s(t, "k", "newer", 0), 0);
    CHECK_EQ_INT(put_s(t, "new", "1", 0), 0);
    CHECK_EQ_INT(has(r, "k", "old"), 1); /* uncommitted: invisible */
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    CHECK_EQ_INT(has(r, "k", "old"), 1); /* committed after r began: still invisible */
    CHECK_EQ_INT(has(r, "new", "1"), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(r), 0);
    CHECK_EQ_INT(has_now(kv, "k", "newer"), 1);
    CHECK_EQ_INT(has_now(kv, "new", "1"), 1);
    finish(kv);
}

static void test_write_sees_own_writes(void)
{
    atd_kv *kv = fresh();
    if (!kv) return;
    atd_kv_txn *t = begin(kv, 1);
    CHECK_EQ_INT(put_s(t, "a", "1", 0), 0);
    CHECK_EQ_INT(has(t, "a", "1"), 1);
    CHECK_EQ_INT(put_s(t, "a", "2", 0), 0);
    CHECK_EQ_INT(has(t, "a", "2"), 1);
    CHECK_EQ_INT(atd_kv_del(t, "a", 1), 0);
    CHECK_EQ_INT(has(t, "a", "2"), 0);
    CHECK_EQ_INT(put_s(t, "b", "3", 0), 0);
    atd_kv_val keys[2] = {{"a", 1}, {"b", 1}}, vals[2];
    CHECK_EQ_INT(atd_kv_get_many(t, keys, 2, vals), 0);
    CHECK(vals[0].p == NULL);
    CHECK(vals[1].p && vals[1].n == 1 && memcmp(vals[1].p, "3", 1) == 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    CHECK_EQ_INT(has_now(kv, "a", "2"), 0);
    CHECK_EQ_INT(has_now(kv, "b", "3"), 1);
    finish(kv);
}

static void test_get_many(void)
{
    atd_kv *kv = fresh();
    if (!kv) return;
    atd_kv_txn *t = begin(kv, 1);
    CHECK_EQ_INT(put_s(t, "d:1", "first", 0), 0);
    CHECK_EQ_INT(put_s(t, "d:3", "third", 0), 0);
    CHECK_EQ_INT(put_s(t, "d:5", "", 0), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);

    atd_kv_val keys[6] = {{"d:3", 3}, {"d:2", 3}, {"d:1", 3}, {"x", 1}, {"d:5", 3}, {"d:3", 3}};
    atd_kv_val vals[6];
    for (int i = 0; i < 6; i++) vals[i] = (atd_kv_val){(const void *)1, 77};
    t = begin(kv, 0);
    CHECK_EQ_INT(atd_kv_get_many(t, keys, 6, vals), 0);
    CHECK(vals[0].p && vals[0].n == 5 && memcmp(vals[0].p, "third", 5) == 0);
    CHECK(vals[1].p == NULL);
    CHECK(vals[2].p && vals[2].n == 5 && memcmp(vals[2].p, "first", 5) == 0);
    CHECK(vals[3].p == NULL);
    CHECK(vals[4].p != NULL && vals[4].n == 0); /* empty, not missing */
    CHECK(vals[5].p && vals[5].n == 5 && memcmp(vals[5].p, "third", 5) == 0);
    CHECK_EQ_INT(atd_kv_get_many(t, keys, 0, vals), 0);
    atd_kv_txn_abort(t);
    finish(kv);
}

static void test_large_values(void)
{
    atd_kv *kv = fresh();
    if (!kv) return;
    size_t n = 1u << 20;
    unsigned char *a = malloc(n), *b = malloc(n);
    fill_random(a, n);
    fill_random(b, n);
    atd_kv_txn *t = begin(kv, 1);
    CHECK_EQ_INT(atd_kv_put(t, "big-a", 5, a, n, 0), 0);
    CHECK_EQ_INT(atd_kv_put(t, "big-b", 5, b, n - 1, 0), 0);
    CHECK_EQ_INT(put_s(t, "small", "s", 0), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    kv = reopen(kv);
    if (!kv) {
        fx->teardown(fx);
        free(a);
        free(b);
        return;
    }
    t = begin(kv, 0);
    atd_kv_val v;
    CHECK_EQ_INT(atd_kv_get(t, "big-a", 5, &v), 0);
    CHECK(v.n == n && memcmp(v.p, a, n) == 0);
    CHECK_EQ_INT(atd_kv_get(t, "big-b", 5, &v), 0);
    CHECK(v.n == n - 1 && memcmp(v.p, b, n - 1) == 0);
    CHECK_EQ_INT(has(t, "small", "s"), 1);
    atd_kv_txn_abort(t);
    /* Overwrite a big value with a small one and back. */
    t = begin(kv, 1);
    CHECK_EQ_INT(put_s(t, "big-a", "tiny", 0), 0);
    CHECK_EQ_INT(atd_kv_put(t, "small", 5, b, n, 0), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    CHECK_EQ_INT(has_now(kv, "big-a", "tiny"), 1);
    t = begin(kv, 0);
    CHECK_EQ_INT(atd_kv_get(t, "small", 5, &v), 0);
    CHECK(v.n == n && memcmp(v.p, b, n) == 0);
    atd_kv_txn_abort(t);
    free(a);
    free(b);
    finish(kv);
}

static void test_empty_value(void)
{
    atd_kv *kv = fresh();
    if (!kv) return;
    atd_kv_txn *t = begin(kv, 1);
    CHECK_EQ_INT(atd_kv_put(t, "empty", 5, "", 0, 0), 0);
    CHECK_EQ_INT(atd_kv_put(t, "empty-null", 10, NULL, 0, 0), 0);
    CHECK_EQ_INT(atd_kv_put(t, "empty-exp", 9, "", 0, 4102444800000LL), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    t = begin(kv, 0);
    atd_kv_val v = {NULL, 9};
    CHECK_EQ_INT(atd_kv_get(t, "empty", 5, &v), 0);
    CHECK(v.p != NULL && v.n == 0);
    v = (atd_kv_val){NULL, 9};
    CHECK_EQ_INT(atd_kv_get(t, "empty-null", 10, &v), 0);
    CHECK(v.p != NULL && v.n == 0);
    v = (atd_kv_val){NULL, 9};
    CHECK_EQ_INT(atd_kv_get(t, "empty-exp", 9, &v), 0);
    CHECK(v.p != NULL && v.n == 0);
    atd_kv_txn_abort(t);
    finish(kv);
}

static void test_binary_keys(void)
{
    atd_kv *kv = fresh();
    if (!kv) return;
    static const char k1[] = {'a', 0, 'b'}, k2[] = {'a', 0, 'c'}, k3[] = {'a'},
                      k4[] = {0}, k5[] = {'a', 0};
    static const unsigned char v1[] = {0, 1, 0, 255};
    atd_kv_txn *t = begin(kv, 1);
    CHECK_EQ_INT(atd_kv_put(t, k1, 3, v1, sizeof v1, 0), 0);
    CHECK_EQ_INT(atd_kv_put(t, k2, 3, "c", 1, 0), 0);
    CHECK_EQ_INT(atd_kv_put(t, k3, 1, "a", 1, 0), 0);
    CHECK_EQ_INT(atd_kv_put(t, k4, 1, "zero", 4, 0), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    t = begin(kv, 0);
    atd_kv_val v;
    CHECK_EQ_INT(atd_kv_get(t, k1, 3, &v), 0);
    CHECK(v.n == sizeof v1 && memcmp(v.p, v1, sizeof v1) == 0);
    CHECK_EQ_INT(atd_kv_get(t, k2, 3, &v), 0);
    CHECK(v.n == 1 && memcmp(v.p, "c", 1) == 0);
    CHECK_EQ_INT(atd_kv_get(t, k3, 1, &v), 0);
    CHECK(v.n == 1 && memcmp(v.p, "a", 1) == 0);
    CHECK_EQ_INT(atd_kv_get(t, k4, 1, &v), 0);
    CHECK(v.n == 4 && memcmp(v.p, "zero", 4) == 0);
    CHECK_EQ_INT(atd_kv_get(t, k5, 2, &v), ATD_ENOTFOUND); /* "a\0" is none of them */
    atd_kv_txn_abort(t);
    t = begin(kv, 1);
    CHECK_EQ_INT(atd_kv_del(t, k1, 3), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    t = begin(kv, 0);
    CHECK_EQ_INT(atd_kv_get(t, k1, 3, &v), ATD_ENOTFOUND);
    CHECK_EQ_INT(atd_kv_get(t, k2, 3, &v), 0);
    atd_kv_txn_abort(t);
    finish(kv);
}

typedef struct scan_acc {
    char keys[64][16];
    size_t klen[64];
    char vals[64][16];
    int n;
    int stop_after; /* 0: never stop */
} scan_acc;

static int scan_cb(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    scan_acc *a = ud;
    if (a->n < 64 && klen < 16 && vlen < 16) {
        memcpy(a->keys[a->n], key, klen);
        a->keys[a->n][klen] = 0;
        a->klen[a->n] = klen;
        memcpy(a->vals[a->n], val, vlen);
        a->vals[a->n][vlen] = 0;
    }
    a->n++;
    return a->stop_after && a->n >= a->stop_after;
}

static int scan(atd_kv_txn *t, const void *prefix, size_t plen, scan_acc *a)
{
    return t->kv->ops->scan(t, prefix, plen, scan_cb, a);
}

static void test_scan_prefix(void)
{
    atd_kv *kv = fresh();
    if (!kv) return;
    atd_kv_txn *t = begin(kv, 1);
    /* Inserted out of order; "u:" keys surround the "d:" ones in key order. */
    const char *keys[] = {"d:3", "u:1", "d:10", "d:1", "d", "c:9", "d:2", "e", "d:\xff"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        CHECK_EQ_INT(put_s(t, keys[i], keys[i], i == 2 ? 4102444800000LL : 0), 0);
    static const char nul_key[] = {'d', ':', 0, 'x'};
    CHECK_EQ_INT(atd_kv_put(t, nul_key, 4, "nul", 3, 0), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);

    t = begin(kv, 0);
    scan_acc a = {0};
    CHECK_EQ_INT(scan(t, "d:", 2, &a), 0);
    CHECK_EQ_INT(a.n, 6);
    /* Bytewise key order: "d:\0x" < "d:1" < "d:10" < "d:2" < "d:3" < "d:\xff". */
    CHECK(a.klen[0] == 4 && memcmp(a.keys[0], nul_key, 4) == 0);
    CHECK_STR(a.vals[0], "nul");
    CHECK_STR(a.keys[1], "d:1");
    CHECK_STR(a.keys[2], "d:10");
    CHECK_STR(a.vals[2], "d:10"); /* values come with the keys */
    CHECK_STR(a.keys[3], "d:2");
    CHECK_STR(a.keys[4], "d:3");
    CHECK_STR(a.keys[5], "d:\xff");

    scan_acc b = {.stop_after = 2}; /* early stop */
    CHECK_EQ_INT(scan(t, "d:", 2, &b), 0);
    CHECK_EQ_INT(b.n, 2);
    CHECK_STR(b.keys[1], "d:1");

    scan_acc c = {0}; /* no match, between stored keys */
    CHECK_EQ_INT(scan(t, "d:4", 3, &c), 0);
    CHECK_EQ_INT(c.n, 0);
    scan_acc d = {0}; /* no match, after every key */
    CHECK_EQ_INT(scan(t, "zz", 2, &d), 0);
    CHECK_EQ_INT(d.n, 0);
    scan_acc e = {0}; /* the prefix is itself a key */
    CHECK_EQ_INT(scan(t, "e", 1, &e), 0);
    CHECK_EQ_INT(e.n, 1);
    scan_acc f = {0}; /* everything */
    CHECK_EQ_INT(scan(t, "", 0, &f), 0);
    CHECK_EQ_INT(f.n, 10);
    CHECK_STR(f.keys[0], "c:9");
    CHECK_STR(f.keys[9], "u:1");
    atd_kv_txn_abort(t);

    /* A write txn scans its own uncommitted writes. */
    t = begin(kv, 1);
    CHECK_EQ_INT(put_s(t, "d:25", "x", 0), 0);
    CHECK_EQ_INT(atd_kv_del(t, "d:1", 3), 0);
    scan_acc g = {0};
    CHECK_EQ_INT(scan(t, "d:", 2, &g), 0);
    CHECK_EQ_INT(g.n, 6);
    CHECK_STR(g.keys[1], "d:10");
    CHECK_STR(g.keys[3], "d:25");
    atd_kv_txn_abort(t);
    finish(kv);
}

static int count_cb(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    ++*(size_t *)ud;
    return 0;
}

static size_t count_all(atd_kv *kv)
{
    size_t n = 0;
    atd_kv_txn *t = begin(kv, 0);
    CHECK_EQ_INT(kv->ops->scan(t, "", 0, count_cb, &n), 0);
    atd_kv_txn_abort(t);
    return n;
}

static void test_expire_due_only(void)
{
    atd_kv *kv = fresh();
    if (!kv) return;
    atd_kv_txn *t = begin(kv, 1);
    CHECK_EQ_INT(put_s(t, "e100", "a", 100), 0);
    CHECK_EQ_INT(put_s(t, "e200", "b", 200), 0);
    CHECK_EQ_INT(put_s(t, "e300", "c", 300), 0);
    CHECK_EQ_INT(put_s(t, "never", "d", 0), 0);
    CHECK_EQ_INT(put_s(t, "e199", "e", 199), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);

    CHECK_EQ_INT(atd_kv_expire(kv, 100, 1000), 0); /* expire_at < now, strictly */
    /* Expiry is not a visibility rule: a due entry stays readable until expire removes it. */
    CHECK_EQ_INT(has_now(kv, "e100", "a"), 1);
    CHECK_EQ_INT(atd_kv_expire(kv, 200, 1000), 2); /* e100, e199 */
    CHECK_EQ_INT(has_now(kv, "e100", "a"), 0);
    CHECK_EQ_INT(has_now(kv, "e199", "e"), 0);
    CHECK_EQ_INT(has_now(kv, "e200", "b"), 1);
    CHECK_EQ_INT(has_now(kv, "e300", "c"), 1);
    CHECK_EQ_INT(atd_kv_expire(kv, 200, 1000), 0); /* idempotent */
    CHECK_EQ_INT(atd_kv_expire(kv, INT64_MAX, 1000), 2);
    CHECK_EQ_INT(has_now(kv, "never", "d"), 1); /* 0 never expires */
    CHECK_EQ_INT(count_all(kv), 1);
    finish(kv);
}

static void test_expire_max_entries(void)
{
    atd_kv *kv = fresh();
    if (!kv) return;
    atd_kv_txn *t = begin(kv, 1);
    char k[32];
    for (int i = 0; i < 25; i++) {
        snprintf(k, sizeof k, "k%02d", i);
        CHECK_EQ_INT(put_s(t, k, "v", 1000 + (int64_t)(i % 5)), 0); /* shared expire_at too */
    }
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    CHECK_EQ_INT(atd_kv_expire(kv, 5000, 0), 0);
    CHECK_EQ_INT(count_all(kv), 25);
    CHECK_EQ_INT(atd_kv_expire(kv, 5000, 10), 10);
    CHECK_EQ_INT(count_all(kv), 15);
    CHECK_EQ_INT(atd_kv_expire(kv, 5000, 10), 10);
    CHECK_EQ_INT(atd_kv_expire(kv, 5000, 10), 5);
    CHECK_EQ_INT(atd_kv_expire(kv, 5000, 10), 0);
    CHECK_EQ_INT(count_all(kv), 0);

    /* Bounded work takes the earliest first. */
    t = begin(kv, 1);
    CHECK_EQ_INT(put_s(t, "late", "v", 3000), 0);
    CHECK_EQ_INT(put_s(t, "early", "v", 1000), 0);
    CHECK_EQ_INT(put_s(t, "mid", "v", 2000), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    CHECK_EQ_INT(atd_kv_expire(kv, 5000, 1), 1);
    CHECK_EQ_INT(has_now(kv, "early", "v"), 0);
    CHECK_EQ_INT(has_now(kv, "mid", "v"), 1);
    CHECK_EQ_INT(atd_kv_expire(kv, 5000, 1), 1);
    CHECK_EQ_INT(has_now(kv, "mid", "v"), 0);
    CHECK_EQ_INT(has_now(kv, "late", "v"), 1);
    finish(kv);
}

static void test_expire_after_overwrite(void)
{
    atd_kv *kv = fresh();
    if (!kv) return;
    atd_kv_txn *t = begin(kv, 1);
    CHECK_EQ_INT(put_s(t, "later", "v1", 100), 0);
    CHECK_EQ_INT(put_s(t, "forever", "v1", 100), 0);
    CHECK_EQ_INT(put_s(t, "sooner", "v1", 5000), 0);
    CHECK_EQ_INT(put_s(t, "same", "v1", 100), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    t = begin(kv, 1);
    CHECK_EQ_INT(put_s(t, "later", "v2", 1000), 0);  /* pushed back */
    CHECK_EQ_INT(put_s(t, "forever", "v2", 0), 0);   /* no longer expires */
    CHECK_EQ_INT(put_s(t, "sooner", "v2", 50), 0);   /* brought forward */
    CHECK_EQ_INT(put_s(t, "same", "v2", 100), 0);    /* same expire_at, new value */
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);

    CHECK_EQ_INT(atd_kv_expire(kv, 500, 1000), 2); /* sooner (50), same (100) */
    CHECK_EQ_INT(has_now(kv, "sooner", "v2"), 0);
    CHECK_EQ_INT(has_now(kv, "same", "v2"), 0);
    CHECK_EQ_INT(has_now(kv, "later", "v2"), 1);
    CHECK_EQ_INT(has_now(kv, "forever", "v2"), 1);
    CHECK_EQ_INT(atd_kv_expire(kv, 6000, 1000), 1); /* later; the old 5000 entry is gone */
    CHECK_EQ_INT(has_now(kv, "later", "v2"), 0);
    CHECK_EQ_INT(has_now(kv, "forever", "v2"), 1);
    CHECK_EQ_INT(atd_kv_expire(kv, INT64_MAX, 1000), 0);

    /* Overwrite within one txn, and a delete then re-put without expiry: no stale expiry
     * may delete the new value. */
    t = begin(kv, 1);
    CHECK_EQ_INT(put_s(t, "x", "1", 10), 0);
    CHECK_EQ_INT(put_s(t, "x", "2", 20), 0);
    CHECK_EQ_INT(put_s(t, "y", "1", 10), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    t = begin(kv, 1);
    CHECK_EQ_INT(atd_kv_del(t, "y", 1), 0);
    CHECK_EQ_INT(put_s(t, "y", "2", 0), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    CHECK_EQ_INT(atd_kv_expire(kv, 15, 1000), 0);
    CHECK_EQ_INT(has_now(kv, "x", "2"), 1);
    CHECK_EQ_INT(atd_kv_expire(kv, 21, 1000), 1);
    CHECK_EQ_INT(has_now(kv, "x", "2"), 0);
    CHECK_EQ_INT(has_now(kv, "y", "2"), 1);
    finish(kv);
}

static void test_expire_persists(void)
{
    atd_kv *kv = fresh();
    if (!kv) return;
    atd_kv_txn *t = begin(kv, 1);
    CHECK_EQ_INT(put_s(t, "a", "1", 10), 0);
    CHECK_EQ_INT(put_s(t, "b", "1", 30), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    kv = reopen(kv);
    if (!kv) {
        fx->teardown(fx);
        return;
    }
    CHECK_EQ_INT(atd_kv_expire(kv, 20, 100), 1);
    kv = reopen(kv);
    if (!kv) {
        fx->teardown(fx);
        return;
    }
    CHECK_EQ_INT(has_now(kv, "a", "1"), 0);
    CHECK_EQ_INT(has_now(kv, "b", "1"), 1);
    finish(kv);
}

static void test_write_in_read_txn_fails(void)
{
    atd_kv *kv = fresh();
    if (!kv) return;
    atd_kv_txn *t = begin(kv, 0);
    CHECK(put_s(t, "k", "v", 0) != 0);
    CHECK(atd_kv_del(t, "k", 1) != 0);
    atd_kv_txn_abort(t);
    CHECK_EQ_INT(has_now(kv, "k", "v"), 0);
    finish(kv);
}

static void test_many_puts_one_txn(void)
{
    atd_kv *kv = fresh();
    if (!kv) return;
    enum { N = 100000 };
    char k[32], v[32];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    atd_kv_txn *t = begin(kv, 1);
    int bad = 0;
    for (int i = 0; i < N; i++) {
        /* Scattered key order, like device ids. */
        uint32_t id = (uint32_t)i * 2654435761u;
        int kl = snprintf(k, sizeof k, "dev:%08x", id);
        int vl = snprintf(v, sizeof v, "state-%d", i);
        bad += atd_kv_put(t, k, (size_t)kl, v, (size_t)vl, (i % 3) ? 0 : 1000 + i) != 0;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr, "  %s: %d puts in one txn: %.3f s (%.0f/s)\n", fx->backend, N, s, N / s);

    t = begin(kv, 0);
    int wrong = 0;
    for (int i = 0; i < N; i += 7) {
        uint32_t id = (uint32_t)i * 2654435761u;
        snprintf(k, sizeof k, "dev:%08x", id);
        snprintf(v, sizeof v, "state-%d", i);
        wrong += has(t, k, v) != 1;
    }
    CHECK_EQ_INT(wrong, 0);
    atd_kv_txn_abort(t);
    CHECK_EQ_INT(count_all(kv), N);
    /* Every third one expires at 1000 + i: those with 1000 + i < 1000 + N/2. */
    int due = 0;
    for (int i = 0; i < N / 2; i += 3) due++;
    CHECK_EQ_INT(atd_kv_expire(kv, 1000 + N / 2, N), due);
    CHECK_EQ_INT(count_all(kv), N - due);
    finish(kv);
}

static void test_unknown_backend(void)
{
    atd_kv *kv = (atd_kv *)1;
    atd_kv_options opt = {0};
    CHECK(atd_kv_backend("no-such-backend") == NULL);
    CHECK(atd_kv_backend(NULL) == NULL);
    CHECK(atd_kv_open("no-such-backend", &opt, &kv) != 0);
    CHECK(kv == NULL);
}

int main(void)
{
    RUN(test_unknown_backend);
    for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
        fx = &fixtures[i];
        if (!atd_kv_backend(fx->backend)) {
            fprintf(stderr, "# backend %s: not built, skipped\n", fx->backend);
            continue;
        }
        const atd_kv_ops *ops = atd_kv_backend(fx->backend);
        CHECK_STR(ops->name, fx->backend);
        fprintf(stderr, "# backend %s\n", fx->backend);
        RUN(test_put_get_del);
        RUN(test_overwrite);
        RUN(test_get_missing);
        RUN(test_abort_discards);
        RUN(test_commit_persists_reopen);
        RUN(test_read_isolation);
        RUN(test_write_sees_own_writes);
        RUN(test_get_many);
        RUN(test_large_values);
        RUN(test_empty_value);
        RUN(test_binary_keys);
        RUN(test_scan_prefix);
        RUN(test_expire_due_only);
        RUN(test_expire_max_entries);
        RUN(test_expire_after_overwrite);
        RUN(test_expire_persists);
        RUN(test_write_in_read_txn_fails);
        RUN(test_many_puts_one_txn);
    }
    return atd_test_done();
}
