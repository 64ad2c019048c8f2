/* SPDX-License-Identifier: MIT */
/*
 * Event delivery outside long mode (Unicorn delivers none: notes in idt.c).
 *
 * Real mode (SDM vol. 3 20.1.4): the IVT at IDTR.base holds a 4-byte CS:IP per
 * vector; the CPU pushes FLAGS, CS and IP (16 bits each) at SS:SP, clears IF,
 * TF, AC and RF, and continues at the vector's CS:IP. No error code.
 *
 * 32-bit protected mode (SDM vol. 3 6.11-6.12; APM vol. 2 8.9): 8-byte
 * interrupt and trap gates, 32- or 16-bit by type; the gate DPL check for
 * software interrupts; a handler in a more privileged code segment gets the
 * stack of that level from the 32-bit TSS (SS0:ESP0 at offsets 8:4) and the
 * old SS:ESP pushed first; then EFLAGS, CS, EIP and the error code. Loading
 * CS (and SS) loads their hidden parts from the descriptor (mode.c).
 * XXX(model): task gates, LDT code segments, conforming handler segments and
 * virtual-8086 mode are not modelled: delivery through them raises #GP as an
 * invalid gate would.
 */
#include <string.h>

#include "cpu_int.h"

#define RFLAGS_TF (1ull << 8)
#define RFLAGS_IF (1ull << 9)
#define RFLAGS_NT (1ull << 14)
#define RFLAGS_RF (1ull << 16)
#define RFLAGS_VM (1ull << 17)
#define RFLAGS_AC (1ull << 18)
#define CR0_PE 1ull

static uint32_t ext_bit(const struct vcpu_event *ev) { return ev->type == VEV_SOFTINT ? 0u : 1u; }

static int gp(struct nested *f, uint32_t err, uint8_t vec)
{
    *f = (struct nested){vec, err, true, 0};
    return -1;
}

/* A system-structure or stack access; a failure is the nested fault `vec`. */
static int lin(struct vcpu *v, uint64_t va, const void *p, size_t n, bool write, uint8_t vec,
               struct nested *f)
{
    uint32_t pf;
    uint64_t fva;
    int rc = write ? vcpu_write_lin(v, va, p, n, &pf, &fva)
                   : vcpu_read_lin(v, va, (void *)p, n, &pf, &fva);
    if (rc == 0)
        return 0;
    *f = pf == UINT32_MAX ? (struct nested){vec, 0, true, 0} : (struct nested){X86_PF, pf, true, fva};
    return -1;
}

/* Pushes the n values of vals (last first, so vals[0] ends on top) of `size`
 * bytes at ss_base + sp, wrapping the pointer to the stack's width. */
static int push(struct vcpu *v, uint64_t ss_base, uint64_t *sp, uint64_t sp_mask, unsigned size,
                const uint32_t *vals, unsigned n, struct nested *f)
{
    uint64_t p = *sp;
    for (unsigned i = n; i-- > 0;) {
        p = (p - size) & sp_mask;
        if (lin(v, ss_base + p, &vals[i], size, true, X86_SS, f) < 0)
            return -1;
    }
    *sp = p;
    return 0;
}

static int deliver_real(struct vcpu *v, const struct vcpu_event *ev, struct nested *f)
{
    uc_x86_mmr idtr;
    UC_CHECK(uc_reg_read(v->uc, UC_X86_REG_IDTR, &idtr));
    if ((uint64_t)ev->vector * 4 + 3 > idtr.limit)
        return gp(f, (uint32_t)ev->vector * 8 + 2, X86_GP);
    uint16_t ent[2];
    if (lin(v, idtr.base + (uint64_t)ev->vector * 4, ent, 4, false, X86_GP, f) < 0)
        return -1;
    struct vmcb_seg ss;
    vcpu_get_seg(v, VCPU_SS, &ss);
    uint64_t rflags = vcpu_get(v, VR_RFLAGS), rsp = vcpu_get(v, VR_RSP), sp = rsp & 0xFFFF;
    uint32_t frame[3] = {(uint32_t)vcpu_get(v, VR_RIP) & 0xFFFF,
                         (uint32_t)vcpu_read_reg(v, UC_X86_REG_CS), (uint32_t)rflags & 0xFFFF};
    /* frame[] is pushed last-first: FLAGS, then CS, then IP on top. */
    if (push(v, ss.base, &sp, 0xFFFF, 2, frame, 3, f) < 0)
        return -1;
    mode_load_real_seg(v, VCPU_CS, ent[1]);
    vcpu_set(v, VR_RSP, (rsp & ~0xFFFFull) | sp);
    vcpu_set(v, VR_RFLAGS, rflags & ~(RFLAGS_IF | RFLAGS_TF | RFLAGS_AC | RFLAGS_RF));
    vcpu_set(v, VR_RIP, ent[0]);
    return 0;
}

