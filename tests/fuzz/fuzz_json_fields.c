/* libFuzzer target: atd_json_scan_fields (a keyset and the short path for compact members)
 * against atd_json_scan_object (a slot() callback, the general loop only) on arbitrary bytes:
 * the same return code, error (code, offset, message), values seen and their spans, position
 * and count, under a roomy and a tight value limit, with each copy of scan_fields (AVX2 and
 * baseline). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attribd/common.h"
#include "attribd/json_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int cond)
{
    if (!cond) abort();
}

/* The §1 keys plus a few with bytes that need escaping in JSON. */
static const char *const names[] = {
    "type", "ts", "app_id", "ip", "user_agent", "advertising_id", "media_source", "campaign",
    "campaign_id", "adset", "adset_id", "ad", "ad_id", "site_id", "channel", "click_id",
    "is_retargeting", "click_lookback", "view_lookback", "deep_link_value", "cost_value",
    "cost_currency", "device_id", "platform", "os_version", "device_model", "app_version",
    "customer_user_id", "event_id", "event_name", "revenue", "currency", "event_value",
    "", "a\"b", "x\\y", "k\n",
};
#define NNAMES ((int)(sizeof names / sizeof names[0]))

static int by_name(const char *k, size_t n, void *arg)
{
    (void)arg;
    for (int i = 0; i < NNAMES; i++)
        if (strlen(names[i]) == n && memcmp(names[i], k, n) == 0) return i;
    return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static atd_json_keyset keys;
    static int ready;
    if (!ready) {
        must(atd_json_keyset_init(&keys, names, NNAMES) == 0);
        ready = 1;
    }
    /* an exact-size copy, so that ASan sees any read past the end */
    char *text = malloc(size ? size : 1);
    if (size) memcpy(text, data, size);
    static const int limits[] = {4096, 7};
    /* both copies of scan_fields: the AVX2 one (where the CPU has it) and the baseline */
    for (size_t l = 0; l < 2 * sizeof limits / sizeof limits[0]; l++) {
        atd_json_scan_fields_use_avx2(l & 1);
        atd_json_scanner a, b;
        atd_json_error ea, eb;
        atd_json_val va[64], vb[64];
        uint64_t sa = 0, sb = 0;
        atd_json_scan_init(&a, text, size, limits[l / 2], 8, &ea);
        atd_json_scan_init(&b, text, size, limits[l / 2], 8, &eb);
        int ra = atd_json_scan_object(&a, by_name, NULL, va, &sa);
        int rb = atd_json_scan_fields(&b, &keys, vb, &sb);
        must(ra == rb);
        if (ra != 0) {
            must(ea.code == eb.code && ea.offset == eb.offset &&
                 strcmp(ea.message, eb.message) == 0);
            continue;
        }
        must(sa == sb && a.pos == b.pos && a.values == b.values);
        for (int f = 0; f < NNAMES; f++)
            if (sa >> f & 1)
                must(va[f].type == vb[f].type && va[f].escaped == vb[f].escaped &&
                     va[f].start == vb[f].start && va[f].end == vb[f].end);
    }
    free(text);
    return 0;
}
