/* SPDX-License-Identifier: MIT */
/*
 * Privilege changes the model performs, and SYSCALL/SYSRET.
 *
 * Every change of CPL the model makes goes through cpu_set_cs_ss(): CS and SS
 * with their descriptor caches and the CPL, together, in the engine's hidden
 * state (mode.c's segment loads), because a 64-bit engine's register API would
 * write the selectors alone and leave Unicorn checking privileged instructions
 * against the old CPL. Its users: IDT delivery in long and protected mode
 * (idt.c, idt_legacy.c), SYSCALL and SYSRET (here), the SEV world switch
 * (vmsa.c). IRET, far returns and SWAPGS run natively and are right once the
 * CPL is.
 *
 * Unicorn 2.1.4 does not perform SYSCALL (it calls a UC_HOOK_INSN hook and
 * moves RIP past it) and performs SYSRET the Intel way; both are intercepted
 * at their address (decode.c) and performed here per AMD APM vol. 3
 * "SYSCALL", "SYSRET": STAR[47:32] gives the kernel CS (SS = CS + 8),
 * STAR[63:48] the user selectors (CS + 16 for a 64-bit return, SS = base + 8),
 * LSTAR / CSTAR the 64-bit / compatibility-mode entry, SFMASK the RFLAGS bits
 * cleared on entry; RCX and R11 carry the return RIP and RFLAGS. As on AMD
 * hardware, SYSRET loads the SS selector but keeps the SS descriptor cache
 * (Linux: X86_BUG_SYSRET_SS_ATTRS, arch/x86/kernel/process_64.c).
 */
#include "cpu_int.h"

#define MSR_STAR   0xC0000081u
#define MSR_LSTAR  0xC0000082u
#define MSR_CSTAR  0xC0000083u
#define MSR_SFMASK 0xC0000084u

#define EFER_SCE   (1ull << 0)
#define EFER_LMA   (1ull << 10)
#define CR0_PE     (1ull << 0)
#define RFLAGS_IF  (1ull << 9)
#define RFLAGS_RF  (1ull << 16)
#define RFLAGS_VM  (1ull << 17)
/* RFLAGS bits SYSRET loads from R11 (SDM vol. 2 "SYSRET": R11 & 3C7FD7H | 2). */
#define SYSRET_RFLAGS 0x3C7FD7ull

/* The fixed descriptor caches SYSCALL and SYSRET load (APM vol. 3): flat,
 * present, accessed; code readable, data writable with B = 1. */
#define FLAT_CODE (SEGA_G | SEGA_P | SEGA_S | SEGA_CODE | SEGA_W | SEGA_A)
#define FLAT_DATA (SEGA_G | SEGA_DB | SEGA_P | SEGA_S | SEGA_W | SEGA_A)

bool cpu_gdt_desc(struct vcpu *v, uint16_t sel, uint64_t *desc)
{
    uc_x86_mmr gdtr;
    UC_CHECK(uc_reg_read(v->uc, UC_X86_REG_GDTR, &gdtr));
    if (!(sel & ~3u) || (sel & 4) || (uint64_t)(sel | 7u) > gdtr.limit)
        return false;
    uint32_t pf;
    uint64_t fva;
    return vcpu_read_lin(v, gdtr.base + (sel & ~7u), desc, 8, &pf, &fva) == 0;
}

void cpu_set_cs_ss(struct vcpu *v, const struct vmcb_seg *cs, const struct vmcb_seg *ss,
                   unsigned cpl)
{
    const struct vmcb_seg *segs[6] = {0};
    segs[SR_CS] = cs;
    segs[SR_SS] = ss;
    mode_set_segs_cpl(v, segs, cpl);
}

void cpu_load_cs_ss_from_gdt(struct vcpu *v, uint16_t cs_sel, uint16_t ss_sel, unsigned cpl)
{
    uint64_t d;
    if (!cpu_gdt_desc(v, cs_sel, &d))
        return; /* nothing to load from: the engine keeps its caches */
    struct vmcb_seg cs = seg_of_desc(cs_sel, d);
    struct vmcb_seg ss = {ss_sel, (uint16_t)(cpl << SEGA_DPL_SHIFT), 0, 0}; /* a null SS */
    if (cpu_gdt_desc(v, ss_sel, &d))
        ss = seg_of_desc(ss_sel, d);
    cpu_set_cs_ss(v, &cs, &ss, cpl);
}

