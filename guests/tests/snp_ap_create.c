/* SPDX-License-Identifier: MIT */
/*
 * SNP AP creation (AP_CREATION NAE 0x80000013; docs/sev-snp-facts.md 10). Each AP runs
 * ap_main(): a heartbeat, which is how vCPU 0 sees whether it runs.
 *  1. CREATE cpu1 with a fresh VMSA (private, not 2 MiB-aligned, VMSA bit set
 *     by RMPADJUST): it enters the SDK with the ABI's entry state;
 *  2. CREATE cpu1 again while it runs: the `kvm` policy re-creates it (a new
 *     boot, the old VMSA released), the `strict` one refuses (2 / INVALID_INPUT
 *     and cpu1 runs on); either is accepted, the guest reports which;
 *  3. DESTROY cpu1: it stops, and its VMSA can be released (RMPADJUST clears
 *     the VMSA bit once nothing runs from it);
 *  4. CREATE after DESTROY starts it again;
 *  5. CREATE_ON_INIT cpu2: nothing runs until the guest sends cpu2 an INIT;
 *  7. SEV_FEATURES in RAX differing only outside the injection modes
 *     (DebugSwap): the `exact` check (current KVM) refuses it, the
 *     `injection` check (older KVM) accepts it; either is accepted, the guest
 *     reports which;
 *  8. INIT + SIPI alone never start an SNP AP that has no VMSA (the
 *     hypervisor's VMRUN fails; the trace shows vmrun_fail);
 *  6. refusals, each SW_EXITINFO1 = 2 / SW_EXITINFO2 = 5 INVALID_INPUT under
 *     both policies: an APIC ID that names no vCPU, a 2 MiB-aligned VMSA, a
 *     VMSA GPA that is not page-aligned, SEV_FEATURES in RAX differing in an
 *     injection-mode bit, an unknown request, a page without the VMSA bit.
 */
#include <sdk/sdk.h>

#define QUIET_US 1000
#define SZ_2M (2ull << 20)

static volatile uint64_t heartbeat[SDK_MAX_CPUS];

void ap_main(unsigned cpu)
{
    for (;;) {
        atomic_inc(&heartbeat[cpu]);
        cpu_relax();
    }
}

static bool running(unsigned cpu)
{
    uint64_t h = heartbeat[cpu];
    return SDK_WAIT_FOR(heartbeat[cpu] != h, QUIET_US);
}

static void check_entry(unsigned cpu, uint32_t boots)
{
    const struct sdk_percpu *p = sdk_percpu_of(cpu);
    GUEST_ASSERT_EQ(sdk_ap_boot_count(cpu), boots);
    GUEST_ASSERT_EQ(p->entry_rsp, sdk_bootinfo->stack_top_base - cpu * sdk_bootinfo->stack_size);
    GUEST_ASSERT_EQ(p->entry_rflags & X86_RFLAGS_IF, 0);
    GUEST_ASSERT_EQ(p->apic_id, sdk_apic_id_of(cpu));
    GUEST_ASSERT(p->vmsa && ((uintptr_t)p->vmsa & (SZ_2M - 1)) != 0);
    printf("snp_ap_create: cpu%u boot %u from VMSA 0x%lx, RSP 0x%lx RFLAGS 0x%lx\n", cpu, boots,
           (uint64_t)(uintptr_t)p->vmsa, p->entry_rsp, p->entry_rflags);
}

static void refused(const char *what, uint32_t apic_id, unsigned request, uint64_t gpa,
                    uint64_t features)
{
    uint64_t info2 = 0;
    uint32_t r = sdk_snp_ap_creation(apic_id, request, gpa, features, &info2);
    printf("snp_ap_create: 6. %-40s SW_EXITINFO1 %u SW_EXITINFO2 %lu\n", what, r, info2);
    GUEST_ASSERT_EQ(r, GHCB_HV_RESP_MALFORMED_INPUT);
    GUEST_ASSERT_EQ(info2, GHCB_ERR_INVALID_INPUT);
}

static void test_refusals(unsigned cpu)
{
    uint64_t feat = sdk_sev_status() >> 2;
    uint32_t apic = sdk_apic_id_of(cpu), nobody = 0;
    for (unsigned i = 0; i < sdk_cpu_count(); i++)
        if (sdk_apic_id_of(i) >= nobody)
            nobody = sdk_apic_id_of(i) + 1;

    struct sev_vmsa *good = sdk_alloc_pages_aligned(2, SZ_2M);
    struct sev_vmsa *aligned = good;                  /* 2 MiB-aligned */
    good = (struct sev_vmsa *)((uint8_t *)good + 4096);
    sdk_snp_vmsa_init(aligned, cpu);
    sdk_snp_vmsa_init(good, cpu);
    GUEST_ASSERT_EQ(sdk_snp_set_vmsa(aligned, true), 0);
    GUEST_ASSERT_EQ(sdk_snp_set_vmsa(good, true), 0);
    uint64_t ga = (uint64_t)(uintptr_t)aligned, gg = (uint64_t)(uintptr_t)good;

    refused("APIC ID that names no vCPU", nobody, SVM_VMGEXIT_AP_CREATE, gg, feat);
    refused("2 MiB-aligned VMSA", apic, SVM_VMGEXIT_AP_CREATE, ga, feat);
    refused("VMSA GPA not page-aligned", apic, SVM_VMGEXIT_AP_CREATE, gg + 8, feat);
    refused("SEV_FEATURES ^ RestrictedInjection", apic, SVM_VMGEXIT_AP_CREATE, gg,
            feat ^ SEV_FEAT_RESTRICTED_INJ);
    refused("request 7", apic, 7, gg, feat);
    GUEST_ASSERT_EQ(sdk_snp_set_vmsa(good, false), 0);
    refused("a private page without the VMSA bit", apic, SVM_VMGEXIT_AP_CREATE, gg, feat);
    GUEST_ASSERT_EQ(sdk_snp_set_vmsa(aligned, false), 0);
    sdk_free_pages(aligned, 2);
    GUEST_ASSERT_EQ(sdk_ap_boot_count(cpu), 0);
    GUEST_ASSERT(!running(cpu));
}

