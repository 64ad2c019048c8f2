/* SPDX-License-Identifier: MIT */
/*
 * What each trace event is to the replay (replay_int.h, docs/conformance.md
 * "Stimulus, outcome, pass-through"): the stimuli fed to the fabric and the
 * test interrupt device at their recorded time (x2APIC MSR, port, MMIO and CR8
 * accesses, the vCPU taking an interrupt, INIT, SIPI, halting and waking, the
 * Secure AVIC events), the recorded outcomes and the anchors that place a
 * message's arrival, and the table from event kind to handler.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fab_savic.h"
#include "replay_int.h"
#include "snpref/base.h"
#include "snpref/text.h"
#include "wires.h"

/* ---- Stimuli ---------------------------------------------------------------------- */

static bool need_vcpu(struct replay *r, const struct trc_rec *rec, unsigned long line)
{
    if (rec->vcpu >= 0)
        return true;
    rp_malformed(r, line, "vcpu", "a %s event belongs to a vCPU, not -1", trc_catalogue[rec->ev].name);
    return false;
}

static void pass(struct replay *r, const struct trc_rec *rec, unsigned long line)
{
    (void)line;
    r->st->passthrough++;
    rp_emit(r, rec);
}

/* What the replay answers must be what the trace recorded, on the spot. */
static void same_answer(struct replay *r, const struct trc_rec *rec, unsigned long line,
                        const struct trc_rec *mine, const char *why)
{
    if (trc_rec_same(rec, mine, NULL))
        return;
    struct trc_ev_copy e;
    trc_ev_copy_set(&e, rec, line);
    char *a = rp_format(mine);
    rp_diverge(r, why, &e, a);
    free(a);
    trc_ev_copy_free(&e);
}

/* A stimulus the fabric answered at once (mine): what it caused goes out
 * first, then the answer, checked against the recorded one. */
static void answered(struct replay *r, const struct trc_rec *rec, unsigned long line,
                     const struct trc_rec *mine, const char *why)
{
    rp_flush(r);
    same_answer(r, rec, line, mine, why);
    rp_emit(r, mine);
}

/* msr: an x2APIC MSR access (the fabric answers ok or #GP, and the value read). */
static void stim_msr(struct replay *r, const struct trc_rec *rec, unsigned long line)
{
    const char *op = rec->v[0].s;
    uint32_t msr = (uint32_t)rec->v[1].u;
    if (rec->v[1].u > UINT32_MAX || !wire_fabric_msr(msr)) {
        pass(r, rec, line);
        return;
    }
    bool write = !strcmp(op, "wr");
    if (!write && strcmp(op, "rd")) {
        rp_malformed(r, line, "op", "\"%s\" is not rd or wr", op);
        return;
    }
    if (!need_vcpu(r, rec, line))
        return;
    r->st->stimuli++;
    uint64_t val = rec->v[2].u;
    const struct fabric_ops *ops = r->fab->ops;
    enum fab_access a = write ? ops->msr_write(r->fab, rec->vcpu, msr, val)
                              : ops->msr_read(r->fab, rec->vcpu, msr, &val);
    struct trc_rec mine = *rec;
    mine.v[2].u = val;
    mine.v[3].s = a == FAB_OK ? "ok" : "gp";
    answered(r, rec, line, &mine, "the fabric answers this MSR access differently");
}

/* mmio: an access to the guest-physical address space. The fabric's xAPIC
 * page answers its part (a stimulus, compared like an MSR); the rest passes. */
