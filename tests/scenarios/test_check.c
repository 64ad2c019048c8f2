/* SPDX-License-Identifier: MIT */
/*
 * `snpref check` finds seeded divergences (issue 5, docs/conformance.md): a
 * real trace of the ipi_smp guest (four vCPUs, IPIs, EOIs, timers) is altered
 * one way at a time: a wrong vector, a missing EOI, two IPIs reordered, an
 * extra VMGEXIT, times shifted outside (and inside) the tolerance. Each is
 * found at the right event, with context from both files; the JSON report is
 * parsed with cJSON and its fields checked, the JUnit file's structure too.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scn.h"
#include "ck_run.h"

static char tmpdir[] = "/tmp/snpref-test-check-XXXXXX";
static char golden[256]; /* the recorded trace */

/* The golden trace as lines (without newlines); lines[0] is the header. */
static char **lines;
static size_t nlines;

static void load_lines(void) { lines = scn_read_lines(golden, &nlines); }

static void setup(void)
{
    if (lines)
        return;
    struct scn_run r;
    scn_run_guest(&r, "ipi_smp", NULL);
    ck_assert_int_eq(r.status, 0);
    snprintf(golden, sizeof(golden), "%s/golden.jsonl", tmpdir);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "cp %s %s", r.trace_path, golden);
    ck_assert_int_eq(system(cmd), 0);
    scn_free(&r);
    load_lines();
}

/* Writes lines (NULL entries skipped) to name, numbering seq from 0 again. */
static const char *write_variant(const char *name, char **ls, size_t n)
{
    static char path[4][300];
    static int k;
    char *p = path[k++ % 4];
    snprintf(p, 300, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "w");
    ck_assert(f);
    unsigned long seq = 0;
    for (size_t i = 0; i < n; i++) {
        if (!ls[i])
            continue;
        if (i == 0) {
            fprintf(f, "%s\n", ls[i]);
            continue;
        }
        const char *rest = strchr(ls[i], ',');
        fprintf(f, "{\"seq\":%lu%s\n", seq++, rest);
    }
    fclose(f);
    return p;
}

static char **copy_lines(void)
{
    char **c = malloc(nlines * sizeof(*c));
    memcpy(c, lines, nlines * sizeof(*c));
    return c;
}

static bool is(const char *line, const char *ev, int vcpu)
{
    char a[48], b[48];
    snprintf(a, sizeof(a), "\"ev\":\"%s\"", ev);
    snprintf(b, sizeof(b), "\"vcpu\":%d,", vcpu);
    return strstr(line, a) && strstr(line, b);
}

/* Index of the n-th (from 0) line of event ev on vcpu. */
static size_t nth(const char *ev, int vcpu, unsigned n)
{
    for (size_t i = 1; i < nlines; i++)
        if (is(lines[i], ev, vcpu) && n-- == 0)
            return i;
    ck_abort_msg("no %s on vCPU %d", ev, vcpu);
    return 0;
}

static uint64_t t_of(const char *line)
{
    const char *p = strstr(line, "\"t\":");
    ck_assert(p);
    return strtoull(p + 4, NULL, 10);
}

static cJSON *check_json(const char *actual, int want_status)
{
    struct scn_run r;
    scn_run_tool(&r, "check", golden, actual, "--json", NULL);
    ck_assert_msg(r.status == want_status, "status %d:\n%s%s", r.status, r.out, r.err);
    cJSON *j = cJSON_Parse(r.out);
    ck_assert_msg(j != NULL, "not JSON:\n%s", r.out);
    scn_free(&r);
    return j;
}

static const cJSON *get(const cJSON *o, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof(buf), "%s", path);
    const cJSON *cur = o;
    for (char *save, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
        cur = cJSON_GetObjectItemCaseSensitive(cur, k);
        ck_assert_msg(cur != NULL, "JSON has no %s", path);
    }
    return cur;
}

