/* SPDX-License-Identifier: MIT */
/*
 * The MSR table of the reference hypervisor (msr.h): the registers a kernel
 * probes on an AMD family 19h vCPU, each with its reset value, the bits a
 * WRMSR stores and ignores, and the CPUID bit that makes it exist. Sources:
 * AMD APM vol. 2 (24593) for the architectural MSRs, the AMD PPR for family
 * 19h model 01h (55898) and the family 17h/16h BKDG for the model-specific
 * ones, the Intel SDM vol. 3 / vol. 4 where AMD implements the Intel MSR
 * (MTRRs, MCA, SPEC_CTRL). Where the model stands in for a hypervisor that
 * hides host state, the row says so and follows KVM (arch/x86/kvm/x86.c,
 * svm/svm.c, svm/pmu.c), the hypervisor docs/config.md takes as its model.
 */
#include <string.h>

#include "hv.h"
#include "msr.h"
#include "snpref/base.h"
#include "snpref/sev.h"

#define BIT(n) (1ull << (n))

/* ---- CPUID conditions -------------------------------------------------------- */

static uint32_t cpuid_reg(const struct system *sys, unsigned vcpu, uint32_t leaf, uint32_t sub,
                          unsigned reg)
{
    uint32_t r[4];
    hv_cpuid_lookup(sys, vcpu, leaf, sub, r);
    return r[reg];
}

enum { EAX, EBX, ECX, EDX };

static bool has_mtrr(const struct system *sys, unsigned v) { return cpuid_reg(sys, v, 1, 0, EDX) & BIT(12); }
static bool has_mca(const struct system *sys, unsigned v) { return cpuid_reg(sys, v, 1, 0, EDX) & BIT(14); }
static bool has_arch_cap(const struct system *sys, unsigned v) { return cpuid_reg(sys, v, 7, 0, EDX) & BIT(29); }
static bool has_ibpb(const struct system *sys, unsigned v) { return cpuid_reg(sys, v, 0x80000008, 0, EBX) & BIT(12); }
static bool never(const struct system *sys, unsigned v) { (void)sys, (void)v; return false; }
/* A plain guest granted psp.hardware_isolation is an SNP host (docs/psp.md). */
static bool snp_host(const struct system *sys, unsigned v) { (void)v; return !sys->sev && sys->cfg.psp.hardware_isolation; }
static uint64_t zero(const struct system *sys, unsigned v) { (void)sys, (void)v; return 0; }

/* TSC_AUX exists with RDTSCP (0x80000001 EDX[27]) or RDPID (7.0 ECX[22]): APM vol. 2 13.2.4. */
static bool has_tsc_aux(const struct system *sys, unsigned v)
{
    return (cpuid_reg(sys, v, 0x80000001, 0, EDX) & BIT(27)) || (cpuid_reg(sys, v, 7, 0, ECX) & BIT(22));
}

/* SPEC_CTRL bits by the CPUID 0x80000008 EBX bit that reports each (AMD
 * "Indirect Branch Control Extension" and "Speculative Store Bypass Disable"
 * white papers; KVM kvm_spec_ctrl_test_value): IBRS [14], STIBP [15], SSBD
 * [24], PSFD [28]. A bit the CPUID does not report is reserved: #GP. */
static uint64_t spec_ctrl_mask(const struct system *sys, unsigned v)
{
    uint32_t ebx = cpuid_reg(sys, v, 0x80000008, 0, EBX);
    return (ebx & BIT(14) ? BIT(0) : 0) | (ebx & BIT(15) ? BIT(1) : 0) |
           (ebx & BIT(24) ? BIT(2) : 0) | (ebx & BIT(28) ? BIT(7) : 0);
}
static bool has_spec_ctrl(const struct system *sys, unsigned v) { return spec_ctrl_mask(sys, v) != 0; }

/* PRED_CMD commands: IBPB [0]; SBPB [7] with CPUID 0x80000021 EAX[27] (AMD-SB-7005:
 * the SRSO microcode adds it; Linux amd.c probes it on family 19h with a WRMSR). */
