/* SPDX-License-Identifier: MIT */
/*
 * Shutdown on a triple fault: with an IDT of limit 0, ud2 raises #UD, whose
 * delivery fails with #GP, whose delivery fails with #DF, whose delivery fails:
 * the vCPU shuts down (SDM 6.15 "Interrupt 8"). The model must end the run
 * with status 80 and name the vCPU and the RIP printed below. This guest
 * passes by never reaching its own exit, which reports failure.
 */
#include <sdk/sdk.h>

extern const char triple_fault_ud2[];

int main(void)
{
    static const struct x86_dtr empty = { .limit = 0, .base = 0 };

    printf("triple_fault: loading an IDT with limit 0; ud2 at %p must shut down cpu 0 (exit 80)\n",
           (const void *)triple_fault_ud2);
    lidt(&empty);
    __asm__ volatile(".globl triple_fault_ud2\n"
                     "triple_fault_ud2:\n\t"
                     "ud2" ::: "memory");
    sdk_idt_load();
    printf("FAIL: triple_fault: execution continued after ud2 with an empty IDT\n");
    return SDK_EXIT_ASSERT;
}
