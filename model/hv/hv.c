/* SPDX-License-Identifier: MIT */
/*
 * The reference hypervisor for plain guests: it answers every intercepted
 * instruction as a VM exit would be answered (KVM's SVM exit handlers are the
 * model: arch/x86/kvm/svm/svm.c, x86.c). CPUID from a table, MSRs to the
 * fabric / the engine / #GP, port I/O to the devices, HLT parks the vCPU,
 * RDTSC from simulated time. Under SEV-ES and SNP the same handlers sit behind
 * the GHCB protocol instead of direct register access.
 */
#include <inttypes.h>
#include <string.h>

#include "eventinj.h"
#include "hv.h"
#include "msr.h"
#include "rmp.h"
#include "sev.h"
#include "wires.h"
#include "snpref/base.h"

/* ---- CPUID --------------------------------------------------------------------- */

#define SIG_AUTH 0x68747541u /* "Auth" */
#define SIG_ENTI 0x69746e65u /* "enti" */
#define SIG_CAMD 0x444d4163u /* "cAMD" */
#define CPUID_1_EDX_APIC (1u << 9)

static unsigned log2_ceil(unsigned n)
{
    unsigned s = 0;
    while ((1u << s) < n)
        s++;
    return s;
}

/* The brand string of leaves 0x80000002-4, 16 bytes each, NUL-padded. */
static void brand(uint32_t leaf, uint32_t r[4])
{
    static const char name[48] = "AMD EPYC-Milan Processor (snpref model)";
    memcpy(r, name + 16 * (leaf - 0x80000002), 16);
}

/*
 * The model's default CPUID: an AMD family 19h (Zen 3) vCPU with x2APIC and the
 * TSC-deadline timer, as KVM would present it (docs/config.md "The default CPUID"
 * describes it; a comment per bit below).
 */
static void cpuid_default(const struct system *sys, unsigned vcpu, uint32_t leaf, uint32_t sub,
                          uint32_t r[4])
{
    uint32_t id = sys->apic_ids[vcpu];
    memset(r, 0, 4 * sizeof(*r));
    switch (leaf) {
    case 0x0: r[0] = 0xD; r[1] = SIG_AUTH; r[2] = SIG_CAMD; r[3] = SIG_ENTI; break;
    case 0x1:
        r[0] = 0x00A00F11;                                   /* family 19h model 1 stepping 1 */
        r[1] = (id & 0xFF) << 24 | (sys->n & 0xFF) << 16 | 8u << 8; /* APIC ID, count, CLFLUSH 64 */
        r[2] = 0x81B82201; /* SSE3 SSSE3 CX16 SSE4.1 SSE4.2 x2APIC POPCNT TSC-DEADLINE HYPERVISOR */
        r[3] = 0x178BFBFF; /* FPU..SSE2, APIC, TSC, MSR, PAE, PGE, CMOV, PAT, CLFSH, FXSR, HTT */
        break;
    case 0x6: r[0] = 1u << 2; break;                          /* ARAT */
    case 0x7: if (sub == 0) r[1] = 1u << 7 | 1u << 20; break;  /* SMEP, SMAP */
    case 0xB: {
        unsigned shift = log2_ceil(sys->n);
        if (sub == 0)
            r[0] = 0, r[1] = 1, r[2] = 1u << 8;              /* SMT level: one thread */
        else if (sub == 1)
            r[0] = shift, r[1] = sys->n, r[2] = 2u << 8 | 1; /* core level */
        else
            r[2] = sub & 0xFF;
        r[3] = id;
        break;
    }
    case 0x80000002: case 0x80000003: case 0x80000004: brand(leaf, r); break;
    case 0x40000000: r[0] = 0x40000001; r[1] = 0x72706e73; r[2] = 0x6d2d6665; r[3] = 0x6c65646f; break; /* "snpref-model" */
    case 0x80000000: r[0] = 0x8000001F; r[1] = SIG_AUTH; r[2] = SIG_CAMD; r[3] = SIG_ENTI; break;
    case 0x80000001:
        r[0] = 0x00A00F11;
        r[2] = 1u << 0 | 1u << 5 | 1u << 6;                   /* LAHF, ABM, SSE4A */
        r[3] = 1u << 11 | 1u << 20 | 1u << 26 | 1u << 27 | 1u << 29; /* SYSCALL NX 1G RDTSCP LM */
        break;
    case 0x80000007: r[3] = 1u << 8; break;                   /* invariant TSC */
    case 0x80000008: r[0] = 48u << 8 | HV_MAXPHYADDR; r[2] = (sys->n - 1) & 0xFF; break;
    case 0x8000001F: sev_cpuid_8000001f(sys, r); break;
    default: break; /* out of range and unknown leaves read as zeros (AMD) */
    }
    hv_msr_cpuid(leaf, sub, r); /* the bits that announce msr.c's registers */
}