static void stim_mmio(struct replay *r, const struct trc_rec *rec, unsigned long line)
{
    const struct fabric_ops *ops = r->fab->ops;
    uint64_t size = rec->v[2].u;
    if (!ops->mmio || size < 1 || size > 8 || rec->vcpu < 0 ||
        (unsigned)rec->vcpu >= r->cfg.vcpus) {
        pass(r, rec, line);
        return;
    }
    bool write = !strcmp(rec->v[0].s, "write");
    if (!write && strcmp(rec->v[0].s, "read")) {
        rp_malformed(r, line, "dir", "\"%s\" is not read or write", rec->v[0].s);
        return;
    }
    uint64_t val = rec->v[3].u;
    if (!ops->mmio(r->fab, rec->vcpu, rec->v[1].u, (unsigned)size, write, &val)) {
        pass(r, rec, line);
        return;
    }
    r->st->stimuli++;
    struct trc_rec mine = *rec;
    mine.v[3].u = size >= 8 ? val : val & ((1ull << (size * 8)) - 1);
    answered(r, rec, line, &mine, "the APIC answers this MMIO access differently");
}

/* cr8: MOV to or from CR8, a TPR access through the fabric. */
static void stim_cr8(struct replay *r, const struct trc_rec *rec, unsigned long line)
{
    bool write = !strcmp(rec->v[0].s, "wr");
    if (!write && strcmp(rec->v[0].s, "rd")) {
        rp_malformed(r, line, "op", "\"%s\" is not rd or wr", rec->v[0].s);
        return;
    }
    if (!need_vcpu(r, rec, line))
        return;
    r->st->stimuli++;
    uint64_t val = rec->v[1].u;
    bool ok = wire_cr8(r->fab, rec->vcpu, write, &val);
    struct trc_rec mine = *rec;
    mine.v[1].u = val;
    mine.v[2].s = ok ? "ok" : "gp";
    answered(r, rec, line, &mine, "the fabric answers this CR8 access differently");
}

/* pio: an access to the test interrupt device's ports. */
static void stim_pio(struct replay *r, const struct trc_rec *rec, unsigned long line)
{
    const char *dir = rec->v[0].s;
    if (rec->v[1].u > 0xFFFF || !irqdev_claims((uint16_t)rec->v[1].u, (unsigned)rec->v[2].u)) {
        pass(r, rec, line);
        return;
    }
    bool in = !strcmp(dir, "in");
    if (!in && strcmp(dir, "out")) {
        rp_malformed(r, line, "dir", "\"%s\" is not in or out", dir);
        return;
    }
    if (!need_vcpu(r, rec, line))
        return;
    r->st->stimuli++;
    unsigned reg = (unsigned)rec->v[1].u - SNP_PORT_IRQDEV;
    if (in) {
        struct trc_rec mine = *rec;
        mine.v[3].u = irqdev_read(&r->dev, reg);
        same_answer(r, rec, line, &mine, "the device reads differently");
        rp_emit(r, &mine);
        return;
    }
    rp_emit(r, rec); /* the model traces the access, then the device acts */
    irqdev_write(&r->dev, &r->devhost, reg, (uint32_t)rec->v[3].u);
    rp_flush(r);
}

/* irq_deliver: the vCPU took an interrupt or NMI through its IDT. */
static void stim_deliver(struct replay *r, const struct trc_rec *rec, unsigned long line)
{
    const char *kind = rec->v[1].s;
    if (strcmp(kind, "fixed") && strcmp(kind, "nmi") && strcmp(kind, "extint")) {
        rp_malformed(r, line, "kind", "\"%s\" is not fixed, nmi or extint", kind);
        return;
    }
    if (!need_vcpu(r, rec, line))
        return;
    r->st->stimuli++;
    struct fab_event ev;
    if (!rp_offers_now(r, rec->vcpu, kind, (uint8_t)rec->v[0].u, &ev)) {
        rp_no_offer(r, rec, line, &ev);
        return;
    }
    r->fab->ops->ack(r->fab, rec->vcpu, ev);
    rp_emit(r, rec);
}

/* init: the vCPU took INIT and waits for SIPI (plain), or went on (SEV-ES/SNP:
 * the hypervisor cannot reset protected state; a vCPU an AP_CREATION
 * CREATE_ON_INIT request armed starts). */
