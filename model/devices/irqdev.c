/* SPDX-License-Identifier: MIT */
/*
 * The test interrupt device (see irqdev.h and include/snpref/abi.h). VECTOR
 * holds [7:0] the vector, [10:8] the delivery mode and bit 15 the trigger; DEST
 * bit 31 selects a logical destination. Each message is one irqdev trace event
 * (system-wide: vCPU -1) at the time of the access that caused it, then the
 * fabric's route, which resolves the destination and sends one message per
 * target (the wire latency is the host's business).
 */
#include "irqdev.h"

#include "snpref/abi.h"
#include "trace.h"

bool irqdev_claims(uint16_t port, unsigned size)
{
    return port >= SNP_PORT_IRQDEV && port < SNP_PORT_IRQDEV + 16 && size == 4;
}

static void irqdev_send(struct irqdev *d, const struct irqdev_host *h)
{
    struct fab_msg m = {
        .src_kind = FAB_SRC_DEVICE,
        .src_vcpu = -1,
        .vector = (uint8_t)d->vector,
        .mode = (enum apic_dm)((d->vector >> 8) & 7),
        .level = (d->vector >> 15) & 1,
    };
    d->count++;
    TRC(h->trace, irqdev, h->now(h->ctx), -1, m.vector, d->dest, m.level ? "level" : "edge");
    h->fab->ops->route(h->fab, d->dest & 0x7FFFFFFFu, d->dest >> 31, &m);
}

void irqdev_write(struct irqdev *d, const struct irqdev_host *h, unsigned reg, uint32_t val)
{
    switch (reg) {
    case SNP_IRQDEV_DEST: d->dest = val; break;
    case SNP_IRQDEV_VECTOR: d->vector = val & 0x87FF; break;
    case SNP_IRQDEV_LINE: {
        bool was = d->asserted;
        d->asserted = val & 1;
        if (d->asserted && !was)
            irqdev_send(d, h);
        break;
    }
    case SNP_IRQDEV_COUNT: d->count = 0; break;
    default: break;
    }
}

uint32_t irqdev_read(const struct irqdev *d, unsigned reg)
{
    switch (reg) {
    case SNP_IRQDEV_DEST: return d->dest;
    case SNP_IRQDEV_VECTOR: return d->vector;
    case SNP_IRQDEV_LINE: return d->asserted ? 1u : 0u;
    case SNP_IRQDEV_COUNT: return (uint32_t)d->count;
    default: return 0xFFFFFFFFu;
    }
}

void irqdev_eoi(struct irqdev *d, const struct irqdev_host *h, uint8_t vector)
{
    if (d->asserted && (d->vector & 0x8000) && (d->vector & 0xFF) == vector)
        irqdev_send(d, h);
}
