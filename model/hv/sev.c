/* SPDX-License-Identifier: MIT */
/*
 * SEV-ES / SNP: set-up and launch, the intercept policy, VMRUN, INIT/SIPI and
 * #NPF (see sev.h). The GHCB protocols are in ghcb.c and nae.c.
 */
#include "sev.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acpi.h"
#include "eventinj.h"
#include "hostile.h"
#include "keys.h"
#include "linux.h"
#include "psp.h"
#include "rmp.h"
#include "snpref/base.h"

#define PAGE 4096ull

static struct sev *S(struct slot *s) { return s->sys->sev; }

void sev_cpuid_8000001f(const struct system *sys, uint32_t r[4])
{
    const struct sev *sev = sys->sev;
    /* EAX: SEV, SEV-ES, SNP when running those; EBX[5:0] C-bit, [11:6] physical
     * address bits lost to encryption (1 here); ECX: encrypted guests; EDX: the
     * first ASID for plain SEV, so 1..EDX-1 are SEV-ES/SNP ASIDs (docs/sev-snp-facts.md 1). */
    r[0] = CPUID_8000001F_SEV | CPUID_8000001F_SEV_ES | (sev && sev->snp ? CPUID_8000001F_SNP : 0);
    /* Bit 26: Secure AVIC, reported when the VM has it (docs/sev-snp-facts.md 7). */
    if (sev && (sev->sev_features & SEV_FEAT_SECURE_AVIC))
        r[0] |= CPUID_8000001F_SAVIC;
    r[1] = 51u | 1u << 6;
    r[2] = 1023;
    r[3] = 100;
    /* A plain guest that may act as an SNP host (psp.hardware_isolation) sees
     * the host's view: SEV, SEV-ES and SNP supported, the C-bit and ASID
     * counts, as the seed's L1 does (docs/psp.md). */
    if (!sev && !sys->cfg.psp.hardware_isolation)
        r[0] = r[1] = r[2] = r[3] = 0;
    else if (!sev)
        r[0] = CPUID_8000001F_SEV | CPUID_8000001F_SEV_ES | CPUID_8000001F_SNP;
}

/* ---- The launch ------------------------------------------------------------------ */

/* An SEV-ES AP of a Linux boot starts in the firmware's AP stub (linux.c):
 * real mode at CS:IP = LINUX_AP_STUB_CS:0 with DS on the jump table page, the
 * reset state otherwise (APM vol. 2 14.1.3: CR0 0x60000010), EFER.SVME. */
static void build_ap_stub_vmsa(struct system *sys, struct sev_vmsa *a)
{
    memset(a, 0, sizeof(*a));
    const struct vmcb_seg code = {LINUX_AP_STUB_CS, 0x9B, 0xFFFF, (uint64_t)LINUX_AP_STUB_CS << 4};
    const struct vmcb_seg jt = {LINUX_AP_JUMP_DS, 0x93, 0xFFFF, (uint64_t)LINUX_AP_JUMP_DS << 4};
    const struct vmcb_seg data = {0, 0x93, 0xFFFF, 0};
    a->cs = code;
    a->ds = jt;
    a->es = a->ss = a->fs = a->gs = data;
    a->gdtr = (struct vmcb_seg){0, 0, 0xFFFF, 0};
    a->idtr = (struct vmcb_seg){0, 0, 0xFFFF, 0};
    a->ldtr = (struct vmcb_seg){0, 0x82, 0xFFFF, 0};
    a->tr = (struct vmcb_seg){0, 0x8B, 0xFFFF, 0};
    a->efer = 1ull << 12;
    a->cr0 = 0x60000010;
    a->rflags = 2;
    a->dr7 = 0x400, a->dr6 = 0xFFFF0FF0;
    a->g_pat = sys->cfg.sev.launch_pat;
    a->xcr0 = 1, a->mxcsr = 0x1F80, a->x87_fcw = 0x37F;
    a->sev_features = sys->sev->sev_features;
    a->vintr_ctrl = VINTR_V_GIF | VINTR_V_NMI_ENABLE;
}

