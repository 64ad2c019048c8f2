/* SPDX-License-Identifier: MIT */
/*
 * `snpref import ftrace` on hand-written KVM logs (tests/fixtures; issue 5,
 * docs/silicon-logs.md): a `trace-cmd report` log with a line of every
 * tracepoint the importer knows, plus unknown tracepoints, a lost-events note
 * and a line that is no tracepoint line; and a raw ftrace `trace` file with its
 * comment header and latency flags. They import into valid traces, the lines
 * not mapped are counted and listed, the imported traces replay, and a
 * malformed line of a known tracepoint stops the import with status 65 and
 * nothing written.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scn.h"
#include "ck_run.h"

#define REPORT SNPREF_SOURCE_DIR "/tests/fixtures/kvm_svm_report.txt"
#define RAW SNPREF_SOURCE_DIR "/tests/fixtures/kvm_raw_trace.txt"
#define FORMATS SNPREF_SOURCE_DIR "/tests/fixtures/formats/"
#define MIDRUN SNPREF_SOURCE_DIR "/tests/fixtures/kvm_selfipi_midrun.txt"
#define WRONGVEC SNPREF_SOURCE_DIR "/tests/fixtures/kvm_selfipi_wrongvec.txt"
#define INITIAL SNPREF_SOURCE_DIR "/tests/fixtures/kvm_selfipi_initial.json"

static char tmpdir[] = "/tmp/snpref-test-import-XXXXXX";

static bool exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* Imports log to tmpdir/name (through stdout, as a user would) and loads it. */
static void import(struct scn_run *r, const char *log, const char *name, const char *hz)
{
    char path[sizeof(r->trace_path)];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    if (hz)
        scn_run_tool(r, "import", "ftrace", log, "--hz", hz, "--out", path, NULL);
    else
        scn_run_tool(r, "import", "ftrace", log, "--out", path, NULL);
    ck_assert_msg(r->status == 0, "status %d: %s", r->status, r->err);
    snprintf(r->trace_path, sizeof(r->trace_path), "%s", path);
    char err[512];
    struct trc_reader *rd = trc_reader_open(path, err, sizeof(err));
    ck_assert_msg(rd != NULL, "%s", err);
    ck_assert_str_eq(trc_reader_header(rd)->fabric, "emulated");
    trc_reader_close(rd);
    scn_load_trace(r); /* as scn_run_guest does */
}

static unsigned header_vcpus(const char *path, char *mode, size_t len)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    ck_assert(fgets(line, sizeof(line), f));
    fclose(f);
    const char *m = strstr(line, "\"mode\":\"");
    ck_assert(m);
    snprintf(mode, len, "%.*s", (int)strcspn(m + 8, "\""), m + 8);
    return (unsigned)atoi(strstr(line, "\"vcpus\":") + 8);
}

