/* Fuzzes the YAML config loader: any bytes either load or give a "name:..." error; a loaded
 * config always holds its documented ranges (ATTRIBUTION.md §2), so no out-of-range value can
 * slip past a parser bug. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attribd/config.h"
#include "attribd/logging.h"

#define H (3600LL * 1000)
#define D (24 * H)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    atd_logmsg_set_level(ATD_LOG_ERROR); /* "no apps" warnings would flood the output */
    char err[256];
    atd_config *cfg = atd_config_parse_string((const char *)data, size, "f", err, sizeof err);
    if (!cfg) {
        if (strncmp(err, "f", 1) != 0) abort();
        return 0;
    }
    for (size_t i = 0; i < cfg->n_apps; i++) {
        const atd_app_config *a = &cfg->apps[i];
        if (a->click_lookback_ms < H || a->click_lookback_ms > 30 * D) abort();
        if (a->view_lookback_ms < H || a->view_lookback_ms > 24 * H) abort();
        if (a->probabilistic_window_ms < 0 || a->probabilistic_window_ms > 24 * H) abort();
        if (a->reattribution_window_ms < D || a->reattribution_window_ms > 730 * D) abort();
        if (a->reengagement_window_ms < D || a->reengagement_window_ms > 90 * D) abort();
        if (a->inactivity_period_ms < 0 || a->inactivity_period_ms > 30 * D) abort();
        if (a->min_ctit_ms < 0 || a->min_ctit_ms > H) abort();
        if (a->click_cap < 0 || a->click_cap > 1000) abort();
        if (!a->app_id || !*a->app_id) abort();
        if (atd_config_app(cfg, a->app_id, strlen(a->app_id)) != &cfg->apps[i]) abort();
        for (size_t k = 0; k < a->n_postbacks; k++)
            if (!a->postbacks[k].events || !a->postbacks[k].url) abort();
    }
    if (cfg->server.threads < 1 || cfg->server.threads > 64) abort();
    if (cfg->log.partitions < 1 || cfg->log.partitions > 256) abort();
    atd_config_release(atd_config_acquire(cfg));
    atd_config_release(cfg);
    return 0;
}
