/* SPDX-License-Identifier: MIT */
/*
 * Control-register and MSR writes that must raise #GP.
 *
 * Unicorn performs MOV to CR0/CR3/CR4 without any of the architectural checks
 * (QEMU's helper_write_crN stores the value; an invalid CR0 or a CR4.PAE
 * cleared in long mode would just leave the engine in a state no hardware
 * reaches). So MOV to CRn is intercepted at its address (decode.c) and checked
 * here before the engine performs it: reserved bits, CR0.PG without PE, NW
 * without CD, turning paging on in long mode without PAE or from a 64-bit code
 * segment, turning it off in 64-bit mode, clearing PAE or changing LA57 in long
 * mode, setting PCIDE outside long mode or with CR3[11:0] not 0 (APM vol. 2
 * 3.1.1-3.1.3 and 14.7; SDM vol. 2 "MOV to/from Control Registers", vol. 3
 * 4.10.1). The same goes for the engine-held MSRs the model writes for a
 * guest WRMSR (vcpu_msr_valid): EFER reserved bits and an EFER.LME change
 * while paging is on (APM vol. 2 3.1.7, 14.6), non-canonical segment bases and
 * SYSCALL targets, PAT memory types (APM vol. 2 7.8.1), TSC_AUX bits 63:32.
 */
#include "cpu_int.h"

#define CR0_PE   (1ull << 0)
#define CR0_NW   (1ull << 29)
#define CR0_CD   (1ull << 30)
#define CR0_PG   (1ull << 31)
#define CR4_PAE  (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define CR4_PCIDE (1ull << 17)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

/* EFER bits a guest may write: SCE LME LMA NXE SVME LMSLE FFXSR TCE (APM vol. 2 3.1.7). */
#define EFER_VALID 0xFD01ull

/* The physical-address width the CPU reports (paging.c). */
#define PADDR_BITS 48

/* CR4 bits this CPU implements (the engine and paging.c support them):
 * VME PVI TSD DE PSE PAE MCE PGE PCE OSFXSR OSXMMEXCPT UMIP LA57 FSGSBASE
 * PCIDE OSXSAVE SMEP SMAP PKE. */
#define CR4_IMPLEMENTED 0x771FFFull

/* CPUID bit -> CR4 bit it makes legal (SDM vol. 3 2.5; KVM __cr4_reserved_bits). */
uint64_t vcpu_cr4_allowed_by_cpuid(uint32_t l1_ecx, uint32_t l1_edx, uint32_t l7_ebx,
                                   uint32_t l7_ecx)
{
    static const struct {
        uint8_t leaf_reg; /* 0: 1.ECX, 1: 1.EDX, 2: 7.EBX, 3: 7.ECX */
        uint8_t bit;
        uint64_t cr4;
    } map[] = {
        {1, 1, 3ull << 0},   /* VME: CR4.VME, PVI */
        {1, 2, 1ull << 3},   /* DE */
        {1, 3, 1ull << 4},   /* PSE */
        {1, 6, 1ull << 5},   /* PAE */
        {1, 7, 1ull << 6},   /* MCE */
        {1, 13, 1ull << 7},  /* PGE */
        {1, 24, 1ull << 9},  /* FXSR: OSFXSR */
        {1, 25, 1ull << 10}, /* SSE: OSXMMEXCPT */
        {3, 2, 1ull << 11},  /* UMIP */
        {3, 16, 1ull << 12}, /* LA57 */
        {2, 0, 1ull << 16},  /* FSGSBASE */
        {0, 17, 1ull << 17}, /* PCID: PCIDE */
        {0, 26, 1ull << 18}, /* XSAVE: OSXSAVE */
        {2, 7, 1ull << 20},  /* SMEP */
        {2, 20, 1ull << 21}, /* SMAP */
        {3, 3, 1ull << 22},  /* PKU: PKE */
    };
    const uint32_t regs[4] = {l1_ecx, l1_edx, l7_ebx, l7_ecx};
    uint64_t ok = 1ull << 2 | 1ull << 8; /* TSD, PCE: no CPUID bit */
    for (size_t i = 0; i < ARRAY_SIZE(map); i++)
        if (regs[map[i].leaf_reg] >> map[i].bit & 1)
            ok |= map[i].cr4;
    return ok & CR4_IMPLEMENTED;
}

