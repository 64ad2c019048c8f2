/* SPDX-License-Identifier: MIT */
/*
 * `snpref check --stats` and JUnit merging (issue 11, docs/conformance.md
 * "Statistics", "--junit"). The model boots Debian's stock kernel to the end
 * of the busybox /init on two vCPUs (debian-6.1 among the guest kernels beside
 * the source tree; the suite fails when it is absent), as the Linux boot
 * scenario does; that trace is compared with itself, and with copies where
 * vCPU 0's MSR exits are fewer by more and by less than the tolerance: only
 * that kind of that vCPU may be reported. Then three KVM logs go through the
 * pipeline (import, replay --out, check --junit) and their JUnit files merge
 * into one that xmllint and Python's XML parser accept, every testcase unique.
 * The SNP kinds (VMGEXIT codes, #VC codes, GHCB MSR requests, page-state
 * changes) come from the sev_psc guest under SNP: one page-state change less
 * is beyond their exact tolerance.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ck_run.h"
#include "scn.h"

#define KERNEL SNPREF_SOURCE_DIR "/../shared/guests/debian-6.1/vmlinuz"
#define FIXTURES SNPREF_SOURCE_DIR "/tests/fixtures/"

static char tmpdir[] = "/tmp/snpref-test-check-stats-XXXXXX";
static char boot[300]; /* the model's Linux boot trace */
static char **lines;   /* its lines without newlines; lines[0] the header */
static size_t nlines;

static void load_lines(void) { lines = scn_read_lines(boot, &nlines); }

static void setup(void)
{
    if (lines)
        return;
    ck_assert_msg(access(KERNEL, R_OK) == 0, "%s is missing: the Linux boot needs Debian's 6.1 kernel",
                  KERNEL);
    char initrd[300], cmd[700];
    snprintf(initrd, sizeof(initrd), "%s/initramfs.cpio.gz", tmpdir);
    snprintf(cmd, sizeof(cmd), "bash %s/scripts/mkinitramfs.sh %s", SNPREF_SOURCE_DIR, initrd);
    ck_assert_msg(system(cmd) == 0, "%s failed: install busybox-static and cpio", cmd);
    struct scn_run r;
    snprintf(boot, sizeof(boot), "%s/boot.jsonl", tmpdir);
    scn_run_tool(&r, "run", "--kernel", KERNEL, "--initrd", initrd, "--append", "console=ttyS0",
                 "--vcpus", "2", "--max-insns", "20000000000", "--trace", boot, "--quiet", NULL);
    ck_assert_msg(r.status == 0, "boot status %d: %s", r.status, r.err);
    ck_assert_msg(scn_has(r.out, "snpref-init: done"), "the boot did not reach the end of /init");
    scn_free(&r);
    load_lines();
}

static bool is_msr_exit(const char *line, int vcpu)
{
    char v[24];
    snprintf(v, sizeof(v), "\"vcpu\":%d,", vcpu);
    return strstr(line, v) && strstr(line, "\"ev\":\"vmexit\"") && strstr(line, "\"exit_code\":\"0x7c\"");
}

/* The boot trace without every `every`-th MSR exit of vCPU 0; how many went. */
static const char *drop_msr_exits(const char *name, unsigned every, unsigned *dropped)
{
    static char path[2][300];
    static int k;
    char *p = path[k++ % 2];
    snprintf(p, 300, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "w");
    ck_assert(f);
    fprintf(f, "%s\n", lines[0]);
    unsigned long seq = 0, n = 0;
    *dropped = 0;
    for (size_t i = 1; i < nlines; i++) {
        if (is_msr_exit(lines[i], 0) && ++n % every == 0) {
            (*dropped)++;
            continue;
        }
        fprintf(f, "{\"seq\":%lu%s\n", seq++, strchr(lines[i], ','));
    }
    fclose(f);
    return p;
}

static unsigned msr_exits(int vcpu)
{
    unsigned n = 0;
    for (size_t i = 1; i < nlines; i++)
        n += is_msr_exit(lines[i], vcpu);
    return n;
}

