/* Device records: varint version (1), varint install_ts, byte status, [touch acq], byte
 * has_window, [varint start, touch window], varint act_gap, varint n, n × (varint first,
 * varint last - first). A touch: byte type | prob << 4, varint touch_ts, 9 strv. */
#include "attribution/device_state.h"

#include "attribution/codec.h"

/* room a touch needs at most */
static size_t ref_bound(const atd_touch_ref *t)
{
    return 1 + 10 + 9 * 10 + t->media_source.n + t->campaign.n + t->campaign_id.n +
           t->adset.n + t->ad.n + t->site_id.n + t->channel.n + t->click_id.n +
           t->deep_link_value.n;
}

static uint8_t *put_ref(uint8_t *w, const atd_touch_ref *t)
{
    *w++ = (uint8_t)(t->touch_type | (t->probabilistic ? 0x10 : 0));
    w = atd_w_varint(w, (uint64_t)t->touch_ts);
    w = atd_w_strv(w, t->media_source);
    w = atd_w_strv(w, t->campaign);
    w = atd_w_strv(w, t->campaign_id);
    w = atd_w_strv(w, t->adset);
    w = atd_w_strv(w, t->ad);
    w = atd_w_strv(w, t->site_id);
    w = atd_w_strv(w, t->channel);
    w = atd_w_strv(w, t->click_id);
    w = atd_w_strv(w, t->deep_link_value);
    return w;
}

static void get_ref(atd_rd *r, atd_touch_ref *t)
{
    uint8_t k = atd_get_byte(r);
    t->touch_type = (atd_event_type)(k & 0x0f);
    t->probabilistic = (k & 0x10) != 0;
    t->touch_ts = (int64_t)atd_get_varint(r);
    t->media_source = atd_get_strv(r);
    t->campaign = atd_get_strv(r);
    t->campaign_id = atd_get_strv(r);
    t->adset = atd_get_strv(r);
    t->ad = atd_get_strv(r);
    t->site_id = atd_get_strv(r);
    t->channel = atd_get_strv(r);
    t->click_id = atd_get_strv(r);
    t->deep_link_value = atd_get_strv(r);
}

/* One reserve for a bound, then raw writes (a session re-encodes its device every time). */
void atd_device_encode(const atd_device *d, atd_buf *b)
{
    int acq = d->status == ATD_ATTR_NON_ORGANIC;
    size_t bound = 4 * 10 + 2 + (acq ? ref_bound(&d->acq) : 0) +
                   (d->has_window ? 10 + ref_bound(&d->window) : 0) + d->n_act * 20;
    atd_buf_reserve(b, bound);
    uint8_t *w = (uint8_t *)b->p + b->n;
    *w++ = 1; /* the version, a one-byte varint */
    w = atd_w_varint(w, (uint64_t)d->install_ts);
    *w++ = (uint8_t)d->status;
    if (acq) w = put_ref(w, &d->acq);
    *w++ = (uint8_t)(d->has_window != 0);
    if (d->has_window) {
        w = atd_w_varint(w, (uint64_t)d->window_start);
        w = put_ref(w, &d->window);
    }
    w = atd_w_varint(w, (uint64_t)d->act_gap);
    w = atd_w_varint(w, d->n_act);
    for (size_t i = 0; i < d->n_act; i++) {
        w = atd_w_varint(w, (uint64_t)d->act_first[i]);
        w = atd_w_varint(w, (uint64_t)(d->act_last[i] - d->act_first[i]));
    }
    b->n = (size_t)((char *)w - b->p);
    b->p[b->n] = 0; /* NUL-terminated like every atd_buf */
}

#define MERGED_MAX ((uint64_t)1 << 62)

