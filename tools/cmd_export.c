/* SPDX-License-Identifier: MIT */
/*
 * `snpref export FORMAT TRACE.jsonl` (issue 12; docs/cli.md): opens the
 * trace, finds the clock in its header and hands it to the format's writer
 * (export.h). The output goes to stdout, so a trace that turns out malformed
 * half-way leaves a truncated document and status 65 (one line on stderr).
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "export.h"
#include "snpref.h"
#include "tools.h"
#include "trace.h"

static const char usage_export[] =
    "usage: snpref export perfetto TRACE.jsonl > TRACE.json\n"
    "       snpref export vcd TRACE.jsonl > TRACE.vcd\n"
    "perfetto: Chrome trace-event JSON (the Perfetto UI, chrome://tracing): one\n"
    "  track per vCPU with guest, hypervisor, halted and #VC slices, instants for\n"
    "  interrupt events, flow arrows from each IPI and device message to the\n"
    "  handler entry it caused.\n"
    "vcd: a Value Change Dump (GTKWave): per vCPU IRR, ISR, TPR and PPR as\n"
    "  vectors, INTR and NMI as lines, rebuilt from the trace's events.\n"
    "Exit status: 0; 64 bad command line, 65 malformed trace, 66 missing trace.\n";

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

int cmd_export(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(usage_export, stdout);
        return 0;
    }
    if (argc != 3)
        return usage_error("export: need a format (perfetto or vcd) and one trace");
    int (*fn)(struct export_in *, FILE *) = !strcmp(argv[1], "perfetto") ? export_perfetto
                                            : !strcmp(argv[1], "vcd")     ? export_vcd
                                                                          : NULL;
    if (!fn)
        return usage_error("export: '%s' is not perfetto or vcd", argv[1]);
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
