/* The event log's backend registry and the partitioner. Backends are looked up by name in a
 * static table (like sqlite3_vfs_find): a new backend adds one line to it. */
#include "attribd/log.h"

#include "attribd/common.h"
#include "log/file_log.h"

#include <string.h>

typedef const atd_log_ops *(*backend_fn)(void);

static const backend_fn backends[] = {
    atd_log_file_ops,
};

const atd_log_ops *atd_log_backend(const char *name)
{
    if (!name) return NULL;
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
        const atd_log_ops *ops = backends[i]();
        if (strcmp(ops->name, name) == 0) return ops;
    }
    return NULL;
}

/* *out belongs to the caller, released with atd_log_close. opt and its strings are only read
 * during the call. */
int atd_log_open(const char *backend, const atd_log_options *opt, atd_log **out)
{
    const atd_log_ops *ops = atd_log_backend(backend ? backend : "file");
    if (!ops || !opt || !out) return ops ? ATD_EINVAL : ATD_ENOTFOUND;
    return ops->open(opt, out);
}

/* 64-bit FNV-1a, then the murmur3 finalizer so that the low bits (kept by the modulo) depend
 * on every input bit. Fixed forever: changing it would move keys between partitions. */
int atd_log_partition_for(const void *key, size_t key_len, int n_partitions)
{
    if (n_partitions <= 1) return 0;
    const unsigned char *p = key;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < key_len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return (int)(h % (uint64_t)n_partitions);
}
