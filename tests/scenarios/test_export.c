/* SPDX-License-Identifier: MIT */
/*
 * `snpref export ftrace` (issue 11, docs/silicon-logs.md "Export"): every
 * scenario guest, in every mode it was written for (guests.tsv), runs; its
 * trace is exported as `trace-cmd report` text and imported back with `snpref
 * import ftrace --strict`; per vCPU and event kind the imported events are the
 * exported ones, every field the tracepoint carries equal, times equal counted
 * from the first exported event. The fields a tracepoint has no place for are
 * the documented table below, which the exporter's own table must match. A
 * hand-written trace with one event of each exported kind (some no guest
 * produces, like kvm_avic_incomplete_ipi) round-trips too; bad input is 64, 65
 * or 66 with nothing written.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ck_run.h"
#include "ftrace.h"
#include "scn.h"

static char tmpdir[] = "/tmp/snpref-test-export-XXXXXX";

/* The exported kinds and what their tracepoints cannot carry (docs/silicon-logs.md). */
static const struct {
    const char *ev;
    const char *lost[2];
    bool t_lost; /* an injection's time is the next kvm_entry's */
} covered[] = {
    {"vmentry", {0}, false},         {"vmexit", {0}, false},
    {"msr", {0}, false},             {"pio", {0}, false},
    {"cpuid", {0}, false},           {"ipi", {"targets"}, false},
    {"irq_accept", {"src"}, false},  {"eoi", {0}, false},
    {"irq_deliver", {"rip"}, true},  {"exception", {"rip", "cr2"}, true},
    {"vmgexit", {"ghcb"}, false},    {"vmgexit_result", {0}, false},
    {"ghcb_msr", {0}, false},        {"avic_incomplete_ipi", {0}, false},
    {"avic_unaccelerated_access", {0}, false}, {"avic_doorbell", {0}, false},
    {"rmp_fault", {"reason"}, false}, {"psc", {"result"}, false},
};
#define NCOVERED (sizeof(covered) / sizeof(covered[0]))

static int covered_index(enum trc_ev ev)
{
    for (unsigned i = 0; i < NCOVERED; i++)
        if (!strcmp(covered[i].ev, trc_catalogue[ev].name))
            return (int)i;
    return -1;
}

static uint32_t lost_mask(unsigned c)
{
    int ev = trc_event_by_name(covered[c].ev);
    ck_assert_int_ge(ev, 0);
    uint32_t m = 0;
    for (unsigned k = 0; k < 2 && covered[c].lost[k]; k++)
        for (unsigned f = 0; f < trc_catalogue[ev].nfields; f++)
            if (!strcmp(trc_catalogue[ev].fields[f].name, covered[c].lost[k]))
                m |= 1u << f;
    return m;
}

static bool str_is(const struct scn_event *e, const char *field, const char *v)
{
    return !strcmp(scn_s(e, field), v);
}

/* The events of covered kinds a tracepoint can say (docs/silicon-logs.md "Export"). */
static bool exported(const struct scn_event *e)
{
    if (e->r.vcpu < 0 || covered_index(e->r.ev) < 0)
        return false;
    if (scn_is(e, "irq_deliver"))
        return str_is(e, "kind", "fixed");
    if (scn_is(e, "rmp_fault"))
        return str_is(e, "who", "guest");
    if (scn_is(e, "psc"))
        return str_is(e, "op", "private") || str_is(e, "op", "shared");
    if (scn_is(e, "exception"))
        return scn_u(e, "vector") < 32 || str_is(e, "name", "INT");
    return true;
}

/* The n-th event of (vcpu, ev) at or after *from in r, or NULL; *from advances. */
static const struct scn_event *next_of(const struct scn_run *r, size_t *from, int vcpu,
                                       enum trc_ev ev, bool orig)
{
    for (; *from < r->nev; (*from)++) {
        const struct scn_event *e = &r->ev[*from];
        if (e->r.vcpu == vcpu && e->r.ev == ev && (!orig || exported(e))) {
            (*from)++;
            return e;
        }
    }
    return NULL;
}

