/* SPDX-License-Identifier: MIT */
/*
 * `snpref import ftrace LOG [--hz N] [--config FILE] [--mode M] [--out FILE]`
 * (docs/cli.md, docs/silicon-logs.md): the command line of traces/ftrace.c.
 * The trace goes to stdout (or --out, renamed into place when complete); a
 * summary of what was mapped, and of every line that was not, goes to stderr.
 * The header's config is the default config (or --config) with the vCPU count
 * the log shows, its mode, and core_hz = the --hz used to convert timestamps.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ftrace.h"
#include "silicon.h"
#include "tools.h"

static const char usage_import[] =
    "usage: snpref import ftrace LOG [options] > TRACE.jsonl\n"
    "Turns a Linux KVM tracepoint log (trace-cmd report, or the ftrace trace file)\n"
    "into a trace (docs/silicon-logs.md).\n"
    "  --hz N             cycles per second for timestamps: t = round((ts - first) * N)\n"
    "                     (default: the config's core_hz)\n"
    "  --config FILE      config recorded in the header (default: the defaults)\n"
    "  --mode M           plain, sev-es or snp (default: from the tracepoints seen)\n"
    "  --out FILE         write the trace there instead of stdout\n"
    "Exit status: 0, 64 bad command line, 65 malformed log or config, 66 missing input.\n";

struct import_cli {
    const char *log, *config, *mode, *out, *hz;
    struct snp_config cfg;
    char *cfg_json;
};

static int parse(int argc, char **argv, struct import_cli *c)
{
    static const struct option lo[] = {
        {"hz", required_argument, 0, 'z'},  {"config", required_argument, 0, 'c'},
        {"mode", required_argument, 0, 'm'}, {"out", required_argument, 0, 'o'},
        {"help", no_argument, 0, 'h'},      {0, 0, 0, 0},
    };
    memset(c, 0, sizeof(*c));
    opterr = 0;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
        switch (ch) {
        case 'z': c->hz = optarg; break;
        case 'c': c->config = optarg; break;
        case 'm': c->mode = optarg; break;
        case 'o': c->out = optarg; break;
        case 'h': fputs(usage_import, stdout); return -1;
        default: return bad_option(ch, argv);
        }
    }
    if (optind >= argc || strcmp(argv[optind], "ftrace"))
        return usage_error("import: the only format is ftrace: snpref import ftrace LOG");
    if (argc - optind != 2)
        return usage_error("import ftrace: needs one LOG");
    c->log = argv[optind + 1];
    if (c->mode && strcmp(c->mode, "plain") && strcmp(c->mode, "sev-es") && strcmp(c->mode, "snp"))
        return usage_error("--mode: '%s' is not plain, sev-es or snp", c->mode);
    return 0;
}

static int header(void *ctx, const struct ftr_scan *scan, struct trc_header *h, int *status,
                  char *err, size_t errlen)
{
    (void)status, (void)err, (void)errlen;
    struct import_cli *c = ctx;
    c->cfg.vcpus = scan->vcpus;
    snprintf(c->cfg.mode, sizeof(c->cfg.mode), "%s", c->mode ? c->mode : h->mode);
    c->cfg_json = config_to_json(&c->cfg);
    h->model = "snpref-import ftrace " SNPREF_VERSION;
    h->mode = c->cfg.mode;
    h->fabric = c->cfg.apic;
    h->quantum = c->cfg.quantum;
    h->config_json = c->cfg_json;
    return 0;
}

static void print_lines(const char *what, const struct ftr_lines *l)
{
    if (!l->count)
        return;
    fprintf(stderr, "  %-44s %8" PRIu64 "  (line", what, l->count);
    unsigned n = l->count < FTR_MAX_LINES ? (unsigned)l->count : FTR_MAX_LINES;
    for (unsigned i = 0; i < n; i++)
        fprintf(stderr, "%s %lu", i ? "," : "", l->first[i]);
    fprintf(stderr, "%s)\n", l->count > n ? ", ..." : "");
}

static void summary(const struct import_cli *c, const struct ftr_stats *st)
{
    char log[512];
    fprintf(stderr, "snpref import: %s: %" PRIu64 " lines, %" PRIu64 " tracepoints mapped, %" PRIu64
                    " events written\n",
            esc_text(c->log, log, sizeof(log)), st->lines, st->mapped, st->events);
    if (st->comments)
        fprintf(stderr, "  %-44s %8" PRIu64 "\n", "comments and trace-cmd banners", st->comments);
    for (unsigned i = 0; i < st->nunknown; i++) {
        char what[80];
        snprintf(what, sizeof(what), "unknown tracepoint %s", st->unknown[i].name);
        print_lines(what, &st->unknown[i].at);
    }
    if (st->unknown_more)
        fprintf(stderr, "  %-44s %8" PRIu64 "\n", "lines of further unknown tracepoints",
                st->unknown_more);
    print_lines("lines that are no tracepoint line", &st->unparsed);
    print_lines("tracepoints with no vCPU to attribute to", &st->no_vcpu);
    print_lines("lost-events notes (the log has gaps)", &st->lost);
    print_lines("timestamps earlier than the line before", &st->clamped);
    print_lines("GHCB MSR protocol enter/exit without its pair", &st->incomplete);
    if (st->apic_covered)
        fprintf(stderr, "  %-44s %8" PRIu64 "\n", "kvm_apic lines carried by kvm_msr lines",
                st->apic_covered);
    if (st->pio_repeat)
        fprintf(stderr, "  %-44s %8" PRIu64 "\n", "kvm_pio with count > 1 (first value only)",
                st->pio_repeat);
}

int cmd_import(int argc, char **argv)
{
    struct import_cli c;
    int rc = parse(argc, argv, &c);
    if (rc)
        return rc < 0 ? 0 : rc;
    config_defaults(&c.cfg);
    char err[512];
    int status;
    if (c.config && config_load(&c.cfg, c.config, &status, err, sizeof(err)) < 0) {
        error_line("%s", err);
        return status;
    }
    uint64_t hz = c.cfg.core_hz;
    if (c.hz && !parse_u64(c.hz, 1000000, 100000000000ull, &hz))
        return usage_error("--hz: '%s' is not a number in 1000000..100000000000", c.hz);
    c.cfg.core_hz = hz;
    struct ftr_opts o = {hz};
    struct ftr_stats st;
    rc = ftr_import(c.log, &o, header, &c, c.out, stdout, &st, &status, err, sizeof(err));
    free(c.cfg_json);
    if (rc < 0) {
        error_line("%s", err);
        return status;
    }
    summary(&c, &st);
    return 0;
}
