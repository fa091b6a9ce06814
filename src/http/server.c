/* The h2o server: one event loop per thread, each with its own SO_REUSEPORT listener; request
 * limits (body, header bytes, timeouts, connections); routing; per-request metrics. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "attribd/logging.h"
#include "attribd/metrics.h"
#include "http/http_internal.h"

/* --- metrics ------------------------------------------------------------------------------ */

static const char *const route_names[ATD_ROUTE_COUNT] = {
    "click", "impression", "sdk", "s2s", "healthz", "metrics", "conversion", "other"};

/* The status codes the server answers with; anything else counts as "other". */
static const int status_codes[] = {200, 204, 302, 400, 401, 404, 405, 413, 431, 500, 503};
#define N_STATUS (sizeof status_codes / sizeof status_codes[0] + 1)

static _Atomic(atd_counter *) req_counters[ATD_ROUTE_COUNT][N_STATUS];
static atd_histogram *latency[ATD_ROUTE_COUNT];
static atd_counter *event_counters[ATD_EV_INAPP + 1];
static atd_counter *conn_rejected, *conn_accepted;
static pthread_once_t metrics_once = PTHREAD_ONCE_INIT;

static void metrics_init(void)
{
    char labels[64];
    for (int r = 0; r < ATD_ROUTE_COUNT; r++) {
        snprintf(labels, sizeof labels, "route=\"%s\"", route_names[r]);
        latency[r] = atd_metrics_histogram("attribd_http_request_duration_seconds",
                                           "Time from the request's first byte to its answer",
                                           labels);
    }
    for (int ty = ATD_EV_CLICK; ty <= ATD_EV_INAPP; ty++) {
        snprintf(labels, sizeof labels, "type=\"%s\"", atd_event_type_name((atd_event_type)ty));
        event_counters[ty] =
            atd_metrics_counter("attribd_events_total", "Events acknowledged (in the log)", labels);
    }
    conn_accepted = atd_metrics_counter("attribd_http_connections_total",
                                        "Connections accepted", "result=\"accepted\"");
    conn_rejected = atd_metrics_counter("attribd_http_connections_total", "Connections accepted",
                                        "result=\"rejected_max_connections\"");
}

static atd_counter *request_counter(atd_route r, int status)
{
    size_t s = 0;
    while (s < N_STATUS - 1 && status_codes[s] != status) s++;
    atd_counter *c = atomic_load_explicit(&req_counters[r][s], memory_order_acquire);
    if (c) return c;
    char labels[64];
    if (s < N_STATUS - 1)
        snprintf(labels, sizeof labels, "route=\"%s\",status=\"%d\"", route_names[r], status);
    else
        snprintf(labels, sizeof labels, "route=\"%s\",status=\"other\"", route_names[r]);
    c = atd_metrics_counter("attribd_http_requests_total", "HTTP requests by route and status",
                            labels);
    atomic_store_explicit(&req_counters[r][s], c, memory_order_release);
    return c;
}

void atd__metrics_reject(const char *field)
{
    /* Fields are a small static set (the parser's names), so the series stay few. Cached per
     * field pointer in a tiny table to keep the registry lock off the hot path. */
    enum { SLOTS = 64 };
    static _Atomic(const char *) names[SLOTS];
    static _Atomic(atd_counter *) counters[SLOTS];
    if (!field) field = "none";
    for (int i = 0; i < SLOTS; i++) {
        const char *n = atomic_load_explicit(&names[i], memory_order_acquire);
        if (n && !strcmp(n, field)) {
            atd_counter *c = atomic_load_explicit(&counters[i], memory_order_acquire);
            if (c) {
                atd_counter_inc(c);
                return;
            }
        }
    }
    char labels[96];
    snprintf(labels, sizeof labels, "field=\"%.60s\"", field);
    atd_counter *c = atd_metrics_counter("attribd_rejects_total",
                                         "Requests refused for bad input, by field", labels);
    atd_counter_inc(c);
    for (int i = 0; i < SLOTS; i++) {
        const char *expected = NULL;
        if (atomic_compare_exchange_strong(&names[i], &expected, field)) {
            atomic_store_explicit(&counters[i], c, memory_order_release);
            return;
        }
    }
}

void atd__metrics_events(atd_event_type type, uint64_t n)
{
    if (type >= ATD_EV_CLICK && type <= ATD_EV_INAPP) atd_counter_add(event_counters[type], n);
}

/* --- config per thread ----------------------------------------------------------------- */

