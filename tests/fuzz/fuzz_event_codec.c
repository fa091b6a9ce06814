/* libFuzzer target: atd_event_decode on arbitrary bytes. It must never crash; a record it
 * accepts must re-encode to bytes that decode to the same event, and protobuf-c's generated
 * unpack must read the same values from it (a differential check of the hand-written codec). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attribd/event.h"
#include "attribd/v1/events.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int cond)
{
    if (!cond) abort();
}

/* protobuf-c's char * cannot hold a NUL: compare up to the first one. */
static void same_str(const char *pc, atd_str s)
{
    must((pc == NULL) == (s.p == NULL));
    if (!pc) return;
    size_t n = strnlen(s.p, s.n);
    must(strlen(pc) == n && memcmp(pc, s.p, n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    atd_arena arena;
    atd_arena_init(&arena, 4096);
    atd_event ev, again;
    if (atd_event_decode(data, size, &arena, &ev) == 0) {
        size_t cap = atd_event_encoded_size(&ev);
        uint8_t *buf = malloc(cap ? cap : 1);
        size_t n = atd_event_encode(&ev, buf);
        must(n <= cap);
        must(atd_event_decode(buf, n, &arena, &again) == 0);
        must(again.type == ev.type && again.ts == ev.ts && again.has_revenue == ev.has_revenue &&
             again.is_retargeting == ev.is_retargeting);
        must(atd_str_eq(again.app_id, ev.app_id) && atd_str_eq(again.device_id, ev.device_id) &&
             atd_str_eq(again.event_value, ev.event_value) && atd_str_eq(again.ip, ev.ip));
        free(buf);

        Attribd__V1__Event *m = attribd__v1__event__unpack(NULL, size, data);
        must(m != NULL);
        must(m->has_type && (int)m->type == (int)ev.type);
        must(m->has_ts ? m->ts == ev.ts : ev.ts == 0);
        must((m->has_is_retargeting && m->is_retargeting) == (ev.is_retargeting != 0));
        must(m->has_revenue == ev.has_revenue);
        if (m->has_revenue) must(memcmp(&m->revenue, &ev.revenue, sizeof(double)) == 0);
        same_str(m->app_id, ev.app_id);
        same_str(m->ip, ev.ip);
        same_str(m->advertising_id, ev.advertising_id);
        same_str(m->media_source, ev.media_source);
        same_str(m->click_id, ev.click_id);
        same_str(m->device_id, ev.device_id);
        same_str(m->event_name, ev.event_name);
        same_str(m->event_value, ev.event_value);
        attribd__v1__event__free_unpacked(m, NULL);
    }
    atd_arena_free(&arena);
    return 0;
}
