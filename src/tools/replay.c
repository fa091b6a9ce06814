/* attribd replay: NDJSON events (each with its ts) through the attribution engine, results as
 * NDJSON in input order. The same engine code as serve, over a temporary LMDB store (removed
 * at exit unless --state keeps it).
 *
 * Throughput: events are processed in batches inside one LMDB write transaction (no fsync:
 * the store is scratch), with the engine's write-behind cache, one arena reset per event, and
 * the output gathered in one buffer written in big chunks. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attribd/config.h"
#include "attribd/engine.h"
#include "attribd/event.h"
#include "attribd/json.h"
#include "attribd/kv.h"
#include "tools/commands.h"

/* A batch (one write transaction) ends when the engine's write-behind cache holds this much
 * memory, not after a fixed number of events: the state's keys (advertising ids, ips, device
 * ids) are spread all over the B-tree, so every flush copies (copy-on-write) nearly every page
 * of the store, whatever the batch size. Few big flushes, in key order, write each page once
 * for many events; between flushes reads and writes of a device's journey stay in memory. */
#define CACHE_MB_MIN_DEFAULT 1024 /* the default budget (default_cache_bytes) is at least this */
#define BUDGET_EVERY 8         /* events between looks at the batch's memory */
#define PROGRESS_EVERY 65536 /* events between looks at the clock for progress lines */
/* The kv key holding the next seq, so that a run continuing a --state store keeps seq
 * increasing (the engine ties touches to their seq). */
#define SEQ_KEY "\x01replay/next_seq"
/* Present while a batch is written in several commits (FLUSH_TXN_BYTES_DEFAULT): a store left
 * with it (a run killed in the middle of a flush) holds part of a batch and is not continued. */
#define PARTIAL_KEY "\x01replay/partial_batch"
#define OUT_FLUSH (1 << 20)        /* write the output past this many bytes */
#define READ_CHUNK (4 << 20)       /* input read size */

static volatile sig_atomic_t stop_requested;

/* --- huge pages for malloc ------------------------------------------------------------- *
 * glibc backs malloc's heap with transparent huge pages only when told so at startup
 * (GLIBC_TUNABLES=glibc.malloc.hugetlb=1, read by the dynamic loader, not settable later).
 * Replay's flush has LMDB malloc a copy of every page it writes, hundreds of MB: in 4 KiB
 * pages every first touch is a page fault, several microseconds in a VM; in 2 MiB pages one
 * fault covers 512 of them (at 1 M devices the flush took 40% less time). So replay executes
 * itself again, once, with the tunable added. ATD_REPLAY_REEXEC=0 turns this off (also set for
 * the new image, so that it can never loop); where it cannot be done, replay goes on as is. */
#define CMDLINE_MAX (256 << 10)

static void reexec_with_huge_heap(void)
{
    const char *off = getenv("ATD_REPLAY_REEXEC"), *tun = getenv("GLIBC_TUNABLES");
    if ((off && strcmp(off, "0") == 0) || (tun && strstr(tun, "glibc.malloc.hugetlb"))) return;
    char thp[128] = "";
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (!f) return;
    if (!fgets(thp, sizeof thp, f)) thp[0] = '\0';
    fclose(f);
    if (!strstr(thp, "[madvise]")) return; /* "always" has them anyway; "never" has none */
    /* the command line as the process got it: NUL-separated arguments */
    char *cmd = malloc(CMDLINE_MAX), **args = NULL, *old = tun ? strdup(tun) : NULL, *val = NULL;
    size_t n = 0;
    f = fopen("/proc/self/cmdline", "rb");
    if (cmd && f) n = fread(cmd, 1, CMDLINE_MAX, f);
    if (f) fclose(f);
    if (n == 0 || n == CMDLINE_MAX || cmd[n - 1] != '\0' || (tun && !old)) goto out;
    size_t argc = 0;
    for (size_t i = 0; i < n; i++) argc += cmd[i] == '\0';
    args = calloc(argc + 1, sizeof *args);
    size_t vlen = (old ? strlen(old) : 0) + 32;
    val = malloc(vlen);
    if (!args || !val) goto out;
    for (size_t i = 0, a = 0; i < n; i += strlen(cmd + i) + 1) args[a++] = cmd + i;
    snprintf(val, vlen, "%s%sglibc.malloc.hugetlb=1", old ? old : "", old && *old ? ":" : "");
    if (setenv("ATD_REPLAY_REEXEC", "0", 1) == 0 && setenv("GLIBC_TUNABLES", val, 1) == 0) {
        fflush(NULL);
        execv("/proc/self/exe", args);
    }
    /* could not: go on without, with the environment as it was */
    unsetenv("ATD_REPLAY_REEXEC");
    if (old) setenv("GLIBC_TUNABLES", old, 1);
    else unsetenv("GLIBC_TUNABLES");
out:
    free(cmd);
    free(args);
    free(old);
    free(val);
}

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* MemAvailable of /proc/meminfo in bytes, or 0 when it cannot be read. */
static size_t mem_available(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return 0;
    char line[256];
    unsigned long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) break;
    fclose(f);
    return (size_t)kb << 10;
}