int atd_device_decode(const void *buf, size_t n, atd_device *d)
{
    atd_rd r = atd_rd_init(buf, n);
    /* field by field, not one memset of the whole struct: the activity arrays (1 KiB) are
     * read only up to n_act */
    if (atd_get_varint(&r) != 1) return ATD_ECORRUPT;
    d->install_ts = (int64_t)atd_get_varint(&r);
    d->status = (atd_attr_status)atd_get_byte(&r);
    if (d->status == ATD_ATTR_NON_ORGANIC) get_ref(&r, &d->acq);
    else if (d->status != ATD_ATTR_ORGANIC) return ATD_ECORRUPT;
    else memset(&d->acq, 0, sizeof d->acq);
    d->has_window = atd_get_byte(&r);
    if (d->has_window) {
        d->window_start = (int64_t)atd_get_varint(&r);
        get_ref(&r, &d->window);
    } else {
        d->window_start = 0;
        memset(&d->window, 0, sizeof d->window);
    }
    d->act_gap = (int64_t)atd_get_varint(&r);
    uint64_t na = atd_get_varint(&r);
    if (na > ATD_ACT_MAX) return ATD_ECORRUPT;
    d->n_act = (size_t)na;
    int merged = 1;
    for (size_t i = 0; i < d->n_act; i++) {
        d->act_first[i] = (int64_t)atd_get_varint(&r);
        d->act_last[i] = d->act_first[i] + (int64_t)atd_get_varint(&r);
        /* merged as the merge leaves them; numbers in [0, 2^62), so that no difference of
         * the shortcut can overflow (ts of valid events are below 2^53) */
        if ((uint64_t)d->act_first[i] >= MERGED_MAX || (uint64_t)d->act_last[i] >= MERGED_MAX ||
            d->act_last[i] < d->act_first[i] ||
            (i && d->act_first[i] - d->act_last[i - 1] <= d->act_gap))
            merged = 0;
    }
    d->act_merged = merged && d->act_gap > 0 && (uint64_t)d->act_gap < MERGED_MAX;
    return r.bad || r.p != r.end ? ATD_ECORRUPT : 0;
}

void atd_device_activity_add(atd_device *d, int64_t ts, int64_t p)
{
    if (p <= 0) return;
    if (d->act_gap != p) {
        /* the period changed (config reload): clusters merged with another gap would answer
         * wrongly, so history starts again from here */
        d->n_act = 0;
        d->act_gap = p;
    }
    size_t n = d->n_act, i = 0;
    /* the usual case (a session after the device's last activity): only the last cluster
     * changes, or a new one follows it; exactly what the merge below would do, since the
     * other clusters are merged already */
    if (d->act_merged && ts >= 0 && (uint64_t)ts < MERGED_MAX &&
        (n == 0 || ts >= d->act_first[n - 1])) {
        if (n && ts <= d->act_last[n - 1]) return;
        if (n && ts - d->act_last[n - 1] <= p) {
            d->act_last[n - 1] = ts;
            return;
        }
        if (n < ATD_ACT_MAX) {
            d->act_first[n] = d->act_last[n] = ts;
            d->n_act = n + 1;
            return;
        }
    }
    /* insert [ts, ts] in order of first, then merge neighbours closer than p */
    int64_t f[ATD_ACT_MAX + 1], l[ATD_ACT_MAX + 1];
    size_t k = 0;
    int placed = 0;
    for (i = 0; i < n || !placed; k++) {
        if (!placed && (i >= n || ts < d->act_first[i])) {
            f[k] = l[k] = ts;
            placed = 1;
        } else {
            f[k] = d->act_first[i];
            l[k] = d->act_last[i];
            i++;
        }
    }
    size_t m = 0;
    for (size_t j = 0; j < k; j++) {
        if (m && f[j] - l[m - 1] <= p) {
            if (l[j] > l[m - 1]) l[m - 1] = l[j];
        } else {
            f[m] = f[j];
            l[m] = l[j];
            m++;
        }
    }
    /* over the bound: drop the cluster that ended first */
    while (m > ATD_ACT_MAX) {
        size_t old = 0;
        for (size_t j = 1; j < m; j++)
            if (l[j] < l[old]) old = j;
        memmove(f + old, f + old + 1, (m - old - 1) * sizeof f[0]);
        memmove(l + old, l + old + 1, (m - old - 1) * sizeof l[0]);
        m--;
    }
    memcpy(d->act_first, f, m * sizeof f[0]);
    memcpy(d->act_last, l, m * sizeof l[0]);
    d->n_act = m;
    d->act_merged = 0; /* merged, but its numbers unchecked: the next decode judges */
}

int atd_device_active_before(const atd_device *d, int64_t tt, int64_t p)
{
    if (p <= 0 || d->act_gap != p) return 0;
    for (size_t i = 0; i < d->n_act; i++)
        if (d->act_first[i] < tt && tt <= d->act_last[i] + p) return 1;
    return 0;
}
