/* SPDX-License-Identifier: MIT */
/*
 * The reference hypervisor's MSR table (msr.c): every model-specific register
 * the model answers besides the fabric's (IA32_APIC_BASE, TSC_DEADLINE, the
 * x2APIC range) and the engine's own CPU state (EFER, STAR..., FS/GS base,
 * PAT). A row gives the reset value, the bits a WRMSR stores, the bits it
 * ignores, and whether the MSR exists under the CPUID the vCPU sees; any
 * other bit written with a value other than the one it reads raises #GP, as
 * reserved MBZ bits do (AMD APM vol. 2, 1.3.3 / 6.4). An MSR in no row and
 * in neither the fabric nor the engine raises #GP.
 */
#ifndef SNPREF_HV_MSR_H
#define SNPREF_HV_MSR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "machine.h"

/* Where a row's value lives. */
enum msr_store {
    MSR_SLOT,   /* the vCPU's slot (slot.msr[]), reset by hv_msr_reset */
    MSR_ENGINE, /* the engine holds it (vcpu_msr_get/set); the row adds the #GP rules */
    MSR_CONST,  /* a value computed from the configuration; writes #GP */
    MSR_CMD,    /* a command: a write within the mask is accepted, nothing is kept */
};

#define MSR_RO 0x1u /* every WRMSR raises #GP (read-only MSR) */
#define MSR_WO 0x2u /* every RDMSR raises #GP (write-only command MSR) */

struct msr_def {
    uint32_t msr;
    uint8_t count;      /* consecutive MSRs this row describes (PERF_CTL0-3: 4) */
    uint8_t store;      /* enum msr_store */
    uint8_t flags;      /* MSR_RO, MSR_WO */
    uint64_t reset;     /* value at RESET (MSR_SLOT) */
    uint64_t wmask;     /* bits a WRMSR stores */
    uint64_t imask;     /* bits a WRMSR ignores (they keep the value they read) */
    /* The writable bits when they follow the CPUID (SPEC_CTRL, MTRR widths): replaces wmask. */
    uint64_t (*mask)(const struct system *sys, unsigned vcpu);
    /* Does the MSR exist for this vCPU (a CPUID bit, the mode)? NULL: always. */
    bool (*present)(const struct system *sys, unsigned vcpu);
    /* A further check of a value the masks accept (MTRR memory types). */
    bool (*valid)(uint64_t val);
    /* MSR_CONST: the value. */
    uint64_t (*value)(const struct system *sys, unsigned vcpu);
    const char *name;
};

enum msr_result { MSR_MISS, MSR_OK, MSR_GP };

/* The table, for the tests' sweep: *n rows. */
const struct msr_def *hv_msr_table(size_t *n);
/* The row describing msr, or NULL. */
const struct msr_def *hv_msr_find(uint32_t msr);
/* Put every MSR_SLOT register of s at its reset value (vCPU creation). */
void hv_msr_reset(struct slot *s);
/* An access the table answers: MSR_MISS when no row has msr; *val in/out. */
enum msr_result hv_msr_table_access(struct slot *s, uint32_t msr, bool write, uint64_t *val);
/* The default CPUID's bits that announce the table's registers (leaf
 * 0x80000008 EBX: SPEC_CTRL and PRED_CMD; leaf 0x80000021; the maximum
 * extended leaf that reaches it), applied over hv.c's answer r. */
void hv_msr_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t r[4]);
/* RDPMC ECX: the legacy counters PERF_CTR0-3; false = #GP (APM vol. 3 RDPMC). */
bool hv_msr_rdpmc(struct slot *s, uint32_t ecx, uint64_t *val);

#endif
