/* SPDX-License-Identifier: MIT */
/*
 * traces/ftrace.c, line by line: each KVM tracepoint format (newer and older
 * kernels') becomes its catalogue event with the right fields; tracepoints that
 * print no vCPU are attributed through their thread; timestamps become cycles;
 * lines that are not known tracepoints are counted with their line numbers; a
 * malformed known tracepoint is an error naming the line and the field, with
 * nothing written. Files live in a mkdtemp directory that main() removes.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ftrace.h"
#include "ck_run.h"

static char tmpdir[] = "/tmp/snpref-test-ftrace-XXXXXX";

static struct ftr_scan seen;
static int header(void *ctx, const struct ftr_scan *scan, struct trc_header *h, int *status,
                  char *err, size_t errlen)
{
    (void)ctx, (void)status, (void)err, (void)errlen;
    seen = *scan;
    h->model = "test";
    h->fabric = "emulated";
    h->quantum = 1;
    h->config_json = "{}";
    return 0;
}

struct result {
    int rc, status;
    char err[512];
    struct ftr_stats st;
    struct trc_rec ev[64];
    char strs[64][TRC_MAX_FIELDS][96];
    size_t n;
    struct trc_header h;
};

static struct result R;

/* Imports log text at hz 1 GHz (1 cycle per ns) and reads the trace back. */
static int import_text(const char *log)
{
    char in[256], out[256];
    snprintf(in, sizeof(in), "%s/in.log", tmpdir);
    snprintf(out, sizeof(out), "%s/out.jsonl", tmpdir);
    unlink(out);
    FILE *f = fopen(in, "w");
    fputs(log, f);
    fclose(f);
    memset(&R, 0, sizeof(R));
    struct ftr_opts o = {1000000000, FTR_FMT_AUTO, false, false};
    R.rc = ftr_import(in, &o, header, NULL, out, NULL, &R.st, &R.status, R.err, sizeof(R.err));
    if (R.rc < 0)
        return R.rc;
    char err[512];
    struct trc_reader *rd = trc_reader_open(out, err, sizeof(err));
    ck_assert_msg(rd != NULL, "%s", err);
    R.h = *trc_reader_header(rd);
    struct trc_rec r;
    int k;
    while ((k = trc_reader_next(rd, &r, err, sizeof(err))) == 1) {
        ck_assert(R.n < 64);
        R.ev[R.n] = r;
        const struct trc_event_desc *d = &trc_catalogue[r.ev];
        for (unsigned i = 0; i < d->nfields; i++)
            if (d->fields[i].type == TRC_TYPE_S) {
                snprintf(R.strs[R.n][i], sizeof(R.strs[0][0]), "%s", r.v[i].s);
                R.ev[R.n].v[i].s = R.strs[R.n][i];
            }
        R.n++;
    }
    ck_assert_msg(k == 0, "%s", err);
    trc_reader_close(rd);
    return 0;
}

/* The first event named ev. */
static const struct trc_rec *first(const char *ev)
{
    for (size_t i = 0; i < R.n; i++)
        if (!strcmp(trc_catalogue[R.ev[i].ev].name, ev))
            return &R.ev[i];
    ck_abort_msg("no %s event", ev);
    return NULL;
}

#define L(ts, tp, text) " CPU 0/KVM-100 [001] " ts ": " tp ": " text "\n"
#define Q(ts, tp, text) " qemu-7 [001] " ts ": " tp ": " text "\n"
#define L1(ts, tp, text) " CPU 1/KVM-101 [002] " ts ": " tp ": " text "\n"

