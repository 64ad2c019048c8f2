/* SPDX-License-Identifier: MIT */
/*
 * Per-vCPU histograms of two traces and their comparison (stats.h,
 * docs/conformance.md "Statistics"). The bins are the counts `perf kvm stat`
 * reports for a KVM guest (exits by reason: Linux perf, arch/x86/util/kvm-stat.c)
 * plus the SEV-ES/SNP ones a confidential guest adds: VMGEXIT exit codes and
 * GHCB MSR protocol requests (GHCB specification 2.0, 2.3.1 and 4.1), #VC error
 * codes (APM vol. 2 15.35.5: the error code is the exit code), page-state
 * changes (GHCB spec 4.1.6), interrupts taken and IPIs sent.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftrace_names.h"
#include "snpref/base.h"
#include "snpref/text.h"
#include "stats.h"

static const char *const kind_names[TRC_STAT_KINDS] = {"exit", "vmgexit", "ghcb_msr", "vc",
                                                         "irq",  "ipi",     "psc"};
static const char *const psc_ops[] = {"private", "shared", "psmash", "unsmash", "unknown"};

const char *trc_stat_kind_name(enum trc_stat_kind k)
{
    return (unsigned)k < TRC_STAT_KINDS ? kind_names[k] : "?";
}

int trc_stat_kind_parse(const char *name)
{
    for (int k = 0; k < TRC_STAT_KINDS; k++)
        if (!strcmp(kind_names[k], name))
            return k;
    return -1;
}

/*
 * Why these defaults: exits, interrupts and IPIs follow the host's timing (how
 * often the timer fires before the guest is done, how often an idle vCPU
 * halts), so they may differ by 10% (interrupts and IPIs 20%) and a few counts;
 * VMGEXIT and #VC codes follow the guest's code path (every CPUID, MSR and port
 * access of an SEV-ES guest is one), 10% and 2; page-state changes and GHCB
 * MSR requests follow the guest's memory map and boot protocol: exact.
 */
void trc_stat_tol_defaults(struct trc_stat_tol tol[TRC_STAT_KINDS])
{
    static const struct trc_stat_tol d[TRC_STAT_KINDS] = {
        [TRC_STAT_EXIT] = {100000, 2, false}, [TRC_STAT_VMGEXIT] = {100000, 2, false},
        [TRC_STAT_GHCB_MSR] = {0, 0, false},  [TRC_STAT_VC] = {100000, 2, false},
        [TRC_STAT_IRQ] = {200000, 2, false},  [TRC_STAT_IPI] = {200000, 2, false},
        [TRC_STAT_PSC] = {0, 0, false},
    };
    memcpy(tol, d, sizeof(d));
}

/* "P%" (up to 6 decimals) into ppm; "N" into abs. */
static int tol_term(const char *s, size_t n, struct trc_stat_tol *t)
{
    if (!n)
        return -1;
    bool pct = s[n - 1] == '%';
    uint64_t whole = 0, frac = 0, scale = 1000000;
    size_t i = 0;
    for (; i < n - pct && s[i] >= '0' && s[i] <= '9'; i++) {
        if (whole > 1000000000)
            return -1;
        whole = whole * 10 + (uint64_t)(s[i] - '0');
    }
    if (!i)
        return -1;
    if (pct && i < n - 1 && s[i] == '.') {
        for (i++; i < n - 1 && s[i] >= '0' && s[i] <= '9' && scale > 1; i++)
            frac = frac * 10 + (uint64_t)(s[i] - '0'), scale /= 10;
        frac *= scale;
    }
    if (i != n - pct)
        return -1;
    if (pct)
        t->ppm = whole * 10000 + frac / 100;
    else
        t->abs = whole;
    return pct;
}

static int tol_spec(const char *s, size_t n, struct trc_stat_tol *t)
{
    *t = (struct trc_stat_tol){0, 0, false};
    if (n == 3 && !strncmp(s, "any", 3)) {
        t->any = true;
        return 0;
    }
    const char *plus = memchr(s, '+', n);
    if (!plus)
        return tol_term(s, n, t) < 0 ? -1 : 0;
    /* P%+N: a percentage, then a count */
    return tol_term(s, (size_t)(plus - s), t) == 1 &&
                   tol_term(plus + 1, n - (size_t)(plus - s) - 1, t) == 0
               ? 0
               : -1;
}

