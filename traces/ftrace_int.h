/* SPDX-License-Identifier: MIT */
/*
 * Internal state of the KVM log importer (ftrace.h), shared by ftrace.c (lines,
 * time, vCPU attribution, events held for what follows them, the two passes)
 * and ftrace_tp.c (the tracepoints' text and how each maps onto events).
 */
#ifndef SNPREF_FTRACE_INT_H
#define SNPREF_FTRACE_INT_H

#include "ftrace.h"

#define FTR_VCPUS 256
#define FTR_PIDS 1024
#define FTR_HELD 16

struct ftr_line {
    long pid;          /* the thread key: the pid; without one, -2 - the host CPU;
                        * without either, -1 (the whole log is one thread) */
    bool positional;   /* no pid: attribution by position, not by thread */
    const char *comm;  /* thread name (not terminated: comm_len) */
    size_t comm_len;
    uint64_t ts;       /* nanoseconds (fraction) or ticks (integer) */
    bool frac;
    bool perf;         /* "kvm:" before the tracepoint name (perf script) */
    char event[64];
    const char *text;  /* TP_printk output */
};

struct ftr_vcpu {
    uint64_t rip;             /* last rip seen (kvm_entry / kvm_exit) */
    uint64_t tmr[4];          /* trigger of the last accepted message per vector */
    uint64_t icr2;            /* xAPIC ICR2 written (kvm_apic) */
    bool inj;                 /* an injection waits for the entry that delivers it */
    struct trc_rec inj_rec;
    bool apic;                /* a kvm_apic access waits for its kvm_msr line */
    struct trc_rec apic_rec;
    bool icr_sent;            /* an ICR write since the last entry: acceptances are its */
    uint64_t icr;             /* that write's value */
    bool ghcb;                /* a GHCB MSR protocol request waits for its answer */
    uint64_t ghcb_req, ghcb_t;
    unsigned long ghcb_line;
};

/* An IPI and the acceptances the sending thread printed right after it (KVM
 * delivers an IPI synchronously: kvm_apic_ipi, then one kvm_apic_accept_irq
 * per target), held until the thread prints something else. */
struct ftr_held {
    bool on;
    long pid;
    int sender;
    struct trc_rec ipi;
    struct trc_rec *acc;
    unsigned nacc, cap;
};

struct ftr_imp {
    const char *path;
    unsigned long line;
    bool emit;                /* second pass: write events */
    struct ftr_stats *st;
    struct ftr_scan scan;
    struct trc *w;
    uint64_t hz;
    const struct ftr_opts *o;
    int ts_kind;              /* 0 none yet, 1 seconds.fraction, 2 integer ticks */
    int format;               /* enum ftr_format: forced, or detected from the first line */
    bool raw_header;          /* a "# tracer:" line: the ftrace trace file */
    uint64_t first_ts, last_ts;
    uint64_t t;               /* simulated time of the current line */
    struct {
        long pid;
        int vcpu;
    } pids[FTR_PIDS];
    unsigned npids;
    struct ftr_vcpu v[FTR_VCPUS];
    struct ftr_held held[FTR_HELD];
    char reason[96];
    char *err;
    size_t errlen;
};

/* A position in a tracepoint's text. */
struct ftr_cur {
    const char *p;
};

static inline void ftr_sp(struct ftr_cur *c)
{
    while (*c->p == ' ' || *c->p == '\t')
        c->p++;
}

/* ftrace.c */
int ftr_bad(struct ftr_imp *im, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ftr_note(struct ftr_lines *l, unsigned long line);
/* Checks a vCPU number and counts it for the header. */
int ftr_check_vcpu(struct ftr_imp *im, uint64_t v, const char *field);
/* The thread with pid runs vcpu. */
void ftr_learn(struct ftr_imp *im, long pid, int vcpu);
/* The vCPU of the thread that printed l, or -1. */
int ftr_thread_vcpu(struct ftr_imp *im, const struct ftr_line *l);
void ftr_put(struct ftr_imp *im, struct trc_rec *r);
struct trc_rec ftr_rec(struct ftr_imp *im, enum trc_ev ev, int vcpu);
void ftr_flush_ipi(struct ftr_imp *im, struct ftr_held *h);
struct ftr_held *ftr_held_of(struct ftr_imp *im, long pid);
void ftr_flush_inj(struct ftr_imp *im, int vcpu, uint64_t t, uint64_t rip);
void ftr_hold_inj(struct ftr_imp *im, int vcpu, const struct trc_rec *r);
/* A kvm_apic access no kvm_msr line carried: written on its own. */
void ftr_flush_apic(struct ftr_imp *im, int vcpu);

/* ftrace_tp.c: maps the tracepoint line l; 1 done, 0 not a tracepoint this
 * importer knows, -1 malformed (the error set). */
int ftr_tracepoint(struct ftr_imp *im, const struct ftr_line *l);
int ftr_need_thread(struct ftr_imp *im, const struct ftr_line *l, int *vcpu);

#endif
