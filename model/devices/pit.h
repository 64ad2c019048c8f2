/* SPDX-License-Identifier: MIT */
/*
 * The 8254 programmable interval timer (Intel 82C54 datasheet) at ports
 * 0x40-0x43, and the PC's port 0x61 (NMI status and control: channel 2's
 * gate, the speaker data bit, channel 2's output, the refresh toggle).
 * Channel 0's output is ISA IRQ 0, which reaches I/O APIC pin 2 (the MADT's
 * interrupt source override). The counters are computed from simulated time
 * at each read; only channel 0's rising edges are events.
 */
#ifndef SNPREF_PIT_H
#define SNPREF_PIT_H

#include <stdbool.h>
#include <stdint.h>

#define PIT_PORT_BASE 0x40
#define PIT_PORT_CTRL 0x43
#define PIT_PORT_61   0x61
#define PIT_HZ        1193182u /* 14.31818 MHz / 12, the PC's PIT clock */

struct pit_channel {
    uint8_t mode;           /* 0-5 */
    uint8_t rw;             /* access: 1 LSB, 2 MSB, 3 LSB then MSB */
    bool bcd;               /* BCD counting (XXX(model): counted in binary) */
    uint32_t reload;        /* the count written (0 counts as 65536) */
    bool loaded;            /* a count has been written since the control word */
    bool null_count;        /* written but not yet taken by the counter */
    uint64_t start;         /* simulated time counting (re)started at */
    uint64_t ticks_before;  /* ticks counted before a gate pause (channel 2) */
    bool gate;
    uint8_t write_lsb;      /* LSB written, waiting for the MSB */
    bool write_hi;          /* next write is the MSB (rw 3) */
    bool read_hi;           /* next read is the MSB (rw 3) */
    bool latched;           /* a latched count is waiting to be read */
    uint16_t latch;
    bool latched_hi;
    bool status_latched;
    uint8_t status;
};

/* What the PIT reaches: time, a timed callback, IRQ 0's edge. */
struct pit_host {
    void *ctx;
    uint64_t (*schedule)(void *ctx, uint64_t at, void (*fn)(void *arg), void *arg);
    void (*cancel)(void *ctx, uint64_t id);
    void (*irq0)(void *ctx);      /* a rising edge of channel 0's output */
};

struct pit {
    struct pit_channel ch[3];
    uint8_t port61;               /* bits 0-3 as written */
    uint64_t core_hz;
    uint64_t irq_event;           /* channel 0's next edge (0 = none) */
    uint64_t irq_at;
    const struct pit_host *host;
};

void pit_reset(struct pit *p, uint64_t core_hz, const struct pit_host *h);
bool pit_claims(uint16_t port);
uint8_t pit_read(struct pit *p, uint16_t port, uint64_t now);
void pit_write(struct pit *p, uint16_t port, uint8_t val, uint64_t now);
/* The current count and output of channel c, for reads and the tests. */
uint16_t pit_count(const struct pit *p, unsigned c, uint64_t now);
bool pit_out(const struct pit *p, unsigned c, uint64_t now);

#endif
