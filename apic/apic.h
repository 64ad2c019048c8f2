/* SPDX-License-Identifier: MIT */
/*
 * The local APIC register page and the x2APIC register semantics every fabric
 * shares (Intel SDM vol. 3 chapter 10, section 10.12 "Extended XAPIC (x2APIC)";
 * AMD APM vol. 2 chapter 16). One struct apic per vCPU, shaped after Linux KVM
 * arch/x86/kvm/lapic.c: `regs` is a 4 KiB page laid out exactly like the
 * hardware APIC page (32-bit registers in 16-byte slots, the x2APIC MSR
 * 0x800 + n living at offset n * 16), and every access goes through the small
 * accessors below. The page pointer may point anywhere: the emulated fabric
 * owns its pages, a Secure AVIC fabric points it at the guest's backing page.
 * Time, wires and traces are not here: the fabric composes these helpers with
 * its host (fabric.h).
 */
#ifndef SNPREF_APIC_H
#define SNPREF_APIC_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fabric.h"
#include "lapic_timer.h"

#define APIC_PAGE_SIZE 4096u

/* Register offsets in the page (SDM Table 10-1 / 10-6, AMD APM Table 16-2). */
#define APIC_ID       0x20
#define APIC_LVR      0x30
#define APIC_TPR      0x80
#define APIC_APR      0x90 /* not in x2APIC: #GP */
#define APIC_PPR      0xA0
#define APIC_EOI      0xB0
#define APIC_RRD      0xC0 /* not in x2APIC: #GP */
#define APIC_LDR      0xD0
#define APIC_DFR      0xE0 /* not in x2APIC: #GP */
#define APIC_SPIV     0xF0
#define APIC_ISR      0x100 /* 8 registers, vectors 32i..32i+31 at 0x100 + 0x10 i */
#define APIC_TMR      0x180
#define APIC_IRR      0x200
#define APIC_ESR      0x280
#define APIC_LVTCMCI  0x2F0 /* Intel only: #GP here (AMD has no CMCI) */
#define APIC_ICR      0x300 /* ICR[31:0] */
#define APIC_ICR2     0x310 /* ICR[63:32]: the page keeps the xAPIC split; MSR 0x831 is #GP */
#define APIC_LVTT     0x320
#define APIC_LVTTHMR  0x330
#define APIC_LVTPC    0x340
#define APIC_LVT0     0x350
#define APIC_LVT1     0x360
#define APIC_LVTERR   0x370
#define APIC_TMICT    0x380
#define APIC_TMCCT    0x390
#define APIC_TDCR     0x3E0
#define APIC_SELF_IPI 0x3F0 /* x2APIC only: reserved in xAPIC mode */
#define APIC_ICR_LOW  APIC_ICR  /* xAPIC names of the two ICR halves (SDM Figure 10-12) */
#define APIC_ICR_HIGH APIC_ICR2

/* MSRs. x2APIC register at offset off is MSR 0x800 + (off >> 4) (SDM 10.12.1.2). */
#define APIC_MSR_BASE 0x800u
#define APIC_MSR_LAST 0x8FFu
#define APIC_MSR(off) (APIC_MSR_BASE + ((unsigned)(off) >> 4))
#ifndef MSR_IA32_APICBASE
#define MSR_IA32_APICBASE 0x1Bu
#endif
#ifndef MSR_IA32_TSC_DEADLINE
#define MSR_IA32_TSC_DEADLINE 0x6E0u
#endif

/* IA32_APIC_BASE (SDM Figure 10-26). Bits 51:12 are the base (MAXPHYADDR 52). */
#define APIC_BASE_BSP          (1ull << 8)
#define APIC_BASE_EXTD         (1ull << 10)
#define APIC_BASE_EN           (1ull << 11)
#define APIC_BASE_ADDR_MASK    0x000FFFFFFFFFF000ull
#define APIC_BASE_ADDR_DEFAULT 0xFEE00000ull
/* The xAPIC register page is 4 KiB at the base (SDM 10.4.1). */
#define APIC_MMIO_SIZE 0x1000u

/* The mode IA32_APIC_BASE's EN and EXTD select (SDM Table 10-5). */
enum apic_mode {
    APIC_MODE_DISABLED = 0,                              /* EN = 0, EXTD = 0 */
    APIC_MODE_INVALID = 1,                               /* EN = 0, EXTD = 1 */
    APIC_MODE_XAPIC = 2,                                 /* EN = 1, EXTD = 0 */
    APIC_MODE_X2APIC = 3,                                /* EN = 1, EXTD = 1 */
};

