/* Read-only queries of the engine's state.
 *
 * GET /v1/conversion/{app_id}/{device_id} (header X-Sdk-Key): the device's attribution in the
 * shape mobile SDKs know from "conversion data" (deferred deep linking): af_status, media_source,
 * campaign, af_siteid, click_time, install_time, is_first_launch and the winning touch's
 * deep_link_value. 404 for a device the engine has not seen install. */
#include <time.h>

#include "attribd/kv.h"
#include "http/http_internal.h"

/* "2026-11-27 12:00:00.123" (UTC), the time format SDKs expect in conversion data. */
static void put_time(atd_buf *b, int64_t ms)
{
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    atd_buf_printf(b, "\"%04d-%02d-%02d %02d:%02d:%02d.%03d\"", tm.tm_year + 1900, tm.tm_mon + 1,
                   tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* is_first_launch: the SDK asks for conversion data on its first launch; a later call says so
 * with ?first_launch=false (or 0). */
static int first_launch(h2o_req_t *req)
{
    if (req->query_at == SIZE_MAX || req->query_at >= req->path.len) return 1;
    const char *q = req->path.base + req->query_at + 1;
    size_t n = req->path.len - req->query_at - 1;
    for (const char *p = q; p && p < q + n;) {
        const char *end = memchr(p, '&', (size_t)(q + n - p));
        size_t len = end ? (size_t)(end - p) : (size_t)(q + n - p);
        if ((len == 18 && !memcmp(p, "first_launch=false", 18)) ||
            (len == 14 && !memcmp(p, "first_launch=0", 14)))
            return 0;
        p = end ? end + 1 : NULL;
    }
    return 1;
}

int atd__route_conversion(atd_http_thread *t, h2o_req_t *req, atd_str app, atd_str device)
{
    const atd_http_app *appc = atd__http_app(t, app);
    if (!appc) {
        atd__http_send_error(req, 404, "unknown app", "app_id", 0);
        return 0;
    }
    if (!atd__http_key_ok(req, appc, H2O_STRLIT("x-sdk-key"))) {
        atd__http_send_error(req, 401, "missing or wrong X-Sdk-Key header", "sdk_key", 0);
        return 0;
    }
    atd_kv *kv = t->srv->opt.kv;
    if (!kv || (!t->engine && !(t->engine = atd_engine_new(kv)))) {
        atd__http_send_error(req, 503, "attribution state is not available", NULL, 0);
        return 0;
    }
    atd_kv_txn *txn;
    if (atd_kv_txn_begin(kv, 0, &txn) != 0) {
        atd__http_send_error(req, 503, "attribution state is not available", NULL, 0);
        return 0;
    }
    atd_arena_reset(&t->arena);
    atd_result r;
    int rc = atd_engine_device(t->engine, txn, app, device, &r, &t->arena);
    if (rc == ATD_ENOTFOUND) {
        atd_kv_txn_abort(txn);
        atd__http_send_error(req, 404, "unknown device: no install of it has been attributed yet",
                             "device_id", 0);
        return 0;
    }
    if (rc != 0) {
        atd_kv_txn_abort(txn);
        atd__http_send_error(req, 500, atd_strerror(rc), NULL, 0);
        return 0;
    }
    /* the strings of r live in t->arena (the engine copies out of the map), so the body can be
     * built after the transaction ends; build it first anyway to keep the read txn short */
    atd_buf *b = &t->json;
    b->n = 0;
    int organic = r.status != ATD_ATTR_NON_ORGANIC;
    atd_buf_puts(b, organic ? "{\"af_status\":\"Organic\"" : "{\"af_status\":\"Non-organic\"");
    atd_json_key(b, "media_source", 0);
    atd_json_str_or_null(b, organic ? ATD_STR_NULL : r.attribution.media_source);
    atd_json_key(b, "campaign", 0);
    atd_json_str_or_null(b, organic ? ATD_STR_NULL : r.attribution.campaign);
    atd_json_key(b, "af_siteid", 0);
    atd_json_str_or_null(b, organic ? ATD_STR_NULL : r.attribution.site_id);
    atd_json_key(b, "click_time", 0);
    if (organic)
        atd_buf_puts(b, "null");
    else
        put_time(b, r.attribution.touch_ts);
    atd_json_key(b, "install_time", 0);
    put_time(b, r.install_ts);
    atd_json_key(b, "is_first_launch", 0);
    atd_buf_puts(b, first_launch(req) ? "true" : "false");
    atd_json_key(b, "deep_link_value", 0);
    atd_json_str_or_null(b, organic ? ATD_STR_NULL : r.attribution.deep_link_value);
    atd_buf_putc(b, '}');
    atd_kv_txn_abort(txn);
    atd__http_send_json(req, 200, b->p, b->n);
    return 0;
}
