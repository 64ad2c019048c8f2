/* SPDX-License-Identifier: MIT */
/*
 * Secure AVIC: what the hardware completes in the backing page without any
 * exit (docs/sev-snp-facts.md 7.4): SELF_IPI, an ICR write with the self shorthand, TPR
 * writes (PPR follows, a masked class waits) and the EOI of an edge vector.
 * Between the SELF_IPI and the last EOI the vCPU executes nothing that exits:
 * tests/scenarios/test_secure_avic.c checks the trace shows no VMGEXIT there.
 * Last, the ICR Linux 7.2's x2apic_savic.c self_ipi() writes, APIC_SELF_IPI |
 * vector (0x3F0, a register offset: delivery mode 3, no shorthand, destination
 * 0): it is no self-shorthand ICR, so the hardware does not accelerate it and
 * the WRMSR is #VC 0x401 (docs/guest-abi.md "Linux's Secure AVIC driver").
 * Runs under `--mode snp --apic savic` only.
 */
#include <sdk/sdk.h>

#define VEC_LOW  0x50 /* class 5 */
#define VEC_HIGH 0x90 /* class 9 */
#define VEC_LINUX 0x75 /* the ICR's vector field reads 0xF5: 0x3F0 sets bits 7:4 */
#define LINUX_APIC_SELF_IPI 0x3F0 /* Linux apicdef.h: the register's offset */

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
    uint32_t vc401 = sdk_vc_count(SVM_EXIT_AVIC_INCOMPLETE_IPI);
    sdk_set_handler(VEC_LINUX, handler);
    sdk_set_handler(0xF5, handler);
    cli();
    wrmsr(APIC_ICR, LINUX_APIC_SELF_IPI | VEC_LINUX); /* Linux self_ipi(vector, false) */
    GUEST_ASSERT_EQ(sdk_vc_count(SVM_EXIT_AVIC_INCOMPLETE_IPI), vc401 + 1);
    GUEST_ASSERT(!x2apic_irr(VEC_LINUX) && !x2apic_irr(0xF5)); /* not taken as a self IPI */
    window();
    GUEST_ASSERT_EQ(taken[VEC_LINUX] + taken[0xF5], 0);
    printf("savic_accel: Linux self_ipi() ICR 0x%x: #VC 0x401, not a self IPI\n",
           LINUX_APIC_SELF_IPI | VEC_LINUX);
    printf("savic_accel: PASS\n");
    return 0;
}