/* The initial VMSA of vCPU i: the entry state of docs/guest-abi.md. */
static void build_vmsa(struct system *sys, unsigned i, struct sev_vmsa *a)
{
    if (sys->kernel_boot && i > 0) {
        build_ap_stub_vmsa(sys, a);
        return;
    }
    struct vcpu_boot b;
    sys_boot_state(sys, i, sys->entry, &b);
    memset(a, 0, sizeof(*a));
    /* The selectors are the boot state's: the SDK's GDT (0x08/0x10) or, for a
     * Linux boot, boot.rst's __BOOT_CS/__BOOT_DS (0x10/0x18). */
    const struct vmcb_seg code = {b.cs, 0xA9B, 0xFFFFFFFF, 0}, data = {b.ds, 0xC93, 0xFFFFFFFF, 0};
    a->cs = code;
    a->ds = a->es = a->ss = a->fs = a->gs = data;
    a->gdtr = (struct vmcb_seg){0, 0, b.gdt_limit, b.gdt_base};
    a->ldtr = (struct vmcb_seg){0, 0x82, 0xFFFF, 0};
    a->tr = (struct vmcb_seg){0, 0x8B, 0xFFFF, 0};
    a->efer = b.efer | (1ull << 12); /* SVME: VMRUN requires it in the guest's EFER */
    a->cr0 = b.cr0, a->cr3 = b.cr3, a->cr4 = b.cr4;
    a->rflags = b.rflags, a->rip = b.rip, a->rsp = b.rsp, a->rdi = b.rdi, a->rsi = b.rsi;
    a->dr7 = 0x400, a->dr6 = 0xFFFF0FF0;
    a->g_pat = sys->cfg.sev.launch_pat;
    a->xcr0 = 1, a->mxcsr = 0x1F80, a->x87_fcw = 0x37F;
    a->sev_features = sys->sev->sev_features;
    a->vintr_ctrl = VINTR_V_GIF | VINTR_V_NMI_ENABLE;
}

struct launch {
    struct system *sys;
    uint64_t gctx;
    uint32_t status;
    const char *what;
    FILE *pages; /* run --measured-pages, or NULL */
    bool pages_failed;
};

/* One page through RMPUPDATE (pre-guest, as KVM leaves it) and LAUNCH_UPDATE. */
static void launch_page(struct launch *L, uint64_t gpa, enum snp_page_type type, uint64_t rmp_gpa)
{
    struct system *sys = L->sys;
    if (L->status != SEV_RET_SUCCESS)
        return;
    if (L->pages) {
        /* The plaintext the PSP is about to measure (and encrypt in place). */
        uint8_t page[PAGE];
        SNP_ASSERT(mem_read(&sys->mem, gpa, page, PAGE));
        L->pages_failed |= fwrite(page, 1, PAGE, L->pages) != PAGE;
    }
    struct rmp_state st = {rmp_gpa, true, RMP_4K, true, sys->sev->asid};
    if (rmp_update(sys->sev->rmp, gpa, &st) != RMP_OK) {
        L->status = SEV_RET_INVALID_PAGE_STATE;
        L->what = "RMPUPDATE before LAUNCH_UPDATE failed";
        return;
    }
    struct psp_snp_launch_update u = {.gctx_paddr = L->gctx, .flags = PSP_UPDATE_TYPE(type),
                                      .address = gpa};
    L->status = psp_command(sys->sev->psp, SEV_CMD_SNP_LAUNCH_UPDATE, &u, 0);
    if (L->status != SEV_RET_SUCCESS)
        L->what = psp_why(sys->sev->psp);
}

static void launch_loader_page(void *ctx, uint64_t gpa)
{
    launch_page(ctx, gpa, SNP_PAGE_TYPE_NORMAL, gpa);
}

static void launch_segment(void *ctx, uint64_t start, uint64_t end)
{
    struct launch *L = ctx;
    for (uint64_t a = start & ~(PAGE - 1); a < end; a += PAGE) {
        struct rmp_entry e;
        /* Two segments may share a page: measure it once. */
        if (rmp_lookup(L->sys->sev->rmp, a, &e) && e.assigned)
            continue;
        launch_page(L, a, SNP_PAGE_TYPE_NORMAL, a);
    }
}

/* The CPUID page: the model's CPUID answers for the leaves a guest trusts it for. */
static void fill_cpuid_page(struct system *sys, uint64_t gpa)
{
    static const uint32_t leaves[][2] = {
        {0x0, 0},        {0x1, 0},        {0x6, 0},        {0x7, 0},        {0xB, 0},
        {0xB, 1},        {0xD, 0},        {0xD, 1},        {0x80000000, 0}, {0x80000001, 0},
        {0x80000002, 0}, {0x80000003, 0}, {0x80000004, 0}, {0x80000007, 0}, {0x80000008, 0},
        {0x8000001F, 0}, {0x80000021, 0},
    };
    struct psp_cpuid_page pg;
    memset(&pg, 0, sizeof(pg));
    for (size_t i = 0; i < ARRAY_SIZE(leaves); i++) {
        uint32_t r[4];
        hv_cpuid_lookup(sys, 0, leaves[i][0], leaves[i][1], r);
        pg.fn[i] = (struct psp_cpuid_fn){leaves[i][0], leaves[i][1], 1, 0, r[0], r[1], r[2], r[3], 0};
    }
    uint32_t n = (uint32_t)ARRAY_SIZE(leaves);
    /* The hypervisor range too, as QEMU's table for a KVM guest has it
     * (sev_snp_cpuid_info_fill copies every KVM leaf): Linux's snp_cpuid()
     * reads 0x40000000.EAX from the table as the range's top, so a leaf the
     * table lacks there reads as zero and no hypervisor is found (a config's
     * "KVMKVMKVM" signature, docs/guest-abi.md "Linux's Secure AVIC driver", needs it). */
    uint32_t hyp_top = 0x40000000;
    for (uint32_t leaf = 0x40000000; leaf <= hyp_top && n < PSP_CPUID_COUNT_MAX; leaf++) {
        uint32_t r[4];
        hv_cpuid_lookup(sys, 0, leaf, 0, r);
        if (leaf == 0x40000000 && r[0] > leaf && r[0] <= 0x400000FF)
            hyp_top = r[0];
        pg.fn[n++] = (struct psp_cpuid_fn){leaf, 0, 1, 0, r[0], r[1], r[2], r[3], 0};
    }
    pg.count = n;
    SNP_ASSERT(mem_write(&sys->mem, gpa, &pg, sizeof(pg)));
}

