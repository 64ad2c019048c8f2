/* SPDX-License-Identifier: MIT */
/*
 * The NAE events the reference hypervisor answers through the GHCB
 * (docs/sev-snp-facts.md 5; KVM sev_es_validate_vmgexit + sev_handle_vmgexit). Each handler first
 * checks that the fields it needs are marked valid (GHCB_ERR_MISSING_INPUT)
 * and that its inputs make sense (GHCB_ERR_INVALID_INPUT), then runs the same
 * emulation plain mode uses (hv.c, devices.c, the fabric) and marks its
 * outputs valid. Nothing here reads guest registers.
 */
#include <inttypes.h>
#include <string.h>

#include "msr.h"
#include "psp.h"
#include "rmp.h"
#include "sev.h"

#define PAGE 4096ull
#define G(c, f) ((c)->in.save.f)
#define NEED(c, f)                                                                                 \
    do {                                                                                           \
        if (!ghcb_has(c, GHCB_BIT(f))) {                                                           \
            ghcb_error(c, GHCB_ERR_MISSING_INPUT);                                                 \
            return;                                                                                \
        }                                                                                          \
    } while (0)
#define PUT(c, f, v) ghcb_put(c, GHCB_BIT(f), (v))

static struct sev *S(struct ghcb_call *c) { return c->s->sys->sev; }
static struct system *SYS(struct ghcb_call *c) { return c->s->sys; }

/* An event this guest type cannot use (PSC, AP_CREATION without SNP; SAVIC
 * without Secure AVIC): KVM's sev_es_validate_vmgexit jumps to its error exit
 * with the reason still MISSING_INPUT; strict says INVALID_EVENT. */
static void wrong_guest_type(struct ghcb_call *c)
{
    ghcb_error(c, hv_kvm(SYS(c)) ? GHCB_ERR_MISSING_INPUT : GHCB_ERR_INVALID_EVENT);
}

/* ---- Instructions the guest's #VC handler forwards -------------------------------------- */

static void nae_cpuid(struct ghcb_call *c)
{
    NEED(c, rax);
    NEED(c, rcx);
    uint32_t leaf = (uint32_t)G(c, rax), sub = (uint32_t)G(c, rcx), r[4];
    if (leaf == 0xD)
        NEED(c, xcr0);
    hv_cpuid_lookup(SYS(c), c->s->idx, leaf, sub, r);
    TRC(SYS(c)->trace, cpuid, sys_now(c->s), (int)c->s->idx, leaf, sub, r[0], r[1], r[2], r[3]);
    PUT(c, rax, r[0]), PUT(c, rbx, r[1]), PUT(c, rcx, r[2]), PUT(c, rdx, r[3]);
}

static void nae_msr(struct ghcb_call *c)
{
    NEED(c, rcx);
    /* KVM: any non-zero SW_EXITINFO1 is a WRMSR (sev_es_validate_vmgexit); strict: the
     * spec defines 0 and 1 only. */
    bool write = c->info1 != 0;
    if (c->info1 > 1 && !hv_kvm(SYS(c))) {
        ghcb_error(c, GHCB_ERR_INVALID_INPUT);
        return;
    }
    if (write) {
        NEED(c, rax);
        NEED(c, rdx);
    }
    uint32_t msr = (uint32_t)G(c, rcx);
    uint64_t val = write ? (G(c, rdx) << 32 | (G(c, rax) & 0xFFFFFFFFu)) : 0;
    bool ok = hv_msr_access(c->s, msr, write, &val);
    TRC(SYS(c)->trace, msr, sys_now(c->s), (int)c->s->idx, write ? "wr" : "rd", msr, val,
        ok ? "ok" : "gp");
    if (!ok) {
        ghcb_inject_gp(c);
        return;
    }
    if (!write) {
        PUT(c, rax, val & 0xFFFFFFFFu);
        PUT(c, rdx, val >> 32);
    }
}

