/* SPDX-License-Identifier: MIT */
/*
 * The machine: the state every part of a running system shares (RAM, the
 * timing kernel, the fabric, the vCPUs and their scheduling slots, the
 * devices, the trace, the SEV hardware state) and the primitives over it that
 * the hypervisor and the composition both use: a vCPU's simulated time, the
 * cost of an event, ending the run, scheduling and waking a vCPU, and the
 * device accesses of a vCPU.
 *
 * It sits below the reference hypervisor (model/hv) and the composition
 * (model/system.c): what only the composition knows, how a quantum runs, it
 * hands down as sys->run_quantum.
 */
#ifndef SNPREF_MACHINE_H
#define SNPREF_MACHINE_H

#include "config.h"
#include "cpu.h"
#include "devices.h"
#include "fabric.h"
#include "linux.h"
#include "loader.h"
#include "mem.h"
#include "sev_state.h"
#include "snpref.h"
#include "snpref/abi.h"
#include "timing.h"
#include "trace.h"

enum slot_state { VS_RUNNABLE, VS_HALTED, VS_WAIT_SIPI, VS_OFF };

/* Words of per-vCPU MSR state the hypervisor's table keeps (model/hv/msr.c). */
#define SLOT_MSRS 64

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
    uint64_t tsc_offset;      /* IA32_TSC and IA32_TSC_ADJUST writes */
    uint64_t tsc_adjust;      /* IA32_TSC_ADJUST (SDM 17.17.3), 0 at reset */
    uint64_t msr[SLOT_MSRS];  /* the hypervisor's MSR table values (model/hv/msr.h) */
    struct sev_vcpu sev;      /* SEV-ES/SNP hardware state (sev_state.h) */
    struct snpref_vcpu_summary sum;
};

struct psp;
struct psp_mbox;
struct rmp;

struct system {
    struct snp_config cfg;
    struct mem mem;
    struct tm_kernel *tk;
    struct cpu_shared *cs;
    struct fabric *fab;
    struct fab_host host;
    struct trc *trace;
    struct boot_layout layout;
    struct snp_bootinfo bootinfo;
    uint64_t entry;
    /* `--kernel`: vCPU 0's entry state from the Linux loader (linux.h); the
     * other vCPUs wait for INIT/SIPI. */
    bool kernel_boot;
    const char *measured_pages_path; /* snpref_options.measured_pages_path */
    struct boot_entry entry0;
    struct linux_placement linux_pl; /* where a Linux boot's loader put things */
    unsigned n;
    struct slot *slots;
    uint32_t *apic_ids;
    struct snpref_vcpu_summary *sums; /* filled at the end of the run */
    struct devices dev;       /* COM1, exit port, irqdev, test MMIO (model/devices) */
    struct sev *sev;          /* NULL in plain mode */
    /* The PSP device (config "psp"; docs/psp.md). Its PSP is the SNP launch's
     * (sev->psp) in mode snp, else psp_own on an RMP of its own (psp_rmp). */
    struct psp_mbox *psp_mbox;
    struct psp *psp_own;
    struct rmp *psp_rmp;
    struct guest_image img;   /* the guest image (copied) */
    uint8_t *img_data;
    struct inflight *inflight; /* messages on the wire (system.c) */
    void (*run_quantum)(void *slot); /* the composition's quantum (system.c) */
    const volatile sig_atomic_t *interrupt; /* snpref_options.interrupt */
    void (*progress)(void *ctx, uint64_t insns, uint64_t cycles);
    void *progress_ctx;

    bool done;
    struct snpref_result res;
    uint64_t insns_total;     /* at the last quantum boundary */
};

/* machine.c */
uint64_t sys_now(struct slot *s);           /* the vCPU's current simulated time */
void sys_charge(struct slot *s, uint64_t cycles);
uint64_t sys_tsc(struct slot *s);
struct slot *sys_slot(struct system *sys, struct vcpu *v);
void sys_finish(struct system *sys, enum snpref_outcome o, int vcpu, uint64_t rip,
                const char *reason);
/* Runs a quantum of vCPU s at simulated time at, unless one is scheduled. */
void sys_schedule(struct slot *s, uint64_t at);
/* A halted vCPU resumes (traced with reason). */
void sys_wake(struct slot *s, const char *reason);
/* The entry state of docs/guest-abi.md for vCPU idx at rip (a Linux boot: the
 * Linux loader's GDT, page tables and zero page). */
void sys_boot_state(struct system *sys, unsigned idx, uint64_t rip, struct vcpu_boot *b);
/* A port access of vCPU s, as an exit the hypervisor forwards to the devices;
 * *act becomes VCPU_STOP when it ends the run. */
void sys_pio(struct slot *s, uint16_t port, uint8_t size, bool in, uint64_t *data,
             enum vcpu_action *act);
/* An MMIO access of vCPU s outside RAM. */
void sys_mmio(struct slot *s, uint64_t gpa, unsigned size, bool write, uint64_t *val);

#endif
