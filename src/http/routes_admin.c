/* Operator routes: /healthz (liveness) and /metrics (Prometheus text). */
#include "attribd/metrics.h"
#include "http/http_internal.h"

int atd__route_healthz(atd_http_thread *t, h2o_req_t *req)
{
    static const char body[] = "{\"status\":\"ok\"}";
    atd__http_send_json(req, 200, body, sizeof body - 1);
    return 0;
}

int atd__route_metrics(atd_http_thread *t, h2o_req_t *req)
{
    /* Scrapes are rare: a fresh buffer each time keeps the per-thread ones small. */
    atd_buf b;
    atd_buf_init(&b);
    atd_metrics_render(&b);
    atd__http_send(req, 200, NULL, "text/plain; version=0.0.4", b.p ? b.p : "", b.n);
    atd_buf_free(&b);
    return 0;
}
