/* SPDX-License-Identifier: MIT */
/*
 * The SEV-ES/SNP world switch: a vCPU's architectural state to and from its
 * VMSA (docs/sev-snp-facts.md section 2; Linux struct sev_es_save_area). Hardware saves
 * the state at #VMEXIT and loads it at VMRUN; the hypervisor never sees it.
 *
 * The segment registers go to and from the VMSA with their hidden parts
 * (selector, attributes, limit, base) through the engine's descriptor caches
 * (cpu/mode.c), never by a selector write, which would make Unicorn read the
 * GDT with the checks of whatever CPL the engine had before.
 */
#include <string.h>

#include "cpu_int.h"
#include "snpref/sev.h"

static struct vmcb_seg save_mmr(struct vcpu *v, int reg)
{
    uc_x86_mmr m;
    UC_CHECK(uc_reg_read(v->uc, reg, &m));
    struct vmcb_seg s = {m.selector, 0, m.limit, m.base};
    if (reg != UC_X86_REG_GDTR && reg != UC_X86_REG_IDTR)
        s.attrib = attrib_of_flags(m.flags);
    return s;
}

static uint64_t msr(struct vcpu *v, uint32_t id)
{
    uint64_t val = 0;
    vcpu_msr_get(v, id, &val);
    return val;
}

void vcpu_save_vmsa(struct vcpu *v, struct sev_vmsa *a)
{
    a->gdtr = save_mmr(v, UC_X86_REG_GDTR);
    a->idtr = save_mmr(v, UC_X86_REG_IDTR);
    a->ldtr = save_mmr(v, UC_X86_REG_LDTR);
    a->tr = save_mmr(v, UC_X86_REG_TR);
    struct vmcb_seg sg[6]; /* the VMSA is packed: through aligned copies */
    for (int r = VCPU_ES; r <= VCPU_GS; r++)
        vcpu_get_seg(v, (enum vcpu_sreg)r, &sg[r]);
    a->es = sg[VCPU_ES], a->cs = sg[VCPU_CS], a->ss = sg[VCPU_SS];
    a->ds = sg[VCPU_DS], a->fs = sg[VCPU_FS], a->gs = sg[VCPU_GS];
    a->fs.base = vcpu_read_reg(v, UC_X86_REG_FS_BASE);
    a->gs.base = vcpu_read_reg(v, UC_X86_REG_GS_BASE);
    a->cpl = (uint8_t)vcpu_cpl(v);
    a->efer = vcpu_get(v, VR_EFER);
    a->cr0 = vcpu_get(v, VR_CR0);
    a->cr2 = vcpu_get(v, VR_CR2);
    a->cr3 = vcpu_get(v, VR_CR3);
    a->cr4 = vcpu_get(v, VR_CR4);
    a->dr7 = vcpu_get(v, VR_DR7);
    a->dr6 = vcpu_read_reg(v, UC_X86_REG_DR6);
    a->rflags = vcpu_get(v, VR_RFLAGS);
    a->rip = vcpu_get(v, VR_RIP);
    a->rax = vcpu_get(v, VR_RAX), a->rcx = vcpu_get(v, VR_RCX), a->rdx = vcpu_get(v, VR_RDX);
    a->rbx = vcpu_get(v, VR_RBX), a->rsp = vcpu_get(v, VR_RSP), a->rbp = vcpu_get(v, VR_RBP);
    a->rsi = vcpu_get(v, VR_RSI), a->rdi = vcpu_get(v, VR_RDI), a->r8 = vcpu_get(v, VR_R8);
    a->r9 = vcpu_get(v, VR_R9), a->r10 = vcpu_get(v, VR_R10), a->r11 = vcpu_get(v, VR_R11);
    a->r12 = vcpu_get(v, VR_R12), a->r13 = vcpu_get(v, VR_R13), a->r14 = vcpu_get(v, VR_R14);
    a->r15 = vcpu_get(v, VR_R15);
    a->star = msr(v, 0xC0000081), a->lstar = msr(v, 0xC0000082), a->cstar = msr(v, 0xC0000083);
    a->sfmask = msr(v, 0xC0000084), a->kernel_gs_base = msr(v, 0xC0000102);
    a->sysenter_cs = msr(v, 0x174), a->sysenter_esp = msr(v, 0x175);
    a->sysenter_eip = msr(v, 0x176), a->g_pat = msr(v, 0x277);
    a->tsc_aux = (uint32_t)msr(v, 0xC0000103);
    a->mxcsr = (uint32_t)vcpu_read_reg(v, UC_X86_REG_MXCSR);
    a->x87_fcw = (uint16_t)vcpu_read_reg(v, UC_X86_REG_FPCW);
    a->x87_fsw = (uint16_t)vcpu_read_reg(v, UC_X86_REG_FPSW);
    a->x87_ftw = (uint16_t)vcpu_read_reg(v, UC_X86_REG_FPTAG);
    for (int i = 0; i < 16; i++)
        UC_CHECK(uc_reg_read(v->uc, UC_X86_REG_XMM0 + i, a->fpreg_xmm + 16 * i));
    for (int i = 0; i < 8; i++) {
        uint8_t f[16] = {0}; /* an 80-bit register: mantissa, then exponent */
        UC_CHECK(uc_reg_read(v->uc, UC_X86_REG_FP0 + i, f));
        sev_vmsa_x87_put(a, (unsigned)i, f);
    }
    a->xcr0 = 1;
}