/* The default memory budget of the batch cache: 60% of the machine's memory (replay is a batch
 * job; the rest is for the kernel's page cache of the store it writes and for other
 * processes), but never more than what is available now less 2 GiB, and at least
 * CACHE_MB_MIN_DEFAULT. (Half the memory, before session 5, left a 20 M-device stream, ~13.5 GB
 * of cache, just short: a second flush merging into an 11 GB store cost minutes.) */
static size_t default_cache_bytes(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    size_t total = pages > 0 && psize > 0 ? (size_t)pages * (size_t)psize : 0;
    size_t budget = total / 10 * 6, avail = mem_available(), spare = (size_t)2 << 30;
    if (avail > spare && budget > avail - spare) budget = avail - spare;
    size_t min = (size_t)CACHE_MB_MIN_DEFAULT << 20;
    return budget > min ? budget : min;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: attribd replay --config FILE [--input FILE|-] [--output FILE|-] [--state DIR]\n"
            "\n"
            "Runs NDJSON events (one JSON object a line, each with its own ts) through the\n"
            "attribution engine and writes one result per app event (install, session, inapp)\n"
            "as NDJSON, in input order (ATTRIBUTION.md §7).\n"
            "\n"
            "  --config FILE   the YAML config (a file with only `apps:` is enough)\n"
            "  --input FILE    events to read; - or absent: standard input\n"
            "  --output FILE   where results go; - or absent: standard output\n"
            "  --state DIR     keep the engine's LMDB store in DIR (default: a temporary folder,\n"
            "                  removed at exit); an existing store is continued\n"
            "  --cache-mb N    memory for state between writes to the store (default: 60%% of\n"
            "                  the machine's memory, at most what is available less 2 GiB);\n"
            "                  past it, the state is written and the memory reused: more\n"
            "                  memory, fewer and cheaper writes\n"
            "\n"
            "Invalid lines are reported on stderr (file:line: field F: message), skipped and\n"
            "counted. Exit status: 0 ok, 1 failure, 2 usage error or rejected lines.\n");
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void rm_tree(const char *dir) { nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

typedef struct replay {
    const char *in_name;
    FILE *out;
    atd_config *cfg;
    atd_kv *kv;
    atd_engine *eng;
    atd_kv_txn *txn;
    atd_buf outbuf;
    uint64_t line_no, valid, rejected, results, in_batch;
    uint64_t batch_max;  /* events per batch (hidden --batch), 0: by memory */
    size_t cache_bytes;  /* memory budget of a batch when batch_max is 0 */
    uint64_t seq0; /* seq of the first event of this run */
    int64_t start_ms, last_progress_ms;
    int failed;
    const char *dir;      /* the store's folder */
    atd_kv_options ko;    /* how the store is opened (again after a merge) */
    int store_has_data;   /* a flush then merges into a new store (merge_flush) */
    uint64_t flushes;     /* batches written to the store */
    int64_t flush_ms;     /* time spent writing them (sort, kv writes, commit) */
    double flush_cpu;     /* CPU seconds (user+sys) of that: steadier on a busy machine */
    double last_flush_cpu; /* of the last one */
    size_t cache_peak;    /* the largest batch cache, bytes */
    size_t txn_bytes;     /* a flush commits after this many bytes (FLUSH_TXN_BYTES_DEFAULT) */
    int skipped_last;     /* the last batch was not written (no --state: a temporary store) */
    const atd_app_config *last_app; /* the app of the last event (app_of) */
    size_t last_app_len;            /* its app_id's length */
} replay;

static int out_flush(replay *r)
{
    if (r->outbuf.n && fwrite(r->outbuf.p, 1, r->outbuf.n, r->out) != r->outbuf.n) {
        fprintf(stderr, "attribd replay: writing results: %s\n", strerror(errno));
        return -1;
    }
    r->outbuf.n = 0;
    return 0;
}

/* --- writing a batch ------------------------------------------------------------------ *
 * The first flush into an empty store appends every key in order (full pages, sequential
 * writes). A later flush would insert its keys all over the existing B-tree: nearly every page
 * copied (copy-on-write) and the old ones left free in the file, about a rewrite of the store
 * in random order. So a later flush writes a new store instead, merging the old store's keys
 * (read in order) with the batch's, all appended, and the new store replaces the old one. */

/* A batch merges into a new store when it changes at least one key per this many bytes of
 * the store (LMDB's page): then an in-place write would copy nearly every page anyway. */
#define MERGE_PAGE 4096

static int key_cmp(const void *a, size_t an, const void *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

/* A flush commits after every this many bytes of keys and values. LMDB keeps a copy of every
 * page a txn writes, in memory, until the commit writes it out and keeps it for reuse: one
 * txn for a whole big batch mallocs (fresh memory: zeroed, faulted in, several microseconds
 * per 4 KiB in a VM) as much as the store's size; txns of this size reuse the same ~70 MB. */
#define FLUSH_TXN_BYTES_DEFAULT (64u << 20)

/* Commits *txn and begins the next one in kv. */
static int txn_next(atd_kv *kv, atd_kv_txn **txn)
{
    int rc = atd_kv_txn_commit(*txn);
    *txn = NULL;
    if (rc == 0) rc = atd_kv_txn_begin(kv, 1, txn);
    return rc;
}

typedef struct merge {
    atd_kv *kv; /* the new store */
    atd_kv_txn *out;
    const atd_engine_kv_item *items;
    size_t n, i;
    size_t bytes;     /* written in out so far */
    size_t txn_bytes; /* commit after this many */
    int err;
} merge;

static void merge_put(merge *m, const void *key, size_t klen, const void *val, size_t vlen)
{
    if (m->err) return;
    m->err = atd_kv_put(m->out, key, klen, val, vlen, 0);
    m->bytes += klen + vlen;
    if (!m->err && m->bytes >= m->txn_bytes) { /* the new store is not used until complete */
        m->bytes = 0;
        m->err = txn_next(m->kv, &m->out);
    }
}

/* Writes sorted items into the store in place, committing every r->txn_bytes; the batch's
 * last txn stays open for batch_end. A batch that takes more than one txn is marked partial
 * until batch_end's commit. */
static int put_in_place(replay *r, const atd_engine_kv_item *items, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n && total < r->txn_bytes; i++) total += items[i].klen + items[i].vlen;
    int rc = 0;
    if (total >= r->txn_bytes)
        rc = atd_kv_put(r->txn, PARTIAL_KEY, sizeof PARTIAL_KEY - 1, "", 0, 0);
    for (size_t i = 0; i < n && rc == 0;) {
        size_t j = i, bytes = 0;
        for (; j < n && bytes < r->txn_bytes; j++) bytes += items[j].klen + items[j].vlen;
        rc = atd_engine_put_sorted(r->txn, items + i, j - i);
        if (rc == 0 && j < n) rc = txn_next(r->kv, &r->txn);
        i = j;
    }
    return rc;
}

/* One key of the old store, in order: the batch's smaller keys first, then it (or the batch's
 * newer value of it). */
static int merge_old_key(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    merge *m = ud;
    while (m->i < m->n && key_cmp(m->items[m->i].key, m->items[m->i].klen, key, klen) < 0) {
        merge_put(m, m->items[m->i].key, m->items[m->i].klen, m->items[m->i].val,
                  m->items[m->i].vlen);
        m->i++;
    }
    if (m->i < m->n && key_cmp(m->items[m->i].key, m->items[m->i].klen, key, klen) == 0) {
        merge_put(m, key, klen, m->items[m->i].val, m->items[m->i].vlen);
        m->i++;
    } else {
        merge_put(m, key, klen, val, vlen);
    }
    return m->err != 0;
}

/* Writes a batch's changed keys: into the store, or merged into a new one. */
static int write_batch(void *ctx, const atd_engine_kv_item *items, size_t n)
{
    replay *r = ctx;
    /* into an empty store every key is appended in order; a batch with fewer changed keys
     * than the store has pages leaves most pages as they are: both go into the store itself */
    int64_t store_bytes = r->store_has_data ? r->kv->ops->size_bytes(r->kv) : 0;
    if (store_bytes <= 0 || (int64_t)n * MERGE_PAGE < store_bytes) return put_in_place(r, items, n);
    char path[4200];
    snprintf(path, sizeof path, "%s/merge", r->dir);
    rm_tree(path); /* a leftover of an interrupted run */
    if (mkdir(path, 0755) != 0) {
        fprintf(stderr, "attribd replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    atd_kv_options ko = r->ko;
    ko.path = path;
    atd_kv *nkv = NULL;
    atd_kv_txn *out = NULL;
    int rc = atd_kv_open("lmdb", &ko, &nkv);
    if (rc == 0) rc = atd_kv_txn_begin(nkv, 1, &out);
    if (rc == 0) {
        merge m = {nkv, out, items, n, 0, 0, r->txn_bytes, 0};
        /* the batch's write txn on the old store holds nothing yet (the engine writes only
         * at a flush): it reads the old keys, then goes */
        rc = r->txn->kv->ops->scan(r->txn, "", 0, merge_old_key, &m);
        while (rc == 0 && !m.err && m.i < m.n) {
            merge_put(&m, items[m.i].key, items[m.i].klen, items[m.i].val, items[m.i].vlen);
            m.i++;
        }
        if (rc == 0) rc = m.err;
        if (m.out && rc == 0) rc = atd_kv_txn_commit(m.out);
        else if (m.out) atd_kv_txn_abort(m.out);
    }
    if (nkv) atd_kv_close(nkv);
    atd_kv_txn_abort(r->txn);
    r->txn = NULL;
    if (rc < 0) {
        fprintf(stderr, "attribd replay: writing the merged store: %s\n", atd_strerror(rc));
        rm_tree(path);
        return rc;
    }
    /* the new store replaces the old one */
    atd_kv_close(r->kv);
    r->kv = NULL;
    char from[4300], to[4300];
    snprintf(from, sizeof from, "%s/data.mdb", path);
    snprintf(to, sizeof to, "%s/data.mdb", r->dir);
    if (rename(from, to) != 0) {
        fprintf(stderr, "attribd replay: %s: %s\n", to, strerror(errno));
        return -1;
    }
    rm_tree(path);
    if ((rc = atd_kv_open("lmdb", &r->ko, &r->kv)) < 0) {
        fprintf(stderr, "attribd replay: opening the store in %s: %s\n", r->dir,
                atd_strerror(rc));
        return rc;
    }
    atd_engine_set_kv(r->eng, r->kv);
    return atd_kv_txn_begin(r->kv, 1, &r->txn);
}

/* CPU seconds (user+sys) of the process so far. */
static double cpu_seconds(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void note_cache_peak(replay *r)
{
    size_t bytes = atd_engine_batch_bytes(r->eng);
    if (bytes > r->cache_peak) r->cache_peak = bytes;
}

static int batch_end(replay *r)
{
    int64_t t0 = atd_mono_ms();
    double cpu0 = cpu_seconds();
    note_cache_peak(r);
    int rc = atd_engine_batch_flush_sorted(r->eng, write_batch, r);
    if (rc == 0) {
        uint64_t next = r->seq0 + r->valid;
        rc = atd_kv_put(r->txn, SEQ_KEY, sizeof SEQ_KEY - 1, &next, sizeof next, 0);
        if (rc == 0) rc = atd_kv_del(r->txn, PARTIAL_KEY, sizeof PARTIAL_KEY - 1);
    }
    if (rc < 0) {
        if (rc != -1) fprintf(stderr, "attribd replay: kv write: %s\n", atd_strerror(rc));
        if (r->txn) atd_kv_txn_abort(r->txn);
        r->txn = NULL;
        return rc;
    }
    rc = atd_kv_txn_commit(r->txn);
    r->txn = NULL;
    if (rc < 0) {
        fprintf(stderr, "attribd replay: kv commit: %s\n", atd_strerror(rc));
        return rc;
    }
    r->store_has_data = 1;
    r->in_batch = 0;
    r->flushes++;
    r->flush_ms += atd_mono_ms() - t0;
    r->last_flush_cpu = cpu_seconds() - cpu0;
    r->flush_cpu += r->last_flush_cpu;
    if (out_flush(r) < 0) return -1;
    return 0;
}

static void progress(replay *r)
{
    int64_t now = atd_mono_ms();
    if (now - r->last_progress_ms >= 1000) {
        double secs = (double)(now - r->start_ms) / 1000.0;
        fprintf(stderr, "attribd replay: %llu events, %llu results, %llu rejected, %.0f events/s\n",
                (unsigned long long)r->valid, (unsigned long long)r->results,
                (unsigned long long)r->rejected, secs > 0 ? (double)r->valid / secs : 0.0);
        r->last_progress_ms = now;
    }
}

static int batch_begin(replay *r)
{
    int rc = atd_kv_txn_begin(r->kv, 1, &r->txn);
    if (rc < 0) {
        fprintf(stderr, "attribd replay: kv transaction: %s\n", atd_strerror(rc));
        return rc;
    }
    atd_engine_batch_begin(r->eng);
    return 0;
}

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return 0;
    return 1;
}

/* Events are parsed a few lines ahead of the engine, so that the engine's cache can be told
 * which state they will need (atd_engine_prefetch_*): its lookups are random accesses over
 * gigabytes, and a prefetch issued ~16 events early has arrived when the event is processed.
 * Each slot of the ring has its own arena (the event's strings and the engine's scratch). */
#define RING 16                /* events in flight (a power of two) */
#define PREFETCH_VALUES_AT 8   /* events ahead at which the second prefetch is made */

typedef struct slot {
    atd_arena arena;
    atd_event ev;
    atd_prefetch pf;
    uint64_t line_no;
    int state; /* 0: empty (blank line), 1: parsed, 2: rejected (err holds why) */
    atd_event_error err;
} slot;

/* Parses one input line (without its newline) into s. */
static void parse_line(replay *r, slot *s, const char *line, size_t n)
{
    s->line_no = ++r->line_no;
    s->state = 0;
    if ((n == 0 || line[0] != '{') && is_blank(line, n)) return;
    /* what process_slot reads of a rejection the parser did not explain (not a memset of
     * the message buffer for every line) */
    s->err.http_status = 0;
    s->err.field = NULL;
    s->err.message[0] = '\0';
    if (atd_event_parse_json(line, n, ATD_PARSE_REQUIRE_TS, ATD_STR_NULL, r->cfg, &s->arena,
                             &s->ev, &s->err) != 0) {
        s->state = 2;
        return;
    }
    s->state = 1;
    atd_engine_prefetch_slots(r->eng, &s->ev, &s->pf);
}

/* Control bytes of a message (an invalid value quoted in it, e.g. an ip "1.2.3.4\n") become '?',
 * so that each rejected line is one line on stderr. */
static const char *one_line(char *msg)
{
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
    return msg;
}

/* Whether the n bytes at a and b are the same: app ids are short, so without a call. */
static inline int same_bytes(const char *a, const char *b, size_t n)
{
    uint64_t x, y, u, v;
    if (n < 8 || n > 16) return memcmp(a, b, n) == 0;
    memcpy(&x, a, 8);
    memcpy(&y, b, 8);
    memcpy(&u, a + n - 8, 8);
    memcpy(&v, b + n - 8, 8);
    return ((x ^ y) | (u ^ v)) == 0;
}

/* The config of the event's app: the last event's when it is the same (a stream has few apps;
 * atd_config_app's scan costs a strlen and a memcmp call per app and event), else looked up. */
static const atd_app_config *app_of(replay *r, atd_str app_id)
{
    const atd_app_config *a = r->last_app;
    if (a && app_id.n == r->last_app_len && same_bytes(a->app_id, app_id.p, app_id.n)) return a;
    a = atd_config_app(r->cfg, app_id.p, app_id.n);
    if (a) {
        r->last_app = a;
        r->last_app_len = app_id.n;
    }
    return a;
}

/* Runs a parsed line through the engine. Returns 0, or < 0 to stop the run. */
static int process_slot(replay *r, slot *s)
{
    int rc = 0;
    if (s->state == 2) {
        r->rejected++;
        fprintf(stderr, "%s:%llu: field %s: %s\n", r->in_name, (unsigned long long)s->line_no,
                s->err.field ? s->err.field : "body",
                s->err.message[0] ? one_line(s->err.message) : "invalid event");
        goto out;
    }
    if (s->state != 1) goto out;
    const atd_event *ev = &s->ev;
    const atd_app_config *app = app_of(r, ev->app_id);
    if (!app) { /* the parser checks the app; this is belt and braces */
        r->rejected++;
        fprintf(stderr, "%s:%llu: field app_id: unknown app\n", r->in_name,
                (unsigned long long)s->line_no);
        goto out;
    }
    if (!r->txn && (rc = batch_begin(r)) < 0) goto out;
    atd_result res;
    atd_engine_use_prefetch(r->eng, &s->pf); /* its keys were made with the prefetch */
    rc = atd_engine_process(r->eng, r->txn, app, ev, r->seq0 + r->valid, &res, &s->arena);
    if (rc < 0) {
        fprintf(stderr, "%s:%llu: engine: %s\n", r->in_name, (unsigned long long)s->line_no,
                atd_strerror(rc));
        goto out;
    }
    r->valid++;
    if (rc == 1) {
        res.source_offset = s->line_no;
        atd_buf *ob = &r->outbuf;
        atd_result_to_json(&res, ob);
        if (ob->cap - ob->n >= 2) { /* the newline without a call */
            ob->p[ob->n++] = '\n';
            ob->p[ob->n] = '\0';
        } else {
            atd_buf_putc(ob, '\n');
        }
        r->results++;
    }
    rc = 0;
    ++r->in_batch;
    /* the budget is looked at every BUDGET_EVERY events: an event adds a few hundred bytes */
    if (r->batch_max ? r->in_batch >= r->batch_max
                     : r->in_batch % BUDGET_EVERY == 0 &&
                           atd_engine_batch_bytes(r->eng) >= r->cache_bytes) {
        if (batch_end(r) < 0) rc = -1;
    }
    if (rc == 0 && r->valid % PROGRESS_EVERY == 0) progress(r);
    if (rc == 0 && r->outbuf.n >= OUT_FLUSH && out_flush(r) < 0) rc = -1;
out:
    /* the event, its result and the engine's scratch live in the slot's arena; the batch
     * cache holds its own copies of what it keeps */
    atd_arena_reset(&s->arena);
    s->state = 0;
    return rc;
}

typedef struct pipeline {
    slot ring[RING];
    uint64_t parsed, done; /* lines parsed into the ring / processed */
} pipeline;

/* Processes the oldest parsed line. */
static int pipeline_step(replay *r, pipeline *p)
{
    return process_slot(r, &p->ring[p->done++ & (RING - 1)]);
}

/* Takes one more line: parses it, makes the second prefetch for the line PREFETCH_VALUES_AT
 * before it, and processes the oldest line when the ring is full. */
static int pipeline_push(replay *r, pipeline *p, const char *line, size_t n)
{
    int rc = 0;
    if (p->parsed - p->done == RING) rc = pipeline_step(r, p);
    parse_line(r, &p->ring[p->parsed & (RING - 1)], line, n);
    p->parsed++;
    if (p->parsed > PREFETCH_VALUES_AT) {
        slot *s = &p->ring[(p->parsed - 1 - PREFETCH_VALUES_AT) & (RING - 1)];
        if (s->state == 1 && p->parsed - 1 - PREFETCH_VALUES_AT >= p->done)
            atd_engine_prefetch_values(r->eng, &s->pf);
    }
    return rc;
}

/* Processes every line still in the ring (their strings point into the input buffer, which is
 * about to move). */
static int pipeline_drain(replay *r, pipeline *p)
{
    int rc = 0;
    while (rc == 0 && p->done < p->parsed) rc = pipeline_step(r, p);
    return rc;
}

/* --- finding the lines ------------------------------------------------------------------ *
 * With AVX2 where the CPU has it: 64 bytes per step, the input buffer having NL_SLACK
 * readable bytes past its end so that the last step needs no tail loop (a newline found past
 * the end does not count). A line of ~280 bytes costs ~50 instructions instead of memchr's ~77
 * (its alignment prologue and tail). */
#define NL_SLACK 64

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define NL_AVX2 1

static int have_avx2;
static void nl_cpu_init(void) __attribute__((constructor));
static void nl_cpu_init(void)
{
    __builtin_cpu_init();
    have_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi");
}

__attribute__((target("avx2,bmi"))) static const char *nl_find_avx2(const char *p,
                                                                    const char *end)
{
    const __m256i nl = _mm256_set1_epi8('\n');
    for (; p < end; p += 64) {
        __m256i a = _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(const void *)p), nl);
        __m256i b =
            _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(const void *)(p + 32)), nl);
        __m256i any = _mm256_or_si256(a, b);
        if (!_mm256_testz_si256(any, any)) {
            uint64_t m = (uint32_t)_mm256_movemask_epi8(a) |
                         (uint64_t)(uint32_t)_mm256_movemask_epi8(b) << 32;
            const char *hit = p + __builtin_ctzll(m);
            return hit < end ? hit : NULL;
        }
    }
    return NULL;
}
#endif

