/* SPDX-License-Identifier: MIT */
/*
 * The `emulated` fabric: the golden reference, a local APIC in xAPIC (MMIO) and
 * x2APIC (MSR) mode emulated by the hypervisor the way KVM's
 * arch/x86/kvm/lapic.c does it, one struct apic per
 * vCPU on a page the fabric owns. Register semantics come from apic.c; this file
 * adds what needs the host: sending messages (destination decode, lowest-
 * priority arbitration), accepting them, the pending/ack protocol, EOI
 * broadcasts, the LAPIC timer, and the trace events ipi, irq_accept, eoi,
 * timer_arm and timer_fire (Intel SDM vol. 3 chapter 10; AMD APM vol. 2
 * chapter 16). Every MSR access is answered FAB_OK or FAB_GP, never FAB_EXIT:
 * x2APIC MSRs raise #GP outside x2APIC mode (SDM 10.12.1.2), and the MMIO page
 * is the APIC only in xAPIC mode.
 * here the hypervisor is the APIC, so the model decides how an access reaches it
 * (a VM exit in plain mode, #VC and the GHCB under SEV-ES/SNP).
 */
#include <stdio.h>
#include <stdlib.h>

#include "apic.h"
#include "fab_emulated.h"
#include "fabric.h"
#include "snpref/abi.h"
#include "snpref/base.h"
#include "trace.h"

extern const struct fabric_ops emulated_fabric; /* at the end of this file */

struct emu_fabric {
    struct fabric hdr; /* first: fabric.h reaches the ops through it */
    struct fab_host host;
    struct lapic_clock clk;
    unsigned nvcpus;
    struct apic *apic; /* nvcpus entries */
    uint8_t *pages;    /* nvcpus register pages, page-aligned */
};

static struct emu_fabric *emu(struct fabric *f)
{
    return (struct emu_fabric *)f;
}

static struct apic *emu_apic(struct emu_fabric *e, int vcpu)
{
    SNP_ASSERT(vcpu >= 0 && (unsigned)vcpu < e->nvcpus);
    return &e->apic[vcpu];
}

static uint64_t emu_now(const struct emu_fabric *e, int vcpu)
{
    return e->host.now(e->host.ctx, vcpu);
}

static void emu_kick(const struct emu_fabric *e, int vcpu)
{
    e->host.kick(e->host.ctx, vcpu);
}

/* ---- Creation --------------------------------------------------------------- */

static int emu_check_params(const struct fab_params *p, const struct fab_host *h, char *err,
                            size_t errlen)
{
    const char *why = NULL;
    if (!h || !h->now || !h->send || !h->timer_arm || !h->kick || !h->eoi_broadcast)
        why = "host callbacks missing";
    else if (p->nvcpus < 1 || p->nvcpus > SNP_MAX_VCPUS || !p->apic_ids)
        why = "vCPU count must be 1 to 256, with an APIC ID each";
    else if (p->timer_cycles_per_tick < 1 || p->tsc_cycles_num < 1 || p->tsc_cycles_den < 1)
        why = "timer_cycles_per_tick, tsc_cycles_num and tsc_cycles_den must be >= 1";
    else if (p->power_on_xapic && p->x2apic_only)
        why = "an x2APIC-only fabric cannot power on in xAPIC mode";
    else if (p->xapic_only && p->x2apic_only)
        why = "an x2APIC-only fabric needs the CPUID x2APIC bit (cpu_features -x2apic)";
    else if (p->maxphyaddr && (p->maxphyaddr < 36 || p->maxphyaddr > 52))
        why = "maxphyaddr must be 36 to 52";
    for (unsigned i = 0; !why && i < p->nvcpus; i++) {
        if (p->apic_ids[i] == APIC_DEST_BROADCAST)
            why = "APIC ID 0xFFFFFFFF is the broadcast destination";
        for (unsigned j = 0; !why && j < i; j++)
            if (p->apic_ids[i] == p->apic_ids[j])
                why = "APIC IDs must be distinct";
    }
    if (why)
        snprintf(err, errlen, "apic emulated: %s", why);
    return why ? -1 : 0;
}

static void emu_destroy(struct fabric *f)
{
    struct emu_fabric *e = emu(f);
    if (!e)
        return;
    free(e->apic);
    free(e->pages);
    free(e);
}

