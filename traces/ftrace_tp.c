/* SPDX-License-Identifier: MIT */
/*
 * The tracepoints of the KVM log importer (ftrace.h, docs/silicon-logs.md):
 * each one's TP_printk text as Linux arch/x86/kvm/trace.h prints it
 * (TRACE_EVENT(kvm_entry), kvm_exit, kvm_msr, kvm_apic, kvm_apic_ipi,
 * kvm_apic_accept_irq, kvm_apicv_accept_irq, kvm_eoi, kvm_inj_virq,
 * kvm_inj_exception, kvm_pio, kvm_cpuid, kvm_vmgexit_enter/_exit,
 * kvm_vmgexit_msr_protocol_enter/_exit, kvm_avic_incomplete_ipi,
 * kvm_avic_unaccelerated_access, kvm_avic_doorbell, kvm_rmp_fault; kvm_snp_psc
 * of the SNP hypervisor series), read with a small cursor, and the events it
 * becomes. Names come from SVM_EXIT_REASONS (arch/x86/include/uapi/asm/svm.h),
 * kvm_deliver_mode (include/trace/events/kvm.h) and kvm_trace_symbol_apic.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ftrace_int.h"
#include "ftrace_names.h"
#include "snpref/base.h"
#include "snpref/text.h"

/* ---- Reading the text ------------------------------------------------------------------ */

static bool lit(struct ftr_cur *c, const char *s)
{
    ftr_sp(c);
    size_t n = strlen(s);
    if (strncmp(c->p, s, n))
        return false;
    c->p += n;
    return true;
}

/* Hex with or without 0x, at most 16 digits. */
static bool hexnum(struct ftr_cur *c, uint64_t *v)
{
    ftr_sp(c);
    const char *p = c->p;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        p += 2;
    size_t n = snp_scan_hex(p, v);
    if (!n)
        return false;
    c->p = p + n;
    return true;
}

static bool decnum(struct ftr_cur *c, uint64_t *v)
{
    ftr_sp(c);
    const char *p = c->p;
    uint64_t x = 0;
    unsigned n = 0;
    for (; *p >= '0' && *p <= '9'; p++, n++) {
        if (x > (UINT64_MAX - 9) / 10)
            return false;
        x = x * 10 + (uint64_t)(*p - '0');
    }
    if (!n)
        return false;
    *v = x;
    c->p = p;
    return true;
}

static bool sdecnum(struct ftr_cur *c, int64_t *v)
{
    ftr_sp(c);
    bool neg = *c->p == '-';
    if (neg)
        c->p++;
    uint64_t u;
    if (!decnum(c, &u) || u > (uint64_t)INT64_MAX)
        return false;
    *v = neg ? -(int64_t)u : (int64_t)u;
    return true;
}

/* A word up to a space or one of stop. */
static bool word(struct ftr_cur *c, char *buf, size_t len, const char *stop)
{
    ftr_sp(c);
    size_t n = 0;
    while (c->p[n] && c->p[n] != ' ' && !strchr(stop, c->p[n]))
        n++;
    if (!n || n >= len)
        return false;
    memcpy(buf, c->p, n);
    buf[n] = '\0';
    c->p += n;
    return true;
}

/* ---- Tracepoints ------------------------------------------------------------------------ */

typedef int (*tp_fn)(struct ftr_imp *im, struct ftr_cur *c, const struct ftr_line *l);

/* The vCPU of a tracepoint that names none; 0 with *vcpu -1 when unknown (counted). */
int ftr_need_thread(struct ftr_imp *im, const struct ftr_line *l, int *vcpu)
{
    *vcpu = ftr_thread_vcpu(im, l);
    if (*vcpu < 0 && !im->emit)
        ftr_note(&im->st->no_vcpu, im->line);
    return 0;
}

/* "vcpu N" (or "vcpu=N"/"vcpuid=N"), checked and learnt for the thread. */
static int vcpu_field(struct ftr_imp *im, struct ftr_cur *c, const struct ftr_line *l, const char *key,
                      int *vcpu)
{
    uint64_t v;
    if (!lit(c, key) || !decnum(c, &v))
        return ftr_bad(im, "vcpu", "expected \"%sN\"", key);
    if (ftr_check_vcpu(im, v, "vcpu") < 0)
        return -1;
    *vcpu = (int)v;
    ftr_learn(im, l->pid, *vcpu);
    return 0;
}

