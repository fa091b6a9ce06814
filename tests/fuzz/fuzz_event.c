/* libFuzzer target: atd_event_parse_json on arbitrary bytes. Beyond "no crash", every accepted
 * event must satisfy the §1 invariants and survive the record codec unchanged, and the fast
 * path for flat objects must give what the general path gives. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attribd/config.h"
#include "attribd/event.h"
#include "attribd/ip.h"
#include "event_compare.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int cond)
{
    if (!cond) abort();
}

static void check_str(atd_str s)
{
    if (s.p) must(s.p[s.n] == 0 && memchr(s.p, 0, s.n) == NULL);
}

static void check_event(const atd_event *ev, atd_arena *arena)
{
    must(ev->type >= ATD_EV_CLICK && ev->type <= ATD_EV_INAPP);
    must(ev->ts >= 0 && ev->ts <= ((int64_t)1 << 53) - 1);
    must(ev->app_id.p && ev->app_id.n > 0);
    if (ATD_EV_IS_TOUCH(ev->type)) must(ev->media_source.p && ev->media_source.n > 0);
    if (ATD_EV_IS_APP(ev->type)) must(ev->device_id.p && ev->device_id.n > 0);
    if (ev->type == ATD_EV_INAPP) must(ev->event_name.p && ev->event_name.n > 0);
    must(ev->is_retargeting == 0 || ev->is_retargeting == 1);
    if (ev->has_revenue) must(isfinite(ev->revenue));
    if (ev->platform.p) must(atd_str_eq_c(ev->platform, "android") || atd_str_eq_c(ev->platform, "ios"));
    if (ev->ip.p) {
        /* canonical: formatting the parsed address gives the same text */
        atd_ip ip;
        char txt[ATD_IP_TEXT_MAX];
        must(atd_ip_parse(ev->ip.p, ev->ip.n, &ip) == 0);
        /* the parsed dotted quad the engine reuses is the address of the text */
        if (ev->ip4_set) must(ip.family == 4 && memcmp(ev->ip4, ip.addr, 4) == 0);
        size_t n = atd_ip_format(&ip, txt);
        must(n == ev->ip.n && memcmp(txt, ev->ip.p, n) == 0);
    }
    if (!ev->ip.p) must(!ev->ip4_set);
    if (ev->advertising_id.p) {
        int lat = 1;
        must(ev->advertising_id.n > 0);
        for (size_t i = 0; i < ev->advertising_id.n; i++) {
            char c = ev->advertising_id.p[i];
            must(!(c >= 'A' && c <= 'Z'));
            if (c != '0' && c != '-') lat = 0;
        }
        must(!lat);
        must(ev->advertising_id.p[0] != ' ' && ev->advertising_id.p[0] != '\t');
        char last = ev->advertising_id.p[ev->advertising_id.n - 1];
        must(last != ' ' && last != '\t');
    }
    check_str(ev->app_id); check_str(ev->ip); check_str(ev->user_agent);
    check_str(ev->advertising_id); check_str(ev->media_source); check_str(ev->campaign);
    check_str(ev->device_id); check_str(ev->event_name); check_str(ev->currency);
    check_str(ev->platform); check_str(ev->os_version); check_str(ev->click_lookback);
    if (ev->event_value.p) must(ev->event_value.p[0] == '{' && ev->event_value.p[ev->event_value.n - 1] == '}');

    /* the record codec keeps everything */
    size_t cap = atd_event_encoded_size(ev);
    uint8_t *buf = malloc(cap ? cap : 1);
    size_t n = atd_event_encode(ev, buf);
    must(n <= cap);
    atd_event back;
    must(atd_event_decode(buf, n, arena, &back) == 0);
    must(back.type == ev->type && back.ts == ev->ts && back.is_retargeting == ev->is_retargeting);
    must(back.has_revenue == ev->has_revenue);
    if (ev->has_revenue) must(memcmp(&back.revenue, &ev->revenue, sizeof(double)) == 0);
    must(atd_str_eq(back.app_id, ev->app_id) && atd_str_eq(back.ip, ev->ip) &&
         atd_str_eq(back.advertising_id, ev->advertising_id) &&
         atd_str_eq(back.media_source, ev->media_source) &&
         atd_str_eq(back.device_id, ev->device_id) && atd_str_eq(back.event_value, ev->event_value) &&
         atd_str_eq(back.event_name, ev->event_name) && atd_str_eq(back.campaign, ev->campaign));
    free(buf);
    char key[64];
    must(atd_event_key(ev, key, sizeof key) <= sizeof key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static atd_app_config apps[2];
    static atd_config cfg;
    apps[0].app_id = "a";
    apps[1].app_id = "com.example.game";
    cfg.apps = apps;
    cfg.n_apps = 2;

    atd_arena arena;
    atd_arena_init(&arena, 4096);
    atd_event ev;
    atd_event_error err;
    const char *json = (const char *)data;
    /* import/replay, HTTP ingest with an URL app, and without a config */
    struct { unsigned flags; atd_str path; const atd_config *cfg; } modes[] = {
        {ATD_PARSE_REQUIRE_TS, ATD_STR_NULL, &cfg},
        {0, ATD_STR_LIT("a"), &cfg},
        {0, ATD_STR_NULL, NULL},
    };
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        int rc = atd_event_parse_json(json, size, modes[m].flags, modes[m].path, modes[m].cfg,
                                      &arena, &ev, &err);
        /* the fast path (flat, compact objects) and the general one give the same answer */
        atd_event gev;
        atd_event_error gerr;
        atd_event_parse_use_flat(0);
        int grc = atd_event_parse_json(json, size, modes[m].flags, modes[m].path, modes[m].cfg,
                                       &arena, &gev, &gerr);
        atd_event_parse_use_flat(1);
        must(grc == rc);
        must(rc == 0 ? event_diff(&ev, &gev) == NULL : event_error_same(&err, &gerr));
        if (rc == 0) {
            check_event(&ev, &arena);
            if (modes[m].path.p) must(atd_str_eq_c(ev.app_id, "a"));
        } else {
            must(rc == ATD_EINVAL);
            must(err.field != NULL && err.message[0] != 0);
            must(err.http_status == 400 || err.http_status == 404 || err.http_status == 413);
            must(memchr(err.message, 0, sizeof err.message) != NULL);
        }
        atd_arena_reset(&arena);
    }
    atd_arena_free(&arena);
    return 0;
}