static cJSON *stats_json(const char *actual, int want, const char *tol)
{
    struct scn_run r;
    if (tol)
        scn_run_tool(&r, "check", "--stats", boot, actual, "--json", "--stat-tolerance", tol, NULL);
    else
        scn_run_tool(&r, "check", "--stats", boot, actual, "--json", NULL);
    ck_assert_msg(r.status == want, "status %d, want %d:\n%s%s", r.status, want, r.out, r.err);
    cJSON *j = cJSON_Parse(r.out);
    ck_assert_msg(j, "not JSON:\n%s", r.out);
    scn_free(&r);
    return j;
}

static const cJSON *vcpu_kind(const cJSON *j, int vcpu, const char *kind)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItem(j, "vcpus"))
        if (cJSON_GetObjectItem(v, "vcpu")->valueint == vcpu)
            return cJSON_GetObjectItem(cJSON_GetObjectItem(v, "kinds"), kind);
    return NULL;
}

START_TEST(a_linux_boot_agrees_with_itself_in_every_histogram)
{
    struct scn_run r;
    scn_run_tool(&r, "check", "--stats", boot, boot, NULL);
    ck_assert_msg(r.status == 0, "status %d:\n%s%s", r.status, r.out, r.err);
    ck_assert(scn_has(r.out, ": agree\n"));
    ck_assert(scn_has(r.out, "every kind within its tolerance"));
    ck_assert(scn_has(r.out, "msr (0x7c)"));
    scn_free(&r);
    cJSON *j = stats_json(boot, 0, NULL);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "result")->valuestring, "agree");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "differing")), 0);
    /* The histograms are the trace's counts: vCPU 0's MSR exits, both vCPUs' exits and interrupts. */
    const cJSON *exit0 = vcpu_kind(j, 0, "exit");
    ck_assert(exit0);
    const cJSON *b;
    bool found = false;
    cJSON_ArrayForEach(b, cJSON_GetObjectItem(exit0, "bins"))
        if (!strcmp(cJSON_GetObjectItem(b, "key")->valuestring, "0x7c")) {
            ck_assert_uint_eq((unsigned)cJSON_GetObjectItem(b, "expected")->valuedouble, msr_exits(0));
            found = true;
        }
    ck_assert(found);
    ck_assert(vcpu_kind(j, 1, "exit") && vcpu_kind(j, 0, "irq") && vcpu_kind(j, 1, "irq"));
    cJSON_Delete(j);
}
END_TEST

START_TEST(msr_exits_fewer_beyond_the_tolerance_are_reported_as_that_kind_only)
{
    unsigned n = msr_exits(0), dropped;
    ck_assert_uint_ge(n, 60); /* enough for a third to exceed 10% + 2 */
    const char *p = drop_msr_exits("fewer_msr.jsonl", 3, &dropped);
    ck_assert_uint_gt(dropped, n / 10 + 3);
    cJSON *j = stats_json(p, 1, NULL);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "result")->valuestring, "differ");
    const cJSON *dif = cJSON_GetObjectItem(j, "differing");
    ck_assert_int_eq(cJSON_GetArraySize(dif), 1);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(dif, 0), "vcpu")->valueint, 0);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(dif, 0), "kind")->valuestring, "exit");
    /* Of vCPU 0's exits, only the MSR bin differs, by what was dropped. */
    const cJSON *b;
    unsigned differing = 0;
    cJSON_ArrayForEach(b, cJSON_GetObjectItem(vcpu_kind(j, 0, "exit"), "bins"))
        if (!strcmp(cJSON_GetObjectItem(b, "result")->valuestring, "differ")) {
            differing++;
            ck_assert_str_eq(cJSON_GetObjectItem(b, "name")->valuestring, "msr (0x7c)");
            ck_assert_uint_eq((unsigned)cJSON_GetObjectItem(b, "actual")->valuedouble, n - dropped);
            ck_assert_uint_eq((unsigned)cJSON_GetObjectItem(b, "allowed")->valuedouble,
                              2 + (n + 9) / 10);
        }
    ck_assert_uint_eq(differing, 1);
    cJSON_Delete(j);
    /* The report for people names it, and nothing else. */
    struct scn_run r;
    scn_run_tool(&r, "check", "--stats", boot, p, NULL);
    ck_assert_int_eq(r.status, 1);
    ck_assert_msg(scn_has(r.out, "\nbeyond tolerance: vcpu 0 exit;\n"), "%s", r.out);
    const char *m = strstr(r.out, "msr (0x7c)");
    ck_assert(m && strstr(m, "BEYOND TOLERANCE") < strchr(m, '\n'));
    unsigned marks = 0;
    for (const char *q = r.out; (q = strstr(q, "BEYOND TOLERANCE")); q++)
        marks++;
    ck_assert_uint_eq(marks, 1);
    scn_free(&r);
}
END_TEST

