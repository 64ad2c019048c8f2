/* SPDX-License-Identifier: MIT */
/*
 * `snpref export ftrace TRACE.jsonl [--out FILE]` (docs/cli.md,
 * docs/silicon-logs.md "Export"): the command line of traces/ftrace_export.c.
 * The text goes to stdout (or --out, renamed into place when complete); one
 * summary line on stderr says how many events had no KVM tracepoint.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ftrace.h"
#include "silicon.h"
#include "tools.h"

static const char usage_export[] =
    "usage: snpref export ftrace TRACE.jsonl [--out FILE] [--seconds] [--quiet]\n"
    "Writes the trace as `trace-cmd report` text of KVM's tracepoints (kvm_entry,\n"
    "kvm_exit, kvm_msr, kvm_apic_ipi, ...; docs/silicon-logs.md \"Export\"), which\n"
    "`snpref import ftrace` reads back.\n"
    "  --out FILE   write there instead of stdout\n"
    "  --seconds    timestamps in seconds at the config's core_hz (default: cycles)\n"
    "  --quiet      no summary line on stderr\n"
    "Exit status: 0; 64 bad command line; 65 malformed trace; 66 missing input or an\n"
    "output that cannot be written.\n";

int cmd_export(int argc, char **argv)
{
    static const struct option lo[] = {
        {"out", required_argument, 0, 'o'}, {"quiet", no_argument, 0, 'q'},
        {"seconds", no_argument, 0, 's'},
        {"help", no_argument, 0, 'h'},      {0, 0, 0, 0},
    };
    const char *out = NULL;
    bool quiet = false;
    struct ftr_export_opts o = {false};
    opterr = 0;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
        switch (ch) {
        case 'o': out = optarg; break;
        case 'q': quiet = true; break;
        case 's': o.seconds = true; break;
        case 'h': fputs(usage_export, stdout); return 0;
        default: return bad_option(ch, argv);
        }
    }
    if (optind >= argc || strcmp(argv[optind], "ftrace"))
        return usage_error("export: the only format is ftrace: snpref export ftrace TRACE.jsonl");
    if (argc - optind != 2)
        return usage_error("export ftrace: needs one TRACE.jsonl");
    const char *trace = argv[optind + 1];
    struct ftr_export_stats st;
    char err[512];
    int status = 0;
    if (ftr_export(trace, out, stdout, &o, &st, &status, err, sizeof(err)) < 0) {
        error_line("%s", err);
        return status;
    }
    if (fflush(stdout) != 0) {
        error_line("stdout: cannot write");
        return 66;
    }
    if (!quiet)
        fprintf(stderr,
                "snpref export: %s: %" PRIu64 " events, %" PRIu64 " tracepoint lines, %" PRIu64
                " events with no KVM tracepoint (not exported)\n",
                trace, st.events, st.lines, st.skipped);
    return 0;
}
