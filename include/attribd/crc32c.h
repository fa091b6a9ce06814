/* CRC32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78): the checksum of the log's
 * records (iSCSI, ext4 and Kafka use the same one). Uses the SSE4.2 crc32 instruction when the
 * CPU has it, else a slicing-by-8 table.
 *
 * The crc argument lets a checksum be computed in pieces: start with 0, pass the previous
 * result to continue, i.e. atd_crc32c(atd_crc32c(0, a, na), b, nb) == crc of a followed by b.
 * buf is only read during the call; n == 0 returns crc unchanged. */
#ifndef ATTRIBD_CRC32C_H
#define ATTRIBD_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t atd_crc32c(uint32_t crc, const void *buf, size_t n);
/* The table version, always available (tests compare both). */
uint32_t atd_crc32c_sw(uint32_t crc, const void *buf, size_t n);
/* 1 when atd_crc32c uses the CPU instruction. */
int atd_crc32c_hw_available(void);

#endif
