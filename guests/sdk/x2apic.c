/* SPDX-License-Identifier: MIT */
/*
 * x2APIC helpers that are more than one MSR access: software enable/disable
 * through SPIV and scans of the 256-bit ISR/IRR for their highest vector.
 */
#include <sdk/sdk.h>

void x2apic_enable(uint8_t spurious_vector)
{
    wrmsr(APIC_SPIV, APIC_SPIV_ENABLE | spurious_vector);
}

void x2apic_disable(void)
{
    wrmsr(APIC_SPIV, rdmsr(APIC_SPIV) & ~(uint64_t)APIC_SPIV_ENABLE);
}

static int highest(uint32_t first_msr)
{
    for (int i = 7; i >= 0; i--) {
        uint32_t w = (uint32_t)rdmsr(first_msr + (uint32_t)i);
        if (w)
            return i * 32 + 31 - __builtin_clz(w);
    }
    return -1;
}

int x2apic_highest_isr(void) { return highest(APIC_ISR(0)); }
int x2apic_highest_irr(void) { return highest(APIC_IRR(0)); }
