/* SPDX-License-Identifier: MIT */
/*
 * Secure AVIC: what the hardware completes in the backing page without any
 * exit (docs/sev-snp-facts.md 7.4): SELF_IPI, an ICR write with the self shorthand, TPR
 * writes (PPR follows, a masked class waits) and the EOI of an edge vector.
 * Between the SELF_IPI and the last EOI the vCPU executes nothing that exits:
 * tests/scenarios/test_secure_avic.c checks the trace shows no VMGEXIT there. Runs
 * under `--mode snp --apic savic` only.
 */
#include <sdk/sdk.h>

#define VEC_LOW  0x50 /* class 5 */
#define VEC_HIGH 0x90 /* class 9 */

static volatile uint32_t taken[256];
static volatile uint8_t order[4];
static volatile uint32_t norder;

static void handler(struct sdk_frame *f)
{
    uint8_t v = (uint8_t)f->vector;
    taken[v]++;
    if (norder < 4)
        order[norder] = v;
    norder++;
    x2apic_eoi(); /* edge: WRMSR EOI, accelerated */
}

/* Lets pending interrupts in with nothing that exits (no RDTSC, no I/O). */
static void window(void)
{
    sti();
    for (volatile int i = 0; i < 200; i++)
        cpu_relax();
    cli();
}

int main(void)
{
    GUEST_ASSERT(sdk_savic_on());
    sdk_set_handler(VEC_LOW, handler);
    sdk_set_handler(VEC_HIGH, handler);
    uint32_t vc_before = sdk_vc_count(SVM_EXIT_MSR);
    printf("savic_accel: begin\n");

    cli();
    x2apic_self_ipi(VEC_LOW);                                      /* SELF_IPI */
    x2apic_send_shorthand(APIC_SH_SELF, APIC_DM_FIXED, VEC_HIGH);  /* ICR, self */
    x2apic_set_tpr(0x60);                                          /* masks class 5 */
    window();
    GUEST_ASSERT_EQ(taken[VEC_HIGH], 1);
    GUEST_ASSERT_EQ(taken[VEC_LOW], 0);
    GUEST_ASSERT_EQ(x2apic_ppr(), 0x60);
    GUEST_ASSERT(x2apic_irr(VEC_LOW));
    x2apic_set_tpr(0);
    window();
    GUEST_ASSERT_EQ(taken[VEC_LOW], 1);
    GUEST_ASSERT_EQ(norder, 2);
    GUEST_ASSERT_EQ(order[0], VEC_HIGH);
    GUEST_ASSERT_EQ(order[1], VEC_LOW);
    GUEST_ASSERT_EQ(x2apic_highest_isr(), -1);
    GUEST_ASSERT_EQ(sdk_vc_count(SVM_EXIT_MSR), vc_before);

    printf("savic_accel: self IPIs 0x%x (SELF_IPI) and 0x%x (ICR self), TPR 0x60 held 0x%x, "
           "EOIs: no #VC, no VMGEXIT\n", VEC_LOW, VEC_HIGH, VEC_LOW);
    printf("savic_accel: PASS\n");
    return 0;
}
