/* The engine object, its counters, and the kv access of every rule: straight through to the
 * kv, or through the write-behind cache of a batch (the same bytes either way, so batching
 * never changes a decision). */
#include <stdlib.h>

#include "attribution/batch_cache.h"
#include "attribution/engine_internal.h"

/* --- kv access --------------------------------------------------------------------------- */

_Static_assert(ATD_ENGINE_KEY_MAX >= ATD_KEY_MAX, "a prefetch holds any key");

/* Notes key pf->key[pf->n] (made of the event field src) and its hash. */
static void hint_add(atd_prefetch *pf, const char *src, size_t kl)
{
    pf->src[pf->n] = src;
    pf->klen[pf->n] = (uint16_t)kl;
    pf->hash[pf->n] = atd_cache_hash(pf->key[pf->n], kl);
    pf->n++;
}

static uint64_t key_hash(atd_ekey *k)
{
    if (!k->has_hash) {
        k->hash = atd_cache_hash(k->p, k->n);
        k->has_hash = 1;
    }
    return k->hash;
}

static int found_one(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    (void)key, (void)klen, (void)val, (void)vlen;
    *(int *)ud = 1;
    return 1; /* one is enough */
}

/* Whether the kv may hold a key the engine looks up (every one starts with a byte of
 * ATD_KEY_KINDS): 1 when it does or when that cannot be told, 0 when it holds none. */
static int kv_has_engine_keys(atd_kv_txn *txn)
{
    if (!txn->kv->ops->scan) return 1;
    for (const char *kind = ATD_KEY_KINDS; *kind; kind++) {
        int found = 0;
        if (txn->kv->ops->scan(txn, kind, 1, found_one, &found) < 0 || found) return 1;
    }
    return 0;
}

/* hold: a key that is not found is left "missed" in the cache (e->held), for
 * atd_eng_put_held to add with its first value at once */
static int eng_get(atd_engine *e, atd_kv_txn *txn, atd_ekey *k, atd_arena *arena, uint8_t **val,
                   size_t *vlen, int hold)
{
    e->held = 0;
    if (e->cache) {
        int h = atd_cache_get_hashed(e->cache, k->p, k->n, key_hash(k), val, vlen);
        if (h == ATD_CACHE_HIT) return 0;
        if (h == ATD_CACHE_ABSENT) return ATD_ENOTFOUND;
        /* a batch writes only to the cache until its flush: a kv without engine keys when
         * the batch began has none for the whole batch (a replay's fresh store) */
        if (!e->kv_keyless) e->kv_keyless = kv_has_engine_keys(txn) ? -1 : 1;
        if (e->kv_keyless > 0) {
            /* nothing to remember: the next get of this key is answered the same way */
            if (hold) e->held = 1;
            return ATD_ENOTFOUND;
        }
    }
    atd_kv_val v;
    e->n.kv_gets++;
    int r = atd_kv_get(txn, k->p, k->n, &v);
    if (r == 0 && v.n > UINT32_MAX / 2) r = ATD_ETOOBIG;
    if (r < 0) {
        /* not found: the cache remembers "absent"; an error: the caller aborts anyway */
        if (e->cache) {
            if (hold && r == ATD_ENOTFOUND) e->held = 1;
            else atd_cache_fill(e->cache, NULL, 0);
        }
        return r;
    }
    uint8_t *copy;
    if (e->cache) {
        copy = atd_cache_fill(e->cache, v.p, v.n);
    } else {
        copy = atd_arena_alloc(arena, v.n ? v.n : 1);
        memcpy(copy, v.p, v.n);
    }
    *val = copy;
    *vlen = v.n;
    return 0;
}

int atd_eng_get(atd_engine *e, atd_kv_txn *txn, atd_ekey *k, atd_arena *arena, uint8_t **val,
                size_t *vlen)
{
    return eng_get(e, txn, k, arena, val, vlen, 0);
}

int atd_eng_get_hold(atd_engine *e, atd_kv_txn *txn, atd_ekey *k, atd_arena *arena,
                     uint8_t **val, size_t *vlen)
{
    return eng_get(e, txn, k, arena, val, vlen, 1);
}

int atd_eng_put_held(atd_engine *e, atd_kv_txn *txn, atd_ekey *k, const void *val, size_t vlen,
                     int64_t expire_at)
{
    if (!e->held || !e->cache || vlen > UINT32_MAX / 2)
        return atd_eng_put(e, txn, k, val, vlen, expire_at);
    e->held = 0;
    if (atd_cache_fill_put(e->cache, val, vlen, e->no_expiry ? 0 : expire_at) == 0) return 0;
    return atd_eng_put(e, txn, k, val, vlen, expire_at);
}

