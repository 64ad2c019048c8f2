/* SPDX-License-Identifier: MIT */
/*
 * Starting and parking APs under SEV-ES and SNP (docs/guest-abi.md
 * "Application processors"; docs/sev-snp-facts.md 10).
 *
 * SNP: an AP runs only from a VMSA the guest builds: a fresh private page, not
 * 2 MiB-aligned (the erratum of docs/sev-snp-facts.md 6.3), holding the guest ABI's 64-bit
 * entry state at sdk_ap_start with the AP's boot stack, RDI = boot info, RSI =
 * its index; RMPADJUST marks it a VMSA (target VMPL1, bit 16), then the
 * AP_CREATION NAE names it (RAX = SEV_FEATURES = SEV_STATUS >> 2). As Linux's
 * wakeup_cpu_via_vmgexit: a refused request clears the VMSA bit and frees the
 * page; an accepted one retires the AP's previous VMSA (VMSA bit cleared once
 * the AP no longer runs from it, then freed; leaked if it cannot be cleared).
 *
 * SEV-ES: every vCPU has a launch VMSA; the first SIPI starts an AP at the ELF
 * entry (start.S sends RSI != 0 to the AP path). An AP that wants to stop parks
 * in AP_HLT_LOOP (or the MSR protocol's AP reset hold); the next SIPI wakes it
 * and it continues at the entry the AP jump table names.
 */
#include <sdk/sdk.h>

void sdk_gdt_fill(struct sdk_percpu *p);
void sdk_ap_jump(uint64_t entry, uint64_t stack_top, const struct snp_bootinfo *bi,
                 uint64_t index) __attribute__((noreturn));

#define SZ_2M (2ull << 20)
#define VMSA_CLEAR_TRIES 200

/* Segment attributes in the VMCB format: descriptor bits 47:40 and 55:52 (accessed set). */
#define ATTR_CODE64 0xA9B   /* G L P S type 0xB */
#define ATTR_DATA   0xC93   /* G D/B P S type 0x3 */
#define ATTR_LDT    0x082
#define ATTR_TSS64  0x08B   /* busy 64-bit TSS */

/* The VMSA is packed: assign the fields in place rather than through a pointer. */
#define SEG(s, sel, attr, lim, b)                                             \
    do {                                                                      \
        (s).selector = (sel);                                                 \
        (s).attrib = (attr);                                                  \
        (s).limit = (lim);                                                    \
        (s).base = (b);                                                       \
    } while (0)

void sdk_snp_vmsa_init(struct sev_vmsa *v, unsigned cpu)
{
    struct sdk_percpu *p = &sdk_percpu[cpu];
    const struct snp_bootinfo *bi = sdk_bootinfo;

    memset(v, 0, SDK_PAGE_SIZE);
    sdk_gdt_fill(p);
    SEG(v->cs, SDK_SEL_CODE, ATTR_CODE64, 0xFFFFFFFF, 0);
    SEG(v->ds, SDK_SEL_DATA, ATTR_DATA, 0xFFFFFFFF, 0);
    SEG(v->es, SDK_SEL_DATA, ATTR_DATA, 0xFFFFFFFF, 0);
    SEG(v->ss, SDK_SEL_DATA, ATTR_DATA, 0xFFFFFFFF, 0);
    SEG(v->fs, SDK_SEL_DATA, ATTR_DATA, 0xFFFFFFFF, 0);
    SEG(v->gs, SDK_SEL_DATA, ATTR_DATA, 0xFFFFFFFF, 0);
    SEG(v->gdtr, 0, 0, 5 * 8 - 1, (uint64_t)(uintptr_t)p->gdt);
    SEG(v->idtr, 0, 0, 0, 0);              /* as the ABI: no IDT until the SDK loads one */
    SEG(v->ldtr, 0, ATTR_LDT, 0xFFFF, 0);
    SEG(v->tr, 0, ATTR_TSS64, 0xFFFF, 0);
    v->efer = 0xD01 | (1ull << 12);         /* SCE LME LMA NXE, and SVME as VMRUN requires */
    v->cr0 = 0x80010033;
    v->cr3 = bi->page_table_root;
    v->cr4 = 0x6A0;
    v->dr7 = 0x400;
    v->dr6 = 0xFFFF0FF0;
    v->rflags = 0x2;
    v->rip = (uint64_t)(uintptr_t)sdk_ap_start;
    v->rsp = bi->stack_top_base - (uint64_t)cpu * bi->stack_size;
    v->rdi = (uint64_t)(uintptr_t)bi;
    v->rsi = cpu;
    v->g_pat = 0x0007040600070406ull;
    v->xcr0 = 1;
    v->mxcsr = 0x1F80;
    v->x87_fcw = 0x37F;
    v->vmpl = 0;
    v->cpl = 0;
    v->sev_features = sdk_sev_status() >> 2;
    v->vintr_ctrl = VINTR_V_GIF;
}

