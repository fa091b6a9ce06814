/* Ingest routes: clicks and impressions (GET with query parameters) and SDK events (POST JSON /
 * NDJSON). Every event goes through atd_event_parse_json, so validation is the same as in
 * `attribd import` and `attribd replay`: a click's query becomes the JSON object of the event. */
#include <strings.h>

#include "attribd/logging.h"
#include "http/http_internal.h"

/* --- clicks and impressions ------------------------------------------------------------ */

/* Query parameter → event field. Several names may feed one field; the first one present in
 * the query wins. */
static const struct {
    const char *param;
    const char *field;
} touch_params[] = {
    {"pid", "media_source"},
    {"c", "campaign"},
    {"af_c_id", "campaign_id"},
    {"af_adset", "adset"},
    {"af_adset_id", "adset_id"},
    {"af_ad", "ad"},
    {"af_ad_id", "ad_id"},
    {"af_siteid", "site_id"},
    {"af_channel", "channel"},
    {"clickid", "click_id"},
    {"advertising_id", "advertising_id"},
    {"idfa", "advertising_id"},
    {"gaid", "advertising_id"},
    {"is_retargeting", "is_retargeting"},
    {"af_click_lookback", "click_lookback"},
    {"af_viewthrough_lookback", "view_lookback"},
    {"deep_link_value", "deep_link_value"},
    {"af_cost_value", "cost_value"},
    {"af_cost_currency", "cost_currency"},
};
#define N_TOUCH_PARAMS (sizeof touch_params / sizeof touch_params[0])

typedef struct touch_ctx {
    atd_http_thread *t;
    atd_buf *json;
    const char *seen[N_TOUCH_PARAMS]; /* fields already written (by field name pointer) */
    size_t n_seen;
    char *af_r; /* decoded, in the arena; NULL when absent */
    size_t af_r_len;
} touch_ctx;

static char *decode_value(atd_http_thread *t, const char *v, size_t n, size_t *out_n)
{
    char *d = atd_arena_alloc(&t->arena, n + 1);
    *out_n = atd__url_decode(v, n, d, 1);
    d[*out_n] = 0;
    return d;
}

static int on_touch_param(const char *name, size_t nlen, const char *val, size_t vlen, void *ud)
{
    touch_ctx *c = ud;
    if (nlen == 4 && !memcmp(name, "af_r", 4)) {
        if (!c->af_r) c->af_r = decode_value(c->t, val, vlen, &c->af_r_len);
        return 0;
    }
    for (size_t i = 0; i < N_TOUCH_PARAMS; i++) {
        const char *p = touch_params[i].param;
        if (strlen(p) != nlen || memcmp(p, name, nlen)) continue;
        const char *field = touch_params[i].field;
        for (size_t s = 0; s < c->n_seen; s++)
            if (!strcmp(c->seen[s], field)) return 0;
        size_t dn;
        char *d = decode_value(c->t, val, vlen, &dn);
        if (!strcmp(field, "is_retargeting")) { /* a JSON boolean */
            atd_json_key(c->json, field, 0);
            int yes = (dn == 4 && !strncasecmp(d, "true", 4)) || (dn == 1 && d[0] == '1');
            atd_buf_puts(c->json, yes ? "true" : "false");
        } else if (!strcmp(field, "advertising_id") && dn == 0) {
            return 0; /* an empty idfa= must not hide a gaid= that follows */
        } else {
            atd_json_key(c->json, field, 0);
            atd_json_str(c->json, d, dn);
        }
        c->seen[c->n_seen++] = field;
        return 0;
    }
    return 0; /* unknown parameters are ignored (ad networks add their own) */
}

/* af_r is only followed when it is an absolute http(s) URL with a host and no byte that could
 * break the Location header (controls, spaces): otherwise the click link would be an open
 * redirect to anything, or a header injection. */
static int redirect_ok(const char *u, size_t n)
{
    size_t skip;
    if (n > 7 && !strncasecmp(u, "http://", 7))
        skip = 7;
    else if (n > 8 && !strncasecmp(u, "https://", 8))
        skip = 8;
    else
        return 0;
    if (u[skip] == '/' || u[skip] == '?' || u[skip] == '#') return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] == 0x7f) return 0;
    return 1;
}

static void send_parse_error(h2o_req_t *req, const atd_event_error *err, long line)
{
    int status = err->http_status ? err->http_status : 400;
    atd__http_send_error(req, status, err->message, err->field ? err->field : "body", line);
}

/* The app of the URL, or NULL after answering 404. Once it is found, the routes parse with
 * cfg NULL: the event's app is the URL's (the parser refuses any other), so the parser's own
 * app check would only repeat this lookup. */
static const atd_http_app *find_app(atd_http_thread *t, h2o_req_t *req, atd_str app)
{
    const atd_http_app *a = atd__http_app(t, app);
    if (!a) atd__http_send_error(req, 404, "unknown app", "app_id", 0);
    return a;
}

