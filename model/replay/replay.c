/* SPDX-License-Identifier: MIT */
/*
 * Trace-driven simulation (replay.h, docs/conformance.md).
 *
 * The trace is read one event at a time. Each event is, by its kind, one of:
 *  - a stimulus: something the guest or the CPU did that reaches the fabric or
 *    a device (an x2APIC MSR access, an irqdev port access, the vCPU taking an
 *    interrupt or INIT, halting, waking). It is fed to the same fabric and
 *    device code the execution-driven model uses (system.c), at its recorded
 *    time, and what the fabric answers at once (the MSR result, the value read)
 *    is compared on the spot;
 *  - an outcome: something the fabric or a device did (ipi, irq_accept, eoi,
 *    timer_arm, timer_fire, irqdev, sipi). The replay produces its own and
 *    pairs them with the recorded ones (replay_match.c);
 *  - anything else, copied to the replay's own trace unchanged.
 *
 * Messages travel with the cost model's wire latencies (wires.c) and the LAPIC
 * timer fires when the fabric's timer arithmetic says. Where the model's time
 * depends on what a trace does not record, the trace decides within the
 * model's bounds: a vCPU that is running takes a message or its timer at the
 * end of the quantum it is in (the loosely-timed approximation of
 * docs/cost-model.md), and quantum ends are not in a trace, so a recorded
 * irq_accept or timer_fire says when; the replay checks that this lies within
 * [arrival, arrival + two quanta], and is exactly the arrival when the vCPU was
 * halted or waiting for SIPI. That makes a trace the model wrote replay exactly.
 *
 * A trace some other producer wrote (an imported KVM log) need not record
 * every outcome: in that partial mode messages are taken when they arrive, an
 * outcome the trace lacks is only counted, and a recorded interrupt that no
 * message explains (a device or the hypervisor raised it) is injected.
 *
 * The SEV-ES/SNP stimuli (GHCB exits, RMP operations, page-state changes) are
 * new entries of the stimulus table at the end of this file.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fab_savic.h"
#include "replay_int.h"
#include "snpref/base.h"
#include "snpref/text.h"
#include "wires.h"

typedef void (*rp_fn)(struct replay *r, const struct trc_rec *rec, unsigned long line);

static void malformed(struct replay *r, unsigned long line, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void malformed(struct replay *r, unsigned long line, const char *field, const char *fmt, ...)
{
    if (r->status)
        return;
    int n = snprintf(r->err, sizeof(r->err), "%s:%lu: field '%s': ", r->path, line, field);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof(r->err))
        vsnprintf(r->err + n, sizeof(r->err) - (size_t)n, fmt, ap);
    va_end(ap);
    snp_esc_inplace(r->err, sizeof(r->err)); /* the trace's strings quoted in it: one line */
    r->status = 65;
}

/* ---- Messages and timers in flight --------------------------------------------- */

static void pend_insert(struct rp_vcpu *v, const struct rp_pend *p)
{
    if (v->npend == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 8;
        v->pend = realloc(v->pend, v->cap * sizeof(*v->pend));
        SNP_ASSERT(v->pend);
    }
    size_t i = v->npend;
    while (i > 0 && (v->pend[i - 1].at > p->at ||
                     (v->pend[i - 1].at == p->at && v->pend[i - 1].seq > p->seq)))
        i--;
    memmove(&v->pend[i + 1], &v->pend[i], (v->npend - i) * sizeof(*v->pend));
    v->pend[i] = *p;
    v->npend++;
}

static struct rp_pend pend_pop(struct rp_vcpu *v, size_t i)
{
    struct rp_pend p = v->pend[i];
    memmove(&v->pend[i], &v->pend[i + 1], (v->npend - i - 1) * sizeof(*v->pend));
    v->npend--;
    return p;
}

/* Takes a message or timer expiry at time `at` (the fabric may send and arm
 * more, and kick). */