/*
 * The guest RAM a Linux boot's firmware leaves validated: every page below
 * the reserved launch area that the launch did not already make private is
 * assigned to the guest (the host's RMPUPDATE) and validated (the firmware's
 * PVALIDATE), as OVMF does for all the RAM it reports to a kernel without
 * unaccepted-memory support (Linux 6.1 has none: it never PVALIDATEs RAM
 * from the e820 map itself). The pages are not measured.
 */
static void validate_guest_ram(struct system *sys)
{
    struct sev *sev = sys->sev;
    uint64_t end = sys->linux_pl.fw_base;
    for (uint64_t a = 0; a < end; a += PAGE) {
        struct rmp_entry e;
        if (rmp_lookup(sev->rmp, a, &e) && e.assigned)
            continue;
        struct rmp_state st = {a, true, RMP_4K, false, sev->asid};
        SNP_ASSERT(rmp_update(sev->rmp, a, &st) == RMP_OK);
        struct rmp_result r = rmp_pvalidate(sev->rmp, sev->asid, 0, a, 0, true);
        SNP_ASSERT(r.rc == RMP_OK && !r.npf);
    }
}

static int snp_launch(struct system *sys, char *err, size_t errlen)
{
    struct sev *sev = sys->sev;
    struct psp_config pc;
    psp_config_default(&pc);
    pc.seed = sys->cfg.sev.key_seed;
    pc.smt_enabled = sys->cfg.sev.policy & SNP_POLICY_SMT;
    pc.cert_dir = sys->cfg.attestation.cert_dir;
    sev->psp = psp_create(&sys->mem, sev->rmp, sys->trace, &pc);
    SNP_ASSERT(sev->psp);
    struct launch L = {sys, 0, SEV_RET_SUCCESS, "", NULL, false};
    if (sys->measured_pages_path && !(L.pages = fopen(sys->measured_pages_path, "wb"))) {
        snprintf(err, errlen, "%s: cannot write the measured pages: %s", sys->measured_pages_path,
                 strerror(errno));
        return -1;
    }
    /* The platform first, as Linux's ccp driver does at module load
     * (__sev_snp_init_locked), through the one state machine the mailbox
     * face shares (psp.h psp_client). */
    L.status = psp_command(sev->psp, SEV_CMD_SNP_INIT, NULL, 0);
    struct psp_snp_addr ga = {0};
    if (L.status == SEV_RET_SUCCESS)
        L.status = psp_command(sev->psp, SEV_CMD_SNP_GCTX_CREATE, &ga, 0);
    L.gctx = ga.gctx_paddr;
    struct psp_snp_launch_start ls = {.gctx_paddr = L.gctx, .policy = sys->cfg.sev.policy};
    if (L.status == SEV_RET_SUCCESS)
        L.status = psp_command(sev->psp, SEV_CMD_SNP_LAUNCH_START, &ls, 0);
    struct psp_snp_activate act = {L.gctx, sev->asid};
    if (L.status == SEV_RET_SUCCESS)
        L.status = psp_command(sev->psp, SEV_CMD_SNP_ACTIVATE, &act, 0);
    if (L.status != SEV_RET_SUCCESS)
        L.what = psp_why(sev->psp);
    const struct boot_layout *l = &sys->layout;
    if (sys->kernel_boot) {
        /* What the Linux loader wrote, measured as it lies in RAM (the ACPI
         * area, with any ASPT, among it). */
        linux_for_each_loaded_range(&sys->linux_pl, launch_segment, &L);
    } else {
        loader_for_each_segment(&sys->img, launch_segment, &L);
        loader_for_each_page(l, launch_loader_page, &L);
        /* The ACPI tables a PSP device's ASPT came with (docs/psp.md "ASPT"). */
        for (uint64_t a = 0; sys->bootinfo.acpi_rsdp && a < ACPI_AREA_SIZE; a += PAGE)
            launch_page(&L, ACPI_AREA_BASE + a, SNP_PAGE_TYPE_NORMAL, ACPI_AREA_BASE + a);
        for (unsigned i = 0; i < sys->n; i++)
            for (uint64_t a = l->stack_top_base - (i + 1) * l->stack_size;
                 a < l->stack_top_base - i * l->stack_size; a += PAGE)
                launch_page(&L, a, SNP_PAGE_TYPE_ZERO, a);
    }
    launch_page(&L, l->secrets, SNP_PAGE_TYPE_SECRETS, l->secrets);
    fill_cpuid_page(sys, l->cpuid);
    launch_page(&L, l->cpuid, SNP_PAGE_TYPE_CPUID, l->cpuid);
    /* The VMSAs last, in vCPU order, as KVM's LAUNCH_FINISH measures them; every
     * one at the same GPA (docs/sev-snp-facts.md 8.2), so the digest says how
     * many vCPUs launched and in what state, not where their pages are. */
    for (unsigned i = 0; i < sys->n; i++)
        if (sys->slots[i].sev.next_vmsa != SEV_NONE)
            launch_page(&L, sys->slots[i].sev.next_vmsa, SNP_PAGE_TYPE_VMSA, SNP_VMSA_MEASURE_GPA);
    struct psp_snp_launch_finish fin = {.gctx_paddr = L.gctx};
    if (L.status == SEV_RET_SUCCESS) {
        L.status = psp_command(sev->psp, SEV_CMD_SNP_LAUNCH_FINISH, &fin, 0);
        L.what = psp_why(sev->psp);
    }
    if (L.pages) {
        L.pages_failed |= fclose(L.pages) != 0;
        if (L.pages_failed || L.status != SEV_RET_SUCCESS)
            remove(sys->measured_pages_path);
        if (L.pages_failed && L.status == SEV_RET_SUCCESS) {
            snprintf(err, errlen, "%s: writing the measured pages failed",
                     sys->measured_pages_path);
            return -1;
        }
    }
    if (L.status == SEV_RET_POLICY_FAILURE)
        return config_fail(&sys->cfg, "sev.policy", err, errlen, "%#" PRIx64
                           ": the PSP refuses it: POLICY_FAILURE (%s)", sys->cfg.sev.policy, L.what);
    if (L.status != SEV_RET_SUCCESS) {
        snprintf(err, errlen, "SNP launch failed: %s (%s)", psp_status_name(L.status), L.what);
        return -1;
    }
    if (sys->kernel_boot)
        validate_guest_ram(sys);
    struct psp_guest_info gi;
    SNP_ASSERT(psp_guest(sev->psp, L.gctx, &gi));
    memcpy(sev->digest, gi.digest, sizeof(sev->digest));
    sev->gctx = L.gctx;
    sev->launched = true;
    return 0;
}

