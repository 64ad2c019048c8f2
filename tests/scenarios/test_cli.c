/* SPDX-License-Identifier: MIT */
/*
 * The command line as a user meets it (docs/design.md section 3): exit statuses,
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
#include "ck_run.h"

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

/* ---- The CLI contract (issue 15) ------------------------------------------------------- */

START_TEST(a_trace_in_a_missing_directory_has_status_66_like_the_other_verbs)
{
    char path[300];
    snprintf(path, sizeof(path), "%s/missing/x.jsonl", tmpdir);
    struct scn_run r;
    scn_run_tool(&r, "run", "--trace", path, "--quiet", NULL);
    ck_assert_int_eq(r.status, 66);
    ck_assert_msg(scn_has(r.err, path) && scn_has(r.err, "cannot write trace"), "%s", r.err);
    assert_one_line(&r);
    scn_free(&r);
}
END_TEST

/* Each conflict validation finds says FILE: field 'F': why, with status 65. */
START_TEST(config_conflicts_name_the_file_and_field_with_status_65)
{
    static const char *const bad[][2] = {
        {"{\"ram_mb\": 63}", "ram_mb"},
        {"{\"ram_mb\": 8, \"vcpus\": 256}", "ram_mb"},
        {"{\"apic\": \"savic\"}", "apic"},
        {"{\"mode\": \"snp\", \"sev\": {\"policy\": 0}}", "sev.policy"},
        {"{\"mode\": \"snp\", \"sev\": {\"sev_features\": \"0x10000\"}}", "sev.sev_features"},
        {"{\"hostile\": {\"injections\": [{\"marker\": 1, \"vector\": 32}]}}", "hostile.injections"},
        /* ABI 63.0: well-formed, but newer than the PSP's firmware, which refuses it. */
        {"{\"mode\": \"snp\", \"sev\": {\"policy\": \"0x33f00\"}}", "sev.policy"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *p = tmpfile_with("conflict.json", bad[i][0], strlen(bad[i][0]));
        struct scn_run r;
        scn_run_tool(&r, "run", "--config", p, "--quiet", NULL);
        char want[400];
        snprintf(want, sizeof(want), "snpref: %s: field '%s': ", p, bad[i][1]);
        ck_assert_msg(r.status == 65, "%s: status %d: %s", bad[i][0], r.status, r.err);
        ck_assert_msg(!strncmp(r.err, want, strlen(want)), "%s: %s", bad[i][0], r.err);
        assert_one_line(&r);
        scn_free(&r);
    }
    /* Flags alone: the source is the command line. */
    struct scn_run r;
    scn_run_tool(&r, "run", "--apic", "savic", "--quiet", NULL);
    ck_assert_int_eq(r.status, 65);
    ck_assert_msg(scn_has(r.err, "snpref: command line: field 'apic': "), "%s", r.err);
    scn_free(&r);
}
END_TEST

START_TEST(hex_strings_with_a_sign_spaces_or_junk_are_refused)
{
    static const char *const bad[] = {"0x-30000", "0x 10", "0x", "0x+1", "0x30000 ", " 0x30000",
                                      "0x3z", "0x30000\\n", "0x00000000000030000"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char cfg[128];
        snprintf(cfg, sizeof(cfg), "{\"mode\": \"snp\", \"sev\": {\"policy\": \"%s\"}}", bad[i]);
        const char *p = tmpfile_with("hex.json", cfg, strlen(cfg));
        struct scn_run r;
        scn_run_tool(&r, "run", "--config", p, "--quiet", NULL);
        ck_assert_msg(r.status == 65, "%s: status %d: %s", bad[i], r.status, r.err);
        ck_assert_msg(scn_has(r.err, "field 'sev.policy'"), "%s: %s", bad[i], r.err);
        assert_one_line(&r);
        scn_free(&r);
    }
    static const char *const flags[] = {"+5", " 5", "5 ", "0x", "0x-5", "0x 5", "0x5g"};
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        struct scn_run r;
        scn_run_tool(&r, "run", "--max-insns", flags[i], NULL);
        ck_assert_msg(r.status == 64, "--max-insns '%s': status %d", flags[i], r.status);
        scn_free(&r);
    }
    /* What is valid stays valid. */
    const char ok[] = "{\"mode\": \"snp\", \"sev\": {\"policy\": \"0x30000\"}}";
    const char *p = tmpfile_with("hex.json", ok, sizeof(ok) - 1);
    struct scn_run r;
    scn_run_tool(&r, "run", "--config", p, "--max-insns", "0x1000", NULL);
    ck_assert_msg(r.status == 81, "status %d: %s", r.status, r.err);
    scn_free(&r);
}
END_TEST

