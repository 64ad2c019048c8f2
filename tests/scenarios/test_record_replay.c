/* SPDX-License-Identifier: MIT */
/*
 * Record, then replay (issue 5, docs/conformance.md): every guest the build
 * has, and the built-in demo, run in each mode the model has, and `snpref
 * replay` of its trace must reproduce every recorded outcome; its own trace
 * must be the recorded one byte for byte, and `snpref check` of the two must
 * agree. Then the ways a trace can be bad: each is one line naming the file,
 * the line and the field, status 65, and no --out file left behind.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scn.h"
#include "ck_run.h"

static char tmpdir[] = "/tmp/snpref-test-record-replay-XXXXXX";

static bool exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static bool same_file(const char *a, const char *b)
{
    FILE *x = fopen(a, "rb"), *y = fopen(b, "rb");
    bool same = x && y;
    for (int c, d; same;) {
        c = fgetc(x);
        d = fgetc(y);
        same = c == d;
        if (c == EOF || d == EOF)
            break;
    }
    if (x)
        fclose(x);
    if (y)
        fclose(y);
    return same;
}

static size_t lines_of(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* Runs guest (NULL: the demo) in mode, replays its trace and checks the pair. */
static void record_and_replay(const char *guest, const char *mode)
{
    struct scn_run run;
    scn_run_guest_in(&run, guest, mode);
    ck_assert_msg(run.nev > 0, "%s (%s): no trace (status %d): %s", guest ? guest : "demo", mode,
                  run.status, run.err);
    char out[256];
    snprintf(out, sizeof(out), "%s/%s.%s.replay.jsonl", tmpdir, guest ? guest : "demo", mode);
    struct scn_run rp;
    scn_run_tool(&rp, "replay", run.trace_path, "--out", out, NULL);
    ck_assert_msg(rp.status == 0, "%s (%s): replay status %d:\n%s", guest ? guest : "demo", mode,
                  rp.status, rp.err);
    ck_assert_msg(scn_has(rp.err, "agrees"), "%s", rp.err);
    /* The run's own trace is complete: every outcome the replay produces is
     * in it (a fabric's hook decisions too). */
    ck_assert_msg(scn_has(rp.err, " 0 not recorded,") && scn_has(rp.err, "(strict)"), "%s (%s): %s",
                  guest ? guest : "demo", mode, rp.err);
    ck_assert_msg(same_file(run.trace_path, out), "%s (%s): the replay's trace differs from the run's",
                  guest ? guest : "demo", mode);
    scn_free(&rp);
    scn_run_tool(&rp, "check", run.trace_path, out, NULL);
    ck_assert_msg(rp.status == 0, "%s (%s): check status %d:\n%s", guest ? guest : "demo", mode,
                  rp.status, rp.out);
    scn_free(&rp);
    unlink(out);
    scn_free(&run);
}

static void every_guest(const char *mode)
{
    DIR *d = opendir(SNPREF_GUEST_DIR);
    ck_assert(d);
    unsigned n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".elf"))
            continue;
        char name[256];
        snprintf(name, sizeof(name), "%.*s", (int)(len - 4), e->d_name);
        record_and_replay(name, mode);
        n++;
    }
    closedir(d);
    ck_assert_uint_ge(n, 10);
    record_and_replay(NULL, mode);
}

START_TEST(every_plain_guest_replays_to_its_own_trace)
{
    every_guest("plain");
}
END_TEST

START_TEST(every_guest_under_sev_es_replays_to_its_own_trace)
{
    every_guest("sev-es");
}
END_TEST

START_TEST(every_guest_under_snp_replays_to_its_own_trace)
{
    every_guest("snp");
}
END_TEST

START_TEST(every_guest_with_secure_avic_replays_to_its_own_trace)
{
    every_guest("savic");
}
END_TEST

/* The variant of docs/fabric-plugins.md: its hook decisions are outcomes. */
START_TEST(every_guest_with_the_savic_xipi_variant_replays_to_its_own_trace)
{
    every_guest("savic-xipi");
}
END_TEST