START_TEST(a_difference_within_the_tolerance_agrees_and_the_tolerance_is_a_flag)
{
    unsigned n = msr_exits(0), dropped;
    const char *p = drop_msr_exits("few_less_msr.jsonl", 20, &dropped); /* 5%: within 10% + 2 */
    ck_assert_uint_gt(dropped, 2);
    ck_assert_uint_le(dropped, n / 10 + 2);
    cJSON_Delete(stats_json(p, 0, NULL));
    cJSON *j = stats_json(p, 1, "exit=1%");
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "tolerances"), "exit")->valuestring,
                     "1%+0");
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "tolerances"), "irq")->valuestring,
                     "20%+2");
    cJSON_Delete(j);
    cJSON_Delete(stats_json(p, 0, "exit=any"));
    cJSON_Delete(stats_json(p, 0, "all=0,exit=5%+3"));
    cJSON_Delete(stats_json(p, 1, "exit=2"));
}
END_TEST

START_TEST(the_stats_junit_has_a_failing_testcase_for_the_kind_beyond_tolerance)
{
    unsigned dropped;
    const char *p = drop_msr_exits("fewer_msr.jsonl", 3, &dropped);
    char xml[320], cmd[1400];
    snprintf(xml, sizeof(xml), "%s/stats.xml", tmpdir);
    struct scn_run r;
    scn_run_tool(&r, "check", "--stats", boot, p, "--junit", xml, NULL);
    ck_assert_int_eq(r.status, 1);
    scn_free(&r);
    snprintf(cmd, sizeof(cmd),
             "python3 -c 'import sys, xml.etree.ElementTree as E\n"
             "s = E.parse(sys.argv[1]).getroot()\n"
             "assert s.tag == \"testsuite\" and s.get(\"name\") == sys.argv[2], s.attrib\n"
             "f = [c.get(\"name\") for c in s.iter(\"testcase\") if c.find(\"failure\") is not None]\n"
             "assert f == [\"vcpu 0: stats exit\"], f\n"
             "assert \"msr (0x7c)\" in s.find(\"testcase/failure\").get(\"message\")\n"
             "assert s.get(\"failures\") == \"1\"' %s %s",
             xml, boot);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(bad_stats_options_are_64_and_a_trace_without_counted_events_65)
{
    struct scn_run r;
    scn_run_tool(&r, "check", "--stats", boot, boot, "--stat-tolerance", "exit=ten", NULL);
    ck_assert_int_eq(r.status, 64);
    ck_assert(scn_has(r.err, "--stat-tolerance: 'ten'"));
    scn_free(&r);
    scn_run_tool(&r, "check", "--stats", boot, boot, "--stat-tolerance", "exits=1%", NULL);
    ck_assert_int_eq(r.status, 64);
    ck_assert(scn_has(r.err, "'exits' is not a kind"));
    scn_free(&r);
    scn_run_tool(&r, "check", "--stats", boot, boot, "--tolerance", "5", NULL);
    ck_assert_int_eq(r.status, 64);
    scn_free(&r);
    scn_run_tool(&r, "check", boot, boot, "--stat-tolerance", "exit=1%", NULL);
    ck_assert_int_eq(r.status, 64);
    scn_free(&r);
    /* Only a header and a console line: nothing --stats counts. */
    char empty[320];
    snprintf(empty, sizeof(empty), "%s/console_only.jsonl", tmpdir);
    FILE *f = fopen(empty, "w");
    fprintf(f, "%s\n{\"seq\":0,\"t\":0,\"vcpu\":0,\"ev\":\"console\",\"text\":\"hi\"}\n", lines[0]);
    fclose(f);
    scn_run_tool(&r, "check", "--stats", empty, boot, NULL);
    ck_assert_int_eq(r.status, 65);
    ck_assert(scn_has(r.err, "nothing to compare"));
    scn_free(&r);
    scn_run_tool(&r, "check", "--stats", boot, "/nonexistent.jsonl", NULL);
    ck_assert_int_eq(r.status, 66);
    scn_free(&r);
}
END_TEST

START_TEST(an_snp_guests_page_state_changes_are_counted_exactly)
{
    struct scn_run r;
    scn_run_guest(&r, "sev_psc", "--mode", "snp", NULL);
    ck_assert_msg(r.status == 0, "sev_psc: %d %s", r.status, r.err);
    char fewer[320];
    snprintf(fewer, sizeof(fewer), "%s/psc_fewer.jsonl", tmpdir);
    FILE *in = fopen(r.trace_path, "r"), *out = fopen(fewer, "w");
    ck_assert(in && out);
    char *line = NULL;
    size_t cap = 0;
    unsigned long seq = 0;
    bool first = true, dropped = false;
    while (getline(&line, &cap, in) > 0) {
        if (first) {
            fputs(line, out);
            first = false;
        } else if (!dropped && strstr(line, "\"ev\":\"psc\"") && strstr(line, "\"op\":\"shared\"")) {
            dropped = true;
        } else {
            fprintf(out, "{\"seq\":%lu%s", seq++, strchr(line, ','));
        }
    }
    free(line);
    fclose(in);
    fclose(out);
    ck_assert(dropped);
    struct scn_run c;
    scn_run_tool(&c, "check", "--stats", r.trace_path, r.trace_path, "--json", NULL);
    ck_assert_int_eq(c.status, 0);
    cJSON *j = cJSON_Parse(c.out);
    static const char *const kinds[] = {"exit", "vmgexit", "ghcb_msr", "vc", "psc"};
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
        ck_assert_msg(vcpu_kind(j, 0, kinds[k]), "no %s histogram", kinds[k]);
    cJSON_Delete(j);
    scn_free(&c);
    scn_run_tool(&c, "check", "--stats", r.trace_path, fewer, NULL);
    ck_assert_int_eq(c.status, 1);
    ck_assert_msg(scn_has(c.out, "\nbeyond tolerance: vcpu 0 psc;\n"), "%s", c.out);
    ck_assert(scn_has(c.out, "vmgexit_page_state_change (0x80000010)"));
    scn_free(&c);
    scn_free(&r);
}
END_TEST

/* import LOG, replay it with --out, check the pair into XML: the pipeline of a CI job. */
static void pipeline(const char *log, char *xml, size_t len)
{
    char trace[320], model[330];
    snprintf(trace, sizeof(trace), "%s/%s.jsonl", tmpdir, log);
    snprintf(model, sizeof(model), "%s.model", trace);
    snprintf(xml, len, "%s.xml", trace);
    char path[400];
    snprintf(path, sizeof(path), FIXTURES "%s.txt", log);
    struct scn_run r;
    scn_run_tool(&r, "import", "ftrace", path, "--out", trace, NULL);
    ck_assert_msg(r.status == 0, "%s: %s", log, r.err);
    scn_free(&r);
    scn_run_tool(&r, "replay", trace, "--out", model, "--quiet", NULL);
    ck_assert_msg(r.status == 0 || r.status == 1, "%s: replay %d %s", log, r.status, r.err);
    scn_free(&r);
    scn_run_tool(&r, "check", trace, model, "--junit", xml, NULL);
    ck_assert_msg(r.status == 0 || r.status == 1, "%s: check %d %s", log, r.status, r.err);
    scn_free(&r);
}

START_TEST(junit_files_of_three_logs_merge_into_one_valid_file)
{
    static const char *const logs[3] = {"kvm_svm_report", "kvm_raw_trace", "kvm_selfipi_wrongvec"};
    char xml[3][400], merged[320], cmd[2400];
    for (int i = 0; i < 3; i++)
        pipeline(logs[i], xml[i], sizeof(xml[i]));
    snprintf(merged, sizeof(merged), "%s/merged.xml", tmpdir);
    struct scn_run r;
    scn_run_tool(&r, "check", "--junit-merge", merged, xml[0], xml[1], xml[2], NULL);
    ck_assert_msg(r.status == 0, "merge %d: %s", r.status, r.err);
    scn_free(&r);
    snprintf(cmd, sizeof(cmd), "xmllint --noout %s", merged);
    ck_assert_msg(system(cmd) == 0, "%s failed (xmllint is in libxml2-utils, scripts/setup.sh)", cmd);
    /* Three suites named after the three logs; the merged counts are the sums;
     * every (classname, name) once; the wrong-vector log's failure kept. */
    snprintf(cmd, sizeof(cmd),
             "python3 -c 'import sys, xml.etree.ElementTree as E\n"
             "m = E.parse(sys.argv[1]).getroot()\n"
             "ins = [E.parse(p).getroot() for p in sys.argv[2:]]\n"
             "assert m.tag == \"testsuites\"\n"
             "assert [s.get(\"name\") for s in m.findall(\"testsuite\")] == [i.get(\"name\") for i in ins]\n"
             "assert [i.get(\"name\") for i in ins] == [p[:-4] for p in sys.argv[2:]]\n"
             "cases = [(c.get(\"classname\"), c.get(\"name\")) for c in m.iter(\"testcase\")]\n"
             "assert len(cases) == len(set(cases)) == sum(int(i.get(\"tests\")) for i in ins)\n"
             "assert m.get(\"tests\") == str(len(cases))\n"
             "assert m.get(\"failures\") == str(sum(int(i.get(\"failures\")) for i in ins))\n"
             "assert int(ins[2].get(\"failures\")) >= 1\n' %s %s %s %s",
             merged, xml[0], xml[1], xml[2]);
    ck_assert_int_eq(system(cmd), 0);
    /* The same log twice would hide a testcase: refused, nothing written. */
    char again[330];
    snprintf(again, sizeof(again), "%s/again.xml", tmpdir);
    scn_run_tool(&r, "check", "--junit-merge", again, xml[0], xml[0], NULL);
    ck_assert_int_eq(r.status, 65);
    ck_assert(scn_has(r.err, "is also in"));
    struct stat st;
    ck_assert(stat(again, &st) != 0);
    scn_free(&r);
    scn_run_tool(&r, "check", "--junit-merge", again, boot, NULL);
    ck_assert_int_eq(r.status, 65);
    scn_free(&r);
    scn_run_tool(&r, "check", "--junit-merge", again, NULL);
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
    Suite *s = suite_create("check_stats");
    TCase *tc = tcase_create("linux boot histograms");
    tcase_add_unchecked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, a_linux_boot_agrees_with_itself_in_every_histogram);
    tcase_add_test(tc, msr_exits_fewer_beyond_the_tolerance_are_reported_as_that_kind_only);
    tcase_add_test(tc, a_difference_within_the_tolerance_agrees_and_the_tolerance_is_a_flag);
    tcase_add_test(tc, the_stats_junit_has_a_failing_testcase_for_the_kind_beyond_tolerance);
    tcase_add_test(tc, bad_stats_options_are_64_and_a_trace_without_counted_events_65);
    tcase_add_test(tc, an_snp_guests_page_state_changes_are_counted_exactly);
    tcase_add_test(tc, junit_files_of_three_logs_merge_into_one_valid_file);
    suite_add_tcase(s, tc);
    return scn_run_suite(s, tmpdir);
}
