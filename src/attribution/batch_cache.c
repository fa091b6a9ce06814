/* The write-behind cache of a batch (batch_cache.h). */
#include "attribution/batch_cache.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* A key block: the key and what the flush needs besides the value. */
typedef struct key_hdr {
    int64_t expire_at;
    uint32_t klen;
    uint8_t dirty;  /* changed in this batch: written at the flush */
    uint8_t absent; /* known not to exist (no value) */
    char bytes[];
} key_hdr;

/* A table slot (32 bytes: two per CPU cache line). */
typedef struct cache_ent {
    uint64_t hash;
    key_hdr *key; /* the block (key, then value); NULL: a free slot */
    uint8_t *val; /* the value, in the key's block */
    uint32_t vlen;
    uint32_t cap; /* room for the value in the block (>= vlen): to grow in place */
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

/* The table: zeroed memory straight from the kernel (a fresh anonymous mapping is zero, so
 * the table is not written once more with a memset before use), aligned to 2 MiB for huge
 * pages. Freed with table_free and its size in bytes. */
static void *table_alloc(size_t n)
{
    size_t len = n + HUGE_ALIGN;
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) abort();
    char *p = (char *)(((uintptr_t)m + HUGE_ALIGN - 1) & ~(uintptr_t)(HUGE_ALIGN - 1));
    size_t head = (size_t)(p - m), tail = len - head - n;
    if (head) munmap(m, head);
    if (tail) munmap(p + n, tail);
#ifdef MADV_HUGEPAGE
    (void)madvise(p, n, MADV_HUGEPAGE);
#endif
    return p;
}

static void table_free(void *p, size_t n)
{
    if (p) munmap(p, n);
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

/* Value blocks up to this size are recycled by size class (multiples of CLASS_STEP). */
#define CLASS_STEP 32
#define CLASS_MAX 8192
#define N_CLASSES (CLASS_MAX / CLASS_STEP + 1)

typedef struct given_up {
    uint8_t *p;
    uint32_t cap;
} given_up;

struct atd_cache {
    cache_ent *recent[4]; /* the last entries looked up: a get is mostly followed by a put */
    cache_ent *missed;    /* the free slot of the last MISS, for atd_cache_fill */
    cache_ent *last;      /* the entry of the last HIT or fill, for atd_cache_append */
    uint64_t missed_hash;
    const char *missed_key; /* the caller's, alive until atd_cache_fill */
    size_t missed_klen;
    cache_ent *tab;
    size_t cap, used; /* cap: a power of two */
    pool mem;         /* keys and values */
    void *free_blocks[N_CLASSES]; /* recycled blocks by class, linked through their first bytes */
    given_up *gave;               /* blocks given up during the current event */
    size_t ngave, capgave;
};

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (n * 0xff51afd7ed558ccdULL);
    uint64_t v = 0;
    if (n >= 8) {
        /* the tail is the last 8 bytes, overlapping the last whole word: no byte loop and no
         * memcpy call for the odd length (the length is in h already) */
        memcpy(&v, p + n - 8, 8);
        while (n > 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
            h ^= h >> 31;
            p += 8;
            n -= 8;
        }
    } else {
        for (size_t i = 0; i < n; i++) v |= (uint64_t)(uint8_t)p[i] << (8 * i);
    }
    h = (h ^ v) * 0x94d049bb133111ebULL;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    return h ^ (h >> 32);
}

uint64_t atd_cache_hash(const char *key, size_t klen) { return hash_bytes(key, klen); }

static cache_ent *cache_find(const atd_cache *c, const char *key, size_t klen, uint64_t h)
{
    size_t mask = c->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        cache_ent *ent = &c->tab[i];
        if (!ent->key) return ent;
        if (ent->hash == h && ent->key->klen == klen && memcmp(ent->key->bytes, key, klen) == 0)
            return ent;
    }
}

static void cache_grow(atd_cache *c)
{
    size_t ncap = c->cap ? c->cap * 2 : 4096;
    cache_ent *old = c->tab;
    size_t ocap = c->cap;
    c->tab = table_alloc(ncap * sizeof *c->tab);
    c->cap = ncap;
    for (size_t i = 0; i < ocap; i++) {
        if (!old[i].key) continue;
        size_t mask = ncap - 1, j = old[i].hash & mask;
        while (c->tab[j].key) j = (j + 1) & mask;
        c->tab[j] = old[i];
    }
    table_free(old, ocap * sizeof *old);
    memset(c->recent, 0, sizeof c->recent);
    c->missed = c->last = NULL;
}

