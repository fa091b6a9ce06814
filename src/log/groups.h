/* Consumer-group positions of the file log: (group, topic, partition) -> next offset, kept in
 * memory and persisted one file per group (DIR/__groups/GROUP.grp), replaced atomically (write a
 * temporary file, fsync, rename, fsync the folder) on every commit. Internal to src/log/. */
#ifndef ATTRIBD_LOG_GROUPS_H
#define ATTRIBD_LOG_GROUPS_H

#include <stdint.h>

typedef struct atd_groups atd_groups;

/* Loads every group file of dir (created if missing). dir is copied. A damaged file fails the
 * open with ATD_ECORRUPT and an ATD_ERROR naming it. */
int atd_groups_open(const char *dir, atd_groups **out);
void atd_groups_free(atd_groups *g);
/* Records next for (group, topic, partition) durably before returning. Names are copied. */
int atd_groups_commit(atd_groups *g, const char *group, const char *topic, int partition,
                      uint64_t next);
/* ATD_ENOTFOUND when never committed. */
int atd_groups_get(atd_groups *g, const char *group, const char *topic, int partition,
                   uint64_t *next);

/* 1 when name may be a file name of the log: 1..200 of [A-Za-z0-9._-], not starting with '.'
 * nor "__" (reserved for the log's own folders). */
int atd_log_name_ok(const char *name);

#endif