/* XXX(model): the fabric has no options yet; p->config_json is not read. */
static struct fabric *emu_create(const struct fab_params *p, const struct fab_host *host, char *err,
                                 size_t errlen)
{
    if (emu_check_params(p, host, err, errlen) != 0)
        return NULL;
    struct emu_fabric *e = calloc(1, sizeof(*e));
    if (e) {
        e->apic = calloc(p->nvcpus, sizeof(*e->apic));
        e->pages = aligned_alloc(APIC_PAGE_SIZE, (size_t)p->nvcpus * APIC_PAGE_SIZE);
    }
    if (!e || !e->apic || !e->pages) {
        emu_destroy(e ? &e->hdr : NULL);
        snprintf(err, errlen, "apic emulated: out of memory");
        return NULL;
    }
    e->hdr.ops = &emulated_fabric;
    e->host = *host;
    e->clk = (struct lapic_clock){p->timer_cycles_per_tick, p->tsc_cycles_num, p->tsc_cycles_den};
    e->nvcpus = p->nvcpus;
    unsigned bits = p->maxphyaddr ? p->maxphyaddr : 52;
    for (unsigned i = 0; i < p->nvcpus; i++) {
        struct apic *a = &e->apic[i];
        apic_init(a, e->pages + (size_t)i * APIC_PAGE_SIZE, p->apic_ids[i], i == 0,
                  p->power_on_xapic || p->xapic_only ? APIC_MODE_XAPIC : APIC_MODE_X2APIC);
        a->xapic_capable = !p->x2apic_only;
        a->x2apic_capable = !p->xapic_only;
        a->base_addr_mask = APIC_BASE_ADDR_MASK & ((1ull << bits) - 1);
    }
    return &e->hdr;
}

/* ---- Timer -------------------------------------------------------------------- */

/* Tells the host (and the trace) where the timer fires next; LAPIC_TIMER_OFF cancels. */
static void emu_timer_arm(struct emu_fabric *e, int vcpu, uint64_t at)
{
    struct apic *a = emu_apic(e, vcpu);
    TRC(e->host.trace, timer_arm, emu_now(e, vcpu), vcpu,
        lapic_timer_mode_name(apic_timer_mode(a), at != LAPIC_TIMER_OFF), at);
    e->host.timer_arm(e->host.ctx, vcpu, at);
}

static void emu_timer_stop(struct emu_fabric *e, int vcpu)
{
    struct apic *a = emu_apic(e, vcpu);
    if (!lapic_timer_armed(&a->timer))
        return;
    lapic_timer_stop(&a->timer);
    emu_timer_arm(e, vcpu, LAPIC_TIMER_OFF);
}

/* "A write to the LVT Timer Register that changes the timer mode disarms the
 * local-APIC timer" (SDM 10.5.4.1): the initial count and the deadline are
 * cleared too, so nothing of the old mode survives. XXX(model): KVM
 * (apic_update_lvtt) and QEMU disarm only on entering or leaving TSC-deadline
 * mode and keep a one-shot count running into periodic mode and back; three
 * kvm-unit-tests x2apic/xapic checks expect that (docs/conformance.md). */
static void emu_write_lvtt(struct emu_fabric *e, int vcpu, uint32_t v)
{
    struct apic *a = emu_apic(e, vcpu);
    uint32_t old = apic_get_reg(a, APIC_LVTT);
    apic_set_lvt(a, APIC_LVTT, v);
    if (!((old ^ v) & APIC_LVT_TIMER_MASK))
        return;
    emu_timer_stop(e, vcpu);
    apic_set_reg(a, APIC_TMICT, 0);
    a->timer.tsc_deadline = 0;
}

/* TMICT write: (re)starts the count from now; 0 stops it. Ignored in
 * TSC-deadline mode (SDM 10.5.4.1). */
static void emu_write_tmict(struct emu_fabric *e, int vcpu, uint32_t count)
{
    struct apic *a = emu_apic(e, vcpu);
    if (apic_timer_mode(a) == LAPIC_TIMER_TSC_DEADLINE)
        return;
    bool was_armed = lapic_timer_armed(&a->timer);
    apic_set_reg(a, APIC_TMICT, count);
    uint64_t at =
        lapic_timer_load(&a->timer, emu_now(e, vcpu), count, apic_get_reg(a, APIC_TDCR), &e->clk);
    if (at != LAPIC_TIMER_OFF || was_armed)
        emu_timer_arm(e, vcpu, at);
}

