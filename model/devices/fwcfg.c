/* SPDX-License-Identifier: MIT */
/*
 * fw_cfg (fwcfg.h). Each item is a byte string built on demand: integers are
 * little-endian, the file directory is a big-endian count (0: no files). A
 * read past an item's end, or of an unknown item, reads 0 (fw_cfg.rst,
 * "Data Register"). Writing the selector restarts at offset 0.
 */
#include "fwcfg.h"

#include <string.h>

void fwcfg_reset(struct fwcfg *f, unsigned ncpus, uint64_t ram_size)
{
    *f = (struct fwcfg){.ncpus = (uint16_t)ncpus, .ram_size = ram_size};
}

bool fwcfg_claims(uint16_t port)
{
    return port == FWCFG_PORT_SEL || port == FWCFG_PORT_SEL + 1 || port == FWCFG_PORT_DATA;
}

static void le(uint8_t *b, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

/* The selected item's bytes; returns its length. */
static unsigned item(const struct fwcfg *f, uint8_t b[8])
{
    memset(b, 0, 8);
    switch (f->sel & 0x3FFF) { /* bits 15:14 select write channel and arch-local space */
    case FWCFG_SIGNATURE: memcpy(b, "QEMU", 4); return 4;
    case FWCFG_ID: le(b, 1, 4); return 4;           /* the traditional interface only */
    case FWCFG_RAM_SIZE: le(b, f->ram_size, 8); return 8;
    case FWCFG_NOGRAPHIC: le(b, 1, 2); return 2;
    case FWCFG_NB_CPUS:
    case FWCFG_MAX_CPUS: le(b, f->ncpus, 2); return 2;
    case FWCFG_FILE_DIR: return 4;                  /* count 0, big-endian */
    default: return 0;
    }
}

uint32_t fwcfg_read(struct fwcfg *f, uint16_t port, unsigned size)
{
    if (port != FWCFG_PORT_DATA)
        return 0xFFFFFFFFu & ((size >= 4) ? ~0u : (1u << (size * 8)) - 1);
    uint8_t b[8];
    unsigned len = item(f, b);
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++, f->off++)
        v |= (uint32_t)(f->off < len ? b[f->off] : 0) << (8 * i);
    return v;
}

void fwcfg_write(struct fwcfg *f, uint16_t port, unsigned size, uint32_t val)
{
    if (port == FWCFG_PORT_SEL && size == 2) {
        f->sel = (uint16_t)val;
        f->off = 0;
    }
}