int trc_stat_tol_parse(struct trc_stat_tol tol[TRC_STAT_KINDS], const char *list, char *err,
                       size_t errlen)
{
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        const char *eq = memchr(p, '=', n);
        char name[32];
        size_t nl = eq ? (size_t)(eq - p) : 0;
        if (!eq || !nl || nl >= sizeof(name)) {
            snprintf(err, errlen, "'%.*s' is not KIND=TOLERANCE", (int)n, p);
            return -1;
        }
        memcpy(name, p, nl);
        name[nl] = '\0';
        int k = trc_stat_kind_parse(name);
        if (k < 0 && strcmp(name, "all")) {
            snprintf(err, errlen, "'%s' is not a kind (exit, vmgexit, ghcb_msr, vc, irq, ipi, psc, all)",
                     name);
            return -1;
        }
        struct trc_stat_tol t;
        if (tol_spec(eq + 1, n - nl - 1, &t) < 0) {
            snprintf(err, errlen, "'%.*s' is not P%%, N, P%%+N or any", (int)(n - nl - 1), eq + 1);
            return -1;
        }
        for (int i = 0; i < TRC_STAT_KINDS; i++)
            if (i == k || k < 0)
                tol[i] = t;
        p += n + (p[n] == ',');
    }
    return 0;
}

const char *trc_stat_tol_str(const struct trc_stat_tol *t, char *buf, size_t len)
{
    if (t->any)
        snprintf(buf, len, "any");
    else if (!t->ppm)
        snprintf(buf, len, "%" PRIu64, t->abs);
    else if (t->ppm % 10000 == 0)
        snprintf(buf, len, "%" PRIu64 "%%+%" PRIu64, t->ppm / 10000, t->abs);
    else
        snprintf(buf, len, "%" PRIu64 ".%04" PRIu64 "%%+%" PRIu64, t->ppm / 10000, t->ppm % 10000,
                 t->abs);
    return buf;
}

uint64_t trc_stat_allowed(const struct trc_stat_tol *t, uint64_t expected)
{
    if (t->any)
        return UINT64_MAX;
    return t->abs + (expected * t->ppm + 999999) / 1000000;
}

/* ---- Histograms ---------------------------------------------------------------------- */

static unsigned dm_index(const char *mode)
{
    for (unsigned i = 0; i < 8; i++)
        if (!strcmp(ftr_trc_dm[i], mode))
            return i;
    return 3; /* "reserved" */
}

static unsigned psc_index(const char *op)
{
    for (unsigned i = 0; i < ARRAY_SIZE(psc_ops); i++)
        if (!strcmp(psc_ops[i], op))
            return i;
    return ARRAY_SIZE(psc_ops) - 1;
}

/* The kind and key an event counts under; false if it is in no histogram. */
static bool classify(const struct trc_rec *r, enum trc_stat_kind *k, uint64_t *key)
{
    switch (r->ev) {
    case TRC_EV_vmexit: *k = TRC_STAT_EXIT, *key = r->v[0].u; return true;
    case TRC_EV_vmgexit: *k = TRC_STAT_VMGEXIT, *key = r->v[1].u; return true;
    case TRC_EV_ghcb_msr: *k = TRC_STAT_GHCB_MSR, *key = r->v[0].u & 0xFFF; return true;
    case TRC_EV_exception:
        *k = TRC_STAT_VC, *key = r->v[3].u;
        return r->v[0].u == 29;
    case TRC_EV_irq_deliver: *k = TRC_STAT_IRQ, *key = r->v[0].u; return true;
    case TRC_EV_ipi: *k = TRC_STAT_IPI, *key = (uint64_t)dm_index(r->v[2].s) << 8 | r->v[1].u; return true;
    case TRC_EV_psc: *k = TRC_STAT_PSC, *key = psc_index(r->v[1].s) << 1 | (r->v[2].u & 1); return true;
    default: return false;
    }
}

