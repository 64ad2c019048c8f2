/* SPDX-License-Identifier: MIT */
/*
 * The command line as a user meets it (design.md section 3): exit statuses,
 * one-line errors naming the file, line and field for every kind of bad input,
 * nothing half-written, and traces that are deterministic and round-trip byte
 * for byte through the reader.
 */
#include <check.h>
#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scn.h"

static char tmpdir[64];

static const char *tmpfile_with(const char *name, const void *data, size_t len)
{
    static char path[4][256];
    static int k;
    char *p = path[k++ % 4];
    snprintf(p, 256, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "wb");
    ck_assert(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
    return p;
}

/* An error is one line on stderr. */
static void assert_one_line(const struct scn_run *r)
{
    size_t nl = 0;
    for (const char *p = r->err; *p; p++)
        nl += *p == '\n';
    ck_assert_msg(nl == 1, "expected one line, got:\n%s", r->err);
}

static void setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/snpref_cliXXXXXX");
    ck_assert(mkdtemp(tmpdir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(a_missing_guest_file_is_named_with_status_66)
{
    struct scn_run r;
    scn_run_tool(&r, "run", "/nonexistent/guest.elf", NULL);
    ck_assert_int_eq(r.status, 66);
    ck_assert(scn_has(r.err, "/nonexistent/guest.elf"));
    assert_one_line(&r);
    scn_free(&r);
}
END_TEST

START_TEST(a_file_that_is_not_elf_is_refused_with_status_65)
{
    const char *p = tmpfile_with("text.elf", "hello, world\n", 13);
    struct scn_run r;
    scn_run_tool(&r, "run", p, NULL);
    ck_assert_int_eq(r.status, 65);
    ck_assert(scn_has(r.err, p) && scn_has(r.err, "not an ELF file"));
    assert_one_line(&r);
    scn_free(&r);
}
END_TEST

START_TEST(a_32_bit_elf_is_refused_with_status_65)
{
    Elf32_Ehdr eh = {0};
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS32;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_type = ET_EXEC;
    eh.e_machine = EM_386;
    const char *p = tmpfile_with("i386.elf", &eh, sizeof(eh));
    struct scn_run r;
    scn_run_tool(&r, "run", p, NULL);
    ck_assert_int_eq(r.status, 65);
    ck_assert(scn_has(r.err, "32-bit ELF"));
    assert_one_line(&r);
    scn_free(&r);
}
END_TEST

/* A one-segment ELF64 whose segment sits at paddr and holds code. */
static const char *elf64_code(const char *name, uint64_t paddr, const uint8_t *code, size_t len)
{
    struct {
        Elf64_Ehdr eh;
        Elf64_Phdr ph;
        uint8_t code[16];
    } img;
    memset(&img, 0, sizeof(img));
    memcpy(img.eh.e_ident, ELFMAG, SELFMAG);
    img.eh.e_ident[EI_CLASS] = ELFCLASS64;
    img.eh.e_ident[EI_DATA] = ELFDATA2LSB;
    img.eh.e_ident[EI_VERSION] = EV_CURRENT;
    img.eh.e_type = ET_EXEC;
    img.eh.e_machine = EM_X86_64;
    img.eh.e_version = EV_CURRENT;
    img.eh.e_entry = paddr;
    img.eh.e_phoff = sizeof(Elf64_Ehdr);
    img.eh.e_ehsize = sizeof(Elf64_Ehdr);
    img.eh.e_phentsize = sizeof(Elf64_Phdr);
    img.eh.e_phnum = 1;
    img.ph.p_type = PT_LOAD;
    img.ph.p_flags = PF_R | PF_X;
    img.ph.p_offset = offsetof(typeof(img), code);
    img.ph.p_vaddr = img.ph.p_paddr = paddr;
    img.ph.p_filesz = img.ph.p_memsz = sizeof(img.code);
    ck_assert(len <= sizeof(img.code));
    memcpy(img.code, code, len);
    return tmpfile_with(name, &img, sizeof(img));
}

static const char *elf64_at(const char *name, uint64_t paddr)
{
    /* mov $7, %eax; out %eax, $0xf4 */
    static const uint8_t code[] = {0xB8, 0x07, 0x00, 0x00, 0x00, 0xE7, 0xF4};
    return elf64_code(name, paddr, code, sizeof(code));
}

START_TEST(a_segment_outside_guest_ram_is_refused_with_status_65)
{
    const char *p = elf64_at("far.elf", 0x100000000ull);
    struct scn_run r;
    scn_run_tool(&r, "run", p, NULL);
    ck_assert_int_eq(r.status, 65);
    ck_assert_msg(scn_has(r.err, "segment 0") && scn_has(r.err, "outside guest RAM"), "%s", r.err);
    assert_one_line(&r);
    scn_free(&r);
}
END_TEST

START_TEST(a_minimal_elf_runs_and_its_exit_value_is_the_status)
{
    const char *p = elf64_at("min.elf", 0x200000);
    struct scn_run r;
    scn_run_tool(&r, "run", p, "--quiet", NULL);
    ck_assert_int_eq(r.status, 7);
    scn_free(&r);
    scn_run_tool(&r, "run", p, "--quiet", "--exit-style", "qemu", NULL);
    ck_assert_int_eq(r.status, (7 << 1) | 1);
    scn_free(&r);
}
END_TEST

START_TEST(malformed_config_json_names_the_file_and_line_with_status_65)
{
    const char cfg[] = "{\n  \"vcpus\": 2,\n  \"ram_mb\": 64,,\n}\n";
    const char *p = tmpfile_with("bad.json", cfg, sizeof(cfg) - 1);
    struct scn_run r;
    scn_run_tool(&r, "run", "--config", p, NULL);
    ck_assert_int_eq(r.status, 65);
    char want[300];
    snprintf(want, sizeof(want), "%s:3:", p);
    ck_assert_msg(scn_has(r.err, want), "%s", r.err);
    assert_one_line(&r);
    scn_free(&r);
}
END_TEST

START_TEST(an_unknown_config_key_names_its_line_and_field_with_status_65)
{
    const char cfg[] = "{\n  \"vcpus\": 2,\n  \"cost\": {\n    \"vmexit\": 10,\n    \"warp\": 1\n  }\n}\n";
    const char *p = tmpfile_with("unknown.json", cfg, sizeof(cfg) - 1);
    struct scn_run r;
    scn_run_tool(&r, "run", "--config", p, NULL);
    ck_assert_int_eq(r.status, 65);
    char want[300];
    snprintf(want, sizeof(want), "%s:5: field 'cost.warp': unknown key", p);
    ck_assert_msg(scn_has(r.err, want), "%s", r.err);
    assert_one_line(&r);
    scn_free(&r);
}
END_TEST

START_TEST(a_config_value_of_the_wrong_type_names_its_field_with_status_65)
{
    const char cfg[] = "{\"vcpus\": \"four\"}";
    const char *p = tmpfile_with("type.json", cfg, sizeof(cfg) - 1);
    struct scn_run r;
    scn_run_tool(&r, "run", "--config", p, NULL);
    ck_assert_int_eq(r.status, 65);
    ck_assert(scn_has(r.err, ":1: field 'vcpus'"));
    scn_free(&r);
}
END_TEST

START_TEST(a_missing_config_file_has_status_66)
{
    struct scn_run r;
    scn_run_tool(&r, "run", "--config", "/nonexistent/cfg.json", NULL);
    ck_assert_int_eq(r.status, 66);
    ck_assert(scn_has(r.err, "/nonexistent/cfg.json"));
    assert_one_line(&r);
    scn_free(&r);
}
END_TEST

START_TEST(bad_flag_values_are_named_with_status_64)
{
    static const char *const bad[][3] = {
        {"--vcpus", "0", "--vcpus"},       {"--vcpus", "four", "--vcpus"},
        {"--vcpus", "257", "--vcpus"},     {"--mode", "tdx", "--mode"},
        {"--apic", "nope", "--apic"},      {"--max-insns", "-5", "--max-insns"},
        {"--exit-style", "bash", "--exit-style"}, {"--bogus", "1", "--bogus"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct scn_run r;
        scn_run_tool(&r, "run", bad[i][0], bad[i][1], NULL);
        ck_assert_msg(r.status == 64, "%s %s: status %d", bad[i][0], bad[i][1], r.status);
        ck_assert_msg(scn_has(r.err, bad[i][2]), "%s", r.err);
        assert_one_line(&r);
        scn_free(&r);
    }
}
END_TEST

START_TEST(the_instruction_limit_ends_the_run_with_status_81)
{
    struct scn_run r;
    scn_run_guest(&r, NULL, "--max-insns", "5000", NULL);
    ck_assert_int_eq(r.status, 81);
    ck_assert(scn_has(r.err, "instruction limit of 5000"));
    ck_assert_uint_eq(scn_count(&r, "limit", -1), 1);
    scn_free(&r);
}
END_TEST

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

START_TEST(two_runs_write_byte_identical_traces)
{
    char a[300], b[300];
    snprintf(a, sizeof(a), "%s/a.jsonl", tmpdir);
    snprintf(b, sizeof(b), "%s/b.jsonl", tmpdir);
    struct scn_run r;
    scn_run_tool(&r, "run", "--trace", a, "--quiet", NULL);
    ck_assert_int_eq(r.status, 0);
    scn_free(&r);
    scn_run_tool(&r, "run", "--trace", b, "--quiet", NULL);
    ck_assert_int_eq(r.status, 0);
    scn_free(&r);
    size_t la, lb;
    char *da = slurp(a, &la), *db = slurp(b, &lb);
    ck_assert_uint_gt(la, 1000);
    ck_assert(la == lb && !memcmp(da, db, la));
    free(da);
    free(db);
}
END_TEST

START_TEST(a_trace_read_and_written_again_is_byte_identical)
{
    char a[300];
    snprintf(a, sizeof(a), "%s/a.jsonl", tmpdir);
    struct scn_run r;
    scn_run_tool(&r, "run", scn_guest_path("ipi_smp"), "--trace", a, "--quiet", NULL);
    ck_assert_int_eq(r.status, 0);
    scn_free(&r);
    size_t len;
    char *orig = slurp(a, &len);
    char err[512];
    struct trc_reader *rd = trc_reader_open(a, err, sizeof(err));
    ck_assert_msg(rd != NULL, "%s", err);
    size_t cap = len + 1, n = 0;
    char *out = malloc(cap);
    char *hdr = trc_format_header(trc_reader_header(rd));
    n += (size_t)snprintf(out + n, cap - n, "%s\n", hdr);
    free(hdr);
    struct trc_rec rec;
    int rc;
    size_t events = 0;
    char line[4096];
    while ((rc = trc_reader_next(rd, &rec, err, sizeof(err))) == 1) {
        size_t l = trc_format(&rec, line, sizeof(line));
        ck_assert(n + l + 1 < cap);
        memcpy(out + n, line, l);
        out[n + l] = '\n';
        n += l + 1;
        events++;
    }
    ck_assert_msg(rc == 0, "%s", err);
    trc_reader_close(rd);
    ck_assert_uint_gt(events, 100);
    ck_assert_uint_eq(n, len);
    ck_assert(!memcmp(out, orig, len));
    free(out);
    free(orig);
}
END_TEST

START_TEST(a_failed_run_leaves_no_trace_behind)
{
    char a[300], tmp[310];
    snprintf(a, sizeof(a), "%s/never.jsonl", tmpdir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", a);
    struct scn_run r;
    scn_run_tool(&r, "run", "/nonexistent.elf", "--trace", a, NULL);
    ck_assert_int_eq(r.status, 66);
    ck_assert(access(a, F_OK) != 0 && access(tmp, F_OK) != 0);
    scn_free(&r);
}
END_TEST

/* ---- Long and interrupted runs ------------------------------------------------------ */

/* A guest that never ends: jmp . */
static const char *looping_guest(void)
{
    static const uint8_t code[] = {0xEB, 0xFE};
    return elf64_code("loop.elf", 0x200000, code, sizeof(code));
}

struct child {
    pid_t pid;
    char err[300];
};

/* Starts `snpref ARGS...` with stdout discarded and stderr to a file. */
static void start_tool(struct child *c, const char *const *args)
{
    char *argv[16];
    int n = 0;
    argv[n++] = (char *)SNPREF_TOOL;
    for (; *args; args++)
        argv[n++] = (char *)*args;
    argv[n] = NULL;
    snprintf(c->err, sizeof(c->err), "%s/stderr", tmpdir);
    c->pid = fork();
    ck_assert(c->pid >= 0);
    if (c->pid == 0) {
        int fd = open(c->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(fd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
}

static bool file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    char buf[8192];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

/* Waits (polling, up to a minute) until the condition holds: the test sends
 * its signal only once the run is known to be under way. */
static void wait_until(bool (*cond)(const char *, const char *), const char *a, const char *b)
{
    for (int i = 0; i < 6000 && !cond(a, b); i++)
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    ck_assert_msg(cond(a, b), "%s never showed %s", a, b ? b : "up");
}

static bool exists(const char *path, const char *unused)
{
    (void)unused;
    return access(path, F_OK) == 0;
}

static int finish(struct child *c)
{
    int st;
    ck_assert(waitpid(c->pid, &st, 0) == c->pid);
    ck_assert_msg(WIFEXITED(st), "snpref died of signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    return WEXITSTATUS(st);
}

/* The trace is complete (the reader reads it to the end), its last line is the
 * interrupted event with the signal, replay reads it, and no .tmp is left. */
static void assert_interrupted_trace(const char *trace, int signo)
{
    char tmp[320], want[64];
    snprintf(tmp, sizeof(tmp), "%s.tmp", trace);
    ck_assert_msg(access(tmp, F_OK) != 0, "%s left behind", tmp);
    struct scn_run r = {0};
    snprintf(r.trace_path, sizeof(r.trace_path), "%s", trace);
    scn_load_trace(&r);
    ck_assert_uint_ge(r.nev, 1);
    const struct scn_event *last = &r.ev[r.nev - 1];
    ck_assert_msg(scn_is(last, "interrupted"), "last event: %s", trc_catalogue[last->r.ev].name);
    ck_assert_uint_eq(scn_u(last, "signal"), (uint64_t)signo);
    ck_assert_uint_eq(scn_count(&r, "interrupted", -2), 1);
    r.trace_path[0] = '\0'; /* scn_free would delete it */
    scn_free(&r);
    size_t len;
    char *text = slurp(trace, &len);
    snprintf(want, sizeof(want), "\"ev\":\"interrupted\",\"signal\":%d,", signo);
    ck_assert(len > 0 && text[len - 1] == '\n');
    text[len - 1] = '\0';
    const char *line = strrchr(text, '\n');
    ck_assert_msg(line && strstr(line, want), "last line: %s", line ? line : text);
    free(text);
    scn_run_tool(&r, "replay", trace, NULL);
    ck_assert_msg(r.status == 0, "replay: status %d: %s", r.status, r.err);
    scn_free(&r);
}

START_TEST(sigint_ends_a_long_run_with_a_complete_trace_marked_interrupted_and_status_130)
{
    char trace[300];
    snprintf(trace, sizeof(trace), "%s/long.jsonl", tmpdir);
    const char *args[] = {"run", looping_guest(), "--vcpus", "1", "--max-insns", "2000000000",
                          "--trace", trace, "--progress", NULL};
    struct child c;
    start_tool(&c, args);
    /* A progress line on stderr: the guest is running. */
    wait_until(file_has, c.err, " ms simulated, ");
    kill(c.pid, SIGINT);
    ck_assert_int_eq(finish(&c), 130);
    ck_assert_msg(file_has(c.err, "interrupted by signal 2"), "no reason on stderr");
    ck_assert_msg(file_has(c.err, "  vcpu        insns"), "no summary on stderr");
    assert_interrupted_trace(trace, SIGINT);
}
END_TEST

START_TEST(sigterm_ends_a_long_run_with_status_143_and_no_progress_in_a_pipe)
{
    char trace[300], tmp[310];
    snprintf(trace, sizeof(trace), "%s/term.jsonl", tmpdir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", trace);
    const char *args[] = {"run", looping_guest(), "--vcpus", "1", "--max-insns", "2000000000",
                          "--trace", trace, NULL};
    struct child c;
    start_tool(&c, args);
    /* The handlers are in place before the trace is opened. */
    wait_until(exists, tmp, NULL);
    kill(c.pid, SIGTERM);
    ck_assert_int_eq(finish(&c), 143);
    ck_assert(file_has(c.err, "interrupted by signal 15"));
    ck_assert_msg(!file_has(c.err, " ms simulated, "), "progress without --progress in a pipe");
    assert_interrupted_trace(trace, SIGTERM);
}
END_TEST

START_TEST(progress_appears_with_the_flag_and_never_in_a_pipe_without_it)
{
    struct scn_run r;
    scn_run_tool(&r, "run", "--progress", "--quiet", NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(scn_has(r.err, " instructions, ") && scn_has(r.err, " ms simulated, ") &&
                      scn_has(r.err, " M instructions/s\n"),
                  "%s", r.err);
    ck_assert_msg(!strchr(r.err, '\r'), "a pipe gets whole lines, not redraws");
    scn_free(&r);
    scn_run_tool(&r, "run", NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(!scn_has(r.err, " ms simulated, "), "%s", r.err);
    scn_free(&r);
    scn_run_tool(&r, "run", "--progress", "--no-progress", NULL);
    ck_assert_msg(!scn_has(r.err, " ms simulated, "), "%s", r.err);
    scn_free(&r);
}
END_TEST

START_TEST(help_and_version_exit_zero)
{
    struct scn_run r;
    scn_run_tool(&r, "--help", NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert(scn_has(r.out, "run [GUEST.elf]"));
    scn_free(&r);
    scn_run_tool(&r, "run", "--help", NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert(scn_has(r.out, "--exit-style"));
    scn_free(&r);
    scn_run_tool(&r, "--version", NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert(scn_has(r.out, "snpref "));
    scn_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("command line");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 300);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_missing_guest_file_is_named_with_status_66);
    tcase_add_test(tc, a_file_that_is_not_elf_is_refused_with_status_65);
    tcase_add_test(tc, a_32_bit_elf_is_refused_with_status_65);
    tcase_add_test(tc, a_segment_outside_guest_ram_is_refused_with_status_65);
    tcase_add_test(tc, a_minimal_elf_runs_and_its_exit_value_is_the_status);
    tcase_add_test(tc, malformed_config_json_names_the_file_and_line_with_status_65);
    tcase_add_test(tc, an_unknown_config_key_names_its_line_and_field_with_status_65);
    tcase_add_test(tc, a_config_value_of_the_wrong_type_names_its_field_with_status_65);
    tcase_add_test(tc, a_missing_config_file_has_status_66);
    tcase_add_test(tc, bad_flag_values_are_named_with_status_64);
    tcase_add_test(tc, the_instruction_limit_ends_the_run_with_status_81);
    tcase_add_test(tc, two_runs_write_byte_identical_traces);
    tcase_add_test(tc, a_trace_read_and_written_again_is_byte_identical);
    tcase_add_test(tc, a_failed_run_leaves_no_trace_behind);
    tcase_add_test(tc, help_and_version_exit_zero);
    tcase_add_test(tc, sigint_ends_a_long_run_with_a_complete_trace_marked_interrupted_and_status_130);
    tcase_add_test(tc, sigterm_ends_a_long_run_with_status_143_and_no_progress_in_a_pipe);
    tcase_add_test(tc, progress_appears_with_the_flag_and_never_in_a_pipe_without_it);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
