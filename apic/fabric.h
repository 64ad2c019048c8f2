/* SPDX-License-Identifier: MIT */
/*
 * The interrupt fabric (docs/design.md section 6, docs/fabric-plugins.md).
 *
 * A fabric owns every vCPU's local APIC state and answers five questions for the
 * model: what a guest x2APIC MSR access (or, optionally, xAPIC MMIO access) does, what a message arriving at an
 * APIC does, which event a vCPU would take next, what taking it changes
 * (IRR -> ISR), and what a hypervisor injection request does. A plug-in is one
 * `static const struct fabric_ops` registered in fabric_list.c; the model picks
 * it by name (config "apic", flag --apic).
 *
 * Time and wires belong to the model: a fabric never schedules anything itself.
 * It asks the host (struct fab_host) to carry a message to another APIC (the
 * host adds the wire latency and calls ->receive at arrival), to arm the LAPIC
 * timer of a vCPU (the host calls ->timer_fire at expiry) and to re-evaluate a
 * vCPU whose interrupt state changed (->kick).
 */
#ifndef SNPREF_FABRIC_H
#define SNPREF_FABRIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snpref/sev.h"

struct trc;
struct mem;
struct fabric;

/* ICR delivery modes, ICR[10:8] (docs/sev-snp-facts.md section 11). */
enum apic_dm {
    APIC_DM_FIXED = 0,
    APIC_DM_LOWEST = 1,
    APIC_DM_SMI = 2,
    APIC_DM_NMI = 4,
    APIC_DM_INIT = 5,
    APIC_DM_SIPI = 6,
    APIC_DM_EXTINT = 7,
};

/* ICR destination shorthand, ICR[19:18]. */
enum apic_sh { APIC_SH_NONE = 0, APIC_SH_SELF = 1, APIC_SH_ALL = 2, APIC_SH_OTHERS = 3 };

/* Who put a message on the wire. */
enum fab_src_kind {
    FAB_SRC_IPI, FAB_SRC_DEVICE, FAB_SRC_TIMER, FAB_SRC_LVT, FAB_SRC_HV, FAB_SRC_PSP,
    /* No payload: the hypervisor notifies a vCPU that its guest-owned APIC
     * state changed (the Secure AVIC / AVIC doorbell); it travels like an IPI. */
    FAB_SRC_DOORBELL,
    /* An IPI the sending vCPU's hardware carries straight into the target's
     * guest-owned APIC state, without the hypervisor (a variant's
     * accelerated cross-vCPU IPI); it travels like an IPI. */
    FAB_SRC_HW_IPI,
};

/*
 * One interrupt message for one destination APIC, as it travels on the wire.
 * Destination decoding happens at the sender (the fabric resolves the set of
 * APICs a physical, logical, broadcast or shorthand destination reaches, and
 * asks the host to carry one message to each).
 */
struct fab_msg {
    enum fab_src_kind src_kind;
    int src_vcpu;          /* sending vCPU, or -1 */
    uint8_t vector;
    enum apic_dm mode;
    bool level;            /* trigger mode: level (true) or edge */
};

/* An interrupt-like event a vCPU can take. */
enum fab_ev_kind {
    FAB_EV_NONE = 0,
    FAB_EV_FIXED,          /* a vector from IRR (fixed, lowest priority, timer, LVT) */
    FAB_EV_EXTINT,         /* ExtINT: vector supplied as by an external controller */
    FAB_EV_NMI,
    FAB_EV_SMI,
    FAB_EV_INIT,
    FAB_EV_SIPI,
};

struct fab_event {
    enum fab_ev_kind kind;
    uint8_t vector;        /* FIXED/EXTINT: the vector; SIPI: the start page */
};

/* Event kinds pending() may be told to look past. */
#define FAB_SKIP_NMI (1u << 0)

/* What an x2APIC MSR access does. */
enum fab_access {
    FAB_OK = 0,            /* done (value produced or side effects applied) */
    FAB_GP,                /* the architecture rejects it: #GP in the guest */
    FAB_EXIT,              /* not handled in hardware: needs the hypervisor (#VC under SEV-ES) */
};

/*
 * What the CPU does with an APIC MSR access it handles itself (ops->hw_msr)
 * when it does not complete it: the #VC to raise under SEV-ES/SNP, with the
 * exit information the hypervisor-visible exit would carry (traces only: a
 * #VC delivers just the code). code is an SVM exit code (snpref/sev.h):
 * SVM_EXIT_MSR means "intercepted as usual"; SVM_EXIT_AVIC_INCOMPLETE_IPI
 * and SVM_EXIT_AVIC_UNACCELERATED_ACCESS are Secure AVIC's (docs/sev-snp-facts.md 7.4).
 */
