/* SPDX-License-Identifier: MIT */
/*
 * System composition and scheduling (docs/design.md section 2).
 *
 * Each vCPU runs in quanta of instructions; a quantum is an event of the timing
 * kernel at the vCPU's local time, and its length in cycles comes from the cost
 * model (instructions x CPI + the cost of each architectural event), so time
 * never depends on the host. Interrupt messages are events too, at the sender's
 * time plus the wire latency. A vCPU that sends a message ends its quantum
 * there, so the message's arrival is ordered against every later quantum;
 * a vCPU whose own timer expires inside its quantum has the quantum cut at the
 * expiry. What remains approximate is a message to another vCPU whose current
 * quantum already ran past the arrival: it is taken at that vCPU's next quantum
 * boundary (the loosely-timed quantum of TLM; docs/cost-model.md).
 *
 * This file is also the fabric's host (struct fab_host) and the CPU's model
 * (struct vcpu_cb): both reach the rest of the system only through here.
 */
#include "machine.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "eventinj.h"
#include "hostile.h"
#include "hv.h"
#include "msr.h"
#include "multiboot.h"
#include "psp.h"
#include "psp_dev.h"
#include "rmp.h"
#include "sev.h"
#include "snpref/base.h"
#include "wires.h"

/* ---- Scheduling ------------------------------------------------------------------ */

static void end_interrupted(struct system *sys, int signo);

/* Instructions until `at` on this vCPU's clock (at least one). */
static uint64_t insns_until(struct slot *s, uint64_t at)
{
    uint64_t now = sys_now(s);
    if (at <= now)
        return 1;
    return (at - now) * 1000 / s->sys->cfg.cost.insn_millicycles + 1;
}

static uint64_t quantum_budget(struct slot *s)
{
    struct system *sys = s->sys;
    uint64_t budget = sys->cfg.quantum;
    if (sys->cfg.max_insns) {
        uint64_t left = sys->cfg.max_insns > sys->insns_total ? sys->cfg.max_insns - sys->insns_total : 0;
        if (left < budget)
            budget = left;
    }
    return budget;
}

static void run_quantum(void *arg)
{
    struct slot *s = arg;
    struct system *sys = s->sys;
    s->run_ev = 0;
    if (sys->done || s->st != VS_RUNNABLE)
        return;
    if (sys->trace)
        trc_advance(sys->trace, tm_now(sys->tk));
    dev_tick(&sys->dev);
    if (sys->progress)
        sys->progress(sys->progress_ctx, sys->insns_total, tm_now(sys->tk));
    if (sys->interrupt && *sys->interrupt) {
        end_interrupted(sys, (int)*sys->interrupt);
        return;
    }
    uint64_t budget = quantum_budget(s);
    if (!budget) {
        char why[96];
        snprintf(why, sizeof(why), "instruction limit of %" PRIu64 " reached", sys->cfg.max_insns);
        TRC(sys->trace, limit, tm_now(sys->tk), -1, sys->insns_total);
        sys_finish(sys, SNPREF_LIMIT, -1, 0, why);
        return;
    }
    /* VMRUN of an SEV-ES/SNP vCPU runs from its VMSA, which may fail. */
    if (sys->sev && !sev_vmrun(s))
        return;
    s->t0 = tm_now(sys->tk);
    s->insn0 = vcpu_insns(s->cpu);
    s->extra = s->carry; /* exits forced on it between quanta (host_reenter) */
    s->carry = 0;
    s->in_quantum = true;
    /* A hostile hypervisor's EVENTINJ, checked by this VMRUN (eventinj.c). */
    if (sys->sev) {
        hostile_before_vmrun(s);
        eventinj_vmrun(s);
    }
    /* End the quantum at the vCPU's own timer expiry so that it is taken on time. */
    if (s->timer_ev && insns_until(s, s->timer_at) < budget)
        budget = insns_until(s, s->timer_at);
    enum vcpu_stop st = vcpu_run(s->cpu, budget);
    s->t_end = sys_now(s);
    s->in_quantum = false;
    sys->insns_total += vcpu_insns(s->cpu) - s->insn0;
    s->sum.insns = vcpu_insns(s->cpu);
    s->sum.cycles = s->t_end;
    if (sys->done)
        return;
    switch (st) {
    case VCPU_STOP_QUANTUM:
    case VCPU_STOP_REQUEST:
        if (s->st == VS_RUNNABLE)
            sys_schedule(s, s->t_end);
        break;
    case VCPU_STOP_HALT:
        if (s->sev.hold != HOLD_NONE) {
            s->st = VS_WAIT_SIPI; /* AP reset hold: only a SIPI ends it */
            break;
        }
        s->st = VS_HALTED;
        s->sum.halts++;
        TRC(sys->trace, hlt, s->t_end, (int)s->idx, vcpu_get(s->cpu, VR_RIP));
        sys->host.kick(sys, (int)s->idx); /* an event may have arrived already */
        break;
    case VCPU_STOP_SHUTDOWN:
    case VCPU_RUNNING:
        break;
    }
}