START_TEST(entry_and_exit_become_vmentry_and_vmexit_with_svm_codes)
{
    ck_assert_int_eq(import_text(L("10.000000", "kvm_entry", "vcpu 0, rip 0xffffffff81000000")
                                     L("10.000001", "kvm_exit",
                                       "vcpu 0 reason vmgexit rip 0x10 info1 0x0000000000000001 "
                                       "info2 0x0000000000000002 intr_info 0x00000000 error_code "
                                       "0x00000000")
                                         L("10.000002", "kvm_exit",
                                           "reason avic_unaccelerated_access rip 0x20 info 1 2")
                                             L("10.000003", "kvm_exit",
                                               "reason idle-halt rip 0x30 info1 0x0 info2 0x0")),
                     0);
    ck_assert_uint_eq(R.n, 4);
    ck_assert_uint_eq(R.ev[0].v[0].u, 0xffffffff81000000);
    ck_assert_uint_eq(R.ev[1].v[0].u, 0x403);
    ck_assert_uint_eq(R.ev[1].v[1].u, 1);
    ck_assert_uint_eq(R.ev[1].v[2].u, 2);
    ck_assert_uint_eq(R.ev[1].v[3].u, 0x10);
    ck_assert_uint_eq(R.ev[2].v[0].u, 0x402); /* older format: vCPU from the thread */
    ck_assert_uint_eq(R.ev[2].v[1].u, 1);
    ck_assert_uint_eq(R.ev[3].v[0].u, 0xa6);
    ck_assert_uint_eq(R.ev[3].t, 3000); /* 3 us at 1 GHz */
    ck_assert(seen.sev_es && !seen.snp);
}
END_TEST

/* kvm_exit prints an intercepted exception as SVM_EXIT_REASONS spells it,
 * "PF excp" (arch/x86/include/uapi/asm/svm.h), and SVM_EXIT_ERR as
 * invalid_guest_state. */
START_TEST(an_exception_intercept_exit_is_named_in_two_words_as_kvm_prints_it)
{
    ck_assert_int_eq(import_text(L("1.000000", "kvm_exit",
                                   "vcpu 0 reason PF excp rip 0x40 info1 0x0000000000000002 "
                                   "info2 0x00000000deadb000 intr_info 0x00000000 error_code "
                                   "0x00000000")
                                     L("1.000001", "kvm_exit", "vcpu 0 reason XF excp rip 0x41 "
                                       "info1 0x0 info2 0x0")
                                         L("1.000002", "kvm_exit", "vcpu 0 reason AC excp rip 0x42 "
                                           "info1 0x0 info2 0x0")
                                             L("1.000003", "kvm_exit", "vcpu 0 reason "
                                               "invalid_guest_state rip 0x43 info1 0x0 info2 0x0")),
                     0);
    ck_assert_uint_eq(R.n, 4);
    ck_assert_uint_eq(R.ev[0].v[0].u, 0x04e); /* SVM_EXIT_EXCP_BASE + 14 */
    ck_assert_uint_eq(R.ev[0].v[2].u, 0xdeadb000);
    ck_assert_uint_eq(R.ev[0].v[3].u, 0x40);
    ck_assert_uint_eq(R.ev[1].v[0].u, 0x053); /* + 19, XM_VECTOR, which KVM names XF */
    ck_assert_uint_eq(R.ev[2].v[0].u, 0x051);
    ck_assert_uint_eq(R.ev[3].v[0].u, 0xFFFFFFFFFFFFFFFFull);
    /* One word alone is no exit reason. */
    ck_assert_int_lt(import_text(L("1.0", "kvm_exit", "vcpu 0 reason PF rip 0x1 info1 0x0 info2 0x0")),
                     0);
}
END_TEST

START_TEST(msr_and_apic_lines_become_one_msr_event_each)
{
    ck_assert_int_eq(import_text(L("1.0", "kvm_apic", "apic_write APIC_TASKPRI = 0x20")
                                     L("1.1", "kvm_msr", "msr_write 808 = 0x20")
                                         L("1.2", "kvm_msr", "msr_read 831 = 0x0 (#GP)")),
                     0);
    ck_assert_uint_eq(R.n, 2);
    ck_assert_str_eq(R.ev[0].v[0].s, "wr");
    ck_assert_uint_eq(R.ev[0].v[1].u, 0x808);
    ck_assert_str_eq(R.ev[1].v[3].s, "gp");
    ck_assert_uint_eq(R.st.apic_covered, 1);
    /* Without kvm_msr lines, kvm_apic carries the access (ICR2 folded into ICR). */
    ck_assert_int_eq(import_text(L("1.0", "kvm_apic", "apic_write APIC_ICR2 = 0x3000000")
                                     L("1.1", "kvm_apic", "apic_write APIC_ICR = 0x4041")),
                     0);
    ck_assert_uint_eq(R.n, 1);
    ck_assert_uint_eq(R.ev[0].v[1].u, 0x830);
    ck_assert_uint_eq(R.ev[0].v[2].u, 0x300004041);
}
END_TEST

