/* SPDX-License-Identifier: MIT */
/*
 * One vCPU: a Unicorn engine over the shared guest RAM (docs/design.md sections 1-2).
 * This is the only module that includes Unicorn.
 *
 * The CPU reaches the rest of the system only through struct vcpu_cb, which
 * the model implements (the Spike simif_t shape): an intercepted instruction
 * becomes cb->intercept() with the SVM exit code and exit information a VM exit
 * would carry; at instruction boundaries where an interrupt may be taken the CPU
 * asks cb->pending(); every exception or interrupt it delivers through the
 * guest IDT is reported through cb->delivered(). cpu/ never includes model/.
 *
 * Instruction accounting is per translated block (a block hook), never with
 * Unicorn's `count` argument, and is exact at every callback (vcpu_insns()).
 */
#ifndef SNPREF_CPU_H
#define SNPREF_CPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "svm.h"

struct mem;
struct vcpu;
struct cpu_shared;

/* General-purpose and control registers the model may read or write. */
enum vcpu_reg {
    VR_RAX, VR_RCX, VR_RDX, VR_RBX, VR_RSP, VR_RBP, VR_RSI, VR_RDI,
    VR_R8, VR_R9, VR_R10, VR_R11, VR_R12, VR_R13, VR_R14, VR_R15,
    VR_RIP, VR_RFLAGS, VR_CR0, VR_CR2, VR_CR3, VR_CR4, VR_CR8, VR_EFER, VR_DR7,
    VR_COUNT
};

/* An intercepted instruction, as the exit the hypervisor would see. */
struct vcpu_exit {
    uint64_t code;        /* SVM_EXIT_* */
    uint64_t info1;       /* EXITINFO1: IOIO info, MSR 0 = read / 1 = write, ... */
    uint64_t info2;       /* EXITINFO2: next RIP for IOIO */
    uint64_t rip;         /* the instruction */
    uint64_t next_rip;    /* the instruction after it */
    const char *name;     /* mnemonic, for traces */
    /* Port I/O, decoded (IOIO only). For IN the model stores the result in data. */
    uint16_t port;
    uint8_t size;         /* 1, 2 or 4 */
    bool in, string, rep;
    uint64_t data;
    /* Filled by the model when it answers VCPU_RAISE. */
    uint8_t exc_vector;
    bool exc_has_error;
    uint32_t exc_error;
    uint64_t exc_cr2;     /* #PF */
};

/* What the CPU does after cb->intercept(). */
enum vcpu_action {
    VCPU_NEXT,            /* emulated: continue at next_rip */
    VCPU_HALT,            /* continue at next_rip, but park the vCPU (HLT) */
    VCPU_STOP,            /* continue at next_rip, and end vcpu_run() now */
    VCPU_RAISE,           /* deliver exception exc_vector (RIP stays on the instruction) */
    VCPU_RAISE_TRAP,      /* the instruction completed: deliver exc_vector with RIP after it */
    VCPU_RESTARTED,       /* the model changed the vCPU's state itself (e.g. INIT) */
    VCPU_RETRY,           /* run the instruction again (e.g. after a PSMASH) */
};

/*
 * Not SVM exits: instructions the model executes for the CPU under SNP
 * (cb->intercept receives them like exits). The CPU has translated the guest
 * virtual address in RAX: info1 = the guest-physical address, info2 = ECX
 * (page size) for PVALIDATE and RCX for RMPADJUST; RDX stays in the register.
 * The model sets RAX (and CF for PVALIDATE) and answers VCPU_NEXT.
 */
#define VCPU_INSN_PVALIDATE 0x100000001ull
#define VCPU_INSN_RMPADJUST 0x100000002ull
/*
 * The SNP host's RMP instructions, only for a vCPU whose config grants them
 * (host_rmp; #UD otherwise). RMPUPDATE: info1 = RAX (system-physical page),
 * info2 = bytes 0-7 and data = bytes 8-15 of the 16-byte rmp_state the CPU
 * read at the linear address in RCX (Linux struct rmp_state: gpa; assigned,
 * pagesize, immutable bytes; asid). PSMASH: info1 = RAX. The model sets RAX
 * to the status and answers VCPU_NEXT.
 */
