/* SPDX-License-Identifier: MIT */
/*
 * SNP APs and their launch VMSAs (config sev.launch_vmsas; docs/guest-abi.md
 * "Application processors"). vCPU 0 sends every AP INIT and SIPI, as SEV-ES
 * firmware does, and reports what each did:
 *  - launch_vmsas "all": the launch measured a VMSA for every vCPU (as KVM's
 *    LAUNCH_FINISH does), so the SIPI starts the AP from it, with the ABI's
 *    entry state: RSI its index, RSP its boot stack, IF clear;
 *  - launch_vmsas "bsp" (the default): an AP has no VMSA until AP_CREATION,
 *    so INIT and SIPI leave it off (the hypervisor's VMRUN fails).
 * Either passes: the guest cannot see the config, the test that runs it
 * (tests/scenarios/test_launch.c) checks the report against it. A mix, some
 * APs started and some not, fails.
 */
#include <sdk/sdk.h>

#define START_US 2000

static volatile uint64_t heartbeat[SDK_MAX_CPUS];

void ap_main(unsigned cpu)
{
    for (;;) {
        atomic_inc(&heartbeat[cpu]);
        cpu_relax();
    }
}

int main(void)
{
    GUEST_ASSERT(sdk_snp_active());
    unsigned n = sdk_cpu_count(), started = 0;
    if (n < 2)
        sdk_fail(SDK_EXIT_SETUP, "snp_launch_vmsa needs 2 vCPUs or more, has %u", n);
    for (unsigned cpu = 1; cpu < n; cpu++) {
        x2apic_send_init(sdk_apic_id_of(cpu));
        x2apic_send_sipi(sdk_apic_id_of(cpu), SDK_SIPI_VECTOR);
    }
    for (unsigned cpu = 1; cpu < n; cpu++) {
        if (!SDK_WAIT_FOR(sdk_ap_boot_count(cpu) == 1 && heartbeat[cpu] != 0, START_US)) {
            GUEST_ASSERT_EQ(sdk_ap_boot_count(cpu), 0);
            printf("snp_launch_vmsa: cpu%u has no launch VMSA: INIT + SIPI left it off\n", cpu);
            continue;
        }
        const struct sdk_percpu *p = sdk_percpu_of(cpu);
        GUEST_ASSERT_EQ(p->entry_rsp, sdk_bootinfo->stack_top_base - cpu * sdk_bootinfo->stack_size);
        GUEST_ASSERT_EQ(p->entry_rflags & X86_RFLAGS_IF, 0);
        GUEST_ASSERT_EQ(p->apic_id, sdk_apic_id_of(cpu));
        printf("snp_launch_vmsa: cpu%u started at its first SIPI from its launch VMSA, RSP 0x%lx\n",
               cpu, p->entry_rsp);
        started++;
    }
    GUEST_ASSERT(started == 0 || started == n - 1);
    printf("snp_launch_vmsa: %u of %u APs had a launch VMSA\n", started, n - 1);
    return 0;
}
