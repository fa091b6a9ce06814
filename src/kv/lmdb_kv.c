/* The kv interface over LMDB (docs/kv.md): the embedded store of `attribd serve` and `replay`.
 *
 * Layout: one environment (a folder with data.mdb + lock.mdb) holding two named databases:
 *   "data":   key -> header + value. The header is the entry's expire_at as an unsigned LEB128
 *             varint: 1 byte (0x00) for "never expires", 6 bytes for a millisecond timestamp of
 *             this century. It is kept so that an overwrite or delete can find and remove the
 *             entry's old expiry index entry without a second lookup structure.
 *   "expiry": big-endian expire_at (8 bytes) + key -> empty. Big-endian so that LMDB's bytewise
 *             order is time order, which makes atd_kv_expire a scan from the first entry that
 *             stops at the first one not yet due.
 *
 * Hot path: the engine runs batches of thousands of puts and gets per write transaction. Nothing
 * here allocates per get or put: the write txn handle is embedded in the store (LMDB allows one
 * writer), read txn handles are pooled (reset, then renewed), and the put's copy buffer lives
 * as long as the store. */
#include <errno.h>
#include <limits.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attribd/common.h"
#include "attribd/kv.h"
#include "attribd/logging.h"
#include "kv/kv_backends.h"

#define DEFAULT_MAP_SIZE (64ULL << 30) /* sparse: costs nothing until pages are written */
#define MAX_READERS 510                /* LMDB's default is 126; pooled read txns keep a slot */
#define READ_POOL_MAX 64               /* reset read txns kept for reuse */
#define HDR_MAX 10                     /* longest LEB128 encoding of a uint64_t */
#define EXP_LEN 8                      /* big-endian expire_at in front of an expiry index key */
#define SCRATCH_KEEP (1u << 20)        /* a bigger copy buffer is freed when its txn ends */

typedef struct lmdb_txn {
    atd_kv_txn base; /* first: the public handle */
    MDB_txn *txn;
    MDB_cursor *cur; /* write txns: on "data", opened at the first write of the txn */
    int write;
    int err; /* the first LMDB failure of a write txn; LMDB refuses further writes after one */
    int no_append; /* a put of this txn was not past the last key: stop trying MDB_APPEND */
} lmdb_txn;

typedef struct lmdb_kv {
    atd_kv base; /* first: the public handle */
    MDB_env *env;
    MDB_dbi data, expiry;
    size_t max_key; /* LMDB's key limit minus the expiry index's 8-byte prefix */
    uint64_t map_size;

    /* The one write txn. LMDB serialises writers, so whoever holds LMDB's write lock owns
     * wtxn and scratch; they are never allocated per txn. */
    lmdb_txn wtxn;
    /* The thread in a write txn (0 when none). Only used to refuse a second write txn on the
     * same thread, which would otherwise deadlock on LMDB's non-recursive writer mutex.
     * glibc's pthread_t is an integer that is never 0 for a live thread. */
    _Atomic(pthread_t) writer;
    unsigned char *scratch; /* header + value of the put in progress */
    size_t scratch_cap;

    pthread_mutex_t pool_mu;
    lmdb_txn *pool[READ_POOL_MAX];
    size_t n_pool;
} lmdb_kv;

/* --- errors ------------------------------------------------------------------------------ */

static int map_err(int rc)
{
    switch (rc) {
    case MDB_SUCCESS: return 0;
    case MDB_NOTFOUND: return ATD_ENOTFOUND;
    case MDB_MAP_FULL:
    case MDB_READERS_FULL:
    case MDB_CURSOR_FULL: return ATD_EFULL;
    case MDB_TXN_FULL:
    case MDB_BAD_VALSIZE: return ATD_ETOOBIG;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
    case MDB_INCOMPATIBLE:
    case MDB_PAGE_FULL: return ATD_ECORRUPT;
    case MDB_BAD_TXN:
    case MDB_BAD_RSLOT:
    case MDB_BAD_DBI:
    case MDB_KEYEXIST:
    case MDB_DBS_FULL: return ATD_EINVAL;
    case MDB_MAP_RESIZED:
    case MDB_TLS_FULL:
    case MDB_PANIC: return -EIO;
    default: return rc > 0 ? -rc : -EIO;
    }
}

