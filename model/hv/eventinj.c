/* SPDX-License-Identifier: MIT */
/*
 * What VMRUN does with the VMCB EVENTINJ field of an SEV-ES / SNP vCPU (fact
 * sheet 3 and 11; issue 4), and the delivery of an event it accepts.
 *
 * The checks, in the order the hardware is modelled to make them:
 *  1. APM vol. 2 15.20: a reserved TYPE (1, 5, 6, 7), or TYPE 3 (exception)
 *     with a vector that is no exception, fails VMRUN with VMEXIT_INVALID.
 *     The public source is the KVM nSVM patch "KVM: nSVM: Add missing
 *     consistency check for event_inj" (Y. Ahmed, 2025-26), which quotes the
 *     APM and lists the exception vectors: everything but 2 (NMI), 9 (reserved
 *     on CPUs with SVM), 15, 20, 22-27 and 31, and anything >= 32. AMD defines
 *     no #VE, so 20 is reserved as in that patch's first version. #CP (21) and
 *     #VC (29) are exceptions of the modelled CPU (it has shadow stacks and
 *     SEV-ES); KVM ties them to the L1 guest's CPUID because it checks a
 *     virtual CPU. The same APM section makes an event "impossible for the
 *     guest mode" fail as well and names #BR in 64-bit mode (quoted in
 *     bochs-emu/Bochs issue 649); #OF, whose INTO is equally invalid in 64-bit
 *     mode, is not named there and is injected (UNCERTAIN).
 *  2. Secure AVIC (SEV_FEATURES bit 16): no EVENTINJ at all, "including
 *     exception injection" (docs/sev-snp-facts.md 7.3); interrupts come
 *     through the backing page only.
 *  3. RestrictedInjection (SEV_FEATURES bit 3) disables "all hypervisor-based
 *     interrupt queuing and event injection of all vectors except" #HV (TYPE
 *     3, vector 28), and "#HV is only allowed to be injected into VMSAs that
 *     execute with Restricted Injection" (AMD, "[PATCH 1/6] x86/sev: Define
 *     the #HV doorbell page structure", M. Wang, kvm list 2024-08-07). So
 *     without bit 3 #HV is refused, with it everything else is; the
 *     virtual-interrupt path is closed too (eventinj_virq_allowed).
 * Whether silicon fails VMRUN with VMEXIT_INVALID for 2 and 3 or enters the
 * guest without the event is not public (UNCERTAIN): the knob
 * hostile.forbidden_eventinj chooses, VMEXIT_INVALID by default.
 *
 * An accepted event is taken at the first instruction boundary after VMRUN,
 * whatever RFLAGS.IF or the NMI mask say (APM 15.20: injection bypasses the
 * guest's interruptibility), through system.c's cb_pending.
 */
#include "eventinj.h"

#include <stdio.h>

#include "hv.h"

/* Vectors 0-31 that are exceptions (bit v set): see check 1 above. */
#define EXCEPTION_VECTORS                                                                          \
    ((1u << X86_DE) | (1u << X86_DB) | (1u << X86_BP) | (1u << X86_OF) | (1u << X86_BR) |        \
     (1u << X86_UD) | (1u << X86_NM) | (1u << X86_DF) | (1u << X86_TS) | (1u << X86_NP) |        \
     (1u << X86_SS) | (1u << X86_GP) | (1u << X86_PF) | (1u << X86_MF) | (1u << X86_AC) |        \
     (1u << X86_MC) | (1u << X86_XM) | (1u << X86_CP) | (1u << X86_HV) | (1u << X86_VC) |        \
     (1u << X86_SX))

enum eventinj_verdict eventinj_check(uint64_t eventinj, uint64_t sev_features, bool long_mode,
                                     const char **why)
{
    unsigned type = (unsigned)((eventinj & SVM_EVTINJ_TYPE_MASK) >> SVM_EVTINJ_TYPE_SHIFT);
    unsigned vector = (unsigned)(eventinj & SVM_EVTINJ_VEC_MASK);
    *why = NULL;
    if (!(eventinj & SVM_EVTINJ_VALID))
        return EVENTINJ_OK;
    if (type != EVTINJ_INTR && type != EVTINJ_NMI && type != EVTINJ_EXCEPT && type != EVTINJ_SOFT) {
        *why = "EVENTINJ TYPE is reserved (APM vol. 2 15.20)";
        return EVENTINJ_INVALID;
    }
    if (type == EVTINJ_EXCEPT && (vector >= 32 || !(EXCEPTION_VECTORS & (1u << vector)))) {
        *why = "EVENTINJ TYPE 3 with a vector that is no exception (APM vol. 2 15.20)";
        return EVENTINJ_INVALID;
    }
    if (type == EVTINJ_EXCEPT && vector == X86_BR && long_mode) {
        *why = "EVENTINJ #BR cannot happen in 64-bit mode (APM vol. 2 15.20)";
        return EVENTINJ_INVALID;
    }
    bool hv = type == EVTINJ_EXCEPT && vector == X86_HV;
    if (sev_features & SEV_FEAT_SECURE_AVIC) {
        *why = "Secure AVIC: EVENTINJ is not supported";
        return EVENTINJ_FORBIDDEN;
    }
    if ((sev_features & SEV_FEAT_RESTRICTED_INJ) && !hv) {
        *why = "RestrictedInjection: only #HV (vector 28) may be injected";
        return EVENTINJ_FORBIDDEN;
    }
    if (!(sev_features & SEV_FEAT_RESTRICTED_INJ) && hv) {
        *why = "#HV may be injected only with RestrictedInjection";
        return EVENTINJ_FORBIDDEN;
    }
    return EVENTINJ_OK;
}