static void ioio_string(struct ghcb_call *c, uint16_t port, uint8_t size, bool in)
{
    uint64_t count = c->info2;
    struct scratch sc;
    /* The area (count x size bytes) obeys the scratch rules: at most 16 pages
     * outside the GHCB (KVM setup_vmgexit_scratch). */
    if (count > GHCB_SCRATCH_AREA_LIMIT / size) {
        ghcb_error(c, GHCB_ERR_INVALID_SCRATCH_AREA);
        return;
    }
    if (!ghcb_scratch(c, count * size, &sc))
        return;
    for (uint64_t i = 0; i < count && !SYS(c)->done; i++) {
        uint64_t data = 0;
        enum vcpu_action ignored = VCPU_NEXT;
        if (in) {
            sys_pio(c->s, port, size, true, &data, &ignored);
            if (!scratch_write(c, &sc, i * size, &data, size))
                return;
        } else {
            if (!scratch_read(c, &sc, i * size, &data, size))
                return;
            sys_pio(c->s, port, size, false, &data, &ignored);
        }
    }
}

static void nae_ioio(struct ghcb_call *c)
{
    uint64_t i1 = c->info1;
    uint16_t port = (uint16_t)(i1 >> SVM_IOIO_PORT_SHIFT);
    uint8_t size = (i1 & SVM_IOIO_SZ32) ? 4 : (i1 & SVM_IOIO_SZ16) ? 2 : (i1 & SVM_IOIO_SZ8) ? 1 : 0;
    bool in = i1 & SVM_IOIO_TYPE_IN;
    if (!size) {
        ghcb_error(c, GHCB_ERR_INVALID_INPUT);
        return;
    }
    if (i1 & SVM_IOIO_STR) {
        NEED(c, sw_scratch);
        ioio_string(c, port, size, in);
        return;
    }
    uint64_t data = 0, mask = size == 4 ? 0xFFFFFFFFull : (1ull << (size * 8)) - 1;
    if (!in) {
        NEED(c, rax);
        data = G(c, rax) & mask;
    }
    enum vcpu_action act = VCPU_NEXT;
    sys_pio(c->s, port, size, in, &data, &act);
    if (act == VCPU_STOP)
        c->stop = true;
    if (in)
        PUT(c, rax, data & mask);
}

static void nae_mmio(struct ghcb_call *c, bool write)
{
    NEED(c, sw_scratch);
    uint64_t gpa = c->info1, len = c->info2;
    struct scratch sc;
    /* KVM checks the scratch area (length info2) before anything else. */
    if (!ghcb_scratch(c, len, &sc))
        return;
    if (len == 0 || len > 8 || (len & (len - 1))) {
        ghcb_error(c, GHCB_ERR_INVALID_INPUT);
        return;
    }
    uint64_t val = 0;
    if (write) {
        if (!scratch_read(c, &sc, 0, &val, len))
            return;
        sys_mmio(c->s, gpa, (unsigned)len, true, &val);
    } else {
        sys_mmio(c->s, gpa, (unsigned)len, false, &val);
        scratch_write(c, &sc, 0, &val, len);
    }
}

static void nae_dr7(struct ghcb_call *c, bool write)
{
    if (write) {
        NEED(c, rax);
        c->s->sev.dr7 = G(c, rax);
    } else {
        PUT(c, rax, c->s->sev.dr7);
    }
}

static void nae_rdtsc(struct ghcb_call *c, bool p)
{
    uint64_t tsc = sys_tsc(c->s);
    TRC(SYS(c)->trace, tsc, sys_now(c->s), (int)c->s->idx, p ? "rdtscp" : "rdtsc", tsc);
    PUT(c, rax, tsc & 0xFFFFFFFFu);
    PUT(c, rdx, tsc >> 32);
    if (p) {
        /* KVM answers RCX from its own copy of TSC_AUX, which is what the
         * guest wrote: the model's engine holds the same value. */
        uint64_t aux = 0;
        vcpu_msr_get(c->s->cpu, 0xC0000103, &aux);
        PUT(c, rcx, aux & 0xFFFFFFFFu);
    }
}

static void nae_rdpmc(struct ghcb_call *c)
{
    NEED(c, rcx);
    uint64_t val;
    if (!hv_msr_rdpmc(c->s, (uint32_t)G(c, rcx), &val)) { /* as in plain mode */
        ghcb_inject_gp(c);
        return;
    }
    PUT(c, rax, val & 0xFFFFFFFFu), PUT(c, rdx, val >> 32);
}