static bool cpuid_table(const struct system *sys, unsigned vcpu, uint32_t leaf, uint32_t sub,
                        uint32_t out[4])
{
    for (unsigned i = 0; i < sys->cfg.ncpuid; i++) {
        const struct cpuid_entry *e = &sys->cfg.cpuid[i];
        if (e->leaf == leaf && (e->any_subleaf || e->subleaf == sub)) {
            out[0] = e->eax, out[1] = e->ebx, out[2] = e->ecx, out[3] = e->edx;
            return true;
        }
    }
    cpuid_default(sys, vcpu, leaf, sub, out);
    return false;
}

bool hv_cpuid_lookup(const struct system *sys, unsigned vcpu, uint32_t leaf, uint32_t sub,
                     uint32_t out[4])
{
    bool from_config = cpuid_table(sys, vcpu, leaf, sub, out);
    /* CPUID.1:EDX[9] is IA32_APIC_BASE.EN as the vCPU has it now (SDM 10.4.3;
     * KVM's kvm_update_cpuid_runtime does the same), whatever the table says. */
    if (leaf == 1 && sys->fab && !fab_apic_enabled(sys->fab, (int)vcpu))
        out[3] &= ~CPUID_1_EDX_APIC;
    return from_config;
}

static enum vcpu_action do_cpuid(struct slot *s, struct vcpu_exit *e)
{
    (void)e;
    uint32_t leaf = (uint32_t)vcpu_get(s->cpu, VR_RAX), sub = (uint32_t)vcpu_get(s->cpu, VR_RCX);
    uint32_t r[4];
    hv_cpuid_lookup(s->sys, s->idx, leaf, sub, r);
    vcpu_set(s->cpu, VR_RAX, r[0]);
    vcpu_set(s->cpu, VR_RBX, r[1]);
    vcpu_set(s->cpu, VR_RCX, r[2]);
    vcpu_set(s->cpu, VR_RDX, r[3]);
    TRC(s->sys->trace, cpuid, sys_now(s), (int)s->idx, leaf, sub, r[0], r[1], r[2], r[3]);
    return VCPU_NEXT;
}

/* ---- MSRs --------------------------------------------------------------------- */

#define MSR_TSC          0x10u

/* Returns true if the access is valid; *val in/out. */
bool hv_msr_access(struct slot *s, uint32_t msr, bool write, uint64_t *val)
{
    struct system *sys = s->sys;
    if (wire_fabric_msr(msr)) {
        enum fab_access r = write ? sys->fab->ops->msr_write(sys->fab, (int)s->idx, msr, *val)
                                  : sys->fab->ops->msr_read(sys->fab, (int)s->idx, msr, val);
        return r == FAB_OK;
    }
    if (msr == MSR_TSC) {
        if (write)
            s->tsc_offset = *val - (sys_tsc(s) - s->tsc_offset);
        else
            *val = sys_tsc(s);
        return true;
    }
    enum msr_result t = hv_msr_table_access(s, msr, write, val);
    if (t != MSR_MISS)
        return t == MSR_OK;
    if (write && !vcpu_msr_valid(s->cpu, msr, *val))
        return false;
    return write ? vcpu_msr_set(s->cpu, msr, *val) : vcpu_msr_get(s->cpu, msr, val);
}

uint64_t hv_msr_value(struct slot *s)
{
    return vcpu_get(s->cpu, VR_RDX) << 32 | (vcpu_get(s->cpu, VR_RAX) & 0xFFFFFFFFu);
}