START_TEST(an_ipi_counts_the_acceptances_that_follow_it_in_its_thread)
{
    ck_assert_int_eq(
        import_text(L("1.0", "kvm_entry", "vcpu 0, rip 0x1")
                        L("1.1", "kvm_apic_ipi", "dst ffffffff vec 240 (Fixed|physical|assert|edge|all-but-self)")
                            L1("1.15", "kvm_entry", "vcpu 1, rip 0x1")
                                L("1.2", "kvm_apic_accept_irq", "apicid 1 vec 240 (Fixed|edge)")
                                    L("1.3", "kvm_apicv_accept_irq", "apicid 2 vec 240 (Fixed|edge)")
                                        L("1.4", "kvm_msr", "msr_write 830 = 0xffffffff000c40f0")
                                            L("1.5", "kvm_apic_accept_irq", "apicid 3 vec 34 (LowPrio|level)")),
        0);
    const struct trc_rec *ipi = first("ipi");
    ck_assert_uint_eq(ipi->v[6].u, 2);                        /* targets */
    ck_assert_uint_eq(ipi->v[0].u, 0xffffffff000c40f0);       /* icr */
    ck_assert_str_eq(ipi->v[4].s, "others");
    ck_assert_uint_eq(ipi->t, 100000000);
    /* Held until its thread moved on, the IPI still comes in time order. */
    ck_assert(R.ev[1].ev == TRC_EV_ipi && R.ev[2].ev == TRC_EV_vmentry && R.ev[2].vcpu == 1);
    ck_assert(R.ev[3].ev == TRC_EV_irq_accept);
    ck_assert_int_eq((int64_t)R.ev[3].v[3].u, 0); /* src: the sender */
    ck_assert_int_eq(R.ev[4].vcpu, 2);
    const struct trc_rec *dev = &R.ev[R.n - 1]; /* after the thread did something else */
    ck_assert_int_eq(dev->vcpu, 3);
    ck_assert_str_eq(dev->v[1].s, "lowest");
    ck_assert_str_eq(dev->v[2].s, "level");
    ck_assert_int_eq((int64_t)dev->v[3].u, -1);
    ck_assert_uint_eq(seen.vcpus, 4);
}
END_TEST

START_TEST(injections_are_delivered_at_the_next_entry_with_its_rip)
{
    ck_assert_int_eq(import_text(Q("1.0", "kvm_inj_virq", "IRQ 0x40")
                                     Q("1.1", "kvm_entry", "vcpu 0, rip 0x1234")
                                         Q("1.2", "kvm_inj_virq", "irq 65")
                                             Q("1.3", "kvm_entry", "vcpu 0, rip 0x2000")
                                                 Q("1.4", "kvm_inj_exception", "#PF (0x2)")
                                                     Q("1.5", "kvm_entry", "vcpu 0, rip 0x3000")
                                                         Q("1.6", "kvm_inj_virq", "Soft/INTn 0x80 [reinjected]")
                                                             Q("1.7", "kvm_entry", "vcpu 0, rip 0x4000")
                                                                 Q("1.8", "kvm_inj_exception", "0x1d")
                                                                     Q("1.9", "kvm_entry", "vcpu 0")),
                     0);
    /* The first line's thread has not named its vCPU yet: not attributable. */
    ck_assert_uint_eq(R.st.no_vcpu.count, 1);
    ck_assert_uint_eq(R.st.no_vcpu.first[0], 1);
    const struct trc_rec *d = first("irq_deliver");
    ck_assert_uint_eq(d->v[0].u, 65);
    ck_assert_uint_eq(d->v[2].u, 0x2000);
    ck_assert_uint_eq(d->t, 300000000);
    ck_assert(R.ev[1].ev == TRC_EV_vmentry && R.ev[2].ev == TRC_EV_irq_deliver);
    const struct trc_rec *pf = first("exception");
    ck_assert_str_eq(pf->v[1].s, "#PF");
    ck_assert_uint_eq(pf->v[2].u, 1);
    ck_assert_uint_eq(pf->v[3].u, 2);
    ck_assert_uint_eq(pf->v[4].u, 0x3000);
    ck_assert_str_eq(R.ev[6].v[1].s, "INT");
    ck_assert_uint_eq(R.ev[6].v[0].u, 0x80);
    ck_assert_str_eq(R.ev[8].v[1].s, "#VC");
    ck_assert_uint_eq(R.ev[8].v[2].u, 0);
    ck_assert_uint_eq(R.ev[8].v[4].u, 0x4000); /* an entry without rip keeps the last one */
}
END_TEST