const atd_config *atd__http_config(atd_http_thread *t)
{
    uint64_t gen = atomic_load_explicit(&t->srv->cfg_gen, memory_order_acquire);
    if (!t->cfg || gen != t->cfg_gen) {
        atd_config *cfg = atd_config_current();
        if (cfg) {
            atd__http_apps_build(&t->apps, cfg);
            if (t->cfg) atd_config_release(t->cfg);
            t->cfg = cfg;
            t->cfg_gen = gen;
        }
    }
    return t->cfg;
}

void atd_http_server_config_changed(atd_http_server *srv)
{
    atomic_fetch_add_explicit(&srv->cfg_gen, 1, memory_order_release);
}

/* --- routing ----------------------------------------------------------------------------- */

static atd_route classify(h2o_iovec_t path)
{
    const char *p = path.base;
    size_t n = path.len;
#define PREFIX(s) (n >= sizeof(s) - 1 && !memcmp(p, s, sizeof(s) - 1))
    if (PREFIX("/c/")) return ATD_ROUTE_CLICK;
    if (PREFIX("/i/")) return ATD_ROUTE_IMPRESSION;
    if (PREFIX("/v1/events/")) return ATD_ROUTE_SDK;
    if (PREFIX("/inappevent/")) return ATD_ROUTE_S2S;
    if (PREFIX("/v1/conversion/")) return ATD_ROUTE_CONVERSION;
    if (n == 8 && !memcmp(p, "/healthz", 8)) return ATD_ROUTE_HEALTHZ;
    if (n == 8 && !memcmp(p, "/metrics", 8)) return ATD_ROUTE_METRICS;
#undef PREFIX
    return ATD_ROUTE_OTHER;
}

/* The request path without the query. */
static h2o_iovec_t req_path(h2o_req_t *req)
{
    size_t n = req->path.len;
    if (req->query_at != SIZE_MAX && req->query_at < n) n = req->query_at;
    return h2o_iovec_init(req->path.base, n);
}

/* The {app_id} segment after prefix: percent-decoded into the request pool. A path with more
 * segments, or an empty app, gives {NULL,0}. */
static atd_str path_app(h2o_req_t *req, h2o_iovec_t path, size_t prefix)
{
    const char *s = path.base + prefix;
    size_t n = path.len - prefix;
    if (n == 0 || memchr(s, '/', n)) return ATD_STR_NULL;
    if (!memchr(s, '%', n)) return (atd_str){s, n};
    char *d = h2o_mem_alloc_pool(&req->pool, n + 1);
    return (atd_str){d, atd__url_decode(s, n, d, 0)};
}

static size_t request_header_bytes(h2o_req_t *req)
{
    size_t n = req->input.method.len + req->input.path.len + 12;
    for (size_t i = 0; i < req->headers.size; i++)
        n += req->headers.entries[i].name->len + req->headers.entries[i].value.len + 4;
    return n;
}

static int method_is(h2o_req_t *req, const char *m, size_t len)
{
    return h2o_memis(req->method.base, req->method.len, m, len);
}