int atd__route_touch(atd_http_thread *t, h2o_req_t *req, atd_event_type type, atd_str app)
{
    const atd_http_app *appc = find_app(t, req, app);
    if (!appc) return 0;
    const atd_config *cfg = t->cfg;
    atd_arena_reset(&t->arena);
    atd_buf *j = &t->json;
    j->n = 0;
    atd_buf_puts(j, type == ATD_EV_CLICK ? "{\"type\":\"click\"" : "{\"type\":\"impression\"");

    touch_ctx c = {.t = t, .json = j};
    if (req->query_at != SIZE_MAX && req->query_at < req->path.len)
        atd__query_each(req->path.base + req->query_at + 1, req->path.len - req->query_at - 1,
                        on_touch_param, &c);
    char ip[ATD_IP_TEXT_MAX];
    size_t ipn = atd__http_client_ip(req, cfg->server.trust_proxy, ip);
    if (ipn) {
        atd_json_key(j, "ip", 0);
        atd_json_str(j, ip, ipn);
    }
    h2o_iovec_t ua = atd__http_header(req, H2O_STRLIT("user-agent"));
    if (ua.base) {
        atd_json_key(j, "user_agent", 0);
        atd_json_str(j, ua.base, ua.len);
    }
    atd_buf_putc(j, '}');

    atd_event *ev = atd__ingest_events(t, 1);
    atd_event_error err;
    if (atd_event_parse_json(j->p, j->n, 0, app, NULL, &t->arena, ev, &err) != 0) {
        send_parse_error(req, &err, 0);
        return 0;
    }
    atd__ingest_stage(t, 1);

    const char *to = NULL;
    size_t ton = 0;
    if (type == ATD_EV_CLICK) {
        if (c.af_r && redirect_ok(c.af_r, c.af_r_len))
            to = c.af_r, ton = c.af_r_len;
        else if (appc->cfg->store_url &&
                 redirect_ok(appc->cfg->store_url, strlen(appc->cfg->store_url)))
            to = appc->cfg->store_url, ton = strlen(appc->cfg->store_url);
    }
    atd__ingest_answer(t, req, to ? 302 : 204, NULL, 0, to, ton);
    return 0;
}

/* --- SDK events ---------------------------------------------------------------------- */

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return 0;
    return 1;
}

/* The client address of a request, worked out once and only when an event needs it (most SDK
 * events carry their own ip). Text in the arena. */
typedef struct lazy_ip {
    h2o_req_t *req;
    atd_arena *arena;
    int trust_proxy, done;
    atd_str ip;
} lazy_ip;

static atd_str lazy_ip_get(lazy_ip *l)
{
    if (!l->done) {
        char buf[ATD_IP_TEXT_MAX];
        size_t n = atd__http_client_ip(l->req, l->trust_proxy, buf);
        l->ip = n ? (atd_str){atd_arena_strndup(l->arena, buf, n), n} : ATD_STR_NULL;
        l->done = 1;
    }
    return l->ip;
}

/* Fills what an SDK event did not carry itself: the client address and the User-Agent. */
static void fill_from_request(atd_event *ev, lazy_ip *ip, h2o_req_t *req)
{
    if (!ev->ip.p) ev->ip = lazy_ip_get(ip);
    if (!ev->user_agent.p) {
        h2o_iovec_t ua = atd__http_header(req, H2O_STRLIT("user-agent"));
        if (ua.base) ev->user_agent = (atd_str){ua.base, ua.len};
    }
}

int atd__route_sdk(atd_http_thread *t, h2o_req_t *req, atd_str app)
{
    const atd_http_app *appc = find_app(t, req, app);
    if (!appc) return 0;
    const atd_config *cfg = t->cfg;
    if (!atd__http_key_ok(req, appc, H2O_STRLIT("x-sdk-key"))) {
        atd__http_send_error(req, 401, "missing or wrong X-Sdk-Key header", "sdk_key", 0);
        return 0;
    }
    const char *body = req->entity.base;
    size_t len = req->entity.base ? req->entity.len : 0;
    if (blank(body, len) && !memchr(body ? body : "", '\n', len)) {
        atd__http_send_error(req, 400, "empty body: send one JSON object or NDJSON", "body", 0);
        return 0;
    }
    atd_arena_reset(&t->arena);
    lazy_ip ip = {.req = req, .arena = &t->arena, .trust_proxy = cfg->server.trust_proxy};
    atd_event_error err;

    /* One object (possibly pretty-printed over several lines) or NDJSON. Try the whole body as
     * one object first: that is the common SDK request and costs one parse. */
    size_t n = 0;
    atd_event *ev = atd__ingest_events(t, 1);
    int single = atd_event_parse_json(body, len, 0, app, NULL, &t->arena, ev, &err) == 0;
    if (single) {
        if (!ATD_EV_IS_APP(ev->type)) {
            atd__http_send_error(req, 400, "touch events go to /c/{app} or /i/{app}", "type", 1);
            return 0;
        }
        fill_from_request(ev, &ip, req);
        n = 1;
    } else {
        if (!memchr(body, '\n', len)) { /* one line: its error is the answer */
            send_parse_error(req, &err, 1);
            return 0;
        }
        atd_arena_reset(&t->arena);
        ip.done = 0; /* its text went with the arena */
        long line = 0;
        for (size_t i = 0; i < len;) {
            const char *s = body + i;
            const char *nl = memchr(s, '\n', len - i);
            size_t ln = nl ? (size_t)(nl - s) : len - i;
            i += ln + 1;
            line++;
            if (blank(s, ln)) continue;
            ev = atd__ingest_events(t, n + 1) + n;
            if (atd_event_parse_json(s, ln, 0, app, NULL, &t->arena, ev, &err) != 0) {
                send_parse_error(req, &err, line);
                return 0;
            }
            if (!ATD_EV_IS_APP(ev->type)) {
                atd__http_send_error(req, 400, "touch events go to /c/{app} or /i/{app}", "type",
                                     line);
                return 0;
            }
            fill_from_request(ev, &ip, req);
            n++;
        }
        if (n == 0) {
            atd__http_send_error(req, 400, "empty body: send one JSON object or NDJSON", "body",
                                 0);
            return 0;
        }
    }
    atd__ingest_stage(t, n);
    char out[48];
    int on = n == 1 ? 14 : snprintf(out, sizeof out, "{\"accepted\":%zu}", n);
    atd__ingest_answer(t, req, 200, n == 1 ? "{\"accepted\":1}" : out, (size_t)on, NULL, 0);
    return 0;
}