atd_cache *atd_cache_new(void)
{
    atd_cache *c = calloc(1, sizeof *c);
    if (!c) abort();
    cache_grow(c);
    return c;
}

void atd_cache_free(atd_cache *c)
{
    if (!c) return;
    table_free(c->tab, c->cap * sizeof *c->tab);
    pool_free(&c->mem);
    free(c->gave);
    free(c);
}

void atd_cache_clear(atd_cache *c)
{
    memset(c->recent, 0, sizeof c->recent);
    c->missed = c->last = NULL;
    if (c->used) memset(c->tab, 0, c->cap * sizeof *c->tab);
    c->used = 0;
    pool_reset(&c->mem);
    memset(c->free_blocks, 0, sizeof c->free_blocks);
    c->ngave = 0;
}

/* A block of at least n bytes; *cap gets its size. */
static uint8_t *block_alloc(atd_cache *c, size_t n, uint32_t *cap)
{
    if (n > CLASS_MAX) {
        *cap = (uint32_t)n;
        return pool_alloc(&c->mem, n);
    }
    size_t cls = (n + CLASS_STEP - 1) / CLASS_STEP;
    if (cls == 0) cls = 1;
    *cap = (uint32_t)(cls * CLASS_STEP);
    void *p = c->free_blocks[cls];
    if (p) {
        memcpy(&c->free_blocks[cls], p, sizeof(void *));
        return p;
    }
    return pool_alloc(&c->mem, *cap);
}

/* Gives up a block: reusable after the current event (atd_cache_release). */
static void block_give_up(atd_cache *c, uint8_t *p, uint32_t cap)
{
    if (!p || cap > CLASS_MAX || cap % CLASS_STEP) return; /* big ones are not recycled */
    if (c->ngave == c->capgave) c->gave = grow_array(c->gave, &c->capgave, sizeof *c->gave);
    c->gave[c->ngave++] = (given_up){p, cap};
}

void atd_cache_release(atd_cache *c)
{
    for (size_t i = 0; i < c->ngave; i++) {
        size_t cls = c->gave[i].cap / CLASS_STEP;
        memcpy(c->gave[i].p, &c->free_blocks[cls], sizeof(void *));
        c->free_blocks[cls] = c->gave[i].p;
    }
    c->ngave = 0;
}

/* A key block: the header and the key, padded to 8 bytes, then room for the value: one
 * allocation, so that a lookup's key compare also brings the value's first bytes in. */
static size_t hdr_size(size_t klen) { return (sizeof(key_hdr) + klen + 7) & ~(size_t)7; }

static void block_fill(cache_ent *ent, uint8_t *b, size_t bsize, uint64_t h, const char *key,
                       size_t klen)
{
    key_hdr *k = (key_hdr *)b;
    k->expire_at = 0;
    k->klen = (uint32_t)klen;
    k->dirty = 0;
    k->absent = 0; /* a recycled block has its last owner's header */
    memcpy(k->bytes, key, klen);
    ent->hash = h;
    ent->key = k;
    ent->cap = (uint32_t)(bsize - hdr_size(klen));
    ent->val = b + hdr_size(klen);
    ent->vlen = 0;
}

/* The entry of key, or (*fresh = 1) the free slot where it goes: the caller then fills it
 * (block_fill) before any other call. */
static cache_ent *cache_slot(atd_cache *c, const char *key, size_t klen, uint64_t h, int *fresh,
                             int recent)
{
    for (int i = 0; i < 4 && recent; i++) {
        cache_ent *r = c->recent[i];
        if (r && r->hash == h && r->key->klen == klen && memcmp(r->key->bytes, key, klen) == 0) {
            *fresh = 0;
            return r;
        }
    }
    if ((c->used + 1) * 10 > c->cap * 7) cache_grow(c); /* linear probing up to 70% full */
    cache_ent *ent = cache_find(c, key, klen, h);
    *fresh = ent->key == NULL;
    if (!*fresh) {
        memmove(c->recent + 1, c->recent, 3 * sizeof c->recent[0]);
        c->recent[0] = ent;
    }
    return ent;
}

/* A new entry in the free slot ent, with room for a value of want bytes. */
static void cache_add(atd_cache *c, cache_ent *ent, uint64_t h, const char *key, size_t klen,
                      size_t want)
{
    uint32_t bsize;
    uint8_t *b = block_alloc(c, hdr_size(klen) + want, &bsize);
    block_fill(ent, b, bsize, h, key, klen);
    c->used++;
    memmove(c->recent + 1, c->recent, 3 * sizeof c->recent[0]);
    c->recent[0] = ent;
}

