/* Device fingerprints of ATTRIBUTION.md §3: (os, version, model) from a user agent or from an
 * app event's platform / os_version / device_model fields. Private to src/attribution/. */
#ifndef ATTRIBD_ATTRIBUTION_FINGERPRINT_H
#define ATTRIBD_ATTRIBUTION_FINGERPRINT_H

#include "attribd/common.h"
#include "attribd/event.h"

enum { ATD_OS_NONE = 0, ATD_OS_ANDROID = 1, ATD_OS_IOS = 2 };

/* A fingerprint. os == ATD_OS_NONE means "no fingerprint". version is "major.minor" in decimal
 * without leading zeros ("09.01" → "9.1"); model is trimmed and lower-cased. Both point into
 * the arena given to the function that made it. */
typedef struct atd_fp {
    uint8_t os;
    atd_str version;
    atd_str model;
} atd_fp;

/* From a user agent (§3, Android rule first, then iOS). Returns 1 and fills *out, or 0 (no
 * fingerprint; out->os = ATD_OS_NONE). Strings of *out live in arena. */
int atd_fp_from_ua(atd_str ua, atd_arena *arena, atd_fp *out);

/* From an app event's fields: platform ("android"|"ios"), os_version and device_model.
 * Returns 1 or 0 like atd_fp_from_ua. */
int atd_fp_from_fields(atd_str platform, atd_str os_version, atd_str device_model,
                       atd_arena *arena, atd_fp *out);

/* The fingerprint of an event: from its fields when it is an app event with both platform and
 * os_version, else from its user agent. */
int atd_fp_of_event(const atd_event *ev, atd_arena *arena, atd_fp *out);

/* A memo of recent user agents' fingerprints: user agents repeat (a few browser builds per
 * device model), and the rules above cost hundreds of instructions per user agent, a lookup
 * here (hash and compare) a fraction of it. Two-way set-associative (two user agents that
 * meet in one set do not evict each other); an entry is exactly the bytes of a user agent and
 * what atd_fp_from_ua made of them, so it never changes a fingerprint. */
#define ATD_FP_MEMO_SETS 64 /* a power of two */
#define ATD_FP_MEMO_UA 240  /* longer user agents are not memoized */
typedef struct atd_fp_memo_ent {
    uint64_t hash;
    uint16_t ua_n; /* 0: empty */
    uint8_t os, vn, mn;
    char version[24], model[48];
    char ua[ATD_FP_MEMO_UA];
} atd_fp_memo_ent;
typedef struct atd_fp_memo {
    atd_fp_memo_ent ent[ATD_FP_MEMO_SETS][2];
    uint8_t recent[ATD_FP_MEMO_SETS]; /* the way used last in each set */
} atd_fp_memo;

/* atd_fp_from_ua through the memo m (zero-initialized by the caller). Strings of *out live in
 * the memo until the next call with it, or in arena. */
int atd_fp_from_ua_memo(atd_fp_memo *m, atd_str ua, atd_arena *arena, atd_fp *out);
/* atd_fp_of_event, its user agent through the memo. */
int atd_fp_of_event_memo(atd_fp_memo *m, const atd_event *ev, atd_arena *arena, atd_fp *out);

static inline int atd_fp_eq(const atd_fp *a, const atd_fp *b)
{
    return a->os != ATD_OS_NONE && a->os == b->os && a->version.n == b->version.n &&
           memcmp(a->version.p, b->version.p, a->version.n) == 0 && a->model.n == b->model.n &&
           memcmp(a->model.p, b->model.p, a->model.n) == 0;
}

#endif
