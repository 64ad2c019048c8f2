/* SPDX-License-Identifier: MIT */
/*
 * What `snpref compare` keeps of one run (compare_log.c): per vCPU the
 * interrupts taken, the console, the architectural explanations of a missing
 * interrupt; per run the totals (cycles, exits and #VCs by code, interrupts
 * by kind and source, accelerated accesses) and the guest-visible latencies.
 *
 * A latency runs from the guest's own act to the target's handler entry
 * (irq_deliver), so that a fabric that moves work from the hypervisor into
 * hardware is credited for it:
 *  - an IPI starts at the sender's ICR or SELF_IPI write: the apic_hw event
 *    when the hardware saw the WRMSR (Secure AVIC), else the #VC 0x7C that
 *    carried the WRMSR to the guest's handler (SEV-ES/SNP), else the VM exit
 *    that brought it to the hypervisor (plain mode's MSR intercept, or a
 *    driver's VMGEXIT with the MSR NAE event), else the ipi event itself;
 *  - a device interrupt starts at the irqdev or ioapic event that sent it.
 * Takings pair with sends of the same vector to the same vCPU in order (the
 * k-th send with the k-th taking).
 */
#ifndef SNPREF_COMPARE_LOG_H
#define SNPREF_COMPARE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace.h"

#define TRC_EV_KINDS TRC_EV_COUNT

struct irq {
    uint8_t vector;
    bool nmi;
    uint64_t t;
};

/* Latency samples in cycles. */
struct samples {
    uint64_t *v;
    size_t n, cap;
};

/* min, median, p99 and max of s (sorted in place); all 0 without samples.
 * p99 is the nearest-rank percentile: the ceil(0.99 n)-th smallest. */
struct lat_stats {
    size_t n;
    uint64_t min, median, p99, max;
};
struct lat_stats samples_stats(struct samples *s);

/* Counts by a 64-bit key (exit codes), kept sorted by key. */
struct keycount {
    uint64_t key;
    uint64_t n;
};
struct countmap {
    struct keycount *e;
    size_t n, cap;
};

enum lat_kind { LAT_IPI, LAT_DEVICE, LAT_KINDS };

struct send {
    uint64_t t;
    enum lat_kind kind;
};

/* What one vCPU did in one run. */
struct vcpu_log {
    struct irq *irq;
    size_t nirq, cap;
    char **lines;
    size_t nlines, lcap;
    uint64_t exits;
    uint32_t dropped[256], held[256], refused[256]; /* explanations, by vector */
    uint32_t timer_fired[256];                      /* unmasked LAPIC timer expiries */
    uint32_t nmi_dropped;
    /* Sends to this vCPU and its takings not yet paired, by vector (FIFO). */
    struct fifo {
        struct send *s;
        size_t n, cap;
    } sent[256];
    struct tfifo {
        uint64_t *t;
        size_t n, cap;
    } taken[256];
    struct samples lat[LAT_KINDS];  /* latencies of what this vCPU took */
    uint64_t nev[TRC_EV_KINDS];     /* events of each kind (snpref stats) */
    /* Where this vCPU's current IPI send started (see above). */
    bool have_start, vc_valid, exit_valid, sent_since_exit;
    uint64_t start, vc_t, exit_t;
};

/* Interrupts accepted by source (irq_accept's src). */
enum irq_src { SRC_OTHER_VCPU, SRC_SELF, SRC_EXTERNAL, SRC_KINDS };

struct run_log {
    const char *label;              /* the side as the report names it */
    const char *fabric;
    unsigned n;
    struct vcpu_log *v;             /* n entries */
    int status;
    uint64_t cycles, insns;
    uint64_t ipis, irqs, exits, vcs;
    uint64_t irq_kind[3];           /* taken: fixed, nmi, extint */
    uint64_t irq_src[SRC_KINDS];
    uint64_t hw_accesses, accelerated, hooks;
    struct countmap exit_codes, vc_codes;
    struct samples lat[LAT_KINDS];
    uint64_t sys_nev[TRC_EV_KINDS]; /* system-wide events (vCPU -1) */
};

/* The vCPUs an ipi event's ICR reached (vCPU i has APIC ID i) into hit[n];
 * returns how many. */
unsigned ipi_hits(const struct trc_rec *r, unsigned n, bool *hit);

/* How a difference between the sides is classed (cmd_compare.c). */
enum div_class { DIV_EXPLAINED, DIV_LATENCY, DIV_UNEXPLAINED, DIV_IGNORED, DIV_CLASSES };

struct divergence {
    enum div_class cls;
    int vcpu;                       /* -1: the run as a whole */
    const char *check;              /* "exit status", "interrupts", "console" */
    char what[480];
};

/* One side of the comparison as the user named it (FABRIC[:CONFIG]). */
struct side {
    char fabric[32];
    const char *config;             /* its own config file, or NULL */
    char label[176];     /* the spec, (A)/(B) added when both are the same */
    char *knobs_json;               /* the fabric's knob section, or NULL (owned) */
};

/* The whole comparison, for the reports (compare_report.c). */
struct cmp_result {
    const char *guest, *mode;
    unsigned vcpus;
    struct side side[2];
    struct run_log log[2];
    struct divergence *div;
    size_t ndiv, cap;
    unsigned count[DIV_CLASSES];
};

/* The text report's totals and the knob lines; the JSON report (validated
 * against docs/compare.schema.json); the JUnit report (one testcase per check
 * and vCPU). The last two return 0, or -1 when the file cannot be written. */
void report_totals(const struct cmp_result *c);
void report_knobs(const struct cmp_result *c);
int report_json(const struct cmp_result *c, const char *path);
int report_junit(const struct cmp_result *c, const char *path);

/* snpref_options.sink for a run_log whose n and v are set. */
void log_sink(void *ctx, const struct trc_rec *r);
void log_free(struct run_log *L);

#endif