static int tp_entry(struct ftr_imp *im, struct ftr_cur *c, const struct ftr_line *l)
{
    int vcpu;
    uint64_t rip = 0;
    if (vcpu_field(im, c, l, "vcpu ", &vcpu) < 0)
        return -1;
    if (lit(c, ",") && (!lit(c, "rip") || !hexnum(c, &rip)))
        return ftr_bad(im, "rip", "expected \"rip 0x...\"");
    if (rip)
        im->v[vcpu].rip = rip;
    ftr_flush_apic(im, vcpu);
    im->v[vcpu].icr_sent = false;
    struct trc_rec r = ftr_rec(im, TRC_EV_vmentry, vcpu);
    r.v[0].u = im->v[vcpu].rip;
    ftr_put(im, &r);
    ftr_flush_inj(im, vcpu, im->t, im->v[vcpu].rip);
    return 0;
}

static int exit_code(struct ftr_imp *im, const char *name, uint64_t *code)
{
    const struct ftr_name *e = ftr_name_find(ftr_svm_exits, ftr_nsvm_exits, name);
    if (e) {
        *code = e->code;
        return 0;
    }
    struct ftr_cur c = {name};
    if (!strncmp(name, "0x", 2) && hexnum(&c, code) && !*c.p)
        return 0;
    return ftr_bad(im, "reason", "\"%s\" is not an SVM exit reason", name);
}

static int tp_exit(struct ftr_imp *im, struct ftr_cur *c, const struct ftr_line *l)
{
    int vcpu = -1;
    ftr_sp(c);
    if (!strncmp(c->p, "vcpu ", 5) && vcpu_field(im, c, l, "vcpu ", &vcpu) < 0)
        return -1; /* newer kernels print the vCPU, older ones do not */
    char name[64];
    uint64_t code, rip, i1 = 0, i2 = 0;
    if (!lit(c, "reason") || !word(c, name, sizeof(name), ""))
        return ftr_bad(im, "reason", "expected \"reason NAME\"");
    /* An exception intercept's name is two words: "PF excp". */
    if (lit(c, "excp"))
        snprintf(name + strlen(name), sizeof(name) - strlen(name), " excp");
    if (exit_code(im, name, &code) < 0)
        return -1;
    if (!lit(c, "rip") || !hexnum(c, &rip))
        return ftr_bad(im, "rip", "expected \"rip 0x...\"");
    if (lit(c, "info1")) {
        if (!hexnum(c, &i1) || !lit(c, "info2") || !hexnum(c, &i2))
            return ftr_bad(im, "info2", "expected \"info1 0x... info2 0x...\"");
    } else if (lit(c, "info") && (!hexnum(c, &i1) || !hexnum(c, &i2))) {
        return ftr_bad(im, "info", "expected \"info X Y\"");
    }
    if (vcpu < 0)
        ftr_need_thread(im, l, &vcpu);
    if (vcpu < 0)
        return 0;
    if (code == 0x403)
        im->scan.sev_es = true;
    im->v[vcpu].rip = rip;
    ftr_flush_apic(im, vcpu);
    im->v[vcpu].icr_sent = false;
    struct trc_rec r = ftr_rec(im, TRC_EV_vmexit, vcpu);
    r.v[0].u = code, r.v[1].u = i1, r.v[2].u = i2, r.v[3].u = rip;
    ftr_put(im, &r);
    return 0;
}

static void put_msr(struct ftr_imp *im, int vcpu, bool write, uint32_t msr, uint64_t val, bool gp)
{
    struct trc_rec r = ftr_rec(im, TRC_EV_msr, vcpu);
    r.v[0].s = write ? "wr" : "rd";
    r.v[1].u = msr;
    r.v[2].u = val;
    r.v[3].s = gp ? "gp" : "ok";
    ftr_put(im, &r);
}

/* The x2APIC MSR of a kvm_apic access held for vcpu, or 0. */
static uint32_t held_apic_msr(const struct ftr_imp *im, int vcpu)
{
    return im->v[vcpu].apic ? (uint32_t)im->v[vcpu].apic_rec.v[1].u : 0;
}

/*
 * One access, one event. KVM prints kvm_apic inside the register write
 * (kvm_lapic_reg_write) and kvm_msr after WRMSR/RDMSR completes
 * (kvm_emulate_wrmsr), so an intercepted x2APIC access shows both, in that
 * order, possibly with the IPI it sent in between; an access APICv/AVIC
 * accelerated or trapped shows kvm_apic only, and an access to another MSR
 * kvm_msr only. A kvm_msr line of the same vCPU, same register and direction,
 * and same value (the low 32 bits, which older kernels print) is the held
 * kvm_apic access again: one event, from kvm_msr (whole value, #GP result).
 */
