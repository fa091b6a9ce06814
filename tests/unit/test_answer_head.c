/* The fast path for h2o's answer heads (src/http/answer_head.c) writes exactly what glibc's
 * printf would, and every other format still goes to glibc. */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>

#include "harness.h"
#include "http/http_internal.h"

/* h2o 2.2's two formats (lib/http1.c, flatten_headers), spelled out again on purpose: the
 * fast path must recognise these exact texts. */
#define H2O_HEAD "HTTP/1.1 %d %s\r\nDate: %s\r\nConnection: %s\r\n"
#define H2O_HEAD_LEN "HTTP/1.1 %d %s\r\nDate: %s\r\nConnection: %s\r\nContent-Length: %zu\r\n"

int __sprintf_chk(char *s, int flag, size_t slen, const char *fmt, ...);

static int head(char *s, int with_length, ...)
{
    va_list ap;
    va_start(ap, with_length);
    int r = atd__answer_head(s, with_length, ap);
    va_end(ap);
    return r;
}

static void check_one(int status, const char *reason, const char *conn, size_t len)
{
    const char *date = "Fri, 27 Nov 2026 23:31:27 GMT";
    char want[512], got[512], via[512];
    /* with Content-Length */
    int wn = snprintf(want, sizeof want, H2O_HEAD_LEN, status, reason, date, conn, len);
    memset(got, 'x', sizeof got);
    CHECK_EQ_INT(head(got, 1, status, reason, date, conn, len), wn);
    CHECK_STR(got, want);
    memset(via, 'x', sizeof via);
    CHECK_EQ_INT(__sprintf_chk(via, 1, (size_t)-1, H2O_HEAD_LEN, status, reason, date, conn, len),
                 wn);
    CHECK_STR(via, want);
    /* without */
    wn = snprintf(want, sizeof want, H2O_HEAD, status, reason, date, conn);
    memset(got, 'x', sizeof got);
    CHECK_EQ_INT(head(got, 0, status, reason, date, conn), wn);
    CHECK_STR(got, want);
    memset(via, 'x', sizeof via);
    CHECK_EQ_INT(__sprintf_chk(via, 1, (size_t)-1, H2O_HEAD, status, reason, date, conn), wn);
    CHECK_STR(via, want);
}

static void test_same_bytes_as_printf(void)
{
    static const int statuses[] = {0, 1, 9, 10, 99, 100, 101, 200, 204, 302, 404, 999, 1000,
                                   -1, -200, INT_MAX, INT_MIN};
    static const size_t lens[] = {0, 1, 9, 10, 15, 99, 100, 1048576, 4294967296u, SIZE_MAX};
    static const char *reasons[] = {"OK", "", "No Content", "Request Header Fields Too Large"};
    static const char *conns[] = {"keep-alive", "close", "upgrade"};
    for (size_t s = 0; s < sizeof statuses / sizeof *statuses; s++)
        for (size_t l = 0; l < sizeof lens / sizeof *lens; l++)
            check_one(statuses[s], reasons[(s + l) % 4], conns[(s * 7 + l) % 3], lens[l]);
    /* every length up to a million (digit counts, carries) */
    for (size_t len = 0; len < 1000000; len += 1 + len / 7) check_one(200, "OK", "keep-alive", len);
}

static void test_other_formats_go_to_glibc(void)
{
    char got[256];
    CHECK_EQ_INT(__sprintf_chk(got, 1, (size_t)-1, "%s=%d;%05.1f", "x", 42, 3.14159), 10);
    CHECK_STR(got, "x=42;003.1");
    /* a format that only starts like h2o's */
    CHECK_EQ_INT(__sprintf_chk(got, 1, (size_t)-1, H2O_HEAD "X-%s\r\n", 200, "OK", "d", "c", "y"),
                 (int)strlen("HTTP/1.1 200 OK\r\nDate: d\r\nConnection: c\r\nX-y\r\n"));
    CHECK_STR(got, "HTTP/1.1 200 OK\r\nDate: d\r\nConnection: c\r\nX-y\r\n");
    /* a known buffer size: glibc formats (and checks the size) */
    CHECK_EQ_INT(__sprintf_chk(got, 1, sizeof got, H2O_HEAD, 204, "No Content", "d", "c"),
                 (int)strlen("HTTP/1.1 204 No Content\r\nDate: d\r\nConnection: c\r\n"));
    CHECK_STR(got, "HTTP/1.1 204 No Content\r\nDate: d\r\nConnection: c\r\n");
}

int main(void)
{
    RUN(test_same_bytes_as_printf);
    RUN(test_other_formats_go_to_glibc);
    return atd_test_done();
}