static uint64_t pred_cmd_mask(const struct system *sys, unsigned v)
{
    return BIT(0) | (cpuid_reg(sys, v, 0x80000021, 0, EAX) & BIT(27) ? BIT(7) : 0);
}

/* Physical-address bits 51:MAXPHYADDR of an MTRR base or mask are reserved
 * (SDM vol. 3 11.11.2.3); MAXPHYADDR is CPUID 0x80000008 EAX[7:0]. */
static uint64_t phys_bits(const struct system *sys, unsigned v)
{
    unsigned w = cpuid_reg(sys, v, 0x80000008, 0, EAX) & 0xFF;
    if (w == 0 || w > 52)
        w = 36; /* the architectural default when the leaf is absent */
    return (BIT(w) - 1) & ~0xFFFull;
}
static uint64_t mtrr_base_mask(const struct system *sys, unsigned v) { return phys_bits(sys, v) | 0xFF; }
static uint64_t mtrr_mask_mask(const struct system *sys, unsigned v) { return phys_bits(sys, v) | BIT(11); }

/* ---- Values and checks --------------------------------------------------------- */

/* MTRR memory types: UC 0, WC 1, WT 4, WP 5, WB 6; 2, 3 and 7-255 are
 * reserved, and writing one raises #GP (SDM vol. 3 11.11.2.1, table 11-8). */
static bool mtrr_type_ok(uint64_t t) { return t == 0 || t == 1 || (t >= 4 && t <= 6); }
static bool mtrr_type_low(uint64_t v) { return mtrr_type_ok(v & 0xFF); }
static bool mtrr_fixed_ok(uint64_t v)
{
    for (unsigned i = 0; i < 8; i++)
        if (!mtrr_type_ok(v >> (8 * i) & 0xFF))
            return false;
    return true;
}

/* SYSCFG (PPR MSRC001_0010) as the guest reads it: MtrrVarDramEn [18] (the
 * variable MTRRs describe DRAM), MemEncryptionModEn [23] when the VM is
 * encrypted (APM vol. 2 7.10.1: SME/SEV need it), SecureNestedPagingEn [24]
 * and VMPLEn [25] under SNP (APM vol. 2 15.36.2). Tom2 bits stay clear, so
 * Linux's amd_special_default_mtrr() does not trim memory at a TOM2 there is no MSR for. */
static uint64_t syscfg_value(const struct system *sys, unsigned v)
{
    uint64_t val = BIT(18);
    if (sys->sev)
        val |= BIT(23) | (sys->sev->snp ? BIT(24) | BIT(25) : 0);
    /* An SNP host sees SNP enabled in its SYSCFG (SNPEn [24], VMPLEn [25],
     * MemEncryptionModEn [23]), as Linux's snp_rmptable_init checks. */
    if (snp_host(sys, v))
        val |= BIT(23) | BIT(24) | BIT(25);
    return val;
}

/* The microcode patch level a Milan B1 (family 19h model 01h stepping 1) part
 * reports has the form 0x0A0011xx (PPR MSR0000_008B); the low byte is the
 * model's choice, no real revision is implied. */
static uint64_t patch_level(const struct system *sys, unsigned v) { (void)sys, (void)v; return 0x0A0011D1; }

/* IA32_ARCH_CAPABILITIES, when the CPUID reports it: the "not affected" bits
 * that hold for every AMD part (SDM vol. 4 table 2-2; Linux arch/x86/kernel/cpu/common.c's
 * AMD whitelist): RDCL_NO [0], SKIP_L1DFL_VMENTRY [3], MDS_NO [5],
 * PSCHANGE_MC_NO [6], TAA_NO [8]. */
static uint64_t arch_cap(const struct system *sys, unsigned v)
{
    (void)sys, (void)v;
    return BIT(0) | BIT(3) | BIT(5) | BIT(6) | BIT(8);
}