/* The first newline in [p, end), or NULL; end has NL_SLACK readable bytes after it. */
static inline const char *nl_find(const char *p, const char *end)
{
#ifdef NL_AVX2
    if (have_avx2) return nl_find_avx2(p, end);
#endif
    return memchr(p, '\n', (size_t)(end - p));
}

/* What replay has read of a big regular file leaves the page cache behind it, in steps of this
 * many bytes. A file bigger than a quarter of the machine's memory (41 GB for 20 M devices)
 * cannot stay cached anyway, and its cached pages would fill the free memory, so that every
 * huge page the state needs would first be reclaimed and compacted out of them, in replay's
 * own time (and the page cache of everything else on the machine pushed out). A smaller file
 * stays cached for the next run (reading it again from disk costs ~0.2 s of system time per
 * 2 GB here). */
#define DROP_BEHIND (64 << 20)

static int drop_behind_fd(FILE *in)
{
    struct stat st;
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    int fd = fileno(in);
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || pages <= 0 || page <= 0) return -1;
    /* (what is cached of it ahead of the reads stays: dropping it at the start as well was
     * measured at 20 M devices: no reclaim left, but reading it all from disk cost ~20 s more
     * system time than the reclaim saved) */
    return (uint64_t)st.st_size > (uint64_t)pages * (uint64_t)page / 4 ? fd : -1;
}

