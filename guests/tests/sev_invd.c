/* SPDX-License-Identifier: MIT */
/*
 * INVD under SEV-ES/SNP (#VC 0x76): the SDK refuses it, as Linux does (it
 * would throw away the guest's dirty cache lines, encrypted data included),
 * prints why and sends the termination request (reason set 0, code 0). The
 * run must end with status 80; reaching the end of main is a failure.
 */
#include <sdk/sdk.h>

int main(void)
{
    printf("sev_invd: mode %s; INVD must end the run (status 80, termination request 0/0)\n",
           sdk_mode_name(sdk_sev_mode()));
    GUEST_ASSERT(sdk_sev_es_active());
    __asm__ volatile("invd" ::: "memory");
    printf("FAIL: sev_invd: execution continued after INVD\n");
    return SDK_EXIT_ASSERT;
}
