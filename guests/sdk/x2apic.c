/* SPDX-License-Identifier: MIT */
/*
 * x2APIC helpers that are more than one MSR access: the register access every
 * SDK helper uses (RDMSR/WRMSR, or the Secure AVIC driver), software
 * enable/disable through SPIV and scans of the 256-bit ISR/IRR.
 */
#include <sdk/sdk.h>

uint64_t x2apic_read(uint32_t msr)
{
    return this_cpu()->savic_on ? sdk_savic_read(msr) : rdmsr(msr);
}

void x2apic_write(uint32_t msr, uint64_t v)
{
    if (this_cpu()->savic_on)
        sdk_savic_write(msr, v);
    else
        wrmsr(msr, v);
}

void x2apic_enable(uint8_t spurious_vector)
{
    x2apic_write(APIC_SPIV, APIC_SPIV_ENABLE | spurious_vector);
}

void x2apic_disable(void)
{
    x2apic_write(APIC_SPIV, x2apic_read(APIC_SPIV) & ~(uint64_t)APIC_SPIV_ENABLE);
}

static int highest(uint32_t first_msr)
{
    for (int i = 7; i >= 0; i--) {
        uint32_t w = (uint32_t)x2apic_read(first_msr + (uint32_t)i);
        if (w)
            return i * 32 + 31 - __builtin_clz(w);
    }
    return -1;
}

int x2apic_highest_isr(void) { return highest(APIC_ISR(0)); }
int x2apic_highest_irr(void) { return highest(APIC_IRR(0)); }
