/* Loading the YAML config (libyaml's document API, so every node keeps its line for messages),
 * the server/log/kv/olap sections, reference counting, and the process-wide current config.
 * The apps section is in config_apps.c, typed node reads in config_node.c; docs/config.md
 * lists every key. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attribd/config.h"
#include "attribd/logging.h"
#include "core/config_internal.h"

/* The config and the arena holding all its strings and arrays, freed together. */
typedef struct config_owner {
    atd_config cfg; /* first: an atd_config * is a config_owner * */
    atd_arena arena;
} config_owner;

typedef __typeof__(((atd_config *)0)->log) log_section;

#define KIB 1024LL
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)
#define TIB (1024 * GIB)
#define SEC 1000LL
#define DAY (86400 * SEC)

/* The config files are small; anything bigger is surely not one. */
#define CONFIG_FILE_MAX (16 * MIB)

static void defaults(atd_config *cfg)
{
    cfg->server.listen = "127.0.0.1:8080";
    cfg->server.data_dir = "./data";
    cfg->server.threads = 2;
    cfg->server.max_body = 1 * MIB;
    cfg->server.trust_proxy = 0;
    cfg->server.max_connections = 10000;
    cfg->server.idle_timeout_ms = 30000;
    cfg->server.max_header_bytes = 16 * KIB;

    cfg->log.backend = "file";
    cfg->log.fsync = "interval";
    cfg->log.fsync_interval_ms = 10;
    cfg->log.partitions = 1;
    cfg->log.segment_bytes = 64 * MIB;
    cfg->log.retention_bytes = 0;
    cfg->log.retention_ms = 7 * DAY;
    cfg->log.brokers = NULL;

    cfg->kv.backend = "lmdb";
    cfg->kv.map_size = 64 * GIB;
    cfg->kv.nodes = NULL;
    cfg->kv.n_nodes = 0;

    cfg->olap.backend = "sqlite";
    cfg->olap.url = NULL;
}