static void apply(struct replay *r, int vcpu, const struct rp_pend *p, uint64_t at)
{
    r->now = at;
    if (p->timer)
        r->fab->ops->timer_fire(r->fab, vcpu);
    else
        r->fab->ops->receive(r->fab, vcpu, &p->m);
    rp_flush(r);
}

/*
 * Before the trace moves to time t: in a partial trace, messages arriving
 * before t are taken when they arrive; in a complete one, a doorbell is taken
 * when it arrives, and a message no recorded outcome has placed within its
 * window is taken at the window's end (anything it produces is then an
 * outcome the trace lacks).
 */
/* When the replay takes vCPU i's next message or expiry if no recorded outcome
 * placed it first (anchor()): a doorbell at its arrival, anything else at the
 * end of its window; always at arrival in a partial trace. */
static uint64_t take_time(const struct replay *r, unsigned i)
{
    const struct rp_vcpu *v = &r->v[i];
    uint64_t at = v->pend[0].at;
    /* A doorbell changes nothing but makes the hardware look again, which no
     * outcome records: it is taken when it arrives. */
    bool bell = !v->pend[0].timer && v->pend[0].m.src_kind == FAB_SRC_DOORBELL;
    return r->partial || bell ? at : at + r->slack;
}

static void due(struct replay *r, uint64_t t)
{
    if (r->done)
        return;
    while (!r->diverged) {
        int best = -1;
        uint64_t best_when = t;
        for (unsigned i = 0; i < r->n; i++) {
            if (!r->v[i].npend)
                continue;
            uint64_t when = take_time(r, i);
            if (when < best_when || (when == best_when && best >= 0 &&
                                     r->v[i].pend[0].seq < r->v[best].pend[0].seq)) {
                best = (int)i;
                best_when = when;
            }
        }
        if (best < 0)
            break;
        struct rp_pend p = pend_pop(&r->v[best], 0);
        apply(r, best, &p, best_when);
    }
}

/* ---- The fabric's host ------------------------------------------------------------ */

static struct replay *rp(void *ctx) { return ctx; }

static uint64_t host_now(void *ctx, int vcpu)
{
    (void)vcpu;
    return rp(ctx)->now;
}

static void host_send(void *ctx, int dst, const struct fab_msg *m)
{
    struct replay *r = rp(ctx);
    SNP_ASSERT(dst >= 0 && (unsigned)dst < r->n);
    struct rp_pend p = {r->now + wire_latency(&r->cfg.cost, dst, m), ++r->seq, false, *m};
    pend_insert(&r->v[dst], &p);
}

static void host_timer_arm(void *ctx, int vcpu, uint64_t at)
{
    struct replay *r = rp(ctx);
    struct rp_vcpu *v = &r->v[vcpu];
    for (size_t i = 0; i < v->npend; i++)
        if (v->pend[i].timer) {
            pend_pop(v, i);
            break;
        }
    if (at == UINT64_MAX)
        return;
    struct rp_pend p = {at > r->now ? at : r->now, ++r->seq, true, {0}};
    pend_insert(v, &p);
}

static void set_state(struct replay *r, int vcpu, enum rp_state st)
{
    r->v[vcpu].st = st;
    r->v[vcpu].since = r->now;
}

/* A vCPU waiting for SIPI takes it: the model's do_sipi. A plain vCPU starts at
 * vector << 12; under SEV-ES/SNP the VMSA says where it starts (rip 0 in the
 * event) and whether it starts at all, which the trace shows when it runs. */
static void take_sipi(struct replay *r, int vcpu, uint8_t vector)
{
    struct trc_rec s = {.t = r->now, .vcpu = vcpu, .ev = TRC_EV_sipi};
    s.v[0].u = vector;
    s.v[1].u = r->sev ? 0 : (uint64_t)vector << 12;
    if (!r->sev)
        set_state(r, vcpu, RP_RUN);
    rp_made(r, &s);
}

