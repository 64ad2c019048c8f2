/* SPDX-License-Identifier: MIT */
/*
 * The `savic` fabric: Secure AVIC (docs/sev-snp-facts.md section 7, from AMD's APM and
 * GHCB specification, the Linux guest driver x2apic_savic.c and the KVM and
 * OpenVMM Secure AVIC work). A vCPU has two APICs here:
 *
 *  - the guest's backing page: a private page of guest RAM that SAVIC_CONTROL
 *    (MSR 0xC0010138, never intercepted) names. It holds IRR, ISR, TMR, TPR,
 *    PPR, ALLOWED_IRR and NMI_REQUEST; the hardware evaluates it for delivery
 *    and completes the accelerated register accesses in it. The page *is* the
 *    state: what the guest, or another vCPU of the guest, writes there
 *    directly is what the model sees.
 *  - the hypervisor's emulated APIC (an `emulated` fabric inside this one, as
 *    KVM keeps its lapic.c state for such a guest): the LAPIC timer and LVTs
 *    the guest forwards through the GHCB, INIT and SIPI, and the "software
 *    IRR" that device and timer interrupts land in. The hypervisor has no
 *    EVENTINJ: at VMRUN the hardware ORs REQUESTED_IRR & ALLOWED_IRR into the
 *    page's IRR (docs/sev-snp-facts.md 7.3); a hypervisor NMI becomes V_NMI only when
 *    SAVIC_CONTROL.ALLOWED_NMI is set (7.6).
 *
 * While SAVIC_CONTROL.EN is clear (before the guest's driver enables Secure
 * AVIC, and after its teardown) a vCPU has only the second APIC: every APIC
 * MSR access is intercepted and the fabric behaves exactly as `emulated`, so a
 * kernel that knows nothing of Secure AVIC can boot on the same vCPUs.
 *
 * The open points of the public sources are knobs (fab_savic.h): which
 * registers are accelerated, fault or trap per register, whether a blocked
 * REQUESTED_IRR vector is dropped or held, where ICR[63:32] lives.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apic.h"
#include "fab_emulated.h"
#include "fab_savic.h"
#include "mem.h"
#include "rmp.h"
#include "snpref/abi.h"
#include "snpref/base.h"
#include "trace.h"

/* AVIC_INCOMPLETE_IPI cause (EXITINFO2[63:32], docs/sev-snp-facts.md 7.4): Secure AVIC
 * completes no IPI to another vCPU in hardware. XXX(model): which cause the
 * silicon reports is not public; 5 "unaccelerated IPI" is the closest. */
#define SAVIC_IPI_CAUSE 5u

struct savic_vcpu {
    uint64_t ctl;              /* SAVIC_CONTROL */
    uint64_t registered;       /* page the hypervisor registered (NAE 0x8000001A), or FAB_NO_PAGE */
    bool busy;                 /* VMSA GUEST_BUSY: every VMRUN fails (docs/sev-snp-facts.md 7.7) */
    const char *busy_why;
    bool vnmi;                 /* V_NMI pending: a hypervisor NMI ALLOWED_NMI let through */
    uint32_t level_out[8];     /* level vectors handed over by REQUESTED_IRR, not yet EOIed */
    uint32_t held[8];          /* blocked vectors reported as held (hold knob) */
};

/* What the hardware last knew of one backing page (by GPA: a page may change
 * hands), to tell the guest's stores to it from its own. */
struct sv_shadow {
    uint64_t gpa;
    uint32_t w[APIC_PAGE_SIZE / 4];
};

struct savic {
    struct fabric hdr;         /* first: fabric.h reaches the ops through it */
    struct fab_host host;      /* the model's */
    struct fab_host inner;     /* what the hypervisor's APICs see (ctx = this fabric) */
    struct fabric *hv;         /* the hypervisor's APICs: an emulated fabric */
    struct savic_knobs k;
    struct savic_hooks hk;     /* savic's decisions, or a variant's (fab_savic.h) */
    /* A fabric_hook traced while deciding an access waits for the access's
     * apic_hw record: the access first, then what it caused. */
    bool deciding, hook_held;
    struct {
        const char *hook, *decision;
        uint64_t value;
    } held_hook;
    struct mem *mem;
    uint32_t asid;
    unsigned nvcpus;
    struct savic_vcpu *v;
    struct sv_shadow *shadow;  /* one per page ever used as a backing page */
    size_t nshadow;
};

static struct savic *sv(struct fabric *f)
{
    return (struct savic *)f;
}

static struct savic_vcpu *sv_vcpu(struct savic *s, int vcpu)
{
    SNP_ASSERT(vcpu >= 0 && (unsigned)vcpu < s->nvcpus);
    return &s->v[vcpu];
}

static uint64_t sv_now(const struct savic *s, int vcpu)
{
    return s->host.now(s->host.ctx, vcpu);
}

static struct apic *hv_apic(struct savic *s, int vcpu)
{
    return emu_fabric_apic(s->hv, vcpu);
}

/* Secure AVIC is on: the backing page is the vCPU's APIC. */
static bool sv_on(struct savic *s, int vcpu)
{
    const struct savic_vcpu *v = sv_vcpu(s, vcpu);
    return (v->ctl & SAVIC_EN) && !v->busy;
}