/* fsync: always | <milliseconds between group commits, 1-10000> */
static int parse_fsync(cfg_ctx *c, yaml_node_t *n, const char *path, void *field)
{
    log_section *log = field;
    if (n && n->type == YAML_SCALAR_NODE && n->data.scalar.length == 6 &&
        memcmp(n->data.scalar.value, "always", 6) == 0) {
        log->fsync = "always";
        log->fsync_interval_ms = 0;
        return 0;
    }
    if (n && n->type == YAML_SCALAR_NODE && n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return cfg_fail(c, n, path,
                        "is \"always\" or a plain integer of milliseconds between fsyncs "
                        "(1-10000)");
    int64_t ms;
    if (n && n->type == YAML_SCALAR_NODE && n->data.scalar.length > 0 &&
        (n->data.scalar.value[0] < '0' || n->data.scalar.value[0] > '9') &&
        n->data.scalar.value[0] != '-' && n->data.scalar.value[0] != '+')
        return cfg_fail(c, n, path,
                        "\"%.40s\" is not \"always\" or milliseconds between fsyncs (1-10000)",
                        (const char *)n->data.scalar.value);
    if (cfg_int(c, n, path, 1, 10000, &ms) != 0) return -1;
    log->fsync = "interval";
    log->fsync_interval_ms = (int)ms;
    return 0;
}

/* brokers: "host:port[,host:port...]" (librdkafka's bootstrap.servers format) */
static int parse_brokers(cfg_ctx *c, yaml_node_t *n, const char *path, void *field)
{
    char **out = field, *s;
    if (cfg_string(c, n, path, &s) != 0) return -1;
    for (const char *p = s;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        yaml_node_t one = *n;
        one.data.scalar.value = (yaml_char_t *)(uintptr_t)p;
        one.data.scalar.length = len;
        char *ignored;
        if (len == 0)
            return cfg_fail(c, n, path, "\"%.60s\" is not host:port[,host:port...]", s);
        if (cfg_hostport(c, &one, path, &ignored) != 0) return -1;
        if (!comma) break;
        p = comma + 1;
    }
    *out = s;
    return 0;
}

/* nodes: [host:port, ...] */
static int parse_nodes(cfg_ctx *c, yaml_node_t *n, const char *path, void *field)
{
    __typeof__(((atd_config *)0)->kv) *kv = field;
    yaml_node_item_t *items;
    size_t count;
    if (cfg_list(c, n, path, &items, &count) != 0) return -1;
    kv->nodes = count ? atd_arena_alloc(c->arena, count * sizeof *kv->nodes) : NULL;
    for (size_t i = 0; i < count; i++) {
        char ip[CFG_PATH_MAX];
        snprintf(ip, sizeof ip, "%s[%zu]", path, i);
        if (cfg_hostport(c, cfg_node(c, items[i]), ip, &kv->nodes[i]) != 0) return -1;
    }
    kv->n_nodes = count;
    return 0;
}

#define CF(f) offsetof(atd_config, f)
static const char *const log_backends[] = {"file", "kafka", NULL};
static const char *const kv_backends[] = {"lmdb", "redis", NULL};
static const char *const olap_backends[] = {"sqlite", "clickhouse", NULL};

static const cfg_key server_keys[] = {
    CFG_K("listen", CFG_HOSTPORT, CF(server.listen), 0, 0),
    CFG_K("data_dir", CFG_STRING, CF(server.data_dir), 0, 0),
    CFG_K("threads", CFG_INT, CF(server.threads), 1, 64),
    CFG_K("max_body", CFG_SIZE_T, CF(server.max_body), 1 * KIB, 256 * MIB),
    CFG_K("trust_proxy", CFG_BOOL, CF(server.trust_proxy), 0, 0),
    CFG_K("max_connections", CFG_INT, CF(server.max_connections), 1, 1000000),
    CFG_K("idle_timeout", CFG_DURATION_INT, CF(server.idle_timeout_ms), 1 * SEC, 3600 * SEC),
    CFG_K("max_header_bytes", CFG_SIZE_T, CF(server.max_header_bytes), 1 * KIB, 1 * MIB),
};

static const cfg_key log_keys[] = {
    CFG_CHOICE("backend", CF(log.backend), log_backends),
    CFG_FN("fsync", CF(log), parse_fsync),
    CFG_K("partitions", CFG_INT, CF(log.partitions), 1, 256),
    CFG_K("segment_bytes", CFG_SIZE, CF(log.segment_bytes), 4 * KIB, 64 * GIB),
    CFG_K("retention_bytes", CFG_SIZE, CF(log.retention_bytes), 0, 1024 * TIB),
    CFG_DUR("retention", CF(log.retention_ms), 0, 3650 * DAY, NULL),
    CFG_FN("brokers", CF(log.brokers), parse_brokers),
};

static const cfg_key kv_keys[] = {
    CFG_CHOICE("backend", CF(kv.backend), kv_backends),
    CFG_K("map_size", CFG_SIZE, CF(kv.map_size), 1 * MIB, 64 * TIB),
    CFG_FN("nodes", CF(kv), parse_nodes),
};

static const cfg_key olap_keys[] = {
    CFG_CHOICE("backend", CF(olap.backend), olap_backends),
    CFG_K("url", CFG_URL, CF(olap.url), 0, 0),
};

#define SECTION(name, keys)                                                                   \
    static int parse_##name(cfg_ctx *c, yaml_node_t *n, const char *path, void *field)       \
    {                                                                                          \
        return cfg_section(c, n, path, keys, sizeof keys / sizeof keys[0], field, NULL);      \
    }
SECTION(server, server_keys)
SECTION(log, log_keys)
SECTION(kv, kv_keys)
SECTION(olap, olap_keys)

static int parse_apps(cfg_ctx *c, yaml_node_t *n, const char *path, void *field)
{
    return cfg_apps(c, n, field);
}

static const cfg_key top_keys[] = {
    CFG_FN("server", 0, parse_server),
    CFG_FN("log", 0, parse_log),
    CFG_FN("kv", 0, parse_kv),
    CFG_FN("olap", 0, parse_olap),
    CFG_FN("apps", 0, parse_apps),
};

/* Settings that only make sense together: said at the line of the section. */
static int check_backends(cfg_ctx *c, yaml_node_t *root, atd_config *cfg)
{
    yaml_node_t *log = NULL, *kv = NULL, *olap = NULL;
    if (root && root->type == YAML_MAPPING_NODE)
        for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
             p++) {
            yaml_node_t *k = cfg_node(c, p->key);
            const char *name = (const char *)k->data.scalar.value;
            if (strcmp(name, "log") == 0) log = k;
            else if (strcmp(name, "kv") == 0) kv = k;
            else if (strcmp(name, "olap") == 0) olap = k;
        }
    if (strcmp(cfg->log.backend, "kafka") == 0 && !cfg->log.brokers)
        return cfg_fail(c, log, "log.brokers", "is required with backend kafka");
    if (strcmp(cfg->log.backend, "kafka") != 0 && cfg->log.brokers)
        ATD_WARN("%s: log.brokers is ignored with log backend %s", c->name, cfg->log.backend);
    if (strcmp(cfg->kv.backend, "redis") == 0 && cfg->kv.n_nodes == 0)
        return cfg_fail(c, kv, "kv.nodes", "is required with backend redis (a list of host:port)");
    if (strcmp(cfg->kv.backend, "redis") != 0 && cfg->kv.n_nodes)
        ATD_WARN("%s: kv.nodes is ignored with kv backend %s", c->name, cfg->kv.backend);
    if (strcmp(cfg->olap.backend, "clickhouse") == 0 && !cfg->olap.url)
        return cfg_fail(c, olap, "olap.url", "is required with backend clickhouse");
    if (strcmp(cfg->olap.backend, "clickhouse") != 0 && cfg->olap.url)
        ATD_WARN("%s: olap.url is ignored with olap backend %s", c->name, cfg->olap.backend);
    return 0;
}

