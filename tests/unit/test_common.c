#include "attribd/common.h"
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

int main(void)
{
    RUN(test_arena);
    RUN(test_str);
    return atd_test_done();
}
