/* SPDX-License-Identifier: MIT */
/*
 * The interrupt lines of QEMU's pc-testdev (hw/misc/pc-testdev.c), which
 * kvm-unit-tests drive: a byte written to port 0x2000 + n sets ISA IRQ line n
 * to that byte's bit 0. ISA IRQ n reaches I/O APIC pin n, except IRQ 0, which
 * reaches pin 2 (the MADT's interrupt source override).
 */
#ifndef SNPREF_TESTDEV_H
#define SNPREF_TESTDEV_H

#include <stdbool.h>
#include <stdint.h>

#define TESTDEV_PORT_IRQ 0x2000
#define TESTDEV_IRQS     24

bool testdev_claims(uint16_t port);
/* The I/O APIC pin the line of port port drives. */
unsigned testdev_pin(uint16_t port);

#endif
