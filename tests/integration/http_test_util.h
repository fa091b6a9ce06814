/* Helpers shared by the HTTP integration tests (header-only: each test is one executable).
 * Starts the real binary, talks to it with libcurl, reads its log with the log API. */
#ifndef ATD_HTTP_TEST_UTIL_H
#define ATD_HTTP_TEST_UTIL_H

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attribd/common.h"
#include "attribd/event.h"
#include "attribd/log.h"
#include "harness.h"

typedef struct http_resp {
    long status;
    char body[262144];
    size_t body_len;
    char location[2048];
    char content_type[256];
    int curl_error; /* CURLcode; non-zero when no answer came */
} http_resp;

static inline size_t hu_on_body(char *p, size_t sz, size_t nm, void *ud)
{
    http_resp *r = ud;
    size_t n = sz * nm, room = sizeof r->body - 1 - r->body_len;
    if (n > room) n = room;
    memcpy(r->body + r->body_len, p, n);
    r->body_len += n;
    r->body[r->body_len] = 0;
    return sz * nm;
}

static inline void hu_copy_header_value(char *dst, size_t cap, const char *v, size_t n)
{
    while (n && (v[0] == ' ')) v++, n--;
    while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ')) n--;
    if (n >= cap) n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = 0;
}

static inline size_t hu_on_header(char *p, size_t sz, size_t nm, void *ud)
{
    http_resp *r = ud;
    size_t n = sz * nm;
    if (n > 9 && !strncasecmp(p, "location:", 9))
        hu_copy_header_value(r->location, sizeof r->location, p + 9, n - 9);
    if (n > 13 && !strncasecmp(p, "content-type:", 13))
        hu_copy_header_value(r->content_type, sizeof r->content_type, p + 13, n - 13);
    return n;
}

/* One request on a fresh handle. headers: NULL-terminated "Name: value" strings (may be
 * NULL). body: NULL for none. Returns the status (0 when the request failed). */
static inline long http_do(const char *method, const char *url, const char *body, size_t body_len,
                    const char *const *headers, http_resp *r)
{
    memset(r, 0, sizeof *r);
    CURL *c = curl_easy_init();
    struct curl_slist *hl = NULL;
    for (size_t i = 0; headers && headers[i]; i++) hl = curl_slist_append(hl, headers[i]);
    hl = curl_slist_append(hl, "Expect:"); /* no 100-continue round trip */
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, hu_on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, hu_on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (!strcmp(method, "HEAD")) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    r->curl_error = (int)curl_easy_perform(c);
    if (r->curl_error == 0) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    return r->status;
}

/* A server under test: a temp dir with attribd.yaml and data/. */
typedef struct test_server {
    char *dir;
    char config[4096];
    char data[4096];
    char logfile[4096];
    char base[128]; /* http://127.0.0.1:PORT */
    int port;
    pid_t pid;
} test_server;

static inline void ts_init(test_server *s, const char *tag, const char *yaml)
{
    memset(s, 0, sizeof *s);
    s->dir = atd_test_tmpdir(tag);
    snprintf(s->config, sizeof s->config, "%s/attribd.yaml", s->dir);
    snprintf(s->data, sizeof s->data, "%s/data", s->dir);
    snprintf(s->logfile, sizeof s->logfile, "%s/serve.log", s->dir);
    if (atd_test_write_file(s->config, yaml) != 0) {
        fprintf(stderr, "cannot write %s\n", s->config);
        exit(2);
    }
}

/* Our server is up on s->port: it said so in its output (the port alone could be another
 * process's: ports come from atd_test_free_port and other tests run at the same time). */
