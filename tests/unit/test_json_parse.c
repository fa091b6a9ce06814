/* The strict JSON layer under the event parser: documents, strings, numbers. */
#include <stdlib.h>

#include "attribd/common.h"
#include "attribd/json_parse.h"
#include "harness.h"

static int doc_ok(const char *s)
{
    atd_json_doc d;
    atd_json_error e;
    int rc = atd_json_doc_parse(&d, s, strlen(s), 4096, 32, &e);
    atd_json_doc_free(&d);
    return rc;
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

static void test_tokens(void)
{
    const char *s = "{\"a\":[1,{\"x\":null}],\"b\\n\":\"v\",\"c\":{}}";
    atd_json_doc d;
    atd_json_error e;
    CHECK_EQ_INT(atd_json_doc_parse(&d, s, strlen(s), 100, 8, &e), 0);
    /* 0 {  1 "a"  2 [  3 1  4 {  5 "x"  6 null  7 "b\n"  8 "v"  9 "c"  10 {} */
    CHECK_EQ_INT(d.n, 11);
    CHECK_EQ_INT(d.tok[0].type, ATD_JSON_OBJECT);
    CHECK_EQ_INT(d.tok[0].size, 3);
    CHECK_EQ_INT(d.tok[0].next, 11);
    CHECK_EQ_INT(d.tok[2].type, ATD_JSON_ARRAY);
    CHECK_EQ_INT(d.tok[2].size, 2);
    CHECK_EQ_INT(d.tok[2].next, 7);
    CHECK_EQ_INT(d.tok[3].type, ATD_JSON_NUMBER);
    CHECK_EQ_INT(d.tok[6].type, ATD_JSON_NULL);
    CHECK_EQ_INT(d.tok[7].type, ATD_JSON_STRING);
    CHECK_EQ_INT(d.tok[7].escaped, 1);
    CHECK_EQ_INT(d.tok[1].escaped, 0);
    CHECK_EQ_INT(d.tok[10].type, ATD_JSON_OBJECT);
    CHECK_EQ_INT(d.tok[10].size, 0);
    /* walk the members as the event parser does */
    int keys = 0;
    for (int i = 1; i < d.n; i = d.tok[i + 1].next) keys++;
    CHECK_EQ_INT(keys, 3);
    CHECK(memcmp(s + d.tok[2].start, "[1,{\"x\":null}]", (size_t)(d.tok[2].end - d.tok[2].start)) == 0);
    atd_json_doc_free(&d);

    /* past the inline array: heap tokens, still freed */
    char *big = malloc(10000);
    int n = 0;
    big[n++] = '[';
    for (int i = 0; i < 1000; i++) n += sprintf(big + n, i ? ",%d" : "%d", i);
    big[n++] = ']';
    CHECK_EQ_INT(atd_json_doc_parse(&d, big, (size_t)n, 4096, 8, &e), 0);
    CHECK_EQ_INT(d.n, 1001);
    CHECK_EQ_INT(d.tok[0].size, 1000);
    CHECK_EQ_INT(d.tok[1000].type, ATD_JSON_NUMBER);
    atd_json_doc_free(&d);
    CHECK_EQ_INT(atd_json_doc_parse(&d, big, (size_t)n, 1000, 8, &e), ATD_ETOOBIG);
    CHECK_EQ_INT(e.code, ATD_ETOOBIG);
    atd_json_doc_free(&d);
    free(big);
    /* depth */
    CHECK_EQ_INT(atd_json_doc_parse(&d, "[[[]]]", 6, 100, 3, &e), 0);
    atd_json_doc_free(&d);
    CHECK_EQ_INT(atd_json_doc_parse(&d, "[[[[]]]]", 8, 100, 3, &e), ATD_EINVAL);
    atd_json_doc_free(&d);
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
