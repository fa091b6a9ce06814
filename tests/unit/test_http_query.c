/* Query-string splitting and percent-decoding of the click/impression routes. */
#include "harness.h"
#include "http/http_internal.h"

static void check_decode(const char *in, int plus, const char *want)
{
    char out[256];
    size_t n = atd__url_decode(in, strlen(in), out, plus);
    out[n] = 0;
    CHECK_STR(out, want);
}

static void test_decode(void)
{
    check_decode("a%20b", 1, "a b");
    check_decode("a+b", 1, "a b");
    check_decode("a+b", 0, "a+b");
    check_decode("%2Fx%2fy", 1, "/x/y");
    check_decode("100%", 1, "100%");   /* truncated escapes stay as they are */
    check_decode("%4", 1, "%4");
    check_decode("%zz%41", 1, "%zzA");
    check_decode("", 1, "");
    char out[8];
    CHECK_EQ_INT(atd__url_decode("%00x", 4, out, 1), 2); /* NUL bytes decode too */
    CHECK(out[0] == 0 && out[1] == 'x');
}

typedef struct {
    char seen[512];
} acc;

static int collect(const char *n, size_t nl, const char *v, size_t vl, void *ud)
{
    acc *a = ud;
    size_t len = strlen(a->seen);
    snprintf(a->seen + len, sizeof a->seen - len, "[%.*s=%.*s]", (int)nl, n, (int)vl, v);
    return 0;
}

static int stop_at_b(const char *n, size_t nl, const char *v, size_t vl, void *ud)
{
    collect(n, nl, v, vl, ud);
    return nl == 1 && n[0] == 'b';
}

static void test_split(void)
{
    acc a = {""};
    const char *q = "pid=x&&c=a%20b&flag&=v&last=";
    atd__query_each(q, strlen(q), collect, &a);
    CHECK_STR(a.seen, "[pid=x][c=a%20b][flag=][=v][last=]");
    acc b = {""};
    atd__query_each("a=1&b=2&c=3", 11, stop_at_b, &b);
    CHECK_STR(b.seen, "[a=1][b=2]");
    acc c = {""};
    atd__query_each("", 0, collect, &c);
    CHECK_STR(c.seen, "");
}

int main(void)
{
    RUN(test_decode);
    RUN(test_split);
    return atd_test_done();
}