static void stim_init(struct replay *r, const struct trc_rec *rec, unsigned long line)
{
    if (!need_vcpu(r, rec, line))
        return;
    r->st->stimuli++;
    struct fab_event ev;
    if (!rp_offers_now(r, rec->vcpu, "init", 0, &ev)) {
        rp_no_offer(r, rec, line, &ev);
        return;
    }
    r->fab->ops->ack(r->fab, rec->vcpu, ev);
    if (!r->sev) {
        rp_set_state(r, rec->vcpu, RP_WAIT_SIPI);
    } else if (r->v[rec->vcpu].create_on_init) {
        r->v[rec->vcpu].create_on_init = false;
        rp_set_state(r, rec->vcpu, RP_RUN);
    }
    rp_emit(r, rec);
}

/* sipi: an outcome of the kick in plain mode; under SEV-ES/SNP the vCPU took a
 * SIPI the fabric must hold (whether it then runs, the trace shows). */
static void stim_sipi(struct replay *r, const struct trc_rec *rec, unsigned long line)
{
    if (!need_vcpu(r, rec, line))
        return;
    if (!r->sev) {
        rp_recorded(r, rec, line);
        return;
    }
    r->st->stimuli++;
    struct fab_event ev;
    if (!rp_offers_now(r, rec->vcpu, "sipi", (uint8_t)rec->v[0].u, &ev)) {
        rp_no_offer(r, rec, line, &ev);
        return;
    }
    r->fab->ops->ack(r->fab, rec->vcpu, ev);
    rp_emit(r, rec);
}

/* ap_create (SNP): a successful request creates, arms or destroys the target
 * vCPU (vCPU i has APIC ID i), as the model's sys_ap_create does. */
static void stim_ap_create(struct replay *r, const struct trc_rec *rec, unsigned long line)
{
    uint64_t target = rec->v[1].u;
    const char *req = rec->v[0].s;
    pass(r, rec, line);
    if (strcmp(rec->v[4].s, "ok") || target >= r->n)
        return;
    if (!strcmp(req, "destroy")) {
        r->v[target].create_on_init = false;
        rp_set_state(r, (int)target, RP_OFF);
    } else if (!strcmp(req, "create_on_init")) {
        r->v[target].create_on_init = true;
    } else if (!strcmp(req, "create")) {
        r->v[target].create_on_init = false;
        if (r->v[target].st != RP_RUN)
            rp_set_state(r, (int)target, RP_RUN);
    }
}

/* vmrun_fail: the vCPU has nothing to run. */
static void stim_vmrun_fail(struct replay *r, const struct trc_rec *rec, unsigned long line)
{
    pass(r, rec, line);
    if (rec->vcpu >= 0)
        rp_set_state(r, rec->vcpu, RP_OFF);
}

/* hlt: the vCPU halted; the model re-checks its pending events at once. */
static void stim_hlt(struct replay *r, const struct trc_rec *rec, unsigned long line)
{
    if (!need_vcpu(r, rec, line))
        return;
    struct rp_vcpu *v = &r->v[rec->vcpu];
    r->st->stimuli++;
    rp_emit(r, rec);
    v->st = RP_HALT;
    v->since = rec->t;
    v->nkicks = 0;
    v->kicks_lost = false;
    rp_host_kick(r, rec->vcpu);
    rp_flush(r);
}

/* Whether a wake at time t is hlt_wakeup after one of the kicks the halted
 * vCPU got (its halt, a message it accepted). */
static bool wake_on_time(const struct replay *r, const struct rp_vcpu *v, uint64_t t)
{
    if (v->kicks_lost)
        return true;
    for (unsigned i = 0; i < v->nkicks; i++)
        if (trc_tol_ok(&r->tol, t, v->kicks[i] + r->cfg.cost.hlt_wakeup))
            return true;
    return false;
}

