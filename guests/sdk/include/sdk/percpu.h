/* SPDX-License-Identifier: MIT */
/*
 * Per-vCPU data and the boot-info block. Each vCPU points IA32_GS_BASE at its
 * own struct sdk_percpu (whose first field points to itself), so `this_cpu()`
 * is one %gs-relative load, works in any handler, and needs no APIC access
 * (which would be an intercepted RDMSR under the model). The struct also holds
 * the vCPU's GDT and TSS: they must be per-CPU because LTR marks the TSS
 * descriptor busy and each CPU needs its own IST stacks.
 */
#ifndef SDK_PERCPU_H
#define SDK_PERCPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <snpref/abi.h>

#define SDK_MAX_CPUS     SNP_MAX_VCPUS
#define SDK_PAGE_SIZE    4096u
#define SDK_STACK_SIZE   8192u     /* RSP0 and each IST stack */
#define SDK_IST_STACKS   3u        /* IST1 #DF, IST2 NMI, IST3 #MC (and tests) */

/* GDT selectors: the same as the loader's, plus our TSS. */
#define SDK_SEL_CODE   0x08
#define SDK_SEL_DATA   0x10
#define SDK_SEL_UCODE  0x18
#define SDK_SEL_UDATA  0x20
#define SDK_SEL_TSS    0x28
#define SDK_GDT_ENTRIES 7          /* null, 4 segments, 16-byte TSS descriptor */

struct __attribute__((packed)) sdk_tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];              /* ist[0] is IST1 */
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
};

struct sdk_percpu {
    struct sdk_percpu *self;      /* %gs:0, see this_cpu() */
    /* Exception try/fixup state (idt.h ASM_TRY); offsets are fixed for asm. */
    uint64_t try_rip;             /* %gs:8  faulting RIP the fixup applies to */
    uint64_t fixup_rip;           /* %gs:16 where to resume */
    int32_t ex_vector;            /* %gs:24 vector caught, -1 if none */
    uint32_t pad0;
    uint64_t ex_error_code;
    uint64_t ex_cr2;
    uint64_t ex_rip;

    uint32_t index;               /* vCPU index (RSI at entry) */
    uint32_t apic_id;
    uint64_t entry_rsp;           /* RSP and RFLAGS the loader/SIPI gave us */
    uint64_t entry_rflags;
    volatile uint32_t boot_count; /* times this vCPU entered the SDK */
    volatile uint32_t online;

    /* sdk_on_cpu() mailbox: a caller fills fn/arg, the target runs it and sets done. */
    void (*volatile call_fn)(void *);
    void *volatile call_arg;
    volatile uint32_t call_seq, call_done;

    uint64_t stack_base[1 + SDK_IST_STACKS];  /* RSP0, IST1.. (lowest address) */
    uint64_t gdt[SDK_GDT_ENTRIES] __attribute__((aligned(16)));
    struct sdk_tss tss __attribute__((aligned(16)));
    void *user;                   /* free for the guest */

    /* SEV-ES / SNP (sev.h); all zero in plain mode. */
    void *ghcb;                   /* this vCPU's GHCB (struct ghcb); NULL before setup */
    uint64_t ghcb_gpa;
    volatile uint32_t ghcb_depth; /* GHCB users on this vCPU; > 1 only when nested (NMI) */
    uint32_t ghcb_nested;         /* times a user found the GHCB taken and used a backup */
    void *ghcb_backup[3];         /* SDK_GHCB_BACKUPS saved pages for nested users */
    uint64_t dr7;                 /* DR7 as last written (the #VC handler's shadow) */
    void *vmsa;                   /* SNP: the VMSA page this vCPU was last created from */
    void *vmsa_old;               /* SNP: its predecessor, freed once no longer in use */
    uint32_t vc_count[20];        /* #VC taken, by exit code (vc.c) */
    /* Secure AVIC (savic.h): this vCPU's backing page, and whether it is enabled. */
    void *savic_page;
    volatile uint32_t savic_on;
} __attribute__((aligned(64)));

#define SDK_PCPU_TRY_RIP   "8"
#define SDK_PCPU_FIXUP_RIP "16"
#define SDK_PCPU_EX_VECTOR "24"

static inline struct sdk_percpu *this_cpu(void)
{
    struct sdk_percpu *p;
    __asm__ volatile("movq %%gs:0, %0" : "=r"(p));
    return p;
}

static inline unsigned sdk_cpu(void) { return this_cpu()->index; }

extern struct sdk_percpu sdk_percpu[SDK_MAX_CPUS];
extern const struct snp_bootinfo *sdk_bootinfo;

static inline unsigned sdk_cpu_count(void) { return sdk_bootinfo->vcpu_count; }
static inline uint32_t sdk_apic_id_of(unsigned cpu) { return sdk_bootinfo->apic_id[cpu]; }
static inline struct sdk_percpu *sdk_percpu_of(unsigned cpu) { return &sdk_percpu[cpu]; }

/*
 * Page allocator over the boot info's free RAM, bottom up. Exits on exhaustion.
 * Under SNP the pages it returns are private and validated: it accepts free RAM
 * ahead of itself (page-state change, then PVALIDATE; sev.h) in runs that end on
 * a 2 MiB boundary. Freed pages (any mode) go to a list that single-page
 * allocations use first, in the state they were freed in.
 */
void *sdk_alloc_pages(size_t npages);
/* npages starting at a multiple of align bytes (a power of two >= 4 KiB). */
void *sdk_alloc_pages_aligned(size_t npages, uint64_t align);
void sdk_free_pages(void *p, size_t npages);

/* Pointer to the 4 KiB PTE mapping va in the active page tables, NULL if va is
 * not mapped by a 4 KiB page (the loader maps the first 2 MiB with 4 KiB pages). */
uint64_t *sdk_pte_4k(uintptr_t va);
/* The same, splitting a 2 MiB or 1 GiB mapping of va into 4 KiB pages first
 * (same attributes; the new table comes from the allocator); NULL if unmapped. */
uint64_t *sdk_pte_4k_split(uintptr_t va);
/* Walks the active page tables: guest-physical address of va and the C-bit of
 * the leaf entry (*enc may be NULL). false if va is not mapped. Lock-free: the
 * #VC handler uses it for MMIO. */
bool sdk_virt_to_phys(uintptr_t va, uint64_t *gpa, bool *enc);
/* Identity-maps [gpa, gpa + size) as uncached MMIO (PCD|PWT, C=0), creating
 * tables as needed; returns the address to use. */
volatile void *sdk_map_mmio(uint64_t gpa, size_t size);
/* Sets or clears the C-bit of the 4 KiB PTEs of [va, va + npages pages),
 * splitting larger mappings, and flushes them from this vCPU's TLB. */
void sdk_set_cbit(uintptr_t va, size_t npages, bool enc);

#define PTE_P   (1ull << 0)
#define PTE_W   (1ull << 1)
#define PTE_U   (1ull << 2)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_PS  (1ull << 7)
#define PTE_NX  (1ull << 63)

#endif
