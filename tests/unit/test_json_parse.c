/* The strict JSON layer under the event parser: documents, the scanner, strings, numbers. */
#include <stdlib.h>

#include "attribd/common.h"
#include "attribd/json_parse.h"
#include "harness.h"

static int doc_ok(const char *s)
{
    atd_json_error e;
    return atd_json_validate(s, strlen(s), 4096, 32, &e);
}

static void test_valid_documents(void)
{
    const char *ok[] = {
        "{}", "[]", "0", "-0", "-0.0e-0", "1E+2", "123.456e789", "\"\"", "true", "false", "null",
        " [ 1 , 2 , [ ] , { } , { \"a\" : { \"b\" : [ null ] } } ] ", "\"\\u0000\"",
        "{\"a\":1,\"a\":2}", "[\"\\ud83d\\ude00\",\"\\uDBFF\\uDFFF\"]", "\"\xf4\x8f\xbf\xbf\"",
        "\"\xe0\xa0\x80\"", "\"\xed\x9f\xbf\"", "\"\xef\xbf\xbf\"", "\"\xc2\x80\"",
        "\"/\\/\"", "\r\n\t 7 \r\n\t",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int rc = doc_ok(ok[i]);
        if (rc) fprintf(stderr, "  refused #%zu: %s\n", i, ok[i]);
        CHECK_EQ_INT(rc, 0);
    }
}

static void test_invalid_documents(void)
{
    const char *bad[] = {
        "", " ", "{", "}", "[", "]", "[1,]", "[,]", "[1 2]", "{\"a\"}", "{\"a\":1,}",
        "{\"a\":1 \"b\":2}", "{1:2}", "{\"a\":1}x", "1 2", "\"a\" \"b\"", "-", "01", "1.",
        ".1", "1e", "+1", "tRue", "nulll", "\"\\a\"", "\"\\u00\"", "\"\x1f\"", "\"\\ud83d\"",
        "\"\\ude00\"", "\"\xc1\xbf\"", "\"\xf8\x88\x80\x80\x80\"", "[\"a\":1]", "{\"a\",1}",
        "{\"a\":[}", "{\"a\":1]", "[1]]", "\"abc", "[\"a\\\"]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = doc_ok(bad[i]);
        if (rc != ATD_EINVAL) fprintf(stderr, "  accepted #%zu: %s\n", i, bad[i]);
        CHECK_EQ_INT(rc, ATD_EINVAL);
    }
}

/* Slots for test_tokens: "a" → 0, "b\n" → 1, "c" → 2, "dup" → 3, others dropped; counts calls. */
static int slot_calls;
static int test_slot(const char *k, size_t n, void *arg)
{
    CHECK(arg == &slot_calls);
    slot_calls++;
    if (n == 1 && k[0] == 'a') return 0;
    if (n == 2 && memcmp(k, "b\n", 2) == 0) return 1;
    if (n == 1 && k[0] == 'c') return 2;
    if (n == 3 && memcmp(k, "dup", 3) == 0) return 3;
    return -1;
}