/* Version: 0x15, max LVT entry 5 (six LVTs, no CMCI), bit 24 = 0: no directed
 * EOI, so SPIV bit 12 (EOI-broadcast suppression) is reserved (SDM 10.8.5). */
#define APIC_LVR_VALUE 0x00050015u

#define APIC_SPIV_VECTOR         0xFFu
#define APIC_SPIV_APIC_ENABLED   (1u << 8)
#define APIC_SPIV_FOCUS_DISABLED (1u << 9) /* AMD "FCC"; stored, no effect here */

#define APIC_VECTOR_MASK     0xFFu
#define APIC_LVT_DM_MASK     (7u << 8)
#define APIC_LVT_DS          (1u << 12) /* delivery status: read-only, always 0 */
#define APIC_LVT_POLARITY    (1u << 13)
#define APIC_LVT_REMOTE_IRR  (1u << 14) /* read-only, always 0 (no LINT sources) */
#define APIC_LVT_LEVEL       (1u << 15)
#define APIC_LVT_MASKED      (1u << 16)
#define APIC_LVT_TIMER_SHIFT 17
#define APIC_LVT_TIMER_MASK  (3u << APIC_LVT_TIMER_SHIFT)

/* ESR bits (SDM Figure 10-9). In x2APIC an illegal register access is a #GP,
 * never ESR bit 7. */
#define APIC_ESR_SEND_ILLEGAL (1u << 5)
#define APIC_ESR_RECV_ILLEGAL (1u << 6)
#define APIC_ESR_ILLEGAL_REG  (1u << 7) /* xAPIC: access to a reserved offset */

/* xAPIC ID in ID[31:24]; logical ID in LDR[31:24]; DFR[31:28] the model:
 * 1111b flat, 0000b cluster, bits 27:0 read as 1 (SDM 10.4.6, 10.6.2.2). */
#define APIC_XAPIC_ID_SHIFT 24
#define APIC_DFR_FLAT       0xFFFFFFFFu
#define APIC_DFR_MODEL_MASK 0xF0000000u
#define APIC_XAPIC_BROADCAST 0xFFu

/* ICR fields (SDM Figure 10-28, docs/sev-snp-facts.md section 11). */
#define APIC_ICR_DM_SHIFT      8
#define APIC_ICR_DEST_LOGICAL  (1ull << 11)
#define APIC_ICR_DS            (1ull << 12) /* removed in x2APIC: reserved */
#define APIC_ICR_LEVEL_ASSERT  (1ull << 14)
#define APIC_ICR_TRIGGER_LEVEL (1ull << 15)
#define APIC_ICR_SH_SHIFT      18
#define APIC_ICR_DEST_SHIFT    32
/* Bits software may set: 7:0, 10:8, 11, 14, 15, 19:18, 63:32. */
#define APIC_ICR_WRITABLE 0xFFFFFFFF000CCFFFull

#define APIC_DEST_BROADCAST 0xFFFFFFFFu

/* ---- One APIC ------------------------------------------------------------ */

struct apic {
    /* The 4 KiB register page (owned by the fabric, or guest RAM). */
    uint8_t *regs;
    /* The x2APIC ID (read-only, the full 32 bits). Authoritative copy: a page in
     * guest RAM may be scribbled on, this may not. */
    uint32_t id;
    /* IA32_APIC_BASE: EN, EXTD, BSP and the base of the xAPIC page. */
    uint64_t base_msr;
    /* Bits 12..MAXPHYADDR-1 of IA32_APIC_BASE (the rest above 11 is reserved). */
    uint64_t base_addr_mask;
    /* The mode a power-on reset leaves (xAPIC or x2APIC), and whether xAPIC
     * mode exists at all here (false for a fabric without the MMIO page). */
    enum apic_mode power_on_mode;
    bool xapic_capable;
    bool x2apic_capable;      /* false: CPUID reports no x2APIC, EXTD is #GP */
    /*
     * Highest vector set in ISR, or -1 meaning "unknown: scan the page".
     * Invariant: whenever it is not -1 it equals apic_find_highest_vec(ISR).
     * Setting an ISR bit may raise it, clearing one resets it to -1, and code
     * that changes ISR behind the accessors (a guest-owned page) must reset it.
     */
    int highest_isr_cache;
    /* Errors detected since the last ESR write; the write latches them into the
     * readable ESR (SDM 10.5.3). */
    uint32_t esr_pending;
    /*
     * Non-vectored events are latched, not counted: a second NMI while one is
     * latched collapses into it (SDM 6.7.1, 10.6.1). ExtINT's vector comes from
     * the message, as an external controller would supply it in the INTA cycle.
     */
    bool nmi_pending, smi_pending, init_pending, sipi_pending, extint_pending;
    uint8_t sipi_vector, extint_vector;
    /* The timer's running state (the registers themselves are on the page). */
    struct lapic_timer timer;
};