static int tp_msr(struct ftr_imp *im, struct ftr_cur *c, const struct ftr_line *l)
{
    char op[16];
    uint64_t ecx, data;
    if (!word(c, op, sizeof(op), "") || (strcmp(op, "msr_read") && strcmp(op, "msr_write")))
        return ftr_bad(im, "op", "expected msr_read or msr_write");
    if (!hexnum(c, &ecx) || ecx > UINT32_MAX)
        return ftr_bad(im, "msr", "expected a 32-bit hex MSR number");
    if (!lit(c, "=") || !hexnum(c, &data))
        return ftr_bad(im, "value", "expected \"= 0x...\"");
    bool gp = lit(c, "(#GP)");
    int vcpu;
    ftr_need_thread(im, l, &vcpu);
    if (vcpu < 0)
        return 0;
    bool write = op[4] == 'w';
    struct ftr_vcpu *v = &im->v[vcpu];
    if (v->apic && held_apic_msr(im, vcpu) == ecx && !strcmp(v->apic_rec.v[0].s, write ? "wr" : "rd") &&
        (v->apic_rec.v[2].u & 0xFFFFFFFFu) == (data & 0xFFFFFFFFu)) {
        v->apic = false;
        im->st->apic_covered += im->emit;
    }
    ftr_flush_apic(im, vcpu);
    if (write && ecx == 0x830)
        v->icr_sent = true, v->icr = data;
    put_msr(im, vcpu, write, (uint32_t)ecx, data, gp);
    return 0;
}

void ftr_flush_apic(struct ftr_imp *im, int vcpu)
{
    struct ftr_vcpu *v = &im->v[vcpu];
    if (!v->apic)
        return;
    v->apic = false;
    ftr_put(im, &v->apic_rec);
}

static int apic_reg(struct ftr_imp *im, const char *name, uint32_t *off)
{
    const struct ftr_name *r = ftr_name_find(ftr_apic_regs, ftr_napic_regs, name);
    if (r) {
        *off = (uint32_t)r->code;
        return 0;
    }
    uint64_t v;
    struct ftr_cur c = {name};
    if (hexnum(&c, &v) && !*c.p && v < 0x1000) {
        *off = (uint32_t)v;
        return 0;
    }
    return ftr_bad(im, "reg", "\"%s\" is not an APIC register", name);
}

/* kvm_apic: the access as the x2APIC MSR it is (0x800 + offset / 16), held
 * until the vCPU's kvm_msr line of the same access (tp_msr) or anything else
 * of the vCPU's that ends the exit. An xAPIC ICR2 write is folded into the ICR
 * write. */
static int tp_apic(struct ftr_imp *im, struct ftr_cur *c, const struct ftr_line *l)
{
    char op[16], reg[32];
    uint64_t val;
    uint32_t off = 0;
    if (!word(c, op, sizeof(op), "") || (strcmp(op, "apic_read") && strcmp(op, "apic_write")))
        return ftr_bad(im, "op", "expected apic_read or apic_write");
    if (!word(c, reg, sizeof(reg), "") || apic_reg(im, reg, &off) < 0)
        return ftr_bad(im, "reg", "expected an APIC register name");
    if (!lit(c, "=") || !hexnum(c, &val))
        return ftr_bad(im, "value", "expected \"= 0x...\"");
    int vcpu;
    ftr_need_thread(im, l, &vcpu);
    if (vcpu < 0)
        return 0;
    bool write = op[5] == 'w';
    struct ftr_vcpu *v = &im->v[vcpu];
    ftr_flush_apic(im, vcpu);
    if (off == 0x310) {
        if (write)
            v->icr2 = val;
        return 0;
    }
    if (off == 0x300 && write && val <= UINT32_MAX)
        val |= (v->icr2 >> 24) << 32;
    if (off == 0x300 && write)
        v->icr_sent = true, v->icr = val;
    struct trc_rec r = ftr_rec(im, TRC_EV_msr, vcpu);
    r.v[0].s = write ? "wr" : "rd";
    r.v[1].u = 0x800 + (off >> 4);
    r.v[2].u = val;
    r.v[3].s = "ok";
    v->apic = true;
    v->apic_rec = r;
    return 0;
}

static int dm_of(struct ftr_imp *im, const char *name)
{
    for (int i = 0; i < 8; i++)
        if (!strcmp(ftr_kvm_dm[i], name))
            return i;
    return ftr_bad(im, "mode", "\"%s\" is not a delivery mode", name);
}

