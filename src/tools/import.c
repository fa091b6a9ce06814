/* `attribd import`: appends NDJSON events that carry their own `ts` to the log of the data
 * folder, validated exactly like HTTP ingest (atd_event_parse_json with ATD_PARSE_REQUIRE_TS).
 * Bad lines are reported and skipped; good ones are appended in batches per partition.
 *
 * It takes the data folder's lock, so it refuses to run while `attribd serve` uses the same
 * folder (two writers would interleave appends in the file log). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attribd/config.h"
#include "attribd/event.h"
#include "attribd/json.h"
#include "attribd/log.h"
#include "http/datadir.h"
#include "tools/commands.h"

#define BATCH_EVENTS 1000 /* per append: amortizes the write + lock of the log */

typedef struct pending {
    size_t koff, klen, voff, vlen;
    int64_t ts;
} pending;

typedef struct part_batch {
    atd_buf keys, values;
    pending *items;
    size_t n;
} part_batch;

typedef struct reject_count {
    const char *field;
    uint64_t n;
} reject_count;

typedef struct importer {
    atd_log *log;
    int parts;
    part_batch *batch;
    atd_log_record *recs;
    atd_buf key;
    uint64_t lines, imported, rejected;
    reject_count reasons[64];
    size_t n_reasons;
    int io_error;
} importer;

static int flush_partition(importer *im, int p)
{
    part_batch *b = &im->batch[p];
    if (b->n == 0) return 0;
    for (size_t i = 0; i < b->n; i++)
        im->recs[i] = (atd_log_record){.ts = b->items[i].ts,
                                       .key = b->keys.p + b->items[i].koff,
                                       .key_len = b->items[i].klen,
                                       .value = b->values.p + b->items[i].voff,
                                       .value_len = b->items[i].vlen};
    int rc = atd_log_append(im->log, ATD_TOPIC_EVENTS, p, im->recs, b->n, NULL);
    if (rc != 0) {
        fprintf(stderr, "attribd import: log append: %s\n", atd_strerror(rc));
        im->io_error = 1;
        return rc;
    }
    im->imported += b->n;
    b->n = 0;
    b->keys.n = 0;
    b->values.n = 0;
    return 0;
}

static void count_reject(importer *im, const char *field)
{
    im->rejected++;
    if (!field) field = "body";
    for (size_t i = 0; i < im->n_reasons; i++)
        if (!strcmp(im->reasons[i].field, field)) {
            im->reasons[i].n++;
            return;
        }
    if (im->n_reasons < sizeof im->reasons / sizeof im->reasons[0])
        im->reasons[im->n_reasons++] = (reject_count){field, 1};
}

static int add_event(importer *im, const atd_event *ev)
{
    /* the key holds app_id and one device id: bounded by their lengths */
    size_t kcap = ev->app_id.n + ev->device_id.n + ev->advertising_id.n + ev->ip.n + 16;
    im->key.n = 0;
    atd_buf_reserve(&im->key, kcap);
    char *key = im->key.p;
    size_t klen = atd_event_key(ev, key, kcap);
    int p = im->parts > 1 ? atd_log_partition_for(key, klen, im->parts) : 0;
    part_batch *b = &im->batch[p];
    size_t vmax = atd_event_encoded_size(ev);
    atd_buf_reserve(&b->values, vmax);
    size_t vlen = atd_event_encode(ev, (uint8_t *)b->values.p + b->values.n);
    b->items[b->n] = (pending){b->keys.n, klen, b->values.n, vlen, ev->ts};
    b->values.n += vlen;
    atd_buf_put(&b->keys, key, klen);
    b->n++;
    return b->n >= BATCH_EVENTS ? flush_partition(im, p) : 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: attribd import --config FILE --input FILE|- [--data-dir DIR]\n"
            "\n"
            "Appends NDJSON events (each with its own \"ts\") to the log of the data folder,\n"
            "validated like HTTP ingest. Bad lines are reported on stderr and skipped.\n"
            "Exit status: 0 all imported, 2 some lines rejected, 1 I/O error.\n"
            "Refuses to run while `attribd serve` uses the same data folder.\n");
}

