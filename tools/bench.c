/* SPDX-License-Identifier: MIT */
/*
 * `snpref bench`: the speed of the model, as ratios against a peer measured
 * in the same run (never in tests: the brief keeps speed targets in
 * benchmarks). Host wall-clock time is used here and in bench_spawn.c only;
 * the model itself never reads it.
 *
 *  1. compute, mixed: guests/bench/bench_kernels.h's store-heavy sieve and its
 *     loop with data on its code's page, as SDK guests under `snpref run` and
 *     as the multiboot image bench_qemu.elf under QEMU TCG; each side is timed
 *     from the kernel's start line to its end line (bench_spawn.c), and both
 *     must print the same checksum. The same function also runs alone in a
 *     bare Unicorn engine in this process (cpu/bare.c: the engine's own speed,
 *     the ceiling for the model), and the guest again as an SNP guest.
 *  2. ipi: the ping-pong of bench_kernels.h between 2 vCPUs on each side;
 *     round trips per host second.
 *  3. linux: a Linux kernel and the busybox initramfs of the scenario tests,
 *     one vCPU, from the spawn to /init's last line, on each side.
 *  4. scale: guests/tests/busy_smp.c with 1, 16, 64 and 256 vCPUs, every vCPU
 *     sending IPIs and taking LAPIC timer ticks; host seconds per simulated
 *     second (the run's summary line), that cost per vCPU, and the peak RSS
 *     of each run (wait4's rusage) per vCPU, and what each vCPU adds over the
 *     1-vCPU run (the process's fixed part left out). The cost per vCPU at 256
 *     over that at 16 is 1.00 when the cost grows linearly with busy vCPUs.
 *  5. replay: `snpref replay` of synthetic complete traces of 100k and 1M events
 *     (tools/synth.c); events per host second and the peak RSS of each run,
 *     each in its own process (fork + exec, rusage from wait4), so the two
 *     numbers are independent: a streaming replay keeps them equal.
 */
#include <elf.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "config.h"
#include "snpref/base.h"
#include "snpref/bench.h"
#include "cpu.h"
#include "loader.h"
#include "mem.h"
#include "snpref.h"
#include "synth.h"
#include "tools.h"

/* sysexits.h EX_UNAVAILABLE: a peer or an input of the bench was missing. */
#define SNPREF_ST_UNAVAILABLE 69

/* Value of an ELF symbol, or 0. */
static uint64_t elf_symbol(const struct guest_image *img, const char *name)
{
    const Elf64_Ehdr *eh = (const void *)img->data;
    if (img->len < sizeof(*eh) || eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > img->len)
        return 0;
    const Elf64_Shdr *sh = (const void *)(img->data + eh->e_shoff);
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum)
            continue;
        const Elf64_Sym *sym = (const void *)(img->data + sh[i].sh_offset);
        const char *str = (const char *)img->data + sh[sh[i].sh_link].sh_offset;
        for (size_t k = 0; k < sh[i].sh_size / sizeof(*sym); k++)
            if (!strcmp(str + sym[k].st_name, name))
                return sym[k].st_value;
    }
    return 0;
}

/* The guest's bench_kernel alone in a bare engine over a freshly loaded image:
 * seconds, or a negative status. */
static double run_bare(const struct snp_config *cfg, const struct guest_image *img,
                       uint64_t kernel, uint64_t iters_at, bool block_hook, int *status)
{
    struct mem m;
    char err[256];
    struct boot_layout l;
    uint64_t entry, end;
    *status = SNPREF_ST_INTERNAL;
    if (mem_init(&m, cfg->ram_mb << 20, err, sizeof(err)) < 0)
        return -1;
    loader_layout(m.size, 1, &l);
    if (loader_load_elf(&m, img, &l, &entry, &end, err, sizeof(err)) < 0) {
        fprintf(stderr, "snpref bench: %s\n", err);
        mem_destroy(&m);
        *status = SNPREF_ST_DATAERR;
        return -1;
    }
    uint64_t iters = mem_ld64(&m, iters_at);
    double t0 = bench_now_s();
    uint64_t blocks;
    int rc = cpu_run_bare(&m, block_hook, &blocks, kernel, iters, l.stack_top_base, l.free_end,
                          err, sizeof(err));
    double s = bench_now_s() - t0;
    mem_destroy(&m);
    if (rc < 0) {
        fprintf(stderr, "snpref bench: %s\n", err);
        return -1;
    }
    *status = 0;
    return s;
}