static inline int ts_up(const test_server *s)
{
    char said[sizeof s->base + 16];
    snprintf(said, sizeof said, "listening on %s ", s->base);
    for (int waited = 0; waited < 10000; waited += 20) {
        char *out = atd_test_read_file(s->logfile, NULL);
        int up = out && strstr(out, said);
        free(out);
        if (up) return atd_test_wait_port(s->port, 1000) == 0;
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid) return 0; /* it exited (port taken?) */
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* Starts (or restarts) the server, each time on a fresh port (a restart on the old one could
 * race another test for it); returns 0 when it accepts connections. */
static inline int ts_start(test_server *s)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        s->port = atd_test_free_port();
        snprintf(s->base, sizeof s->base, "http://127.0.0.1:%d", s->port);
        char listen[64];
        snprintf(listen, sizeof listen, "127.0.0.1:%d", s->port);
        char *argv[] = {"attribd", "serve", "--config", s->config, "--listen", listen,
                        "--data-dir", s->data, NULL};
        s->pid = atd_test_spawn(argv, s->logfile);
        if (ts_up(s)) return 0;
        if (waitpid(s->pid, NULL, WNOHANG) == 0) atd_test_stop(s->pid, SIGKILL);
        s->pid = 0;
    }
    fprintf(stderr, "server did not start; its output:\n");
    char *out = atd_test_read_file(s->logfile, NULL);
    fprintf(stderr, "%s\n", out ? out : "(none)");
    free(out);
    return -1;
}

/* Stops with sig; returns the wait status. */
static inline int ts_stop(test_server *s, int sig)
{
    int st = s->pid > 0 ? atd_test_stop(s->pid, sig) : 0;
    s->pid = 0;
    return st;
}

/* A request to the server under test: path (with query) relative to its base URL. */
static inline long ts_get(const test_server *s, const char *path, const char *const *headers,
                          http_resp *r)
{
    char url[4096];
    snprintf(url, sizeof url, "%s%s", s->base, path);
    return http_do("GET", url, NULL, 0, headers, r);
}

static inline long ts_post(const test_server *s, const char *path, const char *body,
                           const char *const *headers, http_resp *r)
{
    char url[4096];
    snprintf(url, sizeof url, "%s%s", s->base, path);
    return http_do("POST", url, body, strlen(body), headers, r);
}

static inline void ts_free(test_server *s)
{
    if (s->pid > 0) ts_stop(s, SIGKILL);
    if (!getenv("ATD_KEEP_TMP")) atd_test_rmrf(s->dir); /* keep for debugging */
    free(s->dir);
}

/* Reads every record of topic `events` (all partitions) of a stopped server's data folder and
 * calls cb with each decoded event. Returns the number of records, or -1 on an error. */
typedef void (*ts_event_cb)(const atd_event *ev, void *ud);

typedef struct {
    ts_event_cb cb;
    void *ud;
    long n;
    int bad;
    uint64_t next;
} hu_read_ctx;

static inline int hu_on_record(void *ud, const atd_log_record *rec)
{
    hu_read_ctx *c = ud;
    atd_arena a;
    atd_arena_init(&a, 4096);
    atd_event ev;
    if (atd_event_decode(rec->value, rec->value_len, &a, &ev) != 0) {
        c->bad++;
    } else {
        if (ev.ts != rec->ts) c->bad++;
        if (c->cb) c->cb(&ev, c->ud);
    }
    atd_arena_free(&a);
    c->n++;
    c->next = rec->offset + 1;
    return 0;
}

static inline long ts_read_events(const char *data_dir, ts_event_cb cb, void *ud)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/log", data_dir);
    atd_log_options o = {.dir = dir, .fsync_interval_ms = 10};
    atd_log *log = NULL;
    if (atd_log_open("file", &o, &log) != 0) return -1;
    int parts = atd_log_topic_ensure(log, ATD_TOPIC_EVENTS, 1);
    hu_read_ctx c = {cb, ud, 0, 0, 0};
    for (int p = 0; p < parts; p++) {
        c.next = 0;
        for (;;) {
            int n = atd_log_read(log, ATD_TOPIC_EVENTS, p, c.next, 4096, hu_on_record, &c);
            if (n < 0) {
                fprintf(stderr, "log read: %s\n", atd_strerror(n));
                atd_log_close(log);
                return -1;
            }
            if (n == 0) break;
        }
    }
    atd_log_close(log);
    return c.bad ? -1 : c.n;
}

static inline int str_is(atd_str s, const char *c) { return atd_str_eq_c(s, c); }

#endif
