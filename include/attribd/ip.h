/* IP addresses as ATTRIBUTION.md §1 wants them: parsed, canonicalized, compared, and matched
 * against CIDR blocks (§2 blocked_ips). */
#ifndef ATTRIBD_IP_H
#define ATTRIBD_IP_H

#include <stddef.h>
#include <stdint.h>

/* An address: IPv4 is kept as family 4 (an IPv4-mapped IPv6 address becomes family 4). */
typedef struct atd_ip {
    uint8_t family; /* 4 or 6 */
    uint8_t addr[16]; /* IPv4 in the first 4 bytes */
} atd_ip;

typedef struct atd_cidr {
    atd_ip net;     /* host bits cleared */
    uint8_t prefix; /* 0..32 or 0..128 */
} atd_cidr;

#define ATD_IP_TEXT_MAX 46 /* INET6_ADDRSTRLEN */

/* Parses text (surrounding spaces/tabs trimmed): an IPv4 dotted quad or an IPv6 literal (no
 * brackets, port or zone). Returns 0, or -1 when it is not a valid address. */
int atd_ip_parse(const char *s, size_t n, atd_ip *out);
/* Canonical text: dotted quad, or RFC 5952 IPv6 (lower-case, compressed). Returns length. */
size_t atd_ip_format(const atd_ip *ip, char out[ATD_IP_TEXT_MAX]);
/* Parses "addr" or "addr/prefix" (host bits ignored; IPv4-mapped entries count as IPv4, their
 * prefix reduced by 96). Returns 0 or -1. */
int atd_cidr_parse(const char *s, size_t n, atd_cidr *out);
int atd_cidr_contains(const atd_cidr *c, const atd_ip *ip);

#endif
