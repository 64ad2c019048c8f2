/* SPDX-License-Identifier: MIT */
/*
 * The replay's side of the fabric (replay_int.h, docs/conformance.md
 * "Timing"): the messages and LAPIC timer expiries in flight to each vCPU,
 * the host callbacks the fabric calls (send with the cost model's wire
 * latency, arm a timer, kick a vCPU, broadcast an EOI), and taking an event
 * the fabric offers a vCPU (the model's cb_pending, in system.c).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "replay_int.h"
#include "snpref/base.h"
#include "wires.h"

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

struct rp_pend rp_pend_pop(struct rp_vcpu *v, size_t i)
{
    struct rp_pend p = v->pend[i];
    memmove(&v->pend[i], &v->pend[i + 1], (v->npend - i - 1) * sizeof(*v->pend));
    v->npend--;
    return p;
}

/* Takes a message or timer expiry at time `at` (the fabric may send and arm
 * more, and kick). */
void rp_apply(struct replay *r, int vcpu, const struct rp_pend *p, uint64_t at)
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

void rp_due(struct replay *r, uint64_t t)
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
        struct rp_pend p = rp_pend_pop(&r->v[best], 0);
        rp_apply(r, best, &p, best_when);
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
            rp_pend_pop(v, i);
            break;
        }
    if (at == UINT64_MAX)
        return;
    struct rp_pend p = {at > r->now ? at : r->now, ++r->seq, true, {0}};
    pend_insert(v, &p);
}

void rp_set_state(struct replay *r, int vcpu, enum rp_state st)
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
        rp_set_state(r, vcpu, RP_RUN);
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
void rp_host_kick(void *ctx, int vcpu)
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
void rp_host_reenter(void *ctx, int vcpu)
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

const char *rp_ev_kind_name(enum fab_ev_kind k)
{
    static const char *const n[] = {"nothing", "fixed", "extint", "nmi", "smi", "init", "sipi"};
    return k <= FAB_EV_SIPI ? n[k] : "?";
}

/* Like offers(); a partial trace may record the taking before the arrival the
 * model's wire latency implies: the vCPU's messages in flight are then taken
 * now, one by one, until the fabric offers it. */
bool rp_offers_now(struct replay *r, int vcpu, const char *kind, uint8_t vector,
                       struct fab_event *ev)
{
    bool ok = offers(r, vcpu, kind, vector, ev);
    while (!ok && r->partial && r->v[vcpu].npend) {
        struct rp_pend p = rp_pend_pop(&r->v[vcpu], 0);
        rp_apply(r, vcpu, &p, r->now);
        ok = offers(r, vcpu, kind, vector, ev);
    }
    return ok;
}

void rp_no_offer(struct replay *r, const struct trc_rec *rec, unsigned long line,
                     const struct fab_event *ev)
{
    char what[96];
    snprintf(what, sizeof(what), "the fabric offers vCPU %d: %s", rec->vcpu, rp_ev_kind_name(ev->kind));
    if (ev->kind == FAB_EV_FIXED || ev->kind == FAB_EV_EXTINT || ev->kind == FAB_EV_SIPI)
        snprintf(what + strlen(what), sizeof(what) - strlen(what), " vector %u", ev->vector);
    struct trc_ev_copy e;
    trc_ev_copy_set(&e, rec, line);
    rp_diverge(r, "the vCPU takes an event the fabric does not offer", &e, what);
    trc_ev_copy_free(&e);
}

int rp_make_fabric(struct replay *r, char *err, size_t errlen)
{
    r->host = (struct fab_host){.ctx = r,
                                .now = host_now,
                                .send = host_send,
                                .timer_arm = host_timer_arm,
                                .kick = rp_host_kick,
                                .eoi_broadcast = host_eoi,
                                .trace = r->cap,
                                .reenter = rp_host_reenter};
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
