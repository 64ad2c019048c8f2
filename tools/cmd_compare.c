/* SPDX-License-Identifier: MIT */
/*
 * `snpref compare [--fabrics A,B] [GUEST.elf] [options]` (issue 4; docs/cli.md):
 * one guest under two interrupt fabrics, the first the golden reference.
 * Per vCPU it compares the interrupts taken (vector and kind, in order) and
 * the console, and sorts every difference into one of three classes:
 *  - explained by the architecture: an interrupt missing on a side whose trace
 *    shows why (ALLOWED_IRR dropped the vector at VMRUN, ALLOWED_NMI dropped a
 *    hypervisor NMI, VMRUN refused an EVENTINJ the fabric forbids), or one
 *    taken later because ALLOWED_IRR held it;
 *  - latency: the same interrupts in another order, as the fabrics deliver
 *    with different latencies (the cycles per IPI below);
 *  - unexplained: anything else, including a different exit status or
 *    console. Any unexplained divergence makes the exit status 1.
 * It also prints, per fabric, VM exits per interrupt taken and the mean
 * simulated cycles from the hypervisor's ICR write (the ipi event) to the
 * target taking the vector.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fabric.h"
#include "loader.h"
#include "snpref.h"
#include "snpref/abi.h"
#include "snpref/base.h"
#include "tools.h"
#include "trace.h"

static const char usage_compare[] =
    "usage: snpref compare [--fabrics A,B] [GUEST.elf] [options]\n"
    "Runs GUEST.elf (or the built-in demo) under fabric A (the golden reference)\n"
    "and fabric B, and compares per vCPU the interrupts taken and the console.\n"
    "  --fabrics A,B        default emulated,savic (see `snpref fabrics`)\n"
    "  --mode M             default snp (Secure AVIC needs it)\n"
    "  --vcpus N            default 4\n"
    "  --config FILE.json   configuration for both runs (e.g. savic knobs)\n"
    "Exit status: 0 no unexplained divergence, 1 some, 64/65/66 bad input.\n";

struct irq {
    uint8_t vector;
    bool nmi;
    uint64_t t;
};

/* What one vCPU did in one run. */
struct vcpu_log {
    struct irq *irq;
    size_t nirq, cap;
    char **lines;
    size_t nlines, lcap;
    uint64_t exits;
    uint32_t dropped[256], held[256], refused[256]; /* explanations, by vector */
    uint32_t timer_fired[256];                      /* unmasked LAPIC timer expiries */
    uint32_t nmi_dropped;
    /* Fixed IPIs to this vCPU and its takings of their vectors not yet paired,
     * by vector (times, FIFO): the k-th IPI pairs with the k-th taking. */
    struct fifo {
        uint64_t *t;
        size_t n, cap;
    } sent[256], taken[256];
};

struct run_log {
    const char *fabric;
    unsigned n;
    struct vcpu_log *v;             /* n entries */
    uint64_t ipis, ipi_cycles, ipi_samples, irqs, exits;
    int status;
};

static void *grow(void *p, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return p;
    *cap = *cap ? *cap * 2 : 16;
    p = realloc(p, *cap * elem);
    SNP_ASSERT(p);
    return p;
}

static void fifo_push(struct fifo *f, uint64_t t)
{
    f->t = grow(f->t, &f->cap, f->n, sizeof(uint64_t));
    f->t[f->n++] = t;
}

static uint64_t fifo_pop(struct fifo *f)
{
    uint64_t t = f->t[0];
    memmove(f->t, f->t + 1, --f->n * sizeof(uint64_t));
    return t;
}

/* Pairs IPIs with takings in order. A taking may come first: under Secure AVIC
 * the target can see the sender's store to its page before the doorbell (at
 * the quantum granularity of docs/cost-model.md); that pair counts 0 cycles. */
static void ipi_pair(struct run_log *L, struct vcpu_log *v, uint8_t vec)
{
    while (v->sent[vec].n && v->taken[vec].n) {
        uint64_t s = fifo_pop(&v->sent[vec]), t = fifo_pop(&v->taken[vec]);
        L->ipi_cycles += t > s ? t - s : 0;
        L->ipi_samples++;
    }
}

