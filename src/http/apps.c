/* The apps of a thread's config, indexed for the per-request lookup: the app of the URL and its
 * key check. atd_config_app scans the apps with a strlen each, and the key check took another
 * strlen per request; this index is built once per config (when the thread takes a new one)
 * and keeps the lengths. A few apps are scanned (length first, then an inline compare); more
 * are found by hash, so the cost per request does not grow with the number of apps. */
#include <stdlib.h>

#include "core/hash.h"
#include "http/http_internal.h"

/* Up to this many apps a scan over the kept lengths is cheaper than hashing the id (~15
 * instructions for one app vs ~80 for the hash and probe). */
#define LINEAR_MAX 8

__attribute__((noinline)) static const atd_http_app *find_hashed(const atd_http_apps *ix,
                                                                 atd_str id)
{
    uint64_t h = atd_hash_bytes(id.p, id.n);
    for (size_t s = h & ix->mask;; s = (s + 1) & ix->mask) {
        uint32_t k = ix->slots[s];
        if (!k) return NULL;
        const atd_http_app *e = &ix->apps[k - 1];
        if (e->hash == h && e->id_len == id.n && atd__bytes_eq(e->id, id.p, id.n)) return e;
    }
}

const atd_http_app *atd__http_app_find(const atd_http_apps *ix, atd_str id)
{
    if (!id.p) return NULL;
    if (ix->n > LINEAR_MAX) return find_hashed(ix, id);
    for (const atd_http_app *e = ix->apps, *end = e + ix->n; e < end; e++)
        if (e->id_len == id.n && atd__bytes_eq(e->id, id.p, id.n)) return e;
    return NULL;
}

void atd__http_apps_free(atd_http_apps *ix)
{
    free(ix->apps);
    free(ix->slots);
    memset(ix, 0, sizeof *ix);
}

void atd__http_apps_build(atd_http_apps *ix, const atd_config *cfg)
{
    atd__http_apps_free(ix);
    size_t n = cfg ? cfg->n_apps : 0;
    if (n == 0) return;
    size_t cap = 8;
    while (cap < 2 * n) cap *= 2;
    ix->apps = calloc(n, sizeof *ix->apps);
    ix->slots = calloc(cap, sizeof *ix->slots);
    if (!ix->apps || !ix->slots) abort(); /* at config load: nothing sensible to do without */
    ix->mask = cap - 1;
    for (size_t i = 0; i < n; i++) {
        const atd_app_config *a = &cfg->apps[i];
        size_t len = strlen(a->app_id);
        /* a repeated app id: the first one wins, as in atd_config_app */
        if (ix->n && find_hashed(ix, (atd_str){a->app_id, len})) continue;
        atd_http_app *e = &ix->apps[ix->n];
        *e = (atd_http_app){.cfg = a,
                            .id = a->app_id,
                            .id_len = len,
                            .hash = atd_hash_bytes(a->app_id, len),
                            .sdk_key = a->sdk_key,
                            .sdk_key_len = a->sdk_key ? strlen(a->sdk_key) : 0};
        size_t s = e->hash & ix->mask;
        while (ix->slots[s]) s = (s + 1) & ix->mask;
        ix->slots[s] = (uint32_t)++ix->n;
    }
}
