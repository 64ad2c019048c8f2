/* SPDX-License-Identifier: MIT */
/*
 * `snpref compare [GUEST.elf] [--a FABRIC[:CONFIG]] [--b FABRIC[:CONFIG]]`
 * (issues 4 and 12; docs/cli.md): one guest on two sides, A the reference,
 * each a fabric with its own knobs (the same fabric with two knob sets, or
 * two fabrics). Per vCPU it compares the interrupts taken (vector and kind,
 * in order) and the console, and sorts every difference into one class:
 *  - explained by the architecture: an interrupt missing on a side whose trace
 *    shows why (ALLOWED_IRR dropped the vector at VMRUN, ALLOWED_NMI dropped a
 *    hypervisor NMI, VMRUN refused an EVENTINJ the fabric forbids), or one
 *    taken later because ALLOWED_IRR held it;
 *  - latency: the same interrupts in another order, as the sides deliver
 *    with different latencies;
 *  - ignored: console differences --ignore names;
 *  - unexplained: anything else, including a different exit status or
 *    console. Any unexplained divergence makes the exit status 1.
 * The report gives both knob sets and their differences, and per side the
 * totals and guest-visible latencies of compare_log.h (compare_report.c);
 * --json and --junit write it for machines.
 */
#include <getopt.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare_log.h"
#include "config.h"
#include "fabric.h"
#include "loader.h"
#include "snpref.h"
#include "snpref/base.h"
#include "tools.h"

static const char usage_compare[] =
    "usage: snpref compare [GUEST.elf] [--a FABRIC[:CONFIG]] [--b FABRIC[:CONFIG]] [options]\n"
    "Runs GUEST.elf (or the built-in demo) on side A (the reference) and side B,\n"
    "each a fabric with its own config (knobs), and compares per vCPU the\n"
    "interrupts taken and the console; reports both knob sets, totals and\n"
    "guest-visible latencies per side.\n"
    "  --a FABRIC[:CONFIG]  side A (default emulated); CONFIG is read after --config\n"
    "  --b FABRIC[:CONFIG]  side B (default savic)\n"
    "  --fabrics A,B        both fabrics at once (no per-side config)\n"
    "  --mode M             default snp (Secure AVIC needs it)\n"
    "  --vcpus N            default 4\n"
    "  --config FILE.json   configuration for both sides\n"
    "  --ignore WHAT        console: console differences do not count; any other\n"
    "                       value is a POSIX extended regex: console lines matching\n"
    "                       it are left out on both sides (repeatable)\n"
    "  --json FILE          the report as JSON (docs/compare.schema.json); - for stdout\n"
    "  --junit FILE         the report as JUnit XML, one testcase per check\n"
    "Exit status: 0 no unexplained divergence, 1 some, 64/65/66 bad input.\n";

#define MAX_IGNORE 8

struct cmp_opts {
    const char *guest, *config, *mode, *vcpus, *json, *junit;
    char spec[2][160];
    bool ignore_console;
    regex_t ignore_re[MAX_IGNORE];
    unsigned nignore;
};

/* ---- Running ------------------------------------------------------------------------------ */

static int load_config(struct snp_config *cfg, const char *path)
{
    char err[512];
    int status = 0;
    if (path && config_load(cfg, path, &status, err, sizeof(err)) < 0) {
        error_line("%s", err);
        return status;
    }
    return 0;
}

static int run_one(const struct cmp_opts *o, const struct guest_image *img, struct side *sd,
                   struct run_log *L)
{
    struct snp_config cfg;
    config_defaults(&cfg);
    int rc;
    if ((rc = load_config(&cfg, o->config)) || (rc = load_config(&cfg, sd->config)))
        return rc;
    uint64_t n;
    if (o->vcpus && !parse_u64(o->vcpus, 1, 256, &n))
        return usage_error("--vcpus: '%s' is not a number in 1..256", o->vcpus);
    if (o->vcpus)
        cfg.vcpus = (unsigned)n;
    snprintf(cfg.mode, sizeof(cfg.mode), "%s", o->mode ? o->mode : "snp");
    snprintf(cfg.apic, sizeof(cfg.apic), "%s", sd->fabric);
    sd->knobs_json = config_knobs_to_json(&cfg, sd->fabric);
    L->label = sd->label;
    L->fabric = sd->fabric;
    L->n = cfg.vcpus;
    L->v = calloc(L->n, sizeof(*L->v));
    SNP_ASSERT(L->v);
    struct snpref_options opt = {.sink = log_sink, .sink_ctx = L};
    struct snpref_system *sys;
    char err[512];
    int status = 0;
    if (snpref_create(&sys, &cfg, img, &opt, &status, err, sizeof(err)) < 0) {
        error_line("compare (%s): %s", sd->label, err);
        return status;
    }
    struct snpref_result res;
    rc = snpref_run(sys, &res, err, sizeof(err));
    char warn[128];
    L->status = snpref_exit_status(&res, 0, warn, sizeof(warn));
    L->cycles = res.cycles;
    L->insns = res.insns;
    snpref_destroy(sys);
    if (rc < 0) {
        error_line("compare (%s): %s", sd->label, err);
        return SNPREF_ST_INTERNAL;
    }
    return 0;
}

