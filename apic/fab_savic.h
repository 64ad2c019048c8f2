/* SPDX-License-Identifier: MIT */
/*
 * The `savic` fabric (Secure AVIC, docs/sev-snp-facts.md section 7) and its
 * options: config section "savic" (docs/config.md). Every point the public
 * sources leave open (docs/sev-snp-facts.md 7.4 and 12, items 5 and 9) is a
 * knob here, with the default that file argues for, so an architect can change
 * one and see the effect in `snpref compare`.
 */
#ifndef SNPREF_FAB_SAVIC_H
#define SNPREF_FAB_SAVIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apic.h"
#include "fabric.h"

extern const struct fabric_ops savic_fabric;

/* SAVIC_CONTROL, MSR_SAVIC_CONTROL 0xC0010138 (snpref/sev.h; docs/sev-snp-facts.md 7.1). */
#define SAVIC_EN            (1ull << 0)
#define SAVIC_ALLOWED_NMI   (1ull << 1)
#define SAVIC_GPA_MASK      0xFFFFFFFFFFFFF000ull
#define SAVIC_RESERVED      0xFFCull /* bits 11:2 */

/* Backing-page fields Secure AVIC adds to the APIC page layout (docs/sev-snp-facts.md 7.2). */
#define SAVIC_ALLOWED_IRR   0x204 /* + 0x10 i: vectors 32i..32i+31, right after IRR word i */
#define SAVIC_NMI_REQUEST   0x278 /* bit 0 */

/* What VMRUN does with a REQUESTED_IRR vector that ALLOWED_IRR blocks. */
enum savic_blocked {
    SAVIC_BLOCKED_DROP = 0, /* hardware clears REQUESTED_IRR: the vector is lost */
    SAVIC_BLOCKED_HOLD,     /* it stays requested until the guest allows it */
};

struct savic_knobs {
    /* RDMSR served from the backing page without an exit; others #VC 0x402.
     * Default: every readable register but TMCCT ("accelerated similar to
     * AVIC", docs/sev-snp-facts.md 7.4; the current count needs the hypervisor's
     * timer). */
    struct fab_regset accel_read;
    /* WRMSR the hardware completes itself; others #VC 0x402 (ICR: #VC 0x401
     * unless the shorthand is self). Default: TPR, EOI (edge vectors),
     * SELF_IPI, ICR (docs/sev-snp-facts.md 7.4). */
    struct fab_regset accel_write;
    /* Registers whose #VC 0x402 is a fault (RIP stays on the instruction);
     * the others trap (RIP after it, a write already stored in the page).
     * Default: VERSION, PPR, ISR, TMR, IRR and TMCCT (the paravisor view,
     * docs/sev-snp-facts.md 7.4, source S12). */
    struct fab_regset noaccel_fault;
    unsigned blocked;             /* enum savic_blocked; default drop (docs/sev-snp-facts.md 7.3) */
    unsigned icr_high;            /* page offset of ICR[63:32]: 0x304 (Linux, default) or 0x310 */
};

void savic_knobs_default(struct savic_knobs *k);

/* The schema of struct savic_knobs: config section "savic" (docs/config.md). */
extern const struct fab_knob_schema savic_knob_schema;

/* ---- Variants (docs/fabric-plugins.md "A Secure AVIC variant") -------------------------
 *
 * A variant is a fabric of its own (its ops table, its name, its caps) whose
 * ops are savic's (SAVIC_OPS below) except create, which calls savic_create()
 * with its hooks. Each hook replaces one decision of the Secure AVIC hardware;
 * a NULL hook keeps savic's, which savic_default_hooks also offers, so a hook
 * can decide some cases and leave the rest to the default. A hook that
 * decides differently from savic should say so in the trace with the
 * fabric_hook event (savic_trace_hook), so that a trace shows where the
 * variant departs from the reference.
 */
struct savic;

