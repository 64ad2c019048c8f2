/* SPDX-License-Identifier: MIT */
/*
 * IPI round-trip benchmark: vCPU 0 sends a fixed IPI to vCPU 1, whose handler
 * answers with another to vCPU 0, PINGPONG_ROUNDS times. Both sides wait
 * halted, so the run measures the interrupt path (ICR write, fabric message,
 * delivery through the IDT, EOI, HLT wake-up) rather than spinning. Needs 2 vCPUs;
 * any others stay idle.
 */
#include <sdk/sdk.h>

#define PINGPONG_ROUNDS 10000u
#define PING_VECTOR     0x40
#define PONG_VECTOR     0x41

static volatile uint32_t pings, pongs;
static uint32_t bsp_apic_id;

static void ping_handler(struct sdk_frame *f)      /* on vCPU 1 */
{
    (void)f;
    pings++;
    x2apic_eoi();
    x2apic_send_ipi(bsp_apic_id, PONG_VECTOR);
}

static void pong_handler(struct sdk_frame *f)      /* on vCPU 0 */
{
    (void)f;
    pongs++;
    x2apic_eoi();
}

int main(void)
{
    if (sdk_cpu_count() < 2)
        sdk_fail(SDK_EXIT_SETUP, "bench_pingpong needs 2 vCPUs, has %u", sdk_cpu_count());
    bsp_apic_id = x2apic_id();
    sdk_set_handler(PING_VECTOR, ping_handler);
    sdk_set_handler(PONG_VECTOR, pong_handler);
    sdk_start_aps();

    uint32_t peer = sdk_apic_id_of(1);
    uint64_t t0 = rdtsc();
    for (uint32_t i = 0; i < PINGPONG_ROUNDS; i++) {
        x2apic_send_ipi(peer, PING_VECTOR);
        SDK_HALT_UNTIL(pongs == i + 1);
        cli();
    }
    uint64_t t1 = rdtsc();
    GUEST_ASSERT_EQ(pings, PINGPONG_ROUNDS);
    GUEST_ASSERT_EQ(pongs, PINGPONG_ROUNDS);
    printf("bench_pingpong: %u round trips, %lu TSC ticks each\n", PINGPONG_ROUNDS,
           (t1 - t0) / PINGPONG_ROUNDS);
    return 0;
}