static void yaml_error(cfg_ctx *c, yaml_parser_t *parser)
{
    const char *problem = parser->problem ? parser->problem : "cannot be parsed";
    const char *context = parser->context ? parser->context : NULL;
    size_t line = parser->problem_mark.line + 1;
    if (c->failed || !c->err || !c->errlen) return;
    c->failed = 1;
    size_t ctx_line = parser->context_mark.line + 1;
    if (context && ctx_line != line)
        snprintf(c->err, c->errlen, "%s:%zu: YAML syntax error: %s %s started at line %zu",
                 c->name, line, problem, context, ctx_line);
    else if (context)
        snprintf(c->err, c->errlen, "%s:%zu: YAML syntax error: %s %s", c->name, line, problem,
                 context);
    else
        snprintf(c->err, c->errlen, "%s:%zu: YAML syntax error: %s", c->name, line, problem);
}

atd_config *atd_config_parse_string(const char *yaml, size_t len, const char *name, char *err,
                                    size_t errlen)
{
    cfg_ctx c = {.name = name ? name : "<config>", .err = err, .errlen = errlen};
    if (err && errlen) err[0] = '\0';
    if (!yaml) {
        cfg_fail(&c, NULL, NULL, "no text");
        return NULL;
    }
    yaml_parser_t parser;
    yaml_document_t doc, extra;
    if (!yaml_parser_initialize(&parser)) {
        cfg_fail(&c, NULL, NULL, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
    if (!yaml_parser_load(&parser, &doc)) {
        yaml_error(&c, &parser);
        yaml_parser_delete(&parser);
        return NULL;
    }
    c.doc = &doc;

    config_owner *own = calloc(1, sizeof *own);
    if (!own) abort();
    atd_arena_init(&own->arena, 4096);
    c.arena = &own->arena;
    atd_config *cfg = &own->cfg;
    defaults(cfg);

    yaml_node_t *root = yaml_document_get_root_node(&doc);
    int rc = 0;
    if (root) {
        /* A second document ("---") would be silently ignored otherwise. */
        if (!yaml_parser_load(&parser, &extra)) {
            yaml_error(&c, &parser);
            rc = -1;
        } else {
            yaml_node_t *r2 = yaml_document_get_root_node(&extra);
            if (r2) rc = cfg_fail(&c, r2, NULL, "only one YAML document is allowed");
            yaml_document_delete(&extra);
        }
    }
    if (rc == 0 && root && !cfg_is_null(root) && root->type != YAML_MAPPING_NODE)
        rc = cfg_fail(&c, root, NULL, "the config must be a map (server, log, kv, olap, apps)");
    if (rc == 0 && root && root->type == YAML_MAPPING_NODE)
        rc = cfg_section(&c, root, "", top_keys, sizeof top_keys / sizeof top_keys[0], cfg, NULL);
    if (rc == 0) rc = check_backends(&c, root, cfg);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (rc != 0) {
        atd_arena_free(&own->arena);
        free(own);
        return NULL;
    }
    if (cfg->n_apps == 0)
        ATD_WARN("%s: no apps configured: every event will be refused (unknown app)", c.name);
    cfg->path = NULL;
    cfg->refs = 1;
    return cfg;
}

atd_config *atd_config_load(const char *path, char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f) {
        if (err && errlen)
            snprintf(err, errlen, "%s: cannot open: %s", path ? path : "(null)",
                     path ? strerror(errno) : "no path");
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf) abort();
    for (;;) {
        if (len == cap) {
            if (cap >= CONFIG_FILE_MAX) break;
            cap *= 2;
            buf = realloc(buf, cap);
            if (!buf) abort();
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    int bad = ferror(f), big = len >= CONFIG_FILE_MAX;
    int saved = errno;
    fclose(f);
    if (bad || big) {
        if (err && errlen)
            snprintf(err, errlen, "%s: cannot read: %s", path,
                     big ? "larger than 16 MiB" : strerror(saved));
        free(buf);
        return NULL;
    }
    atd_config *cfg = atd_config_parse_string(buf, len, path, err, errlen);
    free(buf);
    if (cfg) {
        config_owner *own = (config_owner *)cfg;
        cfg->path = atd_arena_strndup(&own->arena, path, strlen(path));
    }
    return cfg;
}

atd_config *atd_config_acquire(atd_config *cfg)
{
    if (cfg) __atomic_add_fetch(&cfg->refs, 1, __ATOMIC_RELAXED);
    return cfg;
}

void atd_config_release(atd_config *cfg)
{
    if (!cfg) return;
    /* acq_rel: the thread that frees sees every other thread's last use of the config */
    if (__atomic_sub_fetch(&cfg->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
    config_owner *own = (config_owner *)cfg;
    atd_arena_free(&own->arena);
    free(own);
}

/* A mutex rather than a bare atomic pointer: reading the pointer and taking a reference must be
 * one step, or a reload could free the config between the two. Uncontended, it costs about as
 * much as the atomic increment itself. */
static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static atd_config *current;

atd_config *atd_config_current(void)
{
    pthread_mutex_lock(&current_lock);
    atd_config *cfg = atd_config_acquire(current);
    pthread_mutex_unlock(&current_lock);
    return cfg;
}

void atd_config_set_current(atd_config *cfg)
{
    pthread_mutex_lock(&current_lock);
    atd_config *old = current;
    current = cfg;
    pthread_mutex_unlock(&current_lock);
    atd_config_release(old); /* outside the lock: freeing can take a while */
}

int atd_config_reload(const char *path, char *err, size_t errlen)
{
    atd_config *cfg = atd_config_load(path, err, errlen);
    if (!cfg) return ATD_EINVAL;
    atd_config_set_current(cfg);
    return 0;
}
