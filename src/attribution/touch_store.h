/* The touch store: every touch that a later app event may still use, kept in the kv as lists
 * (one kv value each) under two indexes:
 *   - by (app, advertising id): every touch with an advertising id, retargeting or not (id
 *     matching, retargeting candidates and the click_flood count of §4.4), in full;
 *   - by (app, ip): non-retargeting touches with an ip and a fingerprint (probabilistic
 *     matching of §3; retargeting touches are only ever id-matched). A touch without an
 *     advertising id is stored here in full; one with an advertising id only as a reference
 *     (flag ATD_TF_REF: ts, seq, type and the advertising id), resolved through its advertising
 *     id's list when an install without an advertising id needs it. So every touch is stored
 *     in full once, its flags (won, used) live in that one copy, and the ip list of a device
 *     with an advertising id costs a few bytes per touch.
 * A list keeps its records in log order.
 *
 * Record (after a varint byte length): varint ts, varint seq, byte type, byte flags,
 * strv media_source, varint lookback override (ms, 0: none), byte os [strv version, strv model],
 * byte ip family (0, 4, 6) [4 or 16 bytes], strv adid (absent in the adid list: its key has
 * it), strv campaign, campaign_id, adset, ad,
 * site_id, channel, click_id, deep_link_value. (strv: varint len+1, 0 = absent.)
 * A reference written since session 5 is short (flags ATD_TF_REF | ATD_TF_SHORT): after the
 * flags byte only the advertising id, as a byte 16 and the 16 bytes of a lower-case UUID (the
 * normal form of GAID/IDFA), or a byte 0 and strv of its text: ~30 bytes instead of ~63 (most
 * touches have one; ~2.8 per device in the benchmark's stream). Older stores' long
 * references (the record layout above, every field absent but the adid) still read. */
#ifndef ATTRIBD_ATTRIBUTION_TOUCH_STORE_H
#define ATTRIBD_ATTRIBUTION_TOUCH_STORE_H

#include "attribd/common.h"
#include "attribd/ip.h"
#include "attribd/json.h"
#include "attribution/fingerprint.h"

enum {
    ATD_TF_RETARGETING = 1, /* is_retargeting: true */
    ATD_TF_WON = 2,         /* won an install: never wins nor contributes again (§4) */
    ATD_TF_USED = 4,        /* used by a re-engagement or re-attribution (§6) */
    ATD_TF_REF = 8,         /* an ip list's reference to the full record in the adid list */
    ATD_TF_SHORT = 16,      /* a reference in the short layout (above) */
};

/* Touches older than this, relative to the list's age reference (below), are dropped when the
 * list is rewritten: no rule reaches back more than 30 days (the longest click lookback), and
 * 30 more days of slack keep touches for events whose ts lags behind (ts need not be monotonic
 * in the log). */
#define ATD_TOUCH_KEEP_MS (60LL * 86400 * 1000)
/* The age reference of a list is its ATD_TOUCH_AGE_RANK-th newest ts, so that a few touches
 * with far-future ts (fewer than this many) never make the others look old. */
#define ATD_TOUCH_AGE_RANK 16
/* ...but only in a list of more than this many records: a short list is kept whole, so the
 * rules stay exact for any order of ts in the log (a far-future ts, or a touch logged months
 * early, must not make the engine forget the others, §4 and §8); age only bounds busy lists. */
#define ATD_TOUCH_PRUNE_MIN 64
_Static_assert(ATD_TOUCH_AGE_RANK < ATD_TOUCH_PRUNE_MIN, "a list pruned by age has more records");
/* At most this many records per list (the earliest in the log go first): bounds the work per
 * event for a very busy ip or advertising id (a carrier NAT) while staying far above what one
 * real id gathers within the 60 days kept (and above any click_cap + 1, so click_flood stays
 * exact), so the rules stay exact for every realistic stream. */
#define ATD_TOUCH_LIST_MAX 10000

/* The kv expiry of a list whose newest touch is at max_ts: the keep period after it, rounded up
 * to a whole day so that most rewrites of a list keep the same expiry (the kv then leaves its
 * expiry index alone). */
static inline int64_t atd_touch_list_expiry(int64_t max_ts)
{
    int64_t day = 86400LL * 1000, at = max_ts + ATD_TOUCH_KEEP_MS;
    return (at / day + 1) * day;
}

typedef struct atd_touch {
    int64_t ts;
    uint64_t seq;
    uint8_t type;  /* ATD_EV_CLICK or ATD_EV_IMPRESSION */
    uint8_t flags; /* ATD_TF_* */
    atd_str media_source;
    int64_t lookback_ms; /* the touch's valid override for its type; 0: the app's applies */
    atd_fp fp;
    int has_ip;
    atd_ip ip;
    atd_str adid;
    int adid_uuid; /* decoded from a short reference: adid holds the UUID's 16 bytes */
    atd_str campaign, campaign_id, adset, ad, site_id, channel, click_id, deep_link_value;
} atd_touch;

