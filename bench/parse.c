/* bench_parse: atd_event_parse_json on a realistic mix of NDJSON lines, in a loop.
 *
 * The mix is built in memory (no file, no I/O in the loop): per 20 events, 8 clicks and 2
 * impressions with a user agent (most with an advertising id), 2 installs, 4 sessions and
 * 4 in-app events (half with revenue, some with an event_value object, one with escapes),
 * the shapes `attribd gen` writes. Each line is parsed as `attribd replay` does
 * (ATD_PARSE_REQUIRE_TS, no path app, a config with the app), with one arena reset per event.
 *
 *   bench_parse [--events N] [--seconds S] [--kind all|click|install|session|inapp]
 * prints events/s, ns/event and bytes/event (--kind: only the lines of that type). The machine is shared, so wall-clock numbers are
 * noisy; for a stable count use callgrind on the parser alone:
 *   valgrind --tool=callgrind --toggle-collect=atd_event_parse_json \
 *            --callgrind-out-file=/dev/null ./build/bench/bench_parse --events 200000
 * and divide the "Collected" Ir by the number of events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attribd/config.h"
#include "attribd/event.h"

#define DISTINCT 2000 /* distinct lines, cycled: more than the caches of the branch predictor */

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static unsigned below(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static const char *const ua[] = {
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_1 like Mac OS X) AppleWebKit/605.1.15",
    "Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A) Chrome/116.0 Mobile",
    "Mozilla/5.0 (Linux; Android 12; SM-G991B Build/TQ3A) Chrome/116.0 Mobile",
};

/* The type of line i of the mix. */
static const char *kind_of(unsigned i)
{
    unsigned k = i % 20;
    return k < 10 ? (k < 8 ? "click" : "impression") : k < 12 ? "install" : k < 16 ? "session" : "inapp";
}