/* ---- Raw page accessors: no side effects, no checks ------------------------- */

static inline uint32_t __apic_get_reg(const uint8_t *page, unsigned off)
{
    uint32_t v;
    memcpy(&v, page + off, sizeof(v)); /* little-endian host (x86-64) */
    return v;
}

static inline void __apic_set_reg(uint8_t *page, unsigned off, uint32_t v)
{
    memcpy(page + off, &v, sizeof(v));
}

static inline uint32_t apic_get_reg(const struct apic *a, unsigned off)
{
    return __apic_get_reg(a->regs, off);
}

static inline void apic_set_reg(struct apic *a, unsigned off, uint32_t v)
{
    __apic_set_reg(a->regs, off, v);
}

/* Vector bit helpers over an 8-register vector array (ISR, TMR, IRR). Vector v is
 * bit v % 32 of the register at base + (v / 32) * 0x10. */
#define APIC_VEC_REG(base, vec) ((base) + (((unsigned)(vec) >> 5) << 4))
#define APIC_VEC_BIT(vec)       (1u << ((unsigned)(vec) & 31u))

static inline bool apic_vec_test(const uint8_t *page, unsigned base, unsigned vec)
{
    return (__apic_get_reg(page, APIC_VEC_REG(base, vec)) & APIC_VEC_BIT(vec)) != 0;
}

static inline void apic_vec_set(uint8_t *page, unsigned base, unsigned vec)
{
    unsigned off = APIC_VEC_REG(base, vec);
    __apic_set_reg(page, off, __apic_get_reg(page, off) | APIC_VEC_BIT(vec));
}

static inline void apic_vec_clear(uint8_t *page, unsigned base, unsigned vec)
{
    unsigned off = APIC_VEC_REG(base, vec);
    __apic_set_reg(page, off, __apic_get_reg(page, off) & ~APIC_VEC_BIT(vec));
}

/* Highest vector set in the array at base, or -1 when none. */
int apic_find_highest_vec(const uint8_t *page, unsigned base);

/* The 64-bit x2APIC ICR, kept as ICR (low) and ICR2 (high) on the page. */
uint64_t apic_get_icr(const struct apic *a);
void apic_set_icr(struct apic *a, uint64_t icr);

/* ---- State, reset, modes ------------------------------------------------- */

/* Power-on state on page (which the caller owns): enabled in power_on mode
 * (APIC_MODE_X2APIC or APIC_MODE_XAPIC; BSP when bsp), then apic_reset(a,
 * false). xAPIC mode is possible later only when power_on is xAPIC or
 * xapic_capable is set afterwards. */
void apic_init(struct apic *a, uint8_t *page, uint32_t id, bool bsp, enum apic_mode power_on);

/*
 * Power-on (init_only false) or INIT reset (SDM 10.4.7.1, 10.12.5.1): every
 * register as after power-up (SPIV 0xFF, LVTs masked, timer stopped, IRR/ISR/
 * TMR/TPR/ESR/ICR 0; in xAPIC format LDR 0 and DFR all ones), latches
 * cleared. INIT keeps the APIC ID and IA32_APIC_BASE (so x2APIC mode
 * survives); power-on also restores the power-on mode and the default base.
 * The caller cancels any host timer it had armed.
 */
void apic_reset(struct apic *a, bool init_only);

/* The mode IA32_APIC_BASE selects. */
static inline enum apic_mode apic_mode(const struct apic *a)
{
    return (enum apic_mode)((a->base_msr & APIC_BASE_EN ? 2 : 0) |
                            (a->base_msr & APIC_BASE_EXTD ? 1 : 0));
}

static inline bool apic_x2apic_mode(const struct apic *a)
{
    return apic_mode(a) == APIC_MODE_X2APIC;
}

/* The guest-physical base of the xAPIC register page. */
static inline uint64_t apic_mmio_base(const struct apic *a)
{
    return a->base_msr & APIC_BASE_ADDR_MASK;
}

/* IA32_APIC_BASE.EN: the APIC exists at all (SDM 10.4.3). */
static inline bool apic_hw_enabled(const struct apic *a)
{
    return (a->base_msr & APIC_BASE_EN) != 0;
}

/* SPIV bit 8 (SDM 10.4.7.2). */
static inline bool apic_sw_enabled(const struct apic *a)
{
    return (apic_get_reg(a, APIC_SPIV) & APIC_SPIV_APIC_ENABLED) != 0;
}