/* `snpref replay TRACE --quiet` in a child process: wall time and peak RSS. */
static int replay_child(const char *trace, double *secs, long *maxrss_kb)
{
    fflush(stdout);
    double t0 = bench_now_s();
    pid_t pid = fork();
    if (pid < 0)
        return SNPREF_ST_INTERNAL;
    if (pid == 0) {
        /* Its notes on what it assumed (stdout) and its summary stay out of the bench's. */
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, 1);
            dup2(null, 2);
        }
        execl("/proc/self/exe", "snpref", "replay", trace, "--quiet", (char *)NULL);
        _exit(127);
    }
    int st;
    struct rusage ru;
    if (wait4(pid, &st, 0, &ru) != pid)
        return SNPREF_ST_INTERNAL;
    *secs = bench_now_s() - t0;
    *maxrss_kb = ru.ru_maxrss;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : SNPREF_ST_INTERNAL;
}

static int bench_replay(void)
{
    char dir[] = "/tmp/snpref-bench-XXXXXX";
    if (!mkdtemp(dir))
        return SNPREF_ST_INTERNAL;
    static const uint64_t sizes[2] = {100000, 1000000};
    long rss[2] = {0, 0};
    int rc = 0;
    for (int i = 0; i < 2 && !rc; i++) {
        char path[128], err[256];
        snprintf(path, sizeof(path), "%s/replay%d.jsonl", dir, i);
        uint64_t n = synth_trace(path, sizes[i], err, sizeof(err));
        double s = 0;
        if (!n) {
            fprintf(stderr, "snpref bench: %s\n", err);
            rc = SNPREF_ST_INTERNAL;
        } else if ((rc = replay_child(path, &s, &rss[i]))) {
            fprintf(stderr, "snpref bench: the replay of %s failed\n", path);
        } else {
            printf("replay   %8" PRIu64 " events in %.3f s: %.0f events per host second, "
                   "peak RSS %.1f MB\n",
                   n, s, (double)n / s, (double)rss[i] / 1024);
        }
        remove(path);
    }
    rmdir(dir);
    if (!rc)
        printf("  peak RSS, 1M events / 100k events: %.2f (1.00 = flat: the trace is streamed)\n",
               (double)rss[1] / (double)rss[0]);
    return rc;
}


/* ---- the runs against QEMU TCG ------------------------------------------- */

static struct {
    char self[PATH_MAX];     /* this snpref binary */
    const char *qemu;        /* qemu-system-x86_64, or --qemu */
    char qemu_version[64];   /* "QEMU 10.0.2 TCG"; empty: QEMU missing */
    const char *kernel, *initrd;
    unsigned repeat;         /* each timed run this often; the fastest counts */
    int unavailable;         /* 69 once a figure could not be measured */
} B;

/* Finds QEMU and its version ("QEMU emulator version 10.0.2 (...)"). */
static void find_qemu(void)
{
    char *argv[] = {(char *)B.qemu, "-version", NULL};
    struct bench_run r = {0};
    unsigned major = 0, minor = 0, micro = 0;
    B.qemu_version[0] = '\0';
    if (bench_spawn(argv, &r) < 0 || r.status != 0 ||
        sscanf(r.tail, "QEMU emulator version %u.%u.%u", &major, &minor, &micro) < 2)
        return;
    snprintf(B.qemu_version, sizeof(B.qemu_version), "QEMU %u.%u.%u TCG", major, minor, micro);
    if (major < 10)
        printf("note: %s is older than the QEMU 10 the bench targets (scripts/bench-setup.sh)\n",
               B.qemu_version);
}

