/* SPDX-License-Identifier: MIT */
/*
 * The GHCB MSR protocol's termination request (0x100: reason set in [15:12],
 * reason code in [23:16]; docs/sev-snp-facts.md 4.2): the run ends with status 80 and
 * the model prints the reason set and code (here 3 and 0x5A). Reaching the
 * end of main is a failure.
 */
#include <sdk/sdk.h>

int main(void)
{
    printf("sev_terminate: mode %s; terminating with reason set 3, code 0x5a (status 80)\n",
           sdk_mode_name(sdk_sev_mode()));
    GUEST_ASSERT(sdk_sev_es_active());
    sdk_sev_terminate(3, 0x5A);
}
