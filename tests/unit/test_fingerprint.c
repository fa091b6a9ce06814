/* Fingerprints of ATTRIBUTION.md §3, from user agents and from app event fields. */
#include "attribution/fingerprint.h"
#include "harness.h"

#include <stdlib.h>

static atd_arena arena;

/* "os version model" of a user agent, or "none" */
static const char *ua(const char *s)
{
    static char out[512];
    atd_fp fp;
    if (!atd_fp_from_ua(atd_str_c(s), &arena, &fp)) return "none";
    snprintf(out, sizeof out, "%s %.*s %.*s", fp.os == ATD_OS_ANDROID ? "android" : "ios",
             (int)fp.version.n, fp.version.p, (int)fp.model.n, fp.model.p);
    return out;
}

static const char *fields(const char *platform, const char *os_version, const char *model)
{
    static char out[512];
    atd_fp fp;
    if (!atd_fp_from_fields(atd_str_c(platform), atd_str_c(os_version), atd_str_c(model),
                            &arena, &fp))
        return "none";
    snprintf(out, sizeof out, "%s %.*s %.*s", fp.os == ATD_OS_ANDROID ? "android" : "ios",
             (int)fp.version.n, fp.version.p, (int)fp.model.n, fp.model.p);
    return out;
}

static void test_android(void)
{
    CHECK_STR(ua("Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230805.001) "
                 "AppleWebKit/537.36 Chrome/116.0 Mobile Safari/537.36"),
              "android 13.0 pixel 7");
    /* with a locale, any case, - or _ */
    CHECK_STR(ua("Mozilla/5.0 (Linux; U; Android 4.4.2; en-us; SM-G900F Build/KOT49H)"),
              "android 4.4 sm-g900f");
    CHECK_STR(ua("Mozilla/5.0 (Linux; U; Android 4.0.3; DE_de; GT-I9100 Build/IML74K)"),
              "android 4.0 gt-i9100");
    CHECK_STR(ua("Dalvik/2.1.0 (Linux; U; Android 9; fr; Redmi Note 7 MIUI/V11)"),
              "android 9.0 redmi note 7 miui/v11");
    /* a locale-looking text not followed by "; " is the model */
    CHECK_STR(ua("Foo (Android 11; en)"), "android 11.0 en");
    /* reduced Chrome UA */
    CHECK_STR(ua("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 Chrome/120 Mobile"),
              "android 10.0 k");
    /* minor missing, leading zeros, more parts */
    CHECK_STR(ua("App/1 (Android 12; SM-S901B)"), "android 12.0 sm-s901b");
    CHECK_STR(ua("App/1 (Android 09.01; Nokia 7)"), "android 9.1 nokia 7");
    CHECK_STR(ua("App/1 (Android 00.000.5; X)"), "android 0.0 x");
    CHECK_STR(ua("App/1 (Android 8.1.0.2; Moto G)"), "android 8.1 moto g");
    /* model ends at ";" too; spaces and tabs trimmed */
    CHECK_STR(ua("X (Android 14;  \tPixel 8 Pro \t; wv)"), "android 14.0 pixel 8 pro");
    /* model to the end of the text */
    CHECK_STR(ua("Android 7.0; Galaxy"), "android 7.0 galaxy");
    /* no "; " after the version, or an empty model: no fingerprint */
    CHECK_STR(ua("Mozilla/5.0 (Linux; Android 13) AppleWebKit"), "none");
    CHECK_STR(ua("Mozilla/5.0 (Linux; Android 13;Pixel)"), "none");
    CHECK_STR(ua("X (Android 13; ) Y"), "none");
    CHECK_STR(ua("X (Android 13;  Build/ABC)"), "none");
    CHECK_STR(ua("X (Android 13; en-US; ) Y"), "none");
    /* the first match decides: "Android x" is no match, the next one is */
    CHECK_STR(ua("Android x Android 6; LG"), "android 6.0 lg");
    /* case-sensitive */
    CHECK_STR(ua("X (android 13; Pixel 7)"), "none");
    /* Android wins even when followed by iPhone; an Android match without fingerprint does not
     * fall back to iOS */
    CHECK_STR(ua("X (Android 10; SM-A505F) like iPhone OS 16_0"), "android 10.0 sm-a505f");
    CHECK_STR(ua("X (Android 10) iPhone; CPU iPhone OS 16_0 like Mac OS X"), "none");
}

