/* SPDX-License-Identifier: MIT */
/*
 * The console (docs/guest-abi.md "Devices"): the bytes COM1 transmits go to
 * the console stream at once and to the trace one line per vCPU, so the
 * interleaved output of several vCPUs stays readable and comparable. A
 * carriage return before the newline (a serial console's CR LF) is left out
 * of the trace line.
 */
#include <string.h>

#include "devices.h"
#include "trace.h"

static void flush_line(struct devices *d, int vcpu)
{
    struct console_line *l = &d->lines[vcpu];
    if (l->len && l->buf[l->len - 1] == '\r')
        l->len--;
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

void dev_flush_console(struct devices *d)
{
    for (unsigned i = 0; i < d->nvcpus; i++)
        if (d->lines[i].len)
            flush_line(d, (int)i);
    if (d->console)
        fflush(d->console);
}
