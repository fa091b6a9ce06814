/* The batch cache (src/attribution/batch_cache.c) against a plain model: random gets, fills,
 * puts (appends, rewrites, growth past a block) and flushes; every read must match the model,
 * a value read during an event must stay intact until the event ends (blocks are recycled
 * only at atd_cache_release), and a flush must hand out exactly the dirty keys, in key order. */
#include <stdlib.h>

#include "attribution/batch_cache.h"
#include "harness.h"

#define NKEYS 300
#define VMAX 20000 /* past the recycled size classes (8 KiB) too */

typedef struct model_ent {
    int state; /* 0: unknown to the cache, 1: absent, 2: has a value */
    int dirty;
    uint8_t *val;
    size_t vlen;
    int64_t expire;
} model_ent;

static model_ent model[NKEYS];

static size_t key_of(int i, char *buf)
{
    /* keys of varied lengths that share prefixes (the sort reads past 16 bytes) */
    return (size_t)snprintf(buf, 64, "%c-shared-prefix-%0*d", 'A' + i % 3, 1 + i % 7, i);
}

static unsigned rnd(void) { return (unsigned)rand(); }

typedef struct flushed {
    char key[64];
    size_t klen;
    uint8_t *val;
    size_t vlen;
    int64_t expire;
} flushed;

static flushed *out;
static size_t nout;

static int collect(void *ctx, const atd_engine_kv_item *items, size_t n)
{
    *(size_t *)ctx = n;
    for (size_t i = 0; i < n; i++) {
        flushed *f = &out[nout++];
        memcpy(f->key, items[i].key, items[i].klen);
        f->klen = items[i].klen;
        f->val = malloc(items[i].vlen ? items[i].vlen : 1);
        memcpy(f->val, items[i].val, items[i].vlen);
        f->vlen = items[i].vlen;
        f->expire = items[i].expire_at;
    }
    return 0;
}

static int key_cmp(const flushed *a, const flushed *b)
{
    size_t n = a->klen < b->klen ? a->klen : b->klen;
    int c = memcmp(a->key, b->key, n);
    return c ? c : (a->klen > b->klen) - (a->klen < b->klen);
}

static void check_flush(atd_cache *c)
{
    out = calloc(NKEYS, sizeof *out);
    nout = 0;
    size_t n = 0;
    CHECK_EQ_INT(atd_cache_take_sorted(c, collect, &n), 0);
    CHECK_EQ_INT(n, nout);
    size_t want = 0;
    for (int i = 0; i < NKEYS; i++) want += model[i].dirty;
    CHECK_EQ_INT(nout, want);
    for (size_t j = 0; j < nout; j++) {
        if (j) CHECK(key_cmp(&out[j - 1], &out[j]) < 0);
        int i = -1;
        for (int k = 0; k < NKEYS; k++) {
            char kb[64];
            size_t kl = key_of(k, kb);
            if (kl == out[j].klen && memcmp(kb, out[j].key, kl) == 0) i = k;
        }
        CHECK(i >= 0 && model[i].dirty);
        if (i < 0) continue;
        CHECK_EQ_INT(out[j].vlen, model[i].vlen);
        CHECK(memcmp(out[j].val, model[i].val, model[i].vlen) == 0);
        CHECK_EQ_INT(out[j].expire, model[i].expire);
    }
    for (size_t j = 0; j < nout; j++) free(out[j].val);
    free(out);
    /* the cache is empty after a flush: every key is unknown again (as if in the kv) */
    for (int i = 0; i < NKEYS; i++) {
        model[i].dirty = 0;
        model[i].state = model[i].val ? 3 : 0; /* 3: in the "kv"; 0: the kv has nothing */
    }
}