/* A halted vCPU wakes hlt_wakeup cycles after a kick (stim_wake checks it). */
static void note_kick(struct replay *r, struct rp_vcpu *v)
{
    if (v->st != RP_HALT)
        return;
    if (v->nkicks < RP_KICKS)
        v->kicks[v->nkicks++] = r->now;
    else
        v->kicks_lost = true;
}

/*
 * The model's host_kick and the silent part of its cb_pending: a vCPU waiting
 * for SIPI drops INITs and starts on a SIPI; any other vCPU drops SIPIs and
 * SMIs (SMM is not modelled). Whether a halted vCPU wakes depends on RFLAGS.IF,
 * which a trace does not hold: the recorded wake says so (stim_wake).
 *
 * Under SEV-ES/SNP whether a vCPU waits for SIPI depends on protected state
 * (an AP reset hold, its VMSA), which a trace does not show either: there the
 * recorded init and sipi events say when the vCPU took them (stim_init,
 * stim_sipi) and SIPIs or SMIs in the way are dropped when the vCPU next takes
 * something (offers()).
 */
static void host_kick(void *ctx, int vcpu)
{
    struct replay *r = rp(ctx);
    struct rp_vcpu *v = &r->v[vcpu];
    const struct fabric_ops *ops = r->fab->ops;
    note_kick(r, v);
    if (v->st == RP_OFF || r->sev)
        return;
    for (;;) {
        struct fab_event ev = ops->pending(r->fab, vcpu, 0);
        if (v->st == RP_WAIT_SIPI) {
            if (ev.kind == FAB_EV_INIT) {
                ops->ack(r->fab, vcpu, ev);
                continue;
            }
            if (ev.kind == FAB_EV_SIPI) {
                ops->ack(r->fab, vcpu, ev);
                take_sipi(r, vcpu, ev.vector);
            }
            return;
        }
        if (ev.kind != FAB_EV_SIPI && ev.kind != FAB_EV_SMI)
            return;
        ops->ack(r->fab, vcpu, ev);
    }
}

/* The vCPU must go through VMRUN again: for a halted one that is a kick (the
 * recorded wake says whether it resumed); a running one's next VMRUN is in the
 * trace. */
static void host_reenter(void *ctx, int vcpu)
{
    struct replay *r = rp(ctx);
    note_kick(r, &r->v[vcpu]);
}

static void host_eoi(void *ctx, int vcpu, uint8_t vector)
{
    (void)vcpu;
    struct replay *r = rp(ctx);
    irqdev_eoi(&r->dev, &r->devhost, vector);
}

static uint64_t dev_now(void *ctx) { return rp(ctx)->now; }

/* ---- Taking events from the fabric ---------------------------------------------- */

/*
 * Whether the fabric offers vCPU the event a trace says it took: "fixed" (a
 * vector from IRR or ExtINT; a latched NMI the vCPU had blocked is looked past),
 * "nmi", "extint" or "init". SIPIs and SMIs in the way are dropped, as the
 * model's cb_pending does.
 */
static bool offers(struct replay *r, int vcpu, const char *kind, uint8_t vector,
                   struct fab_event *out)
{
    const struct fabric_ops *ops = r->fab->ops;
    unsigned skip = 0;
    for (;;) {
        struct fab_event ev = ops->pending(r->fab, vcpu, skip);
        *out = ev;
        if (!strcmp(kind, "sipi"))
            return ev.kind == FAB_EV_SIPI && ev.vector == vector;
        if (ev.kind == FAB_EV_SIPI || ev.kind == FAB_EV_SMI) {
            ops->ack(r->fab, vcpu, ev);
            continue;
        }
        if (!strcmp(kind, "nmi"))
            return ev.kind == FAB_EV_NMI;
        if (!strcmp(kind, "init"))
            return ev.kind == FAB_EV_INIT;
        if (ev.kind == FAB_EV_NMI && !skip) {
            skip = FAB_SKIP_NMI;
            continue;
        }
        if (!strcmp(kind, "extint"))
            return ev.kind == FAB_EV_EXTINT && ev.vector == vector;
        return (ev.kind == FAB_EV_FIXED || ev.kind == FAB_EV_EXTINT) && ev.vector == vector;
    }
}

