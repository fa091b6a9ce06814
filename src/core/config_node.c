/* Typed reads of libyaml document nodes for the config: every failure names file, line and key.
 *
 * YAML typing rules we apply (docs/config.md): integers and booleans must be plain (unquoted)
 * scalars, so a quoted "5" is text, not a number; durations, sizes and strings may be plain or
 * quoted ("7d" and 7d are the same); a plain 0 is the duration "0". */
#include "core/config_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "attribd/duration.h"
#include "attribd/ip.h"

int cfg_fail(cfg_ctx *c, const yaml_node_t *n, const char *path, const char *fmt, ...)
{
    if (c->failed) return -1;
    c->failed = 1;
    if (!c->err || c->errlen == 0) return -1;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *sep = path && *path ? ": " : "";
    if (n)
        snprintf(c->err, c->errlen, "%s:%zu: %s%s%s", c->name, (size_t)n->start_mark.line + 1,
                 path ? path : "", sep, msg);
    else
        snprintf(c->err, c->errlen, "%s: %s%s%s", c->name, path ? path : "", sep, msg);
    return -1;
}

yaml_node_t *cfg_node(cfg_ctx *c, yaml_node_item_t id)
{
    return yaml_document_get_node(c->doc, id);
}

int cfg_is_null(const yaml_node_t *n)
{
    if (!n) return 1;
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return 0;
    const char *v = (const char *)n->data.scalar.value;
    return n->data.scalar.length == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
           strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

const char *cfg_node_kind(const yaml_node_t *n)
{
    if (!n) return "nothing";
    switch (n->type) {
    case YAML_MAPPING_NODE: return "a map";
    case YAML_SEQUENCE_NODE: return "a list";
    default: return cfg_is_null(n) ? "nothing" : "text";
    }
}

/* The value for a message: quoted, at most 60 bytes, non-printable bytes as '?'. */
static const char *shown(const yaml_node_t *n, char *buf, size_t len)
{
    const unsigned char *v = n->data.scalar.value;
    size_t k = 0, max = len - 6;
    if (max > 60) max = 60;
    buf[k++] = '"';
    for (size_t i = 0; i < n->data.scalar.length && k < max; i++)
        buf[k++] = (v[i] >= 0x20 && v[i] < 0x7f) ? (char)v[i] : '?';
    if (n->data.scalar.length > max - 1) buf[k++] = '.', buf[k++] = '.', buf[k++] = '.';
    buf[k++] = '"';
    buf[k] = '\0';
    return buf;
}

/* A non-null scalar, or a failure saying what was found instead. */
static int need_scalar(cfg_ctx *c, yaml_node_t *n, const char *path, const char *what)
{
    if (!n || cfg_is_null(n)) return cfg_fail(c, n, path, "needs a value (%s)", what);
    if (n->type != YAML_SCALAR_NODE)
        return cfg_fail(c, n, path, "expected %s, got %s", what, cfg_node_kind(n));
    if (memchr(n->data.scalar.value, '\0', n->data.scalar.length))
        return cfg_fail(c, n, path, "contains a NUL character");
    return 0;
}

int cfg_string(cfg_ctx *c, yaml_node_t *n, const char *path, char **out)
{
    if (need_scalar(c, n, path, "text") != 0) return -1;
    if (n->data.scalar.length == 0) return cfg_fail(c, n, path, "must not be empty");
    *out = atd_arena_strndup(c->arena, (const char *)n->data.scalar.value, n->data.scalar.length);
    return 0;
}

int cfg_int(cfg_ctx *c, yaml_node_t *n, const char *path, int64_t min, int64_t max, int64_t *out)
{
    char b[80];
    if (need_scalar(c, n, path, "an integer") != 0) return -1;
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return cfg_fail(c, n, path, "%s is quoted text; write a plain integer (%lld-%lld)",
                        shown(n, b, sizeof b), (long long)min, (long long)max);
    const char *s = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length, i = 0;
    int neg = 0;
    if (s[0] == '-' || s[0] == '+') neg = s[0] == '-', i = 1;
    /* "010" is 8 in YAML 1.1 and 10 in YAML 1.2: refuse the ambiguity */
    int ok = i < len && !(s[i] == '0' && len - i > 1);
    uint64_t v = 0;
    for (size_t j = i; ok && j < len; j++) {
        if (s[j] < '0' || s[j] > '9') ok = 0;
        else if (v > (UINT64_MAX - 9) / 10) v = UINT64_MAX; /* saturate: surely out of range */
        else v = v * 10 + (uint64_t)(s[j] - '0');
    }
    if (!ok)
        return cfg_fail(c, n, path, "%s is not an integer (decimal digits, no leading zeros)",
                        shown(n, b, sizeof b));
    int in_range;
    int64_t x = 0;
    if (neg) {
        in_range = v <= (uint64_t)INT64_MAX && -(int64_t)v >= min;
        if (in_range) x = -(int64_t)v;
    } else {
        in_range = v <= (uint64_t)INT64_MAX && (int64_t)v <= max;
        if (in_range) x = (int64_t)v;
    }
    if (!in_range || x < min || x > max)
        return cfg_fail(c, n, path, "%s is out of range %lld-%lld", shown(n, b, sizeof b),
                        (long long)min, (long long)max);
    *out = x;
    return 0;
}

void cfg_duration_text(int64_t ms, char *buf, size_t len)
{
    static const struct { int64_t ms; const char *unit; } units[] = {
        {86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
    if (ms == 0) {
        snprintf(buf, len, "0");
        return;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (ms % units[i].ms == 0) {
            snprintf(buf, len, "%lld%s", (long long)(ms / units[i].ms), units[i].unit);
            return;
        }
    snprintf(buf, len, "%lldms", (long long)ms);
}

int cfg_duration(cfg_ctx *c, yaml_node_t *n, const char *path, int64_t min, int64_t max,
                 const char *range, int64_t *out)
{
    char b[80], lo[32], hi[32], r[70];
    cfg_duration_text(min, lo, sizeof lo);
    cfg_duration_text(max, hi, sizeof hi);
    snprintf(r, sizeof r, "%s-%s", lo, hi);
    if (!range) range = r;
    if (need_scalar(c, n, path, "a duration") != 0) return -1;
    int64_t ms;
    if (atd_duration_parse((const char *)n->data.scalar.value, n->data.scalar.length, &ms) != 0)
        return cfg_fail(c, n, path,
                        "%s is not a duration (digits then s, m, h or d, or 0), range %s",
                        shown(n, b, sizeof b), range);
    if (ms < min || ms > max)
        return cfg_fail(c, n, path, "%s is out of range %s", shown(n, b, sizeof b), range);
    *out = ms;
    return 0;
}

static void size_text(uint64_t v, char *buf, size_t len)
{
    static const char units[] = "tgmk";
    for (int i = 0; i < 4; i++) {
        uint64_t u = 1ull << (10 * (4 - i));
        if (v && v % u == 0) {
            snprintf(buf, len, "%llu%c", (unsigned long long)(v / u), units[i]);
            return;
        }
    }
    snprintf(buf, len, "%llu", (unsigned long long)v);
}

int cfg_size(cfg_ctx *c, yaml_node_t *n, const char *path, uint64_t min, uint64_t max,
             uint64_t *out)
{
    char b[80], lo[32], hi[32];
    size_text(min, lo, sizeof lo);
    size_text(max, hi, sizeof hi);
    if (need_scalar(c, n, path, "a size") != 0) return -1;
    const char *s = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length, digits = len;
    unsigned shift = 0;
    switch (s[len - 1]) {
    case 'k': shift = 10; break;
    case 'm': shift = 20; break;
    case 'g': shift = 30; break;
    case 't': shift = 40; break;
    }
    if (shift) digits--;
    int ok = digits > 0, too_big = 0;
    uint64_t v = 0;
    for (size_t i = 0; ok && i < digits; i++) {
        if (s[i] < '0' || s[i] > '9') ok = 0;
        else if (v > (UINT64_MAX - 9) / 10) too_big = 1;
        else v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (!ok)
        return cfg_fail(c, n, path,
                        "%s is not a size (bytes, or digits then k, m, g or t), range %s-%s",
                        shown(n, b, sizeof b), lo, hi);
    if (shift && v > (UINT64_MAX >> shift)) too_big = 1;
    else v <<= shift;
    if (too_big || v < min || v > max)
        return cfg_fail(c, n, path, "%s is out of range %s-%s", shown(n, b, sizeof b), lo, hi);
    *out = v;
    return 0;
}

int cfg_bool(cfg_ctx *c, yaml_node_t *n, const char *path, int *out)
{
    char b[80];
    if (need_scalar(c, n, path, "true or false") != 0) return -1;
    const char *v = (const char *)n->data.scalar.value;
    if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && strcmp(v, "true") == 0) *out = 1;
    else if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && strcmp(v, "false") == 0) *out = 0;
    else return cfg_fail(c, n, path, "%s is not true or false (plain)", shown(n, b, sizeof b));
    return 0;
}

int cfg_url(cfg_ctx *c, yaml_node_t *n, const char *path, char **out)
{
    char b[80];
    if (need_scalar(c, n, path, "a URL") != 0) return -1;
    const char *v = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length, scheme = 0;
    if (len > 7 && strncmp(v, "http://", 7) == 0) scheme = 7;
    else if (len > 8 && strncmp(v, "https://", 8) == 0) scheme = 8;
    int ok = scheme != 0 && v[scheme] != '/';
    for (size_t i = 0; ok && i < len; i++)
        if ((unsigned char)v[i] <= 0x20 || v[i] == 0x7f) ok = 0;
    if (!ok)
        return cfg_fail(c, n, path, "%s is not an http:// or https:// URL (no spaces)",
                        shown(n, b, sizeof b));
    *out = atd_arena_strndup(c->arena, v, len);
    return 0;
}

/* "host:port": host an IPv4 literal, a [bracketed] IPv6 literal or a DNS name; port 1-65535. */
static int hostport_ok(const char *s, size_t len)
{
    const char *colon;
    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (!close || close + 1 >= s + len || close[1] != ':') return 0;
        atd_ip ip;
        if (atd_ip_parse(s + 1, (size_t)(close - s - 1), &ip) != 0) return 0;
        if (close - s - 1 > 0 && (s[1] == ' ' || close[-1] == ' ')) return 0;
        colon = close + 1;
    } else {
        colon = memchr(s, ':', len);
        if (!colon || colon == s || memchr(colon + 1, ':', len - (size_t)(colon - s) - 1))
            return 0;
        for (const char *p = s; p < colon; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
                return 0;
    }
    const char *port = colon + 1;
    size_t plen = len - (size_t)(port - s);
    if (plen == 0 || plen > 5 || port[0] == '0') return 0;
    unsigned v = 0;
    for (size_t i = 0; i < plen; i++) {
        if (port[i] < '0' || port[i] > '9') return 0;
        v = v * 10 + (unsigned)(port[i] - '0');
    }
    return v >= 1 && v <= 65535;
}

int cfg_hostport(cfg_ctx *c, yaml_node_t *n, const char *path, char **out)
{
    char b[80];
    if (need_scalar(c, n, path, "host:port") != 0) return -1;
    if (!hostport_ok((const char *)n->data.scalar.value, n->data.scalar.length))
        return cfg_fail(c, n, path, "%s is not host:port (port 1-65535; IPv6 in brackets)",
                        shown(n, b, sizeof b));
    *out = atd_arena_strndup(c->arena, (const char *)n->data.scalar.value, n->data.scalar.length);
    return 0;
}

int cfg_list(cfg_ctx *c, yaml_node_t *n, const char *path, yaml_node_item_t **items,
             size_t *count)
{
    if (cfg_is_null(n)) {
        *items = NULL;
        *count = 0;
        return 0;
    }
    if (n->type != YAML_SEQUENCE_NODE)
        return cfg_fail(c, n, path, "expected a list, got %s", cfg_node_kind(n));
    *items = n->data.sequence.items.start;
    *count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    return 0;
}

static void key_path(char *buf, size_t len, const char *path, const yaml_node_t *key)
{
    snprintf(buf, len, "%s%s%.*s", path, *path ? "." : "", (int)key->data.scalar.length,
             (const char *)key->data.scalar.value);
}

int cfg_section(cfg_ctx *c, yaml_node_t *n, const char *path, const cfg_key *keys, size_t nkeys,
                void *base, unsigned char *seen)
{
    if (cfg_is_null(n)) return 0;
    if (n->type != YAML_MAPPING_NODE)
        return cfg_fail(c, n, path, "expected a map, got %s", cfg_node_kind(n));
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = cfg_node(c, p->key), *v = cfg_node(c, p->value);
        if (!k || k->type != YAML_SCALAR_NODE)
            return cfg_fail(c, k ? k : n, path, "keys must be text, got %s", cfg_node_kind(k));
        char kp[CFG_PATH_MAX];
        key_path(kp, sizeof kp, path, k);
        size_t i = 0, klen = k->data.scalar.length;
        const unsigned char *kv = k->data.scalar.value;
        while (i < nkeys && !(strlen(keys[i].name) == klen && memcmp(keys[i].name, kv, klen) == 0))
            i++;
        if (i == nkeys) {
            char expected[400];
            size_t e = 0;
            expected[0] = '\0';
            for (size_t j = 0; j < nkeys && e < sizeof expected; j++)
                e += (size_t)snprintf(expected + e, sizeof expected - e, "%s%s", j ? ", " : "",
                                      keys[j].name);
            return cfg_fail(c, k, kp, "unknown key (expected one of: %s)", expected);
        }
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *qk = cfg_node(c, q->key);
            if (qk && qk->type == YAML_SCALAR_NODE &&
                qk->data.scalar.length == k->data.scalar.length &&
                memcmp(qk->data.scalar.value, k->data.scalar.value, k->data.scalar.length) == 0)
                return cfg_fail(c, k, kp, "duplicate key (first at line %zu)",
                                (size_t)qk->start_mark.line + 1);
        }
        if (seen) seen[i] = 1;
        const cfg_key *key = &keys[i];
        void *field = (char *)base + key->off;
        int64_t i64;
        uint64_t u64;
        int rc = 0;
        switch (key->kind) {
        case CFG_STRING:
            rc = cfg_string(c, v, kp, (char **)field);
            if (rc == 0 && key->choices) {
                const char *const *ch = key->choices;
                while (*ch && strcmp(*ch, *(char **)field) != 0) ch++;
                if (!*ch) {
                    char expected[200], b[80];
                    size_t e = 0;
                    for (ch = key->choices; *ch && e < sizeof expected; ch++)
                        e += (size_t)snprintf(expected + e, sizeof expected - e, "%s%s",
                                              ch == key->choices ? "" : ", ", *ch);
                    rc = cfg_fail(c, v, kp, "%s is not one of: %s", shown(v, b, sizeof b),
                                  expected);
                }
            }
            break;
        case CFG_INT:
            if ((rc = cfg_int(c, v, kp, key->min, key->max, &i64)) == 0) *(int *)field = (int)i64;
            break;
        case CFG_DURATION: 
            rc = cfg_duration(c, v, kp, key->min, key->max, key->range, (int64_t *)field);
            break;
        case CFG_DURATION_INT:
            if ((rc = cfg_duration(c, v, kp, key->min, key->max, key->range, &i64)) == 0)
                *(int *)field = (int)i64;
            break;
        case CFG_SIZE:
            rc = cfg_size(c, v, kp, (uint64_t)key->min, (uint64_t)key->max, (uint64_t *)field);
            break;
        case CFG_SIZE_T:
            if ((rc = cfg_size(c, v, kp, (uint64_t)key->min, (uint64_t)key->max, &u64)) == 0)
                *(size_t *)field = (size_t)u64;
            break;
        case CFG_BOOL: rc = cfg_bool(c, v, kp, (int *)field); break;
        case CFG_URL: rc = cfg_url(c, v, kp, (char **)field); break;
        case CFG_HOSTPORT: rc = cfg_hostport(c, v, kp, (char **)field); break;
        case CFG_CUSTOM: rc = key->fn(c, v, kp, field); break;
        }
        if (rc != 0) return -1;
    }
    return 0;
}