int atd_cmd_import(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"input", required_argument, NULL, 'i'},
                                         {"data-dir", required_argument, NULL, 'd'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *config_path = NULL, *input = NULL, *data_arg = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:i:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config_path = optarg; break;
        case 'i': input = optarg; break;
        case 'd': data_arg = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!config_path || !input || optind < argc) {
        usage(stderr);
        return 2;
    }
    signal(SIGXFSZ, SIG_IGN); /* over RLIMIT_FSIZE: an I/O error (exit 1), not a crash */
    char err[512];
    atd_config *cfg = atd_config_load(config_path, err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "attribd import: %s\n", err);
        return 1;
    }
    FILE *in = strcmp(input, "-") ? fopen(input, "r") : stdin;
    if (!in) {
        fprintf(stderr, "attribd import: %s: %s\n", input, strerror(errno));
        atd_config_release(cfg);
        return 1;
    }
    atd_datadir dd;
    atd_log *log = NULL;
    if (atd_datadir_open(&dd, data_arg ? data_arg : cfg->server.data_dir, "import", err,
                         sizeof err) != 0) {
        fprintf(stderr, "attribd import: %s\n", err);
        if (in != stdin) fclose(in);
        atd_config_release(cfg);
        return 1;
    }
    if (atd_datadir_log_open(&dd, cfg, &log, err, sizeof err) != 0) {
        fprintf(stderr, "attribd import: %s\n", err);
        atd_datadir_close(&dd);
        if (in != stdin) fclose(in);
        atd_config_release(cfg);
        return 1;
    }
    int parts = atd_log_topic_ensure(log, ATD_TOPIC_EVENTS, cfg->log.partitions);
    if (parts < 1) {
        fprintf(stderr, "attribd import: topic %s: %s\n", ATD_TOPIC_EVENTS, atd_strerror(parts));
        atd_log_close(log);
        atd_datadir_close(&dd);
        if (in != stdin) fclose(in);
        atd_config_release(cfg);
        return 1;
    }

    importer im = {.log = log, .parts = parts};
    im.batch = calloc((size_t)parts, sizeof *im.batch);
    im.recs = calloc(BATCH_EVENTS, sizeof *im.recs);
    if (!im.batch || !im.recs) abort();
    for (int p = 0; p < parts; p++) {
        im.batch[p].items = calloc(BATCH_EVENTS, sizeof *im.batch[p].items);
        if (!im.batch[p].items) abort();
    }

    atd_arena arena;
    atd_arena_init(&arena, 16384);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int64_t start = atd_mono_ms(), last_progress = start;
    while (!im.io_error && (len = getline(&line, &cap, in)) >= 0) {
        im.lines++;
        size_t n = (size_t)len;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
        size_t k = 0;
        while (k < n && (line[k] == ' ' || line[k] == '\t')) k++;
        if (k == n) continue; /* blank lines are skipped, like NDJSON over HTTP */
        atd_event ev;
        atd_event_error e;
        atd_arena_reset(&arena);
        if (atd_event_parse_json(line, n, ATD_PARSE_REQUIRE_TS, ATD_STR_NULL, cfg, &arena, &ev,
                                 &e) != 0) {
            fprintf(stderr, "line %llu: field %s: %s\n", (unsigned long long)im.lines,
                    e.field ? e.field : "body", e.message);
            count_reject(&im, e.field);
            continue;
        }
        add_event(&im, &ev);
        if ((im.lines & 1023) == 0) {
            int64_t now = atd_mono_ms();
            if (now - last_progress >= 1000) {
                last_progress = now;
                double secs = (double)(now - start) / 1000.0;
                fprintf(stderr,
                        "import: %llu lines, %llu imported, %llu rejected, %.0f lines/s\n",
                        (unsigned long long)im.lines, (unsigned long long)im.imported,
                        (unsigned long long)im.rejected, secs > 0 ? (double)im.lines / secs : 0);
            }
        }
    }
    if (ferror(in)) {
        fprintf(stderr, "attribd import: reading %s: %s\n", input, strerror(errno));
        im.io_error = 1;
    }
    for (int p = 0; p < parts && !im.io_error; p++) flush_partition(&im, p);
    int src = atd_log_sync(log);
    if (src != 0) {
        fprintf(stderr, "attribd import: log sync: %s\n", atd_strerror(src));
        im.io_error = 1;
    }

    fprintf(stderr, "import: done: %llu lines, %llu imported, %llu rejected",
            (unsigned long long)im.lines, (unsigned long long)im.imported,
            (unsigned long long)im.rejected);
    for (size_t i = 0; i < im.n_reasons; i++)
        fprintf(stderr, "%s%s: %llu", i == 0 ? " (" : ", ", im.reasons[i].field,
                (unsigned long long)im.reasons[i].n);
    fprintf(stderr, "%s\n", im.n_reasons ? ")" : "");

    free(line);
    atd_arena_free(&arena);
    for (int p = 0; p < parts; p++) {
        atd_buf_free(&im.batch[p].keys);
        atd_buf_free(&im.batch[p].values);
        free(im.batch[p].items);
    }
    free(im.batch);
    free(im.recs);
    atd_buf_free(&im.key);
    atd_log_close(log);
    atd_datadir_close(&dd);
    if (in != stdin) fclose(in);
    atd_config_release(cfg);
    return im.io_error ? 1 : im.rejected ? 2 : 0;
}