uint64_t cpu_cr4_implemented(void) { return CR4_IMPLEMENTED; }

static bool canonical(struct vcpu *v, uint64_t va)
{
    int bits = (vcpu_get(v, VR_CR4) & CR4_LA57) ? 57 : 48;
    return (uint64_t)((int64_t)(va << (64 - bits)) >> (64 - bits)) == va;
}

static enum insn_result cr0_check(struct vcpu *v, uint64_t val)
{
    uint64_t old = vcpu_get(v, VR_CR0), efer = vcpu_get(v, VR_EFER);
    if ((val >> 32) || ((val & CR0_PG) && !(val & CR0_PE)) || ((val & CR0_NW) && !(val & CR0_CD)))
        return INSN_GP;
    bool mode64 = vcpu_code_bits(v) == 64;
    if (!(old & CR0_PG) && (val & CR0_PG) && (efer & EFER_LME) &&
        (!(vcpu_get(v, VR_CR4) & CR4_PAE) || mode64))
        return INSN_GP;
    if ((old & CR0_PG) && !(val & CR0_PG) && mode64)
        return INSN_GP;
    return INSN_NATIVE;
}

static enum insn_result cr4_check(struct vcpu *v, uint64_t val)
{
    uint64_t old = vcpu_get(v, VR_CR4);
    bool lma = vcpu_get(v, VR_EFER) & EFER_LMA;
    if (val & ~v->cr4_allowed)
        return INSN_GP;
    if (lma && (!(val & CR4_PAE) || ((val ^ old) & CR4_LA57)))
        return INSN_GP;
    if ((val & CR4_PCIDE) && !(old & CR4_PCIDE) && (!lma || (vcpu_get(v, VR_CR3) & 0xFFF)))
        return INSN_GP;
    return INSN_NATIVE;
}

static enum insn_result cr3_check(struct vcpu *v, uint64_t val)
{
    if (!(vcpu_get(v, VR_EFER) & EFER_LMA))
        return INSN_NATIVE;
    /* Bits above the physical-address width are reserved; the SEV C-bit is an
     * address bit, and bit 63 is the PCID no-flush hint when CR4.PCIDE = 1. */
    uint64_t rsvd = ~((1ull << PADDR_BITS) - 1);
    if (v->cbit_pos)
        rsvd &= ~(1ull << v->cbit_pos);
    if (vcpu_get(v, VR_CR4) & CR4_PCIDE)
        rsvd &= ~(1ull << 63);
    return (val & rsvd) ? INSN_GP : INSN_NATIVE;
}

enum insn_result cpu_mov_to_cr(struct vcpu *v, unsigned cr, uint64_t val)
{
    /* At CPL > 0 the engine itself raises #GP(0), as the hardware does first. */
    if (vcpu_cpl(v) != 0)
        return INSN_NATIVE;
    switch (cr) {
    case 0: return cr0_check(v, val);
    case 3: return cr3_check(v, val);
    case 4: return cr4_check(v, val);
    default: return INSN_NATIVE;
    }
}

static bool pat_valid(uint64_t pat)
{
    for (int i = 0; i < 8; i++) {
        unsigned t = (pat >> (8 * i)) & 0xFF;
        if (t != 0 && t != 1 && t != 4 && t != 5 && t != 6 && t != 7)
            return false;
    }
    return true;
}

bool vcpu_msr_valid(struct vcpu *v, uint32_t msr, uint64_t val)
{
    switch (msr) {
    case 0xC0000080: { /* EFER */
        uint64_t old = vcpu_get(v, VR_EFER);
        if (val & ~EFER_VALID)
            return false;
        return !((vcpu_get(v, VR_CR0) & CR0_PG) && ((val ^ old) & EFER_LME));
    }
    case 0xC0000082: case 0xC0000083:                 /* LSTAR, CSTAR */
    case 0xC0000100: case 0xC0000101: case 0xC0000102: /* FS, GS, KERNEL_GS base */
        return canonical(v, val);
    case 0x277:                                       /* PAT */
        return pat_valid(val);
    case 0xC0000103:                                  /* TSC_AUX */
        return !(val >> 32);
    default:
        return true;
    }
}