static const char *ev_kind_name(enum fab_ev_kind k)
{
    static const char *const n[] = {"nothing", "fixed", "extint", "nmi", "smi", "init", "sipi"};
    return k <= FAB_EV_SIPI ? n[k] : "?";
}

/* Like offers(); a partial trace may record the taking before the arrival the
 * model's wire latency implies: the vCPU's messages in flight are then taken
 * now, one by one, until the fabric offers it. */
static bool offers_now(struct replay *r, int vcpu, const char *kind, uint8_t vector,
                       struct fab_event *ev)
{
    bool ok = offers(r, vcpu, kind, vector, ev);
    while (!ok && r->partial && r->v[vcpu].npend) {
        struct rp_pend p = pend_pop(&r->v[vcpu], 0);
        apply(r, vcpu, &p, r->now);
        ok = offers(r, vcpu, kind, vector, ev);
    }
    return ok;
}

static void no_offer(struct replay *r, const struct trc_rec *rec, unsigned long line,
                     const struct fab_event *ev)
{
    char what[96];
    snprintf(what, sizeof(what), "the fabric offers vCPU %d: %s", rec->vcpu, ev_kind_name(ev->kind));
    if (ev->kind == FAB_EV_FIXED || ev->kind == FAB_EV_EXTINT || ev->kind == FAB_EV_SIPI)
        snprintf(what + strlen(what), sizeof(what) - strlen(what), " vector %u", ev->vector);
    struct trc_ev_copy e;
    trc_ev_copy_set(&e, rec, line);
    rp_diverge(r, "the vCPU takes an event the fabric does not offer", &e, what);
    trc_ev_copy_free(&e);
}

/* ---- Stimuli ---------------------------------------------------------------------- */

static bool need_vcpu(struct replay *r, const struct trc_rec *rec, unsigned long line)
{
    if (rec->vcpu >= 0)
        return true;
    malformed(r, line, "vcpu", "a %s event belongs to a vCPU, not -1", trc_catalogue[rec->ev].name);
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
        malformed(r, line, "op", "\"%s\" is not rd or wr", op);
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
        malformed(r, line, "dir", "\"%s\" is not read or write", rec->v[0].s);
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
        malformed(r, line, "op", "\"%s\" is not rd or wr", rec->v[0].s);
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
        malformed(r, line, "dir", "\"%s\" is not in or out", dir);
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
        malformed(r, line, "kind", "\"%s\" is not fixed, nmi or extint", kind);
        return;
    }
    if (!need_vcpu(r, rec, line))
        return;
    r->st->stimuli++;
    struct fab_event ev;
    if (!offers_now(r, rec->vcpu, kind, (uint8_t)rec->v[0].u, &ev)) {
        no_offer(r, rec, line, &ev);
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
    if (!offers_now(r, rec->vcpu, "init", 0, &ev)) {
        no_offer(r, rec, line, &ev);
        return;
    }
    r->fab->ops->ack(r->fab, rec->vcpu, ev);
    if (!r->sev) {
        set_state(r, rec->vcpu, RP_WAIT_SIPI);
    } else if (r->v[rec->vcpu].create_on_init) {
        r->v[rec->vcpu].create_on_init = false;
        set_state(r, rec->vcpu, RP_RUN);
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
    if (!offers_now(r, rec->vcpu, "sipi", (uint8_t)rec->v[0].u, &ev)) {
        no_offer(r, rec, line, &ev);
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
        set_state(r, (int)target, RP_OFF);
    } else if (!strcmp(req, "create_on_init")) {
        r->v[target].create_on_init = true;
    } else if (!strcmp(req, "create")) {
        r->v[target].create_on_init = false;
        if (r->v[target].st != RP_RUN)
            set_state(r, (int)target, RP_RUN);
    }
}

/* vmrun_fail: the vCPU has nothing to run. */
static void stim_vmrun_fail(struct replay *r, const struct trc_rec *rec, unsigned long line)
{
    pass(r, rec, line);
    if (rec->vcpu >= 0)
        set_state(r, rec->vcpu, RP_OFF);
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
    host_kick(r, rec->vcpu);
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
                 v->since, v->nkicks ? v->kicks[v->nkicks - 1] : v->since, ev_kind_name(ev.kind));
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
        malformed(r, line, "ev", "a Secure AVIC event in a trace of fabric \"%s\"", r->cfg.apic);
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
        malformed(r, line, "offset", "%#" PRIx64 " is no word of the vCPU's backing page",
                  rec->v[0].u);
        return;
    }
    r->st->stimuli++;
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
        struct rp_pend p = pend_pop(v, 0);
        char why[200];
        bool ok = in_window(r, v, p.at, rec->t, why, sizeof(why));
        apply(r, rec->vcpu, &p, rec->t);
        if (!ok && !rp_waiting(r, rec->vcpu, id)) {
            struct trc_ev_copy e;
            trc_ev_copy_set(&e, rec, line);
            rp_diverge(r, "the outcome is recorded outside the model's window", &e, why);
            trc_ev_copy_free(&e);
        }
    }
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
    {TRC_EV_interrupted, stim_end},
};

