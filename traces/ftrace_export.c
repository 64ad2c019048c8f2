/* SPDX-License-Identifier: MIT */
/*
 * Exporting a trace as a KVM tracepoint log (`snpref export ftrace`,
 * docs/silicon-logs.md "Export"): each event that has a KVM tracepoint becomes
 * one line of `trace-cmd report` text, its TP_printk format as Linux
 * arch/x86/kvm/trace.h prints it (kvm_entry, kvm_exit, kvm_msr, kvm_pio,
 * kvm_cpuid, kvm_apic_ipi, kvm_apic_accept_irq, kvm_eoi, kvm_inj_virq,
 * kvm_inj_exception, kvm_vmgexit_enter/_exit, kvm_vmgexit_msr_protocol_enter/
 * _exit, kvm_avic_incomplete_ipi, kvm_avic_unaccelerated_access,
 * kvm_avic_doorbell; kvm_rmp_fault and kvm_snp_psc as the SNP hypervisor
 * series prints them), so scripts written for KVM logs read model runs and
 * `snpref import ftrace` reads the export back (ftrace_tp.c; the names come
 * from the same tables, ftrace_names.c).
 *
 * Every line is printed by the thread "CPU N/KVM" of its vCPU (QEMU's name),
 * pid 1000 + N, on host CPU N, with the event's time in cycles as the
 * timestamp: the integer clock of `trace-cmd record -C x86-tsc`; or, with
 * seconds, the time at the config's core_hz in seconds and nanoseconds, as
 * `trace-cmd report -t` prints the default clock.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftrace.h"
#include "ftrace_names.h"
#include "snpref/base.h"
#include "snpref/text.h"

typedef void (*exp_fn)(FILE *f, const struct trc_rec *r);

#define F(i) (r->v[i].u)

static const char *dm_kvm(const char *ours)
{
    for (int i = 0; i < 8; i++)
        if (!strcmp(ftr_trc_dm[i], ours))
            return ftr_kvm_dm[i];
    return "Res3";
}

/* "vcpu %u, rip 0x%lx" (TRACE_EVENT(kvm_entry)) */
static void x_entry(FILE *f, const struct trc_rec *r)
{
    fprintf(f, "kvm_entry: vcpu %d, rip 0x%" PRIx64 "\n", r->vcpu, F(0));
}

/* "vcpu %u reason %s%s%s rip 0x%lx info1 0x%016llx info2 0x%016llx intr_info
 * 0x%08x error_code 0x%08x" (kvm_exit): the reason by __print_symbolic over
 * SVM_EXIT_REASONS, which prints an unknown code in hex. */
static void x_exit(FILE *f, const struct trc_rec *r)
{
    const char *n = ftr_name_of(ftr_svm_exits, ftr_nsvm_exits, F(0));
    char hex[24];
    snprintf(hex, sizeof(hex), "0x%" PRIx64, F(0));
    fprintf(f,
            "kvm_exit: vcpu %d reason %s rip 0x%" PRIx64 " info1 0x%016" PRIx64 " info2 0x%016" PRIx64
            " intr_info 0x%08x error_code 0x%08x\n",
            r->vcpu, n ? n : hex, F(3), F(1), F(2), 0u, 0u);
}

/* "msr_%s %x = 0x%llx%s" (kvm_msr) */
static void x_msr(FILE *f, const struct trc_rec *r)
{
    fprintf(f, "kvm_msr: msr_%s %" PRIx64 " = 0x%" PRIx64 "%s\n",
            !strcmp(r->v[0].s, "wr") ? "write" : "read", F(1), F(2),
            !strcmp(r->v[3].s, "gp") ? " (#GP)" : "");
}

/* "pio_%s at 0x%x size %d count %d val 0x%x %s" (kvm_pio): one element each */
static void x_pio(FILE *f, const struct trc_rec *r)
{
    fprintf(f, "kvm_pio: pio_%s at 0x%" PRIx64 " size %" PRIu64 " count 1 val 0x%" PRIx64 " \n",
            !strcmp(r->v[0].s, "out") ? "write" : "read", F(1), F(2), F(3));
}

/* "func %x idx %x rax %lx rbx %lx rcx %lx rdx %lx, cpuid entry %s%s" (kvm_cpuid) */
static void x_cpuid(FILE *f, const struct trc_rec *r)
{
    fprintf(f,
            "kvm_cpuid: func %" PRIx64 " idx %" PRIx64 " rax %" PRIx64 " rbx %" PRIx64 " rcx %" PRIx64
            " rdx %" PRIx64 ", cpuid entry found\n",
            F(0), F(1), F(2), F(3), F(4), F(5));
}

