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

static inline int atd_fp_eq(const atd_fp *a, const atd_fp *b)
{
    return a->os != ATD_OS_NONE && a->os == b->os && a->version.n == b->version.n &&
           memcmp(a->version.p, b->version.p, a->version.n) == 0 && a->model.n == b->model.n &&
           memcmp(a->model.p, b->model.p, a->model.n) == 0;
}

#endif
