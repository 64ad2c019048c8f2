/* SPDX-License-Identifier: MIT */
/*
 * The fake host of the APIC Check suites (test_apic.c, test_apic_xapic.c): it
 * records every send, kick, timer arm and EOI broadcast of an `emulated`
 * fabric, and delivers sends either at once (sync) or when the test calls
 * fk_flush(). Trace events go to an in-memory sink as canonical JSON lines.
 * Helpers are static inline so that a suite may leave some unused.
 */
#ifndef SNPREF_TEST_APIC_HARNESS_H
#define SNPREF_TEST_APIC_HARNESS_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apic.h"
#include "fabric.h"
#include "trace.h"

/* ---- Fake host ----------------------------------------------------------------------- */

#define NV       4
#define MAXSENT  256
#define MAXLINES 512

struct sent {
    int dst;
    struct fab_msg m;
};

static struct {
    struct fabric *f;
    struct trc *trc;
    bool sync;
    uint64_t now[NV];
    struct sent sent[MAXSENT];
    unsigned nsent, ndelivered;
    unsigned kicks[NV];
    unsigned narms;
    int eoib_vcpu[16];
    uint8_t eoib_vec[16];
    unsigned neoib;
    char *lines[MAXLINES];
    unsigned nlines;
} fk;

static inline uint64_t fk_now(void *ctx, int vcpu)
{
    (void)ctx;
    return fk.now[vcpu];
}

static inline void fk_flush(void)
{
    while (fk.ndelivered < fk.nsent) {
        struct sent *s = &fk.sent[fk.ndelivered++];
        fk.f->ops->receive(fk.f, s->dst, &s->m);
    }
}

static inline void fk_send(void *ctx, int dst, const struct fab_msg *m)
{
    (void)ctx;
    ck_assert_uint_lt(fk.nsent, MAXSENT);
    fk.sent[fk.nsent++] = (struct sent){dst, *m};
    if (fk.sync)
        fk_flush();
}

static inline void fk_timer_arm(void *ctx, int vcpu, uint64_t at)
{
    (void)ctx;
    (void)vcpu;
    (void)at;
    fk.narms++;
}

static inline void fk_kick(void *ctx, int vcpu)
{
    (void)ctx;
    fk.kicks[vcpu]++;
}

static inline void fk_eoib(void *ctx, int vcpu, uint8_t vec)
{
    (void)ctx;
    ck_assert_uint_lt(fk.neoib, 16);
    fk.eoib_vcpu[fk.neoib] = vcpu;
    fk.eoib_vec[fk.neoib++] = vec;
}

static inline void fk_sink(void *ctx, const struct trc_rec *r)
{
    (void)ctx;
    char buf[512];
    trc_format(r, buf, sizeof(buf));
    ck_assert_uint_lt(fk.nlines, MAXLINES);
    fk.lines[fk.nlines++] = strdup(buf);
}

static inline void fk_clear_events(void)
{
    trc_advance(fk.trc, UINT64_MAX);
    for (unsigned i = 0; i < fk.nlines; i++)
        free(fk.lines[i]);
    fk.nlines = 0;
}

/* Forgets what happened so far (sends, kicks, events). */
static inline void fk_clear(void)
{
    fk_clear_events();
    fk.nsent = fk.ndelivered = fk.neoib = fk.narms = 0;
    memset(fk.kicks, 0, sizeof(fk.kicks));
}

/* nth (0-based) trace line of event ev, or NULL. */
static inline const char *fk_event(const char *ev, unsigned nth)
{
    char key[64];
    snprintf(key, sizeof(key), "\"ev\":\"%s\"", ev);
    trc_advance(fk.trc, UINT64_MAX);
    for (unsigned i = 0; i < fk.nlines; i++)
        if (strstr(fk.lines[i], key) && nth-- == 0)
            return fk.lines[i];
    return NULL;
}

static inline unsigned fk_count(const char *ev)
{
    unsigned n = 0;
    while (fk_event(ev, n))
        n++;
    return n;
}

/* The host every test fabric gets (fk's recorders; the trace once opened). */
static inline struct fab_host fk_host(void)
{
    return (struct fab_host){.now = fk_now,
                             .send = fk_send,
                             .timer_arm = fk_timer_arm,
                             .kick = fk_kick,
                             .eoi_broadcast = fk_eoib,
                             .trace = fk.trc};
}

/* Parameters for n vCPUs with these APIC IDs, every clock at 1. */
static inline struct fab_params fk_params(unsigned n, const uint32_t *ids)
{
    return (struct fab_params){.nvcpus = n,
                               .apic_ids = ids,
                               .timer_cycles_per_tick = 1,
                               .tsc_cycles_num = 1,
                               .tsc_cycles_den = 1};
}

