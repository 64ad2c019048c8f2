/* SPDX-License-Identifier: MIT */
/*
 * The snpref command line (docs/design.md section 3; docs/cli.md). The only main()
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
#include <unistd.h>

#include "config.h"
#include "fabric.h"
#include "linux.h"
#include "loader.h"
#include "silicon.h"
#include "snpref.h"
#include "snpref/text.h"
#include "tools.h"
#include "trace.h"

/* `run`'s options and the exit statuses, shared by `snpref --help` (which
 * help2man turns into the man page, cmake/Install.cmake) and `snpref run --help`. */
#define RUN_OPTIONS                                                                     \
    "  --kernel BZIMAGE     boot this Linux kernel (docs/guest-abi.md \"Linux boot\")\n"     \
    "                       or multiboot image (\"Multiboot\"; a GUEST with its header too)\n" \
    "  --initrd FILE        its initial ramdisk (a multiboot image: its one module)\n"   \
    "  --append CMDLINE     its command line\n"                                          \
    "  --cpu-features LIST  CPUID edits as QEMU's -cpu: +NAME, -NAME, max (config\n"      \
    "                       cpu_features; docs/config.md \"CPU features\")\n"            \
    "  --ram-mb N           guest RAM in MiB, even, 2-1048576 (config ram_mb)\n"        \
    "  --vcpus N            number of vCPUs, 1-256 (default 4)\n"                       \
    "  --mode M             plain, sev-es or snp (default plain)\n"                     \
    "  --apic NAME          interrupt fabric (default emulated; see `snpref fabrics`)\n" \
    "  --config FILE.json   configuration (docs/config.md); flags override it\n"        \
    "  --trace FILE.jsonl   write a JSON Lines trace (docs/trace-format.md)\n"          \
    "  --trace-events LIST  record only these events (comma-separated names)\n"      \
    "  --measured-pages FILE  SNP: write each page the launch measures, 4096 bytes\n"  \
    "                       apiece in LAUNCH_UPDATE order (docs/attestation.md)\n"     \
    "  --max-insns N        stop after N instructions in all (exit 81)\n"               \
    "  --quantum N          instructions per scheduling quantum\n"                      \
    "  --exit-style S       snpref (default) or qemu: status (value << 1) | 1\n"        \
    "  --quiet              no summary on stderr\n"                                    \
    "  --progress           progress on stderr: instructions, simulated time, host rate\n" \
    "                       (the default on a terminal unless --quiet)\n"              \
    "  --no-progress        no progress, even on a terminal\n"
#define EXIT_STATUS                                                                       \
    "SIGINT or SIGTERM ends the run at the next quantum boundary: the trace is\n"       \
    "completed with an `interrupted` event, the summary printed, exit 130 or 143.\n"    \
    "Exit status: the guest's value 0-63; 64 bad command line, 65 malformed input,\n"     \
    "66 missing input, 70 internal error, 80 guest shutdown, 81 instruction limit,\n"   \
    "128 + N ended by signal N.\n"

static const char usage_run[] =
    "usage: snpref run [GUEST.elf] [options]\n"
    "       snpref run --kernel BZIMAGE [--initrd FILE] [--append CMDLINE] [options]\n"
    "Runs GUEST.elf (or the built-in demo guest) on the model, or boots a Linux\n"
    "bzImage by the x86 boot protocol (any mode; default 256 MiB of RAM), or a\n"
    "multiboot image such as a kvm-unit-tests .flat (mode plain).\n" RUN_OPTIONS EXIT_STATUS;