enum vcpu_action hv_msr_done(struct slot *s, struct vcpu_exit *e, bool ok, bool write,
                             uint64_t val)
{
    if (!ok) {
        e->exc_vector = X86_GP, e->exc_has_error = true, e->exc_error = 0;
        return VCPU_RAISE;
    }
    if (!write) {
        vcpu_set(s->cpu, VR_RAX, val & 0xFFFFFFFFu);
        vcpu_set(s->cpu, VR_RDX, val >> 32);
    }
    return VCPU_NEXT;
}

static enum vcpu_action do_msr(struct slot *s, struct vcpu_exit *e)
{
    bool write = e->info1 == 1;
    uint32_t msr = (uint32_t)vcpu_get(s->cpu, VR_RCX);
    uint64_t val = write ? hv_msr_value(s) : 0;
    bool ok = hv_msr_access(s, msr, write, &val);
    TRC(s->sys->trace, msr, sys_now(s), (int)s->idx, write ? "wr" : "rd", msr, val, ok ? "ok" : "gp");
    return hv_msr_done(s, e, ok, write, val);
}

/* ---- CR8 ------------------------------------------------------------------------ */

/* CR8 <-> TPR (SDM 10.8.6.1; wires.c, shared with the replay). Under SEV-ES the hardware does
 * this without a #VC (a CR8 write is an automatic trap exit, a read comes
 * from V_TPR), so sev.c calls it too. */
enum vcpu_action hv_cr8(struct slot *s, struct vcpu_exit *e)
{
    bool write = e->code == SVM_EXIT_WRITE_CR8;
    bool ok = wire_cr8(s->sys->fab, (int)s->idx, write, &e->data);
    TRC(s->sys->trace, cr8, sys_now(s), (int)s->idx, write ? "wr" : "rd", e->data, ok ? "ok" : "gp");
    if (ok)
        return VCPU_NEXT;
    e->exc_vector = X86_GP, e->exc_has_error = true, e->exc_error = 0;
    return VCPU_RAISE;
}

/* ---- Port I/O ------------------------------------------------------------------ */

static void string_pio(void *ctx, struct vcpu *v, uint16_t port, uint8_t size, bool in,
                       uint64_t *data)
{
    (void)v;
    enum vcpu_action ignored = VCPU_NEXT;
    sys_pio(ctx, port, size, in, data, &ignored);
}

static enum vcpu_action do_ioio(struct slot *s, struct vcpu_exit *e)
{
    enum vcpu_action act = VCPU_NEXT;
    if (!e->string) {
        sys_pio(s, e->port, e->size, e->in, &e->data, &act);
        return act;
    }
    if (vcpu_string_io(s->cpu, e, string_pio, s) < 0)
        return VCPU_RAISE;
    return s->sys->done ? VCPU_STOP : VCPU_NEXT;
}

/* ---- Everything else ------------------------------------------------------------- */

bool hv_can_wake(struct slot *s)
{
    const struct system *sys = s->sys;
    bool nmi_blocked = vcpu_nmi_blocked(s->cpu);
    struct fab_event ev = sys->fab->ops->pending(sys->fab, (int)s->idx,
                                                 nmi_blocked ? FAB_SKIP_NMI : 0);
    switch (ev.kind) {
    case FAB_EV_FIXED:
    case FAB_EV_EXTINT: return vcpu_if(s->cpu) && eventinj_virq_allowed(s);
    case FAB_EV_NMI: return eventinj_virq_allowed(s);
    case FAB_EV_INIT: return true;
    default: return false;
    }
}