static int tp_ipi(struct ftr_imp *im, struct ftr_cur *c, const struct ftr_line *l)
{
    uint64_t dst, vec;
    char mode[16], dmode[16], lvl[16], trig[16], sh[16];
    if (!lit(c, "dst") || !hexnum(c, &dst) || dst > UINT32_MAX)
        return ftr_bad(im, "dst", "expected \"dst N\"");
    if (!lit(c, "vec") || !decnum(c, &vec) || vec > 255)
        return ftr_bad(im, "vec", "expected \"vec N\" below 256");
    if (!lit(c, "(") || !word(c, mode, sizeof(mode), "|") || !lit(c, "|") ||
        !word(c, dmode, sizeof(dmode), "|") || !lit(c, "|") || !word(c, lvl, sizeof(lvl), "|") ||
        !lit(c, "|") || !word(c, trig, sizeof(trig), "|") || !lit(c, "|") ||
        !word(c, sh, sizeof(sh), ")") || !lit(c, ")"))
        return ftr_bad(im, "mode", "expected \"(mode|dest mode|assert|trigger|shorthand)\"");
    int dm = dm_of(im, mode);
    static const char *const kvm_sh[4] = {"dst", "self", "all", "all-but-self"};
    static const char *const our_sh[4] = {"none", "self", "all", "others"};
    int s = -1;
    for (int i = 0; i < 4; i++)
        if (!strcmp(kvm_sh[i], sh))
            s = i;
    if (dm < 0)
        return -1;
    if (s < 0)
        return ftr_bad(im, "shorthand", "\"%s\" is not dst, self, all or all-but-self", sh);
    bool logical = !strcmp(dmode, "logical"), level = !strcmp(trig, "level");
    int vcpu;
    ftr_need_thread(im, l, &vcpu);
    if (vcpu < 0)
        return 0;
    struct ftr_held *h = ftr_held_of(im, l->pid);
    if (h)
        ftr_flush_ipi(im, h);
    for (int i = 0; !h && i < FTR_HELD; i++)
        if (!im->held[i].on)
            h = &im->held[i];
    if (!h) {
        h = &im->held[0];
        ftr_flush_ipi(im, h);
    }
    struct trc_rec r = ftr_rec(im, TRC_EV_ipi, vcpu);
    r.v[0].u = dst << 32 | vec | (uint64_t)dm << 8 | (uint64_t)logical << 11 |
               (uint64_t)!strcmp(lvl, "assert") << 14 | (uint64_t)level << 15 | (uint64_t)s << 18;
    r.v[1].u = vec;
    r.v[2].s = ftr_trc_dm[dm];
    r.v[3].s = logical ? "logical" : "physical";
    r.v[4].s = our_sh[s];
    r.v[5].u = dst;
    *h = (struct ftr_held){true, l->pid, vcpu, r, h->acc, 0, h->cap};
    return 0;
}

/* Whether the ICR write vCPU sender made in this exit sends this acceptance:
 * the same vector (for fixed and lowest-priority messages) and a destination
 * that takes in the accepting APIC (Intel SDM vol. 3 11.6.1 ICR fields). */
static bool icr_reaches(const struct ftr_vcpu *v, int sender, uint64_t apicid, uint64_t vec, int dm)
{
    if (!v->icr_sent || (int)(v->icr >> 8 & 7) != dm || (dm <= 1 && (v->icr & 0xFF) != vec))
        return false;
    switch (v->icr >> 18 & 3) {
    case 1: return apicid == (uint64_t)sender;                     /* self */
    case 2: return true;                                           /* all */
    case 3: return apicid != (uint64_t)sender;                     /* all but self */
    default: return (v->icr >> 11 & 1) || (v->icr >> 32) == apicid; /* logical: not decoded */
    }
}

static int tp_accept(struct ftr_imp *im, struct ftr_cur *c, const struct ftr_line *l)
{
    uint64_t apicid, vec;
    char mode[16], trig[16];
    if (!lit(c, "apicid") || !hexnum(c, &apicid))
        return ftr_bad(im, "apicid", "expected \"apicid N\"");
    if (!lit(c, "vec") || !decnum(c, &vec) || vec > 255)
        return ftr_bad(im, "vec", "expected \"vec N\" below 256");
    if (!lit(c, "(") || !word(c, mode, sizeof(mode), "|") || !lit(c, "|") ||
        !word(c, trig, sizeof(trig), ")") || !lit(c, ")"))
        return ftr_bad(im, "mode", "expected \"(mode|trigger)\"");
    int dm = dm_of(im, mode);
    if (dm < 0 || ftr_check_vcpu(im, apicid, "apicid") < 0) /* vCPU i has APIC ID i */
        return -1;
    bool level = !strcmp(trig, "level");
    struct ftr_vcpu *v = &im->v[apicid];
    if (level)
        v->tmr[vec / 64] |= 1ull << (vec % 64);
    else
        v->tmr[vec / 64] &= ~(1ull << (vec % 64));
    struct ftr_held *h = ftr_held_of(im, l->pid);
    struct trc_rec r = ftr_rec(im, TRC_EV_irq_accept, (int)apicid);
    r.v[0].u = vec;
    r.v[1].s = ftr_trc_dm[dm];
    r.v[2].s = level ? "level" : "edge";
    /* Without kvm_apic_ipi, an acceptance the sending thread prints between
     * its ICR write and its next entry is that IPI's (KVM sends synchronously). */
    struct ftr_line quiet = *l;
    quiet.positional = false;
    int sender = h ? h->sender : ftr_thread_vcpu(im, &quiet);
    if (!h && (sender < 0 || !icr_reaches(&im->v[sender], sender, apicid, vec, dm)))
        sender = -1;
    r.v[3].u = (uint64_t)(int64_t)sender;
    if (!h) {
        ftr_put(im, &r);
        return 0;
    }
    if (h->nacc == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 4;
        h->acc = realloc(h->acc, h->cap * sizeof(*h->acc));
        SNP_ASSERT(h->acc);
    }
    h->acc[h->nacc++] = r;
    return 0;
}