/* The GDT descriptor of sel (LDT selectors are not modelled: #GP). */
static int gdt_desc(struct vcpu *v, uint16_t sel, uint32_t ext, uint64_t *d, struct nested *f)
{
    uc_x86_mmr gdtr;
    UC_CHECK(uc_reg_read(v->uc, UC_X86_REG_GDTR, &gdtr));
    if ((sel & 0xFFFC) == 0 || (sel & 4) || (uint64_t)(sel & ~7u) + 7 > gdtr.limit)
        return gp(f, (sel & 0xFFFCu) | ext, X86_GP);
    return lin(v, gdtr.base + (sel & ~7u), d, 8, false, X86_GP, f);
}

/* The handler's stack at level dpl from the 32-bit TSS, as a loaded SS. */
static int inner_stack(struct vcpu *v, unsigned dpl, uint32_t ext, struct vmcb_seg *ss,
                       uint64_t *esp, struct nested *f)
{
    uc_x86_mmr tr;
    UC_CHECK(uc_reg_read(v->uc, UC_X86_REG_TR, &tr));
    uint32_t off = 4 + 8 * dpl, sp;
    uint16_t sel;
    if (!tr.selector || off + 5 > tr.limit)
        return gp(f, (tr.selector & 0xFFFCu) | ext, X86_TS);
    if (lin(v, tr.base + off, &sp, 4, false, X86_TS, f) < 0 ||
        lin(v, tr.base + off + 4, &sel, 2, false, X86_TS, f) < 0)
        return -1;
    uint64_t d;
    if ((sel & 3) != dpl || gdt_desc(v, sel, ext, &d, f) < 0)
        return gp(f, (sel & 0xFFFCu) | ext, X86_TS);
    *ss = seg_of_desc(sel, d);
    bool writable_data = (ss->attrib & 0x1A) == 0x12, present = ss->attrib & 0x80;
    if (!writable_data || ((ss->attrib >> 5) & 3) != dpl)
        return gp(f, (sel & 0xFFFCu) | ext, X86_TS);
    if (!present)
        return gp(f, (sel & 0xFFFCu) | ext, X86_SS);
    *esp = sp;
    return 0;
}

/* The gate's handler CS: a present, non-conforming code segment with DPL <= CPL. */
static int handler_cs(struct vcpu *v, uint16_t sel, const struct vcpu_event *ev, unsigned cpl,
                      struct vmcb_seg *cs, struct nested *f)
{
    uint32_t ext = ext_bit(ev);
    uint64_t d;
    if (gdt_desc(v, sel, ext, &d, f) < 0)
        return -1;
    *cs = seg_of_desc(sel, d);
    unsigned dpl = (cs->attrib >> 5) & 3;
    bool code = (cs->attrib & 0x18) == 0x18, conforming = cs->attrib & 0x04;
    if (!code || conforming || dpl > cpl || (cs->attrib & (1u << 9)) /* L */)
        return gp(f, (sel & 0xFFFCu) | ext, X86_GP);
    if (!(cs->attrib & 0x80))
        return gp(f, (sel & 0xFFFCu) | ext, X86_NP);
    cs->selector = (uint16_t)((sel & ~3u) | dpl);
    return 0;
}

