/* Reading a request: headers, the client address. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "http/http_internal.h"

h2o_iovec_t atd__http_header(h2o_req_t *req, const char *name, size_t name_len)
{
    const h2o_token_t *tok = h2o_lookup_token(name, name_len);
    ssize_t i = tok ? h2o_find_header(&req->headers, tok, -1)
                    : h2o_find_header_by_str(&req->headers, name, name_len, -1);
    if (i < 0) return h2o_iovec_init(NULL, 0);
    return req->headers.entries[i].value;
}

static size_t peer_ip(h2o_req_t *req, char out[ATD_IP_TEXT_MAX])
{
    struct sockaddr_storage ss;
    socklen_t sl = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    if (sl == 0) return 0;
    atd_ip ip;
    if (ss.ss_family == AF_INET) {
        ip.family = 4;
        memcpy(ip.addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
    } else if (ss.ss_family == AF_INET6) {
        const uint8_t *a = (const uint8_t *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (!memcmp(a, mapped, 12)) {
            ip.family = 4;
            memcpy(ip.addr, a + 12, 4);
        } else {
            ip.family = 6;
            memcpy(ip.addr, a, 16);
        }
    } else {
        return 0;
    }
    return atd_ip_format(&ip, out);
}

size_t atd__http_client_ip(h2o_req_t *req, int trust_proxy, char out[ATD_IP_TEXT_MAX])
{
    if (trust_proxy) {
        h2o_iovec_t xff = atd__http_header(req, H2O_STRLIT("x-forwarded-for"));
        if (xff.base) {
            const char *comma = memchr(xff.base, ',', xff.len);
            size_t n = comma ? (size_t)(comma - xff.base) : xff.len;
            atd_ip ip;
            /* a proxy that sends garbage does not make the request fail: use the peer */
            if (atd_ip_parse(xff.base, n, &ip) == 0) return atd_ip_format(&ip, out);
        }
    }
    return peer_ip(req, out);
}

int atd__http_key_ok(h2o_req_t *req, const atd_http_app *app, const char *header, size_t hlen)
{
    if (!app->sdk_key) return 1;
    /* The first header of that name, found by its text: h2o keeps request header names in
     * lower case, a token's text included, so this finds what a token lookup would (without
     * one: this runs on every SDK request). */
    const h2o_header_t *h = req->headers.entries, *end = h + req->headers.size;
    for (; h < end; h++) {
        if (h->name->len != hlen || !atd__bytes_eq(h->name->base, header, hlen)) continue;
        return h->value.len == app->sdk_key_len &&
               atd__bytes_eq(h->value.base, app->sdk_key, app->sdk_key_len);
    }
    return 0;
}