const char *eventinj_type_name(uint64_t eventinj)
{
    static const char *const names[8] = {"intr", "reserved", "nmi", "exception",
                                         "soft", "reserved", "reserved", "reserved"};
    return names[(eventinj & SVM_EVTINJ_TYPE_MASK) >> SVM_EVTINJ_TYPE_SHIFT];
}

/*
 * The guest's SEV_FEATURES as VMRUN sees them. The VM-wide value: AP_CREATION
 * makes every VMSA agree with it on the injection bits under either policy
 * (docs/sev-snp-facts.md 10.2), and SecureAVIC comes with the fabric for the whole VM.
 */
static uint64_t sev_features(const struct slot *s) { return s->sys->sev->sev_features; }

static bool vmrun_once(struct slot *s)
{
    struct system *sys = s->sys;
    struct sev_vcpu *v = &s->sev;
    uint64_t ev = v->eventinj;
    const char *why;
    /* 64-bit mode is EFER.LMA here: the model runs no compatibility mode. */
    bool lm = vcpu_get(s->cpu, VR_EFER) & (1ull << 10);
    enum eventinj_verdict vd = eventinj_check(ev, sev_features(s), lm, &why);
    bool ignored = vd == EVENTINJ_FORBIDDEN &&
                   sys->cfg.hostile.forbidden == EVENTINJ_FORBIDDEN_IGNORED;
    TRC(sys->trace, eventinj, sys_now(s), (int)s->idx, ev & SVM_EVTINJ_VEC_MASK,
        eventinj_type_name(ev), (ev & SVM_EVTINJ_VALID_ERR) != 0, ev >> SVM_EVTINJ_ERR_SHIFT,
        vd == EVENTINJ_OK ? "injected" : ignored ? "ignored" : "refused", why ? why : "");
    /* Consumed either way: VMRUN takes an event it injects (KVM clears
     * EVENTINJ after every run), and after VMEXIT_INVALID the hypervisor
     * clears it before it tries again (eventinj_vmrun). */
    v->eventinj = 0;
    if (vd == EVENTINJ_OK) {
        v->injecting = ev;
        vcpu_kick(s->cpu);
        return true;
    }
    if (ignored)
        return true;
    char reason[160];
    snprintf(reason, sizeof(reason), "VMEXIT_INVALID: %s", why);
    TRC(sys->trace, vmrun_fail, sys_now(s), (int)s->idx, reason);
    return false;
}

void eventinj_vmrun(struct slot *s)
{
    if (!(s->sev.eventinj & SVM_EVTINJ_VALID))
        return;
    if (vmrun_once(s))
        return;
    /* VMEXIT_INVALID: the hypervisor (hostile.c: the only one that sets
     * EVENTINJ) sees the failed VMRUN, clears EVENTINJ and runs the vCPU again,
     * so the guest goes on. That round trip costs an exit. */
    s->sum.exits++;
    sys_charge(s, s->sys->cfg.cost.vmexit);
}

bool eventinj_take(struct slot *s, struct vcpu_event *out)
{
    uint64_t ev = s->sev.injecting;
    if (!(ev & SVM_EVTINJ_VALID))
        return false;
    s->sev.injecting = 0;
    static const enum vcpu_event_type kind[8] = {
        [EVTINJ_INTR] = VEV_EXTINT, [EVTINJ_NMI] = VEV_NMI,
        [EVTINJ_EXCEPT] = VEV_EXCEPTION, [EVTINJ_SOFT] = VEV_SOFTINT,
    };
    unsigned type = (unsigned)((ev & SVM_EVTINJ_TYPE_MASK) >> SVM_EVTINJ_TYPE_SHIFT);
    /* An NMI ignores VECTOR (APM vol. 2 15.20). CR2 is the hypervisor's
     * business (VMSA state under SEV-ES): an injected #PF leaves it as it is.
     * XXX(model): APM 15.20 also says an injected NMI does not block further
     * NMIs; the CPU blocks them as after any NMI. */
    uint8_t vector = type == EVTINJ_NMI ? X86_NMI : (uint8_t)(ev & SVM_EVTINJ_VEC_MASK);
    *out = (struct vcpu_event){kind[type], vector, (ev & SVM_EVTINJ_VALID_ERR) != 0,
                               (uint32_t)(ev >> SVM_EVTINJ_ERR_SHIFT), vcpu_get(s->cpu, VR_CR2)};
    return true;
}

bool eventinj_virq_allowed(const struct slot *s)
{
    /* XXX(model): the #HV doorbell protocol through which a hypervisor tells a
     * restricted-injection guest about pending interrupts (GHCB NAE
     * 0x80000014, docs/sev-snp-facts.md 5.2) is not modelled: such a guest gets none. */
    return !s->sys->sev || !(sev_features(s) & SEV_FEAT_RESTRICTED_INJ);
}
