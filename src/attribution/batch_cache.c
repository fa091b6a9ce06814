/* The write-behind cache of a batch (batch_cache.h). */
#include "attribution/batch_cache.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* A block: a 4-byte header (the key's length, and the room left after the value), the
 * expire_at (8 bytes, only when the slot's flag E_EXP says so: replay's keys never expire),
 * the key, the value, then the room for the value to grow. No padding between the parts (values
 * are bytes, read with memcpy); blocks start at multiples of 8. */
#define BLK_HEAD 4
#define ROOM_MAX 0xffff

/* A table slot (16 bytes: four per CPU cache line). The slot's flags are the low bits of its
 * block's address, so a lookup knows "absent" and where the key starts before it reads the
 * block. */
enum { E_DIRTY = 1, E_ABSENT = 2, E_EXP = 4, E_FLAGS = 7 };
_Static_assert(E_EXP == 4, "blk_head's shift");
typedef struct cache_ent {
    uintptr_t b;  /* the block's address | E_* flags; 0: a free slot */
    uint32_t tag; /* the hash's low half: its low bits pick the slot */
    uint32_t vlen;
} cache_ent;

static inline uint8_t *blk_of(uintptr_t b) { return (uint8_t *)(b & ~(uintptr_t)E_FLAGS); }
/* Bytes before the key: the header and the expire_at if there is one. */
static inline size_t blk_head(uintptr_t b) { return BLK_HEAD + ((b & E_EXP) << 1); }
static inline uint8_t *blk_key(uintptr_t b) { return blk_of(b) + blk_head(b); }
static inline size_t blk_klen(uintptr_t b)
{
    uint16_t k;
    memcpy(&k, blk_of(b), 2);
    return k;
}
/* The room after the value. */
static inline size_t blk_room(uintptr_t b)
{
    uint16_t r;
    memcpy(&r, blk_of(b) + 2, 2);
    return r;
}
/* Room past ROOM_MAX is forgotten (the block only looks smaller: big blocks are not
 * recycled). */
static inline void blk_set_room(uintptr_t b, size_t room)
{
    uint16_t r = (uint16_t)(room > ROOM_MAX ? ROOM_MAX : room);
    memcpy(blk_of(b) + 2, &r, 2);
}
static inline size_t round8(size_t n) { return (n + 7) & ~(size_t)7; }

/* Memory for keys and values of a batch: chunks kept across batches (a fresh malloc per batch
 * would be returned to the kernel and faulted back in, page by page, every time). */
#define POOL_CHUNK (32u << 20)
typedef struct pool {
    char **chunks;
    unsigned char *mapped;    /* per chunk: 1 when it is a piece of an old table (munmap) */
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

static void pool_add(pool *pl, char *chunk, int mapped)
{
    if (pl->n == pl->cap) {
        size_t cap = pl->cap;
        pl->chunks = grow_array(pl->chunks, &pl->cap, sizeof *pl->chunks);
        pl->mapped = grow_array(pl->mapped, &cap, 1);
    }
    pl->chunks[pl->n] = chunk;
    pl->mapped[pl->n++] = (unsigned char)mapped;
}

/* A table the cache grew out of becomes chunks of the pool: its pages are in memory already,
 * and on this kind of machine (a VM whose first touch of a page costs ~2 s per GiB) the next
 * values would otherwise fault in fresh ones. What does not fill a chunk goes back. */
static void pool_donate(pool *pl, char *p, size_t bytes)
{
    size_t whole = bytes / POOL_CHUNK * POOL_CHUNK;
    for (size_t off = 0; off < whole; off += POOL_CHUNK) pool_add(pl, p + off, 1);
    if (bytes > whole) munmap(p + whole, bytes - whole);
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
        if (pl->cur >= pl->n) pool_add(pl, huge_alloc(POOL_CHUNK), 0);
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
    for (size_t i = 0; i < pl->n; i++) {
        if (pl->mapped[i]) munmap(pl->chunks[i], POOL_CHUNK);
        else free(pl->chunks[i]);
    }
    free(pl->chunks);
    free(pl->mapped);
    free(pl->big);
    memset(pl, 0, sizeof *pl);
}

/* Blocks up to this size are recycled by size class (multiples of CLASS_STEP). */
#define CLASS_STEP 8
#define CLASS_MAX 8192
#define N_CLASSES (CLASS_MAX / CLASS_STEP + 1)

typedef struct given_up {
    uint8_t *p;
    uint32_t size;
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
    size_t grow_at;   /* used at which the table doubles */
    size_t tab_bytes; /* the table's mapping (more than cap slots while a flush uses it) */
    size_t ndirty;    /* entries to write at the flush */
    pool mem;         /* keys and values */
    void *free_blocks[N_CLASSES]; /* recycled blocks by class, linked through their first bytes */
    given_up *gave;               /* blocks given up during the current event */
    size_t ngave, capgave;
};

static cache_ent *cache_find(const atd_cache *c, const char *key, size_t klen, uint64_t h)
{
    size_t mask = c->cap - 1;
    uint32_t tag = (uint32_t)h;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        cache_ent *ent = &c->tab[i];
        if (!ent->b) return ent;
        if (ent->tag == tag && blk_klen(ent->b) == klen &&
            memcmp(blk_key(ent->b), key, klen) == 0)
            return ent;
    }
}