/* Found by fuzz_ftrace: an injection no entry followed was written at its own
 * time after later events had been written, and the trace went back in time. */
START_TEST(an_injection_without_its_entry_is_written_in_time_order)
{
    ck_assert_int_eq(import_text(L("1.0", "kvm_entry", "vcpu 0, rip 0x1")
                                     L("1.1", "kvm_inj_virq", "IRQ 0x40")
                                         L1("1.2", "kvm_entry", "vcpu 1, rip 0x1")
                                             L1("1.3", "kvm_msr", "msr_write 80b = 0x0")
                                                 L("1.4", "kvm_inj_virq", "IRQ 0x41")),
                     0); /* the reader checks the order */
    ck_assert_uint_eq(R.n, 5);
    ck_assert(R.ev[1].ev == TRC_EV_irq_deliver && R.ev[1].t == 100000000);
    ck_assert(R.ev[4].ev == TRC_EV_irq_deliver && R.ev[4].v[0].u == 0x41);
}
END_TEST

START_TEST(eoi_takes_its_trigger_from_the_last_acceptance)
{
    ck_assert_int_eq(import_text(L("1.0", "kvm_apic_accept_irq", "apicid 0 vec 48 (Fixed|level)")
                                     L("1.1", "kvm_eoi", "apicid 0 vector 48")
                                         L("1.2", "kvm_eoi", "apicid 0 vector -1")),
                     0);
    ck_assert_uint_eq(R.ev[1].v[1].u, 1);
    ck_assert_int_eq((int64_t)R.ev[2].v[0].u, -1);
    ck_assert_uint_eq(R.ev[2].v[1].u, 0);
}
END_TEST

START_TEST(pio_cpuid_and_the_sev_tracepoints_map_their_fields)
{
    ck_assert_int_eq(
        import_text(
            L("1.0", "kvm_entry", "vcpu 0, rip 0x1")
                L("1.1", "kvm_pio", "pio_read at 0x3fd size 1 count 1 val 0x60 ")
                    L("1.2", "kvm_pio", "pio_write at 0x3f8 size 1 count 8 val 0x41 (...)")
                        L("1.3", "kvm_cpuid", "func 8000001f rax 1 rbx 2 rcx 3 rdx 4")
                            L("1.4", "kvm_vmgexit_enter", "vcpu 0, exit_reason 7b, exit_info1 3f80010, exit_info2 0")
                                L("1.5", "kvm_vmgexit_exit", "vcpu 0, exit_reason 7b, exit_info1 0, exit_info2 0")
                                    L("1.6", "kvm_vmgexit_msr_protocol_enter", "vcpu 0, ghcb_gpa 0000000000000014")
                                        L("1.7", "kvm_vmgexit_msr_protocol_exit", "vcpu 0, ghcb_gpa 0000000000000015, result 1")
                                            L("1.8", "kvm_rmp_fault", "vcpu 0 gpa 0000000000100000 pfn 0x99 error_code 0x80000003 rmp_level 1 psmash_ret 0")
                                                L("1.9", "kvm_snp_psc", "vcpu 0, pfn 99, gpa 200000, op private, level 2")
                                                    L("2.0", "kvm_avic_incomplete_ipi", "vcpu=0, icrh:icrl=0x00000002:000040f0, id=1, index=2")
                                                        L("2.1", "kvm_avic_unaccelerated_access", "vcpu=0, offset=0x380(APIC_TMICT), fault, read, vec=0x0")
                                                            L("2.2", "kvm_avic_doorbell", "vcpuid=0, apicid=7")),
        0);
    const struct trc_rec *p = first("pio");
    ck_assert_str_eq(p->v[0].s, "in");
    ck_assert_uint_eq(p->v[1].u, 0x3fd);
    ck_assert_uint_eq(R.st.pio_repeat, 1);
    const struct trc_rec *c = first("cpuid");
    ck_assert_uint_eq(c->v[0].u, 0x8000001f);
    ck_assert_uint_eq(c->v[1].u, 0);
    ck_assert_uint_eq(c->v[5].u, 4);
    ck_assert_uint_eq(first("vmgexit")->v[2].u, 0x3f80010);
    ck_assert_uint_eq(first("vmgexit_result")->v[0].u, 0x7b);
    ck_assert_uint_eq(first("ghcb_msr")->v[0].u, 0x14);
    ck_assert_uint_eq(first("ghcb_msr")->v[1].u, 0x15);
    ck_assert_uint_eq(first("ghcb_msr")->t, 600000000);
    const struct trc_rec *f = first("rmp_fault");
    ck_assert_str_eq(f->v[1].s, "write");
    ck_assert_uint_eq(f->v[2].u, 0x100000);
    const struct trc_rec *s = first("psc");
    ck_assert_str_eq(s->v[1].s, "private");
    ck_assert_uint_eq(s->v[2].u, 1);
    ck_assert_uint_eq(first("avic_incomplete_ipi")->v[0].u, 0x2000040f0);
    const struct trc_rec *u = first("avic_unaccelerated_access");
    ck_assert_uint_eq(u->v[0].u, 0x380);
    ck_assert(!u->v[1].u && !u->v[2].u);
    ck_assert_uint_eq(first("avic_doorbell")->v[0].u, 7);
    ck_assert(seen.snp);
}
END_TEST

