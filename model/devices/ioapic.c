/* SPDX-License-Identifier: MIT */
/*
 * The I/O APIC (ioapic.h). Version 0x20 with 24 entries (VER = 0x00170020),
 * as QEMU's q35 I/O APIC reports, so Linux may use the EOI register for
 * level-triggered entries. An edge entry sends on each rising edge of its
 * (polarity-corrected) input while unmasked; an edge while masked is lost
 * (82093AA 3.2.4, "Interrupt Mask"). A level entry sends while its input is
 * asserted, it is unmasked and Remote IRR is clear, and sets Remote IRR; the
 * EOI of its vector clears Remote IRR and, if the input is still asserted,
 * sends again. The destination is the 8-bit field 63:56, physical or logical
 * by bit 11. Each message is an ioapic trace event.
 */
#include "ioapic.h"

#include "trace.h"

#define IOAPIC_VERSION 0x20u

void ioapic_reset(struct ioapic *io)
{
    *io = (struct ioapic){0};
    for (unsigned i = 0; i < IOAPIC_PINS; i++)
        io->rte[i] = IOAPIC_RTE_MASKED; /* 82093AA: every entry masked at reset */
}

static bool asserted(const struct ioapic *io, unsigned pin)
{
    bool high = (io->level >> pin) & 1;
    return (io->rte[pin] & IOAPIC_RTE_LOW_ACTIVE) ? !high : high;
}

static void send(struct ioapic *io, const struct irqdev_host *h, unsigned pin)
{
    uint64_t e = io->rte[pin];
    bool level = e & IOAPIC_RTE_LEVEL;
    struct fab_msg m = {
        .src_kind = FAB_SRC_DEVICE,
        .src_vcpu = -1,
        .vector = (uint8_t)e,
        .mode = (enum apic_dm)((e >> 8) & 7),
        .level = level,
    };
    uint32_t dest = (uint32_t)(e >> 56);
    bool logical = e & IOAPIC_RTE_DESTMODE;
    if (level)
        io->rte[pin] |= IOAPIC_RTE_REMOTE_IRR;
    TRC(h->trace, ioapic, h->now(h->ctx), -1, pin, m.vector, dest, logical ? "logical" : "physical",
        level ? "level" : "edge");
    h->fab->ops->route(h->fab, dest, logical, &m);
}

/* A level entry whose input is asserted sends, unless masked or awaiting EOI. */
static void service_level(struct ioapic *io, const struct irqdev_host *h, unsigned pin)
{
    uint64_t e = io->rte[pin];
    if ((e & IOAPIC_RTE_LEVEL) && !(e & (IOAPIC_RTE_MASKED | IOAPIC_RTE_REMOTE_IRR)) &&
        asserted(io, pin))
        send(io, h, pin);
}

void ioapic_set_pin(struct ioapic *io, const struct irqdev_host *h, unsigned pin, bool high)
{
    if (pin >= IOAPIC_PINS)
        return;
    bool was = asserted(io, pin);
    io->level = high ? io->level | (1u << pin) : io->level & ~(1u << pin);
    uint64_t e = io->rte[pin];
    if (e & IOAPIC_RTE_LEVEL)
        service_level(io, h, pin);
    else if (!was && asserted(io, pin) && !(e & IOAPIC_RTE_MASKED))
        send(io, h, pin);
}

static uint32_t read_reg(const struct ioapic *io, unsigned reg)
{
    switch (reg) {
    case IOAPIC_REG_ID:
    case IOAPIC_REG_ARB: return io->id;
    case IOAPIC_REG_VER: return ((IOAPIC_PINS - 1u) << 16) | IOAPIC_VERSION;
    default: break;
    }
    if (reg >= IOAPIC_REG_REDIR && reg < IOAPIC_REG_REDIR + 2 * IOAPIC_PINS) {
        uint64_t e = io->rte[(reg - IOAPIC_REG_REDIR) / 2];
        return (reg & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
    }
    return 0xFFFFFFFFu; /* no register there */
}

static void write_reg(struct ioapic *io, const struct irqdev_host *h, unsigned reg, uint32_t val)
{
    if (reg == IOAPIC_REG_ID) {
        io->id = val & 0x0F000000u; /* only the 4-bit ID is writable */
        return;
    }
    if (reg < IOAPIC_REG_REDIR || reg >= IOAPIC_REG_REDIR + 2 * IOAPIC_PINS)
        return;               /* VER and ARB are read-only */
    unsigned pin = (reg - IOAPIC_REG_REDIR) / 2;
    uint64_t e = io->rte[pin];
    if (reg & 1) {
        e = (e & 0x00000000FFFFFFFFull) | ((uint64_t)(val & 0xFF000000u) << 32);
    } else {
        e = (e & ~0xFFFFFFFFull) | (e & IOAPIC_RTE_RO) | (val & ~(uint32_t)IOAPIC_RTE_RO);
        if (!(e & IOAPIC_RTE_LEVEL))
            e &= ~IOAPIC_RTE_REMOTE_IRR; /* an edge entry has no Remote IRR */
    }
    io->rte[pin] = e;
    service_level(io, h, pin);    /* unmasking an asserted level input sends */
}

uint32_t ioapic_read(struct ioapic *io, uint64_t off)
{
    if (off == IOAPIC_IOREGSEL)
        return io->sel;
    if (off == IOAPIC_IOWIN)
        return read_reg(io, io->sel);
    return 0xFFFFFFFFu;
}

void ioapic_write(struct ioapic *io, const struct irqdev_host *h, uint64_t off, uint32_t val)
{
    if (off == IOAPIC_IOREGSEL)
        io->sel = (uint8_t)val;
    else if (off == IOAPIC_IOWIN)
        write_reg(io, h, io->sel, val);
    else if (off == IOAPIC_EOI)
        ioapic_eoi(io, h, (uint8_t)val);
}

void ioapic_eoi(struct ioapic *io, const struct irqdev_host *h, uint8_t vector)
{
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
        uint64_t e = io->rte[pin];
        if ((e & IOAPIC_RTE_LEVEL) && (uint8_t)e == vector && (e & IOAPIC_RTE_REMOTE_IRR)) {
            io->rte[pin] &= ~IOAPIC_RTE_REMOTE_IRR;
            service_level(io, h, pin);
        }
    }
}
