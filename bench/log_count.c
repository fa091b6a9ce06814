/* atd_log_count DIR [TOPIC]: prints the number of records of a topic in a file log (all
 * partitions), reading every record so that a corrupt one is noticed (exit 1). For
 * bench/ingest.sh, which checks that every acknowledged event is in the log. */
#include <stdio.h>
#include <stdlib.h>

#include "attribd/common.h"
#include "attribd/log.h"

static int on_record(void *ud, const atd_log_record *rec)
{
    uint64_t *next = ud;
    *next = rec->offset + 1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: atd_log_count LOG_DIR [TOPIC]\n");
        return 2;
    }
    const char *topic = argc > 2 ? argv[2] : ATD_TOPIC_EVENTS;
    atd_log_options o = {.dir = argv[1], .fsync_interval_ms = 10};
    atd_log *log;
    int rc = atd_log_open("file", &o, &log);
    if (rc != 0) {
        fprintf(stderr, "atd_log_count: %s: %s\n", argv[1], atd_strerror(rc));
        return 1;
    }
    int parts = atd_log_topic_ensure(log, topic, 1);
    uint64_t total = 0;
    for (int p = 0; p < parts; p++) {
        uint64_t next = 0;
        for (;;) {
            int n = atd_log_read(log, topic, p, next, 65536, on_record, &next);
            if (n < 0) {
                fprintf(stderr, "atd_log_count: partition %d: %s\n", p, atd_strerror(n));
                atd_log_close(log);
                return 1;
            }
            if (n == 0) break;
            total += (uint64_t)n;
        }
    }
    atd_log_close(log);
    printf("%llu\n", (unsigned long long)total);
    return 0;
}
