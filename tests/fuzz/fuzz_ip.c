/* Fuzzes IP, CIDR and duration parsing: whatever parses must format back to text that parses
 * to the same value, and a block must contain its own network address. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attribd/duration.h"
#include "attribd/ip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    atd_ip ip, back;
    char text[ATD_IP_TEXT_MAX];
    if (atd_ip_parse(s, size, &ip) == 0) {
        size_t n = atd_ip_format(&ip, text);
        if (n == 0 || n >= ATD_IP_TEXT_MAX || strlen(text) != n) abort();
        if (atd_ip_parse(text, n, &back) != 0 || memcmp(&ip, &back, sizeof ip) != 0) abort();
        if (ip.family != 4 && ip.family != 6) abort();
    }
    atd_cidr c;
    if (atd_cidr_parse(s, size, &c) == 0) {
        if (c.prefix > (c.net.family == 4 ? 32 : 128)) abort();
        if (!atd_cidr_contains(&c, &c.net)) abort();
        if (atd_cidr_parse(s, size, &c) != 0) abort();
    }
    int64_t ms;
    if (atd_duration_parse(s, size, &ms) == 0 && ms < 0) abort();
    return 0;
}
