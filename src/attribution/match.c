/* Matching touches to an app event (§3), their windows and blocking (§4), the candidates of
 * an install (§5) and of a retargeting (§6). */
#include "attribution/engine_internal.h"

int atd_match_load_adid(atd_ctx *c)
{
    if (c->adid_loaded || !c->adid.p) return 0;
    c->adid_loaded = 1;
    atd_eng_key_adid(c->e, &c->adid_key, c->app_id_str, c->adid);
    int r = atd_eng_get(c->e, c->txn, &c->adid_key, c->arena, &c->adid_list, &c->adid_len);
    if (r == ATD_ENOTFOUND) {
        c->adid_list = NULL;
        c->adid_len = 0;
        return 0;
    }
    return r;
}

int atd_match_load_ip(atd_ctx *c)
{
    if (c->ip_loaded || !c->has_ip || !c->fp.os) return 0;
    c->ip_loaded = 1;
    atd_eng_key_ip(c->e, &c->ip_key, c->app_id_str, &c->ip, c->ev->ip.p);
    int r = atd_eng_get(c->e, c->txn, &c->ip_key, c->arena, &c->ip_list, &c->ip_len);
    if (r == ATD_ENOTFOUND) {
        c->ip_list = NULL;
        c->ip_len = 0;
        return 0;
    }
    return r;
}

/* The lookback of a touch: its own override, else the app's (§2, §4). */
static int64_t lookback(const atd_app_config *app, uint8_t type, int64_t override)
{
    if (override > 0) return override;
    return type == ATD_EV_CLICK ? app->click_lookback_ms : app->view_lookback_ms;
}

int64_t atd_touch_window(const atd_app_config *app, const atd_touch *t, int prob)
{
    int64_t w = lookback(app, t->type, t->lookback_ms);
    if (!prob) return w;
    if (app->probabilistic_window_ms <= 0) return -1; /* never */
    return app->probabilistic_window_ms < w ? app->probabilistic_window_ms : w;
}

/* Clicks with this media source in a touch list, with ts in [t - 24h, t] (§4.4). */
static int64_t count_clicks(const uint8_t *list, size_t n, atd_str ms, int64_t t, int *err)
{
    atd_touch_iter it;
    atd_touch_iter_init(&it, list, n);
    int64_t count = 0;
    int r;
    while ((r = atd_touch_iter_next(&it)) == 1)
        if (it.type == ATD_EV_CLICK && it.ts >= t - 24 * ATD_HOUR_MS && it.ts <= t &&
            atd_str_eq(it.media_source, ms))
            count++;
    if (r < 0) *err = r;
    return count;
}

static int64_t flood_count(atd_ctx *c, const atd_touch *t, int *err)
{
    for (size_t i = 0; i < c->n_flood; i++)
        if (atd_str_eq(c->flood[i].adid, t->adid) &&
            atd_str_eq(c->flood[i].media_source, t->media_source))
            return c->flood[i].count;
    int64_t count;
    if (c->adid.p && atd_str_eq(t->adid, c->adid)) {
        count = count_clicks(c->adid_list, c->adid_len, t->media_source, c->t, err);
    } else {
        /* a probabilistic touch with an advertising id (the event has none): its own list */
        atd_ekey key;
        atd_ekey_set(&key, atd_key_touch_adid(key.buf, c->app_id_str, t->adid));
        uint8_t *v = NULL;
        size_t vn = 0;
        int r = atd_eng_get(c->e, c->txn, &key, c->arena, &v, &vn);
        if (r < 0 && r != ATD_ENOTFOUND) {
            *err = r;
            return 0;
        }
        count = r == 0 ? count_clicks(v, vn, t->media_source, c->t, err) : 0;
    }
    if (c->n_flood < sizeof c->flood / sizeof c->flood[0]) {
        c->flood[c->n_flood].adid = t->adid;
        c->flood[c->n_flood].media_source = t->media_source;
        c->flood[c->n_flood].count = count;
        c->n_flood++;
    }
    return count;
}

static int site_blocked(const atd_app_config *app, const atd_touch *t)
{
    size_t n = t->media_source.n + 1 + t->site_id.n;
    for (size_t i = 0; i < app->n_blocked_sites; i++) {
        const char *s = app->blocked_sites[i];
        if (strlen(s) == n && memcmp(s, t->media_source.p, t->media_source.n) == 0 &&
            s[t->media_source.n] == '/' &&
            memcmp(s + t->media_source.n + 1, t->site_id.p, t->site_id.n) == 0)
            return 1;
    }
    return 0;
}