/* The vCPUs an ipi event's ICR reached (vCPU i has APIC ID i). */
static void on_ipi(struct run_log *L, const struct trc_rec *r)
{
    const char *mode = r->v[2].s, *sh = r->v[4].s;
    if (strcmp(mode, "fixed") || !strcmp(r->v[3].s, "logical"))
        return; /* latency is measured on fixed, physically addressed IPIs */
    L->ipis++;
    for (unsigned i = 0; i < L->n; i++) {
        bool hit = !strcmp(sh, "self")     ? (int)i == r->vcpu
                   : !strcmp(sh, "all")    ? true
                   : !strcmp(sh, "others") ? (int)i != r->vcpu
                                           : r->v[5].u == i || r->v[5].u == 0xFFFFFFFFu;
        if (hit) {
            fifo_push(&L->v[i].sent[(uint8_t)r->v[1].u], r->t);
            ipi_pair(L, &L->v[i], (uint8_t)r->v[1].u);
        }
    }
}

static void on_deliver(struct run_log *L, struct vcpu_log *v, const struct trc_rec *r)
{
    uint8_t vec = (uint8_t)r->v[0].u;
    bool nmi = !strcmp(r->v[1].s, "nmi");
    v->irq = grow(v->irq, &v->cap, v->nirq, sizeof(*v->irq));
    v->irq[v->nirq++] = (struct irq){vec, nmi, r->t};
    L->irqs++;
    if (!nmi && v->sent[vec].n + v->taken[vec].n < 100000) { /* keep what could pair */
        fifo_push(&v->taken[vec], r->t);
        ipi_pair(L, v, vec);
    }
}

static void sink(void *ctx, const struct trc_rec *r)
{
    struct run_log *L = ctx;
    if (r->vcpu < 0 || (unsigned)r->vcpu >= L->n)
        return;
    struct vcpu_log *v = &L->v[r->vcpu];
    switch (r->ev) {
    case TRC_EV_irq_deliver: on_deliver(L, v, r); break;
    case TRC_EV_ipi: on_ipi(L, r); break;
    case TRC_EV_vmexit: v->exits++, L->exits++; break;
    case TRC_EV_console:
        v->lines = grow(v->lines, &v->lcap, v->nlines, sizeof(char *));
        v->lines[v->nlines] = strdup(r->v[0].s);
        SNP_ASSERT(v->lines[v->nlines]);
        v->nlines++;
        break;
    case TRC_EV_savic_irr:
        if (!strcmp(r->v[1].s, "dropped"))
            v->dropped[(uint8_t)r->v[0].u]++;
        else if (!strcmp(r->v[1].s, "held"))
            v->held[(uint8_t)r->v[0].u]++;
        break;
    case TRC_EV_savic_nmi:
        v->nmi_dropped += !strcmp(r->v[0].s, "dropped");
        break;
    case TRC_EV_timer_fire:
        v->timer_fired[(uint8_t)r->v[0].u] += !r->v[1].u;
        break;
    case TRC_EV_eventinj:
        if (!strcmp(r->v[4].s, "refused"))
            v->refused[(uint8_t)r->v[0].u]++;
        break;
    default: break;
    }
}

static void log_free(struct run_log *L)
{
    for (unsigned i = 0; L->v && i < L->n; i++) {
        struct vcpu_log *v = &L->v[i];
        free(v->irq);
        for (size_t k = 0; k < v->nlines; k++)
            free(v->lines[k]);
        free(v->lines);
        for (unsigned k = 0; k < 256; k++) {
            free(v->sent[k].t);
            free(v->taken[k].t);
        }
    }
    free(L->v);
}

/* ---- Running ------------------------------------------------------------------------------ */

struct cmp_opts {
    const char *fabrics[2];
    const char *guest, *config, *mode, *vcpus;
    char fab_buf[96];
};