static void nae_simple(struct ghcb_call *c, const char *name)
{
    if (c->code == SVM_EXIT_MONITOR || c->code == SVM_EXIT_MWAIT) {
        NEED(c, rax);
        NEED(c, rcx);
    }
    if (c->code == SVM_EXIT_MONITOR)
        NEED(c, rdx);
    TRC(SYS(c)->trace, intercept, sys_now(c->s), (int)c->s->idx, c->code, name, 0);
}

static void nae_vmmcall(struct ghcb_call *c)
{
    NEED(c, rax);
    NEED(c, cpl);
    /* No hypercalls: KVM's answer to an unknown one is -KVM_ENOSYS. */
    PUT(c, rax, (uint64_t)-1000);
}

/* ---- Software-defined events -------------------------------------------------------------- */

static void nae_ap_jump_table(struct ghcb_call *c)
{
    if (c->info1 == SVM_VMGEXIT_SET_AP_JUMP_TABLE)
        S(c)->ap_jump_table = c->info2;
    else if (c->info1 == SVM_VMGEXIT_GET_AP_JUMP_TABLE)
        c->res2 = S(c)->ap_jump_table;
    else
        ghcb_error(c, GHCB_ERR_INVALID_INPUT);
}

/* One RMPUPDATE of a PSC entry; a 4 KiB page inside a 2 MiB entry is split
 * first, as KVM's host does before it converts a sub-page. */
static enum rmp_rc psc_update(struct sev *sev, uint64_t gpa, bool priv, bool two_m)
{
    struct rmp_state st = {priv ? gpa : 0, priv, two_m ? RMP_2M : RMP_4K, false, priv ? sev->asid : 0};
    enum rmp_rc rc = rmp_update(sev->rmp, gpa, &st);
    if (rc == RMP_FAIL_OVERLAP && !two_m) {
        rmp_psmash(sev->rmp, gpa & ~((2ull << 20) - 1));
        rc = rmp_update(sev->rmp, gpa, &st);
    } else if (rc == RMP_FAIL_OVERLAP && two_m) {
        /* 4 KiB entries already there: change them one by one. */
        st.size = RMP_4K;
        rc = RMP_OK;
        for (uint64_t a = gpa; a < gpa + (2ull << 20) && rc == RMP_OK; a += PAGE) {
            st.gpa = priv ? a : 0;
            rc = rmp_update(sev->rmp, a, &st);
        }
    }
    return rc;
}

static const char *psc_op_name(unsigned op)
{
    static const char *const n[] = {"unknown", "private", "shared", "psmash", "unsmash"};
    return op < 5 ? n[op] : "unknown";
}

/* The pages [first, first + n) of entry e, from its cur_page on. Returns the
 * error for SW_EXITINFO2, or 0 when the entry is done. */
static uint64_t psc_run(struct ghcb_call *c, uint64_t e, uint64_t first, uint64_t n)
{
    struct sev *sev = S(c);
    bool kvm = hv_kvm(SYS(c)), two_m = PSC_ENTRY_2M(e) && first == PSC_ENTRY_GFN(e);
    unsigned op = (unsigned)PSC_ENTRY_OP(e);
    uint64_t gpa = first << 12;
    enum rmp_rc rc = RMP_OK;
    if (op != PSC_OP_PRIVATE && op != PSC_OP_SHARED) {
        /* KVM completes every other operation without acting (snp_begin_psc);
         * strict runs PSMASH, completes UNSMASH and refuses the undefined ones. */
        if (!kvm && op == PSC_OP_PSMASH && PSC_ENTRY_2M(e))
            rc = rmp_psmash(sev->rmp, gpa);
        else if (!kvm && op != PSC_OP_PSMASH && op != PSC_OP_UNSMASH)
            return PSC_ERR_INVALID_ENTRY;
    } else if (gpa + n * PAGE > SYS(c)->mem.size) {
        /* KVM's userspace cannot convert it: the generic error. */
        return kvm ? PSC_ERR_GENERIC : PSC_ERR_INVALID_ENTRY;
    } else if (two_m) {
        rc = psc_update(sev, gpa, op == PSC_OP_PRIVATE, true);
    } else {
        for (uint64_t i = 0; i < n && rc == RMP_OK; i++)
            rc = psc_update(sev, gpa + i * PAGE, op == PSC_OP_PRIVATE, false);
    }
    TRC(SYS(c)->trace, psc, sys_now(c->s), (int)c->s->idx, gpa, psc_op_name(op), two_m, rc);
    if (rc == RMP_OK)
        return 0;
    return PSC_ERR_GENERIC | (kvm ? 0 : rc); /* strict: the RMP code in [31:0] */
}

