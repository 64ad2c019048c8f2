/* SPDX-License-Identifier: MIT */
/*
 * Internal state of a system: the parts (RAM, timing kernel, fabric, vCPUs,
 * devices, trace) and the per-vCPU scheduling slots. Shared by system.c (the
 * composition and scheduler), hv.c (the reference hypervisor's exit handlers)
 * and devices.c (COM1, exit port, test interrupt device).
 */
#ifndef SNPREF_SYSTEM_H
#define SNPREF_SYSTEM_H

#include "config.h"
#include "cpu.h"
#include "fabric.h"
#include "irqdev.h"
#include "loader.h"
#include "mem.h"
#include "sev.h"
#include "snpref.h"
#include "snpref/abi.h"
#include "timing.h"
#include "trace.h"

enum slot_state { VS_RUNNABLE, VS_HALTED, VS_WAIT_SIPI, VS_OFF };

struct slot {
    struct system *sys;
    unsigned idx;
    struct vcpu *cpu;
    enum slot_state st;
    bool in_quantum;          /* its vcpu_run() is on the host stack now */
    uint64_t t0;              /* simulated time at the start of the current quantum */
    uint64_t insn0;           /* vcpu_insns() then */
    uint64_t extra;           /* event cycles added since t0 */
    uint64_t carry;           /* event cycles charged between quanta, for the next one */
    uint64_t t_end;           /* time reached at the end of the last quantum / halt */
    uint64_t run_ev;          /* scheduled quantum (tm id, 0 = none) */
    uint64_t timer_ev;        /* scheduled LAPIC timer expiry (0 = none) */
    uint64_t timer_at;        /* its time */
    uint64_t tsc_offset;      /* IA32_TSC writes */
    struct sev_vcpu sev;      /* SEV-ES/SNP hardware state (sev.h) */
    char line[256];           /* console bytes of this vCPU up to the newline */
    size_t linelen;
    struct snpref_vcpu_summary sum;
};

struct mmiodev {
    uint64_t reg[512];        /* 64-bit registers of the test MMIO page (abi.h) */
};

struct system {
    struct snp_config cfg;
    struct mem mem;
    struct tm_kernel *tk;
    struct cpu_shared *cs;
    struct fabric *fab;
    struct fab_host host;
    struct trc *trace;
    FILE *console;
    struct boot_layout layout;
    struct snp_bootinfo bootinfo;
    uint64_t entry;
    unsigned n;
    struct slot *slots;
    uint32_t *apic_ids;
    struct snpref_vcpu_summary *sums; /* filled at the end of the run */
    struct irqdev irqdev;
    struct mmiodev mmiodev;
    struct sev *sev;          /* NULL in plain mode */
    struct guest_image img;   /* the guest image (copied) */
    uint8_t *img_data;
    struct slot *dev_cause;   /* the vCPU whose access drives a device right now */
    struct inflight *inflight; /* messages on the wire (system.c) */

    bool done;
    struct snpref_result res;
    uint64_t insns_total;     /* at the last quantum boundary */
};

/* system.c */
uint64_t sys_now(struct slot *s);           /* the vCPU's current simulated time */
void sys_charge(struct slot *s, uint64_t cycles);
void sys_finish(struct system *sys, enum snpref_outcome o, int vcpu, uint64_t rip,
                const char *reason);
void sys_wake(struct slot *s, const char *reason);
/* The entry state of docs/guest-abi.md for vCPU idx at rip. */
void sys_boot_state(struct system *sys, unsigned idx, uint64_t rip, struct vcpu_boot *b);
/* AP_CREATION's effect on vCPU t (nae.c has checked the request). */
void sys_ap_create(struct slot *t, unsigned request, uint64_t vmsa);
struct slot *sys_slot(struct system *sys, struct vcpu *v);
uint64_t sys_tsc(struct slot *s);

/* hv.c: the reference hypervisor (plain mode) */
enum vcpu_action hv_intercept(struct slot *s, struct vcpu_exit *e);
/* Whether a halted vCPU would wake now (an event it can take is pending). */
bool hv_can_wake(struct slot *s);
/* An MSR access as the hypervisor emulates it; false = #GP. */
bool hv_msr_access(struct slot *s, uint32_t msr, bool write, uint64_t *val);
/* The value a WRMSR writes (EDX:EAX). */
uint64_t hv_msr_value(struct slot *s);
/* Completes an RDMSR/WRMSR: #GP unless ok, else a read's val into EDX:EAX. */
enum vcpu_action hv_msr_done(struct slot *s, struct vcpu_exit *e, bool ok, bool write,
                             uint64_t val);
bool hv_cpuid_lookup(const struct system *sys, unsigned vcpu, uint32_t leaf, uint32_t subleaf,
                     uint32_t out[4]);
/* MOV to/from CR8 (e->data: CR8), answered from the fabric's TPR. */
enum vcpu_action hv_cr8(struct slot *s, struct vcpu_exit *e);

/* devices.c */
void dev_pio(struct slot *s, uint16_t port, uint8_t size, bool in, uint64_t *data,
             enum vcpu_action *act);
void dev_eoi(struct system *sys, unsigned vcpu, uint8_t vector);
/* MMIO space (the test device of abi.h; all ones elsewhere). */
void dev_mmio(struct slot *s, uint64_t gpa, unsigned size, bool write, uint64_t *val);
void dev_flush_console(struct system *sys);

#endif