static void test_random_against_model(void)
{
    srand(7);
    atd_cache *c = atd_cache_new();
    memset(model, 0, sizeof model);
    uint8_t *buf = malloc(VMAX + 64);
    for (int round = 0; round < 20000; round++) {
        /* one "event": a few operations, with a value read at its start kept to check */
        atd_cache_release(c);
        int ki = (int)(rnd() % NKEYS);
        char kb[64];
        size_t kl = key_of(ki, kb);
        uint8_t *held = NULL, *held_copy = NULL;
        size_t held_n = 0;
        for (int op = 0; op < 3; op++) {
            int i = op == 0 ? ki : (int)(rnd() % NKEYS);
            kl = key_of(i, kb);
            model_ent *m = &model[i];
            uint8_t *v = NULL;
            size_t vn = 0;
            int h = atd_cache_get(c, kb, kl, &v, &vn);
            if (m->state == 0 || m->state == 3) {
                CHECK_EQ_INT(h, ATD_CACHE_MISS);
                /* the "kv" answers: absent, or the value it holds */
                v = atd_cache_fill(c, m->state == 3 ? m->val : NULL, m->state == 3 ? m->vlen : 0);
                if (m->state == 0) m->state = 1;
                else m->state = 2;
                if (m->state == 2) CHECK(v && memcmp(v, m->val, m->vlen) == 0);
                vn = m->vlen;
            } else if (m->state == 1) {
                CHECK_EQ_INT(h, ATD_CACHE_ABSENT);
            } else {
                CHECK_EQ_INT(h, ATD_CACHE_HIT);
                CHECK_EQ_INT(vn, m->vlen);
                CHECK(memcmp(v, m->val, m->vlen) == 0);
            }
            if (op == 0 && m->state == 2) {
                held = v;
                held_n = vn;
                held_copy = malloc(vn ? vn : 1);
                memcpy(held_copy, v, vn);
            }
            /* a put: append, rewrite (shorter or longer), or leave it */
            unsigned what = rnd() % 4;
            if (what == 3) continue;
            size_t nn;
            if (what == 0 && m->state == 2) { /* append */
                nn = m->vlen + 1 + rnd() % (m->vlen > VMAX / 2 ? 1 : 300);
                if (nn > VMAX) nn = m->vlen;
                memcpy(buf, m->val, m->vlen);
                for (size_t k = m->vlen; k < nn; k++) buf[k] = (uint8_t)rnd();
            } else {
                nn = what == 1 || rnd() % 8 ? rnd() % 200 : rnd() % VMAX;
                for (size_t k = 0; k < nn; k++) buf[k] = (uint8_t)rnd();
            }
            int64_t exp = (int64_t)(rnd() % 1000);
            if (what == 0 && m->state == 2 && nn > m->vlen && rnd() % 2) {
                /* the same append through atd_cache_append (this key was the last get) */
                char other[64];
                size_t ol = key_of((i + 1) % NKEYS, other);
                CHECK_EQ_INT(atd_cache_append(c, other, ol, buf, 1, exp), -1);
                CHECK_EQ_INT(atd_cache_append(c, kb, kl, buf + m->vlen, nn - m->vlen, exp), 0);
            } else {
                atd_cache_put(c, kb, kl, buf, nn, exp);
            }
            free(m->val);
            m->val = malloc(nn ? nn : 1);
            memcpy(m->val, buf, nn);
            m->vlen = nn;
            m->expire = exp;
            m->state = 2;
            m->dirty = 1;
        }
        /* what was read at the event's start is intact, or (put to the same key) was
         * appended to in place: its first bytes are the same */
        if (held) CHECK(memcmp(held, held_copy, held_n) == 0);
        free(held_copy);
        if (round % 5000 == 4999) check_flush(c);
    }
    check_flush(c);
    for (int i = 0; i < NKEYS; i++) free(model[i].val);
    free(buf);
    atd_cache_free(c);
}

/* The flush's radix sort against a plain comparison on many keys shaped like the engine's
 * (a kind byte, a length, random binary ids, "dev-N" strings) and awkward ones (zero bytes,
 * keys that are prefixes of others, long shared prefixes past the 16 bytes the sort looks at
 * first, one-byte keys). Every key's value is derived from the key, so a value handed out with
 * the wrong key shows. */
#define MANY 60000

static size_t many_key(unsigned i, char *buf)
{
    unsigned r = i * 2654435761u;
    switch (i % 6) {
    case 0: /* 'U', 16 random bytes (zeros among them), app */
        buf[0] = 'U';
        buf[1] = 16;
        for (int k = 0; k < 16; k++) buf[2 + k] = (char)((r >> (k % 4 * 8)) ^ (i >> k) ^ k * 77);
        memcpy(buf + 18, "com.app", 7);
        return 25;
    case 1: /* a device id */
        return (size_t)snprintf(buf, 64, "D%cdev-%u%s", 4 + (int)(i % 5), i, "com.app");
    case 2: /* shared 20-byte prefix, then a number */
        return (size_t)snprintf(buf, 64, "Lsame-prefix-for-all%u", i / 6);
    case 3: { /* short binary keys, zero bytes included; prefixes of each other */
        size_t n = 1 + (i / 6) % 3;
        buf[0] = 'Z';
        buf[1] = (char)(i / 18 % 7);
        buf[2] = (char)(i / 54 % 2);
        return n > 2 ? 3 : n + 1;
    }
    case 4: /* an ip key: family, 4 bytes */
        buf[0] = 'I';
        buf[1] = 5;
        buf[2] = 4;
        memcpy(buf + 3, &r, 4);
        return 7;
    default: /* keys equal to 16 bytes, then differing in length only */
        memset(buf, 'q', 16);
        return 16 + (i / 6) % 40;
    }
}

