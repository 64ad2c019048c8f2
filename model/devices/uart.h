/* SPDX-License-Identifier: MIT */
/*
 * A 16550A UART (National Semiconductor PC16550D datasheet) as COM1: its
 * eight registers read back as the datasheet says (the divisor latch behind
 * LCR.DLAB, the scratch register, the FIFO enable in IIR bits 7:6, loopback
 * through MCR bit 4 with MSR mirroring the modem outputs), so that a driver's
 * probe (Linux's 8250 autoconfig) finds a 16550A. Transmission is immediate:
 * a byte written to THR goes to the console at once and THR is empty again.
 * Received bytes come from an input file descriptor (the model's stdin).
 * The interrupt output is ISA IRQ 4, through the I/O APIC.
 */
#ifndef SNPREF_UART_H
#define SNPREF_UART_H

#include <stdbool.h>
#include <stdint.h>

/* Register offsets from the base port (PC16550D table II). */
enum uart_reg {
    UART_RBR_THR = 0, UART_IER = 1, UART_IIR_FCR = 2, UART_LCR = 3,
    UART_MCR = 4,     UART_LSR = 5, UART_MSR = 6,     UART_SCR = 7,
};

#define UART_LSR_DR   0x01
#define UART_LSR_OE   0x02
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_IER_RDI  0x01 /* received data available */
#define UART_IER_THRI 0x02 /* transmitter holding register empty */
#define UART_IER_RLSI 0x04 /* receiver line status */
#define UART_IER_MSI  0x08 /* modem status */
#define UART_LCR_DLAB 0x80
#define UART_MCR_LOOP 0x10
#define UART_FIFO_LEN 16

struct uart {
    uint8_t ier, lcr, mcr, lsr, msr, scr, fcr, dll, dlm;
    bool thri_pending;            /* THRE interrupt latched (cleared by IIR read or THR write) */
    uint8_t rx[UART_FIFO_LEN];    /* receive FIFO (one entry when the FIFO is off) */
    unsigned rx_head, rx_count;
    bool irq;                     /* the interrupt output as last driven */
};

/* What a UART reaches: its transmit sink, its input, its interrupt line. */
struct uart_host {
    void *ctx;
    void (*tx)(void *ctx, uint8_t byte);
    /* Next received byte, or -1 if none is ready now. */
    int (*rx)(void *ctx);
    void (*irq)(void *ctx, bool level);
};

void uart_reset(struct uart *u);
uint8_t uart_read(struct uart *u, const struct uart_host *h, unsigned reg);
void uart_write(struct uart *u, const struct uart_host *h, unsigned reg, uint8_t val);
/* Takes input that became ready, if the receiver has room (at quantum boundaries). */
void uart_poll(struct uart *u, const struct uart_host *h);

#endif