static struct trc_stat_bin *bin_of(struct trc_stat_hist *h, uint64_t key)
{
    unsigned lo = 0, hi = h->nbins;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (h->bins[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < h->nbins && h->bins[lo].key == key)
        return &h->bins[lo];
    if (h->nbins == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 8;
        h->bins = realloc(h->bins, h->cap * sizeof(*h->bins));
        SNP_ASSERT(h->bins);
    }
    memmove(&h->bins[lo + 1], &h->bins[lo], (h->nbins - lo) * sizeof(*h->bins));
    h->nbins++;
    h->bins[lo] = (struct trc_stat_bin){.key = key};
    return &h->bins[lo];
}

static int read_side(const char *path, int side, struct trc_stat_vcpu *all, bool *seen,
                     uint64_t *counted, int *status, char *err, size_t errlen)
{
    struct trc_reader *rd = trc_reader_open_st(path, status, err, errlen);
    if (!rd)
        return -1;
    struct trc_rec r;
    int rc;
    while ((rc = trc_reader_next(rd, &r, err, errlen)) == 1) {
        enum trc_stat_kind k;
        uint64_t key;
        if (r.vcpu < 0 || r.vcpu >= TRC_STAT_VCPUS || !classify(&r, &k, &key))
            continue;
        struct trc_stat_hist *h = &all[r.vcpu].h[k];
        bin_of(h, key)->n[side]++;
        h->total[side]++;
        seen[r.vcpu] = true;
        (*counted)++;
    }
    trc_reader_close(rd);
    return rc < 0 ? -1 : 0;
}

static void compare_hist(struct trc_stat_result *res, struct trc_stat_hist *h, enum trc_stat_kind k)
{
    const struct trc_stat_tol *t = &res->tol[k];
    for (unsigned i = 0; i < h->nbins; i++) {
        struct trc_stat_bin *b = &h->bins[i];
        uint64_t d = b->n[0] > b->n[1] ? b->n[0] - b->n[1] : b->n[1] - b->n[0];
        b->allowed = trc_stat_allowed(t, b->n[0]);
        b->differs = d > b->allowed;
        h->differs |= b->differs;
    }
    res->kind_differs[k] |= h->differs;
    res->agree &= !h->differs;
}

int trc_stat_files(const char *expected, const char *actual, const struct trc_stat_tol *tol,
                   struct trc_stat_result *res, int *status, char *err, size_t errlen)
{
    memset(res, 0, sizeof(*res));
    memcpy(res->tol, tol, sizeof(res->tol));
    res->agree = true;
    struct trc_stat_vcpu *all = calloc(TRC_STAT_VCPUS, sizeof(*all));
    bool seen[TRC_STAT_VCPUS] = {false};
    SNP_ASSERT(all);
    const char *paths[2] = {expected, actual};
    for (int s = 0; s < 2; s++)
        if (read_side(paths[s], s, all, seen, &res->counted[s], status, err, errlen) < 0)
            goto fail;
    if (!res->counted[0]) {
        *status = 65;
        snprintf(err, errlen, "%s: no event of the kinds --stats counts (vmexit, vmgexit, ghcb_msr, "
                 "#VC, irq_deliver, ipi, psc): nothing to compare", expected);
        goto fail;
    }
    res->vcpus = calloc(TRC_STAT_VCPUS, sizeof(*res->vcpus));
    SNP_ASSERT(res->vcpus);
    for (int v = 0; v < TRC_STAT_VCPUS; v++) {
        if (!seen[v])
            continue;
        struct trc_stat_vcpu *out = &res->vcpus[res->nvcpus++];
        *out = all[v];
        out->vcpu = v;
        for (int k = 0; k < TRC_STAT_KINDS; k++)
            compare_hist(res, &out->h[k], (enum trc_stat_kind)k);
    }
    free(all);
    return 0;
fail:
    for (int v = 0; v < TRC_STAT_VCPUS; v++)
        for (int k = 0; k < TRC_STAT_KINDS; k++)
            free(all[v].h[k].bins);
    free(all);
    return -1;
}

void trc_stat_free(struct trc_stat_result *res)
{
    for (unsigned i = 0; i < res->nvcpus; i++)
        for (int k = 0; k < TRC_STAT_KINDS; k++)
            free(res->vcpus[i].h[k].bins);
    free(res->vcpus);
    memset(res, 0, sizeof(*res));
}

/* An SVM exit code by name where KVM has one ("msr (0x7c)"), else hex. */
static void exit_str(uint64_t code, char *buf, size_t len)
{
    const char *n = ftr_name_of(ftr_svm_exits, ftr_nsvm_exits, code);
    if (n)
        snprintf(buf, len, "%s (%#" PRIx64 ")", n, code);
    else
        snprintf(buf, len, "%#" PRIx64, code);
}

const char *trc_stat_key_str(enum trc_stat_kind k, uint64_t key, char *buf, size_t len)
{
    switch (k) {
    case TRC_STAT_EXIT:
    case TRC_STAT_VMGEXIT:
    case TRC_STAT_VC: exit_str(key, buf, len); break;
    case TRC_STAT_GHCB_MSR: snprintf(buf, len, "GHCBInfo %#05" PRIx64, key); break;
    case TRC_STAT_IRQ: snprintf(buf, len, "vector %" PRIu64, key); break;
    case TRC_STAT_IPI:
        snprintf(buf, len, "%s vector %" PRIu64, ftr_trc_dm[key >> 8 & 7], key & 0xFF);
        break;
    case TRC_STAT_PSC:
        snprintf(buf, len, "%s %s", psc_ops[(key >> 1) % ARRAY_SIZE(psc_ops)], key & 1 ? "2M" : "4K");
        break;
    default: snprintf(buf, len, "%#" PRIx64, key); break;
    }
    return buf;
}