/* A trace made of the demo's header (line 1, with `from` replaced by `to`)
 * and the given event lines. */
static const char *crafted_trace(const char *from, const char *to, const char *events)
{
    char src[300];
    snprintf(src, sizeof(src), "%s/src.jsonl", tmpdir);
    struct scn_run r;
    scn_run_tool(&r, "run", "--trace", src, "--quiet", NULL);
    ck_assert_int_eq(r.status, 0);
    scn_free(&r);
    size_t len;
    char *text = slurp(src, &len);
    *strchr(text, '\n') = '\0';
    char *at = from ? strstr(text, from) : NULL;
    ck_assert(!from || at);
    size_t cap = len + strlen(events) + 64;
    char *out = malloc(cap);
    if (at)
        snprintf(out, cap, "%.*s%s%s\n%s", (int)(at - text), text, to, at + strlen(from), events);
    else
        snprintf(out, cap, "%s\n%s", text, events);
    const char *p = tmpfile_with("crafted.jsonl", out, strlen(out));
    free(out);
    free(text);
    return p;
}

START_TEST(the_trace_header_mode_and_enum_fields_are_checked_by_the_reader)
{
    static const char *const bad[][4] = {
        /* header replacement, events, field named, message part */
        {"\"mode\":\"plain\"", "\"mode\":\"tdx\"", "", "field 'mode': \"tdx\" is not one of"},
        {"\"mode\":\"plain\"", "\"mode\":\"snp\"", "", "field 'mode': \"snp\" differs from config.mode"},
        {NULL, NULL, "{\"seq\":0,\"t\":5,\"vcpu\":0,\"ev\":\"tsc\",\"insn\":\"rdpmc\",\"value\":\"0x1\"}\n",
         ":2: field 'insn': \"rdpmc\" is not one of: rdtsc, rdtscp"},
        {NULL, NULL,
         "{\"seq\":0,\"t\":5,\"vcpu\":0,\"ev\":\"rmp_fault\",\"who\":\"nobody\",\"access\":\"read\","
         "\"gpa\":\"0x1000\",\"error_code\":\"0x0\",\"reason\":\"x\"}\n",
         ":2: field 'who': \"nobody\" is not one of: guest, hypervisor"},
        {NULL, NULL,
         "{\"seq\":0,\"t\":5,\"vcpu\":0,\"ev\":\"launch_update\",\"gpa\":\"0x1000\",\"page_type\":"
         "\"bogus\",\"contents\":\"\",\"digest\":\"\"}\n",
         ":2: field 'page_type': \"bogus\" is not one of"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *t = crafted_trace(bad[i][0], bad[i][1], bad[i][2]);
        struct scn_run r;
        scn_run_tool(&r, "replay", t, NULL);
        ck_assert_msg(r.status == 65, "case %zu: status %d: %s", i, r.status, r.err);
        ck_assert_msg(scn_has(r.err, bad[i][3]), "case %zu: %s", i, r.err);
        assert_one_line(&r);
        scn_free(&r);
        scn_run_tool(&r, "check", t, t, NULL);
        ck_assert_msg(r.status == 65, "check, case %zu: status %d", i, r.status);
        scn_free(&r);
    }
    /* The same trace with declared values reads (--all: tsc is not compared
     * by default, and a check with nothing to compare is refused). */
    const char *t = crafted_trace(
        NULL, NULL, "{\"seq\":0,\"t\":5,\"vcpu\":0,\"ev\":\"tsc\",\"insn\":\"rdtscp\",\"value\":\"0x1\"}\n");
    struct scn_run r;
    scn_run_tool(&r, "check", t, t, "--all", NULL);
    ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
    scn_free(&r);
}
END_TEST

/* Control characters in what the user gave come back escaped: one line. */
START_TEST(user_text_with_a_newline_or_nul_is_escaped_in_the_one_line_error)
{
    struct scn_run r;
    scn_run_tool(&r, "run", "--mode", "snp\nx", NULL);
    ck_assert_int_eq(r.status, 64);
    ck_assert_msg(scn_has(r.err, "'snp\\nx'"), "%s", r.err);
    assert_one_line(&r);
    scn_free(&r);
    scn_run_tool(&r, "run", "/nonexistent/a\nb\t\x1b[31m.elf", NULL);
    ck_assert_int_eq(r.status, 66);
    ck_assert_msg(scn_has(r.err, "/nonexistent/a\\nb\\t\\x1b[31m.elf"), "%s", r.err);
    assert_one_line(&r);
    scn_free(&r);
    static const char *const cfgs[][2] = {
        {"{\"mode\": \"sn\\np\"}", "\"sn\\np\""},
        {"{\"cost\": {\"vm\\nexit\": 1}}", "'cost.vm\\nexit'"},
        {"{\"mode\": \"sn\\u0000p\"}", "NUL"},
    };
    for (size_t i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++) {
        const char *p = tmpfile_with("esc.json", cfgs[i][0], strlen(cfgs[i][0]));
        scn_run_tool(&r, "run", "--config", p, NULL);
        ck_assert_msg(r.status == 65, "%s: status %d", cfgs[i][0], r.status);
        ck_assert_msg(scn_has(r.err, cfgs[i][1]), "%s: %s", cfgs[i][0], r.err);
        assert_one_line(&r);
        scn_free(&r);
    }
    scn_run_tool(&r, "run", "--config", "/nonexistent/c\x01\x7f.json", NULL);
    ck_assert_int_eq(r.status, 66);
    ck_assert_msg(scn_has(r.err, "/nonexistent/c\\x01\\x7f.json"), "%s", r.err);
    assert_one_line(&r);
    scn_free(&r);
    /* A trace's strings, and a file name, quoted in the reader's message. */
    const char *t = crafted_trace(
        NULL, NULL, "{\"seq\":0,\"t\":5,\"vcpu\":0,\"ev\":\"tsc\",\"insn\":\"rd\\ntsc\",\"value\":\"0x1\"}\n");
    scn_run_tool(&r, "replay", t, NULL);
    ck_assert_int_eq(r.status, 65);
    ck_assert_msg(scn_has(r.err, "\"rd\\ntsc\""), "%s", r.err);
    assert_one_line(&r);
    scn_free(&r);
    scn_run_tool(&r, "import", "ftrace", "/nonexistent/k\nvm.log", NULL);
    ck_assert_int_eq(r.status, 66);
    ck_assert_msg(scn_has(r.err, "k\\nvm.log"), "%s", r.err);
    assert_one_line(&r);
    scn_free(&r);
}
END_TEST

START_TEST(a_directory_given_as_any_input_or_output_file_has_status_66)
{
    static const char *const cmds[][5] = {
        {"run", "DIR", NULL},           {"run", "--config", "DIR", NULL},
        {"run", "--trace", "DIR", "--quiet", NULL}, {"replay", "DIR", NULL},
        {"check", "DIR", "DIR", NULL},  {"import", "ftrace", "DIR", NULL},
    };
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        const char *a[5] = {0};
        for (int k = 0; k < 5 && cmds[i][k]; k++)
            a[k] = strcmp(cmds[i][k], "DIR") ? cmds[i][k] : tmpdir;
        struct scn_run r;
        scn_run_tool(&r, a[0], a[1], a[2], a[3], a[4], NULL);
        ck_assert_msg(r.status == 66, "%s %s %s: status %d: %s", a[0], a[1], a[2] ? a[2] : "",
                      r.status, r.err);
        ck_assert_msg(scn_has(r.err, tmpdir) && scn_has(r.err, "Is a directory"), "%s", r.err);
        assert_one_line(&r);
        scn_free(&r);
    }
}
END_TEST