/* IA32_TSC_DEADLINE write: arms at the first cycle the TSC reaches val (at once
 * if that has passed), 0 disarms; ignored outside TSC-deadline mode (SDM 10.5.4.1). */
static void emu_write_tsc_deadline(struct emu_fabric *e, int vcpu, uint64_t val)
{
    struct apic *a = emu_apic(e, vcpu);
    if (!apic_hw_enabled(a) || apic_timer_mode(a) != LAPIC_TIMER_TSC_DEADLINE)
        return;
    a->timer.tsc_deadline = val;
    if (val == 0) {
        emu_timer_stop(e, vcpu);
        return;
    }
    uint64_t now = emu_now(e, vcpu);
    uint64_t at = lapic_cycles_from_tsc(val, &e->clk);
    a->timer.start = now;
    a->timer.expiry = at > now ? at : now;
    emu_timer_arm(e, vcpu, a->timer.expiry);
}

static void emu_timer_fire(struct fabric *f, int vcpu)
{
    struct emu_fabric *e = emu(f);
    struct apic *a = emu_apic(e, vcpu);
    if (!lapic_timer_armed(&a->timer))
        return; /* a callback that raced a cancel: the host should not do this */
    uint32_t lvtt = apic_get_reg(a, APIC_LVTT);
    bool masked = (lvtt & APIC_LVT_MASKED) != 0;
    uint8_t vec = (uint8_t)lvtt;
    enum lapic_timer_mode mode = apic_timer_mode(a);
    TRC(e->host.trace, timer_fire, emu_now(e, vcpu), vcpu, vec, masked);
    if (mode != LAPIC_TIMER_PERIODIC) {
        lapic_timer_stop(&a->timer); /* one-shot: TMCCT reads 0 from now on */
        if (mode == LAPIC_TIMER_TSC_DEADLINE)
            a->timer.tsc_deadline = 0; /* the deadline MSR clears when it fires */
    }
    if (!masked) {
        struct fab_msg m = {FAB_SRC_TIMER, vcpu, vec, APIC_DM_FIXED, false};
        e->host.send(e->host.ctx, vcpu, &m);
    }
    if (mode == LAPIC_TIMER_PERIODIC)
        emu_timer_arm(e, vcpu, lapic_timer_reload(&a->timer));
}

/* ---- Sending ----------------------------------------------------------------------- */

/*
 * Lowest-priority arbitration among the matched APICs in out[0..n): the enabled
 * APIC with the lowest arbitration priority wins, approximated by its TPR
 * (XXX(model): SDM 10.6.2.4's APR also weighs IRR/ISR, and silicon may use focus
 * or hashing); ties go to the lowest APIC ID so runs are deterministic. Leaves
 * the winner in out[0]; returns 1, or 0 when no matched APIC is enabled.
 */
static unsigned emu_pick_lowest(struct emu_fabric *e, int *out, unsigned n)
{
    int best = -1;
    for (unsigned i = 0; i < n; i++) {
        const struct apic *c = &e->apic[out[i]];
        if (!apic_hw_enabled(c) || !apic_sw_enabled(c))
            continue;
        if (best >= 0) {
            const struct apic *b = &e->apic[best];
            uint32_t ct = apic_get_reg(c, APIC_TPR), bt = apic_get_reg(b, APIC_TPR);
            if (ct > bt || (ct == bt && c->id > b->id))
                continue;
        }
        best = out[i];
    }
    out[0] = best;
    return best >= 0 ? 1 : 0;
}

/* The vCPUs a message reaches, into out (SNP_MAX_VCPUS entries); src is the
 * sending vCPU for the shorthands (-1 for a device). */
static unsigned emu_resolve(struct emu_fabric *e, int src, enum apic_sh sh, uint32_t dest,
                            bool logical, bool lowest, int *out)
{
    unsigned n = 0;
    for (unsigned i = 0; i < e->nvcpus; i++) {
        bool hit;
        switch (sh) {
        case APIC_SH_SELF:
            hit = (int)i == src;
            break;
        case APIC_SH_ALL:
            hit = true;
            break;
        case APIC_SH_OTHERS:
            hit = (int)i != src;
            break;
        default:
            hit = apic_match_dest(&e->apic[i], dest, logical);
            break;
        }
        if (hit)
            out[n++] = (int)i;
    }
    return lowest && n ? emu_pick_lowest(e, out, n) : n;
}