int atd_eng_put(atd_engine *e, atd_kv_txn *txn, atd_ekey *k, const void *val, size_t vlen,
                int64_t expire_at)
{
    if (e->no_expiry) expire_at = 0;
    if (!e->cache) {
        e->n.kv_puts++;
        return atd_kv_put(txn, k->p, k->n, val, vlen, expire_at);
    }
    if (vlen > UINT32_MAX / 2 || k->n > UINT32_MAX / 2) return ATD_ETOOBIG;
    atd_cache_put_hashed(e->cache, k->p, k->n, key_hash(k), val, vlen, expire_at);
    return 0;
}

int atd_eng_append(atd_engine *e, atd_kv_txn *txn, atd_ekey *k, const uint8_t *old,
                   size_t oldn, const void *rec, size_t recn, int64_t expire_at)
{
    if (e->no_expiry) expire_at = 0;
    if (e->cache && atd_cache_append(e->cache, k->p, k->n, rec, recn, expire_at) == 0) return 0;
    atd_buf_reserve(&e->vbuf, oldn + recn);
    e->vbuf.n = 0;
    atd_buf_put(&e->vbuf, old, oldn);
    atd_buf_put(&e->vbuf, rec, recn);
    return atd_eng_put(e, txn, k, e->vbuf.p, e->vbuf.n, expire_at);
}

void atd_engine_batch_begin(atd_engine *e)
{
    if (!e->cache) e->cache = atd_cache_new();
    atd_cache_clear(e->cache);
    e->kv_keyless = 0;
}

int atd_engine_put_sorted(atd_kv_txn *txn, const atd_engine_kv_item *items, size_t n)
{
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        if (i + 8 < n) { /* the keys and values are spread over the pool: load ahead */
            __builtin_prefetch(items[i + 8].key);
            __builtin_prefetch(items[i + 8].val);
        }
        r = atd_kv_put(txn, items[i].key, items[i].klen, items[i].val, items[i].vlen,
                       items[i].expire_at);
    }
    return r;
}

static int put_into_txn(void *txn, const atd_engine_kv_item *items, size_t n)
{
    return atd_engine_put_sorted(txn, items, n);
}

int atd_engine_batch_flush(atd_engine *e, atd_kv_txn *txn)
{
    return atd_engine_batch_flush_sorted(e, put_into_txn, txn);
}

/* A dotted quad in the canonical form of an event's ip (four parts 0-255 without leading
 * zeros; what nearly every event carries): 0 and *out as atd_ip_parse would give it, else -1
 * and atd_ip_parse is asked (spaces, IPv6, invalid text). Cheaper than atd_ip_parse's general
 * path, which looks for a ':' and trims first. */
static int ip4_canonical(const char *s, size_t n, atd_ip *out)
{
    if (n < 7 || n > 15) return -1;
    const char *end = s + n;
    uint8_t a[4];
    for (int k = 0; k < 4; k++) {
        if (k) {
            if (s >= end || *s != '.') return -1;
            s++;
        }
        if (s >= end) return -1;
        unsigned v = (unsigned)(unsigned char)*s - '0', d;
        if (v > 9) return -1;
        s++;
        if (s < end && (d = (unsigned)(unsigned char)*s - '0') <= 9) {
            if (v == 0) return -1; /* a leading zero */
            v = v * 10 + d;
            s++;
            if (s < end && (d = (unsigned)(unsigned char)*s - '0') <= 9) {
                v = v * 10 + d;
                s++;
                if (v > 255) return -1;
            }
        }
        a[k] = (uint8_t)v;
    }
    if (s != end) return -1;
    memset(out, 0, sizeof *out);
    out->family = 4;
    memcpy(out->addr, a, 4);
    return 0;
}

static int event_ip_parse(const atd_event *ev, atd_ip *out)
{
    if (ev->ip4_set) { /* the parser already read the dotted quad */
        memset(out, 0, sizeof *out);
        out->family = 4;
        memcpy(out->addr, ev->ip4, 4);
        return 0;
    }
    const atd_str ip = ev->ip;
    return ip4_canonical(ip.p, ip.n, out) == 0 ? 0 : atd_ip_parse(ip.p, ip.n, out);
}

/* The keys an event will look up first: its advertising id's and ip's touch lists (a touch
 * appends to them, an install matches them), its device record (app events). A guess is
 * enough: a wrong one costs a useless prefetch. */