/*
 * The backing page as a struct apic (apic.h): the register accessors work on
 * it as on any APIC page. It is built afresh each time because the guest may
 * change ISR behind our back (highest_isr_cache -1: scan). Only called while
 * sv_on(), when the page is known to lie in RAM.
 */
static struct apic sv_view(struct savic *s, int vcpu)
{
    const struct apic *h = hv_apic(s, vcpu);
    struct apic a;
    memset(&a, 0, sizeof(a));
    a.regs = mem_ptr(s->mem, sv_vcpu(s, vcpu)->ctl & SAVIC_GPA_MASK, APIC_PAGE_SIZE);
    SNP_ASSERT(a.regs);
    a.id = h->id;
    a.base_msr = h->base_msr;
    a.highest_isr_cache = -1;
    return a;
}

/*
 * The guest's stores to a backing page are invisible until the hardware looks
 * at the page: VMRUN, a doorbell, an access its hardware handles, a delivery
 * (docs/sev-snp-facts.md 7.3-7.5). The check for a deliverable interrupt
 * between them works on what it last saw (the shadow), so a store another
 * vCPU makes to this page waits for the doorbell. Then sv_sync() traces
 * each 32-bit word they changed since it last looked (savic_page_write), and
 * sv_commit() takes what the hardware itself wrote as known. A trace thus says
 * everything the hardware saw in the page, which is what lets a replay feed
 * the same page to the same fabric (model/replay/replay.c).
 */
static struct sv_shadow *sv_shadow_of(struct savic *s, uint64_t gpa)
{
    for (size_t i = 0; i < s->nshadow; i++)
        if (s->shadow[i].gpa == gpa)
            return &s->shadow[i];
    s->shadow = realloc(s->shadow, (s->nshadow + 1) * sizeof(*s->shadow));
    SNP_ASSERT(s->shadow);
    struct sv_shadow *sh = &s->shadow[s->nshadow++];
    memset(sh, 0, sizeof(*sh)); /* RAM the model has not seen reads as zero */
    sh->gpa = gpa;
    return sh;
}

static void sv_sync(struct savic *s, int vcpu)
{
    uint64_t gpa = sv_vcpu(s, vcpu)->ctl & SAVIC_GPA_MASK;
    const uint32_t *page = mem_ptr(s->mem, gpa, APIC_PAGE_SIZE);
    struct sv_shadow *sh = sv_shadow_of(s, gpa);
    SNP_ASSERT(page);
    if (!memcmp(sh->w, page, APIC_PAGE_SIZE))
        return;
    for (unsigned i = 0; i < APIC_PAGE_SIZE / 4; i++)
        if (sh->w[i] != page[i]) {
            sh->w[i] = page[i];
            TRC(s->host.trace, savic_page_write, sv_now(s, vcpu), vcpu, 4u * i, page[i]);
        }
}

static void sv_commit(struct savic *s, int vcpu)
{
    uint64_t gpa = sv_vcpu(s, vcpu)->ctl & SAVIC_GPA_MASK;
    memcpy(sv_shadow_of(s, gpa)->w, mem_ptr(s->mem, gpa, APIC_PAGE_SIZE), APIC_PAGE_SIZE);
}

/* Why the hardware could not reach the backing page (docs/sev-snp-facts.md 7.7: the page
 * must be mapped in the NPT whenever the vCPU runs, or the access is a
 * non-recoverable #NPF that makes every later VMRUN fail with VMEXIT_BUSY),
 * or NULL. XXX(model): the hypervisor maps a backing page for the hardware
 * exactly while it is registered, and a page-state change to shared unmaps
 * its private mapping. */
static const char *sv_unmapped(const struct savic *s, const struct savic_vcpu *v)
{
    uint64_t gpa = v->ctl & SAVIC_GPA_MASK;
    struct rmp_entry e;
    if (!mem_contains(s->mem, gpa, APIC_PAGE_SIZE))
        return "VMEXIT_BUSY: the backing page in SAVIC_CONTROL lies outside RAM";
    if (v->registered != gpa)
        return "VMEXIT_BUSY: the backing page in SAVIC_CONTROL is not the page the hypervisor "
               "registered, so it is not mapped";
    if (s->mem->rmp && (!rmp_lookup(s->mem->rmp, gpa, &e) || !e.assigned || e.asid != s->asid ||
                        !e.validated))
        return "VMEXIT_BUSY: the backing page is not a validated private page of the guest";
    return NULL;
}

/* The vCPU stops: its next VMRUN fails, and so does every one after it. */
static void sv_go_busy(struct savic *s, int vcpu, const char *why)
{
    struct savic_vcpu *v = sv_vcpu(s, vcpu);
    v->busy = true;
    v->busy_why = why;
    s->host.reenter(s->host.ctx, vcpu);
}

static void sv_kick(const struct savic *s, int vcpu)
{
    s->host.kick(s->host.ctx, vcpu);
}

/* ---- The hypervisor's APICs: callbacks of the inner emulated fabric ----------------- */

static uint64_t in_now(void *ctx, int vcpu)
{
    struct savic *s = ctx;
    return s->host.now(s->host.ctx, vcpu);
}

static void in_send(void *ctx, int dst, const struct fab_msg *m)
{
    struct savic *s = ctx;
    s->host.send(s->host.ctx, dst, m);
}