/* Records a write failure in the txn (its commit will return it) and says what to do about
 * the ones an operator can fix. */
static int txn_fail(lmdb_txn *h, int rc)
{
    lmdb_kv *k = (lmdb_kv *)h->base.kv;
    int err = map_err(rc);
    if (rc == MDB_MAP_FULL)
        ATD_ERROR("kv lmdb: the store is full (map_size %llu bytes): raise kv.map_size",
                  (unsigned long long)k->map_size);
    else if (rc == MDB_TXN_FULL)
        ATD_ERROR("kv lmdb: transaction too large (too many dirty pages): commit smaller batches");
    else
        ATD_ERROR("kv lmdb: write failed: %s", mdb_strerror(rc));
    if (h->write && !h->err) h->err = err;
    return err;
}

/* --- value header ------------------------------------------------------------------------ */

static size_t hdr_encode(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (unsigned char)v;
    return n;
}

/* Returns the header's length, or -1 when the stored value does not start with one. */
static int hdr_decode(const void *data, size_t n, uint64_t *v)
{
    const unsigned char *p = data;
    uint64_t x = 0;
    for (size_t i = 0; i < n && i < HDR_MAX; i++) {
        uint64_t b = p[i] & 0x7f;
        if (i == HDR_MAX - 1 && b > 1) return -1; /* would overflow 64 bits */
        x |= b << (7 * i);
        if (!(p[i] & 0x80)) {
            *v = x;
            return (int)i + 1;
        }
    }
    return -1;
}

static void be64_put(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (unsigned char)v;
        v >>= 8;
    }
}

static uint64_t be64_get(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
    return v;
}

/* --- expiry index ------------------------------------------------------------------------ */

/* ik must hold EXP_LEN + klen bytes. */
static MDB_val index_key(unsigned char *ik, uint64_t exp, const void *key, size_t klen)
{
    be64_put(ik, exp);
    memcpy(ik + EXP_LEN, key, klen);
    return (MDB_val){EXP_LEN + klen, ik};
}

