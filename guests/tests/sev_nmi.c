/* SPDX-License-Identifier: MIT */
/*
 * NMIs under SEV-ES/SNP: the hypervisor injects no other NMI until the guest
 * sends NMI_COMPLETE (NAE 0x80000003); IRET alone does not reopen the window
 * (docs/guest-abi.md). The SDK sends NMI_COMPLETE at the end of every NMI,
 * after moving the frame off the NMI's IST stack (isr.S). Checked, with 2 vCPUs:
 *  1. an NMI IPI to cpu1 is taken;
 *  2. a self-NMI sent inside the handler is held while the handler runs and
 *     taken right after it (the SDK's NMI_COMPLETE);
 *  3. on the current stack (no IST), a handler that sends itself an NMI and
 *     then NMI_COMPLETE is entered again at once, nested, before it returns:
 *     it is NMI_COMPLETE, not IRET, that unblocks;
 *  4. with the SDK's automatic NMI_COMPLETE off, an NMI to cpu1 after its
 *     handler returned (IRET) stays pending until cpu1 sends NMI_COMPLETE.
 */
#include <sdk/sdk.h>

struct nmi_cpu {
    volatile uint32_t count, depth, max_depth;
    volatile uint32_t self_at;        /* the entry that sends itself an NMI */
    volatile uint32_t complete_early; /* ... and then NMI_COMPLETE */
    volatile uint32_t seen_nested;    /* count seen right after the early NMI_COMPLETE */
};

static struct nmi_cpu nmi[2];

static void nmi_handler(struct sdk_frame *f)
{
    (void)f;
    struct nmi_cpu *c = &nmi[sdk_cpu()];
    uint32_t n = ++c->count;

    c->depth++;
    if (c->depth > c->max_depth)
        c->max_depth = c->depth;
    if (c->self_at == n) {
        c->self_at = 0;
        x2apic_send_nmi(x2apic_id());
        sdk_delay_us(50);
        GUEST_ASSERT_EQ(c->count, n);                /* held */
        if (c->complete_early) {
            c->complete_early = 0;
            sdk_sev_nmi_complete();                  /* the pending NMI comes in now */
            c->seen_nested = c->count;
        }
    }
    c->depth--;
}

static void complete_here(void *arg)
{
    (void)arg;
    sdk_sev_nmi_complete();
}

int main(void)
{
    if (sdk_cpu_count() < 2)
        sdk_fail(SDK_EXIT_SETUP, "sev_nmi needs 2 vCPUs, has %u", sdk_cpu_count());
    printf("sev_nmi: mode %s\n", sdk_mode_name(sdk_sev_mode()));
    GUEST_ASSERT(sdk_nmi_complete_on_iret);
    sdk_set_handler(X86_NMI, nmi_handler);
    sdk_start_aps();
    uint32_t me = x2apic_id(), other = sdk_apic_id_of(1);

    x2apic_send_nmi(other);
    GUEST_WAIT_FOR(nmi[1].count == 1, 20000);
    printf("sev_nmi: 1. NMI IPI to cpu1 taken\n");

    nmi[0].self_at = 1;
    x2apic_send_nmi(me);
    GUEST_WAIT_FOR(nmi[0].count == 2, 20000);
    GUEST_ASSERT_EQ(nmi[0].max_depth, 1);
    printf("sev_nmi: 2. self-NMI from the handler held until its end, then taken\n");

    sdk_set_ist(X86_NMI, 0);
    nmi[0].self_at = 3;
    nmi[0].complete_early = 1;
    x2apic_send_nmi(me);
    GUEST_WAIT_FOR(nmi[0].count == 4, 20000);
    sdk_set_ist(X86_NMI, 2);
    GUEST_ASSERT_EQ(nmi[0].seen_nested, 4);
    GUEST_ASSERT_EQ(nmi[0].max_depth, 2);
    printf("sev_nmi: 3. NMI_COMPLETE inside the handler let the pending NMI nest (depth 2)\n");

    sdk_nmi_complete_on_iret = 0;
    x2apic_send_nmi(other);
    GUEST_WAIT_FOR(nmi[1].count == 2, 20000);
    sdk_delay_us(50);                               /* its handler has IRETed */
    x2apic_send_nmi(other);
    sdk_delay_us(500);
    GUEST_ASSERT_EQ(nmi[1].count, 2);
    sdk_nmi_complete_on_iret = 1;
    sdk_on_cpu(1, complete_here, 0);
    GUEST_WAIT_FOR(nmi[1].count == 3, 20000);
    printf("sev_nmi: 4. after IRET without NMI_COMPLETE the next NMI waited; NMI_COMPLETE released it\n");

    sdk_delay_us(200);
    GUEST_ASSERT_EQ(nmi[0].count, 4);
    GUEST_ASSERT_EQ(nmi[1].count, 3);
    GUEST_ASSERT_EQ(nmi[1].max_depth, 1);
    /* Phase 3's NMI arrived as the #VC of the ICR write returned, GHCB still taken. */
    printf("sev_nmi: GHCB taken by an interrupted user and saved to a backup: cpu0 %u, cpu1 %u "
           "times\n", sdk_ghcb_nested_count(0), sdk_ghcb_nested_count(1));
    GUEST_ASSERT(sdk_ghcb_nested_count(0) > 0);
    printf("sev_nmi: PASS\n");
    return 0;
}