/* "dst %x vec %u (%s|%s|%s|%s|%s)" (kvm_apic_ipi): from the ICR value */
static void x_ipi(FILE *f, const struct trc_rec *r)
{
    static const char *const sh[4] = {"dst", "self", "all", "all-but-self"};
    uint64_t icr = F(0);
    fprintf(f, "kvm_apic_ipi: dst %" PRIx64 " vec %u (%s|%s|%s|%s|%s)\n", icr >> 32,
            (unsigned)(icr & 0xFF), ftr_kvm_dm[icr >> 8 & 7], icr >> 11 & 1 ? "logical" : "physical",
            icr >> 14 & 1 ? "assert" : "de-assert", icr >> 15 & 1 ? "level" : "edge", sh[icr >> 18 & 3]);
}

/* "apicid %x vec %u (%s|%s)%s" (kvm_apic_accept_irq); vCPU i has APIC ID i */
static void x_accept(FILE *f, const struct trc_rec *r)
{
    fprintf(f, "kvm_apic_accept_irq: apicid %x vec %" PRIu64 " (%s|%s)\n", (unsigned)r->vcpu, F(0),
            dm_kvm(r->v[1].s), r->v[2].s);
}

/* "apicid %x vector %d" (kvm_eoi) */
static void x_eoi(FILE *f, const struct trc_rec *r)
{
    fprintf(f, "kvm_eoi: apicid %x vector %" PRId64 "\n", (unsigned)r->vcpu, (int64_t)F(0));
}

/* "%s 0x%x%s" (kvm_inj_virq): "IRQ" for an interrupt */
static void x_virq(FILE *f, const struct trc_rec *r)
{
    fprintf(f, "kvm_inj_virq: IRQ 0x%" PRIx64 "\n", F(0));
}

/* "%s%s%s%s%s" (kvm_inj_exception): the vector's name, " (code)"; a software
 * interrupt (the model's exception "INT") is kvm_inj_virq's "Soft/INTn". */
static void x_exception(FILE *f, const struct trc_rec *r)
{
    if (!strcmp(r->v[1].s, "INT")) {
        fprintf(f, "kvm_inj_virq: Soft/INTn 0x%" PRIx64 "\n", F(0));
        return;
    }
    fprintf(f, "kvm_inj_exception: %s", F(0) < 32 ? ftr_exc_names[F(0)] : "#?");
    if (F(2))
        fprintf(f, " (0x%" PRIx64 ")", F(3));
    fputc('\n', f);
}

/* "vcpu %u, exit_reason %llx, exit_info1 %llx, exit_info2 %llx" */
static void x_vmgexit(FILE *f, const struct trc_rec *r)
{
    fprintf(f, "kvm_vmgexit_enter: vcpu %d, exit_reason %" PRIx64 ", exit_info1 %" PRIx64
               ", exit_info2 %" PRIx64 "\n", r->vcpu, F(1), F(2), F(3));
}

static void x_vmgexit_result(FILE *f, const struct trc_rec *r)
{
    fprintf(f, "kvm_vmgexit_exit: vcpu %d, exit_reason %" PRIx64 ", exit_info1 %" PRIx64
               ", exit_info2 %" PRIx64 "\n", r->vcpu, F(0), F(1), F(2));
}

/* "vcpu %u, ghcb_gpa %016llx" and "vcpu %u, ghcb_gpa %016llx, result %lld":
 * the request and the answer, at the request's time. */
static void x_ghcb_msr(FILE *f, const struct trc_rec *r)
{
    fprintf(f, "kvm_vmgexit_msr_protocol_enter: vcpu %d, ghcb_gpa %016" PRIx64 "\n", r->vcpu, F(0));
}

static void x_ghcb_msr_exit(FILE *f, const struct trc_rec *r)
{
    fprintf(f, "kvm_vmgexit_msr_protocol_exit: vcpu %d, ghcb_gpa %016" PRIx64 ", result 1\n",
            r->vcpu, F(1));
}

/* "vcpu=%u, icrh:icrl=%#08x:%08x, id=%u, index=%u" */
static void x_avic_ipi(FILE *f, const struct trc_rec *r)
{
    fprintf(f, "kvm_avic_incomplete_ipi: vcpu=%d, icrh:icrl=%#08x:%08x, id=%" PRIu64 ", index=%" PRIu64 "\n",
            r->vcpu, (unsigned)(F(0) >> 32), (unsigned)F(0), F(1), F(2));
}