static int index_del(lmdb_txn *h, uint64_t exp, const void *key, size_t klen)
{
    lmdb_kv *k = (lmdb_kv *)h->base.kv;
    unsigned char ik[EXP_LEN + 512];
    MDB_val mk = index_key(ik, exp, key, klen);
    int rc = mdb_del(h->txn, k->expiry, &mk, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int index_put(lmdb_txn *h, uint64_t exp, const void *key, size_t klen)
{
    lmdb_kv *k = (lmdb_kv *)h->base.kv;
    unsigned char ik[EXP_LEN + 512];
    MDB_val mk = index_key(ik, exp, key, klen);
    MDB_val mv = {0, ik};
    return mdb_put(h->txn, k->expiry, &mk, &mv, 0);
}

/* --- transactions ------------------------------------------------------------------------ */

static void scratch_trim(lmdb_kv *k)
{
    if (k->scratch_cap > SCRATCH_KEEP) {
        free(k->scratch);
        k->scratch = NULL;
        k->scratch_cap = 0;
    }
}

static int begin_raw(lmdb_kv *k, unsigned flags, MDB_txn **out)
{
    int rc = mdb_txn_begin(k->env, NULL, flags, out);
    if (rc == MDB_MAP_RESIZED) { /* another process grew the map: adopt its size, retry once */
        if (mdb_env_set_mapsize(k->env, 0) == 0) rc = mdb_txn_begin(k->env, NULL, flags, out);
    }
    return rc;
}

static int write_begin(lmdb_kv *k, atd_kv_txn **out)
{
    if (pthread_equal(atomic_load(&k->writer), pthread_self())) {
        ATD_ERROR("kv lmdb: this thread is already in a write transaction");
        return ATD_EINVAL;
    }
    MDB_txn *t;
    int rc = begin_raw(k, 0, &t); /* blocks while another thread holds the write txn */
    if (rc) return map_err(rc);
    atomic_store(&k->writer, pthread_self());
    k->wtxn.txn = t;
    k->wtxn.err = 0;
    *out = &k->wtxn.base;
    return 0;
}

/* Ends the write txn. Everything the writer owns is released before LMDB's write lock, since
 * the next writer may start the moment it is. */
static int write_end(lmdb_kv *k, int commit)
{
    MDB_txn *t = k->wtxn.txn;
    int err = k->wtxn.err;
    if (k->wtxn.cur) mdb_cursor_close(k->wtxn.cur);
    k->wtxn.cur = NULL;
    k->wtxn.txn = NULL;
    scratch_trim(k);
    atomic_store(&k->writer, (pthread_t)0);
    if (!commit || err) {
        mdb_txn_abort(t);
        return err;
    }
    int rc = mdb_txn_commit(t); /* frees t also on failure */
    if (rc) {
        ATD_ERROR("kv lmdb: commit failed: %s", mdb_strerror(rc));
        return map_err(rc);
    }
    return 0;
}

static int read_begin(lmdb_kv *k, atd_kv_txn **out)
{
    lmdb_txn *h = NULL;
    pthread_mutex_lock(&k->pool_mu);
    if (k->n_pool) h = k->pool[--k->n_pool];
    pthread_mutex_unlock(&k->pool_mu);
    if (h) {
        int rc = mdb_txn_renew(h->txn);
        if (rc == 0) {
            *out = &h->base;
            return 0;
        }
        mdb_txn_abort(h->txn); /* a stale handle: drop it and start afresh */
    } else {
        h = malloc(sizeof *h);
        if (!h) return -ENOMEM;
    }
    int rc = begin_raw(k, MDB_RDONLY, &h->txn);
    if (rc) {
        free(h);
        if (rc == MDB_READERS_FULL)
            ATD_ERROR("kv lmdb: all %d reader slots are in use", MAX_READERS);
        return map_err(rc);
    }
    h->base.kv = &k->base;
    h->write = 0;
    h->err = 0;
    *out = &h->base;
    return 0;
}

static void read_end(lmdb_kv *k, lmdb_txn *h)
{
    mdb_txn_reset(h->txn); /* releases the snapshot; the handle keeps its reader slot */
    pthread_mutex_lock(&k->pool_mu);
    if (k->n_pool < READ_POOL_MAX) {
        k->pool[k->n_pool++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&k->pool_mu);
    if (h) {
        mdb_txn_abort(h->txn);
        free(h);
    }
}

static int lmdb_txn_begin(atd_kv *kv, int write, atd_kv_txn **out)
{
    *out = NULL;
    return write ? write_begin((lmdb_kv *)kv, out) : read_begin((lmdb_kv *)kv, out);
}

static int lmdb_txn_commit(atd_kv_txn *t)
{
    lmdb_txn *h = (lmdb_txn *)t;
    lmdb_kv *k = (lmdb_kv *)t->kv;
    if (h->write) return write_end(k, 1);
    read_end(k, h);
    return 0;
}

static void lmdb_txn_abort(atd_kv_txn *t)
{
    lmdb_txn *h = (lmdb_txn *)t;
    lmdb_kv *k = (lmdb_kv *)t->kv;
    if (h->write)
        write_end(k, 0);
    else
        read_end(k, h);
}

/* --- reads ------------------------------------------------------------------------------- */

static int lmdb_get(atd_kv_txn *t, const void *key, size_t klen, atd_kv_val *val)
{
    lmdb_txn *h = (lmdb_txn *)t;
    lmdb_kv *k = (lmdb_kv *)t->kv;
    val->p = NULL;
    val->n = 0;
    if (klen == 0 || klen > k->max_key) return ATD_ENOTFOUND; /* no such key can be stored */
    MDB_val mk = {klen, (void *)key}, mv;
    int rc = mdb_get(h->txn, k->data, &mk, &mv);
    if (rc) return map_err(rc);
    uint64_t exp;
    int hl = hdr_decode(mv.mv_data, mv.mv_size, &exp);
    if (hl < 0) return ATD_ECORRUPT;
    val->p = (const char *)mv.mv_data + hl;
    val->n = mv.mv_size - (size_t)hl;
    return 0;
}

static int lmdb_get_many(atd_kv_txn *t, const atd_kv_val *keys, size_t n, atd_kv_val *vals)
{
    for (size_t i = 0; i < n; i++) {
        int rc = lmdb_get(t, keys[i].p, keys[i].n, &vals[i]);
        if (rc && rc != ATD_ENOTFOUND) return rc;
    }
    return 0;
}

static int lmdb_scan(atd_kv_txn *t, const void *prefix, size_t plen,
                     int (*cb)(void *ud, const void *key, size_t klen, const void *val,
                               size_t vlen),
                     void *ud)
{
    lmdb_txn *h = (lmdb_txn *)t;
    lmdb_kv *k = (lmdb_kv *)t->kv;
    if (plen > k->max_key) return 0; /* no stored key is that long */
    MDB_cursor *c;
    int rc = mdb_cursor_open(h->txn, k->data, &c);
    if (rc) return map_err(rc);
    MDB_val mk = {plen, (void *)prefix}, mv;
    MDB_cursor_op op = plen ? MDB_SET_RANGE : MDB_FIRST;
    int err = 0;
    for (;;) {
        rc = mdb_cursor_get(c, &mk, &mv, op);
        op = MDB_NEXT;
        if (rc) {
            if (rc != MDB_NOTFOUND) err = map_err(rc);
            break;
        }
        if (mk.mv_size < plen || (plen && memcmp(mk.mv_data, prefix, plen) != 0)) break;
        uint64_t exp;
        int hl = hdr_decode(mv.mv_data, mv.mv_size, &exp);
        if (hl < 0) {
            err = ATD_ECORRUPT;
            break;
        }
        if (cb(ud, mk.mv_data, mk.mv_size, (const char *)mv.mv_data + hl,
               mv.mv_size - (size_t)hl))
            break;
    }
    mdb_cursor_close(c);
    return err;
}

/* --- writes ------------------------------------------------------------------------------ */

/* Opens the txn's data cursor at its first write. 0 or a negative error. */
static int data_cursor(lmdb_txn *h)
{
    if (h->cur) return 0;
    lmdb_kv *k = (lmdb_kv *)h->base.kv;
    int rc = mdb_cursor_open(h->txn, k->data, &h->cur);
    if (rc) {
        h->cur = NULL;
        return txn_fail(h, rc);
    }
    h->no_append = 0;
    return 0;
}

/* Positions the txn's data cursor on key and reads the stored entry's expire_at: 1 and *exp
 * when present, 0 when missing, or a negative error. The cursor lets an overwrite or delete
 * of an existing key skip a second tree search (MDB_CURRENT). A damaged header counts as
 * "never expires" so that overwriting or deleting the entry repairs it (expire skips the
 * stale index entry). */
static int old_expiry(lmdb_txn *h, MDB_val *mk, uint64_t *exp)
{
    int rc = data_cursor(h);
    if (rc) return rc;
    MDB_val mv;
    rc = mdb_cursor_get(h->cur, mk, &mv, MDB_SET);
    if (rc == MDB_NOTFOUND) return 0;
    if (rc) return txn_fail(h, rc);
    if (hdr_decode(mv.mv_data, mv.mv_size, exp) < 0) {
        ATD_WARN("kv lmdb: entry with a damaged header (%zu bytes): replacing it", mv.mv_size);
        *exp = 0;
    }
    return 1;
}

static int scratch_reserve(lmdb_kv *k, size_t need)
{
    if (need <= k->scratch_cap) return 0;
    size_t cap = k->scratch_cap ? k->scratch_cap * 2 : 256;
    while (cap < need) cap *= 2;
    unsigned char *p = realloc(k->scratch, cap);
    if (!p) return -ENOMEM;
    k->scratch = p;
    k->scratch_cap = cap;
    return 0;
}

static int write_check(lmdb_txn *h, size_t klen)
{
    lmdb_kv *k = (lmdb_kv *)h->base.kv;
    if (!h->write) return ATD_EINVAL;
    if (h->err) return h->err;
    if (klen == 0) return ATD_EINVAL;
    if (klen > k->max_key) return ATD_ETOOBIG;
    return 0;
}

static int lmdb_put(atd_kv_txn *t, const void *key, size_t klen, const void *val, size_t vlen,
                    int64_t expire_at)
{
    lmdb_txn *h = (lmdb_txn *)t;
    lmdb_kv *k = (lmdb_kv *)t->kv;
    int rc = write_check(h, klen);
    if (rc) return rc;
    if (expire_at < 0 || (vlen && !val)) return ATD_EINVAL;
    if (vlen > UINT32_MAX - HDR_MAX) return ATD_ETOOBIG;

    /* Key and value are copied before the first write: either may point into this store's
     * pages (a value read in this txn), which any write may move. */
    unsigned char kbuf[512];
    memcpy(kbuf, key, klen);
    MDB_val mk = {klen, kbuf};
    uint64_t exp = (uint64_t)expire_at, old_exp = 0;
    if ((rc = scratch_reserve(k, HDR_MAX + vlen))) return rc;
    size_t hl = hdr_encode(k->scratch, exp);
    if (vlen) memcpy(k->scratch + hl, val, vlen);
    MDB_val mv = {hl + vlen, k->scratch};

    /* New keys past the last one (a sorted bulk write into an empty store, like replay's
     * flush) go in with MDB_APPEND: LMDB then fills pages up instead of splitting them in
     * halves (half the bytes on disk) and skips the search. While the txn's puts are all past
     * the end, the append is tried first: LMDB compares the key with the last one and answers
     * MDB_KEYEXIST, changing nothing, when it is not past it; a success proves the key was
     * new, so there is no old entry (nor expiry index entry) to look up. The first key that
     * is not past the end ends the attempts for the txn. */
    if ((rc = data_cursor(h))) return rc;
    if (!h->no_append) {
        rc = mdb_cursor_put(h->cur, &mk, &mv, MDB_APPEND);
        if (rc == 0) {
            if (exp && (rc = index_put(h, exp, kbuf, klen))) return txn_fail(h, rc);
            return 0;
        }
        if (rc != MDB_KEYEXIST) return txn_fail(h, rc);
        h->no_append = 1;
    }
    int had = old_expiry(h, &mk, &old_exp);
    if (had < 0) return had;
    if (had && old_exp && old_exp != exp && (rc = index_del(h, old_exp, kbuf, klen)))
        return txn_fail(h, rc);
    if (exp && (!had || old_exp != exp) && (rc = index_put(h, exp, kbuf, klen)))
        return txn_fail(h, rc);
    /* The index writes touch only the expiry database: the data cursor stays on the key. */
    if ((rc = mdb_cursor_put(h->cur, &mk, &mv, had ? MDB_CURRENT : 0))) return txn_fail(h, rc);
    return 0;
}

static int lmdb_del(atd_kv_txn *t, const void *key, size_t klen)
{
    lmdb_txn *h = (lmdb_txn *)t;
    lmdb_kv *k = (lmdb_kv *)t->kv;
    if (h->write && !h->err && (klen == 0 || klen > k->max_key)) return 0; /* cannot exist */
    int rc = write_check(h, klen);
    if (rc) return rc;
    unsigned char kbuf[512];
    memcpy(kbuf, key, klen);
    MDB_val mk = {klen, kbuf};
    uint64_t old_exp = 0;
    int had = old_expiry(h, &mk, &old_exp);
    if (had <= 0) return had;
    if (old_exp && (rc = index_del(h, old_exp, kbuf, klen))) return txn_fail(h, rc);
    if ((rc = mdb_cursor_del(h->cur, 0))) return txn_fail(h, rc);
    return 0;
}

static int lmdb_expire(atd_kv *kv, int64_t now, size_t max_entries)
{
    lmdb_kv *k = (lmdb_kv *)kv;
    if (now <= 1 || max_entries == 0) return 0; /* nothing has 0 < expire_at < now */
    if (max_entries > INT_MAX) max_entries = INT_MAX;
    atd_kv_txn *t;
    int rc = write_begin(k, &t);
    if (rc) return rc;
    lmdb_txn *h = (lmdb_txn *)t;
    MDB_cursor *c;
    if ((rc = mdb_cursor_open(h->txn, k->expiry, &c))) {
        txn_fail(h, rc);
        return write_end(k, 0);
    }
    size_t deleted = 0;
    unsigned char kbuf[512];
    while (deleted < max_entries) {
        MDB_val ik, iv;
        rc = mdb_cursor_get(c, &ik, &iv, MDB_FIRST);
        if (rc == MDB_NOTFOUND) {
            rc = 0;
            break;
        }
        if (rc) break;
        if (ik.mv_size <= EXP_LEN || ik.mv_size - EXP_LEN > sizeof kbuf) {
            if ((rc = mdb_cursor_del(c, 0))) break; /* not ours: drop it */
            continue;
        }
        uint64_t exp = be64_get(ik.mv_data);
        if (exp >= (uint64_t)now) break; /* time order: nothing after this is due */
        size_t klen = ik.mv_size - EXP_LEN;
        memcpy(kbuf, (const unsigned char *)ik.mv_data + EXP_LEN, klen);
        if ((rc = mdb_cursor_del(c, 0))) break;
        /* Delete the entry only if it still carries this expire_at: an index entry left
         * behind by a damaged header must not delete a newer value. */
        MDB_val mk = {klen, kbuf}, mv;
        uint64_t cur;
        rc = mdb_get(h->txn, k->data, &mk, &mv);
        if (rc == MDB_NOTFOUND) {
            rc = 0;
            continue;
        }
        if (rc) break;
        if (hdr_decode(mv.mv_data, mv.mv_size, &cur) < 0 || cur != exp) continue;
        if ((rc = mdb_del(h->txn, k->data, &mk, NULL))) break;
        deleted++;
    }
    mdb_cursor_close(c);
    if (rc) {
        txn_fail(h, rc);
        return write_end(k, 0);
    }
    rc = write_end(k, 1);
    return rc ? rc : (int)deleted;
}

/* --- the store --------------------------------------------------------------------------- */

/* Pages in use: the two meta pages plus every page of every tree (the data and expiry
 * databases, the catalogue of named databases, and the free list itself). Not the file's
 * size: the map beyond the last page is a sparse hole, and free pages inside the file are
 * reused before it grows, so counting them would make the figure depend on write history. */
static int64_t lmdb_size_bytes(atd_kv *kv)
{
    lmdb_kv *k = (lmdb_kv *)kv;
    atd_kv_txn *t;
    int rc = read_begin(k, &t);
    if (rc) return rc;
    MDB_txn *txn = ((lmdb_txn *)t)->txn;
    const MDB_dbi dbis[] = {0 /* free list */, 1 /* catalogue */, k->data, k->expiry};
    uint64_t pages = 2;
    unsigned psize = 0;
    for (size_t i = 0; i < sizeof dbis / sizeof dbis[0] && rc == 0; i++) {
        MDB_stat st;
        if ((rc = mdb_stat(txn, dbis[i], &st))) break;
        pages += st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
        psize = st.ms_psize;
    }
    read_end(k, (lmdb_txn *)t);
    return rc ? map_err(rc) : (int64_t)(pages * psize);
}

/* mkdir -p: creates every missing folder of path. */
static int mkdir_all(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return ATD_EINVAL;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -errno;
        buf[i] = c;
    }
    struct stat st;
    if (stat(path, &st) != 0) return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

static void lmdb_close(atd_kv *kv)
{
    lmdb_kv *k = (lmdb_kv *)kv;
    if (!k) return;
    for (size_t i = 0; i < k->n_pool; i++) {
        mdb_txn_abort(k->pool[i]->txn);
        free(k->pool[i]);
    }
    if (k->env) mdb_env_close(k->env);
    pthread_mutex_destroy(&k->pool_mu);
    free(k->scratch);
    free(k);
}

static int lmdb_open(const atd_kv_options *opt, atd_kv **out)
{
    *out = NULL;
    if (!opt->path || !*opt->path) {
        ATD_ERROR("kv lmdb: no path given");
        return ATD_EINVAL;
    }
    int rc = mkdir_all(opt->path);
    if (rc) {
        ATD_ERROR("kv lmdb: cannot create folder %s: %s", opt->path, atd_strerror(rc));
        return rc;
    }
    lmdb_kv *k = calloc(1, sizeof *k);
    if (!k) return -ENOMEM;
    k->base.ops = &atd_kv_lmdb_ops;
    k->wtxn.base.kv = &k->base;
    k->wtxn.write = 1;
    k->map_size = opt->map_size ? opt->map_size : DEFAULT_MAP_SIZE;
    pthread_mutex_init(&k->pool_mu, NULL);

    /* MDB_NOTLS: a read txn belongs to its handle, not its thread, so the engine may hand
     * one between threads and the pool may reuse it anywhere. MDB_NORDAHEAD: the engine's
     * reads are random device lookups; read-ahead would only evict useful pages. */
    unsigned flags = MDB_NOTLS | MDB_NORDAHEAD;
    /* no_sync (replay's temporary store): no fsync. Pages are still written with pwrite, not
     * through a writable map (MDB_WRITEMAP): a bulk write's first store into each new 4 KiB
     * page of a shared file map is a fault, several microseconds in a VM (most of a big flush
     * went there, even with the map populated ahead), whereas LMDB's malloc'd page copies can
     * sit in huge pages (replay asks glibc for those) and the kernel copies them into the file.
     * Also a full disk stays an error (ENOSPC) instead of a SIGBUS. */
    if (opt->no_sync) flags |= MDB_NOSYNC | MDB_NOMETASYNC;
    const char *step = "mdb_env_create";
    if ((rc = mdb_env_create(&k->env))) goto fail;
    step = "mdb_env_set_maxdbs";
    if ((rc = mdb_env_set_maxdbs(k->env, 2))) goto fail;
    step = "mdb_env_set_mapsize";
    if ((rc = mdb_env_set_mapsize(k->env, (size_t)k->map_size))) goto fail;
    step = "mdb_env_set_maxreaders";
    if ((rc = mdb_env_set_maxreaders(k->env, MAX_READERS))) goto fail;
    step = "mdb_env_open";
    if ((rc = mdb_env_open(k->env, opt->path, flags, 0644))) goto fail;
    int dead = 0;
    mdb_reader_check(k->env, &dead); /* frees slots left by crashed processes */

    MDB_txn *t;
    step = "opening the databases";
    if ((rc = mdb_txn_begin(k->env, NULL, 0, &t))) goto fail;
    if ((rc = mdb_dbi_open(t, "data", MDB_CREATE, &k->data)) ||
        (rc = mdb_dbi_open(t, "expiry", MDB_CREATE, &k->expiry))) {
        mdb_txn_abort(t);
        goto fail;
    }
    if ((rc = mdb_txn_commit(t))) goto fail;
    k->max_key = (size_t)mdb_env_get_maxkeysize(k->env) - EXP_LEN;
    if (k->max_key > 512 - EXP_LEN) k->max_key = 512 - EXP_LEN; /* our stack buffers */
    *out = &k->base;
    return 0;

fail:
    ATD_ERROR("kv lmdb: cannot open %s: %s: %s", opt->path, step, mdb_strerror(rc));
    lmdb_close(&k->base);
    return map_err(rc);
}

const atd_kv_ops atd_kv_lmdb_ops = {
    .name = "lmdb",
    .open = lmdb_open,
    .close = lmdb_close,
    .txn_begin = lmdb_txn_begin,
    .txn_commit = lmdb_txn_commit,
    .txn_abort = lmdb_txn_abort,
    .get = lmdb_get,
    .get_many = lmdb_get_many,
    .put = lmdb_put,
    .del = lmdb_del,
    .expire = lmdb_expire,
    .scan = lmdb_scan,
    .size_bytes = lmdb_size_bytes,
};