static void cache_grow(atd_cache *c)
{
    size_t ncap = c->cap ? c->cap * 2 : 4096;
    if (ncap > ((size_t)1 << 32)) abort(); /* slots are found by a 32-bit tag */
    cache_ent *old = c->tab;
    size_t ocap = c->cap, obytes = c->tab_bytes;
    c->tab_bytes = ncap * sizeof *c->tab;
    c->tab = table_alloc(c->tab_bytes);
    c->cap = ncap;
    c->grow_at = ncap / 10 * 7; /* linear probing up to 70% full */
    /* a slot's index is the low bits of its tag: the table is at most 2^32 slots */
    for (size_t i = 0; i < ocap; i++) {
        if (!old[i].b) continue;
        size_t mask = ncap - 1, j = old[i].tag & mask;
        while (c->tab[j].b) j = (j + 1) & mask;
        c->tab[j] = old[i];
    }
    if (obytes >= POOL_CHUNK) pool_donate(&c->mem, (char *)old, obytes);
    else table_free(old, obytes);
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
    table_free(c->tab, c->tab_bytes);
    pool_free(&c->mem);
    free(c->gave);
    free(c);
}

void atd_cache_clear(atd_cache *c)
{
    memset(c->recent, 0, sizeof c->recent);
    c->missed = c->last = NULL;
    if (c->used) memset(c->tab, 0, c->cap * sizeof *c->tab);
    c->used = c->ndirty = 0;
    pool_reset(&c->mem);
    memset(c->free_blocks, 0, sizeof c->free_blocks);
    c->ngave = 0;
}

/* A block of at least n bytes; *size gets its size. */
static uint8_t *block_alloc(atd_cache *c, size_t n, size_t *size)
{
    n = round8(n);
    *size = n;
    if (n > CLASS_MAX) return pool_alloc(&c->mem, n);
    /* a recycled block of the size (taking bigger ones was measured: more memory as room,
     * and more instructions) */
    size_t cls = n / CLASS_STEP;
    void *p = c->free_blocks[cls];
    if (p) {
        memcpy(&c->free_blocks[cls], p, sizeof(void *));
        return p;
    }
    return pool_alloc(&c->mem, n);
}

/* Gives up a block: reusable after the current event (atd_cache_release). */
static void block_give_up(atd_cache *c, uint8_t *p, size_t size)
{
    if (size > CLASS_MAX) return; /* big ones are not recycled */
    if (c->ngave == c->capgave) c->gave = grow_array(c->gave, &c->capgave, sizeof *c->gave);
    c->gave[c->ngave++] = (given_up){p, (uint32_t)size};
}

