/* The per-thread app index of the HTTP routes (src/http/apps.c) against atd_config_app, the
 * short-string compare, and the key check on real h2o header lists. */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "http/http_internal.h"

#define N_APPS 300

static char ids[N_APPS][64];
static char keys[N_APPS][64];

/* ids of every length from 1 to 40, many sharing prefixes and suffixes; some repeated (the
 * first wins), some without a key */
static void make_config(atd_config *cfg, atd_app_config *apps)
{
    memset(cfg, 0, sizeof *cfg);
    memset(apps, 0, N_APPS * sizeof *apps);
    for (int i = 0; i < N_APPS; i++) {
        int len = 1 + i % 40;
        if (i % 50 == 49) {
            memcpy(ids[i], ids[i - 7], sizeof ids[i]); /* a repeat */
        } else {
            snprintf(ids[i], sizeof ids[i], "com.example.%d.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", i);
            ids[i][len] = 0;
            if (len < 12) snprintf(ids[i], sizeof ids[i], "%c%d", 'a' + i % 26, i), ids[i][len] = 0;
        }
        snprintf(keys[i], sizeof keys[i], "key-%d-%.*s", i, i % 30, "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkk");
        apps[i].app_id = ids[i];
        apps[i].sdk_key = i % 3 == 0 ? NULL : keys[i];
    }
    cfg->apps = apps;
    cfg->n_apps = N_APPS;
}

/* The index of the first n_apps apps answers every id as atd_config_app does (small configs
 * are scanned, larger ones hashed). */
static void check_index(int n_apps)
{
    static atd_app_config apps[N_APPS];
    atd_config cfg;
    make_config(&cfg, apps);
    cfg.n_apps = (size_t)n_apps;
    atd_http_apps ix = {0};
    atd__http_apps_build(&ix, &cfg);
    int all_ok = 1;
    for (int i = 0; i < N_APPS; i++) {
        atd_str id = {ids[i], strlen(ids[i])};
        const atd_http_app *a = atd__http_app_find(&ix, id);
        const atd_app_config *want = atd_config_app(&cfg, id.p, id.n);
        all_ok &= (a ? a->cfg : NULL) == want;
        if (a) {
            all_ok &= a->id_len == id.n;
            all_ok &= (a->sdk_key == NULL) == (want->sdk_key == NULL);
            if (a->sdk_key) all_ok &= a->sdk_key_len == strlen(want->sdk_key);
        }
        /* near misses: one byte changed, one byte shorter, one longer */
        char buf[80];
        memcpy(buf, id.p, id.n);
        buf[id.n - 1] ^= 1;
        all_ok &= (atd__http_app_find(&ix, (atd_str){buf, id.n}) == NULL) ==
                  (atd_config_app(&cfg, buf, id.n) == NULL);
        buf[id.n - 1] ^= 1;
        buf[id.n] = 'z';
        all_ok &= (atd__http_app_find(&ix, (atd_str){buf, id.n + 1}) == NULL) ==
                  (atd_config_app(&cfg, buf, id.n + 1) == NULL);
        all_ok &= (atd__http_app_find(&ix, (atd_str){buf, id.n - 1}) == NULL) ==
                  (atd_config_app(&cfg, buf, id.n - 1) == NULL);
    }
    CHECK(all_ok);
    CHECK(atd__http_app_find(&ix, ATD_STR_LIT("no.such.app")) == NULL);
    CHECK(atd__http_app_find(&ix, ATD_STR_NULL) == NULL);
    atd__http_apps_free(&ix);
}

static void test_index_matches_config(void)
{
    static const int sizes[] = {1, 2, 7, 8, 9, 10, 60, N_APPS};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) check_index(sizes[i]);
    static atd_app_config apps[N_APPS];
    atd_config cfg;
    make_config(&cfg, apps);
    atd_http_apps ix = {0};
    /* no config, no apps: nothing found */
    atd__http_apps_build(&ix, NULL);
    CHECK(atd__http_app_find(&ix, ATD_STR_LIT("a1")) == NULL);
    cfg.n_apps = 0;
    atd__http_apps_build(&ix, &cfg);
    CHECK(atd__http_app_find(&ix, ATD_STR_LIT("a1")) == NULL);
    atd__http_apps_free(&ix);
}

static void test_bytes_eq(void)
{
    char a[64], b[64];
    int all_ok = 1;
    for (size_t n = 0; n <= 40; n++) {
        for (size_t i = 0; i < n; i++) a[i] = b[i] = (char)('A' + (i * 7) % 50);
        all_ok &= atd__bytes_eq(a, b, n) == 1;
        for (size_t k = 0; k < n; k++) { /* a difference at every place */
            b[k] ^= 0x20;
            all_ok &= atd__bytes_eq(a, b, n) == 0;
            b[k] ^= 0x20;
        }
    }
    CHECK(all_ok);
}

/* a request with these headers (names lower-cased, as h2o stores them) */
static void add(h2o_req_t *req, const char *name, const char *value)
{
    h2o_add_header_by_str(&req->pool, &req->headers, name, strlen(name), 1, NULL, value,
                          strlen(value));
}

static void test_key_ok(void)
{
    atd_http_app keyed = {.sdk_key = "bench-key", .sdk_key_len = 9};
    atd_http_app open = {.sdk_key = NULL};
    h2o_req_t req;
    memset(&req, 0, sizeof req);
    h2o_mem_init_pool(&req.pool);
    CHECK(atd__http_key_ok(&req, &open, H2O_STRLIT("x-sdk-key")));
    CHECK(!atd__http_key_ok(&req, &keyed, H2O_STRLIT("x-sdk-key"))); /* no header */
    add(&req, "host", "x");
    add(&req, "content-type", "application/json");
    add(&req, "x-sdk-kez", "bench-key");
    CHECK(!atd__http_key_ok(&req, &keyed, H2O_STRLIT("x-sdk-key")));
    add(&req, "x-sdk-key", "bench-kez");
    CHECK(!atd__http_key_ok(&req, &keyed, H2O_STRLIT("x-sdk-key")));
    /* the first header of the name counts, as h2o_find_header_by_str finds it */
    add(&req, "x-sdk-key", "bench-key");
    CHECK(!atd__http_key_ok(&req, &keyed, H2O_STRLIT("x-sdk-key")));
    h2o_mem_clear_pool(&req.pool);

    memset(&req, 0, sizeof req);
    h2o_mem_init_pool(&req.pool);
    add(&req, "x-sdk-key", "bench-key");
    CHECK(atd__http_key_ok(&req, &keyed, H2O_STRLIT("x-sdk-key")));
    CHECK(!atd__http_key_ok(&req, &keyed, H2O_STRLIT("authentication")));
    add(&req, "authentication", "bench-ke");
    CHECK(!atd__http_key_ok(&req, &keyed, H2O_STRLIT("authentication"))); /* a prefix */
    h2o_mem_clear_pool(&req.pool);

    /* a token header name (h2o keeps the token's text) is found by its text too */
    memset(&req, 0, sizeof req);
    h2o_mem_init_pool(&req.pool);
    add(&req, "authorization", "bench-key");
    CHECK(atd__http_key_ok(&req, &keyed, H2O_STRLIT("authorization")));
    h2o_mem_clear_pool(&req.pool);
}

int main(void)
{
    RUN(test_index_matches_config);
    RUN(test_bytes_eq);
    RUN(test_key_ok);
    return atd_test_done();
}
