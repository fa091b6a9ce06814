/* A very small test harness: register checks, run them, print "N passed, N failed".
 *
 *   static void test_something(void) { CHECK(x == 1); CHECK_EQ_INT(a, b); CHECK_STR(s, "x"); }
 *   int main(void) { RUN(test_something); return atd_test_done(); }
 *
 * A failing CHECK prints file:line and the expression and marks the current test failed;
 * the test goes on so that one run shows every broken check. */
#ifndef ATD_TEST_HARNESS_H
#define ATD_TEST_HARNESS_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

extern int atd_test_failed_checks; /* failed checks in the running test */

void atd_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void atd_test_run(const char *name, void (*fn)(void));
int atd_test_done(void); /* prints the summary; returns the exit status */

#define RUN(fn) atd_test_run(#fn, fn)
#define CHECK(e) \
    do { if (!(e)) atd_test_fail(__FILE__, __LINE__, "CHECK(%s)", #e); } while (0)
#define CHECK_EQ_INT(a, b)                                                                  \
    do {                                                                                   \
        long long a_ = (long long)(a), b_ = (long long)(b);                                \
        if (a_ != b_) atd_test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, a_, b_); \
    } while (0)
#define CHECK_STR(a, b)                                                                     \
    do {                                                                                   \
        const char *a_ = (a), *b_ = (b);                                                   \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                                             \
            atd_test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b,        \
                          a_ ? a_ : "(null)", b_ ? b_ : "(null)");                         \
    } while (0)

/* --- helpers for tests that drive the real binary ------------------------------------ */

/* A fresh temporary directory (removed by atd_test_rmrf); returns a malloc'd path. */
char *atd_test_tmpdir(const char *tag);
void atd_test_rmrf(const char *path);
/* Writes text to path; returns 0 on success. */
int atd_test_write_file(const char *path, const char *text);
/* Reads a whole file into a malloc'd NUL-terminated buffer (NULL when missing). */
char *atd_test_read_file(const char *path, size_t *len);
/* A TCP port on 127.0.0.1 that was free a moment ago. */
int atd_test_free_port(void);
/* Waits until 127.0.0.1:port accepts connections; 0 on success, -1 after timeout_ms. */
int atd_test_wait_port(int port, int timeout_ms);
/* Path of the attribd binary under test (env ATD_BIN, else ./attribd). */
const char *atd_test_bin(void);
/* Starts the binary with argv (argv[0] is ignored and replaced); stdout/stderr go to log_path
 * when it is non-NULL. Returns the pid. */
pid_t atd_test_spawn(char *const argv[], const char *log_path);
/* Sends sig and waits for the process; returns its wait status. */
int atd_test_stop(pid_t pid, int sig);

#endif