/* Reads the input in big chunks and hands out whole lines. */
static int run_input(replay *r, FILE *in)
{
    int drop_fd = drop_behind_fd(in);
    uint64_t read_total = 0, dropped = 0;
    size_t cap = READ_CHUNK * 2, have = 0;
    char *buf = malloc(cap + NL_SLACK);
    pipeline *p = calloc(1, sizeof *p);
    if (!buf || !p) {
        free(buf);
        free(p);
        return -1;
    }
    for (int i = 0; i < RING; i++) atd_arena_init(&p->ring[i].arena, 64 << 10);
    int rc = 0;
    for (;;) {
        if (stop_requested) {
            fprintf(stderr, "attribd replay: interrupted\n");
            rc = -1;
            break;
        }
        if (cap - have < READ_CHUNK) {
            cap *= 2;
            char *nb = realloc(buf, cap + NL_SLACK);
            if (!nb) {
                rc = -1;
                break;
            }
            buf = nb;
        }
        size_t got = fread(buf + have, 1, cap - have, in);
        int eof = got == 0;
        if (eof && ferror(in)) {
            fprintf(stderr, "attribd replay: reading %s: %s\n", r->in_name, strerror(errno));
            rc = -1;
            break;
        }
        have += got;
        read_total += got;
        if (drop_fd >= 0 && read_total - dropped >= DROP_BEHIND) {
            (void)posix_fadvise(drop_fd, (off_t)dropped, (off_t)(read_total - dropped),
                                POSIX_FADV_DONTNEED);
            dropped = read_total;
        }
        memset(buf + have, 0, NL_SLACK); /* what nl_find may read past the end: defined */
        size_t pos = 0;
        const char *nl;
        while ((nl = nl_find(buf + pos, buf + have)) != NULL) {
            size_t len = (size_t)(nl - (buf + pos));
            if ((rc = pipeline_push(r, p, buf + pos, len)) < 0) break;
            pos += len + 1;
        }
        if (rc == 0) rc = pipeline_drain(r, p);
        if (rc < 0) break;
        memmove(buf, buf + pos, have - pos);
        have -= pos;
        if (eof) {
            if (have) { /* a last line without a newline */
                rc = pipeline_push(r, p, buf, have);
                if (rc == 0) rc = pipeline_drain(r, p);
            }
            break;
        }
    }
    for (int i = 0; i < RING; i++) atd_arena_free(&p->ring[i].arena);
    free(p);
    free(buf);
    return rc;
}