/* EFER bits a VMSA may set (APM vol. 2 3.1.7): SCE, LME, LMA, NXE, SVME,
 * LMSLE, FFXSR, TCE, MCOMMIT, INTWB, UAIE, AIBRSE; the rest MBZ. */
#define EFER_VALID 0x36FD01ull

/* VMRUN's consistency checks on the state it loads (APM vol. 2 15.5.1
 * "Canonicalization and Consistency Checks"): NULL when they pass, else the
 * check that failed. */
static const char *vmrun_check(const struct sev_vmsa *a)
{
    bool lme = a->efer & (1ull << 8), pg = a->cr0 & (1ull << 31);
    if (!(a->efer & (1ull << 12)))
        return "VMSA EFER.SVME is clear";
    if (a->efer & ~EFER_VALID)
        return "VMSA EFER has a reserved (MBZ) bit set";
    if (!(a->cr0 & (1ull << 30)) && (a->cr0 & (1ull << 29)))
        return "VMSA CR0.NW is set with CR0.CD clear";
    if (a->cr0 >> 32)
        return "VMSA CR0[63:32] is not zero";
    if (pg && !(a->cr0 & 1))
        return "VMSA CR0.PG is set without CR0.PE";
    if (lme && pg && !(a->cr4 & (1ull << 5)))
        return "VMSA EFER.LME and CR0.PG are set without CR4.PAE";
    if (lme && pg && (a->cr3 >> 52))
        return "VMSA CR3[63:52] (MBZ in long mode) is not zero";
    if (a->cr4 >> 32)
        return "VMSA CR4[63:32] is not zero";
    if (a->dr6 >> 32)
        return "VMSA DR6[63:32] is not zero";
    if (a->dr7 >> 32)
        return "VMSA DR7[63:32] is not zero";
    /* CS attributes: L is bit 9, D/B bit 10 (VMCB segment attribute format). */
    if (lme && pg && (a->cr4 & (1ull << 5)) && (a->cs.attrib & 0x200) && (a->cs.attrib & 0x400))
        return "VMSA CS.L and CS.D are both set in long mode";
    return NULL;
}

