/* SPDX-License-Identifier: MIT */
/*
 * Importing Linux KVM tracepoint logs (`snpref import ftrace`,
 * docs/silicon-logs.md): the text of `trace-cmd report` or of the ftrace
 * `trace` file becomes a trace in our format, each known tracepoint mapped onto
 * the catalogue's events, its timestamp onto simulated time. Lines that are not
 * known tracepoints are counted and listed, never dropped silently; a known
 * tracepoint whose text does not parse is an error naming the line and field.
 *
 * The log is read twice, one line at a time: the first pass checks every line
 * and learns what the trace header needs (the vCPU count, the mode), the second
 * writes the events. Nothing is written if the first pass finds an error, and
 * memory does not grow with the log.
 *
 * Pure trace logic: depends on trace.h only.
 */
#ifndef SNPREF_FTRACE_H
#define SNPREF_FTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "trace.h"

struct ftr_opts {
    uint64_t hz; /* simulated cycles per second: t = round((ts - first_ts) * hz) */
};

/* What the first pass learned, for the header. */
struct ftr_scan {
    unsigned vcpus;  /* 1 + the highest vCPU seen (1 when none) */
    bool sev_es;     /* a VMGEXIT was seen */
    bool snp;        /* an SNP-only event (RMP fault, page-state change) was seen */
    bool have_msr;   /* kvm_msr lines exist: they carry the x2APIC accesses, not kvm_apic */
};

#define FTR_MAX_UNKNOWN 32
#define FTR_MAX_LINES 8

/* Line numbers of a kind of line (the first few) and how many there were. */
struct ftr_lines {
    uint64_t count;
    unsigned long first[FTR_MAX_LINES];
};

struct ftr_stats {
    uint64_t lines;            /* lines in the log */
    uint64_t events;           /* events written */
    uint64_t mapped;           /* tracepoint lines mapped onto events */
    uint64_t comments;         /* '#' comments, blank lines, trace-cmd banners */
    struct ftr_lines lost;     /* "[LOST N EVENTS]" notes: the log has gaps */
    struct ftr_lines unparsed; /* lines that are no tracepoint line at all */
    struct ftr_lines no_vcpu;  /* known tracepoints no vCPU can be attributed to */
    struct ftr_lines clamped;  /* timestamps before the previous line's (taken as equal) */
    struct ftr_lines incomplete; /* a GHCB MSR protocol enter with no exit */
    uint64_t apic_covered;     /* kvm_apic lines whose access a kvm_msr line carries */
    uint64_t pio_repeat;       /* kvm_pio lines with count > 1: one event, the first value */
    struct {
        char name[64];
        struct ftr_lines at;
    } unknown[FTR_MAX_UNKNOWN]; /* tracepoints this importer does not know */
    unsigned nunknown;
    uint64_t unknown_more;     /* lines of further unknown tracepoints */
};

/*
 * Builds the header once the first pass is done: h->vcpus and h->mode are
 * filled from the scan; the callback fills or overrides the rest (model,
 * fabric, quantum, config_json, which must stay valid until ftr_import
 * returns). Returns 0, or -1 with err (and *status).
 */
typedef int (*ftr_header_fn)(void *ctx, const struct ftr_scan *scan, struct trc_header *h,
                             int *status, char *err, size_t errlen);

/*
 * Imports log_path. The trace goes to out_path (written as .tmp and renamed
 * when complete), or to `stream` when out_path is NULL. Returns 0, or -1 with
 * "LOG:LINE: field 'F': problem" in err and *status 65 (malformed) or 66
 * (missing or unwritable).
 */
int ftr_import(const char *log_path, const struct ftr_opts *o, ftr_header_fn header, void *ctx,
               const char *out_path, FILE *stream, struct ftr_stats *st, int *status, char *err,
               size_t errlen);

#endif