static void in_timer_arm(void *ctx, int vcpu, uint64_t at)
{
    struct savic *s = ctx;
    s->host.timer_arm(s->host.ctx, vcpu, at);
}

static void in_eoi_broadcast(void *ctx, int vcpu, uint8_t vector)
{
    struct savic *s = ctx;
    s->host.eoi_broadcast(s->host.ctx, vcpu, vector);
}

/* The hypervisor's APIC of vcpu changed. With Secure AVIC on, an interrupt it
 * now holds reaches the guest only through REQUESTED_IRR at VMRUN: KVM kicks
 * the vCPU out so that it re-enters. INIT and SIPI are evaluated as usual. */
static void in_kick(void *ctx, int vcpu)
{
    struct savic *s = ctx;
    if (sv_on(s, vcpu)) {
        const struct apic *h = hv_apic(s, vcpu);
        if (h->nmi_pending || apic_find_highest_vec(h->regs, APIC_IRR) >= 0)
            s->host.reenter(s->host.ctx, vcpu);
    }
    sv_kick(s, vcpu);
}

/* ---- Creation ----------------------------------------------------------------------- */

void savic_destroy(struct fabric *f)
{
    struct savic *s = sv(f);
    if (!s)
        return;
    if (s->hv)
        s->hv->ops->destroy(s->hv);
    free(s->shadow);
    free(s->v);
    free(s);
}

struct fabric *savic_create(const struct fab_params *p, const struct fab_host *host,
                            const struct fabric_ops *ops, const struct savic_hooks *hooks,
                            char *err, size_t errlen)
{
    if (!host || !host->reenter || !p->mem) {
        snprintf(err, errlen, "apic %s: needs guest RAM and the host's reenter callback", ops->name);
        return NULL;
    }
    struct savic *s = calloc(1, sizeof(*s));
    if (!s || !(s->v = calloc(p->nvcpus ? p->nvcpus : 1, sizeof(*s->v)))) {
        free(s);
        snprintf(err, errlen, "apic %s: out of memory", ops->name);
        return NULL;
    }
    s->hdr.ops = ops;
    s->hk = savic_default_hooks;
    if (hooks) {
        s->hk.icr_accelerated = hooks->icr_accelerated ? hooks->icr_accelerated
                                                       : s->hk.icr_accelerated;
        s->hk.icr_send = hooks->icr_send ? hooks->icr_send : s->hk.icr_send;
        s->hk.blocked = hooks->blocked ? hooks->blocked : s->hk.blocked;
        s->hk.nmi_allowed = hooks->nmi_allowed ? hooks->nmi_allowed : s->hk.nmi_allowed;
    }
    s->host = *host;
    s->inner = (struct fab_host){s,       in_now,           in_send,     in_timer_arm,
                                 in_kick, in_eoi_broadcast, host->trace, NULL};
    s->mem = p->mem;
    s->asid = p->asid;
    s->nvcpus = p->nvcpus;
    if (p->knobs)
        s->k = *(const struct savic_knobs *)p->knobs;
    else
        savic_knobs_default(&s->k);
    if (s->k.icr_high != 0x304 && s->k.icr_high != 0x310) {
        savic_destroy(&s->hdr);
        snprintf(err, errlen, "apic %s: icr_high must be 0x304 or 0x310", ops->name);
        return NULL;
    }
    /* Secure AVIC works in x2APIC mode only (AMD APM vol. 2, "Secure AVIC"):
     * the hypervisor's APIC inside must never reach xAPIC mode, whose MMIO
     * page this fabric lacks. */
    struct fab_params inner = *p;
    inner.x2apic_only = true;
    s->hv = emulated_fabric.create(&inner, &s->inner, err, errlen);
    if (!s->hv) {
        savic_destroy(&s->hdr);
        return NULL;
    }
    for (unsigned i = 0; i < p->nvcpus; i++)
        s->v[i].registered = FAB_NO_PAGE;
    return &s->hdr;
}

/* ---- SAVIC_CONTROL ------------------------------------------------------------------- */

static enum fab_access sv_write_control(struct savic *s, int vcpu, uint64_t val)
{
    struct savic_vcpu *v = sv_vcpu(s, vcpu);
    if (val & SAVIC_RESERVED)
        return FAB_GP;
    uint64_t old = v->ctl;
    v->ctl = val;
    TRC(s->host.trace, savic_control, sv_now(s, vcpu), vcpu, val);
    if (!(val & SAVIC_EN)) {
        v->vnmi = false; /* V_NMI belongs to the Secure AVIC state */
        sv_kick(s, vcpu);
        return FAB_OK;
    }
    if ((old & (SAVIC_EN | SAVIC_GPA_MASK)) == (val & (SAVIC_EN | SAVIC_GPA_MASK)))
        return FAB_OK;
    const char *why = sv_unmapped(s, v);
    if (why) {
        sv_go_busy(s, vcpu, why);
        return FAB_OK;
    }
    /* XXX(model): the hypervisor treats the APIC of a Secure AVIC vCPU as
     * software-enabled (the guest's SPIV is in its page), or its emulation
     * would drop the device and timer interrupts it must hand over. */
    struct apic *h = hv_apic(s, vcpu);
    apic_set_spiv(h, apic_get_reg(h, APIC_SPIV) | APIC_SPIV_APIC_ENABLED);
    s->host.reenter(s->host.ctx, vcpu); /* what the hypervisor holds goes through VMRUN */
    sv_kick(s, vcpu);
    return FAB_OK;
}