#define VCPU_INSN_RMPUPDATE 0x100000003ull
#define VCPU_INSN_PSMASH    0x100000004ull

enum vcpu_event_type { VEV_EXTINT, VEV_NMI, VEV_EXCEPTION, VEV_SOFTINT };

/* An event to deliver through the guest IDT. */
struct vcpu_event {
    enum vcpu_event_type type;
    uint8_t vector;
    bool has_error;
    uint32_t error;
    uint64_t cr2;         /* #PF only */
};

/* Event deliveries in a row without a retired instruction: the next one
 * shuts the vCPU down instead (cb->shutdown). A fault that recurs at its own
 * handler's first instruction would otherwise loop forever. */
#define VCPU_NO_PROGRESS 10000

/* Why vcpu_run() returned. */
enum vcpu_stop {
    VCPU_RUNNING = 0,
    VCPU_STOP_QUANTUM,    /* the instruction budget is used up */
    VCPU_STOP_HALT,       /* HLT: park until an interrupt (RIP is after HLT) */
    VCPU_STOP_REQUEST,    /* the model asked (exit port, INIT, vcpu_request_stop) */
    VCPU_STOP_SHUTDOWN,   /* triple fault, an access the model cannot satisfy, or
                             VCPU_NO_PROGRESS deliveries in a row with no
                             instruction retired */
};

/* The model's side of the interface. ctx is vcpu_config.cb_ctx. */
struct vcpu_cb {
    /* An intercepted instruction; see enum vcpu_action. */
    enum vcpu_action (*intercept)(void *ctx, struct vcpu *v, struct vcpu_exit *e);
    /*
     * At an instruction boundary: is there an event to take now? allow_intr is
     * RFLAGS.IF, allow_nmi is "NMI not blocked". Return 1 and fill *ev (already
     * acknowledged at the source) to deliver it, 0 if nothing is pending, -1 if
     * something is pending but blocked (the CPU asks again at later boundaries).
     */
    int (*pending)(void *ctx, struct vcpu *v, bool allow_intr, bool allow_nmi,
                   struct vcpu_event *ev);
    /* The CPU delivered ev through the IDT; rip is the RIP it pushed. */
    void (*delivered)(void *ctx, struct vcpu *v, const struct vcpu_event *ev, uint64_t rip);
    /* The vCPU shut down (triple fault, ...); reason is a static string. */
    void (*shutdown)(void *ctx, struct vcpu *v, const char *reason, uint64_t rip);
    /*
     * SEV: a nested page fault the RMP check raised (docs/sev-snp-facts.md 6.2): error is
     * the NPF EXITINFO1 (NPF_* of memory/rmp.h), gpa the faulting guest-physical
     * address. The model answers VCPU_RETRY (it fixed the cause, e.g. PSMASH or
     * an implicit page-state change), or VCPU_STOP (it ended the run).
     */
    enum vcpu_action (*npf)(void *ctx, struct vcpu *v, uint64_t gpa, uint64_t error);
    /* A guest access to guest-physical memory outside RAM (MMIO space). */
    uint64_t (*mmio_read)(void *ctx, struct vcpu *v, uint64_t gpa, unsigned size);
    void (*mmio_write)(void *ctx, struct vcpu *v, uint64_t gpa, unsigned size, uint64_t val);
};

struct vcpu_config {
    unsigned index;
    struct mem *mem;
    struct cpu_shared *shared;
    const struct vcpu_cb *cb;
    void *cb_ctx;
    uint64_t mmio_end;        /* guest-physical [ram size, mmio_end) is MMIO; above: no memory */
    uint32_t tcg_buffer_mb;   /* Unicorn translation buffer per engine */
    /* CR4 bits a MOV to CR4 may set: what the guest's CPUID reports
     * (vcpu_cr4_allowed_by_cpuid); 0 = every bit this CPU implements. */
    uint64_t cr4_allowed;
    /* SEV-ES / SNP (all 0 in plain mode) */
    unsigned cbit_pos;        /* C-bit in guest PTEs (51), 0 = no encryption */
    bool sev_es;              /* intercepts raise #VC; IRET does not end NMI blocking */
    bool snp;                 /* RMP checks at TLB fill (mem->rmp); PVALIDATE, RMPADJUST */
    bool host_rmp;            /* RMPUPDATE, PSMASH executable (an SNP host; plain mode) */
    uint32_t asid;
    unsigned vmpl;
};