static uint64_t msr(struct vcpu *v, uint32_t id)
{
    uint64_t val = 0;
    vcpu_msr_get(v, id, &val);
    return val;
}

enum insn_result cpu_syscall(struct vcpu *v, uint64_t next_rip)
{
    uint64_t efer = vcpu_get(v, VR_EFER);
    if (!(efer & EFER_SCE) || !(vcpu_get(v, VR_CR0) & CR0_PE))
        return INSN_UD;
    uint64_t star = msr(v, MSR_STAR), rflags = vcpu_get(v, VR_RFLAGS);
    uint16_t sel = (uint16_t)(star >> 32) & 0xFFFC;
    bool lma = efer & EFER_LMA;
    struct vmcb_seg cs = {sel, FLAT_CODE | (lma ? SEGA_L : SEGA_DB), 0xFFFFFFFFu, 0};
    struct vmcb_seg ss = {(uint16_t)(sel + 8), FLAT_DATA, 0xFFFFFFFFu, 0};
    uint64_t rip;
    if (lma) {
        rip = vcpu_code_bits(v) == 64 ? msr(v, MSR_LSTAR) : msr(v, MSR_CSTAR);
        vcpu_set(v, VR_RCX, next_rip);
        vcpu_set(v, VR_R11, rflags & ~RFLAGS_RF);
        rflags &= ~msr(v, MSR_SFMASK);
    } else {
        rip = (uint32_t)star;
        vcpu_set(v, VR_RCX, (uint32_t)next_rip);
        rflags &= ~(RFLAGS_VM | RFLAGS_IF);
    }
    cpu_set_cs_ss(v, &cs, &ss, 0);
    vcpu_set(v, VR_RFLAGS, (rflags & ~RFLAGS_RF) | 2);
    vcpu_set(v, VR_RIP, rip);
    return INSN_DONE;
}

/* RDPID (SDM vol. 2 "RDPID"; APM vol. 3): the destination gets TSC_AUX,
 * all 64 bits in 64-bit mode (its bits 63:32 are 0: ctlreg.c refuses them),
 * the low 32 otherwise; #UD when CPUID does not announce it. No flags change
 * and no CPL check: it runs at any privilege level. */
enum insn_result cpu_rdpid(struct vcpu *v, unsigned gpr, uint64_t next_rip)
{
    uint64_t aux = 0;
    if (!v->rdpid)
        return INSN_UD;
    SNP_ASSERT(vcpu_msr_get(v, 0xC0000103, &aux));
    enum vcpu_reg r = (enum vcpu_reg)(VR_RAX + (gpr & 15));
    vcpu_set(v, r, vcpu_code_bits(v) == 64 ? aux : (uint32_t)aux);
    vcpu_set(v, VR_RIP, next_rip);
    return INSN_DONE;
}

enum insn_result cpu_sysret(struct vcpu *v, bool rex_w)
{
    uint64_t efer = vcpu_get(v, VR_EFER);
    if (!(efer & EFER_SCE))
        return INSN_UD;
    if (!(vcpu_get(v, VR_CR0) & CR0_PE) || vcpu_cpl(v) != 0)
        return INSN_GP;
    uint16_t base = (uint16_t)(msr(v, MSR_STAR) >> 48);
    bool lma = efer & EFER_LMA, to64 = lma && rex_w;
    struct vmcb_seg cs = {(uint16_t)((to64 ? base + 16 : base) | 3),
                          FLAT_CODE | (3u << SEGA_DPL_SHIFT) | (to64 ? SEGA_L : SEGA_DB),
                          0xFFFFFFFFu, 0};
    /* The SS selector changes, its descriptor cache does not (AMD): the CPL
     * is 3 whatever the cached SS.DPL says. */
    struct vmcb_seg ss;
    vcpu_get_seg(v, VCPU_SS, &ss);
    ss.selector = (uint16_t)((base + 8) | 3);
    uint64_t rcx = vcpu_get(v, VR_RCX);
    uint64_t rflags = lma ? (vcpu_get(v, VR_R11) & SYSRET_RFLAGS) | 2
                          : vcpu_get(v, VR_RFLAGS) | RFLAGS_IF;
    cpu_set_cs_ss(v, &cs, &ss, 3);
    vcpu_set(v, VR_RFLAGS, rflags);
    vcpu_set(v, VR_RIP, to64 ? rcx : (uint32_t)rcx);
    return INSN_DONE;
}

