/* SPDX-License-Identifier: MIT */
/*
 * The test MMIO page (include/snpref/abi.h SNP_MMIODEV_*): 512 64-bit
 * registers that read back what was written, register 0 a read-only
 * signature. Guests use it to exercise MMIO emulation (plain-mode #NPF-style
 * exits, the SEV-ES/SNP MMIO NAE events) with every access size.
 */
#include "devices.h"
#include "snpref/abi.h"

static uint64_t size_mask(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

uint64_t mmiodev_read(const struct mmiodev *m, uint64_t off, unsigned size)
{
    unsigned reg = (unsigned)(off / 8), sh = (unsigned)(off % 8) * 8;
    uint64_t r = reg == 0 ? SNP_MMIODEV_SIGNATURE : m->reg[reg];
    return (r >> sh) & size_mask(size);
}

void mmiodev_write(struct mmiodev *m, uint64_t off, unsigned size, uint64_t val)
{
    if (off < 8)
        return; /* the signature */
    unsigned reg = (unsigned)(off / 8), sh = (unsigned)(off % 8) * 8;
    uint64_t mask = size_mask(size) << sh;
    m->reg[reg] = (m->reg[reg] & ~mask) | ((val << sh) & mask);
}