/* A signal ends the run between quanta: every vCPU is at an instruction
 * boundary, so the trace is complete up to here. Its marker carries the
 * latest time any vCPU reached, which puts it after every event already
 * emitted: it is the trace's last line. */
static void end_interrupted(struct system *sys, int signo)
{
    uint64_t end = tm_now(sys->tk);
    for (unsigned i = 0; i < sys->n; i++)
        if (sys->slots[i].t_end > end)
            end = sys->slots[i].t_end;
    TRC(sys->trace, interrupted, end, -1, (uint64_t)signo, sys->insns_total);
    char why[96];
    snprintf(why, sizeof(why), "interrupted by signal %d after %" PRIu64 " instructions", signo,
             sys->insns_total);
    sys->res.signal = signo;
    sys_finish(sys, SNPREF_INTERRUPTED, -1, 0, why);
}

/* ---- INIT and SIPI ---------------------------------------------------------------- */

static void do_init(struct slot *s, int src)
{
    struct system *sys = s->sys;
    if (sys->sev) {
        /* The hypervisor cannot reset protected state: INIT only matters to a
         * vCPU created with CREATE_ON_INIT (docs/sev-snp-facts.md 10.2). */
        TRC(sys->trace, init, sys_now(s), (int)s->idx, src);
        if (sev_on_init(s)) {
            s->st = VS_RUNNABLE;
            if (s->in_quantum)
                vcpu_request_stop(s->cpu);
            else
                sys_schedule(s, sys_now(s));
        }
        return;
    }
    vcpu_init_reset(s->cpu);
    s->st = VS_WAIT_SIPI;
    TRC(sys->trace, init, sys_now(s), (int)s->idx, src);
    if (s->in_quantum)
        vcpu_request_stop(s->cpu);
}

static void do_sipi(struct slot *s, uint8_t vector)
{
    struct system *sys = s->sys;
    if (sys->sev) {
        TRC(sys->trace, sipi, sys_now(s), (int)s->idx, vector, 0);
        if (sev_on_sipi(s, vector)) {
            s->st = VS_RUNNABLE;
            sys_schedule(s, sys_now(s));
        }
        return;
    }
    /* As on hardware: real mode at CS:IP = (V << 8):0 (SDM vol. 3 9.4.4). */
    vcpu_sipi(s->cpu, vector);
    s->st = VS_RUNNABLE;
    uint64_t at = tm_now(sys->tk) > s->t_end ? tm_now(sys->tk) : s->t_end;
    s->t_end = at;
    TRC(sys->trace, sipi, at, (int)s->idx, vector, (uint64_t)vector << 12);
    sys_schedule(s, at);
}

/* ---- Fabric host ----------------------------------------------------------------- */

/* A message on the wire; owned by the system until it arrives (or the
 * system is destroyed with it still travelling). */
struct inflight {
    struct system *sys;
    int dst;
    struct fab_msg m;
    struct inflight *prev, *next;
};

static void inflight_unlink(struct system *sys, struct inflight *f)
{
    if (f->prev)
        f->prev->next = f->next;
    else
        sys->inflight = f->next;
    if (f->next)
        f->next->prev = f->prev;
}

static uint64_t host_now(void *ctx, int vcpu)
{
    struct system *sys = ctx;
    if (vcpu >= 0)
        return sys_now(&sys->slots[vcpu]);
    return sys->dev.cause >= 0 ? sys_now(&sys->slots[sys->dev.cause]) : tm_now(sys->tk);
}

static void arrive(void *arg)
{
    struct inflight *f = arg;
    struct system *sys = f->sys;
    inflight_unlink(sys, f);
    if (!sys->done)
        sys->fab->ops->receive(sys->fab, f->dst, &f->m);
    free(f);
}

static void host_send(void *ctx, int dst, const struct fab_msg *m)
{
    struct system *sys = ctx;
    SNP_ASSERT(dst >= 0 && (unsigned)dst < sys->n);
    /* A device message leaves when the vCPU access that caused it happens. */
    int from = m->src_vcpu >= 0 ? m->src_vcpu : sys->dev.cause;
    struct slot *src = from >= 0 ? &sys->slots[from] : NULL;
    uint64_t at = (src ? sys_now(src) : tm_now(sys->tk)) + wire_latency(&sys->cfg.cost, dst, m);
    struct inflight *f = malloc(sizeof(*f));
    SNP_ASSERT(f);
    *f = (struct inflight){sys, dst, *m, NULL, sys->inflight};
    if (sys->inflight)
        sys->inflight->prev = f;
    sys->inflight = f;
    tm_schedule(sys->tk, at, arrive, f);
    bool ipi = m->src_kind == FAB_SRC_IPI || m->src_kind == FAB_SRC_DOORBELL ||
               m->src_kind == FAB_SRC_HW_IPI;
    if (src && ipi)
        src->sum.ipis_sent++;
    /* End the sender's quantum after this instruction: the arrival must be
     * ordered against everything the sender does next. */
    if (src && (ipi || m->src_kind == FAB_SRC_DEVICE) && src->in_quantum)
        vcpu_request_stop(src->cpu);
}

