/* SPDX-License-Identifier: MIT */
/*
 * `snpref bench`: the speed of the model, as ratios (never in tests: the brief
 * keeps speed targets in benchmarks). Host wall-clock time is used here and
 * only here; the model itself never reads it.
 *
 *  1. compute: the bench_compute guest's kernel under snpref (one vCPU, the
 *     full model: paging, decode, accounting, quanta) against the same function
 *     in a bare Unicorn engine in this process; instructions per second of each
 *     and their ratio; then the same guest as an SNP guest (C-bit page walks,
 *     RMP checks at TLB fill, #VC for its console), and its rate against the
 *     plain run's (issue 3's target: at least 0.8). mixed: the same for the
 *     bench_mixed guest, whose data shares its code's page (a written code
 *     page: its blocks are compared with their decode at each entry).
 *  2. ipi: the bench_pingpong guest (two vCPUs exchanging IPIs through the
 *     golden fabric); IPIs per host second.
 *  3. linux: Debian's stock kernel (SNPREF_BENCH_KERNEL) with a busybox
 *     initramfs (SNPREF_BENCH_INITRD; `make bench` builds both paths) booted
 *     to its /init's power-off on one vCPU, plain and as an SNP guest: the
 *     host time of each and the SNP boot's time over the plain boot's.
 *  4. replay: `snpref replay` of synthetic complete traces of 100k and 1M events
 *     (tools/synth.c); events per host second and the peak RSS of each run,
 *     each in its own process (fork + exec, rusage from wait4), so the two
 *     numbers are independent: a streaming replay keeps them equal.
 */
#include <elf.h>
#include <stdbool.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "snpref/base.h"
#include "cpu.h"
#include "linux.h"
#include "loader.h"
#include "mem.h"
#include "snpref.h"
#include "synth.h"
#include "tools.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

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

static int load_built_guest(const char *name, struct guest_image *img, uint8_t **owned)
{
    char path[4608];
    int rc = guest_path(name, path, sizeof(path));
    return rc ? rc : read_image(path, img, owned);
}

static int run_model(const struct snp_config *cfg, const struct guest_image *img,
                     struct snpref_result *res, uint64_t *ipis, double *secs)
{
    char err[512];
    int status;
    struct snpref_system *sys;
    struct snpref_options opt = {0};
    if (snpref_create(&sys, cfg, img, &opt, &status, err, sizeof(err)) < 0) {
        fprintf(stderr, "snpref bench: %s\n", err);
        return status;
    }
    double t0 = now_s();
    int rc = snpref_run(sys, res, err, sizeof(err));
    *secs = now_s() - t0;
    *ipis = 0;
    for (unsigned i = 0; i < res->nvcpus; i++)
        *ipis += res->per_vcpu[i].ipis_sent;
    snpref_destroy(sys);
    if (rc < 0 || res->outcome != SNPREF_EXITED || res->guest_value != 0) {
        fprintf(stderr, "snpref bench: %s did not exit cleanly\n", img->name);
        return SNPREF_ST_INTERNAL;
    }
    return 0;
}

/* The guest's bench_kernel alone in a bare engine over a freshly loaded image:
 * seconds, or a negative status. */
static double run_bare(const struct snp_config *cfg, const struct guest_image *img,
                       uint64_t kernel, uint64_t iters_at, int *status)
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
    double t0 = now_s();
    int rc = cpu_run_bare(&m, kernel, iters, l.stack_top_base, l.free_end, err, sizeof(err));
    double s = now_s() - t0;
    mem_destroy(&m);
    if (rc < 0) {
        fprintf(stderr, "snpref bench: %s\n", err);
        return -1;
    }
    *status = 0;
    return s;
}

/* One compute guest (its bench_kernel and bench_iterations symbols): under
 * snpref, in a bare engine, and as an SNP guest. */