/* ---- Hardware: accelerated and unaccelerated accesses -------------------------------- */

/* What the hardware does with an APIC register access while Secure AVIC is on. */
enum hw_kind { HW_ACCEL, HW_GP, HW_FAULT, HW_TRAP, HW_INCOMPLETE };

static const char *const hw_name[] = {"accelerated", "gp", "vc402-fault", "vc402-trap", "vc401"};

static void sv_store_icr(struct savic *s, struct apic *a, uint64_t icr)
{
    apic_set_reg(a, APIC_ICR, (uint32_t)icr);
    __apic_set_reg(a->regs, s->k.icr_high, (uint32_t)(icr >> 32));
}

static enum hw_kind sv_noaccel_kind(const struct savic *s, uint32_t msr)
{
    return fab_regset_has(&s->k.noaccel_fault, msr) ? HW_FAULT : HW_TRAP;
}

/* The decision alone (docs/sev-snp-facts.md 7.4): #GP by the x2APIC rules first, then the
 * accelerated sets of the knobs; an ICR is accelerated only with the self
 * shorthand (fixed or NMI), an EOI only for an edge vector. */
static enum hw_kind sv_decide(struct savic *s, int vcpu, uint32_t msr, bool write, uint64_t val)
{
    if (apic_msr_check(msr, write, val) != FAB_OK)
        return HW_GP;
    unsigned off = (msr - APIC_MSR_BASE) << 4;
    if (!write)
        return fab_regset_has(&s->k.accel_read, msr) ? HW_ACCEL : sv_noaccel_kind(s, msr);
    bool listed = fab_regset_has(&s->k.accel_write, msr);
    if (off == APIC_ICR) {
        struct apic_icr d = apic_icr_decode(val);
        return s->hk.icr_accelerated(s, vcpu, &d, listed) ? HW_ACCEL : HW_INCOMPLETE;
    }
    if (!listed)
        return sv_noaccel_kind(s, msr);
    if (off == APIC_EOI) {
        /* A level vector needs the hypervisor's EOI broadcast: the guest clears
         * ISR itself and forwards the EOI (docs/sev-snp-facts.md 7.4, Linux savic_eoi). */
        struct apic a = sv_view(s, vcpu);
        int isr = apic_find_highest_isr(&a);
        if (isr >= 0 && apic_vec_test(a.regs, APIC_TMR, (unsigned)isr))
            return sv_noaccel_kind(s, msr);
    }
    return HW_ACCEL;
}

/* A fixed, edge self-IPI the hardware completes: IRR set in the vCPU's own page. */
static void sv_self_fixed(struct savic *s, int vcpu, struct apic *a, uint64_t icr)
{
    uint8_t vec = (uint8_t)icr;
    TRC(s->host.trace, ipi, sv_now(s, vcpu), vcpu, icr, vec, "fixed", "physical", "self", 0, 1);
    /* XXX(model): a vector below 16 is not accepted; the page's ESR is not raised. */
    if (apic_accept_fixed(a, vec, false) == APIC_ACCEPTED)
        TRC(s->host.trace, irq_accept, sv_now(s, vcpu), vcpu, vec, "fixed", "edge", vcpu);
}

static void sv_accel_write(struct savic *s, int vcpu, unsigned off, uint64_t val)
{
    struct apic a = sv_view(s, vcpu);
    switch (off) {
    case APIC_TPR:
        apic_set_tpr(&a, (uint32_t)val);
        break;
    case APIC_EOI: {
        bool level;
        int vec = apic_eoi(&a, &level);
        TRC(s->host.trace, eoi, sv_now(s, vcpu), vcpu, vec, false);
        break;
    }
    case APIC_SELF_IPI:
        sv_self_fixed(s, vcpu, &a, (uint64_t)APIC_SH_SELF << APIC_ICR_SH_SHIFT | (val & 0xFF));
        break;
    case APIC_ICR: {
        sv_store_icr(s, &a, val);
        struct apic_icr d = apic_icr_decode(val);
        if (d.mode == APIC_DM_NMI) {
            TRC(s->host.trace, ipi, sv_now(s, vcpu), vcpu, val, d.vector, "nmi", "physical", "self",
                0, 1);
            apic_set_reg(&a, SAVIC_NMI_REQUEST, apic_get_reg(&a, SAVIC_NMI_REQUEST) | 1u);
        } else if (d.shorthand != APIC_SH_SELF) {
            s->hk.icr_send(s, vcpu, val, &d); /* a variant's: savic accelerates self only */
        } else if (apic_icr_check(&d) == APIC_ICR_SEND) {
            sv_self_fixed(s, vcpu, &a, val);
        }
        break;
    }
    default:
        /* A register a knob made accelerated: the hardware just stores it. */
        apic_set_reg(&a, off, (uint32_t)val);
        break;
    }
    sv_kick(s, vcpu);
}

/* #VC AVIC_UNACCELERATED_ACCESS (EXITINFO1 = offset | write << 32) or
 * AVIC_INCOMPLETE_IPI (EXITINFO1 = ICR, EXITINFO2[63:32] = cause),
 * docs/sev-snp-facts.md 7.4. A trapping write has already landed in the page, as AVIC's do. */
