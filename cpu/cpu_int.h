/* SPDX-License-Identifier: MIT */
/*
 * Private state of the cpu module (see cpu.h). Shared by vcpu.c (engine, run
 * loop, hooks), decode.c (block decode, intercept table, self-modifying code),
 * paging.c (page walks at TLB fill), idt.c (event delivery) and fault.c
 * (exception classification).
 */
#ifndef SNPREF_CPU_INT_H
#define SNPREF_CPU_INT_H

#include <capstone/capstone.h>
#include <unicorn/unicorn.h>

#include "cpu.h"
#include "mem.h"
#include "rmp.h"
#include "snpref/sev.h"
#include "snpref/base.h"

#if UC_API_MAJOR < 2 || (UC_API_MAJOR == 2 && UC_API_MINOR < 1)
#error "snpref needs Unicorn >= 2.1: 2.0.x runs every guest store on the slow path (docs/unicorn.md)"
#endif

/* Turns a uc_err into a model bug (SNP_PANIC, snpref/base.h) with Unicorn's own text. */
#define UC_CHECK(call)                                                                             \
    do {                                                                                           \
        uc_err e_ = (call);                                                                        \
        if (unlikely(e_ != UC_ERR_OK))                                                             \
            SNP_PANIC("%s: %s", #call, uc_strerror(e_));                                          \
    } while (0)

/* What an intercepted address needs. */
enum icpt_kind {
    IK_NONE = 0,
    IK_RDMSR, IK_WRMSR, IK_RDPMC, IK_HLT, IK_MONITOR, IK_MWAIT, IK_WBINVD, IK_INVD,
    IK_INS, IK_OUTS,
    IK_IRET,              /* observed, not intercepted: ends NMI blocking */
    IK_FAR,               /* observed: a far transfer may change the code size (mode.c) */
    IK_SYSCALL, IK_SYSRET, /* performed by the CPU model (priv.c) */
    IK_RDPID,             /* performed by the CPU model: Unicorn raises #UD (priv.c) */
    IK_MOV_CR,            /* MOV to CR0/CR3/CR4: checked (ctlreg.c), then native */
    IK_CR8_RD, IK_CR8_WR, /* MOV from/to CR8: TPR lives in the model's APIC */
    IK_RDRAND,            /* RDRAND/RDSEED: the model's deterministic generator (priv.c) */
    /* Intercepted only under SEV-ES, where they raise #VC instead of running:
     * in plain mode Unicorn's own hooks serve CPUID, IN/OUT and RDTSC(P). */
    IK_CPUID, IK_RDTSC, IK_RDTSCP, IK_IN, IK_OUT, IK_DR7_RD, IK_DR7_WR,
};

/* A decoded translation block: what the block hook needs on every execution. */
struct blk {
    uint64_t pc;
    uint32_t size;
    uint16_t icount;      /* instructions in the block */
    bool dead;            /* dropped (its code page was written) */
    bool ends_in_int;     /* last instruction is INT n / INT3 / INTO / INT1 */
    bool ends_in_shadow;  /* last instruction is STI, MOV SS or POP SS */
    uint8_t int_vector;   /* its vector */
    uint8_t bits;         /* code size it was decoded with (16, 32, 64) */
    uint64_t page_gpa[2]; /* guest-physical pages the block's bytes lie on */
    uint64_t pfn[2];      /* their indexes in cpu_shared.code (npages: not RAM) */
    uint8_t seen[2];      /* their code-map values when the bytes were last read or compared */
    uint16_t *offs;       /* icount+1 instruction offsets (the last = size) */
    uint8_t *bytes;       /* the size bytes decoded (compared on WRITTEN pages) */
};

/* One slot of the direct-mapped cache in front of the block table: what the
 * block hook needs for a block seen before, in one cache line, so that the
 * common entry costs a few loads (issue 10: the hook ran at every block and
 * its table walk was half of a store-heavy kernel's host time). Only blocks
 * whose pages are not WRITTEN enter it, and a slot counts only while no page
 * turned WRITTEN since it was filled (its gen is mem.code_written then), so a
 * hit needs no byte comparison and a write costs no sweep of the slots. A slot is valid while its pc is not
 * BLK_HOT_NONE; it is cleared whenever its block dies (blk_stale) and all of
 * them when the table is rebuilt (blk_grow). */
#define BLK_HOT_SLOTS 4096u
#define BLK_HOT_NONE  UINT64_MAX
/* The gen of a slot that holds a watched block: never mem.code_written (see
 * cpu_shared_create), so the common entry always misses it, and the slot only
 * saves the full entry its table walk (a kernel's code beside data keeps some
 * pages WRITTEN: a tenth of Linux's block entries, issue 10). */
#define BLK_HOT_WATCHED UINT32_MAX
struct blk_hot {
    uint64_t pc;
    uint32_t gen;         /* mem.code_written when filled (it never wraps: vcpu.c) */
    uint32_t size;
    uint16_t icount;
    uint8_t bits;
    bool ends_in_shadow;
    struct blk *b;
};

static inline struct blk_hot *blk_hot_slot(struct blk_hot *tab, uint64_t pc)
{
    return &tab[(pc ^ (pc >> 10)) & (BLK_HOT_SLOTS - 1)];
}

/* An exact-address intercept. */
struct icpt {
    uint64_t va;
    enum icpt_kind kind;
    uint8_t len;
    uint8_t opsize;       /* INS/OUTS element size */
    bool rep;
    uint8_t addr_size;    /* 2, 4 or 8 */
    int16_t port;         /* IN/OUT: immediate port, or -1 for DX */
    uint8_t cr, gpr;      /* MOV CRn: the control register and the GPR (enum vcpu_reg order) */
    bool rex_w;           /* SYSRET: REX.W (return to 64-bit mode) */
    uc_hook hook;
    bool live;
};

/* The shared code-page map: which guest-physical pages hold decoded code. */
struct cpu_shared {
    struct mem *mem;
    uint8_t *code;        /* MEM_CODE_* per RAM page, plus one NONE (= mem->code) */
    uint64_t npages;
    struct vcpu **vcpus;  /* registered engines, for cross-engine invalidation */
    unsigned nvcpus, capvcpus;
};

/* A #PF (or other fault) found while filling the TLB, delivered after the engine stops. */
/* What a failed TLB fill leaves for the run loop. */
enum pg_fault {
    PGF_NONE,
    PGF_PF,               /* #PF, error in pf_error */
    PGF_GP,               /* #GP(0): non-canonical address */
    PGF_NPF,              /* SEV: RMP #NPF to the hypervisor (npf_error, npf_gpa) */
    PGF_VC,               /* SEV: #VC with vc_error (0x404 not validated, 0x400 MMIO) */
    PGF_UNBACKED,         /* no RAM and no MMIO there: shutdown */
};

struct pending_fault {
    bool valid;
    enum pg_fault kind;
    uint32_t error;       /* #PF error code, or the #VC error code */
    uint64_t npf_error, npf_gpa;
    uint64_t va;          /* page-aligned address the fill was for */
    uc_mem_type access;
};

/*
 * SEV-ES (no RMP): where a C=0 read of a private page is mapped. The engine
 * maps RAM as each page's owner reads it (plaintext); what an unencrypted
 * access sees there is DRAM, the owner's ciphertext (APM vol. 2 15.34.5: with
 * C=0 the memory controller neither decrypts nor encrypts). So such a read
 * goes to this read-only window over RAM, which answers with the hypervisor's
 * view (mem_hv_read). Above any RAM (1 TiB at most) and MMIO the model maps.
 */
#define VCPU_DRAM_VIEW_BASE (1ull << 46)

struct vcpu {
    unsigned index;
    uc_engine *uc;
    struct mem *mem;
    struct cpu_shared *shared;
    const struct vcpu_cb *cb;
    void *ctx;
    csh cs;               /* Capstone handle: block decode */
    csh cs_detail;        /* Capstone handle with operand detail: fault classification */
    uint64_t mmio_end;
    unsigned cbit_pos;    /* SEV: C-bit position, 0 = none */
    bool sev_es, snp;
    bool host_rmp;        /* RMPUPDATE / PSMASH are the model's (vcpu_config.host_rmp) */
    uint32_t asid;
    unsigned vmpl;

    /* run state */
    enum vcpu_stop stop;
    /* Inside an MMIO callback, where uc_emu_stop() would leave RIP at the
     * access and run it again (tests/unit/test_unicorn.c): a stop request
     * waits in stop_at_block for the next block boundary instead. */
    bool in_mmio, stop_at_block;
    /* Exact MMIO timing. RIP is not synced inside an MMIO callback, so the
     * first callback of an instruction ends the run there (mmio_discard: this
     * and the instruction's other callbacks, counted in mmio_n, are ignored;
     * the instruction has not retired). The run restarts at it, mmio_pc: its
     * first mmio_left callbacks, in a block starting at mmio_pc, are its own
     * and are performed at the exact count. */
    bool mmio_discard;
    unsigned mmio_n, mmio_left;
    uint64_t mmio_pc;
    uint64_t retired;     /* counted at block entry (whole block) */
    uint64_t rdrand_ctr;  /* RDRAND/RDSEED values drawn so far (priv.c) */
    uint64_t budget_end;
    bool irq_check;       /* ask cb->pending() at the next block boundary */
    bool nmi_blocked;     /* from NMI delivery until the next IRET */
    uint64_t shadow_pc;   /* the instruction in an STI / MOV SS interrupt shadow */
    uint64_t softint_rip; /* the INT n being delivered (vcpu.c on_intr), else UINT64_MAX */
    struct blk *cur;      /* block being executed (NULL before the first) */
    struct pending_fault fault;
    bool in_delivery;
    /* CPU mode (mode.c): code size of CS, CS base (hook addresses are linear,
     * RIP is CS-relative), and "re-read them at the next block". */
    unsigned code_bits;
    uint64_t cs_base;
    bool mode_check;
    uint64_t deliv_mark;  /* `retired` at the last event delivery */
    unsigned deliv_streak; /* consecutive deliveries with no instruction retired */
    uint64_t cr4_allowed; /* CR4 bits a MOV to CR4 may set */
    bool rdpid;           /* CPUID 7.0:ECX[22]: RDPID exists, else #UD */

    /* decode cache: open addressing, key (pc, size), behind blk_hot */
    struct blk_hot *blk_hot; /* BLK_HOT_SLOTS */
    struct blk **blk_tab;
    size_t blk_cap, blk_n;
    struct icpt *icpt_tab;
    size_t icpt_cap, icpt_n;

    struct vcpu_stats stats;
    uc_context *ctx_blob; /* scratch context for mode.c and ucquirk.c */
};

/* decode.c */
struct blk *blk_lookup(struct vcpu *v, uint64_t pc, uint32_t size);
/* Decodes a block seen for the first time; *restart is set when exact-address
 * hooks were added and the block must be retranslated before it runs. */
struct blk *blk_decode(struct vcpu *v, uint64_t pc, uint32_t size, bool *restart);
struct icpt *icpt_find(struct vcpu *v, uint64_t va);
/* Index of the instruction starting at va in b, or -1. */
int blk_insn_index(const struct blk *b, uint64_t va);
void decode_free(struct vcpu *v);
/* Puts a live block into its blk_hot slot (the block hook, after a table
 * hit); a watched one with the gen BLK_HOT_WATCHED. */
void blk_hot_fill(struct vcpu *v, struct blk *b);
/* Whether b's bytes may have changed since they were last read and must be
 * compared: one of its pages is WRITTEN, or changed state since (mem.h). */
static inline bool blk_watched(const struct vcpu *v, const struct blk *b)
{
    const uint8_t *c = v->shared->code;
    uint8_t c0 = c[b->pfn[0]], c1 = c[b->pfn[1]];
    return c0 != b->seen[0] || c1 != b->seen[1] || mem_code_written(c0) || mem_code_written(c1);
}
/* A watched block at its entry: true if its bytes in guest RAM differ from
 * its decode, after dropping b and the intercepts whose instruction bytes
 * changed (the caller then has the block retranslated). */
bool blk_stale(struct vcpu *v, struct blk *b);

/* vcpu.c: the up to 16 bytes of the instruction at rip the guest can read
 * (fewer before an unmapped page); returns how many, 0 if none. */
size_t cpu_fetch_insn(struct vcpu *v, uint64_t rip, uint8_t buf[16]);

/* paging.c, paging32.c: page-table entry bits (SDM vol. 3 4.3-4.5). */
#define PTE_P   (1ull << 0)
#define PTE_RW  (1ull << 1)
#define PTE_US  (1ull << 2)
#define PTE_A   (1ull << 5)
#define PTE_D   (1ull << 6)
#define PTE_PS  (1ull << 7)
#define PTE_NX  (1ull << 63)

/* paging.c */
enum pg_access { PG_READ, PG_WRITE, PG_FETCH };
struct pg_result {
    uint64_t gpa;         /* physical address of va (C-bit stripped) */
    bool c_bit;           /* SEV: the leaf maps va encrypted (private) */
    enum pg_fault fault;  /* when the walk fails */
    uint32_t pf_error;    /* PGF_PF: #PF error code; PGF_VC: #VC error code */
    uint64_t npf_error, npf_gpa;
    bool writable, executable, user, dirty;
};
/* Who makes an access (SDM vol. 3 4.6): code at CPL 3, code at CPL 0-2 (SMAP
 * then follows RFLAGS.AC), or the CPU itself on system structures and event
 * frames (implicit supervisor accesses: SMAP applies whatever AC says). */
enum pg_priv { PG_SUPER = 0, PG_USER = 1, PG_IMPLICIT = 2 };
/* Walks the guest page tables; returns 0, or -1 with r->fault. Sets A/D bits as
 * the hardware would when set_ad is true. Under SNP every table read is checked
 * against the RMP as a private access (docs/sev-snp-facts.md 6.2). */
int pg_walk(struct vcpu *v, uint64_t va, enum pg_access acc, enum pg_priv priv, bool set_ad,
            struct pg_result *r);
/* Whether a leaf whose walk accumulated rw, us and nx refuses the access (SDM
 * vol. 3 4.6: U/S, SMAP with RFLAGS.AC for explicit supervisor accesses only,
 * R/W with CR0.WP, NX, SMEP): the one rule of every walk, long mode or not. */
bool pg_denied(struct vcpu *v, enum pg_access acc, enum pg_priv priv, bool rw, bool us, bool nx);
/* The model's own accesses to guest linear memory, each with the permissions
 * of the access the hardware would make: LIN_FETCH re-reads instruction bytes
 * as a fetch at the current CPL, LIN_DATA is an instruction's data access at
 * the current CPL (INS/OUTS, a faulting operand), LIN_IMPLICIT a supervisor
 * access to system structures and event frames. Same results as vcpu_read_lin. */
enum lin_kind { LIN_IMPLICIT, LIN_DATA, LIN_FETCH };
int lin_read(struct vcpu *v, uint64_t va, void *dst, size_t len, enum lin_kind k,
             uint32_t *pf_error, uint64_t *fault_va);
int lin_write(struct vcpu *v, uint64_t va, const void *src, size_t len, enum lin_kind k,
              uint32_t *pf_error, uint64_t *fault_va);
bool pg_tlb_fill(uc_engine *uc, uint64_t va, uc_mem_type type, uc_tlb_entry *e, void *ud);

/* idt.c */
int idt_deliver(struct vcpu *v, const struct vcpu_event *ev);

/* fault.c */
/* Error code for a #GP/#NP/#SS/#TS raised by the engine at rip (0 if none applies). */
uint32_t fault_error_code(struct vcpu *v, unsigned vector, uint64_t rip);
/* The exact linear address of a data fault on `page` by the instruction at rip. */
uint64_t fault_linear_address(struct vcpu *v, uint64_t rip, uint64_t page, uc_mem_type acc);

/* mode.c: segment registers in QEMU's order (R_ES..R_GS). */
enum { SR_ES, SR_CS, SR_SS, SR_DS, SR_FS, SR_GS };
void mode_init(void);
/* Saves the engine's CPU state into v->ctx_blob and returns it. */
unsigned char *mode_blob_save(struct vcpu *v);
/* Re-reads the code size and CS base (after anything that loaded CS). */
void mode_refresh(struct vcpu *v);
/* Loads the hidden parts of the non-NULL entries (indexed SR_*); the CPL
 * follows SS.DPL when SS is loaded, as in QEMU's segment loads. */
void mode_set_segs(struct vcpu *v, const struct vmcb_seg *segs[6]);
/* The same, then the CPL set to cpl (priv.c). */
void mode_set_segs_cpl(struct vcpu *v, const struct vmcb_seg *segs[6], unsigned cpl);
/* VMCB segment attributes (descriptor bits 47:40 in [7:0], 55:52 in [11:8]) to
 * and from QEMU's segment flags (the descriptor's high dword). */
uint32_t flags_of_attrib(uint16_t a);
uint16_t attrib_of_flags(uint32_t f);
/* The segment a GDT/LDT descriptor d describes (SDM vol. 3 3.4.5). */
struct vmcb_seg seg_of_desc(uint16_t sel, uint64_t d);
/* struct vmcb_seg attribute bits (descriptor bits 47:40 in [7:0], 55:52 in [11:8]). */
#define SEGA_A         (1u << 0)
#define SEGA_W         (1u << 1)    /* data: writable; code: readable */
#define SEGA_C         (1u << 2)    /* code: conforming */
#define SEGA_CODE      (1u << 3)
#define SEGA_S         (1u << 4)
#define SEGA_DPL_SHIFT 5
#define SEGA_P         (1u << 7)
#define SEGA_L         (1u << 9)
#define SEGA_DB        (1u << 10)
#define SEGA_G         (1u << 11)
void mode_load_real_seg(struct vcpu *v, enum vcpu_sreg r, uint16_t sel);
int mode_set_control(struct vcpu *v, uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer,
                     const char **why);

/* idt.c / idt_legacy.c: a fault found while delivering an event. */
struct nested {
    uint8_t vector;
    uint32_t error;
    bool has_error;
    uint64_t cr2;
};
/* Delivery outside long mode: the real-mode IVT or 32-bit protected-mode gates. */
int idt_deliver_legacy(struct vcpu *v, const struct vcpu_event *ev, struct nested *f);

/* paging32.c: the walk outside long mode (32-bit and PAE paging). */
int pg_walk32(struct vcpu *v, uint64_t va, enum pg_access acc, enum pg_priv priv, bool set_ad,
              struct pg_result *r);

/* ucquirk.c */
void ucq_init(void);
/* Clears Unicorn's "exception in flight" latch after the model delivered a
 * fault the engine raised (else the next one would arrive as #DF). */
void ucq_clear_old_exception(struct vcpu *v);

/* priv.c: the one place where the model changes privilege level */
/* Sets CS, SS (unless NULL) and the CPL together, descriptor caches included
 * (mode.c's segment loads, then the CPL: SYSRET and VMRUN load a CPL that is
 * not SS.DPL). */
void cpu_set_cs_ss(struct vcpu *v, const struct vmcb_seg *cs, const struct vmcb_seg *ss,
                   unsigned cpl);
/* Reads the GDT descriptor of sel (an implicit supervisor access); false if
 * sel is null, in the LDT, beyond the limit or unreadable. */
bool cpu_gdt_desc(struct vcpu *v, uint16_t sel, uint64_t *desc);
/* CS and SS from their GDT descriptors (a null or unreadable SS loads as a
 * null SS), with the CPL: VMRUN. Keeps the engine's caches when the CS
 * descriptor cannot be read. */
void cpu_load_cs_ss_from_gdt(struct vcpu *v, uint16_t cs_sel, uint16_t ss_sel, unsigned cpl);

/* What the CPU does with an instruction it checks or performs itself. */
enum insn_result {
    INSN_DONE,            /* performed: RIP and state are set */
    INSN_NATIVE,          /* valid: let the engine execute it */
    INSN_UD,              /* raise #UD */
    INSN_GP,              /* raise #GP(0) */
};
enum insn_result cpu_syscall(struct vcpu *v, uint64_t next_rip);
/* The fault an intercepted instruction raises before its intercept is even
 * considered (APM vol. 2 15.7: CPL, IOPL and CR4.TSD/PCE checks come first);
 * INSN_NATIVE when it reaches the intercept. */
enum insn_result cpu_icpt_check(struct vcpu *v, const struct icpt *c);
enum insn_result cpu_sysret(struct vcpu *v, bool rex_w);
/* RDRAND/RDSEED into GPR gpr (0-15) with operand size opsize (2, 4, 8). */
enum insn_result cpu_rdrand(struct vcpu *v, unsigned gpr, unsigned opsize, uint64_t next_rip);
/* RDPID into GPR gpr (enum vcpu_reg order), then RIP = next_rip. */
enum insn_result cpu_rdpid(struct vcpu *v, unsigned gpr, uint64_t next_rip);

/* ctlreg.c: MOV to CR0/CR3/CR4 (APM vol. 2 3.1; SDM vol. 2 "MOV to/from
 * Control Registers"): INSN_NATIVE when the engine may perform it, else #GP. */
enum insn_result cpu_mov_to_cr(struct vcpu *v, unsigned cr, uint64_t val);
/* The CR4 bits this CPU implements (vcpu_config.cr4_allowed = 0). */
uint64_t cpu_cr4_implemented(void);

/* vcpu.c */
uint64_t vcpu_read_reg(struct vcpu *v, int uc_reg);
void vcpu_write_reg(struct vcpu *v, int uc_reg, uint64_t val);

#endif