static int bench_compute(const char *name, const char *what, const char *desc)
{
    struct guest_image img;
    uint8_t *owned;
    int rc = load_built_guest(name, &img, &owned);
    if (rc)
        return rc;
    uint64_t kernel = elf_symbol(&img, "bench_kernel");
    uint64_t iters_at = elf_symbol(&img, "bench_iterations");
    if (!kernel || !iters_at) {
        fprintf(stderr, "snpref bench: %s lacks bench_kernel/bench_iterations\n", name);
        free(owned);
        return SNPREF_ST_DATAERR;
    }
    struct snp_config cfg;
    config_defaults(&cfg);
    cfg.vcpus = 1;
    struct snpref_result res;
    uint64_t ipis;
    double model_s;
    if ((rc = run_model(&cfg, &img, &res, &ipis, &model_s))) {
        free(owned);
        return rc;
    }
    double bare_s = run_bare(&cfg, &img, kernel, iters_at, &rc);
    if (rc) {
        free(owned);
        return rc;
    }
    double mips_model = (double)res.insns / model_s / 1e6;
    double mips_bare = (double)res.insns / bare_s / 1e6;
    printf("%-8s %" PRIu64 " guest instructions (%s, guest %s)\n", what, res.insns, desc, name);
    printf("  snpref          %8.3f s  %9.1f M instructions/s\n", model_s, mips_model);
    printf("  bare Unicorn    %8.3f s  %9.1f M instructions/s\n", bare_s, mips_bare);
    printf("  ratio snpref/bare: %.2f (1.00 = no model overhead)\n", mips_model / mips_bare);
    snprintf(cfg.mode, sizeof(cfg.mode), "snp");
    struct snpref_result snp;
    double snp_s;
    rc = run_model(&cfg, &img, &snp, &ipis, &snp_s);
    free(owned);
    if (rc)
        return rc;
    double mips_snp = (double)snp.insns / snp_s / 1e6;
    printf("  snpref --mode snp %6.3f s  %9.1f M instructions/s\n", snp_s, mips_snp);
    printf("  ratio snp/plain: %.2f (target >= 0.8)\n", mips_snp / mips_model);
    return 0;
}

static int bench_ipi(void)
{
    struct guest_image img;
    uint8_t *owned;
    int rc = load_built_guest("bench_pingpong", &img, &owned);
    if (rc)
        return rc;
    struct snp_config cfg;
    config_defaults(&cfg);
    cfg.vcpus = 2;
    struct snpref_result res;
    uint64_t ipis;
    double s;
    rc = run_model(&cfg, &img, &res, &ipis, &s);
    free(owned);
    if (rc)
        return rc;
    printf("ipi      %" PRIu64 " IPIs between 2 vCPUs in %.3f s: %.0f IPIs per host second\n",
           ipis, s, (double)ipis / s);
    printf("  simulated: %" PRIu64 " cycles, %.0f cycles per IPI round trip\n", res.cycles,
           ipis ? (double)res.cycles / ((double)ipis / 2) : 0.0);
    return 0;
}

/* `snpref replay TRACE --quiet` in a child process: wall time and peak RSS. */
static int replay_child(const char *trace, double *secs, long *maxrss_kb)
{
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0)
        return SNPREF_ST_INTERNAL;
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, 2);
        execl("/proc/self/exe", "snpref", "replay", trace, "--quiet", (char *)NULL);
        _exit(127);
    }
    int st;
    struct rusage ru;
    if (wait4(pid, &st, 0, &ru) != pid)
        return SNPREF_ST_INTERNAL;
    *secs = now_s() - t0;
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

/* The linux part: one boot of the bench kernel in mode `mode`. */
static int boot_linux(const char *mode, const struct guest_image *img, struct snpref_result *res,
                      double *secs)
{
    struct snp_config cfg;
    config_defaults(&cfg);
    cfg.vcpus = 1;
    cfg.ram_mb = LINUX_DEFAULT_RAM_MB;
    snprintf(cfg.mode, sizeof(cfg.mode), "%s", mode);
    uint64_t ipis;
    return run_model(&cfg, img, res, &ipis, secs);
}