static void sv_exit(struct savic *s, int vcpu, enum hw_kind k, unsigned off, bool write,
                    uint64_t val, struct fab_exit *x)
{
    struct apic a = sv_view(s, vcpu);
    if (k == HW_INCOMPLETE) {
        sv_store_icr(s, &a, val);
        *x = (struct fab_exit){SVM_EXIT_AVIC_INCOMPLETE_IPI, val,
                               (uint64_t)SAVIC_IPI_CAUSE << 32, true};
        TRC(s->host.trace, avic_incomplete_ipi, sv_now(s, vcpu), vcpu, val, SAVIC_IPI_CAUSE, 0);
        return;
    }
    bool trap = k == HW_TRAP;
    if (write && trap) {
        if (off == APIC_ICR)
            sv_store_icr(s, &a, val);
        else
            apic_set_reg(&a, off, (uint32_t)val);
    }
    *x = (struct fab_exit){SVM_EXIT_AVIC_UNACCELERATED_ACCESS, off | (write ? 1ull << 32 : 0), 0,
                           trap};
    TRC(s->host.trace, avic_unaccelerated_access, sv_now(s, vcpu), vcpu, off, trap, write, 0);
}

enum fab_access savic_hw_msr(struct fabric *f, int vcpu, uint32_t msr, bool write,
                                 uint64_t *val, struct fab_exit *x)
{
    struct savic *s = sv(f);
    if (msr == MSR_SAVIC_CONTROL) {
        if (write)
            return sv_write_control(s, vcpu, *val);
        *val = sv_vcpu(s, vcpu)->ctl;
        return FAB_OK;
    }
    if (!sv_on(s, vcpu)) {
        /* Secure AVIC off: the hypervisor emulates the APIC, as before enable. */
        *x = (struct fab_exit){SVM_EXIT_MSR, write, 0, false};
        return FAB_EXIT;
    }
    sv_sync(s, vcpu);
    unsigned off = (msr - APIC_MSR_BASE) << 4;
    s->deciding = true;
    enum hw_kind k = sv_decide(s, vcpu, msr, write, write ? *val : 0);
    s->deciding = false;
    uint64_t v = write ? *val : 0;
    if (!write && k == HW_ACCEL) {
        struct apic a = sv_view(s, vcpu);
        v = apic_get_reg(&a, off);
        if (off == APIC_ICR)
            v |= (uint64_t)__apic_get_reg(a.regs, s->k.icr_high) << 32;
    }
    /* The access first, then what it caused: a replay feeds it back in. */
    TRC(s->host.trace, apic_hw, sv_now(s, vcpu), vcpu, write ? "wr" : "rd", msr, v, hw_name[k]);
    if (s->hook_held) {
        s->hook_held = false;
        savic_trace_hook(s, vcpu, s->held_hook.hook, s->held_hook.decision, s->held_hook.value);
    }
    enum fab_access r = FAB_OK;
    if (k == HW_GP) {
        r = FAB_GP;
    } else if (k != HW_ACCEL) {
        sv_exit(s, vcpu, k, off, write, v & (off == APIC_ICR ? ~0ull : 0xFFFFFFFFull), x);
        r = FAB_EXIT;
    } else if (write) {
        sv_accel_write(s, vcpu, off, v & apic_reg_lookup(msr)->wmask);
    } else {
        *val = v;
    }
    sv_commit(s, vcpu);
    return r;
}

/* ---- VMRUN: the backing-page check and the REQUESTED_IRR merge ------------------------ */

static const char *merge_result(bool merged, bool drop)
{
    return merged ? "merged" : drop ? "dropped" : "held";
}

/* IRR[i] |= REQUESTED_IRR[i] & ALLOWED_IRR[i] (docs/sev-snp-facts.md 7.3). KVM copies its
 * software IRR into REQUESTED_IRR before VMRUN; here that IRR is the
 * hypervisor APIC's, and the vectors VMRUN took leave it. XXX(model): the
 * public sources give REQUESTED_IRR no trigger mode, yet Linux's savic_eoi
 * decides by the page's TMR; the model copies the hypervisor's TMR bit of each
 * merged vector into the page, so a level vector's EOI reaches the hypervisor. */
static void sv_merge_irr(struct savic *s, int vcpu, struct apic *a)
{
    struct savic_vcpu *v = sv_vcpu(s, vcpu);
    struct apic *h = hv_apic(s, vcpu);
    for (unsigned i = 0; i < 8; i++) {
        unsigned irr = APIC_IRR + 0x10 * i;
        uint32_t req = __apic_get_reg(h->regs, irr);
        if (!req)
            continue;
        uint32_t take = req & __apic_get_reg(a->regs, SAVIC_ALLOWED_IRR + 0x10 * i);
        uint32_t dropped = 0; /* blocked vectors the hardware clears */
        for (unsigned b = 0; b < 32; b++)
            if ((req & ~take) >> b & 1u &&
                s->hk.blocked(s, vcpu, (uint8_t)(32 * i + b)) == SAVIC_BLOCKED_DROP)
                dropped |= 1u << b;
        uint32_t gone = take | dropped;
        uint32_t level = take & __apic_get_reg(h->regs, APIC_TMR + 0x10 * i);
        unsigned tmr = APIC_TMR + 0x10 * i;
        __apic_set_reg(a->regs, irr, __apic_get_reg(a->regs, irr) | take);
        __apic_set_reg(a->regs, tmr, (__apic_get_reg(a->regs, tmr) & ~take) | level);
        __apic_set_reg(h->regs, irr, req & ~gone);
        v->level_out[i] |= level;
        for (unsigned b = 0; b < 32; b++) {
            uint32_t bit = 1u << b;
            if (!(req & bit) || (!(gone & bit) && (v->held[i] & bit)))
                continue; /* not requested, or a hold already reported */
            TRC(s->host.trace, savic_irr, sv_now(s, vcpu), vcpu, 32 * i + b,
                merge_result(take & bit, dropped & bit));
        }
        v->held[i] = (v->held[i] | (req & ~gone)) & ~take;
    }
}