static void timer_expired(void *arg)
{
    struct slot *s = arg;
    s->timer_ev = 0;
    if (!s->sys->done)
        s->sys->fab->ops->timer_fire(s->sys->fab, (int)s->idx);
}

static void host_timer_arm(void *ctx, int vcpu, uint64_t at)
{
    struct system *sys = ctx;
    struct slot *s = &sys->slots[vcpu];
    if (s->timer_ev)
        tm_cancel(sys->tk, s->timer_ev);
    s->timer_ev = 0;
    if (at == UINT64_MAX)
        return;
    s->timer_ev = tm_schedule(sys->tk, at, timer_expired, s);
    s->timer_at = at;
    if (s->in_quantum)
        vcpu_limit(s->cpu, insns_until(s, at));
}

/* Re-evaluates a vCPU whose pending events may have changed. */
static void host_kick(void *ctx, int vcpu)
{
    struct system *sys = ctx;
    struct slot *s = &sys->slots[vcpu];
    if (s->st == VS_RUNNABLE) {
        vcpu_kick(s->cpu);
        return;
    }
    for (;;) {
        struct fab_event ev = sys->fab->ops->pending(sys->fab, vcpu, vcpu_nmi_blocked(s->cpu) ? FAB_SKIP_NMI : 0);
        /* An SEV vCPU that is off (destroyed, or its VMRUN failed) still
         * takes INIT and SIPI: INIT starts a CREATE_ON_INIT VMSA, and a SIPI
         * shows its failed VMRUN again (docs/sev-snp-facts.md 10.2). */
        if (s->st == VS_WAIT_SIPI || (sys->sev && s->st == VS_OFF)) {
            if (ev.kind == FAB_EV_SIPI) {
                sys->fab->ops->ack(sys->fab, vcpu, ev);
                do_sipi(s, ev.vector);
            } else if (ev.kind == FAB_EV_INIT) {
                sys->fab->ops->ack(sys->fab, vcpu, ev); /* already waiting */
                if (sys->sev)
                    do_init(s, -1);
                continue;
            }
            return;
        }
        if (s->st != VS_HALTED)
            return;
        bool wake = false;
        const char *why = "interrupt";
        switch (ev.kind) {
        case FAB_EV_FIXED:
        case FAB_EV_EXTINT: wake = vcpu_if(s->cpu) && eventinj_virq_allowed(s); break;
        case FAB_EV_NMI:
            wake = !vcpu_nmi_blocked(s->cpu) && eventinj_virq_allowed(s), why = "nmi";
            break;
        case FAB_EV_INIT: wake = true, why = "init"; break;
        case FAB_EV_SIPI:
        case FAB_EV_SMI:
            /* Not for a halted vCPU: SIPI only wakes wait-for-SIPI; SMM is not modelled. */
            sys->fab->ops->ack(sys->fab, vcpu, ev);
            continue;
        case FAB_EV_NONE: break;
        }
        if (wake) {
            vcpu_kick(s->cpu);
            sys_wake(s, why);
        }
        return;
    }
}

/* The fabric hands interrupts over at VMRUN (Secure AVIC's REQUESTED_IRR):
 * the hypervisor forces a vCPU in guest mode out with a physical interrupt to
 * its CPU (an exit with code INTR, then VMRUN: the merge), and resumes a halted
 * one (idle HLT: it cannot see the page, so it lets the hardware decide). */
static void host_reenter(void *ctx, int vcpu)
{
    struct system *sys = ctx;
    struct slot *s = &sys->slots[vcpu];
    if (s->st == VS_HALTED) {
        sys_wake(s, "reenter");
        return;
    }
    if (s->st != VS_RUNNABLE)
        return;
    s->sum.exits++;
    if (sys->sev)
        s->sev.vmrun_due = true;
    TRC(sys->trace, vmexit, sys_now(s), (int)s->idx, SVM_EXIT_INTR, 0, 0, vcpu_get(s->cpu, VR_RIP));
    if (s->in_quantum) {
        sys_charge(s, sys->cfg.cost.vmexit);
        vcpu_request_stop(s->cpu);
    } else {
        s->carry += sys->cfg.cost.vmexit;
    }
}

static void host_eoi(void *ctx, int vcpu, uint8_t vector)
{
    struct system *sys = ctx;
    dev_eoi(&sys->dev, vcpu, vector);
}

/* ---- Device host ------------------------------------------------------------------ */

static uint64_t dev_now(void *ctx, int vcpu)
{
    struct system *sys = ctx;
    return vcpu >= 0 ? sys_now(&sys->slots[vcpu]) : tm_now(sys->tk);
}