static double num(const cJSON *o, const char *path) { return get(o, path)->valuedouble; }
static const char *str(const cJSON *o, const char *path) { return get(o, path)->valuestring; }

/* The first divergence is kind at expected line le / actual line la (0: none). */
static void assert_first(const cJSON *j, const char *kind, int vcpu, unsigned long le,
                         unsigned long la)
{
    ck_assert_str_eq(str(j, "result"), "diverge");
    ck_assert_str_eq(str(j, "first_divergence.kind"), kind);
    ck_assert_int_eq((int)num(j, "first_divergence.vcpu"), vcpu);
    if (le)
        ck_assert_uint_eq((unsigned long)num(j, "first_divergence.expected.line"), le);
    if (la)
        ck_assert_uint_eq((unsigned long)num(j, "first_divergence.actual.line"), la);
    const cJSON *before = get(j, "first_divergence.context.expected.before");
    ck_assert(cJSON_IsArray(before) && cJSON_GetArraySize(before) > 0);
    ck_assert(cJSON_IsArray(get(j, "first_divergence.context.actual.after")));
}

START_TEST(identical_traces_agree_with_status_0_and_full_counts)
{
    cJSON *j = check_json(golden, 0);
    ck_assert_str_eq(str(j, "result"), "agree");
    ck_assert(cJSON_IsNull(get(j, "first_divergence")));
    ck_assert_str_eq(str(j, "timing.result"), "agree");
    size_t ipis = 0;
    for (size_t i = 1; i < nlines; i++)
        ipis += strstr(lines[i], "\"ev\":\"ipi\"") != NULL;
    ck_assert_uint_eq((size_t)num(j, "events.ipi.expected"), ipis);
    ck_assert_uint_eq((size_t)num(j, "events.ipi.matched"), ipis);
    ck_assert_int_eq(cJSON_GetArraySize(get(j, "vcpus")), 4);
    cJSON_Delete(j);
}
END_TEST

START_TEST(a_wrong_vector_is_a_mismatch_of_field_vector_at_its_line)
{
    char **v = copy_lines();
    size_t i = nth("irq_deliver", 1, 0);
    char line[2048];
    const char *p = strstr(lines[i], "\"vector\":");
    unsigned vec = (unsigned)strtoul(p + 9, NULL, 10);
    snprintf(line, sizeof(line), "%.*s\"vector\":%u%s", (int)(p - lines[i]), lines[i], vec ^ 1,
             strchr(p, ','));
    v[i] = line;
    cJSON *j = check_json(write_variant("vector.jsonl", v, nlines), 1);
    assert_first(j, "mismatch", 1, i + 1, i + 1);
    ck_assert_str_eq(str(j, "first_divergence.field"), "vector");
    ck_assert_uint_eq((unsigned)num(j, "first_divergence.actual.event.vector"), vec ^ 1);
    cJSON_Delete(j);
    free(v);
}
END_TEST

START_TEST(a_missing_eoi_is_found_at_the_eoi)
{
    char **v = copy_lines();
    size_t i = nth("eoi", 2, 0);
    v[i] = NULL;
    cJSON *j = check_json(write_variant("noeoi.jsonl", v, nlines), 1);
    assert_first(j, "missing", 2, i + 1, i + 1);
    ck_assert_str_eq(str(j, "first_divergence.expected.event.ev"), "eoi");
    cJSON_Delete(j);
    free(v);
}
END_TEST

START_TEST(two_ipis_reordered_are_found_at_the_first)
{
    char **v = copy_lines();
    size_t a = nth("ipi", 0, 0), b = nth("ipi", 0, 1);
    /* Swap what the two lines say, keeping each line's seq and time. */
    char la[2048], lb[2048];
    const char *ra = strstr(lines[a], ",\"vcpu\":"), *rb = strstr(lines[b], ",\"vcpu\":");
    snprintf(la, sizeof(la), "%.*s%s", (int)(ra - lines[a]), lines[a], rb);
    snprintf(lb, sizeof(lb), "%.*s%s", (int)(rb - lines[b]), lines[b], ra);
    v[a] = la;
    v[b] = lb;
    cJSON *j = check_json(write_variant("swapped.jsonl", v, nlines), 1);
    assert_first(j, "mismatch", 0, a + 1, a + 1);
    ck_assert_str_eq(str(j, "first_divergence.expected.event.ev"), "ipi");
    ck_assert_str_eq(str(j, "first_divergence.actual.event.ev"), "ipi");
    cJSON_Delete(j);
    free(v);
}
END_TEST

