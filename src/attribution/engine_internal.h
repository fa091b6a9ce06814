/* What the files of src/attribution/ share: the engine struct, the per-event context, and
 * the kv access that every rule goes through. */
#ifndef ATTRIBD_ATTRIBUTION_ENGINE_INTERNAL_H
#define ATTRIBD_ATTRIBUTION_ENGINE_INTERNAL_H

#include "attribd/engine.h"
#include "attribd/ip.h"
#include "attribution/device_state.h"
#include "attribution/fingerprint.h"
#include "attribution/touch_store.h"

#define ATD_DAY_MS (86400LL * 1000)
#define ATD_HOUR_MS (3600LL * 1000)

typedef struct atd_cache atd_cache;

struct atd_engine {
    atd_kv *kv;
    atd_engine_counters n;
    atd_buf vbuf; /* values being built */
    atd_buf rbuf; /* one touch record */
    atd_cache *cache; /* write-behind cache of a batch, NULL when off */
    int no_expiry;    /* lists are put without expire_at */
    const atd_prefetch *hint; /* the current event's prefetch (atd_engine_use_prefetch) */
    atd_fp_memo fp_memo;      /* user agents' fingerprints */
    int held;       /* the last atd_eng_get_hold left its key missed in the cache */
    int kv_keyless; /* in a batch: 0 not known yet, 1 the kv held no key the engine looks up
                       when the batch began (a replay's fresh store: every miss of the cache
                       is then "absent" without asking the kv), -1 it held some */
};

/* A kv key of the engine, with its hash for the batch cache once made (the prefetch makes
 * the current event's keys and hashes ahead: they are handed over, not made again). */
typedef struct atd_ekey {
    const char *p; /* the key: buf, or the prefetch's copy (alive during the event) */
    size_t n;
    uint64_t hash;
    int has_hash;
    char buf[ATD_KEY_MAX];
} atd_ekey;

/* Sets k to the key of n bytes just written into k->buf (its hash not made yet). */
static inline void atd_ekey_set(atd_ekey *k, size_t n)
{
    k->p = k->buf;
    k->n = n;
    k->has_hash = 0;
}

/* Reads a key: 0 and *val (a stable copy: valid until the arena is reset, or with the
 * batch cache until the end of the current event), ATD_ENOTFOUND, or an error. The copy may be
 * modified by the caller (then written back with atd_eng_put). k's hash is made when needed
 * and kept in k. */
int atd_eng_get(atd_engine *e, atd_kv_txn *txn, atd_ekey *k, atd_arena *arena, uint8_t **val,
                size_t *vlen);
int atd_eng_put(atd_engine *e, atd_kv_txn *txn, atd_ekey *k, const void *val, size_t vlen,
                int64_t expire_at);
/* atd_eng_get for a key whose value is written right after when it does not exist (a new
 * touch list): then it returns ATD_ENOTFOUND and the caller's next call must be
 * atd_eng_put_held for k, with no other access in between; the cache adds the key with that
 * value at once instead of remembering "absent" first and replacing it. */
int atd_eng_get_hold(atd_engine *e, atd_kv_txn *txn, atd_ekey *k, atd_arena *arena,
                     uint8_t **val, size_t *vlen);
int atd_eng_put_held(atd_engine *e, atd_kv_txn *txn, atd_ekey *k, const void *val, size_t vlen,
                     int64_t expire_at);

/* The keys of the current event's device, advertising id and ip (src: the event's ip text
 * that ip was parsed from), and its parsed ip (0, or -1 when it has none): from the prefetch
 * when it made them (atd_engine_use_prefetch), else made here. */
void atd_eng_key_device(const atd_engine *e, atd_ekey *k, atd_str app, atd_str device_id);
void atd_eng_key_adid(const atd_engine *e, atd_ekey *k, atd_str app, atd_str adid);
void atd_eng_key_ip(const atd_engine *e, atd_ekey *k, atd_str app, const atd_ip *ip,
                    const char *ip_src);
int atd_eng_event_ip(const atd_engine *e, const atd_event *ev, atd_ip *ip);

/* Sets key's value to old (its value as the last atd_eng_get of this key gave it) followed
 * by rec: with the batch cache, in place. */
int atd_eng_append(atd_engine *e, atd_kv_txn *txn, atd_ekey *k, const uint8_t *old,
                   size_t oldn, const void *rec, size_t recn, int64_t expire_at);

/* A touch that an app event may credit. */
typedef struct atd_cand {
    atd_touch t;
    uint8_t prob;        /* 0: id-matched, 1: probabilistic */
    uint8_t group;       /* §5 group, 1..4 */
    const char *blocked; /* the §4 reason, or NULL */
} atd_cand;

/* One app event being processed. */
typedef struct atd_ctx {
    atd_engine *e;
    atd_kv_txn *txn;
    const atd_app_config *app;
    const atd_event *ev;
    atd_arena *arena;
    atd_str app_id_str; /* the event's app_id */
    int64_t t;
    atd_str adid;
    int has_ip;
    atd_ip ip;
    atd_fp fp; /* os == 0: none */
    /* E's touch lists (NULL/0 when absent or not loaded) */
    uint8_t *adid_list;
    size_t adid_len;
    atd_ekey adid_key;
    int adid_loaded;
    uint8_t *ip_list;
    size_t ip_len;
    atd_ekey ip_key;
    int ip_loaded;
    /* click_flood counts already made for this event */
    struct {
        atd_str adid, media_source;
        int64_t count;
    } flood[8];
    size_t n_flood;
} atd_ctx;

/* match.c */
int atd_match_load_adid(atd_ctx *c);
int atd_match_load_ip(atd_ctx *c);
int64_t atd_touch_window(const atd_app_config *app, const atd_touch *t, int prob);
/* The §4 blocking reason of touch t for the event of c, or NULL; ATD_E* codes never (a kv
 * error while counting clicks is reported through *err). */
const char *atd_match_blocked(atd_ctx *c, const atd_touch *t, int *err);
/* Candidates of §5 (blocking judged, won and retargeting touches left out), in arena. */
int atd_match_install_candidates(atd_ctx *c, atd_cand **out, size_t *n);
/* The retargeting candidate of §6 for a known device (session: with the inactivity rule).
 * Returns 1 and fills *best, 0 when there is none, or an error. */
int atd_match_retargeting(atd_ctx *c, const atd_device *d, int session, atd_cand *best);
/* Sets flag on touch (by seq) in the lists that hold it, and writes them back. */
int atd_match_flag_touch(atd_ctx *c, const atd_touch *t, uint8_t flag);

/* install.c: §5 over the candidates; fills the attribution, contributors and fraud of *out.
 * Returns the index of the winner or -1 (organic). */
int atd_install_choose(atd_ctx *c, atd_cand *cands, size_t n, atd_result *out);

void atd_touch_ref_from(atd_touch_ref *ref, const atd_touch *t, int prob);

#endif