/* State every vCPU engine shares: which guest pages hold decoded code. */
struct cpu_shared *cpu_shared_create(struct mem *mem);
void cpu_shared_destroy(struct cpu_shared *s);

/* Returns NULL with a message in err. */
struct vcpu *vcpu_create(const struct vcpu_config *cfg, char *err, size_t errlen);
void vcpu_destroy(struct vcpu *v);
unsigned vcpu_index(const struct vcpu *v);

/* The mode a start state names (SDM vol. 3 9.1, 9.8-9.9). */
enum vcpu_boot_mode {
    VCPU_BOOT_LONG64 = 0,     /* 64-bit code, CS/DS flat (the guest ABI's entry) */
    VCPU_BOOT_PROT32,         /* 32-bit protected mode, CS/DS flat 4 GiB (multiboot) */
    VCPU_BOOT_REAL,           /* real mode: CS:IP = cs:rip, segment bases = selector << 4 */
};

/* A start state, as a VMSA or a boot loader would leave it: the boot state of
 * docs/guest-abi.md (LONG64), a multiboot entry (PROT32, paging off, EAX/EBX
 * the magic and info), or real mode. CR0/EFER must name the mode. */
struct vcpu_boot {
    enum vcpu_boot_mode mode;
    uint64_t rip, rsp, rdi, rsi, rax, rbx, rdx, rflags;
    uint64_t cr0, cr3, cr4, efer;
    uint64_t gdt_base;
    uint16_t gdt_limit;
    uint16_t cs, ds;          /* ES, FS, GS, SS get ds; hidden parts as the mode says */
};
int vcpu_set_boot_state(struct vcpu *v, const struct vcpu_boot *b, char *err, size_t errlen);

/*
 * Runs the vCPU for up to `budget` more instructions (a quantum). Stops at the
 * first block boundary at or after the budget, or earlier (enum vcpu_stop).
 */
enum vcpu_stop vcpu_run(struct vcpu *v, uint64_t budget);
/* Shortens the running quantum to end within `insns` more instructions. */
void vcpu_limit(struct vcpu *v, uint64_t insns);
/* From a callback: end vcpu_run() after the current instruction. */
void vcpu_request_stop(struct vcpu *v);
/* Ask the CPU to call cb->pending() at the next instruction boundary. */
void vcpu_kick(struct vcpu *v);

/* Instructions retired so far (exact, also inside callbacks). */
uint64_t vcpu_insns(const struct vcpu *v);

uint64_t vcpu_get(struct vcpu *v, enum vcpu_reg r);
void vcpu_set(struct vcpu *v, enum vcpu_reg r, uint64_t val);
/* Architectural MSRs the engine itself holds (EFER, STAR, LSTAR, CSTAR, SFMASK,
 * FS/GS/KERNEL_GS base, SYSENTER_*, PAT, TSC_AUX). false if it holds no such MSR. */
bool vcpu_msr_get(struct vcpu *v, uint32_t msr, uint64_t *val);
bool vcpu_msr_set(struct vcpu *v, uint32_t msr, uint64_t val);
/* Whether a guest WRMSR of val to msr passes the CPU's own checks (EFER
 * reserved bits and LME while paging, canonical bases and SYSCALL targets, PAT
 * types, TSC_AUX): false means #GP. True for MSRs the CPU does not check. */
bool vcpu_msr_valid(struct vcpu *v, uint32_t msr, uint64_t val);
/* The CR4 bits CPUID leaves 1 and 7.0 make legal (for vcpu_config.cr4_allowed). */
uint64_t vcpu_cr4_allowed_by_cpuid(uint32_t l1_ecx, uint32_t l1_edx, uint32_t l7_ebx,
                                   uint32_t l7_ecx);
/* Current privilege level (CS.RPL in long mode; the engine's hidden CPL
 * always agrees, cpu/priv.c). */
unsigned vcpu_cpl(struct vcpu *v);

/* Interrupt state the model needs for HLT and NMI decisions. */
bool vcpu_if(struct vcpu *v);
bool vcpu_nmi_blocked(const struct vcpu *v);
/* SEV-ES: the guest signalled NMI_COMPLETE. */
void vcpu_nmi_unblock(struct vcpu *v);

