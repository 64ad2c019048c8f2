/* SPDX-License-Identifier: MIT */
/*
 * The public API of the snpref model: build a system from a config and a guest
 * image, run it, read the outcome. An opaque handle, as cJSON has; unlike
 * cJSON there is no global error state: every call that can fail returns -1 and
 * writes one line to the caller's err buffer, plus the docs/design.md section 3
 * exit status that describes the failure.
 *
 * Ownership: snpref_create() copies what it needs from cfg, img and opt (the
 * caller may free them afterwards). snpref_destroy() frees everything the
 * system owns, including its trace; the result struct is plain data.
 */
#ifndef SNPREF_H
#define SNPREF_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct snp_config;
struct guest_image;
struct trc_rec;
struct snpref_system;

/* Exit statuses of docs/design.md section 3. */
enum snpref_status {
    SNPREF_ST_USAGE = 64,      /* bad command line */
    SNPREF_ST_DATAERR = 65,    /* malformed input: ELF, config, trace */
    SNPREF_ST_NOINPUT = 66,    /* input missing or unreadable */
    SNPREF_ST_INTERNAL = 70,   /* internal model error */
    SNPREF_ST_SHUTDOWN = 80,   /* guest shutdown: triple fault, termination request, hang */
    SNPREF_ST_LIMIT = 81,      /* instruction limit reached */
    SNPREF_ST_SIGNAL = 128,    /* + the signal that interrupted the run: 130 SIGINT, 143 SIGTERM */
};

struct snpref_options {
    const char *trace_path;    /* NULL: no trace file */
    /* Comma-separated event names the trace file records (the sink sees
     * every event), or NULL: all (run --trace-events). */
    const char *trace_events;
    /* SNP: a file that receives each page the launch measures, as the PSP
     * read it, 4096 bytes apiece in LAUNCH_UPDATE order (the trace's
     * launch_update events say each one's GPA and type), or NULL
     * (run --measured-pages). Removed again if the launch fails. */
    const char *measured_pages_path;
    FILE *console;             /* guest console; NULL: discard */
    /* Called with every trace event in final order (may be NULL). */
    void (*sink)(void *ctx, const struct trc_rec *r);
    void *sink_ctx;
    bool console_input;        /* COM1 receives the process's stdin (snpref run); else nothing */
    /* Polled between quanta (may be NULL): once it holds a signal number the
     * run ends at the next quantum boundary with SNPREF_INTERRUPTED. A signal
     * handler sets it; nothing else in the model looks at signals. */
    const volatile sig_atomic_t *interrupt;
    /* Called at every quantum boundary with the instructions retired so far
     * and the simulated time (may be NULL): the caller paces any display. */
    void (*progress)(void *ctx, uint64_t insns, uint64_t cycles);
    void *progress_ctx;
};

enum snpref_outcome {
    SNPREF_EXITED,             /* the guest wrote the exit port */
    SNPREF_SHUTDOWN,           /* a vCPU shut down (triple fault, ...) */
    SNPREF_LIMIT,              /* max_insns reached */
    SNPREF_HUNG,               /* every vCPU halted or waiting and nothing pending */
    SNPREF_INTERRUPTED,        /* opt->interrupt was set: ended at a quantum boundary */
};

struct snpref_vcpu_summary {
    uint64_t insns, exits, interrupts, exceptions, ipis_sent, halts;
    uint64_t cycles;           /* the vCPU's simulated time at the end */
};

struct snpref_result {
    enum snpref_outcome outcome;
    uint32_t guest_value;      /* SNPREF_EXITED: the value written */
    int vcpu;                  /* the vCPU concerned (-1 if none) */
    uint64_t rip;              /* SNPREF_SHUTDOWN: RIP at the time */
    char reason[192];          /* SHUTDOWN / HUNG / LIMIT: human-readable */
    uint64_t cycles;           /* simulated time at the end */
    uint64_t insns;            /* all vCPUs */
    unsigned nvcpus;
    const struct snpref_vcpu_summary *per_vcpu; /* nvcpus entries, owned by the system */
    char launch_digest[97];    /* SNP: hex SHA-384 of the launch; "" otherwise */
    int signal;                /* SNPREF_INTERRUPTED: the value *opt->interrupt held */
};

/*
 * Builds a system. Returns 0, or -1 with a message in err and the exit status
 * in *status: 65 a bad image, or config values in conflict ("FILE: field 'F':
 * why", config_validate) including an SNP policy the PSP refuses; 66 the trace
 * cannot be written; 64 guest RAM cannot be allocated; 70 internal.
 */
int snpref_create(struct snpref_system **out, const struct snp_config *cfg,
                  const struct guest_image *img, const struct snpref_options *opt, int *status,
                  char *err, size_t errlen);

/* Runs until the guest exits, shuts down, hangs or hits the limit. Returns 0,
 * or -1 (trace file could not be written: message in err). */
int snpref_run(struct snpref_system *s, struct snpref_result *r, char *err, size_t errlen);

void snpref_destroy(struct snpref_system *s);

/* Process exit status for a result (docs/design.md section 3, incl. --exit-style qemu);
 * an interrupted run has 128 + its signal, as a shell reports a killed one. */
int snpref_exit_status(const struct snpref_result *r, int qemu_style, char *warn, size_t warnlen);

#endif
