#include "attribd/common.h"
#include "attribd/json.h"
#include "harness.h"

static void test_arena(void)
{
    atd_arena a;
    atd_arena_init(&a, 64);
    char *s = atd_arena_strndup(&a, "hello", 5);
    void *big = atd_arena_alloc(&a, 1000); /* larger than a block */
    CHECK_STR(s, "hello");
    CHECK(((uintptr_t)big & 7) == 0);
    memset(big, 1, 1000);
    atd_arena_reset(&a);
    CHECK(atd_arena_alloc(&a, 8) != NULL);
    atd_arena_free(&a);
}

static void test_str(void)
{
    CHECK(atd_str_eq(ATD_STR_LIT("ab"), atd_str_c("ab")));
    CHECK(!atd_str_eq(ATD_STR_NULL, ATD_STR_LIT("")));
    CHECK(atd_str_eq_c(ATD_STR_LIT("x"), "x"));
    CHECK_STR(atd_strerror(ATD_ECORRUPT), "corrupt data");
}

static void test_json_writer(void)
{
    atd_buf b;
    atd_buf_init(&b);
    atd_buf_putc(&b, '{');
    atd_json_key(&b, "a", 1);
    atd_json_str(&b, "x\"\n\x01", 4);
    atd_json_key(&b, "n", 0);
    atd_json_double(&b, 1.5);
    atd_json_key(&b, "i", 0);
    atd_json_double(&b, 100);
    atd_json_key(&b, "z", 0);
    atd_json_str_or_null(&b, ATD_STR_NULL);
    atd_buf_putc(&b, '}');
    CHECK_STR(b.p, "{\"a\":\"x\\\"\\n\\u0001\",\"n\":1.5,\"i\":100,\"z\":null}");
    atd_json_double(&b, 0.1);
    CHECK(strstr(b.p, "}0.1") != NULL);
    atd_buf_free(&b);
}

int main(void)
{
    RUN(test_json_writer);
    RUN(test_arena);
    RUN(test_str);
    return atd_test_done();
}