START_TEST(a_changed_outcome_is_reported_at_its_line_with_context)
{
    struct scn_run run;
    scn_run_guest(&run, "selfipi_prio", NULL);
    ck_assert_int_eq(run.status, 0);
    size_t i = scn_find(&run, 0, "irq_accept", 0, NULL, 0);
    ck_assert(i != SIZE_MAX);
    /* Rewrite that line with another vector. */
    FILE *in = fopen(run.trace_path, "r");
    char bad[256], out[256];
    snprintf(bad, sizeof(bad), "%s/changed.jsonl", tmpdir);
    snprintf(out, sizeof(out), "%s/changed.out.jsonl", tmpdir);
    FILE *o = fopen(bad, "w");
    char line[4096];
    unsigned long n = 0, target = (unsigned long)i + 2; /* header is line 1 */
    uint64_t v = scn_u(&run.ev[i], "vector");
    while (fgets(line, sizeof(line), in)) {
        char *p;
        char was[32], now[32];
        snprintf(was, sizeof(was), "\"vector\":%llu,", (unsigned long long)v);
        snprintf(now, sizeof(now), "\"vector\":%llu,", (unsigned long long)v + 1);
        if (++n == target && (p = strstr(line, was))) {
            fprintf(o, "%.*s%s%s", (int)(p - line), line, now, p + strlen(was));
            continue;
        }
        fputs(line, o);
    }
    fclose(in);
    fclose(o);
    struct scn_run rp;
    scn_run_tool(&rp, "replay", bad, "--out", out, NULL);
    ck_assert_int_eq(rp.status, 1);
    char want[300];
    snprintf(want, sizeof(want), "%s:%lu:", bad, target);
    ck_assert_msg(scn_has(rp.err, want), "%s", rp.err);
    ck_assert(scn_has(rp.err, "expected") && scn_has(rp.err, "actual"));
    ck_assert(scn_has(rp.err, "context"));
    snprintf(want, sizeof(want), "> %6lu", target);
    ck_assert_msg(scn_has(rp.err, want), "the context marks the line:\n%s", rp.err);
    ck_assert(exists(out)); /* complete, up to the divergence (issue 11) */
    snprintf(want, sizeof(want), "%s.tmp", out);
    ck_assert(!exists(want));
    scn_free(&rp);
    scn_free(&run);
}
END_TEST

/* ---- Malformed traces --------------------------------------------------------------- */

static const char header[] =
    "{\"format\":\"snpref-trace\",\"version\":1,\"model\":\"snpref 0.1.0\",\"mode\":\"plain\","
    "\"vcpus\":1,\"fabric\":\"emulated\",\"quantum\":2000,\"config\":{\"vcpus\":1}}\n";

static const struct {
    const char *body;  /* after the header */
    unsigned line;
    const char *field; /* named in the message */
} bad_traces[] = {
    {"{\"seq\":0,\"t\":5,\"vcpu\":0,\"ev\":\"hlt\",\"rip\":\"0x1\"\n", 2, "column"},
    {"{\"seq\":0,\"t\":5,\"vcpu\":0,\"ev\":\"hlt\"}\n", 2, "field 'rip'"},
    {"{\"seq\":0,\"t\":\"5\",\"vcpu\":0,\"ev\":\"hlt\",\"rip\":\"0x1\"}\n", 2, "field 't'"},
    {"{\"seq\":0,\"t\":5,\"vcpu\":0,\"ev\":\"hlt\",\"rip\":\"0x1\"}\n"
     "{\"seq\":1,\"t\":6,\"vcpu\":0,\"ev\":\"hlt\",\"rip\":\"0x1\"}",
     3, "truncated"},
    {"{\"seq\":0,\"t\":5,\"vcpu\":0,\"ev\":\"teleport\",\"rip\":\"0x1\"}\n", 2, "field 'ev'"},
    {"{\"seq\":0,\"t\":5,\"vcpu\":3,\"ev\":\"hlt\",\"rip\":\"0x1\"}\n", 2, "field 'vcpu'"},
    {"{\"seq\":0,\"t\":5,\"vcpu\":0,\"ev\":\"msr\",\"op\":\"xx\",\"msr\":\"0x80b\",\"value\":\"0x0\","
     "\"result\":\"ok\"}\n",
     2, "field 'op'"},
};