/* wake: the vCPU left the halted state, for a reason the fabric must hold. */
static void stim_wake(struct replay *r, const struct trc_rec *rec, unsigned long line)
{
    if (!need_vcpu(r, rec, line))
        return;
    struct rp_vcpu *v = &r->v[rec->vcpu];
    const char *reason = rec->v[0].s;
    r->st->stimuli++;
    struct fab_event ev = r->fab->ops->pending(r->fab, rec->vcpu, 0);
    if (ev.kind == FAB_EV_NMI && !strcmp(reason, "interrupt"))
        ev = r->fab->ops->pending(r->fab, rec->vcpu, FAB_SKIP_NMI);
    bool ok = !strcmp(reason, "interrupt") ? ev.kind == FAB_EV_FIXED || ev.kind == FAB_EV_EXTINT
              : !strcmp(reason, "nmi")     ? ev.kind == FAB_EV_NMI
              : !strcmp(reason, "init")    ? ev.kind == FAB_EV_INIT
              /* The hypervisor resumes a halted Secure AVIC vCPU so that VMRUN
               * merges REQUESTED_IRR (host_reenter): what it then takes, the
               * trace shows. */
              : !strcmp(reason, "reenter") ? r->fab->ops->vmrun != NULL
                                           : false;
    const char *why = v->st != RP_HALT      ? "a vCPU that is not halted wakes"
                      : !ok                  ? "nothing the fabric holds wakes the vCPU this way"
                      : !wake_on_time(r, v, rec->t) ? "the wake is not hlt_wakeup cycles after a kick"
                                                    : NULL;
    if (why) {
        struct trc_ev_copy e;
        trc_ev_copy_set(&e, rec, line);
        char what[160];
        snprintf(what, sizeof(what), "vCPU %d %s since t=%" PRIu64 ", last kick at t=%" PRIu64
                 ", fabric offers %s", rec->vcpu, v->st == RP_HALT ? "halted" : "not halted",
                 v->since, v->nkicks ? v->kicks[v->nkicks - 1] : v->since, rp_ev_kind_name(ev.kind));
        rp_diverge(r, why, &e, what);
        trc_ev_copy_free(&e);
        return;
    }
    v->st = RP_RUN;
    v->since = rec->t;
    rp_emit(r, rec);
}

/* ---- Secure AVIC (fab_savic.c) -------------------------------------------------------- */

/*
 * The hardware's own part of Secure AVIC: what a guest's accelerated access,
 * its SAVIC_CONTROL and VMRUN do to the backing page. Each is a stimulus the
 * fabric also traces itself, so the recorded event is both fed in and kept as
 * the outcome the fabric's copy must match (values read, the #VC taken, the
 * vectors merged). The guest's own stores to a page reach the replay as the
 * savic_page_write events the model traced when its hardware looked.
 */
static bool savic_stim(struct replay *r, const struct trc_rec *rec, unsigned long line)
{
    if (!need_vcpu(r, rec, line))
        return false;
    if (!r->fab->ops->hw_msr) {
        rp_malformed(r, line, "ev", "a Secure AVIC event in a trace of fabric \"%s\"", r->cfg.apic);
        return false;
    }
    r->st->stimuli++;
    rp_recorded(r, rec, line);
    return true;
}

/* apic_hw: a guest RDMSR/WRMSR the hardware handled. */
static void stim_apic_hw(struct replay *r, const struct trc_rec *rec, unsigned long line)
{
    if (!savic_stim(r, rec, line))
        return;
    bool write = !strcmp(rec->v[0].s, "wr");
    uint64_t val = write ? rec->v[2].u : 0;
    struct fab_exit x;
    r->fab->ops->hw_msr(r->fab, rec->vcpu, (uint32_t)rec->v[1].u, write, &val, &x);
    rp_flush(r);
}

/* savic_control: SAVIC_CONTROL written (the guest, or VMRUN loading a VMSA). */
static void stim_savic_control(struct replay *r, const struct trc_rec *rec, unsigned long line)
{
    if (!savic_stim(r, rec, line))
        return;
    uint64_t val = rec->v[0].u;
    struct fab_exit x;
    r->v[rec->vcpu].savic_ctl = val;
    r->fab->ops->hw_msr(r->fab, rec->vcpu, MSR_SAVIC_CONTROL, true, &val, &x);
    rp_flush(r);
}

