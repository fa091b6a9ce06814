/* Answers: JSON bodies, error bodies of the documented shape, empty answers. */
#include <stdio.h>

#include "http/http_internal.h"

const char *atd__http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 302: return "Found";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

/* copy: the body goes into the request's pool first (else it must outlive the request). */
static void send_body(h2o_req_t *req, int status, const char *reason, const char *content_type,
                      const char *body, size_t len, int copy)
{
    static h2o_generator_t generator = {NULL, NULL};
    req->res.status = status;
    req->res.reason = reason ? reason : atd__http_reason(status);
    req->res.content_length = len;
    if (content_type)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type,
                       strlen(content_type));
    h2o_start_response(req, &generator);
    if (len == 0 || h2o_memis(req->input.method.base, req->input.method.len, H2O_STRLIT("HEAD"))) {
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
        return;
    }
    h2o_iovec_t buf = copy ? h2o_strdup(&req->pool, body, len) : h2o_iovec_init(body, len);
    h2o_send(req, &buf, 1, H2O_SEND_STATE_FINAL);
}

void atd__http_send(h2o_req_t *req, int status, const char *reason, const char *content_type,
                    const char *body, size_t len)
{
    send_body(req, status, reason, content_type, body, len, 1);
}

void atd__http_send_json_kept(h2o_req_t *req, int status, const char *body, size_t len)
{
    send_body(req, status, NULL, "application/json", body, len, 0);
}

void atd__http_send_json(h2o_req_t *req, int status, const char *body, size_t len)
{
    atd__http_send(req, status, NULL, "application/json", body, len);
}

void atd__http_send_error(h2o_req_t *req, int status, const char *msg, const char *field,
                          long line)
{
    atd_buf b;
    atd_buf_init(&b);
    atd_buf_puts(&b, "{\"error\":");
    atd_json_strz(&b, msg);
    if (field) {
        atd_buf_puts(&b, ",\"field\":");
        atd_json_strz(&b, field);
    }
    if (line > 0) atd_buf_printf(&b, ",\"line\":%ld", line);
    atd_buf_putc(&b, '}');
    if (status == 400 || status == 401 || status == 404 || status == 413 || status == 431)
        if (field) atd__metrics_reject(field);
    atd__http_send_json(req, status, b.p, b.n);
    atd_buf_free(&b);
}

void atd__http_send_empty(h2o_req_t *req, int status, const char *reason)
{
    static h2o_generator_t generator = {NULL, NULL};
    req->res.status = status;
    req->res.reason = reason ? reason : atd__http_reason(status);
    /* 204 must not carry Content-Length; other statuses need one to keep the connection */
    req->res.content_length = status == 204 ? SIZE_MAX : 0;
    h2o_start_response(req, &generator);
    h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
}
