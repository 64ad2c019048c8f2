/* SPDX-License-Identifier: MIT */
/*
 * A hypervisor write to a guest-private page faults (RMP, docs/sev-snp-facts.md 6.2).
 * The guest asks for MMIO_READ of the MMIO device's signature with the data
 * going to a scratch buffer outside the GHCB:
 *  - a shared page (hypervisor-owned): the hypervisor writes the 8 bytes, the
 *    guest reads the signature there;
 *  - a private page of the guest: the hypervisor's write must fail (an RMP
 *    fault in the trace). The guest gets an error answer instead of data,
 *    SW_EXITINFO1 = 2 with SW_EXITINFO2 = 3 INVALID_SCRATCH_AREA (the
 *    reference hypervisor's answer when it cannot write the scratch area),
 *    and the page still holds what the guest put there.
 */
#include <sdk/sdk.h>

static void mmio_read_to(uint64_t scratch, uint64_t *info1, uint64_t *info2)
{
    struct sdk_ghcb_state st;
    struct ghcb *g = sdk_ghcb_get(&st);
    GHCB_SET(g, sw_scratch, scratch);
    sdk_ghcb_call(g, SVM_VMGEXIT_MMIO_READ, SNP_MMIODEV_BASE, 8);
    *info1 = g->save.sw_exit_info_1;
    *info2 = g->save.sw_exit_info_2;
    sdk_ghcb_put(&st);
}

int main(void)
{
    uint64_t i1, i2;

    printf("snp_hv_write_fault: mode %s\n", sdk_mode_name(sdk_sev_mode()));
    GUEST_ASSERT(sdk_snp_active());

    volatile uint64_t *shared = sdk_alloc_shared_pages(1);
    mmio_read_to((uint64_t)(uintptr_t)shared, &i1, &i2);
    printf("snp_hv_write_fault: MMIO_READ into shared page 0x%lx: SW_EXITINFO1 0x%lx, data 0x%lx\n",
           (uint64_t)(uintptr_t)shared, i1, shared[0]);
    GUEST_ASSERT_EQ(i1, 0);
    GUEST_ASSERT_EQ(shared[0], SNP_MMIODEV_SIGNATURE);

    volatile uint64_t *priv = sdk_alloc_pages(1);
    uint64_t gpa;
    bool enc = false;
    GUEST_ASSERT(sdk_virt_to_phys((uintptr_t)priv, &gpa, &enc) && enc);
    for (unsigned i = 0; i < 512; i++)
        priv[i] = 0xA5A5A5A5A5A5A5A5ull ^ i;
    mmio_read_to(gpa, &i1, &i2);
    printf("snp_hv_write_fault: MMIO_READ into private page 0x%lx: SW_EXITINFO1 0x%lx "
           "SW_EXITINFO2 0x%lx\n", gpa, i1, i2);
    GUEST_ASSERT_EQ((uint32_t)i1, GHCB_HV_RESP_MALFORMED_INPUT);
    GUEST_ASSERT_EQ(i2, GHCB_ERR_INVALID_SCRATCH_AREA);
    for (unsigned i = 0; i < 512; i++)
        GUEST_ASSERT_EQ(priv[i], 0xA5A5A5A5A5A5A5A5ull ^ i);
    printf("snp_hv_write_fault: the hypervisor's write faulted; the page is unchanged\n");
    printf("snp_hv_write_fault: PASS\n");
    return 0;
}
