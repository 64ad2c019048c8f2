/* SPDX-License-Identifier: MIT */
/*
 * The SEV-ES/SNP hardware state of the machine (APM vol. 2 15.35-15.36): per
 * vCPU what the hypervisor cannot see (the GHCB MSR, the VMSA it runs from,
 * AP-creation and event-injection state), and per VM the SEV features, the
 * ASID, the RMP, the memory keys and the PSP's launch result. The reference
 * hypervisor (model/hv) drives it; the machine only holds it.
 */
#ifndef SNPREF_SEV_STATE_H
#define SNPREF_SEV_STATE_H

#include <stdbool.h>
#include <stdint.h>

struct rmp;
struct mem_keys;
struct psp;

#define SEV_NONE UINT64_MAX

enum sev_hold { HOLD_NONE, HOLD_MSR, HOLD_NAE };

/* Per vCPU. */
struct sev_vcpu {
    uint64_t ghcb_msr;          /* MSR 0xC0010130 (VMSA/VMCB state, not intercepted) */
    uint64_t ghcb_registered;   /* SNP: registered GHCB GPA, SEV_NONE if none */
    uint64_t vmsa;              /* VMSA the vCPU runs from, SEV_NONE if none */
    uint64_t next_vmsa;         /* AP_CREATION: the VMSA to switch to */
    bool switch_pending;        /* take next_vmsa at the next VMRUN */
    /* The vCPU left guest mode (an exit) since its last VMRUN, so the next
     * quantum starts with one. A quantum boundary alone is no world switch:
     * a vCPU that keeps running is not re-entered, and a fabric the hardware
     * evaluates at VMRUN (Secure AVIC) does not look at its page then. */
    bool vmrun_due;
    bool create_on_init;        /* ... at the next INIT instead */
    bool started;               /* SEV-ES: has run from its launch VMSA */
    enum sev_hold hold;         /* parked in AP reset hold / AP_HLT_LOOP */
    uint64_t hold_ghcb;         /* where the AP_HLT_LOOP answer goes */
    uint64_t dr7;               /* the hypervisor's copy (DebugSwap off) */
    /* Event injection (issue 4; eventinj.h, hostile.h). */
    uint64_t eventinj;          /* VMCB EVENTINJ the hypervisor set for the next VMRUN */
    uint64_t injecting;         /* accepted by VMRUN: taken at the next instruction boundary */
    unsigned hostile_armed;     /* hostile injection armed by the guest's marker: index + 1 */
};

struct sev {
    bool snp;
    unsigned cbit;              /* 51 */
    uint32_t asid;
    uint64_t sev_features;      /* of every vCPU's VMSA */
    uint64_t sev_status;        /* what SEV_STATUS reads */
    uint64_t ap_jump_table;     /* AP_JUMP_TABLE SET/GET */
    struct rmp *rmp;
    struct mem_keys *keys;
    struct psp *psp;
    uint64_t gctx;              /* the guest's firmware context (PSP handle) */
    uint8_t digest[48];
    bool launched;
};

#endif
