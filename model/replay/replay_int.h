/* SPDX-License-Identifier: MIT */
/*
 * Internal state of a replay (replay.h): the fabric and device under test, the
 * vCPUs' run states as the trace reveals them, the messages and timer expiries
 * in flight, and per vCPU two queues of outcomes waiting for their counterpart
 * (recorded ones the replay has not produced yet, produced ones the trace has
 * not shown yet). Shared by replay.c (set-up and the loop), replay_host.c
 * (what is in flight, the fabric's host), replay_stim.c (each event kind's
 * handler), replay_match.c (matching, overdue outcomes, the divergence report)
 * and replay_init.c (the initial state).
 */
#ifndef SNPREF_REPLAY_INT_H
#define SNPREF_REPLAY_INT_H

#include "compare.h"
#include "config.h"
#include "fabric.h"
#include "irqdev.h"
#include "mem.h"
#include "replay.h"
#include "snpref/abi.h"
#include "trace.h"

/* What the trace has said about a vCPU (hlt, wake, init, sipi events; under
 * SEV-ES/SNP also ap_create and vmrun_fail). RP_OFF: an SEV vCPU with no VMSA
 * to run (destroyed, or its VMRUN failed). */
enum rp_state { RP_RUN, RP_HALT, RP_WAIT_SIPI, RP_OFF };

/* A message on the wire to one vCPU's APIC, or that vCPU's LAPIC timer expiry. */
struct rp_pend {
    uint64_t at;      /* arrival / expiry */
    uint64_t seq;     /* scheduling order: the tie-break, as in the timing kernel */
    bool timer;
    struct fab_msg m;
};

#define RP_KICKS 8 /* kick times remembered while halted (wake timing check) */

struct rp_vcpu {
    enum rp_state st;
    uint64_t since;          /* time of the last state change */
    struct rp_pend *pend;    /* sorted by (at, seq) */
    size_t npend, cap;
    uint64_t kicks[RP_KICKS];
    unsigned nkicks;
    bool kicks_lost;         /* more kicks than remembered: the wake time is not checked */
    bool create_on_init;     /* SNP: AP_CREATION CREATE_ON_INIT pending for this vCPU */
    uint64_t savic_ctl;      /* Secure AVIC: SAVIC_CONTROL as the trace set it */
    uint64_t vmrun_t;        /* Secure AVIC: time of the last VMRUN the replay ran, +1 (0 none) */
};

/* An outcome waiting for its counterpart. */
struct rp_out {
    struct trc_ev_copy e;    /* e.line: file line of a recorded one, 0 for a produced one */
    uint64_t id;
};

/* A queue: the n live entries start at v, inside the cap entries at base. */
struct rp_queue {
    struct rp_out *v;
    size_t n, cap;
    struct rp_out *base;
};

struct rp_stream {
    struct rp_queue rec;     /* recorded, not yet produced */
    struct rp_queue made;    /* produced, not yet seen in the trace */
};

#define RP_RING 32          /* recent trace line numbers, for the context of a report */
/* Outcomes one side may hold before the replay stops waiting for the other. */
#define RP_MAX_WAIT 10000

struct rp_line {
    unsigned long line;
};

struct replay {
    const struct replay_opts *o;
    struct replay_stats *st;
    FILE *rep;
    const char *path;
    struct snp_config cfg;
    struct trc_reader *rd;
    struct trc *cap;             /* the fabric's trace: its events are taken as they come */
    struct trc *out;             /* the replay's own trace (a file, or nothing) */
    struct fabric *fab;
    struct fab_host host;
    struct mem mem;              /* guest RAM for a fabric whose state lives there (Secure AVIC) */
    struct irqdev dev;
    struct irqdev_host devhost;
    uint32_t apic_ids[SNP_MAX_VCPUS];
    unsigned n;
    struct rp_vcpu *v;           /* n entries */
    struct rp_stream *s;         /* n + 1 entries, index vcpu + 1 (system events first) */
    uint64_t now;                /* time of what is being replayed */
    uint64_t last_t;             /* time of the last trace event read */
    uint64_t seq, ids;
    uint64_t slack;              /* how far past its arrival a running vCPU may take a message */
    bool partial, done, diverged;
    bool priming;                /* setting the initial state: the fabric's events are dropped */
    char why[160];               /* the first disagreement */
    bool sev;                    /* SEV-ES/SNP: INIT does not reset, SIPI may not start */
    struct trc_tol tol;
    struct rp_line ring[RP_RING];
    unsigned ring_n, ring_pos;
    int status;                  /* a malformed trace: 65, with the message in err */
    char err[320];
};

