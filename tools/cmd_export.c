/* SPDX-License-Identifier: MIT */
/*
 * `snpref export FORMAT TRACE.jsonl` (docs/cli.md): one verb, three writers.
 *  - ftrace: `trace-cmd report` text of KVM's tracepoints (traces/ftrace_export.c;
 *    docs/silicon-logs.md "Export"), which `import ftrace` reads back. The text
 *    goes to stdout (or --out, renamed into place when complete); one summary
 *    line on stderr says how many events had no KVM tracepoint.
 *  - perfetto, vcd (issue 12): timelines and waveforms (export.h). They go to
 *    stdout, so a trace that turns out malformed half-way leaves a truncated
 *    document and status 65 (one line on stderr).
 */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "export.h"
#include "ftrace.h"
#include "silicon.h"
#include "snpref.h"
#include "tools.h"
#include "trace.h"

static const char usage_export[] =
    "usage: snpref export ftrace TRACE.jsonl [--out FILE] [--seconds] [--quiet]\n"
    "       snpref export perfetto TRACE.jsonl > TRACE.json\n"
    "       snpref export vcd TRACE.jsonl > TRACE.vcd\n"
    "ftrace: `trace-cmd report` text of KVM's tracepoints (kvm_entry, kvm_exit,\n"
    "  kvm_msr, kvm_apic_ipi, ...; docs/silicon-logs.md \"Export\"), which\n"
    "  `snpref import ftrace` reads back.\n"
    "    --out FILE   write there instead of stdout\n"
    "    --seconds    timestamps in seconds at the config's core_hz (default: cycles)\n"
    "    --quiet      no summary line on stderr\n"
    "perfetto: Chrome trace-event JSON (the Perfetto UI, chrome://tracing): one\n"
    "  track per vCPU with guest, hypervisor, halted and #VC slices, instants for\n"
    "  interrupt events, flow arrows from each IPI and device message to the\n"
    "  handler entry it caused.\n"
    "vcd: a Value Change Dump (GTKWave): per vCPU IRR, ISR, TPR and PPR as\n"
    "  vectors, INTR and NMI as lines, rebuilt from the trace's events.\n"
    "Exit status: 0; 64 bad command line; 65 malformed trace; 66 missing input or an\n"
    "output that cannot be written.\n";

static int export_ftrace(int argc, char **argv)
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

/* core_hz of the header's config (the model's default when absent). */
static uint64_t core_hz_of(const struct trc_header *h)
{
    cJSON *cfg = cJSON_Parse(h->config_json ? h->config_json : "{}");
    cJSON *hz = cJSON_GetObjectItemCaseSensitive(cfg, "core_hz");
    uint64_t v = cJSON_IsNumber(hz) && hz->valuedouble >= 1 ? (uint64_t)hz->valuedouble
                                                            : 2000000000ull;
    cJSON_Delete(cfg);
    return v;
}

static int export_timeline(int argc, char **argv)
{
    if (argc != 3)
        return usage_error("export %s: needs one TRACE.jsonl", argv[1]);
    int (*fn)(struct export_in *, FILE *) = !strcmp(argv[1], "perfetto") ? export_perfetto
                                                                          : export_vcd;
    FILE *f = fopen(argv[2], "r");
    if (!f) {
        error_line("%s: cannot open trace", argv[2]);
        return SNPREF_ST_NOINPUT;
    }
    fclose(f);
    char err[512];
    struct export_in in = {argv[2], trc_reader_open(argv[2], err, sizeof(err)), 0, 0, NULL, NULL};
    if (!in.rd) {
        error_line("%s", err);
        return SNPREF_ST_DATAERR;
    }
    const struct trc_header *h = trc_reader_header(in.rd);
    in.vcpus = h->vcpus;
    in.core_hz = core_hz_of(h);
    in.fabric = h->fabric;
    in.mode = h->mode;
    int rc = fn(&in, stdout);
    trc_reader_close(in.rd);
    return rc;
}

int cmd_export(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(usage_export, stdout);
        return 0;
    }
    if (argc < 2)
        return usage_error("export: need a format (ftrace, perfetto or vcd) and one trace");
    if (!strcmp(argv[1], "ftrace"))
        return export_ftrace(argc, argv);
    if (!strcmp(argv[1], "perfetto") || !strcmp(argv[1], "vcd"))
        return export_timeline(argc, argv);
    return usage_error("export: '%s' is not ftrace, perfetto or vcd", argv[1]);
}