int atd_cache_get(atd_cache *c, const char *key, size_t klen, uint8_t **val, size_t *vlen)
{
    return atd_cache_get_hashed(c, key, klen, hash_bytes(key, klen), val, vlen);
}

int atd_cache_get_hashed(atd_cache *c, const char *key, size_t klen, uint64_t h, uint8_t **val,
                         size_t *vlen)
{
    int fresh;
    /* a get seldom repeats a key of the last few calls (a put after a get does) */
    cache_ent *ent = cache_slot(c, key, klen, h, &fresh, 0);
    if (fresh) {
        c->missed = ent;
        c->missed_hash = h;
        c->missed_key = key;
        c->missed_klen = klen;
        return ATD_CACHE_MISS;
    }
    if (ent->key->absent) return ATD_CACHE_ABSENT;
    c->last = ent;
    *val = ent->val;
    *vlen = ent->vlen;
    return ATD_CACHE_HIT;
}

uint8_t *atd_cache_fill(atd_cache *c, const void *val, size_t vlen)
{
    cache_ent *ent = c->missed;
    c->missed = NULL;
    if (!ent) return NULL;
    cache_add(c, ent, c->missed_hash, c->missed_key, c->missed_klen, val ? vlen : 0);
    if (!val) {
        ent->key->absent = 1;
        return NULL;
    }
    memcpy(ent->val, val, vlen);
    ent->vlen = (uint32_t)vlen;
    c->last = ent;
    return ent->val;
}

int atd_cache_fill_put(atd_cache *c, const void *val, size_t vlen, int64_t expire_at)
{
    cache_ent *ent = c->missed;
    c->missed = NULL;
    if (!ent) return -1;
    cache_add(c, ent, c->missed_hash, c->missed_key, c->missed_klen, vlen);
    memcpy(ent->val, val, vlen);
    ent->vlen = (uint32_t)vlen;
    ent->key->expire_at = expire_at;
    ent->key->dirty = 1;
    c->last = ent;
    return 0;
}

/* Moves ent's key to a new block with room for want value bytes and copies keep bytes of the
 * old value; the old block stays readable until the event ends (atd_cache_release). */
static void move_block(atd_cache *c, cache_ent *ent, size_t want, size_t keep)
{
    key_hdr *old = ent->key;
    uint8_t *old_val = ent->val;
    size_t klen = old->klen, old_size = hdr_size(klen) + ent->cap;
    uint32_t bsize;
    uint8_t *b = block_alloc(c, hdr_size(klen) + want, &bsize);
    int64_t exp = old->expire_at;
    block_fill(ent, b, bsize, ent->hash, old->bytes, klen);
    ent->key->expire_at = exp;
    if (keep) memcpy(ent->val, old_val, keep);
    block_give_up(c, (uint8_t *)old, (uint32_t)old_size);
}

int atd_cache_append(atd_cache *c, const char *key, size_t klen, const void *rec, size_t recn,
                     int64_t expire_at)
{
    cache_ent *ent = c->last;
    if (!ent || !ent->key || ent->key->absent || ent->key->klen != klen ||
        memcmp(ent->key->bytes, key, klen) != 0)
        return -1;
    size_t oldn = ent->vlen, vlen = oldn + recn;
    if (vlen > UINT32_MAX / 2) return -1;
    /* like a put that grows: room to grow in place next time */
    if (vlen > ent->cap) move_block(c, ent, vlen + vlen / 4 + 32, oldn);
    memcpy(ent->val + oldn, rec, recn);
    ent->vlen = (uint32_t)vlen;
    ent->key->expire_at = expire_at;
    ent->key->dirty = 1;
    return 0;
}

void atd_cache_put(atd_cache *c, const char *key, size_t klen, const void *val, size_t vlen,
                   int64_t expire_at)
{
    atd_cache_put_hashed(c, key, klen, hash_bytes(key, klen), val, vlen, expire_at);
}