/* Events only a vCPU that executes emits: one seen from a vCPU the replay
 * thought stopped (an SEV vCPU that a SIPI or AP_CREATION started) runs. */
static bool executes(enum trc_ev ev)
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

static rp_fn handler(enum trc_ev ev)
{
    for (size_t i = 0; i < ARRAY_SIZE(rp_table); i++)
        if (rp_table[i].ev == ev)
            return rp_table[i].fn;
    return pass;
}

/* ---- Set-up ------------------------------------------------------------------------- */

/* Loads the header's config (held in a memory file: config_load reads a path)
 * and names errors after the trace's line 1. */
static int header_config(struct replay *r, const struct trc_header *h, char *err, size_t errlen)
{
    config_defaults(&r->cfg);
    int fd = memfd_create("snpref-trace-config", MFD_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot hold the header's config: %s", r->path, strerror(errno));
        return 70;
    }
    size_t len = strlen(h->config_json);
    bool ok = write(fd, h->config_json, len) == (ssize_t)len;
    char p[64], e[512];
    snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
    int status = 0;
    int rc = ok ? config_load(&r->cfg, p, &status, e, sizeof(e)) : -1;
    r->cfg.origin = r->path; /* not the memory file, gone below */
    close(fd);
    if (!ok) {
        snprintf(err, errlen, "%s: cannot hold the header's config", r->path);
        return 70;
    }
    if (rc < 0) {
        const char *f = strstr(e, "field '");
        if (f)
            snprintf(err, errlen, "%s:1: field 'config.%s", r->path, f + 7);
        else
            snprintf(err, errlen, "%s:1: field 'config': %s", r->path, e + strlen(p));
        return 65;
    }
    return 0;
}

static int check_header(struct replay *r, const struct trc_header *h, char *err, size_t errlen)
{
    if (h->vcpus != r->cfg.vcpus) {
        snprintf(err, errlen, "%s:1: field 'vcpus': %u differs from config.vcpus %u", r->path,
                 h->vcpus, r->cfg.vcpus);
        return 65;
    }
    if (strcmp(h->fabric, r->cfg.apic)) {
        snprintf(err, errlen, "%s:1: field 'fabric': \"%s\" differs from config.apic \"%s\"",
                 r->path, h->fabric, r->cfg.apic);
        return 65;
    }
    if (!r->o->config_path)
        return 0;
    int status;
    if (config_load(&r->cfg, r->o->config_path, &status, err, errlen) < 0)
        return status;
    if (r->cfg.vcpus != h->vcpus) {
        snprintf(err, errlen, "%s: vcpus %u differs from the trace's %u", r->o->config_path,
                 r->cfg.vcpus, h->vcpus);
        return 64;
    }
    return 0;
}