static int tp_eoi(struct ftr_imp *im, struct ftr_cur *c, const struct ftr_line *l)
{
    uint64_t apicid;
    int64_t vec;
    if (!lit(c, "apicid") || !hexnum(c, &apicid))
        return ftr_bad(im, "apicid", "expected \"apicid N\"");
    if (!lit(c, "vector") || !sdecnum(c, &vec) || vec < -1 || vec > 255)
        return ftr_bad(im, "vector", "expected \"vector N\" in -1..255");
    if (ftr_check_vcpu(im, apicid, "apicid") < 0) /* kvm_eoi prints the vcpu_id */
        return -1;
    ftr_learn(im, l->pid, (int)apicid);
    struct trc_rec r = ftr_rec(im, TRC_EV_eoi, (int)apicid);
    r.v[0].u = (uint64_t)vec;
    r.v[1].u = vec >= 0 && (im->v[apicid].tmr[vec / 64] >> (vec % 64) & 1);
    ftr_put(im, &r);
    return 0;
}

static int tp_inj_virq(struct ftr_imp *im, struct ftr_cur *c, const struct ftr_line *l)
{
    uint64_t vec;
    bool soft = false;
    if (lit(c, "irq")) {
        if (!decnum(c, &vec))
            return ftr_bad(im, "irq", "expected \"irq N\"");
    } else if (lit(c, "IRQ") || (soft = lit(c, "Soft/INTn"))) {
        if (!hexnum(c, &vec))
            return ftr_bad(im, "vector", "expected a hex vector");
    } else {
        return ftr_bad(im, "vector", "expected \"IRQ 0x...\", \"Soft/INTn 0x...\" or \"irq N\"");
    }
    if (vec > 255)
        return ftr_bad(im, "vector", "%" PRIu64 " is above 255", vec);
    int vcpu;
    ftr_need_thread(im, l, &vcpu);
    if (vcpu < 0)
        return 0;
    struct trc_rec r;
    if (soft) { /* INTn: the model traces it as an exception named INT */
        r = ftr_rec(im, TRC_EV_exception, vcpu);
        r.v[0].u = vec, r.v[1].s = "INT", r.v[2].u = 0, r.v[3].u = 0, r.v[5].u = 0;
    } else {
        r = ftr_rec(im, TRC_EV_irq_deliver, vcpu);
        r.v[0].u = vec, r.v[1].s = "fixed";
    }
    ftr_hold_inj(im, vcpu, &r);
    return 0;
}

static int tp_inj_exc(struct ftr_imp *im, struct ftr_cur *c, const struct ftr_line *l)
{
    char name[16];
    uint64_t vec = 32, code = 0;
    if (!word(c, name, sizeof(name), "("))
        return ftr_bad(im, "exception", "expected an exception name");
    for (unsigned i = 0; i < 32; i++)
        if (!strcmp(ftr_exc_names[i], name))
            vec = i;
    struct ftr_cur n = {name};
    if (vec == 32 && (!hexnum(&n, &vec) || *n.p || vec > 31))
        return ftr_bad(im, "exception", "\"%s\" is not an exception vector", name);
    bool has_error = lit(c, "(");
    if (has_error && (!hexnum(c, &code) || code > UINT32_MAX || !lit(c, ")")))
        return ftr_bad(im, "error_code", "expected \"(0x...)\"");
    int vcpu;
    ftr_need_thread(im, l, &vcpu);
    if (vcpu < 0)
        return 0;
    struct trc_rec r = ftr_rec(im, TRC_EV_exception, vcpu);
    r.v[0].u = vec, r.v[1].s = ftr_exc_names[vec], r.v[2].u = has_error, r.v[3].u = code;
    r.v[5].u = 0;
    ftr_hold_inj(im, vcpu, &r);
    return 0;
}

