/* SPDX-License-Identifier: MIT */
/*
 * Conformance of two traces (`snpref check`, docs/conformance.md): the event
 * streams of an expected and an actual trace are aligned per vCPU in file
 * order, architectural content must match exactly and time within a
 * tolerance. Also the pieces the replay engine shares with it: tolerances,
 * event equality and an owned copy of an event.
 *
 * Pure trace logic: this file depends on trace.h only (traces/ stays a leaf).
 * Both files are read with the streaming reader, at the pace of the earlier of
 * the two, so memory holds only the events one side is ahead by.
 */
#ifndef SNPREF_COMPARE_H
#define SNPREF_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace.h"

/* ---- Tolerances -------------------------------------------------------------- */

enum trc_tol_kind {
    TRC_TOL_EXACT,  /* times must be equal */
    TRC_TOL_CYCLES, /* |actual - expected| <= cycles */
    TRC_TOL_PPM,    /* |actual - expected| <= expected * ppm / 1e6 ("2.5%" = 25000 ppm) */
    TRC_TOL_ANY,    /* times are not compared */
};

struct trc_tol {
    enum trc_tol_kind kind;
    uint64_t cycles; /* TRC_TOL_CYCLES */
    uint64_t ppm;    /* TRC_TOL_PPM: parts per million of the expected time */
};

/* Parses "0" (exact), "N" cycles, "P%" (up to 6 decimals) or "any". Returns 0 or -1. */
int trc_tol_parse(const char *s, struct trc_tol *t);
/* How far a time may be from `expected` (UINT64_MAX for TRC_TOL_ANY). */
uint64_t trc_tol_allow(const struct trc_tol *t, uint64_t expected);
/* Whether actual is within the tolerance of expected. */
bool trc_tol_ok(const struct trc_tol *t, uint64_t expected, uint64_t actual);
/* "exact", "500 cycles", "2.5%", "any" into buf. */
const char *trc_tol_str(const struct trc_tol *t, char *buf, size_t len);

/* ---- Events -------------------------------------------------------------------- */

/* An event with its strings owned, and where it came from. */
struct trc_ev_copy {
    struct trc_rec r;
    char *strs[TRC_MAX_FIELDS];
    unsigned long line; /* file line, 0 for an event the replay produced */
};

void trc_ev_copy_set(struct trc_ev_copy *dst, const struct trc_rec *src, unsigned long line);
void trc_ev_copy_free(struct trc_ev_copy *e);

/*
 * Which fields take part in equality: ignore[ev] has bit i set when field i of
 * event ev is ignored (bit 31: the whole event is not compared).
 */
#define TRC_IGNORE_EVENT (1u << 31)
typedef uint32_t trc_ignore_t[TRC_EV_COUNT];

/* Same event and every field not ignored equal (vcpu too; seq and t are not compared). */
bool trc_rec_same(const struct trc_rec *a, const struct trc_rec *b, const uint32_t *ignore);
/* Index of the first differing field, -1 for a different event or vCPU, -2 if the same. */
int trc_rec_diff(const struct trc_rec *a, const struct trc_rec *b, const uint32_t *ignore);

/*
 * Sets the ignore table from a comma-separated list of EVENT or EVENT.FIELD
 * (adds to what is there). Returns 0, or -1 with the unknown name in err.
 */
int trc_ignore_parse(uint32_t *ignore, const char *list, char *err, size_t errlen);
/* The default comparison: every event except tsc (a clock reading: timing,
 * compared through t) and limit (the model's own run control). */
void trc_ignore_defaults(uint32_t *ignore);

/* ---- check ----------------------------------------------------------------------- */

#define TRC_CMP_CONTEXT 3  /* events of context on each side of a divergence */
#define TRC_CMP_STREAMS (256 + 1) /* vCPU -1 (system events) and 0..255 */
/* One side may run this many events ahead on one vCPU before the check gives up
 * waiting for the other (bounds memory; reported as missing events). */
#define TRC_CMP_MAX_AHEAD 100000

enum trc_div_kind {
    TRC_DIV_NONE = 0,
    TRC_DIV_MISMATCH, /* both sides have an event here and they differ */
    TRC_DIV_MISSING,  /* the expected trace has an event the actual one lacks */
    TRC_DIV_EXTRA,    /* the actual trace has an event the expected one lacks */
    TRC_DIV_REORDERED,/* two adjacent events in the other order */
    TRC_DIV_TIMING,   /* same event, time outside the tolerance */
};

/* A formatted event and its line, for reports. */
struct trc_cmp_line {
    unsigned long line;
    char *text;         /* canonical line (malloc'd) */
};

struct trc_cmp_div {
    enum trc_div_kind kind;
    int vcpu;
    uint64_t index;                 /* the event's position in this vCPU's stream (from 0) */
    int ev;                         /* the event (the expected one when there is one) */
    int field;                      /* MISMATCH: first differing field, -1 event or vCPU */
    struct trc_cmp_line expected, actual; /* line 0 / text NULL: none */
    uint64_t t_expected, t_actual;
    /* Context: up to TRC_CMP_CONTEXT events of this vCPU before and after, per side. */
    struct trc_cmp_line before[2][TRC_CMP_CONTEXT], after[2][TRC_CMP_CONTEXT];
    unsigned nbefore[2], nafter[2];
};

struct trc_cmp_vcpu {
    int vcpu;
    uint64_t expected, actual, matched; /* events in each file; pairs that agree */
    struct trc_cmp_div div;             /* first architectural divergence (kind NONE: agree) */
    uint32_t by_kind[2][TRC_EV_COUNT];  /* compared events of each kind in each file */
};

struct trc_cmp_kind {
    uint64_t expected, actual, matched, mismatched, timing;
};

struct trc_cmp_result {
    bool agree;
    unsigned nvcpus;                    /* entries of vcpus[] in use (vCPU -1 first if present) */
    struct trc_cmp_vcpu vcpus[TRC_CMP_STREAMS];
    struct trc_cmp_div first;           /* the earliest architectural divergence (by expected line) */
    struct trc_cmp_div timing;          /* the first timing divergence */
    uint64_t max_dt;                    /* largest |t_actual - t_expected| over matched pairs */
    struct trc_cmp_kind kinds[TRC_EV_COUNT];
    struct trc_header hdr[2];           /* both headers (strings owned by the result) */
};

struct trc_cmp_opts {
    struct trc_tol tol;
    const uint32_t *ignore;             /* trc_ignore_t */
};

/*
 * Compares EXPECTED and ACTUAL. Returns 0 (result filled, agree or not), or -1
 * for unreadable or malformed input with "FILE:LINE: field 'F': problem" in
 * err and *status 65 (malformed) or 66 (missing). Free the result with
 * trc_cmp_free.
 */
int trc_cmp_files(const char *expected, const char *actual, const struct trc_cmp_opts *o,
                  struct trc_cmp_result *res, int *status, char *err, size_t errlen);
void trc_cmp_free(struct trc_cmp_result *res);

const char *trc_div_name(enum trc_div_kind k);

#endif