/* The bench's options: a bad value is one usage line (64); a QEMU that does not
 * run and a missing kernel leave the model's figures printed, with the
 * command that reproduces them, and end with 69. */
START_TEST(bench_options_are_checked_and_a_missing_peer_is_reported_with_69)
{
    static const char *const bad[][3] = {
        {"--repeat", "0", NULL}, {"--repeat", "x", NULL}, {"--kernel", NULL, NULL},
        {"--qemu", NULL, NULL},  {"--initrd", NULL, NULL}, {"ipi", "cpu", NULL},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct scn_run r;
        scn_run_tool(&r, "bench", bad[i][0], bad[i][1], bad[i][2], NULL);
        ck_assert_msg(r.status == 64, "bench %s: status %d", bad[i][0], r.status);
        ck_assert_msg(r.out[0] == '\0', "bench %s printed: %s", bad[i][0], r.out);
        assert_one_line(&r);
        scn_free(&r);
    }
    struct scn_run r;
    scn_run_tool(&r, "bench", "--qemu", "/nonexistent/qemu-system-x86_64", "ipi", "linux", NULL);
    ck_assert_msg(r.status == 69, "status %d: %s%s", r.status, r.out, r.err);
    ck_assert_msg(scn_has(r.out, "round trips per host second"), "%s", r.out);
    ck_assert_msg(scn_has(r.out, "bench_pingpong.elf --vcpus 2"), "%s", r.out);
    ck_assert_msg(scn_has(r.out, "QEMU TCG: not measured: /nonexistent/qemu-system-x86_64"), "%s",
                  r.out);
    ck_assert_msg(scn_has(r.out, "not measured: needs --kernel and --initrd"), "%s", r.out);
    ck_assert_msg(!scn_has(r.out, "snpref/QEMU"), "a ratio without QEMU: %s", r.out);
    scn_free(&r);
}
END_TEST

