/* Choosing the winner of an install, its contributors and its fraud record (§5). */
#include <stdlib.h>

#include "attribution/engine_internal.h"

void atd_touch_ref_from(atd_touch_ref *ref, const atd_touch *t, int prob)
{
    memset(ref, 0, sizeof *ref);
    ref->media_source = t->media_source;
    ref->campaign = t->campaign;
    ref->campaign_id = t->campaign_id;
    ref->adset = t->adset;
    ref->ad = t->ad;
    ref->site_id = t->site_id;
    ref->channel = t->channel;
    ref->click_id = t->click_id;
    ref->deep_link_value = t->deep_link_value;
    ref->touch_type = (atd_event_type)t->type;
    ref->touch_ts = t->ts;
    ref->probabilistic = prob;
}

/* a beats b: a better group, then a greater ts, then later in the log */
static int beats(const atd_cand *a, const atd_cand *b)
{
    if (a->group != b->group) return a->group < b->group;
    if (a->t.ts != b->t.ts) return a->t.ts > b->t.ts;
    return a->t.seq > b->t.seq;
}

/* newest first: greater ts, then later in the log */
static int cmp_newest(const void *x, const void *y)
{
    const atd_cand *a = *(const atd_cand *const *)x, *b = *(const atd_cand *const *)y;
    if (a->t.ts != b->t.ts) return a->t.ts > b->t.ts ? -1 : 1;
    return a->t.seq > b->t.seq ? -1 : a->t.seq < b->t.seq;
}

int atd_install_choose(atd_ctx *c, atd_cand *cands, size_t n, atd_result *out)
{
    int win = -1, any = -1;
    for (size_t i = 0; i < n; i++) {
        if (any < 0 || beats(&cands[i], &cands[any])) any = (int)i;
        if (!cands[i].blocked && (win < 0 || beats(&cands[i], &cands[win]))) win = (int)i;
    }
    out->n_contributors = 0;
    out->fraud_reason = NULL;
    /* the fraud record: the winner with blocking off, when it was blocked */
    if (any >= 0 && cands[any].blocked) {
        out->fraud_reason = cands[any].blocked;
        out->fraud_media_source = cands[any].t.media_source;
        out->fraud_touch_ts = cands[any].t.ts;
    }
    if (win < 0) {
        out->status = ATD_ATTR_ORGANIC;
        return -1;
    }
    out->status = ATD_ATTR_NON_ORGANIC;
    atd_touch_ref_from(&out->attribution, &cands[win].t, cands[win].prob);
    /* contributors: the newest touch of every other media source, newest first, three */
    const atd_cand **rest = atd_arena_alloc(c->arena, (n ? n : 1) * sizeof *rest);
    size_t nr = 0;
    for (size_t i = 0; i < n; i++)
        if ((int)i != win && !cands[i].blocked &&
            !atd_str_eq(cands[i].t.media_source, cands[win].t.media_source))
            rest[nr++] = &cands[i];
    qsort(rest, nr, sizeof *rest, cmp_newest);
    for (size_t i = 0; i < nr && out->n_contributors < ATD_MAX_CONTRIBUTORS; i++) {
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = atd_str_eq(rest[j]->t.media_source, rest[i]->t.media_source);
        if (!seen)
            atd_touch_ref_from(&out->contributors[out->n_contributors++], &rest[i]->t,
                               rest[i]->prob);
    }
    return win;
}
