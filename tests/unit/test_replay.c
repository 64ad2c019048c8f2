/* SPDX-License-Identifier: MIT */
/*
 * model/replay/replay.c on small traces written here with the default cost model
 * (self_ipi 60, device_msi 400, hlt_wakeup 800, quantum 2000 at CPI 1; the
 * LAPIC timer ticks every 20 cycles, divided by 2): a self-IPI, a LAPIC timer
 * expiry at a halted vCPU, the test interrupt device. Each consistent trace
 * replays; each single change (a vector, a time outside the model's window, a
 * value read, an outcome the trace lacks) is the first divergence, at its
 * line. Files live in a mkdtemp directory that main() removes.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "replay.h"
#include "ck_run.h"

static char tmpdir[] = "/tmp/snpref-test-replay-XXXXXX";

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Writes a one-vCPU trace: the header, then "t vcpu ,\"ev\":..." events. */
static const char *trace(const char *name, const char *const *ev, size_t n, const char *model)
{
    static char path[256];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    struct snp_config c;
    config_defaults(&c);
    c.vcpus = 1;
    char *cfg = config_to_json(&c);
    struct trc_header h = {model ? model : "snpref 0.1.0", "plain", 1, "emulated", 2000, cfg, NULL};
    char *hdr = trc_format_header(&h);
    FILE *f = fopen(path, "w");
    fprintf(f, "%s\n", hdr);
    for (size_t i = 0; i < n; i++) {
        unsigned long t;
        int vcpu, off;
        ck_assert(sscanf(ev[i], "%lu %d %n", &t, &vcpu, &off) == 2);
        fprintf(f, "{\"seq\":%zu,\"t\":%lu,\"vcpu\":%d,%s}\n", i, t, vcpu, ev[i] + off);
    }
    fclose(f);
    free(hdr);
    free(cfg);
    return path;
}

static struct replay_stats st;
static char report[8192];

/* Replays; the divergence report lands in `report`. */
static int replay(const char *path, int partial, const char *out)
{
    struct replay_opts o = {.trace_path = path, .partial = partial, .out_path = out};
    o.report = fmemopen(report, sizeof(report), "w");
    char err[512] = "";
    int rc = replay_run(&o, &st, err, sizeof(err));
    fclose(o.report);
    ck_assert_msg(rc <= 1, "status %d: %s", rc, err);
    return rc;
}

static const char *const selfipi[] = {
    "100 0 \"ev\":\"msr\",\"op\":\"wr\",\"msr\":\"0x80f\",\"value\":\"0x1ff\",\"result\":\"ok\"",
    "200 0 \"ev\":\"ipi\",\"icr\":\"0x40031\",\"vector\":49,\"mode\":\"fixed\",\"dest_mode\":\"physical\",\"shorthand\":\"self\",\"dest\":\"0x0\",\"targets\":1",
    "200 0 \"ev\":\"msr\",\"op\":\"wr\",\"msr\":\"0x83f\",\"value\":\"0x31\",\"result\":\"ok\"",
    "1000 0 \"ev\":\"irq_accept\",\"vector\":49,\"mode\":\"fixed\",\"trigger\":\"edge\",\"src\":0",
    "1200 0 \"ev\":\"irq_deliver\",\"vector\":49,\"kind\":\"fixed\",\"rip\":\"0x1000\"",
    "1500 0 \"ev\":\"eoi\",\"vector\":49,\"level\":false",
    "1500 0 \"ev\":\"msr\",\"op\":\"wr\",\"msr\":\"0x80b\",\"value\":\"0x0\",\"result\":\"ok\"",
    "1600 0 \"ev\":\"msr\",\"op\":\"rd\",\"msr\":\"0x802\",\"value\":\"0x0\",\"result\":\"ok\"",
};

/* selfipi with line i (0-based event) replaced. */
static const char *variant(const char *name, size_t i, const char *ev)
{
    const char *v[N(selfipi)];
    memcpy(v, selfipi, sizeof(v));
    v[i] = ev;
    return trace(name, v, N(v), NULL);
}