static void test_tokens(void)
{
    const char *s = "{\"a\":[1,{\"x\":null}],\"b\\n\":\"v\",\"c\":{}}";
    atd_json_scanner sc;
    atd_json_error e;
    atd_json_val k, v, vals[4];
    uint64_t seen = 99;
    /* values: {  "a"  [  1  {  "x"  null  "b\n"  "v"  "c"  {} */
    atd_json_scan_init(&sc, s, strlen(s), 100, 8, &e);
    slot_calls = 0;
    CHECK_EQ_INT(atd_json_scan_object(&sc, test_slot, &slot_calls, vals, &seen), 0);
    CHECK_EQ_INT(slot_calls, 3); /* top-level keys only; "x" is nested */
    CHECK(seen == 7);
    CHECK_EQ_INT(sc.values, 11);
    CHECK(sc.pos == strlen(s));
    CHECK_EQ_INT(vals[0].type, ATD_JSON_ARRAY);
    /* nested values are validated and skipped; the span is the whole array */
    CHECK(vals[0].end - vals[0].start == strlen("[1,{\"x\":null}]"));
    CHECK(memcmp(s + vals[0].start, "[1,{\"x\":null}]", vals[0].end - vals[0].start) == 0);
    /* the escaped key was unescaped for the lookup; the value is a plain string */
    CHECK_EQ_INT(vals[1].type, ATD_JSON_STRING);
    CHECK_EQ_INT(vals[1].escaped, 0);
    CHECK(vals[1].end - vals[1].start == 1 && s[vals[1].start] == 'v');
    CHECK_EQ_INT(vals[2].type, ATD_JSON_OBJECT);
    CHECK(vals[2].end - vals[2].start == 2);
    /* the last duplicate wins, also with whitespace everywhere; escaped values are flagged */
    const char *d = " {\r\n\"dup\" : 1 ,\t\"dup\" : \"x\\ty\" , \"\\u0064up\":\"z\\\\\" }\n";
    atd_json_scan_init(&sc, d, strlen(d), 100, 8, &e);
    CHECK_EQ_INT(atd_json_scan_object(&sc, test_slot, &slot_calls, vals, &seen), 0);
    CHECK(seen == 8);
    CHECK_EQ_INT(vals[3].type, ATD_JSON_STRING);
    CHECK_EQ_INT(vals[3].escaped, 1);
    CHECK(memcmp(d + vals[3].start, "z\\\\", 3) == 0 && vals[3].end - vals[3].start == 3);
    /* an empty object, and keys too long for a slot (never passed to slot()) */
    char longkey[600];
    int ln = sprintf(longkey, "{\"%070d\":1,\"", 0);
    for (int i = 0; i < 70; i++) ln += sprintf(longkey + ln, "\\u0061");
    ln += sprintf(longkey + ln, "\":2}");
    slot_calls = 0;
    atd_json_scan_init(&sc, longkey, (size_t)ln, 100, 8, &e);
    CHECK_EQ_INT(atd_json_scan_object(&sc, test_slot, &slot_calls, vals, &seen), 0);
    CHECK_EQ_INT(slot_calls, 0);
    CHECK(seen == 0);
    atd_json_scan_init(&sc, " {} ", 4, 100, 8, &e);
    CHECK_EQ_INT(atd_json_scan_object(&sc, test_slot, &slot_calls, vals, &seen), 0);
    CHECK(seen == 0);
    /* not an object, or more after it */
    atd_json_scan_init(&sc, "[1]", 3, 100, 8, &e);
    CHECK_EQ_INT(atd_json_scan_object(&sc, test_slot, &slot_calls, vals, &seen), ATD_EINVAL);
    atd_json_scan_init(&sc, "{} {}", 5, 100, 8, &e);
    CHECK_EQ_INT(atd_json_scan_object(&sc, test_slot, &slot_calls, vals, &seen), ATD_EINVAL);
    CHECK(strstr(e.message, "after the JSON value") != NULL);

    /* the same document as one value */
    atd_json_scan_init(&sc, s, strlen(s), 100, 8, &e);
    CHECK_EQ_INT(atd_json_scan_value(&sc, &v), 0);
    CHECK_EQ_INT(v.type, ATD_JSON_OBJECT);
    CHECK(v.start == 0 && v.end == strlen(s));
    CHECK_EQ_INT(sc.values, 11);
    /* scalars, and what the scanner says about a bad member */
    const char *lit = " -0.5e3 ";
    atd_json_scan_init(&sc, lit, strlen(lit), 100, 8, &e);
    CHECK_EQ_INT(atd_json_scan_value(&sc, &v), 0);
    CHECK_EQ_INT(v.type, ATD_JSON_NUMBER);
    CHECK(v.start == 1 && v.end == 7);
    CHECK_EQ_INT(atd_json_scan_end(&sc), 0);
    const char *str = "\"a\\u00e9\"";
    atd_json_scan_init(&sc, str, strlen(str), 100, 8, &e);
    CHECK_EQ_INT(atd_json_scan_value(&sc, &k), 0);
    CHECK_EQ_INT(k.type, ATD_JSON_STRING);
    CHECK_EQ_INT(k.escaped, 1);
    CHECK(k.start == 1 && k.end == strlen(str) - 1);
    const char *bad = "{\"a\":1 \"b\":2}";
    atd_json_scan_init(&sc, bad, strlen(bad), 100, 8, &e);
    CHECK_EQ_INT(atd_json_scan_object(&sc, test_slot, &slot_calls, vals, &seen), ATD_EINVAL);
    CHECK_EQ_INT(e.code, ATD_EINVAL);
    CHECK_EQ_INT(e.offset, 7);
    CHECK(strstr(e.message, "byte 7") != NULL);

    /* many values: no allocation, only the count matters */
    char *big = malloc(10000);
    int n = 0;
    big[n++] = '[';
    for (int i = 0; i < 1000; i++) n += sprintf(big + n, i ? ",%d" : "%d", i);
    big[n++] = ']';
    atd_json_scan_init(&sc, big, (size_t)n, 4096, 8, &e);
    CHECK_EQ_INT(atd_json_scan_value(&sc, &v), 0);
    CHECK_EQ_INT(sc.values, 1001);
    CHECK_EQ_INT(v.type, ATD_JSON_ARRAY);
    CHECK(v.end == (size_t)n);
    CHECK_EQ_INT(atd_json_validate(big, (size_t)n, 1001, 8, &e), 0);
    CHECK_EQ_INT(atd_json_validate(big, (size_t)n, 1000, 8, &e), ATD_ETOOBIG);
    CHECK_EQ_INT(e.code, ATD_ETOOBIG);
    CHECK(strstr(e.message, "1000") != NULL);
    /* a number that ends the text inside an array is truncation, even as one value too many */
    CHECK_EQ_INT(atd_json_validate("[1,1,1,1", 8, 4, 8, &e), ATD_EINVAL);
    CHECK(strstr(e.message, "truncated") != NULL);
    CHECK_EQ_INT(atd_json_validate("[1,1,1,1]", 9, 4, 8, &e), ATD_ETOOBIG);
    CHECK_EQ_INT(atd_json_validate("[1,1,1,\"a\"", 10, 4, 8, &e), ATD_ETOOBIG);
    /* a NUL byte is reported as such even when the text is also too big */
    big[n - 1] = 0;
    CHECK_EQ_INT(atd_json_validate(big, (size_t)n, 500, 8, &e), ATD_EINVAL);
    CHECK(strstr(e.message, "NUL") != NULL);
    free(big);
    /* depth */
    CHECK_EQ_INT(atd_json_validate("[[[]]]", 6, 100, 3, &e), 0);
    CHECK_EQ_INT(atd_json_validate("[[[[]]]]", 8, 100, 3, &e), ATD_EINVAL);
    CHECK(strstr(e.message, "deeper than 3") != NULL);
    CHECK_EQ_INT(atd_json_validate("{\"a\":{\"b\":[]}}", 14, 100, 3, &e), 0);
    CHECK_EQ_INT(atd_json_validate("{\"a\":{\"b\":[{}]}}", 16, 100, 3, &e), ATD_EINVAL);
    /* the bit stack of open containers holds more than one word */
    char deep[2 * 200 + 1];
    for (int i = 0; i < 200; i++) {
        deep[i] = i % 3 ? '[' : '{';
        deep[399 - i] = i % 3 ? ']' : '}';
    }
    /* an object wants a key: put one in front of each inner value of an object */
    CHECK_EQ_INT(atd_json_validate(deep, 400, 4096, 1024, &e), ATD_EINVAL);
    int m = 0;
    char deep2[200 * 6 + 1];
    for (int i = 0; i < 200; i++) {
        if (i && (i - 1) % 3 == 0) m += sprintf(deep2 + m, "\"k\":");
        deep2[m++] = i % 3 ? '[' : '{';
    }
    for (int i = 199; i >= 0; i--) deep2[m++] = i % 3 ? ']' : '}';
    CHECK_EQ_INT(atd_json_validate(deep2, (size_t)m, 4096, 200, &e), 0);
    CHECK_EQ_INT(atd_json_validate(deep2, (size_t)m, 4096, 199, &e), ATD_EINVAL);
    deep2[m - 2] = deep2[m - 2] == ']' ? '}' : ']'; /* a wrong bracket at level 2 */
    CHECK_EQ_INT(atd_json_validate(deep2, (size_t)m, 4096, 200, &e), ATD_EINVAL);
}

