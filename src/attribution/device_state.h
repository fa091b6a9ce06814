/* Device state per (app, device_id) (§6): install_ts, the acquisition attribution, the open
 * re-engagement window and the device's activity, as one compact kv value.
 *
 * Activity (for inactivity_period, §6) is kept as clusters [first, last] of activity ts whose
 * gaps are at most the app's inactivity_period P: a touch at tt "sees activity in
 * [tt - P, tt)" exactly when some cluster has first < tt <= last + P. At most ATD_ACT_MAX
 * clusters are kept (the one that ended first goes first): a device active in bursts further
 * apart than P gets one cluster per burst, and 64 covers two months of daily bursts; with P == 0 (off) none is recorded. */
#ifndef ATTRIBD_ATTRIBUTION_DEVICE_STATE_H
#define ATTRIBD_ATTRIBUTION_DEVICE_STATE_H

#include "attribd/engine.h"

#define ATD_ACT_MAX 64

typedef struct atd_device {
    int64_t install_ts;
    atd_attr_status status; /* ATD_ATTR_NON_ORGANIC or ATD_ATTR_ORGANIC */
    atd_touch_ref acq;      /* when non-organic */
    int has_window;
    int64_t window_start;
    atd_touch_ref window; /* the re-engagement window's touch */
    int64_t act_gap;      /* the P the clusters were merged with */
    size_t n_act;
    int64_t act_first[ATD_ACT_MAX], act_last[ATD_ACT_MAX];
    int act_merged; /* set by atd_device_decode: 1 when the clusters are as
                       atd_device_activity_add leaves them (ordered, gaps > act_gap, numbers
                       in [0, 2^62)); an activity from the first of the last cluster on then
                       only touches the last one */
} atd_device;

void atd_device_encode(const atd_device *d, atd_buf *b);
/* Strings of *d point into buf. Returns 0 or ATD_ECORRUPT. */
int atd_device_decode(const void *buf, size_t n, atd_device *d);

/* Records an activity at ts (merge gap p; nothing when p <= 0). */
void atd_device_activity_add(atd_device *d, int64_t ts, int64_t p);
/* 1 when the device had activity in [tt - p, tt). */
int atd_device_active_before(const atd_device *d, int64_t tt, int64_t p);

#endif