static enum vcpu_action do_other(struct slot *s, struct vcpu_exit *e)
{
    TRC(s->sys->trace, intercept, sys_now(s), (int)s->idx, e->code, e->name, e->rip);
    switch (e->code) {
    case SVM_EXIT_HLT:
        /* An event the vCPU can take ends the halt at once (the usual case
         * after `sti; hlt`: the shadow held it until HLT retired). */
        return hv_can_wake(s) ? VCPU_NEXT : VCPU_HALT;
    case SVM_EXIT_RDPMC: {
        uint64_t val;
        if (!hv_msr_rdpmc(s, (uint32_t)vcpu_get(s->cpu, VR_RCX), &val)) {
            e->exc_vector = X86_GP, e->exc_has_error = true, e->exc_error = 0;
            return VCPU_RAISE;
        }
        vcpu_set(s->cpu, VR_RAX, val & 0xFFFFFFFFu);
        vcpu_set(s->cpu, VR_RDX, val >> 32);
        return VCPU_NEXT;
    }
    case SVM_EXIT_VMMCALL:
    case SVM_EXIT_VMGEXIT:
        /* No hypercalls in plain mode: KVM answers an unknown one with
         * -KVM_ENOSYS (-1000) in RAX. VMGEXIT outside SEV-ES acts as VMMCALL. */
        vcpu_set(s->cpu, VR_RAX, (uint64_t)-1000);
        return VCPU_NEXT;
    case SVM_EXIT_WBINVD:
    case SVM_EXIT_INVD:
    case SVM_EXIT_MONITOR:
    case SVM_EXIT_MWAIT: /* MWAIT may return at any time: here, at once */
    default:
        return VCPU_NEXT;
    }
}

enum vcpu_action hv_intercept(struct slot *s, struct vcpu_exit *e)
{
    switch (e->code) {
    case SVM_EXIT_CPUID:
        return do_cpuid(s, e);
    case SVM_EXIT_MSR:
        return do_msr(s, e);
    case SVM_EXIT_IOIO:
        return do_ioio(s, e);
    case SVM_EXIT_READ_CR8:
    case SVM_EXIT_WRITE_CR8:
        return hv_cr8(s, e);
    case VCPU_INSN_RMPUPDATE:
    case VCPU_INSN_PSMASH:
        return hv_host_rmp(s, e);
    case SVM_EXIT_RDTSC:
    case SVM_EXIT_RDTSCP:
        e->data = sys_tsc(s);
        TRC(s->sys->trace, tsc, sys_now(s), (int)s->idx, e->name, e->data);
        return VCPU_NEXT;
    default:
        return do_other(s, e);
    }
}

/* ---- An SNP host's RMP instructions (psp.hardware_isolation; docs/psp.md) ------------------ */

/*
 * RMPUPDATE / PSMASH by a plain-mode guest that the config lets act as an SNP
 * host (Hyper-V's "hardware isolation" for an SNP-host VM): they run on the
 * PSP's RMP, the one the mailbox's LAUNCH_UPDATE checks, and RAX gets the
 * instruction's status (docs/sev-snp-facts.md 6.3). The rmp_state bytes are
 * Linux's struct rmp_state: gpa u64; assigned, pagesize, immutable u8;
 * reserved u8; asid u32. XXX(model): the host's own accesses are not checked
 * against the RMP in plain mode (a real CPU faults a host write to an
 * assigned page), so the RMP here is the firmware's view only.
 */
enum vcpu_action hv_host_rmp(struct slot *s, struct vcpu_exit *e)
{
    struct system *sys = s->sys;
    struct rmp *r = sys->sev && sys->sev->rmp ? sys->sev->rmp : sys->psp_rmp;
    SNP_ASSERT(r); /* host_rmp is granted only with the PSP device's RMP */
    uint64_t spa = e->info1, rc;
    if (e->code == VCPU_INSN_PSMASH) {
        rc = rmp_psmash(r, spa);
        TRC(sys->trace, psmash, sys_now(s), (int)s->idx, spa, rc);
    } else {
        uint8_t hi[8];
        memcpy(hi, &e->data, sizeof(hi));
        uint32_t asid;
        memcpy(&asid, hi + 4, sizeof(asid));
        struct rmp_state st = {e->info2, hi[0] & 1, hi[1] ? RMP_2M : RMP_4K, hi[2] & 1, asid};
        /* Reserved bits and sizes the instruction does not know: FAIL_INPUT. */
        rc = (hi[0] & ~1u) || hi[1] > 1 || (hi[2] & ~1u) || hi[3] ? RMP_FAIL_INPUT
                                                                  : rmp_update(r, spa, &st);
        TRC(sys->trace, rmpupdate, sys_now(s), (int)s->idx, spa, st.assigned, st.size, st.gpa,
            st.asid, rc);
    }
    cpu_shared_flush_tlbs(sys->cs);
    vcpu_set(s->cpu, VR_RAX, rc);
    return VCPU_NEXT;
}