void atd_cache_put_hashed(atd_cache *c, const char *key, size_t klen, uint64_t h,
                          const void *val, size_t vlen, int64_t expire_at)
{
    int fresh;
    cache_ent *ent = cache_slot(c, key, klen, h, &fresh, 1);
    if (fresh) {
        cache_add(c, ent, h, key, klen, vlen);
        memcpy(ent->val, val, vlen);
    } else if (ent->val != val) {
        if (!ent->key->absent && vlen > ent->vlen && vlen <= ent->cap &&
            memcmp(val, ent->val, ent->vlen) == 0) {
            /* an append (a touch list growing): only the new bytes are written; the old ones
             * do not move, so pointers into them stay valid */
            memcpy(ent->val + ent->vlen, (const uint8_t *)val + ent->vlen, vlen - ent->vlen);
        } else {
            /* a new block (pointers into the old value stay valid until the event ends); a
             * value that grows gets room to grow in place next time */
            size_t want = vlen > ent->vlen && !ent->key->absent ? vlen + vlen / 4 + 32 : vlen;
            move_block(c, ent, want, 0);
            memcpy(ent->val, val, vlen);
        }
    }
    ent->vlen = (uint32_t)vlen;
    ent->key->absent = 0;
    ent->key->expire_at = expire_at;
    ent->key->dirty = 1;
}

/* --- the flush ---------------------------------------------------------------------------
 * The dirty entries are sorted and handed out inside the table's own memory: the table is not
 * needed any more once they are gathered, and fresh memory is what costs most here (a first
 * touch of a page is several microseconds in a VM: three 100 MB arrays per million keys cost
 * more than the sort itself). The gather compacts the table's slots into sort entries at its
 * front, an in-place radix sort orders them, and they are widened backwards into the items
 * (40 bytes each; the table has room for them since it is at most 70% full). */

/* A dirty entry to sort: its key's first 16 bytes as two big-endian numbers (zero-padded), so
 * that the sort reads bytes of the array and the keys themselves only on a tie. The size of a
 * table slot: entry i replaces slot i or one before it. */
typedef struct sort_ent {
    uint64_t k0, k1;
    const key_hdr *key;
    uint32_t klen, vlen;
} sort_ent;
_Static_assert(sizeof(sort_ent) == sizeof(cache_ent), "sort entries reuse the table's slots");

static uint64_t load_be(const char *p, size_t n)
{
    uint8_t b[8] = {0};
    memcpy(b, p, n < 8 ? n : 8);
    return (uint64_t)b[0] << 56 | (uint64_t)b[1] << 48 | (uint64_t)b[2] << 40 |
           (uint64_t)b[3] << 32 | (uint64_t)b[4] << 24 | (uint64_t)b[5] << 16 |
           (uint64_t)b[6] << 8 | b[7];
}

/* Key order: memcmp, the shorter key first on a common prefix. */
static int cmp_sort_ent(const void *a, const void *b)
{
    const sort_ent *x = a, *y = b;
    if (x->k0 != y->k0) return x->k0 < y->k0 ? -1 : 1;
    if (x->k1 != y->k1) return x->k1 < y->k1 ? -1 : 1;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int r = memcmp(x->key->bytes, y->key->bytes, n);
    return r ? r : (x->klen > y->klen) - (x->klen < y->klen);
}

/* Byte d (0..15) of an entry's key prefix. */
static unsigned prefix_byte(const sort_ent *e, unsigned d)
{
    return d < 8 ? (unsigned)(e->k0 >> (56 - 8 * d)) & 0xff
                 : (unsigned)(e->k1 >> (56 - 8 * (d - 8))) & 0xff;
}

#define SMALL_SORT 24 /* buckets up to this size: insertion sort */