/* One entry (KVM snp_begin_psc): cur_page says how many pages are done. */
static bool psc_entry(struct ghcb_call *c, uint64_t *e, uint64_t *err)
{
    uint64_t npages = PSC_ENTRY_2M(*e) ? 512 : 1, gfn = PSC_ENTRY_GFN(*e);
    uint64_t cur = PSC_ENTRY_CUR_PAGE(*e);
    if (cur > npages || (gfn & (npages - 1))) {
        *err = PSC_ERR_INVALID_ENTRY;
        return false;
    }
    if (cur < npages && (*err = psc_run(c, *e, gfn + cur, npages - cur)) != 0)
        return false;
    *e = (*e & ~0xFFFull) | npages; /* cur_page: done */
    return true;
}

static void nae_psc(struct ghcb_call *c)
{
    if (!S(c)->snp) {
        wrong_guest_type(c);
        return;
    }
    NEED(c, sw_scratch);
    struct scratch sc;
    struct psc_hdr h;
    if (!ghcb_scratch(c, sizeof(h), &sc) || !scratch_read(c, &sc, 0, &h, sizeof(h)))
        return;
    /* KVM: cur_entry past end_entry is nothing to do; strict: a bad header. */
    if (h.end_entry >= VMGEXIT_PSC_MAX_COUNT || (h.cur_entry > h.end_entry && !hv_kvm(SYS(c)))) {
        c->res2 = PSC_ERR_INVALID_HDR;
        return;
    }
    if (!ghcb_scratch(c, sizeof(h) + 8ull * (h.end_entry + 1u), &sc))
        return;
    uint64_t err = 0;
    for (; h.cur_entry <= h.end_entry; h.cur_entry++) {
        uint64_t e;
        scratch_read(c, &sc, sizeof(h) + 8ull * h.cur_entry, &e, 8);
        if (!psc_entry(c, &e, &err))
            break;
        scratch_write(c, &sc, sizeof(h) + 8ull * h.cur_entry, &e, 8);
    }
    scratch_write(c, &sc, 0, &h, sizeof(h));
    cpu_shared_flush_tlbs(SYS(c)->cs);
    c->res2 = err;
}

static void nae_ap_creation(struct ghcb_call *c);
static void nae_guest_request(struct ghcb_call *c);
static void nae_savic(struct ghcb_call *c);

static void nae_term(struct ghcb_call *c)
{
    /* GHCB spec 4.1.13: SW_EXITINFO1[3:0] the reason set, [11:4] the code. */
    char why[160];
    snprintf(why, sizeof(why), "vCPU %u: guest requested termination (NAE): reason set %" PRIu64
             ", code %" PRIu64, c->s->idx, c->info1 & 0xF, (c->info1 >> 4) & 0xFF);
    sys_finish(SYS(c), SNPREF_SHUTDOWN, (int)c->s->idx, vcpu_get(c->s->cpu, VR_RIP), why);
    c->stop = true;
}