int main(void)
{
    uint64_t info2;
    uint32_t r;

    printf("snp_ap_create: mode %s\n", sdk_mode_name(sdk_sev_mode()));
    GUEST_ASSERT(sdk_snp_active());
    if (sdk_cpu_count() < 3)
        sdk_fail(SDK_EXIT_SETUP, "snp_ap_create needs 3 vCPUs, has %u", sdk_cpu_count());
    GUEST_ASSERT(sdk_hv_features() & GHCB_HV_FT_SNP_AP_CREATION);

    /* 6 and 8 first, while cpu2 has never run. */
    test_refusals(2);
    x2apic_send_init(sdk_apic_id_of(2));
    x2apic_send_sipi(sdk_apic_id_of(2), SDK_SIPI_VECTOR);
    GUEST_ASSERT(!running(2));
    GUEST_ASSERT_EQ(sdk_ap_boot_count(2), 0);
    printf("snp_ap_create: 8. INIT + SIPI did not start cpu2, which has no VMSA\n");

    GUEST_ASSERT(!running(1));
    GUEST_ASSERT(sdk_start_ap(1));
    check_entry(1, 1);
    GUEST_ASSERT(running(1));
    printf("snp_ap_create: 1. CREATE started cpu1\n");

    void *first = sdk_percpu_of(1)->vmsa;
    r = sdk_snp_ap_create(1, SVM_VMGEXIT_AP_CREATE, &info2);
    if (r == 0) {
        GUEST_WAIT_FOR(sdk_ap_boot_count(1) == 2, SDK_AP_TIMEOUT_US);
        GUEST_WAIT_FOR(sdk_percpu_of(1)->online, SDK_AP_TIMEOUT_US);
        check_entry(1, 2);
        GUEST_ASSERT(sdk_percpu_of(1)->vmsa != first);
        printf("snp_ap_create: 2. CREATE of running cpu1 re-created it (kvm policy)\n");
    } else {
        GUEST_ASSERT_EQ(r, GHCB_HV_RESP_MALFORMED_INPUT);
        GUEST_ASSERT_EQ(info2, GHCB_ERR_INVALID_INPUT);
        GUEST_ASSERT_EQ(sdk_ap_boot_count(1), 1);
        GUEST_ASSERT_EQ(sdk_percpu_of(1)->vmsa, first);
        printf("snp_ap_create: 2. CREATE of running cpu1 refused (strict policy)\n");
    }
    GUEST_ASSERT(running(1));
    uint32_t boots = sdk_ap_boot_count(1);

    void *last = sdk_percpu_of(1)->vmsa;
    GUEST_ASSERT_EQ(sdk_snp_ap_destroy(1, &info2), 0);
    GUEST_ASSERT(!running(1));
    GUEST_ASSERT(sdk_percpu_of(1)->vmsa == 0 && sdk_percpu_of(1)->vmsa_old == 0);
    printf("snp_ap_create: 3. DESTROY stopped cpu1; VMSA 0x%lx released\n",
           (uint64_t)(uintptr_t)last);

    GUEST_ASSERT(sdk_start_ap(1));
    check_entry(1, boots + 1);
    GUEST_ASSERT(running(1));
    printf("snp_ap_create: 4. CREATE after DESTROY started cpu1 again\n");

    r = sdk_snp_ap_create(2, SVM_VMGEXIT_AP_CREATE_ON_INIT, &info2);
    GUEST_ASSERT_EQ(r, 0);
    GUEST_ASSERT(!running(2));
    GUEST_ASSERT_EQ(sdk_ap_boot_count(2), 0);
    x2apic_send_init(sdk_apic_id_of(2));
    GUEST_WAIT_FOR(sdk_ap_boot_count(2) == 1, SDK_AP_TIMEOUT_US);
    GUEST_WAIT_FOR(sdk_percpu_of(2)->online, SDK_AP_TIMEOUT_US);
    check_entry(2, 1);
    GUEST_ASSERT(running(2));
    printf("snp_ap_create: 5. CREATE_ON_INIT: cpu2 waited for its INIT, then started\n");

    GUEST_ASSERT_EQ(sdk_snp_ap_destroy(2, &info2), 0);
    GUEST_ASSERT(!running(2));
    r = sdk_snp_ap_create_rax(2, SVM_VMGEXIT_AP_CREATE, SEV_FEAT_DEBUG_SWAP, &info2);
    if (r == 0) {
        GUEST_WAIT_FOR(sdk_ap_boot_count(2) == 2, SDK_AP_TIMEOUT_US);
        GUEST_WAIT_FOR(sdk_percpu_of(2)->online, SDK_AP_TIMEOUT_US);
        check_entry(2, 2);
        GUEST_ASSERT(running(2));
        printf("snp_ap_create: 7. RAX ^ DebugSwap accepted (injection-mode check)\n");
    } else {
        GUEST_ASSERT_EQ(r, GHCB_HV_RESP_MALFORMED_INPUT);
        GUEST_ASSERT_EQ(info2, GHCB_ERR_INVALID_INPUT);
        GUEST_ASSERT(!running(2));
        printf("snp_ap_create: 7. RAX ^ DebugSwap refused (exact check)\n");
    }

    GUEST_ASSERT(running(1));
    printf("snp_ap_create: PASS\n");
    return 0;
}