static void sv_merge_nmi(struct savic *s, int vcpu)
{
    struct savic_vcpu *v = sv_vcpu(s, vcpu);
    struct apic *h = hv_apic(s, vcpu);
    if (!h->nmi_pending)
        return;
    h->nmi_pending = false;
    bool allowed = s->hk.nmi_allowed(s, vcpu);
    v->vnmi |= allowed;
    TRC(s->host.trace, savic_nmi, sv_now(s, vcpu), vcpu, allowed ? "pending" : "dropped");
}

int savic_vmrun(struct fabric *f, int vcpu, const char **why)
{
    struct savic *s = sv(f);
    struct savic_vcpu *v = sv_vcpu(s, vcpu);
    if (!(v->ctl & SAVIC_EN))
        return 0;
    if (!v->busy && (v->busy_why = sv_unmapped(s, v)) != NULL)
        v->busy = true;
    if (v->busy) {
        *why = v->busy_why;
        return -1;
    }
    sv_sync(s, vcpu);
    struct apic a = sv_view(s, vcpu);
    sv_merge_irr(s, vcpu, &a);
    sv_merge_nmi(s, vcpu);
    sv_commit(s, vcpu);
    sv_kick(s, vcpu); /* VMRUN evaluates the page (V_INTR) */
    return 0;
}

void savic_page_seen(struct fabric *f, int vcpu, uint32_t offset, uint32_t value)
{
    struct savic *s = sv(f);
    uint64_t gpa = sv_vcpu(s, vcpu)->ctl & SAVIC_GPA_MASK;
    SNP_ASSERT(offset < APIC_PAGE_SIZE && !(offset & 3));
    mem_st32(s->mem, gpa + offset, value);
    sv_shadow_of(s, gpa)->w[offset / 4] = value;
}

int savic_backing_page(struct fabric *f, int vcpu, bool reg, uint64_t *gpa)
{
    struct savic_vcpu *v = sv_vcpu(sv(f), vcpu);
    if (!reg) {
        *gpa = v->registered;
        v->registered = FAB_NO_PAGE;
        return 0;
    }
    if (*gpa & ~SAVIC_GPA_MASK)
        return -1;
    v->registered = *gpa;
    return 0;
}

/* ---- Taking events -------------------------------------------------------------------- */

/*
 * Secure AVIC on: INIT, SIPI and SMI still come from the hypervisor's APIC;
 * then NMI (the page's NMI_REQUEST, or V_NMI), then the page's highest IRR
 * vector above PPR, if the page's SPIV enables the APIC.
 */
struct fab_event savic_pending(struct fabric *f, int vcpu, unsigned skip)
{
    struct savic *s = sv(f);
    if (!sv_on(s, vcpu))
        return s->hv->ops->pending(s->hv, vcpu, skip);
    const struct apic *h = hv_apic(s, vcpu);
    if (h->init_pending)
        return (struct fab_event){FAB_EV_INIT, 0};
    if (h->sipi_pending)
        return (struct fab_event){FAB_EV_SIPI, h->sipi_vector};
    if (h->smi_pending)
        return (struct fab_event){FAB_EV_SMI, 0};
    /* On a copy of what the hardware last saw of the page: PPR from its TPR
     * and ISR, then its highest IRR vector. */
    uint32_t seen[APIC_PAGE_SIZE / 4];
    memcpy(seen, sv_shadow_of(s, sv_vcpu(s, vcpu)->ctl & SAVIC_GPA_MASK)->w, sizeof(seen));
    struct apic a = sv_view(s, vcpu);
    a.regs = (uint8_t *)seen;
    apic_update_ppr(&a);
    bool nmi = (apic_get_reg(&a, SAVIC_NMI_REQUEST) & 1u) || sv_vcpu(s, vcpu)->vnmi;
    if (nmi && !(skip & FAB_SKIP_NMI))
        return (struct fab_event){FAB_EV_NMI, 0};
    int vec = apic_sw_enabled(&a) ? apic_highest_deliverable(&a) : -1;
    if (vec < 0)
        return (struct fab_event){FAB_EV_NONE, 0};
    return (struct fab_event){FAB_EV_FIXED, (uint8_t)vec};
}

