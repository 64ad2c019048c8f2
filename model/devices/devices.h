/* SPDX-License-Identifier: MIT */
/*
 * The platform's devices (docs/guest-abi.md "Devices") behind one port and
 * MMIO dispatch, one file each: COM1, a 16550A UART whose output is the
 * console (uart.c, console.c); the I/O APIC (ioapic.c); the CMOS RTC (rtc.c);
 * the ACPI PM registers and timer (acpi_pm.c); the 8254 PIT and port 0x61
 * (pit.c); fw_cfg (fwcfg.c); the
 * pc-testdev interrupt lines (testdev.c); the exit port and the POST-code
 * port; the test interrupt device (irqdev.c) and the test MMIO page
 * (mmiodev.c). Unclaimed ports and addresses read all ones and ignore writes,
 * as on a PC.
 *
 * The devices know nothing of vCPUs, scheduling or the hypervisor: what they
 * need of the system (the time of the access that drives them, ending the run,
 * a POST code for the hostile hypervisor) they ask through struct dev_host, so
 * the machine and the hypervisor sit above this library, never beside it.
 */
#ifndef SNPREF_DEVICES_H
#define SNPREF_DEVICES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "acpi_pm.h"
#include "fwcfg.h"
#include "ioapic.h"
#include "irqdev.h"
#include "pit.h"
#include "rtc.h"
#include "uart.h"

struct fabric;
struct trc;

/* What the devices reach of the system that owns them. */
struct dev_host {
    void *ctx;
    /* Simulated time of vCPU vcpu's current access; vcpu -1: the system's time. */
    uint64_t (*now)(void *ctx, int vcpu);
    /* The guest wrote value to the exit port: the run ends with that value. */
    void (*exit)(void *ctx, int vcpu, uint32_t value);
    /* A byte written to the POST-code port 0x80 (the hostile hypervisor's marker). */
    void (*post_code)(void *ctx, int vcpu, uint64_t value);
    /* Calls fn(arg) at simulated time `at` (a device's own timer); returns a
     * non-zero id for cancel. */
    uint64_t (*schedule)(void *ctx, uint64_t at, void (*fn)(void *arg), void *arg);
    void (*cancel)(void *ctx, uint64_t id);
};

/* What the devices are built from (the configuration's part of them). */
struct dev_params {
    unsigned nvcpus;
    uint64_t ram_size;        /* fw_cfg RAM size */
    uint64_t core_hz;         /* simulated cycles per second: RTC and PM timer */
    uint64_t rtc_epoch;       /* Unix time the RTC shows at simulated time 0 */
    int input_fd;             /* COM1's receive side; -1: nothing is ever received */
};

/* ISA IRQ of COM1 and its I/O APIC pin (no override in the MADT). */
#define DEV_COM1_IRQ 4
/* I/O APIC pin of ISA IRQ 0, the PIT (the MADT's interrupt source override). */
#define DEV_PIT_PIN 2

/* A console line being collected for one vCPU (traced per line). */
struct console_line {
    char buf[256];
    size_t len;
};

/* The test MMIO page (include/snpref/abi.h SNP_MMIODEV_*). */
struct mmiodev {
    uint64_t reg[512];        /* 64-bit registers; register 0 is the signature */
};

/*
 * A device that lives above this library (the PSP's MMIO page, model/psp),
 * claimed through the same dispatch: 32-bit registers in [base, base + size).
 * The system registers it; the devices only route accesses to it.
 */
struct dev_mmio_region {
    uint64_t base, size;
    void *ctx;
    uint32_t (*read)(void *ctx, int vcpu, uint64_t off, unsigned size);
    void (*write)(void *ctx, int vcpu, uint64_t off, unsigned size, uint32_t val);
};
#define DEV_MAX_REGIONS 2

struct devices {
    struct dev_host host;
    struct dev_mmio_region regions[DEV_MAX_REGIONS];
    unsigned nregions;
    struct trc *trace;        /* may be NULL */
    FILE *console;            /* COM1's output; NULL: traced only */
    unsigned nvcpus;
    struct console_line *lines; /* per vCPU */
    struct irqdev irqdev;
    struct irqdev_host irq_host;
    struct mmiodev mmiodev;
    struct uart com1;
    struct uart_host com1_host;
    int input_fd;
    bool input_tty;           /* the input is a terminal: what arrives when is not reproducible */
    struct ioapic ioapic;
    struct rtc rtc;
    struct acpi_pm pm;
    struct fwcfg fwcfg;
    struct pit pit;
    struct pit_host pit_host;
    int cause;                /* the vCPU whose access drives a device now, -1 none */
};

/* Sets up the devices of a system with nvcpus vCPUs. The fabric carries the
 * irqdev's messages. Returns 0, or -1 with err (out of memory). */
int devices_init(struct devices *d, const struct dev_params *p, FILE *console, struct trc *trace,
                 struct fabric *fab, const struct dev_host *host, char *err, size_t errlen);
void devices_destroy(struct devices *d);
/* The trace the devices write (it can be closed before the devices are). */
void devices_set_trace(struct devices *d, struct trc *trace);

/*
 * A port access of size bytes by vCPU vcpu: an IN fills *data, an OUT takes
 * it. Returns true if the access ended the run (the exit port).
 */
bool dev_pio(struct devices *d, int vcpu, uint16_t port, uint8_t size, bool in, uint64_t *data);
/* An MMIO access outside RAM by vCPU vcpu; a read fills *val. */
void dev_mmio(struct devices *d, int vcpu, uint64_t gpa, unsigned size, bool write, uint64_t *val);
/* Adds a region to the MMIO dispatch (a model bug past DEV_MAX_REGIONS). */
void dev_add_mmio(struct devices *d, const struct dev_mmio_region *r);
/* vCPU vcpu retired vector with an EOI broadcast (level-triggered lines). */
void dev_eoi(struct devices *d, int vcpu, uint8_t vector);
/* A quantum boundary: input that arrived since is taken (COM1). */
void dev_tick(struct devices *d);
/* Writes out every console line still being collected. */
void dev_flush_console(struct devices *d);

/* console.c */
void console_out(struct devices *d, int vcpu, uint8_t c);
/* mmiodev.c */
uint64_t mmiodev_read(const struct mmiodev *m, uint64_t off, unsigned size);
void mmiodev_write(struct mmiodev *m, uint64_t off, unsigned size, uint64_t val);

#endif
