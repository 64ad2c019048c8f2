/* SPDX-License-Identifier: MIT */
/*
 * VMGEXIT: the GHCB MSR protocol and the GHCB page protocol as the reference
 * hypervisor runs them (docs/sev-snp-facts.md 4; KVM arch/x86/kvm/svm/sev.c:
 * sev_handle_vmgexit, sev_es_validate_vmgexit, setup_vmgexit_scratch).
 *
 * The hypervisor reads the guest's GHCB page through its own view of memory
 * (shared: plaintext; a private page would read as ciphertext), checks it,
 * runs the NAE event (nae.c), and writes the page back with the valid bitmap
 * cleared and only its outputs marked valid, as KVM does. Every malformed
 * request gets SW_EXITINFO1 = 2 and the reason in SW_EXITINFO2.
 */
#include <inttypes.h>
#include <string.h>

#include "keys.h"
#include "rmp.h"
#include "sev.h"

#define PAGE 4096ull

static struct sev *S(struct slot *s) { return s->sys->sev; }

bool hv_kvm(const struct system *sys) { return sys->cfg.hv.validation == HV_VALIDATION_KVM; }

void ghcb_fail_run(struct slot *s, const char *what)
{
    /* KVM returns -EINVAL from KVM_RUN; the VMM (QEMU) then stops the VM. */
    char why[192];
    snprintf(why, sizeof(why), "vCPU %u: the hypervisor fails the run (KVM: KVM_RUN -EINVAL): %s",
             s->idx, what);
    sys_finish(s->sys, SNPREF_SHUTDOWN, (int)s->idx, vcpu_get(s->cpu, VR_RIP), why);
}

/* ---- The GHCB MSR protocol ------------------------------------------------------------ */

static void terminate(struct slot *s, uint64_t set, uint64_t code)
{
    char why[160];
    snprintf(why, sizeof(why), "vCPU %u: guest requested termination: reason set %" PRIu64
             ", code %" PRIu64, s->idx, set, code);
    sys_finish(s->sys, SNPREF_SHUTDOWN, (int)s->idx, vcpu_get(s->cpu, VR_RIP), why);
}

/* A page-state change of one 4 KiB page (MSR protocol 0x014; docs/sev-snp-facts.md 4.2). */
static uint64_t psc_page(struct slot *s, uint64_t gfn, unsigned op)
{
    struct sev *sev = S(s);
    uint64_t gpa = gfn << 12;
    if (gpa >= s->sys->mem.size || (op != GHCB_MSR_PSC_OP_PRIVATE && op != GHCB_MSR_PSC_OP_SHARED))
        return GHCB_MSR_PSC_RESP_ERROR;
    bool priv = op == GHCB_MSR_PSC_OP_PRIVATE;
    struct rmp_state st = {priv ? gpa : 0, priv, RMP_4K, false, priv ? sev->asid : 0};
    enum rmp_rc rc = rmp_update(sev->rmp, gpa, &st);
    if (rc == RMP_FAIL_OVERLAP) {
        /* Inside a 2 MiB entry: split it first, as KVM does. */
        rmp_psmash(sev->rmp, gpa & ~((2ull << 20) - 1));
        rc = rmp_update(sev->rmp, gpa, &st);
    }
    cpu_shared_flush_tlbs(s->sys->cs);
    TRC(s->sys->trace, psc, sys_now(s), (int)s->idx, gpa, priv ? "private" : "shared", 0, rc);
    /* KVM answers bit 63 alone (snp_complete_psc_msr); strict adds the RMP code. */
    if (rc == RMP_OK)
        return 0;
    return GHCB_MSR_PSC_RESP_ERROR | (hv_kvm(s->sys) ? 0 : (uint64_t)rc << 32);
}

static uint64_t cpuid_msr(struct slot *s, uint64_t req)
{
    uint32_t fn = (uint32_t)(req >> 32), reg = (uint32_t)(req >> 30) & 3, r[4];
    hv_cpuid_lookup(s->sys, s->idx, fn, 0, r);
    return (uint64_t)r[reg] << 32 | GHCB_MSR_CPUID_RESP;
}

