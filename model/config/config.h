/* SPDX-License-Identifier: MIT */
/*
 * The system configuration (docs/config.md): every field has a documented
 * default; a JSON file may set any of them; unknown keys are an error. The
 * command line overrides the file. The effective configuration is written to
 * every trace header, so a trace says exactly how it was made.
 */
#ifndef SNPREF_CONFIG_H
#define SNPREF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpufeat.h"
#include "fabric.h"

#define CFG_MAX_CPUID 64
/* Distinct knob schemas of the registered fabrics, and the bytes of one set. */
#define CFG_MAX_KNOB_SETS 4
#define CFG_KNOB_BYTES    256

/* One fabric knob set (fabric.h struct fab_knob_schema): the schema's
 * defaults until its config section sets it. */
struct cfg_knob_set {
    const struct fab_knob_schema *schema;
    _Alignas(8) unsigned char data[CFG_KNOB_BYTES];
};

enum exit_style { EXIT_STYLE_SNPREF, EXIT_STYLE_QEMU };

/* Costs of architectural events, in core cycles (docs/cost-model.md). */
struct cost_model {
    uint64_t insn_millicycles;  /* per retired instruction, x1000 (CPI 1.0 = 1000) */
    uint64_t vmexit;            /* exit + hypervisor emulation + re-entry */
    uint64_t event_delivery;    /* an exception or interrupt through the IDT */
    uint64_t ipi_wire;          /* ICR write to IRR set at another APIC */
    uint64_t self_ipi;          /* to IRR set at the sender's own APIC */
    uint64_t device_msi;        /* device message to IRR set */
    uint64_t hlt_wakeup;        /* a halted vCPU resuming after its wake event */
};

struct cpuid_entry {
    uint32_t leaf, subleaf;
    bool any_subleaf;           /* the entry answers every subleaf */
    uint32_t eax, ebx, ecx, edx;
};

/* SEV-ES / SNP (config section "sev"; docs/config.md). */
enum ap_create_policy { AP_CREATE_KVM, AP_CREATE_STRICT };
enum ap_create_features { AP_FEATURES_EXACT, AP_FEATURES_INJECTION };
/* Which vCPUs an SNP launch gives a VMSA (measured with LAUNCH_UPDATE): the
 * BSP only (the model's ABI: APs come from AP_CREATION), or every vCPU, as
 * KVM's LAUNCH_FINISH does (sev_snp_launch_finish measures each vCPU's VMSA). */
enum launch_vmsas { LAUNCH_VMSAS_BSP, LAUNCH_VMSAS_ALL };
/* IA32_PAT after reset (APM vol. 2 7.8.1): WB WT UC- UC, twice. */
#define SNP_PAT_RESET 0x0007040600070406ull

struct sev_options {
    uint64_t policy;            /* SNP guest policy (docs/sev-snp-facts.md 8.4): 0x30000 */
    uint32_t asid;              /* the guest's ASID: 1 */
    uint64_t sev_features;      /* SEV_FEATURES bits beyond what the mode implies: 0 */
    enum ap_create_policy ap_create;      /* re-creating a running vCPU: kvm (allowed) */
    enum ap_create_features ap_features;  /* RAX check: exact (current KVM) */
    enum launch_vmsas launch_vmsas;       /* SNP: bsp */
    /* G_PAT of every launch VMSA (IA32_PAT as the guest starts): the PAT's
     * reset value, which KVM also gives a vCPU (MSR_IA32_CR_PAT_DEFAULT). */
    uint64_t launch_pat;
    bool implicit_psc;          /* an RMP #NPF converts the page (KVM userspace) instead of terminating */
    uint64_t key_seed;          /* memory-encryption and firmware key seed */
};

/* The reference hypervisor (config section "hv"; docs/config.md, docs/conformance.md):
 * where the GHCB specification allows more than one reading, answer as KVM
 * does (kvm) or keep the stricter spec-valid answer (strict). */
enum hv_validation { HV_VALIDATION_KVM, HV_VALIDATION_STRICT };

struct hv_options {
    enum hv_validation validation;  /* kvm */
};

/* Attestation (config section "attestation"; docs/attestation.md): where the
 * model's ARK -> ASK -> VCEK chain lives. Empty: derived per run from
 * sev.key_seed; otherwise read from the directory, generated into it first
 * when absent. */
struct attestation_options {
    char cert_dir[256];
};

/* The PSP as a device (config section "psp"; docs/psp.md): its MMIO page,
 * the ASPT that describes it, and what an SNP-host guest may do. */
struct psp_options {
    bool enable;                /* false: no device, no ASPT */
    uint64_t base;              /* MMIO page: 0xFEB00000 (openvmm's) */
    uint32_t mbox_irq_id;       /* the ASPT's mailbox IRQ id, 0..63: 0 */
    bool hardware_isolation;    /* RMPUPDATE / PSMASH executable by a plain guest: false */
};

