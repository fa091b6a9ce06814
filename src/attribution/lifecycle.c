/* atd_engine_process: touches are stored (§3, §4); app events go through the device
 * lifecycle of §6 (first install, new install, reinstall, re-attribution, session,
 * re-engagement, in-app) and become one result each (§7). */
#include <stddef.h>

#include "attribd/duration.h"
#include "attribution/batch_cache.h"
#include "attribution/engine_internal.h"

/* --- touches ----------------------------------------------------------------------------- */

/* The touch's own lookback for its type when it is a duration of the setting's range (§2). */
static int64_t touch_override(atd_engine *e, const atd_event *ev)
{
    int click = ev->type == ATD_EV_CLICK;
    atd_str s = click ? ev->click_lookback : ev->view_lookback;
    if (!s.p) return 0;
    int64_t ms, max = click ? 30 * ATD_DAY_MS : 24 * ATD_HOUR_MS;
    if (atd_duration_parse(s.p, s.n, &ms) == 0 && ms >= ATD_HOUR_MS && ms <= max) return ms;
    e->n.overrides_ignored++;
    return 0;
}

/* Appends e->rbuf (one record, of a touch at now) to the list at key. */
static int append_touch(atd_engine *e, atd_kv_txn *txn, atd_ekey *key, int64_t now,
                        atd_arena *arena)
{
    uint8_t *old = NULL;
    size_t oldn = 0;
    int r = atd_eng_get_hold(e, txn, key, arena, &old, &oldn);
    if (r < 0 && r != ATD_ENOTFOUND) return r;
    /* a new list is the record alone, its newest ts the touch's: what a rebuild would make */
    if (r == ATD_ENOTFOUND)
        return atd_eng_put_held(e, txn, key, e->rbuf.p, e->rbuf.n, atd_touch_list_expiry(now));
    int64_t max_ts;
    if (r == 0) {
        /* the usual case, a short list: the record goes after the old bytes */
        int whole = atd_touch_list_appends(old, oldn, e->rbuf.p, e->rbuf.n, now, &max_ts);
        if (whole < 0) return whole;
        if (whole)
            return atd_eng_append(e, txn, key, old, oldn, e->rbuf.p, e->rbuf.n,
                                  atd_touch_list_expiry(max_ts));
    }
    r = atd_touch_list_rebuild(old, r == 0 ? oldn : 0, e->rbuf.p, e->rbuf.n, now, &e->vbuf,
                               &max_ts);
    if (r < 0) return r;
    return atd_eng_put(e, txn, key, e->vbuf.p, e->vbuf.n, atd_touch_list_expiry(max_ts));
}

static int store_touch(atd_engine *e, atd_kv_txn *txn, const atd_event *ev, uint64_t seq,
                       atd_arena *arena)
{
    e->n.touches++;
    /* field by field, not a memset: every field is set below but ip, which is read only when
     * has_ip says so */
    atd_touch t;
    t.has_ip = 0;
    t.adid_uuid = 0;
    t.ts = ev->ts;
    t.seq = seq;
    t.type = (uint8_t)ev->type;
    t.flags = ev->is_retargeting ? ATD_TF_RETARGETING : 0;
    t.media_source = ev->media_source;
    t.lookback_ms = touch_override(e, ev);
    atd_fp_from_ua_memo(&e->fp_memo, ev->user_agent, arena, &t.fp);
    if (atd_eng_event_ip(e, ev, &t.ip) == 0) t.has_ip = 1;
    t.adid = ev->advertising_id;
    t.campaign = ev->campaign;
    t.campaign_id = ev->campaign_id;
    t.adset = ev->adset;
    t.ad = ev->ad;
    t.site_id = ev->site_id;
    t.channel = ev->channel;
    t.click_id = ev->click_id;
    t.deep_link_value = ev->deep_link_value;
    /* retargeting touches are only ever id-matched; others may also match by ip */
    int by_ip = t.has_ip && t.fp.os && !ev->is_retargeting;
    if (!t.adid.p && !by_ip) {
        e->n.touches_unusable++;
        return 0;
    }
    atd_ekey key;
    int r;
    if (t.adid.p) {
        /* in its advertising id's list the record leaves the id out: the key has it */
        atd_str adid = t.adid;
        t.adid = ATD_STR_NULL;
        e->rbuf.n = 0;
        atd_touch_encode(&t, &e->rbuf);
        t.adid = adid;
        atd_eng_key_adid(e, &key, ev->app_id, t.adid);
        if ((r = append_touch(e, txn, &key, ev->ts, arena)) < 0) return r;
    }
    if (by_ip) {
        e->rbuf.n = 0;
        if (t.adid.p) { /* stored in full above: a reference */
            /* key is still the advertising id's: a UUID's bytes are in it already */
            atd_touch_encode_ref(t.ts, t.seq, t.type, t.adid, atd_key_uuid(key.p, key.n),
                                 &e->rbuf);
        } else {
            atd_touch_encode(&t, &e->rbuf);
        }
        atd_eng_key_ip(e, &key, ev->app_id, &t.ip, ev->ip.p);
        if ((r = append_touch(e, txn, &key, ev->ts, arena)) < 0) return r;
    }
    return 0;
}

