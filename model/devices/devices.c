/* SPDX-License-Identifier: MIT */
/*
 * Port and MMIO dispatch of the platform's devices (devices.h): which device
 * claims an access, the trace event of every access, the interrupt wiring
 * (COM1 -> I/O APIC pin 4, the PIT's channel 0 -> pin 2, pc-testdev lines ->
 * their pins, the EOI broadcast
 * -> the I/O APIC and the test interrupt device), COM1's input, and the exit,
 * POST-code and power-off paths, which only report to the device host.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices.h"
#include "snpref/base.h"
#include "snpref/abi.h"
#include "testdev.h"
#include "trace.h"

static uint64_t dev_time(const struct devices *d, int vcpu)
{
    return d->host.now(d->host.ctx, vcpu);
}

static uint64_t irq_now(void *ctx)
{
    struct devices *d = ctx;
    return dev_time(d, d->cause);
}

/* ---- COM1's host: console out, input in, IRQ 4 ---------------------------------------- */

static void com1_tx(void *ctx, uint8_t b)
{
    struct devices *d = ctx;
    console_out(d, d->cause >= 0 ? d->cause : 0, b);
}

/* The next input byte if one is ready now. A file or /dev/null is always
 * ready, so a run with redirected input is reproducible; a terminal is not. */
static int com1_rx(void *ctx)
{
    struct devices *d = ctx;
    if (d->input_fd < 0)
        return -1;
    struct pollfd p = {d->input_fd, POLLIN, 0};
    if (poll(&p, 1, 0) != 1)
        return -1;
    uint8_t b;
    ssize_t n = read(d->input_fd, &b, 1);
    if (n != 1) {
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            d->input_fd = -1; /* end of input: nothing more arrives */
        return -1;
    }
    TRC(d->trace, uart_rx, dev_time(d, d->cause), -1, b);
    return b;
}

static void com1_irq(void *ctx, bool level)
{
    struct devices *d = ctx;
    ioapic_set_pin(&d->ioapic, &d->irq_host, DEV_COM1_IRQ, level);
}

/* ---- The PIT's host: its timer and IRQ 0 --------------------------------------------- */

static uint64_t pit_schedule(void *ctx, uint64_t at, void (*fn)(void *arg), void *arg)
{
    struct devices *d = ctx;
    return d->host.schedule(d->host.ctx, at, fn, arg);
}

static void pit_cancel(void *ctx, uint64_t id)
{
    struct devices *d = ctx;
    d->host.cancel(d->host.ctx, id);
}

/* An edge on ISA IRQ 0: a pulse on its edge-triggered I/O APIC pin. */
static void pit_irq0(void *ctx)
{
    struct devices *d = ctx;
    ioapic_set_pin(&d->ioapic, &d->irq_host, DEV_PIT_PIN, true);
    ioapic_set_pin(&d->ioapic, &d->irq_host, DEV_PIT_PIN, false);
}

int devices_init(struct devices *d, const struct dev_params *p, FILE *console, struct trc *trace,
                 struct fabric *fab, const struct dev_host *host, char *err, size_t errlen)
{
    memset(d, 0, sizeof(*d));
    d->lines = calloc(p->nvcpus ? p->nvcpus : 1, sizeof(*d->lines));
    if (!d->lines) {
        snprintf(err, errlen, "out of memory for %u console lines", p->nvcpus);
        return -1;
    }
    d->host = *host;
    d->trace = trace;
    d->console = console;
    d->nvcpus = p->nvcpus;
    d->cause = -1;
    d->irq_host = (struct irqdev_host){d, irq_now, fab, trace};
    d->com1_host = (struct uart_host){d, com1_tx, com1_rx, com1_irq};
    d->input_fd = p->input_fd;
    d->input_tty = p->input_fd >= 0 && isatty(p->input_fd);
    uart_reset(&d->com1);
    ioapic_reset(&d->ioapic);
    rtc_reset(&d->rtc, p->rtc_epoch, p->core_hz);
    acpi_pm_reset(&d->pm, p->core_hz);
    fwcfg_reset(&d->fwcfg, p->nvcpus, p->ram_size);
    d->pit_host = (struct pit_host){d, pit_schedule, pit_cancel, pit_irq0};
    pit_reset(&d->pit, p->core_hz, &d->pit_host);
    return 0;
}

void devices_destroy(struct devices *d)
{
    free(d->lines);
    d->lines = NULL;
}

void devices_set_trace(struct devices *d, struct trc *trace)
{
    d->trace = trace;
    d->irq_host.trace = trace;
}

void dev_tick(struct devices *d)
{
    if (d->input_fd >= 0 && (d->com1.ier & UART_IER_RDI))
        uart_poll(&d->com1, &d->com1_host);
}

void dev_eoi(struct devices *d, int vcpu, uint8_t vector)
{
    int prev = d->cause;
    d->cause = vcpu;
    irqdev_eoi(&d->irqdev, &d->irq_host, vector);
    ioapic_eoi(&d->ioapic, &d->irq_host, vector);
    d->cause = prev;
}

/* ---- MMIO -------------------------------------------------------------------------- */

void dev_add_mmio(struct devices *d, const struct dev_mmio_region *r)
{
    SNP_ASSERT(d->nregions < DEV_MAX_REGIONS);
    d->regions[d->nregions++] = *r;
}

static const struct dev_mmio_region *region_of(const struct devices *d, uint64_t gpa, unsigned size)
{
    for (unsigned i = 0; i < d->nregions; i++) {
        const struct dev_mmio_region *r = &d->regions[i];
        if (gpa >= r->base && gpa - r->base < r->size && gpa - r->base + size <= r->size)
            return r;
    }
    return NULL;
}

