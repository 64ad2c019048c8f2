/* SPDX-License-Identifier: MIT */
/*
 * Helpers for guest scenarios: run the snpref command line on a guest (as a
 * user would, in a child process), capture its exit status, stdout and stderr,
 * and load the trace it wrote, so a test can assert on the guest's own report
 * and on the architectural events.
 */
#ifndef SNPREF_SCN_H
#define SNPREF_SCN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <check.h>

#include "trace.h"

struct scn_event {
    struct trc_rec r;
    char *strs[TRC_MAX_FIELDS]; /* owned copies of the string fields */
};

struct scn_run {
    int status;             /* exit status of snpref */
    char *out, *err;        /* captured stdout / stderr (NUL-terminated) */
    char trace_path[256];
    struct scn_event *ev;   /* the trace, in file order */
    size_t nev;
};

/* Runs `snpref run GUEST.elf ARGS... --trace TMP`; guest is a name under the
 * guest directory, or NULL for the built-in demo. NULL-terminated args. */
void scn_run_guest(struct scn_run *r, const char *guest, ...);
/* Runs guest in one of guests.tsv's mode names: plain, sev-es, snp, or a Secure
 * AVIC fabric's name (savic, savic-xipi), which runs under SNP with that fabric. */
void scn_run_guest_in(struct scn_run *r, const char *guest, const char *mode);
/* Runs `snpref ARGS...` as given (no trace). */
void scn_run_tool(struct scn_run *r, ...);
void scn_free(struct scn_run *r);
/* Loads the trace at r->trace_path into r->ev (what scn_run_guest does). */
void scn_load_trace(struct scn_run *r);

/* Path of a built guest. */
const char *scn_guest_path(const char *name);

/* Field value by name (asserts the field exists). */
uint64_t scn_u(const struct scn_event *e, const char *field);
const char *scn_s(const struct scn_event *e, const char *field);
bool scn_is(const struct scn_event *e, const char *ev);

/* Number of events named ev (vcpu -2 = any) with an optional field=value match. */
size_t scn_count(const struct scn_run *r, const char *ev, int vcpu);
size_t scn_count_where(const struct scn_run *r, const char *ev, int vcpu, const char *field,
                       uint64_t value);
/* Index of the first event named ev on vcpu at or after `from` with field=value
 * (field NULL: any), or SIZE_MAX. */
size_t scn_find(const struct scn_run *r, size_t from, const char *ev, int vcpu, const char *field,
                uint64_t value);
/* Vectors of irq_deliver (kind "fixed"/"nmi") on vcpu, in order; returns count. */
size_t scn_delivered(const struct scn_run *r, int vcpu, const char *kind, uint8_t *out, size_t cap);

/* Runs suite s (forked, through ck_run) and then removes tmpdir, the scratch
 * directory the suite's main() made with mkdtemp: main's exit status. */
int scn_run_suite(Suite *s, const char *tmpdir);

/* The lines of a file without their newlines (malloc'd, as the array): *n of them. */
char **scn_read_lines(const char *path, size_t *n);

/* True if s contains needle. */
bool scn_has(const char *s, const char *needle);

#endif
