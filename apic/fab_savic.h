/* SPDX-License-Identifier: MIT */
/*
 * The `savic` fabric (Secure AVIC, docs/sev-snp-facts.md section 7) and its
 * options: config section "savic" (docs/config.md). Every point the public
 * sources leave open (docs/sev-snp-facts.md 7.4 and 12, items 5 and 9) is a
 * knob here, with the default that file argues for, so an architect can change
 * one and see the effect in `snpref compare`.
 */
#ifndef SNPREF_FAB_SAVIC_H
#define SNPREF_FAB_SAVIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fabric.h"

extern const struct fabric_ops savic_fabric;

/* SAVIC_CONTROL, MSR_SAVIC_CONTROL 0xC0010138 (snpref/sev.h; docs/sev-snp-facts.md 7.1). */
#define SAVIC_EN            (1ull << 0)
#define SAVIC_ALLOWED_NMI   (1ull << 1)
#define SAVIC_GPA_MASK      0xFFFFFFFFFFFFF000ull
#define SAVIC_RESERVED      0xFFCull /* bits 11:2 */

/* Backing-page fields Secure AVIC adds to the APIC page layout (docs/sev-snp-facts.md 7.2). */
#define SAVIC_ALLOWED_IRR   0x204 /* + 0x10 i: vectors 32i..32i+31, right after IRR word i */
#define SAVIC_NMI_REQUEST   0x278 /* bit 0 */

/* A set of x2APIC MSRs: bit n stands for MSR 0x800 + n. */
struct savic_regset {
    uint32_t w[8];
};

static inline bool savic_regset_has(const struct savic_regset *r, uint32_t msr)
{
    uint32_t n = msr - 0x800u;
    return n < 256 && (r->w[n >> 5] >> (n & 31)) & 1u;
}

static inline void savic_regset_put(struct savic_regset *r, uint32_t msr)
{
    uint32_t n = msr - 0x800u;
    if (n < 256)
        r->w[n >> 5] |= 1u << (n & 31);
}

/* What VMRUN does with a REQUESTED_IRR vector that ALLOWED_IRR blocks. */
enum savic_blocked {
    SAVIC_BLOCKED_DROP = 0, /* hardware clears REQUESTED_IRR: the vector is lost */
    SAVIC_BLOCKED_HOLD,     /* it stays requested until the guest allows it */
};

struct savic_knobs {
    /* RDMSR served from the backing page without an exit; others #VC 0x402.
     * Default: every readable register but TMCCT ("accelerated similar to
     * AVIC", docs/sev-snp-facts.md 7.4; the current count needs the hypervisor's
     * timer). */
    struct savic_regset accel_read;
    /* WRMSR the hardware completes itself; others #VC 0x402 (ICR: #VC 0x401
     * unless the shorthand is self). Default: TPR, EOI (edge vectors),
     * SELF_IPI, ICR (docs/sev-snp-facts.md 7.4). */
    struct savic_regset accel_write;
    /* Registers whose #VC 0x402 is a fault (RIP stays on the instruction);
     * the others trap (RIP after it, a write already stored in the page).
     * Default: VERSION, PPR, ISR, TMR, IRR and TMCCT (the paravisor view,
     * docs/sev-snp-facts.md 7.4, source S12). */
    struct savic_regset noaccel_fault;
    enum savic_blocked blocked;   /* default drop (docs/sev-snp-facts.md 7.3) */
    unsigned icr_high;            /* page offset of ICR[63:32]: 0x304 (Linux, default) or 0x310 */
};

void savic_knobs_default(struct savic_knobs *k);

/* Adds the register called name (the x2APIC names of `snpref`'s MSR table:
 * "TPR", "ISR3"; "ISR", "TMR" and "IRR" stand for all eight) to r. Returns 0,
 * or -1 when no x2APIC register has that name. */
int savic_regset_add_name(struct savic_regset *r, const char *name);

/* The names of the registers in r, comma-separated, into buf (truncated to len). */
void savic_regset_names(const struct savic_regset *r, char *buf, size_t len);

#endif