int sdk_snp_set_vmsa(void *page, bool vmsa)
{
    return sdk_rmpadjust((uintptr_t)page, SDK_RMP_PAGE_4K, 1 | (vmsa ? RMPADJUST_VMSA_PAGE_BIT : 0));
}

uint32_t sdk_snp_ap_creation(uint32_t apic_id, unsigned request, uint64_t vmsa_gpa,
                             uint64_t sev_features, uint64_t *info2)
{
    struct sdk_ghcb_state st;
    struct ghcb *g = sdk_ghcb_get(&st);
    GHCB_SET(g, rax, sev_features);
    uint32_t rc = sdk_ghcb_call(g, SVM_VMGEXIT_AP_CREATION,
                                ((uint64_t)apic_id << 32) | (0ull << 16) | request, vmsa_gpa);
    /* As Linux: no valid SW_EXITINFO1 counts as a failure. */
    if (!GHCB_VALID(g, sw_exit_info_1))
        rc = ~0u;
    if (info2)
        *info2 = g->save.sw_exit_info_2;
    sdk_ghcb_put(&st);
    return rc;
}

/* A private page that is not 2 MiB-aligned (docs/sev-snp-facts.md 6.3 erratum). */
static void *alloc_vmsa_page(void)
{
    void *skipped[8];
    unsigned n = 0;
    void *p = sdk_alloc_pages(1);
    while (!((uintptr_t)p & (SZ_2M - 1))) {
        if (n == 8)
            sdk_fail(SDK_EXIT_SETUP, "no VMSA page that is not 2 MiB-aligned");
        skipped[n++] = p;           /* kept until the loop ends, so not handed out again */
        p = sdk_alloc_pages(1);
    }
    for (unsigned i = 0; i < n; i++)
        sdk_free_pages(skipped[i], 1);
    return p;
}

/* Retires the AP's previous VMSA once it no longer runs from it (else later). */
static void reap_old_vmsa(struct sdk_percpu *p, unsigned tries)
{
    void *old = p->vmsa_old;
    int rc = SDK_RMP_OK;

    if (!old)
        return;
    for (unsigned i = 0; i < tries; i++) {
        if ((rc = sdk_snp_set_vmsa(old, false)) != SDK_RMP_FAIL_INUSE)
            break;
        sdk_delay_us(10);
    }
    if (rc == SDK_RMP_FAIL_INUSE)
        return;
    if (rc == SDK_RMP_OK)
        sdk_free_pages(old, 1);
    else                              /* cannot be cleared: leaked, as Linux does */
        printf("cpu %u: VMSA 0x%lx not released (RMPADJUST %d), leaked\n", p->index,
               (uint64_t)(uintptr_t)old, rc);
    p->vmsa_old = 0;
}

uint32_t sdk_snp_ap_create(unsigned cpu, unsigned request, uint64_t *info2)
{
    return sdk_snp_ap_create_rax(cpu, request, 0, info2);
}

