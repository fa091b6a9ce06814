/* Durations of ATTRIBUTION.md: a string that is entirely [0-9]+ followed by one of s m h d,
 * or "0". Anything else ("2H", " 2h ", "2h\n", a number) is not a duration. */
#ifndef ATTRIBD_DURATION_H
#define ATTRIBD_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* Parses s[0..n) into milliseconds. Returns 0, or -1 when it is not a duration (or would
 * overflow int64 milliseconds). */
int atd_duration_parse(const char *s, size_t n, int64_t *ms);

#endif
