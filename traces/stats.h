/* SPDX-License-Identifier: MIT */
/*
 * Statistical conformance (`snpref check --stats`, docs/conformance.md): a
 * silicon log of a whole workload and a model run of the same guest do not
 * agree event by event (host timing, interrupt coalescing, another kernel's
 * idle loop), but their per-vCPU histograms should: VM exits by reason,
 * VMGEXIT exit codes, GHCB MSR protocol requests, #VC codes, interrupts taken
 * by vector, IPIs sent by mode and vector, page-state changes by operation and
 * size, the counts `perf kvm stat` reports. Each bin may differ by a per-kind
 * tolerance: a relative part of the expected count plus an absolute slack.
 *
 * Pure trace logic (trace.h); both files are read once, memory holds only the
 * bins.
 */
#ifndef SNPREF_STATS_H
#define SNPREF_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace.h"

enum trc_stat_kind {
    TRC_STAT_EXIT,     /* vmexit, by exit_code */
    TRC_STAT_VMGEXIT,  /* vmgexit, by SW_EXITCODE */
    TRC_STAT_GHCB_MSR, /* ghcb_msr, by the request's GHCBInfo (bits 11:0) */
    TRC_STAT_VC,       /* exception 29 (#VC), by its error code (the exit code) */
    TRC_STAT_IRQ,      /* irq_deliver, by vector */
    TRC_STAT_IPI,      /* ipi, by delivery mode and vector */
    TRC_STAT_PSC,      /* psc, by operation and page size */
    TRC_STAT_KINDS
};

/* Name of a kind ("exit", "vmgexit", "ghcb_msr", "vc", "irq", "ipi", "psc"); -1 if none. */
const char *trc_stat_kind_name(enum trc_stat_kind k);
int trc_stat_kind_parse(const char *name);

/* A bin agrees when |actual - expected| <= abs + ceil(expected * ppm / 1e6). */
struct trc_stat_tol {
    uint64_t ppm; /* parts per million of the expected count */
    uint64_t abs; /* counts */
    bool any;     /* the kind is not compared */
};

/* The documented defaults (docs/conformance.md "Statistics"). */
void trc_stat_tol_defaults(struct trc_stat_tol tol[TRC_STAT_KINDS]);
/*
 * Overrides from a comma-separated list of KIND=SPEC, SPEC one of "P%", "N",
 * "P%+N" or "any" (KIND "all" sets every kind). Returns 0, or -1 with the
 * problem in err.
 */
int trc_stat_tol_parse(struct trc_stat_tol tol[TRC_STAT_KINDS], const char *list, char *err,
                       size_t errlen);
/* "10%+2", "0", "any" into buf. */
const char *trc_stat_tol_str(const struct trc_stat_tol *t, char *buf, size_t len);
/* How far a count may be from expected. */
uint64_t trc_stat_allowed(const struct trc_stat_tol *t, uint64_t expected);

struct trc_stat_bin {
    uint64_t key;       /* exit code, vector, mode << 8 | vector, op << 1 | size */
    uint64_t n[2];      /* expected, actual */
    uint64_t allowed;   /* the tolerance for this bin */
    bool differs;
};

struct trc_stat_hist {
    struct trc_stat_bin *bins; /* sorted by key */
    unsigned nbins, cap;
    uint64_t total[2];
    bool differs;              /* some bin differs beyond the tolerance */
};

#define TRC_STAT_VCPUS 256

struct trc_stat_vcpu {
    int vcpu;
    struct trc_stat_hist h[TRC_STAT_KINDS];
};

struct trc_stat_result {
    bool agree;
    unsigned nvcpus;                  /* vCPUs with a bin of any kind, ascending */
    struct trc_stat_vcpu *vcpus;      /* nvcpus entries */
    bool kind_differs[TRC_STAT_KINDS];
    struct trc_stat_tol tol[TRC_STAT_KINDS];
    uint64_t counted[2];              /* events that went into the histograms */
};

/*
 * Builds both histograms and compares them. Returns 0 (agree or not), or -1
 * with "FILE:LINE: ..." in err and *status 65 (malformed, or no event of any
 * compared kind in EXPECTED: nothing to compare) or 66 (missing). Free with
 * trc_stat_free.
 */
int trc_stat_files(const char *expected, const char *actual, const struct trc_stat_tol *tol,
                   struct trc_stat_result *res, int *status, char *err, size_t errlen);
void trc_stat_free(struct trc_stat_result *res);

/* A bin's key as people read it: "msr (0x7c)", "vector 236", "fixed vector 251",
 * "private 4K". */
const char *trc_stat_key_str(enum trc_stat_kind k, uint64_t key, char *buf, size_t len);

#endif
