/* The kv registry: backends by name. A backend is a static vtable; adding one is one line in
 * `backends` below (and its extern in kv_backends.h). */
#include <string.h>

#include "attribd/common.h"
#include "attribd/kv.h"
#include "attribd/logging.h"
#include "kv/kv_backends.h"

static const atd_kv_ops *const backends[] = {
    &atd_kv_lmdb_ops,
};

const atd_kv_ops *atd_kv_backend(const char *name)
{
    if (!name) return NULL;
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
        if (strcmp(backends[i]->name, name) == 0) return backends[i];
    return NULL;
}

int atd_kv_open(const char *backend, const atd_kv_options *opt, atd_kv **out)
{
    *out = NULL;
    const atd_kv_ops *ops = atd_kv_backend(backend);
    if (!ops) {
        ATD_ERROR("kv: unknown backend \"%s\"", backend ? backend : "(null)");
        return ATD_EINVAL;
    }
    if (!opt) return ATD_EINVAL;
    return ops->open(opt, out);
}
