/* attribd replay's flush in several commits (src/tools/replay.c: a big batch is written in
 * txns of --flush-txn-kb, 64 MiB by default): the results and the store's every key and value
 * are the same as with one commit per batch, in place and through the merging flush
 * (--cache-mb 1: many flushes); while a batch is written in pieces the store is marked, and a
 * store left with the mark (a run stopped in the middle of a flush) is refused, not continued. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "attribd/common.h"
#include "attribd/json.h"
#include "attribd/kv.h"
#include "harness.h"

#define PARTIAL_KEY "\x01replay/partial_batch"

static char *dir;

static int sh(const char *cmd)
{
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Runs replay over the generated input into out-NAME.ndjson and state-NAME. */
static int replay(const char *name, const char *opts)
{
    char cmd[16384];
    snprintf(cmd, sizeof cmd,
             "'%s' replay --config '%s/app.yaml' --input '%s/in.ndjson' --output "
             "'%s/out-%s.ndjson' --state '%s/state-%s' %s 2>'%s/err-%s'",
             atd_test_bin(), dir, dir, dir, name, dir, name, opts, dir, name);
    return sh(cmd);
}

static atd_kv *open_state(const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/state-%s", dir, name);
    atd_kv_options o = {.path = path, .map_size = 1ULL << 30, .no_sync = 1};
    atd_kv *kv = NULL;
    CHECK_EQ_INT(atd_kv_open("lmdb", &o, &kv), 0);
    return kv;
}

typedef struct dump {
    atd_buf all; /* every key and value, length-prefixed, in key order */
    size_t n;
} dump;

static int dump_cb(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    dump *d = ud;
    atd_buf_put(&d->all, &klen, sizeof klen);
    atd_buf_put(&d->all, key, klen);
    atd_buf_put(&d->all, &vlen, sizeof vlen);
    atd_buf_put(&d->all, val, vlen);
    d->n++;
    return 0;
}

static void dump_state(const char *name, dump *d)
{
    atd_buf_init(&d->all);
    d->n = 0;
    atd_kv *kv = open_state(name);
    if (!kv) return;
    atd_kv_txn *t;
    CHECK_EQ_INT(atd_kv_txn_begin(kv, 0, &t), 0);
    CHECK_EQ_INT(kv->ops->scan(t, "", 0, dump_cb, d), 0);
    atd_kv_txn_abort(t);
    atd_kv_close(kv);
}

static int same_file(const char *a, const char *b)
{
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "cmp -s '%s/out-%s.ndjson' '%s/out-%s.ndjson'", dir, a, dir, b);
    return sh(cmd) == 0;
}

static void test_pieces_same_as_whole(void)
{
    CHECK_EQ_INT(replay("whole", ""), 0);
    CHECK_EQ_INT(replay("pieces", "--flush-txn-kb 4"), 0);
    CHECK_EQ_INT(replay("merged", "--cache-mb 1 --flush-txn-kb 4"), 0);
    CHECK(same_file("whole", "pieces"));
    CHECK(same_file("whole", "merged"));
    dump a, b, c;
    dump_state("whole", &a);
    dump_state("pieces", &b);
    dump_state("merged", &c);
    printf("  %zu keys, %zu bytes in the store\n", a.n, a.all.n);
    CHECK(a.n > 3000);
    CHECK(a.n == b.n && a.all.n == b.all.n && memcmp(a.all.p, b.all.p, a.all.n) == 0);
    CHECK(a.n == c.n && a.all.n == c.all.n && memcmp(a.all.p, c.all.p, a.all.n) == 0);
    /* the mark is gone once the batch is complete */
    CHECK(!memmem(b.all.p, b.all.n, PARTIAL_KEY, sizeof PARTIAL_KEY - 1));
    atd_buf_free(&a.all);
    atd_buf_free(&b.all);
    atd_buf_free(&c.all);
}

static void test_partial_store_refused(void)
{
    /* what a run stopped between two commits of a flush leaves: the mark */
    atd_kv *kv = open_state("pieces");
    if (!kv) return;
    atd_kv_txn *t;
    CHECK_EQ_INT(atd_kv_txn_begin(kv, 1, &t), 0);
    CHECK_EQ_INT(atd_kv_put(t, PARTIAL_KEY, sizeof PARTIAL_KEY - 1, "", 0, 0), 0);
    CHECK_EQ_INT(atd_kv_txn_commit(t), 0);
    atd_kv_close(kv);
    CHECK_EQ_INT(replay("pieces", ""), 1);
    char path[4200];
    snprintf(path, sizeof path, "%s/err-pieces", dir);
    char *err = atd_test_read_file(path, NULL);
    CHECK(err && strstr(err, "holds part of a batch"));
    free(err);
    /* a store without the mark is continued */
    CHECK_EQ_INT(replay("whole", ""), 0);
}

int main(void)
{
    dir = atd_test_tmpdir("replay-flush");
    char cmd[9000];
    snprintf(cmd, sizeof cmd,
             "printf 'apps:\\n  com.example.game:\\n' >'%s/app.yaml' && '%s' gen --devices 3000 "
             "--active 500 >'%s/in.ndjson'",
             dir, atd_test_bin(), dir);
    if (sh(cmd) != 0) {
        fprintf(stderr, "cannot generate the input\n");
        return 1;
    }
    RUN(test_pieces_same_as_whole);
    RUN(test_partial_store_refused);
    atd_test_rmrf(dir);
    free(dir);
    return atd_test_done();
}
