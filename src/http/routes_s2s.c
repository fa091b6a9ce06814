/* POST /inappevent/{app}: AppsFlyer-compatible server-to-server in-app events. The AppsFlyer
 * body is translated into the JSON object of an `inapp` event, which then goes through
 * atd_event_parse_json like every other event (one source of truth for validation).
 *
 *   appsflyer_id → device_id        eventName → event_name      eventCurrency → currency
 *   eventValue (object, or a string holding one) → event_value
 *   eventValue.af_revenue (number, or a string that is a finite number) → revenue
 *   advertising_id (else idfa) → advertising_id, ip → ip, customer_user_id → customer_user_id
 *   eventTime: accepted and ignored (ts is the server's receive time, like every HTTP event).
 *
 * The caller is the advertiser's server, so its address and User-Agent say nothing about the
 * device: unlike SDK events, ip and user_agent are never filled from the request. */
#include <math.h>
#include <stdlib.h>

#define JSMN_STATIC
#include <jsmn.h>

#include "http/http_internal.h"

/* Index of the token after token i and everything inside it. */
static int tok_skip(const jsmntok_t *t, int n, int i)
{
    int end = t[i].end;
    for (i++; i < n && t[i].start < end; i++) {}
    return i;
}

static int tok_is(const char *js, const jsmntok_t *t, const char *s)
{
    size_t n = strlen(s);
    return t->type == JSMN_STRING && (size_t)(t->end - t->start) == n &&
           !memcmp(js + t->start, s, n);
}

/* The value token of key in the object at index obj, or -1. */
static int obj_get(const char *js, const jsmntok_t *t, int n, int obj, const char *key)
{
    if (t[obj].type != JSMN_OBJECT) return -1;
    int i = obj + 1;
    for (int m = 0; m < t[obj].size && i + 1 < n; m++) {
        if (tok_is(js, &t[i], key)) return i + 1;
        i = tok_skip(t, n, i + 1);
    }
    return -1;
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

/* JSON-unescapes the content of a string token into out (room for n bytes). Returns the
 * length, or -1 on a bad escape. */
static long unescape(const char *s, size_t n, char *out)
{
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') {
            out[j++] = s[i];
            continue;
        }
        if (++i >= n) return -1;
        switch (s[i]) {
        case '"': out[j++] = '"'; break;
        case '\\': out[j++] = '\\'; break;
        case '/': out[j++] = '/'; break;
        case 'b': out[j++] = '\b'; break;
        case 'f': out[j++] = '\f'; break;
        case 'n': out[j++] = '\n'; break;
        case 'r': out[j++] = '\r'; break;
        case 't': out[j++] = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (i + 4 >= n || hex4(s + i + 1, &cp)) return -1;
            i += 4;
            if (cp >= 0xd800 && cp < 0xdc00) {
                if (i + 6 >= n || s[i + 1] != '\\' || s[i + 2] != 'u' ||
                    hex4(s + i + 3, &lo) || lo < 0xdc00 || lo > 0xdfff)
                    return -1;
                i += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            } else if (cp >= 0xdc00 && cp < 0xe000) {
                return -1;
            }
            /* UTF-8: never longer than the 6+ escape bytes it replaces */
            if (cp < 0x80) {
                out[j++] = (char)cp;
            } else if (cp < 0x800) {
                out[j++] = (char)(0xc0 | cp >> 6);
                out[j++] = (char)(0x80 | (cp & 0x3f));
            } else if (cp < 0x10000) {
                out[j++] = (char)(0xe0 | cp >> 12);
                out[j++] = (char)(0x80 | ((cp >> 6) & 0x3f));
                out[j++] = (char)(0x80 | (cp & 0x3f));
            } else {
                out[j++] = (char)(0xf0 | cp >> 18);
                out[j++] = (char)(0x80 | ((cp >> 12) & 0x3f));
                out[j++] = (char)(0x80 | ((cp >> 6) & 0x3f));
                out[j++] = (char)(0x80 | (cp & 0x3f));
            }
            break;
        }
        default: return -1;
        }
    }
    return (long)j;
}

/* Parses js into tokens allocated from the arena; returns the count or a negative jsmn error. */
static int tokenize(atd_arena *a, const char *js, size_t len, jsmntok_t **out)
{
    jsmn_parser p;
    jsmn_init(&p);
    int n = jsmn_parse(&p, js, len, NULL, 0);
    if (n <= 0) return n < 0 ? n : JSMN_ERROR_INVAL;
    *out = atd_arena_alloc(a, (size_t)n * sizeof **out);
    jsmn_init(&p);
    return jsmn_parse(&p, js, len, *out, (unsigned)n);
}

/* Copies the token as JSON text (strings with their quotes, still escaped). */
static void put_raw(atd_buf *b, const char *js, const jsmntok_t *t)
{
    if (t->type == JSMN_STRING) atd_buf_putc(b, '"');
    atd_buf_put(b, js + t->start, (size_t)(t->end - t->start));
    if (t->type == JSMN_STRING) atd_buf_putc(b, '"');
}

static int finite_number(const char *s, size_t n, double *out)
{
    char buf[64];
    while (n && (*s == ' ' || *s == '\t')) s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    if (n == 0 || n >= sizeof buf) return 0;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *end;
    double v = strtod(buf, &end);
    if (*end || !isfinite(v)) return 0;
    /* strtod also takes hex and "inf"/"nan" spellings: only plain decimals count */
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789+-.eE", buf[i])) return 0;
    *out = v;
    return 1;
}