START_TEST(an_extra_vmgexit_is_found_where_it_was_added)
{
    char **v = malloc((nlines + 1) * sizeof(*v));
    size_t at = nth("vmexit", 0, 3) + 1; /* after vCPU 0's fourth exit */
    memcpy(v, lines, at * sizeof(*v));
    char extra[256];
    snprintf(extra, sizeof(extra),
             "{\"seq\":0,\"t\":%" PRIu64 ",\"vcpu\":0,\"ev\":\"vmgexit\",\"ghcb\":\"0x3fda000\","
             "\"exit_code\":\"0x7b\",\"info1\":\"0x0\",\"info2\":\"0x0\"}",
             t_of(lines[at - 1]));
    v[at] = extra;
    memcpy(v + at + 1, lines + at, (nlines - at) * sizeof(*v));
    cJSON *j = check_json(write_variant("extra.jsonl", v, nlines + 1), 1);
    assert_first(j, "extra", 0, 0, at + 1);
    ck_assert_str_eq(str(j, "first_divergence.actual.event.ev"), "vmgexit");
    ck_assert_uint_eq((unsigned)num(j, "events.vmgexit.actual"), 1);
    cJSON_Delete(j);
    free(v);
}
END_TEST

/* Every event from line `from` on, 500 cycles later. */
static const char *shifted(size_t from)
{
    char **v = copy_lines();
    char **mine = calloc(nlines, sizeof(*mine));
    for (size_t i = from; i < nlines; i++) {
        const char *p = strstr(lines[i], "\"t\":");
        const char *rest = strchr(p, ',');
        mine[i] = malloc(strlen(lines[i]) + 32);
        sprintf(mine[i], "%.*s\"t\":%" PRIu64 "%s", (int)(p - lines[i]), lines[i],
                t_of(lines[i]) + 500, rest);
        v[i] = mine[i];
    }
    const char *path = write_variant("late.jsonl", v, nlines);
    for (size_t i = 0; i < nlines; i++)
        free(mine[i]);
    free(mine);
    free(v);
    return path;
}

START_TEST(times_outside_the_tolerance_diverge_and_inside_agree)
{
    size_t from = nth("ipi", 0, 2);
    const char *late = shifted(from);
    cJSON *j = check_json(late, 1);
    ck_assert_str_eq(str(j, "result"), "diverge");
    ck_assert(cJSON_IsNull(get(j, "first_divergence"))); /* the events themselves agree */
    ck_assert_str_eq(str(j, "timing.result"), "diverge");
    ck_assert_uint_eq((unsigned long)num(j, "timing.divergence.expected.line"), from + 1);
    ck_assert_uint_eq((unsigned)num(j, "timing.max_delta_cycles"), 500);
    cJSON_Delete(j);
    struct scn_run r;
    scn_run_tool(&r, "check", golden, late, "--tolerance", "499", NULL);
    ck_assert_int_eq(r.status, 1);
    ck_assert(scn_has(r.out, "timing: outside the tolerance (499 cycles)"));
    scn_free(&r);
    scn_run_tool(&r, "check", golden, late, "--tolerance", "500", NULL);
    ck_assert_msg(r.status == 0, "%s", r.out);
    scn_free(&r);
    scn_run_tool(&r, "check", golden, late, "--tolerance", "100%", NULL);
    ck_assert_int_eq(r.status, 0);
    scn_free(&r);
    scn_run_tool(&r, "check", golden, late, "--tolerance", "0.0001%", NULL);
    ck_assert_int_eq(r.status, 1);
    scn_free(&r);
}
END_TEST

