/* The key-value store (DESIGN.md "Interfaces"): the attribution engine's touch store and device
 * state. Backends: "lmdb" (embedded; src/kv/lmdb_kv.c) and later "redis". One conformance suite
 * (tests/conformance/test_kv.c) runs against every backend.
 *
 * All reads and writes go through a transaction. A write transaction sees its own writes and
 * commits atomically (all or nothing). One write transaction at a time per store; any number of
 * read transactions.
 *
 * Expiry is a space-reclaiming hint, not a visibility rule: a put may carry expire_at (ms since
 * the epoch, 0 = never) and atd_kv_expire(kv, now) deletes entries whose expire_at < now. The
 * caller chooses "now": the engine passes event time, never the wall clock, so a replay of old
 * data behaves like the live run. get never hides an entry that is still stored. */
#ifndef ATTRIBD_KV_H
#define ATTRIBD_KV_H

#include <stddef.h>
#include <stdint.h>

typedef struct atd_kv atd_kv;
typedef struct atd_kv_txn atd_kv_txn;

typedef struct atd_kv_options {
    const char *path;    /* lmdb: the folder (created if missing) */
    uint64_t map_size;   /* lmdb: the largest size the store may grow to (default 64 GiB) */
    int no_sync;         /* lmdb: 1 = do not fsync on commit (replay's temporary store) */
    const char **nodes;  /* redis: "host:port" list */
    size_t n_nodes;
} atd_kv_options;

typedef struct atd_kv_val {
    const void *p; /* owned by the store, valid until the transaction ends or the next write */
    size_t n;
} atd_kv_val;

typedef struct atd_kv_ops {
    const char *name;
    int (*open)(const atd_kv_options *opt, atd_kv **out);
    void (*close)(atd_kv *kv);
    int (*txn_begin)(atd_kv *kv, int write, atd_kv_txn **out);
    int (*txn_commit)(atd_kv_txn *txn); /* frees the txn, also on error */
    void (*txn_abort)(atd_kv_txn *txn); /* frees the txn */
    /* 0 and *val, or ATD_ENOTFOUND. */
    int (*get)(atd_kv_txn *txn, const void *key, size_t klen, atd_kv_val *val);
    /* n keys at once; vals[i].p == NULL for a missing key. Returns 0 or an error. */
    int (*get_many)(atd_kv_txn *txn, const atd_kv_val *keys, size_t n, atd_kv_val *vals);
    int (*put)(atd_kv_txn *txn, const void *key, size_t klen, const void *val, size_t vlen,
               int64_t expire_at);
    int (*del)(atd_kv_txn *txn, const void *key, size_t klen); /* 0 also when missing */
    /* Deletes entries with 0 < expire_at < now; at most max_entries per call (bounded work).
     * Returns the number deleted or a negative error. */
    int (*expire)(atd_kv *kv, int64_t now, size_t max_entries);
    /* Calls cb for every key starting with prefix, in key order; cb returns non-zero to stop. */
    int (*scan)(atd_kv_txn *txn, const void *prefix, size_t plen,
                int (*cb)(void *ud, const void *key, size_t klen, const void *val, size_t vlen),
                void *ud);
    /* Bytes the store takes on disk (or in memory), for metrics and benchmarks. */
    int64_t (*size_bytes)(atd_kv *kv);
} atd_kv_ops;

/* Every backend's handle starts with this; every txn handle starts with a pointer to its kv. */
struct atd_kv {
    const atd_kv_ops *ops;
};
struct atd_kv_txn {
    atd_kv *kv;
};

const atd_kv_ops *atd_kv_backend(const char *name); /* "lmdb", ...; NULL when unknown */
int atd_kv_open(const char *backend, const atd_kv_options *opt, atd_kv **out);

static inline void atd_kv_close(atd_kv *kv) { kv->ops->close(kv); }
static inline int atd_kv_txn_begin(atd_kv *kv, int write, atd_kv_txn **out)
{
    return kv->ops->txn_begin(kv, write, out);
}
static inline int atd_kv_txn_commit(atd_kv_txn *t) { return t->kv->ops->txn_commit(t); }
static inline void atd_kv_txn_abort(atd_kv_txn *t) { t->kv->ops->txn_abort(t); }
static inline int atd_kv_get(atd_kv_txn *t, const void *k, size_t kl, atd_kv_val *v)
{
    return t->kv->ops->get(t, k, kl, v);
}
static inline int atd_kv_get_many(atd_kv_txn *t, const atd_kv_val *keys, size_t n,
                                  atd_kv_val *vals)
{
    return t->kv->ops->get_many(t, keys, n, vals);
}
static inline int atd_kv_put(atd_kv_txn *t, const void *k, size_t kl, const void *v, size_t vl,
                             int64_t expire_at)
{
    return t->kv->ops->put(t, k, kl, v, vl, expire_at);
}
static inline int atd_kv_del(atd_kv_txn *t, const void *k, size_t kl)
{
    return t->kv->ops->del(t, k, kl);
}
static inline int atd_kv_expire(atd_kv *kv, int64_t now, size_t max)
{
    return kv->ops->expire(kv, now, max);
}

#endif
