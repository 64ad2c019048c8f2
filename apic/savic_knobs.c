/* SPDX-License-Identifier: MIT */
/*
 * The Secure AVIC knobs (fab_savic.h): their defaults and their schema, which
 * the config loader reads section "savic" through (docs/config.md). Each knob
 * is one open point of the public sources (docs/sev-snp-facts.md 7.4, 12).
 */
#include <stddef.h>
#include <string.h>

#include "apic.h"
#include "fab_savic.h"

static void put_all(struct fab_regset *r, unsigned base)
{
    for (unsigned i = 0; i < 8; i++)
        fab_regset_put(r, APIC_MSR(base + 0x10 * i));
}

void savic_knobs_default(struct savic_knobs *k)
{
    memset(k, 0, sizeof(*k));
    for (uint32_t msr = APIC_MSR_BASE; msr <= APIC_MSR_LAST; msr++) {
        const struct apic_reg_desc *d = apic_reg_lookup(msr);
        if (d && d->readable && msr != APIC_MSR(APIC_TMCCT))
            fab_regset_put(&k->accel_read, msr);
    }
    fab_regset_put(&k->accel_write, APIC_MSR(APIC_TPR));
    fab_regset_put(&k->accel_write, APIC_MSR(APIC_EOI));
    fab_regset_put(&k->accel_write, APIC_MSR(APIC_SELF_IPI));
    fab_regset_put(&k->accel_write, APIC_MSR(APIC_ICR));
    fab_regset_put(&k->noaccel_fault, APIC_MSR(APIC_LVR));
    fab_regset_put(&k->noaccel_fault, APIC_MSR(APIC_PPR));
    fab_regset_put(&k->noaccel_fault, APIC_MSR(APIC_TMCCT));
    put_all(&k->noaccel_fault, APIC_ISR);
    put_all(&k->noaccel_fault, APIC_TMR);
    put_all(&k->noaccel_fault, APIC_IRR);
    k->blocked = SAVIC_BLOCKED_DROP;
    k->icr_high = 0x304;
}

static void defaults(void *k)
{
    savic_knobs_default(k);
}

static const char *const blocked_names[] = {"drop", "hold", NULL};
/* 0x304: Linux's layout (ICR as one u64 at 0x300); 0x310: OpenVMM's (ICR2). */
static const unsigned icr_high_values[] = {0x304, 0x310};

#define K(n, t, f, ...) {n, t, offsetof(struct savic_knobs, f), __VA_ARGS__}
static const struct fab_knob savic_knob_list[] = {
    K("accelerated_reads", FAB_KNOB_REGSET, accel_read, NULL, 0, 0, NULL, 0,
      "RDMSRs served from the backing page without an exit; others #VC 0x402"),
    K("accelerated_writes", FAB_KNOB_REGSET, accel_write, NULL, 0, 0, NULL, 0,
      "WRMSRs the hardware completes itself; others #VC 0x402 (ICR: 0x401)"),
    K("fault_on", FAB_KNOB_REGSET, noaccel_fault, NULL, 0, 0, NULL, 0,
      "registers whose #VC 0x402 is a fault (RIP on the instruction); the others trap"),
    K("blocked_vectors", FAB_KNOB_CHOICE, blocked, blocked_names, 0, 0, NULL, 0,
      "what VMRUN does with a REQUESTED_IRR vector ALLOWED_IRR blocks: drop or hold"),
    K("icr_high", FAB_KNOB_UINT, icr_high, NULL, 0, 0, icr_high_values, 2,
      "page offset of ICR[63:32]: 0x304 (Linux) or 0x310 (OpenVMM)"),
};

const struct fab_knob_schema savic_knob_schema = {
    .section = "savic",
    .size = sizeof(struct savic_knobs),
    .defaults = defaults,
    .knobs = savic_knob_list,
    .nknobs = sizeof(savic_knob_list) / sizeof(savic_knob_list[0]),
};