/* CPL > IOPL: the TSS I/O permission bitmap decides (SDM vol. 1 19.5.2;
 * APM vol. 2 13.3.3): every bit for port..port+size-1 must be 0, and the two
 * bytes holding them must lie inside the TSS. */
static bool io_allowed(struct vcpu *v, uint16_t port, unsigned size)
{
    if (vcpu_cpl(v) <= ((vcpu_get(v, VR_RFLAGS) >> 12) & 3))
        return true;
    uc_x86_mmr tr;
    UC_CHECK(uc_reg_read(v->uc, UC_X86_REG_TR, &tr));
    uint16_t iobase = 0, bits = 0;
    uint32_t pf;
    uint64_t fva;
    if (tr.limit < 0x67 || vcpu_read_lin(v, tr.base + 0x66, &iobase, 2, &pf, &fva) < 0)
        return false;
    uint32_t at = iobase + port / 8u;
    if (at + 1 > tr.limit || vcpu_read_lin(v, tr.base + at, &bits, 2, &pf, &fva) < 0)
        return false;
    return !(bits & (((1u << size) - 1) << (port & 7)));
}

#define CR4_TSD (1ull << 2)
#define CR4_PCE (1ull << 8)

enum insn_result cpu_icpt_check(struct vcpu *v, const struct icpt *c)
{
    bool cpl0 = vcpu_cpl(v) == 0;
    switch (c->kind) {
    case IK_RDMSR: case IK_WRMSR: case IK_HLT: case IK_WBINVD: case IK_INVD:
    case IK_DR7_RD: case IK_DR7_WR: case IK_CR8_RD: case IK_CR8_WR:
        return cpl0 ? INSN_NATIVE : INSN_GP; /* MOV CRn: SDM vol. 2 "MOV to/from CRn" */
    case IK_MONITOR: case IK_MWAIT:
        return cpl0 ? INSN_NATIVE : INSN_UD; /* MONITOR/MWAIT are not enabled for user mode */
    case IK_RDPMC:
        return cpl0 || (vcpu_get(v, VR_CR4) & CR4_PCE) ? INSN_NATIVE : INSN_GP;
    case IK_RDTSC: case IK_RDTSCP:
        return cpl0 || !(vcpu_get(v, VR_CR4) & CR4_TSD) ? INSN_NATIVE : INSN_GP;
    case IK_INS: case IK_OUTS: case IK_IN: case IK_OUT: {
        uint16_t port = c->port < 0 ? (uint16_t)vcpu_get(v, VR_RDX) : (uint16_t)c->port;
        return io_allowed(v, port, c->opsize) ? INSN_NATIVE : INSN_GP;
    }
    default:
        return INSN_NATIVE;
    }
}

/* RDRAND and RDSEED (APM vol. 3 "RDRAND"): the hardware's DRBG, modelled as a
 * deterministic one (SplitMix64 of the vCPU index and a counter) so that runs
 * stay reproducible, which a host entropy source (what Unicorn's helper uses)
 * would break. Success always: CF = 1, OF SF ZF AF PF = 0. A 32-bit result
 * zero-extends, a 16-bit one merges (SDM vol. 1 3.4.1.1). */
enum insn_result cpu_rdrand(struct vcpu *v, unsigned gpr, unsigned opsize, uint64_t next_rip)
{
    uint64_t z = ((uint64_t)v->index << 48 ^ ++v->rdrand_ctr) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    enum vcpu_reg r = (enum vcpu_reg)(VR_RAX + (gpr & 15));
    uint64_t old = vcpu_get(v, r);
    uint64_t val = opsize == 8 ? z : opsize == 4 ? (uint32_t)z : (old & ~0xFFFFull) | (z & 0xFFFF);
    vcpu_set(v, r, val);
    uint64_t fl = vcpu_get(v, VR_RFLAGS) & ~0x8D5ull; /* OF SF ZF AF PF CF */
    vcpu_set(v, VR_RFLAGS, fl | 1);
    vcpu_set(v, VR_RIP, next_rip);
    return INSN_DONE;
}