static int send_405(h2o_req_t *req, const char *allow)
{
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, allow, strlen(allow));
    atd__http_send_error(req, 405, "method not allowed", NULL, 0);
    return 0;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    atd_http_thread *t = atd__http_thread(req);
    if (request_header_bytes(req) > t->srv->opt.max_header_bytes) {
        req->http1_is_persistent = 0;
        atd__http_send_error(req, 431, "request header fields too large", "headers", 0);
        return 0;
    }
    h2o_iovec_t path = req_path(req);
    atd_route r = classify(path);
    switch (r) {
    case ATD_ROUTE_CLICK:
    case ATD_ROUTE_IMPRESSION: {
        /* GET only: a HEAD (link checkers, crawlers) must not count as a click */
        if (!method_is(req, H2O_STRLIT("GET"))) return send_405(req, "GET");
        atd_str app = path_app(req, path, 3);
        if (!app.p) break;
        return atd__route_touch(t, req, r == ATD_ROUTE_CLICK ? ATD_EV_CLICK : ATD_EV_IMPRESSION,
                                app);
    }
    case ATD_ROUTE_SDK: {
        if (!method_is(req, H2O_STRLIT("POST"))) return send_405(req, "POST");
        atd_str app = path_app(req, path, sizeof("/v1/events/") - 1);
        if (!app.p) break;
        return atd__route_sdk(t, req, app);
    }
    case ATD_ROUTE_S2S: {
        if (!method_is(req, H2O_STRLIT("POST"))) return send_405(req, "POST");
        atd_str app = path_app(req, path, sizeof("/inappevent/") - 1);
        if (!app.p) break;
        return atd__route_s2s(t, req, app);
    }
    case ATD_ROUTE_CONVERSION: {
        if (!method_is(req, H2O_STRLIT("GET")) && !method_is(req, H2O_STRLIT("HEAD")))
            return send_405(req, "GET");
        /* /v1/conversion/{app_id}/{device_id}: split at the one '/' between them */
        size_t prefix = sizeof("/v1/conversion/") - 1;
        const char *rest = path.base + prefix, *slash = memchr(rest, '/', path.len - prefix);
        if (!slash) break;
        size_t applen = (size_t)(slash - rest);
        atd_str app = path_app(req, h2o_iovec_init(path.base, prefix + applen), prefix);
        atd_str dev = path_app(req, path, prefix + applen + 1);
        if (!app.p || !dev.p) break;
        return atd__route_conversion(t, req, app, dev);
    }
    case ATD_ROUTE_HEALTHZ:
        if (!method_is(req, H2O_STRLIT("GET")) && !method_is(req, H2O_STRLIT("HEAD")))
            return send_405(req, "GET");
        return atd__route_healthz(t, req);
    case ATD_ROUTE_METRICS:
        if (!method_is(req, H2O_STRLIT("GET")) && !method_is(req, H2O_STRLIT("HEAD")))
            return send_405(req, "GET");
        return atd__route_metrics(t, req);
    default: break;
    }
    atd__http_send_error(req, 404, "no such route", NULL, 0);
    return 0;
}

/* Runs after every response, also for the errors h2o itself sends (413, 400 on a broken
 * request): counts requests by route and status, and the latency. */
static void on_log_access(h2o_logger_t *self, h2o_req_t *req)
{
    h2o_iovec_t path = req->path.base ? req_path(req) : req->input.path;
    if (!path.base) path = h2o_iovec_init("", 0);
    atd_route r = classify(path);
    atd_counter_inc(request_counter(r, req->res.status));
    struct timeval now;
    gettimeofday(&now, NULL);
    int64_t us = h2o_timeval_subtract(&req->timestamps.request_begin_at, &now);
    if (req->timestamps.request_begin_at.tv_sec == 0 || us < 0) us = 0;
    atd_histogram_observe_us(latency[r], (uint64_t)us);
}

/* --- connections ---------------------------------------------------------------------- */

typedef struct conn_node {
    h2o_linklist_t link;
    atd_http_thread *t;
    h2o_socket_t *sock;
} conn_node;

static void on_conn_close(void *data)
{
    conn_node *c = data;
    h2o_linklist_unlink(&c->link);
    c->t->n_conns--;
    atomic_fetch_sub_explicit(&c->t->srv->connections, 1, memory_order_relaxed);
    free(c);
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    atd_http_thread *t = listener->data;
    if (err) return;
    /* Bounded work per wake-up: accept a few, then serve the loop (the rest wait in the
     * backlog and wake us again). */
    for (int i = 0; i < 16; i++) {
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (!sock) return;
        int n = atomic_fetch_add_explicit(&t->srv->connections, 1, memory_order_relaxed);
        conn_node *c = malloc(sizeof *c);
        if (n >= t->srv->opt.max_connections || !c) {
            /* Over the limit: close at once; the client sees a reset/EOF and may retry. */
            free(c);
            atomic_fetch_sub_explicit(&t->srv->connections, 1, memory_order_relaxed);
            atd_counter_inc(conn_rejected);
            h2o_socket_close(sock);
            continue;
        }
        atd_counter_inc(conn_accepted);
        c->t = t;
        c->sock = sock;
        memset(&c->link, 0, sizeof c->link);
        h2o_linklist_insert(&t->conns, &c->link);
        t->n_conns++;
        sock->on_close.cb = on_conn_close;
        sock->on_close.data = c;
        h2o_accept(&t->accept_ctx, sock);
    }
}

/* --- listeners -------------------------------------------------------------------------- */

/* Splits "host:port", "[v6]:port" or ":port". host is "" for all addresses. */
static int split_listen(const char *listen, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *colon;
    if (listen[0] == '[') {
        const char *end = strchr(listen, ']');
        if (!end || end[1] != ':') return -1;
        if ((size_t)(end - listen - 1) >= hcap) return -1;
        memcpy(host, listen + 1, end - listen - 1);
        host[end - listen - 1] = 0;
        colon = end + 1;
    } else {
        colon = strrchr(listen, ':');
        if (!colon || (size_t)(colon - listen) >= hcap) return -1;
        memcpy(host, listen, colon - listen);
        host[colon - listen] = 0;
    }
    if (!colon[1] || strlen(colon + 1) >= pcap) return -1;
    strcpy(port, colon + 1);
    for (const char *p = port; *p; p++)
        if (*p < '0' || *p > '9') return -1;
    return 0;
}