/* Writes line i of the mix into out (cap bytes); returns its length. */
static int make_line(char *out, size_t cap, unsigned i)
{
    unsigned long long ts = 1793534400000ull + i * 50ull;
    unsigned dev = 100000 + below(900000);
    char adid[48], ip[32];
    snprintf(adid, sizeof adid, "%08x-%04x-4%03x-a%03x-%012x", dev * 2654435761u, below(65536),
             below(4096), below(4096), dev);
    snprintf(ip, sizeof ip, "%u.%u.%u.%u", 11 + below(200), below(256), below(256), 1 + below(254));
    unsigned k = i % 20;
    int with_adid = below(5) != 0;
    if (k < 10) /* touches: clicks and impressions, 80% with the advertising id */
        return snprintf(out, cap,
                        "{\"type\":\"%s\",\"ts\":%llu,\"app_id\":\"com.example.game\","
                        "\"media_source\":\"network%c\",\"campaign\":\"c%u\",\"campaign_id\":\"%u\","
                        "\"site_id\":\"s%u\",\"click_id\":\"ck%u-%u\"%s%s%s,\"ip\":\"%s\","
                        "\"user_agent\":\"%s\"}",
                        k < 8 ? "click" : "impression", ts, 'A' + below(8), below(50), below(1000),
                        below(200), dev, k, with_adid ? ",\"advertising_id\":\"" : "",
                        with_adid ? adid : "", with_adid ? "\"" : "", ip, ua[below(3)]);
    if (k < 12) /* installs */
        return snprintf(out, cap,
                        "{\"type\":\"install\",\"ts\":%llu,\"app_id\":\"com.example.game\","
                        "\"device_id\":\"dev-%u\",\"advertising_id\":\"%s\",\"ip\":\"%s\","
                        "\"platform\":\"%s\",\"os_version\":\"16.1\",\"device_model\":\"iPhone14,2\","
                        "\"app_version\":\"3.1\",\"user_agent\":\"%s\"}",
                        ts, dev, adid, ip, k == 10 ? "ios" : "android", ua[below(3)]);
    if (k < 16) /* sessions */
        return snprintf(out, cap,
                        "{\"type\":\"session\",\"ts\":%llu,\"app_id\":\"com.example.game\","
                        "\"device_id\":\"dev-%u\",\"advertising_id\":\"%s\"}",
                        ts, dev, adid);
    /* in-app events: revenue, an event_value object, one with escapes */
    if (k == 16)
        return snprintf(out, cap,
                        "{\"type\":\"inapp\",\"ts\":%llu,\"app_id\":\"com.example.game\","
                        "\"device_id\":\"dev-%u\",\"event_name\":\"purchase\",\"revenue\":%u.99,"
                        "\"currency\":\"USD\",\"event_value\":{\"sku\":\"gems_%u\",\"qty\":%u,"
                        "\"tags\":[\"promo\",\"first\"],\"gift\":false}}",
                        ts, dev, below(20), below(10), 1 + below(5));
    if (k == 17)
        return snprintf(out, cap,
                        "{\"type\":\"inapp\",\"ts\":%llu,\"app_id\":\"com.example.game\","
                        "\"device_id\":\"dev-%u\",\"event_name\":\"level_up\","
                        "\"event_value\":{\"level\":%u,\"score\":%u.5}}",
                        ts, dev, below(100), below(100000));
    if (k == 18)
        return snprintf(out, cap,
                        "{\"type\":\"inapp\",\"ts\":%llu,\"app_id\":\"com.example.game\","
                        "\"device_id\":\"dev-%u\",\"event_name\":\"caf\\u00e9 \\\"visit\\\"\","
                        "\"customer_user_id\":\"user\\/%u\"}",
                        ts, dev, below(1000));
    return snprintf(out, cap,
                    "{\"type\":\"inapp\",\"ts\":%llu,\"app_id\":\"com.example.game\","
                    "\"device_id\":\"dev-%u\",\"event_name\":\"purchase\",\"revenue\":%u.49,"
                    "\"currency\":\"EUR\"}",
                    ts, dev, below(50));
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long long events = 0;
    double seconds = 3;
    const char *kind = "all";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--events")) events = atoll(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--kind")) kind = argv[i + 1];
        else {
            fprintf(stderr, "usage: bench_parse [--events N] [--seconds S] [--kind K]\n");
            return 2;
        }
    }

    static char text[DISTINCT * 640];
    static size_t off[DISTINCT], len[DISTINCT];
    size_t used = 0, bytes = 0;
    unsigned lines = 0;
    for (unsigned i = 0; lines < DISTINCT; i++) {
        char line[640];
        int n = make_line(line, sizeof line, i);
        if (n <= 0 || (size_t)n >= sizeof line) return 1;
        if (strcmp(kind, "all") != 0 && strcmp(kind, kind_of(i)) != 0) {
            if (i > 100 * DISTINCT) {
                fprintf(stderr, "bench_parse: no lines of kind '%s'\n", kind);
                return 2;
            }
            continue;
        }
        memcpy(text + used, line, (size_t)n);
        off[lines] = used;
        len[lines] = (size_t)n;
        used += (size_t)n;
        bytes += (size_t)n;
        lines++;
    }

    atd_app_config app = {.app_id = (char *)"com.example.game"};
    atd_config cfg = {.apps = &app, .n_apps = 1};
    atd_arena arena;
    atd_arena_init(&arena, 16384);
    atd_event ev;
    atd_event_error err;
    /* every line must be accepted, or the benchmark measures the error path */
    for (unsigned i = 0; i < DISTINCT; i++) {
        if (atd_event_parse_json(text + off[i], len[i], ATD_PARSE_REQUIRE_TS, ATD_STR_NULL, &cfg,
                                 &arena, &ev, &err) != 0) {
            fprintf(stderr, "bench_parse: line %u refused: %s: %s\n%.*s\n", i, err.field,
                    err.message, (int)len[i], text + off[i]);
            return 1;
        }
        atd_arena_reset(&arena);
    }

    long long done = 0;
    unsigned long long sink = 0;
    double t0 = now_s(), t1 = t0;
    for (;;) {
        /* check the clock every 4096 events */
        for (int b = 0; b < 4096; b++) {
            unsigned i = (unsigned)(done % DISTINCT);
            atd_event_parse_json(text + off[i], len[i], ATD_PARSE_REQUIRE_TS, ATD_STR_NULL, &cfg,
                                 &arena, &ev, &err);
            sink += (unsigned long long)ev.ts + ev.app_id.n;
            atd_arena_reset(&arena);
            if (++done == events) break;
        }
        t1 = now_s();
        if (done == events || (events <= 0 && t1 - t0 >= seconds)) break;
    }
    double el = t1 - t0;
    printf("bench_parse: %s: %lld events in %.3f s: %.0f events/s, %.0f ns/event, "
           "%.0f bytes/event (%u distinct lines, each parsed once more before timing; "
           "checksum %llu)\n",
           kind, done, el, (double)done / el, el * 1e9 / (double)done, (double)bytes / DISTINCT,
           DISTINCT, sink % 1000);
    atd_arena_free(&arena);
    return 0;
}