static const char usage_main[] =
    "Usage: snpref COMMAND [ARGS]\n"
    "  or:  snpref --help | --version\n"
    "A functional, cycle-approximate reference model of AMD SEV-SNP confidential-VM\n"
    "hardware: x86-64 guests (built with the guest SDK) on a golden x2APIC fabric,\n"
    "SEV-ES and SNP (#VC, GHCB, RMP checks, PSP launch), Secure AVIC, and trace\n"
    "replay and checking. `snpref run` with no guest runs the built-in demo.\n"
    "\n"
    "Commands:\n"
    "  run [GUEST.elf] [options]   run a guest (snpref run --help)\n"
    "  run --kernel BZIMAGE ...    boot a Linux kernel\n"
    "  bench [PART...]             speed against QEMU TCG: compute mixed ipi linux replay\n"
    "                              (snpref bench --help, docs/cost-model.md)\n"
    "  compare [GUEST.elf]         one guest under two fabrics (snpref compare --help)\n"
    "  attacks [--json]            hostile-hypervisor injections vs SNP (docs/attacks.md)\n"
    "  replay TRACE [options]      replay a trace's stimuli, check its outcomes\n"
    "  check EXPECTED ACTUAL       compare two traces per vCPU (snpref check --help)\n"
    "  import ftrace LOG           a Linux KVM tracepoint log as a trace\n"
    "  stats TRACE [--json]        per-vCPU counts and latency histograms of a trace\n"
    "  export ftrace TRACE         a trace as KVM tracepoint text (trace-cmd report)\n"
    "  export perfetto|vcd TRACE   a trace as a Perfetto timeline or VCD waveforms\n"
    "  events [--markdown]         the trace event catalogue\n"
    "  fabrics                     the registered interrupt fabrics\n"
    "\n"
    "Options:\n"
    "  -h, --help                  print this help and exit\n"
    "  --version                   print the version and exit\n"
    "\n"
    "Run options:\n" RUN_OPTIONS
    "\n"
    "Exit status:\n"
    "  0-63                        the value the guest wrote to port 0xF4\n"
    "  64                          bad command line\n"
    "  65                          malformed input: ELF, config, trace, KVM log\n"
    "  66                          input missing or unreadable\n"
    "  70                          internal model error\n"
    "  80                          guest shutdown (triple fault, termination, hang)\n"
    "  81                          instruction limit reached\n"
    "\n"
    "The docs/ named here are in the source tree and, installed, in share/doc/snpref\n"
    "under the install prefix.\n";

/* Every error line of the tools goes out here, escaped: one line, whatever
 * bytes the user's names and values held (snpref/text.h). */
static void verror_line(const char *tail, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    fprintf(stderr, "snpref: %s%s\n", snp_esc_inplace(msg, sizeof(msg)), tail);
}

const char *esc_text(const char *s, char *buf, size_t len)
{
    snprintf(buf, len, "%s", s);
    return snp_esc_inplace(buf, len);
}

void error_line(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror_line("", fmt, ap);
    va_end(ap);
}

int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror_line(" (see snpref --help)", fmt, ap);
    va_end(ap);
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
    *img = (struct guest_image){snpref_demo_elf, snpref_demo_elf_len, "built-in demo", NULL};
    return 0;
}

