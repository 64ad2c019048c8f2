/* SPDX-License-Identifier: MIT */
/* The pc-testdev interrupt lines (testdev.h). */
#include "testdev.h"

bool testdev_claims(uint16_t port)
{
    return port >= TESTDEV_PORT_IRQ && port < TESTDEV_PORT_IRQ + TESTDEV_IRQS;
}

unsigned testdev_pin(uint16_t port)
{
    unsigned irq = port - TESTDEV_PORT_IRQ;
    return irq == 0 ? 2 : irq; /* ISA IRQ 0 -> GSI 2, as the MADT's override says */
}