START_TEST(a_self_ipi_taken_within_the_quantum_window_replays)
{
    char out[256];
    snprintf(out, sizeof(out), "%s/out.jsonl", tmpdir);
    ck_assert_int_eq(replay(trace("ok.jsonl", selfipi, N(selfipi), NULL), -1, out), 0);
    ck_assert(!st.partial);
    ck_assert_uint_eq(st.outcomes, 3); /* ipi, irq_accept, eoi */
    ck_assert_uint_eq(st.stimuli, 5);
    struct stat s;
    ck_assert(stat(out, &s) == 0);
}
END_TEST

START_TEST(a_different_vector_is_reported_at_its_line)
{
    char out[256];
    snprintf(out, sizeof(out), "%s/out2.jsonl", tmpdir);
    const char *p = variant("vec.jsonl", 3,
                            "1000 0 \"ev\":\"irq_accept\",\"vector\":50,\"mode\":\"fixed\","
                            "\"trigger\":\"edge\",\"src\":0");
    ck_assert_int_eq(replay(p, -1, out), 1);
    ck_assert_uint_eq(st.diverged_at, 5);
    ck_assert_msg(strstr(report, "\"vector\":49") && strstr(report, "\"vector\":50"), "%s", report);
    /* --out holds the replay up to the disagreement and says so at its end. */
    FILE *f = fopen(out, "r");
    ck_assert(f);
    char line[2048], last[2048] = "";
    while (fgets(line, sizeof(line), f))
        snprintf(last, sizeof(last), "%s", line);
    fclose(f);
    ck_assert_msg(strstr(last, "\"ev\":\"diverged\",\"line\":5,"), "%s", last);
}
END_TEST

START_TEST(an_acceptance_before_the_arrival_or_past_the_window_diverges)
{
    /* The message arrives at 200 + 60: not before. */
    ck_assert_int_eq(replay(variant("early.jsonl", 3,
                                    "250 0 \"ev\":\"irq_accept\",\"vector\":49,\"mode\":\"fixed\","
                                    "\"trigger\":\"edge\",\"src\":0"),
                            -1, NULL),
                     1);
    ck_assert_uint_eq(st.diverged_at, 5);
    /* A running vCPU takes it within two quanta and their costs: 2 x 4350 cycles. */
    const char *late[N(selfipi)];
    memcpy(late, selfipi, sizeof(late));
    late[3] = "8961 0 \"ev\":\"irq_accept\",\"vector\":49,\"mode\":\"fixed\",\"trigger\":\"edge\",\"src\":0";
    late[4] = "9000 0 \"ev\":\"irq_deliver\",\"vector\":49,\"kind\":\"fixed\",\"rip\":\"0x1000\"";
    late[5] = "9100 0 \"ev\":\"eoi\",\"vector\":49,\"level\":false";
    late[6] = "9100 0 \"ev\":\"msr\",\"op\":\"wr\",\"msr\":\"0x80b\",\"value\":\"0x0\",\"result\":\"ok\"";
    late[7] = "9200 0 \"ev\":\"msr\",\"op\":\"rd\",\"msr\":\"0x802\",\"value\":\"0x0\",\"result\":\"ok\"";
    ck_assert_int_eq(replay(trace("late.jsonl", late, N(late), NULL), -1, NULL), 1);
    /* By 8960 the model has taken it; the trace shows it only at 8961. */
    ck_assert_msg(strstr(report, "does not record") && strstr(report, "\"t\":8960") &&
                      strstr(report, "\"t\":8961"),
                  "%s", report);
    late[3] = "8960 0 \"ev\":\"irq_accept\",\"vector\":49,\"mode\":\"fixed\",\"trigger\":\"edge\",\"src\":0";
    ck_assert_int_eq(replay(trace("late2.jsonl", late, N(late), NULL), -1, NULL), 0);
}
END_TEST

