/* SPDX-License-Identifier: MIT */
/*
 * LAPIC timer programming (SDM 10.5.4): divide first, then LVTT (mode and
 * vector), then the initial count, which starts the countdown; in TSC-deadline
 * mode the IA32_TSC_DEADLINE write arms it instead. Conversions use the boot
 * info clocks so that tests can predict expiry in TSC ticks.
 */
#include <sdk/sdk.h>

uint32_t lapic_divide_encode(unsigned divide)
{
    /* TDCR bits 3,1,0: divide by 2 << value, with 0b111 meaning 1. */
    static const uint8_t enc[8] = { 0xB, 0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xA };
    for (unsigned i = 0; i < 8; i++)
        if (divide == 1u << i)
            return enc[i];
    sdk_fail(SDK_EXIT_ASSERT, "bad LAPIC timer divide %u", divide);
}

void lapic_set_divide(unsigned divide)
{
    x2apic_write(APIC_TDCR, lapic_divide_encode(divide));
}

static void start(uint32_t mode, uint8_t vector, uint32_t count, unsigned divide)
{
    lapic_set_divide(divide);
    x2apic_write(APIC_LVTT, mode | vector);
    x2apic_write(APIC_TMICT, count);
}

void lapic_timer_oneshot(uint8_t vector, uint32_t count, unsigned divide)
{
    start(APIC_LVTT_ONESHOT, vector, count, divide);
}

void lapic_timer_periodic(uint8_t vector, uint32_t count, unsigned divide)
{
    start(APIC_LVTT_PERIODIC, vector, count, divide);
}

void lapic_timer_deadline(uint8_t vector, uint64_t tsc)
{
    x2apic_write(APIC_LVTT, APIC_LVTT_DEADLINE | vector);
    wrmsr(MSR_IA32_TSC_DEADLINE, tsc);
}

void lapic_timer_stop(void)
{
    uint32_t lvtt = (uint32_t)x2apic_read(APIC_LVTT);
    x2apic_write(APIC_LVTT, lvtt | APIC_LVT_MASKED);
    if ((lvtt & (3u << 17)) == APIC_LVTT_DEADLINE)
        wrmsr(MSR_IA32_TSC_DEADLINE, 0);
    else
        x2apic_write(APIC_TMICT, 0);
}

uint32_t lapic_timer_current(void)
{
    return (uint32_t)x2apic_read(APIC_TMCCT);
}

uint32_t lapic_us_to_count(uint64_t us, unsigned divide)
{
    return (uint32_t)muldiv64(us, sdk_bootinfo->apic_timer_hz, 1000000ull * divide);
}

uint64_t lapic_count_to_tsc(uint64_t count, unsigned divide)
{
    return muldiv64(count * divide, sdk_bootinfo->tsc_hz, sdk_bootinfo->apic_timer_hz);
}