bool nae_dispatch(struct ghcb_call *c)
{
    switch (c->code) {
    case SVM_EXIT_CPUID: nae_cpuid(c); return true;
    case SVM_EXIT_MSR: nae_msr(c); return true;
    case SVM_EXIT_IOIO: nae_ioio(c); return true;
    case SVM_VMGEXIT_MMIO_READ: nae_mmio(c, false); return true;
    case SVM_VMGEXIT_MMIO_WRITE: nae_mmio(c, true); return true;
    case SVM_EXIT_READ_DR7: nae_dr7(c, false); return true;
    case SVM_EXIT_WRITE_DR7: nae_dr7(c, true); return true;
    case SVM_EXIT_RDTSC: nae_rdtsc(c, false); return true;
    case SVM_EXIT_RDTSCP: nae_rdtsc(c, true); return true;
    case SVM_EXIT_RDPMC: nae_rdpmc(c); return true;
    case SVM_EXIT_WBINVD: nae_simple(c, "wbinvd"); return true;
    case SVM_EXIT_INVD: nae_simple(c, "invd"); return true;
    case SVM_EXIT_MONITOR: nae_simple(c, "monitor"); return true;
    case SVM_EXIT_MWAIT: nae_simple(c, "mwait"); return true;
    case SVM_EXIT_VMMCALL: nae_vmmcall(c); return true;
    case SVM_VMGEXIT_NMI_COMPLETE: vcpu_nmi_unblock(c->s->cpu); return true;
    case SVM_VMGEXIT_AP_HLT_LOOP: c->park = true; return true;
    case SVM_VMGEXIT_AP_JUMP_TABLE: nae_ap_jump_table(c); return true;
    case SVM_VMGEXIT_PSC: nae_psc(c); return true;
    case SVM_VMGEXIT_AP_CREATION: nae_ap_creation(c); return true;
    case SVM_VMGEXIT_SAVIC:
        if (!SYS(c)->fab->ops->backing_page)
            wrong_guest_type(c); /* not a Secure AVIC guest */
        else
            nae_savic(c);
        return true;
    case SVM_VMGEXIT_HV_FEATURES: c->res2 = hv_features(SYS(c)); return true;
    case SVM_VMGEXIT_TERM_REQUEST: nae_term(c); return true;
    case SVM_VMGEXIT_GUEST_REQUEST:
    case SVM_VMGEXIT_EXT_GUEST_REQUEST: nae_guest_request(c); return true;
    case SVM_VMGEXIT_UNSUPPORTED:
        /* KVM fails the run ("vmgexit: unsupported event"); strict answers it as an event
         * it does not handle. */
        if (!hv_kvm(SYS(c)))
            return false;
        ghcb_fail_run(c->s, "the guest reported an unsupported event (0x8000FFFF)");
        c->stop = true;
        return true;
    default:
        return false;
    }
}

/* ---- AP creation (docs/sev-snp-facts.md 10.2; KVM sev_snp_ap_creation) ----------------------- */

static const char *const ap_req_name[] = {"create_on_init", "create", "destroy"};

static struct slot *slot_by_apic_id(struct system *sys, uint32_t id)
{
    for (unsigned i = 0; i < sys->n; i++)
        if (sys->apic_ids[i] == id)
            return &sys->slots[i];
    return NULL;
}

/* Why the request is refused, or NULL. */
static const char *ap_check(struct ghcb_call *c, unsigned req, struct slot *t, uint64_t gpa)
{
    struct system *sys = SYS(c);
    struct sev *sev = S(c);
    if (!t)
        return "no vCPU has that APIC ID";
    if (req == SVM_VMGEXIT_AP_DESTROY)
        return NULL;
    uint64_t rax = G(c, rax);
    if (sys->cfg.sev.ap_features == AP_FEATURES_EXACT ? rax != sev->sev_features
                                                      : ((rax ^ sev->sev_features) & SEV_FEAT_INT_INJ_MODES))
        return "SEV_FEATURES in RAX differ from the VM's";
    if ((gpa & (PAGE - 1)) || gpa >= sys->mem.size)
        return "VMSA GPA is not a page in RAM";
    if (!(gpa & ((2ull << 20) - 1)))
        return "VMSA GPA is 2 MiB-aligned (erratum)";
    struct rmp_entry e;
    if (!rmp_lookup(sev->rmp, gpa, &e) || !e.assigned || e.asid != sev->asid || !e.vmsa)
        return "the page is not a VMSA page of this guest in the RMP";
    bool running = t->sev.vmsa != SEV_NONE && t->st != VS_OFF;
    if (running && sys->cfg.sev.ap_create == AP_CREATE_STRICT)
        return "the vCPU already runs (strict policy)";
    return NULL;
}

