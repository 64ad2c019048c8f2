/* SPDX-License-Identifier: MIT */
/*
 * The GHCB MSR protocol (docs/sev-snp-facts.md 4.2): each request written to the GHCB MSR
 * (0xC0010130), VMGEXIT, and the response read back.
 *  - SEV_INFO (0x002 -> 0x001): protocol range covering 1..2, C-bit 51;
 *  - CPUID (0x004 -> 0x005): every register of a few leaves agrees with the
 *    CPUID instruction (which goes through #VC and the GHCB);
 *  - hypervisor features (0x080 -> 0x081): the same bitmap as the NAE
 *    HV_FEATURES (0x8000FFFD); under SNP with SNP and AP-creation bits;
 *  - SNP only (the others are refused outside SNP): preferred GHCB GPA
 *    (0x010 -> 0x011), register GHCB GPA (0x012 -> 0x013 echoing the GFN, for
 *    another page and back to the SDK's own), page-state change of one page
 *    to private and back (0x014 -> 0x015, error 0);
 *  - an unknown request leaves the MSR as written (KVM).
 * AP reset hold (0x006) is exercised by sev_ap_jump_table, the termination
 * request (0x100) by sev_terminate.
 */
#include <sdk/sdk.h>

int main(void)
{
    uint64_t v;

    printf("sev_msr_protocol: mode %s\n", sdk_mode_name(sdk_sev_mode()));
    GUEST_ASSERT(sdk_sev_es_active());

    v = sdk_msr_sev_info();
    unsigned max = (unsigned)(v >> 48), min = (unsigned)((v >> 32) & 0xFFFF);
    unsigned cbit = (unsigned)((v >> 24) & 0xFF);
    printf("sev_msr_protocol: SEV_INFO 0x%lx: protocol %u..%u, C-bit %u\n", v, min, max, cbit);
    GUEST_ASSERT_EQ(v & 0xFFF, GHCB_MSR_SEV_INFO_RESP);
    GUEST_ASSERT(min <= 1 && max >= 2);
    GUEST_ASSERT_EQ(cbit, 51);
    GUEST_ASSERT_EQ(sdk_ghcb_version(), 2);

    static const uint32_t leaves[] = { 0x0, 0x1, 0x80000000u, 0x80000001u, 0x8000001Fu };
    for (unsigned i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
        uint32_t r[4], m[4];
        cpuid_count(leaves[i], 0, r);
        for (unsigned reg = 0; reg < 4; reg++) {
            GUEST_ASSERT(sdk_msr_cpuid(leaves[i], reg, &m[reg]));
            GUEST_ASSERT_EQ(m[reg], r[reg]);
        }
        printf("sev_msr_protocol: CPUID 0x%x by MSR protocol: %08x %08x %08x %08x (= CPUID)\n",
               leaves[i], m[0], m[1], m[2], m[3]);
    }

    uint64_t ft_msr = 0, ft_nae = 0;
    GUEST_ASSERT(sdk_msr_hv_features(&ft_msr));
    GUEST_ASSERT_EQ(sdk_nae_hv_features(&ft_nae), 0);
    printf("sev_msr_protocol: HV features 0x%lx (MSR), 0x%lx (NAE)\n", ft_msr, ft_nae);
    GUEST_ASSERT_EQ(ft_msr, ft_nae);
    if (sdk_snp_active())
        GUEST_ASSERT_EQ(ft_msr & (GHCB_HV_FT_SNP | GHCB_HV_FT_SNP_AP_CREATION),
                        GHCB_HV_FT_SNP | GHCB_HV_FT_SNP_AP_CREATION);

    if (sdk_snp_active()) {
        uint64_t gfn = 0;
        GUEST_ASSERT(sdk_msr_pref_gpa(&gfn));
        printf("sev_msr_protocol: preferred GHCB GFN 0x%lx%s\n", gfn,
               gfn == GHCB_MSR_PREF_GPA_NONE ? " (no preference)" : "");

        /* Register another page, then the SDK's own again: no GHCB call in between. */
        uint64_t own = sdk_ghcb_gpa() >> 12;
        void *other = sdk_alloc_shared_pages(1);
        uint64_t flags = irq_save();
        bool r1 = sdk_msr_register_gpa((uint64_t)(uintptr_t)other >> 12);
        bool r2 = sdk_msr_register_gpa(own);
        irq_restore(flags);
        GUEST_ASSERT(r1 && r2);
        printf("sev_msr_protocol: REG_GPA 0x%lx then 0x%lx: both echoed\n",
               (uint64_t)(uintptr_t)other >> 12, own);
        uint32_t r[4];
        cpuid_count(0, 0, r);                       /* the GHCB works again */
        GUEST_ASSERT_EQ(r[1], 0x68747541);

        uint64_t page = (uint64_t)(uintptr_t)sdk_alloc_pages_unaccepted(1);
        GUEST_ASSERT_EQ(sdk_msr_psc(page, GHCB_MSR_PSC_OP_PRIVATE), 0);
        GUEST_ASSERT_EQ(sdk_pvalidate((uintptr_t)page, SDK_RMP_PAGE_4K, true, 0), 0);
        *(volatile uint64_t *)(uintptr_t)page = 0xC0FFEE;
        GUEST_ASSERT_EQ(*(volatile uint64_t *)(uintptr_t)page, 0xC0FFEE);
        GUEST_ASSERT_EQ(sdk_pvalidate((uintptr_t)page, SDK_RMP_PAGE_4K, false, 0), 0);
        GUEST_ASSERT_EQ(sdk_msr_psc(page, GHCB_MSR_PSC_OP_SHARED), 0);
        printf("sev_msr_protocol: PSC 0x%lx private (validated, used) and shared again\n", page);
    }

    /* An unknown request: the hypervisor leaves the MSR alone. */
    uint64_t req = 0xABCD0000ull << 12 | 0x0FE;
    v = sdk_ghcb_msr_call(req);
    printf("sev_msr_protocol: unknown request 0x%lx -> 0x%lx\n", req, v);
    GUEST_ASSERT_EQ(v, req);

    printf("sev_msr_protocol: PASS\n");
    return 0;
}
