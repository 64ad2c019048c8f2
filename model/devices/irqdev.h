/* SPDX-License-Identifier: MIT */
/*
 * The test interrupt device ("irqdev", include/snpref/abi.h): a line-based
 * interrupt source behind I/O ports 0x500-0x50F that sends MSI-style messages
 * through the fabric, so that level-triggered delivery, TMR and the EOI
 * broadcast can be exercised. The register semantics live here, apart from the
 * system, so that the execution-driven model and the trace-driven replay
 * (model/replay/replay.c) run the same device.
 */
#ifndef SNPREF_IRQDEV_H
#define SNPREF_IRQDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "fabric.h"

struct irqdev {
    uint32_t dest, vector; /* DEST and VECTOR registers */
    bool asserted;         /* LINE */
    uint64_t count;        /* messages sent (COUNT) */
};

/* What the device reaches: the time of the access that drives it (the irqdev
 * trace event carries it), the fabric that routes its messages, the trace. */
struct irqdev_host {
    void *ctx;
    uint64_t (*now)(void *ctx);
    struct fabric *fab;
    struct trc *trace;
};

/* A port access the device claims: 32-bit, at SNP_PORT_IRQDEV + 0..15. */
bool irqdev_claims(uint16_t port, unsigned size);

/* A 32-bit OUT to register reg (SNP_IRQDEV_*): a 0->1 LINE write sends a message. */
void irqdev_write(struct irqdev *d, const struct irqdev_host *h, unsigned reg, uint32_t val);
/* A 32-bit IN of register reg; unclaimed registers read all ones. */
uint32_t irqdev_read(const struct irqdev *d, unsigned reg);
/* The EOI broadcast of vector: a level line still asserted sends again (how an
 * IOAPIC re-raises a level interrupt). */
void irqdev_eoi(struct irqdev *d, const struct irqdev_host *h, uint8_t vector);

#endif
