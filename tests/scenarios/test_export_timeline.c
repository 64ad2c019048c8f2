/* SPDX-License-Identifier: MIT */
/*
 * `snpref export perfetto|vcd`, `snpref stats` and `run --trace-events`
 * (issue 12): guests run with a trace, the outputs are checked by
 * check_export.py with code of its own (Debian's python3, standard library
 * only): the Chrome trace-event fields, nesting slices and IPI flow arrows;
 * a VCD read by its small parser whose IRR/ISR bits follow the trace's
 * irq_accept, irq_deliver and eoi events (and a mutilated one that does not
 * is caught); stats counts recounted from the events. A filtered trace holds
 * only the events named.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scn.h"
#include "ck_run.h"

#define CHECKER SNPREF_SOURCE_DIR "/tests/scenarios/check_export.py"

static const struct {
    const char *guest, *mode, *apic, *vcpus;
} runs[] = {
    {"ipi_smp", "plain", "emulated", "4"},
    {"irq_storm", "snp", "savic", "4"},
    {"savic_xipi", "snp", "savic-xipi", "3"},
};

static void run(struct scn_run *r, int i)
{
    scn_run_guest(r, runs[i].guest, "--mode", runs[i].mode, "--apic", runs[i].apic, "--vcpus",
                  runs[i].vcpus, NULL);
    ck_assert_msg(r->status == 0, "%s: %d\n%s", runs[i].guest, r->status, r->err);
}

/* `snpref ARGS` with stdout into path; returns its status. */
static int tool_to(const char *path, const char *a, const char *b, const char *c)
{
    struct scn_run t;
    scn_run_tool(&t, a, b, c, NULL);
    FILE *f = fopen(path, "w");
    ck_assert(f);
    fputs(t.out, f);
    fclose(f);
    int st = t.status;
    scn_free(&t);
    return st;
}

static int checker(const char *what, const char *trace, const char *out)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s %s %s", CHECKER, what, trace, out);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void out_path(char *buf, size_t len, const char *ext)
{
    snprintf(buf, len, "/tmp/snpref_export_%d.%s", (int)getpid(), ext);
}

START_TEST(perfetto_output_has_the_trace_event_fields_nesting_tracks_and_ipi_flows)
{
    struct scn_run r;
    run(&r, _i);
    char out[128];
    out_path(out, sizeof(out), "json");
    ck_assert_int_eq(tool_to(out, "export", "perfetto", r.trace_path), 0);
    ck_assert_int_eq(checker("perfetto", r.trace_path, out), 0);
    remove(out);
    scn_free(&r);
}
END_TEST

START_TEST(vcd_output_parses_and_its_irr_and_isr_follow_the_trace)
{
    struct scn_run r;
    run(&r, _i);
    char out[128], bad[160], cmd[512];
    out_path(out, sizeof(out), "vcd");
    ck_assert_int_eq(tool_to(out, "export", "vcd", r.trace_path), 0);
    ck_assert_int_eq(checker("vcd", r.trace_path, out), 0);
    /* The checker is not blind: without the first change of vCPU 1's ISR
     * (b1) the dump no longer matches the trace. */
    snprintf(bad, sizeof(bad), "%s.bad", out);
    snprintf(cmd, sizeof(cmd), "awk '/^b1+0* b1$/ && !d {d=1; next} {print}' %s > %s", out, bad);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(checker("vcd", r.trace_path, bad), 1);
    remove(out);
    remove(bad);
    scn_free(&r);
}
END_TEST

START_TEST(stats_numbers_match_an_independent_count_of_the_trace)
{
    struct scn_run r;
    run(&r, _i);
    char out[128];
    out_path(out, sizeof(out), "stats.json");
    ck_assert_int_eq(tool_to(out, "stats", "--json", r.trace_path), 0);
    ck_assert_int_eq(checker("stats", r.trace_path, out), 0);
    remove(out);
    struct scn_run t;
    scn_run_tool(&t, "stats", r.trace_path, NULL);
    ck_assert_int_eq(t.status, 0);
    ck_assert(scn_has(t.out, "IPI latency: "));
    ck_assert(scn_has(t.out, "irq_deliver"));
    scn_free(&t);
    scn_free(&r);
}
END_TEST

START_TEST(trace_events_records_only_the_events_named)
{
    struct scn_run r;
    scn_run_guest(&r, "ipi_smp", "--trace-events", "ipi,irq_deliver", NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_uint_gt(r.nev, 10);
    size_t ipis = 0;
    for (size_t i = 0; i < r.nev; i++) {
        ck_assert_msg(scn_is(&r.ev[i], "ipi") || scn_is(&r.ev[i], "irq_deliver"), "event %zu", i);
        ipis += scn_is(&r.ev[i], "ipi");
    }
    ck_assert_uint_gt(ipis, 0);
    ck_assert(scn_has(r.out, "ipi_smp: PASS")); /* the run itself is unchanged */
    FILE *f = fopen(r.trace_path, "r");
    char head[8192];
    ck_assert(f && fgets(head, sizeof(head), f));
    fclose(f);
    ck_assert(strstr(head, "\"events\":[\"ipi\",\"irq_deliver\"]") != NULL);
    scn_free(&r);
    struct scn_run t;
    scn_run_tool(&t, "run", "--trace", "/tmp/snpref_never.jsonl", "--trace-events", "ipi,nope", NULL);
    ck_assert_int_eq(t.status, 64);
    ck_assert(scn_has(t.err, "'nope' is no event"));
    ck_assert(access("/tmp/snpref_never.jsonl", F_OK) != 0);
    scn_free(&t);
    scn_run_tool(&t, "run", "--trace-events", "ipi", NULL);
    ck_assert_int_eq(t.status, 64);
    scn_free(&t);
}
END_TEST

START_TEST(bad_export_and_stats_command_lines_are_64_and_a_missing_trace_66)
{
    static const char *const bad[][3] = {
        {"export", "svg", "x.jsonl"}, {"export", "vcd", NULL}, {"stats", NULL, NULL},
        {"stats", "--bogus", "x.jsonl"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct scn_run t;
        scn_run_tool(&t, bad[i][0], bad[i][1], bad[i][2], NULL);
        ck_assert_msg(t.status == 64, "%s %s: %d", bad[i][0], bad[i][1], t.status);
        scn_free(&t);
    }
    struct scn_run t;
    scn_run_tool(&t, "export", "perfetto", "/tmp/snpref_no_such_trace.jsonl", NULL);
    ck_assert_int_eq(t.status, 66);
    scn_free(&t);
    scn_run_tool(&t, "stats", "/tmp/snpref_no_such_trace.jsonl", NULL);
    ck_assert_int_eq(t.status, 66);
    scn_free(&t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("export and stats");
    TCase *tc = tcase_create("export");
    tcase_set_timeout(tc, 300);
    int n = (int)(sizeof(runs) / sizeof(runs[0]));
    tcase_add_loop_test(tc, perfetto_output_has_the_trace_event_fields_nesting_tracks_and_ipi_flows,
                        0, n);
    tcase_add_loop_test(tc, vcd_output_parses_and_its_irr_and_isr_follow_the_trace, 0, n);
    tcase_add_loop_test(tc, stats_numbers_match_an_independent_count_of_the_trace, 0, n);
    tcase_add_test(tc, trace_events_records_only_the_events_named);
    tcase_add_test(tc, bad_export_and_stats_command_lines_are_64_and_a_missing_trace_66);
    suite_add_tcase(s, tc);
    return ck_run(s, CK_RUN_FORK);
}
