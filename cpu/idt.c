/* SPDX-License-Identifier: MIT */
/*
 * Event delivery through the guest IDT (Unicorn does none: docs/unicorn.md).
 * Long-mode only, as the guest ABI is: 16-byte interrupt and trap gates, gate
 * DPL check for software interrupts, IST and TSS RSP0..2 stack switches, the
 * 16-byte stack alignment, the five- or six-qword frame, IF cleared by
 * interrupt gates, TF/NT/RF cleared always (SDM vol. 3 6.12, 6.14; APM vol. 2
 * 8.9). A fault while delivering becomes a #DF where the double-fault table
 * says so (SDM table 6-5), and a fault while delivering #DF shuts down.
 */
#include <string.h>

#include "cpu_int.h"

#define RFLAGS_TF (1ull << 8)
#define RFLAGS_IF (1ull << 9)
#define RFLAGS_NT (1ull << 14)
#define RFLAGS_RF (1ull << 16)
#define RFLAGS_VM (1ull << 17)

static bool has_error_code(unsigned v)
{
    return v == X86_DF || v == X86_TS || v == X86_NP || v == X86_SS || v == X86_GP ||
           v == X86_PF || v == X86_AC || v == X86_CP || v == X86_VC || v == X86_SX;
}

static bool contributory(unsigned v)
{
    return v == X86_DE || v == X86_TS || v == X86_NP || v == X86_SS || v == X86_GP;
}

/* Error code naming an IDT entry: index, IDT bit, EXT for external events. */
static uint32_t idt_err(const struct vcpu_event *ev)
{
    return ((uint32_t)ev->vector << 3) | 2u | (ev->type == VEV_SOFTINT ? 0u : 1u);
}

static int rd(struct vcpu *v, uint64_t va, void *p, size_t n, struct nested *f)
{
    uint32_t pf;
    uint64_t fva;
    if (vcpu_read_lin(v, va, p, n, &pf, &fva) == 0)
        return 0;
    *f = pf == UINT32_MAX ? (struct nested){X86_GP, 0, true, 0}
                          : (struct nested){X86_PF, pf, true, fva};
    return -1;
}

static int wr(struct vcpu *v, uint64_t va, const void *p, size_t n, struct nested *f)
{
    uint32_t pf;
    uint64_t fva;
    if (vcpu_write_lin(v, va, p, n, &pf, &fva) == 0)
        return 0;
    *f = pf == UINT32_MAX ? (struct nested){X86_SS, 0, true, 0}
                          : (struct nested){X86_PF, pf, true, fva};
    return -1;
}

/* Reads the 64-bit TSS stack pointer at `off`; #TS(TR) when outside the TSS. */
static int tss_rsp(struct vcpu *v, unsigned off, uint64_t *rsp, struct nested *f)
{
    uc_x86_mmr tr;
    UC_CHECK(uc_reg_read(v->uc, UC_X86_REG_TR, &tr));
    if ((uint64_t)off + 7 > tr.limit || !tr.selector) {
        *f = (struct nested){X86_TS, (uint32_t)tr.selector & 0xFFFCu, true, 0};
        return -1;
    }
    return rd(v, tr.base + off, rsp, 8, f);
}

/* Checks the gate's code segment: a present 64-bit code descriptor. Returns its DPL. */
static int gate_cs(struct vcpu *v, uint16_t sel, const struct vcpu_event *ev, unsigned *dpl,
                   struct nested *f)
{
    uc_x86_mmr gdtr;
    UC_CHECK(uc_reg_read(v->uc, UC_X86_REG_GDTR, &gdtr));
    uint32_t ext = ev->type == VEV_SOFTINT ? 0 : 1;
    uint64_t desc;
    if ((sel & 0xFFFC) == 0 || (sel & 4) || (uint64_t)(sel & ~7u) + 7 > gdtr.limit) {
        *f = (struct nested){X86_GP, (sel & 0xFFFCu) | ext, true, 0};
        return -1;
    }
    if (rd(v, gdtr.base + (sel & ~7u), &desc, 8, f) < 0)
        return -1;
    bool code = (desc >> 43) & 1, s = (desc >> 44) & 1, p = (desc >> 47) & 1, l = (desc >> 53) & 1;
    if (!s || !code || !l) {
        *f = (struct nested){X86_GP, (sel & 0xFFFCu) | ext, true, 0};
        return -1;
    }
    if (!p) {
        *f = (struct nested){X86_NP, (sel & 0xFFFCu) | ext, true, 0};
        return -1;
    }
    *dpl = (desc >> 45) & 3;
    return 0;
}

