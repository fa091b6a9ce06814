/* Fuzzes what the HTTP routes do to outside bytes before the event parser sees them: query
 * strings (split + percent-decoding) and the AppsFlyer S2S body translation. Invariants: the
 * decoding never grows the text; a translated S2S body is one JSON object of type inapp that the
 * event parser can judge without crashing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attribd/event.h"
#include "http/http_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_param(const char *n, size_t nl, const char *v, size_t vl, void *ud)
{
    size_t *total = ud;
    char buf[4096];
    if (vl <= sizeof buf && atd__url_decode(v, vl, buf, 1) > vl) abort();
    if (nl <= sizeof buf && atd__url_decode(n, nl, buf, 0) > nl) abort();
    *total += nl + vl;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    size_t total = 0;
    atd__query_each(s, size, on_param, &total);
    if (total > size) abort();

    atd_arena arena;
    atd_arena_init(&arena, 4096);
    atd_buf b;
    atd_buf_init(&b);
    const char *field = NULL, *msg = NULL;
    if (atd__s2s_to_json(s, size, &arena, &b, &field, &msg) == 0) {
        if (b.n < 16 || memcmp(b.p, "{\"type\":\"inapp\"", 15) || b.p[b.n - 1] != '}') abort();
        atd_event ev;
        atd_event_error err;
        if (atd_event_parse_json(b.p, b.n, 0, ATD_STR_LIT("app"), NULL, &arena, &ev, &err) ==
            0 && ev.type != ATD_EV_INAPP)
            abort();
    } else if (!field || !msg) {
        abort();
    }
    atd_buf_free(&b);
    atd_arena_free(&arena);
    return 0;
}
