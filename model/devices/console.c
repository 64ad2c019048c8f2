/* SPDX-License-Identifier: MIT */
/*
 * COM1 as a console (docs/guest-abi.md "Devices"): bytes written to the data
 * port go to the console stream at once and to the trace one line per vCPU,
 * so interleaved output of several vCPUs stays readable and comparable. The
 * line-status register reads "transmitter empty" (0x60: THRE | TEMT, the
 * 16550's LSR bits 5 and 6); the other registers read 0.
 */
#include <string.h>

#include "devices.h"
#include "snpref/abi.h"
#include "trace.h"

static void flush_line(struct devices *d, int vcpu)
{
    struct console_line *l = &d->lines[vcpu];
    l->buf[l->len] = '\0';
    TRC(d->trace, console, d->host.now(d->host.ctx, vcpu), vcpu, l->buf);
    l->len = 0;
}

void console_out(struct devices *d, int vcpu, uint8_t c)
{
    if (d->console) {
        fputc(c, d->console);
        if (c == '\n')
            fflush(d->console);
    }
    if (c == '\n') {
        flush_line(d, vcpu);
        return;
    }
    if (c == 0) /* a NUL cannot travel in a trace string */
        c = ' ';
    struct console_line *l = &d->lines[vcpu];
    l->buf[l->len++] = (char)c;
    if (l->len == sizeof(l->buf) - 1)
        flush_line(d, vcpu);
}

uint64_t console_in(uint16_t port)
{
    return port == SNP_PORT_COM1_LSR ? 0x60 : 0;
}

void dev_flush_console(struct devices *d)
{
    for (unsigned i = 0; i < d->nvcpus; i++)
        if (d->lines[i].len)
            flush_line(d, (int)i);
    if (d->console)
        fflush(d->console);
}
