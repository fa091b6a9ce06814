/* The HTTP server of `attribd serve` (libh2o evloop): ingest routes (clicks, impressions, SDK
 * and S2S events), /healthz and /metrics. docs/http.md describes the endpoints.
 *
 * One event loop per thread, each with its own listening socket bound with SO_REUSEPORT, so the
 * kernel spreads connections over the threads and no lock is shared on the request path. */
#ifndef ATTRIBD_HTTP_H
#define ATTRIBD_HTTP_H

#include <stddef.h>

#include "attribd/config.h"
#include "attribd/kv.h"
#include "attribd/log.h"

typedef struct atd_http_server atd_http_server;

typedef struct atd_http_options {
    const char *listen;      /* "host:port", "[v6]:port" or ":port" (all addresses) */
    int threads;             /* event loops (>= 1) */
    size_t max_body;         /* bigger request bodies get 413 */
    size_t max_header_bytes; /* request line + headers over this get 431 */
    int max_connections;     /* accepted sockets beyond this are closed at once */
    int idle_timeout_ms;     /* keep-alive idle / slow client */
    int events_partitions;   /* partitions of topic `events` (as atd_log_topic_ensure said) */
    atd_kv *kv;              /* the engine's store for read-only queries (GET /v1/conversion);
                                NULL: those answer 503 */
} atd_http_options;

/* Binds the listeners and starts the threads. The log is not owned and must outlive the server.
 * The config of each request is atd_config_current(); after atd_config_set_current() call
 * atd_http_server_config_changed() so the threads pick the new one up. Returns NULL and logs
 * why on error (e.g. the address is in use). */
atd_http_server *atd_http_server_start(const atd_http_options *opt, atd_log *log);
void atd_http_server_config_changed(atd_http_server *srv);
/* The port actually bound (useful with port 0). */
int atd_http_server_port(const atd_http_server *srv);
/* Graceful stop: closes the listeners, lets in-flight requests finish (at most grace_ms), joins
 * the threads and frees the server. */
void atd_http_server_stop(atd_http_server *srv, int grace_ms);

#endif