/* slack: cycles a time may move (timestamps in nanoseconds: one each side) */
static void same_event(const char *what, const struct scn_event *a, const struct scn_event *b,
                       uint64_t t0, unsigned c, uint64_t slack)
{
    const struct trc_event_desc *d = &trc_catalogue[a->r.ev];
    uint32_t lost = lost_mask(c);
    uint64_t ta = a->r.t - t0, tb = b->r.t;
    if (!covered[c].t_lost)
        ck_assert_msg((ta > tb ? ta - tb : tb - ta) <= slack,
                      "%s: %s on vCPU %d at %llu: imported at %llu", what, d->name, a->r.vcpu,
                      (unsigned long long)ta, (unsigned long long)tb);
    for (unsigned f = 0; f < d->nfields; f++) {
        if (lost & (1u << f))
            continue;
        if (d->fields[f].type == TRC_TYPE_S)
            ck_assert_msg(!strcmp(a->r.v[f].s, b->r.v[f].s), "%s: %s.%s \"%s\" came back as \"%s\"",
                          what, d->name, d->fields[f].name, a->r.v[f].s, b->r.v[f].s);
        else
            ck_assert_msg(a->r.v[f].u == b->r.v[f].u, "%s: %s.%s %#llx came back as %#llx", what,
                          d->name, d->fields[f].name, (unsigned long long)a->r.v[f].u,
                          (unsigned long long)b->r.v[f].u);
    }
}

/* Exports orig's trace (seconds: timestamps in seconds at 2 GHz, else cycles),
 * imports it back (--strict: every line a known tracepoint) and compares;
 * returns the covered kinds seen (bit per covered[] entry). */
static uint32_t round_trip(const char *what, struct scn_run *orig, bool seconds)
{
    char txt[240], back[240];
    snprintf(txt, sizeof(txt), "%s/export.txt", tmpdir);
    snprintf(back, sizeof(back), "%s/back.jsonl", tmpdir);
    struct scn_run r;
    scn_run_tool(&r, "export", "ftrace", orig->trace_path, "--out", txt,
                 seconds ? "--seconds" : NULL, NULL);
    ck_assert_msg(r.status == 0, "%s: export %d: %s", what, r.status, r.err);
    scn_free(&r);
    struct scn_run imp;
    scn_run_tool(&imp, "import", "ftrace", txt, "--strict", "--out", back, "--hz", "2000000000",
                 NULL);
    ck_assert_msg(imp.status == 0, "%s: import %d: %s", what, imp.status, imp.err);
    free(imp.out), free(imp.err);
    imp.out = imp.err = NULL;
    snprintf(imp.trace_path, sizeof(imp.trace_path), "%s", back);
    scn_load_trace(&imp);
    uint64_t t0 = UINT64_MAX;
    for (size_t i = 0; i < orig->nev && t0 == UINT64_MAX; i++)
        if (exported(&orig->ev[i]))
            t0 = orig->ev[i].r.t;
    uint32_t seen = 0;
    size_t n_orig = 0;
    for (size_t i = 0; i < orig->nev; i++)
        n_orig += exported(&orig->ev[i]);
    ck_assert_msg(imp.nev == n_orig, "%s: %zu events exported, %zu imported", what, n_orig, imp.nev);
    int nv = 0;
    for (size_t i = 0; i < orig->nev; i++)
        nv = orig->ev[i].r.vcpu >= nv ? orig->ev[i].r.vcpu + 1 : nv;
    for (size_t i = 0; i < imp.nev; i++)
        nv = imp.ev[i].r.vcpu >= nv ? imp.ev[i].r.vcpu + 1 : nv;
    for (unsigned c = 0; c < NCOVERED; c++) {
        enum trc_ev ev = (enum trc_ev)trc_event_by_name(covered[c].ev);
        for (int vcpu = 0; vcpu < nv; vcpu++) {
            size_t fa = 0, fb = 0;
            const struct scn_event *a, *b;
            while ((a = next_of(orig, &fa, vcpu, ev, true))) {
                b = next_of(&imp, &fb, vcpu, ev, false);
                ck_assert_msg(b, "%s: a %s of vCPU %d did not come back", what, covered[c].ev, vcpu);
                same_event(what, a, b, t0, c, seconds ? 2 : 0);
                seen |= 1u << c;
            }
            ck_assert_msg(!next_of(&imp, &fb, vcpu, ev, false), "%s: an extra %s on vCPU %d", what,
                          covered[c].ev, vcpu);
        }
    }
    scn_free(&imp);
    return seen;
}

START_TEST(the_exporters_table_is_the_documented_one)
{
    for (int ev = 0; ev < TRC_EV_COUNT; ev++) {
        uint32_t lost;
        int c = covered_index((enum trc_ev)ev);
        bool cov = ftr_export_covers((enum trc_ev)ev, &lost);
        ck_assert_msg(cov == (c >= 0), "%s: exported %d, documented %d", trc_catalogue[ev].name, cov,
                      c >= 0);
        if (cov)
            ck_assert_msg(lost == lost_mask((unsigned)c), "%s: lost fields %#x, documented %#x",
                          trc_catalogue[ev].name, lost, lost_mask((unsigned)c));
    }
}
END_TEST

