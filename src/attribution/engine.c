/* The engine object, its counters, and the kv access of every rule: straight through to the
 * kv, or through the write-behind cache of a batch (the same bytes either way, so batching
 * never changes a decision). */
#include <stdlib.h>
#include <sys/mman.h>

#include "attribution/engine_internal.h"

/* --- the batch cache --------------------------------------------------------------------- */

typedef struct cache_ent {
    uint64_t hash;
    const char *key;
    uint8_t *val; /* NULL: known to be absent */
    int64_t expire_at;
    uint32_t klen, vlen;
    uint32_t cap; /* bytes of the block at val (>= vlen): room to append in place */
    uint32_t dirty;
} cache_ent;

/* Memory for keys and values of a batch: chunks kept across batches (a fresh malloc per batch
 * would be returned to the kernel and faulted back in, page by page, every time). */
#define POOL_CHUNK (32u << 20)
typedef struct pool {
    char **chunks;
    size_t n, cap, cur, used; /* chunks[cur] is filled up to used */
    void **big;               /* allocations larger than a chunk, freed at reset */
    size_t nbig, capbig;
    size_t bigbytes; /* sum of the big allocations */
} pool;

/* Big blocks (pool chunks, the table) in transparent huge pages where the kernel offers them
 * (THP "madvise" mode): one page fault per 2 MiB instead of per 4 KiB, and far fewer TLB
 * misses on the random accesses of the hash table. Freed with free(). */
#define HUGE_ALIGN (2u << 20)
static void *huge_alloc(size_t n)
{
    void *p;
    if (posix_memalign(&p, HUGE_ALIGN, n) != 0) abort();
#ifdef MADV_HUGEPAGE
    (void)madvise(p, n, MADV_HUGEPAGE); /* only advice: without it, normal pages */
#endif
    return p;
}

static void *grow_array(void *p, size_t *cap, size_t elem)
{
    size_t ncap = *cap ? *cap * 2 : 16;
    void *np = realloc(p, ncap * elem);
    if (!np) abort();
    *cap = ncap;
    return np;
}

static void *pool_alloc(pool *pl, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    if (n > POOL_CHUNK / 4) {
        if (pl->nbig == pl->capbig) pl->big = grow_array(pl->big, &pl->capbig, sizeof *pl->big);
        void *p = malloc(n);
        if (!p) abort();
        pl->bigbytes += n;
        return pl->big[pl->nbig++] = p;
    }
    if (pl->cur >= pl->n || POOL_CHUNK - pl->used < n) {
        if (pl->cur < pl->n && pl->used) pl->cur++;
        if (pl->cur >= pl->n) {
            if (pl->n == pl->cap) pl->chunks = grow_array(pl->chunks, &pl->cap, sizeof *pl->chunks);
            pl->chunks[pl->n] = huge_alloc(POOL_CHUNK);
            if (!pl->chunks[pl->n]) abort();
            pl->n++;
        }
        pl->used = 0;
    }
    void *p = pl->chunks[pl->cur] + pl->used;
    pl->used += n;
    return p;
}

static void pool_reset(pool *pl)
{
    for (size_t i = 0; i < pl->nbig; i++) free(pl->big[i]);
    pl->nbig = 0;
    pl->bigbytes = 0;
    pl->cur = pl->used = 0;
}

static void pool_free(pool *pl)
{
    pool_reset(pl);
    for (size_t i = 0; i < pl->n; i++) free(pl->chunks[i]);
    free(pl->chunks);
    free(pl->big);
    memset(pl, 0, sizeof *pl);
}

struct atd_cache {
    cache_ent *recent[4]; /* the last entries looked up: a get is mostly followed by a put */
    cache_ent *tab;
    size_t cap, used; /* cap: a power of two */
    pool mem;         /* keys and values */
};

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (n * 0xff51afd7ed558ccdULL);
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        h = (h ^ v) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 31;
        p += 8;
        n -= 8;
    }
    uint64_t v = 0;
    memcpy(&v, p, n);
    h = (h ^ v) * 0x94d049bb133111ebULL;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    return h ^ (h >> 32);
}

static cache_ent *cache_find(atd_cache *c, const char *key, size_t klen, uint64_t h)
{
    size_t mask = c->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        cache_ent *ent = &c->tab[i];
        if (!ent->key) return ent;
        if (ent->hash == h && ent->klen == klen && memcmp(ent->key, key, klen) == 0) return ent;
    }
}