static int open_traces(struct replay *r, char *err, size_t errlen)
{
    char *cfg = config_to_json(&r->cfg);
    struct trc_header h = {"snpref " SNPREF_VERSION, r->cfg.mode, r->n, r->cfg.apic,
                           r->cfg.quantum, cfg, NULL};
    r->cap = trc_open(NULL, &h, err, errlen);
    SNP_ASSERT(r->cap);
    trc_set_sink(r->cap, rp_fabric_event, r);
    r->out = trc_open(r->o->out_path, &h, err, errlen);
    free(cfg);
    return r->out ? 0 : 66;
}

static int make_fabric(struct replay *r, char *err, size_t errlen)
{
    r->host = (struct fab_host){.ctx = r,
                                .now = host_now,
                                .send = host_send,
                                .timer_arm = host_timer_arm,
                                .kick = host_kick,
                                .eoi_broadcast = host_eoi,
                                .trace = r->cap,
                                .reenter = host_reenter};
    /* RAM only backs what a fabric keeps there (mmap: untouched pages cost nothing). */
    if (mem_init(&r->mem, r->cfg.ram_mb << 20, err, errlen) < 0)
        return 65;
    struct fab_params fp;
    wire_fab_params(&r->cfg, r->apic_ids, &r->mem, &fp);
    const struct fabric_ops *ops = fabric_find(r->cfg.apic);
    SNP_ASSERT(ops); /* config_load checked the name */
    r->fab = ops->create(&fp, &r->host, err, errlen);
    if (!r->fab)
        return 65;
    r->devhost = (struct irqdev_host){r, dev_now, r->fab, r->cap};
    return 0;
}

static void init_vcpus(struct replay *r)
{
    r->v = calloc(r->n, sizeof(*r->v));
    r->s = calloc(r->n + 1, sizeof(*r->s));
    SNP_ASSERT(r->v && r->s);
    for (unsigned i = 1; i < r->n; i++)
        r->v[i].st = RP_WAIT_SIPI; /* as the model creates them: the BSP runs */
    const struct cost_model *c = &r->cfg.cost;
    uint64_t slice = r->cfg.quantum * c->insn_millicycles / 1000;
    r->slack = 2 * (slice + c->vmexit + c->event_delivery + c->hlt_wakeup);
}

static int setup(struct replay *r, char *err, size_t errlen)
{
    FILE *f = snp_fopen_input(r->path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open trace: %s", r->path, strerror(errno));
        return 66;
    }
    fclose(f);
    r->rd = trc_reader_open(r->path, err, errlen);
    if (!r->rd)
        return 65;
    const struct trc_header *h = trc_reader_header(r->rd);
    int rc = header_config(r, h, err, errlen);
    if (!rc)
        rc = check_header(r, h, err, errlen);
    if (rc)
        return rc;
    r->n = r->cfg.vcpus;
    r->sev = strcmp(r->cfg.mode, "plain") != 0;
    /* A foreign trace, or one of ours that records only some events (run
     * --trace-events), is partial: only what it holds can be compared. */
    r->partial = r->o->partial < 0 ? strncmp(h->model, "snpref ", 7) != 0 || h->events != NULL
                                   : r->o->partial;
    r->st->partial = r->partial;
    r->tol = r->o->have_tol ? r->o->tol
                            : (struct trc_tol){r->partial ? TRC_TOL_ANY : TRC_TOL_EXACT, 0, 0};
    init_vcpus(r);
    if ((rc = open_traces(r, err, errlen)))
        return rc;
    return make_fabric(r, err, errlen);
}

/* ---- The loop ---------------------------------------------------------------------- */