/* Strict unsigned parse: decimal or 0x hex, nothing else (snp_parse_u64). */
bool parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    uint64_t v;
    if (!snp_parse_u64(s, &v) || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

int read_image(const char *path, struct guest_image *img, uint8_t **owned)
{
    FILE *f = snp_fopen_input(path, "rb");
    if (!f) {
        error_line("%s: cannot open: %s", path, strerror(errno));
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
        error_line("%s: read error", path);
        return SNPREF_ST_NOINPUT;
    }
    *owned = buf;
    *img = (struct guest_image){buf, n, path, NULL};
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
    const char *guest, *config, *trace, *trace_events, *measured_pages;
    const char *vcpus, *mode, *apic, *max_insns, *quantum, *exit_style, *ram_mb;
    const char *kernel, *initrd, *append, *cpu_features;
    bool quiet;
    int progress; /* 1 --progress, 0 --no-progress, -1 neither */
};

static int parse_run(int argc, char **argv, struct run_opts *o)
{
    static const struct option lo[] = {
        {"vcpus", required_argument, 0, 'v'},     {"mode", required_argument, 0, 'm'},
        {"apic", required_argument, 0, 'a'},      {"config", required_argument, 0, 'c'},
        {"trace", required_argument, 0, 't'},     {"max-insns", required_argument, 0, 'x'},
        {"quantum", required_argument, 0, 'q'},   {"exit-style", required_argument, 0, 'e'},
        {"quiet", no_argument, 0, 'Q'},           {"help", no_argument, 0, 'h'},
        {"progress", no_argument, 0, 'P'},        {"no-progress", no_argument, 0, 'N'},
        {"kernel", required_argument, 0, 'K'},    {"initrd", required_argument, 0, 'I'},
        {"append", required_argument, 0, 'A'},    {"ram-mb", required_argument, 0, 'R'},
        {"cpu-features", required_argument, 0, 'F'},
        {"trace-events", required_argument, 0, 'T'},
        {"measured-pages", required_argument, 0, 'M'},
        {0, 0, 0, 0},
    };
    memset(o, 0, sizeof(*o));
    o->progress = -1;
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
        case 'T': o->trace_events = optarg; break;
        case 'M': o->measured_pages = optarg; break;
        case 'x': o->max_insns = optarg; break;
        case 'q': o->quantum = optarg; break;
        case 'e': o->exit_style = optarg; break;
        case 'Q': o->quiet = true; break;
        case 'P': o->progress = 1; break;
        case 'N': o->progress = 0; break;
        case 'K': o->kernel = optarg; break;
        case 'I': o->initrd = optarg; break;
        case 'A': o->append = optarg; break;
        case 'R': o->ram_mb = optarg; break;
        case 'F': o->cpu_features = optarg; break;
        case 'h': fputs(usage_run, stdout); return -1;
        default: return bad_option(ch, argv);
        }
    }
    int rc = guest_arg(argc, argv, &o->guest);
    if (rc)
        return rc;
    char why[160];
    if (o->trace_events && !o->trace)
        return usage_error("--trace-events needs --trace");
    if (o->trace_events && trc_check_filter(o->trace_events, why, sizeof(why)) < 0)
        return usage_error("--trace-events: %s", why);
    if (o->kernel && o->guest)
        return usage_error("--kernel %s and the guest '%s' exclude each other", o->kernel,
                           o->guest);
    if (!o->kernel && (o->initrd || o->append))
        return usage_error("%s needs --kernel", o->initrd ? "--initrd" : "--append");
    return 0;
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
            return usage_error("--apic: no interrupt fabric named '%s'; snpref fabrics lists them",
                               o->apic);
        snprintf(c->apic, sizeof(c->apic), "%s", o->apic);
    }
    if (o->ram_mb) {
        if (!parse_u64(o->ram_mb, 2, 1u << 20, &v) || v % 2)
            return usage_error("--ram-mb: '%s' is not an even number in 2..1048576", o->ram_mb);
        c->ram_mb = v;
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
    if (o->cpu_features) {
        char why[512];
        if (cpufeat_parse(o->cpu_features, &c->features, why, sizeof(why)) < 0)
            return usage_error("--cpu-features: %s", why);
    }
    if (o->exit_style) {
        if (strcmp(o->exit_style, "snpref") && strcmp(o->exit_style, "qemu"))
            return usage_error("--exit-style: '%s' is not snpref or qemu", o->exit_style);
        c->exit_style = strcmp(o->exit_style, "qemu") ? EXIT_STYLE_SNPREF : EXIT_STYLE_QEMU;
    }
    return 0;
}

