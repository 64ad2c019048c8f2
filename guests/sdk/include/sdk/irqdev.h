/* SPDX-License-Identifier: MIT */
/*
 * The model's test interrupt device (abi.h, SNP_PORT_IRQDEV): one line that
 * sends MSI-style messages through the interrupt fabric. Edge: one message per
 * 0->1 write of LINE. Level: one message on assert and, while still asserted,
 * another each time an EOI for its vector is broadcast, as an IOAPIC does.
 */
#ifndef SDK_IRQDEV_H
#define SDK_IRQDEV_H

#include <stdbool.h>
#include <stdint.h>
#include <snpref/abi.h>
#include <sdk/x86.h>
#include <sdk/savic.h>

#define IRQDEV_DEST_LOGICAL  (1u << 31)
#define IRQDEV_LEVEL         (1u << 15)

static inline void irqdev_write(uint16_t reg, uint32_t v) { outl(SNP_PORT_IRQDEV + reg, v); }
static inline uint32_t irqdev_read(uint16_t reg) { return inl(SNP_PORT_IRQDEV + reg); }

/* Destination APIC ID and vector; mode is APIC_DM_* (bits 10:8), level selects the trigger. */
static inline void irqdev_config(uint32_t dest, uint8_t vector, uint32_t mode, bool level)
{
    sdk_savic_allow_vector(vector, true); /* a device vector: ALLOWED_IRR under Secure AVIC */
    irqdev_write(SNP_IRQDEV_DEST, dest);
    irqdev_write(SNP_IRQDEV_VECTOR, vector | (mode & 0x700u) | (level ? IRQDEV_LEVEL : 0));
}

static inline void irqdev_set_line(bool asserted)
{
    irqdev_write(SNP_IRQDEV_LINE, asserted ? 1 : 0);
}

static inline uint32_t irqdev_line(void) { return irqdev_read(SNP_IRQDEV_LINE); }
static inline uint32_t irqdev_count(void) { return irqdev_read(SNP_IRQDEV_COUNT); }
static inline void irqdev_reset_count(void) { irqdev_write(SNP_IRQDEV_COUNT, 0); }

#endif
