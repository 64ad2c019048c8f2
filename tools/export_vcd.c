/* SPDX-License-Identifier: MIT */
/*
 * A trace as a Value Change Dump (IEEE 1364-2005 section 18, the format
 * GTKWave reads): per vCPU the 256-bit IRR and ISR, TPR and PPR, and the INTR
 * and NMI lines, rebuilt from the trace's events. What the trace says is what
 * the waveform shows:
 *  - IRR: set by irq_accept (fixed, lowest) and a merged savic_irr, cleared by
 *    irq_deliver; a Secure AVIC guest's own stores to a backing page reach it
 *    as savic_page_write of an IRR word;
 *  - ISR: set by irq_deliver (fixed), cleared by eoi; savic_page_write of an
 *    ISR word;
 *  - TPR: WRMSR 0x808 (msr or apic_hw), MOV to CR8 (CR8 << 4), an xAPIC store
 *    to 0xFEE00080, savic_page_write of offset 0x80; init clears all;
 *  - PPR as SDM 10.8.3.1 derives it: TPR if TPR[7:4] >= ISRV[7:4], else
 *    ISRV & 0xF0 (ISRV the highest in-service vector);
 *  - INTR: the highest IRR vector's priority class is above PPR's (SDM
 *    10.8.3.1: what the APIC would present to the core); NMI: an NMI accepted
 *    (irq_accept nmi) and not yet taken.
 * XXX(model): an APIC state the trace does not show (the guest's IRR bits of
 * a page before it was traced, a TPR set before the trace began) is not
 * there; the time unit is 1 ps, each cycle 1e12 / core_hz of them, rounded.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "snpref.h"
#include "snpref/base.h"
#include "tools.h"
#include "trace.h"

#define VCD_NSIG 6
enum { SIG_IRR, SIG_ISR, SIG_TPR, SIG_PPR, SIG_INTR, SIG_NMI };
static const char *const sig_name[VCD_NSIG] = {"irr", "isr", "tpr", "ppr", "intr", "nmi"};
static const unsigned sig_width[VCD_NSIG] = {256, 256, 8, 8, 1, 1};

struct vapic {
    uint32_t irr[8], isr[8];
    uint8_t tpr;
    bool nmi;
    uint64_t shown[VCD_NSIG][4]; /* what the dump last showed (256 bits for irr/isr) */
    bool ever;
};

static void vec_set(uint32_t *r, unsigned v, bool on)
{
    if (on)
        r[v >> 5] |= 1u << (v & 31);
    else
        r[v >> 5] &= ~(1u << (v & 31));
}

static int highest(const uint32_t *r)
{
    for (int i = 7; i >= 0; i--)
        if (r[i])
            return i * 32 + 31 - __builtin_clz(r[i]);
    return -1;
}

static uint8_t ppr_of(const struct vapic *a)
{
    int isrv = highest(a->isr);
    unsigned cls = isrv < 0 ? 0 : (unsigned)isrv & 0xF0;
    return (a->tpr & 0xF0) >= cls ? a->tpr : (uint8_t)cls;
}

/* The value of signal s now, as four 64-bit words (bit 0 of word 0 = bit 0). */
static void value(const struct vapic *a, int s, uint64_t w[4])
{
    memset(w, 0, 4 * sizeof(uint64_t));
    int irrv = highest(a->irr);
    switch (s) {
    case SIG_IRR:
    case SIG_ISR:
        for (int i = 0; i < 8; i++)
            w[i / 2] |= (uint64_t)(s == SIG_IRR ? a->irr : a->isr)[i] << (32 * (i & 1));
        break;
    case SIG_TPR: w[0] = a->tpr; break;
    case SIG_PPR: w[0] = ppr_of(a); break;
    case SIG_INTR: w[0] = irrv >= 0 && ((unsigned)irrv & 0xF0) > (ppr_of(a) & 0xF0u); break;
    case SIG_NMI: w[0] = a->nmi; break;
    }
}

static void put_value(FILE *out, unsigned width, const uint64_t w[4], unsigned vcpu, int s)
{
    if (width == 1) {
        fprintf(out, "%c%c%u\n", w[0] ? '1' : '0', 'a' + s, vcpu);
        return;
    }
    fputc('b', out);
    bool lead = true;
    for (int bit = (int)width - 1; bit >= 0; bit--) {
        bool on = (w[bit / 64] >> (bit % 64)) & 1;
        if (on || !lead || bit == 0) {
            fputc(on ? '1' : '0', out);
            lead = false;
        }
    }
    fprintf(out, " %c%u\n", 'a' + s, vcpu);
}

struct vcd {
    FILE *out;
    const struct export_in *in;
    struct vapic *a;
    uint64_t ps_num, ps_den; /* ps = cycles * num / den */
    uint64_t cur_t;
    bool time_written;
};

/* Writes what changed on vcpu since the dump last showed it. */
static void flush_vcpu(struct vcd *d, unsigned vcpu, uint64_t t)
{
    struct vapic *a = &d->a[vcpu];
    for (int s = 0; s < VCD_NSIG; s++) {
        uint64_t w[4];
        value(a, s, w);
        if (a->ever && !memcmp(w, a->shown[s], sizeof(w)))
            continue;
        if (!d->time_written || d->cur_t != t) {
            unsigned __int128 ps = (unsigned __int128)t * d->ps_num / d->ps_den;
            fprintf(d->out, "#%" PRIu64 "\n", (uint64_t)ps);
            d->cur_t = t;
            d->time_written = true;
        }
        put_value(d->out, sig_width[s], w, vcpu, s);
        memcpy(a->shown[s], w, sizeof(w));
    }
    a->ever = true;
}

