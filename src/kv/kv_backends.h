/* Private to src/kv: the backends' vtables, listed by the registry in kv.c. */
#ifndef ATTRIBD_KV_BACKENDS_H
#define ATTRIBD_KV_BACKENDS_H

#include "attribd/kv.h"

extern const atd_kv_ops atd_kv_lmdb_ops; /* src/kv/lmdb_kv.c */

#endif