void atd_cache_release(atd_cache *c)
{
    for (size_t i = 0; i < c->ngave; i++) {
        size_t cls = c->gave[i].size / CLASS_STEP;
        memcpy(c->gave[i].p, &c->free_blocks[cls], sizeof(void *));
        c->free_blocks[cls] = c->gave[i].p;
    }
    c->ngave = 0;
}

#define GROW_DIV 8
#define GROW_ADD 8
/* Room to grow that a value moving to a bigger block gets: touch lists grow by appends. */
static size_t grow_room(size_t vlen) { return vlen + vlen / GROW_DIV + GROW_ADD; }

/* Makes ent the entry of key (its tag) in a new block with room for want value bytes, with
 * an expire_at field when exp; flags (E_DIRTY, E_ABSENT) are kept from ent->b. Its value is
 * to be fill bytes (<= want): the caller writes them. */
static uint8_t *block_new(atd_cache *c, cache_ent *ent, uint32_t tag, const char *key,
                          size_t klen, size_t want, size_t fill, int exp, uintptr_t flags)
{
    if (klen > 0xffff) abort(); /* keys are at most ATD_KEY_MAX bytes */
    size_t head = BLK_HEAD + (exp ? 8 : 0), bsize;
    uint8_t *b = block_alloc(c, head + klen + want, &bsize);
    uint16_t kl = (uint16_t)klen;
    memcpy(b, &kl, 2);
    ent->b = (uintptr_t)b | (flags & (E_DIRTY | E_ABSENT)) | (exp ? E_EXP : 0);
    ent->tag = tag;
    ent->vlen = (uint32_t)fill;
    blk_set_room(ent->b, bsize - head - klen - fill);
    uint8_t *k = b + head;
    memcpy(k, key, klen);
    return k + klen;
}

/* The entry of key, or (*fresh = 1) the free slot where it goes: the caller then fills it
 * (block_new) before any other call. */
/* ent becomes the most recent entry (the oldest of the four drops out): moves of three
 * pointers, not a memmove call. */
static inline void recent_push(atd_cache *c, cache_ent *ent)
{
    c->recent[3] = c->recent[2];
    c->recent[2] = c->recent[1];
    c->recent[1] = c->recent[0];
    c->recent[0] = ent;
}

static cache_ent *cache_slot(atd_cache *c, const char *key, size_t klen, uint64_t h, int *fresh,
                             int recent)
{
    uint32_t tag = (uint32_t)h;
    for (int i = 0; i < 4 && recent; i++) {
        cache_ent *r = c->recent[i];
        if (r && r->tag == tag && blk_klen(r->b) == klen &&
            memcmp(blk_key(r->b), key, klen) == 0) {
            *fresh = 0;
            return r;
        }
    }
    if (c->used >= c->grow_at) cache_grow(c);
    cache_ent *ent = cache_find(c, key, klen, h);
    *fresh = ent->b == 0;
    if (!*fresh) recent_push(c, ent);
    return ent;
}

/* A new entry in the free slot ent, for a value of want bytes; returns where the value
 * goes. */
static uint8_t *cache_add(atd_cache *c, cache_ent *ent, uint64_t h, const char *key,
                          size_t klen, size_t want, int exp, uintptr_t flags)
{
    uint8_t *v = block_new(c, ent, (uint32_t)h, key, klen, want, want, exp, flags);
    c->used++;
    recent_push(c, ent);
    return v;
}

int atd_cache_get(atd_cache *c, const char *key, size_t klen, uint8_t **val, size_t *vlen)
{
    return atd_cache_get_hashed(c, key, klen, atd_hash_bytes(key, klen), val, vlen);
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
    if (ent->b & E_ABSENT) return ATD_CACHE_ABSENT;
    c->last = ent;
    *val = blk_key(ent->b) + klen;
    *vlen = ent->vlen;
    return ATD_CACHE_HIT;
}