void savic_ack(struct fabric *f, int vcpu, struct fab_event ev)
{
    struct savic *s = sv(f);
    if (!sv_on(s, vcpu) || ev.kind == FAB_EV_INIT || ev.kind == FAB_EV_SIPI ||
        ev.kind == FAB_EV_SMI) {
        s->hv->ops->ack(s->hv, vcpu, ev);
        return;
    }
    sv_sync(s, vcpu);
    struct apic a = sv_view(s, vcpu);
    if (ev.kind == FAB_EV_FIXED) {
        apic_ack_fixed(&a, ev.vector);
    } else if (ev.kind == FAB_EV_NMI && (apic_get_reg(&a, SAVIC_NMI_REQUEST) & 1u)) {
        apic_set_reg(&a, SAVIC_NMI_REQUEST, apic_get_reg(&a, SAVIC_NMI_REQUEST) & ~1u);
    } else {
        SNP_ASSERT(ev.kind == FAB_EV_NMI && sv_vcpu(s, vcpu)->vnmi);
        sv_vcpu(s, vcpu)->vnmi = false;
    }
    sv_commit(s, vcpu);
}

/* ---- The hypervisor's side: forwarded MSRs, messages, the doorbell ------------------------ */

/* The vCPUs an ICR names (SDM 10.12.9, 10.12.10.2); src is the sender. */
unsigned savic_targets(struct savic *s, int src, const struct apic_icr *d, int *out)
{
    unsigned n = 0;
    for (unsigned i = 0; i < s->nvcpus; i++) {
        bool hit = d->shorthand == APIC_SH_SELF     ? (int)i == src
                   : d->shorthand == APIC_SH_ALL    ? true
                   : d->shorthand == APIC_SH_OTHERS ? (int)i != src
                                                    : apic_match_dest(hv_apic(s, (int)i), d->dest,
                                                                      d->logical);
        if (hit)
            out[n++] = (int)i;
    }
    return n;
}

/* The ICR a Secure AVIC guest forwards after writing its targets' pages
 * (docs/sev-snp-facts.md 7.5): KVM does not emulate it, it notifies each target, whose
 * hardware then re-evaluates the page (the doorbell). Lowest priority: every
 * match is notified; the guest chose which page to write. */
static void sv_doorbells(struct savic *s, int vcpu, uint64_t icr, const struct apic_icr *d)
{
    int targets[SNP_MAX_VCPUS];
    unsigned n = apic_icr_check(d) == APIC_ICR_SEND ? savic_targets(s, vcpu, d, targets) : 0;
    TRC(s->host.trace, ipi, sv_now(s, vcpu), vcpu, icr, d->vector, apic_dm_name(d->mode),
        d->logical ? "logical" : "physical", apic_sh_name(d->shorthand), d->dest, n);
    struct fab_msg bell = {FAB_SRC_DOORBELL, vcpu, d->vector, d->mode, false};
    struct fab_msg ipi = {FAB_SRC_IPI, vcpu, d->vector, d->mode, d->trigger_level};
    for (unsigned i = 0; i < n; i++) {
        if (!sv_on(s, targets[i])) {
            /* A target without Secure AVIC: the hypervisor delivers it as before. */
            s->host.send(s->host.ctx, targets[i], &ipi);
            continue;
        }
        TRC(s->host.trace, avic_doorbell, sv_now(s, vcpu), targets[i], hv_apic(s, targets[i])->id);
        s->host.send(s->host.ctx, targets[i], &bell);
    }
}

/* A level-triggered EOI the guest forwards (Linux savic_eoi): the hypervisor
 * retires the highest level vector it handed over and broadcasts the EOI. */
static void sv_forwarded_eoi(struct savic *s, int vcpu)
{
    struct savic_vcpu *v = sv_vcpu(s, vcpu);
    int vec = -1;
    for (int i = 7; i >= 0 && vec < 0; i--)
        if (v->level_out[i])
            vec = i * 32 + 31 - __builtin_clz(v->level_out[i]);
    TRC(s->host.trace, eoi, sv_now(s, vcpu), vcpu, vec, vec >= 0);
    if (vec < 0)
        return;
    v->level_out[vec >> 5] &= ~(1u << (vec & 31));
    s->host.eoi_broadcast(s->host.ctx, vcpu, (uint8_t)vec);
}

/* A variant's hardware IPI (FAB_SRC_HW_IPI) arrives: the sender's hardware
 * sets the vector in this vCPU's page, as a guest's store would, and the page
 * is evaluated at once. A target whose Secure AVIC went off on the way gets it
 * from the hypervisor's APIC, as savic's doorbells do. */
static void sv_hw_ipi_arrive(struct savic *s, int vcpu, const struct fab_msg *m)
{
    if (!sv_on(s, vcpu)) {
        struct fab_msg ipi = *m;
        ipi.src_kind = FAB_SRC_IPI;
        s->hv->ops->receive(s->hv, vcpu, &ipi);
        return;
    }
    sv_sync(s, vcpu);
    struct apic a = sv_view(s, vcpu);
    if (apic_accept_fixed(&a, m->vector, m->level) == APIC_ACCEPTED)
        TRC(s->host.trace, irq_accept, sv_now(s, vcpu), vcpu, m->vector, apic_dm_name(m->mode),
            m->level ? "level" : "edge", m->src_vcpu);
    sv_commit(s, vcpu);
    sv_kick(s, vcpu);
}