static int open_listener(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV}, *res = NULL;
    int rc = getaddrinfo(*host ? host : NULL, port, &hints, &res);
    if (rc != 0) {
        ATD_ERROR("listen %s:%s: %s", host, port, gai_strerror(rc));
        return -1;
    }
    int fd = -1, err = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 4096) == 0) break;
        err = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) ATD_ERROR("listen %s:%s: %s", host, port, strerror(err));
    return fd;
}

/* --- threads ---------------------------------------------------------------------------- */

static void thread_serve(atd_http_thread *t)
{
    t->listener = h2o_evloop_socket_create(t->ctx.loop, t->fd, H2O_SOCKET_FLAG_DONT_READ);
    t->listener->data = t;
    h2o_socket_read_start(t->listener, on_accept);
    /* The 100 ms wait bounds how late a thread notices `stopping`. */
    while (!atomic_load_explicit(&t->srv->stopping, memory_order_acquire))
        h2o_evloop_run(t->ctx.loop, 100);
}

/* Graceful stop: no new connections, keep-alive ends after the current response, in-flight
 * requests are answered, then idle keep-alive connections are closed. */
static void thread_drain(atd_http_thread *t, int grace_ms)
{
    h2o_socket_read_stop(t->listener);
    h2o_socket_close(t->listener);
    t->listener = NULL;
    h2o_context_request_shutdown(&t->ctx);
    int64_t start = atd_mono_ms();
    /* in-flight requests are answered within a few loop turns (handlers are synchronous) */
    while (t->n_conns > 0 && atd_mono_ms() - start < 50) h2o_evloop_run(t->ctx.loop, 10);
    /* the rest are idle or slow: end their reading side so h2o closes them cleanly */
    for (h2o_linklist_t *l = t->conns.next; l != &t->conns; l = l->next) {
        conn_node *c = H2O_STRUCT_FROM_MEMBER(conn_node, link, l);
        shutdown(h2o_socket_get_fd(c->sock), SHUT_RD);
    }
    while (t->n_conns > 0 && atd_mono_ms() - start < grace_ms) h2o_evloop_run(t->ctx.loop, 10);
    if (t->n_conns > 0)
        ATD_WARN("HTTP stop: %d connections still open after %d ms", t->n_conns, grace_ms);
    /* let deferred callbacks (zero timeouts of closed connections) run before disposal */
    for (int i = 0; i < 4; i++) h2o_evloop_run(t->ctx.loop, 0);
}

static void *thread_run(void *arg)
{
    atd_http_thread *t = arg;
    thread_serve(t);
    thread_drain(t, atomic_load(&t->srv->grace_ms));
    return NULL;
}

int atd_http_server_port(const atd_http_server *srv) { return srv->port; }

static atd_http_server *retired; /* stopped servers; see atd_http_server_stop */

