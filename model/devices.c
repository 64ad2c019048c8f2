/* SPDX-License-Identifier: MIT */
/*
 * The reference hypervisor's devices (docs/guest-abi.md "Devices"): COM1 as a
 * console, the exit port, and the test interrupt device (irqdev) that sends
 * MSI-style messages through the fabric and re-asserts a level-triggered line
 * on the EOI broadcast, as an IOAPIC does (include/snpref/abi.h). Unclaimed
 * ports read all ones and ignore writes, as on a PC. MMIO reaches the
 * fabric's xAPIC page first (fabric.h ops->mmio).
 */
#include <inttypes.h>
#include <string.h>

#include "hostile.h"
#include "irqdev.h"
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

/* ---- irqdev (irqdev.c: the same device the trace replay runs) ------------------------- */

static uint64_t irqdev_now(void *ctx)
{
    struct system *sys = ctx;
    return sys->dev_cause ? sys_now(sys->dev_cause) : tm_now(sys->tk);
}

static struct irqdev_host irqdev_host_of(struct system *sys)
{
    return (struct irqdev_host){sys, irqdev_now, sys->fab, sys->trace};
}

/* A level-triggered vector was retired: re-send while the line stays asserted. */
void dev_eoi(struct system *sys, unsigned vcpu, uint8_t vector)
{
    (void)vcpu;
    struct irqdev_host h = irqdev_host_of(sys);
    irqdev_eoi(&sys->irqdev, &h, vector);
}

/* ---- MMIO ------------------------------------------------------------------------ */

void dev_mmio(struct slot *s, uint64_t gpa, unsigned size, bool write, uint64_t *val)
{
    struct system *sys = s->sys;
    uint64_t mask = size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
    uint64_t off = gpa - SNP_MMIODEV_BASE;
    bool dev = gpa >= SNP_MMIODEV_BASE && off < 4096 && off + size <= 4096;
    /* The vCPU's own xAPIC page comes first: it decodes inside the CPU, ahead
     * of the bus (SDM 10.4.1); outside xAPIC mode the fabric declines. */
    const struct fabric_ops *fo = sys->fab->ops;
    if (fo->mmio && fo->mmio(sys->fab, (int)s->idx, gpa, size, write, val)) {
        /* the APIC answered */
    } else if (!write) {
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
        else if (irqdev_claims(port, size))
            v = irqdev_read(&sys->irqdev, port - SNP_PORT_IRQDEV);
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
    } else if (irqdev_claims(port, size)) {
        struct irqdev_host h = irqdev_host_of(sys);
        sys->dev_cause = s;
        irqdev_write(&sys->irqdev, &h, port - SNP_PORT_IRQDEV, (uint32_t)v);
        sys->dev_cause = NULL;
    } else if (port == HOSTILE_MARKER_PORT) {
        hostile_marker(s, v); /* a POST code; with a hostile config, a marker */
    }
}