static bool is_tpr_write(const struct trc_rec *r, uint8_t *tpr)
{
    switch (r->ev) {
    case TRC_EV_msr:
    case TRC_EV_apic_hw:
        if (strcmp(r->v[0].s, "wr") || r->v[1].u != 0x808 || !strcmp(r->v[3].s, "gp"))
            return false;
        *tpr = (uint8_t)r->v[2].u;
        return true;
    case TRC_EV_cr8:
        if (strcmp(r->v[0].s, "wr") || strcmp(r->v[2].s, "ok"))
            return false;
        *tpr = (uint8_t)(r->v[1].u << 4);
        return true;
    case TRC_EV_mmio:
        if (strcmp(r->v[0].s, "write") || r->v[1].u != 0xFEE00080ull)
            return false;
        *tpr = (uint8_t)r->v[3].u;
        return true;
    default: return false;
    }
}

/* A backing-page word the guest stored (Secure AVIC): IRR 0x200.., ISR 0x100.., TPR 0x80. */
static void page_write(struct vapic *a, uint64_t off, uint32_t val)
{
    if (off >= 0x200 && off < 0x280 && (off & 0xF) == 0)
        a->irr[(off - 0x200) >> 4] = val;
    else if (off >= 0x100 && off < 0x180 && (off & 0xF) == 0)
        a->isr[(off - 0x100) >> 4] = val;
    else if (off == 0x80)
        a->tpr = (uint8_t)val;
}

static void apply(struct vapic *a, const struct trc_rec *r)
{
    uint8_t tpr;
    const char *mode;
    switch (r->ev) {
    case TRC_EV_irq_accept:
        mode = r->v[1].s;
        if (!strcmp(mode, "fixed") || !strcmp(mode, "lowest"))
            vec_set(a->irr, (uint8_t)r->v[0].u, true);
        else if (!strcmp(mode, "nmi"))
            a->nmi = true;
        break;
    case TRC_EV_irq_deliver:
        if (!strcmp(r->v[1].s, "nmi")) {
            a->nmi = false;
        } else if (!strcmp(r->v[1].s, "fixed")) {
            vec_set(a->irr, (uint8_t)r->v[0].u, false);
            vec_set(a->isr, (uint8_t)r->v[0].u, true);
        }
        break;
    case TRC_EV_eoi:
        if ((int64_t)r->v[0].u >= 0)
            vec_set(a->isr, (uint8_t)r->v[0].u, false);
        break;
    case TRC_EV_savic_irr:
        if (!strcmp(r->v[1].s, "merged"))
            vec_set(a->irr, (uint8_t)r->v[0].u, true);
        break;
    case TRC_EV_savic_page_write: page_write(a, r->v[0].u, (uint32_t)r->v[1].u); break;
    case TRC_EV_init: memset(a, 0, offsetof(struct vapic, shown)); break;
    default:
        if (is_tpr_write(r, &tpr))
            a->tpr = tpr;
        break;
    }
}

static void header(struct vcd *d)
{
    FILE *o = d->out;
    fprintf(o, "$comment snpref export vcd %s (fabric %s, mode %s, core_hz %" PRIu64
               ") $end\n$version snpref " SNPREF_VERSION " $end\n$timescale 1ps $end\n"
               "$scope module snpref $end\n",
            d->in->path, d->in->fabric, d->in->mode, d->in->core_hz);
    for (unsigned i = 0; i < d->in->vcpus; i++) {
        fprintf(o, "$scope module vcpu%u $end\n", i);
        for (int s = 0; s < VCD_NSIG; s++)
            fprintf(o, "$var wire %u %c%u %s%s $end\n", sig_width[s], 'a' + s, i, sig_name[s],
                    sig_width[s] > 1 ? (sig_width[s] == 256 ? " [255:0]" : " [7:0]") : "");
        fputs("$upscope $end\n", o);
    }
    fputs("$upscope $end\n$enddefinitions $end\n#0\n$dumpvars\n", o);
    for (unsigned i = 0; i < d->in->vcpus; i++) {
        struct vapic *a = &d->a[i];
        for (int s = 0; s < VCD_NSIG; s++) {
            value(a, s, a->shown[s]);
            put_value(o, sig_width[s], a->shown[s], i, s);
        }
        a->ever = true;
    }
    fputs("$end\n", o);
    d->cur_t = 0;
    d->time_written = true;
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

int export_vcd(struct export_in *in, FILE *out)
{
    /* Identifiers are one letter per signal and the vCPU number: "a0".."f255". */
    struct vcd d = {out, in, calloc(in->vcpus, sizeof(struct vapic)), 1000000000000ull,
                    in->core_hz, 0, false};
    SNP_ASSERT(d.a);
    uint64_t g = gcd(d.ps_num, d.ps_den);
    d.ps_num /= g;
    d.ps_den /= g;
    header(&d);
    struct trc_rec rec;
    char err[512];
    int k;
    while ((k = trc_reader_next(in->rd, &rec, err, sizeof(err))) == 1) {
        if (rec.vcpu < 0 || (unsigned)rec.vcpu >= in->vcpus)
            continue;
        apply(&d.a[rec.vcpu], &rec);
        flush_vcpu(&d, (unsigned)rec.vcpu, rec.t);
    }
    free(d.a);
    if (k < 0) {
        error_line("%s", err);
        return SNPREF_ST_DATAERR;
    }
    return 0;
}
