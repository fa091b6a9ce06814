/* Durations (ATTRIBUTION.md, top): "[0-9]+" then one of s m h d, or the bare string "0".
 * Nothing else: no spaces, no upper case, no sign, no fraction, no bare number but "0". */
#include "attribd/duration.h"

int atd_duration_parse(const char *s, size_t n, int64_t *ms)
{
    if (!s || !ms || n == 0) return -1;
    if (n == 1 && s[0] == '0') {
        *ms = 0;
        return 0;
    }
    int64_t unit;
    switch (s[n - 1]) {
    case 's': unit = 1000; break;
    case 'm': unit = 60 * 1000; break;
    case 'h': unit = 60 * 60 * 1000; break;
    case 'd': unit = 24 * 60 * 60 * 1000; break;
    default: return -1;
    }
    size_t digits = n - 1;
    if (digits == 0) return -1;
    int64_t v = 0;
    for (size_t i = 0; i < digits; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        int d = s[i] - '0';
        /* every step checked, so even a thousand digits cannot wrap */
        if (v > (INT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    if (v > INT64_MAX / unit) return -1;
    *ms = v * unit;
    return 0;
}