static int run_one(const struct cmp_opts *o, const struct guest_image *img, struct run_log *L)
{
    struct snp_config cfg;
    config_defaults(&cfg);
    char err[512];
    int status = 0;
    if (o->config && config_load(&cfg, o->config, &status, err, sizeof(err)) < 0) {
        error_line("%s", err);
        return status;
    }
    uint64_t n;
    if (o->vcpus && !parse_u64(o->vcpus, 1, 256, &n))
        return usage_error("--vcpus: '%s' is not a number in 1..256", o->vcpus);
    if (o->vcpus)
        cfg.vcpus = (unsigned)n;
    snprintf(cfg.mode, sizeof(cfg.mode), "%s", o->mode ? o->mode : "snp");
    snprintf(cfg.apic, sizeof(cfg.apic), "%s", L->fabric);
    L->n = cfg.vcpus;
    L->v = calloc(L->n, sizeof(*L->v));
    SNP_ASSERT(L->v);
    struct snpref_options opt = {.sink = sink, .sink_ctx = L};
    struct snpref_system *sys;
    if (snpref_create(&sys, &cfg, img, &opt, &status, err, sizeof(err)) < 0) {
        error_line("compare (%s): %s", L->fabric, err);
        return status;
    }
    struct snpref_result res;
    int rc = snpref_run(sys, &res, err, sizeof(err));
    char warn[128];
    L->status = snpref_exit_status(&res, 0, warn, sizeof(warn));
    snpref_destroy(sys);
    if (rc < 0) {
        error_line("compare (%s): %s", L->fabric, err);
        return SNPREF_ST_INTERNAL;
    }
    return 0;
}

/* ---- Comparing ---------------------------------------------------------------------------- */

struct tally {
    unsigned explained, latency, unexplained;
};

static const char *irq_name(const struct irq *q, char *buf, size_t len)
{
    if (q->nmi)
        snprintf(buf, len, "NMI");
    else
        snprintf(buf, len, "vector 0x%02x", q->vector);
    return buf;
}

static size_t count_of(const struct vcpu_log *v, uint8_t vec, bool nmi)
{
    size_t n = 0;
    for (size_t i = 0; i < v->nirq; i++)
        n += v->irq[i].nmi == nmi && (nmi || v->irq[i].vector == vec);
    return n;
}

/* Why `missing` interrupts of this kind lack on side x (its log), or NULL. */
static const char *why_missing(const struct vcpu_log *x, uint8_t vec, bool nmi, size_t missing)
{
    if (nmi)
        return x->nmi_dropped >= missing ? "ALLOWED_NMI is clear: VMRUN dropped the hypervisor's NMI"
                                         : NULL;
    if (x->dropped[vec] >= missing)
        return "ALLOWED_IRR blocked it: VMRUN dropped it from REQUESTED_IRR";
    if (x->refused[vec] >= missing)
        return "VMRUN refused the EVENTINJ (an injection the fabric forbids)";
    return NULL;
}

/* Removes the last `k` interrupts of this kind from a copy of the log. */
static size_t drop_last(struct irq *q, size_t n, uint8_t vec, bool nmi, size_t k)
{
    for (size_t i = n; i-- > 0 && k;)
        if (q[i].nmi == nmi && (nmi || q[i].vector == vec)) {
            memmove(&q[i], &q[i + 1], (n - i - 1) * sizeof(*q));
            n--, k--;
        }
    return n;
}

