/* SPDX-License-Identifier: MIT */
/*
 * The reference hypervisor's devices (docs/guest-abi.md "Devices"): COM1 as a
 * console, the exit port, and the test interrupt device (irqdev) that sends
 * MSI-style messages through the fabric and re-asserts a level-triggered line
 * on the EOI broadcast, as an IOAPIC does (include/snpref/abi.h). Unclaimed
 * ports read all ones and ignore writes, as on a PC.
 */
#include <inttypes.h>
#include <string.h>

#include "system.h"

static void console_flush_line(struct system *sys, struct slot *s)
{
    s->line[s->linelen] = '\0';
    TRC(sys->trace, console, sys_now(s), (int)s->idx, s->line);
    s->linelen = 0;
}

static void console_byte(struct slot *s, uint8_t c)
{
    struct system *sys = s->sys;
    if (sys->console) {
        fputc(c, sys->console);
        if (c == '\n')
            fflush(sys->console);
    }
    if (c == '\n') {
        console_flush_line(sys, s);
        return;
    }
    if (c == 0) /* a NUL cannot travel in a trace string */
        c = ' ';
    s->line[s->linelen++] = (char)c;
    if (s->linelen == sizeof(s->line) - 1)
        console_flush_line(sys, s);
}

void dev_flush_console(struct system *sys)
{
    for (unsigned i = 0; i < sys->n; i++)
        if (sys->slots[i].linelen)
            console_flush_line(sys, &sys->slots[i]);
    if (sys->console)
        fflush(sys->console);
}

/* ---- irqdev --------------------------------------------------------------------- */

static void irqdev_send(struct system *sys)
{
    uint64_t t = sys->dev_cause ? sys_now(sys->dev_cause) : tm_now(sys->tk);
    struct irqdev *d = &sys->irqdev;
    struct fab_msg m = {
        .src_kind = FAB_SRC_DEVICE,
        .src_vcpu = -1,
        .vector = (uint8_t)d->vector,
        .mode = (enum apic_dm)((d->vector >> 8) & 7),
        .level = (d->vector >> 15) & 1,
    };
    d->count++;
    TRC(sys->trace, irqdev, t, -1, m.vector, d->dest, m.level ? "level" : "edge");
    sys->fab->ops->route(sys->fab, d->dest & 0x7FFFFFFFu, d->dest >> 31, &m);
}

static void irqdev_write(struct system *sys, unsigned reg, uint32_t val)
{
    struct irqdev *d = &sys->irqdev;
    switch (reg) {
    case SNP_IRQDEV_DEST: d->dest = val; break;
    case SNP_IRQDEV_VECTOR: d->vector = val & 0x87FF; break;
    case SNP_IRQDEV_LINE: {
        bool was = d->asserted;
        d->asserted = val & 1;
        if (d->asserted && !was)
            irqdev_send(sys);
        break;
    }
    case SNP_IRQDEV_COUNT: d->count = 0; break;
    default: break;
    }
}

static uint32_t irqdev_read(struct system *sys, unsigned reg)
{
    struct irqdev *d = &sys->irqdev;
    switch (reg) {
    case SNP_IRQDEV_DEST: return d->dest;
    case SNP_IRQDEV_VECTOR: return d->vector;
    case SNP_IRQDEV_LINE: return d->asserted ? 1u : 0u;
    case SNP_IRQDEV_COUNT: return (uint32_t)d->count;
    default: return 0xFFFFFFFFu;
    }
}

/* A level-triggered vector was retired: re-send while the line stays asserted. */
void dev_eoi(struct system *sys, unsigned vcpu, uint8_t vector)
{
    (void)vcpu;
    struct irqdev *d = &sys->irqdev;
    if (d->asserted && (d->vector & 0x8000) && (d->vector & 0xFF) == vector)
        irqdev_send(sys);
}

/* ---- MMIO ------------------------------------------------------------------------ */

void dev_mmio(struct slot *s, uint64_t gpa, unsigned size, bool write, uint64_t *val)
{
    struct system *sys = s->sys;
    uint64_t mask = size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
    uint64_t off = gpa - SNP_MMIODEV_BASE;
    bool dev = gpa >= SNP_MMIODEV_BASE && off < 4096 && off + size <= 4096;
    if (!write) {
        uint64_t v = mask; /* nothing there: all ones */
        if (dev) {
            unsigned reg = (unsigned)(off / 8), sh = (unsigned)(off % 8) * 8;
            uint64_t r = reg == 0 ? SNP_MMIODEV_SIGNATURE : sys->mmiodev.reg[reg];
            v = (r >> sh) & mask;
        }
        *val = v;
    } else if (dev && off >= 8) {
        unsigned reg = (unsigned)(off / 8), sh = (unsigned)(off % 8) * 8;
        uint64_t m = mask << sh;
        sys->mmiodev.reg[reg] = (sys->mmiodev.reg[reg] & ~m) | ((*val << sh) & m);
    }
    TRC(sys->trace, mmio, sys_now(s), (int)s->idx, write ? "write" : "read", gpa, size, *val & mask);
}

/* ---- Dispatch ------------------------------------------------------------------- */

void dev_pio(struct slot *s, uint16_t port, uint8_t size, bool in, uint64_t *data,
             enum vcpu_action *act)
{
    struct system *sys = s->sys;
    uint64_t mask = size >= 4 ? 0xFFFFFFFFull : (1ull << (size * 8)) - 1;
    if (in) {
        uint64_t v = mask; /* unclaimed: all ones */
        if (port == SNP_PORT_COM1_LSR)
            v = 0x60;
        else if (port >= SNP_PORT_COM1 && port < SNP_PORT_COM1 + 8)
            v = 0;
        else if (port >= SNP_PORT_IRQDEV && port < SNP_PORT_IRQDEV + 16 && size == 4)
            v = irqdev_read(sys, port - SNP_PORT_IRQDEV);
        *data = v & mask;
        TRC(sys->trace, pio, sys_now(s), (int)s->idx, "in", port, size, *data);
        return;
    }
    uint64_t v = *data & mask;
    if (port != SNP_PORT_COM1) /* console bytes are traced per line */
        TRC(sys->trace, pio, sys_now(s), (int)s->idx, "out", port, size, v);
    if (port == SNP_PORT_COM1) {
        console_byte(s, (uint8_t)v);
    } else if (port == SNP_PORT_EXIT) {
        TRC(sys->trace, exit, sys_now(s), (int)s->idx, v);
        sys->res.guest_value = (uint32_t)v;
        sys_finish(sys, SNPREF_EXITED, (int)s->idx, 0, NULL);
        *act = VCPU_STOP;
    } else if (port >= SNP_PORT_IRQDEV && port < SNP_PORT_IRQDEV + 16 && size == 4) {
        sys->dev_cause = s;
        irqdev_write(sys, port - SNP_PORT_IRQDEV, (uint32_t)v);
        sys->dev_cause = NULL;
    }
}
