/* Private to src/http: the server's per-thread state and the helpers the route files share. */
#ifndef ATTRIBD_HTTP_INTERNAL_H
#define ATTRIBD_HTTP_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>

#include <h2o.h>

#include "attribd/common.h"
#include "attribd/engine.h"
#include "attribd/config.h"
#include "attribd/event.h"
#include "attribd/http.h"
#include "attribd/ip.h"
#include "attribd/json.h"
#include "attribd/log.h"

/* Routes, for metrics labels. */
typedef enum atd_route {
    ATD_ROUTE_CLICK,
    ATD_ROUTE_IMPRESSION,
    ATD_ROUTE_SDK,
    ATD_ROUTE_S2S,
    ATD_ROUTE_HEALTHZ,
    ATD_ROUTE_METRICS,
    ATD_ROUTE_CONVERSION,
    ATD_ROUTE_OTHER,
    ATD_ROUTE_COUNT
} atd_route;

typedef struct atd_http_thread atd_http_thread;
struct atd_ingest_guard;

/* One configured app as the routes look it up (src/http/apps.c). Pointers into the config the
 * thread holds; valid until the thread takes a new config. */
typedef struct atd_http_app {
    const atd_app_config *cfg;
    const char *id;
    size_t id_len;
    uint64_t hash;
    const char *sdk_key; /* NULL: no key check */
    size_t sdk_key_len;
} atd_http_app;

/* The apps of one config: scanned when few, else by hash (open addressing over slots). */
typedef struct atd_http_apps {
    atd_http_app *apps;
    size_t n;
    uint32_t *slots; /* index into apps + 1; 0 = empty */
    size_t mask;
} atd_http_apps;

/* a == b over n bytes; inline for the short strings of the request path (app ids, keys,
 * header names): no call for 4..16 bytes. */