static void compare_counts(unsigned cpu, const struct run_log *A, const struct run_log *B,
                           struct irq *qa, size_t *na, struct irq *qb, size_t *nb, struct tally *t)
{
    const struct vcpu_log *a = &A->v[cpu], *b = &B->v[cpu];
    for (int k = 0; k < 257; k++) {
        bool nmi = k == 256;
        uint8_t vec = (uint8_t)(nmi ? 0 : k);
        size_t ca = count_of(a, vec, nmi), cb = count_of(b, vec, nmi);
        if (ca == cb)
            continue;
        const struct run_log *lacks = ca > cb ? B : A;
        size_t miss = ca > cb ? ca - cb : cb - ca;
        const char *why = why_missing(&lacks->v[cpu], vec, nmi, miss);
        /* A periodic LAPIC timer fires as long as the guest runs: a different
         * number of expiries is timing, not architecture. */
        int64_t fired = (int64_t)a->timer_fired[vec] - (int64_t)b->timer_fired[vec];
        bool timer = !nmi && !why && fired == (int64_t)ca - (int64_t)cb;
        char nm[24];
        struct irq q = {vec, nmi, 0};
        printf("  vCPU %u: %s taken %zu times under %s, %zu under %s: %s\n", cpu,
               irq_name(&q, nm, sizeof(nm)), ca, A->fabric, cb, B->fabric,
               why     ? why
               : timer ? "latency (its periodic LAPIC timer fired that many times more or less: the runs differ in length)"
                       : "UNEXPLAINED");
        if (why)
            t->explained++;
        else if (timer)
            t->latency++;
        else
            t->unexplained++;
        if (ca > cb)
            *na = drop_last(qa, *na, vec, nmi, miss);
        else
            *nb = drop_last(qb, *nb, vec, nmi, miss);
    }
}

static void compare_order(unsigned cpu, const struct run_log *A, const struct run_log *B,
                          const struct irq *qa, size_t na, const struct irq *qb, size_t nb,
                          struct tally *t)
{
    size_t i = 0;
    while (i < na && i < nb && qa[i].vector == qb[i].vector && qa[i].nmi == qb[i].nmi)
        i++;
    if (i == na && i == nb)
        return;
    char x[24], y[24];
    const struct irq *p = &qa[i], *q = &qb[i];
    bool held = !q->nmi && B->v[cpu].held[q->vector];
    held |= !p->nmi && (B->v[cpu].held[p->vector] || A->v[cpu].held[p->vector]);
    printf("  vCPU %u: from interrupt %zu on, another order: %s under %s, %s under %s: %s\n",
           cpu, i + 1, irq_name(p, x, sizeof(x)), A->fabric, irq_name(q, y, sizeof(y)), B->fabric,
           held ? "ALLOWED_IRR held a vector until the guest allowed it"
                : "latency (the fabrics deliver with different latencies)");
    if (held)
        t->explained++;
    else
        t->latency++;
}

static void compare_console(unsigned cpu, const struct run_log *A, const struct run_log *B,
                            struct tally *t)
{
    const struct vcpu_log *a = &A->v[cpu], *b = &B->v[cpu];
    size_t i = 0;
    while (i < a->nlines && i < b->nlines && !strcmp(a->lines[i], b->lines[i]))
        i++;
    if (i == a->nlines && i == b->nlines)
        return;
    printf("  vCPU %u: console line %zu differs: \"%s\" under %s, \"%s\" under %s: UNEXPLAINED\n",
           cpu, i + 1, i < a->nlines ? a->lines[i] : "(none)", A->fabric,
           i < b->nlines ? b->lines[i] : "(none)", B->fabric);
    t->unexplained++;
}

static void print_stats(const struct run_log *A, const struct run_log *B)
{
    const struct run_log *L[2] = {A, B};
    printf("  %-34s %14s %14s\n", "", A->fabric, B->fabric);
    printf("  %-34s %14d %14d\n", "exit status", A->status, B->status);
    printf("  %-34s %14" PRIu64 " %14" PRIu64 "\n", "interrupts taken", A->irqs, B->irqs);
    printf("  %-34s %14" PRIu64 " %14" PRIu64 "\n", "VM exits", A->exits, B->exits);
    printf("  %-34s", "VM exits per interrupt");
    for (int i = 0; i < 2; i++)
        printf(" %14.2f", L[i]->irqs ? (double)L[i]->exits / (double)L[i]->irqs : 0.0);
    printf("\n  %-34s %14" PRIu64 " %14" PRIu64 "\n", "fixed IPIs sent", A->ipis, B->ipis);
    printf("  %-34s", "cycles per IPI (ICR to taken)");
    for (int i = 0; i < 2; i++)
        printf(" %14.0f",
               L[i]->ipi_samples ? (double)L[i]->ipi_cycles / (double)L[i]->ipi_samples : 0.0);
    printf("\n");
}

