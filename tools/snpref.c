/* SPDX-License-Identifier: MIT */
/*
 * The snpref command line (design.md section 3; docs/cli.md). The only main()
 * in the tree. User mistakes get one line naming the file, line or flag and a
 * sysexits status; nothing is half-written (traces are renamed into place only
 * when complete).
 */
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fabric.h"
#include "loader.h"
#include "silicon.h"
#include "snpref.h"
#include "tools.h"
#include "trace.h"

static const char usage_run[] =
    "usage: snpref run [GUEST.elf] [options]\n"
    "Runs GUEST.elf (or the built-in demo guest) on the model.\n"
    "  --vcpus N            number of vCPUs, 1-256 (default 4)\n"
    "  --mode M             plain, sev-es or snp (default plain)\n"
    "  --apic NAME          interrupt fabric (default emulated; see `snpref fabrics`)\n"
    "  --config FILE.json   configuration (docs/config.md); flags override it\n"
    "  --trace FILE.jsonl   write a JSON Lines trace (docs/trace-format.md)\n"
    "  --max-insns N        stop after N instructions in all (exit 81)\n"
    "  --quantum N          instructions per scheduling quantum\n"
    "  --exit-style S       snpref (default) or qemu: status (value << 1) | 1\n"
    "  --quiet              no summary on stderr\n"
    "Exit status: the guest's value 0-63; 64 bad command line, 65 malformed input,\n"
    "66 missing input, 70 internal error, 80 guest shutdown, 81 instruction limit.\n";

static const char usage_main[] =
    "usage: snpref COMMAND [ARGS]\n"
    "  run [GUEST.elf] [options]   run a guest (snpref run --help)\n"
    "  bench [PART...]             performance ratios: compute mixed ipi replay (docs/cost-model.md)\n"
    "  compare [GUEST.elf]         one guest under two fabrics (snpref compare --help)\n"
    "  attacks [--json]            hostile-hypervisor injections vs SNP (docs/attacks.md)\n"
    "  replay TRACE [options]      replay a trace's stimuli, check its outcomes\n"
    "  check EXPECTED ACTUAL       compare two traces per vCPU (snpref check --help)\n"
    "  import ftrace LOG           a Linux KVM tracepoint log as a trace\n"
    "  events [--markdown]         the trace event catalogue\n"
    "  fabrics                     the registered interrupt fabrics\n"
    "  --version                   print the version\n";

int usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("snpref: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see snpref --help)\n", stderr);
    return SNPREF_ST_USAGE;
}

int bad_option(int ch, char **argv)
{
    if (ch == ':')
        return usage_error("%s needs a value", argv[optind - 1]);
    return usage_error("unknown option '%s'", argv[optind - 1]);
}

int guest_arg(int argc, char **argv, const char **guest)
{
    if (optind < argc)
        *guest = argv[optind++];
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    return 0;
}

int load_guest(const char *path, struct guest_image *img, uint8_t **owned)
{
    *owned = NULL;
    if (path)
        return read_image(path, img, owned);
    *img = (struct guest_image){snpref_demo_elf, snpref_demo_elf_len, "built-in demo"};
    return 0;
}

/* Strict unsigned parse: decimal or 0x hex, no trailing junk. */
bool parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (!s || !*s || *s == '-')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (*end || errno || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

int read_image(const char *path, struct guest_image *img, uint8_t **owned)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "snpref: %s: cannot open guest: %s\n", path, strerror(errno));
        return SNPREF_ST_NOINPUT;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (n == cap)
            buf = realloc(buf, cap *= 2);
        size_t got = fread(buf + n, 1, cap - n, f);
        if (!got)
            break;
        n += got;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        fprintf(stderr, "snpref: %s: read error\n", path);
        return SNPREF_ST_NOINPUT;
    }
    *owned = buf;
    *img = (struct guest_image){buf, n, path};
    return 0;
}

