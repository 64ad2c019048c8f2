/* SPDX-License-Identifier: MIT */
/*
 * The smallest guest that exercises the installed SDK end to end: its boot code
 * and IDT (a handler runs), its x2APIC driver (a self-IPI, SDM 10.12.11, and
 * EOI; under SEV-ES/SNP these MSR accesses go through the SDK's #VC handler)
 * and its console and exit port. HELLO_BUILD names the build that made it, so
 * the test can tell the CMake and pkg-config images apart.
 */
#include <sdk/sdk.h>

#ifndef HELLO_BUILD
#define HELLO_BUILD "unnamed build"
#endif
#define HELLO_VECTOR 0x40

static volatile unsigned taken;

static void on_self_ipi(struct sdk_frame *f)
{
    GUEST_ASSERT_EQ(f->vector, HELLO_VECTOR);
    taken++;
    x2apic_eoi();
}

int main(void)
{
    sdk_set_handler(HELLO_VECTOR, on_self_ipi);
    x2apic_self_ipi(HELLO_VECTOR);
    SDK_HALT_UNTIL(taken > 0);
    GUEST_ASSERT_EQ(taken, 1);
    printf("hello (" HELLO_BUILD "): self-IPI vector 0x%x taken once: PASS\n", HELLO_VECTOR);
    return 0;
}
