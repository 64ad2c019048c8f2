/* SPDX-License-Identifier: MIT */
/*
 * The APIC state a replay starts from (replay_int.h, docs/conformance.md
 * "Logs that start mid-run"). A trace snpref wrote starts at reset, as the
 * model did. A log taken mid-run does not: `--initial FILE.json` states each
 * vCPU's x2APIC registers, pending IRR and ISR vectors and timer; without it,
 * the state is inferred from the trace itself and every assumption printed
 * with the line that implies it (an x2APIC MSR access: x2APIC mode; an
 * interrupt before any SPIV write: software-enabled; an EOI of a vector
 * never delivered: in service). The state is set through the fabric's own
 * MSR interface (Intel SDM vol. 3 11.12 x2APIC MSRs), its trace events
 * dropped: they are the start, not outcomes.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "replay_int.h"
#include "snpref/base.h"
#include "snpref/text.h"

#define APIC_BASE_MSR 0x1Bu
#define X2APIC_ON 0xFEE00C00ull /* base 0xFEE00000, EN (bit 11), EXTD (bit 10) */
#define BSP_BIT (1ull << 8)
#define SPIV_ON 0x1FFu          /* APIC software enabled, spurious vector 0xFF */

static void assume(struct replay *r, int vcpu, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void assume(struct replay *r, int vcpu, const char *fmt, ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    fprintf(r->rep, "snpref replay: assumed: vCPU %d: %s\n", vcpu, what);
    r->st->assumptions++;
}

static bool set_msr(struct replay *r, int vcpu, uint32_t msr, uint64_t val)
{
    return r->fab->ops->msr_write(r->fab, vcpu, msr, val) == FAB_OK;
}

/* A vector into ISR: accepted, then taken (lowest first, so each is the highest). */
static void in_service(struct replay *r, int vcpu, uint8_t vec)
{
    struct fab_msg m = {FAB_SRC_HV, -1, vec, APIC_DM_FIXED, false};
    r->fab->ops->inject(r->fab, vcpu, &m);
    struct fab_event ev = r->fab->ops->pending(r->fab, vcpu, 0);
    if (ev.kind == FAB_EV_FIXED && ev.vector == vec)
        r->fab->ops->ack(r->fab, vcpu, ev);
}

/* What a vCPU's lines imply (the first line of each). */
struct implied {
    unsigned long x2apic, base_write, spiv_write, irq, eoi[256], taken[256];
};

static bool interrupt_event(enum trc_ev ev)
{
    return ev == TRC_EV_irq_accept || ev == TRC_EV_irq_deliver || ev == TRC_EV_eoi ||
           ev == TRC_EV_ipi;
}

static void note(unsigned long *at, unsigned long line)
{
    if (!*at)
        *at = line;
}

static int scan(struct replay *r, struct implied *im, char *err, size_t errlen)
{
    struct trc_reader *rd = trc_reader_open(r->path, err, errlen);
    if (!rd)
        return 65;
    struct trc_rec rec;
    int k;
    while ((k = trc_reader_next(rd, &rec, err, errlen)) == 1) {
        if (rec.vcpu < 0 || (unsigned)rec.vcpu >= r->n)
            continue;
        struct implied *v = &im[rec.vcpu];
        unsigned long line = trc_reader_line(rd);
        if (rec.ev == TRC_EV_msr) {
            uint64_t msr = rec.v[1].u;
            bool wr = !strcmp(rec.v[0].s, "wr"), ok = !strcmp(rec.v[3].s, "ok");
            if (msr == APIC_BASE_MSR && wr)
                note(&v->base_write, line);
            if (msr >= 0x800 && msr <= 0x8FF && ok)
                note(&v->x2apic, line);
            if (msr == 0x80F && wr)
                note(&v->spiv_write, line);
        }
        if (interrupt_event(rec.ev))
            note(&v->irq, line);
        if (rec.ev == TRC_EV_irq_deliver && rec.v[0].u < 256)
            note(&v->taken[rec.v[0].u], line);
        if (rec.ev == TRC_EV_eoi && (int64_t)rec.v[0].u >= 0 && rec.v[0].u < 256)
            note(&v->eoi[rec.v[0].u], line);
    }
    trc_reader_close(rd);
    return k < 0 ? 65 : 0;
}

static void infer_vcpu(struct replay *r, int i, const struct implied *v)
{
    if (v->x2apic && (!v->base_write || v->base_write > v->x2apic)) {
        assume(r, i, "x2APIC mode (APIC_BASE %#" PRIx64 ") assumed from an x2APIC MSR access at line %lu",
               (uint64_t)(X2APIC_ON | (i ? 0 : BSP_BIT)), v->x2apic);
        set_msr(r, i, APIC_BASE_MSR, X2APIC_ON | (i ? 0 : BSP_BIT));
    }
    if (v->irq && (!v->spiv_write || v->spiv_write > v->irq)) {
        assume(r, i, "APIC software-enabled (SPIV %#x) assumed from an interrupt event at line %lu",
               SPIV_ON, v->irq);
        set_msr(r, i, 0x80F, SPIV_ON);
    }
    for (int vec = 16; vec < 256; vec++)
        if (v->eoi[vec] && (!v->taken[vec] || v->taken[vec] > v->eoi[vec])) {
            assume(r, i, "vector %d in service (ISR) assumed from an EOI at line %lu", vec, v->eoi[vec]);
            in_service(r, i, (uint8_t)vec);
        }
    if (i > 0 && r->v[i].st == RP_WAIT_SIPI && (v->x2apic || v->irq)) {
        assume(r, i, "running (the log starts after its SIPI)");
        r->v[i].st = RP_RUN;
    }
}

static int infer(struct replay *r, char *err, size_t errlen)
{
    struct implied *im = calloc(r->n, sizeof(*im));
    SNP_ASSERT(im);
    int rc = scan(r, im, err, errlen);
    for (unsigned i = 0; !rc && i < r->n; i++)
        infer_vcpu(r, (int)i, &im[i]);
    free(im);
    return rc;
}

/* ---- --initial FILE.json ---------------------------------------------------------- */

static int bad(char *err, size_t errlen, const char *path, const char *field, const char *why)
{
    snprintf(err, errlen, "%s: field '%s': %s", path, field, why);
    snp_esc_inplace(err, errlen);
    return 65;
}

static bool num(const cJSON *it, uint64_t *v)
{
    if (cJSON_IsNumber(it) && it->valuedouble >= 0 && it->valuedouble < 9007199254740992.0) {
        *v = (uint64_t)it->valuedouble;
        return true;
    }
    const char *s = cJSON_GetStringValue(it);
    char *end;
    if (!s || strncmp(s, "0x", 2) || !s[2] || strlen(s) > 18)
        return false;
    errno = 0;
    *v = strtoull(s + 2, &end, 16);
    return !errno && !*end;
}

static int vectors(struct replay *r, int vcpu, const cJSON *a, bool isr, const char *path,
                   char *field, char *err, size_t errlen)
{
    if (!a)
        return 0;
    if (!cJSON_IsArray(a))
        return bad(err, errlen, path, field, "expected an array of vectors");
    const cJSON *it;
    cJSON_ArrayForEach(it, a) {
        uint64_t v;
        if (!num(it, &v) || v < 16 || v > 255)
            return bad(err, errlen, path, field, "a vector is 16..255");
        if (isr) {
            in_service(r, vcpu, (uint8_t)v);
        } else {
            struct fab_msg m = {FAB_SRC_HV, -1, (uint8_t)v, APIC_DM_FIXED, false};
            r->fab->ops->inject(r->fab, vcpu, &m);
        }
    }
    return 0;
}

/* One vCPU: {"vcpu": N, "apic_base": X, "x2apic": {"0x80f": X, ...},
 * "timer": {"lvtt": X, "tdcr": X, "tmict": X}, "isr": [...], "irr": [...]}. */
static int one_vcpu(struct replay *r, const cJSON *o, unsigned idx, const char *path, char *err,
                    size_t errlen)
{
    char field[96];
    uint64_t vcpu, v;
    snprintf(field, sizeof(field), "vcpus[%u].vcpu", idx);
    if (!num(cJSON_GetObjectItemCaseSensitive(o, "vcpu"), &vcpu) || vcpu >= r->n)
        return bad(err, errlen, path, field, "expected a vCPU of the trace");
    int c = (int)vcpu;
    const cJSON *base = cJSON_GetObjectItemCaseSensitive(o, "apic_base");
    snprintf(field, sizeof(field), "vcpus[%u].apic_base", idx);
    if (base && (!num(base, &v) || !set_msr(r, c, APIC_BASE_MSR, v)))
        return bad(err, errlen, path, field, "not a value APIC_BASE takes");
    const cJSON *regs = cJSON_GetObjectItemCaseSensitive(o, "x2apic"), *it;
    cJSON_ArrayForEach(it, regs) {
        uint64_t msr;
        snprintf(field, sizeof(field), "vcpus[%u].x2apic.%s", idx, it->string);
        struct cJSON key = {.valuestring = it->string, .type = cJSON_String};
        if (!num(&key, &msr) || msr < 0x800 || msr > 0x8FF || msr == 0x830 || msr == 0x83F)
            return bad(err, errlen, path, field, "expected an x2APIC MSR 0x800..0x8ff (not ICR or SELF_IPI)");
        if (!num(it, &v) || !set_msr(r, c, (uint32_t)msr, v))
            return bad(err, errlen, path, field, "the APIC refuses this value (#GP)");
    }
    static const struct { const char *k; uint32_t msr; } tm[] = {{"lvtt", 0x832}, {"tdcr", 0x83E}, {"tmict", 0x838}};
    const cJSON *timer = cJSON_GetObjectItemCaseSensitive(o, "timer");
    for (size_t i = 0; timer && i < ARRAY_SIZE(tm); i++) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(timer, tm[i].k);
        snprintf(field, sizeof(field), "vcpus[%u].timer.%s", idx, tm[i].k);
        if (t && (!num(t, &v) || !set_msr(r, c, tm[i].msr, v)))
            return bad(err, errlen, path, field, "the APIC refuses this value (#GP)");
    }
    snprintf(field, sizeof(field), "vcpus[%u].isr", idx);
    int rc = vectors(r, c, cJSON_GetObjectItemCaseSensitive(o, "isr"), true, path, field, err, errlen);
    snprintf(field, sizeof(field), "vcpus[%u].irr", idx);
    if (!rc)
        rc = vectors(r, c, cJSON_GetObjectItemCaseSensitive(o, "irr"), false, path, field, err, errlen);
    if (!rc && c > 0)
        r->v[c].st = RP_RUN; /* a stated vCPU is running */
    return rc;
}