static int many_cmp(const void *a, const void *b)
{
    return key_cmp(a, b);
}

static int collect_all(void *ctx, const atd_engine_kv_item *items, size_t n)
{
    flushed *got = ctx;
    for (size_t i = 0; i < n && i < MANY; i++) {
        memcpy(got[i].key, items[i].key, items[i].klen);
        got[i].klen = items[i].klen;
        got[i].vlen = items[i].vlen;
        got[i].expire = items[i].expire_at;
        got[i].val = malloc(items[i].vlen);
        memcpy(got[i].val, items[i].val, items[i].vlen);
    }
    return (int)n;
}

static void test_sort_many_keys(void)
{
    atd_cache *c = atd_cache_new();
    flushed *want = calloc(MANY, sizeof *want), *got = calloc(MANY, sizeof *got);
    size_t n = 0;
    for (unsigned i = 0; i < MANY; i++) {
        char kb[64];
        size_t kl = many_key(i, kb);
        /* the generators repeat some short keys: keep each key once */
        uint8_t *v;
        size_t vn;
        if (atd_cache_get(c, kb, kl, &v, &vn) == ATD_CACHE_MISS) atd_cache_fill(c, NULL, 0);
        else continue;
        uint8_t val[40];
        for (size_t k = 0; k < sizeof val; k++) val[k] = (uint8_t)(kb[k % kl] + k);
        size_t vl = 1 + kl % 37;
        atd_cache_put(c, kb, kl, val, vl, (int64_t)kl * 1000 + kb[0]);
        atd_cache_release(c);
        memcpy(want[n].key, kb, kl);
        want[n].klen = kl;
        want[n].vlen = vl;
        want[n].expire = (int64_t)kl * 1000 + kb[0];
        n++;
    }
    qsort(want, n, sizeof *want, many_cmp);
    CHECK(n > MANY / 2);
    CHECK_EQ_INT(atd_cache_take_sorted(c, collect_all, got), (int)n);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (got[i].klen != want[i].klen || memcmp(got[i].key, want[i].key, want[i].klen) ||
            got[i].vlen != want[i].vlen || got[i].expire != want[i].expire) {
            bad++;
            continue;
        }
        for (size_t k = 0; k < got[i].vlen; k++)
            if (got[i].val[k] != (uint8_t)(want[i].key[k % want[i].klen] + k)) {
                bad++;
                break;
            }
    }
    CHECK_EQ_INT(bad, 0);
    /* the table served as the sort's memory: the cache works as new afterwards */
    uint8_t *v;
    size_t vn;
    CHECK_EQ_INT(atd_cache_get(c, want[0].key, want[0].klen, &v, &vn), ATD_CACHE_MISS);
    atd_cache_fill(c, "x", 1);
    atd_cache_put(c, want[0].key, want[0].klen, "yz", 2, 0);
    flushed one[1];
    CHECK_EQ_INT(atd_cache_take_sorted(c, collect_all, one), 1);
    CHECK_EQ_INT(one[0].vlen, 2);
    CHECK(memcmp(one[0].val, "yz", 2) == 0);
    free(one[0].val);
    for (size_t i = 0; i < n; i++) free(got[i].val);
    free(want);
    free(got);
    atd_cache_free(c);
}

/* Flushes c into a fresh array (the caller frees it and its values). */
static flushed *flush_all(atd_cache *c, size_t max, size_t *n)
{
    flushed *got = calloc(max, sizeof *got);
    int r = atd_cache_take_sorted(c, collect_all, got);
    *n = r < 0 ? 0 : (size_t)r;
    return got;
}

static void free_flushed(flushed *f, size_t n)
{
    for (size_t i = 0; i < n && i < MANY; i++) free(f[i].val);
    free(f);
}

