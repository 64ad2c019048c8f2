/* SPDX-License-Identifier: MIT */
/*
 * Self-IPIs queued with IF=0 are delivered highest vector first once
 * interrupts are enabled (SDM 10.8.3: the APIC dispatches the highest IRR
 * vector above PPR). Six vectors in five priority classes, two of them in the
 * same class, are sent alternately through SELF_IPI and the ICR "self"
 * shorthand; IRR must hold them all before STI, and the handlers (each EOIs
 * before IRET) must see them in descending order inside one interrupt window.
 * The window is "sti; nop; cli": STI's interrupt shadow (SDM vol. 2 STI) means
 * every handler interrupts the CLI, never the NOP. Last, a self-IPI pending at
 * "sti; hlt" must be taken after HLT (HLT returns at once), not before it, or a
 * halt-until-interrupt loop would sleep through its own wake-up.
 */
#include <sdk/sdk.h>

static const uint8_t sent[] = { 0x31, 0x85, 0x52, 0xe0, 0x41, 0x4f };
static const uint8_t want[] = { 0xe0, 0x85, 0x52, 0x4f, 0x41, 0x31 };
#define NVEC (sizeof(sent) / sizeof(sent[0]))

static volatile uint8_t taken[NVEC + 2];
static volatile unsigned ntaken;
static volatile uint64_t want_rip;          /* where each interrupt must be taken */

static void handler(struct sdk_frame *f)
{
    uint8_t v = (uint8_t)f->vector;
    if (f->rip != want_rip)
        sdk_fail(SDK_EXIT_ASSERT, "selfipi_prio: vector 0x%x interrupted RIP 0x%lx, want 0x%lx "
                 "(the instruction after the one STI shadows)", v, f->rip, want_rip);
    GUEST_ASSERT(x2apic_isr(v));
    GUEST_ASSERT_EQ(x2apic_highest_isr(), v);   /* each earlier one was EOI'd */
    GUEST_ASSERT_EQ(x2apic_ppr(), v & 0xF0);
    if (ntaken < NVEC + 2)
        taken[ntaken] = v;
    ntaken++;
    x2apic_eoi();
}

int main(void)
{
    for (unsigned i = 0; i < NVEC; i++)
        sdk_set_handler(sent[i], handler);

    GUEST_ASSERT(!irqs_enabled());
    for (unsigned i = 0; i < NVEC; i++) {
        if (i & 1)
            x2apic_send_shorthand(APIC_SH_SELF, APIC_DM_FIXED, sent[i]);
        else
            x2apic_self_ipi(sent[i]);
        printf("selfipi_prio: queued vector 0x%x via %s\n", sent[i],
               i & 1 ? "ICR self shorthand" : "SELF_IPI");
    }
    for (unsigned i = 0; i < NVEC; i++)
        GUEST_ASSERT(x2apic_irr(sent[i]));
    GUEST_ASSERT_EQ(x2apic_highest_irr(), 0xe0);
    GUEST_ASSERT_EQ(x2apic_highest_isr(), -1);
    GUEST_ASSERT_EQ(x2apic_ppr(), 0);
    GUEST_ASSERT_EQ(ntaken, 0);

    uint64_t after_nop;
    __asm__ volatile("leaq 1f(%%rip), %0\n\t"
                     "movq %0, %1\n\t"
                     "sti\n\t"
                     "nop\n"
                     "1:\tcli" : "=&r"(after_nop), "=m"(want_rip) : : "memory");

    GUEST_ASSERT_EQ(ntaken, NVEC);
    for (unsigned i = 0; i < NVEC; i++) {
        printf("selfipi_prio: handler %u took vector 0x%x\n", i, taken[i]);
        GUEST_ASSERT_EQ(taken[i], want[i]);
    }
    GUEST_ASSERT_EQ(x2apic_highest_irr(), -1);
    GUEST_ASSERT_EQ(x2apic_highest_isr(), -1);
    printf("selfipi_prio: every handler interrupted the CLI after \"sti; nop\"\n");

    ntaken = 0;
    x2apic_self_ipi(0x41);
    GUEST_ASSERT(x2apic_irr(0x41));
    __asm__ volatile("leaq 1f(%%rip), %%rax\n\t"
                     "movq %%rax, %0\n\t"
                     "sti\n\t"
                     "hlt\n"
                     "1:\tcli" : "=m"(want_rip) : : "rax", "memory");
    GUEST_ASSERT_EQ(ntaken, 1);
    printf("selfipi_prio: a pending vector at \"sti; hlt\" was taken after HLT\n");
    printf("selfipi_prio: PASS\n");
    return 0;
}