static bool qemu_missing(void)
{
    if (B.qemu_version[0])
        return false;
    printf("  QEMU TCG: not measured: %s does not run (scripts/bench-setup.sh installs QEMU 10; "
           "make bench runs it)\n", B.qemu);
    B.unavailable = SNPREF_ST_UNAVAILABLE;
    return true;
}

/* Runs argv B.repeat times; *secs = the fastest time from the start mark (or
 * the spawn, when r->start_mark is NULL) to the end mark. A run that exits
 * with another status than want_status or misses a mark fails the part. */
static int timed(char *const argv[], struct bench_run *r, int want_status, double *secs)
{
    *secs = -1;
    for (unsigned i = 0; i < B.repeat; i++) {
        if (bench_spawn(argv, r) < 0 || r->status != want_status || r->end_s < 0 ||
            (r->start_mark && r->start_s < 0)) {
            fprintf(stderr, "snpref bench: %s exited with %d (a pass is %d)%s; its last lines:\n%s",
                    argv[0], r->status, want_status, r->end_s < 0 ? " before its end line" : "",
                    r->tail);
            bench_print_cmd(argv);
            return SNPREF_ST_INTERNAL;
        }
        double s = r->end_s - (r->start_mark ? r->start_s : 0);
        if (*secs < 0 || s < *secs)
            *secs = s;
    }
    return 0;
}

/* QEMU as a user runs a kernel with it: TCG, the RAM snpref gives by default,
 * no default devices, COM1 on stdio. The bench's image needs `-cpu max` for
 * its x2APIC; the Linux boot keeps QEMU's default CPU model. */
#define QEMU_ARGS(smp)                                                                   \
    (char *)B.qemu, "-accel", "tcg", "-smp", smp, "-m", "256", "-nodefaults", "-display",  \
        "none", "-serial", "stdio", "-no-reboot"

static void print_time(const char *who, double s, const char *extra)
{
    printf("  %-22s %8.3f s%s\n", who, s, extra ? extra : "");
}

/* The kernel `which` of bench_kernels.h: the SDK guest `guest` under
 * snpref (plain and SNP), the multiboot image under QEMU, and the same
 * function alone in a bare Unicorn engine. */
static int bench_kernel_part(const char *part, const char *guest, const char *which,
                             const char *what)
{
    char gpath[4608], qpath[4608];
    int rc = guest_path(guest, gpath, sizeof(gpath));
    if (rc || (rc = guest_path("qemu/bench_qemu", qpath, sizeof(qpath))))
        return rc;
    printf("%-8s %s (guests/bench/bench_kernels.h)\n", part, what);
    char *plain[] = {B.self, "run", gpath, "--vcpus", "1", NULL};
    char *snp[] = {B.self, "run", gpath, "--vcpus", "1", "--mode", "snp", NULL};
    struct bench_run r = {.start_mark = BENCH_MARK_START, .end_mark = BENCH_MARK_END};
    double t_model, t_snp, t_qemu = -1;
    if ((rc = timed(plain, &r, 0, &t_model)))
        return rc;
    char model_end[sizeof(r.end_line)], extra[96];
    snprintf(model_end, sizeof(model_end), "%s", r.end_line);
    snprintf(extra, sizeof(extra), "  (%.1f M guest instructions/s)",
             (double)r.insns / t_model / 1e6);
    print_time("snpref", t_model, extra);
    bench_print_cmd(plain);

    if (!qemu_missing()) {
        char *q[] = {QEMU_ARGS("1"), "-cpu", "max", "-device",
                     "isa-debug-exit,iobase=0xf4,iosize=1", "-kernel", qpath, "-append",
                     (char *)which, NULL};
        if ((rc = timed(q, &r, 1, &t_qemu)))
            return rc;
        if (strcmp(r.end_line, model_end)) {
            fprintf(stderr, "snpref bench: snpref ended with \"%s\", QEMU with \"%s\"\n",
                    model_end, r.end_line);
            return SNPREF_ST_INTERNAL;
        }
        print_time(B.qemu_version, t_qemu, NULL);
        bench_print_cmd(q);
    }

    struct guest_image img;
    uint8_t *owned;
    if ((rc = read_image(gpath, &img, &owned)))
        return rc;
    uint64_t kernel = elf_symbol(&img, "bench_kernel");
    uint64_t iters_at = elf_symbol(&img, "bench_iterations");
    struct snp_config cfg;
    config_defaults(&cfg);
    if (!kernel || !iters_at) {
        fprintf(stderr, "snpref bench: %s lacks bench_kernel/bench_iterations\n", gpath);
        free(owned);
        return SNPREF_ST_DATAERR;
    }
    int rc2 = 0;
    double t_bare = run_bare(&cfg, &img, kernel, iters_at, false, &rc);
    double t_hook = rc ? -1 : run_bare(&cfg, &img, kernel, iters_at, true, &rc2);
    free(owned);
    if (rc || (rc = rc2))
        return rc;
    print_time("bare Unicorn", t_bare, "  (the kernel alone in one engine, TLB fills as snpref's)");
    print_time("bare + block hook", t_hook, "  (the same with a block hook that only counts)");
    if (t_qemu > 0) {
        printf("  speed snpref/QEMU:       %5.2f  (target >= 0.8)\n", t_qemu / t_model);
        printf("  speed bare Unicorn/QEMU: %5.2f  (Unicorn 2.1.4 itself)\n", t_qemu / t_bare);
        printf("  speed bare+hook/QEMU:    %5.2f  (the ceiling of a model counting per block)\n",
               t_qemu / t_hook);
    }
    printf("  speed snpref/bare+hook:  %5.2f  (1.00 = the model's hook costs no more than an "
           "empty one)\n", t_hook / t_model);

    if ((rc = timed(snp, &r, 0, &t_snp)))
        return rc;
    print_time("snpref --mode snp", t_snp, NULL);
    bench_print_cmd(snp);
    printf("  speed snp/plain:         %5.2f  (target >= 0.8)\n", t_model / t_snp);
    return 0;
}

