/* SPDX-License-Identifier: MIT */
/*
 * IPI round-trip benchmark under snpref: bench_kernels.h's ping-pong between
 * vCPU 0 and vCPU 1 through the golden fabric, the same body the bench's
 * QEMU image runs on two TCG vCPUs. Needs 2 vCPUs; any others stay idle.
 */
#include <sdk/sdk.h>

static inline void bench_send_ipi(uint32_t apic_id, uint8_t vector)
{
    x2apic_send_ipi(apic_id, vector);
}
static inline void bench_eoi(void) { x2apic_eoi(); }

#define BENCH_WITH_PINGPONG
#include "bench_kernels.h"

static void ping_handler(struct sdk_frame *f) { (void)f; bench_ping(); }
static void pong_handler(struct sdk_frame *f) { (void)f; bench_pong(); }

int main(void)
{
    if (sdk_cpu_count() < 2)
        sdk_fail(SDK_EXIT_SETUP, "bench_pingpong needs 2 vCPUs, has %u", sdk_cpu_count());
    sdk_set_handler(BENCH_PING_VECTOR, ping_handler);
    sdk_set_handler(BENCH_PONG_VECTOR, pong_handler);
    sdk_start_aps();

    printf(BENCH_MARK_START "\n");
    int rc = bench_pingpong(x2apic_id(), sdk_apic_id_of(1));
    printf(BENCH_MARK_END " %u\n", bench_pongs);
    GUEST_ASSERT_EQ(rc, 0);
    printf("bench_pingpong: %u round trips\n", BENCH_PINGPONG_ROUNDS);
    return 0;
}
