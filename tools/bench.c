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
 *     plain run's (issue 3's target: at least 0.8).
 *  2. ipi: the bench_pingpong guest (two vCPUs exchanging IPIs through the
 *     golden fabric); IPIs per host second.
 *  3. replay: `snpref replay` of synthetic complete traces of 100k and 1M events
 *     (tools/synth.c); events per host second and the peak RSS of each run,
 *     each in its own process (fork + exec, rusage from wait4), so the two
 *     numbers are independent: a streaming replay keeps them equal.
 */
#include <elf.h>
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
#include "cpu.h"
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

static int bench_compute(void)
{
    struct guest_image img;
    uint8_t *owned;
    int rc = load_built_guest("bench_compute", &img, &owned);
    if (rc)
        return rc;
    uint64_t kernel = elf_symbol(&img, "bench_kernel");
    uint64_t iters_at = elf_symbol(&img, "bench_iterations");
    if (!kernel || !iters_at) {
        fprintf(stderr, "snpref bench: bench_compute lacks bench_kernel/bench_iterations\n");
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
    /* The same function on a bare engine, over a freshly loaded image. */
    struct mem m;
    char err[256];
    struct boot_layout l;
    uint64_t entry, end;
    if (mem_init(&m, cfg.ram_mb << 20, err, sizeof(err)) < 0)
        return SNPREF_ST_INTERNAL;
    loader_layout(m.size, 1, &l);
    if (loader_load_elf(&m, &img, &l, &entry, &end, err, sizeof(err)) < 0) {
        fprintf(stderr, "snpref bench: %s\n", err);
        return SNPREF_ST_DATAERR;
    }
    uint64_t iters = mem_ld64(&m, iters_at);
    double t0 = now_s();
    if (cpu_run_bare(&m, kernel, iters, l.stack_top_base, l.free_end, err, sizeof(err)) < 0) {
        fprintf(stderr, "snpref bench: %s\n", err);
        return SNPREF_ST_INTERNAL;
    }
    double bare_s = now_s() - t0;
    mem_destroy(&m);
    double mips_model = (double)res.insns / model_s / 1e6;
    double mips_bare = (double)res.insns / bare_s / 1e6;
    printf("compute  %" PRIu64 " guest instructions\n", res.insns);
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

static const char usage_bench[] =
    "usage: snpref bench\n"
    "Prints the model's speed as ratios (docs/cost-model.md): guest instructions\n"
    "per host second against Unicorn alone, IPIs per host second, and the replay's\n"
    "events per host second and peak memory for synthetic traces.\n";

int cmd_bench(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(usage_bench, stdout);
        return 0;
    }
    if (argc > 1)
        return usage_error("bench: unexpected argument '%s'", argv[1]);
    int rc = bench_compute();
    if (!rc)
        rc = bench_ipi();
    if (!rc)
        rc = bench_replay();
    return rc;
}