static int bench_sieve(void)
{
    return bench_kernel_part("compute", "bench_compute", "sieve",
                             "store-heavy sieve, 600 passes over 64 KiB");
}

static int bench_mixed(void)
{
    return bench_kernel_part("mixed", "bench_mixed", "mixed",
                             "load-modify-store loop with its data on its code's page");
}

static int bench_ipi(void)
{
    char gpath[4608], qpath[4608];
    int rc = guest_path("bench_pingpong", gpath, sizeof(gpath));
    if (rc || (rc = guest_path("qemu/bench_qemu", qpath, sizeof(qpath))))
        return rc;
    printf("ipi      %u IPI round trips between 2 vCPUs (guests/bench/bench_kernels.h)\n",
           BENCH_PINGPONG_ROUNDS);
    char *model[] = {B.self, "run", gpath, "--vcpus", "2", NULL};
    struct bench_run r = {.start_mark = BENCH_MARK_START, .end_mark = BENCH_MARK_END};
    double t_model, t_qemu;
    if ((rc = timed(model, &r, 0, &t_model)))
        return rc;
    char extra[64];
    snprintf(extra, sizeof(extra), "  %9.0f round trips per host second",
             BENCH_PINGPONG_ROUNDS / t_model);
    print_time("snpref", t_model, extra);
    bench_print_cmd(model);
    if (qemu_missing())
        return 0;
    char *q[] = {QEMU_ARGS("2"), "-cpu", "max", "-device", "isa-debug-exit,iobase=0xf4,iosize=1",
                 "-kernel", qpath, "-append", "pingpong", NULL};
    if ((rc = timed(q, &r, 1, &t_qemu)))
        return rc;
    snprintf(extra, sizeof(extra), "  %9.0f round trips per host second",
             BENCH_PINGPONG_ROUNDS / t_qemu);
    print_time(B.qemu_version, t_qemu, extra);
    bench_print_cmd(q);
    printf("  round trips per second, snpref/QEMU: %.2f\n", t_qemu / t_model);
    return 0;
}

/* The Linux boot of the scenario tests (tests/linux/init), from the spawn to
 * /init's last line before it powers off, one vCPU on each side. */