/* savic_page_write: guest stores to the vCPU's backing page, into the RAM. */
static void stim_savic_page_write(struct replay *r, const struct trc_rec *rec, unsigned long line)
{
    if (!need_vcpu(r, rec, line))
        return;
    uint64_t gpa = (r->v[rec->vcpu].savic_ctl & SAVIC_GPA_MASK) + rec->v[0].u;
    if (rec->v[0].u >= 4096 || (rec->v[0].u & 3) || !mem_contains(&r->mem, gpa, 4)) {
        rp_malformed(r, line, "offset", "%#" PRIx64 " is no word of the vCPU's backing page",
                  rec->v[0].u);
        return;
    }
    r->st->stimuli++;
    if (r->fab->ops->page_seen)
        r->fab->ops->page_seen(r->fab, rec->vcpu, (uint32_t)rec->v[0].u, (uint32_t)rec->v[1].u);
    else
        mem_st32(&r->mem, gpa, (uint32_t)rec->v[1].u);
    rp_emit(r, rec);
}

/* savic_page: the hypervisor registered or unregistered a backing page. */
static void stim_savic_page(struct replay *r, const struct trc_rec *rec, unsigned long line)
{
    pass(r, rec, line);
    int64_t target = (int64_t)rec->v[1].u;
    if (strcmp(rec->v[3].s, "ok") || target < 0 || target >= (int64_t)r->n ||
        !r->fab->ops->backing_page)
        return;
    uint64_t gpa = rec->v[2].u;
    r->fab->ops->backing_page(r->fab, (int)target, !strcmp(rec->v[0].s, "register"), &gpa);
}

/* savic_irr, savic_nmi: what a VMRUN merged; the first of a VMRUN runs it. */
static void stim_savic_vmrun(struct replay *r, const struct trc_rec *rec, unsigned long line)
{
    if (!savic_stim(r, rec, line))
        return;
    struct rp_vcpu *v = &r->v[rec->vcpu];
    if (v->vmrun_t == rec->t + 1)
        return;
    v->vmrun_t = rec->t + 1;
    const char *why = NULL;
    r->fab->ops->vmrun(r->fab, rec->vcpu, &why);
    rp_flush(r);
}

/* vmentry: the vCPU re-entered with VMRUN (traced after the fabric's work
 * there). A fabric the hardware evaluates at VMRUN (Secure AVIC) evaluates its
 * page now, as the model's did, unless a savic_irr or savic_nmi of this VMRUN
 * already made the replay run it. */
static void stim_vmentry(struct replay *r, const struct trc_rec *rec, unsigned long line)
{
    if (r->fab->ops->vmrun && rec->vcpu >= 0 && (unsigned)rec->vcpu < r->n) {
        struct rp_vcpu *v = &r->v[rec->vcpu];
        if (v->vmrun_t != rec->t + 1) {
            v->vmrun_t = rec->t + 1;
            const char *why = NULL;
            r->fab->ops->vmrun(r->fab, rec->vcpu, &why);
            rp_flush(r);
        }
    }
    pass(r, rec, line);
}

/* exit, shutdown, limit, interrupted: the model stops; nothing in flight arrives any more. */
static void stim_end(struct replay *r, const struct trc_rec *rec, unsigned long line)
{
    pass(r, rec, line);
    r->done = true;
}

/* ---- Outcomes --------------------------------------------------------------------- */

static void outcome(struct replay *r, const struct trc_rec *rec, unsigned long line)
{
    rp_recorded(r, rec, line);
}

/* The AVIC events: what the savic fabric produces; from a fabric that does not
 * (a KVM log of an AVIC host replayed on `emulated`), copied through. */
static void avic_outcome(struct replay *r, const struct trc_rec *rec, unsigned long line)
{
    if (r->fab->ops->hw_msr)
        rp_recorded(r, rec, line);
    else
        pass(r, rec, line);
}