struct savic_hooks {
    /* Whether the hardware completes vcpu's WRMSR of this ICR itself (listed:
     * ICR is in the accelerated_writes knob), or raises #VC 0x401. savic: a
     * listed ICR with the self shorthand, fixed or NMI. */
    bool (*icr_accelerated)(struct savic *s, int vcpu, const struct apic_icr *d, bool listed);
    /* Completes an accelerated ICR write icr_accelerated admitted that is
     * not a self IPI (savic never has one: its default asserts). */
    void (*icr_send)(struct savic *s, int vcpu, uint64_t icr, const struct apic_icr *d);
    /* What VMRUN does with a REQUESTED_IRR vector ALLOWED_IRR blocks. savic:
     * the blocked_vectors knob. */
    enum savic_blocked (*blocked)(struct savic *s, int vcpu, uint8_t vector);
    /* Whether a hypervisor NMI becomes V_NMI at VMRUN. savic:
     * SAVIC_CONTROL.ALLOWED_NMI (docs/sev-snp-facts.md 7.6). */
    bool (*nmi_allowed)(struct savic *s, int vcpu);
};

extern const struct savic_hooks savic_default_hooks;

/* Creates a Secure AVIC fabric that answers as ops (the variant's table:
 * fabric.h reaches the ops through it) and decides with hooks (NULL: savic's
 * own). Returns NULL with a message in err. */
struct fabric *savic_create(const struct fab_params *p, const struct fab_host *host,
                            const struct fabric_ops *ops, const struct savic_hooks *hooks,
                            char *err, size_t errlen);

/* What a hook may look at and do. */
bool savic_vcpu_on(struct savic *s, int vcpu);          /* SAVIC_CONTROL.EN and not busy */
const struct savic_knobs *savic_knobs_of(const struct savic *s);
const struct fab_host *savic_host(const struct savic *s);
/* The vCPUs an ICR of src names (SDM 10.12.9, 10.12.10.2), into out (room for
 * every vCPU); returns how many. */
unsigned savic_targets(struct savic *s, int src, const struct apic_icr *d, int *out);
/* Traces that the variant's hook departed from savic: event fabric_hook. */
void savic_trace_hook(struct savic *s, int vcpu, const char *hook, const char *decision,
                      uint64_t value);

/* savic's ops, for a variant's table: { SAVIC_OPS, .name = ..., .create = ... }. */
void savic_destroy(struct fabric *f);
enum fab_access savic_msr_read(struct fabric *f, int vcpu, uint32_t msr, uint64_t *val);
enum fab_access savic_msr_write(struct fabric *f, int vcpu, uint32_t msr, uint64_t val);
void savic_receive(struct fabric *f, int vcpu, const struct fab_msg *m);
void savic_route(struct fabric *f, uint32_t dest, bool logical, const struct fab_msg *m);
struct fab_event savic_pending(struct fabric *f, int vcpu, unsigned skip);
void savic_ack(struct fabric *f, int vcpu, struct fab_event ev);
void savic_timer_fire(struct fabric *f, int vcpu);
void savic_inject(struct fabric *f, int vcpu, const struct fab_msg *m);
void savic_reset(struct fabric *f, int vcpu, bool init_only);
const uint8_t *savic_regs(struct fabric *f, int vcpu);
enum fab_access savic_hw_msr(struct fabric *f, int vcpu, uint32_t msr, bool write, uint64_t *val,
                             struct fab_exit *x);
int savic_vmrun(struct fabric *f, int vcpu, const char **why);
int savic_backing_page(struct fabric *f, int vcpu, bool reg, uint64_t *gpa);
void savic_page_seen(struct fabric *f, int vcpu, uint32_t offset, uint32_t value);

#define SAVIC_CAPS                                                                                 \
    (FAB_CAP_GUEST_PAGE | FAB_CAP_SECURE_AVIC | FAB_CAP_ACCEL_READ | FAB_CAP_ACCEL_TPR_EOI |        \
     FAB_CAP_ACCEL_SELF_IPI)

#define SAVIC_OPS                                                                                  \
    .knobs = &savic_knob_schema, .destroy = savic_destroy, .msr_read = savic_msr_read,             \
    .msr_write = savic_msr_write, .receive = savic_receive, .route = savic_route,                  \
    .pending = savic_pending, .ack = savic_ack, .timer_fire = savic_timer_fire,                    \
    .inject = savic_inject, .reset = savic_reset, .regs = savic_regs, .hw_msr = savic_hw_msr,      \
    .vmrun = savic_vmrun, .backing_page = savic_backing_page, .page_seen = savic_page_seen

#endif