uint64_t hv_features(const struct system *sys)
{
    /* KVM reports GHCB_HV_FT_SUPPORTED to every guest, SEV-ES ones too
     * (sev_handle_vmgexit_msr_protocol, sev_handle_vmgexit); strict only to SNP. */
    if (hv_kvm(sys) || sys->sev->snp)
        return GHCB_HV_FT_SNP | GHCB_HV_FT_SNP_AP_CREATION;
    return 0;
}

/* Returns the new GHCB MSR value; may park or end the run. */
static uint64_t msr_protocol(struct slot *s, uint64_t req, enum vcpu_action *act)
{
    struct sev *sev = S(s);
    uint64_t info = req & GHCB_MSR_INFO_MASK, data = req >> 12;
    switch (info) {
    case GHCB_MSR_SEV_INFO_REQ:
        return GHCB_MSR_SEV_INFO(GHCB_PROTOCOL_MAX, GHCB_PROTOCOL_MIN, sev->cbit);
    case GHCB_MSR_CPUID_REQ:
        return cpuid_msr(s, req);
    case GHCB_MSR_AP_RESET_HOLD_REQ:
        s->sev.hold = HOLD_MSR;
        *act = VCPU_HALT;
        return req;
    case GHCB_MSR_PREF_GPA_REQ:
        /* KVM has no preference, and terminates a non-SNP guest that asks. */
        if (!sev->snp && hv_kvm(s->sys)) {
            terminate(s, SEV_TERM_SET_GEN, 1);
            *act = VCPU_STOP;
            return req;
        }
        return GHCB_MSR_PREF_GPA_NONE << 12 | GHCB_MSR_PREF_GPA_RESP;
    case GHCB_MSR_HV_FT_REQ:
        return hv_features(s->sys) << 12 | GHCB_MSR_HV_FT_RESP;
    case GHCB_MSR_TERM_REQ:
        terminate(s, (req >> 12) & 0xF, (req >> 16) & 0xFF);
        *act = VCPU_STOP;
        return req;
    case GHCB_MSR_REG_GPA_REQ:
    case GHCB_MSR_PSC_REQ:
        /* SNP only: KVM terminates a non-SNP guest that asks. */
        if (!sev->snp) {
            terminate(s, SEV_TERM_SET_GEN, 1);
            *act = VCPU_STOP;
            return req;
        }
        if (info == GHCB_MSR_REG_GPA_REQ) {
            s->sev.ghcb_registered = (data & 0xFFFFFFFFFFFFFull) << 12;
            return (data << 12) | GHCB_MSR_REG_GPA_RESP;
        }
        return psc_page(s, data & 0xFFFFFFFFFFull, (unsigned)(data >> 40) & 0xF) |
               GHCB_MSR_PSC_RESP;
    default:
        return req; /* unknown requests leave the MSR unchanged (KVM) */
    }
}

/* ---- The GHCB page ----------------------------------------------------------------------- */

bool ghcb_has(const struct ghcb_call *c, unsigned bit)
{
    return c->in.save.valid_bitmap[bit / 8] & (1u << (bit % 8));
}

void ghcb_put(struct ghcb_call *c, unsigned bit, uint64_t val)
{
    memcpy((uint8_t *)&c->out.save + bit * 8, &val, 8);
    c->out.save.valid_bitmap[bit / 8] |= (uint8_t)(1u << (bit % 8));
}

void ghcb_error(struct ghcb_call *c, uint64_t reason)
{
    c->res1 = GHCB_HV_RESP_MALFORMED_INPUT;
    c->res2 = reason;
}

void ghcb_inject_gp(struct ghcb_call *c)
{
    /* EVENTINJ format: vector 13, type 3 (exception), valid (KVM for MSR #GP). */
    c->res1 = GHCB_HV_RESP_ISSUE_EXCEPTION;
    c->res2 = X86_GP | SVM_EVTINJ_TYPE_EXEPT | SVM_EVTINJ_VALID;
}

static void hv_rmp_fault(struct ghcb_call *c, uint64_t gpa, uint64_t pf)
{
    TRC(c->s->sys->trace, rmp_fault, sys_now(c->s), (int)c->s->idx, "hypervisor", "write",
        gpa & ~(PAGE - 1), pf, "hypervisor write to a page assigned to the guest");
}