/* An error was detected: latch it for ESR and raise the LVT error interrupt
 * (SDM 10.5.3). An LVT error vector below 16 would only raise another error on
 * arrival, so it is not sent (the loop has no architectural end). */
static void emu_error(struct emu_fabric *e, int vcpu, uint32_t bits)
{
    struct apic *a = emu_apic(e, vcpu);
    apic_esr_raise(a, bits);
    uint32_t lvt = apic_get_reg(a, APIC_LVTERR);
    if ((lvt & APIC_LVT_MASKED) || (lvt & APIC_VECTOR_MASK) < 16)
        return;
    struct fab_msg m = {FAB_SRC_LVT, vcpu, (uint8_t)lvt, APIC_DM_FIXED, false};
    e->host.send(e->host.ctx, vcpu, &m);
}

/* An ICR or SELF_IPI write (SDM 10.6.1, 10.12.9, 10.12.11): one ipi event, then
 * one host->send per target. */
static void emu_send_icr(struct emu_fabric *e, int vcpu, uint64_t icr)
{
    struct apic_icr d = apic_icr_decode(icr);
    enum apic_icr_action act = apic_icr_check(&d);
    int targets[SNP_MAX_VCPUS];
    unsigned n = 0;
    if (act == APIC_ICR_SEND)
        n = emu_resolve(e, vcpu, d.shorthand, d.dest, d.logical, d.mode == APIC_DM_LOWEST, targets);
    TRC(e->host.trace, ipi, emu_now(e, vcpu), vcpu, icr, d.vector, apic_dm_name(d.mode),
        d.logical ? "logical" : "physical", apic_sh_name(d.shorthand), d.dest, n);
    if (act == APIC_ICR_SEND_ILLEGAL)
        emu_error(e, vcpu, APIC_ESR_SEND_ILLEGAL);
    struct fab_msg m = {FAB_SRC_IPI, vcpu, d.vector, d.mode, d.trigger_level};
    for (unsigned i = 0; i < n; i++)
        e->host.send(e->host.ctx, targets[i], &m);
}

static void emu_route(struct fabric *f, uint32_t dest, bool logical, const struct fab_msg *m)
{
    struct emu_fabric *e = emu(f);
    int targets[SNP_MAX_VCPUS];
    unsigned n =
        emu_resolve(e, -1, APIC_SH_NONE, dest, logical, m->mode == APIC_DM_LOWEST, targets);
    for (unsigned i = 0; i < n; i++)
        e->host.send(e->host.ctx, targets[i], m);
}

/* ---- Receiving ------------------------------------------------------------------------ */

/* Latches a non-vectored event or ExtINT; false when it is dropped. */
static bool emu_latch(struct apic *a, const struct fab_msg *m)
{
    switch (m->mode) {
    case APIC_DM_EXTINT:
        if (!apic_sw_enabled(a))
            return false; /* not among the messages a disabled APIC takes (SDM 10.4.7.2) */
        a->extint_pending = true;
        a->extint_vector = m->vector;
        return true;
    case APIC_DM_NMI:
        a->nmi_pending = true;
        return true;
    case APIC_DM_SMI:
        a->smi_pending = true;
        return true;
    case APIC_DM_INIT:
        a->init_pending = true;
        a->sipi_pending = false; /* a SIPI that came before this INIT is stale */
        return true;
    case APIC_DM_SIPI:
        a->sipi_pending = true;
        a->sipi_vector = m->vector;
        return true;
    default:
        return false; /* reserved mode 3 from a device: nothing to accept */
    }
}

/* A message arrives (receive) or the hypervisor raises one (inject): IRR/TMR
 * or a latch, then irq_accept and a kick. A disabled APIC takes nothing. */