START_TEST(raw_ftrace_lines_with_flags_and_integer_clocks_import)
{
    ck_assert_int_eq(import_text("# tracer: nop\n#\n"
                                 "  qemu-kvm-9 [003] d..2. 77.000000: kvm_entry: vcpu 2, rip 0x1\n"
                                 "  qemu-kvm-9 [003] ....  77.000010: kvm_msr: msr_write 80b = 0x0\n"),
                     0);
    ck_assert_uint_eq(R.n, 2);
    ck_assert_int_eq(R.ev[1].vcpu, 2); /* the thread named its vCPU */
    ck_assert_uint_eq(R.ev[1].t, 10000);
    ck_assert_uint_eq(R.st.comments, 2);
    ck_assert_uint_eq(seen.vcpus, 3);
    ck_assert_int_eq(import_text(L("5000", "kvm_entry", "vcpu 0, rip 0x1")
                                     L("5123", "kvm_entry", "vcpu 0, rip 0x1")),
                     0);
    ck_assert_uint_eq(R.ev[1].t, 123); /* ticks are cycles */
}
END_TEST

START_TEST(unknown_and_unparsed_lines_are_counted_with_their_line)
{
    ck_assert_int_eq(import_text(L("1.0", "kvm_entry", "vcpu 0, rip 0x1")
                                     L("1.1", "kvm_fpu", "load")
                                         L("1.2", "kvm_fpu", "unload")
                                             "garbage here\n"
                                             "CPU:1 [LOST 5 EVENTS]\n"
                                                 L("1.0", "kvm_entry", "vcpu 0, rip 0x1")),
                     0);
    ck_assert_uint_eq(R.st.nunknown, 1);
    ck_assert_str_eq(R.st.unknown[0].name, "kvm_fpu");
    ck_assert_uint_eq(R.st.unknown[0].at.count, 2);
    ck_assert_uint_eq(R.st.unknown[0].at.first[1], 3);
    ck_assert_uint_eq(R.st.unparsed.count, 1);
    ck_assert_uint_eq(R.st.unparsed.first[0], 4);
    ck_assert_uint_eq(R.st.lost.count, 1);
    ck_assert_uint_eq(R.st.clamped.count, 1); /* 1.0 after 1.2 */
    ck_assert_uint_eq(R.ev[1].t, 200000000);
    ck_assert_uint_eq(R.st.lines, 6);
    ck_assert_uint_eq(R.st.mapped, 2);
}
END_TEST

