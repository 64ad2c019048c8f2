/* SPDX-License-Identifier: MIT */
/*
 * One run as `snpref compare` sees it (compare_log.h): a trace sink that
 * keeps the interrupts taken, the console, the explanations of a missing
 * interrupt, the totals and the guest-visible latencies.
 */
#include "compare_log.h"

#include <stdlib.h>
#include <string.h>

#include "snpref/base.h"
#include "trace.h"

#define MSR_X2APIC_ICR      0x830u
#define MSR_X2APIC_SELF_IPI 0x83Fu
#define VC_VECTOR           29u
#define SVM_EXIT_MSR_CODE   0x7Cu
#define SNP_MAX_VCPUS_LOG   256u

static void *grow(void *p, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return p;
    *cap = *cap ? *cap * 2 : 16;
    p = realloc(p, *cap * elem);
    SNP_ASSERT(p);
    return p;
}

static void samples_add(struct samples *s, uint64_t v)
{
    s->v = grow(s->v, &s->cap, s->n, sizeof(uint64_t));
    s->v[s->n++] = v;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

struct lat_stats samples_stats(struct samples *s)
{
    struct lat_stats st = {s->n, 0, 0, 0, 0};
    if (!s->n)
        return st;
    qsort(s->v, s->n, sizeof(uint64_t), cmp_u64);
    size_t rank99 = (99 * s->n + 99) / 100; /* ceil(0.99 n), 1-based */
    st.min = s->v[0];
    st.median = s->v[(s->n - 1) / 2];
    st.p99 = s->v[rank99 - 1];
    st.max = s->v[s->n - 1];
    return st;
}

static void count_key(struct countmap *m, uint64_t key)
{
    size_t i = 0;
    while (i < m->n && m->e[i].key < key)
        i++;
    if (i < m->n && m->e[i].key == key) {
        m->e[i].n++;
        return;
    }
    m->e = grow(m->e, &m->cap, m->n, sizeof(*m->e));
    memmove(&m->e[i + 1], &m->e[i], (m->n - i) * sizeof(*m->e));
    m->e[i] = (struct keycount){key, 1};
    m->n++;
}

/* ---- Pairing sends with takings ------------------------------------------------------ */

/* A taking may come before its send is known: under Secure AVIC the target
 * can see the sender's store to its page before the sender's VMGEXIT reaches
 * the hypervisor; that pair counts max(0, taken - start). */
static void pair(struct run_log *L, struct vcpu_log *v, uint8_t vec)
{
    while (v->sent[vec].n && v->taken[vec].n) {
        struct send s = v->sent[vec].s[0];
        uint64_t t = v->taken[vec].t[0];
        memmove(v->sent[vec].s, v->sent[vec].s + 1, --v->sent[vec].n * sizeof(struct send));
        memmove(v->taken[vec].t, v->taken[vec].t + 1, --v->taken[vec].n * sizeof(uint64_t));
        samples_add(&L->lat[s.kind], t > s.t ? t - s.t : 0);
        samples_add(&v->lat[s.kind], t > s.t ? t - s.t : 0);
    }
}

static void push_send(struct run_log *L, unsigned dst, uint8_t vec, uint64_t t, enum lat_kind k)
{
    struct fifo *f = &L->v[dst].sent[vec];
    f->s = grow(f->s, &f->cap, f->n, sizeof(struct send));
    f->s[f->n++] = (struct send){t, k};
    pair(L, &L->v[dst], vec);
}

/* Where the IPI the vCPU is sending now started (compare_log.h). */
static uint64_t send_start(struct vcpu_log *v, uint64_t t)
{
    uint64_t s = v->have_start ? v->start : v->vc_valid ? v->vc_t : v->exit_valid ? v->exit_t : t;
    v->have_start = v->vc_valid = v->exit_valid = false;
    v->sent_since_exit = true;
    return s;
}

unsigned ipi_hits(const struct trc_rec *r, unsigned n, bool *hit)
{
    const char *sh = r->v[4].s;
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++) {
        hit[i] = !strcmp(sh, "self")     ? (int)i == r->vcpu
                 : !strcmp(sh, "all")    ? true
                 : !strcmp(sh, "others") ? (int)i != r->vcpu
                                         : r->v[5].u == i || r->v[5].u == 0xFFFFFFFFu;
        k += hit[i];
    }
    return k;
}

static void on_ipi(struct run_log *L, const struct trc_rec *r)
{
    uint64_t start = send_start(&L->v[r->vcpu], r->t);
    if (strcmp(r->v[2].s, "fixed") || !strcmp(r->v[3].s, "logical"))
        return; /* latency is measured on fixed, physically addressed IPIs */
    L->ipis++;
    bool hit[SNP_MAX_VCPUS_LOG];
    ipi_hits(r, L->n, hit);
    for (unsigned i = 0; i < L->n; i++)
        if (hit[i])
            push_send(L, i, (uint8_t)r->v[1].u, start, LAT_IPI);
}

static bool is_ipi_msr(uint64_t msr)
{
    return msr == MSR_X2APIC_ICR || msr == MSR_X2APIC_SELF_IPI;
}

/* apic_hw and msr: the guest's ICR write, as the hardware or the hypervisor saw it. */
static void on_access(struct run_log *L, struct vcpu_log *v, const struct trc_rec *r, bool hw)
{
    bool wr = !strcmp(r->v[0].s, "wr");
    if (hw) {
        L->hw_accesses++;
        L->accelerated += !strcmp(r->v[3].s, "accelerated");
        if (wr && is_ipi_msr(r->v[1].u) && strcmp(r->v[3].s, "gp")) {
            v->have_start = true;
            v->start = r->t;
        }
        return;
    }
    /* The hypervisor may trace the WRMSR before or after the ipi it caused:
     * after, the send has already taken its start. */
    if (wr && is_ipi_msr(r->v[1].u) && !v->have_start && !v->sent_since_exit) {
        v->have_start = true;
        v->start = v->vc_valid ? v->vc_t : v->exit_valid ? v->exit_t : r->t;
    }
    v->vc_valid = false; /* the #VC that carried an MSR access is spent */
}

