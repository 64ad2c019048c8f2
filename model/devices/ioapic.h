/* SPDX-License-Identifier: MIT */
/*
 * The I/O APIC (Intel 82093AA datasheet; ACPI 6.5 5.2.12.3): 24 interrupt
 * input pins, each with a 64-bit redirection entry, behind the indirect
 * IOREGSEL/IOWIN window at 0xFEC00000. A pin's interrupt goes to the fabric
 * as a message (vector, delivery and destination mode, trigger), like an MSI.
 */
#ifndef SNPREF_IOAPIC_H
#define SNPREF_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "irqdev.h"

#define IOAPIC_BASE 0xFEC00000ull
#define IOAPIC_SIZE 0x1000ull
#define IOAPIC_PINS 24

/* The register window (82093AA 3.0): byte offsets from IOAPIC_BASE. */
#define IOAPIC_IOREGSEL 0x00
#define IOAPIC_IOWIN    0x10
#define IOAPIC_EOI      0x40 /* version 0x20: directed EOI of a vector */

/* Indirect registers (82093AA 3.2). */
#define IOAPIC_REG_ID    0x00
#define IOAPIC_REG_VER   0x01
#define IOAPIC_REG_ARB   0x02
#define IOAPIC_REG_REDIR 0x10 /* + 2 * pin (low), + 1 (high) */

/* Redirection entry bits (82093AA 3.2.4). */
#define IOAPIC_RTE_DESTMODE   (1ull << 11)
#define IOAPIC_RTE_PENDING    (1ull << 12) /* delivery status, read-only */
#define IOAPIC_RTE_LOW_ACTIVE (1ull << 13)
#define IOAPIC_RTE_REMOTE_IRR (1ull << 14) /* read-only */
#define IOAPIC_RTE_LEVEL      (1ull << 15)
#define IOAPIC_RTE_MASKED     (1ull << 16)
#define IOAPIC_RTE_RO         (IOAPIC_RTE_PENDING | IOAPIC_RTE_REMOTE_IRR)

struct ioapic {
    uint8_t sel;                     /* IOREGSEL */
    uint32_t id;                     /* ID register: bits 27:24 */
    uint64_t rte[IOAPIC_PINS];
    uint32_t level;                  /* input pin levels, as driven (bit per pin) */
};

void ioapic_reset(struct ioapic *io);
/* Drives input pin `pin` high (true) or low; sends what the entry says. */
void ioapic_set_pin(struct ioapic *io, const struct irqdev_host *h, unsigned pin, bool high);
/* A 32-bit access at offset off inside the window. */
uint32_t ioapic_read(struct ioapic *io, uint64_t off);
void ioapic_write(struct ioapic *io, const struct irqdev_host *h, uint64_t off, uint32_t val);
/* The local APIC's EOI broadcast of vector: clears Remote IRR of level entries. */
void ioapic_eoi(struct ioapic *io, const struct irqdev_host *h, uint8_t vector);

#endif