static void test_unescape(void)
{
    const char *in = "a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20ac\\ud83d\\ude00z";
    int esc = 0;
    CHECK_EQ_INT(atd_json_string_check(in, strlen(in), &esc, NULL), 0);
    CHECK_EQ_INT(esc, 1);
    char out[128];
    size_t n = atd_json_string_unescape(in, strlen(in), out);
    const char want[] = "a\"b\\c/d\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z";
    CHECK_EQ_INT(n, sizeof want - 1);
    CHECK(memcmp(out, want, n) == 0);
    /* \u0000 decodes to a NUL byte (callers decide) */
    CHECK_EQ_INT(atd_json_string_unescape("x\\u0000y", 8, out), 3);
    CHECK(out[1] == 0);
    /* in place */
    char buf[] = "p\\u0071r";
    n = atd_json_string_unescape(buf, strlen(buf), buf);
    CHECK_EQ_INT(n, 3);
    CHECK(memcmp(buf, "pqr", 3) == 0);
    /* no escapes */
    esc = 1;
    CHECK_EQ_INT(atd_json_string_check("plain \xc3\xa9", 8, &esc, NULL), 0);
    CHECK_EQ_INT(esc, 0);
    size_t bad = 99;
    CHECK_EQ_INT(atd_json_string_check("ab\x01", 3, NULL, &bad), -1);
    CHECK_EQ_INT(bad, 2);
}

static void test_numbers(void)
{
    const char *ok[] = {"0", "-0", "1", "-1", "10", "1.5", "0.0", "1e5", "1E-5", "1e+05",
                        "-0.25e10", "9007199254740993"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        CHECK_EQ_INT(atd_json_number_check(ok[i], strlen(ok[i])), 0);
    const char *bad[] = {"", "-", "00", "01", "-01", "1.", ".1", "1e", "1e+", "1.e5", "+1",
                         "1 ", " 1", "0x1", "Infinity", "NaN", "1_000", "--1", "1e5.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ_INT(atd_json_number_check(bad[i], strlen(bad[i])), -1);
    CHECK_EQ_INT(atd_json_number_is_integer("123", 3), 1);
    CHECK_EQ_INT(atd_json_number_is_integer("-0", 2), 1);
    CHECK_EQ_INT(atd_json_number_is_integer("1.0", 3), 0);
    CHECK_EQ_INT(atd_json_number_is_integer("1e3", 3), 0);
}

int main(void)
{
    RUN(test_valid_documents);
    RUN(test_invalid_documents);
    RUN(test_tokens);
    RUN(test_unescape);
    RUN(test_numbers);
    return atd_test_done();
}