struct fab_exit {
    uint64_t code;
    uint64_t info1, info2;
    bool trap;             /* the instruction completed first (RIP after it) */
};

/* Services the model gives a fabric. All times are in cycles of simulated time. */
struct fab_host {
    void *ctx;
    /* Current simulated time of vCPU i (its position inside its quantum). */
    uint64_t (*now)(void *ctx, int vcpu);
    /* Carry m to the APIC of vCPU dst; the host adds the wire latency and calls
     * ops->receive(f, dst, m) at arrival. */
    void (*send)(void *ctx, int dst, const struct fab_msg *m);
    /* (Re)arm vCPU i's LAPIC timer to fire at absolute time `at`; UINT64_MAX
     * disarms. The host calls ops->timer_fire(f, i) then. */
    void (*timer_arm)(void *ctx, int vcpu, uint64_t at);
    /* vCPU i's pending events may have changed: re-evaluate (wake from HLT,
     * deliver at the next instruction boundary). */
    void (*kick)(void *ctx, int vcpu);
    /* vCPU i retired a level-triggered vector by EOI: the "EOI broadcast" that
     * lets a level-triggered source assert again. */
    void (*eoi_broadcast)(void *ctx, int vcpu, uint8_t vector);
    /* Where events go; may be NULL (tracing off). */
    struct trc *trace;
    /* vCPU i must go through VMRUN again (a fabric whose hypervisor hands
     * interrupts over at VMRUN, as Secure AVIC's REQUESTED_IRR): a vCPU in
     * guest mode is forced out (KVM kicks its physical CPU), a halted one is
     * resumed. Fabrics that do not need it may ignore it. */
    void (*reenter)(void *ctx, int vcpu);
};

struct fab_params {
    unsigned nvcpus;
    const uint32_t *apic_ids;  /* nvcpus entries, APIC ID of vCPU i */
    uint64_t timer_cycles_per_tick; /* LAPIC timer input clock period, in core cycles */
    uint64_t tsc_cycles_num, tsc_cycles_den; /* TSC = cycles * num / den (deadline mode) */
    struct mem *mem;           /* guest RAM (fabrics whose state lives there) */
    const char *config_json;   /* the fabric's own config section, or NULL */
    uint32_t asid;             /* the guest's ASID under SEV (0 in plain mode) */
    const void *knobs;         /* the fabric's own options the model parsed (config
                                  section named after it), or NULL: defaults */
    /* Power-on state in xAPIC mode (EN) instead of x2APIC mode (EN | EXTD);
     * only for a fabric with ops->mmio (config apic_mode). */
    bool power_on_xapic;
    /* No xAPIC mode at all: a fabric that wraps `emulated` but has no MMIO page
     * of its own (Secure AVIC) sets it, so disabled -> xAPIC is a #GP there. */
    bool x2apic_only;
    /* No x2APIC mode: CPUID.1:ECX[21] clear (cpu_features -x2apic), so setting
     * IA32_APIC_BASE.EXTD raises #GP (SDM 10.12.1) and the APIC powers on in
     * xAPIC mode. Excludes x2apic_only. */
    bool xapic_only;
    unsigned maxphyaddr;       /* physical address bits (CPUID 0x80000008 EAX[7:0]); 0: 52 */
};

/*
 * What a fabric is, declared in its ops table so that the model asks these
 * flags and never a fabric's name (docs/fabric-plugins.md "Capabilities").
 * The FAB_CAP_ACCEL_* flags say which guest APIC accesses the fabric's
 * hardware completes without an exit with its default knobs; they describe
 * (`snpref fabrics`, compare reports), the ops decide.
 */
#define FAB_CAP_GUEST_PAGE     (1u << 0) /* the APIC state is a guest-owned page in guest RAM */
#define FAB_CAP_SECURE_AVIC    (1u << 1) /* needs SEV_FEATURES bit 16 (SecureAVIC): mode snp only;
                                            the model sets the bit in every VMSA, the boot info
                                            says SNP_FABRIC_SAVIC */
#define FAB_CAP_ACCEL_READ     (1u << 2) /* register reads */
#define FAB_CAP_ACCEL_TPR_EOI  (1u << 3) /* TPR writes, edge EOIs */
#define FAB_CAP_ACCEL_SELF_IPI (1u << 4) /* SELF_IPI and self-shorthand ICR writes */
#define FAB_CAP_ACCEL_XIPI     (1u << 5) /* fixed IPIs to other vCPUs (ICR writes) */