START_TEST(the_report_for_people_shows_both_sides_with_line_numbers)
{
    char **v = copy_lines();
    size_t i = nth("eoi", 1, 1);
    v[i] = NULL;
    const char *p = write_variant("people.jsonl", v, nlines);
    struct scn_run r;
    scn_run_tool(&r, "check", golden, p, NULL);
    ck_assert_int_eq(r.status, 1);
    char want[400];
    snprintf(want, sizeof(want), "expected  %s:%zu", golden, i + 1);
    ck_assert_msg(scn_has(r.out, want), "%s", r.out);
    snprintf(want, sizeof(want), "context, actual (%s)", p);
    ck_assert_msg(scn_has(r.out, want), "%s", r.out);
    ck_assert(scn_has(r.out, "per vCPU:") && scn_has(r.out, "events "));
    scn_free(&r);
    free(v);
}
END_TEST

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static unsigned count(const char *s, const char *needle)
{
    unsigned n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

START_TEST(the_junit_suite_is_named_after_expected_with_a_testcase_per_vcpu_and_kind)
{
    char **v = copy_lines();
    v[nth("eoi", 3, 0)] = NULL;
    const char *p = write_variant("junit.jsonl", v, nlines);
    char xml[300], tmp[310], suite[400], want[500];
    snprintf(xml, sizeof(xml), "%s/result.xml", tmpdir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", xml);
    /* One testcase per (vCPU, kind) either file holds, and one for timing. */
    unsigned cases = 1;
    for (int vcpu = -1; vcpu < 4; vcpu++)
        for (int ev = 0; ev < TRC_EV_COUNT; ev++) {
            char a[64], b[32];
            snprintf(a, sizeof(a), "\"ev\":\"%s\"", trc_catalogue[ev].name);
            snprintf(b, sizeof(b), "\"vcpu\":%d,", vcpu);
            bool has = false;
            for (size_t i = 1; i < nlines && !has; i++)
                has = strstr(lines[i], a) && strstr(lines[i], b) && strcmp(trc_catalogue[ev].name, "tsc");
            cases += has;
        }
    struct scn_run r;
    scn_run_tool(&r, "check", golden, p, "--junit", xml, NULL);
    ck_assert_int_eq(r.status, 1);
    scn_free(&r);
    const char *x = slurp(xml);
    ck_assert(!strncmp(x, "<?xml version=\"1.0\"", 19));
    snprintf(suite, sizeof(suite), "<testsuite name=\"%s\" tests=\"%u\" failures=\"1\"", golden, cases);
    ck_assert_msg(strstr(x, suite), "no %s in:\n%s", suite, x);
    ck_assert_uint_eq(count(x, "<testcase "), cases);
    snprintf(want, sizeof(want), "<testcase classname=\"%s\" name=", golden);
    ck_assert_uint_eq(count(x, want), cases);
    ck_assert_uint_eq(count(x, "<failure "), 1);
    ck_assert_uint_eq(count(x, "</failure>"), 1);
    /* The missing EOI fails vCPU 3's eoi testcase, and only it. */
    const char *fail = strstr(x, "<failure ");
    const char *eoi3 = strstr(x, "name=\"vcpu 3: eoi\">");
    ck_assert_msg(eoi3 && fail > eoi3 && fail < strstr(eoi3, "<testcase "), "%.300s", eoi3 ? eoi3 : x);
    ck_assert(strstr(x, "name=\"vcpu 0: ipi\"/>"));
    ck_assert(strstr(x, "name=\"timing\"/>"));
    ck_assert(strstr(x, "</testsuite>\n"));
    ck_assert_uint_eq(count(x, "<"), count(x, ">"));
    struct stat st;
    ck_assert(stat(tmp, &st) != 0);
    /* Agreement: every testcase passes. */
    scn_run_tool(&r, "check", golden, golden, "--junit", xml, NULL);
    ck_assert_int_eq(r.status, 0);
    scn_free(&r);
    x = slurp(xml);
    ck_assert(strstr(x, "failures=\"0\""));
    ck_assert_uint_eq(count(x, "<failure"), 0);
    free(v);
}
END_TEST

START_TEST(bad_input_gives_64_65_66_and_no_junit_file)
{
    char xml[300], bad[300];
    snprintf(xml, sizeof(xml), "%s/never.xml", tmpdir);
    char **v = copy_lines();
    char broken[] = "{\"seq\":1,\"t\":1";
    v[2] = broken;
    snprintf(bad, sizeof(bad), "%s", write_variant("broken.jsonl", v, nlines));
    struct scn_run r;
    scn_run_tool(&r, "check", golden, bad, "--junit", xml, NULL);
    ck_assert_int_eq(r.status, 65);
    char want[400];
    snprintf(want, sizeof(want), "%s:3:", bad);
    ck_assert_msg(scn_has(r.err, want), "%s", r.err);
    struct stat st;
    ck_assert(stat(xml, &st) != 0);
    scn_free(&r);
    scn_run_tool(&r, "check", golden, "/nonexistent.jsonl", NULL);
    ck_assert_int_eq(r.status, 66);
    scn_free(&r);
    scn_run_tool(&r, "check", golden, NULL);
    ck_assert_int_eq(r.status, 64);
    scn_free(&r);
    scn_run_tool(&r, "check", golden, golden, "--ignore", "eoi.colour", NULL);
    ck_assert_int_eq(r.status, 64);
    scn_free(&r);
    free(v);
}
END_TEST

START_TEST(ignored_fields_and_events_are_not_compared)
{
    char **v = copy_lines();
    size_t i = nth("irq_deliver", 1, 0);
    char line[2048];
    const char *p = strstr(lines[i], "\"rip\":");
    snprintf(line, sizeof(line), "%.*s\"rip\":\"0xdead\"}", (int)(p - lines[i]), lines[i]);
    v[i] = line;
    const char *path = write_variant("rip.jsonl", v, nlines);
    struct scn_run r;
    scn_run_tool(&r, "check", golden, path, NULL);
    ck_assert_int_eq(r.status, 1);
    scn_free(&r);
    scn_run_tool(&r, "check", golden, path, "--ignore", "irq_deliver.rip", NULL);
    ck_assert_msg(r.status == 0, "%s", r.out);
    scn_free(&r);
    scn_run_tool(&r, "check", golden, path, "--events", "ipi,eoi", NULL);
    ck_assert_int_eq(r.status, 0);
    scn_free(&r);
    free(v);
}
END_TEST

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    Suite *s = suite_create("check");
    TCase *tc = tcase_create("seeded divergences");
    tcase_add_unchecked_fixture(tc, setup, NULL);
    tcase_add_test(tc, identical_traces_agree_with_status_0_and_full_counts);
    tcase_add_test(tc, a_wrong_vector_is_a_mismatch_of_field_vector_at_its_line);
    tcase_add_test(tc, a_missing_eoi_is_found_at_the_eoi);
    tcase_add_test(tc, two_ipis_reordered_are_found_at_the_first);
    tcase_add_test(tc, an_extra_vmgexit_is_found_where_it_was_added);
    tcase_add_test(tc, times_outside_the_tolerance_diverge_and_inside_agree);
    tcase_add_test(tc, the_report_for_people_shows_both_sides_with_line_numbers);
    tcase_add_test(tc, the_junit_suite_is_named_after_expected_with_a_testcase_per_vcpu_and_kind);
    tcase_add_test(tc, bad_input_gives_64_65_66_and_no_junit_file);
    tcase_add_test(tc, ignored_fields_and_events_are_not_compared);
    suite_add_tcase(s, tc);
    int failed = ck_run(s, CK_RUN_FORK) != EXIT_SUCCESS;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        return 1;
    return failed ? 1 : 0;
}