atd_http_server *atd_http_server_start(const atd_http_options *opt, atd_log *log)
{
    pthread_once(&metrics_once, metrics_init);
    char host[256], port[16];
    if (split_listen(opt->listen, host, sizeof host, port, sizeof port) != 0) {
        ATD_ERROR("server.listen: '%s' is not host:port", opt->listen);
        return NULL;
    }
    atd_http_server *srv = calloc(1, sizeof *srv);
    if (!srv) return NULL;
    srv->opt = *opt;
    pthread_mutex_init(&srv->append_mu, NULL);
    srv->answer_seq_on = getenv("ATD_TEST_ANSWER_SEQ") != NULL;
    if (srv->opt.threads < 1) srv->opt.threads = 1;
    if (srv->opt.max_connections < 1) srv->opt.max_connections = 1;
    if (srv->opt.events_partitions < 1) srv->opt.events_partitions = 1;
    srv->log = log;

    h2o_config_init(&srv->gconf);
    /* no Server header: h2o formats it with a second sprintf per response (~1.4 k
     * instructions, ~10 % of the user-space work of an ingest request; docs/http.md) */
    srv->gconf.server_name = h2o_iovec_init(NULL, 0);
    srv->gconf.max_request_entity_size = opt->max_body;
    if (opt->idle_timeout_ms > 0) {
        srv->gconf.http1.req_timeout = (uint64_t)opt->idle_timeout_ms;
        srv->gconf.http2.idle_timeout = (uint64_t)opt->idle_timeout_ms;
    }
    h2o_hostconf_t *host_conf =
        h2o_config_register_host(&srv->gconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pc = h2o_config_register_path(host_conf, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(pc, sizeof *handler);
    handler->on_req = on_req;
    h2o_logger_t *lg = h2o_create_logger(pc, sizeof *lg);
    lg->log_access = on_log_access;
    /* errors h2o answers before routing (413, broken requests) bind to the fallback path */
    lg = h2o_create_logger(&host_conf->fallback_path, sizeof *lg);
    lg->log_access = on_log_access;

    srv->n_threads = srv->opt.threads;
    srv->threads = calloc((size_t)srv->n_threads, sizeof *srv->threads);
    if (!srv->threads) goto fail;
    for (int i = 0; i < srv->n_threads; i++) {
        atd_http_thread *t = &srv->threads[i];
        t->srv = srv;
        t->fd = -1;
        /* with port 0 the first listener picks the port and the others share it */
        if (i > 0) snprintf(port, sizeof port, "%d", srv->port);
        t->fd = open_listener(host, port);
        if (t->fd < 0) goto fail;
        if (i == 0) {
            struct sockaddr_storage ss;
            socklen_t sl = sizeof ss;
            getsockname(t->fd, (struct sockaddr *)&ss, &sl);
            srv->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                                 : ntohs(((struct sockaddr_in *)&ss)->sin_port);
        }
    }
    for (int i = 0; i < srv->n_threads; i++) {
        atd_http_thread *t = &srv->threads[i];
        h2o_context_init(&t->ctx, h2o_evloop_create(), &srv->gconf);
        t->accept_ctx.ctx = &t->ctx;
        t->accept_ctx.hosts = srv->gconf.hosts;
        h2o_linklist_init_anchor(&t->conns);
        atd_arena_init(&t->arena, 16384);
        atd_buf_init(&t->json);
        atd_buf_init(&t->values);
        atd_buf_init(&t->keys);
    }
    for (int i = 0; i < srv->n_threads; i++) {
        if (pthread_create(&srv->threads[i].tid, NULL, thread_run, &srv->threads[i]) != 0) {
            ATD_ERROR("cannot start an HTTP thread");
            abort(); /* only when the system is out of threads: nothing sensible to do */
        }
    }
    return srv;

fail:
    if (srv->threads)
        for (int i = 0; i < srv->n_threads; i++)
            if (srv->threads[i].fd >= 0) close(srv->threads[i].fd);
    h2o_config_dispose(&srv->gconf);
    free(srv->threads);
    free(srv);
    return NULL;
}

void atd_http_server_stop(atd_http_server *srv, int grace_ms)
{
    if (!srv) return;
    atomic_store(&srv->grace_ms, grace_ms);
    atomic_store(&srv->stopping, 1);
    for (int i = 0; i < srv->n_threads; i++) pthread_join(srv->threads[i].tid, NULL);
    for (int i = 0; i < srv->n_threads; i++) {
        atd_http_thread *t = &srv->threads[i];
        atd__http_apps_free(&t->apps);
        if (t->cfg) atd_config_release(t->cfg);
        t->cfg = NULL;
        atd_arena_free(&t->arena);
        if (t->engine) atd_engine_free(t->engine);
        atd_buf_free(&t->json);
        atd_buf_free(&t->values);
        atd_buf_free(&t->keys);
        free(t->events);
        free(t->recs);
        free(t->staged);
        free(t->answers);
        free(t->answers_spare);
        t->events = NULL;
        t->recs = NULL;
        t->staged = NULL;
        t->answers = t->answers_spare = NULL;
    }
    /* h2o 2.2's h2o_context_dispose asserts that no timer is still linked to the loop, and
     * closed connections leave some behind; there is no API to drain them. A server is stopped
     * once per process, right before exit, so its h2o contexts and loops are kept (reachable
     * from `retired`) and left to the process exit. */
    srv->retired_next = retired;
    retired = srv;
}

#if defined(__SANITIZE_ADDRESS__)
/* LeakSanitizer: h2o 2.2 keeps freed buffers in thread-local recycle lists
 * (h2o_mem_alloc_recycle) that it never releases when an event-loop thread exits; those chunks
 * are h2o's, not ours. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:h2o_mem_alloc_recycle\n"; }
#endif
