/* Whether two parsed events are the same value: every field, strings by content (the fast and
 * the general path of atd_event_parse_json keep them in different places). Shared by
 * tests/unit/test_event_parse_flat.c and tests/fuzz/fuzz_event.c. */
#ifndef ATTRIBD_TEST_EVENT_COMPARE_H
#define ATTRIBD_TEST_EVENT_COMPARE_H

#include <stddef.h>
#include <string.h>

#include "attribd/event.h"

static inline int event_str_same(atd_str a, atd_str b)
{
    if (!a.p || !b.p) return !a.p && !b.p && a.n == 0 && b.n == 0;
    return a.n == b.n && memcmp(a.p, b.p, a.n) == 0 && a.p[a.n] == 0 && b.p[b.n] == 0;
}

/* The name of the first field that differs, or NULL when a and b are the same. */
static inline const char *event_diff(const atd_event *a, const atd_event *b)
{
#define SAME_STR(f)                                                                           \
    if (!event_str_same(a->f, b->f)) return #f;
    if (a->type != b->type) return "type";
    if (a->ts != b->ts) return "ts";
    SAME_STR(app_id) SAME_STR(ip) SAME_STR(user_agent) SAME_STR(advertising_id)
    SAME_STR(media_source) SAME_STR(campaign) SAME_STR(campaign_id) SAME_STR(adset)
    SAME_STR(adset_id) SAME_STR(ad) SAME_STR(ad_id) SAME_STR(site_id) SAME_STR(channel)
    SAME_STR(click_id)
    if (a->is_retargeting != b->is_retargeting) return "is_retargeting";
    SAME_STR(click_lookback) SAME_STR(view_lookback) SAME_STR(deep_link_value)
    SAME_STR(cost_value) SAME_STR(cost_currency) SAME_STR(device_id) SAME_STR(platform)
    SAME_STR(os_version) SAME_STR(device_model) SAME_STR(app_version)
    SAME_STR(customer_user_id) SAME_STR(event_id) SAME_STR(event_name)
    if (a->has_revenue != b->has_revenue) return "has_revenue";
    if (memcmp(&a->revenue, &b->revenue, sizeof a->revenue) != 0) return "revenue";
    SAME_STR(currency) SAME_STR(event_value)
    if (a->ip4_set != b->ip4_set || (a->ip4_set && memcmp(a->ip4, b->ip4, 4) != 0))
        return "ip4";
#undef SAME_STR
    return NULL;
}

/* Whether two refusals are the same: status, field and message. */
static inline int event_error_same(const atd_event_error *a, const atd_event_error *b)
{
    return a->http_status == b->http_status &&
           ((!a->field && !b->field) || (a->field && b->field && strcmp(a->field, b->field) == 0)) &&
           strcmp(a->message, b->message) == 0;
}

#endif