static void dev_exit(void *ctx, int vcpu, uint32_t value)
{
    struct system *sys = ctx;
    sys->res.guest_value = value;
    sys_finish(sys, SNPREF_EXITED, vcpu, 0, NULL);
}

static void dev_post_code(void *ctx, int vcpu, uint64_t value)
{
    struct system *sys = ctx;
    hostile_marker(&sys->slots[vcpu], value);
}

static uint64_t dev_schedule(void *ctx, uint64_t at, void (*fn)(void *arg), void *arg)
{
    struct system *sys = ctx;
    return tm_schedule(sys->tk, at, fn, arg);
}

static void dev_cancel(void *ctx, uint64_t id)
{
    struct system *sys = ctx;
    tm_cancel(sys->tk, id);
}

/* ---- CPU callbacks ---------------------------------------------------------------- */

static enum vcpu_action cb_intercept(void *ctx, struct vcpu *v, struct vcpu_exit *e)
{
    struct slot *s = sys_slot(ctx, v);
    struct system *sys = s->sys;
    if (sys->sev)
        return sev_intercept(s, e);
    s->sum.exits++;
    TRC(sys->trace, vmexit, sys_now(s), (int)s->idx, e->code, e->info1, e->info2, e->rip);
    /* What the hypervisor does happens at the exit (KVM sets a self-IPI's IRR
     * inside the WRMSR exit); the guest resumes after the round trip. */
    enum vcpu_action a = hv_intercept(s, e);
    sys_charge(s, sys->cfg.cost.vmexit);
    /* A halted vCPU re-enters when it wakes (sys_wake); a stopped run never does. */
    if (a == VCPU_NEXT || a == VCPU_RAISE)
        TRC(sys->trace, vmentry, sys_now(s), (int)s->idx, a == VCPU_NEXT ? e->next_rip : e->rip);
    return a;
}

static int cb_pending(void *ctx, struct vcpu *v, bool allow_intr, bool allow_nmi,
                      struct vcpu_event *out)
{
    struct system *sys = ctx;
    struct slot *s = sys_slot(sys, v);
    const struct fabric_ops *ops = sys->fab->ops;
    /* An event VMRUN accepted from EVENTINJ comes first, whatever IF says. */
    if (sys->sev && eventinj_take(s, out))
        return 1;
    /* Under RestrictedInjection the hypervisor cannot deliver the fabric's
     * interrupts and NMIs at all (eventinj.c). */
    bool virq = eventinj_virq_allowed(s);
    for (;;) {
        struct fab_event ev = ops->pending(sys->fab, (int)s->idx, allow_nmi ? 0 : FAB_SKIP_NMI);
        switch (ev.kind) {
        case FAB_EV_NONE:
            return 0;
        case FAB_EV_INIT:
            ops->ack(sys->fab, (int)s->idx, ev);
            do_init(s, -1);
            return 0;
        case FAB_EV_SIPI: /* ignored by a running vCPU (SDM 10.4.7.3) */
        case FAB_EV_SMI:  /* SMM is not modelled */
            ops->ack(sys->fab, (int)s->idx, ev);
            continue;
        case FAB_EV_NMI:
            if (!allow_nmi || !virq)
                return virq ? -1 : 0;
            ops->ack(sys->fab, (int)s->idx, ev);
            *out = (struct vcpu_event){VEV_NMI, X86_NMI, false, 0, 0};
            return 1;
        case FAB_EV_FIXED:
        case FAB_EV_EXTINT:
            if (!allow_intr || !virq)
                return virq ? -1 : 0;
            ops->ack(sys->fab, (int)s->idx, ev);
            *out = (struct vcpu_event){VEV_EXTINT, ev.vector, false, 0, 0};
            return 1;
        }
    }
}

static void cb_delivered(void *ctx, struct vcpu *v, const struct vcpu_event *ev, uint64_t rip)
{
    struct system *sys = ctx;
    struct slot *s = sys_slot(sys, v);
    sys_charge(s, sys->cfg.cost.event_delivery);
    uint64_t t = sys_now(s);
    if (ev->type == VEV_EXTINT || ev->type == VEV_NMI) {
        s->sum.interrupts++;
        TRC(sys->trace, irq_deliver, t, (int)s->idx, ev->vector,
            ev->type == VEV_NMI ? "nmi" : "fixed", rip);
    } else {
        s->sum.exceptions++;
        TRC(sys->trace, exception, t, (int)s->idx, ev->vector,
            ev->type == VEV_SOFTINT ? "INT" : x86_vector_name(ev->vector), ev->has_error,
            ev->error, rip, ev->vector == X86_PF && ev->type == VEV_EXCEPTION ? ev->cr2 : 0);
    }
}