bool ghcb_scratch(struct ghcb_call *c, uint64_t len, struct scratch *sc)
{
    uint64_t gpa = c->in.save.sw_scratch;
    uint64_t buf = c->gpa + offsetof(struct ghcb, shared_buffer);
    sc->gpa = gpa, sc->len = len;
    /* KVM refuses GPA 0 (setup_vmgexit_scratch: "scratch gpa not provided"); GPA 0 is a
     * page like any other to the spec, which strict follows. */
    if (gpa == 0 && hv_kvm(c->s->sys)) {
        ghcb_error(c, GHCB_ERR_INVALID_SCRATCH_AREA);
        return false;
    }
    if (gpa >= c->gpa && gpa < c->gpa + PAGE) {
        /* Inside the GHCB it must lie in the shared buffer (KVM). */
        sc->in_ghcb = true;
        if (gpa < buf || len > GHCB_SHARED_BUF_SIZE || gpa - buf > GHCB_SHARED_BUF_SIZE - len) {
            ghcb_error(c, GHCB_ERR_INVALID_SCRATCH_AREA);
            return false;
        }
        return true;
    }
    sc->in_ghcb = false;
    if (len > GHCB_SCRATCH_AREA_LIMIT || !mem_contains(&c->s->sys->mem, gpa, len)) {
        ghcb_error(c, GHCB_ERR_INVALID_SCRATCH_AREA);
        return false;
    }
    return true;
}

bool scratch_read(struct ghcb_call *c, const struct scratch *sc, uint64_t off, void *buf, uint64_t n)
{
    if (sc->in_ghcb) {
        memcpy(buf, (const uint8_t *)&c->in + (sc->gpa - c->gpa) + off, n);
        return true;
    }
    return mem_hv_read(&c->s->sys->mem, sc->gpa + off, buf, n);
}

bool scratch_write(struct ghcb_call *c, const struct scratch *sc, uint64_t off, const void *buf,
                   uint64_t n)
{
    if (sc->in_ghcb) {
        memcpy((uint8_t *)&c->out + (sc->gpa - c->gpa) + off, buf, n);
        return true;
    }
    uint64_t pf = 0;
    if (mem_hv_write(&c->s->sys->mem, sc->gpa + off, buf, n, &pf))
        return true;
    hv_rmp_fault(c, sc->gpa + off, pf);
    ghcb_error(c, GHCB_ERR_INVALID_SCRATCH_AREA);
    return false;
}

/* The fields every request needs (KVM sev_es_validate_vmgexit). */
static bool check_request(struct ghcb_call *c)
{
    if (c->in.ghcb_usage != GHCB_DEFAULT_USAGE) {
        ghcb_error(c, GHCB_ERR_INVALID_USAGE);
        return false;
    }
    if (!ghcb_has(c, GHCB_BIT(sw_exit_code)) || !ghcb_has(c, GHCB_BIT(sw_exit_info_1)) ||
        !ghcb_has(c, GHCB_BIT(sw_exit_info_2))) {
        ghcb_error(c, GHCB_ERR_MISSING_INPUT);
        return false;
    }
    return true;
}

/* Writes the answer into the guest's GHCB; false (run ended) if it cannot. */
static bool write_back(struct ghcb_call *c)
{
    ghcb_put(c, GHCB_BIT(sw_exit_info_1), c->res1);
    ghcb_put(c, GHCB_BIT(sw_exit_info_2), c->res2);
    uint64_t pf = 0;
    if (mem_hv_write(&c->s->sys->mem, c->gpa, &c->out, sizeof(c->out), &pf))
        return true;
    hv_rmp_fault(c, c->gpa, pf);
    char why[160];
    snprintf(why, sizeof(why), "vCPU %u: the GHCB at %#" PRIx64 " is not shared: the hypervisor "
             "cannot answer", c->s->idx, c->gpa);
    sys_finish(c->s->sys, SNPREF_SHUTDOWN, (int)c->s->idx, vcpu_get(c->s->cpu, VR_RIP), why);
    return false;
}