/* One FAB_CAP_* flag and its name, for `snpref fabrics` and the docs. */
struct fab_cap_name {
    unsigned cap;
    const char *name;
};
extern const struct fab_cap_name fab_cap_names[]; /* terminated by {0, NULL} */

/* A set of x2APIC MSRs: bit n stands for MSR 0x800 + n (a knob type). */
struct fab_regset {
    uint32_t w[8];
};

static inline bool fab_regset_has(const struct fab_regset *r, uint32_t msr)
{
    uint32_t n = msr - 0x800u;
    return n < 256 && (r->w[n >> 5] >> (n & 31)) & 1u;
}

static inline void fab_regset_put(struct fab_regset *r, uint32_t msr)
{
    uint32_t n = msr - 0x800u;
    if (n < 256)
        r->w[n >> 5] |= 1u << (n & 31);
}

/* Adds the register called name (the x2APIC names of the MSR table in apic.c:
 * "TPR", "ISR3"; "ISR", "TMR" and "IRR" stand for all eight) to r. Returns 0,
 * or -1 when no x2APIC register has that name. */
int fab_regset_add_name(struct fab_regset *r, const char *name);
/* The names of the registers in r, comma-separated, into buf (truncated to len). */
void fab_regset_names(const struct fab_regset *r, char *buf, size_t len);

/*
 * A fabric's knobs, declared as data: the config loader reads the section
 * named `section` through this schema (errors name file, line and field), the
 * trace header and `compare` print it back, and fab_params.knobs points at
 * the parsed struct (`size` bytes, `defaults` first). Fabrics may share a
 * schema (a variant reuses its base's knobs) and then share the section.
 */
enum fab_knob_type {
    FAB_KNOB_REGSET,           /* struct fab_regset: a JSON array of register names */
    FAB_KNOB_CHOICE,           /* unsigned: index into choices, a JSON string */
    FAB_KNOB_UINT,             /* unsigned: one of allowed[] (nallowed > 0) or lo..hi, written as hex */
};

struct fab_knob {
    const char *name;          /* key inside the section */
    enum fab_knob_type type;
    size_t off;                /* offset in the knob struct */
    const char *const *choices; /* CHOICE: NULL-terminated */
    unsigned lo, hi;           /* UINT without allowed[] */
    const unsigned *allowed;   /* UINT: the only values accepted */
    size_t nallowed;
    const char *doc;           /* one line for the docs */
};

struct fab_knob_schema {
    const char *section;       /* the config section ("savic") */
    size_t size;               /* of the knob struct */
    void (*defaults)(void *knobs);
    const struct fab_knob *knobs;
    size_t nknobs;
};

struct fabric_ops {
    const char *name;          /* "emulated", "savic", ... */
    const char *doc;           /* one line for --help and the docs */
    unsigned caps;             /* FAB_CAP_* */
    const struct fab_knob_schema *knobs; /* NULL: the fabric has no knobs */

    /* Creates the fabric; returns NULL with a message in err on bad params. */
    struct fabric *(*create)(const struct fab_params *p, const struct fab_host *host, char *err,
                             size_t errlen);
    void (*destroy)(struct fabric *f);

    /* Guest RDMSR/WRMSR of an x2APIC MSR (0x800-0x8FF) or IA32_APIC_BASE (0x1B). */
    enum fab_access (*msr_read)(struct fabric *f, int vcpu, uint32_t msr, uint64_t *val);
    enum fab_access (*msr_write)(struct fabric *f, int vcpu, uint32_t msr, uint64_t val);

    /* A message arrives at vCPU's APIC (called by the host after the wire delay). */
    void (*receive)(struct fabric *f, int vcpu, const struct fab_msg *m);
    /* A message from outside any APIC (device MSI, PSP): decode dest and send. */
    void (*route)(struct fabric *f, uint32_t dest, bool logical, const struct fab_msg *m);

    /* The highest-priority event vCPU could take now, ignoring RFLAGS.IF and
     * NMI blocking (the CPU applies those), except kinds named in `skip`
     * (FAB_SKIP_*): a vCPU whose NMIs are blocked asks past a latched NMI for
     * a maskable interrupt. Does not change state. */
    struct fab_event (*pending)(struct fabric *f, int vcpu, unsigned skip);
    /* vCPU takes ev (a value pending() returned): FIXED moves the vector from
     * IRR to ISR (and raises PPR); NMI/INIT/SIPI/SMI clear their latch. */
    void (*ack)(struct fabric *f, int vcpu, struct fab_event ev);

    /* The timer the fabric armed through host->timer_arm expired. */
    void (*timer_fire)(struct fabric *f, int vcpu);