uint64_t sev_status_of(const struct snp_config *c, uint64_t *features)
{
    bool snp = !strcmp(c->mode, "snp");
    *features = c->sev.sev_features | (snp ? SEV_FEAT_SNP_ACTIVE : 0);
    /* Bits [63:2] mirror SEV_FEATURES (docs/sev-snp-facts.md 1). */
    return SEV_STATUS_SEV | SEV_STATUS_SEV_ES | (snp ? SEV_STATUS_SNP : 0) | (*features << 2);
}

int sev_setup(struct system *sys, char *err, size_t errlen)
{
    /* Before the vCPUs exist: the RMP and keys their TLB fills check. */
    struct sev *sev = calloc(1, sizeof(*sev));
    SNP_ASSERT(sev);
    sys->sev = sev;
    sev->snp = !strcmp(sys->cfg.mode, "snp");
    sev->cbit = 51;
    sev->asid = sys->cfg.sev.asid;
    sev->sev_status = sev_status_of(&sys->cfg, &sev->sev_features);
    sev->keys = keys_create(sys->cfg.sev.key_seed);
    if (!sev->keys) {
        snprintf(err, errlen, "cannot set up memory-encryption keys (OpenSSL)");
        return -1;
    }
    if (sev->snp)
        sev->rmp = rmp_create(sys->mem.size);
    mem_enable_encryption(&sys->mem, sev->keys, sev->rmp);
    return 0;
}