uint32_t sdk_snp_ap_create_rax(unsigned cpu, unsigned request, uint64_t rax_xor, uint64_t *info2)
{
    struct sdk_percpu *p = &sdk_percpu[cpu];
    uint64_t i2 = 0;

    if (!(sdk_hv_features() & GHCB_HV_FT_SNP_AP_CREATION))
        sdk_fail(SDK_EXIT_SETUP, "the hypervisor does not offer SNP AP creation (features 0x%lx)",
                 sdk_hv_features());
    reap_old_vmsa(p, 1);
    struct sev_vmsa *vmsa = alloc_vmsa_page();
    sdk_snp_vmsa_init(vmsa, cpu);
    int rc = sdk_snp_set_vmsa(vmsa, true);
    if (rc) {
        sdk_free_pages(vmsa, 1);
        sdk_fail(SDK_EXIT_SETUP, "RMPADJUST of VMSA 0x%lx for cpu %u: %d",
                 (uint64_t)(uintptr_t)vmsa, cpu, rc);
    }
    uint32_t r = sdk_snp_ap_creation(sdk_apic_id_of(cpu), request, (uint64_t)(uintptr_t)vmsa,
                                     vmsa->sev_features ^ rax_xor, &i2);
    if (info2)
        *info2 = i2;
    if (r) {
        if (sdk_snp_set_vmsa(vmsa, false) == SDK_RMP_OK)
            sdk_free_pages(vmsa, 1);
        return r;
    }
    if (p->vmsa && !p->vmsa_old)
        p->vmsa_old = p->vmsa;
    p->vmsa = vmsa;
    return 0;
}

uint32_t sdk_snp_ap_destroy(unsigned cpu, uint64_t *info2)
{
    struct sdk_percpu *p = &sdk_percpu[cpu];
    uint64_t gpa = (uint64_t)(uintptr_t)p->vmsa;
    uint32_t r = sdk_snp_ap_creation(sdk_apic_id_of(cpu), SVM_VMGEXIT_AP_DESTROY, gpa,
                                     sdk_sev_status() >> 2, info2);
    if (r)
        return r;
    atomic_store(&p->online, 0u);
    if (p->vmsa) {
        reap_old_vmsa(p, VMSA_CLEAR_TRIES);
        p->vmsa_old = p->vmsa;
        p->vmsa = 0;
        reap_old_vmsa(p, VMSA_CLEAR_TRIES);
    }
    return 0;
}

/* sdk_start_ap / sdk_start_aps under SNP (smp.c). */
bool sdk_snp_start_ap(unsigned cpu)
{
    uint64_t info2 = 0;
    atomic_store(&sdk_percpu[cpu].online, 0u);
    uint32_t r = sdk_snp_ap_create(cpu, SVM_VMGEXIT_AP_CREATE, &info2);
    if (r) {
        printf("cpu %u: AP_CREATION refused: SW_EXITINFO1 0x%x SW_EXITINFO2 0x%lx\n", cpu, r,
               info2);
        return false;
    }
    return true;
}

void sdk_snp_reap(unsigned cpu)
{
    reap_old_vmsa(&sdk_percpu[cpu], VMSA_CLEAR_TRIES);
}

/* ---- SEV-ES parking ------------------------------------------------------------------- */

void sdk_sev_ap_park(bool msr_protocol)
{
    struct sdk_percpu *p = this_cpu();
    uint64_t index = p->index;

    cli();
    atomic_store(&p->online, 0u);
    for (;;) {
        if (msr_protocol) {
            if (sdk_msr_ap_reset_hold())
                break;
            continue;
        }
        struct sdk_ghcb_state st;
        struct ghcb *g = sdk_ghcb_get(&st);
        sdk_ghcb_call(g, SVM_VMGEXIT_AP_HLT_LOOP, 0, 0);
        bool sipi = GHCB_VALID(g, sw_exit_info_2) && g->save.sw_exit_info_2;
        sdk_ghcb_put(&st);
        if (sipi)
            break;
    }
    uint64_t table = 0;
    uint32_t rc = sdk_ap_jump_table_get(&table);
    if (rc || !table)
        sdk_fail(SDK_EXIT_SETUP, "cpu %lu: AP_JUMP_TABLE GET: %u, table 0x%lx", index, rc, table);
    uint64_t entry = *(volatile uint64_t *)(uintptr_t)table;
    sdk_ap_jump(entry, sdk_bootinfo->stack_top_base - index * sdk_bootinfo->stack_size,
                sdk_bootinfo, index);
}
