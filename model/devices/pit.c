/* SPDX-License-Identifier: MIT */
/*
 * The 8254 PIT (pit.h). Counting: a channel counts PIT_HZ ticks per second
 * of simulated time from the moment its count is written (82C54: the count
 * is taken on the next clock; the model takes it at once). Modes 0 and 1 end
 * with OUT high at terminal count; 2 (rate generator) drops OUT for one tick
 * at count 1 and reloads; 3 (square wave) holds OUT high for the first half
 * of each period; 4 and 5 pulse OUT low for one tick at terminal count.
 * Gate: channels 0 and 1 have it tied high; channel 2's comes from port 0x61
 * bit 0 and, low, pauses modes 0, 2, 3 and 4, while a rising edge restarts
 * modes 1, 2, 3 and 5 (82C54 table "Gate pin operations summary").
 * Channel 0's output rising edges are scheduled on the timing kernel and
 * reach IRQ 0 as edges; nothing else is an event.
 */
#include "pit.h"

#include <string.h>

static uint64_t n_of(const struct pit_channel *c)
{
    return c->reload ? c->reload : 65536;
}

/* Ticks channel c has counted by `now`. */
static uint64_t ticks(const struct pit *p, const struct pit_channel *c, uint64_t now)
{
    if (!c->loaded)
        return 0;
    uint64_t t = c->ticks_before;
    if (c->gate && now > c->start)
        t += (uint64_t)((unsigned __int128)(now - c->start) * PIT_HZ / p->core_hz);
    return t;
}

/* The simulated time at which channel c (gate high, counting since start)
 * has counted `tick` ticks: the first cycle at which ticks() reaches it. */
static uint64_t time_of_tick(const struct pit *p, const struct pit_channel *c, uint64_t tick)
{
    uint64_t left = tick > c->ticks_before ? tick - c->ticks_before : 0;
    unsigned __int128 cyc = ((unsigned __int128)left * p->core_hz + PIT_HZ - 1) / PIT_HZ;
    return c->start + (uint64_t)cyc;
}

uint16_t pit_count(const struct pit *p, unsigned ci, uint64_t now)
{
    const struct pit_channel *c = &p->ch[ci];
    if (!c->loaded)
        return (uint16_t)c->reload;
    uint64_t n = n_of(c), t = ticks(p, c, now);
    switch (c->mode) {
    case 2: return (uint16_t)(n - t % n);
    case 3: {
        uint64_t half = (n + 1) / 2; /* counts down by two, twice per period */
        return (uint16_t)((n - 2 * (t % half)) & 0xFFFE);
    }
    default: return (uint16_t)((n - t % 65536 + 65536) % 65536); /* 0, 1, 4, 5: wraps */
    }
}

bool pit_out(const struct pit *p, unsigned ci, uint64_t now)
{
    const struct pit_channel *c = &p->ch[ci];
    if (!c->loaded)
        return c->mode != 0 && c->mode != 1; /* a control word sets OUT low in 0 and 1 */
    uint64_t n = n_of(c), t = ticks(p, c, now);
    switch (c->mode) {
    case 0:
    case 1: return t >= n;
    case 2: return t % n != n - 1;
    case 3: return t % n < (n + 1) / 2;
    default: return t != n; /* 4 and 5 */
    }
}

/* ---- Channel 0's edges ------------------------------------------------------------- */

static void arm_irq0(struct pit *p, uint64_t now);

static void irq0_edge(void *arg)
{
    struct pit *p = arg;
    p->irq_event = 0;
    p->host->irq0(p->host->ctx);
    arm_irq0(p, p->irq_at);
}

/* Schedules channel 0's next rising edge after `now`, if it has one. */
static void arm_irq0(struct pit *p, uint64_t now)
{
    struct pit_channel *c = &p->ch[0];
    if (p->irq_event)
        p->host->cancel(p->host->ctx, p->irq_event);
    p->irq_event = 0;
    if (!c->loaded)
        return;
    uint64_t n = n_of(c), t = ticks(p, c, now), edge;
    switch (c->mode) {
    case 0:
    case 1: edge = n; break;                  /* once, at terminal count */
    case 2:
    case 3: edge = (t / n + 1) * n; break;    /* every period */
    default: edge = n + 1; break;             /* 4, 5: back high after the pulse */
    }
    if (edge <= t)
        return;
    uint64_t at = time_of_tick(p, c, edge);
    if (at <= now)
        at = now + 1;
    p->irq_at = at;
    p->irq_event = p->host->schedule(p->host->ctx, at, irq0_edge, p);
}

/* ---- Registers ------------------------------------------------------------------------ */

void pit_reset(struct pit *p, uint64_t core_hz, const struct pit_host *h)
{
    memset(p, 0, sizeof(*p));
    p->core_hz = core_hz ? core_hz : 1;
    p->host = h;
    p->ch[0].gate = p->ch[1].gate = true;
}

bool pit_claims(uint16_t port)
{
    return (port >= PIT_PORT_BASE && port <= PIT_PORT_CTRL) || port == PIT_PORT_61;
}