/* "vcpu=%u, offset=%#x(%s), %s, %s, vec=%#x" */
static void x_avic_access(FILE *f, const struct trc_rec *r)
{
    const char *n = ftr_name_of(ftr_apic_regs, ftr_napic_regs, F(0));
    fprintf(f, "kvm_avic_unaccelerated_access: vcpu=%d, offset=%#x(%s), %s, %s, vec=%#x\n", r->vcpu,
            (unsigned)F(0), n ? n : "??", F(1) ? "trap" : "fault", F(2) ? "write" : "read",
            (unsigned)F(3));
}

/* "vcpuid=%u, apicid=%u" */
static void x_doorbell(FILE *f, const struct trc_rec *r)
{
    fprintf(f, "kvm_avic_doorbell: vcpuid=%d, apicid=%" PRIu64 "\n", r->vcpu, F(0));
}

/* "vcpu %u gpa %llx pfn 0x%llx error_code 0x%llx rmp_level %d psmash_ret %d":
 * the model's trace has no host pfn or RMP level. */
static void x_rmp_fault(FILE *f, const struct trc_rec *r)
{
    fprintf(f, "kvm_rmp_fault: vcpu %d gpa %" PRIx64 " pfn 0x0 error_code 0x%" PRIx64
               " rmp_level 0 psmash_ret 0\n", r->vcpu, F(2), F(3));
}

/* "vcpu %u, pfn %llx, gpa %llx, op %s, level %d": level 2 is PG_LEVEL_2M */
static void x_psc(FILE *f, const struct trc_rec *r)
{
    fprintf(f, "kvm_snp_psc: vcpu %d, pfn 0, gpa %" PRIx64 ", op %s, level %d\n", r->vcpu, F(0),
            r->v[1].s, F(2) ? 2 : 1);
}

static bool is_(const struct trc_rec *r, int field, const char *v) { return !strcmp(r->v[field].s, v); }

/* Whether a tracepoint can say this one (the others of its kind are skipped). */
static bool exportable(const struct trc_rec *r)
{
    switch (r->ev) {
    case TRC_EV_irq_deliver: return is_(r, 1, "fixed"); /* NMIs: kvm_inj_nmi is not read */
    case TRC_EV_rmp_fault: return is_(r, 0, "guest");
    case TRC_EV_psc: return is_(r, 1, "private") || is_(r, 1, "shared");
    case TRC_EV_exception: return r->v[0].u < 32 || is_(r, 1, "INT");
    default: return true;
    }
}

/*
 * The kinds exported, their writers and the fields their tracepoints have no
 * place for (bit i: field i), which an import gives back as the importer's
 * stand-ins (docs/silicon-logs.md "Export").
 */
static const struct {
    enum trc_ev ev;
    exp_fn fn, second; /* second: a line that follows (the GHCB MSR protocol's exit) */
    uint32_t lost;
} exp_table[] = {
    {TRC_EV_vmentry, x_entry, NULL, 0},
    {TRC_EV_vmexit, x_exit, NULL, 0},
    {TRC_EV_msr, x_msr, NULL, 0},
    {TRC_EV_pio, x_pio, NULL, 0},
    {TRC_EV_cpuid, x_cpuid, NULL, 0},
    {TRC_EV_ipi, x_ipi, NULL, 1u << 6},              /* targets */
    {TRC_EV_irq_accept, x_accept, NULL, 1u << 3},    /* src */
    {TRC_EV_eoi, x_eoi, NULL, 0},
    {TRC_EV_irq_deliver, x_virq, NULL, 1u << 2},     /* rip: the next entry's */
    {TRC_EV_exception, x_exception, NULL, 1u << 4 | 1u << 5}, /* rip, cr2 */
    {TRC_EV_vmgexit, x_vmgexit, NULL, 1u << 0},      /* ghcb */
    {TRC_EV_vmgexit_result, x_vmgexit_result, NULL, 0},
    {TRC_EV_ghcb_msr, x_ghcb_msr, x_ghcb_msr_exit, 0},
    {TRC_EV_avic_incomplete_ipi, x_avic_ipi, NULL, 0},
    {TRC_EV_avic_unaccelerated_access, x_avic_access, NULL, 0},
    {TRC_EV_avic_doorbell, x_doorbell, NULL, 0},
    {TRC_EV_rmp_fault, x_rmp_fault, NULL, 1u << 4},  /* reason */
    {TRC_EV_psc, x_psc, NULL, 1u << 3},              /* result */
};

static int entry_of(enum trc_ev ev)
{
    for (size_t i = 0; i < ARRAY_SIZE(exp_table); i++)
        if (exp_table[i].ev == ev)
            return (int)i;
    return -1;
}