/* replay.c: a malformed trace event (65), the first one reported. */
void rp_malformed(struct replay *r, unsigned long line, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* replay_host.c */
/* Builds the fabric and the test device with the replay as their host. */
int rp_make_fabric(struct replay *r, char *err, size_t errlen);
/* Removes vCPU v's i-th message or expiry in flight. */
struct rp_pend rp_pend_pop(struct rp_vcpu *v, size_t i);
/* Takes a message or expiry at time `at` (the fabric may send, arm and kick). */
void rp_apply(struct replay *r, int vcpu, const struct rp_pend *p, uint64_t at);
/* Takes what is due before the trace moves to time t. */
void rp_due(struct replay *r, uint64_t t);
void rp_set_state(struct replay *r, int vcpu, enum rp_state st);
/* The fabric's kick and reenter callbacks (ctx: the replay). */
void rp_host_kick(void *ctx, int vcpu);
void rp_host_reenter(void *ctx, int vcpu);
/* Whether the fabric offers vcpu the event of this kind and vector (in a
 * partial trace, taking its messages in flight early until it does). */
bool rp_offers_now(struct replay *r, int vcpu, const char *kind, uint8_t vector,
                   struct fab_event *ev);
/* The divergence of a vCPU taking what the fabric does not offer. */
void rp_no_offer(struct replay *r, const struct trc_rec *rec, unsigned long line,
                 const struct fab_event *ev);
const char *rp_ev_kind_name(enum fab_ev_kind k);

/* replay_stim.c */
typedef void (*rp_fn)(struct replay *r, const struct trc_rec *rec, unsigned long line);
/* The handler of an event kind (pass-through for kinds that are neither
 * stimulus nor outcome). */
rp_fn rp_handler(enum trc_ev ev);
/* Whether only a vCPU that executes emits ev. */
bool rp_executes(enum trc_ev ev);

/* replay_match.c */
/* Writes an event to the replay's trace, after the fabric's pending ones. */
void rp_emit(struct replay *r, const struct trc_rec *rec);
/* An outcome the replay produced: written, and matched with a recorded one. */
void rp_made(struct replay *r, const struct trc_rec *rec);
/* The sink of the fabric's trace (outcomes the fabric produced). */
void rp_fabric_event(void *ctx, const struct trc_rec *rec);
/* Moves the fabric's pending events to the replay's trace. */
void rp_flush(struct replay *r);
/* A recorded outcome: matched with a produced one, or kept waiting. Returns
 * its id while it waits, 0 if it was matched at once. */
uint64_t rp_recorded(struct replay *r, const struct trc_rec *rec, unsigned long line);
/* Whether the recorded outcome with this id still waits. */
bool rp_waiting(const struct replay *r, int vcpu, uint64_t id);
/* Reports outcomes whose counterpart can no longer come, now that the trace
 * has reached time t (eof: the trace ended). */
void rp_overdue(struct replay *r, uint64_t t, bool eof);
/* Reports the first disagreement (once) and stops the replay. expected: the
 * recorded event (NULL: none); actual: what the replay has instead (NULL: none). */
void rp_diverge(struct replay *r, const char *why, const struct trc_ev_copy *expected,
                const char *actual);
/* The canonical line of an event (malloc'd). */
char *rp_format(const struct trc_rec *rec);
void rp_ring_add(struct replay *r, unsigned long line, const struct trc_rec *rec);
void rp_match_free(struct replay *r);

/* replay_init.c: the state the replay starts from (--initial, or inferred
 * for a partial trace, each assumption printed); 0 or a status with err. */
int rp_initial(struct replay *r, char *err, size_t errlen);
/* The model's state of vcpu's APIC, for a divergence report. */
void rp_state(struct replay *r, int vcpu);

#endif