START_TEST(every_scenario_guests_trace_round_trips_through_export_and_import)
{
    char path[512], line[512];
    snprintf(path, sizeof(path), "%s/guests.tsv", SNPREF_GUEST_DIR);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f, "%s is missing", path);
    uint32_t seen = 0;
    unsigned runs = 0;
    while (fgets(line, sizeof(line), f)) {
        char name[64], modes[128];
        unsigned vcpus, status;
        if (sscanf(line, "%63s %u %u %127s", name, &vcpus, &status, modes) != 4)
            continue;
        for (char *save, *m = strtok_r(modes, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
            struct scn_run run;
            scn_run_guest_in(&run, name, m);
            ck_assert_msg(run.status == (int)status, "%s (%s): status %d: %s", name, m, run.status,
                          run.err);
            char what[128];
            snprintf(what, sizeof(what), "%s (%s)", name, m);
            seen |= round_trip(what, &run, false);
            scn_free(&run);
            runs++;
        }
    }
    fclose(f);
    ck_assert_uint_ge(runs, 80);
    /* Every exported kind but the AVIC incomplete IPI (no guest's hardware
     * leaves one to the hypervisor) came from some guest. */
    for (unsigned c = 0; c < NCOVERED; c++)
        if (strcmp(covered[c].ev, "avic_incomplete_ipi"))
            ck_assert_msg(seen & (1u << c), "no guest's trace has a %s", covered[c].ev);
}
END_TEST

/* One of each exported kind, written by hand (fields in catalogue order). */
static const char *const every_kind[] = {
    "{\"seq\":0,\"t\":10,\"vcpu\":0,\"ev\":\"vmexit\",\"exit_code\":\"0x403\",\"info1\":\"0x0\",\"info2\":\"0x0\",\"rip\":\"0x1000\"}",
    "{\"seq\":1,\"t\":10,\"vcpu\":0,\"ev\":\"vmgexit\",\"ghcb\":\"0x0\",\"exit_code\":\"0x80000010\",\"info1\":\"0x0\",\"info2\":\"0x0\"}",
    "{\"seq\":2,\"t\":11,\"vcpu\":0,\"ev\":\"psc\",\"gpa\":\"0x200000\",\"op\":\"shared\",\"size\":1,\"result\":\"0x0\"}",
    "{\"seq\":3,\"t\":12,\"vcpu\":0,\"ev\":\"vmgexit_result\",\"exit_code\":\"0x80000010\",\"info1\":\"0x0\",\"info2\":\"0x0\"}",
    "{\"seq\":4,\"t\":13,\"vcpu\":0,\"ev\":\"ghcb_msr\",\"request\":\"0x4\",\"response\":\"0x8000002100000005\"}",
    "{\"seq\":5,\"t\":14,\"vcpu\":1,\"ev\":\"avic_incomplete_ipi\",\"icr\":\"0x100004041\",\"id\":1,\"index\":3}",
    "{\"seq\":6,\"t\":15,\"vcpu\":1,\"ev\":\"avic_unaccelerated_access\",\"offset\":\"0x380\",\"trap\":true,\"write\":true,\"vector\":0}",
    "{\"seq\":7,\"t\":16,\"vcpu\":1,\"ev\":\"avic_doorbell\",\"apic_id\":1}",
    "{\"seq\":8,\"t\":17,\"vcpu\":1,\"ev\":\"rmp_fault\",\"who\":\"guest\",\"access\":\"write\",\"gpa\":\"0x5000\",\"error_code\":\"0x80000007\",\"reason\":\"x\"}",
    "{\"seq\":9,\"t\":18,\"vcpu\":0,\"ev\":\"msr\",\"op\":\"wr\",\"msr\":\"0x830\",\"value\":\"0x1000000ec\",\"result\":\"ok\"}",
    "{\"seq\":10,\"t\":18,\"vcpu\":0,\"ev\":\"ipi\",\"icr\":\"0x1000000ec\",\"vector\":236,\"mode\":\"fixed\",\"dest_mode\":\"physical\",\"shorthand\":\"none\",\"dest\":\"0x1\",\"targets\":1}",
    "{\"seq\":11,\"t\":19,\"vcpu\":0,\"ev\":\"vmentry\",\"rip\":\"0x1002\"}",
    "{\"seq\":12,\"t\":20,\"vcpu\":1,\"ev\":\"irq_accept\",\"vector\":236,\"mode\":\"fixed\",\"trigger\":\"level\",\"src\":0}",
    "{\"seq\":13,\"t\":21,\"vcpu\":1,\"ev\":\"irq_deliver\",\"vector\":236,\"kind\":\"fixed\",\"rip\":\"0x2000\"}",
    "{\"seq\":14,\"t\":22,\"vcpu\":1,\"ev\":\"exception\",\"vector\":13,\"name\":\"#GP\",\"has_error\":true,\"error_code\":\"0x18\",\"rip\":\"0x2004\",\"cr2\":\"0x0\"}",
    "{\"seq\":15,\"t\":23,\"vcpu\":1,\"ev\":\"vmexit\",\"exit_code\":\"0x7b\",\"info1\":\"0x5000210\",\"info2\":\"0x0\",\"rip\":\"0x2008\"}",
    "{\"seq\":16,\"t\":23,\"vcpu\":1,\"ev\":\"pio\",\"dir\":\"out\",\"port\":\"0x500\",\"size\":4,\"value\":\"0x7\"}",
    "{\"seq\":17,\"t\":24,\"vcpu\":1,\"ev\":\"cpuid\",\"leaf\":\"0x1\",\"subleaf\":\"0x0\",\"eax\":\"0xa20f10\",\"ebx\":\"0x800\",\"ecx\":\"0x1\",\"edx\":\"0x2\"}",
    "{\"seq\":18,\"t\":25,\"vcpu\":1,\"ev\":\"eoi\",\"vector\":236,\"level\":true}",
    "{\"seq\":19,\"t\":26,\"vcpu\":1,\"ev\":\"vmentry\",\"rip\":\"0x200a\"}",
};

