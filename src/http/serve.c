/* `attribd serve`: loads the config, opens the data folder and its log, starts the services
 * (the HTTP ingest server, and whatever is added to `services` below), reloads the config on
 * SIGHUP and stops gracefully on SIGTERM/SIGINT. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attribd/config.h"
#include "attribd/http.h"
#include "attribd/kv.h"
#include "attribd/results_service.h"
#include "attribd/log.h"
#include "attribd/logging.h"
#include "attribd/metrics.h"
#include "tools/commands.h"
#include "http/datadir.h"

/* What a service gets to start with. Everything is owned by serve and outlives the service. */
typedef struct atd_serve_env {
    const char *config_path;
    const char *data_dir; /* DATA: the log is in DATA/log; services add their own folders */
    const char *listen;
    atd_log *log;
    int events_partitions;
    const atd_config *initial_config; /* later ones: atd_config_current() */
    atd_kv *kv; /* set by the attribution service: the engine's store, DATA/kv */
} atd_serve_env;

/* A service of the serve process. Started in table order, stopped in reverse order. */
typedef struct atd_service {
    const char *name; /* also its role: `serve --role NAME` runs only this one */
    int (*start)(atd_serve_env *env, void **state); /* 0 or a negative error */
    void (*stop)(void *state);
    void (*config_changed)(void *state); /* optional: after a SIGHUP reload */
} atd_service;

/* --- the attribution service: events → engine → results (results_service.h) --------------- */

typedef struct attribution_state {
    atd_kv *kv;
    atd_results_service *svc;
} attribution_state;

static double gauge_results_lag(void *ud) { return (double)atd_results_service_lag(ud); }

static double gauge_results_written(void *ud)
{
    atd_results_stats st;
    atd_results_service_stats(ud, &st);
    return (double)st.results;
}

static double gauge_deadlettered(void *ud)
{
    atd_results_stats st;
    atd_results_service_stats(ud, &st);
    return (double)st.deadlettered;
}

static int attribution_start(atd_serve_env *env, void **state)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/kv", env->data_dir);
    atd_kv_options ko = {.path = path, .map_size = env->initial_config->kv.map_size};
    attribution_state *a = calloc(1, sizeof *a);
    if (!a) return -ENOMEM;
    int rc = atd_kv_open("lmdb", &ko, &a->kv);
    if (rc) {
        ATD_ERROR("kv %s: %s", path, atd_strerror(rc));
        free(a);
        return rc;
    }
    atd_results_options ro = {.log = env->log, .kv = a->kv};
    a->svc = atd_results_service_new(&ro);
    if (!a->svc || (rc = atd_results_service_start(a->svc)) != 0) {
        atd_results_service_free(a->svc);
        atd_kv_close(a->kv);
        free(a);
        return rc ? rc : ATD_EINVAL;
    }
    atd_metrics_gauge("attribd_results_lag_events", "Events not yet decided by the engine",
                      "", gauge_results_lag, a->svc);
    atd_metrics_gauge("attribd_results_written", "Results written to topic results since start",
                      "", gauge_results_written, a->svc);
    atd_metrics_gauge("attribd_deadlettered_events", "Events parked in topic deadletter",
                      "", gauge_deadlettered, a->svc);
    env->kv = a->kv;
    *state = a;
    return 0;
}

static void attribution_stop(void *state)
{
    attribution_state *a = state;
    atd_metrics_gauge_remove(gauge_results_lag, a->svc);
    atd_metrics_gauge_remove(gauge_results_written, a->svc);
    atd_metrics_gauge_remove(gauge_deadlettered, a->svc);
    atd_results_service_free(a->svc); /* stops the thread after its current batch */
    atd_kv_close(a->kv);
    free(a);
}

/* --- the HTTP ingest service ------------------------------------------------------------ */

static int http_start(atd_serve_env *env, void **state)
{
    const atd_config *cfg = env->initial_config;
    atd_http_options o = {
        .listen = env->listen,
        .threads = cfg->server.threads,
        .max_body = cfg->server.max_body,
        .max_header_bytes = cfg->server.max_header_bytes,
        .max_connections = cfg->server.max_connections,
        .idle_timeout_ms = cfg->server.idle_timeout_ms,
        .events_partitions = env->events_partitions,
        .kv = env->kv,
    };
    atd_http_server *srv = atd_http_server_start(&o, env->log);
    if (!srv) return ATD_EINVAL;
    *state = srv;
    return 0;
}

