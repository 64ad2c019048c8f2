/* SPDX-License-Identifier: MIT */
/*
 * Task and processor priority (SDM 10.8.3.1): PPR = TPR when TPR[7:4] >=
 * ISRV[7:4], else ISRV & 0xF0; a fixed interrupt is delivered only when its
 * class (vector >> 4) is above PPR's class. Checks PPR read back with and
 * without a vector in service, that TPR holds back classes <= TPR >> 4, that
 * lowering TPR releases the held vector (with IF=1 at once after the WRMSR),
 * and that PPR is read-only and TPR bits 31:8 are reserved (#GP).
 */
#include <sdk/sdk.h>

static volatile uint8_t taken[8], ppr_seen[8];
static volatile unsigned ntaken;

static void handler(struct sdk_frame *f)
{
    taken[ntaken] = (uint8_t)f->vector;
    ppr_seen[ntaken] = x2apic_ppr();
    ntaken++;
    x2apic_eoi();
}

/* Vector 0x72: raise TPR above the in-service class, then drop it again. */
static void raise_tpr_handler(struct sdk_frame *f)
{
    GUEST_ASSERT_EQ(x2apic_ppr(), 0x70);
    x2apic_set_tpr(0x85);
    GUEST_ASSERT_EQ(x2apic_ppr(), 0x85);     /* TPR class 8 >= ISRV class 7 */
    x2apic_set_tpr(0x3A);
    GUEST_ASSERT_EQ(x2apic_ppr(), 0x70);     /* ISRV wins, low nibble 0 */
    x2apic_set_tpr(0);
    handler(f);
}

static void expect(unsigned n, uint8_t vector, uint8_t ppr)
{
    GUEST_ASSERT_EQ(ntaken, n);
    GUEST_ASSERT_EQ(taken[n - 1], vector);
    GUEST_ASSERT_EQ(ppr_seen[n - 1], ppr);
    printf("tpr_ppr: took 0x%x with PPR 0x%x in its handler\n", vector, ppr);
}

int main(void)
{
    static const uint8_t tprs[] = { 0x10, 0x5F, 0xA3, 0xF0, 0x00 };
    uint64_t val;

    sdk_set_handler(0x45, handler);
    sdk_set_handler(0x55, handler);
    sdk_set_handler(0x65, handler);
    sdk_set_handler(0x72, raise_tpr_handler);

    GUEST_ASSERT_EQ(x2apic_tpr(), 0);
    GUEST_ASSERT_EQ(x2apic_ppr(), 0);
    for (unsigned i = 0; i < sizeof(tprs); i++) {
        x2apic_set_tpr(tprs[i]);
        GUEST_ASSERT_EQ(x2apic_tpr(), tprs[i]);
        GUEST_ASSERT_EQ(x2apic_ppr(), tprs[i]);    /* nothing in service: PPR = TPR */
    }
    printf("tpr_ppr: PPR follows TPR with ISR empty\n");

    x2apic_set_tpr(0x50);
    x2apic_self_ipi(0x45);
    x2apic_self_ipi(0x55);
    x2apic_self_ipi(0x65);
    sti_nop_cli();
    expect(1, 0x65, 0x60);
    GUEST_ASSERT(x2apic_irr(0x45) && x2apic_irr(0x55));
    GUEST_ASSERT_EQ(x2apic_ppr(), 0x50);
    printf("tpr_ppr: TPR 0x50 holds 0x45 and 0x55 in IRR\n");

    x2apic_set_tpr(0x4F);
    GUEST_ASSERT_EQ(x2apic_ppr(), 0x4F);
    sti_nop_cli();
    expect(2, 0x55, 0x50);
    GUEST_ASSERT(x2apic_irr(0x45));
    printf("tpr_ppr: TPR 0x4F releases 0x55, holds 0x45\n");

    sti();
    x2apic_set_tpr(0);                 /* 0x45 is deliverable right after this WRMSR */
    unsigned n_after = ntaken;
    cli();
    GUEST_ASSERT_EQ(n_after, 3);
    expect(3, 0x45, 0x40);
    printf("tpr_ppr: TPR 0 releases 0x45 at the WRMSR\n");

    x2apic_self_ipi(0x72);
    sti_nop_cli();
    expect(4, 0x72, 0x70);
    GUEST_ASSERT_EQ(x2apic_ppr(), 0);
    printf("tpr_ppr: PPR = TPR above the in-service class, ISRV & 0xF0 below it\n");

    GUEST_ASSERT_EQ(sdk_try_wrmsr(APIC_PPR, 0), X86_GP);
    GUEST_ASSERT_EQ(sdk_ex_error_code(), 0);
    GUEST_ASSERT_EQ(sdk_try_wrmsr(APIC_TPR, 0x100), X86_GP);
    GUEST_ASSERT_EQ(sdk_try_rdmsr(APIC_TPR, &val), -1);
    GUEST_ASSERT_EQ(val, 0);
    printf("tpr_ppr: WRMSR to PPR and to TPR bit 8 raise #GP(0)\n");

    GUEST_ASSERT_EQ(x2apic_highest_irr(), -1);
    GUEST_ASSERT_EQ(x2apic_highest_isr(), -1);
    printf("tpr_ppr: PASS\n");
    return 0;
}