static int tp_pio(struct ftr_imp *im, struct ftr_cur *c, const struct ftr_line *l)
{
    char op[16];
    uint64_t port, size, count, val;
    if (!word(c, op, sizeof(op), "") || (strcmp(op, "pio_read") && strcmp(op, "pio_write")))
        return ftr_bad(im, "op", "expected pio_read or pio_write");
    if (!lit(c, "at") || !hexnum(c, &port) || port > 0xFFFF)
        return ftr_bad(im, "port", "expected \"at 0x...\" below 0x10000");
    if (!lit(c, "size") || !decnum(c, &size) || (size != 1 && size != 2 && size != 4))
        return ftr_bad(im, "size", "expected \"size 1\", 2 or 4");
    if (!lit(c, "count") || !decnum(c, &count))
        return ftr_bad(im, "count", "expected \"count N\"");
    if (!lit(c, "val") || !hexnum(c, &val) || val > UINT32_MAX)
        return ftr_bad(im, "value", "expected \"val 0x...\"");
    int vcpu;
    ftr_need_thread(im, l, &vcpu);
    if (vcpu < 0)
        return 0;
    if (count > 1)
        im->st->pio_repeat += im->emit;
    struct trc_rec r = ftr_rec(im, TRC_EV_pio, vcpu);
    r.v[0].s = op[4] == 'w' ? "out" : "in", r.v[1].u = port, r.v[2].u = size, r.v[3].u = val;
    ftr_put(im, &r);
    return 0;
}

static int tp_cpuid(struct ftr_imp *im, struct ftr_cur *c, const struct ftr_line *l)
{
    uint64_t f, idx = 0, regs[4];
    static const char *const key[4] = {"rax", "rbx", "rcx", "rdx"};
    if (!lit(c, "func") || !hexnum(c, &f) || f > UINT32_MAX)
        return ftr_bad(im, "func", "expected \"func N\"");
    if (lit(c, "idx") && (!hexnum(c, &idx) || idx > UINT32_MAX))
        return ftr_bad(im, "idx", "expected \"idx N\"");
    for (int i = 0; i < 4; i++)
        if (!lit(c, key[i]) || !hexnum(c, &regs[i]))
            return ftr_bad(im, key[i], "expected \"%s N\"", key[i]);
    int vcpu;
    ftr_need_thread(im, l, &vcpu);
    if (vcpu < 0)
        return 0;
    struct trc_rec r = ftr_rec(im, TRC_EV_cpuid, vcpu);
    r.v[0].u = f, r.v[1].u = idx;
    for (int i = 0; i < 4; i++)
        r.v[2 + i].u = regs[i] & 0xFFFFFFFFu;
    ftr_put(im, &r);
    return 0;
}

/* "vcpu N, exit_reason X, exit_info1 X, exit_info2 X" */
static int tp_vmgexit(struct ftr_imp *im, struct ftr_cur *c, const struct ftr_line *l)
{
    int vcpu;
    uint64_t code, i1, i2;
    if (vcpu_field(im, c, l, "vcpu ", &vcpu) < 0)
        return -1;
    if (!lit(c, ", exit_reason") || !hexnum(c, &code))
        return ftr_bad(im, "exit_reason", "expected \", exit_reason X\"");
    if (!lit(c, ", exit_info1") || !hexnum(c, &i1))
        return ftr_bad(im, "exit_info1", "expected \", exit_info1 X\"");
    if (!lit(c, ", exit_info2") || !hexnum(c, &i2))
        return ftr_bad(im, "exit_info2", "expected \", exit_info2 X\"");
    im->scan.sev_es = true;
    bool enter = !strcmp(l->event, "kvm_vmgexit_enter");
    struct trc_rec r = ftr_rec(im, enter ? TRC_EV_vmgexit : TRC_EV_vmgexit_result, vcpu);
    int k = 0;
    if (enter)
        r.v[k++].u = 0; /* the GHCB's address is not in the log */
    r.v[k++].u = code, r.v[k++].u = i1, r.v[k].u = i2;
    ftr_put(im, &r);
    return 0;
}

