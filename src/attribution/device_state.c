/* Device records: varint version (1), varint install_ts, byte status, [touch acq], byte
 * has_window, [varint start, touch window], varint act_gap, varint n, n × (varint first,
 * varint last - first). A touch: byte type | prob << 4, varint touch_ts, 9 strv. */
#include "attribution/device_state.h"

#include "attribution/codec.h"

static void put_ref(atd_buf *b, const atd_touch_ref *t)
{
    atd_put_byte(b, (uint8_t)(t->touch_type | (t->probabilistic ? 0x10 : 0)));
    atd_put_varint(b, (uint64_t)t->touch_ts);
    atd_put_strv(b, t->media_source);
    atd_put_strv(b, t->campaign);
    atd_put_strv(b, t->campaign_id);
    atd_put_strv(b, t->adset);
    atd_put_strv(b, t->ad);
    atd_put_strv(b, t->site_id);
    atd_put_strv(b, t->channel);
    atd_put_strv(b, t->click_id);
    atd_put_strv(b, t->deep_link_value);
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

void atd_device_encode(const atd_device *d, atd_buf *b)
{
    atd_put_varint(b, 1);
    atd_put_varint(b, (uint64_t)d->install_ts);
    atd_put_byte(b, (uint8_t)d->status);
    if (d->status == ATD_ATTR_NON_ORGANIC) put_ref(b, &d->acq);
    atd_put_byte(b, (uint8_t)(d->has_window != 0));
    if (d->has_window) {
        atd_put_varint(b, (uint64_t)d->window_start);
        put_ref(b, &d->window);
    }
    atd_put_varint(b, (uint64_t)d->act_gap);
    atd_put_varint(b, d->n_act);
    for (size_t i = 0; i < d->n_act; i++) {
        atd_put_varint(b, (uint64_t)d->act_first[i]);
        atd_put_varint(b, (uint64_t)(d->act_last[i] - d->act_first[i]));
    }
}

int atd_device_decode(const void *buf, size_t n, atd_device *d)
{
    atd_rd r = atd_rd_init(buf, n);
    memset(d, 0, sizeof *d);
    if (atd_get_varint(&r) != 1) return ATD_ECORRUPT;
    d->install_ts = (int64_t)atd_get_varint(&r);
    d->status = (atd_attr_status)atd_get_byte(&r);
    if (d->status == ATD_ATTR_NON_ORGANIC) get_ref(&r, &d->acq);
    else if (d->status != ATD_ATTR_ORGANIC) return ATD_ECORRUPT;
    d->has_window = atd_get_byte(&r);
    if (d->has_window) {
        d->window_start = (int64_t)atd_get_varint(&r);
        get_ref(&r, &d->window);
    }
    d->act_gap = (int64_t)atd_get_varint(&r);
    uint64_t na = atd_get_varint(&r);
    if (na > ATD_ACT_MAX) return ATD_ECORRUPT;
    d->n_act = (size_t)na;
    for (size_t i = 0; i < d->n_act; i++) {
        d->act_first[i] = (int64_t)atd_get_varint(&r);
        d->act_last[i] = d->act_first[i] + (int64_t)atd_get_varint(&r);
    }
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
    /* insert [ts, ts] in order of first, then merge neighbours closer than p */
    size_t n = d->n_act, i = 0;
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
}

int atd_device_active_before(const atd_device *d, int64_t tt, int64_t p)
{
    if (p <= 0 || d->act_gap != p) return 0;
    for (size_t i = 0; i < d->n_act; i++)
        if (d->act_first[i] < tt && tt <= d->act_last[i] + p) return 1;
    return 0;
}
