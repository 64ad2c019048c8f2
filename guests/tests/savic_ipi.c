/* SPDX-License-Identifier: MIT */
/*
 * Secure AVIC IPIs between vCPUs (docs/sev-snp-facts.md 7.5): the sender sets the vector
 * in the target's backing page and forwards the ICR to the hypervisor (one
 * VMGEXIT, the MSR NAE event), which rings the target's doorbell: a running
 * target takes the interrupt without any exit, a halted one wakes. An NMI
 * goes through NMI_REQUEST the same way. Each send is bracketed by TPR writes
 * of 1 and 0 (accelerated, so they mark the sender's window in the trace
 * without adding exits). Needs 2 vCPUs; `--mode snp --apic savic` only.
 */
#include <sdk/sdk.h>

#define VEC_RUNNING 0x61
#define VEC_HALTED  0x62

static volatile uint64_t heartbeat;
static volatile uint32_t got[256], nmis, halt_now, halted;

static void ipi_handler(struct sdk_frame *f)
{
    got[(uint8_t)f->vector]++;
    x2apic_eoi();
}

static void nmi_handler(struct sdk_frame *f)
{
    (void)f;
    nmis++;
}

void ap_main(unsigned cpu)
{
    (void)cpu;
    sti();
    while (!halt_now)
        heartbeat++;   /* running: no exit, no halt */
    halted = 1;
    SDK_HALT_UNTIL(got[VEC_HALTED] == 1);
    for (;;)
        heartbeat++;
}

/* The sender's window: TPR 1 ... TPR 0 (class 0 masks nothing). */
static void send(uint32_t low)
{
    x2apic_set_tpr(1);
    x2apic_icr(low, sdk_apic_id_of(1));
    x2apic_set_tpr(0);
}

int main(void)
{
    GUEST_ASSERT(sdk_savic_on());
    sdk_set_handler(VEC_RUNNING, ipi_handler);
    sdk_set_handler(VEC_HALTED, ipi_handler);
    sdk_set_handler(X86_NMI, nmi_handler);
    GUEST_ASSERT(sdk_start_ap(1));
    uint64_t h = heartbeat;
    GUEST_WAIT_FOR(heartbeat != h, SDK_AP_TIMEOUT_US);

    send(APIC_DM_FIXED | APIC_LEVEL_ASSERT | VEC_RUNNING);
    GUEST_WAIT_FOR(got[VEC_RUNNING] == 1, 10000);
    printf("savic_ipi: running cpu1 took 0x%x through its page and a doorbell\n", VEC_RUNNING);

    send(APIC_DM_NMI | APIC_LEVEL_ASSERT);
    GUEST_WAIT_FOR(nmis == 1, 10000);
    GUEST_ASSERT_EQ(*(volatile uint32_t *)((uint8_t *)sdk_savic_page(1) + 0x278), 0);
    printf("savic_ipi: NMI_REQUEST in cpu1's page: one NMI, request cleared\n");

    halt_now = 1;
    GUEST_WAIT_FOR(halted, 10000);
    sdk_delay_us(50); /* let it reach HLT */
    send(APIC_DM_FIXED | APIC_LEVEL_ASSERT | VEC_HALTED);
    GUEST_WAIT_FOR(got[VEC_HALTED] == 1, 10000);
    printf("savic_ipi: halted cpu1 woke for 0x%x\n", VEC_HALTED);
    printf("savic_ipi: PASS\n");
    return 0;
}