/* Appends the record of t (with its length prefix) to b. */
void atd_touch_encode(const atd_touch *t, atd_buf *b);
/* Appends a short reference (ATD_TF_REF | ATD_TF_SHORT) to the touch (ts, seq, type) stored in
 * full in the list of the advertising id adid. uuid: adid's 16 bytes when the caller has them
 * (atd_key_uuid of its list's key), or NULL (the text is looked at). */
void atd_touch_encode_ref(int64_t ts, uint64_t seq, uint8_t type, atd_str adid,
                          const uint8_t *uuid, atd_buf *b);
/* The text of a short reference's UUID (36 bytes, lower case) into out. */
void atd_touch_uuid_text(const uint8_t raw[16], char out[36]);
/* 0 and the 16 bytes of text in raw when it is a lower-case UUID (8-4-4-4-12 hex digits), else
 * -1 (raw may then hold anything). */
int atd_touch_uuid_parse(atd_str text, uint8_t raw[16]);
/* Tests: on 0 the portable word-at-a-time decoder is used instead of the SIMD one (on 1: the
 * SIMD one again where the CPU has it). */
void atd_touch_uuid_simd(int on);

/* A cursor over a list value. */
typedef struct atd_touch_iter {
    const uint8_t *p, *end;
    /* the current record */
    const uint8_t *rec, *rec_end; /* its bytes, length prefix excluded */
    const uint8_t *flags_at;      /* where its flags byte is */
    int64_t ts;
    uint64_t seq;
    uint8_t type, flags;
    atd_str media_source;
} atd_touch_iter;

static inline void atd_touch_iter_init(atd_touch_iter *it, const void *p, size_t n)
{
    it->p = p;
    it->end = (const uint8_t *)p + n;
}
/* Moves to the next record and decodes its head (ts .. media_source). Returns 1, 0 at the end,
 * or ATD_ECORRUPT. */
int atd_touch_iter_next(atd_touch_iter *it);
/* Decodes the whole current record; strings point into the list's bytes. */
int atd_touch_iter_decode(const atd_touch_iter *it, atd_touch *out);

/* Whether appending rec to old keeps the list whole (no record pruned): then 1 and *max_ts as
 * atd_touch_list_rebuild would give, and the new value is old's bytes followed by rec's;
 * 0 when a rebuild is needed; ATD_ECORRUPT. */
int atd_touch_list_appends(const void *old, size_t oldn, const void *rec, size_t recn,
                           int64_t now, int64_t *max_ts);
/* Builds the new value of a list: the records of old (may be empty) that are still kept,
 * then rec (one encoded record with its length prefix, may be empty), into out. now is the ts
 * of the event writing the list. *max_ts gets the newest ts kept (for the kv expiry). */
int atd_touch_list_rebuild(const void *old, size_t oldn, const void *rec, size_t recn,
                           int64_t now, atd_buf *out, int64_t *max_ts);

/* Finds the record with seq in a list: 1 (it is at that record), 0 when absent,
 * ATD_ECORRUPT. */
int atd_touch_list_find(const void *list, size_t n, uint64_t seq, atd_touch_iter *it);

/* Sets flag on the record with seq in a (mutable) list value. Returns 1 when found, 0 when
 * not, ATD_ECORRUPT. */
int atd_touch_list_set_flag(void *list, size_t n, uint64_t seq, uint8_t flag);

/* kv keys: a kind byte, the id (length-prefixed) and the app (a UUID advertising id as its 16
 * bytes, kind 'U'); keys that would pass
 * ATD_KEY_LONG bytes (LMDB keys are limited to 511) are a kind byte and the SHA-256 of app and
 * id instead. buf needs ATD_KEY_MAX bytes; they return the length. */
#define ATD_KEY_KINDS "ADIUadiu" /* the first bytes of every such key */
#define ATD_KEY_LONG 400
#define ATD_KEY_MAX 512
size_t atd_key_touch_adid(char *buf, atd_str app, atd_str adid);
/* The same key, for an advertising id given as a UUID's 16 bytes. */
size_t atd_key_touch_uuid(char *buf, atd_str app, const uint8_t raw[16]);
/* The UUID's 16 bytes inside a key of atd_key_touch_adid when it holds one, else NULL. */
const uint8_t *atd_key_uuid(const char *key, size_t klen);
size_t atd_key_touch_ip(char *buf, atd_str app, const atd_ip *ip);
size_t atd_key_device(char *buf, atd_str app, atd_str device_id);

#endif