START_TEST(a_malformed_known_tracepoint_names_line_and_field_and_writes_nothing)
{
    static const struct {
        const char *text, *field;
    } bad[] = {
        {L("1.0", "kvm_msr", "msr_write 80b = 0xqq"), "value"},
        {L("1.0", "kvm_msr", "msr_frob 80b = 0x0"), "op"},
        {L("1.0", "kvm_exit", "vcpu 0 reason EXCEPTION_NMI rip 0x1 info1 0x0 info2 0x0"), "reason"},
        {L("1.0", "kvm_entry", "vcpu 256, rip 0x1"), "vcpu"},
        {L("1.0", "kvm_pio", "pio_write at 0x10000 size 1 count 1 val 0x0"), "port"},
        {L("1.0", "kvm_pio", "pio_write at 0x80 size 3 count 1 val 0x0"), "size"},
        {L("1.0", "kvm_apic_ipi", "dst 1 vec 2 (Bogus|physical|assert|edge|dst)"), "mode"},
        {L("1.0", "kvm_inj_exception", "#ZZ"), "exception"},
        {L("1.0", "kvm_eoi", "apicid 0 vector 256"), "vector"},
        {L("1.0", "kvm_snp_psc", "vcpu 0, pfn 1, gpa 2, op shared"), "level"},
        {L("1.0", "kvm_entry", "vcpu 0, rip 0x1") L("2", "kvm_entry", "vcpu 0, rip 0x1"), "timestamp"},
    };
    char out[256];
    snprintf(out, sizeof(out), "%s/out.jsonl", tmpdir);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[512];
        snprintf(text, sizeof(text), "# first line\n%s", bad[i].text);
        ck_assert_int_eq(import_text(text), -1);
        ck_assert_int_eq(R.status, 65);
        char want[64];
        unsigned line = strchr(strchr(text, '\n') + 1, '\n')[1] ? 3 : 2;
        snprintf(want, sizeof(want), ".log:%u: field '%s':", line, bad[i].field);
        ck_assert_msg(strstr(R.err, want), "%zu: %s (want %s)", i, R.err, want);
        struct stat st;
        ck_assert(stat(out, &st) != 0);
    }
}
END_TEST

START_TEST(a_missing_log_is_status_66)
{
    struct ftr_opts o = {1, FTR_FMT_AUTO, false, false};
    struct ftr_stats st;
    int status;
    char err[256];
    ck_assert(ftr_import("/nonexistent.log", &o, header, NULL, NULL, stdout, &st, &status, err,
                         sizeof(err)) < 0);
    ck_assert_int_eq(status, 66);
    ck_assert(strstr(err, "/nonexistent.log"));
}
END_TEST


START_TEST(each_apic_or_msr_line_is_one_access_whichever_the_log_has)
{
    /* kvm_apic then its kvm_msr: one event (from kvm_msr); a kvm_apic EOI with
     * no kvm_msr (accelerated): its own event; a kvm_msr of another MSR: its own. */
    ck_assert_int_eq(import_text(L("1.0", "kvm_exit", "vcpu 0 reason msr rip 0x1 info1 0x1 info2 0x0")
                                 L("1.1", "kvm_apic", "apic_write APIC_TASKPRI = 0x20")
                                 L("1.2", "kvm_msr", "msr_write 808 = 0x20")
                                 L("1.3", "kvm_entry", "vcpu 0, rip 0x3")
                                 L("1.4", "kvm_apic", "apic_write APIC_EOI = 0x0")
                                 L("1.5", "kvm_eoi", "apicid 0 vector -1")
                                 L("1.6", "kvm_msr", "msr_write c0000080 = 0xd01")
                                 L("1.7", "kvm_apic", "apic_read APIC_ID = 0x0")),
                     0);
    ck_assert_uint_eq(R.n, 7);
    ck_assert(R.ev[6].ev == TRC_EV_msr && R.ev[6].v[1].u == 0x802); /* flushed at the end */
    ck_assert(R.ev[1].ev == TRC_EV_msr && R.ev[1].v[1].u == 0x808 && R.ev[1].t == 200000000);
    ck_assert(R.ev[3].ev == TRC_EV_msr && R.ev[3].v[1].u == 0x80b && R.ev[3].t == 400000000);
    ck_assert(R.ev[4].ev == TRC_EV_eoi);
    ck_assert(R.ev[5].ev == TRC_EV_msr && R.ev[5].v[1].u == 0xc0000080);
    ck_assert_uint_eq(R.st.apic_covered, 1);
    ck_assert_int_eq(import_text(L("1.0", "kvm_apic", "apic_read APIC_ID = 0x0")), 0);
    ck_assert(R.n == 1 && R.ev[0].v[1].u == 0x802 && !strcmp(R.ev[0].v[0].s, "rd"));
}
END_TEST