START_TEST(a_malformed_trace_is_one_line_naming_file_line_and_field)
{
    char path[256], out[256], msg[300];
    snprintf(path, sizeof(path), "%s/bad%d.jsonl", tmpdir, _i);
    snprintf(out, sizeof(out), "%s/bad%d.out.jsonl", tmpdir, _i);
    FILE *f = fopen(path, "w");
    fputs(header, f);
    fputs(bad_traces[_i].body, f);
    fclose(f);
    struct scn_run r;
    scn_run_tool(&r, "replay", path, "--out", out, NULL);
    ck_assert_msg(r.status == 65, "status %d: %s", r.status, r.err);
    ck_assert_uint_eq(lines_of(r.err), 1);
    snprintf(msg, sizeof(msg), "%s:%u:", path, bad_traces[_i].line);
    ck_assert_msg(scn_has(r.err, msg) && scn_has(r.err, bad_traces[_i].field), "%s", r.err);
    ck_assert(!exists(out));
    snprintf(msg, sizeof(msg), "%s.tmp", out);
    ck_assert(!exists(msg));
    scn_free(&r);
}
END_TEST

START_TEST(a_bad_header_config_names_the_config_field)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/badcfg.jsonl", tmpdir);
    FILE *f = fopen(path, "w");
    fputs("{\"format\":\"snpref-trace\",\"version\":1,\"model\":\"snpref 0.1.0\",\"mode\":\"plain\","
          "\"vcpus\":1,\"fabric\":\"emulated\",\"quantum\":2000,"
          "\"config\":{\"vcpus\":1,\"cost\":{\"vmexit\":\"lots\"}}}\n",
          f);
    fclose(f);
    struct scn_run r;
    scn_run_tool(&r, "replay", path, NULL);
    ck_assert_int_eq(r.status, 65);
    ck_assert_msg(scn_has(r.err, ":1: field 'config.cost.vmexit'"), "%s", r.err);
    scn_free(&r);
}
END_TEST

START_TEST(a_missing_trace_is_status_66_and_bad_options_64)
{
    struct scn_run r;
    scn_run_tool(&r, "replay", "/nonexistent/t.jsonl", NULL);
    ck_assert_int_eq(r.status, 66);
    ck_assert(scn_has(r.err, "/nonexistent/t.jsonl"));
    scn_free(&r);
    scn_run_tool(&r, "replay", NULL);
    ck_assert_int_eq(r.status, 64);
    scn_free(&r);
    scn_run_tool(&r, "replay", "x.jsonl", "--tolerance", "soon", NULL);
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
    Suite *s = suite_create("record_replay");
    TCase *tc = tcase_create("record then replay");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, every_plain_guest_replays_to_its_own_trace);
    tcase_add_test(tc, every_guest_under_sev_es_replays_to_its_own_trace);
    tcase_add_test(tc, every_guest_under_snp_replays_to_its_own_trace);
    tcase_add_test(tc, every_guest_with_secure_avic_replays_to_its_own_trace);
    tcase_add_test(tc, every_guest_with_the_savic_xipi_variant_replays_to_its_own_trace);
    tcase_add_test(tc, a_changed_outcome_is_reported_at_its_line_with_context);
    suite_add_tcase(s, tc);
    TCase *bad = tcase_create("malformed");
    tcase_add_loop_test(bad, a_malformed_trace_is_one_line_naming_file_line_and_field, 0,
                        (int)(sizeof(bad_traces) / sizeof(bad_traces[0])));
    tcase_add_test(bad, a_bad_header_config_names_the_config_field);
    tcase_add_test(bad, a_missing_trace_is_status_66_and_bad_options_64);
    suite_add_tcase(s, bad);
    int failed = ck_run(s, CK_RUN_FORK) != EXIT_SUCCESS;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        return 1;
    return failed ? 1 : 0;
}