static void print_summary(const struct snp_config *c, const struct snpref_result *r)
{
    double us = (double)r->cycles * 1e6 / (double)c->core_hz;
    fprintf(stderr, "snpref: %" PRIu64 " instructions, %" PRIu64 " cycles (%.1f us at %.3f GHz)\n",
            r->insns, r->cycles, us, (double)c->core_hz / 1e9);
    fprintf(stderr, "  vcpu        insns    exits   irqs   excs   ipis  halts        cycles\n");
    for (unsigned i = 0; i < r->nvcpus; i++) {
        const struct snpref_vcpu_summary *v = &r->per_vcpu[i];
        fprintf(stderr, "  %4u %12" PRIu64 " %8" PRIu64 " %6" PRIu64 " %6" PRIu64 " %6" PRIu64
                        " %6" PRIu64 " %13" PRIu64 "\n",
                i, v->insns, v->exits, v->interrupts, v->exceptions, v->ipis_sent, v->halts,
                v->cycles);
    }
}

struct run_opts {
    const char *guest, *config, *trace;
    const char *vcpus, *mode, *apic, *max_insns, *quantum, *exit_style;
    bool quiet;
};

static int parse_run(int argc, char **argv, struct run_opts *o)
{
    static const struct option lo[] = {
        {"vcpus", required_argument, 0, 'v'},     {"mode", required_argument, 0, 'm'},
        {"apic", required_argument, 0, 'a'},      {"config", required_argument, 0, 'c'},
        {"trace", required_argument, 0, 't'},     {"max-insns", required_argument, 0, 'x'},
        {"quantum", required_argument, 0, 'q'},   {"exit-style", required_argument, 0, 'e'},
        {"quiet", no_argument, 0, 'Q'},           {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    memset(o, 0, sizeof(*o));
    opterr = 0;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
        switch (ch) {
        case 'v': o->vcpus = optarg; break;
        case 'm': o->mode = optarg; break;
        case 'a': o->apic = optarg; break;
        case 'c': o->config = optarg; break;
        case 't': o->trace = optarg; break;
        case 'x': o->max_insns = optarg; break;
        case 'q': o->quantum = optarg; break;
        case 'e': o->exit_style = optarg; break;
        case 'Q': o->quiet = true; break;
        case 'h': fputs(usage_run, stdout); return -1;
        default: return bad_option(ch, argv);
        }
    }
    return guest_arg(argc, argv, &o->guest);
}

/* Command-line values over the config file's. */
static int apply_flags(const struct run_opts *o, struct snp_config *c)
{
    uint64_t v;
    if (o->vcpus) {
        if (!parse_u64(o->vcpus, 1, 256, &v))
            return usage_error("--vcpus: '%s' is not a number in 1..256", o->vcpus);
        c->vcpus = (unsigned)v;
    }
    if (o->mode) {
        if (strcmp(o->mode, "plain") && strcmp(o->mode, "sev-es") && strcmp(o->mode, "snp"))
            return usage_error("--mode: '%s' is not plain, sev-es or snp", o->mode);
        snprintf(c->mode, sizeof(c->mode), "%s", o->mode);
    }
    if (o->apic) {
        if (!fabric_find(o->apic))
            return usage_error("--apic: no interrupt fabric named '%s'", o->apic);
        snprintf(c->apic, sizeof(c->apic), "%s", o->apic);
    }
    if (o->max_insns) {
        if (!parse_u64(o->max_insns, 1, UINT64_MAX, &v))
            return usage_error("--max-insns: '%s' is not a positive number", o->max_insns);
        c->max_insns = v;
    }
    if (o->quantum) {
        if (!parse_u64(o->quantum, 1, 1000000000, &v))
            return usage_error("--quantum: '%s' is not a number in 1..1000000000", o->quantum);
        c->quantum = v;
    }
    if (o->exit_style) {
        if (strcmp(o->exit_style, "snpref") && strcmp(o->exit_style, "qemu"))
            return usage_error("--exit-style: '%s' is not snpref or qemu", o->exit_style);
        c->exit_style = strcmp(o->exit_style, "qemu") ? EXIT_STYLE_SNPREF : EXIT_STYLE_QEMU;
    }
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    struct run_opts o;
    int rc = parse_run(argc, argv, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    struct snp_config cfg;
    config_defaults(&cfg);
    char err[512];
    if (o.config) {
        int status;
        if (config_load(&cfg, o.config, &status, err, sizeof(err)) < 0) {
            fprintf(stderr, "snpref: %s\n", err);
            return status;
        }
    }
    if ((rc = apply_flags(&o, &cfg)))
        return rc;
    struct guest_image img;
    uint8_t *owned;
    if ((rc = load_guest(o.guest, &img, &owned)))
        return rc;
    int status = 0;
    struct snpref_system *sys;
    struct snpref_options opt = {o.trace, stdout, NULL, NULL};
    if (snpref_create(&sys, &cfg, &img, &opt, &status, err, sizeof(err)) < 0) {
        fprintf(stderr, "snpref: %s\n", err);
        free(owned);
        return status;
    }
    struct snpref_result res;
    if (snpref_run(sys, &res, err, sizeof(err)) < 0) {
        fprintf(stderr, "snpref: %s\n", err);
        snpref_destroy(sys);
        free(owned);
        return SNPREF_ST_NOINPUT;
    }
    fflush(stdout);
    if (!o.quiet)
        print_summary(&cfg, &res);
    if (res.launch_digest[0] && !o.quiet)
        fprintf(stderr, "snpref: SNP launch digest %s\n", res.launch_digest);
    char warn[128];
    int code = snpref_exit_status(&res, cfg.exit_style == EXIT_STYLE_QEMU, warn, sizeof(warn));
    if (warn[0])
        fprintf(stderr, "snpref: warning: %s\n", warn);
    switch (res.outcome) {
    case SNPREF_SHUTDOWN: fprintf(stderr, "snpref: guest shutdown: %s\n", res.reason); break;
    case SNPREF_HUNG: fprintf(stderr, "snpref: guest hung: %s\n", res.reason); break;
    case SNPREF_LIMIT: fprintf(stderr, "snpref: %s\n", res.reason); break;
    case SNPREF_EXITED: break;
    }
    snpref_destroy(sys);
    free(owned);
    return code;
}

static const char *type_name(enum trc_type t)
{
    static const char *const n[] = {"number", "signed number", "hex string", "string", "boolean"};
    return n[t];
}

static int cmd_events(int argc, char **argv)
{
    bool md = argc > 1 && !strcmp(argv[1], "--markdown");
    if (argc > 1 && !md)
        return usage_error("events: unknown option '%s'", argv[1]);
    for (int i = 0; i < TRC_EV_COUNT; i++) {
        const struct trc_event_desc *d = &trc_catalogue[i];
        if (md)
            printf("### `%s`\n%s\n\n| field | type | meaning |\n|---|---|---|\n", d->name, d->doc);
        else
            printf("%s: %s\n", d->name, d->doc);
        for (unsigned f = 0; f < d->nfields; f++) {
            if (md)
                printf("| `%s` | %s | %s |\n", d->fields[f].name, type_name(d->fields[f].type),
                       d->fields[f].doc);
            else
                printf("    %-10s %-13s %s\n", d->fields[f].name, type_name(d->fields[f].type),
                       d->fields[f].doc);
        }
        if (md)
            printf("\n");
    }
    return 0;
}

static int cmd_fabrics(void)
{
    for (const struct fabric_ops *const *f = fabric_list; *f; f++)
        printf("%-10s %s\n", (*f)->name, (*f)->doc);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("missing command");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(usage_main, stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("snpref " SNPREF_VERSION "\n");
        return 0;
    }
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "bench"))
        return cmd_bench(argc - 1, argv + 1);
    if (!strcmp(cmd, "attacks"))
        return cmd_attacks(argc - 1, argv + 1);
    if (!strcmp(cmd, "compare"))
        return cmd_compare(argc - 1, argv + 1);
    if (!strcmp(cmd, "events"))
        return cmd_events(argc - 1, argv + 1);
    if (!strcmp(cmd, "fabrics"))
        return cmd_fabrics();
    if (!strcmp(cmd, "replay"))
        return cmd_replay(argc - 1, argv + 1);
    if (!strcmp(cmd, "check"))
        return cmd_check(argc - 1, argv + 1);
    if (!strcmp(cmd, "import"))
        return cmd_import(argc - 1, argv + 1);
    return usage_error("unknown command '%s'", cmd);
}