int sev_launch(struct system *sys, char *err, size_t errlen)
{
    struct sev *sev = sys->sev;
    for (unsigned i = 0; i < sys->n; i++) {
        struct sev_vcpu *v = &sys->slots[i].sev;
        *v = (struct sev_vcpu){.vmrun_due = true,
                               .ghcb_msr = GHCB_MSR_SEV_INFO(GHCB_PROTOCOL_MAX, GHCB_PROTOCOL_MIN, 51),
                               .ghcb_registered = SEV_NONE, .vmsa = SEV_NONE,
                               .next_vmsa = SEV_NONE, .hold_ghcb = SEV_NONE, .dr7 = 0x400};
        /* SEV-ES: every vCPU has a VMSA from launch; SNP: the BSP, and the APs
         * too with sev.launch_vmsas "all" (else they come from AP_CREATION:
         * docs/guest-abi.md). An AP's launch VMSA runs at its first SIPI. */
        if (i == 0 || !sev->snp || sys->cfg.sev.launch_vmsas == LAUNCH_VMSAS_ALL) {
            struct sev_vmsa a;
            build_vmsa(sys, i, &a);
            uint64_t gpa = loader_vmsa_gpa(&sys->layout, i);
            SNP_ASSERT(mem_write(&sys->mem, gpa, &a, sizeof(a)));
            v->next_vmsa = gpa;
            /* A Linux boot's SEV-ES APs run the firmware stub from the start;
             * an SNP kernel starts its APs with AP_CREATION. */
            v->switch_pending = i == 0 || (sys->kernel_boot && !sev->snp);
        }
    }
    /* The firmware of a Linux SEV-ES boot has set the AP jump table (what
     * OVMF does with AP_JUMP_TABLE SET before it hands over), so that the
     * kernel's GET finds the page its APs jump through. */
    if (sys->kernel_boot && !sev->snp)
        sev->ap_jump_table = LINUX_AP_JUMP;
    return sev->snp ? snp_launch(sys, err, errlen) : 0;
}

void sev_teardown(struct system *sys)
{
    struct sev *sev = sys->sev;
    if (!sev)
        return;
    psp_destroy(sev->psp);
    rmp_destroy(sev->rmp);
    keys_destroy(sev->keys);
    free(sev);
    sys->sev = NULL;
}

/* ---- VMRUN, INIT, SIPI -------------------------------------------------------------- */

static bool vmrun_fail(struct slot *s, const char *why)
{
    TRC(s->sys->trace, vmrun_fail, sys_now(s), (int)s->idx, why);
    s->st = VS_OFF;
    return false;
}

/* The fabric's hardware at VMRUN (Secure AVIC: the backing page must be
 * mapped, then REQUESTED_IRR is merged; docs/sev-snp-facts.md 7.3, 7.7). */
bool sev_fabric_vmrun(struct slot *s)
{
    struct fabric *f = s->sys->fab;
    const char *why = NULL;
    s->sev.vmrun_due = false;
    if (f->ops->vmrun && f->ops->vmrun(f, (int)s->idx, &why) < 0)
        return vmrun_fail(s, why);
    return true;
}

/* SAVIC_CONTROL is VMSA state (VMSA+0x320, docs/sev-snp-facts.md 7.1 and 12.3): a new
 * VMSA brings its own value into the hardware. */
static void load_savic_control(struct slot *s, const struct sev_vmsa *a)
{
    struct fabric *f = s->sys->fab;
    uint64_t val = a->secure_avic_control;
    struct fab_exit x;
    if (f->ops->hw_msr && f->ops->hw_msr(f, (int)s->idx, MSR_SAVIC_CONTROL, true, &val, &x) != FAB_OK)
        TRC(s->sys->trace, vmrun_fail, sys_now(s), (int)s->idx,
            "the VMSA's SAVIC_CONTROL has reserved bits set: ignored");
}