static void step(struct replay *r, const struct trc_rec *rec, unsigned long line)
{
    r->st->events++;
    if (rec->vcpu >= (int)r->n) {
        malformed(r, line, "vcpu", "%d is not below the header's vcpus (%u)", rec->vcpu, r->n);
        return;
    }
    rp_ring_add(r, line, rec);
    if (rec->t > r->last_t) {
        /* Nothing at this time or later can pair with an outcome from before
         * it (plus the tolerance): the first disagreement in time order. */
        due(r, rec->t);
        rp_overdue(r, rec->t, false);
        trc_advance(r->out, rec->t);
        r->last_t = rec->t;
    }
    r->now = rec->t;
    if (rec->vcpu >= 0 && (r->v[rec->vcpu].st == RP_WAIT_SIPI || r->v[rec->vcpu].st == RP_OFF) &&
        executes(rec->ev))
        set_state(r, rec->vcpu, RP_RUN);
    if (!r->diverged)
        handler(rec->ev)(r, rec, line);
}

static int loop(struct replay *r, char *err, size_t errlen)
{
    struct trc_rec rec;
    int k = 0;
    while (!r->diverged && !r->status && (k = trc_reader_next(r->rd, &rec, err, errlen)) == 1)
        step(r, &rec, trc_reader_line(r->rd));
    if (r->status) {
        snprintf(err, errlen, "%s", r->err);
        return r->status;
    }
    if (!r->diverged && k < 0)
        return 65;
    if (!r->diverged) {
        rp_flush(r);
        rp_overdue(r, UINT64_MAX, true);
    }
    return r->diverged ? 1 : 0;
}

static void teardown(struct replay *r)
{
    if (r->fab)
        r->fab->ops->destroy(r->fab);
    if (r->cap) {
        char e[8];
        trc_close(r->cap, false, e, sizeof(e));
    }
    if (r->out) {
        char e[8];
        trc_close(r->out, false, e, sizeof(e));
    }
    for (unsigned i = 0; r->v && i < r->n; i++)
        free(r->v[i].pend);
    mem_destroy(&r->mem);
    rp_match_free(r);
    free(r->v);
    free(r->s);
    trc_reader_close(r->rd);
}

int replay_run(const struct replay_opts *o, struct replay_stats *st, char *err, size_t errlen)
{
    struct replay r = {.o = o, .st = st, .path = o->trace_path, .rep = o->report ? o->report : stderr};
    memset(st, 0, sizeof(*st));
    int rc = setup(&r, err, errlen);
    if (!rc)
        rc = rp_initial(&r, err, errlen);
    if (!rc)
        rc = loop(&r, err, errlen);
    /* A trace of another producer (an imported log) with nothing to compare
     * says the log was not understood: refused, so CI does not pass on nothing.
     * A trace snpref wrote with no stimulus is a run that did none. */
    if (rc == 0 && r.partial && !st->stimuli && !st->outcomes) {
        snprintf(err, errlen, "%s: no event the replay compares: %" PRIu64 " events, none a stimulus"
                 " (msr, pio, mmio, cr8, irq_deliver, init, hlt, wake...) or an outcome (ipi,"
                 " irq_accept, eoi, timer_arm, timer_fire, irqdev...)", r.path, st->events);
        rc = 65;
    }
    if (rc <= 1 && r.out) {
        /* On divergence too: a complete file, up to the disagreement, saying so. */
        rp_flush(&r);
        if (rc == 1) {
            struct trc_rec d = {.t = r.last_t, .vcpu = -1, .ev = TRC_EV_diverged};
            d.v[0].u = st->diverged_at;
            d.v[1].s = r.why;
            trc_advance(r.out, UINT64_MAX);
            trc_emit(r.out, &d);
        }
        int c = trc_close(r.out, true, err, errlen);
        r.out = NULL;
        if (c < 0)
            rc = 66;
    }
    teardown(&r);
    return rc;
}
