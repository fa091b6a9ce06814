/* The attribution engine: the rules of ATTRIBUTION.md, pure logic over one event at a time and
 * the kv (no I/O of its own, no wall clock), so that `attribd replay` and the results service of
 * `attribd serve` run the very same code. Implemented in src/attribution/. */
#ifndef ATTRIBD_ENGINE_H
#define ATTRIBD_ENGINE_H

#include "attribd/common.h"
#include "attribd/config.h"
#include "attribd/event.h"
#include "attribd/ip.h"
#include "attribd/json.h"
#include "attribd/kv.h"

typedef enum atd_result_type {
    ATD_RES_NONE = 0,
    ATD_RES_INSTALL = 1,
    ATD_RES_REINSTALL = 2,
    ATD_RES_REATTRIBUTION = 3,
    ATD_RES_SESSION = 4,
    ATD_RES_REENGAGEMENT = 5,
    ATD_RES_INAPP = 6,
} atd_result_type;

typedef enum atd_attr_status {
    ATD_ATTR_NONE = 0,
    ATD_ATTR_NON_ORGANIC = 1,
    ATD_ATTR_ORGANIC = 2,
    ATD_ATTR_UNKNOWN = 3,
} atd_attr_status;

/* A touch as a result names it (§7). Absent fields have p == NULL. */
typedef struct atd_touch_ref {
    atd_str media_source, campaign, campaign_id, adset, ad, site_id, channel, click_id;
    atd_str deep_link_value; /* not in §7's JSON; kept for the SDK conversion data */
    atd_event_type touch_type; /* ATD_EV_CLICK or ATD_EV_IMPRESSION */
    int64_t touch_ts;
    int probabilistic; /* match_type: 0 "id", 1 "probabilistic" */
} atd_touch_ref;

#define ATD_MAX_CONTRIBUTORS 3

/* One result per app event (§7). Strings point into the event or the arena given to the
 * engine; valid as long as both are. */
typedef struct atd_result {
    atd_result_type type;
    atd_str app_id, device_id;
    int64_t ts;
    int has_install_ts;
    int64_t install_ts;
    atd_attr_status status;
    atd_touch_ref attribution; /* when status == NON_ORGANIC */
    int has_retargeting;
    atd_touch_ref retargeting;
    size_t n_contributors;
    atd_touch_ref contributors[ATD_MAX_CONTRIBUTORS];
    const char *fraud_reason; /* NULL: no fraud record; else "ip_blocked", ... */
    atd_str fraud_media_source;
    int64_t fraud_touch_ts;
    /* inapp only */
    atd_str event_name;
    int has_revenue;
    double revenue;
    atd_str currency; /* upper-cased, "USD" when absent/empty */
    atd_str event_id;
    /* where the event came from */
    int source_partition;
    uint64_t source_offset;
} atd_result;

typedef struct atd_engine atd_engine;

/* Creates an engine over a kv (not owned). Counters for metrics live in the engine. */
atd_engine *atd_engine_new(atd_kv *kv);
void atd_engine_free(atd_engine *e);

/* Processes one valid event (already validated by atd_event_parse_json/decoded from the log) in
 * the caller's write transaction. seq is the event's position in the log order (strictly
 * increasing over the events the engine sees; ties "later in the log" are decided by it).
 * For app events fills *out and returns 1; for touches stores them and returns 0; negative on
 * error (the transaction must then be aborted). Allocations for *out go to arena. */
int atd_engine_process(atd_engine *e, atd_kv_txn *txn, const atd_app_config *app,
                       const atd_event *ev, uint64_t seq, atd_result *out, atd_arena *arena);

/* Counters for metrics (monotonic since atd_engine_new). */
typedef struct atd_engine_counters {
    uint64_t touches;           /* touches processed */
    uint64_t touches_unusable;  /* touches no rule can use: no advertising id, nor ip + UA
                                   fingerprint (retargeting: no advertising id) */
    uint64_t overrides_ignored; /* a touch's click_lookback/view_lookback not valid (§2) */
    uint64_t installs, organic_installs, reinstalls, reattributions;
    uint64_t sessions, reengagements, inapps, unknown_device;
    uint64_t blocked[4];        /* candidates blocked: ip, site, ctit, click_flood */
    uint64_t fraud_records;
    uint64_t kv_gets, kv_puts; /* operations that reached the kv (the batch cache absorbs
                                  the others) */
} atd_engine_counters;

const atd_engine_counters *atd_engine_stats(const atd_engine *e);

