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
 * new entries of the stimulus table in replay_stim.c. This file is the
 * engine: set-up from the trace header, the loop, teardown; replay_host.c holds
 * what is in flight and the fabric's host, replay_match.c the pairing of outcomes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "replay_int.h"
#include "snpref/base.h"
#include "snpref/text.h"

void rp_malformed(struct replay *r, unsigned long line, const char *field, const char *fmt, ...)
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
    int st;
    r->rd = trc_reader_open_st(r->path, &st, err, errlen);
    if (!r->rd)
        return st;
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
    return rp_make_fabric(r, err, errlen);
}

/* ---- The loop ---------------------------------------------------------------------- */

static void step(struct replay *r, const struct trc_rec *rec, unsigned long line)
{
    r->st->events++;
    if (rec->vcpu >= (int)r->n) {
        rp_malformed(r, line, "vcpu", "%d is not below the header's vcpus (%u)", rec->vcpu, r->n);
        return;
    }
    rp_ring_add(r, line, rec);
    if (rec->t > r->last_t) {
        /* Nothing at this time or later can pair with an outcome from before
         * it (plus the tolerance): the first disagreement in time order. */
        rp_due(r, rec->t);
        rp_overdue(r, rec->t, false);
        trc_advance(r->out, rec->t);
        r->last_t = rec->t;
    }
    r->now = rec->t;
    if (rec->vcpu >= 0 && (r->v[rec->vcpu].st == RP_WAIT_SIPI || r->v[rec->vcpu].st == RP_OFF) &&
        rp_executes(rec->ev))
        rp_set_state(r, rec->vcpu, RP_RUN);
    if (!r->diverged)
        rp_handler(rec->ev)(r, rec, line);
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