static void insertion_sort(sort_ent *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        sort_ent v = a[i];
        size_t j = i;
        while (j > 0 && cmp_sort_ent(&a[j - 1], &v) > 0) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

/* MSD radix sort in place (American flag sort) of entries whose prefixes agree on the bytes
 * before d: by byte d into 256 buckets, then each bucket by the next byte. The first bytes of
 * a key (kind, length) take few values and are skipped when all entries share them; the next
 * ones are random, so after two or three of them the buckets are small. Entries that agree on
 * all 16 bytes are ordered by their whole keys (qsort; rare). Recursion: at most 16 levels. */
static void radix_sort(sort_ent *a, size_t n, unsigned d)
{
    while (n > SMALL_SORT) {
        if (d == 16) {
            qsort(a, n, sizeof *a, cmp_sort_ent);
            return;
        }
        size_t next[256] = {0}, end[256];
        for (size_t i = 0; i < n; i++) next[prefix_byte(&a[i], d)]++;
        if (next[prefix_byte(&a[0], d)] == n) { /* one bucket: look at the next byte */
            d++;
            continue;
        }
        size_t pos = 0;
        for (unsigned b = 0; b < 256; b++) {
            size_t cnt = next[b];
            next[b] = pos;
            pos += cnt;
            end[b] = pos;
        }
        /* every entry goes to the next free place of its bucket, the one there moves on */
        for (unsigned b = 0; b < 256; b++) {
            while (next[b] < end[b]) {
                sort_ent v = a[next[b]];
                unsigned vb = prefix_byte(&v, d);
                while (vb != b) {
                    sort_ent t = a[next[vb]];
                    a[next[vb]++] = v;
                    v = t;
                    vb = prefix_byte(&v, d);
                }
                a[next[b]++] = v;
            }
        }
        /* now end[b] - next bucket's start: recurse into all buckets but the biggest, which
         * this loop goes on with */
        size_t big = 0, big_at = 0, start = 0;
        for (unsigned b = 0; b < 256; b++) {
            size_t cnt = end[b] - start;
            if (cnt > big) {
                if (big > 1) radix_sort(a + big_at, big, d + 1);
                big = cnt;
                big_at = start;
            } else if (cnt > 1) {
                radix_sort(a + start, cnt, d + 1);
            }
            start = end[b];
        }
        a += big_at;
        n = big;
        d++;
    }
    insertion_sort(a, n);
}

/* How far ahead the gather and the widening prefetch the key blocks they read. */
#define FLUSH_AHEAD 16

int atd_cache_take_sorted(atd_cache *c,
                          int (*fn)(void *ctx, const atd_engine_kv_item *items, size_t n),
                          void *ctx)
{
    /* gather: slot i becomes entry n <= i (memcpy: the same bytes seen as two types) */
    sort_ent *list = (sort_ent *)(void *)c->tab;
    size_t n = 0;
    for (size_t i = 0; i < c->cap; i++) {
        if (i + FLUSH_AHEAD < c->cap && c->tab[i + FLUSH_AHEAD].key)
            __builtin_prefetch(c->tab[i + FLUSH_AHEAD].key);
        cache_ent ent;
        memcpy(&ent, &c->tab[i], sizeof ent);
        if (!ent.key || !ent.key->dirty) continue;
        const key_hdr *k = ent.key;
        sort_ent se = {load_be(k->bytes, k->klen),
                       k->klen > 8 ? load_be(k->bytes + 8, k->klen - 8) : 0, k, k->klen,
                       ent.vlen};
        memcpy(&list[n++], &se, sizeof se);
    }
    /* key order: the kv (a B-tree) appends to neighbouring pages instead of jumping around */
    radix_sort(list, n, 0);

    /* widen entry i into item i, from the last: item i starts at or after entry i, so it only
     * overwrites entries already widened. A value starts right after its key's header. */
    atd_engine_kv_item *items = (atd_engine_kv_item *)(void *)c->tab, *own = NULL;
    if (n * sizeof *items > c->cap * sizeof *c->tab) { /* cannot happen at 70% load */
        own = items = malloc(n * sizeof *items);
        if (!own) abort();
    }
    for (size_t i = n; i-- > 0;) {
        if (i >= FLUSH_AHEAD) __builtin_prefetch(list[i - FLUSH_AHEAD].key);
        sort_ent se;
        memcpy(&se, &list[i], sizeof se);
        const key_hdr *k = se.key;
        atd_engine_kv_item it = {k->bytes, se.klen, (const uint8_t *)k + hdr_size(se.klen),
                                 se.vlen, k->expire_at};
        memcpy(&items[i], &it, sizeof it);
    }
    int r = fn(ctx, items, n);
    free(own);
    atd_cache_clear(c);
    return r;
}

size_t atd_cache_bytes(const atd_cache *c)
{
    return c->mem.cur * POOL_CHUNK + c->mem.used + c->mem.bigbytes + c->cap * sizeof *c->tab;
}

void atd_cache_prefetch_slot(const atd_cache *c, uint64_t hash)
{
    __builtin_prefetch(&c->tab[hash & (c->cap - 1)]);
}

void atd_cache_prefetch_value(const atd_cache *c, uint64_t hash)
{
    size_t mask = c->cap - 1;
    /* the slot is in the CPU cache by now; probe by hash only (a hint) */
    for (size_t j = hash & mask;; j = (j + 1) & mask) {
        const cache_ent *ent = &c->tab[j];
        if (!ent->key) return;
        if (ent->hash == hash) {
            __builtin_prefetch(ent->key);
            /* a touch list is read whole: its first few cache lines */
            size_t n = ent->vlen < 256 ? ent->vlen : 256;
            for (size_t off = 64; off < n; off += 64) __builtin_prefetch(ent->val + off);
            return;
        }
    }
}