/* x2APIC logical ID: cluster ID[19:4] in 31:16, 1 << ID[3:0] in 15:0 (SDM 10.12.10.2). */
uint32_t apic_x2apic_ldr(uint32_t id);

/* LVTT[18:17]. */
static inline enum lapic_timer_mode apic_timer_mode(const struct apic *a)
{
    return (enum lapic_timer_mode)((apic_get_reg(a, APIC_LVTT) & APIC_LVT_TIMER_MASK) >>
                                   APIC_LVT_TIMER_SHIFT);
}

/* ---- Priorities, IRR/ISR ------------------------------------------------- */

int apic_find_highest_irr(const struct apic *a);
/* Uses and refills highest_isr_cache. */
int apic_find_highest_isr(struct apic *a);

/* PPR = TPR if TPR[7:4] >= ISRV[7:4], else ISRV[7:4] << 4 (SDM 10.8.3.1);
 * isrv is the highest in-service vector, -1 or 0 when none. */
uint32_t apic_compute_ppr(uint32_t tpr, int isrv);

/* Recomputes PPR into the page. Returns true when it dropped (a vector that was
 * masked may have become deliverable: the caller kicks). */
bool apic_update_ppr(struct apic *a);

/* Highest IRR vector whose priority class beats PPR's, or -1. Ignores the
 * enable bits (the fabric checks those). */
int apic_highest_deliverable(struct apic *a);

enum apic_accept {
    APIC_ACCEPTED = 0,
    APIC_DROPPED,        /* software-disabled (or hardware-disabled) APIC */
    APIC_ILLEGAL_VECTOR, /* vector < 16: ESR "receive illegal vector" is now pending */
};

/* A fixed/lowest-priority message arrives: IRR set, TMR set for level and
 * cleared for edge (SDM 10.8.4). Vectors 0-15 are illegal (SDM 10.5.2). */
enum apic_accept apic_accept_fixed(struct apic *a, uint8_t vec, bool level);

/* The CPU takes vec: IRR -> ISR, PPR raised (SDM 10.8.4). vec must be in IRR. */
void apic_ack_fixed(struct apic *a, uint8_t vec);

/*
 * EOI (SDM 10.8.5): clears the highest ISR bit and recomputes PPR. Returns the
 * vector, or -1 when ISR was empty (not an error); *level says whether its TMR
 * bit was set (the caller broadcasts the EOI then).
 */
int apic_eoi(struct apic *a, bool *level);

/* ---- Register writes without host side effects ----------------------------- */

/* TPR write; returns apic_update_ppr()'s "dropped". */
bool apic_set_tpr(struct apic *a, uint32_t tpr);
/* SPIV write; clearing bit 8 masks every LVT (SDM 10.4.7.2). */
void apic_set_spiv(struct apic *a, uint32_t v);
/* LVT write; the mask bit is forced while software-disabled (SDM 10.4.7.2). */
void apic_set_lvt(struct apic *a, unsigned off, uint32_t v);
/* Error detected: bits accumulate until the next ESR write. */
void apic_esr_raise(struct apic *a, uint32_t bits);
/* ESR write (of 0): latches the accumulated errors into the readable ESR. */
void apic_esr_latch(struct apic *a);

/*
 * Value of the readable register at off in the current mode: the page
 * contents; in x2APIC mode the 32-bit ID, the derived LDR and ICR as 64 bits;
 * in xAPIC mode the ID in bits 31:24 and APR computed; TMCCT computed from the
 * timer at time now.
 */
uint64_t apic_reg_read(const struct apic *a, unsigned off, uint64_t now);

/* APR (xAPIC only, SDM 10.6.2.4 / AMD APM 16.6.2): TPR when its class is at
 * least IRRV's and above ISRV's, else the highest of the three classes. */
uint32_t apic_compute_apr(const struct apic *a);

/* ---- The x2APIC MSR table --------------------------------------------------- */

/* One row per x2APIC MSR (index msr - 0x800); rows left zero do not exist. */
struct apic_reg_desc {
    const char *name; /* SDM/APM register name; NULL: no such MSR (#GP) */
    bool readable, writable;
    uint64_t wmask;   /* bits a write may set and that are stored */
    uint64_t ignored; /* read-only status bits a write may carry; dropped */
    const char *notes;
};

/* Row for msr, or NULL when msr is outside 0x800-0x8FF or not a register. */
const struct apic_reg_desc *apic_reg_lookup(uint32_t msr);

