/* The "file" backend's vtable (src/log/file_log.c), for the registry in src/log/log.c. */
#ifndef ATTRIBD_LOG_FILE_LOG_H
#define ATTRIBD_LOG_FILE_LOG_H

#include "attribd/log.h"

const atd_log_ops *atd_log_file_ops(void);

#endif