#define LINUX_DONE "snpref-init: done"

static int bench_linux(void)
{
    printf("linux    %s with the busybox initramfs, to the end of /init, 1 vCPU\n",
           B.kernel ? B.kernel : "(no --kernel)");
    if (!B.kernel || !B.initrd) {
        printf("  not measured: needs --kernel and --initrd (make bench passes Debian's 6.1 "
               "kernel and build/bench/initramfs.cpio.gz)\n");
        B.unavailable = SNPREF_ST_UNAVAILABLE;
        return 0;
    }
    char *model[] = {B.self, "run", "--kernel", (char *)B.kernel, "--initrd", (char *)B.initrd,
                     "--append", "console=ttyS0", "--vcpus", "1", NULL};
    struct bench_run r = {.end_mark = LINUX_DONE};
    double t_model, t_qemu;
    int rc = timed(model, &r, 0, &t_model);
    if (rc)
        return rc;
    print_time("snpref", t_model, NULL);
    bench_print_cmd(model);
    if (qemu_missing())
        return 0;
    char *q[] = {QEMU_ARGS("1"), "-kernel", (char *)B.kernel, "-initrd", (char *)B.initrd,
                 "-append", "console=ttyS0", NULL};
    if ((rc = timed(q, &r, 0, &t_qemu)))
        return rc;
    print_time(B.qemu_version, t_qemu, NULL);
    bench_print_cmd(q);
    printf("  time snpref/QEMU: %.2f  (target <= 2)\n", t_model / t_qemu);
    return 0;
}

/* busy_smp at each vCPU count: host seconds per simulated second and memory
 * per vCPU. Targets (docs/cost-model.md): the per-vCPU cost at 256 vCPUs at
 * most that at 16 (linear growth), and at most 4 MB resident per vCPU. */
static const unsigned scale_vcpus[] = {1, 16, 64, 256};
#define SCALE_MAX_KB_PER_VCPU (4e6 / 1024) /* 4 MB, in the KiB of ru_maxrss */

static int bench_scale(void)
{
    char gpath[4608];
    int rc = guest_path("busy_smp", gpath, sizeof(gpath));
    if (rc)
        return rc;
    printf("scale    every vCPU sending IPIs and taking LAPIC timer ticks (guests/tests/busy_smp.c)\n");
    printf("  %6s %10s %13s %13s %10s %13s %13s\n", "vCPUs", "host s", "simulated ms",
           "host s/sim s", "per vCPU", "RSS/vCPU MiB", "added MiB");
    double per_vcpu[ARRAY_SIZE(scale_vcpus)], kb = 0, added_kb = 0, base_kb = 0;
    for (size_t i = 0; i < ARRAY_SIZE(scale_vcpus); i++) {
        char n[8];
        snprintf(n, sizeof(n), "%u", scale_vcpus[i]);
        char *argv[] = {B.self, "run", gpath, "--vcpus", n, NULL};
        struct bench_run r = {.end_mark = "busy_smp: PASS"};
        double secs;
        if ((rc = timed(argv, &r, 0, &secs)))
            return rc;
        if (r.sim_us <= 0) {
            fprintf(stderr, "snpref bench: %s printed no summary line\n", argv[0]);
            return SNPREF_ST_INTERNAL;
        }
        double cost = secs / (r.sim_us / 1e6);
        kb = (double)r.maxrss_kb / scale_vcpus[i];
        if (i == 0)
            base_kb = (double)r.maxrss_kb;
        else
            added_kb = ((double)r.maxrss_kb - base_kb) / (scale_vcpus[i] - 1);
        per_vcpu[i] = cost / scale_vcpus[i];
        printf("  %6u %10.3f %13.3f %13.1f %10.1f %13.2f %13.2f\n", scale_vcpus[i], secs,
               r.sim_us / 1e3, cost, per_vcpu[i], kb / 1024, i ? added_kb / 1024 : 0.0);
        bench_print_cmd(argv);
    }
    printf("  cost per vCPU, 256/16: %5.2f  (target <= 1.00: linear in busy vCPUs)\n",
           per_vcpu[3] / per_vcpu[1]);
    printf("  peak RSS per vCPU at 256: %5.2f MiB, each vCPU adds %.2f MiB  (target <= 4 MB = %.2f MiB)\n",
           kb / 1024, added_kb / 1024, SCALE_MAX_KB_PER_VCPU / 1024);
    return 0;
}