/* Sets ent's value length from vlen to nlen (the value is in place, within the block's room)
 * and marks it dirty with expire_at (ent's block has an expire_at field, or expire_at is 0). */
static inline void ent_set(atd_cache *c, cache_ent *ent, size_t vlen, size_t nlen,
                           int64_t expire_at)
{
    if (nlen != vlen) blk_set_room(ent->b, blk_room(ent->b) + vlen - nlen);
    ent->vlen = (uint32_t)nlen;
    if (ent->b & E_EXP) memcpy(blk_of(ent->b) + BLK_HEAD, &expire_at, 8);
    if (!(ent->b & E_DIRTY)) c->ndirty++;
    ent->b = (ent->b & ~(uintptr_t)E_ABSENT) | E_DIRTY;
}

uint8_t *atd_cache_fill(atd_cache *c, const void *val, size_t vlen)
{
    cache_ent *ent = c->missed;
    c->missed = NULL;
    if (!ent) return NULL;
    uint8_t *v = cache_add(c, ent, c->missed_hash, c->missed_key, c->missed_klen,
                           val ? vlen : 0, 0, val ? 0 : E_ABSENT);
    if (!val) return NULL;
    memcpy(v, val, vlen);
    c->last = ent;
    return v;
}

int atd_cache_fill_put(atd_cache *c, const void *val, size_t vlen, int64_t expire_at)
{
    cache_ent *ent = c->missed;
    c->missed = NULL;
    if (!ent) return -1;
    uint8_t *v = cache_add(c, ent, c->missed_hash, c->missed_key, c->missed_klen, vlen,
                           expire_at != 0, 0);
    memcpy(v, val, vlen);
    ent_set(c, ent, vlen, vlen, expire_at);
    c->last = ent;
    return 0;
}

/* Moves ent's key to a new block with room for want value bytes (and an expire_at field when
 * exp or the old block has one) and copies keep bytes of the old value; the value is to be
 * fill bytes (keep <= fill <= want): the caller writes the rest. The old block stays readable
 * until the event ends (atd_cache_release). Returns where the value goes. */
static uint8_t *move_block(atd_cache *c, cache_ent *ent, size_t klen, size_t want, size_t keep,
                           size_t fill, int exp)
{
    uintptr_t old = ent->b;
    size_t old_size = blk_head(old) + klen + ent->vlen + blk_room(old);
    const uint8_t *okey = blk_key(old);
    uint8_t *v = block_new(c, ent, ent->tag, (const char *)okey, klen, want, fill,
                           exp || (old & E_EXP), old);
    if (old & E_EXP) memcpy(blk_of(ent->b) + BLK_HEAD, blk_of(old) + BLK_HEAD, 8);
    if (keep) memcpy(v, okey + klen, keep);
    block_give_up(c, blk_of(old), old_size);
    return v;
}

int atd_cache_append(atd_cache *c, const char *key, size_t klen, const void *rec, size_t recn,
                     int64_t expire_at)
{
    cache_ent *ent = c->last;
    if (!ent || !ent->b || (ent->b & E_ABSENT) || blk_klen(ent->b) != klen ||
        memcmp(blk_key(ent->b), key, klen) != 0)
        return -1;
    size_t oldn = ent->vlen, vlen = oldn + recn;
    if (vlen > UINT32_MAX / 2) return -1;
    uint8_t *v;
    size_t was = oldn;
    if (recn > blk_room(ent->b) || (expire_at != 0 && !(ent->b & E_EXP))) {
        /* like a put that grows: room to grow in place next time */
        v = move_block(c, ent, klen, grow_room(vlen), oldn, vlen, expire_at != 0);
        was = vlen;
    } else {
        v = blk_key(ent->b) + klen;
    }
    memcpy(v + oldn, rec, recn);
    ent_set(c, ent, was, vlen, expire_at);
    return 0;
}

void atd_cache_put(atd_cache *c, const char *key, size_t klen, const void *val, size_t vlen,
                   int64_t expire_at)
{
    atd_cache_put_hashed(c, key, klen, atd_hash_bytes(key, klen), val, vlen, expire_at);
}