/* One delivery attempt; a nested fault is returned in *f. */
static int deliver_once(struct vcpu *v, const struct vcpu_event *ev, struct nested *f)
{
    if (!(vcpu_get(v, VR_EFER) & (1ull << 10))) /* EFER.LMA */
        return idt_deliver_legacy(v, ev, f);
    uc_x86_mmr idtr;
    UC_CHECK(uc_reg_read(v->uc, UC_X86_REG_IDTR, &idtr));
    if ((uint64_t)ev->vector * 16 + 15 > idtr.limit) {
        *f = (struct nested){X86_GP, idt_err(ev), true, 0};
        return -1;
    }
    uint8_t g[16];
    if (rd(v, idtr.base + (uint64_t)ev->vector * 16, g, 16, f) < 0)
        return -1;
    unsigned type = g[5] & 0xF, gdpl = (g[5] >> 5) & 3, present = g[5] >> 7, ist = g[4] & 7;
    uint16_t sel = (uint16_t)(g[2] | g[3] << 8);
    uint64_t off = (uint64_t)g[0] | (uint64_t)g[1] << 8 | (uint64_t)g[6] << 16 |
                   (uint64_t)g[7] << 24 | (uint64_t)g[8] << 32 | (uint64_t)g[9] << 40 |
                   (uint64_t)g[10] << 48 | (uint64_t)g[11] << 56;
    unsigned cpl = vcpu_cpl(v);
    if (type != 0xE && type != 0xF) {
        *f = (struct nested){X86_GP, idt_err(ev), true, 0};
        return -1;
    }
    if (ev->type == VEV_SOFTINT && gdpl < cpl) {
        *f = (struct nested){X86_GP, idt_err(ev), true, 0};
        return -1;
    }
    if (!present) {
        *f = (struct nested){X86_NP, idt_err(ev), true, 0};
        return -1;
    }
    unsigned dpl;
    if (gate_cs(v, sel, ev, &dpl, f) < 0)
        return -1;
    if (dpl > cpl) {
        *f = (struct nested){X86_GP, (sel & 0xFFFCu) | (ev->type == VEV_SOFTINT ? 0u : 1u), true, 0};
        return -1;
    }
    uint64_t old_rsp = vcpu_get(v, VR_RSP), rsp = old_rsp;
    if (ist) {
        if (tss_rsp(v, 36 + (ist - 1) * 8, &rsp, f) < 0)
            return -1;
    } else if (dpl < cpl) {
        if (tss_rsp(v, 4 + dpl * 8, &rsp, f) < 0)
            return -1;
    }
    rsp &= ~0xFull;
    uint64_t rflags = vcpu_get(v, VR_RFLAGS);
    uint64_t frame[6];
    unsigned n = 0;
    bool push_err = ev->type == VEV_EXCEPTION && ev->has_error;
    if (push_err)
        frame[n++] = ev->error;
    frame[n++] = vcpu_get(v, VR_RIP);
    frame[n++] = vcpu_read_reg(v, UC_X86_REG_CS);
    frame[n++] = rflags;
    frame[n++] = old_rsp;
    frame[n++] = vcpu_read_reg(v, UC_X86_REG_SS);
    rsp -= n * 8;
    if (wr(v, rsp, frame, n * 8, f) < 0)
        return -1;
    if (ev->vector == X86_PF && ev->type == VEV_EXCEPTION)
        vcpu_set(v, VR_CR2, ev->cr2);
    rflags &= ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF | RFLAGS_VM);
    if (type == 0xE)
        rflags &= ~RFLAGS_IF;
    if (dpl != cpl)
        vcpu_write_reg(v, UC_X86_REG_SS, dpl); /* null selector, RPL = new CPL */
    vcpu_write_reg(v, UC_X86_REG_CS, sel);
    vcpu_set(v, VR_RSP, rsp);
    vcpu_set(v, VR_RFLAGS, rflags);
    vcpu_set(v, VR_RIP, off);
    return 0;
}

int idt_deliver(struct vcpu *v, const struct vcpu_event *first)
{
    struct vcpu_event ev = *first;
    uint64_t pushed_rip = vcpu_get(v, VR_RIP);
    for (int depth = 0;; depth++) {
        struct nested f;
        if (deliver_once(v, &ev, &f) == 0) {
            mode_refresh(v); /* CS changed */
            if (ev.type == VEV_NMI)
                v->nmi_blocked = true;
            v->cb->delivered(v->ctx, v, &ev, pushed_rip);
            return 0;
        }
        /* A fault while delivering INT n is a fault of that instruction: the
         * frame points at it and it does not retire (SDM vol. 3 6.5). */
        if (ev.type == VEV_SOFTINT && v->softint_rip != UINT64_MAX) {
            pushed_rip = v->softint_rip;
            vcpu_set(v, VR_RIP, pushed_rip);
            v->retired--;
            v->softint_rip = UINT64_MAX;
        }
        /* A fault while delivering #DF, or nesting that never settles: shutdown. */
        if ((ev.type == VEV_EXCEPTION && ev.vector == X86_DF) || depth > 3)
            return -1;
        bool df = ev.type == VEV_EXCEPTION &&
                  ((contributory(ev.vector) && contributory(f.vector)) ||
                   (ev.vector == X86_PF && (f.vector == X86_PF || contributory(f.vector))));
        if (df)
            ev = (struct vcpu_event){VEV_EXCEPTION, X86_DF, true, 0, 0};
        else
            ev = (struct vcpu_event){VEV_EXCEPTION, f.vector, f.has_error && has_error_code(f.vector),
                                     f.error, f.cr2};
    }
}
