/* SPDX-License-Identifier: MIT */
/*
 * Port and MMIO dispatch of the platform's devices (devices.h): which device
 * claims an access, the trace event of every access, and the exit and
 * POST-code ports, which only report to the device host. The test interrupt
 * device sends MSI-style messages through the fabric and re-asserts a
 * level-triggered line on the EOI broadcast, as an IOAPIC does.
 */
#include <stdlib.h>
#include <string.h>

#include "devices.h"
#include "snpref/abi.h"
#include "trace.h"

static uint64_t irqdev_now(void *ctx)
{
    struct devices *d = ctx;
    return d->host.now(d->host.ctx, d->cause);
}

int devices_init(struct devices *d, unsigned nvcpus, FILE *console, struct trc *trace,
                 struct fabric *fab, const struct dev_host *host, char *err, size_t errlen)
{
    memset(d, 0, sizeof(*d));
    d->lines = calloc(nvcpus ? nvcpus : 1, sizeof(*d->lines));
    if (!d->lines) {
        snprintf(err, errlen, "out of memory for %u console lines", nvcpus);
        return -1;
    }
    d->host = *host;
    d->trace = trace;
    d->console = console;
    d->nvcpus = nvcpus;
    d->cause = -1;
    d->irq_host = (struct irqdev_host){d, irqdev_now, fab, trace};
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

void dev_eoi(struct devices *d, int vcpu, uint8_t vector)
{
    int prev = d->cause;
    d->cause = vcpu;
    irqdev_eoi(&d->irqdev, &d->irq_host, vector);
    d->cause = prev;
}

void dev_mmio(struct devices *d, int vcpu, uint64_t gpa, unsigned size, bool write, uint64_t *val)
{
    uint64_t mask = size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
    uint64_t off = gpa - SNP_MMIODEV_BASE;
    bool dev = gpa >= SNP_MMIODEV_BASE && off < 4096 && off + size <= 4096;
    if (!write)
        *val = dev ? mmiodev_read(&d->mmiodev, off, size) : mask; /* nothing there: all ones */
    else if (dev)
        mmiodev_write(&d->mmiodev, off, size, *val);
    TRC(d->trace, mmio, d->host.now(d->host.ctx, vcpu), vcpu, write ? "write" : "read", gpa,
        size, *val & mask);
}

static uint64_t pio_in(struct devices *d, uint16_t port, uint8_t size)
{
    if (port >= SNP_PORT_COM1 && port < SNP_PORT_COM1 + 8)
        return console_in(port);
    if (irqdev_claims(port, size))
        return irqdev_read(&d->irqdev, port - SNP_PORT_IRQDEV);
    return ~0ull; /* unclaimed: all ones */
}

bool dev_pio(struct devices *d, int vcpu, uint16_t port, uint8_t size, bool in, uint64_t *data)
{
    uint64_t mask = size >= 4 ? 0xFFFFFFFFull : (1ull << (size * 8)) - 1;
    if (in) {
        *data = pio_in(d, port, size) & mask;
        TRC(d->trace, pio, d->host.now(d->host.ctx, vcpu), vcpu, "in", port, size, *data);
        return false;
    }
    uint64_t v = *data & mask;
    if (port != SNP_PORT_COM1) /* console bytes are traced per line */
        TRC(d->trace, pio, d->host.now(d->host.ctx, vcpu), vcpu, "out", port, size, v);
    if (port == SNP_PORT_COM1) {
        console_out(d, vcpu, (uint8_t)v);
    } else if (port == SNP_PORT_EXIT) {
        TRC(d->trace, exit, d->host.now(d->host.ctx, vcpu), vcpu, v);
        d->host.exit(d->host.ctx, vcpu, (uint32_t)v);
        return true;
    } else if (irqdev_claims(port, size)) {
        d->cause = vcpu;
        irqdev_write(&d->irqdev, &d->irq_host, port - SNP_PORT_IRQDEV, (uint32_t)v);
        d->cause = -1;
    } else if (port == SNP_PORT_POST) {
        d->host.post_code(d->host.ctx, vcpu, v); /* with a hostile config, a marker */
    }
    return false;
}