static void nae_ap_creation(struct ghcb_call *c)
{
    struct system *sys = SYS(c);
    unsigned req = (unsigned)(c->info1 & 0xFFFFFFFFu);
    uint32_t apic_id = (uint32_t)(c->info1 >> 32);
    uint64_t gpa = c->info2;
    if (!S(c)->snp) {
        wrong_guest_type(c);
        return;
    }
    if (req != SVM_VMGEXIT_AP_DESTROY)
        NEED(c, rax);
    struct slot *t = slot_by_apic_id(sys, apic_id);
    const char *why = req > SVM_VMGEXIT_AP_DESTROY ? "unknown request" : ap_check(c, req, t, gpa);
    TRC(sys->trace, ap_create, sys_now(c->s), (int)c->s->idx,
        req <= SVM_VMGEXIT_AP_DESTROY ? ap_req_name[req] : "unknown", apic_id, gpa,
        ghcb_has(c, GHCB_BIT(rax)) ? G(c, rax) : 0, why ? why : "ok");
    if (why) {
        ghcb_error(c, GHCB_ERR_INVALID_INPUT);
        return;
    }
    sev_ap_create(t, req, gpa);
}

/* ---- Secure AVIC backing page (docs/sev-snp-facts.md 7.7; KVM's Secure AVIC NAE handler) ----- */

#define SAVIC_SELF UINT64_MAX /* RAX ~0: the calling vCPU (SVM_VMGEXIT_SAVIC_SELF_GPA) */

/* KVM breaks a 2 MiB RMP entry over the page, so that the large-page splits it
 * does later never unmap the backing page the hardware relies on. */
static void savic_psmash(struct ghcb_call *c, uint64_t gpa)
{
    struct sev *sev = S(c);
    struct rmp_entry e;
    uint64_t base = gpa & ~((2ull << 20) - 1);
    if (!rmp_lookup(sev->rmp, gpa, &e) || e.size != RMP_2M)
        return;
    enum rmp_rc rc = rmp_psmash(sev->rmp, base);
    TRC(SYS(c)->trace, psmash, sys_now(c->s), (int)c->s->idx, base, rc);
    cpu_shared_flush_tlbs(SYS(c)->cs);
}

static void nae_savic(struct ghcb_call *c)
{
    struct system *sys = SYS(c);
    bool reg = c->info1 == 0;
    NEED(c, rax);
    if (reg)
        NEED(c, rbx);
    uint64_t rax = G(c, rax), gpa = reg ? G(c, rbx) : 0;
    struct slot *t = rax == SAVIC_SELF ? c->s
                     : rax <= UINT32_MAX ? slot_by_apic_id(sys, (uint32_t)rax) : NULL;
    const char *why = c->info1 > 1 ? "unknown request (0 register, 1 unregister)"
                      : !t          ? "RAX names no vCPU"
                      : reg && ((gpa & (PAGE - 1)) || gpa >= sys->mem.size)
                          ? "the GPA is not a page in RAM"
                          : NULL;
    if (!why && reg)
        savic_psmash(c, gpa);
    if (!why && sys->fab->ops->backing_page(sys->fab, (int)t->idx, reg, &gpa) < 0)
        why = "refused by the fabric";
    TRC(sys->trace, savic_page, sys_now(c->s), (int)c->s->idx, reg ? "register" : "unregister",
        t ? (int)t->idx : -1, gpa, why ? why : "ok");
    if (why) {
        ghcb_error(c, GHCB_ERR_INVALID_INPUT);
        return;
    }
    if (!reg)
        PUT(c, rbx, gpa);
}

/* ---- SNP guest messages (docs/attestation.md; KVM snp_handle_guest_req, snp_handle_ext_guest_req) -- */

static void nae_guest_request(struct ghcb_call *c)
{
    /* KVM's sev_es_validate_vmgexit: SNP only, both GPAs page-aligned and distinct. */
    if (!S(c)->snp || (c->info1 & (PAGE - 1)) || (c->info2 & (PAGE - 1)) || c->info1 == c->info2) {
        if (!S(c)->snp)
            wrong_guest_type(c);
        else
            ghcb_error(c, hv_kvm(SYS(c)) ? GHCB_ERR_MISSING_INPUT : GHCB_ERR_INVALID_INPUT);
        return;
    }
    sev_guest_request(c);
}
