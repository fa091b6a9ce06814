/* attribd gen (hidden): a synthetic NDJSON event stream for benchmarks of `attribd replay`.
 *
 * Every device lives one "journey": some touches (clicks and impressions, most with the
 * device's advertising id, some only with its ip + user agent, a few retargeting clicks after
 * the install), its install, sessions and in-app events. Many journeys run at once (--active),
 * their events interleaved at random, so one device's events are spread far apart in the log
 * as in real traffic (and no cache gets them for free). ts grows by --step ms per event. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/commands.h"

typedef struct journey {
    uint64_t dev;
    uint8_t n_touch, n_rt, n_sess, n_inapp; /* touches before / retargeting clicks after */
    uint8_t step, organic, lat, ios;
} journey;

static uint64_t rng_state = 0x853c49e6748fea9bULL;

static uint64_t rnd(void)
{
    /* splitmix64: fast, good enough for synthetic data */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static unsigned below(unsigned n) { return (unsigned)(rnd() % n); }

static void start(journey *j, uint64_t dev, double touches, double sessions, double inapps)
{
    memset(j, 0, sizeof *j);
    j->dev = dev;
    j->organic = below(100) < 25;
    j->lat = below(100) < 15; /* limited ad tracking: no advertising id */
    j->ios = below(100) < 40;
    /* touches: 0..2*mean, so that the mean over touched devices is `touches` */
    unsigned tmax = (unsigned)(touches * 2 + 0.5);
    j->n_touch = j->organic ? 0 : (uint8_t)(1 + below(tmax ? tmax : 1));
    j->n_rt = below(100) < 10 ? 1 : 0;
    unsigned smax = (unsigned)(sessions * 2 + 0.5), imax = (unsigned)(inapps * 2 + 0.5);
    j->n_sess = (uint8_t)below(smax + 1);
    j->n_inapp = (uint8_t)below(imax + 1);
}

static void put_adid(char *out, uint64_t dev)
{
    /* a UUID-shaped advertising id derived from the device number */
    uint64_t a = dev * 0x9e3779b97f4a7c15ULL, b = (dev + 7) * 0xc2b2ae3d27d4eb4fULL;
    sprintf(out, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff,
            (unsigned)a & 0xffff, (unsigned)(b >> 48), (unsigned long long)(b & 0xffffffffffffULL));
}

static void put_ip(char *out, uint64_t dev)
{
    uint64_t h = dev * 0xff51afd7ed558ccdULL;
    sprintf(out, "%u.%u.%u.%u", 11 + (unsigned)(h >> 56) % 200, (unsigned)(h >> 48) & 255,
            (unsigned)(h >> 40) & 255, 1 + (unsigned)(h >> 32) % 254);
}

static const char *ua_of(const journey *j, char *buf)
{
    static const char *models[] = {"Pixel 7", "SM-G991B", "Redmi Note 11", "moto g(30)", "K"};
    unsigned m = (unsigned)(j->dev % 5), v = 10 + (unsigned)(j->dev % 5);
    if (j->ios)
        sprintf(buf, "Mozilla/5.0 (iPhone; CPU iPhone OS %u_%u like Mac OS X) AppleWebKit/605.1.15",
                14 + (unsigned)(j->dev % 4), (unsigned)(j->dev % 3));
    else
        sprintf(buf, "Mozilla/5.0 (Linux; Android %u; %s Build/TQ3A) Chrome/116.0 Mobile", v,
                models[m]);
    return buf;
}

int atd_cmd_gen(int argc, char **argv)
{
    uint64_t devices = 1000000, active = 100000, seed = 1, step = 50;
    unsigned long long ts = 1793534400000ULL;
    double touches = 5, sessions = 2, inapps = 1;
    const char *app = "com.example.game";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help")) {
            printf("usage: attribd gen [--devices N] [--active N] [--touches X] [--sessions X]\n"
                   "                   [--inapps X] [--step MS] [--start TS] [--seed N] [--app ID]\n"
                   "A synthetic NDJSON event stream on stdout (for benchmarks).\n");
            return 0;
        }
        if (!v) {
            fprintf(stderr, "attribd gen: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (!strcmp(a, "--devices")) devices = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--active")) active = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--touches")) touches = strtod(v, NULL);
        else if (!strcmp(a, "--sessions")) sessions = strtod(v, NULL);
        else if (!strcmp(a, "--inapps")) inapps = strtod(v, NULL);
        else if (!strcmp(a, "--step")) step = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--start")) ts = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--seed")) seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--app")) app = v;
        else {
            fprintf(stderr, "attribd gen: unknown option '%s'\n", a);
            return 2;
        }
    }
    rng_state ^= seed * 0x2545f4914f6cdd1dULL;
    if (active < 1) active = 1;
    if (active > devices) active = devices;
    journey *js = calloc(active ? active : 1, sizeof *js);
    if (!js) return 1;
    uint64_t next_dev = 0, live = 0;
    for (; live < active; live++) start(&js[live], next_dev++, touches, sessions, inapps);
    static const char *sources[] = {"networkA", "networkB", "networkC", "networkD", "networkE",
                                    "networkF", "networkG", "networkH"};
    static char out[1 << 20];
    size_t n = 0;
    char adid[64], ip[32], ua[160], line[1024];
    while (live) {
        uint64_t k = rnd() % live;
        journey *j = &js[k];
        put_adid(adid, j->dev);
        put_ip(ip, j->dev);
        int len;
        unsigned total_touch = j->n_touch, s = j->step;
        ts += step;
        if (s < total_touch) {
            /* a touch before the install: mostly id, some only ip + user agent */
            int by_id = !j->lat && below(100) < 80;
            int is_click = below(100) < 60;
            const char *ms = sources[(j->dev + s) % 8];
            len = snprintf(line, sizeof line,
                           "{\"type\":\"%s\",\"ts\":%llu,\"app_id\":\"%s\",\"media_source\":\"%s\","
                           "\"campaign\":\"c%u\",\"campaign_id\":\"%u\",\"site_id\":\"s%u\","
                           "\"click_id\":\"ck%llu-%u\"%s%s%s,\"ip\":\"%s\",\"user_agent\":\"%s\"}\n",
                           is_click ? "click" : "impression", ts, app, ms, below(50), below(1000),
                           below(200), (unsigned long long)j->dev, s, by_id ? ",\"advertising_id\":\"" : "",
                           by_id ? adid : "", by_id ? "\"" : "", ip, ua_of(j, ua));
        } else if (s == total_touch) {
            if (j->lat)
                len = snprintf(line, sizeof line,
                               "{\"type\":\"install\",\"ts\":%llu,\"app_id\":\"%s\",\"device_id\":"
                               "\"dev-%llu\",\"ip\":\"%s\",\"user_agent\":\"%s\",\"app_version\":\"3.1\"}\n",
                               ts, app, (unsigned long long)j->dev, ip, ua_of(j, ua));
            else {
                /* the same device as its user agent says: fields give the same fingerprint */
                static const char *models[] = {"Pixel 7", "SM-G991B", "Redmi Note 11",
                                               "moto g(30)", "K"};
                char osv[16];
                if (j->ios)
                    snprintf(osv, sizeof osv, "%u.%u.1", 14 + (unsigned)(j->dev % 4),
                             (unsigned)(j->dev % 3));
                else
                    snprintf(osv, sizeof osv, "%u", 10 + (unsigned)(j->dev % 5));
                len = snprintf(line, sizeof line,
                               "{\"type\":\"install\",\"ts\":%llu,\"app_id\":\"%s\",\"device_id\":"
                               "\"dev-%llu\",\"advertising_id\":\"%s\",\"ip\":\"%s\",\"platform\":\"%s\","
                               "\"os_version\":\"%s\",\"device_model\":\"%s\",\"app_version\":\"3.1\"}\n",
                               ts, app, (unsigned long long)j->dev, adid, ip,
                               j->ios ? "ios" : "android", osv,
                               j->ios ? "iPhone14,2" : models[j->dev % 5]);
            }
        } else if (s <= total_touch + (unsigned)j->n_rt) {
            len = snprintf(line, sizeof line,
                           "{\"type\":\"click\",\"ts\":%llu,\"app_id\":\"%s\",\"media_source\":\"%s\","
                           "\"campaign\":\"rt%u\",\"is_retargeting\":true,\"advertising_id\":\"%s\","
                           "\"ip\":\"%s\"}\n",
                           ts, app, sources[j->dev % 8], below(10), j->lat ? "0000" : adid, ip);
        } else if (s <= total_touch + (unsigned)j->n_rt + j->n_sess) {
            len = snprintf(line, sizeof line,
                           "{\"type\":\"session\",\"ts\":%llu,\"app_id\":\"%s\",\"device_id\":\"dev-%llu\"%s%s%s}\n",
                           ts, app, (unsigned long long)j->dev, j->lat ? "" : ",\"advertising_id\":\"",
                           j->lat ? "" : adid, j->lat ? "" : "\"");
        } else {
            int paid = below(100) < 30;
            char rev[64] = "";
            if (paid) snprintf(rev, sizeof rev, ",\"revenue\":%u.99,\"currency\":\"usd\"", below(20));
            len = snprintf(line, sizeof line,
                           "{\"type\":\"inapp\",\"ts\":%llu,\"app_id\":\"%s\",\"device_id\":\"dev-%llu\","
                           "\"event_name\":\"%s\"%s}\n",
                           ts, app, (unsigned long long)j->dev, paid ? "purchase" : "level_up", rev);
        }
        if (len > 0) {
            if (n + (size_t)len > sizeof out) {
                if (fwrite(out, 1, n, stdout) != n) return 1;
                n = 0;
            }
            memcpy(out + n, line, (size_t)len);
            n += (size_t)len;
        }
        j->step++;
        if (j->step > total_touch + (unsigned)j->n_rt + j->n_sess + j->n_inapp) {
            if (next_dev < devices) start(j, next_dev++, touches, sessions, inapps);
            else js[k] = js[--live];
        }
    }
    if (n && fwrite(out, 1, n, stdout) != n) return 1;
    free(js);
    return fflush(stdout) ? 1 : 0;
}