START_TEST(events_and_fabrics_refuse_extra_arguments_and_all_verbs_take_help)
{
    static const char *const bad[][3] = {
        {"events", "x", NULL}, {"events", "--markdown", "x"}, {"events", "--json", NULL},
        {"fabrics", "x", NULL}, {"fabrics", "--markdown", NULL}, {"bench", "x", NULL},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct scn_run r;
        scn_run_tool(&r, bad[i][0], bad[i][1], bad[i][2], NULL);
        ck_assert_msg(r.status == 64, "%s %s: status %d", bad[i][0], bad[i][1], r.status);
        ck_assert_msg(r.out[0] == '\0', "%s %s printed: %s", bad[i][0], bad[i][1], r.out);
        assert_one_line(&r);
        scn_free(&r);
    }
    static const char *const verbs[] = {"events", "bench", "fabrics"};
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
        char want[64];
        snprintf(want, sizeof(want), "usage: snpref %s", verbs[i]);
        struct scn_run r;
        scn_run_tool(&r, verbs[i], "--help", NULL);
        ck_assert_msg(r.status == 0, "%s --help: status %d", verbs[i], r.status);
        ck_assert_msg(scn_has(r.out, want), "%s --help: %s", verbs[i], r.out);
        scn_free(&r);
    }
}
END_TEST

START_TEST(an_unknown_apic_points_to_snpref_fabrics)
{
    struct scn_run r;
    scn_run_tool(&r, "run", "--apic", "foo", NULL);
    ck_assert_int_eq(r.status, 64);
    ck_assert_msg(scn_has(r.err, "'foo'") && scn_has(r.err, "snpref fabrics"), "%s", r.err);
    assert_one_line(&r);
    scn_free(&r);
}
END_TEST

START_TEST(the_demo_prints_its_mode_by_name)
{
    static const char *const modes[] = {"plain", "sev-es", "snp"};
    for (size_t i = 0; i < 3; i++) {
        char want[32];
        snprintf(want, sizeof(want), ", mode %s, ", modes[i]);
        struct scn_run r;
        scn_run_tool(&r, "run", "--mode", modes[i], "--quiet", NULL);
        ck_assert_msg(r.status == 0, "%s: status %d: %s", modes[i], r.status, r.err);
        ck_assert_msg(scn_has(r.out, want), "%s: %s", modes[i], r.out);
        scn_free(&r);
    }
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
    tcase_add_test(tc, a_trace_in_a_missing_directory_has_status_66_like_the_other_verbs);
    tcase_add_test(tc, config_conflicts_name_the_file_and_field_with_status_65);
    tcase_add_test(tc, hex_strings_with_a_sign_spaces_or_junk_are_refused);
    tcase_add_test(tc, the_trace_header_mode_and_enum_fields_are_checked_by_the_reader);
    tcase_add_test(tc, user_text_with_a_newline_or_nul_is_escaped_in_the_one_line_error);
    tcase_add_test(tc, a_directory_given_as_any_input_or_output_file_has_status_66);
    tcase_add_test(tc, events_and_fabrics_refuse_extra_arguments_and_all_verbs_take_help);
    tcase_add_test(tc, bench_options_are_checked_and_a_missing_peer_is_reported_with_69);
    tcase_add_test(tc, an_unknown_apic_points_to_snpref_fabrics);
    tcase_add_test(tc, the_demo_prints_its_mode_by_name);
    suite_add_tcase(s, tc);
    return ck_run(s, CK_RUN_FORK);
}