static void cb_shutdown(void *ctx, struct vcpu *v, const char *reason, uint64_t rip)
{
    struct system *sys = ctx;
    struct slot *s = sys_slot(sys, v);
    TRC(sys->trace, shutdown, sys_now(s), (int)s->idx, reason, rip);
    char why[192];
    snprintf(why, sizeof(why), "vCPU %u: %s at RIP %#" PRIx64, s->idx, reason, rip);
    sys_finish(sys, SNPREF_SHUTDOWN, (int)s->idx, rip, why);
}

static uint64_t cb_mmio_read(void *ctx, struct vcpu *v, uint64_t gpa, unsigned size)
{
    uint64_t val = 0;
    sys_mmio(sys_slot(ctx, v), gpa, size, false, &val);
    return val;
}

static void cb_mmio_write(void *ctx, struct vcpu *v, uint64_t gpa, unsigned size, uint64_t val)
{
    sys_mmio(sys_slot(ctx, v), gpa, size, true, &val);
}

static enum vcpu_action cb_npf(void *ctx, struct vcpu *v, uint64_t gpa, uint64_t error)
{
    struct system *sys = ctx;
    return sev_npf(sys_slot(sys, v), gpa, error);
}

static const struct vcpu_cb model_cb = {
    .intercept = cb_intercept,
    .pending = cb_pending,
    .delivered = cb_delivered,
    .shutdown = cb_shutdown,
    .mmio_read = cb_mmio_read,
    .mmio_write = cb_mmio_write,
    .npf = cb_npf,
};

/* ---- Creation --------------------------------------------------------------------- */

#define CREATE_FAIL(st, ...)                                                                       \
    do {                                                                                           \
        snprintf(err, errlen, __VA_ARGS__);                                                        \
        *status = (st);                                                                            \
        snpref_destroy((struct snpref_system *)sys);                                               \
        return -1;                                                                                 \
    } while (0)

static void fill_bootinfo(struct system *sys, uint64_t image_end)
{
    struct snp_bootinfo *bi = &sys->bootinfo;
    const struct boot_layout *l = &sys->layout;
    memset(bi, 0, sizeof(*bi));
    bi->magic = SNP_BOOTINFO_MAGIC;
    bi->version = SNP_BOOTINFO_VERSION;
    bi->vcpu_count = sys->n;
    bi->mode = !strcmp(sys->cfg.mode, "snp")      ? SNP_MODE_SNP
               : !strcmp(sys->cfg.mode, "sev-es") ? SNP_MODE_SEV_ES
                                                  : SNP_MODE_PLAIN;
    if (bi->mode != SNP_MODE_PLAIN) {
        bi->cbit_pos = 51;
        bi->launch_vmsa = loader_vmsa_gpa(l, 0);
        uint64_t features;
        bi->sev_status = sev_status_of(&sys->cfg, &features);
    }
    if (bi->mode == SNP_MODE_SNP) {
        bi->secrets_page = l->secrets;
        bi->cpuid_page = l->cpuid;
    }
    /* The guest interface the fabric presents, from what it declares
     * (fabric.h FAB_CAP_*): Secure AVIC, or the architectural x2APIC/xAPIC. */
    unsigned caps = fabric_find(sys->cfg.apic)->caps;
    bi->fabric = caps & FAB_CAP_SECURE_AVIC ? SNP_FABRIC_SAVIC : SNP_FABRIC_EMULATED;
    bi->fabric_caps = caps & FAB_CAP_ACCEL_XIPI ? SNP_FABRIC_CAP_XIPI : 0;
    bi->ram_size = sys->mem.size;
    bi->core_hz = sys->cfg.core_hz;
    bi->tsc_hz = sys->cfg.tsc_hz;
    bi->apic_timer_hz = sys->cfg.apic_timer_hz;
    bi->free_start = image_end;
    bi->free_end = l->free_end;
    bi->page_table_root = l->cr3;
    bi->ghcb_base = l->ghcb_base;
    bi->backing_base = l->backing_base;
    bi->stack_top_base = l->stack_top_base;
    bi->stack_size = l->stack_size;
    for (unsigned i = 0; i < sys->n; i++)
        bi->apic_id[i] = sys->apic_ids[i];
}

/* The checks every boot-loader image shares: mode plain (the loaders build no
 * SEV launch) and RAM below the 32-bit MMIO hole (their memory map). */
/* A multiboot image runs in plain mode only (it brings no SEV firmware); a
 * Linux bzImage in any mode (linux.h struct linux_sev). Both need RAM below
 * the 32-bit MMIO hole. */
static int check_loader_config(struct system *sys, bool mb, char *err, size_t errlen)
{
    if (mb && strcmp(sys->cfg.mode, "plain")) {
        snprintf(err, errlen, "the multiboot loader runs in mode plain, not \"%s\"", sys->cfg.mode);
        return -1;
    }
    if (sys->mem.size > LINUX_MAX_RAM) {
        snprintf(err, errlen, "ram_mb %" PRIu64 ": a %s guest has at most %llu MiB (RAM ends "
                 "below the 32-bit MMIO hole)", sys->cfg.ram_mb, mb ? "multiboot" : "Linux",
                 LINUX_MAX_RAM >> 20);
        return -1;
    }
    return 0;
}