static void emu_accept(struct emu_fabric *e, int vcpu, const struct fab_msg *m)
{
    struct apic *a = emu_apic(e, vcpu);
    if (!apic_hw_enabled(a))
        return;
    if (m->mode == APIC_DM_FIXED || m->mode == APIC_DM_LOWEST) {
        enum apic_accept r = apic_accept_fixed(a, m->vector, m->level);
        if (r == APIC_ILLEGAL_VECTOR)
            emu_error(e, vcpu, APIC_ESR_RECV_ILLEGAL);
        if (r != APIC_ACCEPTED)
            return;
    } else if (!emu_latch(a, m)) {
        return;
    }
    TRC(e->host.trace, irq_accept, emu_now(e, vcpu), vcpu, m->vector, apic_dm_name(m->mode),
        m->level ? "level" : "edge", m->src_vcpu);
    emu_kick(e, vcpu);
}

static void emu_receive(struct fabric *f, int vcpu, const struct fab_msg *m)
{
    emu_accept(emu(f), vcpu, m);
}

/* Plain mode: the hypervisor raises an interrupt the way a device would. */
static void emu_inject(struct fabric *f, int vcpu, const struct fab_msg *m)
{
    emu_accept(emu(f), vcpu, m);
}

/* ---- Taking events ------------------------------------------------------------------- */

/*
 * Order: INIT, SIPI, SMI, NMI, ExtINT, then the highest IRR vector whose class
 * beats PPR's (SDM 6.9: INIT and SMI are "external hardware interventions"
 * above NMI, which is above maskable interrupts). SIPI only matters to a vCPU
 * waiting for it, which takes nothing else; putting it second lets such a vCPU
 * see it past a latched NMI. A software-disabled APIC holds its IRR (SDM
 * 10.4.7.2) but offers nothing from it.
 */
static struct fab_event emu_pending(struct fabric *f, int vcpu, unsigned skip)
{
    struct apic *a = emu_apic(emu(f), vcpu);
    if (!apic_hw_enabled(a))
        return (struct fab_event){FAB_EV_NONE, 0};
    if (a->init_pending)
        return (struct fab_event){FAB_EV_INIT, 0};
    if (a->sipi_pending)
        return (struct fab_event){FAB_EV_SIPI, a->sipi_vector};
    if (a->smi_pending)
        return (struct fab_event){FAB_EV_SMI, 0};
    if (a->nmi_pending && !(skip & FAB_SKIP_NMI))
        return (struct fab_event){FAB_EV_NMI, 0};
    if (a->extint_pending)
        return (struct fab_event){FAB_EV_EXTINT, a->extint_vector};
    int vec = apic_sw_enabled(a) ? apic_highest_deliverable(a) : -1;
    if (vec < 0)
        return (struct fab_event){FAB_EV_NONE, 0};
    return (struct fab_event){FAB_EV_FIXED, (uint8_t)vec};
}

/* Taking INIT resets the APIC (SDM 10.4.7.3) but keeps a SIPI that arrived
 * after the INIT: the model starts the vCPU with it. */
static void emu_take_init(struct emu_fabric *e, int vcpu)
{
    struct apic *a = emu_apic(e, vcpu);
    bool sipi = a->sipi_pending;
    uint8_t sipi_vector = a->sipi_vector;
    emu_timer_stop(e, vcpu);
    apic_reset(a, true);
    a->sipi_pending = sipi;
    a->sipi_vector = sipi_vector;
}

static void emu_ack(struct fabric *f, int vcpu, struct fab_event ev)
{
    struct emu_fabric *e = emu(f);
    struct apic *a = emu_apic(e, vcpu);
    switch (ev.kind) {
    case FAB_EV_FIXED:
        apic_ack_fixed(a, ev.vector);
        break;
    case FAB_EV_EXTINT:
        SNP_ASSERT(a->extint_pending);
        a->extint_pending = false;
        break;
    case FAB_EV_NMI:
        SNP_ASSERT(a->nmi_pending);
        a->nmi_pending = false;
        break;
    case FAB_EV_SMI:
        SNP_ASSERT(a->smi_pending);
        a->smi_pending = false;
        break;
    case FAB_EV_SIPI:
        SNP_ASSERT(a->sipi_pending);
        a->sipi_pending = false;
        break;
    case FAB_EV_INIT:
        SNP_ASSERT(a->init_pending);
        emu_take_init(e, vcpu);
        break;
    case FAB_EV_NONE:
        SNP_PANIC("ack of FAB_EV_NONE on vCPU %d", vcpu);
    }
}

