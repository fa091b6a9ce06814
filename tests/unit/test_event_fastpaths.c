/* The shortcuts of the one-pass event parser against slow, obvious references, on many
 * generated inputs: the canonical-IPv4 shortcut (vs ip.h), the 16-bytes-at-a-time
 * advertising-id normal form, the 8-digits-at-a-time ts, and string scanning near the end of
 * the text (where the scanner re-reads the text's last 16 bytes instead of reading past it). */
#include <stdlib.h>

#include "attribd/event.h"
#include "attribd/ip.h"
#include "attribd/json_parse.h"
#include "harness.h"

#define CLICK "\"type\":\"click\",\"app_id\":\"a\",\"media_source\":\"m\""

static atd_arena arena;
static atd_event ev;
static atd_event_error err;
static uint64_t rng = 0x2545f4914f6cdd1dull;

static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static int parse(const char *json, size_t len, unsigned flags)
{
    atd_arena_reset(&arena);
    return atd_event_parse_json(json, len, flags, ATD_STR_NULL, NULL, &arena, &ev, &err);
}

/* s as the content of a JSON string: a tab is written as the escape \t (a raw one is not
 * JSON). Returns the length written to out. */
static int quoted(char *out, const char *s)
{
    int n = 0;
    for (; *s; s++) {
        if (*s == '\t') {
            out[n++] = '\\';
            out[n++] = 't';
        } else {
            out[n++] = *s;
        }
    }
    out[n] = 0;
    return n;
}

/* IPv4-looking strings: parts with leading zeros, > 255, missing or extra parts, blanks. */
static void test_ipv4(void)
{
    static const char *const parts[] = {"0", "1", "9", "10", "99", "100", "199", "255", "256",
                                        "300", "999", "01", "001", "00", "1000", "", "a"};
    int accepted = 0, refused = 0;
    for (int k = 0; k < 20000; k++) {
        char ip[64], json[160];
        int n = 0, np = rnd(3) ? 4 : 3 + 2 * (int)rnd(2); /* mostly 4 parts, else 3 or 5 */
        if (rnd(10) == 0) ip[n++] = ' ';
        for (int p = 0; p < np; p++) {
            /* mostly valid parts (the first 8), so that both answers are common */
            unsigned pk = rnd(8) ? rnd(8) : rnd(sizeof parts / sizeof parts[0]);
            n += sprintf(ip + n, "%s%s", p ? "." : "", parts[pk]);
        }
        if (rnd(10) == 0) ip[n++] = '\t';
        ip[n] = 0;
        char q[128];
        quoted(q, ip);
        int jn = snprintf(json, sizeof json, "{" CLICK ",\"ip\":\"%s\"}", q);
        int rc = parse(json, (size_t)jn, 0);
        atd_ip want;
        if (atd_ip_parse(ip, (size_t)n, &want) == 0) {
            char txt[ATD_IP_TEXT_MAX];
            size_t tn = atd_ip_format(&want, txt);
            CHECK_EQ_INT(rc, 0);
            if (rc == 0) {
                CHECK(ev.ip.n == tn && memcmp(ev.ip.p, txt, tn) == 0 && ev.ip.p[tn] == 0);
            }
            accepted++;
        } else {
            CHECK_EQ_INT(rc, ATD_EINVAL);
            if (rc) CHECK_STR(err.field, "ip");
            refused++;
        }
    }
    CHECK(accepted > 1000 && refused > 1000); /* both sides were exercised */
}

/* Advertising ids of every length 0..80 around the 16-byte chunks, with upper case, '0', '-',
 * and blanks, against a byte-at-a-time reference. */
static void test_advertising_id(void)
{
    static const char alphabet[] = "0000----AZaz09Mm \t";
    for (int k = 0; k < 20000; k++) {
        char id[96], json[256];
        size_t n = (size_t)rnd(81);
        int lat_only = rnd(4) == 0;
        for (size_t i = 0; i < n; i++)
            id[i] = lat_only ? "0-"[rnd(2)] : alphabet[rnd(sizeof alphabet - 1)];
        id[n] = 0;
        char q[192];
        quoted(q, id);
        int jn = snprintf(json, sizeof json, "{" CLICK ",\"advertising_id\":\"%s\"}", q);
        CHECK_EQ_INT(parse(json, (size_t)jn, 0), 0);
        /* reference: trim blanks, lower-case A-Z, absent when only '0' and '-' */
        size_t b = 0, e = n;
        while (b < e && (id[b] == ' ' || id[b] == '\t')) b++;
        while (e > b && (id[e - 1] == ' ' || id[e - 1] == '\t')) e--;
        int lat = 1;
        for (size_t i = b; i < e; i++) {
            if (id[i] >= 'A' && id[i] <= 'Z') id[i] = (char)(id[i] + 32);
            if (id[i] != '0' && id[i] != '-') lat = 0;
        }
        if (lat) {
            CHECK(ev.advertising_id.p == NULL);
        } else {
            CHECK(ev.advertising_id.p != NULL);
            if (ev.advertising_id.p)
                CHECK(ev.advertising_id.n == e - b &&
                      memcmp(ev.advertising_id.p, id + b, e - b) == 0 &&
                      ev.advertising_id.p[e - b] == 0);
        }
    }
}

