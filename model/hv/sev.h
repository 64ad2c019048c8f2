/* SPDX-License-Identifier: MIT */
/*
 * SEV-ES and SEV-SNP in the model (issue 3; docs/sev-snp-facts.md sections 1-6, 8, 10):
 * the per-vCPU hardware state the hypervisor cannot see (GHCB MSR, VMSA), the
 * intercept policy that turns exits into #VC, the GHCB MSR protocol and GHCB
 * protocol (ghcb.c, nae.c), the RMP instructions and #NPF handling, AP
 * creation and the VMRUN checks, and the SNP launch through the PSP.
 *
 * The reference hypervisor here sees only what a real one sees: the GHCB the
 * guest shares, the GHCB MSR value, the VMCB exit information. It never reads
 * guest registers; the world switch saves them into the VMSA page.
 */
#ifndef SNPREF_SEV_MODEL_H
#define SNPREF_SEV_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu.h"
#include "hv.h"
#include "snpref/sev.h"

struct system;
struct slot;
struct psp;

/* Builds the SEV state, RMP and keys; under SNP launches the guest through the
 * PSP (every loaded page, the loader's pages, the special pages, the BSP
 * VMSA). Returns 0 or -1 with err. */
int sev_setup(struct system *sys, char *err, size_t errlen);
/* SEV_STATUS of an SEV-ES/SNP guest of config c; *features gets its SEV_FEATURES. */
struct snp_config;
uint64_t sev_status_of(const struct snp_config *c, uint64_t *features);
/* After the vCPUs exist: the launch VMSAs and, under SNP, the PSP launch. */
int sev_launch(struct system *sys, char *err, size_t errlen);
void sev_teardown(struct system *sys);

/* Exit/intercept policy for SEV-ES/SNP vCPUs (instead of hv_intercept). */
enum vcpu_action sev_intercept(struct slot *s, struct vcpu_exit *e);
/* PVALIDATE / RMPADJUST (VCPU_INSN_*). */
enum vcpu_action sev_rmp_insn(struct slot *s, struct vcpu_exit *e);
/* An RMP #NPF (cpu's cb->npf). */
enum vcpu_action sev_npf(struct slot *s, uint64_t gpa, uint64_t error);

/* VMRUN: before a quantum, make the vCPU run from the right VMSA. false if it
 * cannot run (vmrun_fail traced; the vCPU stays off). */
bool sev_vmrun(struct slot *s);
/* The fabric's part of VMRUN (also at each re-entry after an automatic exit);
 * false if it fails (vmrun_fail traced; the vCPU stays off). */
bool sev_fabric_vmrun(struct slot *s);
/* AP_CREATION's effect on vCPU t (request CREATE, CREATE_ON_INIT or DESTROY);
 * nae.c has checked the request. */
void sev_ap_create(struct slot *t, unsigned request, uint64_t vmsa);
/* INIT and SIPI for SEV vCPUs (AP semantics of docs/sev-snp-facts.md 10). Return true if
 * the vCPU should be scheduled to run. */
bool sev_on_init(struct slot *s);
bool sev_on_sipi(struct slot *s, uint8_t vector);

/* CPUID 0x8000001F as the model's platform reports it. */
void sev_cpuid_8000001f(const struct system *sys, uint32_t r[4]);

/* ghcb.c */
enum vcpu_action ghcb_vmgexit(struct slot *s);
/* A parked AP (AP_HLT_LOOP / reset hold) is released by a SIPI. */
void ghcb_release_hold(struct slot *s);

/* One VMGEXIT with a GHCB page (ghcb.c runs it, nae.c's handlers answer it). */
struct ghcb_call {
    struct slot *s;
    uint64_t gpa;           /* the GHCB */
    struct ghcb in;         /* the page as the hypervisor read it */
    struct ghcb out;        /* what it writes back: outputs and their valid bits */
    uint64_t code, info1, info2;
    uint64_t res1, res2;    /* SW_EXITINFO1 / SW_EXITINFO2 answers */
    bool park;              /* AP_HLT_LOOP: the vCPU waits, the answer comes later */
    bool stop;              /* the run ends (termination request) */
};

/* Valid-bitmap test and field access on the guest's copy, and output helpers. */
bool ghcb_has(const struct ghcb_call *c, unsigned bit);
void ghcb_put(struct ghcb_call *c, unsigned bit, uint64_t val);
/* Answers: 2 + reason (docs/sev-snp-facts.md 4: SW_EXITINFO1 2, SW_EXITINFO2 1-6). */
void ghcb_error(struct ghcb_call *c, uint64_t reason);
/* Answer 1: inject an exception (#GP) into the guest. */
void ghcb_inject_gp(struct ghcb_call *c);

/* A scratch area (sw_scratch): inside the GHCB's shared buffer, or elsewhere in
 * guest memory (at most 16 pages). Returns false after answering the error. */
struct scratch {
    uint64_t gpa, len;
    bool in_ghcb;
};
bool ghcb_scratch(struct ghcb_call *c, uint64_t len, struct scratch *sc);
bool scratch_read(struct ghcb_call *c, const struct scratch *sc, uint64_t off, void *buf, uint64_t n);
bool scratch_write(struct ghcb_call *c, const struct scratch *sc, uint64_t off, const void *buf,
                   uint64_t n);

/* The hypervisor answers as KVM does (hv.validation kvm) rather than strict. */
bool hv_kvm(const struct system *sys);
/* Ends the run as KVM's failing KVM_RUN does (the VMM stops the VM). */
void ghcb_fail_run(struct slot *s, const char *what);
/* GHCB_HV_FT_* the hypervisor reports (MSR protocol and NAE event). */
uint64_t hv_features(const struct system *sys);

/* GUEST_REQUEST / EXT_GUEST_REQUEST once nae.c has checked the GPAs (sev_guest.c). */
void sev_guest_request(struct ghcb_call *c);

/* nae.c: the NAE event handlers; false if code is no NAE event the model knows. */
bool nae_dispatch(struct ghcb_call *c);

#endif