enum fab_access savic_msr_write(struct fabric *f, int vcpu, uint32_t msr, uint64_t val)
{
    struct savic *s = sv(f);
    bool icr = msr == APIC_MSR(APIC_ICR), eoi = msr == APIC_MSR(APIC_EOI);
    if (!sv_on(s, vcpu) || !(icr || eoi))
        return s->hv->ops->msr_write(s->hv, vcpu, msr, val);
    if (apic_msr_check(msr, true, val) != FAB_OK)
        return FAB_GP;
    if (eoi) {
        sv_forwarded_eoi(s, vcpu);
        return FAB_OK;
    }
    struct apic_icr d = apic_icr_decode(val);
    if (d.mode == APIC_DM_FIXED || d.mode == APIC_DM_LOWEST || d.mode == APIC_DM_NMI) {
        sv_doorbells(s, vcpu, val, &d);
        return FAB_OK;
    }
    /* INIT, SIPI, SMI: the hypervisor's emulation sends them as before. */
    return s->hv->ops->msr_write(s->hv, vcpu, msr, val);
}

enum fab_access savic_msr_read(struct fabric *f, int vcpu, uint32_t msr, uint64_t *val)
{
    struct savic *s = sv(f);
    return s->hv->ops->msr_read(s->hv, vcpu, msr, val);
}

void savic_receive(struct fabric *f, int vcpu, const struct fab_msg *m)
{
    struct savic *s = sv(f);
    if (m->src_kind == FAB_SRC_DOORBELL) {
        if (sv_on(s, vcpu))
            sv_sync(s, vcpu); /* the hardware re-evaluates the page */
        sv_kick(s, vcpu);
        return;
    }
    if (m->src_kind == FAB_SRC_HW_IPI) {
        sv_hw_ipi_arrive(s, vcpu, m);
        return;
    }
    s->hv->ops->receive(s->hv, vcpu, m);
}

void savic_route(struct fabric *f, uint32_t dest, bool logical, const struct fab_msg *m)
{
    struct savic *s = sv(f);
    s->hv->ops->route(s->hv, dest, logical, m);
}

void savic_inject(struct fabric *f, int vcpu, const struct fab_msg *m)
{
    struct savic *s = sv(f);
    s->hv->ops->inject(s->hv, vcpu, m);
}

void savic_timer_fire(struct fabric *f, int vcpu)
{
    struct savic *s = sv(f);
    s->hv->ops->timer_fire(s->hv, vcpu);
}

void savic_reset(struct fabric *f, int vcpu, bool init_only)
{
    struct savic *s = sv(f);
    s->hv->ops->reset(s->hv, vcpu, init_only);
}

const uint8_t *savic_regs(struct fabric *f, int vcpu)
{
    struct savic *s = sv(f);
    if (sv_on(s, vcpu))
        return sv_view(s, vcpu).regs;
    return s->hv->ops->regs(s->hv, vcpu);
}

/* ---- savic's own decisions, and what a variant's hooks may use ------------------------ */

/* Only self IPIs: every other ICR is #VC 0x401 and the guest writes its
 * targets' pages itself (docs/sev-snp-facts.md 7.4, 7.5). */
static bool dflt_icr_accelerated(struct savic *s, int vcpu, const struct apic_icr *d, bool listed)
{
    (void)s, (void)vcpu;
    return listed && d->shorthand == APIC_SH_SELF &&
           (d->mode == APIC_DM_FIXED || d->mode == APIC_DM_NMI);
}

static void dflt_icr_send(struct savic *s, int vcpu, uint64_t icr, const struct apic_icr *d)
{
    (void)s, (void)d;
    SNP_PANIC("vCPU %d: ICR %#llx accelerated without an icr_send hook", vcpu,
              (unsigned long long)icr);
}

static enum savic_blocked dflt_blocked(struct savic *s, int vcpu, uint8_t vector)
{
    (void)vcpu, (void)vector;
    return (enum savic_blocked)s->k.blocked;
}

static bool dflt_nmi_allowed(struct savic *s, int vcpu)
{
    return (sv_vcpu(s, vcpu)->ctl & SAVIC_ALLOWED_NMI) != 0;
}

const struct savic_hooks savic_default_hooks = {
    .icr_accelerated = dflt_icr_accelerated,
    .icr_send = dflt_icr_send,
    .blocked = dflt_blocked,
    .nmi_allowed = dflt_nmi_allowed,
};

bool savic_vcpu_on(struct savic *s, int vcpu)
{
    return sv_on(s, vcpu);
}

const struct savic_knobs *savic_knobs_of(const struct savic *s)
{
    return &s->k;
}

const struct fab_host *savic_host(const struct savic *s)
{
    return &s->host;
}

void savic_trace_hook(struct savic *s, int vcpu, const char *hook, const char *decision,
                      uint64_t value)
{
    if (s->deciding) {
        SNP_ASSERT(!s->hook_held); /* one decision per access */
        s->hook_held = true;
        s->held_hook.hook = hook;
        s->held_hook.decision = decision;
        s->held_hook.value = value;
        return;
    }
    TRC(s->host.trace, fabric_hook, sv_now(s, vcpu), vcpu, s->hdr.ops->name, hook, decision,
        value);
}

static struct fabric *sv_create(const struct fab_params *p, const struct fab_host *host, char *err,
                                size_t errlen)
{
    return savic_create(p, host, &savic_fabric, NULL, err, errlen);
}

const struct fabric_ops savic_fabric = {
    .name = "savic",
    .doc = "Secure AVIC: the guest-owned backing page (SNP only)",
    .caps = SAVIC_CAPS,
    .create = sv_create,
    SAVIC_OPS,
};