static void on_deliver(struct run_log *L, struct vcpu_log *v, const struct trc_rec *r)
{
    uint8_t vec = (uint8_t)r->v[0].u;
    const char *kind = r->v[1].s;
    bool nmi = !strcmp(kind, "nmi");
    v->irq = grow(v->irq, &v->cap, v->nirq, sizeof(*v->irq));
    v->irq[v->nirq++] = (struct irq){vec, nmi, r->t};
    L->irqs++;
    L->irq_kind[nmi ? 1 : !strcmp(kind, "extint") ? 2 : 0]++;
    if (!nmi && v->sent[vec].n + v->taken[vec].n < 100000) { /* keep what could pair */
        struct tfifo *f = &v->taken[vec];
        f->t = grow(f->t, &f->cap, f->n, sizeof(uint64_t));
        f->t[f->n++] = r->t;
        pair(L, v, vec);
    }
}

static void on_console(struct vcpu_log *v, const struct trc_rec *r)
{
    v->lines = grow(v->lines, &v->lcap, v->nlines, sizeof(char *));
    v->lines[v->nlines] = strdup(r->v[0].s);
    SNP_ASSERT(v->lines[v->nlines]);
    v->nlines++;
}

static void on_accept(struct run_log *L, const struct trc_rec *r)
{
    int64_t src = (int64_t)r->v[3].u;
    L->irq_src[src < 0 ? SRC_EXTERNAL : src == r->vcpu ? SRC_SELF : SRC_OTHER_VCPU]++;
}

/* A device message: irqdev names its destination APIC; the I/O APIC's only
 * physical destinations are followed (logical ones are not measured). */
static void on_device(struct run_log *L, uint64_t vec, uint64_t dest, uint64_t t)
{
    if (dest < L->n)
        push_send(L, (unsigned)dest, (uint8_t)vec, t, LAT_DEVICE);
}

static void on_explain(struct vcpu_log *v, const struct trc_rec *r)
{
    switch (r->ev) {
    case TRC_EV_savic_irr:
        if (!strcmp(r->v[1].s, "dropped"))
            v->dropped[(uint8_t)r->v[0].u]++;
        else if (!strcmp(r->v[1].s, "held"))
            v->held[(uint8_t)r->v[0].u]++;
        break;
    case TRC_EV_savic_nmi: v->nmi_dropped += !strcmp(r->v[0].s, "dropped"); break;
    case TRC_EV_timer_fire: v->timer_fired[(uint8_t)r->v[0].u] += !r->v[1].u; break;
    case TRC_EV_eventinj:
        if (!strcmp(r->v[4].s, "refused"))
            v->refused[(uint8_t)r->v[0].u]++;
        break;
    default: break;
    }
}

void log_sink(void *ctx, const struct trc_rec *r)
{
    struct run_log *L = ctx;
    /* Devices are system-wide events (vCPU -1). */
    if (r->ev == TRC_EV_ioapic && !strcmp(r->v[3].s, "physical"))
        on_device(L, r->v[1].u, r->v[2].u, r->t);
    if (r->ev == TRC_EV_irqdev)
        on_device(L, r->v[0].u, r->v[1].u, r->t);
    if (r->vcpu < 0 || (unsigned)r->vcpu >= L->n) {
        L->sys_nev[r->ev]++;
        return;
    }
    struct vcpu_log *v = &L->v[r->vcpu];
    v->nev[r->ev]++;
    switch (r->ev) {
    case TRC_EV_irq_deliver: on_deliver(L, v, r); break;
    case TRC_EV_irq_accept: on_accept(L, r); break;
    case TRC_EV_ipi: on_ipi(L, r); break;
    case TRC_EV_apic_hw: on_access(L, v, r, true); break;
    case TRC_EV_msr: on_access(L, v, r, false); break;
    case TRC_EV_fabric_hook: L->hooks++; break;
    case TRC_EV_console: on_console(v, r); break;
    case TRC_EV_vmexit:
        v->exits++, L->exits++;
        count_key(&L->exit_codes, r->v[0].u);
        v->exit_valid = true;
        v->exit_t = r->t;
        v->sent_since_exit = false;
        break;
    case TRC_EV_exception:
        if (r->v[0].u != VC_VECTOR)
            break;
        L->vcs++;
        count_key(&L->vc_codes, r->v[3].u);
        if (r->v[3].u == SVM_EXIT_MSR_CODE) {
            v->vc_valid = true;
            v->vc_t = r->t;
        }
        break;
    default: on_explain(v, r); break;
    }
}

void log_free(struct run_log *L)
{
    for (unsigned i = 0; L->v && i < L->n; i++) {
        struct vcpu_log *v = &L->v[i];
        free(v->irq);
        for (size_t k = 0; k < v->nlines; k++)
            free(v->lines[k]);
        free(v->lines);
        for (unsigned k = 0; k < 256; k++) {
            free(v->sent[k].s);
            free(v->taken[k].t);
        }
        for (int k = 0; k < LAT_KINDS; k++)
            free(v->lat[k].v);
    }
    free(L->v);
    free(L->exit_codes.e);
    free(L->vc_codes.e);
    for (int k = 0; k < LAT_KINDS; k++)
        free(L->lat[k].v);
}