/*
 * Whether RDMSR (write false) or WRMSR of val to an x2APIC MSR is allowed by the
 * architecture: FAB_OK or FAB_GP (SDM 10.12.1.2 and 10.12.1.3: unknown MSR,
 * read of a write-only or write of a read-only register, a set reserved bit).
 * Also rejects the reserved timer mode 3.
 */
enum fab_access apic_msr_check(uint32_t msr, bool write, uint64_t val);

/* ---- IA32_APIC_BASE -------------------------------------------------------- */

enum apic_base_change {
    APIC_BASE_SAME_MODE = 0, /* no mode change (the base may move): store it */
    APIC_BASE_DISABLE,       /* xAPIC or x2APIC -> disabled: reset the APIC */
    APIC_BASE_TO_XAPIC,      /* disabled -> xAPIC */
    APIC_BASE_TO_X2APIC,     /* xAPIC -> x2APIC: ID and LDR change format */
    APIC_BASE_GP,            /* rejected: #GP */
};

/* Classifies a WRMSR IA32_APIC_BASE (see apic.c for the transitions). */
enum apic_base_change apic_base_check(const struct apic *a, uint64_t val);

/* Performs a change apic_base_check() allowed (not APIC_BASE_GP): stores val
 * and does what the transition does to the registers. The caller stops the
 * host timer first on APIC_BASE_DISABLE. */
void apic_base_apply(struct apic *a, enum apic_base_change c, uint64_t val);

/* ---- ICR and destinations ----------------------------------------------------- */

struct apic_icr {
    uint8_t vector;
    enum apic_dm mode;
    bool logical;
    bool level_assert;
    bool trigger_level;
    enum apic_sh shorthand;
    uint32_t dest;
};

struct apic_icr apic_icr_decode(uint64_t icr);
uint64_t apic_icr_encode(const struct apic_icr *d);

enum apic_icr_action {
    APIC_ICR_SEND = 0,     /* a valid message: resolve the destination and send */
    APIC_ICR_IGNORE,       /* no message (see apic_icr_check) */
    APIC_ICR_SEND_ILLEGAL, /* fixed/lowest with vector < 16: ESR "send illegal vector" */
};

/* What a write of this ICR does (SDM Table 10-3, AMD APM "Valid ICR field
 * combinations"; details in apic.c). */
enum apic_icr_action apic_icr_check(const struct apic_icr *d);

/* Whether this APIC is a destination of dest in physical or logical mode,
 * 0xFFFFFFFF being broadcast in both. An APIC in x2APIC mode matches the
 * 32-bit ID and the cluster model (SDM 10.12.9, 10.12.10.2); one in xAPIC mode
 * the low 8 bits against its 8-bit ID, or its LDR in the flat or cluster
 * model its DFR selects (SDM 10.6.2.1, 10.6.2.2). */
bool apic_match_dest(const struct apic *a, uint32_t dest, bool logical);

/* ---- The xAPIC MMIO page ------------------------------------------------------ */

/* One row per 16-byte slot of the first 1 KiB (index offset >> 4); rows left
 * zero and every offset from 0x400 are reserved. */
struct xapic_reg_desc {
    const char *name;
    bool readable, writable;
    uint32_t wmask; /* bits a write stores; the others are ignored */
};

const struct xapic_reg_desc *xapic_reg_lookup(unsigned off);

enum xapic_access {
    XAPIC_DONE = 0,    /* read: *val holds the value; write: nothing to do */
    XAPIC_WRITE,       /* write: store *v32 to register *reg (its side effects) */
    XAPIC_ILLEGAL,     /* reserved offset: ESR "illegal register address" */
};

/*
 * An MMIO access of size bytes at offset off (< 4 KiB) of the page (SDM
 * 10.4.1: registers are 32 bits at 16-byte alignment). A read returns the
 * bytes of the register that lie in the access and 0 for the rest of the
 * slot; a write counts only as an aligned 32-bit store of the register (the
 * others are dropped, as KVM does: narrower stores are model specific).
 * Reads only look (TMCCT at time now).
 */
enum xapic_access xapic_read(const struct apic *a, unsigned off, unsigned size, uint64_t now,
                             uint64_t *val);
enum xapic_access xapic_write_check(unsigned off, unsigned size, uint64_t val, unsigned *reg,
                                    uint32_t *v32);

/* The 64-bit ICR an xAPIC ICR_LOW write sends, in the x2APIC layout: the
 * 8-bit destination of ICR_HIGH[31:24], 0xFF widened to broadcast. */
uint64_t xapic_icr(uint32_t low, uint32_t high);

#endif