/* MCG_CAP: zero banks, no MCG_CTL_P, no extended registers. The model raises
 * no machine check, so it reports MCA (CPUID.1:EDX[14], KVM does too) with no
 * bank to read (APM vol. 2 9.3.1: Count [7:0] may be 0; SDM vol. 3 15.3.1.1). */
static uint64_t mcg_cap(const struct system *sys, unsigned v) { (void)sys, (void)v; return 0; }

/* MTRRcap (SDM vol. 3 11.11.1): VCNT 8 variable ranges, FIX [8] fixed ranges,
 * WC [10] write-combining; no SMRR [11]. APM vol. 2 7.7.1 has the same layout. */
static uint64_t mtrr_cap(const struct system *sys, unsigned v) { (void)sys, (void)v; return 8 | BIT(8) | BIT(10); }

/* ---- The table ----------------------------------------------------------------- */

#define ROW(m, n, st, fl, rst, w, i, pres, ...) \
    {.msr = (m), .count = (n), .store = (st), .flags = (fl), .reset = (rst), .wmask = (w), \
     .imask = (i), .present = (pres), __VA_ARGS__}
#define MTRR_VAR(k)                                                                         \
    ROW(0x200 + 2 * (k), 1, MSR_SLOT, 0, 0, 0, 0, has_mtrr, .mask = mtrr_base_mask,           \
        .valid = mtrr_type_low, .name = "MTRRphysBase" #k),                                    \
    ROW(0x201 + 2 * (k), 1, MSR_SLOT, 0, 0, 0, 0, has_mtrr, .mask = mtrr_mask_mask,           \
        .name = "MTRRphysMask" #k)
#define MTRR_FIX(m, nm) ROW(m, 1, MSR_SLOT, 0, 0, ~0ull, 0, has_mtrr, .valid = mtrr_fixed_ok, .name = nm)

static const struct msr_def table[] = {
    /* PATCH_LEVEL (PPR MSR0000_008B): read-only; a WRMSR raises #GP (BKDG 16h
     * "Read-only"). Linux reads it with rdmsr_safe for c->microcode. */
    ROW(0x8B, 1, MSR_CONST, MSR_RO, 0, 0, 0, NULL, .value = patch_level, .name = "PATCH_LEVEL"),
    /* MTRRcap and the MTRRs (SDM vol. 3 11.11; APM vol. 2 7.7): exist with
     * CPUID.1:EDX[12]. The memory types have no effect on the model. */
    ROW(0xFE, 1, MSR_CONST, MSR_RO, 0, 0, 0, has_mtrr, .value = mtrr_cap, .name = "MTRRcap"),
    MTRR_VAR(0), MTRR_VAR(1), MTRR_VAR(2), MTRR_VAR(3),
    MTRR_VAR(4), MTRR_VAR(5), MTRR_VAR(6), MTRR_VAR(7),
    MTRR_FIX(0x250, "MTRRfix64K_00000"),
    MTRR_FIX(0x258, "MTRRfix16K_80000"),
    MTRR_FIX(0x259, "MTRRfix16K_A0000"),
    ROW(0x268, 8, MSR_SLOT, 0, 0, ~0ull, 0, has_mtrr, .valid = mtrr_fixed_ok, .name = "MTRRfix4K_C0000..F8000"),
    /* MTRRdefType: Type [7:0], FE [10], E [11]; the rest reserved (11.11.2.1). */
    ROW(0x2FF, 1, MSR_SLOT, 0, 0, 0xCFF, 0, has_mtrr, .valid = mtrr_type_low, .name = "MTRRdefType"),
    /* SPEC_CTRL and PRED_CMD (AMD "Indirect Branch Control Extension"): exist
     * with the CPUID 0x80000008 EBX bits; PRED_CMD is write-only, IBPB [0] the
     * only command (a read raises #GP, as under KVM). */
    ROW(0x48, 1, MSR_SLOT, 0, 0, 0, 0, has_spec_ctrl, .mask = spec_ctrl_mask, .name = "SPEC_CTRL"),
    ROW(0x49, 1, MSR_CMD, MSR_WO, 0, 0, 0, has_ibpb, .mask = pred_cmd_mask, .name = "PRED_CMD"),
    ROW(0x10A, 1, MSR_CONST, MSR_RO, 0, 0, 0, has_arch_cap, .value = arch_cap, .name = "ARCH_CAPABILITIES"),
    /* Machine check (APM vol. 2 9.3): MCG_CAP read-only; MCG_STATUS RIPV [0],
     * EIPV [1], MCIP [2], the rest reserved; MCG_CTL only with MCG_CTL_P, and
     * no MCi bank registers with zero banks. */
    ROW(0x179, 1, MSR_CONST, MSR_RO, 0, 0, 0, has_mca, .value = mcg_cap, .name = "MCG_CAP"),
    ROW(0x17A, 1, MSR_SLOT, 0, 0, 0x7, 0, has_mca, .name = "MCG_STATUS"),
    ROW(0x17B, 1, MSR_CONST, 0, 0, 0, 0, never, .name = "MCG_CTL (no MCG_CTL_P)"),
    ROW(0x400, 128, MSR_CONST, 0, 0, 0, 0, never, .name = "MC0-31 banks (MCG_CAP.Count 0)"),
    /* IA32_MISC_ENABLE is an Intel MSR (SDM vol. 4 table 2-2); AMD parts
     * have none and raise #GP. Linux reads it only in intel.c. */
    ROW(0x1A0, 1, MSR_CONST, 0, 0, 0, 0, never, .name = "IA32_MISC_ENABLE (Intel only)"),
    /* TSC_AUX (APM vol. 2 13.2.4): bits 63:32 reserved, #GP (KVM svm_set_msr). */
    ROW(0xC0000103, 1, MSR_ENGINE, 0, 0, 0xFFFFFFFFull, 0, has_tsc_aux, .name = "TSC_AUX"),
    /* The legacy core performance counters (APM vol. 2 13.2.1; PPR
     * MSRC001_000[0...7]): PerfEvtSel0-3 with the bits KVM reserves for a guest
     * (svm/pmu.c: 63:36, 21, 19; HostOnly/GuestOnly 41:40 included): #GP.
     * XXX(model): the counters never count; they read back what was written. */
    ROW(0xC0010000, 4, MSR_SLOT, 0, 0, 0x0000000FFFD7FFFFull, 0, NULL, .name = "PERF_CTL0-3"),
    /* PerfCtr0-3: 48-bit counters; a write's bits 63:48 are dropped (KVM
     * pmc_write_counter masks to the width; the PPR gives 47:0 only). */
    ROW(0xC0010004, 4, MSR_SLOT, 0, 0, 0x0000FFFFFFFFFFFFull, 0xFFFF000000000000ull, NULL, .name = "PERF_CTR0-3"),
    ROW(0xC0010010, 1, MSR_CONST, MSR_RO, 0, 0, 0, NULL, .value = syscfg_value, .name = "SYSCFG"),
    /* SEV_STATUS for an SNP host: it reports SEV in CPUID 0x8000001F, so a
     * kernel reads this MSR (Linux sme_enable); 0: the host itself is not an
     * SEV guest. SEV guests get theirs from the SEV code (sev.c). */
    ROW(MSR_SEV_STATUS, 1, MSR_CONST, MSR_RO, 0, 0, 0, snp_host, .value = zero, .name = "SEV_STATUS"),
    /* HWCR (PPR MSRC001_0015): TscFreqSel [24] read-only 1: the TSC counts at
     * the P0 frequency (Linux bsp_init_amd warns "TSC doesn't count with P0
     * frequency" when it is clear). A guest may set McStatusWrEn [18]; writes
     * of TlbCacheDis [3], FFDIS [6] and IgnneEm [8] are dropped and every other
     * bit raises #GP, as KVM answers a guest (x86.c MSR_K7_HWCR). */
    ROW(0xC0010015, 1, MSR_SLOT, 0, BIT(24), BIT(18), BIT(3) | BIT(6) | BIT(8) | BIT(24), NULL,
        .name = "HWCR"),
    /* NB_CFG (BKDG 10h-16h MSRC001_001F): EnableCf8ExtCfg [46], which Linux
     * sets (arch/x86/pci/amd_bus.c enable_pci_io_ecs), reads back; the rest is
     * node configuration a VM cannot change: writes to it are dropped, as
     * KVM drops them all (x86.c MSR_AMD64_NB_CFG). Reset 0. */
    ROW(0xC001001F, 1, MSR_SLOT, 0, 0, BIT(46), ~BIT(46), NULL, .name = "NB_CFG"),
    /* VM_CR (APM vol. 2 15.30.1): the model reports no SVM, so SVMDIS [4] and
     * LOCK [3] read 1 and writes to them are ignored (LOCK set: "writes to
     * LOCK and SVMDIS are silently ignored"); DPD [0], R_INIT [1], DIS_A20M [2]
     * are writable; bits 63:5 reserved (#GP, as KVM's SVM_VM_CR_VALID_MASK). */
    ROW(0xC0010114, 1, MSR_SLOT, 0, BIT(3) | BIT(4), 0x7, BIT(3) | BIT(4), NULL, .name = "VM_CR"),
    /* LS_CFG (BKDG 15h/16h, PPR 17h): Linux uses it for SSBD only on families
     * 15h-17h without AMD_SSBD (amd.c bsp_init_amd, rdmsrl_safe); family 19h
     * has SPEC_CTRL[2]. A VM does not get it (KVM: #GP), nor here. */
    ROW(0xC0011020, 1, MSR_CONST, 0, 0, 0, 0, never, .name = "LS_CFG (not given to a VM)"),
    /* DE_CFG (PPR MSRC001_1029): LfenceSerializing [1], which Linux sets
     * (amd.c init_amd, msr_set_bit); every other bit raises #GP, as KVM
     * allows a guest only the host's feature bits (svm.c MSR_AMD64_DE_CFG). */
    ROW(0xC0011029, 1, MSR_SLOT, 0, 0, BIT(1), 0, NULL, .name = "DE_CFG"),
};

#define NROWS (sizeof(table) / sizeof(table[0]))

const struct msr_def *hv_msr_table(size_t *n)
{
    *n = NROWS;
    return table;
}

/* The row of msr, its index in the row, and the first slot.msr[] word of the row. */
static const struct msr_def *find(uint32_t msr, unsigned *idx, unsigned *word)
{
    unsigned w = 0;
    for (size_t r = 0; r < NROWS; r++) {
        const struct msr_def *d = &table[r];
        if (msr >= d->msr && msr - d->msr < d->count) {
            *idx = msr - d->msr;
            *word = w + *idx;
            return d;
        }
        if (d->store == MSR_SLOT)
            w += d->count;
    }
    return NULL;
}

const struct msr_def *hv_msr_find(uint32_t msr)
{
    unsigned idx, word;
    return find(msr, &idx, &word);
}

void hv_msr_reset(struct slot *s)
{
    unsigned w = 0;
    for (size_t r = 0; r < NROWS; r++)
        for (unsigned i = 0; table[r].store == MSR_SLOT && i < table[r].count; i++) {
            SNP_ASSERT(w < SLOT_MSRS);
            s->msr[w++] = table[r].reset;
        }
    /* A `--kernel` boot stands in for the firmware, which enables the MTRRs
     * with write-back as the default type before it hands over (SeaBIOS
     * src/fw/mtrr.c does; Linux 6.1 disables PAT when it finds MTRRs off). */
    unsigned idx, word;
    if (s->sys && s->sys->kernel_boot && find(0x2FF, &idx, &word))
        s->msr[word] = BIT(11) | 6;
}

static uint64_t row_wmask(const struct slot *s, const struct msr_def *d)
{
    return d->mask ? d->mask(s->sys, s->idx) : d->wmask;
}

static uint64_t current(struct slot *s, const struct msr_def *d, uint32_t msr, unsigned word)
{
    uint64_t v = 0;
    switch (d->store) {
    case MSR_SLOT: return s->msr[word];
    case MSR_ENGINE: SNP_ASSERT(vcpu_msr_get(s->cpu, msr, &v)); return v;
    case MSR_CONST: return d->value ? d->value(s->sys, s->idx) : 0;
    default: return 0; /* MSR_CMD: a command register reads as no command */
    }
}

/*
 * A WRMSR: the bits outside the writable and ignored masks must be written
 * as they read (reserved bits read 0, so writing 1 faults); the result must
 * pass the row's value check.
 */
static enum msr_result write_row(struct slot *s, const struct msr_def *d, uint32_t msr, unsigned word,
                             uint64_t val)
{
    if ((d->flags & MSR_RO) || d->store == MSR_CONST)
        return MSR_GP;
    uint64_t cur = current(s, d, msr, word), w = row_wmask(s, d);
    if ((val ^ cur) & ~(w | d->imask))
        return MSR_GP;
    uint64_t nv = (cur & ~w) | (val & w);
    if (d->valid && !d->valid(nv))
        return MSR_GP;
    if (d->store == MSR_SLOT)
        s->msr[word] = nv;
    else if (d->store == MSR_ENGINE)
        SNP_ASSERT(vcpu_msr_set(s->cpu, msr, nv));
    return MSR_OK;
}

enum msr_result hv_msr_table_access(struct slot *s, uint32_t msr, bool write, uint64_t *val)
{
    unsigned idx, word;
    const struct msr_def *d = find(msr, &idx, &word);
    if (!d)
        return MSR_MISS;
    if (d->present && !d->present(s->sys, s->idx))
        return MSR_GP;
    if (write)
        return write_row(s, d, msr, word, *val);
    if (d->flags & MSR_WO)
        return MSR_GP;
    *val = current(s, d, msr, word);
    return MSR_OK;
}

void hv_msr_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
    (void)subleaf;
    switch (leaf) {
    case 0x80000000:
        if (r[0] < 0x80000021)
            r[0] = 0x80000021;
        break;
    case 0x80000008:
        /* IBPB [12], IBRS [14], STIBP [15], SSBD [24]: an EPYC 7003 has them
         * (PPR CPUID Fn8000_0008_EBX). Linux then mitigates Spectre v2 user
         * space with IBPB/STIBP and SSB with SPEC_CTRL[2]. */
        r[1] |= BIT(12) | BIT(14) | BIT(15) | BIT(24);
        break;
    case 0x80000021:
        /* LFenceAlwaysSerializing [2] (the engine runs one instruction at a
         * time), VERW_CLEAR [5], SBPB [27], IBPB_BRTYPE [28]: a Milan with the
         * SRSO (AMD-SB-7005) and TSA (AMD-SB-7029) microcode, as KVM passes
         * the bits on (arch/x86/kvm/cpuid.c). PerfCtrExtCore
         * (0x80000001 ECX[23]) stays off: the table has no 0xC0010200-B. */
        r[0] |= (uint32_t)(BIT(2) | BIT(5) | BIT(27) | BIT(28));
        break;
    default: break;
    }
}

/* RDPMC (APM vol. 3): ECX 0-3 read PerfCtr0-3; 4-5 need PerfCtrExtCore
 * (CPUID 0x80000001 ECX[23]), which the model does not report; else #GP. */
bool hv_msr_rdpmc(struct slot *s, uint32_t ecx, uint64_t *val)
{
    if (ecx > 3)
        return false;
    return hv_msr_table_access(s, 0xC0010004 + ecx, false, val) == MSR_OK;
}