/* ---- Comparing ---------------------------------------------------------------------------- */

static void diverge(struct cmp_result *c, enum div_class cls, int vcpu, const char *check,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void diverge(struct cmp_result *c, enum div_class cls, int vcpu, const char *check,
                    const char *fmt, ...)
{
    if (c->ndiv == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 16;
        c->div = realloc(c->div, c->cap * sizeof(*c->div));
        SNP_ASSERT(c->div);
    }
    struct divergence *d = &c->div[c->ndiv++];
    *d = (struct divergence){cls, vcpu, check, ""};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->what, sizeof(d->what), fmt, ap);
    va_end(ap);
    c->count[cls]++;
}

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

struct irq_copy {
    struct irq *q;
    size_t n;
};

static void compare_counts(struct cmp_result *c, unsigned cpu, struct irq_copy *qa,
                           struct irq_copy *qb)
{
    const struct run_log *A = &c->log[0], *B = &c->log[1];
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
        diverge(c, why ? DIV_EXPLAINED : timer ? DIV_LATENCY : DIV_UNEXPLAINED, (int)cpu,
                "interrupts", "%s taken %zu times under %s, %zu under %s: %s",
                irq_name(&q, nm, sizeof(nm)), ca, A->label, cb, B->label,
                why     ? why
                : timer ? "latency (its periodic LAPIC timer fired that many times more or less: "
                          "the runs differ in length)"
                        : "UNEXPLAINED");
        struct irq_copy *more = ca > cb ? qa : qb;
        more->n = drop_last(more->q, more->n, vec, nmi, miss);
    }
}

static void compare_order(struct cmp_result *c, unsigned cpu, const struct irq_copy *qa,
                          const struct irq_copy *qb)
{
    const struct run_log *A = &c->log[0], *B = &c->log[1];
    size_t i = 0;
    while (i < qa->n && i < qb->n && qa->q[i].vector == qb->q[i].vector &&
           qa->q[i].nmi == qb->q[i].nmi)
        i++;
    if (i == qa->n && i == qb->n)
        return;
    char x[24], y[24];
    const struct irq *p = &qa->q[i], *q = &qb->q[i];
    bool held = !q->nmi && B->v[cpu].held[q->vector];
    held |= !p->nmi && (B->v[cpu].held[p->vector] || A->v[cpu].held[p->vector]);
    diverge(c, held ? DIV_EXPLAINED : DIV_LATENCY, (int)cpu, "interrupts",
            "from interrupt %zu on, another order: %s under %s, %s under %s: %s", i + 1,
            irq_name(p, x, sizeof(x)), A->label, irq_name(q, y, sizeof(y)), B->label,
            held ? "ALLOWED_IRR held a vector until the guest allowed it"
                 : "latency (the sides deliver with different latencies)");
}

/* The console lines --ignore leaves in, as pointers into the log. */
static size_t kept_lines(const struct cmp_opts *o, const struct vcpu_log *v, const char **out)
{
    size_t n = 0;
    for (size_t i = 0; i < v->nlines; i++) {
        bool drop = false;
        for (unsigned k = 0; k < o->nignore && !drop; k++)
            drop = regexec(&o->ignore_re[k], v->lines[i], 0, NULL, 0) == 0;
        if (!drop)
            out[n++] = v->lines[i];
    }
    return n;
}