/* EOI (SDM 10.8.5): retire the highest ISR vector, broadcast it if it was
 * level-triggered, and kick: a lower-priority vector may now be deliverable. */
static void emu_eoi(struct emu_fabric *e, int vcpu)
{
    bool level;
    int vec = apic_eoi(emu_apic(e, vcpu), &level);
    TRC(e->host.trace, eoi, emu_now(e, vcpu), vcpu, vec, level);
    if (vec >= 0 && level)
        e->host.eoi_broadcast(e->host.ctx, vcpu, (uint8_t)vec);
    emu_kick(e, vcpu);
}

/* ---- MSR access ----------------------------------------------------------------------- */

/* A write the table allowed; v holds only the register's storable bits. */
static void emu_write_reg(struct emu_fabric *e, int vcpu, unsigned off, uint64_t v)
{
    struct apic *a = emu_apic(e, vcpu);
    uint32_t v32 = (uint32_t)v;
    switch (off) {
    case APIC_TPR:
        apic_set_tpr(a, v32);
        emu_kick(e, vcpu);
        break;
    case APIC_EOI:
        emu_eoi(e, vcpu);
        break;
    case APIC_SPIV:
        apic_set_spiv(a, v32);
        emu_kick(e, vcpu);
        break;
    case APIC_ESR:
        apic_esr_latch(a);
        break;
    case APIC_ICR:
        apic_set_icr(a, v);
        emu_send_icr(e, vcpu, v);
        break;
    case APIC_LVTT:
        emu_write_lvtt(e, vcpu, v32);
        break;
    case APIC_TMICT:
        emu_write_tmict(e, vcpu, v32);
        break;
    case APIC_TDCR:
        apic_set_reg(a, APIC_TDCR, v32);
        break;
    case APIC_SELF_IPI: /* does not touch ICR (SDM 10.12.11) */
        emu_send_icr(e, vcpu, (uint64_t)APIC_SH_SELF << APIC_ICR_SH_SHIFT | v32);
        break;
    default:
        SNP_ASSERT(off >= APIC_LVTTHMR && off <= APIC_LVTERR);
        apic_set_lvt(a, off, v32);
        break;
    }
}

static enum fab_access emu_write_apic_base(struct emu_fabric *e, int vcpu, uint64_t val)
{
    struct apic *a = emu_apic(e, vcpu);
    enum apic_base_change c = apic_base_check(a, val);
    if (c == APIC_BASE_GP)
        return FAB_GP;
    if (c == APIC_BASE_DISABLE)
        emu_timer_stop(e, vcpu);
    apic_base_apply(a, c, val);
    return FAB_OK;
}

static enum fab_access emu_msr_read(struct fabric *f, int vcpu, uint32_t msr, uint64_t *val)
{
    struct emu_fabric *e = emu(f);
    struct apic *a = emu_apic(e, vcpu);
    *val = 0;
    if (msr == MSR_IA32_APICBASE) {
        *val = a->base_msr;
        return FAB_OK;
    }
    if (msr == MSR_IA32_TSC_DEADLINE) {
        /* Reads 0 outside TSC-deadline mode (SDM 10.5.4.1). */
        if (apic_timer_mode(a) == LAPIC_TIMER_TSC_DEADLINE)
            *val = a->timer.tsc_deadline;
        return FAB_OK;
    }
    /* x2APIC MSRs #GP unless the APIC is in x2APIC mode (SDM 10.12.1.2). */
    if (!apic_x2apic_mode(a) || apic_msr_check(msr, false, 0) != FAB_OK)
        return FAB_GP;
    *val = apic_reg_read(a, (msr - APIC_MSR_BASE) << 4, emu_now(e, vcpu));
    return FAB_OK;
}

static enum fab_access emu_msr_write(struct fabric *f, int vcpu, uint32_t msr, uint64_t val)
{
    struct emu_fabric *e = emu(f);
    struct apic *a = emu_apic(e, vcpu);
    if (msr == MSR_IA32_APICBASE)
        return emu_write_apic_base(e, vcpu, val);
    if (msr == MSR_IA32_TSC_DEADLINE) {
        emu_write_tsc_deadline(e, vcpu, val);
        return FAB_OK;
    }
    if (!apic_x2apic_mode(a) || apic_msr_check(msr, true, val) != FAB_OK)
        return FAB_GP;
    emu_write_reg(e, vcpu, (msr - APIC_MSR_BASE) << 4, val & apic_reg_lookup(msr)->wmask);
    return FAB_OK;
}