START_TEST(taking_a_vector_the_fabric_does_not_hold_diverges)
{
    ck_assert_int_eq(replay(variant("deliver.jsonl", 4,
                                    "1200 0 \"ev\":\"irq_deliver\",\"vector\":51,\"kind\":\"fixed\","
                                    "\"rip\":\"0x1000\""),
                            -1, NULL),
                     1);
    ck_assert_uint_eq(st.diverged_at, 6);
    ck_assert_msg(strstr(report, "fixed vector 49"), "%s", report);
}
END_TEST

START_TEST(a_value_read_differently_diverges)
{
    ck_assert_int_eq(replay(variant("read.jsonl", 7,
                                    "1600 0 \"ev\":\"msr\",\"op\":\"rd\",\"msr\":\"0x802\",\"value\":"
                                    "\"0x5\",\"result\":\"ok\""),
                            -1, NULL),
                     1);
    ck_assert_uint_eq(st.diverged_at, 9);
}
END_TEST

START_TEST(outcomes_a_partial_trace_lacks_are_only_counted)
{
    const char *v[] = {selfipi[0], selfipi[2], selfipi[4], selfipi[6]};
    const char *p = trace("partial.jsonl", v, N(v), "snpref-import ftrace 0.1.0");
    ck_assert_int_eq(replay(p, -1, NULL), 0);
    ck_assert(st.partial);
    ck_assert_uint_eq(st.unrecorded, 3);
    p = trace("strict.jsonl", v, N(v), NULL);
    ck_assert_int_eq(replay(p, -1, NULL), 1);
    ck_assert_msg(strstr(report, "does not record"), "%s", report);
    ck_assert_int_eq(replay(p, 1, NULL), 0); /* --partial */
}
END_TEST

static const char *const timer[] = {
    "100 0 \"ev\":\"msr\",\"op\":\"wr\",\"msr\":\"0x80f\",\"value\":\"0x1ff\",\"result\":\"ok\"",
    "200 0 \"ev\":\"msr\",\"op\":\"wr\",\"msr\":\"0x832\",\"value\":\"0x50\",\"result\":\"ok\"",
    "300 0 \"ev\":\"timer_arm\",\"mode\":\"oneshot\",\"deadline\":\"0x10cc\"",
    "300 0 \"ev\":\"msr\",\"op\":\"wr\",\"msr\":\"0x838\",\"value\":\"0x64\",\"result\":\"ok\"",
    "500 0 \"ev\":\"hlt\",\"rip\":\"0x2000\"",
    "4300 0 \"ev\":\"timer_fire\",\"vector\":80,\"masked\":false",
    "4300 0 \"ev\":\"irq_accept\",\"vector\":80,\"mode\":\"fixed\",\"trigger\":\"edge\",\"src\":0",
    "5100 0 \"ev\":\"wake\",\"reason\":\"interrupt\"",
    "5100 0 \"ev\":\"vmentry\",\"rip\":\"0x2000\"",
    "5250 0 \"ev\":\"irq_deliver\",\"vector\":80,\"kind\":\"fixed\",\"rip\":\"0x2000\"",
};

START_TEST(a_timer_fires_at_a_halted_vcpu_exactly_at_its_deadline)
{
    ck_assert_int_eq(replay(trace("timer.jsonl", timer, N(timer), NULL), -1, NULL), 0);
    ck_assert_uint_eq(st.outcomes, 3);
    const char *v[N(timer)];
    memcpy(v, timer, sizeof(v));
    v[2] = "300 0 \"ev\":\"timer_arm\",\"mode\":\"oneshot\",\"deadline\":\"0x10cd\"";
    ck_assert_int_eq(replay(trace("deadline.jsonl", v, N(v), NULL), -1, NULL), 1);
    ck_assert_uint_eq(st.diverged_at, 4);
    memcpy(v, timer, sizeof(v));
    v[5] = "4301 0 \"ev\":\"timer_fire\",\"vector\":80,\"masked\":false";
    v[6] = "4301 0 \"ev\":\"irq_accept\",\"vector\":80,\"mode\":\"fixed\",\"trigger\":\"edge\",\"src\":0";
    v[7] = "5101 0 \"ev\":\"wake\",\"reason\":\"interrupt\"";
    v[8] = "5101 0 \"ev\":\"vmentry\",\"rip\":\"0x2000\"";
    ck_assert_int_eq(replay(trace("halted.jsonl", v, N(v), NULL), -1, NULL), 1);
    ck_assert_msg(strstr(report, "halted since t=500"), "%s", report);
    memcpy(v, timer, sizeof(v));
    v[7] = "5000 0 \"ev\":\"wake\",\"reason\":\"interrupt\"";
    v[8] = "5000 0 \"ev\":\"vmentry\",\"rip\":\"0x2000\"";
    ck_assert_int_eq(replay(trace("wake.jsonl", v, N(v), NULL), -1, NULL), 1);
    ck_assert_msg(strstr(report, "hlt_wakeup"), "%s", report);
}
END_TEST

