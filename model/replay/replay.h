/* SPDX-License-Identifier: MIT */
/*
 * Trace-driven simulation (`snpref replay`, docs/conformance.md): the recorded
 * stimuli of a trace are fed, at their recorded times, to the interrupt fabric
 * and devices the execution-driven model uses, without executing guest code;
 * the fabric's answers (the outcomes) are checked as they come against the
 * outcomes the trace recorded, and the first disagreement is reported with its
 * context. The trace is streamed: memory holds only what is in flight (messages
 * on the wire, outcomes waiting for their counterpart), never the trace.
 */
#ifndef SNPREF_REPLAY_H
#define SNPREF_REPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "compare.h"

struct replay_opts {
    const char *trace_path;
    const char *config_path; /* NULL: the trace header's config only */
    const char *out_path;    /* the replay's own trace; NULL: none */
    /* -1: from the header (a trace snpref wrote records every outcome: strict;
     * any other producer, e.g. an imported log: partial), 0 strict, 1 partial. */
    int partial;
    bool have_tol;           /* tol given; default exact (strict) or any (partial) */
    struct trc_tol tol;
    FILE *report;            /* divergence reports; NULL: stderr */
    const char *initial_path; /* --initial: the APIC state to start from; NULL: reset
                               * (a trace snpref wrote) or inferred (a partial trace) */
};

struct replay_stats {
    uint64_t events;      /* lines read after the header */
    uint64_t stimuli;     /* fed to the fabric or a device */
    uint64_t outcomes;    /* recorded outcomes the replay reproduced */
    uint64_t unrecorded;  /* outcomes the replay produced that the trace lacks (partial mode) */
    uint64_t passthrough; /* neither: copied to the replay's trace */
    bool partial;
    unsigned long diverged_at; /* line of the first disagreement, 0 if none */
    uint64_t assumptions; /* initial-state assumptions printed (an inferred start) */
};

/*
 * Replays o->trace_path. Returns 0 when every recorded outcome was reproduced,
 * 1 at the first disagreement (reported on o->report), or a docs/design.md section
 * 3 status with one line in err: 64 bad options, 65 malformed trace, config or
 * --initial file, or a trace with no event the replay compares (no stimulus,
 * no outcome),
 * 66 missing or unreadable input, 70 internal error. The --out trace is
 * renamed into place on agreement, and on divergence too: then it holds the
 * replay's events up to and including the first disagreement and ends with a
 * `diverged` event.
 */
int replay_run(const struct replay_opts *o, struct replay_stats *st, char *err, size_t errlen);

#endif
