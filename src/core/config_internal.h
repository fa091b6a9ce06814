/* Private to config*.c: the walk over a libyaml document tree, with errors that name the file,
 * line and key path ("attribd.yaml:12: apps.com.example.game.click_lookback: ..."). */
#ifndef ATTRIBD_CONFIG_INTERNAL_H
#define ATTRIBD_CONFIG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "attribd/common.h"
#include "attribd/config.h"

#define CFG_PATH_MAX 512

typedef struct cfg_ctx {
    yaml_document_t *doc;
    const char *name; /* the file name used in messages */
    atd_arena *arena; /* owns every string and array of the config being built */
    char *err;
    size_t errlen;
    int failed; /* the first error wins: later ones would be consequences */
} cfg_ctx;

/* Writes "name:line: path: message" (once) and returns -1. */
int cfg_fail(cfg_ctx *c, const yaml_node_t *n, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A YAML null: no node, or a plain "", "~", "null", "Null" or "NULL". */
int cfg_is_null(const yaml_node_t *n);
const char *cfg_node_kind(const yaml_node_t *n); /* "a map", "a list", "text" */
yaml_node_t *cfg_node(cfg_ctx *c, yaml_node_item_t id);

/* Scalars. Each returns 0, or fails with a message naming path. Strings are arena copies. */
int cfg_string(cfg_ctx *c, yaml_node_t *n, const char *path, char **out);
int cfg_int(cfg_ctx *c, yaml_node_t *n, const char *path, int64_t min, int64_t max, int64_t *out);
/* range: the range as messages show it ("1h-24h"); NULL to print it from min and max. */
int cfg_duration(cfg_ctx *c, yaml_node_t *n, const char *path, int64_t min, int64_t max,
                 const char *range, int64_t *out);
int cfg_size(cfg_ctx *c, yaml_node_t *n, const char *path, uint64_t min, uint64_t max,
             uint64_t *out);
int cfg_bool(cfg_ctx *c, yaml_node_t *n, const char *path, int *out);
int cfg_url(cfg_ctx *c, yaml_node_t *n, const char *path, char **out);
int cfg_hostport(cfg_ctx *c, yaml_node_t *n, const char *path, char **out);
/* A list (YAML null = empty): *items and *count; fails when n is not a list. */
int cfg_list(cfg_ctx *c, yaml_node_t *n, const char *path, yaml_node_item_t **items,
             size_t *count);

/* A table-driven map section, in the manner of librdkafka's conf table: every key of the map
 * must be in the table (unknown keys are errors: a typo must not pass silently), no key may
 * repeat, and each value is parsed by its kind into base + off. */
typedef struct cfg_key cfg_key;
typedef int (*cfg_parse_fn)(cfg_ctx *c, yaml_node_t *n, const char *path, void *field);
enum cfg_kind {
    CFG_STRING,   /* char * */
    CFG_INT,      /* int, plain integer in [min, max] */
    CFG_DURATION, /* int64_t ms in [min, max] */
    CFG_DURATION_INT, /* int ms in [min, max] */
    CFG_SIZE,     /* uint64_t in [min, max] */
    CFG_SIZE_T,   /* size_t in [min, max] */
    CFG_BOOL,     /* int 0/1 */
    CFG_URL,      /* char *, http:// or https:// */
    CFG_HOSTPORT, /* char *, "host:port" */
    CFG_CUSTOM,   /* fn(c, value, path, base + off) */
};
struct cfg_key {
    const char *name;
    enum cfg_kind kind;
    size_t off;
    int64_t min, max;
    cfg_parse_fn fn;
    const char *const *choices; /* CFG_STRING: the allowed values, NULL-terminated */
    const char *range;          /* CFG_DURATION*: as ATTRIBUTION.md writes it, or NULL */
};
/* Table rows: a plain kind, a custom parser, a string among choices. */
#define CFG_K(name, kind, off, lo, hi) {name, kind, off, lo, hi, NULL, NULL, NULL}
#define CFG_FN(name, off, fn) {name, CFG_CUSTOM, off, 0, 0, fn, NULL, NULL}
#define CFG_CHOICE(name, off, choices) {name, CFG_STRING, off, 0, 0, NULL, choices, NULL}
#define CFG_DUR(name, off, lo, hi, range) {name, CFG_DURATION, off, lo, hi, NULL, NULL, range}
/* n may be a YAML null (all defaults). seen (may be NULL) gets a 1 per table key present. */
int cfg_section(cfg_ctx *c, yaml_node_t *n, const char *path, const cfg_key *keys, size_t nkeys,
                void *base, unsigned char *seen);

/* Text of a duration for messages: "0", "90d", "10s", "1500ms" if no unit divides. */
void cfg_duration_text(int64_t ms, char *buf, size_t len);

/* config_apps.c: the `apps:` map into cfg->apps (n may be NULL or null: no apps). */
int cfg_apps(cfg_ctx *c, yaml_node_t *n, atd_config *cfg);
/* Bits of atd_result_type for an events list ("install", "inapp", ...). */
int cfg_events(cfg_ctx *c, yaml_node_t *n, const char *path, unsigned *out);

#endif
