/* See datadir.h. */
#include "http/datadir.h"

#include "attribd/common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int mkdir_p(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return -ENAMETOOLONG;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != 0) continue;
        char c = buf[i];
        buf[i] = 0;
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -errno;
        buf[i] = c;
    }
    return 0;
}

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (!p) abort();
    snprintf(p, n, "%s/%s", a, b);
    return p;
}

int atd_datadir_open(atd_datadir *d, const char *path, const char *who, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    d->lock_fd = -1;
    int rc = mkdir_p(path);
    if (rc != 0) {
        snprintf(err, errlen, "data folder %s: %s", path, strerror(-rc));
        return -1;
    }
    d->path = strdup(path);
    d->log_dir = join(path, "log");
    char *lock_path = join(path, "attribd.lock");
    d->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (d->lock_fd < 0) {
        snprintf(err, errlen, "%s: %s", lock_path, strerror(errno));
        free(lock_path);
        atd_datadir_close(d);
        return -1;
    }
    if (flock(d->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        char holder[128] = "";
        ssize_t r = pread(d->lock_fd, holder, sizeof holder - 1, 0);
        holder[r > 0 ? r : 0] = 0;
        holder[strcspn(holder, "\n")] = 0;
        snprintf(err, errlen,
                 "the data folder %s is in use by another attribd process (%s); one process at "
                 "a time may write its log: stop it first, or send events to the running "
                 "server over HTTP",
                 path, holder[0] ? holder : "unknown");
        free(lock_path);
        atd_datadir_close(d);
        return -1;
    }
    free(lock_path);
    char line[128];
    int n = snprintf(line, sizeof line, "attribd %s, pid %d\n", who, (int)getpid());
    if (ftruncate(d->lock_fd, 0) == 0 && pwrite(d->lock_fd, line, (size_t)n, 0) < 0) {
        /* the holder's name is only a courtesy for error messages */
    }
    rc = mkdir_p(d->log_dir);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", d->log_dir, strerror(-rc));
        atd_datadir_close(d);
        return -1;
    }
    return 0;
}

int atd_datadir_log_open(atd_datadir *d, const atd_config *cfg, atd_log **out, char *err,
                         size_t errlen)
{
    atd_log_options o = {
        .dir = d->log_dir,
        .fsync_always = cfg->log.fsync && !strcmp(cfg->log.fsync, "always"),
        .fsync_interval_ms = cfg->log.fsync_interval_ms,
        .segment_bytes = cfg->log.segment_bytes,
        .retention_bytes = cfg->log.retention_bytes,
        .retention_ms = cfg->log.retention_ms,
        .brokers = cfg->log.brokers,
    };
    const char *backend = cfg->log.backend ? cfg->log.backend : "file";
    int rc = atd_log_open(backend, &o, out);
    if (rc != 0) snprintf(err, errlen, "log (%s) in %s: %s", backend, d->log_dir, atd_strerror(rc));
    return rc;
}

void atd_datadir_close(atd_datadir *d)
{
    if (d->lock_fd >= 0) close(d->lock_fd); /* closing drops the flock */
    d->lock_fd = -1;
    free(d->path);
    free(d->log_dir);
    d->path = d->log_dir = NULL;
}