static void http_stop(void *state) { atd_http_server_stop(state, 5000); }
static void http_config_changed(void *state) { atd_http_server_config_changed(state); }

/* The HTTP server comes last: it accepts events only once everything else runs, and it is the
 * first to stop, so nothing is acknowledged while the rest shuts down. */
static const atd_service services[] = {
    {"attribution", attribution_start, attribution_stop, NULL},
    {"ingest", http_start, http_stop, http_config_changed},
};
#define N_SERVICES (sizeof services / sizeof services[0])

/* --- metrics gauges over the log --------------------------------------------------------- */

typedef struct {
    atd_log *log;
    int partition;
} gauge_part;

static double gauge_log_bytes(void *ud)
{
    atd_log *log = ud;
    return log->ops->disk_bytes ? (double)log->ops->disk_bytes(log, ATD_TOPIC_EVENTS) : 0;
}

static double gauge_log_end(void *ud)
{
    gauge_part *g = ud;
    uint64_t start, end, durable;
    if (atd_log_offsets(g->log, ATD_TOPIC_EVENTS, g->partition, &start, &end, &durable) != 0)
        return 0;
    return (double)end;
}

static double gauge_log_unsynced(void *ud)
{
    gauge_part *g = ud;
    uint64_t start, end, durable;
    if (atd_log_offsets(g->log, ATD_TOPIC_EVENTS, g->partition, &start, &end, &durable) != 0)
        return 0;
    return end > durable ? (double)(end - durable) : 0;
}