void atd_cache_put_hashed(atd_cache *c, const char *key, size_t klen, uint64_t h,
                          const void *val, size_t vlen, int64_t expire_at)
{
    int fresh;
    c->missed = NULL; /* a MISS not filled is dropped: its free slot may be taken now */
    cache_ent *ent = cache_slot(c, key, klen, h, &fresh, 1);
    if (fresh) {
        uint8_t *v = cache_add(c, ent, h, key, klen, vlen, expire_at != 0, 0);
        memcpy(v, val, vlen);
        ent_set(c, ent, vlen, vlen, expire_at);
        return;
    }
    uint8_t *cur = blk_key(ent->b) + klen;
    size_t curn = ent->vlen, room = blk_room(ent->b);
    int absent = (ent->b & E_ABSENT) != 0;
    int need_exp = expire_at != 0 && !(ent->b & E_EXP);
    if (cur == val && !need_exp) {
        /* changed in place: nothing to copy */
    } else if (!absent && !need_exp && vlen > curn && vlen - curn <= room &&
               memcmp(val, cur, curn) == 0) {
        /* an append (a touch list growing): only the new bytes are written; the old ones
         * do not move, so pointers into them stay valid */
        memcpy(cur + curn, (const uint8_t *)val + curn, vlen - curn);
    } else {
        /* a new block (pointers into the old value stay valid until the event ends); a
         * value that grows gets room to grow in place next time */
        size_t want = vlen > curn && !absent ? grow_room(vlen) : vlen;
        uint8_t *v = move_block(c, ent, klen, want, 0, vlen, need_exp);
        memcpy(v, val, vlen);
        curn = vlen;
    }
    ent_set(c, ent, curn, vlen, expire_at);
}

/* --- the flush ---------------------------------------------------------------------------
 * The dirty entries are sorted and handed out inside the table's own memory, grown in place
 * (mremap) to hold the items: fresh memory is what costs most here (a first touch of a page is
 * several microseconds in a VM), and the items (40 bytes each) are the flush's whole need
 * besides the blocks. The gather compacts the dirty slots at the table's front, widens them
 * (from the last) into sort entries, an in-place radix sort orders them, and they are widened
 * again (from the last) into the items. */

/* A dirty entry to sort: its key's first 16 bytes as two big-endian numbers (zero-padded), so
 * that the sort reads bytes of the array and the keys themselves only on a tie. */
typedef struct sort_ent {
    uint64_t k0, k1;
    const uint8_t *key;
    uint16_t klen;
    uint16_t exp; /* the block has an expire_at, 8 bytes before the key */
    uint32_t vlen;
} sort_ent;
_Static_assert(sizeof(sort_ent) == 2 * sizeof(cache_ent), "a sort entry replaces two slots");
_Static_assert(sizeof(atd_engine_kv_item) >= sizeof(sort_ent), "items are widened in place");

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
    int r = memcmp(x->key, y->key, n);
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

/* The bytes of table memory a flush of n entries uses. */
static size_t flush_bytes(const atd_cache *c, size_t n)
{
    size_t need = n * sizeof(atd_engine_kv_item), have = c->cap * sizeof *c->tab;
    return need > have ? need : have;
}

/* Grows the table's mapping to at least n bytes, keeping its contents. */
static void table_reserve(atd_cache *c, size_t n)
{
    n = (n + HUGE_ALIGN - 1) & ~(size_t)(HUGE_ALIGN - 1);
    if (n <= c->tab_bytes) return;
    void *p = mremap(c->tab, c->tab_bytes, n, MREMAP_MAYMOVE);
    if (p == MAP_FAILED) abort();
    c->tab = p;
    c->tab_bytes = n;
}