bool sev_vmrun(struct slot *s)
{
    struct sev_vcpu *v = &s->sev;
    struct sev *sev = S(s);
    if (!v->switch_pending) {
        if (v->vmsa == SEV_NONE)
            return vmrun_fail(s, "no VMSA");
        if (!v->vmrun_due)
            return true; /* still in guest mode: the quantum goes on */
        if (!sev_fabric_vmrun(s))
            return false;
        TRC(s->sys->trace, vmentry, tm_now(s->sys->tk), (int)s->idx, vcpu_get(s->cpu, VR_RIP));
        return true;
    }
    uint64_t gpa = v->next_vmsa;
    v->switch_pending = false;
    struct rmp_entry e;
    if (sev->snp && (!rmp_lookup(sev->rmp, gpa, &e) || !e.assigned || !e.vmsa || e.asid != sev->asid))
        return vmrun_fail(s, "the VMSA page is not a VMSA of this guest in the RMP");
    struct sev_vmsa a;
    if (!mem_read(&s->sys->mem, gpa, &a, sizeof(a)))
        return vmrun_fail(s, "the VMSA lies outside RAM");
    /* One VMSA page holds one vCPU's state: hardware marks a running VMSA
     * in use (docs/sev-snp-facts.md: RMPADJUST fails on it), so a second
     * vCPU's VMRUN of it fails (issue 9's VMRUN checks; XXX(model): the APM
     * section naming this check is not cited in the fact sheet). */
    for (unsigned i = 0; i < s->sys->n; i++)
        if (i != s->idx && s->sys->slots[i].sev.vmsa == gpa && s->sys->slots[i].st != VS_OFF)
            return vmrun_fail(s, "the VMSA page is in use by another vCPU");
    if (sev->snp && !(a.sev_features & SEV_FEAT_SNP_ACTIVE))
        return vmrun_fail(s, "VMSA SEV_FEATURES lacks SNPActive");
    const char *why = NULL;
    if (vcpu_load_vmsa(s->cpu, &a, &why) < 0)
        return vmrun_fail(s, why);
    if (sev->snp && v->vmsa != SEV_NONE)
        rmp_set_vmsa_in_use(sev->rmp, v->vmsa, false);
    if (sev->snp)
        rmp_set_vmsa_in_use(sev->rmp, gpa, true);
    v->vmsa = gpa;
    v->started = true;
    load_savic_control(s, &a);
    if (!sev_fabric_vmrun(s))
        return false;
    TRC(s->sys->trace, vmentry, tm_now(s->sys->tk), (int)s->idx, vcpu_get(s->cpu, VR_RIP));
    return true;
}

bool sev_on_init(struct slot *s)
{
    struct sev_vcpu *v = &s->sev;
    if (!v->create_on_init)
        return false; /* the hypervisor cannot reset protected state */
    v->create_on_init = false;
    v->switch_pending = true;
    return true;
}

bool sev_on_sipi(struct slot *s, uint8_t vector)
{
    (void)vector; /* the VMSA, not the SIPI vector, says where an SEV vCPU starts */
    struct sev_vcpu *v = &s->sev;
    if (v->hold != HOLD_NONE) {
        ghcb_release_hold(s);
        return true;
    }
    if (!v->started && v->next_vmsa != SEV_NONE) {
        v->switch_pending = true; /* SEV-ES: the first SIPI runs the launch VMSA */
        return true;
    }
    if (!v->started && S(s)->snp) {
        vmrun_fail(s, "no VMSA: SNP APs start with AP_CREATION");
        return false;
    }
    return false;
}

/* ---- The intercept policy -------------------------------------------------------------- */

/* The world switch saves the state into the VMSA page, where it lives. */
static void save_vmsa(struct slot *s, uint64_t rip)
{
    struct sev_vcpu *v = &s->sev;
    if (v->vmsa == SEV_NONE)
        return;
    struct sev_vmsa a;
    SNP_ASSERT(mem_read(&s->sys->mem, v->vmsa, &a, sizeof(a)));
    uint64_t cur = vcpu_get(s->cpu, VR_RIP);
    vcpu_set(s->cpu, VR_RIP, rip);
    vcpu_save_vmsa(s->cpu, &a);
    vcpu_set(s->cpu, VR_RIP, cur);
    struct fabric *f = s->sys->fab;
    struct fab_exit x;
    uint64_t ctl = 0;
    if (f->ops->hw_msr &&
        f->ops->hw_msr(f, (int)s->idx, MSR_SAVIC_CONTROL, false, &ctl, &x) == FAB_OK)
        a.secure_avic_control = ctl;
    a.guest_exit_code = SVM_EXIT_VMGEXIT;
    SNP_ASSERT(mem_write(&s->sys->mem, v->vmsa, &a, sizeof(a)));
}

static enum vcpu_action raise_vc(struct vcpu_exit *e)
{
    e->exc_vector = X86_VC;
    e->exc_has_error = true;
    e->exc_error = (uint32_t)e->code;
    return VCPU_RAISE;
}

/* An APIC MSR the fabric's hardware handles (Secure AVIC: accelerated in the
 * backing page, or #VC 0x401/0x402; docs/sev-snp-facts.md 7.4). */
static enum vcpu_action fabric_hw_msr(struct slot *s, struct vcpu_exit *e, uint32_t msr,
                                      bool write, uint64_t *val)
{
    struct fabric *f = s->sys->fab;
    struct fab_exit x = {0};
    enum fab_access r = f->ops->hw_msr(f, (int)s->idx, msr, write, val, &x);
    if (r != FAB_EXIT)
        return hv_msr_done(s, e, r == FAB_OK, write, *val);
    if (x.code == SVM_EXIT_MSR)
        return raise_vc(e); /* intercepted: the guest asks through the GHCB */
    e->exc_vector = X86_VC, e->exc_has_error = true, e->exc_error = (uint32_t)x.code;
    return x.trap ? VCPU_RAISE_TRAP : VCPU_RAISE;
}

