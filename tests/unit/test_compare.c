/* SPDX-License-Identifier: MIT */
/*
 * traces/compare.c: tolerances (cycles, percent of the expected time, any),
 * the ignore lists, event equality, and the per-vCPU alignment of `snpref
 * check` on small traces written here: which divergence is found, where, with
 * what context, how every event is counted per kind, and how bad files are
 * reported. Files live in a mkdtemp directory that main() removes.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compare.h"
#include "ck_run.h"

static char tmpdir[] = "/tmp/snpref-test-compare-XXXXXX";

static const char hdr[] =
    "{\"format\":\"snpref-trace\",\"version\":1,\"model\":\"snpref 0.1.0\",\"mode\":\"plain\","
    "\"vcpus\":2,\"fabric\":\"emulated\",\"quantum\":2000,\"config\":{}}\n";

/* Writes a trace: the header, then events given as "t vcpu rest-of-line"
 * strings (rest: ,"ev":... without the closing brace), seq numbered here. */
static const char *trace(const char *name, const char *const *ev, size_t n)
{
    static char path[8][256];
    static int k;
    char *p = path[k++ % 8];
    snprintf(p, 256, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "w");
    ck_assert(f);
    fputs(hdr, f);
    for (size_t i = 0; i < n; i++) {
        unsigned long t;
        int vcpu, off;
        ck_assert(sscanf(ev[i], "%lu %d %n", &t, &vcpu, &off) == 2);
        fprintf(f, "{\"seq\":%zu,\"t\":%lu,\"vcpu\":%d,%s}\n", i, t, vcpu, ev[i] + off);
    }
    fclose(f);
    return p;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* vCPU 0 sends two IPIs to vCPU 1, which takes and EOIs them. */
static const char *const base[] = {
    "100 0 \"ev\":\"ipi\",\"icr\":\"0x100000040\",\"vector\":64,\"mode\":\"fixed\",\"dest_mode\":\"physical\",\"shorthand\":\"none\",\"dest\":\"0x1\",\"targets\":1",
    "500 1 \"ev\":\"irq_accept\",\"vector\":64,\"mode\":\"fixed\",\"trigger\":\"edge\",\"src\":0",
    "600 0 \"ev\":\"ipi\",\"icr\":\"0x100000041\",\"vector\":65,\"mode\":\"fixed\",\"dest_mode\":\"physical\",\"shorthand\":\"none\",\"dest\":\"0x1\",\"targets\":1",
    "700 1 \"ev\":\"irq_deliver\",\"vector\":64,\"kind\":\"fixed\",\"rip\":\"0x1000\"",
    "900 1 \"ev\":\"eoi\",\"vector\":64,\"level\":false",
    "1000 1 \"ev\":\"irq_accept\",\"vector\":65,\"mode\":\"fixed\",\"trigger\":\"edge\",\"src\":0",
    "1100 1 \"ev\":\"irq_deliver\",\"vector\":65,\"kind\":\"fixed\",\"rip\":\"0x1000\"",
    "1300 1 \"ev\":\"eoi\",\"vector\":65,\"level\":false",
    "1400 -1 \"ev\":\"irqdev\",\"vector\":48,\"dest\":\"0x0\",\"trigger\":\"edge\"",
    "1500 0 \"ev\":\"tsc\",\"insn\":\"rdtsc\",\"value\":\"0x5dc\"",
};

static struct trc_cmp_result *res;

static int cmp(const char *e, const char *a, const char *tol, const char *ignore)
{
    static trc_ignore_t ign;
    trc_ignore_defaults(ign);
    char err[256];
    if (ignore)
        ck_assert(trc_ignore_parse(ign, ignore, err, sizeof(err)) == 0);
    struct trc_cmp_opts o = {.ignore = ign};
    ck_assert(trc_tol_parse(tol ? tol : "0", &o.tol) == 0);
    if (res)
        trc_cmp_free(res);
    else
        res = malloc(sizeof(*res));
    int status = 0;
    ck_assert_msg(trc_cmp_files(e, a, &o, res, &status, err, sizeof(err)) == 0, "%s", err);
    return res->agree ? 0 : 1;
}

static const struct trc_cmp_vcpu *vc(int vcpu)
{
    for (unsigned i = 0; i < res->nvcpus; i++)
        if (res->vcpus[i].vcpu == vcpu)
            return &res->vcpus[i];
    ck_abort_msg("no vCPU %d in the result", vcpu);
    return NULL;
}

START_TEST(tolerances_parse_cycles_percent_and_any)
{
    struct trc_tol t;
    ck_assert(trc_tol_parse("0", &t) == 0 && t.kind == TRC_TOL_EXACT);
    ck_assert(trc_tol_parse("250", &t) == 0 && t.kind == TRC_TOL_CYCLES && t.cycles == 250);
    ck_assert(trc_tol_parse("2.5%", &t) == 0 && t.kind == TRC_TOL_PPM && t.ppm == 25000);
    ck_assert(trc_tol_parse("100%", &t) == 0 && t.ppm == 1000000);
    ck_assert(trc_tol_parse("any", &t) == 0 && t.kind == TRC_TOL_ANY);
    static const char *const bad[] = {"", "-1", "1.%", "5%%", "abc", "1.00001%", "%", "2 %",
                                      "99999999999999999999"};
    for (size_t i = 0; i < N(bad); i++)
        ck_assert_msg(trc_tol_parse(bad[i], &t) < 0, "'%s' parsed", bad[i]);
}
END_TEST

START_TEST(a_percent_tolerance_scales_with_the_expected_time)
{
    struct trc_tol t;
    trc_tol_parse("1%", &t);
    ck_assert(trc_tol_ok(&t, 100000, 101000));
    ck_assert(!trc_tol_ok(&t, 100000, 101001));
    ck_assert(trc_tol_ok(&t, 100000, 99000));
    ck_assert(!trc_tol_ok(&t, 1000, 1011));
    trc_tol_parse("0", &t);
    ck_assert(trc_tol_ok(&t, 7, 7) && !trc_tol_ok(&t, 7, 8));
    trc_tol_parse("any", &t);
    ck_assert(trc_tol_ok(&t, 0, UINT64_MAX));
    char buf[32];
    trc_tol_parse("2.5%", &t);
    ck_assert_str_eq(trc_tol_str(&t, buf, sizeof(buf)), "2.5000%");
}
END_TEST

START_TEST(ignore_lists_name_events_and_fields_or_fail)
{
    trc_ignore_t ign = {0};
    char err[128];
    ck_assert(trc_ignore_parse(ign, "console,vmgexit.ghcb", err, sizeof(err)) == 0);
    ck_assert(ign[TRC_EV_console] & TRC_IGNORE_EVENT);
    ck_assert_uint_eq(ign[TRC_EV_vmgexit], 1u << 0);
    ck_assert(trc_ignore_parse(ign, "frobnicate", err, sizeof(err)) < 0);
    ck_assert(strstr(err, "frobnicate"));
    ck_assert(trc_ignore_parse(ign, "eoi.colour", err, sizeof(err)) < 0);
    ck_assert(strstr(err, "colour"));
}
END_TEST

START_TEST(identical_traces_agree_and_every_event_is_counted)
{
    const char *e = trace("e.jsonl", base, N(base));
    ck_assert_int_eq(cmp(e, e, NULL, NULL), 0);
    ck_assert_uint_eq(res->kinds[TRC_EV_ipi].expected, 2);
    ck_assert_uint_eq(res->kinds[TRC_EV_ipi].matched, 2);
    ck_assert_uint_eq(res->kinds[TRC_EV_tsc].expected, 1); /* counted, not compared */
    ck_assert_uint_eq(res->kinds[TRC_EV_tsc].matched, 0);
    ck_assert_uint_eq(vc(-1)->matched, 1);
    ck_assert_uint_eq(vc(1)->matched, 6);
    ck_assert_uint_eq(res->nvcpus, 3);
    ck_assert_int_eq(res->first.kind, TRC_DIV_NONE);
}
END_TEST

START_TEST(a_different_field_is_a_mismatch_naming_the_field_with_context)
{
    const char *e = trace("e.jsonl", base, N(base));
    const char *v[N(base)];
    memcpy(v, base, sizeof(v));
    v[6] = "1100 1 \"ev\":\"irq_deliver\",\"vector\":66,\"kind\":\"fixed\",\"rip\":\"0x1000\"";
    const char *a = trace("a.jsonl", v, N(v));
    ck_assert_int_eq(cmp(e, a, NULL, NULL), 1);
    const struct trc_cmp_div *d = &res->first;
    ck_assert_int_eq(d->kind, TRC_DIV_MISMATCH);
    ck_assert_int_eq(d->vcpu, 1);
    ck_assert_uint_eq(d->index, 4);
    ck_assert_str_eq(trc_catalogue[d->ev].fields[d->field].name, "vector");
    ck_assert_uint_eq(d->expected.line, 8);
    ck_assert_uint_eq(d->actual.line, 8);
    ck_assert(strstr(d->actual.text, "\"vector\":66"));
    ck_assert_uint_eq(d->nbefore[0], 3);
    ck_assert_uint_eq(d->before[0][2].line, 7);
    ck_assert_uint_eq(d->nafter[1], 1);
    ck_assert_uint_eq(d->after[1][0].line, 9);
    /* vCPU 0 and the system stream still agree. */
    ck_assert_int_eq(vc(0)->div.kind, TRC_DIV_NONE);
    ck_assert_uint_eq(vc(0)->matched, 2);
    ck_assert_uint_eq(res->kinds[TRC_EV_irq_deliver].mismatched, 1);
}
END_TEST

START_TEST(a_missing_event_an_extra_one_and_a_swap_are_named_so)
{
    const char *e = trace("e.jsonl", base, N(base));
    const char *v[N(base) + 1];
    /* Missing: the first EOI. */
    size_t n = 0;
    for (size_t i = 0; i < N(base); i++)
        if (i != 4)
            v[n++] = base[i];
    ck_assert_int_eq(cmp(e, trace("m.jsonl", v, n), NULL, NULL), 1);
    ck_assert_int_eq(res->first.kind, TRC_DIV_MISSING);
    ck_assert_uint_eq(res->first.expected.line, 6);
    /* Extra: an EOI more on vCPU 1. */
    n = 0;
    for (size_t i = 0; i < N(base); i++) {
        v[n++] = base[i];
        if (i == 4)
            v[n++] = "950 1 \"ev\":\"eoi\",\"vector\":-1,\"level\":false";
    }
    ck_assert_int_eq(cmp(e, trace("x.jsonl", v, n), NULL, NULL), 1);
    ck_assert_int_eq(res->first.kind, TRC_DIV_EXTRA);
    ck_assert_uint_eq(res->first.actual.line, 7);
    /* Swapped: vCPU 1 takes 65 before 64 (same times, other order). */
    memcpy(v, base, sizeof(base));
    v[3] = "700 1 \"ev\":\"eoi\",\"vector\":64,\"level\":false";
    v[4] = "900 1 \"ev\":\"irq_deliver\",\"vector\":64,\"kind\":\"fixed\",\"rip\":\"0x1000\"";
    ck_assert_int_eq(cmp(e, trace("s.jsonl", v, N(base)), NULL, NULL), 1);
    ck_assert_int_eq(res->first.kind, TRC_DIV_REORDERED);
    ck_assert_uint_eq(res->first.expected.line, 5);
}
END_TEST

START_TEST(a_trace_that_ends_early_is_missing_its_last_events)
{
    const char *e = trace("e.jsonl", base, N(base));
    ck_assert_int_eq(cmp(e, trace("short.jsonl", base, 7), NULL, NULL), 1);
    ck_assert_int_eq(vc(1)->div.kind, TRC_DIV_MISSING);
    ck_assert_uint_eq(vc(1)->div.expected.line, 9);
    ck_assert(vc(1)->div.actual.text == NULL);
    ck_assert_int_eq(vc(-1)->div.kind, TRC_DIV_MISSING);
    ck_assert_int_eq(res->first.vcpu, 1); /* the earlier of the two */
}
END_TEST

START_TEST(times_are_compared_within_the_tolerance)
{
    const char *e = trace("e.jsonl", base, N(base));
    const char *v[N(base)];
    memcpy(v, base, sizeof(v));
    v[4] = "950 1 \"ev\":\"eoi\",\"vector\":64,\"level\":false";
    const char *a = trace("late.jsonl", v, N(v));
    ck_assert_int_eq(cmp(e, a, NULL, NULL), 1);
    ck_assert_int_eq(res->first.kind, TRC_DIV_NONE);
    ck_assert_int_eq(res->timing.kind, TRC_DIV_TIMING);
    ck_assert_uint_eq(res->timing.expected.line, 6);
    ck_assert_uint_eq(res->timing.t_actual - res->timing.t_expected, 50);
    ck_assert_uint_eq(res->kinds[TRC_EV_eoi].timing, 1);
    ck_assert_uint_eq(res->max_dt, 50);
    ck_assert_int_eq(cmp(e, a, "49", NULL), 1);
    ck_assert_int_eq(cmp(e, a, "50", NULL), 0);
    ck_assert_int_eq(cmp(e, a, "5.6%", NULL), 0);  /* 5.6% of 900 = 50.4 */
    ck_assert_int_eq(cmp(e, a, "5.5%", NULL), 1);
    ck_assert_int_eq(cmp(e, a, "any", NULL), 0);
}
END_TEST

START_TEST(ignored_fields_and_events_do_not_diverge)
{
    const char *e = trace("e.jsonl", base, N(base));
    const char *v[N(base)];
    memcpy(v, base, sizeof(v));
    v[3] = "700 1 \"ev\":\"irq_deliver\",\"vector\":64,\"kind\":\"fixed\",\"rip\":\"0x2000\"";
    v[9] = "1500 0 \"ev\":\"tsc\",\"insn\":\"rdtsc\",\"value\":\"0x9999\"";
    const char *a = trace("rip.jsonl", v, N(v));
    ck_assert_int_eq(cmp(e, a, NULL, NULL), 1);
    ck_assert_int_eq(cmp(e, a, NULL, "irq_deliver.rip"), 0);
    ck_assert_int_eq(cmp(e, a, NULL, "irq_deliver"), 0);
}
END_TEST

START_TEST(bad_files_are_65_or_66_with_file_and_line)
{
    const char *e = trace("e.jsonl", base, N(base));
    char bad[256], err[256];
    snprintf(bad, sizeof(bad), "%s/bad.jsonl", tmpdir);
    FILE *f = fopen(bad, "w");
    fprintf(f, "%s{\"seq\":0,\"t\":1,\"vcpu\":0,\"ev\":\"eoi\",\"vector\":\"x\",\"level\":false}\n",
            hdr);
    fclose(f);
    trc_ignore_t ign;
    trc_ignore_defaults(ign);
    struct trc_cmp_opts o = {.ignore = ign};
    struct trc_cmp_result *r = malloc(sizeof(*r));
    int status = 0;
    ck_assert(trc_cmp_files(e, bad, &o, r, &status, err, sizeof(err)) < 0);
    ck_assert_int_eq(status, 65);
    ck_assert_msg(strstr(err, bad) && strstr(err, ":2: field 'vector'"), "%s", err);
    ck_assert(trc_cmp_files("/nonexistent.jsonl", e, &o, r, &status, err, sizeof(err)) < 0);
    ck_assert_int_eq(status, 66);
    ck_assert(strstr(err, "/nonexistent.jsonl"));
    free(r);
}
END_TEST

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    Suite *s = suite_create("compare");
    TCase *tc = tcase_create("compare");
    tcase_add_test(tc, tolerances_parse_cycles_percent_and_any);
    tcase_add_test(tc, a_percent_tolerance_scales_with_the_expected_time);
    tcase_add_test(tc, ignore_lists_name_events_and_fields_or_fail);
    tcase_add_test(tc, identical_traces_agree_and_every_event_is_counted);
    tcase_add_test(tc, a_different_field_is_a_mismatch_naming_the_field_with_context);
    tcase_add_test(tc, a_missing_event_an_extra_one_and_a_swap_are_named_so);
    tcase_add_test(tc, a_trace_that_ends_early_is_missing_its_last_events);
    tcase_add_test(tc, times_are_compared_within_the_tolerance);
    tcase_add_test(tc, ignored_fields_and_events_do_not_diverge);
    tcase_add_test(tc, bad_files_are_65_or_66_with_file_and_line);
    suite_add_tcase(s, tc);
    int failed = ck_run(s, CK_RUN_FORK) != EXIT_SUCCESS;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        return 1;
    return failed ? 1 : 0;
}