/* ts of every length 1..20 digits, with a sign, fraction or exponent somewhere. */
static void test_ts(void)
{
    for (int k = 0; k < 20000; k++) {
        char num[48], json[160];
        int n = 0;
        if (rnd(8) == 0) num[n++] = '-';
        int digits = 1 + (int)rnd(20);
        num[n++] = (char)('1' + rnd(9));
        for (int i = 1; i < digits; i++) num[n++] = (char)('0' + rnd(10));
        if (rnd(8) == 0) {
            int at = (int)rnd((unsigned)n) + 1; /* '.' or 'e' after some digit */
            if (at < n && num[at - 1] != '-') {
                memmove(num + at + 1, num + at, (size_t)(n - at));
                num[at] = rnd(2) ? '.' : 'e';
                n++;
            }
        }
        num[n] = 0;
        int jn = snprintf(json, sizeof json, "{" CLICK ",\"ts\":%s}", num);
        int rc = parse(json, (size_t)jn, ATD_PARSE_REQUIRE_TS);
        /* reference: an integer token in [0, 2^53 - 1] */
        int ok = strpbrk(num, ".e") == NULL && digits <= 16;
        long long v = ok ? strtoll(num, NULL, 10) : -1;
        if (ok && (v < 0 || v > (1LL << 53) - 1)) ok = 0;
        if (rc == ATD_EINVAL && strcmp(err.field, "body") == 0) continue; /* "1." is not JSON */
        CHECK_EQ_INT(rc, ok ? 0 : ATD_EINVAL);
        if (ok && rc == 0) CHECK(ev.ts == v);
        if (!ok && rc) CHECK_STR(err.field, "ts");
    }
}

/* A special byte (quote, backslash, control, UTF-8 lead) at every offset of a string that ends
 * at every distance from the end of the text: the verdict is the one known for the special
 * (the letters around are plain ASCII), for the scanner and for atd_json_string_check. */
static void test_string_tails(void)
{
    static const char *const specials[] = {"\\n", "\\u00e9", "\x01", "\xc3\xa9", "\xc3", "\\x",
                                           "\\ud83d\\ude00", "\\ud83d", "\xed\xa0\x80", "\""};
    static const int valid[] = {1, 1, 0, 1, 0, 0, 1, 0, 0, 0};
    for (size_t len = 0; len < 40; len++)
        for (size_t at = 0; at <= len; at++)
            for (size_t sp = 0; sp < sizeof specials / sizeof specials[0]; sp++)
                for (size_t tail = 0; tail < 20; tail += 3) {
                    char content[96], json[256];
                    size_t cn = 0;
                    for (size_t i = 0; i < len; i++) {
                        if (i == at) {
                            strcpy(content + cn, specials[sp]);
                            cn += strlen(specials[sp]);
                        }
                        content[cn++] = (char)('a' + (i % 26));
                    }
                    content[cn] = 0;
                    /* the string is the last value; `tail` spaces follow the object */
                    int jn = snprintf(json, sizeof json, "{\"k\":\"%s\"}%*s", content, (int)tail, "");
                    atd_json_error e;
                    /* (a quote ends the string early: what follows is not JSON) */
                    int want = at < len && !valid[sp] ? ATD_EINVAL : 0;
                    if (!strchr(content, '"'))
                        CHECK_EQ_INT(atd_json_string_check(content, cn, NULL, NULL), want ? -1 : 0);
                    int got = atd_json_validate(json, (size_t)jn, 100, 8, &e);
                    if (got != want)
                        fprintf(stderr, "  len %zu at %zu special %zu tail %zu: %s\n", len, at,
                                sp, tail, json);
                    CHECK_EQ_INT(got, want);
                }
}

int main(void)
{
    atd_arena_init(&arena, 4096);
    RUN(test_ipv4);
    RUN(test_advertising_id);
    RUN(test_ts);
    RUN(test_string_tails);
    atd_arena_free(&arena);
    return atd_test_done();
}