static uint8_t status_of(const struct pit *p, unsigned ci, uint64_t now)
{
    const struct pit_channel *c = &p->ch[ci];
    return (uint8_t)((pit_out(p, ci, now) ? 0x80 : 0) | (c->null_count ? 0x40 : 0) | (c->rw << 4) |
                     (c->mode << 1) | (c->bcd ? 1 : 0));
}

static void latch_count(struct pit *p, unsigned ci, uint64_t now)
{
    struct pit_channel *c = &p->ch[ci];
    if (c->latched)
        return; /* a second latch before the read is ignored (82C54) */
    c->latched = true;
    c->latched_hi = c->rw == 2;
    c->latch = pit_count(p, ci, now);
}

static void control(struct pit *p, uint8_t val, uint64_t now)
{
    unsigned sel = val >> 6;
    if (sel == 3) { /* read-back: bit 5 clear latches counts, bit 4 clear latches status */
        for (unsigned ci = 0; ci < 3; ci++) {
            if (!(val & (2u << ci)))
                continue;
            if (!(val & 0x20))
                latch_count(p, ci, now);
            if (!(val & 0x10) && !p->ch[ci].status_latched) {
                p->ch[ci].status_latched = true;
                p->ch[ci].status = status_of(p, ci, now);
            }
        }
        return;
    }
    struct pit_channel *c = &p->ch[sel];
    unsigned rw = (val >> 4) & 3;
    if (rw == 0) {
        latch_count(p, sel, now);
        return;
    }
    unsigned mode = (val >> 1) & 7;
    c->mode = (uint8_t)(mode > 5 ? mode - 4 : mode); /* 6 and 7 are 2 and 3 */
    c->rw = (uint8_t)rw;
    c->bcd = val & 1;
    c->loaded = false;
    c->null_count = true;
    c->write_hi = c->read_hi = c->latched = c->status_latched = false;
    if (sel == 0)
        arm_irq0(p, now);
}

static void write_count(struct pit *p, unsigned ci, uint8_t val, uint64_t now)
{
    struct pit_channel *c = &p->ch[ci];
    uint32_t v;
    if (c->rw == 1) {
        v = val;
    } else if (c->rw == 2) {
        v = (uint32_t)val << 8;
    } else if (!c->write_hi) {
        c->write_lsb = val;
        c->write_hi = true;
        return;
    } else {
        v = c->write_lsb | (uint32_t)val << 8;
        c->write_hi = false;
    }
    c->reload = v;
    c->loaded = true;
    c->null_count = false;
    c->start = now;
    c->ticks_before = 0;
    if (ci == 0)
        arm_irq0(p, now);
}

static uint8_t read_count(struct pit *p, unsigned ci, uint64_t now)
{
    struct pit_channel *c = &p->ch[ci];
    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    uint16_t v;
    bool hi;
    if (c->latched) {
        v = c->latch;
        hi = c->latched_hi;
        if (c->rw == 3 && !hi)
            c->latched_hi = true;
        else
            c->latched = false;
    } else {
        v = pit_count(p, ci, now);
        hi = c->rw == 2 || (c->rw == 3 && c->read_hi);
        if (c->rw == 3)
            c->read_hi = !c->read_hi;
    }
    return hi ? (uint8_t)(v >> 8) : (uint8_t)v;
}

/* Port 0x61: gate 2 (bit 0), speaker data (1), parity and channel-check
 * enables (2, 3) as written; refresh toggle (4) every 15 us; OUT2 (5). */
static uint8_t read_61(const struct pit *p, uint64_t now)
{
    uint64_t us = (uint64_t)((unsigned __int128)now * 1000000 / p->core_hz);
    return (uint8_t)((p->port61 & 0x0F) | ((us / 15) & 1 ? 0x10 : 0) |
                     (pit_out(p, 2, now) ? 0x20 : 0));
}

static void write_61(struct pit *p, uint8_t val, uint64_t now)
{
    struct pit_channel *c = &p->ch[2];
    bool gate = val & 1;
    if (gate != c->gate) {
        if (!gate) {
            c->ticks_before = ticks(p, c, now); /* pause: keep what was counted */
        } else if (c->mode == 1 || c->mode == 2 || c->mode == 3 || c->mode == 5) {
            c->ticks_before = 0; /* a rising gate restarts these modes */
        }
        c->gate = gate;
        c->start = now;
    }
    p->port61 = val & 0x0F;
}

uint8_t pit_read(struct pit *p, uint16_t port, uint64_t now)
{
    if (port == PIT_PORT_61)
        return read_61(p, now);
    if (port == PIT_PORT_CTRL)
        return 0xFF; /* the control word register cannot be read */
    return read_count(p, port - PIT_PORT_BASE, now);
}

void pit_write(struct pit *p, uint16_t port, uint8_t val, uint64_t now)
{
    if (port == PIT_PORT_61)
        write_61(p, val, now);
    else if (port == PIT_PORT_CTRL)
        control(p, val, now);
    else
        write_count(p, port - PIT_PORT_BASE, val, now);
}