START_TEST(an_acceptance_after_an_icr_write_in_the_same_exit_is_that_ipis)
{
    ck_assert_int_eq(import_text(L("1.0", "kvm_exit", "vcpu 0 reason msr rip 0x1 info1 0x1 info2 0x0")
                                 L("1.1", "kvm_msr", "msr_write 830 = 0x440b0")
                                 L("1.2", "kvm_apic_accept_irq", "apicid 0 vec 176 (Fixed|edge)")
                                 L("1.3", "kvm_apic_accept_irq", "apicid 0 vec 177 (Fixed|edge)")
                                 L("1.4", "kvm_entry", "vcpu 0, rip 0x3")
                                 L("1.5", "kvm_apic_accept_irq", "apicid 0 vec 176 (Fixed|edge)")),
                     0);
    ck_assert_int_eq((int64_t)R.ev[2].v[3].u, 0);  /* the self-IPI's */
    ck_assert_int_eq((int64_t)R.ev[3].v[3].u, -1); /* another vector: a device's */
    ck_assert_int_eq((int64_t)R.ev[5].v[3].u, -1); /* after the entry */
}
END_TEST

START_TEST(lines_without_a_thread_belong_to_the_last_vcpu_named)
{
    ck_assert_int_eq(import_text(" 220.696238: kvm_exit: vcpu 1 reason msr rip 0x1 info1 0x1 info2 0x0\n"
                                 " 220.696239: kvm_msr: msr_write 80b = 0x0\n"
                                 "220.696240: kvm:kvm_entry: vcpu 1, rip 0x3\n"),
                     0);
    /* The perf line is of another format than the file's (trace-cmd): not read. */
    ck_assert_uint_eq(R.n, 2);
    ck_assert_int_eq(R.ev[1].vcpu, 1);
    ck_assert_uint_eq(R.st.positional.count, 1);
    ck_assert_uint_eq(R.st.other_format, 1);
    ck_assert_int_eq(R.st.format, FTR_FMT_TRACECMD);
}
END_TEST

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    Suite *s = suite_create("ftrace");
    TCase *tc = tcase_create("import");
    tcase_add_test(tc, entry_and_exit_become_vmentry_and_vmexit_with_svm_codes);
    tcase_add_test(tc, an_exception_intercept_exit_is_named_in_two_words_as_kvm_prints_it);
    tcase_add_test(tc, msr_and_apic_lines_become_one_msr_event_each);
    tcase_add_test(tc, an_ipi_counts_the_acceptances_that_follow_it_in_its_thread);
    tcase_add_test(tc, injections_are_delivered_at_the_next_entry_with_its_rip);
    tcase_add_test(tc, an_injection_without_its_entry_is_written_in_time_order);
    tcase_add_test(tc, eoi_takes_its_trigger_from_the_last_acceptance);
    tcase_add_test(tc, pio_cpuid_and_the_sev_tracepoints_map_their_fields);
    tcase_add_test(tc, raw_ftrace_lines_with_flags_and_integer_clocks_import);
    tcase_add_test(tc, unknown_and_unparsed_lines_are_counted_with_their_line);
    tcase_add_test(tc, a_malformed_known_tracepoint_names_line_and_field_and_writes_nothing);
    tcase_add_test(tc, a_missing_log_is_status_66);
    tcase_add_test(tc, each_apic_or_msr_line_is_one_access_whichever_the_log_has);
    tcase_add_test(tc, an_acceptance_after_an_icr_write_in_the_same_exit_is_that_ipis);
    tcase_add_test(tc, lines_without_a_thread_belong_to_the_last_vcpu_named);
    suite_add_tcase(s, tc);
    int failed = ck_run(s, CK_RUN_FORK) != EXIT_SUCCESS;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        return 1;
    return failed ? 1 : 0;
}