/* kv expiry of touch lists (default on): lists are put with an expire_at of event time, so
 * that atd_kv_expire reclaims lists nobody touches any more. A scratch store (replay) turns it
 * off and saves the kv's expiry index writes. */
void atd_engine_set_kv_expiry(atd_engine *e, int on);

/* Batching (optional; for throughput). Between atd_engine_batch_begin and
 * atd_engine_batch_flush the engine keeps what it reads and writes in memory and writes the
 * changed keys to the kv only at the flush, in key order: many events then cost one kv write
 * per key. All events of a batch must go through the same write transaction, and the flush
 * must come before that transaction commits (a caller's own keys may be put before or after
 * it). On abort call atd_engine_batch_discard. Strings of a result made during a batch stay
 * valid until the next atd_engine_process call, the flush or the discard (or the arena reset,
 * whichever is first): use the result before the next event. */
void atd_engine_batch_begin(atd_engine *e);
int atd_engine_batch_flush(atd_engine *e, atd_kv_txn *txn);
void atd_engine_batch_discard(atd_engine *e);
/* Memory the current batch holds (cached keys and values, the cache's table), in bytes: a
 * caller with big batches (replay) ends the batch when this passes its budget. */
size_t atd_engine_batch_bytes(const atd_engine *e);

/* A changed key of a batch. */
typedef struct atd_engine_kv_item {
    const char *key;
    size_t klen;
    const uint8_t *val;
    size_t vlen;
    int64_t expire_at;
} atd_engine_kv_item;
/* Ends a batch without writing it: fn gets every changed key in key order (memcmp, shorter
 * first) as one array, valid during the call, to write where it wants (replay merges them with
 * the old store into a new one). Returns fn's result; the batch is cleared either way. */
int atd_engine_batch_flush_sorted(atd_engine *e,
                                  int (*fn)(void *ctx, const atd_engine_kv_item *items, size_t n),
                                  void *ctx);
/* Puts items (sorted, as atd_engine_batch_flush_sorted hands them) into txn, in order. */
int atd_engine_put_sorted(atd_kv_txn *txn, const atd_engine_kv_item *items, size_t n);
/* The kv the engine was made with was replaced (closed and opened again). */
void atd_engine_set_kv(atd_engine *e, atd_kv *kv);

/* Prefetching (optional; for throughput, never changes a result). A caller that knows the
 * next events (replay parses ahead) hides the memory latency of the batch cache's random
 * lookups: atd_engine_prefetch_slots for an event some 16 events ahead (fills *pf with the
 * hashes of the keys the event will look up and starts loading their hash-table slots), then
 * atd_engine_prefetch_values with the same *pf some 8 events ahead (starts loading the keys
 * and values those slots point to). Both are no-ops outside a batch. */
#define ATD_ENGINE_KEY_MAX 512
typedef struct atd_prefetch {
    uint64_t hash[3];
    int n;
    /* what the hashes were made of, for atd_engine_use_prefetch: each key, its length, and
     * the event field it was made of (its pointer; the event must not change) */
    const char *src[3];
    uint16_t klen[3];
    char key[3][ATD_ENGINE_KEY_MAX];
    const char *ip_src; /* the event's ip text when it parsed into ip, else NULL */
    atd_ip ip;
} atd_prefetch;
void atd_engine_prefetch_slots(atd_engine *e, const atd_event *ev, atd_prefetch *pf);
void atd_engine_prefetch_values(atd_engine *e, const atd_prefetch *pf);
/* Lets the next atd_engine_process, which must be for the same event (the same atd_event
 * object) as pf, reuse pf's keys, hashes and parsed ip instead of making them again. pf must
 * stay unchanged until that call returns. Never changes a result. */
void atd_engine_use_prefetch(atd_engine *e, const atd_prefetch *pf);

/* The current state of a device for the SDK conversion data (issue: GET /v1/conversion):
 * fills *out with event_type ATD_RES_INSTALL, install_ts and the acquisition attribution.
 * Returns 0, or ATD_ENOTFOUND for an unknown device. */
int atd_engine_device(atd_engine *e, atd_kv_txn *txn, atd_str app_id, atd_str device_id,
                      atd_result *out, atd_arena *arena);

/* The result as one line of §7 JSON (no trailing newline), appended to b. */
void atd_result_to_json(const atd_result *r, atd_buf *b);
/* The result as attribd.v1.Result protobuf (topic "results"). */
void atd_result_encode(const atd_result *r, atd_buf *b);
int atd_result_decode(const uint8_t *buf, size_t len, atd_arena *arena, atd_result *out);

#endif