/* ---- xAPIC MMIO ------------------------------------------------------------------------- */

/* A store xapic_write_check() allowed: v holds only the register's storable bits. */
static void emu_xapic_write(struct emu_fabric *e, int vcpu, unsigned reg, uint32_t v)
{
    struct apic *a = emu_apic(e, vcpu);
    switch (reg) {
    case APIC_ICR_LOW: /* the store to the low half sends (SDM 10.6.1) */
        apic_set_reg(a, APIC_ICR_LOW, v);
        emu_send_icr(e, vcpu, xapic_icr(v, apic_get_reg(a, APIC_ICR_HIGH)));
        break;
    case APIC_ID:
    case APIC_ICR_HIGH:
    case APIC_LDR:
    case APIC_DFR:
        apic_set_reg(a, reg, v);
        break;
    default:
        emu_write_reg(e, vcpu, reg, v);
        break;
    }
}

static bool emu_mmio(struct fabric *f, int vcpu, uint64_t gpa, unsigned size, bool write,
                     uint64_t *val)
{
    struct emu_fabric *e = emu(f);
    struct apic *a = emu_apic(e, vcpu);
    uint64_t base = apic_mmio_base(a);
    if (apic_mode(a) != APIC_MODE_XAPIC || gpa < base || gpa - base >= APIC_MMIO_SIZE)
        return false;
    unsigned off = (unsigned)(gpa - base), reg = 0;
    uint32_t v32 = 0;
    enum xapic_access r;
    if (write) {
        r = xapic_write_check(off, size, *val, &reg, &v32);
        if (r == XAPIC_WRITE)
            emu_xapic_write(e, vcpu, reg, v32);
    } else {
        r = xapic_read(a, off, size, emu_now(e, vcpu), val);
    }
    if (r == XAPIC_ILLEGAL)
        emu_error(e, vcpu, APIC_ESR_ILLEGAL_REG);
    return true;
}

/* CR8 is TPR[7:4] (SDM 10.8.6.1). XXX(model): with the APIC disabled there
 * is no TPR (SDM 10.4.3): reads give 0 and writes are dropped. */
static void emu_cr8(struct fabric *f, int vcpu, bool write, uint64_t *val)
{
    struct emu_fabric *e = emu(f);
    struct apic *a = emu_apic(e, vcpu);
    if (!apic_hw_enabled(a)) {
        if (!write)
            *val = 0;
        return;
    }
    if (!write) {
        *val = (apic_get_reg(a, APIC_TPR) >> 4) & 0xFu;
        return;
    }
    apic_set_tpr(a, (uint32_t)(*val & 0xFu) << 4);
    emu_kick(e, vcpu);
}

/* ---- The rest ------------------------------------------------------------------------- */

struct apic *emu_fabric_apic(struct fabric *f, int vcpu)
{
    SNP_ASSERT(f && f->ops == &emulated_fabric);
    return emu_apic(emu(f), vcpu);
}

static void emu_reset(struct fabric *f, int vcpu, bool init_only)
{
    struct emu_fabric *e = emu(f);
    emu_timer_stop(e, vcpu);
    apic_reset(emu_apic(e, vcpu), init_only);
}

static const uint8_t *emu_regs(struct fabric *f, int vcpu)
{
    return emu_apic(emu(f), vcpu)->regs;
}

/* Not static: fabric_list.c names it (a static library drops unreferenced
 * objects, so the list is explicit rather than a linker-section registry). */
const struct fabric_ops emulated_fabric = {
    .name = "emulated",
    .doc = "xAPIC/x2APIC emulated by the hypervisor (the golden reference)",
    .create = emu_create,
    .destroy = emu_destroy,
    .msr_read = emu_msr_read,
    .msr_write = emu_msr_write,
    .receive = emu_receive,
    .route = emu_route,
    .pending = emu_pending,
    .ack = emu_ack,
    .timer_fire = emu_timer_fire,
    .inject = emu_inject,
    .reset = emu_reset,
    .regs = emu_regs,
    .mmio = emu_mmio,
    .cr8 = emu_cr8,
};