bool ftr_export_covers(enum trc_ev ev, uint32_t *lost_fields)
{
    int i = entry_of(ev);
    if (lost_fields)
        *lost_fields = i >= 0 ? exp_table[i].lost : 0;
    return i >= 0;
}

/* "comm-pid [cpu] timestamp: " as trace-cmd report prints it; hz 0: cycles */
static void prefix(FILE *f, const struct trc_rec *r, uint64_t hz)
{
    char comm[24];
    snprintf(comm, sizeof(comm), "CPU %d/KVM", r->vcpu);
    fprintf(f, " %16s-%-5d [%03d] ", comm, 1000 + r->vcpu, r->vcpu);
    if (!hz) {
        fprintf(f, "%12" PRIu64 ": ", r->t);
        return;
    }
    unsigned __int128 ns = ((unsigned __int128)(r->t % hz) * 1000000000u + hz / 2) / hz;
    uint64_t sec = r->t / hz + (uint64_t)(ns / 1000000000u);
    fprintf(f, "%6" PRIu64 ".%09" PRIu64 ": ", sec, (uint64_t)(ns % 1000000000u));
}

/* config.core_hz of the header, for timestamps in seconds; 0 with err if absent. */
static uint64_t header_hz(const char *path, const struct trc_header *h, char *err, size_t errlen)
{
    cJSON *c = cJSON_Parse(h->config_json);
    const cJSON *hz = cJSON_GetObjectItemCaseSensitive(c, "core_hz");
    double v = cJSON_IsNumber(hz) ? hz->valuedouble : 0;
    cJSON_Delete(c);
    if (v < 1 || v > 1e12 || v != (double)(uint64_t)v) {
        snprintf(err, errlen, "%s:1: field 'config.core_hz': %s: timestamps in seconds need it",
                 path, cJSON_IsNumber(hz) ? "not a frequency in Hz" : "missing");
        return 0;
    }
    return (uint64_t)v;
}

static int write_all(struct trc_reader *rd, FILE *f, uint64_t hz, struct ftr_export_stats *st,
                     char *err, size_t errlen)
{
    fprintf(f, "cpus=%u\n", trc_reader_header(rd)->vcpus);
    struct trc_rec r;
    int k;
    while ((k = trc_reader_next(rd, &r, err, errlen)) == 1) {
        st->events++;
        int i = entry_of(r.ev);
        if (i < 0 || r.vcpu < 0 || !exportable(&r)) {
            st->skipped++;
            continue;
        }
        prefix(f, &r, hz);
        exp_table[i].fn(f, &r);
        st->lines++;
        if (exp_table[i].second) {
            prefix(f, &r, hz);
            exp_table[i].second(f, &r);
            st->lines++;
        }
    }
    return k;
}

int ftr_export(const char *trace_path, const char *out_path, FILE *stream,
               const struct ftr_export_opts *o, struct ftr_export_stats *st, int *status, char *err,
               size_t errlen)
{
    memset(st, 0, sizeof(*st));
    struct trc_reader *rd = trc_reader_open_st(trace_path, status, err, errlen);
    if (!rd)
        return -1;
    /* Checked in full before a line goes out (stdout cannot be taken back). */
    struct trc_rec r;
    int k;
    while ((k = trc_reader_next(rd, &r, err, errlen)) == 1)
        ;
    trc_reader_close(rd);
    if (k < 0 || !(rd = trc_reader_open(trace_path, err, errlen)))
        return -1;
    uint64_t hz = 0;
    if (o->seconds && !(hz = header_hz(trace_path, trc_reader_header(rd), err, errlen))) {
        trc_reader_close(rd);
        return -1;
    }
    char tmp[4096];
    FILE *f = stream;
    if (out_path) {
        snprintf(tmp, sizeof(tmp), "%s.tmp", out_path);
        if (!(f = fopen(tmp, "w"))) {
            *status = 66;
            snprintf(err, errlen, "%s: cannot write: %s", out_path, strerror(errno));
            trc_reader_close(rd);
            return -1;
        }
    }
    k = write_all(rd, f, hz, st, err, errlen);
    trc_reader_close(rd);
    if (!out_path)
        return k < 0 ? -1 : 0;
    bool ok = fclose(f) == 0;
    if (k < 0 || !ok || rename(tmp, out_path) != 0) {
        if (k >= 0) {
            *status = 66;
            snprintf(err, errlen, "%s: cannot write: %s", out_path, strerror(errno));
        }
        remove(tmp);
        return -1;
    }
    return 0;
}