static int compare(const struct run_log *A, const struct run_log *B)
{
    struct tally t = {0, 0, 0};
    print_stats(A, B);
    if (A->status != B->status) {
        printf("  exit status %d under %s, %d under %s: UNEXPLAINED\n", A->status, A->fabric,
               B->status, B->fabric);
        t.unexplained++;
    }
    for (unsigned cpu = 0; cpu < A->n; cpu++) {
        const struct vcpu_log *a = &A->v[cpu], *b = &B->v[cpu];
        struct irq *qa = malloc((a->nirq + 1) * sizeof(*qa)), *qb = malloc((b->nirq + 1) * sizeof(*qb));
        SNP_ASSERT(qa && qb);
        memcpy(qa, a->irq, a->nirq * sizeof(*qa));
        memcpy(qb, b->irq, b->nirq * sizeof(*qb));
        size_t na = a->nirq, nb = b->nirq;
        compare_counts(cpu, A, B, qa, &na, qb, &nb, &t);
        compare_order(cpu, A, B, qa, na, qb, nb, &t);
        compare_console(cpu, A, B, &t);
        free(qa);
        free(qb);
    }
    printf("snpref compare: %u explained by the architecture, %u by latency, %u unexplained\n",
           t.explained, t.latency, t.unexplained);
    return t.unexplained ? 1 : 0;
}

/* ---- The command ---------------------------------------------------------------------------- */

static int parse(int argc, char **argv, struct cmp_opts *o)
{
    static const struct option lo[] = {
        {"fabrics", required_argument, 0, 'f'}, {"mode", required_argument, 0, 'm'},
        {"vcpus", required_argument, 0, 'v'},   {"config", required_argument, 0, 'c'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0},
    };
    memset(o, 0, sizeof(*o));
    snprintf(o->fab_buf, sizeof(o->fab_buf), "emulated,savic");
    opterr = 0;
    optind = 1;
    int rc;
    for (int ch; (ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1;) {
        switch (ch) {
        case 'f': snprintf(o->fab_buf, sizeof(o->fab_buf), "%s", optarg); break;
        case 'm': o->mode = optarg; break;
        case 'v': o->vcpus = optarg; break;
        case 'c': o->config = optarg; break;
        case 'h': fputs(usage_compare, stdout); return -1;
        default: return bad_option(ch, argv);
        }
    }
    if ((rc = guest_arg(argc, argv, &o->guest)))
        return rc;
    char *comma = strchr(o->fab_buf, ',');
    if (!comma || strchr(comma + 1, ','))
        return usage_error("--fabrics: '%s' is not two fabric names A,B", o->fab_buf);
    *comma = '\0';
    o->fabrics[0] = o->fab_buf;
    o->fabrics[1] = comma + 1;
    for (int i = 0; i < 2; i++)
        if (!fabric_find(o->fabrics[i]))
            return usage_error("--fabrics: no interrupt fabric named '%s'; snpref fabrics lists them",
                               o->fabrics[i]);
    if (o->mode && strcmp(o->mode, "plain") && strcmp(o->mode, "sev-es") && strcmp(o->mode, "snp"))
        return usage_error("--mode: '%s' is not plain, sev-es or snp", o->mode);
    return 0;
}

int cmd_compare(int argc, char **argv)
{
    struct cmp_opts o;
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    struct guest_image img;
    uint8_t *owned;
    if ((rc = load_guest(o.guest, &img, &owned)))
        return rc;
    struct run_log L[2];
    memset(L, 0, sizeof(L));
    for (int i = 0; i < 2 && !rc; i++) {
        L[i].fabric = o.fabrics[i];
        rc = run_one(&o, &img, &L[i]);
    }
    if (!rc) {
        printf("snpref compare: %s under %s (golden) and %s\n", img.name, L[0].fabric, L[1].fabric);
        rc = compare(&L[0], &L[1]);
    }
    log_free(&L[0]);
    log_free(&L[1]);
    free(owned);
    return rc;
}