static int tp_msr_proto(struct ftr_imp *im, struct ftr_cur *c, const struct ftr_line *l)
{
    int vcpu;
    uint64_t gpa;
    int64_t result;
    if (vcpu_field(im, c, l, "vcpu ", &vcpu) < 0)
        return -1;
    if (!lit(c, ", ghcb_gpa") || !hexnum(c, &gpa))
        return ftr_bad(im, "ghcb_gpa", "expected \", ghcb_gpa X\"");
    im->scan.sev_es = true;
    struct ftr_vcpu *v = &im->v[vcpu];
    if (!strcmp(l->event, "kvm_vmgexit_msr_protocol_enter")) {
        if (v->ghcb && !im->emit)
            ftr_note(&im->st->incomplete, v->ghcb_line);
        v->ghcb = true;
        v->ghcb_req = gpa;
        v->ghcb_t = im->t;
        v->ghcb_line = im->line;
        return 0;
    }
    if (!lit(c, ", result") || !sdecnum(c, &result))
        return ftr_bad(im, "result", "expected \", result N\"");
    if (!v->ghcb) {
        if (!im->emit)
            ftr_note(&im->st->incomplete, im->line);
        return 0;
    }
    struct trc_rec r = ftr_rec(im, TRC_EV_ghcb_msr, vcpu);
    r.t = v->ghcb_t;
    r.v[0].u = v->ghcb_req, r.v[1].u = gpa;
    v->ghcb = false;
    ftr_put(im, &r);
    return 0;
}

static int tp_avic_ipi(struct ftr_imp *im, struct ftr_cur *c, const struct ftr_line *l)
{
    int vcpu;
    uint64_t hi, lo, id, index;
    if (vcpu_field(im, c, l, "vcpu=", &vcpu) < 0)
        return -1;
    if (!lit(c, ", icrh:icrl=") || !hexnum(c, &hi) || !lit(c, ":") || !hexnum(c, &lo) ||
        hi > UINT32_MAX || lo > UINT32_MAX)
        return ftr_bad(im, "icr", "expected \", icrh:icrl=X:Y\"");
    if (!lit(c, ", id=") || !decnum(c, &id))
        return ftr_bad(im, "id", "expected \", id=N\"");
    if (!lit(c, ", index=") || !decnum(c, &index))
        return ftr_bad(im, "index", "expected \", index=N\"");
    struct trc_rec r = ftr_rec(im, TRC_EV_avic_incomplete_ipi, vcpu);
    r.v[0].u = hi << 32 | lo, r.v[1].u = id, r.v[2].u = index;
    ftr_put(im, &r);
    return 0;
}

static int tp_avic_access(struct ftr_imp *im, struct ftr_cur *c, const struct ftr_line *l)
{
    int vcpu;
    uint64_t off, vec;
    char ft[16], rw[16];
    if (vcpu_field(im, c, l, "vcpu=", &vcpu) < 0)
        return -1;
    if (!lit(c, ", offset=") || !hexnum(c, &off) || off > 0xFFF)
        return ftr_bad(im, "offset", "expected \", offset=0x...\"");
    if (lit(c, "(")) /* the register's name */
        c->p += strcspn(c->p, ")") + (strchr(c->p, ')') ? 1 : 0);
    if (!lit(c, ",") || !word(c, ft, sizeof(ft), ",") || !lit(c, ",") ||
        !word(c, rw, sizeof(rw), ","))
        return ftr_bad(im, "trap", "expected \", trap|fault, read|write\"");
    if (!lit(c, ", vec=") || !hexnum(c, &vec))
        return ftr_bad(im, "vec", "expected \", vec=0x...\"");
    struct trc_rec r = ftr_rec(im, TRC_EV_avic_unaccelerated_access, vcpu);
    r.v[0].u = off, r.v[1].u = !strcmp(ft, "trap"), r.v[2].u = !strcmp(rw, "write");
    r.v[3].u = vec;
    ftr_put(im, &r);
    return 0;
}

static int tp_doorbell(struct ftr_imp *im, struct ftr_cur *c, const struct ftr_line *l)
{
    uint64_t vcpu, apicid;
    (void)l;
    if (!lit(c, "vcpuid=") || !decnum(c, &vcpu))
        return ftr_bad(im, "vcpuid", "expected \"vcpuid=N\"");
    if (!lit(c, ", apicid=") || !decnum(c, &apicid))
        return ftr_bad(im, "apicid", "expected \", apicid=N\"");
    if (ftr_check_vcpu(im, vcpu, "vcpuid") < 0) /* the target vCPU, not the thread's */
        return -1;
    struct trc_rec r = ftr_rec(im, TRC_EV_avic_doorbell, (int)vcpu);
    r.v[0].u = apicid;
    ftr_put(im, &r);
    return 0;
}