static void compare_console(const struct cmp_opts *o, struct cmp_result *c, unsigned cpu)
{
    const struct run_log *A = &c->log[0], *B = &c->log[1];
    const char **la = calloc(A->v[cpu].nlines + 1, sizeof(char *));
    const char **lb = calloc(B->v[cpu].nlines + 1, sizeof(char *));
    SNP_ASSERT(la && lb);
    size_t na = kept_lines(o, &A->v[cpu], la), nb = kept_lines(o, &B->v[cpu], lb), i = 0;
    while (i < na && i < nb && !strcmp(la[i], lb[i]))
        i++;
    if (i < na || i < nb)
        diverge(c, o->ignore_console ? DIV_IGNORED : DIV_UNEXPLAINED, (int)cpu, "console",
                "console line %zu differs: \"%s\" under %s, \"%s\" under %s: %s", i + 1,
                i < na ? la[i] : "(none)", A->label, i < nb ? lb[i] : "(none)", B->label,
                o->ignore_console ? "ignored (--ignore console)" : "UNEXPLAINED");
    free(la);
    free(lb);
}

static void compare(const struct cmp_opts *o, struct cmp_result *c)
{
    const struct run_log *A = &c->log[0], *B = &c->log[1];
    if (A->status != B->status)
        diverge(c, DIV_UNEXPLAINED, -1, "exit status", "exit status %d under %s, %d under %s: "
                "UNEXPLAINED", A->status, A->label, B->status, B->label);
    for (unsigned cpu = 0; cpu < A->n && cpu < B->n; cpu++) {
        const struct vcpu_log *a = &A->v[cpu], *b = &B->v[cpu];
        struct irq_copy qa = {malloc((a->nirq + 1) * sizeof(struct irq)), a->nirq};
        struct irq_copy qb = {malloc((b->nirq + 1) * sizeof(struct irq)), b->nirq};
        SNP_ASSERT(qa.q && qb.q);
        if (a->nirq) /* memcpy's source must not be NULL, even for 0 bytes */
            memcpy(qa.q, a->irq, a->nirq * sizeof(struct irq));
        if (b->nirq)
            memcpy(qb.q, b->irq, b->nirq * sizeof(struct irq));
        compare_counts(c, cpu, &qa, &qb);
        compare_order(c, cpu, &qa, &qb);
        compare_console(o, c, cpu);
        free(qa.q);
        free(qb.q);
    }
}

/* ---- The command ---------------------------------------------------------------------------- */

/* FABRIC[:CONFIG] into a side; 64 on an unknown fabric. */
static int parse_side(const char *opt, const char *spec, struct side *sd)
{
    const char *colon = strchr(spec, ':');
    size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
    if (n >= sizeof(sd->fabric))
        return usage_error("%s: '%s' is no fabric name", opt, spec);
    memcpy(sd->fabric, spec, n);
    sd->fabric[n] = '\0';
    if (!fabric_find(sd->fabric))
        return usage_error("%s: no interrupt fabric named '%s'; snpref fabrics lists them", opt,
                           sd->fabric);
    sd->config = colon ? colon + 1 : NULL;
    if (sd->config && !*sd->config)
        return usage_error("%s: '%s' names no config file after the colon", opt, spec);
    snprintf(sd->label, sizeof(sd->label), "%s", spec);
    return 0;
}

static int add_ignore(struct cmp_opts *o, const char *what)
{
    if (!strcmp(what, "console")) {
        o->ignore_console = true;
        return 0;
    }
    if (o->nignore == MAX_IGNORE)
        return usage_error("--ignore: at most %d regular expressions", MAX_IGNORE);
    int rc = regcomp(&o->ignore_re[o->nignore], what, REG_EXTENDED | REG_NOSUB);
    if (rc) {
        char msg[128];
        regerror(rc, &o->ignore_re[o->nignore], msg, sizeof(msg));
        return usage_error("--ignore: '%s' is no extended regular expression: %s", what, msg);
    }
    o->nignore++;
    return 0;
}

/* --fabrics A,B: the two sides' fabrics in one option (issue 4's form). */
static int split_fabrics(struct cmp_opts *o, const char *arg)
{
    const char *comma = strchr(arg, ',');
    if (!comma || strchr(comma + 1, ',') || (size_t)(comma - arg) >= sizeof(o->spec[0]))
        return usage_error("--fabrics: '%s' is not two fabric names A,B", arg);
    snprintf(o->spec[0], sizeof(o->spec[0]), "%.*s", (int)(comma - arg), arg);
    snprintf(o->spec[1], sizeof(o->spec[1]), "%s", comma + 1);
    if (strchr(o->spec[0], ':') || strchr(o->spec[1], ':'))
        return usage_error("--fabrics: '%s': a per-side config needs --a/--b FABRIC:CONFIG", arg);
    return 0;
}