/* --- app events -------------------------------------------------------------------------- */

static atd_str upper_copy(atd_arena *a, atd_str s)
{
    char *p = atd_arena_alloc(a, s.n ? s.n : 1);
    for (size_t i = 0; i < s.n; i++)
        p[i] = s.p[i] >= 'a' && s.p[i] <= 'z' ? (char)(s.p[i] - 'a' + 'A') : s.p[i];
    return (atd_str){p, s.n};
}

static void result_init(atd_ctx *c, atd_result *out, atd_result_type type)
{
    const atd_event *ev = c->ev;
    /* not a memset of the whole struct (1.1 KiB, most of it touches): its touches are read
     * only as status (NON_ORGANIC), has_retargeting and n_contributors say */
    memset(out, 0, offsetof(atd_result, attribution));
    out->has_retargeting = 0;
    out->n_contributors = 0;
    memset(&out->fraud_reason, 0, sizeof *out - offsetof(atd_result, fraud_reason));
    out->type = type;
    out->app_id = ev->app_id;
    out->device_id = ev->device_id;
    out->ts = ev->ts;
    out->event_id = ev->event_id;
    if (ev->type == ATD_EV_INAPP) {
        out->event_name = ev->event_name;
        out->has_revenue = ev->has_revenue;
        out->revenue = ev->revenue;
        out->currency = ev->currency.p && ev->currency.n ? upper_copy(c->arena, ev->currency)
                                                         : ATD_STR_LIT("USD");
    }
}

/* install_ts, acquisition attribution and the open re-engagement window of a known device */
static void result_from_device(atd_ctx *c, atd_result *out, const atd_device *d)
{
    out->has_install_ts = 1;
    out->install_ts = d->install_ts;
    out->status = d->status;
    if (d->status == ATD_ATTR_NON_ORGANIC) out->attribution = d->acq;
    if (d->has_window && d->window_start <= c->t &&
        c->t - d->window_start <= c->app->reengagement_window_ms) {
        out->has_retargeting = 1;
        out->retargeting = d->window;
    }
}

/* old/oldn: the stored value (NULL for a new device); an unchanged record is not rewritten
 * (most sessions change nothing) */
static int save_device(atd_ctx *c, atd_ekey *key, const atd_device *d, const uint8_t *old,
                       size_t oldn)
{
    atd_buf *b = &c->e->vbuf;
    b->n = 0;
    atd_device_encode(d, b);
    if (old && oldn == b->n && memcmp(old, b->p, oldn) == 0) return 0;
    /* a device is known for good: no expiry */
    return atd_eng_put(c->e, c->txn, key, b->p, b->n, 0);
}

/* First install or new install (§5 + §6). */
static int on_new_install(atd_ctx *c, atd_device *d, atd_result *out)
{
    atd_cand *cands = NULL;
    size_t n = 0;
    int r = atd_match_install_candidates(c, &cands, &n);
    if (r < 0) return r;
    result_init(c, out, ATD_RES_INSTALL);
    int win = atd_install_choose(c, cands, n, out);
    out->has_install_ts = 1;
    out->install_ts = c->t;
    if (win >= 0 && (r = atd_match_flag_touch(c, &cands[win].t, ATD_TF_WON)) < 0) return r;
    c->e->n.installs++;
    if (win < 0) c->e->n.organic_installs++;
    if (out->fraud_reason) c->e->n.fraud_records++;
    /* a new record: field by field, not a memset of the 1.5 KiB struct (the activity arrays
     * are read only up to n_act, a touch only when its flag says so) */
    d->has_window = 0;
    d->window_start = 0;
    d->act_gap = 0;
    d->n_act = 0;
    d->act_merged = 0;
    d->install_ts = c->t;
    d->status = out->status;
    if (win >= 0) d->acq = out->attribution;
    else memset(&d->acq, 0, sizeof d->acq);
    atd_device_activity_add(d, c->t, c->app->inactivity_period_ms);
    return 0;
}

