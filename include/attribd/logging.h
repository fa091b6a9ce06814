/* Operator-facing messages on stderr: "2026-11-27T12:00:00.000Z attribd[pid] LEVEL msg". */
#ifndef ATTRIBD_LOGGING_H
#define ATTRIBD_LOGGING_H

enum { ATD_LOG_DEBUG, ATD_LOG_INFO, ATD_LOG_WARN, ATD_LOG_ERROR };

void atd_logmsg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void atd_logmsg_set_level(int level); /* messages below it are dropped; default INFO */

#define ATD_DEBUG(...) atd_logmsg(ATD_LOG_DEBUG, __VA_ARGS__)
#define ATD_INFO(...) atd_logmsg(ATD_LOG_INFO, __VA_ARGS__)
#define ATD_WARN(...) atd_logmsg(ATD_LOG_WARN, __VA_ARGS__)
#define ATD_ERROR(...) atd_logmsg(ATD_LOG_ERROR, __VA_ARGS__)

#endif
