/* SPDX-License-Identifier: MIT */
/*
 * The 16550A UART (uart.h). Interrupt priorities follow the PC16550D's IIR
 * table: receiver line status, then received data, then THR empty, then
 * modem status. THRE is latched when THR becomes empty or when the interrupt
 * is enabled with THR empty, and clears when IIR reports it or THR is
 * written; as transmission is immediate, a THR write clears and latches it
 * again, which makes a new edge on IRQ 4 for the edge-triggered ISA line.
 * Outside loopback the modem inputs read as connected (CTS, DSR, DCD), as on
 * QEMU's serial port.
 */
#include "uart.h"

#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI  0x40
#define MSR_DCD 0x80

void uart_reset(struct uart *u)
{
    *u = (struct uart){0};
    u->lsr = UART_LSR_THRE | UART_LSR_TEMT;
    u->msr = MSR_CTS | MSR_DSR | MSR_DCD;
}

/* IIR: the highest-priority pending interrupt (PC16550D table IV). */
static uint8_t iir_of(const struct uart *u)
{
    uint8_t fifo = (u->fcr & 1) ? 0xC0 : 0;
    if ((u->ier & UART_IER_RLSI) && (u->lsr & UART_LSR_OE))
        return fifo | 0x06;
    if ((u->ier & UART_IER_RDI) && (u->lsr & UART_LSR_DR))
        return fifo | 0x04;
    if ((u->ier & UART_IER_THRI) && u->thri_pending)
        return fifo | 0x02;
    if ((u->ier & UART_IER_MSI) && (u->msr & 0x0F))
        return fifo | 0x00;
    return fifo | 0x01; /* no interrupt pending */
}

static void update_irq(struct uart *u, const struct uart_host *h)
{
    bool level = !(iir_of(u) & 1);
    if (level != u->irq) {
        u->irq = level;
        h->irq(h->ctx, level);
    }
}

static unsigned rx_capacity(const struct uart *u)
{
    return (u->fcr & 1) ? UART_FIFO_LEN : 1;
}

static void rx_push(struct uart *u, uint8_t b)
{
    if (u->rx_count == rx_capacity(u)) {
        u->lsr |= UART_LSR_OE; /* overrun: the byte is lost */
        return;
    }
    u->rx[(u->rx_head + u->rx_count++) % UART_FIFO_LEN] = b;
    u->lsr |= UART_LSR_DR;
}

static uint8_t rx_pop(struct uart *u)
{
    if (!u->rx_count)
        return 0;
    uint8_t b = u->rx[u->rx_head];
    u->rx_head = (u->rx_head + 1) % UART_FIFO_LEN;
    if (!--u->rx_count)
        u->lsr &= ~UART_LSR_DR;
    return b;
}

void uart_poll(struct uart *u, const struct uart_host *h)
{
    if (u->mcr & UART_MCR_LOOP)
        return;
    while (u->rx_count < rx_capacity(u)) {
        int b = h->rx(h->ctx);
        if (b < 0)
            break;
        rx_push(u, (uint8_t)b);
    }
    update_irq(u, h);
}

/* In loopback the modem outputs appear on the inputs (PC16550D, MCR bit 4). */
static uint8_t msr_of(const struct uart *u)
{
    if (!(u->mcr & UART_MCR_LOOP))
        return u->msr;
    uint8_t m = u->msr & 0x0F;
    m |= (u->mcr & 0x02) ? MSR_CTS : 0; /* RTS */
    m |= (u->mcr & 0x01) ? MSR_DSR : 0; /* DTR */
    m |= (u->mcr & 0x04) ? MSR_RI : 0;  /* OUT1 */
    m |= (u->mcr & 0x08) ? MSR_DCD : 0; /* OUT2 */
    return m;
}

uint8_t uart_read(struct uart *u, const struct uart_host *h, unsigned reg)
{
    uint8_t v = 0;
    switch (reg) {
    case UART_RBR_THR:
        if (u->lcr & UART_LCR_DLAB)
            return u->dll;
        if (!u->rx_count)
            uart_poll(u, h);
        v = rx_pop(u);
        break;
    case UART_IER: return (u->lcr & UART_LCR_DLAB) ? u->dlm : u->ier;
    case UART_IIR_FCR:
        v = iir_of(u);
        if ((v & 0x0F) == 0x02)
            u->thri_pending = false; /* reading IIR that reports THRE clears it */
        break;
    case UART_LCR: return u->lcr;
    case UART_MCR: return u->mcr;
    case UART_LSR:
        if (!u->rx_count)
            uart_poll(u, h);
        v = u->lsr;
        u->lsr &= ~UART_LSR_OE; /* error bits clear on read */
        break;
    case UART_MSR:
        v = msr_of(u);
        u->msr &= 0xF0; /* delta bits clear on read */
        break;
    case UART_SCR: return u->scr;
    default: return 0xFF;
    }
    update_irq(u, h);
    return v;
}

static void transmit(struct uart *u, const struct uart_host *h, uint8_t b)
{
    if (u->mcr & UART_MCR_LOOP)
        rx_push(u, b);
    else
        h->tx(h->ctx, b);
    u->thri_pending = false;
    update_irq(u, h); /* THR full for a moment: the line drops ... */
    u->thri_pending = true;
}

void uart_write(struct uart *u, const struct uart_host *h, unsigned reg, uint8_t val)
{
    switch (reg) {
    case UART_RBR_THR:
        if (u->lcr & UART_LCR_DLAB)
            u->dll = val;
        else
            transmit(u, h, val);
        break;
    case UART_IER:
        if (u->lcr & UART_LCR_DLAB) {
            u->dlm = val;
            break;
        }
        /* Enabling THRI with THR empty raises it at once (PC16550D). */
        if ((val & UART_IER_THRI) && !(u->ier & UART_IER_THRI))
            u->thri_pending = true;
        u->ier = val & 0x0F;
        break;
    case UART_IIR_FCR:
        if ((val & 1) != (u->fcr & 1) || (val & 0x02))
            u->rx_count = 0, u->rx_head = 0, u->lsr &= ~UART_LSR_DR; /* FIFO reset */
        u->fcr = val & 0xC9;
        break;
    case UART_LCR: u->lcr = val; break;
    case UART_MCR: u->mcr = val & 0x1F; break;
    case UART_LSR: break; /* read-only (factory test on some parts) */
    case UART_MSR: break;
    case UART_SCR: u->scr = val; break;
    default: break;
    }
    update_irq(u, h); /* ... and rises again: a new edge for THRE */
}
