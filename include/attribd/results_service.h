/* The results service (issue: "the results topic"): consumes topic `events`, runs each event
 * through the attribution engine and writes one result per app event to topic `results`,
 * exactly once across crashes.
 *
 * How exactly-once works: a batch of events is processed in ONE kv write transaction that also
 * stores (a) the next position to read in each `events` partition, (b) the encoded results of
 * the batch (the "outbox") and (c) the end offset each `results` partition must reach once the
 * outbox is appended. Only after that commit are the results appended to `results`. After a
 * crash, recovery compares (c) with the real end of each `results` partition and appends the
 * missing tail of the outbox. A crash before the commit loses nothing: the state did not
 * change and the batch is consumed again. */
#ifndef ATTRIBD_RESULTS_SERVICE_H
#define ATTRIBD_RESULTS_SERVICE_H

#include <stdint.h>

#include "attribd/config.h"
#include "attribd/engine.h"
#include "attribd/kv.h"
#include "attribd/log.h"

typedef struct atd_results_service atd_results_service;

typedef struct atd_results_options {
    atd_log *log;         /* not owned */
    atd_kv *kv;           /* not owned */
    int batch_max;        /* events per kv transaction (default 2048) */
    int merge_grace_ms;   /* with several partitions: how long a record may wait for an idle
                             partition before it is processed anyway (default 200) */
} atd_results_options;

typedef struct atd_results_stats {
    uint64_t events;       /* events consumed */
    uint64_t results;      /* results written */
    uint64_t deadlettered; /* records parked in topic `deadletter` */
    uint64_t batches;
} atd_results_stats;

/* Creates the service and runs recovery (appends an outbox left by a crash). Returns NULL and
 * logs the reason on error. */
atd_results_service *atd_results_service_new(const atd_results_options *opt);
/* Processes at most one batch with the given config (its apps decide); waits up to timeout_ms
 * for new events when there are none. Returns the number of events consumed (0 on timeout) or
 * a negative error (the batch was not applied). */
int atd_results_service_step(atd_results_service *s, const atd_config *cfg, int timeout_ms);
/* Runs step() in a thread of its own with atd_config_current() until stop. */
int atd_results_service_start(atd_results_service *s);
void atd_results_service_stop(atd_results_service *s);
void atd_results_service_free(atd_results_service *s);

void atd_results_service_stats(atd_results_service *s, atd_results_stats *out);
/* How many events are not yet consumed (sum over partitions). */
uint64_t atd_results_service_lag(atd_results_service *s);
/* The engine (for read-only queries such as the SDK conversion data). */
atd_engine *atd_results_service_engine(atd_results_service *s);

#endif