/* One value grown by appends of varied sizes, one event each, past the recycled classes
 * (8 KiB) and past the 64 KiB of room a block header can tell; the value is right after
 * every append and at the flush. */
static void test_growth_by_appends(void)
{
    atd_cache *c = atd_cache_new();
    const char *key = "Ugrowing-list-key";
    size_t kl = strlen(key), n = 0;
    uint8_t *want = malloc(400000), *v = NULL;
    size_t vn = 0;
    CHECK_EQ_INT(atd_cache_get(c, key, kl, &v, &vn), ATD_CACHE_MISS);
    CHECK(atd_cache_fill(c, "s", 1) != NULL);
    want[n++] = 's';
    int bad = 0;
    for (unsigned i = 0; n < 300000; i++) {
        atd_cache_release(c);
        uint8_t rec[700];
        size_t rn = 1 + (i * 37) % sizeof rec;
        for (size_t k = 0; k < rn; k++) rec[k] = (uint8_t)(i + k);
        CHECK_EQ_INT(atd_cache_get(c, key, kl, &v, &vn), ATD_CACHE_HIT);
        if (vn != n || memcmp(v, want, n) != 0) bad++;
        CHECK_EQ_INT(atd_cache_append(c, key, kl, rec, rn, 0), 0);
        memcpy(want + n, rec, rn);
        n += rn;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(atd_cache_get(c, key, kl, &v, &vn), ATD_CACHE_HIT);
    CHECK_EQ_INT(vn, n);
    CHECK(memcmp(v, want, n) == 0);
    /* the flush needs at least its items: the budget counts them */
    CHECK(atd_cache_bytes(c) >= n);
    size_t got_n;
    flushed *got = flush_all(c, 4, &got_n);
    CHECK_EQ_INT(got_n, 1);
    CHECK_EQ_INT(got[0].vlen, n);
    CHECK(got[0].vlen == n && memcmp(got[0].val, want, n) == 0);
    CHECK_EQ_INT(got[0].expire, 0);
    free_flushed(got, got_n);
    free(want);
    atd_cache_free(c);
}

static int long_seen;

/* Checks the flush of test_long_keys_and_expiry: the keys A..F in order, their expiries. */
static int collect_long(void *ctx, const atd_engine_kv_item *items, size_t n)
{
    char(*keys)[5000] = ctx;
    size_t kls[6] = {1, 255, 256, 512, 4000, 4999};
    int64_t want_exp[6] = {123, 9001, 0, 9003, 7004, 9005};
    for (size_t j = 0; j < n && j < 6; j++) {
        CHECK_EQ_INT(items[j].klen, kls[j]);
        CHECK(items[j].klen == kls[j] && memcmp(items[j].key, keys[j], kls[j]) == 0);
        CHECK_EQ_INT(items[j].expire_at, want_exp[j]);
        long_seen++;
    }
    return (int)n;
}

/* Keys up to several KiB, values with and without expire_at (a block gets the field when a
 * put first needs it), a filled value rewritten with an expire_at and back to 0. */
static void test_long_keys_and_expiry(void)
{
    atd_cache *c = atd_cache_new();
    static char keys[6][5000];
    size_t kls[6] = {1, 255, 256, 512, 4000, 4999};
    for (int i = 0; i < 6; i++) {
        for (size_t k = 0; k < kls[i]; k++) keys[i][k] = (char)('a' + (k * 7 + (size_t)i) % 26);
        keys[i][0] = (char)('A' + i);
    }
    uint8_t big[3000];
    for (size_t k = 0; k < sizeof big; k++) big[k] = (uint8_t)(k * 13);
    for (int i = 0; i < 6; i++) {
        uint8_t *v;
        size_t vn;
        CHECK_EQ_INT(atd_cache_get(c, keys[i], kls[i], &v, &vn), ATD_CACHE_MISS);
        if (i % 2) {
            atd_cache_fill(c, big, 10 + (size_t)i); /* no expire_at yet */
        } else {
            CHECK_EQ_INT(atd_cache_fill_put(c, big, 100 * (size_t)i, 7000 + i), 0);
        }
        atd_cache_release(c);
    }
    /* odd keys: a put with an expire_at moves them to a block with the field */
    for (int i = 1; i < 6; i += 2) {
        atd_cache_put(c, keys[i], kls[i], big + 1, 20 * (size_t)i, 9000 + i);
        atd_cache_release(c);
    }
    /* key 2 back to no expiry, key 0 appended to */
    atd_cache_put(c, keys[2], kls[2], big, 5, 0);
    uint8_t *v;
    size_t vn;
    CHECK_EQ_INT(atd_cache_get(c, keys[0], kls[0], &v, &vn), ATD_CACHE_HIT);
    CHECK_EQ_INT(vn, 0);
    CHECK_EQ_INT(atd_cache_append(c, keys[0], kls[0], big, 2000, 123), 0);
    for (int i = 0; i < 6; i++) {
        CHECK_EQ_INT(atd_cache_get(c, keys[i], kls[i], &v, &vn), ATD_CACHE_HIT);
        size_t wn = i == 0 ? 2000 : i == 2 ? 5 : i % 2 ? 20 * (size_t)i : 100 * (size_t)i;
        CHECK_EQ_INT(vn, wn);
        CHECK(vn == wn && memcmp(v, i % 2 ? big + 1 : big, wn) == 0);
    }
    long_seen = 0;
    CHECK_EQ_INT(atd_cache_take_sorted(c, collect_long, keys), 6);
    CHECK_EQ_INT(long_seen, 6);
    atd_cache_free(c);
}

/* Many keys whose values are rewritten (same and other sizes) event after event: the
 * blocks given up are recycled, so the memory stays near what the live values take; clear
 * forgets every key; a MISS that is not filled leaves nothing behind. */
static void test_recycling_and_clear(void)
{
    atd_cache *c = atd_cache_new();
    enum { K = 20000 };
    char kb[64];
    uint8_t val[600];
    for (size_t k = 0; k < sizeof val; k++) val[k] = (uint8_t)k;
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < K; i++) {
            size_t kl = (size_t)snprintf(kb, sizeof kb, "Ikey-%d", i);
            uint8_t *v;
            size_t vn;
            CHECK_EQ_INT(atd_cache_get(c, kb, kl, &v, &vn), ATD_CACHE_MISS);
            if (i % 3 == 0) continue; /* a MISS left unfilled */
            atd_cache_put(c, kb, kl, val, 40 + (size_t)i % 200, 0);
            atd_cache_release(c);
        }
        size_t before = atd_cache_bytes(c);
        for (int pass = 0; pass < 20; pass++) {
            for (int i = 0; i < K; i++) {
                if (i % 3 == 0) continue;
                size_t kl = (size_t)snprintf(kb, sizeof kb, "Ikey-%d", i);
                /* sizes come and go: a rewrite with another size */
                atd_cache_put(c, kb, kl, val + pass, 40 + (size_t)(i + pass * 7) % 200, 0);
                atd_cache_release(c);
            }
        }
        /* rewrites take recycled blocks: far less than 20 more copies of the values (the blocks
         * grow with their values: half as much again) */
        CHECK(atd_cache_bytes(c) < before * 3 / 2);
        int bad = 0;
        for (int i = 0; i < K; i++) {
            size_t kl = (size_t)snprintf(kb, sizeof kb, "Ikey-%d", i);
            uint8_t *v;
            size_t vn;
            int h = atd_cache_get(c, kb, kl, &v, &vn);
            if (i % 3 == 0) {
                if (h != ATD_CACHE_MISS) bad++;
                continue;
            }
            size_t wn = 40 + (size_t)(i + 19 * 7) % 200;
            if (h != ATD_CACHE_HIT || vn != wn || memcmp(v, val + 19, wn) != 0) bad++;
        }
        CHECK_EQ_INT(bad, 0);
        if (round == 0) {
            atd_cache_clear(c); /* a discarded batch: every key unknown again */
        } else {
            size_t n;
            flushed *got = flush_all(c, K, &n);
            CHECK_EQ_INT(n, K - (K + 2) / 3);
            free_flushed(got, n < MANY ? n : MANY);
        }
        size_t kl = (size_t)snprintf(kb, sizeof kb, "Ikey-%d", 1);
        uint8_t *v;
        size_t vn;
        CHECK_EQ_INT(atd_cache_get(c, kb, kl, &v, &vn), ATD_CACHE_MISS);
    }
    atd_cache_free(c);
}

int main(void)
{
    RUN(test_random_against_model);
    RUN(test_sort_many_keys);
    RUN(test_growth_by_appends);
    RUN(test_long_keys_and_expiry);
    RUN(test_recycling_and_clear);
    return atd_test_done();
}