static int tp_rmp_fault(struct ftr_imp *im, struct ftr_cur *c, const struct ftr_line *l)
{
    int vcpu;
    uint64_t gpa, pfn, code;
    int64_t level, ret;
    if (vcpu_field(im, c, l, "vcpu ", &vcpu) < 0)
        return -1;
    if (!lit(c, "gpa") || !hexnum(c, &gpa))
        return ftr_bad(im, "gpa", "expected \"gpa X\"");
    if (!lit(c, "pfn") || !hexnum(c, &pfn))
        return ftr_bad(im, "pfn", "expected \"pfn 0x...\"");
    if (!lit(c, "error_code") || !hexnum(c, &code))
        return ftr_bad(im, "error_code", "expected \"error_code 0x...\"");
    if (!lit(c, "rmp_level") || !sdecnum(c, &level))
        return ftr_bad(im, "rmp_level", "expected \"rmp_level N\"");
    if (!lit(c, "psmash_ret") || !sdecnum(c, &ret))
        return ftr_bad(im, "psmash_ret", "expected \"psmash_ret N\"");
    im->scan.snp = true;
    snprintf(im->reason, sizeof(im->reason), "kvm: pfn 0x%" PRIx64 " rmp_level %" PRId64
             " psmash_ret %" PRId64, pfn, level, ret);
    /* #NPF error code: bit 1 write, bit 4 instruction fetch (APM vol. 2 15.25.6). */
    struct trc_rec r = ftr_rec(im, TRC_EV_rmp_fault, vcpu);
    r.v[0].s = "guest";
    r.v[1].s = code & (1u << 4) ? "fetch" : code & (1u << 1) ? "write" : "read";
    r.v[2].u = gpa, r.v[3].u = code, r.v[4].s = im->reason;
    ftr_put(im, &r);
    return 0;
}

static int tp_psc(struct ftr_imp *im, struct ftr_cur *c, const struct ftr_line *l)
{
    int vcpu;
    uint64_t pfn, gpa;
    int64_t level;
    char op[16];
    if (vcpu_field(im, c, l, "vcpu ", &vcpu) < 0)
        return -1;
    if (!lit(c, ", pfn") || !hexnum(c, &pfn))
        return ftr_bad(im, "pfn", "expected \", pfn X\"");
    if (!lit(c, ", gpa") || !hexnum(c, &gpa))
        return ftr_bad(im, "gpa", "expected \", gpa X\"");
    if (!lit(c, ", op") || !word(c, op, sizeof(op), ","))
        return ftr_bad(im, "op", "expected \", op private|shared\"");
    if (!lit(c, ", level") || !sdecnum(c, &level))
        return ftr_bad(im, "level", "expected \", level N\"");
    im->scan.snp = true;
    struct trc_rec r = ftr_rec(im, TRC_EV_psc, vcpu);
    r.v[0].u = gpa;
    r.v[1].s = !strcmp(op, "private") ? "private" : !strcmp(op, "shared") ? "shared" : "unknown";
    r.v[2].u = level >= 2; /* PG_LEVEL_2M */
    r.v[3].u = 0;
    ftr_put(im, &r);
    return 0;
}

static const struct {
    const char *name;
    tp_fn fn;
} tracepoints[] = {
    {"kvm_entry", tp_entry},
    {"kvm_exit", tp_exit},
    {"kvm_msr", tp_msr},
    {"kvm_apic", tp_apic},
    {"kvm_apic_ipi", tp_ipi},
    {"kvm_apic_accept_irq", tp_accept},
    {"kvm_apicv_accept_irq", tp_accept},
    {"kvm_eoi", tp_eoi},
    {"kvm_inj_virq", tp_inj_virq},
    {"kvm_inj_exception", tp_inj_exc},
    {"kvm_pio", tp_pio},
    {"kvm_cpuid", tp_cpuid},
    {"kvm_vmgexit_enter", tp_vmgexit},
    {"kvm_vmgexit_exit", tp_vmgexit},
    {"kvm_vmgexit_msr_protocol_enter", tp_msr_proto},
    {"kvm_vmgexit_msr_protocol_exit", tp_msr_proto},
    {"kvm_avic_incomplete_ipi", tp_avic_ipi},
    {"kvm_avic_unaccelerated_access", tp_avic_access},
    {"kvm_avic_doorbell", tp_doorbell},
    {"kvm_rmp_fault", tp_rmp_fault},
    {"kvm_snp_psc", tp_psc},
};


int ftr_tracepoint(struct ftr_imp *im, const struct ftr_line *l)
{
    for (size_t i = 0; i < ARRAY_SIZE(tracepoints); i++)
        if (!strcmp(tracepoints[i].name, l->event)) {
            struct ftr_cur c = {l->text};
            return tracepoints[i].fn(im, &c, l) < 0 ? -1 : 1;
        }
    return 0;
}