START_TEST(one_event_of_every_exported_kind_round_trips)
{
    struct scn_run r = {0};
    snprintf(r.trace_path, sizeof(r.trace_path), "%s/every_kind.jsonl", tmpdir);
    FILE *f = fopen(r.trace_path, "w");
    ck_assert(f);
    fprintf(f, "{\"format\":\"snpref-trace\",\"version\":1,\"model\":\"snpref 0.1.0\",\"mode\":\"snp\","
               "\"vcpus\":2,\"fabric\":\"emulated\",\"quantum\":2000,\"config\":{\"mode\":\"snp\","
               "\"core_hz\":2000000000}}\n");
    for (size_t i = 0; i < sizeof(every_kind) / sizeof(every_kind[0]); i++)
        fprintf(f, "%s\n", every_kind[i]);
    fclose(f);
    scn_load_trace(&r);
    uint32_t seen = round_trip("every kind", &r, false);
    ck_assert_uint_eq(seen, (1u << NCOVERED) - 1);
    /* In seconds (trace-cmd report -t): each timestamp to the nanosecond, so a
     * time comes back within 2 cycles at 2 GHz. */
    ck_assert_uint_eq(round_trip("every kind, in seconds", &r, true), (1u << NCOVERED) - 1);
    /* The text is trace-cmd report's: a cpus= banner, then comm-pid [cpu] ts: name: text. */
    char txt[300];
    snprintf(txt, sizeof(txt), "%s/every_kind.txt", tmpdir);
    struct scn_run e;
    scn_run_tool(&e, "export", "ftrace", r.trace_path, NULL);
    ck_assert_int_eq(e.status, 0);
    ck_assert_msg(!strncmp(e.out, "cpus=2\n", 7), "%s", e.out);
    static const char *const want[] = {
        "CPU 0/KVM-1000  [000]           10: kvm_exit: vcpu 0 reason vmgexit rip 0x1000 info1 "
        "0x0000000000000000 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000\n",
        "kvm_vmgexit_enter: vcpu 0, exit_reason 80000010, exit_info1 0, exit_info2 0\n",
        "kvm_snp_psc: vcpu 0, pfn 0, gpa 200000, op shared, level 2\n",
        "kvm_vmgexit_msr_protocol_enter: vcpu 0, ghcb_gpa 0000000000000004\n",
        "kvm_vmgexit_msr_protocol_exit: vcpu 0, ghcb_gpa 8000002100000005, result 1\n",
        "kvm_avic_incomplete_ipi: vcpu=1, icrh:icrl=0x000001:00004041, id=1, index=3\n",
        "kvm_avic_unaccelerated_access: vcpu=1, offset=0x380(APIC_TMICT), trap, write, vec=0\n",
        "kvm_msr: msr_write 830 = 0x1000000ec\n",
        "kvm_apic_ipi: dst 1 vec 236 (Fixed|physical|de-assert|edge|dst)\n",
        "kvm_apic_accept_irq: apicid 1 vec 236 (Fixed|level)\n",
        "kvm_inj_virq: IRQ 0xec\n",
        "kvm_inj_exception: #GP (0x18)\n",
        "kvm_pio: pio_write at 0x500 size 4 count 1 val 0x7 \n",
        "kvm_eoi: apicid 1 vector 236\n",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        ck_assert_msg(scn_has(e.out, want[i]), "the export lacks \"%s\":\n%s", want[i], e.out);
    ck_assert(scn_has(e.err, "20 events, 21 tracepoint lines, 0 events with no KVM tracepoint"));
    scn_free(&e);
    scn_run_tool(&e, "export", "ftrace", r.trace_path, "--seconds", NULL);
    ck_assert_int_eq(e.status, 0);
    ck_assert_msg(scn_has(e.out, "CPU 1/KVM-1001  [001]      0.000000013: kvm_eoi: apicid 1 vector 236\n"),
                  "%s", e.out);
    scn_free(&e);
    scn_free(&r);
}
END_TEST

START_TEST(bad_input_is_64_65_66_and_nothing_is_written)
{
    char bad[300], out[300];
    snprintf(bad, sizeof(bad), "%s/bad.jsonl", tmpdir);
    snprintf(out, sizeof(out), "%s/never.txt", tmpdir);
    FILE *f = fopen(bad, "w");
    fprintf(f, "{\"format\":\"snpref-trace\",\"version\":1,\"model\":\"snpref 0.1.0\",\"mode\":\"plain\","
               "\"vcpus\":1,\"fabric\":\"emulated\",\"quantum\":2000,\"config\":{}}\n"
               "%s\n{\"seq\":1,\"t\":\"x\"}\n", "{\"seq\":0,\"t\":1,\"vcpu\":0,\"ev\":\"vmentry\",\"rip\":\"0x1\"}");
    fclose(f);
    struct scn_run r;
    scn_run_tool(&r, "export", "ftrace", bad, NULL);
    ck_assert_int_eq(r.status, 65);
    ck_assert_msg(scn_has(r.err, ":3: field 't'"), "%s", r.err);
    ck_assert_msg(!r.out[0], "wrote: %s", r.out); /* checked in full before a line goes out */
    scn_free(&r);
    scn_run_tool(&r, "export", "ftrace", bad, "--out", out, NULL);
    ck_assert_int_eq(r.status, 65);
    struct stat st;
    char tmp[310];
    snprintf(tmp, sizeof(tmp), "%s.tmp", out);
    ck_assert(stat(out, &st) != 0 && stat(tmp, &st) != 0);
    scn_free(&r);
    /* Seconds need the clock's rate: a config without core_hz is refused. */
    char nohz[300];
    snprintf(nohz, sizeof(nohz), "%s/nohz.jsonl", tmpdir);
    f = fopen(nohz, "w");
    fprintf(f, "{\"format\":\"snpref-trace\",\"version\":1,\"model\":\"snpref 0.1.0\",\"mode\":\"plain\","
               "\"vcpus\":1,\"fabric\":\"emulated\",\"quantum\":2000,\"config\":{}}\n"
               "{\"seq\":0,\"t\":1,\"vcpu\":0,\"ev\":\"vmentry\",\"rip\":\"0x1\"}\n");
    fclose(f);
    scn_run_tool(&r, "export", "ftrace", nohz, "--seconds", NULL);
    ck_assert_int_eq(r.status, 65);
    ck_assert_msg(scn_has(r.err, ":1: field 'config.core_hz': missing"), "%s", r.err);
    ck_assert(!r.out[0]);
    scn_free(&r);
    scn_run_tool(&r, "export", "ftrace", nohz, NULL);
    ck_assert_int_eq(r.status, 0);
    scn_free(&r);
    scn_run_tool(&r, "export", "ftrace", "/nonexistent.jsonl", NULL);
    ck_assert_int_eq(r.status, 66);
    scn_free(&r);
    scn_run_tool(&r, "export", "perf", bad, NULL);
    ck_assert_int_eq(r.status, 64);
    scn_free(&r);
    scn_run_tool(&r, "export", "ftrace", NULL);
    ck_assert_int_eq(r.status, 64);
    scn_free(&r);
}
END_TEST

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    Suite *s = suite_create("export");
    TCase *tc = tcase_create("ftrace");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, the_exporters_table_is_the_documented_one);
    tcase_add_test(tc, one_event_of_every_exported_kind_round_trips);
    tcase_add_test(tc, every_scenario_guests_trace_round_trips_through_export_and_import);
    tcase_add_test(tc, bad_input_is_64_65_66_and_nothing_is_written);
    suite_add_tcase(s, tc);
    return scn_run_suite(s, tmpdir);
}
