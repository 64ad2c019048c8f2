/* SPDX-License-Identifier: MIT */
/*
 * Event injection by the hypervisor under SEV-ES / SNP (issue 4): the VMCB
 * EVENTINJ field (docs/sev-snp-facts.md 3 and 11), the checks VMRUN makes on it, and the
 * delivery of an accepted event at the first instruction boundary after VMRUN.
 * The hardware side lives here (eventinj.c); the only hypervisor in the model
 * that sets EVENTINJ is the hostile one (hostile.c).
 */
#ifndef SNPREF_EVENTINJ_H
#define SNPREF_EVENTINJ_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu.h"
#include "snpref/sev.h"

struct slot;

/* The outcome of VMRUN's checks of EVENTINJ. */
enum eventinj_verdict {
    EVENTINJ_OK,            /* injected at the first instruction boundary */
    EVENTINJ_INVALID,       /* APM vol. 2 15.20 consistency check: VMEXIT_INVALID */
    EVENTINJ_FORBIDDEN,     /* RestrictedInjection or Secure AVIC forbid it (knob) */
};

/*
 * VMRUN's checks of a valid EVENTINJ for a guest with these SEV_FEATURES, in
 * 64-bit mode or not. *why says which check failed (a static string).
 */
enum eventinj_verdict eventinj_check(uint64_t eventinj, uint64_t sev_features, bool long_mode,
                                     const char **why);

/* "intr", "nmi", "exception", "soft" or "reserved" for the TYPE field. */
const char *eventinj_type_name(uint64_t eventinj);

/*
 * The EVENTINJ step of a VMRUN of this vCPU (at a quantum start and at the
 * re-entry after an automatic exit): an accepted event becomes pending for
 * the CPU; a refused one is traced as vmrun_fail. Either way the field is
 * consumed: a refusal ends in the hypervisor clearing it and entering again
 * (hostile.c), so the vCPU goes on.
 */
void eventinj_vmrun(struct slot *s);

/* cb_pending: the accepted event, taken whatever RFLAGS.IF says. */
bool eventinj_take(struct slot *s, struct vcpu_event *out);

/*
 * Whether the hypervisor may deliver the fabric's interrupts (FIXED, ExtINT,
 * NMI) to this vCPU through the virtual-interrupt path. Not under
 * RestrictedInjection, which leaves it only #HV.
 */
bool eventinj_virq_allowed(const struct slot *s);

#endif