static int load(struct replay *r, const char *path, char *err, size_t errlen)
{
    FILE *f = snp_fopen_input(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return 66;
    }
    char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    cJSON *j = cJSON_Parse(buf);
    const cJSON *vs = cJSON_GetObjectItemCaseSensitive(j, "vcpus"), *it;
    int rc = !j ? bad(err, errlen, path, "json", "not valid JSON (at most 64 KiB)")
             : !cJSON_IsArray(vs) ? bad(err, errlen, path, "vcpus", "expected an array")
                                   : 0;
    unsigned i = 0;
    cJSON_ArrayForEach(it, vs) {
        if (rc)
            break;
        rc = one_vcpu(r, it, i++, path, err, errlen);
    }
    cJSON_Delete(j);
    return rc;
}

int rp_initial(struct replay *r, char *err, size_t errlen)
{
    r->priming = true;
    int rc = 0;
    if (r->o->initial_path) {
        rc = load(r, r->o->initial_path, err, errlen);
        if (!rc)
            fprintf(r->rep, "snpref replay: initial APIC state from %s\n", r->o->initial_path);
    } else if (r->partial) {
        rc = infer(r, err, errlen);
    }
    rp_flush(r);
    r->priming = false;
    return rc;
}

void rp_state(struct replay *r, int vcpu)
{
    if (vcpu < 0 || (unsigned)vcpu >= r->n)
        return;
    uint64_t base = 0;
    r->fab->ops->msr_read(r->fab, vcpu, APIC_BASE_MSR, &base);
    fprintf(r->rep, "  model state, vCPU %d: APIC_BASE %#" PRIx64 " (%s)", vcpu, base,
            !(base >> 11 & 1) ? "APIC disabled" : base >> 10 & 1 ? "x2APIC" : "xAPIC: x2APIC MSRs #GP");
    const uint8_t *p = r->fab->ops->regs ? r->fab->ops->regs(r->fab, vcpu) : NULL;
    if (p) {
        uint32_t spiv, tpr;
        memcpy(&spiv, p + 0xF0, 4);
        memcpy(&tpr, p + 0x80, 4);
        int irr = -1, isr = -1;
        for (int v = 255; v >= 0; v--) {
            uint32_t w;
            memcpy(&w, p + 0x200 + (v / 32) * 16, 4);
            if (irr < 0 && (w >> (v % 32) & 1))
                irr = v;
            memcpy(&w, p + 0x100 + (v / 32) * 16, 4);
            if (isr < 0 && (w >> (v % 32) & 1))
                isr = v;
        }
        fprintf(r->rep, ", SPIV %#x (%s), TPR %#x, highest IRR %d, highest ISR %d", spiv,
                spiv >> 8 & 1 ? "software enabled" : "software disabled: no interrupt is accepted", tpr,
                irr, isr);
    }
    static const char *const st[] = {"running", "halted", "waiting for SIPI", "off"};
    fprintf(r->rep, "; %s; started from %s\n", st[r->v[vcpu].st],
            r->o->initial_path ? r->o->initial_path
            : r->partial       ? "the state inferred above"
                               : "reset");
}