/* A retargeting touch credits a reinstall or a session: the touch is used, a re-engagement
 * window starts now with it. */
static int start_window(atd_ctx *c, atd_device *d, const atd_cand *best)
{
    int r = atd_match_flag_touch(c, &best->t, ATD_TF_USED);
    if (r < 0) return r;
    d->has_window = 1;
    d->window_start = c->t;
    atd_touch_ref_from(&d->window, &best->t, 0);
    return 0;
}

static int process(atd_engine *e, atd_kv_txn *txn, const atd_app_config *app,
                   const atd_event *ev, uint64_t seq, atd_result *out, atd_arena *arena)
{
    /* what the cache gave up during the previous event may be reused from now on */
    if (e->cache) atd_cache_release(e->cache);
    if (ATD_EV_IS_TOUCH(ev->type)) return store_touch(e, txn, ev, seq, arena);
    if (!ATD_EV_IS_APP(ev->type) || !ev->device_id.p) return ATD_EINVAL;

    /* field by field, not a memset: the context holds two key buffers (1 KiB) that are only
     * read once written */
    atd_ctx c;
    c.e = e;
    c.txn = txn;
    c.app = app;
    c.ev = ev;
    c.arena = arena;
    c.app_id_str = ev->app_id;
    c.t = ev->ts;
    c.adid = ev->advertising_id;
    c.has_ip = 0;
    memset(&c.fp, 0, sizeof c.fp);
    c.adid_list = c.ip_list = NULL;
    c.adid_len = c.ip_len = 0;
    c.adid_loaded = c.ip_loaded = 0;
    c.n_flood = 0;

    atd_ekey dkey;
    atd_eng_key_device(e, &dkey, ev->app_id, ev->device_id);
    uint8_t *dv = NULL;
    size_t dvn = 0;
    atd_device d;
    int r = atd_eng_get(e, txn, &dkey, arena, &dv, &dvn);
    if (r < 0 && r != ATD_ENOTFOUND) return r;
    int known = r == 0;
    if (known && atd_device_decode(dv, dvn, &d) < 0) return ATD_ECORRUPT;

    if (ev->type != ATD_EV_INSTALL && !known) {
        /* a session or in-app event of a device never installed: no state (§6) */
        e->n.unknown_device++;
        result_init(&c, out, ev->type == ATD_EV_SESSION ? ATD_RES_SESSION : ATD_RES_INAPP);
        out->status = ATD_ATTR_UNKNOWN;
        return 1;
    }
    if (ev->type == ATD_EV_INAPP) {
        e->n.inapps++;
        result_init(&c, out, ATD_RES_INAPP);
        result_from_device(&c, out, &d);
        return 1;
    }

    if (atd_eng_event_ip(e, ev, &c.ip) == 0) c.has_ip = 1;
    if (ev->type == ATD_EV_INSTALL &&
        (!known || c.t - d.install_ts > app->reattribution_window_ms)) {
        if (c.has_ip) atd_fp_of_event_memo(&e->fp_memo, ev, arena, &c.fp);
        if ((r = on_new_install(&c, &d, out)) < 0) return r;
        if ((r = save_device(&c, &dkey, &d, known ? dv : NULL, dvn)) < 0) return r;
        return 1;
    }

    /* a reinstall or a session of a known device: a retargeting touch may re-engage it */
    int session = ev->type == ATD_EV_SESSION;
    atd_cand best;
    int found = atd_match_retargeting(&c, &d, session, &best);
    if (found < 0) return found;
    atd_result_type type;
    if (found) {
        if ((r = start_window(&c, &d, &best)) < 0) return r;
        type = session ? ATD_RES_REENGAGEMENT : ATD_RES_REATTRIBUTION;
        if (session) e->n.reengagements++;
        else e->n.reattributions++;
    } else {
        type = session ? ATD_RES_SESSION : ATD_RES_REINSTALL;
        if (session) e->n.sessions++;
        else e->n.reinstalls++;
    }
    result_init(&c, out, type);
    result_from_device(&c, out, &d);
    atd_device_activity_add(&d, c.t, app->inactivity_period_ms);
    if ((r = save_device(&c, &dkey, &d, dv, dvn)) < 0) return r;
    return 1;
}

int atd_engine_process(atd_engine *e, atd_kv_txn *txn, const atd_app_config *app,
                       const atd_event *ev, uint64_t seq, atd_result *out, atd_arena *arena)
{
    int r = process(e, txn, app, ev, seq, out, arena);
    e->hint = NULL; /* it was for this event only */
    return r;
}