static int parse(int argc, char **argv, struct cmp_opts *o, struct cmp_result *c)
{
    static const struct option lo[] = {
        {"fabrics", required_argument, 0, 'f'}, {"mode", required_argument, 0, 'm'},
        {"vcpus", required_argument, 0, 'v'},   {"config", required_argument, 0, 'c'},
        {"a", required_argument, 0, 'A'},       {"b", required_argument, 0, 'B'},
        {"ignore", required_argument, 0, 'i'},  {"json", required_argument, 0, 'j'},
        {"junit", required_argument, 0, 'u'},   {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    snprintf(o->spec[0], sizeof(o->spec[0]), "%s", fabric_list[0]->name);
    snprintf(o->spec[1], sizeof(o->spec[1]), "savic");
    opterr = 0;
    optind = 1;
    int rc = 0;
    for (int ch; !rc && (ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1;) {
        switch (ch) {
        case 'f': rc = split_fabrics(o, optarg); break;
        case 'A': snprintf(o->spec[0], sizeof(o->spec[0]), "%s", optarg); break;
        case 'B': snprintf(o->spec[1], sizeof(o->spec[1]), "%s", optarg); break;
        case 'm': o->mode = optarg; break;
        case 'v': o->vcpus = optarg; break;
        case 'c': o->config = optarg; break;
        case 'i': rc = add_ignore(o, optarg); break;
        case 'j': o->json = optarg; break;
        case 'u': o->junit = optarg; break;
        case 'h': fputs(usage_compare, stdout); return -1;
        default: return bad_option(ch, argv);
        }
    }
    if (rc || (rc = guest_arg(argc, argv, &o->guest)))
        return rc;
    if ((rc = parse_side("--a", o->spec[0], &c->side[0])) ||
        (rc = parse_side("--b", o->spec[1], &c->side[1])))
        return rc;
    if (!strcmp(c->side[0].label, c->side[1].label))
        for (int i = 0; i < 2; i++) /* the same side twice: still two names */
            snprintf(c->side[i].label, sizeof(c->side[i].label), "%s(%c)", o->spec[i], "AB"[i]);
    if (o->mode && strcmp(o->mode, "plain") && strcmp(o->mode, "sev-es") && strcmp(o->mode, "snp"))
        return usage_error("--mode: '%s' is not plain, sev-es or snp", o->mode);
    return 0;
}

static void result_free(struct cmp_opts *o, struct cmp_result *c)
{
    for (int i = 0; i < 2; i++) {
        log_free(&c->log[i]);
        free(c->side[i].knobs_json);
    }
    free(c->div);
    for (unsigned k = 0; k < o->nignore; k++)
        regfree(&o->ignore_re[k]);
}

static void report_text(const struct cmp_result *c)
{
    printf("snpref compare: %s under %s (reference) and %s\n", c->guest, c->log[0].label,
           c->log[1].label);
    report_knobs(c);
    report_totals(c);
    for (size_t i = 0; i < c->ndiv; i++) {
        const struct divergence *d = &c->div[i];
        if (d->vcpu >= 0)
            printf("  vCPU %d: %s\n", d->vcpu, d->what);
        else
            printf("  %s\n", d->what);
    }
    printf("snpref compare: %u explained by the architecture, %u by latency, %u unexplained",
           c->count[DIV_EXPLAINED], c->count[DIV_LATENCY], c->count[DIV_UNEXPLAINED]);
    if (c->count[DIV_IGNORED])
        printf(", %u ignored", c->count[DIV_IGNORED]);
    printf("\n");
}

int cmd_compare(int argc, char **argv)
{
    struct cmp_opts o;
    struct cmp_result c;
    memset(&o, 0, sizeof(o));
    memset(&c, 0, sizeof(c));
    int rc = parse(argc, argv, &o, &c);
    struct guest_image img;
    uint8_t *owned = NULL;
    if (!rc)
        rc = load_guest(o.guest, &img, &owned);
    for (int i = 0; i < 2 && !rc; i++)
        rc = run_one(&o, &img, &c.side[i], &c.log[i]);
    if (!rc) {
        c.guest = img.name;
        c.mode = o.mode ? o.mode : "snp";
        c.vcpus = c.log[0].n;
        compare(&o, &c);
        bool json_out = o.json && !strcmp(o.json, "-");
        if (!json_out)
            report_text(&c);
        if ((o.json && report_json(&c, o.json) < 0) || (o.junit && report_junit(&c, o.junit) < 0))
            rc = SNPREF_ST_NOINPUT; /* as an unwritable trace: 66 */
        else
            rc = c.count[DIV_UNEXPLAINED] ? 1 : 0;
    }
    result_free(&o, &c);
    free(owned);
    return rc < 0 ? 0 : rc;
}