/* An image with a multiboot header (multiboot.h), with or without `--kernel`;
 * a Linux bzImage (`--kernel`) by the x86 boot protocol; or an ELF guest with
 * the SDK's boot environment. */
static int load_image(struct system *sys, const struct guest_image *img, int *status, char *err,
                      size_t errlen)
{
    *status = SNPREF_ST_DATAERR;
    bool mb = multiboot_detect(img, NULL);
    if (!img->kernel && !mb) {
        uint64_t image_end;
        if (loader_load_elf(&sys->mem, img, &sys->layout, &sys->entry, &image_end, err, errlen) < 0)
            return -1;
        fill_bootinfo(sys, image_end);
        if (psp_dev_install_acpi(sys, img, err, errlen) < 0)
            return -1;
        unsigned cbit = strcmp(sys->cfg.mode, "plain") ? 51 : 0;
        loader_build(&sys->mem, &sys->layout, &sys->bootinfo, cbit);
        return 0;
    }
    *status = SNPREF_ST_USAGE;
    if (check_loader_config(sys, mb, err, errlen) < 0)
        return -1;
    *status = SNPREF_ST_DATAERR;
    if (mb) {
        struct mb_placement mp;
        if (multiboot_load(&sys->mem, img, sys->n, sys->apic_ids, &sys->entry0, &mp, err,
                           errlen) < 0)
            return -1;
        sys->kernel_boot = true;
        sys->entry = sys->entry0.rip;
        return 0;
    }
    struct linux_placement pl;
    /* SEV-ES/SNP: the loader acts as the guest's firmware (linux.h struct
     * linux_sev). The launch pages (VMSAs, SNP secrets and CPUID page) stay
     * where the SDK layout puts them, at the top of RAM, which the e820
     * map reserves; the SEV-ES AP stub and jump table lie in the reserved low
     * area. */
    struct linux_sev ls = {0}, *lsp = NULL;
    if (strcmp(sys->cfg.mode, "plain")) {
        const struct boot_layout *l = &sys->layout;
        ls.cbit = 51;
        /* From the 2 MiB boundary below the launch pages (2 MiB for up to
         * 64 vCPUs, more for more). */
        ls.fw_base = l->free_end & ~(LINUX_FW_RESERVE - 1);
        if (!strcmp(sys->cfg.mode, "snp")) {
            ls.secrets = l->secrets;
            ls.cpuid = l->cpuid;
        } else {
            ls.ap_jump_table = LINUX_AP_JUMP;
        }
        lsp = &ls;
    }
    struct acpi_aspt aspt;
    psp_dev_aspt(&sys->cfg, &aspt);
    if (linux_load(&sys->mem, img, sys->n, sys->apic_ids, sys->cfg.psp.enable ? &aspt : NULL, lsp,
                   &sys->entry0, &pl, err, errlen) < 0)
        return -1;
    sys->kernel_boot = true;
    sys->linux_pl = pl;
    sys->entry = sys->entry0.rip;
    return 0;
}