static const struct {
    const char *name;
    int (*run)(void);
} benches[] = {
    {"compute", bench_sieve}, {"mixed", bench_mixed}, {"ipi", bench_ipi},
    {"linux", bench_linux},   {"scale", bench_scale}, {"replay", bench_replay},
};

static const char usage_bench[] =
    "usage: snpref bench [--qemu PATH] [--kernel BZIMAGE --initrd FILE] [--repeat N] [PART...]\n"
    "Prints the model's speed as ratios against QEMU TCG measured in the same run\n"
    "(docs/cost-model.md): a store-heavy sieve (compute) and a loop with its data on\n"
    "its code's page (mixed), each also in a bare Unicorn engine and as an SNP guest;\n"
    "IPI round trips between 2 vCPUs (ipi); a Linux boot to the end of its /init\n"
    "(linux, with --kernel and --initrd); host time per simulated second and memory\n"
    "per vCPU with 1, 16, 64 and 256 busy vCPUs (scale); and the replay's events per\n"
    "host second and peak memory for synthetic traces (replay). Each figure comes\n"
    "with its command. --qemu names qemu-system-x86_64 (default: from PATH); --repeat\n"
    "runs each timed command N times and keeps the fastest (default 1). PARTs select\n"
    "what runs, in this order; none runs them all. Exit 69 when QEMU or the kernel was missing.\n";

/* Options before or among the PARTs; returns the next argument index or -status. */
static int bench_option(int argc, char **argv, int a)
{
    const char *opt = argv[a];
    if (a + 1 >= argc)
        return -usage_error("bench: %s needs a value", opt);
    const char *val = argv[a + 1];
    uint64_t n;
    if (!strcmp(opt, "--qemu"))
        B.qemu = val;
    else if (!strcmp(opt, "--kernel"))
        B.kernel = val;
    else if (!strcmp(opt, "--initrd"))
        B.initrd = val;
    else if (parse_u64(val, 1, 100, &n))
        B.repeat = (unsigned)n;
    else
        return -usage_error("bench: --repeat takes 1 to 100, not '%s'", val);
    return a + 2;
}

static bool is_option(const char *s)
{
    return !strcmp(s, "--qemu") || !strcmp(s, "--kernel") || !strcmp(s, "--initrd") ||
           !strcmp(s, "--repeat");
}

/* `snpref bench [OPTION...] [PART...]`: the named parts, or all of them in this order. */
int cmd_bench(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(usage_bench, stdout);
        return 0;
    }
    B.qemu = "qemu-system-x86_64";
    B.kernel = B.initrd = NULL;
    B.repeat = 1;
    B.unavailable = 0;
    bool wanted[ARRAY_SIZE(benches)] = {false}, any = false;
    for (int a = 1; a < argc;) {
        if (is_option(argv[a])) {
            if ((a = bench_option(argc, argv, a)) < 0)
                return -a;
            continue;
        }
        size_t k = 0;
        while (k < ARRAY_SIZE(benches) && strcmp(argv[a], benches[k].name))
            k++;
        if (k == ARRAY_SIZE(benches))
            return usage_error("bench: unknown part '%s' (compute, mixed, ipi, linux, scale, replay)",
                               argv[a]);
        wanted[k] = any = true;
        a++;
    }
    ssize_t n = readlink("/proc/self/exe", B.self, sizeof(B.self) - 1);
    if (n <= 0)
        return SNPREF_ST_INTERNAL;
    B.self[n] = '\0';
    find_qemu();
    for (size_t k = 0; k < ARRAY_SIZE(benches); k++) {
        int rc = !any || wanted[k] ? benches[k].run() : 0;
        if (rc)
            return rc;
    }
    return B.unavailable;
}
