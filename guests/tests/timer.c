/* SPDX-License-Identifier: MIT */
/*
 * LAPIC timer (SDM 10.5.4): one-shot fires once and TMCCT counts down to 0;
 * periodic ticks at count * divide / apic_timer_hz, measured with RDTSC
 * (tsc_hz) between ticks; TSC-deadline fires once RDTSC >= IA32_TSC_DEADLINE,
 * which then reads 0, a deadline in the past fires at once and writing 0
 * disarms; a masked LVTT sends nothing while the count still runs out; every
 * divide value reads back from TDCR and scales the expiry time. Interrupts are
 * awaited halted, so the model wakes the vCPU exactly at expiry.
 */
#include <sdk/sdk.h>

#define VEC          0x50
#define MAX_TICKS    8
#define PERIODIC_N   5
#define TOL_PCT      5      /* per measured interval */
#define MEAN_TOL_PCT 1      /* for the mean of the periodic intervals */
#define SLACK_US     2      /* fixed costs: the TMICT write, delivery, handler entry */

static volatile uint32_t ticks, stop_at;
static volatile uint64_t tick_tsc[MAX_TICKS];

static void handler(struct sdk_frame *f)
{
    (void)f;
    uint64_t now = rdtsc();
    if (ticks < MAX_TICKS)
        tick_tsc[ticks] = now;
    ticks++;
    if (ticks == stop_at)
        lapic_timer_stop();
    x2apic_eoi();
}

static void reset(uint32_t stop)
{
    ticks = 0;
    stop_at = stop;
}

/* |actual - expected| within pct percent of expected plus SLACK_US; prints both. */
static void check_close(const char *what, uint64_t actual, uint64_t expected, unsigned pct)
{
    uint64_t tol = expected * pct / 100 + sdk_us_to_tsc(SLACK_US);
    uint64_t diff = actual > expected ? actual - expected : expected - actual;
    if (diff > tol)
        sdk_fail(SDK_EXIT_ASSERT, "timer: %s: %lu TSC ticks, expected %lu +- %lu", what, actual,
                 expected, tol);
}

/* Starts a one-shot (or periodic) count with t0 taken right before the TMICT write. */
static uint64_t start_count(uint32_t lvtt, uint32_t count, unsigned divide)
{
    lapic_set_divide(divide);
    wrmsr(APIC_LVTT, lvtt);
    uint64_t t0 = rdtsc();
    wrmsr(APIC_TMICT, count);
    return t0;
}

static void test_oneshot(void)
{
    uint32_t count = lapic_us_to_count(200, 4);
    reset(0);
    uint64_t t0 = start_count(APIC_LVTT_ONESHOT | VEC, count, 4);
    uint32_t c1 = lapic_timer_current();
    sdk_delay_us(20);
    uint32_t c2 = lapic_timer_current();
    GUEST_ASSERT(c1 > 0 && c1 <= count);
    GUEST_ASSERT(c2 < c1);
    SDK_HALT_UNTIL(ticks == 1);
    cli();
    GUEST_ASSERT_EQ(lapic_timer_current(), 0);
    check_close("one-shot expiry", tick_tsc[0] - t0, lapic_count_to_tsc(count, 4), TOL_PCT);
    sti();
    sdk_delay_us(400);
    cli();
    GUEST_ASSERT_EQ(ticks, 1);
    printf("timer: one-shot: count %u (divide 4): TMCCT counted down, fired once, reads 0\n",
           count);
}

static void test_periodic(void)
{
    uint32_t count = lapic_us_to_count(100, 2);
    uint64_t period = lapic_count_to_tsc(count, 2);
    reset(PERIODIC_N);
    start_count(APIC_LVTT_PERIODIC | VEC, count, 2);
    SDK_HALT_UNTIL(ticks == PERIODIC_N);
    sdk_delay_us(300);
    cli();
    GUEST_ASSERT_EQ(ticks, PERIODIC_N);
    for (unsigned i = 1; i < PERIODIC_N; i++)
        check_close("periodic interval", tick_tsc[i] - tick_tsc[i - 1], period, TOL_PCT);
    uint64_t mean = (tick_tsc[PERIODIC_N - 1] - tick_tsc[0]) / (PERIODIC_N - 1);
    check_close("periodic mean interval", mean, period, MEAN_TOL_PCT);
    printf("timer: periodic: %u ticks, period %lu TSC ticks as programmed (count %u, divide 2)\n",
           PERIODIC_N, period, count);
}

static void test_deadline(void)
{
    reset(0);
    uint64_t deadline = rdtsc() + sdk_us_to_tsc(100);
    lapic_timer_deadline(VEC, deadline);
    SDK_HALT_UNTIL(ticks == 1);
    cli();
    GUEST_ASSERT(tick_tsc[0] >= deadline);
    check_close("deadline lateness", tick_tsc[0] - deadline, 0, 0);
    GUEST_ASSERT_EQ(rdmsr(MSR_IA32_TSC_DEADLINE), 0);
    printf("timer: TSC-deadline fired at or after the deadline, MSR reads 0 after\n");

    reset(0);
    lapic_timer_deadline(VEC, rdtsc() - 1);
    SDK_HALT_UNTIL(ticks == 1);
    cli();
    printf("timer: TSC-deadline in the past fired at once\n");

    reset(0);
    lapic_timer_deadline(VEC, rdtsc() + sdk_us_to_tsc(50));
    wrmsr(MSR_IA32_TSC_DEADLINE, 0);
    sti();
    sdk_delay_us(150);
    cli();
    GUEST_ASSERT_EQ(ticks, 0);
    printf("timer: TSC-deadline disarmed by writing 0\n");
    lapic_timer_stop();
}

static void test_masked(void)
{
    reset(0);
    start_count(APIC_LVT_MASKED | APIC_LVTT_ONESHOT | VEC, lapic_us_to_count(50, 1), 1);
    sti();
    sdk_delay_us(150);
    cli();
    GUEST_ASSERT_EQ(ticks, 0);
    GUEST_ASSERT(!x2apic_irr(VEC));
    GUEST_ASSERT_EQ(lapic_timer_current(), 0);
    printf("timer: masked LVTT: count ran out, no interrupt\n");
    lapic_timer_stop();
}

static void test_divide(void)
{
    for (unsigned div = 1; div <= 128; div <<= 1) {
        lapic_set_divide(div);
        GUEST_ASSERT_EQ(rdmsr(APIC_TDCR), lapic_divide_encode(div));
        uint32_t count = lapic_us_to_count(50, div);
        if (count < 100)
            count = 100;
        reset(0);
        uint64_t t0 = start_count(APIC_LVTT_ONESHOT | VEC, count, div);
        SDK_HALT_UNTIL(ticks == 1);
        cli();
        check_close("divide expiry", tick_tsc[0] - t0, lapic_count_to_tsc(count, div), TOL_PCT);
        printf("timer: divide %3u (TDCR 0x%x): count %u expired after %lu TSC ticks\n", div,
               lapic_divide_encode(div), count, lapic_count_to_tsc(count, div));
    }
}

int main(void)
{
    sdk_set_handler(VEC, handler);
    printf("timer: TSC %lu Hz, APIC timer %lu Hz\n", sdk_bootinfo->tsc_hz,
           sdk_bootinfo->apic_timer_hz);
    test_oneshot();
    test_periodic();
    test_deadline();
    test_masked();
    test_divide();
    printf("timer: PASS\n");
    return 0;
}
