/* The raw events of ATTRIBUTION.md §1: parsing and validation at the edge (JSON/NDJSON →
 * atd_event), and the record format of the log (protobuf-c, proto/attribd/v1/events.proto).
 *
 * Every atd_str in an atd_event points either into the caller's input buffer or into the
 * arena passed to the parser/decoder; the event is valid as long as both are. (Today both
 * keep every string in the arena, NUL-terminated, the NUL not counted in n: the parser copies
 * a text of up to 4 KiB once and ends each kept string in that copy, so its events outlive
 * the input.) Absent fields
 * (missing, or JSON null) have p == NULL. Values are already normalized:
 *   - advertising_id: trimmed, lower-cased; absent when empty or made only of '0' and '-';
 *   - ip: canonical form (IPv4 dotted quad; IPv6 lower-case, compressed; ::ffff:a.b.c.d → a.b.c.d);
 *   - strings are JSON-unescaped (UTF-8).
 */
#ifndef ATTRIBD_EVENT_H
#define ATTRIBD_EVENT_H

#include "attribd/common.h"

struct atd_config;

typedef enum atd_event_type {
    ATD_EV_NONE = 0,
    ATD_EV_CLICK = 1,
    ATD_EV_IMPRESSION = 2,
    ATD_EV_INSTALL = 3,
    ATD_EV_SESSION = 4,
    ATD_EV_INAPP = 5,
} atd_event_type;

#define ATD_EV_IS_TOUCH(t) ((t) == ATD_EV_CLICK || (t) == ATD_EV_IMPRESSION)
#define ATD_EV_IS_APP(t) ((t) >= ATD_EV_INSTALL && (t) <= ATD_EV_INAPP)

typedef struct atd_event {
    atd_event_type type;
    int64_t ts; /* ms since the epoch, UTC; stamped by the server on ingest */
    atd_str app_id;

    /* common optional */
    atd_str ip;             /* canonical form */
    atd_str user_agent;
    atd_str advertising_id; /* normal form; absent for limited ad tracking */

    /* touch fields (click, impression) */
    atd_str media_source; /* required on touches */
    atd_str campaign, campaign_id, adset, adset_id, ad, ad_id, site_id, channel, click_id;
    int is_retargeting;                  /* 0 or 1; default 0 */
    atd_str click_lookback, view_lookback; /* raw override strings, judged by the engine */
    atd_str deep_link_value, cost_value, cost_currency;

    /* app fields (install, session, inapp) */
    atd_str device_id; /* required on app events */
    atd_str platform;  /* "android" | "ios" when present */
    atd_str os_version, device_model, app_version, customer_user_id, event_id;

    /* in-app fields */
    atd_str event_name; /* required on inapp */
    int has_revenue;
    double revenue; /* finite */
    atd_str currency;
    atd_str event_value; /* the JSON text of the object as given (compact or not), or absent */

    /* Set by atd_event_parse_json when ip is an IPv4 dotted quad: its 4 bytes (as atd_ip's
     * addr), so that the engine need not parse the text again. 0 elsewhere (decoded events,
     * events built by hand): then ip is the only truth. Whoever changes ip must clear it. */
    uint8_t ip4_set;
    uint8_t ip4[4];
} atd_event;

const char *atd_event_type_name(atd_event_type t); /* "click", ..., or NULL */
atd_event_type atd_event_type_parse(atd_str s);    /* ATD_EV_NONE when unknown */

/* Why an event was refused: the field it names and a message. http_status is 400, or 404
 * for an unknown app. */
typedef struct atd_event_error {
    int http_status;
    const char *field;   /* static string: "type", "ts", "app_id", "ip", ... or "body" */
    char message[160];
} atd_event_error;

/* Flags for atd_event_parse_json. */
enum {
    ATD_PARSE_REQUIRE_TS = 1, /* import/replay: `ts` must be in the object (§1 rules) */
    /* without it (HTTP ingest) any `ts` in the object is ignored and the caller stamps it */
};

/* Parses and validates one JSON object (one NDJSON line) as ATTRIBUTION.md §1 says.
 * json/len: the text (need not be NUL-terminated; only read, never modified).
 * cfg: for the app check (unknown app → 404); may be NULL to skip the app check.
 * arena: receives unescaped strings and normalized values.
 * Returns 0 and fills *ev, or ATD_EINVAL and fills *err. */
/* path_app: the app of the URL (HTTP ingest), or ATD_STR_NULL (import/replay). When given, it
 * is the event's app_id; an `app_id` in the object must then be absent, null or equal to it. */
int atd_event_parse_json(const char *json, size_t len, unsigned flags, atd_str path_app,
                         const struct atd_config *cfg, atd_arena *arena, atd_event *ev,
                         atd_event_error *err);

/* Most texts (one flat, compact object without escapes) take a faster path that gives the same
 * result; anything else, and every failure, goes through the general one. Tests call this to
 * compare the two: on = 0 sends every text through the general path, 1 (the default) restores
 * the fast one. Not thread-safe: call it before parsing starts. */
void atd_event_parse_use_flat(int on);
/* How many texts this thread's calls parsed through the fast path (for tests). */
unsigned long atd_event_parse_flat_count(void);

/* Record format: the protobuf-c encoding of attribd.v1.Event.
 * atd_event_encoded_size gives an upper bound for the buffer (cheap, not exact). */
size_t atd_event_encoded_size(const atd_event *ev);
size_t atd_event_encode(const atd_event *ev, uint8_t *buf); /* returns bytes written */
/* Decodes a record; strings are copied into arena. Returns 0 or ATD_ECORRUPT. */
int atd_event_decode(const uint8_t *buf, size_t len, atd_arena *arena, atd_event *ev);

/* The partition key of an event in the `events` topic: app_id + device key (device_id for app
 * events; advertising id, else ip, for touches). Writes into buf (cap bytes), returns length. */
size_t atd_event_key(const atd_event *ev, char *buf, size_t cap);

#endif
