/* The YAML configuration of DESIGN.md (libyaml). A file with only `apps:` is valid: every other
 * section has an embedded default. Errors name the file, line and key.
 *
 * A loaded atd_config is immutable and reference counted, so that a SIGHUP reload can swap in a
 * new one while requests still use the old: take it with atd_config_acquire(), drop it with
 * atd_config_release(). */
#ifndef ATTRIBD_CONFIG_H
#define ATTRIBD_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "attribd/ip.h"

typedef struct atd_postback_config {
    char *media_source;
    unsigned events; /* bit (1u << atd_result_type, engine.h) per result name: install, ... */
    char *url;       /* template with {click_id}, {event_name}, ... */
} atd_postback_config;

typedef struct atd_push_config {
    char *url;
    unsigned events;
} atd_push_config;

/* App settings, ATTRIBUTION.md §2, with defaults applied. Durations in milliseconds. */
typedef struct atd_app_config {
    char *app_id;
    int64_t click_lookback_ms;        /* 7d, 1h..30d */
    int64_t view_lookback_ms;         /* 24h, 1h..24h */
    int64_t probabilistic_window_ms;  /* 24h, 0 (off)..24h */
    int64_t reattribution_window_ms;  /* 90d, 1d..730d */
    int64_t reengagement_window_ms;   /* 30d, 1d..90d */
    int64_t inactivity_period_ms;     /* 0 (off), 0..30d */
    int64_t min_ctit_ms;              /* 10s, 0 (off)..1h */
    int click_cap;                    /* 0 (off), 0..1000 */
    atd_cidr *blocked_ips;
    size_t n_blocked_ips;
    char **blocked_sites; /* "media_source/site_id" */
    size_t n_blocked_sites;
    char *store_url; /* may be NULL */
    char *sdk_key;   /* may be NULL: no key check */
    char *api_token; /* may be NULL */
    atd_postback_config *postbacks;
    size_t n_postbacks;
    atd_push_config *push;
    size_t n_push;
} atd_app_config;

typedef struct atd_config {
    char *path; /* the file it was loaded from (NULL for atd_config_parse_string) */

    struct {
        char *listen;            /* "127.0.0.1:8080" */
        char *data_dir;          /* "./data" */
        int threads;             /* 2 */
        size_t max_body;         /* 1 MiB */
        int trust_proxy;         /* 0: X-Forwarded-For is ignored */
        int max_connections;     /* 10000 */
        int idle_timeout_ms;     /* 30000: keep-alive idle / slow client */
        size_t max_header_bytes; /* 16 KiB */
    } server;

    struct {
        char *backend;            /* "file" | "kafka" */
        char *fsync;              /* "always" | "interval" */
        int fsync_interval_ms;    /* 10: group commit every N ms */
        int partitions;           /* 1: partitions of the `events` topic */
        uint64_t segment_bytes;   /* 64 MiB */
        uint64_t retention_bytes; /* 0: unlimited (per partition) */
        int64_t retention_ms;     /* 7 days; 0: unlimited */
        char *brokers;            /* kafka only */
    } log;

    struct {
        char *backend; /* "lmdb" | "redis" */
        uint64_t map_size; /* LMDB map size, 64 GiB */
        char **nodes;  /* redis only */
        size_t n_nodes;
    } kv;

    struct {
        char *backend; /* "sqlite" | "clickhouse" */
        char *url;     /* clickhouse only */
    } olap;

    atd_app_config *apps;
    size_t n_apps;

    int refs; /* atomic reference count */
} atd_config;

/* Loads and validates a file. On error returns NULL and writes "FILE:LINE: key: message" into
 * err (errlen bytes). The result has one reference. */
atd_config *atd_config_load(const char *path, char *err, size_t errlen);
/* Same from a string; name is used in error messages in place of the file. */
atd_config *atd_config_parse_string(const char *yaml, size_t len, const char *name, char *err,
                                    size_t errlen);

atd_config *atd_config_acquire(atd_config *cfg);
void atd_config_release(atd_config *cfg);

/* The settings of one app, or NULL when the app is not configured. (A linear scan: configs hold
 * few apps; a hash index can replace it without changing callers.) */
static inline const atd_app_config *atd_config_app(const atd_config *cfg, const char *app_id,
                                                   size_t len)
{
    for (size_t i = 0; i < cfg->n_apps; i++)
        if (strlen(cfg->apps[i].app_id) == len && memcmp(cfg->apps[i].app_id, app_id, len) == 0)
            return &cfg->apps[i];
    return NULL;
}

/* The process-wide current config (for serve): set at start and on SIGHUP reload. Returns a
 * new reference; release it when done. */
atd_config *atd_config_current(void);
void atd_config_set_current(atd_config *cfg); /* takes over the caller's reference */
/* SIGHUP: loads path and, only when it is valid, makes it the current config (requests holding
 * the old one keep it until they release it). On error the current config stays, err gets the
 * message and ATD_EINVAL is returned. */
int atd_config_reload(const char *path, char *err, size_t errlen);

#endif