int atd_cache_take_sorted(atd_cache *c,
                          int (*fn)(void *ctx, const atd_engine_kv_item *items, size_t n),
                          void *ctx)
{
    /* compact: the dirty slots to the front, in table order */
    size_t n = 0;
    for (size_t i = 0; i < c->cap; i++) {
        cache_ent ent = c->tab[i];
        if (ent.b & E_DIRTY) c->tab[n++] = ent;
    }
    table_reserve(c, flush_bytes(c, n));
    /* widen slot i into sort entry i, from the last (entry i covers slots 2i and 2i+1, read
     * already) */
    sort_ent *list = (sort_ent *)(void *)c->tab;
    for (size_t i = n; i-- > 0;) {
        if (i >= FLUSH_AHEAD) __builtin_prefetch(blk_of(c->tab[i - FLUSH_AHEAD].b));
        cache_ent ent = c->tab[i];
        size_t klen = blk_klen(ent.b);
        const uint8_t *k = blk_key(ent.b);
        sort_ent se = {load_be((const char *)k, klen),
                       klen > 8 ? load_be((const char *)k + 8, klen - 8) : 0, k,
                       (uint16_t)klen, (uint16_t)((ent.b & E_EXP) != 0), ent.vlen};
        memcpy(&list[i], &se, sizeof se);
    }
    /* key order: the kv (a B-tree) appends to neighbouring pages instead of jumping around */
    radix_sort(list, n, 0);

    /* widen entry i into item i, from the last: item i starts at or after entry i, so it only
     * overwrites entries already widened. A value starts right after its key. */
    atd_engine_kv_item *items = (atd_engine_kv_item *)(void *)c->tab;
    for (size_t i = n; i-- > 0;) {
        sort_ent se;
        memcpy(&se, &list[i], sizeof se);
        int64_t exp = 0;
        if (se.exp) memcpy(&exp, se.key - 8, 8);
        atd_engine_kv_item it = {(const char *)se.key, se.klen, se.key + se.klen, se.vlen, exp};
        memcpy(&items[i], &it, sizeof it);
    }
    int r = fn(ctx, items, n);
    /* the table as it was: its slots zeroed (by the clear); memory past them goes back */
    size_t tbytes = c->cap * sizeof *c->tab;
    if (c->tab_bytes > tbytes) {
        if (((uintptr_t)c->tab & (HUGE_ALIGN - 1)) == 0) {
            c->tab = mremap(c->tab, c->tab_bytes, tbytes, 0);
            if (c->tab == MAP_FAILED) abort();
        } else { /* moved off the huge page alignment: a new table */
            table_free(c->tab, c->tab_bytes);
            c->tab = table_alloc(tbytes);
            c->used = 0; /* fresh zero pages: nothing to clear */
        }
        c->tab_bytes = tbytes;
    }
    atd_cache_clear(c);
    return r;
}

/* The pool's blocks, and the table or, when it is bigger, what the flush will need. */
size_t atd_cache_bytes(const atd_cache *c)
{
    return c->mem.cur * POOL_CHUNK + c->mem.used + c->mem.bigbytes + flush_bytes(c, c->ndirty);
}

void atd_cache_prefetch_slot(const atd_cache *c, uint64_t hash)
{
    __builtin_prefetch(&c->tab[hash & (c->cap - 1)]);
}

void atd_cache_prefetch_value(const atd_cache *c, uint64_t hash)
{
    size_t mask = c->cap - 1;
    uint32_t tag = (uint32_t)hash;
    /* the slot is in the CPU cache by now; probe by tag only (a hint) */
    for (size_t j = hash & mask;; j = (j + 1) & mask) {
        const cache_ent *ent = &c->tab[j];
        if (!ent->b) return;
        if (ent->tag == tag) {
            const uint8_t *b = blk_of(ent->b);
            __builtin_prefetch(b);
            /* a touch list is read whole: its first few cache lines */
            size_t n = ent->vlen + 48 < 256 ? ent->vlen + 48 : 256;
            for (size_t off = 64; off < n; off += 64) __builtin_prefetch(b + off);
            return;
        }
    }
}