static int bench_linux(void)
{
    const char *kpath = getenv("SNPREF_BENCH_KERNEL"), *rpath = getenv("SNPREF_BENCH_INITRD");
    if (!kpath || !rpath) {
        fprintf(stderr, "snpref bench: linux needs SNPREF_BENCH_KERNEL and SNPREF_BENCH_INITRD "
                        "(`make bench` sets them)\n");
        return SNPREF_ST_NOINPUT;
    }
    struct guest_image img, rd;
    uint8_t *owned = NULL, *rd_owned = NULL;
    int rc = read_image(kpath, &img, &owned);
    if (rc)
        return rc;
    if ((rc = read_image(rpath, &rd, &rd_owned))) {
        free(owned);
        return rc;
    }
    struct kernel_args ka = {rd.data, rd.len, rpath, "console=ttyS0"};
    img.kernel = &ka;
    struct snpref_result plain, snp;
    double plain_s = 0, snp_s = 0;
    rc = boot_linux("plain", &img, &plain, &plain_s);
    if (!rc)
        rc = boot_linux("snp", &img, &snp, &snp_s);
    free(owned);
    free(rd_owned);
    if (rc)
        return rc;
    printf("linux    %s to its /init's power-off, 1 vCPU\n", kpath);
    printf("  plain           %8.3f s  %6.0f M guest instructions\n", plain_s,
           (double)plain.insns / 1e6);
    printf("  --mode snp      %8.3f s  %6.0f M guest instructions\n", snp_s,
           (double)snp.insns / 1e6);
    printf("  ratio snp/plain boot time: %.2f\n", snp_s / plain_s);
    return 0;
}

static int bench_mixed(void)
{
    return bench_compute("bench_mixed", "mixed", "data on its code's page");
}

static int bench_sieve(void)
{
    return bench_compute("bench_compute", "compute", "store-heavy sieve");
}

static const struct {
    const char *name;
    int (*run)(void);
} benches[] = {
    {"compute", bench_sieve},
    {"mixed", bench_mixed},
    {"ipi", bench_ipi},
    {"linux", bench_linux},
    {"replay", bench_replay},
};

static const char usage_bench[] =
    "usage: snpref bench [PART...]\n"
    "Prints the model's speed as ratios (docs/cost-model.md): guest instructions\n"
    "per host second against Unicorn alone (compute: a store-heavy sieve; mixed: a\n"
    "kernel with its data on its code's page), IPIs per host second (ipi), a Linux\n"
    "boot's SNP time over its plain time (linux: SNPREF_BENCH_KERNEL and\n"
    "SNPREF_BENCH_INITRD name the kernel and initramfs), and the\n"
    "replay's events per host second and peak memory for synthetic traces (replay).\n"
    "PARTs select what runs, in this order; none runs them all but linux.\n";

/* `snpref bench [PART...]`: the named parts, or all of them in this order. */
int cmd_bench(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(usage_bench, stdout);
        return 0;
    }
    for (int a = 1; a < argc; a++) {
        size_t k = 0;
        while (k < ARRAY_SIZE(benches) && strcmp(argv[a], benches[k].name))
            k++;
        if (k == ARRAY_SIZE(benches))
            return usage_error("bench: unknown part '%s' (compute, mixed, ipi, linux, replay)", argv[a]);
    }
    for (size_t k = 0; k < ARRAY_SIZE(benches); k++) {
        /* linux boots files the user names (SNPREF_BENCH_*): only on request. */
        bool wanted = argc == 1 && benches[k].run != bench_linux;
        for (int a = 1; a < argc; a++)
            wanted = wanted || !strcmp(argv[a], benches[k].name);
        int rc = wanted ? benches[k].run() : 0;
        if (rc)
            return rc;
    }
    return 0;
}