static inline int atd__bytes_eq(const char *a, const char *b, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t a0, b0, a1, b1;
        memcpy(&a0, a, 8);
        memcpy(&b0, b, 8);
        memcpy(&a1, a + n - 8, 8);
        memcpy(&b1, b + n - 8, 8);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    if (n >= 4 && n < 8) {
        uint32_t a0, b0, a1, b1;
        memcpy(&a0, a, 4);
        memcpy(&b0, b, 4);
        memcpy(&a1, a + n - 4, 4);
        memcpy(&b1, b + n - 4, 4);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    return n == 0 || memcmp(a, b, n) == 0;
}

/* One event staged for the next group commit (offsets into the thread's values/keys). */
typedef struct atd_staged {
    size_t koff, klen, voff, vlen;
    int64_t ts;
    int part;
    uint8_t type;
} atd_staged;

/* The answer a staged request gets once its events are in the log. */
typedef struct atd_answer {
    h2o_req_t *req; /* NULL when the request went away meanwhile */
    struct atd_ingest_guard *guard;
    int status;
    h2o_iovec_t body;     /* JSON, or empty */
    h2o_iovec_t location; /* 302 target, or {NULL,0} */
} atd_answer;

/* One event loop. ctx comes first: a request finds its thread from req->conn->ctx. */
struct atd_http_thread {
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    atd_http_server *srv;
    int fd;                 /* listening socket (owned by `listener` once the loop runs) */
    h2o_socket_t *listener; /* NULL once closed */
    pthread_t tid;
    h2o_linklist_t conns;   /* accepted sockets (struct conn_node in server.c) */
    int n_conns;

    /* The config this thread uses, refreshed when srv->cfg_gen moves (no lock per request). */
    atd_config *cfg;
    uint64_t cfg_gen;
    atd_http_apps apps; /* cfg's apps, indexed (rebuilt with cfg) */

    /* Reused for every request of this thread, so the ingest path does not allocate once they
     * have grown to the working size. */
    atd_arena arena;          /* parsed events' strings; reset per request */
    atd_buf json;             /* JSON built from a query string / S2S body */
    atd_event *events;        /* parsed events of one request */
    size_t events_cap;

    /* The group commit of this loop turn (src/http/ingest.c). */
    atd_buf values;           /* encoded records, back to back */
    atd_buf keys;             /* their partition keys */
    atd_staged *staged;
    size_t n_staged, staged_cap;
    atd_answer *answers, *answers_spare;
    size_t n_answers, answers_cap, answers_spare_cap;
    uint64_t batch_gen;
    h2o_timeout_entry_t flush_entry;
    atd_log_record *recs;
    size_t recs_cap;
    /* the ticket of this thread's batch with app events that is appended and not yet
     * answered, 0 when none (src/http/ingest.c, answer turns) */
    _Atomic uint64_t app_unanswered;

    /* Read-only queries of the engine's state (GET /v1/conversion): an engine of this thread
     * (engines are not shared between threads), made on first use. */
    atd_engine *engine;
};

struct atd_http_server {
    atd_http_options opt;
    atd_log *log;
    h2o_globalconf_t gconf;
    atd_http_thread *threads;
    int n_threads;
    int port;
    _Atomic int stopping;
    _Atomic int grace_ms;
    _Atomic int connections; /* over all threads, for max_connections */
    _Atomic uint64_t cfg_gen;
    atd_http_server *retired_next;
    /* group commits: a ticket per append gives the log's order; a batch with touches is
     * answered after every earlier batch with app events (src/http/ingest.c) */
    pthread_mutex_t append_mu;
    uint64_t append_ticket;              /* under append_mu */
    _Atomic uint32_t turn_seq;           /* futex word: bumped when an app batch is answered */
    _Atomic int turn_waiters;            /* a thread sleeps (or is about to) on turn_seq */
    /* ATD_TEST_ANSWER_SEQ set at start: every batched answer carries x-answer-seq, the order
     * in which the threads sent them (tests/integration/test_http_order.c) */
    int answer_seq_on;
    _Atomic uint64_t answer_seq;
};

static inline atd_http_thread *atd__http_thread(h2o_req_t *req)
{
    return (atd_http_thread *)req->conn->ctx;
}

/* The current config for this thread (a reference the thread holds; do not release). */
const atd_config *atd__http_config(atd_http_thread *t);

/* --- apps (src/http/apps.c) ---------------------------------------------------------------- */
/* Index building and lookup: cfg may be NULL (no apps); the index points into cfg. */
void atd__http_apps_build(atd_http_apps *ix, const atd_config *cfg);
void atd__http_apps_free(atd_http_apps *ix);
const atd_http_app *atd__http_app_find(const atd_http_apps *ix, atd_str id);
/* The app of this id in the thread's current config, or NULL (unknown app). */
static inline const atd_http_app *atd__http_app(atd_http_thread *t, atd_str id)
{
    atd__http_config(t); /* refreshes t->apps when the config changed */
    return atd__http_app_find(&t->apps, id);
}

/* --- responses (src/http/respond.c) ------------------------------------------------------ */
/* body is copied into the request's pool. */
void atd__http_send(h2o_req_t *req, int status, const char *reason, const char *content_type,
                    const char *body, size_t len);
void atd__http_send_json(h2o_req_t *req, int status, const char *body, size_t len);
/* The same without the copy: body must stay valid until the request is freed (static, or in
 * the request's pool). */
void atd__http_send_json_kept(h2o_req_t *req, int status, const char *body, size_t len);
/* {"error":msg,"field":field,"line":line}; field may be NULL; line <= 0 leaves it out.
 * Also counts the reject by field in the metrics. */
void atd__http_send_error(h2o_req_t *req, int status, const char *msg, const char *field,
                          long line);
void atd__http_send_empty(h2o_req_t *req, int status, const char *reason);
const char *atd__http_reason(int status);
/* Writes what h2o's sprintf of an answer's head would (answer_head.c): the va_list holds
 * (int status, const char *reason, const char *date, const char *connection[, size_t length])
 * for with_length 0 [1]. Returns the length written, a NUL after it. */
int atd__answer_head(char *s, int with_length, va_list ap);

/* --- request helpers (src/http/request.c) ------------------------------------------------- */
/* The value of a request header (name in lower case), or {NULL,0}. */
h2o_iovec_t atd__http_header(h2o_req_t *req, const char *name, size_t name_len);
/* The client's address, canonical (the first X-Forwarded-For entry when trust_proxy is on and
 * it is a valid address, else the peer). Writes text into out, returns its length (0 if none). */
size_t atd__http_client_ip(h2o_req_t *req, int trust_proxy, char out[ATD_IP_TEXT_MAX]);
/* 1 when the header (name in lower case) equals the app's sdk_key, or no key is configured. */
int atd__http_key_ok(h2o_req_t *req, const atd_http_app *app, const char *header, size_t hlen);

/* --- query strings (src/http/query.c) ----------------------------------------------------- */
/* Decodes %XX (and '+' as a space when plus_is_space) of src into dst (at least n bytes);
 * returns the length. A '%' not followed by two hex digits is kept as it is. */
size_t atd__url_decode(const char *src, size_t n, char *dst, int plus_is_space);
/* Calls cb(name, name_len, value, value_len, ud) for each `name=value` of a query string (the
 * text after '?'), both still encoded; stops when cb returns non-zero. */
void atd__query_each(const char *q, size_t n,
                     int (*cb)(const char *name, size_t nlen, const char *val, size_t vlen,
                               void *ud),
                     void *ud);

/* --- S2S (src/http/routes_s2s.c) --------------------------------------------------------- */
/* Translates an AppsFlyer S2S body into the JSON object of an inapp event (into b, reset
 * first; tokens and unescaped text go to arena). Returns 0, or ATD_EINVAL with a static
 * message and the AppsFlyer field to blame. The result still has to pass atd_event_parse_json. */
int atd__s2s_to_json(const char *js, size_t len, atd_arena *arena, atd_buf *b,
                     const char **err_field, const char **err_msg);

/* --- routes ------------------------------------------------------------------------------- */
/* Each returns 0 after it answered the request. */
int atd__route_touch(atd_http_thread *t, h2o_req_t *req, atd_event_type type, atd_str app);
int atd__route_sdk(atd_http_thread *t, h2o_req_t *req, atd_str app);
int atd__route_s2s(atd_http_thread *t, h2o_req_t *req, atd_str app);
int atd__route_healthz(atd_http_thread *t, h2o_req_t *req);
int atd__route_metrics(atd_http_thread *t, h2o_req_t *req);
int atd__route_conversion(atd_http_thread *t, h2o_req_t *req, atd_str app, atd_str device);

/* --- ingest (src/http/ingest.c) ----------------------------------------------------------- */
/* Makes room for n parsed events in t->events. */
atd_event *atd__ingest_events(atd_http_thread *t, size_t n);
/* Stamps ts on t->events[0..n) and stages them (encoded, keyed) for this turn's group commit. */
void atd__ingest_stage(atd_http_thread *t, size_t n);
/* Registers the answer of a request whose events were staged: sent once the batch is in the
 * log (status, JSON body or none, optional Location), or 503 when the append failed. body and
 * location are copied. */
void atd__ingest_answer(atd_http_thread *t, h2o_req_t *req, int status, const char *body,
                        size_t len, const char *location, size_t location_len);
/* Appends the staged batch now and answers its requests (the end-of-turn timer calls it). */
void atd__ingest_flush(atd_http_thread *t);

/* Metrics the routes bump (src/http/server.c). */
void atd__metrics_reject(const char *field);
void atd__metrics_events(atd_event_type type, uint64_t n);

#endif