START_TEST(every_known_tracepoint_of_the_fixture_becomes_its_event)
{
    struct scn_run r;
    import(&r, REPORT, "report.jsonl", NULL);
    static const char *const want[] = {
        "vmentry", "vmexit", "msr", "cpuid", "ipi", "irq_accept", "irq_deliver", "eoi",
        "exception", "pio", "vmgexit", "vmgexit_result", "ghcb_msr", "avic_incomplete_ipi",
        "avic_unaccelerated_access", "avic_doorbell", "rmp_fault", "psc",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        ck_assert_msg(scn_count(&r, want[i], -2) > 0, "no %s event", want[i]);
    char mode[16];
    ck_assert_uint_eq(header_vcpus(r.trace_path, mode, sizeof(mode)), 2);
    ck_assert_str_eq(mode, "snp"); /* RMP faults and page-state changes were seen */
    /* The IPI counts the acceptance KVM printed right after it, which names its sender. */
    size_t ipi = scn_find(&r, 0, "ipi", 0, NULL, 0);
    ck_assert_uint_eq(scn_u(&r.ev[ipi], "targets"), 1);
    ck_assert_uint_eq(scn_u(&r.ev[ipi], "icr"), 0x100000040);
    size_t acc = scn_find(&r, 0, "irq_accept", 1, "vector", 64);
    ck_assert_int_eq((int64_t)scn_u(&r.ev[acc], "src"), 0);
    /* The delivery carries the RIP of the entry that delivered it. */
    size_t d = scn_find(&r, 0, "irq_deliver", 1, "vector", 64);
    ck_assert_uint_eq(scn_u(&r.ev[d], "rip"), 0xffffffff81001300);
    size_t gp = scn_find(&r, 0, "exception", 0, "vector", 13);
    ck_assert_str_eq(scn_s(&r.ev[gp], "name"), "#GP");
    ck_assert_uint_eq(scn_u(&r.ev[gp], "has_error"), 1);
    size_t msr = scn_find(&r, 0, "msr", 0, "msr", 0x831);
    ck_assert_str_eq(scn_s(&r.ev[msr], "result"), "gp");
    size_t ex = scn_find(&r, 0, "vmexit", 0, "exit_code", 0x401);
    ck_assert(ex != SIZE_MAX && scn_find(&r, 0, "vmexit", 0, "exit_code", 0xa6) == SIZE_MAX);
    ck_assert(scn_find(&r, 0, "vmexit", 1, "exit_code", 0xa6) != SIZE_MAX); /* idle-halt */
    ck_assert(scn_find(&r, 0, "vmexit", 0, "exit_code", 0x400) != SIZE_MAX); /* npf */
    ck_assert(scn_find(&r, 0, "vmexit", 0, "exit_code", 0x402) != SIZE_MAX);
    ck_assert(scn_find(&r, 0, "vmexit", 0, "exit_code", 0x403) != SIZE_MAX);
    size_t g = scn_find(&r, 0, "ghcb_msr", 0, NULL, 0);
    ck_assert_uint_eq(scn_u(&r.ev[g], "request"), 0x4);
    ck_assert_uint_eq(scn_u(&r.ev[g], "response"), 0x8000c0010005);
    /* kvm_apic lines repeat what the kvm_msr lines carry: no duplicates. */
    ck_assert_uint_eq(scn_count_where(&r, "msr", 0, "msr", 0x80f), 1);
    scn_free(&r);
}
END_TEST

START_TEST(lines_it_does_not_know_are_counted_and_listed)
{
    struct scn_run r;
    import(&r, REPORT, "listed.jsonl", NULL);
    static const char *const unknown[] = {"kvm_fpu", "kvm_vcpu_wakeup", "kvm_page_fault",
                                          "sched_switch"};
    for (size_t i = 0; i < 4; i++) {
        char want[80];
        snprintf(want, sizeof(want), "unknown tracepoint %s", unknown[i]);
        ck_assert_msg(scn_has(r.err, want), "%s", r.err);
    }
    ck_assert(scn_has(r.err, "lines that are no tracepoint line"));
    ck_assert(scn_has(r.err, "(line 84)"));
    ck_assert(scn_has(r.err, "lost-events notes"));
    ck_assert(scn_has(r.err, "kvm_apic lines carried by kvm_msr lines"));
    scn_free(&r);
}
END_TEST

START_TEST(timestamps_become_cycles_at_the_given_rate)
{
    struct scn_run r;
    import(&r, REPORT, "hz.jsonl", NULL);
    /* 5120.000105 - 5120.000100 s at the default core_hz of 2 GHz. */
    ck_assert_uint_eq(r.ev[1].r.t, 10000);
    scn_free(&r);
    import(&r, REPORT, "hz1.jsonl", "1000000000");
    ck_assert_uint_eq(r.ev[1].r.t, 5000);
    FILE *f = fopen(r.trace_path, "r");
    char line[4096];
    ck_assert(fgets(line, sizeof(line), f));
    fclose(f);
    ck_assert(strstr(line, "\"core_hz\":1000000000"));
    scn_free(&r);
}
END_TEST

START_TEST(the_raw_ftrace_format_imports_and_attributes_threads)
{
    struct scn_run r;
    import(&r, RAW, "raw.jsonl", NULL);
    ck_assert(scn_has(r.err, "comments and trace-cmd banners"));
    /* The first kvm_exit names no vCPU and its thread had not named one yet. */
    ck_assert(scn_has(r.err, "tracepoints with no vCPU to attribute to") &&
              scn_has(r.err, "(line 13)"));
    ck_assert_uint_eq(scn_count(&r, "vmexit", -2), 0);
    ck_assert_uint_eq(scn_count(&r, "msr", 0), 3);
    size_t d = scn_find(&r, 0, "irq_deliver", 0, "vector", 49);
    ck_assert(d != SIZE_MAX);
    size_t c = scn_find(&r, 0, "cpuid", 0, NULL, 0);
    ck_assert_uint_eq(scn_u(&r.ev[c], "eax"), 0xd);
    char mode[16];
    ck_assert_uint_eq(header_vcpus(r.trace_path, mode, sizeof(mode)), 1);
    ck_assert_str_eq(mode, "plain");
    scn_free(&r);
}
END_TEST

START_TEST(an_imported_log_replays)
{
    const char *logs[2] = {REPORT, RAW};
    for (int i = 0; i < 2; i++) {
        struct scn_run r, p;
        import(&r, logs[i], i ? "replay-raw.jsonl" : "replay-report.jsonl", NULL);
        scn_run_tool(&p, "replay", r.trace_path, NULL);
        ck_assert_msg(p.status == 0, "%s: %s", logs[i], p.err);
        ck_assert(scn_has(p.err, "(partial)"));
        scn_free(&p);
        scn_free(&r);
    }
}
END_TEST

START_TEST(a_malformed_known_tracepoint_is_status_65_and_nothing_written)
{
    static const struct {
        const char *line, *field;
    } bad[] = {
        {" CPU 0/KVM-1 [000] 1.000001: kvm_msr: msr_write 80f = 0xzz\n", "value"},
        {" CPU 0/KVM-1 [000] 1.000001: kvm_exit: vcpu 0 reason frobnicate rip 0x1 info1 0x0 "
         "info2 0x0\n",
         "reason"},
        {" CPU 0/KVM-1 [000] 1.000001: kvm_entry: vcpu 999, rip 0x1\n", "vcpu"},
        {" CPU 0/KVM-1 [000] 1.0000x1: kvm_entry: vcpu 0, rip 0x1\n", "timestamp"},
        {" CPU 0/KVM-1 [000] 1.000001: kvm_apic_accept_irq: apicid 1 vec 300 (Fixed|edge)\n", "vec"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char log[300], out[300], tmp[310];
        snprintf(log, sizeof(log), "%s/bad%zu.log", tmpdir, i);
        snprintf(out, sizeof(out), "%s/bad%zu.jsonl", tmpdir, i);
        snprintf(tmp, sizeof(tmp), "%s.tmp", out);
        FILE *f = fopen(log, "w");
        fputs("# a comment\n CPU 0/KVM-1 [000] 1.000000: kvm_entry: vcpu 0, rip 0x1\n", f);
        fputs(bad[i].line, f);
        fclose(f);
        struct scn_run r;
        scn_run_tool(&r, "import", "ftrace", log, NULL);
        ck_assert_msg(r.status == 65, "%zu: status %d: %s", i, r.status, r.err);
        ck_assert_str_eq(r.out, ""); /* nothing on stdout */
        char want[400];
        snprintf(want, sizeof(want), "%s:3: field '%s'", log, bad[i].field);
        ck_assert_msg(scn_has(r.err, want), "%zu: %s", i, r.err);
        ck_assert_uint_eq((unsigned)(strchr(r.err, '\n') - r.err + 1), strlen(r.err));
        scn_free(&r);
        scn_run_tool(&r, "import", "ftrace", log, "--out", out, NULL);
        ck_assert_int_eq(r.status, 65);
        ck_assert(!exists(out) && !exists(tmp));
        scn_free(&r);
    }
}
END_TEST

START_TEST(a_missing_log_is_66_and_bad_options_64)
{
    struct scn_run r;
    scn_run_tool(&r, "import", "ftrace", "/nonexistent.log", NULL);
    ck_assert_int_eq(r.status, 66);
    ck_assert(scn_has(r.err, "/nonexistent.log"));
    scn_free(&r);
    scn_run_tool(&r, "import", "perf", REPORT, NULL);
    ck_assert_int_eq(r.status, 64);
    scn_free(&r);
    scn_run_tool(&r, "import", "ftrace", REPORT, "--hz", "12", NULL);
    ck_assert_int_eq(r.status, 64);
    scn_free(&r);
}
END_TEST


/* The whole file after its first line (the header), or NULL. */
static char *events_of(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f, "%s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = calloc(1, (size_t)n + 1);
    ck_assert(fread(buf, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    char *nl = strchr(buf, '\n');
    ck_assert(nl);
    memmove(buf, nl + 1, strlen(nl + 1) + 1);
    return buf;
}

START_TEST(every_format_of_the_same_log_imports_to_the_same_events)
{
    static const struct {
        const char *file, *format;
    } f[] = {
        {"tracecmd.txt", "trace-cmd"},  {"tracecmd_l.txt", "trace-cmd"},
        {"tracecmd_t.txt", "trace-cmd"}, {"tracecmd_tsc.txt", "trace-cmd"},
        {"raw.txt", "raw"},             {"noprefix.txt", "trace-cmd"},
        {"perf.txt", "perf"},           {"perf_noprefix.txt", "perf"},
    };
    char *want = NULL;
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        char log[512], name[64];
        snprintf(log, sizeof(log), FORMATS "%s", f[i].file);
        snprintf(name, sizeof(name), "fmt%zu.jsonl", i);
        struct scn_run r;
        import(&r, log, name, NULL);
        char fmt[80];
        snprintf(fmt, sizeof(fmt), "  %-44s %8s\n", "format", f[i].format);
        ck_assert_msg(strstr(r.err, fmt), "%s: %s", f[i].file, r.err);
        ck_assert_uint_eq(scn_count(&r, "vmexit", -2), 8);
        char *got = events_of(r.trace_path);
        if (!want)
            want = got;
        else {
            ck_assert_msg(!strcmp(want, got), "%s imports differently:\n%s\nfrom\n%s", f[i].file, got, want);
            free(got);
        }
        scn_free(&r);
    }
    /* Forced, a format the file is not in reads no tracepoint line. */
    struct scn_run r;
    scn_run_tool(&r, "import", "ftrace", FORMATS "perf.txt", "--format", "trace-cmd", NULL);
    ck_assert_int_eq(r.status, 65);
    ck_assert_msg(scn_has(r.err, "tracepoint lines of another format"), "%s", r.err);
    scn_free(&r);
    free(want);
}
END_TEST

static void write_log(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(a_log_that_maps_to_nothing_is_65_with_what_was_seen)
{
    static const struct {
        const char *text, *want;
    } logs[] = {
        {"hello\nthis is no ftrace output\n", "format not detected"},
        {" CPU 0/KVM-1 [000] 1.000000: kvm_fpu: load\n CPU 0/KVM-1 [000] 1.000001: sched_switch: x\n",
         "2 unknown tracepoints"},
    };
    for (size_t i = 0; i < 2; i++) {
        char log[300], out[300], js[300];
        snprintf(log, sizeof(log), "%s/empty%zu.log", tmpdir, i);
        snprintf(out, sizeof(out), "%s/empty%zu.jsonl", tmpdir, i);
        snprintf(js, sizeof(js), "%s/empty%zu.json", tmpdir, i);
        write_log(log, logs[i].text);
        struct scn_run r;
        scn_run_tool(&r, "import", "ftrace", log, "--out", out, "--summary-json", js, NULL);
        ck_assert_msg(r.status == 65, "%zu: %d %s", i, r.status, r.err);
        ck_assert_msg(scn_has(r.err, "no line maps to an event") && scn_has(r.err, logs[i].want),
                      "%s", r.err);
        ck_assert(scn_has(r.err, "not recognised: line 1"));
        ck_assert(!exists(out));
        FILE *f = fopen(js, "r");
        ck_assert(f);
        char buf[8192] = {0};
        ck_assert(fread(buf, 1, sizeof(buf) - 1, f) > 0);
        fclose(f);
        ck_assert_msg(strstr(buf, "\"result\":\t\"error\"") && strstr(buf, "\"lines\":\t2") &&
                          strstr(buf, "\"not_recognised\""),
                      "%s", buf);
        if (i == 1)
            ck_assert(strstr(buf, "\"kvm_fpu\""));
        scn_free(&r);
    }
}
END_TEST

START_TEST(strict_refuses_one_unknown_tracepoint_among_known_ones)
{
    char log[300];
    snprintf(log, sizeof(log), "%s/strict.log", tmpdir);
    write_log(log, " CPU 0/KVM-1 [000] 1.000000: kvm_entry: vcpu 0, rip 0x1\n"
                   " CPU 0/KVM-1 [000] 1.000001: kvm_fpu: load\n"
                   " CPU 0/KVM-1 [000] 1.000002: kvm_entry: vcpu 0, rip 0x1\n");
    struct scn_run r;
    scn_run_tool(&r, "import", "ftrace", log, NULL);
    ck_assert_int_eq(r.status, 0);
    scn_free(&r);
    scn_run_tool(&r, "import", "ftrace", log, "--strict", NULL);
    ck_assert_int_eq(r.status, 65);
    char want[400];
    snprintf(want, sizeof(want), "%s:2: field 'tracepoint': kvm_fpu", log);
    ck_assert_msg(scn_has(r.err, want), "%s", r.err);
    ck_assert_str_eq(r.out, "");
    scn_free(&r);
}
END_TEST

/* replay --out, then check the log against the replay's trace. */
static void pipeline(const char *log, const char *name, const char *initial, int want,
                     struct scn_run *rp, struct scn_run *ck)
{
    struct scn_run r;
    char in[256], out[256];
    snprintf(in, sizeof(in), "%s.jsonl", name);
    import(&r, log, in, NULL);
    snprintf(out, sizeof(out), "%s/%s-model.jsonl", tmpdir, name);
    if (initial)
        scn_run_tool(rp, "replay", r.trace_path, "--out", out, "--initial", initial, NULL);
    else
        scn_run_tool(rp, "replay", r.trace_path, "--out", out, NULL);
    ck_assert_msg(rp->status == want, "replay %s: %d %s", name, rp->status, rp->err);
    ck_assert_msg(exists(out), "%s: replay --out left nothing", name);
    char tmp[300];
    snprintf(tmp, sizeof(tmp), "%s.tmp", out);
    ck_assert(!exists(tmp));
    scn_run_tool(ck, "check", r.trace_path, out, NULL);
    ck_assert_msg(ck->status == want, "check %s: %d %s%s", name, ck->status, ck->out, ck->err);
    scn_free(&r);
}

START_TEST(a_mid_run_self_ipi_log_replays_and_checks_from_the_inferred_state)
{
    struct scn_run rp, ck;
    pipeline(MIDRUN, "midrun", NULL, 0, &rp, &ck);
    ck_assert_msg(scn_has(rp.err, "vCPU 0: x2APIC mode (APIC_BASE 0xfee00d00) assumed from an x2APIC "
                                  "MSR access at line 3"), "%s", rp.err);
    ck_assert(scn_has(rp.err, "vCPU 0: APIC software-enabled (SPIV 0x1ff) assumed from an interrupt "
                              "event at line 4"));
    ck_assert(scn_has(rp.err, "1 outcomes reproduced")); /* the self-IPI's acceptance */
    ck_assert(scn_has(ck.out, "agree"));
    scn_free(&rp);
    scn_free(&ck);
    /* The EOI, a kvm_apic line only, is an access of its own. */
    struct scn_run r;
    import(&r, MIDRUN, "midrun-eoi.jsonl", NULL);
    ck_assert_uint_eq(scn_count_where(&r, "msr", 0, "msr", 0x80b), 1);
    scn_free(&r);
}
END_TEST

START_TEST(a_mid_run_self_ipi_log_replays_and_checks_from_a_stated_state)
{
    struct scn_run rp, ck;
    pipeline(MIDRUN, "initial", INITIAL, 0, &rp, &ck);
    ck_assert(scn_has(rp.err, "initial APIC state from"));
    ck_assert(!scn_has(rp.err, "assumed"));
    scn_free(&rp);
    scn_free(&ck);
    /* A stated state the APIC refuses is the user's mistake: 65, naming the field. */
    char bad[300];
    snprintf(bad, sizeof(bad), "%s/bad-initial.json", tmpdir);
    write_log(bad, "{\"vcpus\": [{\"vcpu\": 0, \"x2apic\": {\"0x830\": \"0x1\"}}]}");
    struct scn_run r;
    import(&r, MIDRUN, "bad-initial.jsonl", NULL);
    scn_run_tool(&rp, "replay", r.trace_path, "--initial", bad, NULL);
    ck_assert_int_eq(rp.status, 65);
    ck_assert_msg(scn_has(rp.err, "field 'vcpus[0].x2apic.0x830'"), "%s", rp.err);
    scn_free(&rp);
    scn_free(&r);
}
END_TEST

START_TEST(a_wrong_vector_diverges_and_check_explains_it_from_the_replays_file)
{
    struct scn_run rp, ck;
    pipeline(WRONGVEC, "wrongvec", NULL, 1, &rp, &ck);
    ck_assert_msg(scn_has(rp.err, "the vCPU takes an event the fabric does not offer"), "%s", rp.err);
    ck_assert(scn_has(rp.err, "model state, vCPU 0: APIC_BASE 0xfee00d00 (x2APIC), SPIV 0x1ff"));
    ck_assert(scn_has(rp.err, "the fabric offers vCPU 0: fixed vector 176"));
    /* The replay's file is complete and says where it stopped. */
    char out[300];
    snprintf(out, sizeof(out), "%s/wrongvec-model.jsonl", tmpdir);
    FILE *f = fopen(out, "r");
    char line[4096], last[4096] = "";
    while (fgets(line, sizeof(line), f))
        snprintf(last, sizeof(last), "%s", line);
    fclose(f);
    ck_assert_msg(strstr(last, "\"ev\":\"diverged\",\"line\":6,\"reason\":\"the vCPU takes an event"),
                  "%s", last);
    ck_assert(scn_has(ck.out, "is a replay that stopped where it diverged, at line 6"));
    ck_assert_msg(scn_has(ck.out, "\"ev\":\"irq_deliver\",\"vector\":177"), "%s", ck.out);
    scn_free(&rp);
    scn_free(&ck);
}
END_TEST

START_TEST(replay_and_check_refuse_a_trace_with_nothing_they_compare)
{
    char log[300];
    snprintf(log, sizeof(log), "%s/entries.log", tmpdir);
    write_log(log, " CPU 0/KVM-1 [000] 1.000000: kvm_entry: vcpu 0, rip 0x1\n"
                   " CPU 0/KVM-1 [000] 1.000001: kvm_exit: vcpu 0 reason hlt rip 0x1 info1 0x0 info2 0x0\n");
    struct scn_run r, p;
    import(&r, log, "entries.jsonl", NULL);
    scn_run_tool(&p, "replay", r.trace_path, NULL);
    ck_assert_int_eq(p.status, 65);
    ck_assert_msg(scn_has(p.err, "no event the replay compares: 2 events"), "%s", p.err);
    scn_free(&p);
    scn_run_tool(&p, "check", r.trace_path, r.trace_path, "--events", "ipi,eoi", NULL);
    ck_assert_int_eq(p.status, 65);
    ck_assert_msg(scn_has(p.err, "no event of the kinds compared"), "%s", p.err);
    scn_free(&p);
    scn_free(&r);
}
END_TEST

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    Suite *s = suite_create("import");
    TCase *tc = tcase_create("ftrace");
    tcase_add_test(tc, every_known_tracepoint_of_the_fixture_becomes_its_event);
    tcase_add_test(tc, lines_it_does_not_know_are_counted_and_listed);
    tcase_add_test(tc, timestamps_become_cycles_at_the_given_rate);
    tcase_add_test(tc, the_raw_ftrace_format_imports_and_attributes_threads);
    tcase_add_test(tc, an_imported_log_replays);
    tcase_add_test(tc, a_malformed_known_tracepoint_is_status_65_and_nothing_written);
    tcase_add_test(tc, a_missing_log_is_66_and_bad_options_64);
    tcase_add_test(tc, every_format_of_the_same_log_imports_to_the_same_events);
    tcase_add_test(tc, a_log_that_maps_to_nothing_is_65_with_what_was_seen);
    tcase_add_test(tc, strict_refuses_one_unknown_tracepoint_among_known_ones);
    tcase_add_test(tc, a_mid_run_self_ipi_log_replays_and_checks_from_the_inferred_state);
    tcase_add_test(tc, a_mid_run_self_ipi_log_replays_and_checks_from_a_stated_state);
    tcase_add_test(tc, a_wrong_vector_diverges_and_check_explains_it_from_the_replays_file);
    tcase_add_test(tc, replay_and_check_refuse_a_trace_with_nothing_they_compare);
    suite_add_tcase(s, tc);
    int failed = ck_run(s, CK_RUN_FORK) != EXIT_SUCCESS;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        return 1;
    return failed ? 1 : 0;
}