int atd_cmd_replay(int argc, char **argv)
{
    const char *config = NULL, *input = "-", *output = "-", *state = NULL, *batch = NULL,
               *cache_mb = NULL, *txn_kb = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        const char **dst = !strcmp(a, "--config")   ? &config
                           : !strcmp(a, "--input")  ? &input
                           : !strcmp(a, "--output") ? &output
                           : !strcmp(a, "--state")  ? &state
                           : !strcmp(a, "--batch")  ? &batch /* hidden: for benchmarks */
                           : !strcmp(a, "--cache-mb") ? &cache_mb
                           : !strcmp(a, "--flush-txn-kb") ? &txn_kb /* hidden: for tests */
                                                    : NULL;
        if (!dst) {
            fprintf(stderr, "attribd replay: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "attribd replay: %s needs a value\n", a);
            return 2;
        }
        *dst = argv[++i];
    }
    if (!config) {
        fprintf(stderr, "attribd replay: --config FILE is required\n");
        usage(stderr);
        return 2;
    }
    reexec_with_huge_heap();

    size_t cache_bytes;
    if (cache_mb) {
        char *end;
        unsigned long long mb = strtoull(cache_mb, &end, 10);
        if (end == cache_mb || *end || mb == 0) {
            fprintf(stderr, "attribd replay: --cache-mb needs a number of MiB above 0, not '%s'\n",
                    cache_mb);
            return 2;
        }
        cache_bytes = (size_t)mb << 20;
    } else {
        cache_bytes = default_cache_bytes();
    }
    char err[512] = "";
    replay r;
    memset(&r, 0, sizeof r);
    r.cache_bytes = cache_bytes;
    r.txn_bytes = txn_kb ? (size_t)strtoull(txn_kb, NULL, 10) << 10 : FLUSH_TXN_BYTES_DEFAULT;
    if (r.txn_bytes == 0) r.txn_bytes = FLUSH_TXN_BYTES_DEFAULT;
    r.cfg = atd_config_load(config, err, sizeof err);
    if (!r.cfg) {
        fprintf(stderr, "attribd replay: %s\n", err[0] ? err : "cannot load the config");
        return 1;
    }
    int status = 1;
    FILE *in = NULL;
    char tmpdir[] = "/tmp/attribd-replay-XXXXXX";
    const char *dir = state;
    int made_tmp = 0;
    if (!dir) {
        const char *t = getenv("TMPDIR");
        static char path[4096];
        snprintf(path, sizeof path, "%s/attribd-replay-XXXXXX", t && *t ? t : "/tmp");
        dir = mkdtemp(path);
        if (!dir) dir = mkdtemp(tmpdir);
        if (!dir) {
            fprintf(stderr, "attribd replay: cannot make a temporary folder: %s\n",
                    strerror(errno));
            goto done;
        }
        made_tmp = 1;
    }
    /* LMDB mallocs and frees a page per page it dirties in every transaction: keep freed
     * memory in the process instead of returning it to the kernel and faulting it back in */
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    in = strcmp(input, "-") ? fopen(input, "rb") : stdin;
    if (!in) {
        fprintf(stderr, "attribd replay: %s: %s\n", input, strerror(errno));
        goto done;
    }
    r.in_name = strcmp(input, "-") ? input : "<stdin>";
    r.out = strcmp(output, "-") ? fopen(output, "wb") : stdout;
    if (!r.out) {
        fprintf(stderr, "attribd replay: %s: %s\n", output, strerror(errno));
        goto done;
    }
    memset(&r.ko, 0, sizeof r.ko);
    r.dir = dir;
    r.ko.path = dir;
    r.ko.map_size = r.cfg->kv.map_size ? r.cfg->kv.map_size : (64ULL << 30);
    r.ko.no_sync = 1;
    int rc = atd_kv_open("lmdb", &r.ko, &r.kv);
    if (rc < 0) {
        fprintf(stderr, "attribd replay: opening the store in %s: %s\n", dir, atd_strerror(rc));
        goto done;
    }
    r.eng = atd_engine_new(r.kv);
    if (!r.eng) goto done;
    atd_engine_set_kv_expiry(r.eng, 0); /* a scratch store: nothing to reclaim */
    r.batch_max = batch ? strtoull(batch, NULL, 10) : 0;
    if (batch && r.batch_max < 1) r.batch_max = 1;
    {
        /* a continued store: go on from its seq */
        atd_kv_txn *t;
        atd_kv_val v;
        if (atd_kv_txn_begin(r.kv, 0, &t) == 0) {
            if (atd_kv_get(t, SEQ_KEY, sizeof SEQ_KEY - 1, &v) == 0 && v.n == sizeof r.seq0)
                memcpy(&r.seq0, v.p, sizeof r.seq0);
            if (atd_kv_get(t, PARTIAL_KEY, sizeof PARTIAL_KEY - 1, &v) == 0) {
                fprintf(stderr,
                        "attribd replay: the store in %s holds part of a batch (a run stopped "
                        "while writing it): remove it and replay from the start\n",
                        dir);
                atd_kv_txn_abort(t);
                goto done;
            }
            atd_kv_txn_abort(t);
        }
    }
    atd_buf_init(&r.outbuf);
    atd_buf_reserve(&r.outbuf, OUT_FLUSH + 65536);
    r.start_ms = r.last_progress_ms = atd_mono_ms();

    rc = run_input(&r, in);
    /* The last batch goes to the store only when the store is kept (--state): a temporary
     * store is deleted right below, and writing it (sort, LMDB pages, fresh page cache) would
     * be ~10 % of a run that fits one batch, for nothing. Batches ended by the memory budget
     * were written: later events of the run needed their state. */
    if (rc == 0 && r.txn && made_tmp) {
        note_cache_peak(&r);
        r.skipped_last = 1;
    } else if (rc == 0 && r.txn) {
        rc = batch_end(&r);
    }
    /* a batch not written is dropped with the txn; the engine's cache goes with the engine
     * below (not cleared first: that would write its whole table once more) */
    if (r.txn) atd_kv_txn_abort(r.txn);
    if (rc == 0) rc = out_flush(&r);
    if (rc == 0 && fflush(r.out) != 0) {
        fprintf(stderr, "attribd replay: writing results: %s\n", strerror(errno));
        rc = -1;
    }
    int64_t took = atd_mono_ms() - r.start_ms;
    if (took >= 1000 || r.rejected) {
        const atd_engine_counters *n = atd_engine_stats(r.eng);
        fprintf(stderr,
                "attribd replay: done: %llu lines, %llu events, %llu results, %llu rejected in "
                "%.2f s (%.0f events/s); kv: %llu gets, %llu puts, %lld bytes; %llu flushes "
                "in %.2f s (%.2f s CPU, the last %.2f s)%s, cache peak %zu MB\n",
                (unsigned long long)r.line_no, (unsigned long long)r.valid,
                (unsigned long long)r.results, (unsigned long long)r.rejected, took / 1000.0,
                took > 0 ? r.valid * 1000.0 / took : 0.0, (unsigned long long)n->kv_gets,
                (unsigned long long)n->kv_puts, (long long)r.kv->ops->size_bytes(r.kv),
                (unsigned long long)r.flushes, r.flush_ms / 1000.0, r.flush_cpu, r.last_flush_cpu,
                r.skipped_last ? " (the last batch not written: a temporary store)" : "",
                r.cache_peak >> 20);
    }
    status = rc < 0 ? 1 : r.rejected ? 2 : 0;

done:
    if (r.eng) atd_engine_free(r.eng);
    if (r.kv) atd_kv_close(r.kv);
    atd_buf_free(&r.outbuf);
    if (in && in != stdin) fclose(in);
    if (r.out && r.out != stdout) fclose(r.out);
    if (made_tmp) rm_tree(dir);
    atd_config_release(r.cfg);
    return status;
}