/* MSRs the hardware keeps in the VMSA: not intercepted (docs/guest-abi.md). */
static enum vcpu_action hw_msr(struct slot *s, struct vcpu_exit *e)
{
    uint32_t msr = (uint32_t)vcpu_get(s->cpu, VR_RCX);
    bool write = e->info1 == 1;
    uint64_t val = write ? hv_msr_value(s) : 0;
    bool ok;
    if (s->sys->fab->ops->hw_msr &&
        (msr == MSR_SAVIC_CONTROL || (msr >= 0x800 && msr <= 0x8FF)))
        return fabric_hw_msr(s, e, msr, write, &val);
    if (msr == MSR_SEV_ES_GHCB) {
        ok = true;
        if (write)
            s->sev.ghcb_msr = val;
        else
            val = s->sev.ghcb_msr;
    } else if (msr == MSR_SEV_STATUS) {
        ok = !write;
        val = S(s)->sev_status;
    } else if (write && !vcpu_msr_valid(s->cpu, msr, val)) {
        ok = false; /* the CPU's own #GP, as for a plain guest */
    } else if (write ? vcpu_msr_set(s->cpu, msr, val) : vcpu_msr_get(s->cpu, msr, &val)) {
        ok = true;
    } else {
        return raise_vc(e); /* intercepted: the guest asks through the GHCB */
    }
    return hv_msr_done(s, e, ok, write, val);
}

enum vcpu_action sev_intercept(struct slot *s, struct vcpu_exit *e)
{
    struct system *sys = s->sys;
    switch (e->code) {
    case SVM_EXIT_MSR:
        return hw_msr(s, e);
    case SVM_EXIT_VMGEXIT:
    case SVM_EXIT_HLT: {
        /* A fabric the hardware evaluates needs the idle-HLT intercept (fact
         * sheet 7.3): HLT exits only when nothing in the page is deliverable. */
        if (e->code == SVM_EXIT_HLT && sys->fab->ops->vmrun && hv_can_wake(s))
            return VCPU_NEXT;
        /* Automatic exits: the world switch saves the state, the hypervisor acts. */
        s->sum.exits++;
        s->sev.vmrun_due = true;
        TRC(sys->trace, vmexit, sys_now(s), (int)s->idx, e->code, 0, 0, e->rip);
        save_vmsa(s, e->next_rip);
        enum vcpu_action a = e->code == SVM_EXIT_HLT ? hv_intercept(s, e) : ghcb_vmgexit(s);
        sys_charge(s, sys->cfg.cost.vmexit);
        if (a == VCPU_NEXT) {
            hostile_before_vmrun(s); /* EVENTINJ, checked by this VMRUN */
            eventinj_vmrun(s);
            /* vmentry after the fabric's work at VMRUN (what it saw in a
             * Secure AVIC page, what it merged): a replay re-runs it there. */
            if (!sev_fabric_vmrun(s))
                return VCPU_STOP;
            TRC(sys->trace, vmentry, sys_now(s), (int)s->idx, e->next_rip);
        }
        return a;
    }
    case VCPU_INSN_PVALIDATE:
    case VCPU_INSN_RMPADJUST:
        return sev_rmp_insn(s, e);
    case SVM_EXIT_READ_CR8:
    case SVM_EXIT_WRITE_CR8:
        return hv_cr8(s, e); /* no #VC: V_TPR and the CR8 write trap (hv.c) */
    default:
        /* Every other intercept of the Linux SEV-ES series is a #VC. */
        return raise_vc(e);
    }
}

/* ---- RMP instructions and #NPF ---------------------------------------------------------- */

static const char *access_name(uint64_t err)
{
    return (err & NPF_FETCH) ? "fetch" : (err & NPF_W) ? "write" : "read";
}