/* A fresh fake host with an `emulated` fabric created from p. */
static inline void mk_with(const struct fab_params *p)
{
    memset(&fk, 0, sizeof(fk));
    char err[160];
    struct trc_header h = {"snpref test", "plain", p->nvcpus, "emulated", 1000, "{}", NULL};
    fk.trc = trc_open(NULL, &h, err, sizeof(err));
    ck_assert_msg(fk.trc != NULL, "%s", err);
    trc_set_sink(fk.trc, fk_sink, NULL);
    struct fab_host host = fk_host();
    fk.f = fabric_find("emulated")->create(p, &host, err, sizeof(err));
    ck_assert_msg(fk.f != NULL, "%s", err);
    fk.sync = true;
}

/* A fabric of n vCPUs with these APIC IDs, powered on in xAPIC mode or not. */
static inline void mk_mode(unsigned n, const uint32_t *ids, bool xapic)
{
    struct fab_params p = fk_params(n, ids);
    p.power_on_xapic = xapic;
    mk_with(&p);
}

static inline void mk(unsigned n, const uint32_t *ids)
{
    mk_mode(n, ids, false);
}

static const uint32_t ids4[NV] = {0, 1, 2, 3};
static const uint32_t sparse4[NV] = {0, 2, 0x10, 0x11};

static inline void unmk(void)
{
    fk_clear_events();
    char err[64];
    trc_close(fk.trc, false, err, sizeof(err));
    fk.f->ops->destroy(fk.f);
}

static inline uint64_t rd(int vcpu, uint32_t msr)
{
    uint64_t v = 0;
    ck_assert_int_eq(fk.f->ops->msr_read(fk.f, vcpu, msr, &v), FAB_OK);
    return v;
}

static inline void wr(int vcpu, uint32_t msr, uint64_t v)
{
    ck_assert_int_eq(fk.f->ops->msr_write(fk.f, vcpu, msr, v), FAB_OK);
}

static inline enum fab_access wr_r(int vcpu, uint32_t msr, uint64_t v)
{
    return fk.f->ops->msr_write(fk.f, vcpu, msr, v);
}

static inline const uint8_t *page(int vcpu)
{
    return fk.f->ops->regs(fk.f, vcpu);
}

static inline bool irr(int vcpu, unsigned vec)
{
    return apic_vec_test(page(vcpu), APIC_IRR, vec);
}
static inline bool isr(int vcpu, unsigned vec)
{
    return apic_vec_test(page(vcpu), APIC_ISR, vec);
}
static inline bool tmr(int vcpu, unsigned vec)
{
    return apic_vec_test(page(vcpu), APIC_TMR, vec);
}

static inline void enable_all(unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        wr((int)i, APIC_MSR(APIC_SPIV), 0x1FF);
}

static inline struct fab_event pend(int vcpu)
{
    return fk.f->ops->pending(fk.f, vcpu, 0);
}

static inline void inject(int vcpu, uint8_t vec, bool level)
{
    struct fab_msg m = {FAB_SRC_HV, -1, vec, APIC_DM_FIXED, level};
    fk.f->ops->inject(fk.f, vcpu, &m);
}

/* Takes the pending event, asserting what it is. */
static inline void take(int vcpu, enum fab_ev_kind kind, unsigned vec)
{
    struct fab_event ev = pend(vcpu);
    ck_assert_int_eq(ev.kind, kind);
    ck_assert_uint_eq(ev.vector, vec);
    fk.f->ops->ack(fk.f, vcpu, ev);
}

/* ESR as software reads it: write 0, then read (SDM 10.5.3). */
static inline uint32_t esr(int vcpu)
{
    wr(vcpu, APIC_MSR(APIC_ESR), 0);
    return (uint32_t)rd(vcpu, APIC_MSR(APIC_ESR));
}

static inline uint64_t icr(unsigned vec, enum apic_dm dm, bool level, enum apic_sh sh, bool logical,
                    uint32_t dest)
{
    struct apic_icr d = {(uint8_t)vec, dm, logical, true, level, sh, dest};
    return apic_icr_encode(&d);
}

/* Bitmask of the vCPUs whose IRR holds vec. */
static inline unsigned irr_mask(unsigned n, unsigned vec)
{
    unsigned m = 0;
    for (unsigned i = 0; i < n; i++)
        m |= irr((int)i, vec) ? 1u << i : 0;
    return m;
}

#endif