/* --kernel BZIMAGE with its --initrd and --append (the checks are the loader's). */
static int load_kernel(const struct run_opts *o, struct guest_image *img, struct kernel_args *ka,
                       uint8_t **owned, uint8_t **initrd)
{
    int rc = read_image(o->kernel, img, owned);
    if (rc)
        return rc;
    *ka = (struct kernel_args){NULL, 0, o->initrd, o->append};
    if (o->initrd) {
        struct guest_image rd;
        if ((rc = read_image(o->initrd, &rd, initrd))) {
            free(*owned);
            return rc;
        }
        ka->initrd = rd.data;
        ka->initrd_len = rd.len;
    }
    img->kernel = ka;
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
    if (o.kernel)
        cfg.ram_mb = LINUX_DEFAULT_RAM_MB; /* a config file or --ram-mb overrides it */
    char err[512];
    if (o.config) {
        int status;
        if (config_load(&cfg, o.config, &status, err, sizeof(err)) < 0) {
            error_line("%s", err);
            return status;
        }
    }
    if ((rc = apply_flags(&o, &cfg)))
        return rc;
    if (o.measured_pages && strcmp(cfg.mode, "snp"))
        return usage_error("--measured-pages %s: only an SNP launch measures pages (mode is %s)",
                           o.measured_pages, cfg.mode);
    struct guest_image img;
    struct kernel_args ka;
    uint8_t *owned, *initrd = NULL;
    rc = o.kernel ? load_kernel(&o, &img, &ka, &owned, &initrd) : load_guest(o.guest, &img, &owned);
    if (rc)
        return rc;
    int status = 0;
    struct snpref_system *sys;
    struct progress prog;
    progress_init(&prog, o.progress == 1 || (o.progress < 0 && !o.quiet && isatty(STDERR_FILENO)),
                  cfg.core_hz);
    /* Before the trace is opened: a signal from then on ends the run cleanly. */
    struct snpref_options opt = {.trace_path = o.trace, .trace_events = o.trace_events,
                                 .measured_pages_path = o.measured_pages,
                                 .console = stdout, .console_input = true,
                                 .interrupt = runctl_signals(),
                                 .progress = prog.on ? progress_tick : NULL, .progress_ctx = &prog};
    if (snpref_create(&sys, &cfg, &img, &opt, &status, err, sizeof(err)) < 0) {
        error_line("%s", err);
        free(owned);
        free(initrd);
        return status;
    }
    struct snpref_result res;
    if (snpref_run(sys, &res, err, sizeof(err)) < 0) {
        error_line("%s", err);
        snpref_destroy(sys);
        free(owned);
        free(initrd);
        return SNPREF_ST_NOINPUT;
    }
    fflush(stdout);
    progress_end(&prog, res.insns, res.cycles);
    if (!o.quiet)
        print_summary(&cfg, &res);
    if (res.launch_digest[0] && !o.quiet)
        fprintf(stderr, "snpref: SNP launch digest %s\n", res.launch_digest);
    char warn[128];
    int code = snpref_exit_status(&res, cfg.exit_style == EXIT_STYLE_QEMU, warn, sizeof(warn));
    if (warn[0])
        fprintf(stderr, "snpref: warning: %s\n", warn);
    switch (res.outcome) {
    case SNPREF_SHUTDOWN: error_line("guest shutdown: %s", res.reason); break;
    case SNPREF_HUNG: error_line("guest hung: %s", res.reason); break;
    case SNPREF_LIMIT:
    case SNPREF_INTERRUPTED: error_line("%s", res.reason); break;
    case SNPREF_EXITED: break;
    }
    snpref_destroy(sys);
    free(owned);
    free(initrd);
    return code;
}

static const char usage_events[] =
    "usage: snpref events [--markdown]\n"
    "Prints the trace event catalogue (traces/events.def): every event, its fields,\n"
    "their types and meaning; --markdown as the table in docs/trace-format.md.\n";

static const char usage_fabrics[] =
    "usage: snpref fabrics\n"
    "Lists the registered interrupt fabrics, the names --apic takes.\n";

