/* The data folder of serve and import: DATA/log holds the file log (later DATA/kv, ...).
 * One process at a time owns a data folder: it holds an exclusive flock on DATA/attribd.lock,
 * because two processes appending to the same file log would interleave their writes. */
#ifndef ATTRIBD_HTTP_DATADIR_H
#define ATTRIBD_HTTP_DATADIR_H

#include <stddef.h>

#include "attribd/config.h"
#include "attribd/log.h"

typedef struct atd_datadir {
    char *path;
    char *log_dir;
    int lock_fd;
} atd_datadir;

/* Creates the folder if needed and takes its lock; who ("serve", "import") is written into the
 * lock file so that a refused process can say who holds it. Returns 0, or -1 with a message in
 * err (errlen bytes). */
int atd_datadir_open(atd_datadir *d, const char *path, const char *who, char *err, size_t errlen);
/* Opens the log of the folder with the config's log settings. 0, or a negative error with a
 * message in err. */
int atd_datadir_log_open(atd_datadir *d, const atd_config *cfg, atd_log **out, char *err,
                         size_t errlen);
/* Releases the lock and frees d's strings. */
void atd_datadir_close(atd_datadir *d);

#endif