static enum vcpu_action ghcb_protocol(struct slot *s, uint64_t gpa)
{
    struct system *sys = s->sys;
    static struct ghcb_call call; /* 8 KiB; one VMGEXIT at a time */
    struct ghcb_call *c = &call;
    memset(c, 0, sizeof(*c));
    c->s = s;
    c->gpa = gpa;
    if ((gpa & (PAGE - 1)) || !mem_hv_read(&sys->mem, gpa, &c->in, sizeof(c->in))) {
        char why[128];
        snprintf(why, sizeof(why), "vCPU %u: GHCB GPA %#" PRIx64 " is not a page in RAM", s->idx, gpa);
        sys_finish(sys, SNPREF_SHUTDOWN, (int)s->idx, vcpu_get(s->cpu, VR_RIP), why);
        return VCPU_STOP;
    }
    c->out = c->in;
    memset(c->out.save.valid_bitmap, 0, sizeof(c->out.save.valid_bitmap));
    c->code = c->in.save.sw_exit_code;
    c->info1 = c->in.save.sw_exit_info_1;
    c->info2 = c->in.save.sw_exit_info_2;
    TRC(sys->trace, vmgexit, sys_now(s), (int)s->idx, gpa, c->code, c->info1, c->info2);
    if (S(s)->snp && gpa != s->sev.ghcb_registered) {
        /* KVM fails the run (sev_handle_vmgexit: "GHCB GPA is not registered"); strict
         * answers the GHCB spec's error code instead. */
        if (hv_kvm(sys)) {
            ghcb_fail_run(s, "the GHCB GPA is not the registered one");
            return VCPU_STOP;
        }
        ghcb_error(c, GHCB_ERR_NOT_REGISTERED);
    } else if (check_request(c) && !nae_dispatch(c)) {
        ghcb_error(c, GHCB_ERR_INVALID_EVENT);
    }
    if (c->stop)
        return VCPU_STOP;
    if (c->park) {
        s->sev.hold = HOLD_NAE;
        s->sev.hold_ghcb = gpa;
        return VCPU_HALT;
    }
    TRC(sys->trace, vmgexit_result, sys_now(s), (int)s->idx, c->code, c->res1, c->res2);
    return write_back(c) ? VCPU_NEXT : VCPU_STOP;
}

enum vcpu_action ghcb_vmgexit(struct slot *s)
{
    uint64_t req = s->sev.ghcb_msr;
    if ((req & GHCB_MSR_INFO_MASK) == 0)
        return ghcb_protocol(s, req);
    enum vcpu_action act = VCPU_NEXT;
    uint64_t resp = msr_protocol(s, req, &act);
    s->sev.ghcb_msr = resp;
    if (act != VCPU_HALT)
        TRC(s->sys->trace, ghcb_msr, sys_now(s), (int)s->idx, req, resp);
    return act;
}

void ghcb_release_hold(struct slot *s)
{
    struct sev_vcpu *v = &s->sev;
    if (v->hold == HOLD_MSR) {
        uint64_t req = v->ghcb_msr;
        /* A non-zero result: a SIPI arrived (docs/sev-snp-facts.md 4.2). */
        v->ghcb_msr = (1ull << 12) | GHCB_MSR_AP_RESET_HOLD_RESP;
        TRC(s->sys->trace, ghcb_msr, sys_now(s), (int)s->idx, req, v->ghcb_msr);
    } else if (v->hold == HOLD_NAE) {
        struct ghcb g;
        uint64_t pf;
        if (mem_hv_read(&s->sys->mem, v->hold_ghcb, &g, sizeof(g))) {
            memset(g.save.valid_bitmap, 0, sizeof(g.save.valid_bitmap));
            g.save.sw_exit_info_1 = 0;
            g.save.sw_exit_info_2 = 1; /* non-zero: woken by a SIPI */
            g.save.valid_bitmap[GHCB_BIT(sw_exit_info_1) / 8] |= (uint8_t)(1u << (GHCB_BIT(sw_exit_info_1) % 8));
            g.save.valid_bitmap[GHCB_BIT(sw_exit_info_2) / 8] |= (uint8_t)(1u << (GHCB_BIT(sw_exit_info_2) % 8));
            mem_hv_write(&s->sys->mem, v->hold_ghcb, &g, sizeof(g), &pf);
        }
        TRC(s->sys->trace, vmgexit_result, sys_now(s), (int)s->idx, SVM_VMGEXIT_AP_HLT_LOOP, 0, 1);
    }
    v->hold = HOLD_NONE;
    v->hold_ghcb = SEV_NONE;
}