static int create_parts(struct system *sys, const struct snpref_options *opt, int *status,
                        char *err, size_t errlen)
{
    sys->tk = tm_create(err, errlen);
    if (!sys->tk)
        return -1;
    if (opt && (opt->trace_path || opt->sink)) {
        char *cfgjson = config_to_json(&sys->cfg);
        struct trc_header h = {"snpref " SNPREF_VERSION, sys->cfg.mode, sys->n, sys->cfg.apic,
                               sys->cfg.quantum, cfgjson, opt->trace_events};
        if (opt->trace_events && trc_check_filter(opt->trace_events, err, errlen) < 0) {
            free(cfgjson);
            *status = SNPREF_ST_USAGE;
            return -1;
        }
        sys->trace = trc_open(opt->trace_path, &h, err, errlen);
        free(cfgjson);
        if (!sys->trace) {
            *status = SNPREF_ST_NOINPUT; /* the trace's directory is missing or unwritable */
            return -1;
        }
        if (opt->trace_events)
            SNP_ASSERT(trc_set_filter(sys->trace, opt->trace_events, err, errlen) == 0);
        if (opt->sink)
            trc_set_sink(sys->trace, opt->sink, opt->sink_ctx);
    }
    sys->host = (struct fab_host){sys,       host_now, host_send,  host_timer_arm,
                                  host_kick, host_eoi, sys->trace, host_reenter};
    struct fab_params fp;
    wire_fab_params(&sys->cfg, sys->apic_ids, &sys->mem, &fp);
    uint32_t leaf1[4];
    hv_cpuid_lookup(sys, 0, 1, 0, leaf1); /* the fabric follows the CPUID's x2APIC bit */
    fp.xapic_only = !(leaf1[2] & (1u << 21));
    sys->fab = fabric_find(sys->cfg.apic)->create(&fp, &sys->host, err, errlen);
    if (!sys->fab)
        return -1;
    const struct dev_host dh = {sys, dev_now, dev_exit, dev_post_code, dev_schedule, dev_cancel};
    const struct dev_params dp = {sys->n, sys->mem.size, sys->cfg.core_hz, sys->cfg.rtc_epoch,
                                  opt && opt->console_input ? 0 : -1};
    if (devices_init(&sys->dev, &dp, opt ? opt->console : NULL, sys->trace, sys->fab, &dh, err,
                     errlen) < 0)
        return -1;
    if (strcmp(sys->cfg.mode, "plain") && sev_setup(sys, err, errlen) < 0)
        return -1;
    sys->cs = cpu_shared_create(&sys->mem);
    for (unsigned i = 0; i < sys->n; i++) {
        struct slot *s = &sys->slots[i];
        struct vcpu_config vc = {.index = i, .mem = &sys->mem, .shared = sys->cs,
                                 .cb = &model_cb, .cb_ctx = sys, .mmio_end = 4ull << 30,
                                 .tcg_buffer_mb = sys->cfg.tcg_buffer_mb};
        uint32_t l1[4], l7[4];
        hv_cpuid_lookup(sys, i, 1, 0, l1);
        hv_cpuid_lookup(sys, i, 7, 0, l7);
        vc.cr4_allowed = vcpu_cr4_allowed_by_cpuid(l1[2], l1[3], l7[1], l7[2]);
        vc.rdpid = (l7[2] & (1u << 22)) != 0;
        vc.host_rmp = !sys->sev && sys->cfg.psp.hardware_isolation;
        if (sys->sev) {
            vc.cbit_pos = sys->sev->cbit;
            vc.sev_es = true;
            vc.snp = sys->sev->snp;
            vc.asid = sys->sev->asid;
        }
        s->sys = sys;
        s->idx = i;
        hv_msr_reset(s);
        s->cpu = vcpu_create(&vc, err, errlen);
        if (!s->cpu)
            return -1;
        s->st = i == 0 ? VS_RUNNABLE : VS_WAIT_SIPI;
    }
    return 0;
}

int snpref_create(struct snpref_system **out, const struct snp_config *cfg,
                  const struct guest_image *img, const struct snpref_options *opt, int *status,
                  char *err, size_t errlen)
{
    struct system *sys = calloc(1, sizeof(*sys));
    SNP_ASSERT(sys);
    *out = NULL;
    sys->cfg = *cfg;
    sys->dev.cause = -1;
    sys->run_quantum = run_quantum;
    /* Secure AVIC is a VM feature in every VMSA (docs/sev-snp-facts.md 1, 7). */
    const struct fabric_ops *fab = fabric_find(cfg->apic);
    if (fab && (fab->caps & FAB_CAP_SECURE_AVIC))
        sys->cfg.sev.sev_features |= SEV_FEAT_SECURE_AVIC;
    sys->n = cfg->vcpus;
    sys->res.vcpu = -1;
    if (opt) {
        sys->interrupt = opt->interrupt;
        sys->progress = opt->progress;
        sys->progress_ctx = opt->progress_ctx;
    }
    /* A conflict between config values is malformed input, like a bad value. */
    if (config_validate(cfg, err, errlen) < 0) {
        *status = SNPREF_ST_DATAERR;
        snpref_destroy((struct snpref_system *)sys);
        return -1;
    }
    if (mem_init(&sys->mem, cfg->ram_mb << 20, err, errlen) < 0)
        CREATE_FAIL(SNPREF_ST_USAGE, "%s", "cannot allocate guest RAM");
    loader_layout(sys->mem.size, sys->n, &sys->layout);
    if (sys->layout.free_end < (2u << 20) || sys->layout.free_end > sys->mem.size) {
        config_fail(cfg, "ram_mb", err, errlen, "%" PRIu64 " is too small for %u vCPUs",
                    cfg->ram_mb, sys->n);
        *status = SNPREF_ST_DATAERR;
        snpref_destroy((struct snpref_system *)sys);
        return -1;
    }
    sys->slots = calloc(sys->n, sizeof(*sys->slots));
    sys->apic_ids = calloc(sys->n, sizeof(*sys->apic_ids));
    sys->sums = calloc(sys->n, sizeof(*sys->sums));
    SNP_ASSERT(sys->slots && sys->apic_ids && sys->sums);
    for (unsigned i = 0; i < sys->n; i++)
        sys->apic_ids[i] = i;
    if (load_image(sys, img, status, err, errlen) < 0) {
        snpref_destroy((struct snpref_system *)sys);
        return -1;
    }
    sys->img_data = malloc(img->len ? img->len : 1);
    SNP_ASSERT(sys->img_data);
    memcpy(sys->img_data, img->data, img->len);
    sys->img = (struct guest_image){sys->img_data, img->len, img->name, NULL};
    *status = SNPREF_ST_INTERNAL;
    if (create_parts(sys, opt, status, err, errlen) < 0) {
        snpref_destroy((struct snpref_system *)sys);
        return -1;
    }
    /* Plain vCPUs start from the loader's state; SEV ones from their VMSA at
     * their first VMRUN (sev_vmrun). */
    struct vcpu_boot b;
    for (unsigned i = 0; !sys->sev && i < sys->n; i++) {
        sys_boot_state(sys, i, sys->entry, &b);
        SNP_ASSERT(vcpu_set_boot_state(sys->slots[i].cpu, &b, err, errlen) == 0);
    }
    sys->measured_pages_path = opt ? opt->measured_pages_path : NULL;
    if (sys->sev && sev_launch(sys, err, errlen) < 0) {
        *status = SNPREF_ST_DATAERR;
        snpref_destroy((struct snpref_system *)sys);
        return -1;
    }
    psp_dev_setup(sys);
    sys_schedule(&sys->slots[0], 0);
    /* A Linux SEV-ES boot's APs run the firmware's stub into AP reset hold. */
    for (unsigned i = 1; sys->kernel_boot && sys->sev && !sys->sev->snp && i < sys->n; i++) {
        sys->slots[i].st = VS_RUNNABLE;
        sys_schedule(&sys->slots[i], 0);
    }
    *out = (struct snpref_system *)sys;
    return 0;
}

