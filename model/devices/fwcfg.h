/* SPDX-License-Identifier: MIT */
/*
 * QEMU's firmware configuration interface, the legacy I/O form (QEMU's
 * specification fw_cfg.rst, "Legacy I/O interface"): a 16-bit selector written to port 0x510 picks an
 * item; port 0x511 reads it byte by byte. kvm-unit-tests read the CPU count
 * and RAM size here. The DMA interface is not offered (FW_CFG_ID bit 1 clear).
 */
#ifndef SNPREF_FWCFG_H
#define SNPREF_FWCFG_H

#include <stdbool.h>
#include <stdint.h>

#define FWCFG_PORT_SEL  0x510
#define FWCFG_PORT_DATA 0x511

/* Selector keys (QEMU include/standard-headers/linux/qemu_fw_cfg.h). */
#define FWCFG_SIGNATURE 0x0000
#define FWCFG_ID        0x0001
#define FWCFG_RAM_SIZE  0x0003
#define FWCFG_NOGRAPHIC 0x0004
#define FWCFG_NB_CPUS   0x0005
#define FWCFG_MAX_CPUS  0x000F
#define FWCFG_FILE_DIR  0x0019

struct fwcfg {
    uint16_t sel;
    uint32_t off;            /* read offset into the selected item */
    uint16_t ncpus;
    uint64_t ram_size;
};

void fwcfg_reset(struct fwcfg *f, unsigned ncpus, uint64_t ram_size);
bool fwcfg_claims(uint16_t port);
uint32_t fwcfg_read(struct fwcfg *f, uint16_t port, unsigned size);
void fwcfg_write(struct fwcfg *f, uint16_t port, unsigned size, uint32_t val);

#endif