static void cache_grow(atd_cache *c)
{
    size_t ncap = c->cap ? c->cap * 2 : 4096;
    cache_ent *old = c->tab;
    size_t ocap = c->cap;
    c->tab = huge_alloc(ncap * sizeof *c->tab);
    memset(c->tab, 0, ncap * sizeof *c->tab);
    c->cap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].key) *cache_find(c, old[i].key, old[i].klen, old[i].hash) = old[i];
    free(old);
}

static cache_ent *cache_slot(atd_cache *c, const char *key, size_t klen, int *fresh)
{
    uint64_t h = hash_bytes(key, klen);
    for (int i = 0; i < 4; i++) {
        cache_ent *r = c->recent[i];
        if (r && r->hash == h && r->klen == klen && memcmp(r->key, key, klen) == 0) {
            *fresh = 0;
            return r;
        }
    }
    if ((c->used + 1) * 2 > c->cap) { /* at most half full: short probes */
        cache_grow(c);
        memset(c->recent, 0, sizeof c->recent);
    }
    cache_ent *ent = cache_find(c, key, klen, h);
    memmove(c->recent + 1, c->recent, 3 * sizeof c->recent[0]);
    c->recent[0] = ent;
    *fresh = ent->key == NULL;
    if (*fresh) {
        ent->hash = h;
        char *k = pool_alloc(&c->mem, klen ? klen : 1);
        memcpy(k, key, klen);
        ent->key = k;
        ent->klen = (uint32_t)klen;
        ent->val = NULL;
        ent->vlen = ent->cap = 0;
        ent->expire_at = 0;
        ent->dirty = 0;
        c->used++;
    }
    return ent;
}

static void cache_clear(atd_cache *c)
{
    memset(c->recent, 0, sizeof c->recent);
    if (c->used) memset(c->tab, 0, c->cap * sizeof *c->tab);
    c->used = 0;
    pool_reset(&c->mem);
}

/* --- kv access --------------------------------------------------------------------------- */

int atd_eng_get(atd_engine *e, atd_kv_txn *txn, const char *key, size_t klen, atd_arena *arena,
                uint8_t **val, size_t *vlen)
{
    cache_ent *ent = NULL;
    if (e->cache) {
        int fresh;
        ent = cache_slot(e->cache, key, klen, &fresh);
        if (!fresh) {
            if (!ent->val) return ATD_ENOTFOUND;
            *val = ent->val;
            *vlen = ent->vlen;
            return 0;
        }
    }
    atd_kv_val v;
    e->n.kv_gets++;
    int r = atd_kv_get(txn, key, klen, &v);
    if (r == ATD_ENOTFOUND) return r; /* the cache entry stays "absent" */
    if (r == 0 && v.n > UINT32_MAX / 2) r = ATD_ETOOBIG;
    if (r < 0) {
        if (ent) { /* forget the half-made entry: the caller aborts anyway */
            ent->val = NULL;
        }
        return r;
    }
    uint8_t *copy = ent ? pool_alloc(&e->cache->mem, v.n ? v.n : 1)
                        : atd_arena_alloc(arena, v.n ? v.n : 1);
    memcpy(copy, v.p, v.n);
    if (ent) {
        ent->val = copy;
        ent->vlen = ent->cap = (uint32_t)v.n;
    }
    *val = copy;
    *vlen = v.n;
    return 0;
}

int atd_eng_put(atd_engine *e, atd_kv_txn *txn, const char *key, size_t klen, const void *val,
                size_t vlen, int64_t expire_at)
{
    if (e->no_expiry) expire_at = 0;
    if (!e->cache) {
        e->n.kv_puts++;
        return atd_kv_put(txn, key, klen, val, vlen, expire_at);
    }
    if (vlen > UINT32_MAX / 2 || klen > UINT32_MAX) return ATD_ETOOBIG;
    int fresh;
    cache_ent *ent = cache_slot(e->cache, key, klen, &fresh);
    if (ent->val != val) {
        if (ent->val && vlen > ent->vlen && vlen <= ent->cap &&
            memcmp(val, ent->val, ent->vlen) == 0) {
            /* an append (a touch list growing): the old bytes stay as they are, so pointers
             * into them (results of earlier events of the batch) stay valid */
            memcpy(ent->val + ent->vlen, (const uint8_t *)val + ent->vlen, vlen - ent->vlen);
        } else {
            /* a value that grows gets room to grow in place next time */
            size_t cap = ent->val && vlen > ent->vlen ? vlen + vlen / 2 + 64 : vlen;
            uint8_t *copy = pool_alloc(&e->cache->mem, cap ? cap : 1);
            memcpy(copy, val, vlen);
            ent->val = copy;
            ent->cap = (uint32_t)cap;
        }
    }
    ent->vlen = (uint32_t)vlen;
    ent->expire_at = expire_at;
    ent->dirty = 1;
    return 0;
}

