/* SPDX-License-Identifier: MIT */
/*
 * Every vCPU busy at once (the scale scenario and the bench's vCPU sweep):
 * each vCPU arms its own periodic LAPIC timer (SDM 10.5.4) and, in ROUNDS
 * rounds, sends a fixed physical-destination IPI (SDM 10.6.1) to the vCPU
 * r + 1 places after it, so every vCPU receives exactly ROUNDS IPIs, one from
 * each of the ROUNDS vCPUs before it. Between rounds it computes, so timer
 * ticks land while code runs as well as while it halts. Each vCPU stops its
 * timer in the handler at TICKS, checks its own counts, and vCPU 0 prints and
 * checks the totals. Works with 1 to 256 vCPUs: ROUNDS is capped at n - 1, and
 * a lone vCPU sends its ROUNDS IPIs to itself (the bench's 1-vCPU point).
 */
#include <sdk/sdk.h>

#define IPI_VEC    0x60
#define TIMER_VEC  0x50
#define ROUNDS     8
#define TICKS      4
#define PERIOD_US  40
#define WORK_ITERS 2000
#define WAIT_US    200000

static volatile uint32_t ipis[SDK_MAX_CPUS], ticks[SDK_MAX_CPUS], done[SDK_MAX_CPUS];
static volatile uint64_t work_sum[SDK_MAX_CPUS];
static unsigned ncpus, rounds;

static void on_ipi(struct sdk_frame *f)
{
    (void)f;
    atomic_inc(&ipis[sdk_cpu()]);
    x2apic_eoi();
}

static void on_timer(struct sdk_frame *f)
{
    (void)f;
    unsigned me = sdk_cpu();
    if (++ticks[me] == TICKS)
        lapic_timer_stop();
    x2apic_eoi();
}

/* Guest-visible work between the IPIs: a small LCG the vCPU keeps to itself. */
static uint64_t compute(uint64_t x)
{
    for (unsigned i = 0; i < WORK_ITERS; i++)
        x = x * 6364136223846793005ull + 1442695040888963407ull;
    return x;
}

/* What vCPU i's work must have produced: rounds compute() steps from its index. */
static uint64_t compute_all(unsigned i)
{
    uint64_t x = i;
    for (unsigned r = 0; r < rounds; r++)
        x = compute(x);
    return x;
}

static void busy(void *arg)
{
    (void)arg;
    unsigned me = sdk_cpu();
    uint64_t x = me;
    lapic_timer_periodic(TIMER_VEC, lapic_us_to_count(PERIOD_US, 1), 1);
    for (unsigned r = 0; r < rounds; r++) {
        x2apic_send_ipi(sdk_apic_id_of((me + r + 1) % ncpus), IPI_VEC);
        x = compute(x);
    }
    work_sum[me] = x;
    SDK_HALT_UNTIL(ipis[me] >= rounds && ticks[me] >= TICKS);
    sti();
    /* Nothing more may arrive: every sender has sent all it will send only
     * when every vCPU is done, so this waits on the others, then settles. */
    atomic_inc(&done[me]);
    for (unsigned i = 0; i < ncpus; i++)
        GUEST_WAIT_FOR(done[i], WAIT_US);
    sdk_delay_us(2 * PERIOD_US);
    GUEST_ASSERT_EQ(ipis[me], rounds);
    GUEST_ASSERT_EQ(ticks[me], TICKS);
}

int main(void)
{
    ncpus = sdk_cpu_count();
    rounds = ncpus == 1 || ROUNDS < ncpus - 1 ? ROUNDS : ncpus - 1;
    sdk_set_handler(IPI_VEC, on_ipi);
    sdk_set_handler(TIMER_VEC, on_timer);
    if (ncpus > 1)
        sdk_start_aps();
    printf("busy_smp: %u vCPUs online, %u IPIs and %u timer ticks each\n", sdk_cpus_online(),
           rounds, TICKS);
    sti();
    sdk_on_each_cpu(busy, 0);

    uint64_t tot_ipi = 0, tot_tick = 0;
    for (unsigned i = 0; i < ncpus; i++) {
        GUEST_ASSERT_EQ(ipis[i], rounds);
        GUEST_ASSERT_EQ(ticks[i], TICKS);
        GUEST_ASSERT_EQ(work_sum[i], compute_all(i));
        tot_ipi += ipis[i];
        tot_tick += ticks[i];
    }
    printf("busy_smp: totals: %lu IPIs received, %lu timer ticks taken\n", tot_ipi, tot_tick);
    printf("busy_smp: PASS\n");
    return 0;
}