void atd_engine_prefetch_slots(atd_engine *e, const atd_event *ev, atd_prefetch *pf)
{
    pf->n = 0;
    pf->ip_src = NULL;
    if (!e->cache) return;
    size_t kl;
    if (ATD_EV_IS_APP(ev->type) && ev->device_id.p) {
        kl = atd_key_device(pf->key[pf->n], ev->app_id, ev->device_id);
        hint_add(pf, ev->device_id.p, kl);
    }
    if (ev->advertising_id.p) {
        kl = atd_key_touch_adid(pf->key[pf->n], ev->app_id, ev->advertising_id);
        hint_add(pf, ev->advertising_id.p, kl);
    }
    if (ev->ip.p && event_ip_parse(ev, &pf->ip) == 0) {
        pf->ip_src = ev->ip.p;
        if (!ev->is_retargeting && ev->type != ATD_EV_SESSION && ev->type != ATD_EV_INAPP) {
            kl = atd_key_touch_ip(pf->key[pf->n], ev->app_id, &pf->ip);
            hint_add(pf, ev->ip.p, kl);
        }
    }
    for (int i = 0; i < pf->n; i++) atd_cache_prefetch_slot(e->cache, pf->hash[i]);
}

void atd_engine_use_prefetch(atd_engine *e, const atd_prefetch *pf) { e->hint = pf; }

/* The key the prefetch made of the event field src (by pointer), with its hash: 1, or 0 when
 * there is none. */
static int hinted_key(const atd_engine *e, const char *src, atd_ekey *k)
{
    const atd_prefetch *pf = e->hint;
    if (!pf || !src) return 0;
    for (int i = 0; i < pf->n; i++) {
        if (pf->src[i] == src) {
            k->p = pf->key[i];
            k->n = pf->klen[i];
            k->hash = pf->hash[i];
            k->has_hash = 1;
            return 1;
        }
    }
    return 0;
}

void atd_eng_key_device(const atd_engine *e, atd_ekey *k, atd_str app, atd_str device_id)
{
    if (!hinted_key(e, device_id.p, k)) atd_ekey_set(k, atd_key_device(k->buf, app, device_id));
}

void atd_eng_key_adid(const atd_engine *e, atd_ekey *k, atd_str app, atd_str adid)
{
    if (!hinted_key(e, adid.p, k)) atd_ekey_set(k, atd_key_touch_adid(k->buf, app, adid));
}

void atd_eng_key_ip(const atd_engine *e, atd_ekey *k, atd_str app, const atd_ip *ip,
                    const char *ip_src)
{
    if (!hinted_key(e, ip_src, k)) atd_ekey_set(k, atd_key_touch_ip(k->buf, app, ip));
}

int atd_eng_event_ip(const atd_engine *e, const atd_event *ev, atd_ip *ip)
{
    if (!ev->ip.p) return -1;
    if (e->hint && e->hint->ip_src == ev->ip.p) {
        *ip = e->hint->ip;
        return 0;
    }
    return event_ip_parse(ev, ip);
}

void atd_engine_prefetch_values(atd_engine *e, const atd_prefetch *pf)
{
    if (!e->cache) return;
    for (int i = 0; i < pf->n; i++) atd_cache_prefetch_value(e->cache, pf->hash[i]);
}

typedef struct counted {
    atd_engine *e;
    int (*fn)(void *ctx, const atd_engine_kv_item *items, size_t n);
    void *ctx;
} counted;

static int count_puts(void *ctx, const atd_engine_kv_item *items, size_t n)
{
    counted *c = ctx;
    c->e->n.kv_puts += n;
    return c->fn(c->ctx, items, n);
}

int atd_engine_batch_flush_sorted(atd_engine *e,
                                  int (*fn)(void *ctx, const atd_engine_kv_item *items, size_t n),
                                  void *ctx)
{
    e->kv_keyless = 0; /* the batch ends: its keys go to the kv */
    if (!e->cache) return fn(ctx, NULL, 0);
    counted c = {e, fn, ctx};
    return atd_cache_take_sorted(e->cache, count_puts, &c);
}

void atd_engine_set_kv(atd_engine *e, atd_kv *kv)
{
    e->kv = kv;
    e->kv_keyless = 0;
}

size_t atd_engine_batch_bytes(const atd_engine *e)
{
    return e->cache ? atd_cache_bytes(e->cache) : 0;
}

void atd_engine_batch_discard(atd_engine *e)
{
    if (e->cache) atd_cache_clear(e->cache);
    e->kv_keyless = 0;
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
    atd_cache_free(e->cache);
    atd_buf_free(&e->vbuf);
    atd_buf_free(&e->rbuf);
    free(e);
}

const atd_engine_counters *atd_engine_stats(const atd_engine *e) { return &e->n; }

void atd_engine_set_kv_expiry(atd_engine *e, int on) { e->no_expiry = !on; }

int atd_engine_device(atd_engine *e, atd_kv_txn *txn, atd_str app_id, atd_str device_id,
                      atd_result *out, atd_arena *arena)
{
    atd_ekey k;
    atd_ekey_set(&k, atd_key_device(k.buf, app_id, device_id));
    uint8_t *v;
    size_t vn;
    int r = atd_eng_get(e, txn, &k, arena, &v, &vn);
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