void dev_mmio(struct devices *d, int vcpu, uint64_t gpa, unsigned size, bool write, uint64_t *val)
{
    uint64_t mask = size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
    const struct dev_mmio_region *r = region_of(d, gpa, size);
    if (r) {
        /* The region's own trace events say what the access did; this one what it was. */
        d->cause = vcpu;
        if (write)
            r->write(r->ctx, vcpu, gpa - r->base, size, (uint32_t)*val);
        else
            *val = r->read(r->ctx, vcpu, gpa - r->base, size) & mask;
        d->cause = -1;
        TRC(d->trace, mmio, dev_time(d, vcpu), vcpu, write ? "write" : "read", gpa, size,
            *val & mask);
        return;
    }
    uint64_t off = gpa - SNP_MMIODEV_BASE, ioff = gpa - IOAPIC_BASE;
    bool dev = gpa >= SNP_MMIODEV_BASE && off < 4096 && off + size <= 4096;
    /* The I/O APIC's registers are 32 bits wide; other widths are ignored. */
    bool ioapic = gpa >= IOAPIC_BASE && ioff < IOAPIC_SIZE && size == 4 && !(ioff & 3);
    d->cause = vcpu;
    if (!write)
        *val = dev ? mmiodev_read(&d->mmiodev, off, size)
             : ioapic ? ioapic_read(&d->ioapic, ioff)
                      : mask; /* nothing there: all ones */
    else if (dev)
        mmiodev_write(&d->mmiodev, off, size, *val);
    else if (ioapic)
        ioapic_write(&d->ioapic, &d->irq_host, ioff, (uint32_t)*val);
    d->cause = -1;
    TRC(d->trace, mmio, dev_time(d, vcpu), vcpu, write ? "write" : "read", gpa, size, *val & mask);
}

/* ---- Ports ------------------------------------------------------------------------- */

static bool com1_claims(uint16_t port)
{
    return port >= SNP_PORT_COM1 && port < SNP_PORT_COM1 + 8;
}

static uint64_t pio_in(struct devices *d, int vcpu, uint16_t port, uint8_t size)
{
    if (com1_claims(port))
        return uart_read(&d->com1, &d->com1_host, port - SNP_PORT_COM1);
    if (port == RTC_PORT_INDEX || port == RTC_PORT_DATA)
        return rtc_read(&d->rtc, port, dev_time(d, vcpu));
    if (pit_claims(port))
        return pit_read(&d->pit, port, dev_time(d, vcpu));
    if (acpi_pm_claims(port))
        return acpi_pm_read(&d->pm, port, size, dev_time(d, vcpu));
    if (fwcfg_claims(port))
        return fwcfg_read(&d->fwcfg, port, size);
    if (irqdev_claims(port, size))
        return irqdev_read(&d->irqdev, port - SNP_PORT_IRQDEV);
    return ~0ull; /* unclaimed: all ones */
}

/* Returns true if the write ended the run. */
static bool pio_out(struct devices *d, int vcpu, uint16_t port, uint8_t size, uint64_t v)
{
    unsigned slp_typ;
    if (com1_claims(port)) {
        uart_write(&d->com1, &d->com1_host, port - SNP_PORT_COM1, (uint8_t)v);
    } else if (port == SNP_PORT_EXIT) {
        TRC(d->trace, exit, dev_time(d, vcpu), vcpu, v);
        d->host.exit(d->host.ctx, vcpu, (uint32_t)v);
        return true;
    } else if (port == RTC_PORT_INDEX || port == RTC_PORT_DATA) {
        rtc_write(&d->rtc, port, (uint8_t)v, dev_time(d, vcpu));
    } else if (pit_claims(port)) {
        pit_write(&d->pit, port, (uint8_t)v, dev_time(d, vcpu));
    } else if (acpi_pm_claims(port)) {
        if (acpi_pm_write(&d->pm, port, size, (uint32_t)v, &slp_typ)) {
            /* Only S5 is a state the model enters: power off ends the run cleanly. */
            bool off = slp_typ == ACPI_SLP_TYP_S5;
            TRC(d->trace, power, dev_time(d, vcpu), vcpu, slp_typ, off ? "off" : "ignored");
            if (off) {
                d->host.exit(d->host.ctx, vcpu, 0);
                return true;
            }
        }
    } else if (fwcfg_claims(port)) {
        fwcfg_write(&d->fwcfg, port, size, (uint32_t)v);
    } else if (testdev_claims(port)) {
        ioapic_set_pin(&d->ioapic, &d->irq_host, testdev_pin(port), v & 1);
    } else if (irqdev_claims(port, size)) {
        irqdev_write(&d->irqdev, &d->irq_host, port - SNP_PORT_IRQDEV, (uint32_t)v);
    } else if (port == SNP_PORT_POST) {
        d->host.post_code(d->host.ctx, vcpu, v); /* with a hostile config, a marker */
    }
    return false;
}

bool dev_pio(struct devices *d, int vcpu, uint16_t port, uint8_t size, bool in, uint64_t *data)
{
    uint64_t mask = size >= 4 ? 0xFFFFFFFFull : (1ull << (size * 8)) - 1;
    d->cause = vcpu;
    if (in) {
        *data = pio_in(d, vcpu, port, size) & mask;
        d->cause = -1;
        TRC(d->trace, pio, dev_time(d, vcpu), vcpu, "in", port, size, *data);
        return false;
    }
    uint64_t v = *data & mask;
    /* Bytes COM1 transmits are traced per line (console), not per access. */
    if (!(port == SNP_PORT_COM1 && !(d->com1.lcr & UART_LCR_DLAB)))
        TRC(d->trace, pio, dev_time(d, vcpu), vcpu, "out", port, size, v);
    bool stop = pio_out(d, vcpu, port, size, v);
    d->cause = -1;
    return stop;
}