/*
 * The hostile hypervisor (config section "hostile"; docs/attacks.md, issue 4):
 * injections it makes on purpose, each armed by a guest marker (an OUT of the
 * marker value to the POST-code port 0x80) and made at the next VMRUN.
 */
#define CFG_MAX_HOSTILE 64
enum hostile_ghcb_field { HG_EXIT_CODE = 1, HG_INFO1 = 2, HG_INFO2 = 4, HG_RAX = 8 };
/* What VMRUN does with an EVENTINJ that RestrictedInjection or Secure AVIC
 * forbids (UNCERTAIN: eventinj.c). */
enum eventinj_forbidden { EVENTINJ_FORBIDDEN_VMEXIT_INVALID, EVENTINJ_FORBIDDEN_IGNORED };

struct hostile_injection {
    uint32_t marker;            /* the byte written to port 0x80 that arms it */
    uint64_t eventinj;          /* the VMCB EVENTINJ value it sets (docs/sev-snp-facts.md 11) */
    unsigned ghcb_fields;       /* HG_* written into the vCPU's GHCB first (WeSee) */
    uint64_t ghcb_exit_code, ghcb_info1, ghcb_info2, ghcb_rax;
};

struct hostile_options {
    enum eventinj_forbidden forbidden;  /* vmexit_invalid */
    unsigned n;                         /* 0: the reference hypervisor only */
    struct hostile_injection inj[CFG_MAX_HOSTILE];
};

struct snp_config {
    unsigned vcpus;             /* 4 */
    char mode[16];              /* plain | sev-es | snp */
    char apic[32];              /* fabric name: emulated */
    bool apic_xapic;            /* apic_mode "xapic": power on in xAPIC mode (default "x2apic") */
    uint64_t ram_mb;            /* 64 */
    uint64_t quantum;           /* instructions per scheduling quantum: 2000 */
    uint64_t max_insns;         /* 0 = no limit */
    uint64_t core_hz;           /* 2 GHz */
    uint64_t tsc_hz;            /* = core_hz */
    uint64_t apic_timer_hz;     /* 100 MHz */
    uint64_t rtc_epoch;         /* Unix time the CMOS RTC shows at time 0: 1767225600 (2026-01-01) */
    uint32_t tcg_buffer_mb;     /* Unicorn translation buffer per vCPU: 32 */
    enum exit_style exit_style;
    struct cost_model cost;
    struct sev_options sev;
    /* The knobs of every registered fabric's schema (config section named
     * by the schema, e.g. "savic"); the chosen fabric gets its own. */
    struct cfg_knob_set knobs[CFG_MAX_KNOB_SETS];
    unsigned nknobs;
    unsigned ncpuid;            /* CPUID entries that replace the model's defaults */
    struct cpuid_entry cpuid[CFG_MAX_CPUID];
    struct cpu_features features; /* cpu_features: named bits edited over the CPUID */
    struct hostile_options hostile; /* none */
    struct hv_options hv;
    struct attestation_options attestation;
    struct psp_options psp;
    /* Not a setting: the config file the values came from (config_load sets
     * it; NULL: defaults and flags only), named by config_fail(). Borrowed. */
    const char *origin;
};

void config_defaults(struct snp_config *c);

/*
 * Reads a JSON config file over the values already in *c. Returns 0, or -1 with
 * "FILE:LINE: field 'F': problem" in err; *status is 66 for an unreadable file
 * and 65 for malformed content (docs/design.md section 3).
 */
int config_load(struct snp_config *c, const char *path, int *status, char *err, size_t errlen);

/* Checks cross-field rules (after command-line overrides). Returns 0, or -1
 * with "FILE: field 'F': problem" in err (config_fail). */
int config_validate(const struct snp_config *c, char *err, size_t errlen);

/* A conflict found after loading, in the form config_validate() reports:
 * "FILE: field 'F': why", FILE being c->origin or "command line" when no file
 * was loaded. Returns -1. */
int config_fail(const struct snp_config *c, const char *field, char *err, size_t errlen,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The knob set of the fabric named apic (its schema's), or NULL when it has
 * no knobs or no such fabric exists. Points into c. */
const void *config_fabric_knobs(const struct snp_config *c, const char *apic);
/* Writable variant, for tests and tools that set a knob directly. */
void *config_fabric_knobs_mut(struct snp_config *c, const char *apic);

/* The knob section of the fabric named apic, as the config file spells it
 * ({"savic": {...}} compact JSON, caller frees), or NULL when it has none. */
char *config_knobs_to_json(const struct snp_config *c, const char *apic);

/* The effective config as compact JSON (caller frees). Keys in fixed order. */
char *config_to_json(const struct snp_config *c);

/* Line (1-based) of the member at `path` ("cost.vmexit", "cpuid[2].eax") in the
 * JSON text, or 0 if it cannot be found. */
unsigned json_line_of(const char *text, const char *path);

#endif