int snpref_run(struct snpref_system *handle, struct snpref_result *r, char *err, size_t errlen)
{
    struct system *sys = (struct system *)handle;
    enum tm_stop st = tm_run(sys->tk, UINT64_MAX);
    if (!sys->done && st == TM_IDLE)
        sys_finish(sys, SNPREF_HUNG, -1, 0,
                   "every vCPU is halted or waiting for SIPI and no event is pending");
    dev_flush_console(&sys->dev);
    uint64_t end = tm_now(sys->tk);
    for (unsigned i = 0; i < sys->n; i++) {
        struct slot *s = &sys->slots[i];
        s->sum.insns = vcpu_insns(s->cpu);
        if (s->t_end > end)
            end = s->t_end;
    }
    sys->res.cycles = end;
    sys->res.insns = 0;
    for (unsigned i = 0; i < sys->n; i++) {
        sys->sums[i] = sys->slots[i].sum;
        sys->res.insns += sys->slots[i].sum.insns;
    }
    sys->res.nvcpus = sys->n;
    sys->res.per_vcpu = sys->sums;
    if (sys->sev && sys->sev->launched)
        psp_digest_hex(sys->sev->digest, sys->res.launch_digest);
    *r = sys->res;
    int rc = 0;
    if (sys->trace) {
        rc = trc_close(sys->trace, true, err, errlen);
        sys->trace = NULL;
        sys->host.trace = NULL;
        devices_set_trace(&sys->dev, NULL);
        psp_dev_set_trace(sys, NULL);
    }
    return rc;
}

void snpref_destroy(struct snpref_system *handle)
{
    struct system *sys = (struct system *)handle;
    if (!sys)
        return;
    if (sys->trace) {
        char e[8];
        trc_close(sys->trace, false, e, sizeof(e));
    }
    for (unsigned i = 0; sys->slots && i < sys->n; i++)
        vcpu_destroy(sys->slots[i].cpu);
    cpu_shared_destroy(sys->cs);
    if (sys->fab)
        sys->fab->ops->destroy(sys->fab);
    psp_dev_teardown(sys);
    sev_teardown(sys);
    devices_destroy(&sys->dev);
    free(sys->img_data);
    tm_destroy(sys->tk);
    while (sys->inflight) {
        struct inflight *f = sys->inflight;
        sys->inflight = f->next;
        free(f);
    }
    mem_destroy(&sys->mem);
    free(sys->slots);
    free(sys->apic_ids);
    free(sys->sums);
    free(sys);
}

int snpref_exit_status(const struct snpref_result *r, int qemu_style, char *warn, size_t warnlen)
{
    if (warnlen)
        warn[0] = '\0';
    switch (r->outcome) {
    case SNPREF_EXITED:
        if (qemu_style)
            return (int)(((r->guest_value << 1) | 1) & 0xFF);
        if (r->guest_value > 63) {
            snprintf(warn, warnlen, "guest exit value %u is outside 0-63; reporting 63",
                     r->guest_value);
            return 63;
        }
        return (int)r->guest_value;
    case SNPREF_SHUTDOWN:
    case SNPREF_HUNG:
        return SNPREF_ST_SHUTDOWN;
    case SNPREF_LIMIT:
        return SNPREF_ST_LIMIT;
    case SNPREF_INTERRUPTED:
        return SNPREF_ST_SIGNAL + r->signal;
    }
    return SNPREF_ST_INTERNAL;
}
