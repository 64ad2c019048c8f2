/* SPDX-License-Identifier: MIT */
/*
 * The one-instruction intercepts: WBINVD (0x89), RDTSC (0x6E), RDTSCP (0x87),
 * RDPMC (0x6F), MONITOR (0x8A), MWAIT (0x8B), VMMCALL (0x81). Under
 * SEV-ES/SNP each raises one #VC and one GHCB round trip; the SDK copies the
 * hypervisor's RAX/RDX (and RCX for RDTSCP) back, steps RIP past the
 * instruction (3 bytes for the 0F 01 group, 2 for the others). Checked: the
 * TSC moves forward and RDTSC/RDTSCP agree with it, RDPMC of counter 0 reads 0
 * and of counter 6 raises #GP(0) (hypervisor answers "inject #GP"), MWAIT
 * returns, VMMCALL of an unknown hypercall returns -1000 (KVM's -KVM_ENOSYS).
 */
#include <sdk/sdk.h>

static volatile uint64_t monitored;

int main(void)
{
    uint32_t before;

    printf("sev_misc: mode %s\n", sdk_mode_name(sdk_sev_mode()));

    before = sdk_vc_count(SVM_EXIT_WBINVD);
    __asm__ volatile("wbinvd" ::: "memory");
    GUEST_ASSERT_VC(SVM_EXIT_WBINVD, before, 1);
    printf("sev_misc: wbinvd\n");

    before = sdk_vc_count(SVM_EXIT_RDTSC);
    uint64_t t0 = rdtsc(), t1 = rdtsc();
    GUEST_ASSERT_VC(SVM_EXIT_RDTSC, before, 2);
    GUEST_ASSERT(t1 > t0);
    uint64_t rax = 0xDEADBEEF00000000ull, rdx = 0xDEADBEEF00000000ull, rcx = ~0ull;
    before = sdk_vc_count(SVM_EXIT_RDTSCP);
    __asm__ volatile("rdtscp" : "+a"(rax), "+d"(rdx), "+c"(rcx) : : "memory");
    GUEST_ASSERT_VC(SVM_EXIT_RDTSCP, before, 1);
    GUEST_ASSERT((rax >> 32) == 0 && (rdx >> 32) == 0 && (rcx >> 32) == 0);
    uint64_t t2 = rdx << 32 | rax;
    GUEST_ASSERT(t2 > t1);
    uint64_t t3 = rdtsc();
    GUEST_ASSERT(t3 > t2);
    printf("sev_misc: rdtsc %lu, %lu; rdtscp %lu (TSC_AUX %lu); rdtsc %lu\n", t0, t1, t2, rcx, t3);

    before = sdk_vc_count(SVM_EXIT_RDPMC);
    rax = rdx = 0xDEADBEEF12345678ull;
    __asm__ volatile("rdpmc" : "+a"(rax), "+d"(rdx) : "c"(0) : "memory");
    GUEST_ASSERT_EQ(rax, 0);
    GUEST_ASSERT_EQ(rdx, 0);
    __asm__ volatile(ASM_TRY("1f") "rdpmc\n1:" : : "c"(6) : "rax", "rdx", "memory");
    GUEST_ASSERT_EQ(sdk_ex_vector(), X86_GP);
    GUEST_ASSERT_EQ(sdk_ex_error_code(), 0);
    GUEST_ASSERT_VC(SVM_EXIT_RDPMC, before, 2);
    printf("sev_misc: rdpmc 0 = 0; rdpmc 6: #GP(0)\n");

    before = sdk_vc_count(SVM_EXIT_MONITOR);
    uint32_t mw = sdk_vc_count(SVM_EXIT_MWAIT);
    __asm__ volatile("monitor" : : "a"(&monitored), "c"(0), "d"(0) : "memory");
    __asm__ volatile("mwait" : : "a"(0), "c"(0) : "memory");
    GUEST_ASSERT_VC(SVM_EXIT_MONITOR, before, 1);
    GUEST_ASSERT_VC(SVM_EXIT_MWAIT, mw, 1);
    printf("sev_misc: monitor + mwait returned\n");

    before = sdk_vc_count(SVM_EXIT_VMMCALL);
    rax = 0x7777;
    __asm__ volatile("vmmcall" : "+a"(rax) : : "memory");
    GUEST_ASSERT_VC(SVM_EXIT_VMMCALL, before, 1);
    printf("sev_misc: vmmcall 0x7777 -> rax 0x%lx\n", rax);
    GUEST_ASSERT_EQ(rax, (uint64_t)-1000);

    printf("sev_misc: PASS\n");
    return 0;
}
