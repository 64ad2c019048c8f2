/* SPDX-License-Identifier: MIT */
/*
 * `snpref export perfetto|vcd TRACE.jsonl` (cmd_export.c): a trace as a
 * timeline for the Perfetto UI / chrome://tracing (export_perfetto.c) or as
 * waveforms for GTKWave (export_vcd.c), on stdout. Both read the trace once,
 * in file (time) order; time is the trace's cycles scaled by the header
 * config's core_hz.
 */
#ifndef SNPREF_EXPORT_H
#define SNPREF_EXPORT_H

#include <stdint.h>
#include <stdio.h>

struct trc_reader;

struct export_in {
    const char *path;
    struct trc_reader *rd;
    unsigned vcpus;
    uint64_t core_hz;
    const char *fabric, *mode;
};

/* Each returns 0, or the exit status after one line on stderr (65: the
 * trace is malformed further on). */
int export_perfetto(struct export_in *in, FILE *out);
int export_vcd(struct export_in *in, FILE *out);

#endif
