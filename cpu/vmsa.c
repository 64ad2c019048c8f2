/* SPDX-License-Identifier: MIT */
/*
 * The SEV-ES/SNP world switch: a vCPU's architectural state to and from its
 * VMSA (docs/sev-snp-facts.md section 2; Linux struct sev_es_save_area). Hardware saves
 * the state at #VMEXIT and loads it at VMRUN; the hypervisor never sees it.
 *
 * Unicorn exposes segment registers by selector (the hidden part is loaded
 * from the GDT when a selector is written), so the VMSA's attribute, limit and
 * base of CS/SS/DS/ES are taken from the guest's descriptors on save and
 * re-derived from them on load; FS/GS bases, GDTR/IDTR, TR and LDTR keep their
 * own values. XXX(model): a VMSA whose hidden segment parts disagree with its
 * GDT loads the GDT's view.
 */
#include <string.h>

#include "cpu_int.h"
#include "snpref/sev.h"

static struct vmcb_seg save_seg(struct vcpu *v, int reg, uint64_t gdt_base, uint32_t gdt_limit)
{
    uint16_t sel = (uint16_t)vcpu_read_reg(v, reg);
    uint64_t d = 0;
    uint32_t pf;
    uint64_t fva;
    if ((sel & ~3u) && (sel | 7u) <= gdt_limit)
        vcpu_read_lin(v, gdt_base + (sel & ~7u), &d, 8, &pf, &fva);
    return seg_of_desc(sel, d);
}

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
    uint64_t gb = a->gdtr.base;
    uint32_t gl = a->gdtr.limit;
    a->cs = save_seg(v, UC_X86_REG_CS, gb, gl);
    a->ss = save_seg(v, UC_X86_REG_SS, gb, gl);
    a->ds = save_seg(v, UC_X86_REG_DS, gb, gl);
    a->es = save_seg(v, UC_X86_REG_ES, gb, gl);
    a->fs = save_seg(v, UC_X86_REG_FS, gb, gl);
    a->gs = save_seg(v, UC_X86_REG_GS, gb, gl);
    a->fs.base = vcpu_read_reg(v, UC_X86_REG_FS_BASE);
    a->gs.base = vcpu_read_reg(v, UC_X86_REG_GS_BASE);
    a->cpl = (uint8_t)(a->cs.selector & 3);
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

/*
 * Selector writes load the descriptor from the GDT; a bad one fails VMRUN.
 * Unicorn reads the descriptor through the TLB-fill hook, and a refused fill
 * outside emulation would unwind into nothing: so the descriptor must first
 * be readable through the model's own walk (paging and, under SNP, the RMP).
 */
static int load_sel(struct vcpu *v, int reg, uint16_t sel, const struct vmcb_seg *gdtr)
{
    if (sel & ~3u) {
        uint64_t d;
        uint32_t pf;
        uint64_t fva;
        if ((sel | 7u) > gdtr->limit ||
            vcpu_read_lin(v, gdtr->base + (sel & ~7u), &d, 8, &pf, &fva) < 0)
            return -1;
    }
    return uc_reg_write(v->uc, reg, &sel) == UC_ERR_OK ? 0 : -1;
}

int vcpu_load_vmsa(struct vcpu *v, const struct sev_vmsa *a, const char **why)
{
    /* VMRUN's consistency checks that matter to a 64-bit guest (APM 15.5.1). */
    if (!(a->efer & (1ull << 12))) {
        *why = "VMSA EFER.SVME is clear";
        return -1;
    }
    if ((a->cr0 & (1ull << 31)) && !(a->cr0 & 1)) {
        *why = "VMSA CR0.PG without CR0.PE";
        return -1;
    }
    vcpu_set(v, VR_EFER, a->efer);
    vcpu_set(v, VR_CR4, a->cr4);
    vcpu_set(v, VR_CR3, a->cr3);
    vcpu_set(v, VR_CR0, a->cr0);
    vcpu_set(v, VR_CR2, a->cr2);
    uc_x86_mmr gdtr = {0, a->gdtr.base, a->gdtr.limit, 0}, idtr = {0, a->idtr.base, a->idtr.limit, 0};
    UC_CHECK(uc_reg_write(v->uc, UC_X86_REG_GDTR, &gdtr));
    UC_CHECK(uc_reg_write(v->uc, UC_X86_REG_IDTR, &idtr));
    const struct vmcb_seg gdt = a->gdtr, *g = &gdt;
    if (load_sel(v, UC_X86_REG_CS, a->cs.selector, g) < 0 ||
        load_sel(v, UC_X86_REG_SS, a->ss.selector, g) < 0 ||
        load_sel(v, UC_X86_REG_DS, a->ds.selector, g) < 0 ||
        load_sel(v, UC_X86_REG_ES, a->es.selector, g) < 0 ||
        load_sel(v, UC_X86_REG_FS, a->fs.selector, g) < 0 ||
        load_sel(v, UC_X86_REG_GS, a->gs.selector, g) < 0) {
        *why = "VMSA segment selector does not load from its GDT";
        return -1;
    }
    /* VMRUN loads the CPL from the VMSA (APM vol. 2 15.5.1), and a 64-bit
     * engine's selector writes above leave CS, SS and the CPL as they were. */
    cpu_load_cs_ss_from_gdt(v, a->cs.selector, a->ss.selector, a->cpl & 3);
    vcpu_write_reg(v, UC_X86_REG_FS_BASE, a->fs.base);
    vcpu_write_reg(v, UC_X86_REG_GS_BASE, a->gs.base);
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
    vcpu_set(v, VR_RFLAGS, a->rflags | 2);
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