static const char *const irqdev[] = {
    "100 0 \"ev\":\"msr\",\"op\":\"wr\",\"msr\":\"0x80f\",\"value\":\"0x1ff\",\"result\":\"ok\"",
    "200 0 \"ev\":\"pio\",\"dir\":\"out\",\"port\":\"0x500\",\"size\":4,\"value\":\"0x0\"",
    "300 0 \"ev\":\"pio\",\"dir\":\"out\",\"port\":\"0x504\",\"size\":4,\"value\":\"0x30\"",
    "400 0 \"ev\":\"pio\",\"dir\":\"out\",\"port\":\"0x508\",\"size\":4,\"value\":\"0x1\"",
    "400 -1 \"ev\":\"irqdev\",\"vector\":48,\"dest\":\"0x0\",\"trigger\":\"edge\"",
    "800 0 \"ev\":\"irq_accept\",\"vector\":48,\"mode\":\"fixed\",\"trigger\":\"edge\",\"src\":-1",
    "900 0 \"ev\":\"pio\",\"dir\":\"in\",\"port\":\"0x50c\",\"size\":4,\"value\":\"0x1\"",
};

START_TEST(the_test_interrupt_device_sends_through_the_fabric)
{
    ck_assert_int_eq(replay(trace("dev.jsonl", irqdev, N(irqdev), NULL), -1, NULL), 0);
    ck_assert_uint_eq(st.outcomes, 2);
    const char *v[N(irqdev)];
    memcpy(v, irqdev, sizeof(v));
    v[6] = "900 0 \"ev\":\"pio\",\"dir\":\"in\",\"port\":\"0x50c\",\"size\":4,\"value\":\"0x2\"";
    ck_assert_int_eq(replay(trace("count.jsonl", v, N(v), NULL), -1, NULL), 1);
    ck_assert_uint_eq(st.diverged_at, 8);
    memcpy(v, irqdev, sizeof(v));
    v[5] = "799 0 \"ev\":\"irq_accept\",\"vector\":48,\"mode\":\"fixed\",\"trigger\":\"edge\",\"src\":-1";
    ck_assert_int_eq(replay(trace("msi.jsonl", v, N(v), NULL), -1, NULL), 1);
}
END_TEST

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    Suite *s = suite_create("replay");
    TCase *tc = tcase_create("replay");
    tcase_add_test(tc, a_self_ipi_taken_within_the_quantum_window_replays);
    tcase_add_test(tc, a_different_vector_is_reported_at_its_line);
    tcase_add_test(tc, an_acceptance_before_the_arrival_or_past_the_window_diverges);
    tcase_add_test(tc, taking_a_vector_the_fabric_does_not_hold_diverges);
    tcase_add_test(tc, a_value_read_differently_diverges);
    tcase_add_test(tc, outcomes_a_partial_trace_lacks_are_only_counted);
    tcase_add_test(tc, a_timer_fires_at_a_halted_vcpu_exactly_at_its_deadline);
    tcase_add_test(tc, the_test_interrupt_device_sends_through_the_fabric);
    suite_add_tcase(s, tc);
    int failed = ck_run(s, CK_RUN_FORK) != EXIT_SUCCESS;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        return 1;
    return failed ? 1 : 0;
}
