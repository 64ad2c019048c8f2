/* SPDX-License-Identifier: MIT */
/*
 * RDMSR / WRMSR (exit code 0x7C). Intercepted MSRs go to the hypervisor: the
 * x2APIC TPR written and read back, IA32_APIC_BASE, the TSC; an MSR the
 * hypervisor refuses (unknown, or a write to the read-only x2APIC ID) gives
 * #GP(0) at the RDMSR/WRMSR -- under SEV-ES/SNP the hypervisor answers the NAE
 * with "inject #GP" and the SDK's #VC handler raises it in the guest, where
 * ASM_TRY catches it. RDMSR writes EDX:EAX zero-extended. Under SEV-ES/SNP the
 * MSRs the hardware keeps in the VMSA (GS_BASE, EFER, SEV_STATUS, the GHCB
 * MSR) raise no #VC at all; SEV_STATUS matches the boot info and the GHCB MSR
 * holds this vCPU's GHCB GPA after a GHCB call.
 */
#include <sdk/sdk.h>

#define BAD_MSR  0x12345678u
#define MSR_EFER 0xC0000080u
#define MSR_TSC  0x10u

int main(void)
{
    uint32_t before;
    uint64_t v;

    printf("sev_msr: mode %s\n", sdk_mode_name(sdk_sev_mode()));

    /* Under Secure AVIC the hardware completes TPR accesses in the backing page. */
    before = sdk_vc_count(SVM_EXIT_MSR);
    wrmsr(APIC_TPR, 0x20);
    v = rdmsr(APIC_TPR);
    GUEST_ASSERT_VC(SVM_EXIT_MSR, before, sdk_savic_on() ? 0 : 2);
    GUEST_ASSERT_EQ(v, 0x20);
    wrmsr(APIC_TPR, 0);
    printf("sev_msr: x2APIC TPR wrote 0x20, read 0x%lx\n", v);

    v = rdmsr(MSR_IA32_APIC_BASE);
    GUEST_ASSERT_EQ(v, 0xFEE00000ull | (1u << 11) | (1u << 10) | (1u << 8));
    printf("sev_msr: IA32_APIC_BASE 0x%lx (EN EXTD BSP)\n", v);

    uint64_t t0 = rdmsr(MSR_TSC), t1 = rdmsr(MSR_TSC);
    GUEST_ASSERT(t1 >= t0 && t0 != 0);

    /* EDX:EAX zero-extended into RDX and RAX. */
    uint64_t rax = 0xDEADBEEF00000000ull, rdx = 0xDEADBEEF00000000ull;
    __asm__ volatile("rdmsr" : "+a"(rax), "+d"(rdx) : "c"(APIC_TPR) : "memory");
    GUEST_ASSERT_EQ(rax, 0);
    GUEST_ASSERT_EQ(rdx, 0);

    before = sdk_vc_count(SVM_EXIT_MSR);
    GUEST_ASSERT_EQ(sdk_try_rdmsr(BAD_MSR, &v), X86_GP);
    GUEST_ASSERT_EQ(sdk_ex_error_code(), 0);
    GUEST_ASSERT_EQ(sdk_try_wrmsr(BAD_MSR, 1), X86_GP);
    GUEST_ASSERT_EQ(sdk_ex_error_code(), 0);
    GUEST_ASSERT_EQ(sdk_try_wrmsr(APIC_ID, 5), X86_GP);
    GUEST_ASSERT_VC(SVM_EXIT_MSR, before, sdk_savic_on() ? 2 : 3);
    printf("sev_msr: rdmsr/wrmsr 0x%x and wrmsr x2APIC ID: #GP(0)\n", BAD_MSR);

    /* MSRs the hardware keeps: no #VC under SEV-ES/SNP. */
    before = sdk_vc_count(SVM_EXIT_MSR);
    uint64_t gs = rdmsr(MSR_IA32_GS_BASE);
    uint64_t efer = rdmsr(MSR_EFER);
    if (sdk_sev_es_active())
        GUEST_ASSERT_VC(SVM_EXIT_MSR, before, 0);
    GUEST_ASSERT_EQ(gs, (uintptr_t)this_cpu());
    GUEST_ASSERT_EQ(efer & 0xD01, 0xD01);
    printf("sev_msr: GS_BASE 0x%lx EFER 0x%lx\n", gs, efer);
    if (sdk_sev_es_active()) {
        (void)rdmsr(APIC_TPR);                  /* a GHCB call: the MSR names the GHCB */
        before = sdk_vc_count(SVM_EXIT_MSR);
        uint64_t status = rdmsr(MSR_SEV_STATUS), ghcb = rdmsr(MSR_SEV_ES_GHCB);
        GUEST_ASSERT_VC(SVM_EXIT_MSR, before, 0);
        GUEST_ASSERT_EQ(status, sdk_bootinfo->sev_status);
        GUEST_ASSERT_EQ(ghcb, sdk_ghcb_gpa());
        GUEST_ASSERT_EQ(ghcb, sdk_bootinfo->ghcb_base);
        printf("sev_msr: SEV_STATUS 0x%lx, GHCB MSR 0x%lx, neither intercepted\n", status, ghcb);
    }
    printf("sev_msr: PASS (%u #VC for MSR)\n", sdk_vc_count(SVM_EXIT_MSR));
    return 0;
}
