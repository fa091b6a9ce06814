/* The engine's write-behind cache of a batch: every key the batch read or wrote, with its
 * value (or "absent"), in one open-addressing hash table; the changed ones are written to the
 * kv at the flush, in key order.
 *
 * Memory: keys and values live in big pooled chunks (huge pages where the kernel offers them),
 * kept across batches. A value that outgrows its block moves to a bigger one; the old block is
 * recycled by size class, but only at atd_cache_release (between two events), so that pointers
 * into values stay valid for the whole event that got them. */
#ifndef ATTRIBD_ATTRIBUTION_BATCH_CACHE_H
#define ATTRIBD_ATTRIBUTION_BATCH_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "attribd/engine.h"
#include "core/hash.h"

typedef struct atd_cache atd_cache;

atd_cache *atd_cache_new(void); /* aborts on out-of-memory */
void atd_cache_free(atd_cache *c);
/* Forgets every key (the memory is kept for the next batch). */
void atd_cache_clear(atd_cache *c);

enum { ATD_CACHE_MISS = 0, ATD_CACHE_HIT = 1, ATD_CACHE_ABSENT = 2 };
/* The hash of a key (inline: the prefetch hashes every key of an event). */
static inline uint64_t atd_cache_hash(const char *key, size_t klen)
{
    return atd_hash_bytes(key, klen);
}
/* Looks key up: HIT (*val, *vlen: the cached bytes, which the caller may modify and put back),
 * ABSENT (known not to exist), or MISS: the caller reads the kv and then calls
 * atd_cache_fill (or atd_cache_fill_put) for this key before any other call, or leaves the
 * key out of the cache (a kv known to hold no such key: nothing to remember). */
int atd_cache_get(atd_cache *c, const char *key, size_t klen, uint8_t **val, size_t *vlen);
/* After a MISS: records the kv's value (val NULL: absent) and returns the cached copy. */
uint8_t *atd_cache_fill(atd_cache *c, const void *val, size_t vlen);
/* After a MISS, instead of atd_cache_fill: adds the key with the value val (dirty, as
 * atd_cache_put would). Returns 0, or -1 (nothing done) when there was no MISS to fill. */
int atd_cache_fill_put(atd_cache *c, const void *val, size_t vlen, int64_t expire_at);
/* Sets key's value (dirty: written at the flush). val may be the cached copy itself (changed
 * in place). */
void atd_cache_put(atd_cache *c, const char *key, size_t klen, const void *val, size_t vlen,
                   int64_t expire_at);
/* Appends rec (recn bytes) to the value of key, which must be the entry that the last
 * atd_cache_get (HIT) or atd_cache_fill (with a value) gave, in place when its block has
 * room (else in a bigger one; pointers into the old value stay valid until the event ends,
 * as with a put). Marks it dirty with expire_at. Returns 0, or -1 (nothing
 * changed) when key is not that entry: the caller then puts the whole value. */
int atd_cache_append(atd_cache *c, const char *key, size_t klen, const void *rec, size_t recn,
                     int64_t expire_at);
/* The same, with key's hash (atd_cache_hash) already made. */
int atd_cache_get_hashed(atd_cache *c, const char *key, size_t klen, uint64_t hash,
                         uint8_t **val, size_t *vlen);
void atd_cache_put_hashed(atd_cache *c, const char *key, size_t klen, uint64_t hash,
                          const void *val, size_t vlen, int64_t expire_at);
/* Between events: blocks given up during the last event become reusable. */
void atd_cache_release(atd_cache *c);

/* Hands fn every dirty key in key order as one array (valid during the call); returns fn's
 * result. The array lives in the cache's table, so fn must not call the cache; the cache is
 * cleared afterwards. */
int atd_cache_take_sorted(atd_cache *c,
                          int (*fn)(void *ctx, const atd_engine_kv_item *items, size_t n),
                          void *ctx);

/* Memory held: pooled chunks and the table, in bytes. */
size_t atd_cache_bytes(const atd_cache *c);

/* Prefetch hints (see atd_engine_prefetch_slots): start loading the table slot of a hash, and
 * later the key and value its entry points to. */
void atd_cache_prefetch_slot(const atd_cache *c, uint64_t hash);
void atd_cache_prefetch_value(const atd_cache *c, uint64_t hash);

#endif
