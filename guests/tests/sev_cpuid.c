/* SPDX-License-Identifier: MIT */
/*
 * CPUID under every mode. Plain: intercepted and answered directly. SEV-ES /
 * SNP: each CPUID raises #VC 0x72; the SDK sends RAX (leaf) and RCX (subleaf),
 * and XCR0 for leaf 0xD, through the GHCB and returns the four registers the
 * hypervisor put back (valid bits required). Checked: one #VC per CPUID and
 * none for anything else; the vendor; the subleaf reaches the hypervisor
 * (leaf 0xB sub 0 and 1 give different level types); 32-bit results clear the
 * upper halves of RAX..RDX; leaf 0x8000001F tells the mode and the C-bit, as
 * SEV_STATUS and the boot info do.
 */
#include <sdk/sdk.h>

static void cpuid_checked(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    uint32_t before = sdk_vc_count(SVM_EXIT_CPUID);
    cpuid_count(leaf, sub, r);
    GUEST_ASSERT_VC(SVM_EXIT_CPUID, before, 1);
}

int main(void)
{
    uint32_t r[4];
    unsigned mode = sdk_sev_mode();

    printf("sev_cpuid: mode %s\n", sdk_mode_name(mode));
    cpuid_checked(0, 0, r);
    char vendor[13];
    memcpy(vendor, &r[1], 4);
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);
    vendor[12] = 0;
    printf("sev_cpuid: leaf 0: max 0x%x vendor %s\n", r[0], vendor);
    GUEST_ASSERT_EQ(r[1], 0x68747541);      /* "Auth" */
    GUEST_ASSERT_EQ(r[3], 0x69746e65);      /* "enti" */
    GUEST_ASSERT_EQ(r[2], 0x444d4163);      /* "cAMD" */
    GUEST_ASSERT(r[0] >= 0xB);

    cpuid_checked(1, 0, r);
    GUEST_ASSERT(r[2] & (1u << 21));        /* x2APIC */
    GUEST_ASSERT_EQ(r[1] >> 24, sdk_apic_id_of(0) & 0xFF);
    printf("sev_cpuid: leaf 1: eax 0x%x ebx 0x%x ecx 0x%x edx 0x%x\n", r[0], r[1], r[2], r[3]);

    /* The subleaf travels in RCX: leaf 0xB level types differ (1 SMT, 2 core). */
    uint32_t s0[4], s1[4];
    cpuid_checked(0xB, 0, s0);
    cpuid_checked(0xB, 1, s1);
    printf("sev_cpuid: leaf 0xB: sub 0 ecx 0x%x, sub 1 ecx 0x%x\n", s0[2], s1[2]);
    GUEST_ASSERT_EQ((s0[2] >> 8) & 0xFF, 1);
    GUEST_ASSERT_EQ((s1[2] >> 8) & 0xFF, 2);

    /* Leaf 0xD needs XCR0 in the GHCB; whatever the answer, it arrives. */
    cpuid_checked(0xD, 0, r);
    printf("sev_cpuid: leaf 0xD: eax 0x%x ebx 0x%x ecx 0x%x edx 0x%x\n", r[0], r[1], r[2], r[3]);

    /* CPUID writes 32-bit results: the upper halves of RAX..RDX become zero. */
    uint64_t a = 0xDEAD000000000000ull, b = 0xDEAD000000000000ull, c = 0xDEAD000000000000ull,
             d = 0xDEAD000000000000ull;
    uint32_t before = sdk_vc_count(SVM_EXIT_CPUID);
    __asm__ volatile("cpuid" : "+a"(a), "+b"(b), "+c"(c), "+d"(d) : : "memory"); /* leaf 0 */
    GUEST_ASSERT_VC(SVM_EXIT_CPUID, before, 1);
    GUEST_ASSERT((a >> 32) == 0 && (b >> 32) == 0 && (c >> 32) == 0 && (d >> 32) == 0);
    printf("sev_cpuid: 64-bit registers after CPUID: upper halves clear\n");

    cpuid_checked(0x80000000u, 0, r);
    GUEST_ASSERT(r[0] >= 0x8000001Fu);
    cpuid_checked(0x8000001Fu, 0, r);
    printf("sev_cpuid: leaf 0x8000001F: eax 0x%x ebx 0x%x ecx 0x%x edx 0x%x\n", r[0], r[1], r[2],
           r[3]);
    uint32_t want = mode == SNP_MODE_PLAIN ? 0
                    : mode == SNP_MODE_SEV_ES ? CPUID_8000001F_SEV | CPUID_8000001F_SEV_ES
                    : CPUID_8000001F_SEV | CPUID_8000001F_SEV_ES | CPUID_8000001F_SNP;
    GUEST_ASSERT_EQ(r[0] & (CPUID_8000001F_SEV | CPUID_8000001F_SEV_ES | CPUID_8000001F_SNP), want);
    if (mode != SNP_MODE_PLAIN) {
        GUEST_ASSERT_EQ(r[1] & 0x3F, sdk_bootinfo->cbit_pos);
        GUEST_ASSERT_EQ(r[1] & 0x3F, 51);
        uint32_t msr_vc = sdk_vc_count(SVM_EXIT_MSR);
        uint64_t status = rdmsr(MSR_SEV_STATUS);           /* not intercepted */
        GUEST_ASSERT_VC(SVM_EXIT_MSR, msr_vc, 0);
        GUEST_ASSERT_EQ(status, sdk_bootinfo->sev_status);
        GUEST_ASSERT(status & SEV_STATUS_SEV_ES);
        GUEST_ASSERT_EQ(!!(status & SEV_STATUS_SNP), mode == SNP_MODE_SNP);
        printf("sev_cpuid: SEV_STATUS 0x%lx, C-bit %u\n", status, r[1] & 0x3F);
    }
    printf("sev_cpuid: PASS (%u #VC for CPUID)\n", sdk_vc_count(SVM_EXIT_CPUID));
    return 0;
}