static void test_ios(void)
{
    CHECK_STR(ua("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15"),
              "ios 17.1 iphone");
    CHECK_STR(ua("Mozilla/5.0 (iPad; CPU OS 16_6_1 like Mac OS X) AppleWebKit/605.1.15"),
              "ios 16.6 ipad");
    CHECK_STR(ua("Mozilla/5.0 (iPod touch; CPU iPhone OS 12_5 like Mac OS X)"),
              "ios 12.5 ipod");
    /* minor missing, leading zeros */
    CHECK_STR(ua("MyApp/3 (iPhone; iOS; CPU OS 15 like Mac OS X)"), "ios 15.0 iphone");
    CHECK_STR(ua("MyApp/3 (iPhone; CPU OS 016_02)"), "ios 16.2 iphone");
    CHECK_STR(ua("MyApp/3 (iPhone; CPU OS 16_x)"), "ios 16.0 iphone");
    /* needs " OS <digits>" after the device */
    CHECK_STR(ua("Mozilla/5.0 (iPhone; CPU iPhone OS like Mac OS X)"), "none");
    CHECK_STR(ua("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) iPhone"), "none");
    CHECK_STR(ua("iphone; CPU OS 17_1"), "none");
    /* the lazy .*? does not cross a newline; a later device can still match */
    CHECK_STR(ua("iPhone\n OS 17_1"), "none");
    CHECK_STR(ua("iPhone\niPad; CPU OS 17_2"), "ios 17.2 ipad");
    /* the leftmost device keyword names the model */
    CHECK_STR(ua("iPod; iPhone OS 11_4"), "ios 11.4 ipod");
    /* no match at all */
    CHECK_STR(ua("curl/8.0"), "none");
    CHECK_STR(ua(""), "none");
    atd_fp fp;
    CHECK(!atd_fp_from_ua(ATD_STR_NULL, &arena, &fp));
}

static void test_fields(void)
{
    CHECK_STR(fields("ios", "17.1.2", "iPhone14,2"), "ios 17.1 iphone");
    CHECK_STR(fields("ios", "13", "iPad8,1"), "ios 13.0 ipad");
    CHECK_STR(fields("ios", "iOS 16.04", "  iPod9,1 "), "ios 16.4 ipod");
    CHECK_STR(fields("android", "13", " Pixel 7 "), "android 13.0 pixel 7");
    CHECK_STR(fields("android", "10.0.1", "SM-G973F"), "android 10.0 sm-g973f");
    CHECK_STR(fields("android", "v09-beta03", "K"), "android 9.3 k");
    /* no digits, no model, empty model, iOS model without leading letters */
    CHECK_STR(fields("android", "beta", "Pixel"), "none");
    CHECK_STR(fields("android", "13", NULL), "none");
    CHECK_STR(fields("android", "13", " \t"), "none");
    CHECK_STR(fields("ios", "17.1", "14,2"), "none");
    CHECK_STR(fields("web", "17.1", "x"), "none");
}

static void test_event(void)
{
    /* an app event with platform + os_version uses its fields, else its user agent */
    atd_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = ATD_EV_INSTALL;
    ev.user_agent = atd_str_c("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X)");
    atd_fp a, b;
    CHECK(atd_fp_of_event(&ev, &arena, &a));
    CHECK(atd_fp_from_ua(ev.user_agent, &arena, &b));
    CHECK(atd_fp_eq(&a, &b));
    ev.platform = atd_str_c("ios");
    CHECK(atd_fp_of_event(&ev, &arena, &a)); /* os_version missing: still the user agent */
    ev.os_version = atd_str_c("17.1");
    ev.device_model = atd_str_c("iPhone15,3");
    CHECK(atd_fp_of_event(&ev, &arena, &a));
    CHECK(atd_fp_eq(&a, &b));
    ev.os_version = atd_str_c("17.2");
    CHECK(atd_fp_of_event(&ev, &arena, &a));
    CHECK(!atd_fp_eq(&a, &b));
    ev.device_model = ATD_STR_NULL; /* fields without a model: no fingerprint, no fallback */
    CHECK(!atd_fp_of_event(&ev, &arena, &a));
}

static void test_long_input(void)
{
    /* linear time on hostile input: many device words and no " OS " */
    size_t n = 1 << 20;
    char *s = malloc(n + 1);
    for (size_t i = 0; i < n; i += 4) memcpy(s + i, "iPad", 4);
    s[n] = 0;
    CHECK_STR(ua(s), "none");
    for (size_t i = 0; i + 8 <= n; i += 8) memcpy(s + i, "Android ", 8);
    CHECK_STR(ua(s), "none");
    free(s);
}

int main(void)
{
    atd_arena_init(&arena, 0);
    RUN(test_android);
    RUN(test_ios);
    RUN(test_fields);
    RUN(test_event);
    RUN(test_long_input);
    atd_arena_free(&arena);
    return atd_test_done();
}