void atd_engine_batch_begin(atd_engine *e)
{
    if (!e->cache) {
        e->cache = calloc(1, sizeof *e->cache);
        if (!e->cache) abort();
        cache_grow(e->cache);
    }
    cache_clear(e->cache);
}

static int cmp_ent(const void *a, const void *b)
{
    const cache_ent *x = *(cache_ent *const *)a, *y = *(cache_ent *const *)b;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int c = memcmp(x->key, y->key, n);
    return c ? c : (x->klen > y->klen) - (x->klen < y->klen);
}

int atd_engine_batch_flush(atd_engine *e, atd_kv_txn *txn)
{
    atd_cache *c = e->cache;
    if (!c) return 0;
    e->cache = NULL; /* puts below go straight through */
    size_t n = 0;
    for (size_t i = 0; i < c->cap; i++)
        if (c->tab[i].key && c->tab[i].dirty) n++;
    cache_ent **list = malloc((n ? n : 1) * sizeof *list);
    if (!list) abort();
    n = 0;
    for (size_t i = 0; i < c->cap; i++)
        if (c->tab[i].key && c->tab[i].dirty) list[n++] = &c->tab[i];
    /* key order: LMDB appends to neighbouring pages instead of jumping around the tree */
    qsort(list, n, sizeof *list, cmp_ent);
    int r = 0;
    e->n.kv_puts += n;
    for (size_t i = 0; i < n && r == 0; i++)
        r = atd_kv_put(txn, list[i]->key, list[i]->klen, list[i]->val, list[i]->vlen,
                       list[i]->expire_at);
    free(list);
    cache_clear(c);
    e->cache = c;
    return r;
}

size_t atd_engine_batch_bytes(const atd_engine *e)
{
    const atd_cache *c = e->cache;
    if (!c) return 0;
    return c->mem.cur * POOL_CHUNK + c->mem.used + c->mem.bigbytes + c->cap * sizeof *c->tab;
}

void atd_engine_batch_discard(atd_engine *e)
{
    if (e->cache) cache_clear(e->cache);
}

/* --- the engine object ------------------------------------------------------------------- */

atd_engine *atd_engine_new(atd_kv *kv)
{
    atd_engine *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->kv = kv;
    atd_buf_init(&e->vbuf);
    atd_buf_init(&e->rbuf);
    return e;
}

void atd_engine_free(atd_engine *e)
{
    if (!e) return;
    if (e->cache) {
        free(e->cache->tab);
        pool_free(&e->cache->mem);
        free(e->cache);
    }
    atd_buf_free(&e->vbuf);
    atd_buf_free(&e->rbuf);
    free(e);
}

const atd_engine_counters *atd_engine_stats(const atd_engine *e) { return &e->n; }

void atd_engine_set_kv_expiry(atd_engine *e, int on) { e->no_expiry = !on; }

int atd_engine_device(atd_engine *e, atd_kv_txn *txn, atd_str app_id, atd_str device_id,
                      atd_result *out, atd_arena *arena)
{
    char key[ATD_KEY_MAX];
    size_t kl = atd_key_device(key, app_id, device_id);
    uint8_t *v;
    size_t vn;
    int r = atd_eng_get(e, txn, key, kl, arena, &v, &vn);
    if (r < 0) return r;
    atd_device d;
    if (atd_device_decode(v, vn, &d) < 0) return ATD_ECORRUPT;
    memset(out, 0, sizeof *out);
    out->type = ATD_RES_INSTALL;
    out->app_id = app_id;
    out->device_id = device_id;
    out->ts = d.install_ts;
    out->has_install_ts = 1;
    out->install_ts = d.install_ts;
    out->status = d.status;
    if (d.status == ATD_ATTR_NON_ORGANIC) out->attribution = d.acq;
    return 0;
}