static const char *type_name(enum trc_type t)
{
    static const char *const n[] = {"number", "signed number", "hex string", "string", "boolean"};
    return n[t];
}

/* An ENUM field's values: "one of `a`, `b`" (md) or " [a, b]"; "" for other fields. */
static const char *enum_values(const struct trc_field_desc *fd, bool md, char *buf, size_t len)
{
    buf[0] = '\0';
    for (const char *const *v = fd->values; v && *v; v++)
        snprintf(buf + strlen(buf), len - strlen(buf), "%s%s%s%s",
                 v == fd->values ? (md ? "one of " : " [") : ", ", md ? "`" : "", *v,
                 md ? "`" : "");
    if (fd->values && !md)
        snprintf(buf + strlen(buf), len - strlen(buf), "]");
    return buf;
}

/* The verbs without operands: --help, or the one flag they take (opt may be NULL). */
static int simple_args(int argc, char **argv, const char *usage, const char *opt, bool *set)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return -1;
        }
        if (opt && !strcmp(argv[i], opt) && !*set)
            *set = true;
        else if (argv[i][0] == '-')
            return usage_error("%s: unknown option '%s'", argv[0], argv[i]);
        else
            return usage_error("%s: unexpected argument '%s'", argv[0], argv[i]);
    }
    return 0;
}

static int cmd_events(int argc, char **argv)
{
    bool md = false;
    int rc = simple_args(argc, argv, usage_events, "--markdown", &md);
    if (rc)
        return rc < 0 ? 0 : rc;
    char tb[256];
    for (int i = 0; i < TRC_EV_COUNT; i++) {
        const struct trc_event_desc *d = &trc_catalogue[i];
        if (md)
            printf("### `%s`\n%s\n\n| field | type | meaning |\n|---|---|---|\n", d->name, d->doc);
        else
            printf("%s: %s\n", d->name, d->doc);
        for (unsigned f = 0; f < d->nfields; f++) {
            const struct trc_field_desc *fd = &d->fields[f];
            if (md)
                printf("| `%s` | %s | %s |\n", fd->name,
                       fd->values ? enum_values(fd, true, tb, sizeof(tb)) : type_name(fd->type),
                       fd->doc);
            else
                printf("    %-10s %-13s %s%s\n", fd->name, fd->values ? "enum" : type_name(fd->type),
                       fd->doc, enum_values(fd, false, tb, sizeof(tb)));
        }
        if (md)
            printf("\n");
    }
    return 0;
}

static int cmd_fabrics(int argc, char **argv)
{
    int rc = simple_args(argc, argv, usage_fabrics, NULL, NULL);
    if (rc)
        return rc < 0 ? 0 : rc;
    for (const struct fabric_ops *const *f = fabric_list; *f; f++) {
        printf("%-12s %s\n", (*f)->name, (*f)->doc);
        /* What it declares (fabric.h FAB_CAP_*), and its knob section. */
        printf("%-12s caps:", "");
        for (const struct fab_cap_name *c = fab_cap_names; c->name; c++)
            if ((*f)->caps & c->cap)
                printf(" %s", c->name);
        if (!(*f)->caps)
            printf(" none");
        if ((*f)->knobs)
            printf("; knobs: config section \"%s\"", (*f)->knobs->section);
        printf("\n");
    }
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
        return cmd_fabrics(argc - 1, argv + 1);
    if (!strcmp(cmd, "replay"))
        return cmd_replay(argc - 1, argv + 1);
    if (!strcmp(cmd, "check"))
        return cmd_check(argc - 1, argv + 1);
    if (!strcmp(cmd, "import"))
        return cmd_import(argc - 1, argv + 1);
    if (!strcmp(cmd, "stats"))
        return cmd_stats(argc - 1, argv + 1);
    if (!strcmp(cmd, "export"))
        return cmd_export(argc - 1, argv + 1);
    return usage_error("unknown command '%s'", cmd);
}