const char *atd_match_blocked(atd_ctx *c, const atd_touch *t, int *err)
{
    const atd_app_config *app = c->app;
    if (t->has_ip)
        for (size_t i = 0; i < app->n_blocked_ips; i++)
            if (atd_cidr_contains(&app->blocked_ips[i], &t->ip)) return "ip_blocked";
    if (t->site_id.p && site_blocked(app, t)) return "site_blocked";
    if (t->type == ATD_EV_CLICK && c->ev->type == ATD_EV_INSTALL && app->min_ctit_ms > 0 &&
        c->t - t->ts < app->min_ctit_ms)
        return "ctit_anomaly";
    if (t->type == ATD_EV_CLICK && app->click_cap > 0 && t->adid.p &&
        flood_count(c, t, err) > app->click_cap)
        return "click_flood";
    return NULL;
}

static int reason_index(const char *r)
{
    switch (r[0]) {
    case 'i': return 0;
    case 's': return 1;
    case 'c': return r[1] == 't' ? 2 : 3;
    default: return 3;
    }
}

/* Grows the candidate array (in the arena) when full. */
static atd_cand *cand_push(atd_ctx *c, atd_cand **arr, size_t *n, size_t *cap)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        atd_cand *na = atd_arena_alloc(c->arena, ncap * sizeof *na);
        if (*n) memcpy(na, *arr, *n * sizeof *na);
        *arr = na;
        *cap = ncap;
    }
    return &(*arr)[(*n)++];
}

/* Replaces the reference *t (an ip list's record of a touch with an advertising id) by the
 * full record from its advertising id's list. Returns 1, or 0 when that record is gone or won
 * (or is a retargeting touch), or an error. */
static int resolve_ref(atd_ctx *c, atd_touch *t)
{
    atd_str adid = t->adid;
    atd_ekey key;
    if (t->adid_uuid) { /* a short reference: the UUID's bytes make the key; the text is kept */
        atd_ekey_set(&key, atd_key_touch_uuid(key.buf, c->app_id_str, (const uint8_t *)adid.p));
        char *text = atd_arena_alloc(c->arena, 36);
        atd_touch_uuid_text((const uint8_t *)adid.p, text);
        adid = (atd_str){text, 36};
    } else {
        atd_ekey_set(&key, atd_key_touch_adid(key.buf, c->app_id_str, adid));
    }
    uint8_t *list = NULL;
    size_t len = 0;
    int r = atd_eng_get(c->e, c->txn, &key, c->arena, &list, &len);
    if (r == ATD_ENOTFOUND) return 0;
    if (r < 0) return r;
    atd_touch_iter it;
    if ((r = atd_touch_list_find(list, len, t->seq, &it)) <= 0) return r;
    if (it.flags & (ATD_TF_RETARGETING | ATD_TF_WON)) return 0;
    if ((r = atd_touch_iter_decode(&it, t)) < 0) return r;
    t->adid = adid; /* records of that list leave it out */
    return 1;
}

int atd_match_install_candidates(atd_ctx *c, atd_cand **out, size_t *nout)
{
    atd_cand *arr = NULL;
    size_t n = 0, cap = 0;
    int r, err = 0;
    atd_touch_iter it;
    /* id-matched: the event's advertising id list */
    if ((r = atd_match_load_adid(c)) < 0) return r;
    atd_touch_iter_init(&it, c->adid_list, c->adid_len);
    while ((r = atd_touch_iter_next(&it)) == 1) {
        if (it.flags & (ATD_TF_RETARGETING | ATD_TF_WON)) continue;
        int64_t age = c->t - it.ts;
        if (age < 0) continue;
        atd_cand *cd = cand_push(c, &arr, &n, &cap);
        if ((r = atd_touch_iter_decode(&it, &cd->t)) < 0) return r;
        cd->t.adid = c->adid; /* records of this list leave it out */
        if (age > atd_touch_window(c->app, &cd->t, 0)) {
            n--;
            continue;
        }
        cd->prob = 0;
        cd->group = cd->t.type == ATD_EV_CLICK ? 1 : 3;
    }
    if (r < 0) return r;
    /* probabilistic: the event's ip list, same fingerprint, at least one side without an
     * advertising id */
    if (c->app->probabilistic_window_ms > 0) {
        if ((r = atd_match_load_ip(c)) < 0) return r;
        atd_touch_iter_init(&it, c->ip_list, c->ip_len);
        while ((r = atd_touch_iter_next(&it)) == 1) {
            if (it.flags & (ATD_TF_RETARGETING | ATD_TF_WON)) continue;
            int64_t age = c->t - it.ts;
            if (age < 0 || age > c->app->probabilistic_window_ms) continue;
            if ((it.flags & ATD_TF_REF) && c->adid.p) continue; /* both have an id */
            atd_cand *cd = cand_push(c, &arr, &n, &cap);
            if ((r = atd_touch_iter_decode(&it, &cd->t)) < 0) return r;
            if ((it.flags & ATD_TF_REF) && (r = resolve_ref(c, &cd->t)) <= 0) {
                if (r < 0) return r;
                n--; /* won, or gone from its list */
                continue;
            }
            if ((c->adid.p && cd->t.adid.p) || !atd_fp_eq(&c->fp, &cd->t.fp) ||
                !cd->t.has_ip || age > atd_touch_window(c->app, &cd->t, 1)) {
                n--;
                continue;
            }
            cd->prob = 1;
            cd->group = cd->t.type == ATD_EV_CLICK ? 2 : 4;
        }
        if (r < 0) return r;
    }
    for (size_t i = 0; i < n; i++) {
        arr[i].blocked = atd_match_blocked(c, &arr[i].t, &err);
        if (err < 0) return err;
        if (arr[i].blocked) c->e->n.blocked[reason_index(arr[i].blocked)]++;
    }
    *out = arr;
    *nout = n;
    return 0;
}