    /* The hypervisor asks for vector to be injected into vCPU (plain mode:
     * like a device interrupt through the APIC; Secure AVIC: REQUESTED_IRR). */
    void (*inject)(struct fabric *f, int vcpu, const struct fab_msg *m);

    /* INIT (init_only) or power-on reset of vCPU's APIC. */
    void (*reset)(struct fabric *f, int vcpu, bool init_only);

    /* The vCPU's 4 KiB APIC register page, for dumps and tests. */
    const uint8_t *(*regs)(struct fabric *f, int vcpu);

    /* ---- Hardware-evaluated fabrics (Secure AVIC). NULL in a fabric the
     * hypervisor emulates entirely: then every APIC MSR access is intercepted. */

    /* The CPU's own handling of a guest RDMSR/WRMSR of an x2APIC MSR or of an
     * MSR the fabric implements in hardware (SAVIC_CONTROL), before anything
     * is intercepted: FAB_OK done without an exit (*val holds a read),
     * FAB_GP, or FAB_EXIT with *x the #VC to raise. */
    enum fab_access (*hw_msr)(struct fabric *f, int vcpu, uint32_t msr, bool write,
                              uint64_t *val, struct fab_exit *x);
    /* Every VMRUN of vCPU (each re-entry): the hardware's work at entry.
     * Returns 0, or -1 with *why when VMRUN fails (VMEXIT_BUSY). */
    int (*vmrun)(struct fabric *f, int vcpu, const char **why);
    /* The hypervisor registers (reg) the guest page *gpa as vCPU's APIC
     * backing page, or unregisters it (*gpa gets the previous one, or
     * FAB_NO_PAGE). Returns 0, or -1 if the request makes no sense here. */
    int (*backing_page)(struct fabric *f, int vcpu, bool reg, uint64_t *gpa);
    /* A replay's savic_page_write: the hardware found the guest's store of
     * value at offset of vCPU's backing page when it last looked at the page.
     * The page and what the hardware knows of it both take it (the replay has
     * no guest to store it). NULL: a fabric without a guest-owned page. */
    void (*page_seen)(struct fabric *f, int vcpu, uint32_t offset, uint32_t value);

    /* ---- xAPIC mode. NULL in an x2APIC-only fabric (Secure AVIC): it has no
     * MMIO page, config apic_mode xapic is refused, and the model never asks. */

    /* A guest load (write false) or store of size bytes (1-8) at guest-physical
     * gpa. Returns true when gpa lies in vCPU's xAPIC register page: the APIC
     * is in xAPIC mode and gpa is in [IA32_APIC_BASE, + 4 KiB); then the access
     * is done (*val holds a load's value). false: not the APIC (disabled, x2APIC
     * mode, another address, SDM 10.4.3 / 10.12.1); the model sends the access
     * on to the bus. */
    bool (*mmio)(struct fabric *f, int vcpu, uint64_t gpa, unsigned size, bool write,
                 uint64_t *val);

    /* MOV from (write false) or to CR8 in 64-bit mode, *val being CR8: CR8[3:0]
     * is TPR[7:4], and a write clears TPR[3:0] (SDM 10.8.6.1, AMD APM vol. 2
     * 16.6.4), in xAPIC and x2APIC mode alike. The model has checked CPL and
     * the reserved bits 63:4. NULL: CR8 is not connected to this fabric's TPR
     * (reads 0, writes are dropped). */
    void (*cr8)(struct fabric *f, int vcpu, bool write, uint64_t *val);
};

#define FAB_NO_PAGE UINT64_MAX

/* The registered plug-ins (fabric_list.c), NULL-terminated. */
extern const struct fabric_ops *const fabric_list[];
/* Plug-in by name, or NULL. */
const struct fabric_ops *fabric_find(const char *name);

/* Every fabric starts with this header so the inline wrappers reach the ops. */
struct fabric {
    const struct fabric_ops *ops;
};

/* Whether vCPU's APIC is enabled (IA32_APIC_BASE.EN, bit 11: SDM 10.4.3), read
 * through the contract's own accessor of IA32_APIC_BASE (MSR 0x1B, which every
 * fabric answers without side effects). CPUID.1:EDX[9] follows it. */
static inline bool fab_apic_enabled(struct fabric *f, int vcpu)
{
    uint64_t base = 0;
    return f->ops->msr_read(f, vcpu, 0x1Bu, &base) == FAB_OK && (base & (1ull << 11));
}

/* Names for traces and messages. */
const char *apic_dm_name(enum apic_dm dm);
const char *apic_sh_name(enum apic_sh sh);

#endif
