/* A result as attribd.v1.Result (proto/attribd/v1/events.proto), the record of the "results"
 * topic. protobuf-c wants NUL-terminated strings: they are copied into a scratch arena first
 * (a string holding a NUL byte is cut there; ids never hold one). */
#include <stdlib.h>

#include "attribd/engine.h"
#include "attribd/v1/events.pb-c.h"

static char *cstr(atd_arena *a, atd_str s) { return s.p ? atd_arena_strndup(a, s.p, s.n) : NULL; }

static atd_str from_c(atd_arena *a, const char *s)
{
    if (!s) return ATD_STR_NULL;
    size_t n = strlen(s);
    return (atd_str){atd_arena_strndup(a, s, n), n};
}

static void touch_to_pb(Attribd__V1__Touch *m, const atd_touch_ref *t, atd_arena *a)
{
    attribd__v1__touch__init(m);
    m->media_source = cstr(a, t->media_source);
    m->campaign = cstr(a, t->campaign);
    m->campaign_id = cstr(a, t->campaign_id);
    m->adset = cstr(a, t->adset);
    m->ad = cstr(a, t->ad);
    m->site_id = cstr(a, t->site_id);
    m->channel = cstr(a, t->channel);
    m->click_id = cstr(a, t->click_id);
    m->deep_link_value = cstr(a, t->deep_link_value);
    m->has_touch_type = 1;
    m->touch_type = (Attribd__V1__EventType)t->touch_type;
    m->has_touch_ts = 1;
    m->touch_ts = t->touch_ts;
    m->has_probabilistic = 1;
    m->probabilistic = t->probabilistic != 0;
}

static void touch_from_pb(atd_touch_ref *t, const Attribd__V1__Touch *m, atd_arena *a)
{
    memset(t, 0, sizeof *t);
    t->media_source = from_c(a, m->media_source);
    t->campaign = from_c(a, m->campaign);
    t->campaign_id = from_c(a, m->campaign_id);
    t->adset = from_c(a, m->adset);
    t->ad = from_c(a, m->ad);
    t->site_id = from_c(a, m->site_id);
    t->channel = from_c(a, m->channel);
    t->click_id = from_c(a, m->click_id);
    t->deep_link_value = from_c(a, m->deep_link_value);
    t->touch_type = m->has_touch_type ? (atd_event_type)m->touch_type : ATD_EV_CLICK;
    t->touch_ts = m->has_touch_ts ? m->touch_ts : 0;
    t->probabilistic = m->has_probabilistic && m->probabilistic;
}

void atd_result_encode(const atd_result *r, atd_buf *b)
{
    atd_arena a;
    atd_arena_init(&a, 4096);
    Attribd__V1__Result m;
    attribd__v1__result__init(&m);
    m.has_event_type = 1;
    m.event_type = (Attribd__V1__ResultType)r->type;
    m.app_id = cstr(&a, r->app_id);
    m.device_id = cstr(&a, r->device_id);
    m.has_ts = 1;
    m.ts = r->ts;
    if (r->has_install_ts) {
        m.has_install_ts = 1;
        m.install_ts = r->install_ts;
    }
    m.has_status = 1;
    m.status = (Attribd__V1__AttributionStatus)r->status;
    Attribd__V1__Touch attr, rt, contrib[ATD_MAX_CONTRIBUTORS];
    Attribd__V1__Touch *contrib_p[ATD_MAX_CONTRIBUTORS];
    if (r->status == ATD_ATTR_NON_ORGANIC) {
        touch_to_pb(&attr, &r->attribution, &a);
        m.attribution = &attr;
    }
    if (r->has_retargeting) {
        touch_to_pb(&rt, &r->retargeting, &a);
        m.retargeting = &rt;
    }
    size_t nc = r->n_contributors < ATD_MAX_CONTRIBUTORS ? r->n_contributors
                                                         : ATD_MAX_CONTRIBUTORS;
    for (size_t i = 0; i < nc; i++) {
        touch_to_pb(&contrib[i], &r->contributors[i], &a);
        contrib_p[i] = &contrib[i];
    }
    m.n_contributors = nc;
    m.contributors = nc ? contrib_p : NULL;
    Attribd__V1__Fraud fraud;
    if (r->fraud_reason) {
        attribd__v1__fraud__init(&fraud);
        fraud.reason = (char *)r->fraud_reason;
        fraud.media_source = cstr(&a, r->fraud_media_source);
        fraud.has_touch_ts = 1;
        fraud.touch_ts = r->fraud_touch_ts;
        m.fraud = &fraud;
    }
    if (r->type == ATD_RES_INAPP) {
        m.event_name = cstr(&a, r->event_name);
        if (r->has_revenue) {
            m.has_revenue = 1;
            m.revenue = r->revenue;
        }
        m.currency = cstr(&a, r->currency);
    }
    m.event_id = cstr(&a, r->event_id);
    m.has_source_partition = 1;
    m.source_partition = r->source_partition;
    m.has_source_offset = 1;
    m.source_offset = r->source_offset;
    size_t n = attribd__v1__result__get_packed_size(&m);
    atd_buf_reserve(b, n);
    b->n += attribd__v1__result__pack(&m, (uint8_t *)b->p + b->n);
    atd_arena_free(&a);
}

static const char *reason_static(const char *s)
{
    static const char *const reasons[] = {"ip_blocked", "site_blocked", "ctit_anomaly",
                                          "click_flood"};
    for (size_t i = 0; i < 4; i++)
        if (s && strcmp(s, reasons[i]) == 0) return reasons[i];
    return "unknown";
}

int atd_result_decode(const uint8_t *buf, size_t len, atd_arena *arena, atd_result *out)
{
    Attribd__V1__Result *m = attribd__v1__result__unpack(NULL, len, buf);
    if (!m) return ATD_ECORRUPT;
    memset(out, 0, sizeof *out);
    out->type = m->has_event_type ? (atd_result_type)m->event_type : ATD_RES_NONE;
    out->app_id = from_c(arena, m->app_id);
    out->device_id = from_c(arena, m->device_id);
    out->ts = m->has_ts ? m->ts : 0;
    out->has_install_ts = m->has_install_ts;
    out->install_ts = m->install_ts;
    out->status = m->has_status ? (atd_attr_status)m->status : ATD_ATTR_NONE;
    if (m->attribution) touch_from_pb(&out->attribution, m->attribution, arena);
    if (m->retargeting) {
        out->has_retargeting = 1;
        touch_from_pb(&out->retargeting, m->retargeting, arena);
    }
    for (size_t i = 0; i < m->n_contributors && i < ATD_MAX_CONTRIBUTORS; i++)
        touch_from_pb(&out->contributors[out->n_contributors++], m->contributors[i], arena);
    if (m->fraud) {
        out->fraud_reason = reason_static(m->fraud->reason);
        out->fraud_media_source = from_c(arena, m->fraud->media_source);
        out->fraud_touch_ts = m->fraud->has_touch_ts ? m->fraud->touch_ts : 0;
    }
    out->event_name = from_c(arena, m->event_name);
    out->has_revenue = m->has_revenue;
    out->revenue = m->revenue;
    out->currency = from_c(arena, m->currency);
    out->event_id = from_c(arena, m->event_id);
    out->source_partition = m->has_source_partition ? m->source_partition : 0;
    out->source_offset = m->has_source_offset ? m->source_offset : 0;
    attribd__v1__result__free_unpacked(m, NULL);
    return 0;
}