/* The RMP or the guest's page-table mappings changed: drop every engine's TLB. */
void cpu_shared_flush_tlbs(struct cpu_shared *s);

/* SEV-ES/SNP world switch: the vCPU's state to and from its VMSA (a struct
 * sev_vmsa of include/snpref/sev.h). */
struct sev_vmsa;
void vcpu_save_vmsa(struct vcpu *v, struct sev_vmsa *vmsa);
/* Returns 0, or -1 with *why when the state cannot run (VMRUN fails: the
 * model reports VMEXIT_INVALID). */
int vcpu_load_vmsa(struct vcpu *v, const struct sev_vmsa *vmsa, const char **why);

/* Delivers ev now (at an instruction boundary): faults nest into #DF and a
 * fault while delivering #DF shuts the vCPU down (returns -1). */
int vcpu_deliver(struct vcpu *v, const struct vcpu_event *ev);

/*
 * Guest linear memory as the vCPU sees it, with the permissions of an implicit
 * supervisor access (SDM vol. 3 4.6: user pages are out of reach under SMAP
 * whatever RFLAGS.AC says).
 * Returns 0, or -1 with *pf_error and *fault_va set to the #PF it would raise.
 */
int vcpu_read_lin(struct vcpu *v, uint64_t va, void *dst, size_t len, uint32_t *pf_error,
                  uint64_t *fault_va);
int vcpu_write_lin(struct vcpu *v, uint64_t va, const void *src, size_t len, uint32_t *pf_error,
                   uint64_t *fault_va);

/* INS/OUTS: performs every element of the string instruction of e through
 * io(ctx, port, size, in, &data), updating RSI/RDI/RCX. Returns 0, or -1 with a
 * #PF to raise in e (exc_*). */
typedef void (*vcpu_pio_fn)(void *ctx, struct vcpu *v, uint16_t port, uint8_t size, bool in,
                            uint64_t *data);
int vcpu_string_io(struct vcpu *v, struct vcpu_exit *e, vcpu_pio_fn io, void *ctx);

/* A plain-mode SIPI with vector V after INIT: real mode at CS:IP = (V << 8):0
 * with the rest of the INIT state (cpu/mode.c). */
void vcpu_sipi(struct vcpu *v, uint8_t vector);

/* Segment registers with their hidden parts, in VMCB form (struct vmcb_seg of
 * include/snpref/sev.h). vcpu_set_seg loads the hidden part as given, as VMRUN
 * loads a VMCB segment: no descriptor-table read. */
struct vmcb_seg;
enum vcpu_sreg { VCPU_ES, VCPU_CS, VCPU_SS, VCPU_DS, VCPU_FS, VCPU_GS };
void vcpu_get_seg(struct vcpu *v, enum vcpu_sreg r, struct vmcb_seg *s);
void vcpu_set_seg(struct vcpu *v, enum vcpu_sreg r, const struct vmcb_seg *s);
/* The code size of the current CS: 16, 32 or 64. */
unsigned vcpu_code_bits(struct vcpu *v);

/* Puts the vCPU into wait-for-SIPI (INIT): registers to their INIT values. */
void vcpu_init_reset(struct vcpu *v);

/* Statistics. smc_redecodes: blocks whose bytes had changed when they were
 * entered (self- or cross-modifying code, or a model write), decoded again. */
struct vcpu_stats {
    uint64_t insns, blocks_decoded, intercepts, exceptions, interrupts, tlb_fills, smc_redecodes;
};
void vcpu_get_stats(const struct vcpu *v, struct vcpu_stats *s);

/* Benchmarks only: runs the function at rip (RDI = arg) in a bare engine over
 * m, without paging, until it returns to ret_gpa. With block_hook, one
 * UC_HOOK_BLOCK that only counts blocks is added: the least any model that
 * accounts instructions per block pays (*blocks: how many ran). 0, or -1 with err. */
int cpu_run_bare(struct mem *m, bool block_hook, uint64_t *blocks, uint64_t rip, uint64_t arg,
                 uint64_t stack_top, uint64_t ret_gpa,
                 char *err, size_t errlen);

/* Exception mnemonic ("#GP") or "INT". */
const char *x86_vector_name(unsigned vector);

#endif