int vcpu_load_vmsa(struct vcpu *v, const struct sev_vmsa *a, const char **why)
{
    if ((*why = vmrun_check(a)) != NULL)
        return -1;
    if (mode_set_control(v, a->cr0, a->cr3, a->cr4, a->efer, why) < 0)
        return -1;
    vcpu_set(v, VR_CR2, a->cr2);
    uc_x86_mmr gdtr = {0, a->gdtr.base, a->gdtr.limit, 0}, idtr = {0, a->idtr.base, a->idtr.limit, 0};
    UC_CHECK(uc_reg_write(v->uc, UC_X86_REG_GDTR, &gdtr));
    UC_CHECK(uc_reg_write(v->uc, UC_X86_REG_IDTR, &idtr));
    vcpu_set(v, VR_RFLAGS, a->rflags | 2);
    /* VMRUN loads the segment registers' hidden parts and the CPL from the
     * VMSA as they are (APM vol. 2 15.5.1), without reading a descriptor
     * table: a real-mode VMSA (Linux's SNP AP trampoline: CS base = the
     * trampoline) or a ring-3 one starts as its state says. */
    const struct vmcb_seg sg[6] = {a->es, a->cs, a->ss, a->ds, a->fs, a->gs};
    const struct vmcb_seg *segs[6] = {&sg[0], &sg[1], &sg[2], &sg[3], &sg[4], &sg[5]};
    mode_set_segs_cpl(v, segs, a->cpl & 3);
    uc_x86_mmr tr = {a->tr.selector, a->tr.base, a->tr.limit, flags_of_attrib(a->tr.attrib)};
    uc_x86_mmr ldtr = {a->ldtr.selector, a->ldtr.base, a->ldtr.limit, flags_of_attrib(a->ldtr.attrib)};
    UC_CHECK(uc_reg_write(v->uc, UC_X86_REG_TR, &tr));
    UC_CHECK(uc_reg_write(v->uc, UC_X86_REG_LDTR, &ldtr));
    static const enum vcpu_reg gpr[] = {VR_RAX, VR_RCX, VR_RDX, VR_RBX, VR_RSP, VR_RBP, VR_RSI,
                                        VR_RDI, VR_R8,  VR_R9,  VR_R10, VR_R11, VR_R12, VR_R13,
                                        VR_R14, VR_R15};
    const uint64_t val[] = {a->rax, a->rcx, a->rdx, a->rbx, a->rsp, a->rbp, a->rsi, a->rdi,
                            a->r8,  a->r9,  a->r10, a->r11, a->r12, a->r13, a->r14, a->r15};
    for (size_t i = 0; i < ARRAY_SIZE(gpr); i++)
        vcpu_set(v, gpr[i], val[i]);
    vcpu_set(v, VR_RIP, a->rip);
    vcpu_set(v, VR_DR7, a->dr7);
    vcpu_msr_set(v, 0xC0000081, a->star), vcpu_msr_set(v, 0xC0000082, a->lstar);
    vcpu_msr_set(v, 0xC0000083, a->cstar), vcpu_msr_set(v, 0xC0000084, a->sfmask);
    vcpu_msr_set(v, 0xC0000102, a->kernel_gs_base), vcpu_msr_set(v, 0x174, a->sysenter_cs);
    vcpu_msr_set(v, 0x175, a->sysenter_esp), vcpu_msr_set(v, 0x176, a->sysenter_eip);
    vcpu_msr_set(v, 0x277, a->g_pat), vcpu_msr_set(v, 0xC0000103, a->tsc_aux);
    vcpu_write_reg(v, UC_X86_REG_MXCSR, a->mxcsr ? a->mxcsr : 0x1F80);
    vcpu_write_reg(v, UC_X86_REG_FPCW, a->x87_fcw ? a->x87_fcw : 0x37F);
    for (int i = 0; i < 16; i++)
        UC_CHECK(uc_reg_write(v->uc, UC_X86_REG_XMM0 + i, a->fpreg_xmm + 16 * i));
    for (int i = 0; i < 8; i++) {
        uint8_t f[16] = {0};
        sev_vmsa_x87_get(a, (unsigned)i, f);
        UC_CHECK(uc_reg_write(v->uc, UC_X86_REG_FP0 + i, f));
    }
    v->nmi_blocked = false;
    v->shadow_pc = UINT64_MAX;
    v->irq_check = true;
    UC_CHECK(uc_ctl_flush_tlb(v->uc));
    mode_refresh(v);
    return 0;
}