static int later(const atd_touch *a, const atd_touch *b)
{
    return a->ts > b->ts || (a->ts == b->ts && a->seq > b->seq);
}

int atd_match_retargeting(atd_ctx *c, const atd_device *d, int session, atd_cand *best)
{
    int r, err = 0, found = 0;
    if (!c->adid.p) return 0;
    if ((r = atd_match_load_adid(c)) < 0) return r;
    int64_t p = session ? c->app->inactivity_period_ms : 0;
    /* the cheap tests on every record; blocking (which may count clicks) only for a touch
     * that would beat the best so far */
    atd_touch_iter it;
    atd_touch_iter_init(&it, c->adid_list, c->adid_len);
    atd_cand cd;
    while ((r = atd_touch_iter_next(&it)) == 1) {
        if (it.type != ATD_EV_CLICK || !(it.flags & ATD_TF_RETARGETING) ||
            (it.flags & ATD_TF_USED))
            continue;
        int64_t age = c->t - it.ts;
        if (age < 0 || it.ts <= d->install_ts) continue;
        if (found && !(it.ts > best->t.ts || (it.ts == best->t.ts && it.seq > best->t.seq)))
            continue;
        if ((r = atd_touch_iter_decode(&it, &cd.t)) < 0) return r;
        cd.t.adid = c->adid; /* records of this list leave it out */
        if (age > atd_touch_window(c->app, &cd.t, 0)) continue;
        if (p > 0 && atd_device_active_before(d, cd.t.ts, p)) continue;
        const char *why = atd_match_blocked(c, &cd.t, &err);
        if (err < 0) return err;
        if (why) {
            c->e->n.blocked[reason_index(why)]++;
            continue;
        }
        cd.prob = 0;
        cd.group = 1;
        cd.blocked = NULL;
        if (!found || later(&cd.t, &best->t)) *best = cd;
        found = 1;
    }
    return r < 0 ? r : found;
}

/* Sets flag on the record seq of the list at key (loaded, or given as list/len), writes it. */
static int flag_in_list(atd_ctx *c, atd_ekey *key, uint8_t *list, size_t len, uint64_t seq,
                        uint8_t flag)
{
    int r;
    if (!list) {
        r = atd_eng_get(c->e, c->txn, key, c->arena, &list, &len);
        if (r == ATD_ENOTFOUND) return 0;
        if (r < 0) return r;
    }
    r = atd_touch_list_set_flag(list, len, seq, flag);
    if (r <= 0) return r;
    /* keep the list's expiry: newest ts + the keep period */
    atd_touch_iter it;
    atd_touch_iter_init(&it, list, len);
    int64_t newest = 0;
    while (atd_touch_iter_next(&it) == 1)
        if (it.ts > newest) newest = it.ts;
    return atd_eng_put(c->e, c->txn, key, list, len, atd_touch_list_expiry(newest));
}

int atd_match_flag_touch(atd_ctx *c, const atd_touch *t, uint8_t flag)
{
    int r;
    if (t->adid.p) {
        if (c->adid_loaded && c->adid.p && atd_str_eq(t->adid, c->adid)) {
            r = flag_in_list(c, &c->adid_key, c->adid_list, c->adid_len, t->seq, flag);
        } else {
            atd_ekey key;
            atd_ekey_set(&key, atd_key_touch_adid(key.buf, c->app_id_str, t->adid));
            r = flag_in_list(c, &key, NULL, 0, t->seq, flag);
        }
        if (r < 0) return r;
    }
    /* a touch with an advertising id has its flags in that list only (the ip list holds a
     * reference) */
    if (!t->adid.p && t->has_ip && t->fp.os && !(t->flags & ATD_TF_RETARGETING)) {
        if (c->ip_loaded && c->has_ip && c->ip.family == t->ip.family &&
            memcmp(c->ip.addr, t->ip.addr, t->ip.family == 4 ? 4 : 16) == 0) {
            r = flag_in_list(c, &c->ip_key, c->ip_list, c->ip_len, t->seq, flag);
        } else {
            atd_ekey key;
            atd_ekey_set(&key, atd_key_touch_ip(key.buf, c->app_id_str, &t->ip));
            r = flag_in_list(c, &key, NULL, 0, t->seq, flag);
        }
        if (r < 0) return r;
    }
    return 0;
}