static int deliver_prot(struct vcpu *v, const struct vcpu_event *ev, struct nested *f)
{
    uint32_t idt_err = ((uint32_t)ev->vector << 3) | 2u | ext_bit(ev);
    uc_x86_mmr idtr;
    UC_CHECK(uc_reg_read(v->uc, UC_X86_REG_IDTR, &idtr));
    uint8_t g[8];
    if ((uint64_t)ev->vector * 8 + 7 > idtr.limit)
        return gp(f, idt_err, X86_GP);
    if (lin(v, idtr.base + (uint64_t)ev->vector * 8, g, 8, false, X86_GP, f) < 0)
        return -1;
    unsigned type = g[5] & 0xF, gdpl = (g[5] >> 5) & 3, cpl = vcpu_cpl(v);
    uint64_t rflags = vcpu_get(v, VR_RFLAGS);
    if ((type & 7) != 6 && (type & 7) != 7) /* 16/32-bit interrupt or trap gate */
        return gp(f, idt_err, X86_GP);
    if ((ev->type == VEV_SOFTINT && gdpl < cpl) || (rflags & RFLAGS_VM))
        return gp(f, idt_err, X86_GP);
    if (!(g[5] & 0x80))
        return gp(f, idt_err, X86_NP);
    struct vmcb_seg cs, ss, old_ss;
    if (handler_cs(v, (uint16_t)(g[2] | g[3] << 8), ev, cpl, &cs, f) < 0)
        return -1;
    unsigned dpl = cs.selector & 3, size = (type & 8) ? 4 : 2;
    vcpu_get_seg(v, VCPU_SS, &old_ss);
    uint64_t old_esp = vcpu_get(v, VR_RSP), esp = old_esp;
    ss = old_ss;
    if (dpl < cpl && inner_stack(v, dpl, ext_bit(ev), &ss, &esp, f) < 0)
        return -1;
    uint64_t sp_mask = (ss.attrib & 0x400) ? 0xFFFFFFFFull : 0xFFFF;
    uint32_t frame[6];
    unsigned n = 0;
    if (dpl < cpl) {
        frame[n++] = old_ss.selector;
        frame[n++] = (uint32_t)old_esp;
    }
    frame[n++] = (uint32_t)rflags;
    frame[n++] = (uint32_t)vcpu_read_reg(v, UC_X86_REG_CS);
    frame[n++] = (uint32_t)vcpu_get(v, VR_RIP);
    if (ev->type == VEV_EXCEPTION && ev->has_error)
        frame[n++] = ev->error;
    /* frame[] runs deepest first; push() wants the top first. */
    uint32_t rev[6];
    for (unsigned i = 0; i < n; i++)
        rev[i] = frame[n - 1 - i];
    uint64_t sp = esp & sp_mask;
    if (push(v, ss.base, &sp, sp_mask, size, rev, n, f) < 0)
        return -1;
    if (ev->vector == X86_PF && ev->type == VEV_EXCEPTION)
        vcpu_set(v, VR_CR2, ev->cr2);
    const struct vmcb_seg *segs[6] = {0};
    segs[SR_CS] = &cs;
    if (dpl < cpl)
        segs[SR_SS] = &ss;
    mode_set_segs(v, segs);
    vcpu_set(v, VR_RSP, (esp & ~sp_mask) | sp);
    rflags &= ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF | RFLAGS_VM);
    if (!(type & 1))
        rflags &= ~RFLAGS_IF;
    vcpu_set(v, VR_RFLAGS, rflags);
    uint32_t off = (uint32_t)(g[0] | g[1] << 8) | (size == 4 ? (uint32_t)(g[6] | g[7] << 8) << 16 : 0);
    vcpu_set(v, VR_RIP, off);
    return 0;
}

int idt_deliver_legacy(struct vcpu *v, const struct vcpu_event *ev, struct nested *f)
{
    if (!(vcpu_get(v, VR_CR0) & CR0_PE))
        return deliver_real(v, ev, f);
    return deliver_prot(v, ev, f);
}