/* The window in which the model takes a message or expiry due at `at`. */
static bool in_window(const struct replay *r, const struct rp_vcpu *v, uint64_t at, uint64_t t,
                      char *why, size_t len)
{
    bool idle = v->st != RP_RUN && v->since <= at;
    uint64_t hi = idle ? at : at + r->slack;
    static const char *const st_name[] = {"running", "halted", "waiting for SIPI", "off"};
    uint64_t allow = trc_tol_allow(&r->tol, t);
    if ((t >= at || at - t <= allow) && (t <= hi || t - hi <= allow))
        return true;
    if (idle)
        snprintf(why, len, "arrives at t=%" PRIu64 " at a vCPU %s since t=%" PRIu64
                 ": the model takes it then", at, st_name[v->st], v->since);
    else
        snprintf(why, len, "arrives at t=%" PRIu64 " at a running vCPU: the model takes it at"
                 " its next quantum boundary, by t=%" PRIu64, at, hi);
    return false;
}

/* A partial trace records an interrupt no message explains: a device or the
 * hypervisor raised it, so it is injected. */
static void inject(struct replay *r, const struct trc_rec *rec)
{
    int mode = -1;
    for (int dm = 0; dm < 8; dm++)
        if (!strcmp(apic_dm_name((enum apic_dm)dm), rec->v[1].s))
            mode = dm;
    if (mode < 0)
        return;
    struct fab_msg m = {FAB_SRC_HV, -1, (uint8_t)rec->v[0].u, (enum apic_dm)mode,
                        !strcmp(rec->v[2].s, "level")};
    r->fab->ops->inject(r->fab, rec->vcpu, &m);
    rp_flush(r);
}

/*
 * irq_accept and timer_fire: the recorded time says where the quantum ended.
 * The vCPU's messages and expiries due by then are taken at that time, in
 * order, until one of them produces this outcome; its window is checked.
 */
static void anchor(struct replay *r, const struct trc_rec *rec, unsigned long line)
{
    if (!need_vcpu(r, rec, line))
        return;
    uint64_t id = rp_recorded(r, rec, line);
    struct rp_vcpu *v = &r->v[rec->vcpu];
    if (r->partial) {
        if (rp_waiting(r, rec->vcpu, id) && rec->ev == TRC_EV_irq_accept && (int64_t)rec->v[3].u < 0)
            inject(r, rec);
        return;
    }
    while (!r->diverged && rp_waiting(r, rec->vcpu, id) && v->npend && v->pend[0].at <= rec->t) {
        struct rp_pend p = rp_pend_pop(v, 0);
        char why[200];
        bool ok = in_window(r, v, p.at, rec->t, why, sizeof(why));
        rp_apply(r, rec->vcpu, &p, rec->t);
        if (!ok && !rp_waiting(r, rec->vcpu, id)) {
            struct trc_ev_copy e;
            trc_ev_copy_set(&e, rec, line);
            rp_diverge(r, "the outcome is recorded outside the model's window", &e, why);
            trc_ev_copy_free(&e);
        }
    }
}

/*
 * psp_irq: the PSP device's completion interrupt (docs/psp.md). The firmware
 * behind it is not replayed (its commands read guest memory the trace does
 * not hold); the message it sent is a stimulus, routed as the PSP routes it:
 * a device message to the destination, physical or logical, fixed or lowest
 * priority, edge.
 */
static void stim_psp_irq(struct replay *r, const struct trc_rec *rec, unsigned long line)
{
    if (rec->v[0].u > UINT32_MAX) {
        rp_malformed(r, line, "dest", "%#" PRIx64 " is not a 32-bit APIC ID", rec->v[0].u);
        return;
    }
    if (rec->v[3].u > 255) {
        rp_malformed(r, line, "vector", "%" PRIu64 " is not a vector", rec->v[3].u);
        return;
    }
    r->st->stimuli++;
    struct fab_msg m = {
        .src_kind = FAB_SRC_DEVICE,
        .src_vcpu = -1,
        .vector = (uint8_t)rec->v[3].u,
        .mode = strcmp(rec->v[2].s, "lowest") ? APIC_DM_FIXED : APIC_DM_LOWEST,
        .level = false,
    };
    r->fab->ops->route(r->fab, (uint32_t)rec->v[0].u, !strcmp(rec->v[1].s, "logical"), &m);
}