/* Event field names → the AppsFlyer names the client sent, for error messages. */
static const char *af_field(const char *field)
{
    if (!field) return "body";
    if (!strcmp(field, "device_id")) return "appsflyer_id";
    if (!strcmp(field, "event_name")) return "eventName";
    if (!strcmp(field, "event_value") || !strcmp(field, "revenue")) return "eventValue";
    if (!strcmp(field, "currency")) return "eventCurrency";
    return field;
}

int atd__s2s_to_json(const char *js, size_t len, atd_arena *arena, atd_buf *b,
                     const char **err_field, const char **err_msg)
{
#define FAIL(msg, field) return (*err_msg = (msg), *err_field = (field), ATD_EINVAL)
    static const char not_object[] = "eventValue must be a JSON object (or a string holding one)";
    jsmntok_t *tk = NULL;
    int n = tokenize(arena, js, len, &tk);
    if (n <= 0 || tk[0].type != JSMN_OBJECT) FAIL("the body is not a JSON object", "body");

    b->n = 0;
    atd_buf_puts(b, "{\"type\":\"inapp\"");
    static const struct {
        const char *af, *field;
    } plain[] = {{"appsflyer_id", "device_id"},      {"eventName", "event_name"},
                 {"eventCurrency", "currency"},       {"ip", "ip"},
                 {"customer_user_id", "customer_user_id"}};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        int v = obj_get(js, tk, n, 0, plain[i].af);
        if (v < 0) continue;
        atd_json_key(b, plain[i].field, 0);
        put_raw(b, js, &tk[v]);
    }
    int v = obj_get(js, tk, n, 0, "advertising_id");
    if (v < 0) v = obj_get(js, tk, n, 0, "idfa");
    if (v >= 0) {
        atd_json_key(b, "advertising_id", 0);
        put_raw(b, js, &tk[v]);
    }

    v = obj_get(js, tk, n, 0, "eventValue");
    if (v >= 0 && tk[v].type != JSMN_PRIMITIVE) {
        /* the object's text: as given, or unescaped from the string that holds it */
        const char *ev = js + tk[v].start;
        long evn = tk[v].end - tk[v].start;
        if (tk[v].type == JSMN_STRING) {
            char *u = atd_arena_alloc(arena, (size_t)evn + 1);
            evn = unescape(ev, (size_t)evn, u);
            if (evn < 0) FAIL("eventValue: bad escape", "eventValue");
            ev = u;
        }
        size_t lead = 0;
        while ((long)lead < evn && strchr(" \t\r\n", ev[lead])) lead++;
        if ((long)lead < evn) { /* "" means no value */
            jsmntok_t *vt = NULL;
            int vn = tokenize(arena, ev, (size_t)evn, &vt);
            if (vn <= 0 || vt[0].type != JSMN_OBJECT || tok_skip(vt, vn, 0) != vn)
                FAIL(not_object, "eventValue");
            for (long k = vt[0].end; k < evn; k++)
                if (!strchr(" \t\r\n", ev[k])) FAIL("eventValue: text after the object", "eventValue");
            atd_json_key(b, "event_value", 0);
            atd_buf_put(b, ev + vt[0].start, (size_t)(vt[0].end - vt[0].start));
            int r = obj_get(ev, vt, vn, 0, "af_revenue");
            double rev;
            if (r >= 0 && (vt[r].type == JSMN_PRIMITIVE || vt[r].type == JSMN_STRING)) {
                const char *rs = ev + vt[r].start;
                size_t rn = (size_t)(vt[r].end - vt[r].start);
                if (finite_number(rs, rn, &rev)) {
                    atd_json_key(b, "revenue", 0);
                    atd_json_double(b, rev);
                }
            }
        }
    } else if (v >= 0 && !(tk[v].end - tk[v].start == 4 && !memcmp(js + tk[v].start, "null", 4))) {
        FAIL(not_object, "eventValue");
    }
    atd_buf_putc(b, '}');
    return 0;
#undef FAIL
}

int atd__route_s2s(atd_http_thread *t, h2o_req_t *req, atd_str app)
{
    const atd_http_app *appc = atd__http_app(t, app);
    if (!appc) {
        atd__http_send_error(req, 404, "unknown app", "app_id", 0);
        return 0;
    }
    if (!atd__http_key_ok(req, appc, H2O_STRLIT("authentication"))) {
        atd__http_send_error(req, 401, "missing or wrong authentication header",
                             "authentication", 0);
        return 0;
    }
    atd_arena_reset(&t->arena);
    const char *field, *msg;
    if (atd__s2s_to_json(req->entity.base ? req->entity.base : "",
                         req->entity.base ? req->entity.len : 0, &t->arena, &t->json, &field,
                         &msg) != 0) {
        atd__http_send_error(req, 400, msg, field, 0);
        return 0;
    }
    atd_event *evp = atd__ingest_events(t, 1);
    atd_event_error err;
    /* cfg NULL: the app is the URL's, found above (routes_ingest.c, find_app) */
    if (atd_event_parse_json(t->json.p, t->json.n, 0, app, NULL, &t->arena, evp, &err) != 0) {
        atd__http_send_error(req, err.http_status ? err.http_status : 400, err.message,
                             af_field(err.field), 0);
        return 0;
    }
    atd__ingest_stage(t, 1);
    static const char ok[] = "{\"accepted\":1}";
    atd__ingest_answer(t, req, 200, ok, sizeof ok - 1, NULL, 0);
    return 0;
}