enum vcpu_action sev_npf(struct slot *s, uint64_t gpa, uint64_t error)
{
    struct system *sys = s->sys;
    struct sev *sev = S(s);
    uint64_t page = gpa & ~(PAGE - 1);
    enum rmp_access acc = (error & NPF_FETCH) ? RMP_EXEC_SUPER : (error & NPF_W) ? RMP_WRITE : RMP_READ;
    struct rmp_check chk = rmp_check_guest(sev->rmp, sev->asid, 0, page, error & NPF_ENC, acc,
                                           error & NPF_PT);
    TRC(sys->trace, rmp_fault, sys_now(s), (int)s->idx, "guest", access_name(error), page, error,
        chk.reason ? chk.reason : "RMP violation");
    if (error & NPF_SIZEM) {
        /* A 4 KiB access to a 2 MiB entry: split it and retry (KVM). */
        enum rmp_rc rc = rmp_psmash(sev->rmp, page & ~((2ull << 20) - 1));
        TRC(sys->trace, psmash, sys_now(s), (int)s->idx, page & ~((2ull << 20) - 1), rc);
        cpu_shared_flush_tlbs(sys->cs);
        if (rc == RMP_OK)
            return VCPU_RETRY;
    } else if (sys->cfg.sev.implicit_psc && page < sys->mem.size) {
        /* KVM userspace converts the page to what the access asked for. */
        bool priv = error & NPF_ENC;
        struct rmp_state st = {page, priv, RMP_4K, false, priv ? sev->asid : 0};
        enum rmp_rc rc = rmp_update(sev->rmp, page, &st);
        if (rc == RMP_FAIL_OVERLAP) { /* inside a 2 MiB entry: split it first, as KVM does */
            rmp_psmash(sev->rmp, page & ~((2ull << 20) - 1));
            rc = rmp_update(sev->rmp, page, &st);
        }
        TRC(sys->trace, psc, sys_now(s), (int)s->idx, page, priv ? "private" : "shared", 0, rc);
        cpu_shared_flush_tlbs(sys->cs);
        if (rc == RMP_OK)
            return VCPU_RETRY;
    }
    char why[192];
    snprintf(why, sizeof(why), "vCPU %u: RMP #NPF at GPA %#" PRIx64 " (error %#" PRIx64 ", %s)",
             s->idx, page, error, chk.reason ? chk.reason : "RMP violation");
    sys_finish(sys, SNPREF_SHUTDOWN, (int)s->idx, vcpu_get(s->cpu, VR_RIP), why);
    return VCPU_STOP;
}

enum vcpu_action sev_rmp_insn(struct slot *s, struct vcpu_exit *e)
{
    struct system *sys = s->sys;
    struct sev *sev = S(s);
    uint64_t gpa = e->info1, rdx = vcpu_get(s->cpu, VR_RDX);
    unsigned size = (unsigned)(e->info2 & 0xFFFFFFFFu);
    struct rmp_result r;
    if (e->code == VCPU_INSN_PVALIDATE) {
        r = rmp_pvalidate(sev->rmp, sev->asid, 0, gpa, size, rdx & 1);
        if (!r.npf)
            TRC(sys->trace, pvalidate, sys_now(s), (int)s->idx, gpa, size, rdx & 1, r.rc, r.cf);
    } else {
        r = rmp_rmpadjust(sev->rmp, sev->asid, 0, gpa, size, rdx);
        if (!r.npf)
            TRC(sys->trace, rmpadjust, sys_now(s), (int)s->idx, gpa, size, rdx & 0xFF,
                (rdx >> 8) & 0xF, (rdx & RMPADJUST_VMSA_PAGE_BIT) != 0, r.rc);
    }
    if (r.npf) {
        enum vcpu_action a = sev_npf(s, gpa, r.npf_error);
        return a == VCPU_STOP ? VCPU_STOP : VCPU_RETRY;
    }
    cpu_shared_flush_tlbs(sys->cs);
    vcpu_set(s->cpu, VR_RAX, r.rc);
    uint64_t fl = vcpu_get(s->cpu, VR_RFLAGS) & ~1ull;
    vcpu_set(s->cpu, VR_RFLAGS, fl | (r.cf ? 1ull : 0));
    return VCPU_NEXT;
}

/* ---- AP creation ------------------------------------------------------------------ */

/* AP_CREATION's effect on vCPU t, once nae.c has checked the request (docs/sev-snp-facts.md 10). */
void sev_ap_create(struct slot *t, unsigned request, uint64_t vmsa)
{
    struct system *sys = t->sys;
    struct sev_vcpu *v = &t->sev;
    if (request == SVM_VMGEXIT_AP_DESTROY) {
        /* Halted with no VMSA; a VMRUN would fail until it is created again. */
        if (v->vmsa != SEV_NONE && sys->sev->rmp)
            rmp_set_vmsa_in_use(sys->sev->rmp, v->vmsa, false);
        v->vmsa = SEV_NONE;
        v->switch_pending = v->create_on_init = false;
        t->st = VS_OFF;
        if (t->in_quantum)
            vcpu_request_stop(t->cpu);
        return;
    }
    v->next_vmsa = vmsa;
    if (request == SVM_VMGEXIT_AP_CREATE_ON_INIT) {
        v->create_on_init = true;
        return;
    }
    /* CREATE: switch at the next VMRUN; kick a running vCPU out first. */
    v->create_on_init = false;
    v->switch_pending = true;
    if (t->in_quantum) {
        vcpu_request_stop(t->cpu);
    } else if (t->st != VS_RUNNABLE || !t->run_ev) {
        t->st = VS_RUNNABLE;
        sys_schedule(t, sys_now(t));
    }
}