/* ---- The stimulus table ---------------------------------------------------------- */

/*
 * What each event kind is to the replay; kinds not listed pass through. New
 * stimuli (the SEV-ES/SNP ones: vmgexit and ghcb_msr answered by a GHCB
 * protocol model, rmpupdate/psmash/pvalidate/rmpadjust/psc applied to an RMP
 * model, rmp_fault as its outcome) are added here.
 */
static const struct {
    enum trc_ev ev;
    rp_fn fn;
} rp_table[] = {
    {TRC_EV_msr, stim_msr},          {TRC_EV_pio, stim_pio},
    {TRC_EV_mmio, stim_mmio},        {TRC_EV_cr8, stim_cr8},
    {TRC_EV_irq_deliver, stim_deliver}, {TRC_EV_init, stim_init},
    {TRC_EV_hlt, stim_hlt},          {TRC_EV_wake, stim_wake},
    {TRC_EV_exit, stim_end},         {TRC_EV_shutdown, stim_end},
    {TRC_EV_limit, stim_end},        {TRC_EV_ipi, outcome},
    {TRC_EV_eoi, outcome},           {TRC_EV_timer_arm, outcome},
    {TRC_EV_irqdev, outcome},        {TRC_EV_sipi, stim_sipi},
    {TRC_EV_irq_accept, anchor},     {TRC_EV_timer_fire, anchor},
    {TRC_EV_ap_create, stim_ap_create}, {TRC_EV_vmrun_fail, stim_vmrun_fail},
    {TRC_EV_apic_hw, stim_apic_hw},  {TRC_EV_savic_control, stim_savic_control},
    {TRC_EV_savic_page_write, stim_savic_page_write}, {TRC_EV_savic_page, stim_savic_page},
    {TRC_EV_savic_irr, stim_savic_vmrun}, {TRC_EV_savic_nmi, stim_savic_vmrun},
    {TRC_EV_avic_doorbell, avic_outcome}, {TRC_EV_avic_incomplete_ipi, avic_outcome},
    {TRC_EV_avic_unaccelerated_access, avic_outcome},
    {TRC_EV_interrupted, stim_end},  {TRC_EV_psp_irq, stim_psp_irq},
    /* A variant's decision (docs/fabric-plugins.md "Hooks"): the replay's
     * fabric decides again and must decide the same. */
    {TRC_EV_fabric_hook, outcome},
    {TRC_EV_vmentry, stim_vmentry},
};

/* Events only a vCPU that executes emits: one seen from a vCPU the replay
 * thought stopped (an SEV vCPU that a SIPI or AP_CREATION started) runs. */
bool rp_executes(enum trc_ev ev)
{
    static const enum trc_ev exec[] = {
        TRC_EV_console, TRC_EV_exit,      TRC_EV_shutdown,   TRC_EV_cpuid,
        TRC_EV_msr,     TRC_EV_pio,       TRC_EV_tsc,        TRC_EV_intercept,
        TRC_EV_mmio,    TRC_EV_exception, TRC_EV_irq_deliver, TRC_EV_vmexit,
        TRC_EV_vmentry, TRC_EV_vmgexit,   TRC_EV_vmgexit_result, TRC_EV_ghcb_msr,
        TRC_EV_pvalidate, TRC_EV_rmpadjust, TRC_EV_psc,      TRC_EV_ap_create,
        TRC_EV_apic_hw, TRC_EV_cr8,
    };
    for (size_t i = 0; i < ARRAY_SIZE(exec); i++)
        if (exec[i] == ev)
            return true;
    return false;
}

rp_fn rp_handler(enum trc_ev ev)
{
    for (size_t i = 0; i < ARRAY_SIZE(rp_table); i++)
        if (rp_table[i].ev == ev)
            return rp_table[i].fn;
    return pass;
}
