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

/* The text forms of a KVM log (docs/silicon-logs.md "Formats"). */
enum ftr_format {
    FTR_FMT_AUTO,     /* detected per file */
    FTR_FMT_RAW,      /* /sys/kernel/tracing/trace: "# tracer:" header, latency flags */
    FTR_FMT_TRACECMD, /* trace-cmd report (with or without -l flags, -t, TSC clocks) */
    FTR_FMT_PERF,     /* perf script: "kvm:" before each tracepoint name */
};
const char *ftr_format_name(enum ftr_format f);
/* "auto", "raw", "trace-cmd", "perf"; -1 if none. */
int ftr_format_parse(const char *s);

struct ftr_opts {
    uint64_t hz; /* simulated cycles per second: t = round((ts - first_ts) * hz) */
    enum ftr_format format; /* FTR_FMT_AUTO: detected */
    bool strict;            /* an unknown tracepoint line is an error */
    bool ts_ns;             /* integer timestamps are nanoseconds, not cycles */
};

/* What the first pass learned, for the header. */
struct ftr_scan {
    unsigned vcpus;  /* 1 + the highest vCPU seen (1 when none) */
    bool sev_es;     /* a VMGEXIT was seen */
    bool snp;        /* an SNP-only event (RMP fault, page-state change) was seen */
    uint64_t events; /* events the second pass will write */
};

#define FTR_MAX_UNKNOWN 32
#define FTR_MAX_LINES 8
#define FTR_MAX_SAMPLES 5

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
    struct ftr_lines positional; /* lines with no thread: attributed by position */
    uint64_t apic_covered;     /* kvm_apic lines whose access a kvm_msr line carries */
    uint64_t pio_repeat;       /* kvm_pio lines with count > 1: one event, the first value */
    struct {
        char name[64];
        struct ftr_lines at;
    } unknown[FTR_MAX_UNKNOWN]; /* tracepoints this importer does not know */
    unsigned nunknown;
    uint64_t unknown_more;     /* lines of further unknown tracepoints */
    struct {
        unsigned long line;
        char text[128];
    } sample[FTR_MAX_SAMPLES]; /* the first lines not recognised (unparsed or unknown) */
    unsigned nsample;
    enum ftr_format format;    /* the format read (detected or forced) */
    uint64_t other_format;     /* tracepoint lines of another format than the forced one */
    bool empty;                /* refused: no line maps onto an event */
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
 * (missing or unwritable). A log that maps no line onto an event is malformed
 * too (65, "LOG: no line ..."; st holds what was seen), as is, with o->strict,
 * a line of a tracepoint the importer does not know.
 */
int ftr_import(const char *log_path, const struct ftr_opts *o, ftr_header_fn header, void *ctx,
               const char *out_path, FILE *stream, struct ftr_stats *st, int *status, char *err,
               size_t errlen);

/* ---- Export (ftrace_export.c) ------------------------------------------------------- */

struct ftr_export_opts {
    /* Timestamps in seconds with 9 decimals (trace-cmd report -t), from the
     * header's config.core_hz; else the cycle count (an integer clock). */
    bool seconds;
};

struct ftr_export_stats {
    uint64_t events;  /* events read */
    uint64_t lines;   /* tracepoint lines written */
    uint64_t skipped; /* events no tracepoint says (docs/silicon-logs.md "Export") */
};

/*
 * Writes the trace at trace_path as `trace-cmd report` text of KVM's
 * tracepoints, to out_path (as .tmp, renamed when complete) or to stream. The
 * trace is read in full first: a malformed one writes nothing. Returns 0, or
 * -1 with "FILE:LINE: ..." in err and *status 65 or 66.
 */
int ftr_export(const char *trace_path, const char *out_path, FILE *stream,
               const struct ftr_export_opts *o, struct ftr_export_stats *st, int *status, char *err,
               size_t errlen);
/* Whether events of kind ev are exported, and (lost_fields, bit i = field i)
 * the fields their tracepoint has no place for. */
bool ftr_export_covers(enum trc_ev ev, uint32_t *lost_fields);

#endif