/* --- the command ------------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: attribd serve --config FILE [--listen ADDR] [--data-dir DIR] [--role ROLE]\n"
            "\n"
            "Runs the HTTP ingest server and the services on one data folder.\n"
            "  --role ROLE      all (default), ingest (HTTP only: events into the log) or\n"
            "                   attribution (events → engine → results, no HTTP)\n"
            "  --config FILE    the YAML config (required); SIGHUP reloads it\n"
            "  --listen ADDR    host:port to listen on (default: server.listen)\n"
            "  --data-dir DIR   the data folder (default: server.data_dir); the log is DIR/log\n"
            "\n"
            "SIGTERM or SIGINT stop it gracefully. See docs/http.md for the endpoints.\n");
}

static void print_banner(const atd_config *cfg, const char *listen, int port, int threads,
                         const char *data_dir)
{
    char host[256];
    snprintf(host, sizeof host, "%s", listen);
    char *colon = strrchr(host, ':');
    if (colon) *colon = 0;
    const char *h = host;
    if (!*h || !strcmp(h, "0.0.0.0") || !strcmp(h, "[::]")) h = "127.0.0.1";
    printf("attribd serve: listening on http://%s:%d (%d threads), data in %s\n", h, port,
           threads, data_dir);
    if (cfg->n_apps > 0) {
        const atd_app_config *a = &cfg->apps[0];
        printf("try: curl -X POST http://%s:%d/v1/events/%s", h, port, a->app_id);
        if (a->sdk_key) printf(" -H 'X-Sdk-Key: %s'", a->sdk_key);
        printf(" -d '{\"type\":\"install\",\"device_id\":\"d1\"}'\n");
    }
    fflush(stdout);
}

int atd_cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"listen", required_argument, NULL, 'l'},
                                         {"data-dir", required_argument, NULL, 'd'},
                                         {"role", required_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *config_path = NULL, *listen_arg = NULL, *data_arg = NULL, *role = "all";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:l:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config_path = optarg; break;
        case 'l': listen_arg = optarg; break;
        case 'd': data_arg = optarg; break;
        case 'r': role = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!config_path || optind < argc) {
        usage(stderr);
        return 2;
    }
    int role_known = !strcmp(role, "all");
    for (size_t i = 0; i < N_SERVICES; i++) role_known |= !strcmp(role, services[i].name);
    if (!role_known) {
        fprintf(stderr, "attribd serve: unknown role '%s' (all, ingest or attribution)\n", role);
        return 2;
    }

    char err[512];
    atd_config *cfg = atd_config_load(config_path, err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "attribd serve: %s\n", err);
        return 1;
    }
    const char *listen = listen_arg ? listen_arg : cfg->server.listen;
    const char *data_dir = data_arg ? data_arg : cfg->server.data_dir;

    atd_datadir dd;
    if (atd_datadir_open(&dd, data_dir, "serve", err, sizeof err) != 0) {
        fprintf(stderr, "attribd serve: %s\n", err);
        atd_config_release(cfg);
        return 1;
    }
    atd_log *log = NULL;
    int rc = atd_datadir_log_open(&dd, cfg, &log, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "attribd serve: %s\n", err);
        atd_datadir_close(&dd);
        atd_config_release(cfg);
        return 1;
    }
    int parts = atd_log_topic_ensure(log, ATD_TOPIC_EVENTS, cfg->log.partitions);
    if (parts < 1) {
        fprintf(stderr, "attribd serve: topic %s: %s\n", ATD_TOPIC_EVENTS, atd_strerror(parts));
        atd_log_close(log);
        atd_datadir_close(&dd);
        atd_config_release(cfg);
        return 1;
    }

    atd_config_set_current(atd_config_acquire(cfg));

    gauge_part *gp = calloc((size_t)parts, sizeof *gp);
    if (!gp) abort();
    atd_metrics_gauge("attribd_log_bytes", "Bytes on disk of the log topic",
                      "topic=\"events\"", gauge_log_bytes, log);
    for (int p = 0; p < parts; p++) {
        char labels[64];
        gp[p] = (gauge_part){log, p};
        snprintf(labels, sizeof labels, "topic=\"events\",partition=\"%d\"", p);
        atd_metrics_gauge("attribd_log_end_offset", "Offset the next record will get", labels,
                          gauge_log_end, &gp[p]);
        atd_metrics_gauge("attribd_log_unsynced_records",
                          "Records written but not yet fsynced (group commit lag)", labels,
                          gauge_log_unsynced, &gp[p]);
    }

    /* Signals go to this thread only (sigwait below); the service threads never see them. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGHUP);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* a file over RLIMIT_FSIZE must fail the write (EFBIG → 503), not kill the server */
    signal(SIGXFSZ, SIG_IGN);

    atd_serve_env env = {.config_path = config_path, .data_dir = data_dir, .listen = listen,
                         .log = log, .events_partitions = parts, .initial_config = cfg};
    void *state[N_SERVICES] = {0};
    size_t started = 0;
    int status = 0;
    for (; started < N_SERVICES; started++) {
        if (strcmp(role, "all") && strcmp(role, services[started].name)) continue;
        int src = services[started].start(&env, &state[started]);
        if (src != 0) {
            fprintf(stderr, "attribd serve: service %s failed to start: %s\n",
                    services[started].name, atd_strerror(src));
            status = 1;
            break;
        }
    }
    if (status == 0) {
        atd_http_server *srv = state[N_SERVICES - 1]; /* NULL without the ingest role */
        if (srv)
            print_banner(cfg, listen, atd_http_server_port(srv), cfg->server.threads, data_dir);
        ATD_INFO("serve: started (pid %d, role %s)", (int)getpid(), role);
        for (;;) {
            int sig = 0;
            if (sigwait(&sigs, &sig) != 0) continue;
            if (sig == SIGHUP) {
                atd_config *fresh = atd_config_load(config_path, err, sizeof err);
                if (!fresh) {
                    ATD_ERROR("config reload failed, keeping the running config: %s", err);
                    continue;
                }
                atd_config_set_current(fresh);
                for (size_t i = 0; i < started; i++)
                    if (state[i] && services[i].config_changed)
                        services[i].config_changed(state[i]);
                ATD_INFO("config reloaded from %s", config_path);
                continue;
            }
            ATD_INFO("serve: %s, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
            break;
        }
    }
    while (started > 0) {
        started--;
        if (state[started]) services[started].stop(state[started]);
    }
    atd_metrics_gauge_remove(gauge_log_bytes, log);
    for (int p = 0; p < parts; p++) {
        atd_metrics_gauge_remove(gauge_log_end, &gp[p]);
        atd_metrics_gauge_remove(gauge_log_unsynced, &gp[p]);
    }
    free(gp);
    int src = atd_log_sync(log);
    if (src != 0) {
        ATD_ERROR("log sync at stop: %s", atd_strerror(src));
        status = 1;
    }
    atd_log_close(log);
    atd_datadir_close(&dd);
    atd_config_release(cfg);
    if (status == 0) ATD_INFO("serve: stopped");
    return status;
}
